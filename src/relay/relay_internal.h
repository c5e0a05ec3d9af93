/*
 * relay_internal.h - state shared by the relay's files: relay.c (life of
 * the relay and its conns), relay_auth.c (challenge, RELAY_AUTH,
 * RELAY_WELCOME), relay_watch.c (RELAY_WATCH, mutual watch, PEER_ONLINE /
 * PEER_OFFLINE), relay_fwd.c (RELAY_SEND -> RELAY_RECV), relay_mangle.c
 * (the test-only hostile mode), relay_stun.c (the STUN responder).
 */
#ifndef PQ_RELAY_INTERNAL_H
#define PQ_RELAY_INTERNAL_H

#include <stdbool.h>

#include "crypto/identity.h"
#include "net/conn.h"
#include "proto/msg_relay.h"
#include "relay/relay.h"
#include "relay/relay_table.h"

/* Printed key prefix in logs: enough to tell nodes apart, short lines. */
#define RELAY_KEY_PREFIX 8
/* RFC 6455 §7.4.1 policy violation: the close code under CLOSE(3). */
#define RELAY_WS_CLOSE_POLICY 1008

/* relay_fed.c's part of a node (with NATS only). gen 0: never put. */
struct relay_fed_node {
	uint64_t gen;                       /* which conn of the key (ours, relay-wide) */
	uint64_t rev;                       /* bucket revision of our last record, 0 unknown */
	uint64_t put_ms;                    /* when it was last queued */
	bool moved;                         /* it connected to another relay since */
};

/* One server conn that reached on_open. */
struct relay_node {
	struct pq_relay *relay;
	struct pq_conn *conn;
	struct relay_node *prev, *next;     /* every node of the relay */
	struct relay_table_entry entry;     /* key; linked while it is the key's conn */
	uint8_t challenge[PQ_RELAY_CHALLENGE_LEN];
	struct pq_timer auth_timer;
	bool authed;
	bool closing;                       /* we sent CLOSE or closed it */
	bool watching;                      /* its one RELAY_WATCH arrived */
	bool paired;                        /* has had a mutual peer: full queue */
	uint8_t (*watch)[PQ_PUBKEY_LEN];    /* sorted, watch_count <= PQ_RELAY_WATCH_MAX keys (heap) */
	size_t watch_count;
	struct pq_wire_addr observed;
	char addr_text[PQ_SOCKADDR_TEXT];
	char key_text[RELAY_KEY_PREFIX + 1];
	uint64_t authed_ms;                 /* loop time of RELAY_WELCOME (relay_metrics.c) */
	struct relay_fed_node fed;          /* relay_fed.c, relay_presence.c */
};

/* relay_stun.c's: the STUN sockets on port P and P + 1 (one writer). */
struct relay_stun {
	int fd[2];
	bool open[2], watched[2];
	struct pq_sockaddr addr[2];         /* bound (the port the kernel gave) */
};

struct pq_relay {
	struct pq_loop *loop;
	struct pq_tls_ctx *tls;
	struct pq_listener *listener;
	struct pq_relay_opts opts;
	struct relay_table table;
	struct relay_node *nodes;           /* list head */
	size_t node_count;
	uint8_t (*allow)[PQ_PUBKEY_LEN];    /* sorted, allow_count keys */
	size_t allow_count;
	struct pq_relay_stats stats;
	size_t queued;                      /* all conns' queued bytes (relay.h "Memory in all") */
	bool shutting_down;
	uint8_t *held;                      /* reorder mode: one held message */
	size_t held_len;
	struct relay_node *held_dst;
	uint8_t scratch[PQ_MAX_MSG_LEN];    /* the RELAY_RECV being built */
	struct relay_stun stun;
	struct relay_fed *fed;              /* NULL: alone (relay_fed.c) */
};

/* relay.c */
/* Queue msg to n; a full queue or the budget drops it (counted). 0 or
 * the send error. */
