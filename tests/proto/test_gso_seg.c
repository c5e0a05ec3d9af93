/*
 * test_gso_seg.c - user-space TCP segmentation (src/proto/gso_seg.c).
 *
 * Property tests on random TCP super-frames (IPv4 / IPv6, with and
 * without an 802.1Q tag, IP and TCP options, payloads of 1..64000 bytes,
 * random gso_size and max_frame) in the three ways one reaches the
 * segmenter (a TSO header, NEEDS_CSUM without GSO, no offload at all):
 * every segment fits max_frame, every IPv4 header and TCP checksum
 * verifies with a naive checksum written here, lengths, IDs, sequence
 * numbers, flags and urgent pointers follow the rules, and the payloads
 * put together are the original. Then checksum completion (TCP and UDP,
 * the 0 -> 0xFFFF rule), pass-through, every refusal, fixed vectors
 * computed independently (a Python script from the spec, not this code),
 * and the iterator's contract (cap too small, errors that stick).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/gso_seg.h"
#include "proto/inet_csum.h"
#include "proto/gso_fixture.h"

static struct tframe tf;
static uint8_t seg[MAXG], joined[MAXG];

/* ---- the property check ---- */

/* Segment t (its header already set) into frames of at most max_frame
 * bytes and check every one against the original; mss is the payload the
 * caller expects per segment. Returns the number of segments. */
static unsigned check_segments(const struct tframe *t, size_t max_frame, size_t mss)
{
	const uint8_t *oip = t->f + t->l3, *oth = t->f + t->l4;
	size_t payload = t->len - t->hlen, joined_len = 0, ihl = t->l4 - t->l3;
	unsigned n = 0, want_n = payload ? (unsigned)((payload + mss - 1) / mss) : 1;
	uint8_t flags0 = oth[13];
	struct pq_gso_seg it;
	long got;

	assert_int_equal(pq_gso_seg_init(&it, &t->hdr, t->f, t->len, max_frame), 0);
	assert_int_equal(pq_gso_seg_count(&it), want_n);
	while ((got = pq_gso_seg_next(&it, seg, sizeof(seg))) > 0) {
		size_t len = (size_t)got, n_pay = len - t->hlen, off = joined_len;
		const uint8_t *ip = seg + t->l3, *th = seg + t->l4;
		bool first = n == 0, last = n + 1 == want_n;
		uint8_t flags = flags0;

		assert_true(len <= max_frame);
		assert_true(len >= t->hlen);
		assert_true(n < want_n);
		/* All but the last carry mss bytes; the last the rest. */
		assert_int_equal(n_pay, last ? payload - off : mss);
		/* Ethernet and VLAN unchanged. */
		assert_memory_equal(seg, t->f, t->l3);
		if (t->v6) {
			assert_memory_equal(ip, oip, 4);
			assert_int_equal(g16(ip + 4), len - t->l3 - 40);
			assert_memory_equal(ip + 6, oip + 6, 34);
		} else {
			assert_int_equal(ip[0], oip[0]);
			assert_int_equal(ip[1], oip[1]);
			assert_int_equal(g16(ip + 2), len - t->l3);
			assert_int_equal(g16(ip + 4), (g16(oip + 4) + n) & 0xFFFF);
			assert_memory_equal(ip + 6, oip + 6, 4); /* frag, TTL, protocol */
			assert_memory_equal(ip + 12, oip + 12, ihl - 12);
			assert_true(naive_ipv4_ok(ip));
		}
		assert_memory_equal(th, oth, 4); /* ports */
		assert_int_equal(g32(th + 4), (uint32_t)(g32(oth + 4) + off));
		assert_memory_equal(th + 8, oth + 8, 5); /* ack, data offset */
		if (!last)
			flags &= (uint8_t)~(PQ_TCP_FIN | PQ_TCP_PSH);
		if (!first)
			flags &= (uint8_t)~PQ_TCP_CWR;
		if ((flags & PQ_TCP_URG) && g16(oth + 18) <= off)
			flags &= (uint8_t)~PQ_TCP_URG;
		assert_int_equal(th[13], flags);
		assert_memory_equal(th + 14, oth + 14, 2); /* window */
		if (flags & PQ_TCP_URG)
			assert_int_equal(g16(th + 18), g16(oth + 18) - off);
		else if (flags0 & PQ_TCP_URG)
			assert_int_equal(g16(th + 18), 0);
		else
			assert_int_equal(g16(th + 18), g16(oth + 18));
		assert_memory_equal(th + 20, oth + 20, t->hlen - t->l4 - 20); /* options */
		assert_true(naive_l4_ok(ip, t->v6, PQ_IPPROTO_TCP, th, len - t->l4));
		memcpy(joined + joined_len, seg + t->hlen, n_pay);
		joined_len += n_pay;
		n++;
	}
	assert_int_equal(got, 0);
	assert_int_equal(n, want_n);
	assert_int_equal(joined_len, payload);
	assert_memory_equal(joined, t->f + t->hlen, payload);
	/* Done stays done. */
	assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), 0);
	return n;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* A max_frame for headers of hlen bytes: mostly path-MTU sized, some
 * tiny (many segments: the payload is then kept short), some larger than
 * the frame. */
