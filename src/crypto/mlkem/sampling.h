/*
 * sampling.h - SampleNTT (FIPS 203 Alg. 7) for the public matrix and
 * SamplePolyCBD_eta (Alg. 8) with PRF_eta (§4.1, eq. 4.3) for secrets.
 */
#ifndef PQ_CRYPTO_MLKEM_SAMPLING_H
#define PQ_CRYPTO_MLKEM_SAMPLING_H

#include <stdint.h>

#include "crypto/mlkem/params.h"
#include "crypto/mlkem/poly.h"

/* Alg. 7 on the 34-byte input rho || b0 || b1 (spec order: A[i][j] uses
 * b0 = j, b1 = i). Output is in NTT domain, coefficients in [0, q). The
 * loop length depends on rho, which is public. */
void pq_mlkem_sample_ntt(pq_mlkem_poly *r, const uint8_t rho[MLKEM_SYMBYTES], uint8_t b0, uint8_t b1);

/* Alg. 8 with eta = 2 on 128 bytes; coefficients in [-2, 2]. */
void pq_mlkem_sample_cbd2(pq_mlkem_poly *r, const uint8_t buf[MLKEM_CBD_BYTES]);

/* SamplePolyCBD_2(PRF_2(seed, nonce)); PRF is SHAKE256(seed || nonce). */
void pq_mlkem_sample_noise(pq_mlkem_poly *r, const uint8_t seed[MLKEM_SYMBYTES], uint8_t nonce);

#endif
