/*
 * pmtu.h - how large a datagram the UDP direct path carries (sans-I/O).
 *
 * Our datagrams leave with "don't fragment" set and the kernel's own path
 * MTU cache off (net/udp.h), so one too large for some link on the way is
 * dropped there, silently when ICMP is filtered: a black hole for every
 * full-sized TCP segment. So we find the size by asking, as tinc does
 * (and RFC 8899's packetization-layer PMTUD): sealed PMTU_PROBEs padded to
 * a size, answered with a PMTU_ACK that names the size that arrived. The
 * largest answered size is the path's; until one is answered we send no
 * datagram above PQ_PMTU_MIN.
 *
 *   search   sizes on a ladder above the current one, up to the ceiling
 *            (udp_mtu), PQ_PMTU_ROUNDS rounds PQ_PMTU_ROUND_MS apart
 *   steady   every PQ_PMTU_RECHECK_MS the current size again (and the
 *            sizes above it, should the path have grown); unanswered
 *            PQ_PMTU_MISSES times in a row, PQ_PMTU_ROUND_MS apart, the
 *            route changed: back to PQ_PMTU_MIN and search again. Only
 *            while frames go that way: an idle path costs no probes
 *            (the next re-check waits for traffic)
 *
 * Sizes are IP packet sizes (IP and UDP headers included), as "MTU" means
 * on a link; the caller converts to datagram payload (udp_path.c). The
 * state is plain data: the caller owns it, nothing to free.
 */
#ifndef PQ_PROTO_PMTU_H
#define PQ_PROTO_PMTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IPv6's minimum link MTU (RFC 8200 §5); IPv4 paths carry it in practice. */
#define PQ_PMTU_MIN 1280
/* A jumbo-frame link; the largest ceiling udp_mtu may set. */
#define PQ_PMTU_MAX 9000
#define PQ_PMTU_DEFAULT 1500
#define PQ_PMTU_ROUND_MS 1000
#define PQ_PMTU_ROUNDS 3
#define PQ_PMTU_RECHECK_MS 15000
#define PQ_PMTU_MISSES 3
/* The most sizes one round probes (the ceiling and the ladder below it). */
#define PQ_PMTU_PROBES_MAX 16

struct pq_pmtu {
	uint16_t ceiling;  /* never probed above */
	uint16_t current;  /* the size in use: the largest answered, or PQ_PMTU_MIN */
	bool confirmed;    /* current was answered since it was set */
	bool check_out;    /* a re-check of current is out, unanswered */
	uint8_t rounds;    /* search rounds sent since current was last set */
	uint8_t misses;    /* re-checks of current unanswered in a row */
	uint64_t next_ms;  /* when pq_pmtu_poll has probes to send */
};

/* Start a search now; ceiling is clamped to [PQ_PMTU_MIN, PQ_PMTU_MAX]. */
void pq_pmtu_init(struct pq_pmtu *m, unsigned ceiling, uint64_t now_ms);
/* The sizes to probe now, largest first, into sizes[cap] (cap >=
 * PQ_PMTU_PROBES_MAX takes them all); 0 before the deadline. Moves the
 * deadline on. busy: frames went this way since the last poll (a steady
 * re-check is skipped without). */
size_t pq_pmtu_poll(struct pq_pmtu *m, uint64_t now_ms, bool busy, uint16_t *sizes, size_t cap);
/* A PMTU_ACK for size arrived. true when the size in use changed. Sizes
 * we never probe (above the ceiling, below the minimum) are ignored, and a
 * late answer below the current size changes nothing. */
bool pq_pmtu_acked(struct pq_pmtu *m, unsigned size);
/* When pq_pmtu_poll next has work. */
uint64_t pq_pmtu_deadline(const struct pq_pmtu *m);

#endif
