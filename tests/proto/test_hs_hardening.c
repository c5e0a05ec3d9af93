/*
 * test_hs_hardening.c - the handshake's bounds against unwanted traffic
 * and stale secrets (src/proto/handshake.c, hs_responder.c; PROTOCOL
 * §4.4), under a fake clock with deterministic randomness:
 *   - HS_RESP with no pending initiation, and a flood of HS_RESP for a
 *     pending one: past PQ_HS_RESP_TRIES only a counter compare runs (no
 *     signature check, no decaps: drop_signature / drop_mac stay still);
 *   - our pending initiation's ephemeral secrets are zero once
 *     pq_hs_expire runs past their lifetime (the node's 1 s housekeeping
 *     tick: wiped within PQ_HS_TIMEOUT_MS + 1 s), for any of several peers;
 *   - an HS_INIT stamped more than 5 min ahead of the responder's clock is
 *     refused (else it locks out the peer's later, correctly stamped
 *     initiations), a peer whose clock is behind still gets in, and an
 *     initiator whose clock was set back starts stamping from now again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proto/hs_fixture.h"
#include "testutil.h"

#define T0 1700000000000ULL          /* a Unix time in ms */
#define YEAR_MS (365ULL * 86400 * 1000)
#define TICK_MS 1000                 /* the node's housekeeping period */

static struct fx_node *node_new(uint8_t seed)
{
	struct fx_node *n = calloc(1, sizeof(*n));

	assert_non_null(n);
	assert_int_equal(fx_node_init(n, seed), 0);
	return n;
}

static void node_del(struct fx_node *n)
{
	fx_node_free(n);
	free(n);
}

static size_t pending_list_len(const struct pq_hs *hs)
{
	size_t n = 0;

	for (const struct pq_hs_peer *p = hs->pending_peers; p; p = p->pending_next)
		n++;
	return n;
}

static bool in_pending_list(const struct pq_hs *hs, const struct pq_hs_peer *peer)
{
	for (const struct pq_hs_peer *p = hs->pending_peers; p; p = p->pending_next)
		if (p == peer)
			return true;
	return false;
}

/* a initiates to b (slot 0 each way) at now; HS_INIT into init, b's
 * HS_RESP into resp. */
static void init_and_resp(struct fx_node *a, struct fx_node *b, uint64_t now, uint8_t *init, uint8_t *resp)
{
	struct pq_hs_result res;

	assert_int_equal(pq_hs_initiate(&a->hs, &a->peers[0], now, now, init, PQ_HS_INIT_LEN), PQ_HS_INIT_LEN);
	assert_int_equal(fx_deliver(b, a, init, PQ_HS_INIT_LEN, now, resp, PQ_HS_RESP_LEN, &res), PQ_HS_RESP_LEN);
}

/* An HS_RESP for no pending initiation (none started, or one already
 * answered) is refused by the index check: nothing is verified. */
static void test_resp_without_pending(void **state)
{
	struct fx_node *a = node_new(1), *b = node_new(2);
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
	struct pq_hs_result res;

	(void)state;
	fx_allow(a, b->pub, T0);
	fx_allow(b, a->pub, T0);
	init_and_resp(a, b, T0, init, resp);
	/* Answered: the pending is gone, so the same HS_RESP again ... */
	assert_int_equal(fx_deliver(a, b, resp, sizeof(resp), T0, fin, sizeof(fin), &res), PQ_HS_FINISH_LEN);
	for (int i = 0; i < 100; i++)
		assert_int_equal(fx_deliver(a, b, resp, sizeof(resp), T0 + 1, fin, sizeof(fin), &res),
				 PQ_E_STATE);
	assert_int_equal(a->hs.stats.drop_unexpected, 100);
	assert_int_equal(a->hs.stats.drop_signature, 0);
	assert_int_equal(a->hs.stats.drop_mac, 0);
	assert_null(a->hs.pending_peers);
	node_del(a);
	node_del(b);
}

/* Forged HS_RESPs for a live index: at most PQ_HS_RESP_TRIES reach the
 * signature check; after that, even a replay with a valid signature (and
 * a bad MAC, which would cost a decaps) is dropped by the counter, and
 * counted as drop_rate. The next initiation has its own tries. */
