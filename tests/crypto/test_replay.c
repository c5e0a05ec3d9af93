/* test_replay.c - the replay window: a table of accept/reject cases (in
 * the manner of WireGuard's counter self-test) and a differential test
 * against a deliberately naive window over random operation streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/replay.h"

#define W PQ_REPLAY_WINDOW          /* counters highest - W .. highest are kept */
#define T_LIM ((uint64_t)W + 1)
#define REJECT PQ_REJECT_AFTER_MESSAGES

/* A table row: RESET starts a fresh window; otherwise offer counter and
 * expect the answer. */
struct row {
	enum { OFFER, RESET } op;
	uint64_t counter;
	bool accept;
};

#define Y(c) { OFFER, (c), true }
#define N(c) { OFFER, (c), false }
#define RST { RESET, 0, false }

static const struct row table[] = {
	Y(0), N(0), Y(1), N(1), Y(9), Y(8), Y(7), N(7), N(9),
	Y(T_LIM), Y(T_LIM - 1), N(T_LIM - 1), Y(T_LIM - 2),
	Y(2), N(2),                        /* highest - 2 is T_LIM - 2: inside */
	Y(T_LIM + 16), N(3),               /* 3 is now older than the window */
	N(T_LIM + 16),
	Y(T_LIM * 4),                      /* jump: highest = 4 * T_LIM */
	Y(T_LIM * 4 - W),                  /* top - window: the oldest kept */
	N(T_LIM * 4 - W),
	N(T_LIM * 4 - W - 1),              /* top - window - 1: too old */
	Y(T_LIM * 4 - W + 1),
	N(10), N(T_LIM), N(T_LIM * 4),
	Y(T_LIM * 4 - 1), N(T_LIM * 4 - 1),
	/* Far jumps forward forget everything behind the new window. */
	Y(1000000), N(T_LIM * 4 - 1), Y(1000000 - 1), Y(1000000 - W), N(1000000 - W - 1),
	Y(1ULL << 40), N(1000000), Y((1ULL << 40) - W), N((1ULL << 40) - W - 1),
	N(0),
	/* The reject-after limit and values just below it. */
	N(REJECT), N(REJECT + 1), N(UINT64_MAX), N(UINT64_MAX - 1),
	Y(REJECT - 1), N(REJECT - 1), N(REJECT), Y(REJECT - 2), Y(REJECT - 1 - W),
	N(REJECT - 2 - W), N(1ULL << 40),

	/* Fill the whole window upwards, then the oldest slot. */
	RST,
#define UP_1_TO_W 0xffff0001u /* marker expanded below */
	{ OFFER, UP_1_TO_W, true }, Y(0), N(0),
	/* The same shifted by one: 0 falls out. */
	RST,
#define UP_2_TO_TLIM 0xffff0002u
	{ OFFER, UP_2_TO_TLIM, true }, Y(1), N(0),
	/* Downwards from T_LIM - 1 to 0: all inside. */
	RST,
#define DOWN_W_TO_0 0xffff0003u
	{ OFFER, DOWN_W_TO_0, true }, N(0), N(W), Y(W + 1),
	/* Word boundaries: counters either side of a 64-bit word edge. */
	RST,
	Y(63), Y(64), Y(62), Y(65), N(63), N(64), Y(127), Y(128), N(128), Y(0),
	Y(64 * 64), Y(64 * 64 - 1), N(64 * 64 - W), /* 64, seen, at the edge */
	Y(66), N(63), N(65), Y(67), N(64 * 64 - W - 1),
	/* A fresh window accepts a first counter that is huge. */
	RST,
	Y(REJECT - 1), N(REJECT - 1), Y(REJECT - 1 - W), N(REJECT - 2 - W), N(0),
	RST,
	N(REJECT), Y(0),
};

static size_t run_row(struct pq_replay *r, const struct row *row)
{
	size_t n = 0;

	if (row->op == RESET) {
		pq_replay_init(r);
		return 0;
	}
	switch (row->counter) {
	case UP_1_TO_W:
		for (uint64_t i = 1; i <= W; i++, n++)
			assert_true(pq_replay_accept(r, i));
		return n;
	case UP_2_TO_TLIM:
		for (uint64_t i = 2; i <= T_LIM; i++, n++)
			assert_true(pq_replay_accept(r, i));
		return n;
	case DOWN_W_TO_0:
		for (uint64_t i = W + 1; i-- > 0; n++)
			assert_true(pq_replay_accept(r, i));
		return n;
	}
	if (pq_replay_accept(r, row->counter) != row->accept)
		fail_msg("counter %llu: expected %s", (unsigned long long)row->counter,
			 row->accept ? "accept" : "reject");
	return 1;
}

