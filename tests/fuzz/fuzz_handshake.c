/*
 * fuzz_handshake.c - libFuzzer target driving two handshake engines and
 * their sessions (src/proto/handshake.c, hs_responder.c, session.c) with
 * arbitrary messages interleaved with valid ones.
 *
 * Nodes a and b allow each other and start from a fixed snapshot each
 * input (deterministic randomness, so runs reproduce). The input is a
 * script of at most MAX_OPS operations, so each input costs at most a few
 * ML-KEM operations:
 *   0 a initiates              4 raw bytes to a or b, with a chosen sender
 *   1 last HS_INIT -> peer     5 a valid message with a few bytes changed
 *   2 last HS_RESP -> peer     6 the clock moves forward
 *   3 last HS_FINISH -> peer   7 b initiates (crossing)
 * ("peer": the node that did not produce that message.) With bit 3 of the
 * operation byte set, 0, 1 and 7 first refill the acting node's pool of
 * precomputed key pairs (pq_hs_precompute), so pooled, made-on-the-spot
 * and expired pairs (the clock runs up to 62 s) all meet. With bit 4 set,
 * the receiving node answers first and checks the signature after
 * (pq_hs_receive_first + pq_hs_settle, as the node does).
 * Checks: no crash or leak; every reply has its exact size; whenever both
 * sides hold current keys with matching indices, data flows both ways.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FX_MAX_PEERS 1
#include "proto/hs_fixture.h"
#include "fuzz/fuzz.h"

#define MAX_OPS 8
#define T0 1700000000000ULL

static struct fx_node snap_a, snap_b, a, b;
static uint8_t last_init[PQ_HS_INIT_LEN], last_resp[PQ_HS_RESP_LEN], last_fin[PQ_HS_FINISH_LEN];
static uint8_t out[PQ_HS_INIT_LEN];
/* Who produced each last message; it is delivered to the other node. */
static struct fx_node *init_from, *resp_from, *fin_from;
static bool answer_first;  /* this operation: pq_hs_receive_first + pq_hs_settle */

static void setup_once(void)
{
	static int ready;

	if (ready)
		return;
	CHECK(fx_node_init(&snap_a, 1) == 0);
	CHECK(fx_node_init(&snap_b, 2) == 0);
	fx_allow(&snap_a, snap_b.pub, T0);
	fx_allow(&snap_b, snap_a.pub, T0);
	ready = 1;
}

static void restore(void)
{
	memcpy(&a, &snap_a, sizeof(a));
	memcpy(&b, &snap_b, sizeof(b));
	a.hs.cb.ctx = &a;
	b.hs.cb.ctx = &b;
	memset(last_init, 0, sizeof(last_init));
	memset(last_resp, 0, sizeof(last_resp));
	memset(last_fin, 0, sizeof(last_fin));
	init_from = &a;
	resp_from = &b;
	fin_from = &a;
}

static struct fx_node *other(const struct fx_node *n)
{
	return n == &a ? &b : &a;
}

/* Deliver msg to n; keep any reply of the expected kind as the "last" one. */
static void deliver(struct fx_node *n, const struct fx_node *from, const uint8_t *msg, size_t len, uint64_t now)
{
	struct pq_hs_result res;
	long r = answer_first ? fx_deliver_first(n, from, msg, len, now, out, sizeof(out), &res)
			      : fx_deliver(n, from, msg, len, now, out, sizeof(out), &res);

	if (r == PQ_HS_RESP_LEN) {
		CHECK(out[0] == PQ_MSG_HS_RESP);
		memcpy(last_resp, out, PQ_HS_RESP_LEN);
		resp_from = n;
	} else if (r == PQ_HS_FINISH_LEN) {
		CHECK(out[0] == PQ_MSG_HS_FINISH);
		memcpy(last_fin, out, PQ_HS_FINISH_LEN);
		fin_from = n;
	} else {
		CHECK(r <= 0);
	}
}

static void maybe_precompute(struct fx_node *n, uint8_t op, uint64_t now)
{
	if (op & 8)
		CHECK(pq_hs_precompute(&n->hs, now) >= 0);
}

