/*
 * udp.h - one non-blocking UDP socket (the node's direct path over UDP,
 * the relay's STUN responder). errno is turned into PQ_E_* here
 * (pq_sock_errno). The caller owns the fd (pq_udp_close) and watches it
 * on its loop.
 *
 * Datagrams are never fragmented by us: the socket is opened with the
 * "don't fragment" bit (IP_PMTUDISC_PROBE: DF set, no local PMTU cache),
 * so a datagram larger than the route's MTU fails with PQ_E_TOOBIG
 * instead of leaving in pieces (DESIGN §2: datagrams never exceed the
 * path MTU; the sender chooses sizes that fit).
 */
#ifndef PQ_NET_UDP_H
#define PQ_NET_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/sock.h"

#include "util/err.h"

/* Socket buffer size asked for, each way (the kernel doubles it). */
#define PQ_UDP_SOCKBUF (4 * 1024 * 1024)
/* Datagrams one pq_udp_send_batch call hands the kernel at most (UDP
 * GSO's limit), and the most bytes of one GSO send (an IPv4 UDP payload). */
#define PQ_UDP_GSO_MAX_SEGS 64
#define PQ_UDP_GSO_MAX_BYTES 65507

/* A UDP socket bound to addr (port 0: the kernel picks one). PQ_E_PERM
 * (port in use or privileged), PQ_E_LIMIT (out of fds), PQ_E_INVAL,
 * PQ_E_IO. */
PQ_MUST_CHECK int pq_udp_open(int *fd_out, const struct pq_sockaddr *addr);
void pq_udp_close(int fd);

/* Send one datagram. 0, PQ_E_AGAIN (socket buffer full: dropped),
 * PQ_E_TOOBIG (larger than the path allows), PQ_E_IO (unreachable, ...). */
PQ_MUST_CHECK int pq_udp_send(int fd, const struct pq_sockaddr *to, const uint8_t *buf, size_t len);

/* Receive one datagram into buf (cap bytes): its length, PQ_E_AGAIN when
 * none is waiting, PQ_E_TOOBIG when it was longer than cap (dropped), or
 * PQ_E_IO. *from is the sender. */
PQ_MUST_CHECK long pq_udp_recv(int fd, struct pq_sockaddr *from, uint8_t *buf, size_t cap);

/* Send the datagrams laid back to back in buf (len bytes): all seg bytes
 * long but the last, which may be shorter. As few system calls as the
 * kernel allows: UDP GSO (one sendmsg with UDP_SEGMENT per
 * PQ_UDP_GSO_MAX_SEGS datagrams), else one sendmmsg. 0, or the first
 * error (PQ_E_AGAIN: the socket buffer was full, the rest dropped;
 * PQ_E_TOOBIG; PQ_E_IO). */
PQ_MUST_CHECK int pq_udp_send_batch(int fd, const struct pq_sockaddr *to, const uint8_t *buf, size_t len,
				    size_t seg);

/* One received message: len bytes from `from`; with UDP GRO it may hold
 * several datagrams of gro bytes each (the last shorter), 0: one. */
struct pq_udp_msg {
	uint8_t *buf;
	size_t cap;
	size_t len;
	size_t gro;
	struct pq_sockaddr from;
};

/* Ask the kernel to coalesce received datagrams (UDP_GRO); best effort:
 * false when it cannot (then every message is one datagram). */
bool pq_udp_enable_gro(int fd);

/* Receive up to n messages in one system call (recvmmsg) into m[i].buf
 * (m[i].cap bytes each). The number received (> 0), PQ_E_AGAIN when none
 * is waiting, PQ_E_IO. A truncated message (larger than cap) has len 0. */
PQ_MUST_CHECK long pq_udp_recv_batch(int fd, struct pq_udp_msg *m, unsigned n);

/* Two addresses are the same family, address and port. */
int pq_sockaddr_equal(const struct pq_sockaddr *a, const struct pq_sockaddr *b);

#endif
