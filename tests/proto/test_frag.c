/*
 * test_frag.c - DATA_FRAG pieces (proto/frag.h): cutting, reading and
 * putting together.
 *
 * pq_frag_plan over a sweep of totals and plaintext bounds (every piece
 * fits, all but the last equal, the fewest pieces, as equal as they can
 * be, and the refusals); one piece's bytes against a layout written by
 * hand from docs/PROTOCOL.md §4.1; round trips in order, reversed and
 * shuffled (the whole comes back byte for byte, once, on its last missing
 * piece); a lost piece, a piece twice; every hostile header refused by
 * pq_frag_decode and pq_frag_rx_add alike, each beside a valid neighbour
 * that is taken (so no refusal passes by refusing everything); pieces
 * that disagree with their id's earlier ones; the slots (the partial whole
 * started longest ago gives way, a stale id starts afresh, a completed
 * slot is free again); a random run checked against a deliberately naive
 * model of the contract; and pq_frag_rx_free (ASan shows leaks).
 */
#include "testutil.h"

#include <stdbool.h>

#include "proto/frag.h"
#include "proto/frag_model.h"

#define HDR PQ_FRAG_HDR_LEN
#define MAXT PQ_FRAG_MAX_TOTAL
#define NP PQ_FRAG_MAX_PIECES

/* ---- a deterministic generator (xorshift64*) ---- */

static uint64_t rng = 0x243F6A8885A308D3ull;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static size_t rnd_in(size_t lo, size_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void shuffle(size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd() % i, t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* ---- one whole, cut into its pieces' plaintexts ---- */

struct cut {
	uint32_t id;
	size_t total, ps, count;
	uint8_t whole[MAXT];
	uint8_t pt[NP][HDR + MAXT];
	size_t len[NP];
};

static struct cut ca, cb, cc, cd, ce, cf;
static struct cut *cuts[] = { &ca, &cb, &cc, &cd, &ce, &cf };

static size_t ceil_div(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

/* The bytes piece index of a whole (total, cut by ps) holds. */
static size_t want_len(size_t total, size_t ps, size_t index)
{
	size_t count = ceil_div(total, ps);

	return index + 1 < count ? ps : total - (count - 1) * ps;
}

/* Cut a random whole of total bytes by ps; every piece encodes to its
 * header and its slice of the whole. */
static void cut_by(struct cut *c, uint32_t id, size_t total, size_t ps)
{
	c->id = id;
	c->total = total;
	c->ps = ps;
	c->count = ceil_div(total, ps);
	assert_true(c->count >= 2 && c->count <= NP);
	rnd_fill(c->whole, total);
	for (size_t i = 0; i < c->count; i++) {
		long n = pq_frag_encode(id, c->whole, total, ps, i, c->pt[i], sizeof(c->pt[i]));

		assert_int_equal(n, HDR + want_len(total, ps, i));
		c->len[i] = (size_t)n;
		assert_memory_equal(c->pt[i] + HDR, c->whole + i * ps, c->len[i] - HDR);
	}
}

/* Plan, then cut: every plaintext within max_pt. */
static void cut_for(struct cut *c, uint32_t id, size_t total, size_t max_pt)
{
	size_t ps = 0, count = 0;

	assert_int_equal(pq_frag_plan(total, max_pt, &ps, &count), 0);
	cut_by(c, id, total, ps);
	assert_int_equal(c->count, count);
	for (size_t i = 0; i < count; i++)
		assert_true(c->len[i] <= max_pt);
}

static long add(struct pq_frag_rx *rx, const struct cut *c, size_t i, uint64_t now, const uint8_t **w)
{
	*w = NULL;
	return pq_frag_rx_add(rx, c->pt[i], c->len[i], now, w);
}

/* The piece that completes c: its whole comes back byte for byte. */
static void add_last(struct pq_frag_rx *rx, const struct cut *c, size_t i, uint64_t now)
{
	const uint8_t *w;

	assert_int_equal(add(rx, c, i, now, &w), (long)c->total);
	assert_non_null(w);
	assert_memory_equal(w, c->whole, c->total);
}

static void add_kept(struct pq_frag_rx *rx, const struct cut *c, size_t i, uint64_t now)
{
	const uint8_t *w;

	assert_int_equal(add(rx, c, i, now, &w), 0);
}

static void add_refused(struct pq_frag_rx *rx, const struct cut *c, size_t i, uint64_t now)
{
	const uint8_t *w;

	assert_int_equal(add(rx, c, i, now, &w), PQ_E_DECODE);
}

/* Add pieces from..count-1 of c, in order: the last completes it. */
static void finish(struct pq_frag_rx *rx, const struct cut *c, size_t from, uint64_t now)
{
	for (size_t i = from; i + 1 < c->count; i++)
		add_kept(rx, c, i, now);
	add_last(rx, c, c->count - 1, now);
}

static void p16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A hand-made piece: header fields as given, n bytes after it. */
static size_t make_piece(uint8_t *pt, uint32_t id, unsigned total, unsigned ps, unsigned index, size_t n)
{
	pt[0] = (uint8_t)(id >> 24);
	pt[1] = (uint8_t)(id >> 16);
	pt[2] = (uint8_t)(id >> 8);
	pt[3] = (uint8_t)id;
	p16(pt + 4, total);
	p16(pt + 6, ps);
	pt[8] = (uint8_t)index;
	rnd_fill(pt + HDR, n);
	return HDR + n;
}

/* ---- pq_frag_plan ---- */

/* What the contract says of (total, max_pt): 0, PQ_E_INVAL or
 * PQ_E_TOOBIG; on 0 the cut's properties. */
static int check_plan(size_t total, size_t max_pt)
{
	size_t ps = 0xdead, count = 0xbeef, room, last, need;
	int r = pq_frag_plan(total, max_pt, &ps, &count);

	if (total < PQ_DATA_GSO_MIN_LEN) {
		assert_int_equal(r, PQ_E_INVAL);
		return r;
	}
	if (total > MAXT) {
		assert_int_equal(r, PQ_E_TOOBIG);
		return r;
	}
	if (max_pt <= HDR) { /* no room for a byte: no number of pieces does */
		assert_int_equal(r, PQ_E_TOOBIG);
		return r;
	}
	room = max_pt - HDR;
	if (total <= room) {
		assert_int_equal(r, PQ_E_INVAL);
		return r;
	}
	need = ceil_div(total, room);
	if (need > NP) {
		assert_int_equal(r, PQ_E_TOOBIG);
		return r;
	}
	assert_int_equal(r, 0);
	assert_true(count >= 2 && count <= NP);
	assert_true(ps >= 1 && HDR + ps <= max_pt);
	assert_int_equal(count, ceil_div(total, ps)); /* the pieces tile the whole */
	last = total - (count - 1) * ps;
	assert_true(last >= 1 && last <= ps);
	assert_true(HDR + last <= max_pt);
	assert_int_equal(count, need); /* the fewest datagrams */
	assert_true(ps - last < count); /* as equal as they can be */
	return r;
}

static void test_plan_sweep(void **state)
{
	static const size_t fixed_pt[] = { 0, 1, HDR, HDR + 1, HDR + 2, 33, 60, 61, 64, 100, 128, 500, 548,
					   576, 1000, 1024, 1232, 1280, 1380, 1400, 1420, 1452, 1472, 1480,
					   1500, 2000, 4000, 4096, 8192, 8972, 9000, 16384, 65535 };
	size_t pts[sizeof(fixed_pt) / sizeof(fixed_pt[0]) + 400], npt = 0, n_ok = 0, n_inval = 0, n_big = 0,
								       n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed_pt) / sizeof(fixed_pt[0]); i++)
		pts[npt++] = fixed_pt[i];
	for (size_t p = 60; p <= 9000; p += 23)
		pts[npt++] = p;
	for (size_t k = 0; k < npt; k++) {
		size_t max_pt = pts[k], room = max_pt > HDR ? max_pt - HDR : 1;
		size_t edges[] = { 0, 1, PQ_DATA_GSO_MIN_LEN - 1, PQ_DATA_GSO_MIN_LEN, PQ_DATA_GSO_MIN_LEN + 1,
				   room - 1, room, room + 1, 2 * room - 1, 2 * room, 2 * room + 1,
				   NP * room - 1, NP * room, NP * room + 1, (NP - 1) * room + 1,
				   MAXT - 1, MAXT, MAXT + 1, 65535, 65536, 1 << 20 };

		for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
			int r = check_plan(edges[e], max_pt);

			n++;
			n_ok += r == 0;
			n_inval += r == PQ_E_INVAL;
			n_big += r == PQ_E_TOOBIG;
		}
		for (size_t total = PQ_DATA_GSO_MIN_LEN; total <= MAXT; total += 13 + k % 7) {
			int r = check_plan(total, max_pt);

			n++;
			n_ok += r == 0;
			n_inval += r == PQ_E_INVAL;
			n_big += r == PQ_E_TOOBIG;
		}
	}
	/* Every outcome reached, many times. */
	assert_true(n_ok > 10000 && n_inval > 1000 && n_big > 1000);
	printf("checked: %zu (total, max_pt) plans: %zu cut, %zu INVAL, %zu TOOBIG\n", n, n_ok, n_inval, n_big);
}

