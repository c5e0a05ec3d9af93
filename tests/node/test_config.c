/* test_config.c - node.conf and relay.conf: full files parsed with every
 * field checked, defaults, URL forms, the file syntax (comments, inline
 * comments, whitespace, CRLF, BOM, no continuation lines), line limits,
 * the peer and allow limits, several errors in one pass, message buffer
 * truncation, and files that cannot be read. The error classes one by
 * one are in test_config_errors.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/identity.h"
#include "node/config.h"
#include "node/config_util.h"
#include "relay/config.h"

static int n_checked;

static void assert_v4(const struct pq_config_addr *a, const char *ip, unsigned port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	struct in_addr want;

	assert_int_equal(inet_pton(AF_INET, ip, &want), 1);
	assert_int_equal(a->ss.ss_family, AF_INET);
	assert_int_equal(a->len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(sin->sin_port), port);
	assert_memory_equal(&sin->sin_addr, &want, 4);
	n_checked++;
}

static void assert_v6(const struct pq_config_addr *a, const char *ip, unsigned port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
	struct in6_addr want;

	assert_int_equal(inet_pton(AF_INET6, ip, &want), 1);
	assert_int_equal(a->ss.ss_family, AF_INET6);
	assert_int_equal(a->len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(sin6->sin6_port), port);
	assert_memory_equal(&sin6->sin6_addr, &want, 16);
	n_checked++;
}

static void assert_key(const uint8_t key[32], unsigned first)
{
	uint8_t want[32];

	key_bytes(want, first);
	assert_memory_equal(key, want, 32);
	n_checked++;
}

static int parse_node(struct pq_node_config *cfg, const char *text, char *err, size_t len)
{
	return pq_node_config_parse(cfg, "node.conf", text, strlen(text), err, len);
}

/* The sample from the design brief, with real keys and every key set. */
static const char full_node[] =
	"# node.conf\n"                                                   /* 1 */
	"[node]\n"
	"private_key = /etc/pqlan/node.key\n"
	"tap = pqlan0\n"
	"address = 10.77.0.1/24          ; optional, assigned to the TAP\n" /* 5 */
	"listen = 0.0.0.0:7443           ; direct-path listener\n"
	"control = /run/pqlan/custom.sock ; optional\n"
	"retry_interval = 30             ; optional, seconds\n"
	"reauth_interval = 900\n"
	"metrics = 127.0.0.1:9464        ; optional, Prometheus text endpoint\n" /* 10 */
	"offload = off\n"
	"[relay]\n"
	"url = wss://198.18.0.1:8443/\n"
	"key = " KEY_A "\n"
	"[peer]\n"                                                        /* 15 */
	"name = bob                       ; optional\n"
	"key = " KEY_B "\n"
	"endpoint = 192.0.2.7:7443       ; optional static candidate\n"
	"path = auto                     ; auto | relay | direct\n"
	"; one [peer] section per peer\n"
	"[peer]\n"                                                        /* 21 */
	"name = carol\n"
	"key = " KEY_C "\n"
	"endpoint = [2001:db8::7]:7443\n"
	"path = relay\n"
	"[peer]\n"                                                        /* 26 */
	"key = " KEY_D "\n"
	"path = direct\n";

