/*
 * test_conn_admission.c - the listener under a connection flood and the
 * liveness of open conns (net/conn.h, DESIGN §7 "availability under
 * attack"), on the real loop over 127.0.0.0/8, where every 127.0.0.N is
 * a separate source:
 *   - one source past its pending cap loses its own oldest conn, nobody
 *     else's;
 *   - at the total cap the busiest source's oldest goes, never the newest;
 *   - a conn that sends nothing is closed at first_bytes_ms, one that
 *     started TLS keeps the whole open deadline;
 *   - 300 idle conns from one source do not keep a real client from
 *     opening (on the old listener the newest was refused: this failed);
 *   - a silent peer (black hole: its kernel ACKs, it never answers) is
 *     closed by the ping deadline, a live one is not;
 *   - buffers that grew for one big message are freed once drained;
 *   - max_msg can be raised on an open conn (the relay before and after
 *     authentication).
 * alarm() bounds every test.
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
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/ed25519.h"
#include "net/conn.h"
#include "net/conn_internal.h"
#include "proto/types.h"

#define FLOOD 300

struct env {
	struct pq_loop *loop;
	uint8_t spriv[32], spub[32], cpriv[32];
	struct pq_tls_ctx *sctx, *cctx;
	struct pq_listener *l;
	struct pq_conn *srv, *cli;
	int srv_open, cli_open, srv_closed, cli_closed;
	struct pq_conn_reason cli_why;
	size_t cli_msgs, srv_msgs, last_len;
	size_t raise_to; /* server: pq_conn_set_max_msg at open */
	struct pq_timer stop;
};

static void on_open(void *ctx, struct pq_conn *c)
{
	struct env *e = ctx;

	if (pq_conn_is_server(c)) {
		e->srv = c;
		e->srv_open++;
		if (e->raise_to)
			assert_int_equal(pq_conn_set_max_msg(c, e->raise_to), 0);
	} else {
		e->cli_open++;
	}
}

static void on_message(void *ctx, struct pq_conn *c, const uint8_t *msg, size_t len)
{
	struct env *e = ctx;

	e->last_len = len;
	if (pq_conn_is_server(c))
		e->srv_msgs++;
	else
		e->cli_msgs++;
}

static void on_close(void *ctx, struct pq_conn *c, const struct pq_conn_reason *why)
{
	struct env *e = ctx;

	if (pq_conn_is_server(c)) {
		e->srv_closed++;
		e->srv = NULL;
	} else {
		e->cli_closed++;
		e->cli_why = *why;
		e->cli = NULL;
	}
}

static const struct pq_conn_cbs cbs = { on_open, on_message, on_close };

static void stop_fn(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	pq_loop_stop(loop);
}

/* Run the loop for ms. */
static void run_ms(struct env *e, uint64_t ms)
{
	assert_int_equal(pq_loop_timer_start(e->loop, &e->stop, ms), 0);
	assert_int_equal(pq_loop_run(e->loop), 0);
	pq_loop_timer_cancel(e->loop, &e->stop);
}

/* Run until *flag is non-zero, at most ms; asserted. */
static void run_until(struct env *e, const int *flag, uint64_t ms)
{
	uint64_t end = pq_loop_now(e->loop) + ms;

	while (!*flag && pq_loop_now(e->loop) < end)
		run_ms(e, 5);
	assert_true(*flag);
}

static void env_new(struct env *e, const struct pq_conn_opts *sopts)
{
	struct pq_sockaddr any;

	memset(e, 0, sizeof(*e));
	assert_int_equal(pq_loop_new(&e->loop), 0);
	pq_timer_init(&e->stop, stop_fn, e);
	assert_int_equal(pq_ed25519_generate(e->spriv), 0);
	assert_int_equal(pq_ed25519_public(e->spub, e->spriv), 0);
	assert_int_equal(pq_ed25519_generate(e->cpriv), 0);
	assert_int_equal(pq_tls_ctx_new(&e->sctx, PQ_TLS_SERVER, e->spriv), 0);
	assert_int_equal(pq_tls_ctx_new(&e->cctx, PQ_TLS_CLIENT, e->cpriv), 0);
	assert_int_equal(pq_sockaddr_from_ip(&any, "127.0.0.1", 0), 0);
	assert_int_equal(pq_listener_new(&e->l, e->loop, e->sctx, &any, sopts, &cbs, e), 0);
}

static void env_free(struct env *e)
{
	if (e->srv)
		pq_conn_abort(e->srv);
	if (e->cli)
		pq_conn_abort(e->cli);
	pq_listener_free(e->l);
	run_ms(e, 20); /* reap timers */
	pq_loop_free(e->loop);
	pq_tls_ctx_free(e->sctx);
	pq_tls_ctx_free(e->cctx);
}

