/*
 * tool_mlkem_accumulated.c - the C2SP/CCTV "accumulated" ML-KEM-1024 test
 * for any iteration count, e.g. the 1 000 000-iteration case that the unit
 * test leaves out (minutes of CPU). The procedure is the one in the header
 * of mlkem1024_cctv_accumulated.txt.
 *
 *   tool_mlkem_accumulated [ITERATIONS]
 *
 * Without an argument it runs every case of $PQ_VECTORS/
 * mlkem1024_cctv_accumulated.txt and compares; with one it prints the hash
 * after ITERATIONS rounds. Exit status 0 only when every compared hash
 * matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mlkem.h"
#include "crypto/mlkem/fips202.h"

static int accumulate(uint8_t hash[32], unsigned long long iterations)
{
	static uint8_t seeds[96], ct[PQ_MLKEM1024_CT_LEN], ek[PQ_MLKEM1024_EK_LEN];
	static uint8_t dk[PQ_MLKEM1024_DK_LEN], c[PQ_MLKEM1024_CT_LEN];
	uint8_t k[32], k_dec[32], k_rej[32];
	pq_keccak_state rng, acc;

	pq_shake128_init(&rng);
	pq_keccak_finalize(&rng);
	pq_shake128_init(&acc);
	for (unsigned long long i = 0; i < iterations; i++) {
		pq_keccak_squeeze(&rng, seeds, sizeof(seeds));
		pq_keccak_squeeze(&rng, ct, sizeof(ct));
		if (pq_mlkem1024_keypair_derand(ek, dk, seeds, seeds + 32) != 0 ||
		    pq_mlkem1024_encaps_derand(c, k, ek, seeds + 64) != 0 ||
		    pq_mlkem1024_decaps(k_dec, c, dk) != 0 || memcmp(k_dec, k, 32) != 0 ||
		    pq_mlkem1024_decaps(k_rej, ct, dk) != 0) {
			fprintf(stderr, "round trip failed at iteration %llu\n", i);
			return -1;
		}
		pq_keccak_absorb(&acc, ek, sizeof(ek));
		pq_keccak_absorb(&acc, dk, sizeof(dk));
		pq_keccak_absorb(&acc, c, sizeof(c));
		pq_keccak_absorb(&acc, k, sizeof(k));
		pq_keccak_absorb(&acc, k_rej, sizeof(k_rej));
	}
	pq_keccak_finalize(&acc);
	pq_keccak_squeeze(&acc, hash, 32);
	return 0;
}

static void to_hex(char out[65], const uint8_t hash[32])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", hash[i]);
}

/* Reads "iterations = N" / "hash = HEX" pairs and checks each. */
static int run_file(void)
{
	const char *dir = getenv("PQ_VECTORS");
	char path[4096], line[512], got_hex[65];
	unsigned long long iterations = 0;
	int have_iterations = 0, checked = 0, failed = 0;
	uint8_t hash[32];
	FILE *fp;

	if (dir == NULL) {
		fprintf(stderr, "PQ_VECTORS is not set\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/mlkem1024_cctv_accumulated.txt", dir);
	fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char want_hex[65];
		if (sscanf(line, "iterations = %llu", &iterations) == 1) {
			have_iterations = 1;
		} else if (sscanf(line, "hash = %64s", want_hex) == 1 && have_iterations) {
			if (accumulate(hash, iterations) != 0)
				return 1;
			to_hex(got_hex, hash);
			int ok = strcmp(got_hex, want_hex) == 0;
			printf("%s %llu iterations: %s\n", ok ? "match" : "MISMATCH", iterations, got_hex);
			fflush(stdout);
			checked++;
			failed += !ok;
			have_iterations = 0;
		}
	}
	fclose(fp);
	printf("checked: mlkem1024_cctv_accumulated.txt %d cases, %d failed\n", checked, failed);
	return (checked > 0 && failed == 0) ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint8_t hash[32];
	char hex[65];

	if (argc < 2)
		return run_file();
	if (accumulate(hash, strtoull(argv[1], NULL, 10)) != 0)
		return 1;
	to_hex(hex, hash);
	printf("%s\n", hex);
	return 0;
}
