/*
 * test_session.c - the sealed data session (src/proto/session.c, DESIGN §4):
 * every sealed type both ways, every byte of a sealed message tampered,
 * rekey with frames in flight (after real handshakes), the previous key's
 * grace period, a 1000-frame shuffle with duplicates, counter limits,
 * rekey / keepalive / expiry timers and the next-deadline query, and
 * wiping of retired keys. Fixed keys (no handshake) where keys don't matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/hs_fixture.h"

#define T0 1700000000000ULL

static uint8_t wire[PQ_SEALED_MAX_LEN + 16];
static uint8_t plain[PQ_SEALED_MAX_LEN + 16];

/* Keys of "generation" gen, as both ends of one handshake would hold them. */
static void result_for(struct pq_hs_result *r, uint8_t gen, bool initiator, bool confirmed)
{
	memset(r, 0, sizeof(*r));
	r->event = PQ_HS_EV_KEYS;
	r->initiator = initiator;
	r->confirmed = confirmed;
	r->local_index = initiator ? 0x1000u + gen : 0x2000u + gen;
	r->remote_index = initiator ? 0x2000u + gen : 0x1000u + gen;
	memset(r->keys.key_i2r, 0x10 + gen, PQ_KEY_LEN);
	memset(r->keys.key_r2i, 0x20 + gen, PQ_KEY_LEN);
	memset(r->keys.rehs_i2r, 0x30 + gen, PQ_KEY_LEN);
	memset(r->keys.rehs_r2i, 0x40 + gen, PQ_KEY_LEN);
	memset(r->keys.session_id, 0x50 + gen, PQ_SESSION_ID_LEN);
}

/* a initiated generation gen; b confirms at once when confirm_b. */
static void install_gen(struct pq_session *a, struct pq_session *b, uint8_t gen, uint64_t now, bool confirm_b)
{
	struct pq_hs_result r;

	result_for(&r, gen, false, false);
	assert_int_equal(pq_session_install(b, &r, now), 0);
	result_for(&r, gen, true, true);
	assert_int_equal(pq_session_install(a, &r, now), 0);
	if (confirm_b) {
		memset(&r, 0, sizeof(r));
		r.event = PQ_HS_EV_CONFIRMED;
		r.local_index = 0x2000u + gen;
		assert_int_equal(pq_session_install(b, &r, now), 0);
	}
}

struct two {
	struct pq_session a, b;
	uint64_t now;
};

static struct two *two_new(void)
{
	struct two *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	pq_session_init(&t->a);
	pq_session_init(&t->b);
	t->now = T0;
	install_gen(&t->a, &t->b, 1, t->now, true);
	return t;
}

static void two_free(struct two *t)
{
	pq_session_wipe(&t->a);
	pq_session_wipe(&t->b);
	free(t);
}

static void frame_with_id(uint8_t *f, size_t len, uint32_t id)
{
	memset(f, 0xa5, len);
	f[0] = (uint8_t)(id >> 24);
	f[1] = (uint8_t)(id >> 16);
	f[2] = (uint8_t)(id >> 8);
	f[3] = (uint8_t)id;
}

