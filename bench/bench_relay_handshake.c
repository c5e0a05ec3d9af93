/*
 * bench_relay_handshake.c - latency of the hybrid handshake (DESIGN §3)
 * through a real `pqlan relay` (issue 4, relay-path figures).
 *
 * Two clients, A and B, each with a fresh Ed25519 identity, connect to the
 * relay with pq_conn_connect (TLS 1.3 pinned to the relay's key +
 * WebSocket), authenticate with RELAY_AUTH over the relay's challenge and
 * the connection's TLS exporter (as src/node/relay_link.c does), list
 * each other in RELAY_WATCH (the relay announces and forwards only
 * between nodes that do, docs/PROTOCOL.md §3.4), and wait until each
 * sees the other in PEER_ONLINE. Then A runs hybrid handshakes
 * with B, one at a time, every message inside RELAY_SEND / RELAY_RECV:
 *
 *   t0  clock read, A builds HS_INIT (pq_hs_initiate) and queues it
 *       B answers HS_RESP, then verifies HS_INIT   (pq_hs_receive_first,
 *                                                   pq_hs_settle)
 *   tA  A sends HS_FINISH, then verifies HS_RESP: keys confirmed
 *   tB  B verifies HS_FINISH: keys confirmed    -> sample = tB - t0
 *
 * as the node does (answer first, handshake.h). ORDER strict makes both
 * verify before answering (pq_hs_receive), ORDER both alternates the two
 * handshake by handshake and prints each order's figures, for a ratio in
 * one run. A's verification runs on the same thread as B's work, so tB
 * comes after tA in either order.
 *
 * The figure runs from HS_INIT sent (t0 + A's crypto, the message
 * queued) to both confirmed; it is printed first. tB - t0 adds A's work
 * before sending.
 *
 * t0 is read before HS_INIT is built, so a sample includes A's ML-KEM and
 * X25519 key generation and signature as well as both network round trips
 * through the relay. Both clients share one thread and one event loop; a
 * handshake is sequential anyway (each step waits for the previous one).
 *
 * Precomputed key pairs (issue 13): unless PRECOMPUTE is 0, both clients
 * call pq_hs_precompute in the idle time before each handshake, as the
 * node does from its 1 s housekeeping timer (a node's handshakes with one
 * peer are minutes apart, so its pool is full when one starts). The pool
 * counters are printed: with PRECOMPUTE 1 every measured handshake took
 * precomputed pairs on both sides.
 *
 * Rate limit: the responder admits a burst of 4 initiations per peer, then
 * one per 250 ms (PQ_HS_RATE_*). We keep the real clock for the protocol
 * and start handshakes PACE_MS apart (default 260 ms) so none is refused;
 * the idle time between handshakes is not part of any sample.
 *
 * Usage: bench_relay_handshake RELAY_IP PORT RELAY_PUB_B64 [N [PACE_MS [WARMUP [PRECOMPUTE]]]]
 * Prints p50/p90/p99/min/max in microseconds; exit 0 on success.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ed25519.h"
#include "crypto/identity.h"
#include "crypto/util.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tls.h"
#include "proto/handshake.h"
#include "proto/msg_handshake.h"
#include "proto/msg_relay.h"
#include "proto/types.h"
#include "bench_stats.h"

#define MAX_RUNS 10000

enum { ORDER_FIRST, ORDER_STRICT, ORDER_BOTH };
/* Whole run: setup plus N * (pace + a generous 2 s per handshake). */
#define SETUP_BUDGET_MS 15000

struct bench;

struct client {
	const char *name;
	struct bench *b;
	struct client *other;
	uint8_t pub[PQ_PUBKEY_LEN];
	struct pq_signer *signer;
	struct pq_tls_ctx *tls;
	struct pq_conn *conn;
	struct pq_hs hs;
	struct pq_hs_peer peer; /* the other client */
	bool welcomed, sees_other, closed;
};

struct bench {
	struct pq_loop *loop;
	struct client a, b;
	struct pq_timer pace, deadline;
	int runs, warmup, done;
	uint32_t pace_ms;
	bool precompute;
	int order;              /* ORDER_* */
	bool started, finishing;
	const char *fail;
	uint64_t t0_ns, ta_ns, crypto_ns, sent_ns;
	double *total_us, *crypto_us, *a_us, *sent_us;
	bool *strict;           /* per sample: measured in the strict order */
	uint8_t msg[PQ_MAX_MSG_LEN];
	uint8_t reply[PQ_HS_INIT_LEN];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void bench_fail(struct bench *b, const char *why)
{
	if (!b->fail)
		b->fail = why;
	pq_loop_stop(b->loop);
}

static struct pq_hs_peer *lookup_peer(void *ctx, const uint8_t pub[PQ_PUBKEY_LEN])
{
	struct client *c = ctx;

