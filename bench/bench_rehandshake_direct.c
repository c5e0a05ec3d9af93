/*
 * bench_rehandshake_direct.c - latency of the re-handshake (DESIGN §5,
 * docs/PROTOCOL.md §5) over an open direct connection (issue 5 figures).
 *
 * One direct connection as the node makes it: a pq_listener on
 * 127.0.0.1 (TLS server context from a fresh Ed25519 key, client
 * certificates required and pinned with pq_tls_ctx_require_client) and a
 * pq_conn_connect to it (client context from another fresh key, the
 * server's key pinned), TLS 1.3 + WebSocket. Both ends check that they see
 * the same TLS exporter and use it as the re-handshake's binding.
 *
 * Session keys: the re-handshake needs only the session id and the two
 * per-direction re-handshake keys (rehs_i2r, rehs_r2i) a hybrid handshake
 * would have made; here they are random bytes, shared by both ends. The
 * dialer (client) is the re-handshake initiator and, arbitrarily, the
 * hybrid-handshake initiator too.
 *
 * One sample, all on the real clock (CLOCK_MONOTONIC):
 *   t0  the client sets up its run (pq_rehs_init) and builds REQUEST
 *       (pq_rehs_start), queues it with pq_conn_send
 *       server: pq_rehs_init + pq_rehs_receive(REQUEST) -> RESPONSE, queued
 *   tA  client: pq_rehs_receive(RESPONSE) -> COMPLETED, COMPLETE queued
 *   tB  server: pq_rehs_receive(COMPLETE) -> COMPLETED  -> sample tB - t0
 * Runs follow each other at once (the next starts on the next loop turn
 * after tB), over the same connection.
 *
 * Protocol clock: each side keeps one pq_challenge_cache for the whole
 * run, as the node keeps one per session. The cache holds 64 challenges
 * for the ±30 s window (32 runs per 30 s), so the now_ms given to pq_rehs_*
 * is a fake Unix time that advances 2 s per run (same on both sides);
 * the elapsed time is still measured on the real clock.
 *
 * Usage: bench_rehandshake_direct [N [WARMUP]]   (defaults 1000, 20)
 * Prints p50/p90/p99/min/max in microseconds; exit 0 on success.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ed25519.h"
#include "crypto/keysched.h"
#include "crypto/util.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tls.h"
#include "proto/challenge_cache.h"
#include "proto/msg_rehs.h"
#include "proto/rehandshake.h"
#include "bench_stats.h"

#define MAX_RUNS 100000
#define FAKE_START_MS 1800000000000ull /* a fixed Unix time (2027) */
#define FAKE_STEP_MS 2000u             /* protocol clock advance per run */
#define BUDGET_MS 120000u              /* the whole run, setup included */

struct side {
	const char *name;
	struct pq_tls_ctx *tls;
	uint8_t pub[PQ_TLS_KEY_LEN];
	struct pq_conn *conn;
	struct pq_rehs run;
	struct pq_challenge_cache cache;
	struct pq_rehs_counters counters;
	bool closed;
};

struct bench {
	struct pq_loop *loop;
	struct pq_listener *listener;
	struct side cli, srv;
	struct pq_timer next, deadline;
	int runs, warmup, done;
	bool finishing;
	const char *fail;
	uint64_t fake_ms, t0_ns, ta_ns, crypto_ns;
	double *total_us, *a_us, *crypto_us;
	uint8_t session_id[PQ_SESSION_ID_LEN];
	uint8_t key_i2r[PQ_KEY_LEN], key_r2i[PQ_KEY_LEN];
	uint8_t binding[PQ_REHS_BINDING_LEN];
};

static struct bench g;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void bench_fail(const char *why)
{
	if (!g.fail)
		g.fail = why;
	pq_loop_stop(g.loop);
}

static int allow_client(void *arg, const uint8_t pub[PQ_TLS_KEY_LEN])
{
	return memcmp(pub, g.cli.pub, PQ_TLS_KEY_LEN) == 0;
}

