/*
 * node_int.h - the node daemon's one internal contract (DESIGN §1-§7):
 * its state, which file owns (writes) each part of it, and what each file
 * offers the others. Nothing outside src/node/ includes it (src/cli/ uses
 * node/node.h); tests of the reports build a fake node from it.
 *
 * One process, one event loop (net/loop.h), no threads. The sans-I/O
 * modules decide: proto/handshake.h and proto/session.h (keys, frames),
 * proto/path.h (which way each message goes, when to dial, probe, drop,
 * re-authenticate), proto/rehandshake.h (proofs on a direct conn), l2.h
 * (which peer a frame is for). The files here execute what they decide.
 *
 *   file           owns (the only writer of)            job
 *   daemon.c       struct pq_node's set-up part, life   set up, run, stop
 *   peer.c         pq_node_peer.hs, .session, .state    handshakes, session timers,
 *                                                       online/offline
 *   send.c         node->send                           every message to a peer
 *                                                       leaves here (one route)
 *   datapath.c     node->dp, pq_node_peer.count         TAP <-> sessions
 *   path_exec.c    pq_node_peer.path (but .conn[k])     path core events and actions,
 *                                                       candidates, ENDPOINTS, probes
 *   dconn.c        struct pq_dconn, .path.conn[k]       one direct conn: its proofs,
 *                                                       its messages in and out
 *   tls_path.c     node->tlsp                           TLS listener, dials
 *   udp_path.c     node->udp                            UDP socket: datagrams in, UDP
 *                                                       attempts (punching), STUN client
 *   udp_pmtu.c     pq_dconn.pmtu, .pmtu_timer           a UDP conn's MTU search
 *   relay_link.c   node->relay                          the relay connection
 *   control.c      (nothing: reads)                     the status report
 *   control_sock.c node->control                        the UNIX control socket
 *   metrics*.c     node->metrics                        Prometheus endpoint, histograms
 *   counters.c     (nothing: reads)                     the per-peer counter table
 *   reload.c       node->cfg after start-up, tombstones SIGHUP / `pqlan reload`:
 *                  (pq_node_peer.removed)               peers added, removed, changed
 *   ifaddr.c, l2*.c, config_node.c                      leaf modules with their own headers
 *
 * Who calls whom, and why the circles that remain are inherent:
 *   relay_link -> peer (online/offline), datapath (what the relay delivers)
 *   datapath -> peer (handshakes), path_exec (ENDPOINTS, PROBE, relay RX), send
 *   peer -> send (handshake messages, keepalives), path_exec (keys changed)
 *   path_exec -> send (probes, ENDPOINTS, keepalive), dconn, tls_path
 *   dconn -> path_exec (proof done/failed, RX, close), peer (handshakes on
 *            the conn), datapath (sealed messages on the conn)
 *   send -> path_exec (TX, send failures), dconn (conn send), relay_link
 *   tls_path -> dconn (conn events), path_exec (accept, open, close)
 *   Inherent: messages come in through relay_link or a dconn and answers
 *   go out through send to the same two (relay_link <-> datapath/peer/send,
 *   dconn <-> path_exec/send); the path core is told about a conn by the
 *   conn and tells the conn what to do (path_exec <-> dconn/tls_path).
 *
 * Times: "now" is the loop's monotonic clock in ms (pq_loop_now); every
 * deadline and timer runs on it. Wall time (util/clock.h) only stamps
 * handshake and re-handshake messages.
 *
 * Scratch buffers, one writer each: dp.frame (datapath.c: a frame read
 * from the TAP, or an opened plaintext), send.sealed (send.c: one sealed
 * message on its way out), relay.msg (relay_link.c: a RELAY_SEND). The
 * path core never asks to send from inside a send (proto/path.h), so none
 * of them is written while another use of it is in flight.
 */
#ifndef PQ_NODE_NODE_INT_H
#define PQ_NODE_NODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/identity.h"
#include "net/conn.h"
#include "net/endpoint.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tap.h"
#include "net/tls.h"
#include "net/udp.h"
#include "node/config.h"
#include "node/l2.h"
#include "node/node.h"
#include "proto/challenge_cache.h"
#include "proto/frag.h"
#include "proto/gso_coalesce.h"
#include "proto/handshake.h"
#include "proto/msg_sealed.h"
#include "proto/path.h"
#include "proto/pmtu.h"
#include "proto/rehandshake.h"
#include "proto/session.h"
#include "proto/stun.h"
#include "util/err.h"

struct pq_node;
struct pq_dconn;
struct pq_control;
struct pq_metrics;

/* ------------------------------------------------------------------ */
/* Limits and timings                                                  */

/* Relay reconnect: 0.5 s doubling to 30 s, each wait +-25% (jitter). */
#define PQ_NODE_RELAY_BACKOFF_MIN_MS 500u
#define PQ_NODE_RELAY_BACKOFF_MAX_MS 30000u
/* Looking the relay's host name up (off the loop, net/resolve.h). */
#define PQ_NODE_RELAY_RESOLVE_TIMEOUT_MS 15000u
/* From WebSocket open to RELAY_WELCOME. */
#define PQ_NODE_RELAY_AUTH_TIMEOUT_MS 10000u
/* How long shutdown waits for the relay's CLOSE to flush. */
#define PQ_NODE_STOP_LINGER_MS 2500u
/* Frames read from the TAP per readiness event, and bytes queued by one
 * event, so the relay side and timers get their turn under load. */
