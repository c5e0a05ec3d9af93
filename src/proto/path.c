/*
 * path.c - the path core's events (proto/path.h has the rules; the timer,
 * the deadline and the route are in path_timer.c).
 */
#include <string.h>

#include "proto/path.h"
#include "proto/path_int.h"

void pq_path_init(struct pq_path *p, const struct pq_path_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	if (!p->cfg.retry_interval_ms)
		p->cfg.retry_interval_ms = 1;
	if (!p->cfg.reauth_interval_ms)
		p->cfg.reauth_interval_ms = 1;
	p->active = PQ_PATH_VIA_RELAY;
}

void path_emit(struct pq_path_out *out, enum pq_path_act_type type, int conn)
{
	struct pq_path_action *a;

	/* Bounded by construction (every event emits at most a few actions
	 * per slot); a full list would be a bug here, so keep the first. */
	if (out->n >= PQ_PATH_MAX_ACTIONS)
		return;
	a = &out->act[out->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->conn = conn;
}

bool path_has_conns(const struct pq_path *p)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		if (p->conn[k].state != PQ_PCONN_FREE)
			return true;
	return false;
}

/* Dials and accepts are allowed at all. */
bool path_direct_wanted(const struct pq_path *p)
{
	return p->cfg.policy != PQ_PATH_POLICY_RELAY && p->keys;
}

/* The best usable conn: UDP over TLS, then the newest. */
static int best_usable(const struct pq_path *p)
{
	int best = PQ_PATH_VIA_RELAY;

	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		const struct pq_pconn *c = &p->conn[k];

		if (c->state != PQ_PCONN_USABLE)
			continue;
		if (best < 0 || c->transport > p->conn[best].transport ||
		    (c->transport == p->conn[best].transport && c->seq > p->conn[best].seq))
			best = k;
	}
	return best;
}

/* Frames go to k (a slot, or the relay) from now on; was: where they went. */
static void set_active(struct pq_path *p, int k, int was, uint64_t now_ms, struct pq_path_out *out)
{
	p->active = k;
	if (was < 0 && k >= 0)
		p->count.migrations++;
	if (was >= 0 && k < 0) {
		p->count.fallbacks++;
		/* The peer may have had nothing to send and so not noticed. */
		p->nudge_ms = now_ms ? now_ms : 1;
	}
	if (k >= 0) {
		struct pq_pconn *c = &p->conn[k];

		c->unanswered_ms = 0;
		c->probe_ms = 0;
		c->last_rx_ms = now_ms;
		c->last_tx_ms = now_ms;
		p->nudge_ms = 0;
		/* A stand-by taking over from a conn that died may have died
		 * of the same cause (an address change): probe it at the next
		 * timer rather than after a second of silence. */
		if (was >= 0 && p->conn[k].proven_ms + PQ_PATH_PROBE_AFTER_MS <= now_ms)
			c->unanswered_ms = now_ms >= PQ_PATH_PROBE_AFTER_MS ? now_ms - PQ_PATH_PROBE_AFTER_MS : 1;
	}
	/* One switch per event: a second one in the same event (the
	 * stand-by conn failing too) amends the first. */
	for (unsigned i = 0; i < out->n; i++)
		if (out->act[i].type == PQ_PATH_ACT_ACTIVATE) {
			out->act[i].conn = k;
			return;
		}
	path_emit(out, PQ_PATH_ACT_ACTIVATE, k);
	if (out->n && out->act[out->n - 1].type == PQ_PATH_ACT_ACTIVATE)
		out->act[out->n - 1].from = was;
}

/* Free slot k; emit: tell the node to close it (not for CLOSED). */
static void slot_free(struct pq_path *p, int k, enum pq_path_drop why, bool emit, struct pq_path_out *out)
{
	memset(&p->conn[k], 0, sizeof(p->conn[k]));
	p->count.drops[why]++;
	if (emit) {
		path_emit(out, PQ_PATH_ACT_DROP, k);
		if (out->act[out->n - 1].type == PQ_PATH_ACT_DROP)
			out->act[out->n - 1].reason = why;
	}
}

