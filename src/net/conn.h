/*
 * conn.h - a message-oriented connection on the event loop: TCP, TLS 1.3
 * with pinned keys (net/tls.h), WebSocket (net/ws.h, net/ws_handshake.h),
 * one pqlan message per binary WebSocket message (DESIGN §2). Used by the
 * relay (`pqlan relay`) and the node (`pqlan up`), relay and direct paths.
 *
 * Life of a connection:
 *   client  pq_conn_connect(): TCP connect, TLS (server key pinned), the
 *           WebSocket Upgrade (client role, masked frames), then on_open.
 *   server  pq_listener_new() accepts; each conn does TLS (client
 *           certificates required and pinned if the TLS context says so,
 *           pq_tls_ctx_require_client), the Upgrade (server role), then the
 *           listener's on_open.
 *   One deadline (opts.open_timeout_ms, default 10 s) covers TCP + TLS +
 *   Upgrade: a peer that stalls anywhere before open is dropped then. A
 *   server conn must also send its first bytes (the ClientHello) within
 *   opts.first_bytes_ms (default 2 s) of the accept.
 *   After open: on_message per received message, pq_conn_send to queue one.
 *   End: exactly one on_close, then the conn is freed by the module.
 *
 * Which conns get on_close: every client conn (even one whose TCP connect
 * failed) and every server conn that was reported to on_open. A server
 * conn that fails before open (garbage instead of TLS, bad client key, a
 * plain HTTP request - answered with the ws_handshake 4xx over TLS, a
 * stall) vanishes silently; the listener counts it (pq_listener_stats).
 *
 * Callbacks never run from inside a pq_conn_* call: they come from the
 * loop. Inside any callback the caller may call pq_conn_send or
 * pq_conn_close on any conn, including the one being reported, and may
 * free the listener. on_close runs from a loop turn after the conn stopped
 * reading; after on_close returns the pointer is dangling.
 *
 * Ownership: the caller owns the loop, the TLS context and the listener,
 * and must keep the loop and the TLS context alive until every conn made
 * with them got its on_close (run the loop until then). pq_conn_abort
 * frees a conn at once without calling back (for shutdown); freeing the
 * listener frees the server conns not yet open.
 *
 * Signals: the first pq_conn_connect / pq_listener_new sets SIGPIPE to
 * SIG_IGN if it is still SIG_DFL (OpenSSL writes with write(2); a reset
 * peer must give EPIPE, not kill the process).
 *
 * Memory: a conn holds one receive buffer (16 KiB), the WebSocket
 * reassembly buffer (at most max_msg) and an output buffer bounded by
 * max_queue bytes of queued messages (+ a small reserve for control
 * frames). Both buffers are freed again once they drain if they grew
 * past CONN_KEEP_BUF (conn_internal.h), so a burst does not pin memory
 * for the conn's life.
 *
 * Latency (issue 13 item 4), for a conn opened with opts.size_from_path
 * (every conn of the node and the relay). A TCP tunnel carries TCP: a bulk inner
 * flow keeps whatever the tunnel buffers full, and a ping or an inner
 * TCP ACK queued behind it waits for all of it (bench_latency: 13-14 ms
 * against the bare link's 6 on a 20 Mbit/s link). So:
 *   - on a slow path the socket holds little that is not yet on the
 *     wire: TCP_NOTSENT_LOWAT of about 2 ms of the rate the conn
 *     measures itself (from its writes, and from TCP_INFO's unsent and
 *     acknowledged bytes and busy time, at most once per 50 ms, while it
 *     has no watermark), and TLS records of 1 ms of it, so the bulk
 *     waits in our queue, not the kernel's (proto/qsize.h; a fast path
 *     gets neither: there the watermark cost throughput, not latency);
 *   - a message of at most PQ_CONN_URGENT_MSG bytes goes into a second,
 *     small queue (PQ_CONN_URGENT_QUEUE bytes) that is written first, at
 *     the next WebSocket frame boundary of the bulk queue. A small
 *     message may arrive before large ones queued earlier, but no large
 *     one is overtaken by more than PQ_CONN_URGENT_OVERTAKE small ones,
 *     nor while more than PQ_CONN_URGENT_BULK_FRAMES bulk frames wait
 *     (64 KiB super-frames or MTU-sized ones never reach it in the
 *     default max_queue):
 *     the receiver's replay window (crypto/replay.h) counts every frame
 *     sealed between the late one and the one that passed it, the bulk
 *     queued behind it too, and a relayed frame crosses two such conns;
 *     both bounds together keep it inside half the window per conn, so
 *     a large message is never too old when it lands (unless frames
 *     sealed after it were dropped on the way: one loss more, in a loss). When a bound or the
 *     small queue is full, small messages join the bulk queue, and every
 *     small one after them too until they are written: small messages
 *     keep their order among themselves. A message whose meaning
 *     depends on what came before it goes with pq_conn_send_in_order:
 *     it never passes, and the small ones after it follow it, whatever
 *     its size;
 *   - while the path shows a standing queue that a smaller window
 *     cures, the receive window the peer may fill is clamped to what
 *     the path delivers (TCP_WINDOW_CLAMP, proto/rwin.h): the sender's
 *     TCP (BBR) otherwise keeps tens of KB in flight in the
 *     bottleneck's queue, where the small messages wait too.
 * The bulk queue's bound stays max_queue: bounding it by the measured
 * rate instead (tried) dropped inner TCP segments whenever this
 * 2-core machine's scheduler stalled a receiver for a few ms, and the
 * one-stream TLS direct figure fell from ~2.9 to ~0.5 Gbit/s. A conn
 * without size_from_path has one queue and the kernel's buffers, and
 * writes as long as the queue.
 *
 * Admission (server, DESIGN §7 "availability under attack"): at most
 * max_pending conns are accepted and not yet open, at most
 * max_pending_per_source of them from one source (pq_sockaddr_same_source:
 * an IPv4 address, an IPv6 /64). A new conn over a cap does not get
 * refused: the oldest pending conn of its own source is closed when that
 * source is at its cap, else the oldest of the source holding the most
 * pending conns. So one host that opens connections in a loop only churns
 * its own, and pushing out a conn from another source takes at least
 * max_pending / max_pending_per_source sources.
 */
