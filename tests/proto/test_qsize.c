/*
 * test_qsize.c - socket and TLS write sizes from the drain rate (proto/qsize.h), on
 * made-up writes and times: the prior before any sample, a backlogged
 * window measuring the path, a window where the queue ran dry only
 * raising the estimate, the clamps of both sizes, a clock that goes
 * back, and the kernel's unsent backlog measuring a path the socket never
 * refused on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/qsize.h"


/* Drain `rate` bytes/s for `ms` milliseconds in 1 ms writes, the queue
 * staying backlogged (left > 0) or running dry at every write. */
static uint64_t drain(struct pq_qsize *q, uint64_t now_us, uint64_t rate, unsigned ms, bool backlogged)
{
	for (unsigned i = 0; i < ms; i++) {
		now_us += 1000;
		pq_qsize_written(q, (size_t)(rate / 1000), backlogged ? 4096 : 0, now_us);
	}
	return now_us;
}

/* A window opened at now that drains `rate` for ms - 1 ms backlogged,
 * then runs dry at its last millisecond; returns the time after. */
static uint64_t dry_window(struct pq_qsize *q, uint64_t now_us, uint64_t rate, unsigned ms)
{
	pq_qsize_written(q, 0, 1, now_us);
	now_us = drain(q, now_us, rate, ms - 1, true);
	now_us += 1000;
	pq_qsize_written(q, (size_t)(rate / 1000), 0, now_us);
	return now_us;
}

static void test_prior(void **state)
{
	struct pq_qsize q;

	pq_qsize_init(&q);
	assert_int_equal(pq_qsize_rate(&q), PQ_QSIZE_PRIOR_RATE);
	/* 1 Gbit/s, fast: no watermark, full records */
	assert_int_equal(pq_qsize_lowat(&q), 0);
	assert_int_equal(pq_qsize_record(&q), PQ_QSIZE_RECORD_MAX);
	/* writes that never leave anything queued open no window */
	drain(&q, 1000000, 1000000, 200, false);
	assert_int_equal(q.samples, 0);
	assert_int_equal(pq_qsize_rate(&q), PQ_QSIZE_PRIOR_RATE);
}

/* 20 Mbit/s = 2.5 MB/s while backlogged: the bounds follow it down. */
static void test_slow_path(void **state)
{
	struct pq_qsize q;
	uint64_t now = 5000000;

	pq_qsize_init(&q);
	pq_qsize_written(&q, 0, 10000, now); /* the socket refused: a window opens */
	assert_true(q.win_open);
	now = drain(&q, now, 2500000, 49, true);
	assert_int_equal(q.samples, 0); /* 49 ms: still open */
	now = drain(&q, now, 2500000, 1, true);
	assert_int_equal(q.samples, 1);
	assert_int_equal(pq_qsize_rate(&q), 2500000);
	assert_int_equal(pq_qsize_lowat(&q), 5000);  /* 2 ms */
	assert_int_equal(pq_qsize_record(&q), 2500); /* 1 ms */
	(void)now;
}

static void test_backlogged_sample_halves(void **state)
{
	struct pq_qsize q;
	uint64_t now = 0;

	pq_qsize_init(&q);
	pq_qsize_written(&q, 0, 1, now);
	now = drain(&q, now, 4000000, 50, true);
	assert_int_equal(pq_qsize_rate(&q), 4000000);
	/* the window reopened at its close; the path slows to 2 MB/s */
	now = drain(&q, now, 2000000, 50, true);
	assert_int_equal(q.samples, 2);
	assert_int_equal(pq_qsize_rate(&q), 3000000); /* (4 + 2) / 2 */
	now = drain(&q, now, 2000000, 50, true);
	assert_int_equal(pq_qsize_rate(&q), 2500000);
}

/* A window in which the queue ran dry says the sender, not the path, was
 * the limit: it ends at that write, may raise the rate in use (the prior
 * included) but never lower it, and one under PQ_QSIZE_DRY_MIN_US says
 * nothing. */