/* After a conn went away: a TLS dial that never opened tries the next
 * TLS candidate; everything else waits for the retry (path_ensure_retries
 * at the end of every event). */
static void after_loss(struct pq_path *p, const struct pq_pconn *gone, uint64_t now_ms)
{
	if (gone->transport == PQ_PATH_UDP && gone->state != PQ_PCONN_USABLE)
		p->count.udp_failed++;
	if (gone->transport == PQ_PATH_TLS && gone->state == PQ_PCONN_DIALING && path_wants(p, PQ_PATH_TLS) &&
	    path_next_tls_cand(p, now_ms))
		return;
	if (path_wants(p, (enum pq_path_transport)gone->transport) &&
	    p->next_dial_ms[gone->transport] < now_ms + PQ_PATH_NEXT_CAND_MS)
		p->next_dial_ms[gone->transport] = 0; /* a failure: not again at once */
}

/* Drop slot k, and with it the active path if it was (the next best
 * conn, else the relay: fallback). */
void path_drop(struct pq_path *p, int k, enum pq_path_drop why, bool emit, uint64_t now_ms,
	       struct pq_path_out *out)
{
	struct pq_pconn gone = p->conn[k];

	slot_free(p, k, why, emit, out);
	if (p->active == k) {
		set_active(p, best_usable(p), k, now_ms, out);
		/* A stand-by took over: tell the peer on it, as a fallback
		 * tells it through the relay (the way may be dead in our
		 * direction only, and the peer may have nothing to send). A
		 * second later: we send nothing more on the dropped conn, so
		 * by then the peer's side of it is quiet and it probes. */
		if (p->active >= 0)
			p->nudge_ms = now_ms + PQ_PATH_PROBE_AFTER_MS;
	}
	after_loss(p, &gone, now_ms);
}

/* Every conn at once (keys gone, path = relay): one switch to the relay,
 * not one per conn; no retry (none is wanted). */
void path_drop_all(struct pq_path *p, enum pq_path_drop why, uint64_t now_ms, struct pq_path_out *out)
{
	int was = p->active;

	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		if (p->conn[k].state != PQ_PCONN_FREE)
			slot_free(p, k, why, true, out);
	if (was >= 0)
		set_active(p, PQ_PATH_VIA_RELAY, was, now_ms, out);
}

static void rehs_begin(struct pq_pconn *c, uint64_t now_ms)
{
	c->rehs_running = true;
	c->rehs_deadline_ms = now_ms + PQ_PATH_REHS_TIMEOUT_MS;
}

void path_rehs_start(struct pq_path *p, int k, uint64_t now_ms, struct pq_path_out *out)
{
	rehs_begin(&p->conn[k], now_ms);
	path_emit(out, PQ_PATH_ACT_REHS_START, k);
}

static int free_slot(const struct pq_path *p)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		if (p->conn[k].state == PQ_PCONN_FREE)
			return k;
	return -1;
}

int path_new_conn(struct pq_path *p, enum pq_pconn_state st, bool dialled, uint8_t transport)
{
	int k = free_slot(p);
	struct pq_pconn *c;

	if (k < 0)
		return -1;
	c = &p->conn[k];
	memset(c, 0, sizeof(*c));
	c->state = st;
	c->dialled = dialled;
	c->transport = transport;
	c->seq = ++p->seq;
	return k;
}

/* Two conns still proving, one dialled by each side: the lower key's
 * dial wins (DESIGN §2). Returns false when k itself lost. */
static bool resolve_crossing(struct pq_path *p, int k, uint64_t now_ms, struct pq_path_out *out)
{
	for (int j = 0; j < PQ_PATH_MAX_CONNS; j++) {
		struct pq_pconn *o = &p->conn[j];
		int loser;

		if (j == k || o->state != PQ_PCONN_PROVING || o->transport != p->conn[k].transport ||
		    o->dialled == p->conn[k].dialled)
			continue;
		/* Ours wins when we are the lower key. */
		loser = p->conn[k].dialled == p->cfg.we_are_lower ? j : k;
		path_drop(p, loser, PQ_PATH_DROP_CROSSING, true, now_ms, out);
		if (loser == k)
			return false;
	}
	return true;
}

