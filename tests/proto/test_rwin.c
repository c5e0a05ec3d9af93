/*
 * test_rwin.c - the receive window from the received rate (proto/rwin.h),
 * on made-up reads, times and RTTs: untouched without a standing queue
 * (an idle or slow sender, a slow reader), taken over after two queued
 * windows and sized from the rate, grown as the rate rises, held through
 * a pause, idle gaps giving no sample, the clamps, and a clock that goes
 * back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/rwin.h"

/* A path with a sub-ms base: 50 µs min RTT, receiver estimate 1 ms
 * (timestamps count whole ms). */
static const struct pq_rwin_rtt calm = { .srtt_us = 80, .min_rtt_us = 50, .rcv_rtt_us = 1000 };
/* The same path with a 20 ms standing queue, seen by the socket's srtt. */
static const struct pq_rwin_rtt queued = { .srtt_us = 20050, .min_rtt_us = 50, .rcv_rtt_us = 1000 };

/* Read `rate` bytes/s in 1 ms reads for `ms` milliseconds; each closed
 * window is answered with rtt. Returns the time after; *set gets the last
 * non-zero size returned (untouched if none). */
static uint64_t receive(struct pq_rwin *w, uint64_t now_us, uint64_t rate, unsigned ms,
			const struct pq_rwin_rtt *rtt, size_t *set)
{
	for (unsigned i = 0; i < ms; i++) {
		size_t s;

		now_us += 1000;
		if (pq_rwin_read(w, (size_t)(rate / 1000), now_us) && (s = pq_rwin_next(w, rtt)))
			*set = s;
	}
	return now_us;
}

static void test_no_queue_no_takeover(void **state)
{
	struct pq_rwin w;
	size_t set = 0;

	pq_rwin_init(&w);
	/* 20 Mbit/s for 2 s without a queue: samples, but the window stays the kernel's */
	receive(&w, 1000000, 2500000, 2000, &calm, &set);
	assert_true(w.samples >= 30);
	assert_false(w.engaged);
	assert_int_equal(set, 0);
	/* an RTT unknown to the kernel counts as no queue */
	{
		static const struct pq_rwin_rtt none = { 0 };

		receive(&w, 4000000, 2500000, 500, &none, &set);
		assert_false(w.engaged);
	}
}

/* 20 Mbit/s with a queue: taken over at the second queued window, sized
 * rate * (2 * 50 µs) + rate * 1 ms = 2.75 KB -> the minimum. */
static void test_queue_takes_over(void **state)
{
	struct pq_rwin w;
	size_t set = 0;
	uint64_t now;

	pq_rwin_init(&w);
	now = receive(&w, 1000000, 2500000, 51, &queued, &set);
	assert_int_equal(w.samples, 1);
	assert_false(w.engaged); /* one queued window is not enough */
	receive(&w, now, 2500000, 51, &queued, &set);
	assert_true(w.engaged);
	assert_int_equal(set, PQ_RWIN_MIN);
}

/* Once ours, the window follows the rate up (a window-limited path
 * delivers more as it opens) and is clamped at the maximum. */
static void test_grows_with_rate(void **state)
{
	struct pq_rwin w;
	size_t set = 0;
	uint64_t now;

	pq_rwin_init(&w);
	now = receive(&w, 1000000, 2500000, 200, &queued, &set);
	assert_int_equal(set, PQ_RWIN_MIN);
	/* 100 MB/s over a 2 ms base: 2 * 100e6 * 0.002 + 100e6 * 0.001 = 500 KB -> max */
	{
		static const struct pq_rwin_rtt slow_base = { .srtt_us = 2000, .min_rtt_us = 2000, .rcv_rtt_us = 2000 };

		receive(&w, now, 100000000, 200, &slow_base, &set);
	}
	assert_int_equal(set, PQ_RWIN_MAX);
	/* 40 MB/s over 50 µs: 4 KB + 40 KB = 44 KB, once the 100 MB/s sample ages out */
	now = receive(&w, now + 3000000, 40000000, 200, &calm, &set);
	now = receive(&w, now + 3000000, 40000000, 200, &calm, &set);
	assert_int_equal(set, 2 * 40000000ull * 50 / 1000000 + 40000000ull * 1000 / 1000000);
}

/* A pause or a slower stretch within PQ_RWIN_HOLD_US keeps the higher
 * rate; a read gap longer than PQ_RWIN_IDLE_US ends a window unsampled. */
static void test_hold_and_idle(void **state)
{
	struct pq_rwin w;
	size_t set = 0;
	uint64_t now, before;

	pq_rwin_init(&w);
	now = receive(&w, 1000000, 20000000, 200, &queued, &set);
	assert_int_equal(w.rate, 20000000);
	now = receive(&w, now, 1000000, 500, &queued, &set);
	assert_int_equal(w.rate, 20000000); /* held */
	now = receive(&w, now + 3000000, 1000000, 200, &queued, &set);
	assert_int_equal(w.rate, 1000000);  /* aged out */
	/* reads 30 ms apart: never a window */
	before = w.samples;
	for (int i = 0; i < 20; i++) {
		now += 30000;
		assert_false(pq_rwin_read(&w, 1000, now));
	}
	assert_int_equal(w.samples, before);
	/* a clock that goes back restarts the window, no sample */
	assert_false(pq_rwin_read(&w, 1000, now - 5000));
	assert_int_equal(w.samples, before);
}

/* The receiver's own estimate also shows a queue: rcv_rtt far above the
 * lowest it showed, while the socket's srtt says nothing (no data sent). */
static void test_queue_by_rcv_rtt(void **state)
{
	static const struct pq_rwin_rtt base = { .rcv_rtt_us = 1000 };
	static const struct pq_rwin_rtt late = { .rcv_rtt_us = 30000 };
	struct pq_rwin w;
	size_t set = 0;
	uint64_t now;

	pq_rwin_init(&w);
	now = receive(&w, 1000000, 2500000, 200, &base, &set);
	assert_false(w.engaged);
	receive(&w, now, 2500000, 200, &late, &set);
	assert_true(w.engaged);
	/* no min_rtt: the base is the lowest rcv_rtt, 1 ms: 2 * 2.5e6 * 0.001 + 2500 = 7.5 KB */
	assert_int_equal(set, 7500);
}

/* Within 1/8 of the size last returned: nothing to set. */
static void test_small_changes_ignored(void **state)
{
	struct pq_rwin w;
	size_t set = 0;
	uint64_t now;

	pq_rwin_init(&w);
	now = receive(&w, 1000000, 8000000, 200, &queued, &set);
	assert_int_equal(set, 2 * 8000000ull * 50 / 1000000 + 8000000ull * 1000 / 1000000); /* 8.8 KB */
	set = 0;
	receive(&w, now + 3000000, 8500000, 200, &queued, &set);
	assert_int_equal(set, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_queue_no_takeover),
		cmocka_unit_test(test_queue_takes_over),
		cmocka_unit_test(test_grows_with_rate),
		cmocka_unit_test(test_hold_and_idle),
		cmocka_unit_test(test_queue_by_rcv_rtt),
		cmocka_unit_test(test_small_changes_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
