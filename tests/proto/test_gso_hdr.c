/*
 * test_gso_hdr.c - the DATA_GSO offload header (src/proto/gso_hdr.c): the
 * byte layout (big-endian, a fixed vector), every acceptance rule passing
 * at its bound and failing just past it, all 256 flag and gso_type bytes,
 * decode of short / long / NULL input, encoder capacity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/gso_hdr.h"

#define F PQ_GSO_F_NEEDS_CSUM
#define MAXF PQ_MAX_FRAME_LEN
#define MAXG PQ_MAX_GSO_FRAME_LEN

static uint8_t pt[PQ_DATA_GSO_MAX_LEN + 16];

/* A TSO header as the kernel hands one over for IPv4/TCP. */
static const struct pq_gso_hdr tso4 = { F, PQ_GSO_TCPV4, 66, 1448, 34, 16 };

struct rule_case {
	const char *what;
	struct pq_gso_hdr h;
	size_t len;
	int ok;
};

static const struct rule_case cases[] = {
	{ "zero header, shortest frame", { 0 }, 14, 1 },
	{ "zero header, 13 bytes", { 0 }, 13, 0 },
	{ "zero header, PQ_MAX_FRAME_LEN", { 0 }, MAXF, 1 },
	{ "zero header, PQ_MAX_FRAME_LEN + 1", { 0 }, MAXF + 1, 0 },
	{ "partial checksum, no GSO", { F, 0, 0, 0, 34, 16 }, 1514, 1 },
	{ "partial checksum, UDP offset", { F, 0, 0, 0, 34, 6 }, 42, 1 },
	{ "partial checksum, no GSO, PQ_MAX_FRAME_LEN + 1", { F, 0, 0, 0, 34, 16 }, MAXF + 1, 0 },
	{ "NONE with gso_size", { F, 0, 0, 1448, 34, 16 }, 1514, 0 },
	{ "TSO4", { F, PQ_GSO_TCPV4, 66, 1448, 34, 16 }, 65000, 1 },
	{ "TSO6", { F, PQ_GSO_TCPV6, 86, 1428, 54, 16 }, 65000, 1 },
	{ "TSO4, largest frame", { F, PQ_GSO_TCPV4, 66, 1448, 34, 16 }, MAXG, 1 },
	{ "TSO4, largest frame + 1", { F, PQ_GSO_TCPV4, 66, 1448, 34, 16 }, MAXG + 1, 0 },
	{ "TSO4, gso_size 48 (TCP_MIN_SND_MSS)", { F, PQ_GSO_TCPV4, 66, 48, 34, 16 }, 100, 1 },
	{ "TSO4, gso_size 47", { F, PQ_GSO_TCPV4, 66, 47, 34, 16 }, 100, 0 },
	{ "TSO4, gso_size 1", { F, PQ_GSO_TCPV4, 66, 1, 34, 16 }, 100, 0 },
	{ "TSO4, gso_size 0", { F, PQ_GSO_TCPV4, 66, 0, 34, 16 }, 65000, 0 },
	{ "TSO4, gso_size PQ_MAX_FRAME_LEN", { F, PQ_GSO_TCPV4, 66, MAXF, 34, 16 }, 65000, 1 },
	{ "TSO4, gso_size PQ_MAX_FRAME_LEN + 1", { F, PQ_GSO_TCPV4, 66, MAXF + 1, 34, 16 }, 65000, 0 },
	{ "TSO4, gso_size 0xFFFF (GSO_BY_FRAGS)", { F, PQ_GSO_TCPV4, 66, 0xFFFF, 34, 16 }, 65000, 0 },
	{ "TSO4, csum_offset 6 (not TCP's)", { F, PQ_GSO_TCPV4, 66, 1448, 34, 6 }, 65000, 0 },
	{ "TSO4, csum_offset 17", { F, PQ_GSO_TCPV4, 66, 1448, 34, 17 }, 65000, 0 },
	{ "TSO4, csum_start 33 (inside a minimal IPv4 header)", { F, PQ_GSO_TCPV4, 66, 1448, 33, 16 }, 65000, 0 },
	{ "TSO6, csum_start 53 (inside a minimal IPv6 header)", { F, PQ_GSO_TCPV6, 86, 1428, 53, 16 }, 65000, 0 },
	{ "TSO4 without NEEDS_CSUM", { 0, PQ_GSO_TCPV4, 66, 1448, 0, 0 }, 65000, 0 },
	{ "TSO6 without NEEDS_CSUM", { 0, PQ_GSO_TCPV6, 86, 1428, 0, 0 }, 65000, 0 },
	{ "TSO4 with ECN", { F, PQ_GSO_TCPV4 | PQ_GSO_ECN, 66, 1448, 34, 16 }, 65000, 0 },
	{ "UDP (UFO)", { F, 3, 42, 1472, 34, 6 }, 65000, 0 },
	{ "UDP_L4 (USO)", { F, 5, 42, 1472, 34, 6 }, 65000, 0 },
	{ "DATA_VALID", { PQ_GSO_F_DATA_VALID, 0, 0, 0, 0, 0 }, 1514, 0 },
	{ "NEEDS_CSUM | DATA_VALID", { F | PQ_GSO_F_DATA_VALID, 0, 0, 0, 34, 16 }, 1514, 0 },
	{ "RSC_INFO flag", { 4, 0, 0, 0, 0, 0 }, 1514, 0 },
	{ "hdr_len = frame length", { F, PQ_GSO_TCPV4, 100, 1448, 34, 16 }, 100, 1 },
	{ "hdr_len = frame length + 1", { F, PQ_GSO_TCPV4, 101, 1448, 34, 16 }, 100, 0 },
	{ "hdr_len, no offload", { 0, 0, 14, 0, 0, 0 }, 14, 1 },
	{ "hdr_len past a plain frame", { 0, 0, 15, 0, 0, 0 }, 14, 0 },
	{ "checksum ends at the frame's end", { F, 0, 0, 0, 34, 16 }, 52, 1 },
	{ "checksum one byte past the end", { F, 0, 0, 0, 34, 16 }, 51, 0 },
	{ "csum_start 14", { F, 0, 0, 0, 14, 0 }, 16, 1 },
	{ "csum_start 13 (inside the Ethernet header)", { F, 0, 0, 0, 13, 1 }, 100, 0 },
	{ "csum_start 0", { F, 0, 0, 0, 0, 16 }, 100, 0 },
	{ "csum_start + csum_offset overflowing 16 bits", { F, PQ_GSO_TCPV4, 0, 1, 65535, 65535 }, MAXG, 0 },
	{ "csum_start without NEEDS_CSUM", { 0, 0, 0, 0, 34, 0 }, 1514, 0 },
	{ "csum_offset without NEEDS_CSUM", { 0, 0, 0, 0, 0, 16 }, 1514, 0 },
};