static void test_resp_flood_bounded(void **state)
{
	struct fx_node *a = node_new(1), *b = node_new(2);
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], bad[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
	struct pq_hs_result res;
	uint64_t now = T0;

	(void)state;
	fx_allow(a, b->pub, now);
	fx_allow(b, a->pub, now);
	init_and_resp(a, b, now, init, resp);
	memcpy(bad, resp, sizeof(bad));
	bad[PQ_HS_RESP_SIG_OFF + 3] ^= 0x01;
	for (int i = 0; i < PQ_HS_RESP_TRIES; i++)
		assert_int_equal(fx_deliver(a, b, bad, sizeof(bad), now, fin, sizeof(fin), &res), PQ_E_AUTH);
	assert_int_equal(a->hs.stats.drop_signature, PQ_HS_RESP_TRIES);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(fx_deliver(a, b, bad, sizeof(bad), now, fin, sizeof(fin), &res), PQ_E_LIMIT);
	/* Valid signature, bad MAC: no decaps either. */
	memcpy(bad, resp, sizeof(bad));
	bad[PQ_HS_RESP_MAC_OFF] ^= 0x80;
	assert_int_equal(fx_deliver(a, b, bad, sizeof(bad), now, fin, sizeof(fin), &res), PQ_E_LIMIT);
	assert_int_equal(a->hs.stats.drop_signature, PQ_HS_RESP_TRIES);
	assert_int_equal(a->hs.stats.drop_mac, 0);
	assert_int_equal(a->hs.stats.drop_rate, 1001);
	/* The pending stays (a forgery cannot cancel it) until it expires. */
	assert_true(pq_hs_pending(&a->peers[0], now));
	assert_false(pq_test_all_zero(a->peers[0].pending.mlkem_dk, sizeof(a->peers[0].pending.mlkem_dk)));
	/* A new initiation: fewer forgeries than the tries, then the real one. */
	now += PQ_HS_TIMEOUT_MS;
	init_and_resp(a, b, now, init, resp);
	memcpy(bad, resp, sizeof(bad));
	bad[PQ_HS_RESP_MAC_OFF] ^= 0x80;
	for (int i = 0; i < PQ_HS_RESP_TRIES - 1; i++)
		assert_int_equal(fx_deliver(a, b, bad, sizeof(bad), now, fin, sizeof(fin), &res), PQ_E_AUTH);
	assert_int_equal(a->hs.stats.drop_mac, PQ_HS_RESP_TRIES - 1);
	assert_int_equal(fx_deliver(a, b, resp, sizeof(resp), now, fin, sizeof(fin), &res), PQ_HS_FINISH_LEN);
	assert_int_equal(fx_deliver(b, a, fin, sizeof(fin), now, NULL, 0, &res), 0);
	assert_int_equal(res.event, PQ_HS_EV_CONFIRMED);
	node_del(a);
	node_del(b);
}

/* What a refused HS_RESP costs once the tries are spent (printed, not
 * asserted: the machine is shared). */
static void test_resp_flood_cost(void **state)
{
	enum { RUNS = 100000 };
	struct fx_node *a = node_new(1), *b = node_new(2);
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
	struct pq_hs_result res;
	struct timespec t0, t1;

	(void)state;
	fx_allow(a, b->pub, T0);
	fx_allow(b, a->pub, T0);
	init_and_resp(a, b, T0, init, resp);
	resp[PQ_HS_RESP_MAC_OFF] ^= 0x80;
	for (int i = 0; i < PQ_HS_RESP_TRIES; i++)
		assert_int_equal(fx_deliver(a, b, resp, sizeof(resp), T0, fin, sizeof(fin), &res), PQ_E_AUTH);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (int i = 0; i < RUNS; i++)
		assert_int_equal(pq_hs_receive(&a->hs, b->pub, resp, sizeof(resp), T0, T0, fin, sizeof(fin), &res),
				 PQ_E_LIMIT);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	printf("refused_hs_resp_ns: %.0f (mean of %d)\n",
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / RUNS, RUNS);
	assert_int_equal(a->hs.stats.drop_mac, PQ_HS_RESP_TRIES);
	node_del(a);
	node_del(b);
}

static void assert_pending_zero(const struct pq_hs_peer *peer)
{
	assert_false(peer->pending.active);
	assert_true(pq_test_all_zero(peer->pending.x25519_priv, sizeof(peer->pending.x25519_priv)));
	assert_true(pq_test_all_zero(peer->pending.mlkem_dk, sizeof(peer->pending.mlkem_dk)));
	assert_true(pq_test_all_zero(&peer->pending, sizeof(peer->pending)));
}

/* Three peers, initiations started 2 s apart, the clock moving in 100 ms
 * steps and the node's 1 s housekeeping tick: each one's secrets are zero
 * at the first tick at or past its lifetime (so within lifetime + one
 * tick), the others are kept until theirs, and the list stays consistent
 * while it shrinks from the head, the middle and the tail. */
