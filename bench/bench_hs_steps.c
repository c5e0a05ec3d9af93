/*
 * bench_hs_steps.c - where the time of one hybrid handshake (DESIGN §3)
 * goes, step by step, on the same cold caches as bench_relay_handshake.
 *
 * Part 1 times the four protocol calls of one handshake between two
 * in-memory nodes (no network): A's pq_hs_initiate, B's pq_hs_receive of
 * HS_INIT, A's of HS_RESP, B's of HS_FINISH; once with the ephemeral key
 * pairs made on the spot, once with both sides' pools refilled
 * (pq_hs_precompute) in the pause before each handshake, as the node does
 * from its housekeeping timer.
 *
 * Part 2 times each cryptographic operation those calls make, called
 * directly through src/crypto in the handshake's order, with the same
 * input sizes (the transcript hashes cover whole 1.7 KB messages). A step
 * marked "path" lies between t0 and "both confirmed" in
 * bench_relay_handshake; "off" steps are the key generation that
 * pq_hs_precompute moved out of it (issue 13).
 *
 * Both parts run N rounds, PACE_MS apart (default 260 ms, as the relay
 * benchmark: the CPU idles in between, so caches and branch predictors are
 * as cold as there); PACE_MS 0 gives the hot, back-to-back figures.
 *
 * Usage: bench_hs_steps [N [PACE_MS]]; prints p50/p90/p99/min/max in µs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/keysched.h"
#include "crypto/mlkem.h"
#include "crypto/util.h"
#include "crypto/x25519.h"
#include "proto/handshake.h"
#include "proto/msg_handshake.h"
#include "bench_stats.h"

#define MAX_RUNS 5000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (ms && nanosleep(&ts, &ts))
		;
}

/* ---- part 1: the protocol calls ---- */

struct node {
	struct pq_signer *signer;
	struct pq_hs hs;
	struct pq_hs_peer peer;
};

static struct pq_hs_peer *lookup_peer(void *ctx, const uint8_t pub[PQ_PUBKEY_LEN])
{
	struct node *n = ctx;

	return memcmp(pub, n->peer.pub, PQ_PUBKEY_LEN) ? NULL : &n->peer;
}

static int node_setup(struct node *n)
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

static void node_free(struct node *n)
{
	pq_hs_wipe(&n->hs);
	pq_hs_peer_wipe(&n->peer);
	pq_signer_free(n->signer);
}

enum { CALL_INIT, CALL_RECV_INIT, CALL_RECV_RESP, CALL_RECV_FINISH, CALL_TOTAL, N_CALLS };
static const char *const call_names[N_CALLS] = {
	"A pq_hs_initiate", "B receive HS_INIT", "A receive HS_RESP", "B receive HS_FINISH", "sum of the four",
};

/* One handshake; t[] gets each call's µs. The clock is fake (1 s a run),
 * so the rate limit never refuses. */
static int one_handshake(struct node *a, struct node *b, uint64_t now, double t[N_CALLS])
{
	static uint8_t m1[PQ_HS_INIT_LEN], m2[PQ_HS_RESP_LEN], m3[PQ_HS_FINISH_LEN];
	struct pq_hs_result r;
	uint64_t t0, t1, t2, t3, t4;
	long n1, n2, n3, n4;

	t0 = now_ns();
	n1 = pq_hs_initiate(&a->hs, &a->peer, now, now, m1, sizeof(m1));
	t1 = now_ns();
	n2 = n1 > 0 ? pq_hs_receive(&b->hs, pq_signer_public(a->signer), m1, (size_t)n1, now,
				     now, m2, sizeof(m2), &r) : -1;
	t2 = now_ns();
	if (n1 > 0)
		pq_hs_result_wipe(&r);
	n3 = n2 > 0 ? pq_hs_receive(&a->hs, pq_signer_public(b->signer), m2, (size_t)n2, now, now, m3, sizeof(m3),
				     &r) : -1;
	t3 = now_ns();
	if (n2 > 0)
		pq_hs_result_wipe(&r);
	n4 = n3 > 0 ? pq_hs_receive(&b->hs, pq_signer_public(a->signer), m3, (size_t)n3, now, now, NULL, 0, &r)
		    : -1;
	t4 = now_ns();
	if (n3 > 0)
		pq_hs_result_wipe(&r);
	if (n4 != 0)
		return -1;
	t[CALL_INIT] = (double)(t1 - t0) / 1000.0;
	t[CALL_RECV_INIT] = (double)(t2 - t1) / 1000.0;
	t[CALL_RECV_RESP] = (double)(t3 - t2) / 1000.0;
	t[CALL_RECV_FINISH] = (double)(t4 - t3) / 1000.0;
	t[CALL_TOTAL] = (double)(t4 - t0) / 1000.0;
	return 0;
}

