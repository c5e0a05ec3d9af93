/*
 * test_l2.c - the MAC table and forwarding decisions of node/l2.h.
 *
 * Most cases are scripts: rows of one operation on a fresh table and what
 * it must give (drop reason, destination peers, flood flag, owner of a
 * MAC), with a fake clock in every row. Then the bounds: table full,
 * per-peer cap and the fair-share guarantee against a flooding peer; a
 * randomised run against a deliberately naive model of the same policy;
 * and SipHash-2-4 against the paper's published values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/l2.h"
#include "node/l2_hash.h"
#include "proto/types.h"
#include "testutil.h"

static const uint8_t hash_key[PQ_L2_HASH_KEY_LEN] = "0123456789abcdef";

/* ---- MACs by name: numbers 0-65535 are unicast hosts, negatives special ---- */

enum {
	M_BCAST = -100,  /* ff:ff:ff:ff:ff:ff */
	M_IPV4MC,        /* 01:00:5e:00:00:fb (mDNS) */
	M_IPV6MC,        /* 33:33:00:00:00:01 */
	M_GROUP3,        /* 03:00:00:00:00:07: group bit plus the U/L bit */
	M_ZERO,          /* 00:00:00:00:00:00 */
	M_GLOBAL,        /* 00:16:3e:12:34:56: a universally administered unicast */
};

static void mac_of(int id, uint8_t mac[6])
{
	static const uint8_t special[][6] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb },
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, { 0x03, 0x00, 0x00, 0x00, 0x00, 0x07 },
		{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 },
	};

	if (id < 0) {
		memcpy(mac, special[id - M_BCAST], 6);
		return;
	}
	/* locally administered unicast: 02:00:00:00:hi:lo */
	const uint8_t host[6] = { 0x02, 0, 0, 0, (uint8_t)(id >> 8), (uint8_t)id };
	memcpy(mac, host, 6);
}

/* An Ethernet frame dst, src, EtherType 0x0800, padded to len bytes. */
static size_t make_frame(uint8_t *buf, size_t len, int dst, int src)
{
	memset(buf, 0xab, len);
	if (len >= 6)
		mac_of(dst, buf);
	if (len >= 12)
		mac_of(src, buf + 6);
	if (len >= 14) {
		buf[12] = 0x08;
		buf[13] = 0x00;
	}
	return len;
}

/* ---- the scripted cases ---- */

enum op { PEER_IN, TAP_IN, OWNER, FORGET, EXPIRE };

#define NONE (-1)
#define P(n) (1u << (n))     /* peer sets as small bit masks */

struct row {
	enum op op;
	uint64_t now;
	int peer;               /* PEER_IN: sender; FORGET: whom */
	int dst, src;           /* MAC ids; OWNER: dst is the MAC asked */
	size_t len;             /* 0: 64 */
	unsigned established;   /* TAP_IN */
	enum pq_l2_drop want;   /* PEER_IN, TAP_IN */
	unsigned want_to;       /* TAP_IN on PASS */
	int want_flood;         /* TAP_IN on PASS */
	int want_owner;         /* OWNER: peer or NONE; EXPIRE: entries removed */
};

struct script {
	const char *name;
	const struct row *rows;
	size_t n;
};

#define AGE PQ_L2_AGE_MS
#define ALL3 (P(0) | P(1) | P(2))
#define B (2 * AGE)

static const struct row learn_rows[] = {
	{ PEER_IN, 10, 1, 7, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ OWNER, 10, 0, 100, 0, 0, 0, 0, 0, 0, 1 },
	{ TAP_IN, 11, 0, 100, 50, 0, ALL3, PQ_L2_PASS, P(1), 0, 0 },
	{ TAP_IN, 11, 0, 101, 50, 0, ALL3, PQ_L2_PASS, ALL3, 1, 0 },   /* unknown unicast */
	{ PEER_IN, 12, 2, M_BCAST, 101, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ TAP_IN, 13, 0, 101, 50, 0, ALL3, PQ_L2_PASS, P(2), 0, 0 },
	{ TAP_IN, 13, 0, 100, 50, 0, ALL3, PQ_L2_PASS, P(1), 0, 0 },
	{ PEER_IN, 14, 0, 100, M_GLOBAL, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ TAP_IN, 15, 0, M_GLOBAL, 50, 0, ALL3, PQ_L2_PASS, P(0), 0, 0 },
	{ OWNER, 15, 0, 50, 0, 0, 0, 0, 0, 0, NONE },                  /* TAP side never learned */
};

