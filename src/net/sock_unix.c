/* sock_unix.c - a daemon's UNIX control socket file (sock_unix.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/sock_unix.h"

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

int pq_sock_listen_unix(int *fd_out, const char *path, char *err, size_t err_len)
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
