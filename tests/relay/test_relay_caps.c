/*
 * test_relay_caps.c - what an open relay (no allow list: keys are free)
 * lets one host take (relay.h, DESIGN §7):
 *   - authenticated conns per source and in total are capped; past a cap a
 *     valid RELAY_AUTH gets CLOSE(3), other sources and a reconnecting key
 *     are unaffected (before: one address held 1,837 conns);
 *   - before RELAY_AUTH the relay accepts a message of RELAY_AUTH's size
 *     only (before: it reserved up to 64 KiB per stranger from a header);
 *   - a node without a mutual peer has a small queue and send buffer, a
 *     node with one the full ones;
 *   - a node that stops answering (black hole) is closed by the ping
 *     deadline and its mutual peer gets PEER_OFFLINE (before: it stayed
 *     online for minutes).
 * Two sources without root: the relay listens on [::], clients dial
 * 127.0.0.1 and ::1 (as test_relay_unauth_ip.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "net/conn_internal.h"
#include "relay/relay.h"
#include "relay/relay_internal.h"
#include "relay_client.h"

#define WAIT_MS 5000

struct fix {
	struct pq_loop *loop;
	struct pq_relay *relay;
	struct rc_env v4, v6;
	struct rc_client c[6];
};

static void fix_start(struct fix *f, const struct pq_relay_opts *opts)
{
	struct pq_sockaddr any, a4, a6;
	uint8_t priv[32];
	unsigned port;

	memset(f, 0, sizeof(*f));
	assert_int_equal(pq_loop_new(&f->loop), 0);
	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_sockaddr_from_ip(&any, "::", 0), 0);
	assert_int_equal(pq_relay_new(&f->relay, f->loop, priv, &any, NULL, 0, opts), 0);
	port = pq_sockaddr_port(pq_relay_addr(f->relay));
	assert_int_equal(pq_sockaddr_from_ip(&a4, "127.0.0.1", port), 0);
	assert_int_equal(pq_sockaddr_from_ip(&a6, "::1", port), 0);
	assert_int_equal(rc_env_init(&f->v4, &a4, pq_relay_public(f->relay), f->loop), 0);
	assert_int_equal(rc_env_init(&f->v6, &a6, pq_relay_public(f->relay), f->loop), 0);
	pq_wipe(priv, sizeof(priv));
}

static bool all_done(struct rc_env *e)
{
	struct fix *f = e->arg;

	for (size_t i = 0; i < 6; i++)
		if (f->c[i].conn && !f->c[i].closed)
			return false;
	return true;
}

static void fix_stop(struct fix *f)
{
	pq_relay_shutdown(f->relay);
	assert_int_equal(rc_run(&f->v4, all_done, f, WAIT_MS), 0);
	pq_relay_free(f->relay);
	rc_env_free(&f->v4);
	rc_env_free(&f->v6);
	pq_loop_free(f->loop);
}

static struct rc_client *g_c;
static bool welcomed_or_closed(struct rc_env *e)
{
	return g_c->welcomed || g_c->closed;
}

/* Connect c[i] through env with key priv (NULL: fresh); wait until it is
 * welcomed or closed. */
static void login(struct fix *f, struct rc_env *env, size_t i, const uint8_t *priv)
{
	assert_int_equal(rc_connect(env, &f->c[i], priv, RC_AUTH_GOOD), 0);
	g_c = &f->c[i];
	assert_int_equal(rc_run(env, welcomed_or_closed, f, WAIT_MS), 0);
}

static bool closed_now(struct rc_env *e)
{
	return g_c->closed;
}

