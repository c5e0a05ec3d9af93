/*
 * test_dconn.c - what a direct conn's message does to the path core's
 * view of that conn (node/dconn.c): a handshake message that does not
 * check out is not a sign of life (a TLS conn is pinned to the peer's
 * key, but a handshake message on it is not sealed), and the conn's
 * probe state is left as it was.
 *
 * And the re-handshake datagrams of a UDP attempt we answer for
 * (pq_dconn_udp_rehs, the attempt from pq_udp_path_punch_in): a REQUEST
 * that replaces the run in progress and is then refused is undone, run,
 * key index and start time (a refused REQUEST naming the next keys used
 * to leave the restored run reporting their index); a responder run
 * given up before its COMPLETE - replaced by a newer REQUEST, its
 * attempt timed out, its REQUEST taken by the peer's next attempt -
 * takes its two challenge-cache entries with it, so forged REQUESTs do
 * not lock the peer's real runs out of the session's cache; and a run
 * whose REQUEST a PUNCH would take is given up only once the PUNCH's conn
 * was accepted (a refused one leaves a proven conn's re-authentication
 * to complete). The peer's side is a real run under the same keys;
 * nothing goes on the wire (the peer has no UDP candidates).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "node_fixture.h"
#include "rehs_peer.h"
#include "proto/msg_handshake.h"
#include "proto/msg_rehs.h"
#include "proto/types.h"
#include "util/clock.h"

static void test_bad_handshake_not_alive(void **state)
{
	static struct pq_node node;
	struct pq_node_peer peer;
	struct pq_config_peer cfg;
	struct pq_dconn dc;
	uint8_t msg[64];
	const uint8_t types[] = { PQ_MSG_HS_INIT, PQ_MSG_HS_RESP, PQ_MSG_HS_FINISH };

	(void)state;
	fixture_node(&node, &peer, &cfg, 1);
	memset(&dc, 0, sizeof(dc));
	fixture_direct(&peer, &dc);
	peer.path.core.conn[0].last_rx_ms = 1000;
	peer.path.core.conn[0].unanswered_ms = 4000;
	for (size_t i = 0; i < sizeof(types); i++) {
		memset(msg, 0xa5, sizeof(msg));
		msg[0] = types[i];
		msg[1] = PQ_HS_VERSION; /* past the version check, into the decoder */
		pq_dconn_message(&dc, msg, sizeof(msg), 5000 + i);
		assert_int_equal(peer.path.core.conn[0].last_rx_ms, 1000);
		assert_int_equal(peer.path.core.conn[0].unanswered_ms, 4000);
	}
	/* a sealed frame that does not open is not one either */
	msg[0] = PQ_MSG_DATA;
	pq_dconn_message(&dc, msg, sizeof(msg), 6000);
	assert_int_equal(peer.path.core.conn[0].last_rx_ms, 1000);
}

/* ---- UDP re-handshake datagrams ---- */

#define T0 101000u /* the node's clock (ms) at the PUNCH; the keys are from 100 000 */
#define SLOTS PQ_CHALLENGE_CACHE_SLOTS

static const uint8_t attempt_a[PQ_REHS_UDP_ID_LEN] = { 0xa1 };
static const uint8_t attempt_b[PQ_REHS_UDP_ID_LEN] = { 0xb2 };

/* Node A (a UDP socket; a loop for the timers the conns arm, never run)
 * and one peer with keys: the current ones (index 7, fixture_established)
 * and a rekey's, not yet confirmed (index 8, the session's next).
 * Static: a node is large. */
static struct {
	struct pq_node node;
	struct pq_node_peer peer;
	struct pq_config_peer cfg;
	struct pq_sockaddr from; /* where the peer's datagrams come from */
} U;

static int install_next(struct pq_node_peer *p)
{
	struct pq_hs_result res;

	memset(&res, 0, sizeof(res));
	res.event = PQ_HS_EV_KEYS;
	res.initiator = true;
	res.confirmed = false;
	res.local_index = 8;
	res.remote_index = 10;
	memset(&res.keys, 0x43, sizeof(res.keys));
	return pq_session_install(&p->session, &res, 100500);
}

