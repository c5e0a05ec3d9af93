/*
 * qsize.c - socket and TLS write sizes from the measured drain rate; see qsize.h.
 */
#include "proto/qsize.h"

void pq_qsize_init(struct pq_qsize *q)
{
	*q = (struct pq_qsize){ 0 };
}

/* A window of `bytes` in elapsed_us closed: fold its sample into the
 * estimate. */
static void take_sample(struct pq_qsize *q, uint64_t bytes, uint64_t elapsed_us, bool dry)
{
	uint64_t s = bytes * 1000000u / elapsed_us;

	if (!dry)
		q->rate = q->samples ? (q->rate + s) / 2 : s; /* the first replaces the prior */
	else if (s > pq_qsize_rate(q))
		q->rate = s; /* the sender, not the path, was the limit: a lower bound */
	else
		return;      /* a lower bound under what we have: nothing learnt */
	q->samples++;
	q->k_have = false; /* the next look starts a window after this one */
}

void pq_qsize_written(struct pq_qsize *q, size_t taken, size_t left, uint64_t now_us)
{
	if (q->win_open) {
		q->win_bytes += taken;
		if (now_us < q->win_start_us) {
			q->win_open = false; /* a clock that went back: start over */
		} else if (!left) {
			/* ran dry: the window ends here, not at the next write
			 * (which may come seconds later); too short says nothing */
			if (now_us - q->win_start_us >= PQ_QSIZE_DRY_MIN_US)
				take_sample(q, q->win_bytes, now_us - q->win_start_us, true);
			q->win_open = false;
		} else if (now_us - q->win_start_us >= PQ_QSIZE_WINDOW_US) {
			take_sample(q, q->win_bytes, now_us - q->win_start_us, false);
			q->win_open = false;
		}
	}
	if (!q->win_open && left) {
		q->win_open = true;
		q->win_start_us = now_us;
		q->win_bytes = 0;
	}
}

bool pq_qsize_kernel_due(const struct pq_qsize *q, uint64_t now_us)
{
	return pq_qsize_lowat(q) == 0 &&
	       (!q->k_have || now_us < q->k_us || now_us - q->k_us >= PQ_QSIZE_WINDOW_US);
}

/* Was the span since the last look one backlogged window (qsize.h)? */
static bool kernel_window(const struct pq_qsize *q, const struct pq_qsize_view *v, uint64_t now_us)
{
	uint64_t span = now_us - q->k_us;

	if (!q->k_have || !q->k_backlogged || v->notsent < PQ_QSIZE_BACKLOG || now_us < q->k_us ||
	    v->acked < q->k_acked || v->busy_us < q->k_busy_us)
		return false;
	/* over 4 windows the backlog may have run out and come back */
	if (span < PQ_QSIZE_WINDOW_US || span > 4u * PQ_QSIZE_WINDOW_US)
		return false;
	return v->busy_us - q->k_busy_us >= span - span / 8 && v->acked - q->k_acked >= PQ_QSIZE_BACKLOG;
}

void pq_qsize_kernel(struct pq_qsize *q, const struct pq_qsize_view *v, uint64_t now_us)
{
	if (kernel_window(q, v, now_us)) {
		q->win_open = false; /* the same drain as our open window: once */
		take_sample(q, v->acked - q->k_acked, now_us - q->k_us, false);
	}
	q->k_have = true;
	q->k_backlogged = v->notsent >= PQ_QSIZE_BACKLOG;
	q->k_acked = v->acked;
	q->k_busy_us = v->busy_us;
	q->k_us = now_us;
}

uint64_t pq_qsize_rate(const struct pq_qsize *q)
{
	return q->samples ? q->rate : PQ_QSIZE_PRIOR_RATE;
}

static size_t clamp_of(uint64_t rate, uint32_t us, size_t lo, size_t hi)
{
	uint64_t v = rate / 1000u * us / 1000u; /* rate * us / 1e6 without overflow */

	if (v < lo)
		return lo;
	return v > hi ? hi : (size_t)v;
}

size_t pq_qsize_lowat(const struct pq_qsize *q)
{
	if (pq_qsize_rate(q) >= PQ_QSIZE_FAST_RATE)
		return 0;
	return clamp_of(pq_qsize_rate(q), PQ_QSIZE_LOWAT_US, PQ_QSIZE_LOWAT_MIN, PQ_QSIZE_LOWAT_MAX);
}

size_t pq_qsize_record(const struct pq_qsize *q)
{
	return clamp_of(pq_qsize_rate(q), PQ_QSIZE_RECORD_US, PQ_QSIZE_RECORD_MIN, PQ_QSIZE_RECORD_MAX);
}
