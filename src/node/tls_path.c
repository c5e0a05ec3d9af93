/*
 * tls_path.c - the direct path over TLS 1.3 + WebSocket (DESIGN §2): the
 * pinned listener (mutual TLS: only [peer] keys whose path is not
 * "relay"), dials to a peer's candidates (pinned to its key), and the
 * conn callbacks, which hand each conn to dconn.c and the path core.
 */
#include <stdio.h>
#include <string.h>

#include "net/ws.h"
#include "node/harden.h"
#include "node/node_int.h"
#include "util/log.h"

/* The listener's allow callback: a [peer] that may use the direct path. */
static int direct_allow(void *arg, const uint8_t pub[PQ_TLS_KEY_LEN])
{
	struct pq_node_peer *p = pq_peer_find(arg, pub);

	return p && p->cfg->path != PQ_PATH_RELAY;
}

static void tls_on_open(void *ctx, struct pq_conn *c)
{
	struct pq_node *node = ctx;
	struct pq_dconn *dc = pq_conn_data(c);
	uint64_t now_ms = pq_loop_now(node->loop);
	struct pq_node_peer *p;

	if (dc) {
		/* Our dial. */
		dc->open = true;
		dc->addr = *pq_conn_peer_addr(c);
		if (dc->peer)
			pq_path_exec_simple(dc->peer, PQ_PATH_EV_DIAL_OPENED, dc->slot, now_ms);
		return;
	}
	/* A server conn: its pinned key is one of our peers (allow). */
	p = pq_peer_find(node, pq_conn_peer_key(c));
	if (!p || pq_dconn_new(node, c, PQ_PATH_TLS, false, &dc)) {
		pq_conn_close(c, PQ_WS_CLOSE_POLICY);
		return;
	}
	pq_conn_set_data(c, dc);
	dc->open = true;
	dc->addr = *pq_conn_peer_addr(c);
	if (pq_path_exec_accept(p, dc, now_ms) == -1) {
		pq_log(PQ_LOG_DEBUG, "peer %s: incoming direct conn refused (no keys, path = relay, or "
		       "too many)", pq_peer_label(p));
		pq_conn_close(c, PQ_WS_CLOSE_POLICY);
	}
}

static void tls_on_message(void *ctx, struct pq_conn *c, const uint8_t *msg, size_t len)
{
	struct pq_node *node = ctx;
	struct pq_dconn *dc = pq_conn_data(c);

	if (dc)
		pq_dconn_message(dc, msg, len, pq_loop_now(node->loop));
}

static void tls_on_close(void *ctx, struct pq_conn *c, const struct pq_conn_reason *why)
{
	struct pq_node *node = ctx;
	struct pq_dconn *dc = pq_conn_data(c);
	struct pq_node_peer *p;
	int k;

	if (!dc)
		return;
	p = dc->peer;
	k = dc->slot;
	if (p && dc->dialled && !dc->open) {
		char text[PQ_SOCKADDR_TEXT];

		pq_sockaddr_format(&dc->addr, text, sizeof(text));
		pq_log(PQ_LOG_INFO, "peer %s: direct dial to %s failed: %s%s", pq_peer_label(p), text,
		       why->end == PQ_CONN_END_TLS ? "TLS failed" : "no connection",
		       why->err == PQ_E_AUTH ? " (not the peer's key)" : "");
	}
	pq_dconn_free(node, dc);
	if (p)
		pq_path_exec_simple(p, PQ_PATH_EV_CLOSED, k, pq_loop_now(node->loop));
}

static const struct pq_conn_cbs tls_cbs = {
	.on_open = tls_on_open,
	.on_message = tls_on_message,
	.on_close = tls_on_close,
};

void pq_tls_path_dial(struct pq_node_peer *p, int k, const struct pq_sockaddr *a, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	struct pq_conn_opts opts = { .open_timeout_ms = PQ_NODE_DIAL_TIMEOUT_MS, .size_from_path = true };
	struct pq_conn_target tg;
	struct pq_conn *c = NULL;
	struct pq_dconn *dc;
	char text[PQ_SOCKADDR_TEXT];
	int ret;

	memset(&tg, 0, sizeof(tg));
	tg.addr = *a;
	tg.pin = p->key;
	pq_sockaddr_format(a, text, sizeof(text));
	ret = pq_conn_connect(&c, node->loop, node->tls, &tg, &opts, &tls_cbs, node);
	if (ret == 0 && (ret = pq_dconn_new(node, c, PQ_PATH_TLS, true, &dc)))
		pq_conn_abort(c);
	if (ret) {
		pq_log(PQ_LOG_DEBUG, "peer %s: cannot dial %s: %s", pq_peer_label(p), text, pq_strerror(ret));
		pq_path_exec_simple(p, PQ_PATH_EV_CLOSED, k, now_ms);
		return;
	}
	pq_conn_set_data(c, dc);
	dc->addr = *a;
	pq_dconn_attach(dc, p, k);
	pq_log(PQ_LOG_DEBUG, "peer %s: dialling %s", pq_peer_label(p), text);
}

/* The listen address from node.conf. */
static void listen_addr(const struct pq_node *node, struct pq_sockaddr *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, &node->cfg.listen.ss, sizeof(a->ss));
	a->len = node->cfg.listen.len;
}

int pq_tls_path_start(struct pq_node *node, const uint8_t priv[32], char *err, size_t err_len)
{
	struct pq_sockaddr a;
	int ret;

	listen_addr(node, &a);
	if (pq_sockaddr_port(&a) == 0)
		return 0;
	if ((ret = pq_tls_ctx_new(&node->tlsp.server, PQ_TLS_SERVER, priv)) ||
	    (ret = pq_tls_ctx_require_client(node->tlsp.server, direct_allow, node)))
		snprintf(err, err_len, "direct-path TLS setup failed: %s", pq_strerror(ret));
	return ret;
}

int pq_tls_path_listen(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_sockaddr a;
	struct pq_conn_opts lopts;
	char text[PQ_SOCKADDR_TEXT];
	int ret;

	listen_addr(node, &a);
	pq_node_listen_opts(node, &lopts); /* issue 11: pending caps per source and in all */
	if (!node->tlsp.server) {
		pq_log(PQ_LOG_INFO, "direct: listen port 0, no listener (peers may still be dialled)");
		return 0;
	}
	pq_sockaddr_format(&a, text, sizeof(text));
	if ((ret = pq_listener_new(&node->tlsp.listener, node->loop, node->tlsp.server, &a, &lopts, &tls_cbs,
				   node))) {
		snprintf(err, err_len, "cannot listen on %s: %s", text, pq_strerror(ret));
		return ret;
	}
	node->tlsp.listen_addr = *pq_listener_addr(node->tlsp.listener);
	pq_log(PQ_LOG_INFO, "direct: listening on %s", text);
	return 0;
}

void pq_tls_path_stop(struct pq_node *node)
{
	pq_listener_free(node->tlsp.listener);
	node->tlsp.listener = NULL;
}

void pq_tls_path_free(struct pq_node *node)
{
	pq_tls_path_stop(node);
	pq_tls_ctx_free(node->tlsp.server);
	node->tlsp.server = NULL;
}
