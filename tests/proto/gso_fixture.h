/*
 * gso_fixture.h - what the tests of the user-space offloads share
 * (test_gso_seg.c, test_gso_coalesce.c): a deterministic generator, a
 * naive Internet checksum (16-bit big-endian words, one at a time: written
 * apart from src/proto/inet_csum.c on purpose), and a builder of complete
 * Ethernet / 802.1Q / IPv4 or IPv6 / TCP or UDP frames with random
 * fields, options and payload.
 */
#ifndef PQ_TESTS_PROTO_GSO_FIXTURE_H
#define PQ_TESTS_PROTO_GSO_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/gso_hdr.h"
#include "proto/gso_seg.h"
#include "proto/inet_csum.h"

#define F PQ_GSO_F_NEEDS_CSUM
#define MAXG PQ_MAX_GSO_FRAME_LEN

/* ---- a deterministic generator (xorshift64*) ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static inline uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* lo..hi inclusive */
static inline size_t rnd_in(size_t lo, size_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static inline void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* ---- a naive checksum: 16-bit big-endian words, one at a time ---- */

static inline uint32_t naive_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t naive_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)s;
}

/* The data with its checksum field in place sums to 0xFFFF. */
static inline bool naive_ipv4_ok(const uint8_t *ip)
{
	return naive_fold(naive_sum(ip, (size_t)(ip[0] & 15) * 4, 0)) == 0xFFFF;
}

static inline uint32_t naive_pseudo(const uint8_t *ip, bool v6, uint8_t proto, size_t l4_len)
{
	uint8_t ph[40 + 8];
	size_t n;

	if (v6) {
		memcpy(ph, ip + 8, 32);
		ph[32] = (uint8_t)(l4_len >> 24);
		ph[33] = (uint8_t)(l4_len >> 16);
		ph[34] = (uint8_t)(l4_len >> 8);
		ph[35] = (uint8_t)l4_len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = proto;
		n = 40;
	} else {
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = proto;
		ph[10] = (uint8_t)(l4_len >> 8);
		ph[11] = (uint8_t)l4_len;
		n = 12;
	}
	return naive_sum(ph, n, 0);
}

static inline bool naive_l4_ok(const uint8_t *ip, bool v6, uint8_t proto, const uint8_t *l4, size_t l4_len)
{
	return naive_fold(naive_sum(l4, l4_len, naive_pseudo(ip, v6, proto, l4_len))) == 0xFFFF;
}

static inline unsigned g16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static inline void p16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void p32(uint8_t *p, uint32_t v)
{
	p16(p, v >> 16);
	p16(p + 2, v & 0xFFFF);
}

/* ---- test frames ---- */

struct tframe {
	uint8_t f[MAXG];
	size_t len, l3, l4, hlen;
	bool v6;
	uint8_t proto;
	struct pq_gso_hdr hdr;
};

struct tshape {
	bool v6, vlan;
	uint8_t proto;       /* TCP or UDP */
	size_t ip_opt;       /* IPv4 option bytes, multiple of 4, <= 40 */
	size_t tcp_opt;      /* TCP option bytes, multiple of 4, <= 40 */
	size_t payload;
	uint8_t flags;
	uint16_t urp;
	uint32_t seq;
	uint16_t ip_id;
};