static void test_per_source_cap(void **state)
{
	struct pq_relay_opts o = { .max_nodes_per_source = 2 };
	struct pq_relay_stats st;
	struct fix f;
	uint8_t first[32];

	(void)state;
	fix_start(&f, &o);
	login(&f, &f.v4, 0, NULL);
	memcpy(first, f.c[0].priv, 32);
	login(&f, &f.v4, 1, NULL);
	assert_true(f.c[0].welcomed && f.c[1].welcomed);
	login(&f, &f.v4, 2, NULL); /* a third key from 127.0.0.1 */
	g_c = &f.c[2];
	assert_int_equal(rc_run(&f.v4, closed_now, &f, WAIT_MS), 0);
	assert_false(f.c[2].welcomed);
	assert_int_equal(f.c[2].close_reason, PQ_CLOSE_AUTH_FAILED);
	login(&f, &f.v6, 3, NULL); /* another source: welcome */
	assert_true(f.c[3].welcomed);
	/* the first key reconnects from its source (roaming): replaces */
	login(&f, &f.v4, 4, first);
	assert_true(f.c[4].welcomed);
	g_c = &f.c[0];
	assert_int_equal(rc_run(&f.v4, closed_now, &f, WAIT_MS), 0);
	assert_int_equal(f.c[0].close_reason, PQ_CLOSE_REPLACED);
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.source_refused, 1);
	assert_int_equal(st.full_refused, 0);
	assert_int_equal(st.nodes, 3);
	fix_stop(&f);
}

static void test_total_cap(void **state)
{
	struct pq_relay_opts o = { .max_nodes = 2 };
	struct pq_relay_stats st;
	struct fix f;

	(void)state;
	fix_start(&f, &o);
	login(&f, &f.v4, 0, NULL);
	login(&f, &f.v6, 1, NULL);
	login(&f, &f.v6, 2, NULL);
	g_c = &f.c[2];
	assert_int_equal(rc_run(&f.v6, closed_now, &f, WAIT_MS), 0);
	assert_false(f.c[2].welcomed);
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.full_refused, 1);
	assert_int_equal(st.nodes, 2);
	fix_stop(&f);
}

static bool opened(struct rc_env *e)
{
	return g_c->opened && g_c->nmsgs > 0;
}

/* A first message bigger than RELAY_AUTH is refused by the WebSocket
 * layer from its header (1009), before the relay buffers it. */
static void test_small_before_auth(void **state)
{
	static uint8_t big[4096];
	struct fix f;

	(void)state;
	fix_start(&f, NULL);
	assert_int_equal(rc_connect(&f.v4, &f.c[0], NULL, RC_AUTH_NONE), 0);
	g_c = &f.c[0];
	assert_int_equal(rc_run(&f.v4, opened, &f, WAIT_MS), 0);
	big[0] = PQ_MSG_RELAY_AUTH;
	assert_int_equal(pq_conn_send(f.c[0].conn, big, sizeof(big)), 0);
	assert_int_equal(rc_run(&f.v4, closed_now, &f, WAIT_MS), 0);
	assert_int_equal(f.c[0].why.ws_code, 1009);
	fix_stop(&f);
}

static int sndbuf_of(struct pq_conn *c)
{
	int v = 0;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	return v;
}

static bool both_online(struct rc_env *e)
{
	struct fix *f = e->arg;

	return rc_count(&f->c[0], PQ_MSG_PEER_ONLINE) && rc_count(&f->c[1], PQ_MSG_PEER_ONLINE);
}

/* The relay-side conn of client c: the node whose key is c's. */
static struct relay_node *relay_side(struct fix *f, const struct rc_client *c)
{
	struct relay_node *n = relay_node_of_key(f->relay, c->pub);

	assert_non_null(n);
	return n;
}

