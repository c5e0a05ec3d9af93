/*
 * testutil.h - header-only helpers for cmocka tests: locate the ML-KEM
 * vector directory and read vector files in the format of
 * tests/vectors/README.md (blocks of "key = value" lines, "#"
 * comments anywhere, blocks separated by blank lines).
 *
 * Everything here fails the running cmocka test (fail_msg) when it cannot
 * do its job: a missing vector directory, an unreadable file, a malformed line, a
 * missing field or a field of the wrong length. Nothing is skipped.
 *
 * Use:
 *	struct pq_vec_file vf;
 *	size_t n = 0;
 *	pq_vec_open(&vf, "mlkem1024_keygen.txt");
 *	while (pq_vec_next(&vf)) {
 *		uint8_t d[32];
 *		pq_vec_hex(&vf, "d", d, sizeof(d));
 *		...
 *		n++;
 *	}
 *	pq_vec_close(&vf);
 *	pq_test_checked("mlkem1024_keygen.txt", n);
 */
#ifndef PQ_TESTS_TESTUTIL_H
#define PQ_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#define PQ_VEC_MAX_FIELDS 16

struct pq_vec_field {
	char *key;
	char *value;
};

struct pq_vec_file {
	FILE *fp;
	char path[4096];
	char *line;                /* getline buffer */
	size_t line_cap;
	unsigned long lineno;      /* line number of the last line read */
	unsigned long case_line;   /* line where the current case starts */
	size_t nfields;
	struct pq_vec_field fields[PQ_VEC_MAX_FIELDS];
};

/* The vector directory: $PQ_VECTORS, or tests/vectors of the repository
 * when the test runs from its top directory; fails the test when neither
 * is a readable directory. */
static inline const char *pq_test_vectors_dir(void)
{
	const char *dir = getenv("PQ_VECTORS");

	if (dir == NULL || dir[0] == '\0')
		dir = "tests/vectors";
	if (access(dir, R_OK | X_OK) != 0)
		fail_msg("vector directory %s is not readable: set PQ_VECTORS or run from the "
			 "repository's top directory", dir);
	return dir;
}