static void on_opened(struct pq_path *p, int k, uint64_t now_ms, struct pq_path_out *out)
{
	struct pq_pconn *c = &p->conn[k];

	c->state = PQ_PCONN_PROVING;
	c->last_rx_ms = now_ms;
	if (!resolve_crossing(p, k, now_ms, out))
		return;
	if (c->dialled)
		path_rehs_start(p, k, now_ms, out);
	else
		rehs_begin(c, now_ms); /* the peer's REQUEST is due within the same 5 s */
}

static void on_accepted(struct pq_path *p, uint8_t transport, uint64_t now_ms, struct pq_path_out *out)
{
	int k;

	out->accepted = -1;
	if (!path_direct_wanted(p) || !path_transport_allowed(p, (enum pq_path_transport)transport))
		return;
	k = path_new_conn(p, PQ_PCONN_DIALING, false, transport);
	if (k < 0)
		return;
	out->accepted = k;
	on_opened(p, k, now_ms, out);
}

static void on_rehs_done(struct pq_path *p, int k, uint32_t key_index, uint64_t now_ms,
			 struct pq_path_out *out)
{
	struct pq_pconn *c = &p->conn[k];
	int was = p->active;

	c->rehs_running = false;
	c->proven_ms = now_ms;
	c->key_index = key_index;
	if (c->state == PQ_PCONN_USABLE)
		return; /* re-authenticated */
	c->state = PQ_PCONN_USABLE;
	c->last_rx_ms = now_ms;
	if (c->transport == PQ_PATH_UDP)
		p->count.udp_validated++;
	if (best_usable(p) != k)
		return; /* a better conn is active: this one stands by */
	/* It replaces the older conns of its transport in one step: no
	 * fallback in between (the active one may be among them). */
	for (int j = 0; j < PQ_PATH_MAX_CONNS; j++)
		if (j != k && p->conn[j].state == PQ_PCONN_USABLE && p->conn[j].transport == c->transport)
			slot_free(p, j, PQ_PATH_DROP_REPLACED, true, out);
	set_active(p, k, was, now_ms, out);
}

void pq_path_rx(struct pq_path *p, int k, uint64_t now_ms)
{
	if (k < 0 || k >= PQ_PATH_MAX_CONNS || p->conn[k].state == PQ_PCONN_FREE)
		return;
	p->conn[k].last_rx_ms = now_ms;
	p->conn[k].unanswered_ms = 0;
	p->conn[k].probe_ms = 0;
}

bool pq_path_tx(struct pq_path *p, int k, uint64_t now_ms)
{
	if (k < 0 || k >= PQ_PATH_MAX_CONNS)
		return false;
	p->conn[k].last_tx_ms = now_ms;
	if (k != p->active || p->conn[k].unanswered_ms)
		return false;
	p->conn[k].unanswered_ms = now_ms ? now_ms : 1;
	return true;
}

bool pq_path_rx_wants_event(const struct pq_path *p, int k, uint64_t now_ms)
{
	const struct pq_pconn *a;

	if (p->active < 0 || k == p->active || (k != PQ_PATH_VIA_RELAY && (k < 0 || k >= PQ_PATH_MAX_CONNS)))
		return false;
	a = &p->conn[p->active];
	return !a->probe_ms && now_ms - a->last_rx_ms >= PQ_PATH_PROBE_AFTER_MS;
}

bool pq_path_rx_is_answer(uint8_t type)
{
	return type != PQ_MSG_PROBE && type != PQ_MSG_PMTU_PROBE;
}

void pq_path_tx_answer(struct pq_path *p, int k, uint64_t now_ms)
{
	if (k < 0 || k >= PQ_PATH_MAX_CONNS)
		return;
	p->conn[k].last_tx_ms = now_ms;
}

