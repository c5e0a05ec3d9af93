/*
 * relay_presence.c - who is connected where, across relays (DESIGN §8,
 * docs/relay.md "Presence"): our nodes' records out to the bucket, the
 * other relays' records in (the remote view), and the mutual-watch rule
 * (PROTOCOL §3.4) applied between a node here and a node there: PEER_ONLINE
 * / PEER_OFFLINE flow only between two nodes that list each other.
 *
 * Ordering: the bucket keeps one record per node key and its revisions
 * are totally ordered, so the latest record wins everywhere: a relay that
 * sees a newer record from another relay for a key it holds closes its
 * conn (the node moved; like roaming on one relay), and a refresh only
 * ever updates our own last revision (relay_nats.c).
 *
 * Expiry: a record lives ttl after its last write (the bucket's max age,
 * and here from its creation time on). Relays refresh their own every
 * ttl / 3; a relay that dies or loses NATS stops, and the others drop its
 * records within ttl and announce PEER_OFFLINE.
 */
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "net/ws.h"
#include "relay/relay_fed_int.h"
#include "util/clock.h"
#include "util/log.h"

struct fed_remote *fed_remote_find(const struct relay_fed *fed, const uint8_t key[PQ_PUBKEY_LEN])
{
	struct relay_table_entry *e = relay_table_find(&fed->remote, key);

	return e ? (struct fed_remote *)((char *)e - offsetof(struct fed_remote, entry)) : NULL;
}

/* The live, watching conn of key here, or NULL. */
static struct relay_node *local_live(const struct relay_fed *fed, const uint8_t key[PQ_PUBKEY_LEN])
{
	struct relay_node *n = relay_node_of_key(fed->relay, key);

	return n && n->authed && !n->closing && n->watching ? n : NULL;
}

bool fed_mutual(const struct relay_node *n, const struct fed_remote *m)
{
	return n->watching && relay_watches(n, m->entry.key) &&
	       pq_fed_watch_has(m->watch, m->count, n->entry.key);
}

static void send_online(struct relay_node *to, const struct fed_remote *m)
{
	struct pq_peer_online msg;
	uint8_t buf[PQ_PEER_ONLINE_MSG_LEN];
	size_t len;

	memcpy(msg.key, m->entry.key, PQ_PUBKEY_LEN);
	msg.observed = m->observed;
	relay_node_paired(to);
	if (pq_peer_online_encode(buf, sizeof(buf), &len, &msg) == 0)
		(void)relay_send(to, buf, len);
}

static void send_offline(struct relay_node *to, const uint8_t key[PQ_PUBKEY_LEN])
{
	struct pq_peer_key_msg msg;
	uint8_t buf[PQ_PEER_OFFLINE_MSG_LEN];
	size_t len;

	memcpy(msg.key, key, PQ_PUBKEY_LEN);
	if (pq_peer_offline_encode(buf, sizeof(buf), &len, &msg) == 0)
		(void)relay_send(to, buf, len);
}

/* The local nodes mutual with m are the ones m lists that list m. */
static void announce_online(struct relay_fed *fed, const struct fed_remote *m)
{
	for (size_t i = 0; i < m->count; i++) {
		struct relay_node *n = local_live(fed, m->watch + i * PQ_PUBKEY_LEN);

		if (n && fed_mutual(n, m))
			send_online(n, m);
	}
}

static void announce_offline(struct relay_fed *fed, const struct fed_remote *m)
{
	for (size_t i = 0; i < m->count; i++) {
		struct relay_node *n = local_live(fed, m->watch + i * PQ_PUBKEY_LEN);

		if (n && fed_mutual(n, m))
			send_offline(n, m->entry.key);
	}
}

static void remote_free(struct relay_fed *fed, struct fed_remote *m, bool announce)
{
	if (announce)
		announce_offline(fed, m);
	relay_table_remove(&fed->remote, &m->entry);
	if (m->prev)
		m->prev->next = m->next;
	else
		fed->remote_list = m->next;
	if (m->next)
		m->next->prev = m->prev;
	fed->remote_count--;
	free(m->watch);
	free(m);
}

void fed_presence_forget(struct relay_fed *fed, const uint8_t key[PQ_PUBKEY_LEN])
{
	struct fed_remote *m = fed_remote_find(fed, key);

	if (m)
		remote_free(fed, m, false);
}

void fed_presence_free(struct relay_fed *fed)
{
	while (fed->remote_list)
		remote_free(fed, fed->remote_list, false);
}

