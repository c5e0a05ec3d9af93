/*
 * hs_pool.c - precomputed ephemeral key pairs for the hybrid handshake
 * (issue 13; handshake.h says what the pool promises).
 *
 * Key generation is the one part of a handshake that does not depend on
 * the peer: the initiator's X25519 and ML-KEM-1024 key pairs (FIPS 203
 * Alg. 16 from fresh d || z) and the responder's X25519 key pair. Making
 * them while idle takes ~0.2 ms of the initiator's and ~0.1 ms of the
 * responder's critical path. The rules that keep this as safe as making
 * them on the spot:
 *  - a slot is copied out and wiped in one step (take_*), so one key pair
 *    never serves two handshakes, and a copy lives only where the
 *    on-the-spot one would have (the pending initiation, the stack);
 *  - a slot older than PQ_HS_POOL_MAX_AGE_MS is wiped, never used: a
 *    memory disclosure reveals no future handshake further ahead than that;
 *  - pq_hs_wipe wipes every slot (node shutdown).
 */
#include <string.h>

#include "crypto/util.h"
#include "proto/hs_internal.h"

/* Monotonic; a time before made_ms is a caller's bug: too old, the safe side. */
static bool too_old(uint64_t made_ms, uint64_t mono_ms)
{
	return mono_ms >= made_ms + PQ_HS_POOL_MAX_AGE_MS || mono_ms < made_ms;
}

/* X25519 from 32 random bytes (clamped by X25519 itself, RFC 7748 §5),
 * ML-KEM-1024 from d || z (FIPS 203 Alg. 19 with our randomness). */
int pq_hs__make_init(struct pq_hs *hs, struct pq_hs_eph_init *e, uint64_t mono_ms)
{
	uint8_t dz[64];
	int ret;

	ret = pq_hs__random(hs, e->x25519_priv, sizeof(e->x25519_priv));
	if (!ret)
		ret = pq_hs__random(hs, dz, sizeof(dz));
	if (!ret)
		ret = pq_x25519_public(e->x25519_pub, e->x25519_priv);
	if (!ret && pq_mlkem1024_keypair_derand(e->mlkem_ek, e->mlkem_dk, dz, dz + 32))
		ret = PQ_E_CRYPTO;
	pq_wipe(dz, sizeof(dz));
	if (ret) {
		pq_wipe(e, sizeof(*e));
		return ret;
	}
	e->made_ms = mono_ms;
	e->ready = true;
	return 0;
}

int pq_hs__make_resp(struct pq_hs *hs, struct pq_hs_eph_resp *e, uint64_t mono_ms)
{
	int ret = pq_hs__random(hs, e->x25519_priv, sizeof(e->x25519_priv));

	if (!ret)
		ret = pq_x25519_public(e->x25519_pub, e->x25519_priv);
	if (ret) {
		pq_wipe(e, sizeof(*e));
		return ret;
	}
	e->made_ms = mono_ms;
	e->ready = true;
	return 0;
}

/* Wipe a slot that is too old; true if the slot is (now) empty. */
static bool expire_slot(struct pq_hs *hs, void *slot, size_t size, bool *ready, uint64_t made_ms,
			uint64_t mono_ms)
{
	if (*ready && too_old(made_ms, mono_ms)) {
		pq_wipe(slot, size);
		hs->stats.pool_expired++;
	}
	return !*ready;
}

int pq_hs_precompute(struct pq_hs *hs, uint64_t mono_ms)
{
	struct pq_hs_pool *pool = &hs->pool;
	int made = 0, ret;

	for (size_t i = 0; i < PQ_HS_POOL_INIT; i++) {
		struct pq_hs_eph_init *e = &pool->init[i];

		if (!expire_slot(hs, e, sizeof(*e), &e->ready, e->made_ms, mono_ms))
			continue;
		if ((ret = pq_hs__make_init(hs, e, mono_ms)))
			return ret;
		made++;
		hs->stats.pool_made++;
	}
	for (size_t i = 0; i < PQ_HS_POOL_RESP; i++) {
		struct pq_hs_eph_resp *e = &pool->resp[i];

		if (!expire_slot(hs, e, sizeof(*e), &e->ready, e->made_ms, mono_ms))
			continue;
		if ((ret = pq_hs__make_resp(hs, e, mono_ms)))
			return ret;
		made++;
		hs->stats.pool_made++;
	}
	return made;
}

/* The oldest usable slot, too old ones wiped on the way; -1 when none. */
static int oldest_init(struct pq_hs *hs, uint64_t mono_ms)
{
	int idx = -1;

	for (size_t i = 0; i < PQ_HS_POOL_INIT; i++) {
		struct pq_hs_eph_init *e = &hs->pool.init[i];

		if (expire_slot(hs, e, sizeof(*e), &e->ready, e->made_ms, mono_ms))
			continue;
		if (idx < 0 || e->made_ms < hs->pool.init[idx].made_ms)
			idx = (int)i;
	}
	return idx;
}

static int oldest_resp(struct pq_hs *hs, uint64_t mono_ms)
{
	int idx = -1;

	for (size_t i = 0; i < PQ_HS_POOL_RESP; i++) {
		struct pq_hs_eph_resp *e = &hs->pool.resp[i];

		if (expire_slot(hs, e, sizeof(*e), &e->ready, e->made_ms, mono_ms))
			continue;
		if (idx < 0 || e->made_ms < hs->pool.resp[idx].made_ms)
			idx = (int)i;
	}
	return idx;
}

bool pq_hs__take_init(struct pq_hs *hs, uint64_t mono_ms, struct pq_hs_eph_init *out)
{
	int idx = oldest_init(hs, mono_ms);

	if (idx < 0) {
		hs->stats.pool_empty++;
		return false;
	}
	memcpy(out, &hs->pool.init[idx], sizeof(*out));
	pq_wipe(&hs->pool.init[idx], sizeof(hs->pool.init[idx]));
	hs->stats.pool_used++;
	return true;
}

bool pq_hs__take_resp(struct pq_hs *hs, uint64_t mono_ms, struct pq_hs_eph_resp *out)
{
	int idx = oldest_resp(hs, mono_ms);

	if (idx < 0) {
		hs->stats.pool_empty++;
		return false;
	}
	memcpy(out, &hs->pool.resp[idx], sizeof(*out));
	pq_wipe(&hs->pool.resp[idx], sizeof(hs->pool.resp[idx]));
	hs->stats.pool_used++;
	return true;
}

void pq_hs__pool_wipe(struct pq_hs *hs)
{
	pq_wipe(&hs->pool, sizeof(hs->pool));
}
