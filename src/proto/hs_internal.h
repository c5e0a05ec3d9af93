/*
 * hs_internal.h - shared between handshake.c (initiator side, dispatch),
 * hs_responder.c (responder side, half-open table) and hs_pool.c
 * (precomputed ephemeral key pairs). Not an API.
 */
#ifndef PQ_PROTO_HS_INTERNAL_H
#define PQ_PROTO_HS_INTERNAL_H

#include "proto/handshake.h"

/* Count a drop by its reason and pass the code through. */
#define DROP(hs, field, code) ((hs)->stats.field++, (long)(code))

PQ_MUST_CHECK int pq_hs__random(struct pq_hs *hs, void *out, size_t len);
/* A fresh local index not used by a session nor a half-open slot. */
PQ_MUST_CHECK int pq_hs__new_index(struct pq_hs *hs, uint32_t *index);
bool pq_hs__expired(uint64_t started_ms, uint64_t mono_ms);
/* Wipe peer's pending initiation (secrets included) and unlink it. */
void pq_hs__pending_clear(struct pq_hs_peer *peer);

/* The pool (hs_pool.c). make_* make one key pair from hs's randomness (on
 * failure e is wiped); take_* copy a precomputed pair made no longer than
 * PQ_HS_POOL_MAX_AGE_MS before mono_ms out and wipe the pool's copy; they
 * return false when there is none (too old ones are wiped on the way). */
PQ_MUST_CHECK int pq_hs__make_init(struct pq_hs *hs, struct pq_hs_eph_init *e, uint64_t mono_ms);
PQ_MUST_CHECK int pq_hs__make_resp(struct pq_hs *hs, struct pq_hs_eph_resp *e, uint64_t mono_ms);
bool pq_hs__take_init(struct pq_hs *hs, uint64_t mono_ms, struct pq_hs_eph_init *out);
bool pq_hs__take_resp(struct pq_hs *hs, uint64_t mono_ms, struct pq_hs_eph_resp *out);
void pq_hs__pool_wipe(struct pq_hs *hs);

/* answer_first: leave the signature and the acceptance to
 * pq_hs__settle_init (res->settle). */
PQ_MUST_CHECK long pq_hs__handle_init(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg,
				      size_t len, uint64_t wall_ms, uint64_t mono_ms, uint8_t *out,
				      size_t cap, bool answer_first, struct pq_hs_result *res);
PQ_MUST_CHECK int pq_hs__settle_init(struct pq_hs *hs, struct pq_hs_result *res, uint64_t mono_ms);
PQ_MUST_CHECK long pq_hs__handle_finish(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg,
					size_t len, struct pq_hs_result *res);

#endif
