/*
 * identity.c - printed keys (RFC 4648 §4 base64 of 32 bytes) and key files.
 *
 * Encoding and decoding use arithmetic on masks instead of table lookups
 * or branches, so neither the time taken nor the memory touched depends on
 * the key (the idea of wireguard-tools' key decoding; this is our own
 * code). Only the public facts - the length and the position of '=' -
 * are branched on. Decoding is strict: 44 characters, the last one '=',
 * and the two unused bits of the 43rd character zero (RFC 4648 §3.5), so
 * each key has exactly one printed form.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/identity.h"
#include "crypto/util.h"
#include "util/log.h"

#define KEY_LEN 32
/* A key file holds 44 characters and one optional newline; read a little
 * more so "too long" can be told apart from "exactly right". */
#define KEY_FILE_READ_MAX (PQ_KEY_B64_LEN + 2)

/* All ones when a >= b, else zero (a, b < 2^31). */
static uint32_t mask_ge(uint32_t a, uint32_t b)
{
	return 0u - ((b - a - 1) >> 31);
}

/* All ones when lo <= c <= hi. */
static uint32_t mask_in(uint32_t c, uint32_t lo, uint32_t hi)
{
	return mask_ge(c, lo) & mask_ge(hi, c);
}

/* The base64 character for a 6-bit value: 'A'+v, then the offsets that
 * move each range onto 'a'-'z', '0'-'9', '+' and '/'. */
static char encode6(uint32_t v)
{
	uint32_t c = 'A' + v;

	c += mask_ge(v, 26) & 6u;          /* 26..51 -> 'a'..'z' */
	c -= mask_ge(v, 52) & 75u;         /* 52..61 -> '0'..'9' */
	c -= mask_ge(v, 62) & 15u;         /* 62 -> '+' */
	c += mask_ge(v, 63) & 3u;          /* 63 -> '/' */
	return (char)c;
}

/* The 6-bit value of a base64 character; *bad gets all ones if c is not
 * one. Every range is evaluated, whichever c is. */
static uint32_t decode6(uint8_t ch, uint32_t *bad)
{
	uint32_t c = ch, m, v = 0, any = 0;

	m = mask_in(c, 'A', 'Z'); v |= m & (c - 'A'); any |= m;
	m = mask_in(c, 'a', 'z'); v |= m & (c - 'a' + 26); any |= m;
	m = mask_in(c, '0', '9'); v |= m & (c - '0' + 52); any |= m;
	m = mask_in(c, '+', '+'); v |= m & 62u; any |= m;
	m = mask_in(c, '/', '/'); v |= m & 63u; any |= m;
	*bad |= ~any;
	return v;
}

void pq_key_to_base64(char out[PQ_KEY_B64_LEN + 1], const uint8_t key[32])
{
	size_t i, o = 0;

	/* Ten full groups: 30 bytes -> 40 characters. */
	for (i = 0; i < 30; i += 3) {
		uint32_t w = (uint32_t)key[i] << 16 | (uint32_t)key[i + 1] << 8 | key[i + 2];

		out[o++] = encode6((w >> 18) & 63);
		out[o++] = encode6((w >> 12) & 63);
		out[o++] = encode6((w >> 6) & 63);
		out[o++] = encode6(w & 63);
	}
	/* The last two bytes: 16 bits -> 3 characters and one '='. */
	{
		uint32_t w = (uint32_t)key[30] << 8 | key[31];

		out[o++] = encode6((w >> 10) & 63);
		out[o++] = encode6((w >> 4) & 63);
		out[o++] = encode6((w << 2) & 63);
		out[o++] = '=';
	}
	out[o] = '\0';
}

int pq_key_from_base64(uint8_t key[32], const char *s, size_t len)
{
	const uint8_t *in = (const uint8_t *)s;
	uint8_t tmp[KEY_LEN];
	uint32_t bad = 0, w;
	size_t i, o = 0;

	if (len != PQ_KEY_B64_LEN || in[PQ_KEY_B64_LEN - 1] != '=')
		return PQ_E_DECODE;
	for (i = 0; i < 40; i += 4) {
		w = decode6(in[i], &bad) << 18 | decode6(in[i + 1], &bad) << 12 |
		    decode6(in[i + 2], &bad) << 6 | decode6(in[i + 3], &bad);
		tmp[o++] = (uint8_t)(w >> 16);
		tmp[o++] = (uint8_t)(w >> 8);
		tmp[o++] = (uint8_t)w;
	}
	w = decode6(in[40], &bad) << 10 | decode6(in[41], &bad) << 4;
	{
		uint32_t last = decode6(in[42], &bad);

		bad |= 0u - (((last & 3) + 3) >> 2); /* canonical: unused bits zero */
		w |= last >> 2;
	}
	tmp[o++] = (uint8_t)(w >> 8);
	tmp[o++] = (uint8_t)w;
	if (bad) {
		pq_wipe(tmp, sizeof(tmp));
		return PQ_E_DECODE;
	}
	memcpy(key, tmp, KEY_LEN);
	pq_wipe(tmp, sizeof(tmp));
	return 0;
}

