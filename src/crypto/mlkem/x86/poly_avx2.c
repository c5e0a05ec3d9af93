/*
 * poly_avx2.c - coefficient-wise sum and difference, ByteEncode12 /
 * ByteDecode12 (FIPS 203 Alg. 5/6), and Compress/Decompress (§4.2.1)
 * with ByteEncode/ByteDecode for d = 11, 5 and 1, 16 coefficients at a
 * time. The same formulas as compress.c and poly.c, so the same bytes and
 * values: Compress_d is the product and shift of pq_mlkem_compress_d*,
 * in 64-bit lanes.
 */
#include "crypto/mlkem/x86/avx2.h"

#if PQ_MLKEM_X86
#include <immintrin.h>
#include <string.h>

#define AVX2_INLINE static inline __attribute__((always_inline)) PQ_AVX2

AVX2_INLINE __m256i ld(const int16_t *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

AVX2_INLINE void st(int16_t *p, __m256i v)
{
	_mm256_storeu_si256((__m256i *)p, v);
}

PQ_AVX2 void pq_mlkem_avx2_add(int16_t r[MLKEM_N], const int16_t a[MLKEM_N], const int16_t b[MLKEM_N])
{
	for (unsigned int i = 0; i < MLKEM_N; i += 16)
		st(&r[i], _mm256_add_epi16(ld(&a[i]), ld(&b[i])));
}

PQ_AVX2 void pq_mlkem_avx2_sub(int16_t r[MLKEM_N], const int16_t a[MLKEM_N], const int16_t b[MLKEM_N])
{
	for (unsigned int i = 0; i < MLKEM_N; i += 16)
		st(&r[i], _mm256_sub_epi16(ld(&a[i]), ld(&b[i])));
}

/* pq_mlkem_to_unsigned: (-q, q) to [0, q) by adding q to negatives */
AVX2_INLINE __m256i to_unsigned(__m256i a)
{
	return _mm256_add_epi16(a, _mm256_and_si256(_mm256_srai_epi16(a, 15), _mm256_set1_epi16(MLKEM_Q)));
}

/* Alg. 5, d = 12: the pair (t0, t1) becomes t0 + 4096 t1 in a 32-bit lane
 * (vpmaddwd), whose three low bytes are the pair's three output bytes. */
PQ_AVX2 void pq_mlkem_avx2_tobytes(uint8_t r[MLKEM_POLYBYTES], const int16_t a[MLKEM_N])
{
	const __m256i pair = _mm256_set1_epi32(1 | (4096 << 16));
	const __m256i three_of_four = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
						       0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);

	for (unsigned int i = 0; i < MLKEM_N; i += 16) {
		__m256i v = _mm256_madd_epi16(to_unsigned(ld(&a[i])), pair);
		v = _mm256_shuffle_epi8(v, three_of_four);
		uint8_t *out = &r[i / 2 * 3];
		__m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
		uint32_t lo_tail = (uint32_t)_mm_extract_epi32(lo, 2), hi_tail = (uint32_t)_mm_extract_epi32(hi, 2);
		_mm_storel_epi64((__m128i *)out, lo);
		memcpy(out + 8, &lo_tail, 4);
		_mm_storel_epi64((__m128i *)(out + 12), hi);
		memcpy(out + 20, &hi_tail, 4);
	}
}

/* Alg. 6, d = 12, without the mod-q step (compress.h): bytes 0-15 and
 * 8-23 of each 24 go to the two lanes, vpshufb forms the 16-bit words
 * (b0 | b1 << 8) and (b1 | b2 << 8), odd words shift right by 4, and all
 * keep 12 bits. */
PQ_AVX2 void pq_mlkem_avx2_frombytes(int16_t r[MLKEM_N], const uint8_t a[MLKEM_POLYBYTES])
{
	const __m256i words = _mm256_setr_epi8(0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11,
					       4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11, 12, 13, 14, 14, 15);

	for (unsigned int i = 0; i < MLKEM_N; i += 16) {
		const uint8_t *in = &a[i / 2 * 3];
		__m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)in)),
						    _mm_loadu_si128((const __m128i *)(in + 8)), 1);
		v = _mm256_shuffle_epi8(v, words);
		v = _mm256_blend_epi16(v, _mm256_srli_epi16(v, 4), 0xaa);
		st(&r[i], _mm256_and_si256(v, _mm256_set1_epi16(0x0fff)));
	}
}

/* pq_mlkem_compress_d{1,5,11} on 8 values in [0, q) held in 32-bit
 * lanes: (((x << d) + 1664) * mult >> shift) mod 2^d, the product in 64
 * bits. Shift counts are passed in registers, so they need not be
 * compile-time constants at -O0. */
AVX2_INLINE __m256i compress_x8(__m256i x, unsigned int d, uint32_t mult, unsigned int shift)
{
	const __m256i m = _mm256_set1_epi64x(mult);
	const __m128i sh = _mm_cvtsi32_si128((int)shift);
	__m256i t = _mm256_add_epi32(_mm256_sll_epi32(x, _mm_cvtsi32_si128((int)d)), _mm256_set1_epi32(1664));
	__m256i even = _mm256_srl_epi64(_mm256_mul_epu32(t, m), sh);
	__m256i odd = _mm256_srl_epi64(_mm256_mul_epu32(_mm256_srli_epi64(t, 32), m), sh);

	return _mm256_and_si256(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa),
				_mm256_set1_epi32((1 << d) - 1));
}

