/*
 * rwin.c - the receive window from the received rate, once the path
 * queues; see rwin.h.
 */
#include "proto/rwin.h"

void pq_rwin_init(struct pq_rwin *w)
{
	*w = (struct pq_rwin){ 0 };
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
			uint64_t s = w->win_bytes * 1000000u / (now_us - w->win_start_us);

			if (s >= w->rate || now_us - w->rate_us > PQ_RWIN_HOLD_US) {
				w->rate = s;
				w->rate_us = now_us;
			}
			w->samples++;
			w->win_open = false;
			closed = true;
		}
	}
	w->last_read_us = now_us;
	return closed;
}

static uint32_t base_rtt(const struct pq_rwin *w, const struct pq_rwin_rtt *rtt)
{
	return rtt->min_rtt_us ? rtt->min_rtt_us : w->base_rcv_us;
}

static size_t size_for(const struct pq_rwin *w, uint32_t base_us)
{
	uint64_t want = 2 * w->rate * base_us / 1000000u + w->rate * PQ_RWIN_TARGET_US / 1000000u;

	return want < PQ_RWIN_MIN ? PQ_RWIN_MIN : want > PQ_RWIN_MAX ? PQ_RWIN_MAX : (size_t)want;
}

/* How far the path's RTT stands above its base, by either view. */
static uint32_t queue_us(const struct pq_rwin *w, const struct pq_rwin_rtt *rtt)
{
	uint32_t q = 0;

	if (rtt->srtt_us && rtt->min_rtt_us && rtt->srtt_us > rtt->min_rtt_us)
		q = rtt->srtt_us - rtt->min_rtt_us;
	if (rtt->rcv_rtt_us && w->base_rcv_us && rtt->rcv_rtt_us - w->base_rcv_us > q)
		q = rtt->rcv_rtt_us - w->base_rcv_us;
	return q;
}

size_t pq_rwin_next(struct pq_rwin *w, const struct pq_rwin_rtt *rtt)
{
	size_t want;

	if (rtt->rcv_rtt_us && (!w->base_rcv_us || rtt->rcv_rtt_us < w->base_rcv_us))
		w->base_rcv_us = rtt->rcv_rtt_us;
	if (!w->engaged) {
		w->queued = queue_us(w, rtt) >= PQ_RWIN_QUEUE_US ? w->queued + 1 : 0;
		if (w->queued < PQ_RWIN_ENGAGE_WINDOWS)
			return 0;
		w->engaged = true;
	}
	want = size_for(w, base_rtt(w, rtt));
	if (w->size && want <= w->size + w->size / 8 && want >= w->size - w->size / 8)
		return 0;
	w->size = want;
	return want;
}
