/*
 * test_stun.c - the STUN codec, responder and client transaction
 * (src/proto/stun.c, stun_txn.c): RFC 5769's three test vectors (their
 * CRC-32 FINGERPRINTs and HMAC-SHA1 MESSAGE-INTEGRITYs were also checked
 * with Python's zlib and hmac when they were typed in), every truncation
 * and every single-byte corruption of them and of our own messages,
 * round trips, strictness cases built by hand, demultiplexing against
 * pqlan type bytes, the responder's policy and amplification bound, the
 * RFC 8489 §6.2.1 retransmission schedule, the NAT mapping classes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/stun.h"

/* RFC 5769 §2.1: Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED,
 * USERNAME, MESSAGE-INTEGRITY, FINGERPRINT. */
static const uint8_t rfc_req[108] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};
/* §2.2: success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t rfc_v4[80] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};
/* §2.3: success response, 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t rfc_v6[92] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};
static const uint8_t rfc_txid[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };
static const uint8_t v6_addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
				     0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };

static void ep_v4(struct pq_endpoint *ep, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	const uint8_t v4[4] = { a, b, c, d };

	memset(ep, 0, sizeof(*ep));
	pq_endpoint_set_v4(ep, v4, port);
}

static void ep_v6(struct pq_endpoint *ep, const uint8_t addr[16], uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = PQ_EP_FAMILY_V6;
	memcpy(ep->addr, addr, 16);
	ep->port = port;
}

static void assert_ep_equal(const struct pq_endpoint *a, const struct pq_endpoint *b)
{
	assert_int_equal(a->family, b->family);
	assert_memory_equal(a->addr, b->addr, 16);
	assert_int_equal(a->port, b->port);
}

/* Two decoded messages say the same (software compared by content). */
static void assert_msg_equal(const struct pq_stun_msg *a, const struct pq_stun_msg *b)
{
	assert_int_equal(a->cls, b->cls);
	assert_int_equal(a->method, b->method);
	assert_memory_equal(a->txid, b->txid, 12);
	assert_int_equal(a->has_xor_mapped, b->has_xor_mapped);
	if (a->has_xor_mapped)
		assert_ep_equal(&a->xor_mapped, &b->xor_mapped);
	assert_int_equal(a->has_mapped, b->has_mapped);
	if (a->has_mapped)
		assert_ep_equal(&a->mapped, &b->mapped);
	assert_int_equal(a->error_code, b->error_code);
	assert_int_equal(a->unknown_attrs_count, b->unknown_attrs_count);
	assert_memory_equal(a->unknown_attrs, b->unknown_attrs, sizeof(a->unknown_attrs));
	assert_int_equal(a->software_len, b->software_len);
	assert_int_equal(a->software == NULL, b->software == NULL);
	if (a->software_len)
		assert_memory_equal(a->software, b->software, a->software_len);
	assert_int_equal(a->fingerprint, b->fingerprint);
	assert_int_equal(a->integrity, b->integrity);
	assert_int_equal(a->required_unknown_count, b->required_unknown_count);
	assert_memory_equal(a->required_unknown, b->required_unknown, sizeof(a->required_unknown));
}

/* ---- a hand-made message builder, independent of the encoder ---- */
struct builder {
	uint8_t b[PQ_STUN_MAX_LEN + 64];
	size_t n;
};

static void b_start(struct builder *w, uint16_t type, const uint8_t txid[12])
{
	memset(w, 0, sizeof(*w));
	w->b[0] = (uint8_t)(type >> 8);
	w->b[1] = (uint8_t)type;
	w->b[4] = 0x21, w->b[5] = 0x12, w->b[6] = 0xa4, w->b[7] = 0x42;
	memcpy(w->b + 8, txid, 12);
	w->n = 20;
}

static void b_fix_len(struct builder *w)
{
	w->b[2] = (uint8_t)((w->n - 20) >> 8);
	w->b[3] = (uint8_t)(w->n - 20);
}

static void b_attr(struct builder *w, uint16_t type, const void *v, size_t len)
{
	w->b[w->n++] = (uint8_t)(type >> 8);
	w->b[w->n++] = (uint8_t)type;
	w->b[w->n++] = (uint8_t)(len >> 8);
	w->b[w->n++] = (uint8_t)len;
	if (len)
		memcpy(w->b + w->n, v, len);
	w->n += len;
	while (w->n & 3)
		w->b[w->n++] = 0;
	b_fix_len(w);
}