AVX2_INLINE __m256i compress11_x8(__m256i x)
{
	return compress_x8(x, 11, 20642679, 36);
}

/* 16 coefficients in (-q, q) to their Compress_d values, in order, in
 * 16-bit lanes (vpackssdw does not saturate them: they are < 2^11). */
AVX2_INLINE __m256i compress_x16(__m256i a, unsigned int d, uint32_t mult, unsigned int shift)
{
	__m256i u = to_unsigned(a);
	__m256i c0 = compress_x8(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(u)), d, mult, shift);
	__m256i c1 = compress_x8(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(u, 1)), d, mult, shift);

	return _mm256_permute4x64_epi64(_mm256_packs_epi32(c0, c1), 0xd8);
}

/* Alg. 5, d = 11, on 8 values in 32-bit lanes: pairs to 22 bits per
 * 64-bit lane, two of those to 44 bits per 128-bit lane, the two lanes to
 * the 88 bits (11 bytes) of the group. Bit 11 j of the output starts
 * value j, as in compress.c. */
AVX2_INLINE void pack11_x8(uint8_t out[11], __m256i c)
{
	__m256i z = _mm256_or_si256(_mm256_and_si256(c, _mm256_set1_epi64x(0xffffffff)),
				    _mm256_slli_epi64(_mm256_srli_epi64(c, 32), 11));
	z = _mm256_sllv_epi64(z, _mm256_setr_epi64x(0, 22, 0, 22));
	z = _mm256_or_si256(z, _mm256_srli_si256(z, 8));
	uint64_t lo = (uint64_t)_mm256_extract_epi64(z, 0), hi = (uint64_t)_mm256_extract_epi64(z, 2);
	uint64_t first = lo | (hi << 44);
	uint32_t rest = (uint32_t)(hi >> 20);

	memcpy(out, &first, 8);
	out[8] = (uint8_t)rest;
	out[9] = (uint8_t)(rest >> 8);
	out[10] = (uint8_t)(rest >> 16);
}

PQ_AVX2 void pq_mlkem_avx2_compress_du(uint8_t r[MLKEM_POLY_DU_BYTES], const int16_t a[MLKEM_N])
{
	for (unsigned int i = 0; i < MLKEM_N; i += 16) {
		__m256i u = to_unsigned(ld(&a[i]));
		__m256i c0 = compress11_x8(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(u)));
		__m256i c1 = compress11_x8(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(u, 1)));
		pack11_x8(&r[i / 8 * 11], c0);
		pack11_x8(&r[i / 8 * 11 + 11], c1);
	}
}

/* Alg. 6, d = 11, then Decompress_11 (pq_mlkem_decompress_d) on one group
 * of 8 values from 11 bytes: value j is 11 bits from bit 11 j, i.e. from
 * byte 11j / 8 shifted right by 11j mod 8. The 11 bytes are copied to a
 * zero-padded 16-byte buffer so nothing past the input is read. */
AVX2_INLINE __m256i unpack11_x8(const uint8_t in[11])
{
	const __m256i bytes = _mm256_setr_epi8(0, 1, 2, -1, 1, 2, 3, -1, 2, 3, 4, -1, 4, 5, 6, -1,
					       5, 6, 7, -1, 6, 7, 8, -1, 8, 9, 10, -1, 9, 10, 11, -1);
	const __m256i shifts = _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5);
	uint8_t buf[16] = { 0 };

	memcpy(buf, in, 11);
	__m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)buf));
	v = _mm256_srlv_epi32(_mm256_shuffle_epi8(v, bytes), shifts);
	v = _mm256_and_si256(v, _mm256_set1_epi32(2047));
	/* (y q + 2^10) >> 11 */
	v = _mm256_add_epi32(_mm256_mullo_epi32(v, _mm256_set1_epi32(MLKEM_Q)), _mm256_set1_epi32(1024));
	return _mm256_srli_epi32(v, 11);
}

PQ_AVX2 void pq_mlkem_avx2_decompress_du(int16_t r[MLKEM_N], const uint8_t a[MLKEM_POLY_DU_BYTES])
{
	for (unsigned int i = 0; i < MLKEM_N; i += 16) {
		__m256i g0 = unpack11_x8(&a[i / 8 * 11]);
		__m256i g1 = unpack11_x8(&a[i / 8 * 11 + 11]);
		/* values <= q: no saturation; vpackssdw interleaves lanes, 0xd8 undoes it */
		st(&r[i], _mm256_permute4x64_epi64(_mm256_packs_epi32(g0, g1), 0xd8));
	}
}
/* Alg. 5, d = 5: eight 5-bit values c0..c7 (32-bit lanes) in 5 bytes,
 * value j from bit 5 j: pairs to 10 bits per 64-bit lane, those to 20
 * bits per 128-bit lane, the two lanes to 40 bits. */
