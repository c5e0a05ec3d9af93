/*
 * test_handshake.c - the hybrid handshake (src/proto/handshake.c,
 * hs_responder.c, hs_transcript.c; DESIGN §3) between two in-memory nodes
 * under a fake clock with deterministic randomness: a full handshake and
 * data both ways, crossing initiations in every key and delivery order,
 * every field of HS_INIT / HS_RESP / HS_FINISH tampered (then a clean
 * handshake still works), re-signed bad keys and ciphertexts, replay,
 * allowlist, wrong signer, rate limit, bounded half-open table, timeouts,
 * and the CPU cost of one handshake.
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
#include "proto/hs_transcript.h"
#include "testutil.h"

#define T0 1700000000000ULL   /* a Unix time in ms */

struct pair {
	struct fx_node *a, *b;   /* a allows b in slot 0, b allows a in slot 0 */
	uint64_t now;
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
	struct pq_hs_result res;
};

static struct pair *pair_new(uint8_t seed_a, uint8_t seed_b)
{
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->a = calloc(1, sizeof(*p->a));
	p->b = calloc(1, sizeof(*p->b));
	assert_non_null(p->a);
	assert_non_null(p->b);
	assert_int_equal(fx_node_init(p->a, seed_a), 0);
	assert_int_equal(fx_node_init(p->b, seed_b), 0);
	p->now = T0;
	fx_allow(p->a, p->b->pub, p->now);
	fx_allow(p->b, p->a->pub, p->now);
	return p;
}

static void pair_free(struct pair *p)
{
	fx_node_free(p->a);
	fx_node_free(p->b);
	free(p->a);
	free(p->b);
	free(p);
}

static void step_init(struct pair *p)
{
	assert_int_equal(pq_hs_initiate(&p->a->hs, &p->a->peers[0], p->now, p->now, p->init, sizeof(p->init)),
			 PQ_HS_INIT_LEN);
}

static void step_resp(struct pair *p)
{
	assert_int_equal(fx_deliver(p->b, p->a, p->init, sizeof(p->init), p->now, p->resp, sizeof(p->resp), &p->res),
			 PQ_HS_RESP_LEN);
	assert_int_equal(p->res.event, PQ_HS_EV_KEYS);
	assert_false(p->res.confirmed);
}

static void step_finish(struct pair *p)
{
	assert_int_equal(fx_deliver(p->a, p->b, p->resp, sizeof(p->resp), p->now, p->fin, sizeof(p->fin), &p->res),
			 PQ_HS_FINISH_LEN);
	assert_int_equal(p->res.event, PQ_HS_EV_KEYS);
	assert_true(p->res.confirmed);
	assert_true(p->res.initiator);
}

static void step_confirm(struct pair *p)
{
	assert_int_equal(fx_deliver(p->b, p->a, p->fin, sizeof(p->fin), p->now, NULL, 0, &p->res), 0);
	assert_int_equal(p->res.event, PQ_HS_EV_CONFIRMED);
}

/* One DATA frame from x's session to y's session, checked end to end. */
static void send_one(struct pq_session *x, struct pq_session *y, uint64_t now, uint8_t tag)
{
	uint8_t frame[60], wire[60 + PQ_SEALED_OVERHEAD], got[60], type = 0;

	memset(frame, tag, sizeof(frame));
	assert_int_equal(pq_session_seal(x, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), now),
			 (long)sizeof(wire));
	assert_int_equal(pq_session_open(y, wire, sizeof(wire), got, sizeof(got), now, &type), (long)sizeof(got));
	assert_int_equal(type, PQ_MSG_DATA);
	assert_memory_equal(got, frame, sizeof(frame));
}

static void full_handshake(struct pair *p)
{
	step_init(p);
	step_resp(p);
	step_finish(p);
	step_confirm(p);
}