void fed_presence_put(struct relay_fed *fed, struct relay_node *n, uint64_t now_ms)
{
	struct pq_fed_presence p = { 0 };
	struct fed_item *it;
	long len;

	memcpy(p.relay, fed->name, sizeof(p.relay));
	p.observed = n->observed;
	p.watch = n->watch_count ? n->watch[0] : NULL; /* sorted, no key twice (relay_watch.c) */
	p.count = n->watch_count;
	len = pq_fed_presence_encode(&p, fed->buf, sizeof(fed->buf));
	if (len < 0) {
		pq_log(PQ_LOG_WARN, "relay: nats: cannot encode the record of %s: %s", n->key_text,
		       pq_strerror((int)len));
		return;
	}
	if (!(it = fedq_item(FED_PUT, (size_t)len)))
		return;
	if (!n->fed.gen)
		n->fed.gen = ++fed->gen;
	memcpy(it->data, fed->buf, (size_t)len);
	memcpy(it->key, n->entry.key, PQ_PUBKEY_LEN);
	it->gen = n->fed.gen;
	it->rev = n->fed.rev;
	n->fed.put_ms = now_ms;
	if (fedq_push(&fed->kvbox, it) == 0)
		fed->stats.puts++;
}

/* n's key has a newer record from another relay: the node connected
 * there after it connected here. Our conn is stale; close it as replaced
 * (no PEER_OFFLINE: the node is online, elsewhere) and tell our nodes
 * where it is now. */
static void node_moved(struct relay_fed *fed, struct relay_node *n, bool announce)
{
	struct pq_relay *r = fed->relay;
	struct fed_remote *m = fed_remote_find(fed, n->entry.key);

	fed->stats.moved++;
	pq_log(PQ_LOG_INFO, "relay: node %s at %s connected to relay %s since; closing this conn",
	       n->key_text, n->addr_text, m ? m->relay : "(another)");
	n->fed.moved = true;
	relay_table_remove(&r->table, &n->entry);
	r->stats.nodes--;
	relay_close_node(n, PQ_CLOSE_REPLACED, PQ_WS_CLOSE_NORMAL);
	if (m && announce)
		announce_online(fed, m);
}

void fed_presence_put_done(struct relay_fed *fed, const struct fed_item *it)
{
	struct relay_node *n = local_live(fed, it->key);

	if (!n || n->fed.gen != it->gen)
		return; /* that conn is gone */
	if (it->moved)
		node_moved(fed, n, true);
	else if (it->rev > n->fed.rev)
		n->fed.rev = it->rev;
}

/* When m expires (loop time): ttl after the record was written. */
static uint64_t expiry(const struct relay_fed *fed, int64_t created_ns, uint64_t now_ms)
{
	uint64_t wall = pq_wall_ms(), made = created_ns > 0 ? (uint64_t)created_ns / 1000000u : wall;
	uint64_t age = wall > made ? wall - made : 0;

	return age >= fed->ttl_ms ? now_ms : now_ms + fed->ttl_ms - age;
}

static struct fed_remote *remote_new(struct relay_fed *fed, const uint8_t key[PQ_PUBKEY_LEN])
{
	struct fed_remote *m;

	if (fed->remote_count >= FED_MAX_REMOTE || !(m = calloc(1, sizeof(*m))))
		return NULL;
	memcpy(m->entry.key, key, PQ_PUBKEY_LEN);
	if (relay_table_insert(&fed->remote, &m->entry)) {
		free(m);
		return NULL;
	}
	m->next = fed->remote_list;
	if (m->next)
		m->next->prev = m;
	fed->remote_list = m;
	fed->remote_count++;
	return m;
}

/* A record naming another relay, for a key not held here: into the view,
 * and PEER_ONLINE / PEER_OFFLINE where the pairs it makes changed. */
