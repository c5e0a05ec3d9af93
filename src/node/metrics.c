/*
 * metrics.c - the Prometheus endpoint's HTTP/1.1 server on the daemon's
 * loop (node/metrics.h for its bounds and answers; RFC 9112 for the
 * request line, RFC 9110 §15 for the status codes).
 *
 * Every socket is non-blocking. A client is read until the blank line
 * that ends its request head; the answer is rendered at once into a heap
 * buffer and written as the socket takes it; then the connection is
 * closed. A deadline timer per client closes it whatever it is doing, so
 * a slow or silent client holds one of the few slots for at most
 * PQ_METRICS_DEADLINE_MS.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sock.h"
#include "node/daemon.h"
#include "node/metrics.h"
#include "util/log.h"

/* The exposition's size: the node lines and histograms, and per peer. */
#define RENDER_HEAD_MAX 8192
#define RENDER_PEER_MAX 4096
#define HEAD_MAX 256
/* Out of file descriptors: stop watching the listener this long, or its
 * queued connection would wake us at once, again and again. */
#define FD_PAUSE_MS 100u

struct mclient {
	struct pq_metrics *m;
	int fd;                        /* -1: slot free */
	char req[PQ_METRICS_REQ_MAX];
	size_t req_len;
	char *out;                     /* the answer, once the request is read */
	size_t out_len, out_off;
	bool draining;                 /* answer sent: read to EOF, then close */
	struct pq_timer deadline;
};

struct pq_metrics {
	struct pq_node *node;
	int fd;
	bool paused;                   /* listener unwatched (out of fds) */
	struct pq_timer resume;
	struct mclient clients[PQ_METRICS_MAX_CLIENTS];
	struct pq_hist hs, rehs;
};

static void listen_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms);

void pq_metrics_observe_handshake(struct pq_node *node, uint64_t us)
{
	if (node && node->metrics)
		pq_hist_observe(&node->metrics->hs, us);
}

void pq_metrics_observe_rehandshake(struct pq_node *node, uint64_t us)
{
	if (node && node->metrics)
		pq_hist_observe(&node->metrics->rehs, us);
}

static void client_close(struct mclient *c)
{
	struct pq_loop *loop = c->m->node->loop;

	if (c->fd < 0)
		return;
	pq_loop_timer_cancel(loop, &c->deadline);
	if (pq_loop_del(loop, c->fd))
		pq_log(PQ_LOG_DEBUG, "metrics: client was not watched");
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

/* Status line and headers, then body (may be NULL) into c->out. */
static int answer(struct mclient *c, const char *status, const char *extra, const char *body,
		  size_t body_len)
{
	char head[HEAD_MAX];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 status, body ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain", body_len,
			 extra);

	if (n < 0 || (size_t)n >= sizeof(head))
		return PQ_E_TOOBIG;
	c->out = malloc((size_t)n + body_len);
	if (!c->out)
		return PQ_E_NOMEM;
	memcpy(c->out, head, (size_t)n);
	if (body_len)
		memcpy(c->out + n, body, body_len);
	c->out_len = (size_t)n + body_len;
	c->out_off = 0;
	return 0;
}

static int answer_metrics(struct mclient *c)
{
	const struct pq_node *node = c->m->node;
	size_t cap = RENDER_HEAD_MAX + node->peer_count * RENDER_PEER_MAX;
	char *body = malloc(cap);
	long len;
	int ret;

	if (!body)
		return PQ_E_NOMEM;
	len = pq_metrics_render(node, &c->m->hs, &c->m->rehs, body, cap, pq_loop_now(node->loop));
	if (len < 0)
		ret = answer(c, "500 Internal Server Error", "", NULL, 0);
	else
		ret = answer(c, "200 OK", "", body, (size_t)len);
	free(body);
	return ret;
}

/* The request head is complete in c->req: choose the answer. */
static int route(struct mclient *c)
{
	char *sp1 = memchr(c->req, ' ', c->req_len), *sp2, *eol = strstr(c->req, "\r\n");
	size_t path_len;

	if (!sp1 || !eol || sp1 > eol)
		return answer(c, "400 Bad Request", "", NULL, 0);
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return answer(c, "400 Bad Request", "", NULL, 0);
	if (sp1 - c->req != 3 || memcmp(c->req, "GET", 3) != 0)
		return answer(c, "405 Method Not Allowed", "Allow: GET\r\n", NULL, 0);
	path_len = (size_t)(sp2 - sp1 - 1);
	/* A query string is ignored, as Prometheus servers usually do. */
	if (path_len >= 8 && memcmp(sp1 + 1, "/metrics", 8) == 0 && (path_len == 8 || sp1[9] == '?'))
		return answer_metrics(c);
	return answer(c, "404 Not Found", "", NULL, 0);
}