static int udp_setup(void **state)
{
	struct pq_path_config pc = { .retry_interval_ms = 30000, .reauth_interval_ms = 600000 };

	(void)state;
	fixture_node(&U.node, &U.peer, &U.cfg, 1);
	if (pq_loop_new(&U.node.loop) || fixture_established(&U.peer) || install_next(&U.peer) ||
	    pq_sockaddr_from_ip(&U.from, "192.0.2.7", 40000))
		return -1;
	/* Only for pq_udp_path_punch_in's "have a socket": nothing is sent. */
	U.node.udp.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	pq_path_init(&U.peer.path.core, &pc);
	pq_challenge_cache_init(&U.peer.path.cache);
	pq_timer_init(&U.peer.path.timer, NULL, &U.peer);
	/* The core accepts direct conns once it knows the keys. */
	pq_path_exec_keys(&U.peer, T0);
	return U.node.udp.fd < 0 || !U.peer.path.core.keys ? -1 : 0;
}

static int udp_teardown(void **state)
{
	(void)state;
	pq_path_exec_reset(&U.peer, T0); /* every conn detached and freed (UDP) */
	pq_dconn_free_all(&U.node);
	pq_session_wipe(&U.peer.session);
	close(U.node.udp.fd);
	pq_loop_free(U.node.loop);
	return 0;
}

/* The peer's attempt id came (its PUNCH): our responder conn for it,
 * the newest, as udp_path.c's rehs_target picks it. */
static struct pq_dconn *punched(const uint8_t id[PQ_REHS_UDP_ID_LEN], uint64_t now_ms)
{
	struct pq_dconn *dc = NULL;

	pq_udp_path_punch_in(&U.peer, id, PQ_REHS_UDP_ID_LEN, now_ms);
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		struct pq_dconn *c = U.peer.path.conn[k];

		if (c && c->transport == PQ_PATH_UDP && !c->dialled &&
		    (!dc || U.peer.path.core.conn[k].seq > U.peer.path.core.conn[dc->slot].seq))
			dc = c;
	}
	assert_non_null(dc);
	return dc;
}

static void udp_in(struct pq_dconn *dc, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	pq_dconn_udp_rehs(dc, &U.from, msg, len, now_ms);
}

static size_t cache_room(void)
{
	return pq_challenge_cache_room(&U.peer.path.cache, pq_wall_ms());
}

