/*
 * test_rwin.c - the receive window's clamp (proto/rwin.h), in a closed
 * loop: a made-up path whose delivered rate and RTT follow the window the
 * clamp leaves the sender (its own queue is in-flight / rate - base), with
 * or without someone else's queue. Checked: the clamp takes our own
 * queue away and keeps the rate; waits while the old flight drains; gives up, with a growing hold, on a
 * queue that is not ours; finds a long path's rate again after cross
 * traffic left, through RTT jitter, and by probing where the excess
 * stays between target and mark; takes back probes that only queue;
 * leaves alone a fast path, a sender,
 * a stale RTT, segments too large to clamp under; releases when the
 * sender sends less than it allows; windows over bursty and idle reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/rwin.h"

struct path {
	uint64_t rate;      /* the bottleneck, bytes/s */
	uint32_t base_us;
	uint32_t cross_us;  /* someone else's queue */
	uint32_t jitter_us; /* added to every srtt, twice to every other one's */
	uint32_t extra_us;  /* added to every srtt: a longer route than min_rtt saw */
	uint64_t flight;    /* what the sender would keep in flight unclamped */
	uint64_t send_cap;  /* the sender has at most this much to send per s; 0: no limit */
	uint64_t back_rate; /* bytes/s of ours acked (the inner flow's ACKs) */
	uint32_t mss;
	uint64_t drain_per_ms; /* flight above a new clamp leaves at most this fast; 0: at once */
	/* state */
	uint64_t inflight;
	struct pq_rwin w;
	uint64_t now_us, acked;
	unsigned windows, sets, releases;
	uint64_t excess_sum, excess_n; /* over the windows since last cleared */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The RTT and rate the path gives now, for the window the clamp leaves. */
static void path_now(const struct path *p, uint64_t *rtt_us, uint64_t *rate)
{
	uint64_t flight = p->inflight;
	uint64_t own = flight * 1000000u / p->rate;

	/* the pipe holds rate x (base + extra) without a queue */
	own = own > p->base_us + p->extra_us ? own - p->base_us - p->extra_us : 0;
	*rtt_us = p->base_us + own + p->cross_us + p->extra_us;
	*rate = min_u64(p->rate, flight * 1000000u / *rtt_us);
	if (p->send_cap)
		*rate = min_u64(*rate, p->send_cap);
}

/* Run ms milliseconds of 1 ms reads. */
static void run(struct path *p, unsigned ms)
{
	if (!p->inflight)
		p->inflight = p->flight;
	for (unsigned i = 0; i < ms; i++) {
		uint64_t rtt, rate;
		struct pq_rwin_path v;

		uint64_t clamp = pq_rwin_clamp(&p->w);
		uint64_t want = clamp ? min_u64(clamp, p->flight) : p->flight;

		/* the window given before a clamp is not taken back: the
		 * flight above it leaves as the path delivers it */
		if (p->drain_per_ms && p->inflight > want + p->drain_per_ms)
			p->inflight -= p->drain_per_ms;
		else
			p->inflight = want;
		path_now(p, &rtt, &rate);
		p->now_us += 1000;
		p->acked += p->back_rate / 1000;
		if (!pq_rwin_read(&p->w, (size_t)(rate / 1000), p->now_us))
			continue;
		p->windows++;
		v = (struct pq_rwin_path){ .srtt_us = (uint32_t)rtt + p->jitter_us * (1 + p->windows % 2),
					   .min_rtt_us = p->base_us, .mss = p->mss, .acked = p->acked };
		p->excess_sum += v.srtt_us - p->base_us;
		p->excess_n++;
		switch (pq_rwin_next(&p->w, &v, p->now_us)) {
		case PQ_RWIN_SET:
			p->sets++;
			assert_true(pq_rwin_clamp(&p->w) > 0);
			break;
		case PQ_RWIN_RELEASE:
			p->releases++;
			assert_int_equal(pq_rwin_clamp(&p->w), 0);
			break;
		case PQ_RWIN_KEEP:
			break;
		}
	}
}

/* 20 Mbit/s, 50 µs base, a BBR-like sender keeping 50 KB in flight. */
static void slow_link(struct path *p)
{
	*p = (struct path){ .rate = 2500000, .base_us = 50, .flight = 50000, .back_rate = 60000,
			    .mss = 1448, .now_us = 1000000 };
	pq_rwin_init(&p->w);
}

