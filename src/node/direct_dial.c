/*
 * direct_dial.c - the direct path's candidates, dialling, per-peer tick
 * and liveness probes (DESIGN §5; overview in direct.h).
 *
 * ENDPOINTS (ours, once per session, sealed): the listen address when it
 * is a specific one, else every non-loopback interface address with the
 * listen port; then the address the relay observed for us with the listen
 * port, if not already listed. At most PQ_ENDPOINTS_MAX.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "crypto/util.h"
#include "node/daemon.h"
#include "node/direct.h"
#include "node/direct_int.h"
#include "node/harden.h"
#include "util/clock.h"
#include "util/log.h"

static void direct_tick(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms);
static uint64_t next_tick_ms(const struct pq_node_peer *p, uint64_t now_ms);
static void arm_in(struct pq_node_peer *p, uint64_t in_ms);

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
	uint16_t port = (uint16_t)pq_sockaddr_port(&node->listen_addr);
	struct pq_endpoint ep;
	struct ifaddrs *ifa = NULL;

	memset(e, 0, sizeof(*e));
	memset(&ep, 0, sizeof(ep));
	if (!node->listener || port == 0)
		return;
	if (endpoint_from_sa(&ep, (const struct sockaddr *)&node->listen_addr.ss, port)) {
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
	if (node->has_observed) {
		ep = node->observed;
		ep.port = port;
		if (pq_node_endpoint_ok(&ep)) /* issue 11: never advertise loopback & co */
			endpoints_add(e, &ep);
	}
}

static void send_endpoints(struct pq_node_peer *p, uint64_t now_ms)
{
	struct pq_endpoints e;
	uint8_t pt[PQ_ENDPOINTS_MAX_LEN];
	long n;
	int ret;

	our_endpoints(p->node, &e);
	n = pq_endpoints_encode(&e, pt, sizeof(pt));
	if (n < 0)
		return;
	ret = pq_peer_send_sealed(p, PQ_MSG_ENDPOINTS, pt, (size_t)n, now_ms);
	if (ret == 0) {
		p->direct.endpoints_sent = true;
		pq_log(PQ_LOG_DEBUG, "peer %s: sent %u direct candidate(s)", pq_peer_label(p), e.count);
	}
}

static bool we_are_lower(const struct pq_node_peer *p)
{
	return memcmp(p->node->pub, p->key, PQ_PUBKEY_LEN) < 0;
}

/* The higher key waits a little longer, so both rarely dial at once. */
static uint64_t dial_delay(const struct pq_node_peer *p, uint64_t base_ms)
{
	return base_ms + (we_are_lower(p) ? 0 : PQ_DIRECT_HIGH_KEY_DELAY_MS);
}

void pq_direct_schedule_retry(struct pq_node_peer *p, uint64_t now_ms)
{
	uint32_t base = p->node->cfg.retry_interval * 1000u;
	uint32_t jittered = base - base / 8 + pq_random_below(base / 4 + 1);

	p->direct.next_cand = 0;
	p->direct.next_dial_ms = now_ms + dial_delay(p, jittered);
	pq_direct_arm(p, now_ms);
}

void pq_direct_dial_failed(struct pq_node_peer *p, uint64_t now_ms)
{
	unsigned total = (p->cfg->has_endpoint ? 1u : 0u) + p->direct.cands.count;

	if (++p->direct.next_cand < total) {
		p->direct.next_dial_ms = now_ms + PQ_DIRECT_NEXT_CAND_MS;
		pq_direct_arm(p, now_ms);
		return;
	}
	pq_direct_schedule_retry(p, now_ms);
}

