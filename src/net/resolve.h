/*
 * resolve.h - a host name resolved without blocking the event loop: glibc's
 * getaddrinfo_a(3) runs the lookup on a helper thread of its own and
 * signals an eventfd the loop watches; the callback then runs on the loop,
 * like every other callback, never inside a call of this module.
 *
 * Why: the node resolves its relay's host name on its one loop; a blocking
 * getaddrinfo with an unanswering resolver stalled everything, control
 * socket included, for the resolver's whole timeout (issue 12).
 *
 * Ownership: pq_resolve_start allocates the request; it is freed after its
 * callback returns, or by pq_resolve_cancel (no callback then). A lookup
 * glibc cannot cancel any more finishes on its thread, which then frees
 * the request itself: cancel never waits.
 */
#ifndef PQ_NET_RESOLVE_H
#define PQ_NET_RESOLVE_H

#include <stdint.h>

#include "net/loop.h"
#include "net/sock.h"
#include "util/err.h"

struct pq_resolve;

/* err 0 and addr (the first TCP address, borrowed for the call), or
 * PQ_E_IO with why (gai_strerror text) or PQ_E_TIMEOUT. */
typedef void pq_resolve_fn(void *arg, int err, const struct pq_sockaddr *addr, const char *why);

/* Look host up (port in host order) within timeout_ms. 0, PQ_E_INVAL,
 * PQ_E_NOMEM, PQ_E_IO (the lookup could not start). */
PQ_MUST_CHECK int pq_resolve_start(struct pq_resolve **out, struct pq_loop *loop, const char *host,
				   unsigned port, uint64_t timeout_ms, pq_resolve_fn *fn, void *arg);
/* Forget r: no callback comes. NULL is fine. */
void pq_resolve_cancel(struct pq_resolve *r);

#endif
