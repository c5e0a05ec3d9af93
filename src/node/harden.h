/*
 * harden.h - the node's side of issue 11 (DESIGN §7 "least privilege",
 * "availability under attack", "layer-2 trust"), kept out of the engine's
 * files so that each of them calls one function:
 *
 *   daemon start-up   pq_node_fd_budget()      before anything opens fds
 *                     pq_node_pin_macs()       once the MAC table exists
 *                     pq_node_drop_privileges() after the last privileged step
 *   direct listener   pq_node_listen_opts()    its admission limits
 *   relay link        pq_node_relay_conn_opts() its liveness options
 *   dialling          pq_sockaddr_candidate_ok() (net/sock.h) on peer-supplied
 *                     candidates and on the relay-observed address
 */
#ifndef PQ_NODE_HARDEN_H
#define PQ_NODE_HARDEN_H

#include <stdbool.h>
#include <stddef.h>

#include "net/conn.h"
#include "util/err.h"

struct pq_node;

/* Relay link liveness: ping after 5 s of silence, closed 5 s later without
 * an answer (the node then says "relay: connecting" and reconnects), TCP
 * user timeout 10 s: a black-holed relay is noticed within 10 s. */
#define PQ_NODE_RELAY_PING_MS 5000
#define PQ_NODE_RELAY_USER_TIMEOUT_MS 10000
/* Direct listener: pending (not yet open) conns, from one source and in
 * all; the total grows with the peers (each may dial a couple at once). */
#define PQ_NODE_PENDING_PER_SOURCE 4
#define PQ_NODE_PENDING_MIN 8
#define PQ_NODE_PENDING_MAX 256
/* fds kept for everything but direct conns: stdio, epoll, signalfd, TAP,
 * control and metrics listeners and their clients, the relay conn, DNS,
 * netlink (getifaddrs), headroom. */
#define PQ_NODE_FD_RESERVE 64

/* Raise the soft RLIMIT_NOFILE towards what the peers need (up to the hard
 * limit) and size the direct listener's pending cap so that it can never
 * take the reserve: a flood at the listener cannot starve the relay conn
 * or `pqlan status`. Logs the budget. Never fails: a low limit only means
 * a smaller pending cap. */
void pq_node_fd_budget(struct pq_node *node);

/* The direct listener's options (pending caps from pq_node_fd_budget). */
void pq_node_listen_opts(const struct pq_node *node, struct pq_conn_opts *o);

/* The relay conn's options (liveness, above). */
void pq_node_relay_conn_opts(struct pq_conn_opts *o);

/* Whether a direct-path candidate from a peer's ENDPOINTS (or the address
 * the relay observed for us) may be dialled / advertised:
 * pq_sockaddr_candidate_ok on it. */
struct pq_endpoint;
bool pq_node_endpoint_ok(const struct pq_endpoint *ep);
/* Remove the candidates pq_node_endpoint_ok refuses from e; how many. */
struct pq_endpoints;
unsigned pq_node_endpoints_filter(struct pq_endpoints *e);

/* [peer] allowed_mac into the MAC table (l2.h pq_l2_pin). PQ_E_CONFIG
 * with err naming the peer when a MAC is pinned to two peers. */
PQ_MUST_CHECK int pq_node_pin_macs(struct pq_node *node, char *err, size_t err_len);

/* [node] user / seccomp (util/privdrop.h), logged; a warning when we stay
 * root. On failure err says why and the daemon must not go on. */
PQ_MUST_CHECK int pq_node_drop_privileges(struct pq_node *node, char *err, size_t err_len);

#endif
