/*
 * tool_ct_mlkem.c - constant-time check of pqlan's ML-KEM-1024 under
 * valgrind memcheck (run by tests/crypto/check_mlkem_ct.sh).
 *
 * Every secret input (d, z, m, the secret parts of dk) is marked undefined
 * with VALGRIND_MAKE_MEM_UNDEFINED before the call under test. Memcheck then
 * reports any branch or memory address that depends on it - the two leaks a
 * timing attacker can see - anywhere inside the library. It does not see
 * variable-time instructions such as div: check_mlkem_ct.sh scans this
 * binary for those instead.
 *
 * Only values that are public by the protocol are marked defined again,
 * each where it happens, with the reason beside it. One public value is
 * born inside a call, where this tool cannot mark it: rho = G(d || k)[0:32]
 * in KeyGen (it ends up in ek); mlkem_ct.supp covers SampleNTT on it, and
 * nothing else. Secret outputs (ss) are
 * never compared or printed under poison: their correctness is checked in a
 * first run with nothing poisoned, on the same inputs, and by the vector and
 * differential tests.
 *
 * Exits 0 when every call behaved; valgrind's --error-exitcode makes any
 * memcheck report fail the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "crypto/mlkem.h"
#include "util/err.h"

#define SEED_LEN 32
/* dk = dk_PKE || ek || H(ek) || z (FIPS 203 Alg. 16, step 3). */
#define DK_PKE_LEN 1536
#define DK_EK_OFF DK_PKE_LEN
#define DK_H_OFF (DK_EK_OFF + PQ_MLKEM1024_EK_LEN)
#define DK_Z_OFF (DK_H_OFF + 32)
#define U_LEN (32 * 11 * 4) /* c1 of the ciphertext: du = 11, k = 4 */
#define Q 3329

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

#define CHECK(cond, ...)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "tool_ct_mlkem: %s:%d: ", __func__, __LINE__);          \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			return -1;                                                               \
		}                                                                                \
	} while (0)

/* One key, one message, and what the unpoisoned run made of them. */
struct kem_case {
	uint8_t d[SEED_LEN], z[SEED_LEN], m[SEED_LEN];
	uint8_t ek[PQ_MLKEM1024_EK_LEN], dk[PQ_MLKEM1024_DK_LEN];
	uint8_t ct[PQ_MLKEM1024_CT_LEN], ss[PQ_MLKEM_SS_LEN];
};

/* Ciphertexts damaged where decryption reads them: first byte, last u byte,
 * first v byte, last byte. All must take the implicit-rejection path. */
static const size_t tamper_at[] = { 0, U_LEN - 1, U_LEN, PQ_MLKEM1024_CT_LEN - 1 };
#define N_TAMPER (sizeof tamper_at / sizeof tamper_at[0])

static unsigned calls_poisoned;

static void fill(uint8_t *buf, size_t len, uint32_t state)
{
	for (size_t i = 0; i < len; i++) {
		state ^= state << 13, state ^= state >> 17, state ^= state << 5; /* xorshift32 */
		buf[i] = (uint8_t)state;
	}
}

static void tamper(uint8_t ct[PQ_MLKEM1024_CT_LEN], size_t which)
{
	ct[tamper_at[which]] ^= (uint8_t)(1u << (which % 8));
}

/* Pushes coefficient 0 of t-hat to q, which the §7.2 modulus check refuses. */
static void break_modulus(uint8_t ek[PQ_MLKEM1024_EK_LEN])
{
	ek[0] = Q & 0xff;
	ek[1] = (uint8_t)((ek[1] & 0xf0) | (Q >> 8));
}

/* Nothing poisoned: the reference outputs, and proof that the tampered
 * ciphertexts really are rejected (so the poisoned run covers that path). */
static int clear_run(struct kem_case *c)
{
	uint8_t ct[PQ_MLKEM1024_CT_LEN], ss[PQ_MLKEM_SS_LEN];

	CHECK(pq_mlkem1024_keypair_derand(c->ek, c->dk, c->d, c->z) == 0, "keypair_derand failed");
	CHECK(pq_mlkem1024_encaps_derand(c->ct, c->ss, c->ek, c->m) == 0, "encaps_derand failed");
	CHECK(pq_mlkem1024_decaps(ss, c->ct, c->dk) == 0, "decaps failed");
	CHECK(memcmp(ss, c->ss, sizeof ss) == 0, "decaps did not recover the shared secret");
	for (size_t i = 0; i < N_TAMPER; i++) {
		memcpy(ct, c->ct, sizeof ct);
		tamper(ct, i);
		CHECK(pq_mlkem1024_decaps(ss, ct, c->dk) == 0, "decaps of tampered ct %zu failed", i);
		CHECK(memcmp(ss, c->ss, sizeof ss) != 0, "tampered ct %zu was not rejected", i);
	}
	return 0;
}

/* KeyGen with d and z secret (FIPS 203 Alg. 19/16). */
static int poisoned_keygen(const struct kem_case *c)
{
	uint8_t d[SEED_LEN], z[SEED_LEN];
	static uint8_t ek[PQ_MLKEM1024_EK_LEN], dk[PQ_MLKEM1024_DK_LEN];

	memcpy(d, c->d, sizeof d);
	memcpy(z, c->z, sizeof z);
	SECRET(d, sizeof d);
	SECRET(z, sizeof z);
	int rc = pq_mlkem1024_keypair_derand(ek, dk, d, z);
	calls_poisoned++;
	CHECK(rc == 0, "keypair_derand failed: %d", rc);
	/* ek is the public key: it is sent in the clear (HS_INIT). The copy of ek
	 * inside dk and H(ek) are the same public bytes and their hash. */
	PUBLIC(ek, sizeof ek);
	PUBLIC(dk + DK_EK_OFF, PQ_MLKEM1024_EK_LEN + 32);
	CHECK(memcmp(ek, c->ek, sizeof ek) == 0, "ek differs from the unpoisoned run");
	CHECK(memcmp(dk + DK_EK_OFF, c->dk + DK_EK_OFF, PQ_MLKEM1024_EK_LEN + 32) == 0,
	      "dk's ek || H(ek) differ from the unpoisoned run");
	return 0;
}

