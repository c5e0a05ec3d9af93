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
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"
#include "proto/gso_coalesce.h"
#include "proto/msg_sealed.h"
#include "util/log.h"

void pq_datapath_drop(struct pq_node_peer *p)
{
	p->count.dropped_frames++;
}

static void batch_flush(struct pq_node *node);

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

/* May p send this frame (its source MAC, issue 11)? A refusal is counted
 * and logged (rate-limited by l2) on every receive path alike. */
static bool frame_allowed(struct pq_node_peer *p, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	enum pq_l2_drop why;

	if ((why = pq_l2_from_peer(node->l2, p->id, frame, len, now_ms)) == PQ_L2_PASS)
		return true;
	p->count.dropped_frames++;
	pq_l2_log_drop(node->l2, pq_peer_label(p), why, frame, now_ms);
	return false;
}

/* An opened DATA frame (hdr NULL) or DATA_GSO plaintext (hdr filled
 * here) from p: check, learn, then the TAP. */
static void frame_from_peer(struct pq_node_peer *p, struct pq_gso_hdr *hdr, const uint8_t *pt,
			    size_t pt_len, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	const uint8_t *frame = pt;
	size_t len = pt_len;
	int ret;

	/* The peer chose these bytes, and our kernel acts on them. */
	if (hdr && (pq_gso_decode(hdr, &frame, &len, pt, pt_len) || pq_gso_frame_check(hdr, frame, len))) {
		p->count.dropped_frames++;
		return;
	}
	if (!frame_allowed(p, frame, len, now_ms))
		return;
	p->count.rx_frames++;
	p->count.rx_bytes += len;
	if (hdr && !pq_gso_hdr_is_zero(hdr))
		p->count.rx_gso_frames++;
	ret = pq_tap_write(&node->tap, hdr, frame, len);
	if (ret && ret != PQ_E_AGAIN)
		pq_log(PQ_LOG_DEBUG, "tap %s: frame not written: %s", node->tap.name, node->tap.err);
}

/* An opened DATA frame: into the batch's coalescer (UDP), or to the TAP. */
static void data_from_peer(struct pq_node_peer *p, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct pq_node_dp *dp = &p->node->dp;
	int ret;

	if (!dp->batching) {
		frame_from_peer(p, NULL, frame, len, now_ms);
		return;
	}
	if (!frame_allowed(p, frame, len, now_ms))
		return;
	p->count.rx_frames++;
	p->count.rx_bytes += len;
	if ((ret = pq_gso_coalesce_add(&dp->co, frame, len)) == PQ_E_LIMIT) {
		batch_flush(p->node);
		ret = pq_gso_coalesce_add(&dp->co, frame, len);
	}
	if (ret)
		p->count.dropped_frames++;
}

/* An opened DATA_FRAG piece: kept until its whole (a DATA_GSO plaintext,
 * proto/frag.h) is in, then that goes to the TAP as DATA_GSO does, after
 * what the batch holds (it keeps its place among p's frames, and the
 * coalescer would borrow the slot's buffer, which the next piece reuses). */
static void piece_from_peer(struct pq_node_peer *p, const uint8_t *pt, size_t len, uint64_t now_ms)
{
	struct pq_gso_hdr hdr;
	const uint8_t *whole = NULL;
	long n = pq_frag_rx_add(&p->frag, pt, len, now_ms, &whole);

	if (n < 0)
		p->count.dropped_frames++;
	if (n <= 0)
		return;
	if (p->node->dp.batching)
		batch_flush(p->node);
	p->count.rx_frag_frames++;
	frame_from_peer(p, &hdr, whole, (size_t)n, now_ms);
}

