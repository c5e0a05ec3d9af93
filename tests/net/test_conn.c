/*
 * test_conn.c - message connections (TCP, TLS 1.3 pinned, WebSocket) on
 * the real loop over 127.0.0.1: messages both ways and in order, close
 * reasons from either side, 1009 for an oversize message, 1002 for an
 * unmasked client frame, garbage and plain HTTP refused without touching
 * other conns, a stalled upgrade closed at the deadline, a wrong pin, a
 * refused connect, the bounded send queue; and the throughput figure of
 * 1420-byte messages (printed, not asserted). alarm() bounds every test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/ed25519.h"
#include "net/conn.h"
#include "net/conn_internal.h"
#include "net/tls.h"
#include "net/ws.h"
#include "net/ws_handshake.h"
#include "proto/types.h"

struct key {
	uint8_t priv[32], pub[32];
};

struct side {
	struct pq_conn *conn;
	int opened, closed;
	struct pq_conn_reason why;
	uint8_t exporter[32];
	uint8_t peer_key[32];
	bool have_peer_key;
	size_t msgs, bytes;
	uint32_t next_seq;
	bool in_order;
	uint8_t last[PQ_MAX_MSG_LEN];
	size_t last_len;
};

struct env;
typedef bool pred_fn(struct env *e);

struct env {
	struct pq_loop *loop;
	struct key skey, ckey;
	struct pq_tls_ctx *sctx, *cctx;
	struct pq_listener *l;
	struct side srv, cli;
	bool echo;              /* server sends every message back */
	bool seq_check;         /* messages carry a 4-byte sequence number */
	uint16_t srv_close_on_open;
	size_t cli_close_after; /* client closes from on_message after this many */
	pred_fn *pred;
	struct pq_timer tick;
	uint64_t deadline;
};

static struct side *side_of(struct env *e, struct pq_conn *c)
{
	return pq_conn_is_server(c) ? &e->srv : &e->cli;
}

static void maybe_stop(struct env *e)
{
	if (e->pred && e->pred(e))
		pq_loop_stop(e->loop);
}

static void on_open(void *ctx, struct pq_conn *c)
{
	struct env *e = ctx;
	struct side *s = side_of(e, c);

	s->conn = c;
	s->opened++;
	s->in_order = true;
	assert_non_null(pq_conn_exporter(c));
	memcpy(s->exporter, pq_conn_exporter(c), 32);
	if ((s->have_peer_key = pq_conn_peer_key(c) != NULL))
		memcpy(s->peer_key, pq_conn_peer_key(c), 32);
	if (pq_conn_is_server(c) && e->srv_close_on_open)
		pq_conn_close(c, e->srv_close_on_open); /* from inside a callback */
	maybe_stop(e);
}

/* Called with every message the server receives, when set. */
static void (*srv_msg_hook)(const uint8_t *msg, size_t len);

static void on_message(void *ctx, struct pq_conn *c, const uint8_t *msg, size_t len)
{
	struct env *e = ctx;
	struct side *s = side_of(e, c);

	if (pq_conn_is_server(c) && srv_msg_hook)
		srv_msg_hook(msg, len);
	s->msgs++;
	s->bytes += len;
	memcpy(s->last, msg, len);
	s->last_len = len;
	if (e->seq_check) {
		uint32_t seq = (uint32_t)msg[0] << 24 | (uint32_t)msg[1] << 16 |
			       (uint32_t)msg[2] << 8 | msg[3];
		if (seq != s->next_seq)
			s->in_order = false;
		s->next_seq = seq + 1;
	}
	if (pq_conn_is_server(c) && e->echo)
		assert_int_equal(pq_conn_send(c, msg, len), 0);
	if (!pq_conn_is_server(c) && e->cli_close_after && s->msgs == e->cli_close_after)
		pq_conn_close(c, PQ_WS_CLOSE_NORMAL); /* from inside a callback */
	maybe_stop(e);
}

static void on_close(void *ctx, struct pq_conn *c, const struct pq_conn_reason *why)
{
	struct env *e = ctx;
	struct side *s = side_of(e, c);

	s->closed++;
	s->why = *why;
	s->conn = NULL;
	maybe_stop(e);
}

static const struct pq_conn_cbs cbs = {on_open, on_message, on_close};

static void on_tick(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	struct env *e = arg;

	if ((e->pred && e->pred(e)) || now >= e->deadline) {
		pq_loop_stop(loop);
		return;
	}
	assert_int_equal(pq_loop_timer_start(loop, t, 2), 0);
}

/* Run the loop until pred holds (asserted) or ms pass. */
static void run_until(struct env *e, pred_fn *pred, uint64_t ms)
{
	e->pred = pred;
	e->deadline = pq_loop_now(e->loop) + ms;
	assert_int_equal(pq_loop_timer_start(e->loop, &e->tick, 2), 0);
	assert_int_equal(pq_loop_run(e->loop), 0);
	pq_loop_timer_cancel(e->loop, &e->tick);
	assert_true(pred(e));
	e->pred = NULL;
}

static void key_new(struct key *k)
{
	assert_int_equal(pq_ed25519_generate(k->priv), 0);
	assert_int_equal(pq_ed25519_public(k->pub, k->priv), 0);
}

static void env_new(struct env *e, const struct pq_conn_opts *sopts)
{
	struct pq_sockaddr any;

	memset(e, 0, sizeof(*e));
	assert_int_equal(pq_loop_new(&e->loop), 0);
	pq_timer_init(&e->tick, on_tick, e);
	key_new(&e->skey);
	key_new(&e->ckey);
	assert_int_equal(pq_tls_ctx_new(&e->sctx, PQ_TLS_SERVER, e->skey.priv), 0);
	assert_int_equal(pq_tls_ctx_new(&e->cctx, PQ_TLS_CLIENT, e->ckey.priv), 0);
	assert_int_equal(pq_sockaddr_from_ip(&any, "127.0.0.1", 0), 0);
	assert_int_equal(pq_listener_new(&e->l, e->loop, e->sctx, &any, sopts, &cbs, e), 0);
	assert_int_not_equal(pq_sockaddr_port(pq_listener_addr(e->l)), 0);
}

static void env_free(struct env *e)
{
	if (e->srv.conn)
		pq_conn_abort(e->srv.conn);
	if (e->cli.conn && !e->cli.closed)
		pq_conn_abort(e->cli.conn);
	pq_listener_free(e->l);
	/* let reap timers of conns that ended run */
	e->pred = NULL;
	e->deadline = pq_loop_now(e->loop) + 50;
	assert_int_equal(pq_loop_timer_start(e->loop, &e->tick, 2), 0);
	assert_int_equal(pq_loop_run(e->loop), 0);
	pq_loop_free(e->loop);
	pq_tls_ctx_free(e->sctx);
	pq_tls_ctx_free(e->cctx);
}

static void client_connect(struct env *e, const uint8_t *pin, const struct pq_conn_opts *opts)
{
	struct pq_conn_target tg = {
		.addr = *pq_listener_addr(e->l), .pin = pin, .host = NULL, .path = "/pqlan",
	};

	assert_int_equal(pq_conn_connect(&e->cli.conn, e->loop, e->cctx, &tg, opts, &cbs, e), 0);
}

static bool both_open(struct env *e)
{
	return e->srv.opened && e->cli.opened;
}

static bool both_closed(struct env *e)
{
	return e->srv.closed && e->cli.closed;
}

static bool cli_closed(struct env *e)
{
	return e->cli.closed;
}

static bool srv_closed(struct env *e)
{
	return e->srv.closed;
}

