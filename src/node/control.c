/*
 * control.c - the status report `pqlan status` prints (the socket that
 * serves it is control_sock.c).
 *
 * JSON report (one line):
 *   {"node":{"key":K,"tap":T,"relay":"connected"|"connecting",
 *    "udp":null|{"port":P,"reflexive":null|"IP:PORT","nat":"unknown"|
 *    "none"|"endpoint-independent"|"dependent","dropped":N},
 *    "relay_tcp":null|{"rate":B,"lowat":B,"window_clamp":B}},
 *    "peers":[{"name":null|N,"key":K,"state":"offline"|"handshaking"|
 *    "established","path":"relay"|"direct"|"none","handshake_age_s":null|S,
 *    "rx_bytes":..,"tx_bytes":..,"rx_frames":..,"tx_frames":..,
 *    "dropped_frames":..,"rx_gso_frames":..,"tx_gso_frames":..,
 *    "migrations":..,"fallbacks":..,"rehandshakes":..,
 *    "rehandshake_failures":..,"direct_dials":..,"udp_attempts":..,
 *    "udp_validated":..,"udp_failures":..,"udp_refused":..,
 *    "rx_frag_frames":..,"tx_frag_frames":..,
 *    "endpoint":null|"IP:PORT","transport":null|"tls"|"udp",
 *    "path_mtu":null|N,"path_mtu_confirmed":null|B,"udp_max_frame":null|N,
 *    "last_rehandshake_age_s":null|S,"last_rehandshake_us":null|US,
 *    "direct_heard_ms":null|MS,"tcp":null|{"rate":B,"lowat":B,
 *    "window_clamp":B}}]}
 * The counters come from one table (counters.c) shared with /metrics.
 * The gso counters are the frames among rx/tx_frames that carried an
 * offload header (DATA_GSO: a TSO super-frame or a partial checksum), the
 * frag counters those that crossed the UDP path in pieces (DATA_FRAG).
 * "path" is "direct" while frames take a direct conn whose re-handshake
 * completed, and "endpoint" is the peer's address on it; "none" for an
 * established peer with `path = direct` and no direct conn yet.
 * "path_mtu" is the UDP path's IP packet size as far as probes confirmed
 * it (udp_pmtu.c), "udp_max_frame" the largest Ethernet frame one datagram
 * carries: larger TCP super-frames are cut to fit, other frames go in
 * DATA_FRAG pieces (up to 16 384 bytes; larger ones take the TLS conn or
 * the relay).
 * "direct_heard_ms" is the time since the last authenticated message on
 * the active direct conn (direct_heard_ms() says why it matters).
 * "tcp" is how a TLS direct conn sized itself to the path (net/conn.h
 * "Latency"): the drain rate it measured (bytes/s, 0 before a sample),
 * TCP_NOTSENT_LOWAT (0: none) and the receive window's clamp (0: none,
 * proto/rwin.h) - whether it is holding the path's queue down;
 * "relay_tcp" the same for the conn to the relay while it is connected
 * (the relay path's first leg; its second is the relay's conn to the
 * peer, which the peer's own "relay_tcp" clamps from its end).
 * Keys are base64; names and TAP names are limited by the config loader
 * to [A-Za-z0-9_.-], so no string needs JSON escaping.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/version.h"


const char *pq_peer_state_name(enum pq_peer_state s)
{
	switch (s) {
	case PQ_PEER_ESTABLISHED:
		return "established";
	case PQ_PEER_HANDSHAKING:
		return "handshaking";
	case PQ_PEER_OFFLINE:
	default:
		return "offline";
	}
}

/* Established frames take the active direct conn, else the relay
 * (never with `path = direct`: then no frame moves until a direct conn
 * is up). */
const char *pq_peer_path_name(const struct pq_node_peer *p, enum pq_peer_state s)
{
	if (s != PQ_PEER_ESTABLISHED)
		return "none";
	if (p->path.core.active >= 0)
		return "direct";
	return p->cfg->path == PQ_PATH_DIRECT ? "none" : "relay";
}

