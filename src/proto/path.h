/*
 * path.h - which way one peer's messages go, and when to try another:
 * the direct path's candidates, dials, proofs, migration, liveness,
 * fallback, retries and re-authentication (DESIGN §2 "path preference",
 * §5; docs/PROTOCOL.md §5). Sans-I/O: events and the monotonic time in,
 * actions and the next deadline out. No socket, no clock, no TLS: the
 * node (node/path_exec.c) owns the connections and executes the actions.
 *
 *   relay ----(candidates; dial k / accept k)----> conn k PROVING
 *   conn k PROVING --(re-handshake COMPLETED)----> USABLE, and ACTIVE
 *                                                  when it is the best
 *   ACTIVE --(error, close, probe unanswered, re-auth failed)--> relay,
 *                                                  retry later
 *
 * Conns. A "conn" is one way to reach the peer directly: today a TLS
 * connection (dialled by us or accepted), later a validated UDP address.
 * Each has a slot k in [0, PQ_PATH_MAX_CONNS) chosen here: a dial's slot
 * comes with its DIAL action, an accepted conn's slot is the event's
 * answer (out->accepted). A slot is free again the moment this module
 * says DROP (or is told CLOSED): the node must detach its conn from k at
 * once and never report it again.
 *
 * Rules (each has a unit test in tests/proto/test_path*.c):
 *   proof     a conn carries nothing but the re-handshake until a run
 *             COMPLETED on it; the dialler initiates. PQ_PATH_REHS_TIMEOUT_MS
 *             after it opened (or after a re-authentication started) an
 *             unfinished run drops the conn (monotonic, not wall time);
 *             except a run the peer started on a usable UDP conn it
 *             dialled (the dialler initiates, so the node reports a
 *             peer's REQUEST on no other): anyone can send that REQUEST,
 *             so its end only ends the run (and a new REQUEST restarts
 *             the clock: it replaces the run).
 *   migrate   a conn whose run completed becomes the active path if it is
 *             the best usable one (UDP over TLS, then the newest): one
 *             step, no fallback between; an older conn of the same
 *             transport is then dropped (REPLACED).
 *   crossing  two conns still proving, one dialled by each side: the one
 *             dialled by the lower key wins (DESIGN §2), the other drops.
 *   liveness  a TX on the active conn (not an answer to a PROBE) starts
 *             a 1 s clock that any RX on it stops; when it runs out,
 *             PROBE; no RX within 1 s more:
 *             drop, fall back (DESIGN §5: outage <= 2 s). An active UDP
 *             conn that sent nothing for keepalive_udp gets a PROBE too:
 *             its answer keeps both NAT mappings open. A message from
 *             the peer through the relay or on a stand-by conn while the
 *             active conn has been quiet for 1 s probes at once (the
 *             peer may have dropped it and have nothing to send on it).
 *             The peer's PROBE and PMTU_PROBE are no answer
 *             (pq_path_rx_is_answer).
 *   fallback  the active conn gone: the relay at once (ACTIVATE -1), a
 *             KEEPALIVE through the relay from the next timer (so an idle
 *             peer notices and probes its side), and a retry. A stand-by
 *             conn taking over instead gets the KEEPALIVE 1 s later (the
 *             peer's side of the dropped conn is quiet by then).
 *   dials     one schedule per transport. TLS: one candidate at a time,
 *             while no direct path is active and no TLS conn exists; a
 *             dial that never opened tries the next TLS candidate after
 *             PQ_PATH_NEXT_CAND_MS. UDP: one attempt covers every UDP
 *             candidate at once (the node punches them all, the peer
 *             told through the session: PUNCH), while no UDP conn exists
 *             and the active path is not UDP, and only while the session
 *             can reach the peer (relay or active conn) to coordinate.
 *   retry     while policy and transport allow and keys are usable, a
 *             dial of each transport that could still improve the path
 *             is always scheduled: retry_interval +-1/8 (jitter), the
 *             higher key PQ_PATH_HIGH_KEY_DELAY_MS later; at once (the
 *             same delay) when candidates arrive or the peer comes back
 *             online. Whatever failed - dial, proof, close before proof,
 *             fallback - a retry follows.
 *   reauth    on every conn we dialled that is usable: a new run after
 *             every rekey (the keys' index changed) and every
 *             reauth_interval; its failure drops the conn.
 *   policy    relay: no conn at all (dials refused, accepts refused,
 *             existing conns dropped on change); direct: data never
 *             through the relay (pq_path_route says NONE); auto: both.
 *             transports auto | udp | tls: which kinds of conn may exist.
 *             A change (POLICY) drops only the conns it forbids; the
 *             active one hands over to the best usable conn left in one
 *             step, as in "migrate" (a planned UDP -> TLS move loses
 *             nothing).
 *   endpoints our ENDPOINTS for every new keypair (a restarted peer's
 *             handshake looks like a rekey to us, and it lost ours), when
 *             the peer comes back online and when our own candidates
 *             change, while keys are usable and the relay reports the
 *             peer (SEND_ENDPOINTS).
 *
 * Re-entrancy: the events a node reports from inside its own send routine
 * (TX, SEND_FAILED) never produce actions that send (PROBE,
 * KEEPALIVE, SEND_ENDPOINTS, REHS_START); so the node may execute
 * their actions in place.
 *
 * Ownership: struct pq_path is the caller's, plain data, no heap; the
 * candidates' addresses stay with the caller (this module only knows how
 * many there are and their transports).
 */