static void open_pair(struct env *e, const struct pq_conn_opts *copts)
{
	client_connect(e, e->skey.pub, copts);
	run_until(e, both_open, 5000);
}

/* ---- messages both ways ---- */

static size_t want_cli_msgs;
static bool cli_has_msgs(struct env *e)
{
	return e->cli.msgs >= want_cli_msgs;
}

static void test_exchange(void **state)
{
	static uint8_t msg[PQ_MAX_FRAME_LEN];
	const size_t sizes[] = {1, 1500, PQ_MAX_FRAME_LEN};
	struct env e;
	const struct sockaddr_in *peer;
	size_t i;

	alarm(30);
	env_new(&e, NULL);
	e.echo = true;
	open_pair(&e, NULL);
	/* same channel binding both ends; the client saw the pinned key */
	assert_memory_equal(e.cli.exporter, e.srv.exporter, 32);
	assert_true(e.cli.have_peer_key);
	assert_memory_equal(e.cli.peer_key, e.skey.pub, 32);
	assert_false(e.srv.have_peer_key); /* no client certificates asked */
	peer = (const struct sockaddr_in *)&pq_conn_peer_addr(e.srv.conn)->ss;
	assert_int_equal(peer->sin_family, AF_INET);
	assert_int_equal(ntohl(peer->sin_addr.s_addr), INADDR_LOOPBACK);

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t j;

		for (j = 0; j < sizes[i]; j++)
			msg[j] = (uint8_t)(j * 7 + i);
		assert_int_equal(pq_conn_send(e.cli.conn, msg, sizes[i]), 0);
		want_cli_msgs = i + 1;
		run_until(&e, cli_has_msgs, 5000);
		assert_int_equal(e.srv.last_len, sizes[i]);
		assert_memory_equal(e.srv.last, msg, sizes[i]);
		assert_int_equal(e.cli.last_len, sizes[i]);
		assert_memory_equal(e.cli.last, msg, sizes[i]);
	}

	/* 1000 messages in one burst, in order both ways; the client closes
	 * from inside on_message after the last echo */
	e.seq_check = true;
	e.srv.next_seq = e.cli.next_seq = 0;
	e.srv.msgs = e.cli.msgs = 0;
	e.cli_close_after = 1000;
	for (i = 0; i < 1000; i++) {
		memset(msg, 0xa5, 200);
		msg[0] = (uint8_t)(i >> 24);
		msg[1] = (uint8_t)(i >> 16);
		msg[2] = (uint8_t)(i >> 8);
		msg[3] = (uint8_t)i;
		assert_int_equal(pq_conn_send(e.cli.conn, msg, 100 + i % 200), 0);
	}
	run_until(&e, both_closed, 5000);
	assert_int_equal(e.srv.msgs, 1000);
	assert_int_equal(e.cli.msgs, 1000);
	assert_true(e.srv.in_order);
	assert_true(e.cli.in_order);
	assert_int_equal(e.cli.why.end, PQ_CONN_END_LOCAL);
	assert_int_equal(e.cli.why.ws_code, 1000);
	assert_int_equal(e.srv.why.end, PQ_CONN_END_PEER);
	assert_int_equal(e.srv.why.ws_code, 1000);
	assert_int_equal(e.cli.closed, 1);
	assert_int_equal(e.srv.closed, 1);
	env_free(&e);
}

/* ---- the server closes with its own code, from inside on_open ---- */

static void test_server_closes(void **state)
{
	struct env e;
	struct pq_listener_stats st;

	alarm(20);
	env_new(&e, NULL);
	e.srv_close_on_open = 4000;
	client_connect(&e, e.skey.pub, NULL);
	run_until(&e, both_closed, 5000);
	assert_int_equal(e.cli.opened, 1);
	assert_int_equal(e.srv.why.end, PQ_CONN_END_LOCAL);
	assert_int_equal(e.srv.why.ws_code, 4000);
	assert_int_equal(e.cli.why.end, PQ_CONN_END_PEER);
	assert_int_equal(e.cli.why.ws_code, 4000);
	pq_listener_stats(e.l, &st);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.opened, 1);
	assert_int_equal(st.failed, 0);
	env_free(&e);
}

/* ---- oversize message: 1009 from the header ---- */

static void test_oversize(void **state)
{
	static uint8_t msg[1001];
	struct pq_conn_opts sopts = {.max_msg = 1000};
	struct env e;

	alarm(20);
	env_new(&e, &sopts);
	open_pair(&e, NULL);
	memset(msg, 1, sizeof(msg));
	assert_int_equal(pq_conn_send(e.cli.conn, msg, 1000), 0); /* at the limit: fine */
	assert_int_equal(pq_conn_send(e.cli.conn, msg, 1001), 0);
	run_until(&e, both_closed, 5000);
	assert_int_equal(e.srv.msgs, 1);
	assert_int_equal(e.srv.last_len, 1000);
	assert_int_equal(e.srv.why.end, PQ_CONN_END_PROTOCOL);
	assert_int_equal(e.srv.why.ws_code, PQ_WS_CLOSE_TOO_BIG);
	assert_int_equal(e.cli.why.end, PQ_CONN_END_PEER);
	assert_int_equal(e.cli.why.ws_code, PQ_WS_CLOSE_TOO_BIG);
	env_free(&e);
}

/* ---- a raw TLS client on the loop: handshake, send a script, collect ---- */

struct raw {
	struct pq_loop *loop;
	struct pq_tls *tls;
	int fd;
	const uint8_t *script;
	size_t script_len, sent;
	uint8_t got[8192];
	size_t got_len;
	bool tls_ok, done;
	uint64_t done_ms;
};

static void raw_done(struct raw *r, uint64_t now)
{
	assert_int_equal(pq_loop_del(r->loop, r->fd), 0);
	r->done = true;
	r->done_ms = now;
}

static void raw_io(struct raw *r, uint64_t now)
{
	long n;

	while (r->sent < r->script_len) {
		n = pq_tls_write(r->tls, r->script + r->sent, r->script_len - r->sent);
		if (n == PQ_E_AGAIN)
			break;
		if (n < 0) {
			raw_done(r, now);
			return;
		}
		r->sent += (size_t)n;
	}
	for (;;) {
		n = pq_tls_read(r->tls, r->got + r->got_len, sizeof(r->got) - r->got_len);
		if (n == PQ_E_AGAIN)
			break;
		if (n <= 0 || r->got_len + (size_t)n == sizeof(r->got)) {
			if (n > 0)
				r->got_len += (size_t)n;
			raw_done(r, now);
			return;
		}
		r->got_len += (size_t)n;
	}
	assert_int_equal(pq_loop_mod(r->loop, r->fd, PQ_LOOP_READ |
				     (r->sent < r->script_len ? PQ_LOOP_WRITE : 0)), 0);
}

static void on_raw(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct raw *r = arg;

	if (!r->tls_ok) {
		int err = pq_tls_handshake(r->tls);

		if (err == PQ_E_AGAIN) {
			assert_int_equal(pq_loop_mod(loop, fd, pq_tls_want(r->tls)), 0);
			return;
		}
		if (err) {
			raw_done(r, now);
			return;
		}
		r->tls_ok = true;
	}
	raw_io(r, now);
}

static void raw_start(struct env *e, struct raw *r, const void *script, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->loop = e->loop;
	r->script = script;
	r->script_len = len;
	assert_int_equal(pq_sock_connect(&r->fd, pq_listener_addr(e->l)), 0);
	assert_int_equal(pq_tls_new(&r->tls, e->cctx, r->fd, e->skey.pub, NULL), 0);
	assert_int_equal(pq_loop_add(e->loop, r->fd, PQ_LOOP_WRITE, on_raw, r), 0);
}