void pq_direct_endpoints_in(struct pq_node_peer *p, const uint8_t *pt, size_t len, uint64_t now_ms)
{
	struct pq_endpoints e;
	unsigned refused;

	memset(&e, 0, sizeof(e));
	if (pq_endpoints_decode(&e, pt, len)) {
		p->count.dropped_frames++;
		return;
	}
	/* issue 11: a peer must not make us dial loopback, link-local, ... */
	if ((refused = pq_node_endpoints_filter(&e)))
		pq_log(PQ_LOG_WARN, "peer %s: %u direct candidate(s) refused (loopback, link-local, "
		       "multicast, broadcast or unspecified)", pq_peer_label(p), refused);
	if (e.count == p->direct.cands.count && memcmp(e.ep, p->direct.cands.ep, e.count * sizeof(e.ep[0])) == 0)
		return;
	p->direct.cands = e;
	p->direct.next_cand = 0;
	pq_log(PQ_LOG_INFO, "peer %s: %u direct candidate(s) received", pq_peer_label(p), e.count);
	/* New candidates: try them now (DESIGN §5). */
	if (p->cfg->path != PQ_PATH_RELAY && !p->direct.active) {
		p->direct.next_dial_ms = now_ms + dial_delay(p, 0);
		pq_direct_arm(p, now_ms);
	}
}

/* Candidate i: the static endpoint first, then the peer's ENDPOINTS. */
static bool candidate(const struct pq_node_peer *p, unsigned i, struct pq_sockaddr *out)
{
	const struct pq_endpoint *ep;

	memset(out, 0, sizeof(*out));
	if (p->cfg->has_endpoint) {
		if (i == 0) {
			memcpy(&out->ss, &p->cfg->endpoint.ss, sizeof(out->ss));
			out->len = p->cfg->endpoint.len;
			return true;
		}
		i--;
	}
	if (i >= p->direct.cands.count)
		return false;
	ep = &p->direct.cands.ep[i];
	if (ep->family == PQ_EP_FAMILY_V4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&out->ss;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, ep->addr + 12, 4);
		in->sin_port = htons(ep->port);
		out->len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, ep->addr, 16);
		in6->sin6_port = htons(ep->port);
		out->len = sizeof(*in6);
	}
	return true;
}

static bool has_conns(const struct pq_node_peer *p)
{
	for (size_t i = 0; i < PQ_DIRECT_MAX_CONNS; i++)
		if (p->direct.conns[i])
			return true;
	return false;
}

static void dial(struct pq_node_peer *p, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	struct pq_conn_opts opts = { .open_timeout_ms = PQ_DIRECT_OPEN_TIMEOUT_MS };
	struct pq_conn_target tg;
	struct pq_conn *c = NULL;
	struct pq_dconn *dc;
	char text[PQ_SOCKADDR_TEXT];
	int ret;

	p->direct.next_dial_ms = 0;
	memset(&tg, 0, sizeof(tg));
	if (!candidate(p, p->direct.next_cand, &tg.addr))
		return;
	p->direct.attempts++;
	tg.pin = p->key;
	pq_sockaddr_format(&tg.addr, text, sizeof(text));
	ret = pq_conn_connect(&c, node->loop, node->tls, &tg, &opts, &pq_direct_cbs, node);
	if (ret == 0 && (ret = pq_dconn_new(node, c, p, true, &dc)))
		pq_conn_abort(c);
	if (ret == 0)
		dc->addr = tg.addr;
	if (ret) {
		pq_log(PQ_LOG_DEBUG, "peer %s: cannot dial %s: %s", pq_peer_label(p), text, pq_strerror(ret));
		pq_direct_dial_failed(p, now_ms);
		return;
	}
	pq_log(PQ_LOG_DEBUG, "peer %s: dialling %s", pq_peer_label(p), text);
}

/* PROBE on dc when it went quiet after we sent; drop it when that goes
 * unanswered (DESIGN §5: outage <= 2 s). */
