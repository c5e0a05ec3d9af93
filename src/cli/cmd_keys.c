/*
 * cmd_keys.c - `pqlan genkey [FILE]` and `pqlan pubkey`, in the manner of
 * wg(8): keys travel as one base64 line on stdin/stdout, or genkey writes
 * a new file of mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
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

/* Write the key line into a new file of mode 0600, whatever the umask:
 * O_EXCL (never overwrite a key, never follow a planted symlink), then
 * fchmod, since the umask may have taken bits off the 0600 we asked for.
 * 0, or 1 with the reason on stderr (a half-written file is removed). */
static int write_key_file(const char *path, const uint8_t key[32])
{
	char line[PQ_KEY_B64_LEN + 2];
	int fd, e = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "pqlan genkey: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (a key file is never overwritten; remove it first)" : "");
		return 1;
	}
	pq_key_to_base64(line, key);
	line[PQ_KEY_B64_LEN] = '\n';
	if (fchmod(fd, 0600) < 0)
		e = errno;
	else if ((n = write(fd, line, PQ_KEY_B64_LEN + 1)) != PQ_KEY_B64_LEN + 1)
		e = n < 0 ? errno : EIO;
	else if (fsync(fd) < 0)
		e = errno;
	pq_wipe(line, sizeof(line));
	if (close(fd) < 0 && !e)
		e = errno;
	if (e) {
		fprintf(stderr, "pqlan genkey: %s: %s\n", path, strerror(e));
		unlink(path);
		return 1;
	}
	return 0;
}

int cmd_genkey(int argc, char **argv)
{
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int status = 1;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cli_usage(stderr, "genkey");
	/* As wg(8) does: anything this process creates is private. The file
	 * of `pqlan genkey > key` is made by the shell under the caller's
	 * umask, which we cannot change: `pqlan genkey FILE` makes it 0600
	 * itself (the key loader refuses a readable file either way). */
	umask(077);
	if (pq_ed25519_generate(priv) != 0) {
		fprintf(stderr, "pqlan genkey: the random generator failed\n");
		goto out;
	}
	status = argc == 2 ? write_key_file(argv[1], priv) : print_key("genkey", priv);
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

	if (argc != 1)
		return cli_usage(stderr, "pubkey");
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
