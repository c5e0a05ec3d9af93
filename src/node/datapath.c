/*
 * datapath.c - Ethernet frames between the TAP and the peers' sessions
 * (DESIGN §4, §6).
 *
 *   TAP -> l2 decision -> for each target peer with usable keys:
 *          seal DATA (zero offload header) or DATA_GSO (offload header
 *          and frame, net/tap.h) -> the path core's route (send.c)
 *   the relay or a direct conn -> 0x20-0x25 session open (tag, then the
 *          replay window: one per key, whichever path a message took) ->
 *          DATA / DATA_GSO (header checked, proto/gso_hdr.h): l2 learn ->
 *          TAP; ENDPOINTS and PROBE to the path (path_exec.c)
 *
 * A frame received from a peer goes to the TAP and nowhere else: l2.h's
 * pq_l2_from_peer has no peer set to return, so no frame is forwarded
 * from one peer to another.
 */
#include <string.h>

#include "node/node_int.h"
#include "proto/msg_sealed.h"
#include "util/log.h"

void pq_datapath_drop(struct pq_node_peer *p)
{
	p->count.dropped_frames++;
}

/* The peers a frame from the TAP may be sealed to at now_ms. */
static void established_set(struct pq_node *node, struct pq_l2_peerset *set, uint64_t now_ms)
{
	pq_l2_peerset_clear(set);
	for (size_t i = 0; i < node->peer_count; i++)
		if (pq_peer_state(&node->peers[i], now_ms) == PQ_PEER_ESTABLISHED)
			pq_l2_peerset_add(set, (uint32_t)i);
}

/* One frame (at dp.frame + PQ_GSO_HDR_LEN, its offload header in hdr) to
 * p: send.c chooses DATA, DATA_GSO or segments by the way it goes. */
static void frame_to_peer(struct pq_node_peer *p, const struct pq_gso_hdr *hdr, size_t len, uint64_t now_ms)
{
	if (pq_send_frame(p, hdr, p->node->dp.frame + PQ_GSO_HDR_LEN, len, now_ms)) {
		p->count.dropped_frames++;
		return;
	}
	p->count.tx_frames++;
	p->count.tx_bytes += len;
	if (!pq_gso_hdr_is_zero(hdr))
		p->count.tx_gso_frames++;
}

/* The frame is at dp.frame + PQ_GSO_HDR_LEN (room for the DATA_GSO
 * header before it). Returns the number of peers it was sealed to (a
 * flooded frame is queued once per peer). */
static size_t frame_from_tap(struct pq_node *node, const struct pq_gso_hdr *hdr, size_t len,
			     uint64_t now_ms)
{
	size_t sent = 0;
	uint8_t *frame = node->dp.frame + PQ_GSO_HDR_LEN;
	struct pq_l2_peerset est;
	struct pq_l2_out out;

	established_set(node, &est, now_ms);
	if (pq_l2_from_tap(node->l2, frame, len, &est, now_ms, &out) != PQ_L2_PASS)
		return 0;
	for (size_t i = 0; i < node->peer_count; i++) {
		if (pq_l2_peerset_has(&out.to, (uint32_t)i)) {
			frame_to_peer(&node->peers[i], hdr, len, now_ms);
			sent++;
		}
	}
	return sent;
}

void pq_datapath_tap_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_node *node = arg;
	size_t taken = 0;

	/* A budget in frames and in bytes queued: with offloads one read
	 * can be 64 KiB (sealed once per peer it floods to), and what one
	 * turn reads is queued on the conns before any of it is written;
	 * past a conn's queue (1 MiB) whole super-frames would be dropped.
	 * The rest waits in the TAP's own queue for the next turn (the fd
	 * stays readable). */
	for (int i = 0; i < PQ_NODE_TAP_BATCH && taken < PQ_NODE_TAP_BUDGET_BYTES; i++) {
		struct pq_gso_hdr hdr;
		size_t len = 0, sent;
		int ret = pq_tap_read(&node->tap, &hdr, node->dp.frame + PQ_GSO_HDR_LEN,
				      sizeof(node->dp.frame) - PQ_GSO_HDR_LEN, &len);

		if (ret == PQ_E_AGAIN)
			break;
		if (ret == PQ_E_TOOBIG || ret == PQ_E_DECODE) {
			pq_log(PQ_LOG_DEBUG, "%s", node->tap.err);
			continue;
		}
		if (ret) {
			/* The device failed or was deleted: nothing left to carry. */
			pq_log(PQ_LOG_ERROR, "tap %s: %s", node->tap.name, node->tap.err);
			pq_node_stop(node, "TAP failed", 1);
			return;
		}
		sent = frame_from_tap(node, &hdr, len, now_ms);
		taken += len * (sent ? sent : 1);
	}
}

