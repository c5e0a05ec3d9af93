/*
 * polyvec.c - vector and matrix helpers over pq_mlkem_poly.
 */
#include "crypto/mlkem/polyvec.h"

#include "crypto/mlkem/compress.h"
#include "crypto/mlkem/sampling.h"
#include "crypto/mlkem/verify.h"
#include "crypto/mlkem/x86/avx2.h"

void pq_mlkem_polyvec_ntt(pq_mlkem_polyvec *v)
{
	for (unsigned int i = 0; i < MLKEM_K; i++) {
		pq_mlkem_poly_ntt(&v->vec[i]);
		pq_mlkem_poly_reduce(&v->vec[i]);
	}
}

void pq_mlkem_polyvec_invntt_tomont(pq_mlkem_polyvec *v)
{
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_invntt_tomont(&v->vec[i]);
}

void pq_mlkem_polyvec_reduce(pq_mlkem_polyvec *v)
{
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_reduce(&v->vec[i]);
}

void pq_mlkem_polyvec_add(pq_mlkem_polyvec *r, const pq_mlkem_polyvec *a, const pq_mlkem_polyvec *b)
{
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_add(&r->vec[i], &a->vec[i], &b->vec[i]);
}

void pq_mlkem_polyvec_mulcache_compute(pq_mlkem_polyvec_mulcache *c, const pq_mlkem_polyvec *b)
{
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_mulcache_compute(&c->vec[i], &b->vec[i]);
}

/* One Montgomery reduction per coefficient for the whole sum; the bound
 * is argued at pq_mlkem_poly_basemul_acc. */
void pq_mlkem_polyvec_dot(pq_mlkem_poly *r, const pq_mlkem_polyvec *a, const pq_mlkem_polyvec *b,
			  const pq_mlkem_polyvec_mulcache *b_cache)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_polyvec_dot(r, a, b, b_cache));
	int32_t acc[MLKEM_N] = { 0 };

	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_basemul_acc(acc, &a->vec[i], &b->vec[i], &b_cache->vec[i]);
	for (unsigned int j = 0; j < MLKEM_N; j++)
		r->coeffs[j] = pq_mlkem_montgomery_reduce(acc[j]);
	pq_mlkem_wipe(acc, sizeof(acc));
}

void pq_mlkem_polyvec_tobytes(uint8_t r[MLKEM_POLYVECBYTES], const pq_mlkem_polyvec *v)
{
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_tobytes(&r[i * MLKEM_POLYBYTES], &v->vec[i]);
}

void pq_mlkem_polyvec_frombytes(pq_mlkem_polyvec *v, const uint8_t a[MLKEM_POLYVECBYTES])
{
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_frombytes(&v->vec[i], &a[i * MLKEM_POLYBYTES]);
}

void pq_mlkem_polyvec_compress_du(uint8_t r[MLKEM_POLYVEC_DU_BYTES], const pq_mlkem_polyvec *v)
{
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_compress_du(&r[i * MLKEM_POLY_DU_BYTES], &v->vec[i]);
}

void pq_mlkem_polyvec_decompress_du(pq_mlkem_polyvec *v, const uint8_t a[MLKEM_POLYVEC_DU_BYTES])
{
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_poly_decompress_du(&v->vec[i], &a[i * MLKEM_POLY_DU_BYTES]);
}

void pq_mlkem_polyvec_noise(pq_mlkem_polyvec *r, const uint8_t seed[MLKEM_SYMBYTES], uint8_t nonce0)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_polyvec_noise(r, seed, nonce0));
	for (unsigned int i = 0; i < MLKEM_K; i++)
		pq_mlkem_sample_noise(&r->vec[i], seed, (uint8_t)(nonce0 + i));
}

void pq_mlkem_matrix_expand(pq_mlkem_matrix *a, const uint8_t rho[MLKEM_SYMBYTES], int transposed)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_matrix_expand(a, rho, transposed));
	for (unsigned int i = 0; i < MLKEM_K; i++) {
		for (unsigned int j = 0; j < MLKEM_K; j++) {
			if (transposed)
				pq_mlkem_sample_ntt(&a->row[i].vec[j], rho, (uint8_t)i, (uint8_t)j);
			else
				pq_mlkem_sample_ntt(&a->row[i].vec[j], rho, (uint8_t)j, (uint8_t)i);
		}
	}
}