AVX2_INLINE void pack5_x8(uint8_t out[5], __m256i c)
{
	__m256i z = _mm256_or_si256(_mm256_and_si256(c, _mm256_set1_epi64x(0xffffffff)),
				    _mm256_slli_epi64(_mm256_srli_epi64(c, 32), 5));
	z = _mm256_sllv_epi64(z, _mm256_setr_epi64x(0, 10, 0, 10));
	z = _mm256_or_si256(z, _mm256_srli_si256(z, 8));
	uint64_t bits = (uint64_t)_mm256_extract_epi64(z, 0) | ((uint64_t)_mm256_extract_epi64(z, 2) << 20);

	for (unsigned int k = 0; k < 5; k++)
		out[k] = (uint8_t)(bits >> (8 * k));
}

PQ_AVX2 void pq_mlkem_avx2_compress_dv(uint8_t r[MLKEM_POLY_DV_BYTES], const int16_t a[MLKEM_N])
{
	for (unsigned int i = 0; i < MLKEM_N; i += 16) {
		__m256i u = to_unsigned(ld(&a[i]));
		__m256i c0 = compress_x8(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(u)), 5, 1290168, 32);
		__m256i c1 = compress_x8(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(u, 1)), 5, 1290168, 32);
		pack5_x8(&r[i / 8 * 5], c0);
		pack5_x8(&r[i / 8 * 5 + 5], c1);
	}
}

/* Alg. 6, d = 5, then Decompress_5 on 8 values from 5 bytes: value j is
 * 5 bits from bit 5 j, i.e. from byte 5j / 8 shifted right by 5j mod 8;
 * the bytes are copied to a zero-padded buffer first (no over-read). */
AVX2_INLINE __m256i unpack5_x8(const uint8_t in[5])
{
	const __m256i bytes = _mm256_setr_epi8(0, 1, -1, -1, 0, 1, -1, -1, 1, 2, -1, -1, 1, 2, -1, -1,
					       2, 3, -1, -1, 3, 4, -1, -1, 3, 4, -1, -1, 4, 5, -1, -1);
	const __m256i shifts = _mm256_setr_epi32(0, 5, 2, 7, 4, 1, 6, 3);
	uint8_t buf[16] = { 0 };

	memcpy(buf, in, 5);
	__m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)buf));
	v = _mm256_srlv_epi32(_mm256_shuffle_epi8(v, bytes), shifts);
	v = _mm256_and_si256(v, _mm256_set1_epi32(31));
	/* (y q + 2^4) >> 5 */
	v = _mm256_add_epi32(_mm256_mullo_epi32(v, _mm256_set1_epi32(MLKEM_Q)), _mm256_set1_epi32(16));
	return _mm256_srli_epi32(v, 5);
}

PQ_AVX2 void pq_mlkem_avx2_decompress_dv(int16_t r[MLKEM_N], const uint8_t a[MLKEM_POLY_DV_BYTES])
{
	for (unsigned int i = 0; i < MLKEM_N; i += 16) {
		__m256i g0 = unpack5_x8(&a[i / 8 * 5]);
		__m256i g1 = unpack5_x8(&a[i / 8 * 5 + 5]);
		st(&r[i], _mm256_permute4x64_epi64(_mm256_packs_epi32(g0, g1), 0xd8));
	}
}

/* Decompress_1(ByteDecode_1(msg)): bit k of each little-endian 16-bit
 * word of msg selects 1665 = (q + 1) / 2 for coefficient k of 16; the
 * mask comes from a compare, not a branch (msg is secret). */
PQ_AVX2 void pq_mlkem_avx2_frommsg(int16_t r[MLKEM_N], const uint8_t msg[MLKEM_SYMBYTES])
{
	const __m256i bit = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
					      16384, (int16_t)0x8000);

	for (unsigned int i = 0; i < MLKEM_N; i += 16) {
		uint16_t word = (uint16_t)(msg[i / 8] | (msg[i / 8 + 1] << 8));
		__m256i set = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_set1_epi16((int16_t)word), bit), bit);
		st(&r[i], _mm256_and_si256(set, _mm256_set1_epi16((MLKEM_Q + 1) / 2)));
	}
}

/* ByteEncode_1(Compress_1(a)): Compress_1 in 16-bit lanes for 32
 * coefficients, packed to bytes in order, each bit moved to the top of
 * its byte, and vpmovmskb gathers the 32 bits. */
PQ_AVX2 void pq_mlkem_avx2_tomsg(uint8_t msg[MLKEM_SYMBYTES], const int16_t a[MLKEM_N])
{
	for (unsigned int i = 0; i < MLKEM_N; i += 32) {
		__m256i c0 = compress_x16(ld(&a[i]), 1, 1290168, 32);
		__m256i c1 = compress_x16(ld(&a[i + 16]), 1, 1290168, 32);
		__m256i b = _mm256_permute4x64_epi64(_mm256_packs_epi16(c0, c1), 0xd8);
		uint32_t bits = (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(b, 7));
		memcpy(&msg[i / 8], &bits, 4);
	}
}
#endif
