/*
 * keccakx4_avx2.c - Keccak-f[1600] (FIPS 202 §3) on four states at once,
 * one 64-bit lane of each state per 256-bit register. The round is the
 * plain theta, rho, pi, chi, iota of §3.2 (no lane complementing: AVX2
 * has and-not). Sources and rotations per output row are those of the
 * portable fips202.c, which documents how they follow from rho and pi.
 */
#include "crypto/mlkem/x86/keccakx4.h"
#include "crypto/mlkem/fips202.h"

#if PQ_MLKEM_X86
#include <immintrin.h>
#include <string.h>

/* Rotation by n; by 8 and 56 a byte shuffle does it in one instruction. */
#define ROL_SHIFT(x, n) _mm256_or_si256(_mm256_slli_epi64((x), (n)), _mm256_srli_epi64((x), 64 - (n)))
#define ROL(x, n)                                                   \
	((n) == 8 ? _mm256_shuffle_epi8((x), rot8) :                \
	 (n) == 56 ? _mm256_shuffle_epi8((x), rot56) : ROL_SHIFT((x), (n)))
#define XOR(a, b) _mm256_xor_si256((a), (b))
/* chi (§3.2.4): b0 ^ (~b1 & b2) */
#define CHI(b0, b1, b2) XOR((b0), _mm256_andnot_si256((b1), (b2)))

/* rho + pi for one output row: b[x] = ROL(a[src_x] ^ d[src_x mod 5], off_x),
 * then chi across the row. */
#define ROW(y, s0, o0, s1, o1, s2, o2, s3, o3, s4, o4)                 \
	do {                                                           \
		__m256i b0 = (o0) ? ROL(XOR(a[s0], d[(s0) % 5]), (o0) ? (o0) : 1) \
				  : XOR(a[s0], d[(s0) % 5]);           \
		__m256i b1 = ROL(XOR(a[s1], d[(s1) % 5]), o1);         \
		__m256i b2 = ROL(XOR(a[s2], d[(s2) % 5]), o2);         \
		__m256i b3 = ROL(XOR(a[s3], d[(s3) % 5]), o3);         \
		__m256i b4 = ROL(XOR(a[s4], d[(s4) % 5]), o4);         \
		e[5 * (y) + 0] = CHI(b0, b1, b2);                      \
		e[5 * (y) + 1] = CHI(b1, b2, b3);                      \
		e[5 * (y) + 2] = CHI(b2, b3, b4);                      \
		e[5 * (y) + 3] = CHI(b3, b4, b0);                      \
		e[5 * (y) + 4] = CHI(b4, b0, b1);                      \
	} while (0)

#define THETA_C(x) c[x] = XOR(XOR(XOR(a[x], a[(x) + 5]), XOR(a[(x) + 10], a[(x) + 15])), a[(x) + 20])
#define THETA_D(x) d[x] = XOR(c[((x) + 4) % 5], ROL(c[((x) + 1) % 5], 1))

static inline __attribute__((always_inline)) PQ_AVX2 void round4(__m256i e[25], const __m256i a[25],
								   uint64_t rc)
{
	const __m256i rot8 = _mm256_setr_epi8(7, 0, 1, 2, 3, 4, 5, 6, 15, 8, 9, 10, 11, 12, 13, 14,
					      7, 0, 1, 2, 3, 4, 5, 6, 15, 8, 9, 10, 11, 12, 13, 14);
	const __m256i rot56 = _mm256_setr_epi8(1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 8,
					       1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 8);
	__m256i c[5], d[5];

	/* theta (§3.2.1), written out: as loops, GCC -O2 keeps c and d in
	 * memory and the permutation runs 40% slower */
	THETA_C(0); THETA_C(1); THETA_C(2); THETA_C(3); THETA_C(4);
	THETA_D(0); THETA_D(1); THETA_D(2); THETA_D(3); THETA_D(4);

	ROW(0, 0, 0, 6, 44, 12, 43, 18, 21, 24, 14);
	ROW(1, 3, 28, 9, 20, 10, 3, 16, 45, 22, 61);
	ROW(2, 1, 1, 7, 6, 13, 25, 19, 8, 20, 18);
	ROW(3, 4, 27, 5, 36, 11, 10, 17, 15, 23, 56);
	ROW(4, 2, 62, 8, 55, 14, 39, 15, 41, 21, 2);
	e[0] = XOR(e[0], _mm256_set1_epi64x((long long)rc));
}

