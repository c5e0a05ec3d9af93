/*
 * util.c - randomness, wiping and constant-time comparison, all delegated
 * to OpenSSL so there is one audited implementation of each.
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/util.h"

int pq_random_bytes(void *out, size_t len)
{
	/* RAND_bytes takes an int; draw in bounded chunks so a huge len
	 * cannot be truncated. */
	uint8_t *p = out;

	while (len > 0) {
		size_t n = len > (1u << 20) ? (1u << 20) : len;

		if (RAND_bytes(p, (int)n) != 1)
			return PQ_E_RANDOM;
		p += n;
		len -= n;
	}
	return 0;
}

void pq_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

int pq_ct_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return 1;
	return CRYPTO_memcmp(a, b, n) == 0;
}

uint32_t pq_random_below(uint32_t n)
{
	uint32_t r;

	if (n == 0 || pq_random_bytes(&r, sizeof(r)))
		return 0;
	return r % n; /* jitter only: the slight modulo bias does not matter */
}
