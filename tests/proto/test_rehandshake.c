/*
 * test_rehandshake.c - the re-handshake state machine (src/proto/
 * rehandshake.c, DESIGN §5) with two endpoints back to back in memory and a
 * fake clock: success either way, replay, clock skew, session id, channel
 * binding, wrong key, message order, timeout, tampering, the challenge
 * cache (full, broken RNG), and the interleaving/oracle attack that breaks
 * the seed's design. After every rejected attack a fresh legitimate run
 * between the same endpoints, with the same caches, must still succeed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "crypto/hash.h"
#include "crypto/keysched.h"
#include "proto/rehandshake.h"

#define T0 1762300000000ull /* fake Unix ms */
#define BUF 128

/* ---- deterministic RNG for challenges ---- */

struct test_rng {
	uint64_t state;
	int stuck; /* 1: always the same bytes (a broken generator) */
};

static int test_random(void *ctx, void *out, size_t len)
{
	struct test_rng *rng = ctx;
	uint8_t *p = out;

	for (size_t i = 0; i < len; i++) {
		/* splitmix64 step per byte: plenty for distinct test challenges */
		uint64_t z = rng->stuck ? 0x5eed : (rng->state += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		p[i] = (uint8_t)(z ^ (z >> 31));
	}
	return 0;
}

/* ---- the two endpoints ---- */

struct node {
	bool hs_initiator;
	struct pq_session_keys keys;
	struct pq_challenge_cache cache;
	struct pq_rehs_counters ctr;
	struct test_rng rng;
};

static struct node A, B, C; /* A: handshake initiator; B: responder; C: wrong keys */
static uint8_t binding_1[32], binding_2[32];

static void make_keys(struct pq_session_keys *k, uint8_t seed)
{
	uint8_t ss1[32], ss2[32], th[32];

	memset(ss1, seed, 32);
	memset(ss2, seed + 1, 32);
	memset(th, seed + 2, 32);
	assert_int_equal(pq_key_schedule(k, ss1, ss2, th), 0);
}

static int setup_nodes(void **state)
{
	(void)state;
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	memset(&C, 0, sizeof(C));
	make_keys(&A.keys, 1);
	B.keys = A.keys;
	make_keys(&C.keys, 9);
	/* C claims A's session id but holds other keys. */
	memcpy(C.keys.session_id, A.keys.session_id, PQ_SESSION_ID_LEN);
	A.hs_initiator = true;
	C.hs_initiator = true;
	A.rng.state = 1;
	B.rng.state = 1000;
	C.rng.state = 7000;
	pq_challenge_cache_init(&A.cache);
	pq_challenge_cache_init(&B.cache);
	pq_challenge_cache_init(&C.cache);
	memset(binding_1, 0xb1, 32);
	memset(binding_2, 0xb2, 32);
	return 0;
}

static const uint8_t *send_key(const struct node *n)
{
	return n->hs_initiator ? n->keys.rehs_i2r : n->keys.rehs_r2i;
}

static const uint8_t *recv_key(const struct node *n)
{
	return n->hs_initiator ? n->keys.rehs_r2i : n->keys.rehs_i2r;
}

static void run_init(struct pq_rehs *r, struct node *n, enum pq_rehs_role role, const uint8_t *binding,
		     uint64_t now)
{
	struct pq_rehs_config cfg = {
		.role = role,
		.hs_initiator = n->hs_initiator,
		.session_id = n->keys.session_id,
		.send_key = send_key(n),
		.recv_key = recv_key(n),
		.binding = binding,
		.random = test_random,
		.random_ctx = &n->rng,
		.counters = &n->ctr,
	};

	assert_int_equal(pq_rehs_init(r, &cfg, now), 0);
}

/* One whole legitimate run: ini initiates, rsp responds, same channel. */
static void full_run(struct node *ini, struct node *rsp, const uint8_t *binding, uint64_t now)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], m3[BUF];
	size_t l1, l2, l3;
	uint32_t done_i = ini->ctr.completed, done_r = rsp->ctr.completed;

	run_init(&ri, ini, PQ_REHS_INITIATOR, binding, now);
	run_init(&rr, rsp, PQ_REHS_RESPONDER, binding, now);
	assert_int_equal(pq_rehs_start(&ri, &ini->cache, now, m1, sizeof(m1), &l1), 0);
	assert_int_equal(l1, PQ_REHS_REQUEST_MSG_LEN);
	assert_int_equal(pq_rehs_receive(&rr, &rsp->cache, m1, l1, now + 1, m2, sizeof(m2), &l2), 0);
	assert_int_equal(l2, PQ_REHS_RESPONSE_MSG_LEN);
	assert_int_equal(pq_rehs_state(&rr), PQ_REHS_WAIT_COMPLETE);
	assert_int_equal(pq_rehs_receive(&ri, &ini->cache, m2, l2, now + 2, m3, sizeof(m3), &l3), 0);
	assert_int_equal(l3, PQ_REHS_COMPLETE_MSG_LEN);
	assert_int_equal(pq_rehs_state(&ri), PQ_REHS_COMPLETED);
	assert_int_equal(pq_rehs_receive(&rr, &rsp->cache, m3, l3, now + 3, m2, sizeof(m2), &l2), 0);
	assert_int_equal(l2, 0);
	assert_int_equal(pq_rehs_state(&rr), PQ_REHS_COMPLETED);
	assert_int_equal(ini->ctr.completed, done_i + 1);
	assert_int_equal(rsp->ctr.completed, done_r + 1);
	pq_rehs_clear(&ri);
	pq_rehs_clear(&rr);
}

