/*
 * conn_internal.h - the connection object shared by conn.c (life cycle,
 * listener, timers), conn_io.c (output queue, reading, WebSocket events)
 * and conn_upgrade.c (the HTTP Upgrade). Not for other modules.
 */
#ifndef PQ_NET_CONN_INTERNAL_H
#define PQ_NET_CONN_INTERNAL_H

#include "net/conn.h"
#include "proto/qsize.h"
#include "proto/rwin.h"
#include "net/ws.h"
#include "net/ws_handshake.h"

#define CONN_RBUF_LEN 16384      /* one TLS record's plaintext */
#define CONN_CTL_RESERVE 4096    /* room beyond max_queue for control frames */
#define CONN_READ_BUDGET 16      /* records read per wake-up: fairness */
#define CONN_MASK_POOL 64        /* client mask keys drawn per RAND call */
#define CONN_IDLE_MS (3600u * 1000u) /* timer period while open without pings */
#define CONN_KEEP_BUF 16384      /* a drained buffer bigger than this is freed */

enum conn_state {
	CONN_TCP = 1, /* client: connect in progress */
	CONN_TLS,     /* TLS handshake */
	CONN_UPGRADE, /* HTTP Upgrade: client awaits the 101, server the GET */
	CONN_OPEN,
	CONN_CLOSING, /* flushing what is queued (close frame, HTTP refusal) */
	CONN_DEAD,    /* fd closed; the reap timer calls on_close and frees */
};

struct pq_listener {
	struct pq_loop *loop;
	struct pq_tls_ctx *tls;
	int fd;
	struct pq_sockaddr addr;
	struct pq_conn_opts opts;
	struct pq_conn_cbs cbs;
	void *cb_ctx;
	struct pq_listener_stats stats;
	struct pq_conn *pending; /* server conns not yet open (list, newest first) */
	struct pq_conn *pending_tail; /* the oldest of them */
	size_t pending_n;        /* listed, including failed ones awaiting their reap */
	size_t live_n;           /* of those, not failed: what the caps count */
	struct listen_src {
		struct pq_sockaddr addr; /* one address of the source */
		size_t n;                /* its live pending conns; 0: slot free */
	} *srcs;                 /* max_pending + 1 slots */
	size_t srcs_cap;
	struct pq_timer pause;   /* re-enables accepting after EMFILE/ENFILE */
};

struct pq_conn {
	struct pq_loop *loop;
	struct pq_tls *tls;
	int fd;
	bool server;
	enum conn_state state;
	struct pq_conn_opts opts;
	size_t accounted;              /* our part of *opts.queued_total */
	struct pq_conn_cbs cbs;
	void *cb_ctx;
	void *data;
	struct pq_listener *listener; /* server conn before open (stats) */
	struct pq_conn *prev, *next;  /* in listener->pending */
	long src_slot;                /* in listener->srcs while live pending, else -1 */
	bool counted;                 /* in listener->stats */
	bool owe_close;               /* on_close is due (client, or server after open) */
	struct pq_conn_reason reason;
	bool reason_set;
	struct pq_timer timer;        /* open deadline, close linger, then reap */
	uint64_t accepted_ms;         /* server: when accepted (the open deadline's start) */
	bool heard;                   /* server: the client sent its first bytes */
	uint64_t last_rx_ms;          /* open: last bytes received (liveness) */
	uint64_t ping_sent_ms;        /* open: the liveness ping awaiting input, 0 none */
	unsigned interest;
	struct pq_sockaddr peer;

	/* upgrade */
	char *host, *path;                 /* client */
	uint8_t nonce[PQ_WS_KEY_LEN];      /* client */
	struct pq_ws_hs_reader *hs;        /* only while upgrading */

	/* open */
	struct pq_ws_rx rx;
	bool rx_ready;
	uint8_t exporter[PQ_TLS_EXPORTER_OUT];
	uint8_t peer_key[PQ_TLS_KEY_LEN];
	bool have_peer_key;
	bool close_sent;
	bool linger_read; /* closing: read until the peer's EOF */
	bool fin_sent;
	bool opened;

