/*
 * test_mlkem_paths.c - the AVX2 path of ML-KEM-1024 (src/crypto/mlkem/x86)
 * against the portable path, in one process: each case runs once with
 * pq_mlkem__force_portable(true) and once with it false, and every output
 * byte must agree. First function by function on random inputs (NTT,
 * NTT^-1, Barrett, Montgomery factor, the NTT-domain dot product and its
 * cache, CBD, ByteEncode/Decode 12, Compress/Decompress 11, 5 and 1,
 * matrix and noise sampling), then whole KeyGen / Encaps / Decaps over random
 * seeds, with tampered ciphertexts for implicit rejection.
 *
 * The vector files run on both paths too: tests/run.sh runs
 * test_mlkem_vectors on the default (AVX2) path, check_mlkem_paths.sh again
 * with PQLAN_MLKEM_PORTABLE=1.
 *
 * A CPU without AVX2 (or a build with -DPQ_MLKEM_NO_AVX2) has no second
 * path to compare: the test fails there.
 */
#include "testutil.h"

#include "crypto/mlkem.h"
#include "crypto/mlkem/poly.h"
#include "crypto/mlkem/compress.h"
#include "crypto/mlkem/polyvec.h"
#include "crypto/mlkem/sampling.h"
#include "crypto/mlkem/x86/avx2.h"

#define KEM_SEEDS 1000
#define POLY_CASES 2000
#define SAMPLE_CASES 200

/* splitmix64 from a fixed start: every run checks the same inputs, so a
 * failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next();
}

/* uniform in [lo, hi] */
static int16_t rng_range(int32_t lo, int32_t hi)
{
	return (int16_t)(lo + (int32_t)(rng_next() % (uint64_t)(hi - lo + 1)));
}

static void rng_poly(pq_mlkem_poly *p, int32_t lo, int32_t hi)
{
	for (unsigned int i = 0; i < MLKEM_N; i++)
		p->coeffs[i] = rng_range(lo, hi);
}

static int setup_paths(void **state)
{
	(void)state;
	if (!pq_mlkem_cpu_has_avx2()) {
		fprintf(stderr, "no AVX2 path in this build or CPU: there is no second path to compare\n");
		return -1;
	}
	pq_mlkem__force_portable(false);
	if (!pq_mlkem_use_avx2()) {
		fprintf(stderr, "AVX2 path not selected (PQLAN_MLKEM_PORTABLE set?)\n");
		return -1;
	}
	return 0;
}

static int teardown_paths(void **state)
{
	(void)state;
	pq_mlkem__force_portable(false);
	return 0;
}

static void use_portable(bool portable)
{
	pq_mlkem__force_portable(portable);
	assert_int_equal(pq_mlkem_use_avx2(), portable ? 0 : 1);
}

typedef void (*poly_op)(pq_mlkem_poly *p);

/* Run op on the same input on both paths; outputs must be equal. */
static void same_on_both(poly_op op, int32_t lo, int32_t hi, size_t *checked)
{
	pq_mlkem_poly in, port, vec;

	rng_poly(&in, lo, hi);
	port = in;
	vec = in;
	use_portable(true);
	op(&port);
	use_portable(false);
	op(&vec);
	assert_memory_equal(port.coeffs, vec.coeffs, sizeof(port.coeffs));
	(*checked)++;
}

static void test_poly_ops(void **state)
{
	size_t ntt = 0, inv = 0, red = 0, mont = 0;

	(void)state;
	for (int i = 0; i < POLY_CASES; i++) {
		/* the input ranges of poly.h */
		same_on_both(pq_mlkem_poly_ntt, -(MLKEM_Q - 1), MLKEM_Q - 1, &ntt);
		same_on_both(pq_mlkem_poly_invntt_tomont, -(MLKEM_Q - 1), MLKEM_Q - 1, &inv);
		same_on_both(pq_mlkem_poly_reduce, INT16_MIN, INT16_MAX, &red);
		same_on_both(pq_mlkem_poly_tomont, INT16_MIN, INT16_MAX, &mont);
	}
	/* extremes: every coefficient at a bound */
	for (int16_t v = -(MLKEM_Q - 1); v <= MLKEM_Q - 1; v += MLKEM_Q - 1) {
		pq_mlkem_poly a, b;
		for (unsigned int j = 0; j < MLKEM_N; j++)
			a.coeffs[j] = v;
		b = a;
		use_portable(true);
		pq_mlkem_poly_ntt(&a);
		use_portable(false);
		pq_mlkem_poly_ntt(&b);
		assert_memory_equal(a.coeffs, b.coeffs, sizeof(a.coeffs));
		ntt++;
	}
	printf("checked: %zu ntt, %zu invntt, %zu reduce, %zu tomont on both paths\n", ntt, inv, red, mont);
}

