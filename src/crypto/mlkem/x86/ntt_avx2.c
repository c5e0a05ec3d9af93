/*
 * ntt_avx2.c - NTT (FIPS 203 Alg. 9), NTT^-1 (Alg. 10), Barrett reduction
 * and the Montgomery factor, 16 coefficients per instruction.
 *
 * Same arithmetic as poly.c, step for step: fqmul(a, z) is the high half
 * of a*z minus the high half of t*q with t = low half of a * (z q^-1)
 * (vpmulhw / vpmullw), which is exactly pq_mlkem_fqmul, and the layers run
 * in the same order on the same zetas. So every coefficient leaves with
 * the same int16 value as on the portable path.
 *
 * Layers with len >= 16 pair whole registers. For len = 8, 4 and 2 the
 * two registers of a 32-coefficient block are regrouped so that the two
 * halves of each butterfly sit in the same lane of two registers:
 * swap128 (len 8), swap64 (len 4), swap32 (len 2). Each regrouping is its
 * own inverse, so undoing them in reverse order restores natural order.
 */
#include "crypto/mlkem/x86/avx2.h"

#if PQ_MLKEM_X86
#include <immintrin.h>

#define QINV (-3327) /* q^-1 mod 2^16, signed */

struct zeta_vec {
	int16_t z[16];
	int16_t zq[16]; /* z * q^-1 mod 2^16 */
};

/* zetas[i] = 17^BitRev7(i) * 2^16 mod q, centred, as in poly.c; vectors
 * for the len 8/4/2 layers of each of the 8 blocks, forward and inverse. */
static int16_t zetas[128];
static struct zeta_vec fwd_tab[3][8] __attribute__((aligned(32)));
static struct zeta_vec inv_tab[3][8] __attribute__((aligned(32)));
/* gamma of pair i (poly.c, pair_gamma) in lane 2i + 1, 0 in lane 2i */
static struct zeta_vec gamma_tab[MLKEM_N / 16] __attribute__((aligned(32)));

static unsigned int bitrev7(unsigned int i)
{
	unsigned int r = 0;

	for (unsigned int b = 0; b < 7; b++)
		r |= ((i >> b) & 1u) << (6 - b);
	return r;
}

static void set_vec(struct zeta_vec *v, unsigned int lane, int16_t z)
{
	v->z[lane] = z;
	v->zq[lane] = (int16_t)(z * QINV);
}

/* Lane l of a block belongs to butterfly group l / 8 (len 8), l / 4
 * (len 4) or l / 2 (len 2) after the regrouping described above. */
void pq_mlkem_avx2_init_ntt_tables(void)
{
	for (unsigned int i = 0; i < 128; i++) {
		uint32_t z = 2285; /* 2^16 mod q */
		for (unsigned int e = 0; e < bitrev7(i); e++)
			z = z * 17 % MLKEM_Q;
		zetas[i] = (int16_t)(z > MLKEM_Q / 2 ? (int32_t)z - MLKEM_Q : (int32_t)z);
	}
	for (unsigned int b = 0; b < 8; b++) {
		for (unsigned int l = 0; l < 16; l++) {
			set_vec(&fwd_tab[0][b], l, zetas[16 + 2 * b + l / 8]);
			set_vec(&fwd_tab[1][b], l, zetas[32 + 4 * b + l / 4]);
			set_vec(&fwd_tab[2][b], l, zetas[64 + 8 * b + l / 2]);
			set_vec(&inv_tab[0][b], l, zetas[31 - (2 * b + l / 8)]);
			set_vec(&inv_tab[1][b], l, zetas[63 - (4 * b + l / 4)]);
			set_vec(&inv_tab[2][b], l, zetas[127 - (8 * b + l / 2)]);
		}
	}
	for (unsigned int l = 0; l < MLKEM_N; l++) {
		unsigned int pair = l / 2;
		int16_t zeta = zetas[64 + pair / 2];
		int16_t gamma = (pair & 1) ? (int16_t)-zeta : zeta;
		set_vec(&gamma_tab[l / 16], l % 16, (l & 1) ? gamma : 0);
	}
}

#define AVX2_INLINE static inline __attribute__((always_inline)) PQ_AVX2

AVX2_INLINE __m256i fqmul(__m256i a, __m256i z, __m256i zq)
{
	__m256i hi = _mm256_mulhi_epi16(a, z);
	__m256i t = _mm256_mullo_epi16(a, zq);

	return _mm256_sub_epi16(hi, _mm256_mulhi_epi16(t, _mm256_set1_epi16(MLKEM_Q)));
}

AVX2_INLINE __m256i barrett(__m256i a)
{
	__m256i t = _mm256_mulhi_epi16(a, _mm256_set1_epi16(20159));

	t = _mm256_srai_epi16(_mm256_add_epi16(t, _mm256_set1_epi16(512)), 10);
	return _mm256_sub_epi16(a, _mm256_mullo_epi16(t, _mm256_set1_epi16(MLKEM_Q)));
}

