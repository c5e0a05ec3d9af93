/*
 * peer.c - per-peer handshake, session and timer (DESIGN §3, §4; state
 * machines in docs/PROTOCOL.md §4.4-§4.5). Keys from a finished handshake
 * go straight into the peer's pq_session and the result is wiped.
 *
 * A peer is "online" while the relay reports it (PEER_ONLINE, or a message
 * the relay delivered from it); only the relay link's events change that.
 * When it goes offline its session is kept (roaming, DESIGN §5): an active
 * direct path goes on carrying frames, rekeys go over it (the handshake is
 * end to end, PROTOCOL §4.6), and when the peer comes back with keys that
 * still work no new hybrid handshake starts: our ENDPOINTS go again and the
 * direct path is re-proved. Keys that retire (PQ_REJECT_AFTER_MS after
 * their handshake, a rekey having failed for 60 s) end the direct conns
 * too. A peer that restarted (lost its keys) cannot open what we seal; it
 * initiates on its PEER_ONLINE, and its HS_INIT replaces our session.
 *
 * The peer's timer is armed at the earliest of the session's next deadline
 * (keepalive, rekey, retirement) and, while it is reachable without usable
 * keys, the next handshake retry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"
#include "node/node_int.h"
#include "util/clock.h"
#include "util/log.h"

/* Room for the largest handshake message (HS_INIT, 1743 bytes). */
#define HS_MSG_CAP 2048

const char *pq_peer_label(const struct pq_node_peer *p)
{
	return p->cfg->name[0] ? p->cfg->name : p->key_b64;
}

struct pq_hs_peer *pq_peer_hs_lookup(void *ctx, const uint8_t pub[PQ_PUBKEY_LEN])
{
	struct pq_node_peer *p = pq_peer_find(ctx, pub);

	return p ? &p->hs : NULL;
}

bool pq_peer_hs_index_taken(void *ctx, uint32_t index)
{
	struct pq_node *node = ctx;

	for (size_t i = 0; i < node->peer_count; i++)
		if (pq_session_owns_index(&node->peers[i].session, index))
			return true;
	return false;
}

int pq_peers_init(struct pq_node *node, char *err, size_t err_len)
{
	uint64_t mono = pq_mono_ms(); /* issue 11: the rate limiter runs on it */

	node->peer_count = 0;
	/* Room for every peer a reload may add (reload.c): slots never move,
	 * timers and conns point into them. Untouched pages cost no memory. */
	node->peers = calloc(PQ_CONFIG_MAX_PEERS, sizeof(*node->peers));
	if (!node->peers)
		return PQ_E_NOMEM;
	for (size_t i = 0; i < node->cfg.peer_count; i++) {
		const struct pq_config_peer *c = &node->cfg.peers[i];

		if (memcmp(c->key, node->pub, PQ_PUBKEY_LEN) == 0) {
			snprintf(err, err_len, "the [peer] at line %u has this node's own key", c->line);
			return PQ_E_CONFIG;
		}
		pq_peer_slot_init(node, &node->peers[i], (uint32_t)i, c, mono);
		node->peer_count++;
	}
	pq_path_exec_init(node);
	return 0;
}

void pq_peer_slot_init(struct pq_node *node, struct pq_node_peer *p, uint32_t id,
		       const struct pq_config_peer *c, uint64_t mono_ms)
{
	memset(p, 0, sizeof(*p));
	p->node = node;
	p->id = id;
	p->cfg = c;
	memcpy(p->key, c->key, PQ_PUBKEY_LEN);
	pq_key_to_base64(p->key_b64, p->key);
	pq_hs_peer_init(&p->hs, p->key, mono_ms);
	p->hs.user = p;
	pq_session_init(&p->session);
	pq_session_set_rekey_after(&p->session, node->opts.test_rekey_ms);
	pq_timer_init(&p->timer, NULL, p);
	/* Not from 0: after a restart our first ids would meet the partial
	 * wholes the peer still keeps from before (proto/frag.h's TTL covers
	 * only those older than a second). */
	p->frag_next_id = pq_random_below(UINT32_MAX);
}

