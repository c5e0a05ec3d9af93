/*
 * relay_fwd.c - the hot path: RELAY_SEND from an authenticated node becomes
 * RELAY_RECV to its destination (docs/PROTOCOL.md §3.2). Same size, only
 * the type byte and the key change; the payload is never read. Only
 * between two nodes that list each other in RELAY_WATCH (relay_watch.c). No
 * allocation here: the message is rebuilt in the relay's scratch buffer
 * and copied once more into the destination's queue by pq_conn_send.
 */
#include <string.h>

#include "relay/relay_internal.h"
#include "util/log.h"

static void send_unreachable(struct relay_node *src, const uint8_t dst_key[PQ_PUBKEY_LEN])
{
	struct pq_peer_key_msg m;
	uint8_t buf[PQ_UNREACHABLE_MSG_LEN];
	size_t len;

	memcpy(m.key, dst_key, PQ_PUBKEY_LEN);
	src->relay->stats.unreachable++;
	if (pq_unreachable_encode(buf, sizeof(buf), &len, &m) == 0)
		(void)relay_send(src, buf, len);
}

void relay_forward(struct relay_node *src, const uint8_t *msg, size_t len)
{
	struct pq_relay *r = src->relay;
	struct pq_relay_fwd f;
	struct relay_node *dst;

	/* Type and size (34..16640) first, PROTOCOL §1. */
	if (pq_relay_send_decode(&f, msg, len)) {
		relay_protocol_error(src, "malformed RELAY_SEND");
		return;
	}
	dst = relay_node_of_key(r, f.key);
	if (!dst || dst->closing) {
		/* Maybe on another relay (relay_fed.c); not mutual is
		 * refused the same way as below. */
		int fed = relay_fed_forward(src, &f);

		if (fed > 0)
			return;
		if (fed < 0)
			r->stats.not_mutual++;
		send_unreachable(src, f.key);
		return;
	}
	/* PROTOCOL §3.4: only between nodes that list each other. Refused
	 * exactly like an offline key, so RELAY_SEND tells a node nothing
	 * about the presence of keys outside its mutual peers. */
	if (!relay_mutual(src, dst)) {
		r->stats.not_mutual++;
		send_unreachable(src, f.key);
		return;
	}
	/* len <= PQ_MAX_MSG_LEN == sizeof(scratch), checked by the decoder. */
	memcpy(r->scratch, msg, len);
	r->scratch[0] = PQ_MSG_RELAY_RECV;
	memcpy(r->scratch + 1, src->entry.key, PQ_PUBKEY_LEN);
	r->stats.forwarded++;
	r->stats.forwarded_bytes += f.payload_len;
	if (r->opts.verbose)
		pq_log(PQ_LOG_DEBUG, "relay: %s -> %s, %zu bytes", src->key_text, dst->key_text,
		       f.payload_len);
	if (r->opts.mangle != PQ_RELAY_MANGLE_NONE) {
		relay_mangle_deliver(r, dst, r->scratch, len);
		return;
	}
	(void)relay_send(dst, r->scratch, len);
}