static void test_full_handshake_and_data(void **state)
{
	struct pair *p = pair_new(1, 2);
	struct pq_session *sa = &p->a->sess[0], *sb = &p->b->sess[0];
	uint8_t wire[100];

	(void)state;
	step_init(p);
	assert_true(pq_hs_pending(&p->a->peers[0], p->now));
	step_resp(p);
	/* The responder holds its keys as "next": it may not send yet. */
	assert_false(pq_session_can_send(sb, p->now));
	assert_int_equal(pq_session_seal(sb, PQ_MSG_KEEPALIVE, NULL, 0, wire, sizeof(wire), p->now), PQ_E_STATE);
	step_finish(p);
	/* Forward secrecy: the initiator's ephemeral secrets are gone. */
	assert_false(p->a->peers[0].pending.active);
	assert_true(pq_test_all_zero(&p->a->peers[0].pending, sizeof(p->a->peers[0].pending)));
	assert_true(pq_session_can_send(sa, p->now));
	step_confirm(p);
	assert_true(pq_session_can_send(sb, p->now));
	for (size_t i = 0; i < PQ_HS_HALF_OPEN_MAX; i++)
		assert_true(pq_test_all_zero(&p->b->hs.half_open[i], sizeof(p->b->hs.half_open[i])));
	/* Both derived the same keys, directions crossed. */
	assert_memory_equal(sa->current->session_id, sb->current->session_id, PQ_SESSION_ID_LEN);
	assert_memory_equal(sa->current->rehs_send, sb->current->rehs_recv, PQ_KEY_LEN);
	assert_memory_equal(sa->current->rehs_recv, sb->current->rehs_send, PQ_KEY_LEN);
	assert_memory_not_equal(sa->current->rehs_send, sa->current->rehs_recv, PQ_KEY_LEN);
	assert_int_equal(sa->current->remote_index, sb->current->local_index);
	assert_int_equal(sb->current->remote_index, sa->current->local_index);
	for (uint8_t i = 0; i < 5; i++) {
		send_one(sa, sb, p->now, i);
		send_one(sb, sa, p->now, (uint8_t)(0x80 + i));
	}
	assert_int_equal(p->a->hs.stats.done_initiator, 1);
	assert_int_equal(p->b->hs.stats.done_responder, 1);
	assert_int_equal(fx_drops(&p->a->hs.stats) + fx_drops(&p->b->hs.stats), 0);
	pair_free(p);
}

/* Data under the new keys before HS_FINISH confirms the responder's keys;
 * the late HS_FINISH is then harmless. */
static void test_implicit_confirmation(void **state)
{
	struct pair *p = pair_new(1, 2);

	(void)state;
	step_init(p);
	step_resp(p);
	step_finish(p);
	send_one(&p->a->sess[0], &p->b->sess[0], p->now, 7);
	assert_true(pq_session_can_send(&p->b->sess[0], p->now));
	step_confirm(p);
	send_one(&p->b->sess[0], &p->a->sess[0], p->now, 8);
	pair_free(p);
}

/* HS_FINISH lost: the keepalive the initiator owes at once confirms the
 * responder's keys instead. */
static void test_lost_finish_keepalive(void **state)
{
	struct pair *p = pair_new(1, 2);
	uint8_t wire[PQ_SEALED_OVERHEAD], type;

	(void)state;
	step_init(p);
	step_resp(p);
	step_finish(p);
	assert_int_equal(pq_session_poll(&p->a->sess[0], p->now), PQ_SESSION_WANT_KEEPALIVE);
	assert_int_equal(pq_session_seal(&p->a->sess[0], PQ_MSG_KEEPALIVE, NULL, 0, wire, sizeof(wire), p->now),
			 PQ_SEALED_OVERHEAD);
	assert_int_equal(pq_session_poll(&p->a->sess[0], p->now), 0);
	assert_false(pq_session_can_send(&p->b->sess[0], p->now));
	assert_int_equal(pq_session_open(&p->b->sess[0], wire, sizeof(wire), NULL, 0, p->now, &type), 0);
	assert_int_equal(type, PQ_MSG_KEEPALIVE);
	assert_true(pq_session_can_send(&p->b->sess[0], p->now));
	send_one(&p->b->sess[0], &p->a->sess[0], p->now, 3);
	pair_free(p);
}

/* Both sides initiate at once; lower_first says whether the node with the
 * lower key has its HS_INIT delivered first. */
