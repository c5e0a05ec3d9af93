/*
 * gso_int.h - what the user-space offload files share (gso_seg.c cuts
 * super-frames, gso_coalesce.c builds them, gso_parse.c finds the headers
 * both work on). Not for other modules.
 *
 *   gso_parse.c     owns the one strict parse of Ethernet / 802.1Q / IP /
 *                   TCP; calls nothing; called by gso_seg.c, gso_coalesce.c.
 */
#ifndef PQ_PROTO_GSO_INT_H
#define PQ_PROTO_GSO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GSO_ETH_HLEN 14
#define GSO_VLAN_HLEN 4
#define GSO_IPV4_MIN_HLEN 20
#define GSO_IPV6_HLEN 40
#define GSO_TCP_MIN_HLEN 20
#define GSO_IPV4_FRAG_MASK 0x3FFF /* MF and the fragment offset */

/* gso_parse_tcp's verdict on a frame that is well formed but not TCP over
 * IPv4 / IPv6 as we cut and build it (not IP, another protocol, an IPv4
 * fragment, an IPv6 extension header). */
#define GSO_NOT_TCP 1

/* Where a TCP frame's headers are. */
struct gso_tcp {
	size_t l3;    /* IP header */
	size_t l4;    /* TCP header */
	size_t hlen;  /* payload: Ethernet + IP + TCP header bytes */
	bool v6;
};

/* Ethernet, at most one 802.1Q tag, IPv4 (RFC 791: IHL 5..15, not a
 * fragment) or IPv6 (RFC 8200: fixed header, next header TCP), TCP
 * (RFC 9293: data offset 5..15); the IP length exactly the frame's (no
 * padding). 0 and *t filled, GSO_NOT_TCP, or PQ_E_DECODE (truncated or
 * inconsistent). Reads only inside f[0..len). */
int gso_parse_tcp(const uint8_t *f, size_t len, struct gso_tcp *t);

static inline unsigned gso_get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static inline void gso_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t gso_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void gso_put32(uint8_t *p, uint32_t v)
{
	gso_put16(p, v >> 16);
	gso_put16(p + 2, v & 0xFFFF);
}

#endif
