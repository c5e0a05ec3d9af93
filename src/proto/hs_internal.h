/*
 * hs_internal.h - shared between handshake.c (initiator side, dispatch)
 * and hs_responder.c (responder side, half-open table). Not an API.
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

PQ_MUST_CHECK long pq_hs__handle_init(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg,
				      size_t len, uint64_t wall_ms, uint64_t mono_ms, uint8_t *out,
				      size_t cap, struct pq_hs_result *res);
PQ_MUST_CHECK long pq_hs__handle_finish(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg,
					size_t len, struct pq_hs_result *res);

#endif
