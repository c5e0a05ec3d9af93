/*
 * hs_fixture.h - test nodes for the handshake and session tests: a
 * deterministic identity and random stream per node, an allowlist, one
 * session per peer, and helpers that carry messages between two nodes in
 * memory under a fake clock. Header-only, static functions; included by one
 * test file each.
 */
#ifndef PQ_TESTS_HS_FIXTURE_H
#define PQ_TESTS_HS_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/util.h"
#include "proto/handshake.h"
#include "proto/session.h"

#ifndef FX_MAX_PEERS
#define FX_MAX_PEERS 48
#endif

struct fx_node {
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	struct pq_signer *signer;
	uint8_t pub[PQ_PUBKEY_LEN];
	struct pq_hs hs;
	size_t n_peers;
	struct pq_hs_peer peers[FX_MAX_PEERS];
	struct pq_session sess[FX_MAX_PEERS];
	uint8_t rng_seed[8];
	uint64_t rng_ctr;
	int rng_fail;   /* when set, the random callback fails */
};

/* SHA-256(seed || counter): a deterministic stream per node. */
static inline int fx_random(void *ctx, void *out, size_t len)
{
	struct fx_node *n = ctx;
	uint8_t *p = out;

	if (n->rng_fail)
		return PQ_E_RANDOM;
	while (len > 0) {
		uint8_t block[PQ_SHA256_LEN], ctr[8];
		struct pq_iov iov[2] = { { n->rng_seed, 8 }, { ctr, 8 } };
		size_t take = len < sizeof(block) ? len : sizeof(block);

		for (int i = 0; i < 8; i++)
			ctr[i] = (uint8_t)(n->rng_ctr >> (8 * i));
		n->rng_ctr++;
		if (pq_sha256(block, iov, 2))
			return PQ_E_RANDOM;
		memcpy(p, block, take);
		p += take;
		len -= take;
	}
	return 0;
}

static inline struct pq_hs_peer *fx_lookup(void *ctx, const uint8_t pub[PQ_PUBKEY_LEN])
{
	struct fx_node *n = ctx;

	for (size_t i = 0; i < n->n_peers; i++)
		if (memcmp(n->peers[i].pub, pub, PQ_PUBKEY_LEN) == 0)
			return &n->peers[i];
	return NULL;
}

/* A node whose identity and randomness derive from seed. 0 or an error. */
static inline int fx_node_init(struct fx_node *n, uint8_t seed)
{
	struct pq_hs_callbacks cb = { .ctx = n, .random = fx_random, .lookup = fx_lookup };
	int ret;

	memset(n, 0, sizeof(*n));
	for (size_t i = 0; i < sizeof(n->priv); i++)
		n->priv[i] = (uint8_t)(seed * 31 + i);
	memset(n->rng_seed, seed, sizeof(n->rng_seed));
	ret = pq_signer_new(&n->signer, n->priv);
	if (ret)
		return ret;
	memcpy(n->pub, pq_signer_public(n->signer), PQ_PUBKEY_LEN);
	return pq_hs_init(&n->hs, n->signer, &cb);
}

static inline void fx_node_free(struct fx_node *n)
{
	for (size_t i = 0; i < n->n_peers; i++) {
		pq_hs_peer_wipe(&n->peers[i]);
		pq_session_wipe(&n->sess[i]);
	}
	pq_hs_wipe(&n->hs);
	pq_signer_free(n->signer);
	memset(n, 0, sizeof(*n));
}

/* Allow pub; returns the peer's slot number. */
static inline size_t fx_allow(struct fx_node *n, const uint8_t pub[PQ_PUBKEY_LEN], uint64_t now)
{
	size_t i = n->n_peers++;

	pq_hs_peer_init(&n->peers[i], pub, now);
	pq_session_init(&n->sess[i]);
	return i;
}

static inline size_t fx_slot(const struct fx_node *n, const struct pq_hs_peer *p)
{
	return (size_t)(p - n->peers);
}

/* Feed msg (from sender) to node n; install any keys into the right
 * session. Returns what pq_hs_receive returned; *res keeps the event. */
static inline long fx_deliver(struct fx_node *n, const struct fx_node *sender, const uint8_t *msg, size_t len,
		       uint64_t now, uint8_t *out, size_t cap, struct pq_hs_result *res)
{
	long r = pq_hs_receive(&n->hs, sender ? sender->pub : NULL, msg, len, now, now, out, cap, res);

	if (res->event != PQ_HS_EV_NONE) {
		int ret = pq_session_install(&n->sess[fx_slot(n, res->peer)], res, now);

		if (ret)
			r = ret;
	}
	pq_wipe(&res->keys, sizeof(res->keys));
	return r;
}

/* The same, answering first as the node does (pq_hs_receive_first, then
 * pq_hs_settle). Returns what pq_hs_receive_first returned: the answer in
 * out was built, and would have left, even when the settle then refused
 * the message (res->event NONE). */
static inline long fx_deliver_first(struct fx_node *n, const struct fx_node *sender, const uint8_t *msg,
				    size_t len, uint64_t now, uint8_t *out, size_t cap, struct pq_hs_result *res)
{
	long r = pq_hs_receive_first(&n->hs, sender ? sender->pub : NULL, msg, len, now, now, out, cap, res);
	int ret = pq_hs_settle(&n->hs, res, now);

	if (!ret && res->event != PQ_HS_EV_NONE && (ret = pq_session_install(&n->sess[fx_slot(n, res->peer)], res, now)))
		r = ret;
	pq_wipe(&res->keys, sizeof(res->keys));
	return r;
}

static inline uint64_t fx_drops(const struct pq_hs_stats *s)
{
	return s->drop_decode + s->drop_version + s->drop_unknown_peer + s->drop_sender_mismatch + s->drop_stale +
	       s->drop_rate + s->drop_signature + s->drop_bad_key + s->drop_crossing + s->drop_unexpected +
	       s->drop_mac + s->drop_internal;
}

#endif