static void b_fingerprint(struct builder *w)
{
	uint32_t crc;
	uint8_t v[4];

	w->n += 8;
	b_fix_len(w);
	w->n -= 8;
	crc = pq_stun_crc32(w->b, w->n) ^ 0x5354554eu;
	v[0] = (uint8_t)(crc >> 24), v[1] = (uint8_t)(crc >> 16), v[2] = (uint8_t)(crc >> 8), v[3] = (uint8_t)crc;
	b_attr(w, PQ_STUN_ATTR_FINGERPRINT, v, 4);
}

static const uint8_t tx1[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static uint8_t out[PQ_STUN_MAX_LEN];

/* ---- tests ---- */

static void test_crc32(void **state)
{
	(void)state;
	/* The CRC-32/ISO-HDLC check value. */
	assert_int_equal(pq_stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	assert_int_equal(pq_stun_crc32(NULL, 0), 0);
	printf("checked: CRC-32 check value\n");
}

static void test_rfc5769_request(void **state)
{
	struct pq_stun_msg m, r;
	struct pq_endpoint src;
	long n;

	(void)state;
	assert_true(pq_stun_detect(rfc_req, sizeof(rfc_req)));
	assert_int_equal(pq_stun_decode(&m, rfc_req, sizeof(rfc_req)), 0);
	assert_int_equal(m.cls, PQ_STUN_REQUEST);
	assert_int_equal(m.method, PQ_STUN_METHOD_BINDING);
	assert_memory_equal(m.txid, rfc_txid, 12);
	assert_true(m.fingerprint);
	assert_true(m.integrity);
	assert_int_equal(m.software_len, 16);
	assert_memory_equal(m.software, "STUN test client", 16);
	assert_false(m.has_xor_mapped || m.has_mapped);
	/* PRIORITY (ICE) is comprehension-required and not ours; USERNAME is
	 * RFC 8489's, known; ICE-CONTROLLED is comprehension-optional. */
	assert_int_equal(m.required_unknown_count, 1);
	assert_int_equal(m.required_unknown[0], 0x0024);
	/* So the responder answers 420 listing it, with a FINGERPRINT. */
	ep_v4(&src, 192, 0, 2, 1, 32853);
	n = pq_stun_respond(rfc_req, sizeof(rfc_req), &src, out, sizeof(out));
	assert_int_equal(n, 20 + 8 + 8 + 8);
	assert_int_equal(pq_stun_decode(&r, out, (size_t)n), 0);
	assert_int_equal(r.cls, PQ_STUN_ERROR);
	assert_int_equal(r.method, PQ_STUN_METHOD_BINDING);
	assert_memory_equal(r.txid, rfc_txid, 12);
	assert_int_equal(r.error_code, 420);
	assert_int_equal(r.unknown_attrs_count, 1);
	assert_int_equal(r.unknown_attrs[0], 0x0024);
	assert_true(r.fingerprint);
	assert_false(r.has_xor_mapped);
	printf("checked: RFC 5769 §2.1 request, and our 420 answer to it\n");
}

static void test_rfc5769_responses(void **state)
{
	struct pq_stun_msg m;
	struct pq_endpoint want;
	struct pq_stun_txn t;
	uint64_t next;

	(void)state;
	assert_int_equal(pq_stun_decode(&m, rfc_v4, sizeof(rfc_v4)), 0);
	assert_int_equal(m.cls, PQ_STUN_SUCCESS);
	assert_int_equal(m.method, PQ_STUN_METHOD_BINDING);
	assert_true(m.fingerprint && m.integrity && m.has_xor_mapped && !m.has_mapped);
	assert_int_equal(m.software_len, 11);
	assert_memory_equal(m.software, "test vector", 11);
	ep_v4(&want, 192, 0, 2, 1, 32853);
	assert_ep_equal(&m.xor_mapped, &want);
	assert_int_equal(m.required_unknown_count, 0);

	assert_int_equal(pq_stun_decode(&m, rfc_v6, sizeof(rfc_v6)), 0);
	assert_true(m.fingerprint && m.integrity && m.has_xor_mapped);
	ep_v6(&want, v6_addr, 32853);
	assert_ep_equal(&m.xor_mapped, &want);

	/* The client transaction takes them as answers to the request. */
	pq_stun_txn_start(&t, rfc_txid, 0, 0, 0);
	assert_int_equal(pq_stun_txn_poll(&t, 0, &next), PQ_STUN_TXN_SEND);
	memset(&m.xor_mapped, 0, sizeof(m.xor_mapped));
	assert_int_equal(pq_stun_txn_input(&t, rfc_v6, sizeof(rfc_v6), &m.xor_mapped), 0);
	assert_ep_equal(&m.xor_mapped, &want);
	printf("checked: RFC 5769 §2.2 and §2.3 responses\n");
}

/* Every prefix is refused; with its length field patched to match, a
 * prefix is refused or parses to a message without FINGERPRINT. */
static void truncations(const uint8_t *msg, size_t len, unsigned *checked)
{
	uint8_t cut[PQ_STUN_MAX_LEN];
	struct pq_stun_msg m;

	for (size_t n = 0; n < len; n++) {
		memcpy(cut, msg, n);
		assert_int_equal(pq_stun_decode(&m, cut, n), PQ_E_DECODE);
		if (n >= 20) {
			cut[2] = (uint8_t)((n - 20) >> 8);
			cut[3] = (uint8_t)(n - 20);
			if (pq_stun_decode(&m, cut, n) == 0)
				assert_false(m.fingerprint);
		}
		(*checked)++;
	}
}

/* Every byte of a FINGERPRINTed message, each set to every other value:
 * refused, or parsed as a message without FINGERPRINT (a changed length
 * that swallows the FINGERPRINT into a value, or a FINGERPRINT whose type
 * changed into another attribute's): a corruption never passes as
 * fingerprinted, and the header is what it was. */
static void corruptions(const uint8_t *msg, size_t len, unsigned *checked)
{
	uint8_t bad[PQ_STUN_MAX_LEN];
	struct pq_stun_msg orig, m;

	assert_int_equal(pq_stun_decode(&orig, msg, len), 0);
	assert_true(orig.fingerprint);
	for (size_t i = 0; i < len; i++) {
		for (unsigned v = 0; v < 256; v++) {
			if (v == msg[i])
				continue;
			memcpy(bad, msg, len);
			bad[i] = (uint8_t)v;
			(*checked)++;
			if (pq_stun_decode(&m, bad, len) != 0)
				continue;
			assert_true(i >= PQ_STUN_HDR_LEN);
			assert_false(m.fingerprint);
			assert_int_equal(m.cls, orig.cls);
			assert_int_equal(m.method, orig.method);
			assert_memory_equal(m.txid, orig.txid, PQ_STUN_TXID_LEN);
		}
	}
}

static void test_truncation_corruption(void **state)
{
	unsigned checked = 0;
	struct pq_endpoint ep;
	long n;

	(void)state;
	truncations(rfc_req, sizeof(rfc_req), &checked);
	truncations(rfc_v4, sizeof(rfc_v4), &checked);
	truncations(rfc_v6, sizeof(rfc_v6), &checked);
	corruptions(rfc_req, sizeof(rfc_req), &checked);
	corruptions(rfc_v4, sizeof(rfc_v4), &checked);
	corruptions(rfc_v6, sizeof(rfc_v6), &checked);
	/* Our own answer, with a FINGERPRINT. */
	ep_v6(&ep, v6_addr, 4444);
	n = pq_stun_binding_request(tx1, NULL, true, out, sizeof(out));
	assert_int_equal(n, 28);
	n = pq_stun_respond(out, (size_t)n, &ep, out, sizeof(out));
	assert_int_equal(n, 20 + 24 + 8);
	truncations(out, (size_t)n, &checked);
	corruptions(out, (size_t)n, &checked);
	printf("checked: %u truncated or corrupted messages\n", checked);
}

/* Without FINGERPRINT nothing catches a changed byte: whatever parses
 * must re-encode to a message that parses the same (no half-read state). */
static void test_corruption_without_fingerprint(void **state)
{
	struct pq_stun_msg m, again;
	struct pq_endpoint ep;
	uint8_t msg[64], bad[64], re[PQ_STUN_MAX_LEN];
	unsigned parsed = 0, refused = 0;
	long n, r;

	(void)state;
	ep_v4(&ep, 203, 0, 113, 7, 40000);
	n = pq_stun_binding_request(tx1, NULL, false, msg, sizeof(msg));
	assert_int_equal(n, 20);
	n = pq_stun_respond(msg, (size_t)n, &ep, msg, sizeof(msg));
	assert_int_equal(n, 32);
	for (size_t i = 0; i < (size_t)n; i++) {
		for (unsigned v = 0; v < 256; v++) {
			memcpy(bad, msg, (size_t)n);
			bad[i] = (uint8_t)v;
			if (pq_stun_decode(&m, bad, (size_t)n)) {
				refused++;
				continue;
			}
			parsed++;
			m.required_unknown_count = 0; /* not written by the encoder */
			memset(m.required_unknown, 0, sizeof(m.required_unknown));
			r = pq_stun_encode(&m, re, sizeof(re));
			assert_true(r > 0);
			assert_int_equal(pq_stun_decode(&again, re, (size_t)r), 0);
			assert_msg_equal(&again, &m);
		}
	}
	assert_true(parsed > 0 && refused > 0);
	printf("checked: %u corruptions of an answer without FINGERPRINT (%u parse, %u refused)\n",
	       parsed + refused, parsed, refused);
}

static void test_round_trips(void **state)
{
	struct pq_stun_msg m, d;
	unsigned checked = 0;
	long n;

	(void)state;
	for (int variant = 0; variant < 8; variant++) {
		memset(&m, 0, sizeof(m));
		m.cls = (uint8_t)(variant & 3);
		m.method = variant < 4 ? PQ_STUN_METHOD_BINDING : PQ_STUN_METHOD_MAX;
		memcpy(m.txid, tx1, 12);
		m.txid[0] = (uint8_t)variant;
		m.has_xor_mapped = true;
		if (variant & 1)
			ep_v6(&m.xor_mapped, v6_addr, 1);
		else
			ep_v4(&m.xor_mapped, 255, 255, 255, 255, 65535);
		m.has_mapped = variant & 2;
		ep_v4(&m.mapped, 10, 1, 2, 3, 7);
		if (!m.has_mapped)
			memset(&m.mapped, 0, sizeof(m.mapped));
		m.error_code = variant >= 4 ? (uint16_t)(300 + variant * 50 + 1) : 0;
		m.unknown_attrs_count = (uint8_t)variant;
		for (int i = 0; i < variant; i++)
			m.unknown_attrs[i] = (uint16_t)(0x7000 + i);
		m.software = (const uint8_t *)"pqlan";
		m.software_len = (uint16_t)(variant % 6);
		if (!m.software_len)
			m.software = NULL;
		m.fingerprint = variant & 1;
		n = pq_stun_encode(&m, out, sizeof(out));
		assert_true(n >= 20 && n % 4 == 0);
		assert_true(pq_stun_detect(out, (size_t)n));
		assert_int_equal(pq_stun_decode(&d, out, (size_t)n), 0);
		assert_msg_equal(&d, &m);
		for (size_t cap = 0; cap < (size_t)n; cap++, checked++)
			assert_int_equal(pq_stun_encode(&m, out, cap), PQ_E_TOOBIG);
		checked++;
	}
	/* The helpers. */
	n = pq_stun_binding_request(tx1, "pqlan 1", true, out, sizeof(out));
	assert_int_equal(n, 20 + 4 + 8 + 8);
	assert_int_equal(pq_stun_decode(&d, out, (size_t)n), 0);
	assert_true(d.cls == PQ_STUN_REQUEST && d.method == PQ_STUN_METHOD_BINDING && d.fingerprint);
	assert_int_equal(d.software_len, 7);
	assert_int_equal(out[0], 0x00);
	assert_int_equal(out[1], 0x01);
	printf("checked: %u round trips and encoder capacities\n", checked + 1);
}

static void test_encode_refuses(void **state)
{
	struct pq_stun_msg m, base;
	char sw[PQ_STUN_SOFTWARE_MAX + 2];

	(void)state;
	memset(&base, 0, sizeof(base));
	base.method = PQ_STUN_METHOD_BINDING;
	assert_int_equal(pq_stun_encode(&base, out, sizeof(out)), 20);
	m = base, m.cls = 4;
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.method = PQ_STUN_METHOD_MAX + 1;
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.integrity = true;
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.error_code = 299;
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.error_code = 700;
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.unknown_attrs_count = PQ_STUN_MAX_UNKNOWN + 1;
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.software_len = 3;
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.has_xor_mapped = true, ep_v4(&m.xor_mapped, 1, 2, 3, 4, 0);
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.has_mapped = true, ep_v4(&m.mapped, 0, 0, 0, 0, 9);
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	m = base, m.has_xor_mapped = true, ep_v4(&m.xor_mapped, 1, 2, 3, 4, 5), m.xor_mapped.family = 6;
	assert_int_equal(pq_stun_encode(&m, out, sizeof(out)), PQ_E_INVAL);
	memset(sw, 'a', sizeof(sw) - 1);
	sw[sizeof(sw) - 1] = 0;
	assert_int_equal(pq_stun_binding_request(tx1, sw, false, out, sizeof(out)), PQ_E_INVAL);
	sw[PQ_STUN_SOFTWARE_MAX] = 0;
	assert_true(pq_stun_binding_request(tx1, sw, false, out, sizeof(out)) > 0);
	printf("checked: 12 encoder refusals\n");
}

/* A byte that starts a pqlan datagram is never taken for STUN, even with
 * the cookie and a matching length behind it. */
static void test_detect(void **state)
{
	uint8_t d[64];
	unsigned checked = 0;

	(void)state;
	memset(d, 0, sizeof(d));
	d[3] = 44, d[4] = 0x21, d[5] = 0x12, d[6] = 0xa4, d[7] = 0x42;
	for (unsigned first = 0; first < 256; first++, checked++) {
		d[0] = (uint8_t)first;
		assert_int_equal(pq_stun_detect(d, 64), first < PQ_MSG_HS_INIT);
	}
	d[0] = 0;
	for (size_t n = 0; n < sizeof(d); n++, checked++)
		assert_int_equal(pq_stun_detect(d, n), n == 64);
	d[3] = 42; /* not a multiple of 4, though it matches */
	assert_false(pq_stun_detect(d, 62));
	d[3] = 44, d[7] = 0x43;
	assert_false(pq_stun_detect(d, 64));
	assert_false(pq_stun_detect(NULL, 0));
	printf("checked: %u demultiplexing cases\n", checked + 3);
}

static void expect_refused(struct builder *w, const char *what)
{
	struct pq_stun_msg m;

	if (pq_stun_decode(&m, w->b, w->n) != PQ_E_DECODE)
		fail_msg("accepted: %s", what);
}

static void test_strict(void **state)
{
	static const uint8_t xv4[8] = { 0, 1, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43 };
	static const uint8_t mi[20], four[4];
	struct builder w;
	struct pq_stun_msg m;
	uint8_t v[24];
	unsigned checked = 0;

	(void)state;
	/* FINGERPRINT wrong, or not last. */
	b_start(&w, 0x0001, tx1), b_fingerprint(&w), w.b[w.n - 1] ^= 1;
	expect_refused(&w, "bad fingerprint"), checked++;
	b_start(&w, 0x0001, tx1), b_fingerprint(&w), b_attr(&w, 0x8022, "x", 1);
	expect_refused(&w, "attribute after fingerprint"), checked++;
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x8028, four, 4), b_fingerprint(&w);
	expect_refused(&w, "fingerprint not last"), checked++;
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x8028, v, 8);
	expect_refused(&w, "fingerprint of 8 bytes"), checked++;
	/* Attribute lengths past the end; padding missing. */
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x8022, "abcd", 4), w.b[23] = 5;
	expect_refused(&w, "length past the end"), checked++;
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x8022, "abcd", 4), w.b[23] = 3;
	assert_int_equal(pq_stun_decode(&m, w.b, w.n), 0), checked++; /* padding of 1 */
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x8022, "abcd", 4), w.b[22] = 0xff;
	expect_refused(&w, "huge length"), checked++;
	b_start(&w, 0x0001, tx1), memset(w.b + 20, 0, 4), w.n = 24, w.b[3] = 4, w.b[23] = 2;
	expect_refused(&w, "value past the end"), checked++;
	/* Addresses. */
	for (int c = 0; c < 8; c++, checked++) {
		memcpy(v, xv4, 8);
		b_start(&w, 0x0101, tx1);
		switch (c) {
		case 0: v[1] = 2; b_attr(&w, 0x0020, v, 8); break;        /* family v6, 8 bytes */
		case 1: v[1] = 3; b_attr(&w, 0x0020, v, 8); break;        /* no such family */
		case 2: b_attr(&w, 0x0020, v, 7); break;                  /* short */
		case 3: b_attr(&w, 0x0020, v, 12); break;                 /* long */
		case 4: v[2] = 0x21, v[3] = 0x12; b_attr(&w, 0x0020, v, 8); break; /* port 0 */
		case 5: memcpy(v + 4, "\x21\x12\xa4\x42", 4); b_attr(&w, 0x0020, v, 8); break; /* 0.0.0.0 */
		case 6: memset(v, 0, 20), v[1] = 2, v[3] = 1, v[14] = 0xff, v[15] = 0xff;
			b_attr(&w, 0x0001, v, 20); break;                 /* v4-mapped as v6 */
		case 7: b_attr(&w, 0x0020, v, 8); b_attr(&w, 0x0020, v, 7); break; /* bad repeat */
		}
		expect_refused(&w, "bad address");
	}
	/* ERROR-CODE class outside 3-6, number > 99; odd UNKNOWN-ATTRIBUTES. */
	memset(v, 0, sizeof(v));
	v[2] = 2, v[3] = 0;
	b_start(&w, 0x0111, tx1), b_attr(&w, 0x0009, v, 4);
	expect_refused(&w, "error class 2"), checked++;
	v[2] = 4, v[3] = 100;
	b_start(&w, 0x0111, tx1), b_attr(&w, 0x0009, v, 4);
	expect_refused(&w, "error number 100"), checked++;
	b_start(&w, 0x0111, tx1), b_attr(&w, 0x0009, v, 3);
	expect_refused(&w, "short error"), checked++;
	b_start(&w, 0x0111, tx1), b_attr(&w, 0x000a, v, 3);
	expect_refused(&w, "odd unknown-attributes"), checked++;
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x0008, mi, 19);
	expect_refused(&w, "short message-integrity"), checked++;
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x001c, v, 12);
	expect_refused(&w, "short message-integrity-sha256"), checked++;
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x001e, v, 20);
	expect_refused(&w, "userhash of 20"), checked++;
	/* Too big: 1284 bytes of SOFTWARE-ish optional attributes. */
	b_start(&w, 0x0001, tx1);
	while (w.n < PQ_STUN_MAX_LEN)
		b_attr(&w, 0x8099, v, 8);
	assert_int_equal(pq_stun_decode(&m, w.b, w.n), 0);
	b_attr(&w, 0x8099, v, 0);
	expect_refused(&w, "over PQ_STUN_MAX_LEN"), checked += 2;
	/* After MESSAGE-INTEGRITY: only FINGERPRINT counts (§14.5). */
	b_start(&w, 0x0101, tx1), b_attr(&w, 0x0008, mi, 20), b_attr(&w, 0x0020, xv4, 8);
	b_attr(&w, 0x7777, NULL, 0), b_fingerprint(&w);
	assert_int_equal(pq_stun_decode(&m, w.b, w.n), 0);
	assert_true(m.integrity && m.fingerprint && !m.has_xor_mapped && !m.required_unknown_count);
	/* Unknown comprehension-required ones: noted once each, at most 8. */
	b_start(&w, 0x0001, tx1);
	for (uint16_t t = 0x7000; t < 0x700a; t++)
		b_attr(&w, t, NULL, 0);
	b_attr(&w, 0x7000, NULL, 0), b_attr(&w, 0x0000, NULL, 0), b_attr(&w, 0xc000, NULL, 0);
	assert_int_equal(pq_stun_decode(&m, w.b, w.n), 0);
	assert_int_equal(m.required_unknown_count, PQ_STUN_MAX_UNKNOWN);
	assert_int_equal(m.required_unknown[7], 0x7007);
	/* The first of two addresses counts. */
	b_start(&w, 0x0101, tx1), b_attr(&w, 0x0020, xv4, 8);
	memcpy(v, xv4, 8), v[7] ^= 1, b_attr(&w, 0x0020, v, 8);
	assert_int_equal(pq_stun_decode(&m, w.b, w.n), 0);
	assert_int_equal(m.xor_mapped.addr[15], 1);
	checked += 3;
	printf("checked: %u strictness cases\n", checked);
}

