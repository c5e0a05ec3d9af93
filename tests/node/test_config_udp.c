/*
 * test_config_udp.c - node.conf's keys of the UDP direct path (node/
 * config.h): listen_udp (default: listen's address and port; none when
 * listen's port is 0; off), keepalive_udp, udp_mtu, the repeatable stun servers,
 * [relay] stun and [peer] transport, with their refusals naming the line
 * and what was expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "node/config.h"
#include "node/config_util.h"

#define HEAD "[node]\nprivate_key = k\ntap = pq0\n"
#define RELAY "[relay]\nurl = wss://198.18.0.1:8443/\nkey = " KEY_A "\n"

static int parse(struct pq_node_config *cfg, const char *text, char *err, size_t cap)
{
	return pq_node_config_parse(cfg, "node.conf", text, strlen(text), err, cap);
}

static unsigned port_of(const struct pq_config_addr *a)
{
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

static void test_udp_defaults(void **state)
{
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse(&cfg, HEAD "listen = 192.0.2.7:7443\n" RELAY "[peer]\nkey = " KEY_B "\n", err,
			       sizeof(err)), 0);
	assert_true(cfg.has_listen_udp);
	assert_false(cfg.udp_off);
	assert_int_equal(port_of(&cfg.listen_udp), 7443);
	assert_int_equal(cfg.keepalive_udp, 25);
	assert_int_equal(cfg.udp_mtu, 1500);
	assert_int_equal(cfg.stun_count, 0);
	assert_false(cfg.relay_stun_off);
	assert_false(cfg.has_relay_stun);
	assert_int_equal(cfg.peers[0].transport, PQ_TRANSPORT_AUTO);
	pq_node_config_free(&cfg);
	/* listen's port 0 (the tests' relay-only nodes): no UDP socket. */
	assert_int_equal(parse(&cfg, HEAD "listen = 192.0.2.7:0\n" RELAY, err, sizeof(err)), 0);
	assert_false(cfg.has_listen_udp);
	pq_node_config_free(&cfg);
}

static void test_udp_keys(void **state)
{
	static const char text[] = HEAD "listen = 0.0.0.0:7443\nlisten_udp = [::]:7500\nkeepalive_udp = 10\nudp_mtu = 1400\n"
				   "stun = 198.51.100.1:3478\nstun = [2001:db8::1]:3479\n"
				   "[relay]\nurl = wss://198.18.0.1:8443/\nkey = " KEY_A "\nstun = 198.18.0.1:4000\n"
				   "[peer]\nkey = " KEY_B "\ntransport = udp\n[peer]\nkey = " KEY_C "\ntransport = tls\n";
	struct pq_node_config cfg;
	char err[PQ_CONFIG_ERR_LEN];

	assert_int_equal(parse(&cfg, text, err, sizeof(err)), 0);
	assert_true(cfg.has_listen_udp);
	assert_int_equal(cfg.listen_udp.ss.ss_family, AF_INET6);
	assert_int_equal(port_of(&cfg.listen_udp), 7500);
	assert_int_equal(cfg.keepalive_udp, 10);
	assert_int_equal(cfg.udp_mtu, 1400);
	assert_int_equal(cfg.stun_count, 2);
	assert_int_equal(port_of(&cfg.stun[0]), 3478);
	assert_int_equal(cfg.stun[1].ss.ss_family, AF_INET6);
	assert_true(cfg.has_relay_stun);
	assert_int_equal(port_of(&cfg.relay_stun), 4000);
	assert_int_equal(cfg.peers[0].transport, PQ_TRANSPORT_UDP);
	assert_int_equal(cfg.peers[1].transport, PQ_TRANSPORT_TLS);
	pq_node_config_free(&cfg);
	assert_int_equal(parse(&cfg, HEAD "listen = 0.0.0.0:7443\nlisten_udp = off\n[relay]\nurl = "
				     "wss://198.18.0.1:8443/\nkey = " KEY_A "\nstun = off\n", err, sizeof(err)), 0);
	assert_true(cfg.udp_off);
	assert_false(cfg.has_listen_udp);
	assert_true(cfg.relay_stun_off);
	pq_node_config_free(&cfg);
}

struct bad {
	const char *text;
	unsigned line;
	const char *needle;
};

static const struct bad bads[] = {
	{ HEAD "listen = 0.0.0.0:1\nlisten_udp = on\n" RELAY, 5, "listen_udp" },
	{ HEAD "listen = 0.0.0.0:1\nkeepalive_udp = 0\n" RELAY, 5, "keepalive_udp" },
	{ HEAD "listen = 0.0.0.0:1\nkeepalive_udp = 3601\n" RELAY, 5, "keepalive_udp" },
	{ HEAD "listen = 0.0.0.0:1\nudp_mtu = 1279\n" RELAY, 5, "udp_mtu" },
	{ HEAD "listen = 0.0.0.0:1\nudp_mtu = 9001\n" RELAY, 5, "udp_mtu" },
	{ HEAD "listen = 0.0.0.0:1\nudp_mtu = 1500b\n" RELAY, 5, "udp_mtu" },
	{ HEAD "listen = 0.0.0.0:1\nstun = 198.51.100.1\n" RELAY, 5, "stun" },
	{ HEAD "listen = 0.0.0.0:1\nstun = 1.1.1.1:1\nstun = 1.1.1.1:2\nstun = 1.1.1.1:3\nstun = 1.1.1.1:4\n"
	  "stun = 1.1.1.1:5\n" RELAY, 9, "too many" },
	{ HEAD "listen = 0.0.0.0:1\n" RELAY "stun = relay.example.org:3478\n", 8, "stun" },
	{ HEAD "listen = 0.0.0.0:1\n" RELAY "[peer]\nkey = " KEY_B "\ntransport = quic\n", 10, "auto, udp or tls" },
};

static void test_udp_refusals(void **state)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct pq_node_config cfg;
		char err[PQ_CONFIG_ERR_LEN];

		assert_int_equal(parse(&cfg, bads[i].text, err, sizeof(err)), PQ_E_CONFIG);
		if (!err_has(err, "node.conf", bads[i].line, bads[i].needle))
			fail_msg("case %zu: want node.conf:%u ...%s...; got\n%s", i, bads[i].line, bads[i].needle, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_defaults),
		cmocka_unit_test(test_udp_keys),
		cmocka_unit_test(test_udp_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
