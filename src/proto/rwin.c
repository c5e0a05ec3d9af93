/*
 * rwin.c - a clamp on the receive window while the path queues and the
 * clamp cures it; see rwin.h.
 */
#include "proto/rwin.h"

#define MAX_BASE_US 10000000u /* 10 s: bounds the products below */

void pq_rwin_init(struct pq_rwin *w)
{
	*w = (struct pq_rwin){ .hold_us = PQ_RWIN_HOLD_MIN_US };
}

static uint64_t idle_gap_us(const struct pq_rwin *w)
{
	uint64_t g = 2 * (uint64_t)w->srtt_us;

	return g > 1000000u ? 1000000u : g > PQ_RWIN_IDLE_US ? g : PQ_RWIN_IDLE_US;
}

static void release(struct pq_rwin *w, uint64_t now_us, bool gave_up);

bool pq_rwin_read(struct pq_rwin *w, size_t n, uint64_t now_us)
{
	bool closed = false;
	uint64_t gap = now_us >= w->last_read_us ? now_us - w->last_read_us : UINT64_MAX;

	if (w->last_read_us && gap > idle_gap_us(w)) {
		/* idle (or a clock that went back): no sample; a clamp after a
		 * long gap is of a path we no longer know */
		w->win_open = false;
		if (w->engaged && (gap > PQ_RWIN_IDLE_RELEASE_US || ++w->stale >= PQ_RWIN_STALE))
			release(w, now_us, false);
	}
	if (!w->win_open) {
		/* This read's bytes arrived before the window: not in it. */
		w->win_open = true;
		w->win_start_us = now_us;
		w->win_bytes = 0;
	} else {
		w->win_bytes += n;
		if (now_us - w->win_start_us >= PQ_RWIN_WINDOW_US) {
			w->rate = w->win_bytes * 1000000u / (now_us - w->win_start_us);
			w->samples++;
			w->win_open = false;
			closed = true;
		}
	}
	w->last_read_us = now_us;
	return closed;
}

uint32_t pq_rwin_clamp(const struct pq_rwin *w)
{
	return w->engaged ? w->clamp : 0;
}

/* The thresholds of rwin.h for this window. */
struct marks {
	uint64_t base, floor, target, mark;
};

static struct marks marks_of(const struct pq_rwin_path *p, uint64_t path_rate)
{
	struct marks m;
	uint64_t q, floor_us;

	m.base = p->min_rtt_us < MAX_BASE_US ? p->min_rtt_us : MAX_BASE_US;
	m.floor = 3 * (uint64_t)p->mss > PQ_RWIN_MIN ? 3 * (uint64_t)p->mss : PQ_RWIN_MIN;
	m.target = m.base / 8 > PQ_RWIN_TARGET_US ? m.base / 8 : PQ_RWIN_TARGET_US;
	q = 2 * m.target > PQ_RWIN_QUEUE_US ? 2 * m.target : PQ_RWIN_QUEUE_US;
	floor_us = path_rate ? m.floor * 1000000u / path_rate : MAX_BASE_US;
	m.mark = q + (floor_us < MAX_BASE_US ? floor_us : MAX_BASE_US);
	return m;
}

static void release(struct pq_rwin *w, uint64_t now_us, bool gave_up)
{
	w->engaged = false;
	w->clamp = 0;
	w->queued = w->at_floor = w->calm = w->stale = 0;
	w->probe_from = 0;
	if (gave_up) {
		w->giveups++;
		w->hold_until_us = now_us + w->hold_us;
		w->hold_us = w->hold_us >= PQ_RWIN_HOLD_MAX_US / 2 ? PQ_RWIN_HOLD_MAX_US : 2 * w->hold_us;
	} else {
		w->hold_us = PQ_RWIN_HOLD_MIN_US;
	}
}

static enum pq_rwin_action released(struct pq_rwin *w, uint64_t now_us, bool gave_up)
{
	release(w, now_us, gave_up);
	return PQ_RWIN_RELEASE;
}

static enum pq_rwin_action set_clamp(struct pq_rwin *w, uint64_t want)
{
	uint32_t c = want > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)want;

	if (c == w->clamp)
		return PQ_RWIN_KEEP;
	w->clamp = c;
	return PQ_RWIN_SET;
}

/* What the rate needs in base + target, at least the floor. Only below
 * PQ_RWIN_FAST, the base capped: no overflow. */
static uint64_t needed(const struct pq_rwin *w, const struct marks *m)
{
	uint64_t want = w->rate * (m->base + m->target) / 1000000u;

	return want > m->floor ? want : m->floor;
}