static void crossing_case(uint8_t seed_x, uint8_t seed_y, int lower_first)
{
	struct pair *p = pair_new(seed_x, seed_y);
	struct fx_node *lo, *hi;
	uint8_t init_lo[PQ_HS_INIT_LEN], init_hi[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
	struct pq_hs_result res;

	if (memcmp(p->a->pub, p->b->pub, PQ_PUBKEY_LEN) < 0) {
		lo = p->a;
		hi = p->b;
	} else {
		lo = p->b;
		hi = p->a;
	}
	assert_int_equal(pq_hs_initiate(&lo->hs, &lo->peers[0], p->now, p->now, init_lo, sizeof(init_lo)), PQ_HS_INIT_LEN);
	assert_int_equal(pq_hs_initiate(&hi->hs, &hi->peers[0], p->now, p->now, init_hi, sizeof(init_hi)), PQ_HS_INIT_LEN);
	for (int step = 0; step < 2; step++) {
		if ((step == 0) == (lower_first != 0)) {
			/* hi receives lo's initiation: lo wins, hi abandons its own. */
			assert_int_equal(fx_deliver(hi, lo, init_lo, sizeof(init_lo), p->now, resp, sizeof(resp), &res),
					 PQ_HS_RESP_LEN);
			assert_true(res.abandoned_own);
			assert_false(pq_hs_pending(&hi->peers[0], p->now));
		} else {
			/* lo receives hi's initiation: refused, its own stays. */
			uint8_t spare[PQ_HS_RESP_LEN];

			assert_int_equal(fx_deliver(lo, hi, init_hi, sizeof(init_hi), p->now, spare, sizeof(spare), &res),
					 PQ_E_STATE);
			assert_int_equal(lo->hs.stats.drop_crossing, 1);
			assert_true(pq_hs_pending(&lo->peers[0], p->now));
		}
	}
	assert_int_equal(fx_deliver(lo, hi, resp, sizeof(resp), p->now, fin, sizeof(fin), &res), PQ_HS_FINISH_LEN);
	assert_true(res.initiator);
	assert_int_equal(fx_deliver(hi, lo, fin, sizeof(fin), p->now, NULL, 0, &res), 0);
	assert_int_equal(res.event, PQ_HS_EV_CONFIRMED);
	send_one(&lo->sess[0], &hi->sess[0], p->now, 1);
	send_one(&hi->sess[0], &lo->sess[0], p->now, 2);
	assert_int_equal(hi->hs.stats.pending_abandoned, 1);
	pair_free(p);
}

static void test_crossing_initiations(void **state)
{
	(void)state;
	/* Seeds in both orders make each of a and b the lower key once. */
	crossing_case(1, 2, 0);
	crossing_case(1, 2, 1);
	crossing_case(2, 1, 0);
	crossing_case(2, 1, 1);
	printf("checked: 4 crossing cases (2 key orders x 2 delivery orders)\n");
}

struct field {
	const char *name;
	size_t off, len;
};

static const struct field init_fields[] = {
	{ "type", 0, 1 }, { "version", 1, 1 }, { "suite", 2, 1 }, { "initiator key", 3, 32 },
	{ "sender index", 35, 4 }, { "timestamp", 39, 8 }, { "random", 47, 32 }, { "x25519", 79, 32 },
	{ "ml-kem ek", 111, 1568 }, { "signature", 1679, 64 },
};
static const struct field resp_fields[] = {
	{ "type", 0, 1 }, { "sender index", 1, 4 }, { "receiver index", 5, 4 }, { "x25519", 9, 32 },
	{ "ml-kem ct", 41, 1568 }, { "signature", 1609, 64 }, { "mac", 1673, 32 },
};
static const struct field finish_fields[] = {
	{ "type", 0, 1 }, { "sender index", 1, 4 }, { "receiver index", 5, 4 }, { "mac", 9, 32 },
};

static size_t active_half_open(const struct pq_hs *hs)
{
	size_t n = 0;

	for (size_t i = 0; i < PQ_HS_HALF_OPEN_MAX; i++)
		n += hs->half_open[i].active;
	return n;
}

static void test_tamper_every_field(void **state)
{
	struct pair *p = pair_new(1, 2);
	uint8_t bad[PQ_HS_INIT_LEN], out[PQ_HS_RESP_LEN];
	unsigned checked = 0, restarts = 0;

	(void)state;
	step_init(p);
	for (size_t f = 0; f < sizeof(init_fields) / sizeof(init_fields[0]); f++)
		for (int bit = 0; bit < 8; bit += 7, checked++) {
			uint64_t drops = fx_drops(&p->b->hs.stats);

			memcpy(bad, p->init, sizeof(bad));
			bad[init_fields[f].off + init_fields[f].len / 2] ^= (uint8_t)(1u << bit);
			p->now += 1000;   /* stay clear of the rate limit */
			assert_true(fx_deliver(p->b, NULL, bad, PQ_HS_INIT_LEN, p->now, out, sizeof(out), &p->res) < 0);
			assert_int_equal(p->res.event, PQ_HS_EV_NONE);
			assert_int_equal(fx_drops(&p->b->hs.stats), drops + 1);
			assert_int_equal(active_half_open(&p->b->hs), 0);
		}
	step_init(p);  /* the first one timed out while we tampered */
	step_resp(p);
	for (size_t f = 0; f < sizeof(resp_fields) / sizeof(resp_fields[0]); f++)
		for (int bit = 0; bit < 8; bit += 7, checked++) {
			uint64_t drops;

			/* Each initiation checks PQ_HS_RESP_TRIES HS_RESPs at
			 * most (test_hs_hardening.c): a fresh one when spent. */
			if (p->a->peers[0].pending.resp_tries == PQ_HS_RESP_TRIES) {
				p->now += 1000;
				step_init(p);
				step_resp(p);
				restarts++;
			}
			drops = fx_drops(&p->a->hs.stats);
			memcpy(bad, p->resp, PQ_HS_RESP_LEN);
			bad[resp_fields[f].off + resp_fields[f].len / 2] ^= (uint8_t)(1u << bit);
			assert_true(fx_deliver(p->a, p->b, bad, PQ_HS_RESP_LEN, p->now, out, sizeof(out), &p->res) < 0);
			assert_int_equal(p->res.event, PQ_HS_EV_NONE);
			assert_int_equal(fx_drops(&p->a->hs.stats), drops + 1);
			assert_true(pq_hs_pending(&p->a->peers[0], p->now));
		}
	step_finish(p);
	for (size_t f = 0; f < sizeof(finish_fields) / sizeof(finish_fields[0]); f++)
		for (int bit = 0; bit < 8; bit += 7, checked++) {
			uint64_t drops = fx_drops(&p->b->hs.stats);

			memcpy(bad, p->fin, PQ_HS_FINISH_LEN);
			bad[finish_fields[f].off + finish_fields[f].len / 2] ^= (uint8_t)(1u << bit);
			assert_true(fx_deliver(p->b, p->a, bad, PQ_HS_FINISH_LEN, p->now, NULL, 0, &p->res) < 0);
			assert_int_equal(p->res.event, PQ_HS_EV_NONE);
			assert_int_equal(fx_drops(&p->b->hs.stats), drops + 1);
			assert_int_equal(active_half_open(&p->b->hs), 1);
		}
	/* Each reason was counted where expected. */
	assert_true(p->b->hs.stats.drop_decode >= 2);
	assert_true(p->b->hs.stats.drop_version >= 4);
	assert_true(p->b->hs.stats.drop_unknown_peer >= 2);
	assert_true(p->b->hs.stats.drop_signature >= 10);
	assert_true(p->b->hs.stats.drop_mac >= 2);
	assert_true(p->b->hs.stats.drop_unexpected >= 4);
	assert_true(p->a->hs.stats.drop_signature >= 8);
	assert_true(p->a->hs.stats.drop_mac >= 2);
	assert_true(p->a->hs.stats.drop_unexpected >= 2);
	assert_true(restarts >= 2);
	/* The untampered messages still complete this handshake... */
	step_confirm(p);
	send_one(&p->a->sess[0], &p->b->sess[0], p->now, 1);
	send_one(&p->b->sess[0], &p->a->sess[0], p->now, 2);
	/* ...and a fresh one works between the same endpoints. */
	p->now += 1000;
	full_handshake(p);
	send_one(&p->a->sess[0], &p->b->sess[0], p->now, 3);
	send_one(&p->b->sess[0], &p->a->sess[0], p->now, 4);
	printf("checked: %u tampered handshake messages refused and counted\n", checked);
	pair_free(p);
}

/* Re-sign a modified HS_INIT with the real initiator key, so the checks
 * after the signature are reached. */
static void resign_init(struct pair *p, uint8_t *msg)
{
	uint8_t h[PQ_SHA256_LEN];

	assert_int_equal(pq_hs_transcript_start(h, p->a->pub, p->b->pub), 0);
	assert_int_equal(pq_hs_transcript_mix(h, msg, PQ_HS_INIT_SIG_OFF), 0);
	assert_int_equal(pq_hs_sign(p->a->signer, PQ_HS_SIG_INIT, h, msg + PQ_HS_INIT_SIG_OFF), 0);
}

static void test_bad_keys_signed(void **state)
{
	struct pair *p = pair_new(1, 2);
	uint8_t bad[PQ_HS_INIT_LEN], out[PQ_HS_RESP_LEN], h[PQ_SHA256_LEN];

	(void)state;
	step_init(p);
	/* An ek with a coefficient >= q fails FIPS 203 §7.2. */
	memcpy(bad, p->init, sizeof(bad));
	memset(bad + 111, 0xff, 3);
	resign_init(p, bad);
	assert_int_equal(fx_deliver(p->b, p->a, bad, sizeof(bad), p->now, out, sizeof(out), &p->res), PQ_E_KEY);
	assert_int_equal(p->b->hs.stats.drop_bad_key, 1);
	/* A low-order (all-zero) X25519 key gives an all-zero secret. */
	memcpy(bad, p->init, sizeof(bad));
	memset(bad + 79, 0, 32);
	resign_init(p, bad);
	p->now += 1000;
	assert_int_equal(fx_deliver(p->b, p->a, bad, sizeof(bad), p->now, out, sizeof(out), &p->res), PQ_E_KEY);
	assert_int_equal(p->b->hs.stats.drop_bad_key, 2);
	assert_int_equal(p->b->peers[0].last_init_ts, 0);
	/* A wrong ML-KEM ciphertext, validly signed by the responder: decaps
	 * yields the implicit-rejection key, so the confirmation MAC fails. */
	p->now += 1000;
	step_resp(p);
	memcpy(bad, p->resp, PQ_HS_RESP_LEN);
	bad[41 + 700] ^= 1;
	memcpy(h, p->a->peers[0].pending.transcript, sizeof(h));
	assert_int_equal(pq_hs_transcript_mix(h, bad, PQ_HS_RESP_SIG_OFF), 0);
	assert_int_equal(pq_hs_sign(p->b->signer, PQ_HS_SIG_RESP, h, bad + PQ_HS_RESP_SIG_OFF), 0);
	assert_int_equal(fx_deliver(p->a, p->b, bad, PQ_HS_RESP_LEN, p->now, out, sizeof(out), &p->res), PQ_E_AUTH);
	assert_int_equal(p->a->hs.stats.drop_mac, 1);
	assert_int_equal(p->a->hs.stats.drop_signature, 0);
	step_finish(p);
	step_confirm(p);
	printf("checked: 3 validly signed bad keys/ciphertexts refused\n");
	pair_free(p);
}

static void test_replayed_init(void **state)
{
	struct pair *p = pair_new(1, 2);
	uint8_t out[PQ_HS_RESP_LEN];

	(void)state;
	full_handshake(p);
	p->now += 1000;
	assert_int_equal(fx_deliver(p->b, p->a, p->init, sizeof(p->init), p->now, out, sizeof(out), &p->res),
			 PQ_E_REPLAY);
	assert_int_equal(p->b->hs.stats.drop_stale, 1);
	/* Also while the original is still half-open. */
	p->now += 1000;
	step_init(p);
	step_resp(p);
	assert_int_equal(fx_deliver(p->b, p->a, p->init, sizeof(p->init), p->now, out, sizeof(out), &p->res),
			 PQ_E_REPLAY);
	assert_int_equal(p->b->hs.stats.drop_stale, 2);
	step_finish(p);
	step_confirm(p);
	pair_free(p);
}

static void test_not_allowed_and_sender_mismatch(void **state)
{
	struct pair *p = pair_new(1, 2);
	struct fx_node *c = calloc(1, sizeof(*c));
	uint8_t init_c[PQ_HS_INIT_LEN], out[PQ_HS_RESP_LEN];

	(void)state;
	assert_non_null(c);
	assert_int_equal(fx_node_init(c, 3), 0);
	fx_allow(c, p->b->pub, p->now);
	assert_int_equal(pq_hs_initiate(&c->hs, &c->peers[0], p->now, p->now, init_c, sizeof(init_c)), PQ_HS_INIT_LEN);
	assert_int_equal(fx_deliver(p->b, c, init_c, sizeof(init_c), p->now, out, sizeof(out), &p->res), PQ_E_PEER);
	assert_int_equal(p->b->hs.stats.drop_unknown_peer, 1);
	/* a's HS_INIT arriving from a transport that says it is c. */
	step_init(p);
	assert_int_equal(fx_deliver(p->b, c, p->init, sizeof(p->init), p->now, out, sizeof(out), &p->res), PQ_E_PEER);
	assert_int_equal(p->b->hs.stats.drop_sender_mismatch, 1);
	/* Our own HS_INIT reflected back to us. */
	assert_int_equal(fx_deliver(p->a, NULL, p->init, sizeof(p->init), p->now, out, sizeof(out), &p->res),
			 PQ_E_PEER);
	/* HS_RESP from a sender we do not know. */
	step_resp(p);
	assert_int_equal(fx_deliver(p->a, c, p->resp, sizeof(p->resp), p->now, out, sizeof(out), &p->res), PQ_E_PEER);
	assert_int_equal(fx_deliver(p->a, NULL, p->resp, sizeof(p->resp), p->now, out, sizeof(out), &p->res),
			 PQ_E_PEER);
	step_finish(p);
	/* HS_FINISH claimed by the wrong sender. */
	assert_int_equal(fx_deliver(p->b, c, p->fin, sizeof(p->fin), p->now, NULL, 0, &p->res), PQ_E_PEER);
	step_confirm(p);
	fx_node_free(c);
	free(c);
	pair_free(p);
}

static void test_wrong_signing_key(void **state)
{
	struct pair *p = pair_new(1, 2);
	struct fx_node *c = calloc(1, sizeof(*c));
	uint8_t init_c[PQ_HS_INIT_LEN], resp_c[PQ_HS_RESP_LEN], out[PQ_HS_RESP_LEN];
	struct pq_hs_result res;

	(void)state;
	assert_non_null(c);
	/* c claims a's identity towards b, but signs with its own key. */
	assert_int_equal(fx_node_init(c, 3), 0);
	memcpy(c->hs.pub, p->a->pub, PQ_PUBKEY_LEN);
	fx_allow(c, p->b->pub, p->now);
	assert_int_equal(pq_hs_initiate(&c->hs, &c->peers[0], p->now, p->now, init_c, sizeof(init_c)), PQ_HS_INIT_LEN);
	assert_int_equal(fx_deliver(p->b, p->a, init_c, sizeof(init_c), p->now, out, sizeof(out), &p->res), PQ_E_AUTH);
	assert_int_equal(p->b->hs.stats.drop_signature, 1);
	/* c answers a's HS_INIT as if it were b. */
	memcpy(c->hs.pub, p->b->pub, PQ_PUBKEY_LEN);
	fx_allow(c, p->a->pub, p->now);
	step_init(p);
	assert_int_equal(fx_deliver(c, p->a, p->init, sizeof(p->init), p->now, resp_c, sizeof(resp_c), &res),
			 PQ_HS_RESP_LEN);
	assert_int_equal(fx_deliver(p->a, p->b, resp_c, sizeof(resp_c), p->now, out, sizeof(out), &p->res), PQ_E_AUTH);
	assert_int_equal(p->a->hs.stats.drop_signature, 1);
	/* The real b still completes. */
	step_resp(p);
	step_finish(p);
	step_confirm(p);
	fx_node_free(c);
	free(c);
	pair_free(p);
}

static void test_rate_limit(void **state)
{
	struct pair *p = pair_new(1, 2);
	int accepted = 0;

	(void)state;
	for (int i = 0; i < PQ_HS_RATE_BURST + 2; i++) {
		long r;

		step_init(p);  /* same millisecond: timestamps still increase */
		r = fx_deliver(p->b, p->a, p->init, sizeof(p->init), p->now, p->resp, sizeof(p->resp), &p->res);
		if (r == PQ_HS_RESP_LEN)
			accepted++;
		else
			assert_int_equal(r, PQ_E_LIMIT);
	}
	assert_int_equal(accepted, PQ_HS_RATE_BURST);
	assert_int_equal(p->b->hs.stats.drop_rate, 2);
	/* One slot for this peer, however many initiations it sent. */
	assert_int_equal(active_half_open(&p->b->hs), 1);
	p->now += PQ_HS_RATE_INTERVAL_MS - 1;
	step_init(p);
	assert_int_equal(fx_deliver(p->b, p->a, p->init, sizeof(p->init), p->now, p->resp, sizeof(p->resp), &p->res),
			 PQ_E_LIMIT);
	p->now += 1;
	step_init(p);
	step_resp(p);
	step_finish(p);
	step_confirm(p);
	pair_free(p);
}

#define MANY (PQ_HS_HALF_OPEN_MAX + 8)

static void test_half_open_bounded(void **state)
{
	struct fx_node *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	static uint8_t fins[MANY][PQ_HS_FINISH_LEN];
	static uint8_t pubs[MANY][PQ_PUBKEY_LEN];
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN];
	struct pq_hs_result res;
	uint64_t now = T0;

	(void)state;
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(fx_node_init(b, 200), 0);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(fx_node_init(c, (uint8_t)(10 + i)), 0);
		memcpy(pubs[i], c->pub, PQ_PUBKEY_LEN);
		fx_allow(b, c->pub, now);
		fx_allow(c, b->pub, now);
		now += 10;
		assert_int_equal(pq_hs_initiate(&c->hs, &c->peers[0], now, now, init, sizeof(init)), PQ_HS_INIT_LEN);
		assert_int_equal(fx_deliver(b, c, init, sizeof(init), now, resp, sizeof(resp), &res), PQ_HS_RESP_LEN);
		assert_int_equal(fx_deliver(c, b, resp, sizeof(resp), now, fins[i], PQ_HS_FINISH_LEN, &res),
				 PQ_HS_FINISH_LEN);
		assert_true(active_half_open(&b->hs) <= PQ_HS_HALF_OPEN_MAX);
		fx_node_free(c);
	}
	assert_int_equal(active_half_open(&b->hs), PQ_HS_HALF_OPEN_MAX);
	assert_int_equal(b->hs.stats.half_open_evicted, MANY - PQ_HS_HALF_OPEN_MAX);
	/* The oldest were evicted; the newest still confirm. */
	for (int i = 0; i < MANY; i++) {
		long r = pq_hs_receive(&b->hs, pubs[i], fins[i], PQ_HS_FINISH_LEN, now, now, NULL, 0, &res);

		assert_int_equal(r, i < MANY - PQ_HS_HALF_OPEN_MAX ? PQ_E_STATE : 0);
		assert_int_equal(res.event, i < MANY - PQ_HS_HALF_OPEN_MAX ? PQ_HS_EV_NONE : PQ_HS_EV_CONFIRMED);
	}
	assert_int_equal(b->hs.stats.done_responder, PQ_HS_HALF_OPEN_MAX);
	printf("checked: %d initiations into a %d-slot half-open table\n", MANY, PQ_HS_HALF_OPEN_MAX);
	fx_node_free(b);
	free(b);
	free(c);
}

