/* test_config_relays.c - several [relay] sections in node.conf (issue 10,
 * src/node/config_node.c): all kept in file order with their own url, key
 * and stun; the first under the old names; at most PQ_CONFIG_MAX_RELAYS;
 * each complete; the same url twice refused with both lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/config.h"
#include "node/config_util.h"

#define HEAD "[node]\nprivate_key = /etc/pqlan/node.key\ntap = pqlan0\nlisten = 0.0.0.0:7443\n"
#define RELAY(url, key) "[relay]\nurl = " url "\nkey = " key "\n"

static void test_three_relays(void **state)
{
	const char *text = HEAD RELAY("wss://192.0.2.1:8443/", KEY_A)
		RELAY("wss://relay2.example.org/", KEY_B) "stun = off\n"
		RELAY("wss://192.0.2.3:9000/", KEY_C) "stun = 192.0.2.3:3478\n";
	struct pq_node_config cfg;
	uint8_t a[32], b[32];
	char err[PQ_CONFIG_ERR_LEN];

	if (pq_node_config_parse(&cfg, "node.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("refused:\n%s", err);
	assert_int_equal(cfg.relay_count, 3);
	assert_string_equal(cfg.relays[0].url.text, "wss://192.0.2.1:8443/");
	assert_string_equal(cfg.relays[1].url.host, "relay2.example.org");
	assert_string_equal(cfg.relays[2].url.text, "wss://192.0.2.3:9000/");
	key_bytes(a, 0);
	key_bytes(b, 32);
	assert_memory_equal(cfg.relays[0].key, a, 32);
	assert_memory_equal(cfg.relays[1].key, b, 32);
	assert_false(cfg.relays[0].stun_off);
	assert_true(cfg.relays[1].stun_off);
	assert_true(cfg.relays[2].has_stun);
	/* The first, under the names the rest of the node reads. */
	assert_string_equal(cfg.relay_url.text, cfg.relays[0].url.text);
	assert_memory_equal(cfg.relay_key, a, 32);
	assert_int_equal(cfg.relays[1].line, 8);
	pq_node_config_free(&cfg);
}

static void test_one_relay_unchanged(void **state)
{
	const char *text = HEAD RELAY("wss://192.0.2.1:8443/", KEY_A) "stun = off\n";
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	if (pq_node_config_parse(&cfg, "node.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("refused:\n%s", err);
	assert_int_equal(cfg.relay_count, 1);
	assert_true(cfg.relay_stun_off);
	assert_string_equal(cfg.relay_url.text, "wss://192.0.2.1:8443/");
	pq_node_config_free(&cfg);
}

static void expect_bad(const char *text, unsigned line, const char *needle)
{
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	if (!pq_node_config_parse(&cfg, "node.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("accepted:\n%s", text);
	if (!err_has(err, "node.conf", line, needle))
		fail_msg("no \"node.conf:%u: ... %s ... , expected\" in:\n%s", line, needle, err);
}

static void test_refusals(void **state)
{
	expect_bad(HEAD RELAY("wss://192.0.2.1:8443/", KEY_A) RELAY("wss://192.0.2.1:8443/", KEY_B), 8,
		   "is already the relay at line 5");
	expect_bad(HEAD RELAY("wss://192.0.2.1:8443/", KEY_A) "[relay]\nurl = wss://192.0.2.2/\n", 8,
		   "[relay] has no key");
	expect_bad(HEAD RELAY("wss://192.0.2.1/", KEY_A) RELAY("wss://192.0.2.2/", KEY_A)
		   RELAY("wss://192.0.2.3/", KEY_A) RELAY("wss://192.0.2.4/", KEY_A)
		   RELAY("wss://192.0.2.5/", KEY_A) RELAY("wss://192.0.2.6/", KEY_A)
		   RELAY("wss://192.0.2.7/", KEY_A) RELAY("wss://192.0.2.8/", KEY_A)
		   RELAY("wss://192.0.2.9/", KEY_A), 29, "is relay section 9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_relays),
		cmocka_unit_test(test_one_relay_unchanged),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
