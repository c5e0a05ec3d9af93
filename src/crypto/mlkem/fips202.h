/*
 * fips202.h - SHA3-256, SHA3-512, SHAKE128 and SHAKE256 (FIPS 202) for
 * ML-KEM: our own portable Keccak-f[1600]. ML-KEM makes many short hash
 * calls; a plain state struct on the stack avoids the per-call allocation
 * and dispatch cost of a general library (see the report for figures).
 *
 * Incremental use: init, absorb (any number of times), finalize, squeeze
 * (any number of times, any lengths). The caller owns the state and wipes
 * it with pq_keccak_wipe when it held secrets.
 */
#ifndef PQ_CRYPTO_MLKEM_FIPS202_H
#define PQ_CRYPTO_MLKEM_FIPS202_H

#include <stddef.h>
#include <stdint.h>

#define PQ_SHAKE128_RATE 168
#define PQ_SHAKE256_RATE 136
#define PQ_SHA3_256_RATE 136
#define PQ_SHA3_512_RATE 72

typedef struct {
	uint64_t lanes[25];
	unsigned int pos;     /* absorbing: bytes in the current block; squeezing: bytes used */
	unsigned int rate;    /* block size in bytes */
	uint8_t domain;       /* padding byte: 0x1f SHAKE, 0x06 SHA3 */
} pq_keccak_state;

/* FIPS 202 §3.2.5 iota's 24 round constants. */
extern const uint64_t pq_keccak_round_consts[24];
void pq_keccak_f1600(uint64_t lanes[25]);

void pq_shake128_init(pq_keccak_state *st);
void pq_shake256_init(pq_keccak_state *st);
void pq_keccak_absorb(pq_keccak_state *st, const uint8_t *in, size_t len);
void pq_keccak_finalize(pq_keccak_state *st);
void pq_keccak_squeeze(pq_keccak_state *st, uint8_t *out, size_t len);
void pq_keccak_wipe(pq_keccak_state *st);

/* One-shot helpers. */
void pq_sha3_256(uint8_t out[32], const uint8_t *in, size_t len);
void pq_sha3_512(uint8_t out[64], const uint8_t *in, size_t len);
void pq_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);

#endif
