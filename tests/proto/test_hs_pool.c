/*
 * test_hs_pool.c - the handshake's precomputed ephemeral key pairs
 * (proto/hs_pool.c, issue 13): pq_hs_precompute fills the pool and
 * refills only what was used; every initiation and every HS_RESP takes a
 * pair nobody used before (two initiations never share an X25519 or
 * ML-KEM key, pooled or made on the spot); the pool's copy is wiped as it
 * is taken, when too old, and by pq_hs_wipe; a failed refill leaves no
 * half-made pair; handshakes on pooled keys complete and carry data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/mlkem.h"
#include "hs_fixture.h"
#include "testutil.h"

/* One clock for both wall and monotonic time, as fx_deliver does. */
#define M0 1700000000000ull
#define POOL_SIZE (PQ_HS_POOL_INIT + PQ_HS_POOL_RESP)

struct duo {
	struct fx_node a, b;
	struct pq_hs_result res;
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
};

static struct duo *duo_new(void)
{
	struct duo *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	assert_int_equal(fx_node_init(&d->a, 1), 0);
	assert_int_equal(fx_node_init(&d->b, 2), 0);
	fx_allow(&d->a, d->b.pub, M0);
	fx_allow(&d->b, d->a.pub, M0);
	return d;
}

static void duo_free(struct duo *d)
{
	fx_node_free(&d->a);
	fx_node_free(&d->b);
	free(d);
}

/* The ephemeral keys an HS_INIT carries. */
struct init_keys {
	uint8_t x[PQ_X25519_LEN];
	uint8_t ek[PQ_MLKEM1024_EK_LEN];
};

static void init_keys_of(struct init_keys *k, const uint8_t *init)
{
	struct pq_hs_init_msg m;

	assert_int_equal(pq_hs_init_decode(&m, init, PQ_HS_INIT_LEN), 0);
	memcpy(k->x, m.x25519_pub, sizeof(k->x));
	memcpy(k->ek, m.mlkem_ek, sizeof(k->ek));
}

static void assert_keys_differ(const struct init_keys *k1, const struct init_keys *k2)
{
	assert_memory_not_equal(k1->x, k2->x, sizeof(k1->x));
	assert_memory_not_equal(k1->ek, k2->ek, sizeof(k1->ek));
}

static int slots_ready(const struct pq_hs *hs)
{
	int n = 0;

	for (size_t i = 0; i < PQ_HS_POOL_INIT; i++)
		n += hs->pool.init[i].ready;
	for (size_t i = 0; i < PQ_HS_POOL_RESP; i++)
		n += hs->pool.resp[i].ready;
	return n;
}

static void initiate(struct duo *d, uint64_t mono)
{
	assert_int_equal(pq_hs_initiate(&d->a.hs, &d->a.peers[0], mono, mono, d->init, sizeof(d->init)),
			 PQ_HS_INIT_LEN);
}

/* The whole handshake a -> b from d->init on; keys installed, data both ways. */
static void complete(struct duo *d, uint64_t mono)
{
	uint8_t frame[64], wire[64 + PQ_SEALED_OVERHEAD], got[64], type;

	assert_int_equal(fx_deliver(&d->b, &d->a, d->init, sizeof(d->init), mono, d->resp, sizeof(d->resp),
				    &d->res), PQ_HS_RESP_LEN);
	assert_int_equal(fx_deliver(&d->a, &d->b, d->resp, sizeof(d->resp), mono, d->fin, sizeof(d->fin),
				    &d->res), PQ_HS_FINISH_LEN);
	assert_int_equal(fx_deliver(&d->b, &d->a, d->fin, sizeof(d->fin), mono, NULL, 0, &d->res), 0);
	assert_int_equal(d->res.event, PQ_HS_EV_CONFIRMED);
	memset(frame, 0x5a, sizeof(frame));
	assert_int_equal(pq_session_seal(&d->a.sess[0], PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), mono),
			 (long)sizeof(wire));
	assert_int_equal(pq_session_open(&d->b.sess[0], wire, sizeof(wire), got, sizeof(got), mono, &type),
			 (long)sizeof(got));
	assert_memory_equal(got, frame, sizeof(frame));
	assert_int_equal(pq_session_seal(&d->b.sess[0], PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), mono),
			 (long)sizeof(wire));
	assert_int_equal(pq_session_open(&d->a.sess[0], wire, sizeof(wire), got, sizeof(got), mono, &type),
			 (long)sizeof(got));
}

