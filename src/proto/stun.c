/*
 * stun.c - the STUN codec and the responder's policy (proto/stun.h),
 * RFC 8489 §5, §6.3, §14.
 */
#include <string.h>

#include "proto/stun.h"
#include "util/cursor.h"

#define ATTR_HDR_LEN 4
#define FINGERPRINT_XOR 0x5354554eu      /* §14.7 */
#define FINGERPRINT_ATTR_LEN (ATTR_HDR_LEN + 4)
#define ADDR_FAMILY_V4 0x01              /* §14.1 */
#define ADDR_FAMILY_V6 0x02
#define ADDR_V4_LEN 8
#define ADDR_V6_LEN 20
#define MI_SHA1_LEN 20                   /* §14.5 */
#define MI_SHA256_MIN 16                 /* §14.6 */
#define MI_SHA256_MAX 32
#define USERHASH_LEN 32                  /* §14.4 */
#define ERROR_CODE_MIN 4                 /* §14.8: 4 bytes + reason phrase */
#define ERROR_REASON_MAX 763
/* The first byte of a message we treat as STUN is below this (stun.h,
 * "Demultiplexing"): the lowest pqlan type on a UDP path. */
#define STUN_FIRST_BYTE_LIMIT PQ_MSG_HS_INIT

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

uint32_t pq_stun_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	/* Bitwise, reflected polynomial 0x04C11DB7: a few dozen bytes per
	 * message do not need a table. */
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* §5: the class bits C1 C0 and the method bits M11..M0 interleave in the
 * 14 bits after the two leading zeros. */
static uint16_t type_encode(uint8_t cls, uint16_t method)
{
	return (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) |
			  ((cls & 1u) << 4) | ((cls & 2u) << 7));
}

static void type_decode(uint16_t type, uint8_t *cls, uint16_t *method)
{
	*method = (uint16_t)((type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2));
	*cls = (uint8_t)(((type >> 4) & 1u) | ((type >> 7) & 2u));
}

bool pq_stun_detect(const uint8_t *in, size_t len)
{
	size_t body;

	if (!in || len < PQ_STUN_HDR_LEN || in[0] >= STUN_FIRST_BYTE_LIMIT)
		return false;
	body = ((size_t)in[2] << 8) | in[3];
	return body == len - PQ_STUN_HDR_LEN && (body & 3) == 0 && in[4] == 0x21 && in[5] == 0x12 &&
	       in[6] == 0xa4 && in[7] == 0x42;
}

/* One rule for what an address may be: msg_sealed.c's, applied by its
 * encoder to a list of one (so the rule is not written twice). */
static bool endpoint_ok(const struct pq_endpoint *ep)
{
	struct pq_endpoints one = { .count = 1 };
	uint8_t scratch[1 + PQ_ENDPOINT_LEN];

	one.ep[0] = *ep;
	return pq_endpoints_encode(&one, scratch, sizeof(scratch)) > 0;
}

/* The bytes an address is XORed with (§14.2): the cookie, then the
 * transaction id (IPv6 only). */
static void xor_pad(uint8_t pad[16], const uint8_t txid[PQ_STUN_TXID_LEN])
{
	pad[0] = 0x21;
	pad[1] = 0x12;
	pad[2] = 0xa4;
	pad[3] = 0x42;
	memcpy(pad + 4, txid, PQ_STUN_TXID_LEN);
}

/* (XOR-)MAPPED-ADDRESS, §14.1 / §14.2. The first byte is reserved and
 * ignored. */
static int addr_decode(struct pq_endpoint *ep, const uint8_t *v, size_t n, bool xored,
		       const uint8_t txid[PQ_STUN_TXID_LEN])
{
	uint8_t pad[16], a[16];
	uint16_t port;

	if (n < 4)
		return PQ_E_DECODE;
	xor_pad(pad, txid);
	port = (uint16_t)((v[2] << 8) | v[3]);
	if (xored)
		port ^= (uint16_t)(PQ_STUN_MAGIC_COOKIE >> 16);
	memset(ep, 0, sizeof(*ep));
	if (v[1] == ADDR_FAMILY_V4 && n == ADDR_V4_LEN) {
		for (int i = 0; i < 4; i++)
			a[i] = (uint8_t)(v[4 + i] ^ (xored ? pad[i] : 0));
		pq_endpoint_set_v4(ep, a, port);
	} else if (v[1] == ADDR_FAMILY_V6 && n == ADDR_V6_LEN) {
		for (int i = 0; i < 16; i++)
			ep->addr[i] = (uint8_t)(v[4 + i] ^ (xored ? pad[i] : 0));
		ep->family = PQ_EP_FAMILY_V6;
		ep->port = port;
	} else {
		return PQ_E_DECODE;
	}
	return endpoint_ok(ep) ? 0 : PQ_E_DECODE;
}

