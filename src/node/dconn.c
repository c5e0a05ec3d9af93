/*
 * dconn.c - one direct conn to a peer, whatever carries it: its
 * re-handshake runs (DESIGN §5, docs/PROTOCOL.md §5), what arrives on it,
 * and sending on it. The path core (proto/path.h) decides what the conn
 * is for; this file tells it what happened (proof done or failed) and
 * does what it says (start a proof). tls_path.c carries it today.
 *
 * Proofs: on a new conn the dialler initiates with the session's current
 * keys, bound to the conn's channel binding (the TLS exporter). The other
 * side starts its run when the REQUEST comes and takes the keys the
 * REQUEST names by session id: current, the unconfirmed next (a REQUEST
 * after a rekey may overtake HS_FINISH, which takes the relay), or the
 * previous ones in their grace period (we rekeyed, the dialler has not
 * seen it yet). So a conn that opens while a rekey is in flight still
 * proves itself; the dialler re-authenticates under the new keys next.
 * The 5 s deadline is the path core's, on the monotonic clock.
 *
 * Before its first run completed a conn carries nothing but the
 * re-handshake (§5.5); after, sealed messages and handshakes (rekeys while
 * the relay is away) too.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"
#include "net/ws.h"
#include "node/node_int.h"
#include "util/clock.h"
#include "util/log.h"

int pq_dconn_new(struct pq_node *node, struct pq_conn *c, uint8_t transport, bool dialled,
		 struct pq_dconn **out)
{
	struct pq_dconn *dc = calloc(1, sizeof(*dc));

	if (!dc)
		return PQ_E_NOMEM;
	dc->slot = -1;
	dc->node = node;
	pq_timer_init(&dc->resend, NULL, dc);
	pq_timer_init(&dc->pmtu_timer, NULL, dc);
	/* Until the search starts, datagrams no larger than the floor. */
	pq_pmtu_init(&dc->pmtu, node->cfg.udp_mtu, 0);
	dc->transport = transport;
	dc->dialled = dialled;
	dc->conn = c;
	dc->next_all = node->dconns;
	node->dconns = dc;
	*out = dc;
	return 0;
}

void pq_dconn_attach(struct pq_dconn *dc, struct pq_node_peer *p, int k)
{
	dc->peer = p;
	dc->slot = k;
	p->path.conn[k] = dc;
}

void pq_dconn_detach(struct pq_dconn *dc)
{
	if (dc->peer && dc->peer->node->loop)
		pq_loop_timer_cancel(dc->peer->node->loop, &dc->resend);
	pq_udp_pmtu_stop(dc->node, dc);
	/* A run ended here never completed: a responder's cache entries go
	 * with it (pq_rehs_abandon), or forged REQUESTs on UDP conns that
	 * come and go could keep the session's cache full. (A live run has
	 * its peer; the plain wipe is only for safety.) */
	if (dc->rehs_live && dc->peer)
		pq_rehs_abandon(&dc->rehs, &dc->peer->path.cache, pq_wall_ms());
	else if (dc->rehs_live)
		pq_rehs_clear(&dc->rehs);
	dc->rehs_live = false;
	if (dc->peer && dc->slot >= 0 && dc->peer->path.conn[dc->slot] == dc)
		dc->peer->path.conn[dc->slot] = NULL;
	dc->peer = NULL;
	dc->slot = -1;
}

bool pq_dconn_usable(const struct pq_dconn *dc)
{
	return dc->peer && dc->peer->path.core.conn[dc->slot].state == PQ_PCONN_USABLE;
}

/* The conn's channel binding (PROTOCOL §5.3, §5.6): the TLS exporter, or
 * the UDP attempt's. */
static const uint8_t *dconn_binding(const struct pq_dconn *dc)
{
	return dc->transport == PQ_PATH_UDP ? dc->binding : pq_conn_exporter(dc->conn);
}

/* A re-handshake message out: on TLS one send; on a UDP attempt to every
 * candidate (or its address), resent until answered (udp_path.c). */
static int rehs_send(struct pq_dconn *dc, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	if (dc->transport == PQ_PATH_TLS)
		return pq_dconn_send(dc, msg, len);
	pq_udp_path_send_rehs(dc, msg, len, now_ms);
	return 0;
}

