/*
 * stun_txn.c - the node's side of STUN (proto/stun.h): one Binding
 * transaction with RFC 8489 §6.2.1 retransmissions, and the NAT mapping
 * behaviour read from two answers (RFC 4787 §4.1).
 */
#include <string.h>

#include "proto/stun.h"

void pq_stun_txn_start(struct pq_stun_txn *t, const uint8_t txid[PQ_STUN_TXID_LEN], uint64_t now_ms,
		       uint32_t rto_ms, unsigned max_sends)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->txid, txid, PQ_STUN_TXID_LEN);
	t->rto_ms = rto_ms ? rto_ms : PQ_STUN_RTO_MS;
	t->wait_ms = t->rto_ms;
	t->max_sends = (uint8_t)(max_sends == 0 ? PQ_STUN_RC :
				 max_sends > PQ_STUN_MAX_SENDS ? PQ_STUN_MAX_SENDS : max_sends);
	t->next_ms = now_ms;
}

enum pq_stun_txn_action pq_stun_txn_poll(struct pq_stun_txn *t, uint64_t now_ms, uint64_t *next_ms)
{
	if (t->done) {
		*next_ms = UINT64_MAX;
		return PQ_STUN_TXN_DONE;
	}
	if (now_ms < t->next_ms) {
		*next_ms = t->next_ms;
		return PQ_STUN_TXN_WAIT;
	}
	if (t->sends == t->max_sends) {
		t->done = true;
		*next_ms = UINT64_MAX;
		return PQ_STUN_TXN_TIMEOUT;
	}
	t->sends++;
	if (t->sends < t->max_sends) {
		t->next_ms = now_ms + t->wait_ms;
		/* Doubling (§6.2.1); capped so it cannot overflow. */
		if (t->wait_ms < UINT32_MAX / 2)
			t->wait_ms *= 2;
	} else {
		t->next_ms = now_ms + (uint64_t)PQ_STUN_RM * t->rto_ms; /* Rm x RTO */
	}
	*next_ms = t->next_ms;
	return PQ_STUN_TXN_SEND;
}

long pq_stun_txn_request(const struct pq_stun_txn *t, uint8_t *out, size_t cap)
{
	return pq_stun_binding_request(t->txid, NULL, true, out, cap);
}

int pq_stun_txn_input(struct pq_stun_txn *t, const uint8_t *in, size_t len, struct pq_endpoint *mapped)
{
	struct pq_stun_msg m;

	if (pq_stun_decode(&m, in, len))
		return PQ_E_DECODE;
	/* The transaction id is not a secret worth a constant-time compare:
	 * it travels in clear, and only an on-path party sees it anyway. */
	if (t->done || m.method != PQ_STUN_METHOD_BINDING || memcmp(m.txid, t->txid, PQ_STUN_TXID_LEN) ||
	    (m.cls != PQ_STUN_SUCCESS && m.cls != PQ_STUN_ERROR))
		return PQ_E_STATE;
	if (m.cls == PQ_STUN_ERROR) {
		t->done = true;
		return PQ_E_PEER;
	}
	if (!m.has_xor_mapped && !m.has_mapped)
		return PQ_E_DECODE;
	*mapped = m.has_xor_mapped ? m.xor_mapped : m.mapped;
	t->done = true;
	return 0;
}

static bool ep_equal(const struct pq_endpoint *a, const struct pq_endpoint *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

enum pq_nat_mapping pq_stun_nat_mapping(const struct pq_endpoint *local, const struct pq_endpoint *m1,
					const struct pq_endpoint *m2)
{
	if (!m1 || !m2)
		return PQ_NAT_UNKNOWN;
	if (!ep_equal(m1, m2))
		return PQ_NAT_DEPENDENT;
	if (local && ep_equal(local, m1))
		return PQ_NAT_NONE;
	return PQ_NAT_ENDPOINT_INDEPENDENT;
}

const char *pq_nat_mapping_name(enum pq_nat_mapping m)
{
	switch (m) {
	case PQ_NAT_NONE:
		return "none";
	case PQ_NAT_ENDPOINT_INDEPENDENT:
		return "endpoint-independent";
	case PQ_NAT_DEPENDENT:
		return "dependent";
	default:
		return "unknown";
	}
}