/* Empty at start; one call fills every slot; a full pool makes nothing;
 * after one initiation exactly that pair is made again. */
static void test_fill_and_refill(void **state)
{
	struct duo *d = duo_new();

	(void)state;
	assert_int_equal(slots_ready(&d->a.hs), 0);
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0), POOL_SIZE);
	assert_int_equal(slots_ready(&d->a.hs), POOL_SIZE);
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0 + 1000), 0);
	assert_int_equal(d->a.hs.stats.pool_made, POOL_SIZE);
	initiate(d, M0 + 1000);
	assert_int_equal(slots_ready(&d->a.hs), POOL_SIZE - 1);
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0 + 2000), 1);
	assert_int_equal(slots_ready(&d->a.hs), POOL_SIZE);
	assert_int_equal(d->a.hs.stats.pool_made, POOL_SIZE + 1);
	duo_free(d);
}

/* Each initiation carries a pooled pair exactly once: the keys in HS_INIT
 * are the pool's, the slot is zero afterwards, the next initiation (to the
 * same peer, a restart) has other keys, and once the pool is empty the
 * keys made on the spot differ from all before. Pending keeps the secret
 * half of the pair it sent. */
static void test_initiations_take_fresh_keys(void **state)
{
	struct duo *d = duo_new();
	struct init_keys pooled[PQ_HS_POOL_INIT], sent[PQ_HS_POOL_INIT + 1];
	uint64_t mono = M0;

	(void)state;
	assert_int_equal(pq_hs_precompute(&d->a.hs, mono), POOL_SIZE);
	for (size_t i = 0; i < PQ_HS_POOL_INIT; i++) {
		memcpy(pooled[i].x, d->a.hs.pool.init[i].x25519_pub, PQ_X25519_LEN);
		memcpy(pooled[i].ek, d->a.hs.pool.init[i].mlkem_ek, PQ_MLKEM1024_EK_LEN);
	}
	for (size_t i = 0; i <= PQ_HS_POOL_INIT; i++) {
		initiate(d, mono += 10);
		init_keys_of(&sent[i], d->init);
		assert_memory_equal(d->a.peers[0].pending.x25519_pub, sent[i].x, PQ_X25519_LEN);
		assert_false(pq_test_all_zero(d->a.peers[0].pending.x25519_priv, PQ_X25519_LEN));
		assert_false(pq_test_all_zero(d->a.peers[0].pending.mlkem_dk, PQ_MLKEM1024_DK_LEN));
		for (size_t j = 0; j < i; j++)
			assert_keys_differ(&sent[i], &sent[j]);
		if (i < PQ_HS_POOL_INIT) {
			/* slots were made at the same time: taken in index order */
			assert_memory_equal(sent[i].x, pooled[i].x, PQ_X25519_LEN);
			assert_memory_equal(sent[i].ek, pooled[i].ek, PQ_MLKEM1024_EK_LEN);
			assert_true(pq_test_all_zero(&d->a.hs.pool.init[i], sizeof(d->a.hs.pool.init[i])));
		}
	}
	assert_int_equal(d->a.hs.stats.pool_used, PQ_HS_POOL_INIT);
	assert_int_equal(d->a.hs.stats.pool_empty, 1);
	for (size_t j = 0; j < PQ_HS_POOL_INIT; j++)
		assert_keys_differ(&sent[PQ_HS_POOL_INIT], &pooled[j]);
	/* the last one still completes */
	complete(d, mono);
	pq_test_checked("initiations on distinct ephemeral keys", PQ_HS_POOL_INIT + 1);
	duo_free(d);
}

/* Without a pool, two initiations also use different keys (the on-the-spot
 * path draws fresh randomness each time). */