static void raw_free(struct raw *r)
{
	if (!r->done)
		assert_int_equal(pq_loop_del(r->loop, r->fd), 0);
	pq_tls_free(r->tls);
	close(r->fd);
}

static struct raw *g_raw;
static bool raw_is_done(struct env *e)
{
	return g_raw->done;
}

static bool srv_failed_one(struct env *e)
{
	struct pq_listener_stats st;

	pq_listener_stats(e->l, &st);
	return st.failed == 1;
}

/* ---- plain HTTP over TLS: the 426 and close; nobody is told ---- */

static void test_plain_http(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: relay\r\n\r\n";
	struct pq_listener_stats st;
	struct env e;
	struct raw r;

	alarm(20);
	env_new(&e, NULL);
	raw_start(&e, &r, req, strlen(req));
	g_raw = &r;
	run_until(&e, raw_is_done, 5000);
	assert_true(r.tls_ok);
	r.got[r.got_len < sizeof(r.got) ? r.got_len : sizeof(r.got) - 1] = 0;
	assert_true(r.got_len > 12);
	assert_memory_equal(r.got, "HTTP/1.1 426", 12);
	assert_non_null(strstr((char *)r.got, "Connection: close"));
	raw_free(&r); /* the server lingers until our EOF */
	run_until(&e, srv_failed_one, 5000);
	pq_listener_stats(e.l, &st);
	assert_int_equal(st.http_refused, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(e.srv.opened, 0);
	assert_int_equal(e.srv.closed, 0);
	env_free(&e);
}

/* ---- TLS then silence: dropped at the (shortened) deadline ---- */

static void test_stalled_upgrade(void **state)
{
	struct pq_conn_opts sopts = {.open_timeout_ms = 300};
	struct pq_listener_stats st;
	struct env e;
	struct raw r;
	uint64_t t0;

	alarm(20);
	env_new(&e, &sopts);
	t0 = pq_loop_now(e.loop);
	raw_start(&e, &r, "", 0);
	g_raw = &r;
	run_until(&e, raw_is_done, 5000);
	assert_true(r.tls_ok);
	assert_int_equal(r.got_len, 0);
	assert_true(r.done_ms - t0 >= 290);
	assert_true(r.done_ms - t0 < 2000);
	run_until(&e, srv_failed_one, 1000);
	pq_listener_stats(e.l, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(e.srv.opened, 0);
	raw_free(&r);
	env_free(&e);
}

/* ---- freeing the listener frees the conns it has not opened yet ---- */

static bool raw_tls_ok(struct env *e)
{
	return g_raw->tls_ok;
}

static void test_listener_free_pending(void **state)
{
	struct env e;
	struct raw r;

	alarm(20);
	env_new(&e, NULL);
	raw_start(&e, &r, "", 0);
	g_raw = &r;
	run_until(&e, raw_tls_ok, 5000);
	pq_listener_free(e.l); /* ASan: nothing of the pending conn leaks */
	e.l = NULL;
	run_until(&e, raw_is_done, 5000); /* and its socket is closed */
	assert_int_equal(r.got_len, 0);
	assert_int_equal(e.srv.opened, 0);
	raw_free(&r);
	env_free(&e);
}

/* ---- a raw TLS server that answers the Upgrade with a given reply ---- */

struct rawsrv {
	struct pq_loop *loop;
	struct pq_tls_ctx *ctx;
	int lfd, fd;
	struct pq_tls *tls;
	bool tls_ok, replied;
	const char *reply;
	char req[4096];
	size_t req_len;
	struct pq_sockaddr addr;
};

static void on_rawsrv(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct rawsrv *r = arg;
	long n;

	if (!r->tls_ok) {
		int err = pq_tls_handshake(r->tls);

		if (err == PQ_E_AGAIN)
			return;
		assert_int_equal(err, 0);
		r->tls_ok = true;
	}
	n = pq_tls_read(r->tls, (uint8_t *)r->req + r->req_len, sizeof(r->req) - 1 - r->req_len);
	if (n == PQ_E_AGAIN)
		return;
	if (n <= 0) {
		assert_int_equal(pq_loop_del(loop, fd), 0);
		return;
	}
	r->req_len += (size_t)n;
	r->req[r->req_len] = 0;
	if (!r->replied && strstr(r->req, "\r\n\r\n")) {
		r->replied = true;
		assert_int_equal(pq_tls_write(r->tls, (const uint8_t *)r->reply, strlen(r->reply)),
				 (long)strlen(r->reply));
	}
}

static void on_rawsrv_accept(struct pq_loop *loop, int lfd, unsigned events, void *arg,
			     uint64_t now)
{
	struct rawsrv *r = arg;

	if (pq_sock_accept(lfd, &r->fd, NULL))
		return;
	assert_int_equal(pq_tls_new(&r->tls, r->ctx, r->fd, NULL, NULL), 0);
	assert_int_equal(pq_loop_add(loop, r->fd, PQ_LOOP_READ, on_rawsrv, r), 0);
	assert_int_equal(pq_loop_del(loop, lfd), 0);
}

static void rawsrv_start(struct env *e, struct rawsrv *r, const char *reply)
{
	struct pq_sockaddr any;

	memset(r, 0, sizeof(*r));
	r->loop = e->loop;
	r->ctx = e->sctx;
	r->reply = reply;
	r->fd = -1;
	assert_int_equal(pq_sockaddr_from_ip(&any, "127.0.0.1", 0), 0);
	assert_int_equal(pq_sock_listen(&r->lfd, &any, 4), 0);
	assert_int_equal(pq_sock_local(r->lfd, &r->addr), 0);
	assert_int_equal(pq_loop_add(e->loop, r->lfd, PQ_LOOP_READ, on_rawsrv_accept, r), 0);
}

static void rawsrv_free(struct rawsrv *r)
{
	if (pq_loop_del(r->loop, r->fd)) {
		/* already removed at EOF */
	}
	pq_tls_free(r->tls);
	close(r->fd);
	close(r->lfd);
}

static void bad_101_case(const char *reply, int want_err)
{
	struct pq_conn_target tg = {0};
	struct rawsrv r;
	struct env e;

	env_new(&e, NULL);
	rawsrv_start(&e, &r, reply);
	tg.addr = r.addr;
	tg.pin = e.skey.pub;
	assert_int_equal(pq_conn_connect(&e.cli.conn, e.loop, e.cctx, &tg, NULL, &cbs, &e), 0);
	run_until(&e, cli_closed, 5000);
	assert_true(r.replied);
	assert_non_null(strstr(r.req, "GET / HTTP/1.1\r\n"));
	assert_non_null(strstr(r.req, "Sec-WebSocket-Version: 13\r\n"));
	assert_int_equal(e.cli.opened, 0);
	assert_int_equal(e.cli.why.end, PQ_CONN_END_UPGRADE);
	assert_int_equal(e.cli.why.err, want_err);
	rawsrv_free(&r);
	env_free(&e);
}

/* ---- the client checks the 101 ---- */

static void test_bad_101(void **state)
{
	alarm(20);
	bad_101_case("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		     PQ_E_AUTH);
	bad_101_case("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", PQ_E_DECODE);
}

/* ---- at most max_pending conns shaking hands: the oldest goes ---- */

static void test_max_pending(void **state)
{
	struct pq_conn_opts sopts = {.max_pending = 1};
	struct pq_listener_stats st;
	struct env e;
	struct raw r1, r2;

	alarm(20);
	env_new(&e, &sopts);
	raw_start(&e, &r1, "", 0); /* TLS, then silence: stays pending */
	g_raw = &r1;
	run_until(&e, raw_tls_ok, 5000);
	raw_start(&e, &r2, "", 0);
	g_raw = &r2;
	run_until(&e, raw_tls_ok, 5000); /* the newest is admitted... */
	g_raw = &r1;
	run_until(&e, raw_is_done, 5000); /* ...and the oldest closed for it */
	pq_listener_stats(e.l, &st);
	assert_int_equal(st.accepted, 2);
	assert_int_equal(st.evicted, 1);
	/* the total cap, not 127.0.0.1's own (32): its oldest as the busiest */
	assert_int_equal(st.evicted_own, 0);
	assert_false(r2.done);
	raw_free(&r1);
	raw_free(&r2);
	env_free(&e);
}

/* ---- an unmasked client frame: 1002 ---- */

static void test_unmasked_frame(void **state)
{
	uint8_t script[1024], nonce[16] = {1, 2, 3};
	struct pq_ws_rx rx;
	struct pq_ws_event ev;
	struct env e;
	struct raw r;
	const uint8_t *end;
	size_t used;
	long n, f;

	alarm(20);
	env_new(&e, NULL);
	n = pq_ws_hs_build_request((char *)script, sizeof(script), "relay", "/", nonce);
	assert_true(n > 0);
	/* a server-role (unmasked) frame, sent by a client */
	f = pq_ws_encode(script + n, sizeof(script) - (size_t)n, PQ_WS_SERVER, PQ_WS_OP_BINARY,
			 (const uint8_t *)"hi", 2, NULL);
	assert_true(f > 0);
	raw_start(&e, &r, script, (size_t)(n + f));
	g_raw = &r;
	run_until(&e, raw_is_done, 5000);
	r.got[r.got_len < sizeof(r.got) ? r.got_len : sizeof(r.got) - 1] = 0;
	assert_memory_equal(r.got, "HTTP/1.1 101", 12);
	end = (const uint8_t *)strstr((char *)r.got, "\r\n\r\n");
	assert_non_null(end);
	end += 4;
	assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_CLIENT, 0), 0);
	assert_int_equal(pq_ws_rx_feed(&rx, end, r.got_len - (size_t)(end - r.got), &used, &ev), 1);
	assert_int_equal(ev.type, PQ_WS_EV_CLOSE);
	assert_int_equal(ev.close_code, PQ_WS_CLOSE_PROTOCOL);
	pq_ws_rx_free(&rx);
	/* the server had opened, then reports the violation */
	run_until(&e, srv_closed, 5000);
	assert_int_equal(e.srv.opened, 1);
	assert_int_equal(e.srv.msgs, 0);
	assert_int_equal(e.srv.why.end, PQ_CONN_END_PROTOCOL);
	assert_int_equal(e.srv.why.ws_code, PQ_WS_CLOSE_PROTOCOL);
	raw_free(&r);
	env_free(&e);
}

/* ---- garbage instead of TLS: that conn dropped, the next one fine ---- */

static void test_garbage(void **state)
{
	static const char junk[] = "\x16\x03\x01\xff\xff garbage, not a ClientHello\r\n\r\n";
	uint8_t buf[256];
	struct env e;
	int fd;
	long n;

	alarm(20);
	env_new(&e, NULL);
	e.echo = true;
	open_pair(&e, NULL); /* a good conn, open before and after */

	assert_int_equal(pq_sock_connect(&fd, pq_listener_addr(e.l)), 0);
	usleep(10000); /* loopback connect completes at once */
	assert_int_equal(write(fd, junk, sizeof(junk) - 1), (long)(sizeof(junk) - 1));
	run_until(&e, srv_failed_one, 5000);
	/* the server hung up: EOF or reset, maybe after an alert */
	usleep(10000);
	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0);
	assert_true(n == 0 || (n < 0 && errno != EAGAIN));
	close(fd);
	assert_int_equal(e.srv.opened, 1);
	assert_int_equal(e.srv.closed, 0);

	/* the good conn still works */
	assert_int_equal(pq_conn_send(e.cli.conn, (const uint8_t *)"ok", 2), 0);
	want_cli_msgs = 1;
	run_until(&e, cli_has_msgs, 5000);
	assert_memory_equal(e.cli.last, "ok", 2);
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_GOING_AWAY);
	run_until(&e, both_closed, 5000);
	assert_int_equal(e.srv.why.ws_code, PQ_WS_CLOSE_GOING_AWAY);
	env_free(&e);
}