static void test_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rule_case *c = &cases[i];
		struct pq_gso_hdr h;
		const uint8_t *frame;
		size_t flen;
		int want = c->ok ? 0 : PQ_E_DECODE, got = pq_gso_hdr_check(&c->h, c->len);
		long n;

		if (got != want)
			fail_msg("%s: check %d, want %d", c->what, got, want);
		/* The same verdict through the wire: encode refuses what check
		 * refuses; a valid one decodes back from header + frame. */
		n = pq_gso_hdr_encode(&c->h, c->len, pt, sizeof(pt));
		if (!c->ok) {
			assert_int_equal(n, PQ_E_INVAL);
			continue;
		}
		assert_int_equal(n, PQ_GSO_HDR_LEN);
		assert_int_equal(pq_gso_decode(&h, &frame, &flen, pt, PQ_GSO_HDR_LEN + c->len), 0);
		assert_memory_equal(&h, &c->h, sizeof(h));
		assert_ptr_equal(frame, pt + PQ_GSO_HDR_LEN);
		assert_int_equal(flen, c->len);
	}
	assert_int_equal(pq_gso_hdr_check(NULL, 100), PQ_E_DECODE);
	printf("checked: %zu header rules\n", sizeof(cases) / sizeof(cases[0]));
}

/* On a TSO header only flags NEEDS_CSUM and gso_type TCPV4 / TCPV6 pass
 * (NONE with a gso_size fails too; the table above has NONE alone). The
 * TCP header starts at 54 here, past an IPv6 header, so both types fit. */
