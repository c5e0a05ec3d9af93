/*
 * path_exec.c - the node's hands for the path core (proto/path.h): it
 * feeds each peer's core the events the node sees and executes the
 * actions that come back (dial, start a proof, switch the path, probe,
 * drop, keepalive, ENDPOINTS), keeps the core's timer, and owns the
 * candidates' addresses (DESIGN §5).
 *
 * ENDPOINTS (ours, sealed): the listen address when it is a specific one,
 * else every non-loopback interface address with the listen port; then
 * the address the relay observed for us with the listen port, if not
 * already listed. At most PQ_ENDPOINTS_MAX. Candidates of a peer: its
 * static `endpoint` first, then what its ENDPOINTS listed.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "crypto/util.h"
#include "net/endpoint.h"
#include "node/harden.h"
#include "node/node_int.h"
#include "util/clock.h"
#include "util/log.h"

static void path_timer_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms);

static uint32_t jitter(void *ctx, uint32_t n)
{
	return pq_random_below(n);
}

static enum pq_path_policy policy_of(enum pq_config_path p)
{
	return p == PQ_PATH_RELAY ? PQ_PATH_POLICY_RELAY
	       : p == PQ_PATH_DIRECT ? PQ_PATH_POLICY_DIRECT : PQ_PATH_POLICY_AUTO;
}

/* The core's candidate list, in the order pq_path_exec_candidate counts:
 * the static endpoint (TLS), the peer's ENDPOINTS (each with its
 * transport), the address it last proved its keys from (UDP). */
static void tell_candidates(struct pq_node_peer *p, uint64_t now_ms, bool exec)
{
	uint8_t transports[PQ_PATH_MAX_CANDS];
	struct pq_path_event ev = { .type = PQ_PATH_EV_CANDIDATES, .cand_transport = transports };
	struct pq_path_out out;
	unsigned n = 0;

	if (p->cfg->has_endpoint)
		transports[n++] = PQ_PATH_TLS;
	for (unsigned i = 0; i < p->path.cands.count && n < PQ_PATH_MAX_CANDS; i++)
		transports[n++] = p->path.cands.ep[i].transport == PQ_EP_UDP ? PQ_PATH_UDP : PQ_PATH_TLS;
	if (p->path.has_udp_seen && n < PQ_PATH_MAX_CANDS)
		transports[n++] = PQ_PATH_UDP;
	ev.cand_count = n;
	if (exec) {
		pq_path_exec_event(p, &ev, now_ms);
		return;
	}
	/* At start there is no loop yet and, without keys, nothing to do. */
	if (pq_path_input(&p->path.core, &ev, now_ms, &out))
		pq_log(PQ_LOG_ERROR, "peer %s: candidates refused by the path core", pq_peer_label(p));
}

static void core_config(const struct pq_node_peer *p, struct pq_path_config *cfg)
{
	const struct pq_node *node = p->node;

	memset(cfg, 0, sizeof(*cfg));
	cfg->policy = policy_of(p->cfg->path);
	cfg->we_are_lower = memcmp(node->pub, p->key, PQ_PUBKEY_LEN) < 0;
	cfg->retry_interval_ms = node->cfg.retry_interval * 1000u;
	cfg->reauth_interval_ms = node->cfg.reauth_interval * 1000u;
	cfg->keepalive_udp_ms = node->cfg.keepalive_udp * 1000u;
	cfg->transports = p->cfg->transport == PQ_TRANSPORT_UDP   ? PQ_PATH_UDP_ONLY
			  : p->cfg->transport == PQ_TRANSPORT_TLS ? PQ_PATH_TLS_ONLY
								  : PQ_PATH_ANY;
	cfg->random = jitter;
}

void pq_path_exec_peer_init(struct pq_node_peer *p)
{
	struct pq_path_config cfg;

	core_config(p, &cfg);
	pq_path_init(&p->path.core, &cfg);
	pq_challenge_cache_init(&p->path.cache);
	pq_timer_init(&p->path.timer, path_timer_fired, p);
	tell_candidates(p, 0, false);
}

void pq_path_exec_init(struct pq_node *node)
{
	for (size_t i = 0; i < node->peer_count; i++)
		pq_path_exec_peer_init(&node->peers[i]);
}

