/*
 * relay.c - life of the relay and of its conns (relay.h): listener,
 * TLS context, the per-conn state, closing, shutdown. Authentication is in
 * relay_auth.c, watch lists and announcements in relay_watch.c, forwarding
 * in relay_fwd.c.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/ws.h"
#include "relay/relay_internal.h"
#include "util/log.h"

struct relay_node *relay_node_of_key(const struct pq_relay *r, const uint8_t key[PQ_PUBKEY_LEN])
{
	struct relay_table_entry *e = relay_table_find(&r->table, key);

	return e ? (struct relay_node *)((char *)e - offsetof(struct relay_node, entry)) : NULL;
}

bool pq_relay_budget_refuses(size_t queued, size_t max_queued, size_t dst_queued, size_t len)
{
	return queued + len > max_queued && dst_queued >= PQ_RELAY_LONE_QUEUE;
}

int relay_send(struct relay_node *n, const uint8_t *msg, size_t len)
{
	bool frame = len && msg[0] == PQ_MSG_RELAY_RECV;
	int rc;

	/* Every message, signalling too: a full queue drops those already
	 * (PROTOCOL §3.4), and a hoarder's own UNREACHABLE answers must not
	 * be a way around the budget. */
	if (pq_relay_budget_refuses(n->relay->queued, n->relay->opts.max_queued, pq_conn_queued(n->conn), len)) {
		n->relay->stats.budget_dropped++;
		n->relay->stats.dropped++;
		return PQ_E_AGAIN;
	}
	/* Only forwarded frames may pass the queue (net/conn.h "Latency"):
	 * PEER_OFFLINE must not arrive before that peer's last frames, nor
	 * any announcement before what it follows. */
	rc = frame ? pq_conn_send(n->conn, msg, len) : pq_conn_send_in_order(n->conn, msg, len);

	/* PROTOCOL §3.4: a slow reader loses messages, never our memory. */
	if (rc == PQ_E_AGAIN)
		n->relay->stats.dropped++;
	return rc;
}

void relay_close_node(struct relay_node *n, uint16_t reason, uint16_t ws_code)
{
	struct pq_close m = { reason };
	uint8_t buf[PQ_CLOSE_MSG_LEN];
	size_t len;

	if (n->closing)
		return;
	n->closing = true;
	pq_loop_timer_cancel(n->relay->loop, &n->auth_timer);
	if (pq_close_encode(buf, sizeof(buf), &len, &m) == 0)
		(void)relay_send(n, buf, len); /* best effort: the close frame follows */
	pq_conn_close(n->conn, ws_code);
}

void relay_protocol_error(struct relay_node *n, const char *what)
{
	n->relay->stats.protocol_errors++;
	pq_log(PQ_LOG_WARN, "relay: %s %s from %s: %s, closing it", n->authed ? "node" : "conn",
	       n->authed ? n->key_text : "(unauthenticated)", n->addr_text, what);
	relay_close_node(n, PQ_CLOSE_PROTOCOL, PQ_WS_CLOSE_PROTOCOL);
}

static void node_link(struct pq_relay *r, struct relay_node *n)
{
	n->next = r->nodes;
	if (r->nodes)
		r->nodes->prev = n;
	r->nodes = n;
	r->node_count++;
}

static void node_unlink(struct pq_relay *r, struct relay_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		r->nodes = n->next;
	if (n->next)
		n->next->prev = n->prev;
	r->node_count--;
}

/* Count the open unauthenticated conns (from from's source if from is not
 * NULL) and find the oldest: the list is newest first, so the last match. */
static size_t count_unauth(const struct pq_relay *r, const struct relay_node *from,
			   struct relay_node **oldest)
{
	const struct pq_sockaddr *src = from ? pq_conn_peer_addr(from->conn) : NULL;
	size_t count = 0;

	*oldest = NULL;
	for (struct relay_node *n = r->nodes; n; n = n->next) {
		if (n->authed || n->closing)
			continue;
		if (src && !pq_sockaddr_same_source(pq_conn_peer_addr(n->conn), src))
			continue;
		count++;
		*oldest = n;
	}
	return count;
}

