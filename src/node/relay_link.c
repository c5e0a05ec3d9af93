/*
 * relay_link.c - the node's one relay connection (DESIGN §2; messages in
 * docs/PROTOCOL.md §3): TLS 1.3 + WebSocket to the pinned relay, the
 * challenge/response authentication bound to this TLS connection's
 * exporter, then RELAY_WATCH listing our [peer] keys (the relay tells us
 * about, and forwards between us and, only peers that list us too), then
 * PEER_ONLINE / PEER_OFFLINE / RELAY_RECV / UNREACHABLE.
 *
 * Any loss (connect refused, TLS failure, CLOSE, auth timeout, protocol
 * error) marks every peer offline (their sessions are kept: roaming,
 * node/peer.c) and schedules a reconnect with jittered exponential
 * backoff: 0.5 s doubling to 30 s, each wait +-25%, reset once the relay
 * welcomes us.
 *
 * Several relays (several [relay] sections: a federation, docs/relay.md):
 * the first reachable one in file order is used. When the relay in use
 * fails, or one being tried does, the next one in the file is tried
 * after RELAY_NEXT_MS (+-50%), wrapping around, so a node leaves a dead
 * relay within a second of noticing (at once for a closed conn, within
 * the ping deadline for a silent one). Only when every relay failed in a
 * row does the backoff above apply before the next round. A node never
 * moves back to an earlier relay while the current one works. Sessions
 * survive the move as they survive any relay loss; the new relay
 * announces the peers again, wherever in the federation they are.
 *
 * Roaming (DESIGN §5): while connected, our underlay addresses are
 * checked every UNDERLAY_CHECK_MS. When they changed, the relay conn may
 * be bound to an address we no longer have (it would hang, unanswered,
 * for minutes), so it is closed and opened again at once; the relay's
 * PEER_ONLINE then makes every peer with a kept session get our new
 * ENDPOINTS (node/direct_dial.c).
 */
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "crypto/util.h"
#include "net/resolve.h"
#include "net/sock.h"
#include "net/ws.h"
#include "node/harden.h"
#include "node/node_int.h"
#include "proto/msg_relay.h"
#include "util/clock.h"
#include "util/log.h"

static void relay_connect(struct pq_node *node);

#define UNDERLAY_CHECK_MS 1000u
#define RELAY_NEXT_MS 400u

const struct pq_config_relay *pq_relay_link_current(const struct pq_node *node)
{
	return &node->cfg.relays[node->relay.cur < node->cfg.relay_count ? node->relay.cur : 0];
}

