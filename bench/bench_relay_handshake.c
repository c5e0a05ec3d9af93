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
 *   t0  clock read, A builds HS_INIT (pq_hs_initiate) and sends it  (ts)
 *       B answers HS_RESP, then verifies HS_INIT   (pq_hs_receive_first,
 *                                                   pq_hs_settle)
 *   tA  A sends HS_FINISH, then verifies HS_RESP: keys confirmed
 *   tB  B verifies HS_FINISH: keys confirmed
 *
 * as the node does (answer first, handshake.h). ORDER strict makes both
 * verify before answering (pq_hs_receive), ORDER both alternates the two
 * handshake by handshake and prints each order's figures, for a ratio in
 * one run.
 *
 * PROCS (default 2): the two clients run in two processes, each with its
 * own event loop, as two nodes do (fork after the identities are made;
 * the figures meet in a MAP_SHARED table, read on CLOCK_MONOTONIC, which
 * both processes share). PROCS 1 puts both clients on one thread and one
 * loop: then B's verification of HS_INIT delays A's handling of HS_RESP,
 * which two nodes never do to each other.
 *
 * The figure runs from HS_INIT sent (ts) to B confirmed; it is
 * printed first. tB - t0 adds A's work before sending (its signature).
 *
 * Precomputed key pairs (issue 13): unless PRECOMPUTE is 0, each client
 * calls pq_hs_precompute in the idle time after its part of a handshake,
 * as the node does from its 1 s housekeeping timer (a node's handshakes
 * with one peer are minutes apart, so its pool is full when one starts).
 * The pool counters are printed: with PRECOMPUTE 1 every measured
 * handshake took precomputed pairs on both sides.
 *
 * Rate limit: the responder admits a burst of 4 initiations per peer, then
 * one per 250 ms (PQ_HS_RATE_*). We keep the real clock for the protocol
 * and start handshakes PACE_MS apart (default 260 ms) so none is refused;
 * the idle time between handshakes is not part of any sample.
 *
 * Usage: bench_relay_handshake RELAY_IP PORT RELAY_PUB_B64
 *                              [N [PACE_MS [WARMUP [PRECOMPUTE [ORDER [PROCS]]]]]]
 * Prints p50/p90/p99/min/max in microseconds; exit 0 on success.
 */
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
/* A handshake not finished when the next is due: look again this soon. */
#define RECHECK_MS 2
/* A's process looks for the end of B's this often, and waits this long
 * for it once A is done (B ends when the relay reports A offline). */
#define WATCH_B_MS 100
#define REAP_WAIT_MS 5000

/* One handshake's clock readings (ns, CLOCK_MONOTONIC). A writes t0, sent,
 * crypto_a, resp_in, finish_out and ta; B writes crypto_b, init_in,
 * resp_out, finish_in and then tb (release), which A reads (acquire)
 * before it starts the next handshake. The report reads the table once
 * B's process has ended. */
struct hs_times {
	uint64_t t0, sent, ta, tb;
	uint64_t crypto_a, crypto_b; /* time inside pq_hs_* calls, per side */
	/* The critical path's legs: each message's arrival (handed over by
	 * the loop, before its crypto) and its answer built (before it is
	 * sent: a hop holds the sender's TLS write, the relay, the
	 * receiver's read). */
	uint64_t init_in, resp_out, resp_in, finish_out, finish_in;
};

/* What the clients share across processes (MAP_SHARED). */
struct shared {
	struct pq_hs_stats b_stats; /* B's counters, copied as its process ends */
	struct hs_times hs[];       /* warm-up + N */
};

struct bench;

struct client {
	const char *name;
	struct bench *b;
	struct client *other;
	bool active;            /* runs in this process */
	uint8_t pub[PQ_PUBKEY_LEN];
	struct pq_signer *signer;
	struct pq_tls_ctx *tls;
	struct pq_conn *conn;
	struct pq_hs hs;
	struct pq_hs_peer peer; /* the other client */
	struct pq_timer refill; /* idle: refill the key-pair pool */
	int index;              /* the handshake in progress (A: started, B: HS_INITs seen) */
	bool welcomed, sees_other, closed;
};