static void test_queue_grows_when_paired(void **state)
{
	struct fix f;
	struct relay_node *a;

	(void)state;
	fix_start(&f, NULL);
	assert_int_equal(rc_connect(&f.v4, &f.c[0], NULL, RC_AUTH_GOOD), 0);
	assert_int_equal(rc_connect(&f.v4, &f.c[1], NULL, RC_AUTH_GOOD), 0);
	assert_int_equal(rc_watch_add(&f.c[0], f.c[1].pub), 0);
	assert_int_equal(rc_watch_add(&f.c[1], f.c[0].pub), 0);
	g_c = &f.c[0];
	assert_int_equal(rc_run(&f.v4, welcomed_or_closed, &f, WAIT_MS), 0);
	a = relay_side(&f, &f.c[0]);
	/* until its peer arrives: small (the kernel doubles SO_SNDBUF) */
	if (!f.c[1].welcomed) {
		assert_int_equal(a->conn->opts.max_queue, PQ_RELAY_LONE_QUEUE);
		assert_true(sndbuf_of(a->conn) <= 2 * PQ_RELAY_LONE_SNDBUF + 4096);
	}
	assert_int_equal(rc_run(&f.v4, both_online, &f, WAIT_MS), 0);
	assert_true(a->paired);
	assert_int_equal(a->conn->opts.max_queue, PQ_CONN_MAX_QUEUE);
	assert_int_equal(a->conn->opts.max_msg, PQ_MAX_MSG_LEN);
	assert_true(sndbuf_of(a->conn) >= PQ_RELAY_PAIRED_SNDBUF);
	fix_stop(&f);
}

/* A lone node's queue: never the full 1 MiB. */
static void test_lone_queue(void **state)
{
	struct fix f;
	struct relay_node *a;

	(void)state;
	fix_start(&f, NULL);
	login(&f, &f.v4, 0, NULL);
	a = relay_side(&f, &f.c[0]);
	assert_false(a->paired);
	assert_int_equal(a->conn->opts.max_queue, PQ_RELAY_LONE_QUEUE);
	assert_int_equal(a->conn->opts.max_msg, PQ_MAX_MSG_LEN);
	assert_true(sndbuf_of(a->conn) <= 2 * PQ_RELAY_LONE_SNDBUF + 4096);
	fix_stop(&f);
}

static bool offline_heard(struct rc_env *e)
{
	struct fix *f = e->arg;

	return rc_count(&f->c[1], PQ_MSG_PEER_OFFLINE) > 0;
}

/* Node 0 stops reading (its kernel ACKs, nothing answers): the relay's
 * ping deadline closes it and node 1 hears PEER_OFFLINE. */
static void test_silent_node_goes_offline(void **state)
{
	struct pq_relay_opts o = { .ping_interval_ms = 100, .ping_timeout_ms = 100 };
	struct pq_relay_stats st;
	struct fix f;
	uint64_t t0;

	(void)state;
	fix_start(&f, &o);
	assert_int_equal(rc_connect(&f.v4, &f.c[0], NULL, RC_AUTH_GOOD), 0);
	assert_int_equal(rc_connect(&f.v4, &f.c[1], NULL, RC_AUTH_GOOD), 0);
	assert_int_equal(rc_watch_add(&f.c[0], f.c[1].pub), 0);
	assert_int_equal(rc_watch_add(&f.c[1], f.c[0].pub), 0);
	assert_int_equal(rc_run(&f.v4, both_online, &f, WAIT_MS), 0);
	assert_int_equal(pq_loop_del(f.loop, f.c[0].conn->fd), 0);
	t0 = pq_loop_now(f.loop);
	assert_int_equal(rc_run(&f.v4, offline_heard, &f, WAIT_MS), 0);
	assert_true(pq_loop_now(f.loop) - t0 <= 100 + 100 + 2 * 100);
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.nodes, 1);
	pq_conn_abort(f.c[0].conn); /* its fd is unwatched already */
	f.c[0].conn = NULL;
	fix_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_source_cap),
		cmocka_unit_test(test_total_cap),
		cmocka_unit_test(test_small_before_auth),
		cmocka_unit_test(test_queue_grows_when_paired),
		cmocka_unit_test(test_lone_queue),
		cmocka_unit_test(test_silent_node_goes_offline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