static size_t rnd_max_frame(size_t hlen, size_t *max_payload)
{
	switch (rnd() % 6) {
	case 0:
		*max_payload = 3000;
		return hlen + rnd_in(1, 64);
	case 1:
		return rnd_in(hlen + 1, 9000);
	case 2:
		return MAXG + rnd_in(0, 100);
	default:
		return rnd_in(1280, 1518);
	}
}

/* TCPV4 / TCPV6 super-frames as the TAP hands them over. */
static void test_tso_random(void **state)
{
	unsigned frames = 0, segs = 0;

	(void)state;
	for (int i = 0; i < 1500; i++) {
		size_t max_payload = 64000, max_frame;
		struct tshape s = rnd_shape(64000);
		uint16_t gso;

		/* 78 header bytes at most for IPv4 (18 + 60), 118 for IPv6
		 * (18 + 40 + 60); 1518 leaves room for one payload byte. */
		max_frame = rnd_max_frame(18 + 60 + 60, &max_payload);
		s.payload = min_sz(s.payload, max_payload);
		tf_build(&tf, &s);
		switch (rnd() % 4) {
		case 0: gso = (uint16_t)rnd_in(PQ_GSO_MIN_SIZE, PQ_MAX_FRAME_LEN); break;
		case 1: gso = (uint16_t)rnd_in(PQ_GSO_MIN_SIZE, 200); break;
		default: gso = (uint16_t)(s.v6 ? 1428 : 1448) - (uint16_t)s.tcp_opt; break;
		}
		tf_tso(&tf, gso);
		if (rnd() % 4 == 0)
			p16(tf.f + tf.l4 + 16, rnd()); /* the partial sum is not trusted */
		tf.hdr.hdr_len = (uint16_t)rnd_in(0, min_sz(tf.len, 0xFFFF)); /* a hint, unused */
		segs += check_segments(&tf, max_frame, min_sz(gso, max_frame - tf.hlen));
		frames++;
	}
	printf("checked: %u TSO super-frames, %u segments verified\n", frames, segs);
}

/* Frames without GSO that are larger than max_frame: re-segmented, with
 * NEEDS_CSUM (partial sum in the field) or without any offload (the
 * checksum complete). The NONE bound is PQ_MAX_FRAME_LEN. */
static void test_resegment_random(void **state)
{
	unsigned frames = 0, segs = 0;

	(void)state;
	for (int i = 0; i < 1500; i++) {
		struct tshape s = rnd_shape(PQ_MAX_FRAME_LEN - 18 - 60 - 60);
		size_t max_frame;

		if (s.payload < 2)
			s.payload = 2;
		tf_build(&tf, &s);
		if (i & 1)
			tf_partial(&tf);
		max_frame = rnd() % 3 ? rnd_in(min_sz(tf.hlen + 1, tf.len - 1), tf.len - 1)
				      : rnd_in(tf.hlen + 1, min_sz(tf.hlen + 64, tf.len - 1));
		if (s.payload > 3000 && max_frame < tf.hlen + 64)
			max_frame = tf.hlen + 64;
		if (max_frame >= tf.len)
			max_frame = tf.len - 1;
		segs += check_segments(&tf, max_frame, max_frame - tf.hlen);
		frames++;
	}
	printf("checked: %u frames without GSO re-segmented, %u segments verified\n", frames, segs);
}

