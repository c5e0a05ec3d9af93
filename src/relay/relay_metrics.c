/*
 * relay_metrics.c - the relay's runtime view (relay.h): `pqlan
 * relay-status` (text or JSON) and the Prometheus exposition of the same
 * counters, rendered from struct pq_relay_stats and the node list; and
 * the allow list replaced on reload.
 *
 * Owns nothing: reads the relay's state, writes into the caller's buffer.
 * Reports name nodes by their full public key (public, what the operator
 * puts in allow lines) and the address the relay sees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "proto/msg_handshake.h"
#include "relay/relay_internal.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/version.h"

/* One node's entry, text or JSON, and the head: generous bounds. */
#define REPORT_HEAD_MAX 2048
#define REPORT_NODE_MAX 256
#define METRICS_MAX 8192 /* with the NATS counters (relay_fed_metrics.c) */

/* Mutual peers of n that are online now: through its watch list, so the
 * cost is its list's length, not the number of nodes. */
static size_t mutual_online(const struct relay_node *n)
{
	size_t count = 0;

	for (size_t i = 0; i < n->watch_count; i++) {
		const struct relay_node *m = relay_node_of_key(n->relay, n->watch[i]);

		if (m && m != n && relay_mutual(n, m))
			count++;
	}
	return count;
}

size_t pq_relay_report_cap(const struct pq_relay *r)
{
	return REPORT_HEAD_MAX + METRICS_MAX + r->node_count * REPORT_NODE_MAX;
}

static long finish(struct pq_strbuf *b)
{
	return b->overflow ? PQ_E_TOOBIG : (long)b->len;
}

static void report_text(const struct pq_relay *r, struct pq_strbuf *b, uint64_t now)
{
	const struct pq_relay_stats *s = &r->stats;
	char key[PQ_KEY_B64_LEN + 1];

	pq_sb_printf(b, "relay: pqlan %s, protocol %d, ", pq_version_text(), PQ_HS_VERSION);
	if (r->allow_count)
		pq_sb_printf(b, "allow list of %zu keys\n", r->allow_count);
	else
		pq_sb_printf(b, "open (any node key)\n");
	pq_sb_printf(b, "  nodes: %llu authenticated, %zu conns\n", (unsigned long long)s->nodes,
		     r->node_count);
	pq_sb_printf(b, "  auth: %llu ok, %llu refused (%llu not allowed, %llu bad signature, "
		     "%llu timeout), %llu replaced\n", (unsigned long long)s->auth_ok,
		     (unsigned long long)s->auth_failed, (unsigned long long)s->auth_not_allowed,
		     (unsigned long long)s->auth_bad_sig, (unsigned long long)s->auth_timeout,
		     (unsigned long long)s->replaced);
	pq_sb_printf(b, "  forwarded: %llu messages, %llu bytes; unreachable %llu (not mutual %llu); "
		     "queue drops %llu; protocol errors %llu\n", (unsigned long long)s->forwarded,
		     (unsigned long long)s->forwarded_bytes, (unsigned long long)s->unreachable,
		     (unsigned long long)s->not_mutual, (unsigned long long)s->dropped,
		     (unsigned long long)s->protocol_errors);
	pq_sb_printf(b, "  queued: %zu bytes in all conns, budget %zu; %llu messages dropped for it\n", r->queued,
		     r->opts.max_queued, (unsigned long long)s->budget_dropped);
	relay_fed_report_text(r, b); /* issue 10 */
	for (const struct relay_node *n = r->nodes; n; n = n->next) {
		if (!n->authed || n->closing)
			continue;
		pq_key_to_base64(key, n->entry.key);
		pq_sb_printf(b, "node %s\n  address: %s, connected %llus, %s, %zu mutual peer(s) online\n",
			     key, n->addr_text, (unsigned long long)((now - n->authed_ms) / 1000),
			     n->watching ? "watching" : "no RELAY_WATCH yet", mutual_online(n));
	}
}

