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

#include <stddef.h>
#include <stdint.h>

#include "net/sock.h"

/* Socket buffer size asked for, each way (the kernel doubles it). */
#define PQ_UDP_SOCKBUF (4 * 1024 * 1024)
#include "util/err.h"

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

/* Two addresses are the same family, address and port. */
int pq_sockaddr_equal(const struct pq_sockaddr *a, const struct pq_sockaddr *b);

#endif