static void addr_encode(struct pq_wcursor *wc, uint16_t type, const struct pq_endpoint *ep, bool xored,
			const uint8_t txid[PQ_STUN_TXID_LEN])
{
	bool v4 = ep->family == PQ_EP_FAMILY_V4;
	const uint8_t *a = v4 ? ep->addr + 12 : ep->addr;
	size_t alen = v4 ? 4 : 16;
	uint8_t pad[16];

	xor_pad(pad, txid);
	pq_wc_u16(wc, type);
	pq_wc_u16(wc, (uint16_t)(4 + alen));
	pq_wc_u8(wc, 0);
	pq_wc_u8(wc, v4 ? ADDR_FAMILY_V4 : ADDR_FAMILY_V6);
	pq_wc_u16(wc, (uint16_t)(ep->port ^ (xored ? PQ_STUN_MAGIC_COOKIE >> 16 : 0)));
	for (size_t i = 0; i < alen; i++)
		pq_wc_u8(wc, (uint8_t)(a[i] ^ (xored ? pad[i] : 0)));
}

/* ERROR-CODE, §14.8: 21 reserved bits, class 3-6, number 0-99, reason. */
static int error_decode(struct pq_stun_msg *m, const uint8_t *v, size_t n)
{
	unsigned cls, number;

	if (n < ERROR_CODE_MIN || n > ERROR_CODE_MIN + ERROR_REASON_MAX)
		return PQ_E_DECODE;
	cls = v[2] & 7u;
	number = v[3];
	if (cls < 3 || cls > 6 || number > 99)
		return PQ_E_DECODE;
	m->error_code = (uint16_t)(cls * 100 + number);
	return 0;
}

static int unknown_attrs_decode(struct pq_stun_msg *m, const uint8_t *v, size_t n)
{
	if (n & 1)
		return PQ_E_DECODE;
	for (size_t i = 0; i + 1 < n && m->unknown_attrs_count < PQ_STUN_MAX_UNKNOWN; i += 2)
		m->unknown_attrs[m->unknown_attrs_count++] = (uint16_t)((v[i] << 8) | v[i + 1]);
	return 0;
}

static void note_unknown(struct pq_stun_msg *m, uint16_t type)
{
	for (unsigned i = 0; i < m->required_unknown_count; i++)
		if (m->required_unknown[i] == type)
			return;
	if (m->required_unknown_count < PQ_STUN_MAX_UNKNOWN)
		m->required_unknown[m->required_unknown_count++] = type;
}

/* One attribute before any MESSAGE-INTEGRITY. The first of a repeated
 * attribute counts; later ones are still checked for their size. */
static int attr_decode(struct pq_stun_msg *m, uint16_t type, const uint8_t *v, size_t n)
{
	struct pq_endpoint ep;
	struct pq_stun_msg scratch;
	int rc;

	switch (type) {
	case PQ_STUN_ATTR_XOR_MAPPED_ADDRESS:
	case PQ_STUN_ATTR_MAPPED_ADDRESS: {
		bool xored = type == PQ_STUN_ATTR_XOR_MAPPED_ADDRESS;
		bool *has = xored ? &m->has_xor_mapped : &m->has_mapped;

		rc = addr_decode(&ep, v, n, xored, m->txid);
		if (!rc && !*has) {
			*has = true;
			*(xored ? &m->xor_mapped : &m->mapped) = ep;
		}
		return rc;
	}
	case PQ_STUN_ATTR_ERROR_CODE:
		scratch.error_code = 0;
		return error_decode(m->error_code ? &scratch : m, v, n);
	case PQ_STUN_ATTR_UNKNOWN_ATTRIBUTES:
		scratch.unknown_attrs_count = 0;
		return unknown_attrs_decode(m->unknown_attrs_count ? &scratch : m, v, n);
	case PQ_STUN_ATTR_SOFTWARE:
		if (n > PQ_STUN_SOFTWARE_MAX)
			return PQ_E_DECODE;
		if (!m->software) {
			m->software = v;
			m->software_len = (uint16_t)n;
		}
		return 0;
	case PQ_STUN_ATTR_MESSAGE_INTEGRITY:
		m->integrity = true;
		return n == MI_SHA1_LEN ? 0 : PQ_E_DECODE;
	case PQ_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
		m->integrity = true;
		return n >= MI_SHA256_MIN && n <= MI_SHA256_MAX && !(n & 3) ? 0 : PQ_E_DECODE;
	case PQ_STUN_ATTR_USERHASH:
		return n == USERHASH_LEN ? 0 : PQ_E_DECODE;
	case PQ_STUN_ATTR_USERNAME:
	case PQ_STUN_ATTR_REALM:
	case PQ_STUN_ATTR_NONCE:
	case PQ_STUN_ATTR_PASSWORD_ALGORITHM:
		return 0; /* known, not used: we hold no credentials */
	default:
		if (type < 0x8000)
			note_unknown(m, type);
		return 0; /* comprehension-optional: ignored (§14) */
	}
}

