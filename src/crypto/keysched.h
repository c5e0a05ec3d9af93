/*
 * keysched.h - the hybrid combiner and key schedule (DESIGN §3).
 *
 *   ikm = ss_mlkem || ss_x25519
 *   prk = HKDF-Extract(salt = transcript hash, ikm)
 *   each key = HKDF-Expand(prk, "pqlan v1 " || purpose, len)
 *
 * One label per purpose; no key is used for two purposes. The labels are
 * listed in keysched.c and in docs/PROTOCOL.md.
 */
#ifndef PQ_CRYPTO_KEYSCHED_H
#define PQ_CRYPTO_KEYSCHED_H

#include <stdint.h>

#include "util/err.h"

#define PQ_KEY_LEN 32
#define PQ_SESSION_ID_LEN 16

struct pq_session_keys {
	uint8_t key_i2r[PQ_KEY_LEN];      /* traffic, initiator -> responder */
	uint8_t key_r2i[PQ_KEY_LEN];      /* traffic, responder -> initiator */
	uint8_t confirm_i2r[PQ_KEY_LEN];  /* handshake key confirmation MACs */
	uint8_t confirm_r2i[PQ_KEY_LEN];
	uint8_t rehs_i2r[PQ_KEY_LEN];     /* re-handshake MACs (DESIGN §5) */
	uint8_t rehs_r2i[PQ_KEY_LEN];
	uint8_t session_id[PQ_SESSION_ID_LEN];
};

/* Derive every session key. Wipes its intermediates; the caller wipes out
 * (pq_session_keys_wipe) when done with it. */
PQ_MUST_CHECK int pq_key_schedule(struct pq_session_keys *out, const uint8_t ss_mlkem[32],
				  const uint8_t ss_x25519[32], const uint8_t transcript_hash[32]);
void pq_session_keys_wipe(struct pq_session_keys *k);

#endif
