/*
 * fuzz_gso_seg.c - libFuzzer target for user-space TCP segmentation
 * (src/proto/gso_seg.c). Input: a 10-byte offload header in DATA_GSO's
 * layout (gso_hdr.h), a 2-byte big-endian max_frame, then the frame.
 * Checks: no crash or out-of-bounds read; pq_gso_seg_count segments come
 * out, each at most max_frame bytes; a cap one byte short is refused
 * without moving the iterator; and, with an independent parse of the
 * input, TCP segments carry the original headers' offsets, a verifying
 * IPv4 header and TCP checksum (naive sum here), and payloads that put
 * together are the original; a completed checksum verifies, a frame
 * passed through is unchanged.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "proto/gso_seg.h"
#include "fuzz/fuzz.h"

static uint8_t seg[PQ_MAX_GSO_FRAME_LEN + 64];

static unsigned g16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t naive_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static bool naive_ok(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return s == 0xFFFF;
}

/* The TCP checksum of a segment whose IP header is at ip, TCP at th. */
static bool tcp_ok(const uint8_t *ip, bool v6, const uint8_t *th, size_t n)
{
	uint32_t s;

	if (v6)
		s = naive_sum(ip + 8, 32, 0) + (uint32_t)(n >> 16) + (n & 0xFFFF) + 6;
	else
		s = naive_sum(ip + 12, 8, 0) + (uint32_t)n + 6;
	return naive_ok(naive_sum(th, n, s));
}

/* Offsets in the input, found without the code under test: every
 * accepted TCP frame must have these. */
struct layout {
	size_t l3, l4, hlen;
	bool v6;
};

/* An accepted TCP frame is IPv4 or IPv6 (after at most one tag) carrying
 * TCP, with room for every header. */
static void parse(const uint8_t *f, size_t len, struct layout *o)
{
	unsigned type;

	CHECK(len >= 18);
	o->l3 = g16(f + 12) == 0x8100 ? 18 : 14;
	type = g16(f + o->l3 - 2);
	CHECK(type == 0x0800 || type == 0x86DD);
	o->v6 = type == 0x86DD;
	CHECK(len >= o->l3 + (o->v6 ? 40 : 20));
	CHECK(f[o->l3] >> 4 == (o->v6 ? 6 : 4));
	CHECK(f[o->l3 + (o->v6 ? 6 : 9)] == 6);
	o->l4 = o->l3 + (o->v6 ? 40 : (size_t)(f[o->l3] & 15) * 4);
	CHECK(len >= o->l4 + 20);
	o->hlen = o->l4 + (size_t)(f[o->l4 + 12] >> 4) * 4;
	CHECK(o->hlen >= o->l4 + 20 && len >= o->hlen);
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)g16(p) << 16 | g16(p + 2);
}

static void check_tcp(struct pq_gso_seg *it, const uint8_t *f, size_t len, size_t max_frame)
{
	struct layout o;
	size_t off = 0;
	unsigned n = 0, want = pq_gso_seg_count(it);
	long got;

	parse(f, len, &o);
	while ((got = pq_gso_seg_next(it, seg, sizeof(seg))) > 0) {
		size_t sl = (size_t)got;

		CHECK(sl <= max_frame && sl >= o.hlen && n < want);
		CHECK(memcmp(seg, f, o.l3) == 0);
		CHECK(g16(seg + o.l3 + (o.v6 ? 4 : 2)) == sl - o.l3 - (o.v6 ? 40 : 0));
		CHECK(g32(seg + o.l4 + 4) == (uint32_t)(g32(f + o.l4 + 4) + off));
		if (!o.v6)
			CHECK(naive_ok(naive_sum(seg + o.l3, o.l4 - o.l3, 0)));
		CHECK(tcp_ok(seg + o.l3, o.v6, seg + o.l4, sl - o.l4));
		CHECK(off + (sl - o.hlen) <= len - o.hlen);
		CHECK(memcmp(seg + o.hlen, f + o.hlen + off, sl - o.hlen) == 0);
		off += sl - o.hlen;
		n++;
	}
	CHECK(got == 0 && n == want && off == len - o.hlen);
}

static void check_one(struct pq_gso_seg *it, const struct pq_gso_hdr *h, const uint8_t *f,
		      size_t len, size_t max_frame)
{
	long got;

	CHECK(pq_gso_seg_count(it) == 1 && len <= max_frame);
	got = pq_gso_seg_next(it, seg, sizeof(seg));
	CHECK(got == (long)len);
	if (h->flags & PQ_GSO_F_NEEDS_CSUM) {
		size_t field = (size_t)h->csum_start + h->csum_offset;

		CHECK(memcmp(seg, f, field) == 0);
		CHECK(memcmp(seg + field + 2, f + field + 2, len - field - 2) == 0);
		/* With the field on a 16-bit boundary of the summed range, the
		 * range plus the partial sum that was in the field (the pseudo
		 * header, for TCP and UDP) now sums to 0xFFFF. */
		if (!(h->csum_offset & 1))
			CHECK(naive_ok(naive_sum(seg + h->csum_start, len - h->csum_start, g16(f + field))));
	} else {
		CHECK(memcmp(seg, f, len) == 0);
	}
	CHECK(pq_gso_seg_next(it, seg, sizeof(seg)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pq_gso_hdr h;
	struct pq_gso_seg it;
	const uint8_t *f = data + 12;
	size_t len, max_frame;
	int r;

	if (size < 12)
		return 0;
	h.flags = data[0];
	h.gso_type = data[1];
	h.hdr_len = (uint16_t)g16(data + 2);
	h.gso_size = (uint16_t)g16(data + 4);
	h.csum_start = (uint16_t)g16(data + 6);
	h.csum_offset = (uint16_t)g16(data + 8);
	max_frame = g16(data + 10);
	len = size - 12;
	r = pq_gso_seg_init(&it, &h, f, len, max_frame);
	if (r) {
		CHECK(r == PQ_E_DECODE || r == PQ_E_TOOBIG);
		CHECK(pq_gso_seg_count(&it) == 0 && pq_gso_seg_next(&it, seg, sizeof(seg)) == r);
		return 0;
	}
	CHECK(pq_gso_seg_count(&it) >= 1);
	/* A cap one byte short of the first segment is refused in place. */
	{
		struct pq_gso_seg probe = it;
		long first = pq_gso_seg_next(&probe, seg, sizeof(seg));

		CHECK(first > 0);
		CHECK(pq_gso_seg_next(&it, seg, (size_t)first - 1) == PQ_E_TOOBIG);
	}
	if (h.gso_type != PQ_GSO_NONE || len > max_frame)
		check_tcp(&it, f, len, max_frame);
	else
		check_one(&it, &h, f, len, max_frame);
	return 0;
}
