/*
 * handshake.c - the initiator's side of the hybrid handshake and the
 * message dispatch (DESIGN §3). The responder's side is hs_responder.c.
 *
 * Initiator: HS_INIT = e_x25519, ek_mlkem (precomputed when the pool has
 *            them, hs_pool.c), signed transcript.
 *            HS_RESP: verify signature -> decaps -> X25519 -> key schedule
 *            -> verify the responder's confirmation MAC -> HS_FINISH.
 */
#include <string.h>

#include "crypto/util.h"
#include "proto/hs_internal.h"
#include "proto/hs_transcript.h"

int pq_hs_init(struct pq_hs *hs, const struct pq_signer *signer, const struct pq_hs_callbacks *cb)
{
	if (!hs || !signer || !cb || !cb->lookup)
		return PQ_E_INVAL;
	memset(hs, 0, sizeof(*hs));
	hs->signer = signer;
	memcpy(hs->pub, pq_signer_public(signer), PQ_PUBKEY_LEN);
	hs->cb = *cb;
	return 0;
}

/* The pending list: a peer is linked while its pending initiation is
 * active, so pq_hs_expire reaches secrets the caller's peers hold. Singly
 * linked, walked to unlink: one entry per peer with an initiation out. */
static void pending_link(struct pq_hs *hs, struct pq_hs_peer *peer)
{
	if (peer->pending_hs == hs)
		return;
	peer->pending_hs = hs;
	peer->pending_next = hs->pending_peers;
	hs->pending_peers = peer;
}

static void pending_unlink(struct pq_hs_peer *peer)
{
	struct pq_hs_peer **pp;

	if (!peer->pending_hs)
		return;
	for (pp = &peer->pending_hs->pending_peers; *pp; pp = &(*pp)->pending_next) {
		if (*pp == peer) {
			*pp = peer->pending_next;
			break;
		}
	}
	peer->pending_hs = NULL;
	peer->pending_next = NULL;
}

void pq_hs__pending_clear(struct pq_hs_peer *peer)
{
	pq_wipe(&peer->pending, sizeof(peer->pending));
	pending_unlink(peer);
}

void pq_hs_wipe(struct pq_hs *hs)
{
	pq_wipe(hs->half_open, sizeof(hs->half_open));
	pq_hs__pool_wipe(hs);
	while (hs->pending_peers)
		pq_hs__pending_clear(hs->pending_peers);
}

void pq_hs_peer_init(struct pq_hs_peer *p, const uint8_t pub[PQ_PUBKEY_LEN], uint64_t mono_ms)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->pub, pub, PQ_PUBKEY_LEN);
	pq_ratelimit_init(&p->rate, PQ_HS_RATE_INTERVAL_MS, PQ_HS_RATE_BURST, mono_ms);
}

void pq_hs_peer_wipe(struct pq_hs_peer *p)
{
	pq_hs__pending_clear(p);
}

void pq_hs_result_wipe(struct pq_hs_result *r)
{
	pq_wipe(r, sizeof(*r));
}

int pq_hs__random(struct pq_hs *hs, void *out, size_t len)
{
	if (hs->cb.random)
		return hs->cb.random(hs->cb.ctx, out, len) ? PQ_E_RANDOM : 0;
	return pq_random_bytes(out, len);
}

static bool index_in_half_open(const struct pq_hs *hs, uint32_t index)
{
	for (size_t i = 0; i < PQ_HS_HALF_OPEN_MAX; i++)
		if (hs->half_open[i].active && hs->half_open[i].local_index == index)
			return true;
	return false;
}

int pq_hs__new_index(struct pq_hs *hs, uint32_t *index)
{
	/* A few draws make a collision vanishingly unlikely; our own pending
	 * initiations live in the caller's peers and are not searched (a
	 * 2^-32 clash only makes the HS_RESP fail and the handshake retry). */
	for (int tries = 0; tries < 8; tries++) {
		uint8_t b[4];
		int ret = pq_hs__random(hs, b, sizeof(b));

		if (ret)
			return ret;
		*index = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if (index_in_half_open(hs, *index))
			continue;
		if (hs->cb.index_taken && hs->cb.index_taken(hs->cb.ctx, *index))
			continue;
		return 0;
	}
	return PQ_E_LIMIT;
}

/* Monotonic: a time before started_ms is a caller's bug (or two clocks
 * mixed up); treated as expired, the safe side for secrets. */
