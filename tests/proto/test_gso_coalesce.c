/*
 * test_gso_coalesce.c - TCP segments merged back into super-frames
 * (src/proto/gso_coalesce.c), checked against the segmenter it inverts.
 *
 * The property everywhere: cut the outputs again (pq_gso_seg at their
 * gso_size) and you get the frames that went in, byte for byte, each
 * flow's in the order they came; every output header passes the DATA_GSO
 * rules and a super-frame's checksum, completed as the kernel would,
 * verifies (naive checksum). Then: a random super-frame cut and merged
 * gives back exactly itself (IPv4 / IPv6, tag, options, odd sizes, last
 * short segment); missing, reordered and duplicated segments never merge
 * across the gap (and runs between gaps do merge); interleaved flows each
 * merge; every header difference, a bad checksum and every frame of the
 * flow that cannot join split the run; batch limits (out entries, arena,
 * max_len); a vector from an independent script.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/gso_coalesce.h"
#include "proto/gso_seg.h"
#include "proto/gso_fixture.h"

/* ---- frame lists ---- */

#define LIST_MAX 4096
#define POOL_LEN (1u << 20)

struct flist {
	size_t n, used;
	size_t off[LIST_MAX], len[LIST_MAX];
	int flow[LIST_MAX];             /* inputs: which flow (-1: none) */
	struct pq_gso_hdr hdr[LIST_MAX]; /* outputs: their header */
	uint8_t pool[POOL_LEN];
};

static struct flist in, out, back;
static struct tframe tf;
static uint8_t arena[4 * MAXG];
static struct pq_gso_out outs[256];
static struct pq_gso_coalesce co;

static const uint8_t *fl_at(const struct flist *l, size_t i)
{
	return l->pool + l->off[i];
}

static void fl_push(struct flist *l, const uint8_t *f, size_t len, int flow)
{
	assert_true(l->n < LIST_MAX && l->used + len <= POOL_LEN);
	memcpy(l->pool + l->used, f, len);
	l->off[l->n] = l->used;
	l->len[l->n] = len;
	l->flow[l->n] = flow;
	memset(&l->hdr[l->n], 0, sizeof(l->hdr[0]));
	l->used += len;
	l->n++;
}

static void fl_clear(struct flist *l)
{
	l->n = l->used = 0;
}

/* Cut t (header set) for max_frame and append the segments to l. */
static size_t fl_segment(struct flist *l, const struct tframe *t, size_t max_frame, int flow)
{
	static uint8_t seg[MAXG];
	struct pq_gso_seg it;
	size_t n = 0;
	long got;

	assert_int_equal(pq_gso_seg_init(&it, &t->hdr, t->f, t->len, max_frame), 0);
	while ((got = pq_gso_seg_next(&it, seg, sizeof(seg))) > 0) {
		fl_push(l, seg, (size_t)got, flow);
		n++;
	}
	assert_int_equal(got, 0);
	return n;
}

/* ---- coalescing a list, and checking what comes out ---- */

/* Every output: header acceptable; a super-frame's checksum completed the
 * virtio way (sum from csum_start with the partial value in place) verifies. */
static void check_output(const struct pq_gso_hdr *h, const uint8_t *f, size_t len)
{
	static uint8_t done[MAXG];
	struct gso_view {
		size_t l3;
		bool v6;
	} v;
	uint32_t s;

	if (pq_gso_hdr_is_zero(h))
		return;
	assert_int_equal(pq_gso_hdr_check(h, len), 0);
	assert_int_equal(pq_gso_frame_check(h, f, len), 0);
	memcpy(done, f, len);
	s = naive_sum(done + h->csum_start, len - h->csum_start, 0);
	p16(done + h->csum_start + h->csum_offset, (uint16_t)~naive_fold(s));
	v.l3 = g16(f + 12) == PQ_ETH_P_8021Q ? 18 : 14;
	v.v6 = h->gso_type == PQ_GSO_TCPV6;
	if (!v.v6)
		assert_true(naive_ipv4_ok(done + v.l3));
	assert_true(naive_l4_ok(done + v.l3, v.v6, PQ_IPPROTO_TCP, done + h->csum_start, len - h->csum_start));
}

static size_t take_batch(struct flist *o)
{
	const struct pq_gso_out *res;
	size_t n = pq_gso_coalesce_finish(&co, &res);

	for (size_t i = 0; i < n; i++) {
		check_output(&res[i].hdr, res[i].frame, res[i].len);
		fl_push(o, res[i].frame, res[i].len, -1);
		o->hdr[o->n - 1] = res[i].hdr;
	}
	pq_gso_coalesce_reset(&co);
	return n;
}