static void test_pending_wiped_on_expiry(void **state)
{
	static const uint64_t start[3] = { T0 + 300, T0 + 2300, T0 + 4300 };
	struct fx_node *n = node_new(1), *peers[3];
	uint8_t init[PQ_HS_INIT_LEN];
	bool started[3] = { false, false, false }, wiped[3] = { false, false, false };
	uint64_t now;

	(void)state;
	for (int i = 0; i < 3; i++) {
		peers[i] = node_new((uint8_t)(2 + i));
		fx_allow(n, peers[i]->pub, T0);
	}
	for (now = T0; now <= T0 + 12 * TICK_MS; now += 100) {
		for (int i = 0; i < 3; i++) {
			if (now != start[i])
				continue;
			assert_int_equal(pq_hs_initiate(&n->hs, &n->peers[i], now, now, init, sizeof(init)),
					 PQ_HS_INIT_LEN);
			assert_false(pq_test_all_zero(n->peers[i].pending.x25519_priv, PQ_X25519_LEN));
			assert_false(pq_test_all_zero(n->peers[i].pending.mlkem_dk, PQ_MLKEM1024_DK_LEN));
			started[i] = true;
		}
		if ((now - T0) % TICK_MS)
			continue;
		pq_hs_expire(&n->hs, now);
		for (int i = 0; i < 3; i++) {
			if (!started[i])
				continue;
			if (now >= start[i] + PQ_HS_TIMEOUT_MS) {
				assert_true(wiped[i] || now < start[i] + PQ_HS_TIMEOUT_MS + TICK_MS);
				assert_pending_zero(&n->peers[i]);
				assert_false(in_pending_list(&n->hs, &n->peers[i]));
				wiped[i] = true;
			} else {
				assert_true(n->peers[i].pending.active);
				assert_false(pq_test_all_zero(n->peers[i].pending.mlkem_dk, PQ_MLKEM1024_DK_LEN));
				assert_true(in_pending_list(&n->hs, &n->peers[i]));
			}
		}
		if (now == T0 + 5 * TICK_MS)
			assert_int_equal(pending_list_len(&n->hs), 3);
	}
	assert_true(wiped[0] && wiped[1] && wiped[2]);
	assert_int_equal(n->hs.stats.pending_expired, 3);
	assert_null(n->hs.pending_peers);
	/* Unlinking from the middle: three out, the middle one answered... */
	for (int i = 0; i < 3; i++)
		assert_int_equal(pq_hs_initiate(&n->hs, &n->peers[i], now, now, init, sizeof(init)), PQ_HS_INIT_LEN);
	/* ...a restarted initiation stays linked once; pq_hs_peer_wipe unlinks. */
	assert_int_equal(pq_hs_initiate(&n->hs, &n->peers[1], now + 1, now + 1, init, sizeof(init)), PQ_HS_INIT_LEN);
	assert_int_equal(pending_list_len(&n->hs), 3);
	pq_hs_peer_wipe(&n->peers[1]);
	assert_pending_zero(&n->peers[1]);
	assert_int_equal(pending_list_len(&n->hs), 2);
	assert_true(in_pending_list(&n->hs, &n->peers[0]) && in_pending_list(&n->hs, &n->peers[2]));
	/* pq_hs_wipe takes what is left. */
	pq_hs_wipe(&n->hs);
	assert_pending_zero(&n->peers[0]);
	assert_pending_zero(&n->peers[2]);
	assert_null(n->hs.pending_peers);
	for (int i = 0; i < 3; i++)
		node_del(peers[i]);
	node_del(n);
}

/* pq_hs_receive runs the expiry too, and a clock stepped back (now before
 * the start) also ends the pending: its secrets go at once. */
static void test_pending_wiped_by_receive_and_clock_step(void **state)
{
	struct fx_node *a = node_new(1), *b = node_new(2);
	uint8_t init[PQ_HS_INIT_LEN], out[PQ_HS_RESP_LEN];
	struct pq_hs_result res;

	(void)state;
	fx_allow(a, b->pub, T0);
	fx_allow(b, a->pub, T0);
	assert_int_equal(pq_hs_initiate(&a->hs, &a->peers[0], T0, T0, init, sizeof(init)), PQ_HS_INIT_LEN);
	/* Any message at all, even a malformed one, past the lifetime. */
	assert_int_equal(pq_hs_receive(&a->hs, b->pub, (const uint8_t *)"\x77", 1, T0 + PQ_HS_TIMEOUT_MS, T0 + PQ_HS_TIMEOUT_MS, out,
				       sizeof(out), &res), PQ_E_DECODE);
	assert_pending_zero(&a->peers[0]);
	assert_int_equal(pq_hs_initiate(&a->hs, &a->peers[0], T0 + 10000, T0 + 10000, init, sizeof(init)), PQ_HS_INIT_LEN);
	pq_hs_expire(&a->hs, T0 + 9000);
	assert_pending_zero(&a->peers[0]);
	assert_int_equal(a->hs.stats.pending_expired, 2);
	node_del(a);
	node_del(b);
}

/* b accepts an HS_INIT from a stamped by a's clock at a_now, b's clock at
 * b_now: returns what b returned; on success finishes the handshake. */
