/*
 * relay.h - the relay core of `pqlan relay` (DESIGN §1-§2, docs/PROTOCOL.md
 * §3): authenticates nodes by an Ed25519 signature over the challenge and
 * the TLS exporter of their connection, tells each node which of its peers
 * are online and where it sees them, and forwards RELAY_SEND as RELAY_RECV
 * between peers - two nodes that list each other in RELAY_WATCH. It
 * never interprets a payload and never holds a session key.
 *
 * The relay runs on a loop it borrows (net/loop.h) and owns its listener,
 * its TLS context and every server conn (net/conn.h). Nothing is global;
 * nothing here exits the process or installs signal handlers (the CLI
 * does, cli/cmd_relay.c).
 *
 * Per connection (PROTOCOL §3.3, §3.4):
 *   open    -> RELAY_CHALLENGE (32 fresh random bytes), auth deadline armed
 *   1st msg must be a valid RELAY_AUTH: else CLOSE(2); bad signature or a
 *           key not on the allow list: CLOSE(3). Then RELAY_WELCOME.
 *           An older conn with the same key gets CLOSE(4) (roaming).
 *   watch   one RELAY_WATCH (its peers' keys): for every listed node that
 *           lists it too (mutual), PEER_ONLINE both ways. A second one, or
 *           a malformed one -> CLOSE(2). Until it arrives the node is
 *           announced to nobody and hears nothing.
 *   then    RELAY_SEND -> RELAY_RECV to a mutual destination, else
 *           UNREACHABLE (offline and not mutual alike);
 *           CLOSE -> closed; anything else or malformed -> CLOSE(2).
 *   end     PEER_OFFLINE to the mutual ones (unless it was replaced).
 * A full destination queue drops the message (counted): memory stays
 * bounded by the conns' max_queue.
 */
#ifndef PQ_RELAY_RELAY_H
#define PQ_RELAY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "net/sock.h"
#include "util/err.h"

struct pq_relay;

/* Test-only payload mangling (env PQLAN_RELAY_TEST_MANGLE, refused by the
 * CLI unless PQLAN_TEST=1): a hostile relay, for the nodes' end-to-end
 * tests. Only payloads whose first byte is a sealed type (0x20-0x2f) are
 * touched, so handshakes still complete. */
enum pq_relay_mangle {
	PQ_RELAY_MANGLE_NONE = 0,
	PQ_RELAY_MANGLE_FLIP,    /* flip the low bit of the payload's last byte */
	PQ_RELAY_MANGLE_REPLAY,  /* deliver every sealed payload twice */
	PQ_RELAY_MANGLE_REORDER, /* hold one, deliver it after the next (swap pairs) */
};

struct pq_relay_opts {
	uint64_t open_timeout_ms; /* TCP + TLS + Upgrade; 0: PQ_CONN_OPEN_TIMEOUT_MS */
	uint64_t auth_timeout_ms; /* open -> RELAY_AUTH; 0: PQ_RELAY_AUTH_TIMEOUT_MS */
	size_t max_queue;         /* per-conn queue bytes; 0: PQ_CONN_MAX_QUEUE */
	size_t max_unauth;        /* open, not yet authenticated conns; 0: PQ_RELAY_MAX_UNAUTH */
	size_t max_unauth_per_ip; /* of those, from one source; 0: PQ_RELAY_MAX_UNAUTH_PER_IP */
	size_t max_nodes;         /* authenticated conns; 0: PQ_RELAY_MAX_NODES */
	size_t max_nodes_per_source; /* of those, from one source; 0: PQ_RELAY_MAX_NODES_PER_SOURCE */
	size_t max_queued;        /* all conns' queues together (bytes); 0: PQ_RELAY_MAX_QUEUED */
	uint64_t ping_interval_ms; /* silence before a WebSocket ping; 0: PQ_RELAY_PING_MS */
	uint64_t ping_timeout_ms; /* no answer: the node is gone; 0: PQ_RELAY_PING_MS */
	bool verbose;             /* one debug line per forwarded message */
	enum pq_relay_mangle mangle;
};