/* After an attack: A and B still re-handshake, each way, same caches. */
static void assert_fresh_runs_ok(uint64_t now)
{
	full_run(&A, &B, binding_1, now);
	full_run(&B, &A, binding_1, now + 100);
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* A message from a peer that holds the keys (or a test forging fields). */
static size_t forge_response(uint8_t *out, const struct node *sender, const uint8_t sid[16],
			     const uint8_t ch[32], const uint8_t cc[32], uint64_t ts, const uint8_t *binding)
{
	struct pq_rehs_response m;
	size_t len;

	memcpy(m.session_id, sid, 16);
	memcpy(m.counter_challenge, cc, 32);
	m.timestamp_ms = ts;
	assert_int_equal(pq_rehs_mac(m.mac, send_key(sender), PQ_MSG_REHS_RESPONSE, sender->hs_initiator,
				     sid, ch, cc, ts, binding), 0);
	assert_int_equal(pq_rehs_response_encode(out, BUF, &len, &m), 0);
	return len;
}

static size_t forge_complete(uint8_t *out, const struct node *sender, const uint8_t sid[16],
			     const uint8_t ch[32], const uint8_t cc[32], uint64_t ts, const uint8_t *binding)
{
	struct pq_rehs_complete m;
	size_t len;

	memcpy(m.session_id, sid, 16);
	m.timestamp_ms = ts;
	assert_int_equal(pq_rehs_mac(m.mac, send_key(sender), PQ_MSG_REHS_COMPLETE, sender->hs_initiator,
				     sid, ch, cc, ts, binding), 0);
	assert_int_equal(pq_rehs_complete_encode(out, BUF, &len, &m), 0);
	return len;
}

static size_t forge_request(uint8_t *out, const uint8_t sid[16], const uint8_t ch[32], uint64_t ts)
{
	struct pq_rehs_request m;
	size_t len;

	memcpy(m.session_id, sid, 16);
	memcpy(m.challenge, ch, 32);
	m.timestamp_ms = ts;
	assert_int_equal(pq_rehs_request_encode(out, BUF, &len, &m), 0);
	return len;
}

/* Initiator run of ini started at now; REQUEST in m1, challenge in ch. */
static size_t started(struct pq_rehs *ri, struct node *ini, const uint8_t *binding, uint64_t now, uint8_t *m1,
		      uint8_t ch[32])
{
	struct pq_rehs_request req;
	size_t l1;

	run_init(ri, ini, PQ_REHS_INITIATOR, binding, now);
	assert_int_equal(pq_rehs_start(ri, &ini->cache, now, m1, BUF, &l1), 0);
	assert_int_equal(pq_rehs_request_decode(&req, m1, l1), 0);
	memcpy(ch, req.challenge, 32);
	return l1;
}

/* Responder run of rsp that answered REQUEST m1; RESPONSE in m2, cc out. */
static size_t responded(struct pq_rehs *rr, struct node *rsp, const uint8_t *binding, uint64_t now,
			const uint8_t *m1, size_t l1, uint8_t *m2, uint8_t cc[32])
{
	struct pq_rehs_response resp;
	size_t l2;

	run_init(rr, rsp, PQ_REHS_RESPONDER, binding, now);
	assert_int_equal(pq_rehs_receive(rr, &rsp->cache, m1, l1, now, m2, BUF, &l2), 0);
	assert_int_equal(pq_rehs_response_decode(&resp, m2, l2), 0);
	memcpy(cc, resp.counter_challenge, 32);
	return l2;
}

/* ---- success ---- */

static void test_success_both_ways(void **state)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], m3[BUF], ch[32], cc[32];
	size_t l1, l2, l3;

	(void)state;
	full_run(&A, &B, binding_1, T0);          /* handshake initiator initiates */
	full_run(&B, &A, binding_2, T0 + 1000);   /* handshake responder initiates */
	assert_int_equal(A.ctr.completed, 2);
	assert_int_equal(B.ctr.completed, 2);

	/* Keys are wiped the moment a run finishes; the deadline goes away. */
	l1 = started(&ri, &A, binding_1, T0 + 2000, m1, ch);
	l2 = responded(&rr, &B, binding_1, T0 + 2000, m1, l1, m2, cc);
	assert_int_equal(pq_rehs_next_deadline(&ri), T0 + 2000 + PQ_REHS_TIMEOUT_MS);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 2001, m3, BUF, &l3), 0);
	assert_int_equal(pq_rehs_state(&ri), PQ_REHS_COMPLETED);
	assert_true(all_zero(ri.send_key, 32) && all_zero(ri.recv_key, 32));
	assert_int_equal(pq_rehs_next_deadline(&ri), UINT64_MAX);
	assert_int_equal(pq_rehs_receive(&rr, &B.cache, m3, l3, T0 + 2002, m1, BUF, &l1), 0);
	assert_true(all_zero(rr.send_key, 32) && all_zero(rr.recv_key, 32));
	pq_rehs_clear(&rr);
	assert_true(all_zero((const uint8_t *)&rr, sizeof(rr)));
	pq_rehs_clear(&ri);
	printf("checked: 3 successful runs, both directions\n");
}

/* ---- replay ---- */

static void test_request_replay(void **state)
{
	struct pq_rehs ri, rr, rr2;
	uint8_t m1[BUF], m2[BUF], m3[BUF], old_resp[BUF], old_comp[BUF], ch[32], cc[32], out[BUF];
	size_t l1, l2, l3, lo;

	(void)state;
	/* A legitimate run; keep all three messages. */
	l1 = started(&ri, &A, binding_1, T0, m1, ch);
	l2 = responded(&rr, &B, binding_1, T0, m1, l1, m2, cc);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 1, m3, BUF, &l3), 0);
	assert_int_equal(pq_rehs_receive(&rr, &B.cache, m3, l3, T0 + 2, out, BUF, &lo), 0);
	memcpy(old_resp, m2, l2);
	memcpy(old_comp, m3, l3);

	/* The REQUEST replayed 10 s and 29.999 s later: the cache refuses. */
	for (uint64_t later = 10000; later <= 30000; later += 19999) {
		run_init(&rr2, &B, PQ_REHS_RESPONDER, binding_1, T0 + later);
		assert_int_equal(pq_rehs_receive(&rr2, &B.cache, m1, l1, T0 + later, out, BUF, &lo), PQ_E_REPLAY);
		assert_int_equal(pq_rehs_fail_reason(&rr2), PQ_REHS_R_REPLAY);
		assert_int_equal(lo, 0);
	}
	assert_int_equal(B.ctr.replay, 2);
	/* 30.001 s later the entry has expired, but so has the timestamp. */
	run_init(&rr2, &B, PQ_REHS_RESPONDER, binding_1, T0 + 30001);
	assert_int_equal(pq_rehs_receive(&rr2, &B.cache, m1, l1, T0 + 30001, out, BUF, &lo), PQ_E_TIME);

	/* The old RESPONSE replayed to a new initiator run: its counter-
	 * challenge is cached (and the MAC covers the old challenge). */
	started(&ri, &A, binding_1, T0 + 5000, m1, ch);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, old_resp, l2, T0 + 5001, out, BUF, &lo), PQ_E_REPLAY);
	assert_int_equal(A.ctr.replay, 1);
	/* The old COMPLETE replayed into a new responder run: MAC fails. */
	l1 = started(&ri, &A, binding_1, T0 + 6000, m1, ch);
	responded(&rr, &B, binding_1, T0 + 6000, m1, l1, m2, cc);
	assert_int_equal(pq_rehs_receive(&rr, &B.cache, old_comp, l3, T0 + 6001, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(B.ctr.mac, 1);

	assert_fresh_runs_ok(T0 + 7000);
	printf("checked: 5 replays rejected\n");
}

/* ---- timestamps ---- */

/* Two clocks off by `skew` ms: within 30 s they agree, beyond they don't. */
static int run_with_clock_skew(int64_t skew, uint64_t now)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], m3[BUF], ch[32];
	size_t l1, l2, l3;
	uint64_t a_now = now + (uint64_t)skew;
	int rc;

	l1 = started(&ri, &A, binding_1, a_now, m1, ch);
	run_init(&rr, &B, PQ_REHS_RESPONDER, binding_1, now);
	rc = pq_rehs_receive(&rr, &B.cache, m1, l1, now, m2, BUF, &l2);
	if (rc)
		return rc;
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, a_now + 1, m3, BUF, &l3), 0);
	return pq_rehs_receive(&rr, &B.cache, m3, l3, now + 1, m2, BUF, &l2);
}

static void test_timestamps(void **state)
{
	static const int64_t ok[] = { -29000, 29000, -30000 + 2, 30000 - 2 };
	static const int64_t bad[] = { -31000, 31000, -30001, 30001 };
	/* Offsets of a forged (correctly MACed) RESPONSE/COMPLETE timestamp. */
	static const int64_t ts_ok[] = { -30000, 30000, -29000, 29000 };
	static const int64_t ts_bad[] = { -30001, 30001, -31000, 31000 };
	uint64_t now = T0;
	unsigned checked = 0;

	(void)state;
	for (size_t i = 0; i < 4; i++, checked += 2, now += 40000) {
		assert_int_equal(run_with_clock_skew(ok[i], now), 0);
		assert_int_equal(run_with_clock_skew(bad[i], now + 20000), PQ_E_TIME);
	}
	assert_int_equal(B.ctr.time, 4);

	for (int accept = 1; accept >= 0; accept--) {
		for (size_t i = 0; i < 4; i++, checked += 2, now += 40000) {
			struct pq_rehs ri, rr;
			uint8_t m1[BUF], m2[BUF], out[BUF], ch[32], cc[32];
			size_t l1, lo;
			int64_t off = accept ? ts_ok[i] : ts_bad[i];
			int want = accept ? 0 : PQ_E_TIME;

			/* RESPONSE stamped now+off, checked by A. */
			l1 = started(&ri, &A, binding_1, now, m1, ch);
			responded(&rr, &B, binding_1, now, m1, l1, m2, cc);
			forge_response(m2, &B, A.keys.session_id, ch, cc, now + (uint64_t)off, binding_1);
			assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, PQ_REHS_RESPONSE_MSG_LEN, now, out, BUF,
							 &lo), want);
			/* COMPLETE stamped now+off, checked by B. */
			forge_complete(m1, &A, A.keys.session_id, ch, cc, now + (uint64_t)off, binding_1);
			assert_int_equal(pq_rehs_receive(&rr, &B.cache, m1, PQ_REHS_COMPLETE_MSG_LEN, now, out, BUF,
							 &lo), want);
			if (!accept)
				assert_int_equal(pq_rehs_fail_reason(&rr), PQ_REHS_R_TIME);
		}
	}
	assert_fresh_runs_ok(now);
	printf("checked: %u timestamp cases (±29 s, ±30 s accepted; ±30.001 s, ±31 s rejected)\n", checked);
}

