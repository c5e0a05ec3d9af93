/*
 * test_endpoint.c - struct pq_endpoint <-> socket addresses
 * (src/net/endpoint.c): v4, v6, v4-mapped on a dual-stack socket, and
 * the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "net/endpoint.h"

static void test_to_endpoint(void **state)
{
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 5 };
	struct pq_sockaddr sa;
	struct pq_endpoint ep;

	(void)state;
	assert_int_equal(pq_sockaddr_from_ip(&sa, "203.0.113.5", 3478), 0);
	assert_int_equal(pq_sockaddr_to_endpoint(&ep, &sa), 0);
	assert_int_equal(ep.family, PQ_EP_FAMILY_V4);
	assert_memory_equal(ep.addr, mapped, 16);
	assert_int_equal(ep.port, 3478);
	/* A v4 sender seen by an AF_INET6 socket: the same endpoint. */
	assert_int_equal(pq_sockaddr_from_ip(&sa, "::ffff:203.0.113.5", 3478), 0);
	assert_int_equal(pq_sockaddr_to_endpoint(&ep, &sa), 0);
	assert_int_equal(ep.family, PQ_EP_FAMILY_V4);
	assert_memory_equal(ep.addr, mapped, 16);
	assert_int_equal(pq_sockaddr_from_ip(&sa, "2001:db8::7", 65535), 0);
	assert_int_equal(pq_sockaddr_to_endpoint(&ep, &sa), 0);
	assert_int_equal(ep.family, PQ_EP_FAMILY_V6);
	assert_int_equal(ep.addr[0], 0x20);
	assert_int_equal(ep.addr[15], 7);
	assert_int_equal(ep.port, 65535);
	memset(&sa, 0, sizeof(sa));
	sa.ss.ss_family = AF_UNIX;
	assert_int_equal(pq_sockaddr_to_endpoint(&ep, &sa), PQ_E_INVAL);
	printf("checked: 4 socket addresses to endpoints\n");
}

static void test_from_endpoint(void **state)
{
	struct pq_sockaddr sa, back;
	struct pq_endpoint ep;
	char text[PQ_SOCKADDR_TEXT];

	(void)state;
	assert_int_equal(pq_sockaddr_from_ip(&sa, "198.51.100.9", 40000), 0);
	assert_int_equal(pq_sockaddr_to_endpoint(&ep, &sa), 0);
	assert_int_equal(pq_sockaddr_from_endpoint(&back, &ep, AF_INET), 0);
	pq_sockaddr_format(&back, text, sizeof(text));
	assert_string_equal(text, "198.51.100.9:40000");
	assert_int_equal(pq_sockaddr_from_endpoint(&back, &ep, AF_INET6), 0);
	pq_sockaddr_format(&back, text, sizeof(text));
	assert_string_equal(text, "[::ffff:198.51.100.9]:40000");
	assert_int_equal(pq_sockaddr_from_ip(&sa, "2001:db8::1", 9), 0);
	assert_int_equal(pq_sockaddr_to_endpoint(&ep, &sa), 0);
	assert_int_equal(pq_sockaddr_from_endpoint(&back, &ep, AF_INET6), 0);
	pq_sockaddr_format(&back, text, sizeof(text));
	assert_string_equal(text, "[2001:db8::1]:9");
	/* Refused: v6 on a v4 socket, a family-4 endpoint not mapped, family 5. */
	assert_int_equal(pq_sockaddr_from_endpoint(&back, &ep, AF_INET), PQ_E_INVAL);
	ep.family = PQ_EP_FAMILY_V4;
	assert_int_equal(pq_sockaddr_from_endpoint(&back, &ep, AF_INET), PQ_E_INVAL);
	ep.family = 5;
	assert_int_equal(pq_sockaddr_from_endpoint(&back, &ep, AF_INET6), PQ_E_INVAL);
	printf("checked: 6 endpoints to socket addresses\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_endpoint),
		cmocka_unit_test(test_from_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
