/*
 * daemon.h - `pqlan up`: the node daemon (DESIGN §1, §3, §4, §6, §7).
 *
 * One process, one event loop (net/loop.h), no threads. The loop watches
 * the TAP, the relay connection, the control socket and a signalfd; the
 * sans-I/O modules (proto/handshake.h, proto/session.h, node/l2.h) are
 * driven from its callbacks and timers. Files, one job each:
 *   daemon.c      setup from node.conf, run, orderly shutdown
 *   peer.c        per-peer handshake, session, timers, counters
 *   relay_link.c  the relay connection: auth, signalling, reconnect
 *   datapath.c    TAP <-> sessions (frames in and out)
 *   direct.c      direct conns: listener, re-handshake, migration, fallback
 *   direct_dial.c candidates, ENDPOINTS, dialling, liveness probes
 *   control.c     the UNIX control socket and `pqlan status` output
 *   log.c         one stderr line per event (also used by `pqlan relay`)
 *
 * struct pq_node is the daemon's whole state; every part borrows it.
 */
#ifndef PQ_NODE_DAEMON_H
#define PQ_NODE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/identity.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/tap.h"
#include "net/tls.h"
#include "node/config.h"
#include "node/l2.h"
#include "node/node.h"
#include "node/peer.h"
#include "proto/handshake.h"
#include "proto/msg_sealed.h"
#include "proto/types.h"

/* Relay reconnect: 0.5 s doubling to 30 s, each wait +-25% (jitter). */
#define PQ_NODE_RELAY_BACKOFF_MIN_MS 500u
#define PQ_NODE_RELAY_BACKOFF_MAX_MS 30000u
/* Looking the relay's host name up (issue 12: off the loop, bounded). */
#define PQ_NODE_RELAY_RESOLVE_TIMEOUT_MS 15000u
/* From WebSocket open to RELAY_WELCOME. */
#define PQ_NODE_RELAY_AUTH_TIMEOUT_MS 10000u
/* How long shutdown waits for the relay's CLOSE to flush. */
#define PQ_NODE_STOP_LINGER_MS 2500u
/* Frames read from the TAP per readiness event, so the relay side and
 * timers get their turn under load. */
#define PQ_NODE_TAP_BATCH 64
#define PQ_NODE_TAP_BUDGET_BYTES (256 * 1024) /* per TAP event, see datapath.c */

enum pq_relay_state { PQ_RELAY_IDLE = 0, PQ_RELAY_CONNECTING, PQ_RELAY_CONNECTED };

struct pq_node {
	struct pq_node_config cfg;
	const char *conf_path;         /* issue 12: what a reload re-reads (node/reload.h) */
	struct pq_loop *loop;
	struct pq_signer *signer;
	uint8_t pub[PQ_PUBKEY_LEN];
	char pub_b64[PQ_KEY_B64_LEN + 1];
	struct pq_tls_ctx *tls;
	struct pq_hs hs;
	bool hs_ready;
	struct pq_tap tap;
	struct pq_l2 *l2;
	struct pq_node_peer *peers;
	size_t peer_count;

	/* relay link */
	struct pq_conn *relay;
	struct pq_resolve *relay_resolve; /* issue 12: the URL's host name being looked up */
	enum pq_relay_state relay_state;
	uint32_t backoff_ms;
	struct pq_timer relay_timer;   /* reconnect, or auth deadline */
	uint64_t relay_drops;          /* RELAY_RECV from a key not in [peer] */
	struct pq_endpoint observed;   /* our address as the relay sees it */
	bool has_observed;
	uint64_t underlay_digest;      /* our addresses at RELAY_WELCOME (relay_link.c) */

	/* direct path (node/direct.h) */
	struct pq_tls_ctx *tls_server; /* mutual TLS, [peer] keys only */
	struct pq_listener *listener;  /* NULL when listen's port is 0 */
	struct pq_sockaddr listen_addr; /* bound address, when listening */
	struct pq_dconn *dconns;       /* every direct conn until its on_close */

	struct pq_metrics *metrics;    /* node/metrics.h; NULL: not configured */
	struct pq_node_opts opts;

	/* control socket, signals, shutdown */
	int ctl_fd;
	bool ctl_bound;                /* we created the socket file */
	struct pq_control *control;    /* its clients (control_sock.c) */
	int sig_fd;
	bool stopping;
	int exit_status;               /* of the process once stopped */
	struct pq_timer stop_timer;
	struct pq_timer housekeeping;  /* MAC ageing, half-open expiry */

	/* scratch buffers (one thread, no re-entry) */
	/* A frame from the TAP is read at frame + PQ_GSO_HDR_LEN so that the
	 * DATA_GSO plaintext (header, frame) is built in place; opened
	 * plaintexts land at frame. */
	uint8_t frame[PQ_SEALED_MAX_PT];
	uint8_t sealed[PQ_SEALED_MAX_LEN];
	uint8_t msg[PQ_MAX_MSG_LEN];
};

/* Begin an orderly shutdown (why: for the log); the process exits with
 * status once the loop ends. */
void pq_node_stop(struct pq_node *node, const char *why, int status);

/* relay_link.c */
void pq_relay_link_start(struct pq_node *node);
/* Send payload to dst through the relay. 0, PQ_E_STATE (not connected),
 * PQ_E_AGAIN (queue full, dropped), other negative codes. */
PQ_MUST_CHECK int pq_relay_link_send(struct pq_node *node, const uint8_t dst[PQ_PUBKEY_LEN],
				     const uint8_t *payload, size_t len);
/* Shutdown: CLOSE(going away), then close; no reconnect. */
void pq_relay_link_stop(struct pq_node *node);
const char *pq_relay_state_name(enum pq_relay_state s);
/* issue 12, reload: the peer set changed. Close the relay conn and dial
 * again at once, so the new conn's RELAY_WATCH carries the new set (the
 * relay takes one per conn); sessions are kept as across any relay loss. */
void pq_relay_link_rewatch(struct pq_node *node);

/* datapath.c */
void pq_datapath_tap_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms);
/* One end-to-end message from p (a RELAY_RECV payload). */
void pq_datapath_from_peer(struct pq_node_peer *p, const uint8_t *msg, size_t len, uint64_t now_ms);
/* One sealed message from p, through the relay (via NULL) or on a direct
 * conn: its type once opened, or a negative code (counted as dropped). */
long pq_datapath_sealed(struct pq_node_peer *p, const uint8_t *msg, size_t len, uint64_t now_ms,
			struct pq_dconn *via);

/* control.c */
PQ_MUST_CHECK int pq_control_open(struct pq_node *node, char *err, size_t err_len);
void pq_control_close(struct pq_node *node);
/* Status report into out (cap bytes): JSON (one line) or text. The
 * length written, or PQ_E_TOOBIG. */
PQ_MUST_CHECK long pq_control_status(const struct pq_node *node, bool json, char *out, size_t cap,
				     uint64_t now_ms);
/* What status reports per peer (shared with node/metrics.c): the state's
 * and path's names, and re-handshakes that failed for any reason. */
const char *pq_peer_state_name(enum pq_peer_state s);
const char *pq_peer_path_name(const struct pq_node_peer *p, enum pq_peer_state s);
uint64_t pq_peer_rehs_failures(const struct pq_node_peer *p);

#endif