#define PQ_RELAY_AUTH_TIMEOUT_MS 10000
/* Open connections that have not authenticated yet. Past this the oldest
 * is closed: a flood of silent strangers then only shortens everyone's
 * time to authenticate, instead of locking new nodes out. */
#define PQ_RELAY_MAX_UNAUTH 256
/* Of those, from one source (an IPv4 address, an IPv6 /64: one host's
 * usual allocation). Past this the oldest from that source is closed, so
 * one host churns only its own pending logins, not everyone's; it takes
 * PQ_RELAY_MAX_UNAUTH / 32 = 8 sources to reach the global cap. 32 leaves
 * room for many nodes behind one NAT reconnecting at once. */
#define PQ_RELAY_MAX_UNAUTH_PER_IP 32
/* Authenticated conns, in total and from one source. Keys cost nothing
 * on an open relay (no allow list), so without these one host could hold
 * thousands of conns. 16384 covers DESIGN §8's 10,000 idle nodes; 64
 * per source leaves room for an office behind one NAT. Past either cap a
 * new key is refused with CLOSE(3) (a reconnecting key replaces its old
 * conn and is never refused for it). */
#define PQ_RELAY_MAX_NODES 16384
#define PQ_RELAY_MAX_NODES_PER_SOURCE 64
/* Liveness (DESIGN §7): a conn silent this long gets a ping, and one that
 * then stays silent as long is closed, so a node that vanished without
 * a FIN is offline to its peers within 2 * PQ_RELAY_PING_MS; TCP's user
 * timeout does the same for data the node no longer acknowledges. */
#define PQ_RELAY_PING_MS 5000
#define PQ_RELAY_USER_TIMEOUT_MS 15000
/* Memory per conn. Before authentication only RELAY_AUTH may arrive
 * (max_msg = its 97 bytes). A node with no mutual peer only ever gets
 * signalling: a small queue and kernel send buffer; once it has one (it
 * forwards frames) the full max_queue and PQ_RELAY_PAIRED_SNDBUF. So the
 * user-space memory a node can pin is max_queue + 64 KiB of buffers, and
 * the kernel's ~2 * PQ_RELAY_PAIRED_SNDBUF. */
#define PQ_RELAY_LONE_QUEUE (64 * 1024)
#define PQ_RELAY_LONE_SNDBUF (16 * 1024)
#define PQ_RELAY_PAIRED_SNDBUF (512 * 1024)
/* Memory in all: per conn alone, max_nodes paired conns could pin
 * max_nodes x max_queue (16 GiB with the defaults, from enough sources).
 * So the bytes all conns hold queued are counted (net/conn.h
 * opts.queued_total), and past max_queued a message is dropped, as on a
 * full queue, when its destination already holds PQ_RELAY_LONE_QUEUE: a
 * conn with less always gets the next message, so one that drains keeps
 * moving and one that hoards stops growing; the relay's queues stay
 * under max_queued + max_nodes x (64 KiB + PQ_MAX_MSG_LEN), ~2.3 GiB
 * with the defaults. */
#define PQ_RELAY_MAX_QUEUED ((size_t)256 << 20)
/* The rule above: whether a message of len bytes to a conn holding
 * dst_queued is dropped while all conns hold queued (max_queued the
 * budget). Pure. */
bool pq_relay_budget_refuses(size_t queued, size_t max_queued, size_t dst_queued, size_t len);

/* Federation over NATS (relay_fed.c, DESIGN §8); all 0 without NATS. */
struct pq_relay_fed_stats {
	uint64_t connected;      /* 1 while connected to NATS (a gauge) */
	uint64_t outages;        /* connection losses */
	uint64_t remote_nodes;   /* records of nodes on other relays held now (a gauge) */
	uint64_t fwd_out;        /* frames sent to other relays */
	uint64_t fwd_in;         /* frames from other relays delivered here */
	uint64_t fwd_in_dropped; /* well-formed frames from NATS not delivered: unknown
				  * source, not mutual, destination not here */
	uint64_t bad_msgs;       /* malformed messages and records from NATS, dropped */
	uint64_t queue_dropped;  /* a queue to or from the NATS threads was full */
	uint64_t down_dropped;   /* records and frames not sent: NATS was down */
	uint64_t slow_dropped;   /* dropped by libnats: we read too slowly */
	uint64_t kv_errors;      /* presence writes the bucket refused or timed out */
	uint64_t puts;           /* presence records written (refreshes included) */
	uint64_t moved;          /* conns closed: the node connected to another relay since */
	uint64_t expired;        /* remote records dropped: their relay stopped refreshing */
};

