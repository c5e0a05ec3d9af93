/*
 * aead.h - AES-256-GCM sealed frames (DESIGN §4) through OpenSSL EVP.
 *
 * The 96-bit nonce is 32 zero bits followed by the 64-bit big-endian
 * counter; the caller's header is the additional data. A struct pq_aead
 * holds one key's expanded cipher context (made once, reused per frame);
 * it owns its copy of the key schedule and wipes it on free.
 */
#ifndef PQ_CRYPTO_AEAD_H
#define PQ_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PQ_AEAD_KEY_LEN 32
#define PQ_AEAD_TAG_LEN 16

struct pq_aead;

PQ_MUST_CHECK int pq_aead_new(struct pq_aead **out, const uint8_t key[PQ_AEAD_KEY_LEN]);
void pq_aead_free(struct pq_aead *a);

/* Seal pt_len bytes of pt into out, which receives pt_len + 16 bytes
 * (ciphertext then tag). out may equal pt (in place). */
PQ_MUST_CHECK int pq_aead_seal(struct pq_aead *a, uint64_t counter, const uint8_t *aad, size_t aad_len,
			       const uint8_t *pt, size_t pt_len, uint8_t *out);
/* Open ct_len bytes (ciphertext then 16-byte tag) into out (ct_len - 16
 * bytes). PQ_E_AUTH when the tag fails; out is then zeroed. out may equal ct. */
PQ_MUST_CHECK int pq_aead_open(struct pq_aead *a, uint64_t counter, const uint8_t *aad, size_t aad_len,
			       const uint8_t *ct, size_t ct_len, uint8_t *out);

#endif