/* The keypair a run uses: the current one; for a responder, the keys its
 * REQUEST names (current, next or previous), else the current ones (the
 * run then fails on the session id, as it should). */
static const struct pq_keypair *rehs_keypair(const struct pq_node_peer *p, const uint8_t *req, size_t len)
{
	const struct pq_session *s = &p->session;
	const struct pq_keypair *kp = NULL;

	if (req && len >= 1 + PQ_SESSION_ID_LEN)
		kp = pq_session_keypair_by_id(s, req + 1);
	if (!kp && s->current && s->current->live)
		kp = s->current;
	return kp;
}

static int rehs_init(struct pq_dconn *dc, const struct pq_keypair *kp)
{
	const uint8_t *binding = dconn_binding(dc);
	struct pq_rehs_config cfg = {
		.role = dc->dialled ? PQ_REHS_INITIATOR : PQ_REHS_RESPONDER,
		.counters = &dc->peer->path.rehs_count,
		.external_deadline = true,
	};
	int ret;

	if (!kp || !binding)
		return PQ_E_STATE;
	cfg.hs_initiator = kp->initiator;
	cfg.session_id = kp->session_id;
	cfg.send_key = kp->rehs_send;
	cfg.recv_key = kp->rehs_recv;
	cfg.binding = binding;
	/* A run replaced before it completed proved nothing: its cache
	 * entries go with it (pq_rehs_abandon; undone with the rest when
	 * the new datagram is refused, pq_dconn_udp_rehs). */
	if (dc->rehs_live)
		pq_rehs_abandon(&dc->rehs, &dc->peer->path.cache, pq_wall_ms());
	if ((ret = pq_rehs_init(&dc->rehs, &cfg, pq_wall_ms())))
		return ret;
	dc->rehs_live = true;
	dc->rehs_index = kp->local_index;
	dc->rehs_start_us = pq_mono_us();
	return 0;
}

/* A run that could not start counts as failed; the core drops the conn. */
static void rehs_not_started(struct pq_dconn *dc, int err, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;

	p->path.rehs_not_started++;
	pq_log(PQ_LOG_WARN, "peer %s: re-handshake not started: %s", pq_peer_label(p), pq_strerror(err));
	pq_path_exec_simple(p, PQ_PATH_EV_REHS_FAILED, dc->slot, now_ms);
}

void pq_dconn_rehs_start(struct pq_dconn *dc, uint64_t now_ms)
{
	uint8_t out[PQ_REHS_MAX_MSG_LEN];
	size_t n = 0;
	int ret;

	if (!dc->peer || !dc->dialled)
		return;
	pq_log(PQ_LOG_DEBUG, "peer %s: re-handshake on the direct conn", pq_peer_label(dc->peer));
	ret = rehs_init(dc, rehs_keypair(dc->peer, NULL, 0));
	if (ret == 0)
		ret = pq_rehs_start(&dc->rehs, &dc->peer->path.cache, pq_wall_ms(), out, sizeof(out), &n);
	if (ret == 0)
		ret = rehs_send(dc, out, n, now_ms);
	if (ret)
		rehs_not_started(dc, ret, now_ms);
}

/* A run COMPLETED: the conn proved the session's keys on this channel. */
static void rehs_completed(struct pq_dconn *dc, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;
	struct pq_path_event ev = { .type = PQ_PATH_EV_REHS_DONE, .conn = dc->slot, .key_index = dc->rehs_index };

	pq_rehs_clear(&dc->rehs);
	dc->rehs_live = false;
	dc->heard_ms = now_ms;
	/* On UDP the proof came from dc->addr: the path's address now; how
	 * large a datagram it carries is the next thing to learn. */
	if (dc->transport == PQ_PATH_UDP) {
		dc->has_addr = true;
		pq_udp_pmtu_start(dc, now_ms);
	}
	p->path.last_rehs_ms = now_ms ? now_ms : 1;
	p->path.last_rehs_us = pq_mono_us() - dc->rehs_start_us;
	pq_metrics_observe_rehandshake(p->node, p->path.last_rehs_us);
	if (pq_dconn_usable(dc))
		pq_log(PQ_LOG_DEBUG, "peer %s: direct path re-authenticated", pq_peer_label(p));
	pq_path_exec_event(p, &ev, now_ms);
}

