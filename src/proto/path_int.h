/*
 * path_int.h - what path.c (events) and path_timer.c (timer, deadline,
 * route, names) share. Not for use outside src/proto/path*.c.
 */
#ifndef PQ_PROTO_PATH_INT_H
#define PQ_PROTO_PATH_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/path.h"

/* How long after ENDPOINTS could not be sent they are tried again. */
#define PATH_ENDPOINTS_RETRY_MS 1000u

/* Append an action (the list is bounded; see path.c). */
void path_emit(struct pq_path_out *out, enum pq_path_act_type type, int conn);
/* Any slot in use. */
bool path_has_conns(const struct pq_path *p);
/* Policy and keys allow direct conns at all. */
bool path_direct_wanted(const struct pq_path *p);
/* A new conn in a free slot (its index), or -1. */
int path_new_conn(struct pq_path *p, enum pq_pconn_state st, bool dialled, uint8_t transport);
void path_drop(struct pq_path *p, int k, enum pq_path_drop why, bool emit, uint64_t now_ms,
	       struct pq_path_out *out);
void path_drop_all(struct pq_path *p, enum pq_path_drop why, uint64_t now_ms, struct pq_path_out *out);
void path_rehs_start(struct pq_path *p, int k, uint64_t now_ms, struct pq_path_out *out);

/* path_dial.c */
bool path_transport_allowed(const struct pq_path *p, enum pq_path_transport t);
bool path_has_conn_of(const struct pq_path *p, enum pq_path_transport t);
/* A dial of t could improve the path (nothing as good active or under way). */
bool path_wants(const struct pq_path *p, enum pq_path_transport t);
/* A dial of t may start once its schedule is due. */
bool path_dial_possible(const struct pq_path *p, enum pq_path_transport t);
void path_schedule_retry(struct pq_path *p, enum pq_path_transport t, uint64_t now_ms);
void path_dial_soon(struct pq_path *p, uint64_t now_ms);
void path_ensure_retries(struct pq_path *p, uint64_t now_ms);
bool path_next_tls_cand(struct pq_path *p, uint64_t now_ms);
void path_dial(struct pq_path *p, enum pq_path_transport t, uint64_t now_ms, struct pq_path_out *out);

/* path_timer.c: everything due at now_ms. */
void path_timer(struct pq_path *p, uint64_t now_ms, struct pq_path_out *out);

#endif
