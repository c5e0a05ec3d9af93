/*
 * msg_rehs.h - wire codec of the re-handshake messages 0x30-0x32, byte for
 * byte the seed story's format (DESIGN §5, docs/PROTOCOL.md §5):
 *
 *   0x30 REQUEST   session id 16 | challenge 32                  | timestamp 8
 *   0x31 RESPONSE  session id 16 | MAC 32 | counter-challenge 32  | timestamp 8
 *   0x32 COMPLETE  session id 16 | MAC 32                        | timestamp 8
 *
 * Payloads are 56, 88 and 56 bytes; whole messages 57, 89 and 57. The
 * timestamp is Unix milliseconds, big-endian. Decoders check type and exact
 * size before reading anything and return PQ_E_DECODE otherwise; encoders
 * take their buffer's capacity and return PQ_E_TOOBIG when it is short.
 * Decoded structs hold copies; nothing is borrowed.
 */
#ifndef PQ_PROTO_MSG_REHS_H
#define PQ_PROTO_MSG_REHS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keysched.h"
#include "proto/types.h"
#include "util/err.h"

#define PQ_REHS_CHALLENGE_LEN 32
#define PQ_REHS_MAC_LEN 32

#define PQ_REHS_REQUEST_MSG_LEN (1 + PQ_SESSION_ID_LEN + PQ_REHS_CHALLENGE_LEN + 8)                    /* 57 */
#define PQ_REHS_RESPONSE_MSG_LEN (1 + PQ_SESSION_ID_LEN + PQ_REHS_MAC_LEN + PQ_REHS_CHALLENGE_LEN + 8) /* 89 */
#define PQ_REHS_COMPLETE_MSG_LEN (1 + PQ_SESSION_ID_LEN + PQ_REHS_MAC_LEN + 8)                         /* 57 */
#define PQ_REHS_MAX_MSG_LEN PQ_REHS_RESPONSE_MSG_LEN

struct pq_rehs_request {
	uint8_t session_id[PQ_SESSION_ID_LEN];
	uint8_t challenge[PQ_REHS_CHALLENGE_LEN];
	uint64_t timestamp_ms;
};

struct pq_rehs_response {
	uint8_t session_id[PQ_SESSION_ID_LEN];
	uint8_t mac[PQ_REHS_MAC_LEN];
	uint8_t counter_challenge[PQ_REHS_CHALLENGE_LEN];
	uint64_t timestamp_ms;
};

struct pq_rehs_complete {
	uint8_t session_id[PQ_SESSION_ID_LEN];
	uint8_t mac[PQ_REHS_MAC_LEN];
	uint64_t timestamp_ms;
};

/* Write the whole message into buf (capacity cap), its length into
 * *out_len. 0 or PQ_E_TOOBIG. */
PQ_MUST_CHECK int pq_rehs_request_encode(uint8_t *buf, size_t cap, size_t *out_len,
					 const struct pq_rehs_request *m);
PQ_MUST_CHECK int pq_rehs_response_encode(uint8_t *buf, size_t cap, size_t *out_len,
					  const struct pq_rehs_response *m);
PQ_MUST_CHECK int pq_rehs_complete_encode(uint8_t *buf, size_t cap, size_t *out_len,
					  const struct pq_rehs_complete *m);

/* 0 or PQ_E_DECODE (wrong type or size); *m is zeroed on error. */
PQ_MUST_CHECK int pq_rehs_request_decode(struct pq_rehs_request *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_rehs_response_decode(struct pq_rehs_response *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_rehs_complete_decode(struct pq_rehs_complete *m, const uint8_t *buf, size_t len);

#endif
