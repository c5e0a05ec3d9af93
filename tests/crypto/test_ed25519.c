/* test_ed25519.c - RFC 8032 §7.1 tests 1 and 2; tampering is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/ed25519.h"
#include "crypto/hexutil.h"

struct vec {
	const char *priv, *pub, *msg, *sig;
	size_t msg_len;
};

static const struct vec vecs[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", 0 },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00", 1 },
};

static void test_rfc8032(void **state)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		uint8_t priv[32], pub[32], want_pub[32], want_sig[64], sig[64], msg[1];
		struct pq_signer *s = NULL;

		unhex(priv, 32, v->priv);
		unhex(want_pub, 32, v->pub);
		unhex(want_sig, 64, v->sig);
		unhex(msg, v->msg_len, v->msg);
		assert_int_equal(pq_ed25519_public(pub, priv), 0);
		assert_memory_equal(pub, want_pub, 32);
		assert_int_equal(pq_signer_new(&s, priv), 0);
		assert_memory_equal(pq_signer_public(s), want_pub, 32);
		assert_int_equal(pq_signer_sign(s, sig, msg, v->msg_len), 0);
		assert_memory_equal(sig, want_sig, 64);
		assert_int_equal(pq_ed25519_verify(sig, msg, v->msg_len, pub), 0);
		pq_signer_free(s);
	}
	printf("checked: ed25519 rfc8032 %zu vectors\n", sizeof(vecs) / sizeof(vecs[0]));
}

static void test_tampering_rejected(void **state)
{
	uint8_t priv[32], pub[32], sig[64], msg[100], other_pub[32];
	struct pq_signer *s = NULL;
	int cases = 0;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_signer_new(&s, priv), 0);
	memcpy(pub, pq_signer_public(s), 32);
	assert_int_equal(pq_signer_sign(s, sig, msg, sizeof(msg)), 0);
	assert_int_equal(pq_ed25519_verify(sig, msg, sizeof(msg), pub), 0);

	/* One flipped bit anywhere in the message or signature. */
	for (size_t bit = 0; bit < 8 * sizeof(msg); bit += 13, cases++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(pq_ed25519_verify(sig, msg, sizeof(msg), pub), PQ_E_AUTH);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < 8 * sizeof(sig); bit++, cases++) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(pq_ed25519_verify(sig, msg, sizeof(msg), pub), PQ_E_AUTH);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* A shorter message, and the right signature under another key. */
	assert_int_equal(pq_ed25519_verify(sig, msg, sizeof(msg) - 1, pub), PQ_E_AUTH);
	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_ed25519_public(other_pub, priv), 0);
	assert_int_equal(pq_ed25519_verify(sig, msg, sizeof(msg), other_pub), PQ_E_AUTH);
	/* Untouched, it still verifies (the loop restored every bit). */
	assert_int_equal(pq_ed25519_verify(sig, msg, sizeof(msg), pub), 0);
	pq_signer_free(s);
	printf("checked: ed25519 tampering %d cases\n", cases + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8032),
		cmocka_unit_test(test_tampering_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
