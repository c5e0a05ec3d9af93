/*
 * test_metrics.c - the Prometheus text of the node (node/metrics_text.c):
 * the exposition for a fixed set of counters byte for byte (families,
 * labels, the path/state 0/1 gauges, histograms with cumulative buckets
 * and an exact _sum), the histogram's bucket choice at and around every
 * bound, and PQ_E_TOOBIG for a buffer that cannot hold the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pq_version.h"
#include "node/node_int.h"
#include "node_fixture.h"

static struct pq_node node;
static struct pq_config_peer peer_cfg[2];
static struct pq_node_peer peers[2];
static struct pq_dconn dc;
static int checks;

#define BOB "peer=\"bob\",key=\"" KEY("B") "\""
#define UNN "peer=\"CCCCCCCC\",key=\"" KEY("C") "\""

/* bob: established on a direct conn, counters; an unnamed peer offline. */
static void setup_node(void)
{
	fixture_node(&node, peers, peer_cfg, 2);
	memset(&dc, 0, sizeof(dc));
	strcpy(peer_cfg[0].name, "bob");
	strcpy(peers[0].key_b64, KEY("B"));
	assert_int_equal(fixture_established(&peers[0]), 0);
	fixture_direct(&peers[0], &dc);
	peers[0].path.core.count.migrations = 2;
	peers[0].path.core.count.fallbacks = 1;
	peers[0].path.core.count.dials = 4;
	peers[0].path.rehs_count.completed = 3;
	peers[0].path.rehs_count.mac = 1;
	peers[0].path.rehs_not_started = 1;
	strcpy(peers[1].key_b64, KEY("C"));
}

static void teardown_node(void)
{
	for (int i = 0; i < 2; i++)
		pq_session_wipe(&peers[i].session);
}

#define COUNTER(name, help, bob, unn)                                                         \
	"# HELP " name " " help "\n# TYPE " name " counter\n" name "{" BOB "} " bob "\n" name "{" UNN \
	"} " unn "\n"
#define ENUM3(name, lab, help, v1, v2, v3, b1, b2, b3, u1, u2, u3)                                   \
	"# HELP " name " " help "\n# TYPE " name " gauge\n" name "{" BOB "," lab "=\"" v1 "\"} " b1 "\n" \
	name "{" BOB "," lab "=\"" v2 "\"} " b2 "\n" name "{" BOB "," lab "=\"" v3 "\"} " b3 "\n"    \
	name "{" UNN "," lab "=\"" v1 "\"} " u1 "\n" name "{" UNN "," lab "=\"" v2 "\"} " u2 "\n"    \
	name "{" UNN "," lab "=\"" v3 "\"} " u3 "\n"
#define HIST_HEAD(name, help) "# HELP " name " " help "\n# TYPE " name " histogram\n"
#define B(name, le, n) name "_bucket{le=\"" le "\"} " n "\n"

