/*
 * direct.h - the direct node-to-node path (DESIGN §5, docs/PROTOCOL.md §5):
 * listener, dialling, re-handshake, migration and fallback.
 *
 *   listener  [node] listen, mutual TLS: only [peer] keys whose path is
 *             not "relay" are accepted (pq_tls_ctx_require_client).
 *   candidates the peer's static `endpoint`, then the addresses it sends
 *             in a sealed ENDPOINTS once the session is up.
 *   dial      pinned to the peer's key; one candidate per attempt; the node
 *             with the higher key waits PQ_DIRECT_HIGH_KEY_DELAY_MS longer,
 *             so both rarely dial at once. When two conns are open anyway,
 *             the one dialled by the lower key wins (DESIGN §2).
 *   rehs      on every new direct conn, the dialer initiates; binding =
 *             the conn's TLS exporter, keys = the session's current
 *             keypair. Only a COMPLETED run makes the conn usable.
 *   migrate   the first usable conn becomes the peer's active path at
 *             once; the relay still delivers what is in flight (one replay
 *             window per key, whatever the path).
 *   reauth    the dialer reruns the re-handshake on the active conn after
 *             every rekey (the current keys changed) and every
 *             reauth_interval; a failed run drops the path to the relay.
 *   fallback  the active conn closes or errors, or goes 1 s without
 *             receiving after we sent and then 1 s without answering a
 *             PROBE: it is dropped and the peer is back on the relay at
 *             once. Redial after retry_interval (jittered), at once when
 *             the peer's candidates change.
 *
 * The conns are struct pq_dconn, one per struct pq_conn (its data
 * pointer), on the node's list until their on_close.
 */
#ifndef PQ_NODE_DIRECT_H
#define PQ_NODE_DIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"
#include "node/peer.h"
#include "proto/rehandshake.h"

#define PQ_DIRECT_TICK_MS 250u
#define PQ_DIRECT_PROBE_AFTER_MS 1000u   /* sent, nothing received: probe */
#define PQ_DIRECT_PROBE_WAIT_MS 1000u    /* probe unanswered: drop */
#define PQ_DIRECT_OPEN_TIMEOUT_MS 5000u  /* TCP + TLS + Upgrade of a dial */
#define PQ_DIRECT_HIGH_KEY_DELAY_MS 1500u
#define PQ_DIRECT_NEXT_CAND_MS 200u      /* a candidate failed: try the next */

struct pq_dconn {
	struct pq_node_peer *peer;
	struct pq_conn *conn;
	struct pq_dconn *next_all;     /* the node's list of every dconn */
	bool dialled;                  /* we dialled it (re-handshake initiator) */
	bool open;
	bool usable;                   /* its re-handshake COMPLETED */
	bool dead;                     /* detached: closing, ignored */
	bool rehs_live;
	struct pq_rehs rehs;
	uint64_t rehs_start_us;        /* monotonic µs, for last_rehandshake_us */
	uint64_t rehs_done_ms;         /* monotonic: last run COMPLETED */
	uint32_t rehs_index;           /* local index of the keys of the last run */
	uint64_t last_rx_ms;           /* monotonic: last authenticated message */
	uint64_t unanswered_ms;        /* first send after the last receive; 0 none */
	uint64_t probe_ms;             /* PROBE outstanding since; 0 none */
	struct pq_sockaddr addr;       /* the peer's address on this conn */
};

/* Per-peer direct state and the server TLS context (from priv, which the
 * caller wipes). No TLS context, and later no listener, when listen's port
 * is 0: a test setup of check_three_nodes.sh, nothing to tell the peers
 * (they may still be dialled at a static endpoint). */
PQ_MUST_CHECK int pq_direct_start(struct pq_node *node, const uint8_t priv[32], char *err, size_t err_len);
/* Start the listener (after the loop exists). */
PQ_MUST_CHECK int pq_direct_listen(struct pq_node *node, char *err, size_t err_len);
/* Shutdown: stop listening (conns are closed by pq_direct_free). */
void pq_direct_stop(struct pq_node *node);
/* Free every conn (no callbacks), the listener and the TLS context. */
void pq_direct_free(struct pq_node *node);

/* Per-peer: after anything changed p (session up, offline, ...). Sends
 * our ENDPOINTS once per session, arms the tick. */
void pq_direct_service(struct pq_node_peer *p, uint64_t now_ms);
/* p came back online with its session still usable (roaming): send our
 * ENDPOINTS again and, without a direct path, dial its candidates now. */
void pq_direct_resume(struct pq_node_peer *p, uint64_t now_ms);
/* The session ended (its keys retired): close every direct conn of p. */
void pq_direct_reset(struct pq_node_peer *p, uint64_t now_ms);
/* Send an already sealed message on p's active direct conn. 0, or
 * PQ_E_STATE (none: the caller uses the relay), PQ_E_AGAIN (queue full). */
PQ_MUST_CHECK int pq_direct_send(struct pq_node_peer *p, const uint8_t *sealed, size_t len, uint64_t now_ms);
bool pq_direct_active(const struct pq_node_peer *p);

/* Opened sealed messages that belong to the direct path. via is the conn
 * it came on (NULL: the relay). */
void pq_direct_endpoints_in(struct pq_node_peer *p, const uint8_t *pt, size_t len, uint64_t now_ms);
/* An authenticated message from p arrived through the relay: probe the
 * direct path now if it has gone quiet (p may have fallen back). */
void pq_direct_relay_heard(struct pq_node_peer *p, uint64_t now_ms);
void pq_direct_probe_in(struct pq_node_peer *p, struct pq_dconn *via, const uint8_t *pt, size_t len,
			uint64_t now_ms);

#endif
