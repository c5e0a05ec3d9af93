/*
 * rehs_peer.h - the peer's side of a UDP re-handshake, for tests of the
 * node's responder (node/dconn.c, udp_path.c): a real initiator run under
 * the keys of one of our keypairs (directions swapped), bound to one
 * attempt id, with its own challenge cache; and a forged REQUEST, which
 * anyone who saw a session id can send (no MAC covers one).
 */
#ifndef PQ_TESTS_NODE_REHS_PEER_H
#define PQ_TESTS_NODE_REHS_PEER_H

#include <string.h>

#include "node/node_int.h"
#include "proto/msg_rehs.h"
#include "util/clock.h"

struct their_run {
	struct pq_rehs run;
	struct pq_challenge_cache cache;
	uint8_t binding[PQ_REHS_BINDING_LEN];
	uint8_t msg[PQ_REHS_MAX_MSG_LEN]; /* its last message */
	size_t len;
};

/* The peer starts a run under kp for attempt id: its REQUEST in t->msg. */
static inline void their_request(struct their_run *t, const struct pq_keypair *kp,
				 const uint8_t id[PQ_REHS_UDP_ID_LEN])
{
	struct pq_rehs_config cfg = { .role = PQ_REHS_INITIATOR, .hs_initiator = !kp->initiator,
				      .session_id = kp->session_id, .send_key = kp->rehs_recv,
				      .recv_key = kp->rehs_send, .binding = t->binding };

	pq_challenge_cache_init(&t->cache);
	assert_int_equal(pq_rehs_udp_binding(t->binding, id), 0);
	assert_int_equal(pq_rehs_init(&t->run, &cfg, pq_wall_ms()), 0);
	assert_int_equal(pq_rehs_start(&t->run, &t->cache, pq_wall_ms(), t->msg, sizeof(t->msg), &t->len), 0);
}

/* The peer takes the RESPONSE dc sent last: its COMPLETE in t->msg. */
static inline void their_complete(struct their_run *t, const struct pq_dconn *dc)
{
	assert_int_equal(pq_rehs_receive(&t->run, &t->cache, dc->last_out, dc->last_out_len, pq_wall_ms(), t->msg,
					 sizeof(t->msg), &t->len),
			 0);
	assert_int_equal(pq_rehs_state(&t->run), PQ_REHS_COMPLETED);
}

/* A REQUEST naming session id sid: challenge number n, stamped ts_ms. */
static inline size_t forged_request(uint8_t *out, const uint8_t *sid, uint32_t n, uint64_t ts_ms)
{
	struct pq_rehs_request req;
	size_t len = 0;

	memcpy(req.session_id, sid, PQ_SESSION_ID_LEN);
	memset(req.challenge, 0xf0, sizeof(req.challenge));
	memcpy(req.challenge, &n, sizeof(n));
	req.timestamp_ms = ts_ms;
	assert_int_equal(pq_rehs_request_encode(out, PQ_REHS_MAX_MSG_LEN, &len, &req), 0);
	return len;
}

#endif
