/*
 * rehandshake.h - one re-handshake run on a direct connection, either role
 * (DESIGN §5, seed story 3c, docs/PROTOCOL.md §5). Sans-I/O: bytes in,
 * bytes out, the current time (Unix ms) as a parameter.
 *
 *   initiator                              responder
 *   pq_rehs_start()     -- REQUEST  -->    pq_rehs_receive()
 *   pq_rehs_receive()   <-- RESPONSE --    (verifies nothing yet)
 *   (responder proven; COMPLETED)
 *                       -- COMPLETE -->    pq_rehs_receive()
 *                                          (initiator proven; COMPLETED)
 *
 * Stronger than the seed, same wire: each MAC is HMAC-SHA256 under the
 * sender's per-direction re-handshake key over a label naming the message
 * and the direction, the session id, both challenges, that message's
 * timestamp and the direct connection's TLS exporter (channel binding).
 *
 * Ownership: struct pq_rehs is the caller's (embed it anywhere). init
 * copies the keys, session id and binding from the config; the caller may
 * wipe its own copies right after. The run wipes its keys as soon as it
 * finishes (COMPLETED or FAILED) and in pq_rehs_clear. The challenge cache
 * and the counters are the caller's, one per session, borrowed per call /
 * for the run's life.
 *
 * Failure: any rejected input kills the run (state FAILED, reason kept,
 * counted once); nothing else of the session is touched. A new run, on a
 * new pq_rehs, is needed.
 */
#ifndef PQ_PROTO_REHANDSHAKE_H
#define PQ_PROTO_REHANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/keysched.h"
#include "proto/challenge_cache.h"
#include "proto/msg_rehs.h"
#include "util/err.h"

#define PQ_REHS_TIMEOUT_MS 5000u   /* DESIGN §5 / seed: RehandshakeTimeout */
#define PQ_REHS_BINDING_LEN 32     /* TLS exporter of the direct connection */
#define PQ_REHS_LABEL_LEN 26       /* every MAC label is 26 ASCII bytes */

enum pq_rehs_role {
	PQ_REHS_INITIATOR = 1, /* sends REQUEST and COMPLETE */
	PQ_REHS_RESPONDER = 2, /* sends RESPONSE */
};

enum pq_rehs_state {
	PQ_REHS_IDLE = 0,          /* initiator before pq_rehs_start */
	PQ_REHS_WAIT_REQUEST,      /* responder */
	PQ_REHS_WAIT_RESPONSE,     /* initiator, REQUEST sent */
	PQ_REHS_WAIT_COMPLETE,     /* responder, RESPONSE sent */
	PQ_REHS_COMPLETED,         /* the peer proved the session keys on this channel */
	PQ_REHS_FAILED,            /* dead; pq_rehs_fail_reason says why */
};

/* Why a run failed; each has a counter of the same name. */
enum pq_rehs_reason {
	PQ_REHS_OK = 0,
	PQ_REHS_R_DECODE,      /* malformed message (PQ_E_DECODE) */
	PQ_REHS_R_UNEXPECTED,  /* message not expected in this state (PQ_E_STATE) */
	PQ_REHS_R_SESSION,     /* session id is not this session's (PQ_E_AUTH) */
	PQ_REHS_R_TIME,        /* timestamp more than 30 s off (PQ_E_TIME) */
	PQ_REHS_R_REPLAY,      /* challenge seen before within the window (PQ_E_REPLAY) */
	PQ_REHS_R_REFLECT,     /* counter-challenge equal to our own challenge (PQ_E_REPLAY) */
	PQ_REHS_R_MAC,         /* MAC did not verify (PQ_E_AUTH) */
	PQ_REHS_R_TIMEOUT,     /* 5 s passed (PQ_E_TIMEOUT) */
	PQ_REHS_R_CACHE_FULL,  /* challenge cache full, run refused (PQ_E_LIMIT) */
	PQ_REHS_R_LOCAL,       /* our RNG or crypto library failed (PQ_E_RANDOM/PQ_E_CRYPTO) */
};