static uint32_t id_of(const uint8_t *f)
{
	return (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
}

static void roundtrip(struct pq_session *x, struct pq_session *y, uint8_t type, const uint8_t *pt, size_t len,
		      uint64_t now)
{
	uint8_t got_type = 0xff;
	long n = pq_session_seal(x, type, pt, len, wire, sizeof(wire), now);

	assert_int_equal(n, (long)(len + PQ_SEALED_OVERHEAD));
	assert_int_equal(wire[0], type);
	assert_int_equal(pq_session_open(y, wire, (size_t)n, plain, sizeof(plain), now, &got_type), (long)len);
	assert_int_equal(got_type, type);
	if (len)
		assert_memory_equal(plain, pt, len);
}

static void test_every_type_both_ways(void **state)
{
	struct two *t = two_new();
	static uint8_t big[PQ_MAX_FRAME_LEN + 1];
	struct pq_endpoints eps = { 0 };
	static const uint8_t v4[4] = { 198, 51, 100, 7 };
	uint8_t ep_buf[PQ_ENDPOINTS_MAX_LEN], probe[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	long ep_len;
	unsigned checked = 0;

	(void)state;
	memset(big, 0x3c, sizeof(big));
	eps.count = 1;
	pq_endpoint_set_v4(&eps.ep[0], v4, 4242);
	ep_len = pq_endpoints_encode(&eps, ep_buf, sizeof(ep_buf));
	assert_int_equal(ep_len, 20);
	for (int dir = 0; dir < 2; dir++) {
		struct pq_session *x = dir ? &t->b : &t->a, *y = dir ? &t->a : &t->b;

		roundtrip(x, y, PQ_MSG_DATA, big, PQ_DATA_MIN_LEN, t->now);
		roundtrip(x, y, PQ_MSG_DATA, big, 1514, t->now);
		roundtrip(x, y, PQ_MSG_DATA, big, PQ_MAX_FRAME_LEN, t->now);
		roundtrip(x, y, PQ_MSG_KEEPALIVE, NULL, 0, t->now);
		roundtrip(x, y, PQ_MSG_ENDPOINTS, ep_buf, (size_t)ep_len, t->now);
		roundtrip(x, y, PQ_MSG_PROBE, probe, 8, t->now);
		roundtrip(x, y, PQ_MSG_PROBE_ACK, probe, 8, t->now);
		checked += 7;
		/* Out-of-bounds plaintexts and types are refused before sealing. */
		assert_int_equal(pq_session_seal(x, PQ_MSG_DATA, big, PQ_DATA_MIN_LEN - 1, wire, sizeof(wire), t->now),
				 PQ_E_DECODE);
		assert_int_equal(pq_session_seal(x, PQ_MSG_DATA, big, PQ_MAX_FRAME_LEN + 1, wire, sizeof(wire), t->now),
				 PQ_E_TOOBIG);
		assert_int_equal(pq_session_seal(x, PQ_MSG_KEEPALIVE, big, 1, wire, sizeof(wire), t->now), PQ_E_DECODE);
		assert_int_equal(pq_session_seal(x, PQ_MSG_PROBE, big, 7, wire, sizeof(wire), t->now), PQ_E_DECODE);
		assert_int_equal(pq_session_seal(x, PQ_MSG_HS_INIT, big, 20, wire, sizeof(wire), t->now), PQ_E_DECODE);
		assert_int_equal(pq_session_seal(x, PQ_MSG_DATA, big, 100, wire, 100 + PQ_SEALED_OVERHEAD - 1, t->now),
				 PQ_E_TOOBIG);
		checked += 6;
	}
	/* In place: the plaintext already sits after the header. */
	memset(wire + PQ_SEALED_HDR_LEN, 0x77, 64);
	assert_int_equal(pq_session_seal(&t->a, PQ_MSG_DATA, wire + PQ_SEALED_HDR_LEN, 64, wire, sizeof(wire), t->now),
			 64 + PQ_SEALED_OVERHEAD);
	{
		uint8_t type, out[63];

		assert_int_equal(pq_session_open(&t->b, wire, 64 + PQ_SEALED_OVERHEAD, out, sizeof(out), t->now, &type),
				 PQ_E_TOOBIG);
		assert_int_equal(t->b.stats.drop_toobig, 1);
	}
	assert_int_equal(pq_session_open(&t->b, wire, 64 + PQ_SEALED_OVERHEAD, plain, sizeof(plain), t->now, &(uint8_t){ 0 }),
			 64);
	for (int i = 0; i < 64; i++)
		assert_int_equal(plain[i], 0x77);
	assert_int_equal(t->a.stats.tx_frames, 8);
	assert_int_equal(t->b.stats.rx_frames, 8);
	assert_int_equal(t->b.stats.tx_frames, 7);
	assert_true(t->a.stats.tx_bytes == t->b.stats.rx_bytes);
	printf("checked: %u sealed type/size cases\n", checked + 2);
	two_free(t);
}

static uint64_t session_drops(const struct pq_session_stats *s)
{
	return s->drop_decode + s->drop_index + s->drop_auth + s->drop_replay + s->drop_toobig;
}

static void test_tamper_every_byte(void **state)
{
	struct two *t = two_new();
	uint8_t msg[100 + PQ_SEALED_OVERHEAD], bad[sizeof(msg)], frame[100], type;
	unsigned checked = 0;

	(void)state;
	frame_with_id(frame, sizeof(frame), 42);
	assert_int_equal(pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), msg, sizeof(msg), t->now),
			 (long)sizeof(msg));
	for (size_t i = 0; i < sizeof(msg); i++)
		for (int bit = 0; bit < 8; bit++, checked++) {
			uint64_t drops = session_drops(&t->b.stats);

			memcpy(bad, msg, sizeof(msg));
			bad[i] ^= (uint8_t)(1u << bit);
			assert_true(pq_session_open(&t->b, bad, sizeof(bad), plain, sizeof(plain), t->now, &type) < 0);
			assert_int_equal(session_drops(&t->b.stats), drops + 1);
		}
	/* Forgeries moved nothing: the genuine message is still accepted once. */
	assert_int_equal(pq_session_open(&t->b, msg, sizeof(msg), plain, sizeof(plain), t->now, &type), 100);
	assert_int_equal(pq_session_open(&t->b, msg, sizeof(msg), plain, sizeof(plain), t->now, &type), PQ_E_REPLAY);
	/* Truncated and overlong. */
	for (size_t n = 0; n < sizeof(msg); n++, checked++)
		assert_true(pq_session_open(&t->b, msg, n, plain, sizeof(plain), t->now, &type) < 0);
	assert_true(t->b.stats.drop_auth > 0 && t->b.stats.drop_index > 0 && t->b.stats.drop_decode > 0);
	printf("checked: %u tampered or truncated sealed messages refused\n", checked);
	two_free(t);
}