static void test_respond(void **state)
{
	struct pq_stun_msg m;
	struct pq_endpoint src;
	struct builder w;
	uint8_t req[64];
	unsigned checked = 0;
	long n, a;

	(void)state;
	/* The smallest request, answered over IPv4 and IPv6. */
	n = pq_stun_binding_request(tx1, NULL, false, req, sizeof(req));
	ep_v4(&src, 198, 51, 100, 9, 61000);
	a = pq_stun_respond(req, (size_t)n, &src, out, sizeof(out));
	assert_int_equal(a, 32);
	assert_int_equal(pq_stun_decode(&m, out, (size_t)a), 0);
	assert_true(m.cls == PQ_STUN_SUCCESS && m.has_xor_mapped && !m.fingerprint && !m.software);
	assert_ep_equal(&m.xor_mapped, &src);
	assert_memory_equal(m.txid, tx1, 12);
	ep_v6(&src, v6_addr, 1);
	a = pq_stun_respond(req, (size_t)n, &src, out, sizeof(out));
	assert_int_equal(a, 44); /* = 2 x 20 + 4: the bound, met exactly */
	assert_int_equal(pq_stun_decode(&m, out, (size_t)a), 0);
	assert_ep_equal(&m.xor_mapped, &src);
	checked += 2;
	/* Each capacity short of the answer. */
	for (size_t cap = 0; cap < 44; cap++, checked++)
		assert_int_equal(pq_stun_respond(req, (size_t)n, &src, out, cap), PQ_E_TOOBIG);
	/* Not answered: each other class, another method, garbage, a bad source. */
	for (uint16_t type = 0; type < 0x40; type++) {
		if (type == 0x0001)
			continue;
		b_start(&w, type, tx1);
		assert_int_equal(pq_stun_respond(w.b, w.n, &src, out, sizeof(out)), PQ_E_STATE);
		checked++;
	}
	memcpy(out, "GET / HTTP/1.1\r\n\r\nxx", 20);
	assert_int_equal(pq_stun_respond(out, 20, &src, out, sizeof(out)), PQ_E_DECODE);
	src.port = 0;
	assert_int_equal(pq_stun_respond(req, (size_t)n, &src, out, sizeof(out)), PQ_E_INVAL);
	assert_int_equal(pq_stun_respond(req, (size_t)n, NULL, out, sizeof(out)), PQ_E_INVAL);
	checked += 3;
	/* 420: one unknown attribute of length 0, the smallest such request. */
	ep_v6(&src, v6_addr, 1);
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x0003, NULL, 0); /* CHANGE-REQUEST-ish */
	a = pq_stun_respond(w.b, w.n, &src, out, sizeof(out));
	assert_int_equal(a, 20 + 8 + 8);
	assert_true(a <= 2 * (long)w.n + 4);
	assert_int_equal(pq_stun_decode(&m, out, (size_t)a), 0);
	assert_true(m.cls == PQ_STUN_ERROR && m.error_code == 420 && m.unknown_attrs_count == 1);
	assert_int_equal(m.unknown_attrs[0], 0x0003);
	/* Ten of them: eight listed, still under the bound. */
	b_start(&w, 0x0001, tx1);
	for (uint16_t t = 1; t <= 10; t++)
		b_attr(&w, (uint16_t)(0x7100 + t), NULL, 0);
	b_fingerprint(&w);
	a = pq_stun_respond(w.b, w.n, &src, out, sizeof(out));
	assert_int_equal(a, 20 + 8 + 4 + 16 + 8);
	assert_true(a <= 2 * (long)w.n + 4);
	assert_int_equal(pq_stun_decode(&m, out, (size_t)a), 0);
	assert_true(m.fingerprint && m.unknown_attrs_count == 8);
	checked += 2;
	printf("checked: %u responder cases\n", checked);
}

