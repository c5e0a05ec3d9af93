/*
 * endpoint.c - struct pq_endpoint <-> socket addresses (net/endpoint.h).
 */
#include <netinet/in.h>
#include <string.h>

#include "net/endpoint.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int pq_sockaddr_to_endpoint(struct pq_endpoint *ep, const struct pq_sockaddr *sa)
{
	memset(ep, 0, sizeof(*ep));
	if (sa->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&sa->ss;

		pq_endpoint_set_v4(ep, (const uint8_t *)&in->sin_addr, ntohs(in->sin_port));
		return 0;
	}
	if (sa->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa->ss;

		memcpy(ep->addr, &in6->sin6_addr, 16);
		ep->family = memcmp(ep->addr, v4_mapped_prefix, 12) ? PQ_EP_FAMILY_V6 : PQ_EP_FAMILY_V4;
		ep->port = ntohs(in6->sin6_port);
		return 0;
	}
	return PQ_E_INVAL;
}

int pq_sockaddr_from_endpoint(struct pq_sockaddr *sa, const struct pq_endpoint *ep, int sock_family)
{
	bool mapped = memcmp(ep->addr, v4_mapped_prefix, 12) == 0;

	memset(sa, 0, sizeof(*sa));
	if (ep->family == PQ_EP_FAMILY_V4 && !mapped)
		return PQ_E_INVAL;
	if (ep->family != PQ_EP_FAMILY_V4 && ep->family != PQ_EP_FAMILY_V6)
		return PQ_E_INVAL;
	if (sock_family == AF_INET && ep->family == PQ_EP_FAMILY_V4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa->ss;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, ep->addr + 12, 4);
		in->sin_port = htons(ep->port);
		sa->len = sizeof(*in);
		return 0;
	}
	if (sock_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa->ss;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, ep->addr, 16);
		in6->sin6_port = htons(ep->port);
		sa->len = sizeof(*in6);
		return 0;
	}
	return PQ_E_INVAL;
}

bool pq_endpoint_to_sockaddr(const struct pq_endpoint *ep, struct pq_sockaddr *out)
{
	int family = ep->family == PQ_EP_FAMILY_V4 ? AF_INET : AF_INET6;

	return pq_sockaddr_from_endpoint(out, ep, family) == 0;
}