/* A refusal on UDP is only a datagram to ignore (pq_dconn_udp_rehs
 * undoes it); on TLS the run, and the conn, fail. */
static void rehs_refused(struct pq_dconn *dc, int err, const char *what, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;

	if (dc->transport == PQ_PATH_UDP) {
		pq_log(PQ_LOG_DEBUG, "peer %s: UDP re-handshake datagram ignored: %s (%s)", pq_peer_label(p),
		       pq_strerror(err), what);
		dc->udp_refused = true;
		return;
	}
	pq_log(PQ_LOG_WARN, "peer %s: re-handshake failed: %s (%s)", pq_peer_label(p), pq_strerror(err), what);
	if (dc->rehs_live)
		pq_rehs_clear(&dc->rehs);
	dc->rehs_live = false;
	pq_path_exec_simple(p, PQ_PATH_EV_REHS_FAILED, dc->slot, now_ms);
}

/* A re-handshake message (0x30-0x32) on dc. */
static void rehs_message(struct pq_dconn *dc, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;
	/* On UDP anyone can send a REQUEST (no MAC, the session id in clear):
	 * a new one replaces our run that waits for its COMPLETE, so a forged
	 * REQUEST cannot hold the conn against the peer's. (A repeat of the
	 * REQUEST we answered never gets here: udp_path.c answers it again;
	 * one the run refuses is undone, the replaced run restored.) */
	bool replaces = dc->transport == PQ_PATH_UDP && !dc->dialled && dc->rehs_live &&
			msg[0] == PQ_MSG_REHS_REQUEST;
	/* The peer's REQUEST starts our run: on a new conn (its proof) or on
	 * a usable one (it re-authenticates, after a rekey or on schedule). */
	bool starts = (replaces || !dc->rehs_live) && !dc->dialled && msg[0] == PQ_MSG_REHS_REQUEST;
	bool reauth = starts && pq_dconn_usable(dc);
	uint8_t out[PQ_REHS_MAX_MSG_LEN];
	size_t n = 0;
	int ret;

	if (starts && (ret = rehs_init(dc, rehs_keypair(p, msg, len)))) {
		if (dc->transport == PQ_PATH_UDP)
			rehs_refused(dc, ret, "no keys for it", now_ms);
		else
			rehs_not_started(dc, ret, now_ms);
		return;
	}
	if (!dc->rehs_live) {
		if (dc->transport == PQ_PATH_TLS)
			p->path.rehs_count.unexpected++;
		rehs_refused(dc, PQ_E_STATE, "unexpected message", now_ms);
		return;
	}
	ret = pq_rehs_receive(&dc->rehs, &p->path.cache, msg, len, pq_wall_ms(), out, sizeof(out), &n);
	if (ret == 0 && n > 0)
		ret = rehs_send(dc, out, n, now_ms);
	if (ret) {
		rehs_refused(dc, ret, pq_rehs_reason_name(pq_rehs_fail_reason(&dc->rehs)), now_ms);
		return;
	}
	if (reauth)
		pq_path_exec_simple(p, PQ_PATH_EV_REHS_REQUEST, dc->slot, now_ms);
	if (dc->peer && pq_rehs_state(&dc->rehs) == PQ_REHS_COMPLETED)
		rehs_completed(dc, now_ms);
}

/* A re-handshake datagram from `from` on a UDP attempt. Anyone can send
 * datagrams to our port: one that the run refuses (forged, replayed, for
 * another attempt) is dropped and counted, and the run goes on as before
 * it (state and challenge cache restored); the path core's deadline ends
 * an attempt that never completes. */
