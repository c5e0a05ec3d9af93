/*
 * test_udp_rehs_in.c - which re-handshake datagrams the node's UDP socket
 * lets reach a run (node/udp_path.c rehs_in), through a real socket: the
 * node binds 127.0.0.1 with pq_udp_path_open and its loop reads what two
 * local sockets send, as it would read the network.
 *
 * A REQUEST carries no MAC and names a session id anyone on the path saw,
 * so before a datagram costs a MAC and a copy of the run:
 *   - a proven conn takes runs only from its own address (a flood from
 *     anywhere else is dropped before it uses the peer's budget);
 *   - a datagram no run can use (a COMPLETE with no run waiting for one,
 *     a RESPONSE to an attempt we did not start) is dropped before the
 *     budget too;
 *   - at most PQ_NODE_UDP_REHS_PER_S a second are looked at per peer, so
 *     a flood naming one peer's session leaves another peer's runs alone;
 *   - the two copies of the COMPLETE that ended a run go uncounted, a
 *     third is a replay; a REQUEST seen again gets the same answer again.
 *   - at most PQ_NODE_UDP_REHS_NODE_PER_S a second for all peers
 *     together, so floods naming many sessions at once bound the CPU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "udp_fixture.h"
#include "rehs_peer.h"
#include "proto/msg_rehs.h"
#include "proto/types.h"
#include "util/clock.h"

/* One peer more than the node's cap takes at the per-peer rate. */
#define PEERS (int)(PQ_NODE_UDP_REHS_NODE_PER_S / PQ_NODE_UDP_REHS_PER_S + 1)
#define FLOOD_CHUNK 50 /* datagrams sent between two reads: the socket's buffer holds them */

static const uint8_t attempt_a[PQ_REHS_UDP_ID_LEN] = { 0xa1 };

/* Node A with a UDP socket on 127.0.0.1 and a loop, PEERS peers with keys
 * (indices 7, 17, 27, ...); the peers' datagrams come from two local sockets,
 * near (the one a run is proven from) and far (anyone else). Static: a
 * node is large. */
static struct {
	struct pq_node node;
	struct pq_node_peer peer[PEERS];
	struct pq_config_peer cfg[PEERS];
	struct udp_fixture udp;
	int near, far;
} U;

/* Confirmed keys for p, made a second ago on the node's clock. */
static int establish(struct pq_node_peer *p, uint32_t local_index, uint8_t key_byte)
{
	struct pq_hs_result res;

	memset(&res, 0, sizeof(res));
	res.event = PQ_HS_EV_KEYS;
	res.initiator = true;
	res.confirmed = true;
	res.local_index = local_index;
	res.remote_index = local_index + 1;
	memset(&res.keys, key_byte, sizeof(res.keys));
	p->online = true;
	p->handshake_ms = pq_mono_ms() - 1000;
	return pq_session_install(&p->session, &res, p->handshake_ms);
}

static int setup(void **state)
{
	(void)state;
	fixture_node(&U.node, U.peer, U.cfg, PEERS);
	U.node.cfg.retry_interval = 30;
	U.node.cfg.reauth_interval = 600;
	U.node.cfg.keepalive_udp = 25;
	if (udp_fixture_open(&U.udp, &U.node))
		return -1;
	for (int i = 0; i < PEERS; i++) {
		pq_path_exec_peer_init(&U.peer[i]);
		if (establish(&U.peer[i], 7 + 10 * (uint32_t)i, (uint8_t)(0x42 + i)))
			return -1;
		/* The core accepts direct conns once it knows the keys. */
		pq_path_exec_keys(&U.peer[i], pq_mono_ms());
		if (!U.peer[i].path.core.keys)
			return -1;
	}
	U.near = udp_fixture_socket();
	U.far = udp_fixture_socket();
	return U.near < 0 || U.far < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < PEERS; i++) {
		pq_path_exec_reset(&U.peer[i], pq_mono_ms());
		pq_loop_timer_cancel(U.node.loop, &U.peer[i].path.timer);
		pq_session_wipe(&U.peer[i].session);
	}
	pq_dconn_free_all(&U.node);
	udp_fixture_close(&U.udp);
	close(U.near);
	close(U.far);
	return 0;
}

static void pump(void)
{
	udp_fixture_pump(&U.udp);
}

static void send_from(int fd, const uint8_t *msg, size_t len)
{
	udp_fixture_send(&U.udp, fd, msg, len);
}

/* The peer's attempt id came (its PUNCH): p's newest responder conn. */
static struct pq_dconn *punched(struct pq_node_peer *p)
{
	struct pq_dconn *dc = NULL;

	pq_udp_path_punch_in(p, attempt_a, PQ_REHS_UDP_ID_LEN, pq_mono_ms());
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		struct pq_dconn *c = p->path.conn[k];