void pq_peers_free(struct pq_node *node)
{
	for (size_t i = 0; i < node->peer_count; i++) {
		struct pq_node_peer *p = &node->peers[i];

		if (node->loop) {
			pq_loop_timer_cancel(node->loop, &p->timer);
			pq_loop_timer_cancel(node->loop, &p->path.timer);
		}
		pq_session_wipe(&p->session);
		pq_hs_peer_wipe(&p->hs);
		pq_frag_rx_free(&p->frag);
	}
	free(node->peers);
	node->peers = NULL;
	node->peer_count = 0;
}

struct pq_node_peer *pq_peer_find(struct pq_node *node, const uint8_t key[PQ_PUBKEY_LEN])
{
	/* Public keys: memcmp is fine; 256 peers at most. */
	for (size_t i = 0; i < node->peer_count; i++)
		if (!node->peers[i].removed && memcmp(node->peers[i].key, key, PQ_PUBKEY_LEN) == 0)
			return &node->peers[i];
	return NULL;
}

/* p can hear a handshake: online at the relay, or on a direct path. */
static bool peer_reachable(const struct pq_node_peer *p)
{
	return p->online || p->path.core.active >= 0;
}

enum pq_peer_state pq_peer_state(const struct pq_node_peer *p, uint64_t now_ms)
{
	/* A working direct path carries frames while the relay is away. */
	if (!peer_reachable(p))
		return PQ_PEER_OFFLINE;
	return pq_session_can_send(&p->session, now_ms) ? PQ_PEER_ESTABLISHED : PQ_PEER_HANDSHAKING;
}

/* Send HS_INIT to p; failures are logged and retried by the timer. */
static void peer_initiate(struct pq_node_peer *p, uint64_t now_ms)
{
	uint8_t out[HS_MSG_CAP];
	long n;
	int ret;

	p->next_retry_ms = now_ms + PQ_NODE_HS_RETRY_MS + pq_random_below(PQ_NODE_HS_RETRY_JITTER_MS);
	if (pq_path_route(&p->path.core, PQ_PATH_MSG_HANDSHAKE, pq_relay_link_up(p->node),
			  PQ_PATH_VIA_RELAY) == PQ_PATH_VIA_NONE)
		return;
	p->hs_start_us = pq_mono_us();
	n = pq_hs_initiate(&p->node->hs, &p->hs, pq_wall_ms(), pq_mono_ms(), out, sizeof(out));
	if (n < 0) {
		pq_log(PQ_LOG_WARN, "peer %s: cannot start a handshake: %s", pq_peer_label(p),
		       pq_strerror((int)n));
		return;
	}
	if (p->node->opts.test_hs_version)   /* PQLAN_TEST=1 only (cli/cmd_up.c) */
		out[1] = p->node->opts.test_hs_version;
	ret = pq_send_handshake(p, out, (size_t)n, PQ_PATH_VIA_RELAY, now_ms);
	if (ret)
		pq_log(PQ_LOG_WARN, "peer %s: HS_INIT not sent: %s", pq_peer_label(p), pq_strerror(ret));
	else
		pq_log(PQ_LOG_DEBUG, "peer %s: handshake initiated", pq_peer_label(p));
}

/* The relay has p: tell the path core on a change. */
static void peer_set_online(struct pq_node_peer *p, bool online, uint64_t now_ms)
{
	if (p->online == online)
		return;
	p->online = online;
	pq_path_exec_simple(p, online ? PQ_PATH_EV_ONLINE : PQ_PATH_EV_OFFLINE, 0, now_ms);
}

void pq_peer_online(struct pq_node_peer *p, uint64_t now_ms)
{
	/* Keys that still work: the peer (or we) only changed relay conn or
	 * address. No new hybrid handshake: the path core sends our current
	 * addresses and re-proves a direct path (DESIGN §5). */
	bool resume = pq_session_can_send(&p->session, now_ms);

	if (!p->online)
		pq_log(PQ_LOG_INFO, "peer %s: online%s", pq_peer_label(p), resume ? " (session resumed)" : "");
	else
		pq_path_exec_simple(p, PQ_PATH_EV_ONLINE, 0, now_ms); /* again: new addresses */
	peer_set_online(p, true, now_ms);
	if (!resume && !pq_hs_pending(&p->hs, pq_mono_ms()))
		peer_initiate(p, now_ms);
	pq_peer_service(p, now_ms);
}

