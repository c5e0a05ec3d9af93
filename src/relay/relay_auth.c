/*
 * relay_auth.c - relay authentication (docs/PROTOCOL.md §3.3): the
 * challenge, RELAY_AUTH, RELAY_WELCOME, and the replacement of an older
 * conn with the same key (roaming). Nothing is announced here: a node is
 * announced to its peers once its RELAY_WATCH arrives (relay_watch.c).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ed25519.h"
#include "crypto/util.h"
#include "net/ws.h"
#include "relay/relay_internal.h"
#include "util/log.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The observed address of PROTOCOL §3.1 from a socket address; PQ_E_INVAL
 * for anything the wire cannot carry. */
static int wire_addr_from(struct pq_wire_addr *w, const struct pq_sockaddr *a)
{
	memset(w, 0, sizeof(*w));
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;

		w->family = PQ_ADDR_V4;
		memcpy(w->addr, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		memcpy(w->addr + 12, &in->sin_addr, 4);
		w->port = ntohs(in->sin_port);
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;

		memcpy(w->addr, &in6->sin6_addr, 16);
		/* A v4 client of a dual-stack listener arrives v4-mapped: it is
		 * family 4 on the wire (one form per address, §3.1). */
		w->family = memcmp(w->addr, v4_mapped_prefix, 12) ? PQ_ADDR_V6 : PQ_ADDR_V4;
		w->port = ntohs(in6->sin6_port);
	}
	return pq_wire_addr_valid(w) ? 0 : PQ_E_INVAL;
}

static void auth_deadline(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	struct relay_node *n = arg;

	n->relay->stats.auth_failed++;
	n->relay->stats.auth_timeout++;
	pq_log(PQ_LOG_WARN, "relay: refused %s: no RELAY_AUTH within %llu ms", n->addr_text,
	       (unsigned long long)n->relay->opts.auth_timeout_ms);
	relay_close_node(n, PQ_CLOSE_AUTH_FAILED, RELAY_WS_CLOSE_POLICY);
}

int relay_auth_start(struct relay_node *n)
{
	struct pq_relay_challenge m;
	uint8_t buf[PQ_RELAY_CHALLENGE_MSG_LEN];
	size_t len;
	int rc;

	/* PROTOCOL §3.3 step 1: fresh random bytes, one per connection. */
	rc = pq_random_bytes(m.challenge, sizeof(m.challenge));
	if (rc)
		return rc;
	memcpy(n->challenge, m.challenge, sizeof(n->challenge));
	rc = pq_relay_challenge_encode(buf, sizeof(buf), &len, &m);
	if (rc)
		return rc;
	pq_timer_init(&n->auth_timer, auth_deadline, n);
	rc = pq_loop_timer_start(n->relay->loop, &n->auth_timer, n->relay->opts.auth_timeout_ms);
	if (rc)
		return rc;
	return relay_send(n, buf, len);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PQ_PUBKEY_LEN);
}

static bool allowed(const struct pq_relay *r, const uint8_t key[PQ_PUBKEY_LEN])
{
	if (!r->allow_count)
		return true;
	return bsearch(key, r->allow, r->allow_count, sizeof(*r->allow), key_cmp) != NULL;
}

static void refuse(struct relay_node *n, const char *why)
{
	n->relay->stats.auth_failed++;
	pq_log(PQ_LOG_WARN, "relay: refused %s (key %s): %s", n->addr_text, n->key_text, why);
	relay_close_node(n, PQ_CLOSE_AUTH_FAILED, RELAY_WS_CLOSE_POLICY);
}

/* PROTOCOL §3.3 step 3: the relay's own challenge and exporter. */
static int verify_auth(struct relay_node *n, const struct pq_relay_auth *m)
{
	uint8_t signed_bytes[PQ_RELAY_AUTH_SIGNED_LEN];
	const uint8_t *exporter = pq_conn_exporter(n->conn);

	if (!exporter)
		return PQ_E_STATE;
	n->relay->stats.sig_checks++;
	pq_relay_auth_signed_bytes(signed_bytes, n->challenge, exporter);
	return pq_ed25519_verify(m->sig, signed_bytes, sizeof(signed_bytes), m->node_key);
}