#define PQ_NODE_TAP_BATCH 64
#define PQ_NODE_TAP_BUDGET_BYTES (256 * 1024)
/* An unanswered initiation is retried this long after it was sent, plus
 * up to HS_RETRY_JITTER_MS so two peers do not stay in lock step. */
#define PQ_NODE_HS_RETRY_MS 5000u
#define PQ_NODE_HS_RETRY_JITTER_MS 1000u
/* A TLS dial's TCP + TLS + Upgrade. */
#define PQ_NODE_DIAL_TIMEOUT_MS 5000u
/* UDP: re-handshake messages of an attempt are resent this often until
 * answered (the path core's 5 s bound the whole attempt); datagrams read
 * per readiness event; the largest datagram taken. */
#define PQ_NODE_UDP_RESEND_MS 250u
#define PQ_NODE_UDP_BATCH 64
#define PQ_NODE_UDP_MAX_DGRAM PQ_PMTU_MAX /* the largest datagram udp_mtu allows */
#define PQ_NODE_UDP_RX_MSGS 16
#define PQ_NODE_UDP_RX_BUF 65536
#define PQ_NODE_UDP_REHS_PER_S 200u       /* per peer (udp_path.c rehs_budget_left) */
#define PQ_NODE_UDP_REHS_NODE_PER_S 2000u /* and for the whole node */
/* A datagram from an address we have not validated that proves the
 * peer's keys (its probes are answered there; see udp_path.c). */
#define PQ_NODE_VIA_UDP_NEW (-3)

/* ------------------------------------------------------------------ */
/* One peer                                                            */

enum pq_peer_state { PQ_PEER_OFFLINE = 0, PQ_PEER_HANDSHAKING, PQ_PEER_ESTABLISHED };

/* datapath.c (and send.c for frames lost on the way out). */
struct pq_peer_counters {
	uint64_t rx_bytes, tx_bytes;   /* Ethernet frame bytes */
	uint64_t rx_frames, tx_frames; /* DATA and DATA_GSO frames */
	uint64_t rx_gso_frames, tx_gso_frames; /* of which DATA_GSO (offload header) */
	uint64_t rx_frag_frames, tx_frag_frames; /* of which in DATA_FRAG pieces (UDP) */
	uint64_t dropped_frames;       /* refused by the session (auth, replay,
					* malformed), or not sent (queue full) */
};

/* path_exec.c, except conn[] (dconn.c attaches and detaches). */
struct pq_peer_path {
	struct pq_path core;           /* proto/path.h: the decisions */
	struct pq_dconn *conn[PQ_PATH_MAX_CONNS]; /* slot -> its conn (dconn.c) */
	struct pq_endpoints cands;     /* from the peer's ENDPOINTS */
	struct pq_challenge_cache cache; /* re-handshake challenges, per session */
	struct pq_rehs_counters rehs_count;
	uint64_t rehs_not_started;     /* runs that failed before a message */
	uint64_t last_rehs_ms;         /* monotonic; 0: none */
	uint64_t last_rehs_us;         /* duration of the last completed run */
	uint64_t udp_refused;          /* UDP re-handshake datagrams ignored */
	uint64_t udp_rehs_second;      /* udp_path.c: the second of udp_rehs_taken */
	unsigned udp_rehs_taken;       /* re-handshake datagrams taken in it */
	struct pq_sockaddr udp_seen;   /* udp_path.c: last authenticated source we
					* did not validate (peer-reflexive) */
	struct pq_sockaddr udp_from;   /* udp_path.c: the source of the datagram
					* being handled (a probe's answer goes there) */
	bool has_udp_seen;
	bool keys_told;                /* the core knows our keys (KEYS sent) */
	uint32_t keys_index;           /* ... under this index */
	struct pq_timer timer;         /* the core's deadline */
};

struct pq_node_peer {
	/* peer.c, at start; read-only after */
	struct pq_node *node;
	uint32_t id;                   /* index in node->peers, the l2 peer id */
	const struct pq_config_peer *cfg;
	uint8_t key[PQ_PUBKEY_LEN];
	char key_b64[PQ_KEY_B64_LEN + 1];

	/* peer.c */
	struct pq_hs_peer hs;
	struct pq_session session;
	bool online;                   /* the relay reports it (PEER_ONLINE, or a
					* message it delivered from the peer) */
	bool rekey_wanted;             /* the session's last poll asked for one */
	uint64_t next_retry_ms;        /* earliest next initiation */
	uint64_t handshake_ms;         /* last keys derived, 0 none */
	uint64_t hs_start_us;          /* monotonic µs: our last HS_INIT sent, 0 none */
	struct pq_timer timer;
	uint8_t version_warned;        /* the other protocol version we warned about */
	bool removed;                  /* taken out by a reload (reload.c): a tombstone
					* no lookup, report or RELAY_WATCH sees; the
					* slot stays, timers and conns point into it */