/* How long the active direct conn dc has been silent (any authenticated
 * message, the peer's probes and a re-authentication included): "direct"
 * is only as fresh as this. A busy path answers within 2 s or is dropped
 * (the liveness clock, proto/path.h); an idle one is probed only every
 * keepalive_udp by either side (UDP) or by the dialler's
 * re-authentication every reauth_interval (TLS: 10 min by default), so a
 * link that died while idle still shows "direct" until traffic or that
 * probe finds out. */
static uint64_t direct_heard_ms(const struct pq_dconn *dc, uint64_t now_ms)
{
	return now_ms > dc->heard_ms ? now_ms - dc->heard_ms : 0;
}

/* A TLS conn's sizing ("tcp" above), null for none. */
static void tcp_json(struct pq_strbuf *b, const char *key, const struct pq_conn *conn)
{
	struct pq_conn_sizing sz;

	if (!conn) {
		pq_sb_printf(b, ",\"%s\":null", key);
		return;
	}
	pq_conn_sizing(conn, &sz);
	pq_sb_printf(b, ",\"%s\":{\"rate\":%" PRIu64 ",\"lowat\":%zu,\"window_clamp\":%" PRIu32 "}", key,
		     sz.samples ? sz.rate : 0, sz.lowat, sz.window_clamp);
}

static void direct_json(struct pq_strbuf *b, const struct pq_node_peer *p, uint64_t now_ms)
{
	const struct pq_dconn *dc = pq_path_exec_active(p);
	char text[PQ_SOCKADDR_TEXT];

	pq_sb_printf(b, ",\"endpoint\":");
	if (dc) {
		pq_sockaddr_format(&dc->addr, text, sizeof(text));
		pq_sb_printf(b, "\"%s\",\"transport\":\"%s\"", text,
			     pq_path_transport_name((enum pq_path_transport)dc->transport));
	} else {
		pq_sb_printf(b, "null,\"transport\":null");
	}
	if (dc && dc->transport == PQ_PATH_UDP)
		pq_sb_printf(b, ",\"path_mtu\":%u,\"path_mtu_confirmed\":%s,\"udp_max_frame\":%zu",
			     (unsigned)dc->pmtu.current, dc->pmtu.confirmed ? "true" : "false",
			     pq_udp_path_max_msg(dc) - PQ_SEALED_OVERHEAD);
	else
		pq_sb_printf(b, ",\"path_mtu\":null,\"path_mtu_confirmed\":null,\"udp_max_frame\":null");
	if (p->path.last_rehs_ms)
		pq_sb_printf(b, ",\"last_rehandshake_age_s\":%" PRIu64 ",\"last_rehandshake_us\":%" PRIu64,
			     (now_ms - p->path.last_rehs_ms) / 1000, p->path.last_rehs_us);
	else
		pq_sb_printf(b, ",\"last_rehandshake_age_s\":null,\"last_rehandshake_us\":null");
	if (dc)
		pq_sb_printf(b, ",\"direct_heard_ms\":%" PRIu64, direct_heard_ms(dc, now_ms));
	else
		pq_sb_printf(b, ",\"direct_heard_ms\":null");
	tcp_json(b, "tcp", dc && dc->transport == PQ_PATH_TLS ? dc->conn : NULL);
}

/* The TLS conn's sizing in words ("tcp" above); label says which conn. */
static void tcp_text(struct pq_strbuf *b, const char *label, const struct pq_conn *conn)
{
	struct pq_conn_sizing sz;

	if (!conn)
		return;
	pq_conn_sizing(conn, &sz);
	pq_sb_printf(b, "  %s: drains at %.1f Mbit/s, unsent bound ", label,
		     sz.samples ? (double)sz.rate * 8 / 1e6 : 0.0);
	if (sz.lowat)
		pq_sb_printf(b, "%zu B", sz.lowat);
	else
		pq_sb_printf(b, "none");
	if (sz.window_clamp)
		pq_sb_printf(b, ", receive window clamped to %" PRIu32 " B\n", sz.window_clamp);
	else
		pq_sb_printf(b, ", receive window the kernel's\n");
}