/* A newer conn with the same key: the old one gets CLOSE(4) (roaming). */
static void replace_old(struct relay_node *n)
{
	struct relay_node *old = relay_node_of_key(n->relay, n->entry.key);

	if (!old)
		return;
	/* Its mutual watchers were told it was online; the new conn may
	 * never send RELAY_WATCH, or list other keys. Offline now; the new
	 * conn's RELAY_WATCH announces it again. */
	if (old->watching)
		relay_announce_offline(old);
	relay_table_remove(&n->relay->table, &old->entry);
	n->relay->stats.nodes--;
	n->relay->stats.replaced++;
	pq_log(PQ_LOG_INFO, "relay: node %s at %s replaced by a new conn from %s", old->key_text,
	       old->addr_text, n->addr_text);
	relay_close_node(old, PQ_CLOSE_REPLACED, PQ_WS_CLOSE_NORMAL);
}

/* The caps on authenticated conns (relay.h). A key already online only
 * moves to this conn (roaming) and adds nothing to the total. Refused:
 * CLOSE(3), counted, logged; true. */
static bool over_caps(struct relay_node *n, const uint8_t key[PQ_PUBKEY_LEN])
{
	struct pq_relay *r = n->relay;
	struct relay_node *old = relay_node_of_key(r, key);

	if (!old && r->stats.nodes >= r->opts.max_nodes) {
		r->stats.full_refused++;
		refuse(n, "the relay is full (max_nodes)");
		return true;
	}
	if (relay_nodes_from_source(r, n, old) >= r->opts.max_nodes_per_source) {
		r->stats.source_refused++;
		refuse(n, "too many nodes from its source (max_nodes_per_source)");
		return true;
	}
	return false;
}

static void welcome(struct relay_node *n)
{
	struct pq_relay_welcome m = { n->observed };
	uint8_t buf[PQ_RELAY_WELCOME_MSG_LEN];
	size_t len;

	if (pq_relay_welcome_encode(buf, sizeof(buf), &len, &m) == 0)
		(void)relay_send(n, buf, len);
}

void relay_auth_message(struct relay_node *n, const uint8_t *msg, size_t len)
{
	struct pq_relay_auth m;
	char b64[PQ_KEY_B64_LEN + 1];

	/* §3.4: before RELAY_WELCOME only RELAY_AUTH, exactly 97 bytes. */
	if (pq_relay_auth_decode(&m, msg, len)) {
		relay_protocol_error(n, "first message is not a valid RELAY_AUTH");
		return;
	}
	pq_key_to_base64(b64, m.node_key);
	memcpy(n->key_text, b64, RELAY_KEY_PREFIX);
	n->key_text[RELAY_KEY_PREFIX] = '\0';
	/* PROTOCOL §1, cheapest check first: a key not on the allow list is
	 * refused by a binary search, never by an Ed25519 verification that
	 * any stranger could make us run. */
	if (!allowed(n->relay, m.node_key)) {
		n->relay->stats.auth_not_allowed++;
		refuse(n, "key not on the allow list");
		return;
	}
	if (verify_auth(n, &m)) {
		n->relay->stats.auth_bad_sig++;
		refuse(n, "bad signature");
		return;
	}
	if (wire_addr_from(&n->observed, pq_conn_peer_addr(n->conn))) {
		refuse(n, "its address cannot be reported");
		return;
	}
	if (over_caps(n, m.node_key))
		return;
	/* PROTOCOL §1: from now on any message up to the largest. */
	if (pq_conn_set_max_msg(n->conn, PQ_MAX_MSG_LEN)) {
		relay_close_node(n, PQ_CLOSE_GOING_AWAY, PQ_WS_CLOSE_INTERNAL);
		return;
	}
	memcpy(n->entry.key, m.node_key, PQ_PUBKEY_LEN);
	replace_old(n);
	if (relay_table_insert(&n->relay->table, &n->entry)) {
		pq_log(PQ_LOG_ERROR, "relay: out of memory for node %s, closing it", n->key_text);
		relay_close_node(n, PQ_CLOSE_GOING_AWAY, PQ_WS_CLOSE_INTERNAL);
		return;
	}
	pq_loop_timer_cancel(n->relay->loop, &n->auth_timer);
	n->authed = true;
	n->authed_ms = pq_loop_now(n->relay->loop);
	n->relay->stats.nodes++;
	n->relay->stats.auth_ok++;
	pq_log(PQ_LOG_INFO, "relay: node %s authenticated from %s", n->key_text, n->addr_text);
	welcome(n);
}