#ifndef PQ_PROTO_PATH_H
#define PQ_PROTO_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/msg_sealed.h"
#include "proto/rehandshake.h"
#include "util/err.h"

#define PQ_PATH_MAX_CONNS 4             /* ours, theirs, one being replaced, one spare */
#define PQ_PATH_MAX_CANDS (1 + PQ_ENDPOINTS_MAX) /* a static endpoint + ENDPOINTS */
#define PQ_PATH_MAX_ACTIONS 24
#define PQ_PATH_PROBE_AFTER_MS 1000u    /* sent, nothing received: probe */
#define PQ_PATH_PROBE_WAIT_MS 1000u     /* probe unanswered: drop */
#define PQ_PATH_REHS_TIMEOUT_MS PQ_REHS_TIMEOUT_MS
#define PQ_PATH_HIGH_KEY_DELAY_MS 1500u
#define PQ_PATH_NEXT_CAND_MS 200u

/* "conn" values that are not a slot. */
#define PQ_PATH_VIA_RELAY (-1)
#define PQ_PATH_VIA_NONE (-2)          /* nowhere: drop (policy direct, no conn) */

enum pq_path_policy { PQ_PATH_POLICY_AUTO = 0, PQ_PATH_POLICY_RELAY, PQ_PATH_POLICY_DIRECT };
/* Which transports a peer's direct path may use (`transport =`). */
enum pq_path_transports { PQ_PATH_ANY = 0, PQ_PATH_UDP_ONLY, PQ_PATH_TLS_ONLY };

/* Transports, in order of preference (DESIGN §2: UDP, then TLS). */
enum pq_path_transport { PQ_PATH_TLS = 0, PQ_PATH_UDP = 1, PQ_PATH_NTRANSPORTS };
#define PQ_PATH_KEEPALIVE_UDP_MS 25000u /* default: NAT UDP mappings last 30 s+ */

enum pq_pconn_state {
	PQ_PCONN_FREE = 0,
	PQ_PCONN_DIALING,     /* we dialled; not open yet */
	PQ_PCONN_PROVING,     /* open; its first re-handshake has not completed */
	PQ_PCONN_USABLE,      /* a run completed on it */
};

