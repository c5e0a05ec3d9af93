/*
 * session.h - one peer's sealed data session (DESIGN §4), sans I/O.
 *
 * A session holds up to three keypairs:
 *   current   sends and receives;
 *   previous  receives only, for PQ_PREV_GRACE_MS after a rekey, so frames
 *             in flight under the old keys are not lost;
 *   next      the responder's keys from HS_RESP, before confirmation:
 *             receives only; HS_FINISH, or the first frame that
 *             authenticates under it, promotes it to current.
 * Each keypair has one send counter and one replay window, shared by every
 * path: the caller passes in whatever arrived, relay or direct.
 *
 * The caller owns the struct and every buffer. Keys come from a
 * struct pq_hs_result (handshake.h); a retired keypair's keys are wiped and
 * its AEAD contexts freed at once. No clock: now_ms is a parameter, and
 * pq_session_next_deadline() says when to call pq_session_poll() again.
 */
#ifndef PQ_PROTO_SESSION_H
#define PQ_PROTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "crypto/keysched.h"
#include "crypto/replay.h"
#include "proto/handshake.h"
#include "proto/msg_sealed.h"
#include "util/err.h"

#define PQ_REKEY_AFTER_MS 120000ULL        /* DESIGN §4 */
#define PQ_REKEY_AFTER_MESSAGES (1ULL << 60)
/* The responder of the current keys asks for a rekey this much later than
 * the initiator, so both sides rarely start one at once. */
#define PQ_REKEY_RESPONDER_DELAY_MS 10000ULL
/* Keys older than this are no longer used at all (rekey failed for 60 s). */
#define PQ_REJECT_AFTER_MS 180000ULL
#define PQ_PREV_GRACE_MS 10000ULL
#define PQ_KEEPALIVE_MS 10000ULL

struct pq_keypair {
	bool live;
	bool initiator;            /* our role in the handshake that made it */
	struct pq_aead *send;
	struct pq_aead *recv;
	uint32_t local_index;      /* peers address us by this */
	uint32_t remote_index;     /* we address the peer by this */
	uint64_t send_counter;     /* next counter to use */
	struct pq_replay replay;
	uint64_t created_ms;
	uint64_t retire_ms;        /* previous only: end of its grace period */
	uint8_t session_id[PQ_SESSION_ID_LEN];
	uint8_t rehs_send[PQ_KEY_LEN];  /* re-handshake MAC keys (DESIGN §5) */
	uint8_t rehs_recv[PQ_KEY_LEN];
};

struct pq_session_stats {
	uint64_t tx_frames, tx_bytes;   /* sealed messages sent, plaintext bytes */
	uint64_t rx_frames, rx_bytes;   /* accepted messages, plaintext bytes */
	uint64_t drop_decode;           /* bad type or size */
	uint64_t drop_index;            /* no live keypair with this index */
	uint64_t drop_auth;             /* tag failed */
	uint64_t drop_replay;           /* duplicate, too old, or past the limit */
	uint64_t drop_toobig;           /* caller's buffer too small */
	uint64_t rekeys;                /* keypairs made current */
};

struct pq_session {
	struct pq_keypair slot[3];
	struct pq_keypair *current, *previous, *next;
	uint64_t last_sent_ms;
	uint64_t last_recv_ms;          /* last authenticated message of any type */
	bool keepalive_owed;            /* data received since our last send */
	uint64_t keepalive_due_ms;
	uint64_t rekey_after_ms;        /* 0: PQ_REKEY_AFTER_MS (tests shorten it) */
	struct pq_session_stats stats;
};

/* What pq_session_poll() asks the caller to do (bit flags). */
enum pq_session_want {
	PQ_SESSION_WANT_REKEY = 1,      /* start a handshake (level: stays set) */
	PQ_SESSION_WANT_KEEPALIVE = 2,  /* seal and send a KEEPALIVE now */
};

void pq_session_init(struct pq_session *s);
/* Tests only (the daemon honours it only with PQLAN_TEST=1): rekey after
 * ms instead of PQ_REKEY_AFTER_MS; 0 restores the default. The keys are
 * still rejected PQ_REJECT_AFTER_MS after their handshake. */
void pq_session_set_rekey_after(struct pq_session *s, uint64_t ms);
/* Retire every keypair (keys wiped, contexts freed). */
void pq_session_wipe(struct pq_session *s);

/* Install a handshake's outcome. KEYS: a new keypair, made current when
 * confirmed (the old current becomes previous), else held as next.
 * Confirmed keys owe the peer a message at once (poll says
 * WANT_KEEPALIVE unless the caller sends data first): it confirms the keys
 * to the responder even if HS_FINISH is lost.
 * CONFIRMED: promote next if its local index matches. PQ_E_NOMEM,
 * PQ_E_CRYPTO, PQ_E_STATE (nothing to confirm), PQ_E_INVAL. */
PQ_MUST_CHECK int pq_session_install(struct pq_session *s, const struct pq_hs_result *r, uint64_t now_ms);

/* Seal pt (pt_len bytes, within the type's bounds) as a message of type
 * into out: returns its length (pt_len + PQ_SEALED_OVERHEAD). pt may be
 * out + PQ_SEALED_HDR_LEN (in place). PQ_E_STATE (no current keys),
 * PQ_E_LIMIT (counter exhausted, or keys past PQ_REJECT_AFTER_MS: they
 * are retired by this call, and the next one says PQ_E_STATE),
 * PQ_E_DECODE / PQ_E_TOOBIG (bad pt_len), PQ_E_TOOBIG (out too small). */
PQ_MUST_CHECK long pq_session_seal(struct pq_session *s, uint8_t type, const uint8_t *pt, size_t pt_len,
				   uint8_t *out, size_t cap, uint64_t now_ms);

/* Open a sealed message: receiver index -> keypair, authenticate, then the
 * replay window. Returns the plaintext length written to out and its type
 * in *type. Every refusal is counted: PQ_E_DECODE, PQ_E_PEER (index not
 * ours), PQ_E_AUTH, PQ_E_REPLAY, PQ_E_TOOBIG (out smaller than the
 * plaintext). out is zeroed on PQ_E_AUTH / PQ_E_REPLAY. */
PQ_MUST_CHECK long pq_session_open(struct pq_session *s, const uint8_t *in, size_t len, uint8_t *out,
				   size_t cap, uint64_t now_ms, uint8_t *type);

/* true when one of this session's live keypairs has local index idx
 * (for the caller's index -> session routing). */
bool pq_session_owns_index(const struct pq_session *s, uint32_t idx);
/* The live keypair (current, next or previous) whose session id is id,
 * else NULL. A re-handshake responder takes the keys the peer's REQUEST
 * names: during a rekey the two sides' current keys differ for a moment
 * (DESIGN §5; issue 8 defect 2). Session ids are public. */
const struct pq_keypair *pq_session_keypair_by_id(const struct pq_session *s,
						  const uint8_t id[PQ_SESSION_ID_LEN]);
/* true when seal would find usable keys at now_ms. */
bool pq_session_can_send(const struct pq_session *s, uint64_t now_ms);

/* Retire keys whose time has come; return the PQ_SESSION_WANT_* flags. */
unsigned pq_session_poll(struct pq_session *s, uint64_t now_ms);
/* The next time poll has something new to do (UINT64_MAX: nothing). */
uint64_t pq_session_next_deadline(const struct pq_session *s, uint64_t now_ms);

#endif
