/*
 * test_rwin.c - the receive window's clamp (proto/rwin.h) on made-up
 * reads, times and TCP_INFO views: untouched without a queue, on a fast
 * path, with a stale RTT or segments too large to clamp under; taken at
 * the second queued window at the floor or what the rate needs; shrunk
 * while queued and never grown; given up (with a growing hold) when even
 * the floor leaves the queue; grown by probing and released when the
 * sender sends less than it allows; idle gaps giving no sample.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/rwin.h"

#define MBIT20 2500000u /* bytes/s */

/* A sub-ms path (50 µs base), 1448-byte segments; calm or with a 20 ms
 * standing queue; srtt fresh (data sent 1 ms ago). */
static const struct pq_rwin_path calm = { .srtt_us = 80, .min_rtt_us = 50, .sent_ago_ms = 1, .mss = 1448 };
static const struct pq_rwin_path queued = { .srtt_us = 20050, .min_rtt_us = 50, .sent_ago_ms = 1, .mss = 1448 };

struct seen {
	unsigned sets, releases;
	uint32_t last_set;
};

/* Read `rate` bytes/s in 1 ms reads for `ms` milliseconds; each closed
 * window is answered with p. Returns the time after. */
static uint64_t receive(struct pq_rwin *w, uint64_t now_us, uint64_t rate, unsigned ms,
			const struct pq_rwin_path *p, struct seen *s)
{
	for (unsigned i = 0; i < ms; i++) {
		now_us += 1000;
		if (!pq_rwin_read(w, (size_t)(rate / 1000), now_us))
			continue;
		switch (pq_rwin_next(w, p, now_us)) {
		case PQ_RWIN_SET:
			s->sets++;
			s->last_set = pq_rwin_clamp(w);
			assert_true(s->last_set > 0);
			break;
		case PQ_RWIN_RELEASE:
			s->releases++;
			assert_int_equal(pq_rwin_clamp(w), 0);
			break;
		case PQ_RWIN_KEEP:
			break;
		}
	}
	return now_us;
}

static void test_left_alone(void **state)
{
	struct pq_rwin w;
	struct seen s = { 0 };
	struct pq_rwin_path stale = queued, unknown = { 0 }, jumbo = queued;

	(void)state;
	pq_rwin_init(&w);
	/* no queue: samples, no clamp */
	uint64_t t = receive(&w, 1000000, MBIT20, 2000, &calm, &s);
	assert_true(w.samples >= 30);
	/* a queue, but nothing sent for 200 ms: the srtt is stale */
	stale.sent_ago_ms = 200;
	t = receive(&w, t, MBIT20, 1000, &stale, &s);
	/* the kernel has no RTT */
	t = receive(&w, t, MBIT20, 1000, &unknown, &s);
	/* a fast path queues, but is left to the kernel */
	t = receive(&w, t, 60000000, 1000, &queued, &s);
	/* 64 KiB segments: three of them queue 78 ms at 20 Mbit/s, more
	 * than the queue seen: a clamp cannot help */
	jumbo.mss = 65483;
	receive(&w, t, MBIT20, 1000, &jumbo, &s);
	assert_false(w.engaged);
	assert_int_equal(w.engages, 0);
	assert_int_equal(s.sets + s.releases, 0);
	assert_int_equal(pq_rwin_clamp(&w), 0);
}

/* Taken at the second queued window, at the floor (three segments): at
 * 20 Mbit/s the rate needs only ~2.6 KB in base + 1 ms. */
static void test_engages_at_floor(void **state)
{
	struct pq_rwin w;
	struct seen s = { 0 };
	uint64_t t;

	(void)state;
	pq_rwin_init(&w);
	t = receive(&w, 1000000, MBIT20, 55, &queued, &s); /* the first window closes */
	assert_int_equal(w.samples, 1);
	assert_false(w.engaged);
	t = receive(&w, t, MBIT20, 51, &queued, &s);
	assert_int_equal(w.samples, 2);
	assert_true(w.engaged);
	assert_int_equal(s.sets, 1);
	assert_int_equal(s.last_set, 3 * 1448);
	/* a queue of 3 ms (under the mark) keeps it */
	{
		struct pq_rwin_path mid = calm;

		mid.srtt_us = 3050;
		receive(&w, t, MBIT20, 500, &mid, &s);
		assert_true(w.engaged);
		assert_int_equal(s.sets, 1);
		assert_int_equal(pq_rwin_clamp(&w), 3 * 1448);
	}
}

/* At 200 Mbit/s the rate needs more than the floor: rate x (base + 1 ms);
 * while still queued it shrinks with the rate, never grows. */
static void test_shrinks_never_grows_while_queued(void **state)
{
	struct pq_rwin w;
	struct seen s = { 0 };
	uint64_t t;

	(void)state;
	pq_rwin_init(&w);
	t = receive(&w, 1000000, 25000000, 110, &queued, &s);
	assert_true(w.engaged);
	assert_int_equal(s.last_set, 25000000ull * 1050 / 1000000);
	t = receive(&w, t, 12500000, 110, &queued, &s);
	assert_int_equal(s.last_set, 12500000ull * 1050 / 1000000);
	/* the rate rises, still queued: no growth */
	receive(&w, t, 40000000, 300, &queued, &s);
	assert_int_equal(pq_rwin_clamp(&w), 12500000ull * 1050 / 1000000);
	assert_int_equal(s.releases, 0);
}