/* Print the "checked: <what> <n> cases" line that tests/run.sh collects. */
/* 1 when the n bytes at v are all zero (a wiped secret), else 0. */
static inline int pq_test_all_zero(const void *v, size_t n)
{
	const uint8_t *b = v;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static inline void pq_test_checked(const char *what, size_t n)
{
	printf("checked: %s %zu cases\n", what, n);
	fflush(stdout);
}

static inline void pq_vec_clear_case(struct pq_vec_file *vf)
{
	for (size_t i = 0; i < vf->nfields; i++) {
		free(vf->fields[i].key);
		free(vf->fields[i].value);
	}
	vf->nfields = 0;
}

/* Open name inside pq_test_vectors_dir(); fails the test if unreadable. */
static inline void pq_vec_open(struct pq_vec_file *vf, const char *name)
{
	const char *dir = pq_test_vectors_dir();
	int n;

	memset(vf, 0, sizeof(*vf));
	n = snprintf(vf->path, sizeof(vf->path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(vf->path))
		fail_msg("vector path too long: %s/%s", dir, name);
	vf->fp = fopen(vf->path, "r");
	if (vf->fp == NULL)
		fail_msg("cannot open vector file %s", vf->path);
}

static inline void pq_vec_close(struct pq_vec_file *vf)
{
	pq_vec_clear_case(vf);
	free(vf->line);
	vf->line = NULL;
	if (vf->fp != NULL)
		fclose(vf->fp);
	vf->fp = NULL;
}

static inline char *pq_vec_trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
			   s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

/* Add one "key = value" line to the current case. */
static inline void pq_vec_add_field(struct pq_vec_file *vf, char *text)
{
	char *eq = strchr(text, '=');
	char *key, *value;

	if (eq == NULL)
		fail_msg("%s:%lu: expected \"key = value\", got \"%.60s\"", vf->path, vf->lineno, text);
	*eq = '\0';
	key = pq_vec_trim(text);
	value = pq_vec_trim(eq + 1);
	if (key[0] == '\0')
		fail_msg("%s:%lu: empty key", vf->path, vf->lineno);
	for (size_t i = 0; i < vf->nfields; i++)
		if (strcmp(vf->fields[i].key, key) == 0)
			fail_msg("%s:%lu: field \"%s\" repeated in one case", vf->path, vf->lineno, key);
	if (vf->nfields == PQ_VEC_MAX_FIELDS)
		fail_msg("%s:%lu: more than %d fields in one case", vf->path, vf->lineno, PQ_VEC_MAX_FIELDS);
	vf->fields[vf->nfields].key = strdup(key);
	vf->fields[vf->nfields].value = strdup(value);
	if (vf->fields[vf->nfields].key == NULL || vf->fields[vf->nfields].value == NULL)
		fail_msg("out of memory reading %s", vf->path);
	vf->nfields++;
}

/* Read the next case. Returns 1 when one was read, 0 at end of file. */
static inline int pq_vec_next(struct pq_vec_file *vf)
{
	ssize_t got;

	pq_vec_clear_case(vf);
	while ((got = getline(&vf->line, &vf->line_cap, vf->fp)) >= 0) {
		char *text = pq_vec_trim(vf->line);
		vf->lineno++;
		if (text[0] == '#')
			continue;
		if (text[0] == '\0') {
			if (vf->nfields > 0)
				return 1;
			continue;
		}
		if (vf->nfields == 0)
			vf->case_line = vf->lineno;
		pq_vec_add_field(vf, text);
	}
	if (ferror(vf->fp))
		fail_msg("read error on %s", vf->path);
	return vf->nfields > 0;
}

/* The value of key in the current case, or NULL when absent. */
static inline const char *pq_vec_find(const struct pq_vec_file *vf, const char *key)
{
	for (size_t i = 0; i < vf->nfields; i++)
		if (strcmp(vf->fields[i].key, key) == 0)
			return vf->fields[i].value;
	return NULL;
}

/* The value of key; fails the test when the case has no such field. */
static inline const char *pq_vec_get(const struct pq_vec_file *vf, const char *key)
{
	const char *value = pq_vec_find(vf, key);

	if (value == NULL)
		fail_msg("%s:%lu: case has no field \"%s\"", vf->path, vf->case_line, key);
	return value;
}

static inline int pq_vec_hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the hex field key into out (capacity cap); returns its byte
 * length. Fails the test on bad hex or when it does not fit. */
static inline size_t pq_vec_hex_any(const struct pq_vec_file *vf, const char *key, uint8_t *out, size_t cap)
{
	const char *hex = pq_vec_get(vf, key);
	size_t digits = strlen(hex);

	if (digits % 2 != 0)
		fail_msg("%s:%lu: field \"%s\" has an odd number of hex digits", vf->path, vf->case_line, key);
	if (digits / 2 > cap)
		fail_msg("%s:%lu: field \"%s\" is %zu bytes, more than the %zu expected", vf->path,
			 vf->case_line, key, digits / 2, cap);
	for (size_t i = 0; i < digits / 2; i++) {
		int hi = pq_vec_hexdigit(hex[2 * i]), lo = pq_vec_hexdigit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			fail_msg("%s:%lu: field \"%s\" is not hex", vf->path, vf->case_line, key);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return digits / 2;
}

/* Decode the hex field key, which must be exactly len bytes long. */
static inline void pq_vec_hex(const struct pq_vec_file *vf, const char *key, uint8_t *out, size_t len)
{
	size_t got = pq_vec_hex_any(vf, key, out, len);

	if (got != len)
		fail_msg("%s:%lu: field \"%s\" is %zu bytes, expected %zu", vf->path, vf->case_line, key,
			 got, len);
}

/* Byte length of the hex field key (half its digit count). */
static inline size_t pq_vec_hex_len(const struct pq_vec_file *vf, const char *key)
{
	return strlen(pq_vec_get(vf, key)) / 2;
}

/* A "true"/"false" field as 1/0. */
static inline int pq_vec_bool(const struct pq_vec_file *vf, const char *key)
{
	const char *value = pq_vec_get(vf, key);

	if (strcmp(value, "true") == 0)
		return 1;
	if (strcmp(value, "false") == 0)
		return 0;
	fail_msg("%s:%lu: field \"%s\" is \"%s\", not true/false", vf->path, vf->case_line, key, value);
	return -1;
}

/* A decimal field. */
static inline unsigned long long pq_vec_ull(const struct pq_vec_file *vf, const char *key)
{
	const char *value = pq_vec_get(vf, key);
	char *end;
	unsigned long long v = strtoull(value, &end, 10);

	if (value[0] < '0' || value[0] > '9' || *end != '\0')
		fail_msg("%s:%lu: field \"%s\" is \"%s\", not a decimal number", vf->path, vf->case_line,
			 key, value);
	return v;
}

#endif
