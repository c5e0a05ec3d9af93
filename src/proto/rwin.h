/*
 * rwin.h - how much a TCP connection lets its peer have in flight toward
 * us: a clamp on the receive window while the path shows a standing queue
 * that the clamp cures (issue 13 item 4). Pure: bytes, times and the
 * kernel's view of the path in; a window clamp out; no sockets.
 *
 * Why: on a slow link the sender's TCP (BBR here) over-estimates the
 * rate when its ACKs come back in bursts (through a relay whose egress
 * carries the forwarded bulk) and keeps tens of KB in flight, in the
 * bottleneck's queue, where every small frame waits behind them: the
 * relay path's ping under load was 6-8x the bare link's. Our sender-side
 * watermark (proto/qsize.h) bounds only what is not yet sent; the
 * receive window bounds the flight. The clamp is TCP_WINDOW_CLAMP, not
 * SO_RCVBUF: a receive buffer once set stops the kernel's autotuning
 * for good (and is capped at net.core.rmem_max), a clamp can be lifted.
 *
 * The signal: the smoothed RTT of what this socket sends against its
 * min_rtt (TCP_INFO). The inner flow's ACKs go back on the same conn and
 * wait behind the bulk at the sender's bottleneck, so the excess is the
 * queue the bulk built. A window in which nothing of ours was acked
 * brought no RTT sample: it tells nothing.
 *
 * The rate: bytes read per window of at least PQ_RWIN_WINDOW_US while the
 * reads keep coming (a gap over max(PQ_RWIN_IDLE_US, 2 x srtt), at most
 * 1 s, ends the window without a sample: idle time is not a rate, but a
 * clamped long path delivers in bursts an RTT apart).
 *
 * floor: the smallest clamp, max(PQ_RWIN_MIN, 3 segments): a window
 * under one segment stalls the sender until its probe timer (loopback's
 * and jumbo frames' segments are tens of KiB). target: the queue aimed
 * at, max(PQ_RWIN_TARGET_US, base / 8) (a long path's RTT jitters more).
 * mark: max(PQ_RWIN_QUEUE_US, 2 x target) plus the queue the floor alone
 * builds at the path's rate (the rate before the clamp, or the highest
 * since: a clamped rate says nothing of the path).
 *
 * Engage: PQ_RWIN_ENGAGE_WINDOWS windows running with an excess over the
 * mark, while this side receives more than it sends (the bulk flows
 * toward us: a sender's own egress queue is not the peer's window's
 * doing), at a rate under PQ_RWIN_FAST (a fast path is left to the
 * kernel), and not within the hold time of the last give-up.
 * Engaged, at each window's close:
 *  - excess over the mark: the clamp shrinks to what the rate needs in
 *    base + target (never grows). At the floor, still over the mark and
 *    not draining (the excess fell by less than a sixteenth) for
 *    PQ_RWIN_GIVEUP windows (draining ones do not count, nor reset the
 *    count; a window under the mark does): the queue is not ours (cross traffic, a
 *    slow reader, a queue on the way back), so the clamp is released and
 *    not taken again for the hold time (PQ_RWIN_HOLD_MIN_US, doubled at
 *    each give-up up to PQ_RWIN_HOLD_MAX_US): a wrong guess costs little.
 *  - excess under target: the clamp grows by a quarter. The rate is
 *    measured through our own clamp, so a faster path is only found by
 *    probing upward.
 *  - between the two for PQ_RWIN_PROBE_EVERY windows: one probe, a
 *    quarter more; unless two windows later the rate rose by an eighth
 *    (the path had room), the extra bytes only queued: back to the clamp
 *    before. Judged by the rate, not the RTT: the srtt jitters by more
 *    than what a probe at the floor queues.
 *  - released (and the hold reset) once the clamp is PQ_RWIN_SLACK times
 *    what the rate needs in base + mark (the sender has less to send
 *    than the clamp allows), or the rate is fast.
 *  - PQ_RWIN_STALE windows running without an RTT sample (or ended by
 *    a gap), or one gap over PQ_RWIN_IDLE_RELEASE_US: released (the
 *    caller sees pq_rwin_clamp() turn 0 after pq_rwin_read).
 *
 * Ownership: the caller owns the struct; nothing is allocated.
 */
