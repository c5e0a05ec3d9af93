/*
 * l2_prog.h - the input format of fuzz_l2.c, decoded and run in one place
 * so that the seeds gen_corpus.c writes are read the way the fuzzer reads
 * them. Header-only: both programs include it.
 *
 * Bytes 0-2 pick the limits (peers 1-8, entries 1-32, per-peer cap
 * 1-entries; entries age out after 1000 ms), then 4-byte operations:
 * kind | ticks << 2 (ticks x 17 ms pass first), a peer byte (for a TAP
 * frame: the established set, bit 7 a 13-byte runt), source and
 * destination MAC bytes (l2_prog_mac).
 */
#ifndef PQ_TESTS_FUZZ_L2_PROG_H
#define PQ_TESTS_FUZZ_L2_PROG_H

#include <stdint.h>
#include <string.h>

#include "node/l2.h"

#define L2_PROG_TICK_MS 17
#define L2_PROG_AGE_MS 1000

enum l2_prog_kind { L2_PROG_PEER = 0, L2_PROG_TAP = 1, L2_PROG_FORGET = 2, L2_PROG_EXPIRE = 3 };

/* One operation, decoded. */
struct l2_prog_op {
	enum l2_prog_kind kind;
	uint32_t peer;              /* up to max_peers: one past is a bad id */
	uint8_t frame[64];          /* destination and source MACs, zeros after */
	size_t len;                 /* of frame, as handed to the table */
	struct pq_l2_peerset est;   /* TAP: the established set (ids past max_peers too) */
};

/* A MAC byte: bit 0 group, bit 1 locally administered (the first
 * octet's two low bits), bits 2-7 the last octet; so group, zero and
 * colliding MACs all occur. */
static inline void l2_prog_mac(uint8_t b, uint8_t mac[6])
{
	memset(mac, 0, 6);
	mac[0] = b & 3;
	mac[5] = b >> 2;
}

static inline void l2_prog_limits(const uint8_t d[3], struct pq_l2_limits *lim)
{
	pq_l2_limits_default(lim, 1 + d[0] % 8);
	lim->max_entries = 1 + d[1] % 32;
	lim->per_peer_max = 1 + d[2] % lim->max_entries;
	lim->age_ms = L2_PROG_AGE_MS;
}

/* The operation in op[0..3]; *now_ms moves on by its ticks. */
static inline void l2_prog_op(const uint8_t op[4], const struct pq_l2_limits *lim, uint64_t *now_ms,
			      struct l2_prog_op *o)
{
	memset(o, 0, sizeof(*o));
	*now_ms += (uint64_t)(op[0] >> 2) * L2_PROG_TICK_MS;
	o->kind = (enum l2_prog_kind)(op[0] & 3);
	o->peer = op[1] % (lim->max_peers + 1);
	l2_prog_mac(op[3], o->frame);
	l2_prog_mac(op[2], o->frame + 6);
	if (o->kind == L2_PROG_TAP) {
		o->len = op[1] & 0x80 ? 13 : 60;
		pq_l2_peerset_clear(&o->est);
		o->est.bits[0] = op[1];
	} else {
		o->len = 14 + op[1] % 3 * 25;
	}
}

/* Run o on t at now_ms: the table's verdict for a frame (out filled for
 * a TAP frame that passed), PQ_L2_PASS for the others. */
static inline enum pq_l2_drop l2_prog_run(struct pq_l2 *t, const struct l2_prog_op *o, uint64_t now_ms,
					  struct pq_l2_out *out)
{
	switch (o->kind) {
	case L2_PROG_PEER:
		return pq_l2_from_peer(t, o->peer, o->frame, o->len, now_ms);
	case L2_PROG_TAP:
		return pq_l2_from_tap(t, o->frame, o->len, &o->est, now_ms, out);
	case L2_PROG_FORGET:
		pq_l2_forget_peer(t, o->peer);
		return PQ_L2_PASS;
	default:
		(void)pq_l2_expire(t, now_ms);
		return PQ_L2_PASS;
	}
}

#endif