/* Named cases, so a change in the rounding shows as a plain number. */
static void test_plan_cases(void **state)
{
	static const struct {
		size_t total, max_pt, ps, count;
	} cases[] = {
		/* 1514-byte frame + 10-byte offload header on a 1400-byte path's plaintext */
		{ 1524, 1400, 762, 2 },
		{ 1524, 771, 762, 2 },
		{ 1524, 770, 508, 3 },
		{ 100, 60, 50, 2 },
		{ 100, 50, 34, 3 },
		{ 24, 21, 12, 2 },
		{ 24, HDR + 2, 2, 12 },
		{ MAXT, 9000, 8197, 2 },
		{ MAXT, HDR + 1025, 1025, 16 },
		{ 16 * 50, HDR + 50, 50, 16 },
		{ 16 * 50 + 1, HDR + 51, 51, 16 },
	};
	size_t ps, count;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pq_frag_plan(cases[i].total, cases[i].max_pt, &ps, &count), 0);
		assert_int_equal(ps, cases[i].ps);
		assert_int_equal(count, cases[i].count);
	}
	/* refusals */
	assert_int_equal(pq_frag_plan(1524, 1533, &ps, &count), PQ_E_INVAL); /* fits one: 9 + 1524 */
	assert_int_equal(pq_frag_plan(1524, 1532, &ps, &count), 0);
	assert_int_equal(pq_frag_plan(PQ_DATA_GSO_MIN_LEN - 1, 20, &ps, &count), PQ_E_INVAL);
	assert_int_equal(pq_frag_plan(MAXT + 1, 9000, &ps, &count), PQ_E_TOOBIG);
	assert_int_equal(pq_frag_plan(16 * 50 + 1, HDR + 50, &ps, &count), PQ_E_TOOBIG); /* 17 pieces */
	assert_int_equal(pq_frag_plan(MAXT, HDR + 1024, &ps, &count), PQ_E_TOOBIG);
	pq_test_checked("plan cases and refusals", sizeof(cases) / sizeof(cases[0]) + 6);
}

