/*
 * reqsrv.h - a small "one request, then close" server on the event loop,
 * for control sockets and a Prometheus endpoint (the relay's today; the
 * node's two servers may move onto it, issue 8 item 5).
 *
 * A client connects, sends one request (a line ending in "\n", or with
 * http set, a head ending in "\r\n\r\n"), gets the reply the callback
 * renders, and is closed. Everything is non-blocking on the caller's loop:
 * at most max_clients are served at once (a newer client finds the oldest
 * closed, so silent clients cannot lock out a real one), each has
 * timeout_ms in all, a request longer than max_req is answered with what
 * arrived so far (the callback decides), and a listener that fails to
 * accept (EMFILE) pauses 100 ms instead of spinning.
 *
 * Ownership: the server owns the listening fd it is given and every
 * client fd; the reply buffer the callback returns (malloc'd) is freed
 * here. The callback runs inside the loop callback, never inside
 * pq_reqsrv_new/free.
 */
#ifndef PQ_NET_REQSRV_H
#define PQ_NET_REQSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "net/sock.h"
#include "util/err.h"

struct pq_reqsrv;

/* Render the reply to req (req_len bytes, NUL-terminated) into a malloc'd
 * *out of *out_len bytes; 0, or negative to close the client unanswered. */
typedef int pq_reqsrv_fn(void *arg, const char *req, size_t req_len, char **out, size_t *out_len);

struct pq_reqsrv_opts {
	size_t max_req;           /* 0: 16 */
	unsigned max_clients;     /* 0: 8 */
	uint64_t timeout_ms;      /* 0: 2000 */
	bool http;                /* the request ends at an empty line */
};

/* Serve the listening socket lfd (non-blocking, taken over even on
 * failure). 0, PQ_E_NOMEM, or the loop's error. */
PQ_MUST_CHECK int pq_reqsrv_new(struct pq_reqsrv **out, struct pq_loop *loop, int lfd,
				const struct pq_reqsrv_opts *opts, pq_reqsrv_fn *fn, void *arg);
/* Close every client and the listener. NULL is fine. */
void pq_reqsrv_free(struct pq_reqsrv *s);

/* A UNIX stream socket at path for a daemon's control: parent
 * directories made 0755, a stale socket (nobody answers) replaced, a live
 * one refused ("another daemon is running"), the socket 0600. The fd in
 * *fd_out; err says why not. 0, PQ_E_IO, PQ_E_INVAL. */
PQ_MUST_CHECK int pq_reqsrv_listen_unix(int *fd_out, const char *path, char *err, size_t err_len);

#endif