struct bench {
	struct pq_loop *loop;
	struct client a, b;
	struct pq_timer pace, deadline;
	struct pq_timer watch_b;     /* PROCS 2, A's process: B still running? */
	pid_t b_pid;                 /* PROCS 2, A's process: B's; else 0 */
	int b_status;                /* its wait status, once b_reaped */
	bool b_reaped;
	struct shared *sh;
	size_t sh_len;
	int runs, warmup, procs;
	uint32_t pace_ms;
	bool precompute;
	int order;              /* ORDER_* */
	bool started, finishing;
	const char *fail;
	uint8_t msg[PQ_MAX_MSG_LEN];
	uint8_t reply[PQ_HS_INIT_LEN];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int total_runs(const struct bench *b)
{
	return b->warmup + b->runs;
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
	if (c->b->loop)
		pq_loop_timer_cancel(c->b->loop, &c->refill);
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

/* Timer, in the idle time after a client's part of a handshake: refill
 * its pool (not in any sample). */
static void refill_pool(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct client *c = arg;

	if (c->b->precompute && pq_hs_precompute(&c->hs, now_ms) < 0)
		bench_fail(c->b, "pq_hs_precompute failed");
}

static void arm_refill(struct client *c)
{
	if (pq_loop_timer_start(c->b->loop, &c->refill, c->b->pace_ms / 4))
		bench_fail(c->b, "cannot arm the refill timer");
}

/* A, once both clients are logged in and see each other: the first
 * handshake starts after one pace of idle time (pools refilled in it).
 * Seeing B online means B watches A, so the relay forwards to B. */
static void maybe_start(struct bench *b)
{
	struct client *a = &b->a;

	if (!a->active || b->started || !a->welcomed || !a->sees_other)
		return;
	b->started = true;
	a->index = -1;
	refill_pool(b->loop, &a->refill, a, pq_loop_now(b->loop));
	if (pq_loop_timer_start(b->loop, &b->pace, b->pace_ms))
		bench_fail(b, "cannot arm the pacing timer");
}

/* This handshake in the strict order (verify before answering)? */
static bool strict_at(const struct bench *b, int index)
{
	return b->order == ORDER_STRICT || (b->order == ORDER_BOTH && index % 2);
}

/* A's end of the run: close its relay conn. B's process ends when it hears
 * A go offline after the last handshake (on_message). */
static void finish_client(struct client *c)
{
	c->b->finishing = true;
	pq_conn_close(c->conn, 1000);
}

static bool handshake_done(const struct bench *b, int index)
{
	const struct hs_times *t = &b->sh->hs[index];

	return __atomic_load_n(&t->tb, __ATOMIC_ACQUIRE) && t->ta;
}

/* A builds HS_INIT for handshake number a->index and sends it. */
static void start_handshake(struct bench *b)
{
	struct client *a = &b->a;
	struct hs_times *t = &b->sh->hs[a->index];
	uint64_t now_ms = pq_loop_now(b->loop);
	long n;

	t->t0 = now_ns();
	n = pq_hs_initiate(&a->hs, &a->peer, now_ms, now_ms, b->reply, sizeof(b->reply));
	t->sent = now_ns();
	t->crypto_a = t->sent - t->t0;
	if (n <= 0 || relay_send(a, b->reply, (size_t)n))
		bench_fail(b, "cannot build or queue HS_INIT");
}

/* A's pacing timer: once the handshake in progress is done on both sides,
 * start the next one (or end the run). Starts are PACE_MS apart. */
static void hs_tick(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct bench *b = arg;
	struct client *a = &b->a;
	uint32_t next_ms = b->pace_ms;

	if (a->index >= 0 && !handshake_done(b, a->index)) {
		next_ms = RECHECK_MS;
	} else if (++a->index >= total_runs(b)) {
		finish_client(a);
		if (b->b.active)
			finish_client(&b->b);
		return;
	} else {
		start_handshake(b);
	}
	if (pq_loop_timer_start(loop, &b->pace, next_ms))
		bench_fail(b, "cannot arm the pacing timer");
}

/* Answer (if any) sent, then the signature settled, as the node does;
 * returns the event, or a negative error. */
static int hs_answer_settle(struct client *c, const uint8_t *msg, size_t len, uint64_t now_ms, uint64_t *crypto_ns,
			    uint64_t *done_ns, bool *confirmed, uint64_t *in_ns, uint64_t *out_ns)
{
	struct bench *b = c->b;
	struct pq_hs_result res;
	uint64_t t1 = now_ns(), t2;
	long n = strict_at(b, c->index)
			 ? pq_hs_receive(&c->hs, c->peer.pub, msg, len, now_ms, now_ms, b->reply, sizeof(b->reply), &res)
			 : pq_hs_receive_first(&c->hs, c->peer.pub, msg, len, now_ms, now_ms, b->reply,
					       sizeof(b->reply), &res);
	int ret;

	t2 = now_ns();
	*in_ns = t1;
	*out_ns = t2;
	*crypto_ns += t2 - t1;
	if (n > 0 && relay_send(c, b->reply, (size_t)n))
		bench_fail(b, "cannot queue the answer");
	t1 = now_ns();
	ret = pq_hs_settle(&c->hs, &res, now_ms);
	*done_ns = now_ns();
	*crypto_ns += *done_ns - t1;
	if (n < 0 || ret) {
		fprintf(stderr, "%s: handshake message 0x%02x dropped: %s\n", c->name, msg[0],
			pq_strerror(n < 0 ? (int)n : ret));
		ret = n < 0 ? (int)n : ret;
	} else {
		ret = (int)res.event;
		*confirmed = res.confirmed;
	}
	pq_hs_result_wipe(&res);
	return ret;
}

/* A handshake message from the other client, through the relay. */
static void hs_message(struct client *c, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct bench *b = c->b;
	bool is_a = c == &b->a;
	struct hs_times *t;
	uint64_t crypto_ns = 0, done_ns, in_ns, out_ns;
	bool confirmed = false;
	int ev;

	if (!is_a && msg[0] == PQ_MSG_HS_INIT)
		c->index++;
	if (c->index < 0 || c->index >= total_runs(b)) {
		bench_fail(b, "a handshake message outside the run");
		return;
	}
	t = &b->sh->hs[c->index];
	ev = hs_answer_settle(c, msg, len, now_ms, &crypto_ns, &done_ns, &confirmed, &in_ns, &out_ns);
	if (ev < 0) {
		bench_fail(b, "a handshake message was refused (see above)");
	} else if (is_a && msg[0] == PQ_MSG_HS_RESP && ev == PQ_HS_EV_KEYS && confirmed) {
		t->crypto_a += crypto_ns;
		t->resp_in = in_ns;
		t->finish_out = out_ns;
		t->ta = done_ns;
		arm_refill(c);
	} else if (!is_a && msg[0] == PQ_MSG_HS_INIT && ev == PQ_HS_EV_KEYS) {
		t->crypto_b = crypto_ns; /* HS_RESP is on its way */
		t->init_in = in_ns;
		t->resp_out = out_ns;
	} else if (!is_a && msg[0] == PQ_MSG_HS_FINISH && ev == PQ_HS_EV_CONFIRMED) {
		t->crypto_b += crypto_ns;
		t->finish_in = in_ns;
		__atomic_store_n(&t->tb, done_ns, __ATOMIC_RELEASE);
		arm_refill(c);
	} else {
		bench_fail(b, "unexpected handshake event");
	}
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

/* PEER_OFFLINE: the end of the run for B once it confirmed the last
 * handshake (A closed its conn), a failure before that. */
static void on_offline(struct client *c, const uint8_t *msg, size_t len)
{
	struct pq_peer_key_msg m;

	if (pq_peer_offline_decode(&m, msg, len) || memcmp(m.key, c->other->pub, PQ_PUBKEY_LEN)) {
		bench_fail(c->b, "malformed PEER_OFFLINE or unknown peer");
	} else if (c == &c->b->b && c->index == total_runs(c->b) - 1 && c->b->sh->hs[c->index].tb) {
		finish_client(c);
	} else if (!c->b->finishing) {
		bench_fail(c->b, "the other client went offline during the run");
	}
}

/* Logged in and the other client seen: B fills its pool once, A starts. */
static void client_ready(struct client *c)
{
	if (!c->welcomed || !c->sees_other)
		return;
	if (c == &c->b->a)
		maybe_start(c->b);
	else
		refill_pool(c->b->loop, &c->refill, c, pq_loop_now(c->b->loop));
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
		client_ready(c);
		return;
	case PQ_MSG_PEER_ONLINE:
		if (pq_peer_online_decode(&on, msg, len) == 0 && !memcmp(on.key, c->other->pub, PQ_PUBKEY_LEN) &&
		    !c->sees_other) {
			c->sees_other = true;
			client_ready(c);
		}
		return;
	case PQ_MSG_PEER_OFFLINE:
		on_offline(c, msg, len);
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

/* The loop ends when every client of this process has closed. */
static void on_close(void *ctx, struct pq_conn *conn, const struct pq_conn_reason *why)
{
	struct client *c = ctx;
	struct bench *b = c->b;

	c->closed = true;
	if (!b->finishing) {
		fprintf(stderr, "%s: connection ended (kind %d, %s)\n", c->name, (int)why->end,
			why->err ? pq_strerror(why->err) : "no detail");
		bench_fail(b, "a relay connection ended early");
	} else if ((!b->a.active || b->a.closed) && (!b->b.active || b->b.closed)) {
		pq_loop_stop(b->loop);
	}
}

static void deadline_hit(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	bench_fail(arg, "deadline passed (relay not reachable, or handshakes stalled)");
}

/* A's process: B's ending before A has finished is a failure (its
 * connect failed, it crashed); seen within WATCH_B_MS, not at the
 * deadline. */
static void watch_b(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct bench *b = arg;

	if (waitpid(b->b_pid, &b->b_status, WNOHANG) == b->b_pid) {
		b->b_reaped = true;
		if (!b->finishing)
			bench_fail(b, "B's process ended early (see its messages above)");
		return;
	}
	if (pq_loop_timer_start(loop, &b->watch_b, WATCH_B_MS))
		bench_fail(b, "cannot arm the watch timer");
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

/* The measured handshakes of one order (strict or not), one figure each. */
enum figure { /* in the order printed; the legs follow the critical path */
	FIG_SENT, FIG_TOTAL, FIG_A, FIG_CRYPTO_A, FIG_CRYPTO_B,
	FIG_HOP1, FIG_B_ANSWER, FIG_HOP2, FIG_A_ANSWER, FIG_HOP3, FIG_REST,
	FIG_COUNT
};

static double figure_us(const struct hs_times *t, enum figure f)
{
	uint64_t ns = 0;

	switch (f) {
	case FIG_SENT: ns = t->tb - t->sent; break;
	case FIG_TOTAL: ns = (t->ta > t->tb ? t->ta : t->tb) - t->t0; break;
	case FIG_A: ns = t->ta - t->t0; break;
	case FIG_CRYPTO_A: ns = t->crypto_a; break;
	case FIG_CRYPTO_B: ns = t->crypto_b; break;
	case FIG_REST: ns = t->tb - t->t0 - t->crypto_a - t->crypto_b; break;
	case FIG_HOP1: ns = t->init_in - t->sent; break;
	case FIG_B_ANSWER: ns = t->resp_out - t->init_in; break;
	case FIG_HOP2: ns = t->resp_in - t->resp_out; break;
	case FIG_A_ANSWER: ns = t->finish_out - t->resp_in; break;
	case FIG_HOP3: ns = t->finish_in - t->finish_out; break;
	case FIG_COUNT: break;
	}
	return (double)ns / 1000.0;
}

static int pick(const struct bench *b, bool strict, enum figure f, double *out)
{
	int k = 0;

	for (int i = b->warmup; i < total_runs(b); i++)
		if (strict_at(b, i) == strict)
			out[k++] = figure_us(&b->sh->hs[i], f);
	return k;
}

/* What each figure's line says. */
static const char *const figure_label[FIG_COUNT] = {
	[FIG_SENT] = "from HS_INIT sent (tB - ts)",
	[FIG_TOTAL] = "both confirmed (max(tA,tB)-t0)",
	[FIG_A] = "initiator confirmed (tA-t0)",
	[FIG_CRYPTO_A] = "  A inside pq_hs_* calls",
	[FIG_CRYPTO_B] = "  B inside pq_hs_* calls",
	[FIG_HOP1] = "  leg HS_INIT A->relay->B",
	[FIG_B_ANSWER] = "  leg B builds HS_RESP",
	[FIG_HOP2] = "  leg HS_RESP B->relay->A",
	[FIG_A_ANSWER] = "  leg A builds HS_FINISH",
	[FIG_HOP3] = "  leg HS_FINISH A->relay->B",
	[FIG_REST] = "  rest: transport+relay+loop",
};
static void report_order(const struct bench *b, bool strict, double *tmp)
{
	int n = pick(b, strict, FIG_SENT, tmp);

	if (n == 0)
		return;
	printf("%s (%d handshakes):\n", strict ? "strict order: verify, then answer (pq_hs_receive)"
					       : "answer first, then verify (pq_hs_receive_first + pq_hs_settle, as the node)",
	       n);
	for (enum figure f = 0; f < FIG_COUNT; f++) {
		/* One thread: the calls run one after the other, so the rest
		 * is TLS, WebSocket, relay and loop; in two processes they
		 * overlap and the difference means nothing. */
		if (f == FIG_REST && b->procs != 1)
			continue;
		pick(b, strict, f, tmp);
		bench_print_line(figure_label[f], tmp, n, 0);
	}
}

static void report(const struct bench *b, const struct pq_hs_stats *sa, const struct pq_hs_stats *sb)
{
	double *tmp = calloc((size_t)b->runs, sizeof(double));

	printf("handshakes: %d measured (+%d warm-up not counted), one at a time, started %u ms apart; "
	       "clients in %d process%s\n", b->runs, b->warmup, (unsigned)b->pace_ms, b->procs,
	       b->procs == 1 ? " (one thread, one loop)" : "es (one loop each, as two nodes)");
	printf("figures in microseconds (µs), wall clock CLOCK_MONOTONIC; each line is its own\n"
	       "distribution (the parts' percentiles need not add up to the total's):\n");
	if (tmp) {
		report_order(b, false, tmp);
		report_order(b, true, tmp);
		free(tmp);
	}
	printf("HS_INIT sent by A: %llu; refused by B: rate limit %llu, stale %llu, MAC %llu, signature %llu\n",
	       (unsigned long long)sa->init_sent, (unsigned long long)sb->drop_rate,
	       (unsigned long long)sb->drop_stale, (unsigned long long)sb->drop_mac,
	       (unsigned long long)sb->drop_signature);
	printf("precomputed key pairs (PRECOMPUTE=%d): A took %llu, made %llu on the spot; B took %llu, made %llu on "
	       "the spot\n", b->precompute, (unsigned long long)sa->pool_used, (unsigned long long)sa->pool_empty,
	       (unsigned long long)sb->pool_used, (unsigned long long)sb->pool_empty);
}

static int parse_args(int argc, char **argv, struct bench *b, struct pq_sockaddr *addr, uint8_t *relay_pub)
{
	if (argc < 4 || argc > 10) {
		fprintf(stderr, "usage: %s RELAY_IP PORT RELAY_PUB_B64 [N [PACE_MS [WARMUP [PRECOMPUTE [ORDER "
			"[PROCS]]]]]]\nORDER: first (default, as the node), strict, both (alternating)\n"
			"PROCS: 2 (default: A and B in two processes, as two nodes), 1 (one thread)\n", argv[0]);
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
	b->procs = argc > 9 ? atoi(argv[9]) : 2;
	if (b->order < 0 || (b->procs != 1 && b->procs != 2)) {
		fprintf(stderr, "ORDER must be first, strict or both; PROCS 1 or 2\n");
		return PQ_E_INVAL;
	}
	if (b->runs < 1 || b->runs > MAX_RUNS || b->warmup < 0 || b->warmup > 100 || b->pace_ms < 40 ||
	    b->pace_ms > 10000) {
		fprintf(stderr, "N must be 1..%d, PACE_MS 40..10000, WARMUP 0..100\n", MAX_RUNS);
		return PQ_E_INVAL;
	}
	if (pq_sockaddr_from_ip(addr, argv[1], (unsigned)atoi(argv[2])) ||
	    pq_key_from_base64(relay_pub, argv[3], strlen(argv[3]))) {
		fprintf(stderr, "bad relay address or public key\n");
		return PQ_E_INVAL;
	}
	return 0;
}

/* This process's part: a loop, its active clients connected, run until
 * they have closed or the deadline. 0 on success. */
static int run_clients(struct bench *b, const struct pq_sockaddr *addr, const uint8_t *relay_pub)
{
	uint64_t budget = SETUP_BUDGET_MS + (uint64_t)total_runs(b) * (b->pace_ms + 2000);
	struct client *cs[2] = { &b->a, &b->b };
	int ret;

	if ((ret = pq_loop_new(&b->loop))) {
		fprintf(stderr, "%s", "cannot make an event loop\n");
		return ret;
	}
	pq_hs_peer_init(&b->a.peer, b->b.pub, pq_loop_now(b->loop));
	pq_hs_peer_init(&b->b.peer, b->a.pub, pq_loop_now(b->loop));
	pq_timer_init(&b->pace, hs_tick, b);
	pq_timer_init(&b->deadline, deadline_hit, b);
	pq_timer_init(&b->watch_b, watch_b, b);
	if ((ret = pq_loop_timer_start(b->loop, &b->deadline, budget)) ||
	    (b->b_pid > 0 && (ret = pq_loop_timer_start(b->loop, &b->watch_b, WATCH_B_MS))))
		goto out;
	for (int i = 0; i < 2; i++) {
		pq_timer_init(&cs[i]->refill, refill_pool, cs[i]);
		if (cs[i]->active && (ret = client_connect(cs[i], addr, relay_pub)))
			goto out;
	}
	if (pq_loop_run(b->loop))
		bench_fail(b, "event loop failed");
	if (b->fail)
		fprintf(stderr, "FAIL (%s%s side, after %d handshakes): %s\n", b->a.active ? "A" : "",
			b->b.active ? "B" : "", b->a.active ? b->a.index : b->b.index, b->fail);
	ret = b->fail ? PQ_E_STATE : 0;
out:
	if (ret && !b->fail)
		fprintf(stderr, "cannot start: %s\n", pq_strerror(ret));
	pq_loop_timer_cancel(b->loop, &b->deadline);
	pq_loop_timer_cancel(b->loop, &b->pace);
	pq_loop_timer_cancel(b->loop, &b->watch_b);
	return ret;
}

/* Fork B's process (PROCS 2); in it, run B and exit. The parent keeps A. */
static int fork_b(struct bench *b, const struct pq_sockaddr *addr, const uint8_t *relay_pub)
{
	pid_t parent = getpid();

	fflush(NULL);
	if ((b->b_pid = fork()) < 0) {
		perror("fork");
		b->b_pid = 0;
		return PQ_E_STATE;
	}
	if (b->b_pid == 0) {
		int ret;

		/* A's process gone (killed by hand): B goes too. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(1);
		b->a.active = false;
		ret = run_clients(b, addr, relay_pub);
		b->sh->b_stats = b->b.hs.stats;
		client_free(&b->b);
		if (b->loop)
			pq_loop_free(b->loop);
		_exit(ret ? 1 : 0);
	}
	b->b.active = false;
	return 0;
}

/* B's process: reaped by watch_b already, or waited for here, at most
 * REAP_WAIT_MS (none if kill_it: A failed), then killed. 0 if it ended
 * by itself with status 0, or was killed on purpose. */
static int reap_b(struct bench *b, bool kill_it)
{
	for (int i = 0; !kill_it && !b->b_reaped && i < REAP_WAIT_MS / 10; i++) {
		if (waitpid(b->b_pid, &b->b_status, WNOHANG) == b->b_pid)
			b->b_reaped = true;
		else
			usleep(10000);
	}
	if (!b->b_reaped) {
		kill(b->b_pid, SIGKILL);
		(void)waitpid(b->b_pid, &b->b_status, 0);
		b->b_reaped = true;
		if (kill_it)
			return 0;
		fprintf(stderr, "B's process did not end within %d ms of A's\n", REAP_WAIT_MS);
		return PQ_E_STATE;
	}
	if (!WIFEXITED(b->b_status) || WEXITSTATUS(b->b_status)) {
		fprintf(stderr, "B's process failed (status 0x%x)\n", b->b_status);
		return PQ_E_STATE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct pq_sockaddr addr;
	uint8_t relay_pub[PQ_PUBKEY_LEN];
	int ret, status = 1;

	if (parse_args(argc, argv, &b, &addr, relay_pub))
		return 2;
	b.a = (struct client){ .name = "A", .b = &b, .other = &b.b, .active = true };
	b.b = (struct client){ .name = "B", .b = &b, .other = &b.a, .active = true, .index = -1 };
	b.sh_len = sizeof(struct shared) + (size_t)total_runs(&b) * sizeof(struct hs_times);
	b.sh = mmap(NULL, b.sh_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b.sh == MAP_FAILED) {
		b.sh = NULL;
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	if ((ret = client_setup(&b.a)) || (ret = client_setup(&b.b))) {
		fprintf(stderr, "client setup: %s\n", pq_strerror(ret));
		goto out;
	}
	if (b.procs == 2 && fork_b(&b, &addr, relay_pub))
		goto out;
	ret = run_clients(&b, &addr, relay_pub);
	if (b.b_pid > 0) {
		int b_ret = reap_b(&b, ret != 0);

		ret = ret ? ret : b_ret;
	}
	if (ret)
		goto out;
	report(&b, &b.a.hs.stats, b.procs == 2 ? &b.sh->b_stats : &b.b.hs.stats);
	status = 0;
out:
	if (b.b_pid > 0 && !b.b_reaped)
		(void)reap_b(&b, true);
	client_free(&b.a);
	client_free(&b.b);
	if (b.loop)
		pq_loop_free(b.loop);
	if (b.sh)
		munmap(b.sh, b.sh_len);
	return status;
}