static long offer(struct fx_node *a, struct fx_node *b, uint64_t a_now, uint64_t b_now)
{
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
	struct pq_hs_result res;
	long r;

	assert_int_equal(pq_hs_initiate(&a->hs, &a->peers[0], a_now, a_now, init, sizeof(init)), PQ_HS_INIT_LEN);
	r = fx_deliver(b, a, init, sizeof(init), b_now, resp, sizeof(resp), &res);
	if (r != PQ_HS_RESP_LEN)
		return r;
	assert_int_equal(fx_deliver(a, b, resp, sizeof(resp), a_now, fin, sizeof(fin), &res), PQ_HS_FINISH_LEN);
	assert_int_equal(fx_deliver(b, a, fin, sizeof(fin), b_now, NULL, 0, &res), 0);
	assert_int_equal(res.event, PQ_HS_EV_CONFIRMED);
	return r;
}

/* a's clock a year ahead: refused (drop_future, PQ_E_TIME), and b keeps
 * no trace of it; a restarted with a correct clock gets in. Had the year
 * been accepted, that later initiation would be "stale". */
static void test_init_far_future_refused(void **state)
{
	struct fx_node *a = node_new(1), *b = node_new(2), *a2;

	(void)state;
	fx_allow(a, b->pub, T0);
	fx_allow(b, a->pub, T0);
	assert_int_equal(offer(a, b, T0 + YEAR_MS, T0), PQ_E_TIME);
	assert_int_equal(b->hs.stats.drop_future, 1);
	assert_int_equal(b->hs.stats.drop_signature, 0);   /* refused before the signature */
	assert_int_equal(b->peers[0].last_init_ts, 0);
	assert_int_equal(b->hs.stats.resp_sent, 0);
	/* a's clock set right again, same process: it stamps from now. */
	assert_int_equal(offer(a, b, T0 + 1000, T0 + 1000), PQ_HS_RESP_LEN);
	assert_int_equal(b->peers[0].last_init_ts, T0 + 1000);
	/* a restarted (same key, last_sent_ts lost), clock right. */
	a2 = node_new(1);
	fx_allow(a2, b->pub, T0);
	assert_int_equal(offer(a2, b, T0 + 2000, T0 + 2000), PQ_HS_RESP_LEN);
	assert_int_equal(b->hs.stats.drop_stale, 0);
	node_del(a2);
	node_del(a);
	node_del(b);
}

/* The bound is inclusive: now + PQ_HS_MAX_FUTURE_MS passes, one ms more does not. */
static void test_init_future_boundary(void **state)
{
	struct fx_node *a = node_new(1), *b = node_new(2);

	(void)state;
	fx_allow(a, b->pub, T0);
	fx_allow(b, a->pub, T0);
	assert_int_equal(offer(a, b, T0 + PQ_HS_MAX_FUTURE_MS, T0), PQ_HS_RESP_LEN);
	assert_int_equal(b->peers[0].last_init_ts, T0 + PQ_HS_MAX_FUTURE_MS);
	/* Newer than the last, but one millisecond too far ahead. */
	assert_int_equal(offer(a, b, T0 + PQ_HS_MAX_FUTURE_MS + 1, T0), PQ_E_TIME);
	assert_int_equal(b->hs.stats.drop_future, 1);
	assert_int_equal(b->hs.stats.drop_stale, 0);
	node_del(a);
	node_del(b);
}

/* A peer whose clock is behind ours (an hour, a year) gets in: only its
 * own timestamps' order matters. A replay is still stale. */
static void test_init_clock_behind_ok(void **state)
{
	struct fx_node *a = node_new(1), *b = node_new(2);

	(void)state;
	fx_allow(a, b->pub, T0);
	fx_allow(b, a->pub, T0);
	assert_int_equal(offer(a, b, T0 - YEAR_MS, T0), PQ_HS_RESP_LEN);
	assert_int_equal(offer(a, b, T0 - 3600 * 1000, T0 + 1000), PQ_HS_RESP_LEN);
	assert_int_equal(offer(a, b, T0 - 3600 * 1000 + 5000, T0 + 6000), PQ_HS_RESP_LEN);
	assert_int_equal(b->hs.stats.drop_future + b->hs.stats.drop_stale, 0);
	assert_int_equal(b->hs.stats.done_responder, 3);
	node_del(a);
	node_del(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resp_without_pending),
		cmocka_unit_test(test_resp_flood_bounded),
		cmocka_unit_test(test_resp_flood_cost),
		cmocka_unit_test(test_pending_wiped_on_expiry),
		cmocka_unit_test(test_pending_wiped_by_receive_and_clock_step),
		cmocka_unit_test(test_init_far_future_refused),
		cmocka_unit_test(test_init_future_boundary),
		cmocka_unit_test(test_init_clock_behind_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