static void test_dry_window_only_raises(void **state)
{
	struct pq_qsize q;
	uint64_t now = 0;

	pq_qsize_init(&q);
	/* 11 ms at 3 MB/s, then dry: under the prior, nothing learnt */
	now = dry_window(&q, now, 3000000, 11);
	assert_false(q.win_open);
	assert_int_equal(q.samples, 0);
	assert_int_equal(pq_qsize_rate(&q), PQ_QSIZE_PRIOR_RATE);
	/* a burst that drains in 3 ms, the next write 2 s later: the window
	 * ended at the drain and was too short - not 150 kB/s over 2 s */
	pq_qsize_written(&q, 200000, 300000, now);
	now += 3000;
	pq_qsize_written(&q, 300000, 0, now);
	now += 2000000;
	pq_qsize_written(&q, 0, 0, now);
	assert_int_equal(q.samples, 0);
	assert_int_equal(pq_qsize_lowat(&q), 0);
	/* 10 ms at 250 MB/s, then dry: above the prior, raised */
	now = dry_window(&q, now, 250000000, 10);
	assert_int_equal(q.samples, 1);
	assert_int_equal(pq_qsize_rate(&q), 250000000);
	/* a backlogged window at 2.5 MB/s halves toward it */
	pq_qsize_written(&q, 0, 1, now);
	now = drain(&q, now, 2500000, 50, true);
	assert_int_equal(q.samples, 2);
	assert_int_equal(pq_qsize_rate(&q), (250000000 + 2500000) / 2);
	/* a dry window under the estimate changes nothing */
	now = dry_window(&q, now, 1000000, 10);
	assert_int_equal(q.samples, 2);
	assert_int_equal(pq_qsize_rate(&q), (250000000 + 2500000) / 2);
}

/* A fast path: no watermark, full records; a stall brings both down. */
static void test_fast_path_caps(void **state)
{
	struct pq_qsize q;
	uint64_t now = 0;

	pq_qsize_init(&q);
	pq_qsize_written(&q, 0, 1, now);
	now = drain(&q, now, 1250000000ull, 50, true); /* 10 Gbit/s */
	assert_int_equal(pq_qsize_lowat(&q), 0);
	assert_int_equal(pq_qsize_record(&q), PQ_QSIZE_RECORD_MAX);
	/* a stall (nothing taken, still backlogged) is a slow path too:
	 * each window halves the estimate, down to the floors */
	now += 60000;
	pq_qsize_written(&q, 0, 1, now);
	assert_int_equal(pq_qsize_rate(&q), 1250000000ull / 2);
	for (int i = 0; i < 20; i++) {
		now += 60000;
		pq_qsize_written(&q, 0, 1, now);
	}
	assert_int_equal(q.samples, 22);
	assert_true(pq_qsize_rate(&q) < 2000);
	assert_int_equal(pq_qsize_lowat(&q), PQ_QSIZE_LOWAT_MIN);
	assert_int_equal(pq_qsize_record(&q), PQ_QSIZE_RECORD_MIN);
	/* the path comes back: one backlogged window brings half of it */
	now = drain(&q, now, 1250000000ull, 50, true);
	assert_true(pq_qsize_rate(&q) >= 1250000000ull / 2 - 1000);
}

static void test_clock_back(void **state)
{
	struct pq_qsize q;

	pq_qsize_init(&q);
	pq_qsize_written(&q, 0, 1, 1000000);
	pq_qsize_written(&q, 5000, 1, 500000); /* earlier than the window's start */
	assert_int_equal(q.samples, 0);
	assert_true(q.win_open); /* reopened at the new time */
	assert_int_equal(q.win_start_us, 500000);
	drain(&q, 500000, 2000000, 50, true);
	assert_int_equal(q.samples, 1);
	assert_int_equal(pq_qsize_rate(&q), 2000000);
}

/* One look at the kernel's view. */
static void look(struct pq_qsize *q, uint64_t acked, uint64_t busy_us, uint64_t notsent, uint64_t now_us)
{
	pq_qsize_kernel(q, &(struct pq_qsize_view){ .acked = acked, .busy_us = busy_us, .notsent = notsent }, now_us);
}