static void test_on_the_spot_keys_differ(void **state)
{
	struct duo *d = duo_new();
	struct init_keys k1, k2;

	(void)state;
	initiate(d, M0);
	init_keys_of(&k1, d->init);
	initiate(d, M0 + 10);
	init_keys_of(&k2, d->init);
	assert_keys_differ(&k1, &k2);
	assert_int_equal(d->a.hs.stats.pool_used, 0);
	assert_int_equal(d->a.hs.stats.pool_empty, 2);
	duo_free(d);
}

/* The responder's X25519 e in HS_RESP is its pooled one, used once. */
static void test_responder_takes_fresh_key(void **state)
{
	struct duo *d = duo_new();
	uint8_t pooled[PQ_HS_POOL_RESP][PQ_X25519_LEN], e1[PQ_X25519_LEN];
	struct pq_hs_resp_msg r;
	uint64_t mono = M0;

	(void)state;
	assert_int_equal(pq_hs_precompute(&d->b.hs, mono), POOL_SIZE);
	for (size_t i = 0; i < PQ_HS_POOL_RESP; i++)
		memcpy(pooled[i], d->b.hs.pool.resp[i].x25519_pub, PQ_X25519_LEN);
	initiate(d, mono);
	complete(d, mono);
	assert_int_equal(pq_hs_resp_decode(&r, d->resp, sizeof(d->resp)), 0);
	assert_memory_equal(r.x25519_pub, pooled[0], PQ_X25519_LEN);
	assert_true(pq_test_all_zero(&d->b.hs.pool.resp[0], sizeof(d->b.hs.pool.resp[0])));
	memcpy(e1, r.x25519_pub, PQ_X25519_LEN);
	mono += 1000;
	initiate(d, mono);
	complete(d, mono);
	assert_int_equal(pq_hs_resp_decode(&r, d->resp, sizeof(d->resp)), 0);
	assert_memory_equal(r.x25519_pub, pooled[1], PQ_X25519_LEN);
	assert_memory_not_equal(r.x25519_pub, e1, PQ_X25519_LEN);
	assert_int_equal(d->b.hs.stats.pool_used, 2);
	assert_int_equal(d->b.hs.stats.done_responder, 2);
	duo_free(d);
}

/* Many handshakes, both pools refilled between them: all complete, every
 * HS_INIT and HS_RESP carries keys not seen before. */
static void test_handshakes_on_pooled_keys(void **state)
{
	enum { ROUNDS = 12 };
	struct duo *d = duo_new();
	static struct init_keys seen[ROUNDS];
	uint8_t resp_e[ROUNDS][PQ_X25519_LEN];
	uint64_t mono = M0;

	(void)state;
	for (int i = 0; i < ROUNDS; i++) {
		struct pq_hs_resp_msg r;

		mono += 1000;
		assert_true(pq_hs_precompute(&d->a.hs, mono) >= 0);
		assert_true(pq_hs_precompute(&d->b.hs, mono) >= 0);
		initiate(d, mono);
		complete(d, mono);
		init_keys_of(&seen[i], d->init);
		assert_int_equal(pq_hs_resp_decode(&r, d->resp, sizeof(d->resp)), 0);
		memcpy(resp_e[i], r.x25519_pub, PQ_X25519_LEN);
		for (int j = 0; j < i; j++) {
			assert_keys_differ(&seen[i], &seen[j]);
			assert_memory_not_equal(resp_e[i], resp_e[j], PQ_X25519_LEN);
		}
	}
	assert_int_equal(d->a.hs.stats.pool_used, ROUNDS);
	assert_int_equal(d->b.hs.stats.pool_used, ROUNDS);
	assert_int_equal(d->a.hs.stats.pool_empty + d->b.hs.stats.pool_empty, 0);
	assert_int_equal(d->a.hs.stats.done_initiator, ROUNDS);
	pq_test_checked("handshakes on precomputed keys", ROUNDS);
	duo_free(d);
}

/* A pair older than PQ_HS_POOL_MAX_AGE_MS is wiped, never used; a clock
 * that went back counts as too old. */