/* Real handshakes: frames sealed under the old keys arrive after frames
 * under the new ones; none is lost, none accepted twice. */
static void test_rekey_frames_in_flight(void **state)
{
	enum { N = 64 };
	struct fx_node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	static uint8_t held[2][2 * N][60 + PQ_SEALED_OVERHEAD];
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN], frame[60], type;
	struct pq_hs_result res;
	uint64_t now = T0;
	int seen[2][2 * N] = { { 0 } };

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(fx_node_init(a, 1), 0);
	assert_int_equal(fx_node_init(b, 2), 0);
	fx_allow(a, b->pub, now);
	fx_allow(b, a->pub, now);
	for (int round = 0; round < 2; round++) {
		now += 1000;
		assert_int_equal(pq_hs_initiate(&a->hs, &a->peers[0], now, now, init, sizeof(init)), PQ_HS_INIT_LEN);
		assert_int_equal(fx_deliver(b, a, init, sizeof(init), now, resp, sizeof(resp), &res), PQ_HS_RESP_LEN);
		/* Second round: frames under the old keys, both ways, held back. */
		for (int i = 0; round == 1 && i < N; i++) {
			frame_with_id(frame, sizeof(frame), (uint32_t)i);
			assert_true(pq_session_seal(&a->sess[0], PQ_MSG_DATA, frame, sizeof(frame), held[0][i],
						    sizeof(held[0][i]), now) > 0);
			assert_true(pq_session_seal(&b->sess[0], PQ_MSG_DATA, frame, sizeof(frame), held[1][i],
						    sizeof(held[1][i]), now) > 0);
		}
		assert_int_equal(fx_deliver(a, b, resp, sizeof(resp), now, fin, sizeof(fin), &res), PQ_HS_FINISH_LEN);
		assert_int_equal(fx_deliver(b, a, fin, sizeof(fin), now, NULL, 0, &res), 0);
	}
	assert_non_null(a->sess[0].previous);
	assert_non_null(b->sess[0].previous);
	for (int i = N; i < 2 * N; i++) {
		frame_with_id(frame, sizeof(frame), (uint32_t)i);
		assert_true(pq_session_seal(&a->sess[0], PQ_MSG_DATA, frame, sizeof(frame), held[0][i],
					    sizeof(held[0][i]), now) > 0);
		assert_true(pq_session_seal(&b->sess[0], PQ_MSG_DATA, frame, sizeof(frame), held[1][i],
					    sizeof(held[1][i]), now) > 0);
	}
	/* New first, then old, then everything again. */
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < 2 * N; k++) {
			int i = (k + N) % (2 * N);

			for (int dir = 0; dir < 2; dir++) {
				struct pq_session *rx = dir ? &a->sess[0] : &b->sess[0];
				long n = pq_session_open(rx, held[dir][i], sizeof(held[dir][i]), plain, sizeof(plain),
							 now + 500, &type);

				if (pass == 0) {
					assert_int_equal(n, 60);
					seen[dir][id_of(plain)]++;
				} else {
					assert_int_equal(n, PQ_E_REPLAY);
				}
			}
		}
	for (int dir = 0; dir < 2; dir++)
		for (int i = 0; i < 2 * N; i++)
			assert_int_equal(seen[dir][i], 1);
	printf("checked: %d frames across a rekey, each accepted once\n", 4 * 2 * N);
	fx_node_free(a);
	fx_node_free(b);
	free(a);
	free(b);
}