static void test_full_node(void **state)
{
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];
	const uint8_t ff[32] = { [0 ... 31] = 0xff };
	const uint8_t addr[4] = { 10, 77, 0, 1 };

	assert_int_equal(parse_node(&cfg, full_node, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.private_key, "/etc/pqlan/node.key");
	assert_string_equal(cfg.tap, "pqlan0");
	assert_true(cfg.has_address);
	assert_int_equal(cfg.address.family, AF_INET);
	assert_memory_equal(cfg.address.addr, addr, 4);
	assert_int_equal(cfg.address.prefix, 24);
	assert_v4(&cfg.listen, "0.0.0.0", 7443);
	assert_string_equal(cfg.control, "/run/pqlan/custom.sock");
	assert_int_equal(cfg.retry_interval, 30);
	assert_int_equal(cfg.reauth_interval, 900);
	assert_false(cfg.offload);
	assert_true(cfg.has_metrics);
	assert_v4(&cfg.metrics, "127.0.0.1", 9464);
	assert_string_equal(cfg.relay_url.text, "wss://198.18.0.1:8443/");
	assert_string_equal(cfg.relay_url.host, "198.18.0.1");
	assert_int_equal(cfg.relay_url.port, 8443);
	assert_string_equal(cfg.relay_url.path, "/");
	assert_true(cfg.relay_url.host_is_ip);
	assert_v4(&cfg.relay_url.addr, "198.18.0.1", 8443);
	assert_key(cfg.relay_key, 0);

	assert_int_equal(cfg.peer_count, 3);
	assert_string_equal(cfg.peers[0].name, "bob");
	assert_key(cfg.peers[0].key, 32);
	assert_true(cfg.peers[0].has_endpoint);
	assert_v4(&cfg.peers[0].endpoint, "192.0.2.7", 7443);
	assert_int_equal(cfg.peers[0].path, PQ_PATH_AUTO);
	assert_int_equal(cfg.peers[0].line, 15);

	assert_string_equal(cfg.peers[1].name, "carol");
	assert_memory_equal(cfg.peers[1].key, ff, 32);
	assert_true(cfg.peers[1].has_endpoint);
	assert_v6(&cfg.peers[1].endpoint, "2001:db8::7", 7443);
	assert_int_equal(cfg.peers[1].path, PQ_PATH_RELAY);
	assert_int_equal(cfg.peers[1].line, 21);

	assert_string_equal(cfg.peers[2].name, "");
	assert_key(cfg.peers[2].key, 100);
	assert_false(cfg.peers[2].has_endpoint);
	assert_int_equal(cfg.peers[2].path, PQ_PATH_DIRECT);
	assert_int_equal(cfg.peers[2].line, 26);
	pq_node_config_free(&cfg);
	assert_null(cfg.peers);
	n_checked++;
}

/* Only the required keys: every default, a DNS-name relay, IPv6 listen
 * on port 0 (the kernel picks), an IPv6 TAP address, no peers. */
static void test_node_defaults(void **state)
{
	static const char text[] =
		"[node]\nprivate_key = node.key\ntap = pqlan7\nlisten = [::]:0\n"
		"address = fd00:77::1/64\n"
		"[relay]\nurl = wss://relay.example.org\nkey = " KEY_A "\n";
	const uint8_t want6[16] = { 0xfd, 0, 0, 0x77, [15] = 1 };
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse_node(&cfg, text, err, sizeof(err)), 0);
	assert_string_equal(cfg.private_key, "node.key");
	assert_string_equal(cfg.control, "/run/pqlan/pqlan7.sock");
	assert_int_equal(cfg.retry_interval, 60);
	assert_int_equal(cfg.reauth_interval, 600);
	assert_false(cfg.has_metrics);
	assert_true(cfg.offload);
	assert_true(cfg.has_address);
	assert_int_equal(cfg.address.family, AF_INET6);
	assert_memory_equal(cfg.address.addr, want6, 16);
	assert_int_equal(cfg.address.prefix, 64);
	assert_v6(&cfg.listen, "::", 0);
	assert_string_equal(cfg.relay_url.host, "relay.example.org");
	assert_int_equal(cfg.relay_url.port, 443);
	assert_string_equal(cfg.relay_url.path, "/");
	assert_false(cfg.relay_url.host_is_ip);
	assert_int_equal(cfg.peer_count, 0);
	pq_node_config_free(&cfg);
	n_checked++;
}

struct url_case {
	const char *url, *host;
	unsigned port;
	const char *path;
	int family; /* 0: a DNS name */
};

static const struct url_case url_cases[] = {
	{ "wss://198.18.0.1:8443/", "198.18.0.1", 8443, "/", AF_INET },
	{ "wss://198.18.0.1", "198.18.0.1", 443, "/", AF_INET },
	{ "WSS://[2001:db8::1]:9000/pqlan?v=1", "2001:db8::1", 9000, "/pqlan?v=1", AF_INET6 },
	{ "wss://[::1]", "::1", 443, "/", AF_INET6 },
	{ "wss://relay.example.org?x=1", "relay.example.org", 443, "/?x=1", 0 },
	{ "wss://r-1.Example.org:65535/a/b", "r-1.Example.org", 65535, "/a/b", 0 },
	{ "wss://localhost:8443/ws", "localhost", 8443, "/ws", 0 },
};