struct pq_relay_stats {
	uint64_t nodes;        /* authenticated now */
	uint64_t auth_ok, auth_failed, replaced;
	uint64_t protocol_errors;
	uint64_t forwarded, unreachable;
	uint64_t not_mutual;   /* of unreachable: dst online, but the two do not list each other */
	uint64_t dropped;      /* a destination queue was full */
	uint64_t budget_dropped; /* of those, for max_queued (the relay's budget) */
	uint64_t queued;       /* bytes queued in all conns now (a gauge) */
	uint64_t sig_checks;   /* Ed25519 verifications of RELAY_AUTH (allowed keys only) */
	uint64_t unauth_evicted; /* unauthenticated conns closed to make room */
	uint64_t unauth_ip_evicted; /* of those, for their source's cap */
	uint64_t full_refused;   /* valid RELAY_AUTH refused: max_nodes reached */
	uint64_t source_refused; /* valid RELAY_AUTH refused: its source at max_nodes_per_source */
	/* From the listener (net/conn.h): TCP accepted, dropped before the
	 * WebSocket opened (not TLS, plain HTTP, stalled), of those HTTP 4xx;
	 * pending conns closed for newer ones (per-source and total caps). */
	uint64_t accepted, failed_before_open, http_refused, pending_evicted;
	/* Refusals by reason (their sum is in auth_failed) and payload bytes
	 * forwarded (relay_metrics.c exports them). */
	uint64_t auth_not_allowed, auth_bad_sig, auth_timeout;
	uint64_t forwarded_bytes;
	/* STUN: Binding requests answered; datagrams not answered. */
	uint64_t stun_answered, stun_dropped;
	struct pq_relay_fed_stats fed;
};

/*
 * Make a relay listening on listen (port 0 picks one, pq_relay_addr tells)
 * with the identity private key priv (copied into the TLS context, the
 * caller wipes its own copy) and the allow list (allow_count keys of 32
 * bytes, copied; 0 keys: any node). opts may be NULL.
 * PQ_E_INVAL, PQ_E_NOMEM, PQ_E_KEY, PQ_E_CRYPTO, PQ_E_INUSE (address in
 * use), PQ_E_LIMIT, PQ_E_IO.
 */
PQ_MUST_CHECK int pq_relay_new(struct pq_relay **out, struct pq_loop *loop,
			       const uint8_t priv[32], const struct pq_sockaddr *listen,
			       const uint8_t (*allow)[32], size_t allow_count,
			       const struct pq_relay_opts *opts);

/* Reload (SIGHUP): max_nodes, max_nodes_per_source and max_queued as in
 * pq_relay_opts (0: the default). They apply to what comes next: an
 * authentication past a lower cap is refused, conns already over it stay;
 * a lower budget drops messages from the next one on. */
void pq_relay_set_limits(struct pq_relay *r, size_t max_nodes, size_t max_nodes_per_source,
			 size_t max_queued);

/* Stop accepting; send CLOSE(5) to every conn and close them. Run the loop
 * afterwards until it returns (each conn ends within close_linger_ms),
 * then pq_relay_free. Safe to call twice. */
void pq_relay_shutdown(struct pq_relay *r);

/* Free the relay; conns still alive are aborted (no callback). NULL is
 * fine. Not from inside a relay callback. Conns it refused while opening
 * are reaped by the loop and count their queue into the relay's budget
 * until then: run the loop after pq_relay_shutdown until it returns (as
 * above) before freeing, or free the loop without running it again. */
void pq_relay_free(struct pq_relay *r);