/* ---- session id ---- */

static void test_wrong_session_id(void **state)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], m3[BUF], out[BUF], ch[32], cc[32];
	size_t l1, l2, l3, lo;

	(void)state;
	/* REQUEST: last byte of the session id flipped. */
	l1 = started(&ri, &A, binding_1, T0, m1, ch);
	m1[16] ^= 0x80;
	run_init(&rr, &B, PQ_REHS_RESPONDER, binding_1, T0);
	assert_int_equal(pq_rehs_receive(&rr, &B.cache, m1, l1, T0, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_fail_reason(&rr), PQ_REHS_R_SESSION);
	/* RESPONSE: first byte flipped. */
	m1[16] ^= 0x80;
	l2 = responded(&rr, &B, binding_1, T0, m1, l1, m2, cc);
	m2[1] ^= 1;
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 1, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_fail_reason(&ri), PQ_REHS_R_SESSION);
	/* COMPLETE: a correctly MACed COMPLETE, but for another session id. */
	{
		uint8_t other_sid[16];

		memcpy(other_sid, A.keys.session_id, 16);
		other_sid[5] ^= 0x10;
		l3 = forge_complete(m3, &A, other_sid, ch, cc, T0 + 2, binding_1);
		assert_int_equal(pq_rehs_receive(&rr, &B.cache, m3, l3, T0 + 2, out, BUF, &lo), PQ_E_AUTH);
		assert_int_equal(pq_rehs_fail_reason(&rr), PQ_REHS_R_SESSION);
	}
	assert_int_equal(A.ctr.session_id + B.ctr.session_id, 3);
	assert_fresh_runs_ok(T0 + 1000);
	printf("checked: 3 wrong session ids rejected\n");
}

/* ---- channel binding and keys ---- */

static void test_channel_binding(void **state)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], m3[BUF], out[BUF], ch[32], cc[32];
	size_t l1, l2, l3, lo;

	(void)state;
	/* Right keys, right MAC, but computed over another connection's
	 * exporter: A (binding_1) refuses B's RESPONSE (binding_2). */
	l1 = started(&ri, &A, binding_1, T0, m1, ch);
	l2 = responded(&rr, &B, binding_2, T0, m1, l1, m2, cc);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 1, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_fail_reason(&ri), PQ_REHS_R_MAC);

	/* And the other way: A completes over binding_1, B (binding_2) refuses
	 * A's COMPLETE. The RESPONSE A sees is made for binding_1 by B's key. */
	l1 = started(&ri, &A, binding_1, T0 + 100, m1, ch);
	responded(&rr, &B, binding_2, T0 + 100, m1, l1, m2, cc);
	l2 = forge_response(m2, &B, B.keys.session_id, ch, cc, T0 + 100, binding_1);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 101, m3, BUF, &l3), 0);
	assert_int_equal(pq_rehs_state(&ri), PQ_REHS_COMPLETED);
	assert_int_equal(pq_rehs_receive(&rr, &B.cache, m3, l3, T0 + 102, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_fail_reason(&rr), PQ_REHS_R_MAC);
	assert_fresh_runs_ok(T0 + 1000);
	printf("checked: 2 cross-channel MACs rejected\n");
}

static void test_wrong_key(void **state)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], m3[BUF], out[BUF], ch[32], cc[32];
	size_t l1, l2, l3, lo;

	(void)state;
	/* C has A's session id and role but other keys. B, as responder,
	 * answers C's REQUEST (nothing to check yet); C refuses B's MAC. */
	l1 = started(&ri, &C, binding_1, T0, m1, ch);
	l2 = responded(&rr, &B, binding_1, T0, m1, l1, m2, cc);
	assert_int_equal(pq_rehs_receive(&ri, &C.cache, m2, l2, T0 + 1, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_fail_reason(&ri), PQ_REHS_R_MAC);
	/* B refuses a COMPLETE made with C's key. */
	l3 = forge_complete(m3, &C, C.keys.session_id, ch, cc, T0 + 2, binding_1);
	assert_int_equal(pq_rehs_receive(&rr, &B.cache, m3, l3, T0 + 2, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_fail_reason(&rr), PQ_REHS_R_MAC);
	/* A refuses a RESPONSE made with C's key; and with A's OWN send key
	 * (the wrong direction: a reflected MAC). */
	l1 = started(&ri, &A, binding_1, T0 + 10, m1, ch);
	memset(cc, 0x77, 32);
	l2 = forge_response(m2, &C, A.keys.session_id, ch, cc, T0 + 10, binding_1);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 11, out, BUF, &lo), PQ_E_AUTH);
	l1 = started(&ri, &A, binding_1, T0 + 20, m1, ch);
	memset(cc, 0x78, 32);
	l2 = forge_response(m2, &A, A.keys.session_id, ch, cc, T0 + 20, binding_1);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 21, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(A.ctr.mac, 2);
	(void)l1;
	assert_fresh_runs_ok(T0 + 1000);
	printf("checked: 4 wrong-key MACs rejected\n");
}

/* Flip one bit in every byte of a RESPONSE, then of a COMPLETE: each
 * tampered message kills its run, whatever byte was hit. */
static void test_tampering(void **state)
{
	uint64_t now = T0;
	unsigned checked = 0;

	(void)state;
	for (size_t at = 0; at < PQ_REHS_RESPONSE_MSG_LEN; at++, checked++, now += 40000) {
		struct pq_rehs ri, rr;
		uint8_t m1[BUF], m2[BUF], m3[BUF], ch[32], cc[32];
		size_t l1, l2, l3;

		l1 = started(&ri, &A, binding_1, now, m1, ch);
		l2 = responded(&rr, &B, binding_1, now, m1, l1, m2, cc);
		m2[at] ^= (uint8_t)(1u << (at % 8));
		assert_true(pq_rehs_receive(&ri, &A.cache, m2, l2, now + 1, m3, BUF, &l3) < 0);
		assert_int_equal(pq_rehs_state(&ri), PQ_REHS_FAILED);
		assert_int_equal(l3, 0);
	}
	for (size_t at = 0; at < PQ_REHS_COMPLETE_MSG_LEN; at++, checked++, now += 40000) {
		struct pq_rehs ri, rr;
		uint8_t m1[BUF], m2[BUF], m3[BUF], ch[32], cc[32];
		size_t l1, l2, l3, lo;

		l1 = started(&ri, &A, binding_1, now, m1, ch);
		l2 = responded(&rr, &B, binding_1, now, m1, l1, m2, cc);
		assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, now + 1, m3, BUF, &l3), 0);
		m3[at] ^= (uint8_t)(1u << (at % 8));
		assert_true(pq_rehs_receive(&rr, &B.cache, m3, l3, now + 2, m1, BUF, &lo) < 0);
		assert_int_equal(pq_rehs_state(&rr), PQ_REHS_FAILED);
	}
	assert_fresh_runs_ok(now);
	printf("checked: %u single-bit tamperings rejected\n", checked);
}