/* Coalesce every frame of l into o, batch after batch when out[] fills. */
static void coalesce(const struct flist *l, struct flist *o, size_t max_len, size_t arena_len,
		     size_t out_cap)
{
	fl_clear(o);
	assert_int_equal(pq_gso_coalesce_init(&co, arena, arena_len, max_len, outs, out_cap), 0);
	for (size_t i = 0; i < l->n; i++) {
		int r = pq_gso_coalesce_add(&co, fl_at(l, i), l->len[i]);

		if (r == PQ_E_LIMIT) {
			take_batch(o);
			r = pq_gso_coalesce_add(&co, fl_at(l, i), l->len[i]);
		}
		assert_int_equal(r, 0);
	}
	take_batch(o);
}

/* Cut every output again at its gso_size. */
static void expand(const struct flist *o, struct flist *b)
{
	fl_clear(b);
	for (size_t i = 0; i < o->n; i++) {
		struct tframe *t = &tf;

		memcpy(t->f, fl_at(o, i), o->len[i]);
		t->len = o->len[i];
		t->hdr = o->hdr[i];
		fl_segment(b, t, MAXG, -1);
	}
}

/* b is a permutation of a that keeps each flow's order (a frame without
 * a flow, -1, is its own flow); with one flow, b equals a. Frames are
 * told apart by their bytes (random payloads). */
static void check_same_frames(const struct flist *a, const struct flist *b)
{
	static bool used[LIST_MAX];
	static long last[64];

	assert_int_equal(b->n, a->n);
	memset(used, 0, sizeof(used));
	for (size_t k = 0; k < 64; k++)
		last[k] = -1;
	for (size_t i = 0; i < b->n; i++) {
		size_t j;

		for (j = 0; j < a->n; j++)
			if (!used[j] && a->len[j] == b->len[i] && !memcmp(fl_at(a, j), fl_at(b, i), a->len[j]))
				break;
		if (j == a->n)
			fail_msg("output frame %zu (%zu bytes) is none of the inputs", i, b->len[i]);
		used[j] = true;
		if (a->flow[j] >= 0) {
			assert_true(a->flow[j] < 64);
			if ((long)j < last[a->flow[j]])
				fail_msg("flow %d: input %zu went out after input %ld", a->flow[j], j, last[a->flow[j]]);
			last[a->flow[j]] = (long)j;
		}
	}
}

static size_t n_super(const struct flist *o)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n; i++)
		n += !pq_gso_hdr_is_zero(&o->hdr[i]);
	return n;
}

/* A random TCP super-frame without URG (URG segments stay apart). */
static void rnd_super(struct tframe *t, size_t max_payload, uint16_t gso)
{
	struct tshape s = rnd_shape(max_payload);

	s.flags &= (uint8_t)~PQ_TCP_URG;
	tf_build(t, &s);
	tf_tso(t, gso);
}

/* ---- the tests ---- */

/* Cut a random super-frame, merge the pieces: the super-frame again. */
static void test_round_trip(void **state)
{
	static struct tframe orig;
	unsigned merged = 0, apart = 0, segs = 0;

	(void)state;
	for (int i = 0; i < 600; i++) {
		size_t max_payload = 64000, max_frame, mss, nseg;
		uint16_t gso = (uint16_t)rnd_in(PQ_GSO_MIN_SIZE, 9000);

		switch (rnd() % 4) {
		case 0:
			max_payload = 3000;
			max_frame = rnd_in(140 + 1, 140 + 200); /* some below 48 bytes of payload */
			break;
		default:
			max_frame = rnd_in(1280, 1518);
			break;
		}
		rnd_super(&orig, max_payload, gso);
		mss = gso < max_frame - orig.hlen ? gso : max_frame - orig.hlen;
		fl_clear(&in);
		nseg = fl_segment(&in, &orig, max_frame, 0);
		coalesce(&in, &out, MAXG, sizeof(arena), 256);
		if (nseg >= 2 && mss >= PQ_GSO_MIN_SIZE) {
			struct pq_gso_hdr want = orig.hdr;

			assert_int_equal(out.n, 1);
			want.gso_size = (uint16_t)mss;
			want.hdr_len = (uint16_t)orig.hlen;
			assert_memory_equal(&out.hdr[0], &want, sizeof(want));
			assert_int_equal(out.len[0], orig.len);
			assert_memory_equal(fl_at(&out, 0), orig.f, orig.len);
			merged++;
		} else {
			assert_int_equal(n_super(&out), 0);
			apart++;
		}
		expand(&out, &back);
		check_same_frames(&in, &back);
		segs += (unsigned)nseg;
	}
	printf("checked: %u super-frames cut and merged back byte for byte, %u left apart (MSS < 48 or one segment), %u segments\n",
	       merged, apart, segs);
}

