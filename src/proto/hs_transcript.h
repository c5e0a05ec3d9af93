/*
 * hs_transcript.h - the handshake transcript, signatures and key
 * confirmation MACs (DESIGN §3). Internal to handshake.c.
 *
 * The transcript is a hash chain, h' = SHA-256(h || bytes), started from a
 * label, the version and suite, and both identity keys, then fed every byte
 * of every handshake message in order. Chaining lets each side keep 32
 * bytes between messages instead of the messages themselves. Labels are in
 * hs_transcript.c and docs/PROTOCOL.md §4.
 */
#ifndef PQ_PROTO_HS_TRANSCRIPT_H
#define PQ_PROTO_HS_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "proto/types.h"
#include "util/err.h"

enum pq_hs_sig_role { PQ_HS_SIG_INIT, PQ_HS_SIG_RESP };

/* h0 = SHA-256("pqlan v1 hs transcript" || version || suite || pub_i || pub_r) */
PQ_MUST_CHECK int pq_hs_transcript_start(uint8_t h[PQ_SHA256_LEN], const uint8_t pub_i[PQ_PUBKEY_LEN],
					 const uint8_t pub_r[PQ_PUBKEY_LEN]);
/* h = SHA-256(h || data) */
PQ_MUST_CHECK int pq_hs_transcript_mix(uint8_t h[PQ_SHA256_LEN], const uint8_t *data, size_t len);

/* Ed25519 over (role's label || h). */
PQ_MUST_CHECK int pq_hs_sign(const struct pq_signer *signer, enum pq_hs_sig_role role,
			     const uint8_t h[PQ_SHA256_LEN], uint8_t sig[PQ_ED25519_SIG_LEN]);
PQ_MUST_CHECK int pq_hs_verify(const uint8_t pub[PQ_PUBKEY_LEN], enum pq_hs_sig_role role,
			       const uint8_t h[PQ_SHA256_LEN], const uint8_t sig[PQ_ED25519_SIG_LEN]);

/* HS_RESP: HMAC(confirm_r2i, "pqlan v1 hs confirm resp" || h) */
PQ_MUST_CHECK int pq_hs_resp_mac(uint8_t mac[PQ_HMAC_LEN], const uint8_t key[32], const uint8_t h[PQ_SHA256_LEN]);
/* HS_FINISH: HMAC(confirm_i2r, "pqlan v1 hs confirm finish" || h || resp_mac
 * || the HS_FINISH bytes before its MAC) */
PQ_MUST_CHECK int pq_hs_finish_mac(uint8_t mac[PQ_HMAC_LEN], const uint8_t key[32], const uint8_t h[PQ_SHA256_LEN],
				   const uint8_t resp_mac[PQ_HMAC_LEN], const uint8_t *finish_head, size_t head_len);

#endif
