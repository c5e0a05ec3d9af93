/*
 * control_sock.c - the daemon's UNIX control socket, and the client that
 * `pqlan status` uses (node/node.h).
 *
 * The socket: its directory is made 0755 if missing; a stale socket file
 * (nobody answers on it) is removed, a live one means another daemon
 * serves this TAP and we refuse to start; the socket is created 0600 and
 * removed on exit.
 *
 * Clients are served on the daemon's loop by net/reqsrv.h: a client's
 * request line is read as it arrives, the report rendered at once and
 * written as the socket takes it. Each client has a deadline
 * (PQ_CONTROL_TIMEOUT_MS) and at most PQ_CONTROL_MAX_CLIENTS are open, so
 * a client that connects and says nothing, or never reads, costs a slot
 * for a while and never stalls the data path; out of descriptors, the
 * socket is left alone for a moment instead of waking the loop at once
 * again and again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/reqsrv.h"
#include "net/sock_unix.h"
#include "node/node.h"
#include "node/node_int.h"
#include "node/reload.h"
#include "util/log.h"

/* The answer to "reload": a line, or the loader's messages. */
#define RELOAD_ANSWER_MAX (PQ_CONFIG_ERR_LEN + 512)

/* ---- the daemon's side: non-blocking clients on the loop ---- */

struct pq_control {
	struct pq_node *node;
	struct pq_reqsrv *srv;
	bool bound;                    /* we created the socket file */
};

/* A whole line, the client's EOF, or all the room we give: the report. */
static enum pq_reqsrv_verdict control_request(void *ctx, const char *req, size_t len, bool eof, char **out,
					      size_t *out_len)
{
	struct pq_node *node = ctx;
	size_t cap = PQ_NODE_STATUS_HEAD_MAX + node->peer_count * PQ_NODE_STATUS_PEER_MAX;
	long n;

	if (!memchr(req, '\n', len) && !eof && len < PQ_CONTROL_REQ_MAX)
		return PQ_REQSRV_MORE;
	if (cap < RELOAD_ANSWER_MAX)
		cap = RELOAD_ANSWER_MAX;
	if (len == 0 || !(*out = malloc(cap)))
		return PQ_REQSRV_CLOSE;
	/* "reload\n": re-read node.conf (reload.c), answer what happened. */
	if (strncmp(req, "reload\n", 7) == 0)
		n = (long)pq_node_reload(node, *out, cap);
	else
		n = pq_control_status(node, strncmp(req, "json", 4) == 0, *out, cap, pq_loop_now(node->loop));
	if (n <= 0)
		return PQ_REQSRV_CLOSE;
	*out_len = (size_t)n;
	return PQ_REQSRV_ANSWER;
}

int pq_control_open(struct pq_node *node, char *err, size_t err_len)
{
	const struct pq_reqsrv_config rcfg = {
		.req_max = PQ_CONTROL_REQ_MAX,
		.max_clients = PQ_CONTROL_MAX_CLIENTS,
		.deadline_ms = PQ_CONTROL_TIMEOUT_MS,
		.on_request = control_request,
		.ctx = node,
		.name = "control",
	};
	int ret, fd;

	if (!(node->control = calloc(1, sizeof(*node->control)))) {
		snprintf(err, err_len, "control socket: out of memory");
		return PQ_E_NOMEM;
	}
	node->control->node = node;
	/* net/sock_unix.c: parents 0755, a stale socket replaced, a live one
	 * refused (another daemon on this TAP), the file born 0600. */
	if ((ret = pq_sock_listen_unix(&fd, node->cfg.control, err, err_len)))
		return ret;
	node->control->bound = true;
	if ((ret = pq_reqsrv_new(&node->control->srv, node->loop, fd, &rcfg))) {
		snprintf(err, err_len, "cannot serve the control socket: %s", pq_strerror(ret));
		return ret;
	}
	return 0;
}

void pq_control_close(struct pq_node *node)
{
	struct pq_control *ctl = node->control;

	if (!ctl)
		return;
	pq_reqsrv_free(ctl->srv);
	if (ctl->bound && unlink(node->cfg.control) < 0)
		pq_log(PQ_LOG_WARN, "cannot remove %s: %s", node->cfg.control, strerror(errno));
	free(ctl);
	node->control = NULL;
}


/* ---- the client's side: `pqlan status` ---- */

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = PQ_CONTROL_TIMEOUT_MS / 1000,
			      .tv_usec = (PQ_CONTROL_TIMEOUT_MS % 1000) * 1000 };

	/* Best effort: without them a client can only stall us longer. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return PQ_E_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pq_control_query(const char *path, bool json, FILE *out, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	const char *req = json ? "json\n" : "text\n";
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return PQ_E_INVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, err_len, "%s: %s - is `pqlan up` running?", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return PQ_E_IO;
	}
	set_timeouts(fd);
	if (write_all(fd, req, strlen(req))) {
		snprintf(err, err_len, "%s: cannot send the request", path);
		ret = PQ_E_IO;
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n > 0)
			got += (size_t)n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_len, "%s: %s", path, strerror(errno));
			ret = PQ_E_IO;
			goto out;
		}
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
			snprintf(err, err_len, "cannot write the report");
			ret = PQ_E_IO;
			goto out;
		}
	}
	if (got == 0) {
		snprintf(err, err_len, "%s: the daemon sent no report", path);
		ret = PQ_E_IO;
	}
out:
	close(fd);
	return ret;
}