/* dc's first proof completed, under the keys of index: the core's view. */
static void assert_proven(const struct pq_dconn *dc, uint32_t index)
{
	assert_true(pq_dconn_usable(dc));
	assert_int_equal(U.peer.path.core.conn[dc->slot].key_index, index);
	assert_int_equal(U.peer.path.rehs_count.completed, 1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

/* A run waits for its COMPLETE; a REQUEST naming the next keys (index 8),
 * stamped too long ago, replaces it and is refused. The run goes on as it
 * was: the COMPLETE proves the conn under index 7, the run's time counts
 * from the first REQUEST, and the cache still holds that REQUEST's
 * challenge (a replay of it is refused). */
static void test_refused_request_keeps_run(void **state)
{
	const struct pq_keypair *cur = U.peer.session.current, *next = U.peer.session.next;
	struct pq_dconn *dc = punched(attempt_a, T0);
	struct their_run t;
	uint8_t stale[PQ_REHS_MAX_MSG_LEN], first[PQ_REHS_MAX_MSG_LEN];
	size_t lstale, lfirst;
	uint64_t answered_us, before_us;

	(void)state;
	assert_non_null(next);
	assert_int_not_equal(next->local_index, cur->local_index);
	their_request(&t, cur, attempt_a);
	memcpy(first, t.msg, lfirst = t.len);
	udp_in(dc, t.msg, t.len, T0 + 1);
	answered_us = pq_mono_us(); /* the run started before this */
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);

	/* Later (so a start time taken now would differ by 20 ms at least). */
	sleep_ms(20);
	lstale = forged_request(stale, next->session_id, 1, pq_wall_ms() - PQ_REHS_SKEW_MS - 1000);
	udp_in(dc, stale, lstale, T0 + 2);
	assert_int_equal(U.peer.path.udp_refused, 1);
	assert_int_equal(U.peer.path.rehs_count.time, 0); /* a refusal is not counted */

	their_complete(&t, dc);
	before_us = pq_mono_us();
	udp_in(dc, t.msg, t.len, T0 + 3);
	assert_proven(dc, cur->local_index);
	assert_true(U.peer.path.last_rehs_us >= before_us - answered_us);

	udp_in(dc, first, lfirst, T0 + 4);
	assert_int_equal(U.peer.path.udp_refused, 2);
	assert_int_equal(U.peer.path.rehs_count.replay, 0); /* undone too */
	assert_false(dc->rehs_live);
}

/* Twice the cache's size of forged REQUESTs on an unproven attempt, each
 * answered and replaced by the next: only the last run's two entries
 * stay (each used to hold two for 30 s; 32 runs filled the cache and the
 * peer's real runs were refused). The peer's own run then proves the
 * conn. */
static void test_forged_requests_leave_cache(void **state)
{
	const struct pq_keypair *cur = U.peer.session.current;
	struct pq_dconn *dc = punched(attempt_a, T0);
	struct their_run t;
	uint8_t m[PQ_REHS_MAX_MSG_LEN];

	(void)state;
	for (uint32_t i = 0; i < 2 * SLOTS; i++) {
		size_t len = forged_request(m, cur->session_id, i, pq_wall_ms());

		udp_in(dc, m, len, T0 + 1);
	}
	assert_int_equal(U.peer.path.udp_refused, 0);
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(cache_room(), SLOTS - 2);

	their_request(&t, cur, attempt_a);
	udp_in(dc, t.msg, t.len, T0 + 2);
	assert_int_equal(U.peer.path.udp_refused, 0);
	their_complete(&t, dc);
	udp_in(dc, t.msg, t.len, T0 + 3);
	assert_proven(dc, cur->local_index);
}

/* An attempt whose forged REQUEST was answered and never completed: its
 * 5 s run out, the core drops it, and the run's entries go with it. */
static void test_timed_out_attempt_leaves_cache(void **state)
{
	struct pq_dconn *dc = punched(attempt_a, T0);
	uint8_t m[PQ_REHS_MAX_MSG_LEN];
	size_t len = forged_request(m, U.peer.session.current->session_id, 1, pq_wall_ms());

	(void)state;
	udp_in(dc, m, len, T0 + 1);
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(cache_room(), SLOTS - 2);

	pq_path_exec_simple(&U.peer, PQ_PATH_EV_TIMER, 0, T0 + PQ_PATH_REHS_TIMEOUT_MS);
	assert_int_equal(U.peer.path.core.count.drops[PQ_PATH_DROP_REHS_TIMEOUT], 1);
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		assert_null(U.peer.path.conn[k]); /* dc is freed */
	assert_int_equal(cache_room(), SLOTS);
}

/* The peer's next attempt (b): its REQUEST comes before its PUNCH and the
 * older conn (a) answers it, with a's binding. The PUNCH takes the
 * REQUEST back for the new conn: the older run's two entries go, the new
 * run records the challenge again (else: a replay, refused) and the
 * peer's COMPLETE, bound to b, proves the new conn. */
static void test_overtaking_request_moves_entries(void **state)
{
	const struct pq_keypair *cur = U.peer.session.current;
	struct pq_dconn *dc = punched(attempt_a, T0);
	struct their_run t;

	(void)state;
	their_request(&t, cur, attempt_b);
	udp_in(dc, t.msg, t.len, T0 + 1);
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(cache_room(), SLOTS - 2);

	dc = punched(attempt_b, T0 + 2); /* the older conn is freed */
	assert_int_equal(U.peer.path.udp_refused, 0);
	assert_true(dc->rehs_live);
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(cache_room(), SLOTS - 2);

	their_complete(&t, dc);
	udp_in(dc, t.msg, t.len, T0 + 3);
	assert_proven(dc, cur->local_index);
}

/* Conn a proven by the peer's run, then the peer's next REQUEST (a run
 * for attempt id) answered on it: a waits for that COMPLETE. *room: the
 * cache's room before that REQUEST. */
static struct pq_dconn *proven_then_request(struct their_run *t, const uint8_t id[PQ_REHS_UDP_ID_LEN],
					    size_t *room)
{
	const struct pq_keypair *cur = U.peer.session.current;
	struct pq_dconn *dc = punched(attempt_a, T0);
	struct their_run proof;

	their_request(&proof, cur, attempt_a);
	udp_in(dc, proof.msg, proof.len, T0 + 1);
	their_complete(&proof, dc);
	udp_in(dc, proof.msg, proof.len, T0 + 2);
	assert_proven(dc, cur->local_index);

	*room = cache_room();
	their_request(t, cur, id);
	udp_in(dc, t->msg, t->len, T0 + 3);
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(cache_room(), *room - 2);
	return dc;
}

/* As above, but the older conn (a) is proven, so the PUNCH leaves it
 * open: once the new conn (b) is accepted, a's run is given up (its two
 * entries go, b's run records the challenge again) and b takes over. */
static void test_overtaking_request_leaves_proven_conn(void **state)
{
	struct their_run t;
	size_t room;
	struct pq_dconn *dc = proven_then_request(&t, attempt_b, &room), *old = dc;

	(void)state;
	dc = punched(attempt_b, T0 + 4);
	assert_ptr_not_equal(dc, old);
	assert_ptr_equal(U.peer.path.conn[old->slot], old);
	assert_false(old->rehs_live);
	assert_int_equal(old->last_in_len, 0);
	assert_true(dc->rehs_live);
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(cache_room(), room - 2);

	their_complete(&t, dc);
	udp_in(dc, t.msg, t.len, T0 + 5);
	assert_int_equal(U.peer.path.udp_refused, 0);
	assert_int_equal(U.peer.path.rehs_count.completed, 2);
	assert_true(pq_dconn_usable(dc));
}

/* The peer's TLS conns, accepted as tls_path.c accepts them (no
 * transport under them: nothing is sent, the teardown frees them), until
 * the path core has no slot left for another conn. */
static void fill_slots_with_tls(uint64_t now_ms)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		struct pq_dconn *dc;

		if (U.peer.path.conn[k])
			continue;
		assert_int_equal(pq_dconn_new(&U.node, NULL, PQ_PATH_TLS, false, &dc), 0);
		dc->open = true;
		assert_true(pq_path_exec_accept(&U.peer, dc, now_ms) >= 0);
	}
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		assert_non_null(U.peer.path.conn[k]);
}

