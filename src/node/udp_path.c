/*
 * udp_path.c - the direct path over UDP (DESIGN §2; docs/PROTOCOL.md
 * §5.6): the node's one UDP socket, the datagrams that arrive on it, UDP
 * attempts (hole punching) and our UDP candidates.
 *
 * One sealed message per datagram, with the session's keys, counters and
 * replay window (the same ones every path shares), so a datagram is
 * authenticated by its receiver index and tag whatever address it came
 * from: one from an address we did not validate is accepted as data but
 * never moves the path (a spoofed or replayed one fails the tag or the
 * replay window first). Re-handshake messages (0x30-0x32) travel one per
 * datagram too.
 *
 * An attempt (the path core's DIAL of transport UDP), initiator side: a
 * fresh 16-byte attempt id goes to the peer sealed (PUNCH, through the
 * relay or an active conn); both sides derive the channel binding from it
 * (pq_rehs_udp_binding); the initiator sends its REQUEST to every UDP
 * candidate of the peer, again every PQ_NODE_UDP_RESEND_MS. The responder,
 * on the PUNCH, sends sealed KEEPALIVEs to every UDP candidate of the
 * initiator at the same pace: each side's packets open its own NAT's
 * mapping and filter for the other, so a REQUEST gets through once both
 * have sent (simultaneous open). The responder answers the REQUEST where
 * it came from (a repeated REQUEST gets the same RESPONSE again), the
 * initiator's COMPLETE goes where the RESPONSE came from (three times),
 * and each side's conn is usable, at the address the proof came from,
 * once its run completed. A bad or forged datagram is ignored: it does
 * not end the attempt (a UDP port takes anyone's packets); the path
 * core's 5 s does.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"
#include "net/sock.h"
#include "net/udp.h"
#include "node/node_int.h"
#include "proto/dgram.h"
#include "proto/msg_rehs.h"
#include "util/clock.h"
#include "util/log.h"

static void udp_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms);
static void resend_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms);

int pq_udp_path_open(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_udp_path *u = &node->udp;
	struct pq_sockaddr a;
	char text[PQ_SOCKADDR_TEXT];
	int ret;

	u->fd = -1;
	pq_timer_init(&u->stun_timer, NULL, node);
	if (node->cfg.udp_off || !node->cfg.has_listen_udp) {
		pq_log(PQ_LOG_INFO, "direct: no UDP socket (listen_udp = off)");
		return 0;
	}
	memset(&a, 0, sizeof(a));
	memcpy(&a.ss, &node->cfg.listen_udp.ss, sizeof(a.ss));
	a.len = node->cfg.listen_udp.len;
	pq_sockaddr_format(&a, text, sizeof(text));
	if ((ret = pq_udp_open(&u->fd, &a))) {
		u->fd = -1;
		snprintf(err, err_len, "cannot bind UDP %s (listen_udp): %s", text,
			 ret == PQ_E_PERM ? "not allowed" : pq_strerror(ret));
		return ret;
	}
	if ((ret = pq_sock_local(u->fd, &u->local)) ||
	    (ret = pq_loop_add(node->loop, u->fd, PQ_LOOP_READ, udp_event, node))) {
		snprintf(err, err_len, "UDP socket %s: %s", text, pq_strerror(ret));
		return ret;
	}
	u->rx_mem = malloc((size_t)PQ_NODE_UDP_RX_MSGS * PQ_NODE_UDP_RX_BUF);
	if (!u->rx_mem || (ret = pq_datapath_batch_init(node))) {
		snprintf(err, err_len, "UDP socket %s: out of memory", text);
		return PQ_E_NOMEM;
	}
	for (unsigned i = 0; i < PQ_NODE_UDP_RX_MSGS; i++) {
		u->rx[i].buf = u->rx_mem + (size_t)i * PQ_NODE_UDP_RX_BUF;
		u->rx[i].cap = PQ_NODE_UDP_RX_BUF;
	}
	u->gro = pq_udp_enable_gro(u->fd);
	u->port = (uint16_t)pq_sockaddr_port(&u->local);
	pq_log(PQ_LOG_INFO, "direct: UDP on %s (port %u)", text, (unsigned)u->port);
	return 0;
}

void pq_udp_path_close(struct pq_node *node)
{
	struct pq_udp_path *u = &node->udp;

	if (node->loop)
		pq_loop_timer_cancel(node->loop, &u->stun_timer);
	if (u->fd < 0)
		return;
	if (node->loop && pq_loop_del(node->loop, u->fd))
		pq_log(PQ_LOG_DEBUG, "udp: socket was not watched");
	pq_udp_close(u->fd);
	u->fd = -1;
	free(u->rx_mem);
	u->rx_mem = NULL;
	pq_datapath_batch_free(node);
}

size_t pq_udp_path_ip_overhead(const struct pq_sockaddr *to)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&to->ss;

	/* 20 (IPv4) or 40 (IPv6) bytes of IP header, 8 of UDP. */
	if (to->ss.ss_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return 48;
	return 28;
}

