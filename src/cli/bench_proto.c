/*
 * bench_proto.c - protocol figures for `pqlan bench`: a whole hybrid
 * handshake and a whole re-handshake, both sides in one process, driven by
 * a fake clock so no rate limit or freshness rule interferes.
 * handshake_cpu_us makes the ephemeral key pairs on the spot (the whole
 * cost); handshake_path_us refills both nodes' pools of precomputed pairs
 * before each handshake, untimed, as a node does while idle (issue 13):
 * what is left is the handshake's critical path.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench.h"
#include "crypto/ed25519.h"
#include "crypto/util.h"
#include "proto/challenge_cache.h"
#include "proto/handshake.h"
#include "proto/msg_handshake.h"
#include "proto/rehandshake.h"

struct bench_node {
	struct pq_signer *signer;
	struct pq_hs hs;
	struct pq_hs_peer peer;  /* the other node */
};

struct hs_bench {
	struct bench_node a, b;
	uint64_t now_ms;
	uint8_t buf1[PQ_HS_INIT_LEN], buf2[PQ_HS_INIT_LEN];
};

static struct pq_hs_peer *lookup_peer(void *ctx, const uint8_t pub[PQ_PUBKEY_LEN])
{
	struct bench_node *n = ctx;

	return memcmp(pub, n->peer.pub, PQ_PUBKEY_LEN) ? NULL : &n->peer;
}

static int node_setup(struct bench_node *n)
{
	struct pq_hs_callbacks cb = { .ctx = n, .lookup = lookup_peer };
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int ret = pq_ed25519_generate(priv);

	if (!ret)
		ret = pq_signer_new(&n->signer, priv);
	if (!ret)
		ret = pq_hs_init(&n->hs, n->signer, &cb);
	pq_wipe(priv, sizeof(priv));
	return ret;
}

static void node_free(struct bench_node *n)
{
	pq_hs_wipe(&n->hs);
	pq_hs_peer_wipe(&n->peer);
	pq_signer_free(n->signer);
}