/* ---- the client pins another key: never opens ---- */

static void test_wrong_pin(void **state)
{
	struct key other;
	struct env e;

	alarm(20);
	env_new(&e, NULL);
	key_new(&other);
	client_connect(&e, other.pub, NULL);
	run_until(&e, cli_closed, 5000);
	assert_int_equal(e.cli.opened, 0);
	assert_int_equal(e.cli.why.end, PQ_CONN_END_TLS);
	assert_int_equal(e.cli.why.err, PQ_E_AUTH);
	run_until(&e, srv_failed_one, 5000);
	assert_int_equal(e.srv.opened, 0);
	env_free(&e);
}

/* ---- mutual TLS through conn: allowed key opens, others do not ---- */

static const uint8_t *g_allowed;
static int allow_one(void *arg, const uint8_t pub[32])
{
	return memcmp(pub, g_allowed, 32) == 0;
}

static void test_mutual(void **state)
{
	struct key stranger;
	struct env e;

	alarm(20);
	env_new(&e, NULL);
	g_allowed = e.ckey.pub;
	assert_int_equal(pq_tls_ctx_require_client(e.sctx, allow_one, NULL), 0);
	open_pair(&e, NULL);
	assert_true(e.srv.have_peer_key);
	assert_memory_equal(e.srv.peer_key, e.ckey.pub, 32);
	assert_memory_equal(e.cli.exporter, e.srv.exporter, 32);
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);

	/* a client with another identity is refused by the server */
	key_new(&stranger);
	g_allowed = stranger.pub;
	memset(&e.cli, 0, sizeof(e.cli));
	memset(&e.srv, 0, sizeof(e.srv));
	client_connect(&e, e.skey.pub, NULL);
	run_until(&e, cli_closed, 5000);
	assert_int_equal(e.cli.opened, 0);
	assert_int_equal(e.cli.why.end, PQ_CONN_END_TLS);
	assert_int_equal(e.srv.opened, 0);
	env_free(&e);
}

/* ---- nobody listens ---- */

static void test_connect_refused(void **state)
{
	struct env e;
	struct pq_conn_target tg = {0};
	uint16_t port;

	alarm(20);
	env_new(&e, NULL);
	tg.addr = *pq_listener_addr(e.l);
	port = (uint16_t)pq_sockaddr_port(&tg.addr);
	pq_listener_free(e.l); /* the port is closed now */
	e.l = NULL;
	assert_int_equal(pq_sockaddr_from_ip(&tg.addr, "127.0.0.1", port), 0);
	tg.pin = e.skey.pub;
	assert_int_equal(pq_conn_connect(&e.cli.conn, e.loop, e.cctx, &tg, NULL, &cbs, &e), 0);
	run_until(&e, cli_closed, 5000);
	assert_int_equal(e.cli.opened, 0);
	assert_int_equal(e.cli.why.end, PQ_CONN_END_IO);
	env_free(&e);
}

/* ---- a bounded queue: PQ_E_AGAIN and a drop count when full ---- */