bool pq_hs__expired(uint64_t started_ms, uint64_t mono_ms)
{
	return mono_ms >= started_ms + PQ_HS_TIMEOUT_MS || mono_ms < started_ms;
}

bool pq_hs_pending(const struct pq_hs_peer *peer, uint64_t mono_ms)
{
	return peer->pending.active && !pq_hs__expired(peer->pending.started_ms, mono_ms);
}

/* The ephemeral key pairs: precomputed if the pool has one (hs_pool.c),
 * else made now from the same random draws. */
static int make_ephemerals(struct pq_hs *hs, uint64_t mono_ms, struct pq_hs_pending *p, struct pq_hs_init_msg *m)
{
	struct pq_hs_eph_init e;
	int ret = 0;

	if (!pq_hs__take_init(hs, mono_ms, &e))
		ret = pq_hs__make_init(hs, &e, mono_ms);
	if (!ret) {
		memcpy(p->x25519_priv, e.x25519_priv, PQ_X25519_LEN);
		memcpy(p->x25519_pub, e.x25519_pub, PQ_X25519_LEN);
		memcpy(p->mlkem_dk, e.mlkem_dk, PQ_MLKEM1024_DK_LEN);
		memcpy(m->x25519_pub, e.x25519_pub, PQ_X25519_LEN);
		memcpy(m->mlkem_ek, e.mlkem_ek, PQ_MLKEM1024_EK_LEN);
	}
	pq_wipe(&e, sizeof(e));
	return ret;
}

/* Strictly increasing, even when called twice in one millisecond, so the
 * responder's freshness check never refuses a retry. But a last stamp
 * beyond now + PQ_HS_MAX_FUTURE_MS came from a clock that has since been
 * set back: the responder refuses anything stamped that far ahead, so
 * counting on from it would lock us out; start again from now. */
static uint64_t next_timestamp(const struct pq_hs_peer *peer, uint64_t now_ms)
{
	uint64_t next = peer->last_sent_ts + 1;

	if (now_ms >= next || next > now_ms + PQ_HS_MAX_FUTURE_MS)
		return now_ms;
	return next;
}

long pq_hs_initiate(struct pq_hs *hs, struct pq_hs_peer *peer, uint64_t wall_ms, uint64_t mono_ms,
		    uint8_t *out, size_t cap)
{
	struct pq_hs_init_msg m;
	struct pq_hs_pending *p = &peer->pending;
	uint8_t h[PQ_SHA256_LEN];
	long n = PQ_E_TOOBIG;
	int ret;

	pq_hs__pending_clear(peer);
	if (cap < PQ_HS_INIT_LEN)
		goto out;
	memset(&m, 0, sizeof(m));
	m.version = PQ_HS_VERSION;
	m.suite = PQ_HS_SUITE_HYBRID1;
	memcpy(m.initiator_pub, hs->pub, PQ_PUBKEY_LEN);
	m.timestamp_ms = next_timestamp(peer, wall_ms);
	ret = pq_hs__new_index(hs, &m.sender_index);
	if (!ret)
		ret = pq_hs__random(hs, m.random, sizeof(m.random));
	if (!ret)
		ret = make_ephemerals(hs, mono_ms, p, &m);
	if (!ret && pq_hs_init_encode(&m, out, cap) != PQ_HS_INIT_LEN)
		ret = PQ_E_TOOBIG;
	/* The signature covers the transcript up to its own field. */
	if (!ret)
		ret = pq_hs_transcript_start(h, hs->pub, peer->pub);
	if (!ret)
		ret = pq_hs_transcript_mix(h, out, PQ_HS_INIT_SIG_OFF);
	if (!ret)
		ret = pq_hs_sign(hs->signer, PQ_HS_SIG_INIT, h, out + PQ_HS_INIT_SIG_OFF);
	if (!ret)
		ret = pq_hs_transcript_mix(h, out + PQ_HS_INIT_SIG_OFF, PQ_ED25519_SIG_LEN);
	if (ret) {
		n = ret;
		goto out;
	}
	memcpy(p->transcript, h, sizeof(h));
	p->local_index = m.sender_index;
	p->started_ms = mono_ms;
	p->active = true;
	pending_link(hs, peer);
	peer->last_sent_ts = m.timestamp_ms;
	hs->stats.init_sent++;
	n = PQ_HS_INIT_LEN;
out:
	if (n < 0)
		pq_wipe(p, sizeof(*p));
	pq_wipe(&m, sizeof(m));
	return n;
}