/* A proven conn (a) answered the peer's re-authentication and waits for
 * its COMPLETE when a PUNCH (b) comes that the core refuses (no slot
 * left): the REQUEST is not taken from a (no conn to answer it on), so
 * the run is still waiting, its two entries still in the cache, and the
 * COMPLETE re-authenticates a. (The REQUEST used to be taken, and a's
 * run given up, before the accept.) */
static void test_refused_punch_keeps_reauth(void **state)
{
	struct their_run reauth;
	size_t room;
	struct pq_dconn *dc = proven_then_request(&reauth, attempt_a, &room);

	(void)state;
	fill_slots_with_tls(T0 + 4);
	pq_udp_path_punch_in(&U.peer, attempt_b, sizeof(attempt_b), T0 + 5);
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) /* no slot: b was refused */
		assert_true(U.peer.path.conn[k] == dc || U.peer.path.conn[k]->transport == PQ_PATH_TLS);
	assert_true(dc->rehs_live);
	assert_int_equal(pq_rehs_state(&dc->rehs), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(cache_room(), room - 2);

	their_complete(&reauth, dc);
	udp_in(dc, reauth.msg, reauth.len, T0 + 6);
	assert_int_equal(U.peer.path.udp_refused, 0);
	assert_int_equal(U.peer.path.rehs_count.completed, 2);
	assert_false(dc->rehs_live);
	assert_true(pq_dconn_usable(dc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_handshake_not_alive),
		cmocka_unit_test_setup_teardown(test_refused_request_keeps_run, udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_forged_requests_leave_cache, udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_timed_out_attempt_leaves_cache, udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_overtaking_request_moves_entries, udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_overtaking_request_leaves_proven_conn, udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_refused_punch_keeps_reauth, udp_setup, udp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
