/*
 * msg_sealed.c - framing of sealed messages and the ENDPOINTS, PROBE and
 * PMTU_ACK plaintext codecs (DESIGN §4, §5).
 */
#include "proto/msg_sealed.h"
#include "proto/frag.h"
#include "proto/gso_hdr.h"
#include "util/cursor.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool pq_sealed_type_ok(uint8_t type)
{
	return type >= PQ_MSG_DATA && type <= PQ_MSG_DATA_FRAG;
}

int pq_sealed_pt_len_ok(uint8_t type, size_t len)
{
	switch (type) {
	case PQ_MSG_DATA:
		if (len > PQ_MAX_FRAME_LEN)
			return PQ_E_TOOBIG;
		return len >= PQ_DATA_MIN_LEN ? 0 : PQ_E_DECODE;
	case PQ_MSG_DATA_GSO:
		/* The header's own rules are gso_hdr.c's, after opening. */
		if (len > PQ_DATA_GSO_MAX_LEN)
			return PQ_E_TOOBIG;
		return len >= PQ_DATA_GSO_MIN_LEN ? 0 : PQ_E_DECODE;
	case PQ_MSG_KEEPALIVE:
		return len == 0 ? 0 : PQ_E_DECODE;
	case PQ_MSG_ENDPOINTS:
		if (len > PQ_ENDPOINTS_MAX_LEN)
			return PQ_E_TOOBIG;
		return (len >= 1 && (len - 1) % PQ_ENDPOINT_LEN == 0) ? 0 : PQ_E_DECODE;
	case PQ_MSG_PROBE:
	case PQ_MSG_PROBE_ACK:
		return len == PQ_PROBE_ID_LEN ? 0 : PQ_E_DECODE;
	case PQ_MSG_PUNCH:
		return len == PQ_PUNCH_ID_LEN ? 0 : PQ_E_DECODE;
	case PQ_MSG_PMTU_PROBE:
		return len <= PQ_PMTU_PROBE_MAX_PT ? 0 : PQ_E_TOOBIG;
	case PQ_MSG_PMTU_ACK:
		return len == PQ_PMTU_ACK_LEN ? 0 : PQ_E_DECODE;
	case PQ_MSG_DATA_FRAG:
		/* The piece's own rules are frag.c's, after opening; a
		 * piece is shorter than its whole. */
		if (len > PQ_FRAG_HDR_LEN + PQ_FRAG_MAX_TOTAL - 1)
			return PQ_E_TOOBIG;
		return len > PQ_FRAG_HDR_LEN ? 0 : PQ_E_DECODE;
	default:
		return PQ_E_DECODE;
	}
}

long pq_sealed_hdr_encode(const struct pq_sealed_hdr *h, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	if (!pq_sealed_type_ok(h->type))
		return PQ_E_INVAL;
	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, h->type);
	pq_wc_u32(&wc, h->receiver_index);
	pq_wc_u64(&wc, h->counter);
	return pq_wc_finish(&wc);
}

int pq_sealed_decode(struct pq_sealed_hdr *h, const uint8_t **ct, size_t *ct_len, const uint8_t *in,
		     size_t len)
{
	struct pq_rcursor rc;

	if (!in || len < PQ_SEALED_OVERHEAD || !pq_sealed_type_ok(in[0]))
		return PQ_E_DECODE;
	if (pq_sealed_pt_len_ok(in[0], len - PQ_SEALED_OVERHEAD))
		return PQ_E_DECODE;
	pq_rc_init(&rc, in, len);
	h->type = pq_rc_u8(&rc);
	h->receiver_index = pq_rc_u32(&rc);
	h->counter = pq_rc_u64(&rc);
	*ct_len = len - PQ_SEALED_HDR_LEN;
	*ct = pq_rc_take(&rc, *ct_len);
	return pq_rc_finish(&rc);
}

