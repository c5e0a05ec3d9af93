/*
 * rwin.h - how much a TCP connection lets its peer have in flight toward
 * us: the receive buffer, sized from the rate we receive at, once the
 * path shows a standing queue (issue 13 item 4). Pure: bytes, times and
 * the kernel's RTT estimate in; a buffer size out; no sockets.
 *
 * Why: on a slow link the sender's TCP (BBR here) over-estimates the
 * rate when its ACKs come back in bursts (through a relay whose egress
 * carries the forwarded bulk) and keeps tens of KB in flight, in the
 * bottleneck's queue, where every small frame waits behind them: the
 * relay path's ping under load was 7-8x the bare link's. Our sender-side
 * watermark (proto/qsize.h) bounds only what is not yet sent. The
 * receive window bounds the flight: SO_RCVBUF of 8 KiB on every pqlan
 * socket brought that ping to 1.6-2.3x (bench/README.md), but a fixed
 * window caps a fast path, and once set the kernel never autotunes that
 * socket again (capped at net.core.rmem_max). So the window is taken
 * over only when it is needed, and sized from the path.
 *
 * When: the path's RTT stands PQ_RWIN_QUEUE_US above its base at the
 * close of PQ_RWIN_ENGAGE_WINDOWS windows running. TCP_INFO gives two
 * views: the smoothed RTT of what this socket sends (the inner flow's
 * ACKs go back on it, and they queue behind the bulk at the sender's
 * bottleneck) against its min_rtt, and the kernel's receiver estimate
 * (tcpi_rcv_rtt, from timestamps) against the lowest it has shown; the
 * larger excess counts. A queue in the network is what the window cures;
 * a sender with little to send builds none, and a reader that is slow to
 * read (a loaded machine) fills our socket, not the network, so neither
 * takes the window over.
 *
 * The rate: bytes read per window of at least PQ_RWIN_WINDOW_US while the
 * reads keep coming (a gap over PQ_RWIN_IDLE_US ends the window without a
 * sample: idle time is not a rate). The size uses the highest sample of
 * the last PQ_RWIN_HOLD_US, so a sender that pauses does not shrink the
 * window at once.
 *
 * Size once taken over: clamp(2 * rate * base + rate * PQ_RWIN_TARGET_US,
 * PQ_RWIN_MIN, PQ_RWIN_MAX), base min_rtt (else the lowest receiver
 * estimate seen). It grows
 * with the rate (a window-limited path delivers ~window / base, so each
 * sample at least doubles the next size until the queue is back).
 *
 * Ownership: the caller owns the struct; nothing is allocated.
 */
#ifndef PQ_PROTO_RWIN_H
#define PQ_PROTO_RWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PQ_RWIN_WINDOW_US 50000u      /* one rate sample spans at least this */
#define PQ_RWIN_IDLE_US 20000u        /* a gap between reads this long restarts the window */
#define PQ_RWIN_HOLD_US 2000000u      /* a sample's rate is used this long */
#define PQ_RWIN_QUEUE_US 4000u        /* RTT above the base that means a standing queue */
#define PQ_RWIN_ENGAGE_WINDOWS 2u
#define PQ_RWIN_TARGET_US 1000u
#define PQ_RWIN_MIN (4u * 1024)
#define PQ_RWIN_MAX (208u * 1024)     /* Debian 12's net.core.rmem_max is 212992 */

struct pq_rwin {
	uint64_t win_start_us, last_read_us, win_bytes;
	bool win_open;
	uint64_t rate, rate_us;   /* the held sample (bytes/s) and when it was taken */
	uint32_t base_rcv_us;     /* lowest tcpi_rcv_rtt seen; 0: none yet */
	unsigned queued;          /* windows running that closed with a queue */
	bool engaged;             /* the window is ours (SO_RCVBUF set) */
	size_t size;              /* the size last returned */
	uint64_t samples;
};

void pq_rwin_init(struct pq_rwin *w);
/* n bytes were read at now_us. True when a window closed: then call
 * pq_rwin_next with the kernel's current RTT estimate. */
bool pq_rwin_read(struct pq_rwin *w, size_t n, uint64_t now_us);
/* TCP_INFO's view of the path, µs; 0: unknown (a min_rtt of UINT32_MAX,
 * no sample yet, is passed as 0). */
struct pq_rwin_rtt {
	uint32_t srtt_us, min_rtt_us, rcv_rtt_us;
};
/* After a window closed. Returns the receive buffer to set now, or 0:
 * leave it as it is (not taken over, or within 1/8 of the size last
 * returned). */
size_t pq_rwin_next(struct pq_rwin *w, const struct pq_rwin_rtt *rtt);

#endif
