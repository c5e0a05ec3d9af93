/*
 * test_mlkem_vectors.c - ML-KEM-1024 (src/crypto/mlkem) against the NIST
 * ACVP and C2SP/CCTV vectors in $PQ_VECTORS, plus the API's error paths,
 * a random round trip, exhaustive checks of the Compress constants and a
 * cross-check of our Keccak against OpenSSL's.
 *
 * Implicit rejection is asserted, not assumed: where a vector or a test
 * expects the rejection key, it is recomputed here as J(z || c) with
 * OpenSSL's SHAKE256, independent of the code under test.
 */
#include "testutil.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/syscall.h>

#include <openssl/evp.h>

#include "crypto/mlkem.h"
#include "crypto/mlkem/compress.h"
#include "crypto/mlkem/fips202.h"
#include "crypto/mlkem/poly.h"
#include "util/err.h"

#define EK_LEN PQ_MLKEM1024_EK_LEN
#define DK_LEN PQ_MLKEM1024_DK_LEN
#define CT_LEN PQ_MLKEM1024_CT_LEN
#define SS_LEN PQ_MLKEM_SS_LEN
#define DK_Z_OFFSET (DK_LEN - 32)
#define DK_H_OFFSET (DK_LEN - 64)
#define DK_EK_OFFSET (DK_LEN - 64 - EK_LEN)

/*
 * This binary's getrandom() takes the place of libc's for the library code
 * linked into it, so the tests can make the randomness source fail, be
 * interrupted or return short reads. Normal mode passes through to the
 * kernel.
 */
enum random_mode { RANDOM_REAL, RANDOM_FAIL, RANDOM_EINTR_ONCE, RANDOM_SHORT };
static enum random_mode random_mode = RANDOM_REAL;
static unsigned long random_calls;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	random_calls++;
	switch (random_mode) {
	case RANDOM_FAIL:
		errno = EIO;
		return -1;
	case RANDOM_EINTR_ONCE:
		random_mode = RANDOM_REAL;
		errno = EINTR;
		return -1;
	case RANDOM_SHORT:
		if (len > 7)
			len = 7;
		break;
	case RANDOM_REAL:
		break;
	}
	return syscall(SYS_getrandom, buf, len, flags);
}

/* OpenSSL one-shot XOF, to check our results against an independent Keccak. */
static void ossl_xof(const char *name, uint8_t *out, size_t outlen, const uint8_t *a, size_t alen,
		     const uint8_t *b, size_t blen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = strcmp(name, "SHAKE128") == 0 ? EVP_shake128() : EVP_shake256();

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, md, NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, a, alen), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, b, blen), 1);
	assert_int_equal(EVP_DigestFinalXOF(ctx, out, outlen), 1);
	EVP_MD_CTX_free(ctx);
}

/* The implicit-rejection key J(z || c) = SHAKE256(z || c, 32), FIPS 203 Alg. 18 line 7. */
static void rejection_key(uint8_t k[SS_LEN], const uint8_t dk[DK_LEN], const uint8_t ct[CT_LEN])
{
	ossl_xof("SHAKE256", k, SS_LEN, dk + DK_Z_OFFSET, 32, ct, CT_LEN);
}

static void expect_equal(const struct pq_vec_file *vf, const char *what, const uint8_t *got,
			 const uint8_t *want, size_t len)
{
	if (memcmp(got, want, len) != 0)
		fail_msg("%s:%lu: %s differs from the vector", vf->path, vf->case_line, what);
}

/* Compress_d(x) = round(2^d x / q) mod 2^d for every x in [0, q), with
 * the multiply-shift constants of compress.h against exact division. */
static void test_compress_exhaustive(void **state)
{
	const uint32_t q = 3329;

	for (uint32_t x = 0; x < q; x++) {
		assert_int_equal(pq_mlkem_compress_d1(x), ((x << 1) + q / 2) / q % 2);
		assert_int_equal(pq_mlkem_compress_d5(x), ((x << 5) + q / 2) / q % 32);
		assert_int_equal(pq_mlkem_compress_d11(x), ((x << 11) + q / 2) / q % 2048);
	}
	/* Decompress_d(y) = round(q y / 2^d), ties up: floor((2 q y + 2^d) / 2^(d+1)) */
	for (uint32_t y = 0; y < 2048; y++) {
		if (y < 2)
			assert_int_equal(pq_mlkem_decompress_d(y, 1), (2 * q * y + 2) / 4);
		if (y < 32)
			assert_int_equal(pq_mlkem_decompress_d(y, 5), (2 * q * y + 32) / 64);
		assert_int_equal(pq_mlkem_decompress_d(y, 11), (2 * q * y + 2048) / 4096);
	}
	pq_test_checked("Compress_d/Decompress_d exhaustive (d = 1, 5, 11)", 3 * q + 2 + 32 + 2048);
}

