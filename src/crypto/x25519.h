/*
 * x25519.h - X25519 (RFC 7748) through OpenSSL.
 */
#ifndef PQ_CRYPTO_X25519_H
#define PQ_CRYPTO_X25519_H

#include <stdint.h>

#include "util/err.h"

#define PQ_X25519_LEN 32

/* A fresh key pair from the CSPRNG. */
PQ_MUST_CHECK int pq_x25519_keypair(uint8_t pub[PQ_X25519_LEN], uint8_t priv[PQ_X25519_LEN]);
PQ_MUST_CHECK int pq_x25519_public(uint8_t pub[PQ_X25519_LEN], const uint8_t priv[PQ_X25519_LEN]);
/* Shared secret; PQ_E_KEY when it is all zeros (a low-order peer key,
 * RFC 7748 §6.1). */
PQ_MUST_CHECK int pq_x25519_shared(uint8_t out[PQ_X25519_LEN], const uint8_t priv[PQ_X25519_LEN],
				   const uint8_t peer_pub[PQ_X25519_LEN]);

/* The same, for a caller that still holds its own public key (pub must be
 * the public key of priv): saves a scalar multiplication. */
PQ_MUST_CHECK int pq_x25519_shared_with_pub(uint8_t out[PQ_X25519_LEN], const uint8_t priv[PQ_X25519_LEN],
					    const uint8_t pub[PQ_X25519_LEN],
					    const uint8_t peer_pub[PQ_X25519_LEN]);

#endif