	struct pq_peer_counters count; /* datapath.c */
	struct pq_peer_path path;      /* path_exec.c */
	struct pq_frag_rx frag;        /* datapath.c: DATA_FRAG wholes being put
					* together (freed with the peer) */
	uint32_t frag_next_id;         /* send.c: the next DATA_FRAG whole's id */
};

/* ------------------------------------------------------------------ */
/* The node                                                            */

enum pq_relay_state { PQ_RELAY_IDLE = 0, PQ_RELAY_CONNECTING, PQ_RELAY_CONNECTED };

/* relay_link.c */
struct pq_relay_link {
	struct pq_conn *conn;
	struct pq_resolve *resolve;    /* the URL's host name being looked up */
	struct pq_sockaddr addr;       /* the relay's address (resolved) */
	enum pq_relay_state state;
	uint32_t backoff_ms;
	struct pq_timer timer;         /* reconnect, auth deadline, underlay check */
	uint64_t drops;                /* RELAY_RECV from a key not in [peer] */
	struct pq_endpoint observed;   /* our address as the relay sees it */
	bool has_observed;
	uint64_t underlay_digest;      /* our addresses at RELAY_WELCOME */
	size_t cur;                    /* cfg.relays[cur]: in use or being tried */
	size_t failed;                 /* relays failed in a row (several relays) */
	uint64_t switches;             /* moves to another relay */
	uint8_t msg[PQ_MAX_MSG_LEN];   /* scratch: one RELAY_SEND / RELAY_WATCH */
};

/* tls_path.c */
struct pq_tls_path {
	struct pq_tls_ctx *server;     /* mutual TLS, [peer] keys only */
	struct pq_listener *listener;  /* NULL when listen's port is 0 */
	struct pq_sockaddr listen_addr; /* bound address, when listening */
};

/* udp_path.c */
#define PQ_NODE_STUN_SERVERS (1 + 1 + PQ_CONFIG_MAX_STUN) /* the relay's two ports + config */
struct pq_udp_path {
	int fd;                        /* -1: no UDP socket (listen_udp = off) */
	struct pq_sockaddr local;      /* bound address */
	uint16_t port;
	uint64_t drops;                /* datagrams refused before any peer's keys */
	uint64_t send_errors;          /* datagrams the kernel refused */
	uint64_t rehs_second;          /* the second of rehs_taken */
	unsigned rehs_taken;           /* re-handshake datagrams taken in it, all peers */
	uint64_t stun_sent, stun_answers;
	/* STUN client: our public mapping as servers see it */
	struct pq_sockaddr stun_server[PQ_NODE_STUN_SERVERS];
	size_t stun_count;
	struct pq_stun_txn stun_txn[PQ_NODE_STUN_SERVERS];
	struct pq_endpoint mapped[PQ_NODE_STUN_SERVERS]; /* family 0: no answer */
	struct pq_endpoint reflexive;  /* what we tell peers; family 0: none */
	enum pq_nat_mapping nat;       /* from the relay's two STUN ports */
	struct pq_timer stun_timer;    /* transactions, and the refresh */
	/* Receive ring: messages of one recvmmsg, each up to 64 KiB (UDP
	 * GRO packs several datagrams into one); opened in place. */
	struct pq_udp_msg rx[PQ_NODE_UDP_RX_MSGS];
	uint8_t *rx_mem;
	bool gro;
};

/* send.c */
struct pq_node_send {
	uint8_t sealed[PQ_SEALED_MAX_LEN];
	uint8_t segment[PQ_NODE_UDP_MAX_DGRAM]; /* one TCP segment cut for UDP */
	uint8_t batch[96 * 1024];     /* a super-frame's sealed segments, back to back */
};

/* datapath.c */
#define PQ_NODE_CO_ARENA (1024 * 1024)   /* super-frames built from one batch */
#define PQ_NODE_CO_OUT 1024              /* frames written from one batch */
struct pq_node_dp {
	/* A batch of datagrams (udp_path.c): DATA frames opened in place go
	 * through the coalescer (proto/gso_coalesce.h) and reach the TAP as
	 * super-frames at the batch's end; the peers they came from are
	 * serviced then, once each. */
	bool batching;
	struct pq_gso_coalesce co;
	uint8_t *arena;
	struct pq_gso_out *co_out;
	uint64_t touched[(PQ_CONFIG_MAX_PEERS + 63) / 64];
	/* A frame from the TAP is read at frame + PQ_GSO_HDR_LEN so that the
	 * DATA_GSO plaintext (header, frame) is built in place; opened
	 * plaintexts land at frame. */
	uint8_t frame[PQ_SEALED_MAX_PT];
};

/* daemon.c */
struct pq_node_life {
	int sig_fd;
	bool stopping;
	int exit_status;               /* of the process once stopped */
	struct pq_timer stop_timer;
	struct pq_timer housekeeping;  /* MAC ageing, half-open expiry */
};