/* Look at the kernel every `step` ms for `n` looks, when due: `rate`
 * bytes/s acked, `notsent` unsent at each look, the socket busy all the
 * time. Returns the time after. */
static uint64_t kernel_looks(struct pq_qsize *q, uint64_t now_us, uint64_t *acked, uint64_t rate,
			     uint64_t notsent, unsigned step_ms, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		now_us += step_ms * 1000u;
		*acked += rate / 1000u * step_ms;
		if (pq_qsize_kernel_due(q, now_us))
			look(q, *acked, now_us, notsent, now_us);
	}
	return now_us;
}

/* The socket never refused (no watermark, a deep send buffer), but the
 * kernel held a backlog at two looks a window apart: the bytes acked
 * between them are the path's rate, and the watermark follows. */
static void test_kernel_backlog_measures(void **state)
{
	struct pq_qsize q;
	uint64_t now = 1000000, acked = 0;

	pq_qsize_init(&q);
	assert_true(pq_qsize_kernel_due(&q, now)); /* no look yet */
	look(&q, acked, now, 20000, now);
	assert_false(pq_qsize_kernel_due(&q, now + PQ_QSIZE_WINDOW_US - 1));
	assert_true(pq_qsize_kernel_due(&q, now + PQ_QSIZE_WINDOW_US));
	/* writes meanwhile that the socket took whole open no window */
	pq_qsize_written(&q, 3000, 0, now + 1000);
	now = kernel_looks(&q, now, &acked, 2500000, 20000, 10, 5);
	assert_int_equal(q.samples, 1);
	assert_int_equal(pq_qsize_rate(&q), 2500000);
	assert_int_equal(pq_qsize_lowat(&q), 5000);
	/* with a watermark the socket's refusals measure: no more looks */
	assert_false(pq_qsize_kernel_due(&q, now + 10 * PQ_QSIZE_WINDOW_US));
}

/* No sample unless both looks found a backlog, the span was one to four
 * windows and the counters and the clock went forward. */
static void test_kernel_needs_backlog(void **state)
{
	struct pq_qsize q;
	uint64_t now = 0, acked = 1000000;

	pq_qsize_init(&q);
	/* a little unsent at every look: the sender, not the path, was slow */
	now = kernel_looks(&q, now, &acked, 2500000, PQ_QSIZE_BACKLOG - 1, 50, 10);
	assert_int_equal(q.samples, 0);
	/* backlogged now, but the last look was not: this one only begins */
	now = kernel_looks(&q, now, &acked, 2500000, PQ_QSIZE_BACKLOG, 50, 1);
	assert_int_equal(q.samples, 0);
	/* the next look 5 windows later: the backlog may have run out between */
	now += 5 * PQ_QSIZE_WINDOW_US;
	acked += 12500000 / 10;
	look(&q, acked, now, PQ_QSIZE_BACKLOG, now);
	assert_int_equal(q.samples, 0);
	/* one window under a window (a caller that did not ask if due) */
	look(&q, acked + 100000, now + PQ_QSIZE_WINDOW_US - 1000, PQ_QSIZE_BACKLOG, now + PQ_QSIZE_WINDOW_US - 1000);
	assert_int_equal(q.samples, 0);
	now += PQ_QSIZE_WINDOW_US - 1000;
	acked += 100000;
	/* a counter that went back (a new socket) or a clock that did */
	look(&q, 0, now + PQ_QSIZE_WINDOW_US, PQ_QSIZE_BACKLOG, now + PQ_QSIZE_WINDOW_US);
	assert_int_equal(q.samples, 0);
	now += PQ_QSIZE_WINDOW_US;
	assert_true(pq_qsize_kernel_due(&q, now - 1)); /* the clock went back: look */
	look(&q, 0, now - 1, PQ_QSIZE_BACKLOG, now - 1);
	assert_int_equal(q.samples, 0);
	/* from here on, one window at 2.5 MB/s: a sample */
	acked = 0;
	now = kernel_looks(&q, now - 1, &acked, 2500000, PQ_QSIZE_BACKLOG, 50, 1);
	assert_int_equal(q.samples, 1);
	assert_int_equal(pq_qsize_rate(&q), 2500000);
}