/* Keys from HS_RESP: decaps (a wrong ciphertext yields the implicit-
 * rejection key, caught by the MAC), X25519, key schedule, then the
 * responder's confirmation MAC. h is the transcript through HS_RESP's
 * signature. Counts its own drops. */
static long derive_and_confirm(struct pq_hs *hs, const struct pq_hs_pending *p, const struct pq_hs_resp_msg *m,
			       const uint8_t h[PQ_SHA256_LEN], struct pq_session_keys *keys)
{
	uint8_t ss_mlkem[32], ss_x[32], mac[PQ_HMAC_LEN];
	long n = 0;
	int ret = 0;

	if (pq_mlkem1024_decaps(ss_mlkem, m->mlkem_ct, p->mlkem_dk))
		ret = PQ_E_CRYPTO;
	if (!ret)
		ret = pq_x25519_shared_with_pub(ss_x, p->x25519_priv, p->x25519_pub, m->x25519_pub);
	if (ret) {
		n = ret == PQ_E_KEY ? DROP(hs, drop_bad_key, ret) : DROP(hs, drop_internal, ret);
		goto out;
	}
	ret = pq_key_schedule(keys, ss_mlkem, ss_x, h);
	if (!ret)
		ret = pq_hs_resp_mac(mac, keys->confirm_r2i, h);
	if (ret)
		n = DROP(hs, drop_internal, ret);
	else if (!pq_ct_equal(mac, m->mac, sizeof(mac)))
		n = DROP(hs, drop_mac, PQ_E_AUTH);
out:
	if (n)
		pq_wipe(keys, sizeof(*keys));
	pq_wipe(ss_mlkem, sizeof(ss_mlkem));
	pq_wipe(ss_x, sizeof(ss_x));
	pq_wipe(mac, sizeof(mac));
	return n;
}

/* HS_RESP accepted (its signature checked): the keys go to the caller,
 * confirmed, and the ephemeral secrets go (forward secrecy). */
static void resp_accepted(struct pq_hs *hs, struct pq_hs_peer *peer, struct pq_hs_result *res)
{
	res->event = PQ_HS_EV_KEYS;
	res->peer = peer;
	res->initiator = true;
	res->confirmed = true;
	pq_hs__pending_clear(peer);
	hs->stats.finish_sent++;
	hs->stats.done_initiator++;
}

static long handle_resp(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg, size_t len,
			uint64_t mono_ms, uint8_t *out, size_t cap, bool answer_first, struct pq_hs_result *res)
{
	struct pq_hs_resp_msg m;
	struct pq_hs_finish_msg f = { 0 };
	struct pq_hs_peer *peer;
	struct pq_hs_pending *p;
	uint8_t h[PQ_SHA256_LEN];
	long n;

	if (pq_hs_resp_decode(&m, msg, len))
		return DROP(hs, drop_decode, PQ_E_DECODE);
	if (!sender_pub || !(peer = hs->cb.lookup(hs->cb.ctx, sender_pub)))
		return DROP(hs, drop_unknown_peer, PQ_E_PEER);
	p = &peer->pending;
	if (!pq_hs_pending(peer, mono_ms) || p->local_index != m.receiver_index)
		return DROP(hs, drop_unexpected, PQ_E_STATE);
	if (cap < PQ_HS_FINISH_LEN)
		return PQ_E_TOOBIG;
	/* Only the real responder's HS_RESP can pass; a flood of others for a
	 * live index (the relay sees it) costs a compare once the tries are
	 * spent. The pending stays: it expires on its own (PROTOCOL §4.4). */
	if (p->resp_tries >= PQ_HS_RESP_TRIES)
		return DROP(hs, drop_rate, PQ_E_LIMIT);
	p->resp_tries++;
	memcpy(h, p->transcript, sizeof(h));
	if (pq_hs_transcript_mix(h, msg, PQ_HS_RESP_SIG_OFF))
		return DROP(hs, drop_internal, PQ_E_CRYPTO);
	if (answer_first) {
		memcpy(res->settle.signed_hash, h, sizeof(h));
		memcpy(res->settle.sig, m.sig, sizeof(m.sig));
	} else if (pq_hs_verify(peer->pub, PQ_HS_SIG_RESP, h, m.sig)) {
		return DROP(hs, drop_signature, PQ_E_AUTH);
	}
	if (pq_hs_transcript_mix(h, m.sig, sizeof(m.sig))) {
		n = DROP(hs, drop_internal, PQ_E_CRYPTO);
		goto out;
	}
	n = derive_and_confirm(hs, p, &m, h, &res->keys);
	if (n)
		goto out;
	f.sender_index = p->local_index;
	f.receiver_index = m.sender_index;
	if (pq_hs_finish_encode(&f, out, cap) != PQ_HS_FINISH_LEN ||
	    pq_hs_finish_mac(out + PQ_HS_FINISH_MAC_OFF, res->keys.confirm_i2r, h, m.mac, out,
			     PQ_HS_FINISH_MAC_OFF)) {
		pq_wipe(&res->keys, sizeof(res->keys));
		n = DROP(hs, drop_internal, PQ_E_CRYPTO);
		goto out;
	}
	res->local_index = p->local_index;
	res->remote_index = m.sender_index;
	if (answer_first) {
		res->settle.due = true;
		res->settle.type = PQ_MSG_HS_RESP;
		res->settle.peer = peer;
	} else {
		resp_accepted(hs, peer, res);
	}
	n = PQ_HS_FINISH_LEN;
out:
	if (n < 0)
		pq_wipe(&res->settle, sizeof(res->settle));
	pq_wipe(h, sizeof(h));
	return n;
}

