/*
 * test_relay_watch.c - mutual watch (docs/PROTOCOL.md §3.4) on a real relay
 * on 127.0.0.1:0, driven in-process by real clients (TLS 1.3 + WebSocket):
 * the relay tells A about B, and forwards between them, only when A lists
 * B and B lists A in RELAY_WATCH; anything else looks exactly like an
 * offline key (UNREACHABLE). A node that has not watched yet hears
 * nothing; a second or malformed RELAY_WATCH closes the conn.
 *
 * Ordering: each client's messages to the relay, and the relay's to it,
 * travel on one TLS stream in order. A RELAY_SEND answered by UNREACHABLE
 * therefore proves the relay has handled everything the client sent
 * before it, and a RELAY_RECV proves the client has received everything
 * the relay queued for it earlier: "nothing arrived" is checked after
 * such a marker, not after a sleep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "relay/relay.h"
#include "relay_client.h"

#define WAIT_MS 5000

struct node_id {
	uint8_t priv[32], pub[32];
};

struct fix {
	struct pq_loop *loop;
	struct pq_relay *relay;
	struct rc_env env;
	struct rc_client a, b, c;
	struct node_id ka, kb, kc;
};

static void fix_start(struct fix *f)
{
	struct pq_sockaddr any;
	uint8_t priv[32];
	struct node_id *ids[] = { &f->ka, &f->kb, &f->kc };

	memset(f, 0, sizeof(*f));
	assert_int_equal(pq_loop_new(&f->loop), 0);
	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_sockaddr_from_ip(&any, "127.0.0.1", 0), 0);
	assert_int_equal(pq_relay_new(&f->relay, f->loop, priv, &any, NULL, 0, NULL), 0);
	assert_int_equal(rc_env_init(&f->env, pq_relay_addr(f->relay), pq_relay_public(f->relay),
				     f->loop), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(pq_ed25519_generate(ids[i]->priv), 0);
		assert_int_equal(pq_ed25519_public(ids[i]->pub, ids[i]->priv), 0);
	}
}

static bool all_closed(struct rc_env *e)
{
	struct fix *f = e->arg;

	return (!f->a.conn || f->a.closed) && (!f->b.conn || f->b.closed) &&
	       (!f->c.conn || f->c.closed);
}

static void fix_stop(struct fix *f)
{
	pq_relay_shutdown(f->relay);
	assert_int_equal(rc_run(&f->env, all_closed, f, WAIT_MS), 0);
	pq_relay_free(f->relay);
	rc_env_free(&f->env);
	pq_loop_free(f->loop);
}

/* Connect c as id, watching the n keys in watch (0: sends no RELAY_WATCH). */
static void connect_as(struct fix *f, struct rc_client *c, const struct node_id *id,
		       const uint8_t *const *watch, size_t n)
{
	assert_int_equal(rc_connect(&f->env, c, id->priv, RC_AUTH_GOOD), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rc_watch_add(c, watch[i]), 0);
}

static bool abc_welcomed(struct rc_env *e)
{
	struct fix *f = e->arg;

	return f->a.welcomed && f->b.welcomed && (!f->c.conn || f->c.welcomed);
}

static bool ab_online(struct rc_env *e)
{
	struct fix *f = e->arg;

	return rc_count(&f->a, PQ_MSG_PEER_ONLINE) >= 1 && rc_count(&f->b, PQ_MSG_PEER_ONLINE) >= 1;
}

/* Wait until c has n messages of type t. */
struct want {
	struct rc_client *c;
	uint8_t type;
	size_t n;
};

static bool has_want(struct rc_env *e)
{
	struct want *w = e->arg;

	return rc_count(w->c, w->type) >= w->n;
}

static void wait_for(struct fix *f, struct rc_client *c, uint8_t type, size_t n)
{
	struct want w = { c, type, n };

	assert_int_equal(rc_run(&f->env, has_want, &w, WAIT_MS), 0);
}

/* c sends RELAY_SEND to dst and gets UNREACHABLE(dst) back: the relay has
 * also handled everything c sent before. */
