/* config_util.h - shared bits of the configuration tests: known keys (the
 * base64 strings were made with Python's base64 module, independently of
 * our encoder) and a checker for `FILE:LINE: ... , expected ...` lines. */
#ifndef PQ_TESTS_CONFIG_UTIL_H
#define PQ_TESTS_CONFIG_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* bytes 0..31, 32..63, 0xff x 32, 100..131 */
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define KEY_C "//////////////////////////////////////////8="
#define KEY_D "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="
/* KEY_A with the unused low bits of the 43rd character set: not canonical */
#define KEY_A_NONCANON "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9="

static inline void key_bytes(uint8_t out[32], unsigned first)
{
	for (unsigned i = 0; i < 32; i++)
		out[i] = (uint8_t)(first + i);
}

/* The number of lines in err (0 when empty). */
static inline unsigned err_lines(const char *err)
{
	unsigned n = *err ? 1 : 0;

	for (; *err; err++)
		n += *err == '\n';
	return n;
}

/* 1 if some line of err starts with "file:line: " and holds both needle
 * and ", expected " (every message must say what was expected). */
static inline int err_has(const char *err, const char *file, unsigned line, const char *needle)
{
	char prefix[128], one[1024];
	const char *p = err, *eol;
	size_t n;

	snprintf(prefix, sizeof(prefix), "%s:%u: ", file, line);
	while (*p) {
		eol = strchr(p, '\n');
		n = eol ? (size_t)(eol - p) : strlen(p);
		if (n >= sizeof(one))
			n = sizeof(one) - 1;
		memcpy(one, p, n);
		one[n] = '\0';
		if (!strncmp(one, prefix, strlen(prefix)) && strstr(one, needle) &&
		    strstr(one, ", expected "))
			return 1;
		if (!eol)
			break;
		p = eol + 1;
	}
	return 0;
}

#endif
