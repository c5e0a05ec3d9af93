/*
 * fuzz_l2.c - libFuzzer target for the MAC table (node/l2.h).
 *
 * Input: bytes 0-2 pick the limits (peers 1-8, entries 1-32, per-peer cap
 * 1-entries), then 4-byte operations: kind, peer, source MAC byte,
 * destination MAC byte (a MAC byte gives the first octet's group and U/L
 * bits and the last octet, so group, zero and colliding MACs all occur);
 * the kind's high bits advance the fake clock.
 * Checks: no crash; entry counts within the limits and consistent; a
 * passed peer frame's source is then owned by that peer; a passed TAP
 * frame goes to a non-empty subset of the established peers, to exactly
 * one unless flooded, and its source is owned by no peer afterwards.
 *
 * Seeds: tests/fuzz/corpus/fuzz_l2, written by gen_corpus.c (make
 * fuzz-corpus), which reads this format too: keep them in step.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/l2.h"
#include "fuzz/fuzz.h"

static void mac_from(uint8_t b, uint8_t mac[6])
{
	memset(mac, 0, 6);
	mac[0] = b & 3;
	mac[5] = b >> 2;
}

static void check_counts(const struct pq_l2 *t, const struct pq_l2_limits *lim)
{
	size_t sum = 0;

	for (uint32_t p = 0; p < lim->max_peers; p++) {
		CHECK(pq_l2_peer_count(t, p) <= lim->per_peer_max);
		sum += pq_l2_peer_count(t, p);
	}
	CHECK(sum == pq_l2_count(t) && sum <= lim->max_entries);
}

static void check_tap_out(const struct pq_l2_out *out, const struct pq_l2_peerset *est,
			  uint32_t max_peers)
{
	size_t n = pq_l2_peerset_count(&out->to);

	CHECK(n >= 1 && (out->flooded || n == 1));
	for (uint32_t p = 0; p < PQ_L2_MAX_PEERS; p++)
		if (pq_l2_peerset_has(&out->to, p))
			CHECK(p < max_peers && pq_l2_peerset_has(est, p));
}

static void run_op(struct pq_l2 *t, const struct pq_l2_limits *lim, const uint8_t op[4],
		   uint64_t now)
{
	uint8_t frame[64] = { 0 };
	struct pq_l2_peerset est;
	struct pq_l2_out out;
	uint32_t peer = op[1] % (lim->max_peers + 1), owner;  /* one past: a bad id */

	mac_from(op[3], frame);
	mac_from(op[2], frame + 6);
	switch (op[0] & 3) {
	case 0:
		if (pq_l2_from_peer(t, peer, frame, 14 + op[1] % 3 * 25, now) == PQ_L2_PASS)
			CHECK(pq_l2_lookup(t, frame + 6, now, &owner) == 0 && owner == peer);
		break;
	case 1:
		pq_l2_peerset_clear(&est);
		est.bits[0] = op[1];   /* includes ids past max_peers */
		if (pq_l2_from_tap(t, frame, op[1] & 0x80 ? 13 : 60, &est, now, &out) == PQ_L2_PASS) {
			check_tap_out(&out, &est, lim->max_peers);
			CHECK(pq_l2_lookup(t, frame + 6, now, &owner) != 0);
		}
		break;
	case 2:
		pq_l2_forget_peer(t, peer);
		CHECK(pq_l2_peer_count(t, peer) == 0);
		break;
	default:
		(void)pq_l2_expire(t, now);
		break;
	}
	check_counts(t, lim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[PQ_L2_HASH_KEY_LEN] = { 1, 2, 3 };
	struct pq_l2_limits lim;
	struct pq_l2 *t = NULL;
	uint64_t now = 0;

	if (size < 3)
		return 0;
	pq_l2_limits_default(&lim, 1 + data[0] % 8);
	lim.max_entries = 1 + data[1] % 32;
	lim.per_peer_max = 1 + data[2] % lim.max_entries;
	lim.age_ms = 1000;
	CHECK(pq_l2_new(&t, &lim, key) == 0);
	for (size_t off = 3; off + 4 <= size; off += 4) {
		now += (uint64_t)(data[off] >> 2) * 17;
		run_op(t, &lim, data + off, now);
	}
	pq_l2_free(t);
	return 0;
}