size_t pq_udp_path_max_msg(const struct pq_dconn *dc)
{
	return dc->pmtu.current - pq_udp_path_ip_overhead(&dc->addr);
}

/* What no datagram of ours exceeds: the largest probe. */
static size_t max_datagram(const struct pq_sockaddr *to)
{
	return PQ_PMTU_MAX - pq_udp_path_ip_overhead(to);
}

int pq_udp_path_send(struct pq_node *node, const struct pq_sockaddr *to, const uint8_t *msg, size_t len)
{
	int ret;

	if (node->udp.fd < 0)
		return PQ_E_STATE;
	if (len > max_datagram(to))
		return PQ_E_TOOBIG;
	ret = pq_udp_send(node->udp.fd, to, msg, len);
	if (ret == PQ_E_TOOBIG)
		return ret;
	/* Datagrams get lost: one the kernel refused (no route, neighbour
	 * unreachable, buffer full) is one more, counted, not an error the
	 * caller acts on. It still counts as sent, so that liveness probes
	 * find a path that no longer answers (DESIGN §5). */
	if (ret)
		node->udp.send_errors++;
	return 0;
}

int pq_udp_path_send_batch(struct pq_node *node, const struct pq_sockaddr *to, const uint8_t *buf, size_t len,
			   size_t seg)
{
	int ret;

	if (node->udp.fd < 0)
		return PQ_E_STATE;
	if (seg > max_datagram(to))
		return PQ_E_TOOBIG;
	ret = pq_udp_send_batch(node->udp.fd, to, buf, len, seg);
	if (ret == PQ_E_TOOBIG)
		return ret;
	if (ret)
		node->udp.send_errors++; /* lost datagrams, as in pq_udp_path_send */
	return 0;
}

/* A datagram that may be lost like any other (punches, resends, answers
 * to a repeat): a failure is counted, the resend timer or the peer's
 * retransmission covers it. */
static void send_lossy(struct pq_node *node, const struct pq_sockaddr *to, const uint8_t *msg, size_t len)
{
	if (pq_udp_path_send(node, to, msg, len))
		node->udp.drops++; /* too large: cannot happen for what we resend */
}

/* ---- our candidates ---- */