		if (c && c->transport == PQ_PATH_UDP && !c->dialled &&
		    (!dc || p->path.core.conn[k].seq > p->path.core.conn[dc->slot].seq))
			dc = c;
	}
	assert_non_null(dc);
	return dc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

/* msg count times from fd, all read. */
static void send_times(int fd, const uint8_t *msg, size_t len, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		send_from(fd, msg, len);
		if ((i + 1) % FLOOD_CHUNK == 0)
			pump();
	}
	pump();
}

/* count forged REQUESTs naming p's session, from fd, all read. */
static void flood_requests(struct pq_node_peer *p, int fd, uint32_t count)
{
	uint8_t m[PQ_REHS_MAX_MSG_LEN];

	for (uint32_t i = 0; i < count; i++) {
		send_from(fd, m, forged_request(m, p->session.current->session_id, i, pq_wall_ms()));
		if ((i + 1) % FLOOD_CHUNK == 0)
			pump();
	}
	pump();
}

/* p's attempt proven from the near socket by the peer's own run. */
static struct pq_dconn *proven(struct pq_node_peer *p, struct their_run *t)
{
	struct pq_dconn *dc = punched(p);

	their_request(t, p->session.current, attempt_a);
	send_from(U.near, t->msg, t->len);
	pump();
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	their_complete(t, dc);
	send_from(U.near, t->msg, t->len);
	pump();
	assert_true(pq_dconn_usable(dc));
	assert_int_equal(p->path.rehs_count.completed, 1);
	return dc;
}

/* 600 forged REQUESTs for peer 0 within a second: the first 200 are
 * looked at (each replaces the run: no MAC to refuse it by), of the rest
 * at least 200 are dropped (600 in under a second span two of the
 * budget's seconds at most); peer 1's own run is answered meanwhile. */