#ifndef PQ_NET_CONN_H
#define PQ_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "net/sock.h"
#include "net/tls.h"
#include "util/err.h"

struct pq_conn;
struct pq_listener;

/* Why a connection ended (given to on_close). */
enum pq_conn_end {
	PQ_CONN_END_LOCAL = 1, /* pq_conn_close(); ws_code is the code we sent */
	PQ_CONN_END_PEER,      /* the peer sent a WebSocket close: ws_code (1005 none) */
	PQ_CONN_END_PROTOCOL,  /* the peer broke RFC 6455; we sent ws_code (1002/1003/1009) */
	PQ_CONN_END_TIMEOUT,   /* the open deadline passed */
	PQ_CONN_END_TLS,       /* TLS failed; err PQ_E_AUTH for a key that is not pinned */
	PQ_CONN_END_UPGRADE,   /* the 101 was missing or wrong (client), err says how */
	PQ_CONN_END_IO,        /* connect refused, reset, EOF without a WebSocket close */
};

struct pq_conn_reason {
	enum pq_conn_end end;
	int err;          /* PQ_E_* detail, 0 if none */
	uint16_t ws_code; /* see enum pq_conn_end; 1006 when no close was exchanged */
};

struct pq_conn_cbs {
	/* The WebSocket is open: exporter, peer key and address available. */
	void (*on_open)(void *ctx, struct pq_conn *c);
	/* One whole message, borrowed until the callback returns. */
	void (*on_message)(void *ctx, struct pq_conn *c, const uint8_t *msg, size_t len);
	/* The end; c is freed after this returns. */
	void (*on_close)(void *ctx, struct pq_conn *c, const struct pq_conn_reason *why);
};

struct pq_conn_opts {
	uint64_t open_timeout_ms; /* TCP + TLS + Upgrade; 0: 10000 */
	size_t max_queue;         /* bytes of queued frames; 0: 1 MiB */
	/* When set, the conn keeps what it holds unsent (pq_conn_pending)
	 * added into *queued_total, as it queues, writes and ends, so a
	 * server can bound all its conns together (the relay's budget,
	 * relay/relay.h). Not owned; must outlive the conn. NULL: none. */
	size_t *queued_total;
	bool size_from_path;      /* "Latency" above */
	size_t max_msg;           /* largest message accepted; 0: PQ_MAX_MSG_LEN */
	uint64_t close_linger_ms; /* time to flush a close frame; 0: 2000 */
	/* Liveness while open: after ping_interval_ms with nothing received
	 * a WebSocket ping goes out; with ping_timeout_ms set, nothing
	 * received (pong or anything else) within it ends the conn with
	 * PQ_CONN_END_TIMEOUT. 0: no pings / no deadline. */
	uint64_t ping_interval_ms;
	uint64_t ping_timeout_ms;
	unsigned user_timeout_ms; /* TCP_USER_TIMEOUT (net/sock.h); 0: kernel default */
	size_t max_pending;       /* listener: conns accepted, not yet open; 0: 1024 */
	size_t max_pending_per_source; /* listener: of those, from one source; 0: 32 */
	uint64_t first_bytes_ms;  /* server: accept -> the client's first bytes; 0: 2000 */
};

