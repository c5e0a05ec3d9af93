/*
 * poly.h - one polynomial of R_q = Z_q[X]/(X^256 + 1) (FIPS 203 §2.4):
 * modular reduction, NTT (Alg. 9), inverse NTT (Alg. 10) and the product
 * of NTT representations (Alg. 11/12).
 *
 * Coefficients are int16_t and not always fully reduced; each function
 * says what range it takes and gives. "Montgomery form" means multiplied
 * by R = 2^16 mod q.
 */
#ifndef PQ_CRYPTO_MLKEM_POLY_H
#define PQ_CRYPTO_MLKEM_POLY_H

#include <stdint.h>

#include "crypto/mlkem/params.h"

typedef struct {
	int16_t coeffs[MLKEM_N];
} pq_mlkem_poly;

/* a * R^-1 mod q in (-q, q), for |a| < q * 2^15. */
static inline int16_t pq_mlkem_montgomery_reduce(int32_t a)
{
	/* q^-1 mod 2^16 = 62209, as a signed 16-bit value -3327; a - t*q is
	 * then divisible by 2^16 */
	int16_t t = (int16_t)((int16_t)a * -3327);

	return (int16_t)((a - (int32_t)t * MLKEM_Q) >> 16);
}

/* a * b * R^-1 mod q in (-q, q), for |a * b| < q * 2^15. Same value as
 * pq_mlkem_montgomery_reduce(a * b), written as a difference of high
 * halves: a*b and t*q agree in their low 16 bits, so no borrow is lost.
 * Compilers turn this form into 16-bit multiply-high vector code. */
static inline int16_t pq_mlkem_fqmul(int16_t a, int16_t b)
{
	int32_t prod = (int32_t)a * b;
	int16_t t = (int16_t)((int16_t)prod * -3327);

	return (int16_t)((prod >> 16) - (((int32_t)t * MLKEM_Q) >> 16));
}

/* a mod q, centred in [-(q-1)/2, (q-1)/2]; multiply-shift, no division.
 * t = round(a * 20159 / 2^26) with 20159 = round(2^26 / q), computed via
 * the high half of a * 20159 (floor(floor(x / 2^16) / 2^10) = floor(x / 2^26)),
 * which compilers turn into 16-bit multiply-high vector code. */
static inline int16_t pq_mlkem_barrett_reduce(int16_t a)
{
	int16_t t = (int16_t)(((((int32_t)a * 20159) >> 16) + 512) >> 10);

	return (int16_t)(a - t * MLKEM_Q);
}

/* In: |coeffs| < q. Out: NTT(f) in bit-reversed order, |coeffs| < 8q. */
void pq_mlkem_poly_ntt(pq_mlkem_poly *p);
/* In: |coeffs| < q. Out: NTT^-1(f) * R, |coeffs| < q. */
void pq_mlkem_poly_invntt_tomont(pq_mlkem_poly *p);
/* b[2i+1] * gamma_i mod q for the 128 pairs of an NTT-domain b (Alg. 11),
 * |out| < q; computed once per vector, used by every product with b. */
typedef struct {
	int16_t coeffs[MLKEM_N / 2];
} pq_mlkem_poly_mulcache;

void pq_mlkem_poly_mulcache_compute(pq_mlkem_poly_mulcache *c, const pq_mlkem_poly *b);
/* acc += a o b (Alg. 11/12) without reduction. Each call adds less than
 * 4096 * 1665 + 4096 * q < 2^25 per coefficient when 0 <= a < 4096 and
 * |b| <= (q-1)/2, so k = 4 calls stay below q * 2^15, the bound of
 * pq_mlkem_montgomery_reduce. */
void pq_mlkem_poly_basemul_acc(int32_t acc[MLKEM_N], const pq_mlkem_poly *a, const pq_mlkem_poly *b,
			       const pq_mlkem_poly_mulcache *b_cache);
/* r = r * R mod q, |r| < q */
void pq_mlkem_poly_tomont(pq_mlkem_poly *r);
/* Barrett-reduce every coefficient into [-(q-1)/2, (q-1)/2]. */
void pq_mlkem_poly_reduce(pq_mlkem_poly *r);
/* Coefficient-wise sum and difference, no reduction. */
void pq_mlkem_poly_add(pq_mlkem_poly *r, const pq_mlkem_poly *a, const pq_mlkem_poly *b);
void pq_mlkem_poly_sub(pq_mlkem_poly *r, const pq_mlkem_poly *a, const pq_mlkem_poly *b);

#endif