/* Encaps with m secret (FIPS 203 Alg. 20/17); ek is public. */
static int poisoned_encaps(const struct kem_case *c)
{
	uint8_t m[SEED_LEN], ss[PQ_MLKEM_SS_LEN];
	static uint8_t ct[PQ_MLKEM1024_CT_LEN];

	memcpy(m, c->m, sizeof m);
	SECRET(m, sizeof m);
	int rc = pq_mlkem1024_encaps_derand(ct, ss, c->ek, m);
	calls_poisoned++;
	CHECK(rc == 0, "encaps_derand failed: %d", rc);
	/* ct is sent in the clear (HS_RESP). ss stays secret and is not read. */
	PUBLIC(ct, sizeof ct);
	CHECK(memcmp(ct, c->ct, sizeof ct) == 0, "ct differs from the unpoisoned run");
	return 0;
}

/* A copy of dk with its secret parts (dk_PKE and z) marked undefined; ek and
 * H(ek) inside it stay defined because they are public. */
static void secret_dk(uint8_t dk[PQ_MLKEM1024_DK_LEN], const struct kem_case *c)
{
	memcpy(dk, c->dk, PQ_MLKEM1024_DK_LEN);
	SECRET(dk, DK_PKE_LEN);
	SECRET(dk + DK_Z_OFF, 32);
}

/* Decaps (FIPS 203 Alg. 21/18) of the real ct and of every tampered one,
 * so both the accept and the implicit-rejection outcome run under poison. */
static int poisoned_decaps(const struct kem_case *c)
{
	static uint8_t dk[PQ_MLKEM1024_DK_LEN];
	uint8_t ct[PQ_MLKEM1024_CT_LEN], ss[PQ_MLKEM_SS_LEN];

	secret_dk(dk, c);
	for (size_t i = 0; i <= N_TAMPER; i++) {
		memcpy(ct, c->ct, sizeof ct); /* ciphertexts are public: stay defined */
		if (i < N_TAMPER)
			tamper(ct, i);
		int rc = pq_mlkem1024_decaps(ss, ct, dk);
		calls_poisoned++;
		CHECK(rc == 0, "decaps %zu failed: %d", i, rc);
	}
	return 0;
}

/* §7.3 check (hash of the public ek against the public H(ek)) and §7.2 check
 * (public ek), with every secret part still undefined; also the refusals. */
static int poisoned_key_checks(const struct kem_case *c)
{
	static uint8_t dk[PQ_MLKEM1024_DK_LEN], ek[PQ_MLKEM1024_EK_LEN], ct[PQ_MLKEM1024_CT_LEN];
	uint8_t m[SEED_LEN], ss[PQ_MLKEM_SS_LEN];
	int rc;

	secret_dk(dk, c);
	rc = pq_mlkem1024_check_dk(dk);
	calls_poisoned++;
	CHECK(rc == 0, "check_dk refused a good dk: %d", rc);
	dk[DK_H_OFF] ^= 1; /* H(ek) is public */
	rc = pq_mlkem1024_check_dk(dk);
	calls_poisoned++;
	CHECK(rc == PQ_E_KEY, "check_dk accepted a dk with a wrong H(ek): %d", rc);
	rc = pq_mlkem1024_decaps(ss, c->ct, dk);
	calls_poisoned++;
	CHECK(rc == PQ_E_KEY, "decaps accepted a dk with a wrong H(ek): %d", rc);

	CHECK(pq_mlkem1024_check_ek(c->ek) == 0, "check_ek refused a good ek");
	memcpy(ek, c->ek, sizeof ek);
	break_modulus(ek);
	CHECK(pq_mlkem1024_check_ek(ek) == PQ_E_KEY, "check_ek accepted a coefficient >= q");
	memcpy(m, c->m, sizeof m);
	SECRET(m, sizeof m);
	rc = pq_mlkem1024_encaps_derand(ct, ss, ek, m);
	calls_poisoned++;
	CHECK(rc == PQ_E_KEY, "encaps accepted an ek with a coefficient >= q: %d", rc);
	return 0;
}

static int run_case(uint32_t tag)
{
	static struct kem_case c;

	fill(c.d, sizeof c.d, tag * 3 + 1);
	fill(c.z, sizeof c.z, tag * 3 + 2);
	fill(c.m, sizeof c.m, tag * 3 + 3);
	if (clear_run(&c) != 0 || poisoned_keygen(&c) != 0 || poisoned_encaps(&c) != 0 ||
	    poisoned_decaps(&c) != 0 || poisoned_key_checks(&c) != 0)
		return -1;
	return 0;
}

int main(void)
{
	/* Without valgrind the marks do nothing and the test would prove nothing. */
	if (!RUNNING_ON_VALGRIND) {
		fprintf(stderr, "tool_ct_mlkem: must run under valgrind memcheck (see check_mlkem_ct.sh)\n");
		return 1;
	}
	for (uint32_t tag = 1; tag <= 2; tag++)
		if (run_case(tag) != 0)
			return 1;
	printf("ct: %u ML-KEM-1024 calls ran with secret inputs undefined\n", calls_poisoned);
	return 0;
}
