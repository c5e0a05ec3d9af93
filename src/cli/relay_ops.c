/* relay_ops.c - the relay's operator side (relay_ops.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/relay_ops.h"
#include "net/sock.h"
#include "net/sock_unix.h"
#include "util/log.h"
#include "util/sdnotify.h"

#define HTTP_REQ_MAX 2048
#define CONTROL_REQ_MAX 16
#define SERVE_DEADLINE_MS 2000u
#define SERVE_MAX_CLIENTS 8

/* The control socket: a line ("json" or anything else: text). */
static enum pq_reqsrv_verdict control_reply(void *arg, const char *req, size_t len, bool eof, char **out,
					    size_t *out_len)
{
	struct relay_ops *ops = arg;
	size_t cap = pq_relay_report_cap(ops->relay);
	long n;

	if (!memchr(req, '\n', len) && !eof && len < CONTROL_REQ_MAX)
		return PQ_REQSRV_MORE;
	if (len == 0 || !(*out = malloc(cap)))
		return PQ_REQSRV_CLOSE;
	n = pq_relay_report(ops->relay, !strncmp(req, "json", 4), *out, cap);
	if (n < 0) {
		free(*out);
		*out = NULL;
		return PQ_REQSRV_CLOSE;
	}
	*out_len = (size_t)n;
	return PQ_REQSRV_ANSWER;
}

static enum pq_reqsrv_verdict http_answer(char **out, size_t *out_len, const char *status, const char *body)
{
	size_t cap = strlen(body) + 256;
	int n;

	if (!(*out = malloc(cap)))
		return PQ_REQSRV_CLOSE;
	n = snprintf(*out, cap, "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; "
		     "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
		     strlen(body), body);
	*out_len = (size_t)n;
	return PQ_REQSRV_ANSWER;
}

/* GET /metrics (RFC 9112 request line), once the head is whole; anything
 * else 404 / 405, a head that does not fit 431. */
static enum pq_reqsrv_verdict metrics_reply(void *arg, const char *req, size_t len, bool eof, char **out,
					    size_t *out_len)
{
	struct relay_ops *ops = arg;
	enum pq_reqsrv_verdict v;
	size_t cap;
	char *body;
	long n;

	if (!strstr(req, "\r\n\r\n") && !strstr(req, "\n\n")) {
		if (!eof && len < HTTP_REQ_MAX)
			return PQ_REQSRV_MORE;
		return http_answer(out, out_len, "431 Request Header Fields Too Large", "");
	}
	if (strncmp(req, "GET ", 4))
		return http_answer(out, out_len, "405 Method Not Allowed", "");
	if (strncmp(req + 4, "/metrics ", 9) && strncmp(req + 4, "/metrics?", 9))
		return http_answer(out, out_len, "404 Not Found", "only /metrics here\n");
	cap = pq_relay_report_cap(ops->relay);
	if (!(body = malloc(cap)))
		return PQ_REQSRV_CLOSE;
	n = pq_relay_metrics_text(ops->relay, body, cap);
	v = n < 0 ? PQ_REQSRV_CLOSE : http_answer(out, out_len, "200 OK", body);
	free(body);
	return v;
}

static int start_metrics(struct relay_ops *ops, char *err, size_t err_len)
{
	const struct pq_reqsrv_config o = {
		.req_max = HTTP_REQ_MAX, .max_clients = SERVE_MAX_CLIENTS,
		.deadline_ms = SERVE_DEADLINE_MS, .drain = true,
		.on_request = metrics_reply, .ctx = ops, .name = "relay metrics",
	};
	struct pq_sockaddr addr = { 0 };
	char text[PQ_SOCKADDR_TEXT];
	int fd, rc;

	memcpy(&addr.ss, &ops->cfg.metrics.ss, sizeof(addr.ss));
	addr.len = ops->cfg.metrics.len;
	pq_sockaddr_format(&addr, text, sizeof(text));
	if ((rc = pq_sock_listen(&fd, &addr, 16))) {
		snprintf(err, err_len, "metrics %s: cannot listen: %s", text, pq_strerror(rc));
		return rc;
	}
	if ((rc = pq_reqsrv_new(&ops->metrics, ops->loop, fd, &o))) {
		snprintf(err, err_len, "metrics %s: %s", text, pq_strerror(rc));
		return rc;
	}
	pq_log(PQ_LOG_INFO, "relay: metrics at http://%s/metrics", text);
	return 0;
}