/* Why a conn was dropped (DROP actions, and counters of the same name). */
enum pq_path_drop {
	PQ_PATH_DROP_CLOSED = 0,      /* the node said CLOSED (not an action) */
	PQ_PATH_DROP_SEND_FAILED,     /* the node said SEND_FAILED */
	PQ_PATH_DROP_REHS_FAILED,     /* a run failed (the node's rehs reason says why) */
	PQ_PATH_DROP_REHS_TIMEOUT,    /* a run did not complete in time */
	PQ_PATH_DROP_PROBE,           /* probe unanswered */
	PQ_PATH_DROP_CROSSING,        /* crossing dials: the lower key's won */
	PQ_PATH_DROP_REPLACED,        /* a newer conn of the same transport took over */
	PQ_PATH_DROP_SESSION,         /* the session's keys are gone */
	PQ_PATH_DROP_POLICY,          /* path = relay */
	PQ_PATH_DROP_COUNT
};

enum pq_path_ev_type {
	PQ_PATH_EV_TIMER = 0,
	PQ_PATH_EV_KEYS,             /* keys usable; key_index: the current keypair's */
	PQ_PATH_EV_KEYS_GONE,        /* no usable keys any more: every conn drops */
	PQ_PATH_EV_ONLINE,           /* the relay reports the peer */
	PQ_PATH_EV_OFFLINE,          /* it does not any more */
	PQ_PATH_EV_CANDIDATES,       /* cand_count / cand_transport: the new list */
	PQ_PATH_EV_DIAL_OPENED,      /* conn: our dial is open */
	PQ_PATH_EV_ACCEPTED,         /* an open conn the peer dialled: out->accepted */
	PQ_PATH_EV_CLOSED,           /* conn closed or failed, any state */
	PQ_PATH_EV_SEND_FAILED,      /* conn refused a send for good */
	PQ_PATH_EV_REHS_REQUEST,     /* conn (usable): the peer started a run on it */
	PQ_PATH_EV_REHS_DONE,        /* conn: a run completed under keys key_index */
	PQ_PATH_EV_REHS_FAILED,      /* conn: a run failed */
	PQ_PATH_EV_RX,               /* an authenticated message on conn (or VIA_RELAY) */
	PQ_PATH_EV_TX,               /* a message sent on conn */
	PQ_PATH_EV_ENDPOINTS_UNSENT, /* our SEND_ENDPOINTS did not go out: again later */
	PQ_PATH_EV_POLICY,           /* policy / transports changed to ev.policy, ev.transports */
	PQ_PATH_EV_OURS_CHANGED,     /* our own candidates changed: ENDPOINTS again */
	PQ_PATH_EV_COUNT
};

struct pq_path_event {
	enum pq_path_ev_type type;
	int conn;                           /* slot, or PQ_PATH_VIA_RELAY for RX */
	uint32_t key_index;                 /* KEYS, REHS_DONE */
	unsigned cand_count;                /* CANDIDATES */
	const uint8_t *cand_transport;      /* CANDIDATES: cand_count enum pq_path_transport */
	enum pq_path_policy policy;         /* POLICY */
	enum pq_path_transports transports; /* POLICY */
};

enum pq_path_act_type {
	PQ_PATH_ACT_DIAL = 1,        /* open conn slot `conn`: TLS to candidate `cand`, or a
				      * UDP attempt (`cand`: its first UDP candidate) */
	PQ_PATH_ACT_REHS_START,      /* conn: start a run as initiator (proof or re-auth) */
	PQ_PATH_ACT_ACTIVATE,        /* frames now go to conn (VIA_RELAY: the relay); from: before */
	PQ_PATH_ACT_PROBE,           /* seal and send a PROBE on conn */
	PQ_PATH_ACT_DROP,            /* close conn (reason); its slot is already free */
	PQ_PATH_ACT_KEEPALIVE,       /* seal a KEEPALIVE on conn (a slot or VIA_RELAY): after
				      * the active conn was dropped, so the peer hears of it */
	PQ_PATH_ACT_SEND_ENDPOINTS,  /* seal our ENDPOINTS to the peer */
};

