/*
 * indcpa.c - K-PKE KeyGen, Encrypt, Decrypt (FIPS 203 Alg. 13-15).
 *
 * Differences from the spec's text, none visible in the output: A_hat o
 * s_hat comes out of basemul times R^-1, so KeyGen multiplies by R
 * (tomont) before adding e_hat; NTT^-1 carries a factor R that cancels the
 * R^-1 of basemul in Encrypt and Decrypt.
 */
#include "crypto/mlkem/indcpa.h"

#include <string.h>

#include "crypto/mlkem/compress.h"
#include "crypto/mlkem/fips202.h"
#include "crypto/mlkem/polyvec.h"
#include "crypto/mlkem/sampling.h"
#include "crypto/mlkem/verify.h"

/* Secrets of KeyGen, kept together so one call wipes them. */
struct keygen_secrets {
	uint8_t rho_sigma[2 * MLKEM_SYMBYTES];
	uint8_t g_input[MLKEM_SYMBYTES + 1];
	pq_mlkem_polyvec s, e;
	pq_mlkem_polyvec_mulcache s_cache;
};

void pq_mlkem_indcpa_keypair(uint8_t ek[MLKEM_PKE_EK_BYTES], uint8_t dk[MLKEM_PKE_DK_BYTES],
			     const uint8_t d[MLKEM_SYMBYTES])
{
	struct keygen_secrets sec;
	pq_mlkem_matrix a;
	pq_mlkem_polyvec t;
	const uint8_t *rho, *sigma;

	/* line 1: (rho, sigma) = G(d || k) */
	memcpy(sec.g_input, d, MLKEM_SYMBYTES);
	sec.g_input[MLKEM_SYMBYTES] = MLKEM_K;
	pq_sha3_512(sec.rho_sigma, sec.g_input, sizeof(sec.g_input));
	rho = sec.rho_sigma;
	sigma = sec.rho_sigma + MLKEM_SYMBYTES;

	pq_mlkem_matrix_expand(&a, rho, 0);                   /* lines 3-7 */
	pq_mlkem_polyvec_noise(&sec.s, sigma, 0);             /* lines 8-11 */
	pq_mlkem_polyvec_noise(&sec.e, sigma, MLKEM_K);       /* lines 12-15 */
	pq_mlkem_polyvec_ntt(&sec.s);                          /* line 16 */
	pq_mlkem_polyvec_ntt(&sec.e);                          /* line 17 */

	pq_mlkem_polyvec_mulcache_compute(&sec.s_cache, &sec.s);
	for (unsigned int i = 0; i < MLKEM_K; i++) {          /* line 18 */
		pq_mlkem_polyvec_dot(&t.vec[i], &a.row[i], &sec.s, &sec.s_cache);
		pq_mlkem_poly_tomont(&t.vec[i]);
	}
	pq_mlkem_polyvec_add(&t, &t, &sec.e);
	pq_mlkem_polyvec_reduce(&t);

	pq_mlkem_polyvec_tobytes(ek, &t);                      /* line 19 */
	memcpy(ek + MLKEM_POLYVECBYTES, rho, MLKEM_SYMBYTES);
	pq_mlkem_polyvec_tobytes(dk, &sec.s);                  /* line 20 */

	pq_mlkem_wipe(&sec, sizeof(sec));
	pq_mlkem_wipe(&t, sizeof(t)); /* t_hat - e_hat would give A s */
}

/* Secrets of Encrypt: y, e1, e2 and the message polynomial. */
struct enc_secrets {
	pq_mlkem_polyvec y, e1, u;
	pq_mlkem_polyvec_mulcache y_cache;
	pq_mlkem_poly e2, mu, v;
};

void pq_mlkem_indcpa_enc(uint8_t ct[MLKEM_CT_BYTES], const uint8_t ek[MLKEM_PKE_EK_BYTES],
			 const uint8_t m[MLKEM_SYMBYTES], const uint8_t r[MLKEM_SYMBYTES])
{
	struct enc_secrets sec;
	pq_mlkem_matrix at;
	pq_mlkem_polyvec t;
	const uint8_t *rho = ek + MLKEM_POLYVECBYTES;

	pq_mlkem_polyvec_frombytes(&t, ek);                    /* line 2 */
	pq_mlkem_matrix_expand(&at, rho, 1);                   /* lines 4-8, transposed */
	pq_mlkem_polyvec_noise(&sec.y, r, 0);                  /* lines 9-12 */
	pq_mlkem_polyvec_noise(&sec.e1, r, MLKEM_K);           /* lines 13-16 */
	pq_mlkem_sample_noise(&sec.e2, r, 2 * MLKEM_K);        /* line 17 */
	pq_mlkem_polyvec_ntt(&sec.y);                          /* line 18 */
	pq_mlkem_polyvec_mulcache_compute(&sec.y_cache, &sec.y);

	for (unsigned int i = 0; i < MLKEM_K; i++)            /* line 19 */
		pq_mlkem_polyvec_dot(&sec.u.vec[i], &at.row[i], &sec.y, &sec.y_cache);
	pq_mlkem_polyvec_invntt_tomont(&sec.u);
	pq_mlkem_polyvec_add(&sec.u, &sec.u, &sec.e1);
	pq_mlkem_polyvec_reduce(&sec.u);

	pq_mlkem_poly_frommsg(&sec.mu, m);                     /* line 20 */
	pq_mlkem_polyvec_dot(&sec.v, &t, &sec.y, &sec.y_cache);           /* line 21 */
	pq_mlkem_poly_invntt_tomont(&sec.v);
	pq_mlkem_poly_add(&sec.v, &sec.v, &sec.e2);
	pq_mlkem_poly_add(&sec.v, &sec.v, &sec.mu);
	pq_mlkem_poly_reduce(&sec.v);

	pq_mlkem_polyvec_compress_du(ct, &sec.u);              /* line 22 */
	pq_mlkem_poly_compress_dv(ct + MLKEM_POLYVEC_DU_BYTES, &sec.v); /* line 23 */

	pq_mlkem_wipe(&sec, sizeof(sec));
}

void pq_mlkem_indcpa_dec(uint8_t m[MLKEM_SYMBYTES], const uint8_t dk[MLKEM_PKE_DK_BYTES],
			 const uint8_t ct[MLKEM_CT_BYTES])
{
	pq_mlkem_polyvec u, s;
	pq_mlkem_polyvec_mulcache u_cache;
	pq_mlkem_poly v, w;

	pq_mlkem_polyvec_decompress_du(&u, ct);                          /* line 3 */
	pq_mlkem_poly_decompress_dv(&v, ct + MLKEM_POLYVEC_DU_BYTES);    /* line 4 */
	pq_mlkem_polyvec_frombytes(&s, dk);                              /* line 5 */

	pq_mlkem_polyvec_ntt(&u);                                        /* line 6 */
	pq_mlkem_polyvec_mulcache_compute(&u_cache, &u);
	pq_mlkem_polyvec_dot(&w, &s, &u, &u_cache);
	pq_mlkem_poly_invntt_tomont(&w);
	pq_mlkem_poly_sub(&w, &v, &w);
	pq_mlkem_poly_reduce(&w);
	pq_mlkem_poly_tomsg(m, &w);                                      /* line 7 */

	pq_mlkem_wipe(&s, sizeof(s));
	pq_mlkem_wipe(&w, sizeof(w));
	pq_mlkem_wipe(&v, sizeof(v));
	pq_mlkem_wipe(&u, sizeof(u));
}
