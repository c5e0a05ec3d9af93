/*
 * test_relay_unauth_ip.c - the relay's per-source cap on unauthenticated
 * conns (src/relay/relay.c, PQ_RELAY_MAX_UNAUTH_PER_IP): one host opening
 * silent conns evicts only its own oldest, never another host's pending
 * login, and the global cap still applies on top.
 *
 * Two sources on one machine without root: the relay listens on [::]
 * (dual-stack, Linux's default net.ipv6.bindv6only=0), clients dial
 * 127.0.0.1 (arriving as ::ffff:127.0.0.1) and ::1. If either source
 * cannot connect, the test fails: it does not skip.
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
#define PER_IP 2
#define FLOOD 8   /* silent conns from the flooding host */
#define HOSTS 4   /* conns from the other host */

struct fix {
	struct pq_loop *loop;
	struct pq_relay *relay;
	struct rc_env v4, v6;        /* same relay, two source addresses */
	struct rc_client *flood;     /* FLOOD clients from 127.0.0.1 */
	struct rc_client *hosts;     /* HOSTS clients from ::1 */
	struct rc_client *other;     /* hosts[0]: silent, opened first */
	struct rc_client *late;      /* hosts[HOSTS - 1]: authenticates */
	size_t want_open;            /* predicates: flood[want_open] opened */
};

static void fix_start(struct fix *f, const struct pq_relay_opts *opts)
{
	struct pq_sockaddr any, a4, a6;
	uint8_t priv[32];
	unsigned port;

	memset(f, 0, sizeof(*f));
	f->flood = calloc(FLOOD, sizeof(*f->flood));
	f->hosts = calloc(HOSTS, sizeof(*f->hosts));
	assert_non_null(f->flood);
	assert_non_null(f->hosts);
	f->other = &f->hosts[0];
	f->late = &f->hosts[HOSTS - 1];
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

static bool client_done(const struct rc_client *c)
{
	return !c->conn || c->closed;
}

static bool all_closed(struct rc_env *e)
{
	struct fix *f = e->arg;

	for (size_t i = 0; i < FLOOD; i++)
		if (!client_done(&f->flood[i]))
			return false;
	for (size_t i = 0; i < HOSTS; i++)
		if (!client_done(&f->hosts[i]))
			return false;
	return true;
}

static void fix_stop(struct fix *f)
{
	pq_relay_shutdown(f->relay);
	assert_int_equal(rc_run(&f->v4, all_closed, f, WAIT_MS), 0);
	pq_relay_free(f->relay);
	rc_env_free(&f->v4);
	rc_env_free(&f->v6);
	pq_loop_free(f->loop);
	free(f->flood);
	free(f->hosts);
}

static bool other_opened(struct rc_env *e)
{
	return ((struct fix *)e->arg)->other->opened;
}

static bool late_welcomed(struct rc_env *e)
{
	return ((struct fix *)e->arg)->late->welcomed;
}

/* flood[want_open] is open, and every flood conn older than the PER_IP
 * newest has been closed by the relay. */
static bool flood_settled(struct rc_env *e)
{
	struct fix *f = e->arg;
	size_t k = f->want_open;

	if (!f->flood[k].opened)
		return false;
	for (size_t i = 0; i + PER_IP <= k; i++)
		if (!f->flood[i].closed)
			return false;
	return true;
}

/* Another host's silent conn opens first; then one host opens FLOOD
 * silent conns. Each one past PER_IP closes that host's oldest
 * (CLOSE(3)), the other host's conn stays open throughout, and a node from
 * the other host still authenticates. */
static void test_per_ip_cap(void **state)
{
	struct pq_relay_opts o = { .max_unauth_per_ip = PER_IP };
	struct pq_relay_stats st;
	struct fix f;

	(void)state;
	fix_start(&f, &o);
	assert_int_equal(rc_connect(&f.v6, f.other, NULL, RC_AUTH_NONE), 0);
	assert_int_equal(rc_run(&f.v6, other_opened, &f, WAIT_MS), 0);
	for (size_t k = 0; k < FLOOD; k++) {
		assert_int_equal(rc_connect(&f.v4, &f.flood[k], NULL, RC_AUTH_NONE), 0);
		f.want_open = k;
		assert_int_equal(rc_run(&f.v4, flood_settled, &f, WAIT_MS), 0);
		assert_false(f.other->closed);
	}
	for (size_t i = 0; i < FLOOD; i++) {
		bool evicted = i + PER_IP < FLOOD;

		assert_int_equal(f.flood[i].closed, evicted);
		if (evicted)
			assert_int_equal(f.flood[i].close_reason, PQ_CLOSE_AUTH_FAILED);
	}
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.unauth_ip_evicted, FLOOD - PER_IP);
	assert_int_equal(st.unauth_evicted, FLOOD - PER_IP);
	/* The per-source count is of the other host's own conns: one. */
	assert_int_equal(rc_connect(&f.v6, f.late, NULL, RC_AUTH_GOOD), 0);
	assert_int_equal(rc_run(&f.v6, late_welcomed, &f, WAIT_MS), 0);
	assert_false(f.other->closed);
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.unauth_ip_evicted, FLOOD - PER_IP);
	assert_int_equal(st.auth_ok, 1);
	fix_stop(&f);
}

/* Both caps: per source 3, global 4. Three silent conns from ::1, then
 * two from 127.0.0.1: neither source is over its cap, but the fifth open
 * is over the global one and closes the oldest of all, ::1's first. */
static bool hosts_opened(struct rc_env *e)
{
	struct fix *f = e->arg;

	return f->hosts[0].opened && f->hosts[1].opened && f->hosts[2].opened;
}

static bool five_settled(struct rc_env *e)
{
	struct fix *f = e->arg;

	return f->flood[1].opened && f->other->closed;
}

static void test_global_cap_still_applies(void **state)
{
	struct pq_relay_opts o = { .max_unauth = 4, .max_unauth_per_ip = 3 };
	struct pq_relay_stats st;
	struct fix f;

	(void)state;
	fix_start(&f, &o);
	assert_int_equal(rc_connect(&f.v6, f.other, NULL, RC_AUTH_NONE), 0);
	assert_int_equal(rc_run(&f.v6, other_opened, &f, WAIT_MS), 0);
	for (int i = 1; i < 3; i++)
		assert_int_equal(rc_connect(&f.v6, &f.hosts[i], NULL, RC_AUTH_NONE), 0);
	assert_int_equal(rc_run(&f.v6, hosts_opened, &f, WAIT_MS), 0);
	assert_int_equal(rc_connect(&f.v4, &f.flood[0], NULL, RC_AUTH_NONE), 0);
	f.want_open = 0;
	assert_int_equal(rc_run(&f.v4, flood_settled, &f, WAIT_MS), 0);
	assert_false(f.other->closed);
	assert_int_equal(rc_connect(&f.v4, &f.flood[1], NULL, RC_AUTH_NONE), 0);
	assert_int_equal(rc_run(&f.v4, five_settled, &f, WAIT_MS), 0);
	assert_int_equal(f.other->close_reason, PQ_CLOSE_AUTH_FAILED);
	assert_false(f.hosts[1].closed || f.hosts[2].closed || f.flood[0].closed || f.flood[1].closed);
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.unauth_evicted, 1);
	assert_int_equal(st.unauth_ip_evicted, 0);
	fix_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_ip_cap),
		cmocka_unit_test(test_global_cap_still_applies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