/* Drop, swap and repeat segments: nothing merges across a gap, runs of
 * consecutive segments between gaps do. */
static void test_gaps_and_reordering(void **state)
{
	static struct tframe orig;
	static struct flist cut;
	unsigned runs_checked = 0, cases = 0;
	size_t total_in = 0, total_out = 0;

	(void)state;
	for (int i = 0; i < 300; i++) {
		int mode = i % 3; /* 0 drop, 1 swap, 2 duplicate */
		size_t runs = 0, prev = (size_t)-2;

		rnd_super(&orig, 64000, 1448);
		fl_clear(&cut);
		fl_segment(&cut, &orig, 1514, 0);
		fl_clear(&in);
		for (size_t k = 0; k < cut.n; k++) {
			if (mode == 0 && k > 0 && rnd() % 5 == 0)
				continue;
			if (mode == 1 && k + 1 < cut.n && rnd() % 5 == 0) {
				fl_push(&in, fl_at(&cut, k + 1), cut.len[k + 1], 0);
				fl_push(&in, fl_at(&cut, k), cut.len[k], 0);
				k++;
				continue;
			}
			fl_push(&in, fl_at(&cut, k), cut.len[k], 0);
			if (mode == 2 && rnd() % 5 == 0)
				fl_push(&in, fl_at(&cut, k), cut.len[k], 0);
			/* runs of consecutive segments (drops only) */
			if (k != prev + 1)
				runs++;
			prev = k;
		}
		coalesce(&in, &out, MAXG, sizeof(arena), 256);
		expand(&out, &back);
		check_same_frames(&in, &back);
		if (mode == 0) {
			/* One output per run: a run merges unless it is a
			 * single segment; the last short one joins its run. */
			assert_int_equal(out.n, runs);
			runs_checked += (unsigned)runs;
		}
		if (mode != 0) {
			total_in += in.n;
			total_out += out.n;
		}
		cases++;
	}
	/* Swapped and repeated segments still leave long runs to merge. */
	assert_true(total_out * 2 < total_in);
	printf("checked: %u flows with missing / reordered / repeated segments, %u runs between gaps merged apart, swapped / repeated: %zu segments in, %zu frames out\n",
	       cases, runs_checked, total_in, total_out);
}

/* Flows interleaved, with frames of other protocols and hosts between:
 * each flow merges into one super-frame. */
static void test_flows_interleaved(void **state)
{
	static struct flist per[4];
	static struct tframe orig;
	unsigned cases = 0;

	(void)state;
	for (int i = 0; i < 200; i++) {
		size_t nflows = rnd_in(2, 4), pos[4] = { 0 }, left = 0, others = 0, multi = 0;

		for (size_t f = 0; f < nflows; f++) {
			rnd_super(&orig, 20000, 1448);
			fl_clear(&per[f]);
			fl_segment(&per[f], &orig, 1514, (int)f);
			left += per[f].n;
			multi += per[f].n >= 2;
		}
		fl_clear(&in);
		while (left) {
			size_t f = rnd_in(0, nflows - 1);

			if (rnd() % 8 == 0) { /* ARP, or UDP between other hosts */
				struct tshape s = { .v6 = rnd() & 1, .proto = PQ_IPPROTO_UDP, .payload = rnd_in(0, 100) };

				tf_build(&tf, &s);
				if (rnd() & 1)
					p16(tf.f + 12, 0x0806);
				fl_push(&in, tf.f, tf.len, -1);
				others++;
			}
			if (pos[f] == per[f].n)
				continue;
			fl_push(&in, fl_at(&per[f], pos[f]), per[f].len[pos[f]], (int)f);
			pos[f]++;
			left--;
		}
		coalesce(&in, &out, MAXG, sizeof(arena), 256);
		expand(&out, &back);
		check_same_frames(&in, &back);
		assert_int_equal(n_super(&out), multi);
		assert_int_equal(out.n, nflows + others);
		cases++;
	}
	printf("checked: %u batches of 2-4 interleaved flows, each merged into one super-frame\n", cases);
}