PQ_AVX2 void pq_keccakx4_f1600(pq_keccakx4_state *st)
{
	__m256i a[25], e[25];

	for (int i = 0; i < 25; i++)
		a[i] = _mm256_load_si256((const __m256i *)st->lanes[i]);
	for (int r = 0; r < 24; r += 2) {
		round4(e, a, pq_keccak_round_consts[r]);
		round4(a, e, pq_keccak_round_consts[r + 1]);
	}
	for (int i = 0; i < 25; i++)
		_mm256_store_si256((__m256i *)st->lanes[i], a[i]);
}

/* 4 x 4 transpose of 64-bit words: word j of r[k] becomes word k of r[j].
 * Turns lanes i..i+3 of four states into 32 bytes of each state and back. */
static inline __attribute__((always_inline)) PQ_AVX2 void transpose4(__m256i r[4])
{
	__m256i t0 = _mm256_unpacklo_epi64(r[0], r[1]), t1 = _mm256_unpackhi_epi64(r[0], r[1]);
	__m256i t2 = _mm256_unpacklo_epi64(r[2], r[3]), t3 = _mm256_unpackhi_epi64(r[2], r[3]);

	r[0] = _mm256_permute2x128_si256(t0, t2, 0x20);
	r[1] = _mm256_permute2x128_si256(t1, t3, 0x20);
	r[2] = _mm256_permute2x128_si256(t0, t2, 0x31);
	r[3] = _mm256_permute2x128_si256(t1, t3, 0x31);
}

/* Byte j of a state is byte j % 8 of lane j / 8 (little-endian, FIPS 202
 * §B.1, which x86 is). Each input is padded in a 200-byte block, the four
 * blocks then transposed into the state, 4 lanes at a time. */
PQ_AVX2 void pq_keccakx4_absorb_once(pq_keccakx4_state *st, unsigned int rate, const uint8_t *in[4],
				     size_t inlen, uint8_t domain)
{
	uint8_t block[4][200];
	unsigned int i = 0;

	memset(block, 0, sizeof(block));
	for (unsigned int s = 0; s < 4; s++) {
		memcpy(block[s], in[s], inlen);
		block[s][inlen] = domain;
		block[s][rate - 1] |= 0x80;
	}
	for (; i + 4 <= 25; i += 4) {
		__m256i r[4];
		for (unsigned int s = 0; s < 4; s++)
			r[s] = _mm256_loadu_si256((const __m256i *)&block[s][8 * i]);
		transpose4(r);
		for (unsigned int k = 0; k < 4; k++)
			_mm256_store_si256((__m256i *)st->lanes[i + k], r[k]);
	}
	for (unsigned int s = 0; s < 4; s++)
		memcpy(&st->lanes[i][s], &block[s][8 * i], 8);
	explicit_bzero(block, sizeof(block));
}

/* Transposed 4 lanes at a time; the lanes left over (rate / 8 is 21 or
 * 17) are copied one by one. */
PQ_AVX2 void pq_keccakx4_squeeze_block(pq_keccakx4_state *st, unsigned int rate, uint8_t *out[4])
{
	unsigned int i = 0;

	pq_keccakx4_f1600(st);
	for (; i + 4 <= rate / 8; i += 4) {
		__m256i r[4];
		for (unsigned int k = 0; k < 4; k++)
			r[k] = _mm256_load_si256((const __m256i *)st->lanes[i + k]);
		transpose4(r);
		for (unsigned int s = 0; s < 4; s++)
			_mm256_storeu_si256((__m256i *)&out[s][8 * i], r[s]);
	}
	for (; i < rate / 8; i++)
		for (unsigned int s = 0; s < 4; s++)
			memcpy(&out[s][8 * i], &st->lanes[i][s], 8);
}
#endif