static bool endpoint_of(struct pq_endpoint *ep, const struct sockaddr *sa, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->transport = PQ_EP_UDP;
	ep->port = port;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (in->sin_addr.s_addr == htonl(INADDR_ANY) || (ntohl(in->sin_addr.s_addr) >> 24) == 127)
			return false;
		pq_endpoint_set_v4(ep, (const uint8_t *)&in->sin_addr, port);
		ep->transport = PQ_EP_UDP;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		static const uint8_t zero[16];

		if (!memcmp(&in6->sin6_addr, zero, 16) || IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		    IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return false;
		ep->family = PQ_EP_FAMILY_V6;
		memcpy(ep->addr, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

static void add_endpoint(struct pq_endpoints *e, const struct pq_endpoint *ep)
{
	if (e->count >= PQ_ENDPOINTS_MAX)
		return;
	for (unsigned i = 0; i < e->count; i++)
		if (!memcmp(&e->ep[i], ep, sizeof(*ep)))
			return;
	e->ep[e->count++] = *ep;
}

void pq_udp_path_our_endpoints(const struct pq_node *node, struct pq_endpoints *e)
{
	const struct pq_udp_path *u = &node->udp;
	struct pq_endpoint ep;
	struct ifaddrs *ifa = NULL;

	if (u->fd < 0 || !u->port)
		return;
	/* Our mapping first: behind a NAT it is the one that works. */
	if (u->reflexive.family)
		add_endpoint(e, &u->reflexive);
	if (endpoint_of(&ep, (const struct sockaddr *)&u->local.ss, u->port)) {
		add_endpoint(e, &ep);
		return;
	}
	if (getifaddrs(&ifa))
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && (i->ifa_flags & IFF_UP) && !(i->ifa_flags & IFF_LOOPBACK) &&
		    strcmp(i->ifa_name, node->tap.name) != 0 && i->ifa_addr->sa_family == u->local.ss.ss_family &&
		    endpoint_of(&ep, i->ifa_addr, u->port))
			add_endpoint(e, &ep);
	freeifaddrs(ifa);
}

/* The peer's UDP candidates as socket addresses: from its ENDPOINTS, and
 * the last authenticated address we saw it use (peer-reflexive). */
static size_t peer_udp_cands(const struct pq_node_peer *p, struct pq_sockaddr *out, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < p->path.cands.count && n < cap; i++) {
		const struct pq_endpoint *ep = &p->path.cands.ep[i];

		if (ep->transport == PQ_EP_UDP && pq_endpoint_to_sockaddr(ep, &out[n]))
			n++;
	}
	if (p->path.has_udp_seen && n < cap) {
		for (size_t i = 0; i < n; i++)
			if (pq_sockaddr_equal(&out[i], &p->path.udp_seen))
				return n;
		out[n++] = p->path.udp_seen;
	}
	return n;
}

/* ---- attempts ---- */

static void arm_resend(struct pq_dconn *dc)
{
	struct pq_node *node = dc->peer ? dc->peer->node : NULL;

	if (!node || node->life.stopping)
		return;
	dc->resend.fn = resend_fired;
	dc->resend.arg = dc;
	if (pq_loop_timer_start(node->loop, &dc->resend, PQ_NODE_UDP_RESEND_MS))
		pq_log(PQ_LOG_ERROR, "udp: cannot arm a resend timer");
}

/* To every candidate while the attempt has no address, else to it. */
static void send_to_cands(struct pq_dconn *dc, const uint8_t *msg, size_t len)
{
	struct pq_node_peer *p = dc->peer;
	struct pq_sockaddr cands[PQ_PATH_MAX_CANDS + 1];
	size_t n;

	if (dc->has_addr) {
		send_lossy(p->node, &dc->addr, msg, len);
		return;
	}
	n = peer_udp_cands(p, cands, sizeof(cands) / sizeof(cands[0]));
	for (size_t i = 0; i < n; i++)
		send_lossy(p->node, &cands[i], msg, len);
}

void pq_udp_path_send_rehs(struct pq_dconn *dc, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	if (len > sizeof(dc->last_out))
		return;
	memcpy(dc->last_out, msg, len);
	dc->last_out_len = len;
	dc->resends = 0;
	send_to_cands(dc, msg, len);
	arm_resend(dc);
}

/* The responder's punches: sealed KEEPALIVEs to every candidate. */
static void punch(struct pq_dconn *dc, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;
	struct pq_sockaddr cands[PQ_PATH_MAX_CANDS + 1];
	long n = pq_session_seal(&p->session, PQ_MSG_KEEPALIVE, NULL, 0, p->node->send.sealed,
				 sizeof(p->node->send.sealed), now_ms);
	size_t k = peer_udp_cands(p, cands, sizeof(cands) / sizeof(cands[0]));

	for (size_t i = 0; n > 0 && i < k; i++)
		send_lossy(p->node, &cands[i], p->node->send.sealed, (size_t)n);
}

/* Until answered: the initiator's REQUEST (to every candidate), the
 * responder's punches; after a run, the COMPLETE twice more. The path
 * core's deadline ends an attempt that never completes. */
static void resend_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_dconn *dc = arg;
	bool live = dc->rehs_live && pq_rehs_state(&dc->rehs) != PQ_REHS_COMPLETED;

	if (!dc->peer)
		return;
	dc->resends++;
	if (dc->dialled && live && dc->last_out_len) {
		/* The run's time counts from the REQUEST that gets answered,
		 * not from the first one the NATs swallowed. */
		dc->rehs_start_us = pq_mono_us();
		send_to_cands(dc, dc->last_out, dc->last_out_len);
	} else if (!dc->dialled && !dc->rehs_live && !dc->has_addr) {
		punch(dc, now_ms);
	} else if (dc->dialled && !live && dc->has_addr && dc->last_out_len && dc->resends <= 2) {
		send_to_cands(dc, dc->last_out, dc->last_out_len); /* COMPLETE again */
	} else {
		return;
	}
	arm_resend(dc);
}

