/*
 * sampling.c - FIPS 203 Alg. 7 (SampleNTT) and Alg. 8 (SamplePolyCBD).
 */
#include "crypto/mlkem/sampling.h"

#include "crypto/mlkem/fips202.h"
#include "crypto/mlkem/verify.h"
#include "crypto/mlkem/x86/avx2.h"

/* Rejection step of Alg. 7 on one block: each 3 bytes give two 12-bit
 * candidates, kept when < q. Writes are unconditional and the count
 * advances by the comparison; out needs room for every candidate. Branch
 * and timing depend only on rho, which is public. */
static unsigned int reject_block(int16_t *out, const uint8_t block[PQ_SHAKE128_RATE])
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < PQ_SHAKE128_RATE; i += 3) {
		uint16_t d1 = (uint16_t)(block[i] | ((block[i + 1] & 0x0f) << 8));
		uint16_t d2 = (uint16_t)((block[i + 1] >> 4) | (block[i + 2] << 4));
		out[n] = (int16_t)d1;
		n += d1 < MLKEM_Q;
		out[n] = (int16_t)d2;
		n += d2 < MLKEM_Q;
	}
	return n;
}

/* Alg. 7: read SHAKE128 one block at a time. 168 = 56 * 3, so no
 * candidate spans blocks. The spec's loop has no bound; neither does this
 * one (it needs more than a few blocks with negligible probability; the
 * CCTV "unlucky" vector needs 4). Candidates land in a buffer with room
 * for a whole block past the 256th coefficient, then the first 256 are kept. */
void pq_mlkem_sample_ntt(pq_mlkem_poly *r, const uint8_t rho[MLKEM_SYMBYTES], uint8_t b0, uint8_t b1)
{
	pq_keccak_state xof;
	uint8_t seed[MLKEM_SYMBYTES + 2];
	uint8_t block[PQ_SHAKE128_RATE];
	int16_t coeffs[MLKEM_N + 2 * PQ_SHAKE128_RATE / 3];
	unsigned int n = 0;

	memcpy(seed, rho, MLKEM_SYMBYTES);
	seed[MLKEM_SYMBYTES] = b0;
	seed[MLKEM_SYMBYTES + 1] = b1;
	pq_shake128_init(&xof);
	pq_keccak_absorb(&xof, seed, sizeof(seed));
	pq_keccak_finalize(&xof);
	while (n < MLKEM_N) {
		pq_keccak_squeeze(&xof, block, sizeof(block));
		n += reject_block(&coeffs[n], block);
	}
	memcpy(r->coeffs, coeffs, sizeof(r->coeffs));
}

/* Alg. 8, eta = 2: each coefficient is (b0 + b1) - (b2 + b3) for four
 * consecutive bits, so one byte gives two coefficients; the four 2-bit
 * sums of a byte are formed at once. */
void pq_mlkem_sample_cbd2(pq_mlkem_poly *r, const uint8_t buf[MLKEM_CBD_BYTES])
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_cbd2(r->coeffs, buf));
	for (unsigned int i = 0; i < MLKEM_CBD_BYTES; i++) {
		uint32_t sums = (uint32_t)(buf[i] & 0x55) + (uint32_t)((buf[i] >> 1) & 0x55);
		r->coeffs[2 * i] = (int16_t)((int32_t)(sums & 3) - (int32_t)((sums >> 2) & 3));
		r->coeffs[2 * i + 1] = (int16_t)((int32_t)((sums >> 4) & 3) - (int32_t)((sums >> 6) & 3));
	}
}

void pq_mlkem_sample_noise(pq_mlkem_poly *r, const uint8_t seed[MLKEM_SYMBYTES], uint8_t nonce)
{
	uint8_t in[MLKEM_SYMBYTES + 1];
	uint8_t buf[MLKEM_CBD_BYTES];

	memcpy(in, seed, MLKEM_SYMBYTES);
	in[MLKEM_SYMBYTES] = nonce;
	pq_shake256(buf, sizeof(buf), in, sizeof(in));
	pq_mlkem_sample_cbd2(r, buf);
	pq_mlkem_wipe(in, sizeof(in));
	pq_mlkem_wipe(buf, sizeof(buf));
}