static void test_exposition_exact(void **state)
{
	static const char want[] =
		"# HELP pqlan_build_info The build: release, git commit, protocol version.\n"
		"# TYPE pqlan_build_info gauge\n"
		"pqlan_build_info{version=\"" PQ_VERSION "\",git=\"" PQ_VERSION_GIT "\",protocol=\"1\"} 1\n"
		"# HELP pqlan_relay_connected 1 once the relay accepted our key, else 0.\n"
		"# TYPE pqlan_relay_connected gauge\npqlan_relay_connected 1\n"
		COUNTER("pqlan_peer_rx_bytes_total", "Ethernet frame bytes received from the peer.", "1500", "0")
		COUNTER("pqlan_peer_tx_bytes_total", "Ethernet frame bytes sent to the peer.", "3000", "0")
		COUNTER("pqlan_peer_rx_frames_total", "Ethernet frames received from the peer.", "1", "0")
		COUNTER("pqlan_peer_tx_frames_total", "Ethernet frames sent to the peer.", "2", "0")
		COUNTER("pqlan_peer_dropped_frames_total",
			"Messages from the peer refused, plus frames to it lost to a full queue.", "5", "0")
		COUNTER("pqlan_peer_rx_gso_frames_total",
			"Frames received from the peer with an offload header (DATA_GSO).", "7", "0")
		COUNTER("pqlan_peer_tx_gso_frames_total",
			"Frames sent to the peer with an offload header (DATA_GSO).", "9", "0")
		COUNTER("pqlan_peer_migrations_total", "Moves from the relay to a direct connection.", "2", "0")
		COUNTER("pqlan_peer_fallbacks_total", "Moves from a direct connection back to the relay.", "1", "0")
		COUNTER("pqlan_peer_rehandshakes_total", "Re-handshakes completed on direct connections.", "3", "0")
		COUNTER("pqlan_peer_rehandshake_failures_total", "Re-handshakes that failed, for any reason.", "2",
			"0")
		COUNTER("pqlan_peer_direct_dials_total", "Direct paths tried: TLS dials and UDP attempts.", "4", "0")
		COUNTER("pqlan_peer_udp_attempts_total", "UDP path attempts started by us (hole punching).", "0", "0")
		COUNTER("pqlan_peer_udp_validated_total",
			"UDP paths whose re-handshake completed (either side's attempt).", "0", "0")
		COUNTER("pqlan_peer_udp_failures_total", "UDP paths dropped before their re-handshake completed.",
			"0", "0")
		COUNTER("pqlan_peer_udp_refused_total",
			"Re-handshake datagrams refused on UDP (forged, replayed, late).", "0", "0")
		COUNTER("pqlan_peer_rx_frag_frames_total",
			"Frames received from the peer in pieces (DATA_FRAG, too large for one datagram).", "0", "0")
		COUNTER("pqlan_peer_tx_frag_frames_total",
			"Frames sent to the peer in pieces (DATA_FRAG, too large for one datagram).", "0", "0")
		ENUM3("pqlan_peer_path", "path", "1 for the path frames to the peer take now (as in pqlan status).",
		      "relay", "direct", "none", "0", "1", "0", "0", "0", "1")
		ENUM3("pqlan_peer_state", "state", "1 for the peer's state now (as in pqlan status).", "offline",
		      "handshaking", "established", "0", "0", "1", "1", "0", "0")
		HIST_HEAD("pqlan_handshake_duration_seconds", "Duration of completed handshakes.")
		B("pqlan_handshake_duration_seconds", "0.0001", "0")
		B("pqlan_handshake_duration_seconds", "0.00025", "0")
		B("pqlan_handshake_duration_seconds", "0.0005", "0")
		B("pqlan_handshake_duration_seconds", "0.001", "0")
		B("pqlan_handshake_duration_seconds", "0.0025", "0")
		B("pqlan_handshake_duration_seconds", "0.005", "0")
		B("pqlan_handshake_duration_seconds", "0.01", "1")
		B("pqlan_handshake_duration_seconds", "0.025", "1")
		B("pqlan_handshake_duration_seconds", "0.05", "2")
		B("pqlan_handshake_duration_seconds", "0.1", "2")
		B("pqlan_handshake_duration_seconds", "0.25", "2")
		B("pqlan_handshake_duration_seconds", "0.5", "2")
		B("pqlan_handshake_duration_seconds", "1", "2")
		B("pqlan_handshake_duration_seconds", "+Inf", "3")
		"pqlan_handshake_duration_seconds_sum 2.040001\n"
		"pqlan_handshake_duration_seconds_count 3\n"
		HIST_HEAD("pqlan_rehandshake_duration_seconds",
			  "Duration of completed re-handshakes on direct connections.")
		B("pqlan_rehandshake_duration_seconds", "0.0001", "0")
		B("pqlan_rehandshake_duration_seconds", "0.00025", "0")
		B("pqlan_rehandshake_duration_seconds", "0.0005", "0")
		B("pqlan_rehandshake_duration_seconds", "0.001", "0")
		B("pqlan_rehandshake_duration_seconds", "0.0025", "0")
		B("pqlan_rehandshake_duration_seconds", "0.005", "0")
		B("pqlan_rehandshake_duration_seconds", "0.01", "0")
		B("pqlan_rehandshake_duration_seconds", "0.025", "0")
		B("pqlan_rehandshake_duration_seconds", "0.05", "0")
		B("pqlan_rehandshake_duration_seconds", "0.1", "0")
		B("pqlan_rehandshake_duration_seconds", "0.25", "0")
		B("pqlan_rehandshake_duration_seconds", "0.5", "0")
		B("pqlan_rehandshake_duration_seconds", "1", "0")
		B("pqlan_rehandshake_duration_seconds", "+Inf", "0")
		"pqlan_rehandshake_duration_seconds_sum 0.000000\n"
		"pqlan_rehandshake_duration_seconds_count 0\n";
	struct pq_hist hs;
	static char out[16384];
	long n;

	setup_node();
	memset(&hs, 0, sizeof(hs));
	pq_hist_observe(&hs, 10000);   /* exactly on the 0.01 bound: le includes it */
	pq_hist_observe(&hs, 30001);   /* 0.05 */
	pq_hist_observe(&hs, 2000000); /* over 1 s: only +Inf */
	n = pq_metrics_render(&node, &hs, NULL, out, sizeof(out), 112900);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "got:\n%s", out);
	assert_string_equal(out, want);
	checks++;
	teardown_node();
}

