/*
 * test_msg_sealed.c - sealed-message framing and the ENDPOINTS / PROBE
 * plaintext codecs (src/proto/msg_sealed.c): header round trip, size
 * bounds of every type at and around their limits, all 256 type bytes,
 * every truncation, endpoint validity rules, encoder capacities.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/msg_sealed.h"

static uint8_t buf[PQ_SEALED_MAX_LEN + 64];

static void test_header_round_trip(void **state)
{
	struct pq_sealed_hdr h = { PQ_MSG_DATA, 0x01020304, 0x1112131415161718ULL }, g;
	const uint8_t *ct;
	size_t ct_len;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(pq_sealed_hdr_encode(&h, buf, sizeof(buf)), PQ_SEALED_HDR_LEN);
	assert_int_equal(buf[0], 0x20);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(buf[4], 0x04);
	assert_int_equal(buf[5], 0x11);
	assert_int_equal(buf[12], 0x18);
	assert_int_equal(pq_sealed_decode(&g, &ct, &ct_len, buf, PQ_SEALED_OVERHEAD + 60), 0);
	assert_int_equal(g.type, h.type);
	assert_int_equal(g.receiver_index, h.receiver_index);
	assert_true(g.counter == h.counter);
	assert_ptr_equal(ct, buf + PQ_SEALED_HDR_LEN);
	assert_int_equal(ct_len, 60 + PQ_AEAD_TAG_LEN);
	for (size_t cap = 0; cap < PQ_SEALED_HDR_LEN; cap++)
		assert_int_equal(pq_sealed_hdr_encode(&h, buf, cap), PQ_E_TOOBIG);
	h.type = 0x2a;
	assert_int_equal(pq_sealed_hdr_encode(&h, buf, sizeof(buf)), PQ_E_INVAL);
}

/* Is a plaintext of n bytes allowed for type t? The table the code must match. */
static int model_ok(int t, size_t n)
{
	switch (t) {
	case 0x20: return n >= 14 && n <= PQ_MAX_FRAME_LEN;
	case 0x21: return n == 0;
	case 0x22: return n >= 1 && n <= 1 + 16 * 19 && (n - 1) % 19 == 0;
	case 0x23: case 0x24: return n == 8;
	case 0x25: return n >= 10 + 14 && n <= 10 + PQ_MAX_GSO_FRAME_LEN;
	case 0x26: return n == 16;
	case 0x27: return n <= 9000 - 28 - 29;
	case 0x28: return n == 2;
	case 0x29: return n > 9 && n < 9 + 10 + PQ_MAX_FRAME_LEN;
	default: return 0;
	}
}

static void test_sizes_by_type(void **state)
{
	static const size_t probes[] = { 0, 1, 7, 8, 9, 10, 13, 14, 15, 16, 17, 19, 20, 21, 39, 58, 134, 153, 154, 172,
					 305, 306, 324, 8942, 8943, 8944,
					 1500, 9000, PQ_MAX_FRAME_LEN - 1, PQ_MAX_FRAME_LEN,
					 PQ_MAX_FRAME_LEN + 1, PQ_MAX_FRAME_LEN + 40, 23, 24, 25,
					 10 + PQ_MAX_GSO_FRAME_LEN - 1, 10 + PQ_MAX_GSO_FRAME_LEN,
					 10 + PQ_MAX_GSO_FRAME_LEN + 1, 10 + PQ_MAX_GSO_FRAME_LEN + 40,
					 9 + 10 + PQ_MAX_FRAME_LEN - 1, 9 + 10 + PQ_MAX_FRAME_LEN };
	struct pq_sealed_hdr h;
	const uint8_t *ct;
	size_t ct_len;
	unsigned checked = 0;

	(void)state;
	memset(buf, 0, sizeof(buf));
	for (int t = 0; t < 256; t++) {
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++, checked++) {
			size_t n = probes[i];
			int want = model_ok(t, n);

			buf[0] = (uint8_t)t;
			assert_int_equal(pq_sealed_pt_len_ok((uint8_t)t, n) == 0, want);
			assert_int_equal(pq_sealed_decode(&h, &ct, &ct_len, buf, n + PQ_SEALED_OVERHEAD) == 0, want);
		}
		for (size_t n = 0; n < PQ_SEALED_OVERHEAD; n++, checked++) {
			buf[0] = (uint8_t)t;
			assert_int_equal(pq_sealed_decode(&h, &ct, &ct_len, buf, n), PQ_E_DECODE);
		}
		assert_int_equal(pq_sealed_type_ok((uint8_t)t), t >= 0x20 && t <= 0x29);
	}
	assert_int_equal(pq_sealed_decode(&h, &ct, &ct_len, NULL, 100), PQ_E_DECODE);
	printf("checked: %u sealed (type, size) pairs\n", checked);
}