static void initiate(struct fx_node *n, uint64_t now)
{
	CHECK(pq_hs_initiate(&n->hs, &n->peers[0], now, now, out, sizeof(out)) == PQ_HS_INIT_LEN);
	memcpy(last_init, out, PQ_HS_INIT_LEN);
	init_from = n;
}

static size_t take(const uint8_t **data, size_t *size, size_t want)
{
	size_t n = want < *size ? want : *size;

	*data += n;
	*size -= n;
	return n;
}

static void mutate_and_deliver(const uint8_t **data, size_t *size, uint64_t now)
{
	static uint8_t msg[PQ_HS_INIT_LEN];
	const uint8_t *p = *data;
	size_t n = take(data, size, 7), len;
	struct fx_node *to;

	if (n < 1)
		return;
	switch (p[0] % 3) {
	case 0: memcpy(msg, last_init, len = PQ_HS_INIT_LEN); to = other(init_from); break;
	case 1: memcpy(msg, last_resp, len = PQ_HS_RESP_LEN); to = other(resp_from); break;
	default: memcpy(msg, last_fin, len = PQ_HS_FINISH_LEN); to = other(fin_from); break;
	}
	/* Up to two (offset, xor) edits. */
	for (size_t i = 1; i + 2 < n; i += 3) {
		size_t off = ((size_t)p[i] << 8 | p[i + 1]) % len;

		msg[off] ^= p[i + 2] ? p[i + 2] : 1;
	}
	deliver(to, other(to), msg, len, now);
}

static void raw_deliver(const uint8_t **data, size_t *size, uint64_t now)
{
	const uint8_t *p = *data, *body;
	size_t n = take(data, size, 3), len;
	struct fx_node *to, *from;

	if (n < 3)
		return;
	to = p[0] & 1 ? &a : &b;
	from = p[0] & 2 ? other(to) : (p[0] & 4 ? to : NULL);
	body = *data;
	len = take(data, size, (size_t)p[1] << 8 | p[2]);
	deliver(to, from, body, len, now);
}

/* Matching current keys on both sides must carry data both ways. */
static void check_sessions(uint64_t now)
{
	struct pq_session *sa = &a.sess[0], *sb = &b.sess[0];
	uint8_t frame[PQ_DATA_MIN_LEN] = { 1 }, wire[PQ_DATA_MIN_LEN + PQ_SEALED_OVERHEAD], pt[PQ_DATA_MIN_LEN];
	uint8_t type;

	if (!sa->current || !sb->current || sa->current->remote_index != sb->current->local_index ||
	    sb->current->remote_index != sa->current->local_index)
		return;
	CHECK(pq_session_seal(sa, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), now) == (long)sizeof(wire));
	CHECK(pq_session_open(sb, wire, sizeof(wire), pt, sizeof(pt), now, &type) == (long)sizeof(pt));
	CHECK(pq_session_seal(sb, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), now) == (long)sizeof(wire));
	CHECK(pq_session_open(sa, wire, sizeof(wire), pt, sizeof(pt), now, &type) == (long)sizeof(pt));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = T0;

	setup_once();
	restore();
	for (int ops = 0; ops < MAX_OPS && size > 0; ops++) {
		uint8_t op = data[0];

		take(&data, &size, 1);
		answer_first = (op & 16) != 0;
		switch (op % 8) {
		case 0: maybe_precompute(&a, op, now); initiate(&a, now); break;
		case 1:
			maybe_precompute(other(init_from), op, now);
			deliver(other(init_from), init_from, last_init, sizeof(last_init), now);
			break;
		case 2: deliver(other(resp_from), resp_from, last_resp, sizeof(last_resp), now); break;
		case 3: deliver(other(fin_from), fin_from, last_fin, sizeof(last_fin), now); break;
		case 4: raw_deliver(&data, &size, now); break;
		case 5: mutate_and_deliver(&data, &size, now); break;
		case 6: now += (uint64_t)(op >> 3) * 250; break;
		default: maybe_precompute(&b, op, now); initiate(&b, now); break;
		}
	}
	check_sessions(now);
	pq_session_wipe(&a.sess[0]);
	pq_session_wipe(&b.sess[0]);
	return 0;
}