static void test_dot(void **state)
{
	pq_mlkem_polyvec a, b;
	pq_mlkem_polyvec_mulcache cache;
	pq_mlkem_poly port, vec;
	size_t n = 0;

	(void)state;
	for (int c = 0; c < POLY_CASES; c++) {
		for (unsigned int i = 0; i < MLKEM_K; i++) {
			/* c = 0, 1: the largest products the bounds allow */
			int32_t alo = c == 1 ? 4095 : 0;
			rng_poly(&a.vec[i], alo, 4095);
			if (c == 0)
				rng_poly(&b.vec[i], -(MLKEM_Q - 1) / 2, -(MLKEM_Q - 1) / 2);
			else
				rng_poly(&b.vec[i], -(MLKEM_Q - 1) / 2, (MLKEM_Q - 1) / 2);
		}
		pq_mlkem_polyvec_mulcache_compute(&cache, &b);
		use_portable(true);
		pq_mlkem_polyvec_dot(&port, &a, &b, &cache);
		use_portable(false);
		pq_mlkem_polyvec_dot(&vec, &a, &b, &cache);
		assert_memory_equal(port.coeffs, vec.coeffs, sizeof(port.coeffs));
		n++;
	}
	printf("checked: %zu polyvec dot products on both paths\n", n);
}

static void test_mulcache_cbd(void **state)
{
	pq_mlkem_poly b, port_p, vec_p;
	pq_mlkem_poly_mulcache port_c, vec_c;
	uint8_t buf[MLKEM_CBD_BYTES];
	size_t caches = 0, cbds = 0;

	(void)state;
	for (int c = 0; c < POLY_CASES; c++) {
		rng_poly(&b, INT16_MIN, INT16_MAX); /* fqmul's bound holds for any int16 */
		use_portable(true);
		pq_mlkem_poly_mulcache_compute(&port_c, &b);
		use_portable(false);
		pq_mlkem_poly_mulcache_compute(&vec_c, &b);
		assert_memory_equal(port_c.coeffs, vec_c.coeffs, sizeof(port_c.coeffs));
		caches++;

		rng_bytes(buf, sizeof(buf));
		if (c < 2)
			memset(buf, c ? 0xff : 0x00, sizeof(buf));
		use_portable(true);
		pq_mlkem_sample_cbd2(&port_p, buf);
		use_portable(false);
		pq_mlkem_sample_cbd2(&vec_p, buf);
		assert_memory_equal(port_p.coeffs, vec_p.coeffs, sizeof(port_p.coeffs));
		cbds++;
	}
	printf("checked: %zu mulcaches, %zu CBD_2 samples on both paths\n", caches, cbds);
}

/* Polynomials whose coefficients run through every value of (-q, q) once,
 * then random ones. */
static void codec_input(pq_mlkem_poly *p, int c)
{
	for (unsigned int j = 0; j < MLKEM_N; j++) {
		int32_t v = -(MLKEM_Q - 1) + c * MLKEM_N + (int32_t)j;
		p->coeffs[j] = v < MLKEM_Q ? (int16_t)v : rng_range(-(MLKEM_Q - 1), MLKEM_Q - 1);
	}
}

