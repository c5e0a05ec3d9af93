/*
 * tool_mlkem_cli.c - a line-protocol driver over pqlan's ML-KEM-1024, so an
 * outside implementation (tests/crypto/noble/diff.mjs) can be compared with
 * ours through one long-lived child process.
 *
 * One request per line on stdin, one answer per line on stdout (flushed):
 *   keygen <d> <z>     ->  ok <ek> <dk>
 *   encaps <ek> <m>    ->  ok <ct> <ss>
 *   decaps <dk> <ct>   ->  ok <ss>
 *   checkek <ek>       ->  ok
 *   checkdk <dk>       ->  ok
 * Every argument is hex of exactly the length FIPS 203 gives it. When the
 * library refuses, the answer is `err <code>` (a negative PQ_E_* value).
 * A request that breaks the protocol (unknown verb, wrong hex length, bad
 * hex digit, extra words) is a bug in the caller: the tool says why on
 * stderr and exits 2, so the test cannot go on against a desynced stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mlkem.h"

#define SEED_LEN 32

/* The argument words of one request, split in place. */
struct request {
	char *verb;
	char *arg[2];
	int nargs;
};

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly len bytes; the hex must be exactly 2*len digits. */
static int unhex(uint8_t *out, size_t len, const char *hex)
{
	if (hex == NULL || strlen(hex) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void put_hex(const uint8_t *buf, size_t len)
{
	putchar(' ');
	for (size_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
}

static void answer_err(int rc)
{
	printf("err %d\n", rc);
}

static int split(char *line, struct request *req)
{
	char *save = NULL;
	req->verb = strtok_r(line, " \t\r\n", &save);
	req->nargs = 0;
	if (req->verb == NULL)
		return -1;
	for (char *w; (w = strtok_r(NULL, " \t\r\n", &save)) != NULL;) {
		if (req->nargs == 2)
			return -1;
		req->arg[req->nargs++] = w;
	}
	return 0;
}

static int do_keygen(const struct request *req)
{
	uint8_t d[SEED_LEN], z[SEED_LEN];
	static uint8_t ek[PQ_MLKEM1024_EK_LEN], dk[PQ_MLKEM1024_DK_LEN];

	if (req->nargs != 2 || unhex(d, sizeof d, req->arg[0]) || unhex(z, sizeof z, req->arg[1]))
		return -1;
	int rc = pq_mlkem1024_keypair_derand(ek, dk, d, z);
	if (rc != 0) {
		answer_err(rc);
		return 0;
	}
	fputs("ok", stdout);
	put_hex(ek, sizeof ek);
	put_hex(dk, sizeof dk);
	putchar('\n');
	return 0;
}

static int do_encaps(const struct request *req)
{
	static uint8_t ek[PQ_MLKEM1024_EK_LEN], ct[PQ_MLKEM1024_CT_LEN];
	uint8_t m[SEED_LEN], ss[PQ_MLKEM_SS_LEN];

	if (req->nargs != 2 || unhex(ek, sizeof ek, req->arg[0]) || unhex(m, sizeof m, req->arg[1]))
		return -1;
	int rc = pq_mlkem1024_encaps_derand(ct, ss, ek, m);
	if (rc != 0) {
		answer_err(rc);
		return 0;
	}
	fputs("ok", stdout);
	put_hex(ct, sizeof ct);
	put_hex(ss, sizeof ss);
	putchar('\n');
	return 0;
}

static int do_decaps(const struct request *req)
{
	static uint8_t dk[PQ_MLKEM1024_DK_LEN], ct[PQ_MLKEM1024_CT_LEN];
	uint8_t ss[PQ_MLKEM_SS_LEN];

	if (req->nargs != 2 || unhex(dk, sizeof dk, req->arg[0]) || unhex(ct, sizeof ct, req->arg[1]))
		return -1;
	int rc = pq_mlkem1024_decaps(ss, ct, dk);
	if (rc != 0) {
		answer_err(rc);
		return 0;
	}
	fputs("ok", stdout);
	put_hex(ss, sizeof ss);
	putchar('\n');
	return 0;
}

static int do_checkek(const struct request *req)
{
	static uint8_t ek[PQ_MLKEM1024_EK_LEN];

	if (req->nargs != 1 || unhex(ek, sizeof ek, req->arg[0]))
		return -1;
	int rc = pq_mlkem1024_check_ek(ek);
	if (rc != 0)
		answer_err(rc);
	else
		puts("ok");
	return 0;
}

static int do_checkdk(const struct request *req)
{
	static uint8_t dk[PQ_MLKEM1024_DK_LEN];

	if (req->nargs != 1 || unhex(dk, sizeof dk, req->arg[0]))
		return -1;
	int rc = pq_mlkem1024_check_dk(dk);
	if (rc != 0)
		answer_err(rc);
	else
		puts("ok");
	return 0;
}

static const struct {
	const char *verb;
	int (*run)(const struct request *req);
} commands[] = {
	{ "keygen", do_keygen },
	{ "encaps", do_encaps },
	{ "decaps", do_decaps },
	{ "checkek", do_checkek },
	{ "checkdk", do_checkdk },
};

static int dispatch(const struct request *req)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(req->verb, commands[i].verb) == 0)
			return commands[i].run(req);
	return -1;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	int status = 0;

	while (getline(&line, &cap, stdin) >= 0) {
		struct request req;
		lineno++;
		if (split(line, &req) != 0 || dispatch(&req) != 0) {
			fprintf(stderr, "tool_mlkem_cli: line %lu: malformed request\n", lineno);
			status = 2;
			break;
		}
		if (fflush(stdout) != 0) {
			status = 1;
			break;
		}
	}
	free(line);
	return status;
}