static int32_t mod_q(int64_t x)
{
	int64_t r = x % 3329;

	return (int32_t)(r < 0 ? r + 3329 : r);
}

/* Barrett over every int16_t; fqmul and Montgomery over every int16_t
 * times the constants the code uses and a spread of others (|b| <= (q-1)/2
 * keeps |a b| < q 2^15). R^-1 = 169 mod q. */
static void test_reduce_exhaustive(void **state)
{
	static const int16_t factors[] = { 1, -1, 2, 1353, 1441, -1044, 1628, 1664, -1664, 17, -758, 999, -1234 };
	size_t n = 0;

	for (int32_t a = INT16_MIN; a <= INT16_MAX; a++) {
		int16_t r = pq_mlkem_barrett_reduce((int16_t)a);
		if (r < -1664 || r > 1664 || mod_q(r) != mod_q(a))
			fail_msg("barrett_reduce(%d) = %d", (int)a, (int)r);
		for (size_t i = 0; i < sizeof(factors) / sizeof(factors[0]); i++) {
			int16_t f = pq_mlkem_fqmul((int16_t)a, factors[i]);
			int16_t m = pq_mlkem_montgomery_reduce(a * factors[i]);
			if (f != m || f <= -3329 || f >= 3329 || mod_q((int64_t)f * 65536) != mod_q((int64_t)a * factors[i]))
				fail_msg("fqmul(%d, %d) = %d, montgomery_reduce = %d", (int)a, (int)factors[i], (int)f,
					 (int)m);
		}
		n++;
	}
	pq_test_checked("Barrett/Montgomery reduction over all int16 inputs", n);
}

/* Our SHA3/SHAKE against OpenSSL for lengths around every block edge,
 * absorbing and squeezing in uneven pieces. */
static void test_fips202_vs_openssl(void **state)
{
	static const size_t lens[] = { 0, 1, 33, 34, 71, 72, 73, 135, 136, 137, 167, 168, 169, 337, 1568, 3200 };
	uint8_t in[3200], ours[1000], theirs[1000];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 131 + 7);
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		size_t len = lens[li];
		unsigned int mdlen;
		pq_keccak_state st;

		pq_sha3_256(ours, in, len);
		assert_int_equal(EVP_Digest(in, len, theirs, &mdlen, EVP_sha3_256(), NULL), 1);
		assert_memory_equal(ours, theirs, 32);
		pq_sha3_512(ours, in, len);
		assert_int_equal(EVP_Digest(in, len, theirs, &mdlen, EVP_sha3_512(), NULL), 1);
		assert_memory_equal(ours, theirs, 64);
		pq_shake256(ours, 600, in, len);
		ossl_xof("SHAKE256", theirs, 600, in, len, in, 0);
		assert_memory_equal(ours, theirs, 600);

		pq_shake128_init(&st);
		for (size_t done = 0, step = 1; done < len; done += step, step = step * 3 + 1)
			pq_keccak_absorb(&st, in + done, step < len - done ? step : len - done);
		pq_keccak_finalize(&st);
		for (size_t done = 0, step = 5; done < sizeof(ours); done += step, step = step * 2 + 3)
			pq_keccak_squeeze(&st, ours + done,
					  step < sizeof(ours) - done ? step : sizeof(ours) - done);
		ossl_xof("SHAKE128", theirs, sizeof(theirs), in, len, in, 0);
		assert_memory_equal(ours, theirs, sizeof(ours));
		n += 4;
	}
	pq_test_checked("SHA3-256/SHA3-512/SHAKE128/SHAKE256 vs OpenSSL", n);
}

