/*
 * relay_mangle.c - TEST ONLY: a hostile relay that flips a bit in,
 * replays, or reorders forwarded payloads, so the nodes' end-to-end tests
 * can check that sealed messages survive no such tampering. Enabled by
 * the CLI only with PQLAN_TEST=1 and PQLAN_RELAY_TEST_MANGLE=flip|replay|
 * reorder. Only payloads whose first byte is a sealed type (0x20-0x2f,
 * PROTOCOL §4) are touched, so handshakes still complete.
 */
#include <string.h>

#include "relay/relay_internal.h"

/* Offset of the payload in a RELAY_RECV: type byte + source key. */
#define PAYLOAD_OFF (1 + PQ_PUBKEY_LEN)

static bool sealed(const uint8_t *msg, size_t len)
{
	return len > PAYLOAD_OFF && (msg[PAYLOAD_OFF] & 0xf0) == 0x20;
}

/* Reorder: deliver what is held (if anything) and forget it. */
static void flush_held(struct pq_relay *r)
{
	if (r->held_len && r->held_dst)
		(void)relay_send(r->held_dst, r->held, r->held_len);
	r->held_len = 0;
	r->held_dst = NULL;
}

static void reorder(struct pq_relay *r, struct relay_node *dst, const uint8_t *msg, size_t len)
{
	if (r->held_len && r->held_dst == dst) {
		/* The pair goes out swapped: the newer first. */
		(void)relay_send(dst, msg, len);
		flush_held(r);
		return;
	}
	flush_held(r);
	if (len > PQ_MAX_MSG_LEN)
		return;
	memcpy(r->held, msg, len);
	r->held_len = len;
	r->held_dst = dst;
}

void relay_mangle_deliver(struct pq_relay *r, struct relay_node *dst, uint8_t *msg, size_t len)
{
	if (!sealed(msg, len)) {
		(void)relay_send(dst, msg, len);
		return;
	}
	switch (r->opts.mangle) {
	case PQ_RELAY_MANGLE_FLIP:
		msg[len - 1] ^= 1;
		(void)relay_send(dst, msg, len);
		break;
	case PQ_RELAY_MANGLE_REPLAY:
		(void)relay_send(dst, msg, len);
		(void)relay_send(dst, msg, len);
		break;
	case PQ_RELAY_MANGLE_REORDER:
		reorder(r, dst, msg, len);
		break;
	default:
		(void)relay_send(dst, msg, len);
	}
}

void relay_mangle_forget(struct pq_relay *r, struct relay_node *dst)
{
	if (r->held_dst == dst) {
		r->held_len = 0;
		r->held_dst = NULL;
	}
}