/* Segment 3 of 6 made different in one way: out [1 2] [3] [4 5 6]. */
struct spoil_case {
	const char *what;
	bool v4_only;
	bool fix_csums;
	void (*spoil)(uint8_t *f, const struct tframe *t);
	size_t want_out; /* 0: 3 ([1 2] [3] [4 5 6]) */
};

static void sp_tcp_csum(uint8_t *f, const struct tframe *t) { f[t->hlen] ^= 1; }
static void sp_ip_csum(uint8_t *f, const struct tframe *t) { f[t->l3 + 10] ^= 1; }
static void sp_cwr(uint8_t *f, const struct tframe *t) { f[t->l4 + 13] |= PQ_TCP_CWR; }
static void sp_ece(uint8_t *f, const struct tframe *t) { f[t->l4 + 13] ^= PQ_TCP_ECE; }
static void sp_urg(uint8_t *f, const struct tframe *t) { f[t->l4 + 13] |= PQ_TCP_URG; p16(f + t->l4 + 18, 10); }
static void sp_syn(uint8_t *f, const struct tframe *t) { f[t->l4 + 13] |= PQ_TCP_SYN; }
static void sp_ack(uint8_t *f, const struct tframe *t) { f[t->l4 + 11] ^= 1; }
static void sp_window(uint8_t *f, const struct tframe *t) { f[t->l4 + 15] ^= 1; }
static void sp_option(uint8_t *f, const struct tframe *t) { f[t->l4 + 20] ^= 1; }
static void sp_seq(uint8_t *f, const struct tframe *t) { p32(f + t->l4 + 4, g32(f + t->l4 + 4) + 1); }
static void sp_tos(uint8_t *f, const struct tframe *t) { f[t->l3 + 1] ^= 1; } /* v6: traffic class */
static void sp_ttl(uint8_t *f, const struct tframe *t) { f[t->l3 + (t->v6 ? 7 : 8)] ^= 1; }
static void sp_id(uint8_t *f, const struct tframe *t) { p16(f + t->l3 + 4, g16(f + t->l3 + 4) + 1); }
static void sp_df(uint8_t *f, const struct tframe *t) { f[t->l3 + 6] ^= 0x40; }
static void sp_flow_label(uint8_t *f, const struct tframe *t) { f[t->l3 + 3] ^= 1; }
static void sp_vlan(uint8_t *f, const struct tframe *t) { f[15] ^= 1; } /* tagged frames only */
static void sp_mac(uint8_t *f, const struct tframe *t) { f[0] ^= 2; }

static const struct spoil_case spoils[] = {
	{ "TCP checksum", false, false, sp_tcp_csum, 0 },
	{ "IPv4 header checksum", true, false, sp_ip_csum, 0 },
	{ "CWR after the first (starts the next: [1 2] [3 4 5 6])", false, true, sp_cwr, 2 },
	{ "ECE differs", false, true, sp_ece, 0 },
	{ "URG", false, true, sp_urg, 0 },
	{ "SYN", false, true, sp_syn, 0 },
	{ "ack number", false, true, sp_ack, 0 },
	{ "window", false, true, sp_window, 0 },
	{ "a TCP option byte", false, true, sp_option, 0 },
	{ "sequence number + 1 (a gap)", false, true, sp_seq, 0 },
	{ "TOS / traffic class", false, true, sp_tos, 0 },
	{ "TTL / hop limit", false, true, sp_ttl, 0 },
	{ "IPv4 ID not consecutive", true, true, sp_id, 0 },
	{ "DF", true, true, sp_df, 0 },
	{ "flow label / IPv4 length byte", false, true, sp_flow_label, 0 },
	{ "VLAN ID", false, true, sp_vlan, 0 },
	{ "destination MAC", false, true, sp_mac, 0 },
};

/* After a spoil, make both checksums right again (naive). */
static void fix_csums(uint8_t *f, const struct tframe *t, size_t len)
{
	uint8_t *ip = f + t->l3, *th = f + t->l4;

	if (!t->v6) {
		p16(ip + 10, 0);
		p16(ip + 10, (uint16_t)~naive_fold(naive_sum(ip, t->l4 - t->l3, 0)));
	}
	p16(th + 16, 0);
	p16(th + 16, (uint16_t)~naive_fold(naive_sum(th, len - t->l4, naive_pseudo(ip, t->v6, PQ_IPPROTO_TCP, len - t->l4))));
}

