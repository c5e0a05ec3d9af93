/*
 * conn_listen.c - the listener: non-blocking accept, one server conn per
 * TCP connection, and the conns not yet open (which nobody else knows
 * about) in a list, newest first, bounded by opts.max_pending and
 * opts.max_pending_per_source (admission policy in conn.h) and freed with
 * the listener.
 *
 * Admission counts by walking the list: at most max_pending (1024) steps
 * per accept, cheap next to the TLS handshake each accepted conn costs.
 */
#include "net/conn_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long accepting pauses when the process is out of fds. */
#define LISTEN_PAUSE_MS 100

/* ---- sources (admission policy in conn.h) ---- */

/* The slot of peer's source among the live pending conns, or -1. */
static long source_find(const struct pq_listener *l, const struct pq_sockaddr *peer)
{
	for (size_t i = 0; i < l->srcs_cap; i++)
		if (l->srcs[i].n && pq_sockaddr_same_source(&l->srcs[i].addr, peer))
			return (long)i;
	return -1;
}

/* Count c under its source. A free slot always exists: there are at most
 * max_pending live conns once admit() made room, and max_pending + 1 slots. */
static void source_add(struct pq_listener *l, struct pq_conn *c)
{
	long i = source_find(l, &c->peer);

	if (i < 0)
		for (i = 0; (size_t)i < l->srcs_cap && l->srcs[i].n; i++)
			;
	if ((size_t)i == l->srcs_cap)
		return; /* unreachable, see above: counted nowhere */
	l->srcs[i].addr = c->peer;
	l->srcs[i].n++;
	c->src_slot = i;
	l->live_n++;
}

void pq_listener_release(struct pq_conn *c)
{
	struct pq_listener *l = c->listener;

	if (!l || c->src_slot < 0)
		return;
	l->srcs[c->src_slot].n--;
	l->live_n--;
	c->src_slot = -1;
}

/* The oldest live pending conn counted in slot i: from the list's tail. */
static struct pq_conn *source_oldest(const struct pq_listener *l, long i)
{
	for (struct pq_conn *c = l->pending_tail; c; c = c->prev)
		if (c->src_slot == i)
			return c;
	return NULL;
}

/* The slot with the most live pending conns. */
static long source_busiest(const struct pq_listener *l)
{
	long best = -1;

	for (size_t i = 0; i < l->srcs_cap; i++)
		if (l->srcs[i].n && (best < 0 || l->srcs[i].n > l->srcs[best].n))
			best = (long)i;
	return best;
}

static void evict(struct pq_listener *l, long slot, bool own)
{
	struct pq_conn *victim = slot >= 0 ? source_oldest(l, slot) : NULL;

	if (!victim)
		return;
	l->stats.evicted++;
	if (own)
		l->stats.evicted_own++;
	pq_conn_free(victim); /* counted as failed; nobody was told of it */
}

/* Room for one more conn from peer: past its source's cap that source's
 * oldest goes, else past the total the busiest source's oldest. */
static void admit(struct pq_listener *l, const struct pq_sockaddr *peer)
{
	long own = source_find(l, peer);

	if (own >= 0 && l->srcs[own].n >= l->opts.max_pending_per_source)
		evict(l, own, true);
	else if (l->live_n >= l->opts.max_pending)
		evict(l, source_busiest(l), false);
}

static void listener_adopt(struct pq_listener *l, struct pq_conn *c)
{
	c->listener = l;
	c->next = l->pending;
	if (l->pending)
		l->pending->prev = c;
	else
		l->pending_tail = c;
	l->pending = c;
	l->pending_n++;
	source_add(l, c);
}

static void accept_one(struct pq_listener *l, int fd, const struct pq_sockaddr *peer)
{
	struct pq_conn *c = NULL;

	l->stats.accepted++;
	admit(l, peer);
	if (pq_conn_new_fd(&c, l->loop, fd, true, &l->opts, &l->cbs, l->cb_ctx)) {
		l->stats.failed++;
		return;
	}
	c->peer = *peer;
	listener_adopt(l, c);
	if (pq_tls_new(&c->tls, l->tls, fd, NULL, NULL))
		pq_conn_free(c); /* counted as failed */
}