#ifndef PQ_PROTO_RWIN_H
#define PQ_PROTO_RWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PQ_RWIN_WINDOW_US 50000u   /* one rate sample spans at least this */
#define PQ_RWIN_IDLE_US 20000u     /* a gap between reads this long (or 2 srtt) restarts it */
#define PQ_RWIN_QUEUE_US 4000u     /* the excess RTT that means a queue (plus the floor's) */
#define PQ_RWIN_TARGET_US 1000u    /* the queue aimed at (or base / 8) */
#define PQ_RWIN_ENGAGE_WINDOWS 2u
#define PQ_RWIN_GIVEUP 4u
#define PQ_RWIN_PROBE_EVERY 10u
#define PQ_RWIN_STALE 10u
#define PQ_RWIN_SLACK 4u
#define PQ_RWIN_FAST 50000000u     /* bytes/s: 400 Mbit/s and up is left alone */
#define PQ_RWIN_MIN 4096u
#define PQ_RWIN_IDLE_RELEASE_US 1000000u /* engaged, a gap this long lets the clamp go */
#define PQ_RWIN_HOLD_MIN_US 1000000u
#define PQ_RWIN_HOLD_MAX_US 64000000u

/* What pq_rwin_next asks of the caller. */
enum pq_rwin_action {
	PQ_RWIN_KEEP = 0,  /* nothing new */
	PQ_RWIN_SET,       /* clamp the window to pq_rwin_clamp() */
	PQ_RWIN_RELEASE,   /* lift the clamp: the kernel's window again */
};

/* TCP_INFO's view of the path. srtt and min_rtt in µs, 0: unknown;
 * acked: bytes of ours the peer acknowledged, ever (tcpi_bytes_acked);
 * mss: the segment size received, 0: unknown. All zero: no view (the
 * window counts as one without an RTT sample). */
struct pq_rwin_path {
	uint32_t srtt_us, min_rtt_us, mss;
	uint64_t acked;
};

struct pq_rwin {
	uint64_t win_start_us, last_read_us, win_bytes;
	bool win_open;
	uint64_t rate;            /* bytes/s read in the last window */
	uint64_t acked, acked_us; /* path.acked at the last window's close, and when */
	bool have_acked;
	uint32_t srtt_us;         /* the last srtt seen (the idle gap) */
	unsigned queued;          /* windows running over the mark (engaging) */
	unsigned at_floor;        /* engaged: windows running over the mark at the floor */
	unsigned calm;            /* engaged: windows running between target and mark */
	unsigned stale;           /* engaged: windows running without an RTT sample */
	bool engaged;
	uint32_t clamp;           /* engaged: the clamp to keep applied */
	uint64_t path_rate;       /* engaged: the rate before the clamp, or the highest since */
	uint32_t probe_from;      /* a probe's clamp before it; 0: no probe running */
	uint64_t probe_rate;      /* the rate when it began */
	uint64_t prev_excess;     /* the last window's excess RTT, µs */
	unsigned probe_wait;      /* windows until it is judged */
	uint64_t hold_until_us;   /* not engaged again before this */
	uint32_t hold_us;         /* the next give-up's hold */
	uint64_t samples, engages, giveups;
};

void pq_rwin_init(struct pq_rwin *w);
/* n bytes were read at now_us. True when a window closed: then call
 * pq_rwin_next with the kernel's view of the path. A long gap may release
 * the clamp here (pq_rwin_clamp() turns 0): lift it. */
bool pq_rwin_read(struct pq_rwin *w, size_t n, uint64_t now_us);
/* After a window closed (its rate in w->rate). */
enum pq_rwin_action pq_rwin_next(struct pq_rwin *w, const struct pq_rwin_path *p, uint64_t now_us);
/* The clamp while engaged, else 0. The kernel raises a clamp as its
 * autotuning grows the buffer, so the caller applies it again after
 * every read while this is non-zero. */
uint32_t pq_rwin_clamp(const struct pq_rwin *w);

#endif