void pq_peer_offline(struct pq_node_peer *p, uint64_t now_ms)
{
	if (p->online)
		pq_log(PQ_LOG_INFO, "peer %s: offline (session kept)", pq_peer_label(p));
	peer_set_online(p, false, now_ms);
	if (p->path.core.active < 0)
		pq_l2_forget_peer(p->node->l2, p->id);
	pq_peer_service(p, now_ms);
}

void pq_peer_heard_via_relay(struct pq_node_peer *p, uint64_t now_ms)
{
	peer_set_online(p, true, now_ms);
}

/* Install a handshake outcome into p's session. */
static void peer_install(struct pq_node_peer *p, const struct pq_hs_result *res, uint64_t now_ms)
{
	/* A routine rekey (keys that work are being replaced) logs at debug,
	 * a session coming up at info (issue 12: three info lines per pair
	 * every two minutes). */
	enum pq_log_level lvl = pq_session_can_send(&p->session, now_ms) ? PQ_LOG_DEBUG : PQ_LOG_INFO;
	int ret = pq_session_install(&p->session, res, now_ms);

	if (ret) {
		pq_log(PQ_LOG_WARN, "peer %s: keys not installed: %s", pq_peer_label(p), pq_strerror(ret));
		return;
	}
	if (res->event == PQ_HS_EV_KEYS) {
		p->handshake_ms = now_ms;
		/* Initiation to keys, on the side that knows when it started. */
		if (res->initiator && p->hs_start_us) {
			pq_metrics_observe_handshake(p->node, pq_mono_us() - p->hs_start_us);
			p->hs_start_us = 0;
		}
		/* Responder keys wait for HS_FINISH: no initiation of our own
		 * while it is on its way (it would only cross this one). */
		if (!res->confirmed)
			p->next_retry_ms = now_ms + PQ_NODE_HS_RETRY_MS + pq_random_below(PQ_NODE_HS_RETRY_JITTER_MS);
		pq_log(lvl, "peer %s: handshake done (%s%s)", pq_peer_label(p),
		       res->initiator ? "initiator" : "responder",
		       res->confirmed ? "" : ", awaiting confirmation");
	} else {
		pq_log(lvl, "peer %s: keys confirmed", pq_peer_label(p));
	}
}