static void test_budget_per_peer(void **state)
{
	struct pq_node_peer *flooded = &U.peer[0], *other = &U.peer[1];
	struct pq_dconn *dc0 = punched(flooded), *dc1 = punched(other);
	uint64_t start_ms = pq_mono_ms();
	struct their_run t;

	(void)state;
	flood_requests(flooded, U.far, PQ_NODE_UDP_REHS_PER_S);
	assert_int_equal(U.node.udp.drops, 0);
	assert_int_equal(pq_rehs_state(&dc0->rehs), PQ_REHS_WAIT_COMPLETE);
	flood_requests(flooded, U.far, 2 * PQ_NODE_UDP_REHS_PER_S);
	if (pq_mono_ms() - start_ms >= 1000)
		fail_msg("600 datagrams took %llu ms: over the one second this test needs",
			 (unsigned long long)(pq_mono_ms() - start_ms));
	assert_in_range(U.node.udp.drops, PQ_NODE_UDP_REHS_PER_S, 2 * PQ_NODE_UDP_REHS_PER_S);

	their_request(&t, other->session.current, attempt_a);
	send_from(U.near, t.msg, t.len);
	pump();
	assert_true(dc1->rehs_live);
	assert_int_equal(pq_rehs_state(&dc1->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(dc1->last_in_len, t.len);
	assert_memory_equal(dc1->last_in, t.msg, t.len);
	assert_int_equal(other->path.udp_refused, 0);
}

/* Every peer's full allowance of forged REQUESTs within one second of
 * the node's clock: the node's cap takes PQ_NODE_UDP_REHS_NODE_PER_S of
 * them and drops the rest (no peer is over its own allowance). */
static void test_node_cap(void **state)
{
	uint64_t start_ms;

	(void)state;
	for (int i = 0; i < PEERS; i++)
		(void)punched(&U.peer[i]);
	/* Just after a second begins, so the flood stays inside it. */
	while (pq_mono_ms() % 1000 > 50)
		sleep_ms(1);
	start_ms = pq_mono_ms();
	for (int i = 0; i < PEERS; i++)
		flood_requests(&U.peer[i], U.far, PQ_NODE_UDP_REHS_PER_S);
	if (pq_mono_ms() / 1000 != start_ms / 1000)
		fail_msg("%d datagrams took %llu ms from %llu ms into a second: over the second this test needs",
			 PEERS * (int)PQ_NODE_UDP_REHS_PER_S, (unsigned long long)(pq_mono_ms() - start_ms),
			 (unsigned long long)(start_ms % 1000));
	print_message("flood of %d took %llu ms\n", PEERS * (int)PQ_NODE_UDP_REHS_PER_S, (unsigned long long)(pq_mono_ms() - start_ms));
	assert_int_equal(U.node.udp.drops, PEERS * PQ_NODE_UDP_REHS_PER_S - PQ_NODE_UDP_REHS_NODE_PER_S);
}

/* A proven conn: more REQUESTs than the budget from another address are
 * all dropped, and the peer's re-authentication from the conn's own
 * address in the same second still gets its run. */
static void test_proven_conn_takes_its_address_only(void **state)
{
	struct pq_node_peer *p = &U.peer[0];
	struct their_run t;
	struct pq_dconn *dc = proven(p, &t);
	uint64_t drops = U.node.udp.drops;

	(void)state;
	flood_requests(p, U.far, PQ_NODE_UDP_REHS_PER_S + 100);
	assert_int_equal(U.node.udp.drops - drops, PQ_NODE_UDP_REHS_PER_S + 100);
	assert_false(dc->rehs_live); /* nothing replaced the completed run */

	their_request(&t, p->session.current, attempt_a);
	send_from(U.near, t.msg, t.len);
	pump();
	assert_true(dc->rehs_live);
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_memory_equal(dc->last_in, t.msg, t.len);
}

/* Datagrams no run can use cost nothing of the budget: COMPLETEs while
 * no run waits for one, RESPONSEs to an attempt we did not start. */
static void test_useless_types_dropped_first(void **state)
{
	struct pq_node_peer *p = &U.peer[0];
	struct pq_dconn *dc = punched(p);
	struct pq_rehs_complete c;
	struct pq_rehs_response r;
	uint8_t m[PQ_REHS_MAX_MSG_LEN];
	size_t len;
	struct their_run t;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	memcpy(c.session_id, p->session.current->session_id, PQ_SESSION_ID_LEN);
	assert_int_equal(pq_rehs_complete_encode(m, sizeof(m), &len, &c), 0);
	send_times(U.far, m, len, PQ_NODE_UDP_REHS_PER_S + 100);
	memset(&r, 0x5a, sizeof(r));
	memcpy(r.session_id, p->session.current->session_id, PQ_SESSION_ID_LEN);
	assert_int_equal(pq_rehs_response_encode(m, sizeof(m), &len, &r), 0);
	send_times(U.far, m, len, PQ_NODE_UDP_REHS_PER_S + 100);
	assert_int_equal(U.node.udp.drops, 2 * (PQ_NODE_UDP_REHS_PER_S + 100));
	assert_int_equal(p->path.udp_refused, 0); /* no MAC was checked */
	assert_false(dc->rehs_live);

	their_request(&t, p->session.current, attempt_a);
	send_from(U.near, t.msg, t.len);
	pump();
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
}

/* The peer sends its COMPLETE three times against loss: the two copies
 * after the one that proved the conn are let go, uncounted; a fourth is
 * a replay, dropped. */
static void test_complete_copies(void **state)
{
	struct pq_node_peer *p = &U.peer[0];
	struct their_run t;
	struct pq_dconn *dc = proven(p, &t);

	(void)state;
	send_from(U.near, t.msg, t.len);
	send_from(U.near, t.msg, t.len);
	pump();
	assert_int_equal(U.node.udp.drops, 0);
	assert_int_equal(p->path.udp_refused, 0);
	send_from(U.near, t.msg, t.len);
	pump();
	assert_int_equal(U.node.udp.drops, 1);
	assert_true(pq_dconn_usable(dc));
	assert_int_equal(p->path.rehs_count.completed, 1);
}

/* Our RESPONSE was lost: the peer's REQUEST again gets the same answer,
 * sent where the REQUEST came from, and the run is not replaced. */
static void test_request_again_same_answer(void **state)
{
	struct pq_node_peer *p = &U.peer[0];
	struct pq_dconn *dc = punched(p);
	uint8_t first[PQ_REHS_MAX_MSG_LEN], got[PQ_REHS_MAX_MSG_LEN + 1];
	size_t first_len;
	struct their_run t;

	(void)state;
	their_request(&t, p->session.current, attempt_a);
	send_from(U.near, t.msg, t.len);
	pump();
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	memcpy(first, dc->last_out, first_len = dc->last_out_len);
	(void)udp_fixture_last_received(U.near, got, sizeof(got));

	send_from(U.near, t.msg, t.len);
	pump();
	assert_int_equal(udp_fixture_last_received(U.near, got, sizeof(got)), first_len);
	assert_memory_equal(got, first, first_len);
	assert_int_equal(p->path.udp_refused, 0);
	assert_int_equal(p->path.rehs_count.replay, 0);

	/* and the run it answered is the one that completes */
	their_complete(&t, dc);
	send_from(U.near, t.msg, t.len);
	pump();
	assert_true(pq_dconn_usable(dc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_budget_per_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proven_conn_takes_its_address_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_useless_types_dropped_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_complete_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_again_same_answer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