static void liveness(struct pq_dconn *dc, uint64_t now_ms)
{
	struct pq_node_peer *p = dc->peer;
	uint8_t id[PQ_PROBE_ID_LEN];
	long n;

	if (dc->probe_ms) {
		if (now_ms - dc->probe_ms >= PQ_DIRECT_PROBE_WAIT_MS)
			pq_dconn_detach(dc, "probe unanswered", true, now_ms);
		return;
	}
	if (!dc->unanswered_ms || now_ms - dc->unanswered_ms < PQ_DIRECT_PROBE_AFTER_MS)
		return;
	if (pq_random_bytes(id, sizeof(id)))
		return;
	n = pq_session_seal(&p->session, PQ_MSG_PROBE, id, sizeof(id), p->node->sealed,
			    sizeof(p->node->sealed), now_ms);
	if (n < 0 || pq_conn_send(dc->conn, p->node->sealed, (size_t)n)) {
		pq_dconn_detach(dc, "probe not sent", true, now_ms);
		return;
	}
	dc->probe_ms = now_ms ? now_ms : 1;
}

/* After every rekey and every reauth_interval (DESIGN §5). */
static bool reauth_due(const struct pq_dconn *dc, uint64_t now_ms)
{
	const struct pq_keypair *kp = dc->peer->session.current;

	if (!dc->dialled || !dc->usable || dc->rehs_live)
		return false;
	if (kp && kp->live && kp->local_index != dc->rehs_index)
		return true;
	return now_ms - dc->rehs_done_ms >= (uint64_t)dc->peer->node->cfg.reauth_interval * 1000u;
}

static void direct_tick(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_node_peer *p = arg;
	uint64_t wall = pq_wall_ms();

	if (p->node->stopping)
		return;
	if (p->direct.nudge_peer && !p->direct.active) {
		p->direct.nudge_peer = false;
		if (p->online && pq_session_can_send(&p->session, now_ms) &&
		    pq_peer_send_sealed(p, PQ_MSG_KEEPALIVE, NULL, 0, now_ms))
			pq_log(PQ_LOG_DEBUG, "peer %s: fallback keepalive not sent", pq_peer_label(p));
	}
	for (size_t i = 0; i < PQ_DIRECT_MAX_CONNS; i++) {
		struct pq_dconn *dc = p->direct.conns[i];

		if (!dc)
			continue;
		if (dc->rehs_live && pq_rehs_timer(&dc->rehs, wall)) {
			pq_log(PQ_LOG_WARN, "peer %s: re-handshake timed out", pq_peer_label(p));
			pq_dconn_detach(dc, "re-handshake timed out", true, now_ms);
		} else if (dc == p->direct.active) {
			liveness(dc, now_ms);
			if (!dc->dead && reauth_due(dc, now_ms))
				pq_dconn_reauth(dc, now_ms);
		}
	}
	if (p->online && p->cfg->path != PQ_PATH_RELAY && !has_conns(p) && p->direct.next_dial_ms &&
	    now_ms >= p->direct.next_dial_ms && pq_session_can_send(&p->session, now_ms))
		dial(p, now_ms);
	if (p->online || has_conns(p))
		arm_in(p, next_tick_ms(p, now_ms));
}

/* The regular tick, or sooner when a probe or a drop falls due, so the
 * outage stays within the 2 s of DESIGN §5. */
static uint64_t next_tick_ms(const struct pq_node_peer *p, uint64_t now_ms)
{
	const struct pq_dconn *dc = p->direct.active;
	uint64_t due = 0, in = PQ_DIRECT_TICK_MS;

	if (dc && dc->probe_ms)
		due = dc->probe_ms + PQ_DIRECT_PROBE_WAIT_MS;
	else if (dc && dc->unanswered_ms)
		due = dc->unanswered_ms + PQ_DIRECT_PROBE_AFTER_MS;
	if (due && due < now_ms + in)
		in = due > now_ms ? due - now_ms : 1;
	return in;
}