static void client_open(struct env *e, const struct pq_conn_opts *copts)
{
	struct pq_conn_target tg = { .addr = *pq_listener_addr(e->l), .pin = e->spub };

	assert_int_equal(pq_conn_connect(&e->cli, e->loop, e->cctx, &tg, copts, &cbs, e), 0);
}

/* A plain TCP connection from 127.0.0.<src> that says nothing. */
static int raw_connect(const struct env *e, int src)
{
	const struct sockaddr_in *to = (const struct sockaddr_in *)&pq_listener_addr(e->l)->ss;
	struct sockaddr_in from = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	from.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)src);
	assert_int_equal(bind(fd, (const struct sockaddr *)&from, sizeof(from)), 0);
	assert_true(connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0 || errno == EINPROGRESS);
	return fd;
}

/* Did the server close fd (EOF or reset)? */
static bool raw_closed(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Open n raw conns from src, letting the listener accept each in turn
 * (so accept order is open order). */
static void raw_open_n(struct env *e, int *fds, size_t n, int src)
{
	for (size_t i = 0; i < n; i++) {
		fds[i] = raw_connect(e, src);
		run_ms(e, 3);
	}
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* ---- one source past its cap: its own oldest go ---- */

static void test_per_source_cap(void **state)
{
	struct pq_conn_opts o = { .max_pending = 16, .max_pending_per_source = 3 };
	struct pq_listener_stats st;
	struct env e;
	int a[5], b;

	alarm(20);
	env_new(&e, &o);
	b = raw_connect(&e, 3);
	run_ms(&e, 5);
	raw_open_n(&e, a, 5, 2);
	run_ms(&e, 20);
	assert_true(raw_closed(a[0]));
	assert_true(raw_closed(a[1]));
	for (int i = 2; i < 5; i++)
		assert_false(raw_closed(a[i]));
	assert_false(raw_closed(b));
	pq_listener_stats(e.l, &st);
	assert_int_equal(st.accepted, 6);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(st.evicted_own, 2);
	close_all(a, 5);
	close(b);
	env_free(&e);
}

/* ---- at the total cap: the busiest source's oldest, not the newest ---- */

static void test_busiest_evicted(void **state)
{
	struct pq_conn_opts o = { .max_pending = 4, .max_pending_per_source = 3 };
	struct pq_listener_stats st;
	struct env e;
	int a[3], b, c;

	alarm(20);
	env_new(&e, &o);
	raw_open_n(&e, a, 3, 2);
	b = raw_connect(&e, 3);
	run_ms(&e, 5);
	c = raw_connect(&e, 4); /* fifth conn: over the total of 4 */
	run_ms(&e, 20);
	assert_true(raw_closed(a[0]));
	assert_false(raw_closed(a[1]));
	assert_false(raw_closed(a[2]));
	assert_false(raw_closed(b));
	assert_false(raw_closed(c));
	pq_listener_stats(e.l, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.evicted_own, 0);
	close_all(a, 3);
	close(b);
	close(c);
	env_free(&e);
}

/* ---- silent conns go at first_bytes_ms; started ones keep the open deadline ---- */

static void test_first_bytes(void **state)
{
	struct pq_conn_opts o = { .first_bytes_ms = 150, .open_timeout_ms = 3000 };
	struct pq_listener_stats st;
	struct pq_tls *tls = NULL;
	struct env e;
	int silent, talker;

	alarm(20);
	env_new(&e, &o);
	silent = raw_connect(&e, 2);
	talker = raw_connect(&e, 3);
	/* a ClientHello, then nothing: the TLS handshake stalls */
	assert_int_equal(pq_tls_new(&tls, e.cctx, talker, e.spub, NULL), 0);
	run_ms(&e, 20);
	assert_int_equal(pq_tls_handshake(tls), PQ_E_AGAIN);
	run_ms(&e, 100);
	assert_false(raw_closed(silent));
	run_ms(&e, 500);
	assert_true(raw_closed(silent));
	assert_false(raw_closed(talker));
	pq_listener_stats(e.l, &st);
	assert_int_equal(st.first_bytes_timeouts, 1);
	assert_int_equal(st.failed, 1);
	pq_tls_free(tls);
	close(silent);
	close(talker);
	env_free(&e);
}

/* ---- a flood from one source does not lock a real client out ---- */

static void test_flood_real_client(void **state)
{
	struct pq_conn_opts o = { .max_pending = 64, .max_pending_per_source = 8 };
	struct pq_listener_stats st;
	static int fds[FLOOD];
	struct env e;
	size_t alive = 0;

	alarm(30);
	env_new(&e, &o);
	for (size_t i = 0; i < FLOOD; i++) {
		fds[i] = raw_connect(&e, 2);
		if (i % 16 == 15)
			run_ms(&e, 2);
	}
	run_ms(&e, 20);
	client_open(&e, NULL); /* from 127.0.0.1 */
	run_until(&e, &e.srv_open, 3000);
	run_until(&e, &e.cli_open, 3000); /* the client may see it a turn later */
	assert_int_equal(e.cli_open, 1);
	for (size_t i = 0; i < FLOOD; i++)
		alive += !raw_closed(fds[i]);
	assert_true(alive <= 8);
	pq_listener_stats(e.l, &st);
	assert_true(st.evicted >= FLOOD - 8);
	assert_int_equal(st.evicted, st.evicted_own);
	close_all(fds, FLOOD);
	env_free(&e);
}

/* ---- liveness: a black-holed peer is closed by the ping deadline ---- */

static void test_ping_deadline(void **state)
{
	struct pq_conn_opts c = { .ping_interval_ms = 100, .ping_timeout_ms = 200 };
	struct pq_conn_stats cs;
	struct env e;
	uint64_t t0;

	alarm(20);
	env_new(&e, NULL);
	client_open(&e, &c);
	run_until(&e, &e.srv_open, 3000);
	run_until(&e, &e.cli_open, 3000);
	/* alive: pings answered, nothing closes */
	run_ms(&e, 700);
	assert_int_equal(e.cli_closed, 0);
	pq_conn_stats(e.cli, &cs);
	assert_true(cs.pings_out >= 2);
	assert_true(cs.pongs_in >= 2);
	/* the server stops reading: its kernel still ACKs, nothing answers */
	assert_int_equal(pq_loop_del(e.loop, e.srv->fd), 0);
	t0 = pq_loop_now(e.loop);
	run_until(&e, &e.cli_closed, 3000);
	assert_int_equal(e.cli_why.end, PQ_CONN_END_TIMEOUT);
	assert_true(pq_loop_now(e.loop) - t0 <= 100 + 200 + 150);
	pq_conn_abort(e.srv); /* its fd is no longer watched: nothing to undo */
	e.srv = NULL;
	env_free(&e);
}

/* ---- buffers grown for one big message are freed once drained ---- */

static void test_buffers_shrink(void **state)
{
	static uint8_t big[60000];
	struct env e;
	int got = 0;

	alarm(20);
	env_new(&e, NULL);
	client_open(&e, NULL);
	run_until(&e, &e.srv_open, 3000);
	run_until(&e, &e.cli_open, 3000);
	memset(big, 0x5a, sizeof(big));
	assert_int_equal(pq_conn_send(e.srv, big, sizeof(big)), 0);
	assert_true(e.srv->out_cap >= sizeof(big));
	for (int i = 0; i < 200 && !got; i++) {
		run_ms(&e, 5);
		got = e.cli_msgs == 1;
	}
	assert_true(got);
	assert_int_equal(e.last_len, sizeof(big));
	assert_int_equal(e.srv->out_cap, 0);
	assert_int_equal(e.cli->rx.msg_cap, 0);
	/* small messages keep their small buffers */
	assert_int_equal(pq_conn_send(e.srv, big, 100), 0);
	for (int i = 0; i < 200 && e.cli_msgs < 2; i++)
		run_ms(&e, 5);
	assert_int_equal(e.cli_msgs, 2);
	assert_true(e.cli->rx.msg_cap > 0 && e.cli->rx.msg_cap <= CONN_KEEP_BUF);
	env_free(&e);
}

/* ---- max_msg raised on an open conn ---- */

static void test_raise_max_msg(void **state)
{
	struct pq_conn_opts o = { .max_msg = 97 }; /* RELAY_AUTH's size */
	static uint8_t msg[1000];
	struct env e;

	alarm(20);
	env_new(&e, &o);
	e.raise_to = sizeof(msg);
	client_open(&e, NULL);
	run_until(&e, &e.srv_open, 3000);
	run_until(&e, &e.cli_open, 3000);
	assert_int_equal(pq_conn_send(e.cli, msg, sizeof(msg)), 0);
	for (int i = 0; i < 200 && !e.srv_msgs; i++)
		run_ms(&e, 5);
	assert_int_equal(e.srv_msgs, 1);
	assert_int_equal(e.last_len, sizeof(msg));
	assert_int_equal(pq_conn_set_max_msg(e.srv, 0), PQ_E_INVAL);
	assert_int_equal(pq_conn_set_max_msg(e.srv, PQ_MAX_MSG_LEN + 1), PQ_E_INVAL);
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_source_cap),
		cmocka_unit_test(test_busiest_evicted),
		cmocka_unit_test(test_first_bytes),
		cmocka_unit_test(test_flood_real_client),
		cmocka_unit_test(test_ping_deadline),
		cmocka_unit_test(test_buffers_shrink),
		cmocka_unit_test(test_raise_max_msg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