bool pq_peer_handshake_msg(struct pq_node_peer *p, const uint8_t *msg, size_t len, int via, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	struct pq_hs_result res;
	uint8_t out[HS_MSG_CAP];
	bool settled = false;
	long n;

	memset(&res, 0, sizeof(res));
	/* The answer leaves before the signature is checked (handshake.h,
	 * "Answer first"): the check then overlaps the answer's trip. */
	n = pq_hs_receive_first(&node->hs, p->key, msg, len, pq_wall_ms(), pq_mono_ms(), out, sizeof(out), &res);
	if (n == PQ_E_TIME) {
		/* The one refusal a user can fix (PROTOCOL §4.4): say it. */
		pq_log(PQ_LOG_WARN, "peer %s: handshake refused: stamped more than %u s ahead of our "
		       "clock; check both machines' clocks (NTP)", pq_peer_label(p),
		       (unsigned)(PQ_HS_MAX_FUTURE_MS / 1000));
		goto out;
	}
	/* PROTOCOL §1 "Versions": an HS_INIT of another protocol version is
	 * refused with one warning per peer and version, not in silence
	 * (byte 1 is the version, §4.1). */
	if (n < 0 && len > 1 && msg[0] == PQ_MSG_HS_INIT && msg[1] != PQ_HS_VERSION &&
	    p->version_warned != msg[1]) {
		p->version_warned = msg[1];
		pq_log(PQ_LOG_WARN, "peer %s: handshake refused: it speaks protocol version %u, this node "
		       "speaks %d; run the same pqlan release on both (pqlan --version)", pq_peer_label(p),
		       msg[1], PQ_HS_VERSION);
		goto out;
	}
	if (n < 0) {
		pq_log(PQ_LOG_DEBUG, "peer %s: handshake message 0x%02x dropped: %s", pq_peer_label(p),
		       msg[0], pq_strerror((int)n));
		goto out;
	}
	if (n > 0) {
		int ret = pq_send_handshake(p, out, (size_t)n, via, now_ms);

		if (ret)
			pq_log(PQ_LOG_WARN, "peer %s: handshake reply not sent: %s", pq_peer_label(p),
			       pq_strerror(ret));
	}
	n = pq_hs_settle(&node->hs, &res, pq_mono_ms());
	if (n < 0) {
		pq_log(PQ_LOG_DEBUG, "peer %s: handshake message 0x%02x dropped after its answer: %s",
		       pq_peer_label(p), msg[0], pq_strerror((int)n));
		goto out;
	}
	settled = true;
	if (res.event != PQ_HS_EV_NONE && res.peer == &p->hs)
		peer_install(p, &res, now_ms);
	if (via == PQ_PATH_VIA_RELAY)
		pq_peer_heard_via_relay(p, now_ms);
	pq_peer_service(p, now_ms);
out:
	pq_hs_result_wipe(&res);
	pq_wipe(out, sizeof(out));
	return settled;
}

/* The next time p's timer must fire, UINT64_MAX for never. */
static uint64_t peer_deadline(const struct pq_node_peer *p, uint64_t now_ms)
{
	uint64_t due = pq_session_next_deadline(&p->session, now_ms);

	if (peer_reachable(p) && (p->rekey_wanted || !pq_session_can_send(&p->session, now_ms)) &&
	    p->next_retry_ms < due)
		due = p->next_retry_ms;
	return due;
}

static void peer_timer_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	pq_peer_service(arg, now_ms);
}

void pq_peer_service(struct pq_node_peer *p, uint64_t now_ms)
{
	struct pq_node *node = p->node;
	unsigned want;
	uint64_t due;

	if (node->life.stopping)
		return;
	want = pq_session_poll(&p->session, now_ms);
	p->rekey_wanted = (want & PQ_SESSION_WANT_REKEY) != 0;
	if (peer_reachable(p)) {
		bool can_send = pq_session_can_send(&p->session, now_ms);

		/* No usable keys, or the session asks for new ones: start a
		 * handshake unless ours is still waiting for its answer. */
		if ((!can_send || p->rekey_wanted) && now_ms >= p->next_retry_ms &&
		    !pq_hs_pending(&p->hs, pq_mono_ms()))
			peer_initiate(p, now_ms);
		if ((want & PQ_SESSION_WANT_KEEPALIVE) && can_send) {
			int ret = pq_send_sealed(p, PQ_MSG_KEEPALIVE, NULL, 0, now_ms);

			if (ret)
				pq_log(PQ_LOG_DEBUG, "peer %s: keepalive not sent: %s", pq_peer_label(p),
				       pq_strerror(ret));
		}
	}
	/* Keys came, changed or retired: the path core decides what that
	 * means for the direct path (dial, re-authenticate, drop). */
	pq_path_exec_keys(p, now_ms);
	if (!peer_reachable(p) && !pq_session_can_send(&p->session, now_ms))
		pq_l2_forget_peer(node->l2, p->id);
	due = peer_deadline(p, now_ms);
	p->timer.fn = peer_timer_fired;
	if (due == UINT64_MAX) {
		pq_loop_timer_cancel(node->loop, &p->timer);
		return;
	}
	if (pq_loop_timer_start(node->loop, &p->timer, due > now_ms + 10 ? due - now_ms : 10))
		pq_log(PQ_LOG_ERROR, "peer %s: cannot arm its timer", pq_peer_label(p));
}
