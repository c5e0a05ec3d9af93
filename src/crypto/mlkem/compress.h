/*
 * compress.h - Compress_d / Decompress_d (FIPS 203 §4.2.1, eq. 4.7-4.8)
 * and ByteEncode_d / ByteDecode_d (Alg. 5/6) for d = 1, 5, 11 and 12.
 *
 * Compress of secret-dependent values never divides (KyberSlash): it is
 * round(2^d x / q) computed as a multiply and a shift, with constants
 * checked exhaustively over 0 <= x < q by tests/crypto/test_mlkem_vectors.c.
 */
#ifndef PQ_CRYPTO_MLKEM_COMPRESS_H
#define PQ_CRYPTO_MLKEM_COMPRESS_H

#include <stdint.h>

#include "crypto/mlkem/params.h"
#include "crypto/mlkem/poly.h"

/* Compress_d(x) for x in [0, q): floor((2^d x + (q-1)/2) / q) mod 2^d.
 * The reciprocal 2^s / q is rounded so the product is exact on [0, q). */
static inline uint32_t pq_mlkem_compress_d1(uint32_t x)
{
	return (uint32_t)((((uint64_t)(x << 1) + 1664) * 1290168) >> 32) & 1;
}

static inline uint32_t pq_mlkem_compress_d5(uint32_t x)
{
	return (uint32_t)((((uint64_t)(x << 5) + 1664) * 1290168) >> 32) & 31;
}

static inline uint32_t pq_mlkem_compress_d11(uint32_t x)
{
	return (uint32_t)((((uint64_t)(x << 11) + 1664) * 20642679) >> 36) & 2047;
}

/* Decompress_d(y) = round(q y / 2^d), y in [0, 2^d). */
static inline int16_t pq_mlkem_decompress_d(uint32_t y, unsigned int d)
{
	return (int16_t)((y * MLKEM_Q + (1u << (d - 1))) >> d);
}

/* Map a coefficient in (-q, q) to [0, q) without a branch. */
static inline uint32_t pq_mlkem_to_unsigned(int16_t a)
{
	return (uint32_t)(int32_t)(a + ((a >> 15) & MLKEM_Q));
}

/* ByteEncode12 (Alg. 5); coefficients must be in (-q, q). */
void pq_mlkem_poly_tobytes(uint8_t r[MLKEM_POLYBYTES], const pq_mlkem_poly *a);
/* ByteDecode12 (Alg. 6) without the mod-q step: values in [0, 4096). The
 * callers either check them (ek, §7.2) or only use them mod q (dk). */
void pq_mlkem_poly_frombytes(pq_mlkem_poly *r, const uint8_t a[MLKEM_POLYBYTES]);
/* 1 when every 12-bit value in a is < q (FIPS 203 §7.2 modulus check on
 * one polynomial), else 0. Time does not depend on the data. */
int pq_mlkem_poly_bytes_reduced(const uint8_t a[MLKEM_POLYBYTES]);

/* ByteEncode_dv(Compress_dv(a)) and back; a in (-q, q). */
void pq_mlkem_poly_compress_dv(uint8_t r[MLKEM_POLY_DV_BYTES], const pq_mlkem_poly *a);
void pq_mlkem_poly_decompress_dv(pq_mlkem_poly *r, const uint8_t a[MLKEM_POLY_DV_BYTES]);
/* ByteEncode_du(Compress_du(a)) and back; a in (-q, q). */
void pq_mlkem_poly_compress_du(uint8_t r[MLKEM_POLY_DU_BYTES], const pq_mlkem_poly *a);
void pq_mlkem_poly_decompress_du(pq_mlkem_poly *r, const uint8_t a[MLKEM_POLY_DU_BYTES]);

/* Decompress_1(ByteDecode_1(msg)) and ByteEncode_1(Compress_1(a)). */
void pq_mlkem_poly_frommsg(pq_mlkem_poly *r, const uint8_t msg[MLKEM_SYMBYTES]);
void pq_mlkem_poly_tomsg(uint8_t msg[MLKEM_SYMBYTES], const pq_mlkem_poly *a);

#endif
