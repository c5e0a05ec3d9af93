/*
 * test_hs_answer_first.c - the handshake answered before the signature
 * check (pq_hs_receive_first + pq_hs_settle, proto/handshake.h): the same
 * keys as the strict order; nothing accepted before pq_hs_settle; a forged
 * HS_INIT or HS_RESP (a forger that can compute everything but the real
 * key's signature) gets an answer but changes nothing: no keys, no
 * half-open slot, no timestamp, no crossing abandoned, our initiation
 * kept, and the real handshake then completes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/hs_fixture.h"
#include "testutil.h"

#define T0 1700000000000ULL

struct trio {
	struct fx_node a, b, c;  /* a and b allow each other; c forges */
	uint64_t now;
	uint8_t init[PQ_HS_INIT_LEN], resp[PQ_HS_RESP_LEN], fin[PQ_HS_FINISH_LEN];
	struct pq_hs_result res;
};

static struct trio *trio_new(void)
{
	struct trio *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(fx_node_init(&t->a, 1), 0);
	assert_int_equal(fx_node_init(&t->b, 2), 0);
	/* a's key the lower: a's HS_INIT wins a crossing with b's. */
	if (memcmp(t->a.pub, t->b.pub, PQ_PUBKEY_LEN) > 0) {
		fx_node_free(&t->a);
		fx_node_free(&t->b);
		assert_int_equal(fx_node_init(&t->a, 2), 0);
		assert_int_equal(fx_node_init(&t->b, 1), 0);
	}
	assert_int_equal(fx_node_init(&t->c, 3), 0);
	t->now = T0;
	fx_allow(&t->a, t->b.pub, t->now);
	fx_allow(&t->b, t->a.pub, t->now);
	return t;
}

static void trio_free(struct trio *t)
{
	fx_node_free(&t->a);
	fx_node_free(&t->b);
	fx_node_free(&t->c);
	free(t);
}

static size_t active_half_open(const struct pq_hs *hs)
{
	size_t n = 0;

	for (size_t i = 0; i < PQ_HS_HALF_OPEN_MAX; i++)
		n += hs->half_open[i].active;
	return n;
}

/* One DATA frame from x to y, checked. */
static void send_one(struct pq_session *x, struct pq_session *y, uint64_t now)
{
	uint8_t frame[60], wire[60 + PQ_SEALED_OVERHEAD], got[60], type = 0;

	memset(frame, 0x5a, sizeof(frame));
	assert_int_equal(pq_session_seal(x, PQ_MSG_DATA, frame, sizeof(frame), wire, sizeof(wire), now),
			 (long)sizeof(wire));
	assert_int_equal(pq_session_open(y, wire, sizeof(wire), got, sizeof(got), now, &type), (long)sizeof(got));
	assert_memory_equal(got, frame, sizeof(frame));
}

/* n answers msg first: the answer's length, nothing accepted yet. */
static long answer(struct fx_node *n, const struct fx_node *sender, const uint8_t *msg, size_t len, uint64_t now,
		   uint8_t *out, size_t cap, struct pq_hs_result *res)
{
	long r = pq_hs_receive_first(&n->hs, sender->pub, msg, len, now, now, out, cap, res);

	if (r > 0) {
		assert_true(res->settle.due);
		assert_int_equal(res->event, PQ_HS_EV_NONE);
	}
	return r;
}

/* Then settles it and installs what it accepted. */
static int settle(struct fx_node *n, uint64_t now, struct pq_hs_result *res)
{
	int r = pq_hs_settle(&n->hs, res, now);

	assert_false(res->settle.due);
	assert_true(pq_test_all_zero(&res->settle, sizeof(res->settle)));
	if (r) {
		assert_int_equal(res->event, PQ_HS_EV_NONE);
		assert_true(pq_test_all_zero(&res->keys, sizeof(res->keys)));
	} else if (res->event != PQ_HS_EV_NONE) {
		r = pq_session_install(&n->sess[fx_slot(n, res->peer)], res, now);
	}
	pq_wipe(&res->keys, sizeof(res->keys));
	return r;
}