static int new_udp_dconn(struct pq_node_peer *p, bool dialled, const uint8_t id[PQ_PUNCH_ID_LEN],
			 struct pq_dconn **out)
{
	struct pq_dconn *dc;
	int ret;

	if ((ret = pq_dconn_new(p->node, NULL, PQ_PATH_UDP, dialled, &dc)))
		return ret;
	if ((ret = pq_rehs_udp_binding(dc->binding, id))) {
		pq_dconn_free(p->node, dc);
		return ret;
	}
	pq_timer_init(&dc->resend, resend_fired, dc);
	dc->open = true;
	*out = dc;
	return 0;
}

void pq_udp_path_dial(struct pq_node_peer *p, int k, uint64_t now_ms)
{
	uint8_t id[PQ_PUNCH_ID_LEN];
	struct pq_dconn *dc = NULL;
	int ret = p->node->udp.fd < 0 ? PQ_E_STATE : 0;

	if (ret == 0)
		ret = pq_random_bytes(id, sizeof(id));
	if (ret == 0)
		ret = new_udp_dconn(p, true, id, &dc);
	if (ret == 0) {
		pq_dconn_attach(dc, p, k);
		ret = pq_send_sealed(p, PQ_MSG_PUNCH, id, sizeof(id), now_ms);
	}
	pq_wipe(id, sizeof(id));
	if (ret) {
		pq_log(PQ_LOG_DEBUG, "peer %s: UDP attempt not started: %s", pq_peer_label(p), pq_strerror(ret));
		if (dc) {
			pq_dconn_detach(dc);
			pq_dconn_free(p->node, dc);
		}
		pq_path_exec_simple(p, PQ_PATH_EV_CLOSED, k, now_ms);
		return;
	}
	pq_log(PQ_LOG_DEBUG, "peer %s: UDP attempt started", pq_peer_label(p));
	pq_path_exec_simple(p, PQ_PATH_EV_DIAL_OPENED, k, now_ms);
}

/* A REQUEST an older conn of ours answered and is waiting on, taken back:
 * the peer's new attempt sends its PUNCH through the relay and its
 * REQUEST straight, so the REQUEST can come first and be taken by the
 * older conn, whose answer (the older attempt's binding) the peer
 * refuses. It is copied before the PUNCH's conn is made, and the older
 * run is given up only once that conn was accepted: a refused PUNCH
 * leaves the run to complete (on a proven conn it may be the peer's
 * re-authentication). The older conn is named by slot and the path
 * core's seq: drop_old_responders closes it in between when it is not
 * proven (pq_dconn_detach gives its run up then). */
struct overtaken {
	uint8_t msg[PQ_REHS_MAX_MSG_LEN];
	size_t len;
	struct pq_sockaddr from;
	int slot;     /* the older conn's */
	uint64_t seq; /* the path core's for that slot then */
};

static bool find_overtaking_request(const struct pq_node_peer *p, struct overtaken *o)
{
	struct pq_rehs_request req;
	const struct pq_dconn *old = NULL;
	uint64_t seq = 0;

	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		const struct pq_dconn *dc = p->path.conn[k];

		if (dc && dc->transport == PQ_PATH_UDP && !dc->dialled && dc->rehs_live && dc->last_in_len &&
		    pq_rehs_state(&dc->rehs) == PQ_REHS_WAIT_COMPLETE && (!old || p->path.core.conn[k].seq > seq)) {
			old = dc;
			seq = p->path.core.conn[k].seq;
		}
	}
	if (!old || pq_rehs_request_decode(&req, old->last_in, old->last_in_len))
		return false;
	memcpy(o->msg, old->last_in, old->last_in_len);
	o->len = old->last_in_len;
	o->from = old->addr;
	o->slot = old->slot;
	o->seq = seq;
	return true;
}