struct pq_node {
	/* daemon.c: set up before the loop runs, read-only after */
	struct pq_node_config cfg;     /* reload.c swaps it between loop turns */
	const char *conf_path;         /* what a reload re-reads */
	struct pq_node_opts opts;
	struct pq_loop *loop;
	struct pq_signer *signer;
	uint8_t pub[PQ_PUBKEY_LEN];
	char pub_b64[PQ_KEY_B64_LEN + 1];
	struct pq_tls_ctx *tls;        /* client side: relay and direct dials */
	struct pq_hs hs;               /* peer.c drives it */
	bool hs_ready;
	struct pq_tap tap;
	struct pq_l2 *l2;              /* datapath.c and peer.c drive it */
	struct pq_node_peer *peers;    /* peer.c */
	size_t peer_count;
	struct pq_dconn *dconns;       /* dconn.c: every conn until freed */

	struct pq_node_life life;      /* daemon.c */
	struct pq_relay_link relay;    /* relay_link.c */
	struct pq_tls_path tlsp;       /* tls_path.c */
	struct pq_udp_path udp;        /* udp_path.c */
	struct pq_node_send send;      /* send.c */
	struct pq_node_dp dp;          /* datapath.c */
	struct pq_control *control;    /* control_sock.c */
	struct pq_metrics *metrics;    /* metrics.c; NULL: not configured */
};

/* ------------------------------------------------------------------ */
/* daemon.c                                                            */

/* Begin an orderly shutdown (why: for the log); the process exits with
 * status once the loop ends. */
void pq_node_stop(struct pq_node *node, const char *why, int status);

/* ------------------------------------------------------------------ */
/* peer.c                                                              */

/* A short name for logs: the configured name, else the key. */
const char *pq_peer_label(const struct pq_node_peer *p);
/* Fill node->peers from the configuration. PQ_E_NOMEM, PQ_E_CONFIG (a
 * peer with our own key; err says which). */
PQ_MUST_CHECK int pq_peers_init(struct pq_node *node, char *err, size_t err_len);
/* Set up the zeroed slot p (index id) for the configured peer c; wall is
 * the Unix time for its handshake freshness (at start and by reload.c;
 * path state: pq_path_exec_peer_init). */
void pq_peer_slot_init(struct pq_node *node, struct pq_node_peer *p, uint32_t id,
		       const struct pq_config_peer *c, uint64_t mono_ms);
/* Wipe every peer's keys and handshake state, cancel timers, free. */
void pq_peers_free(struct pq_node *node);
struct pq_node_peer *pq_peer_find(struct pq_node *node, const uint8_t key[PQ_PUBKEY_LEN]);
/* offline: neither the relay nor a direct path reaches it;
 * handshaking: no keys that may send; established: keys that may send. */
enum pq_peer_state pq_peer_state(const struct pq_node_peer *p, uint64_t now_ms);
/* The relay reports p online: a fresh handshake, unless its session
 * still works (then only ENDPOINTS again: roaming), or offline (the
 * session is kept). pq_peer_heard_via_relay: a message from p came
 * through the relay (so the relay has it online). */
void pq_peer_online(struct pq_node_peer *p, uint64_t now_ms);
void pq_peer_offline(struct pq_node_peer *p, uint64_t now_ms);
void pq_peer_heard_via_relay(struct pq_node_peer *p, uint64_t now_ms);
/* One handshake message (0x10-0x12) from p that came on `via` (a conn
 * slot, or PQ_PATH_VIA_RELAY); the answer goes back the way it came.
 * True when the message checked out (signature included): only then does
 * it say the way it came is alive. */
bool pq_peer_handshake_msg(struct pq_node_peer *p, const uint8_t *msg, size_t len, int via, uint64_t now_ms);
/* Poll the session, send what it asks for, retry handshakes, tell the
 * path core about keys, re-arm the timer. Call after anything changed p. */
void pq_peer_service(struct pq_node_peer *p, uint64_t now_ms);
/* The handshake allowlist and index callbacks for struct pq_hs. */
struct pq_hs_peer *pq_peer_hs_lookup(void *ctx, const uint8_t pub[PQ_PUBKEY_LEN]);
bool pq_peer_hs_index_taken(void *ctx, uint32_t index);

/* ------------------------------------------------------------------ */
/* send.c: every message to a peer takes the path core's route         */

/* Seal pt as a message of type and send it where the path core says
 * (data: PQ_E_STATE when the policy allows no way now). 0, or a negative
 * code (no keys, queue full, ...). A conn that fails for good is reported
 * to the path core and the message goes through the relay instead. */
PQ_MUST_CHECK int pq_send_sealed(struct pq_node_peer *p, uint8_t type, const uint8_t *pt, size_t len,
				 uint64_t now_ms);
/* The same on one given way: a conn slot (PROBE, PROBE_ACK, MTU probes,
 * the keepalive after a drop) or PQ_PATH_VIA_RELAY (the keepalive after a
 * fallback); no re-routing. */
