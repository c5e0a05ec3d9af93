/*
 * peer.h - one configured peer of the node daemon: its handshake state,
 * its end-to-end session, its timer and its counters (DESIGN §3, §4).
 *
 * A peer is "online" while the relay says it is connected (PEER_ONLINE,
 * or any RELAY_RECV from it). Its state for `pqlan status`:
 *   offline      not online, no active direct path
 *   handshaking  online, no keys that may send yet
 *   established  online (or with an active direct path) and
 *                pq_session_can_send()
 * When a peer goes offline (PEER_OFFLINE, or our relay connection is
 * lost) its session is kept (roaming, DESIGN §5): a working direct path
 * goes on carrying frames, and when the peer comes back (PEER_ONLINE)
 * with keys that still work, no new hybrid handshake is started: our
 * ENDPOINTS are sent again through the session and the direct path is
 * re-proved by the re-handshake. The grace period is the session's own:
 * no rekey without the relay, so its keys retire PQ_REJECT_AFTER_MS
 * (180 s) after their handshake; then the direct conns are closed too.
 * A peer that restarted (lost its keys) cannot open what we seal; it
 * initiates a handshake on its PEER_ONLINE, which replaces our session.
 *
 * The peer's timer is armed at the earliest of the session's next
 * deadline (keepalive, rekey, key retirement) and, while online without
 * usable keys, the next handshake retry. Times: "now" is the loop's
 * monotonic clock; handshake messages carry Unix time (pq_wall_ms, util/clock.h).
 */
#ifndef PQ_NODE_PEER_H
#define PQ_NODE_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "net/loop.h"
#include "node/config.h"
#include "proto/challenge_cache.h"
#include "proto/handshake.h"
#include "proto/msg_sealed.h"
#include "proto/rehandshake.h"
#include "proto/session.h"
#include "util/err.h"

struct pq_node;
struct pq_dconn;

/* Direct connections one peer may have at once (ours, theirs, one being
 * replaced, one spare); more are refused. */
#define PQ_DIRECT_MAX_CONNS 4

/* The direct path to one peer (DESIGN §5; node/direct.c). */
struct pq_peer_direct {
	struct pq_dconn *conns[PQ_DIRECT_MAX_CONNS]; /* live conns, any state */
	struct pq_dconn *active;       /* frames go here when set, else relay */
	struct pq_endpoints cands;     /* from the peer's ENDPOINTS */
	unsigned next_cand;            /* index into static endpoint + cands */
	uint64_t next_dial_ms;         /* monotonic; 0: not scheduled */
	bool endpoints_sent;           /* ours, for the current session */
	struct pq_challenge_cache cache;
	struct pq_rehs_counters rehs_count;
	uint64_t last_rehs_ms;         /* monotonic; 0: none */
	uint64_t last_rehs_us;         /* duration of the last completed run */
	uint64_t migrations, fallbacks;
	bool nudge_peer;               /* fell back: tell the peer through the relay */
	uint64_t attempts;             /* dials started (TEXT status) */
	uint64_t rehs_not_started;     /* runs that failed before a message */
	struct pq_timer timer;         /* tick: dial, probes, re-handshake timeouts */
};

/* An unanswered initiation is retried this long after it was sent, plus
 * up to HS_RETRY_JITTER_MS so two peers do not stay in lock step. */
#define PQ_NODE_HS_RETRY_MS 5000u
#define PQ_NODE_HS_RETRY_JITTER_MS 1000u

enum pq_peer_state { PQ_PEER_OFFLINE = 0, PQ_PEER_HANDSHAKING, PQ_PEER_ESTABLISHED };

struct pq_peer_counters {
	uint64_t rx_bytes, tx_bytes;   /* Ethernet frame bytes */
	uint64_t rx_frames, tx_frames; /* DATA and DATA_GSO frames */
	uint64_t rx_gso_frames, tx_gso_frames; /* of which DATA_GSO (offload header) */
	uint64_t dropped_frames;       /* refused by the session (auth, replay,
					* malformed) or lost to a full relay queue */
};

struct pq_node_peer {
	struct pq_node *node;
	uint32_t id;                   /* index in node->peers, the l2 peer id */
	const struct pq_config_peer *cfg;
	uint8_t key[PQ_PUBKEY_LEN];
	char key_b64[PQ_KEY_B64_LEN + 1];
	struct pq_hs_peer hs;
	struct pq_session session;
	bool online;
	bool rekey_wanted;             /* the session's last poll asked for one */
	uint64_t next_retry_ms;        /* monotonic: earliest next initiation */
	uint64_t handshake_ms;         /* monotonic: last keys derived, 0 none */
	uint64_t hs_start_us;          /* monotonic: our last HS_INIT sent, 0 none */
	struct pq_timer timer;
	struct pq_peer_counters count;
	struct pq_peer_direct direct;
	uint8_t version_warned;        /* issue 12: the other protocol version we warned about */
	bool removed;                  /* issue 12: taken out by a reload (node/reload.h):
					* a tombstone no lookup, report or watch sees */
};

/* A short name for logs: the configured name, else the key. */
const char *pq_peer_label(const struct pq_node_peer *p);

/* Fill node->peers from the configuration. PQ_E_NOMEM, PQ_E_CONFIG (a
 * peer with our own key; err says which). */
PQ_MUST_CHECK int pq_peers_init(struct pq_node *node, char *err, size_t err_len);
/* Set up the zeroed slot p (index id) for the configured peer c; wall is
 * the Unix time for its handshake freshness. Used at start and by reload. */
void pq_peer_slot_init(struct pq_node *node, struct pq_node_peer *p, uint32_t id,
		       const struct pq_config_peer *c, uint64_t wall);
/* Wipe every peer's keys and handshake state, cancel timers, free. */
void pq_peers_free(struct pq_node *node);
/* The peer with this key, or NULL. */
struct pq_node_peer *pq_peer_find(struct pq_node *node, const uint8_t key[PQ_PUBKEY_LEN]);

enum pq_peer_state pq_peer_state(const struct pq_node_peer *p, uint64_t now_ms);

/* The relay says p is online (a fresh handshake, unless its session
 * still works: then ENDPOINTS again, roaming) or offline (session kept). */
void pq_peer_online(struct pq_node_peer *p, uint64_t now_ms);
void pq_peer_offline(struct pq_node_peer *p, uint64_t now_ms);

/* Handle one handshake message (0x10-0x12) from p, through the relay or
 * (via_direct) on a usable direct conn; the answer goes back the same way. */
void pq_peer_handshake_msg(struct pq_node_peer *p, const uint8_t *msg, size_t len, bool via_direct,
			   uint64_t now_ms);

/* Poll the session, send what it asks for, retry handshakes, re-arm the
 * timer. Call after anything changed p. */
void pq_peer_service(struct pq_node_peer *p, uint64_t now_ms);

/* Seal pt as a message of type and send it to p through the relay.
 * 0, or a negative code (no keys, relay queue full, ...). */
PQ_MUST_CHECK int pq_peer_send_sealed(struct pq_node_peer *p, uint8_t type, const uint8_t *pt,
				      size_t len, uint64_t now_ms);

/* The handshake allowlist and index callbacks for struct pq_hs. */
struct pq_hs_peer *pq_peer_hs_lookup(void *ctx, const uint8_t pub[PQ_PUBKEY_LEN]);
bool pq_peer_hs_index_taken(void *ctx, uint32_t index);

#endif