/* ---- pq_frag_encode / pq_frag_decode ---- */

static void test_encode_layout(void **state)
{
	/* id 4 | total 2 | piece size 2 | index 1 | piece bytes, big-endian */
	static const uint8_t want_hdr[HDR] = { 0x01, 0x02, 0x03, 0x04, 0x00, 0x1e, 0x00, 0x10, 0x01 };
	uint8_t whole[30], out[64];
	struct pq_frag_piece p;

	(void)state;
	for (size_t i = 0; i < sizeof(whole); i++)
		whole[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(pq_frag_encode(0x01020304, whole, 30, 16, 1, out, sizeof(out)), HDR + 14);
	assert_memory_equal(out, want_hdr, HDR);
	assert_memory_equal(out + HDR, whole + 16, 14);
	assert_int_equal(pq_frag_decode(&p, out, HDR + 14), 0);
	assert_int_equal(p.id, 0x01020304);
	assert_int_equal(p.total, 30);
	assert_int_equal(p.piece_size, 16);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.index, 1);
	assert_ptr_equal(p.data, out + HDR);
	assert_int_equal(p.len, 14);
	assert_int_equal(pq_frag_encode(0xffffffffu, whole, 30, 16, 0, out, sizeof(out)), HDR + 16);
	assert_int_equal(pq_frag_decode(&p, out, HDR + 16), 0);
	assert_int_equal(p.id, 0xffffffffu);
	assert_int_equal(p.index, 0);
	assert_int_equal(p.len, 16);
	/* refusals: the cut is not one the decoder takes, or out is short */
	assert_int_equal(pq_frag_encode(1, whole, 30, 16, 2, out, sizeof(out)), PQ_E_INVAL);
	assert_int_equal(pq_frag_encode(1, whole, 30, 30, 0, out, sizeof(out)), PQ_E_INVAL);
	assert_int_equal(pq_frag_encode(1, whole, 30, 0, 0, out, sizeof(out)), PQ_E_INVAL);
	assert_int_equal(pq_frag_encode(1, whole, 23, 12, 0, out, sizeof(out)), PQ_E_INVAL);
	assert_int_equal(pq_frag_encode(1, whole, 30, 1, 0, out, sizeof(out)), PQ_E_INVAL); /* 30 pieces */
	assert_int_equal(pq_frag_encode(1, ca.whole, MAXT + 1, 2000, 0, ca.pt[0], sizeof(ca.pt[0])),
			 PQ_E_INVAL);
	assert_int_equal(pq_frag_encode(1, whole, 30, 16, 1, out, HDR + 13), PQ_E_TOOBIG);
	assert_int_equal(pq_frag_encode(1, whole, 30, 16, 1, out, HDR + 14), HDR + 14);
	pq_test_checked("layout and encode refusals", 10);
}

/* ---- round trips ---- */

enum order { IN_ORDER, REVERSED, SHUFFLED };

static void round_trip(struct cut *c, enum order o, uint64_t now)
{
	struct pq_frag_rx rx;
	struct pq_frag_piece p;
	size_t ord[NP];

	memset(&rx, 0, sizeof(rx));
	for (size_t i = 0; i < c->count; i++)
		ord[i] = o == REVERSED ? c->count - 1 - i : i;
	if (o == SHUFFLED)
		shuffle(ord, c->count);
	for (size_t k = 0; k < c->count; k++) {
		size_t i = ord[k];

		assert_int_equal(pq_frag_decode(&p, c->pt[i], c->len[i]), 0);
		assert_int_equal(p.id, c->id);
		assert_int_equal(p.total, c->total);
		assert_int_equal(p.piece_size, c->ps);
		assert_int_equal(p.count, c->count);
		assert_int_equal(p.index, i);
		if (k + 1 < c->count)
			add_kept(&rx, c, i, now + k);
		else
			add_last(&rx, c, i, now + k);
	}
	pq_frag_rx_free(&rx);
}

static void test_round_trip(void **state)
{
	static const struct {
		size_t total, max_pt;
	} fixed[] = {
		{ 1524, 1400 }, { 1524, 1452 }, { PQ_DATA_GSO_MIN_LEN, 21 }, { PQ_DATA_GSO_MIN_LEN, HDR + 2 },
		{ MAXT, 9000 }, { MAXT, HDR + 1025 }, { 9010, 1500 }, { 801, 60 }, { 816, 60 },
	};
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		for (int o = IN_ORDER; o <= SHUFFLED; o++) {
			cut_for(&ca, (uint32_t)i, fixed[i].total, fixed[i].max_pt);
			round_trip(&ca, (enum order)o, 1000 * i);
			n++;
		}
	for (int k = 0; k < 600; k++) {
		size_t total = rnd_in(PQ_DATA_GSO_MIN_LEN, MAXT), max_pt, ps, count;

		/* a max_pt that cuts total into 2..16 pieces */
		max_pt = HDR + rnd_in(ceil_div(total, NP), total - 1);
		if (pq_frag_plan(total, max_pt, &ps, &count))
			fail_msg("plan(%zu, %zu) refused", total, max_pt);
		cut_for(&ca, rnd(), total, max_pt);
		round_trip(&ca, (enum order)(k % 3), rnd());
		n++;
	}
	pq_test_checked("round trips (in order, reversed, shuffled)", n);
}