/* ---- message order ---- */

static void expect_unexpected(struct pq_rehs *r, struct node *n, const uint8_t *msg, size_t len, uint64_t now)
{
	uint8_t out[BUF];
	size_t lo;

	assert_int_equal(pq_rehs_receive(r, &n->cache, msg, len, now, out, BUF, &lo), PQ_E_STATE);
	assert_int_equal(pq_rehs_state(r), PQ_REHS_FAILED);
	assert_int_equal(pq_rehs_fail_reason(r), PQ_REHS_R_UNEXPECTED);
	assert_int_equal(lo, 0);
}

static void test_unexpected_order(void **state)
{
	struct pq_rehs ri, rr, r;
	uint8_t req[BUF], resp[BUF], comp[BUF], out[BUF], ch[32], cc[32];
	size_t lq, lp, lc, lo;
	unsigned checked = 0;

	(void)state;
	/* A valid set of the three messages, for reuse. */
	lq = started(&ri, &A, binding_1, T0, req, ch);
	lp = responded(&rr, &B, binding_1, T0, req, lq, resp, cc);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, resp, lp, T0 + 1, comp, BUF, &lc), 0);

	/* Responder waiting for REQUEST gets RESPONSE, COMPLETE, a relay type. */
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 10);
	expect_unexpected(&r, &B, resp, lp, T0 + 10), checked++;
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 10);
	expect_unexpected(&r, &B, comp, lc, T0 + 10), checked++;
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 10);
	out[0] = 0x09;
	expect_unexpected(&r, &B, out, 3, T0 + 10), checked++;
	/* Idle initiator (not started) gets anything. */
	run_init(&r, &A, PQ_REHS_INITIATOR, binding_1, T0 + 10);
	expect_unexpected(&r, &A, resp, lp, T0 + 10), checked++;
	/* Initiator waiting for RESPONSE gets REQUEST (a reflection), COMPLETE. */
	started(&r, &A, binding_1, T0 + 20, out, ch);
	expect_unexpected(&r, &A, req, lq, T0 + 20), checked++;
	started(&r, &A, binding_1, T0 + 30, out, ch);
	expect_unexpected(&r, &A, comp, lc, T0 + 30), checked++;
	/* Responder waiting for COMPLETE gets REQUEST again, then RESPONSE. */
	lq = started(&ri, &A, binding_1, T0 + 40, req, ch);
	responded(&r, &B, binding_1, T0 + 40, req, lq, out, cc);
	expect_unexpected(&r, &B, req, lq, T0 + 41), checked++;
	lq = started(&ri, &A, binding_1, T0 + 50, req, ch);
	responded(&r, &B, binding_1, T0 + 50, req, lq, out, cc);
	expect_unexpected(&r, &B, resp, lp, T0 + 51), checked++;

	/* Right type, wrong size; and an empty message. */
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 60);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, req, lq - 1, T0 + 60, out, BUF, &lo), PQ_E_DECODE);
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 60);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, req, 0, T0 + 60, out, BUF, &lo), PQ_E_DECODE);
	assert_int_equal(pq_rehs_fail_reason(&r), PQ_REHS_R_DECODE);
	checked += 2;

	/* A finished run stays finished: more input is refused and counted. */
	assert_int_equal(pq_rehs_state(&ri), PQ_REHS_WAIT_RESPONSE);
	run_init(&r, &A, PQ_REHS_INITIATOR, binding_1, T0 + 70);
	assert_int_equal(pq_rehs_start(&r, &A.cache, T0 + 70, out, BUF, &lo), 0);
	assert_int_equal(pq_rehs_start(&r, &A.cache, T0 + 70, out, BUF, &lo), PQ_E_STATE); /* twice */
	assert_int_equal(pq_rehs_state(&r), PQ_REHS_WAIT_RESPONSE);
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 70);
	assert_int_equal(pq_rehs_start(&r, &B.cache, T0 + 70, out, BUF, &lo), PQ_E_STATE); /* responder */
	assert_int_equal(pq_rehs_state(&r), PQ_REHS_WAIT_REQUEST);
	/* Too small an output buffer: refused, run untouched. */
	assert_int_equal(pq_rehs_receive(&r, &B.cache, req, lq, T0 + 70, out, 88, &lo), PQ_E_TOOBIG);
	assert_int_equal(pq_rehs_state(&r), PQ_REHS_WAIT_REQUEST);
	expect_unexpected(&r, &B, comp, lc, T0 + 70);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, req, lq, T0 + 70, out, BUF, &lo), PQ_E_STATE);
	assert_int_equal(pq_rehs_state(&r), PQ_REHS_FAILED);
	checked += 6;
	assert_true(B.ctr.unexpected >= 6);
	assert_fresh_runs_ok(T0 + 1000);
	printf("checked: %u out-of-order or malformed inputs rejected\n", checked);
}

/* ---- timeout ---- */

static void test_timeout(void **state)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], out[BUF], ch[32], cc[32];
	size_t l1, l2, lo;
	size_t room;

	(void)state;
	room = pq_challenge_cache_room(&A.cache, T0);
	l1 = started(&ri, &A, binding_1, T0, m1, ch);
	assert_int_equal(pq_challenge_cache_room(&A.cache, T0), room - 2);
	assert_int_equal(pq_rehs_next_deadline(&ri), T0 + 5000);
	assert_int_equal(pq_rehs_timer(&ri, T0 + 4999), 0);
	assert_int_equal(pq_rehs_state(&ri), PQ_REHS_WAIT_RESPONSE);
	assert_int_equal(pq_rehs_timer(&ri, T0 + 5000), PQ_E_TIMEOUT);
	assert_int_equal(pq_rehs_state(&ri), PQ_REHS_FAILED);
	assert_int_equal(pq_rehs_fail_reason(&ri), PQ_REHS_R_TIMEOUT);
	assert_true(all_zero(ri.send_key, 32));
	assert_int_equal(pq_rehs_next_deadline(&ri), UINT64_MAX);
	/* The reservation of the dead run lapses at its deadline. */
	assert_int_equal(pq_challenge_cache_room(&A.cache, T0 + 5000), room - 1);

	/* A RESPONSE 5 s after the start is too late even without the timer. */
	l1 = started(&ri, &A, binding_1, T0 + 100, m1, ch);
	l2 = responded(&rr, &B, binding_1, T0 + 100, m1, l1, m2, cc);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 5100, out, BUF, &lo), PQ_E_TIMEOUT);
	/* Nor does the responder wait more than 5 s for COMPLETE. */
	assert_int_equal(pq_rehs_timer(&rr, T0 + 5099), 0);
	assert_int_equal(pq_rehs_timer(&rr, T0 + 5100), PQ_E_TIMEOUT);
	/* And 4.999 s is in time. */
	l1 = started(&ri, &A, binding_1, T0 + 200, m1, ch);
	l2 = responded(&rr, &B, binding_1, T0 + 200, m1, l1, m2, cc);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 5199, out, BUF, &lo), 0);
	assert_int_equal(pq_rehs_state(&ri), PQ_REHS_COMPLETED);
	/* The initiator's 5 s count from its REQUEST, not from its creation. */
	run_init(&ri, &A, PQ_REHS_INITIATOR, binding_1, T0 + 300);
	assert_int_equal(pq_rehs_next_deadline(&ri), T0 + 5300);
	assert_int_equal(pq_rehs_start(&ri, &A.cache, T0 + 3300, m1, BUF, &l1), 0);
	assert_int_equal(pq_rehs_next_deadline(&ri), T0 + 8300);
	assert_int_equal(pq_rehs_timer(&ri, T0 + 8299), 0);
	assert_int_equal(pq_rehs_timer(&ri, T0 + 8300), PQ_E_TIMEOUT);
	assert_int_equal(A.ctr.timeout, 3);
	assert_int_equal(B.ctr.timeout, 1);
	assert_fresh_runs_ok(T0 + 10000);
	printf("checked: 9 timeout cases\n");
}

