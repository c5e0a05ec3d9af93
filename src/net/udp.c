/*
 * udp.c - non-blocking UDP sockets (net/udp.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/udp.h"

/* DF on every datagram, and no cached PMTU that would make the kernel
 * refuse sizes the path actually carries (ip(7) IP_PMTUDISC_PROBE). */
static void set_no_fragment(int fd, int family)
{
	int probe = IP_PMTUDISC_PROBE;

	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe, sizeof(probe));
	else
		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe));
}

/* Bulk TCP over the tunnel arrives in bursts of datagrams (a super-frame
 * is cut into ~45): the default 208 KiB socket buffers overflow at a few
 * hundred Mbit/s and every overflow is a TCP loss inside. Ask for more;
 * as root the FORCE variants pass the sysctl limits. Best effort. */
static void set_buffers(int fd)
{
	int size = PQ_UDP_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int pq_udp_open(int *fd_out, const struct pq_sockaddr *addr)
{
	int family = addr->ss.ss_family;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return pq_sock_errno(errno);
	set_no_fragment(fd, family);
	set_buffers(fd);
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
		err = pq_sock_errno(errno);
		close(fd);
		return err == PQ_E_AGAIN ? PQ_E_IO : err;
	}
	*fd_out = fd;
	return 0;
}

void pq_udp_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int pq_udp_send(int fd, const struct pq_sockaddr *to, const uint8_t *buf, size_t len)
{
	ssize_t n;

	do {
		n = sendto(fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&to->ss, to->len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EMSGSIZE ? PQ_E_TOOBIG : pq_sock_errno(errno) == PQ_E_AGAIN ? PQ_E_AGAIN : PQ_E_IO;
	return (size_t)n == len ? 0 : PQ_E_IO;
}

long pq_udp_recv(int fd, struct pq_sockaddr *from, uint8_t *buf, size_t cap)
{
	ssize_t n;

	for (;;) {
		memset(from, 0, sizeof(*from));
		from->len = sizeof(from->ss);
		n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from->ss, &from->len);
		if (n >= 0)
			return (size_t)n > cap ? PQ_E_TOOBIG : (long)n;
		if (errno == EINTR)
			continue;
		/* An ICMP error for an earlier send (ECONNREFUSED, ...) is
		 * reported on the next receive: not this datagram's problem. */
		if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
			continue;
		return pq_sock_errno(errno) == PQ_E_AGAIN ? PQ_E_AGAIN : PQ_E_IO;
	}
}

int pq_sockaddr_equal(const struct pq_sockaddr *a, const struct pq_sockaddr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return 0;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;

		return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return 0;
}
