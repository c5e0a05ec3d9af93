/* test_config_stun.c - relay.conf's `stun = HOST:PORT | off` (src/relay/
 * config_relay.c): the default is listen's address with port 3478 (v4,
 * v6, wildcard), an address, off, and the errors (port 65535 leaves no
 * port + 1, port 0, a name, a switch word, set twice), each with file,
 * line and what was expected. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/config_util.h"
#include "relay/config.h"

#define HEAD4 "[relay]\nprivate_key = /k\nlisten = 192.0.2.1:443\n"
#define HEAD6 "[relay]\nprivate_key = /k\nlisten = [2001:db8::1]:443\n"

static unsigned port_of(const struct pq_config_addr *a)
{
	return ntohs(a->ss.ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)&a->ss)->sin6_port :
						   ((const struct sockaddr_in *)&a->ss)->sin_port);
}

/* text parses; stun is off (want NULL) or the address want:port. */
static void expect_stun(const char *text, const char *want, unsigned port)
{
	struct pq_relay_config cfg;
	struct pq_config_addr a;
	char err[PQ_CONFIG_ERR_LEN], ip[INET6_ADDRSTRLEN];
	const void *raw;

	if (pq_relay_config_parse(&cfg, "relay.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("refused:\n%s\n--- text:\n%s", err, text);
	if (!want) {
		assert_false(pq_relay_config_stun(&cfg, &a));
	} else {
		assert_true(pq_relay_config_stun(&cfg, &a));
		raw = a.ss.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&a.ss)->sin6_addr :
						   (const void *)&((struct sockaddr_in *)&a.ss)->sin_addr;
		assert_non_null(inet_ntop(a.ss.ss_family, raw, ip, sizeof(ip)));
		assert_string_equal(ip, want);
		assert_int_equal(port_of(&a), port);
		assert_int_equal(a.len, a.ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
								     sizeof(struct sockaddr_in));
	}
	pq_relay_config_free(&cfg);
}

static void test_stun_values(void **state)
{
	(void)state;
	expect_stun(HEAD4, "192.0.2.1", 3478);
	expect_stun(HEAD6, "2001:db8::1", 3478);
	expect_stun("[relay]\nprivate_key = /k\nlisten = 0.0.0.0:8443\n", "0.0.0.0", 3478);
	expect_stun("[relay]\nprivate_key = /k\nlisten = [::]:3478\n", "::", 3478);
	expect_stun(HEAD4 "stun = 203.0.113.1:3478\n", "203.0.113.1", 3478);
	expect_stun(HEAD4 "stun = [::]:19302   ; dual stack\n", "::", 19302);
	expect_stun(HEAD6 "stun = 0.0.0.0:65534\n", "0.0.0.0", 65534);
	expect_stun(HEAD4 "stun = off\n", NULL, 0);
	expect_stun("[relay]\nstun = off\nprivate_key = /k\nlisten = [::]:1\n", NULL, 0);
	printf("checked: 9 stun values (defaults from listen, addresses, off)\n");
}

static void expect_error(const char *text, unsigned line, const char *needle)
{
	struct pq_relay_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(pq_relay_config_parse(&cfg, "relay.conf", text, strlen(text), err, sizeof(err)),
			 PQ_E_CONFIG);
	if (err_lines(err) != 1 || !err_has(err, "relay.conf", line, needle))
		fail_msg("want relay.conf:%u: ...%s... alone; got:\n%s", line, needle, err);
}

static void test_stun_errors(void **state)
{
	(void)state;
	expect_error(HEAD4 "stun = 0.0.0.0:65535\n", 4,
		     "stun = \"0.0.0.0:65535\" leaves no port + 1 for the second STUN socket, "
		     "expected a port of 1-65534, or off");
	expect_error(HEAD4 "stun = 0.0.0.0:0\n", 4, "has port 0, expected a port from 1 to 65535");
	expect_error(HEAD4 "stun = stun.example:3478\n", 4, "which is not an IP address");
	expect_error(HEAD4 "stun = on\n", 4,
		     "stun = \"on\" has no port, expected host:port such as 0.0.0.0:3478, or off");
	expect_error(HEAD4 "stun = OFF\n", 4, "stun = \"OFF\"");
	expect_error(HEAD4 "stun = 0.0.0.0\n", 4, "has no port, expected host:port such as 0.0.0.0:3478");
	expect_error(HEAD4 "stun = off\nstun = 0.0.0.0:3478\n", 5, "stun is set twice in this [relay] section");
	printf("checked: 7 stun errors with file, line and what was expected\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stun_values),
		cmocka_unit_test(test_stun_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