static void report_json(const struct pq_relay *r, struct pq_strbuf *b, uint64_t now)
{
	const struct pq_relay_stats *s = &r->stats;
	char key[PQ_KEY_B64_LEN + 1];
	bool first = true;

	pq_sb_printf(b, "{\"relay\":{\"version\":\"%s\",\"git\":\"%s\",\"protocol\":%d,\"open\":%s,"
		     "\"nodes\":%llu,\"conns\":%zu,\"auth_ok\":%llu,\"auth_refused\":%llu,"
		     "\"auth_not_allowed\":%llu,\"auth_bad_signature\":%llu,\"auth_timeout\":%llu,"
		     "\"replaced\":%llu,\"forwarded\":%llu,\"forwarded_bytes\":%llu,"
		     "\"unreachable\":%llu,\"not_mutual\":%llu,\"queue_drops\":%llu,"
		     "\"budget_drops\":%llu,\"queued_bytes\":%zu,\"max_queued\":%zu,"
		     "\"protocol_errors\":%llu},\"nodes\":[",
		     pq_version(), pq_version_git(), PQ_HS_VERSION, r->allow_count ? "false" : "true",
		     (unsigned long long)s->nodes, r->node_count, (unsigned long long)s->auth_ok,
		     (unsigned long long)s->auth_failed, (unsigned long long)s->auth_not_allowed,
		     (unsigned long long)s->auth_bad_sig, (unsigned long long)s->auth_timeout,
		     (unsigned long long)s->replaced, (unsigned long long)s->forwarded,
		     (unsigned long long)s->forwarded_bytes, (unsigned long long)s->unreachable,
		     (unsigned long long)s->not_mutual, (unsigned long long)s->dropped,
		     (unsigned long long)s->budget_dropped, r->queued, r->opts.max_queued,
		     (unsigned long long)s->protocol_errors);
	for (const struct relay_node *n = r->nodes; n; n = n->next) {
		if (!n->authed || n->closing)
			continue;
		pq_key_to_base64(key, n->entry.key);
		/* addr_text is pq_sockaddr_format output: digits, dots,
		 * colons and brackets only, nothing to escape. */
		pq_sb_printf(b, "%s{\"key\":\"%s\",\"address\":\"%s\",\"connected_s\":%llu,"
			     "\"watching\":%s,\"mutual_online\":%zu}", first ? "" : ",", key,
			     n->addr_text, (unsigned long long)((now - n->authed_ms) / 1000),
			     n->watching ? "true" : "false", mutual_online(n));
		first = false;
	}
	pq_sb_printf(b, "]}\n");
}

long pq_relay_report(const struct pq_relay *r, bool json, char *out, size_t cap)
{
	struct pq_strbuf b = { out, cap, 0, false };
	uint64_t now = pq_loop_now(r->loop);

	if (cap)
		out[0] = 0;
	if (json)
		report_json(r, &b, now);
	else
		report_text(r, &b, now);
	return finish(&b);
}

static void counter(struct pq_strbuf *b, const char *name, const char *help, uint64_t v)
{
	pq_sb_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		     (unsigned long long)v);
}

