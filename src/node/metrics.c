/*
 * metrics.c - the Prometheus endpoint's HTTP/1.1 answers (node/node_int.h
 * for its bounds; RFC 9112 for the request line, RFC 9110 §15 for the
 * status codes), served on the daemon's loop by net/reqsrv.h.
 *
 * A client is read until the blank line that ends its request head; the
 * answer is rendered at once into a heap buffer and written as the socket
 * takes it; then the write side is shut, the client read to EOF and the
 * connection closed. Each client has a deadline, so a slow or silent
 * client holds one of the few slots for at most PQ_METRICS_DEADLINE_MS.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/reqsrv.h"
#include "net/sock.h"
#include "node/node_int.h"
#include "util/log.h"

/* The exposition's size: the node lines and histograms, and per peer. */
#define RENDER_HEAD_MAX 8192
#define RENDER_PEER_MAX 4096
#define HEAD_MAX 256

struct pq_metrics {
	struct pq_node *node;
	struct pq_reqsrv *srv;
	struct pq_hist hs, rehs;
};

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

/* Status line and headers, then body (may be NULL) into c->out. */
static int answer(char **out, size_t *out_len, const char *status, const char *extra, const char *body,
		  size_t body_len)
{
	char head[HEAD_MAX];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 status, body ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain", body_len,
			 extra);

	if (n < 0 || (size_t)n >= sizeof(head))
		return PQ_E_TOOBIG;
	*out = malloc((size_t)n + body_len);
	if (!*out)
		return PQ_E_NOMEM;
	memcpy(*out, head, (size_t)n);
	if (body_len)
		memcpy(*out + n, body, body_len);
	*out_len = (size_t)n + body_len;
	return 0;
}

static int answer_metrics(const struct pq_metrics *m, char **out, size_t *out_len)
{
	const struct pq_node *node = m->node;
	size_t cap = RENDER_HEAD_MAX + node->peer_count * RENDER_PEER_MAX;
	char *body = malloc(cap);
	long len;
	int ret;

	if (!body)
		return PQ_E_NOMEM;
	len = pq_metrics_render(node, &m->hs, &m->rehs, body, cap, pq_loop_now(node->loop));
	if (len < 0)
		ret = answer(out, out_len, "500 Internal Server Error", "", NULL, 0);
	else
		ret = answer(out, out_len, "200 OK", "", body, (size_t)len);
	free(body);
	return ret;
}

/* The request head is complete in req: choose the answer. */
static int route(const struct pq_metrics *m, const char *req, size_t req_len, char **out, size_t *out_len)
{
	const char *sp1 = memchr(req, ' ', req_len), *sp2, *eol = strstr(req, "\r\n");
	size_t path_len;

	if (!sp1 || !eol || sp1 > eol)
		return answer(out, out_len, "400 Bad Request", "", NULL, 0);
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return answer(out, out_len, "400 Bad Request", "", NULL, 0);
	if (sp1 - req != 3 || memcmp(req, "GET", 3) != 0)
		return answer(out, out_len, "405 Method Not Allowed", "Allow: GET\r\n", NULL, 0);
	path_len = (size_t)(sp2 - sp1 - 1);
	/* A query string is ignored, as Prometheus servers usually do. */
	if (path_len >= 8 && memcmp(sp1 + 1, "/metrics", 8) == 0 && (path_len == 8 || sp1[9] == '?'))
		return answer_metrics(m, out, out_len);
	return answer(out, out_len, "404 Not Found", "", NULL, 0);
}

/* The request so far: whole (a blank line ends the head), too long (431),
 * or not yet. */
static enum pq_reqsrv_verdict metrics_request(void *ctx, const char *req, size_t len, bool eof, char **out,
					      size_t *out_len)
{
	const struct pq_metrics *m = ctx;
	int ret;

	if (memchr(req, 0, len) || strstr(req, "\r\n\r\n"))
		ret = route(m, req, len, out, out_len);
	else if (len >= PQ_METRICS_REQ_MAX)
		ret = answer(out, out_len, "431 Request Header Fields Too Large", "", NULL, 0);
	else
		return eof ? PQ_REQSRV_CLOSE : PQ_REQSRV_MORE;
	return ret ? PQ_REQSRV_CLOSE : PQ_REQSRV_ANSWER;
}

int pq_metrics_open(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_reqsrv_config rcfg = {
		.req_max = PQ_METRICS_REQ_MAX,
		.max_clients = PQ_METRICS_MAX_CLIENTS,
		.deadline_ms = PQ_METRICS_DEADLINE_MS,
		.drain = true,
		.on_request = metrics_request,
		.name = "metrics",
	};
	struct pq_sockaddr addr;
	struct pq_metrics *m;
	char text[PQ_SOCKADDR_TEXT];
	int ret, fd;

	if (!node->cfg.has_metrics)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return PQ_E_NOMEM;
	m->node = node;
	node->metrics = m;
	rcfg.ctx = m;
	memcpy(&addr.ss, &node->cfg.metrics.ss, sizeof(addr.ss));
	addr.len = node->cfg.metrics.len;
	pq_sockaddr_format(&addr, text, sizeof(text));
	if ((ret = pq_sock_listen(&fd, &addr, 16))) {
		snprintf(err, err_len, "cannot listen on %s (metrics): %s", text, pq_strerror(ret));
		return ret;
	}
	if ((ret = pq_reqsrv_new(&m->srv, node->loop, fd, &rcfg))) {
		snprintf(err, err_len, "cannot serve metrics on %s: %s", text, pq_strerror(ret));
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
	pq_reqsrv_free(m->srv);
	free(m);
	node->metrics = NULL;
}