/* NONE + NEEDS_CSUM that fits: the same bytes, the checksum completed
 * (TCP and UDP, IPv4 and IPv6, with and without a tag). */
static void test_csum_complete(void **state)
{
	unsigned n = 0;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		struct tshape s = rnd_shape(1400);
		size_t co, max_frame;
		struct pq_gso_seg it;
		long got;

		s.proto = i & 1 ? PQ_IPPROTO_UDP : PQ_IPPROTO_TCP;
		s.payload = rnd_in(0, 1400);
		tf_build(&tf, &s);
		tf_partial(&tf);
		co = tf.l4 + tf.hdr.csum_offset;
		max_frame = rnd_in(tf.len, tf.len + 100);
		assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, max_frame), 0);
		assert_int_equal(pq_gso_seg_count(&it), 1);
		got = pq_gso_seg_next(&it, seg, sizeof(seg));
		assert_int_equal(got, tf.len);
		assert_memory_equal(seg, tf.f, co);
		assert_memory_equal(seg + co + 2, tf.f + co + 2, tf.len - co - 2);
		assert_true(naive_l4_ok(seg + tf.l3, tf.v6, s.proto, seg + tf.l4, tf.len - tf.l4));
		assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), 0);
		n++;
	}
	printf("checked: %u checksums completed (TCP and UDP)\n", n);
}

/* A sum that comes out 0 goes out as 0xFFFF (UDP: 0 means no checksum;
 * RFC 768, the kernel's CSUM_MANGLED_0). */
static void test_csum_zero_is_ffff(void **state)
{
	struct tshape s = { .v6 = false, .proto = PQ_IPPROTO_UDP, .payload = 2 };
	struct pq_gso_seg it;
	uint16_t partial_sum;

	(void)state;
	tf_build(&tf, &s);
	tf_partial(&tf);
	/* Choose the two payload bytes w so that the sum is 0xFFFF. */
	p16(tf.f + tf.hlen, 0);
	partial_sum = naive_fold(naive_sum(tf.f + tf.l4, tf.len - tf.l4, 0));
	p16(tf.f + tf.hlen, 0xFFFF - partial_sum);
	assert_int_equal(naive_fold(naive_sum(tf.f + tf.l4, tf.len - tf.l4, 0)), 0xFFFF);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1500), 0);
	assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), tf.len);
	assert_int_equal(g16(seg + tf.l4 + 6), 0xFFFF);
	assert_true(naive_l4_ok(seg + tf.l3, false, PQ_IPPROTO_UDP, seg + tf.l4, tf.len - tf.l4));
}

/* No offload and small enough: the very same bytes, whatever they are. */
static void test_passthrough(void **state)
{
	struct pq_gso_hdr zero = { 0 }, hint = { 0, 0, 14, 0, 0, 0 };
	struct pq_gso_seg it;

	(void)state;
	for (int i = 0; i < 200; i++) {
		size_t len = rnd_in(14, 1514);

		rnd_fill(tf.f, len);
		assert_int_equal(pq_gso_seg_init(&it, i & 1 ? &zero : &hint, tf.f, len, 1514), 0);
		memset(seg, 0xAA, len + 1);
		assert_int_equal(pq_gso_seg_next(&it, seg, len), len);
		assert_memory_equal(seg, tf.f, len);
		assert_int_equal(seg[len], 0xAA);
		assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), 0);
	}
	printf("checked: 200 frames passed through\n");
}

/* Larger than max_frame and not TCP we may cut: PQ_E_TOOBIG, the caller
 * sends it another way. */
