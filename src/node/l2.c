/*
 * l2.c - MAC learning table and forwarding decisions (DESIGN §6); the
 * policy is described in l2.h.
 *
 * Layout: a fixed array of entries allocated once; a chained hash index
 * (bucket heads, entry.hnext) keyed by SipHash of the MAC; and one doubly
 * linked list per peer, least recently seen first, so that a peer's
 * oldest entry (for recycling, eviction and expiry) is its list head.
 * Lists stay ordered because an entry is appended when (re)seen and time
 * does not go backwards; an entry's expiry is nevertheless checked on
 * every use, so a caller's clock going backwards costs order, not safety.
 */
#include <stdlib.h>
#include <string.h>

#include "node/l2.h"
#include "node/l2_hash.h"
#include "proto/types.h"

#define NIL UINT32_MAX
#define MAX_ENTRIES_LIMIT (1u << 20)

struct l2_entry {
	uint8_t mac[PQ_L2_MAC_LEN];
	uint32_t peer;
	uint64_t seen_ms;
	uint32_t hnext;          /* next in its bucket, or in the free list */
	uint32_t prev, next;     /* its peer's list */
};

struct l2_peer {
	uint32_t head, tail;     /* least / most recently seen */
	uint32_t count;
};

struct l2_pin {
	uint8_t mac[PQ_L2_MAC_LEN];
	uint32_t peer;
};

struct pq_l2 {
	struct pq_l2_limits lim;
	struct l2_pin *pins;         /* pin_count, sorted by MAC for bsearch */
	size_t pin_count;
	uint8_t *pinned;             /* lim.max_peers flags: the peer has pins */
	uint64_t log_ms;             /* last refusal logged (pq_l2_log_due) */
	uint64_t log_suppressed;     /* refusals not logged since */
	bool logged;
	uint8_t key[PQ_L2_HASH_KEY_LEN];
	struct l2_entry *entries;    /* lim.max_entries */
	uint32_t *buckets;           /* bucket_mask + 1 heads */
	uint32_t bucket_mask;
	struct l2_peer *peers;       /* lim.max_peers */
	uint32_t free_head;
	uint32_t count;
	struct pq_l2_stats stats;
};

_Static_assert(PQ_L2_MAX_PEERS % 64 == 0, "peer set words");

void pq_l2_limits_default(struct pq_l2_limits *lim, uint32_t max_peers)
{
	lim->max_peers = max_peers;
	lim->max_entries = PQ_L2_MAX_ENTRIES;
	lim->per_peer_max = PQ_L2_PER_PEER_MAX;
	lim->age_ms = PQ_L2_AGE_MS;
}

static bool limits_ok(const struct pq_l2_limits *lim)
{
	return lim->max_peers >= 1 && lim->max_peers <= PQ_L2_MAX_PEERS &&
	       lim->max_entries >= 1 && lim->max_entries <= MAX_ENTRIES_LIMIT &&
	       lim->per_peer_max >= 1 && lim->per_peer_max <= lim->max_entries &&
	       lim->age_ms > 0;
}

int pq_l2_new(struct pq_l2 **out, const struct pq_l2_limits *lim,
	      const uint8_t key[PQ_L2_HASH_KEY_LEN])
{
	struct pq_l2 *t;
	uint32_t nbuckets = 16;

	if (out == NULL)
		return PQ_E_INVAL;
	*out = NULL;
	if (lim == NULL || key == NULL || !limits_ok(lim))
		return PQ_E_INVAL;
	while (nbuckets < lim->max_entries)
		nbuckets <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return PQ_E_NOMEM;
	t->entries = calloc(lim->max_entries, sizeof(*t->entries));
	t->buckets = malloc(nbuckets * sizeof(*t->buckets));
	t->peers = malloc(lim->max_peers * sizeof(*t->peers));
	t->pinned = calloc(lim->max_peers, 1);
	if (t->entries == NULL || t->buckets == NULL || t->peers == NULL || t->pinned == NULL) {
		pq_l2_free(t);
		return PQ_E_NOMEM;
	}
	t->lim = *lim;
	memcpy(t->key, key, sizeof(t->key));
	t->bucket_mask = nbuckets - 1;
	for (uint32_t i = 0; i < nbuckets; i++)
		t->buckets[i] = NIL;
	for (uint32_t p = 0; p < lim->max_peers; p++)
		t->peers[p] = (struct l2_peer){ .head = NIL, .tail = NIL, .count = 0 };
	for (uint32_t i = 0; i < lim->max_entries; i++)
		t->entries[i].hnext = i + 1 < lim->max_entries ? i + 1 : NIL;
	t->free_head = 0;
	*out = t;
	return 0;
}