static int part_calls(int runs, unsigned pace_ms, bool precompute)
{
	static struct node a, b;
	double *v[N_CALLS] = { 0 };
	uint64_t now = 1700000000000ull;
	int ret = -1;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (node_setup(&a) || node_setup(&b))
		goto out;
	pq_hs_peer_init(&a.peer, pq_signer_public(b.signer), now);
	pq_hs_peer_init(&b.peer, pq_signer_public(a.signer), now);
	for (int c = 0; c < N_CALLS; c++)
		if (!(v[c] = calloc((size_t)runs, sizeof(double))))
			goto out;
	for (int i = -3; i < runs; i++) { /* 3 warm-up rounds */
		double t[N_CALLS];

		now += 1000;
		if (precompute && (pq_hs_precompute(&a.hs, now) < 0 || pq_hs_precompute(&b.hs, now) < 0))
			goto out;
		pause_ms(pace_ms);
		if (one_handshake(&a, &b, now, t))
			goto out;
		for (int c = 0; i >= 0 && c < N_CALLS; c++)
			v[c][i] = t[c];
	}
	printf("part 1%s: the protocol calls of one handshake, in memory (no network), key pairs %s\n",
	       precompute ? "b" : "a", precompute ? "precomputed (pq_hs_precompute in the pause)" : "made on the spot");
	for (int c = 0; c < N_CALLS; c++)
		bench_print_line(call_names[c], v[c], runs, 1);
	printf("  pool: A took %llu, made %llu on the spot; B took %llu, made %llu on the spot\n",
	       (unsigned long long)a.hs.stats.pool_used, (unsigned long long)a.hs.stats.pool_empty,
	       (unsigned long long)b.hs.stats.pool_used, (unsigned long long)b.hs.stats.pool_empty);
	ret = 0;
out:
	for (int c = 0; c < N_CALLS; c++)
		free(v[c]);
	node_free(&a);
	node_free(&b);
	return ret;
}

/* ---- part 2: the cryptographic steps ---- */

struct steps_ctx {
	struct pq_signer *sa, *sb;
	uint8_t pub_a[PQ_PUBKEY_LEN], pub_b[PQ_PUBKEY_LEN];
	uint8_t xa_priv[32], xa_pub[32], xb_priv[32], xb_pub[32];
	uint8_t ek[PQ_MLKEM1024_EK_LEN], dk[PQ_MLKEM1024_DK_LEN], ct[PQ_MLKEM1024_CT_LEN];
	uint8_t ss_b[32], ss_a[32], x_b[32], x_a[32];
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN];
	uint8_t h[32], sig_msg[20 + 32], sig_a[64], sig_b[64], mac[32];
	struct pq_session_keys keys;
};

typedef int (*step_fn)(struct steps_ctx *c);

