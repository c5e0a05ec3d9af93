/*
 * control_sock.c - the daemon's UNIX control socket, and the client that
 * `pqlan status` uses (node/node.h).
 *
 * The socket: its directory is made 0755 if missing; a stale socket file
 * (nobody answers on it) is removed, a live one means another daemon
 * serves this TAP and we refuse to start; the socket is created 0600 and
 * removed on exit.
 *
 * Clients are served on the daemon's loop, non-blocking: a client's
 * request line is read as it arrives, the report rendered at once and
 * written as the socket takes it. Each client has a deadline
 * (PQ_CONTROL_TIMEOUT_MS) and at most PQ_CONTROL_MAX_CLIENTS are open, so
 * a client that connects and says nothing, or never reads, costs a slot
 * for a while and never stalls the data path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "node/node.h"
#include "node/daemon.h"
#include "node/reload.h"
#include "util/log.h"

/* Room for the node line and one peer entry, text or JSON. */
#define STATUS_HEAD_MAX 512
#define STATUS_PEER_MAX 1024
/* The answer to "reload": a line, or the loader's messages. */
#define RELOAD_ANSWER_MAX (PQ_CONFIG_ERR_LEN + 512)

/* ---- the daemon's side: non-blocking clients on the loop ---- */

struct ctl_client {
	struct pq_control *ctl;
	int fd;                        /* -1: slot free */
	char req[PQ_CONTROL_REQ_MAX + 1];
	size_t req_len;
	char *out;                     /* the report, once the request is read */
	size_t out_len, out_off;
	struct pq_timer deadline;
};

struct pq_control {
	struct pq_node *node;
	struct ctl_client clients[PQ_CONTROL_MAX_CLIENTS];
};

static void client_close(struct ctl_client *c)
{
	struct pq_loop *loop = c->ctl->node->loop;

	if (c->fd < 0)
		return;
	pq_loop_timer_cancel(loop, &c->deadline);
	if (pq_loop_del(loop, c->fd))
		pq_log(PQ_LOG_DEBUG, "control: client was not watched");
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
}

static void deadline_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	pq_log(PQ_LOG_DEBUG, "control: client too slow, closed");
	client_close(arg);
}

static void client_write(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (pq_loop_mod(c->ctl->node->loop, c->fd, PQ_LOOP_WRITE))
				client_close(c);
			return;
		}
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	client_close(c);
}

/* The request line is in c->req: render the report, start writing it. */
static void client_answer(struct ctl_client *c)
{
	const struct pq_node *node = c->ctl->node;
	size_t cap = STATUS_HEAD_MAX + node->peer_count * STATUS_PEER_MAX;
	long len;

	if (cap < RELOAD_ANSWER_MAX)
		cap = RELOAD_ANSWER_MAX;
	c->out = malloc(cap);
	if (!c->out) {
		client_close(c);
		return;
	}
	/* issue 12: "reload\n" re-reads node.conf (node/reload.h). */
	if (strncmp(c->req, "reload\n", 7) == 0)
		len = (long)pq_node_reload(c->ctl->node, c->out, cap);
	else
		len = pq_control_status(node, strncmp(c->req, "json", 4) == 0, c->out, cap,
				pq_loop_now(node->loop));
	if (len <= 0) {
		client_close(c);
		return;
	}
	c->out_len = (size_t)len;
	c->out_off = 0;
	client_write(c);
}

static void client_read(struct ctl_client *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->req + c->req_len, PQ_CONTROL_REQ_MAX - c->req_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			client_close(c);
			return;
		}
		c->req_len += (size_t)n;
		c->req[c->req_len] = 0;
		/* A whole line, the client's EOF, or all the room we give. */
		if (n == 0 || memchr(c->req, '\n', c->req_len) || c->req_len == PQ_CONTROL_REQ_MAX)
			break;
	}
	if (c->req_len == 0) {
		client_close(c);
		return;
	}
	if (pq_loop_mod(c->ctl->node->loop, c->fd, 0)) {
		client_close(c);
		return;
	}
	client_answer(c);
}

static void client_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct ctl_client *c = arg;

	if (c->out)
		client_write(c);
	else
		client_read(c);
}

static struct ctl_client *free_slot(struct pq_control *ctl)
{
	for (size_t i = 0; i < PQ_CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd < 0)
			return &ctl->clients[i];
	return NULL;
}