static void remote_update(struct relay_fed *fed, const struct fed_item *it,
			  const struct pq_fed_presence *p, uint64_t now_ms)
{
	struct fed_remote *m = fed_remote_find(fed, it->key), old = { 0 };
	uint8_t *watch = NULL;

	if (m && it->rev <= m->rev) {
		m->epoch = fed->epoch; /* seen again (a new watcher's initial values) */
		return;
	}
	if (p->count && !(watch = malloc(p->count * PQ_PUBKEY_LEN)))
		return;
	if (!m && !(m = remote_new(fed, it->key))) {
		free(watch);
		fed->stats.queue_dropped++;
		return;
	}
	old = *m;
	if (p->count)
		memcpy(watch, p->watch, p->count * PQ_PUBKEY_LEN);
	memcpy(m->relay, p->relay, sizeof(m->relay));
	m->observed = p->observed;
	m->watch = watch;
	m->count = p->count;
	m->rev = it->rev;
	m->epoch = fed->epoch;
	m->expires_ms = expiry(fed, it->created_ns, now_ms);
	/* Pairs that ended: listed by the old record, not by the new one. */
	for (size_t i = 0; i < old.count; i++) {
		const uint8_t *k = old.watch + i * PQ_PUBKEY_LEN;
		struct relay_node *n = local_live(fed, k);

		if (n && relay_watches(n, m->entry.key) && !pq_fed_watch_has(m->watch, m->count, k))
			send_offline(n, m->entry.key);
	}
	/* New pairs, and every pair again when the node's relay or address
	 * changed (it reconnected: its peers want the new address). */
	for (size_t i = 0; i < m->count; i++) {
		const uint8_t *k = m->watch + i * PQ_PUBKEY_LEN;
		struct relay_node *n = local_live(fed, k);
		bool was = old.watch && pq_fed_watch_has(old.watch, old.count, k);
		bool same = was && !strcmp(old.relay, m->relay) &&
			    !memcmp(&old.observed, &m->observed, sizeof(old.observed));

		if (n && fed_mutual(n, m) && !same)
			send_online(n, m);
	}
	free(old.watch);
}

void fed_presence_apply(struct relay_fed *fed, const struct fed_item *it, uint64_t now_ms)
{
	struct fed_remote *m = fed_remote_find(fed, it->key);
	struct relay_node *n = local_live(fed, it->key);
	struct pq_fed_presence p;

	if (it->op == kvOp_Delete || it->op == kvOp_Purge) {
		if (m)
			remote_free(fed, m, true);
		return;
	}
	if (it->op != kvOp_Put || pq_fed_presence_decode(&p, it->data, it->len)) {
		fed->stats.bad_msgs++;
		return;
	}
	if (!strcmp(p.relay, fed->name)) {
		/* Ours, echoed: learn its revision. A record of ours for a
		 * key not here is from a conn that left or from before a
		 * restart; it expires. */
		if (n && it->rev > n->fed.rev)
			n->fed.rev = it->rev;
		return;
	}
	if (n && !(n->fed.rev && it->rev > n->fed.rev))
		return; /* ours is newer, or ours is on its way */
	if (expiry(fed, it->created_ns, now_ms) <= now_ms) {
		/* A leftover the bucket has not removed yet. */
		if (m && it->rev > m->rev)
			remote_free(fed, m, true);
		return;
	}
	if (n)
		node_moved(fed, n, false); /* remote_update announces where it is */
	remote_update(fed, it, &p, now_ms);
}

void fed_presence_announce_to(struct relay_fed *fed, struct relay_node *n)
{
	for (size_t i = 0; i < n->watch_count; i++) {
		struct fed_remote *m;

		if (relay_node_of_key(fed->relay, n->watch[i]))
			continue; /* here: relay_watch.c's business */
		if ((m = fed_remote_find(fed, n->watch[i])) && fed_mutual(n, m))
			send_online(n, m);
	}
}

void fed_presence_watch_start(struct relay_fed *fed)
{
	fed->epoch++;
}

void fed_presence_synced(struct relay_fed *fed, uint64_t now_ms)
{
	struct fed_remote *m, *next;
	size_t gone = 0;

	for (m = fed->remote_list; m; m = next) {
		next = m->next;
		if (m->epoch != fed->epoch) {
			remote_free(fed, m, true);
			gone++;
		}
	}
	pq_log(PQ_LOG_INFO, "relay: nats: presence in sync: %zu node(s) on other relays%s", fed->remote_count,
	       gone ? " (some records gone meanwhile)" : "");
}

void fed_presence_tick(struct relay_fed *fed, uint64_t now_ms)
{
	struct fed_remote *m, *next;
	uint64_t every = fed->ttl_ms / 3;

	for (m = fed->remote_list; m; m = next) {
		next = m->next;
		if (m->expires_ms <= now_ms) {
			fed->stats.expired++;
			remote_free(fed, m, true);
		}
	}
	if (!fed->up)
		return; /* FED_KV_READY puts them all when it is back */
	for (struct relay_node *n = fed->relay->nodes; n; n = n->next)
		if (n->fed.gen && !n->fed.moved && local_live(fed, n->entry.key) == n &&
		    now_ms - n->fed.put_ms >= every)
			fed_presence_put(fed, n, now_ms);
}