/* A queue the floor does not cure is someone else's: released after
 * PQ_RWIN_GIVEUP windows at the floor, not taken again within the hold,
 * which doubles at each give-up. */
static void test_gives_up_with_growing_hold(void **state)
{
	struct pq_rwin w;
	struct seen s = { 0 };
	uint64_t t, engaged_at;

	(void)state;
	pq_rwin_init(&w);
	t = receive(&w, 1000000, MBIT20, 110, &queued, &s);
	assert_true(w.engaged);
	engaged_at = t;
	t = receive(&w, t, MBIT20, (PQ_RWIN_GIVEUP + 1) * 51, &queued, &s);
	assert_false(w.engaged);
	assert_int_equal(s.releases, 1);
	assert_int_equal(w.giveups, 1);
	assert_true(t - engaged_at <= (PQ_RWIN_GIVEUP + 1) * 51000u);
	/* within the hold (1 s), a queue does not take it again */
	t = receive(&w, t, MBIT20, 900, &queued, &s);
	assert_int_equal(w.engages, 1);
	/* after it, it does; the next give-up holds 2 s */
	t = receive(&w, t, MBIT20, 400, &queued, &s);
	assert_int_equal(w.engages, 2);
	t = receive(&w, t, MBIT20, 400, &queued, &s);
	assert_int_equal(w.giveups, 2);
	t = receive(&w, t, MBIT20, 1500, &queued, &s);
	assert_int_equal(w.engages, 2);
	for (int i = 0; i < 40 && w.engages < 3; i++)
		t = receive(&w, t, MBIT20, 10, &queued, &s);
	assert_int_equal(w.engages, 3);
	assert_true(w.engaged);
	assert_int_equal(w.hold_us, 4 * PQ_RWIN_HOLD_MIN_US);
	/* a release that is no give-up resets the hold */
	receive(&w, t, 50000, 300, &calm, &s);
	assert_false(w.engaged);
	assert_int_equal(w.giveups, 2);
	assert_int_equal(w.hold_us, PQ_RWIN_HOLD_MIN_US);
}

/* Once the queue is gone the clamp grows by a quarter a window; a sender
 * that sends far less than it allows gets the kernel's window back, and
 * the hold is reset. Stale RTTs while engaged release too. */
static void test_probes_up_and_releases(void **state)
{
	struct pq_rwin w;
	struct seen s = { 0 };
	uint64_t t;
	uint32_t c0;
	struct pq_rwin_path stale = calm;

	(void)state;
	pq_rwin_init(&w);
	t = receive(&w, 1000000, MBIT20, 110, &queued, &s);
	c0 = pq_rwin_clamp(&w);
	t = receive(&w, t, MBIT20, 51, &calm, &s);
	assert_int_equal(pq_rwin_clamp(&w), c0 + c0 / 4);
	/* 50 KB/s for a while: 4 x rate x (base + 4 ms) is ~800 B, the
	 * clamp is far above it: released */
	t = receive(&w, t, 50000, 200, &calm, &s);
	assert_false(w.engaged);
	assert_int_equal(s.releases, 1);
	assert_int_equal(w.giveups, 0);
	assert_int_equal(w.hold_us, PQ_RWIN_HOLD_MIN_US);
	/* taken again at once (no hold), then PQ_RWIN_STALE windows with
	 * nothing sent release it */
	t = receive(&w, t, MBIT20, 110, &queued, &s);
	assert_true(w.engaged);
	stale.sent_ago_ms = 500;
	t = receive(&w, t, MBIT20, (PQ_RWIN_STALE - 1) * 51, &stale, &s);
	assert_true(w.engaged);
	receive(&w, t, MBIT20, 2 * 51, &stale, &s);
	assert_false(w.engaged);
	assert_int_equal(s.releases, 2);
	/* and a path that turns fast is released at once */
	pq_rwin_init(&w);
	t = receive(&w, 1000000, MBIT20, 110, &queued, &s);
	assert_true(w.engaged);
	receive(&w, t, 60000000, 51, &calm, &s);
	assert_false(w.engaged);
}

/* Reads with gaps over PQ_RWIN_IDLE_US give no sample; a clock that goes
 * back restarts the window. */
static void test_idle_gaps_no_sample(void **state)
{
	struct pq_rwin w;
	uint64_t t = 1000000;

	(void)state;
	pq_rwin_init(&w);
	for (int i = 0; i < 50; i++) {
		t += PQ_RWIN_IDLE_US + 1000;
		assert_false(pq_rwin_read(&w, 100000, t));
	}
	assert_int_equal(w.samples, 0);
	assert_false(pq_rwin_read(&w, 1000, t + 1000));
	assert_false(pq_rwin_read(&w, 1000, t - 5000));
	assert_false(pq_rwin_read(&w, 1000, t - 4000));
	assert_int_equal(w.samples, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_engages_at_floor),
		cmocka_unit_test(test_shrinks_never_grows_while_queued),
		cmocka_unit_test(test_gives_up_with_growing_hold),
		cmocka_unit_test(test_probes_up_and_releases),
		cmocka_unit_test(test_idle_gaps_no_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