/* The older run given up (pq_rehs_abandon: its challenge and
 * counter-challenge leave the cache) before the new conn takes the
 * REQUEST (it records the challenge again), if its conn is still there. */
static void abandon_overtaken_run(struct pq_node_peer *p, const struct overtaken *o)
{
	struct pq_dconn *old = p->path.conn[o->slot];

	if (!old || p->path.core.conn[o->slot].seq != o->seq || !old->rehs_live)
		return;
	pq_rehs_abandon(&old->rehs, &p->path.cache, pq_wall_ms());
	old->rehs_live = false;
	old->last_in_len = 0;
}

/* Older attempts of the peer we were answering, not yet proven: the new
 * PUNCH supersedes them (one REQUEST cannot say which it is for). */
static void drop_old_responders(struct pq_node_peer *p, uint64_t now_ms)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		struct pq_dconn *dc = p->path.conn[k];

		if (dc && dc->transport == PQ_PATH_UDP && !dc->dialled &&
		    p->path.core.conn[k].state != PQ_PCONN_USABLE) {
			pq_dconn_detach(dc);
			pq_dconn_close(dc);
			pq_path_exec_simple(p, PQ_PATH_EV_CLOSED, k, now_ms);
		}
	}
}

void pq_udp_path_punch_in(struct pq_node_peer *p, const uint8_t *pt, size_t len, uint64_t now_ms)
{
	struct overtaken early;
	struct pq_dconn *dc;
	bool has_early;
	int ret;

	if (len != PQ_PUNCH_ID_LEN || p->node->udp.fd < 0)
		return;
	has_early = find_overtaking_request(p, &early);
	drop_old_responders(p, now_ms);
	if (new_udp_dconn(p, false, pt, &dc))
		return;
	ret = pq_path_exec_accept(p, dc, now_ms);
	if (ret == PQ_NODE_ACCEPT_GONE)
		return; /* lost a crossing at once: dc is freed */
	if (ret < 0) {
		pq_log(PQ_LOG_DEBUG, "peer %s: UDP attempt refused (transport, policy or too many)",
		       pq_peer_label(p));
		pq_dconn_free(p->node, dc);
		return;
	}
	punch(dc, now_ms);
	arm_resend(dc);
	if (has_early) {
		abandon_overtaken_run(p, &early);
		pq_log(PQ_LOG_DEBUG, "peer %s: its attempt's REQUEST came before the PUNCH: answered on the new conn",
		       pq_peer_label(p));
		pq_dconn_udp_rehs(dc, &early.from, early.msg, early.len, now_ms);
	}
}

/* ---- datagrams in ---- */

static struct pq_node_peer *peer_by_index(struct pq_node *node, uint32_t idx)
{
	for (size_t i = 0; i < node->peer_count; i++)
		if (pq_session_owns_index(&node->peers[i].session, idx))
			return &node->peers[i];
	return NULL;
}

static struct pq_node_peer *peer_by_session_id(struct pq_node *node, const uint8_t *sid)
{
	for (size_t i = 0; i < node->peer_count; i++)
		if (pq_session_keypair_by_id(&node->peers[i].session, sid))
			return &node->peers[i];
	return NULL;
}

/* The UDP conn of p that a re-handshake message of this type is for:
 * REQUEST and COMPLETE go to a conn we answer for, RESPONSE to one we
 * started. The newest: a peer runs one attempt at a time, so a PUNCH
 * supersedes what it started before (our older conn stands until the new
 * one is proven, then the path core replaces it). */
static struct pq_dconn *rehs_target(struct pq_node_peer *p, uint8_t type)
{
	struct pq_dconn *best = NULL;
	uint64_t best_seq = 0;

	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		struct pq_dconn *dc = p->path.conn[k];

		if (!dc || dc->transport != PQ_PATH_UDP || (type == PQ_MSG_REHS_RESPONSE) != dc->dialled)
			continue;
		if (!best || p->path.core.conn[k].seq > best_seq) {
			best = dc;
			best_seq = p->path.core.conn[k].seq;
		}
	}
	return best;
}