static void test_not_joined(void **state)
{
	static struct tframe orig;
	int checked = 0;

	(void)state;
	for (size_t c = 0; c < sizeof(spoils) / sizeof(spoils[0]); c++) {
		for (int shape = 0; shape < 4; shape++) {
			struct tshape s = { .v6 = shape & 1, .vlan = true, .proto = PQ_IPPROTO_TCP,
					    .ip_opt = shape & 2 ? 8 : 0, .tcp_opt = 12, .payload = 6 * 1000,
					    .flags = PQ_TCP_ACK | PQ_TCP_PSH, .seq = rnd(), .ip_id = 7 };
			uint8_t *f3;

			if (spoils[c].v4_only && s.v6)
				continue;
			tf_build(&orig, &s);
			tf_tso(&orig, 1000);
			fl_clear(&in);
			assert_int_equal(fl_segment(&in, &orig, orig.hlen + 1000, 0), 6);
			f3 = in.pool + in.off[2];
			spoils[c].spoil(f3, &orig);
			if (spoils[c].fix_csums)
				fix_csums(f3, &orig, in.len[2]);
			coalesce(&in, &out, MAXG, sizeof(arena), 256);
			if (spoils[c].want_out) {
				assert_int_equal(out.n, spoils[c].want_out);
				assert_int_equal(n_super(&out), 2);
			} else {
				if (out.n != 3 || n_super(&out) != 2)
					fail_msg("%s (v6 %d): %zu outputs, %zu super-frames; want 3, 2", spoils[c].what,
						 s.v6, out.n, n_super(&out));
				assert_int_equal(out.len[1], in.len[2]);
				assert_memory_equal(fl_at(&out, 1), f3, in.len[2]);
			}
			expand(&out, &back);
			check_same_frames(&in, &back);
			checked++;
		}
	}
	printf("checked: %d segments that differ in one field kept apart\n", checked);
}

/* Frames of the flow that are not segments to merge end the super-frame
 * so nothing overtakes them; frames of others do not. */
static void test_closing_frames(void **state)
{
	static struct tframe orig, other;
	int checked = 0;

	(void)state;
	for (int what = 0; what < 8; what++) {
		struct tshape s = { .v6 = what & 1, .proto = PQ_IPPROTO_TCP, .payload = 5 * 1000,
				    .flags = PQ_TCP_ACK, .seq = 1000, .ip_id = 1 };
		size_t want_n;

		tf_build(&orig, &s);
		tf_tso(&orig, 1000);
		fl_clear(&in);
		fl_segment(&in, &orig, orig.hlen + 1000, 0);
		/* [s0 s1] other [s2 s3 s4], or [s0 .. s4] other when other
		 * is not of the flow. */
		other = orig;
		switch (what) {
		case 0: /* a pure ACK of the flow: TCP, no payload */
		case 1:
			other.len = orig.hlen;
			p16(other.f + other.l3 + (other.v6 ? 4 : 2),
			    (unsigned)(other.len - other.l3 - (other.v6 ? 40 : 0)));
			fix_csums(other.f, &other, other.len);
			want_n = 3;
			break;
		case 2: /* that ACK padded to the Ethernet minimum and more */
		case 3:
			other.len = orig.hlen;
			p16(other.f + other.l3 + (other.v6 ? 4 : 2),
			    (unsigned)(other.len - other.l3 - (other.v6 ? 40 : 0)));
			fix_csums(other.f, &other, other.len);
			memset(other.f + other.len, 0, 6);
			other.len += 6;
			want_n = 3;
			break;
		case 4: /* UDP between the same hosts (IPv4) / an IPv6 extension header */
		case 5:
			other.f[other.l3 + (other.v6 ? 6 : 9)] = other.v6 ? 0 : PQ_IPPROTO_UDP;
			want_n = 3;
			break;
		default: /* ARP; a frame of another flow */
			if (what == 6) {
				p16(other.f + 12, 0x0806);
			} else {
				p16(other.f + other.l4, g16(other.f + other.l4) + 1);
				fix_csums(other.f, &other, other.len);
			}
			want_n = 2;
			break;
		}
		/* insert after index 1 */
		{
			static struct flist tmp;

			fl_clear(&tmp);
			for (size_t k = 0; k < in.n; k++) {
				fl_push(&tmp, fl_at(&in, k), in.len[k], 0);
				if (k == 1)
					fl_push(&tmp, other.f, other.len, -1);
			}
			coalesce(&tmp, &out, MAXG, sizeof(arena), 256);
			if (out.n != want_n)
				fail_msg("case %d: %zu outputs, want %zu", what, out.n, want_n);
			expand(&out, &back);
			check_same_frames(&tmp, &back);
		}
		checked++;
	}
	printf("checked: %d frames between segments that end (or not) the super-frame\n", checked);
}