/* Per-session (or per-daemon) totals for the operator's view. */
struct pq_rehs_counters {
	uint32_t completed;
	uint32_t decode;
	uint32_t unexpected;
	uint32_t session_id;
	uint32_t time;
	uint32_t replay;
	uint32_t reflect;
	uint32_t mac;
	uint32_t timeout;
	uint32_t cache_full;
	uint32_t local;
};

/* Randomness source for challenges: fill out with len bytes, return 0 or
 * a negative code. NULL in the config means pq_random_bytes. */
typedef int (*pq_rehs_random_fn)(void *ctx, void *out, size_t len);

struct pq_rehs_config {
	enum pq_rehs_role role;
	bool hs_initiator;          /* this node initiated the session's hybrid handshake */
	const uint8_t *session_id;  /* PQ_SESSION_ID_LEN bytes */
	const uint8_t *send_key;    /* our direction's rehs key: rehs_i2r if hs_initiator, else rehs_r2i */
	const uint8_t *recv_key;    /* the peer's direction's rehs key */
	const uint8_t *binding;     /* PQ_REHS_BINDING_LEN bytes: TLS exporter of this connection */
	pq_rehs_random_fn random;   /* optional */
	void *random_ctx;
	struct pq_rehs_counters *counters; /* optional; must outlive the run */
	/* The caller enforces PQ_REHS_TIMEOUT_MS itself, on its monotonic
	 * clock (the node: proto/path.h), so a step of the wall clock, which
	 * this module is fed for the timestamps, neither shortens nor
	 * stretches a run: pq_rehs_timer and receive then never time out. */
	bool external_deadline;
};

struct pq_rehs {
	enum pq_rehs_role role;
	enum pq_rehs_state state;
	enum pq_rehs_reason reason;
	bool hs_initiator;
	uint8_t session_id[PQ_SESSION_ID_LEN];
	uint8_t send_key[PQ_KEY_LEN];
	uint8_t recv_key[PQ_KEY_LEN];
	uint8_t binding[PQ_REHS_BINDING_LEN];
	uint8_t challenge[PQ_REHS_CHALLENGE_LEN];         /* the REQUEST's */
	uint8_t counter_challenge[PQ_REHS_CHALLENGE_LEN]; /* the RESPONSE's */
	uint64_t deadline_ms;        /* UINT64_MAX with external_deadline */
	bool external_deadline;
	pq_rehs_random_fn random;
	void *random_ctx;
	struct pq_rehs_counters *counters;
};

/* Set up a run at now_ms. Its 5 s clock starts now; for an initiator it
 * starts again at pq_rehs_start (so: 5 s from REQUEST sent, or from the
 * responder's creation to COMPLETE received), unless the config says
 * external_deadline. 0 or PQ_E_INVAL. */
PQ_MUST_CHECK int pq_rehs_init(struct pq_rehs *r, const struct pq_rehs_config *cfg, uint64_t now_ms);

/* Initiator: draw a challenge, record it in the session's cache and write
 * REQUEST (PQ_REHS_REQUEST_MSG_LEN bytes) to out. Errors: PQ_E_STATE (not
 * an idle initiator; run unchanged), PQ_E_TOOBIG (cap too small; run
 * unchanged), and failing the run: PQ_E_LIMIT (cache full: refused until
 * entries expire), PQ_E_RANDOM (RNG failed or repeated a live challenge). */
PQ_MUST_CHECK int pq_rehs_start(struct pq_rehs *r, struct pq_challenge_cache *cache, uint64_t now_ms,
				uint8_t *out, size_t cap, size_t *out_len);

