/*
 * qsize.h - how much a connection's sender lets the kernel and OpenSSL
 * hold, sized from the rate the path drains at (issue 13 item 4). Pure:
 * bytes and time in, sizes out; no sockets, no clock.
 *
 * Why: a TCP tunnel carries TCP. Whatever waits in the socket's unsent
 * buffer sits in front of every frame queued after it, a ping or an inner
 * TCP ACK as much as the bulk flow. With the socket holding only about
 * PQ_QSIZE_LOWAT_US of the path's rate (TCP_NOTSENT_LOWAT), what waits
 * stays in the conn's own queue, where small messages can go first
 * (net/conn.h "Latency"). A fixed small watermark would starve a fast
 * path between two wake-ups; a fixed large one is 50 ms on a 20 Mbit/s
 * link. So the conn measures the rate.
 *
 * The rate: the bytes the socket took per second while the queue stayed
 * backlogged (the socket refused more: with TCP_NOTSENT_LOWAT it takes
 * bytes exactly as fast as TCP sends them). A window opens at a write
 * that left bytes queued and closes at the first write PQ_QSIZE_WINDOW_US
 * later: that sample replaces half the estimate (the first replaces the
 * prior). A window in which the queue runs dry closes at that write; its
 * sample is only a lower bound (the sender was the limit, not the path),
 * so it can only raise the rate in use, prior included, as BBR's
 * application-limited samples do, and one shorter than
 * PQ_QSIZE_DRY_MIN_US is not taken at all. Before the first sample
 * the rate is PQ_QSIZE_PRIOR_RATE. (TCP_INFO's delivery_rate and
 * cwnd * mss / srtt read 5-50x the real rate on a 20 Mbit/s tbf link
 * with BBR: the measured drain is what the queue actually sees.)
 *
 * The kernel's backlog: without a watermark the socket refuses only once
 * its send buffer is full (hundreds of KB), which an inner TCP flow whose
 * own window is a few tens of KB never fills. Its backlog then waits
 * unsent in the kernel, where no small message can pass it, and no
 * window ever opened (bench_latency, TLS direct on a 20 Mbit/s link:
 * 10-30 KB unsent, no watermark, ping 2.1-2.2x the bare link's). So
 * while there is no watermark the caller also reads the kernel's view
 * at most once per PQ_QSIZE_WINDOW_US, when it writes (pq_qsize_kernel_due,
 * pq_qsize_kernel). Two looks PQ_QSIZE_WINDOW_US to 4 x that apart make a
 * backlogged window when both found at least PQ_QSIZE_BACKLOG bytes
 * unsent, the socket had data to send or in flight for 7/8 of the span
 * (TCP_INFO's busy time: bursts that fill the socket just before each
 * look but leave the link idle between them are not a slow path) and the
 * peer acknowledged at least PQ_QSIZE_BACKLOG bytes (a peer that stalled
 * is not a rate); the bytes acknowledged between them (what the path
 * delivered, not an estimate) are its sample. A window of our own taken
 * meanwhile restarts the looks, so no drain counts twice.
 *
 * Sizes from rate r (bytes per second):
 *   lowat   clamp(r * PQ_QSIZE_LOWAT_US, PQ_QSIZE_LOWAT_MIN, PQ_QSIZE_LOWAT_MAX),
 *           or 0 (none: the kernel's default) from PQ_QSIZE_FAST_RATE up.
 *           A fast path needs no watermark (a ping waits behind 2 ms of
 *           bulk at most... but at a watermark of 2 ms the sender must be
 *           woken every 2 ms, and on a loaded 2-core machine it often is
 *           not: the measured drain then falls to what the wake-ups allow
 *           and the watermark with it - the one-stream TLS figure halved
 *           in bench_udp). So the prior is fast, and a path gets a
 *           watermark once it measures slow.
 *   record  clamp(r * PQ_QSIZE_RECORD_US, PQ_QSIZE_RECORD_MIN, PQ_QSIZE_RECORD_MAX):
 *           plaintext handed to TLS per write, so a slow link does not
 *           hold a whole 16 KiB record in OpenSSL's buffer once the socket
 *           is full.
 *
 * Ownership: the caller owns the struct; nothing is allocated.
 */
#ifndef PQ_PROTO_QSIZE_H
#define PQ_PROTO_QSIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PQ_QSIZE_WINDOW_US 50000u       /* one rate sample spans at least this */
#define PQ_QSIZE_DRY_MIN_US 5000u       /* ... or this, when the queue ran dry */
#define PQ_QSIZE_PRIOR_RATE 125000000u  /* bytes/s before a sample: 1 Gbit/s (fast) */
#define PQ_QSIZE_FAST_RATE 50000000u    /* 400 Mbit/s and up: no lowat at all */
#define PQ_QSIZE_LOWAT_US 2000u
#define PQ_QSIZE_LOWAT_MIN (4u * 1024)
#define PQ_QSIZE_LOWAT_MAX (1024u * 1024)
#define PQ_QSIZE_RECORD_US 1000u
#define PQ_QSIZE_RECORD_MIN 2048u
#define PQ_QSIZE_RECORD_MAX 16384u      /* a full TLS record (RFC 8446 §5.1) */
#define PQ_QSIZE_BACKLOG (8u * 1024)    /* unsent in the kernel at both looks: backlogged */

struct pq_qsize {
	uint64_t rate;          /* bytes per second, once samples > 0 */
	uint64_t win_start_us;  /* the open window's start; meaningful if win_open */
	uint64_t win_bytes;     /* taken by the socket since then */
	bool win_open;
	uint64_t samples;       /* windows closed (for tests and status) */
	uint64_t k_acked;       /* the kernel's view at the last look: bytes acked, */
	uint64_t k_busy_us;     /* ... busy time, */
	uint64_t k_us;          /* ... when, */
	bool k_backlogged;      /* ... and whether PQ_QSIZE_BACKLOG were unsent */
	bool k_have;            /* there was a look */
};

void pq_qsize_init(struct pq_qsize *q);
/* A write attempt ended at now_us: the socket took `taken` bytes and
 * `left` bytes are still queued (left > 0: the socket refused more). */
void pq_qsize_written(struct pq_qsize *q, size_t taken, size_t left, uint64_t now_us);
/* Whether to read the kernel's view now: while there is no watermark,
 * at most once per PQ_QSIZE_WINDOW_US. */
bool pq_qsize_kernel_due(const struct pq_qsize *q, uint64_t now_us);
/* The kernel's view (TCP_INFO): bytes of ours the peer acknowledged,
 * ever; µs the socket had data to send or in flight, ever; bytes it
 * holds not yet sent. */
struct pq_qsize_view {
	uint64_t acked, busy_us, notsent;
};
void pq_qsize_kernel(struct pq_qsize *q, const struct pq_qsize_view *v, uint64_t now_us);
/* The rate in use: the estimate, or PQ_QSIZE_PRIOR_RATE before one. */
uint64_t pq_qsize_rate(const struct pq_qsize *q);
/* 0: no watermark (see above). */
size_t pq_qsize_lowat(const struct pq_qsize *q);
size_t pq_qsize_record(const struct pq_qsize *q);

#endif