static void test_table(void **state)
{
	struct pq_replay r;
	size_t cases = 0;

	pq_replay_init(&r);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		cases += run_row(&r, &table[i]);
	printf("checked: replay table %zu cases\n", cases);
}

/* The naive reference: every accepted counter in a hash set, and the
 * window rule applied to the highest one. */
struct naive {
	uint64_t *slot;      /* counter + 1; 0 = empty */
	size_t cap;          /* a power of two */
	uint64_t highest;
	bool any;
};

static size_t naive_hash(uint64_t c, size_t cap)
{
	c ^= c >> 33;
	c *= 0xff51afd7ed558ccdULL;
	c ^= c >> 33;
	return (size_t)c & (cap - 1);
}

static bool naive_accept(struct naive *nv, uint64_t c)
{
	size_t i;

	if (c >= REJECT)
		return false;
	if (nv->any && c + W < nv->highest)
		return false;
	for (i = naive_hash(c, nv->cap); nv->slot[i]; i = (i + 1) & (nv->cap - 1))
		if (nv->slot[i] == c + 1)
			return false;
	nv->slot[i] = c + 1;
	if (!nv->any || c > nv->highest)
		nv->highest = c;
	nv->any = true;
	return true;
}

static void naive_reset(struct naive *nv)
{
	memset(nv->slot, 0, nv->cap * sizeof(nv->slot[0]));
	nv->any = false;
	nv->highest = 0;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the printed seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint64_t below(uint64_t n)
{
	return rnd() % n;
}

/* One operation of a stream shape; base is the stream's moving point. */
static uint64_t next_counter(int shape, uint64_t *base)
{
	uint64_t b = *base, off;

	switch (shape) {
	case 0: /* mostly increasing, reordered by up to 64 */
		*base = b + 1;
		off = below(129);
		return b + off >= 64 ? b + off - 64 : 0;
	case 1: /* duplicates of recent values */
		*base = b + below(3);
		return b > 8 ? b - below(8) : b;
	case 2: /* big jumps now and then, reordering otherwise */
		*base = b + (below(50) == 0 ? below(3 * W) : below(100) == 0 ? below(1ULL << 40) : 1);
		return b > 200 ? b - below(200) : b;
	case 3: /* new highest counters, and counters at its window's edge */
		if (below(2)) {
			*base = b + below(4);
			return b;
		}
		off = W - 8 + below(17);
		return b > off ? b - off : below(16);
	default: /* near the reject-after limit */
		*base = b + below(3);
		return b + below(16) - 8;
	}
}

static void test_differential(void **state)
{
	static struct pq_replay r;
	struct naive nv = { .cap = 1u << 19 };
	const char *seed_env = getenv("PQ_REPLAY_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : 0x9e3779b97f4a7c15ULL;
	size_t ops = 0, accepted = 0;

	nv.slot = calloc(nv.cap, sizeof(nv.slot[0]));
	assert_non_null(nv.slot);
	rng_state = seed ? seed : 1;
	for (int round = 0; round < 40; round++) {
		int shape = round % 5;
		uint64_t base = shape == 4 ? REJECT - 8000 : below(2) ? 0 : below(1ULL << 50);

		pq_replay_init(&r);
		naive_reset(&nv);
		for (int i = 0; i < 10000; i++, ops++) {
			uint64_t c = next_counter(shape, &base);
			bool want = naive_accept(&nv, c), got = pq_replay_accept(&r, c);

			if (got != want)
				fail_msg("seed %#llx round %d op %d counter %llu: window %d, naive %d",
					 (unsigned long long)seed, round, i, (unsigned long long)c, got, want);
			accepted += got;
		}
	}
	free(nv.slot);
	/* The streams must exercise both answers, or the test proves little. */
	assert_true(accepted > ops / 4 && accepted < ops - ops / 20);
	printf("checked: replay differential %zu ops (%zu accepted, seed %#llx)\n", ops, accepted,
	       (unsigned long long)seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
