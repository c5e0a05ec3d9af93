/*
 * send.c - every message to a peer leaves here, the way the path core
 * chooses (pq_path_route, proto/path.h): data, signalling and handshakes
 * alike, so there is one answer to "direct or relay" in the node.
 *
 * A frame too large for a datagram of the active UDP conn is cut: TCP
 * into segments, anything else into DATA_FRAG pieces; another message
 * too large for it takes the TLS conn or the relay instead. A conn that
 * refuses a message for good (not just "queue full") is reported to the
 * path core at once (SEND_FAILED: it drops the conn and falls back, and
 * asks for nothing to be sent meanwhile, so node->send's buffer is not
 * touched again under us); the message then takes the new route: the
 * same sealed bytes, same keys and counter, through the relay.
 */
#include <string.h>

#include "node/node_int.h"
#include "proto/frag.h"
#include "proto/gso_seg.h"

/* A handshake message leaves at once, not at the loop's next turn: the
 * caller has its signature check still to do (node/peer.c, answer first)
 * and the message should be on its way meanwhile. */
static void flush_now(struct pq_node_peer *p, int via)
{
	struct pq_dconn *dc;

	if (via == PQ_PATH_VIA_RELAY) {
		if (p->node->relay.conn)
			pq_conn_flush_now(p->node->relay.conn);
	} else if (via >= 0 && via < PQ_PATH_MAX_CONNS && (dc = p->path.conn[via]) && dc->conn) {
		pq_conn_flush_now(dc->conn);
	}
}

/* Send msg (already sealed, or a handshake message) on via. On a conn:
 * PQ_E_STATE when the conn failed for good (now reported and dropped). */