/* Open path for reading and check it is a regular file that only its
 * owner can access. Symlinks are followed on purpose: a key linked from
 * a managed location (/etc/pqlan/key -> /var/lib/...) is normal, and
 * every check below is made on the opened descriptor, so it applies to
 * the file actually read (no window between check and use). O_NONBLOCK
 * keeps a FIFO from hanging the open; it is refused right after. */
static int open_key_file(int *fd_out, const char *path, char *err, size_t err_len)
{
	struct stat st;
	mode_t perm;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, err_len, "%s: cannot open private key: %s", path, strerror(errno));
		return PQ_E_IO;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, err_len, "%s: cannot stat private key: %s", path, strerror(errno));
		goto fail_io;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: not a regular file (%s); expected a file holding "
			 "one base64 private key", path, S_ISDIR(st.st_mode) ? "a directory" :
			 "a device, pipe or socket");
		goto fail_io;
	}
	perm = st.st_mode & 07777;
	if (perm & 077) {
		snprintf(err, err_len, "%s: private key is %s by group or others (mode %04o); "
			 "fix with: chmod 600 %s", path,
			 (perm & 044) ? "readable" : "writable or executable", (unsigned)perm, path);
		close(fd);
		return PQ_E_PERM;
	}
	/* Mode 0600 of someone else's file protects it from us, not us from
	 * them: its owner can rewrite our identity at will (issue 11). */
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, err_len, "%s: private key is owned by uid %u, expected this user "
			 "(uid %u) or root; fix with: chown %u %s", path, (unsigned)st.st_uid,
			 (unsigned)geteuid(), (unsigned)geteuid(), path);
		close(fd);
		return PQ_E_PERM;
	}
	*fd_out = fd;
	return 0;
fail_io:
	close(fd);
	return PQ_E_IO;
}

/* Read at most cap bytes (until EOF); the count or a negative errno. */
static long read_bounded(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

bool pq_key_dir_unsafe(const char *path, char *why, size_t why_len)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	struct stat st;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (n == 0)
		snprintf(dir, sizeof(dir), "/");
	else if (n < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
	else
		return false;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	/* A sticky directory (/tmp) keeps others from replacing our file. */
	if (!(st.st_mode & 022) || (st.st_mode & S_ISVTX))
		return false;
	snprintf(why, why_len, "the directory %s of private key %s is writable by %s (mode %04o): "
		 "they can replace the key; fix with: chmod go-w %s", dir, path,
		 (st.st_mode & 002) ? "everyone" : "its group", (unsigned)(st.st_mode & 07777), dir);
	return true;
}

int pq_key_file_load(uint8_t key[32], const char *path, char *err, size_t err_len)
{
	char why[512];

	uint8_t buf[KEY_FILE_READ_MAX];
	long n;
	size_t len;
	int fd = -1, ret;

	if (err_len)
		err[0] = '\0';
	ret = open_key_file(&fd, path, err, err_len);
	if (ret)
		goto out;
	if (pq_key_dir_unsafe(path, why, sizeof(why)))
		pq_log(PQ_LOG_WARN, "%s", why);
	n = read_bounded(fd, buf, sizeof(buf));
	if (n < 0) {
		snprintf(err, err_len, "%s: cannot read private key: %s", path, strerror((int)-n));
		ret = PQ_E_IO;
		goto out;
	}
	len = (size_t)n;
	if (len > 0 && buf[len - 1] == '\n')
		len--; /* one trailing newline, as written by `pqlan genkey > file` */
	if (n == 0 || len == 0) {
		snprintf(err, err_len, "%s: file is empty; expected a base64 private key "
			 "(make one with: pqlan genkey > %s)", path, path);
		ret = PQ_E_DECODE;
		goto out;
	}
	if (len != PQ_KEY_B64_LEN) {
		snprintf(err, err_len, "%s: expected a %d-character base64 private key, found %s%zu "
			 "characters", path, PQ_KEY_B64_LEN,
			 (size_t)n == sizeof(buf) ? "at least " : "", len);
		ret = PQ_E_DECODE;
		goto out;
	}
	ret = pq_key_from_base64(key, (const char *)buf, len);
	if (ret)
		snprintf(err, err_len, "%s: not a valid base64 private key; expected %d characters "
			 "of standard base64 ending in '='", path, PQ_KEY_B64_LEN);
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		pq_wipe(key, 32);
	pq_wipe(buf, sizeof(buf));
	return ret;
}