/* A fresh identity and its TLS context. */
static int side_setup(struct side *s, enum pq_tls_role role)
{
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int ret;

	if ((ret = pq_ed25519_generate(priv)) || (ret = pq_tls_ctx_new(&s->tls, role, priv)))
		goto out;
	memcpy(s->pub, pq_tls_ctx_public(s->tls), PQ_TLS_KEY_LEN);
	pq_challenge_cache_init(&s->cache);
out:
	pq_wipe(priv, sizeof(priv));
	return ret;
}

/* A new run for side s at the current fake time (the node makes a new
 * pq_rehs per run, on the session's cache). */
static int rehs_setup(struct side *s, enum pq_rehs_role role)
{
	bool hs_init = role == PQ_REHS_INITIATOR;
	struct pq_rehs_config cfg = {
		.role = role,
		.hs_initiator = hs_init,
		.session_id = g.session_id,
		.send_key = hs_init ? g.key_i2r : g.key_r2i,
		.recv_key = hs_init ? g.key_r2i : g.key_i2r,
		.binding = g.binding,
		.counters = &s->counters,
	};

	return pq_rehs_init(&s->run, &cfg, g.fake_ms);
}

/* Timer: start run number g.done; the client initiates. */
static void run_start(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	uint8_t req[PQ_REHS_REQUEST_MSG_LEN];
	size_t len = 0;
	uint64_t t1;

	g.fake_ms += FAKE_STEP_MS;
	g.t0_ns = now_ns();
	if (rehs_setup(&g.cli, PQ_REHS_INITIATOR) ||
	    pq_rehs_start(&g.cli.run, &g.cli.cache, g.fake_ms, req, sizeof(req), &len)) {
		bench_fail("cannot start a run (pq_rehs_init / pq_rehs_start)");
		return;
	}
	t1 = now_ns();
	g.crypto_ns = t1 - g.t0_ns;
	g.ta_ns = 0;
	if (pq_conn_send(g.cli.conn, req, len))
		bench_fail("cannot queue REQUEST");
}

static void finish_all(void)
{
	g.finishing = true;
	pq_conn_close(g.cli.conn, 1000);
}

static void run_done(uint64_t tb_ns)
{
	int i = g.done - g.warmup;

	if (i >= 0) {
		g.total_us[i] = (double)(tb_ns - g.t0_ns) / 1000.0;
		g.a_us[i] = (double)(g.ta_ns - g.t0_ns) / 1000.0;
		g.crypto_us[i] = (double)g.crypto_ns / 1000.0;
	}
	pq_rehs_clear(&g.cli.run);
	pq_rehs_clear(&g.srv.run);
	g.done++;
	if (g.done >= g.warmup + g.runs)
		finish_all();
	else if (pq_loop_timer_start(g.loop, &g.next, 0))
		bench_fail("cannot arm the next-run timer");
}

/* One re-handshake message for side s: feed it, send the answer. */
static void on_message(void *ctx, struct pq_conn *conn, const uint8_t *msg, size_t len)
{
	struct side *s = ctx;
	uint8_t out[PQ_REHS_MAX_MSG_LEN];
	size_t out_len = 0;
	uint64_t t1 = now_ns(), t2;
	int ret = 0;

	if (s == &g.srv && len > 0 && msg[0] == PQ_MSG_REHS_REQUEST)
		ret = rehs_setup(s, PQ_REHS_RESPONDER);
	if (!ret)
		ret = pq_rehs_receive(&s->run, &s->cache, msg, len, g.fake_ms, out, sizeof(out), &out_len);
	t2 = now_ns();
	g.crypto_ns += t2 - t1;
	if (ret) {
		fprintf(stderr, "%s: message 0x%02x refused: %s (%s)\n", s->name, len ? msg[0] : 0,
			pq_strerror(ret), pq_rehs_reason_name(pq_rehs_fail_reason(&s->run)));
		bench_fail("a re-handshake message was refused (see above)");
		return;
	}
	if (s == &g.cli && pq_rehs_state(&s->run) == PQ_REHS_COMPLETED && out_len > 0)
		g.ta_ns = t2;
	if (out_len > 0 && pq_conn_send(conn, out, out_len)) {
		bench_fail("cannot queue RESPONSE / COMPLETE");
		return;
	}
	if (s == &g.srv && pq_rehs_state(&s->run) == PQ_REHS_COMPLETED) {
		if (!g.ta_ns)
			bench_fail("server completed before the client");
		else
			run_done(t2);
	}
}

