/*
 * sock.c - non-blocking TCP and address helpers (see sock.h).
 */
#include "net/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int pq_sock_errno(int e)
{
	switch (e) {
	case EAGAIN: case EINPROGRESS: case EINTR: return PQ_E_AGAIN;
	case EACCES: case EPERM: return PQ_E_PERM;
	case EADDRINUSE: return PQ_E_INUSE;
	case ECONNREFUSED: return PQ_E_REFUSED;
	case EHOSTUNREACH: case ENETUNREACH: return PQ_E_UNREACH;
	case ETIMEDOUT: return PQ_E_TIMEOUT;
	case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM: return PQ_E_LIMIT;
	case EINVAL: case EAFNOSUPPORT: case EBADF: case ENOTSOCK: return PQ_E_INVAL;
	default: return PQ_E_IO;
	}
}

int pq_sockaddr_from_ip(struct pq_sockaddr *out, const char *ip, unsigned port)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;

	memset(out, 0, sizeof(*out));
	if (port > 65535)
		return PQ_E_INVAL;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		out->len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*v6);
		return 0;
	}
	return PQ_E_INVAL;
}

void pq_sockaddr_format(const struct pq_sockaddr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;

	if (a->ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, pq_sockaddr_port(a));
	} else if (a->ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip, pq_sockaddr_port(a));
	} else {
		snprintf(out, cap, "?");
	}
}

void pq_sockaddr_set_port(struct pq_sockaddr *a, unsigned port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)port);
}

unsigned pq_sockaddr_port(const struct pq_sockaddr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

static int new_socket(int family, int *fd_out)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return pq_sock_errno(errno);
	*fd_out = fd;
	return 0;
}

int pq_sock_listen(int *fd_out, const struct pq_sockaddr *addr, int backlog)
{
	int fd = -1, one = 1, err;

	if ((err = new_socket(addr->ss.ss_family, &fd)))
		return err;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 ||
	    listen(fd, backlog) < 0) {
		err = pq_sock_errno(errno);
		close(fd);
		return err == PQ_E_AGAIN ? PQ_E_IO : err;
	}
	*fd_out = fd;
	return 0;
}

static void set_nodelay(int fd)
{
	int one = 1;

	/* Messages are written whole; do not let Nagle hold the last segment. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int pq_sock_connect(int *fd_out, const struct pq_sockaddr *addr)
{
	int fd = -1, err;

	if ((err = new_socket(addr->ss.ss_family, &fd)))
		return err;
	set_nodelay(fd);
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 && errno != EINPROGRESS) {
		err = pq_sock_errno(errno);
		close(fd);
		return err == PQ_E_AGAIN ? PQ_E_IO : err;
	}
	*fd_out = fd;
	return 0;
}

int pq_sock_connect_result(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return PQ_E_IO;
	if (soerr == EINPROGRESS || soerr == EALREADY)
		return PQ_E_AGAIN;
	return soerr ? pq_sock_errno(soerr) : 0;
}

int pq_sock_accept(int lfd, int *fd_out, struct pq_sockaddr *peer)
{
	struct pq_sockaddr tmp;
	struct pq_sockaddr *p = peer ? peer : &tmp;
	int fd;

	memset(p, 0, sizeof(*p));
	p->len = sizeof(p->ss);
	fd = accept4(lfd, (struct sockaddr *)&p->ss, &p->len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* ECONNABORTED and friends: that one is gone, try later */
		int err = pq_sock_errno(errno);
		return err == PQ_E_IO ? PQ_E_AGAIN : err;
	}
	set_nodelay(fd);
	*fd_out = fd;
	return 0;
}

int pq_sock_local(int fd, struct pq_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	if (getsockname(fd, (struct sockaddr *)&out->ss, &out->len) < 0)
		return pq_sock_errno(errno);
	return 0;
}

int pq_sock_set_user_timeout(int fd, unsigned ms)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)) < 0)
		return pq_sock_errno(errno);
	return 0;
}

int pq_sock_set_sndbuf(int fd, size_t bytes)
{
	int v = bytes > (size_t)(1 << 30) ? 1 << 30 : (int)bytes;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0)
		return pq_sock_errno(errno);
	return 0;
}

int pq_sock_set_window_clamp(int fd, uint32_t bytes)
{
	int v = bytes > (uint32_t)(1 << 30) ? 1 << 30 : (int)bytes;

	if (setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, sizeof(v)) < 0)
		return pq_sock_errno(errno);
	return 0;
}

int pq_sock_window_clamp(int fd, uint32_t *out)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, &len) < 0)
		return pq_sock_errno(errno);
	*out = v > 0 ? (uint32_t)v : 0;
	return 0;
}

int pq_sock_set_notsent_lowat(int fd, size_t bytes)
{
	int v = bytes > (size_t)(1 << 30) ? 1 << 30 : (int)bytes;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v)) < 0)
		return pq_sock_errno(errno);
	return 0;
}

/* ---- address classes ---- */

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool pq_sockaddr_same_source(const struct pq_sockaddr *a, const struct pq_sockaddr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)&b->ss)->sin_addr.s_addr;
	if (a->ss.ss_family == AF_INET6) {
		const uint8_t *x = ((const struct sockaddr_in6 *)&a->ss)->sin6_addr.s6_addr;
		const uint8_t *y = ((const struct sockaddr_in6 *)&b->ss)->sin6_addr.s6_addr;
		bool mapped = memcmp(x, v4_mapped, 12) == 0;

		if (mapped != (memcmp(y, v4_mapped, 12) == 0))
			return false;
		return memcmp(x, y, mapped ? 16 : 8) == 0;
	}
	return false;
}

/* RFC 6890 special-purpose IPv4 blocks we never dial for a peer. a is in
 * network order, as on the wire. */
static bool v4_candidate_ok(const uint8_t a[4])
{
	if (a[0] == 0 || a[0] == 127)            /* "this network" (RFC 791), loopback */
		return false;
	if (a[0] == 169 && a[1] == 254)          /* link-local (RFC 3927): metadata services */
		return false;
	if (a[0] >= 224)                         /* multicast 224/4, reserved 240/4, broadcast */
		return false;
	return true;
}

static bool v6_candidate_ok(const uint8_t a[16])
{
	static const uint8_t zero[16];

	if (memcmp(a, v4_mapped, 12) == 0)
		return v4_candidate_ok(a + 12);
	if (memcmp(a, zero, 12) == 0)            /* ::, ::1, deprecated v4-compatible (RFC 4291 §2.5.5.1) */
		return false;
	if (a[0] == 0xff)                        /* multicast ff00::/8 */
		return false;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* link-local fe80::/10 */
		return false;
	return true;
}

bool pq_sockaddr_candidate_ok(const struct pq_sockaddr *a)
{
	if (pq_sockaddr_port(a) == 0)
		return false;
	if (a->ss.ss_family == AF_INET)
		return v4_candidate_ok((const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr);
	if (a->ss.ss_family == AF_INET6)
		return v6_candidate_ok(((const struct sockaddr_in6 *)&a->ss)->sin6_addr.s6_addr);
	return false;
}