static void test_url_forms(void **state)
{
	char text[512], err[PQ_CONFIG_ERR_LEN];
	struct pq_node_config cfg;

	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];

		snprintf(text, sizeof(text), "[node]\nprivate_key = /k\ntap = t\nlisten = "
			 "0.0.0.0:1\n[relay]\nurl = %s\nkey = " KEY_A "\n", c->url);
		if (parse_node(&cfg, text, err, sizeof(err)))
			fail_msg("url case %zu: %s", i, err);
		assert_string_equal(cfg.relay_url.text, c->url);
		assert_string_equal(cfg.relay_url.host, c->host);
		assert_int_equal(cfg.relay_url.port, c->port);
		assert_string_equal(cfg.relay_url.path, c->path);
		assert_int_equal(cfg.relay_url.host_is_ip, c->family != 0);
		if (c->family == AF_INET)
			assert_v4(&cfg.relay_url.addr, c->host, c->port);
		else if (c->family == AF_INET6)
			assert_v6(&cfg.relay_url.addr, c->host, c->port);
		pq_node_config_free(&cfg);
		n_checked++;
	}
}

static void test_full_relay(void **state)
{
	static const char text[] =
		"# relay.conf\n"
		"[relay]\n"
		"private_key = /etc/pqlan/relay.key\n"
		"listen = [::]:8443\n"
		"# allow = <node public key>   (repeatable)\n"
		"allow = " KEY_B "\n"                  /* 6 */
		"allow = " KEY_C "   ; carol\n"        /* 7 */
		"\n"
		"allow = " KEY_D "\n";                 /* 9 */
	struct pq_relay_config cfg;
	char err[PQ_CONFIG_ERR_LEN];
	const uint8_t ff[32] = { [0 ... 31] = 0xff };

	assert_int_equal(pq_relay_config_parse(&cfg, "relay.conf", text, strlen(text), err,
					       sizeof(err)), 0);
	assert_string_equal(cfg.private_key, "/etc/pqlan/relay.key");
	assert_v6(&cfg.listen, "::", 8443);
	assert_int_equal(cfg.allow_count, 3);
	assert_key(cfg.allow[0].key, 32);
	assert_int_equal(cfg.allow[0].line, 6);
	assert_memory_equal(cfg.allow[1].key, ff, 32);
	assert_int_equal(cfg.allow[1].line, 7);
	assert_key(cfg.allow[2].key, 100);
	assert_int_equal(cfg.allow[2].line, 9);
	pq_relay_config_free(&cfg);
	assert_null(cfg.allow);
	n_checked++;
}

static void test_relay_open(void **state)
{
	static const char text[] = "[relay]\nprivate_key = /k\nlisten = 192.0.2.1:443\n";
	struct pq_relay_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(pq_relay_config_parse(&cfg, "relay.conf", text, strlen(text), err,
					       sizeof(err)), 0);
	assert_v4(&cfg.listen, "192.0.2.1", 443);
	assert_int_equal(cfg.allow_count, 0); /* any node key may connect */
	assert_null(cfg.allow);
	pq_relay_config_free(&cfg);
	n_checked++;
}

/* BOM, CRLF, tabs, indentation, comment styles, no spaces around '=',
 * spaced headers, a header comment, a missing final newline. An
 * indented key after another key is its own key, not a continuation.
 * SEP ends the listen value: " ;" starts a comment, a bare ";" does not. */
#define SYNTAX(SEP)								\
	"\xEF\xBB\xBF; leading comment\r\n"						\
	"# another\r\n"								\
	"   \t \r\n"								\
	"[ node ]   ; the node\r\n"							\
	"\tprivate_key=/etc/pqlan/node.key\r\n"					\
	"    tap   =   pqlan0   \r\n"						\
	"  listen = 0.0.0.0:7443" SEP "comment\r\n"					\
	"\r\n"									\
	"[relay] # relay\r\n"							\
	"url = wss://198.18.0.1:8443/\t; tab then comment\r\n"			\
	"key = " KEY_A "\r\n"							\
	"[peer]\r\n"								\
	"key = " KEY_B "\r\n"							\
	"    name = bob"

