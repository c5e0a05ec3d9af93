/*
 * ed25519.h - Ed25519 (RFC 8032) identity signatures through OpenSSL.
 *
 * A node's identity is its 32-byte Ed25519 private key (the RFC 8032 seed).
 * struct pq_signer holds a loaded private key so signing does not redo the
 * key expansion each time; it owns a copy of the key and wipes it on free.
 */
#ifndef PQ_CRYPTO_ED25519_H
#define PQ_CRYPTO_ED25519_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PQ_ED25519_PRIV_LEN 32
#define PQ_ED25519_PUB_LEN 32
#define PQ_ED25519_SIG_LEN 64

struct pq_signer;

PQ_MUST_CHECK int pq_ed25519_generate(uint8_t priv[PQ_ED25519_PRIV_LEN]);
PQ_MUST_CHECK int pq_ed25519_public(uint8_t pub[PQ_ED25519_PUB_LEN], const uint8_t priv[PQ_ED25519_PRIV_LEN]);

/* Load priv into a new signer (caller frees with pq_signer_free). */
PQ_MUST_CHECK int pq_signer_new(struct pq_signer **out, const uint8_t priv[PQ_ED25519_PRIV_LEN]);
void pq_signer_free(struct pq_signer *s);
/* The signer's public key (borrowed, lives as long as s). */
const uint8_t *pq_signer_public(const struct pq_signer *s);
PQ_MUST_CHECK int pq_signer_sign(const struct pq_signer *s, uint8_t sig[PQ_ED25519_SIG_LEN],
				 const uint8_t *msg, size_t len);

/* 0 when sig is valid for msg under pub, PQ_E_AUTH when not. */
PQ_MUST_CHECK int pq_ed25519_verify(const uint8_t sig[PQ_ED25519_SIG_LEN], const uint8_t *msg, size_t len,
				    const uint8_t pub[PQ_ED25519_PUB_LEN]);

#endif
