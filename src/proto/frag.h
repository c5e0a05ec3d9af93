/*
 * frag.h - DATA_FRAG (0x29): a frame no datagram of the UDP path holds
 * whole and that cannot be cut into TCP segments (a 1 500-byte UDP or
 * ICMP packet, say, on a 1 500-byte underlay), carried in pieces, each
 * its own sealed message with its own counter, instead of leaving the
 * UDP path for the TLS conn or the relay (issue 13 item 3). Sans-I/O.
 *
 * What is cut is a DATA_GSO plaintext (offload header 10 | frame), so a
 * frame with a pending checksum (NEEDS_CSUM) keeps its header. Plaintext
 * of one piece (docs/PROTOCOL.md §4.1):
 *
 *   id 4 | total 2 | piece size 2 | index 1 | piece bytes
 *
 *   id          the sender's number for the whole (any value; the sender
 *               counts up per peer)
 *   total       bytes of the whole, PQ_DATA_GSO_MIN_LEN..PQ_FRAG_MAX_TOTAL
 *   piece size  bytes of every piece but the last, which holds the rest;
 *               the whole is count = ceil(total / piece size) pieces,
 *               2..PQ_FRAG_MAX_PIECES
 *   index       0..count-1: the piece starts at index * piece size
 *
 * A piece whose length is not the one its header implies, or whose header
 * disagrees with the other pieces of its id, is refused: pieces tile the
 * whole exactly, so no byte of a reassembled frame is left unwritten or
 * written twice. Pieces may come in any order; a whole is handed out
 * once, when its last missing piece comes, and a whole with a piece lost
 * is never handed out (its slot is taken over later: a lost piece costs
 * the frame, as a lost datagram would).
 */
#ifndef PQ_PROTO_FRAG_H
#define PQ_PROTO_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/gso_hdr.h"
#include "proto/types.h"
#include "util/err.h"

#define PQ_FRAG_HDR_LEN 9
#define PQ_FRAG_MAX_PIECES 16
/* A DATA frame's bound with its offload header: jumbo frames included,
 * not a 64 KiB super-frame (those are TCP, cut by gso_seg). */
#define PQ_FRAG_MAX_TOTAL (PQ_GSO_HDR_LEN + PQ_MAX_FRAME_LEN)
/* Wholes being put together at once, per peer. */
#define PQ_FRAG_SLOTS 4
/* A piece whose id's partial whole is older than this starts it afresh
 * (the sender restarted and counts its ids from the start again). */
#define PQ_FRAG_TTL_MS 1000

/* A piece's header, as pq_frag_decode read and checked it. */
struct pq_frag_piece {
	uint32_t id;
	size_t total, piece_size, count, index;
	const uint8_t *data; /* borrowed from the plaintext */
	size_t len;
};

/* How to cut total bytes so that each DATA_FRAG plaintext is at most
 * max_pt bytes: pieces as equal as possible (all but the last the same
 * size, so the datagrams can leave as one UDP GSO batch). 0 with
 * *piece_size and *count set; PQ_E_TOOBIG: total is above
 * PQ_FRAG_MAX_TOTAL or needs more than PQ_FRAG_MAX_PIECES pieces;
 * PQ_E_INVAL: total below PQ_DATA_GSO_MIN_LEN or fits one piece whole
 * (send it as it is). */
int pq_frag_plan(size_t total, size_t max_pt, size_t *piece_size, size_t *count);

/* Write piece index of whole (total bytes, cut by piece_size) into out
 * (cap bytes): its plaintext length, or PQ_E_INVAL / PQ_E_TOOBIG. */
long pq_frag_encode(uint32_t id, const uint8_t *whole, size_t total, size_t piece_size, size_t index,
		    uint8_t *out, size_t cap);

/* Read and check one piece's plaintext (its bytes borrowed into *out):
 * 0, or PQ_E_DECODE (any rule above broken). */
int pq_frag_decode(struct pq_frag_piece *out, const uint8_t *pt, size_t len);

struct pq_frag_slot {
	bool used;
	uint32_t id;
	size_t total, piece_size, count;
	uint32_t have;        /* bit i: piece i is in buf */
	uint64_t started_ms;
	uint64_t seq;         /* when it was started, in rx's count */
	uint8_t *buf;         /* PQ_FRAG_MAX_TOTAL bytes, made at first use */
};

/* One peer's reassembly. The caller owns the struct; pq_frag_rx_free
 * frees the slots' buffers (at most PQ_FRAG_SLOTS x PQ_FRAG_MAX_TOTAL
 * bytes, made only once pieces come). A zeroed struct is a valid empty
 * one. */
struct pq_frag_rx {
	struct pq_frag_slot slot[PQ_FRAG_SLOTS];
	uint64_t seq;
};

void pq_frag_rx_free(struct pq_frag_rx *rx);

/* Add one DATA_FRAG plaintext (already opened: authenticated and not a
 * replay). Returns the whole's length (> 0) with *whole pointing at it,
 * valid until the next call on rx (the caller uses it at once); 0: kept,
 * the whole is not complete yet; PQ_E_DECODE: a malformed piece, a
 * header that disagrees with its id's other pieces, or a piece already
 * in; PQ_E_NOMEM. A new id takes a free slot, else the slot of the
 * partial whole started longest ago (its pieces are given up). */
long pq_frag_rx_add(struct pq_frag_rx *rx, const uint8_t *pt, size_t len, uint64_t now_ms, const uint8_t **whole);

#endif