/* A backlog at both looks is not enough: bursts that fill the socket
 * just before each look on a fast link that idles between them (busy a
 * tenth of the span), or a peer that stalled (almost nothing acked), are
 * no slow path. */
static void test_kernel_needs_busy_link(void **state)
{
	struct pq_qsize q;
	uint64_t now = 0, acked = 0, busy = 0;

	pq_qsize_init(&q);
	look(&q, acked, busy, 256000, now);
	for (int i = 0; i < 10; i++) { /* 256 KB every 100 ms, drained in 10 ms */
		now += 100000;
		busy += 10000;
		acked += 256000;
		look(&q, acked, busy, 256000, now);
	}
	assert_int_equal(q.samples, 0);
	assert_int_equal(pq_qsize_lowat(&q), 0);
	/* busy for 7/8 of the span: a sample */
	now += 100000;
	busy += 100000 - 100000 / 8;
	acked += 256000;
	look(&q, acked, busy, 256000, now);
	assert_int_equal(q.samples, 1);
	/* a stall: busy throughout, but under PQ_QSIZE_BACKLOG acked */
	now += 100000;
	busy += 100000;
	acked += PQ_QSIZE_BACKLOG - 1;
	look(&q, acked, busy, 256000, now);
	assert_int_equal(q.samples, 1);
}

/* A window of our own that closed between two looks measured that drain:
 * the kernel's window starts again at the next look. */
static void test_kernel_no_double_count(void **state)
{
	struct pq_qsize q;
	uint64_t now = 0, acked = 0;

	pq_qsize_init(&q);
	look(&q, acked, now, 20000, now);
	pq_qsize_written(&q, 0, 1, now);                 /* the socket refused */
	now = drain(&q, now, 2000000, 50, true);          /* our window: 2 MB/s */
	assert_int_equal(q.samples, 1);
	assert_int_equal(pq_qsize_rate(&q), 2000000);
	/* pq_qsize_kernel_due is false now (a watermark); a look anyway
	 * (the rate came back fast) only begins a window */
	acked += 100000;
	look(&q, acked, now, 20000, now);
	assert_int_equal(q.samples, 1);
	assert_int_equal(pq_qsize_rate(&q), 2000000);
}

/* A fast path measured through the kernel stays without a watermark and
 * keeps being looked at, so a later slowdown is still seen; the kernel's
 * sample closes a window of our own over the same drain. */
static void test_kernel_fast_path(void **state)
{
	struct pq_qsize q;
	uint64_t now = 0, acked = 0;

	pq_qsize_init(&q);
	pq_qsize_written(&q, 0, 1, now); /* the socket refused once */
	assert_true(q.win_open);
	look(&q, acked, now, 1 << 20, now);
	now = kernel_looks(&q, now, &acked, 375000000ull, 1 << 20, 50, 1); /* 3 Gbit/s */
	assert_false(q.win_open);
	assert_int_equal(q.samples, 1);
	assert_int_equal(pq_qsize_lowat(&q), 0);
	assert_true(pq_qsize_kernel_due(&q, now + PQ_QSIZE_WINDOW_US));
	/* the path falls to 20 Mbit/s: each window halves toward it, and
	 * after three
	 * (~49 MB/s, under PQ_QSIZE_FAST_RATE) the watermark is set and the
	 * looks stop */
	now = kernel_looks(&q, now, &acked, 2500000, 1 << 20, 50, 12);
	assert_int_equal(q.samples, 1 + 3);
	assert_true(pq_qsize_lowat(&q) > 0);
	assert_false(pq_qsize_kernel_due(&q, now + PQ_QSIZE_WINDOW_US));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prior),
		cmocka_unit_test(test_slow_path),
		cmocka_unit_test(test_backlogged_sample_halves),
		cmocka_unit_test(test_dry_window_only_raises),
		cmocka_unit_test(test_fast_path_caps),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_kernel_backlog_measures),
		cmocka_unit_test(test_kernel_needs_backlog),
		cmocka_unit_test(test_kernel_needs_busy_link),
		cmocka_unit_test(test_kernel_no_double_count),
		cmocka_unit_test(test_kernel_fast_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
