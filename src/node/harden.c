/*
 * harden.c - fd budget, direct listener admission, relay link liveness,
 * MAC pins and the privilege drop of `pqlan up` (harden.h).
 */
#include "node/harden.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "node/node_int.h"
#include "proto/msg_sealed.h"
#include "util/log.h"
#include "util/privdrop.h"

/* What the direct path may hold at once: every peer's conns, open or
 * opening, and the listener's pending ones. */
static size_t direct_fds(size_t peers, size_t pending)
{
	return peers * PQ_PATH_MAX_CONNS + pending;
}

static size_t pending_wanted(size_t peers)
{
	size_t n = 2 * peers + PQ_NODE_PENDING_MIN;

	return n > PQ_NODE_PENDING_MAX ? PQ_NODE_PENDING_MAX : n;
}

static size_t fds_wanted(size_t peers, size_t pending)
{
	return PQ_NODE_FD_RESERVE + PQ_CONTROL_MAX_CLIENTS + PQ_METRICS_MAX_CLIENTS +
	       direct_fds(peers, pending);
}

/* The pending cap the current limit allows: what the peers want, or what
 * is left once the reserve and every peer's conns are counted. */
static size_t pending_cap(size_t peers)
{
	size_t pending = pending_wanted(peers), fixed = fds_wanted(peers, 0), left;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= fds_wanted(peers, pending))
		return pending;
	left = rl.rlim_cur > fixed ? rl.rlim_cur - fixed : 0;
	return left < PQ_NODE_PENDING_PER_SOURCE ? PQ_NODE_PENDING_PER_SOURCE : left;
}

void pq_node_fd_budget(struct pq_node *node)
{
	size_t peers = node->peer_count, want = fds_wanted(peers, pending_wanted(peers));
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			pq_log(PQ_LOG_WARN, "could not raise the open-file limit");
	}
	if (pending_cap(peers) < pending_wanted(peers))
		pq_log(PQ_LOG_WARN, "the open-file limit is below the %zu fds this node wants; "
		       "direct listener limited to %zu pending conns", want, pending_cap(peers));
	pq_log(PQ_LOG_DEBUG, "fd budget: %zu peers, %zu pending direct conns (%d per source)",
	       peers, pending_cap(peers), PQ_NODE_PENDING_PER_SOURCE);
}

void pq_node_listen_opts(const struct pq_node *node, struct pq_conn_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_pending = pending_cap(node->peer_count);
	o->max_pending_per_source = PQ_NODE_PENDING_PER_SOURCE;
	o->user_timeout_ms = PQ_NODE_RELAY_USER_TIMEOUT_MS;
	o->size_from_path = true; /* direct TLS conns: net/conn.h "Latency" */
}

void pq_node_relay_conn_opts(struct pq_conn_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ping_interval_ms = PQ_NODE_RELAY_PING_MS;
	o->ping_timeout_ms = PQ_NODE_RELAY_PING_MS;
	o->user_timeout_ms = PQ_NODE_RELAY_USER_TIMEOUT_MS;
	o->size_from_path = true; /* net/conn.h "Latency" */
}

bool pq_node_endpoint_ok(const struct pq_endpoint *ep)
{
	struct pq_sockaddr a;

	memset(&a, 0, sizeof(a));
	if (ep->family == PQ_EP_FAMILY_V4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, ep->addr + 12, 4);
		in->sin_port = htons(ep->port);
		a.len = sizeof(*in);
	} else if (ep->family == PQ_EP_FAMILY_V6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.ss;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, ep->addr, 16);
		in6->sin6_port = htons(ep->port);
		a.len = sizeof(*in6);
	} else {
		return false;
	}
	return pq_sockaddr_candidate_ok(&a);
}

unsigned pq_node_endpoints_filter(struct pq_endpoints *e)
{
	unsigned kept = 0, refused;

	for (unsigned i = 0; i < e->count; i++)
		if (pq_node_endpoint_ok(&e->ep[i]))
			e->ep[kept++] = e->ep[i];
	refused = e->count - kept;
	e->count = (uint8_t)kept;
	return refused;
}

int pq_node_pin_macs(struct pq_node *node, char *err, size_t err_len)
{
	for (size_t i = 0; i < node->peer_count; i++) {
		const struct pq_config_peer *c = node->peers[i].cfg;
		int ret;

		if (!c->allowed_mac_count)
			continue;
		ret = pq_l2_pin(node->l2, node->peers[i].id, (const uint8_t(*)[PQ_L2_MAC_LEN])c->allowed_mac,
				c->allowed_mac_count);
		if (ret) {
			snprintf(err, err_len, "[peer] at line %u: allowed_mac: %s", c->line,
				 ret == PQ_E_INVAL ? "a MAC is already allowed for another peer, "
				 "expected each MAC pinned to one peer" : pq_strerror(ret));
			return ret == PQ_E_INVAL ? PQ_E_CONFIG : ret;
		}
		pq_log(PQ_LOG_INFO, "peer %s: may send from %zu MAC address(es) only (allowed_mac)",
		       pq_peer_label(&node->peers[i]), c->allowed_mac_count);
	}
	return 0;
}

int pq_node_drop_privileges(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_privdrop d = { .user = node->cfg.user, .seccomp = node->cfg.seccomp, .who = "node" };
	int ret;

	if ((ret = pq_privdrop(&d, err, err_len)))
		return ret;
	if (node->cfg.user[0])
		pq_log(PQ_LOG_INFO, "running as %s, no capabilities%s", node->cfg.user,
		       node->cfg.seccomp ? ", system calls limited (seccomp)" : "");
	else if (geteuid() == 0)
		pq_log(PQ_LOG_WARN, "running as root after set-up; set user = <account> in [node] "
		       "(docs/node.md, least privilege)");
	return 0;
}