static void test_too_big_not_tcp(void **state)
{
	struct tshape s = { .proto = PQ_IPPROTO_TCP, .payload = 1400, .flags = PQ_TCP_ACK };
	struct pq_gso_seg it;
	int checked = 0;

	(void)state;
	/* UDP, IPv4 and IPv6, with and without NEEDS_CSUM. */
	for (int v6 = 0; v6 < 2; v6++) {
		s.v6 = v6;
		s.proto = PQ_IPPROTO_UDP;
		tf_build(&tf, &s);
		assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1000), PQ_E_TOOBIG);
		tf_partial(&tf);
		assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1000), PQ_E_TOOBIG);
		assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, tf.len), 0);
		checked += 3;
	}
	s.proto = PQ_IPPROTO_TCP;
	/* ARP (or anything not IP). */
	s.v6 = false;
	tf_build(&tf, &s);
	p16(tf.f + 12, 0x0806);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1000), PQ_E_TOOBIG);
	/* An IPv4 fragment (MF, or an offset). */
	tf_build(&tf, &s);
	p16(tf.f + 14 + 6, 0x2000);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1000), PQ_E_TOOBIG);
	p16(tf.f + 14 + 6, 0x0010);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1000), PQ_E_TOOBIG);
	/* IPv6 with an extension header (hop-by-hop, 0). */
	s.v6 = true;
	tf_build(&tf, &s);
	tf.f[14 + 6] = 0;
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1000), PQ_E_TOOBIG);
	/* SYN and RST are not cut. */
	s.flags = PQ_TCP_SYN;
	tf_build(&tf, &s);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1000), PQ_E_TOOBIG);
	s.flags = PQ_TCP_RST | PQ_TCP_ACK;
	tf_build(&tf, &s);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1000), PQ_E_TOOBIG);
	checked += 6;
	/* A failed init sticks and writes nothing. */
	seg[0] = 0x55;
	assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), PQ_E_TOOBIG);
	assert_int_equal(pq_gso_seg_count(&it), 0);
	assert_int_equal(seg[0], 0x55);
	printf("checked: %d frames too big and not segmentable refused\n", checked);
}

/* What a TSO header promises, the frame must hold: every broken variant
 * of a valid super-frame is PQ_E_DECODE. */
struct bad_case {
	const char *what;
	void (*spoil)(struct tframe *t);
};

/* IPv6 hop-by-hop header (0); on IPv4 protocol 0 as well. */
static void spoil_ext_hdr(struct tframe *t) { t->f[t->l3 + (t->v6 ? 6 : 9)] = 0; }
static void spoil_udp(struct tframe *t) { t->f[t->l3 + (t->v6 ? 6 : 9)] = PQ_IPPROTO_UDP; }
static void spoil_version(struct tframe *t) { t->f[t->l3] ^= 0xF0; }
static void spoil_ihl(struct tframe *t) { if (!t->v6) t->f[t->l3] = 0x44; else t->f[t->l3] = 0x50; }
static void spoil_ip_len_short(struct tframe *t) { uint8_t *p = t->f + t->l3 + (t->v6 ? 4 : 2); p16(p, g16(p) - 1); }
static void spoil_ip_len_long(struct tframe *t) { uint8_t *p = t->f + t->l3 + (t->v6 ? 4 : 2); p16(p, g16(p) + 1); }
static void spoil_doff_small(struct tframe *t) { t->f[t->l4 + 12] = 0x40; }
/* 60 header bytes claimed, 40 left in a frame cut short (IP length fixed). */
static void spoil_doff_past(struct tframe *t)
{
	t->f[t->l4 + 12] = 0xF0;
	t->len = t->l4 + 40;
	p16(t->f + t->l3 + (t->v6 ? 4 : 2), (unsigned)(t->len - t->l3 - (t->v6 ? 40 : 0)));
}
static void spoil_csum_start(struct tframe *t) { t->hdr.csum_start += 4; }
static void spoil_csum_start_end(struct tframe *t) { t->hdr.csum_start = (uint16_t)(t->len - 17); }
static void spoil_csum_offset(struct tframe *t) { t->hdr.csum_offset = 6; }
static void spoil_type(struct tframe *t) { t->hdr.gso_type = t->v6 ? PQ_GSO_TCPV4 : PQ_GSO_TCPV6; }
static void spoil_ethertype(struct tframe *t) { p16(t->f + t->l3 - 2, 0x0806); }
static void spoil_no_csum(struct tframe *t) { t->hdr.flags = 0; }
static void spoil_gso_small(struct tframe *t) { t->hdr.gso_size = PQ_GSO_MIN_SIZE - 1; }
static void spoil_ecn(struct tframe *t) { t->hdr.gso_type |= PQ_GSO_ECN; }
static void spoil_syn(struct tframe *t) { t->f[t->l4 + 13] |= PQ_TCP_SYN; }
static void spoil_rst(struct tframe *t) { t->f[t->l4 + 13] |= PQ_TCP_RST; }
static void spoil_frag(struct tframe *t) { if (!t->v6) p16(t->f + t->l3 + 6, 0x2000); else t->f[t->l3 + 6] = 44; }
static void spoil_trailer(struct tframe *t) { t->len++; }

