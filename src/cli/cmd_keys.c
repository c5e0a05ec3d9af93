/*
 * cmd_keys.c - `pqlan genkey` and `pqlan pubkey`, in the manner of wg(8):
 * keys travel as one base64 line on stdin/stdout.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "crypto/ed25519.h"
#include "crypto/identity.h"
#include "crypto/util.h"

/* Room for a key, its newline and one byte more to notice excess input. */
#define KEY_INPUT_MAX (PQ_KEY_B64_LEN + 2)

/* Print a key line; 0, or 1 when stdout could not take it. */
static int print_key(const char *cmd, const uint8_t key[32])
{
	char b64[PQ_KEY_B64_LEN + 1];
	int ok;

	pq_key_to_base64(b64, key);
	ok = puts(b64) >= 0 && fflush(stdout) == 0;
	pq_wipe(b64, sizeof(b64));
	if (!ok) {
		fprintf(stderr, "pqlan %s: cannot write to stdout\n", cmd);
		return 1;
	}
	return 0;
}

int cmd_genkey(int argc, char **argv)
{
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int status = 1;

	if (argc != 1) {
		fprintf(stderr, "usage: pqlan genkey > private.key\n"
			"pqlan genkey: takes no arguments\n");
		return 2;
	}
	/* As wg(8) does: anything this process creates is private. The file
	 * of `pqlan genkey > key` is made by the shell under the caller's
	 * umask, so the docs tell users to run `umask 077` first (the key
	 * loader refuses a readable file either way). */
	umask(077);
	if (pq_ed25519_generate(priv) != 0) {
		fprintf(stderr, "pqlan genkey: the random generator failed\n");
		goto out;
	}
	status = print_key("genkey", priv);
out:
	pq_wipe(priv, sizeof(priv));
	return status;
}

/* Read all of stdin up to cap bytes; the count, or -1 on a read error.
 * Returns cap when there was at least that much. */
static long read_stdin(uint8_t *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		size_t n = fread(buf + got, 1, cap - got, stdin);

		if (n == 0)
			return ferror(stdin) ? -1 : (long)got;
		got += n;
	}
	return (long)got;
}

int cmd_pubkey(int argc, char **argv)
{
	uint8_t buf[KEY_INPUT_MAX], priv[PQ_ED25519_PRIV_LEN], pub[PQ_ED25519_PUB_LEN];
	long n;
	size_t len;
	int status = 1;

	if (argc != 1) {
		fprintf(stderr, "usage: pqlan pubkey < private.key > public.key\n"
			"pqlan pubkey: takes no arguments\n");
		return 2;
	}
	n = read_stdin(buf, sizeof(buf));
	if (n < 0) {
		fprintf(stderr, "pqlan pubkey: cannot read stdin\n");
		goto out;
	}
	len = (size_t)n;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len != PQ_KEY_B64_LEN || pq_key_from_base64(priv, (const char *)buf, len) != 0) {
		fprintf(stderr, "pqlan pubkey: expected a private key on stdin: %d characters of "
			"base64 ending in '=' and an optional newline\n", PQ_KEY_B64_LEN);
		goto out;
	}
	if (pq_ed25519_public(pub, priv) != 0) {
		fprintf(stderr, "pqlan pubkey: cannot derive the public key\n");
		goto out;
	}
	status = print_key("pubkey", pub);
out:
	pq_wipe(buf, sizeof(buf));
	pq_wipe(priv, sizeof(priv));
	return status;
}