/* Every bound: a value on it lands in its bucket, one µs more in the next. */
static void test_hist_buckets(void **state)
{
	for (unsigned i = 0; i < PQ_HIST_BUCKETS; i++) {
		struct pq_hist h;
		uint64_t b = pq_hist_bound_us(i);

		memset(&h, 0, sizeof(h));
		pq_hist_observe(&h, b);
		assert_int_equal(h.bucket[i], 1);
		pq_hist_observe(&h, b + 1);
		assert_int_equal(h.bucket[i + 1], 1);
		if (i == 0) {
			pq_hist_observe(&h, 0);
			assert_int_equal(h.bucket[0], 2);
		} else {
			assert_true(pq_hist_bound_us(i - 1) < b); /* bounds increase */
			pq_hist_observe(&h, pq_hist_bound_us(i - 1) + 1);
			assert_int_equal(h.bucket[i], 2);
		}
		assert_int_equal(h.count, 3);
		checks++;
	}
	assert_int_equal(pq_hist_bound_us(PQ_HIST_BUCKETS), UINT64_MAX);
}

static void test_too_small(void **state)
{
	static char out[16384];
	long full;

	setup_node();
	full = pq_metrics_render(&node, NULL, NULL, out, sizeof(out), 112900);
	assert_true(full > 0);
	for (size_t cap = 0; cap <= (size_t)full; cap += 97, checks++)
		assert_int_equal(pq_metrics_render(&node, NULL, NULL, out, cap, 112900), PQ_E_TOOBIG);
	assert_int_equal(pq_metrics_render(&node, NULL, NULL, out, (size_t)full, 112900), PQ_E_TOOBIG);
	assert_int_equal(pq_metrics_render(&node, NULL, NULL, out, (size_t)full + 1, 112900), full);
	checks += 2;
	teardown_node();
}

/* The observe hooks are no-ops without a metrics listener. */
static void test_observe_unconfigured(void **state)
{
	setup_node();
	pq_metrics_observe_handshake(&node, 5);
	pq_metrics_observe_rehandshake(&node, 5);
	pq_metrics_observe_rehandshake(NULL, 5);
	assert_null(node.metrics);
	checks++;
	teardown_node();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposition_exact),
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_observe_unconfigured),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("checked: node metrics exposition %d cases\n", checks);
	return failed;
}
