/* resolve.c - getaddrinfo_a with an eventfd (resolve.h). */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/resolve.h"

/* Who frees the request: the loop side until it gives it up. */
enum { PENDING = 0, DONE = 1, ORPHANED = 2 };

struct pq_resolve {
	struct pq_loop *loop;
	pq_resolve_fn *fn;
	void *arg;
	int efd;
	bool watched;
	atomic_int state;
	struct pq_timer deadline;
	struct gaicb cb;
	struct gaicb *list[1];
	struct addrinfo hints;
	char host[256], port[8];
};

static void request_free(struct pq_resolve *r)
{
	if (r->cb.ar_result)
		freeaddrinfo(r->cb.ar_result);
	if (r->efd >= 0)
		close(r->efd);
	free(r);
}

/* On glibc's helper thread: tell the loop, or clean up after a cancel. */
static void notify(union sigval sv)
{
	struct pq_resolve *r = sv.sival_ptr;
	uint64_t one = 1;

	if (atomic_exchange(&r->state, DONE) == ORPHANED) {
		request_free(r);
		return;
	}
	if (write(r->efd, &one, sizeof(one)) < 0)
		return;  /* the counter is only a wake-up */
}

static void unwatch(struct pq_resolve *r)
{
	pq_loop_timer_cancel(r->loop, &r->deadline);
	if (r->watched && pq_loop_del(r->loop, r->efd) == 0)
		r->watched = false;
}

static void finish(struct pq_resolve *r, int err, const struct pq_sockaddr *a, const char *why)
{
	pq_resolve_fn *fn = r->fn;
	void *arg = r->arg;

	unwatch(r);
	request_free(r);
	fn(arg, err, a, why);
}

static void ready(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct pq_resolve *r = arg;
	struct pq_sockaddr a;
	int e = gai_error(&r->cb);

	if (e == EAI_INPROGRESS)
		return;
	if (e) {
		finish(r, PQ_E_IO, NULL, gai_strerror(e));
		return;
	}
	if (!r->cb.ar_result || r->cb.ar_result->ai_addrlen > sizeof(a.ss)) {
		finish(r, PQ_E_IO, NULL, "no usable address");
		return;
	}
	memset(&a, 0, sizeof(a));
	memcpy(&a.ss, r->cb.ar_result->ai_addr, r->cb.ar_result->ai_addrlen);
	a.len = r->cb.ar_result->ai_addrlen;
	finish(r, 0, &a, NULL);
}

static void expired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	struct pq_resolve *r = arg;
	pq_resolve_fn *fn = r->fn;
	void *fn_arg = r->arg;

	pq_resolve_cancel(r);
	fn(fn_arg, PQ_E_TIMEOUT, NULL, "the resolver did not answer in time");
}

int pq_resolve_start(struct pq_resolve **out, struct pq_loop *loop, const char *host, unsigned port,
		     uint64_t timeout_ms, pq_resolve_fn *fn, void *arg)
{
	struct sigevent sev;
	struct pq_resolve *r;
	int ret;

	*out = NULL;
	if (!host || strlen(host) >= sizeof(r->host) || port > 65535 || !fn)
		return PQ_E_INVAL;
	if (!(r = calloc(1, sizeof(*r))))
		return PQ_E_NOMEM;
	r->loop = loop;
	r->fn = fn;
	r->arg = arg;
	atomic_init(&r->state, PENDING);
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->port, sizeof(r->port), "%u", port);
	r->hints.ai_socktype = SOCK_STREAM;
	r->hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	r->cb.ar_name = r->host;
	r->cb.ar_service = r->port;
	r->cb.ar_request = &r->hints;
	r->list[0] = &r->cb;
	pq_timer_init(&r->deadline, expired, r);
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		free(r);
		return errno == EMFILE || errno == ENFILE ? PQ_E_LIMIT : PQ_E_IO;
	}
	if ((ret = pq_loop_add(loop, r->efd, PQ_LOOP_READ, ready, r)) ||
	    (ret = pq_loop_timer_start(loop, &r->deadline, timeout_ms)))
		goto fail;
	r->watched = true;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = notify;
	sev.sigev_value.sival_ptr = r;
	if (getaddrinfo_a(GAI_NOWAIT, r->list, 1, &sev) != 0) {
		ret = PQ_E_IO;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	r->watched = true;
	unwatch(r);
	request_free(r);
	return ret;
}

void pq_resolve_cancel(struct pq_resolve *r)
{
	if (!r)
		return;
	unwatch(r);
	/* Cancelled before it ran: glibc will not call notify. */
	if (gai_cancel(&r->cb) == EAI_CANCELED) {
		request_free(r);
		return;
	}
	/* Running or done: whoever comes second frees it. */
	if (atomic_exchange(&r->state, ORPHANED) == DONE)
		request_free(r);
}