/* ACVP keyGen: KeyGen_internal(d, z) -> ek, dk. */
static void test_keygen_vectors(void **state)
{
	static uint8_t d[32], z[32], ek[EK_LEN], dk[DK_LEN], ek_got[EK_LEN], dk_got[DK_LEN];
	struct pq_vec_file vf;
	size_t n = 0;

	pq_vec_open(&vf, "mlkem1024_keygen.txt");
	while (pq_vec_next(&vf)) {
		pq_vec_hex(&vf, "d", d, sizeof(d));
		pq_vec_hex(&vf, "z", z, sizeof(z));
		pq_vec_hex(&vf, "ek", ek, sizeof(ek));
		pq_vec_hex(&vf, "dk", dk, sizeof(dk));
		assert_int_equal(pq_mlkem1024_keypair_derand(ek_got, dk_got, d, z), 0);
		expect_equal(&vf, "ek", ek_got, ek, EK_LEN);
		expect_equal(&vf, "dk", dk_got, dk, DK_LEN);
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, 25);
	pq_test_checked("mlkem1024_keygen.txt", n);
}

/* ACVP encapsulation: Encaps_internal(ek, m) -> c, k. */
static void test_encap_vectors(void **state)
{
	static uint8_t ek[EK_LEN], m[32], c[CT_LEN], k[SS_LEN], c_got[CT_LEN], k_got[SS_LEN];
	struct pq_vec_file vf;
	size_t n = 0;

	pq_vec_open(&vf, "mlkem1024_encap.txt");
	while (pq_vec_next(&vf)) {
		pq_vec_hex(&vf, "ek", ek, sizeof(ek));
		pq_vec_hex(&vf, "m", m, sizeof(m));
		pq_vec_hex(&vf, "c", c, sizeof(c));
		pq_vec_hex(&vf, "k", k, sizeof(k));
		assert_int_equal(pq_mlkem1024_encaps_derand(c_got, k_got, ek, m), 0);
		expect_equal(&vf, "c", c_got, c, CT_LEN);
		expect_equal(&vf, "k", k_got, k, SS_LEN);
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, 25);
	pq_test_checked("mlkem1024_encap.txt", n);
}

/* ACVP decapsulation: 5 valid and 5 modified ciphertexts; the modified
 * ones must give J(z || c), counted independently here. */
static void test_decap_vectors(void **state)
{
	static uint8_t dk[DK_LEN], c[CT_LEN], k[SS_LEN], k_got[SS_LEN], k_bar[SS_LEN];
	struct pq_vec_file vf;
	size_t n = 0, rejected = 0;

	pq_vec_open(&vf, "mlkem1024_decap.txt");
	while (pq_vec_next(&vf)) {
		pq_vec_hex(&vf, "dk", dk, sizeof(dk));
		pq_vec_hex(&vf, "c", c, sizeof(c));
		pq_vec_hex(&vf, "k", k, sizeof(k));
		assert_int_equal(pq_mlkem1024_decaps(k_got, c, dk), 0);
		expect_equal(&vf, "k", k_got, k, SS_LEN);
		rejection_key(k_bar, dk, c);
		rejected += memcmp(k, k_bar, SS_LEN) == 0;
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, 10);
	assert_int_equal(rejected, 5);
	pq_test_checked("mlkem1024_decap.txt (5 implicit rejections)", n);
}

/* ACVP §7.2 ek check: the API type fixes the length, so a key of another
 * length is refused before the call; a key of the right length must pass
 * pq_mlkem1024_check_ek exactly when valid. */
static void test_ekcheck_vectors(void **state)
{
	static uint8_t ek[4096], c[CT_LEN], k[SS_LEN];
	struct pq_vec_file vf;
	size_t n = 0;

	pq_vec_open(&vf, "mlkem1024_ekcheck.txt");
	while (pq_vec_next(&vf)) {
		size_t len = pq_vec_hex_any(&vf, "ek", ek, sizeof(ek));
		int valid = pq_vec_bool(&vf, "valid");
		int accepted = 0;
		if (len == EK_LEN) {
			int err = pq_mlkem1024_check_ek(ek);
			assert_true(err == 0 || err == PQ_E_KEY);
			accepted = err == 0;
			assert_int_equal(pq_mlkem1024_encaps(c, k, ek), accepted ? 0 : PQ_E_KEY);
		}
		if (accepted != valid)
			fail_msg("%s:%lu: ek (%zu bytes) %s, expected %s", vf.path, vf.case_line, len,
				 accepted ? "accepted" : "rejected", valid ? "valid" : "invalid");
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, 10);
	pq_test_checked("mlkem1024_ekcheck.txt", n);
}