/* Cooley-Tukey (Alg. 9 lines 8-10) */
AVX2_INLINE void ct_bf(__m256i *a, __m256i *b, __m256i z, __m256i zq)
{
	__m256i t = fqmul(*b, z, zq);

	*b = _mm256_sub_epi16(*a, t);
	*a = _mm256_add_epi16(*a, t);
}

/* Gentleman-Sande (Alg. 10 lines 8-10) */
AVX2_INLINE void gs_bf(__m256i *a, __m256i *b, __m256i z, __m256i zq)
{
	__m256i t = *a;

	*a = _mm256_add_epi16(t, *b);
	*b = fqmul(_mm256_sub_epi16(*b, t), z, zq);
}

AVX2_INLINE void swap128(__m256i *x, __m256i *y)
{
	__m256i t = _mm256_permute2x128_si256(*x, *y, 0x20);

	*y = _mm256_permute2x128_si256(*x, *y, 0x31);
	*x = t;
}

AVX2_INLINE void swap64(__m256i *x, __m256i *y)
{
	__m256i t = _mm256_unpacklo_epi64(*x, *y);

	*y = _mm256_unpackhi_epi64(*x, *y);
	*x = t;
}

AVX2_INLINE void swap32(__m256i *x, __m256i *y)
{
	__m256i t = _mm256_blend_epi32(*x, _mm256_slli_epi64(*y, 32), 0xaa);

	*y = _mm256_blend_epi32(_mm256_srli_epi64(*x, 32), *y, 0xaa);
	*x = t;
}