static void resume_accept(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_listener *l = arg;

	if (pq_loop_mod(loop, l->fd, PQ_LOOP_READ) &&
	    pq_loop_timer_start(loop, &l->pause, LISTEN_PAUSE_MS)) {
		/* unreachable: the timer just fired, its heap slot is free */
	}
}

/*
 * Out of fds (or kernel memory): the pending connection stays in the
 * backlog, so the listening socket stays readable and level-triggered
 * epoll would wake us again at once - a busy loop for as long as someone
 * holds our fds. Stop watching it for LISTEN_PAUSE_MS instead.
 */
static void pause_accept(struct pq_listener *l)
{
	l->stats.paused++;
	if (pq_loop_timer_start(l->loop, &l->pause, LISTEN_PAUSE_MS))
		return; /* no memory for the timer: keep watching (spin) rather than stop for good */
	if (pq_loop_mod(l->loop, l->fd, 0))
		pq_loop_timer_cancel(l->loop, &l->pause);
}

static void on_accept(struct pq_loop *loop, int lfd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_listener *l = arg;
	struct pq_sockaddr peer;
	int fd, i, err;

	/* A bounded batch per wake-up; level-triggered epoll brings us back. */
	for (i = 0; i < 64; i++) {
		if ((err = pq_sock_accept(lfd, &fd, &peer))) {
			if (err == PQ_E_LIMIT)
				pause_accept(l);
			return; /* none left: the next wake-up */
		}
		accept_one(l, fd, &peer);
	}
}

int pq_listener_new(struct pq_listener **out, struct pq_loop *loop, struct pq_tls_ctx *tls,
		    const struct pq_sockaddr *addr, const struct pq_conn_opts *opts,
		    const struct pq_conn_cbs *cbs, void *cb_ctx)
{
	struct pq_listener *l;
	int err;

	*out = NULL;
	if (!loop || !tls || !addr || !cbs || pq_tls_ctx_role(tls) != PQ_TLS_SERVER)
		return PQ_E_INVAL;
	pq_conn_ignore_sigpipe();
	if (!(l = calloc(1, sizeof(*l))))
		return PQ_E_NOMEM;
	pq_conn_opts_fill(&l->opts, opts);
	l->srcs_cap = l->opts.max_pending + 1;
	if (!(l->srcs = calloc(l->srcs_cap, sizeof(*l->srcs)))) {
		free(l);
		return PQ_E_NOMEM;
	}
	l->loop = loop;
	l->tls = tls;
	l->cbs = *cbs;
	l->cb_ctx = cb_ctx;
	pq_timer_init(&l->pause, resume_accept, l);
	if ((err = pq_sock_listen(&l->fd, addr, 512))) {
		free(l->srcs);
		free(l);
		return err;
	}
	if ((err = pq_sock_local(l->fd, &l->addr)) ||
	    (err = pq_loop_add(loop, l->fd, PQ_LOOP_READ, on_accept, l))) {
		close(l->fd);
		free(l->srcs);
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void pq_listener_free(struct pq_listener *l)
{
	if (!l)
		return;
	pq_loop_timer_cancel(l->loop, &l->pause);
	if (pq_loop_del(l->loop, l->fd)) {
		/* not watched: nothing to undo */
	}
	close(l->fd);
	/* Nobody else knows the conns not yet open: they go with us. */
	while (l->pending)
		pq_conn_free(l->pending);
	free(l->srcs);
	free(l);
}

const struct pq_sockaddr *pq_listener_addr(const struct pq_listener *l)
{
	return &l->addr;
}

void pq_listener_stats(const struct pq_listener *l, struct pq_listener_stats *out)
{
	*out = l->stats;
}