struct pq_path_action {
	enum pq_path_act_type type;
	int conn;
	int from;                    /* ACTIVATE: the conn frames took before */
	unsigned cand;               /* DIAL */
	enum pq_path_drop reason;    /* DROP */
};

struct pq_path_out {
	struct pq_path_action act[PQ_PATH_MAX_ACTIONS];
	unsigned n;
	int accepted;                /* ACCEPTED: the slot, or -1: refused (close it) */
	uint64_t deadline_ms;        /* call again with TIMER then; UINT64_MAX: never */
};

struct pq_pconn {
	enum pq_pconn_state state;
	uint8_t transport;           /* enum pq_path_transport */
	bool dialled;                /* we dialled it: the re-handshake initiator */
	bool rehs_running;           /* a run is under way (proof or re-auth) */
	unsigned cand;               /* dialled: the candidate */
	uint64_t seq;                /* creation order: higher is newer */
	uint64_t rehs_deadline_ms;   /* rehs_running: drop when reached */
	uint64_t proven_ms;          /* the last run completed */
	uint32_t key_index;          /* ... under these keys */
	uint64_t last_rx_ms;         /* last authenticated message on it */
	uint64_t last_tx_ms;         /* last message sent on it */
	uint64_t unanswered_ms;      /* active: first TX after the last RX; 0 none */
	uint64_t probe_ms;           /* active: PROBE outstanding since; 0 none */
};

struct pq_path_counters {
	uint64_t dials;              /* DIAL actions, TLS and UDP */
	uint64_t udp_attempts;       /* of which UDP (punching) */
	uint64_t udp_validated;      /* UDP conns whose first proof completed */
	uint64_t udp_failed;         /* UDP conns dropped before their proof completed */
	uint64_t migrations;         /* relay -> direct */
	uint64_t fallbacks;          /* direct -> relay */
	uint64_t drops[PQ_PATH_DROP_COUNT];
};

/* Jitter source: uniform in [0, n), n > 0. */
typedef uint32_t (*pq_path_random_fn)(void *ctx, uint32_t n);

struct pq_path_config {
	enum pq_path_policy policy;
	bool we_are_lower;           /* our public key sorts below the peer's */
	uint32_t retry_interval_ms;  /* > 0 */
	uint32_t reauth_interval_ms; /* > 0 */
	uint32_t keepalive_udp_ms;   /* 0: PQ_PATH_KEEPALIVE_UDP_MS */
	enum pq_path_transports transports;
	pq_path_random_fn random;    /* NULL: no jitter */
	void *random_ctx;
};

struct pq_path {
	struct pq_path_config cfg;
	bool keys;                   /* the session can send */
	uint32_t key_index;          /* its current keypair */
	bool online;                 /* the relay reports the peer */
	uint8_t cand_transport[PQ_PATH_MAX_CANDS];
	unsigned cand_count;
	unsigned next_cand;          /* the next TLS candidate to dial */
	uint64_t next_dial_ms[PQ_PATH_NTRANSPORTS]; /* per transport; 0: none scheduled */
	bool endpoints_sent;         /* this session, since the peer came online */
	uint64_t endpoints_retry_ms; /* not before (after ENDPOINTS_UNSENT) */
	uint64_t nudge_ms;           /* a KEEPALIVE on the new active way is due; 0 none */
	int active;                  /* slot, or PQ_PATH_VIA_RELAY */
	uint64_t seq;
	struct pq_pconn conn[PQ_PATH_MAX_CONNS];
	struct pq_path_counters count;
};

void pq_path_init(struct pq_path *p, const struct pq_path_config *cfg);

/* Feed one event at now_ms (monotonic). The actions to execute, in order,
 * and the next deadline are in *out. PQ_E_INVAL: an event naming a slot
 * that is free or out of range, or a malformed one (nothing changed,
 * out->n = 0, the deadline still valid). */
PQ_MUST_CHECK int pq_path_input(struct pq_path *p, const struct pq_path_event *ev, uint64_t now_ms,
				struct pq_path_out *out);