static void test_txn_schedule(void **state)
{
	static const uint64_t rfc_sends[7] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
	struct pq_stun_txn t;
	uint64_t now = 1000000, next;
	unsigned sends = 0;

	(void)state;
	pq_stun_txn_start(&t, tx1, now, 0, 0);
	/* Stepping 1 ms at a time: sends at the RFC's times, timeout at 39.5 s. */
	for (uint64_t ms = 0; ms <= 40000; ms++) {
		enum pq_stun_txn_action a = pq_stun_txn_poll(&t, now + ms, &next);

		if (a == PQ_STUN_TXN_SEND) {
			assert_true(sends < 7);
			assert_true(ms == rfc_sends[sends]);
			sends++;
		} else if (a == PQ_STUN_TXN_TIMEOUT) {
			assert_true(ms == 39500 && sends == 7);
			break;
		} else {
			assert_int_equal(a, PQ_STUN_TXN_WAIT);
			assert_true(next > now + ms);
		}
	}
	assert_int_equal(pq_stun_txn_poll(&t, now + 50000, &next), PQ_STUN_TXN_DONE);
	assert_true(next == UINT64_MAX);
	/* A short schedule: 100 ms, 3 sends: 0, 100, 300; timeout at 1900. */
	pq_stun_txn_start(&t, tx1, 0, 100, 3);
	assert_int_equal(pq_stun_txn_poll(&t, 0, &next), PQ_STUN_TXN_SEND);
	assert_true(next == 100);
	assert_int_equal(pq_stun_txn_poll(&t, 99, &next), PQ_STUN_TXN_WAIT);
	assert_int_equal(pq_stun_txn_poll(&t, 100, &next), PQ_STUN_TXN_SEND);
	assert_true(next == 300);
	assert_int_equal(pq_stun_txn_poll(&t, 300, &next), PQ_STUN_TXN_SEND);
	assert_true(next == 300 + 1600);
	assert_int_equal(pq_stun_txn_poll(&t, 1900, &next), PQ_STUN_TXN_TIMEOUT);
	/* max_sends is capped. */
	pq_stun_txn_start(&t, tx1, 0, 1, 200);
	assert_int_equal(t.max_sends, PQ_STUN_MAX_SENDS);
	printf("checked: RFC 8489 §6.2.1 schedule (7 sends, timeout at 39.5 s), a short one, the cap\n");
}

