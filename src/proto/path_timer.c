/*
 * path_timer.c - the path core's clock: what falls due (probes, drops,
 * re-authentication, the keepalive after a drop, ENDPOINTS, dials), the next
 * deadline, and the one route for every message (proto/path.h).
 */
#include "proto/path.h"
#include "proto/path_int.h"

static bool endpoints_due(const struct pq_path *p)
{
	return p->keys && p->online && p->cfg.policy != PQ_PATH_POLICY_RELAY && !p->endpoints_sent;
}

/* After every rekey and every reauth_interval (DESIGN §5); the dialler's. */
static bool reauth_due(const struct pq_path *p, const struct pq_pconn *c, uint64_t now_ms)
{
	if (c->state != PQ_PCONN_USABLE || !c->dialled || c->rehs_running)
		return false;
	return c->key_index != p->key_index || now_ms - c->proven_ms >= p->cfg.reauth_interval_ms;
}

static uint32_t keepalive_udp_ms(const struct pq_path *p)
{
	return p->cfg.keepalive_udp_ms ? p->cfg.keepalive_udp_ms : PQ_PATH_KEEPALIVE_UDP_MS;
}

/* When the active conn k next needs a PROBE: quiet 1 s after a send, or
 * (UDP) idle for keepalive_udp, which the answer keeps open through NATs. */
static uint64_t probe_due(const struct pq_path *p, const struct pq_pconn *c)
{
	uint64_t due = c->unanswered_ms ? c->unanswered_ms + PQ_PATH_PROBE_AFTER_MS : UINT64_MAX;

	if (c->transport == PQ_PATH_UDP && c->last_tx_ms + keepalive_udp_ms(p) < due)
		due = c->last_tx_ms + keepalive_udp_ms(p);
	return due;
}

/* The active conn: PROBE when due, drop when the probe goes unanswered.
 * false when it was dropped. */
static bool liveness(struct pq_path *p, int k, uint64_t now_ms, struct pq_path_out *out)
{
	struct pq_pconn *c = &p->conn[k];

	if (c->probe_ms) {
		if (now_ms - c->probe_ms < PQ_PATH_PROBE_WAIT_MS)
			return true;
		path_drop(p, k, PQ_PATH_DROP_PROBE, true, now_ms, out);
		return false;
	}
	if (now_ms >= probe_due(p, c)) {
		path_emit(out, PQ_PATH_ACT_PROBE, k);
		c->probe_ms = now_ms ? now_ms : 1;
	}
	return true;
}

static void conn_timer(struct pq_path *p, int k, uint64_t now_ms, struct pq_path_out *out)
{
	struct pq_pconn *c = &p->conn[k];

	if (c->state == PQ_PCONN_FREE)
		return;
	if (c->rehs_running && now_ms >= c->rehs_deadline_ms) {
		/* A run the peer started on a proven UDP conn proves nothing
		 * by ending: anyone can send its REQUEST (no MAC, the session
		 * id in clear). The dialler's own deadline and the liveness
		 * probes judge that path. */
		if (c->transport == PQ_PATH_UDP && !c->dialled && c->state == PQ_PCONN_USABLE) {
			c->rehs_running = false;
		} else {
			path_drop(p, k, PQ_PATH_DROP_REHS_TIMEOUT, true, now_ms, out);
			return;
		}
	}
	if (c->state != PQ_PCONN_USABLE)
		return;
	if (k == p->active && !liveness(p, k, now_ms, out))
		return;
	if (reauth_due(p, c, now_ms))
		path_rehs_start(p, k, now_ms, out);
}

void path_timer(struct pq_path *p, uint64_t now_ms, struct pq_path_out *out)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		conn_timer(p, k, now_ms, out);
	if (p->nudge_ms && now_ms >= p->nudge_ms) {
		p->nudge_ms = 0;
		if (p->keys && (p->active >= 0 || p->online))
			path_emit(out, PQ_PATH_ACT_KEEPALIVE, p->active);
	}
	if (endpoints_due(p) && now_ms >= p->endpoints_retry_ms) {
		p->endpoints_sent = true;
		path_emit(out, PQ_PATH_ACT_SEND_ENDPOINTS, PQ_PATH_VIA_RELAY);
	}
	for (int t = PQ_PATH_NTRANSPORTS - 1; t >= 0; t--)
		if (path_dial_possible(p, (enum pq_path_transport)t) && now_ms >= p->next_dial_ms[t])
			path_dial(p, (enum pq_path_transport)t, now_ms, out);
}

