/*
 * test_hs_clock.c - the handshake's two clocks (proto/handshake.h): wall
 * time only for the HS_INIT timestamp and its checks, monotonic time for
 * the rate limit and every lifetime. A wall-clock step must neither lock a
 * peer out of the rate limiter nor kill (or stretch) a handshake in flight.
 * Before issue 11 one clock did both: after a 1 h step back a responder's
 * bucket never refilled (here: 4 of 60 initiations admitted instead of 60),
 * and a step either way during a handshake dropped its HS_RESP/HS_FINISH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hs_fixture.h"
#include "testutil.h"

#define W0 1700000000000ull /* wall ms */
#define M0 5000000ull       /* monotonic ms */
#define HOUR 3600000ull

struct duo {
	struct fx_node a, b;
	struct pq_hs_result res;
};

static struct duo *duo_new(void)
{
	struct duo *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	assert_int_equal(fx_node_init(&d->a, 1), 0);
	assert_int_equal(fx_node_init(&d->b, 2), 0);
	fx_allow(&d->a, d->b.pub, M0);
	fx_allow(&d->b, d->a.pub, M0);
	return d;
}

static void duo_free(struct duo *d)
{
	fx_node_free(&d->a);
	fx_node_free(&d->b);
	free(d);
}

static long recv_at(struct fx_node *n, const struct fx_node *from, const uint8_t *msg, size_t len,
		    uint64_t wall, uint64_t mono, uint8_t *out, size_t cap, struct pq_hs_result *res)
{
	long r = pq_hs_receive(&n->hs, from->pub, msg, len, wall, mono, out, cap, res);

	pq_hs_result_wipe(res);
	return r;
}

/* The responder's wall clock steps back an hour (so does the initiator's:
 * they agree on the time). c, allowed since start-up but never heard
 * before, initiates once a second for a minute: all admitted, since b's
 * bucket for c refills in monotonic time. (a, which handshook with b
 * before the step, is a different matter: its new stamps are older than
 * the one b accepted, and b refuses them as stale until the wall clock
 * passes it - PROTOCOL §4.4's freshness, which stays on the wall clock.) */
static void test_rate_limit_after_step_back(void **state)
{
	struct duo *d = duo_new();
	struct fx_node *c = calloc(1, sizeof(*c));
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN];
	size_t admitted = 0;

	assert_non_null(c);
	assert_int_equal(fx_node_init(c, 3), 0);
	fx_allow(c, d->b.pub, M0);
	fx_allow(&d->b, c->pub, M0);
	/* before the step: a and b handshake, b's clock runs */
	assert_int_equal(pq_hs_initiate(&d->a.hs, &d->a.peers[0], W0, M0, init, sizeof(init)), PQ_HS_INIT_LEN);
	assert_int_equal(recv_at(&d->b, &d->a, init, sizeof(init), W0, M0, resp, sizeof(resp), &d->res),
			 PQ_HS_RESP_LEN);
	for (uint64_t k = 1; k <= 60; k++) {
		uint64_t wall = W0 - HOUR + k * 1000, mono = M0 + 10 + k * 1000;
		long n;

		assert_int_equal(pq_hs_initiate(&c->hs, &c->peers[0], wall, mono, init, sizeof(init)),
				 PQ_HS_INIT_LEN);
		n = recv_at(&d->b, c, init, sizeof(init), wall, mono, resp, sizeof(resp), &d->res);
		admitted += n == PQ_HS_RESP_LEN;
	}
	if (admitted != 60)
		fail_msg("after a 1 h step back %zu of 60 initiations admitted (rate drops %llu, "
			 "stale %llu, future %llu)", admitted,
			 (unsigned long long)d->b.hs.stats.drop_rate,
			 (unsigned long long)d->b.hs.stats.drop_stale,
			 (unsigned long long)d->b.hs.stats.drop_future);
	assert_int_equal(d->b.hs.stats.drop_rate, 0);
	fx_node_free(c);
	free(c);
	duo_free(d);
	pq_test_checked("initiations admitted after a 1 h step back", 60);
}

/* A handshake whose clocks step by step_ms (either way) between messages
 * still completes: lifetimes are monotonic. */
static void handshake_across_step(int64_t step_ms)
{
	struct duo *d = duo_new();
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
	uint64_t w1 = (uint64_t)((int64_t)W0 + step_ms);

	assert_int_equal(pq_hs_initiate(&d->a.hs, &d->a.peers[0], W0, M0, init, sizeof(init)), PQ_HS_INIT_LEN);
	assert_int_equal(recv_at(&d->b, &d->a, init, sizeof(init), W0 + 5, M0 + 5, resp, sizeof(resp),
				 &d->res), PQ_HS_RESP_LEN);
	/* the step: both walls jump, 20 ms pass */
	assert_int_equal(recv_at(&d->a, &d->b, resp, sizeof(resp), w1 + 10, M0 + 10, fin, sizeof(fin),
				 &d->res), PQ_HS_FINISH_LEN);
	assert_int_equal(recv_at(&d->b, &d->a, fin, sizeof(fin), w1 + 20, M0 + 20, NULL, 0, &d->res), 0);
	assert_int_equal(d->a.hs.stats.done_initiator, 1);
	assert_int_equal(d->b.hs.stats.done_responder, 1);
	duo_free(d);
}

static void test_handshake_across_steps(void **state)
{
	handshake_across_step(-(int64_t)HOUR);
	handshake_across_step((int64_t)HOUR);
	pq_test_checked("handshakes across a 1 h step back and forward", 2);
}

/* Lifetimes run on the monotonic clock whatever the wall clock does: a
 * half-open slot and our pending initiation live 5 s of it. */
static void test_lifetimes_monotonic(void **state)
{
	struct duo *d = duo_new();
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN];

	assert_int_equal(pq_hs_initiate(&d->a.hs, &d->a.peers[0], W0, M0, init, sizeof(init)), PQ_HS_INIT_LEN);
	assert_int_equal(recv_at(&d->b, &d->a, init, sizeof(init), W0, M0, resp, sizeof(resp), &d->res),
			 PQ_HS_RESP_LEN);
	pq_hs_expire(&d->b.hs, M0 + PQ_HS_TIMEOUT_MS - 1);
	assert_true(pq_hs_pending(&d->a.peers[0], M0 + PQ_HS_TIMEOUT_MS - 1));
	assert_int_equal(d->b.hs.stats.half_open_expired, 0);
	pq_hs_expire(&d->b.hs, M0 + PQ_HS_TIMEOUT_MS);
	pq_hs_expire(&d->a.hs, M0 + PQ_HS_TIMEOUT_MS);
	assert_int_equal(d->b.hs.stats.half_open_expired, 1);
	assert_false(pq_hs_pending(&d->a.peers[0], M0 + PQ_HS_TIMEOUT_MS));
	assert_int_equal(d->a.hs.stats.pending_expired, 1);
	duo_free(d);
	pq_test_checked("lifetimes on the monotonic clock", 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limit_after_step_back),
		cmocka_unit_test(test_handshake_across_steps),
		cmocka_unit_test(test_lifetimes_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