#define PQ_CONN_OPEN_TIMEOUT_MS 10000
#define PQ_CONN_MAX_QUEUE (1024 * 1024)
#define PQ_CONN_URGENT_MSG 512           /* "Latency": a message this small goes first */
#define PQ_CONN_URGENT_QUEUE (64 * 1024) /* bytes of such messages waiting, at most */
#define PQ_CONN_URGENT_OVERTAKE 1024     /* small messages that may pass one large one */
#define PQ_CONN_URGENT_BULK_FRAMES 960   /* bulk frames waiting above which small ones wait too */
#define PQ_CONN_CLOSE_LINGER_MS 2000
#define PQ_CONN_MAX_PENDING 1024
#define PQ_CONN_MAX_PENDING_PER_SOURCE 32
#define PQ_CONN_FIRST_BYTES_MS 2000

/* Client side. host (may be NULL) is the relay URL's host: the HTTP Host
 * field (with ":port" unless the port is 443) and, unless it is an IP
 * literal, the TLS server name (SNI). NULL: Host is addr's IP and port,
 * no SNI. path NULL means "/". Both are copied. */
struct pq_conn_target {
	struct pq_sockaddr addr;
	const uint8_t *pin; /* 32-byte Ed25519 key the server must present */
	const char *host;
	const char *path;
};

/*
 * Start a client connection. On 0, *out is the conn and exactly one of
 * on_open / on_close will follow (on_close also after on_open). tls must
 * be a client context. opts may be NULL. Errors (no callback follows):
 * PQ_E_INVAL, PQ_E_NOMEM, PQ_E_LIMIT (out of fds), PQ_E_IO, PQ_E_CRYPTO.
 */
PQ_MUST_CHECK int pq_conn_connect(struct pq_conn **out, struct pq_loop *loop,
				  struct pq_tls_ctx *tls, const struct pq_conn_target *target,
				  const struct pq_conn_opts *opts, const struct pq_conn_cbs *cbs,
				  void *cb_ctx);

/*
 * Queue one binary message (copied; 0 < len <= PQ_MAX_MSG_LEN; the
 * peer's own max_msg decides what it accepts). It is written when the
 * loop next finds the socket writable, together with whatever else was
 * queued by then. 0 queued; PQ_E_AGAIN the queue is full (the message is
 * dropped and counted - the caller decides whether that is fatal);
 * PQ_E_STATE not open or closing; PQ_E_TOOBIG len over PQ_MAX_MSG_LEN;
 * PQ_E_INVAL len 0; PQ_E_RANDOM (client mask); PQ_E_NOMEM.
 */
PQ_MUST_CHECK int pq_conn_send(struct pq_conn *c, const uint8_t *msg, size_t len);
/* As pq_conn_send, but the message never goes before anything queued
 * before it, even when small ("Latency"); small messages queued after it
 * follow it. For a message whose meaning depends on what came before
 * (the relay's PEER_OFFLINE after the peer's last frames). */
PQ_MUST_CHECK int pq_conn_send_in_order(struct pq_conn *c, const uint8_t *msg, size_t len);
/* Write what is queued now, as far as the socket takes it, rather than at
 * the loop's next turn: for a message that must not wait for the work its
 * sender still has to do before it returns to the loop (a handshake answer
 * sent before its signature check, proto/handshake.h). A write error ends
 * the conn as it would in the loop: on_close follows from the loop, never
 * from inside this call. Safe inside callbacks, on_message of this conn
 * included (the message stays valid). No effect unless open. */
void pq_conn_flush_now(struct pq_conn *c);

/* Send a WebSocket close with ws_code (a code pq_ws_close_code_valid
 * accepts; 1000 otherwise), flush it (bounded by close_linger_ms), send
 * TLS close_notify, tear down; on_close follows from the loop with
 * PQ_CONN_END_LOCAL. No effect on a conn already closing. */
void pq_conn_close(struct pq_conn *c, uint16_t ws_code);
/* Free now: no close frame, no on_close. Not from inside a callback about
 * this same conn. For process shutdown. */
void pq_conn_abort(struct pq_conn *c);

/* Change limits of an open conn, e.g. after the peer authenticated.
 * max_msg: the largest message accepted from now on (0 < n <=
 * PQ_MAX_MSG_LEN; a message being reassembled must fit in it).
 * max_queue: the send queue's bound (0 < n); bytes already queued stay.
 * sndbuf: SO_SNDBUF (pq_sock_set_sndbuf). PQ_E_INVAL, PQ_E_STATE (not
 * open), or the socket error. */
