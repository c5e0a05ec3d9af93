/*
 * direct.c - direct conns to peers: the pinned listener, the re-handshake
 * on each new conn, migration to a conn whose run COMPLETED, and fallback
 * to the relay when it goes away (DESIGN §5, docs/PROTOCOL.md §5; the
 * overview is in direct.h). Candidates, dialling and liveness probes are
 * in direct_dial.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"
#include "node/daemon.h"
#include "node/direct.h"
#include "node/direct_int.h"
#include "node/harden.h"
#include "node/metrics.h"
#include "util/clock.h"
#include "util/log.h"

bool pq_direct_active(const struct pq_node_peer *p)
{
	return p->direct.active != NULL;
}

/* The listener's allow callback: a [peer] that may use the direct path. */
static int direct_allow(void *arg, const uint8_t pub[PQ_TLS_KEY_LEN])
{
	struct pq_node_peer *p = pq_peer_find(arg, pub);

	return p && p->cfg->path != PQ_PATH_RELAY;
}

static void peer_conns_remove(struct pq_node_peer *p, struct pq_dconn *dc)
{
	for (size_t i = 0; i < PQ_DIRECT_MAX_CONNS; i++)
		if (p->direct.conns[i] == dc)
			p->direct.conns[i] = NULL;
}

static void node_list_remove(struct pq_node *node, struct pq_dconn *dc)
{
	for (struct pq_dconn **pp = &node->dconns; *pp; pp = &(*pp)->next_all)
		if (*pp == dc) {
			*pp = dc->next_all;
			return;
		}
}

/* Take dc off p: no more frames go or are taken there; it is closed
 * unless its on_close is what brought us here. */
void pq_dconn_detach(struct pq_dconn *dc, const char *why, bool close_it, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;

	if (dc->dead)
		return;
	dc->dead = true;
	if (dc->rehs_live)
		pq_rehs_clear(&dc->rehs);
	dc->rehs_live = false;
	peer_conns_remove(p, dc);
	if (p->direct.active == dc) {
		p->direct.active = NULL;
		p->direct.fallbacks++;
		/* The peer may have had nothing to send and so not noticed:
		 * a keepalive through the relay makes it probe its side now
		 * (pq_direct_relay_heard). Sent from the next tick, not here:
		 * we may be inside pq_peer_send_sealed, whose buffer it uses. */
		p->direct.nudge_peer = true;
		pq_log(PQ_LOG_INFO, "peer %s: path direct -> relay (%s)", pq_peer_label(p), why);
		pq_direct_schedule_retry(p, now_ms);
	} else {
		pq_log(PQ_LOG_DEBUG, "peer %s: direct conn dropped (%s)", pq_peer_label(p), why);
	}
	if (close_it)
		pq_conn_close(dc->conn, 1000);
}

/* A completed run: dc becomes p's path (migration, DESIGN §5). */
static void dconn_usable(struct pq_dconn *dc, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;
	struct pq_dconn *old = p->direct.active;
	char text[PQ_SOCKADDR_TEXT];

	dc->rehs_done_ms = now_ms;
	p->direct.last_rehs_ms = now_ms ? now_ms : 1;
	p->direct.last_rehs_us = pq_mono_us() - dc->rehs_start_us;
	pq_metrics_observe_rehandshake(p->node, p->direct.last_rehs_us);
	if (dc->usable) {
		pq_log(PQ_LOG_DEBUG, "peer %s: direct path re-authenticated", pq_peer_label(p));
		return;
	}
	dc->usable = true;
	dc->last_rx_ms = now_ms;
	p->direct.active = dc;
	pq_sockaddr_format(&dc->addr, text, sizeof(text));
	if (old && old != dc) {
		/* The newer conn replaces the older: no fallback in between. */
		peer_conns_remove(p, old);
		old->dead = true;
		if (old->rehs_live)
			pq_rehs_clear(&old->rehs);
		old->rehs_live = false;
		pq_conn_close(old->conn, 1000);
	} else if (!old) {
		p->direct.migrations++;
		pq_log(PQ_LOG_INFO, "peer %s: path relay -> direct %s (re-handshake %llu us, %llu ms after the keys)",
		       pq_peer_label(p), text, (unsigned long long)p->direct.last_rehs_us,
		       (unsigned long long)(now_ms - p->handshake_ms));
	}
	p->direct.next_dial_ms = 0;
}

/* The keypair a run uses: the current one; for a responder, the
 * unconfirmed next one when the REQUEST names its session id (a REQUEST
 * after a rekey may overtake HS_FINISH, which takes the relay). */
