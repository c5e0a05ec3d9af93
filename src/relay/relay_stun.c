/*
 * relay_stun.c - the relay's STUN responder (DESIGN §2, RFC 8489 Binding;
 * the policy is proto/stun.h's pq_stun_respond): two UDP sockets on the
 * relay's loop, on the port P given to pq_stun_start and on P + 1, so a node can compare
 * the mapping its NAT gives it towards two destinations. Each Binding
 * request is answered with the datagram's source address from the socket
 * it came in on; anything else is dropped and counted. Owns the two fds;
 * writes only the stun_* counters of r->stats.
 */
#include <netinet/in.h>
#include <string.h>

#include "net/endpoint.h"
#include "net/udp.h"
#include "proto/stun.h"
#include "relay/relay_internal.h"
#include "util/log.h"

/* Datagrams handled per wake-up and socket: the loop is level-triggered,
 * so what is left waits for the next turn and TLS conns are not starved
 * by a flood. */
#define STUN_BUDGET 64

/* One datagram: answered (0) or not (< 0, the reason). */
static int stun_one(int fd, const uint8_t *in, size_t len, const struct pq_sockaddr *from)
{
	uint8_t out[PQ_STUN_MAX_LEN];
	struct pq_endpoint src;
	long n;

	if (pq_sockaddr_to_endpoint(&src, from))
		return PQ_E_INVAL;
	n = pq_stun_respond(in, len, &src, out, sizeof(out));
	if (n < 0)
		return (int)n;
	return pq_udp_send(fd, from, out, (size_t)n);
}

static void on_readable(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct pq_relay *r = arg;
	uint8_t in[PQ_STUN_MAX_LEN];
	struct pq_sockaddr from;
	char text[PQ_SOCKADDR_TEXT];

	for (int i = 0; i < STUN_BUDGET; i++) {
		long len = pq_udp_recv(fd, &from, in, sizeof(in));
		int rc;

		if (len == PQ_E_AGAIN)
			return;
		/* Longer than any STUN message we read (PQ_E_TOOBIG), or
		 * an error of the socket: dropped, and go on. */
		rc = len < 0 ? (int)len : stun_one(fd, in, (size_t)len, &from);
		if (rc == 0) {
			r->stats.stun_answered++;
			continue;
		}
		r->stats.stun_dropped++;
		if (len == PQ_E_IO)
			return;
		pq_sockaddr_format(&from, text, sizeof(text));
		pq_log(PQ_LOG_DEBUG, "relay: stun: dropped a datagram from %s: %s", text, pq_strerror(rc));
	}
}

/* addr with its port moved by delta (0 stays 0: the kernel picks). */
static void port_plus(struct pq_sockaddr *out, const struct pq_sockaddr *addr, unsigned delta)
{
	unsigned port = pq_sockaddr_port(addr);

	*out = *addr;
	if (!port)
		return;
	if (out->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)(port + delta));
	else
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)(port + delta));
}

static int stun_open(struct pq_relay *r, unsigned i, const struct pq_sockaddr *addr)
{
	struct relay_stun *s = &r->stun;
	int rc = pq_udp_open(&s->fd[i], addr);

	if (rc)
		return rc;
	s->open[i] = true;
	rc = pq_sock_local(s->fd[i], &s->addr[i]);
	if (!rc)
		rc = pq_loop_add(r->loop, s->fd[i], PQ_LOOP_READ, on_readable, r);
	if (rc)
		return rc;
	s->watched[i] = true;
	return 0;
}

int pq_relay_stun_start(struct pq_relay *r, const struct pq_sockaddr *addr)
{
	struct pq_sockaddr next;
	int rc;

	if (r->shutting_down || r->stun.open[0])
		return PQ_E_STATE;
	if ((addr->ss.ss_family != AF_INET && addr->ss.ss_family != AF_INET6) ||
	    pq_sockaddr_port(addr) > 65534)
		return PQ_E_INVAL;
	rc = stun_open(r, 0, addr);
	port_plus(&next, addr, 1);
	if (!rc)
		rc = stun_open(r, 1, &next);
	if (rc)
		relay_stun_stop(r);
	return rc;
}

void relay_stun_stop(struct pq_relay *r)
{
	struct relay_stun *s = &r->stun;

	for (unsigned i = 0; i < 2; i++) {
		if (s->watched[i] && pq_loop_del(r->loop, s->fd[i]))
			pq_log(PQ_LOG_DEBUG, "relay: stun socket was not watched");
		if (s->open[i])
			pq_udp_close(s->fd[i]);
		s->watched[i] = s->open[i] = false;
	}
}

const struct pq_sockaddr *pq_relay_stun_addr(const struct pq_relay *r, unsigned i)
{
	return i < 2 && r->stun.open[i] ? &r->stun.addr[i] : NULL;
}