/* ACVP §7.3 dk check (hash check); decaps must refuse the invalid ones. */
static void test_dkcheck_vectors(void **state)
{
	static uint8_t dk[DK_LEN], c[CT_LEN], k[SS_LEN];
	struct pq_vec_file vf;
	size_t n = 0;

	memset(c, 0x5a, sizeof(c));
	pq_vec_open(&vf, "mlkem1024_dkcheck.txt");
	while (pq_vec_next(&vf)) {
		int valid = pq_vec_bool(&vf, "valid");
		pq_vec_hex(&vf, "dk", dk, sizeof(dk));
		int err = pq_mlkem1024_check_dk(dk);
		if (err != (valid ? 0 : PQ_E_KEY))
			fail_msg("%s:%lu: check_dk returned %d, expected %s", vf.path, vf.case_line, err,
				 valid ? "0" : "PQ_E_KEY");
		assert_int_equal(pq_mlkem1024_decaps(k, c, dk), valid ? 0 : PQ_E_KEY);
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, 10);
	pq_test_checked("mlkem1024_dkcheck.txt", n);
}

/* CCTV modulus: every key has a coefficient >= q; check_ek and both
 * encaps variants must refuse each one. */
static void test_cctv_modulus(void **state)
{
	static uint8_t ek[EK_LEN], c[CT_LEN], k[SS_LEN], m[32];
	struct pq_vec_file vf;
	size_t n = 0;

	pq_vec_open(&vf, "mlkem1024_cctv_modulus.txt");
	while (pq_vec_next(&vf)) {
		pq_vec_hex(&vf, "ek", ek, sizeof(ek));
		assert_int_equal(pq_vec_bool(&vf, "valid"), 0);
		if (pq_mlkem1024_check_ek(ek) != PQ_E_KEY)
			fail_msg("%s:%lu: check_ek accepted a key with a coefficient >= q", vf.path, vf.case_line);
		assert_int_equal(pq_mlkem1024_encaps(c, k, ek), PQ_E_KEY);
		assert_int_equal(pq_mlkem1024_encaps_derand(c, k, ek, m), PQ_E_KEY);
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, 1040);
	pq_test_checked("mlkem1024_cctv_modulus.txt", n);
}

/* CCTV strcmp: c and c' share a leading zero byte; the result must still
 * be the rejection key. */
static void test_cctv_strcmp(void **state)
{
	static uint8_t dk[DK_LEN], c[CT_LEN], k[SS_LEN], k_got[SS_LEN], k_bar[SS_LEN];
	struct pq_vec_file vf;
	size_t n = 0;

	pq_vec_open(&vf, "mlkem1024_cctv_strcmp.txt");
	while (pq_vec_next(&vf)) {
		pq_vec_hex(&vf, "dk", dk, sizeof(dk));
		pq_vec_hex(&vf, "c", c, sizeof(c));
		pq_vec_hex(&vf, "k", k, sizeof(k));
		assert_int_equal(pq_mlkem1024_decaps(k_got, c, dk), 0);
		expect_equal(&vf, "k", k_got, k, SS_LEN);
		rejection_key(k_bar, dk, c);
		assert_memory_equal(k_got, k_bar, SS_LEN);
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, 1);
	pq_test_checked("mlkem1024_cctv_strcmp.txt", n);
}

