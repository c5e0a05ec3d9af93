/*
 * direct_int.h - what direct.c and direct_dial.c share (not for other
 * parts of the daemon: they use direct.h).
 */
#ifndef PQ_NODE_DIRECT_INT_H
#define PQ_NODE_DIRECT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "net/conn.h"
#include "node/direct.h"

/* Callbacks of every direct conn, dialled or accepted (ctx: the node). */
extern const struct pq_conn_cbs pq_direct_cbs;

/* A dconn for conn c to p, recorded on p and the node, set as c's data.
 * PQ_E_STATE (no such peer, path = relay, no session), PQ_E_LIMIT,
 * PQ_E_NOMEM. */
PQ_MUST_CHECK int pq_dconn_new(struct pq_node *node, struct pq_conn *c, struct pq_node_peer *p,
			       bool dialled, struct pq_dconn **out);
/* Take dc off its peer (fallback if it was the active path); close its
 * conn when close_it. */
void pq_dconn_detach(struct pq_dconn *dc, const char *why, bool close_it, uint64_t now_ms);

/* Rerun the re-handshake on dc (its dialer only): re-authentication. */
void pq_dconn_reauth(struct pq_dconn *dc, uint64_t now_ms);

/* direct_dial.c */
/* Next dial after retry_interval, jittered. */
void pq_direct_schedule_retry(struct pq_node_peer *p, uint64_t now_ms);
/* A dial did not open: the next candidate soon, or wait for the retry. */
void pq_direct_dial_failed(struct pq_node_peer *p, uint64_t now_ms);
/* Make sure p's tick timer runs. */
void pq_direct_arm(struct pq_node_peer *p, uint64_t now_ms);

#endif
