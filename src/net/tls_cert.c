/*
 * tls_cert.c - the self-signed certificate a pqlan TLS context presents:
 * X.509 v3, subject = issuer = CN "pqlan", key = our Ed25519 identity key
 * (RFC 8410), random 64-bit serial, valid from one hour ago to 30 days
 * ahead. Nobody checks its chain: peers pin the key (see tls.h).
 */
#include "net/tls_internal.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERT_BACKDATE_S (60L * 60)           /* clock skew between peers */
#define CERT_LIFETIME_S (30L * 24 * 60 * 60)

static int set_random_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	int err = PQ_E_CRYPTO;

	/* RFC 5280 §4.1.2.2: positive, at most 20 octets; 63 random bits. */
	if (!bn || !BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
		goto out;
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	if (serial && X509_set_serialNumber(x, serial))
		err = 0;
out:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return err;
}

static int set_name_and_validity(X509 *x)
{
	X509_NAME *name = X509_get_subject_name(x);

	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"pqlan",
					-1, -1, 0))
		return PQ_E_CRYPTO;
	if (!X509_set_issuer_name(x, name))
		return PQ_E_CRYPTO;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -CERT_BACKDATE_S) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), CERT_LIFETIME_S))
		return PQ_E_CRYPTO;
	return 0;
}

int pq_tls_make_cert(X509 **out, EVP_PKEY *key)
{
	X509 *x = X509_new();
	int err = PQ_E_NOMEM;

	if (!x)
		goto out;
	err = PQ_E_CRYPTO;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_pubkey(x, key))
		goto out;
	if ((err = set_random_serial(x)) || (err = set_name_and_validity(x)))
		goto out;
	/* Ed25519 signs the message itself: no digest (RFC 8410 §6). */
	err = PQ_E_CRYPTO;
	if (X509_sign(x, key, NULL) <= 0)
		goto out;
	*out = x;
	x = NULL;
	err = 0;
out:
	X509_free(x);
	return err;
}

int pq_tls_cert_key(const X509 *cert, uint8_t pub[PQ_TLS_KEY_LEN])
{
	EVP_PKEY *key = X509_get0_pubkey(cert);
	size_t len = PQ_TLS_KEY_LEN;

	if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
		return PQ_E_KEY;
	if (!EVP_PKEY_get_raw_public_key(key, pub, &len) || len != PQ_TLS_KEY_LEN)
		return PQ_E_KEY;
	return 0;
}
