/*
 * test_node_status.c - the `pqlan status` report of the node daemon
 * (node/control.c): the JSON form byte for byte as the interface fixes it
 * (field order, null for no name / no handshake, the three states and
 * their paths, counters), the text form's lines, and PQ_E_TOOBIG for a
 * buffer that cannot hold the report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pq_version.h"
#include "net/conn_internal.h"
#include "node/node_int.h"
#include "node_fixture.h"

/* The build in the node object (util/version.h). */
#define VERSION_JSON "\"version\":\"" PQ_VERSION "\",\"git\":\"" PQ_VERSION_GIT "\",\"protocol\":1"

static struct pq_node node;
static struct pq_config_peer peer_cfg[3];
static struct pq_node_peer peers[3];
static int checks;

static void setup_node(void)
{
	fixture_node(&node, peers, peer_cfg, 3);
	strcpy(node.cfg.relay_url.text, "wss://192.0.2.1:7443/");
	node.cfg.relays[0].url = node.cfg.relay_url; /* issue 10: the relay in use */
	node.cfg.relay_count = 1;
	/* bob: established (confirmed keys), counters, handshake 12.9 s ago */
	strcpy(peer_cfg[0].name, "bob");
	strcpy(peers[0].key_b64, KEY("B"));
	assert_int_equal(fixture_established(&peers[0]), 0);
	/* unnamed: online, no keys yet, never a handshake */
	strcpy(peers[1].key_b64, KEY("C"));
	peers[1].online = true;
	/* carol: offline */
	strcpy(peer_cfg[2].name, "carol");
	strcpy(peers[2].key_b64, KEY("D"));
}

static void teardown_node(void)
{
	for (int i = 0; i < 3; i++)
		pq_session_wipe(&peers[i].session);
}

/* The node's report at the fixture's clock, in out (NUL-terminated). */
static const char *report(char *out, size_t cap, bool json)
{
	long n = pq_control_status(&node, json, out, cap, 112900);

	assert_true(n > 0);
	out[n] = 0;
	return out;
}

/* Both reports, JSON and text, hold what they should. */
static void expect_reports(char *out, size_t cap, const char *in_json, const char *in_text)
{
	assert_non_null(strstr(report(out, cap, true), in_json));
	assert_non_null(strstr(report(out, cap, false), in_text));
}

static void test_json_exact(void **state)
{
	static const char want[] =
		"{\"node\":{\"key\":\"" KEY("A") "\",\"tap\":\"pq0\",\"relay\":\"connected\"," VERSION_JSON ",\"udp\":null,\"relay_tcp\":null},\"peers\":["
		"{\"name\":\"bob\",\"key\":\"" KEY("B") "\",\"state\":\"established\",\"path\":\"relay\","
		"\"handshake_age_s\":12,\"rx_bytes\":1500,\"tx_bytes\":3000,\"rx_frames\":1,\"tx_frames\":2,"
		"\"dropped_frames\":5,\"rx_gso_frames\":7,\"tx_gso_frames\":9,\"migrations\":0,\"fallbacks\":0,"
		"\"rehandshakes\":0,\"rehandshake_failures\":0,\"direct_dials\":0,\"udp_attempts\":0,\"udp_validated\":0,\"udp_failures\":0,\"udp_refused\":0,\"rx_frag_frames\":0,\"tx_frag_frames\":0,\"endpoint\":null,\"transport\":null,"
		"\"path_mtu\":null,\"path_mtu_confirmed\":null,\"udp_max_frame\":null,"
		"\"last_rehandshake_age_s\":null,\"last_rehandshake_us\":null,\"direct_heard_ms\":null,\"tcp\":null},"
		"{\"name\":null,\"key\":\"" KEY("C") "\",\"state\":\"handshaking\",\"path\":\"none\","
		"\"handshake_age_s\":null,\"rx_bytes\":0,\"tx_bytes\":0,\"rx_frames\":0,\"tx_frames\":0,"
		"\"dropped_frames\":0,\"rx_gso_frames\":0,\"tx_gso_frames\":0,\"migrations\":0,\"fallbacks\":0,"
		"\"rehandshakes\":0,\"rehandshake_failures\":0,\"direct_dials\":0,\"udp_attempts\":0,\"udp_validated\":0,\"udp_failures\":0,\"udp_refused\":0,\"rx_frag_frames\":0,\"tx_frag_frames\":0,\"endpoint\":null,\"transport\":null,"
		"\"path_mtu\":null,\"path_mtu_confirmed\":null,\"udp_max_frame\":null,"
		"\"last_rehandshake_age_s\":null,\"last_rehandshake_us\":null,\"direct_heard_ms\":null,\"tcp\":null},"
		"{\"name\":\"carol\",\"key\":\"" KEY("D") "\",\"state\":\"offline\",\"path\":\"none\","
		"\"handshake_age_s\":null,\"rx_bytes\":0,\"tx_bytes\":0,\"rx_frames\":0,\"tx_frames\":0,"
		"\"dropped_frames\":0,\"rx_gso_frames\":0,\"tx_gso_frames\":0,\"migrations\":0,\"fallbacks\":0,"
		"\"rehandshakes\":0,\"rehandshake_failures\":0,\"direct_dials\":0,\"udp_attempts\":0,\"udp_validated\":0,\"udp_failures\":0,\"udp_refused\":0,\"rx_frag_frames\":0,\"tx_frag_frames\":0,\"endpoint\":null,\"transport\":null,"
		"\"path_mtu\":null,\"path_mtu_confirmed\":null,\"udp_max_frame\":null,"
		"\"last_rehandshake_age_s\":null,\"last_rehandshake_us\":null,\"direct_heard_ms\":null,\"tcp\":null}]}\n";
	char out[4096];
	long n;

	setup_node();
	n = pq_control_status(&node, true, out, sizeof(out), 112900);
	assert_true(n > 0);
	out[n] = 0;
	assert_string_equal(out, want);
	checks++;

	/* Relay down: "connecting", and the established peer is not. */
	node.relay.state = PQ_RELAY_CONNECTING;
	peers[0].online = false;
	assert_non_null(strstr(report(out, sizeof(out), true),
			       "\"relay\":\"connecting\"," VERSION_JSON ",\"udp\":null,\"relay_tcp\":null}"));
	assert_non_null(strstr(out, "\"key\":\"" KEY("B") "\",\"state\":\"offline\",\"path\":\"none\""));
	checks++;
	/* No peers at all: an empty list. */
	node.peer_count = 0;
	n = pq_control_status(&node, true, out, sizeof(out), 112900);
	assert_true(n > 0);
	out[n] = 0;
	assert_string_equal(out, "{\"node\":{\"key\":\"" KEY("A") "\",\"tap\":\"pq0\",\"relay\":\"connecting\"," VERSION_JSON ",\"udp\":null,\"relay_tcp\":null},\"peers\":[]}\n");
	checks++;
	teardown_node();
}

