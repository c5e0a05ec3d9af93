/* test_relay_config_nats.c - relay.conf's federation keys (src/relay/
 * config_relay.c, relay/config.h): name and nats in [relay], the [nats]
 * section, their defaults, and every refusal with file, line and what was
 * expected; without nats the relay runs alone (nothing set). Also the
 * password file's checks (relay_fed_config.c): mode 0600, not empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/config_util.h"
#include "relay/config.h"
#include "relay/relay.h"

#define HEAD "[relay]\nprivate_key = /k\nlisten = 127.0.0.1:443\n"

static void parse_ok(const char *text, struct pq_relay_config *cfg)
{
	char err[PQ_CONFIG_ERR_LEN];

	if (pq_relay_config_parse(cfg, "relay.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("refused:\n%s\n--- text:\n%s", err, text);
}

static void parse_bad(const char *text, unsigned line, const char *needle)
{
	struct pq_relay_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	if (!pq_relay_config_parse(&cfg, "relay.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("accepted:\n%s", text);
	if (!err_has(err, "relay.conf", line, needle))
		fail_msg("no \"relay.conf:%u: ... %s ... , expected\" in:\n%s", line, needle, err);
}

static void test_alone_by_default(void **state)
{
	struct pq_relay_config cfg;

	parse_ok(HEAD, &cfg);
	assert_int_equal(cfg.nats.count, 0);
	assert_string_equal(cfg.name, "");
	assert_false(cfg.nats.section);
	pq_relay_config_free(&cfg);
}

static void test_federation_keys(void **state)
{
	struct pq_relay_config cfg;

	parse_ok(HEAD "name = relay-eu_1\nnats = nats://10.0.0.5:4222\nnats = tls://nats.example.org:4443\n"
		 "[nats]\nuser = pqlan\npassword_file = /etc/pqlan/nats.pw\nca = /etc/ca.pem\n"
		 "cert = /etc/c.pem\nkey = /etc/c.key\npresence_ttl = 30\nreplicas = 3\n", &cfg);
	assert_string_equal(cfg.name, "relay-eu_1");
	assert_int_equal(cfg.nats.count, 2);
	assert_string_equal(cfg.nats.url[0], "nats://10.0.0.5:4222");
	assert_string_equal(cfg.nats.url[1], "tls://nats.example.org:4443");
	assert_string_equal(cfg.nats.user, "pqlan");
	assert_string_equal(cfg.nats.password_file, "/etc/pqlan/nats.pw");
	assert_string_equal(cfg.nats.ca, "/etc/ca.pem");
	assert_string_equal(cfg.nats.cert, "/etc/c.pem");
	assert_string_equal(cfg.nats.key, "/etc/c.key");
	assert_int_equal(cfg.nats.presence_ttl_s, 30);
	assert_int_equal(cfg.nats.replicas, 3);
	pq_relay_config_free(&cfg);
	/* Defaults: TTL and replicas 0 (PQ_RELAY_NATS_TTL_MS, 1). */
	parse_ok(HEAD "name = r1\nnats = nats://127.0.0.1:4222\n", &cfg);
	assert_int_equal(cfg.nats.presence_ttl_s, 0);
	assert_int_equal(cfg.nats.replicas, 0);
	pq_relay_config_free(&cfg);
}

static void test_refusals(void **state)
{
	parse_bad(HEAD "name = r 1\nnats = nats://127.0.0.1:4222\n", 4, "is not a relay name");
	parse_bad(HEAD "name = abcdefghijklmnopqrstuvwxyz0123456\nnats = nats://127.0.0.1:4222\n", 4,
		  "is not a relay name");
	parse_bad(HEAD "name = r1\nnats = http://127.0.0.1:4222\n", 5, "is not a NATS URL");
	parse_bad(HEAD "name = r1\nnats = nats://127.0.0.1\n", 5, "has no host and port");
	parse_bad(HEAD "name = r1\nnats = nats://u:p@127.0.0.1:4222\n", 5, "has no host and port");
	parse_bad(HEAD "name = r1\nnats = nats://127.0.0.1:0\n", 5, "has no host and port");
	parse_bad(HEAD "nats = nats://127.0.0.1:4222\n", 4, "has nats but no name");
	parse_bad(HEAD "name = r1\n", 4, "name without any nats line");
	parse_bad(HEAD "[nats]\nuser = x\npassword_file = /p\n", 6, "[nats] without any nats line");
	parse_bad(HEAD "seccomp = on\nname = r1\nnats = nats://127.0.0.1:4222\n", 6, "seccomp = on with nats");
	parse_bad(HEAD "name = r1\nnats = nats://127.0.0.1:4222\n[nats]\nuser = x\n", 7,
		  "[nats] has user without password_file");
	parse_bad(HEAD "name = r1\nnats = nats://127.0.0.1:4222\n[nats]\ncert = /c\n", 7,
		  "[nats] has cert without key");
	parse_bad(HEAD "name = r1\nnats = nats://127.0.0.1:4222\n[nats]\npresence_ttl = 2\n", 7, "presence_ttl");
	parse_bad(HEAD "name = r1\nnats = nats://127.0.0.1:4222\n[nats]\nreplicas = 6\n", 7, "replicas");
	parse_bad(HEAD "name = r1\nnats = nats://127.0.0.1:4222\n[nats]\nca = relative.pem\n", 7, "ca");
	parse_bad(HEAD "name = r1\n" "nats = nats://a:1\nnats = nats://b:1\nnats = nats://c:1\n"
		  "nats = nats://d:1\nnats = nats://e:1\nnats = nats://f:1\nnats = nats://g:1\n"
		  "nats = nats://h:1\nnats = nats://i:1\n", 13, "is nats line 9");
}

/* The password file: refused when others may read it or when empty; the
 * error names the file. */
static void test_password_file(void **state)
{
	struct pq_relay_config cfg;
	char dir[] = "/tmp/pqnatsXXXXXX", path[64], text[512], err[512];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pw", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("secret\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(text, sizeof(text), HEAD "name = r1\nnats = nats://127.0.0.1:4222\n[nats]\nuser = u\n"
		 "password_file = %s\n", path);
	parse_ok(text, &cfg);
	/* Refused before anything is made: r is never used. */
	assert_int_equal(pq_relay_config_nats((struct pq_relay *)1, &cfg, err, sizeof(err)), PQ_E_CONFIG);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(pq_relay_config_nats((struct pq_relay *)1, &cfg, err, sizeof(err)), PQ_E_CONFIG);
	assert_non_null(strstr(err, "empty"));
	pq_relay_config_free(&cfg);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alone_by_default),
		cmocka_unit_test(test_federation_keys),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_password_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
