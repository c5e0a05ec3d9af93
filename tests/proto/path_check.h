/*
 * path_check.h - the path core's invariants (proto/path.h), checked after
 * every event by the unit tests and the fuzzer. Returns NULL when they
 * hold, else the one that broke.
 */
#ifndef PQ_TESTS_PATH_CHECK_H
#define PQ_TESTS_PATH_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/path.h"

static inline const char *path_check(const struct pq_path *p, const struct pq_path_out *out, uint64_t now_ms)
{
	unsigned activates = 0, used = 0, usable = 0, proving = 0;

	if (p->active >= PQ_PATH_MAX_CONNS || (p->active < 0 && p->active != PQ_PATH_VIA_RELAY))
		return "active is neither a slot nor the relay";
	/* Never an active path whose re-handshake has not completed. */
	if (p->active >= 0 && p->conn[p->active].state != PQ_PCONN_USABLE)
		return "active conn is not usable";
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++) {
		const struct pq_pconn *c = &p->conn[k];

		if (c->state > PQ_PCONN_USABLE)
			return "bad conn state";
		used += c->state != PQ_PCONN_FREE;
		usable += c->state == PQ_PCONN_USABLE;
		proving += c->state == PQ_PCONN_DIALING || c->state == PQ_PCONN_PROVING;
		if (c->state == PQ_PCONN_PROVING && !c->rehs_running)
			return "a conn proves itself with no run and no deadline";
	}
	if (usable && p->active < 0)
		return "a usable conn but frames go to the relay";
	if (used && (!p->keys || p->cfg.policy == PQ_PATH_POLICY_RELAY))
		return "a conn without keys or under path = relay";
	/* A retry is always scheduled for every transport that could still
	 * improve the path (off the direct path: every allowed one). */
	for (int t = 0; t < PQ_PATH_NTRANSPORTS; t++) {
		bool allowed = p->cfg.transports == PQ_PATH_ANY ||
			       (p->cfg.transports == PQ_PATH_UDP_ONLY) == (t == PQ_PATH_UDP);
		bool under_way = false;

		for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
			under_way |= p->conn[k].state != PQ_PCONN_FREE && p->conn[k].transport == t;
		if (p->cfg.policy != PQ_PATH_POLICY_RELAY && p->keys && allowed && !under_way &&
		    (p->active < 0 || p->conn[p->active].transport < t) && !p->next_dial_ms[t])
			return "a transport that could improve the path has no dial scheduled";
		if (p->active >= 0 && p->next_dial_ms[t] && t <= p->conn[p->active].transport)
			return "a dial scheduled for a transport no better than the active one";
	}
	(void)proving;
	/* Never two active paths: at most one switch per event. */
	for (unsigned i = 0; i < out->n; i++)
		activates += out->act[i].type == PQ_PATH_ACT_ACTIVATE;
	if (activates > 1)
		return "two ACTIVATE actions in one event";
	if (out->n > PQ_PATH_MAX_ACTIONS)
		return "action list overflow";
	if (out->deadline_ms < now_ms)
		return "deadline in the past";
	if (out->deadline_ms != pq_path_next_deadline(p, now_ms))
		return "out->deadline_ms differs from pq_path_next_deadline";
	return NULL;
}

#endif