/* Segment idx of l: seq and IPv4 ID moved on by n segments of mss (the
 * next frame of the stream), or its payload grown by extra bytes; checksums
 * and lengths made right. Pushed at the end of l. */
static void push_variant(struct flist *l, size_t idx, const struct tframe *t, size_t mss, size_t extra)
{
	size_t len = l->len[idx];

	memcpy(tf.f, fl_at(l, idx), len);
	if (mss) {
		p32(tf.f + t->l4 + 4, g32(tf.f + t->l4 + 4) + (uint32_t)mss);
		if (!t->v6)
			p16(tf.f + t->l3 + 4, g16(tf.f + t->l3 + 4) + 1);
	}
	rnd_fill(tf.f + len, extra);
	len += extra;
	p16(tf.f + t->l3 + (t->v6 ? 4 : 2), (unsigned)(len - t->l3 - (t->v6 ? 40 : 0)));
	fix_csums(tf.f, t, len);
	fl_push(l, tf.f, len, 0);
}

/* A segment shorter than the first joins and ends the super-frame; one
 * longer starts anew; PSH ends it; a first below PQ_GSO_MIN_SIZE starts
 * nothing. */
static void test_sizes_and_ends(void **state)
{
	static struct tframe a;
	struct tshape s = { .proto = PQ_IPPROTO_TCP, .payload = 2500, .flags = PQ_TCP_ACK, .seq = 5 };

	(void)state;
	/* 1000 1000 500 | 500: the short third ends it, the fourth (next in
	 * the stream) is left alone. */
	tf_build(&a, &s);
	tf_tso(&a, 1000);
	fl_clear(&in);
	assert_int_equal(fl_segment(&in, &a, a.hlen + 1000, 0), 3);
	push_variant(&in, 2, &a, 500, 0);
	coalesce(&in, &out, MAXG, sizeof(arena), 256);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.hdr[0].gso_size, 1000);
	assert_int_equal(out.len[0], a.len);
	assert_true(pq_gso_hdr_is_zero(&out.hdr[1]));
	expand(&out, &back);
	check_same_frames(&in, &back);
	/* 1000 1000 | 1200: longer than the first, it starts anew. */
	fl_clear(&in);
	assert_int_equal(fl_segment(&in, &a, a.hlen + 1000, 0), 3);
	in.n--;
	in.used -= in.len[2];
	push_variant(&in, 1, &a, 1000, 200);
	coalesce(&in, &out, MAXG, sizeof(arena), 256);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.len[0], a.hlen + 2000);
	assert_int_equal(out.len[1], a.hlen + 1200);
	assert_true(pq_gso_hdr_is_zero(&out.hdr[1]));
	expand(&out, &back);
	check_same_frames(&in, &back);
	/* PSH on the second of four: [1 2] [3 4], the first with PSH. */
	s.payload = 4000;
	tf_build(&a, &s);
	tf_tso(&a, 1000);
	fl_clear(&in);
	assert_int_equal(fl_segment(&in, &a, a.hlen + 1000, 0), 4);
	in.pool[in.off[1] + a.l4 + 13] |= PQ_TCP_PSH;
	fix_csums(in.pool + in.off[1], &a, in.len[1]);
	coalesce(&in, &out, MAXG, sizeof(arena), 256);
	assert_int_equal(out.n, 2);
	assert_int_equal(n_super(&out), 2);
	assert_int_equal(out.pool[out.off[0] + a.l4 + 13], PQ_TCP_ACK | PQ_TCP_PSH);
	assert_int_equal(out.len[0], a.hlen + 2000);
	expand(&out, &back);
	check_same_frames(&in, &back);
	/* PSH on the second, third and fourth: [1 2] [3] [4]; a PSH segment
	 * ends the super-frame it joins and starts none. */
	fl_clear(&in);
	assert_int_equal(fl_segment(&in, &a, a.hlen + 1000, 0), 4);
	for (size_t k = 1; k < 4; k++) {
		in.pool[in.off[k] + a.l4 + 13] |= PQ_TCP_PSH;
		fix_csums(in.pool + in.off[k], &a, in.len[k]);
	}
	coalesce(&in, &out, MAXG, sizeof(arena), 256);
	assert_int_equal(out.n, 3);
	assert_int_equal(n_super(&out), 1);
	expand(&out, &back);
	check_same_frames(&in, &back);
	/* 47-byte segments: too small to start a super-frame. */
	s.payload = 47 * 3;
	tf_build(&a, &s);
	tf_tso(&a, 48);
	fl_clear(&in);
	assert_int_equal(fl_segment(&in, &a, a.hlen + 47, 0), 3);
	coalesce(&in, &out, MAXG, sizeof(arena), 256);
	assert_int_equal(out.n, 3);
	assert_int_equal(n_super(&out), 0);
}