static const struct bad_case bad[] = {
	{ "IPv6 extension header", spoil_ext_hdr },
	{ "not TCP", spoil_udp },
	{ "IP version nibble", spoil_version },
	{ "IHL 4 / IPv6 version 5", spoil_ihl },
	{ "IP length one short", spoil_ip_len_short },
	{ "IP length one long", spoil_ip_len_long },
	{ "TCP data offset 4", spoil_doff_small },
	{ "TCP data offset past the frame", spoil_doff_past },
	{ "csum_start not at the TCP header", spoil_csum_start },
	{ "csum_start near the frame's end", spoil_csum_start_end },
	{ "csum_offset not TCP's", spoil_csum_offset },
	{ "gso_type of the other IP version", spoil_type },
	{ "EtherType not IP", spoil_ethertype },
	{ "TSO without NEEDS_CSUM", spoil_no_csum },
	{ "gso_size below 48", spoil_gso_small },
	{ "ECN bit", spoil_ecn },
	{ "SYN", spoil_syn },
	{ "RST", spoil_rst },
	{ "IPv4 fragment / IPv6 fragment header", spoil_frag },
	{ "a byte past the IP packet", spoil_trailer },
};

static void test_tso_refused(void **state)
{
	struct pq_gso_seg it;
	int checked = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int shape = 0; shape < 4; shape++) {
			struct tshape s = { .v6 = shape & 1, .vlan = shape & 2, .proto = PQ_IPPROTO_TCP,
					    .ip_opt = 8, .tcp_opt = 12, .payload = 3000,
					    .flags = PQ_TCP_ACK };
			int r;

			tf_build(&tf, &s);
			tf_tso(&tf, 1400);
			assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1500), 0);
			bad[i].spoil(&tf);
			r = pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1500);
			if (r != PQ_E_DECODE)
				fail_msg("%s (v6 %d, vlan %d): %d, want PQ_E_DECODE", bad[i].what, s.v6, s.vlan, r);
			assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), PQ_E_DECODE);
			checked++;
		}
	}
	printf("checked: %d malformed super-frames refused\n", checked);
}

/* Every truncation of a valid super-frame (and of a too-large plain one)
 * is refused, never read past. */
static void test_truncated(void **state)
{
	struct tshape s = { .v6 = false, .vlan = true, .proto = PQ_IPPROTO_TCP, .ip_opt = 4,
			    .tcp_opt = 8, .payload = 200, .flags = PQ_TCP_ACK };
	struct pq_gso_seg it;
	int checked = 0;

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		s.v6 = v6;
		tf_build(&tf, &s);
		tf_tso(&tf, 100);
		for (size_t len = 0; len < tf.len; len++) {
			assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, len, 1500), PQ_E_DECODE);
			checked++;
		}
		assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1500), 0);
		/* Without offload: cut below max_frame passes through; cut
		 * above it is TCP with the wrong IP length. */
		memset(&tf.hdr, 0, sizeof(tf.hdr));
		for (size_t len = 101; len < tf.len; len++) {
			assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, len, 100), PQ_E_DECODE);
			checked++;
		}
		for (size_t len = 14; len <= 100; len++) {
			assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, len, 100), 0);
			checked++;
		}
		for (size_t len = 0; len < 14; len++) {
			assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, len, 100), PQ_E_DECODE);
			checked++;
		}
	}
	printf("checked: %d truncations\n", checked);
}