/* bob on a direct conn: path "direct", its endpoint, the counters. */
static void test_json_direct(void **state)
{
	static const char want[] =
		"{\"name\":\"bob\",\"key\":\"" KEY("B") "\",\"state\":\"established\",\"path\":\"direct\","
		"\"handshake_age_s\":12,\"rx_bytes\":1500,\"tx_bytes\":3000,\"rx_frames\":1,\"tx_frames\":2,"
		"\"dropped_frames\":5,\"rx_gso_frames\":7,\"tx_gso_frames\":9,\"migrations\":2,\"fallbacks\":1,"
		"\"rehandshakes\":3,\"rehandshake_failures\":3,\"direct_dials\":0,\"udp_attempts\":0,\"udp_validated\":0,\"udp_failures\":0,\"udp_refused\":0,\"rx_frag_frames\":0,\"tx_frag_frames\":0,"
		"\"endpoint\":\"192.0.2.12:7444\",\"transport\":\"tls\",\"path_mtu\":null,"
		"\"path_mtu_confirmed\":null,\"udp_max_frame\":null,\"last_rehandshake_age_s\":2,"
		"\"last_rehandshake_us\":873,\"direct_heard_ms\":1200,\"tcp\":null},";
	struct pq_dconn dc;
	char out[4096];
	long n;

	setup_node();
	memset(&dc, 0, sizeof(dc));
	assert_int_equal(pq_sockaddr_from_ip(&dc.addr, "192.0.2.12", 7444), 0);
	fixture_direct(&peers[0], &dc);
	peers[0].path.last_rehs_ms = 110000;
	peers[0].path.last_rehs_us = 873;
	peers[0].path.core.count.migrations = 2;
	peers[0].path.core.count.fallbacks = 1;
	peers[0].path.rehs_count.completed = 3;
	peers[0].path.rehs_count.mac = 1;
	peers[0].path.core.count.drops[PQ_PATH_DROP_REHS_TIMEOUT] = 1;
	peers[0].path.rehs_not_started = 1;
	dc.heard_ms = 111700;
	n = pq_control_status(&node, true, out, sizeof(out), 112900);
	assert_true(n > 0);
	out[n] = 0;
	if (!strstr(out, want))
		fail_msg("JSON lacks\n%s\nin\n%s", want, out);
	checks++;
	assert_non_null(strstr(report(out, sizeof(out), false), "  path: direct\n"));
	assert_non_null(strstr(out, "  endpoint: 192.0.2.12:7444 (tls)\n  heard on it: 1200 ms ago\n"));
	assert_non_null(strstr(out, "  direct: 2 migrations, 1 fallbacks, 3 re-handshakes (3 failed)\n"));
	checks++;
	/* The TLS conn's sizing: measured rate, watermark, the window's clamp
	 * (a conn that measured 2.5 MB/s and holds its peer to 4344 bytes). */
	{
		static struct pq_conn conn;

		memset(&conn, 0, sizeof(conn));
		conn.qs.rate = 2500000;
		conn.qs.samples = 4;
		conn.lowat = 5120;
		conn.rw.engaged = true;
		conn.rw.clamp = 4344;
		dc.conn = &conn;
		expect_reports(out, sizeof(out),
			       ",\"direct_heard_ms\":1200,\"tcp\":{\"rate\":2500000,\"lowat\":5120,"
			       "\"window_clamp\":4344}},",
			       "  heard on it: 1200 ms ago\n  tcp: drains at 20.0 Mbit/s, unsent bound "
			       "5120 B, receive window clamped to 4344 B\n");
		conn.rw.engaged = false;
		conn.lowat = 0;
		assert_non_null(strstr(report(out, sizeof(out), false),
				       "  tcp: drains at 20.0 Mbit/s, unsent bound none, receive window the "
				       "kernel's\n"));
		/* The relay link's conn: the same figures in the node's head,
		 * only while connected. */
		conn.rw.engaged = true;
		node.relay.conn = &conn;
		expect_reports(out, sizeof(out),
			       ",\"relay_tcp\":{\"rate\":2500000,\"lowat\":0,\"window_clamp\":4344}},\"peers\":[",
			       "\n  relay tcp: drains at 20.0 Mbit/s, unsent bound none, receive window "
			       "clamped to 4344 B\n");
		node.relay.state = PQ_RELAY_CONNECTING;
		assert_non_null(strstr(report(out, sizeof(out), true), ",\"relay_tcp\":null},\"peers\":["));
		assert_null(strstr(report(out, sizeof(out), false), "relay tcp:"));
		node.relay.state = PQ_RELAY_CONNECTED;
		node.relay.conn = NULL;
		dc.conn = NULL;
		checks += 7;
	}
	/* On UDP: the path MTU as probed, and the largest frame a datagram
	 * carries (1500 - 28 IPv4/UDP - 29 sealed). */
	dc.transport = PQ_PATH_UDP;
	pq_pmtu_init(&dc.pmtu, 1500, 0);
	assert_non_null(strstr(report(out, sizeof(out), false),
			       "  endpoint: 192.0.2.12:7444 (udp, path MTU 1280, probing: frames up to 1223 B, "
			       "larger TCP ones cut)\n"));
	assert_true(pq_pmtu_acked(&dc.pmtu, 1500));
	assert_non_null(strstr(report(out, sizeof(out), true),
			       "\"endpoint\":\"192.0.2.12:7444\",\"transport\":\"udp\",\"path_mtu\":1500,"
			       "\"path_mtu_confirmed\":true,\"udp_max_frame\":1443,"));
	/* The control socket sizes its answer by these (control_sock.c). */
	assert_true(strlen(out) <= PQ_NODE_STATUS_HEAD_MAX + 3 * PQ_NODE_STATUS_PEER_MAX);
	checks += 2;
	peers[0].path.core.active = PQ_PATH_VIA_RELAY;
	teardown_node();
}