static void test_same_keys_nothing_before_settle(void **state)
{
	struct trio *t = trio_new();
	struct pq_session *sa = &t->a.sess[0], *sb = &t->b.sess[0];

	(void)state;
	assert_int_equal(pq_hs_initiate(&t->a.hs, &t->a.peers[0], t->now, t->now, t->init, sizeof(t->init)),
			 PQ_HS_INIT_LEN);
	assert_int_equal(answer(&t->b, &t->a, t->init, sizeof(t->init), t->now, t->resp, sizeof(t->resp), &t->res),
			 PQ_HS_RESP_LEN);
	/* HS_RESP is out; b has accepted nothing yet. */
	assert_int_equal(active_half_open(&t->b.hs), 0);
	assert_int_equal(t->b.peers[0].last_init_ts, 0);
	assert_int_equal(t->b.hs.stats.resp_sent, 0);
	assert_int_equal(settle(&t->b, t->now, &t->res), 0);
	assert_int_equal(active_half_open(&t->b.hs), 1);
	assert_int_not_equal(t->b.peers[0].last_init_ts, 0);
	assert_false(pq_session_can_send(sb, t->now));
	assert_int_equal(answer(&t->a, &t->b, t->resp, sizeof(t->resp), t->now, t->fin, sizeof(t->fin), &t->res),
			 PQ_HS_FINISH_LEN);
	/* HS_FINISH is out; a keeps its initiation until the signature passed. */
	assert_true(pq_hs_pending(&t->a.peers[0], t->now));
	assert_false(pq_session_can_send(sa, t->now));
	assert_int_equal(settle(&t->a, t->now, &t->res), 0);
	assert_false(pq_hs_pending(&t->a.peers[0], t->now));
	assert_true(pq_test_all_zero(&t->a.peers[0].pending, sizeof(t->a.peers[0].pending)));
	assert_true(pq_session_can_send(sa, t->now));
	assert_int_equal(fx_deliver(&t->b, &t->a, t->fin, sizeof(t->fin), t->now, NULL, 0, &t->res), 0);
	assert_int_equal(t->res.event, PQ_HS_EV_CONFIRMED);
	assert_true(pq_session_can_send(sb, t->now));
	assert_memory_equal(sa->current->session_id, sb->current->session_id, PQ_SESSION_ID_LEN);
	assert_memory_equal(sa->current->rehs_send, sb->current->rehs_recv, PQ_KEY_LEN);
	assert_memory_equal(sa->current->rehs_recv, sb->current->rehs_send, PQ_KEY_LEN);
	assert_int_equal(t->a.hs.stats.done_initiator, 1);
	assert_int_equal(t->b.hs.stats.done_responder, 1);
	assert_int_equal(fx_drops(&t->a.hs.stats) + fx_drops(&t->b.hs.stats), 0);
	/* Nothing was due: settle is a no-op. */
	memset(&t->res, 0, sizeof(t->res));
	assert_int_equal(pq_hs_settle(&t->a.hs, &t->res, t->now), 0);
	trio_free(t);
}

/* c claims a's identity towards b and signs with its own key, while b
 * has its own initiation to a pending, which a's HS_INIT would win. */