/* Several wholes at once, their pieces interleaved at random: each comes
 * back, its own bytes, on its own last piece. */
static void test_round_trip_interleaved(void **state)
{
	struct pq_frag_rx rx;
	size_t n = 0;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	for (int round = 0; round < 200; round++) {
		size_t order[PQ_FRAG_SLOTS * NP], m = 0, left[PQ_FRAG_SLOTS];
		size_t pos[PQ_FRAG_SLOTS][NP];

		for (size_t s = 0; s < PQ_FRAG_SLOTS; s++) {
			size_t total = rnd_in(PQ_DATA_GSO_MIN_LEN, MAXT);

			/* ids that differ in one bit only, or by one */
			cut_for(cuts[s], (uint32_t)(round * 8 + (s == 3 ? 0x80000000u : s)), total,
				HDR + rnd_in(ceil_div(total, NP), total - 1));
			left[s] = cuts[s]->count;
			for (size_t i = 0; i < cuts[s]->count; i++) {
				pos[s][i] = i;
				order[m++] = s;
			}
			shuffle(pos[s], cuts[s]->count);
		}
		shuffle(order, m);
		for (size_t k = 0; k < m; k++) {
			size_t s = order[k], i = pos[s][cuts[s]->count - left[s]];

			if (--left[s])
				add_kept(&rx, cuts[s], i, (uint64_t)round * 10);
			else {
				add_last(&rx, cuts[s], i, (uint64_t)round * 10);
				n++;
			}
		}
	}
	pq_frag_rx_free(&rx);
	pq_test_checked("interleaved wholes, four at a time", n);
}

/* ---- lost and repeated pieces ---- */

static void test_missing_piece(void **state)
{
	struct pq_frag_rx rx;
	size_t n = 0;

	(void)state;
	for (int k = 0; k < 60; k++) {
		size_t total = rnd_in(PQ_DATA_GSO_MIN_LEN, MAXT);

		cut_for(&ca, (uint32_t)k, total, HDR + rnd_in(ceil_div(total, NP), total - 1));
		for (size_t lost = 0; lost < ca.count; lost++) {
			size_t ord[NP];

			memset(&rx, 0, sizeof(rx));
			for (size_t i = 0; i < ca.count; i++)
				ord[i] = i;
			shuffle(ord, ca.count);
			for (size_t j = 0; j < ca.count; j++)
				if (ord[j] != lost)
					add_kept(&rx, &ca, ord[j], 10);
			/* a new id, later: still nothing for the first */
			cut_for(&cb, (uint32_t)k + 1000, 1524, 1400);
			add_kept(&rx, &cb, 0, 20);
			/* kept, not dropped: the lost piece, come late, completes it */
			add_last(&rx, &ca, lost, 30);
			pq_frag_rx_free(&rx);
			n++;
		}
	}
	pq_test_checked("wholes with a piece lost, never handed out", n);
}

static void test_duplicate_piece(void **state)
{
	struct pq_frag_rx rx;
	const uint8_t *w;
	size_t n = 0;

	(void)state;
	for (int k = 0; k < 100; k++) {
		size_t total = rnd_in(PQ_DATA_GSO_MIN_LEN, MAXT), ord[NP], dup, at;

		cut_for(&ca, (uint32_t)k, total, HDR + rnd_in(ceil_div(total, NP), total - 1));
		memset(&rx, 0, sizeof(rx));
		for (size_t i = 0; i < ca.count; i++)
			ord[i] = i;
		shuffle(ord, ca.count);
		at = rnd_in(0, ca.count - 2); /* repeat ord[dup] right after ord[at] */
		dup = rnd_in(0, at);
		for (size_t j = 0; j < ca.count; j++) {
			if (j + 1 < ca.count)
				add_kept(&rx, &ca, ord[j], 10);
			else
				add_last(&rx, &ca, ord[j], 10);
			if (j == at) {
				/* the same header with other bytes: refused, the first bytes stay */
				uint8_t save = ca.pt[ord[dup]][HDR];

				add_refused(&rx, &ca, ord[dup], 10);
				ca.pt[ord[dup]][HDR] ^= 0x5a;
				add_refused(&rx, &ca, ord[dup], 10);
				ca.pt[ord[dup]][HDR] = save;
			}
		}
		/* The whole was handed out once; a piece repeated after that
		 * starts a new whole and does not hand it out again. */
		assert_int_equal(add(&rx, &ca, ord[0], 10, &w), 0);
		pq_frag_rx_free(&rx);
		n++;
	}
	pq_test_checked("wholes with a piece twice", n);
}

/* ---- hostile headers ---- */

struct hdr_case {
	const char *what;
	unsigned total, ps, index;
	size_t n; /* bytes after the header */
};