/* issue 12, reload: the intervals change in place (the core reads them at
 * each decision); a new path or transport goes to the core as a POLICY
 * event, which drops only the conns no longer allowed and hands over to
 * a conn that stays (closing them all would cut the peer's frames in
 * flight on a conn both sides still use: issue 9, UDP -> TLS). A new
 * static endpoint starts p's path over: every conn closed, the core set
 * up again and told what it knew (online, candidates, keys). The session
 * is not touched. */
void pq_path_exec_reconfigure(struct pq_node_peer *p, bool restart, uint64_t now_ms)
{
	struct pq_path_config cfg;

	core_config(p, &cfg);
	if (!restart) {
		struct pq_path_event ev = { .type = PQ_PATH_EV_POLICY, .policy = cfg.policy,
					    .transports = cfg.transports };

		p->path.core.cfg.retry_interval_ms = cfg.retry_interval_ms;
		p->path.core.cfg.reauth_interval_ms = cfg.reauth_interval_ms;
		p->path.core.cfg.keepalive_udp_ms = cfg.keepalive_udp_ms;
		if (p->path.core.cfg.policy == cfg.policy && p->path.core.cfg.transports == cfg.transports) {
			pq_path_exec_rearm(p, now_ms);
			return;
		}
		pq_path_exec_event(p, &ev, now_ms);
		/* Our ENDPOINTS again: they list the TLS listener only while
		 * some peer may use it (tls_wanted). */
		pq_path_exec_simple(p, PQ_PATH_EV_OURS_CHANGED, 0, now_ms);
		return;
	}
	pq_path_exec_reset(p, now_ms);
	pq_path_init(&p->path.core, &cfg);
	p->path.keys_told = false;
	tell_candidates(p, now_ms, true);
	if (p->online)
		pq_path_exec_simple(p, PQ_PATH_EV_ONLINE, 0, now_ms);
	pq_path_exec_keys(p, now_ms);
}

bool pq_path_exec_candidate(const struct pq_node_peer *p, unsigned i, struct pq_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (p->cfg->has_endpoint) {
		if (i == 0) {
			memcpy(&out->ss, &p->cfg->endpoint.ss, sizeof(out->ss));
			out->len = p->cfg->endpoint.len;
			return true;
		}
		i--;
	}
	if (i < p->path.cands.count)
		return pq_endpoint_to_sockaddr(&p->path.cands.ep[i], out);
	if (i == p->path.cands.count && p->path.has_udp_seen) {
		*out = p->path.udp_seen;
		return true;
	}
	return false;
}

void pq_path_exec_udp_seen(struct pq_node_peer *p, uint64_t now_ms)
{
	char text[PQ_SOCKADDR_TEXT];

	pq_sockaddr_format(&p->path.udp_seen, text, sizeof(text));
	pq_log(PQ_LOG_DEBUG, "peer %s: its datagrams come from %s (a UDP candidate)", pq_peer_label(p), text);
	tell_candidates(p, now_ms, true);
}

const struct pq_dconn *pq_path_exec_active(const struct pq_node_peer *p)
{
	int k = p->path.core.active;

	return k >= 0 ? p->path.conn[k] : NULL;
}

uint64_t pq_path_exec_rehs_failures(const struct pq_node_peer *p)
{
	const struct pq_rehs_counters *c = &p->path.rehs_count;

	return (uint64_t)c->decode + c->unexpected + c->session_id + c->time + c->replay + c->reflect +
	       c->mac + c->timeout + c->cache_full + c->local + p->path.rehs_not_started +
	       p->path.core.count.drops[PQ_PATH_DROP_REHS_TIMEOUT];
}

/* ---- ENDPOINTS, ours ---- */

/* Some peer may use the TLS direct path (else our listener is not
 * worth announcing: transport = udp everywhere). */
static bool tls_wanted(const struct pq_node *node)
{
	for (size_t i = 0; i < node->peer_count; i++)
		if (node->peers[i].cfg->transport != PQ_TRANSPORT_UDP)
			return true;
	return false;
}