static void on_rx(struct pq_path *p, int k, uint64_t now_ms, struct pq_path_out *out)
{
	struct pq_pconn *a;

	if (k >= 0)
		pq_path_rx(p, k, now_ms);
	/* Through the relay, or a stand-by conn, while our active conn has
	 * gone quiet: the peer may have dropped it. Probe it now. */
	if (!pq_path_rx_wants_event(p, k, now_ms))
		return;
	a = &p->conn[p->active];
	path_emit(out, PQ_PATH_ACT_PROBE, p->active);
	a->probe_ms = now_ms ? now_ms : 1;
}

static void on_keys(struct pq_path *p, uint32_t key_index, uint64_t now_ms, struct pq_path_out *out)
{
	bool fresh = !p->keys;

	/* New keys: ENDPOINTS again. After a rekey that is one small message
	 * more; after a handshake that replaced the session (the peer
	 * restarted and lost everything, ENDPOINTS included) it is what lets
	 * the peer dial us at all. */
	if (fresh || key_index != p->key_index)
		p->endpoints_sent = false;
	p->keys = true;
	p->key_index = key_index;
	if (fresh)
		path_dial_soon(p, now_ms);
	path_timer(p, now_ms, out); /* re-authentication after a rekey, endpoints */
}

static void on_candidates(struct pq_path *p, const struct pq_path_event *ev, uint64_t now_ms)
{
	unsigned n = ev->cand_count < PQ_PATH_MAX_CANDS ? ev->cand_count : PQ_PATH_MAX_CANDS;

	for (unsigned i = 0; i < n; i++)
		p->cand_transport[i] = ev->cand_transport[i] == PQ_PATH_UDP ? PQ_PATH_UDP : PQ_PATH_TLS;
	p->cand_count = n;
	p->next_cand = 0;
	/* New candidates: try them now (DESIGN §5). */
	path_dial_soon(p, now_ms);
}

static void on_policy(struct pq_path *p, const struct pq_path_event *ev, uint64_t now_ms,
		      struct pq_path_out *out)
{
	p->cfg.policy = ev->policy;
	p->cfg.transports = ev->transports;
	if (ev->policy == PQ_PATH_POLICY_RELAY) {
		path_drop_all(p, PQ_PATH_DROP_POLICY, now_ms, out);
		return;
	}
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		if (p->conn[k].state != PQ_PCONN_FREE &&
		    !path_transport_allowed(p, (enum pq_path_transport)p->conn[k].transport))
			path_drop(p, k, PQ_PATH_DROP_POLICY, true, now_ms, out);
	path_dial_soon(p, now_ms);
	path_timer(p, now_ms, out);
}

static bool slot_ok(const struct pq_path *p, int k)
{
	return k >= 0 && k < PQ_PATH_MAX_CONNS && p->conn[k].state != PQ_PCONN_FREE;
}

/* The events that name a slot, and the state the slot must be in. */
static bool event_ok(const struct pq_path *p, const struct pq_path_event *ev)
{
	switch (ev->type) {
	case PQ_PATH_EV_DIAL_OPENED:
		return slot_ok(p, ev->conn) && p->conn[ev->conn].state == PQ_PCONN_DIALING &&
		       p->conn[ev->conn].dialled;
	case PQ_PATH_EV_CLOSED:
	case PQ_PATH_EV_SEND_FAILED:
	case PQ_PATH_EV_REHS_FAILED:
	case PQ_PATH_EV_TX:
		return slot_ok(p, ev->conn);
	case PQ_PATH_EV_REHS_DONE:
		return slot_ok(p, ev->conn) && p->conn[ev->conn].state != PQ_PCONN_DIALING &&
		       p->conn[ev->conn].rehs_running;
	case PQ_PATH_EV_REHS_REQUEST:
		return slot_ok(p, ev->conn) && p->conn[ev->conn].state == PQ_PCONN_USABLE;
	case PQ_PATH_EV_RX:
		return ev->conn == PQ_PATH_VIA_RELAY ||
		       (slot_ok(p, ev->conn) && p->conn[ev->conn].state != PQ_PCONN_DIALING);
	case PQ_PATH_EV_CANDIDATES:
		return ev->cand_count == 0 || ev->cand_transport;
	case PQ_PATH_EV_POLICY:
		return ev->policy <= PQ_PATH_POLICY_DIRECT && ev->transports <= PQ_PATH_TLS_ONLY;
	case PQ_PATH_EV_ACCEPTED:
		return ev->conn == PQ_PATH_TLS || ev->conn == PQ_PATH_UDP;
	default:
		return ev->type < PQ_PATH_EV_COUNT;
	}
}

