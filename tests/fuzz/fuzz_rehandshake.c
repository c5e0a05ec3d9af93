/*
 * fuzz_rehandshake.c - libFuzzer target for the re-handshake state machine
 * (src/proto/rehandshake.c) with an initiator I and a responder R that
 * share a session, each with its own challenge cache.
 *
 * The input is a program of one-byte operations (low 3 bits), some with
 * operands:
 *   0        deliver I's pending output to R
 *   1        deliver R's pending output to I
 *   2 n b..  inject n raw bytes into R          3 n b..  ... into I
 *   4 hi lo  move the fake clock by a signed 16-bit step (x 8 ms)
 *   5 i x    xor x into byte i of the pending message (either side)
 *   6        fire both timers
 *   7        start a new run pair (same caches), I sends REQUEST
 * Checks: no crash; a failed call writes nothing; outputs are whole
 * messages of the expected type; finished runs hold no keys; I completes
 * only on the very RESPONSE bytes R wrote in this run pair, and R only on
 * the very COMPLETE bytes I wrote (any other bytes, e.g. a tampered copy,
 * must fail: nobody else can MAC them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rehandshake.h"
#include "fuzz/fuzz.h"

#define T0 1762300000000ull

struct side {
	struct pq_rehs run;
	struct pq_challenge_cache cache;
	uint8_t pending[PQ_REHS_MAX_MSG_LEN];
	size_t pending_len;
	uint64_t rng;
};

static const uint8_t session_id[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t key_i2r[32] = { 0x11 };
static const uint8_t key_r2i[32] = { 0x22 };
static const uint8_t binding[32] = { 0x33 };

static int fuzz_random(void *ctx, void *out, size_t len)
{
	uint64_t *state = ctx;
	uint8_t *p = out;

	for (size_t i = 0; i < len; i++) {
		*state = *state * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(*state >> 56);
	}
	return 0;
}

static int no_keys(const struct pq_rehs *r)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < PQ_KEY_LEN; i++)
		acc |= r->send_key[i] | r->recv_key[i];
	return acc == 0;
}

static void init_side(struct side *s, enum pq_rehs_role role, bool hs_initiator, uint64_t now)
{
	struct pq_rehs_config cfg = {
		.role = role,
		.hs_initiator = hs_initiator,
		.session_id = session_id,
		.send_key = hs_initiator ? key_i2r : key_r2i,
		.recv_key = hs_initiator ? key_r2i : key_i2r,
		.binding = binding,
		.random = fuzz_random,
		.random_ctx = &s->rng,
	};

	CHECK(pq_rehs_init(&s->run, &cfg, now) == 0);
	s->pending_len = 0;
}

struct world {
	struct side ini, rsp;
	uint64_t now;
	uint8_t rsp_out[PQ_REHS_MAX_MSG_LEN]; /* the RESPONSE R wrote in this pair */
	size_t rsp_out_len;
	uint8_t ini_out[PQ_REHS_MAX_MSG_LEN]; /* the COMPLETE I wrote in this pair */
	size_t ini_out_len;
};

static void new_pair(struct world *w, bool i_is_hs_initiator)
{
	size_t len = 0;
	int rc;

	init_side(&w->ini, PQ_REHS_INITIATOR, i_is_hs_initiator, w->now);
	init_side(&w->rsp, PQ_REHS_RESPONDER, !i_is_hs_initiator, w->now);
	w->rsp_out_len = w->ini_out_len = 0;
	rc = pq_rehs_start(&w->ini.run, &w->ini.cache, w->now, w->ini.pending, sizeof(w->ini.pending), &len);
	CHECK(rc == 0 ? len == PQ_REHS_REQUEST_MSG_LEN : len == 0);
	w->ini.pending_len = len;
}

static void check_run(const struct pq_rehs *r)
{
	enum pq_rehs_state st = pq_rehs_state(r);

	if (st == PQ_REHS_COMPLETED || st == PQ_REHS_FAILED) {
		CHECK(no_keys(r));
		CHECK(pq_rehs_next_deadline(r) == UINT64_MAX);
	}
	CHECK((st == PQ_REHS_FAILED) == (pq_rehs_fail_reason(r) != PQ_REHS_OK));
}