/* After n opened: past its source's cap, close that source's oldest
 * unauthenticated conn; then past the global cap, the oldest of all. The
 * per-source pass comes first so that one host's flood evicts its own. */
static void evict_oldest_unauth(struct pq_relay *r, struct relay_node *n)
{
	size_t per_ip = r->opts.max_unauth_per_ip ? r->opts.max_unauth_per_ip : PQ_RELAY_MAX_UNAUTH_PER_IP;
	size_t limit = r->opts.max_unauth ? r->opts.max_unauth : PQ_RELAY_MAX_UNAUTH;
	struct relay_node *oldest;
	size_t count;

	count = count_unauth(r, n, &oldest);
	if (count > per_ip && oldest) {
		r->stats.unauth_evicted++;
		r->stats.unauth_ip_evicted++;
		pq_log(PQ_LOG_WARN, "relay: %zu connections from the source of %s not "
		       "authenticated, closing its oldest (%s)", count, n->addr_text, oldest->addr_text);
		relay_close_node(oldest, PQ_CLOSE_AUTH_FAILED, RELAY_WS_CLOSE_POLICY);
	}
	count = count_unauth(r, NULL, &oldest);
	if (count <= limit || !oldest)
		return;
	r->stats.unauth_evicted++;
	pq_log(PQ_LOG_WARN, "relay: %zu connections not authenticated, closing the oldest (%s)",
	       count, oldest->addr_text);
	relay_close_node(oldest, PQ_CLOSE_AUTH_FAILED, RELAY_WS_CLOSE_POLICY);
}

size_t relay_nodes_from_source(const struct pq_relay *r, const struct relay_node *n,
			       const struct relay_node *except)
{
	const struct pq_sockaddr *src = pq_conn_peer_addr(n->conn);
	size_t count = 0;

	for (const struct relay_node *o = r->nodes; o; o = o->next)
		if (o != n && o != except && o->authed && !o->closing &&
		    pq_sockaddr_same_source(pq_conn_peer_addr(o->conn), src))
			count++;
	return count;
}

void relay_node_paired(struct relay_node *n)
{
	size_t q = n->relay->opts.max_queue ? n->relay->opts.max_queue : PQ_CONN_MAX_QUEUE;

	if (n->paired || n->closing)
		return;
	n->paired = true;
	if (pq_conn_set_max_queue(n->conn, q) || pq_conn_set_sndbuf(n->conn, PQ_RELAY_PAIRED_SNDBUF))
		pq_log(PQ_LOG_DEBUG, "relay: cannot enlarge the buffers of %s", n->key_text);
}

static void on_open(void *ctx, struct pq_conn *c)
{
	struct pq_relay *r = ctx;
	struct relay_node *n;

	if (r->shutting_down) {
		pq_conn_close(c, PQ_WS_CLOSE_GOING_AWAY);
		return;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pq_log(PQ_LOG_ERROR, "relay: out of memory for a new conn, closing it");
		pq_conn_close(c, PQ_WS_CLOSE_INTERNAL);
		return;
	}
	n->relay = r;
	n->conn = c;
	pq_sockaddr_format(pq_conn_peer_addr(c), n->addr_text, sizeof(n->addr_text));
	pq_conn_set_data(c, n);
	node_link(r, n);
	/* Small until it has a mutual peer (relay.h); not fatal if refused. */
	if (pq_conn_set_sndbuf(c, PQ_RELAY_LONE_SNDBUF))
		pq_log(PQ_LOG_DEBUG, "relay: SO_SNDBUF refused for %s", n->addr_text);
	evict_oldest_unauth(r, n);
	if (relay_auth_start(n)) {
		pq_log(PQ_LOG_ERROR, "relay: cannot start authenticating %s, closing it",
		       n->addr_text);
		n->closing = true;
		pq_conn_close(c, PQ_WS_CLOSE_INTERNAL);
	}
}