static int s_a_xkeypair(struct steps_ctx *c) { return pq_x25519_keypair(c->xa_pub, c->xa_priv); }
static int s_a_mlkem_keypair(struct steps_ctx *c) { return pq_mlkem1024_keypair(c->ek, c->dk); }
static int s_a_hash_init(struct steps_ctx *c)
{
	struct pq_iov iov[2] = { { c->h, 32 }, { c->init, PQ_HS_INIT_SIG_OFF } };

	return pq_sha256(c->h, iov, 2);
}
static int s_a_sign(struct steps_ctx *c) { return pq_signer_sign(c->sa, c->sig_a, c->sig_msg, sizeof(c->sig_msg)); }
static int s_b_hash_init(struct steps_ctx *c) { return s_a_hash_init(c); }
static int s_b_verify(struct steps_ctx *c)
{
	return pq_ed25519_verify(c->sig_a, c->sig_msg, sizeof(c->sig_msg), c->pub_a);
}
static int s_b_encaps(struct steps_ctx *c) { return pq_mlkem1024_encaps(c->ct, c->ss_b, c->ek); }
static int s_b_xkeypair(struct steps_ctx *c) { return pq_x25519_keypair(c->xb_pub, c->xb_priv); }
static int s_b_xshared(struct steps_ctx *c) { return pq_x25519_shared_with_pub(c->x_b, c->xb_priv, c->xb_pub, c->xa_pub); }
static int s_b_hash_resp(struct steps_ctx *c)
{
	struct pq_iov iov[2] = { { c->h, 32 }, { c->resp, PQ_HS_RESP_SIG_OFF } };

	return pq_sha256(c->h, iov, 2);
}
static int s_b_sign(struct steps_ctx *c) { return pq_signer_sign(c->sb, c->sig_b, c->sig_msg, sizeof(c->sig_msg)); }
static int s_b_keysched(struct steps_ctx *c) { return pq_key_schedule(&c->keys, c->ss_b, c->x_b, c->h); }
static int s_mac(struct steps_ctx *c)
{
	struct pq_iov iov = { c->h, 32 };

	return pq_hmac_sha256(c->mac, c->keys.confirm_r2i, 32, &iov, 1);
}
static int s_mac2(struct steps_ctx *c)
{
	return s_mac(c) ? -1 : s_mac(c);
}
static int s_a_hash_resp(struct steps_ctx *c) { return s_b_hash_resp(c); }
static int s_a_verify(struct steps_ctx *c)
{
	return pq_ed25519_verify(c->sig_b, c->sig_msg, sizeof(c->sig_msg), c->pub_b);
}
static int s_a_decaps(struct steps_ctx *c) { return pq_mlkem1024_decaps(c->ss_a, c->ct, c->dk); }
static int s_a_xshared(struct steps_ctx *c) { return pq_x25519_shared_with_pub(c->x_a, c->xa_priv, c->xa_pub, c->xb_pub); }
static int s_a_keysched(struct steps_ctx *c) { return pq_key_schedule(&c->keys, c->ss_a, c->x_a, c->h); }

struct step {
	const char *name;
	step_fn fn;
	bool on_path;  /* between t0 and "both confirmed" */
};

