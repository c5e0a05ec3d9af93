/*
 * poly.c - arithmetic on one polynomial: NTT (FIPS 203 Alg. 9), NTT^-1
 * (Alg. 10) and MultiplyNTTs/BaseCaseMultiply (Alg. 11/12).
 *
 * Deliberate differences from the spec's presentation: products use
 * Montgomery reduction, so the zeta table holds zeta * 2^16 mod q, and
 * NTT^-1 folds its final 1/128 scaling together with a factor R = 2^16
 * that cancels the R^-1 left by the reduction after basemul. Basemul
 * accumulates unreduced 32-bit products over a whole vector and reduces
 * once, with b1 * gamma precomputed per vector (the "mulcache" of
 * mlkem-native). None of these change results.
 */
#include "crypto/mlkem/poly.h"

#include "crypto/mlkem/x86/avx2.h"

/* zetas[i] = 17^BitRev7(i) * 2^16 mod q, centred; zetas[0] is unused. */
static const int16_t zetas[128] = {
	-1044, -758, -359, -1517, 1493, 1422, 287, 202, -171, 622, 1577, 182, 962,
	-1202, -1474, 1468, 573, -1325, 264, 383, -829, 1458, -1602, -130, -681,
	1017, 732, 608, -1542, 411, -205, -1571, 1223, 652, -552, 1015, -1293, 1491,
	-282, -1544, 516, -8, -320, -666, -1618, -1162, 126, 1469, -853, -90, -271,
	830, 107, -1421, -247, -951, -398, 961, -1508, -725, 448, -1065, 677, -1275,
	-1103, 430, 555, 843, -1251, 871, 1550, 105, 422, 587, 177, -235, -291,
	-460, 1574, 1653, -246, 778, 1159, -147, -777, 1483, -602, 1119, -1590, 644,
	-872, 349, 418, 329, -156, -75, 817, 1097, 603, 610, 1322, -1285, -1465,
	384, -1215, -136, 1218, -1335, -874, 220, -1187, -1659, -1185, -1530,
	-1278, 794, -1510, -854, -870, 478, -108, -308, 996, 991, 958, -1460, 1522,
	1628,
};

/* One layer of FIPS 203 Alg. 9 (Cooley-Tukey butterflies). Inlined with a
 * constant len so the inner loop has a fixed trip count the compiler can
 * vectorise; k is the first zeta index of the layer. */
static inline __attribute__((always_inline)) void ntt_layer(int16_t f[MLKEM_N], unsigned int len,
							    unsigned int k)
{
	for (unsigned int start = 0; start < MLKEM_N; start += 2 * len) {
		int16_t zeta = zetas[k++];
		for (unsigned int j = 0; j < len; j++) {
			int16_t t = pq_mlkem_fqmul(zeta, f[start + j + len]);
			f[start + j + len] = (int16_t)(f[start + j] - t);
			f[start + j] = (int16_t)(f[start + j] + t);
		}
	}
}

/* FIPS 203 Alg. 9, len = 128 .. 2. Each layer adds at most q to a
 * coefficient's bound, so 7 layers on |f| < q stay below 8q. */
void pq_mlkem_poly_ntt(pq_mlkem_poly *p)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_ntt(p->coeffs));
	ntt_layer(p->coeffs, 128, 1);
	ntt_layer(p->coeffs, 64, 2);
	ntt_layer(p->coeffs, 32, 4);
	ntt_layer(p->coeffs, 16, 8);
	ntt_layer(p->coeffs, 8, 16);
	ntt_layer(p->coeffs, 4, 32);
	ntt_layer(p->coeffs, 2, 64);
}

/* One layer of FIPS 203 Alg. 10 (Gentleman-Sande butterflies), without
 * reduction; k is the layer's first zeta index, counting down. */
static inline __attribute__((always_inline)) void invntt_layer(int16_t f[MLKEM_N], unsigned int len,
							       unsigned int k)
{
	for (unsigned int start = 0; start < MLKEM_N; start += 2 * len) {
		int16_t zeta = zetas[k--];
		for (unsigned int j = 0; j < len; j++) {
			int16_t t = f[start + j];
			f[start + j] = (int16_t)(t + f[start + j + len]);
			f[start + j + len] = pq_mlkem_fqmul(zeta, (int16_t)(f[start + j + len] - t));
		}
	}
}