/* sockaddr -> endpoint; false for what cannot be a candidate. */
static bool endpoint_from_sa(struct pq_endpoint *ep, const struct sockaddr *sa, uint16_t port)
{
	static const uint8_t zero[16];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (in->sin_addr.s_addr == htonl(INADDR_ANY) || (ntohl(in->sin_addr.s_addr) >> 24) == 127)
			return false;
		pq_endpoint_set_v4(ep, (const uint8_t *)&in->sin_addr, port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (memcmp(&in6->sin6_addr, zero, 16) == 0 || IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		    IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return false;
		ep->family = PQ_EP_FAMILY_V6;
		memcpy(ep->addr, &in6->sin6_addr, 16);
		ep->port = port;
		return true;
	}
	return false;
}

static void endpoints_add(struct pq_endpoints *e, const struct pq_endpoint *ep)
{
	if (e->count >= PQ_ENDPOINTS_MAX)
		return;
	for (unsigned i = 0; i < e->count; i++)
		if (memcmp(&e->ep[i], ep, sizeof(*ep)) == 0)
			return;
	e->ep[e->count++] = *ep;
}

static void our_endpoints(const struct pq_node *node, struct pq_endpoints *e)
{
	uint16_t port = (uint16_t)pq_sockaddr_port(&node->tlsp.listen_addr);
	struct pq_endpoint ep;
	struct ifaddrs *ifa = NULL;

	memset(e, 0, sizeof(*e));
	memset(&ep, 0, sizeof(ep));
	if (!node->tlsp.listener || port == 0 || !tls_wanted(node))
		return;
	if (endpoint_from_sa(&ep, (const struct sockaddr *)&node->tlsp.listen_addr.ss, port)) {
		endpoints_add(e, &ep);
	} else if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			memset(&ep, 0, sizeof(ep));
			if (i->ifa_addr && (i->ifa_flags & IFF_UP) && !(i->ifa_flags & IFF_LOOPBACK) &&
			    strcmp(i->ifa_name, node->tap.name) != 0 && endpoint_from_sa(&ep, i->ifa_addr, port))
				endpoints_add(e, &ep);
		}
		freeifaddrs(ifa);
	}
	if (node->relay.has_observed) {
		ep = node->relay.observed;
		ep.port = port;
		ep.transport = PQ_EP_TLS;
		if (pq_node_endpoint_ok(&ep)) /* issue 11: never advertise loopback & co */
			endpoints_add(e, &ep);
	}
}

static void send_endpoints(struct pq_node_peer *p, uint64_t now_ms)
{
	struct pq_endpoints e;
	uint8_t pt[PQ_ENDPOINTS_MAX_LEN];
	long n;

	our_endpoints(p->node, &e);
	pq_udp_path_our_endpoints(p->node, &e);
	n = pq_endpoints_encode(&e, pt, sizeof(pt));
	if (n >= 0 && pq_send_sealed(p, PQ_MSG_ENDPOINTS, pt, (size_t)n, now_ms) == 0) {
		pq_log(PQ_LOG_DEBUG, "peer %s: sent %u direct candidate(s)", pq_peer_label(p), e.count);
		return;
	}
	pq_path_exec_simple(p, PQ_PATH_EV_ENDPOINTS_UNSENT, 0, now_ms);
}

/* ---- executing the core's actions ---- */

static void log_switch(struct pq_node_peer *p, const struct pq_path_action *a, const struct pq_path_out *out,
		       uint64_t now_ms)
{
	const char *why = "connection lost";
	char text[PQ_SOCKADDR_TEXT] = "";

	if (a->conn == a->from)
		return;
	for (unsigned i = 0; i < out->n; i++)
		if (out->act[i].type == PQ_PATH_ACT_DROP && out->act[i].conn == a->from)
			why = pq_path_drop_name(out->act[i].reason);
	if (a->conn >= 0 && p->path.conn[a->conn])
		pq_sockaddr_format(&p->path.conn[a->conn]->addr, text, sizeof(text));
	if (a->conn < 0)
		pq_log(PQ_LOG_INFO, "peer %s: path direct -> relay (%s)", pq_peer_label(p), why);
	else if (a->from < 0)
		pq_log(PQ_LOG_INFO, "peer %s: path relay -> direct %s (re-handshake %llu us, %llu ms after the keys)",
		       pq_peer_label(p), text, (unsigned long long)p->path.last_rehs_us,
		       (unsigned long long)(now_ms - p->handshake_ms));
	else
		pq_log(PQ_LOG_INFO, "peer %s: path direct -> direct %s (%s)", pq_peer_label(p), text,
		       pq_path_transport_name(p->path.core.conn[a->conn].transport));
}

static void send_probe(struct pq_node_peer *p, int k, uint64_t now_ms)
{
	uint8_t id[PQ_PROBE_ID_LEN];

	/* Unsent, the probe goes unanswered and the core drops the conn. */
	if (pq_random_bytes(id, sizeof(id)) || pq_send_sealed_via(p, k, PQ_MSG_PROBE, id, sizeof(id), now_ms))
		pq_log(PQ_LOG_DEBUG, "peer %s: probe not sent", pq_peer_label(p));
}