/* An opened DATA frame (hdr NULL) or DATA_GSO plaintext (hdr filled
 * here) from p: check, learn, then the TAP. */
static void frame_from_peer(struct pq_node_peer *p, struct pq_gso_hdr *hdr, const uint8_t *pt,
			    size_t pt_len, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	const uint8_t *frame = pt;
	size_t len = pt_len;
	enum pq_l2_drop why;
	int ret;

	/* The peer chose these bytes, and our kernel acts on them. */
	if (hdr && (pq_gso_decode(hdr, &frame, &len, pt, pt_len) || pq_gso_frame_check(hdr, frame, len))) {
		p->count.dropped_frames++;
		return;
	}
	if ((why = pq_l2_from_peer(node->l2, p->id, frame, len, now_ms)) != PQ_L2_PASS) {
		p->count.dropped_frames++;
		pq_l2_log_drop(node->l2, pq_peer_label(p), why, frame, now_ms); /* issue 11 */
		return;
	}
	p->count.rx_frames++;
	p->count.rx_bytes += len;
	if (hdr)
		p->count.rx_gso_frames++;
	ret = pq_tap_write(&node->tap, hdr, frame, len);
	if (ret && ret != PQ_E_AGAIN)
		pq_log(PQ_LOG_DEBUG, "tap %s: frame not written: %s", node->tap.name, node->tap.err);
}

long pq_datapath_sealed(struct pq_node_peer *p, const uint8_t *msg, size_t len, int via, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	struct pq_gso_hdr hdr;
	uint8_t type = 0;
	long n;

	n = pq_session_open(&p->session, msg, len, node->dp.frame, sizeof(node->dp.frame), now_ms, &type);
	if (n < 0) {
		/* Auth failure, replay, unknown index, malformed: counted. */
		p->count.dropped_frames++;
		return n;
	}
	/* Authenticated: liveness of the way it came. Only the relay's
	 * delivery says the peer is at the relay (online). */
	if (via == PQ_PATH_VIA_RELAY) {
		pq_peer_heard_via_relay(p, now_ms);
		/* Only a direct path has anything to learn from it (it may
		 * have gone quiet: probe). */
		if (p->path.core.active >= 0)
			pq_path_exec_simple(p, PQ_PATH_EV_RX, PQ_PATH_VIA_RELAY, now_ms);
	} else {
		pq_path_rx(&p->path.core, via, now_ms);
	}
	if (type == PQ_MSG_DATA)
		frame_from_peer(p, NULL, node->dp.frame, (size_t)n, now_ms);
	else if (type == PQ_MSG_DATA_GSO)
		frame_from_peer(p, &hdr, node->dp.frame, (size_t)n, now_ms);
	else if (type == PQ_MSG_ENDPOINTS)
		pq_path_exec_endpoints_in(p, node->dp.frame, (size_t)n, now_ms);
	else if (type == PQ_MSG_PROBE)
		pq_path_exec_probe_in(p, via, node->dp.frame, (size_t)n, now_ms);
	else if (type == PQ_MSG_PUNCH)
		pq_udp_path_punch_in(p, node->dp.frame, (size_t)n, now_ms);
	/* KEEPALIVE and PROBE_ACK need nothing more: being authenticated,
	 * they already count as liveness of the way they came. Keepalive and
	 * confirmation deadlines moved: re-arm p's timer. */
	pq_peer_service(p, now_ms);
	return type;
}

void pq_datapath_from_relay(struct pq_node_peer *p, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	uint8_t type = msg[0];

	if (type >= PQ_MSG_HS_INIT && type <= PQ_MSG_HS_FINISH)
		pq_peer_handshake_msg(p, msg, len, PQ_PATH_VIA_RELAY, now_ms);
	else if (pq_sealed_type_ok(type))
		(void)pq_datapath_sealed(p, msg, len, PQ_PATH_VIA_RELAY, now_ms);
	else
		p->count.dropped_frames++;
}