static void expect_unreachable(struct fix *f, struct rc_client *c, const uint8_t dst[32])
{
	static const uint8_t p[] = { 0x20, 'n', 'o' };
	size_t before = rc_count(c, PQ_MSG_UNREACHABLE);
	struct pq_peer_key_msg un;

	assert_int_equal(rc_send(c, dst, p, sizeof(p)), 0);
	wait_for(f, c, PQ_MSG_UNREACHABLE, before + 1);
	assert_int_equal(pq_unreachable_decode(&un, rc_last(c, PQ_MSG_UNREACHABLE)->buf,
					       PQ_UNREACHABLE_MSG_LEN), 0);
	assert_memory_equal(un.key, dst, 32);
}

/* from sends a payload to to, which receives it (its nth RELAY_RECV). */
static void expect_forwarded(struct fix *f, struct rc_client *from, struct rc_client *to)
{
	static const uint8_t p[] = { 0x20, 'o', 'k' };
	size_t before = rc_count(to, PQ_MSG_RELAY_RECV);
	struct pq_relay_fwd r;

	assert_int_equal(rc_send(from, to->pub, p, sizeof(p)), 0);
	wait_for(f, to, PQ_MSG_RELAY_RECV, before + 1);
	assert_int_equal(rc_count(to, PQ_MSG_RELAY_RECV), before + 1);
	assert_int_equal(pq_relay_recv_decode(&r, rc_last(to, PQ_MSG_RELAY_RECV)->buf,
					      rc_last(to, PQ_MSG_RELAY_RECV)->len), 0);
	assert_memory_equal(r.key, from->pub, 32);
}

/* Every PEER_ONLINE / PEER_OFFLINE c received is about key. */
static void only_about(const struct rc_client *c, uint8_t type, const uint8_t key[32])
{
	for (size_t i = 0; i < c->nmsgs; i++)
		if (c->msgs[i].buf[0] == type)
			assert_memory_equal(c->msgs[i].buf + 1, key, 32);
}

/* A and B list each other; C lists A, A does not list C. */
static void start_abc(struct fix *f)
{
	const uint8_t *wa[] = { f->kb.pub }, *wb[] = { f->ka.pub }, *wc[] = { f->ka.pub };

	connect_as(f, &f->a, &f->ka, wa, 1);
	connect_as(f, &f->b, &f->kb, wb, 1);
	connect_as(f, &f->c, &f->kc, wc, 1);
	assert_int_equal(rc_run(&f->env, abc_welcomed, f, WAIT_MS), 0);
	assert_int_equal(rc_run(&f->env, ab_online, f, WAIT_MS), 0);
	/* Markers: C's UNREACHABLE (the relay has C's RELAY_WATCH), then a
	 * RELAY_RECV to A and to B sent after it. */
	expect_unreachable(f, &f->c, f->ka.pub);
	expect_forwarded(f, &f->b, &f->a);
	expect_forwarded(f, &f->a, &f->b);
}

static void test_mutual_only(void **state)
{
	struct pq_relay_stats st;
	struct fix f;

	fix_start(&f);
	start_abc(&f);
	/* A and B: exactly one PEER_ONLINE each, about the other. */
	assert_int_equal(rc_count(&f.a, PQ_MSG_PEER_ONLINE), 1);
	assert_int_equal(rc_count(&f.b, PQ_MSG_PEER_ONLINE), 1);
	only_about(&f.a, PQ_MSG_PEER_ONLINE, f.kb.pub);
	only_about(&f.b, PQ_MSG_PEER_ONLINE, f.ka.pub);
	/* C lists A, A does not list C: neither hears of the other. */
	assert_int_equal(rc_count(&f.c, PQ_MSG_PEER_ONLINE), 0);
	/* C -> A was refused (start_abc) and never reached A: A's only
	 * RELAY_RECV is B's, which the relay handled after C's. A -> C is
	 * refused alike, and C receives nothing. */
	assert_int_equal(rc_count(&f.a, PQ_MSG_RELAY_RECV), 1);
	expect_unreachable(&f, &f.a, f.kc.pub);
	expect_forwarded(&f, &f.b, &f.a);
	expect_forwarded(&f, &f.a, &f.b);
	assert_int_equal(rc_count(&f.c, PQ_MSG_RELAY_RECV), 0);
	assert_int_equal(rc_count(&f.a, PQ_MSG_RELAY_RECV), 2);
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.not_mutual, 2);
	assert_int_equal(st.unreachable, 2);
	assert_int_equal(st.forwarded, 4);
	assert_int_equal(st.protocol_errors, 0);
	fix_stop(&f);
	printf("checked: A<->B (mutual) announced and forwarded; C (lists A, A does not "
	       "list C) announced to nobody, C->A and A->C UNREACHABLE\n");
}

