/*
 * rwin.c - a clamp on the receive window while the path queues and the
 * clamp cures it; see rwin.h.
 */
#include "proto/rwin.h"

void pq_rwin_init(struct pq_rwin *w)
{
	*w = (struct pq_rwin){ .hold_us = PQ_RWIN_HOLD_MIN_US };
}

bool pq_rwin_read(struct pq_rwin *w, size_t n, uint64_t now_us)
{
	bool closed = false;

	if (w->win_open && (now_us < w->last_read_us || now_us - w->last_read_us > PQ_RWIN_IDLE_US))
		w->win_open = false; /* idle (or a clock that went back): no sample */
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

static uint64_t floor_of(const struct pq_rwin_path *p)
{
	uint64_t f = 3 * (uint64_t)p->mss;

	return f > PQ_RWIN_MIN ? f : PQ_RWIN_MIN;
}

/* The queue mark: PQ_RWIN_QUEUE_US above what the floor alone queues at
 * this rate (a slow path's floor is a queue we cannot clamp away). */
static uint64_t mark_us(const struct pq_rwin *w, uint64_t floor)
{
	uint64_t floor_us = w->rate ? floor * 1000000u / w->rate : UINT32_MAX;

	return PQ_RWIN_QUEUE_US + floor_us;
}

static enum pq_rwin_action release(struct pq_rwin *w, uint64_t now_us, bool gave_up)
{
	w->engaged = false;
	w->clamp = 0;
	w->queued = w->at_floor = w->stale = 0;
	if (gave_up) {
		w->giveups++;
		w->hold_until_us = now_us + w->hold_us;
		w->hold_us = w->hold_us >= PQ_RWIN_HOLD_MAX_US / 2 ? PQ_RWIN_HOLD_MAX_US : 2 * w->hold_us;
	} else {
		w->hold_us = PQ_RWIN_HOLD_MIN_US;
	}
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

/* What the path delivers in base + TARGET, at least the floor. Only
 * called below PQ_RWIN_FAST; the base is capped at 10 s: no overflow. */
static uint64_t shrunk(const struct pq_rwin *w, const struct pq_rwin_path *p, uint64_t floor)
{
	uint64_t base = p->min_rtt_us < 10000000u ? p->min_rtt_us : 10000000u;
	uint64_t want = w->rate * (base + PQ_RWIN_TARGET_US) / 1000000u;

	return want > floor ? want : floor;
}

static enum pq_rwin_action engaged_next(struct pq_rwin *w, const struct pq_rwin_path *p,
					uint64_t excess, uint64_t now_us)
{
	uint64_t floor = floor_of(p), want;

	if (w->rate >= PQ_RWIN_FAST)
		return release(w, now_us, false);
	if (excess >= mark_us(w, floor)) {
		want = shrunk(w, p, floor);
		if (want >= w->clamp) {
			/* as low as the floor lets it go, and still queued */
			if (w->clamp <= floor && ++w->at_floor >= PQ_RWIN_GIVEUP)
				return release(w, now_us, true);
			return w->clamp < floor ? set_clamp(w, floor) : PQ_RWIN_KEEP;
		}
		w->at_floor = 0;
		return set_clamp(w, want);
	}
	w->at_floor = 0;
	if (excess >= PQ_RWIN_TARGET_US)
		return PQ_RWIN_KEEP;
	if (w->clamp >= PQ_RWIN_SLACK * w->rate * ((uint64_t)p->min_rtt_us + PQ_RWIN_QUEUE_US) / 1000000u)
		return release(w, now_us, false);
	return set_clamp(w, (uint64_t)w->clamp + w->clamp / 4);
}

enum pq_rwin_action pq_rwin_next(struct pq_rwin *w, const struct pq_rwin_path *p, uint64_t now_us)
{
	uint64_t excess, floor = floor_of(p);

	if (!p->srtt_us || !p->min_rtt_us || p->sent_ago_ms > PQ_RWIN_WINDOW_US / 1000u) {
		/* no fresh RTT: this window tells nothing */
		w->queued = 0;
		if (w->engaged && ++w->stale >= PQ_RWIN_STALE)
			return release(w, now_us, false);
		return PQ_RWIN_KEEP;
	}
	w->stale = 0;
	excess = p->srtt_us > p->min_rtt_us ? p->srtt_us - p->min_rtt_us : 0;
	if (w->engaged)
		return engaged_next(w, p, excess, now_us);
	if (now_us < w->hold_until_us || w->rate >= PQ_RWIN_FAST || excess < mark_us(w, floor)) {
		w->queued = 0;
		return PQ_RWIN_KEEP;
	}
	if (++w->queued < PQ_RWIN_ENGAGE_WINDOWS)
		return PQ_RWIN_KEEP;
	w->engaged = true;
	w->engages++;
	w->queued = w->at_floor = 0;
	w->clamp = 0;
	return set_clamp(w, shrunk(w, p, floor));
}