static void test_txn_input(void **state)
{
	struct pq_stun_txn t;
	struct pq_endpoint got, src, keep;
	struct builder w;
	uint8_t req[64], resp[64];
	uint64_t next;
	long n, a;

	(void)state;
	pq_stun_txn_start(&t, tx1, 0, 0, 0);
	assert_int_equal(pq_stun_txn_poll(&t, 0, &next), PQ_STUN_TXN_SEND);
	n = pq_stun_txn_request(&t, req, sizeof(req));
	assert_int_equal(n, 28); /* header + FINGERPRINT */
	ep_v4(&src, 203, 0, 113, 11, 50123);
	a = pq_stun_respond(req, (size_t)n, &src, resp, sizeof(resp));
	assert_true(a > 0);
	ep_v4(&keep, 9, 9, 9, 9, 9);
	got = keep;
	/* Not ours: garbage, our own request echoed, another txid. */
	assert_int_equal(pq_stun_txn_input(&t, resp, (size_t)a - 1, &got), PQ_E_DECODE);
	assert_int_equal(pq_stun_txn_input(&t, req, (size_t)n, &got), PQ_E_STATE);
	resp[8] ^= 1;
	assert_int_equal(pq_stun_txn_input(&t, resp, (size_t)a, &got), PQ_E_DECODE); /* FINGERPRINT */
	resp[8] ^= 1;
	{
		uint8_t other[12];
		long on;

		memcpy(other, tx1, 12), other[11] ^= 0x80;
		on = pq_stun_binding_request(other, NULL, false, req, sizeof(req));
		on = pq_stun_respond(req, (size_t)on, &src, req, sizeof(req));
		assert_int_equal(pq_stun_txn_input(&t, req, (size_t)on, &got), PQ_E_STATE);
	}
	/* A success without an address is no answer. */
	b_start(&w, 0x0101, tx1);
	assert_int_equal(pq_stun_txn_input(&t, w.b, w.n, &got), PQ_E_DECODE);
	assert_ep_equal(&got, &keep);
	assert_false(t.done);
	/* The answer. */
	assert_int_equal(pq_stun_txn_input(&t, resp, (size_t)a, &got), 0);
	assert_ep_equal(&got, &src);
	assert_true(t.done);
	assert_int_equal(pq_stun_txn_input(&t, resp, (size_t)a, &got), PQ_E_STATE);
	assert_int_equal(pq_stun_txn_poll(&t, 1, &next), PQ_STUN_TXN_DONE);
	/* MAPPED-ADDRESS only (an RFC 3489-era server with the cookie). */
	pq_stun_txn_start(&t, tx1, 0, 0, 0);
	{
		uint8_t mv[8] = { 0, 1, 0x12, 0x34, 192, 0, 2, 77 };

		b_start(&w, 0x0101, tx1), b_attr(&w, 0x0001, mv, 8);
	}
	assert_int_equal(pq_stun_txn_input(&t, w.b, w.n, &got), 0);
	ep_v4(&keep, 192, 0, 2, 77, 0x1234);
	assert_ep_equal(&got, &keep);
	/* An error response ends it. */
	pq_stun_txn_start(&t, tx1, 0, 0, 0);
	n = pq_stun_txn_request(&t, req, sizeof(req));
	b_start(&w, 0x0001, tx1), b_attr(&w, 0x0003, NULL, 0);
	a = pq_stun_respond(w.b, w.n, &src, resp, sizeof(resp));
	assert_int_equal(pq_stun_txn_input(&t, resp, (size_t)a, &got), PQ_E_PEER);
	assert_int_equal(pq_stun_txn_poll(&t, 0, &next), PQ_STUN_TXN_DONE);
	printf("checked: 12 client transaction inputs\n");
}