static void test_previous_grace_period(void **state)
{
	struct two *t = two_new();
	uint8_t frame[40], old1[40 + PQ_SEALED_OVERHEAD], old2[sizeof(old1)], type;
	struct pq_keypair *prev_slot;

	(void)state;
	memset(frame, 1, sizeof(frame));
	assert_true(pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), old1, sizeof(old1), t->now) > 0);
	assert_true(pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), old2, sizeof(old2), t->now) > 0);
	install_gen(&t->a, &t->b, 2, t->now, true);
	prev_slot = t->b.previous;
	assert_non_null(prev_slot);
	assert_int_equal(pq_session_next_deadline(&t->b, t->now), t->now + PQ_PREV_GRACE_MS);
	assert_int_equal(pq_session_open(&t->b, old1, sizeof(old1), plain, sizeof(plain),
					 t->now + PQ_PREV_GRACE_MS - 1, &type), 40);
	assert_int_equal(pq_session_open(&t->b, old2, sizeof(old2), plain, sizeof(plain),
					 t->now + PQ_PREV_GRACE_MS, &type), PQ_E_PEER);
	assert_null(t->b.previous);
	/* The retired keypair was wiped, context pointers included. */
	for (size_t i = 0; i < sizeof(*prev_slot); i++)
		assert_int_equal(((uint8_t *)prev_slot)[i], 0);
	two_free(t);
}