/* A complete frame: every checksum valid, header all zero. */
static inline void tf_build(struct tframe *t, const struct tshape *s)
{
	uint8_t *ip, *l4;
	size_t l4_len;

	memset(t, 0, sizeof(*t));
	rnd_fill(t->f, 12);
	t->f[0] &= 0xFE; /* unicast */
	t->l3 = 14;
	if (s->vlan) {
		p16(t->f + 12, PQ_ETH_P_8021Q);
		p16(t->f + 14, (unsigned)rnd_in(1, 4094));
		t->l3 = 18;
	}
	p16(t->f + t->l3 - 2, s->v6 ? PQ_ETH_P_IPV6 : PQ_ETH_P_IPV4);
	ip = t->f + t->l3;
	t->v6 = s->v6;
	t->proto = s->proto;
	if (s->v6) {
		t->l4 = t->l3 + 40;
		rnd_fill(ip, 40);
		ip[0] = (uint8_t)(0x60 | (ip[0] & 15));
		ip[6] = s->proto;
	} else {
		t->l4 = t->l3 + 20 + s->ip_opt;
		rnd_fill(ip, 20 + s->ip_opt);
		ip[0] = (uint8_t)(0x40 | (5 + s->ip_opt / 4));
		p16(ip + 4, s->ip_id);
		p16(ip + 6, rnd() & 1 ? 0x4000 : 0); /* DF or not; no fragment */
		ip[9] = s->proto;
	}
	l4 = t->f + t->l4;
	if (s->proto == PQ_IPPROTO_TCP) {
		t->hlen = t->l4 + 20 + s->tcp_opt;
		rnd_fill(l4, 20 + s->tcp_opt);
		p32(l4 + 4, s->seq);
		l4[12] = (uint8_t)((5 + s->tcp_opt / 4) << 4);
		l4[13] = s->flags;
		p16(l4 + 18, s->urp);
	} else {
		t->hlen = t->l4 + 8;
		rnd_fill(l4, 8);
	}
	rnd_fill(t->f + t->hlen, s->payload);
	t->len = t->hlen + s->payload;
	l4_len = t->len - t->l4;
	if (s->v6) {
		p16(ip + 4, (unsigned)l4_len);
	} else {
		p16(ip + 2, (unsigned)(t->len - t->l3));
		p16(ip + 10, 0);
		p16(ip + 10, (uint16_t)~naive_fold(naive_sum(ip, t->l4 - t->l3, 0)));
	}
	if (s->proto == PQ_IPPROTO_UDP)
		p16(l4 + 4, (unsigned)l4_len);
	{
		size_t co = s->proto == PQ_IPPROTO_TCP ? 16 : 6;

		p16(l4 + co, 0);
		p16(l4 + co, (uint16_t)~naive_fold(naive_sum(l4, l4_len, naive_pseudo(ip, s->v6, s->proto, l4_len))));
	}
}

/* The checksum field as the TAP hands it over with NEEDS_CSUM: the folded
 * pseudo-header sum, not complemented (the kernel's CHECKSUM_PARTIAL). */
static inline void tf_partial(struct tframe *t)
{
	size_t co = t->proto == PQ_IPPROTO_TCP ? 16 : 6;

	p16(t->f + t->l4 + co, naive_fold(naive_pseudo(t->f + t->l3, t->v6, t->proto, t->len - t->l4)));
	t->hdr = (struct pq_gso_hdr){ F, PQ_GSO_NONE, (uint16_t)t->hlen, 0, (uint16_t)t->l4, (uint16_t)co };
}

static inline void tf_tso(struct tframe *t, uint16_t gso_size)
{
	tf_partial(t);
	t->hdr.gso_type = t->v6 ? PQ_GSO_TCPV6 : PQ_GSO_TCPV4;
	t->hdr.gso_size = gso_size;
}

static inline struct tshape rnd_shape(size_t max_payload)
{
	struct tshape s = { 0 };
	uint32_t r = rnd();

	s.v6 = r & 1;
	s.vlan = r & 2;
	s.proto = PQ_IPPROTO_TCP;
	s.ip_opt = (r & 4) ? 4 * rnd_in(1, 10) : 0;
	s.tcp_opt = (r & 8) ? 4 * rnd_in(1, 10) : (r & 16) ? 12 : 0;
	switch (rnd() % 4) {
	case 0: s.payload = rnd_in(1, 200); break;
	case 1: s.payload = rnd_in(1, 3000); break;
	default: s.payload = rnd_in(1, 64000); break;
	}
	if (s.payload > max_payload)
		s.payload = rnd_in(1, max_payload);
	s.flags = PQ_TCP_ACK;
	if (rnd() & 1)
		s.flags |= PQ_TCP_PSH;
	if (rnd() % 4 == 0)
		s.flags |= PQ_TCP_FIN;
	if (rnd() % 4 == 0)
		s.flags |= PQ_TCP_CWR;
	if (rnd() % 4 == 0)
		s.flags |= PQ_TCP_ECE;
	if (rnd() % 8 == 0)
		s.flags |= PQ_TCP_URG;
	s.urp = (uint16_t)rnd();
	if (rnd() % 4 == 0)
		s.urp = (uint16_t)rnd_in(0, 3000);
	s.seq = rnd() % 4 == 0 ? 0xFFFFFFFFu - (uint32_t)rnd_in(0, 3000) : rnd();
	s.ip_id = rnd() % 4 == 0 ? (uint16_t)(0xFFFF - rnd_in(0, 40)) : (uint16_t)rnd();
	return s;
}

#endif
