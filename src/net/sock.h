/*
 * sock.h - non-blocking TCP sockets and socket addresses; errno is turned
 * into PQ_E_* here. Every fd returned is non-blocking and close-on-exec;
 * the caller owns it and closes it.
 */
#ifndef PQ_NET_SOCK_H
#define PQ_NET_SOCK_H

#include <stddef.h>
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

#endif