static void peer_json(struct pq_strbuf *b, const struct pq_node_peer *p, uint64_t now_ms)
{
	enum pq_peer_state st = pq_peer_state(p, now_ms);

	pq_sb_printf(b, "{\"name\":");
	if (p->cfg->name[0])
		pq_sb_printf(b, "\"%s\"", p->cfg->name);
	else
		pq_sb_printf(b, "null");
	pq_sb_printf(b, ",\"key\":\"%s\",\"state\":\"%s\",\"path\":\"%s\",\"handshake_age_s\":", p->key_b64,
		     pq_peer_state_name(st), pq_peer_path_name(p, st));
	if (p->handshake_ms)
		pq_sb_printf(b, "%" PRIu64, (now_ms - p->handshake_ms) / 1000);
	else
		pq_sb_printf(b, "null");
	for (unsigned c = 0; c < PQ_PC_COUNT; c++)
		pq_sb_printf(b, ",\"%s\":%" PRIu64, pq_peer_counters[c].json,
			     pq_peer_counter_value(p, (enum pq_peer_counter)c));
	direct_json(b, p, now_ms);
	pq_sb_printf(b, "}");
}

static void peer_text(struct pq_strbuf *b, const struct pq_node_peer *p, uint64_t now_ms)
{
	enum pq_peer_state st = pq_peer_state(p, now_ms);
	const struct pq_dconn *dc = pq_path_exec_active(p);
#define V(c) pq_peer_counter_value(p, c)

	pq_sb_printf(b, "\npeer: %s\n", p->key_b64);
	if (p->cfg->name[0])
		pq_sb_printf(b, "  name: %s\n", p->cfg->name);
	pq_sb_printf(b, "  state: %s\n  path: %s\n", pq_peer_state_name(st), pq_peer_path_name(p, st));
	if (p->handshake_ms)
		pq_sb_printf(b, "  latest handshake: %" PRIu64 " s ago\n", (now_ms - p->handshake_ms) / 1000);
	else
		pq_sb_printf(b, "  latest handshake: none\n");
	pq_sb_printf(b, "  transfer: %" PRIu64 " B received, %" PRIu64 " B sent\n", V(PQ_PC_RX_BYTES),
		     V(PQ_PC_TX_BYTES));
	pq_sb_printf(b, "  frames: %" PRIu64 " received, %" PRIu64 " sent, %" PRIu64 " dropped\n",
		     V(PQ_PC_RX_FRAMES), V(PQ_PC_TX_FRAMES), V(PQ_PC_DROPPED));
	pq_sb_printf(b, "  offload frames: %" PRIu64 " received, %" PRIu64 " sent\n", V(PQ_PC_RX_GSO),
		     V(PQ_PC_TX_GSO));
	if (V(PQ_PC_RX_FRAG) || V(PQ_PC_TX_FRAG))
		pq_sb_printf(b, "  frames in pieces (UDP): %" PRIu64 " received, %" PRIu64 " sent\n",
			     V(PQ_PC_RX_FRAG), V(PQ_PC_TX_FRAG));
	if (dc) {
		char text[PQ_SOCKADDR_TEXT];

		pq_sockaddr_format(&dc->addr, text, sizeof(text));
		if (dc->transport == PQ_PATH_UDP)
			pq_sb_printf(b, "  endpoint: %s (udp, path MTU %u%s: frames up to %zu B, larger TCP ones cut)\n",
				     text, (unsigned)dc->pmtu.current, dc->pmtu.confirmed ? "" : ", probing",
				     pq_udp_path_max_msg(dc) - PQ_SEALED_OVERHEAD);
		else
			pq_sb_printf(b, "  endpoint: %s (%s)\n", text,
				     pq_path_transport_name((enum pq_path_transport)dc->transport));
		pq_sb_printf(b, "  heard on it: %" PRIu64 " ms ago\n", direct_heard_ms(dc, now_ms));
		if (dc->transport == PQ_PATH_TLS)
			tcp_text(b, "tcp", dc->conn);
	}
	pq_sb_printf(b, "  direct: %" PRIu64 " migrations, %" PRIu64 " fallbacks, %" PRIu64
		     " re-handshakes (%" PRIu64 " failed)\n",
		     V(PQ_PC_MIGRATIONS), V(PQ_PC_FALLBACKS), V(PQ_PC_REHS), V(PQ_PC_REHS_FAIL));
	pq_sb_printf(b, "  direct dials: %" PRIu64 " started\n", V(PQ_PC_DIALS));
#undef V
}

