/*
 * inet_csum.c - the Internet checksum (see inet_csum.h).
 */
#include <string.h>

#include "proto/inet_csum.h"

uint64_t pq_csum_add(uint64_t acc, const uint8_t *p, size_t n)
{
	uint64_t w;
	uint16_t h;

	/* 2^64 = 1 (mod 0xFFFF): a carry out of 64 bits wraps around. */
	while (n >= 8) {
		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;
		p += 8;
		n -= 8;
	}
	while (n >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		acc += acc < h;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = { p[0], 0 };

		memcpy(&h, last, 2);
		acc += h;
		acc += acc < h;
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
