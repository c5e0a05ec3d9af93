/* test_config_ops.c - the operations keys of issue 12: [node] tap_persist,
 * mac, mtu, log_level and [relay] metrics, control, log_level, set and
 * left at their defaults. Errors are in test_config_errors.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/config.h"
#include "node/config_util.h"
#include "relay/config.h"
#include "util/log.h"

#define NODE_BASE "[node]\nprivate_key = k\ntap = pqbr0\nlisten = 0.0.0.0:0\n"
#define RELAY_SECTION "[relay]\nurl = wss://198.18.0.1/\nkey = " KEY_A "\n"

static void test_node_ops_set(void **state)
{
	static const char text[] = NODE_BASE "tap_persist = yes\nmac = 02:aB:cd:EF:01:fe\n"
				   "mtu = 9000\nlog_level = debug\n" RELAY_SECTION;
	const uint8_t mac[6] = { 0x02, 0xab, 0xcd, 0xef, 0x01, 0xfe };
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN] = "";

	assert_int_equal(pq_node_config_parse(&cfg, "n.conf", text, strlen(text), err, sizeof(err)), 0);
	assert_true(cfg.tap_persist);
	assert_true(cfg.has_mac);
	assert_memory_equal(cfg.mac, mac, 6);
	assert_int_equal(cfg.mtu, 9000);
	assert_int_equal(cfg.log_level, PQ_LOG_DEBUG);
	pq_node_config_free(&cfg);
}

static void test_node_ops_defaults(void **state)
{
	static const char text[] = NODE_BASE "tap_persist = no\n" RELAY_SECTION;
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN] = "";

	assert_int_equal(pq_node_config_parse(&cfg, "n.conf", text, strlen(text), err, sizeof(err)), 0);
	assert_false(cfg.tap_persist);
	assert_false(cfg.has_mac);
	assert_int_equal(cfg.mtu, 0);                /* the TAP's default, 1500 */
	assert_int_equal(cfg.log_level, PQ_LOG_INFO);
	pq_node_config_free(&cfg);
}

static void test_mtu_bounds(void **state)
{
	static const char lo[] = NODE_BASE "mtu = 68\n" RELAY_SECTION;
	static const char hi[] = NODE_BASE "mtu = 16366\n" RELAY_SECTION;
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN] = "";

	assert_int_equal(pq_node_config_parse(&cfg, "n.conf", lo, strlen(lo), err, sizeof(err)), 0);
	assert_int_equal(cfg.mtu, 68);
	pq_node_config_free(&cfg);
	assert_int_equal(pq_node_config_parse(&cfg, "n.conf", hi, strlen(hi), err, sizeof(err)), 0);
	assert_int_equal(cfg.mtu, 16366);
	pq_node_config_free(&cfg);
}

static void test_relay_ops(void **state)
{
	static const char set[] = "[relay]\nprivate_key = k\nlisten = 0.0.0.0:8443\n"
				  "metrics = 127.0.0.1:9465\ncontrol = /run/x/r.ctl\nlog_level = warn\n";
	static const char dflt[] = "[relay]\nprivate_key = k\nlisten = 0.0.0.0:8443\n";
	struct pq_relay_config cfg;
	char err[PQ_CONFIG_ERR_LEN] = "";

	assert_int_equal(pq_relay_config_parse(&cfg, "r.conf", set, strlen(set), err, sizeof(err)), 0);
	assert_true(cfg.has_metrics);
	assert_string_equal(cfg.control, "/run/x/r.ctl");
	assert_int_equal(cfg.log_level, PQ_LOG_WARN);
	pq_relay_config_free(&cfg);
	assert_int_equal(pq_relay_config_parse(&cfg, "r.conf", dflt, strlen(dflt), err, sizeof(err)), 0);
	assert_false(cfg.has_metrics);
	assert_string_equal(cfg.control, PQ_RELAY_CONTROL_DEFAULT);
	assert_int_equal(cfg.log_level, PQ_LOG_INFO);
	pq_relay_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_ops_set),
		cmocka_unit_test(test_node_ops_defaults),
		cmocka_unit_test(test_mtu_bounds),
		cmocka_unit_test(test_relay_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