/* Our UDP socket: its port, where the world sees it, the NAT's mapping
 * behaviour (like `tailscale netcheck`), datagrams refused. */
static void udp_json(struct pq_strbuf *b, const struct pq_node *node)
{
	const struct pq_udp_path *u = &node->udp;
	char text[PQ_SOCKADDR_TEXT];
	struct pq_sockaddr sa;

	if (u->fd < 0) {
		pq_sb_printf(b, ",\"udp\":null");
		return;
	}
	pq_sb_printf(b, ",\"udp\":{\"port\":%u,\"reflexive\":", (unsigned)u->port);
	if (u->reflexive.family && pq_endpoint_to_sockaddr(&u->reflexive, &sa)) {
		pq_sockaddr_format(&sa, text, sizeof(text));
		pq_sb_printf(b, "\"%s\"", text);
	} else {
		pq_sb_printf(b, "null");
	}
	pq_sb_printf(b, ",\"nat\":\"%s\",\"dropped\":%" PRIu64 "}", pq_nat_mapping_name(u->nat), u->drops);
}

static void udp_text(struct pq_strbuf *b, const struct pq_node *node)
{
	const struct pq_udp_path *u = &node->udp;
	char text[PQ_SOCKADDR_TEXT] = "unknown";
	struct pq_sockaddr sa;

	if (u->fd < 0) {
		pq_sb_printf(b, "  udp: off\n");
		return;
	}
	if (u->reflexive.family && pq_endpoint_to_sockaddr(&u->reflexive, &sa))
		pq_sockaddr_format(&sa, text, sizeof(text));
	pq_sb_printf(b, "  udp: port %u, seen at %s, NAT %s, %" PRIu64 " datagrams refused\n", (unsigned)u->port,
		     text, pq_nat_mapping_name(u->nat), u->drops);
}

long pq_control_status(const struct pq_node *node, bool json, char *out, size_t cap, uint64_t now_ms)
{
	struct pq_strbuf b = { .p = out, .cap = cap };
	const char *relay = pq_relay_state_name(node->relay.state);
	const struct pq_conn *relay_conn = node->relay.state == PQ_RELAY_CONNECTED ? node->relay.conn : NULL;

	if (cap == 0)
		return PQ_E_TOOBIG;
	/* The build (util/version.h): a node says what it runs. */
	if (json) {
		pq_sb_printf(&b, "{\"node\":{\"key\":\"%s\",\"tap\":\"%s\",\"relay\":\"%s\","
			     "\"version\":\"%s\",\"git\":\"%s\",\"protocol\":%d", node->pub_b64,
			     node->cfg.tap, relay, pq_version(), pq_version_git(), PQ_HS_VERSION);
		udp_json(&b, node);
		tcp_json(&b, "relay_tcp", relay_conn);
		pq_sb_printf(&b, "},\"peers\":[");
	} else {
		pq_sb_printf(&b, "node: %s\n  tap: %s\n  relay: %s (%s)\n  refused from unknown keys: %" PRIu64
			     "\n  version: pqlan %s, protocol %d\n",
			     node->pub_b64, node->cfg.tap, relay, pq_relay_link_current(node)->url.text, node->relay.drops,
			     pq_version_text(), PQ_HS_VERSION);
		udp_text(&b, node);
		tcp_text(&b, "relay tcp", relay_conn);
	}
	for (size_t i = 0, shown = 0; i < node->peer_count; i++) {
		if (node->peers[i].removed)    /* reload's tombstones */
			continue;
		if (json) {
			if (shown++)
				pq_sb_printf(&b, ",");
			peer_json(&b, &node->peers[i], now_ms);
		} else {
			peer_text(&b, &node->peers[i], now_ms);
		}
	}
	if (json)
		pq_sb_printf(&b, "]}\n");
	return b.overflow ? PQ_E_TOOBIG : (long)b.len;
}
