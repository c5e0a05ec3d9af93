/*
 * path_dial.c - when the path core dials, per transport (proto/path.h,
 * "dials" and "retry"): the schedules, the TLS candidate walk, the UDP
 * attempt, and the rule that keeps a retry scheduled for every transport
 * that could still improve the path.
 */
#include "proto/path.h"
#include "proto/path_int.h"

bool path_transport_allowed(const struct pq_path *p, enum pq_path_transport t)
{
	switch (p->cfg.transports) {
	case PQ_PATH_UDP_ONLY:
		return t == PQ_PATH_UDP;
	case PQ_PATH_TLS_ONLY:
		return t == PQ_PATH_TLS;
	case PQ_PATH_ANY:
	default:
		return true;
	}
}

bool path_has_conn_of(const struct pq_path *p, enum pq_path_transport t)
{
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		if (p->conn[k].state != PQ_PCONN_FREE && p->conn[k].transport == t)
			return true;
	return false;
}

static unsigned cands_of(const struct pq_path *p, enum pq_path_transport t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->cand_count; i++)
		n += p->cand_transport[i] == t;
	return n;
}

/* A dial of t could make the path better: nothing as good is active or
 * under way. */
bool path_wants(const struct pq_path *p, enum pq_path_transport t)
{
	if (!path_direct_wanted(p) || !path_transport_allowed(p, t) || path_has_conn_of(p, t))
		return false;
	return p->active < 0 || p->conn[p->active].transport < t;
}

bool path_dial_possible(const struct pq_path *p, enum pq_path_transport t)
{
	if (!p->next_dial_ms[t] || !path_wants(p, t))
		return false;
	/* A UDP attempt is announced through the session (PUNCH): the relay
	 * or the active conn must reach the peer. */
	if (t == PQ_PATH_UDP)
		return (p->online || p->active >= 0) && cands_of(p, PQ_PATH_UDP) > 0;
	return p->online;
}

/* The higher key waits a little longer, so both rarely dial at once. */
static uint64_t dial_at(const struct pq_path *p, uint64_t now_ms, uint64_t base_ms)
{
	return now_ms + base_ms + (p->cfg.we_are_lower ? 0 : PQ_PATH_HIGH_KEY_DELAY_MS);
}

/* Redial t after retry_interval +-1/8 (TLS: from the first candidate). */
void path_schedule_retry(struct pq_path *p, enum pq_path_transport t, uint64_t now_ms)
{
	uint32_t base = p->cfg.retry_interval_ms;
	uint32_t spread = base / 4 + 1;
	uint32_t r = p->cfg.random ? p->cfg.random(p->cfg.random_ctx, spread) : spread / 2;

	if (t == PQ_PATH_TLS)
		p->next_cand = 0;
	p->next_dial_ms[t] = dial_at(p, now_ms, (uint64_t)base - base / 8 + (r < spread ? r : 0));
}

/* Candidates came or the peer came back: every transport that could
 * improve the path, now (the higher key a little later). */
void path_dial_soon(struct pq_path *p, uint64_t now_ms)
{
	for (int t = 0; t < PQ_PATH_NTRANSPORTS; t++) {
		if (!path_wants(p, (enum pq_path_transport)t))
			continue;
		if (t == PQ_PATH_TLS)
			p->next_cand = 0;
		p->next_dial_ms[t] = dial_at(p, now_ms, 0);
	}
}

/* The retry rule: a schedule for every transport that could improve the
 * path and has none; none where nothing is wanted. */
void path_ensure_retries(struct pq_path *p, uint64_t now_ms)
{
	for (int t = 0; t < PQ_PATH_NTRANSPORTS; t++) {
		if (!path_wants(p, (enum pq_path_transport)t))
			p->next_dial_ms[t] = 0;
		else if (!p->next_dial_ms[t])
			path_schedule_retry(p, (enum pq_path_transport)t, now_ms);
	}
}

/* A TLS dial that never opened: the next TLS candidate soon. */
bool path_next_tls_cand(struct pq_path *p, uint64_t now_ms)
{
	for (unsigned i = p->next_cand + 1; i < p->cand_count; i++)
		if (p->cand_transport[i] == PQ_PATH_TLS) {
			p->next_cand = i;
			p->next_dial_ms[PQ_PATH_TLS] = now_ms + PQ_PATH_NEXT_CAND_MS;
			return true;
		}
	return false;
}

static int first_cand(const struct pq_path *p, enum pq_path_transport t, unsigned from)
{
	for (unsigned i = from; i < p->cand_count; i++)
		if (p->cand_transport[i] == t)
			return (int)i;
	return -1;
}

/* Start a dial of t (DIAL action), or wait for the retry. */
void path_dial(struct pq_path *p, enum pq_path_transport t, uint64_t now_ms, struct pq_path_out *out)
{
	int cand = first_cand(p, t, t == PQ_PATH_TLS ? p->next_cand : 0);
	int k;

	p->next_dial_ms[t] = 0;
	if (cand < 0 || (k = path_new_conn(p, PQ_PCONN_DIALING, true, (uint8_t)t)) < 0) {
		path_schedule_retry(p, t, now_ms);
		return;
	}
	if (t == PQ_PATH_TLS)
		p->next_cand = (unsigned)cand;
	p->conn[k].cand = (unsigned)cand;
	p->count.dials++;
	if (t == PQ_PATH_UDP)
		p->count.udp_attempts++;
	path_emit(out, PQ_PATH_ACT_DIAL, k);
	out->act[out->n - 1].cand = (unsigned)cand;
}
