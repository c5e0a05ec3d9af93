/*
 * gso_parse.c - the headers of a TCP frame, strictly (see gso_int.h).
 */
#include "proto/gso_hdr.h"
#include "proto/gso_int.h"
#include "proto/inet_csum.h"
#include "util/err.h"

/* RFC 791 §3.1. */
static int parse_ipv4(const uint8_t *f, size_t len, struct gso_tcp *t)
{
	const uint8_t *ip = f + t->l3;
	size_t ihl, rest = len - t->l3;

	if (rest < GSO_IPV4_MIN_HLEN || ip[0] >> 4 != 4)
		return PQ_E_DECODE;
	ihl = (size_t)(ip[0] & 0x0F) * 4;
	if (ihl < GSO_IPV4_MIN_HLEN || rest < ihl)
		return PQ_E_DECODE;
	if (ip[9] != PQ_IPPROTO_TCP || (gso_get16(ip + 6) & GSO_IPV4_FRAG_MASK))
		return GSO_NOT_TCP;
	if (gso_get16(ip + 2) != rest || rest - ihl < GSO_TCP_MIN_HLEN)
		return PQ_E_DECODE;
	t->l4 = t->l3 + ihl;
	return 0;
}

/* RFC 8200 §3: jumbograms (payload length 0) and extension headers are
 * not what we cut or build. */
static int parse_ipv6(const uint8_t *f, size_t len, struct gso_tcp *t)
{
	const uint8_t *ip = f + t->l3;
	size_t rest = len - t->l3;

	if (rest < GSO_IPV6_HLEN || ip[0] >> 4 != 6)
		return PQ_E_DECODE;
	if (ip[6] != PQ_IPPROTO_TCP)
		return GSO_NOT_TCP;
	if (gso_get16(ip + 4) != rest - GSO_IPV6_HLEN || rest - GSO_IPV6_HLEN < GSO_TCP_MIN_HLEN)
		return PQ_E_DECODE;
	t->l4 = t->l3 + GSO_IPV6_HLEN;
	t->v6 = true;
	return 0;
}

int gso_parse_tcp(const uint8_t *f, size_t len, struct gso_tcp *t)
{
	unsigned type;
	size_t thl;
	int r;

	t->l3 = t->l4 = t->hlen = 0;
	t->v6 = false;
	if (len < GSO_ETH_HLEN)
		return PQ_E_DECODE;
	t->l3 = GSO_ETH_HLEN;
	type = gso_get16(f + 12);
	if (type == PQ_ETH_P_8021Q) {
		if (len < GSO_ETH_HLEN + GSO_VLAN_HLEN)
			return PQ_E_DECODE;
		type = gso_get16(f + 16);
		t->l3 += GSO_VLAN_HLEN;
	}
	if (type == PQ_ETH_P_IPV4)
		r = parse_ipv4(f, len, t);
	else if (type == PQ_ETH_P_IPV6)
		r = parse_ipv6(f, len, t);
	else
		r = GSO_NOT_TCP;
	if (r)
		return r;
	/* The IP parsers left at least GSO_TCP_MIN_HLEN bytes past l4. */
	thl = (size_t)(f[t->l4 + 12] >> 4) * 4;
	if (thl < GSO_TCP_MIN_HLEN || len - t->l4 < thl)
		return PQ_E_DECODE;
	t->hlen = t->l4 + thl;
	return 0;
}