static void test_shuffle_with_duplicates(void **state)
{
	enum { N = 1000, DUPS = 300 };
	struct two *t = two_new();
	static uint8_t msgs[N][PQ_DATA_MIN_LEN + 16 + PQ_SEALED_OVERHEAD];
	static int order[N + DUPS], seen[N];
	uint8_t frame[PQ_DATA_MIN_LEN + 16], type;
	uint32_t lcg = 12345;
	int accepted = 0, replays = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		frame_with_id(frame, sizeof(frame), (uint32_t)i);
		assert_true(pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), msgs[i], sizeof(msgs[i]), t->now) >
			    0);
		order[i] = i;
	}
	for (int i = 0; i < DUPS; i++)
		order[N + i] = (i * 7919) % N;
	for (int i = N + DUPS - 1; i > 0; i--) {   /* Fisher-Yates, fixed LCG */
		int j, tmp;

		lcg = lcg * 1103515245u + 12345u;
		j = (int)((lcg >> 8) % (uint32_t)(i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (int k = 0; k < N + DUPS; k++) {
		long n = pq_session_open(&t->b, msgs[order[k]], sizeof(msgs[0]), plain, sizeof(plain), t->now, &type);

		if (n == (long)sizeof(frame)) {
			accepted++;
			seen[id_of(plain)]++;
		} else {
			assert_int_equal(n, PQ_E_REPLAY);
			replays++;
		}
	}
	assert_int_equal(accepted, N);
	assert_int_equal(replays, DUPS);
	for (int i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(t->b.stats.drop_replay, DUPS);
	printf("checked: %d shuffled frames with %d duplicates, each accepted once\n", N, DUPS);
	two_free(t);
}

static void test_counter_limits(void **state)
{
	struct two *t = two_new();
	uint8_t frame[20] = { 0 }, type;
	long n;

	(void)state;
	/* Fresh initiator keys owe one message at once; the responder's don't. */
	assert_int_equal(pq_session_poll(&t->a, t->now), PQ_SESSION_WANT_KEEPALIVE);
	assert_int_equal(pq_session_poll(&t->b, t->now), 0);
	t->a.current->send_counter = PQ_REKEY_AFTER_MESSAGES;
	assert_int_equal(pq_session_poll(&t->a, t->now), PQ_SESSION_WANT_REKEY | PQ_SESSION_WANT_KEEPALIVE);
	t->a.current->send_counter = PQ_REJECT_AFTER_MESSAGES - 1;
	assert_true(pq_session_can_send(&t->a, t->now));
	n = pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), t->now);
	assert_int_equal(n, 20 + PQ_SEALED_OVERHEAD);
	assert_int_equal(pq_session_open(&t->b, wire, (size_t)n, plain, sizeof(plain), t->now, &type), 20);
	/* Never past 2^64 - 2^13. */
	assert_false(pq_session_can_send(&t->a, t->now));
	assert_int_equal(pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), t->now),
			 PQ_E_LIMIT);
	assert_int_equal(pq_session_seal(&t->a, PQ_MSG_KEEPALIVE, NULL, 0, wire, sizeof(wire), t->now), PQ_E_LIMIT);
	two_free(t);
}

