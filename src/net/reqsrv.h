/*
 * reqsrv.h - a small "one request, one answer, close" server on the event
 * loop, for the node's control socket and its metrics endpoint (any
 * listening stream socket: UNIX or TCP).
 *
 * Each client: read until the caller's on_request says the request is
 * whole, write the answer it built, close. Bounds: at most max_clients at
 * once, a request of at most req_max bytes, the whole exchange within
 * deadline_ms (then the client is closed, whatever it is doing), so a
 * slow or silent client holds one slot for a bounded time. When every
 * slot is held, a TCP client whose source (pq_sockaddr_same_source: an
 * IPv4 address, an IPv6 /64) holds fewer than the busiest source gets the
 * slot of that source's oldest client, which is closed; otherwise, and
 * always on a UNIX socket, the newcomer is closed at accept. So one host
 * holding every slot (a loop of silent connections to the metrics
 * endpoint) cannot keep another's scrape out. Out of file descriptors (EMFILE, ENFILE), the listener is
 * not watched for PQ_REQSRV_FD_PAUSE_MS, so the queued connection cannot
 * wake the loop again and again (a busy loop).
 *
 * With drain, after the answer the write side is shut and the client read
 * to EOF before close (HTTP: closing with unread request bytes would reset
 * the connection and could destroy the answer before the client reads it).
 *
 * Ownership: the server owns the listening fd from pq_reqsrv_new on
 * (closed by pq_reqsrv_free, also when new fails) and every client fd;
 * the answer buffer is malloc'd by on_request and freed by the server.
 * Callbacks run from the loop, never from inside a pq_reqsrv_* call.
 */
#ifndef PQ_NET_REQSRV_H
#define PQ_NET_REQSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "util/err.h"

#define PQ_REQSRV_FD_PAUSE_MS 100u

struct pq_reqsrv;

enum pq_reqsrv_verdict {
	PQ_REQSRV_MORE = 0,   /* read more */
	PQ_REQSRV_ANSWER,     /* *out / *out_len hold the answer (malloc'd) */
	PQ_REQSRV_CLOSE,      /* close without an answer */
};

/* req: the len bytes read so far (NUL-terminated; len == req_max when
 * full), eof: the client closed its side. */
typedef enum pq_reqsrv_verdict (*pq_reqsrv_request_fn)(void *ctx, const char *req, size_t len, bool eof,
						       char **out, size_t *out_len);

struct pq_reqsrv_config {
	size_t req_max;               /* > 0 */
	unsigned max_clients;         /* > 0 */
	uint64_t deadline_ms;
	bool drain;
	pq_reqsrv_request_fn on_request;
	void *ctx;
	const char *name;             /* for debug log lines ("control", "metrics") */
};

/* Serve listen_fd (listening, non-blocking) on loop. PQ_E_NOMEM, the
 * loop's codes; listen_fd is closed on failure too. */
PQ_MUST_CHECK int pq_reqsrv_new(struct pq_reqsrv **out, struct pq_loop *loop, int listen_fd,
				const struct pq_reqsrv_config *cfg);
/* Close every client and the listener; free. NULL is fine. */
void pq_reqsrv_free(struct pq_reqsrv *s);

/* Tests: accept attempts that found the process out of fds, and how
 * often the listener was paused for it. */
struct pq_reqsrv_stats {
	uint64_t fd_limit_hits;
	uint64_t served, refused_busy;
	uint64_t evicted;      /* clients closed for a less busy source's */
};
void pq_reqsrv_stats(const struct pq_reqsrv *s, struct pq_reqsrv_stats *out);

#endif