PQ_MUST_CHECK int pq_send_sealed_via(struct pq_node_peer *p, int via, uint8_t type, const uint8_t *pt,
				     size_t len, uint64_t now_ms);
/* One Ethernet frame from our TAP with its offload header (all zero: a
 * plain frame): DATA, or DATA_GSO when the header says so; on a UDP conn
 * a frame larger than a datagram is cut into TCP segments (proto/
 * gso_seg.h), or, when it cannot be, sent on the TLS conn or the relay.
 * frame must have PQ_GSO_HDR_LEN writable bytes before it (the DATA_GSO
 * header is put there). 0 or a negative code, as pq_send_sealed. */
PQ_MUST_CHECK int pq_send_frame(struct pq_node_peer *p, const struct pq_gso_hdr *hdr, uint8_t *frame, size_t len,
				uint64_t now_ms);
/* A handshake message; came_on: the conn the message it answers came on,
 * else PQ_PATH_VIA_RELAY. */
PQ_MUST_CHECK int pq_send_handshake(struct pq_node_peer *p, const uint8_t *msg, size_t len, int came_on,
				    uint64_t now_ms);

/* ------------------------------------------------------------------ */
/* datapath.c                                                          */

void pq_datapath_tap_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms);
/* One end-to-end message from p through the relay (a RELAY_RECV payload). */
void pq_datapath_from_relay(struct pq_node_peer *p, const uint8_t *msg, size_t len, uint64_t now_ms);
/* One sealed message (0x20-0x25) from p that came on `via` (a conn slot
 * or PQ_PATH_VIA_RELAY): its type once opened, or a negative code
 * (counted as dropped). */
long pq_datapath_sealed(struct pq_node_peer *p, const uint8_t *msg, size_t len, int via, uint64_t now_ms);
/* The same for a datagram of the UDP path, opened in place (msg is
 * overwritten with its plaintext). */
long pq_datapath_sealed_inplace(struct pq_node_peer *p, uint8_t *msg, size_t len, int via, uint64_t now_ms);
/* Batches (the UDP path's receive side): buffers (PQ_E_NOMEM), and the
 * begin / end of one batch, whose DATA frames are coalesced and written,
 * and whose peers are serviced, at its end. */
PQ_MUST_CHECK int pq_datapath_batch_init(struct pq_node *node);
void pq_datapath_batch_free(struct pq_node *node);
void pq_datapath_batch_begin(struct pq_node *node);
void pq_datapath_batch_end(struct pq_node *node, uint64_t now_ms);
/* A message from p refused before it was opened (counted). */
void pq_datapath_drop(struct pq_node_peer *p);

/* ------------------------------------------------------------------ */
/* path_exec.c                                                         */

/* Per-peer path state (after pq_peers_init); one peer's (a slot a reload
 * fills). */
void pq_path_exec_init(struct pq_node *node);
void pq_path_exec_peer_init(struct pq_node_peer *p);
/* Reload (reload.c): new intervals, path and transport in place (the
 * core drops what the new ones forbid); restart: p's static endpoint
 * changed, its path starts over (conns closed, session kept). */
void pq_path_exec_reconfigure(struct pq_node_peer *p, bool restart, uint64_t now_ms);
/* Feed one event to p's path core and execute the actions it returns. */
void pq_path_exec_event(struct pq_node_peer *p, const struct pq_path_event *ev, uint64_t now_ms);
/* An open conn the peer dialled: its slot (dc attached to it, the core's
 * actions executed), or -1: refused, the caller closes it, or
 * PQ_NODE_ACCEPT_GONE: accepted and dropped at once (it lost a crossing),
 * already closed; a UDP dc is freed: the caller must not touch it. */
#define PQ_NODE_ACCEPT_GONE (-2)
int pq_path_exec_accept(struct pq_node_peer *p, struct pq_dconn *dc, uint64_t now_ms);
/* Shorthands for events that carry only a slot (or nothing). */
void pq_path_exec_simple(struct pq_node_peer *p, enum pq_path_ev_type type, int conn, uint64_t now_ms);
/* Arm p's path timer at the core's next deadline (after pq_path_tx). */
void pq_path_exec_rearm(struct pq_node_peer *p, uint64_t now_ms);
/* p's keys: tell the core when they became usable, changed or went. */
void pq_path_exec_keys(struct pq_node_peer *p, uint64_t now_ms);
/* Opened plaintexts that belong to the path. */
void pq_path_exec_endpoints_in(struct pq_node_peer *p, const uint8_t *pt, size_t len, uint64_t now_ms);
void pq_path_exec_probe_in(struct pq_node_peer *p, int via, const uint8_t *pt, size_t len, uint64_t now_ms);
/* The session ended or the node stops: every conn of p closed. */
void pq_path_exec_reset(struct pq_node_peer *p, uint64_t now_ms);
/* An authenticated datagram came from an address of p we had not seen:
 * a (peer-reflexive) UDP candidate more for the core. */