static void arm_in(struct pq_node_peer *p, uint64_t in_ms)
{
	p->direct.timer.fn = direct_tick;
	p->direct.timer.arg = p;
	if (p->node->stopping)
		return;
	if (pq_loop_timer_start(p->node->loop, &p->direct.timer, in_ms))
		pq_log(PQ_LOG_ERROR, "peer %s: cannot arm the direct-path timer", pq_peer_label(p));
}

/* The peer's messages reach us through the relay while we still hold a
 * direct path to it: it may have dropped that path already. A node that
 * only receives never sends on the direct path, so its own liveness check
 * would not start until it has something to send, and that would then be
 * lost in a dead connection. Once the direct path has been quiet for the
 * probe interval, probe it now. */
void pq_direct_relay_heard(struct pq_node_peer *p, uint64_t now_ms)
{
	struct pq_dconn *dc = p->direct.active;

	if (!dc || dc->dead || dc->probe_ms || now_ms - dc->last_rx_ms < PQ_DIRECT_PROBE_AFTER_MS)
		return;
	if (!dc->unanswered_ms)
		dc->unanswered_ms = now_ms - PQ_DIRECT_PROBE_AFTER_MS;
	liveness(dc, now_ms);
	arm_in(p, next_tick_ms(p, now_ms));
}

void pq_direct_arm(struct pq_node_peer *p, uint64_t now_ms)
{
	if (!pq_timer_armed(&p->direct.timer))
		arm_in(p, PQ_DIRECT_TICK_MS);
}

void pq_direct_resume(struct pq_node_peer *p, uint64_t now_ms)
{
	/* Our addresses may have changed (we reconnected to the relay from
	 * another one): send them again, through the kept session. */
	p->direct.endpoints_sent = false;
	if (p->cfg->path == PQ_PATH_RELAY || p->direct.active)
		return;
	p->direct.next_cand = 0;
	p->direct.next_dial_ms = now_ms + dial_delay(p, 0);
	pq_direct_arm(p, now_ms);
}

void pq_direct_service(struct pq_node_peer *p, uint64_t now_ms)
{
	if (!p->online || p->node->stopping)
		return;
	if (!pq_session_can_send(&p->session, now_ms))
		return;
	if (!p->direct.endpoints_sent && p->cfg->path != PQ_PATH_RELAY) {
		send_endpoints(p, now_ms);
		/* A static endpoint needs no ENDPOINTS from the peer. */
		if (p->cfg->has_endpoint && !p->direct.active && !p->direct.next_dial_ms)
			p->direct.next_dial_ms = now_ms + dial_delay(p, 0);
	}
	pq_direct_arm(p, now_ms);
}

int pq_direct_send(struct pq_node_peer *p, const uint8_t *sealed, size_t len, uint64_t now_ms)
{
	struct pq_dconn *dc = p->direct.active;
	int ret;

	if (!dc)
		return PQ_E_STATE;
	ret = pq_conn_send(dc->conn, sealed, len);
	if (ret == PQ_E_AGAIN)
		return ret;
	if (ret) {
		pq_dconn_detach(dc, "send failed", true, now_ms);
		return PQ_E_STATE;
	}
	if (!dc->unanswered_ms)
		dc->unanswered_ms = now_ms ? now_ms : 1;
	return 0;
}

void pq_direct_probe_in(struct pq_node_peer *p, struct pq_dconn *via, const uint8_t *pt, size_t len,
			uint64_t now_ms)
{
	uint8_t id[PQ_PROBE_ID_LEN];
	long n;

	/* Probes belong on a direct conn; answer on the one it came on. */
	if (!via || via->dead || pq_probe_decode(id, pt, len))
		return;
	n = pq_session_seal(&p->session, PQ_MSG_PROBE_ACK, id, sizeof(id), p->node->sealed,
			    sizeof(p->node->sealed), now_ms);
	if (n >= 0 && pq_conn_send(via->conn, p->node->sealed, (size_t)n))
		pq_log(PQ_LOG_DEBUG, "peer %s: PROBE_ACK not sent", pq_peer_label(p));
}
