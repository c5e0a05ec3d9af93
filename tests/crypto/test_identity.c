/* test_identity.c - printed keys (strict base64) and private key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/identity.h"
#include "crypto/util.h"

/* A plain table-driven encoder, independent of the one under test. */
static void ref_base64(char out[45], const uint8_t key[32])
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < 32; i += 3) {
		uint32_t w = (uint32_t)key[i] << 16 | (i + 1 < 32 ? (uint32_t)key[i + 1] << 8 : 0) |
			     (i + 2 < 32 ? key[i + 2] : 0);

		out[o++] = alphabet[(w >> 18) & 63];
		out[o++] = alphabet[(w >> 12) & 63];
		out[o++] = i + 1 < 32 ? alphabet[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < 32 ? alphabet[w & 63] : '=';
	}
	out[o] = '\0';
}

static void check_round_trip(const uint8_t key[32])
{
	char got[45], want[45];
	uint8_t back[32];

	pq_key_to_base64(got, key);
	ref_base64(want, key);
	assert_string_equal(got, want);
	assert_int_equal(strlen(got), PQ_KEY_B64_LEN);
	assert_int_equal(pq_key_from_base64(back, got, strlen(got)), 0);
	assert_memory_equal(back, key, 32);
}

static void test_base64_round_trip(void **state)
{
	uint8_t key[32];
	int n = 0;

	memset(key, 0, 32);
	check_round_trip(key), n++;
	memset(key, 0xff, 32);
	check_round_trip(key), n++;
	/* Every byte value at every position, and random keys. */
	for (int v = 0; v < 256; v++, n++) {
		for (int i = 0; i < 32; i++)
			key[i] = (uint8_t)(v + 37 * i);
		check_round_trip(key);
	}
	for (int i = 0; i < 1000; i++, n++) {
		assert_int_equal(pq_random_bytes(key, 32), 0);
		check_round_trip(key);
	}
	printf("checked: base64 round trip %d keys\n", n);
}

/* Every byte value in the first position: accepted exactly when it is in
 * the alphabet, and then decoded to its index (the top 6 bits of byte 0). */
static void test_base64_every_byte(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char s[45] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	uint8_t key[32];

	for (int b = 0; b < 256; b++) {
		const char *hit = b ? memchr(alphabet, b, 64) : NULL;
		int ret;

		s[0] = (char)b;
		ret = pq_key_from_base64(key, s, 44);
		if (hit) {
			assert_int_equal(ret, 0);
			assert_int_equal(key[0] >> 2, hit - alphabet);
		} else {
			assert_int_equal(ret, PQ_E_DECODE);
		}
	}
	printf("checked: base64 every byte value 256 cases\n");
}

static void expect_reject(const char *s, size_t len)
{
	uint8_t key[32];

	if (pq_key_from_base64(key, s, len) != PQ_E_DECODE)
		fail_msg("accepted malformed key \"%.*s\" (len %zu)", (int)len, s, len);
}