static void client_write(struct mclient *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (pq_loop_mod(c->m->node->loop, c->fd, PQ_LOOP_WRITE))
				client_close(c);
			return;
		}
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/* Closing with unread request bytes would reset the connection and
	 * could destroy the answer before the client reads it: half-close and
	 * wait for the client's EOF (bounded by the deadline). */
	if (shutdown(c->fd, SHUT_WR) < 0 || pq_loop_mod(c->m->node->loop, c->fd, PQ_LOOP_READ)) {
		client_close(c);
		return;
	}
	c->draining = true;
}

static void client_drain(struct mclient *c)
{
	char junk[512];
	ssize_t n;

	while ((n = read(c->fd, junk, sizeof(junk))) > 0 || (n < 0 && errno == EINTR))
		;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		client_close(c);
}

static void client_read(struct mclient *c)
{
	for (;;) {
		ssize_t n;

		if (c->req_len == sizeof(c->req) - 1) {
			/* No blank line in the room we give: refuse and close. */
			if (answer(c, "431 Request Header Fields Too Large", "", NULL, 0))
				client_close(c);
			else
				client_write(c);
			return;
		}
		n = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->req_len += (size_t)n;
		c->req[c->req_len] = 0;
		if (memchr(c->req, 0, c->req_len) || strstr(c->req, "\r\n\r\n")) {
			if (route(c))
				client_close(c);
			else
				client_write(c);
			return;
		}
	}
}

static void client_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct mclient *c = arg;

	if (c->draining)
		client_drain(c);
	else if (c->out)
		client_write(c);
	else
		client_read(c);
}

static struct mclient *free_slot(struct pq_metrics *m)
{
	for (unsigned i = 0; i < PQ_METRICS_MAX_CLIENTS; i++)
		if (m->clients[i].fd < 0)
			return &m->clients[i];
	return NULL;
}

static void listen_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_metrics *m = arg;
	int cfd, ret;

	while ((ret = pq_sock_accept(fd, &cfd, NULL)) != PQ_E_AGAIN) {
		if (ret == PQ_E_LIMIT && pq_loop_del(loop, fd) == 0) {
			m->paused = true;
			if (pq_loop_timer_start(loop, &m->resume, FD_PAUSE_MS))
				pq_log(PQ_LOG_ERROR, "metrics: cannot arm the resume timer");
			return;
		}
		if (ret)
			return;
		struct mclient *c = free_slot(m);

		if (!c) {
			close(cfd); /* all slots busy: the scraper retries */
			continue;
		}
		c->fd = cfd;
		c->req_len = 0;
		c->req[0] = 0;
		if (pq_loop_add(loop, cfd, PQ_LOOP_READ, client_event, c) ||
		    pq_loop_timer_start(loop, &c->deadline, PQ_METRICS_DEADLINE_MS)) {
			pq_loop_timer_cancel(loop, &c->deadline);
			close(cfd);
			c->fd = -1;
		}
	}
}

static void resume_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_metrics *m = arg;

	if (pq_loop_add(loop, m->fd, PQ_LOOP_READ, listen_event, m) == 0)
		m->paused = false;
	else if (pq_loop_timer_start(loop, &m->resume, FD_PAUSE_MS))
		pq_log(PQ_LOG_ERROR, "metrics: cannot arm the resume timer");
}

int pq_metrics_open(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_sockaddr addr;
	struct pq_metrics *m;
	char text[PQ_SOCKADDR_TEXT];
	int ret;

	if (!node->cfg.has_metrics)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return PQ_E_NOMEM;
	m->node = node;
	m->fd = -1;
	pq_timer_init(&m->resume, resume_fired, m);
	for (unsigned i = 0; i < PQ_METRICS_MAX_CLIENTS; i++) {
		m->clients[i].m = m;
		m->clients[i].fd = -1;
		pq_timer_init(&m->clients[i].deadline, deadline_fired, &m->clients[i]);
	}
	node->metrics = m;
	memcpy(&addr.ss, &node->cfg.metrics.ss, sizeof(addr.ss));
	addr.len = node->cfg.metrics.len;
	pq_sockaddr_format(&addr, text, sizeof(text));
	if ((ret = pq_sock_listen(&m->fd, &addr, 16))) {
		m->fd = -1;
		snprintf(err, err_len, "cannot listen on %s (metrics): %s", text, pq_strerror(ret));
		return ret;
	}
	if ((ret = pq_loop_add(node->loop, m->fd, PQ_LOOP_READ, listen_event, m))) {
		snprintf(err, err_len, "cannot watch the metrics listener: %s", pq_strerror(ret));
		return ret;
	}
	pq_log(PQ_LOG_INFO, "metrics on http://%s/metrics", text);
	return 0;
}

void pq_metrics_close(struct pq_node *node)
{
	struct pq_metrics *m = node->metrics;

	if (!m)
		return;
	for (unsigned i = 0; i < PQ_METRICS_MAX_CLIENTS; i++)
		client_close(&m->clients[i]);
	pq_loop_timer_cancel(node->loop, &m->resume);
	if (m->fd >= 0) {
		if (!m->paused && pq_loop_del(node->loop, m->fd))
			pq_log(PQ_LOG_DEBUG, "metrics: listener was not watched");
		close(m->fd);
	}
	free(m);
	node->metrics = NULL;
}
