/*
 * test_node_online.c - what makes a peer "online" (node/peer.c): the
 * relay's word only - PEER_ONLINE, or a message the relay delivered from
 * it. A message that came on a direct conn proves the direct path, not
 * the relay (issue 8 defect 4: the old datapath set online for those too,
 * so after a relay outage the grace-period cleanup, which waits for an
 * offline peer's keys to retire, might never run). A real loop and MAC
 * table; sealed messages from a real session with the peer's keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/util.h"
#include "node/node_int.h"
#include "node_fixture.h"

static struct pq_node node;
static struct pq_config_peer peer_cfg[2];
static struct pq_node_peer peers[2];

/* The peer's end of fixture_established's keys: a KEEPALIVE sealed by it. */
static long peer_keepalive(uint8_t *out, size_t cap)
{
	struct pq_session theirs;
	struct pq_hs_result res;
	long n;

	pq_session_init(&theirs);
	memset(&res, 0, sizeof(res));
	res.event = PQ_HS_EV_KEYS;
	res.initiator = false;
	res.confirmed = true;
	res.local_index = 9;
	res.remote_index = 7;
	memset(&res.keys, 0x42, sizeof(res.keys));
	assert_int_equal(pq_session_install(&theirs, &res, 100000), 0);
	n = pq_session_seal(&theirs, PQ_MSG_KEEPALIVE, NULL, 0, out, cap, 100100);
	pq_session_wipe(&theirs);
	return n;
}

static void test_online_only_from_relay(void **state)
{
	struct pq_l2_limits lim;
	uint8_t hash_key[PQ_L2_HASH_KEY_LEN] = { 1 };
	uint8_t msg[PQ_SEALED_MAX_LEN];
	struct pq_dconn dc;
	long n;

	fixture_node(&node, peers, peer_cfg, 2);
	assert_int_equal(pq_loop_new(&node.loop), 0);
	pq_l2_limits_default(&lim, 2);
	assert_int_equal(pq_l2_new(&node.l2, &lim, hash_key), 0);
	node.relay.state = PQ_RELAY_IDLE; /* the relay is away */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fixture_established(&peers[i]), 0);
		peers[i].online = false;
		peers[i].session.keepalive_owed = false;
		pq_timer_init(&peers[i].timer, NULL, &peers[i]);
		pq_timer_init(&peers[i].path.timer, NULL, &peers[i]);
	}
	memset(&dc, 0, sizeof(dc));
	fixture_direct(&peers[0], &dc);

	/* peers[0]: a KEEPALIVE on its direct conn (slot 0). */
	n = peer_keepalive(msg, sizeof(msg));
	assert_true(n > 0);
	assert_int_equal(pq_datapath_sealed(&peers[0], msg, (size_t)n, 0, 100200), PQ_MSG_KEEPALIVE);
	assert_false(peers[0].online);
	assert_int_equal(pq_peer_state(&peers[0], 100200), PQ_PEER_ESTABLISHED); /* via the direct path */
	/* peers[1]: the same message through the relay: online. */
	assert_int_equal(pq_datapath_sealed(&peers[1], msg, (size_t)n, PQ_PATH_VIA_RELAY, 100200),
			 PQ_MSG_KEEPALIVE);
	assert_true(peers[1].online);
	printf("checked: a direct-path message leaves a peer offline; a relay-delivered one makes it online\n");

	for (int i = 0; i < 2; i++) {
		pq_loop_timer_cancel(node.loop, &peers[i].timer);
		pq_loop_timer_cancel(node.loop, &peers[i].path.timer);
		pq_session_wipe(&peers[i].session);
	}
	pq_l2_free(node.l2);
	pq_loop_free(node.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_online_only_from_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
