/*
 * replay.h - the receive replay window for sealed frames (DESIGN §4),
 * a bitmap in the style of RFC 6479.
 *
 * Pure state, no I/O, no allocation. The caller authenticates a frame
 * first and only then asks the window, so forged counters cannot move it.
 */
#ifndef PQ_CRYPTO_REPLAY_H
#define PQ_CRYPTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define PQ_REPLAY_WORD_BITS 64
#define PQ_REPLAY_WORDS 64                                   /* 4096-bit bitmap */
#define PQ_REPLAY_WINDOW ((PQ_REPLAY_WORDS - 1) * PQ_REPLAY_WORD_BITS) /* 4032 frames */
/* Never send or accept a counter at or past this (2^64 - 2^13). */
#define PQ_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13) + 1)

struct pq_replay {
	uint64_t top;        /* highest counter accepted + 1; 0 = none yet */
	uint64_t bitmap[PQ_REPLAY_WORDS];
};

void pq_replay_init(struct pq_replay *r);
/* true (and the counter recorded) when counter is new and inside the
 * window; false for a duplicate, a counter too old, or one at or past
 * PQ_REJECT_AFTER_MESSAGES. */
bool pq_replay_accept(struct pq_replay *r, uint64_t counter);

#endif
