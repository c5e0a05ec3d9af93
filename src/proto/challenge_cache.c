/*
 * challenge_cache.c - fixed-size cache of re-handshake challenges
 * (DESIGN §5). Linear scans: 64 slots, a few runs per minute.
 *
 * Challenges are public values (they travel in the clear inside TLS), so
 * comparing them with memcmp leaks nothing secret.
 */
#include <string.h>

#include "proto/challenge_cache.h"

void pq_challenge_cache_init(struct pq_challenge_cache *c)
{
	memset(c, 0, sizeof(*c));
}

uint64_t pq_challenge_expiry(uint64_t now_ms, uint64_t ts_ms)
{
	uint64_t base = ts_ms > now_ms ? ts_ms : now_ms;

	/* A message stamped ts passes the skew check while now <= ts + skew;
	 * keep the entry one millisecond past that. Saturate, never wrap. */
	if (base > UINT64_MAX - PQ_REHS_SKEW_MS - 1)
		return UINT64_MAX;
	return base + PQ_REHS_SKEW_MS + 1;
}

static int slot_live(const struct pq_challenge_slot *s, uint64_t now_ms)
{
	return s->kind != PQ_SLOT_FREE && now_ms < s->expires_ms;
}

int pq_challenge_cache_seen(const struct pq_challenge_cache *c, const uint8_t value[PQ_CHALLENGE_LEN],
			    uint64_t now_ms)
{
	for (size_t i = 0; i < PQ_CHALLENGE_CACHE_SLOTS; i++) {
		const struct pq_challenge_slot *s = &c->slot[i];

		if (s->kind == PQ_SLOT_SEEN && slot_live(s, now_ms) &&
		    memcmp(s->value, value, PQ_CHALLENGE_LEN) == 0)
			return 1;
	}
	return 0;
}

size_t pq_challenge_cache_room(const struct pq_challenge_cache *c, uint64_t now_ms)
{
	size_t room = 0;

	for (size_t i = 0; i < PQ_CHALLENGE_CACHE_SLOTS; i++)
		room += !slot_live(&c->slot[i], now_ms);
	return room;
}

static struct pq_challenge_slot *free_slot(struct pq_challenge_cache *c, uint64_t now_ms)
{
	for (size_t i = 0; i < PQ_CHALLENGE_CACHE_SLOTS; i++)
		if (!slot_live(&c->slot[i], now_ms))
			return &c->slot[i];
	return NULL;
}

static struct pq_challenge_slot *find_reservation(struct pq_challenge_cache *c, const uint8_t tag[PQ_CHALLENGE_LEN],
						  uint64_t now_ms)
{
	for (size_t i = 0; i < PQ_CHALLENGE_CACHE_SLOTS; i++) {
		struct pq_challenge_slot *s = &c->slot[i];

		if (s->kind == PQ_SLOT_RESERVED && slot_live(s, now_ms) &&
		    memcmp(s->value, tag, PQ_CHALLENGE_LEN) == 0)
			return s;
	}
	return NULL;
}

static void slot_set(struct pq_challenge_slot *s, uint8_t kind, const uint8_t value[PQ_CHALLENGE_LEN],
		     uint64_t expires_ms)
{
	memcpy(s->value, value, PQ_CHALLENGE_LEN);
	s->expires_ms = expires_ms;
	s->kind = kind;
}

int pq_challenge_cache_add(struct pq_challenge_cache *c, const uint8_t value[PQ_CHALLENGE_LEN],
			   uint64_t expires_ms, uint64_t now_ms)
{
	struct pq_challenge_slot *s;

	if (pq_challenge_cache_seen(c, value, now_ms))
		return PQ_E_REPLAY;
	s = free_slot(c, now_ms);
	if (!s)
		return PQ_E_LIMIT;
	slot_set(s, PQ_SLOT_SEEN, value, expires_ms);
	return 0;
}

int pq_challenge_cache_reserve(struct pq_challenge_cache *c, const uint8_t tag[PQ_CHALLENGE_LEN],
			       uint64_t expires_ms, uint64_t now_ms)
{
	struct pq_challenge_slot *s = free_slot(c, now_ms);

	if (!s)
		return PQ_E_LIMIT;
	slot_set(s, PQ_SLOT_RESERVED, tag, expires_ms);
	return 0;
}

int pq_challenge_cache_fill(struct pq_challenge_cache *c, const uint8_t tag[PQ_CHALLENGE_LEN],
			    const uint8_t value[PQ_CHALLENGE_LEN], uint64_t expires_ms, uint64_t now_ms)
{
	struct pq_challenge_slot *s;

	if (pq_challenge_cache_seen(c, value, now_ms))
		return PQ_E_REPLAY;
	s = find_reservation(c, tag, now_ms);
	if (!s)
		return PQ_E_STATE;
	slot_set(s, PQ_SLOT_SEEN, value, expires_ms);
	return 0;
}

void pq_challenge_cache_release(struct pq_challenge_cache *c, const uint8_t tag[PQ_CHALLENGE_LEN],
				uint64_t now_ms)
{
	struct pq_challenge_slot *s = find_reservation(c, tag, now_ms);

	if (s)
		memset(s, 0, sizeof(*s));
}

void pq_challenge_cache_forget(struct pq_challenge_cache *c, const uint8_t value[PQ_CHALLENGE_LEN],
			       uint64_t now_ms)
{
	for (size_t i = 0; i < PQ_CHALLENGE_CACHE_SLOTS; i++) {
		struct pq_challenge_slot *s = &c->slot[i];

		if (s->kind == PQ_SLOT_SEEN && slot_live(s, now_ms) &&
		    memcmp(s->value, value, PQ_CHALLENGE_LEN) == 0)
			memset(s, 0, sizeof(*s));
	}
}
