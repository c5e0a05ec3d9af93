/*
 * gso_coalesce.h - the inverse of gso_seg.h, for the UDP path's receive
 * side (issue 13): a batch of received Ethernet frames in, the same frames
 * out with consecutive in-order TCP segments of one flow merged into
 * super-frames that the TAP takes in one write with a virtio offload
 * header (net/tap.h, IFF_VNET_HDR), as the kernel's GRO would build them.
 *
 *   frames in (borrowed)   A1 A2 x A3 B1 A4 B2 | A5 (gap: A4+1 missing)
 *   out, in order          [A1 A2 A3 A4] x [B1 B2] [A5]
 *
 * Segment s joins the open super-frame S of its flow when
 *   - both are TCP over IPv4 / IPv6 as gso_parse_tcp reads them, their
 *     IPv4 header and TCP checksums verify (a bad one is never laundered
 *     into a super-frame whose checksum the kernel then computes afresh);
 *   - the Ethernet header (and tag), IP header (but for length, ID and
 *     checksum) and TCP header (but for sequence number, flags and
 *     checksum; options included) equal S's first segment's;
 *   - s starts where S ends (sequence number), its IPv4 ID is the last
 *     one's + 1 (what TSO and gso_seg produce);
 *   - flags: S's first may carry CWR, s may not; s may add PSH or FIN and
 *     then ends S; beyond those the flags are equal; no SYN, RST or URG;
 *   - s's payload is at most S's segment size (the first segment's), a
 *     shorter one ends S; S stays within max_len bytes and 65 535 bytes of
 *     IP packet.
 * Anything else is left as it came (hdr all zero): frames that are not
 * TCP, TCP without payload, a first segment shorter than PQ_GSO_MIN_SIZE
 * or carrying PSH/FIN. A TCP frame of S's flow that does not join ends S,
 * so no segment ever moves across a gap, a reordering or another frame of
 * its flow; frames of different flows may change order (as with GRO).
 *
 * A super-frame's header: NEEDS_CSUM, TCPV4 or TCPV6, gso_size = the first
 * segment's payload, hdr_len = its headers, csum_start = the TCP header,
 * csum_offset 16; in the frame the IPv4 total length and header checksum
 * or the IPv6 payload length of the whole, the ID and sequence number of
 * the first segment, its flags plus the last one's PSH/FIN, and in the TCP
 * checksum field the folded pseudo-header sum (not complemented) for the
 * whole TCP length: the kernel's CHECKSUM_PARTIAL, completed by whoever
 * finally sends or checks it. It passes pq_gso_hdr_check and
 * pq_gso_frame_check, and pq_gso_seg (or the kernel's GSO) cuts it back
 * into the very segments it was built from.
 *
 * Ownership and bounds: the caller owns the struct, the arena and the out
 * array. Super-frames are carved from the arena one after another: each
 * reserves max_len bytes (or what is left) when its second segment comes
 * and gives back what it did not use when it ends, if nothing was
 * reserved after it (so one flow at a time packs the arena); when the
 * arena is full, segments go out as they came until the next batch. Frames added are borrowed and must stay valid and unchanged
 * until the out entries were written; out entries point at them or into
 * the arena and are valid until pq_gso_coalesce_reset. At most
 * PQ_GSO_CO_FLOWS super-frames are open at once (the least recently
 * extended one is closed to make room). No allocation; each frame costs
 * one checksum pass and, once it joins, one copy. Sans-I/O.
 */
#ifndef PQ_PROTO_GSO_COALESCE_H
#define PQ_PROTO_GSO_COALESCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/gso_hdr.h"
#include "util/err.h"

#define PQ_GSO_CO_FLOWS 8

/* One frame to write to the TAP, in order. */
struct pq_gso_out {
	struct pq_gso_hdr hdr; /* all zero: the frame as it came */
	const uint8_t *frame;  /* a frame added, or a super-frame in the arena */
	size_t len;
};

/* An open super-frame (private to gso_coalesce.c). */
struct pq_gso_co_flow {
	const uint8_t *first;  /* its first segment (borrowed) */
	uint8_t *buf;          /* in the arena once a second segment joined */
	size_t len, cap;       /* bytes so far, bytes reserved at buf */
	size_t l3, l4, hlen;
	size_t gso_size;
	size_t out;            /* its index in out[] */
	uint32_t next_seq;
	uint16_t next_id;
	uint8_t flags;         /* first's flags, plus PSH/FIN of the last */
	bool v6;
	uint64_t used;         /* when it last grew, for eviction */
};

struct pq_gso_coalesce {
	uint8_t *arena;
	size_t arena_len, arena_used;
	size_t max_len;        /* the largest super-frame */
	struct pq_gso_out *out;
	size_t out_cap, n_out;
	struct pq_gso_co_flow flow[PQ_GSO_CO_FLOWS];
	size_t n_flow;
	uint64_t tick;
	bool finished;
};

/* Set up for batches: super-frames of at most max_len bytes
 * (PQ_DATA_MIN_LEN + 2 * PQ_GSO_MIN_SIZE .. PQ_MAX_GSO_FRAME_LEN) are built
 * in the arena (arena_len >= max_len bytes), out has out_cap entries
 * (>= 1). 0 or PQ_E_INVAL. */
PQ_MUST_CHECK int pq_gso_coalesce_init(struct pq_gso_coalesce *co, uint8_t *arena, size_t arena_len,
				       size_t max_len, struct pq_gso_out *out, size_t out_cap);
/* Start a new batch: every out entry and the arena are free again. */
void pq_gso_coalesce_reset(struct pq_gso_coalesce *co);
/* Add one received frame (len bytes, borrowed). 0, or
 *   PQ_E_LIMIT  out[] is full: finish, write, reset, add this frame again;
 *   PQ_E_STATE  the batch was finished: reset first;
 *   PQ_E_INVAL  co or frame NULL.
 * A malformed frame is no error: it goes out as it came. */
PQ_MUST_CHECK int pq_gso_coalesce_add(struct pq_gso_coalesce *co, const uint8_t *frame, size_t len);
/* Close every open super-frame; *out is set to the batch's frames, in
 * order, and their number returned. Adding again needs a reset. */
size_t pq_gso_coalesce_finish(struct pq_gso_coalesce *co, const struct pq_gso_out **out);

#endif