/* The data path's shortcuts for RX and TX on a conn (the same as those
 * events, without building an output): an authenticated message on conn
 * k only moves the deadline later, so nothing needs re-arming; a send on
 * k returns true when it moved the deadline earlier (the first send after
 * a receive starts the 1 s liveness clock): then re-arm the timer at
 * pq_path_next_deadline. k out of range or free: nothing. */
void pq_path_rx(struct pq_path *p, int k, uint64_t now_ms);
bool pq_path_tx(struct pq_path *p, int k, uint64_t now_ms);
/* A send on k that asks for nothing back (a PROBE_ACK, a PMTU_ACK) or whose
 * answer is optional (a PMTU_PROBE, lost by design when too large): traffic for
 * keepalive_udp, but no liveness clock. An answer that started the
 * sender's clock would draw a PROBE from it a second later, whose answer
 * starts the other side's clock: two idle peers would probe each other
 * every second. Never moves the deadline earlier. */
void pq_path_tx_answer(struct pq_path *p, int k, uint64_t now_ms);
/* Whether an authenticated message on k (a slot, or PQ_PATH_VIA_RELAY)
 * makes the path probe its active conn: k is another way than the active
 * conn, which has heard nothing for PQ_PATH_PROBE_AFTER_MS and has no probe
 * out (the peer may have dropped it). Then the caller reports the message
 * as PQ_PATH_EV_RX; otherwise pq_path_rx (answers only) is all it needs. */
bool pq_path_rx_wants_event(const struct pq_path *p, int k, uint64_t now_ms);
/* Whether an authenticated message of this type that came on a conn
 * answers our sends (then the caller reports it with pq_path_rx). The
 * peer's PROBE and PMTU_PROBE do not: they come on its schedule and show
 * that its messages reach us, not that ours reach it. Counted as answers,
 * the peer's keepalive PROBE landing in our 2 s window would stop our
 * clock on a path dead in our direction only, and we would go on sending
 * into it (DESIGN §5: an outage is 2 s at most). */
bool pq_path_rx_is_answer(uint8_t type);

/* What kind of message is to be sent (pq_path_route). */
enum pq_path_msg {
	PQ_PATH_MSG_DATA = 0,        /* DATA, DATA_GSO */
	PQ_PATH_MSG_SIGNAL,          /* KEEPALIVE, ENDPOINTS, ... sealed but not data */
	PQ_PATH_MSG_HANDSHAKE,       /* 0x10-0x12 */
	PQ_PATH_MSG_CONTROL,         /* ENDPOINTS, PUNCH: about the direct path itself */
};

/* The one path choice for every message to the peer: the active conn's
 * slot, PQ_PATH_VIA_RELAY or PQ_PATH_VIA_NONE. relay_up: our relay link
 * is connected. came_on: for a handshake reply, the conn the message it
 * answers came on (else PQ_PATH_VIA_RELAY). Handshakes take the relay as
 * a rule and the active conn when the relay cannot deliver (ours down,
 * the peer not online there) or the peer spoke on a conn. Messages about
 * the direct path (CONTROL) take the relay whenever it reaches the peer:
 * the active conn may be the very thing that died (a restarted peer). */
int pq_path_route(const struct pq_path *p, enum pq_path_msg m, bool relay_up, int came_on);

/* Where a message goes that the active conn cannot carry (too large for
 * a datagram): a usable TLS conn, else the relay; for data under policy
 * direct with no TLS conn, PQ_PATH_VIA_NONE. */
int pq_path_route_fallback(const struct pq_path *p, enum pq_path_msg m, bool relay_up);

/* The next deadline (also in every out), UINT64_MAX for none; never
 * before now_ms. */
uint64_t pq_path_next_deadline(const struct pq_path *p, uint64_t now_ms);

const char *pq_path_drop_name(enum pq_path_drop reason);
const char *pq_path_transport_name(enum pq_path_transport t);

#endif
