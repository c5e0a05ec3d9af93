/*
 * hs_responder.c - the responder's side of the hybrid handshake and its
 * bounded half-open table (DESIGN §3).
 *
 * HS_INIT is admitted cheapest check first, so an unwanted message costs as
 * little as possible: size and type -> version and suite -> the transport's
 * sender -> allowlist -> timestamp newer than the last accepted and at most
 * 5 min ahead of our clock -> per-peer rate limit -> signature -> crossing
 * rule -> ML-KEM encaps (which checks the ek, FIPS 203 §7.2) and X25519 ->
 * key schedule. Nothing about the peer changes until the whole message has
 * been accepted. Answering first (handshake.h), the signature check moves
 * to pq_hs__settle_init, after the answer has left, and the acceptance
 * with it.
 */
#include <string.h>

#include "crypto/util.h"
#include "proto/hs_internal.h"
#include "proto/hs_transcript.h"

/* Our own initiations past their lifetime: nothing can use their
 * ephemeral secrets any more (HS_RESP checks expiry), so they go now
 * rather than when the next initiation to that peer starts. */
static void expire_pending(struct pq_hs *hs, uint64_t mono_ms)
{
	struct pq_hs_peer *peer = hs->pending_peers, *next;

	for (; peer; peer = next) {
		next = peer->pending_next;
		if (peer->pending.active && !pq_hs__expired(peer->pending.started_ms, mono_ms))
			continue;
		pq_hs__pending_clear(peer);
		hs->stats.pending_expired++;
	}
}

void pq_hs_expire(struct pq_hs *hs, uint64_t mono_ms)
{
	for (size_t i = 0; i < PQ_HS_HALF_OPEN_MAX; i++) {
		struct pq_hs_half_open *s = &hs->half_open[i];

		if (s->active && pq_hs__expired(s->created_ms, mono_ms)) {
			pq_wipe(s, sizeof(*s));
			hs->stats.half_open_expired++;
		}
	}
	expire_pending(hs, mono_ms);
}

/* The peer's own slot if it has one (a newer HS_INIT replaces it), else a
 * free one, else the oldest, evicted. */
static struct pq_hs_half_open *half_open_slot(struct pq_hs *hs, const struct pq_hs_peer *peer)
{
	struct pq_hs_half_open *free_slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < PQ_HS_HALF_OPEN_MAX; i++) {
		struct pq_hs_half_open *s = &hs->half_open[i];

		if (!s->active) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (s->peer == peer)
			return s;
		if (!oldest || s->created_ms < oldest->created_ms)
			oldest = s;
	}
	if (free_slot)
		return free_slot;
	hs->stats.half_open_evicted++;
	return oldest;
}

/* Everything that can refuse an HS_INIT before any public-key operation. */
static long admit_init(struct pq_hs *hs, const uint8_t *sender_pub, const struct pq_hs_init_msg *m,
		       uint64_t wall_ms, uint64_t mono_ms, struct pq_hs_peer **peer_out)
{
	struct pq_hs_peer *peer;

	if (m->version != PQ_HS_VERSION || m->suite != PQ_HS_SUITE_HYBRID1)
		return DROP(hs, drop_version, PQ_E_DECODE);
	if (sender_pub && memcmp(sender_pub, m->initiator_pub, PQ_PUBKEY_LEN) != 0)
		return DROP(hs, drop_sender_mismatch, PQ_E_PEER);
	if (memcmp(m->initiator_pub, hs->pub, PQ_PUBKEY_LEN) == 0)
		return DROP(hs, drop_unknown_peer, PQ_E_PEER);
	peer = hs->cb.lookup(hs->cb.ctx, m->initiator_pub);
	if (!peer)
		return DROP(hs, drop_unknown_peer, PQ_E_PEER);
	if (m->timestamp_ms <= peer->last_init_ts)
		return DROP(hs, drop_stale, PQ_E_REPLAY);
	/* Only the future is bounded: a peer whose clock is behind ours still
	 * gets in, since its timestamps only have to increase. */
	if (m->timestamp_ms > wall_ms + PQ_HS_MAX_FUTURE_MS)
		return DROP(hs, drop_future, PQ_E_TIME);
	if (!pq_ratelimit_allow(&peer->rate, mono_ms))
		return DROP(hs, drop_rate, PQ_E_LIMIT);
	*peer_out = peer;
	return 0;
}

/* HS_RESP's key material: ML-KEM encaps to the initiator's ek (rejecting
 * an ek that fails FIPS 203 §7.2) and X25519 with a fresh ephemeral,
 * precomputed if the pool has one (hs_pool.c). */
static int responder_secrets(struct pq_hs *hs, const struct pq_hs_init_msg *m, uint64_t mono_ms,
			     struct pq_hs_resp_msg *r, uint8_t ss_mlkem[32], uint8_t ss_x[32])
{
	struct pq_hs_eph_resp e;
	uint8_t coins[32];
	int ret = 0;

