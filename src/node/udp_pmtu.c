/*
 * udp_pmtu.c - the UDP path's MTU search executed (proto/pmtu.h decides).
 *
 * Each UDP conn that proved itself probes on its own timer: PMTU_PROBEs
 * padded so that the IP packet has the size asked about, sealed like any
 * message (a forged answer cannot raise the size). The peer answers each
 * one that arrives with a PMTU_ACK naming the size it saw, computed from
 * what arrived, not from anything the sender wrote. send.c cuts frames to
 * pq_udp_path_max_msg(dc), which follows the answers.
 */
#include "node/node_int.h"
#include "util/log.h"

/* The padding of every probe: its content does not matter, its size does. */
static const uint8_t padding[PQ_PMTU_PROBE_MAX_PT];

/* dc may be gone when this returns (a failed send can end the conn):
 * the caller looks at p->path.conn[k], not at dc. */
static void send_probe(struct pq_dconn *dc, unsigned size, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;
	size_t over = pq_udp_path_ip_overhead(&dc->addr) + PQ_SEALED_OVERHEAD;
	int ret;

	if (size <= over || size - over > sizeof(padding))
		return;
	/* Refused by our own interface (PQ_E_TOOBIG) is the same answer as
	 * lost on the way: none. */
	ret = pq_send_sealed_via(p, dc->slot, PQ_MSG_PMTU_PROBE, padding, size - over, now_ms);
	if (ret && ret != PQ_E_TOOBIG)
		pq_log(PQ_LOG_DEBUG, "peer %s: MTU probe of %u bytes not sent: %s", pq_peer_label(p), size,
		       pq_strerror(ret));
}

static void pmtu_timer_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_dconn *dc = arg;
	struct pq_node_peer *p = dc->peer;
	int k = dc->slot;
	uint16_t sizes[PQ_PMTU_PROBES_MAX];
	uint64_t due;
	bool busy;
	size_t n;

	(void)t;
	if (!p || k < 0 || p->node->life.stopping)
		return;
	/* Frames went this way since the last look. */
	busy = p->path.core.active == dc->slot && p->count.tx_frames != dc->pmtu_tx_frames;
	dc->pmtu_tx_frames = p->count.tx_frames;
	n = pq_pmtu_poll(&dc->pmtu, now_ms, busy, sizes, PQ_PMTU_PROBES_MAX);
	/* A send may fail the conn for good, detach and free it (send.c):
	 * after each one, dc is only used if it is still slot k's conn. */
	for (size_t i = 0; i < n; i++) {
		send_probe(dc, sizes[i], now_ms);
		if (p->path.conn[k] != dc)
			return;
	}
	due = pq_pmtu_deadline(&dc->pmtu);
	if (pq_loop_timer_start(loop, &dc->pmtu_timer, due > now_ms ? due - now_ms : 1))
		pq_log(PQ_LOG_ERROR, "peer %s: cannot arm the MTU probe timer", pq_peer_label(dc->peer));
}

void pq_udp_pmtu_start(struct pq_dconn *dc, uint64_t now_ms)
{
	struct pq_node *node = dc->node;

	if (dc->transport != PQ_PATH_UDP || dc->pmtu_started || !node->loop)
		return;
	dc->pmtu_started = true;
	pq_pmtu_init(&dc->pmtu, node->cfg.udp_mtu, now_ms);
	/* From the loop, not from inside the proof's completion: the path
	 * core may still drop this conn (a crossing lost). */
	dc->pmtu_timer.fn = pmtu_timer_fired;
	dc->pmtu_timer.arg = dc;
	if (pq_loop_timer_start(node->loop, &dc->pmtu_timer, 0))
		pq_log(PQ_LOG_ERROR, "udp: cannot arm the MTU probe timer");
}

void pq_udp_pmtu_stop(struct pq_node *node, struct pq_dconn *dc)
{
	if (node && node->loop)
		pq_loop_timer_cancel(node->loop, &dc->pmtu_timer);
}

static struct pq_dconn *udp_conn(struct pq_node_peer *p, int via)
{
	struct pq_dconn *dc;

	if (via < 0 || via >= PQ_PATH_MAX_CONNS || !(dc = p->path.conn[via]) || dc->transport != PQ_PATH_UDP)
		return NULL;
	return dc;
}

void pq_udp_pmtu_probe_in(struct pq_node_peer *p, int via, size_t pt_len, uint64_t now_ms)
{
	struct pq_dconn *dc = udp_conn(p, via);
	uint8_t ack[PQ_PMTU_ACK_LEN];
	size_t size;
	int ret;

	if (!dc) {
		pq_log(PQ_LOG_DEBUG, "peer %s: MTU probe not on a UDP path, ignored", pq_peer_label(p));
		return;
	}
	size = pt_len + PQ_SEALED_OVERHEAD + pq_udp_path_ip_overhead(&dc->addr);
	if (size < PQ_PMTU_MIN || size > PQ_PMTU_MAX)
		return; /* a size the sender's search never asks about */
	pq_pmtu_ack_encode((unsigned)size, ack);
	if ((ret = pq_send_sealed_via(p, via, PQ_MSG_PMTU_ACK, ack, sizeof(ack), now_ms)))
		pq_log(PQ_LOG_DEBUG, "peer %s: MTU probe answer not sent: %s", pq_peer_label(p), pq_strerror(ret));
}

void pq_udp_pmtu_ack_in(struct pq_node_peer *p, int via, const uint8_t *pt, size_t len)
{
	struct pq_dconn *dc = udp_conn(p, via);
	unsigned size, before;

	if (!dc || pq_pmtu_ack_decode(&size, pt, len))
		return;
	before = dc->pmtu.current;
	if (pq_pmtu_acked(&dc->pmtu, size) && size != before)
		pq_log(PQ_LOG_INFO, "peer %s: UDP path carries %u-byte packets", pq_peer_label(p), size);
}
