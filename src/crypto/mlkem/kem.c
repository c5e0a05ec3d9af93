/*
 * kem.c - ML-KEM-1024: the FO transform over K-PKE (FIPS 203 §6,
 * Alg. 16-18), the randomized wrappers (Alg. 19-21) and the input checks
 * of §7.2 (encapsulation key) and §7.3 (decapsulation key). Implements
 * the API in crypto/mlkem.h.
 *
 * Differences from the spec's text: Alg. 18 line 9-10 ("if c != c' then
 * K' = K_bar") is a constant-time compare plus conditional move; Alg. 19/20
 * take their randomness from getrandom(2); the checks of §7.2/§7.3 run
 * inside encaps/decaps on every call, not as a separate step.
 */
#include "crypto/mlkem.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "crypto/mlkem/compress.h"
#include "crypto/mlkem/fips202.h"
#include "crypto/mlkem/indcpa.h"
#include "crypto/mlkem/params.h"
#include "crypto/mlkem/verify.h"
#include "util/err.h"

_Static_assert(PQ_MLKEM1024_EK_LEN == MLKEM_EK_BYTES, "ek length");
_Static_assert(PQ_MLKEM1024_DK_LEN == MLKEM_DK_BYTES, "dk length");
_Static_assert(PQ_MLKEM1024_CT_LEN == MLKEM_CT_BYTES, "ct length");
_Static_assert(PQ_MLKEM_SS_LEN == MLKEM_SYMBYTES, "shared secret length");

/* Fill buf from the kernel CSPRNG; short reads and EINTR are retried. */
static int random_fill(uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t got = getrandom(buf, len, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return PQ_E_RANDOM;
		}
		buf += got;
		len -= (size_t)got;
	}
	return 0;
}

/* FIPS 203 §7.2: the length is fixed by the type; the modulus check asks
 * ByteEncode12(ByteDecode12(ek)) == ek, i.e. every 12-bit value < q. */
int pq_mlkem1024_check_ek(const uint8_t ek[1568])
{
	int all_reduced = 1;

	if (ek == NULL)
		return PQ_E_INVAL;
	for (unsigned int i = 0; i < MLKEM_K; i++)
		all_reduced &= pq_mlkem_poly_bytes_reduced(&ek[i * MLKEM_POLYBYTES]);
	return all_reduced ? 0 : PQ_E_KEY;
}

/* FIPS 203 §7.3 hash check: H(dk[384k : 768k + 32]) == dk[768k + 32 : 768k + 64]. */
int pq_mlkem1024_check_dk(const uint8_t dk[3168])
{
	uint8_t h[MLKEM_SYMBYTES];
	uint8_t differ;

	if (dk == NULL)
		return PQ_E_INVAL;
	pq_sha3_256(h, dk + MLKEM_DK_EK_OFFSET, MLKEM_EK_BYTES);
	differ = pq_mlkem_ct_differ(h, dk + MLKEM_DK_H_OFFSET, MLKEM_SYMBYTES);
	return differ ? PQ_E_KEY : 0;
}

/* Alg. 16 ML-KEM.KeyGen_internal(d, z): dk = dk_pke || ek || H(ek) || z. */
int pq_mlkem1024_keypair_derand(uint8_t ek[1568], uint8_t dk[3168], const uint8_t d[32], const uint8_t z[32])
{
	if (ek == NULL || dk == NULL || d == NULL || z == NULL)
		return PQ_E_INVAL;
	pq_mlkem_indcpa_keypair(ek, dk, d);
	memcpy(dk + MLKEM_DK_EK_OFFSET, ek, MLKEM_EK_BYTES);
	pq_sha3_256(dk + MLKEM_DK_H_OFFSET, ek, MLKEM_EK_BYTES);
	memcpy(dk + MLKEM_DK_Z_OFFSET, z, MLKEM_SYMBYTES);
	return 0;
}

/* Alg. 19 ML-KEM.KeyGen: d, z from the system CSPRNG. */
int pq_mlkem1024_keypair(uint8_t ek[1568], uint8_t dk[3168])
{
	uint8_t seeds[2 * MLKEM_SYMBYTES];
	int err;

	if (ek == NULL || dk == NULL)
		return PQ_E_INVAL;
	err = random_fill(seeds, sizeof(seeds));
	if (err < 0)
		goto out;
	err = pq_mlkem1024_keypair_derand(ek, dk, seeds, seeds + MLKEM_SYMBYTES);
out:
	pq_mlkem_wipe(seeds, sizeof(seeds));
	return err;
}

/* Alg. 17 ML-KEM.Encaps_internal(ek, m), after the §7.2 check:
 * (K, r) = G(m || H(ek)); c = K-PKE.Encrypt(ek, m, r). */