void pq_path_exec_udp_seen(struct pq_node_peer *p, uint64_t now_ms);
/* A peer's candidate i as a socket address (the static endpoint first). */
bool pq_path_exec_candidate(const struct pq_node_peer *p, unsigned i, struct pq_sockaddr *out);
/* Where frames to p go now, for status: the active conn, or NULL. */
const struct pq_dconn *pq_path_exec_active(const struct pq_node_peer *p);
/* Re-handshakes that failed, whatever the reason (status, metrics). */
uint64_t pq_path_exec_rehs_failures(const struct pq_node_peer *p);

/* ------------------------------------------------------------------ */
/* dconn.c: one direct conn, whatever carries it                       */

struct pq_dconn {
	struct pq_node_peer *peer;     /* NULL once detached from its slot */
	int slot;                      /* in peer->path.conn[], -1 once detached */
	uint8_t transport;             /* enum pq_path_transport */
	bool dialled;                  /* we dialled it: the re-handshake initiator */
	bool open;                     /* its transport reported open */
	struct pq_conn *conn;          /* TLS */
	struct pq_sockaddr addr;       /* the peer's address on it */
	struct pq_rehs rehs;
	bool rehs_live;
	uint32_t rehs_index;           /* local index of the keys of the run */
	uint64_t rehs_start_us;        /* monotonic µs, for last_rehandshake_us */
	uint64_t heard_ms;             /* last authenticated message on it, any kind (status) */
	struct pq_dconn *next_all;     /* node->dconns */
	struct pq_node *node;
	/* UDP (udp_path.c): the attempt, and what is resent until answered */
	bool udp_refused;              /* the last datagram was refused (undone) */
	bool has_addr;                 /* addr validated (UDP) / known (TLS) */
	uint8_t binding[PQ_REHS_BINDING_LEN];
	uint8_t last_out[PQ_REHS_MAX_MSG_LEN]; /* our last re-handshake message */
	size_t last_out_len;
	uint8_t last_in[PQ_REHS_MAX_MSG_LEN];  /* the REQUEST we answered, or the COMPLETE that completed the run */
	size_t last_in_len;
	uint64_t complete_ms;          /* when that COMPLETE came */
	unsigned complete_copies;      /* its copies let go since (the peer sends 3) */
	unsigned resends;
	struct pq_timer resend;
	/* UDP (udp_pmtu.c): how large a datagram the path carries */
	struct pq_pmtu pmtu;
	bool pmtu_started;
	uint64_t pmtu_tx_frames;       /* the peer's tx_frames at the last poll */
	struct pq_timer pmtu_timer;
};

/* A dconn for c, on the node's list (not yet on a slot). PQ_E_NOMEM. */
PQ_MUST_CHECK int pq_dconn_new(struct pq_node *node, struct pq_conn *c, uint8_t transport, bool dialled,
			       struct pq_dconn **out);
/* Put dc on p's slot k / take it off (no more events from it). */
void pq_dconn_attach(struct pq_dconn *dc, struct pq_node_peer *p, int k);
void pq_dconn_detach(struct pq_dconn *dc);
/* Its first proof completed (the path core's view). */
bool pq_dconn_usable(const struct pq_dconn *dc);
/* A re-handshake datagram on a UDP conn, from `from` (a refused one is
 * undone and counted, not a failure of the attempt). */
void pq_dconn_udp_rehs(struct pq_dconn *dc, const struct pq_sockaddr *from, const uint8_t *msg, size_t len,
		       uint64_t now_ms);
/* Start a run as initiator (REHS_START). Failing to start is a failed run. */
void pq_dconn_rehs_start(struct pq_dconn *dc, uint64_t now_ms);
/* A message on dc (after open). */
void pq_dconn_message(struct pq_dconn *dc, const uint8_t *msg, size_t len, uint64_t now_ms);
/* Queue one message on dc: 0, PQ_E_AGAIN (queue full), other codes. */
PQ_MUST_CHECK int pq_dconn_send(struct pq_dconn *dc, const uint8_t *msg, size_t len);
/* Close dc's transport (its slot is already free). */
void pq_dconn_close(struct pq_dconn *dc);
/* dc's transport is gone: off its slot and the node's list, freed. */
void pq_dconn_free(struct pq_node *node, struct pq_dconn *dc);
/* Shutdown: every dconn freed without callbacks. */
void pq_dconn_free_all(struct pq_node *node);

/* ------------------------------------------------------------------ */
/* tls_path.c                                                          */

/* The server TLS context (from priv, which the caller wipes). None when
 * listen's port is 0 (a test set-up: peers may still be dialled). */
PQ_MUST_CHECK int pq_tls_path_start(struct pq_node *node, const uint8_t priv[32], char *err, size_t err_len);
PQ_MUST_CHECK int pq_tls_path_listen(struct pq_node *node, char *err, size_t err_len);
/* Dial candidate address a for p's slot k. Failing at once is a CLOSED. */
void pq_tls_path_dial(struct pq_node_peer *p, int k, const struct pq_sockaddr *a, uint64_t now_ms);
/* Shutdown: stop listening; free the context (after the conns). */
void pq_tls_path_stop(struct pq_node *node);
void pq_tls_path_free(struct pq_node *node);

