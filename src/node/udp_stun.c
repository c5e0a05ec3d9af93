/*
 * udp_stun.c - the node's STUN client (RFC 8489 Binding, proto/stun.h):
 * from its UDP socket it asks the relay's STUN responder (port P and
 * P+1) and any `stun =` servers of node.conf where the world sees that
 * socket. The first answer's mapping is our reflexive UDP candidate (sent
 * to peers in ENDPOINTS: behind a NAT it is the one a peer can reach);
 * the two answers of the relay's ports tell the NAT's mapping behaviour
 * (proto/stun.h: endpoint-independent mappings can be punched, dependent
 * ones cannot). Asked again every STUN_REFRESH_MS, when the relay
 * comes back (our addresses may have changed), and when a UDP path died
 * (our NAT may have moved our mapping: a rebinding).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "crypto/util.h"
#include "net/udp.h"
#include "node/node_int.h"
#include "util/log.h"

#define STUN_REFRESH_MS 30000u
#define STUN_RTO_MS 250u
#define STUN_SENDS 5

static void stun_timer_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms);

static void arm(struct pq_node *node, uint64_t at, uint64_t now_ms)
{
	node->udp.stun_timer.fn = stun_timer_fired;
	node->udp.stun_timer.arg = node;
	if (!node->life.stopping &&
	    pq_loop_timer_start(node->loop, &node->udp.stun_timer, at > now_ms ? at - now_ms : 0))
		pq_log(PQ_LOG_ERROR, "udp: cannot arm the STUN timer");
}

/* A new round: its answers alone say what our mapping and NAT are now
 * (an answer of the last round beside one of this round would read as a
 * mapping per destination). */
static void start_all(struct pq_node *node, uint64_t now_ms)
{
	struct pq_udp_path *u = &node->udp;

	memset(u->mapped, 0, sizeof(u->mapped));
	for (size_t i = 0; i < u->stun_count; i++) {
		uint8_t txid[PQ_STUN_TXID_LEN];

		if (pq_random_bytes(txid, sizeof(txid)))
			continue;
		pq_stun_txn_start(&u->stun_txn[i], txid, now_ms, STUN_RTO_MS, STUN_SENDS);
	}
}

/* Send what is due; the next time anything is. */
static uint64_t poll_all(struct pq_node *node, uint64_t now_ms)
{
	struct pq_udp_path *u = &node->udp;
	uint64_t due = now_ms + STUN_REFRESH_MS;

	for (size_t i = 0; i < u->stun_count; i++) {
		uint8_t req[PQ_STUN_MAX_LEN];
		uint64_t next = UINT64_MAX;
		long n;

		switch (pq_stun_txn_poll(&u->stun_txn[i], now_ms, &next)) {
		case PQ_STUN_TXN_SEND:
			n = pq_stun_txn_request(&u->stun_txn[i], req, sizeof(req));
			if (n > 0 && pq_udp_path_send(node, &u->stun_server[i], req, (size_t)n) == 0)
				u->stun_sent++;
			break;
		case PQ_STUN_TXN_TIMEOUT:
			pq_log(PQ_LOG_DEBUG, "udp: a STUN server did not answer");
			break;
		default:
			break;
		}
		if (next < due)
			due = next;
	}
	return due;
}

static bool all_done(const struct pq_node *node)
{
	for (size_t i = 0; i < node->udp.stun_count; i++)
		if (!node->udp.stun_txn[i].done)
			return false;
	return true;
}

/* While a round is under way the timer is its retransmissions; once every
 * transaction is done (pq_udp_path_stun_in, or poll_all's timeouts) it is
 * re-armed STUN_REFRESH_MS later, and then it starts the next round. */
static void stun_timer_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_node *node = arg;

	if (all_done(node))
		start_all(node, now_ms);
	arm(node, poll_all(node, now_ms), now_ms);
}