int pq_mlkem1024_encaps_derand(uint8_t ct[1568], uint8_t ss[32], const uint8_t ek[1568], const uint8_t m[32])
{
	uint8_t g_input[2 * MLKEM_SYMBYTES];
	uint8_t k_r[2 * MLKEM_SYMBYTES];
	int err;

	if (ct == NULL || ss == NULL || ek == NULL || m == NULL)
		return PQ_E_INVAL;
	err = pq_mlkem1024_check_ek(ek);
	if (err < 0)
		return err;
	memcpy(g_input, m, MLKEM_SYMBYTES);
	pq_sha3_256(g_input + MLKEM_SYMBYTES, ek, MLKEM_EK_BYTES);
	pq_sha3_512(k_r, g_input, sizeof(g_input));
	pq_mlkem_indcpa_enc(ct, ek, m, k_r + MLKEM_SYMBYTES);
	memcpy(ss, k_r, MLKEM_SYMBYTES);

	pq_mlkem_wipe(g_input, sizeof(g_input));
	pq_mlkem_wipe(k_r, sizeof(k_r));
	return 0;
}

/* Alg. 20 ML-KEM.Encaps: m from the system CSPRNG. */
int pq_mlkem1024_encaps(uint8_t ct[1568], uint8_t ss[32], const uint8_t ek[1568])
{
	uint8_t m[MLKEM_SYMBYTES];
	int err;

	if (ct == NULL || ss == NULL || ek == NULL)
		return PQ_E_INVAL;
	err = random_fill(m, sizeof(m));
	if (err < 0)
		goto out;
	err = pq_mlkem1024_encaps_derand(ct, ss, ek, m);
out:
	pq_mlkem_wipe(m, sizeof(m));
	return err;
}

/* Secrets of Decaps, kept together so one call wipes them. */
struct decaps_secrets {
	uint8_t g_input[2 * MLKEM_SYMBYTES];   /* m' || h */
	uint8_t k_r[2 * MLKEM_SYMBYTES];       /* K' || r' */
	uint8_t k_bar[MLKEM_SYMBYTES];
	uint8_t ct_again[MLKEM_CT_BYTES];
};

/* K_bar = J(z || c) = SHAKE256(z || c, 32) (Alg. 18 line 7). */
static void rejection_key(uint8_t k_bar[MLKEM_SYMBYTES], const uint8_t z[MLKEM_SYMBYTES],
			  const uint8_t ct[MLKEM_CT_BYTES])
{
	pq_keccak_state st;

	pq_shake256_init(&st);
	pq_keccak_absorb(&st, z, MLKEM_SYMBYTES);
	pq_keccak_absorb(&st, ct, MLKEM_CT_BYTES);
	pq_keccak_finalize(&st);
	pq_keccak_squeeze(&st, k_bar, MLKEM_SYMBYTES);
	pq_keccak_wipe(&st);
}

/* Alg. 21 ML-KEM.Decaps = §7.3 check, then Alg. 18 Decaps_internal. */
int pq_mlkem1024_decaps(uint8_t ss[32], const uint8_t ct[1568], const uint8_t dk[3168])
{
	struct decaps_secrets sec;
	const uint8_t *ek_pke = dk + MLKEM_DK_EK_OFFSET;
	uint8_t differ;
	int err;

	if (ss == NULL || ct == NULL || dk == NULL)
		return PQ_E_INVAL;
	err = pq_mlkem1024_check_dk(dk);
	if (err < 0)
		return err;

	pq_mlkem_indcpa_dec(sec.g_input, dk, ct);                                    /* line 5 */
	memcpy(sec.g_input + MLKEM_SYMBYTES, dk + MLKEM_DK_H_OFFSET, MLKEM_SYMBYTES);
	pq_sha3_512(sec.k_r, sec.g_input, sizeof(sec.g_input));                      /* line 6 */
	rejection_key(sec.k_bar, dk + MLKEM_DK_Z_OFFSET, ct);                        /* line 7 */
	pq_mlkem_indcpa_enc(sec.ct_again, ek_pke, sec.g_input, sec.k_r + MLKEM_SYMBYTES); /* line 8 */

	/* lines 9-11: K' stays unless c != c', then K_bar; no branch */
	differ = pq_mlkem_ct_differ(ct, sec.ct_again, MLKEM_CT_BYTES);
	pq_mlkem_ct_cmov(sec.k_r, sec.k_bar, MLKEM_SYMBYTES, differ);
	memcpy(ss, sec.k_r, MLKEM_SYMBYTES);

	pq_mlkem_wipe(&sec, sizeof(sec));
	return 0;
}