/* Issue 8 defect 3: the node keeps the 5 s on its monotonic clock
 * (proto/path.h), so a wall-clock step inside the ±30 s skew window must
 * not time a run out: with external_deadline the run has no clock of its
 * own, and its challenge reservation still lapses. */
static void test_external_deadline(void **state)
{
	struct pq_rehs ri, rr;
	struct pq_rehs_config cfg = {
		.role = PQ_REHS_INITIATOR,
		.hs_initiator = A.hs_initiator,
		.session_id = A.keys.session_id,
		.send_key = send_key(&A),
		.recv_key = recv_key(&A),
		.binding = binding_1,
		.random = test_random,
		.random_ctx = &A.rng,
		.counters = &A.ctr,
		.external_deadline = true,
	};
	uint8_t m1[BUF], m2[BUF], m3[BUF], cc[32];
	size_t l1, l2, l3, room;

	(void)state;
	assert_int_equal(pq_rehs_init(&ri, &cfg, T0), 0);
	assert_int_equal(pq_rehs_start(&ri, &A.cache, T0, m1, BUF, &l1), 0);
	assert_int_equal(pq_rehs_next_deadline(&ri), UINT64_MAX);
	assert_int_equal(pq_rehs_timer(&ri, T0 + 3600000), 0);
	l2 = responded(&rr, &B, binding_1, T0, m1, l1, m2, cc);
	/* The wall clock stepped 20 s forward before the RESPONSE came. */
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 20000, m3, BUF, &l3), 0);
	assert_int_equal(pq_rehs_state(&ri), PQ_REHS_COMPLETED);
	/* Without it, the same step times the run out (the old behaviour). */
	cfg.external_deadline = false;
	assert_int_equal(pq_rehs_init(&ri, &cfg, T0 + 30000), 0);
	assert_int_equal(pq_rehs_start(&ri, &A.cache, T0 + 30000, m1, BUF, &l1), 0);
	l2 = responded(&rr, &B, binding_1, T0 + 30000, m1, l1, m2, cc);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 50000, m3, BUF, &l3), PQ_E_TIMEOUT);
	/* An abandoned external-deadline run's reservation lapses after the
	 * 5 s plus the skew window. */
	cfg.external_deadline = true;
	assert_int_equal(pq_rehs_init(&ri, &cfg, T0 + 60000), 0);
	assert_int_equal(pq_rehs_start(&ri, &A.cache, T0 + 60000, m1, BUF, &l1), 0);
	room = pq_challenge_cache_room(&A.cache, T0 + 60000 + 34999);
	assert_int_equal(pq_challenge_cache_room(&A.cache, T0 + 60000 + 35000), room + 1);
	pq_rehs_clear(&ri);
	printf("checked: a wall-clock step does not time out an externally timed run\n");
}

/* ---- challenge checks ---- */

static void test_reflected_and_cached_counter_challenge(void **state)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], out[BUF], ch[32], cc[32], old_cc[32];
	size_t l1, l2, lo;

	(void)state;
	/* A peer that holds the keys (or an oracle) answers with A's own
	 * challenge as counter-challenge, correctly MACed: refused. */
	started(&ri, &A, binding_1, T0, m1, ch);
	l2 = forge_response(m2, &B, A.keys.session_id, ch, ch, T0, binding_1);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 1, out, BUF, &lo), PQ_E_REPLAY);
	assert_int_equal(pq_rehs_fail_reason(&ri), PQ_REHS_R_REFLECT);
	assert_int_equal(A.ctr.reflect, 1);

	/* A counter-challenge A has already seen in this session: refused. */
	l1 = started(&ri, &A, binding_1, T0 + 10, m1, ch);
	responded(&rr, &B, binding_1, T0 + 10, m1, l1, m2, old_cc);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, PQ_REHS_RESPONSE_MSG_LEN, T0 + 11, out, BUF, &lo), 0);
	started(&ri, &A, binding_1, T0 + 20, m1, ch);
	l2 = forge_response(m2, &B, A.keys.session_id, ch, old_cc, T0 + 20, binding_1);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, m2, l2, T0 + 21, out, BUF, &lo), PQ_E_REPLAY);
	assert_int_equal(pq_rehs_fail_reason(&ri), PQ_REHS_R_REPLAY);

	/* A REQUEST carrying a challenge B itself issued: refused. */
	memcpy(cc, old_cc, 32);
	l1 = forge_request(m1, B.keys.session_id, cc, T0 + 30);
	run_init(&rr, &B, PQ_REHS_RESPONDER, binding_1, T0 + 30);
	assert_int_equal(pq_rehs_receive(&rr, &B.cache, m1, l1, T0 + 30, out, BUF, &lo), PQ_E_REPLAY);
	assert_fresh_runs_ok(T0 + 1000);
	printf("checked: 3 reflected/reused challenges rejected\n");
}

static void test_cache_full(void **state)
{
	struct pq_rehs r;
	uint8_t m1[BUF], out[BUF], ch[32], first[BUF];
	size_t l1, lo, lfirst = 0;
	unsigned accepted = 0;

	(void)state;
	/* Each accepted REQUEST holds two entries (its challenge and the
	 * counter-challenge): 32 runs fill the 64 slots. */
	for (unsigned i = 0; i < PQ_CHALLENGE_CACHE_SLOTS / 2; i++, accepted++) {
		memset(ch, 0, 32);
		ch[0] = (uint8_t)i;
		ch[1] = 0xcc;
		l1 = forge_request(m1, B.keys.session_id, ch, T0);
		if (i == 0)
			memcpy(first, m1, lfirst = l1);
		run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0);
		assert_int_equal(pq_rehs_receive(&r, &B.cache, m1, l1, T0, out, BUF, &lo), 0);
	}
	assert_int_equal(pq_challenge_cache_room(&B.cache, T0), 0);
	/* Full: a new run is refused, as responder and as initiator... */
	ch[1] = 0xdd;
	l1 = forge_request(m1, B.keys.session_id, ch, T0);
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, m1, l1, T0, out, BUF, &lo), PQ_E_LIMIT);
	assert_int_equal(pq_rehs_fail_reason(&r), PQ_REHS_R_CACHE_FULL);
	run_init(&r, &B, PQ_REHS_INITIATOR, binding_1, T0 + 1);
	assert_int_equal(pq_rehs_start(&r, &B.cache, T0 + 1, out, BUF, &lo), PQ_E_LIMIT);
	/* ...and no live entry was evicted: the first REQUEST is still known. */
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 2);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, first, lfirst, T0 + 2, out, BUF, &lo), PQ_E_REPLAY);
	/* Still full 30.000 s on; free at 30.001 s, when the timestamps of
	 * everything cached are out of the window anyway. */
	assert_int_equal(pq_challenge_cache_room(&B.cache, T0 + 30000), 0);
	run_init(&r, &B, PQ_REHS_INITIATOR, binding_1, T0 + 30000);
	assert_int_equal(pq_rehs_start(&r, &B.cache, T0 + 30000, out, BUF, &lo), PQ_E_LIMIT);
	assert_int_equal(pq_challenge_cache_room(&B.cache, T0 + 30001), PQ_CHALLENGE_CACHE_SLOTS);
	assert_int_equal(B.ctr.cache_full, 3);
	assert_fresh_runs_ok(T0 + 30001);
	printf("checked: %u runs filled the cache; 3 refused while full, none evicted\n", accepted);
}