static void test_nat_mapping(void **state)
{
	struct pq_endpoint local, a, b;

	(void)state;
	ep_v4(&local, 192, 168, 11, 2, 40000);
	ep_v4(&a, 203, 0, 113, 11, 40000);
	b = a;
	assert_int_equal(pq_stun_nat_mapping(&local, &a, &b), PQ_NAT_ENDPOINT_INDEPENDENT);
	assert_int_equal(pq_stun_nat_mapping(NULL, &a, &b), PQ_NAT_ENDPOINT_INDEPENDENT);
	assert_int_equal(pq_stun_nat_mapping(&a, &a, &b), PQ_NAT_NONE);
	b.port = 40001;
	assert_int_equal(pq_stun_nat_mapping(&local, &a, &b), PQ_NAT_DEPENDENT);
	b = a, b.addr[15] ^= 1;
	assert_int_equal(pq_stun_nat_mapping(&local, &a, &b), PQ_NAT_DEPENDENT);
	assert_int_equal(pq_stun_nat_mapping(&local, NULL, &b), PQ_NAT_UNKNOWN);
	assert_string_equal(pq_nat_mapping_name(PQ_NAT_ENDPOINT_INDEPENDENT), "endpoint-independent");
	assert_string_equal(pq_nat_mapping_name(PQ_NAT_DEPENDENT), "dependent");
	assert_string_equal(pq_nat_mapping_name(PQ_NAT_NONE), "none");
	assert_string_equal(pq_nat_mapping_name((enum pq_nat_mapping)99), "unknown");
	printf("checked: 10 NAT mapping classifications\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_rfc5769_request),
		cmocka_unit_test(test_rfc5769_responses),
		cmocka_unit_test(test_truncation_corruption),
		cmocka_unit_test(test_corruption_without_fingerprint),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_respond),
		cmocka_unit_test(test_txn_schedule),
		cmocka_unit_test(test_txn_input),
		cmocka_unit_test(test_nat_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
