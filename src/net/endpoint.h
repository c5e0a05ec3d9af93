/*
 * endpoint.h - the converters between the wire's address form, struct
 * pq_endpoint (proto/msg_sealed.h: family 4 with a v4-mapped address, or
 * family 6), and socket addresses, at the net/ boundary: what a UDP
 * socket reports as a datagram's source becomes a STUN answer's
 * XOR-MAPPED-ADDRESS or an ENDPOINTS candidate, and a candidate becomes
 * an address to send to. Pure functions, no allocation.
 */
#ifndef PQ_NET_ENDPOINT_H
#define PQ_NET_ENDPOINT_H

#include <stdbool.h>

#include "net/sock.h"
#include "proto/msg_sealed.h"
#include "util/err.h"

/* AF_INET -> family 4; AF_INET6 -> family 6, or family 4 when v4-mapped
 * (a v4 sender on a dual-stack socket: one form per address).
 * PQ_E_INVAL for any other family. The endpoint is not checked further
 * (port 0 or the unspecified address pass through). */
PQ_MUST_CHECK int pq_sockaddr_to_endpoint(struct pq_endpoint *ep, const struct pq_sockaddr *sa);

/* The address to use on a socket of family sock_family (AF_INET or
 * AF_INET6): a family-4 endpoint on an AF_INET6 socket becomes v4-mapped.
 * PQ_E_INVAL for a family-6 endpoint on an AF_INET socket, an unknown
 * family, or a family-4 endpoint whose address is not v4-mapped. */
PQ_MUST_CHECK int pq_sockaddr_from_endpoint(struct pq_sockaddr *sa, const struct pq_endpoint *ep,
					    int sock_family);

/* The endpoint as an address of its own family (v4 as AF_INET, v6 as
 * AF_INET6), for sockets of either kind; false if it has none. */
bool pq_endpoint_to_sockaddr(const struct pq_endpoint *ep, struct pq_sockaddr *out);

#endif