	/* output: frames ready to write are out[out_off, out_len) */
	uint8_t *out;
	size_t out_cap, out_off, out_len;
	/* size_from_path only (conn.h "Latency"): small frames written first,
	 * urg[urg_off, urg_len); out_raw: bytes at out_off that are HTTP
	 * from the upgrade, not frames; frame_left: bytes of the bulk frame
	 * after them not yet written (both 0: at a frame boundary). */
	uint8_t *urg;
	size_t urg_cap, urg_off, urg_len;
	size_t out_raw, frame_left;
	size_t wretry;      /* length of a refused TLS write, repeated exactly (SSL_write(3)) */
	bool wretry_urg;    /* ... from urg, not out */
	struct pq_qsize qs; /* the drain rate (proto/qsize.h) */
	uint64_t qs_seen;   /* qs.samples when lowat was last applied */
	size_t lowat;       /* TCP_NOTSENT_LOWAT as set; 0 none (the system default) */
	struct pq_rwin rw;  /* the receive window's clamp (proto/rwin.h) */
	uint64_t urgent_msgs;
	/* Absolute positions in the bulk stream (bytes ever queued into out):
	 * bulk_done written so far; spill_mark the end of the last small
	 * message that joined the bulk queue (small ones stay FIFO until it
	 * is written); ep_tail/ep_urg: where the current epoch started and
	 * urgent_msgs then, ep_prev_urg the previous epoch's (overtake bound). */
	uint64_t bulk_done, spill_mark, ep_tail, ep_urg, ep_prev_urg;
	size_t bulk_frames; /* frames in the bulk queue not yet fully written (size_from_path) */
	struct pq_conn_stats stats;
	uint8_t masks[CONN_MASK_POOL][4];
	size_t masks_left;

	uint8_t rbuf[CONN_RBUF_LEN];
};

/* conn.c */
void pq_conn_ignore_sigpipe(void);
void pq_conn_opts_fill(struct pq_conn_opts *dst, const struct pq_conn_opts *src);
/* A conn around fd (taken: closed on failure), watched and timed. */
PQ_MUST_CHECK int pq_conn_new_fd(struct pq_conn **out, struct pq_loop *loop, int fd, bool server,
				 const struct pq_conn_opts *opts, const struct pq_conn_cbs *cbs,
				 void *cb_ctx);
/* Free at once: no close frame, no callback (also pq_conn_abort). */
void pq_conn_free(struct pq_conn *c);
void pq_conn_fail(struct pq_conn *c, enum pq_conn_end end, int err, uint16_t ws_code);
void pq_conn_begin_close(struct pq_conn *c, enum pq_conn_end end, int err, uint16_t ws_code);
void pq_conn_opened(struct pq_conn *c);
void pq_conn_update_interest(struct pq_conn *c);
/* Server conn: first bytes in; the open deadline takes over. */
void pq_conn_heard(struct pq_conn *c);

/* conn_listen.c */
/* c no longer counts against its source's pending cap (it failed, opened
 * or is freed). Idempotent. */
void pq_listener_release(struct pq_conn *c);

/* conn_io.c */
/* Bytes queued in all (bulk and urgent). */
size_t pq_conn_pending(const struct pq_conn *c);
/* Bring *opts.queued_total up to date with pq_conn_pending. */
void pq_conn_account(struct pq_conn *c);
/* TCP_NOTSENT_LOWAT from qs when it moved by more than an eighth. */
void pq_conn_apply_lowat(struct pq_conn *c);
PQ_MUST_CHECK int pq_conn_queue_raw(struct pq_conn *c, const void *buf, size_t len);
PQ_MUST_CHECK int pq_conn_queue_frame(struct pq_conn *c, enum pq_ws_opcode op,
				      const uint8_t *payload, size_t len, size_t limit);
PQ_MUST_CHECK int pq_conn_queue_close(struct pq_conn *c, uint16_t code);
/* Write what is queued; 0 or the failure already reported with pq_conn_fail. */
int pq_conn_flush(struct pq_conn *c);
/* Free the output / reassembly buffer when drained and oversized. */
void pq_conn_trim(struct pq_conn *c, bool idle);
/* Read and process up to CONN_READ_BUDGET records (upgrade or open). */
void pq_conn_read(struct pq_conn *c);
/* WebSocket bytes after the upgrade. */
void pq_conn_feed_ws(struct pq_conn *c, const uint8_t *in, size_t len);

/* conn_upgrade.c */
PQ_MUST_CHECK int pq_conn_upgrade_start(struct pq_conn *c);
/* Bytes during the upgrade; the rest (after the header) goes to the ws. */
void pq_conn_upgrade_feed(struct pq_conn *c, const uint8_t *in, size_t len);

#endif