const struct pq_sockaddr *pq_relay_addr(const struct pq_relay *r);
/* The relay's public key (borrowed). */
const uint8_t *pq_relay_public(const struct pq_relay *r);
void pq_relay_stats(const struct pq_relay *r, struct pq_relay_stats *out);
/* Number of conns the relay holds (authenticated or not). */
size_t pq_relay_conn_count(const struct pq_relay *r);
/* relay_stun.c: the STUN responder (RFC 8489 Binding, proto/stun.h) on
 * two UDP sockets of the relay's loop, addr's port P and P + 1 (port 0:
 * two ports the kernel picks). Closed by pq_relay_shutdown/_free.
 * 0, PQ_E_STATE (started already, or shut down), PQ_E_INVAL (not IPv4 or
 * IPv6, or P = 65535), PQ_E_INUSE (address in use), PQ_E_PERM, PQ_E_LIMIT, PQ_E_IO;
 * after a failure nothing is left open. */
PQ_MUST_CHECK int pq_relay_stun_start(struct pq_relay *r, const struct pq_sockaddr *addr);
/* The bound address of STUN socket i (0: port P, 1: P + 1); NULL when
 * STUN is off or the relay is shut down. */
const struct pq_sockaddr *pq_relay_stun_addr(const struct pq_relay *r, unsigned i);

/* relay_metrics.c: the relay's runtime view (issue 12).
 * Status for `pqlan relay-status`: the counters and one entry per
 * authenticated node (key, address, watching, mutual peers online,
 * connected for how long), as text or one JSON object. The Prometheus
 * text exposition (format 0.0.4) of the same counters. Each returns the
 * length written into out (cap bytes, NUL-terminated) or PQ_E_TOOBIG. */
PQ_MUST_CHECK long pq_relay_report(const struct pq_relay *r, bool json, char *out, size_t cap);
PQ_MUST_CHECK long pq_relay_metrics_text(const struct pq_relay *r, char *out, size_t cap);
/* Bytes that surely hold either report for the relay's current nodes. */
size_t pq_relay_report_cap(const struct pq_relay *r);
/* Replace the allow list (count keys, copied; 0: any node) and close every
 * authenticated node it no longer allows (CLOSE(3)); *closed counts them.
 * 0 or PQ_E_NOMEM (the old list stays). */
PQ_MUST_CHECK int pq_relay_set_allow(struct pq_relay *r, const uint8_t (*allow)[32], size_t count,
				     size_t *closed);
/* relay_fed.c: federation over a NATS cluster (DESIGN §8, docs/relay.md).
 * Without it the relay runs alone, as before. */
struct pq_relay_nats_opts {
	const char *name;               /* this relay's id, unique in the cluster
					 * (proto/msg_fed.h: 1-32 of [A-Za-z0-9_-]) */
	const char *const *servers;     /* nats://host:port URLs, tried in order */
	size_t server_count;
	const char *user, *password;    /* NULL: none */
	const char *creds_file;         /* NATS credentials (JWT + nkey); NULL: none */
	const char *ca_file;            /* TLS: CA of the servers; NULL: no TLS */
	const char *cert_file, *key_file; /* TLS client certificate; NULL: none */
	uint64_t ttl_ms;                /* presence record lifetime without refresh */
	int replicas;                   /* of the presence bucket (made by the first relay) */
};
#define PQ_RELAY_NATS_TTL_MS 15000

/* Two steps, so files are read before privileges are dropped and threads
 * start after (capabilities and no_new_privs are per thread):
 * prepare reads the files named in o and sets everything up but threads
 * (after pq_relay_new, once): 0, PQ_E_CONFIG (err says why), PQ_E_STATE
 * (prepared already), PQ_E_NOMEM, PQ_E_IO. start starts the threads; the
 * connection is made in the background (retried for ever; until it is up
 * the relay forwards to its own nodes only): 0, PQ_E_STATE (not
 * prepared), PQ_E_IO. */
PQ_MUST_CHECK int pq_relay_nats_prepare(struct pq_relay *r, const struct pq_relay_nats_opts *o,
					char *err, size_t err_len);
PQ_MUST_CHECK int pq_relay_nats_start(struct pq_relay *r);

#endif