static bool a_closed_b_offline(struct rc_env *e)
{
	struct fix *f = e->arg;

	return f->a.closed && rc_count(&f->b, PQ_MSG_PEER_OFFLINE) >= 1;
}

/* When A leaves, B (mutual) gets PEER_OFFLINE(A); C (which lists A but is
 * not listed by it) gets nothing. */
static void test_offline_only_mutual(void **state)
{
	struct fix f;

	fix_start(&f);
	start_abc(&f);
	pq_conn_close(f.a.conn, 1000);
	assert_int_equal(rc_run(&f.env, a_closed_b_offline, &f, WAIT_MS), 0);
	assert_int_equal(rc_count(&f.b, PQ_MSG_PEER_OFFLINE), 1);
	only_about(&f.b, PQ_MSG_PEER_OFFLINE, f.ka.pub);
	/* The relay sent B's PEER_OFFLINE before it handles C's next
	 * RELAY_SEND: a PEER_OFFLINE for C would come before its answer. */
	expect_unreachable(&f, &f.c, f.ka.pub);
	assert_int_equal(rc_count(&f.c, PQ_MSG_PEER_OFFLINE), 0);
	assert_int_equal(rc_count(&f.c, PQ_MSG_PEER_ONLINE), 0);
	fix_stop(&f);
}

/* Neither A nor B watches at first: no announcement, RELAY_SEND refused
 * both ways. Then `first` watches (still one-sided: nothing), then the
 * other: both get PEER_ONLINE, forwarding works. Run in both orders. */
static void watch_in_order(bool a_first)
{
	const uint8_t *wa[] = { NULL }, *wb[] = { NULL };
	struct rc_client *first, *second;
	struct pq_peer_online on;
	struct fix f;

	fix_start(&f);
	wa[0] = f.kb.pub;
	wb[0] = f.ka.pub;
	connect_as(&f, &f.a, &f.ka, NULL, 0);
	connect_as(&f, &f.b, &f.kb, NULL, 0);
	assert_int_equal(rc_run(&f.env, abc_welcomed, &f, WAIT_MS), 0);
	expect_unreachable(&f, &f.a, f.kb.pub);
	expect_unreachable(&f, &f.b, f.ka.pub);
	first = a_first ? &f.a : &f.b;
	second = a_first ? &f.b : &f.a;
	assert_int_equal(rc_send_watch(first, (const uint8_t(*)[32])(first == &f.a ? wa[0] : wb[0]), 1), 0);
	/* One side watching is not enough, in either direction. */
	expect_unreachable(&f, first, second->pub);
	expect_unreachable(&f, second, first->pub);
	assert_int_equal(rc_count(&f.a, PQ_MSG_PEER_ONLINE), 0);
	assert_int_equal(rc_count(&f.b, PQ_MSG_PEER_ONLINE), 0);
	assert_int_equal(rc_send_watch(second, (const uint8_t(*)[32])(second == &f.a ? wa[0] : wb[0]), 1), 0);
	assert_int_equal(rc_run(&f.env, ab_online, &f, WAIT_MS), 0);
	assert_int_equal(pq_peer_online_decode(&on, rc_last(&f.a, PQ_MSG_PEER_ONLINE)->buf,
					       PQ_PEER_ONLINE_MSG_LEN), 0);
	assert_memory_equal(on.key, f.kb.pub, 32);
	assert_int_equal(on.observed.family, PQ_ADDR_V4);
	assert_int_equal(pq_peer_online_decode(&on, rc_last(&f.b, PQ_MSG_PEER_ONLINE)->buf,
					       PQ_PEER_ONLINE_MSG_LEN), 0);
	assert_memory_equal(on.key, f.ka.pub, 32);
	expect_forwarded(&f, &f.a, &f.b);
	expect_forwarded(&f, &f.b, &f.a);
	assert_int_equal(rc_count(&f.a, PQ_MSG_PEER_ONLINE), 1);
	assert_int_equal(rc_count(&f.b, PQ_MSG_PEER_ONLINE), 1);
	fix_stop(&f);
}

static void test_watch_order_a_first(void **state)
{
	watch_in_order(true);
}

static void test_watch_order_b_first(void **state)
{
	watch_in_order(false);
}

static bool a_closed(struct rc_env *e)
{
	return ((struct fix *)e->arg)->a.closed;
}

