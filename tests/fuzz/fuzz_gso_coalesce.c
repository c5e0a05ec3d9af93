/*
 * fuzz_gso_coalesce.c - libFuzzer target for the coalescer
 * (src/proto/gso_coalesce.c) fed with hostile datagram contents: what a
 * peer's sealed messages decrypt to. Input: one config byte (bit 0: make
 * the IPv4 header and TCP checksums of TCP-looking frames right first, so
 * the fuzzer reaches the merging rules; bits 1-2: out[] capacity; bits
 * 3-4: max_len; bits 5-6: arena size), then frames, each a 2-byte
 * big-endian length and its bytes.
 * Checks: no crash or out-of-bounds access; add returns 0, or
 * PQ_E_LIMIT only with out[] full; every super-frame header passes the
 * DATA_GSO rules, stays within max_len, its IPv4 header checksum verifies
 * and its TCP checksum, completed as the kernel would, verifies (naive
 * sum); cutting the outputs again (pq_gso_seg) gives the input frames,
 * each exactly once, frames of one TCP flow (as parsed here) in the order
 * they came, and every frame that went into a super-frame had verifying
 * checksums.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "proto/gso_coalesce.h"
#include "proto/gso_seg.h"
#include "fuzz/fuzz.h"

#define MAXG PQ_MAX_GSO_FRAME_LEN
#define MAX_FRAMES 512

static uint8_t arena[4 * MAXG];
static struct pq_gso_out outs[64];
static uint8_t inbuf[1 << 16];           /* the input frames, fixed up */
static size_t in_off[MAX_FRAMES], in_len[MAX_FRAMES], n_in;
static bool in_used[MAX_FRAMES];
static uint8_t seg[MAXG];

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

static uint16_t naive_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)s;
}

/* TCP over IPv4/IPv6 as this harness reads it (lengths need not agree):
 * offsets, or false. */
struct view {
	size_t l3, l4, end; /* end: of the IP packet, bounded by the frame */
	bool v6;
};

static bool view_tcp(const uint8_t *f, size_t len, struct view *v)
{
	unsigned type;

	if (len < 14)
		return false;
	v->l3 = g16(f + 12) == 0x8100 ? 18 : 14;
	if (len < v->l3)
		return false;
	type = g16(f + v->l3 - 2);
	if (type == 0x0800 && len >= v->l3 + 20 && f[v->l3 + 9] == 6 && (f[v->l3] & 15) >= 5) {
		v->v6 = false;
		v->l4 = v->l3 + (size_t)(f[v->l3] & 15) * 4;
		v->end = v->l3 + g16(f + v->l3 + 2);
	} else if (type == 0x86DD && len >= v->l3 + 40 && f[v->l3 + 6] == 6) {
		v->v6 = true;
		v->l4 = v->l3 + 40;
		v->end = v->l4 + g16(f + v->l3 + 4);
	} else {
		return false;
	}
	if (v->end > len)
		v->end = len;
	return v->l4 + 20 <= v->end;
}

static uint32_t pseudo(const uint8_t *ip, bool v6, size_t l4_len)
{
	if (v6)
		return naive_sum(ip + 8, 32, 0) + (uint32_t)(l4_len >> 16) + (l4_len & 0xFFFF) + 6;
	return naive_sum(ip + 12, 8, 0) + (uint32_t)l4_len + 6;
}

/* Make both checksums right (where the frame looks like TCP). */
static void fixup(uint8_t *f, size_t len)
{
	struct view v;
	uint8_t *ip, *th;

	if (!view_tcp(f, len, &v))
		return;
	ip = f + v.l3;
	th = f + v.l4;
	if (!v.v6 && v.l4 <= v.end) {
		ip[10] = ip[11] = 0;
		ip[10] = (uint8_t)(~naive_fold(naive_sum(ip, v.l4 - v.l3, 0)) >> 8);
		ip[11] = (uint8_t)~naive_fold(naive_sum(ip, v.l4 - v.l3, 0));
	}
	th[16] = th[17] = 0;
	{
		uint16_t c = (uint16_t)~naive_fold(naive_sum(th, v.end - v.l4, pseudo(ip, v.v6, v.end - v.l4)));

		th[16] = (uint8_t)(c >> 8);
		th[17] = (uint8_t)c;
	}
}

static bool csums_ok(const uint8_t *f, size_t len)
{
	struct view v;

	if (!view_tcp(f, len, &v) || v.end != len)
		return false;
	if (!v.v6 && naive_fold(naive_sum(f + v.l3, v.l4 - v.l3, 0)) != 0xFFFF)
		return false;
	return naive_fold(naive_sum(f + v.l4, len - v.l4, pseudo(f + v.l3, v.v6, len - v.l4))) == 0xFFFF;
}

