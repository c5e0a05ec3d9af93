/*
 * reqsrv.c - one request, one answer, close (net/reqsrv.h for the
 * contract and its bounds).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/reqsrv.h"
#include "net/sock.h"

struct client {
	struct pq_reqsrv *srv;
	int fd;                        /* -1: slot free */
	char *req;                     /* req_max + 1 bytes */
	size_t req_len;
	char *out;                     /* the answer, once built */
	size_t out_len, out_off;
	bool draining;
	struct pq_timer deadline;
	struct pq_sockaddr peer;       /* where it came from (TCP: its source) */
	uint64_t seq;                  /* accept order: the oldest has the least */
};

struct pq_reqsrv {
	struct pq_loop *loop;
	struct pq_reqsrv_config cfg;
	int fd;
	bool paused;                   /* listener unwatched: out of fds */
	struct pq_timer resume;
	struct pq_reqsrv_stats stats;
	struct client *clients;        /* cfg.max_clients */
	uint64_t next_seq;
};

static void listen_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms);

/* A loop call whose failure leaves nothing to undo (an fd that was not
 * watched; a timer that could not be armed leaves the listener paused
 * until the next one is, which the deadline of every client bounds). */
static void best_effort(int ret)
{
	(void)ret;
}

static void client_close(struct client *c)
{
	struct pq_loop *loop = c->srv->loop;

	if (c->fd < 0)
		return;
	pq_loop_timer_cancel(loop, &c->deadline);
	best_effort(pq_loop_del(loop, c->fd));
	close(c->fd);
	c->fd = -1;
	c->draining = false;
	free(c->out);
	c->out = NULL;
}

static void deadline_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	client_close(arg);
}

static void client_write(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (pq_loop_mod(c->srv->loop, c->fd, PQ_LOOP_WRITE))
				client_close(c);
			return;
		}
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	c->srv->stats.served++;
	if (!c->srv->cfg.drain || shutdown(c->fd, SHUT_WR) < 0 ||
	    pq_loop_mod(c->srv->loop, c->fd, PQ_LOOP_READ)) {
		client_close(c);
		return;
	}
	c->draining = true;
}

static void client_drain(struct client *c)
{
	char junk[512];
	ssize_t n;

	while ((n = read(c->fd, junk, sizeof(junk))) > 0 || (n < 0 && errno == EINTR))
		;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		client_close(c);
}

/* Ask the owner what the request so far means. */
static void client_decide(struct client *c, bool eof)
{
	const struct pq_reqsrv_config *cfg = &c->srv->cfg;
	enum pq_reqsrv_verdict v;

	c->req[c->req_len] = 0;
	v = cfg->on_request(cfg->ctx, c->req, c->req_len, eof, &c->out, &c->out_len);
	if (v == PQ_REQSRV_MORE && !eof && c->req_len < cfg->req_max)
		return;
	if (v != PQ_REQSRV_ANSWER || !c->out || pq_loop_mod(c->srv->loop, c->fd, 0)) {
		client_close(c);
		return;
	}
	c->out_off = 0;
	client_write(c);
}

static void client_read(struct client *c)
{
	size_t max = c->srv->cfg.req_max;

	while (c->fd >= 0 && !c->out) {
		ssize_t n = read(c->fd, c->req + c->req_len, max - c->req_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			client_close(c);
			return;
		}
		c->req_len += (size_t)n;
		client_decide(c, n == 0);
		if (n == 0 && c->fd >= 0 && !c->out)
			client_close(c);
	}
}

static void client_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct client *c = arg;

	if (c->draining)
		client_drain(c);
	else if (c->out)
		client_write(c);
	else
		client_read(c);
}

static struct client *free_slot(struct pq_reqsrv *s)
{
	for (unsigned i = 0; i < s->cfg.max_clients; i++)
		if (s->clients[i].fd < 0)
			return &s->clients[i];
	return NULL;
}

/* Clients held by peer's source (pq_sockaddr_same_source: an IPv4
 * address, an IPv6 /64); 0 for a peer without one (a UNIX socket's). */
static unsigned source_held(const struct pq_reqsrv *s, const struct pq_sockaddr *peer)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->cfg.max_clients; i++)
		n += s->clients[i].fd >= 0 && pq_sockaddr_same_source(&s->clients[i].peer, peer);
	return n;
}