static void test_syntax(void **state)
{
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse_node(&cfg, SYNTAX(";"), err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 7, "has a port \"7443;comment\" that is not a number"));
	assert_int_equal(err_lines(err), 1);
	n_checked++;

	if (parse_node(&cfg, SYNTAX(" ;"), err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(cfg.private_key, "/etc/pqlan/node.key");
	assert_string_equal(cfg.tap, "pqlan0");
	assert_v4(&cfg.listen, "0.0.0.0", 7443);
	assert_string_equal(cfg.relay_url.path, "/");
	assert_key(cfg.relay_key, 0);
	assert_int_equal(cfg.peer_count, 1);
	assert_int_equal(cfg.peers[0].line, 12);
	assert_string_equal(cfg.peers[0].name, "bob");
	assert_key(cfg.peers[0].key, 32);
	pq_node_config_free(&cfg);
	n_checked++;
}

/* CRLF files report the same line numbers as LF files. */
static void test_crlf_lines(void **state)
{
	static const char text[] =
		"[node]\r\nprivate_key = /k\r\ntap = pqlan0\r\n\r\nlisten = 1.2.3.4\r\n"
		"[relay]\r\nurl = wss://1.2.3.4/\r\nkey = " KEY_A "\r\n";
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse_node(&cfg, text, err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 5, "listen = \"1.2.3.4\" has no port"));
	assert_int_equal(err_lines(err), 1);
	n_checked++;
}

/* A line of 197 characters is read; 198 is refused with its line. */
static void test_line_length(void **state)
{
	char text[1024], path[256], err[PQ_CONFIG_ERR_LEN];
	struct pq_node_config cfg;
	size_t plen = 197 - strlen("private_key = ");

	memset(path, 'k', plen);
	path[0] = '/';
	path[plen] = '\0';
	snprintf(text, sizeof(text), "[node]\nprivate_key = %s\ntap = t\nlisten = 0.0.0.0:1\n"
		 "[relay]\nurl = wss://1.2.3.4/\nkey = " KEY_A "\n", path);
	assert_int_equal(parse_node(&cfg, text, err, sizeof(err)), 0);
	assert_string_equal(cfg.private_key, path);
	pq_node_config_free(&cfg);
	n_checked++;

	path[plen] = 'k';
	path[plen + 1] = '\0';
	snprintf(text, sizeof(text), "[node]\nprivate_key = %s\ntap = t\nlisten = 0.0.0.0:1\n"
		 "[relay]\nurl = wss://1.2.3.4/\nkey = " KEY_A "\n", path);
	assert_int_equal(parse_node(&cfg, text, err, sizeof(err)), PQ_E_CONFIG);
	/* the refused line may have held the key: no "has no private_key" */
	assert_int_equal(err_lines(err), 1);
	assert_true(err_has(err, "node.conf", 2, "line is 198 characters long, expected at most 197"));
	n_checked++;
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[node]\nprivate_key = /k\ntap = pq\0lan0\nlisten = 0.0.0.0:1\n"
		"[relay]\nurl = wss://1.2.3.4/\nkey = " KEY_A "\n";
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(pq_node_config_parse(&cfg, "node.conf", text, sizeof(text) - 1, err,
					      sizeof(err)), PQ_E_CONFIG);
	assert_int_equal(err_lines(err), 1);
	assert_true(err_has(err, "node.conf", 3, "line contains a NUL byte, expected text"));
	n_checked++;
}

/* The text need not end in NUL: the last line is read within len (the
 * ASan pass catches a read past the buffer). */
static void test_unterminated(void **state)
{
	static const char text[] = "[relay]\nprivate_key = /k\nlisten = 0.0.0.0:1\nallow: x\n\r(";
	size_t len = sizeof(text) - 1;
	char *copy = malloc(len), err[PQ_CONFIG_ERR_LEN];
	struct pq_relay_config cfg;

	assert_non_null(copy);
	memcpy(copy, text, len);
	assert_int_equal(pq_relay_config_parse(&cfg, "relay.conf", copy, len, err, sizeof(err)),
			 PQ_E_CONFIG);
	assert_true(err_has(err, "relay.conf", 4, "\"allow\" is followed by ':'"));
	/* "\r(" is not a continuation of line 4 (libinih's isspace()) */
	assert_true(err_has(err, "relay.conf", 5, "cannot read \"(\""));
	assert_int_equal(err_lines(err), 2);
	assert_int_equal(pq_relay_config_parse(&cfg, "relay.conf", copy, len - 12, err,
					       sizeof(err)), 0);
	assert_v4(&cfg.listen, "0.0.0.0", 1);
	pq_relay_config_free(&cfg);
	free(copy);
	n_checked++;
}

/* Distinct printed keys: two free base64 characters carry i. */
static void make_key(char out[PQ_KEY_B64_LEN + 1], unsigned i)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memcpy(out, KEY_A, 45);
	out[10] = b64[(i / 64) % 64];
	out[11] = b64[i % 64];
}

