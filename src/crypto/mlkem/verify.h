/*
 * verify.h - constant-time helpers for ML-KEM: compare, conditional move,
 * mask from a bit, and wiping. ML-KEM stands alone (no OpenSSL), so these
 * are its own. A value barrier stops the compiler from turning a mask back
 * into a branch (the "clangover" class of bugs).
 */
#ifndef PQ_CRYPTO_MLKEM_VERIFY_H
#define PQ_CRYPTO_MLKEM_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The compiler cannot see through this: it must treat x as unknown. */
static inline uint32_t pq_mlkem_value_barrier_u32(uint32_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

static inline uint8_t pq_mlkem_value_barrier_u8(uint8_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

/* 0xffff when bit (0 or 1) is 1, else 0; no branch. */
static inline uint16_t pq_mlkem_mask_from_bit(uint32_t bit)
{
	return (uint16_t)(0u - pq_mlkem_value_barrier_u32(bit & 1u));
}

/* 0 when the n bytes at a and b are equal, 1 otherwise; time depends on n only. */
static inline uint8_t pq_mlkem_ct_differ(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= a[i] ^ b[i];
	/* acc in 0..255: (0 - acc) >> 8 is all ones exactly when acc != 0 */
	return (uint8_t)(((0u - (uint32_t)pq_mlkem_value_barrier_u8(acc)) >> 8) & 1u);
}

/* Copy x over r when flag is 1, leave r when flag is 0; no branch on flag. */
static inline void pq_mlkem_ct_cmov(uint8_t *r, const uint8_t *x, size_t n, uint8_t flag)
{
	uint8_t mask = (uint8_t)(0u - pq_mlkem_value_barrier_u8(flag & 1u));

	for (size_t i = 0; i < n; i++)
		r[i] ^= mask & (r[i] ^ x[i]);
}

/* Wipe secrets; explicit_bzero is not optimised away. */
static inline void pq_mlkem_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

#endif