/* The header: type, length (already checked by pq_stun_detect), cookie,
 * transaction id. */
static void header_decode(struct pq_stun_msg *m, struct pq_rcursor *rc)
{
	type_decode(pq_rc_u16(rc), &m->cls, &m->method);
	(void)pq_rc_u16(rc);
	(void)pq_rc_u32(rc);
	pq_rc_bytes(rc, m->txid, PQ_STUN_TXID_LEN);
}

static int fingerprint_check(const uint8_t *in, size_t at, const uint8_t *v, size_t n)
{
	uint32_t want;

	if (n != 4)
		return PQ_E_DECODE;
	want = pq_stun_crc32(in, at) ^ FINGERPRINT_XOR;
	return ((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]) == want ?
		       0 : PQ_E_DECODE;
}

int pq_stun_decode(struct pq_stun_msg *m, const uint8_t *in, size_t len)
{
	struct pq_rcursor rc;
	bool after_integrity = false;

	memset(m, 0, sizeof(*m));
	if (len > PQ_STUN_MAX_LEN || !pq_stun_detect(in, len))
		return PQ_E_DECODE;
	pq_rc_init(&rc, in, len);
	header_decode(m, &rc);
	while (pq_rc_left(&rc) > 0) {
		size_t at = rc.off;
		uint16_t type = pq_rc_u16(&rc);
		uint16_t n = pq_rc_u16(&rc);
		const uint8_t *v = pq_rc_take(&rc, n);

		(void)pq_rc_take(&rc, pad4(n)); /* padding: any value (§14) */
		if (rc.err)
			goto bad;
		if (type == PQ_STUN_ATTR_FINGERPRINT) {
			/* §14.7: the last attribute, over everything before it. */
			if (rc.off != len || fingerprint_check(in, at, v, n))
				goto bad;
			m->fingerprint = true;
			break;
		}
		if (after_integrity)
			continue; /* §14.5, §14.6: ignored */
		if (attr_decode(m, type, v, n))
			goto bad;
		after_integrity = m->integrity;
	}
	if (pq_rc_finish(&rc) == 0)
		return 0;
bad:
	memset(m, 0, sizeof(*m));
	return PQ_E_DECODE;
}

static bool msg_encodable(const struct pq_stun_msg *m)
{
	if (m->cls > PQ_STUN_ERROR || m->method > PQ_STUN_METHOD_MAX || m->integrity)
		return false;
	if (m->error_code && (m->error_code < 300 || m->error_code > 699))
		return false;
	if (m->unknown_attrs_count > PQ_STUN_MAX_UNKNOWN)
		return false;
	if (m->software_len > PQ_STUN_SOFTWARE_MAX || (m->software_len && !m->software))
		return false;
	if (m->has_xor_mapped && !endpoint_ok(&m->xor_mapped))
		return false;
	return !m->has_mapped || endpoint_ok(&m->mapped);
}

static void attr_start(struct pq_wcursor *wc, uint16_t type, size_t n)
{
	pq_wc_u16(wc, type);
	pq_wc_u16(wc, (uint16_t)n);
}

static void pad_out(struct pq_wcursor *wc, size_t n)
{
	static const uint8_t zero[3];

	pq_wc_bytes(wc, zero, pad4(n));
}

static void attrs_encode(const struct pq_stun_msg *m, struct pq_wcursor *wc)
{
	if (m->error_code) {
		attr_start(wc, PQ_STUN_ATTR_ERROR_CODE, ERROR_CODE_MIN);
		pq_wc_u16(wc, 0);
		pq_wc_u8(wc, (uint8_t)(m->error_code / 100));
		pq_wc_u8(wc, (uint8_t)(m->error_code % 100));
	}
	if (m->unknown_attrs_count) {
		attr_start(wc, PQ_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2u * m->unknown_attrs_count);
		for (unsigned i = 0; i < m->unknown_attrs_count; i++)
			pq_wc_u16(wc, m->unknown_attrs[i]);
		pad_out(wc, 2u * m->unknown_attrs_count);
	}
	if (m->has_xor_mapped)
		addr_encode(wc, PQ_STUN_ATTR_XOR_MAPPED_ADDRESS, &m->xor_mapped, true, m->txid);
	if (m->has_mapped)
		addr_encode(wc, PQ_STUN_ATTR_MAPPED_ADDRESS, &m->mapped, false, m->txid);
	if (m->software) {
		attr_start(wc, PQ_STUN_ATTR_SOFTWARE, m->software_len);
		pq_wc_bytes(wc, m->software, m->software_len);
		pad_out(wc, m->software_len);
	}
}

