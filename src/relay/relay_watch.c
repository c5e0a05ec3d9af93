/*
 * relay_watch.c - mutual watch (docs/PROTOCOL.md §3.4): each node lists,
 * once, in RELAY_WATCH, the keys of its peers. The relay tells A about B
 * (PEER_ONLINE, PEER_OFFLINE) and forwards between them only when A lists
 * B and B lists A, so a node learns the address and online times of its
 * own peers only (DESIGN §1), and the work per (dis)connection is one
 * lookup per listed key, not one message per connected node.
 *
 * A set is at most PQ_RELAY_WATCH_MAX keys, sorted once on arrival and
 * searched with bsearch: 8 KiB per node at most, allocated only after
 * authentication.
 */
#include <stdlib.h>
#include <string.h>

#include "net/ws.h"
#include "relay/relay_internal.h"
#include "util/log.h"

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PQ_PUBKEY_LEN);
}

static bool watches(const struct relay_node *n, const uint8_t key[PQ_PUBKEY_LEN])
{
	return n->watching && bsearch(key, n->watch, n->watch_count, sizeof(*n->watch), key_cmp) != NULL;
}

bool relay_watches(const struct relay_node *n, const uint8_t key[PQ_PUBKEY_LEN])
{
	return watches(n, key);
}

bool relay_mutual(const struct relay_node *a, const struct relay_node *b)
{
	return a != b && watches(a, b->entry.key) && watches(b, a->entry.key);
}

/* The current, open, watching conn of key other than n, or NULL. */
static struct relay_node *live_other(const struct relay_node *n, const uint8_t key[PQ_PUBKEY_LEN])
{
	struct relay_node *p = relay_node_of_key(n->relay, key);

	if (!p || p == n || !p->authed || p->closing || !p->watching)
		return NULL;
	return p;
}

/* PEER_ONLINE about `about` to `to`. */
static void send_online(struct relay_node *to, const struct relay_node *about)
{
	struct pq_peer_online m;
	uint8_t buf[PQ_PEER_ONLINE_MSG_LEN];
	size_t len;

	memcpy(m.key, about->entry.key, PQ_PUBKEY_LEN);
	m.observed = about->observed;
	if (pq_peer_online_encode(buf, sizeof(buf), &len, &m) == 0)
		(void)relay_send(to, buf, len);
}

/* n's set just arrived: every pair it completes is announced both ways.
 * Whichever of two nodes watches last triggers it, so the order of the
 * two RELAY_WATCH does not matter. */
static void announce_online(struct relay_node *n)
{
	for (size_t i = 0; i < n->watch_count; i++) {
		struct relay_node *p = live_other(n, n->watch[i]);

		/* issue 12: a peer list on one side only used to leave both
		 * "offline" forever with nothing logged anywhere. */
		if (p && p->watching && !watches(p, n->entry.key))
			pq_log(PQ_LOG_INFO, "relay: node %s lists %s, which is connected but does not list "
			       "it: neither is told about the other until both list each other",
			       n->key_text, p->key_text);
		if (!p || !watches(p, n->entry.key))
			continue;
		relay_node_paired(n);
		relay_node_paired(p);
		send_online(n, p);
		send_online(p, n);
	}
}

void relay_announce_offline(struct relay_node *n)
{
	struct pq_peer_key_msg m;
	uint8_t buf[PQ_PEER_OFFLINE_MSG_LEN];
	size_t len;

	memcpy(m.key, n->entry.key, PQ_PUBKEY_LEN);
	if (pq_peer_offline_encode(buf, sizeof(buf), &len, &m))
		return;
	/* Exactly the nodes that were told n was online: mutual with it. */
	for (size_t i = 0; i < n->watch_count; i++) {
		struct relay_node *p = live_other(n, n->watch[i]);

		if (p && watches(p, n->entry.key))
			(void)relay_send(p, buf, len);
	}
}

void relay_watch_message(struct relay_node *n, const uint8_t *msg, size_t len)
{
	struct pq_relay_watch m;

	/* PROTOCOL §3.4: one RELAY_WATCH per connection; the set is fixed
	 * for the connection's life, so every announcement stays paired
	 * with its PEER_OFFLINE. */
	if (n->watching) {
		relay_protocol_error(n, "second RELAY_WATCH");
		return;
	}
	if (pq_relay_watch_decode(&m, msg, len)) {
		relay_protocol_error(n, "malformed RELAY_WATCH");
		return;
	}
	/* m.count <= PQ_RELAY_WATCH_MAX: at most 8 KiB. */
	n->watch = malloc(m.count * sizeof(*n->watch));
	if (!n->watch) {
		pq_log(PQ_LOG_ERROR, "relay: out of memory for the watch list of %s, closing it", n->key_text);
		relay_close_node(n, PQ_CLOSE_GOING_AWAY, PQ_WS_CLOSE_INTERNAL);
		return;
	}
	memcpy(n->watch, m.keys, m.count * sizeof(*n->watch));
	n->watch_count = m.count;
	qsort(n->watch, n->watch_count, sizeof(*n->watch), key_cmp);
	n->watching = true;
	if (n->relay->opts.verbose)
		pq_log(PQ_LOG_DEBUG, "relay: node %s watches %zu keys", n->key_text, n->watch_count);
	announce_online(n);
	relay_fed_watching(n); /* its record, and its peers on other relays */
}

void relay_watch_free(struct relay_node *n)
{
	free(n->watch);
	n->watch = NULL;
	n->watch_count = 0;
}