static void earliest(uint64_t *d, uint64_t t)
{
	if (t < *d)
		*d = t;
}

uint64_t pq_path_next_deadline(const struct pq_path *p, uint64_t now_ms)
{
	uint64_t d = UINT64_MAX;

	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		const struct pq_pconn *c = &p->conn[k];

		if (c->state == PQ_PCONN_FREE)
			continue;
		if (c->rehs_running)
			earliest(&d, c->rehs_deadline_ms);
		if (c->state != PQ_PCONN_USABLE)
			continue;
		if (k == p->active && c->probe_ms)
			earliest(&d, c->probe_ms + PQ_PATH_PROBE_WAIT_MS);
		else if (k == p->active)
			earliest(&d, probe_due(p, c));
		if (c->dialled && !c->rehs_running)
			earliest(&d, c->key_index != p->key_index ? now_ms
								  : c->proven_ms + p->cfg.reauth_interval_ms);
	}
	if (p->nudge_ms)
		earliest(&d, p->nudge_ms);
	if (endpoints_due(p))
		earliest(&d, p->endpoints_retry_ms);
	for (int t = 0; t < PQ_PATH_NTRANSPORTS; t++)
		if (path_dial_possible(p, (enum pq_path_transport)t))
			earliest(&d, p->next_dial_ms[t]);
	return d != UINT64_MAX && d < now_ms ? now_ms : d;
}

int pq_path_route(const struct pq_path *p, enum pq_path_msg m, bool relay_up, int came_on)
{
	int a = p->active;

	switch (m) {
	case PQ_PATH_MSG_DATA:
		if (a >= 0)
			return a;
		return p->cfg.policy == PQ_PATH_POLICY_DIRECT ? PQ_PATH_VIA_NONE : PQ_PATH_VIA_RELAY;
	case PQ_PATH_MSG_HANDSHAKE:
		/* The relay as a rule; the conn (pinned to the peer's key,
		 * proven by the re-handshake) when the relay cannot deliver or
		 * the peer chose the conn. */
		if (a >= 0 && (came_on >= 0 || !relay_up || !p->online))
			return a;
		return relay_up ? PQ_PATH_VIA_RELAY : PQ_PATH_VIA_NONE;
	case PQ_PATH_MSG_CONTROL:
		if (relay_up && p->online)
			return PQ_PATH_VIA_RELAY;
		return a >= 0 ? a : PQ_PATH_VIA_NONE;
	case PQ_PATH_MSG_SIGNAL:
	default:
		return a >= 0 ? a : PQ_PATH_VIA_RELAY;
	}
}

int pq_path_route_fallback(const struct pq_path *p, enum pq_path_msg m, bool relay_up)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		if (k != p->active && p->conn[k].state == PQ_PCONN_USABLE && p->conn[k].transport == PQ_PATH_TLS)
			return k;
	if (m == PQ_PATH_MSG_DATA && p->cfg.policy == PQ_PATH_POLICY_DIRECT)
		return PQ_PATH_VIA_NONE;
	return relay_up || m != PQ_PATH_MSG_HANDSHAKE ? PQ_PATH_VIA_RELAY : PQ_PATH_VIA_NONE;
}

const char *pq_path_drop_name(enum pq_path_drop reason)
{
	static const char *const names[PQ_PATH_DROP_COUNT] = {
		[PQ_PATH_DROP_CLOSED] = "connection lost",
		[PQ_PATH_DROP_SEND_FAILED] = "send failed",
		[PQ_PATH_DROP_REHS_FAILED] = "re-handshake failed",
		[PQ_PATH_DROP_REHS_TIMEOUT] = "re-handshake timed out",
		[PQ_PATH_DROP_PROBE] = "probe unanswered",
		[PQ_PATH_DROP_CROSSING] = "crossing dials: the lower key's wins",
		[PQ_PATH_DROP_REPLACED] = "replaced by a newer conn",
		[PQ_PATH_DROP_SESSION] = "session ended",
		[PQ_PATH_DROP_POLICY] = "path = relay",
	};

	return (unsigned)reason < PQ_PATH_DROP_COUNT && names[reason] ? names[reason] : "unknown";
}

const char *pq_path_transport_name(enum pq_path_transport t)
{
	return t == PQ_PATH_UDP ? "udp" : "tls";
}