/* Seen at t, valid while now < t + AGE, gone at now == t + AGE. */
static const struct row aging_rows[] = {
	{ PEER_IN, 1000, 1, 7, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ OWNER, 1000 + AGE - 1, 0, 100, 0, 0, 0, 0, 0, 0, 1 },
	{ TAP_IN, 1000 + AGE - 1, 0, 100, 50, 0, ALL3, PQ_L2_PASS, P(1), 0, 0 },
	{ OWNER, 1000 + AGE, 0, 100, 0, 0, 0, 0, 0, 0, NONE },
	{ TAP_IN, 1000 + AGE, 0, 100, 50, 0, ALL3, PQ_L2_PASS, ALL3, 1, 0 },
	/* a refresh restarts the clock (B: a later start, time never goes back) */
	{ PEER_IN, B, 2, 7, 101, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ PEER_IN, B + AGE - 1, 2, 7, 101, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ OWNER, B + AGE, 0, 101, 0, 0, 0, 0, 0, 0, 2 },
	{ PEER_IN, B + AGE + 1000, 0, 7, 102, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	/* the sweep removes exactly the entries due */
	{ EXPIRE, B + 2 * AGE - 2, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ OWNER, B + 2 * AGE - 2, 0, 101, 0, 0, 0, 0, 0, 0, 2 },
	{ EXPIRE, B + 2 * AGE - 1, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ OWNER, B + 2 * AGE - 1, 0, 101, 0, 0, 0, 0, 0, 0, NONE },
	{ OWNER, B + 2 * AGE - 1, 0, 102, 0, 0, 0, 0, 0, 0, 0 },
	{ EXPIRE, B + 2 * AGE + 999, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ EXPIRE, B + 2 * AGE + 1000, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ OWNER, B + 2 * AGE + 1000, 0, 102, 0, 0, 0, 0, 0, 0, NONE },
};

/* Ownership (l2.h): a live entry does not move to another peer; the
 * spoofing frame is dropped and our unicast keeps going to the owner. */
static const struct row move_rows[] = {
	{ PEER_IN, 10, 1, M_BCAST, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ TAP_IN, 11, 0, 100, 50, 0, ALL3, PQ_L2_PASS, P(1), 0, 0 },
	{ PEER_IN, 12, 2, M_BCAST, 100, 0, 0, PQ_L2_DROP_MAC_OWNED, 0, 0, 0 },
	{ OWNER, 12, 0, 100, 0, 0, 0, 0, 0, 0, 1 },
	{ TAP_IN, 13, 0, 100, 50, 0, ALL3, PQ_L2_PASS, P(1), 0, 0 },
	/* the owner's frames refresh it: still refused just before 14 + AGE */
	{ PEER_IN, 14, 1, M_BCAST, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ PEER_IN, 14 + AGE - 1, 2, M_BCAST, 100, 0, 0, PQ_L2_DROP_MAC_OWNED, 0, 0, 0 },
	{ OWNER, 14 + AGE - 1, 0, 100, 0, 0, 0, 0, 0, 0, 1 },
	/* aged out: the host moved, the new peer gets it */
	{ PEER_IN, 14 + AGE, 2, M_BCAST, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ OWNER, 14 + AGE, 0, 100, 0, 0, 0, 0, 0, 0, 2 },
	{ TAP_IN, 15 + AGE, 0, 100, 50, 0, ALL3, PQ_L2_PASS, P(2), 0, 0 },
	/* the owner's session ended: free at once */
	{ FORGET, 16 + AGE, 2, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ PEER_IN, 16 + AGE, 1, M_BCAST, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ OWNER, 16 + AGE, 0, 100, 0, 0, 0, 0, 0, 0, 1 },
	/* a host now seen on the TAP side is local: no peer owns it */
	{ TAP_IN, 17 + AGE, 0, M_BCAST, 100, 0, ALL3, PQ_L2_PASS, ALL3, 1, 0 },
	{ OWNER, 17 + AGE, 0, 100, 0, 0, 0, 0, 0, 0, NONE },
};

/* Group destinations flood; the group bit alone decides, not the U/L bit. */
static const struct row group_rows[] = {
	{ PEER_IN, 10, 1, 7, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ TAP_IN, 11, 0, M_BCAST, 50, 0, ALL3, PQ_L2_PASS, ALL3, 1, 0 },
	{ TAP_IN, 11, 0, M_IPV4MC, 50, 0, ALL3, PQ_L2_PASS, ALL3, 1, 0 },
	{ TAP_IN, 11, 0, M_IPV6MC, 50, 0, ALL3, PQ_L2_PASS, ALL3, 1, 0 },
	{ TAP_IN, 11, 0, M_GROUP3, 50, 0, ALL3, PQ_L2_PASS, ALL3, 1, 0 },
	{ TAP_IN, 11, 0, 100, 50, 0, ALL3, PQ_L2_PASS, P(1), 0, 0 },   /* 02:..: unicast */
	/* group or zero sources are never learned, and dropped */
	{ PEER_IN, 12, 2, 7, M_BCAST, 0, 0, PQ_L2_DROP_BAD_SRC, 0, 0, 0 },
	{ PEER_IN, 12, 2, 7, M_IPV4MC, 0, 0, PQ_L2_DROP_BAD_SRC, 0, 0, 0 },
	{ PEER_IN, 12, 2, 7, M_IPV6MC, 0, 0, PQ_L2_DROP_BAD_SRC, 0, 0, 0 },
	{ PEER_IN, 12, 2, 7, M_GROUP3, 0, 0, PQ_L2_DROP_BAD_SRC, 0, 0, 0 },
	{ PEER_IN, 12, 2, 7, M_ZERO, 0, 0, PQ_L2_DROP_BAD_SRC, 0, 0, 0 },
	{ OWNER, 12, 0, M_BCAST, 0, 0, 0, 0, 0, 0, NONE },
	{ OWNER, 12, 0, M_IPV4MC, 0, 0, 0, 0, 0, 0, NONE },
	{ OWNER, 12, 0, M_GROUP3, 0, 0, 0, 0, 0, 0, NONE },
	{ OWNER, 12, 0, M_ZERO, 0, 0, 0, 0, 0, 0, NONE },
	{ TAP_IN, 13, 0, 7, M_BCAST, 0, ALL3, PQ_L2_DROP_BAD_SRC, 0, 0, 0 },
	{ TAP_IN, 13, 0, 7, M_ZERO, 0, ALL3, PQ_L2_DROP_BAD_SRC, 0, 0, 0 },
};

/* Lengths: 14 is the shortest frame, PQ_MAX_GSO_FRAME_LEN the longest. */
static const struct row length_rows[] = {
	{ PEER_IN, 10, 1, 7, 100, 13, 0, PQ_L2_DROP_RUNT, 0, 0, 0 },
	{ PEER_IN, 10, 1, 7, 100, 1, 0, PQ_L2_DROP_RUNT, 0, 0, 0 },
	{ OWNER, 10, 0, 100, 0, 0, 0, 0, 0, 0, NONE },
	{ PEER_IN, 10, 1, 7, 100, 14, 0, PQ_L2_PASS, 0, 0, 0 },
	{ PEER_IN, 10, 1, 7, 101, PQ_MAX_GSO_FRAME_LEN, 0, PQ_L2_PASS, 0, 0, 0 },
	{ PEER_IN, 10, 1, 7, 102, PQ_MAX_GSO_FRAME_LEN + 1, 0, PQ_L2_DROP_TOOBIG, 0, 0, 0 },
	{ OWNER, 10, 0, 102, 0, 0, 0, 0, 0, 0, NONE },
	{ TAP_IN, 11, 0, 100, 50, 13, ALL3, PQ_L2_DROP_RUNT, 0, 0, 0 },
	{ TAP_IN, 11, 0, 100, 50, 14, ALL3, PQ_L2_PASS, P(1), 0, 0 },
	{ TAP_IN, 11, 0, 100, 50, PQ_MAX_GSO_FRAME_LEN, ALL3, PQ_L2_PASS, P(1), 0, 0 },
	{ TAP_IN, 11, 0, 100, 50, PQ_MAX_GSO_FRAME_LEN + 1, ALL3, PQ_L2_DROP_TOOBIG, 0, 0, 0 },
	{ PEER_IN, 12, 9, 7, 103, 0, 0, PQ_L2_DROP_BAD_PEER, 0, 0, 0 },   /* max_peers is 8 */
	{ OWNER, 12, 0, 103, 0, 0, 0, 0, 0, 0, NONE },
};

/* Floods go to established peers only; a known MAC of a peer that is not
 * established is flooded; nobody established: dropped. */
static const struct row established_rows[] = {
	{ PEER_IN, 10, 1, 7, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ TAP_IN, 11, 0, M_BCAST, 50, 0, P(0) | P(2) | P(7), PQ_L2_PASS, P(0) | P(2) | P(7), 1, 0 },
	{ TAP_IN, 11, 0, 100, 50, 0, P(0) | P(2), PQ_L2_PASS, P(0) | P(2), 1, 0 },
	{ TAP_IN, 11, 0, 100, 50, 0, P(1), PQ_L2_PASS, P(1), 0, 0 },
	{ TAP_IN, 11, 0, M_BCAST, 50, 0, 0, PQ_L2_DROP_NO_PEER, 0, 0, 0 },
	{ TAP_IN, 11, 0, 101, 50, 0, 0, PQ_L2_DROP_NO_PEER, 0, 0, 0 },
	/* ids at or above max_peers (8) are not ours to flood to */
	{ TAP_IN, 11, 0, M_BCAST, 50, 0, P(8) | P(9), PQ_L2_DROP_NO_PEER, 0, 0, 0 },
	{ FORGET, 12, 1, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ OWNER, 12, 0, 100, 0, 0, 0, 0, 0, 0, NONE },
	{ TAP_IN, 12, 0, 100, 50, 0, ALL3, PQ_L2_PASS, ALL3, 1, 0 },
};

/* A frame from a peer goes to the TAP only, whatever its destination:
 * pq_l2_from_peer has no peer set to return, and the table's answer for
 * the TAP direction is unchanged by it (except learning its source). */
static const struct row no_transit_rows[] = {
	{ PEER_IN, 10, 2, M_BCAST, 200, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ PEER_IN, 11, 1, 200, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },     /* dst known at peer 2 */
	{ PEER_IN, 11, 1, 999, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },     /* dst unknown */
	{ PEER_IN, 11, 1, M_BCAST, 100, 0, 0, PQ_L2_PASS, 0, 0, 0 },
	{ OWNER, 11, 0, 200, 0, 0, 0, 0, 0, 0, 2 },
	{ OWNER, 11, 0, 100, 0, 0, 0, 0, 0, 0, 1 },
};

static const struct script scripts[] = {
	{ "learn", learn_rows, sizeof(learn_rows) / sizeof(learn_rows[0]) },
	{ "aging", aging_rows, sizeof(aging_rows) / sizeof(aging_rows[0]) },
	{ "move", move_rows, sizeof(move_rows) / sizeof(move_rows[0]) },
	{ "group", group_rows, sizeof(group_rows) / sizeof(group_rows[0]) },
	{ "length", length_rows, sizeof(length_rows) / sizeof(length_rows[0]) },
	{ "established", established_rows, sizeof(established_rows) / sizeof(established_rows[0]) },
	{ "no_transit", no_transit_rows, sizeof(no_transit_rows) / sizeof(no_transit_rows[0]) },
};

static struct pq_l2_peerset set_of(unsigned mask)
{
	struct pq_l2_peerset s;

	pq_l2_peerset_clear(&s);
	for (uint32_t p = 0; p < 32; p++)
		if (mask & (1u << p))
			pq_l2_peerset_add(&s, p);
	return s;
}

static struct pq_l2 *new_table(uint32_t peers, uint32_t entries, uint32_t per_peer)
{
	struct pq_l2_limits lim;
	struct pq_l2 *t = NULL;

	pq_l2_limits_default(&lim, peers);
	if (entries)
		lim.max_entries = entries;
	if (per_peer)
		lim.per_peer_max = per_peer;
	assert_int_equal(pq_l2_new(&t, &lim, hash_key), 0);
	return t;
}

static void run_row(struct pq_l2 *t, const struct script *s, size_t i)
{
	static uint8_t frame[PQ_MAX_GSO_FRAME_LEN + 1];
	const struct row *r = &s->rows[i];
	size_t len = r->len ? r->len : 64;
	struct pq_l2_peerset est = set_of(r->established), want_to = set_of(r->want_to);
	struct pq_l2_out out;
	uint8_t mac[6];
	uint32_t owner;
	enum pq_l2_drop got;

	switch (r->op) {
	case PEER_IN:
		got = pq_l2_from_peer(t, (uint32_t)r->peer, frame, make_frame(frame, len, r->dst, r->src),
				      r->now);
		if (got != r->want)
			fail_msg("%s row %zu: from_peer gave %s, want %s", s->name, i,
				 pq_l2_drop_name(got), pq_l2_drop_name(r->want));
		break;
	case TAP_IN:
		got = pq_l2_from_tap(t, frame, make_frame(frame, len, r->dst, r->src), &est, r->now, &out);
		if (got != r->want)
			fail_msg("%s row %zu: from_tap gave %s, want %s", s->name, i,
				 pq_l2_drop_name(got), pq_l2_drop_name(r->want));
		if (got == PQ_L2_PASS &&
		    (memcmp(&out.to, &want_to, sizeof(want_to)) != 0 || out.flooded != r->want_flood))
			fail_msg("%s row %zu: sent to %#llx flooded %d, want %#x flooded %d", s->name, i,
				 (unsigned long long)out.to.bits[0], out.flooded, r->want_to,
				 r->want_flood);
		if (got != PQ_L2_PASS && pq_l2_peerset_count(&out.to) != 0)
			fail_msg("%s row %zu: a dropped frame has destinations", s->name, i);
		break;
	case OWNER:
		mac_of(r->dst, mac);
		if (pq_l2_lookup(t, mac, r->now, &owner) != 0)
			owner = (uint32_t)NONE;
		if ((int)owner != r->want_owner)
			fail_msg("%s row %zu: owner %d, want %d", s->name, i, (int)owner, r->want_owner);
		break;
	case FORGET:
		pq_l2_forget_peer(t, (uint32_t)r->peer);
		break;
	case EXPIRE:
		if ((int)pq_l2_expire(t, r->now) != r->want_owner)
			fail_msg("%s row %zu: expire removed a different count", s->name, i);
		break;
	}
}

static void test_scripts(void **state)
{
	size_t rows = 0;

	for (size_t s = 0; s < sizeof(scripts) / sizeof(scripts[0]); s++) {
		struct pq_l2 *t = new_table(8, 0, 0);

		for (size_t i = 0; i < scripts[s].n; i++, rows++)
			run_row(t, &scripts[s], i);
		pq_l2_free(t);
	}
	pq_test_checked("l2 script rows", rows);
}

/* ---- bounds ---- */

static void peer_learns(struct pq_l2 *t, uint32_t peer, int mac, uint64_t now)
{
	uint8_t frame[64];

	assert_int_equal(pq_l2_from_peer(t, peer, frame, make_frame(frame, 64, M_BCAST, mac), now),
			 PQ_L2_PASS);
}

/* A broadcast frame from MAC id src (a static buffer: one at a time). */
static const uint8_t *frame_from(int src)
{
	static uint8_t frame[64];

	make_frame(frame, 64, M_BCAST, src);
	return frame;
}

static int owner_of(struct pq_l2 *t, int mac, uint64_t now)
{
	uint8_t m[6];
	uint32_t owner;

	mac_of(mac, m);
	return pq_l2_lookup(t, m, now, &owner) == 0 ? (int)owner : NONE;
}

/* A peer at its cap recycles its own least recently seen entry. */
static void test_per_peer_cap(void **state)
{
	struct pq_l2 *t = new_table(4, 64, 4);

	for (int m = 0; m < 4; m++)
		peer_learns(t, 0, 100 + m, 10 + (uint64_t)m);
	peer_learns(t, 1, 200, 20);
	peer_learns(t, 0, 100, 30);            /* refresh: 101 is now the oldest */
	peer_learns(t, 0, 104, 31);
	assert_int_equal(pq_l2_peer_count(t, 0), 4);
	assert_int_equal(owner_of(t, 101, 31), NONE);
	assert_int_equal(owner_of(t, 100, 31), 0);
	assert_int_equal(owner_of(t, 104, 31), 0);
	assert_int_equal(owner_of(t, 200, 31), 1);
	/* another peer's live MAC is refused: nothing recycled for it */
	assert_int_equal(pq_l2_from_peer(t, 0, frame_from(200), 64, 32), PQ_L2_DROP_MAC_OWNED);
	assert_int_equal(owner_of(t, 200, 32), 1);
	assert_int_equal(pq_l2_peer_count(t, 0), 4);
	assert_int_equal(pq_l2_stats(t)->move_refused, 1);
	/* moving an aged-out MAC to a peer at its cap costs that peer its
	 * oldest: refresh peer 0's four (102 first: the oldest), then take 200 */
	peer_learns(t, 0, 102, 20 + AGE - 10);
	peer_learns(t, 0, 103, 20 + AGE - 9);
	peer_learns(t, 0, 104, 20 + AGE - 8);
	peer_learns(t, 0, 100, 20 + AGE - 7);
	peer_learns(t, 0, 200, 20 + AGE);
	assert_int_equal(owner_of(t, 200, 20 + AGE), 0);
	assert_int_equal(owner_of(t, 102, 20 + AGE), NONE);
	assert_int_equal(owner_of(t, 103, 20 + AGE), 0);
	assert_int_equal(pq_l2_peer_count(t, 0), 4);
	assert_int_equal(pq_l2_peer_count(t, 1), 0);
	assert_int_equal(pq_l2_stats(t)->recycled, 2);
	assert_int_equal(pq_l2_stats(t)->moved, 1);
	pq_l2_free(t);
	pq_test_checked("l2 per-peer cap", 16);
}

/* Full table: expired entries go first, then the biggest peer's oldest. */
static void test_table_full(void **state)
{
	struct pq_l2 *t = new_table(4, 8, 8);

	for (int m = 0; m < 5; m++)
		peer_learns(t, 0, 100 + m, 1000 + (uint64_t)m);
	for (int m = 0; m < 3; m++)
		peer_learns(t, 1, 200 + m, 2000 + (uint64_t)m);
	assert_int_equal(pq_l2_count(t), 8);
	peer_learns(t, 2, 300, 3000);          /* peer 0 is the biggest */
	assert_int_equal(owner_of(t, 100, 3000), NONE);
	assert_int_equal(pq_l2_peer_count(t, 0), 4);
	assert_int_equal(pq_l2_stats(t)->evicted, 1);
	/* once peer 0's first entries are due, they are reclaimed instead */
	peer_learns(t, 2, 301, 1001 + AGE);
	assert_int_equal(pq_l2_count(t), 8);   /* 101 expired and was swept */
	assert_int_equal(owner_of(t, 101, 1001 + AGE), NONE);
	assert_int_equal(owner_of(t, 102, 1001 + AGE), 0);
	assert_int_equal(owner_of(t, 301, 1001 + AGE), 2);
	assert_int_equal(pq_l2_stats(t)->evicted, 1);
	assert_int_equal(pq_l2_stats(t)->expired, 1);
	pq_l2_free(t);
	pq_test_checked("l2 table full", 11);
}

/* A peer spraying source MACs cannot push an honest peer below its fair
 * share: with 64 entries and 4 peers, every peer keeps 16. */
static void test_flooding_peer(void **state)
{
	struct pq_l2 *t = new_table(4, 64, 64);
	size_t checks = 0;

	for (int m = 0; m < 16; m++)
		peer_learns(t, 1, 100 + m, 10);
	for (int m = 0; m < 5; m++)
		peer_learns(t, 2, 200 + m, 10);
	for (int m = 0; m < 5000; m++) {
		peer_learns(t, 3, 1000 + m % 3000, 20 + (uint64_t)m);
		assert_true(pq_l2_count(t) <= 64);
	}
	for (int m = 0; m < 16; m++, checks++)
		assert_int_equal(owner_of(t, 100 + m, 6000), 1);
	for (int m = 0; m < 5; m++, checks++)
		assert_int_equal(owner_of(t, 200 + m, 6000), 2);
	assert_int_equal(pq_l2_peer_count(t, 3), 64 - 16 - 5);
	/* two peers flooding at once share what the honest ones leave */
	for (int m = 0; m < 4000; m++) {
		peer_learns(t, (uint32_t)(m % 2 ? 3 : 0), 5000 + m, 7000 + (uint64_t)m);
	}
	for (int m = 0; m < 16; m++, checks++)
		assert_int_equal(owner_of(t, 100 + m, 12000), 1);
	assert_int_equal(pq_l2_peer_count(t, 2), 5);
	assert_true(pq_l2_peer_count(t, 0) >= 16 && pq_l2_peer_count(t, 3) >= 16);
	pq_l2_free(t);
	pq_test_checked("l2 flooding peer", checks + 2);
}

static void test_bad_limits(void **state)
{
	struct pq_l2_limits lim;
	struct pq_l2 *t = (struct pq_l2 *)&lim;
	uint64_t when;

	pq_l2_limits_default(&lim, 0);
	assert_int_equal(pq_l2_new(&t, &lim, hash_key), PQ_E_INVAL);
	assert_null(t);
	pq_l2_limits_default(&lim, PQ_L2_MAX_PEERS + 1);
	assert_int_equal(pq_l2_new(&t, &lim, hash_key), PQ_E_INVAL);
	pq_l2_limits_default(&lim, 4);
	lim.per_peer_max = lim.max_entries + 1;
	assert_int_equal(pq_l2_new(&t, &lim, hash_key), PQ_E_INVAL);
	pq_l2_limits_default(&lim, 4);
	lim.age_ms = 0;
	assert_int_equal(pq_l2_new(&t, &lim, hash_key), PQ_E_INVAL);
	pq_l2_limits_default(&lim, PQ_L2_MAX_PEERS);
	assert_int_equal(pq_l2_new(&t, &lim, hash_key), 0);
	assert_false(pq_l2_next_expiry(t, &when));
	peer_learns(t, PQ_L2_MAX_PEERS - 1, 100, 50);
	peer_learns(t, 3, 101, 40);
	assert_true(pq_l2_next_expiry(t, &when));
	assert_int_equal(when, 40 + AGE);
	pq_l2_free(t);
	pq_test_checked("l2 limits", 7);
}

/* Pinned MACs (allowed_mac): only those from that peer, and never from
 * another peer, learned or not. */
static void test_pins(void **state)
{
	struct pq_l2 *t = new_table(4, 64, 16);
	uint8_t pins[PQ_L2_MAX_PINS_PER_PEER + 1][6], bad[1][6];

	mac_of(100, pins[0]);
	mac_of(101, pins[1]);
	assert_int_equal(pq_l2_pin(t, 1, (const uint8_t(*)[6])pins, 2), 0);
	assert_int_equal(pq_l2_from_peer(t, 1, frame_from(102), 64, 10), PQ_L2_DROP_NOT_PINNED);
	assert_int_equal(owner_of(t, 102, 10), NONE);
	assert_int_equal(pq_l2_from_peer(t, 1, frame_from(100), 64, 10), PQ_L2_PASS);
	assert_int_equal(owner_of(t, 100, 10), 1);
	/* 101 is pinned to peer 1 though never seen: nobody else may use it */
	assert_int_equal(pq_l2_from_peer(t, 2, frame_from(101), 64, 11), PQ_L2_DROP_MAC_OWNED);
	assert_int_equal(owner_of(t, 101, 11), NONE);
	assert_int_equal(pq_l2_from_peer(t, 2, frame_from(103), 64, 11), PQ_L2_PASS);
	assert_int_equal(pq_l2_stats(t)->drops[PQ_L2_DROP_NOT_PINNED], 1);
	assert_int_equal(pq_l2_stats(t)->drops[PQ_L2_DROP_MAC_OWNED], 1);
	/* refused pins */
	mac_of(M_BCAST, bad[0]);
	assert_int_equal(pq_l2_pin(t, 2, (const uint8_t(*)[6])bad, 1), PQ_E_INVAL);
	mac_of(M_ZERO, bad[0]);
	assert_int_equal(pq_l2_pin(t, 2, (const uint8_t(*)[6])bad, 1), PQ_E_INVAL);
	assert_int_equal(pq_l2_pin(t, 2, (const uint8_t(*)[6])&pins[1], 1), PQ_E_INVAL);
	assert_int_equal(pq_l2_pin(t, 4, (const uint8_t(*)[6])pins, 1), PQ_E_INVAL);
	for (int i = 0; i <= PQ_L2_MAX_PINS_PER_PEER; i++)
		mac_of(300 + i, pins[i]);
	assert_int_equal(pq_l2_pin(t, 3, (const uint8_t(*)[6])pins, PQ_L2_MAX_PINS_PER_PEER + 1),
			 PQ_E_INVAL);
	/* unpinned again: any source */
	assert_int_equal(pq_l2_pin(t, 1, NULL, 0), 0);
	assert_int_equal(pq_l2_from_peer(t, 1, frame_from(102), 64, 12), PQ_L2_PASS);
	assert_int_equal(pq_l2_from_peer(t, 2, frame_from(101), 64, 12), PQ_L2_PASS);
	pq_l2_free(t);
	pq_test_checked("l2 pins", 20);
}

/* ---- a randomised run against a naive model of the same policy ---- */

struct naive {
	int mac, peer;           /* peer NONE: free */
	uint64_t seen, stamp;    /* stamp orders equal seen times */
};

#define NV_CAP 24
#define NV_PEERS 4
#define NV_PER 10

static int nv_oldest(const struct naive *nv, int peer, uint64_t now, int expired_only)
{
	int best = NONE;

	for (int i = 0; i < NV_CAP; i++) {
		if (nv[i].peer == NONE || (peer != NONE && nv[i].peer != peer))
			continue;
		if (expired_only && now - nv[i].seen < AGE)
			continue;
		if (best == NONE || nv[i].stamp < nv[best].stamp)
			best = i;
	}
	return best;
}

/* false: refused, another peer's live entry owns mac (nothing changes) */
static bool nv_learn(struct naive *nv, int peer, int mac, uint64_t now, uint64_t stamp)
{
	int count[NV_PEERS] = { 0 }, total = 0, slot = NONE, big = 0, i;

	for (i = 0; i < NV_CAP; i++) {
		if (nv[i].peer == NONE)
			continue;
		count[nv[i].peer]++;
		total++;
		if (nv[i].mac == mac)
			slot = i;
	}
	if (slot != NONE && nv[slot].peer != peer && now - nv[slot].seen < AGE)
		return false;
	if (slot == NONE || nv[slot].peer != peer) {
		if (count[peer] >= NV_PER) {
			nv[nv_oldest(nv, peer, now, 0)].peer = NONE;
		} else if (slot == NONE && total == NV_CAP) {
			int swept = 0;
			while ((i = nv_oldest(nv, NONE, now, 1)) != NONE) {
				nv[i].peer = NONE;
				swept++;
			}
			if (!swept) {
				for (int p = 1; p < NV_PEERS; p++)
					if (count[p] > count[big])
						big = p;
				nv[nv_oldest(nv, big, now, 0)].peer = NONE;
			}
		}
	}
	if (slot == NONE)
		for (slot = 0; nv[slot].peer != NONE; slot++)
			;
	nv[slot] = (struct naive){ mac, peer, now, stamp };
	return true;
}

static void test_against_naive(void **state)
{
	struct pq_l2 *t = new_table(NV_PEERS, NV_CAP, NV_PER);
	struct naive nv[NV_CAP];
	uint64_t now = 1, rng = 0x9e3779b97f4a7c15ull;
	size_t checks = 0;

	for (int i = 0; i < NV_CAP; i++)
		nv[i].peer = NONE;
	for (uint64_t step = 1; step <= 20000; step++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		int peer = (int)(rng % NV_PEERS);
		int mac = (int)(rng >> 8) % (peer == 3 ? 60 : 16) + 100;
		now += (rng >> 40) % 1000 == 0 ? AGE / 2 : (rng >> 20) % 50;
		uint8_t frame[64];
		enum pq_l2_drop got = pq_l2_from_peer(t, (uint32_t)peer, frame,
						      make_frame(frame, 64, M_BCAST, mac), now);

		if ((got == PQ_L2_PASS) != nv_learn(nv, peer, mac, now, step) ||
		    (got != PQ_L2_PASS && got != PQ_L2_DROP_MAC_OWNED))
			fail_msg("step %llu: table gave %s", (unsigned long long)step, pq_l2_drop_name(got));
		for (int m = 100; m < 160; m++, checks++) {
			int want = NONE;
			for (int i = 0; i < NV_CAP; i++)
				if (nv[i].peer != NONE && nv[i].mac == m && now - nv[i].seen < AGE)
					want = nv[i].peer;
			if (owner_of(t, m, now) != want)
				fail_msg("step %llu mac %d: table says %d, model %d",
					 (unsigned long long)step, m, owner_of(t, m, now), want);
		}
	}
	pq_l2_free(t);
	pq_test_checked("l2 lookups against the naive model", checks);
}

/* ---- SipHash-2-4: the paper's Appendix A and the reference vectors ---- */

static void test_siphash(void **state)
{
	uint8_t key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	assert_true(pq_siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
	assert_true(pq_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull);
	assert_true(pq_siphash24(key, msg, 8) == 0x93f5f5799a932462ull);
	pq_test_checked("siphash-2-4 vectors", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_per_peer_cap),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_flooding_peer),
		cmocka_unit_test(test_bad_limits),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_against_naive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