/* Every slot held and a client from peer: the slot of the oldest client
 * of the source holding the most, closed for it, when that source holds
 * more than peer's own; else NULL (peer's source has its share: the
 * newcomer is turned away). So one host that fills the slots with silent
 * connections holds them only until someone else asks (reqsrv.h). */
static struct client *slot_from_busiest(struct pq_reqsrv *s, const struct pq_sockaddr *peer)
{
	struct client *victim = NULL;
	unsigned most;

	if (peer->ss.ss_family != AF_INET && peer->ss.ss_family != AF_INET6)
		return NULL;
	most = source_held(s, peer);
	for (unsigned i = 0; i < s->cfg.max_clients; i++) {
		struct client *c = &s->clients[i];
		unsigned held = source_held(s, &c->peer);

		if (held > most || (victim && held == most && pq_sockaddr_same_source(&c->peer, &victim->peer) &&
				    c->seq < victim->seq)) {
			most = held;
			victim = c;
		}
	}
	if (!victim)
		return NULL;
	s->stats.evicted++;
	client_close(victim);
	return victim;
}

static void pause_listener(struct pq_reqsrv *s)
{
	s->stats.fd_limit_hits++;
	if (pq_loop_del(s->loop, s->fd) == 0) {
		s->paused = true;
		best_effort(pq_loop_timer_start(s->loop, &s->resume, PQ_REQSRV_FD_PAUSE_MS));
	}
}

static void listen_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_reqsrv *s = arg;
	struct pq_sockaddr peer;
	int cfd, ret;

	for (unsigned i = 0; i < 4 * s->cfg.max_clients; i++) {
		struct client *c;

		ret = pq_sock_accept(fd, &cfd, &peer);
		if (ret == PQ_E_LIMIT) {
			pause_listener(s);
			return;
		}
		if (ret)
			return;
		if (!(c = free_slot(s)) && !(c = slot_from_busiest(s, &peer))) {
			/* Every slot held, its source's share too: closed unanswered. */
			s->stats.refused_busy++;
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->peer = peer;
		c->seq = s->next_seq++;
		c->req_len = 0;
		c->out = NULL;
		c->out_len = c->out_off = 0;
		if (pq_loop_add(loop, cfd, PQ_LOOP_READ, client_event, c) ||
		    pq_loop_timer_start(loop, &c->deadline, s->cfg.deadline_ms)) {
			client_close(c);
			continue;
		}
		client_read(c);
	}
}

static void resume_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_reqsrv *s = arg;

	if (pq_loop_add(loop, s->fd, PQ_LOOP_READ, listen_event, s) == 0)
		s->paused = false;
	else
		best_effort(pq_loop_timer_start(loop, &s->resume, PQ_REQSRV_FD_PAUSE_MS));
}

int pq_reqsrv_new(struct pq_reqsrv **out, struct pq_loop *loop, int listen_fd, const struct pq_reqsrv_config *cfg)
{
	struct pq_reqsrv *s;
	int ret;

	*out = NULL;
	if (!cfg->req_max || !cfg->max_clients || !cfg->on_request) {
		close(listen_fd);
		return PQ_E_INVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->clients = calloc(cfg->max_clients, sizeof(*s->clients)))) {
		free(s);
		close(listen_fd);
		return PQ_E_NOMEM;
	}
	s->loop = loop;
	s->cfg = *cfg;
	s->fd = listen_fd;
	pq_timer_init(&s->resume, resume_fired, s);
	for (unsigned i = 0; i < cfg->max_clients; i++) {
		struct client *c = &s->clients[i];

		c->srv = s;
		c->fd = -1;
		pq_timer_init(&c->deadline, deadline_fired, c);
		if (!(c->req = malloc(cfg->req_max + 1))) {
			pq_reqsrv_free(s);
			return PQ_E_NOMEM;
		}
	}
	if ((ret = pq_loop_add(loop, listen_fd, PQ_LOOP_READ, listen_event, s))) {
		s->paused = true; /* not watched: nothing to delete */
		pq_reqsrv_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void pq_reqsrv_free(struct pq_reqsrv *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->cfg.max_clients; i++) {
		client_close(&s->clients[i]);
		free(s->clients[i].req);
	}
	pq_loop_timer_cancel(s->loop, &s->resume);
	if (s->fd >= 0) {
		if (!s->paused)
			best_effort(pq_loop_del(s->loop, s->fd));
		close(s->fd);
	}
	free(s->clients);
	free(s);
}

void pq_reqsrv_stats(const struct pq_reqsrv *s, struct pq_reqsrv_stats *out)
{
	*out = s->stats;
}