int relay_send(struct relay_node *n, const uint8_t *msg, size_t len);
/* Send CLOSE(reason) and close n with ws_code; later calls do nothing. */
void relay_close_node(struct relay_node *n, uint16_t reason, uint16_t ws_code);
/* A malformed or unexpected message: CLOSE(2), counted and logged. */
void relay_protocol_error(struct relay_node *n, const char *what);
struct relay_node *relay_node_of_key(const struct pq_relay *r, const uint8_t key[PQ_PUBKEY_LEN]);

/* n got a mutual peer: it forwards frames now, give it the full queue
 * and send buffer (relay.h, memory per conn). Once per conn. */
void relay_node_paired(struct relay_node *n);
/* Authenticated nodes from n's source, other than n and except. */
size_t relay_nodes_from_source(const struct pq_relay *r, const struct relay_node *n,
			       const struct relay_node *except);

/* relay_auth.c */
/* Send the challenge and arm the auth deadline. 0 or PQ_E_*. */
PQ_MUST_CHECK int relay_auth_start(struct relay_node *n);
/* The first message of n (before RELAY_WELCOME). */
void relay_auth_message(struct relay_node *n, const uint8_t *msg, size_t len);

/* relay_watch.c */
/* RELAY_WATCH from authenticated n: store its set, announce the pairs it
 * makes mutual; a second one or a malformed one is a protocol error. */
void relay_watch_message(struct relay_node *n, const uint8_t *msg, size_t len);
/* Do a and b (distinct, both having sent RELAY_WATCH) list each other?
 * Only then does the relay tell one about the other or forward between
 * them (PROTOCOL §3.4). */
bool relay_mutual(const struct relay_node *a, const struct relay_node *b);
/* Does n (watching) list key? */
bool relay_watches(const struct relay_node *n, const uint8_t key[PQ_PUBKEY_LEN]);
/* PEER_OFFLINE about n to every live node mutual with it. */
void relay_announce_offline(struct relay_node *n);
/* Free n's watch set. */
void relay_watch_free(struct relay_node *n);

/* relay_fwd.c */
void relay_forward(struct relay_node *src, const uint8_t *msg, size_t len);

/* relay_fed.c: the hooks of federation; each does nothing without NATS. */
/* n sent its RELAY_WATCH: publish its record, tell it of remote peers. */
void relay_fed_watching(struct relay_node *n);
/* n, the key's current conn, is going: delete its record. */
void relay_fed_left(struct relay_node *n);
/* RELAY_SEND to a key with no live conn here: 1 sent to the relay that
 * holds it, 0 no such relay, -1 held elsewhere but not mutual. */
int relay_fed_forward(struct relay_node *src, const struct pq_relay_fwd *f);
void relay_fed_stats(const struct pq_relay *r, struct pq_relay_fed_stats *out);
/* relay_fed_metrics.c: federation's lines in the status report and the
 * Prometheus text (relay_metrics.c); nothing without NATS. */
struct pq_strbuf;
void relay_fed_report_text(const struct pq_relay *r, struct pq_strbuf *b);
void relay_fed_metrics_text(const struct pq_relay *r, struct pq_strbuf *b);
/* Stop taking events (pq_relay_shutdown) / free (pq_relay_free). */
void relay_fed_shutdown(struct pq_relay *r);
void relay_fed_free(struct pq_relay *r);

/* relay_mangle.c (test-only) */
/* Deliver the RELAY_RECV in msg to dst as the hostile mode says. */
void relay_mangle_deliver(struct pq_relay *r, struct relay_node *dst, uint8_t *msg, size_t len);
/* dst is going away: forget a message held for it. */
void relay_mangle_forget(struct pq_relay *r, struct relay_node *dst);

/* relay_stun.c (starts with pq_relay_stun_start, relay.h) */
/* Unwatch and close the STUN sockets; safe twice and when never started. */
void relay_stun_stop(struct pq_relay *r);

#endif
