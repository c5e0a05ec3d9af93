/* test_x25519.c - RFC 7748 §5.2 and §6.1 vectors; low-order peer keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/hexutil.h"
#include "crypto/x25519.h"

static int n_checked;

/* RFC 7748 §5.2: the two single-scalar-multiplication vectors. */
static void test_rfc7748_5_2(void **state)
{
	static const char *const vec[][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		uint8_t k[32], u[32], want[32], got[32];

		unhex(k, 32, vec[i][0]);
		unhex(u, 32, vec[i][1]);
		unhex(want, 32, vec[i][2]);
		assert_int_equal(pq_x25519_shared(got, k, u), 0);
		assert_memory_equal(got, want, 32);
		n_checked++;
	}
}

/* RFC 7748 §6.1: Alice and Bob's key pairs and their shared secret. */
static void test_rfc7748_6_1(void **state)
{
	uint8_t a[32], b[32], a_pub[32], b_pub[32], want_a_pub[32], want_b_pub[32];
	uint8_t want_k[32], k1[32], k2[32];

	unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(want_a_pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	unhex(want_b_pub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhex(want_k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_int_equal(pq_x25519_public(a_pub, a), 0);
	assert_memory_equal(a_pub, want_a_pub, 32);
	assert_int_equal(pq_x25519_public(b_pub, b), 0);
	assert_memory_equal(b_pub, want_b_pub, 32);
	assert_int_equal(pq_x25519_shared(k1, a, b_pub), 0);
	assert_int_equal(pq_x25519_shared(k2, b, a_pub), 0);
	assert_memory_equal(k1, want_k, 32);
	assert_memory_equal(k2, want_k, 32);
	/* The variant that is handed our own public key agrees. */
	memset(k1, 0, 32);
	memset(k2, 0, 32);
	assert_int_equal(pq_x25519_shared_with_pub(k1, a, a_pub, b_pub), 0);
	assert_int_equal(pq_x25519_shared_with_pub(k2, b, b_pub, a_pub), 0);
	assert_memory_equal(k1, want_k, 32);
	assert_memory_equal(k2, want_k, 32);
	n_checked++;
}

/* Points of small order give an all-zero shared secret whatever the
 * scalar (RFC 7748 §6.1 "check"): refused with PQ_E_KEY, output wiped. */
static void test_low_order_rejected(void **state)
{
	static const char *const low[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t priv[32], pub[32], out[32], zero[32] = { 0 };

	assert_int_equal(pq_x25519_keypair(pub, priv), 0);
	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		uint8_t peer[32];

		unhex(peer, 32, low[i]);
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(pq_x25519_shared(out, priv, peer), PQ_E_KEY);
		assert_memory_equal(out, zero, 32);
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(pq_x25519_shared_with_pub(out, priv, pub, peer), PQ_E_KEY);
		assert_memory_equal(out, zero, 32);
		n_checked++;
	}
}

static void test_keypair_agrees(void **state)
{
	uint8_t a[32], a_pub[32], b[32], b_pub[32], k1[32], k2[32];

	assert_int_equal(pq_x25519_keypair(a_pub, a), 0);
	assert_int_equal(pq_x25519_keypair(b_pub, b), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(pq_x25519_shared(k1, a, b_pub), 0);
	assert_int_equal(pq_x25519_shared(k2, b, a_pub), 0);
	assert_memory_equal(k1, k2, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748_5_2),
		cmocka_unit_test(test_rfc7748_6_1),
		cmocka_unit_test(test_low_order_rejected),
		cmocka_unit_test(test_keypair_agrees),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("checked: x25519 %d vectors\n", n_checked);
	return failed;
}