/* Feed msg to dst; its output (if any) becomes dst's pending message. */
static void feed(struct world *w, struct side *dst, const uint8_t *msg, size_t len)
{
	uint8_t out[PQ_REHS_MAX_MSG_LEN];
	size_t out_len = 99;
	int was_done = pq_rehs_state(&dst->run) == PQ_REHS_COMPLETED;
	int rc = pq_rehs_receive(&dst->run, &dst->cache, msg, len, w->now, out, sizeof(out), &out_len);

	if (rc) {
		CHECK(out_len == 0);
		CHECK(pq_rehs_state(&dst->run) == PQ_REHS_FAILED || rc == PQ_E_STATE);
		return;
	}
	if (dst == &w->rsp && out_len) {
		CHECK(out_len == PQ_REHS_RESPONSE_MSG_LEN && out[0] == PQ_MSG_REHS_RESPONSE);
		memcpy(w->rsp_out, out, out_len);
		w->rsp_out_len = out_len;
	}
	if (dst == &w->ini) {
		CHECK(out_len == PQ_REHS_COMPLETE_MSG_LEN && out[0] == PQ_MSG_REHS_COMPLETE);
		CHECK(pq_rehs_state(&dst->run) == PQ_REHS_COMPLETED);
		/* only R can MAC a RESPONSE, and every byte is covered */
		CHECK(len == w->rsp_out_len && memcmp(msg, w->rsp_out, len) == 0);
		memcpy(w->ini_out, out, out_len);
		w->ini_out_len = out_len;
	}
	if (dst == &w->rsp && !was_done && pq_rehs_state(&dst->run) == PQ_REHS_COMPLETED) {
		CHECK(out_len == 0);
		CHECK(len == w->ini_out_len && memcmp(msg, w->ini_out, len) == 0);
	}
	memcpy(dst->pending, out, out_len);
	dst->pending_len = out_len;
}

static void deliver(struct world *w, struct side *from, struct side *to)
{
	uint8_t msg[PQ_REHS_MAX_MSG_LEN];
	size_t len = from->pending_len;

	if (!len)
		return;
	memcpy(msg, from->pending, len);
	from->pending_len = 0;
	feed(w, to, msg, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	size_t i = 0;

	memset(&w, 0, sizeof(w));
	w.now = T0;
	w.ini.rng = 1;
	w.rsp.rng = 2;
	pq_challenge_cache_init(&w.ini.cache);
	pq_challenge_cache_init(&w.rsp.cache);
	new_pair(&w, size > 0 && (data[0] & 0x80));

	while (i < size) {
		uint8_t op = data[i++];

		switch (op & 7) {
		case 0: deliver(&w, &w.ini, &w.rsp); break;
		case 1: deliver(&w, &w.rsp, &w.ini); break;
		case 2:
		case 3: {
			size_t n = i < size ? data[i++] : 0;

			if (n > size - i)
				n = size - i;
			feed(&w, (op & 7) == 2 ? &w.rsp : &w.ini, data + i, n);
			i += n;
			break;
		}
		case 4: {
			int16_t step = 0;

			if (size - i >= 2)
				step = (int16_t)((data[i] << 8) | data[i + 1]);
			i += size - i >= 2 ? 2 : size - i;
			w.now += (uint64_t)((int64_t)step * 8);
			break;
		}
		case 5: {
			struct side *s = (op & 8) ? &w.rsp : &w.ini;

			if (size - i >= 2 && s->pending_len)
				s->pending[data[i] % s->pending_len] ^= data[i + 1];
			i += size - i >= 2 ? 2 : size - i;
			break;
		}
		case 6:
			(void)pq_rehs_timer(&w.ini.run, w.now);
			(void)pq_rehs_timer(&w.rsp.run, w.now);
			break;
		default:
			new_pair(&w, op & 8);
			break;
		}
		check_run(&w.ini.run);
		check_run(&w.rsp.run);
	}
	pq_rehs_clear(&w.ini.run);
	pq_rehs_clear(&w.rsp.run);
	return 0;
}