static void test_hostile_headers(void **state)
{
	static const struct hdr_case bad[] = {
		{ "index == count", 100, 40, 3, 20 },
		{ "index == count (full length)", 100, 40, 3, 40 },
		{ "index 16", 100, 40, 16, 40 },
		{ "index 255", 100, 40, 255, 40 },
		{ "index 15 of 2", 30, 16, 15, 14 },
		{ "piece size 0", 100, 0, 0, 40 },
		{ "piece size 0, empty", 100, 0, 0, 0 },
		{ "count 1: piece size == total", 100, 100, 0, 100 },
		{ "count 1: piece size > total", 100, 200, 0, 100 },
		{ "count 1: piece size 65535", 1524, 65535, 0, 1524 },
		{ "count 17", 170, 10, 0, 10 },
		{ "count 17, last", 161, 10, 16, 1 },
		{ "count 16394", MAXT, 1, 0, 1 },
		{ "count 17 at the top", MAXT, 1024, 0, 1024 },
		{ "total 0", 0, 1, 0, 1 },
		{ "total 23", PQ_DATA_GSO_MIN_LEN - 1, 12, 0, 12 },
		{ "total 23, last", PQ_DATA_GSO_MIN_LEN - 1, 12, 1, 11 },
		{ "total above the bound", MAXT + 1, 2000, 0, 2000 },
		{ "total above the bound, last", MAXT + 1, 2000, 8, MAXT + 1 - 8 * 2000 },
		{ "total 65535", 65535, 8192, 0, 8192 },
		{ "non-last piece one short", 100, 40, 0, 39 },
		{ "non-last piece one long", 100, 40, 1, 41 },
		{ "non-last piece as long as the last", 100, 40, 0, 20 },
		{ "non-last piece of one byte", 100, 40, 1, 1 },
		{ "last piece one short", 100, 40, 2, 19 },
		{ "last piece one long", 100, 40, 2, 21 },
		{ "last piece as long as the others", 100, 40, 2, 40 },
		{ "last piece of 2, one long", 30, 16, 1, 15 },
		{ "last piece of 2, one short", 30, 16, 1, 13 },
		{ "last piece, full, one long", 120, 40, 2, 41 },
		{ "empty piece", 100, 40, 0, 0 },
		{ "empty last piece", 100, 40, 2, 0 },
		{ "empty piece of a zero header", 0, 0, 0, 0 },
	};
	/* Neighbours of the refusals that are valid pieces. */
	static const struct hdr_case good[] = {
		{ "index count-1", 100, 40, 2, 20 },
		{ "index 1 of 2", 30, 16, 1, 14 },
		{ "count 2: piece size total-1", 100, 99, 1, 1 },
		{ "count 16", 160, 10, 15, 10 },
		{ "count 16, short last", 151, 10, 15, 1 },
		{ "count 16 at the top", MAXT, 1025, 15, MAXT - 15 * 1025 },
		{ "total 24", PQ_DATA_GSO_MIN_LEN, 12, 0, 12 },
		{ "total 24, piece size 2", PQ_DATA_GSO_MIN_LEN, 2, 11, 2 },
		{ "total at the bound", MAXT, 2000, 8, MAXT - 8 * 2000 },
		{ "last piece full", 120, 40, 2, 40 },
		{ "one-byte last piece", 81, 40, 2, 1 },
	};
	static uint8_t pt[HDR + 70000];
	struct pq_frag_piece p;
	struct pq_frag_rx rx;
	const uint8_t *w;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = make_piece(pt, 7, bad[i].total, bad[i].ps, bad[i].index, bad[i].n);

		if (pq_frag_decode(&p, pt, len) != PQ_E_DECODE)
			fail_msg("decode took \"%s\"", bad[i].what);
		if (pq_frag_rx_add(&rx, pt, len, 0, &w) != PQ_E_DECODE)
			fail_msg("rx_add took \"%s\"", bad[i].what);
	}
	/* Shorter than a header, each length. */
	make_piece(pt, 7, 100, 40, 0, 40);
	for (size_t len = 0; len <= HDR; len++) {
		assert_int_equal(pq_frag_decode(&p, pt, len), PQ_E_DECODE);
		assert_int_equal(pq_frag_rx_add(&rx, pt, len, 0, &w), PQ_E_DECODE);
	}
	assert_int_equal(pq_frag_decode(&p, pt, HDR + 40), 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t len = make_piece(pt, 7 + (uint32_t)i, good[i].total, good[i].ps, good[i].index, good[i].n);

		if (pq_frag_decode(&p, pt, len) != 0)
			fail_msg("decode refused \"%s\"", good[i].what);
		assert_int_equal(p.total, good[i].total);
		assert_int_equal(p.piece_size, good[i].ps);
		assert_int_equal(p.count, ceil_div(good[i].total, good[i].ps));
		assert_int_equal(p.index, good[i].index);
		assert_int_equal(p.len, good[i].n);
	}
	pq_frag_rx_free(&rx);
	/* The refusals left nothing behind: four wholes still go through. */
	memset(&rx, 0, sizeof(rx));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = make_piece(pt, 7, bad[i].total, bad[i].ps, bad[i].index, bad[i].n);

		assert_int_equal(pq_frag_rx_add(&rx, pt, len, 0, &w), PQ_E_DECODE);
	}
	for (size_t s = 0; s < PQ_FRAG_SLOTS; s++) {
		cut_by(cuts[s], 7 + (uint32_t)s, 100 + (unsigned)s, 40); /* 3 pieces */
		add_kept(&rx, cuts[s], 0, 1);
	}
	for (size_t s = 0; s < PQ_FRAG_SLOTS; s++) {
		add_kept(&rx, cuts[s], 1, 2);
		add_last(&rx, cuts[s], 2, 2);
	}
	pq_frag_rx_free(&rx);
	printf("checked: %zu hostile headers and %d short lengths refused by decode and rx_add, "
	       "%zu valid neighbours taken\n",
	       sizeof(bad) / sizeof(bad[0]), HDR + 1, sizeof(good) / sizeof(good[0]));
}

/* A piece valid on its own whose header disagrees with its id's earlier
 * pieces: refused, its bytes land nowhere, and the whole still completes
 * with the right pieces. Either kind of disagreement, at either place. */
