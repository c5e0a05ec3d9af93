/*
 * gso_seg.h - TCP segmentation in user space: what the kernel's TSO and
 * checksum offload would do with a frame our TAP hands over (net/tap.h,
 * IFF_VNET_HDR), so that a path with a small MTU (the UDP direct path,
 * issue 9) never carries a frame larger than max_frame bytes.
 *
 * One frame and its offload header (gso_hdr.h) in; complete frames out,
 * each at most max_frame bytes, Ethernet header included:
 *
 *   header                      frame               out
 *   TCPV4 / TCPV6 + NEEDS_CSUM  TCP super-frame     TCP segments (*)
 *   NONE + NEEDS_CSUM           fits max_frame      the frame, its checksum
 *                                                   completed (virtio 1.2
 *                                                   §5.1.6.2: the one's
 *                                                   complement sum from
 *                                                   csum_start to the end,
 *                                                   folded into the partial
 *                                                   sum already there)
 *   NONE + NEEDS_CSUM           TCP, too large      TCP segments (*)
 *   no offload (flags 0, NONE)  fits max_frame      the frame, untouched
 *   no offload                  TCP, too large      TCP segments (*)
 *   NONE, either flags          anything else, too  PQ_E_TOOBIG: the caller
 *                               large               sends it another way
 *
 * (*) Ethernet, at most one 802.1Q tag, IPv4 (options copied; not a
 * fragment) or IPv6 (fixed header; next header TCP, no extension header),
 * TCP (options copied; neither SYN nor RST). Each segment carries
 * min(gso_size, max_frame - headers) payload bytes (re-segmented frames
 * only the second), the last one the rest; per segment the IPv4 total
 * length, ID (+1 per segment, as Linux's TSO), header checksum or the IPv6
 * payload length, the TCP sequence number (+ payload bytes before it),
 * flags (FIN and PSH only on the last segment, CWR only on the first; RFC
 * 3168 §6.1.2), urgent pointer (kept pointing at the same sequence number;
 * URG cleared once a segment starts past it) and the TCP checksum, computed
 * in full (the partial sum the TAP leaves is not trusted). Trailing bytes
 * past the IP packet are refused (a frame that needs segmenting is never
 * padded).
 *
 * Strict: the header must pass pq_gso_hdr_check (and pq_gso_frame_check
 * for TCPV4/TCPV6), a TSO frame's headers must agree with it (TCP at
 * csum_start, checksum at offset 16, IP lengths exactly the frame's), and
 * every length is checked before a read. hdr_len is a hint the kernel
 * fills inconsistently (skb_headlen); it is bounded, not used.
 *
 * Ownership: the caller owns the iterator (no allocation, no clean-up) and
 * every buffer; the iterator borrows frame and hdr is read only during
 * pq_gso_seg_init, so frame must stay unchanged until the last
 * pq_gso_seg_next. A payload of at most 65 535 bytes and a segment
 * payload of at least 1 byte bound the work: at most 65 535 segments.
 */
#ifndef PQ_PROTO_GSO_SEG_H
#define PQ_PROTO_GSO_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/gso_hdr.h"
#include "util/err.h"

/* TCP flags (RFC 9293 §3.1, RFC 3168 §6.1). */
#define PQ_TCP_FIN 0x01
#define PQ_TCP_SYN 0x02
#define PQ_TCP_RST 0x04
#define PQ_TCP_PSH 0x08
#define PQ_TCP_ACK 0x10
#define PQ_TCP_URG 0x20
#define PQ_TCP_ECE 0x40
#define PQ_TCP_CWR 0x80

/* Iterator state; read it only through the functions below. */
struct pq_gso_seg {
	const uint8_t *frame;  /* borrowed */
	size_t len;            /* frame bytes */
	size_t l3, l4, hlen;   /* IP header, TCP header, payload offsets */
	size_t mss;            /* payload bytes per segment (TCP mode) */
	unsigned nseg, done;   /* segments in all, segments written */
	int mode;              /* seg_mode in gso_seg.c */
	int err;               /* 0, or the PQ_E_* of a failed init (sticks) */
	bool v6;
	uint8_t tcp_flags;     /* of the super-frame */
	uint16_t ip_id, urp;   /* of the super-frame */
	uint32_t seq;          /* of the super-frame */
	uint16_t csum_start, csum_offset; /* NEEDS_CSUM, one frame */
};

/* Check frame (len bytes) against hdr and plan its segments of at most
 * max_frame bytes each. 0, or
 *   PQ_E_INVAL   it, hdr or frame NULL;
 *   PQ_E_DECODE  malformed: the header fails its rules, a TSO frame's
 *                headers disagree with it or are truncated, a TCP frame
 *                to re-segment has inconsistent lengths;
 *   PQ_E_TOOBIG  max_frame cannot hold the headers and one payload byte,
 *                or the frame is larger than max_frame and not TCP that
 *                may be segmented.
 * A failure sticks: pq_gso_seg_next returns it. */
PQ_MUST_CHECK int pq_gso_seg_init(struct pq_gso_seg *it, const struct pq_gso_hdr *hdr,
				  const uint8_t *frame, size_t len, size_t max_frame);
/* How many segments pq_gso_seg_next produces in all (0 after a failed
 * init). Every segment but the last has the same length. */
unsigned pq_gso_seg_count(const struct pq_gso_seg *it);
/* Write the next segment into out (cap bytes): its length (<= max_frame),
 * 0 when every segment was written, or
 *   PQ_E_TOOBIG  cap too small for this segment (nothing written, the
 *                iterator does not move: retry with a larger buffer);
 *   PQ_E_INVAL   it or out NULL;
 *   the error of a failed pq_gso_seg_init. */
PQ_MUST_CHECK long pq_gso_seg_next(struct pq_gso_seg *it, uint8_t *out, size_t cap);

#endif