static void test_timers(void **state)
{
	struct two *t = two_new();
	uint8_t frame[20] = { 0 }, type;
	uint64_t now = t->now;
	long n;

	(void)state;
	/* Nothing owed yet: the next deadline is the initiator's rekey. */
	assert_int_equal(pq_session_next_deadline(&t->a, now), now + PQ_REKEY_AFTER_MS);
	assert_int_equal(pq_session_next_deadline(&t->b, now), now + PQ_REKEY_AFTER_MS + PQ_REKEY_RESPONDER_DELAY_MS);
	/* b receives data and sends nothing: a keepalive is owed after 10 s. */
	n = pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), now);
	assert_int_equal(pq_session_open(&t->b, wire, (size_t)n, plain, sizeof(plain), now, &type), 20);
	assert_int_equal(pq_session_next_deadline(&t->b, now), now + PQ_KEEPALIVE_MS);
	assert_int_equal(pq_session_poll(&t->b, now + PQ_KEEPALIVE_MS - 1), 0);
	assert_int_equal(pq_session_poll(&t->b, now + PQ_KEEPALIVE_MS), PQ_SESSION_WANT_KEEPALIVE);
	n = pq_session_seal(&t->b, PQ_MSG_KEEPALIVE, NULL, 0, wire, sizeof(wire), now + PQ_KEEPALIVE_MS);
	assert_int_equal(n, PQ_SEALED_OVERHEAD);
	assert_int_equal(pq_session_poll(&t->b, now + PQ_KEEPALIVE_MS), 0);
	/* A keepalive received owes nothing back. */
	assert_int_equal(pq_session_open(&t->a, wire, (size_t)n, plain, sizeof(plain), now + PQ_KEEPALIVE_MS, &type), 0);
	assert_int_equal(type, PQ_MSG_KEEPALIVE);
	assert_int_equal(pq_session_poll(&t->a, now + 2 * PQ_KEEPALIVE_MS), 0);
	/* Rekey: the initiator at 120 s, the responder 10 s later. */
	assert_int_equal(pq_session_poll(&t->a, now + PQ_REKEY_AFTER_MS - 1), 0);
	assert_int_equal(pq_session_poll(&t->a, now + PQ_REKEY_AFTER_MS), PQ_SESSION_WANT_REKEY);
	assert_int_equal(pq_session_poll(&t->b, now + PQ_REKEY_AFTER_MS), 0);
	assert_int_equal(pq_session_poll(&t->b, now + PQ_REKEY_AFTER_MS + PQ_REKEY_RESPONDER_DELAY_MS),
			 PQ_SESSION_WANT_REKEY);
	assert_int_equal(pq_session_next_deadline(&t->a, now + PQ_REKEY_AFTER_MS), now + PQ_REJECT_AFTER_MS);
	/* Keys past 180 s are retired: nothing to send with. */
	assert_true(pq_session_can_send(&t->a, now + PQ_REJECT_AFTER_MS - 1));
	assert_false(pq_session_can_send(&t->a, now + PQ_REJECT_AFTER_MS));
	/* As session.h promises (issue 8 defect 6): PQ_E_LIMIT for keys too
	 * old, then PQ_E_STATE once they are gone. */
	assert_int_equal(pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire),
					 now + PQ_REJECT_AFTER_MS), PQ_E_LIMIT);
	assert_null(t->a.current);
	assert_int_equal(pq_session_seal(&t->a, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire),
					 now + PQ_REJECT_AFTER_MS), PQ_E_STATE);
	assert_int_equal(pq_session_next_deadline(&t->a, now + PQ_REJECT_AFTER_MS), UINT64_MAX);
	two_free(t);
}

static void test_install_rules(void **state)
{
	struct pq_session s, r;
	struct pq_hs_result res;
	uint8_t frame[20] = { 0 }, type;
	long n;

	(void)state;
	pq_session_init(&s);
	pq_session_init(&r);
	memset(&res, 0, sizeof(res));
	assert_int_equal(pq_session_install(&s, &res, T0), PQ_E_INVAL);
	res.event = PQ_HS_EV_CONFIRMED;
	res.local_index = 5;
	assert_int_equal(pq_session_install(&s, &res, T0), PQ_E_STATE);
	/* A responder's unconfirmed keys are replaced by newer ones. */
	result_for(&res, 1, false, false);
	assert_int_equal(pq_session_install(&r, &res, T0), 0);
	result_for(&res, 2, false, false);
	assert_int_equal(pq_session_install(&r, &res, T0), 0);
	assert_false(pq_session_owns_index(&r, 0x2001));
	assert_true(pq_session_owns_index(&r, 0x2002));
	result_for(&res, 2, true, true);
	assert_int_equal(pq_session_install(&s, &res, T0), 0);
	/* Data under next promotes it (implicit confirmation). */
	n = pq_session_seal(&s, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), T0);
	assert_int_equal(pq_session_open(&r, wire, (size_t)n, plain, sizeof(plain), T0, &type), 20);
	assert_non_null(r.current);
	assert_null(r.next);
	/* Many rekeys never run out of slots. */
	for (uint8_t gen = 3; gen < 20; gen++)
		install_gen(&s, &r, gen, T0 + gen, gen % 2);
	assert_int_equal(s.stats.rekeys, 18);
	pq_session_wipe(&s);
	pq_session_wipe(&r);
	assert_null(s.current);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_both_ways),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_rekey_frames_in_flight),
		cmocka_unit_test(test_previous_grace_period),
		cmocka_unit_test(test_shuffle_with_duplicates),
		cmocka_unit_test(test_counter_limits),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_install_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