int relay_ops_start(struct relay_ops *ops, struct pq_loop *loop, struct pq_relay *relay,
		    const char *conf_path, struct pq_relay_config *cfg, char *err, size_t err_len)
{
	const struct pq_reqsrv_config o = {
		.req_max = CONTROL_REQ_MAX, .max_clients = SERVE_MAX_CLIENTS,
		.deadline_ms = SERVE_DEADLINE_MS, .on_request = control_reply, .ctx = ops,
		.name = "relay control",
	};
	int fd, rc;

	memset(ops, 0, sizeof(*ops));
	ops->loop = loop;
	ops->relay = relay;
	ops->conf_path = conf_path;
	ops->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));  /* ours now */
	snprintf(ops->control_path, sizeof(ops->control_path), "%s", ops->cfg.control);
	if ((rc = pq_sock_listen_unix(&fd, ops->control_path, err, err_len))) {
		if (ops->cfg.has_control)
			return rc;
		/* Only the default: a second relay on this host (tests, a
		 * migration) runs on, without a control socket. */
		pq_log(PQ_LOG_WARN, "relay: no control socket, relay-status cannot reach this relay: %s "
		       "(set control = in relay.conf)", err);
		err[0] = 0;
		rc = 0;
		goto metrics;
	}
	ops->control_bound = 1;
	if ((rc = pq_reqsrv_new(&ops->control, loop, fd, &o))) {
		snprintf(err, err_len, "control socket: %s", pq_strerror(rc));
		return rc;
	}
metrics:
	if (ops->cfg.has_metrics && (rc = start_metrics(ops, err, err_len)))
		return rc;
	return 0;
}

/* What a reload cannot change: the key's file, the listen and metrics
 * addresses, the control socket. "" when nothing of it changed. */
static const char *fixed_change(const struct pq_relay_config *a, const struct pq_relay_config *b)
{
	if (strcmp(a->private_key, b->private_key))
		return "private_key";
	if (a->listen.len != b->listen.len || memcmp(&a->listen.ss, &b->listen.ss, a->listen.len))
		return "listen";
	if (a->has_metrics != b->has_metrics ||
	    (a->has_metrics && memcmp(&a->metrics.ss, &b->metrics.ss, a->metrics.len)))
		return "metrics";
	if (strcmp(a->control, b->control))
		return "control";
	if (strcmp(a->name, b->name) || memcmp(&a->nats, &b->nats, sizeof(a->nats)))
		return "name, nats or [nats]"; /* issue 10: zeroed, then filled */
	return "";
}

void relay_ops_reload(struct relay_ops *ops)
{
	struct pq_relay_config next;
	char err[PQ_CONFIG_ERR_LEN];
	uint8_t (*allow)[32] = NULL;
	const char *fixed;
	size_t closed = 0;

	(void)pq_sd_notify("RELOADING=1");
	if (pq_relay_config_load(&next, ops->conf_path, err, sizeof(err))) {
		pq_log(PQ_LOG_ERROR, "relay: reload refused, the old configuration stays: %s", err);
		goto out;
	}
	if (*(fixed = fixed_change(&ops->cfg, &next))) {
		pq_log(PQ_LOG_ERROR, "relay: reload refused, %s changed in %s: that needs a restart; "
		       "the old configuration stays", fixed, ops->conf_path);
		pq_relay_config_free(&next);
		goto out;
	}
	if (next.allow_count && !(allow = calloc(next.allow_count, sizeof(*allow)))) {
		pq_log(PQ_LOG_ERROR, "relay: reload refused: out of memory");
		pq_relay_config_free(&next);
		goto out;
	}
	for (size_t i = 0; i < next.allow_count; i++)
		memcpy(allow[i], next.allow[i].key, 32);
	if (pq_relay_set_allow(ops->relay, (const uint8_t(*)[32])allow, next.allow_count, &closed)) {
		pq_log(PQ_LOG_ERROR, "relay: reload refused: out of memory");
		pq_relay_config_free(&next);
		goto out;
	}
	pq_relay_set_limits(ops->relay, next.max_nodes, next.max_nodes_per_source,
			    pq_relay_config_max_queued(&next));
	if (!ops->verbose)
		pq_log_set_level((enum pq_log_level)next.log_level);
	pq_log(PQ_LOG_INFO, "relay: reloaded %s: %s, %zu node(s) no longer allowed closed, log level %s, "
	       "caps and queue budget applied", ops->conf_path, next.allow_count ? "allow list" : "open (any node key)",
	       closed, pq_log_level_name((enum pq_log_level)next.log_level));
	if (next.allow_count)
		pq_log(PQ_LOG_INFO, "relay: %zu allowed node keys", next.allow_count);
	pq_relay_config_free(&ops->cfg);
	ops->cfg = next;
out:
	free(allow);
	(void)pq_sd_notify("READY=1");
}

void relay_ops_close(struct relay_ops *ops)
{
	pq_reqsrv_free(ops->control);
	pq_reqsrv_free(ops->metrics);
	ops->control = ops->metrics = NULL;
	if (ops->control_bound && unlink(ops->control_path))
		pq_log(PQ_LOG_WARN, "relay: cannot remove %s", ops->control_path);
	ops->control_bound = 0;
}

void relay_ops_stop(struct relay_ops *ops)
{
	relay_ops_close(ops);
	pq_relay_config_free(&ops->cfg);
}