int pq_path_input(struct pq_path *p, const struct pq_path_event *ev, uint64_t now_ms, struct pq_path_out *out)
{
	int k = ev->conn;

	memset(out, 0, sizeof(*out));
	out->accepted = -1;
	if (!event_ok(p, ev)) {
		out->deadline_ms = pq_path_next_deadline(p, now_ms);
		return PQ_E_INVAL;
	}
	switch (ev->type) {
	case PQ_PATH_EV_TIMER:
		path_timer(p, now_ms, out);
		break;
	case PQ_PATH_EV_KEYS:
		on_keys(p, ev->key_index, now_ms, out);
		break;
	case PQ_PATH_EV_KEYS_GONE:
		p->keys = false;
		p->endpoints_sent = false;
		path_drop_all(p, PQ_PATH_DROP_SESSION, now_ms, out);
		p->nudge_ms = 0; /* nothing to seal it with */
		break;
	case PQ_PATH_EV_ONLINE:
		/* Back at the relay, maybe from new addresses: ours again, and
		 * a dial now if we have no direct path. */
		p->online = true;
		p->endpoints_sent = false;
		path_dial_soon(p, now_ms);
		path_timer(p, now_ms, out);
		break;
	case PQ_PATH_EV_OFFLINE:
		p->online = false;
		break;
	case PQ_PATH_EV_CANDIDATES:
		on_candidates(p, ev, now_ms);
		path_timer(p, now_ms, out);
		break;
	case PQ_PATH_EV_DIAL_OPENED:
		on_opened(p, k, now_ms, out);
		break;
	case PQ_PATH_EV_ACCEPTED:
		/* ev->conn carries the transport here (the slot is ours to pick). */
		on_accepted(p, (uint8_t)ev->conn, now_ms, out);
		break;
	case PQ_PATH_EV_CLOSED:
		path_drop(p, k, PQ_PATH_DROP_CLOSED, false, now_ms, out);
		break;
	case PQ_PATH_EV_SEND_FAILED:
		path_drop(p, k, PQ_PATH_DROP_SEND_FAILED, true, now_ms, out);
		break;
	case PQ_PATH_EV_REHS_REQUEST:
		/* On UDP a new REQUEST replaces the run (dconn.c): a new clock. */
		if (!p->conn[k].rehs_running || p->conn[k].transport == PQ_PATH_UDP)
			rehs_begin(&p->conn[k], now_ms);
		break;
	case PQ_PATH_EV_REHS_DONE:
		on_rehs_done(p, k, ev->key_index, now_ms, out);
		break;
	case PQ_PATH_EV_REHS_FAILED:
		path_drop(p, k, PQ_PATH_DROP_REHS_FAILED, true, now_ms, out);
		break;
	case PQ_PATH_EV_RX:
		on_rx(p, k, now_ms, out);
		break;
	case PQ_PATH_EV_TX:
		(void)pq_path_tx(p, k, now_ms);
		break;
	case PQ_PATH_EV_ENDPOINTS_UNSENT:
		p->endpoints_sent = false;
		p->endpoints_retry_ms = now_ms + PATH_ENDPOINTS_RETRY_MS;
		break;
	case PQ_PATH_EV_POLICY:
		on_policy(p, ev, now_ms, out);
		break;
	case PQ_PATH_EV_OURS_CHANGED:
		p->endpoints_sent = false;
		path_timer(p, now_ms, out);
		break;
	default:
		break;
	}
	path_ensure_retries(p, now_ms);
	out->deadline_ms = pq_path_next_deadline(p, now_ms);
	return 0;
}
