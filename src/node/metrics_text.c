/*
 * metrics_text.c - the Prometheus text exposition of the node (format
 * 0.0.4) and the duration histograms behind it.
 *
 * Families are written whole, one after the other (the format requires a
 * family's samples together), each peer a sample in it. The counters are
 * the ones `pqlan status --json` shows, from the same table
 * (counters.c), so both reports always agree. Names and TAP names are limited
 * by the config loader to [A-Za-z0-9_.-] and keys are base64: no label
 * value needs escaping.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "node/node_int.h"
#include "util/strbuf.h"
#include "util/version.h"

/* The peer label for an unnamed peer: this many key characters. */
#define KEY_PREFIX_LEN 8

/* Bucket bounds: upper bound in µs and as Prometheus writes it (le). */
static const struct {
	uint64_t us;
	const char *le;
} bounds[PQ_HIST_BUCKETS] = {
	{ 100, "0.0001" },  { 250, "0.00025" }, { 500, "0.0005" }, { 1000, "0.001" },
	{ 2500, "0.0025" }, { 5000, "0.005" },  { 10000, "0.01" }, { 25000, "0.025" },
	{ 50000, "0.05" },  { 100000, "0.1" },  { 250000, "0.25" }, { 500000, "0.5" },
	{ 1000000, "1" },
};

uint64_t pq_hist_bound_us(unsigned i)
{
	return i < PQ_HIST_BUCKETS ? bounds[i].us : UINT64_MAX;
}

/* A value goes into the first bucket whose bound is >= it (le). */
void pq_hist_observe(struct pq_hist *h, uint64_t us)
{
	unsigned i = 0;

	while (i < PQ_HIST_BUCKETS && us > bounds[i].us)
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_us += us;
}

static void family(struct pq_strbuf *b, const char *name, const char *type, const char *help)
{
	pq_sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `peer="bob",key="..."` */
static void peer_labels(struct pq_strbuf *b, const struct pq_node_peer *p)
{
	if (p->cfg->name[0])
		pq_sb_printf(b, "peer=\"%s\"", p->cfg->name);
	else
		pq_sb_printf(b, "peer=\"%.*s\"", KEY_PREFIX_LEN, p->key_b64);
	pq_sb_printf(b, ",key=\"%s\"", p->key_b64);
}

static void peer_counter_families(struct pq_strbuf *b, const struct pq_node *node)
{
	for (unsigned f = 0; f < PQ_PC_COUNT; f++) {
		const struct pq_peer_counter_info *c = &pq_peer_counters[f];

		if (!c->metric)
			continue;
		family(b, c->metric, "counter", c->help);
		for (size_t i = 0; i < node->peer_count; i++) {
			if (node->peers[i].removed)    /* reload's tombstones */
				continue;
			pq_sb_printf(b, "%s{", c->metric);
			peer_labels(b, &node->peers[i]);
			pq_sb_printf(b, "} %" PRIu64 "\n", pq_peer_counter_value(&node->peers[i], (enum pq_peer_counter)f));
		}
	}
}

/* One 0/1 gauge per possible value, 1 for the current one. */
static void peer_enum_family(struct pq_strbuf *b, const struct pq_node *node, bool path, uint64_t now_ms)
{
	static const char *const paths[] = { "relay", "direct", "none" };
	static const char *const states[] = { "offline", "handshaking", "established" };
	const char *name = path ? "pqlan_peer_path" : "pqlan_peer_state";
	const char *const *vals = path ? paths : states;

	family(b, name, "gauge",
	       path ? "1 for the path frames to the peer take now (as in pqlan status)."
		    : "1 for the peer's state now (as in pqlan status).");
	for (size_t i = 0; i < node->peer_count; i++) {
		const struct pq_node_peer *p = &node->peers[i];
		enum pq_peer_state st = pq_peer_state(p, now_ms);
		const char *cur = path ? pq_peer_path_name(p, st) : pq_peer_state_name(st);

		if (p->removed)                        /* reload's tombstones */
			continue;
		for (unsigned v = 0; v < 3; v++) {
			pq_sb_printf(b, "%s{", name);
			peer_labels(b, p);
			pq_sb_printf(b, ",%s=\"%s\"} %d\n", path ? "path" : "state", vals[v],
				  strcmp(cur, vals[v]) == 0);
		}
	}
}

/* Our NAT's mapping behaviour as the relay's two STUN ports show it, one
 * 0/1 gauge per value (like pqlan status's udp line). */
static void udp_nat_family(struct pq_strbuf *b, const struct pq_node *node)
{
	static const enum pq_nat_mapping kinds[] = { PQ_NAT_UNKNOWN, PQ_NAT_NONE, PQ_NAT_ENDPOINT_INDEPENDENT,
						     PQ_NAT_DEPENDENT };

	if (node->udp.fd < 0)
		return;
	family(b, "pqlan_udp_nat", "gauge", "1 for the NAT mapping behaviour our UDP socket sees (STUN).");
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		pq_sb_printf(b, "pqlan_udp_nat{mapping=\"%s\"} %d\n", pq_nat_mapping_name(kinds[i]),
			     node->udp.nat == kinds[i]);
	family(b, "pqlan_udp_dropped_total", "counter", "Datagrams refused on our UDP port before any peer's keys.");
	pq_sb_printf(b, "pqlan_udp_dropped_total %" PRIu64 "\n", node->udp.drops);
}

static void histogram(struct pq_strbuf *b, const char *name, const char *help, const struct pq_hist *h)
{
	static const struct pq_hist empty;
	uint64_t cum = 0;

	if (!h)
		h = &empty;
	family(b, name, "histogram", help);
	for (unsigned i = 0; i < PQ_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		pq_sb_printf(b, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, bounds[i].le, cum);
	}
	pq_sb_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
	/* Seconds with exactly six decimals: no float rounding in the text. */
	pq_sb_printf(b, "%s_sum %" PRIu64 ".%06" PRIu64 "\n", name, h->sum_us / 1000000u, h->sum_us % 1000000u);
	pq_sb_printf(b, "%s_count %" PRIu64 "\n", name, h->count);
}

long pq_metrics_render(const struct pq_node *node, const struct pq_hist *hs, const struct pq_hist *rehs,
		       char *out, size_t cap, uint64_t now_ms)
{
	struct pq_strbuf b = { .p = out, .cap = cap };

	if (cap == 0)
		return PQ_E_TOOBIG;
	family(&b, "pqlan_build_info", "gauge", "The build: release, git commit, protocol version.");
	pq_sb_printf(&b, "pqlan_build_info{version=\"%s\",git=\"%s\",protocol=\"%d\"} 1\n", pq_version(),
		     pq_version_git(), PQ_HS_VERSION);
	family(&b, "pqlan_relay_connected", "gauge", "1 once the relay accepted our key, else 0.");
	pq_sb_printf(&b, "pqlan_relay_connected %d\n", node->relay.state == PQ_RELAY_CONNECTED);
	udp_nat_family(&b, node);
	peer_counter_families(&b, node);
	peer_enum_family(&b, node, true, now_ms);
	peer_enum_family(&b, node, false, now_ms);
	histogram(&b, "pqlan_handshake_duration_seconds", "Duration of completed handshakes.", hs);
	histogram(&b, "pqlan_rehandshake_duration_seconds",
		  "Duration of completed re-handshakes on direct connections.", rehs);
	return b.overflow ? PQ_E_TOOBIG : (long)b.len;
}
