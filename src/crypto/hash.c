/*
 * hash.c - SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and HKDF-SHA256
 * (RFC 5869) through OpenSSL 3 EVP interfaces.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <pthread.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/util.h"

/* OpenSSL 3 looks algorithms up in its provider tables on every implicit
 * fetch, which costs more than hashing a short input. Fetch once for the
 * process; the objects stay alive until exit. */
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_alg;
static EVP_MAC_CTX *hmac_template;  /* HMAC with SHA-256 chosen, no key */

static void fetch_algs(void)
{
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[2];

	sha256_alg = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	if (!hmac)
		return;
	/* Setting the digest by name fetches it again; do it once here and
	 * copy the context per call instead. */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA2-256", 0);
	params[1] = OSSL_PARAM_construct_end();
	hmac_template = EVP_MAC_CTX_new(hmac);
	if (hmac_template && EVP_MAC_CTX_set_params(hmac_template, params) != 1) {
		EVP_MAC_CTX_free(hmac_template);
		hmac_template = NULL;
	}
	EVP_MAC_free(hmac);  /* the context holds its own reference */
}

static int algs_ready(void)
{
	return pthread_once(&algs_once, fetch_algs) == 0 && sha256_alg && hmac_template;
}

int pq_sha256(uint8_t out[PQ_SHA256_LEN], const struct pq_iov *iov, size_t n_iov)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int out_len = 0;
	int ret = PQ_E_CRYPTO;

	if (!ctx)
		return PQ_E_NOMEM;
	if (!algs_ready() || EVP_DigestInit_ex(ctx, sha256_alg, NULL) != 1)
		goto out;
	for (size_t i = 0; i < n_iov; i++)
		if (iov[i].len && EVP_DigestUpdate(ctx, iov[i].base, iov[i].len) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, out, &out_len) != 1 || out_len != PQ_SHA256_LEN)
		goto out;
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int pq_hmac_sha256(uint8_t out[PQ_HMAC_LEN], const uint8_t *key, size_t key_len,
		   const struct pq_iov *iov, size_t n_iov)
{
	static const uint8_t empty_key[1];
	EVP_MAC_CTX *ctx = NULL;
	size_t out_len = 0;
	int ret = PQ_E_CRYPTO;

	if (!algs_ready())
		goto out;
	ctx = EVP_MAC_CTX_dup(hmac_template);
	if (!ctx) {
		ret = PQ_E_NOMEM;
		goto out;
	}
	/* A zero-length HMAC key is legal (RFC 2104 pads it); pass a valid
	 * pointer so OpenSSL does not treat NULL as "no key given". */
	if (EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, NULL) != 1)
		goto out;
	for (size_t i = 0; i < n_iov; i++)
		if (iov[i].len && EVP_MAC_update(ctx, iov[i].base, iov[i].len) != 1)
			goto out;
	if (EVP_MAC_final(ctx, out, &out_len, PQ_HMAC_LEN) != 1 || out_len != PQ_HMAC_LEN)
		goto out;
	ret = 0;
out:
	EVP_MAC_CTX_free(ctx);
	return ret;
}

/* RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); an absent salt is HashLen zeros. */
int pq_hkdf_extract(uint8_t prk[PQ_SHA256_LEN], const uint8_t *salt, size_t salt_len,
		    const uint8_t *ikm, size_t ikm_len)
{
	static const uint8_t zero_salt[PQ_SHA256_LEN];
	struct pq_iov iov = { ikm, ikm_len };

	if (!salt || salt_len == 0) {
		salt = zero_salt;
		salt_len = sizeof(zero_salt);
	}
	if (ikm_len && !ikm)
		return PQ_E_INVAL;
	return pq_hmac_sha256(prk, salt, salt_len, &iov, 1);
}

/* RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) | info | i), OKM = first L bytes. */
int pq_hkdf_expand(uint8_t *out, size_t out_len, const uint8_t prk[PQ_SHA256_LEN],
		   const uint8_t *info, size_t info_len)
{
	uint8_t block[PQ_SHA256_LEN];
	size_t prev_len = 0, done = 0;
	uint8_t i = 0;
	int ret = 0;

	if (out_len > 255 * PQ_SHA256_LEN || (out_len && !out) || (info_len && !info))
		return PQ_E_INVAL;
	while (done < out_len) {
		struct pq_iov iov[3];
		size_t n;

		i++;
		iov[0] = (struct pq_iov){ block, prev_len };
		iov[1] = (struct pq_iov){ info, info_len };
		iov[2] = (struct pq_iov){ &i, 1 };
		ret = pq_hmac_sha256(block, prk, PQ_SHA256_LEN, iov, 3);
		if (ret)
			goto out;
		prev_len = PQ_SHA256_LEN;
		n = out_len - done < PQ_SHA256_LEN ? out_len - done : PQ_SHA256_LEN;
		memcpy(out + done, block, n);
		done += n;
	}
out:
	if (ret && out_len)
		pq_wipe(out, out_len);
	pq_wipe(block, sizeof(block));
	return ret;
}