void pq_l2_free(struct pq_l2 *t)
{
	if (t == NULL)
		return;
	free(t->entries);
	free(t->buckets);
	free(t->peers);
	free(t->pins);
	free(t->pinned);
	/* the hash key is a secret of sorts: it keeps bucket choice unguessable */
	memset(t->key, 0, sizeof(t->key));
	free(t);
}

/* ---- the hash index ---- */

static uint32_t bucket_of(const struct pq_l2 *t, const uint8_t mac[PQ_L2_MAC_LEN])
{
	return (uint32_t)pq_siphash24(t->key, mac, PQ_L2_MAC_LEN) & t->bucket_mask;
}

static uint32_t find(const struct pq_l2 *t, const uint8_t mac[PQ_L2_MAC_LEN])
{
	uint32_t i = t->buckets[bucket_of(t, mac)];

	while (i != NIL && memcmp(t->entries[i].mac, mac, PQ_L2_MAC_LEN) != 0)
		i = t->entries[i].hnext;
	return i;
}

static void hash_unlink(struct pq_l2 *t, uint32_t idx)
{
	uint32_t *link = &t->buckets[bucket_of(t, t->entries[idx].mac)];

	while (*link != idx)
		link = &t->entries[*link].hnext;
	*link = t->entries[idx].hnext;
}

/* ---- the per-peer lists ---- */

static void list_unlink(struct pq_l2 *t, uint32_t idx)
{
	struct l2_entry *e = &t->entries[idx];
	struct l2_peer *p = &t->peers[e->peer];

	if (e->prev != NIL)
		t->entries[e->prev].next = e->next;
	else
		p->head = e->next;
	if (e->next != NIL)
		t->entries[e->next].prev = e->prev;
	else
		p->tail = e->prev;
	p->count--;
}

static void list_append(struct pq_l2 *t, uint32_t idx)
{
	struct l2_entry *e = &t->entries[idx];
	struct l2_peer *p = &t->peers[e->peer];

	e->prev = p->tail;
	e->next = NIL;
	if (p->tail != NIL)
		t->entries[p->tail].next = idx;
	else
		p->head = idx;
	p->tail = idx;
	p->count++;
}

/* ---- entries ---- */

static bool expired(const struct pq_l2 *t, const struct l2_entry *e, uint64_t now_ms)
{
	return now_ms >= e->seen_ms && now_ms - e->seen_ms >= t->lim.age_ms;
}

static void entry_remove(struct pq_l2 *t, uint32_t idx)
{
	hash_unlink(t, idx);
	list_unlink(t, idx);
	t->entries[idx].hnext = t->free_head;
	t->free_head = idx;
	t->count--;
}

size_t pq_l2_expire(struct pq_l2 *t, uint64_t now_ms)
{
	size_t removed = 0;

	for (uint32_t p = 0; p < t->lim.max_peers; p++) {
		uint32_t idx;

		while ((idx = t->peers[p].head) != NIL && expired(t, &t->entries[idx], now_ms)) {
			entry_remove(t, idx);
			removed++;
		}
	}
	t->stats.expired += removed;
	return removed;
}

/* The peer holding the most entries; the lowest id among equals. */
static uint32_t biggest_peer(const struct pq_l2 *t)
{
	uint32_t best = 0;

	for (uint32_t p = 1; p < t->lim.max_peers; p++)
		if (t->peers[p].count > t->peers[best].count)
			best = p;
	return best;
}

/* Make room for one more entry of peer (policy in l2.h). */
static void make_room(struct pq_l2 *t, uint32_t peer, uint64_t now_ms)
{
	if (t->peers[peer].count >= t->lim.per_peer_max) {
		entry_remove(t, t->peers[peer].head);
		t->stats.recycled++;
		return;
	}
	if (t->count < t->lim.max_entries)
		return;
	if (pq_l2_expire(t, now_ms) > 0)
		return;
	entry_remove(t, t->peers[biggest_peer(t)].head);
	t->stats.evicted++;
}

/* Learn or refresh mac for peer; PQ_L2_DROP_MAC_OWNED when a live entry
 * of another peer has it (ownership, l2.h). */
