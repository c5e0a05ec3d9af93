/*
 * challenge_cache.h - the per-session cache of re-handshake challenges
 * (DESIGN §5: "every challenge seen is cached for the skew window").
 *
 * The caller keeps one cache per session and passes it to every
 * re-handshake run of that session, whatever the run's role. It records
 * every REQUEST challenge and counter-challenge sent or accepted, and a
 * repeated one is rejected while its entry lives (a responder's run given
 * up before its COMPLETE takes its two back: pq_rehs_abandon).
 *
 * An entry lives until the last moment a message carrying its challenge
 * could still pass the ±30 s timestamp check. The cache has a fixed number
 * of slots and never drops a live entry to make room: when it is full, new
 * runs are refused (PQ_E_LIMIT) until entries expire. A run in progress
 * holds a reserved slot for the one challenge it still has to record, so a
 * run that started never fails half-way for lack of room.
 *
 * No allocation, no clock: now_ms is the caller's Unix time in ms.
 */
#ifndef PQ_PROTO_CHALLENGE_CACHE_H
#define PQ_PROTO_CHALLENGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PQ_REHS_SKEW_MS 30000u          /* DESIGN §5: ±30 s */
#define PQ_CHALLENGE_CACHE_SLOTS 64     /* 2 per run: 32 runs per 30 s window */
#define PQ_CHALLENGE_LEN 32

enum pq_challenge_slot_kind {
	PQ_SLOT_FREE = 0,
	PQ_SLOT_SEEN = 1,     /* value is a challenge seen; live until expires_ms */
	PQ_SLOT_RESERVED = 2, /* held for a run; value is the run's own challenge (tag) */
};

struct pq_challenge_slot {
	uint8_t value[PQ_CHALLENGE_LEN];
	uint64_t expires_ms; /* the slot is live while now_ms < expires_ms */
	uint8_t kind;
};

struct pq_challenge_cache {
	struct pq_challenge_slot slot[PQ_CHALLENGE_CACHE_SLOTS];
};

void pq_challenge_cache_init(struct pq_challenge_cache *c);

/* The expiry of an entry for a challenge carried in a message stamped
 * ts_ms and handled at now_ms: one past the last instant at which that
 * message (or a replay of it) still passes the skew check. */
uint64_t pq_challenge_expiry(uint64_t now_ms, uint64_t ts_ms);

/* 1 when value is a live SEEN entry, else 0. */
int pq_challenge_cache_seen(const struct pq_challenge_cache *c, const uint8_t value[PQ_CHALLENGE_LEN],
			    uint64_t now_ms);

/* How many slots are free (or expired) at now_ms. */
size_t pq_challenge_cache_room(const struct pq_challenge_cache *c, uint64_t now_ms);

/* Record value as seen until expires_ms. PQ_E_REPLAY when it is already a
 * live entry, PQ_E_LIMIT when no slot is free. */
PQ_MUST_CHECK int pq_challenge_cache_add(struct pq_challenge_cache *c, const uint8_t value[PQ_CHALLENGE_LEN],
					 uint64_t expires_ms, uint64_t now_ms);

/* Hold one slot, tagged with tag, until expires_ms (a run's deadline).
 * PQ_E_LIMIT when no slot is free. */
PQ_MUST_CHECK int pq_challenge_cache_reserve(struct pq_challenge_cache *c, const uint8_t tag[PQ_CHALLENGE_LEN],
					     uint64_t expires_ms, uint64_t now_ms);

/* Turn the live reservation tagged tag into a SEEN entry for value.
 * PQ_E_REPLAY when value is already live, PQ_E_STATE when there is no such
 * reservation (it expired). */
PQ_MUST_CHECK int pq_challenge_cache_fill(struct pq_challenge_cache *c, const uint8_t tag[PQ_CHALLENGE_LEN],
					  const uint8_t value[PQ_CHALLENGE_LEN], uint64_t expires_ms,
					  uint64_t now_ms);

/* Give back the reservation tagged tag, if any (a run that failed). */
void pq_challenge_cache_release(struct pq_challenge_cache *c, const uint8_t tag[PQ_CHALLENGE_LEN],
				uint64_t now_ms);

/* Forget the live SEEN entry for value, if any. Only for a REQUEST taken
 * back from a run that answered it on the wrong channel (a UDP attempt's
 * REQUEST that overtook its PUNCH) and handed at once to the run it was
 * for, which records it again: the entry is gone for no longer than that;
 * and for the entries of a responder's run given up before its COMPLETE
 * (pq_rehs_abandon): it proved nothing. */
void pq_challenge_cache_forget(struct pq_challenge_cache *c, const uint8_t value[PQ_CHALLENGE_LEN],
			       uint64_t now_ms);

#endif