static void test_codec(void **state)
{
	pq_mlkem_poly a, b, port_p, vec_p;
	uint8_t port_b[MLKEM_POLYBYTES], vec_b[MLKEM_POLYBYTES], in[MLKEM_POLYBYTES];
	size_t enc = 0, dec = 0, arith = 0;

	(void)state;
	for (int c = 0; c < POLY_CASES; c++) {
		codec_input(&a, c);
		use_portable(true);
		pq_mlkem_poly_tobytes(port_b, &a);
		use_portable(false);
		pq_mlkem_poly_tobytes(vec_b, &a);
		assert_memory_equal(port_b, vec_b, MLKEM_POLYBYTES);
		use_portable(true);
		pq_mlkem_poly_compress_du(port_b, &a);
		use_portable(false);
		pq_mlkem_poly_compress_du(vec_b, &a);
		assert_memory_equal(port_b, vec_b, MLKEM_POLY_DU_BYTES);
		use_portable(true);
		pq_mlkem_poly_compress_dv(port_b, &a);
		use_portable(false);
		pq_mlkem_poly_compress_dv(vec_b, &a);
		assert_memory_equal(port_b, vec_b, MLKEM_POLY_DV_BYTES);
		use_portable(true);
		pq_mlkem_poly_tomsg(port_b, &a);
		use_portable(false);
		pq_mlkem_poly_tomsg(vec_b, &a);
		assert_memory_equal(port_b, vec_b, MLKEM_SYMBYTES);
		enc += 4;

		rng_bytes(in, sizeof(in));
		if (c < 2)
			memset(in, c ? 0xff : 0x00, sizeof(in));
		use_portable(true);
		pq_mlkem_poly_frombytes(&port_p, in);
		use_portable(false);
		pq_mlkem_poly_frombytes(&vec_p, in);
		assert_memory_equal(port_p.coeffs, vec_p.coeffs, sizeof(port_p.coeffs));
		use_portable(true);
		pq_mlkem_poly_decompress_du(&port_p, in);
		use_portable(false);
		pq_mlkem_poly_decompress_du(&vec_p, in);
		assert_memory_equal(port_p.coeffs, vec_p.coeffs, sizeof(port_p.coeffs));
		use_portable(true);
		pq_mlkem_poly_decompress_dv(&port_p, in);
		use_portable(false);
		pq_mlkem_poly_decompress_dv(&vec_p, in);
		assert_memory_equal(port_p.coeffs, vec_p.coeffs, sizeof(port_p.coeffs));
		use_portable(true);
		pq_mlkem_poly_frommsg(&port_p, in);
		use_portable(false);
		pq_mlkem_poly_frommsg(&vec_p, in);
		assert_memory_equal(port_p.coeffs, vec_p.coeffs, sizeof(port_p.coeffs));
		dec += 4;

		rng_poly(&a, INT16_MIN, INT16_MAX);
		rng_poly(&b, INT16_MIN, INT16_MAX);
		use_portable(true);
		pq_mlkem_poly_add(&port_p, &a, &b);
		use_portable(false);
		pq_mlkem_poly_add(&vec_p, &a, &b);
		assert_memory_equal(port_p.coeffs, vec_p.coeffs, sizeof(port_p.coeffs));
		use_portable(true);
		pq_mlkem_poly_sub(&port_p, &a, &b);
		use_portable(false);
		pq_mlkem_poly_sub(&vec_p, &a, &b);
		assert_memory_equal(port_p.coeffs, vec_p.coeffs, sizeof(port_p.coeffs));
		arith += 2;
	}
	printf("checked: %zu ByteEncode12/Compress11/Compress5/Compress1 (all of (-q, q) included), "
	       "%zu ByteDecode12/Decompress11/Decompress5/Decompress1, %zu add/sub on both paths\n",
	       enc, dec, arith);
}

static void test_sampling(void **state)
{
	static pq_mlkem_matrix port_m, vec_m;
	pq_mlkem_polyvec port_v, vec_v;
	uint8_t seed[MLKEM_SYMBYTES];
	size_t mats = 0, noise = 0;

	(void)state;
	for (int c = 0; c < SAMPLE_CASES; c++) {
		rng_bytes(seed, sizeof(seed));
		for (int transposed = 0; transposed <= 1; transposed++) {
			use_portable(true);
			pq_mlkem_matrix_expand(&port_m, seed, transposed);
			use_portable(false);
			pq_mlkem_matrix_expand(&vec_m, seed, transposed);
			assert_memory_equal(&port_m, &vec_m, sizeof(port_m));
			mats++;
		}
		uint8_t nonce0 = (uint8_t)rng_next();
		use_portable(true);
		pq_mlkem_polyvec_noise(&port_v, seed, nonce0);
		use_portable(false);
		pq_mlkem_polyvec_noise(&vec_v, seed, nonce0);
		assert_memory_equal(&port_v, &vec_v, sizeof(port_v));
		noise++;
	}
	printf("checked: %zu matrices (16 SampleNTT each), %zu noise vectors on both paths\n", mats, noise);
}

