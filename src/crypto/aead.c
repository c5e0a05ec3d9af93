/*
 * aead.c - AES-256-GCM sealed frames (DESIGN §4, NIST SP 800-38D).
 *
 * Each pq_aead holds two EVP_CIPHER_CTX, one for sealing and one for
 * opening, each keyed once in pq_aead_new. Per frame only the IV is set
 * (EVP_*Init_ex with NULL cipher and key keeps the key schedule), which is
 * what makes the data path cheap. The IV is 4 zero bytes followed by the
 * 64-bit big-endian counter; the header is the additional data.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/aead.h"
#include "crypto/util.h"

#define PQ_AEAD_IV_LEN 12
/* EVP_*Update take int lengths. */
#define PQ_AEAD_MAX_LEN ((size_t)INT_MAX - PQ_AEAD_TAG_LEN)

struct pq_aead {
	EVP_CIPHER_CTX *seal;
	EVP_CIPHER_CTX *open;
};

static void make_iv(uint8_t iv[PQ_AEAD_IV_LEN], uint64_t counter)
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

int pq_aead_new(struct pq_aead **out, const uint8_t key[PQ_AEAD_KEY_LEN])
{
	struct pq_aead *a;
	int ret = PQ_E_CRYPTO;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return PQ_E_NOMEM;
	a->seal = EVP_CIPHER_CTX_new();
	a->open = EVP_CIPHER_CTX_new();
	if (!a->seal || !a->open) {
		ret = PQ_E_NOMEM;
		goto out;
	}
	/* 12-byte IV is GCM's default; the key schedule is expanded here,
	 * once, inside each context. */
	if (EVP_EncryptInit_ex(a->seal, EVP_aes_256_gcm(), NULL, key, NULL) != 1 ||
	    EVP_DecryptInit_ex(a->open, EVP_aes_256_gcm(), NULL, key, NULL) != 1)
		goto out;
	if (EVP_CIPHER_CTX_get_iv_length(a->seal) != PQ_AEAD_IV_LEN)
		goto out;
	ret = 0;
out:
	if (ret)
		pq_aead_free(a);
	else
		*out = a;
	return ret;
}

void pq_aead_free(struct pq_aead *a)
{
	if (!a)
		return;
	/* The provider's GCM context is cleansed when freed. */
	EVP_CIPHER_CTX_free(a->seal);
	EVP_CIPHER_CTX_free(a->open);
	free(a);
}

int pq_aead_seal(struct pq_aead *a, uint64_t counter, const uint8_t *aad, size_t aad_len,
		 const uint8_t *pt, size_t pt_len, uint8_t *out)
{
	uint8_t iv[PQ_AEAD_IV_LEN];
	int n = 0, ret = PQ_E_CRYPTO;

	if (pt_len > PQ_AEAD_MAX_LEN || aad_len > INT_MAX)
		return PQ_E_TOOBIG;
	make_iv(iv, counter);
	if (EVP_EncryptInit_ex(a->seal, NULL, NULL, NULL, iv) != 1)
		goto out;
	if (aad_len && EVP_EncryptUpdate(a->seal, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (pt_len && (EVP_EncryptUpdate(a->seal, out, &n, pt, (int)pt_len) != 1 ||
		       (size_t)n != pt_len))
		goto out;
	if (EVP_EncryptFinal_ex(a->seal, out + pt_len, &n) != 1 || n != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(a->seal, EVP_CTRL_AEAD_GET_TAG, PQ_AEAD_TAG_LEN,
				out + pt_len) != 1)
		goto out;
	ret = 0;
out:
	if (ret) {
		ERR_clear_error();
		pq_wipe(out, pt_len + PQ_AEAD_TAG_LEN);
	}
	return ret;
}

int pq_aead_open(struct pq_aead *a, uint64_t counter, const uint8_t *aad, size_t aad_len,
		 const uint8_t *ct, size_t ct_len, uint8_t *out)
{
	uint8_t iv[PQ_AEAD_IV_LEN], tag[PQ_AEAD_TAG_LEN];
	size_t pt_len;
	int n = 0, ret = PQ_E_CRYPTO;

	if (ct_len < PQ_AEAD_TAG_LEN)
		return PQ_E_DECODE;
	if (ct_len > PQ_AEAD_MAX_LEN + PQ_AEAD_TAG_LEN || aad_len > INT_MAX)
		return PQ_E_TOOBIG;
	pt_len = ct_len - PQ_AEAD_TAG_LEN;
	/* Copy the tag first: with out == ct it stays put, but a copy keeps
	 * this correct for any non-overlapping placement too. */
	memcpy(tag, ct + pt_len, PQ_AEAD_TAG_LEN);
	make_iv(iv, counter);
	if (EVP_DecryptInit_ex(a->open, NULL, NULL, NULL, iv) != 1)
		goto out;
	if (aad_len && EVP_DecryptUpdate(a->open, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (pt_len && (EVP_DecryptUpdate(a->open, out, &n, ct, (int)pt_len) != 1 ||
		       (size_t)n != pt_len))
		goto out;
	if (EVP_CIPHER_CTX_ctrl(a->open, EVP_CTRL_AEAD_SET_TAG, PQ_AEAD_TAG_LEN, tag) != 1)
		goto out;
	/* SP 800-38D §7.2: the tag comparison happens in Final. */
	ret = EVP_DecryptFinal_ex(a->open, out + pt_len, &n) == 1 ? 0 : PQ_E_AUTH;
out:
	if (ret) {
		ERR_clear_error();
		/* Never hand back unauthenticated plaintext. */
		pq_wipe(out, pt_len);
	}
	return ret;
}