static void sample_endpoints(struct pq_endpoints *e, uint8_t count)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 };

	memset(e, 0, sizeof(*e));
	e->count = count;
	for (uint8_t i = 0; i < count; i++) {
		if (i % 2 == 0) {
			pq_endpoint_set_v4(&e->ep[i], v4, (uint16_t)(1000 + i));
			e->ep[i].addr[15] = (uint8_t)(i + 1);
		} else {
			e->ep[i].family = PQ_EP_FAMILY_V6;
			e->ep[i].addr[0] = 0x20;
			e->ep[i].addr[1] = 0x01;
			e->ep[i].addr[15] = i;
			e->ep[i].port = (uint16_t)(60000 + i);
		}
		e->ep[i].transport = i % 3 == 2 ? PQ_EP_UDP : PQ_EP_TLS;
	}
}

static void test_endpoints_round_trip(void **state)
{
	struct pq_endpoints a, b;
	uint8_t out[PQ_ENDPOINTS_MAX_LEN];
	unsigned checked = 0;

	(void)state;
	for (uint8_t count = 0; count <= PQ_ENDPOINTS_MAX; count++) {
		size_t len = 1 + (size_t)count * PQ_ENDPOINT_LEN;

		sample_endpoints(&a, count);
		assert_int_equal(pq_endpoints_encode(&a, out, sizeof(out)), (long)len);
		assert_int_equal(out[0], count);
		assert_int_equal(pq_sealed_pt_len_ok(PQ_MSG_ENDPOINTS, len), 0);
		assert_int_equal(pq_endpoints_decode(&b, out, len), 0);
		assert_int_equal(b.count, count);
		for (size_t i = 0; i < count; i++) {
			assert_int_equal(b.ep[i].family, a.ep[i].family);
			assert_int_equal(b.ep[i].transport, a.ep[i].transport);
			assert_int_equal(out[1 + i * PQ_ENDPOINT_LEN], a.ep[i].transport << 4 | a.ep[i].family);
			assert_memory_equal(b.ep[i].addr, a.ep[i].addr, 16);
			assert_int_equal(b.ep[i].port, a.ep[i].port);
		}
		for (size_t n = 0; n < len; n++, checked++)
			assert_int_equal(pq_endpoints_decode(&b, out, n), PQ_E_DECODE);
		for (size_t cap = 0; cap < len; cap++, checked++)
			assert_int_equal(pq_endpoints_encode(&a, out, cap), PQ_E_TOOBIG);
		checked++;
	}
	/* A count above 16 never decodes, whatever follows. */
	memset(out, 0, sizeof(out));
	out[0] = 17;
	assert_int_equal(pq_endpoints_decode(&b, out, sizeof(out)), PQ_E_DECODE);
	a.count = 17;
	assert_int_equal(pq_endpoints_encode(&a, out, sizeof(out)), PQ_E_INVAL);
	printf("checked: %u endpoint lists\n", checked + 2);
}

