/*
 * metrics.h - the node's Prometheus text endpoint (`metrics = HOST:PORT`
 * in [node]; Prometheus exposition format 0.0.4).
 *
 * A plain HTTP/1.1 listener on the daemon's loop, no TLS: bind it to a
 * loopback or management address. Each client sends one request and gets
 * one answer, then the connection closes (Connection: close). Bounds: a
 * request of at most PQ_METRICS_REQ_MAX bytes (more: 431), the whole
 * exchange within PQ_METRICS_DEADLINE_MS, at most PQ_METRICS_MAX_CLIENTS
 * at once (more are closed at accept). GET /metrics: 200; another path:
 * 404; another method: 405; a malformed request line: 400.
 *
 * Exposed: per peer (labels peer = name or key prefix, key = base64) the
 * counters of `pqlan status --json`, its path and state as 0/1 gauges; the
 * relay's connected gauge; histograms of handshake and re-handshake
 * durations, fed by pq_metrics_observe_*().
 */
#ifndef PQ_NODE_METRICS_H
#define PQ_NODE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct pq_node;
struct pq_metrics;

#define PQ_METRICS_REQ_MAX 1024
#define PQ_METRICS_DEADLINE_MS 2000u
#define PQ_METRICS_MAX_CLIENTS 8

/* Duration histogram, buckets 100 µs .. 1 s (and +Inf). */
#define PQ_HIST_BUCKETS 13
struct pq_hist {
	uint64_t bucket[PQ_HIST_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
	uint64_t count;
	uint64_t sum_us;
};

void pq_hist_observe(struct pq_hist *h, uint64_t us);
/* Upper bound of bucket i in µs (i < PQ_HIST_BUCKETS). */
uint64_t pq_hist_bound_us(unsigned i);

/* Start the listener when node->cfg.has_metrics (else nothing). */
PQ_MUST_CHECK int pq_metrics_open(struct pq_node *node, char *err, size_t err_len);
/* Close every client and the listener; free. Safe with none. */
void pq_metrics_close(struct pq_node *node);

/* Record one completed handshake / re-handshake of us µs. No-op when
 * metrics are not configured (node->metrics NULL). */
void pq_metrics_observe_handshake(struct pq_node *node, uint64_t us);
void pq_metrics_observe_rehandshake(struct pq_node *node, uint64_t us);

/* The exposition text into out (cap bytes): its length, or PQ_E_TOOBIG.
 * hs / rehs may be NULL (empty histograms). */
PQ_MUST_CHECK long pq_metrics_render(const struct pq_node *node, const struct pq_hist *hs,
				     const struct pq_hist *rehs, char *out, size_t cap, uint64_t now_ms);

#endif
