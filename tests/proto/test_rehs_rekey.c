/*
 * test_rehs_rekey.c - a re-handshake on a direct conn that opens while a
 * rekey is in flight (issue 8 defect 2; node/dconn.c). For a moment the
 * two sides' current keys differ: the handshake initiator has confirmed
 * the new keys, the responder holds them as "next" until HS_FINISH (which
 * takes the relay) or the first frame under them arrives. The responder
 * of the re-handshake takes the keys the REQUEST names
 * (pq_session_keypair_by_id): current, next or previous. The old rule,
 * "the current keys", is kept here as a model and shown to fail in both
 * directions, so this test fails against the old node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/challenge_cache.h"
#include "proto/rehandshake.h"
#include "proto/session.h"

#define T0 1700000000000ULL
#define BUF 128

static void result_for(struct pq_hs_result *r, uint8_t gen, bool initiator, bool confirmed)
{
	memset(r, 0, sizeof(*r));
	r->event = PQ_HS_EV_KEYS;
	r->initiator = initiator;
	r->confirmed = confirmed;
	r->local_index = initiator ? 0x1000u + gen : 0x2000u + gen;
	r->remote_index = initiator ? 0x2000u + gen : 0x1000u + gen;
	memset(r->keys.key_i2r, 0x10 + gen, PQ_KEY_LEN);
	memset(r->keys.key_r2i, 0x20 + gen, PQ_KEY_LEN);
	memset(r->keys.rehs_i2r, 0x30 + gen, PQ_KEY_LEN);
	memset(r->keys.rehs_r2i, 0x40 + gen, PQ_KEY_LEN);
	memset(r->keys.session_id, 0x50 + gen, PQ_SESSION_ID_LEN);
}

/* a: handshake initiator, b: responder. Generation 1 confirmed on both;
 * generation 2: a confirmed it (HS_RESP came), b holds it as next (its
 * HS_FINISH is still on the way). */
static void rekey_in_flight(struct pq_session *a, struct pq_session *b)
{
	struct pq_hs_result r;

	pq_session_init(a);
	pq_session_init(b);
	result_for(&r, 1, false, false);
	assert_int_equal(pq_session_install(b, &r, T0), 0);
	memset(&r, 0, sizeof(r));
	r.event = PQ_HS_EV_CONFIRMED;
	r.local_index = 0x2001u;
	assert_int_equal(pq_session_install(b, &r, T0), 0);
	result_for(&r, 1, true, true);
	assert_int_equal(pq_session_install(a, &r, T0), 0);
	result_for(&r, 2, false, false);
	assert_int_equal(pq_session_install(b, &r, T0 + 120000), 0);
	result_for(&r, 2, true, true);
	assert_int_equal(pq_session_install(a, &r, T0 + 120000), 0);
	assert_int_equal(a->current->local_index, 0x1002u);
	assert_int_equal(b->current->local_index, 0x2001u);
	assert_non_null(b->next);
}

static void run_init(struct pq_rehs *r, const struct pq_keypair *kp, enum pq_rehs_role role)
{
	static const uint8_t binding[PQ_REHS_BINDING_LEN] = { 0xb1 };
	struct pq_rehs_config cfg = {
		.role = role,
		.hs_initiator = kp->initiator,
		.session_id = kp->session_id,
		.send_key = kp->rehs_send,
		.recv_key = kp->rehs_recv,
		.binding = binding,
		.external_deadline = true,
	};

	assert_int_equal(pq_rehs_init(r, &cfg, T0 + 120001), 0);
}

/* The dialler (its current keys) proves itself to the acceptor, whose
 * keys are chosen by new_rule (by the REQUEST's id) or the old rule
 * (its current keys). Returns the acceptor's result for the REQUEST. */
static int run(const struct pq_session *dialler, const struct pq_session *acceptor, bool new_rule,
	       bool *completed)
{
	struct pq_challenge_cache cd, ca;
	struct pq_rehs ri, rr;
	uint8_t m1[BUF], m2[BUF], m3[BUF];
	size_t l1, l2, l3;
	const struct pq_keypair *kp;
	int ret;

	pq_challenge_cache_init(&cd);
	pq_challenge_cache_init(&ca);
	run_init(&ri, dialler->current, PQ_REHS_INITIATOR);
	assert_int_equal(pq_rehs_start(&ri, &cd, T0 + 120001, m1, BUF, &l1), 0);
	kp = new_rule ? pq_session_keypair_by_id(acceptor, m1 + 1) : acceptor->current;
	assert_non_null(kp);
	run_init(&rr, kp, PQ_REHS_RESPONDER);
	*completed = false;
	ret = pq_rehs_receive(&rr, &ca, m1, l1, T0 + 120002, m2, BUF, &l2);
	if (ret == 0) {
		assert_int_equal(pq_rehs_receive(&ri, &cd, m2, l2, T0 + 120003, m3, BUF, &l3), 0);
		assert_int_equal(pq_rehs_receive(&rr, &ca, m3, l3, T0 + 120004, m2, BUF, &l2), 0);
		*completed = pq_rehs_state(&ri) == PQ_REHS_COMPLETED && pq_rehs_state(&rr) == PQ_REHS_COMPLETED;
	}
	pq_rehs_clear(&ri);
	pq_rehs_clear(&rr);
	return ret;
}

static void test_rehs_during_rekey(void **state)
{
	struct pq_session a, b;
	bool done;

	rekey_in_flight(&a, &b);
	/* a dials: its current (gen 2) is b's next. */
	assert_int_equal(run(&a, &b, false, &done), PQ_E_AUTH); /* old rule: wrong session id */
	assert_int_equal(run(&a, &b, true, &done), 0);
	assert_true(done);
	/* b dials: its current (gen 1) is a's previous. */
	assert_int_equal(run(&b, &a, false, &done), PQ_E_AUTH);
	assert_int_equal(run(&b, &a, true, &done), 0);
	assert_true(done);
	pq_session_wipe(&a);
	pq_session_wipe(&b);
	printf("checked: a re-handshake during a rekey completes both ways (the old rule failed both)\n");
}

static void test_keypair_by_id(void **state)
{
	struct pq_session a, b;
	uint8_t unknown[PQ_SESSION_ID_LEN];

	rekey_in_flight(&a, &b);
	assert_ptr_equal(pq_session_keypair_by_id(&b, b.current->session_id), b.current);
	assert_ptr_equal(pq_session_keypair_by_id(&b, b.next->session_id), b.next);
	assert_ptr_equal(pq_session_keypair_by_id(&a, a.previous->session_id), a.previous);
	memset(unknown, 0x99, sizeof(unknown));
	assert_null(pq_session_keypair_by_id(&a, unknown));
	pq_session_wipe(&a);
	assert_null(pq_session_keypair_by_id(&a, b.current->session_id));
	pq_session_wipe(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rehs_during_rekey),
		cmocka_unit_test(test_keypair_by_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