	if (!pq_hs__take_resp(hs, mono_ms, &e))
		ret = pq_hs__make_resp(hs, &e, mono_ms);
	if (!ret)
		ret = pq_hs__random(hs, coins, sizeof(coins));
	if (!ret) {
		ret = pq_mlkem1024_encaps_derand(r->mlkem_ct, ss_mlkem, m->mlkem_ek, coins);
		if (ret && ret != PQ_E_KEY)
			ret = PQ_E_CRYPTO;
	}
	if (!ret) {
		memcpy(r->x25519_pub, e.x25519_pub, PQ_X25519_LEN);
		ret = pq_x25519_shared_with_pub(ss_x, e.x25519_priv, e.x25519_pub, m->x25519_pub);
	}
	pq_wipe(&e, sizeof(e));
	pq_wipe(coins, sizeof(coins));
	return ret;
}

/* Build HS_RESP into out (cap checked by the caller) and derive the keys. */
static int build_resp(struct pq_hs *hs, const struct pq_hs_init_msg *m, uint64_t mono_ms,
		      uint8_t h[PQ_SHA256_LEN], uint8_t *out, struct pq_hs_result *res)
{
	struct pq_hs_resp_msg r;
	uint8_t ss_mlkem[32], ss_x[32];
	int ret;

	memset(&r, 0, sizeof(r));
	r.receiver_index = m->sender_index;
	ret = pq_hs__new_index(hs, &r.sender_index);
	if (!ret)
		ret = responder_secrets(hs, m, mono_ms, &r, ss_mlkem, ss_x);
	if (!ret && pq_hs_resp_encode(&r, out, PQ_HS_RESP_LEN) != PQ_HS_RESP_LEN)
		ret = PQ_E_CRYPTO;
	if (!ret)
		ret = pq_hs_transcript_mix(h, out, PQ_HS_RESP_SIG_OFF);
	if (!ret)
		ret = pq_hs_sign(hs->signer, PQ_HS_SIG_RESP, h, out + PQ_HS_RESP_SIG_OFF);
	if (!ret)
		ret = pq_hs_transcript_mix(h, out + PQ_HS_RESP_SIG_OFF, PQ_ED25519_SIG_LEN);
	if (!ret)
		ret = pq_key_schedule(&res->keys, ss_mlkem, ss_x, h);
	if (!ret)
		ret = pq_hs_resp_mac(out + PQ_HS_RESP_MAC_OFF, res->keys.confirm_r2i, h);
	res->local_index = r.sender_index;
	res->remote_index = r.receiver_index;
	pq_wipe(ss_mlkem, sizeof(ss_mlkem));
	pq_wipe(ss_x, sizeof(ss_x));
	return ret;
}

static void remember_half_open(struct pq_hs *hs, struct pq_hs_peer *peer, const struct pq_hs_result *res,
			       const uint8_t h[PQ_SHA256_LEN], const uint8_t resp_mac[PQ_HMAC_LEN], uint64_t mono_ms)
{
	struct pq_hs_half_open *s = half_open_slot(hs, peer);

	pq_wipe(s, sizeof(*s));
	s->active = true;
	s->peer = peer;
	s->local_index = res->local_index;
	s->remote_index = res->remote_index;
	s->created_ms = mono_ms;
	memcpy(s->confirm_i2r, res->keys.confirm_i2r, PQ_KEY_LEN);
	memcpy(s->transcript, h, PQ_SHA256_LEN);
	memcpy(s->resp_mac, resp_mac, PQ_HMAC_LEN);
}

/* HS_INIT accepted (its signature checked): take the half-open slot,
 * record its timestamp, abandon our crossing initiation if it won, and
 * hand the unconfirmed keys out. */
static void init_accepted(struct pq_hs *hs, struct pq_hs_peer *peer, bool abandon, uint64_t timestamp_ms,
			  const uint8_t h[PQ_SHA256_LEN], const uint8_t resp_mac[PQ_HMAC_LEN], uint64_t mono_ms,
			  struct pq_hs_result *res)
{
	if (abandon) {
		pq_hs__pending_clear(peer);
		hs->stats.pending_abandoned++;
		res->abandoned_own = true;
	}
	remember_half_open(hs, peer, res, h, resp_mac, mono_ms);
	peer->last_init_ts = timestamp_ms;
	res->event = PQ_HS_EV_KEYS;
	res->peer = peer;
	res->initiator = false;
	res->confirmed = false;
	hs->stats.resp_sent++;
}

/* What pq_hs_settle needs to accept this HS_INIT after the answer left. */
static void defer_init(struct pq_hs_settle *st, struct pq_hs_peer *peer, bool abandon, uint64_t timestamp_ms,
		       const uint8_t h[PQ_SHA256_LEN], const uint8_t resp_mac[PQ_HMAC_LEN])
{
	st->due = true;
	st->type = PQ_MSG_HS_INIT;
	st->peer = peer;
	st->abandon = abandon;
	st->timestamp_ms = timestamp_ms;
	memcpy(st->transcript, h, PQ_SHA256_LEN);
	memcpy(st->resp_mac, resp_mac, PQ_HMAC_LEN);
}