static void do_dial(struct pq_node_peer *p, const struct pq_path_action *a, uint64_t now_ms)
{
	struct pq_sockaddr addr;

	if (p->path.core.conn[a->conn].transport == PQ_PATH_UDP) {
		pq_udp_path_dial(p, a->conn, now_ms);
		return;
	}
	if (!pq_path_exec_candidate(p, a->cand, &addr)) {
		pq_path_exec_simple(p, PQ_PATH_EV_CLOSED, a->conn, now_ms);
		return;
	}
	pq_tls_path_dial(p, a->conn, &addr, now_ms);
}

static void execute(struct pq_node_peer *p, const struct pq_path_out *out, uint64_t now_ms)
{
	for (unsigned i = 0; i < out->n; i++) {
		const struct pq_path_action *a = &out->act[i];
		struct pq_dconn *dc = a->conn >= 0 && a->conn < PQ_PATH_MAX_CONNS ? p->path.conn[a->conn] : NULL;

		switch (a->type) {
		case PQ_PATH_ACT_DIAL:
			do_dial(p, a, now_ms);
			break;
		case PQ_PATH_ACT_REHS_START:
			if (dc)
				pq_dconn_rehs_start(dc, now_ms);
			break;
		case PQ_PATH_ACT_ACTIVATE:
			log_switch(p, a, out, now_ms);
			if (a->conn < 0 && !p->online)
				pq_l2_forget_peer(p->node->l2, p->id);
			break;
		case PQ_PATH_ACT_PROBE:
			send_probe(p, a->conn, now_ms);
			break;
		case PQ_PATH_ACT_DROP:
			if (!dc)
				break;
			pq_log(PQ_LOG_DEBUG, "peer %s: direct conn dropped (%s)", pq_peer_label(p),
			       pq_path_drop_name(a->reason));
			/* A UDP path that stopped answering: our mapping may
			 * have moved (udp_stun.c learns where to). */
			if (dc->transport == PQ_PATH_UDP && a->reason == PQ_PATH_DROP_PROBE)
				pq_udp_path_stun_refresh(p->node, now_ms);
			pq_dconn_detach(dc);
			pq_dconn_close(dc);
			break;
		case PQ_PATH_ACT_KEEPALIVE:
			if (pq_send_sealed_via(p, a->conn, PQ_MSG_KEEPALIVE, NULL, 0, now_ms))
				pq_log(PQ_LOG_DEBUG, "peer %s: keepalive after a drop not sent", pq_peer_label(p));
			break;
		case PQ_PATH_ACT_SEND_ENDPOINTS:
			send_endpoints(p, now_ms);
			break;
		}
	}
}

void pq_path_exec_rearm(struct pq_node_peer *p, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	uint64_t due = pq_path_next_deadline(&p->path.core, now_ms);

	if (node->life.stopping || !node->loop)
		return;
	if (due == UINT64_MAX) {
		pq_loop_timer_cancel(node->loop, &p->path.timer);
		return;
	}
	if (pq_loop_timer_start(node->loop, &p->path.timer, due - now_ms))
		pq_log(PQ_LOG_ERROR, "peer %s: cannot arm the path timer", pq_peer_label(p));
}

void pq_path_exec_event(struct pq_node_peer *p, const struct pq_path_event *ev, uint64_t now_ms)
{
	struct pq_path_out out;

	if (p->node->life.stopping)
		return;
	if (pq_path_input(&p->path.core, ev, now_ms, &out)) {
		pq_log(PQ_LOG_DEBUG, "peer %s: path event %d refused", pq_peer_label(p), (int)ev->type);
		return;
	}
	execute(p, &out, now_ms);
	pq_path_exec_rearm(p, now_ms);
}