static const struct pq_keypair *rehs_keypair(const struct pq_node_peer *p, const uint8_t *req, size_t len)
{
	const struct pq_keypair *kp = p->session.current, *nx = p->session.next;

	if (req && len >= 1 + PQ_SESSION_ID_LEN && nx && nx->live &&
	    (!kp || !kp->live || memcmp(kp->session_id, req + 1, PQ_SESSION_ID_LEN) != 0) &&
	    memcmp(nx->session_id, req + 1, PQ_SESSION_ID_LEN) == 0)
		return nx; /* session ids are public: memcmp is fine */
	return kp && kp->live ? kp : NULL;
}

/* Set up dc's re-handshake run with keypair kp. */
static int dconn_rehs_init(struct pq_dconn *dc, const struct pq_keypair *kp, uint64_t wall_ms)
{
	const uint8_t *binding = pq_conn_exporter(dc->conn);
	struct pq_rehs_config cfg = {
		.role = dc->dialled ? PQ_REHS_INITIATOR : PQ_REHS_RESPONDER,
		.counters = &dc->peer->direct.rehs_count,
	};
	int ret;

	if (!kp || !binding)
		return PQ_E_STATE;
	cfg.hs_initiator = kp->initiator;
	cfg.session_id = kp->session_id;
	cfg.send_key = kp->rehs_send;
	cfg.recv_key = kp->rehs_recv;
	cfg.binding = binding;
	if ((ret = pq_rehs_init(&dc->rehs, &cfg, wall_ms)))
		return ret;
	dc->rehs_live = true;
	dc->rehs_index = kp->local_index;
	dc->rehs_start_us = pq_mono_us();
	return 0;
}

/* Start a run on dc (a new conn, or re-authentication): the dialer
 * initiates and sends REQUEST; the other side waits for it. */
static int dconn_rehs_begin(struct pq_dconn *dc)
{
	uint8_t out[PQ_REHS_MAX_MSG_LEN];
	uint64_t wall = pq_wall_ms();
	size_t n = 0;
	int ret;

	if (!dc->dialled && dc->usable)
		return 0; /* re-authentication: the peer's REQUEST starts our run */
	if ((ret = dconn_rehs_init(dc, rehs_keypair(dc->peer, NULL, 0), wall)))
		return ret;
	if (!dc->dialled)
		return 0;
	ret = pq_rehs_start(&dc->rehs, &dc->peer->direct.cache, wall, out, sizeof(out), &n);
	if (ret == 0)
		ret = pq_conn_send(dc->conn, out, n);
	return ret;
}

void pq_dconn_reauth(struct pq_dconn *dc, uint64_t now_ms)
{
	if (dc->dead || dc->rehs_live || !dc->dialled || !dc->usable)
		return;
	pq_log(PQ_LOG_DEBUG, "peer %s: re-authenticating the direct path", pq_peer_label(dc->peer));
	if (dconn_rehs_begin(dc)) {
		dc->peer->direct.rehs_not_started++;
		pq_dconn_detach(dc, "re-authentication not started", true, now_ms);
	}
}

/* Two open conns to one peer: which one goes (DESIGN §2). */
static struct pq_dconn *crossing_loser(struct pq_dconn *a, struct pq_dconn *b)
{
	bool we_lower = memcmp(a->peer->node->pub, a->peer->key, PQ_PUBKEY_LEN) < 0;

	if (a->dialled == b->dialled)
		return NULL; /* the same side dialled twice: the newer replaces on completion */
	/* The conn dialled by the lower key wins. */
	return a->dialled == we_lower ? b : a;
}

/* Returns false when dc itself lost and was closed. */
static bool resolve_crossing(struct pq_dconn *dc, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;

	for (size_t i = 0; i < PQ_DIRECT_MAX_CONNS; i++) {
		struct pq_dconn *o = p->direct.conns[i];
		struct pq_dconn *loser;

		if (!o || o == dc || !o->open)
			continue;
		loser = crossing_loser(dc, o);
		if (!loser)
			continue;
		pq_dconn_detach(loser, "crossing dials: the lower key's wins", true, now_ms);
		if (loser == dc)
			return false;
	}
	return true;
}

