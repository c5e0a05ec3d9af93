/* test_hash.c - SHA-256, HMAC-SHA256 and HKDF-SHA256 known answers
 * (FIPS 180-2 examples, RFC 4231, RFC 5869) and vectored input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/hash.h"
#include "crypto/hexutil.h"

static int n_checked;

static void check_sha(const char *msg, const char *hex)
{
	uint8_t want[32], got[32];
	struct pq_iov iov = { msg, strlen(msg) };

	unhex(want, 32, hex);
	assert_int_equal(pq_sha256(got, &iov, 1), 0);
	assert_memory_equal(got, want, 32);
	n_checked++;
}

static void test_sha256_kat(void **state)
{
	check_sha("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void check_hmac(const uint8_t *key, size_t key_len, const char *msg, const char *hex)
{
	uint8_t want[32], got[32];
	struct pq_iov iov = { msg, strlen(msg) };

	unhex(want, 32, hex);
	assert_int_equal(pq_hmac_sha256(got, key, key_len, &iov, 1), 0);
	assert_memory_equal(got, want, 32);
	n_checked++;
}

/* RFC 4231 §4.2, §4.3 and §4.7 (test cases 1, 2 and 6). */
static void test_hmac_rfc4231(void **state)
{
	uint8_t key[131];

	memset(key, 0x0b, 20);
	check_hmac(key, 20, "Hi There",
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?",
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key));
	check_hmac(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First",
		   "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* RFC 5869 Appendix A.1 (test case 1). */
static void test_hkdf_rfc5869_case1(void **state)
{
	uint8_t ikm[22], salt[13], info[10], prk[32], want_prk[32], okm[42], want_okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	unhex(want_prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
	unhex(want_okm, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
			    "34007208d5b887185865");
	assert_int_equal(pq_hkdf_extract(prk, salt, sizeof(salt), ikm, sizeof(ikm)), 0);
	assert_memory_equal(prk, want_prk, 32);
	assert_int_equal(pq_hkdf_expand(okm, sizeof(okm), prk, info, sizeof(info)), 0);
	assert_memory_equal(okm, want_okm, 42);
	n_checked++;
}

/* RFC 5869 Appendix A.3 (test case 3): empty salt and info. */
static void test_hkdf_rfc5869_case3(void **state)
{
	uint8_t ikm[22], prk[32], want_prk[32], okm[42], want_okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	unhex(want_prk, 32, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
	unhex(want_okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
			    "9d201395faa4b61a96c8");
	assert_int_equal(pq_hkdf_extract(prk, NULL, 0, ikm, sizeof(ikm)), 0);
	assert_memory_equal(prk, want_prk, 32);
	assert_int_equal(pq_hkdf_expand(okm, sizeof(okm), prk, NULL, 0), 0);
	assert_memory_equal(okm, want_okm, 42);
	n_checked++;
}

static void test_hkdf_limits(void **state)
{
	uint8_t prk[32] = { 1 }, out[8];

	assert_int_equal(pq_hkdf_expand(out, 255 * 32 + 1, prk, NULL, 0), PQ_E_INVAL);
	assert_int_equal(pq_hkdf_expand(out, 0, prk, NULL, 0), 0);
}

/* Split one message every possible way into three pieces (some empty):
 * the vectored hash and MAC must equal the one-shot ones. */
static void test_vectored_equals_oneshot(void **state)
{
	uint8_t msg[61], key[40], one_sha[32], one_mac[32], got[32];
	struct pq_iov whole = { msg, sizeof(msg) };
	int splits = 0;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	memset(key, 0x5c, sizeof(key));
	assert_int_equal(pq_sha256(one_sha, &whole, 1), 0);
	assert_int_equal(pq_hmac_sha256(one_mac, key, sizeof(key), &whole, 1), 0);
	for (size_t a = 0; a <= sizeof(msg); a += 3) {
		for (size_t b = a; b <= sizeof(msg); b += 5) {
			struct pq_iov iov[4] = {
				{ msg, a }, { msg + a, b - a }, { NULL, 0 }, { msg + b, sizeof(msg) - b },
			};

			assert_int_equal(pq_sha256(got, iov, 4), 0);
			assert_memory_equal(got, one_sha, 32);
			assert_int_equal(pq_hmac_sha256(got, key, sizeof(key), iov, 4), 0);
			assert_memory_equal(got, one_mac, 32);
			splits++;
		}
	}
	/* And a different message must give a different hash. */
	msg[30] ^= 1;
	assert_int_equal(pq_sha256(got, &whole, 1), 0);
	assert_memory_not_equal(got, one_sha, 32);
	printf("checked: vectored hash/hmac %d splits\n", splits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_kat),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hkdf_rfc5869_case1),
		cmocka_unit_test(test_hkdf_rfc5869_case3),
		cmocka_unit_test(test_hkdf_limits),
		cmocka_unit_test(test_vectored_equals_oneshot),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("checked: hash known answers %d vectors\n", n_checked);
	return failed;
}