static void test_too_old_is_wiped(void **state)
{
	struct duo *d = duo_new();
	struct init_keys pooled, sent;

	(void)state;
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0), POOL_SIZE);
	memcpy(pooled.x, d->a.hs.pool.init[0].x25519_pub, PQ_X25519_LEN);
	memcpy(pooled.ek, d->a.hs.pool.init[0].mlkem_ek, PQ_MLKEM1024_EK_LEN);
	/* one ms before the limit nothing is replaced */
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0 + PQ_HS_POOL_MAX_AGE_MS - 1), 0);
	/* at the limit an initiation finds both initiator pairs too old */
	initiate(d, M0 + PQ_HS_POOL_MAX_AGE_MS);
	init_keys_of(&sent, d->init);
	assert_keys_differ(&sent, &pooled);
	assert_int_equal(d->a.hs.stats.pool_expired, PQ_HS_POOL_INIT);
	assert_int_equal(d->a.hs.stats.pool_empty, 1);
	for (size_t i = 0; i < PQ_HS_POOL_INIT; i++)
		assert_true(pq_test_all_zero(&d->a.hs.pool.init[i], sizeof(d->a.hs.pool.init[i])));
	/* the refill replaces the responder pairs too */
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0 + PQ_HS_POOL_MAX_AGE_MS), POOL_SIZE);
	assert_int_equal(d->a.hs.stats.pool_expired, POOL_SIZE);
	/* monotonic time before the pairs were made: too old as well */
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0), POOL_SIZE);
	assert_int_equal(d->a.hs.stats.pool_expired, 2 * POOL_SIZE);
	duo_free(d);
}

/* pq_hs_wipe (node shutdown) leaves no precomputed byte behind. */
static void test_wipe_clears_pool(void **state)
{
	struct duo *d = duo_new();

	(void)state;
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0), POOL_SIZE);
	assert_false(pq_test_all_zero(&d->a.hs.pool, sizeof(d->a.hs.pool)));
	pq_hs_wipe(&d->a.hs);
	assert_true(pq_test_all_zero(&d->a.hs.pool, sizeof(d->a.hs.pool)));
	duo_free(d);
}

/* A random callback that fails from its fail_at-th draw on. */
struct counted_rng {
	struct fx_node *n;
	int draws, fail_at;
};

static int counted_random(void *ctx, void *out, size_t len)
{
	struct counted_rng *c = ctx;

	if (++c->draws >= c->fail_at)
		return PQ_E_RANDOM;
	return fx_random(c->n, out, len);
}

/* The randomness fails in the middle of a refill: the pairs made before
 * stay, the half-made one is wiped, nothing is marked ready that is not
 * whole; the next refill completes the pool. */
static void test_failed_refill(void **state)
{
	struct duo *d = duo_new();
	struct counted_rng c = { .n = &d->a, .fail_at = 3 }; /* an initiator pair takes two draws */
	struct pq_hs_callbacks saved = d->a.hs.cb;

	(void)state;
	d->a.hs.cb.random = counted_random;
	d->a.hs.cb.ctx = &c;
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0), PQ_E_RANDOM);
	assert_true(d->a.hs.pool.init[0].ready);
	assert_false(d->a.hs.pool.init[1].ready);
	assert_true(pq_test_all_zero(&d->a.hs.pool.init[1], sizeof(d->a.hs.pool.init[1])));
	assert_int_equal(slots_ready(&d->a.hs), 1);
	d->a.hs.cb = saved;
	assert_int_equal(pq_hs_precompute(&d->a.hs, M0), POOL_SIZE - 1);
	initiate(d, M0);
	complete(d, M0);
	duo_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_refill),
		cmocka_unit_test(test_initiations_take_fresh_keys),
		cmocka_unit_test(test_on_the_spot_keys_differ),
		cmocka_unit_test(test_responder_takes_fresh_key),
		cmocka_unit_test(test_handshakes_on_pooled_keys),
		cmocka_unit_test(test_too_old_is_wiped),
		cmocka_unit_test(test_wipe_clears_pool),
		cmocka_unit_test(test_failed_refill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