/* ------------------------------------------------------------------ */
/* udp_path.c: the UDP direct path (DESIGN §2, PROTOCOL §5.6)          */

/* Open the UDP socket (listen_udp) and the STUN client. No socket:
 * listen_udp = off. */
PQ_MUST_CHECK int pq_udp_path_open(struct pq_node *node, char *err, size_t err_len);
void pq_udp_path_close(struct pq_node *node);
/* The relay is up at addr (its STUN responder's default address). */
void pq_udp_path_relay_up(struct pq_node *node, const struct pq_sockaddr *relay_addr);
/* Start a UDP attempt on p's slot k: PUNCH through the session, then the
 * proof to every UDP candidate (the core's DIAL). */
void pq_udp_path_dial(struct pq_node_peer *p, int k, uint64_t now_ms);
/* The peer started an attempt (its PUNCH): take it (ACCEPTED) and punch. */
void pq_udp_path_punch_in(struct pq_node_peer *p, const uint8_t *pt, size_t len, uint64_t now_ms);
/* Our UDP candidates (local addresses with our UDP port, the STUN
 * mapping) appended to e. */
void pq_udp_path_our_endpoints(const struct pq_node *node, struct pq_endpoints *e);
/* Send one datagram to `to`: 0 (also when the kernel refused it: counted
 * in send_errors, a lost datagram), PQ_E_TOOBIG (more than the path
 * carries), PQ_E_STATE (no socket). */
PQ_MUST_CHECK int pq_udp_path_send(struct pq_node *node, const struct pq_sockaddr *to, const uint8_t *msg,
				   size_t len);
/* Datagrams laid back to back (all seg bytes but the last) to `to`, in
 * as few system calls as the kernel allows; errors as pq_udp_path_send. */
PQ_MUST_CHECK int pq_udp_path_send_batch(struct pq_node *node, const struct pq_sockaddr *to, const uint8_t *buf,
					 size_t len, size_t seg);
/* IP and UDP header bytes of a datagram to `to` (28 or 48). */
size_t pq_udp_path_ip_overhead(const struct pq_sockaddr *to);
/* The largest message a datagram on dc carries: its path MTU as far as
 * the search confirmed it (udp_pmtu.c), less the headers. */
size_t pq_udp_path_max_msg(const struct pq_dconn *dc);
/* A re-handshake message to send on an unvalidated attempt: to every UDP
 * candidate, resent until answered. */
void pq_udp_path_send_rehs(struct pq_dconn *dc, const uint8_t *msg, size_t len, uint64_t now_ms);
/* A UDP path died (probe unanswered): our NAT may have given our socket
 * a new mapping (a rebinding) that the peer, behind its own NAT, cannot
 * learn from our datagrams. Ask the STUN servers now, not at the next
 * refresh: a changed mapping goes to every peer in ENDPOINTS, and the
 * next UDP attempt punches it. Nothing while a round is under way. */
void pq_udp_path_stun_refresh(struct pq_node *node, uint64_t now_ms);
/* A STUN datagram on our socket (an answer to one of our requests). */
void pq_udp_path_stun_in(struct pq_node *node, const struct pq_sockaddr *from, const uint8_t *msg, size_t len,
			 uint64_t now_ms);

/* ------------------------------------------------------------------ */
/* udp_pmtu.c: the UDP path's MTU search (proto/pmtu.h)                */

/* dc (UDP) proved itself: start probing its MTU (once per conn). */
void pq_udp_pmtu_start(struct pq_dconn *dc, uint64_t now_ms);
/* dc goes: no more probes (dconn.c calls it on detach and free). */
void pq_udp_pmtu_stop(struct pq_node *node, struct pq_dconn *dc);
/* A PMTU_PROBE with pt_len bytes of padding came on slot via: answered
 * there with its size when via is a UDP conn, else ignored. */
void pq_udp_pmtu_probe_in(struct pq_node_peer *p, int via, size_t pt_len, uint64_t now_ms);
/* A PMTU_ACK came on slot via. */
void pq_udp_pmtu_ack_in(struct pq_node_peer *p, int via, const uint8_t *pt, size_t len);

/* ------------------------------------------------------------------ */
/* relay_link.c                                                        */

void pq_relay_link_start(struct pq_node *node);
/* Send payload to dst through the relay. 0, PQ_E_STATE (not connected),
 * PQ_E_AGAIN (queue full, dropped), other negative codes. */
PQ_MUST_CHECK int pq_relay_link_send(struct pq_node *node, const uint8_t dst[PQ_PUBKEY_LEN],
				     const uint8_t *payload, size_t len);
bool pq_relay_link_up(const struct pq_node *node);
/* The [relay] in use or being tried (cfg.relays, several: a federation). */
const struct pq_config_relay *pq_relay_link_current(const struct pq_node *node);
/* Shutdown: CLOSE(going away), then close; no reconnect. */
void pq_relay_link_stop(struct pq_node *node);
/* Reload changed the peer set: close the relay conn and dial again at
 * once, so the new conn's RELAY_WATCH carries the new set (the relay
 * takes one per conn); sessions are kept as across any relay loss. */
