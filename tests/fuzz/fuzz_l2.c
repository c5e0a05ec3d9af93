/*
 * fuzz_l2.c - libFuzzer target for the MAC table (node/l2.h).
 *
 * Input: tests/fuzz/l2_prog.h (3 bytes of limits, then 4-byte operations:
 * a frame from a peer or from the TAP, forget a peer, expire).
 * Checks: no crash; entry counts within the limits and consistent; a
 * passed peer frame's source is then owned by that peer; a passed TAP
 * frame goes to a non-empty subset of the established peers, to exactly
 * one unless flooded, and its source is owned by no peer afterwards.
 *
 * Seeds: tests/fuzz/corpus/fuzz_l2, written by gen_corpus.c (make
 * fuzz-corpus), which runs them through l2_prog.h too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/l2.h"
#include "fuzz/fuzz.h"
#include "fuzz/l2_prog.h"

static void check_counts(const struct pq_l2 *t, const struct pq_l2_limits *lim)
{
	size_t sum = 0;

	for (uint32_t p = 0; p < lim->max_peers; p++) {
		CHECK(pq_l2_peer_count(t, p) <= lim->per_peer_max);
		sum += pq_l2_peer_count(t, p);
	}
	CHECK(sum == pq_l2_count(t) && sum <= lim->max_entries);
}

static void check_tap_out(const struct pq_l2_out *out, const struct pq_l2_peerset *est,
			  uint32_t max_peers)
{
	size_t n = pq_l2_peerset_count(&out->to);

	CHECK(n >= 1 && (out->flooded || n == 1));
	for (uint32_t p = 0; p < PQ_L2_MAX_PEERS; p++)
		if (pq_l2_peerset_has(&out->to, p))
			CHECK(p < max_peers && pq_l2_peerset_has(est, p));
}

static void run_op(struct pq_l2 *t, const struct pq_l2_limits *lim, const struct l2_prog_op *o,
		   uint64_t now)
{
	struct pq_l2_out out;
	uint32_t owner;
	bool passed = l2_prog_run(t, o, now, &out) == PQ_L2_PASS;

	if (o->kind == L2_PROG_PEER && passed)
		CHECK(pq_l2_lookup(t, o->frame + 6, now, &owner) == 0 && owner == o->peer);
	if (o->kind == L2_PROG_TAP && passed) {
		check_tap_out(&out, &o->est, lim->max_peers);
		CHECK(pq_l2_lookup(t, o->frame + 6, now, &owner) != 0);
	}
	if (o->kind == L2_PROG_FORGET)
		CHECK(pq_l2_peer_count(t, o->peer) == 0);
	check_counts(t, lim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[PQ_L2_HASH_KEY_LEN] = { 1, 2, 3 };
	struct pq_l2_limits lim;
	struct pq_l2 *t = NULL;
	uint64_t now = 0;

	if (size < 3)
		return 0;
	l2_prog_limits(data, &lim);
	CHECK(pq_l2_new(&t, &lim, key) == 0);
	for (size_t off = 3; off + 4 <= size; off += 4) {
		struct l2_prog_op o;

		l2_prog_op(data + off, &lim, &now, &o);
		run_op(t, &lim, &o, now);
	}
	pq_l2_free(t);
	return 0;
}