	return memcmp(pub, c->peer.pub, PQ_PUBKEY_LEN) ? NULL : &c->peer;
}

/* A fresh identity, its TLS client context and handshake state. */
static int client_setup(struct client *c)
{
	struct pq_hs_callbacks cb = { .ctx = c, .lookup = lookup_peer };
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int ret;

	if ((ret = pq_ed25519_generate(priv)) || (ret = pq_signer_new(&c->signer, priv)) ||
	    (ret = pq_tls_ctx_new(&c->tls, PQ_TLS_CLIENT, priv)) || (ret = pq_hs_init(&c->hs, c->signer, &cb)))
		goto out;
	memcpy(c->pub, pq_signer_public(c->signer), PQ_PUBKEY_LEN);
out:
	pq_wipe(priv, sizeof(priv));
	return ret;
}

static void client_free(struct client *c)
{
	if (c->conn && !c->closed)
		pq_conn_abort(c->conn);
	pq_hs_wipe(&c->hs);
	pq_hs_peer_wipe(&c->peer);
	pq_tls_ctx_free(c->tls);
	pq_signer_free(c->signer);
}

/* payload to the other client, inside RELAY_SEND. */
static int relay_send(struct client *c, const uint8_t *payload, size_t len)
{
	struct pq_relay_fwd f;
	size_t out_len;
	int ret;

	memcpy(f.key, c->other->pub, PQ_PUBKEY_LEN);
	f.payload = payload;
	f.payload_len = len;
	if ((ret = pq_relay_send_encode(c->b->msg, sizeof(c->b->msg), &out_len, &f)))
		return ret;
	if ((ret = pq_conn_send(c->conn, c->b->msg, out_len)))
		return ret;
	/* On its way at once, as the node sends handshake messages (send.c). */
	pq_conn_flush_now(c->conn);
	return 0;
}

/* RELAY_CHALLENGE -> RELAY_AUTH signed over challenge || exporter (DESIGN §2). */
static int answer_challenge(struct client *c, const uint8_t *msg, size_t len)
{
	uint8_t out[PQ_RELAY_AUTH_MSG_LEN];
	const uint8_t *exporter = pq_conn_exporter(c->conn);
	int ret;

	if (!exporter)
		return PQ_E_STATE;
	if ((ret = pq_relay_auth_answer(out, c->signer, msg, len, exporter)))
		return ret;
	return pq_conn_send(c->conn, out, sizeof(out));
}

/* After RELAY_WELCOME: watch the other client, as a node watches its peers. */
static int send_watch(struct client *c)
{
	uint8_t out[PQ_RELAY_WATCH_MSG_LEN(1)];
	size_t len;
	int ret;

	if ((ret = pq_relay_watch_build(out, sizeof(out), &len,
					(const uint8_t(*)[PQ_PUBKEY_LEN])c->other->pub, 1)))
		return ret;
	return pq_conn_send(c->conn, out, len);
}

/* Idle time before a handshake: refill both pools (not in any sample). */
static void refill_pools(struct bench *b)
{
	uint64_t now_ms = pq_loop_now(b->loop);

	if (b->precompute && (pq_hs_precompute(&b->a.hs, now_ms) < 0 || pq_hs_precompute(&b->b.hs, now_ms) < 0))
		bench_fail(b, "pq_hs_precompute failed");
}

static void maybe_start(struct bench *b)
{
	if (b->started || !b->a.welcomed || !b->b.welcomed || !b->a.sees_other || !b->b.sees_other)
		return;
	b->started = true;
	refill_pools(b);
	if (pq_loop_timer_start(b->loop, &b->pace, b->pace_ms))
		bench_fail(b, "cannot arm the pacing timer");
}

/* Timer: start handshake number b->done (A initiates). */
static void hs_start(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct bench *b = arg;
	uint64_t t1;
	long n;

	b->t0_ns = now_ns();
	n = pq_hs_initiate(&b->a.hs, &b->a.peer, now_ms, now_ms, b->reply, sizeof(b->reply));
	t1 = now_ns();
	b->crypto_ns = t1 - b->t0_ns;
	b->sent_ns = t1;
	b->ta_ns = 0;
	if (n <= 0 || relay_send(&b->a, b->reply, (size_t)n))
		bench_fail(b, "cannot build or queue HS_INIT");
}

static void finish_all(struct bench *b)
{
	b->finishing = true;
	pq_loop_timer_cancel(b->loop, &b->pace);
	pq_conn_close(b->a.conn, 1000);
	pq_conn_close(b->b.conn, 1000);
}

/* This handshake in the strict order (verify before answering)? */
static bool strict_now(const struct bench *b)
{
	return b->order == ORDER_STRICT || (b->order == ORDER_BOTH && b->done % 2);
}

/* B confirmed: one sample; schedule the next handshake or end. */
static void hs_complete(struct bench *b, uint64_t tb_ns)
{
	int i = b->done - b->warmup;

	if (i >= 0) {
		b->total_us[i] = (double)(tb_ns - b->t0_ns) / 1000.0;
		b->crypto_us[i] = (double)b->crypto_ns / 1000.0;
		b->a_us[i] = (double)(b->ta_ns - b->t0_ns) / 1000.0;
		b->sent_us[i] = (double)(tb_ns - b->sent_ns) / 1000.0;
		b->strict[i] = strict_now(b);
	}
	b->done++;
	if (b->done >= b->warmup + b->runs) {
		finish_all(b);
		return;
	}
	refill_pools(b);
	if (pq_loop_timer_start(b->loop, &b->pace, b->pace_ms))
		bench_fail(b, "cannot arm the pacing timer");
}

/* A handshake message from the other client, through the relay: the answer
 * (if any) is queued, then the signature settled, as the node does. */
static void hs_message(struct client *c, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct bench *b = c->b;
	struct pq_hs_result res;
	uint64_t t1 = now_ns(), t2;
	long n = strict_now(b) ? pq_hs_receive(&c->hs, c->peer.pub, msg, len, now_ms, now_ms, b->reply,
					       sizeof(b->reply), &res)
			       : pq_hs_receive_first(&c->hs, c->peer.pub, msg, len, now_ms, now_ms, b->reply,
						     sizeof(b->reply), &res);
	int ret;

	t2 = now_ns();
	b->crypto_ns += t2 - t1;
	if (n > 0 && relay_send(c, b->reply, (size_t)n))
		bench_fail(b, "cannot queue the answer");
	t1 = now_ns();
	ret = pq_hs_settle(&c->hs, &res, now_ms);
	t2 = now_ns();
	b->crypto_ns += t2 - t1;
	if (n < 0 || ret) {
		fprintf(stderr, "%s: handshake message 0x%02x dropped: %s\n", c->name, msg[0],
			pq_strerror(n < 0 ? (int)n : ret));
		bench_fail(b, "a handshake message was refused (see above)");
	} else if (c == &b->a && res.event == PQ_HS_EV_KEYS && res.confirmed && n > 0) {
		b->ta_ns = t2;
	} else if (c == &b->b && res.event == PQ_HS_EV_KEYS && n > 0) {
		/* HS_RESP is on its way. */
	} else if (c == &b->b && res.event == PQ_HS_EV_CONFIRMED && b->ta_ns) {
		hs_complete(b, t2);
	} else {
		bench_fail(b, "unexpected handshake event");
	}
	pq_hs_result_wipe(&res);
}

static void on_forwarded(struct client *c, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pq_relay_fwd f;

	if (pq_relay_recv_decode(&f, msg, len) || memcmp(f.key, c->other->pub, PQ_PUBKEY_LEN)) {
		bench_fail(c->b, "malformed RELAY_RECV or unknown sender");
		return;
	}
	if (f.payload[0] < PQ_MSG_HS_INIT || f.payload[0] > PQ_MSG_HS_FINISH) {
		bench_fail(c->b, "a RELAY_RECV that is not a handshake message");
		return;
	}
	hs_message(c, f.payload, f.payload_len, now_ms);
}

static void on_message(void *ctx, struct pq_conn *conn, const uint8_t *msg, size_t len)
{
	struct client *c = ctx;
	struct pq_peer_online on;

	if (len == 0)
		return;
	switch (msg[0]) {
	case PQ_MSG_RELAY_CHALLENGE:
		if (answer_challenge(c, msg, len))
			bench_fail(c->b, "cannot answer the relay's challenge");
		return;
	case PQ_MSG_RELAY_WELCOME:
		c->welcomed = true;
		if (send_watch(c))
			bench_fail(c->b, "cannot send RELAY_WATCH");
		maybe_start(c->b);
		return;
	case PQ_MSG_PEER_ONLINE:
		if (pq_peer_online_decode(&on, msg, len) == 0 && !memcmp(on.key, c->other->pub, PQ_PUBKEY_LEN)) {
			c->sees_other = true;
			maybe_start(c->b);
		}
		return;
	case PQ_MSG_RELAY_RECV:
		on_forwarded(c, msg, len, pq_loop_now(c->b->loop));
		return;
	default:
		fprintf(stderr, "%s: relay message 0x%02x\n", c->name, msg[0]);
		bench_fail(c->b, "unexpected relay message (CLOSE, UNREACHABLE, ...)");
	}
}

static void on_open(void *ctx, struct pq_conn *conn)
{
}

static void on_close(void *ctx, struct pq_conn *conn, const struct pq_conn_reason *why)
{
	struct client *c = ctx;

	c->closed = true;
	if (!c->b->finishing) {
		fprintf(stderr, "%s: connection ended (kind %d, %s)\n", c->name, (int)why->end,
			why->err ? pq_strerror(why->err) : "no detail");
		bench_fail(c->b, "a relay connection ended early");
	} else if (c->other->closed) {
		pq_loop_stop(c->b->loop);
	}
}

static void deadline_hit(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	bench_fail(arg, "deadline passed (relay not reachable, or handshakes stalled)");
}

static int client_connect(struct client *c, const struct pq_sockaddr *addr, const uint8_t *relay_pub)
{
	static const struct pq_conn_cbs cbs = { .on_open = on_open, .on_message = on_message, .on_close = on_close };
	struct pq_conn_target tg;

	memset(&tg, 0, sizeof(tg));
	tg.addr = *addr;
	tg.pin = relay_pub;
	return pq_conn_connect(&c->conn, c->b->loop, c->tls, &tg, NULL, &cbs, c);
}

/* The samples of one order (strict or not) out of all, in place order. */
static int pick(const struct bench *b, const double *all, bool strict, double *out)
{
	int k = 0;

	for (int i = 0; i < b->runs; i++)
		if (b->strict[i] == strict)
			out[k++] = all[i];
	return k;
}

static void report_order(const struct bench *b, bool strict, double *tmp)
{
	double *net = tmp + b->runs;
	int n = pick(b, b->sent_us, strict, tmp);

	if (n == 0)
		return;
	printf("%s (%d handshakes):\n", strict ? "strict order: verify, then answer (pq_hs_receive)"
					       : "answer first, then verify (pq_hs_receive_first + pq_hs_settle, as the node)",
	       n);
	bench_print_line("from HS_INIT sent (tB - ts)", tmp, n, 0);
	pick(b, b->total_us, strict, tmp);
	bench_print_line("both confirmed (tB - t0)", tmp, n, 0);
	pick(b, b->a_us, strict, tmp);
	bench_print_line("initiator confirmed (tA-t0)", tmp, n, 0);
	/* bench_print_line sorts what it prints: the difference first. */
	pick(b, b->crypto_us, strict, tmp);
	pick(b, b->total_us, strict, net);
	for (int i = 0; i < n; i++)
		net[i] -= tmp[i];
	bench_print_line("  of which handshake crypto", tmp, n, 0);
	bench_print_line("  of which transport+relay", net, n, 0);
}

static void report(struct bench *b)
{
	double *tmp = calloc(2 * (size_t)b->runs, sizeof(double));

	printf("handshakes: %d measured (+%d warm-up not counted), one at a time, started %u ms apart\n", b->runs,
	       b->warmup, (unsigned)b->pace_ms);
	printf("figures in microseconds (µs), wall clock CLOCK_MONOTONIC; each line is its own\n"
	       "distribution (the parts' percentiles need not add up to the total's):\n");
	if (!tmp)
		return;
	report_order(b, false, tmp);
	report_order(b, true, tmp);
	free(tmp);
}

static int parse_args(int argc, char **argv, struct bench *b, struct pq_sockaddr *addr, uint8_t *relay_pub)
{
	if (argc < 4 || argc > 9) {
		fprintf(stderr, "usage: %s RELAY_IP PORT RELAY_PUB_B64 [N [PACE_MS [WARMUP [PRECOMPUTE [ORDER]]]]]\n"
			"ORDER: first (default, as the node), strict, both (alternating)\n", argv[0]);
		return PQ_E_INVAL;
	}
	b->runs = argc > 4 ? atoi(argv[4]) : 100;
	b->pace_ms = argc > 5 ? (uint32_t)atoi(argv[5]) : 260;
	b->warmup = argc > 6 ? atoi(argv[6]) : 3;
	b->precompute = argc > 7 ? atoi(argv[7]) != 0 : true;
	b->order = argc <= 8 || !strcmp(argv[8], "first") ? ORDER_FIRST
		   : !strcmp(argv[8], "strict")            ? ORDER_STRICT
		   : !strcmp(argv[8], "both")              ? ORDER_BOTH
							   : -1;
	if (b->order < 0) {
		fprintf(stderr, "ORDER must be first, strict or both\n");
		return PQ_E_INVAL;
	}
	if (b->runs < 1 || b->runs > MAX_RUNS || b->warmup < 0 || b->warmup > 100 || b->pace_ms > 10000) {
		fprintf(stderr, "N must be 1..%d, PACE_MS 0..10000, WARMUP 0..100\n", MAX_RUNS);
		return PQ_E_INVAL;
	}
	if (pq_sockaddr_from_ip(addr, argv[1], (unsigned)atoi(argv[2])) ||
	    pq_key_from_base64(relay_pub, argv[3], strlen(argv[3]))) {
		fprintf(stderr, "bad relay address or public key\n");
		return PQ_E_INVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct pq_sockaddr addr;
	uint8_t relay_pub[PQ_PUBKEY_LEN];
	uint64_t budget;
	int ret, status = 1;

	if (parse_args(argc, argv, &b, &addr, relay_pub))
		return 2;
	b.a = (struct client){ .name = "A", .b = &b, .other = &b.b };
	b.b = (struct client){ .name = "B", .b = &b, .other = &b.a };
	b.total_us = calloc((size_t)b.runs, sizeof(double));
	b.crypto_us = calloc((size_t)b.runs, sizeof(double));
	b.a_us = calloc((size_t)b.runs, sizeof(double));
	b.sent_us = calloc((size_t)b.runs, sizeof(double));
	b.strict = calloc((size_t)b.runs, sizeof(bool));
	if (!b.total_us || !b.crypto_us || !b.a_us || !b.sent_us || !b.strict || pq_loop_new(&b.loop)) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	if ((ret = client_setup(&b.a)) || (ret = client_setup(&b.b))) {
		fprintf(stderr, "client setup: %s\n", pq_strerror(ret));
		goto out;
	}
	pq_hs_peer_init(&b.a.peer, b.b.pub, pq_loop_now(b.loop));
	pq_hs_peer_init(&b.b.peer, b.a.pub, pq_loop_now(b.loop));
	pq_timer_init(&b.pace, hs_start, &b);
	pq_timer_init(&b.deadline, deadline_hit, &b);
	budget = SETUP_BUDGET_MS + (uint64_t)(b.runs + b.warmup) * (b.pace_ms + 2000);
	if (pq_loop_timer_start(b.loop, &b.deadline, budget) || (ret = client_connect(&b.a, &addr, relay_pub)) ||
	    (ret = client_connect(&b.b, &addr, relay_pub))) {
		fprintf(stderr, "cannot start: %s\n", pq_strerror(ret));
		goto out;
	}
	if (pq_loop_run(b.loop))
		bench_fail(&b, "event loop failed");
	pq_loop_timer_cancel(b.loop, &b.deadline);
	pq_loop_timer_cancel(b.loop, &b.pace);
	if (b.fail) {
		fprintf(stderr, "FAIL after %d handshakes: %s\n", b.done, b.fail);
		goto out;
	}
	report(&b);
	printf("HS_INIT sent by A: %llu; refused by B: rate limit %llu, stale %llu, MAC %llu, signature %llu\n",
	       (unsigned long long)b.a.hs.stats.init_sent, (unsigned long long)b.b.hs.stats.drop_rate,
	       (unsigned long long)b.b.hs.stats.drop_stale, (unsigned long long)b.b.hs.stats.drop_mac,
	       (unsigned long long)b.b.hs.stats.drop_signature);
	printf("precomputed key pairs (PRECOMPUTE=%d): A took %llu, made %llu on the spot; B took %llu, made %llu on "
	       "the spot\n", b.precompute, (unsigned long long)b.a.hs.stats.pool_used,
	       (unsigned long long)b.a.hs.stats.pool_empty, (unsigned long long)b.b.hs.stats.pool_used,
	       (unsigned long long)b.b.hs.stats.pool_empty);
	status = 0;
out:
	client_free(&b.a);
	client_free(&b.b);
	if (b.loop)
		pq_loop_free(b.loop);
	free(b.total_us);
	free(b.crypto_us);
	free(b.a_us);
	free(b.sent_us);
	free(b.strict);
	return status;
}
