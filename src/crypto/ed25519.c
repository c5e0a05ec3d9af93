/*
 * ed25519.c - Ed25519 (RFC 8032 §5.1) signatures through OpenSSL EVP.
 *
 * A pq_signer keeps the loaded EVP_PKEY (OpenSSL holds the expanded key
 * and wipes it when the key is freed) and its public key, so a signature
 * costs one DigestSign and no key expansion.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/ed25519.h"
#include "crypto/util.h"

struct pq_signer {
	EVP_PKEY *pkey;
	uint8_t pub[PQ_ED25519_PUB_LEN];
};

int pq_ed25519_generate(uint8_t priv[PQ_ED25519_PRIV_LEN])
{
	/* RFC 8032 §5.1.5: the private key is 32 random bytes. */
	return pq_random_bytes(priv, PQ_ED25519_PRIV_LEN);
}

static int export_public(uint8_t pub[PQ_ED25519_PUB_LEN], const EVP_PKEY *pkey)
{
	size_t len = PQ_ED25519_PUB_LEN;

	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != PQ_ED25519_PUB_LEN)
		return PQ_E_CRYPTO;
	return 0;
}

int pq_ed25519_public(uint8_t pub[PQ_ED25519_PUB_LEN], const uint8_t priv[PQ_ED25519_PRIV_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv,
						      PQ_ED25519_PRIV_LEN);
	int ret;

	if (!pkey)
		return PQ_E_CRYPTO;
	ret = export_public(pub, pkey);
	EVP_PKEY_free(pkey);
	return ret;
}

int pq_signer_new(struct pq_signer **out, const uint8_t priv[PQ_ED25519_PRIV_LEN])
{
	struct pq_signer *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return PQ_E_NOMEM;
	s->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, PQ_ED25519_PRIV_LEN);
	if (!s->pkey) {
		ret = PQ_E_CRYPTO;
		goto out;
	}
	ret = export_public(s->pub, s->pkey);
out:
	if (ret)
		pq_signer_free(s);
	else
		*out = s;
	return ret;
}

void pq_signer_free(struct pq_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pkey);
	pq_wipe(s, sizeof(*s));
	free(s);
}

const uint8_t *pq_signer_public(const struct pq_signer *s)
{
	return s->pub;
}

int pq_signer_sign(const struct pq_signer *s, uint8_t sig[PQ_ED25519_SIG_LEN],
		   const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = PQ_ED25519_SIG_LEN;
	static const uint8_t empty[1];
	int ret = PQ_E_CRYPTO;

	if (!ctx)
		return PQ_E_NOMEM;
	/* Pure Ed25519 takes no digest: md = NULL (RFC 8032 §5.1.6). */
	if (EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, s->pkey, NULL) != 1)
		goto out;
	if (EVP_DigestSign(ctx, sig, &sig_len, len ? msg : empty, len) != 1 ||
	    sig_len != PQ_ED25519_SIG_LEN)
		goto out;
	ret = 0;
out:
	if (ret)
		pq_wipe(sig, PQ_ED25519_SIG_LEN);
	EVP_MD_CTX_free(ctx);
	return ret;
}

int pq_ed25519_verify(const uint8_t sig[PQ_ED25519_SIG_LEN], const uint8_t *msg, size_t len,
		      const uint8_t pub[PQ_ED25519_PUB_LEN])
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	static const uint8_t empty[1];
	int ret = PQ_E_CRYPTO;

	/* A public key that is not a valid encoding cannot have signed
	 * anything: that is an authentication failure, not our fault. */
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, PQ_ED25519_PUB_LEN);
	if (!pkey) {
		ret = PQ_E_AUTH;
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		ret = PQ_E_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pkey, NULL) != 1)
		goto out;
	/* RFC 8032 §5.1.7; OpenSSL also rejects S >= L (malleability). */
	ret = EVP_DigestVerify(ctx, sig, PQ_ED25519_SIG_LEN, len ? msg : empty, len) == 1 ? 0 : PQ_E_AUTH;
out:
	if (ret)
		ERR_clear_error(); /* a failed check leaves nothing queued */
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ret;
}