/* Forged REQUESTs, each answered and then given up before a COMPLETE
 * (on UDP the next REQUEST replaces the run): many times the cache's
 * size of them leave it empty, where each used to hold two entries for
 * 30 s and 32 of them locked the peer's real runs out. What a run that
 * completed recorded, and an initiator's challenge, stay. */
static void test_abandon_unproven(void **state)
{
	struct pq_rehs r, ri;
	uint8_t m1[BUF], out[BUF], ch[32], own[32], done_req[BUF];
	size_t l1, lo, ldone;
	unsigned forged = 0;

	(void)state;
	for (unsigned i = 0; i < 4 * PQ_CHALLENGE_CACHE_SLOTS; i++, forged++) {
		memset(ch, 0, 32);
		ch[0] = (uint8_t)i;
		ch[1] = (uint8_t)(i >> 8);
		ch[2] = 0xab;
		l1 = forge_request(m1, B.keys.session_id, ch, T0 + 29000); /* lives ~59 s */
		run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + i);
		assert_int_equal(pq_rehs_receive(&r, &B.cache, m1, l1, T0 + i, out, BUF, &lo), 0);
		assert_int_equal(pq_rehs_state(&r), PQ_REHS_WAIT_COMPLETE);
		assert_int_equal(pq_challenge_cache_room(&B.cache, T0 + i), PQ_CHALLENGE_CACHE_SLOTS - 2);
		pq_rehs_abandon(&r, &B.cache, T0 + i);
		assert_true(all_zero((const uint8_t *)&r, sizeof(r)));
		assert_int_equal(pq_challenge_cache_room(&B.cache, T0 + i), PQ_CHALLENGE_CACHE_SLOTS);
	}
	assert_int_equal(B.ctr.cache_full, 0);
	assert_fresh_runs_ok(T0 + 2000);
	/* A completed run's REQUEST stays refused after its run is given up. */
	l1 = started(&ri, &A, binding_1, T0 + 3000, m1, own);
	memcpy(done_req, m1, ldone = l1);
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 3000);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, m1, l1, T0 + 3000, out, BUF, &lo), 0);
	assert_int_equal(pq_rehs_receive(&ri, &A.cache, out, lo, T0 + 3001, m1, BUF, &l1), 0);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, m1, l1, T0 + 3002, out, BUF, &lo), 0);
	assert_int_equal(pq_rehs_state(&r), PQ_REHS_COMPLETED);
	pq_rehs_abandon(&r, &B.cache, T0 + 3003);
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 3004);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, done_req, ldone, T0 + 3004, out, BUF, &lo), PQ_E_REPLAY);
	/* A responder whose run failed (a COMPLETE under the wrong key) keeps
	 * its entries: the REQUEST stays refused. */
	memset(ch, 0xfa, 32);
	l1 = forge_request(done_req, B.keys.session_id, ch, T0 + 5000);
	ldone = l1;
	l1 = responded(&r, &B, binding_1, T0 + 5000, done_req, ldone, out, own);
	l1 = forge_complete(m1, &C, B.keys.session_id, ch, own, T0 + 5001, binding_1);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, m1, l1, T0 + 5001, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_state(&r), PQ_REHS_FAILED);
	pq_rehs_abandon(&r, &B.cache, T0 + 5002);
	run_init(&r, &B, PQ_REHS_RESPONDER, binding_1, T0 + 5003);
	assert_int_equal(pq_rehs_receive(&r, &B.cache, done_req, ldone, T0 + 5003, out, BUF, &lo), PQ_E_REPLAY);
	pq_rehs_clear(&r);
	/* An initiator waiting for its RESPONSE keeps its challenge recorded. */
	l1 = started(&ri, &A, binding_1, T0 + 4000, m1, own);
	pq_rehs_abandon(&ri, &A.cache, T0 + 4001);
	assert_int_equal(pq_challenge_cache_seen(&A.cache, own, T0 + 4001), 1);
	pq_rehs_clear(&ri);
	printf("checked: %u forged REQUESTs answered and given up, the cache empty after each; "
	       "a completed, a failed and an initiator's run's entries kept\n", forged);
}

static void test_broken_rng(void **state)
{
	struct pq_rehs r;
	uint8_t m1[BUF], out[BUF], ch[32];
	size_t l1, lo;

	(void)state;
	A.rng.stuck = 1;
	full_run(&A, &B, binding_1, T0);
	/* The second challenge from a stuck generator repeats the first:
	 * the run is refused instead of sending a repeated challenge. */
	run_init(&r, &A, PQ_REHS_INITIATOR, binding_1, T0 + 10);
	assert_int_equal(pq_rehs_start(&r, &A.cache, T0 + 10, out, BUF, &lo), PQ_E_RANDOM);
	assert_int_equal(pq_rehs_fail_reason(&r), PQ_REHS_R_LOCAL);
	/* Same as a responder: the counter-challenge would repeat. */
	memset(ch, 0x31, 32);
	l1 = forge_request(m1, A.keys.session_id, ch, T0 + 20);
	run_init(&r, &A, PQ_REHS_RESPONDER, binding_1, T0 + 20);
	assert_int_equal(pq_rehs_receive(&r, &A.cache, m1, l1, T0 + 20, out, BUF, &lo), PQ_E_RANDOM);
	assert_int_equal(A.ctr.local, 2);
	A.rng.stuck = 0;
	assert_fresh_runs_ok(T0 + 1000);
	printf("checked: 2 runs refused on a repeating RNG\n");
}

/* ---- the attack on the seed's design ---- */

/* The seed's MAC (story 3c, steps 4, 9, 10, 14): HMAC(key, challenge). */
static void seed_mac(uint8_t out[32], const uint8_t key[32], const uint8_t challenge[32])
{
	struct pq_iov iov = { challenge, 32 };

	assert_int_equal(pq_hmac_sha256(out, key, 32, &iov, 1), 0);
}

/*
 * The oracle/interleaving attack. A and B share a session (A initiated the
 * hybrid handshake). M holds no session key but can open direct
 * connections and speak on them (e.g. it sits where a direct connection
 * is set up and terminates the TLS; it knows the session id from earlier
 * traffic). M wants A to believe that the direct connection to M is B.
 *
 *   conn 1: M <-> A (exporter X1)        conn 2: M <-> B (exporter X2)
 *
 *   1. M -> A  REQUEST(sid, c_M, t)                run 1, A responds
 *   2. A -> M  RESPONSE(sid, mac_A, c_A, t)        A's counter-challenge c_A
 *   3. M -> B  REQUEST(sid, c_A, t)                run 2, B responds: M uses
 *                                                  c_A as ITS challenge
 *   4. B -> M  RESPONSE(sid, mac_B, c_B, t)        B's answer over c_A
 *   5. M -> A  COMPLETE(sid, mac_B, t)             run 1: "proof" for c_A
 *
 * With the seed's MACs this works: in step 4 B computes
 *     mac_B = HMAC(TX_B, c_A)                 (seed step 4)
 * and in step 5 A checks the COMPLETE as
 *     HMAC(RX_A, c_A)                         (seed step 14)
 * and RX_A == TX_B. So A completes run 1 believing it talks to B: B served
 * as an oracle. Both MACs are over a bare challenge, with no word of which
 * message, which direction, which other challenge or which connection.
 *
 * With ours, mac_B = HMAC(rehs_r2i, "pqlan v1 rehs response r2i" || sid ||
 * c_A || c_B || t || X2) while A expects HMAC(rehs_r2i, "pqlan v1 rehs
 * complete r2i" || sid || c_M || c_A || t || X1): a different label, the
 * challenges in different places and another channel binding. Each one
 * alone defeats the attack; the test also checks it with X1 == X2.
 */
