/*
 * keccakx4.h - four Keccak-f[1600] states side by side in AVX2 registers
 * (FIPS 202 §3), for the many short, independent SHAKE calls of ML-KEM:
 * the 16 SampleNTT streams of the matrix and the PRF streams of the
 * noise. Lane i of state s is word s of st->lanes[i].
 */
#ifndef PQ_CRYPTO_MLKEM_X86_KECCAKX4_H
#define PQ_CRYPTO_MLKEM_X86_KECCAKX4_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/mlkem/x86/avx2.h"

#if PQ_MLKEM_X86
typedef struct {
	uint64_t lanes[25][4] __attribute__((aligned(32)));
} pq_keccakx4_state;

/* FIPS 202 Alg. 7 on all four states. */
void pq_keccakx4_f1600(pq_keccakx4_state *st);
/* Absorb one message of inlen < rate bytes per state into a fresh state,
 * with the domain byte and pad10*1 (FIPS 202 §5.1): the sponge is then
 * ready to squeeze, like pq_keccak_absorb + pq_keccak_finalize. */
void pq_keccakx4_absorb_once(pq_keccakx4_state *st, unsigned int rate, const uint8_t *in[4], size_t inlen,
			     uint8_t domain);
/* Permute, then copy one rate-sized block of each state to out[s]. */
void pq_keccakx4_squeeze_block(pq_keccakx4_state *st, unsigned int rate, uint8_t *out[4]);
#endif

#endif