/* The HS_RESP answered by pq_hs_receive_first: its signature, then
 * acceptance, unless the initiation it answered was replaced in between.
 * Not its age: it was live when the HS_FINISH was built, and that has
 * left; dropping it now for a millisecond more would leave the responder
 * confirmed on keys we threw away. */
static int settle_resp(struct pq_hs *hs, struct pq_hs_result *res)
{
	struct pq_hs_settle *st = &res->settle;
	struct pq_hs_peer *peer = st->peer;

	if (!peer->pending.active || peer->pending.local_index != res->local_index)
		return (int)DROP(hs, drop_unexpected, PQ_E_STATE);
	if (pq_hs_verify(peer->pub, PQ_HS_SIG_RESP, st->signed_hash, st->sig))
		return (int)DROP(hs, drop_signature, PQ_E_AUTH);
	resp_accepted(hs, peer, res);
	return 0;
}

int pq_hs_settle(struct pq_hs *hs, struct pq_hs_result *res, uint64_t mono_ms)
{
	int ret;

	if (!res->settle.due)
		return 0;
	ret = res->settle.type == PQ_MSG_HS_INIT ? pq_hs__settle_init(hs, res, mono_ms) : settle_resp(hs, res);
	if (ret) {
		pq_wipe(&res->keys, sizeof(res->keys));
		res->event = PQ_HS_EV_NONE;
	}
	pq_wipe(&res->settle, sizeof(res->settle));
	return ret;
}

static long receive(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg, size_t len, uint64_t wall_ms,
		    uint64_t mono_ms, uint8_t *out, size_t cap, bool answer_first, struct pq_hs_result *res)
{
	memset(res, 0, sizeof(*res));
	pq_hs_expire(hs, mono_ms);
	if (!msg || len < 1)
		return DROP(hs, drop_decode, PQ_E_DECODE);
	switch (msg[0]) {
	case PQ_MSG_HS_INIT:
		return pq_hs__handle_init(hs, sender_pub, msg, len, wall_ms, mono_ms, out, cap, answer_first, res);
	case PQ_MSG_HS_RESP:
		return handle_resp(hs, sender_pub, msg, len, mono_ms, out, cap, answer_first, res);
	case PQ_MSG_HS_FINISH:
		return pq_hs__handle_finish(hs, sender_pub, msg, len, res);
	default:
		return DROP(hs, drop_decode, PQ_E_DECODE);
	}
}

long pq_hs_receive(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg, size_t len,
		   uint64_t wall_ms, uint64_t mono_ms,
		   uint8_t *out, size_t cap, struct pq_hs_result *res)
{
	return receive(hs, sender_pub, msg, len, wall_ms, mono_ms, out, cap, false, res);
}

long pq_hs_receive_first(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg, size_t len,
			 uint64_t wall_ms, uint64_t mono_ms, uint8_t *out, size_t cap, struct pq_hs_result *res)
{
	return receive(hs, sender_pub, msg, len, wall_ms, mono_ms, out, cap, true, res);
}
