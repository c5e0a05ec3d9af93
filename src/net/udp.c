/*
 * udp.c - non-blocking UDP sockets (net/udp.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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

static int send_gso(int fd, const struct pq_sockaddr *to, const uint8_t *buf, size_t len, size_t seg)
{
	char ctl[CMSG_SPACE(sizeof(uint16_t))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = (void *)&to->ss, .msg_namelen = to->len, .msg_iov = &iov, .msg_iovlen = 1,
	};
	struct cmsghdr *cm;
	uint16_t size = (uint16_t)seg;
	ssize_t n;

	if (len > seg) {
		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(size));
		memcpy(CMSG_DATA(cm), &size, sizeof(size));
	}
	do {
		n = sendmsg(fd, &mh, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return 0;
	if (errno == EMSGSIZE)
		return PQ_E_TOOBIG;
	/* EIO / EINVAL: no GSO for this route or device (checksum offload
	 * missing): the caller falls back. */
	return errno == EIO || errno == EINVAL || errno == EOPNOTSUPP ? PQ_E_INVAL
	       : pq_sock_errno(errno) == PQ_E_AGAIN ? PQ_E_AGAIN : PQ_E_IO;
}

static int send_mmsg(int fd, const struct pq_sockaddr *to, const uint8_t *buf, size_t len, size_t seg)
{
	struct mmsghdr mm[PQ_UDP_GSO_MAX_SEGS];
	struct iovec iov[PQ_UDP_GSO_MAX_SEGS];
	unsigned n = 0, done = 0;

	for (size_t off = 0; off < len && n < PQ_UDP_GSO_MAX_SEGS; off += seg, n++) {
		iov[n].iov_base = (void *)(buf + off);
		iov[n].iov_len = len - off < seg ? len - off : seg;
		memset(&mm[n], 0, sizeof(mm[n]));
		mm[n].msg_hdr.msg_name = (void *)&to->ss;
		mm[n].msg_hdr.msg_namelen = to->len;
		mm[n].msg_hdr.msg_iov = &iov[n];
		mm[n].msg_hdr.msg_iovlen = 1;
	}
	while (done < n) {
		int r = sendmmsg(fd, mm + done, n - done, MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return errno == EMSGSIZE ? PQ_E_TOOBIG : pq_sock_errno(errno) == PQ_E_AGAIN ? PQ_E_AGAIN : PQ_E_IO;
		done += (unsigned)r;
	}
	return 0;
}

int pq_udp_send_batch(int fd, const struct pq_sockaddr *to, const uint8_t *buf, size_t len, size_t seg)
{
	static int gso_works = 1; /* one kernel for the process: learnt once */
	size_t per_call, off = 0;
	int ret = 0;

	if (!seg || !len)
		return PQ_E_INVAL;
	per_call = PQ_UDP_GSO_MAX_BYTES / seg;
	if (per_call > PQ_UDP_GSO_MAX_SEGS)
		per_call = PQ_UDP_GSO_MAX_SEGS;
	if (per_call == 0)
		return PQ_E_TOOBIG;
	per_call *= seg;
	while (off < len && ret == 0) {
		size_t chunk = len - off < per_call ? len - off : per_call;

		ret = gso_works ? send_gso(fd, to, buf + off, chunk, seg) : PQ_E_INVAL;
		if (ret == PQ_E_INVAL) {
			gso_works = 0;
			ret = send_mmsg(fd, to, buf + off, chunk, seg);
		}
		off += chunk;
	}
	return ret;
}

bool pq_udp_enable_gro(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
}

long pq_udp_recv_batch(int fd, struct pq_udp_msg *m, unsigned n)
{
	enum { MAX = 64 };
	struct mmsghdr mm[MAX];
	struct iovec iov[MAX];
	char ctl[MAX][CMSG_SPACE(sizeof(int))];
	int r;

	if (n > MAX)
		n = MAX;
	for (unsigned i = 0; i < n; i++) {
		memset(&mm[i], 0, sizeof(mm[i]));
		memset(&m[i].from, 0, sizeof(m[i].from));
		iov[i].iov_base = m[i].buf;
		iov[i].iov_len = m[i].cap;
		mm[i].msg_hdr.msg_name = &m[i].from.ss;
		mm[i].msg_hdr.msg_namelen = sizeof(m[i].from.ss);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = ctl[i];
		mm[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
	}
	do {
		r = recvmmsg(fd, mm, n, MSG_DONTWAIT, NULL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return pq_sock_errno(errno) == PQ_E_AGAIN ? PQ_E_AGAIN : PQ_E_IO;
	for (int i = 0; i < r; i++) {
		struct cmsghdr *cm;

		m[i].from.len = mm[i].msg_hdr.msg_namelen;
		m[i].len = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : mm[i].msg_len;
		m[i].gro = 0;
		for (cm = CMSG_FIRSTHDR(&mm[i].msg_hdr); cm; cm = CMSG_NXTHDR(&mm[i].msg_hdr, cm))
			if (cm->cmsg_level == IPPROTO_UDP && cm->cmsg_type == UDP_GRO) {
				int size = 0;

				memcpy(&size, CMSG_DATA(cm), sizeof(size));
				m[i].gro = size > 0 ? (size_t)size : 0;
			}
	}
	return r ? r : PQ_E_AGAIN;
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