/* Our own queue (20 ms) is taken away; the rate is kept. */
static void test_cures_own_queue(void **state)
{
	struct path p;
	uint64_t rtt, rate;

	(void)state;
	slow_link(&p);
	run(&p, 400);
	assert_true(p.w.engaged);
	run(&p, 2000);
	p.excess_sum = p.excess_n = 0;
	run(&p, 3000);
	assert_true(p.w.engaged);
	assert_int_equal(p.w.engages, 1);
	assert_int_equal(p.w.giveups, 0);
	/* was 19,950 µs; the floor alone queues ~1,700; probes that only
	 * queue are taken back */
	assert_true(p.excess_sum / p.excess_n < 2500);
	path_now(&p, &rtt, &rate);
	assert_true(rate >= p.rate * 9 / 10); /* the link stays full */
	assert_true(pq_rwin_clamp(&p.w) >= 3 * 1448);
}

/* The flight given before the clamp drains slowly (100 B/ms: the
 * excess falls over ~450 ms); a queue still draining is not given up on. */
static void test_waits_for_drain(void **state)
{
	struct path p;

	(void)state;
	slow_link(&p);
	p.drain_per_ms = 100;
	run(&p, 3000);
	assert_true(p.w.engaged);
	assert_int_equal(p.w.engages, 1);
	assert_int_equal(p.w.giveups, 0);
}

/* Someone else's 20 ms queue: shrinking to the floor does not cure it, so
 * it is given up within a few windows, and tried again only after a hold
 * that doubles: over 10 s the clamp is on a small part of the time. */
static void test_gives_up_on_cross_traffic(void **state)
{
	struct path p;
	unsigned clamped_ms = 0;

	(void)state;
	slow_link(&p);
	p.cross_us = 20000;
	run(&p, 600);
	assert_int_equal(p.w.engages, 1);
	assert_int_equal(p.w.giveups, 1);
	assert_false(p.w.engaged);
	for (int i = 0; i < 10000; i++) {
		run(&p, 1);
		clamped_ms += pq_rwin_clamp(&p.w) != 0;
	}
	assert_true(p.w.engages >= 3 && p.w.engages <= 5); /* holds 1, 2, 4, 8 s */
	assert_int_equal(p.w.giveups, p.w.engages - (p.w.engaged ? 1 : 0));
	assert_true(clamped_ms < 1500);
	assert_true(p.w.hold_us >= 8 * PQ_RWIN_HOLD_MIN_US);

	/* the same queue swinging by 1.5 ms each window (a competing flow's
	 * cycle): every other window looks like a drain, still given up */
	slow_link(&p);
	p.cross_us = 20000;
	p.jitter_us = 1500;
	run(&p, 1000);
	assert_true(p.w.giveups >= 1);
}

/* 100 Mbit/s, 50 ms base, RTT jitter of 1.5-3 ms: after a cross-traffic
 * burst shrank the clamp, the probes find the path's rate again. */
static void test_long_path_recovers(void **state)
{
	struct path p = { .rate = 12500000, .base_us = 50000, .flight = 1500000, .back_rate = 100000,
			  .mss = 1448, .now_us = 1000000, .jitter_us = 1500 };
	uint64_t rtt, rate;

	(void)state;
	pq_rwin_init(&p.w);
	run(&p, 2000);
	assert_true(p.w.engaged); /* 70 ms of own queue */
	path_now(&p, &rtt, &rate);
	assert_true(rate >= p.rate * 8 / 10);
	p.cross_us = 30000;
	run(&p, 600);
	p.cross_us = 0;
	path_now(&p, &rtt, &rate);
	assert_true(rate < p.rate / 2);
	/* under base / 8 of excess (not 1 ms: the jitter) it grows each
	 * window: back within 3 s */
	run(&p, 3000);
	path_now(&p, &rtt, &rate);
	assert_true(rate >= p.rate * 8 / 10);
	assert_true(rtt - p.base_us < 25000);
}

/* 100 Mbit/s on a LAN whose route grew 2 ms longer than min_rtt knows,
 * after a burst of cross traffic: the excess sits between target and
 * mark for good, so only the probes find the room. */
static void test_probes_find_room(void **state)
{
	struct path p = { .rate = 12500000, .base_us = 50, .flight = 200000, .back_rate = 100000,
			  .mss = 1448, .now_us = 1000000 };
	uint64_t rtt, rate;

	(void)state;
	pq_rwin_init(&p.w);
	run(&p, 400);
	assert_true(p.w.engaged);
	p.cross_us = 30000;
	run(&p, 160);
	p.cross_us = 0;
	p.extra_us = 2000;
	/* (released as the burst ends, its window's rate being low; taken
	 * again, at what 1 ms of the rate needs) */
	run(&p, 200);
	assert_true(p.w.engaged);
	path_now(&p, &rtt, &rate);
	assert_true(rate < p.rate * 6 / 10);
	run(&p, 12000);
	assert_true(p.w.engaged);
	path_now(&p, &rtt, &rate);
	assert_true(rate >= p.rate * 8 / 10);
}

/* Left alone: no queue; a queue while we are the sender; a fast path;
 * a stale RTT; 64 KiB segments on a slow link (three of them queue more
 * than the excess). */