/* CCTV unlucky: SampleNTT needs more than 575 SHAKE128 bytes; full round trip. */
static void test_cctv_unlucky(void **state)
{
	static uint8_t d[32], z[32], m[32], ek[EK_LEN], dk[DK_LEN], c[CT_LEN], k[SS_LEN];
	static uint8_t ek_got[EK_LEN], dk_got[DK_LEN], c_got[CT_LEN], k_got[SS_LEN], k_dec[SS_LEN];
	struct pq_vec_file vf;
	size_t n = 0;

	pq_vec_open(&vf, "mlkem1024_cctv_unlucky.txt");
	while (pq_vec_next(&vf)) {
		pq_vec_hex(&vf, "d", d, sizeof(d));
		pq_vec_hex(&vf, "z", z, sizeof(z));
		pq_vec_hex(&vf, "m", m, sizeof(m));
		pq_vec_hex(&vf, "ek", ek, sizeof(ek));
		pq_vec_hex(&vf, "dk", dk, sizeof(dk));
		pq_vec_hex(&vf, "c", c, sizeof(c));
		pq_vec_hex(&vf, "k", k, sizeof(k));
		assert_int_equal(pq_mlkem1024_keypair_derand(ek_got, dk_got, d, z), 0);
		expect_equal(&vf, "ek", ek_got, ek, EK_LEN);
		expect_equal(&vf, "dk", dk_got, dk, DK_LEN);
		assert_int_equal(pq_mlkem1024_encaps_derand(c_got, k_got, ek, m), 0);
		expect_equal(&vf, "c", c_got, c, CT_LEN);
		expect_equal(&vf, "k", k_got, k, SS_LEN);
		assert_int_equal(pq_mlkem1024_decaps(k_dec, c, dk), 0);
		expect_equal(&vf, "decapsulated k", k_dec, k, SS_LEN);
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, 1);
	pq_test_checked("mlkem1024_cctv_unlucky.txt", n);
}

/* The CCTV accumulated test, exactly as the vector file's header
 * describes it; returns the 32-byte hash after `iterations` rounds. */
static void cctv_accumulate(uint8_t hash[32], unsigned long long iterations)
{
	static uint8_t seeds[96], ct[CT_LEN], ek[EK_LEN], dk[DK_LEN], c[CT_LEN];
	uint8_t k[SS_LEN], k_dec[SS_LEN], k_rej[SS_LEN];
	pq_keccak_state rng, acc;

	pq_shake128_init(&rng);
	pq_keccak_finalize(&rng);
	pq_shake128_init(&acc);
	for (unsigned long long i = 0; i < iterations; i++) {
		pq_keccak_squeeze(&rng, seeds, sizeof(seeds));   /* d, z, m */
		pq_keccak_squeeze(&rng, ct, sizeof(ct));
		assert_int_equal(pq_mlkem1024_keypair_derand(ek, dk, seeds, seeds + 32), 0);
		assert_int_equal(pq_mlkem1024_encaps_derand(c, k, ek, seeds + 64), 0);
		assert_int_equal(pq_mlkem1024_decaps(k_dec, c, dk), 0);
		assert_memory_equal(k_dec, k, SS_LEN);
		assert_int_equal(pq_mlkem1024_decaps(k_rej, ct, dk), 0);
		pq_keccak_absorb(&acc, ek, sizeof(ek));
		pq_keccak_absorb(&acc, dk, sizeof(dk));
		pq_keccak_absorb(&acc, c, sizeof(c));
		pq_keccak_absorb(&acc, k, sizeof(k));
		pq_keccak_absorb(&acc, k_rej, sizeof(k_rej));
	}
	pq_keccak_finalize(&acc);
	pq_keccak_squeeze(&acc, hash, 32);
}

/* Runs every case of the accumulated file up to 10 000 iterations (about
 * 2 s here; the 1 000 000 case takes minutes and is left to
 * tool_mlkem_accumulated). Under the sanitizer pass only the 100-iteration
 * case runs: it covers the same code and ASan+UBSan would add ~8 s of CPU. */
static void test_cctv_accumulated(void **state)
{
	const char *san = getenv("PQ_SANITIZER");
	unsigned long long limit = (san != NULL && strcmp(san, "1") == 0) ? 100 : 10000;
	struct pq_vec_file vf;
	uint8_t want[32], got[32];
	size_t n = 0;
	char what[96];

	pq_vec_open(&vf, "mlkem1024_cctv_accumulated.txt");
	while (pq_vec_next(&vf)) {
		unsigned long long iterations = pq_vec_ull(&vf, "iterations");
		pq_vec_hex(&vf, "hash", want, sizeof(want));
		if (iterations > limit)
			continue;
		cctv_accumulate(got, iterations);
		expect_equal(&vf, "accumulated hash", got, want, sizeof(want));
		snprintf(what, sizeof(what), "mlkem1024_cctv_accumulated.txt (%llu iterations)", iterations);
		pq_test_checked(what, 1);
		n++;
	}
	pq_vec_close(&vf);
	assert_int_equal(n, limit == 100 ? 1 : 2);
}