static void test_base64_malformed(void **state)
{
	static const char *const bad_chars = "*-_.!@#$%^&()[]{}~`'\",;:<>?\\| \t\n\r=";
	/* A valid key to mutate: RFC 8032 test 1's private key. */
	const char *good = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
	char s[64];
	uint8_t key[32];
	int n = 0;

	assert_int_equal(pq_key_from_base64(key, good, 44), 0);
	/* Wrong lengths: 43 and 45 characters, empty, and the right 44
	 * characters passed with a wrong length. */
	expect_reject("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", 43), n++;
	expect_reject("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A==", 45), n++;
	expect_reject("AnWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=", 45), n++;
	expect_reject("", 0), n++;
	expect_reject(good, 43), n++;
	/* A bad character at every position before the '='. */
	for (size_t pos = 0; pos < 43; pos++) {
		for (const char *c = bad_chars; *c; c++, n++) {
			memcpy(s, good, 45);
			s[pos] = *c;
			expect_reject(s, 44);
		}
		memcpy(s, good, 45);
		s[pos] = '\0';
		expect_reject(s, 44), n++;
		s[pos] = (char)0xc1; /* 'A' | 0x80 */
		expect_reject(s, 44), n++;
	}
	/* Missing '=': the last character replaced by a base64 one. */
	memcpy(s, good, 45);
	s[43] = 'A';
	expect_reject(s, 44), n++;
	s[43] = '\n';
	expect_reject(s, 44), n++;
	/* Non-canonical: the 43rd character's two unused bits set. "2A=" is
	 * canonical ('A' = 0); 'B', 'C', 'D' carry bits 1..3. */
	for (const char *c = "BCDFGHJKLNOP/"; *c; c++, n++) {
		memcpy(s, good, 45);
		s[42] = *c;
		expect_reject(s, 44);
	}
	memcpy(s, good, 45);
	s[42] = 'E'; /* 4: unused bits clear, so canonical */
	assert_int_equal(pq_key_from_base64(key, s, 44), 0);
	/* Embedded whitespace, with the length kept at 44. */
	expect_reject("nWGxne/9WmC6hEr0kuws ERJxWl7MmkZcDusAxyuf2A=", 44), n++;
	expect_reject("nWGxne/9WmC6hEr0kuws\nERJxWl7MmkZcDusAxyuf2A=", 44), n++;
	expect_reject(" nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", 44), n++;
	expect_reject("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n", 44), n++;
	/* Padding elsewhere ("==" form). */
	expect_reject("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2==", 44), n++;
	/* The URL-safe alphabet is not ours. */
	expect_reject("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=", 44), n++;
	printf("checked: base64 malformed %d cases\n", n);
}

/* Key files: each in a fresh private directory. */
static char dir[64];