static void oracle_attack(const uint8_t *x1, const uint8_t *x2, uint64_t now)
{
	struct pq_rehs run1, run2;
	struct pq_rehs_response resp_a, resp_b;
	struct pq_rehs_complete forged;
	uint8_t c_m[32], msg[BUF], out[BUF];
	size_t len, lo;

	memset(c_m, 0x4d, 32);
	c_m[0] = (uint8_t)now;
	/* 1-2 */
	run_init(&run1, &A, PQ_REHS_RESPONDER, x1, now);
	len = forge_request(msg, A.keys.session_id, c_m, now);
	assert_int_equal(pq_rehs_receive(&run1, &A.cache, msg, len, now, out, BUF, &lo), 0);
	assert_int_equal(pq_rehs_response_decode(&resp_a, out, lo), 0);
	/* 3-4 */
	run_init(&run2, &B, PQ_REHS_RESPONDER, x2, now);
	len = forge_request(msg, B.keys.session_id, resp_a.counter_challenge, now);
	assert_int_equal(pq_rehs_receive(&run2, &B.cache, msg, len, now, out, BUF, &lo), 0);
	assert_int_equal(pq_rehs_response_decode(&resp_b, out, lo), 0);

	/* In the seed this is exactly what A would accept (traffic keys:
	 * TX_B = key_r2i = RX_A). */
	{
		uint8_t oracle[32], a_expects[32];

		seed_mac(oracle, B.keys.key_r2i, resp_a.counter_challenge);      /* B, seed step 4 */
		seed_mac(a_expects, A.keys.key_r2i, resp_a.counter_challenge);   /* A, seed step 14 */
		assert_memory_equal(oracle, a_expects, 32);
	}

	/* 5: ours refuses it. */
	memcpy(forged.session_id, A.keys.session_id, 16);
	memcpy(forged.mac, resp_b.mac, 32);
	forged.timestamp_ms = resp_b.timestamp_ms;
	assert_int_equal(pq_rehs_complete_encode(msg, BUF, &len, &forged), 0);
	assert_int_equal(pq_rehs_receive(&run1, &A.cache, msg, len, now + 1, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_fail_reason(&run1), PQ_REHS_R_MAC);
	assert_int_equal(lo, 0);
	pq_rehs_clear(&run1);
	pq_rehs_clear(&run2);
}

/*
 * The forwarding variant: M splices two connections, forwarding every
 * message unchanged, so that A and B each complete a re-handshake on a
 * connection whose other end is M (B then "migrates" onto M's path).
 *
 *   1. B -> M  REQUEST(c_B) on conn 2;  M -> A the same on conn 1
 *   2. A -> M  RESPONSE on conn 1;      M -> B the same on conn 2
 *   3. B -> M  COMPLETE on conn 2;      M -> A the same on conn 1
 *
 * Without a channel binding no MAC can tell (seed: HMAC(TX_A, c_B) is
 * right whatever connection carried it). Ours covers the TLS exporter of
 * the connection, which differs on conn 1 and conn 2: B refuses in step 2.
 */
static void forwarding_attack(uint64_t now)
{
	struct pq_rehs rb, ra;
	uint8_t m1[BUF], m2[BUF], out[BUF], ch[32], cc[32];
	size_t l1, l2, lo;

	l1 = started(&rb, &B, binding_2, now, m1, ch);            /* B on conn 2 */
	l2 = responded(&ra, &A, binding_1, now, m1, l1, m2, cc);  /* A on conn 1 */
	{
		uint8_t seed_resp[32], seed_check[32];

		seed_mac(seed_resp, A.keys.key_i2r, ch);   /* A's seed RESPONSE */
		seed_mac(seed_check, B.keys.key_i2r, ch);  /* what B's seed check wants */
		assert_memory_equal(seed_resp, seed_check, 32);
	}
	assert_int_equal(pq_rehs_receive(&rb, &B.cache, m2, l2, now + 1, out, BUF, &lo), PQ_E_AUTH);
	assert_int_equal(pq_rehs_fail_reason(&rb), PQ_REHS_R_MAC);
	pq_rehs_clear(&rb);
	pq_rehs_clear(&ra);
}

/*
 * Reflection: M sends A's own REQUEST back to A on a second connection,
 * hoping A's responder half will produce the RESPONSE its initiator half
 * waits for. A's cache holds its own challenge: refused at once. (The
 * RESPONSE would not verify anyway: it is MACed with A's send key and
 * A's direction label, and A checks the peer's.)
 */
static void reflection_attack(uint64_t now)
{
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], out[BUF], ch[32];
	size_t l1, lo;

	l1 = started(&ri, &A, binding_1, now, m1, ch);
	run_init(&rr, &A, PQ_REHS_RESPONDER, binding_2, now);
	assert_int_equal(pq_rehs_receive(&rr, &A.cache, m1, l1, now, out, BUF, &lo), PQ_E_REPLAY);
	assert_int_equal(lo, 0);
	assert_int_equal(pq_rehs_timer(&ri, now + PQ_REHS_TIMEOUT_MS), PQ_E_TIMEOUT);
}

static void test_interleaving_attack(void **state)
{
	(void)state;
	oracle_attack(binding_1, binding_2, T0);
	assert_fresh_runs_ok(T0 + 1000);
	/* Even if both connections had the same exporter, the labels and the
	 * challenge order still stop the oracle. */
	oracle_attack(binding_1, binding_1, T0 + 2000);
	assert_fresh_runs_ok(T0 + 3000);
	forwarding_attack(T0 + 4000);
	assert_fresh_runs_ok(T0 + 5000);
	reflection_attack(T0 + 6000);
	assert_fresh_runs_ok(T0 + 12000);
	assert_int_equal(A.ctr.mac, 2);
	assert_int_equal(B.ctr.mac, 1);
	assert_int_equal(A.ctr.replay, 1);
	printf("checked: 4 interleaving/forwarding/reflection attacks rejected, seed model shown vulnerable\n");
}

/* ---- MAC known answers (docs/PROTOCOL.md §5.3) ----
 * Expected values computed independently with Python's hmac module over
 * label || session id || challenge || counter-challenge || ts BE || binding. */

