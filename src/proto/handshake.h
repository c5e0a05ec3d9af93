/*
 * handshake.h - the end-to-end hybrid handshake, sans I/O (DESIGN §3).
 *
 *   initiator                                    responder
 *   pq_hs_initiate()        -- HS_INIT -->       pq_hs_receive(): HS_RESP out,
 *                                                  keys out (unconfirmed: "next")
 *   pq_hs_receive(): keys   <-- HS_RESP --
 *     out (confirmed), HS_FINISH out
 *                           -- HS_FINISH -->     pq_hs_receive(): confirmation
 *
 * Byte layouts, transcript, labels and state machines: docs/PROTOCOL.md §4.
 *
 * Ownership: the caller owns every struct here. struct pq_hs (one per node)
 * borrows the signer and holds the bounded half-open table (responder side,
 * waiting for HS_FINISH) and a list of the peers it has a pending
 * initiation to (links live in the caller's peers). struct pq_hs_peer (one
 * per allowed peer, found by the lookup callback) holds that peer's
 * freshness, rate limit and our own pending initiation to it. A struct
 * pq_hs_result hands session keys to the caller, who installs them
 * (session.h) and wipes the result. Wipe a peer (pq_hs_peer_wipe) before
 * freeing it; pq_hs_wipe wipes what is still pending.
 *
 * No clock, no sockets: the time is a parameter, in two clocks. wall_ms
 * (Unix milliseconds) is only for what crosses the wire: the HS_INIT
 * timestamp we send and the freshness and future checks on the one we
 * get. mono_ms (any monotonic millisecond count) drives everything that
 * measures a duration: the initiation rate limit, the half-open slots'
 * and our pending initiations' lifetimes. So a wall-clock step (NTP, an
 * operator) neither locks peers out of the rate limiter nor kills or
 * stretches a handshake in flight. Randomness and the allowlist come
 * through struct pq_hs_callbacks.
 *
 * Precomputed ephemeral keys (issue 13): the X25519 and ML-KEM-1024 key
 * pairs a handshake needs do not depend on the peer, so struct pq_hs keeps
 * a small pool of them, made by pq_hs_precompute when the caller is idle
 * (the node: its 1 s housekeeping timer). pq_hs_initiate takes one
 * initiator pair (X25519 + ML-KEM), the responder one X25519 pair; the
 * pool's copy is wiped as it is taken, so no key pair serves two
 * handshakes. An empty pool only costs time: the key pair is then made on
 * the spot, as before. A pooled pair older than PQ_HS_POOL_MAX_AGE_MS is
 * never used but wiped and replaced, which bounds how long an unused
 * ephemeral secret sits in memory before its handshake; pq_hs_wipe wipes
 * the pool with everything else.
 *
 * Answer first, verify after (issue 13): the signature on HS_INIT or
 * HS_RESP is the one check that needs nothing the answer needs: the key
 * schedule mixes in the signature's bytes, not its verdict. So
 * pq_hs_receive_first builds the answer (HS_RESP, HS_FINISH) before the
 * Ed25519 verification and leaves that to pq_hs_settle, which the caller
 * runs right after sending the answer: the verification (the slowest step,
 * ~0.2 ms) then overlaps the answer's trip, and is off the handshake's
 * critical path twice. Nothing is accepted before it passes: no keys to
 * the caller, no half-open slot, no timestamp recorded, no crossing
 * abandoned, our pending initiation kept. A forged HS_INIT costs more
 * than before (an encaps, an X25519, a signature and one precomputed
 * responder key pair instead of one verification), bounded by the
 * per-peer rate limit. What the early answer gives a
 * forger (only the relay, or the peer itself, can deliver a handshake
 * message under the peer's identity): an HS_RESP signed over a
 * transcript with the forger's own ephemeral keys, or an HS_FINISH MACed
 * with keys the forger derived itself: nothing it could not compute, and
 * nothing the real peer's transcript would accept (docs/PROTOCOL.md §4.4).
 * pq_hs_receive keeps the strict order (signature before any other
 * public-key operation): for callers that cannot send in between.
 */
#ifndef PQ_PROTO_HANDSHAKE_H
#define PQ_PROTO_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/keysched.h"
#include "crypto/mlkem.h"
#include "crypto/x25519.h"
#include "proto/msg_handshake.h"
#include "proto/ratelimit.h"
#include "util/err.h"