static void on_message(void *ctx, struct pq_conn *c, const uint8_t *msg, size_t len)
{
	struct relay_node *n = pq_conn_data(c);
	struct pq_close cl;

	if (!n || n->closing)
		return;
	if (!n->authed) {
		relay_auth_message(n, msg, len);
		return;
	}
	/* PROTOCOL §1: the type byte and the size are checked before anything
	 * else - by the decoders, each of which checks both. An empty
	 * WebSocket message is legal in RFC 6455 but not a pqlan message. */
	if (len == 0) {
		relay_protocol_error(n, "empty message");
		return;
	}
	switch (msg[0]) {
	case PQ_MSG_RELAY_SEND:
		relay_forward(n, msg, len);
		return;
	case PQ_MSG_RELAY_WATCH:
		relay_watch_message(n, msg, len);
		return;
	case PQ_MSG_CLOSE:
		if (pq_close_decode(&cl, msg, len)) {
			relay_protocol_error(n, "malformed CLOSE");
			return;
		}
		pq_log(PQ_LOG_INFO, "relay: node %s closes (%s)", n->key_text,
		       pq_close_reason_name(cl.reason));
		n->closing = true;
		pq_conn_close(c, PQ_WS_CLOSE_NORMAL);
		return;
	default:
		relay_protocol_error(n, "unexpected message type");
	}
}

static void on_close(void *ctx, struct pq_conn *c, const struct pq_conn_reason *why)
{
	struct pq_relay *r = ctx;
	struct relay_node *n = pq_conn_data(c);

	if (!n)
		return;
	pq_loop_timer_cancel(r->loop, &n->auth_timer);
	relay_mangle_forget(r, n);
	if (n->authed && relay_node_of_key(r, n->entry.key) == n) {
		relay_table_remove(&r->table, &n->entry);
		r->stats.nodes--;
		pq_log(PQ_LOG_INFO, "relay: node %s at %s offline (ws close %u)", n->key_text,
		       n->addr_text, why->ws_code);
		if (!r->shutting_down)
			relay_announce_offline(n);
		relay_fed_left(n); /* its record in the cluster's view */
	}
	node_unlink(r, n);
	relay_watch_free(n);
	free(n);
}

static const struct pq_conn_cbs relay_cbs = { on_open, on_message, on_close };

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PQ_PUBKEY_LEN);
}

static int copy_allow(struct pq_relay *r, const uint8_t (*allow)[32], size_t count)
{
	if (!count)
		return 0;
	r->allow = malloc(count * sizeof(*r->allow));
	if (!r->allow)
		return PQ_E_NOMEM;
	memcpy(r->allow, allow, count * sizeof(*r->allow));
	r->allow_count = count;
	/* Sorted once, searched with bsearch per authentication. */
	qsort(r->allow, count, sizeof(*r->allow), key_cmp);
	return 0;
}

void pq_relay_set_limits(struct pq_relay *r, size_t max_nodes, size_t max_nodes_per_source,
			 size_t max_queued)
{
	r->opts.max_nodes = max_nodes ? max_nodes : PQ_RELAY_MAX_NODES;
	r->opts.max_nodes_per_source = max_nodes_per_source ? max_nodes_per_source
							    : PQ_RELAY_MAX_NODES_PER_SOURCE;
	r->opts.max_queued = max_queued ? max_queued : PQ_RELAY_MAX_QUEUED;
}

static void set_opts(struct pq_relay *r, const struct pq_relay_opts *opts)
{
	if (opts)
		r->opts = *opts;
	if (!r->opts.auth_timeout_ms)
		r->opts.auth_timeout_ms = PQ_RELAY_AUTH_TIMEOUT_MS;
	pq_relay_set_limits(r, r->opts.max_nodes, r->opts.max_nodes_per_source, r->opts.max_queued);
	if (!r->opts.ping_interval_ms)
		r->opts.ping_interval_ms = PQ_RELAY_PING_MS;
	if (!r->opts.ping_timeout_ms)
		r->opts.ping_timeout_ms = PQ_RELAY_PING_MS;
}

/* What every conn starts with: a stranger may send RELAY_AUTH only, and
 * gets a small queue until it has a mutual peer (relay.h). */