PQ_MUST_CHECK int pq_conn_set_max_msg(struct pq_conn *c, size_t max_msg);
PQ_MUST_CHECK int pq_conn_set_max_queue(struct pq_conn *c, size_t max_queue);
PQ_MUST_CHECK int pq_conn_set_sndbuf(struct pq_conn *c, size_t bytes);

bool pq_conn_is_open(const struct pq_conn *c);
bool pq_conn_is_server(const struct pq_conn *c);
/* RFC 8446 §7.5 exporter value of this TLS connection (PQ_TLS_EXPORTER_LABEL,
 * empty context); NULL before open. Borrowed, lives as long as c. */
const uint8_t *pq_conn_exporter(const struct pq_conn *c);
/* The peer's pinned Ed25519 key, NULL before open or when the server did
 * not ask for client certificates. Borrowed. */
const uint8_t *pq_conn_peer_key(const struct pq_conn *c);
/* The peer's socket address (what the relay reports as observed). */
const struct pq_sockaddr *pq_conn_peer_addr(const struct pq_conn *c);
/* The caller's per-conn pointer (NULL until set). */
void pq_conn_set_data(struct pq_conn *c, void *data);
void *pq_conn_data(const struct pq_conn *c);
/* Bytes queued for the peer and messages refused with PQ_E_AGAIN so far. */
size_t pq_conn_queued(const struct pq_conn *c);
uint64_t pq_conn_drops(const struct pq_conn *c);
/* The send path as sized now ("Latency"): the drain rate in bytes per
 * second (meaningful once samples > 0), TCP_NOTSENT_LOWAT as set (0: none,
 * the system default), the TLS write size, and how many messages went
 * first; and the receive side: the window clamp as set (0: none, the
 * kernel's window; proto/rwin.h). */
struct pq_conn_sizing {
	uint64_t rate, samples;
	size_t lowat, record;
	uint64_t urgent_msgs;
	uint32_t window_clamp;
};
void pq_conn_sizing(const struct pq_conn *c, struct pq_conn_sizing *out);

/* Counters since the conn was made. */
struct pq_conn_stats {
	uint64_t msgs_in, bytes_in;   /* messages delivered to on_message */
	uint64_t msgs_out, bytes_out; /* messages queued by pq_conn_send */
	uint64_t drops;               /* pq_conn_send refused: queue full */
	uint64_t pings_in, pongs_in;
	uint64_t pings_out;           /* liveness pings sent (ping_interval_ms) */
};
void pq_conn_stats(const struct pq_conn *c, struct pq_conn_stats *out);

/* ---- server side ---- */

struct pq_listener_stats {
	uint64_t accepted;     /* TCP connections accepted */
	uint64_t opened;       /* reached on_open */
	uint64_t failed;       /* dropped before open (TLS, HTTP refusal, timeout, I/O) */
	uint64_t http_refused; /* of those: answered with an HTTP 4xx/5xx */
	uint64_t evicted;      /* pending conns closed to admit a newer one (a cap was hit) */
	uint64_t evicted_own;  /* of those, to make room in the new conn's own source */
	uint64_t first_bytes_timeouts; /* of failed: nothing sent within first_bytes_ms */
	uint64_t paused;       /* accepting paused: out of fds (EMFILE/ENFILE) or memory */
};

/*
 * Listen on addr (port 0 picks one; see pq_listener_addr) and make a
 * server conn per accepted TCP connection, with tls (a server context),
 * opts (may be NULL, copied), and cbs/cb_ctx for every conn. PQ_E_INVAL,
 * PQ_E_INUSE (address in use), PQ_E_PERM (not allowed), PQ_E_LIMIT, PQ_E_NOMEM, PQ_E_IO.
 */
PQ_MUST_CHECK int pq_listener_new(struct pq_listener **out, struct pq_loop *loop,
				  struct pq_tls_ctx *tls, const struct pq_sockaddr *addr,
				  const struct pq_conn_opts *opts, const struct pq_conn_cbs *cbs,
				  void *cb_ctx);
/* Stop accepting, close the socket and free the server conns not yet
 * open (silently: nobody was told of them). Open conns live on (they
 * copied what they need). NULL is fine. Safe inside callbacks. */
void pq_listener_free(struct pq_listener *l);
/* The bound address (with the port the kernel picked). */
const struct pq_sockaddr *pq_listener_addr(const struct pq_listener *l);
void pq_listener_stats(const struct pq_listener *l, struct pq_listener_stats *out);

#endif
