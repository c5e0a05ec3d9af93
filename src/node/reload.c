/*
 * reload.c - apply a re-read node.conf to the running node (reload.h).
 *
 * Owns no state of its own: it compares node->cfg with the new file,
 * then edits the peer array (node/peer.h) and swaps node->cfg, in one
 * turn of the loop, so no callback ever sees a half-applied reload.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crypto/util.h"
#include "node/node_int.h"
#include "node/reload.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sdnotify.h"
#include "util/strbuf.h"

/* What a removed peer's slot points at: no name, never direct. */
static const struct pq_config_peer removed_cfg = { .path = PQ_PATH_RELAY };

static bool addr_eq(const struct pq_config_addr *a, const struct pq_config_addr *b)
{
	return a->len == b->len && !memcmp(&a->ss, &b->ss, a->len);
}

/* The keys that need a restart and differ, comma-separated into b. */

/* issue 10: the [relay] sections after the first, in order (their lines
 * may move; url, key and stun may not). */
static bool relays_differ(const struct pq_node_config *a, const struct pq_node_config *b)
{
	if (a->relay_count != b->relay_count)
		return true;
	for (size_t i = 0; i < a->relay_count; i++) {
		const struct pq_config_relay *x = &a->relays[i], *y = &b->relays[i];

		if (strcmp(x->url.text, y->url.text) || memcmp(x->key, y->key, sizeof(x->key)) ||
		    x->stun_off != y->stun_off || x->has_stun != y->has_stun ||
		    (x->has_stun && !addr_eq(&x->stun, &y->stun)))
			return true;
	}
	return false;
}
static void fixed_changes(const struct pq_node_config *a, const struct pq_node_config *b,
			  struct pq_strbuf *sb)
{
	const char *sep = "";
#define DIFF(cond, name)                                  \
	do {                                              \
		if (cond) {                               \
			pq_sb_printf(sb, "%s%s", sep, name); \
			sep = ", ";                       \
		}                                         \
	} while (0)
	DIFF(strcmp(a->private_key, b->private_key), "private_key");
	DIFF(strcmp(a->tap, b->tap), "tap");
	DIFF(a->has_address != b->has_address ||
	     (a->has_address && memcmp(&a->address, &b->address, sizeof(a->address))), "address");
	DIFF(!addr_eq(&a->listen, &b->listen), "listen");
	DIFF(strcmp(a->control, b->control), "control");
	DIFF(a->has_metrics != b->has_metrics || (a->has_metrics && !addr_eq(&a->metrics, &b->metrics)),
	     "metrics");
	DIFF(a->offload != b->offload, "offload");
	DIFF(a->tap_persist != b->tap_persist, "tap_persist");
	DIFF(a->has_mac != b->has_mac || (a->has_mac && memcmp(a->mac, b->mac, 6)), "mac");
	DIFF(a->mtu != b->mtu, "mtu");
	DIFF(a->udp_off != b->udp_off || a->has_listen_udp != b->has_listen_udp ||
	     (a->has_listen_udp && !addr_eq(&a->listen_udp, &b->listen_udp)), "listen_udp");
	DIFF(a->stun_count != b->stun_count ||
	     memcmp(a->stun, b->stun, a->stun_count * sizeof(a->stun[0])), "stun");
	DIFF(a->relay_stun_off != b->relay_stun_off || a->has_relay_stun != b->has_relay_stun ||
	     (a->has_relay_stun && !addr_eq(&a->relay_stun, &b->relay_stun)), "[relay] stun");
	DIFF(strcmp(a->relay_url.text, b->relay_url.text), "[relay] url");
	DIFF(memcmp(a->relay_key, b->relay_key, sizeof(a->relay_key)), "[relay] key");
	DIFF(relays_differ(a, b), "[relay] sections"); /* issue 10: several relays */
#undef DIFF
}

static const struct pq_config_peer *cfg_peer(const struct pq_node_config *c, const uint8_t key[32])
{
	for (size_t i = 0; i < c->peer_count; i++)
		if (!memcmp(c->peers[i].key, key, 32))
			return &c->peers[i];
	return NULL;
}

static bool peer_cfg_same(const struct pq_config_peer *a, const struct pq_config_peer *b)
{
	return !strcmp(a->name, b->name) && a->path == b->path && a->transport == b->transport &&
	       a->has_endpoint == b->has_endpoint && (!a->has_endpoint || addr_eq(&a->endpoint, &b->endpoint));
}

/* Take a peer out: everything it held goes, its slot stays (reload.h). */
static void peer_remove(struct pq_node *node, struct pq_node_peer *p, uint64_t now_ms)
{
	pq_path_exec_reset(p, now_ms);    /* conns closed, path timer cancelled */
	pq_loop_timer_cancel(node->loop, &p->timer);
	pq_l2_forget_peer(node->l2, p->id);
	pq_session_wipe(&p->session);
	pq_session_init(&p->session);
	pq_hs_peer_wipe(&p->hs);
	pq_frag_rx_free(&p->frag);
	p->online = false;
	p->removed = true;
	p->cfg = &removed_cfg;
}

/* A slot for a new peer: the next unused one, else the oldest tombstone
 * (its conns were detached by an earlier reload). NULL when full. */
static struct pq_node_peer *peer_slot(struct pq_node *node)
{
	if (node->peer_count < PQ_CONFIG_MAX_PEERS)
		return &node->peers[node->peer_count++];
	for (size_t i = 0; i < node->peer_count; i++)
		if (node->peers[i].removed)
			return &node->peers[i];
	return NULL;
}