static void control_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_control *ctl = arg;

	for (int i = 0; i < PQ_CONTROL_MAX_CLIENTS; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ctl_client *c;

		if (cfd < 0)
			return;
		/* Every slot held by a slow client: this one is closed at once
		 * (its `pqlan status` says the daemon sent no report). */
		if (!(c = free_slot(ctl))) {
			pq_log(PQ_LOG_DEBUG, "control: %d clients already, one refused", PQ_CONTROL_MAX_CLIENTS);
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->req_len = 0;
		c->out_len = c->out_off = 0;
		if (pq_loop_add(loop, cfd, PQ_LOOP_READ, client_event, c)) {
			close(cfd);
			c->fd = -1;
			continue;
		}
		if (pq_loop_timer_start(loop, &c->deadline, PQ_CONTROL_TIMEOUT_MS)) {
			client_close(c);
			continue;
		}
		client_read(c);
	}
}

/* mkdir -p the directory of path, new parts 0755. */
static int make_parent_dirs(const char *path, char *err, size_t err_len)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t len = strlen(path);

	if (len >= sizeof(dir))
		return PQ_E_INVAL;
	memcpy(dir, path, len + 1);
	for (char *s = dir + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(dir, 0755) == 0) {
			/* 0755 whatever the umask: `pqlan status` finds it. */
			if (chmod(dir, 0755) < 0)
				pq_log(PQ_LOG_WARN, "cannot chmod %s: %s", dir, strerror(errno));
		} else if (errno != EEXIST) {
			snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
			return PQ_E_IO;
		}
		*s = '/';
	}
	return 0;
}

/* A socket file at sa: refuse if someone answers, else remove it. */
static int remove_stale(const struct sockaddr_un *sa, char *err, size_t err_len)
{
	struct stat st;
	int fd;

	if (lstat(sa->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, err_len, "%s exists and is not a socket", sa->sun_path);
		return PQ_E_IO;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(fd);
		snprintf(err, err_len, "%s: another pqlan is running on this TAP", sa->sun_path);
		return PQ_E_IO;
	}
	if (fd >= 0)
		close(fd);
	if (unlink(sa->sun_path) < 0) {
		snprintf(err, err_len, "cannot remove the stale %s: %s", sa->sun_path, strerror(errno));
		return PQ_E_IO;
	}
	return 0;
}

int pq_control_open(struct pq_node *node, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	const char *path = node->cfg.control;
	mode_t old_mask;
	int ret, fd;

	node->ctl_fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return PQ_E_INVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((ret = make_parent_dirs(path, err, err_len)) || (ret = remove_stale(&sa, err, err_len)))
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, err_len, "control socket: %s", strerror(errno));
		return PQ_E_IO;
	}
	old_mask = umask(0177); /* the socket file is born 0600 */
	ret = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret < 0 || listen(fd, 8) < 0) {
		snprintf(err, err_len, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return PQ_E_IO;
	}
	node->ctl_fd = fd;
	node->ctl_bound = true;
	if (!(node->control = calloc(1, sizeof(*node->control)))) {
		snprintf(err, err_len, "control socket: out of memory");
		return PQ_E_NOMEM;
	}
	node->control->node = node;
	for (size_t i = 0; i < PQ_CONTROL_MAX_CLIENTS; i++) {
		node->control->clients[i].ctl = node->control;
		node->control->clients[i].fd = -1;
		pq_timer_init(&node->control->clients[i].deadline, deadline_fired, &node->control->clients[i]);
	}
	if ((ret = pq_loop_add(node->loop, fd, PQ_LOOP_READ, control_event, node->control))) {
		snprintf(err, err_len, "cannot watch the control socket");
		return ret;
	}
	return 0;
}

void pq_control_close(struct pq_node *node)
{
	if (node->control) {
		for (size_t i = 0; i < PQ_CONTROL_MAX_CLIENTS; i++)
			client_close(&node->control->clients[i]);
		free(node->control);
		node->control = NULL;
	}
	if (node->ctl_fd >= 0) {
		if (pq_loop_del(node->loop, node->ctl_fd))
			pq_log(PQ_LOG_DEBUG, "control: was not watched");
		close(node->ctl_fd);
		node->ctl_fd = -1;
	}
	if (node->ctl_bound && unlink(node->cfg.control) < 0)
		pq_log(PQ_LOG_WARN, "cannot remove %s: %s", node->cfg.control, strerror(errno));
	node->ctl_bound = false;
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