/* Bounds: out[] full (PQ_E_LIMIT, next batch), an arena for one super-frame and two flows,
 * max_len, the 64 KiB IP bound, the API's refusals. */
static void test_limits(void **state)
{
	static struct tframe a, b;
	static struct flist tmp;
	struct tshape s = { .proto = PQ_IPPROTO_TCP, .payload = 20 * 1000, .flags = PQ_TCP_ACK };
	struct pq_gso_out o1[1];
	const struct pq_gso_out *res;
	size_t n;

	(void)state;
	tf_build(&a, &s);
	tf_tso(&a, 1000);
	s.v6 = true;
	tf_build(&b, &s);
	tf_tso(&b, 1000);
	fl_clear(&in);
	fl_segment(&in, &a, a.hlen + 1000, 0);
	/* out_cap 3 with interleaved ARP: several batches, same frames. */
	fl_clear(&tmp);
	for (size_t k = 0; k < in.n; k++) {
		fl_push(&tmp, fl_at(&in, k), in.len[k], 0);
		if (k % 4 == 3) {
			p16(tf.f + 12, 0x0806);
			fl_push(&tmp, tf.f, 60, -1);
		}
	}
	coalesce(&tmp, &out, MAXG, sizeof(arena), 3);
	assert_true(n_super(&out) >= 2);
	expand(&out, &back);
	check_same_frames(&tmp, &back);
	/* Room for one super-frame, two interleaved flows: one merges, the
	 * other goes apart. */
	fl_clear(&tmp);
	fl_segment(&tmp, &b, b.hlen + 1000, 1);
	fl_clear(&in);
	fl_segment(&in, &a, a.hlen + 1000, 0);
	{
		static struct flist mix;

		fl_clear(&mix);
		for (size_t k = 0; k < 20; k++) {
			fl_push(&mix, fl_at(&in, k), in.len[k], 0);
			fl_push(&mix, fl_at(&tmp, k), tmp.len[k], 1);
		}
		coalesce(&mix, &out, MAXG, MAXG, 256);
		assert_int_equal(n_super(&out), 1);
		assert_int_equal(out.n, 1 + 20);
		expand(&out, &back);
		check_same_frames(&mix, &back);
		/* max_len 3054: 3 IPv4 segments (54 + 3000 bytes) or 2 IPv6
		 * ones (74 + 2000) per super-frame: 7 + 10. */
		coalesce(&mix, &out, a.hlen + 3000, sizeof(arena), 256);
		assert_int_equal(out.n, 7 + 10);
		assert_int_equal(n_super(&out), 7 + 10);
		for (size_t k = 0; k < out.n; k++)
			assert_true(out.len[k] <= a.hlen + 3000);
		expand(&out, &back);
		check_same_frames(&mix, &back);
	}
	/* IPv4 total length stays <= 65535: 80 segments of 1000 bytes make
	 * two super-frames (65 + 15). */
	fl_clear(&in);
	tf_build(&a, &(struct tshape){ .proto = PQ_IPPROTO_TCP, .payload = 40 * 1000, .flags = PQ_TCP_ACK });
	tf_tso(&a, 1000);
	fl_segment(&in, &a, a.hlen + 1000, 0);
	p32(a.f + a.l4 + 4, g32(a.f + a.l4 + 4) + 40 * 1000);
	p16(a.f + a.l3 + 4, g16(a.f + a.l3 + 4) + 40);
	fl_segment(&in, &a, a.hlen + 1000, 0);
	coalesce(&in, &out, MAXG, sizeof(arena), 256);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.len[0], a.hlen + 65 * 1000);
	expand(&out, &back);
	check_same_frames(&in, &back);
	/* The IPv4 total length alone: 24 segments of 2729 bytes would make
	 * an IP packet of 40 + 65496 = 65536 bytes in a frame of 65550 (below
	 * max_len): 23 merge, the 24th stays apart. */
	fl_clear(&in);
	tf_build(&a, &(struct tshape){ .proto = PQ_IPPROTO_TCP, .payload = 12 * 2729, .flags = PQ_TCP_ACK });
	tf_tso(&a, 2729);
	fl_segment(&in, &a, a.hlen + 2729, 0);
	p32(a.f + a.l4 + 4, g32(a.f + a.l4 + 4) + 12 * 2729);
	p16(a.f + a.l3 + 4, g16(a.f + a.l3 + 4) + 12);
	fl_segment(&in, &a, a.hlen + 2729, 0);
	assert_int_equal(in.n, 24);
	coalesce(&in, &out, MAXG, sizeof(arena), 256);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.len[0], a.hlen + 23 * 2729);
	expand(&out, &back);
	check_same_frames(&in, &back);
	/* The API. */
	assert_int_equal(pq_gso_coalesce_init(NULL, arena, sizeof(arena), MAXG, outs, 1), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_init(&co, NULL, sizeof(arena), MAXG, outs, 1), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_init(&co, arena, sizeof(arena), MAXG, NULL, 1), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_init(&co, arena, sizeof(arena), MAXG, outs, 0), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_init(&co, arena, sizeof(arena), MAXG + 1, outs, 1), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_init(&co, arena, MAXG - 1, MAXG, outs, 1), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_init(&co, arena, 1000, 14 + 95, outs, 1), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_init(&co, arena, 1000, 14 + 96, o1, 1), 0);
	assert_int_equal(pq_gso_coalesce_add(&co, NULL, 10), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_add(NULL, tf.f, 60), PQ_E_INVAL);
	assert_int_equal(pq_gso_coalesce_add(&co, tf.f, 0), 0); /* malformed: goes out as it came */
	assert_int_equal(pq_gso_coalesce_add(&co, tf.f, 60), PQ_E_LIMIT);
	n = pq_gso_coalesce_finish(&co, &res);
	assert_int_equal(n, 1);
	assert_int_equal(res[0].len, 0);
	assert_int_equal(pq_gso_coalesce_add(&co, tf.f, 60), PQ_E_STATE);
	pq_gso_coalesce_reset(&co);
	assert_int_equal(pq_gso_coalesce_add(&co, tf.f, 60), 0);
	assert_int_equal(pq_gso_coalesce_finish(NULL, &res), 0);
	assert_null(res);
}