static void test_all_bytes(void **state)
{
	static const struct pq_gso_hdr tso_any = { F, PQ_GSO_TCPV4, 74, 1448, 54, 16 };

	(void)state;
	for (int v = 0; v < 256; v++) {
		struct pq_gso_hdr h = tso_any;

		h.flags = (uint8_t)v;
		assert_int_equal(pq_gso_hdr_check(&h, 9000) == 0, v == F);
		h = tso_any;
		h.gso_type = (uint8_t)v;
		assert_int_equal(pq_gso_hdr_check(&h, 9000) == 0, v == 1 || v == 4);
		/* The same bytes on the wire. */
		memset(pt, 0, PQ_GSO_HDR_LEN + 9000);
		assert_int_equal(pq_gso_hdr_encode(&tso_any, 9000, pt, sizeof(pt)), PQ_GSO_HDR_LEN);
		pt[1] = (uint8_t)v;
		{
			struct pq_gso_hdr g;
			const uint8_t *frame;
			size_t flen;

			assert_int_equal(pq_gso_decode(&g, &frame, &flen, pt, PQ_GSO_HDR_LEN + 9000) == 0,
					 v == 1 || v == 4);
		}
	}
}

/* The layout of PROTOCOL.md §4.1, byte by byte. */
static void test_layout(void **state)
{
	static const uint8_t want[10] = { 0x01, 0x04, 0x00, 0x56, 0x05, 0x94, 0x00, 0x36, 0x00, 0x10 };
	struct pq_gso_hdr h = { F, PQ_GSO_TCPV6, 0x56, 0x594, 0x36, 0x10 }, g;
	const uint8_t *frame;
	size_t flen;

	(void)state;
	memset(pt, 0xee, sizeof(pt));
	assert_int_equal(pq_gso_hdr_encode(&h, 3000, pt, sizeof(pt)), 10);
	assert_memory_equal(pt, want, sizeof(want));
	assert_int_equal(pt[10], 0xee);
	for (size_t cap = 0; cap < PQ_GSO_HDR_LEN; cap++)
		assert_int_equal(pq_gso_hdr_encode(&h, 3000, pt, cap), PQ_E_TOOBIG);
	assert_int_equal(pq_gso_hdr_encode(&h, 3000, pt, sizeof(pt)), 10);
	assert_int_equal(pq_gso_decode(&g, &frame, &flen, pt, 10 + 3000), 0);
	assert_memory_equal(&g, &h, sizeof(h));
}

/* Plaintext bounds: 24..10 + PQ_MAX_GSO_FRAME_LEN; a refusal leaves a
 * zero header and no frame. */
static void test_decode_bounds(void **state)
{
	struct pq_gso_hdr h;
	const uint8_t *frame;
	size_t flen;

	(void)state;
	memset(pt, 0, sizeof(pt));
	assert_int_equal(pq_gso_decode(&h, &frame, &flen, pt, PQ_DATA_GSO_MIN_LEN), 0);
	assert_true(pq_gso_hdr_is_zero(&h));
	for (size_t len = 0; len < PQ_DATA_GSO_MIN_LEN; len++) {
		assert_int_equal(pq_gso_decode(&h, &frame, &flen, pt, len), PQ_E_DECODE);
		assert_null(frame);
		assert_int_equal(flen, 0);
	}
	assert_int_equal(pq_gso_hdr_encode(&tso4, MAXG, pt, sizeof(pt)), 10);
	assert_int_equal(pq_gso_decode(&h, &frame, &flen, pt, PQ_DATA_GSO_MAX_LEN), 0);
	assert_int_equal(flen, MAXG);
	assert_int_equal(pq_gso_decode(&h, &frame, &flen, pt, PQ_DATA_GSO_MAX_LEN + 1), PQ_E_DECODE);
	assert_int_equal(pq_gso_decode(&h, &frame, &flen, NULL, 100), PQ_E_DECODE);
	/* A bad header is refused and not returned half-filled. */
	pt[0] = PQ_GSO_F_DATA_VALID;
	assert_int_equal(pq_gso_decode(&h, &frame, &flen, pt, 100), PQ_E_DECODE);
	assert_true(pq_gso_hdr_is_zero(&h));
	assert_null(frame);
}

