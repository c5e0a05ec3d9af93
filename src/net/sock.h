/*
 * sock.h - non-blocking TCP sockets and socket addresses; errno is turned
 * into PQ_E_* here. Every fd returned is non-blocking and close-on-exec;
 * the caller owns it and closes it.
 */
#ifndef PQ_NET_SOCK_H
#define PQ_NET_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/err.h"

/* A socket address of any family with its length. */
struct pq_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* IPv4 or IPv6 literal + port into *out. PQ_E_INVAL if ip is not one. */
PQ_MUST_CHECK int pq_sockaddr_from_ip(struct pq_sockaddr *out, const char *ip, unsigned port);
#define PQ_SOCKADDR_TEXT 64 /* room for any pq_sockaddr_format() output */

/* "1.2.3.4:5" / "[::1]:5" into out (cap PQ_SOCKADDR_TEXT is enough). */
void pq_sockaddr_format(const struct pq_sockaddr *a, char *out, size_t cap);
/* The port of an IPv4/IPv6 address (host order), 0 for other families. */
unsigned pq_sockaddr_port(const struct pq_sockaddr *a);
/* Set it (IPv4/IPv6; nothing for other families). */
void pq_sockaddr_set_port(struct pq_sockaddr *a, unsigned port);

/* Same source for per-source caps: the same IPv4 address, or the same
 * IPv6 /64 (one host's usual allocation). A v4 client of a dual-stack
 * listener arrives v4-mapped: its whole address counts. Ports are
 * ignored. false for other families. */
bool pq_sockaddr_same_source(const struct pq_sockaddr *a, const struct pq_sockaddr *b);

/* Whether a peer-supplied address may be dialled as a direct-path
 * candidate: an IPv4 or IPv6 unicast address with a port, not loopback
 * (127/8, ::1), link-local (169.254/16, fe80::/10), multicast (224/4,
 * ff00::/8), broadcast (255.255.255.255), unspecified (0/8, ::), nor a
 * v4-mapped or v4-compatible form of those. Private ranges (10/8,
 * 192.168/16, fc00::/7, ...) are allowed: they are how LANs work. A
 * peer that could make us dial our own loopback or a cloud metadata
 * service (169.254.169.254) would turn us into its probe. */
bool pq_sockaddr_candidate_ok(const struct pq_sockaddr *a);

/* The one errno -> PQ_E_* map of src/net/ (EAGAIN: PQ_E_AGAIN, EMFILE:
 * PQ_E_LIMIT, EACCES/EADDRINUSE: PQ_E_PERM, ...). */
int pq_sock_errno(int e);

/* A listening TCP socket bound to addr (SO_REUSEADDR; port 0 picks one).
 * PQ_E_INVAL, PQ_E_INUSE (another socket has it), PQ_E_PERM, PQ_E_LIMIT
 * (out of fds), PQ_E_IO. */
PQ_MUST_CHECK int pq_sock_listen(int *fd_out, const struct pq_sockaddr *addr, int backlog);
/* Start a TCP connect. Returns 0 with *fd_out set; the connection may
 * still be in progress: wait for writability, then pq_sock_connect_result. */
PQ_MUST_CHECK int pq_sock_connect(int *fd_out, const struct pq_sockaddr *addr);
/* 0 connected, PQ_E_AGAIN still in progress, PQ_E_REFUSED (nothing
 * listens), PQ_E_UNREACH (no route), PQ_E_TIMEOUT, PQ_E_IO (other). */
PQ_MUST_CHECK int pq_sock_connect_result(int fd);
/* Accept one pending connection (TCP_NODELAY set). PQ_E_AGAIN if none,
 * PQ_E_LIMIT out of fds, PQ_E_IO. peer may be NULL. */
PQ_MUST_CHECK int pq_sock_accept(int lfd, int *fd_out, struct pq_sockaddr *peer);
/* The local address of fd (e.g. the port a listener got). */
PQ_MUST_CHECK int pq_sock_local(int fd, struct pq_sockaddr *out);
/* TCP_USER_TIMEOUT (RFC 5482): data unacknowledged this long ends the
 * connection (ETIMEDOUT) instead of retransmitting for ~15 minutes. */
PQ_MUST_CHECK int pq_sock_set_user_timeout(int fd, unsigned ms);
/* SO_SNDBUF: the kernel's send buffer (it doubles the value). Bounds the
 * kernel memory a peer that does not read can pin; also turns off the
 * kernel's send-buffer autotuning for fd. */
PQ_MUST_CHECK int pq_sock_set_sndbuf(int fd, size_t bytes);
/* TCP_NOTSENT_LOWAT: the socket counts as writable, and takes more,
 * only while fewer than `bytes` of it are not yet sent, so the data
 * waiting in the kernel stays small and the sender's own queue (where it
 * can choose) holds the rest. 0: the system's default (tcp_notsent_lowat,
 * normally no limit). */
PQ_MUST_CHECK int pq_sock_set_notsent_lowat(int fd, size_t bytes);
/* TCP_WINDOW_CLAMP: the largest receive window advertised to the peer
 * (the kernel raises it as its autotuning grows the buffer, and keeps
 * at least about 2 KiB); pq_sock_window_clamp reads it. Not must-check:
 * a failed clamp leaves the kernel's window, which is always safe. */
int pq_sock_set_window_clamp(int fd, uint32_t bytes);
#define PQ_SOCK_NO_CLAMP (1u << 30) /* as good as none: the buffer bounds the window */
PQ_MUST_CHECK int pq_sock_window_clamp(int fd, uint32_t *out);

/* TCP_INFO's view of the path: srtt and min_rtt of what this socket
 * sent, µs (0: unknown); the segment size received (before any, the one
 * we advertised; 0: unknown); bytes of ours the peer acknowledged, ever;
 * bytes the socket holds not yet sent, and µs it had data to send or in
 * flight, ever (tcpi_busy_time) (both 0 on kernels without them). */
struct pq_sock_path {
	uint32_t srtt_us, min_rtt_us, mss, notsent;
	uint64_t acked, busy_us;
};
PQ_MUST_CHECK int pq_sock_tcp_path(int fd, struct pq_sock_path *out);

#endif