/* max_frame must hold the headers and one payload byte. */
static void test_max_frame_bounds(void **state)
{
	struct pq_gso_seg it;

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		struct tshape s = { .v6 = v6, .vlan = true, .proto = PQ_IPPROTO_TCP, .ip_opt = 40,
				    .tcp_opt = 40, .payload = 500, .flags = PQ_TCP_ACK | PQ_TCP_PSH };

		tf_build(&tf, &s);
		tf_tso(&tf, 1400);
		assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, tf.hlen), PQ_E_TOOBIG);
		assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 0), PQ_E_TOOBIG);
		/* One byte per segment: 500 segments. */
		assert_int_equal(check_segments(&tf, tf.hlen + 1, 1), 500);
		memset(&tf.hdr, 0, sizeof(tf.hdr));
		assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, tf.hlen), PQ_E_TOOBIG);
		assert_int_equal(check_segments(&tf, tf.hlen + 1, 1), 500);
	}
	/* A super-frame with no payload: one segment of headers. */
	{
		struct tshape s = { .proto = PQ_IPPROTO_TCP, .payload = 0, .flags = PQ_TCP_ACK | PQ_TCP_FIN };

		tf_build(&tf, &s);
		tf_tso(&tf, 1400);
		assert_int_equal(check_segments(&tf, tf.hlen, 1), 1);
	}
}

/* The iterator's contract: NULLs, a cap too small does not advance. */
static void test_iterator(void **state)
{
	struct tshape s = { .proto = PQ_IPPROTO_TCP, .payload = 3000, .flags = PQ_TCP_ACK };
	struct pq_gso_hdr zero = { 0 };
	struct pq_gso_seg it;

	(void)state;
	tf_build(&tf, &s);
	tf_tso(&tf, 1000);
	assert_int_equal(pq_gso_seg_init(NULL, &tf.hdr, tf.f, tf.len, 1500), PQ_E_INVAL);
	assert_int_equal(pq_gso_seg_init(&it, NULL, tf.f, tf.len, 1500), PQ_E_INVAL);
	assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), PQ_E_INVAL);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, NULL, tf.len, 1500), PQ_E_INVAL);
	assert_int_equal(pq_gso_seg_next(NULL, seg, sizeof(seg)), PQ_E_INVAL);
	assert_int_equal(pq_gso_seg_count(NULL), 0);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1500), 0);
	assert_int_equal(pq_gso_seg_count(&it), 3);
	assert_int_equal(pq_gso_seg_next(&it, NULL, 1500), PQ_E_INVAL);
	assert_int_equal(pq_gso_seg_next(&it, seg, tf.hlen + 999), PQ_E_TOOBIG);
	assert_int_equal(pq_gso_seg_next(&it, seg, tf.hlen + 1000), tf.hlen + 1000);
	assert_int_equal(g32(seg + tf.l4 + 4), g32(tf.f + tf.l4 + 4));
	assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), tf.hlen + 1000);
	assert_int_equal(pq_gso_seg_next(&it, seg, tf.hlen + 999), PQ_E_TOOBIG);
	assert_int_equal(pq_gso_seg_next(&it, seg, tf.hlen + 1000), tf.hlen + 1000);
	assert_int_equal(pq_gso_seg_next(&it, seg, 0), 0);
	/* Pass-through: cap below the frame. */
	assert_int_equal(pq_gso_seg_init(&it, &zero, tf.f, 100, 1500), 0);
	assert_int_equal(pq_gso_seg_next(&it, seg, 99), PQ_E_TOOBIG);
	assert_int_equal(pq_gso_seg_next(&it, seg, 100), 100);
	/* The header itself is checked: NONE with a frame past the DATA
	 * bound, DATA_VALID. */
	assert_int_equal(pq_gso_seg_init(&it, &zero, tf.f, PQ_MAX_FRAME_LEN + 1, MAXG), PQ_E_DECODE);
	zero.flags = PQ_GSO_F_DATA_VALID;
	assert_int_equal(pq_gso_seg_init(&it, &zero, tf.f, 100, 1500), PQ_E_DECODE);
	/* NEEDS_CSUM on a too-large TCP frame whose checksum is elsewhere. */
	tf_partial(&tf);
	tf.hdr.csum_offset = 6;
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1500), PQ_E_DECODE);
	tf.hdr.csum_offset = 16;
	tf.hdr.csum_start = 14;
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, tf.len, 1500), PQ_E_DECODE);
	/* csum_start beyond the frame (NONE, fits). */
	tf.hdr.csum_start = 200;
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, 210, 1500), PQ_E_DECODE);
	assert_int_equal(pq_gso_seg_init(&it, &tf.hdr, tf.f, 218, 1500), 0);
}