static void test_text(void **state)
{
	static const char *const lines[] = {
		"node: " KEY("A") "\n",
		"  relay: connected (wss://192.0.2.1:7443/)\n",
		"\npeer: " KEY("B") "\n  name: bob\n  state: established\n  path: relay\n"
		"  latest handshake: 12 s ago\n  transfer: 1500 B received, 3000 B sent\n"
		"  frames: 1 received, 2 sent, 5 dropped\n  offload frames: 7 received, 9 sent\n",
		"\npeer: " KEY("C") "\n  state: handshaking\n  path: none\n  latest handshake: none\n",
		"\npeer: " KEY("D") "\n  name: carol\n  state: offline\n",
	};
	char out[4096];
	long n;

	setup_node();
	n = pq_control_status(&node, false, out, sizeof(out), 112900);
	assert_true(n > 0);
	out[n] = 0;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++, checks++)
		if (!strstr(out, lines[i]))
			fail_msg("text report lacks \"%s\" in:\n%s", lines[i], out);
	teardown_node();
}

static void test_too_small(void **state)
{
	char out[4096];
	long full;

	setup_node();
	full = pq_control_status(&node, true, out, sizeof(out), 112900);
	assert_true(full > 0);
	/* Every capacity up to the report's length + its NUL is refused. */
	for (size_t cap = 0; cap <= (size_t)full; cap++, checks++)
		assert_int_equal(pq_control_status(&node, true, out, cap, 112900), PQ_E_TOOBIG);
	assert_int_equal(pq_control_status(&node, true, out, (size_t)full + 1, 112900), full);
	checks++;
	teardown_node();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_exact),
		cmocka_unit_test(test_json_direct),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_too_small),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("checked: node status report %d cases\n", checks);
	return failed;
}
