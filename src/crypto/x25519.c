/*
 * x25519.c - X25519 (RFC 7748 §5, §6.1) through OpenSSL EVP_PKEY.
 *
 * Raw 32-byte keys in and out; the EVP objects live only inside a call.
 */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/util.h"
#include "crypto/x25519.h"

static EVP_PKEY *load_private(const uint8_t priv[PQ_X25519_LEN])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, PQ_X25519_LEN);
}

/* Load priv together with its already-known public key. OpenSSL derives
 * the public key when given only the private one, which costs a whole
 * scalar multiplication; handing it over saves that on every shared-secret
 * computation. Derive uses only the scalar and the peer's point, so a
 * wrong pub cannot change the result. */
static EVP_PKEY *load_private_with_pub(const uint8_t priv[PQ_X25519_LEN],
				       const uint8_t pub[PQ_X25519_LEN])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)priv, PQ_X25519_LEN),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, PQ_X25519_LEN),
		OSSL_PARAM_END,
	};

	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static int export_public(uint8_t pub[PQ_X25519_LEN], const EVP_PKEY *pkey)
{
	size_t len = PQ_X25519_LEN;

	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != PQ_X25519_LEN)
		return PQ_E_CRYPTO;
	return 0;
}

int pq_x25519_keypair(uint8_t pub[PQ_X25519_LEN], uint8_t priv[PQ_X25519_LEN])
{
	int ret = pq_random_bytes(priv, PQ_X25519_LEN);

	if (ret == 0)
		ret = pq_x25519_public(pub, priv);
	if (ret)
		pq_wipe(priv, PQ_X25519_LEN);
	return ret;
}

int pq_x25519_public(uint8_t pub[PQ_X25519_LEN], const uint8_t priv[PQ_X25519_LEN])
{
	EVP_PKEY *pkey = load_private(priv);
	int ret;

	if (!pkey)
		return PQ_E_CRYPTO;
	ret = export_public(pub, pkey);
	EVP_PKEY_free(pkey);
	return ret;
}

/* OR of all bytes, without branching on them: zero iff all bytes are zero. */
static uint8_t or_all(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc;
}

/* The shared secret of mine (borrowed; NULL means loading failed) and
 * peer_pub. */
static int derive(uint8_t out[PQ_X25519_LEN], EVP_PKEY *mine, const uint8_t peer_pub[PQ_X25519_LEN])
{
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = PQ_X25519_LEN;
	int ret = PQ_E_CRYPTO;

	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, PQ_X25519_LEN);
	if (!mine || !peer)
		goto out;
	ctx = EVP_PKEY_CTX_new(mine, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1)
		goto out;
	/* OpenSSL's X25519 derive itself fails on an all-zero result (a
	 * low-order peer point, RFC 7748 §6.1); with the context set up, that
	 * is the only way derive can fail, so it is a key error. */
	if (EVP_PKEY_derive(ctx, out, &len) != 1) {
		ret = PQ_E_KEY;
		goto out;
	}
	if (len != PQ_X25519_LEN)
		goto out;
	/* Checked here as well so we do not depend on that OpenSSL detail. */
	ret = or_all(out, PQ_X25519_LEN) ? 0 : PQ_E_KEY;
out:
	if (ret) {
		ERR_clear_error();
		pq_wipe(out, PQ_X25519_LEN);
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return ret;
}

int pq_x25519_shared(uint8_t out[PQ_X25519_LEN], const uint8_t priv[PQ_X25519_LEN],
		     const uint8_t peer_pub[PQ_X25519_LEN])
{
	EVP_PKEY *mine = load_private(priv);
	int ret = derive(out, mine, peer_pub);

	EVP_PKEY_free(mine);
	return ret;
}

int pq_x25519_shared_with_pub(uint8_t out[PQ_X25519_LEN], const uint8_t priv[PQ_X25519_LEN],
			      const uint8_t pub[PQ_X25519_LEN], const uint8_t peer_pub[PQ_X25519_LEN])
{
	EVP_PKEY *mine = load_private_with_pub(priv, pub);
	int ret = derive(out, mine, peer_pub);

	EVP_PKEY_free(mine);
	return ret;
}
