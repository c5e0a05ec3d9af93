/*
 * test_inet_csum.c - pq_csum_add/fold/finish (proto/inet_csum.h) against
 * RFC 1071's definition written out plainly: big-endian 16-bit words, an
 * odd last byte padded with zero, the end-around carry after every add.
 * Random data at every alignment and length (also pieces summed one after
 * another into one accumulator, as the offload code does), data that
 * makes every word 0xFFFF (the most carries), accumulators already near
 * 2^64, and RFC 1071 §3's worked example.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/inet_csum.h"

#define BUF (70 * 1024) /* past a 64 KiB super-frame */

static uint8_t buf[BUF + 16];

/* RFC 1071 §4.1, plainly. */
static uint16_t naive_sum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
		sum = (sum & 0xFFFF) + (sum >> 16);
	}
	if (n & 1) {
		sum += (uint32_t)p[n - 1] << 8;
		sum = (sum & 0xFFFF) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/* 0 and 0xFFFF are the same number in one's complement: compare as such. */
static void assert_same_sum(uint16_t got, uint16_t want)
{
	if (got == 0xFFFF)
		got = 0;
	if (want == 0xFFFF)
		want = 0;
	assert_int_equal(got, want);
}

static void fill_random(unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
}

static void test_random_lengths_and_alignments(void **state)
{
	(void)state;
	fill_random(1);
	for (size_t off = 0; off < 16; off++)
		for (size_t n = 0; n < 300; n++)
			assert_same_sum(pq_csum_fold(pq_csum_add(0, buf + off, n)), naive_sum(buf + off, n));
	for (int i = 0; i < 2000; i++) {
		size_t off = (size_t)rand() % 16, n = (size_t)rand() % BUF;

		assert_same_sum(pq_csum_fold(pq_csum_add(0, buf + off, n)), naive_sum(buf + off, n));
	}
}

/* Even-length pieces, then a last one of any length, into one sum. */
static void test_pieces(void **state)
{
	(void)state;
	fill_random(2);
	for (int i = 0; i < 2000; i++) {
		size_t off = (size_t)rand() % 16, n = (size_t)rand() % BUF, done = 0;
		uint64_t acc = 0;

		while (done < n) {
			size_t piece = ((size_t)rand() % 3000) & ~(size_t)1;

			if (piece == 0 || piece > n - done)
				piece = n - done; /* the last: any length */
			acc = pq_csum_add(acc, buf + off + done, piece);
			done += piece;
		}
		assert_same_sum(pq_csum_fold(acc), naive_sum(buf + off, n));
	}
}

/* Every word 0xFFFF and the accumulator starting near 2^64: carries out
 * of every lane and of the accumulator are all added back. */
static void test_most_carries(void **state)
{
	static const uint64_t starts[] = { 0, 0xFFFF, UINT64_MAX - 1, UINT64_MAX, (uint64_t)1 << 63 };

	(void)state;
	memset(buf, 0xFF, sizeof(buf));
	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		uint64_t start = starts[s];
		/* the start value's own one's complement sum, by folding it */
		uint16_t start_sum = pq_csum_fold(start);
		uint8_t be[2] = { (uint8_t)(start_sum >> 8), (uint8_t)start_sum };

		for (size_t n = BUF - 40; n <= BUF; n++) {
			uint8_t joined[2];
			uint16_t data_sum = naive_sum(buf, n);
			uint16_t want;

			joined[0] = (uint8_t)(data_sum >> 8);
			joined[1] = (uint8_t)data_sum;
			want = naive_sum((const uint8_t[]){ be[0], be[1], joined[0], joined[1] }, 4);
			assert_same_sum(pq_csum_fold(pq_csum_add(start, buf, n)), want);
		}
	}
}

/* RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
static void test_rfc1071_example(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(pq_csum_fold(pq_csum_add(0, b, sizeof(b))), 0xddf2);
	assert_int_equal(pq_csum_finish(pq_csum_add(0, b, sizeof(b))), (uint16_t)~0xddf2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_lengths_and_alignments),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_most_carries),
		cmocka_unit_test(test_rfc1071_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
