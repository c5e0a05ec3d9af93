/* hexutil.h - hex decoding for the crypto tests' known answers. */
#ifndef PQ_TESTS_HEXUTIL_H
#define PQ_TESTS_HEXUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex into out (exactly out_len bytes); aborts on a malformed
 * literal so a typo in a vector cannot pass silently. */
static inline void unhex(uint8_t *out, size_t out_len, const char *hex)
{
	if (strlen(hex) != 2 * out_len)
		abort();
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			abort();
		out[i] = (uint8_t)(hi << 4 | lo);
	}
}

#endif