/* A pending initiation and a half-open responder slot live this long. */
#define PQ_HS_TIMEOUT_MS 5000
/* Per-peer initiation rate limit: a burst of 4, then one per 250 ms. */
#define PQ_HS_RATE_INTERVAL_MS 250
#define PQ_HS_RATE_BURST 4
/* Responder slots waiting for HS_FINISH; the oldest is evicted when full. */
#define PQ_HS_HALF_OPEN_MAX 32
/* An HS_INIT stamped more than this ahead of the responder's clock is
 * refused: accepted, it would become the peer's last timestamp and lock
 * out every later initiation stamped by a correct clock. 5 minutes (the
 * customary Kerberos clock skew): wider than the re-handshake's 30 s, so
 * two nodes whose clocks disagree by a minute still meet through the relay,
 * and a clock that once ran ahead locks its node out for 5 minutes at most
 * (docs/PROTOCOL.md §4.4). */
#define PQ_HS_MAX_FUTURE_MS 300000
/* HS_RESPs that may reach the signature check per pending initiation:
 * exactly one is real, the rest are forgeries or replays, dropped by a
 * counter compare instead of an Ed25519 verify and an ML-KEM decaps. */
#define PQ_HS_RESP_TRIES 4
/* Precomputed ephemeral key pairs: initiator (X25519 + ML-KEM-1024) and
 * responder (X25519) slots, and how long one may wait to be used. Two of
 * each cover a handshake each way between two housekeeping runs. */
#define PQ_HS_POOL_INIT 2
#define PQ_HS_POOL_RESP 2
#define PQ_HS_POOL_MAX_AGE_MS 30000

/* Our own initiation to one peer, waiting for HS_RESP. Secret. */
struct pq_hs_pending {
	bool active;
	uint32_t local_index;
	uint64_t started_ms;                /* monotonic */
	uint32_t resp_tries;                /* HS_RESPs checked against it */
	uint8_t x25519_priv[PQ_X25519_LEN];
	uint8_t x25519_pub[PQ_X25519_LEN];  /* saves recomputing it from priv */
	uint8_t mlkem_dk[PQ_MLKEM1024_DK_LEN];
	uint8_t transcript[PQ_SHA256_LEN];  /* hash through the whole HS_INIT */
};

struct pq_hs_peer {
	uint8_t pub[PQ_PUBKEY_LEN];
	uint64_t last_init_ts;  /* newest HS_INIT timestamp accepted from it */
	uint64_t last_sent_ts;  /* newest timestamp we sent it, kept increasing */
	struct pq_ratelimit rate;
	struct pq_hs_pending pending;
	/* While pending is active the peer is linked into its struct pq_hs,
	 * so pq_hs_expire can wipe the secrets when their lifetime ends. */
	struct pq_hs *pending_hs;
	struct pq_hs_peer *pending_next;
	void *user;             /* the caller's, untouched */
};

/* Precomputed ephemeral key pairs, not yet used. Secret. */
struct pq_hs_eph_init {
	bool ready;
	uint64_t made_ms;                   /* monotonic */
	uint8_t x25519_priv[PQ_X25519_LEN];
	uint8_t x25519_pub[PQ_X25519_LEN];
	uint8_t mlkem_ek[PQ_MLKEM1024_EK_LEN];
	uint8_t mlkem_dk[PQ_MLKEM1024_DK_LEN];
};

struct pq_hs_eph_resp {
	bool ready;
	uint64_t made_ms;                   /* monotonic */
	uint8_t x25519_priv[PQ_X25519_LEN];
	uint8_t x25519_pub[PQ_X25519_LEN];
};

struct pq_hs_pool {
	struct pq_hs_eph_init init[PQ_HS_POOL_INIT];
	struct pq_hs_eph_resp resp[PQ_HS_POOL_RESP];
};

/* A responder slot: HS_RESP sent, HS_FINISH awaited. Holds no traffic key. */
struct pq_hs_half_open {
	bool active;
	struct pq_hs_peer *peer;
	uint32_t local_index;
	uint32_t remote_index;
	uint64_t created_ms;                /* monotonic */
	uint8_t confirm_i2r[PQ_KEY_LEN];
	uint8_t transcript[PQ_SHA256_LEN];
	uint8_t resp_mac[PQ_HMAC_LEN];
};