/* Could a re-handshake datagram of this type move dc's run? A REQUEST
 * starts or replaces a responder's run; a RESPONSE only matters to our run
 * waiting for one, a COMPLETE to one waiting for that (or is a copy of the
 * COMPLETE that ended it, let go in rehs_in). Anything else is refused
 * before it costs a MAC or a share of the peer's budget. */
static bool rehs_fits(const struct pq_dconn *dc, uint8_t type)
{
	if (type == PQ_MSG_REHS_REQUEST)
		return true;
	if (!dc->rehs_live)
		return false;
	return pq_rehs_state(&dc->rehs) ==
	       (type == PQ_MSG_REHS_RESPONSE ? PQ_REHS_WAIT_RESPONSE : PQ_REHS_WAIT_COMPLETE);
}

/* Take one from a per-second allowance of max: false when it is used up. */
static bool per_second_take(uint64_t *second, unsigned *taken, unsigned max, uint64_t now_ms)
{
	if (now_ms / 1000 != *second) {
		*second = now_ms / 1000;
		*taken = 0;
	}
	if (*taken >= max)
		return false;
	(*taken)++;
	return true;
}

/* A run costs a MAC and a copy of its state per datagram, and the session
 * id is visible on the wire: at most PQ_NODE_UDP_REHS_PER_S re-handshake
 * datagrams a second are looked at per peer, PQ_NODE_UDP_REHS_NODE_PER_S
 * for the whole node (an attempt needs a few; a flood is dropped and
 * counted). Per peer, so that a flood naming one peer's session leaves
 * the others' runs alone; the node's cap bounds the CPU when many
 * sessions are named at once. */
static bool rehs_budget_left(struct pq_node *node, struct pq_node_peer *p, uint64_t now_ms)
{
	return per_second_take(&p->path.udp_rehs_second, &p->path.udp_rehs_taken, PQ_NODE_UDP_REHS_PER_S, now_ms) &&
	       per_second_take(&node->udp.rehs_second, &node->udp.rehs_taken, PQ_NODE_UDP_REHS_NODE_PER_S, now_ms);
}

static void rehs_in(struct pq_node *node, const struct pq_sockaddr *from, const struct pq_dgram *d,
		    const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pq_node_peer *p;
	struct pq_dconn *dc;

	if (!(p = peer_by_session_id(node, d->session_id)) || !(dc = rehs_target(p, d->type))) {
		node->udp.drops++;
		return;
	}
	/* Before the budget: a proven conn's runs come from its address, so
	 * a flood from anywhere else never crowds out the peer's own. */
	if (dc->has_addr && !pq_sockaddr_equal(from, &dc->addr) && pq_dconn_usable(dc)) {
		node->udp.drops++;
		return;
	}
	/* The two copies of the COMPLETE that completed our run (the peer
	 * sends it three times, PQ_NODE_UDP_RESEND_MS apart, against loss):
	 * nothing to do, and nothing refused. A later copy is a replay. */
	if (!dc->dialled && !dc->rehs_live && d->type == PQ_MSG_REHS_COMPLETE && len == dc->last_in_len &&
	    !memcmp(msg, dc->last_in, len) && pq_sockaddr_equal(from, &dc->addr) && dc->complete_copies < 2 &&
	    now_ms - dc->complete_ms <= 4 * PQ_NODE_UDP_RESEND_MS) {
		dc->complete_copies++;
		return;
	}
	/* Counted as the node's drops, not the peer's udp_refused: nothing
	 * of the peer's session was looked at. */
	if (!rehs_fits(dc, d->type) || !rehs_budget_left(node, p, now_ms)) {
		node->udp.drops++;
		return;
	}
	/* A REQUEST we answered already (our RESPONSE was lost): the same
	 * answer again, where it came from. */
	if (!dc->dialled && dc->rehs_live && len == dc->last_in_len && !memcmp(msg, dc->last_in, len)) {
		send_lossy(node, from, dc->last_out, dc->last_out_len);
		return;
	}
	pq_dconn_udp_rehs(dc, from, msg, len, now_ms);
}