static void test_forged_init(void **state)
{
	struct trio *t = trio_new();
	uint8_t init_b[PQ_HS_INIT_LEN];

	(void)state;
	memcpy(t->c.hs.pub, t->a.pub, PQ_PUBKEY_LEN);
	fx_allow(&t->c, t->b.pub, t->now);
	assert_int_equal(pq_hs_initiate(&t->c.hs, &t->c.peers[0], t->now, t->now, t->init, sizeof(t->init)),
			 PQ_HS_INIT_LEN);
	assert_int_equal(pq_hs_initiate(&t->b.hs, &t->b.peers[0], t->now, t->now, init_b, sizeof(init_b)),
			 PQ_HS_INIT_LEN);
	assert_int_equal(answer(&t->b, &t->a, t->init, sizeof(t->init), t->now, t->resp, sizeof(t->resp), &t->res),
			 PQ_HS_RESP_LEN);
	assert_int_equal(settle(&t->b, t->now, &t->res), PQ_E_AUTH);
	assert_int_equal(t->b.hs.stats.drop_signature, 1);
	assert_int_equal(active_half_open(&t->b.hs), 0);
	assert_int_equal(t->b.peers[0].last_init_ts, 0);
	assert_int_equal(t->b.hs.stats.pending_abandoned, 0);
	assert_false(t->res.abandoned_own);
	assert_false(pq_session_can_send(&t->b.sess[0], t->now));
	assert_null(t->b.sess[0].next);
	assert_true(pq_hs_pending(&t->b.peers[0], t->now));
	/* The real a, same millisecond (the forgery recorded no timestamp),
	 * still gets through. */
	assert_int_equal(pq_hs_initiate(&t->a.hs, &t->a.peers[0], t->now, t->now, t->init, sizeof(t->init)),
			 PQ_HS_INIT_LEN);
	assert_int_equal(answer(&t->b, &t->a, t->init, sizeof(t->init), t->now, t->resp, sizeof(t->resp), &t->res),
			 PQ_HS_RESP_LEN);
	assert_int_equal(settle(&t->b, t->now, &t->res), 0);
	/* Now b's own initiation lost the crossing. */
	assert_true(t->res.abandoned_own);
	assert_false(pq_hs_pending(&t->b.peers[0], t->now));
	assert_int_equal(answer(&t->a, &t->b, t->resp, sizeof(t->resp), t->now, t->fin, sizeof(t->fin), &t->res),
			 PQ_HS_FINISH_LEN);
	assert_int_equal(settle(&t->a, t->now, &t->res), 0);
	assert_int_equal(fx_deliver(&t->b, &t->a, t->fin, sizeof(t->fin), t->now, NULL, 0, &t->res), 0);
	assert_int_equal(t->res.event, PQ_HS_EV_CONFIRMED);
	trio_free(t);
}

/* c answers a's HS_INIT as if it were b: its HS_RESP carries a valid MAC
 * (c derived the keys itself) and c's signature, not b's. */
static void test_forged_resp(void **state)
{
	struct trio *t = trio_new();
	uint8_t resp_c[PQ_HS_RESP_LEN];
	struct pq_hs_result res_c;

	(void)state;
	memcpy(t->c.hs.pub, t->b.pub, PQ_PUBKEY_LEN);
	fx_allow(&t->c, t->a.pub, t->now);
	assert_int_equal(pq_hs_initiate(&t->a.hs, &t->a.peers[0], t->now, t->now, t->init, sizeof(t->init)),
			 PQ_HS_INIT_LEN);
	assert_int_equal(fx_deliver(&t->c, &t->a, t->init, sizeof(t->init), t->now, resp_c, sizeof(resp_c), &res_c),
			 PQ_HS_RESP_LEN);
	/* The MAC passes, so an HS_FINISH goes out; the signature does not. */
	assert_int_equal(answer(&t->a, &t->b, resp_c, sizeof(resp_c), t->now, t->fin, sizeof(t->fin), &t->res),
			 PQ_HS_FINISH_LEN);
	assert_int_equal(settle(&t->a, t->now, &t->res), PQ_E_AUTH);
	assert_int_equal(t->a.hs.stats.drop_signature, 1);
	assert_int_equal(t->a.hs.stats.drop_mac, 0);
	assert_int_equal(t->a.hs.stats.done_initiator, 0);
	assert_true(pq_hs_pending(&t->a.peers[0], t->now));
	assert_false(pq_session_can_send(&t->a.sess[0], t->now));
	/* b, that never sent this HS_RESP, drops the HS_FINISH. */
	assert_int_equal(fx_deliver(&t->b, &t->a, t->fin, sizeof(t->fin), t->now, NULL, 0, &t->res), PQ_E_STATE);
	/* The real b completes the same initiation. */
	assert_int_equal(answer(&t->b, &t->a, t->init, sizeof(t->init), t->now, t->resp, sizeof(t->resp), &t->res),
			 PQ_HS_RESP_LEN);
	assert_int_equal(settle(&t->b, t->now, &t->res), 0);
	assert_int_equal(answer(&t->a, &t->b, t->resp, sizeof(t->resp), t->now, t->fin, sizeof(t->fin), &t->res),
			 PQ_HS_FINISH_LEN);
	assert_int_equal(settle(&t->a, t->now, &t->res), 0);
	assert_int_equal(fx_deliver(&t->b, &t->a, t->fin, sizeof(t->fin), t->now, NULL, 0, &t->res), 0);
	assert_int_equal(t->res.event, PQ_HS_EV_CONFIRMED);
	assert_true(pq_session_can_send(&t->a.sess[0], t->now));
	trio_free(t);
}