/* ---- fixed vectors, computed independently (see the script below) ---- */

/* A TSO4 frame from 10.0.0.1:40000 to 10.0.0.2:5201, ID 0xfffe (wraps),
 * DF, seq 0xfffffff0 (wraps), ACK|PSH|FIN|CWR, 100 payload bytes
 * (7 i + 3), gso_size 48; a garbage partial sum. The expected frames were
 * computed by a 40-line Python script from RFC 791 / RFC 9293 (packed
 * with struct, checksummed with a sum of 16-bit words), not by this code:
 * 48 + 48 + 4 payload bytes. */
static const char *const v4_want[] = {
	"020000000002020000000001080045000058fffe40004006269f0a0000010a0000029c401451fffffff00a0b0c0d"
	"509001f6687f0000030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff06"
	"0d141b222930373e454c",
	"020000000002020000000001080045000058ffff40004006269e0a0000010a0000029c401451000000200a0b0c0d"
	"501001f6e74e0000535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f56"
	"5d646b727980878e959c",
	"02000000000202000000000108004500002c00004000400626ca0a0000010a0000029c401451000000500a0b0c0d"
	"501901f67d720000a3aab1b8",
};

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void vec_payload(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

static void test_vector_v4(void **state)
{
	static const uint8_t head[] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		/* IPv4: total 140, ID 0xfffe, DF, TTL 64, TCP, checksum left 0 */
		0x45, 0, 0, 140, 0xff, 0xfe, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		/* TCP 40000 -> 5201, seq, ack, doff 5, ACK|PSH|FIN|CWR, window 502 */
		0x9c, 0x40, 0x14, 0x51, 0xff, 0xff, 0xff, 0xf0, 0x0a, 0x0b, 0x0c, 0x0d, 0x50, 0x99,
		0x01, 0xf6, 0xde, 0xad, 0, 0,
	};
	struct pq_gso_hdr h = { F, PQ_GSO_TCPV4, 54, 48, 34, 16 };
	uint8_t want[200];
	struct pq_gso_seg it;

	(void)state;
	memcpy(tf.f, head, sizeof(head));
	vec_payload(tf.f + sizeof(head), 100);
	assert_int_equal(pq_gso_seg_init(&it, &h, tf.f, sizeof(head) + 100, 1514), 0);
	for (size_t i = 0; i < 3; i++) {
		size_t n = unhex(want, v4_want[i]);

		assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), n);
		assert_memory_equal(seg, want, n);
	}
	assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), 0);
}

/* TSO6 with an 802.1Q tag, fd00::1:443 -> fd00::2:50000, seq 0x11223344,
 * ACK|PSH, 1201 payload bytes, gso_size 1000, max_frame 578 (so 500 per
 * segment); the kernel's partial sum. Per segment the same script gives:
 * frame length, IPv6 payload length, TCP checksum, seq, flags. */