void pq_endpoint_set_v4(struct pq_endpoint *ep, const uint8_t v4[4], uint16_t port)
{
	ep->family = PQ_EP_FAMILY_V4;
	memcpy(ep->addr, v4_mapped_prefix, sizeof(v4_mapped_prefix));
	memcpy(ep->addr + 12, v4, 4);
	ep->port = port;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* One rule for both directions (the same as msg_relay's observed address):
 * family 4 is v4-mapped, family 6 is not, never the unspecified address,
 * port non-zero, transport TLS or UDP. */
static int endpoint_valid(const struct pq_endpoint *ep)
{
	bool mapped = memcmp(ep->addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;

	if (ep->port == 0 || ep->transport > PQ_EP_UDP)
		return PQ_E_DECODE;
	if (ep->family == PQ_EP_FAMILY_V4)
		return mapped && !all_zero(ep->addr + 12, 4) ? 0 : PQ_E_DECODE;
	if (ep->family == PQ_EP_FAMILY_V6)
		return mapped || all_zero(ep->addr, 16) ? PQ_E_DECODE : 0;
	return PQ_E_DECODE;
}

long pq_endpoints_encode(const struct pq_endpoints *e, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	if (e->count > PQ_ENDPOINTS_MAX)
		return PQ_E_INVAL;
	for (size_t i = 0; i < e->count; i++)
		if (endpoint_valid(&e->ep[i]))
			return PQ_E_INVAL;
	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, e->count);
	for (size_t i = 0; i < e->count; i++) {
		pq_wc_u8(&wc, (uint8_t)(e->ep[i].transport << 4 | e->ep[i].family));
		pq_wc_bytes(&wc, e->ep[i].addr, sizeof(e->ep[i].addr));
		pq_wc_u16(&wc, e->ep[i].port);
	}
	return pq_wc_finish(&wc);
}

int pq_endpoints_decode(struct pq_endpoints *e, const uint8_t *in, size_t len)
{
	struct pq_rcursor rc;

	memset(e, 0, sizeof(*e));
	if (!in || len < 1 || in[0] > PQ_ENDPOINTS_MAX || len != 1 + (size_t)in[0] * PQ_ENDPOINT_LEN)
		return PQ_E_DECODE;
	pq_rc_init(&rc, in, len);
	e->count = pq_rc_u8(&rc);
	for (size_t i = 0; i < e->count; i++) {
		uint8_t kind = pq_rc_u8(&rc);

		e->ep[i].family = kind & 0x0f;
		e->ep[i].transport = kind >> 4;
		pq_rc_bytes(&rc, e->ep[i].addr, sizeof(e->ep[i].addr));
		e->ep[i].port = pq_rc_u16(&rc);
		if (endpoint_valid(&e->ep[i]))
			return PQ_E_DECODE;
	}
	return pq_rc_finish(&rc);
}

long pq_probe_encode(const uint8_t id[PQ_PROBE_ID_LEN], uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, out, cap);
	pq_wc_bytes(&wc, id, PQ_PROBE_ID_LEN);
	return pq_wc_finish(&wc);
}

int pq_probe_decode(uint8_t id[PQ_PROBE_ID_LEN], const uint8_t *in, size_t len)
{
	struct pq_rcursor rc;

	if (!in || len != PQ_PROBE_ID_LEN)
		return PQ_E_DECODE;
	pq_rc_init(&rc, in, len);
	pq_rc_bytes(&rc, id, PQ_PROBE_ID_LEN);
	return pq_rc_finish(&rc);
}

void pq_pmtu_ack_encode(unsigned size, uint8_t out[PQ_PMTU_ACK_LEN])
{
	out[0] = (uint8_t)(size >> 8);
	out[1] = (uint8_t)size;
}

int pq_pmtu_ack_decode(unsigned *size, const uint8_t *in, size_t len)
{
	unsigned v;

	if (!in || len != PQ_PMTU_ACK_LEN)
		return PQ_E_DECODE;
	v = (unsigned)in[0] << 8 | in[1];
	if (v < PQ_PMTU_MIN || v > PQ_PMTU_MAX)
		return PQ_E_DECODE;
	*size = v;
	return 0;
}