static int send_on(struct pq_node_peer *p, int via, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	bool handshake = msg[0] >= PQ_MSG_HS_INIT && msg[0] <= PQ_MSG_HS_FINISH;
	struct pq_dconn *dc;
	int ret;

	if (via == PQ_PATH_VIA_RELAY) {
		ret = pq_relay_link_send(p->node, p->key, msg, len);
		if (ret == 0 && handshake)
			flush_now(p, via);
		return ret;
	}
	if (via < 0 || via >= PQ_PATH_MAX_CONNS || !(dc = p->path.conn[via]))
		return PQ_E_STATE;
	ret = pq_dconn_send(dc, msg, len);
	if (ret == 0 && handshake)
		flush_now(p, via);
	if (ret == 0) {
		/* The first send after a receive starts the liveness clock;
		 * an answer to a probe asks for nothing back (proto/path.h),
		 * and an MTU probe may go unanswered by design (too large). */
		if (msg[0] == PQ_MSG_PROBE_ACK || msg[0] == PQ_MSG_PMTU_ACK || msg[0] == PQ_MSG_PMTU_PROBE)
			pq_path_tx_answer(&p->path.core, via, now_ms);
		else if (pq_path_tx(&p->path.core, via, now_ms))
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
	enum pq_path_msg m = type == PQ_MSG_DATA || type == PQ_MSG_DATA_GSO ? PQ_PATH_MSG_DATA
			     : type == PQ_MSG_ENDPOINTS || type == PQ_MSG_PUNCH    ? PQ_PATH_MSG_CONTROL
										     : PQ_PATH_MSG_SIGNAL;
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

/* A batch of datagrams for one UDP conn, sealed back to back in
 * send.batch: all the same size but the last (one UDP GSO call). */
struct udp_batch {
	size_t used, first;
};

static int batch_seal(struct pq_node_peer *p, struct udp_batch *b, uint8_t type, const uint8_t *pt, size_t len,
		      uint64_t now_ms)
{
	struct pq_node *node = p->node;
	long sealed;

	if (b->used + len + PQ_SEALED_OVERHEAD > sizeof(node->send.batch))
		return PQ_E_TOOBIG; /* cannot happen: a super-frame is at most 64 KiB */
	sealed = pq_session_seal(&p->session, type, pt, len, node->send.batch + b->used,
				 sizeof(node->send.batch) - b->used, now_ms);
	if (sealed < 0)
		return (int)sealed;
	if (!b->first)
		b->first = (size_t)sealed;
	b->used += (size_t)sealed;
	return 0;
}

/* A lost datagram is TCP's to resend, like any other; a lost piece
 * costs its frame, as a lost datagram would. */
static int batch_send(struct pq_node_peer *p, int via, const struct udp_batch *b, uint64_t now_ms)
{
	int ret = pq_udp_path_send_batch(p->node, &p->path.conn[via]->addr, p->node->send.batch, b->used, b->first);

	if (ret == 0 && pq_path_tx(&p->path.core, via, now_ms))
		pq_path_exec_rearm(p, now_ms);
	return ret;
}

/* A frame no datagram of the UDP conn holds and that is not TCP to cut:
 * its DATA_GSO plaintext (the offload header goes into the room before
 * the frame) in DATA_FRAG pieces (proto/frag.h), as equal as they can
 * be. PQ_E_TOOBIG: more than PQ_FRAG_MAX_PIECES pieces. */
static int send_frame_pieces(struct pq_node_peer *p, int via, const struct pq_gso_hdr *hdr, uint8_t *frame,
			     size_t len, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	uint8_t *whole = frame - PQ_GSO_HDR_LEN;
	size_t total = PQ_GSO_HDR_LEN + len, piece_size, count;
	struct udp_batch b = { 0, 0 };
	uint32_t id;
	int ret;

	if (pq_frag_plan(total, pq_udp_path_max_msg(p->path.conn[via]) - PQ_SEALED_OVERHEAD, &piece_size, &count))
		return PQ_E_TOOBIG;
	if (pq_gso_hdr_encode(hdr, len, whole, PQ_GSO_HDR_LEN) != PQ_GSO_HDR_LEN)
		return PQ_E_INVAL;
	id = p->frag_next_id++;
	for (size_t i = 0; i < count; i++) {
		long n = pq_frag_encode(id, whole, total, piece_size, i, node->send.segment, sizeof(node->send.segment));

		if (n < 0)
			return (int)n;
		if ((ret = batch_seal(p, &b, PQ_MSG_DATA_FRAG, node->send.segment, (size_t)n, now_ms)))
			return ret;
	}
	if ((ret = batch_send(p, via, &b, now_ms)))
		return ret;
	p->count.tx_frag_frames++;
	return 0;
}

/* A frame for a UDP conn: as it is when it fits one datagram, else cut
 * into TCP segments that do (what TSO would have done: proto/gso_seg.h),
 * each sealed as DATA with consecutive counters, back to back in
 * send.batch, and handed to the kernel in as few calls as it takes (UDP
 * GSO: equal-sized datagrams but the last); a frame that is not TCP goes
 * in DATA_FRAG pieces. PQ_E_TOOBIG: it cannot be sent this way (a
 * non-TCP super-frame): the caller sends it another way. */
static int send_frame_udp(struct pq_node_peer *p, int via, const struct pq_gso_hdr *hdr, uint8_t *frame,
			  size_t len, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	size_t max_frame = pq_udp_path_max_msg(p->path.conn[via]) - PQ_SEALED_OVERHEAD;
	struct udp_batch b = { 0, 0 };
	struct pq_gso_seg it;
	long n, sealed;
	int ret;

	if (pq_gso_hdr_is_zero(hdr) && len <= max_frame) {
		sealed = seal(p, PQ_MSG_DATA, frame, len, now_ms);
		return sealed < 0 ? (int)sealed : send_on(p, via, node->send.sealed, (size_t)sealed, now_ms);
	}
	if ((ret = pq_gso_seg_init(&it, hdr, frame, len, max_frame)))
		return ret == PQ_E_DECODE || ret == PQ_E_TOOBIG ? send_frame_pieces(p, via, hdr, frame, len, now_ms)
								 : ret;
	while ((n = pq_gso_seg_next(&it, node->send.segment, sizeof(node->send.segment))) > 0)
		if ((ret = batch_seal(p, &b, PQ_MSG_DATA, node->send.segment, (size_t)n, now_ms)))
			return ret;
	if (n < 0)
		return (int)n;
	return batch_send(p, via, &b, now_ms);
}

int pq_send_frame(struct pq_node_peer *p, const struct pq_gso_hdr *hdr, uint8_t *frame, size_t len, uint64_t now_ms)
{
	int via = pq_path_route(&p->path.core, PQ_PATH_MSG_DATA, pq_relay_link_up(p->node), PQ_PATH_VIA_RELAY);
	int ret;

	if (via >= 0 && p->path.conn[via] && p->path.conn[via]->transport == PQ_PATH_UDP) {
		ret = send_frame_udp(p, via, hdr, frame, len, now_ms);
		if (ret != PQ_E_TOOBIG)
			return ret;
	}
	/* TLS and the relay carry a super-frame whole, as DATA_GSO. */
	if (pq_gso_hdr_is_zero(hdr))
		return pq_send_sealed(p, PQ_MSG_DATA, frame, len, now_ms);
	if (pq_gso_hdr_encode(hdr, len, frame - PQ_GSO_HDR_LEN, PQ_GSO_HDR_LEN) != PQ_GSO_HDR_LEN)
		return PQ_E_INVAL;
	return pq_send_sealed(p, PQ_MSG_DATA_GSO, frame - PQ_GSO_HDR_LEN, PQ_GSO_HDR_LEN + len, now_ms);
}