struct kem_run {
	uint8_t ek[PQ_MLKEM1024_EK_LEN], dk[PQ_MLKEM1024_DK_LEN], ct[PQ_MLKEM1024_CT_LEN];
	uint8_t ss_enc[32], ss_dec[32], ss_bad[32];
};

/* KeyGen, Encaps, Decaps and Decaps of bad_ct on one path. */
static void kem_once(struct kem_run *r, bool portable, const uint8_t d[32], const uint8_t z[32],
		     const uint8_t m[32], size_t flip_bit)
{
	uint8_t bad_ct[PQ_MLKEM1024_CT_LEN];

	use_portable(portable);
	assert_int_equal(pq_mlkem1024_keypair_derand(r->ek, r->dk, d, z), 0);
	assert_int_equal(pq_mlkem1024_encaps_derand(r->ct, r->ss_enc, r->ek, m), 0);
	assert_int_equal(pq_mlkem1024_decaps(r->ss_dec, r->ct, r->dk), 0);
	memcpy(bad_ct, r->ct, sizeof(bad_ct));
	bad_ct[flip_bit / 8] ^= (uint8_t)(1u << (flip_bit % 8));
	assert_int_equal(pq_mlkem1024_decaps(r->ss_bad, bad_ct, r->dk), 0);
}

static void test_kem_differential(void **state)
{
	static struct kem_run port, vec;
	uint8_t d[32], z[32], m[32];
	size_t n = 0, rejected = 0;

	(void)state;
	for (int c = 0; c < KEM_SEEDS; c++) {
		rng_bytes(d, sizeof(d));
		rng_bytes(z, sizeof(z));
		rng_bytes(m, sizeof(m));
		size_t flip = (size_t)(rng_next() % (8 * PQ_MLKEM1024_CT_LEN));
		kem_once(&port, true, d, z, m, flip);
		kem_once(&vec, false, d, z, m, flip);
		assert_memory_equal(port.ek, vec.ek, sizeof(port.ek));
		assert_memory_equal(port.dk, vec.dk, sizeof(port.dk));
		assert_memory_equal(port.ct, vec.ct, sizeof(port.ct));
		assert_memory_equal(port.ss_enc, vec.ss_enc, 32);
		assert_memory_equal(port.ss_dec, vec.ss_dec, 32);
		assert_memory_equal(port.ss_bad, vec.ss_bad, 32);
		/* the round trip holds, and a flipped bit is rejected implicitly */
		assert_memory_equal(vec.ss_enc, vec.ss_dec, 32);
		assert_memory_not_equal(vec.ss_enc, vec.ss_bad, 32);
		n++;
		rejected++; /* asserted just above */
	}
	printf("checked: %zu seeds keygen/encaps/decaps identical on both paths, %zu tampered ciphertexts\n",
	       n, rejected);
}

/* Run by check_mlkem_paths.sh as "test_mlkem_paths env-portable" with
 * PQLAN_MLKEM_PORTABLE=1: the override must select the portable path. */
static void test_env_override(void **state)
{
	(void)state;
	assert_int_equal(pq_mlkem_cpu_has_avx2(), 1);
	assert_int_equal(pq_mlkem_use_avx2(), 0);
	printf("checked: PQLAN_MLKEM_PORTABLE=1 selects the portable path 1 cases\n");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest env_tests[] = {
		cmocka_unit_test(test_env_override),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poly_ops),
		cmocka_unit_test(test_dot),
		cmocka_unit_test(test_mulcache_cbd),
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_sampling),
		cmocka_unit_test(test_kem_differential),
	};

	if (argc > 1 && strcmp(argv[1], "env-portable") == 0)
		return cmocka_run_group_tests(env_tests, NULL, NULL);
	return cmocka_run_group_tests(tests, setup_paths, teardown_paths);
}
