/*
 * msg_handshake.h - wire codecs of the end-to-end hybrid handshake
 * (DESIGN §3; byte layouts in docs/PROTOCOL.md §4).
 *
 * Every message has one exact size, type byte included. Decoders check the
 * type byte and the size before reading anything else, then copy the fields
 * into a struct; they do not judge values (version, keys, indices): that is
 * handshake.c's job, which counts each reason separately. Encoders are given
 * their buffer's capacity and return the bytes written or PQ_E_TOOBIG.
 *
 *   HS_INIT   0x10  version 1 | suite 1 | initiator identity 32 | sender index 4
 *                   | timestamp 8 | random 32 | X25519 e 32 | ML-KEM ek 1568
 *                   | signature 64                                  = 1743 B
 *   HS_RESP   0x11  sender index 4 | receiver index 4 | X25519 e 32
 *                   | ML-KEM ct 1568 | signature 64 | confirm MAC 32 = 1705 B
 *   HS_FINISH 0x12  sender index 4 | receiver index 4 | confirm MAC 32 = 41 B
 */
#ifndef PQ_PROTO_MSG_HANDSHAKE_H
#define PQ_PROTO_MSG_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/mlkem.h"
#include "crypto/x25519.h"
#include "proto/types.h"
#include "util/err.h"

#define PQ_HS_VERSION 1
/* Suite 1: X25519 + ML-KEM-1024 / Ed25519 / AES-256-GCM / HKDF-SHA256. */
#define PQ_HS_SUITE_HYBRID1 1

#define PQ_HS_RANDOM_LEN 32

#define PQ_HS_INIT_LEN (1 + 1 + 1 + PQ_PUBKEY_LEN + 4 + 8 + PQ_HS_RANDOM_LEN + PQ_X25519_LEN + \
			PQ_MLKEM1024_EK_LEN + PQ_ED25519_SIG_LEN)
#define PQ_HS_RESP_LEN (1 + 4 + 4 + PQ_X25519_LEN + PQ_MLKEM1024_CT_LEN + PQ_ED25519_SIG_LEN + PQ_HMAC_LEN)
#define PQ_HS_FINISH_LEN (1 + 4 + 4 + PQ_HMAC_LEN)

/* Where the signed (or MACed) part of each message ends: the signature
 * covers the transcript up to, not including, its own field. */
#define PQ_HS_INIT_SIG_OFF (PQ_HS_INIT_LEN - PQ_ED25519_SIG_LEN)
#define PQ_HS_RESP_SIG_OFF (PQ_HS_RESP_LEN - PQ_HMAC_LEN - PQ_ED25519_SIG_LEN)
#define PQ_HS_RESP_MAC_OFF (PQ_HS_RESP_LEN - PQ_HMAC_LEN)
#define PQ_HS_FINISH_MAC_OFF (PQ_HS_FINISH_LEN - PQ_HMAC_LEN)

struct pq_hs_init_msg {
	uint8_t version;
	uint8_t suite;
	uint8_t initiator_pub[PQ_PUBKEY_LEN];
	uint32_t sender_index;
	uint64_t timestamp_ms;  /* Unix milliseconds */
	uint8_t random[PQ_HS_RANDOM_LEN];
	uint8_t x25519_pub[PQ_X25519_LEN];
	uint8_t mlkem_ek[PQ_MLKEM1024_EK_LEN];
	uint8_t sig[PQ_ED25519_SIG_LEN];
};

struct pq_hs_resp_msg {
	uint32_t sender_index;    /* the responder's */
	uint32_t receiver_index;  /* the initiator's, from HS_INIT */
	uint8_t x25519_pub[PQ_X25519_LEN];
	uint8_t mlkem_ct[PQ_MLKEM1024_CT_LEN];
	uint8_t sig[PQ_ED25519_SIG_LEN];
	uint8_t mac[PQ_HMAC_LEN];
};

struct pq_hs_finish_msg {
	uint32_t sender_index;    /* the initiator's */
	uint32_t receiver_index;  /* the responder's, from HS_RESP */
	uint8_t mac[PQ_HMAC_LEN];
};

/* Encoders: bytes written (the exact size above) or PQ_E_TOOBIG. */
PQ_MUST_CHECK long pq_hs_init_encode(const struct pq_hs_init_msg *m, uint8_t *out, size_t cap);
PQ_MUST_CHECK long pq_hs_resp_encode(const struct pq_hs_resp_msg *m, uint8_t *out, size_t cap);
PQ_MUST_CHECK long pq_hs_finish_encode(const struct pq_hs_finish_msg *m, uint8_t *out, size_t cap);

/* Decoders: 0, or PQ_E_DECODE for a wrong type byte or size. */
PQ_MUST_CHECK int pq_hs_init_decode(struct pq_hs_init_msg *m, const uint8_t *in, size_t len);
PQ_MUST_CHECK int pq_hs_resp_decode(struct pq_hs_resp_msg *m, const uint8_t *in, size_t len);
PQ_MUST_CHECK int pq_hs_finish_decode(struct pq_hs_finish_msg *m, const uint8_t *in, size_t len);

#endif