/* FIPS 203 Alg. 10, len = 2 .. 128. A sum at most doubles its bound per
 * layer and a product is always below q, so from |f| < q three layers
 * stay below 8q < 2^15; one Barrett pass (to <= q/2) then lets the last
 * four layers end below 8q again. The final factor 1441 = R^2 / 128 mod q
 * gives the 1/128 of Alg. 10 times R (see file comment). */
void pq_mlkem_poly_invntt_tomont(pq_mlkem_poly *p)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_invntt_tomont(p->coeffs));
	invntt_layer(p->coeffs, 2, 127);
	invntt_layer(p->coeffs, 4, 63);
	invntt_layer(p->coeffs, 8, 31);
	pq_mlkem_poly_reduce(p);
	invntt_layer(p->coeffs, 16, 15);
	invntt_layer(p->coeffs, 32, 7);
	invntt_layer(p->coeffs, 64, 3);
	invntt_layer(p->coeffs, 128, 1);
	for (unsigned int j = 0; j < MLKEM_N; j++)
		p->coeffs[j] = pq_mlkem_fqmul(p->coeffs[j], 1441);
}

/* gamma for pair i of Alg. 11 in Montgomery form: pair 2m has gamma =
 * 17^(2 BitRev7(2m) + 1) = 17^BitRev7(64 + m), i.e. zetas[64 + m]; pair
 * 2m + 1 has gamma * 17^128 = -gamma. */
static int16_t pair_gamma(unsigned int i)
{
	int16_t zeta = zetas[64 + i / 2];

	return (i & 1) ? (int16_t)-zeta : zeta;
}

void pq_mlkem_poly_mulcache_compute(pq_mlkem_poly_mulcache *c, const pq_mlkem_poly *b)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_mulcache_compute(c->coeffs, b->coeffs));
	for (unsigned int i = 0; i < MLKEM_N / 2; i++)
		c->coeffs[i] = pq_mlkem_fqmul(b->coeffs[2 * i + 1], pair_gamma(i));
}

/* FIPS 203 Alg. 11/12 without the reduction: pair i of a times pair i of
 * b modulo X^2 - gamma_i, i.e. c0 = a0 b0 + a1 b1 gamma, c1 = a0 b1 +
 * a1 b0, added to 32-bit accumulators; b1 gamma comes from the cache. */
void pq_mlkem_poly_basemul_acc(int32_t acc[MLKEM_N], const pq_mlkem_poly *a, const pq_mlkem_poly *b,
			       const pq_mlkem_poly_mulcache *b_cache)
{
	for (unsigned int i = 0; i < MLKEM_N / 2; i++) {
		int32_t a0 = a->coeffs[2 * i], a1 = a->coeffs[2 * i + 1];
		int32_t b0 = b->coeffs[2 * i], b1 = b->coeffs[2 * i + 1];
		acc[2 * i] += a0 * b0 + a1 * b_cache->coeffs[i];
		acc[2 * i + 1] += a0 * b1 + a1 * b0;
	}
}

void pq_mlkem_poly_tomont(pq_mlkem_poly *r)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_tomont(r->coeffs));
	/* 1353 = R^2 mod q, so fqmul gives r * R */
	for (unsigned int i = 0; i < MLKEM_N; i++)
		r->coeffs[i] = pq_mlkem_fqmul(r->coeffs[i], 1353);
}

void pq_mlkem_poly_reduce(pq_mlkem_poly *r)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_reduce(r->coeffs));
	for (unsigned int i = 0; i < MLKEM_N; i++)
		r->coeffs[i] = pq_mlkem_barrett_reduce(r->coeffs[i]);
}

void pq_mlkem_poly_add(pq_mlkem_poly *r, const pq_mlkem_poly *a, const pq_mlkem_poly *b)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_add(r->coeffs, a->coeffs, b->coeffs));
	for (unsigned int i = 0; i < MLKEM_N; i++)
		r->coeffs[i] = (int16_t)(a->coeffs[i] + b->coeffs[i]);
}

void pq_mlkem_poly_sub(pq_mlkem_poly *r, const pq_mlkem_poly *a, const pq_mlkem_poly *b)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_sub(r->coeffs, a->coeffs, b->coeffs));
	for (unsigned int i = 0; i < MLKEM_N; i++)
		r->coeffs[i] = (int16_t)(a->coeffs[i] - b->coeffs[i]);
}
