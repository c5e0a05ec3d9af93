/*
 * inet_csum.c - the Internet checksum (see inet_csum.h).
 */
#include <string.h>

#include "proto/inet_csum.h"

/* a + b with the carry out of 64 bits added back: 2^64 = 1 (mod 0xFFFF). */
static uint64_t add_carry(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

/* The n bytes at p (n a multiple of 16, at most CSUM_BLOCK) as 32-bit
 * native words summed into four 64-bit lanes (RFC 1071 §2(C): sums in
 * parallel). A lane takes 2^32 words before it can carry out, so the loop
 * needs no end-around carry: no chain from one add to the next, which is
 * what made the 64-bit loop this replaces half as fast. 2^32 = 1 (mod
 * 0xFFFF): a 32-bit word counts as its two 16-bit halves. */
#define CSUM_BLOCK ((size_t)1 << 30)
static uint64_t sum_words(const uint8_t *p, size_t n)
{
	uint64_t l0 = 0, l1 = 0, l2 = 0, l3 = 0;

	for (; n >= 16; p += 16, n -= 16) {
		uint32_t w[4];

		memcpy(w, p, sizeof(w));
		l0 += w[0];
		l1 += w[1];
		l2 += w[2];
		l3 += w[3];
	}
	return add_carry(add_carry(l0, l1), add_carry(l2, l3));
}

uint64_t pq_csum_add(uint64_t acc, const uint8_t *p, size_t n)
{
	uint16_t h;

	while (n >= 16) {
		size_t block = (n < CSUM_BLOCK ? n : CSUM_BLOCK) & ~(size_t)15;

		acc = add_carry(acc, sum_words(p, block));
		p += block;
		n -= block;
	}
	for (; n >= 2; p += 2, n -= 2) {
		memcpy(&h, p, 2);
		acc = add_carry(acc, h);
	}
	if (n) {
		uint8_t last[2] = { p[0], 0 };

		memcpy(&h, last, 2);
		acc = add_carry(acc, h);
	}
	return acc;
}

uint16_t pq_csum_fold(uint64_t acc)
{
	uint16_t h;
	uint8_t b[2];

	acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
	acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
	acc = (acc & 0xFFFF) + (acc >> 16);
	acc = (acc & 0xFFFF) + (acc >> 16);
	h = (uint16_t)acc;
	memcpy(b, &h, 2); /* native order back to the wire's bytes */
	return (uint16_t)(b[0] << 8 | b[1]);
}

uint16_t pq_csum_finish(uint64_t acc)
{
	return (uint16_t)~pq_csum_fold(acc);
}

uint64_t pq_csum_pseudo(uint64_t acc, const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4_len)
{
	uint8_t tail[8] = { 0 };

	if (v6) {
		/* RFC 8200 §8.1: addresses, 32-bit length, 3 zeros, next header. */
		acc = pq_csum_add(acc, ip + 8, 32);
		tail[0] = (uint8_t)(l4_len >> 24);
		tail[1] = (uint8_t)(l4_len >> 16);
		tail[2] = (uint8_t)(l4_len >> 8);
		tail[3] = (uint8_t)l4_len;
		tail[7] = proto;
		return pq_csum_add(acc, tail, 8);
	}
	/* RFC 9293 §3.1: addresses, zero, protocol, 16-bit TCP length. */
	acc = pq_csum_add(acc, ip + 12, 8);
	tail[1] = proto;
	tail[2] = (uint8_t)(l4_len >> 8);
	tail[3] = (uint8_t)l4_len;
	return pq_csum_add(acc, tail, 4);
}