static void maybe_begin(void)
{
	const uint8_t *ec, *es;

	if (!g.cli.conn || !g.srv.conn || !pq_conn_is_open(g.cli.conn) || !pq_conn_is_open(g.srv.conn))
		return;
	ec = pq_conn_exporter(g.cli.conn);
	es = pq_conn_exporter(g.srv.conn);
	if (!ec || !es || memcmp(ec, es, PQ_REHS_BINDING_LEN)) {
		bench_fail("the two ends see different TLS exporters");
		return;
	}
	if (!pq_conn_peer_key(g.srv.conn) || memcmp(pq_conn_peer_key(g.srv.conn), g.cli.pub, PQ_TLS_KEY_LEN)) {
		bench_fail("the server did not pin the client's key");
		return;
	}
	memcpy(g.binding, ec, PQ_REHS_BINDING_LEN);
	pq_listener_free(g.listener);
	g.listener = NULL;
	if (pq_loop_timer_start(g.loop, &g.next, 0))
		bench_fail("cannot arm the first-run timer");
}

static void on_open_cli(void *ctx, struct pq_conn *conn)
{
	maybe_begin();
}

static void on_open_srv(void *ctx, struct pq_conn *conn)
{
	if (g.srv.conn) {
		pq_conn_close(conn, 1008);
		return;
	}
	g.srv.conn = conn;
	maybe_begin();
}

static void on_close(void *ctx, struct pq_conn *conn, const struct pq_conn_reason *why)
{
	struct side *s = ctx;

	if (s == &g.srv && conn != g.srv.conn)
		return;
	s->closed = true;
	if (!g.finishing) {
		fprintf(stderr, "%s: connection ended (kind %d, %s)\n", s->name, (int)why->end,
			why->err ? pq_strerror(why->err) : "no detail");
		bench_fail("the direct connection ended early");
	} else if (g.cli.closed && g.srv.closed) {
		pq_loop_stop(g.loop);
	}
}

static void deadline_hit(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	bench_fail("deadline passed (connection not up, or runs stalled)");
}

static int open_direct(void)
{
	static const struct pq_conn_cbs cli_cbs = { .on_open = on_open_cli, .on_message = on_message,
						    .on_close = on_close };
	static const struct pq_conn_cbs srv_cbs = { .on_open = on_open_srv, .on_message = on_message,
						    .on_close = on_close };
	struct pq_sockaddr any;
	struct pq_conn_target tg;
	int ret;

	if ((ret = pq_tls_ctx_require_client(g.srv.tls, allow_client, NULL)) ||
	    (ret = pq_sockaddr_from_ip(&any, "127.0.0.1", 0)) ||
	    (ret = pq_listener_new(&g.listener, g.loop, g.srv.tls, &any, NULL, &srv_cbs, &g.srv)))
		return ret;
	memset(&tg, 0, sizeof(tg));
	tg.addr = *pq_listener_addr(g.listener);
	tg.pin = g.srv.pub;
	return pq_conn_connect(&g.cli.conn, g.loop, g.cli.tls, &tg, NULL, &cli_cbs, &g.cli);
}