/* A valid key with one coefficient set to q (first) or 4095 (last) must
 * be refused by check_ek and both encaps variants with PQ_E_KEY. */
static void test_encaps_rejects_bad_ek(void **state)
{
	static uint8_t ek[EK_LEN], dk[DK_LEN], bad[EK_LEN], c[CT_LEN];
	uint8_t seed[32] = { 1 }, k[SS_LEN];

	assert_int_equal(pq_mlkem1024_keypair_derand(ek, dk, seed, seed), 0);
	assert_int_equal(pq_mlkem1024_check_ek(ek), 0);

	memcpy(bad, ek, EK_LEN);
	bad[0] = 0x01;                               /* coefficient 0 = 0xd01 = q */
	bad[1] = (uint8_t)((bad[1] & 0xf0) | 0x0d);
	assert_int_equal(pq_mlkem1024_check_ek(bad), PQ_E_KEY);
	assert_int_equal(pq_mlkem1024_encaps(c, k, bad), PQ_E_KEY);
	assert_int_equal(pq_mlkem1024_encaps_derand(c, k, bad, seed), PQ_E_KEY);

	memcpy(bad, ek, EK_LEN);
	bad[1535] = 0xff;                            /* last coefficient of t = 4095 */
	bad[1534] |= 0xf0;
	assert_int_equal(pq_mlkem1024_check_ek(bad), PQ_E_KEY);
	assert_int_equal(pq_mlkem1024_encaps(c, k, bad), PQ_E_KEY);

	/* rho is not a coefficient: any bytes are fine there */
	memcpy(bad, ek, EK_LEN);
	memset(bad + 1536, 0xff, 32);
	assert_int_equal(pq_mlkem1024_check_ek(bad), 0);
	assert_int_equal(pq_mlkem1024_encaps(c, k, bad), 0);
}

/* A dk whose embedded ek or H(ek) was altered fails §7.3: decaps says PQ_E_KEY. */
static void test_decaps_rejects_bad_dk(void **state)
{
	static uint8_t ek[EK_LEN], dk[DK_LEN], bad[DK_LEN], c[CT_LEN];
	uint8_t seed[32] = { 2 }, k[SS_LEN], k_dec[SS_LEN];
	static const size_t flips[] = { DK_EK_OFFSET, DK_EK_OFFSET + 1000, DK_H_OFFSET, DK_H_OFFSET + 31 };

	assert_int_equal(pq_mlkem1024_keypair_derand(ek, dk, seed, seed), 0);
	assert_int_equal(pq_mlkem1024_encaps_derand(c, k, ek, seed), 0);
	assert_int_equal(pq_mlkem1024_check_dk(dk), 0);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(bad, dk, DK_LEN);
		bad[flips[i]] ^= 0x01;
		assert_int_equal(pq_mlkem1024_check_dk(bad), PQ_E_KEY);
		assert_int_equal(pq_mlkem1024_decaps(k_dec, c, bad), PQ_E_KEY);
	}
	assert_int_equal(pq_mlkem1024_decaps(k_dec, c, dk), 0);
	assert_memory_equal(k_dec, k, SS_LEN);
}

/* keypair/encaps/decaps with fresh randomness agree; a changed ciphertext
 * gives J(z || c') instead, and two keypairs differ. */
static void test_random_round_trip(void **state)
{
	static uint8_t ek[EK_LEN], dk[DK_LEN], ek2[EK_LEN], dk2[DK_LEN], c[CT_LEN];
	uint8_t k[SS_LEN], k_dec[SS_LEN], k_bar[SS_LEN];
	size_t n;

	for (n = 0; n < 20; n++) {
		assert_int_equal(pq_mlkem1024_keypair(ek, dk), 0);
		assert_int_equal(pq_mlkem1024_check_ek(ek), 0);
		assert_int_equal(pq_mlkem1024_check_dk(dk), 0);
		assert_int_equal(pq_mlkem1024_encaps(c, k, ek), 0);
		assert_int_equal(pq_mlkem1024_decaps(k_dec, c, dk), 0);
		assert_memory_equal(k_dec, k, SS_LEN);

		c[n * 77 % CT_LEN] ^= (uint8_t)(1u << (n % 8));
		assert_int_equal(pq_mlkem1024_decaps(k_dec, c, dk), 0);
		rejection_key(k_bar, dk, c);
		assert_memory_equal(k_dec, k_bar, SS_LEN);
		assert_memory_not_equal(k_dec, k, SS_LEN);
	}
	assert_int_equal(pq_mlkem1024_keypair(ek2, dk2), 0);
	assert_memory_not_equal(ek2, ek, EK_LEN);
	assert_memory_not_equal(dk2 + DK_Z_OFFSET, dk + DK_Z_OFFSET, 32);
	pq_test_checked("random keypair/encaps/decaps round trips", n);
}

