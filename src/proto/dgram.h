/*
 * dgram.h - what a datagram on a node's UDP port is (DESIGN §2, docs/
 * PROTOCOL.md §5.6), before anything is done with it. Sans-I/O, strict:
 *
 *   STUN          pq_stun_detect (proto/stun.h): an answer to our STUN
 *                 requests (first byte < 0x10, magic cookie, length)
 *   re-handshake  0x30 / 0x31 / 0x32 of exactly 57 / 89 / 57 bytes: the
 *                 session id it names (bytes 1-16) says whose
 *   sealed        0x20-0x29 within its type's size bounds
 *                 (pq_sealed_decode): the receiver index says whose
 *   anything else is refused (counted by the caller, never answered).
 *
 * One message per datagram: a datagram that holds more, or less, than
 * one whole message is refused.
 */
#ifndef PQ_PROTO_DGRAM_H
#define PQ_PROTO_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "proto/types.h"

enum pq_dgram_kind { PQ_DGRAM_BAD = 0, PQ_DGRAM_STUN, PQ_DGRAM_REHS, PQ_DGRAM_SEALED };

struct pq_dgram {
	enum pq_dgram_kind kind;
	uint8_t type;                  /* REHS, SEALED: the message type */
	const uint8_t *session_id;     /* REHS: PQ_SESSION_ID_LEN bytes, borrowed */
	uint32_t receiver_index;       /* SEALED */
};

/* Classify len bytes; the kind (also in *out). */
enum pq_dgram_kind pq_dgram_classify(const uint8_t *in, size_t len, struct pq_dgram *out);

#endif