/* a initiates, b responds; both end with confirmed keys. */
static int op_handshake(void *ctx)
{
	struct hs_bench *h = ctx;
	struct pq_hs_result ra, rb;
	long n1, n2, n3;
	int ret = -1;

	/* One simulated second per run keeps the rate limit's bucket full. */
	h->now_ms += 1000;
	n1 = pq_hs_initiate(&h->a.hs, &h->a.peer, h->now_ms, h->now_ms, h->buf1, sizeof(h->buf1));
	if (n1 <= 0)
		return -1;
	n2 = pq_hs_receive(&h->b.hs, pq_signer_public(h->a.signer), h->buf1, (size_t)n1, h->now_ms, h->now_ms,
			   h->buf2, sizeof(h->buf2), &rb);
	pq_hs_result_wipe(&rb);
	if (n2 <= 0)
		return -1;
	n3 = pq_hs_receive(&h->a.hs, pq_signer_public(h->b.signer), h->buf2, (size_t)n2, h->now_ms, h->now_ms,
			   h->buf1, sizeof(h->buf1), &ra);
	if (n3 <= 0 || ra.event != PQ_HS_EV_KEYS)
		goto out;
	pq_hs_result_wipe(&ra);
	if (pq_hs_receive(&h->b.hs, pq_signer_public(h->a.signer), h->buf1, (size_t)n3, h->now_ms, h->now_ms,
			  h->buf2, sizeof(h->buf2), &rb) < 0 || rb.event != PQ_HS_EV_CONFIRMED)
		goto out;
	ret = 0;
out:
	pq_hs_result_wipe(&ra);
	pq_hs_result_wipe(&rb);
	return ret;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median over BENCH_BATCHES batches of the mean time of one handshake,
 * the pools refilled between handshakes outside the timed part. */
static double time_pooled_handshakes(struct hs_bench *h)
{
	enum { PER_BATCH = 40 };
	double batch[BENCH_BATCHES];

	for (int b = 0; b < BENCH_BATCHES; b++) {
		uint64_t sum = 0;

		for (int i = 0; i < PER_BATCH; i++) {
			uint64_t t0;

			if (pq_hs_precompute(&h->a.hs, h->now_ms + 1000) < 0 ||
			    pq_hs_precompute(&h->b.hs, h->now_ms + 1000) < 0)
				return -1;
			t0 = now_ns();
			if (op_handshake(h))
				return -1;
			sum += now_ns() - t0;
		}
		batch[b] = (double)sum / PER_BATCH;
	}
	qsort(batch, BENCH_BATCHES, sizeof(batch[0]), cmp_double);
	return batch[BENCH_BATCHES / 2];
}

int bench_handshake(struct bench_result *out, int *n, int cap)
{
	static struct hs_bench h;
	double ns;
	int ret = -1;

	bench_failed = "hybrid handshake";
	memset(&h, 0, sizeof(h));
	h.now_ms = 1700000000000ull;
	if (node_setup(&h.a) || node_setup(&h.b))
		goto out;
	pq_hs_peer_init(&h.a.peer, pq_signer_public(h.b.signer), h.now_ms);
	pq_hs_peer_init(&h.b.peer, pq_signer_public(h.a.signer), h.now_ms);
	ns = bench_time_op(op_handshake, &h);
	if (bench_add(out, n, cap, "handshake_cpu_us", "us", ns < 0 ? -1 : ns / 1000.0))
		goto out;
	ns = time_pooled_handshakes(&h);
	if (bench_add(out, n, cap, "handshake_path_us", "us", ns < 0 ? -1 : ns / 1000.0))
		goto out;
	ret = 0;
out:
	node_free(&h.a);
	node_free(&h.b);
	return ret;
}

struct rehs_bench {
	uint8_t session_id[PQ_SESSION_ID_LEN], key_i2r[PQ_KEY_LEN], key_r2i[PQ_KEY_LEN];
	uint8_t binding[PQ_REHS_BINDING_LEN];
	struct pq_challenge_cache cache_a, cache_b;
	uint64_t now_ms;
};

/* a (the hybrid initiator) starts a re-handshake on a new connection, b
 * answers: REQUEST, RESPONSE, COMPLETE. */
static int op_rehandshake(void *ctx)
{
	struct rehs_bench *rb = ctx;
	struct pq_rehs_config ca = {
		.role = PQ_REHS_INITIATOR, .hs_initiator = true, .session_id = rb->session_id,
		.send_key = rb->key_i2r, .recv_key = rb->key_r2i, .binding = rb->binding,
	};
	struct pq_rehs_config cb = ca;
	struct pq_rehs a, b;
	uint8_t m1[PQ_REHS_MAX_MSG_LEN], m2[PQ_REHS_MAX_MSG_LEN], m3[PQ_REHS_MAX_MSG_LEN], none[PQ_REHS_MAX_MSG_LEN];
	size_t l1, l2, l3, l4;
	int ret = -1;

	cb.role = PQ_REHS_RESPONDER;
	cb.hs_initiator = false;
	cb.send_key = rb->key_r2i;
	cb.recv_key = rb->key_i2r;
	/* Runs 2 s apart keep about 15 runs' challenges live in each cache. */
	rb->now_ms += 2000;
	if (pq_rehs_init(&a, &ca, rb->now_ms) || pq_rehs_init(&b, &cb, rb->now_ms))
		goto out;
	if (pq_rehs_start(&a, &rb->cache_a, rb->now_ms, m1, sizeof(m1), &l1) ||
	    pq_rehs_receive(&b, &rb->cache_b, m1, l1, rb->now_ms, m2, sizeof(m2), &l2) ||
	    pq_rehs_receive(&a, &rb->cache_a, m2, l2, rb->now_ms, m3, sizeof(m3), &l3) ||
	    pq_rehs_receive(&b, &rb->cache_b, m3, l3, rb->now_ms, none, sizeof(none), &l4))
		goto out;
	if (pq_rehs_state(&a) == PQ_REHS_COMPLETED && pq_rehs_state(&b) == PQ_REHS_COMPLETED)
		ret = 0;
out:
	pq_rehs_clear(&a);
	pq_rehs_clear(&b);
	return ret;
}

int bench_rehandshake(struct bench_result *out, int *n, int cap)
{
	static struct rehs_bench rb;
	double ns;
	int ret = -1;

	bench_failed = "re-handshake";
	memset(&rb, 0, sizeof(rb));
	rb.now_ms = 1700000000000ull;
	pq_challenge_cache_init(&rb.cache_a);
	pq_challenge_cache_init(&rb.cache_b);
	if (pq_random_bytes(rb.session_id, sizeof(rb.session_id)) || pq_random_bytes(rb.key_i2r, PQ_KEY_LEN) ||
	    pq_random_bytes(rb.key_r2i, PQ_KEY_LEN) || pq_random_bytes(rb.binding, sizeof(rb.binding)))
		goto out;
	ns = bench_time_op(op_rehandshake, &rb);
	if (bench_add(out, n, cap, "rehandshake_cpu_us", "us", ns < 0 ? -1 : ns / 1000.0))
		goto out;
	ret = 0;
out:
	pq_wipe(&rb, sizeof(rb));
	return ret;
}