/* A changed signature byte: the MAC (over a transcript that holds the
 * signature) catches it before any answer. An HS_RESP whose initiation
 * reaches its 5 s between the answer and pq_hs_settle is still accepted:
 * its HS_FINISH has left, and b confirms those keys; one whose initiation
 * was replaced in between is not. */
static void test_tampered_and_expired(void **state)
{
	struct trio *t = trio_new();

	(void)state;
	assert_int_equal(pq_hs_initiate(&t->a.hs, &t->a.peers[0], t->now, t->now, t->init, sizeof(t->init)),
			 PQ_HS_INIT_LEN);
	assert_int_equal(answer(&t->b, &t->a, t->init, sizeof(t->init), t->now, t->resp, sizeof(t->resp), &t->res),
			 PQ_HS_RESP_LEN);
	assert_int_equal(settle(&t->b, t->now, &t->res), 0);
	t->resp[PQ_HS_RESP_SIG_OFF] ^= 1;
	assert_int_equal(answer(&t->a, &t->b, t->resp, sizeof(t->resp), t->now, t->fin, sizeof(t->fin), &t->res),
			 PQ_E_AUTH);
	assert_false(t->res.settle.due);
	assert_int_equal(t->a.hs.stats.drop_mac, 1);
	t->resp[PQ_HS_RESP_SIG_OFF] ^= 1;
	assert_int_equal(answer(&t->a, &t->b, t->resp, sizeof(t->resp), t->now, t->fin, sizeof(t->fin), &t->res),
			 PQ_HS_FINISH_LEN);
	assert_int_equal(settle(&t->a, t->now + PQ_HS_TIMEOUT_MS, &t->res), 0);
	assert_int_equal(t->a.hs.stats.done_initiator, 1);
	assert_int_equal(fx_deliver(&t->b, &t->a, t->fin, sizeof(t->fin), t->now + PQ_HS_TIMEOUT_MS - 1, NULL, 0,
				    &t->res), 0);
	assert_int_equal(t->res.event, PQ_HS_EV_CONFIRMED);
	send_one(&t->b.sess[0], &t->a.sess[0], t->now + PQ_HS_TIMEOUT_MS);
	/* Replaced in between: not accepted. */
	t->now += PQ_HS_TIMEOUT_MS;
	assert_int_equal(pq_hs_initiate(&t->a.hs, &t->a.peers[0], t->now, t->now, t->init, sizeof(t->init)),
			 PQ_HS_INIT_LEN);
	assert_int_equal(answer(&t->b, &t->a, t->init, sizeof(t->init), t->now, t->resp, sizeof(t->resp), &t->res),
			 PQ_HS_RESP_LEN);
	assert_int_equal(settle(&t->b, t->now, &t->res), 0);
	assert_int_equal(answer(&t->a, &t->b, t->resp, sizeof(t->resp), t->now, t->fin, sizeof(t->fin), &t->res),
			 PQ_HS_FINISH_LEN);
	assert_int_equal(pq_hs_initiate(&t->a.hs, &t->a.peers[0], t->now, t->now, t->init, sizeof(t->init)),
			 PQ_HS_INIT_LEN);
	assert_int_equal(settle(&t->a, t->now, &t->res), PQ_E_STATE);
	assert_int_equal(t->a.hs.stats.drop_unexpected, 1);
	assert_int_equal(t->a.hs.stats.done_initiator, 1);
	trio_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_keys_nothing_before_settle),
		cmocka_unit_test(test_forged_init),
		cmocka_unit_test(test_forged_resp),
		cmocka_unit_test(test_tampered_and_expired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