/* A RELAY_WATCH the codec refuses (as the first one) closes the conn with
 * CLOSE(2), and B, which watched A, never hears of A. */
static void test_malformed_watch(void **state)
{
	uint8_t zero[3] = { PQ_MSG_RELAY_WATCH, 0, 0 };
	uint8_t dup[PQ_RELAY_WATCH_MSG_LEN(2)] = { PQ_MSG_RELAY_WATCH, 0, 2 };
	uint8_t trailing[PQ_RELAY_WATCH_MSG_LEN(1) + 1] = { PQ_MSG_RELAY_WATCH, 0, 1 };
	struct { uint8_t *m; size_t len; } cases[] = {
		{ zero, sizeof(zero) }, { dup, sizeof(dup) }, { trailing, sizeof(trailing) },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *wb[1];
		struct pq_relay_stats st;
		struct fix f;

		fix_start(&f);
		wb[0] = f.ka.pub;
		memcpy(dup + 3, f.kb.pub, 32);
		memcpy(dup + 35, f.kb.pub, 32);
		memcpy(trailing + 3, f.kb.pub, 32);
		connect_as(&f, &f.a, &f.ka, NULL, 0);
		connect_as(&f, &f.b, &f.kb, wb, 1);
		assert_int_equal(rc_run(&f.env, abc_welcomed, &f, WAIT_MS), 0);
		assert_int_equal(rc_send_raw(&f.a, cases[i].m, cases[i].len), 0);
		assert_int_equal(rc_run(&f.env, a_closed, &f, WAIT_MS), 0);
		assert_int_equal(f.a.close_reason, PQ_CLOSE_PROTOCOL);
		expect_unreachable(&f, &f.b, f.ka.pub);
		assert_int_equal(rc_count(&f.b, PQ_MSG_PEER_ONLINE), 0);
		assert_int_equal(rc_count(&f.b, PQ_MSG_PEER_OFFLINE), 0);
		pq_relay_stats(f.relay, &st);
		assert_int_equal(st.protocol_errors, 1);
		fix_stop(&f);
	}
	printf("checked: %zu malformed RELAY_WATCH closed the conn, nothing announced\n", i);
}

/* A reconnects (a new conn with the same key): B is told A went offline
 * (the new conn may never watch, or watch other keys), and A's new conn is
 * announced to B only once it has watched again. */
static void test_reconnect_rewatch(void **state)
{
	const uint8_t *wa[] = { NULL }, *wb[] = { NULL };
	struct fix f;

	fix_start(&f);
	wa[0] = f.kb.pub;
	wb[0] = f.ka.pub;
	connect_as(&f, &f.a, &f.ka, wa, 1);
	connect_as(&f, &f.b, &f.kb, wb, 1);
	assert_int_equal(rc_run(&f.env, ab_online, &f, WAIT_MS), 0);
	connect_as(&f, &f.c, &f.ka, NULL, 0); /* C replaces A, no watch yet */
	assert_int_equal(rc_run(&f.env, a_closed, &f, WAIT_MS), 0);
	assert_int_equal(f.a.close_reason, PQ_CLOSE_REPLACED);
	wait_for(&f, &f.b, PQ_MSG_PEER_OFFLINE, 1);
	only_about(&f.b, PQ_MSG_PEER_OFFLINE, f.ka.pub);
	expect_unreachable(&f, &f.b, f.ka.pub);
	assert_int_equal(rc_count(&f.b, PQ_MSG_PEER_ONLINE), 1);
	assert_int_equal(rc_send_watch(&f.c, (const uint8_t(*)[32])wa[0], 1), 0);
	wait_for(&f, &f.b, PQ_MSG_PEER_ONLINE, 2);
	only_about(&f.b, PQ_MSG_PEER_ONLINE, f.ka.pub);
	wait_for(&f, &f.c, PQ_MSG_PEER_ONLINE, 1);
	only_about(&f.c, PQ_MSG_PEER_ONLINE, f.kb.pub);
	expect_forwarded(&f, &f.b, &f.c);
	assert_int_equal(rc_count(&f.b, PQ_MSG_PEER_OFFLINE), 1);
	fix_stop(&f);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual_only),
		cmocka_unit_test(test_offline_only_mutual),
		cmocka_unit_test(test_watch_order_a_first),
		cmocka_unit_test(test_watch_order_b_first),
		cmocka_unit_test(test_malformed_watch),
		cmocka_unit_test(test_reconnect_rewatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
