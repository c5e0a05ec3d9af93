/* test_aead.c - AES-256-GCM sealed frames: known answers (McGrew-Viega
 * test cases 13 and 14, whose all-zero IV is our nonce for counter 0),
 * the nonce layout against an independent EVP computation, round trips
 * in place, and every kind of tampering refused with zeroed output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "crypto/aead.h"
#include "crypto/hexutil.h"

static int n_checked;

/* "The Galois/Counter Mode of Operation (GCM)", McGrew & Viega, test
 * cases 13 (empty plaintext) and 14 (one zero block): K = 0^256,
 * IV = 0^96 = 4 zero bytes || counter 0, no AAD. */
static void test_known_answer_zero_key(void **state)
{
	uint8_t key[32] = { 0 }, buf[16 + 16], want[32];
	struct pq_aead *a = NULL;

	assert_int_equal(pq_aead_new(&a, key), 0);
	unhex(want, 16, "530f8afbc74536b9a963b4f1c4cb738b");
	assert_int_equal(pq_aead_seal(a, 0, NULL, 0, NULL, 0, buf), 0);
	assert_memory_equal(buf, want, 16);
	n_checked++;

	unhex(want, 32, "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
	memset(buf, 0, 16);
	assert_int_equal(pq_aead_seal(a, 0, NULL, 0, buf, 16, buf), 0);
	assert_memory_equal(buf, want, 32);
	assert_int_equal(pq_aead_open(a, 0, NULL, 0, buf, 32, buf), 0);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0);
	n_checked++;
	pq_aead_free(a);
}

/* The same frame sealed by a one-shot EVP call with the IV built here by
 * hand: checks the nonce layout (4 zero bytes, big-endian counter) and
 * the use of the header as AAD. */
static void reference_seal(const uint8_t key[32], uint64_t counter, const uint8_t *aad,
			   size_t aad_len, const uint8_t *pt, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t iv[12] = { 0 };
	int n;

	for (int i = 0; i < 8; i++)
		iv[11 - i] = (uint8_t)(counter >> (8 * i));
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, out, &n, pt, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, out + len, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len), 1);
	EVP_CIPHER_CTX_free(ctx);
}

static void test_nonce_layout_matches_evp(void **state)
{
	static const uint64_t counters[] = { 0, 1, 255, 256, 0x0102030405060708ULL,
					     0xfffffffffffffffeULL };
	uint8_t key[32], aad[13], pt[100], got[116], want[116];
	struct pq_aead *a = NULL;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x40 + i);
	for (size_t i = 0; i < sizeof(aad); i++)
		aad[i] = (uint8_t)(0xa0 ^ i);
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 3);
	assert_int_equal(pq_aead_new(&a, key), 0);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		reference_seal(key, counters[i], aad, sizeof(aad), pt, sizeof(pt), want);
		assert_int_equal(pq_aead_seal(a, counters[i], aad, sizeof(aad), pt, sizeof(pt), got), 0);
		assert_memory_equal(got, want, sizeof(want));
		n_checked++;
	}
	pq_aead_free(a);
}

/* Seal and open in place at the sizes frames come in. */
static void test_round_trip_in_place(void **state)
{
	static const size_t sizes[] = { 0, 1, 64, 1420, 9000 };
	uint8_t key[32], hdr[16];
	struct pq_aead *tx = NULL, *rx = NULL;

	memset(key, 0x77, sizeof(key));
	memset(hdr, 0x11, sizeof(hdr));
	assert_int_equal(pq_aead_new(&tx, key), 0);
	assert_int_equal(pq_aead_new(&rx, key), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		uint8_t *buf = malloc(len + 16), *orig = malloc(len + 1);

		assert_non_null(buf);
		assert_non_null(orig);
		for (size_t j = 0; j < len; j++)
			orig[j] = (uint8_t)(j ^ (j >> 8) ^ i);
		memcpy(buf, orig, len);
		assert_int_equal(pq_aead_seal(tx, 1000 + i, hdr, sizeof(hdr), buf, len, buf), 0);
		if (len >= 16)
			assert_memory_not_equal(buf, orig, len);
		assert_int_equal(pq_aead_open(rx, 1000 + i, hdr, sizeof(hdr), buf, len + 16, buf), 0);
		if (len)
			assert_memory_equal(buf, orig, len);
		free(buf);
		free(orig);
		n_checked++;
	}
	pq_aead_free(tx);
	pq_aead_free(rx);
}