static void direct_on_open(void *ctx, struct pq_conn *c)
{
	struct pq_node *node = ctx;
	struct pq_dconn *dc = pq_conn_data(c);
	uint64_t now_ms = pq_loop_now(node->loop);
	int ret;

	if (!dc) {
		/* A server conn: its pinned key is one of our peers (allow). */
		if ((ret = pq_dconn_new(node, c, pq_peer_find(node, pq_conn_peer_key(c)), false, &dc))) {
			pq_log(PQ_LOG_DEBUG, "direct: incoming conn refused: %s", pq_strerror(ret));
			pq_conn_close(c, 1008);
			return;
		}
	}
	if (dc->dead)
		return;
	dc->open = true;
	dc->addr = *pq_conn_peer_addr(c);
	dc->last_rx_ms = now_ms;
	if (!resolve_crossing(dc, now_ms))
		return;
	if ((ret = dconn_rehs_begin(dc))) {
		dc->peer->direct.rehs_not_started++;
		pq_dconn_detach(dc, "re-handshake not started", true, now_ms);
		return;
	}
	pq_direct_arm(dc->peer, now_ms);
}

/* A re-handshake message (0x30-0x32) on dc. */
static void dconn_rehs_msg(struct pq_dconn *dc, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	uint8_t out[PQ_REHS_MAX_MSG_LEN];
	size_t n = 0;
	int ret;

	/* A REQUEST on a usable conn we did not dial: the peer
	 * re-authenticates (after a rekey, or on schedule). */
	if (!dc->rehs_live && dc->usable && !dc->dialled && msg[0] == PQ_MSG_REHS_REQUEST &&
	    dconn_rehs_init(dc, rehs_keypair(dc->peer, msg, len), pq_wall_ms()) != 0)
		dc->peer->direct.rehs_not_started++;
	if (!dc->rehs_live) {
		pq_dconn_detach(dc, "unexpected re-handshake message", true, now_ms);
		return;
	}
	ret = pq_rehs_receive(&dc->rehs, &dc->peer->direct.cache, msg, len, pq_wall_ms(), out,
			      sizeof(out), &n);
	if (ret == 0 && n > 0)
		ret = pq_conn_send(dc->conn, out, n);
	if (ret) {
		pq_log(PQ_LOG_WARN, "peer %s: re-handshake failed: %s (%s)", pq_peer_label(dc->peer),
		       pq_strerror(ret), pq_rehs_reason_name(pq_rehs_fail_reason(&dc->rehs)));
		pq_dconn_detach(dc, "re-handshake failed", true, now_ms);
		return;
	}
	if (pq_rehs_state(&dc->rehs) == PQ_REHS_COMPLETED) {
		pq_rehs_clear(&dc->rehs);
		dc->rehs_live = false;
		dconn_usable(dc, now_ms);
	}
}

static void direct_on_message(void *ctx, struct pq_conn *c, const uint8_t *msg, size_t len)
{
	struct pq_node *node = ctx;
	struct pq_dconn *dc = pq_conn_data(c);
	uint64_t now_ms = pq_loop_now(node->loop);
	uint8_t type;

	if (!dc || dc->dead || len == 0)
		return;
	type = msg[0];
	if (type >= PQ_MSG_REHS_REQUEST && type <= PQ_MSG_REHS_COMPLETE) {
		dconn_rehs_msg(dc, msg, len, now_ms);
		return;
	}
	/* A handshake (a rekey while the relay is away): only on a conn
	 * whose re-handshake proved it. */
	if (dc->usable && type >= PQ_MSG_HS_INIT && type <= PQ_MSG_HS_FINISH) {
		dc->last_rx_ms = now_ms;
		pq_peer_handshake_msg(dc->peer, msg, len, true, now_ms);
		return;
	}
	if (!dc->usable || !pq_sealed_type_ok(type)) {
		/* Nothing but the re-handshake before it completes (§5.5). */
		dc->peer->count.dropped_frames++;
		return;
	}
	if (pq_datapath_sealed(dc->peer, msg, len, now_ms, dc) >= 0) {
		dc->last_rx_ms = now_ms;
		dc->unanswered_ms = 0;
		dc->probe_ms = 0;
	}
}

static void direct_on_close(void *ctx, struct pq_conn *c, const struct pq_conn_reason *why)
{
	struct pq_node *node = ctx;
	struct pq_dconn *dc = pq_conn_data(c);
	uint64_t now_ms = pq_loop_now(node->loop);

	if (!dc)
		return;
	if (!dc->dead) {
		struct pq_node_peer *p = dc->peer;

		/* A dial that never opened: try the next candidate. */
		if (dc->dialled && !dc->open) {
			char text[PQ_SOCKADDR_TEXT];

			pq_sockaddr_format(&dc->addr, text, sizeof(text));
			pq_log(PQ_LOG_INFO, "peer %s: direct dial to %s failed: %s%s", pq_peer_label(p), text,
			       why->end == PQ_CONN_END_TLS ? "TLS failed" : "no connection",
			       why->err == PQ_E_AUTH ? " (not the peer's key)" : "");
			pq_direct_dial_failed(p, now_ms);
		}
		pq_dconn_detach(dc, why->end == PQ_CONN_END_LOCAL ? "closed" : "connection lost", false, now_ms);
	}
	node_list_remove(node, dc);
	if (dc->rehs_live)
		pq_rehs_clear(&dc->rehs);
	free(dc);
}

