/* ctl_client.c - control socket client (ctl_client.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/ctl_client.h"
#include "node/node.h"

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = PQ_CONTROL_TIMEOUT_MS / 1000,
			      .tv_usec = (PQ_CONTROL_TIMEOUT_MS % 1000) * 1000 };

	/* Best effort: without them we only wait longer. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int io_error(const char *path, int e, char *err, size_t err_len)
{
	if (e == EAGAIN || e == EWOULDBLOCK) {
		snprintf(err, err_len, "%s: the daemon did not answer within %d ms (busy or stuck?)",
			 path, PQ_CONTROL_TIMEOUT_MS);
		return PQ_E_AGAIN;
	}
	snprintf(err, err_len, "%s: %s", path, strerror(e));
	return PQ_E_IO;
}

static int connect_to(const char *path, int *fdp, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, err_len, "control socket path too long");
		return PQ_E_INVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return io_error(path, errno, err, err_len);
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0) {
		*fdp = fd;
		return 0;
	}
	e = errno;
	close(fd);
	if (e == ENOENT || e == ECONNREFUSED)
		snprintf(err, err_len, "no daemon is listening on %s - is it running?", path);
	else if (e == EACCES || e == EPERM)
		snprintf(err, err_len, "%s: permission denied - the socket is for root and the daemon's "
			 "user only", path);
	else
		snprintf(err, err_len, "%s: cannot connect: %s", path, strerror(e));
	return PQ_E_IO;
}

int cli_ctl_request(const char *path, const char *req, FILE *out, char *err, size_t err_len)
{
	char buf[4096];
	size_t got = 0, len = strlen(req);
	ssize_t n;
	int fd = -1, ret;

	if ((ret = connect_to(path, &fd, err, err_len)))
		return ret;
	set_timeouts(fd);
	for (size_t off = 0; off < len; off += (size_t)n) {
		n = write(fd, req + off, len - off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			ret = io_error(path, n < 0 ? errno : EPIPE, err, err_len);
			goto out;
		}
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = io_error(path, errno, err, err_len);
			goto out;
		}
		got += (size_t)n;
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
			snprintf(err, err_len, "cannot write the reply");
			ret = PQ_E_IO;
			goto out;
		}
	}
	if (got == 0) {
		snprintf(err, err_len, "%s: the daemon closed the connection without a reply "
			 "(too many clients at once, or an older pqlan that lacks this request)", path);
		ret = PQ_E_IO;
	}
out:
	close(fd);
	return ret;
}

/* Trim spaces around s in place; the trimmed start. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* Only [node]'s control and tap, with no checks but length. */
static int lenient_socket(const char *conf, char *out, size_t cap, char *err, size_t err_len)
{
	char line[512], control[256] = "", tap[64] = "";
	FILE *f = fopen(conf, "re");
	int in_node = 0;

	if (!f) {
		snprintf(err, err_len, "%s: %s", conf, strerror(errno));
		return PQ_E_IO;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq;

		if (*s == '[') {
			in_node = !strncmp(s, "[node]", 6);
			continue;
		}
		if (!in_node || !(eq = strchr(s, '=')))
			continue;
		*eq = 0;
		if (!strcmp(trim(s), "control"))
			snprintf(control, sizeof(control), "%s", trim(eq + 1));
		else if (!strcmp(trim(s), "tap"))
			snprintf(tap, sizeof(tap), "%s", trim(eq + 1));
	}
	fclose(f);
	if (control[0] && strlen(control) < cap)
		snprintf(out, cap, "%s", control);
	else if (tap[0] && !control[0] && (size_t)snprintf(out, cap, "/run/pqlan/%s.sock", tap) < cap)
		;
	else
		return PQ_E_CONFIG;
	return 0;
}

int cli_node_socket(const char *conf, char *out, size_t cap, int *lenient, char *err, size_t err_len)
{
	char why[PQ_NODE_ERR_LEN];

	*lenient = 0;
	if (pq_node_control_path(conf, out, cap, why, sizeof(why)) == 0)
		return 0;
	if (lenient_socket(conf, out, cap, err, err_len) == 0) {
		*lenient = 1;
		return 0;
	}
	snprintf(err, err_len, "%s", why);
	return PQ_E_CONFIG;
}