static void conn_opts(struct pq_relay *r, struct pq_conn_opts *c)
{
	size_t q = r->opts.max_queue ? r->opts.max_queue : PQ_CONN_MAX_QUEUE;

	memset(c, 0, sizeof(*c));
	c->open_timeout_ms = r->opts.open_timeout_ms;
	c->max_queue = q < PQ_RELAY_LONE_QUEUE ? q : PQ_RELAY_LONE_QUEUE;
	c->max_msg = PQ_RELAY_AUTH_MSG_LEN;
	c->ping_interval_ms = r->opts.ping_interval_ms;
	c->ping_timeout_ms = r->opts.ping_timeout_ms;
	c->user_timeout_ms = PQ_RELAY_USER_TIMEOUT_MS;
	c->size_from_path = true; /* net/conn.h "Latency" */
	c->queued_total = &r->queued; /* relay.h "Memory in all" */
}

int pq_relay_new(struct pq_relay **out, struct pq_loop *loop, const uint8_t priv[32],
		 const struct pq_sockaddr *listen, const uint8_t (*allow)[32], size_t allow_count,
		 const struct pq_relay_opts *opts)
{
	struct pq_conn_opts copts = { 0 };
	struct pq_relay *r;
	int rc;

	if (!out || !loop || !priv || !listen || (allow_count && !allow))
		return PQ_E_INVAL;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return PQ_E_NOMEM;
	r->loop = loop;
	set_opts(r, opts);
	rc = relay_table_init(&r->table);
	if (!rc)
		rc = copy_allow(r, allow, allow_count);
	if (!rc && r->opts.mangle == PQ_RELAY_MANGLE_REORDER && !(r->held = malloc(PQ_MAX_MSG_LEN)))
		rc = PQ_E_NOMEM;
	if (!rc)
		rc = pq_tls_ctx_new(&r->tls, PQ_TLS_SERVER, priv);
	conn_opts(r, &copts);
	if (!rc)
		rc = pq_listener_new(&r->listener, loop, r->tls, listen, &copts, &relay_cbs, r);
	if (rc) {
		pq_relay_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void pq_relay_shutdown(struct pq_relay *r)
{
	struct relay_node *n;

	if (!r || r->shutting_down)
		return;
	r->shutting_down = true;
	pq_relay_stats(r, &r->stats); /* keep the listener's counters */
	pq_listener_free(r->listener);
	r->listener = NULL;
	relay_stun_stop(r); /* relay_stun.c */
	relay_fed_shutdown(r); /* relay_fed.c: the loop may end */
	for (n = r->nodes; n; n = n->next)
		relay_close_node(n, PQ_CLOSE_GOING_AWAY, PQ_WS_CLOSE_GOING_AWAY);
}

void pq_relay_free(struct pq_relay *r)
{
	struct relay_node *n, *next;

	if (!r)
		return;
	pq_listener_free(r->listener);
	relay_stun_stop(r); /* relay_stun.c */
	for (n = r->nodes; n; n = next) {
		next = n->next;
		pq_loop_timer_cancel(r->loop, &n->auth_timer);
		pq_conn_abort(n->conn);
		relay_watch_free(n);
		free(n);
	}
	relay_fed_free(r); /* relay_fed.c: deletes what nodes left */
	relay_table_free(&r->table);
	pq_tls_ctx_free(r->tls);
	free(r->allow);
	free(r->held);
	free(r);
}

/* NULL after pq_relay_shutdown. */
const struct pq_sockaddr *pq_relay_addr(const struct pq_relay *r)
{
	return r->listener ? pq_listener_addr(r->listener) : NULL;
}

const uint8_t *pq_relay_public(const struct pq_relay *r)
{
	return pq_tls_ctx_public(r->tls);
}

void pq_relay_stats(const struct pq_relay *r, struct pq_relay_stats *out)
{
	struct pq_listener_stats ls;

	*out = r->stats;
	out->queued = r->queued;
	relay_fed_stats(r, &out->fed);
	if (!r->listener)
		return;
	pq_listener_stats(r->listener, &ls);
	out->accepted = ls.accepted;
	out->failed_before_open = ls.failed;
	out->http_refused = ls.http_refused;
	out->pending_evicted = ls.evicted;
}

size_t pq_relay_conn_count(const struct pq_relay *r)
{
	return r->node_count;
}