const struct pq_conn_cbs pq_direct_cbs = {
	.on_open = direct_on_open,
	.on_message = direct_on_message,
	.on_close = direct_on_close,
};

int pq_dconn_new(struct pq_node *node, struct pq_conn *c, struct pq_node_peer *p, bool dialled,
		 struct pq_dconn **out)
{
	struct pq_dconn *dc;
	size_t slot = PQ_DIRECT_MAX_CONNS;

	if (!p || p->cfg->path == PQ_PATH_RELAY || !pq_session_can_send(&p->session, pq_loop_now(node->loop)))
		return PQ_E_STATE;
	for (size_t i = 0; i < PQ_DIRECT_MAX_CONNS; i++)
		if (!p->direct.conns[i]) {
			slot = i;
			break;
		}
	if (slot == PQ_DIRECT_MAX_CONNS)
		return PQ_E_LIMIT;
	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return PQ_E_NOMEM;
	dc->peer = p;
	dc->conn = c;
	dc->dialled = dialled;
	dc->next_all = node->dconns;
	node->dconns = dc;
	p->direct.conns[slot] = dc;
	pq_conn_set_data(c, dc);
	*out = dc;
	return 0;
}

void pq_direct_reset(struct pq_node_peer *p, uint64_t now_ms)
{
	for (size_t i = 0; i < PQ_DIRECT_MAX_CONNS; i++)
		if (p->direct.conns[i])
			pq_dconn_detach(p->direct.conns[i], "session ended", true, now_ms);
	p->direct.endpoints_sent = false;
	p->direct.next_dial_ms = 0;
}

/* The listen address from node.conf. */
static void listen_addr(const struct pq_node *node, struct pq_sockaddr *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, &node->cfg.listen.ss, sizeof(a->ss));
	a->len = node->cfg.listen.len;
}

int pq_direct_start(struct pq_node *node, const uint8_t priv[32], char *err, size_t err_len)
{
	struct pq_sockaddr a;
	int ret;

	for (size_t i = 0; i < node->peer_count; i++) {
		pq_timer_init(&node->peers[i].direct.timer, NULL, &node->peers[i]);
		pq_challenge_cache_init(&node->peers[i].direct.cache);
	}
	listen_addr(node, &a);
	if (pq_sockaddr_port(&a) == 0)
		return 0;
	if ((ret = pq_tls_ctx_new(&node->tls_server, PQ_TLS_SERVER, priv)) ||
	    (ret = pq_tls_ctx_require_client(node->tls_server, direct_allow, node)))
		snprintf(err, err_len, "direct-path TLS setup failed: %s", pq_strerror(ret));
	return ret;
}

int pq_direct_listen(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_sockaddr a;
	struct pq_conn_opts lopts;
	char text[PQ_SOCKADDR_TEXT];
	int ret;

	listen_addr(node, &a);
	pq_node_listen_opts(node, &lopts); /* issue 11: pending caps per source and in all */
	if (!node->tls_server) {
		pq_log(PQ_LOG_INFO, "direct: listen port 0, no listener (peers may still be dialled)");
		return 0;
	}
	pq_sockaddr_format(&a, text, sizeof(text));
	if ((ret = pq_listener_new(&node->listener, node->loop, node->tls_server, &a, &lopts, &pq_direct_cbs,
				   node))) {
		snprintf(err, err_len, "cannot listen on %s: %s", text, pq_strerror(ret));
		return ret;
	}
	node->listen_addr = *pq_listener_addr(node->listener);
	pq_log(PQ_LOG_INFO, "direct: listening on %s", text);
	return 0;
}

void pq_direct_stop(struct pq_node *node)
{
	pq_listener_free(node->listener);
	node->listener = NULL;
}

void pq_direct_free(struct pq_node *node)
{
	pq_direct_stop(node);
	while (node->dconns) {
		struct pq_dconn *dc = node->dconns;

		node->dconns = dc->next_all;
		pq_conn_abort(dc->conn);
		if (dc->rehs_live)
			pq_rehs_clear(&dc->rehs);
		free(dc);
	}
	for (size_t i = 0; i < node->peer_count && node->loop; i++)
		pq_loop_timer_cancel(node->loop, &node->peers[i].direct.timer);
	pq_tls_ctx_free(node->tls_server);
	node->tls_server = NULL;
}