static void test_timeouts(void **state)
{
	struct pair *p = pair_new(1, 2);

	(void)state;
	/* HS_RESP after the initiation timed out. */
	step_init(p);
	step_resp(p);
	p->now += PQ_HS_TIMEOUT_MS;
	assert_false(pq_hs_pending(&p->a->peers[0], p->now));
	assert_int_equal(fx_deliver(p->a, p->b, p->resp, sizeof(p->resp), p->now, p->fin, sizeof(p->fin), &p->res),
			 PQ_E_STATE);
	/* HS_FINISH after the half-open slot timed out. */
	step_init(p);
	step_resp(p);
	step_finish(p);
	p->now += PQ_HS_TIMEOUT_MS;
	assert_int_equal(fx_deliver(p->b, p->a, p->fin, sizeof(p->fin), p->now, NULL, 0, &p->res), PQ_E_STATE);
	assert_true(p->b->hs.stats.half_open_expired >= 2);
	/* Data under the new keys still confirms them (session.h). */
	send_one(&p->a->sess[0], &p->b->sess[0], p->now, 9);
	send_one(&p->b->sess[0], &p->a->sess[0], p->now, 10);
	pair_free(p);
}

static void test_random_failure(void **state)
{
	struct pair *p = pair_new(1, 2);

	(void)state;
	p->a->rng_fail = 1;
	assert_int_equal(pq_hs_initiate(&p->a->hs, &p->a->peers[0], p->now, p->now, p->init, sizeof(p->init)), PQ_E_RANDOM);
	assert_false(p->a->peers[0].pending.active);
	assert_int_equal(pq_hs_initiate(&p->a->hs, &p->a->peers[0], p->now, p->now, p->init, 10), PQ_E_TOOBIG);
	p->a->rng_fail = 0;
	step_init(p);
	p->b->rng_fail = 1;
	assert_int_equal(fx_deliver(p->b, p->a, p->init, sizeof(p->init), p->now, p->resp, sizeof(p->resp), &p->res),
			 PQ_E_RANDOM);
	assert_int_equal(p->b->hs.stats.drop_internal, 1);
	p->b->rng_fail = 0;
	p->now += 1000;
	step_init(p);
	step_resp(p);
	step_finish(p);
	step_confirm(p);
	pair_free(p);
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* CPU time of one whole handshake, both sides, keys handed out but not
 * installed. Reported, not asserted. */
static void test_handshake_cpu(void **state)
{
	enum { RUNS = 200 };
	struct pair *p = pair_new(1, 2);
	double t0, t1;

	(void)state;
	t0 = cpu_us();
	for (int i = 0; i < RUNS; i++) {
		p->now += 1000;
		assert_int_equal(pq_hs_initiate(&p->a->hs, &p->a->peers[0], p->now, p->now, p->init, sizeof(p->init)),
				 PQ_HS_INIT_LEN);
		assert_int_equal(pq_hs_receive(&p->b->hs, p->a->pub, p->init, sizeof(p->init), p->now, p->now, p->resp,
					       sizeof(p->resp), &p->res), PQ_HS_RESP_LEN);
		pq_hs_result_wipe(&p->res);
		assert_int_equal(pq_hs_receive(&p->a->hs, p->b->pub, p->resp, sizeof(p->resp), p->now, p->now, p->fin,
					       sizeof(p->fin), &p->res), PQ_HS_FINISH_LEN);
		pq_hs_result_wipe(&p->res);
		assert_int_equal(pq_hs_receive(&p->b->hs, p->a->pub, p->fin, sizeof(p->fin), p->now, p->now, NULL, 0, &p->res),
				 0);
	}
	t1 = cpu_us();
	printf("handshake_cpu_us: %.1f (mean of %d, initiator + responder)\n", (t1 - t0) / RUNS, RUNS);
	pair_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_handshake_and_data),
		cmocka_unit_test(test_implicit_confirmation),
		cmocka_unit_test(test_lost_finish_keepalive),
		cmocka_unit_test(test_crossing_initiations),
		cmocka_unit_test(test_tamper_every_field),
		cmocka_unit_test(test_bad_keys_signed),
		cmocka_unit_test(test_replayed_init),
		cmocka_unit_test(test_not_allowed_and_sender_mismatch),
		cmocka_unit_test(test_wrong_signing_key),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_half_open_bounded),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_random_failure),
		cmocka_unit_test(test_handshake_cpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