static size_t live_peers(const struct pq_node *node)
{
	size_t n = 0;

	for (size_t i = 0; i < node->peer_count; i++)
		n += !node->peers[i].removed;
	return n;
}

/* Does next fit, and is none of its peers us? "" or the reason. */
static const char *peers_check(const struct pq_node *node, const struct pq_node_config *next)
{
	size_t added = 0, free_slots = PQ_CONFIG_MAX_PEERS - node->peer_count;

	for (size_t i = 0; i < next->peer_count; i++) {
		const struct pq_node_peer *p = pq_peer_find((struct pq_node *)node, next->peers[i].key);

		if (!memcmp(next->peers[i].key, node->pub, PQ_PUBKEY_LEN))
			return "a [peer] has this node's own key";
		added += !p;
	}
	for (size_t i = 0; i < node->peer_count; i++)
		free_slots += node->peers[i].removed;
	return added > free_slots ? "no room for that many new peers before a restart" : "";
}

size_t pq_node_reload(struct pq_node *node, char *out, size_t cap)
{
	struct pq_strbuf sb = { out, cap, 0, false }, fixed;
	struct pq_node_config next, old;
	char why[PQ_CONFIG_ERR_LEN] = "", fixed_text[256] = "";
	uint64_t now = pq_loop_now(node->loop);
	size_t added = 0, removed = 0, changed = 0, i;
	const char *bad;

	(void)pq_sd_notify("RELOADING=1");
	if (cap)
		out[0] = 0;
	memset(&next, 0, sizeof(next));
	if (pq_node_config_load(&next, node->conf_path, why, sizeof(why))) {
		pq_sb_printf(&sb, "refused: %s does not load, nothing changed:\n%s", node->conf_path, why);
		goto done;
	}
	fixed = (struct pq_strbuf){ fixed_text, sizeof(fixed_text), 0, false };
	fixed_changes(&node->cfg, &next, &fixed);
	if (fixed_text[0]) {
		pq_sb_printf(&sb, "refused: %s changes %s, which need%s a restart; nothing changed",
			     node->conf_path, fixed_text, strchr(fixed_text, ',') ? "" : "s");
		goto done_free;
	}
	if (*(bad = peers_check(node, &next))) {
		pq_sb_printf(&sb, "refused: %s: %s; nothing changed", node->conf_path, bad);
		goto done_free;
	}

	/* First, so the lines below already follow the new level. */
	if (!node->opts.verbose)
		pq_log_set_level((enum pq_log_level)next.log_level);
	/* Removed and changed peers, against the configuration in force. */
	for (i = 0; i < node->peer_count; i++) {
		struct pq_node_peer *p = &node->peers[i];
		const struct pq_config_peer *c;

		if (p->removed)
			continue;
		if (!(c = cfg_peer(&next, p->key))) {
			pq_log(PQ_LOG_INFO, "reload: peer %s removed", pq_peer_label(p));
			peer_remove(node, p, now);
			removed++;
		} else if (!peer_cfg_same(p->cfg, c)) {
			pq_log(PQ_LOG_DEBUG, "reload: peer %s changed (name, endpoint, path or transport)",
			       pq_peer_label(p));
			changed++;
		}
	}
	/* Swap the configuration; every live peer points into the new one,
	 * and its path core takes the new values (a new path or transport
	 * drops only the conns it forbids; a new static endpoint starts the
	 * path over; the session stays). */
	old = node->cfg;
	node->cfg = next;
	memset(&next, 0, sizeof(next));
	for (i = 0; i < node->peer_count; i++) {
		struct pq_node_peer *p = &node->peers[i];
		const struct pq_config_peer *was = p->cfg;

		if (p->removed)
			continue;
		p->cfg = cfg_peer(&node->cfg, p->key);
		pq_path_exec_reconfigure(p, was->has_endpoint != p->cfg->has_endpoint ||
					    (p->cfg->has_endpoint && !addr_eq(&was->endpoint, &p->cfg->endpoint)),
					 now);
	}
	for (i = 0; i < node->cfg.peer_count; i++) {
		const struct pq_config_peer *c = &node->cfg.peers[i];
		struct pq_node_peer *p;

		if (pq_peer_find(node, c->key))
			continue;
		p = peer_slot(node);  /* peers_check made sure there is one */
		if (!p)
			break;
		pq_peer_slot_init(node, p, (uint32_t)(p - node->peers), c, pq_mono_ms());
		pq_path_exec_peer_init(p);
		pq_log(PQ_LOG_INFO, "reload: peer %s added", pq_peer_label(p));
		added++;
	}
	pq_node_config_free(&old);
	for (i = 0; i < node->peer_count; i++)
		if (!node->peers[i].removed)
			pq_peer_service(&node->peers[i], now);
	/* The relay learns the new set from a fresh RELAY_WATCH. */
	if (added || removed)
		pq_relay_link_rewatch(node);
	pq_sb_printf(&sb, "ok: reloaded %s: %zu peer(s) added, %zu removed, %zu changed, %zu in all; "
		     "retry_interval %us, reauth_interval %us, log_level %s", node->conf_path, added,
		     removed, changed, live_peers(node), node->cfg.retry_interval,
		     node->cfg.reauth_interval,
		     pq_log_level_name((enum pq_log_level)node->cfg.log_level));
	goto done;
done_free:
	pq_node_config_free(&next);
done:
	pq_log(strncmp(out, "ok", 2) ? PQ_LOG_ERROR : PQ_LOG_INFO, "%s", out);
	pq_sb_printf(&sb, "\n");
	(void)pq_sd_notify("READY=1");
	return sb.len;
}