static int setup_dir(void **state)
{
	strcpy(dir, "/tmp/pq-identity-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(char path[128], const char *name, const char *content, size_t len,
		       mode_t mode)
{
	FILE *f;

	snprintf(path, 128, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

#define GOOD_KEY "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="

/* Expect pq_key_file_load to fail with code and a message containing the
 * path and each of the given fragments. */
static void expect_load_error(const char *path, int code, const char *frag1, const char *frag2)
{
	uint8_t key[32];
	char err[512];

	memset(key, 0x5a, sizeof(key));
	assert_int_equal(pq_key_file_load(key, path, err, sizeof(err)), code);
	if (!strstr(err, path) || (frag1 && !strstr(err, frag1)) || (frag2 && !strstr(err, frag2)))
		fail_msg("message for %s lacks path/\"%s\"/\"%s\": %s", path, frag1 ? frag1 : "",
			 frag2 ? frag2 : "", err);
	for (int i = 0; i < 32; i++)
		assert_int_equal(key[i], 0);
	printf("  %s\n", err);
}

static void test_key_file_good(void **state)
{
	static const uint8_t want[32] = {
		0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
		0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03,
		0x1c, 0xae, 0x7f, 0x60,
	};
	char path[128], link[128], err[256];
	uint8_t key[32];

	write_file(path, "nl.key", GOOD_KEY "\n", 45, 0600);
	assert_int_equal(pq_key_file_load(key, path, err, sizeof(err)), 0);
	assert_memory_equal(key, want, 32);
	write_file(path, "bare.key", GOOD_KEY, 44, 0400);
	memset(key, 0, 32);
	assert_int_equal(pq_key_file_load(key, path, err, sizeof(err)), 0);
	assert_memory_equal(key, want, 32);
	/* Through a symlink (followed on purpose; the target is checked). */
	snprintf(link, sizeof(link), "%s/link.key", dir);
	assert_int_equal(symlink(path, link), 0);
	memset(key, 0, 32);
	assert_int_equal(pq_key_file_load(key, link, err, sizeof(err)), 0);
	assert_memory_equal(key, want, 32);
}

static void test_key_file_errors(void **state)
{
	char path[128], link[128];
	int n = 0;

	write_file(path, "0644.key", GOOD_KEY "\n", 45, 0644);
	expect_load_error(path, PQ_E_PERM, "chmod 600", "0644"), n++;
	write_file(path, "0640.key", GOOD_KEY "\n", 45, 0640);
	expect_load_error(path, PQ_E_PERM, "chmod 600", "0640"), n++;
	write_file(path, "0604.key", GOOD_KEY "\n", 45, 0604);
	expect_load_error(path, PQ_E_PERM, "chmod 600", "readable"), n++;
	write_file(path, "0620.key", GOOD_KEY "\n", 45, 0620);
	expect_load_error(path, PQ_E_PERM, "chmod 600", "0620"), n++;
	/* A symlink to a group-readable key is refused for the target's mode. */
	write_file(path, "target.key", GOOD_KEY "\n", 45, 0644);
	snprintf(link, sizeof(link), "%s/link.key", dir);
	assert_int_equal(symlink(path, link), 0);
	expect_load_error(link, PQ_E_PERM, "chmod 600", NULL), n++;

	write_file(path, "short.key", GOOD_KEY, 43, 0600);
	expect_load_error(path, PQ_E_DECODE, "44-character", "found 43"), n++;
	write_file(path, "long.key", GOOD_KEY "A\n", 46, 0600);
	expect_load_error(path, PQ_E_DECODE, "44-character", "45"), n++;
	write_file(path, "two-nl.key", GOOD_KEY "\n\n", 46, 0600);
	expect_load_error(path, PQ_E_DECODE, "44-character", NULL), n++;
	write_file(path, "crlf.key", GOOD_KEY "\r\n", 46, 0600);
	expect_load_error(path, PQ_E_DECODE, "44-character", NULL), n++;
	write_file(path, "huge.key", GOOD_KEY GOOD_KEY GOOD_KEY, 132, 0600);
	expect_load_error(path, PQ_E_DECODE, "44-character", "at least"), n++;
	write_file(path, "bad.key", "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2*=\n", 45, 0600);
	expect_load_error(path, PQ_E_DECODE, "not a valid base64", NULL), n++;
	write_file(path, "noncanon.key", "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B=\n", 45, 0600);
	expect_load_error(path, PQ_E_DECODE, "not a valid base64", NULL), n++;
	write_file(path, "empty.key", "", 0, 0600);
	expect_load_error(path, PQ_E_DECODE, "empty", NULL), n++;
	write_file(path, "newline.key", "\n", 1, 0600);
	expect_load_error(path, PQ_E_DECODE, "empty", NULL), n++;

	snprintf(path, 128, "%s/subdir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	expect_load_error(path, PQ_E_IO, "not a regular file", "directory"), n++;
	expect_load_error("/dev/null", PQ_E_IO, "not a regular file", NULL), n++;
	snprintf(path, 128, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_load_error(path, PQ_E_IO, "not a regular file", NULL), n++;
	snprintf(path, 128, "%s/missing.key", dir);
	expect_load_error(path, PQ_E_IO, "cannot open", "No such file"), n++;
	printf("checked: key file errors %d cases\n", n);
}

/* Issue 11: a key owned by another user is refused (its owner could
 * rewrite our identity); root's and our own are fine. A directory others
 * may write to draws a warning, a sticky one (/tmp) does not. */
static void test_key_file_owner(void **state)
{
	char path[128], sub[128], why[512];
	uint8_t key[32];
	char err[512];

	assert_int_equal(geteuid(), 0); /* the suite runs as root: chown needs it */
	write_file(path, "nobody.key", GOOD_KEY "\n", 45, 0600);
	assert_int_equal(chown(path, 65534, 65534), 0);
	expect_load_error(path, PQ_E_PERM, "owned by uid 65534", "chown");
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(pq_key_file_load(key, path, err, sizeof(err)), 0);

	snprintf(sub, sizeof(sub), "%s/open", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/open/k.key", dir);
	assert_false(pq_key_dir_unsafe(path, why, sizeof(why)));
	assert_int_equal(chmod(sub, 0777), 0);
	assert_true(pq_key_dir_unsafe(path, why, sizeof(why)));
	assert_non_null(strstr(why, "everyone"));
	assert_non_null(strstr(why, "chmod go-w"));
	assert_int_equal(chmod(sub, 0770), 0);
	assert_true(pq_key_dir_unsafe(path, why, sizeof(why)));
	assert_non_null(strstr(why, "its group"));
	assert_int_equal(chmod(sub, 01777), 0);
	assert_false(pq_key_dir_unsafe(path, why, sizeof(why)));
	assert_int_equal(chmod(sub, 0700), 0);
	printf("checked: key file owner and directory 7 cases\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_base64_every_byte),
		cmocka_unit_test(test_base64_malformed),
		cmocka_unit_test_setup_teardown(test_key_file_good, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_key_file_errors, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_key_file_owner, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