static void report(void)
{
	int n = g.runs;
	double *net = calloc((size_t)n, sizeof(double));

	for (int i = 0; net && i < n; i++)
		net[i] = g.total_us[i] - g.crypto_us[i];
	printf("re-handshakes: %d measured (+%d warm-up not counted), back to back on one direct conn\n", n,
	       g.warmup);
	printf("figures in microseconds (µs), real clock CLOCK_MONOTONIC; each line is its own distribution:\n");
	bench_print_line("both COMPLETED (tB - t0)", g.total_us, n, 1);
	bench_print_line("initiator COMPLETED (tA - t0)", g.a_us, n, 1);
	bench_print_line("  of which pq_rehs_* calls", g.crypto_us, n, 1);
	if (net)
		bench_print_line("  of which TLS+WebSocket+loop", net, n, 1);
	free(net);
	printf("completed: client %u, server %u; failures: client %u, server %u (time %u, replay %u, mac %u, cache full %u)\n",
	       g.cli.counters.completed, g.srv.counters.completed,
	       g.cli.counters.decode + g.cli.counters.unexpected + g.cli.counters.session_id + g.cli.counters.time +
		       g.cli.counters.replay + g.cli.counters.reflect + g.cli.counters.mac + g.cli.counters.timeout +
		       g.cli.counters.cache_full + g.cli.counters.local,
	       g.srv.counters.decode + g.srv.counters.unexpected + g.srv.counters.session_id + g.srv.counters.time +
		       g.srv.counters.replay + g.srv.counters.reflect + g.srv.counters.mac + g.srv.counters.timeout +
		       g.srv.counters.cache_full + g.srv.counters.local,
	       g.srv.counters.time, g.srv.counters.replay, g.srv.counters.mac, g.cli.counters.cache_full);
}

int main(int argc, char **argv)
{
	int ret, status = 1;

	g.runs = argc > 1 ? atoi(argv[1]) : 1000;
	g.warmup = argc > 2 ? atoi(argv[2]) : 20;
	if (argc > 3 || g.runs < 1 || g.runs > MAX_RUNS || g.warmup < 0 || g.warmup > 1000) {
		fprintf(stderr, "usage: %s [N (1..%d) [WARMUP (0..1000)]]\n", argv[0], MAX_RUNS);
		return 2;
	}
	g.cli.name = "client";
	g.srv.name = "server";
	g.fake_ms = FAKE_START_MS;
	g.total_us = calloc((size_t)g.runs, sizeof(double));
	g.a_us = calloc((size_t)g.runs, sizeof(double));
	g.crypto_us = calloc((size_t)g.runs, sizeof(double));
	if (!g.total_us || !g.a_us || !g.crypto_us || pq_loop_new(&g.loop)) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	if ((ret = side_setup(&g.cli, PQ_TLS_CLIENT)) || (ret = side_setup(&g.srv, PQ_TLS_SERVER)) ||
	    (ret = pq_random_bytes(g.session_id, sizeof(g.session_id))) ||
	    (ret = pq_random_bytes(g.key_i2r, sizeof(g.key_i2r))) ||
	    (ret = pq_random_bytes(g.key_r2i, sizeof(g.key_r2i)))) {
		fprintf(stderr, "setup: %s\n", pq_strerror(ret));
		goto out;
	}
	pq_timer_init(&g.next, run_start, NULL);
	pq_timer_init(&g.deadline, deadline_hit, NULL);
	if ((ret = pq_loop_timer_start(g.loop, &g.deadline, BUDGET_MS)) || (ret = open_direct())) {
		fprintf(stderr, "cannot open the direct connection: %s\n", pq_strerror(ret));
		goto out;
	}
	if (pq_loop_run(g.loop))
		bench_fail("event loop failed");
	pq_loop_timer_cancel(g.loop, &g.deadline);
	pq_loop_timer_cancel(g.loop, &g.next);
	if (g.fail) {
		fprintf(stderr, "FAIL after %d runs: %s\n", g.done, g.fail);
		goto out;
	}
	report();
	status = 0;
out:
	if (g.fail || status) {
		if (g.cli.conn && !g.cli.closed)
			pq_conn_abort(g.cli.conn);
		if (g.srv.conn && !g.srv.closed)
			pq_conn_abort(g.srv.conn);
	}
	pq_listener_free(g.listener);
	pq_rehs_clear(&g.cli.run);
	pq_rehs_clear(&g.srv.run);
	pq_wipe(g.key_i2r, sizeof(g.key_i2r));
	pq_wipe(g.key_r2i, sizeof(g.key_r2i));
	if (g.loop)
		pq_loop_free(g.loop);
	pq_tls_ctx_free(g.cli.tls);
	pq_tls_ctx_free(g.srv.tls);
	free(g.total_us);
	free(g.a_us);
	free(g.crypto_us);
	return status;
}
