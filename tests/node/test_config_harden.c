/* test_config_harden.c - the configuration keys of issue 11 (least
 * privilege, MAC pinning, relay caps): [node] user and seccomp, [peer]
 * allowed_mac, [relay] user, seccomp, max_nodes, max_nodes_per_source, max_queued_mib;
 * parsed values and the FILE:LINE errors for bad ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/config.h"
#include "node/config_util.h"
#include "relay/config.h"

static const char node_head[] =
	"[node]\n"                                  /* 1 */
	"private_key = /k\n"
	"tap = pq0\n"
	"listen = 0.0.0.0:7443\n";

static const char node_tail[] =
	"[relay]\n"
	"url = wss://198.18.0.1:8443/\n"
	"key = " KEY_A "\n"
	"[peer]\n"
	"key = " KEY_B "\n";

/* head, extra [node] lines, tail, extra [peer] lines. Line 5 is the
 * first extra [node] line. */
static int parse_node(struct pq_node_config *cfg, const char *node_extra, const char *peer_extra,
		      char *err, size_t err_len)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s%s%s", node_head, node_extra, node_tail, peer_extra);
	return pq_node_config_parse(cfg, "node.conf", text, strlen(text), err, err_len);
}

static void test_node_user_seccomp(void **state)
{
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse_node(&cfg, "", "", err, sizeof(err)), 0);
	assert_string_equal(cfg.user, "");
	assert_false(cfg.seccomp);
	assert_int_equal(cfg.peers[0].allowed_mac_count, 0);
	pq_node_config_free(&cfg);

	assert_int_equal(parse_node(&cfg, "user = pqlan\nseccomp = on\n", "", err, sizeof(err)), 0);
	assert_string_equal(cfg.user, "pqlan");
	assert_true(cfg.seccomp);
	pq_node_config_free(&cfg);

	assert_int_equal(parse_node(&cfg, "user = -x\n", "", err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 5, "starts with '-'"));
	assert_int_equal(parse_node(&cfg, "user = a/b\n", "", err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 5, "user name"));
	assert_int_equal(parse_node(&cfg, "seccomp = yes\n", "", err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 5, "on or off"));
}

static void test_allowed_mac(void **state)
{
	static const uint8_t m1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t m2[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	static const uint8_t m3[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse_node(&cfg, "", "allowed_mac = 52:54:00:12:34:56 , 02:AA:bb:cc:dd:ee\n"
				    "allowed_mac = 00:16:3e:00:00:01\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.peers[0].allowed_mac_count, 3);
	assert_memory_equal(cfg.peers[0].allowed_mac[0], m1, 6);
	assert_memory_equal(cfg.peers[0].allowed_mac[1], m2, 6);
	assert_memory_equal(cfg.peers[0].allowed_mac[2], m3, 6);
	pq_node_config_free(&cfg);

	/* line 10: the first [peer] extra line */
	assert_int_equal(parse_node(&cfg, "", "allowed_mac = 01:00:5e:00:00:01\n", err, sizeof(err)),
			 PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 10, "multicast"));
	assert_int_equal(parse_node(&cfg, "", "allowed_mac = 00:00:00:00:00:00\n", err, sizeof(err)),
			 PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 10, "all-zero"));
	assert_int_equal(parse_node(&cfg, "", "allowed_mac = 52:54:00:12:34\n", err, sizeof(err)),
			 PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 10, "not a MAC address"));
	assert_int_equal(parse_node(&cfg, "", "allowed_mac = 52-54-00-12-34-56\n", err, sizeof(err)),
			 PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 10, "not a MAC address"));
	assert_int_equal(parse_node(&cfg, "", "allowed_mac = 52:54:00:12:34:56,\n", err, sizeof(err)),
			 PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 10, "not a MAC address"));
	assert_int_equal(parse_node(&cfg, "", "allowed_mac = 52:54:00:12:34:56\n"
				    "allowed_mac = 52:54:00:12:34:56\n", err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 11, "twice"));
}

static void test_allowed_mac_limit(void **state)
{
	char extra[3072] = "", item[64];
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	/* four per line (lines are short), 33 in all: line 18 has the 33rd */
	for (int i = 0; i <= PQ_CONFIG_MAX_PEER_MACS; i++) {
		snprintf(item, sizeof(item), "%s02:00:00:00:00:%02x%s", i % 4 ? ", " : "allowed_mac = ",
			 i, i % 4 == 3 || i == PQ_CONFIG_MAX_PEER_MACS ? "\n" : "");
		strcat(extra, item);
	}
	assert_int_equal(parse_node(&cfg, "", extra, err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "node.conf", 18, "at most 32"));
}

static int parse_relay(struct pq_relay_config *cfg, const char *extra, char *err, size_t len)
{
	char text[1024];

	snprintf(text, sizeof(text), "[relay]\nprivate_key = /k\nlisten = 0.0.0.0:8443\n%s", extra);
	return pq_relay_config_parse(cfg, "relay.conf", text, strlen(text), err, len);
}

static void test_relay_keys(void **state)
{
	struct pq_relay_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse_relay(&cfg, "", err, sizeof(err)), 0);
	assert_int_equal(cfg.max_nodes, 0);
	assert_int_equal(cfg.max_nodes_per_source, 0);
	assert_int_equal(cfg.max_queued_mib, 0);
	assert_string_equal(cfg.user, "");
	assert_false(cfg.seccomp);
	pq_relay_config_free(&cfg);
	assert_int_equal(parse_relay(&cfg, "max_nodes = 5000\nmax_nodes_per_source = 8\n"
				     "user = pqlan-relay\nseccomp = on\nmax_queued_mib = 64\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.max_nodes, 5000);
	assert_int_equal(cfg.max_nodes_per_source, 8);
	assert_int_equal(cfg.max_queued_mib, 64);
	assert_string_equal(cfg.user, "pqlan-relay");
	assert_true(cfg.seccomp);
	pq_relay_config_free(&cfg);
	assert_int_equal(parse_relay(&cfg, "max_nodes = 0\n", err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "relay.conf", 4, "nodes"));
	assert_int_equal(parse_relay(&cfg, "max_nodes_per_source = many\n", err, sizeof(err)),
			 PQ_E_CONFIG);
	assert_true(err_has(err, "relay.conf", 4, "nodes"));
	assert_int_equal(parse_relay(&cfg, "max_queued_mib = 0\n", err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "relay.conf", 4, "MiB"));
	assert_int_equal(parse_relay(&cfg, "max_queued_mib = 1048577\n", err, sizeof(err)), PQ_E_CONFIG);
	assert_true(err_has(err, "relay.conf", 4, "MiB"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_user_seccomp),
		cmocka_unit_test(test_allowed_mac),
		cmocka_unit_test(test_allowed_mac_limit),
		cmocka_unit_test(test_relay_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