static enum pq_l2_drop learn(struct pq_l2 *t, uint32_t peer, const uint8_t mac[PQ_L2_MAC_LEN],
			     uint64_t now_ms)
{
	uint32_t idx = find(t, mac);
	struct l2_entry *e;

	if (idx != NIL && t->entries[idx].peer == peer) {
		list_unlink(t, idx);          /* refresh: to the tail */
	} else if (idx != NIL && !expired(t, &t->entries[idx], now_ms)) {
		t->stats.move_refused++;
		return PQ_L2_DROP_MAC_OWNED;
	} else if (idx != NIL) {
		/* A move keeps the table's size but adds to peer's share; peer at
		 * its cap recycles its own oldest (never idx: another peer's). */
		if (t->peers[peer].count >= t->lim.per_peer_max) {
			entry_remove(t, t->peers[peer].head);
			t->stats.recycled++;
		}
		list_unlink(t, idx);
		t->entries[idx].peer = peer;
		t->stats.moved++;
	} else {
		make_room(t, peer, now_ms);
		idx = t->free_head;
		e = &t->entries[idx];
		t->free_head = e->hnext;
		memcpy(e->mac, mac, PQ_L2_MAC_LEN);
		e->peer = peer;
		e->hnext = t->buckets[bucket_of(t, mac)];
		t->buckets[bucket_of(t, mac)] = idx;
		t->count++;
		t->stats.learned++;
	}
	t->entries[idx].seen_ms = now_ms;
	list_append(t, idx);
	return PQ_L2_PASS;
}

/* ---- pins ---- */

static int pin_cmp(const void *a, const void *b)
{
	return memcmp(((const struct l2_pin *)a)->mac, ((const struct l2_pin *)b)->mac, PQ_L2_MAC_LEN);
}

static const struct l2_pin *pin_find(const struct pq_l2 *t, const uint8_t mac[PQ_L2_MAC_LEN])
{
	struct l2_pin key;

	if (!t->pin_count)
		return NULL;
	memcpy(key.mac, mac, PQ_L2_MAC_LEN);
	return bsearch(&key, t->pins, t->pin_count, sizeof(*t->pins), pin_cmp);
}

/* The pin rules for a frame from peer with source src (l2.h). */
static enum pq_l2_drop pin_check(const struct pq_l2 *t, uint32_t peer, const uint8_t *src)
{
	const struct l2_pin *p = pin_find(t, src);

	if (p && p->peer != peer)
		return PQ_L2_DROP_MAC_OWNED;
	if (!p && t->pinned[peer])
		return PQ_L2_DROP_NOT_PINNED;
	return PQ_L2_PASS;
}

static const uint8_t zero_mac[PQ_L2_MAC_LEN];

int pq_l2_pin(struct pq_l2 *t, uint32_t peer, const uint8_t (*macs)[PQ_L2_MAC_LEN], size_t n)
{
	struct l2_pin *grown;
	size_t kept = 0;

	if (peer >= t->lim.max_peers || n > PQ_L2_MAX_PINS_PER_PEER || (n && !macs))
		return PQ_E_INVAL;
	for (size_t i = 0; i < n; i++) {
		const struct l2_pin *o = pin_find(t, macs[i]);

		if (pq_l2_mac_is_group(macs[i]) || !memcmp(macs[i], zero_mac, PQ_L2_MAC_LEN) ||
		    (o && o->peer != peer))
			return PQ_E_INVAL;
	}
	grown = realloc(t->pins, (t->pin_count + n + 1) * sizeof(*t->pins));
	if (!grown)
		return PQ_E_NOMEM;
	t->pins = grown;
	for (size_t i = 0; i < t->pin_count; i++)   /* drop peer's old pins */
		if (t->pins[i].peer != peer)
			t->pins[kept++] = t->pins[i];
	for (size_t i = 0; i < n; i++) {
		memcpy(t->pins[kept].mac, macs[i], PQ_L2_MAC_LEN);
		t->pins[kept++].peer = peer;
	}
	t->pin_count = kept;
	qsort(t->pins, t->pin_count, sizeof(*t->pins), pin_cmp);
	t->pinned[peer] = n > 0;
	return 0;
}

/* ---- frames ---- */

static enum pq_l2_drop drop(struct pq_l2 *t, enum pq_l2_drop reason)
{
	t->stats.drops[reason]++;
	return reason;
}

/* The checks common to both directions; frame[0..5] dst, [6..11] src. */
static enum pq_l2_drop check_frame(const uint8_t *frame, size_t len)
{
	if (frame == NULL || len < PQ_L2_ETH_HLEN)
		return PQ_L2_DROP_RUNT;
	/* A TSO super-frame (DATA_GSO) may be this long; the message types
	 * bound their own frames (DATA: PQ_MAX_FRAME_LEN). */
	if (len > PQ_MAX_GSO_FRAME_LEN)
		return PQ_L2_DROP_TOOBIG;
	if (pq_l2_mac_is_group(frame + 6) || memcmp(frame + 6, zero_mac, PQ_L2_MAC_LEN) == 0)
		return PQ_L2_DROP_BAD_SRC;
	return PQ_L2_PASS;
}