static void test_disagreeing_header(void **state)
{
	static uint8_t pt[HDR + MAXT];
	struct pq_frag_rx rx;
	const uint8_t *w;
	size_t n = 0;

	(void)state;
	for (int k = 0; k < 40; k++) {
		size_t total = rnd_in(60, MAXT - 1), ps, count, first, other, len;

		cut_for(&ca, 42, total, HDR + rnd_in(ceil_div(total, NP - 1), total - 1));
		ps = ca.ps;
		count = ca.count;
		memset(&rx, 0, sizeof(rx));
		first = rnd_in(0, count - 1);
		add_kept(&rx, &ca, first, 5);
		other = (first + 1 + rnd_in(0, count - 2)) % count; /* an index not in yet */
		/* total one more or one less, same piece size */
		for (int d = -1; d <= 1; d += 2) {
			size_t t2 = total + (size_t)d;

			if (t2 <= ps || ceil_div(t2, ps) > NP)
				continue;
			if (other >= ceil_div(t2, ps))
				continue;
			len = make_piece(pt, 42, (unsigned)t2, (unsigned)ps, (unsigned)other,
					 want_len(t2, ps, other));
			assert_int_equal(pq_frag_decode(&(struct pq_frag_piece){ 0 }, pt, len), 0);
			assert_int_equal(pq_frag_rx_add(&rx, pt, len, 6, &w), PQ_E_DECODE);
			n++;
		}
		/* piece size one more or one less, same total */
		for (int d = -1; d <= 1; d += 2) {
			size_t ps2 = ps + (size_t)d;

			if (ps2 == 0 || ps2 >= total || ceil_div(total, ps2) > NP || other >= ceil_div(total, ps2))
				continue;
			len = make_piece(pt, 42, (unsigned)total, (unsigned)ps2, (unsigned)other,
					 want_len(total, ps2, other));
			assert_int_equal(pq_frag_decode(&(struct pq_frag_piece){ 0 }, pt, len), 0);
			assert_int_equal(pq_frag_rx_add(&rx, pt, len, 6, &w), PQ_E_DECODE);
			n++;
		}
		/* the same index as the first, under another header: refused too */
		len = make_piece(pt, 42, (unsigned)total + 1, (unsigned)ps, (unsigned)first,
				 want_len(total + 1, ps, first));
		if (ceil_div(total + 1, ps) <= NP)
			assert_int_equal(pq_frag_rx_add(&rx, pt, len, 6, &w), PQ_E_DECODE);
		/* The right pieces complete the whole, with the right bytes. */
		for (size_t i = 0, left = count - 1; i < count; i++) {
			if (i == first)
				continue;
			if (--left)
				add_kept(&rx, &ca, i, 7);
			else
				add_last(&rx, &ca, i, 7);
		}
		pq_frag_rx_free(&rx);
	}
	assert_true(n > 80);
	pq_test_checked("disagreeing headers refused, the whole still completes", n);
}

/* ---- slots ---- */

/* PQ_FRAG_SLOTS + 1 ids in three pieces each, their first pieces in turn:
 * the last one takes the slot of the first. The others complete; the
 * first one's later pieces start a new whole that never completes. */
static void test_slots_evict_oldest(void **state)
{
	struct pq_frag_rx rx;
	struct cut *c[PQ_FRAG_SLOTS + 1] = { &ca, &cb, &cc, &cd, &ce };
	size_t n = 0;

	(void)state;
	for (int same_time = 0; same_time < 2; same_time++)
		for (int k = 0; k < 20; k++) {
			memset(&rx, 0, sizeof(rx));
			for (size_t s = 0; s <= PQ_FRAG_SLOTS; s++) {
				size_t total = rnd_in(200, 3000);

				cut_for(c[s], (uint32_t)(k * 16 + s), total, HDR + ceil_div(total, 3));
				assert_int_equal(c[s]->count, 3);
			}
			/* first pieces, oldest first, at times that go up by one
			 * (or all at the same time: the order counts) */
			for (size_t s = 0; s <= PQ_FRAG_SLOTS; s++)
				add_kept(&rx, c[s], 0, same_time ? 100 : 100 + s);
			/* the rest of the others, interleaved */
			for (size_t s = 1; s <= PQ_FRAG_SLOTS; s++)
				add_kept(&rx, c[s], 1, 200);
			for (size_t s = 1; s <= PQ_FRAG_SLOTS; s++) {
				add_last(&rx, c[s], 2, 200);
				n++;
			}
			/* the evicted one: its pieces 1 and 2 make a new whole without 0 */
			add_kept(&rx, c[0], 1, 300);
			add_kept(&rx, c[0], 2, 300);
			pq_frag_rx_free(&rx);
		}
	pq_test_checked("wholes completed beside an evicted one", n);
}

/* Eviction by age, with late pieces to partial wholes in between: the one
 * whose first piece came first goes, not the one least recently touched,
 * nor the youngest. */
static void test_slots_evict_by_start(void **state)
{
	struct pq_frag_rx rx;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	for (size_t s = 0; s < 5; s++)
		cut_for(cuts[s], 500 + (uint32_t)s, 1524, HDR + 520); /* 3 pieces */
	for (size_t s = 0; s < PQ_FRAG_SLOTS; s++)
		add_kept(&rx, cuts[s], 0, 10 + s);
	add_kept(&rx, cuts[0], 1, 20); /* touched last, still started first */
	add_kept(&rx, cuts[4], 0, 21); /* takes cuts[0]'s slot */
	for (size_t s = 1; s < 5; s++) {
		add_kept(&rx, cuts[s], 1, 22);
		add_last(&rx, cuts[s], 2, 22);
	}
	add_kept(&rx, cuts[0], 2, 23); /* a new whole with piece 2 only */
	add_kept(&rx, cuts[0], 1, 23);
	pq_frag_rx_free(&rx);
	pq_test_checked("eviction by start, not by last use", 1);
}