/* Feed one received message (type byte included). On 0, *out_len bytes
 * in out (0, or RESPONSE/COMPLETE) must be sent to the peer, and
 * pq_rehs_state tells whether the run is COMPLETED. out must hold
 * PQ_REHS_MAX_MSG_LEN bytes (else PQ_E_TOOBIG, run unchanged). Any other
 * error fails the run: PQ_E_DECODE, PQ_E_STATE, PQ_E_AUTH, PQ_E_TIME,
 * PQ_E_REPLAY, PQ_E_LIMIT, PQ_E_TIMEOUT, PQ_E_RANDOM, PQ_E_CRYPTO. A run
 * already finished answers PQ_E_STATE (counted) and stays as it was. */
PQ_MUST_CHECK int pq_rehs_receive(struct pq_rehs *r, struct pq_challenge_cache *cache, const uint8_t *msg,
				  size_t len, uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len);

/* When the caller must call pq_rehs_timer next; UINT64_MAX when finished. */
uint64_t pq_rehs_next_deadline(const struct pq_rehs *r);

/* Fails the run with PQ_E_TIMEOUT once now_ms >= its deadline; else 0. */
PQ_MUST_CHECK int pq_rehs_timer(struct pq_rehs *r, uint64_t now_ms);

enum pq_rehs_state pq_rehs_state(const struct pq_rehs *r);
enum pq_rehs_reason pq_rehs_fail_reason(const struct pq_rehs *r);
const char *pq_rehs_reason_name(enum pq_rehs_reason reason);

/* The channel binding of a UDP path attempt (docs/PROTOCOL.md §5.6): on
 * a UDP path there is no TLS exporter, so both sides derive one from the
 * attempt's random id, which the initiator sent them sealed (PUNCH):
 *   SHA-256("pqlan v1 udp path binding" || attempt id (16))
 * A proof made for one attempt does not verify on another. 0 or PQ_E_CRYPTO. */
#define PQ_REHS_UDP_ID_LEN 16
PQ_MUST_CHECK int pq_rehs_udp_binding(uint8_t out[PQ_REHS_BINDING_LEN], const uint8_t id[PQ_REHS_UDP_ID_LEN]);

/* Wipe everything in r. */
void pq_rehs_clear(struct pq_rehs *r);

/* Give up a run and wipe it (r not NULL; cache the one the run was
 * given). A responder that answered a REQUEST and never got its COMPLETE
 * also takes the two cache entries it made (the REQUEST's challenge, its
 * counter-challenge) back out of cache: on a UDP path anyone who saw the
 * session id can send a REQUEST (no MAC covers one), so a run that never
 * completed proved nothing, and the entries of such runs, kept for 30 s,
 * would fill the cache (PQ_E_LIMIT) against the peer's real runs (on UDP
 * and on TLS: the cache is the session's). A replay of that REQUEST after
 * this only starts a run nobody without the keys can complete. Any other
 * run (an initiator, a completed or failed run) is only wiped: what it
 * recorded stays. */
void pq_rehs_abandon(struct pq_rehs *r, struct pq_challenge_cache *cache, uint64_t now_ms);

/* The MAC of a RESPONSE (msg_type PQ_MSG_REHS_RESPONSE) or COMPLETE
 * (PQ_MSG_REHS_COMPLETE) sent by the node whose hybrid-handshake role is
 * given by sender_hs_initiator (docs/PROTOCOL.md §5.3):
 *   HMAC-SHA256(key, label || session id || challenge || counter-challenge
 *               || timestamp (u64 BE) || binding)
 * Exposed for tests and interoperability vectors. 0, PQ_E_INVAL, PQ_E_CRYPTO. */
PQ_MUST_CHECK int pq_rehs_mac(uint8_t out[PQ_REHS_MAC_LEN], const uint8_t key[PQ_KEY_LEN], uint8_t msg_type,
			      bool sender_hs_initiator, const uint8_t session_id[PQ_SESSION_ID_LEN],
			      const uint8_t challenge[PQ_REHS_CHALLENGE_LEN],
			      const uint8_t counter_challenge[PQ_REHS_CHALLENGE_LEN], uint64_t timestamp_ms,
			      const uint8_t binding[PQ_REHS_BINDING_LEN]);

#endif