void pq_dconn_udp_rehs(struct pq_dconn *dc, const struct pq_sockaddr *from, const uint8_t *msg, size_t len,
		       uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;
	struct pq_rehs saved_run;
	struct pq_challenge_cache saved_cache;
	struct pq_rehs_counters saved_count = p->path.rehs_count;
	struct pq_sockaddr saved_addr = dc->addr;
	bool was_live = dc->rehs_live;
	uint32_t saved_index = dc->rehs_index;  /* rehs_init sets both */
	uint64_t saved_start_us = dc->rehs_start_us;

	memcpy(&saved_run, &dc->rehs, sizeof(saved_run));
	memcpy(&saved_cache, &p->path.cache, sizeof(saved_cache));
	dc->addr = *from; /* where the answer goes */
	dc->udp_refused = false;
	rehs_message(dc, msg, len, now_ms);
	if (dc->peer && dc->udp_refused) {
		memcpy(&dc->rehs, &saved_run, sizeof(saved_run));
		memcpy(&p->path.cache, &saved_cache, sizeof(saved_cache));
		p->path.rehs_count = saved_count;
		dc->rehs_live = was_live;
		dc->rehs_index = saved_index;
		dc->rehs_start_us = saved_start_us;
		dc->addr = saved_addr;
		p->path.udp_refused++;
	} else if (dc->peer && (msg[0] == PQ_MSG_REHS_REQUEST || msg[0] == PQ_MSG_REHS_COMPLETE) &&
		   len <= sizeof(dc->last_in)) {
		/* A REQUEST answered: a repeat gets the same answer. A COMPLETE
		 * that completed the run: its copies (the peer sends three)
		 * are let go uncounted (udp_path.c). */
		memcpy(dc->last_in, msg, len);
		dc->last_in_len = len;
		dc->complete_ms = now_ms;
		dc->complete_copies = 0;
	}
	pq_wipe(&saved_run, sizeof(saved_run));
}

void pq_dconn_message(struct pq_dconn *dc, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;
	uint8_t type;

	if (!p || len == 0)
		return;
	type = msg[0];
	if (type >= PQ_MSG_REHS_REQUEST && type <= PQ_MSG_REHS_COMPLETE) {
		rehs_message(dc, msg, len, now_ms);
		return;
	}
	/* Nothing but the re-handshake before it completes (§5.5). */
	if (!pq_dconn_usable(dc)) {
		pq_datapath_drop(p);
		return;
	}
	/* A handshake: a rekey while the relay is away (PROTOCOL §4.6). It
	 * says the conn is alive only once it checked out (a TLS conn is
	 * pinned to the peer, but its bytes are not sealed). */
	if (type >= PQ_MSG_HS_INIT && type <= PQ_MSG_HS_FINISH) {
		if (pq_peer_handshake_msg(p, msg, len, dc->slot, now_ms))
			pq_path_rx(&p->path.core, dc->slot, now_ms);
		return;
	}
	if (!pq_sealed_type_ok(type)) {
		pq_datapath_drop(p);
		return;
	}
	(void)pq_datapath_sealed(p, msg, len, dc->slot, now_ms);
}

int pq_dconn_send(struct pq_dconn *dc, const uint8_t *msg, size_t len)
{
	if (dc->transport == PQ_PATH_UDP)
		return dc->peer ? pq_udp_path_send(dc->peer->node, &dc->addr, msg, len) : PQ_E_STATE;
	return pq_conn_send(dc->conn, msg, len);
}

void pq_dconn_close(struct pq_dconn *dc)
{
	/* A UDP conn is only state: gone at once. A TLS conn goes when its
	 * transport says so (tls_path.c's on_close frees it). */
	if (dc->transport == PQ_PATH_UDP && dc->node)
		pq_dconn_free(dc->node, dc);
	else if (dc->conn)
		pq_conn_close(dc->conn, PQ_WS_CLOSE_NORMAL);
}

void pq_dconn_free(struct pq_node *node, struct pq_dconn *dc)
{
	pq_dconn_detach(dc);
	if (node->loop)
		pq_loop_timer_cancel(node->loop, &dc->resend);
	pq_udp_pmtu_stop(node, dc);
	for (struct pq_dconn **pp = &node->dconns; *pp; pp = &(*pp)->next_all)
		if (*pp == dc) {
			*pp = dc->next_all;
			break;
		}
	free(dc);
}

void pq_dconn_free_all(struct pq_node *node)
{
	while (node->dconns) {
		struct pq_dconn *dc = node->dconns;

		node->dconns = dc->next_all;
		if (node->loop)
			pq_loop_timer_cancel(node->loop, &dc->resend);
		pq_udp_pmtu_stop(node, dc);
		if (dc->conn)
			pq_conn_abort(dc->conn);
		if (dc->rehs_live)
			pq_rehs_clear(&dc->rehs);
		free(dc);
	}
}