long pq_relay_metrics_text(const struct pq_relay *r, char *out, size_t cap)
{
	const struct pq_relay_stats *s = &r->stats;
	struct pq_strbuf b = { out, cap, 0, false };
	uint64_t other = s->auth_failed - s->auth_not_allowed - s->auth_bad_sig - s->auth_timeout;

	if (cap)
		out[0] = 0;
	pq_sb_printf(&b, "# HELP pqlan_build_info The build: release, git commit, protocol version.\n"
		     "# TYPE pqlan_build_info gauge\n"
		     "pqlan_build_info{version=\"%s\",git=\"%s\",protocol=\"%d\"} 1\n",
		     pq_version(), pq_version_git(), PQ_HS_VERSION);
	pq_sb_printf(&b, "# HELP pqlan_relay_nodes Authenticated nodes connected now.\n"
		     "# TYPE pqlan_relay_nodes gauge\npqlan_relay_nodes %llu\n",
		     (unsigned long long)s->nodes);
	pq_sb_printf(&b, "# HELP pqlan_relay_conns Connections held, authenticated or not.\n"
		     "# TYPE pqlan_relay_conns gauge\npqlan_relay_conns %zu\n", r->node_count);
	pq_sb_printf(&b, "# HELP pqlan_relay_auth_total Node authentications by result and reason.\n"
		     "# TYPE pqlan_relay_auth_total counter\n"
		     "pqlan_relay_auth_total{result=\"ok\",reason=\"\"} %llu\n"
		     "pqlan_relay_auth_total{result=\"refused\",reason=\"not_allowed\"} %llu\n"
		     "pqlan_relay_auth_total{result=\"refused\",reason=\"bad_signature\"} %llu\n"
		     "pqlan_relay_auth_total{result=\"refused\",reason=\"timeout\"} %llu\n"
		     "pqlan_relay_auth_total{result=\"refused\",reason=\"other\"} %llu\n",
		     (unsigned long long)s->auth_ok, (unsigned long long)s->auth_not_allowed,
		     (unsigned long long)s->auth_bad_sig, (unsigned long long)s->auth_timeout,
		     (unsigned long long)other);
	counter(&b, "pqlan_relay_replaced_total", "Connections replaced by a newer one with the same key.",
		s->replaced);
	counter(&b, "pqlan_relay_forwarded_messages_total", "RELAY_SEND forwarded as RELAY_RECV.",
		s->forwarded);
	counter(&b, "pqlan_relay_forwarded_bytes_total", "Payload bytes forwarded.", s->forwarded_bytes);
	counter(&b, "pqlan_relay_unreachable_total", "RELAY_SEND answered UNREACHABLE.", s->unreachable);
	counter(&b, "pqlan_relay_not_mutual_total",
		"Of those, refused because the two nodes do not list each other.", s->not_mutual);
	counter(&b, "pqlan_relay_queue_drops_total", "Messages dropped on a full destination queue.",
		s->dropped);
	counter(&b, "pqlan_relay_budget_drops_total",
		"Of those, messages dropped for the relay-wide budget (max_queued_mib).", s->budget_dropped);
	pq_sb_printf(&b, "# HELP pqlan_relay_queued_bytes Bytes queued in all connections now.\n"
		     "# TYPE pqlan_relay_queued_bytes gauge\npqlan_relay_queued_bytes %zu\n", r->queued);
	counter(&b, "pqlan_relay_protocol_errors_total", "Connections closed for a protocol error.",
		s->protocol_errors);
	counter(&b, "pqlan_relay_accepted_total", "TCP connections accepted.", s->accepted);
	counter(&b, "pqlan_relay_failed_before_open_total",
		"Connections dropped before the WebSocket opened.", s->failed_before_open);
	counter(&b, "pqlan_relay_unauth_evicted_total",
		"Unauthenticated connections closed to make room.", s->unauth_evicted);
	relay_fed_metrics_text(r, &b); /* issue 10 */
	return finish(&b);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PQ_PUBKEY_LEN);
}

int pq_relay_set_allow(struct pq_relay *r, const uint8_t (*allow)[32], size_t count, size_t *closed)
{
	uint8_t (*copy)[PQ_PUBKEY_LEN] = NULL;
	struct relay_node *n, *next;

	*closed = 0;
	if (count) {
		if (!(copy = malloc(count * sizeof(*copy))))
			return PQ_E_NOMEM;
		memcpy(copy, allow, count * sizeof(*copy));
		qsort(copy, count, sizeof(*copy), key_cmp);
	}
	free(r->allow);
	r->allow = copy;
	r->allow_count = count;
	if (!count)
		return 0;
	/* relay_close_node may unlink n at once: take next first. */
	for (n = r->nodes; n; n = next) {
		next = n->next;
		if (!n->authed || n->closing ||
		    bsearch(n->entry.key, r->allow, r->allow_count, sizeof(*r->allow), key_cmp))
			continue;
		pq_log(PQ_LOG_INFO, "relay: node %s at %s is no longer allowed, closing it", n->key_text,
		       n->addr_text);
		relay_close_node(n, PQ_CLOSE_AUTH_FAILED, RELAY_WS_CLOSE_POLICY);
		(*closed)++;
	}
	return 0;
}