static void unhex(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void test_mac_vectors(void **state)
{
	static const struct {
		uint8_t type;
		bool i2r;
		const char *mac;
	} kat[] = {
		{ PQ_MSG_REHS_RESPONSE, true, "f912d98942295f30cfa6b0810d4eb5004ee69f0d395aa53c51b5ad85b63ccaae" },
		{ PQ_MSG_REHS_RESPONSE, false, "2da2f582e461a82b6aba333e359b7b2c6b69d3e7ba9c844af16340b0c91df1f3" },
		{ PQ_MSG_REHS_COMPLETE, true, "cfe1544b04cd86f8e5c5f5f509ad3f18b331f4614e20fc2c2f9c8f8860188e07" },
		{ PQ_MSG_REHS_COMPLETE, false, "72cfd352581a6f26b05f46ff3ddec7ab7622a62c21bf35258feeaa030d129a28" },
	};
	uint8_t key[32], sid[16], ch[32], cc[32], binding[32], mac[32], want[32];

	(void)state;
	for (int i = 0; i < 32; i++) {
		key[i] = (uint8_t)(0x20 + i);
		ch[i] = (uint8_t)(0xc0 + i % 16);
		cc[i] = (uint8_t)(0xa0 ^ i);
		binding[i] = (uint8_t)(0xe0 + i);
	}
	for (int i = 0; i < 16; i++)
		sid[i] = (uint8_t)i;
	for (size_t i = 0; i < 4; i++) {
		unhex(want, kat[i].mac, 32);
		assert_int_equal(pq_rehs_mac(mac, key, kat[i].type, kat[i].i2r, sid, ch, cc, 0x8000019a4f2b3c5dull,
					     binding), 0);
		assert_memory_equal(mac, want, 32);
	}
	assert_int_equal(pq_rehs_mac(mac, key, PQ_MSG_REHS_REQUEST, true, sid, ch, cc, 0, binding), PQ_E_INVAL);
	printf("checked: 4 re-handshake MAC known answers\n");
}

/* ---- the cache on its own ---- */

static void test_cache_unit(void **state)
{
	struct pq_challenge_cache c;
	uint8_t v[32], tag[32];
	unsigned checked = 0;

	(void)state;
	pq_challenge_cache_init(&c);
	memset(v, 0, 32);
	assert_int_equal(pq_challenge_expiry(T0, T0 - 5), T0 + 30001);
	assert_int_equal(pq_challenge_expiry(T0, T0 + 7), T0 + 7 + 30001);
	assert_int_equal(pq_challenge_expiry(UINT64_MAX - 3, 0), UINT64_MAX);
	for (unsigned i = 0; i < PQ_CHALLENGE_CACHE_SLOTS; i++, checked++) {
		v[0] = (uint8_t)i;
		assert_int_equal(pq_challenge_cache_add(&c, v, T0 + 100 + i, T0), 0);
		assert_int_equal(pq_challenge_cache_add(&c, v, T0 + 100, T0), PQ_E_REPLAY);
	}
	/* Full: nothing is added, nothing reserved, nothing evicted. */
	v[0] = 0xff;
	assert_int_equal(pq_challenge_cache_add(&c, v, T0 + 100, T0), PQ_E_LIMIT);
	assert_int_equal(pq_challenge_cache_reserve(&c, v, T0 + 100, T0), PQ_E_LIMIT);
	for (unsigned i = 0; i < PQ_CHALLENGE_CACHE_SLOTS; i++, checked++) {
		v[0] = (uint8_t)i;
		assert_true(pq_challenge_cache_seen(&c, v, T0 + 99));
	}
	/* Entry i lives while now < T0 + 100 + i. */
	v[0] = 0;
	assert_false(pq_challenge_cache_seen(&c, v, T0 + 100));
	assert_int_equal(pq_challenge_cache_room(&c, T0 + 100), 1);
	assert_int_equal(pq_challenge_cache_room(&c, T0 + 100 + PQ_CHALLENGE_CACHE_SLOTS), PQ_CHALLENGE_CACHE_SLOTS);
	/* Reservations: filled only under their tag, released, or lapse. */
	pq_challenge_cache_init(&c);
	memset(tag, 0x11, 32);
	memset(v, 0x22, 32);
	assert_int_equal(pq_challenge_cache_reserve(&c, tag, T0 + 50, T0), 0);
	assert_false(pq_challenge_cache_seen(&c, tag, T0)); /* a tag is not a seen value */
	assert_int_equal(pq_challenge_cache_fill(&c, v, v, T0 + 190, T0), PQ_E_STATE);       /* wrong tag */
	assert_int_equal(pq_challenge_cache_fill(&c, tag, v, T0 + 190, T0 + 50), PQ_E_STATE); /* lapsed */
	assert_int_equal(pq_challenge_cache_room(&c, T0 + 50), PQ_CHALLENGE_CACHE_SLOTS);
	assert_int_equal(pq_challenge_cache_reserve(&c, tag, T0 + 100, T0 + 50), 0);
	assert_int_equal(pq_challenge_cache_fill(&c, tag, v, T0 + 190, T0 + 60), 0);
	assert_true(pq_challenge_cache_seen(&c, v, T0 + 189));
	assert_int_equal(pq_challenge_cache_room(&c, T0 + 60), PQ_CHALLENGE_CACHE_SLOTS - 1);
	assert_int_equal(pq_challenge_cache_reserve(&c, tag, T0 + 100, T0 + 60), 0);
	assert_int_equal(pq_challenge_cache_fill(&c, tag, v, T0 + 190, T0 + 60), PQ_E_REPLAY);
	assert_int_equal(pq_challenge_cache_room(&c, T0 + 60), PQ_CHALLENGE_CACHE_SLOTS - 2);
	pq_challenge_cache_release(&c, tag, T0 + 60);
	assert_int_equal(pq_challenge_cache_room(&c, T0 + 60), PQ_CHALLENGE_CACHE_SLOTS - 1);
	/* Forget: only the SEEN entry of that value goes, not a reservation
	 * tagged with it, nor another value. */
	assert_int_equal(pq_challenge_cache_reserve(&c, v, T0 + 100, T0 + 60), 0);
	memset(tag, 0x33, 32);
	assert_int_equal(pq_challenge_cache_add(&c, tag, T0 + 190, T0 + 60), 0);
	pq_challenge_cache_forget(&c, v, T0 + 60);
	assert_false(pq_challenge_cache_seen(&c, v, T0 + 60));
	assert_true(pq_challenge_cache_seen(&c, tag, T0 + 60));
	assert_int_equal(pq_challenge_cache_fill(&c, v, v, T0 + 190, T0 + 60), 0); /* the reservation stood */
	assert_int_equal(pq_challenge_cache_add(&c, v, T0 + 190, T0 + 60), PQ_E_REPLAY);
	pq_challenge_cache_forget(&c, v, T0 + 60);
	assert_int_equal(pq_challenge_cache_add(&c, v, T0 + 190, T0 + 60), 0);
	checked += 19;
	printf("checked: %u challenge cache cases\n", checked);
}

/* ---- cost ---- */

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void test_cost(void **state)
{
	const unsigned runs = 1000;
	double t0, t1;

	(void)state;
	t0 = cpu_us();
	/* 2 s of fake time per run keeps ~15 runs' entries live per cache. */
	for (unsigned i = 0; i < runs; i++)
		full_run(i % 2 ? &A : &B, i % 2 ? &B : &A, binding_1, T0 + 2000ull * i);
	t1 = cpu_us();
	assert_int_equal(A.ctr.completed, runs);
	printf("rehandshake_cpu_us %.1f (per full run, both sides, 3 messages; %u runs)\n", (t1 - t0) / runs, runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_success_both_ways, setup_nodes),
		cmocka_unit_test_setup(test_request_replay, setup_nodes),
		cmocka_unit_test_setup(test_timestamps, setup_nodes),
		cmocka_unit_test_setup(test_wrong_session_id, setup_nodes),
		cmocka_unit_test_setup(test_channel_binding, setup_nodes),
		cmocka_unit_test_setup(test_wrong_key, setup_nodes),
		cmocka_unit_test_setup(test_tampering, setup_nodes),
		cmocka_unit_test_setup(test_unexpected_order, setup_nodes),
		cmocka_unit_test_setup(test_timeout, setup_nodes),
		cmocka_unit_test_setup(test_external_deadline, setup_nodes),
		cmocka_unit_test_setup(test_reflected_and_cached_counter_challenge, setup_nodes),
		cmocka_unit_test_setup(test_cache_full, setup_nodes),
		cmocka_unit_test_setup(test_abandon_unproven, setup_nodes),
		cmocka_unit_test_setup(test_broken_rng, setup_nodes),
		cmocka_unit_test_setup(test_interleaving_attack, setup_nodes),
		cmocka_unit_test_setup(test_mac_vectors, setup_nodes),
		cmocka_unit_test_setup(test_cache_unit, setup_nodes),
		cmocka_unit_test_setup(test_cost, setup_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
