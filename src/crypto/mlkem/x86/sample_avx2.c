/*
 * sample_avx2.c - the matrix A_hat (FIPS 203 Alg. 13 lines 3-7, Alg. 14
 * lines 4-8) and the noise vectors (Alg. 13 lines 8-15, Alg. 14 lines
 * 9-16) with four SHAKE streams per Keccak call. Each stream gives the
 * bytes the portable sampling.c reads from its own SHAKE, and the same
 * rejection and CBD steps turn them into the same coefficients.
 */
#include "crypto/mlkem/x86/keccakx4.h"

#if PQ_MLKEM_X86
#include <immintrin.h>
#include <string.h>

#include "crypto/mlkem/fips202.h"
#include "crypto/mlkem/sampling.h"
#include "crypto/mlkem/verify.h"

/* Three blocks give 256 coefficients with probability > 0.99; more are
 * squeezed only while some stream is short. */
#define FIRST_BLOCKS 3
#define BLOCK PQ_SHAKE128_RATE
/* Room for a whole block of candidates past the 256th (as in sampling.c),
 * plus the 8 that one 16-byte store may write past the count. */
#define COEFF_ROOM (MLKEM_N + 2 * BLOCK / 3 + 8)

struct xof_x4 {
	pq_keccakx4_state st;
	uint8_t buf[4][FIRST_BLOCKS * BLOCK];
	int16_t coeffs[4][COEFF_ROOM];
	unsigned int n[4];
};

/* For each 8-bit mask of accepted candidates: the vpshufb pattern that
 * moves those 16-bit words to the front, in order, and how many they are. */
static uint8_t compact_idx[256][16] __attribute__((aligned(16)));
static uint8_t compact_len[256];

void pq_mlkem_avx2_init_rej_tables(void)
{
	for (unsigned int m = 0; m < 256; m++) {
		unsigned int n = 0;
		memset(compact_idx[m], 0x80, 16);
		for (unsigned int w = 0; w < 8; w++) {
			if (m & (1u << w)) {
				compact_idx[m][2 * n] = (uint8_t)(2 * w);
				compact_idx[m][2 * n + 1] = (uint8_t)(2 * w + 1);
				n++;
			}
		}
		compact_len[m] = (uint8_t)n;
	}
}

/*
 * Alg. 7 lines 4-7 on one block, 16 candidates per step: 24 bytes are
 * loaded as bytes 0-15 and 8-23 in the two 128-bit lanes, vpshufb makes
 * the 16-bit words (b0 | b1 << 8) and (b1 | b2 << 8) of each 3-byte group,
 * the odd words are shifted right by 4 and all masked to 12 bits (d1, d2
 * of Alg. 7). The accepted ones (< q) are moved to the front of each lane
 * and stored; the count advances by how many there were, so the
 * coefficients come out in the order of sampling.c's reject_block. Tables
 * are indexed by the accept mask, which depends on XOF(rho): public.
 * out needs 8 entries of room past the last accepted one.
 */
PQ_AVX2 static unsigned int reject_block(int16_t *out, const uint8_t block[BLOCK])
{
	const __m256i words = _mm256_setr_epi8(0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11,
					       4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11, 12, 13, 14, 14, 15);
	const __m256i low12 = _mm256_set1_epi16(0x0fff);
	const __m256i q = _mm256_set1_epi16(MLKEM_Q);
	unsigned int n = 0;

	for (unsigned int i = 0; i < BLOCK; i += 24) {
		__m256i v = _mm256_inserti128_si256(
			_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)&block[i])),
			_mm_loadu_si128((const __m128i *)&block[i + 8]), 1);
		v = _mm256_shuffle_epi8(v, words);
		v = _mm256_blend_epi16(v, _mm256_srli_epi16(v, 4), 0xaa);
		v = _mm256_and_si256(v, low12);
		__m256i ok = _mm256_cmpgt_epi16(q, v);
		unsigned int mask = (unsigned int)_mm_movemask_epi8(
			_mm_packs_epi16(_mm256_castsi256_si128(ok), _mm256_extracti128_si256(ok, 1)));
		unsigned int m0 = mask & 0xff, m1 = mask >> 8;
		__m128i lo = _mm_shuffle_epi8(_mm256_castsi256_si128(v),
					      _mm_load_si128((const __m128i *)compact_idx[m0]));
		__m128i hi = _mm_shuffle_epi8(_mm256_extracti128_si256(v, 1),
					      _mm_load_si128((const __m128i *)compact_idx[m1]));
		_mm_storeu_si128((__m128i *)&out[n], lo);
		n += compact_len[m0];
		_mm_storeu_si128((__m128i *)&out[n], hi);
		n += compact_len[m1];
	}
	return n;
}

/* Feed one block to each stream that still needs coefficients. */
static void take_blocks(struct xof_x4 *x, unsigned int offset)
{
	for (unsigned int s = 0; s < 4; s++)
		if (x->n[s] < MLKEM_N)
			x->n[s] += reject_block(&x->coeffs[s][x->n[s]], &x->buf[s][offset]);
}

static int all_full(const struct xof_x4 *x)
{
	return x->n[0] >= MLKEM_N && x->n[1] >= MLKEM_N && x->n[2] >= MLKEM_N && x->n[3] >= MLKEM_N;
}

