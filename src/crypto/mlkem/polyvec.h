/*
 * polyvec.h - vectors of MLKEM_K polynomials and the k x k matrix A_hat
 * (FIPS 203 §2.4.7, Alg. 13 lines 3-7).
 */
#ifndef PQ_CRYPTO_MLKEM_POLYVEC_H
#define PQ_CRYPTO_MLKEM_POLYVEC_H

#include <stdint.h>

#include "crypto/mlkem/params.h"
#include "crypto/mlkem/poly.h"

typedef struct {
	pq_mlkem_poly vec[MLKEM_K];
} pq_mlkem_polyvec;

typedef struct {
	pq_mlkem_polyvec row[MLKEM_K];
} pq_mlkem_matrix;

void pq_mlkem_polyvec_ntt(pq_mlkem_polyvec *v);
void pq_mlkem_polyvec_invntt_tomont(pq_mlkem_polyvec *v);
void pq_mlkem_polyvec_reduce(pq_mlkem_polyvec *v);
void pq_mlkem_polyvec_add(pq_mlkem_polyvec *r, const pq_mlkem_polyvec *a, const pq_mlkem_polyvec *b);
typedef struct {
	pq_mlkem_poly_mulcache vec[MLKEM_K];
} pq_mlkem_polyvec_mulcache;

void pq_mlkem_polyvec_mulcache_compute(pq_mlkem_polyvec_mulcache *c, const pq_mlkem_polyvec *b);
/* r = sum_i a[i] o b[i] * R^-1 (the dot products of Alg. 13-15 in NTT
 * domain), |r| < q. Needs 0 <= a < 4096 (decoded bytes or SampleNTT
 * output), b Barrett-reduced and b_cache computed from b. */
void pq_mlkem_polyvec_dot(pq_mlkem_poly *r, const pq_mlkem_polyvec *a, const pq_mlkem_polyvec *b,
			  const pq_mlkem_polyvec_mulcache *b_cache);

void pq_mlkem_polyvec_tobytes(uint8_t r[MLKEM_POLYVECBYTES], const pq_mlkem_polyvec *v);
void pq_mlkem_polyvec_frombytes(pq_mlkem_polyvec *v, const uint8_t a[MLKEM_POLYVECBYTES]);
void pq_mlkem_polyvec_compress_du(uint8_t r[MLKEM_POLYVEC_DU_BYTES], const pq_mlkem_polyvec *v);
void pq_mlkem_polyvec_decompress_du(pq_mlkem_polyvec *v, const uint8_t a[MLKEM_POLYVEC_DU_BYTES]);

/* r[i] = SamplePolyCBD_2(PRF_2(seed, nonce0 + i)) for i < k (Alg. 13
 * lines 8-15, Alg. 14 lines 9-16). */
void pq_mlkem_polyvec_noise(pq_mlkem_polyvec *r, const uint8_t seed[MLKEM_SYMBYTES], uint8_t nonce0);

/* A_hat[i][j] = SampleNTT(rho || j || i) (Alg. 13 line 5); with transposed
 * set, row i column j holds A_hat[j][i] instead (Alg. 14 line 19). */
void pq_mlkem_matrix_expand(pq_mlkem_matrix *a, const uint8_t rho[MLKEM_SYMBYTES], int transposed);

#endif