/* FNV-1a of one address (not a secret; only compared with itself). */
static uint64_t addr_hash(int family, const uint8_t *a, size_t n)
{
	uint64_t h = 14695981039346656037ULL ^ (uint64_t)family;

	for (size_t i = 0; i < n; i++) {
		h ^= a[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* An order-free digest of our underlay addresses: every address of an
 * interface that is up, but loopback, link-local IPv6 and our own TAP. */
static uint64_t underlay_digest(const struct pq_node *node)
{
	struct ifaddrs *ifa = NULL;
	uint64_t sum = 0;

	if (getifaddrs(&ifa))
		return node->relay.underlay_digest; /* unknown: no change */
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
		    strcmp(i->ifa_name, node->tap.name) == 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)i->ifa_addr;

			sum += addr_hash(AF_INET, (const uint8_t *)&in->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)i->ifa_addr;

			if (!IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr))
				sum += addr_hash(AF_INET6, (const uint8_t *)&in6->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
	return sum;
}

/* Connected: reconnect when our addresses changed, else look again later. */
static void underlay_check(struct pq_node *node)
{
	uint64_t now = underlay_digest(node);

	if (now != node->relay.underlay_digest) {
		pq_log(PQ_LOG_INFO, "relay: our underlay addresses changed, reconnecting");
		node->relay.underlay_digest = now;
		node->relay.backoff_ms = 0;
		pq_conn_close(node->relay.conn, PQ_WS_CLOSE_GOING_AWAY); /* relay_on_close reconnects */
		return;
	}
	if (pq_loop_timer_start(node->loop, &node->relay.timer, UNDERLAY_CHECK_MS))
		pq_log(PQ_LOG_ERROR, "relay: cannot arm the underlay check");
}

const char *pq_relay_state_name(enum pq_relay_state s)
{
	switch (s) {
	case PQ_RELAY_CONNECTED:
		return "connected";
	case PQ_RELAY_CONNECTING:
	case PQ_RELAY_IDLE:
	default:
		return "connecting";
	}
}

static void relay_timer_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_node *node = arg;

	if (node->life.stopping)
		return;
	if (node->relay.state == PQ_RELAY_IDLE) {
		relay_connect(node);
	} else if (node->relay.state == PQ_RELAY_CONNECTING && node->relay.conn) {
		pq_log(PQ_LOG_WARN, "relay: no RELAY_WELCOME within %u ms", PQ_NODE_RELAY_AUTH_TIMEOUT_MS);
		pq_conn_close(node->relay.conn, PQ_WS_CLOSE_PROTOCOL);
	} else if (node->relay.state == PQ_RELAY_CONNECTED && node->relay.conn) {
		underlay_check(node);
	}
}

/* Wait the current backoff (+-25%), then double it for next time. */
static void relay_schedule_reconnect(struct pq_node *node)
{
	uint32_t base = node->relay.backoff_ms ? node->relay.backoff_ms : PQ_NODE_RELAY_BACKOFF_MIN_MS;
	uint32_t wait = base - base / 4 + pq_random_below(base / 2 + 1);

	node->relay.backoff_ms = base * 2 > PQ_NODE_RELAY_BACKOFF_MAX_MS ? PQ_NODE_RELAY_BACKOFF_MAX_MS : base * 2;
	node->relay.state = PQ_RELAY_IDLE;
	pq_log(PQ_LOG_INFO, "relay: reconnecting in %u ms", wait);
	if (pq_loop_timer_start(node->loop, &node->relay.timer, wait))
		pq_log(PQ_LOG_ERROR, "relay: cannot arm the reconnect timer");
}

/* With several relays: the next one in file order, soon, unless every
 * relay failed in a row (then the backoff, from relay_schedule_reconnect). */
static void relay_failover(struct pq_node *node, bool was_up)
{
	size_t n = node->cfg.relay_count;
	uint32_t wait;

	if (n < 2) {
		relay_schedule_reconnect(node);
		return;
	}
	if (was_up)
		node->relay.failed = 0;
	node->relay.cur = (node->relay.cur + 1) % n;
	if (++node->relay.failed >= n) {
		node->relay.failed = 0;
		relay_schedule_reconnect(node);
		return;
	}
	wait = RELAY_NEXT_MS / 2 + pq_random_below(RELAY_NEXT_MS + 1);
	node->relay.state = PQ_RELAY_IDLE;
	node->relay.switches++;
	pq_log(PQ_LOG_INFO, "relay: trying the next relay, %s, in %u ms",
	       pq_relay_link_current(node)->url.text, wait);
	if (pq_loop_timer_start(node->loop, &node->relay.timer, wait))
		pq_log(PQ_LOG_ERROR, "relay: cannot arm the reconnect timer");
}

/* Every peer is offline without the relay (sessions kept, node/peer.c). */
static void relay_lost(struct pq_node *node, uint64_t now_ms)
{
	bool was_up = node->relay.state == PQ_RELAY_CONNECTED;

	node->relay.conn = NULL;
	for (size_t i = 0; i < node->peer_count; i++)
		if (node->peers[i].online)
			pq_peer_offline(&node->peers[i], now_ms);
	if (!node->life.stopping)
		relay_failover(node, was_up);
}

static void relay_on_open(void *ctx, struct pq_conn *c)
{
	pq_log(PQ_LOG_DEBUG, "relay: TLS and WebSocket open, waiting for the challenge");
}

/* RELAY_CHALLENGE -> RELAY_AUTH, signed over this connection's exporter. */
static int relay_answer_challenge(struct pq_node *node, const uint8_t *msg, size_t len)
{
	uint8_t out[PQ_RELAY_AUTH_MSG_LEN];
	const uint8_t *exporter = pq_conn_exporter(node->relay.conn);
	int ret;

	if (!exporter)
		return PQ_E_STATE;
	if ((ret = pq_relay_auth_answer(out, node->signer, msg, len, exporter)))
		return ret;
	return pq_conn_send_in_order(node->relay.conn, out, sizeof(out));
}

_Static_assert(PQ_CONFIG_MAX_PEERS <= PQ_RELAY_WATCH_MAX, "every [peer] key fits in one RELAY_WATCH");

/* RELAY_WATCH with every [peer] key, right after RELAY_WELCOME and before
 * anything else (PROTOCOL §3.4): the relay announces us to, and forwards
 * between us and, only the peers that list us too. With no peer there is
 * nothing to watch: the relay then announces us to nobody, as it should. */
static int relay_send_watch(struct pq_node *node)
{
	uint8_t keys[PQ_CONFIG_MAX_PEERS][PQ_PUBKEY_LEN];
	size_t out_len;
	int ret;

	size_t n = 0;

	if (node->peer_count > PQ_CONFIG_MAX_PEERS)
		return PQ_E_LIMIT;
	for (size_t i = 0; i < node->peer_count; i++)
		if (!node->peers[i].removed)   /* reload's tombstones */
			memcpy(keys[n++], node->peers[i].key, PQ_PUBKEY_LEN);
	if (n == 0)
		return 0;
	if ((ret = pq_relay_watch_build(node->relay.msg, sizeof(node->relay.msg), &out_len,
					(const uint8_t(*)[PQ_PUBKEY_LEN])keys, n)))
		return ret;
	return pq_conn_send_in_order(node->relay.conn, node->relay.msg, out_len);
}

static void relay_welcomed(struct pq_node *node, const uint8_t *msg, size_t len)
{
	struct pq_relay_welcome w;
	struct pq_sockaddr a;
	char text[PQ_SOCKADDR_TEXT];
	int ret;

	if (pq_relay_welcome_decode(&w, msg, len)) {
		pq_log(PQ_LOG_WARN, "relay: malformed RELAY_WELCOME");
		pq_conn_close(node->relay.conn, PQ_WS_CLOSE_PROTOCOL);
		return;
	}
	if ((ret = relay_send_watch(node))) {
		pq_log(PQ_LOG_WARN, "relay: cannot send RELAY_WATCH: %s", pq_strerror(ret));
		pq_conn_close(node->relay.conn, PQ_WS_CLOSE_PROTOCOL);
		return;
	}
	node->relay.state = PQ_RELAY_CONNECTED;
	node->relay.backoff_ms = 0;
	node->relay.failed = 0;
	/* A direct-path candidate for our peers (node/direct_dial.c). */
	node->relay.has_observed = pq_wire_addr_valid(&w.observed) != 0;
	if (node->relay.has_observed) {
		node->relay.observed.family = w.observed.family;
		memcpy(node->relay.observed.addr, w.observed.addr, sizeof(node->relay.observed.addr));
		node->relay.observed.port = w.observed.port;
	}
	node->relay.underlay_digest = underlay_digest(node);
	/* Where the world sees our UDP socket: the relay's STUN responder. */
	pq_udp_path_relay_up(node, &node->relay.addr);
	if (pq_loop_timer_start(node->loop, &node->relay.timer, UNDERLAY_CHECK_MS))
		pq_log(PQ_LOG_ERROR, "relay: cannot arm the underlay check");
	/* The observed address, printed the one way addresses are. */
	if (node->relay.has_observed && pq_endpoint_to_sockaddr(&node->relay.observed, &a))
		pq_sockaddr_format(&a, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "an address it cannot tell");
	pq_log(PQ_LOG_INFO, "relay: connected to %s, it sees us at %s", pq_relay_link_current(node)->url.text,
	       text);
}

/* Signalling about a peer; keys not in [peer] are ignored. */
static void relay_signal(struct pq_node *node, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pq_peer_online on;
	struct pq_peer_key_msg k;
	struct pq_node_peer *p;

	switch (msg[0]) {
	case PQ_MSG_PEER_ONLINE:
		if (pq_peer_online_decode(&on, msg, len))
			break;
		if ((p = pq_peer_find(node, on.key))) {
			pq_peer_online(p, now_ms);
		} else {
			char b64[PQ_KEY_B64_LEN + 1];

			/* The relay only announces nodes that list us and that
			 * we list (mutual watch): this one it should not have. */
			pq_key_to_base64(b64, on.key);
			pq_log(PQ_LOG_WARN, "relay: PEER_ONLINE about %s, not in [peer], ignored", b64);
		}
		return;
	case PQ_MSG_PEER_OFFLINE:
		if (pq_peer_offline_decode(&k, msg, len) == 0 && (p = pq_peer_find(node, k.key)))
			pq_peer_offline(p, now_ms);
		return;
	case PQ_MSG_UNREACHABLE:
		if (pq_unreachable_decode(&k, msg, len) == 0 && (p = pq_peer_find(node, k.key)) && p->online)
			pq_peer_offline(p, now_ms);
		return;
	default:
		break;
	}
	pq_log(PQ_LOG_DEBUG, "relay: malformed message 0x%02x ignored", msg[0]);
}

static void relay_forwarded(struct pq_node *node, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pq_relay_fwd f;
	struct pq_node_peer *p;

	if (pq_relay_recv_decode(&f, msg, len)) {
		pq_log(PQ_LOG_DEBUG, "relay: malformed RELAY_RECV dropped");
		return;
	}
	p = pq_peer_find(node, f.key);
	if (!p) {
		/* Not in [peer]: refused whatever the relay says (DESIGN §1). */
		node->relay.drops++;
		return;
	}
	pq_datapath_from_relay(p, f.payload, f.payload_len, now_ms);
}

static void relay_on_message(void *ctx, struct pq_conn *c, const uint8_t *msg, size_t len)
{
	struct pq_node *node = ctx;
	uint64_t now_ms = pq_loop_now(node->loop);
	struct pq_close cl;
	int ret;

	if (c != node->relay.conn || len == 0)
		return;
	if (msg[0] == PQ_MSG_CLOSE) {
		bool bad = pq_close_decode(&cl, msg, len) != 0;
		bool replaced = !bad && cl.reason == PQ_CLOSE_REPLACED;

		pq_log(PQ_LOG_INFO, "relay: closed by the relay (%s)",
		       bad ? "malformed" : pq_close_reason_name(cl.reason));
		/* Another process with our key took our place: coming straight
		 * back would only make the two evict each other in a loop. */
		if (replaced) {
			pq_log(PQ_LOG_WARN, "relay: another node uses this key; retrying slowly");
			node->relay.backoff_ms = PQ_NODE_RELAY_BACKOFF_MAX_MS;
		}
		pq_conn_close(c, PQ_WS_CLOSE_NORMAL);
		return;
	}
	if (node->relay.state != PQ_RELAY_CONNECTED) {
		/* Before RELAY_WELCOME only CHALLENGE and WELCOME (§3.4). */
		if (msg[0] == PQ_MSG_RELAY_CHALLENGE) {
			if ((ret = relay_answer_challenge(node, msg, len))) {
				pq_log(PQ_LOG_WARN, "relay: cannot answer the challenge: %s", pq_strerror(ret));
				pq_conn_close(c, PQ_WS_CLOSE_PROTOCOL);
			}
		} else if (msg[0] == PQ_MSG_RELAY_WELCOME) {
			relay_welcomed(node, msg, len);
		} else {
			pq_log(PQ_LOG_WARN, "relay: message 0x%02x before RELAY_WELCOME", msg[0]);
			pq_conn_close(c, PQ_WS_CLOSE_PROTOCOL);
		}
		return;
	}
	if (msg[0] == PQ_MSG_RELAY_RECV)
		relay_forwarded(node, msg, len, now_ms);
	else
		relay_signal(node, msg, len, now_ms);
}

static const char *conn_end_name(enum pq_conn_end end)
{
	switch (end) {
	case PQ_CONN_END_LOCAL:
		return "closed by us";
	case PQ_CONN_END_PEER:
		return "closed by the relay";
	case PQ_CONN_END_PROTOCOL:
		return "WebSocket protocol error";
	case PQ_CONN_END_TIMEOUT:
		return "open timed out";
	case PQ_CONN_END_TLS:
		return "TLS failed";
	case PQ_CONN_END_UPGRADE:
		return "WebSocket upgrade refused";
	case PQ_CONN_END_IO:
	default:
		return "connection failed";
	}
}

static void relay_on_close(void *ctx, struct pq_conn *c, const struct pq_conn_reason *why)
{
	struct pq_node *node = ctx;

	if (c != node->relay.conn)
		return;
	pq_log(node->life.stopping ? PQ_LOG_DEBUG : PQ_LOG_WARN, "relay: %s (%s, WebSocket code %u)",
	       conn_end_name(why->end), why->err ? pq_strerror(why->err) : "no detail",
	       (unsigned)why->ws_code);
	pq_loop_timer_cancel(node->loop, &node->relay.timer);
	relay_lost(node, pq_loop_now(node->loop));
	if (node->life.stopping)
		pq_loop_stop(node->loop);
}

/* Dial the relay at addr (the URL's IP literal or its name resolved). */
static void relay_dial(struct pq_node *node, const struct pq_sockaddr *addr)
{
	static const struct pq_conn_cbs cbs = {
		.on_open = relay_on_open,
		.on_message = relay_on_message,
		.on_close = relay_on_close,
	};
	const struct pq_config_relay *rc = pq_relay_link_current(node);
	const struct pq_config_url *u = &rc->url;
	struct pq_conn_target tg;
	struct pq_conn_opts opts;
	int ret;

	pq_node_relay_conn_opts(&opts); /* issue 11: ping deadline, TCP user timeout */
	memset(&tg, 0, sizeof(tg));
	tg.addr = *addr;
	tg.pin = rc->key;
	tg.host = u->host_is_ip ? NULL : u->host;
	tg.path = u->path;
	node->relay.addr = tg.addr;
	ret = pq_conn_connect(&node->relay.conn, node->loop, node->tls, &tg, &opts, &cbs, node);
	if (ret) {
		node->relay.conn = NULL;
		pq_log(PQ_LOG_WARN, "relay: cannot connect to %s: %s", u->text, pq_strerror(ret));
		relay_failover(node, false);
		return;
	}
	node->relay.state = PQ_RELAY_CONNECTING;
	/* Covers TCP + TLS + Upgrade (the conn's own 10 s) and the auth. */
	if (pq_loop_timer_start(node->loop, &node->relay.timer,
				PQ_CONN_OPEN_TIMEOUT_MS + PQ_NODE_RELAY_AUTH_TIMEOUT_MS))
		pq_log(PQ_LOG_ERROR, "relay: cannot arm the auth timer");
}

/* The host name's lookup ended (net/resolve.h: off the loop, so status
 * and the data path go on while a resolver does not answer). */
static void relay_resolved(void *arg, int err, const struct pq_sockaddr *addr, const char *why)
{
	struct pq_node *node = arg;

	node->relay.resolve = NULL;
	if (node->life.stopping)
		return;
	if (err) {
		pq_log(PQ_LOG_WARN, "relay: cannot resolve %s: %s", pq_relay_link_current(node)->url.host, why);
		relay_failover(node, false);
		return;
	}
	relay_dial(node, addr);
}

static void relay_connect(struct pq_node *node)
{
	const struct pq_config_url *u = &pq_relay_link_current(node)->url;
	struct pq_sockaddr a;
	int ret;

	if (u->host_is_ip) {
		memset(&a, 0, sizeof(a));
		memcpy(&a.ss, &u->addr.ss, sizeof(a.ss));
		a.len = u->addr.len;
		relay_dial(node, &a);
		return;
	}
	if (node->relay.resolve)
		return;                        /* a lookup is under way */
	ret = pq_resolve_start(&node->relay.resolve, node->loop, u->host, u->port,
			       PQ_NODE_RELAY_RESOLVE_TIMEOUT_MS, relay_resolved, node);
	if (ret) {
		pq_log(PQ_LOG_WARN, "relay: cannot look %s up: %s", u->host, pq_strerror(ret));
		relay_failover(node, false);
		return;
	}
	node->relay.state = PQ_RELAY_CONNECTING;
	pq_log(PQ_LOG_DEBUG, "relay: resolving %s", u->host);
}

bool pq_relay_link_up(const struct pq_node *node)
{
	return node->relay.state == PQ_RELAY_CONNECTED && node->relay.conn;
}

void pq_relay_link_start(struct pq_node *node)
{
	pq_timer_init(&node->relay.timer, relay_timer_fired, node);
	node->relay.state = PQ_RELAY_IDLE;
	node->relay.cur = 0; /* the first in file order */
	node->relay.backoff_ms = 0;
	relay_connect(node);
}

int pq_relay_link_send(struct pq_node *node, const uint8_t dst[PQ_PUBKEY_LEN], const uint8_t *payload,
		       size_t len)
{
	struct pq_relay_fwd f;
	size_t out_len;
	int ret;

	if (node->relay.state != PQ_RELAY_CONNECTED || !node->relay.conn)
		return PQ_E_STATE;
	memcpy(f.key, dst, PQ_PUBKEY_LEN);
	f.payload = payload;
	f.payload_len = len;
	if ((ret = pq_relay_send_encode(node->relay.msg, sizeof(node->relay.msg), &out_len, &f)))
		return ret;
	return pq_conn_send(node->relay.conn, node->relay.msg, out_len);
}

void pq_relay_link_rewatch(struct pq_node *node)
{
	struct pq_conn *old = node->relay.conn;

	if (node->life.stopping)
		return;
	pq_loop_timer_cancel(node->loop, &node->relay.timer);
	if (old) {
		/* Detached first: its on_close then finds c != relay.conn. */
		node->relay.conn = NULL;
		for (size_t i = 0; i < node->peer_count; i++)
			if (node->peers[i].online)
				pq_peer_offline(&node->peers[i], pq_loop_now(node->loop));
		pq_conn_close(old, 1000);
	}
	pq_log(PQ_LOG_INFO, "relay: reconnecting to announce the new peer set");
	node->relay.backoff_ms = 0;
	relay_connect(node);
}

void pq_relay_link_stop(struct pq_node *node)
{
	struct pq_close cl = { .reason = PQ_CLOSE_GOING_AWAY };
	uint8_t out[PQ_CLOSE_MSG_LEN];
	size_t out_len;

	pq_loop_timer_cancel(node->loop, &node->relay.timer);
	pq_resolve_cancel(node->relay.resolve);
	node->relay.resolve = NULL;
	if (!node->relay.conn)
		return;
	if (pq_conn_is_open(node->relay.conn) && pq_close_encode(out, sizeof(out), &out_len, &cl) == 0 &&
	    pq_conn_send_in_order(node->relay.conn, out, out_len) != 0)
		pq_log(PQ_LOG_DEBUG, "relay: CLOSE not queued");
	pq_conn_close(node->relay.conn, PQ_WS_CLOSE_GOING_AWAY);
}