enum pq_l2_drop pq_l2_from_peer(struct pq_l2 *t, uint32_t peer, const uint8_t *frame, size_t len,
				uint64_t now_ms)
{
	enum pq_l2_drop reason = check_frame(frame, len);

	if (reason != PQ_L2_PASS)
		return drop(t, reason);
	if (peer >= t->lim.max_peers)
		return drop(t, PQ_L2_DROP_BAD_PEER);
	if ((reason = pin_check(t, peer, frame + 6)) != PQ_L2_PASS ||
	    (reason = learn(t, peer, frame + 6, now_ms)) != PQ_L2_PASS)
		return drop(t, reason);
	return PQ_L2_PASS;
}

/* The established peers this table knows (ids below max_peers). */
static void flood_set(const struct pq_l2 *t, const struct pq_l2_peerset *established,
		      struct pq_l2_peerset *to)
{
	*to = *established;
	for (uint32_t p = t->lim.max_peers; p < PQ_L2_MAX_PEERS; p++)
		pq_l2_peerset_del(to, p);
}

enum pq_l2_drop pq_l2_from_tap(struct pq_l2 *t, const uint8_t *frame, size_t len,
			       const struct pq_l2_peerset *established, uint64_t now_ms,
			       struct pq_l2_out *out)
{
	enum pq_l2_drop reason = check_frame(frame, len);
	uint32_t idx;

	pq_l2_peerset_clear(&out->to);
	out->flooded = false;
	if (reason != PQ_L2_PASS)
		return drop(t, reason);
	/* the source is a local host: no peer owns it any more */
	if ((idx = find(t, frame + 6)) != NIL)
		entry_remove(t, idx);
	if (!pq_l2_mac_is_group(frame) && (idx = find(t, frame)) != NIL) {
		if (expired(t, &t->entries[idx], now_ms)) {
			entry_remove(t, idx);
			t->stats.expired++;
		} else if (pq_l2_peerset_has(established, t->entries[idx].peer)) {
			pq_l2_peerset_add(&out->to, t->entries[idx].peer);
			return PQ_L2_PASS;
		}
	}
	out->flooded = true;
	flood_set(t, established, &out->to);
	if (pq_l2_peerset_count(&out->to) == 0)
		return drop(t, PQ_L2_DROP_NO_PEER);
	return PQ_L2_PASS;
}

/* ---- queries ---- */

int pq_l2_lookup(const struct pq_l2 *t, const uint8_t mac[PQ_L2_MAC_LEN], uint64_t now_ms,
		 uint32_t *peer)
{
	uint32_t idx = find(t, mac);

	if (idx == NIL || expired(t, &t->entries[idx], now_ms))
		return PQ_E_PEER;
	*peer = t->entries[idx].peer;
	return 0;
}

void pq_l2_forget_peer(struct pq_l2 *t, uint32_t peer)
{
	if (peer >= t->lim.max_peers)
		return;
	while (t->peers[peer].head != NIL)
		entry_remove(t, t->peers[peer].head);
}

bool pq_l2_next_expiry(const struct pq_l2 *t, uint64_t *when_ms)
{
	bool any = false;

	for (uint32_t p = 0; p < t->lim.max_peers; p++) {
		uint32_t idx = t->peers[p].head;
		uint64_t when;

		if (idx == NIL)
			continue;
		when = t->entries[idx].seen_ms + t->lim.age_ms;
		if (!any || when < *when_ms)
			*when_ms = when;
		any = true;
	}
	return any;
}

bool pq_l2_log_due(struct pq_l2 *t, uint64_t now_ms, uint64_t period_ms, uint64_t *suppressed)
{
	if (t->logged && now_ms >= t->log_ms && now_ms - t->log_ms < period_ms) {
		t->log_suppressed++;
		return false;
	}
	t->logged = true;
	t->log_ms = now_ms;
	*suppressed = t->log_suppressed;
	t->log_suppressed = 0;
	return true;
}

size_t pq_l2_count(const struct pq_l2 *t)
{
	return t->count;
}

size_t pq_l2_peer_count(const struct pq_l2 *t, uint32_t peer)
{
	return peer < t->lim.max_peers ? t->peers[peer].count : 0;
}

const struct pq_l2_stats *pq_l2_stats(const struct pq_l2 *t)
{
	return &t->stats;
}

const char *pq_l2_drop_name(enum pq_l2_drop reason)
{
	switch (reason) {
	case PQ_L2_PASS: return "pass";
	case PQ_L2_DROP_RUNT: return "runt";
	case PQ_L2_DROP_TOOBIG: return "too_big";
	case PQ_L2_DROP_BAD_SRC: return "bad_source_mac";
	case PQ_L2_DROP_NO_PEER: return "no_peer";
	case PQ_L2_DROP_BAD_PEER: return "bad_peer_id";
	case PQ_L2_DROP_MAC_OWNED: return "mac_owned_by_other_peer";
	case PQ_L2_DROP_NOT_PINNED: return "mac_not_allowed";
	case PQ_L2_DROP_COUNT: break;
	}
	return "unknown";
}