static const struct step steps[] = {
	{ "A X25519 key pair", s_a_xkeypair, false },
	{ "A ML-KEM-1024 key pair", s_a_mlkem_keypair, false },
	{ "A SHA-256 HS_INIT", s_a_hash_init, true },
	{ "A Ed25519 sign", s_a_sign, true },
	{ "B SHA-256 HS_INIT", s_b_hash_init, true },
	{ "B Ed25519 verify", s_b_verify, true },
	{ "B ML-KEM encaps", s_b_encaps, true },
	{ "B X25519 key pair", s_b_xkeypair, false },
	{ "B X25519 shared", s_b_xshared, true },
	{ "B SHA-256 HS_RESP", s_b_hash_resp, true },
	{ "B Ed25519 sign", s_b_sign, true },
	{ "B key schedule (HKDF)", s_b_keysched, true },
	{ "B confirm MAC", s_mac, true },
	{ "A SHA-256 HS_RESP", s_a_hash_resp, true },
	{ "A Ed25519 verify", s_a_verify, true },
	{ "A ML-KEM decaps", s_a_decaps, true },
	{ "A X25519 shared", s_a_xshared, true },
	{ "A key schedule (HKDF)", s_a_keysched, true },
	{ "A confirm MACs (2)", s_mac2, true },
	{ "B confirm MAC", s_mac, true },
};
#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static int steps_setup(struct steps_ctx *c)
{
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int ret;

	memset(c, 0, sizeof(*c));
	if ((ret = pq_ed25519_generate(priv)) || (ret = pq_signer_new(&c->sa, priv)) ||
	    (ret = pq_ed25519_generate(priv)) || (ret = pq_signer_new(&c->sb, priv)))
		goto out;
	memcpy(c->pub_a, pq_signer_public(c->sa), PQ_PUBKEY_LEN);
	memcpy(c->pub_b, pq_signer_public(c->sb), PQ_PUBKEY_LEN);
	ret = pq_random_bytes(c->init, sizeof(c->init));
	if (!ret)
		ret = pq_random_bytes(c->resp, sizeof(c->resp));
	if (!ret)
		ret = pq_random_bytes(c->sig_msg, sizeof(c->sig_msg));
out:
	pq_wipe(priv, sizeof(priv));
	return ret;
}

static int part_steps(int runs, unsigned pace_ms)
{
	static struct steps_ctx c;
	double *v[N_STEPS] = { 0 }, *path = NULL;
	int ret = -1;

	if (steps_setup(&c))
		goto out;
	path = calloc((size_t)runs, sizeof(double));
	for (size_t s = 0; s < N_STEPS; s++)
		if (!(v[s] = calloc((size_t)runs, sizeof(double))))
			goto out;
	if (!path)
		goto out;
	for (int i = -3; i < runs; i++) {
		double sum = 0;

		pause_ms(pace_ms);
		for (size_t s = 0; s < N_STEPS; s++) {
			uint64_t t0 = now_ns();
			double us;

			if (steps[s].fn(&c)) {
				fprintf(stderr, "step \"%s\" failed\n", steps[s].name);
				goto out;
			}
			us = (double)(now_ns() - t0) / 1000.0;
			if (steps[s].on_path)
				sum += us;
			if (i >= 0)
				v[s][i] = us;
		}
		if (i >= 0)
			path[i] = sum;
	}
	printf("part 2: each cryptographic step, in the handshake's order (path = on the critical path)\n");
	for (size_t s = 0; s < N_STEPS; s++) {
		char label[64];

		snprintf(label, sizeof(label), "%s %s", steps[s].on_path ? "path" : "off ", steps[s].name);
		bench_print_line(label, v[s], runs, 1);
	}
	bench_print_line("sum of the path steps", path, runs, 1);
	ret = 0;
out:
	for (size_t s = 0; s < N_STEPS; s++)
		free(v[s]);
	free(path);
	pq_signer_free(c.sa);
	pq_signer_free(c.sb);
	pq_wipe(&c, sizeof(c));
	return ret;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 200;
	int pace = argc > 2 ? atoi(argv[2]) : 260;

	if (argc > 3 || runs < 1 || runs > MAX_RUNS || pace < 0 || pace > 10000) {
		fprintf(stderr, "usage: %s [N (1..%d) [PACE_MS (0..10000)]]\n", argv[0], MAX_RUNS);
		return 2;
	}
	printf("rounds: %d (+3 warm-up), %d ms apart; µs, CLOCK_MONOTONIC\n", runs, pace);
	if (part_calls(runs, (unsigned)pace, false) || part_calls(runs, (unsigned)pace, true) ||
	    part_steps(runs, (unsigned)pace)) {
		fprintf(stderr, "FAIL: a handshake or a step failed\n");
		return 1;
	}
	return 0;
}
