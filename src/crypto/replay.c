/*
 * replay.c - the receive replay window (DESIGN §4), RFC 6479 style.
 *
 * Counter c lives at position p = c + 1, so top == 0 can mean "nothing
 * accepted yet" (top is the position of the highest accepted counter).
 * Position p is bit p % 64 of word (p / 64) % 64. When a new highest
 * counter arrives, the words between the old top's word and the new one
 * are cleared (at most all 64); one word always holds positions above
 * top, so the guaranteed window is 63 words = PQ_REPLAY_WINDOW frames:
 * counters from highest - PQ_REPLAY_WINDOW to highest are remembered.
 */
#include <string.h>

#include "crypto/replay.h"

#define WORD_SHIFT 6 /* log2(PQ_REPLAY_WORD_BITS) */

_Static_assert(PQ_REPLAY_WORD_BITS == 1 << WORD_SHIFT, "word size");
_Static_assert((PQ_REPLAY_WORDS & (PQ_REPLAY_WORDS - 1)) == 0, "word count a power of two");

void pq_replay_init(struct pq_replay *r)
{
	memset(r, 0, sizeof(*r));
}

/* Move top up to position pos, forgetting the words it passes over. */
static void advance(struct pq_replay *r, uint64_t pos)
{
	uint64_t old_word = r->top >> WORD_SHIFT;
	uint64_t new_word = pos >> WORD_SHIFT;
	uint64_t n = new_word - old_word;

	if (n > PQ_REPLAY_WORDS)
		n = PQ_REPLAY_WORDS;
	for (uint64_t i = 1; i <= n; i++)
		r->bitmap[(old_word + i) & (PQ_REPLAY_WORDS - 1)] = 0;
	r->top = pos;
}

bool pq_replay_accept(struct pq_replay *r, uint64_t counter)
{
	uint64_t pos, bit, *word;

	if (counter >= PQ_REJECT_AFTER_MESSAGES)
		return false;
	pos = counter + 1; /* cannot overflow: counter < 2^64 - 2^13 */
	if (pos + PQ_REPLAY_WINDOW < r->top)
		return false; /* older than the window */
	if (pos > r->top)
		advance(r, pos);
	word = &r->bitmap[(pos >> WORD_SHIFT) & (PQ_REPLAY_WORDS - 1)];
	bit = 1ULL << (pos & (PQ_REPLAY_WORD_BITS - 1));
	if (*word & bit)
		return false; /* seen before */
	*word |= bit;
	return true;
}