/* What happened, counted; drop_* are refused messages by reason. */
struct pq_hs_stats {
	uint64_t init_sent, resp_sent, finish_sent;
	uint64_t done_initiator, done_responder;  /* keys confirmed */
	uint64_t drop_decode;          /* wrong size or type byte */
	uint64_t drop_version;         /* unknown version or suite */
	uint64_t drop_unknown_peer;    /* not in the allowlist (or ourselves) */
	uint64_t drop_sender_mismatch; /* transport's sender != message's */
	uint64_t drop_stale;           /* HS_INIT timestamp not newer */
	uint64_t drop_future;          /* HS_INIT timestamp > now + 5 min */
	uint64_t drop_rate;            /* initiation rate limit, HS_RESP tries */
	uint64_t drop_signature;       /* Ed25519 signature failed */
	uint64_t drop_bad_key;         /* ML-KEM ek check, X25519 low order */
	uint64_t drop_crossing;        /* their initiation lost to ours */
	uint64_t drop_unexpected;      /* no pending state for this index */
	uint64_t drop_mac;             /* key confirmation failed */
	uint64_t drop_internal;        /* our randomness or crypto failed */
	uint64_t half_open_evicted, half_open_expired, pending_abandoned;
	uint64_t pending_expired;      /* our initiations wiped unanswered */
	uint64_t pool_made;            /* key pairs precomputed (both kinds) */
	uint64_t pool_used;            /* handshakes that took a precomputed pair */
	uint64_t pool_empty;           /* handshakes that made theirs on the spot */
	uint64_t pool_expired;         /* precomputed pairs wiped unused, too old */
};

struct pq_hs_callbacks {
	void *ctx;
	/* Fill out with len random bytes; 0 or PQ_E_RANDOM. NULL: system CSPRNG. */
	int (*random)(void *ctx, void *out, size_t len);
	/* The allowlist: the peer with this identity key, or NULL if not allowed. */
	struct pq_hs_peer *(*lookup)(void *ctx, const uint8_t pub[PQ_PUBKEY_LEN]);
	/* Optional: true if a local index is already used by a session. */
	bool (*index_taken)(void *ctx, uint32_t index);
};

struct pq_hs {
	const struct pq_signer *signer;
	uint8_t pub[PQ_PUBKEY_LEN];
	struct pq_hs_callbacks cb;
	struct pq_hs_half_open half_open[PQ_HS_HALF_OPEN_MAX];
	struct pq_hs_peer *pending_peers;  /* peers with an active pending, linked */
	struct pq_hs_pool pool;            /* precomputed ephemeral key pairs */
	struct pq_hs_stats stats;
};

enum pq_hs_event {
	PQ_HS_EV_NONE = 0,
	PQ_HS_EV_KEYS,       /* new keys in result.keys (see .confirmed) */
	PQ_HS_EV_CONFIRMED,  /* HS_FINISH verified: the responder's keys may send */
};

/* An answer built before its signature check (pq_hs_receive_first): what
 * pq_hs_settle needs to check it and accept the message. */
struct pq_hs_settle {
	bool due;                             /* pq_hs_settle must run */
	uint8_t type;                         /* PQ_MSG_HS_INIT or PQ_MSG_HS_RESP */
	struct pq_hs_peer *peer;
	uint8_t signed_hash[PQ_SHA256_LEN];   /* the transcript the signature covers */
	uint8_t sig[PQ_ED25519_SIG_LEN];
	/* HS_INIT only: what accepting it records. */
	bool abandon;                         /* it wins the crossing with ours */
	uint64_t timestamp_ms;
	uint8_t transcript[PQ_SHA256_LEN];    /* through HS_RESP's signature */
	uint8_t resp_mac[PQ_HMAC_LEN];
};

struct pq_hs_result {
	enum pq_hs_event event;
	struct pq_hs_peer *peer;
	bool initiator;      /* our role in this handshake */
	bool confirmed;      /* keys may be used to send */
	bool abandoned_own;  /* our initiation to peer lost a crossing */
	uint32_t local_index;
	uint32_t remote_index;
	struct pq_session_keys keys;  /* event KEYS (and from pq_hs_receive_first until
				       * pq_hs_settle); wipe with pq_hs_result_wipe */
	struct pq_hs_settle settle;   /* pq_hs_receive_first: settle.due */
};

/* Borrow signer (must outlive hs); copy cb. PQ_E_INVAL without lookup. */
PQ_MUST_CHECK int pq_hs_init(struct pq_hs *hs, const struct pq_signer *signer,
			     const struct pq_hs_callbacks *cb);
/* Wipe every half-open slot, every pending initiation still linked and
 * every precomputed key pair. */