static void assert_all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], 0);
}

/* Any change to the ciphertext, tag, header or counter: PQ_E_AUTH and
 * nothing of the plaintext handed back. */
static void test_tampering_rejected(void **state)
{
	enum { LEN = 200 };
	uint8_t key[32], hdr[12], pt[LEN], sealed[LEN + 16], work[LEN + 16], out[LEN];
	struct pq_aead *a = NULL;
	int cases = 0;

	memset(key, 0x21, sizeof(key));
	memset(hdr, 0x42, sizeof(hdr));
	for (size_t i = 0; i < LEN; i++)
		pt[i] = (uint8_t)(i + 1);
	assert_int_equal(pq_aead_new(&a, key), 0);
	assert_int_equal(pq_aead_seal(a, 7, hdr, sizeof(hdr), pt, LEN, sealed), 0);

	/* One bit flipped in the ciphertext or the tag (every 7th bit). */
	for (size_t bit = 0; bit < 8 * sizeof(sealed); bit += 7, cases++) {
		memcpy(work, sealed, sizeof(work));
		work[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0xee, sizeof(out));
		assert_int_equal(pq_aead_open(a, 7, hdr, sizeof(hdr), work, sizeof(work), out),
				 PQ_E_AUTH);
		assert_all_zero(out, LEN);
	}
	/* Tampered in place: the buffer's plaintext part is zeroed too. */
	memcpy(work, sealed, sizeof(work));
	work[LEN + 3] ^= 0x80;
	assert_int_equal(pq_aead_open(a, 7, hdr, sizeof(hdr), work, sizeof(work), work), PQ_E_AUTH);
	assert_all_zero(work, LEN);
	cases++;
	/* One bit of the header (the AAD). */
	for (size_t bit = 0; bit < 8 * sizeof(hdr); bit++, cases++) {
		hdr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(pq_aead_open(a, 7, hdr, sizeof(hdr), sealed, sizeof(sealed), out),
				 PQ_E_AUTH);
		assert_all_zero(out, LEN);
		hdr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* A shorter header, a wrong counter, a truncated frame. */
	assert_int_equal(pq_aead_open(a, 7, hdr, sizeof(hdr) - 1, sealed, sizeof(sealed), out), PQ_E_AUTH);
	assert_int_equal(pq_aead_open(a, 6, hdr, sizeof(hdr), sealed, sizeof(sealed), out), PQ_E_AUTH);
	assert_int_equal(pq_aead_open(a, 8, hdr, sizeof(hdr), sealed, sizeof(sealed), out), PQ_E_AUTH);
	assert_int_equal(pq_aead_open(a, 7 | (1ULL << 40), hdr, sizeof(hdr), sealed, sizeof(sealed), out),
			 PQ_E_AUTH);
	assert_int_equal(pq_aead_open(a, 7, hdr, sizeof(hdr), sealed, sizeof(sealed) - 1, out), PQ_E_AUTH);
	assert_int_equal(pq_aead_open(a, 7, hdr, sizeof(hdr), sealed, 15, out), PQ_E_DECODE);
	cases += 6;
	/* The context is still good after all those failures. */
	assert_int_equal(pq_aead_open(a, 7, hdr, sizeof(hdr), sealed, sizeof(sealed), out), 0);
	assert_memory_equal(out, pt, LEN);
	pq_aead_free(a);
	printf("checked: aead tampering %d cases\n", cases);
}

static void test_wrong_key_rejected(void **state)
{
	uint8_t k1[32] = { 1 }, k2[32] = { 2 }, buf[48] = { 0 };
	struct pq_aead *a = NULL, *b = NULL;

	assert_int_equal(pq_aead_new(&a, k1), 0);
	assert_int_equal(pq_aead_new(&b, k2), 0);
	assert_int_equal(pq_aead_seal(a, 1, NULL, 0, buf, 32, buf), 0);
	assert_int_equal(pq_aead_open(b, 1, NULL, 0, buf, 48, buf), PQ_E_AUTH);
	pq_aead_free(a);
	pq_aead_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer_zero_key),
		cmocka_unit_test(test_nonce_layout_matches_evp),
		cmocka_unit_test(test_round_trip_in_place),
		cmocka_unit_test(test_tampering_rejected),
		cmocka_unit_test(test_wrong_key_rejected),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("checked: aead %d known-answer/round-trip cases\n", n_checked);
	return failed;
}