/* Open msg into out (out == msg + PQ_SEALED_HDR_LEN: in place) and act. */
static long sealed_into(struct pq_node_peer *p, const uint8_t *msg, size_t len, int via, uint8_t *out,
			size_t cap, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	struct pq_gso_hdr hdr;
	uint8_t type = 0;
	long n;

	n = pq_session_open(&p->session, msg, len, out, cap, now_ms, &type);
	if (n < 0) {
		/* Auth failure, replay, unknown index, malformed: counted. */
		p->count.dropped_frames++;
		return n;
	}
	/* Authenticated: liveness of the way it came. Only the relay's
	 * delivery says the peer is at the relay (online). */
	if (via == PQ_PATH_VIA_RELAY)
		pq_peer_heard_via_relay(p, now_ms);
	else if (via >= 0 && via < PQ_PATH_MAX_CONNS && p->path.conn[via])
		p->path.conn[via]->heard_ms = now_ms; /* status: direct_heard_ms */
	/* Through the relay or a stand-by conn while the active conn is
	 * quiet: the peer may have dropped it, probe (path.h). Else only an
	 * answer on a conn counts (a datagram from an address not validated,
	 * PQ_NODE_VIA_UDP_NEW, counts for none). */
	if (pq_path_rx_wants_event(&p->path.core, via, now_ms))
		pq_path_exec_simple(p, PQ_PATH_EV_RX, via, now_ms);
	else if (via != PQ_PATH_VIA_RELAY && pq_path_rx_is_answer(type))
		pq_path_rx(&p->path.core, via, now_ms);
	if (type == PQ_MSG_DATA)
		data_from_peer(p, out, (size_t)n, now_ms);
	else if (type == PQ_MSG_DATA_GSO)
		frame_from_peer(p, &hdr, out, (size_t)n, now_ms);
	else if (type == PQ_MSG_DATA_FRAG)
		piece_from_peer(p, out, (size_t)n, now_ms);
	else if (type == PQ_MSG_ENDPOINTS)
		pq_path_exec_endpoints_in(p, out, (size_t)n, now_ms);
	else if (type == PQ_MSG_PROBE)
		pq_path_exec_probe_in(p, via, out, (size_t)n, now_ms);
	else if (type == PQ_MSG_PUNCH)
		pq_udp_path_punch_in(p, out, (size_t)n, now_ms);
	else if (type == PQ_MSG_PMTU_PROBE)
		pq_udp_pmtu_probe_in(p, via, (size_t)n, now_ms);
	else if (type == PQ_MSG_PMTU_ACK)
		pq_udp_pmtu_ack_in(p, via, out, (size_t)n);
	/* KEEPALIVE and PROBE_ACK need nothing more: being authenticated,
	 * they already count as liveness of the way they came. Keepalive and
	 * confirmation deadlines moved: re-arm p's timer (in a batch, once at
	 * its end). */
	if (node->dp.batching && (type == PQ_MSG_DATA || type == PQ_MSG_DATA_FRAG) && p->id < PQ_CONFIG_MAX_PEERS)
		node->dp.touched[p->id / 64] |= 1ull << (p->id % 64);
	else
		pq_peer_service(p, now_ms);
	return type;
}

long pq_datapath_sealed(struct pq_node_peer *p, const uint8_t *msg, size_t len, int via, uint64_t now_ms)
{
	return sealed_into(p, msg, len, via, p->node->dp.frame, sizeof(p->node->dp.frame), now_ms);
}

long pq_datapath_sealed_inplace(struct pq_node_peer *p, uint8_t *msg, size_t len, int via, uint64_t now_ms)
{
	if (len < PQ_SEALED_HDR_LEN)
		return pq_datapath_sealed(p, msg, len, via, now_ms);
	return sealed_into(p, msg, len, via, msg + PQ_SEALED_HDR_LEN, len - PQ_SEALED_HDR_LEN, now_ms);
}

/* ---- batches of datagrams (the UDP path) ---- */

int pq_datapath_batch_init(struct pq_node *node)
{
	struct pq_node_dp *dp = &node->dp;

	if (dp->arena)
		return 0;
	dp->arena = malloc(PQ_NODE_CO_ARENA);
	dp->co_out = calloc(PQ_NODE_CO_OUT, sizeof(*dp->co_out));
	if (!dp->arena || !dp->co_out)
		return PQ_E_NOMEM;
	return pq_gso_coalesce_init(&dp->co, dp->arena, PQ_NODE_CO_ARENA, PQ_MAX_GSO_FRAME_LEN, dp->co_out,
				    PQ_NODE_CO_OUT);
}

void pq_datapath_batch_free(struct pq_node *node)
{
	free(node->dp.arena);
	free(node->dp.co_out);
	node->dp.arena = NULL;
	node->dp.co_out = NULL;
}

void pq_datapath_batch_begin(struct pq_node *node)
{
	if (!node->dp.arena)
		return;
	pq_gso_coalesce_reset(&node->dp.co);
	node->dp.batching = true;
}

/* Write what the coalescer holds to the TAP, in order; start over. */
static void batch_flush(struct pq_node *node)
{
	const struct pq_gso_out *out;
	size_t n = pq_gso_coalesce_finish(&node->dp.co, &out);

	for (size_t i = 0; i < n; i++) {
		int ret = pq_tap_write(&node->tap, pq_gso_hdr_is_zero(&out[i].hdr) ? NULL : &out[i].hdr,
				       out[i].frame, out[i].len);

		if (ret && ret != PQ_E_AGAIN)
			pq_log(PQ_LOG_DEBUG, "tap %s: frame not written: %s", node->tap.name, node->tap.err);
	}
	pq_gso_coalesce_reset(&node->dp.co);
}

void pq_datapath_batch_end(struct pq_node *node, uint64_t now_ms)
{
	struct pq_node_dp *dp = &node->dp;

	if (!dp->batching)
		return;
	batch_flush(node);
	dp->batching = false;
	for (size_t w = 0; w < sizeof(dp->touched) / sizeof(dp->touched[0]); w++)
		while (dp->touched[w]) {
			unsigned b = (unsigned)__builtin_ctzll(dp->touched[w]);

			dp->touched[w] &= dp->touched[w] - 1;
			if (w * 64 + b < node->peer_count)
				pq_peer_service(&node->peers[w * 64 + b], now_ms);
		}
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