void pq_hs_wipe(struct pq_hs *hs);
/* p must not be linked (never initiated, or wiped with pq_hs_peer_wipe). */
void pq_hs_peer_init(struct pq_hs_peer *p, const uint8_t pub[PQ_PUBKEY_LEN], uint64_t mono_ms);
/* Wipe p's pending initiation and unlink it: call before freeing p. */
void pq_hs_peer_wipe(struct pq_hs_peer *p);
void pq_hs_result_wipe(struct pq_hs_result *r);

/* Start (or restart) an initiation to peer: HS_INIT into out.
 * Returns its length, or PQ_E_TOOBIG, PQ_E_RANDOM, PQ_E_CRYPTO. */
PQ_MUST_CHECK long pq_hs_initiate(struct pq_hs *hs, struct pq_hs_peer *peer, uint64_t wall_ms,
				  uint64_t mono_ms, uint8_t *out, size_t cap);
/* Whether our initiation to peer still waits for HS_RESP at mono_ms. */
bool pq_hs_pending(const struct pq_hs_peer *peer, uint64_t mono_ms);

/*
 * Handle one handshake message (type byte first). sender_pub is the
 * identity the transport vouches for (relay source, pinned direct peer) or
 * NULL if none; HS_RESP needs it to find our initiation. A reply (HS_RESP,
 * HS_FINISH) goes into out: returns its length, 0 when there is none, or a
 * negative code when the message was dropped (counted in hs->stats):
 * PQ_E_DECODE, PQ_E_PEER, PQ_E_REPLAY, PQ_E_TIME (HS_INIT over 5 min ahead),
 * PQ_E_LIMIT, PQ_E_AUTH, PQ_E_KEY, PQ_E_STATE, PQ_E_TOOBIG (out too small), PQ_E_RANDOM, PQ_E_CRYPTO.
 * res->event says what the caller must do with res (always set).
 */
PQ_MUST_CHECK long pq_hs_receive(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg, size_t len,
				 uint64_t wall_ms, uint64_t mono_ms, uint8_t *out, size_t cap,
				 struct pq_hs_result *res);

/*
 * pq_hs_receive, answer first: for HS_INIT and HS_RESP the answer (HS_RESP,
 * HS_FINISH) is built before the sender's signature is checked and
 * res->settle.due is set, with res->event NONE. Send the answer, then call
 * pq_hs_settle before any other call on hs: it checks the signature and
 * only then accepts the message and fills res as pq_hs_receive would have
 * (event KEYS), or drops it (PQ_E_AUTH, counted in drop_signature; the
 * keys in res wiped). The cheap checks, the rate limit and the crossing
 * rule still come first. Counters differ from pq_hs_receive's where the
 * order does: a message with a bad signature that also fails a later
 * check is counted by that check (drop_crossing, drop_bad_key; an HS_RESP
 * whose signature bytes were changed fails its MAC: drop_mac), and
 * resp_sent / finish_sent count only answers whose message was then
 * accepted. HS_FINISH: as pq_hs_receive.
 */
PQ_MUST_CHECK long pq_hs_receive_first(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg,
				       size_t len, uint64_t wall_ms, uint64_t mono_ms, uint8_t *out,
				       size_t cap, struct pq_hs_result *res);
/* Finish what pq_hs_receive_first left due (mono_ms: for the half-open
 * slot's age): 0 (res filled, or nothing was due), PQ_E_AUTH (signature),
 * PQ_E_STATE (the initiation the HS_RESP answered was replaced in
 * between, which the node never does). */
PQ_MUST_CHECK int pq_hs_settle(struct pq_hs *hs, struct pq_hs_result *res, uint64_t mono_ms);

/*
 * Fill the pool of precomputed ephemeral key pairs: wipe the ones older
 * than PQ_HS_POOL_MAX_AGE_MS at mono_ms, make every missing one. Call it
 * when idle (the node: from its housekeeping timer); it costs about one
 * handshake's key generation per pair made (~0.1 ms each on a 2 GHz core).
 * Returns how many pairs it made, or PQ_E_RANDOM / PQ_E_CRYPTO (the pairs
 * made before the failure stay; a half-made one is wiped).
 */
PQ_MUST_CHECK int pq_hs_precompute(struct pq_hs *hs, uint64_t mono_ms);

/* Drop half-open slots older than PQ_HS_TIMEOUT_MS and wipe our own
 * pending initiations (ephemeral secrets) as old: call it on a timer, so
 * the secrets live at most PQ_HS_TIMEOUT_MS + one period (the node: 1 s). */
void pq_hs_expire(struct pq_hs *hs, uint64_t mono_ms);

#endif
