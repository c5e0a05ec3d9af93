/*
 * util.h - randomness, wiping and constant-time comparison.
 */
#ifndef PQ_CRYPTO_UTIL_H
#define PQ_CRYPTO_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Fill out with len bytes from the system CSPRNG (OpenSSL RAND_bytes).
 * Returns 0 or PQ_E_RANDOM. */
PQ_MUST_CHECK int pq_random_bytes(void *out, size_t len);

/* Uniform-ish random in [0, n) for jitter (a slight modulo bias); 0 when
 * n is 0 or the generator fails. Not for secrets. */
uint32_t pq_random_below(uint32_t n);

/* Wipe secret material so the compiler cannot elide it (OPENSSL_cleanse). */
void pq_wipe(void *p, size_t len);

/* 1 when the n bytes at a and b are equal, else 0; time depends on n only. */
int pq_ct_equal(const void *a, const void *b, size_t n);

#endif