/* A failing generator gives PQ_E_RANDOM; EINTR and short reads are
 * retried until the request is filled. */
static void test_randomness_failures(void **state)
{
	static uint8_t ek[EK_LEN], dk[DK_LEN], c[CT_LEN];
	uint8_t k[SS_LEN], k_dec[SS_LEN];
	unsigned long calls_before;

	random_mode = RANDOM_FAIL;
	assert_int_equal(pq_mlkem1024_keypair(ek, dk), PQ_E_RANDOM);
	random_mode = RANDOM_REAL;
	assert_int_equal(pq_mlkem1024_keypair(ek, dk), 0);
	random_mode = RANDOM_FAIL;
	assert_int_equal(pq_mlkem1024_encaps(c, k, ek), PQ_E_RANDOM);

	random_mode = RANDOM_EINTR_ONCE;
	assert_int_equal(pq_mlkem1024_keypair(ek, dk), 0);
	assert_int_equal(random_mode, RANDOM_REAL);   /* the EINTR path was taken */

	random_mode = RANDOM_SHORT;
	calls_before = random_calls;
	assert_int_equal(pq_mlkem1024_encaps(c, k, ek), 0);
	assert_true(random_calls - calls_before >= 5);  /* 32 bytes at 7 per call */
	random_mode = RANDOM_REAL;
	assert_int_equal(pq_mlkem1024_decaps(k_dec, c, dk), 0);
	assert_memory_equal(k_dec, k, SS_LEN);
}

static void test_null_arguments(void **state)
{
	static uint8_t ek[EK_LEN], dk[DK_LEN], c[CT_LEN];
	uint8_t s[32] = { 0 }, k[SS_LEN];

	assert_int_equal(pq_mlkem1024_keypair_derand(NULL, dk, s, s), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_keypair_derand(ek, NULL, s, s), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_keypair_derand(ek, dk, NULL, s), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_keypair_derand(ek, dk, s, NULL), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_keypair(NULL, dk), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_keypair(ek, NULL), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_keypair_derand(ek, dk, s, s), 0);
	assert_int_equal(pq_mlkem1024_encaps_derand(NULL, k, ek, s), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_encaps_derand(c, NULL, ek, s), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_encaps_derand(c, k, NULL, s), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_encaps_derand(c, k, ek, NULL), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_encaps(NULL, k, ek), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_encaps(c, NULL, ek), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_encaps(c, k, NULL), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_encaps(c, k, ek), 0);
	assert_int_equal(pq_mlkem1024_decaps(NULL, c, dk), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_decaps(k, NULL, dk), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_decaps(k, c, NULL), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_check_ek(NULL), PQ_E_INVAL);
	assert_int_equal(pq_mlkem1024_check_dk(NULL), PQ_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compress_exhaustive),
		cmocka_unit_test(test_reduce_exhaustive),
		cmocka_unit_test(test_fips202_vs_openssl),
		cmocka_unit_test(test_keygen_vectors),
		cmocka_unit_test(test_encap_vectors),
		cmocka_unit_test(test_decap_vectors),
		cmocka_unit_test(test_ekcheck_vectors),
		cmocka_unit_test(test_dkcheck_vectors),
		cmocka_unit_test(test_cctv_modulus),
		cmocka_unit_test(test_cctv_strcmp),
		cmocka_unit_test(test_cctv_unlucky),
		cmocka_unit_test(test_cctv_accumulated),
		cmocka_unit_test(test_encaps_rejects_bad_ek),
		cmocka_unit_test(test_decaps_rejects_bad_dk),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_randomness_failures),
		cmocka_unit_test(test_null_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