/* Our attempt waiting for its RESPONSE: the REQUEST to `to` now. */
static void request_again(struct pq_node_peer *p, const struct pq_sockaddr *to)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		struct pq_dconn *dc = p->path.conn[k];

		if (dc && dc->transport == PQ_PATH_UDP && dc->dialled && dc->rehs_live && dc->last_out_len &&
		    pq_rehs_state(&dc->rehs) == PQ_REHS_WAIT_RESPONSE)
			send_lossy(p->node, to, dc->last_out, dc->last_out_len);
	}
}

/* A UDP conn of p validated at from, else PQ_NODE_VIA_UDP_NEW. */
static int via_of(const struct pq_node_peer *p, const struct pq_sockaddr *from)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		const struct pq_dconn *dc = p->path.conn[k];

		if (dc && dc->transport == PQ_PATH_UDP && dc->has_addr && pq_sockaddr_equal(&dc->addr, from) &&
		    p->path.core.conn[k].state == PQ_PCONN_USABLE)
			return k;
	}
	return PQ_NODE_VIA_UDP_NEW;
}

static void sealed_in(struct pq_node *node, const struct pq_sockaddr *from, const struct pq_dgram *d,
		      uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pq_node_peer *p;
	int via;

	if (!(p = peer_by_index(node, d->receiver_index))) {
		node->udp.drops++;
		return;
	}
	via = via_of(p, from);
	/* Where a probe from an address we did not validate is answered. */
	p->path.udp_from = *from;
	if (pq_datapath_sealed_inplace(p, msg, len, via, now_ms) < 0 || via != PQ_NODE_VIA_UDP_NEW)
		return;
	/* Authenticated: the peer's (peer-reflexive) candidate. */
	if (!pq_sockaddr_equal(&p->path.udp_seen, from))
		p->path.has_udp_seen = false;
	p->path.udp_seen = *from;
	/* The peer punches towards us: its NAT lets us in now, so our
	 * REQUEST goes again at once, to where the punch came from. */
	request_again(p, from);
	if (!p->path.has_udp_seen) {
		p->path.has_udp_seen = true;
		pq_path_exec_udp_seen(p, now_ms);
	}
}

/* One datagram (len bytes at dg, from `from`). */
static void datagram_in(struct pq_node *node, const struct pq_sockaddr *from, uint8_t *dg, size_t len,
			uint64_t now_ms)
{
	struct pq_dgram d;

	switch (pq_dgram_classify(dg, len, &d)) {
	case PQ_DGRAM_STUN:
		pq_udp_path_stun_in(node, from, dg, len, now_ms);
		break;
	case PQ_DGRAM_REHS:
		rehs_in(node, from, &d, dg, len, now_ms);
		break;
	case PQ_DGRAM_SEALED:
		sealed_in(node, from, &d, dg, len, now_ms);
		break;
	case PQ_DGRAM_BAD:
	default:
		node->udp.drops++;
		break;
	}
}

/* Batches of datagrams: one recvmmsg (a message may hold several
 * datagrams that UDP GRO coalesced, all `gro` bytes but the last), each
 * opened in place; DATA frames of a batch reach the TAP coalesced into
 * super-frames at its end (datapath.c). At most PQ_NODE_UDP_BATCH
 * messages a readiness event, so other fds and timers get their turn. */
static void udp_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_node *node = arg;
	struct pq_udp_path *u = &node->udp;

	for (unsigned taken = 0; taken < PQ_NODE_UDP_BATCH && u->fd >= 0;) {
		long n = pq_udp_recv_batch(u->fd, u->rx, PQ_NODE_UDP_RX_MSGS);

		if (n == PQ_E_AGAIN)
			return;
		if (n < 0) {
			u->drops++;
			return;
		}
		taken += (unsigned)n;
		pq_datapath_batch_begin(node);
		for (long i = 0; i < n; i++) {
			struct pq_udp_msg *m = &u->rx[i];
			size_t step = m->gro ? m->gro : m->len;

			if (!m->len) {
				u->drops++; /* truncated */
				continue;
			}
			for (size_t off = 0; off < m->len; off += step)
				datagram_in(node, &m->from, m->buf + off, m->len - off < step ? m->len - off : step,
					    now_ms);
		}
		pq_datapath_batch_end(node, now_ms);
	}
}