/* A partial whole older than PQ_FRAG_TTL_MS: a piece of its id starts it
 * afresh (under any header), and a new id takes the stalest slot, not a
 * younger one (one restarted counts as young). */
static void test_slots_ttl(void **state)
{
	struct pq_frag_rx rx;
	const uint8_t *w;
	uint64_t t0 = 5000;

	(void)state;
	/* Same id, other header: refused within the TTL, a fresh start after. */
	memset(&rx, 0, sizeof(rx));
	cut_for(&ca, 9, 1524, 1400);
	cut_for(&cb, 9, 1000, 400);
	add_kept(&rx, &ca, 0, t0);
	add_refused(&rx, &cb, 1, t0 + PQ_FRAG_TTL_MS); /* not older than the TTL yet */
	add_refused(&rx, &ca, 0, t0 + PQ_FRAG_TTL_MS); /* a duplicate, still */
	add_refused(&rx, &cb, 1, 100);                 /* a clock that went back: not stale */
	add_kept(&rx, &cb, 1, t0 + PQ_FRAG_TTL_MS + 1); /* stale: cb starts afresh */
	add_kept(&rx, &cb, 0, t0 + PQ_FRAG_TTL_MS + 2);
	add_refused(&rx, &ca, 1, t0 + PQ_FRAG_TTL_MS + 3); /* ca is gone */
	add_last(&rx, &cb, 2, t0 + PQ_FRAG_TTL_MS + 3);
	pq_frag_rx_free(&rx);

	/* Same id, same header, stale: the old pieces are dropped, so a
	 * piece already in is taken again and the whole needs them all. */
	memset(&rx, 0, sizeof(rx));
	cut_for(&ca, 9, 1524, 600);
	add_kept(&rx, &ca, 0, t0);
	add_kept(&rx, &ca, 1, t0);
	add_kept(&rx, &ca, 0, t0 + PQ_FRAG_TTL_MS + 1);
	add_kept(&rx, &ca, 2, t0 + PQ_FRAG_TTL_MS + 1); /* 1 is not in any more */
	add_last(&rx, &ca, 1, t0 + PQ_FRAG_TTL_MS + 1);
	pq_frag_rx_free(&rx);

	/* Two partial wholes at t0, two at t0 + 1000; the first restarts
	 * after the TTL; a fifth id comes: the second (stale, started longest
	 * ago) gives way, not the restarted first. */
	memset(&rx, 0, sizeof(rx));
	for (size_t s = 0; s < 5; s++)
		cut_for(cuts[s], 900 + (uint32_t)s, 1524, 600);
	for (size_t s = 0; s < PQ_FRAG_SLOTS; s++)
		add_kept(&rx, cuts[s], 0, s < 2 ? t0 : t0 + 1000);
	add_kept(&rx, cuts[0], 1, t0 + 1500); /* stale: restarts, piece 0 given up */
	add_kept(&rx, cuts[4], 0, t0 + 1600);
	add_kept(&rx, cuts[0], 0, t0 + 1601);
	add_last(&rx, cuts[0], 2, t0 + 1602);
	for (size_t s = 2; s < 5; s++) {
		add_kept(&rx, cuts[s], 1, t0 + 1603);
		add_last(&rx, cuts[s], 2, t0 + 1603);
	}
	add_kept(&rx, cuts[1], 1, t0 + 1604); /* evicted: a new whole */
	assert_int_equal(add(&rx, cuts[1], 2, t0 + 1604, &w), 0);
	pq_frag_rx_free(&rx);

	/* A stale whole and three young ones: a new id takes the stale one. */
	memset(&rx, 0, sizeof(rx));
	add_kept(&rx, cuts[0], 0, t0);
	for (size_t s = 1; s < PQ_FRAG_SLOTS; s++)
		add_kept(&rx, cuts[s], 0, t0 + PQ_FRAG_TTL_MS + s);
	add_kept(&rx, cuts[4], 0, t0 + PQ_FRAG_TTL_MS + 10);
	for (size_t s = 1; s < 5; s++) {
		add_kept(&rx, cuts[s], 1, t0 + PQ_FRAG_TTL_MS + 11);
		add_last(&rx, cuts[s], 2, t0 + PQ_FRAG_TTL_MS + 11);
	}
	add_kept(&rx, cuts[0], 1, t0 + PQ_FRAG_TTL_MS + 12);
	add_kept(&rx, cuts[0], 2, t0 + PQ_FRAG_TTL_MS + 12);
	pq_frag_rx_free(&rx);
	pq_test_checked("TTL restarts and stale slots taken first", 4);
}

/* A completed whole frees its slot: with four partial wholes and one
 * completed, a fifth id evicts nobody. Repeated, so a slot goes round
 * many times. */