AVX2_INLINE __m256i ld(const int16_t *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

AVX2_INLINE void st(int16_t *p, __m256i v)
{
	_mm256_storeu_si256((__m256i *)p, v);
}

AVX2_INLINE __m256i bcast(int16_t z)
{
	return _mm256_set1_epi16(z);
}

AVX2_INLINE __m256i bcast_q(int16_t z)
{
	return _mm256_set1_epi16((int16_t)(z * QINV));
}

/* One forward layer with len >= 16 (whole registers). */
AVX2_INLINE void ntt_layer_wide(int16_t f[MLKEM_N], unsigned int len, unsigned int k)
{
	for (unsigned int start = 0; start < MLKEM_N; start += 2 * len, k++) {
		__m256i z = bcast(zetas[k]), zq = bcast_q(zetas[k]);
		for (unsigned int j = start; j < start + len; j += 16) {
			__m256i a = ld(&f[j]), b = ld(&f[j + len]);
			ct_bf(&a, &b, z, zq);
			st(&f[j], a);
			st(&f[j + len], b);
		}
	}
}

AVX2_INLINE void invntt_layer_wide(int16_t f[MLKEM_N], unsigned int len, unsigned int k)
{
	for (unsigned int start = 0; start < MLKEM_N; start += 2 * len, k--) {
		__m256i z = bcast(zetas[k]), zq = bcast_q(zetas[k]);
		for (unsigned int j = start; j < start + len; j += 16) {
			__m256i a = ld(&f[j]), b = ld(&f[j + len]);
			gs_bf(&a, &b, z, zq);
			st(&f[j], a);
			st(&f[j + len], b);
		}
	}
}

AVX2_INLINE void ct_tab(__m256i *a, __m256i *b, const struct zeta_vec *v)
{
	ct_bf(a, b, ld(v->z), ld(v->zq));
}

AVX2_INLINE void gs_tab(__m256i *a, __m256i *b, const struct zeta_vec *v)
{
	gs_bf(a, b, ld(v->z), ld(v->zq));
}

/* FIPS 203 Alg. 9: layers 128, 64, 32 over the polynomial, then 16, 8, 4,
 * 2 inside each 32-coefficient block. */
PQ_AVX2 void pq_mlkem_avx2_ntt(int16_t f[MLKEM_N])
{
	ntt_layer_wide(f, 128, 1);
	ntt_layer_wide(f, 64, 2);
	ntt_layer_wide(f, 32, 4);
	for (unsigned int b = 0; b < 8; b++) {
		__m256i x = ld(&f[32 * b]), y = ld(&f[32 * b + 16]);
		ct_bf(&x, &y, bcast(zetas[8 + b]), bcast_q(zetas[8 + b]));
		swap128(&x, &y);
		ct_tab(&x, &y, &fwd_tab[0][b]);
		swap64(&x, &y);
		ct_tab(&x, &y, &fwd_tab[1][b]);
		swap32(&x, &y);
		ct_tab(&x, &y, &fwd_tab[2][b]);
		swap32(&x, &y);
		swap64(&x, &y);
		swap128(&x, &y);
		st(&f[32 * b], x);
		st(&f[32 * b + 16], y);
	}
}

/* FIPS 203 Alg. 10 in poly.c's order: layers 2, 4, 8, a Barrett pass,
 * then 16 inside each block; 32, 64, 128 over the polynomial; then the
 * factor 1441 = R^2 / 128 mod q. Barrett is per coefficient, so doing it
 * block by block is the same as poly.c's pass over the whole. */
PQ_AVX2 void pq_mlkem_avx2_invntt_tomont(int16_t f[MLKEM_N])
{
	for (unsigned int b = 0; b < 8; b++) {
		__m256i x = ld(&f[32 * b]), y = ld(&f[32 * b + 16]);
		swap128(&x, &y);
		swap64(&x, &y);
		swap32(&x, &y);
		gs_tab(&x, &y, &inv_tab[2][b]);
		swap32(&x, &y);
		gs_tab(&x, &y, &inv_tab[1][b]);
		swap64(&x, &y);
		gs_tab(&x, &y, &inv_tab[0][b]);
		swap128(&x, &y);
		x = barrett(x);
		y = barrett(y);
		gs_bf(&x, &y, bcast(zetas[15 - b]), bcast_q(zetas[15 - b]));
		st(&f[32 * b], x);
		st(&f[32 * b + 16], y);
	}
	invntt_layer_wide(f, 32, 7);
	invntt_layer_wide(f, 64, 3);
	invntt_layer_wide(f, 128, 1);
	for (unsigned int j = 0; j < MLKEM_N; j += 16)
		st(&f[j], fqmul(ld(&f[j]), bcast(1441), bcast_q(1441)));
}

PQ_AVX2 void pq_mlkem_avx2_reduce(int16_t f[MLKEM_N])
{
	for (unsigned int j = 0; j < MLKEM_N; j += 16)
		st(&f[j], barrett(ld(&f[j])));
}

/* 1353 = R^2 mod q, as in poly.c */
PQ_AVX2 void pq_mlkem_avx2_tomont(int16_t f[MLKEM_N])
{
	for (unsigned int j = 0; j < MLKEM_N; j += 16)
		st(&f[j], fqmul(ld(&f[j]), bcast(1353), bcast_q(1353)));
}

/* cache[i] = fqmul(b[2i + 1], gamma_i) as poly.c: the products in the odd
 * lanes, sign-extended to 32 bits, packed back to 16 (no saturation:
 * |value| < q) and put back in order after vpackssdw's lane interleave. */
PQ_AVX2 void pq_mlkem_avx2_mulcache_compute(int16_t cache[MLKEM_N / 2], const int16_t b[MLKEM_N])
{
	for (unsigned int m = 0; m < MLKEM_N / 16; m += 2) {
		__m256i r0 = fqmul(ld(&b[16 * m]), ld(gamma_tab[m].z), ld(gamma_tab[m].zq));
		__m256i r1 = fqmul(ld(&b[16 * m + 16]), ld(gamma_tab[m + 1].z), ld(gamma_tab[m + 1].zq));
		__m256i packed = _mm256_packs_epi32(_mm256_srai_epi32(r0, 16), _mm256_srai_epi32(r1, 16));
		st(&cache[8 * m], _mm256_permute4x64_epi64(packed, 0xd8));
	}
}

/*
 * sum_i a[i] o b[i] * R^-1 (polyvec.h), Alg. 11/12 as poly.c does them:
 * 32-bit sums of products over the vector, one Montgomery reduction at
 * the end. vpmaddwd on a pair (a0, a1) gives a0 b0 + a1 (b1 gamma) with
 * (b0, b1 gamma) and a0 b1 + a1 b0 with (b1, b0): even and odd outputs.
 * The reduction (a - t q) >> 16 is hi16(a) - hi16(t q) because a and t q
 * agree in their low 16 bits (poly.h, pq_mlkem_fqmul).
 */
PQ_AVX2 void pq_mlkem_avx2_polyvec_dot(pq_mlkem_poly *r, const pq_mlkem_polyvec *a, const pq_mlkem_polyvec *b,
				       const pq_mlkem_polyvec_mulcache *b_cache)
{
	for (unsigned int m = 0; m < MLKEM_N; m += 16) {
		__m256i even = _mm256_setzero_si256(), odd = _mm256_setzero_si256();
		for (unsigned int i = 0; i < MLKEM_K; i++) {
			__m256i av = ld(&a->vec[i].coeffs[m]);
			__m256i bv = ld(&b->vec[i].coeffs[m]);
			__m256i cache = _mm256_cvtepi16_epi32(
				_mm_loadu_si128((const __m128i *)&b_cache->vec[i].coeffs[m / 2]));
			__m256i b_even = _mm256_blend_epi16(bv, _mm256_slli_epi32(cache, 16), 0xaa);
			__m256i b_odd = _mm256_or_si256(_mm256_slli_epi32(bv, 16), _mm256_srli_epi32(bv, 16));
			even = _mm256_add_epi32(even, _mm256_madd_epi16(av, b_even));
			odd = _mm256_add_epi32(odd, _mm256_madd_epi16(av, b_odd));
		}
		__m256i lo = _mm256_blend_epi16(even, _mm256_slli_epi32(odd, 16), 0xaa);
		__m256i hi = _mm256_blend_epi16(_mm256_srli_epi32(even, 16), odd, 0xaa);
		__m256i t = _mm256_mullo_epi16(lo, _mm256_set1_epi16(QINV));
		st(&r->coeffs[m], _mm256_sub_epi16(hi, _mm256_mulhi_epi16(t, _mm256_set1_epi16(MLKEM_Q))));
	}
}
#endif