void pq_relay_link_rewatch(struct pq_node *node);
const char *pq_relay_state_name(enum pq_relay_state s);

/* ------------------------------------------------------------------ */
/* metrics.c, metrics_text.c: the Prometheus text endpoint (`metrics =
 * HOST:PORT` in [node]; exposition format 0.0.4). Plain HTTP/1.1 on the
 * loop, no TLS: bind it to a loopback or management address. One request
 * per connection (Connection: close), at most PQ_METRICS_REQ_MAX bytes
 * (more: 431), the exchange within PQ_METRICS_DEADLINE_MS, at most
 * PQ_METRICS_MAX_CLIENTS at once (the busiest source gives way to
 * another, net/reqsrv.h). GET /metrics: 200; another path: 404;
 * another method: 405; a malformed request line: 400. Exposed: the
 * counters of pq_peer_counters per peer (labels peer = name or key
 * prefix, key = base64), path and state as 0/1 gauges, the relay's
 * connected gauge, and histograms of handshake and re-handshake time. */

#define PQ_METRICS_REQ_MAX 1024
#define PQ_METRICS_DEADLINE_MS 2000u
#define PQ_METRICS_MAX_CLIENTS 8

/* Duration histogram, buckets 100 µs .. 1 s (and +Inf). */
#define PQ_HIST_BUCKETS 13
struct pq_hist {
	uint64_t bucket[PQ_HIST_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
	uint64_t count;
	uint64_t sum_us;
};

void pq_hist_observe(struct pq_hist *h, uint64_t us);
/* Upper bound of bucket i in µs (i < PQ_HIST_BUCKETS). */
uint64_t pq_hist_bound_us(unsigned i);

/* Start the listener when node->cfg.has_metrics (else nothing). */
PQ_MUST_CHECK int pq_metrics_open(struct pq_node *node, char *err, size_t err_len);
/* Close every client and the listener; free. Safe with none. */
void pq_metrics_close(struct pq_node *node);

/* Record one completed handshake / re-handshake of us µs. No-op when
 * metrics are not configured (node->metrics NULL). */
void pq_metrics_observe_handshake(struct pq_node *node, uint64_t us);
void pq_metrics_observe_rehandshake(struct pq_node *node, uint64_t us);

/* The exposition text into out (cap bytes): its length, or PQ_E_TOOBIG.
 * hs / rehs may be NULL (empty histograms). */
PQ_MUST_CHECK long pq_metrics_render(const struct pq_node *node, const struct pq_hist *hs,
				     const struct pq_hist *rehs, char *out, size_t cap, uint64_t now_ms);

/* ------------------------------------------------------------------ */
/* control_sock.c, control.c, counters.c                               */

PQ_MUST_CHECK int pq_control_open(struct pq_node *node, char *err, size_t err_len);
void pq_control_close(struct pq_node *node);
/* Status report into out (cap bytes): JSON (one line) or text. The
 * length written, or PQ_E_TOOBIG. Room enough: PQ_NODE_STATUS_HEAD_MAX
 * plus PQ_NODE_STATUS_PEER_MAX per peer. */
#define PQ_NODE_STATUS_HEAD_MAX 768
#define PQ_NODE_STATUS_PEER_MAX 1536
PQ_MUST_CHECK long pq_control_status(const struct pq_node *node, bool json, char *out, size_t cap,
				     uint64_t now_ms);
const char *pq_peer_state_name(enum pq_peer_state s);
/* "relay", "direct" or "none" (no way for frames now). */
const char *pq_peer_path_name(const struct pq_node_peer *p, enum pq_peer_state s);

/* The per-peer counters every report shows (status JSON, Prometheus),
 * in this order, each with its JSON key, metric name and help text. */
enum pq_peer_counter {
	PQ_PC_RX_BYTES = 0, PQ_PC_TX_BYTES, PQ_PC_RX_FRAMES, PQ_PC_TX_FRAMES, PQ_PC_DROPPED,
	PQ_PC_RX_GSO, PQ_PC_TX_GSO, PQ_PC_MIGRATIONS, PQ_PC_FALLBACKS, PQ_PC_REHS, PQ_PC_REHS_FAIL,
	PQ_PC_DIALS, PQ_PC_UDP_ATTEMPTS, PQ_PC_UDP_VALIDATED, PQ_PC_UDP_FAILED, PQ_PC_UDP_REFUSED,
	PQ_PC_RX_FRAG, PQ_PC_TX_FRAG, PQ_PC_COUNT
};
struct pq_peer_counter_info {
	const char *json;              /* key in `pqlan status --json` */
	const char *metric;            /* Prometheus name (NULL: not exported) */
	const char *help;
};
extern const struct pq_peer_counter_info pq_peer_counters[PQ_PC_COUNT];
uint64_t pq_peer_counter_value(const struct pq_node_peer *p, enum pq_peer_counter c);

#endif