static void test_left_alone(void **state)
{
	struct path p;

	(void)state;
	slow_link(&p);
	p.flight = 2000;
	run(&p, 3000);
	assert_true(p.w.samples >= 50);
	assert_int_equal(p.w.engages, 0);

	slow_link(&p);
	p.back_rate = 3000000; /* we send more than we read */
	run(&p, 3000);
	assert_int_equal(p.w.engages, 0);

	slow_link(&p);
	p.rate = 100000000;
	p.flight = 4000000;
	run(&p, 3000);
	assert_int_equal(p.w.engages, 0);

	slow_link(&p);
	p.back_rate = 0; /* nothing of ours acked: no RTT sample */
	run(&p, 3000);
	assert_int_equal(p.w.engages, 0);

	slow_link(&p);
	p.mss = 65483;
	run(&p, 3000);
	assert_int_equal(p.w.engages, 0);
	assert_int_equal(p.sets + p.releases, 0);
}

/* A sender that sends far less than the clamp allows gets the kernel's
 * window back, and the hold is reset; so does a stale RTT for
 * PQ_RWIN_STALE windows, and a path that turns fast. */
static void test_releases(void **state)
{
	struct path p;

	(void)state;
	slow_link(&p);
	p.cross_us = 20000;
	run(&p, 600);
	assert_int_equal(p.w.giveups, 1);
	assert_int_equal(p.w.hold_us, 2 * PQ_RWIN_HOLD_MIN_US);
	p.cross_us = 0;
	run(&p, 1400);
	assert_true(p.w.engaged);
	p.send_cap = 20000;
	run(&p, 300);
	assert_false(p.w.engaged);
	assert_int_equal(p.w.giveups, 1);
	assert_int_equal(p.w.hold_us, PQ_RWIN_HOLD_MIN_US);

	slow_link(&p);
	run(&p, 400);
	assert_true(p.w.engaged);
	p.back_rate = 0;
	run(&p, (PQ_RWIN_STALE - 1) * 51);
	assert_true(p.w.engaged);
	run(&p, 3 * 51);
	assert_false(p.w.engaged);

	slow_link(&p);
	run(&p, 400);
	assert_true(p.w.engaged);
	p.rate = 100000000;
	p.flight = 8000000;
	run(&p, 3000);
	assert_false(p.w.engaged);
}

/* Engaged, a gap of reads over a second lets the clamp go at the next
 * read (the path is no longer known); so do PQ_RWIN_STALE shorter gaps
 * that each end a window. */
static void test_gap_releases(void **state)
{
	struct path p;
	uint64_t t;
	int i;

	(void)state;
	slow_link(&p);
	run(&p, 400);
	assert_true(p.w.engaged);
	t = p.now_us + PQ_RWIN_IDLE_RELEASE_US + 1000;
	assert_false(pq_rwin_read(&p.w, 1000, t));
	assert_false(p.w.engaged);
	assert_int_equal(pq_rwin_clamp(&p.w), 0);

	slow_link(&p);
	run(&p, 400);
	assert_true(p.w.engaged);
	t = p.now_us;
	for (i = 0; i < (int)PQ_RWIN_STALE - 1; i++) {
		t += 300000;
		assert_false(pq_rwin_read(&p.w, 1000, t));
	}
	assert_true(p.w.engaged);
	assert_false(pq_rwin_read(&p.w, 1000, t + 300000));
	assert_false(p.w.engaged);
}

/* Reads a long RTT apart still make windows (gap under 2 srtt); longer
 * gaps and a clock that goes back restart the window. */
static void test_windows_over_gaps(void **state)
{
	struct pq_rwin w;
	uint64_t t = 1000000;
	unsigned closed = 0;

	(void)state;
	pq_rwin_init(&w);
	for (int i = 0; i < 50; i++) {
		t += PQ_RWIN_IDLE_US + 1000;
		assert_false(pq_rwin_read(&w, 100000, t));
	}
	assert_int_equal(w.samples, 0);
	assert_false(pq_rwin_read(&w, 1000, t - 5000));
	assert_false(pq_rwin_read(&w, 1000, t - 4000));
	assert_int_equal(w.samples, 0);
	w.srtt_us = 50000; /* a 50 ms path: flights 55 ms apart */
	for (int i = 0; i < 20; i++) {
		t += 55000;
		closed += pq_rwin_read(&w, 60000, t);
	}
	assert_true(closed >= 9);
	assert_true(w.rate > 1000000 && w.rate < 1200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cures_own_queue),
		cmocka_unit_test(test_waits_for_drain),
		cmocka_unit_test(test_gives_up_on_cross_traffic),
		cmocka_unit_test(test_long_path_recovers),
		cmocka_unit_test(test_probes_find_room),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_releases),
		cmocka_unit_test(test_gap_releases),
		cmocka_unit_test(test_windows_over_gaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