static void test_vector_v6_vlan(void **state)
{
	static const struct {
		size_t len;
		unsigned plen, csum;
		uint32_t seq;
		uint8_t flags;
	} want[] = {
		{ 578, 520, 0x181c, 0x11223344, 0x10 },
		{ 578, 520, 0x1c2e, 0x11223538, 0x10 },
		{ 279, 221, 0x5d8d, 0x1122372c, 0x18 },
	};
	uint8_t *f = tf.f;
	struct pq_gso_hdr h = { F, PQ_GSO_TCPV6, 78, 1000, 58, 16 };
	struct pq_gso_seg it;

	(void)state;
	memset(f, 0, 78);
	f[0] = f[5] = f[6] = 0x02; /* 02:00:00:00:00:02 <- 02:00:00:00:00:01 */
	f[11] = 0x01;
	p16(f + 12, PQ_ETH_P_8021Q);
	p16(f + 14, 100);
	p16(f + 16, PQ_ETH_P_IPV6);
	f[18] = 0x60;
	p16(f + 22, 20 + 1201);
	f[24] = 6;
	f[25] = 64;
	f[26] = 0xfd;
	f[41] = 1;
	f[42] = 0xfd;
	f[57] = 2;
	p16(f + 58, 443);
	p16(f + 60, 50000);
	p32(f + 62, 0x11223344);
	p32(f + 66, 1);
	f[70] = 0x50;
	f[71] = PQ_TCP_ACK | PQ_TCP_PSH;
	p16(f + 72, 1000);
	p16(f + 74, naive_fold(naive_pseudo(f + 18, true, 6, 20 + 1201)));
	vec_payload(f + 78, 1201);
	assert_int_equal(pq_gso_seg_init(&it, &h, f, 78 + 1201, 578), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), want[i].len);
		assert_int_equal(g16(seg + 22), want[i].plen);
		assert_int_equal(g16(seg + 74), want[i].csum);
		assert_int_equal(g32(seg + 62), want[i].seq);
		assert_int_equal(seg[71], want[i].flags);
	}
	assert_int_equal(pq_gso_seg_next(&it, seg, sizeof(seg)), 0);
}

/* The checksum primitives against RFC 1071 §3's example (the sum of
 * 0001 f203 f4f5 f6f7 is ddf2) and a widely quoted IPv4 header (its
 * checksum b861), each piece-wise, unaligned and against the naive sum. */
static void test_csum_primitives(void **state)
{
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t iph[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	static uint8_t buf[3000];

	(void)state;
	assert_int_equal(pq_csum_fold(pq_csum_add(0, rfc, sizeof(rfc))), 0xddf2);
	assert_int_equal(pq_csum_fold(pq_csum_add(pq_csum_add(0, rfc, 4), rfc + 4, 4)), 0xddf2);
	assert_int_equal(pq_csum_finish(pq_csum_add(0, iph, sizeof(iph))), 0xb861);
	for (int i = 0; i < 2000; i++) {
		size_t n = rnd_in(0, 2990), at = rnd_in(0, 7), cut = rnd_in(0, n) & ~(size_t)1;
		uint64_t acc;

		rnd_fill(buf, sizeof(buf));
		if (i < 10) /* all ones: the carries */
			memset(buf, 0xFF, sizeof(buf));
		acc = pq_csum_add(pq_csum_add(0, buf + at, cut), buf + at + cut, n - cut);
		assert_int_equal(pq_csum_fold(acc), naive_fold(naive_sum(buf + at, n, 0)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_primitives),
		cmocka_unit_test(test_vector_v4),
		cmocka_unit_test(test_vector_v6_vlan),
		cmocka_unit_test(test_tso_random),
		cmocka_unit_test(test_resegment_random),
		cmocka_unit_test(test_csum_complete),
		cmocka_unit_test(test_csum_zero_is_ffff),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_too_big_not_tcp),
		cmocka_unit_test(test_tso_refused),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_max_frame_bounds),
		cmocka_unit_test(test_iterator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