long pq_hs__handle_init(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg, size_t len,
			uint64_t wall_ms, uint64_t mono_ms, uint8_t *out, size_t cap, bool answer_first,
			struct pq_hs_result *res)
{
	struct pq_hs_init_msg m;
	struct pq_hs_peer *peer = NULL;
	uint8_t h[PQ_SHA256_LEN];
	bool abandon = false;
	long n;
	int ret;

	if (pq_hs_init_decode(&m, msg, len))
		return DROP(hs, drop_decode, PQ_E_DECODE);
	if (cap < PQ_HS_RESP_LEN)
		return PQ_E_TOOBIG;
	n = admit_init(hs, sender_pub, &m, wall_ms, mono_ms, &peer);
	if (n)
		return n;
	ret = pq_hs_transcript_start(h, m.initiator_pub, hs->pub);
	if (!ret)
		ret = pq_hs_transcript_mix(h, msg, PQ_HS_INIT_SIG_OFF);
	if (ret)
		return DROP(hs, drop_internal, ret);
	if (answer_first) {
		memcpy(res->settle.signed_hash, h, sizeof(h));
		memcpy(res->settle.sig, m.sig, sizeof(m.sig));
	} else if (pq_hs_verify(m.initiator_pub, PQ_HS_SIG_INIT, h, m.sig)) {
		return DROP(hs, drop_signature, PQ_E_AUTH);
	}
	if (pq_hs_transcript_mix(h, m.sig, sizeof(m.sig))) {
		n = DROP(hs, drop_internal, PQ_E_CRYPTO);
		goto out;
	}
	/* Crossing initiations: the one from the lower public key wins. */
	if (pq_hs_pending(peer, mono_ms)) {
		if (memcmp(hs->pub, peer->pub, PQ_PUBKEY_LEN) < 0) {
			n = DROP(hs, drop_crossing, PQ_E_STATE);
			goto out;
		}
		abandon = true;
	}
	ret = build_resp(hs, &m, mono_ms, h, out, res);
	if (ret) {
		pq_wipe(&res->keys, sizeof(res->keys));
		n = ret == PQ_E_KEY ? DROP(hs, drop_bad_key, ret) : DROP(hs, drop_internal, ret);
		goto out;
	}
	if (answer_first)
		defer_init(&res->settle, peer, abandon, m.timestamp_ms, h, out + PQ_HS_RESP_MAC_OFF);
	else
		init_accepted(hs, peer, abandon, m.timestamp_ms, h, out + PQ_HS_RESP_MAC_OFF, mono_ms, res);
	n = PQ_HS_RESP_LEN;
out:
	if (n < 0)
		pq_wipe(&res->settle, sizeof(res->settle));
	pq_wipe(h, sizeof(h));
	return n;
}

int pq_hs__settle_init(struct pq_hs *hs, struct pq_hs_result *res, uint64_t mono_ms)
{
	struct pq_hs_settle *st = &res->settle;

	if (pq_hs_verify(st->peer->pub, PQ_HS_SIG_INIT, st->signed_hash, st->sig))
		return (int)DROP(hs, drop_signature, PQ_E_AUTH);
	init_accepted(hs, st->peer, st->abandon, st->timestamp_ms, st->transcript, st->resp_mac, mono_ms, res);
	return 0;
}

long pq_hs__handle_finish(struct pq_hs *hs, const uint8_t *sender_pub, const uint8_t *msg, size_t len,
			  struct pq_hs_result *res)
{
	struct pq_hs_finish_msg m;
	struct pq_hs_half_open *s = NULL;
	uint8_t mac[PQ_HMAC_LEN];
	long n = 0;

	if (pq_hs_finish_decode(&m, msg, len))
		return DROP(hs, drop_decode, PQ_E_DECODE);
	for (size_t i = 0; i < PQ_HS_HALF_OPEN_MAX && !s; i++)
		if (hs->half_open[i].active && hs->half_open[i].local_index == m.receiver_index)
			s = &hs->half_open[i];
	if (!s || s->remote_index != m.sender_index)
		return DROP(hs, drop_unexpected, PQ_E_STATE);
	if (sender_pub && memcmp(sender_pub, s->peer->pub, PQ_PUBKEY_LEN) != 0)
		return DROP(hs, drop_sender_mismatch, PQ_E_PEER);
	if (pq_hs_finish_mac(mac, s->confirm_i2r, s->transcript, s->resp_mac, msg, PQ_HS_FINISH_MAC_OFF)) {
		n = DROP(hs, drop_internal, PQ_E_CRYPTO);
		goto out;
	}
	if (!pq_ct_equal(mac, m.mac, sizeof(mac))) {
		n = DROP(hs, drop_mac, PQ_E_AUTH);
		goto out;
	}
	res->event = PQ_HS_EV_CONFIRMED;
	res->peer = s->peer;
	res->initiator = false;
	res->confirmed = true;
	res->local_index = s->local_index;
	res->remote_index = s->remote_index;
	pq_wipe(s, sizeof(*s));
	hs->stats.done_responder++;
out:
	pq_wipe(mac, sizeof(mac));
	return n;
}
