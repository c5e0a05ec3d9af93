/*
 * hash.h - SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869) via OpenSSL.
 *
 * Vectored inputs (struct pq_iov) let callers hash a transcript made of
 * several buffers without copying them together.
 */
#ifndef PQ_CRYPTO_HASH_H
#define PQ_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PQ_SHA256_LEN 32
#define PQ_HMAC_LEN 32

struct pq_iov {
	const void *base;
	size_t len;
};

PQ_MUST_CHECK int pq_sha256(uint8_t out[PQ_SHA256_LEN], const struct pq_iov *iov, size_t n_iov);
PQ_MUST_CHECK int pq_hmac_sha256(uint8_t out[PQ_HMAC_LEN], const uint8_t *key, size_t key_len,
				 const struct pq_iov *iov, size_t n_iov);

/* RFC 5869 §2.2 and §2.3. out_len <= 255 * 32. */
PQ_MUST_CHECK int pq_hkdf_extract(uint8_t prk[PQ_SHA256_LEN], const uint8_t *salt, size_t salt_len,
				  const uint8_t *ikm, size_t ikm_len);
PQ_MUST_CHECK int pq_hkdf_expand(uint8_t *out, size_t out_len, const uint8_t prk[PQ_SHA256_LEN],
				 const uint8_t *info, size_t info_len);

#endif