/* SampleNTT (Alg. 7) of four seeds rho || b0 || b1 into out[0..3]. */
static void sample_ntt_x4(pq_mlkem_poly *out[4], const uint8_t seeds[4][MLKEM_SYMBYTES + 2])
{
	struct xof_x4 x;
	const uint8_t *in[4] = { seeds[0], seeds[1], seeds[2], seeds[3] };
	uint8_t *dst[4];

	pq_keccakx4_absorb_once(&x.st, BLOCK, in, MLKEM_SYMBYTES + 2, 0x1f);
	for (unsigned int b = 0; b < FIRST_BLOCKS; b++) {
		for (unsigned int s = 0; s < 4; s++)
			dst[s] = &x.buf[s][b * BLOCK];
		pq_keccakx4_squeeze_block(&x.st, BLOCK, dst);
	}
	memset(x.n, 0, sizeof(x.n));
	for (unsigned int b = 0; b < FIRST_BLOCKS; b++)
		take_blocks(&x, b * BLOCK);
	/* Alg. 7 has no bound; neither has this (see sampling.c). */
	while (!all_full(&x)) {
		for (unsigned int s = 0; s < 4; s++)
			dst[s] = x.buf[s];
		pq_keccakx4_squeeze_block(&x.st, BLOCK, dst);
		take_blocks(&x, 0);
	}
	for (unsigned int s = 0; s < 4; s++)
		memcpy(out[s]->coeffs, x.coeffs[s], sizeof(out[s]->coeffs));
}

/* One matrix row per call of sample_ntt_x4: A_hat[i][j] from rho || j || i,
 * or from rho || i || j when transposed (polyvec.h). */
void pq_mlkem_avx2_matrix_expand(pq_mlkem_matrix *a, const uint8_t rho[MLKEM_SYMBYTES], int transposed)
{
	uint8_t seeds[4][MLKEM_SYMBYTES + 2];
	pq_mlkem_poly *out[4];

	for (unsigned int i = 0; i < MLKEM_K; i++) {
		for (unsigned int j = 0; j < MLKEM_K; j++) {
			memcpy(seeds[j], rho, MLKEM_SYMBYTES);
			seeds[j][MLKEM_SYMBYTES] = (uint8_t)(transposed ? i : j);
			seeds[j][MLKEM_SYMBYTES + 1] = (uint8_t)(transposed ? j : i);
			out[j] = &a->row[i].vec[j];
		}
		sample_ntt_x4(out, (const uint8_t(*)[MLKEM_SYMBYTES + 2])seeds);
	}
}

/*
 * SamplePolyCBD_2 (Alg. 8) on 16 bytes at a time, as sampling.c: per byte
 * the four 2-bit sums s0..s3 of bit pairs, then s0 - s1 and s2 - s3. The
 * differences are formed per nibble as (s0 + 3) - s1 in [1, 5], so no
 * nibble borrows from its neighbour, and 3 is taken off after the split.
 */
PQ_AVX2 void pq_mlkem_avx2_cbd2(int16_t coeffs[MLKEM_N], const uint8_t buf[MLKEM_CBD_BYTES])
{
	const __m128i m55 = _mm_set1_epi8(0x55), m33 = _mm_set1_epi8(0x33);
	const __m128i m0f = _mm_set1_epi8(0x0f), three = _mm_set1_epi8(3);

	for (unsigned int i = 0; i < MLKEM_CBD_BYTES; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)&buf[i]);
		__m128i sums = _mm_add_epi8(_mm_and_si128(v, m55), _mm_and_si128(_mm_srli_epi16(v, 1), m55));
		__m128i a = _mm_and_si128(sums, m33);
		__m128i b = _mm_and_si128(_mm_srli_epi16(sums, 2), m33);
		__m128i d = _mm_sub_epi8(_mm_add_epi8(a, m33), b);
		__m128i lo = _mm_sub_epi8(_mm_and_si128(d, m0f), three);
		__m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(d, 4), m0f), three);
		_mm256_storeu_si256((__m256i *)&coeffs[2 * i], _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(lo, hi)));
		_mm256_storeu_si256((__m256i *)&coeffs[2 * i + 16],
				    _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(lo, hi)));
	}
}

_Static_assert(MLKEM_K == 4, "one noise vector is one x4 batch");
_Static_assert(MLKEM_CBD_BYTES <= PQ_SHAKE256_RATE, "PRF output fits one block");

/* PRF_2(seed, nonce0 + i) = SHAKE256(seed || nonce, 128) (eq. 4.3), then
 * SamplePolyCBD_2 (Alg. 8) as in sampling.c. */
void pq_mlkem_avx2_polyvec_noise(pq_mlkem_polyvec *r, const uint8_t seed[MLKEM_SYMBYTES], uint8_t nonce0)
{
	pq_keccakx4_state st;
	uint8_t in[4][MLKEM_SYMBYTES + 1];
	uint8_t buf[4][PQ_SHAKE256_RATE];
	const uint8_t *inp[4] = { in[0], in[1], in[2], in[3] };
	uint8_t *outp[4] = { buf[0], buf[1], buf[2], buf[3] };

	for (unsigned int s = 0; s < 4; s++) {
		memcpy(in[s], seed, MLKEM_SYMBYTES);
		in[s][MLKEM_SYMBYTES] = (uint8_t)(nonce0 + s);
	}
	pq_keccakx4_absorb_once(&st, PQ_SHAKE256_RATE, inp, sizeof(in[0]), 0x1f);
	pq_keccakx4_squeeze_block(&st, PQ_SHAKE256_RATE, outp);
	for (unsigned int s = 0; s < 4; s++)
		pq_mlkem_avx2_cbd2(r->vec[s].coeffs, buf[s]);
	pq_mlkem_wipe(&st, sizeof(st));
	pq_mlkem_wipe(in, sizeof(in));
	pq_mlkem_wipe(buf, sizeof(buf));
}
#endif