static void test_slots_freed_on_completion(void **state)
{
	struct pq_frag_rx rx;
	size_t n = 0;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	for (size_t s = 0; s < PQ_FRAG_SLOTS; s++) {
		cut_for(cuts[s], 300 + (uint32_t)s, 1524, 1000);
		add_kept(&rx, cuts[s], 0, 1);
	}
	for (uint32_t id = 0; id < 200; id++) {
		/* complete one of the partial wholes (often not the oldest:
		 * a slot kept after completion would then cost the oldest its
		 * place), start another */
		struct cut *done = cuts[rnd() % PQ_FRAG_SLOTS];
		size_t total = rnd_in(PQ_DATA_GSO_MIN_LEN, MAXT);

		finish(&rx, done, 1, 2 + id);
		n++;
		cut_for(done, 1000 + id, total, HDR + rnd_in(ceil_div(total, NP), total - 1));
		add_kept(&rx, done, 0, 2 + id);
	}
	/* and every slot's whole is still there */
	for (size_t s = 0; s < PQ_FRAG_SLOTS; s++) {
		finish(&rx, cuts[s], 1, 300);
		n++;
	}
	pq_frag_rx_free(&rx);
	pq_test_checked("wholes through slots freed by completion", n);
}

/* ---- a random run against a naive model (frag_model.h) ---- */


/* Senders at once: one more than the slots, so wholes are given up too. */
#define N_SND (PQ_FRAG_SLOTS + 1)

static void test_random_vs_model(void **state)
{
	/* senders: wholes being sent, each its pieces in a shuffled order */
	struct {
		struct cut *c;
		size_t ord[NP], next;
	} snd[N_SND];
	static uint8_t hostile[HDR + MAXT];
	struct pq_frag_rx rx;
	uint64_t now = 1000000;
	uint32_t next_id = 1;
	size_t n_done = 0, n_refused = 0, n_steps = 0;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	frag_model_reset();
	for (size_t s = 0; s < N_SND; s++) {
		snd[s].c = cuts[s];
		snd[s].next = NP; /* empty: a new whole first */
	}
	for (int step = 0; step < 40000; step++) {
		size_t s = rnd() % N_SND, i, kind;
		const uint8_t *pt, *w = NULL, *mw = NULL;
		size_t len;
		struct pq_frag_piece p;
		long r, mr;

		if (snd[s].next >= snd[s].c->count) {
			size_t total = rnd_in(PQ_DATA_GSO_MIN_LEN, rnd() % 4 ? 3000 : MAXT);
			/* ids from a small set now and then: a reused id */
			uint32_t id = rnd() % 8 ? next_id++ : rnd() % 4;

			cut_for(snd[s].c, id, total, HDR + rnd_in(ceil_div(total, NP), total - 1));
			for (size_t k = 0; k < snd[s].c->count; k++)
				snd[s].ord[k] = k;
			shuffle(snd[s].ord, snd[s].c->count);
			snd[s].next = 0;
		}
		kind = rnd() % 32;
		if (kind == 0) { /* lost */
			snd[s].next++;
			continue;
		}
		i = kind == 1 ? snd[s].ord[rnd() % snd[s].c->count] /* repeated */
		    : kind == 2 ? snd[s].ord[snd[s].next]          /* made hostile below */
				: snd[s].ord[snd[s].next++];
		pt = snd[s].c->pt[i];
		len = snd[s].c->len[i];
		if (kind == 2) { /* one header bit or the length changed */
			memcpy(hostile, pt, len);
			if (rnd() % 2)
				hostile[4 + rnd() % 5] ^= (uint8_t)(1u << (rnd() % 8));
			else
				len = rnd_in(0, len + 1);
			pt = hostile;
		}
		now += rnd() % 64 ? rnd() % 30 : PQ_FRAG_TTL_MS / 2 + rnd() % PQ_FRAG_TTL_MS;
		r = pq_frag_rx_add(&rx, pt, len, now, &w);
		mr = pq_frag_decode(&p, pt, len) ? PQ_E_DECODE : frag_model_add(&p, now, &mw);
		if (r != mr)
			fail_msg("step %d: rx_add %ld, model %ld", step, r, mr);
		if (r > 0) {
			assert_memory_equal(w, mw, (size_t)r);
			n_done++;
		}
		n_refused += r == PQ_E_DECODE;
		n_steps++;
	}
	pq_frag_rx_free(&rx);
	assert_true(n_done > 1000 && n_refused > 1000);
	printf("checked: %zu random pieces against the model: %zu wholes, %zu refused\n", n_steps, n_done,
	       n_refused);
}

/* ---- pq_frag_rx_free ---- */

static void test_rx_free(void **state)
{
	struct pq_frag_rx rx;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	pq_frag_rx_free(&rx); /* a zeroed struct: nothing to free */
	/* after use: four partial wholes, a fifth evicting, a completed one */
	for (size_t s = 0; s < 5; s++) {
		cut_for(cuts[s], 70 + (uint32_t)s, MAXT, 9000);
		add_kept(&rx, cuts[s], 0, s);
	}
	add_last(&rx, cuts[4], 1, 10);
	pq_frag_rx_free(&rx); /* ASan (make check-san) reports what is left */
	/* zeroed again, it is an empty one that works */
	memset(&rx, 0, sizeof(rx));
	add_kept(&rx, cuts[0], 0, 20);
	add_last(&rx, cuts[0], 1, 20);
	pq_frag_rx_free(&rx);
	pq_test_checked("rx_free on zeroed and used structs", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_sweep),
		cmocka_unit_test(test_plan_cases),
		cmocka_unit_test(test_encode_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_interleaved),
		cmocka_unit_test(test_missing_piece),
		cmocka_unit_test(test_duplicate_piece),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_disagreeing_header),
		cmocka_unit_test(test_slots_evict_oldest),
		cmocka_unit_test(test_slots_evict_by_start),
		cmocka_unit_test(test_slots_ttl),
		cmocka_unit_test(test_slots_freed_on_completion),
		cmocka_unit_test(test_random_vs_model),
		cmocka_unit_test(test_rx_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
