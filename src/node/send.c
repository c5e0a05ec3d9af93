/*
 * send.c - every message to a peer leaves here, the way the path core
 * chooses (pq_path_route, proto/path.h): data, signalling and handshakes
 * alike, so there is one answer to "direct or relay" in the node.
 *
 * A message too large for the active conn (a datagram) takes the TLS
 * conn or the relay instead. A conn that refuses a message for good (not
 * just "queue full") is
 * reported to the path core at once (SEND_FAILED: it drops the conn and
 * falls back, and asks for nothing to be sent meanwhile, so node->send's
 * buffer is not touched again under us); the message then takes the new
 * route: the same sealed bytes, same keys and counter, through the relay.
 */
#include <string.h>

#include "node/node_int.h"

/* Send msg (already sealed, or a handshake message) on via. On a conn:
 * PQ_E_STATE when the conn failed for good (now reported and dropped). */
static int send_on(struct pq_node_peer *p, int via, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pq_dconn *dc;
	int ret;

	if (via == PQ_PATH_VIA_RELAY)
		return pq_relay_link_send(p->node, p->key, msg, len);
	if (via < 0 || via >= PQ_PATH_MAX_CONNS || !(dc = p->path.conn[via]))
		return PQ_E_STATE;
	ret = pq_dconn_send(dc, msg, len);
	if (ret == 0) {
		/* The first send after a receive starts the liveness clock. */
		if (pq_path_tx(&p->path.core, via, now_ms))
			pq_path_exec_rearm(p, now_ms);
		return 0;
	}
	if (ret == PQ_E_AGAIN || ret == PQ_E_TOOBIG)
		return ret;
	pq_path_exec_simple(p, PQ_PATH_EV_SEND_FAILED, via, now_ms);
	return PQ_E_STATE;
}

/* Send on the route for class m; if that conn just failed, once more on
 * the route that replaces it. */
static int send_routed(struct pq_node_peer *p, enum pq_path_msg m, int came_on, const uint8_t *msg, size_t len,
		       uint64_t now_ms)
{
	bool relay_up = pq_relay_link_up(p->node);
	int via = pq_path_route(&p->path.core, m, relay_up, came_on);
	int ret;

	if (via == PQ_PATH_VIA_NONE)
		return PQ_E_STATE;
	ret = send_on(p, via, msg, len, now_ms);
	if (ret == PQ_E_TOOBIG && via >= 0) {
		/* More than a datagram carries: the TLS conn or the relay
		 * (same keys, same counter, one replay window). */
		via = pq_path_route_fallback(&p->path.core, m, relay_up);
		return via == PQ_PATH_VIA_NONE ? PQ_E_TOOBIG : send_on(p, via, msg, len, now_ms);
	}
	if (ret != PQ_E_STATE || via < 0)
		return ret;
	via = pq_path_route(&p->path.core, m, relay_up, PQ_PATH_VIA_RELAY);
	return via == PQ_PATH_VIA_NONE ? PQ_E_STATE : send_on(p, via, msg, len, now_ms);
}

static long seal(struct pq_node_peer *p, uint8_t type, const uint8_t *pt, size_t len, uint64_t now_ms)
{
	struct pq_node *node = p->node;

	return pq_session_seal(&p->session, type, pt, len, node->send.sealed, sizeof(node->send.sealed), now_ms);
}

int pq_send_sealed(struct pq_node_peer *p, uint8_t type, const uint8_t *pt, size_t len, uint64_t now_ms)
{
	enum pq_path_msg m = type == PQ_MSG_DATA || type == PQ_MSG_DATA_GSO ? PQ_PATH_MSG_DATA : PQ_PATH_MSG_SIGNAL;
	long n;

	/* Nowhere to go (path = direct, no conn): do not spend a counter. */
	if (pq_path_route(&p->path.core, m, pq_relay_link_up(p->node), PQ_PATH_VIA_RELAY) == PQ_PATH_VIA_NONE)
		return PQ_E_STATE;
	n = seal(p, type, pt, len, now_ms);
	if (n < 0)
		return (int)n;
	return send_routed(p, m, PQ_PATH_VIA_RELAY, p->node->send.sealed, (size_t)n, now_ms);
}

int pq_send_sealed_via(struct pq_node_peer *p, int via, uint8_t type, const uint8_t *pt, size_t len,
		       uint64_t now_ms)
{
	long n = seal(p, type, pt, len, now_ms);

	if (n < 0)
		return (int)n;
	return send_on(p, via, p->node->send.sealed, (size_t)n, now_ms);
}

int pq_send_handshake(struct pq_node_peer *p, const uint8_t *msg, size_t len, int came_on, uint64_t now_ms)
{
	return send_routed(p, PQ_PATH_MSG_HANDSHAKE, came_on, msg, len, now_ms);
}