/* The vector of test_gso_seg.c cut and merged: the super-frame with the
 * IPv4 header checksum 0x266b and the TCP partial sum 0x1481, both from
 * the same independent Python script (RFC 791 header, pseudo-header of
 * 10.0.0.1 -> 10.0.0.2, protocol 6, length 120, folded). */
static void test_vector(void **state)
{
	static const uint8_t head[] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		0x45, 0, 0, 140, 0xff, 0xfe, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x9c, 0x40, 0x14, 0x51, 0xff, 0xff, 0xff, 0xf0, 0x0a, 0x0b, 0x0c, 0x0d, 0x50, 0x99,
		0x01, 0xf6, 0xde, 0xad, 0, 0,
	};
	struct pq_gso_hdr h = { F, PQ_GSO_TCPV4, 54, 48, 34, 16 };
	struct tframe *t = &tf;

	(void)state;
	memcpy(t->f, head, sizeof(head));
	for (size_t i = 0; i < 100; i++)
		t->f[sizeof(head) + i] = (uint8_t)(i * 7 + 3);
	t->len = sizeof(head) + 100;
	t->hdr = h;
	fl_clear(&in);
	assert_int_equal(fl_segment(&in, t, 1514, 0), 3);
	coalesce(&in, &out, MAXG, sizeof(arena), 256);
	assert_int_equal(out.n, 1);
	assert_memory_equal(&out.hdr[0], &h, sizeof(h));
	assert_int_equal(out.len[0], t->len);
	t->f[24] = 0x26;
	t->f[25] = 0x6b;
	t->f[50] = 0x14;
	t->f[51] = 0x81;
	assert_memory_equal(fl_at(&out, 0), t->f, t->len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_gaps_and_reordering),
		cmocka_unit_test(test_flows_interleaved),
		cmocka_unit_test(test_not_joined),
		cmocka_unit_test(test_closing_frames),
		cmocka_unit_test(test_sizes_and_ends),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