/* Two TCP frames of one flow: same Ethernet header, addresses, ports. */
static bool same_flow(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct view va, vb;

	if (!view_tcp(a, alen, &va) || !view_tcp(b, blen, &vb) || va.v6 != vb.v6 || va.l3 != vb.l3)
		return false;
	if (memcmp(a, b, va.l3) || memcmp(a + va.l4, b + vb.l4, 4))
		return false;
	return va.v6 ? !memcmp(a + va.l3 + 8, b + vb.l3 + 8, 32) : !memcmp(a + va.l3 + 12, b + vb.l3 + 12, 8);
}

/* Equal, but for the two checksum fields (0x0000 and 0xFFFF both verify;
 * a re-cut frame carries the computed one). */
static bool equal_but_csums(const uint8_t *a, const uint8_t *b, size_t len)
{
	struct view v;

	if (!view_tcp(a, len, &v))
		return !memcmp(a, b, len);
	for (size_t i = 0; i < len; i++) {
		bool skip = (!v.v6 && (i == v.l3 + 10 || i == v.l3 + 11)) || i == v.l4 + 16 || i == v.l4 + 17;

		if (!skip && a[i] != b[i])
			return false;
	}
	return true;
}

/* One frame out of the coalescer, cut again: find each piece among the
 * inputs; flows keep their order. */
static void match(const uint8_t *f, size_t len, bool merged)
{
	size_t j;

	for (j = 0; j < n_in; j++) {
		if (in_used[j] || in_len[j] != len)
			continue;
		if (merged ? equal_but_csums(inbuf + in_off[j], f, len) : !memcmp(inbuf + in_off[j], f, len))
			break;
	}
	CHECK(j < n_in);
	in_used[j] = true;
	if (merged)
		CHECK(csums_ok(inbuf + in_off[j], len));
	/* No earlier input of its flow may still be waiting. */
	for (size_t k = 0; k < j; k++)
		if (!in_used[k] && same_flow(inbuf + in_off[k], in_len[k], inbuf + in_off[j], len))
			CHECK(0);
}

static void check_batch(struct pq_gso_coalesce *co, size_t max_len)
{
	const struct pq_gso_out *res;
	size_t n = pq_gso_coalesce_finish(co, &res);

	for (size_t i = 0; i < n; i++) {
		const struct pq_gso_hdr *h = &res[i].hdr;
		struct pq_gso_seg it;
		long got;

		if (pq_gso_hdr_is_zero(h)) {
			match(res[i].frame, res[i].len, false);
			continue;
		}
		CHECK(res[i].len <= max_len);
		CHECK(pq_gso_hdr_check(h, res[i].len) == 0);
		CHECK(pq_gso_frame_check(h, res[i].frame, res[i].len) == 0);
		/* complete the checksum as the kernel would, then verify */
		memcpy(seg, res[i].frame, res[i].len);
		{
			size_t cs = h->csum_start, field = cs + h->csum_offset;
			uint16_t c = (uint16_t)~naive_fold(naive_sum(seg + cs, res[i].len - cs, 0));

			seg[field] = (uint8_t)(c >> 8);
			seg[field + 1] = (uint8_t)c;
			CHECK(csums_ok(seg, res[i].len));
		}
		CHECK(pq_gso_seg_init(&it, h, res[i].frame, res[i].len, MAXG) == 0);
		CHECK(pq_gso_seg_count(&it) >= 2);
		while ((got = pq_gso_seg_next(&it, seg, sizeof(seg))) > 0)
			match(seg, (size_t)got, true);
		CHECK(got == 0);
	}
	pq_gso_coalesce_reset(co);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = { 1, 2, 7, 64 };
	static const size_t max_lens[4] = { 14 + 96, 1600, 9000, MAXG };
	struct pq_gso_coalesce co;
	size_t off = 1, used = 0, max_len, arena_len;
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = data[0];
	max_len = max_lens[(cfg >> 3) & 3];
	arena_len = (cfg >> 5) & 3;
	arena_len = arena_len == 0 ? max_len : arena_len == 1 ? 2 * max_len : sizeof(arena);
	n_in = 0;
	while (off + 2 <= size && n_in < MAX_FRAMES) {
		size_t len = g16(data + off);

		off += 2;
		if (len > size - off)
			len = size - off;
		if (used + len > sizeof(inbuf))
			break;
		memcpy(inbuf + used, data + off, len);
		if (cfg & 1)
			fixup(inbuf + used, len);
		in_off[n_in] = used;
		in_len[n_in] = len;
		in_used[n_in] = false;
		n_in++;
		used += len;
		off += len;
	}
	CHECK(pq_gso_coalesce_init(&co, arena, arena_len, max_len, outs, caps[(cfg >> 1) & 3]) == 0);
	for (size_t i = 0; i < n_in; i++) {
		int r = pq_gso_coalesce_add(&co, inbuf + in_off[i], in_len[i]);

		if (r == PQ_E_LIMIT) {
			CHECK(co.n_out == co.out_cap);
			check_batch(&co, max_len);
			r = pq_gso_coalesce_add(&co, inbuf + in_off[i], in_len[i]);
		}
		CHECK(r == 0);
	}
	check_batch(&co, max_len);
	for (size_t i = 0; i < n_in; i++)
		CHECK(in_used[i]);
	return 0;
}