int pq_path_exec_accept(struct pq_node_peer *p, struct pq_dconn *dc, uint64_t now_ms)
{
	struct pq_path_event ev = { .type = PQ_PATH_EV_ACCEPTED, .conn = dc->transport };
	struct pq_path_out out;

	bool lost = false;

	if (p->node->life.stopping || pq_path_input(&p->path.core, &ev, now_ms, &out) || out.accepted < 0)
		return -1;
	/* Dropped in the same event (it lost a crossing): execute() closes
	 * it, which frees a UDP conn: the caller must not touch dc again. */
	for (unsigned i = 0; i < out.n; i++)
		lost |= out.act[i].type == PQ_PATH_ACT_DROP && out.act[i].conn == out.accepted;
	/* On its slot before the actions run: they may name it (crossing). */
	pq_dconn_attach(dc, p, out.accepted);
	execute(p, &out, now_ms);
	pq_path_exec_rearm(p, now_ms);
	return lost ? PQ_NODE_ACCEPT_GONE : out.accepted;
}

void pq_path_exec_simple(struct pq_node_peer *p, enum pq_path_ev_type type, int conn, uint64_t now_ms)
{
	struct pq_path_event ev = { .type = type, .conn = conn };

	pq_path_exec_event(p, &ev, now_ms);
}

static void path_timer_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	pq_path_exec_simple(arg, PQ_PATH_EV_TIMER, 0, now_ms);
}

void pq_path_exec_keys(struct pq_node_peer *p, uint64_t now_ms)
{
	const struct pq_keypair *kp = p->session.current;
	bool can_send = pq_session_can_send(&p->session, now_ms);
	struct pq_path_event ev = { .type = PQ_PATH_EV_KEYS };

	if (!can_send) {
		if (p->path.keys_told) {
			p->path.keys_told = false;
			pq_path_exec_simple(p, PQ_PATH_EV_KEYS_GONE, 0, now_ms);
		}
		return;
	}
	if (p->path.keys_told && p->path.keys_index == kp->local_index)
		return;
	p->path.keys_told = true;
	p->path.keys_index = kp->local_index;
	ev.key_index = kp->local_index;
	pq_path_exec_event(p, &ev, now_ms);
}

void pq_path_exec_reset(struct pq_node_peer *p, uint64_t now_ms)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		struct pq_dconn *dc = p->path.conn[k];

		if (dc) {
			pq_dconn_detach(dc);
			pq_dconn_close(dc);
		}
	}
	if (p->node->loop)
		pq_loop_timer_cancel(p->node->loop, &p->path.timer);
}

/* ---- what the peer sends about the path ---- */

void pq_path_exec_endpoints_in(struct pq_node_peer *p, const uint8_t *pt, size_t len, uint64_t now_ms)
{
	struct pq_endpoints e;
	unsigned refused;

	memset(&e, 0, sizeof(e));
	if (pq_endpoints_decode(&e, pt, len)) {
		pq_datapath_drop(p);
		return;
	}
	/* issue 11: a peer must not make us dial loopback, link-local, ... */
	if ((refused = pq_node_endpoints_filter(&e)))
		pq_log(PQ_LOG_WARN, "peer %s: %u direct candidate(s) refused (loopback, link-local, "
		       "multicast, broadcast or unspecified)", pq_peer_label(p), refused);
	if (e.count == p->path.cands.count && memcmp(e.ep, p->path.cands.ep, e.count * sizeof(e.ep[0])) == 0)
		return;
	p->path.cands = e;
	pq_log(PQ_LOG_INFO, "peer %s: %u direct candidate(s) received", pq_peer_label(p), e.count);
	tell_candidates(p, now_ms, true);
}

void pq_path_exec_probe_in(struct pq_node_peer *p, int via, const uint8_t *pt, size_t len, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	uint8_t id[PQ_PROBE_ID_LEN];
	long n;

	/* Probes belong on a direct path; answer the way it came: its conn,
	 * or the address of a datagram we have not validated (the peer's
	 * path to us may be proven on its side while ours is still not). */
	if (via == PQ_PATH_VIA_RELAY || pq_probe_decode(id, pt, len))
		return;
	if (via >= 0) {
		if (pq_send_sealed_via(p, via, PQ_MSG_PROBE_ACK, id, sizeof(id), now_ms))
			pq_log(PQ_LOG_DEBUG, "peer %s: PROBE_ACK not sent", pq_peer_label(p));
		return;
	}
	n = pq_session_seal(&p->session, PQ_MSG_PROBE_ACK, id, sizeof(id), node->send.sealed,
			    sizeof(node->send.sealed), now_ms);
	if (n > 0 && pq_udp_path_send(node, &p->path.udp_from, node->send.sealed, (size_t)n))
		pq_log(PQ_LOG_DEBUG, "peer %s: PROBE_ACK not sent", pq_peer_label(p));
}