static void put_u16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

long pq_stun_encode(const struct pq_stun_msg *m, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;
	long n;

	if (!m || !out || !msg_encodable(m))
		return PQ_E_INVAL;
	pq_wc_init(&wc, out, cap);
	pq_wc_u16(&wc, type_encode(m->cls, m->method));
	pq_wc_u16(&wc, 0); /* the length, written below */
	pq_wc_u32(&wc, PQ_STUN_MAGIC_COOKIE);
	pq_wc_bytes(&wc, m->txid, PQ_STUN_TXID_LEN);
	attrs_encode(m, &wc);
	n = pq_wc_finish(&wc);
	if (n < 0)
		return n;
	if (m->fingerprint) {
		/* §14.7: the length already counts the FINGERPRINT attribute
		 * when the CRC is computed. */
		uint32_t crc;

		if ((size_t)n + FINGERPRINT_ATTR_LEN > cap)
			return PQ_E_TOOBIG;
		put_u16(out + 2, (size_t)n + FINGERPRINT_ATTR_LEN - PQ_STUN_HDR_LEN);
		crc = pq_stun_crc32(out, (size_t)n) ^ FINGERPRINT_XOR;
		attr_start(&wc, PQ_STUN_ATTR_FINGERPRINT, 4);
		pq_wc_u32(&wc, crc);
		n = pq_wc_finish(&wc);
		if (n < 0)
			return n;
	}
	if (n > PQ_STUN_MAX_LEN)
		return PQ_E_TOOBIG;
	put_u16(out + 2, (size_t)n - PQ_STUN_HDR_LEN);
	return n;
}

long pq_stun_binding_request(const uint8_t txid[PQ_STUN_TXID_LEN], const char *software,
			     bool fingerprint, uint8_t *out, size_t cap)
{
	struct pq_stun_msg m;
	size_t sw_len = software ? strlen(software) : 0;

	if (!txid || sw_len > PQ_STUN_SOFTWARE_MAX)
		return PQ_E_INVAL;
	memset(&m, 0, sizeof(m));
	m.cls = PQ_STUN_REQUEST;
	m.method = PQ_STUN_METHOD_BINDING;
	memcpy(m.txid, txid, PQ_STUN_TXID_LEN);
	m.software = software ? (const uint8_t *)software : NULL;
	m.software_len = (uint16_t)sw_len;
	m.fingerprint = fingerprint;
	return pq_stun_encode(&m, out, cap);
}

long pq_stun_respond(const uint8_t *in, size_t len, const struct pq_endpoint *src, uint8_t *out,
		     size_t cap)
{
	struct pq_stun_msg req, resp;
	long n;

	if (pq_stun_decode(&req, in, len))
		return PQ_E_DECODE;
	if (req.cls != PQ_STUN_REQUEST || req.method != PQ_STUN_METHOD_BINDING)
		return PQ_E_STATE;
	if (!src || !endpoint_ok(src))
		return PQ_E_INVAL;
	memset(&resp, 0, sizeof(resp));
	resp.method = PQ_STUN_METHOD_BINDING;
	memcpy(resp.txid, req.txid, PQ_STUN_TXID_LEN);
	resp.fingerprint = req.fingerprint;
	if (req.required_unknown_count) {
		/* §6.3.1: 420 with the attributes we did not understand. */
		resp.cls = PQ_STUN_ERROR;
		resp.error_code = PQ_STUN_ERR_UNKNOWN_ATTRIBUTE;
		resp.unknown_attrs_count = req.required_unknown_count;
		memcpy(resp.unknown_attrs, req.required_unknown, sizeof(resp.unknown_attrs));
	} else {
		/* §6.3.1.1 (success), §14.2: the source transport address. */
		resp.cls = PQ_STUN_SUCCESS;
		resp.has_xor_mapped = true;
		resp.xor_mapped = *src;
	}
	n = pq_stun_encode(&resp, out, cap);
	/* No amplification (stun.h): never more than 2 x request + 4. */
	if (n > 0 && (size_t)n > 2 * len + 4)
		return PQ_E_TOOBIG;
	return n;
}