void pq_udp_path_relay_up(struct pq_node *node, const struct pq_sockaddr *relay_addr)
{
	struct pq_udp_path *u = &node->udp;
	const struct pq_node_config *cfg = &node->cfg;
	const struct pq_config_relay *rc = pq_relay_link_current(node); /* issue 10: several */
	uint64_t now_ms = pq_loop_now(node->loop);
	struct pq_sockaddr relay_stun;
	unsigned port;

	if (u->fd < 0)
		return;
	u->stun_count = 0;
	if (!rc->stun_off) {
		if (rc->has_stun) {
			memcpy(&relay_stun.ss, &rc->stun.ss, sizeof(relay_stun.ss));
			relay_stun.len = rc->stun.len;
		} else {
			relay_stun = *relay_addr;
			pq_sockaddr_set_port(&relay_stun, PQ_CONFIG_STUN_PORT);
		}
		port = pq_sockaddr_port(&relay_stun);
		u->stun_server[u->stun_count++] = relay_stun;
		if (port < 65535) {
			/* The relay answers on P + 1 too: a second destination. */
			u->stun_server[u->stun_count] = relay_stun;
			pq_sockaddr_set_port(&u->stun_server[u->stun_count++], port + 1);
		}
	}
	for (size_t i = 0; i < cfg->stun_count && u->stun_count < PQ_NODE_STUN_SERVERS; i++) {
		memcpy(&u->stun_server[u->stun_count].ss, &cfg->stun[i].ss, sizeof(cfg->stun[i].ss));
		u->stun_server[u->stun_count++].len = cfg->stun[i].len;
	}
	if (!u->stun_count)
		return;
	start_all(node, now_ms);
	arm(node, poll_all(node, now_ms), now_ms);
}

void pq_udp_path_stun_refresh(struct pq_node *node, uint64_t now_ms)
{
	if (node->udp.fd < 0 || !node->udp.stun_count || !all_done(node) || node->life.stopping)
		return; /* no STUN, or a round is under way */
	pq_log(PQ_LOG_DEBUG, "udp: a UDP path died: asking the STUN servers again");
	start_all(node, now_ms);
	arm(node, poll_all(node, now_ms), now_ms);
}

/* The mapping is one of our own addresses with our port: no NAT. */
static bool is_ours(const struct pq_node *node, const struct pq_endpoint *m)
{
	struct ifaddrs *ifa = NULL;
	struct pq_sockaddr sa;
	bool found = false;

	if (m->port != node->udp.port || !pq_endpoint_to_sockaddr(m, &sa) || getifaddrs(&ifa))
		return false;
	for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != sa.ss.ss_family)
			continue;
		if (sa.ss.ss_family == AF_INET)
			found = !memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr,
					&((struct sockaddr_in *)&sa.ss)->sin_addr, 4);
		else
			found = !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
					&((struct sockaddr_in6 *)&sa.ss)->sin6_addr, 16);
	}
	freeifaddrs(ifa);
	return found;
}

/* A new answer: our reflexive candidate and the NAT's behaviour. */
static void learned(struct pq_node *node, uint64_t now_ms)
{
	struct pq_udp_path *u = &node->udp;
	struct pq_endpoint first = u->mapped[0];
	char text[PQ_SOCKADDR_TEXT] = "?";
	struct pq_sockaddr sa;

	if (!first.family)
		for (size_t i = 1; i < u->stun_count && !first.family; i++)
			first = u->mapped[i];
	if (u->stun_count >= 2 && u->mapped[0].family && u->mapped[1].family)
		u->nat = pq_stun_nat_mapping(is_ours(node, &u->mapped[0]) ? &u->mapped[0] : NULL, &u->mapped[0],
					     &u->mapped[1]);
	first.transport = PQ_EP_UDP;
	if (!first.family || !memcmp(&first, &u->reflexive, sizeof(first)))
		return;
	u->reflexive = first;
	if (pq_endpoint_to_sockaddr(&first, &sa))
		pq_sockaddr_format(&sa, text, sizeof(text));
	pq_log(PQ_LOG_INFO, "udp: the world sees our UDP socket at %s (NAT: %s)", text,
	       pq_nat_mapping_name(u->nat));
	/* Our candidates changed: every peer hears them again. */
	for (size_t i = 0; i < node->peer_count; i++)
		pq_path_exec_simple(&node->peers[i], PQ_PATH_EV_OURS_CHANGED, 0, now_ms);
}

void pq_udp_path_stun_in(struct pq_node *node, const struct pq_sockaddr *from, const uint8_t *msg, size_t len,
			 uint64_t now_ms)
{
	struct pq_udp_path *u = &node->udp;
	bool taken = false;

	for (size_t i = 0; i < u->stun_count && !taken; i++) {
		struct pq_endpoint m;
		int ret;

		if (!pq_sockaddr_equal(from, &u->stun_server[i]))
			continue;
		ret = pq_stun_txn_input(&u->stun_txn[i], msg, len, &m);
		/* An error answer ends its transaction too (PQ_E_PEER). */
		taken = ret == 0 || ret == PQ_E_PEER;
		if (ret == 0) {
			u->stun_answers++;
			u->mapped[i] = m;
			learned(node, now_ms);
		}
	}
	if (!taken) {
		u->drops++;
		return;
	}
	/* The round's last answer: the next round in STUN_REFRESH_MS, not at
	 * the retransmission the timer still holds. */
	if (all_done(node))
		arm(node, now_ms + STUN_REFRESH_MS, now_ms);
}
