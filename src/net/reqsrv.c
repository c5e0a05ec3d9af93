/* reqsrv.c - one-request servers (reqsrv.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/reqsrv.h"

#define PAUSE_MS 100

struct client {
	struct pq_reqsrv *srv;
	int fd;                  /* -1: free */
	uint64_t seq;            /* accept order: the lowest is the oldest */
	char *req;               /* max_req + 1 bytes */
	size_t req_len;
	char *out;
	size_t out_len, out_off;
	struct pq_timer deadline;
};

struct pq_reqsrv {
	struct pq_loop *loop;
	int lfd;
	struct pq_reqsrv_opts opts;
	pq_reqsrv_fn *fn;
	void *arg;
	uint64_t seq;
	bool paused;
	struct pq_timer pause;
	struct client *clients;
};

static void client_close(struct client *c)
{
	if (c->fd < 0)
		return;
	pq_loop_timer_cancel(c->srv->loop, &c->deadline);
	if (pq_loop_del(c->srv->loop, c->fd))
		c->out_off = 0;  /* not watched: nothing to undo */
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
}

static void deadline_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
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
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	client_close(c);
}

static bool request_done(const struct client *c, bool eof)
{
	if (eof || c->req_len == c->srv->opts.max_req)
		return true;
	if (c->srv->opts.http)
		return strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL;
	return memchr(c->req, '\n', c->req_len) != NULL;
}

static void client_read(struct client *c)
{
	bool eof = false;

	for (;;) {
		ssize_t n = read(c->fd, c->req + c->req_len, c->srv->opts.max_req - c->req_len);

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
		eof = n == 0;
		if (request_done(c, eof))
			break;
	}
	if (c->req_len == 0 || pq_loop_mod(c->srv->loop, c->fd, 0) ||
	    c->srv->fn(c->srv->arg, c->req, c->req_len, &c->out, &c->out_len) || !c->out) {
		client_close(c);
		return;
	}
	c->out_off = 0;
	client_write(c);
}

static void client_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct client *c = arg;

	if (c->out)
		client_write(c);
	else
		client_read(c);
}

/* A free slot, or the oldest client's (closed first). */
static struct client *slot(struct pq_reqsrv *s)
{
	struct client *oldest = NULL;

	for (unsigned i = 0; i < s->opts.max_clients; i++) {
		if (s->clients[i].fd < 0)
			return &s->clients[i];
		if (!oldest || s->clients[i].seq < oldest->seq)
			oldest = &s->clients[i];
	}
	client_close(oldest);
	return oldest;
}

static void unpause(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	struct pq_reqsrv *s = arg;

	if (!pq_loop_mod(loop, s->lfd, PQ_LOOP_READ))
		s->paused = false;
}

static void accept_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct pq_reqsrv *s = arg;

	for (unsigned i = 0; i < s->opts.max_clients; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *c;

		if (cfd < 0) {
			/* Out of descriptors: the pending connection stays queued
			 * and the fd stays readable; wait instead of spinning. */
			if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) &&
			    !s->paused && !pq_loop_mod(loop, fd, 0) &&
			    !pq_loop_timer_start(loop, &s->pause, PAUSE_MS))
				s->paused = true;
			return;
		}
		c = slot(s);
		c->fd = cfd;
		c->seq = ++s->seq;
		c->req_len = 0;
		c->req[0] = 0;
		c->out_len = c->out_off = 0;
		if (pq_loop_add(loop, cfd, PQ_LOOP_READ, client_event, c)) {
			close(cfd);
			c->fd = -1;
			continue;
		}
		if (pq_loop_timer_start(loop, &c->deadline, s->opts.timeout_ms)) {
			client_close(c);
			continue;
		}
		client_read(c);
	}
}

int pq_reqsrv_new(struct pq_reqsrv **out, struct pq_loop *loop, int lfd,
		  const struct pq_reqsrv_opts *opts, pq_reqsrv_fn *fn, void *arg)
{
	struct pq_reqsrv *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s) {
		close(lfd);
		return PQ_E_NOMEM;
	}
	s->loop = loop;
	s->lfd = lfd;
	s->fn = fn;
	s->arg = arg;
	if (opts)
		s->opts = *opts;
	if (!s->opts.max_req)
		s->opts.max_req = 16;
	if (!s->opts.max_clients)
		s->opts.max_clients = 8;
	if (!s->opts.timeout_ms)
		s->opts.timeout_ms = 2000;
	pq_timer_init(&s->pause, unpause, s);
	s->clients = calloc(s->opts.max_clients, sizeof(*s->clients));
	if (!s->clients) {
		ret = PQ_E_NOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < s->opts.max_clients; i++) {
		struct client *c = &s->clients[i];

		c->srv = s;
		c->fd = -1;
		pq_timer_init(&c->deadline, deadline_fired, c);
		if (!(c->req = malloc(s->opts.max_req + 1))) {
			ret = PQ_E_NOMEM;
			goto fail;
		}
	}
	if ((ret = pq_loop_add(loop, lfd, PQ_LOOP_READ, accept_event, s)))
		goto fail;
	*out = s;
	return 0;
fail:
	s->lfd = -1;
	pq_reqsrv_free(s);
	close(lfd);
	return ret;
}

void pq_reqsrv_free(struct pq_reqsrv *s)
{
	if (!s)
		return;
	for (unsigned i = 0; s->clients && i < s->opts.max_clients; i++) {
		client_close(&s->clients[i]);
		free(s->clients[i].req);
	}
	free(s->clients);
	pq_loop_timer_cancel(s->loop, &s->pause);
	if (s->lfd >= 0) {
		if (pq_loop_del(s->loop, s->lfd))
			s->paused = false;  /* paused or never added: nothing to undo */
		close(s->lfd);
	}
	free(s);
}

/* mkdir -p the directory of path, new parts 0755 whatever the umask. */
static int make_parents(const char *path, char *err, size_t err_len)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t len = strlen(path);

	memcpy(dir, path, len + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0755) == 0)
			(void)chmod(dir, 0755);
		else if (errno != EEXIST) {
			snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
			return PQ_E_IO;
		}
		*p = '/';
	}
	return 0;
}

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
		snprintf(err, err_len, "%s: another daemon is running with this socket", sa->sun_path);
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

int pq_reqsrv_listen_unix(int *fd_out, const char *path, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	mode_t old_mask;
	int fd, ret;

	*fd_out = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, err_len, "control socket path too long");
		return PQ_E_INVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((ret = make_parents(path, err, err_len)) || (ret = remove_stale(&sa, err, err_len)))
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return PQ_E_IO;
	}
	old_mask = umask(0177); /* born 0600 */
	ret = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret < 0 || listen(fd, 8) < 0) {
		snprintf(err, err_len, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return PQ_E_IO;
	}
	*fd_out = fd;
	return 0;
}