/* Over the mark: shrink, or count toward giving up at the floor. */
static enum pq_rwin_action queued_next(struct pq_rwin *w, const struct marks *m, bool draining,
				       uint64_t now_us)
{
	uint64_t want = needed(w, m);

	w->calm = 0;
	w->probe_from = 0;
	if (want < w->clamp) {
		w->at_floor = 0;
		return set_clamp(w, want);
	}
	if (w->clamp > m->floor)
		return PQ_RWIN_KEEP;
	/* a queue still draining (the window the peer was given before
	 * the clamp, the srtt's lag) is not a queue the floor failed on;
	 * nor does it clear the count (a queue that swings each window) */
	if (!draining && ++w->at_floor >= PQ_RWIN_GIVEUP)
		return released(w, now_us, true);
	return w->clamp < m->floor ? set_clamp(w, m->floor) : PQ_RWIN_KEEP;
}

/* A probe two windows old: kept if the rate rose by half the quarter it
 * allowed (the path had room), else back (the extra bytes only queued).
 * The rate, not the RTT: an srtt's jitter is larger than the queue a
 * probe adds at the floor. */
static enum pq_rwin_action judge_probe(struct pq_rwin *w)
{
	uint32_t from = w->probe_from;

	w->probe_from = 0;
	if (w->rate < w->probe_rate + w->probe_rate / 8)
		return set_clamp(w, from);
	return PQ_RWIN_KEEP;
}

static enum pq_rwin_action engaged_next(struct pq_rwin *w, const struct pq_rwin_path *p,
					uint64_t excess, bool draining, uint64_t now_us)
{
	struct marks m;

	if (w->rate >= PQ_RWIN_FAST)
		return released(w, now_us, false);
	if (w->rate > w->path_rate)
		w->path_rate = w->rate;
	m = marks_of(p, w->path_rate);
	if (excess >= m.mark)
		return queued_next(w, &m, draining, now_us);
	w->at_floor = 0;
	if (w->clamp >= PQ_RWIN_SLACK * w->rate * (m.base + m.mark) / 1000000u)
		return released(w, now_us, false);
	if (w->probe_from)
		return --w->probe_wait ? PQ_RWIN_KEEP : judge_probe(w);
	if (excess >= m.target) {
		/* between target and mark: a probe now and then */
		if (++w->calm < PQ_RWIN_PROBE_EVERY)
			return PQ_RWIN_KEEP;
		w->probe_from = w->clamp;
		w->probe_rate = w->rate;
		w->probe_wait = 2;
	}
	w->calm = 0;
	return set_clamp(w, (uint64_t)w->clamp + w->clamp / 4);
}

/* Whether this window brought an RTT sample (something of ours was
 * acked in it) and the bulk flows toward us (we read more than was
 * acked of what we sent). */
static void window_view(struct pq_rwin *w, const struct pq_rwin_path *p, uint64_t now_us,
			bool *fresh, bool *receiving)
{
	uint64_t dt = now_us > w->acked_us ? now_us - w->acked_us : 0;
	uint64_t acked_rate = 0;

	*fresh = w->have_acked && p->acked > w->acked && p->srtt_us && p->min_rtt_us;
	if (w->have_acked && p->acked >= w->acked && dt)
		acked_rate = (p->acked - w->acked) * 1000000u / dt;
	*receiving = w->have_acked && w->rate > acked_rate;
	w->acked = p->acked;
	w->acked_us = now_us;
	w->have_acked = true;
	if (p->srtt_us)
		w->srtt_us = p->srtt_us;
}

enum pq_rwin_action pq_rwin_next(struct pq_rwin *w, const struct pq_rwin_path *p, uint64_t now_us)
{
	uint64_t excess, prev;
	bool fresh, receiving, draining;
	struct marks m;

	window_view(w, p, now_us, &fresh, &receiving);
	if (!fresh) {
		w->queued = 0;
		if (w->engaged && ++w->stale >= PQ_RWIN_STALE)
			return released(w, now_us, false);
		return PQ_RWIN_KEEP;
	}
	w->stale = 0;
	excess = p->srtt_us > p->min_rtt_us ? p->srtt_us - p->min_rtt_us : 0;
	prev = w->prev_excess;
	w->prev_excess = excess;
	draining = excess + excess / 16 < prev;
	if (w->engaged)
		return engaged_next(w, p, excess, draining, now_us);
	m = marks_of(p, w->rate);
	if (now_us < w->hold_until_us || w->rate >= PQ_RWIN_FAST || !receiving || excess < m.mark) {
		w->queued = 0;
		return PQ_RWIN_KEEP;
	}
	if (++w->queued < PQ_RWIN_ENGAGE_WINDOWS)
		return PQ_RWIN_KEEP;
	w->engaged = true;
	w->engages++;
	w->queued = w->at_floor = w->calm = 0;
	w->probe_from = 0;
	w->path_rate = w->rate;
	w->clamp = 0;
	return set_clamp(w, needed(w, &m));
}
