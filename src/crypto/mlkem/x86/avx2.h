/*
 * avx2.h - the AVX2 path of ML-KEM-1024 and the run-time switch that picks
 * it (x86/dispatch.c). Every function here gives bit-for-bit the result of
 * its portable counterpart in src/crypto/mlkem/ (poly.c, sampling.c, ...): the same Montgomery
 * and Barrett steps in the same order, only 16 lanes at a time, and the
 * same Keccak outputs four streams at a time.
 *
 * Only compiled for x86-64 with GCC or clang; each function carries
 * target("avx2") itself, so the rest of the build needs no -mavx2 and the
 * code only runs after the CPU said it has AVX2.
 */
#ifndef PQ_CRYPTO_MLKEM_X86_AVX2_H
#define PQ_CRYPTO_MLKEM_X86_AVX2_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/mlkem/params.h"
#include "crypto/mlkem/poly.h"
#include "crypto/mlkem/polyvec.h"

/* -DPQ_MLKEM_NO_AVX2 builds the portable path alone. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(PQ_MLKEM_NO_AVX2)
#define PQ_MLKEM_X86 1
#define PQ_AVX2 __attribute__((target("avx2")))
#else
#define PQ_MLKEM_X86 0
#endif

/* 1 when the AVX2 path is to be used: the CPU has AVX2, the environment
 * has no PQLAN_MLKEM_PORTABLE=1 (read once, on first use) and no test has
 * forced the portable path. */
int pq_mlkem_use_avx2(void);
/* For tests: true forces the portable path in this process, false returns
 * to what the CPU and environment chose. */
void pq_mlkem__force_portable(bool portable);
/* 1 when this build has the AVX2 path and this CPU can run it (what the
 * tests ask before claiming to have compared two paths). */
int pq_mlkem_cpu_has_avx2(void);

/* The hook at the top of each portable function with an AVX2 twin: when
 * the AVX2 path is chosen, run call instead and return. Without an AVX2
 * path it expands to nothing. */
#if PQ_MLKEM_X86
#define PQ_MLKEM_AVX2_INSTEAD(call)              \
	do {                                     \
		if (pq_mlkem_use_avx2()) {       \
			call;                    \
			return;                  \
		}                                \
	} while (0)
#else
#define PQ_MLKEM_AVX2_INSTEAD(call) \
	do {                        \
	} while (0)
#endif

#if PQ_MLKEM_X86
/* Tables for the vector NTT and the rejection sampler, built once by the
 * dispatcher before the first AVX2 call. */
void pq_mlkem_avx2_init_ntt_tables(void);
void pq_mlkem_avx2_init_rej_tables(void);

void pq_mlkem_avx2_ntt(int16_t coeffs[MLKEM_N]);
void pq_mlkem_avx2_invntt_tomont(int16_t coeffs[MLKEM_N]);
void pq_mlkem_avx2_reduce(int16_t coeffs[MLKEM_N]);
void pq_mlkem_avx2_tomont(int16_t coeffs[MLKEM_N]);
void pq_mlkem_avx2_mulcache_compute(int16_t cache[MLKEM_N / 2], const int16_t b[MLKEM_N]);
void pq_mlkem_avx2_cbd2(int16_t coeffs[MLKEM_N], const uint8_t buf[MLKEM_CBD_BYTES]);
void pq_mlkem_avx2_add(int16_t r[MLKEM_N], const int16_t a[MLKEM_N], const int16_t b[MLKEM_N]);
void pq_mlkem_avx2_sub(int16_t r[MLKEM_N], const int16_t a[MLKEM_N], const int16_t b[MLKEM_N]);
void pq_mlkem_avx2_tobytes(uint8_t r[MLKEM_POLYBYTES], const int16_t a[MLKEM_N]);
void pq_mlkem_avx2_frombytes(int16_t r[MLKEM_N], const uint8_t a[MLKEM_POLYBYTES]);
void pq_mlkem_avx2_compress_du(uint8_t r[MLKEM_POLY_DU_BYTES], const int16_t a[MLKEM_N]);
void pq_mlkem_avx2_decompress_du(int16_t r[MLKEM_N], const uint8_t a[MLKEM_POLY_DU_BYTES]);
void pq_mlkem_avx2_compress_dv(uint8_t r[MLKEM_POLY_DV_BYTES], const int16_t a[MLKEM_N]);
void pq_mlkem_avx2_decompress_dv(int16_t r[MLKEM_N], const uint8_t a[MLKEM_POLY_DV_BYTES]);
void pq_mlkem_avx2_frommsg(int16_t r[MLKEM_N], const uint8_t msg[MLKEM_SYMBYTES]);
void pq_mlkem_avx2_tomsg(uint8_t msg[MLKEM_SYMBYTES], const int16_t a[MLKEM_N]);
void pq_mlkem_avx2_polyvec_dot(pq_mlkem_poly *r, const pq_mlkem_polyvec *a, const pq_mlkem_polyvec *b,
			       const pq_mlkem_polyvec_mulcache *b_cache);

void pq_mlkem_avx2_matrix_expand(pq_mlkem_matrix *a, const uint8_t rho[MLKEM_SYMBYTES], int transposed);
/* r->vec[i] = SamplePolyCBD_2(PRF_2(seed, nonce0 + i)), i < MLKEM_K. */
void pq_mlkem_avx2_polyvec_noise(pq_mlkem_polyvec *r, const uint8_t seed[MLKEM_SYMBYTES], uint8_t nonce0);
#endif

#endif