static void test_endpoint_rules(void **state)
{
	struct pq_endpoints a, b;
	uint8_t out[PQ_ENDPOINTS_MAX_LEN];
	unsigned checked = 0;

	(void)state;
	/* Each broken variant of a valid 2-entry list, refused both ways. */
	for (int v = 0; v < 9; v++, checked++) {
		sample_endpoints(&a, 2);
		assert_int_equal(pq_endpoints_encode(&a, out, sizeof(out)), 39);
		switch (v) {
		case 0: a.ep[0].port = 0; out[1 + 17] = 0; out[1 + 18] = 0; break;
		case 1: a.ep[0].addr[10] = 0; out[1 + 1 + 10] = 0; break;          /* v4 not mapped */
		case 2: a.ep[1].addr[0] = 0; a.ep[1].addr[1] = 0;                   /* v6 that is mapped */
			memset(a.ep[1].addr, 0, 10); a.ep[1].addr[10] = 0xff; a.ep[1].addr[11] = 0xff;
			memcpy(out + 20 + 1, a.ep[1].addr, 16); break;
		case 3: a.ep[1].family = 5; out[20] = 5; break;
		case 4: a.ep[1].family = 0; out[20] = 0; break;
		case 5: memset(a.ep[1].addr, 0, 16); memset(out + 21, 0, 16); break; /* :: */
		case 6: memset(a.ep[0].addr + 12, 0, 4); memset(out + 1 + 1 + 12, 0, 4); break; /* 0.0.0.0 */
		case 7: a.ep[1].transport = 2; out[20] = 0x26; break;               /* no transport 2 */
		case 8: a.ep[0].transport = 15; out[1] = 0xf4; break;
		}
		assert_int_equal(pq_endpoints_encode(&a, buf, sizeof(buf)), PQ_E_INVAL);
		assert_int_equal(pq_endpoints_decode(&b, out, 39), PQ_E_DECODE);
	}
	printf("checked: %u invalid endpoints refused\n", checked);
}

static void test_probe(void **state)
{
	static const uint8_t id[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t out[16], got[8];

	(void)state;
	assert_int_equal(pq_probe_encode(id, out, sizeof(out)), 8);
	assert_memory_equal(out, id, 8);
	assert_int_equal(pq_probe_decode(got, out, 8), 0);
	assert_memory_equal(got, id, 8);
	for (size_t n = 0; n < 16; n++)
		if (n != 8)
			assert_int_equal(pq_probe_decode(got, out, n), PQ_E_DECODE);
	for (size_t cap = 0; cap < 8; cap++)
		assert_int_equal(pq_probe_encode(id, out, cap), PQ_E_TOOBIG);
	printf("checked: 24 probe codec cases\n");
}

/* Every size round-trips; the ones we never probe, and any other length,
 * do not decode. */
static void test_pmtu_ack(void **state)
{
	uint8_t out[PQ_PMTU_ACK_LEN], in[4] = { 0 };
	unsigned size, checked = 0;

	(void)state;
	for (unsigned v = 0; v <= 0xffff; v++, checked++) {
		pq_pmtu_ack_encode(v, out);
		assert_int_equal(out[0] << 8 | out[1], v);
		size = 0;
		if (v >= 1280 && v <= 9000) {
			assert_int_equal(pq_pmtu_ack_decode(&size, out, sizeof(out)), 0);
			assert_int_equal(size, v);
		} else {
			assert_int_equal(pq_pmtu_ack_decode(&size, out, sizeof(out)), PQ_E_DECODE);
			assert_int_equal(size, 0);
		}
	}
	pq_pmtu_ack_encode(1500, in);
	for (size_t n = 0; n <= sizeof(in); n++, checked++)
		assert_int_equal(pq_pmtu_ack_decode(&size, in, n) == 0, n == 2);
	assert_int_equal(pq_pmtu_ack_decode(&size, NULL, 2), PQ_E_DECODE);
	printf("checked: %u PMTU_ACK codec cases\n", checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_sizes_by_type),
		cmocka_unit_test(test_endpoints_round_trip),
		cmocka_unit_test(test_endpoint_rules),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_pmtu_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