/* n [peer] sections (or allow lines) of distinct keys. */
static char *many(bool relay, unsigned n)
{
	size_t cap = 256 + (size_t)n * 64, used;
	char *text = malloc(cap), key[PQ_KEY_B64_LEN + 1];

	assert_non_null(text);
	used = (size_t)snprintf(text, cap, relay ? "[relay]\nprivate_key = /k\nlisten = 0.0.0.0:1\n" :
				"[node]\nprivate_key = /k\ntap = t\nlisten = 0.0.0.0:1\n"
				"[relay]\nurl = wss://1.2.3.4/\nkey = " KEY_A "\n");
	for (unsigned i = 0; i < n; i++) {
		make_key(key, i);
		used += (size_t)snprintf(text + used, cap - used, relay ? "allow = %s\n" :
					 "[peer]\nkey = %s\n", key);
	}
	assert_true(used < cap);
	return text;
}

static void test_peer_limit(void **state)
{
	char err[PQ_CONFIG_ERR_LEN], *text = many(false, PQ_CONFIG_MAX_PEERS);
	struct pq_node_config cfg;

	assert_int_equal(parse_node(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(cfg.peer_count, PQ_CONFIG_MAX_PEERS);
	pq_node_config_free(&cfg);
	free(text);
	n_checked++;

	text = many(false, PQ_CONFIG_MAX_PEERS + 1);
	assert_int_equal(parse_node(&cfg, text, err, sizeof(err)), PQ_E_CONFIG);
	/* lines 1-7 are the head, each peer takes two */
	assert_true(err_has(err, "node.conf", 8 + 2 * PQ_CONFIG_MAX_PEERS,
			    "more than 256 [peer] sections, expected at most 256"));
	assert_int_equal(err_lines(err), 1);
	assert_null(cfg.peers);
	free(text);
	n_checked++;
}

static void test_allow_limit(void **state)
{
	char err[PQ_CONFIG_ERR_LEN], *text = many(true, PQ_CONFIG_MAX_ALLOW);
	struct pq_relay_config cfg;

	assert_int_equal(pq_relay_config_parse(&cfg, "relay.conf", text, strlen(text), err,
					       sizeof(err)), 0);
	assert_int_equal(cfg.allow_count, PQ_CONFIG_MAX_ALLOW);
	pq_relay_config_free(&cfg);
	free(text);
	n_checked++;

	text = many(true, PQ_CONFIG_MAX_ALLOW + 1);
	assert_int_equal(pq_relay_config_parse(&cfg, "relay.conf", text, strlen(text), err,
					       sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "relay.conf", 4 + PQ_CONFIG_MAX_ALLOW,
			    "is allow line 4097, expected at most 4096"));
	assert_int_equal(err_lines(err), 1);
	free(text);
	n_checked++;
}

/* Several mistakes come back together, in reading order. */
static void test_all_errors_at_once(void **state)
{
	static const char text[] =
		"[node]\nprivate_key = /k\ntap = pqlan0\nlisten = 0.0.0.0\n"  /* 4 */
		"retry_interval = 0\n"                                        /* 5 */
		"[relay]\nurl = http://x/\nkey = " KEY_A "\n"                 /* 7 */
		"[peer]\nname = bob\n";                                       /* 9 */
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse_node(&cfg, text, err, sizeof(err)), PQ_E_CONFIG);
	assert_int_equal(err_lines(err), 4);
	assert_true(err_has(err, "node.conf", 4, "has no port"));
	assert_true(err_has(err, "node.conf", 5, "is out of range"));
	assert_true(err_has(err, "node.conf", 7, "is not a wss:// URL"));
	assert_true(err_has(err, "node.conf", 9, "[peer] has no key"));
	assert_true(strstr(err, ":4:") < strstr(err, ":5:"));
	assert_true(strstr(err, ":5:") < strstr(err, ":7:"));
	n_checked++;

	/* an empty file lacks both required sections */
	assert_int_equal(parse_node(&cfg, "", err, sizeof(err)), PQ_E_CONFIG);
	assert_int_equal(err_lines(err), 2);
	assert_true(err_has(err, "node.conf", 1, "no [node] section"));
	assert_true(err_has(err, "node.conf", 1, "no [relay] section"));
	n_checked++;
}

/* At most PQ_CONF_MAX_ERRORS (10) messages, then a count. */
static void test_error_cap(void **state)
{
	char text[2048], err[PQ_CONFIG_ERR_LEN];
	struct pq_relay_config cfg;
	size_t used = (size_t)snprintf(text, sizeof(text),
				       "[relay]\nprivate_key = /k\nlisten = 0.0.0.0:1\n");

	for (int i = 0; i < 14; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "bogus%d = 1\n", i);
	assert_int_equal(pq_relay_config_parse(&cfg, "relay.conf", text, used, err, sizeof(err)),
			 PQ_E_CONFIG);
	assert_int_equal(err_lines(err), 11);
	assert_true(err_has(err, "relay.conf", 4, "unknown key \"bogus0\""));
	assert_true(err_has(err, "relay.conf", 13, "unknown key \"bogus9\""));
	assert_false(err_has(err, "relay.conf", 14, "unknown key"));
	assert_non_null(strstr(err, "\nrelay.conf: 4 more errors not shown"));
	assert_int_equal(err[strlen(err) - 1], 'n'); /* no trailing newline */
	n_checked++;
}

/* A small buffer gets a cut, NUL-terminated message and nothing beyond. */
static void test_small_buffer(void **state)
{
	char err[32];
	struct pq_node_config cfg;

	memset(err, '#', sizeof(err));
	assert_int_equal(parse_node(&cfg, "[nope]\n", err, 24), PQ_E_CONFIG);
	assert_int_equal(strlen(err), 23);
	assert_memory_equal(err, "node.conf:1: unknown se", 23);
	assert_int_equal(err[24], '#');
	assert_int_equal(parse_node(&cfg, "[nope]\n", NULL, 0), PQ_E_CONFIG);
	n_checked++;
}

static char *write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/pq_test_config_XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_files(void **state)
{
	char err[PQ_CONFIG_ERR_LEN], want[256], *path = write_temp(full_node, strlen(full_node));
	static const char relay_text[] = "[relay]\nprivate_key = /k\nlisten = 0.0.0.0:8443\n";
	struct pq_node_config cfg;
	struct pq_relay_config rcfg;

	assert_int_equal(pq_node_config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.peer_count, 3);
	assert_string_equal(cfg.peers[1].name, "carol");
	pq_node_config_free(&cfg);
	/* the name in messages is the path as given */
	assert_int_equal(pq_relay_config_load(&rcfg, path, err, sizeof(err)), PQ_E_CONFIG);
	snprintf(want, sizeof(want), "%s:2: unknown section [node], expected [relay]", path);
	assert_non_null(strstr(err, want));
	unlink(path);
	free(path);
	n_checked++;

	path = write_temp(relay_text, strlen(relay_text));
	assert_int_equal(pq_relay_config_load(&rcfg, path, err, sizeof(err)), 0);
	assert_v4(&rcfg.listen, "0.0.0.0", 8443);
	pq_relay_config_free(&rcfg);
	unlink(path);

	/* a missing file: its name and the errno text */
	assert_int_equal(pq_relay_config_load(&rcfg, path, err, sizeof(err)), PQ_E_IO);
	snprintf(want, sizeof(want), "%s: cannot open the configuration file: %s", path,
		 strerror(ENOENT));
	assert_string_equal(err, want);
	free(path);
	n_checked++;

	assert_int_equal(pq_node_config_load(&cfg, "/tmp", err, sizeof(err)), PQ_E_IO);
	assert_string_equal(err, "/tmp: is a directory, expected a configuration file");
	n_checked++;
}

static void test_file_too_big(void **state)
{
	size_t len = (1u << 20) + 1;
	char *text = malloc(len), *path, err[PQ_CONFIG_ERR_LEN];
	struct pq_node_config cfg;

	assert_non_null(text);
	memset(text, '\n', len);
	path = write_temp(text, len);
	assert_int_equal(pq_node_config_load(&cfg, path, err, sizeof(err)), PQ_E_CONFIG);
	assert_non_null(strstr(err, "file is larger than 1048576 bytes"));
	unlink(path);
	free(path);
	free(text);
	n_checked++;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_node),
		cmocka_unit_test(test_node_defaults),
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test(test_full_relay),
		cmocka_unit_test(test_relay_open),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_crlf_lines),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_peer_limit),
		cmocka_unit_test(test_allow_limit),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_file_too_big),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("checked: config %d cases\n", n_checked);
	return failed;
}