static void test_is_zero(void **state)
{
	(void)state;
	for (int field = 0; field < 6; field++) {
		struct pq_gso_hdr h = { 0 };

		assert_true(pq_gso_hdr_is_zero(&h));
		switch (field) {
		case 0: h.flags = 1; break;
		case 1: h.gso_type = 1; break;
		case 2: h.hdr_len = 1; break;
		case 3: h.gso_size = 1; break;
		case 4: h.csum_start = 1; break;
		default: h.csum_offset = 1; break;
		}
		assert_false(pq_gso_hdr_is_zero(&h));
	}
}

/* The frame agrees with a TCP header: EtherType IPv4 for TCPV4, IPv6 for
 * TCPV6, past at most one 802.1Q tag; the TCP header past a minimal IP
 * header counted from where the IP header starts. */
static void put_type(uint8_t *f, size_t off, unsigned type)
{
	f[off] = (uint8_t)(type >> 8);
	f[off + 1] = (uint8_t)type;
}

static void test_frame_check(void **state)
{
	static uint8_t f[200];
	struct pq_gso_hdr v4 = tso4, v6 = { F, PQ_GSO_TCPV6, 86, 1428, 54, 16 }, none = { 0 };

	(void)state;
	memset(f, 0, sizeof(f));
	put_type(f, 12, PQ_ETH_P_IPV4);
	assert_int_equal(pq_gso_frame_check(&v4, f, sizeof(f)), 0);
	assert_int_equal(pq_gso_frame_check(&v6, f, sizeof(f)), PQ_E_DECODE);
	put_type(f, 12, PQ_ETH_P_IPV6);
	assert_int_equal(pq_gso_frame_check(&v6, f, sizeof(f)), 0);
	assert_int_equal(pq_gso_frame_check(&v4, f, sizeof(f)), PQ_E_DECODE);
	put_type(f, 12, 0x0806); /* ARP */
	assert_int_equal(pq_gso_frame_check(&v4, f, sizeof(f)), PQ_E_DECODE);
	assert_int_equal(pq_gso_frame_check(&v6, f, sizeof(f)), PQ_E_DECODE);
	assert_int_equal(pq_gso_frame_check(&none, f, sizeof(f)), 0);
	/* One VLAN tag: the IP header starts at 18, so the TCP header at 38
	 * (IPv4) or 58 (IPv6) at the earliest. */
	put_type(f, 12, PQ_ETH_P_8021Q);
	put_type(f, 16, PQ_ETH_P_IPV4);
	assert_int_equal(pq_gso_frame_check(&v4, f, sizeof(f)), PQ_E_DECODE);
	v4.csum_start = 38;
	assert_int_equal(pq_gso_frame_check(&v4, f, sizeof(f)), 0);
	put_type(f, 16, PQ_ETH_P_IPV6);
	assert_int_equal(pq_gso_frame_check(&v6, f, sizeof(f)), PQ_E_DECODE);
	v6.csum_start = 58;
	assert_int_equal(pq_gso_frame_check(&v6, f, sizeof(f)), 0);
	/* Two tags (QinQ) are not looked through. */
	put_type(f, 16, PQ_ETH_P_8021Q);
	put_type(f, 20, PQ_ETH_P_IPV6);
	v6.csum_start = 62;
	assert_int_equal(pq_gso_frame_check(&v6, f, sizeof(f)), PQ_E_DECODE);
	/* Too short to hold a tag and its type; NULLs. */
	assert_int_equal(pq_gso_frame_check(&v4, f, 17), PQ_E_DECODE);
	assert_int_equal(pq_gso_frame_check(&none, f, 14), 0);
	assert_int_equal(pq_gso_frame_check(&none, f, 13), PQ_E_DECODE);
	assert_int_equal(pq_gso_frame_check(NULL, f, 100), PQ_E_DECODE);
	assert_int_equal(pq_gso_frame_check(&v4, NULL, 100), PQ_E_DECODE);
	printf("checked: offload header against the frame's EtherType 17 cases\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_all_bytes),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_decode_bounds),
		cmocka_unit_test(test_is_zero),
		cmocka_unit_test(test_frame_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