static size_t want_srv_msgs;
static bool srv_has_msgs(struct env *e)
{
	return e->srv.msgs >= want_srv_msgs;
}

static void test_queue_full(void **state)
{
	struct pq_conn_opts copts = {.max_queue = 64 * 1024};
	uint8_t msg[1500];
	struct env e;
	size_t sent = 0;
	int err;

	alarm(20);
	env_new(&e, NULL);
	open_pair(&e, &copts);
	memset(msg, 3, sizeof(msg));
	/* nothing is written until the loop runs: the queue fills */
	while ((err = pq_conn_send(e.cli.conn, msg, sizeof(msg))) == 0)
		sent++;
	assert_int_equal(err, PQ_E_AGAIN);
	assert_int_equal(sent, (64 * 1024) / (sizeof(msg) + 8)); /* 8: masked header */
	assert_int_equal(pq_conn_drops(e.cli.conn), 1);
	assert_true(pq_conn_queued(e.cli.conn) <= 64 * 1024);
	assert_int_equal(pq_conn_send(e.cli.conn, msg, sizeof(msg)), PQ_E_AGAIN);
	assert_int_equal(pq_conn_drops(e.cli.conn), 2);
	/* a message over the protocol bound is refused outright, not counted */
	assert_int_equal(pq_conn_send(e.cli.conn, msg, PQ_MAX_MSG_LEN + 1), PQ_E_TOOBIG);
	assert_int_equal(pq_conn_send(e.cli.conn, msg, 0), PQ_E_INVAL);
	want_srv_msgs = sent;
	run_until(&e, srv_has_msgs, 5000);
	assert_int_equal(e.srv.msgs, sent);
	assert_int_equal(pq_conn_queued(e.cli.conn), 0);
	/* drained: sending works again */
	assert_int_equal(pq_conn_send(e.cli.conn, msg, sizeof(msg)), 0);
	want_srv_msgs = sent + 1;
	run_until(&e, srv_has_msgs, 5000);
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	assert_int_equal(pq_conn_send(e.cli.conn, msg, 1), PQ_E_STATE);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

/* ---- size_from_path: small messages first (conn.h "Latency") ---- */

/* A test message: class ('B' bulk, 'S' small), a 4-byte sequence number
 * of its class, then bytes that follow from both. */
static void lane_fill(uint8_t *m, size_t len, char cls, uint32_t seq)
{
	m[0] = (uint8_t)cls;
	m[1] = (uint8_t)(seq >> 16);
	m[2] = (uint8_t)(seq >> 8);
	m[3] = (uint8_t)seq;
	for (size_t i = 4; i < len; i++)
		m[i] = (uint8_t)(seq * 31u + i * 7u + (uint8_t)cls);
}

static struct {
	char order[64]; /* classes in arrival order (first 63) */
	size_t n;
	uint32_t next[2]; /* next expected sequence per class */
	bool bad;         /* wrong bytes, or a class out of its own order */
	size_t s_first;   /* 1 + how many came before the first small one; 0: none yet */
} lane_rx;

static void lane_hook(const uint8_t *msg, size_t len)
{
	static uint8_t want[PQ_MAX_MSG_LEN];
	int k = msg[0] == 'S';
	uint32_t seq = (uint32_t)msg[1] << 16 | (uint32_t)msg[2] << 8 | msg[3];

	if (len < 4 || (msg[0] != 'S' && msg[0] != 'B') || seq != lane_rx.next[k])
		lane_rx.bad = true;
	lane_fill(want, len, (char)msg[0], seq);
	if (memcmp(want, msg, len))
		lane_rx.bad = true;
	lane_rx.next[k] = seq + 1;
	if (k && !lane_rx.s_first)
		lane_rx.s_first = lane_rx.n + 1;
	if (lane_rx.n < sizeof(lane_rx.order) - 1)
		lane_rx.order[lane_rx.n] = (char)msg[0];
	lane_rx.n++;
}

/* An open pair whose server checks every message with lane_hook. */
static void lane_open(struct env *e, bool sized)
{
	const struct pq_conn_opts o = {.size_from_path = sized};

	memset(&lane_rx, 0, sizeof(lane_rx));
	srv_msg_hook = lane_hook;
	env_new(e, &o);
	open_pair(e, &o);
}

/* Queue n large (60,000-byte) then n_small small messages of small_len
 * bytes, numbered from 0, on the client. */
static void lane_queue(struct env *e, uint32_t n, uint32_t n_small, size_t small_len)
{
	static uint8_t m[60000];

	for (uint32_t i = 0; i < n; i++) {
		lane_fill(m, sizeof(m), 'B', i);
		assert_int_equal(pq_conn_send(e->cli.conn, m, sizeof(m)), 0);
	}
	for (uint32_t i = 0; i < n_small; i++) {
		lane_fill(m, small_len, 'S', i);
		assert_int_equal(pq_conn_send(e->cli.conn, m, small_len), 0);
	}
}

/* Three small messages queued after eight large ones leave first on a
 * size_from_path conn, and last on any other. */
static void lane_order(bool sized, const char *want)
{
	struct pq_conn_sizing sz;
	struct env e;

	alarm(20);
	lane_open(&e, sized);
	lane_queue(&e, 8, 3, 100);
	want_srv_msgs = 11;
	run_until(&e, srv_has_msgs, 5000);
	assert_false(lane_rx.bad);
	assert_string_equal(lane_rx.order, want);
	pq_conn_sizing(e.cli.conn, &sz);
	assert_int_equal(sz.urgent_msgs, sized ? 3 : 0);
	srv_msg_hook = NULL;
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

static bool lane_under_bound(struct env *e)
{
	return e->cli.conn->bulk_frames + 20 < PQ_CONN_URGENT_BULK_FRAMES;
}

/* n_bulk 600-byte messages, then (drained: once the written ones brought
 * the count under the bound, a small socket buffer making it gradual) a
 * small one; it arrives at 1-based position s_at, 0: anywhere before the
 * last bulk one. */
static void lane_bulk_frames(uint32_t n_bulk, bool drained, size_t s_at)
{
	static uint8_t m[600];
	struct env e;

	alarm(20);
	lane_open(&e, true);
	for (uint32_t i = 0; i < n_bulk; i++) {
		lane_fill(m, sizeof(m), 'B', i);
		assert_int_equal(pq_conn_send(e.cli.conn, m, sizeof(m)), 0);
	}
	if (drained) {
		assert_int_equal(pq_conn_set_sndbuf(e.cli.conn, 16384), 0);
		run_until(&e, lane_under_bound, 10000);
	}
	lane_fill(m, 100, 'S', 0);
	assert_int_equal(pq_conn_send(e.cli.conn, m, 100), 0);
	want_srv_msgs = n_bulk + 1;
	run_until(&e, srv_has_msgs, 10000);
	assert_false(lane_rx.bad);
	assert_int_equal(lane_rx.n, n_bulk + 1);
	if (s_at)
		assert_int_equal(lane_rx.s_first, s_at);
	else
		assert_true(lane_rx.s_first > 0 && lane_rx.s_first <= n_bulk);
	srv_msg_hook = NULL;
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

/* Small messages wait their turn while more than
 * PQ_CONN_URGENT_BULK_FRAMES bulk frames wait (the replay window counts
 * them too), and pass under it - also once enough of them were written. */
static void test_urgent_bulk_frames(void **state)
{
	(void)state;
	lane_bulk_frames(PQ_CONN_URGENT_BULK_FRAMES + 40, false, PQ_CONN_URGENT_BULK_FRAMES + 41);
	lane_bulk_frames(PQ_CONN_URGENT_BULK_FRAMES - 40, false, 1);
	lane_bulk_frames(PQ_CONN_URGENT_BULK_FRAMES + 40, true, 0);
}

static void test_urgent_first(void **state)
{
	lane_order(true, "SSSBBBBBBBB");
	lane_order(false, "BBBBBBBBSSS");
}

/* Large and small messages interleaved while the socket is full, so
 * writes stop in the middle of large frames: every message arrives
 * whole, each class in its own order, and the conn stays open. */
struct lane_feed {
	struct env *e;
	struct pq_timer t;
	uint32_t sent[2];
	unsigned ticks;
};

#define LANE_MSGS 600

static void lane_tick(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	static uint8_t m[PQ_MAX_MSG_LEN];
	struct lane_feed *f = arg;

	for (int i = 0; i < 4 && f->sent[0] < LANE_MSGS; i++) {
		/* sizes from just over the small bound to a full super-frame */
		size_t len = PQ_CONN_URGENT_MSG + 1 + (f->sent[0] * 7919u) % 65000u;

		lane_fill(m, len, 'B', f->sent[0]);
		if (pq_conn_send(f->e->cli.conn, m, len) != 0)
			break; /* queue full: again next tick */
		f->sent[0]++;
	}
	for (int i = 0; i < 3 && f->sent[1] < LANE_MSGS; i++) {
		size_t len = 4 + (f->sent[1] * 131u) % (PQ_CONN_URGENT_MSG - 3);

		lane_fill(m, len, 'S', f->sent[1]);
		assert_int_equal(pq_conn_send(f->e->cli.conn, m, len), 0);
		f->sent[1]++;
	}
	if ((f->sent[0] < LANE_MSGS || f->sent[1] < LANE_MSGS) && ++f->ticks < 100000)
		assert_int_equal(pq_loop_timer_start(loop, t, 0), 0);
}

/* Feed e's client with lane_tick until the server has every message;
 * a 16 KiB socket buffer makes writes stop in the middle of frames. */
static void lane_feed_run(struct env *e, struct lane_feed *f)
{
	assert_int_equal(pq_conn_set_sndbuf(e->cli.conn, 16384), 0);
	f->e = e;
	pq_timer_init(&f->t, lane_tick, f);
	assert_int_equal(pq_loop_timer_start(e->loop, &f->t, 0), 0);
	want_srv_msgs = 2 * LANE_MSGS;
	run_until(e, srv_has_msgs, 30000);
	pq_loop_timer_cancel(e->loop, &f->t);
}

static void test_urgent_interleaved(void **state)
{
	struct lane_feed f = {0};
	struct pq_conn_sizing sz;
	struct env e;

	alarm(60);
	lane_open(&e, true);
	lane_feed_run(&e, &f);
	assert_false(lane_rx.bad);
	assert_int_equal(lane_rx.next[0], LANE_MSGS);
	assert_int_equal(lane_rx.next[1], LANE_MSGS);
	assert_int_equal(e.srv.closed, 0);
	pq_conn_sizing(e.cli.conn, &sz);
	assert_true(sz.urgent_msgs > 0);
	assert_true(sz.urgent_msgs <= LANE_MSGS); /* a full urgent queue spills into bulk */
	srv_msg_hook = NULL;
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

/* ---- "want write" where the test wants it: pq_tls_write is wrapped
 * (-Wl,--wrap, Makefile) for the client conn under test ---- */

long __real_pq_tls_write(struct pq_tls *t, const uint8_t *buf, size_t len);
long __wrap_pq_tls_write(struct pq_tls *t, const uint8_t *buf, size_t len);

static struct {
	struct pq_tls *tls;      /* the conn whose writes are watched; NULL none */
	void (*on_again)(void);  /* called at the one injected AGAIN */
	bool again_once;         /* the next write gets AGAIN */
	unsigned again_permille; /* or this share of writes, at random */
	uint8_t saved[1 << 17];  /* what the refused write offered */
	size_t saved_len;
	bool pending;
	unsigned agains, violations; /* retries not the same bytes, or shorter */
} inj;

long __wrap_pq_tls_write(struct pq_tls *t, const uint8_t *buf, size_t len)
{
	bool again;
	long n;

	if (!inj.tls || t != inj.tls)
		return __real_pq_tls_write(t, buf, len);
	if (inj.pending && (len < inj.saved_len || memcmp(buf, inj.saved, inj.saved_len)))
		inj.violations++; /* SSL_write(3): the same bytes, at least as many */
	inj.pending = false;
	again = inj.again_once || (unsigned)(rand() % 1000) < inj.again_permille;
	n = again ? PQ_E_AGAIN : __real_pq_tls_write(t, buf, len);
	if (n == PQ_E_AGAIN) {
		inj.saved_len = len < sizeof(inj.saved) ? len : sizeof(inj.saved);
		memcpy(inj.saved, buf, inj.saved_len);
		inj.pending = true;
		inj.agains += again;
	}
	if (inj.again_once) {
		inj.again_once = false;
		if (inj.on_again)
			inj.on_again();
	}
	return n;
}

static struct env *inj_env;
static uint8_t inj_msg[PQ_MAX_MSG_LEN];

/* A write of a large message is refused; meanwhile a small one and then a
 * large one are queued: the retry must not carry the second large one
 * ahead of the small one (it would, were it longer than the first try). */
static void queue_small_then_large(void)
{
	lane_fill(inj_msg, 100, 'S', 0);
	assert_int_equal(pq_conn_send(inj_env->cli.conn, inj_msg, 100), 0);
	lane_fill(inj_msg, 2000, 'B', 1);
	assert_int_equal(pq_conn_send(inj_env->cli.conn, inj_msg, 2000), 0);
}

/* ... and with a close after the small one: the close frame must not go
 * before it (the peer reads nothing after a close). */
static void queue_small_then_close(void)
{
	lane_fill(inj_msg, 100, 'S', 0);
	assert_int_equal(pq_conn_send(inj_env->cli.conn, inj_msg, 100), 0);
	pq_conn_close(inj_env->cli.conn, PQ_WS_CLOSE_NORMAL);
}

static void retry_case(void (*on_again)(void), const char *want, bool closes)
{
	struct env e;

	alarm(20);
	lane_open(&e, true);
	memset(&inj, 0, sizeof(inj));
	inj_env = &e;
	inj.tls = e.cli.conn->tls;
	inj.on_again = on_again;
	inj.again_once = true;
	lane_fill(inj_msg, 3000, 'B', 0);
	assert_int_equal(pq_conn_send(e.cli.conn, inj_msg, 3000), 0);
	want_srv_msgs = strlen(want);
	run_until(&e, closes ? both_closed : srv_has_msgs, 5000);
	inj.tls = NULL;
	srv_msg_hook = NULL;
	assert_int_equal(inj.agains, 1);
	assert_int_equal(inj.violations, 0);
	assert_false(lane_rx.bad);
	assert_string_equal(lane_rx.order, want);
	if (!closes) {
		pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
		run_until(&e, both_closed, 5000);
	}
	env_free(&e);
}

static void test_urgent_retry(void **state)
{
	retry_case(queue_small_then_large, "BSB", false);
	retry_case(queue_small_then_close, "BS", true);
}

/* Random "want write" on top of real partial writes (the interleaved
 * feed): the retry rule holds, the stream stays whole. */
static void test_urgent_random_again(void **state)
{
	struct lane_feed f = {0};
	struct env e;

	alarm(60);
	srand(7);
	lane_open(&e, true);
	memset(&inj, 0, sizeof(inj));
	inj.tls = e.cli.conn->tls;
	inj.again_permille = 300;
	lane_feed_run(&e, &f);
	inj.tls = NULL;
	srv_msg_hook = NULL;
	assert_true(inj.agains > 100);
	assert_int_equal(inj.violations, 0);
	assert_false(lane_rx.bad);
	assert_int_equal(e.srv.closed, 0);
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

/* Small messages past PQ_CONN_URGENT_OVERTAKE (or a full small queue) join
 * the bulk queue, and the small ones after them follow: all small ones
 * arrive in their order, and no large one is passed by more than the
 * bound. */
static struct {
	uint32_t small_seen;  /* small messages seen so far */
	uint32_t max_passed;  /* most small ones seen before a large one queued before them */
	uint32_t queued_before[8]; /* per large message: small ones queued before it */
	bool extra_sent;
	uint32_t extra_at;
} ot;

static void overtake_hook(const uint8_t *msg, size_t len)
{
	uint32_t seq = (uint32_t)msg[1] << 16 | (uint32_t)msg[2] << 8 | msg[3];

	lane_hook(msg, len);
	if (msg[0] == 'S') {
		ot.small_seen++;
		/* while earlier ones wait in the bulk queue, send one more */
		if (!ot.extra_sent && seq + 1 == ot.extra_at) {
			lane_fill(inj_msg, 40, 'S', 4000);
			assert_int_equal(pq_conn_send(inj_env->cli.conn, inj_msg, 40), 0);
			ot.extra_sent = true;
		}
	} else if (seq < 8 && ot.small_seen > ot.queued_before[seq] &&
		   ot.small_seen - ot.queued_before[seq] > ot.max_passed) {
		ot.max_passed = ot.small_seen - ot.queued_before[seq];
	}
}

static void test_urgent_overtake_bound(void **state)
{
	static uint8_t m[60000];
	struct pq_conn_sizing sz;
	struct env e;
	uint32_t smalls = 0;

	alarm(30);
	lane_open(&e, true);
	memset(&ot, 0, sizeof(ot));
	inj_env = &e;
	srv_msg_hook = overtake_hook;
	/* 8 large, each followed by 500 small (4000 small > the bound) */
	for (uint32_t i = 0; i < 8; i++) {
		ot.queued_before[i] = smalls;
		lane_fill(m, sizeof(m), 'B', i);
		assert_int_equal(pq_conn_send(e.cli.conn, m, sizeof(m)), 0);
		for (int k = 0; k < 500; k++, smalls++) { /* 4 bytes: the small queue never fills */
			lane_fill(m, 4, 'S', smalls);
			assert_int_equal(pq_conn_send(e.cli.conn, m, 4), 0);
		}
	}
	pq_conn_sizing(e.cli.conn, &sz);
	assert_int_equal(sz.urgent_msgs, PQ_CONN_URGENT_OVERTAKE);
	ot.extra_at = PQ_CONN_URGENT_OVERTAKE; /* when the last urgent one arrives */
	want_srv_msgs = 8 + smalls + 1;
	run_until(&e, srv_has_msgs, 10000);
	srv_msg_hook = NULL;
	assert_true(ot.extra_sent);
	assert_false(lane_rx.bad); /* 4000 small + the extra one: in order */
	assert_true(ot.max_passed <= PQ_CONN_URGENT_OVERTAKE);
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

/* A full small queue: the rest join the bulk queue; one more sent once
 * the last queued-small one arrives must not pass them. */
static uint64_t spill_urgent;
static bool spill_extra_sent;

static void spill_hook(const uint8_t *msg, size_t len)
{
	uint32_t seq = (uint32_t)msg[1] << 16 | (uint32_t)msg[2] << 8 | msg[3];

	lane_hook(msg, len);
	if (msg[0] == 'S' && !spill_extra_sent && seq + 1 == spill_urgent) {
		spill_extra_sent = true;
		lane_fill(inj_msg, 400, 'S', 200);
		assert_int_equal(pq_conn_send(inj_env->cli.conn, inj_msg, 400), 0);
	}
}

static void test_urgent_spill_order(void **state)
{
	struct pq_conn_sizing sz;
	struct env e;

	alarm(20);
	lane_open(&e, true);
	inj_env = &e;
	spill_extra_sent = false;
	srv_msg_hook = spill_hook;
	assert_int_equal(pq_conn_set_sndbuf(e.cli.conn, 16384), 0); /* the bulk waits with us */
	lane_queue(&e, 8, 200, 400);
	pq_conn_sizing(e.cli.conn, &sz);
	spill_urgent = sz.urgent_msgs;
	assert_true(spill_urgent > 100 && spill_urgent < 200); /* 64 KiB of 406-byte frames */
	want_srv_msgs = 8 + 201;
	run_until(&e, srv_has_msgs, 5000);
	srv_msg_hook = NULL;
	assert_true(spill_extra_sent);
	assert_false(lane_rx.bad);
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

/* All n messages arrived intact, in the classes' order want, none of
 * them through the urgent lane. */
static void expect_in_order(struct env *e, size_t n, const char *want)
{
	struct pq_conn_sizing sz;

	want_srv_msgs = n;
	run_until(e, srv_has_msgs, 5000);
	assert_false(lane_rx.bad);
	assert_string_equal(lane_rx.order, want);
	pq_conn_sizing(e->cli.conn, &sz);
	assert_int_equal(sz.urgent_msgs, 0);
}

/* pq_conn_send_in_order: a small message that must not pass what was
 * queued before it goes behind the bulk, and the small ones sent after
 * it follow it; so do they after a large one sent in order. */
static void test_send_in_order(void **state)
{
	static uint8_t m[100], big[60000];
	struct env e;

	alarm(20);
	lane_open(&e, true);
	lane_queue(&e, 8, 0, 0);
	lane_fill(m, sizeof(m), 'S', 0);
	assert_int_equal(pq_conn_send_in_order(e.cli.conn, m, sizeof(m)), 0);
	for (uint32_t i = 1; i < 3; i++) {
		lane_fill(m, sizeof(m), 'S', i);
		assert_int_equal(pq_conn_send(e.cli.conn, m, sizeof(m)), 0);
	}
	expect_in_order(&e, 11, "BBBBBBBBSSS");
	lane_fill(big, sizeof(big), 'B', 8);
	assert_int_equal(pq_conn_send(e.cli.conn, big, sizeof(big)), 0);
	lane_fill(big, sizeof(big), 'B', 9);
	assert_int_equal(pq_conn_send_in_order(e.cli.conn, big, sizeof(big)), 0);
	lane_fill(m, sizeof(m), 'S', 3);
	assert_int_equal(pq_conn_send(e.cli.conn, m, sizeof(m)), 0);
	expect_in_order(&e, 14, "BBBBBBBBSSSBBS");
	srv_msg_hook = NULL;
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

/* ---- idle pings are answered; a host name goes into SNI and Host ---- */

/* ---- pq_conn_flush_now: written at once, the borrowed message intact ---- */

static struct env *flush_env;
static bool flush_checked;

static uint8_t flush_pattern(size_t i)
{
	return (uint8_t)(i * 13 + 5);
}

/* opts.queued_total (the relay's budget): the counter follows what the
 * conn holds - after sends (bulk and small lanes), back to zero once
 * written, and what a freed conn held goes with it. */
static size_t queued_total;
static bool queued_total_zero(struct env *e)
{
	return queued_total == 0 && pq_conn_queued(e->cli.conn) == 0;
}

static void test_queued_total(void **state)
{
	const struct pq_conn_opts plain = {.size_from_path = true};
	const struct pq_conn_opts counted = {.size_from_path = true, .queued_total = &queued_total};
	struct env e;

	alarm(20);
	memset(&lane_rx, 0, sizeof(lane_rx));
	srv_msg_hook = lane_hook;
	env_new(&e, &plain);
	open_pair(&e, &counted);
	run_until(&e, queued_total_zero, 5000);
	lane_queue(&e, 4, 3, 100);
	assert_true(queued_total >= 4 * 60000 + 3 * 100);
	assert_int_equal(queued_total, pq_conn_queued(e.cli.conn));
	want_srv_msgs = 7;
	run_until(&e, srv_has_msgs, 5000);
	run_until(&e, queued_total_zero, 5000);
	lane_queue(&e, 2, 1, 100);
	assert_int_equal(queued_total, pq_conn_queued(e.cli.conn));
	pq_conn_abort(e.cli.conn);
	e.cli.conn = NULL;
	assert_int_equal(queued_total, 0);
	srv_msg_hook = NULL;
	env_free(&e);
}

/* Inside the server's on_message for a message larger than the kept
 * receive buffer: a reply flushed at once (nothing left queued), and the
 * message still readable after it (a flush that trimmed would free it:
 * the sanitizer pass reports that read as a use after free). */
static void flush_now_hook(const uint8_t *msg, size_t len)
{
	struct pq_conn *c = flush_env->srv.conn;

	if (len <= CONN_KEEP_BUF)
		return;
	assert_int_equal(pq_conn_send(c, (const uint8_t *)"ok", 2), 0);
	assert_true(pq_conn_pending(c) > 0);
	pq_conn_flush_now(c);
	assert_int_equal(pq_conn_pending(c), 0);
	for (size_t i = 0; i < len; i++)
		if (msg[i] != flush_pattern(i))
			fail_msg("byte %zu of the borrowed message changed by the flush", i);
	flush_checked = true;
}

static void test_flush_now(void **state)
{
	static uint8_t msg[60000];
	struct env e;

	alarm(30);
	env_new(&e, NULL);
	open_pair(&e, NULL);
	flush_env = &e;
	srv_msg_hook = flush_now_hook;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = flush_pattern(i);
	assert_int_equal(pq_conn_send(e.cli.conn, msg, sizeof(msg)), 0);
	want_cli_msgs = 1;
	run_until(&e, cli_has_msgs, 5000);
	assert_true(flush_checked);
	assert_int_equal(e.cli.last_len, 2);
	assert_memory_equal(e.cli.last, "ok", 2);
	srv_msg_hook = NULL;
	/* Not open: nothing happens. */
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	pq_conn_flush_now(e.cli.conn);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

static bool pongs_seen(struct env *e)
{
	struct pq_conn_stats st;

	pq_conn_stats(e->cli.conn, &st);
	return st.pongs_in >= 3;
}

static void test_ping_and_host(void **state)
{
	struct pq_conn_opts copts = {.ping_interval_ms = 20};
	struct pq_conn_target tg = {0};
	struct pq_conn_stats cs, ss;
	struct env e;

	alarm(20);
	env_new(&e, NULL);
	tg.addr = *pq_listener_addr(e.l);
	tg.pin = e.skey.pub;
	tg.host = "relay.example";
	assert_int_equal(pq_conn_connect(&e.cli.conn, e.loop, e.cctx, &tg, &copts, &cbs, &e), 0);
	run_until(&e, both_open, 5000);
	run_until(&e, pongs_seen, 5000);
	pq_conn_stats(e.cli.conn, &cs);
	pq_conn_stats(e.srv.conn, &ss);
	assert_true(ss.pings_in >= 3);
	assert_true(cs.pongs_in >= 3);
	assert_int_equal(ss.msgs_in, 0); /* pings are not messages */
	assert_int_equal(pq_conn_send(e.srv.conn, (const uint8_t *)"abc", 3), 0);
	pq_conn_stats(e.srv.conn, &ss);
	assert_int_equal(ss.msgs_out, 1);
	assert_int_equal(ss.bytes_out, 3);
	pq_conn_close(e.srv.conn, PQ_WS_CLOSE_GOING_AWAY);
	run_until(&e, both_closed, 5000);
	assert_int_equal(e.cli.msgs, 1);
	assert_int_equal(e.cli.why.ws_code, PQ_WS_CLOSE_GOING_AWAY);
	/* an over-long host name is refused up front */
	{
		char longname[300];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = 0;
		tg.host = longname;
		assert_int_equal(pq_conn_connect(&e.cli.conn, e.loop, e.cctx, &tg, NULL, &cbs, &e),
				 PQ_E_INVAL);
		e.cli.conn = NULL;
	}
	env_free(&e);
}

/* ---- figure: 1420-byte messages over one loopback conn ---- */

#define BENCH_MSGS 40000
#define BENCH_LEN 1420

struct bench {
	struct env *e;
	struct pq_timer t;
	size_t queued;
};

static void bench_fill(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	static uint8_t msg[BENCH_LEN];
	struct bench *b = arg;

	while (b->queued < BENCH_MSGS && pq_conn_send(b->e->cli.conn, msg, sizeof(msg)) == 0)
		b->queued++;
	if (b->queued < BENCH_MSGS)
		assert_int_equal(pq_loop_timer_start(loop, t, 0), 0);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_throughput_figure(void **state)
{
	struct pq_conn_opts copts = {.max_queue = 256 * 1024};
	struct bench b = {0};
	struct env e;
	double t0, dt;

	alarm(60);
	env_new(&e, NULL);
	open_pair(&e, &copts);
	b.e = &e;
	pq_timer_init(&b.t, bench_fill, &b);
	t0 = mono_s();
	assert_int_equal(pq_loop_timer_start(e.loop, &b.t, 0), 0);
	want_srv_msgs = BENCH_MSGS;
	run_until(&e, srv_has_msgs, 30000);
	dt = mono_s() - t0;
	assert_int_equal(e.srv.bytes, (size_t)BENCH_MSGS * BENCH_LEN);
	printf("figure: %d msgs of %d B over one loopback conn in %.3f s: %.0f msgs/s, %.1f MB/s "
	       "(drops while refilling: %llu)\n",
	       BENCH_MSGS, BENCH_LEN, dt, BENCH_MSGS / dt, BENCH_MSGS * (double)BENCH_LEN / dt / 1e6,
	       (unsigned long long)pq_conn_drops(e.cli.conn));
	pq_loop_timer_cancel(e.loop, &b.t);
	pq_conn_close(e.cli.conn, PQ_WS_CLOSE_NORMAL);
	run_until(&e, both_closed, 5000);
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_server_closes),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_plain_http),
		cmocka_unit_test(test_stalled_upgrade),
		cmocka_unit_test(test_unmasked_frame),
		cmocka_unit_test(test_listener_free_pending),
		cmocka_unit_test(test_max_pending),
		cmocka_unit_test(test_bad_101),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_mutual),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_urgent_first),
		cmocka_unit_test(test_urgent_interleaved),
		cmocka_unit_test(test_urgent_retry),
		cmocka_unit_test(test_urgent_random_again),
		cmocka_unit_test(test_urgent_overtake_bound),
		cmocka_unit_test(test_urgent_spill_order),
		cmocka_unit_test(test_send_in_order),
		cmocka_unit_test(test_urgent_bulk_frames),
		cmocka_unit_test(test_ping_and_host),
		cmocka_unit_test(test_flush_now),
		cmocka_unit_test(test_queued_total),
		cmocka_unit_test(test_throughput_figure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
