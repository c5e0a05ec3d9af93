/*
 * session.c - sealing, opening, key rotation and timers of one peer's
 * session (DESIGN §4). Keypair roles are described in session.h.
 */
#include <string.h>

#include "crypto/util.h"
#include "proto/session.h"

void pq_session_init(struct pq_session *s)
{
	memset(s, 0, sizeof(*s));
}

void pq_session_set_rekey_after(struct pq_session *s, uint64_t ms)
{
	s->rekey_after_ms = ms;
}

static void kp_retire(struct pq_keypair *kp)
{
	pq_aead_free(kp->send);
	pq_aead_free(kp->recv);
	pq_wipe(kp, sizeof(*kp));
}

static void retire(struct pq_keypair **which)
{
	if (*which) {
		kp_retire(*which);
		*which = NULL;
	}
}

void pq_session_wipe(struct pq_session *s)
{
	retire(&s->current);
	retire(&s->previous);
	retire(&s->next);
	for (size_t i = 0; i < 3; i++)
		if (s->slot[i].live)
			kp_retire(&s->slot[i]);
}

static struct pq_keypair *free_slot(struct pq_session *s)
{
	for (size_t i = 0; i < 3; i++)
		if (!s->slot[i].live)
			return &s->slot[i];
	return NULL;
}

/* Traffic and re-handshake keys by direction: the initiator sends with
 * i2r, the responder with r2i (DESIGN §3 key schedule). */
static int kp_make(struct pq_keypair *kp, const struct pq_hs_result *r, uint64_t now_ms)
{
	const struct pq_session_keys *k = &r->keys;
	int ret;

	memset(kp, 0, sizeof(*kp));
	ret = pq_aead_new(&kp->send, r->initiator ? k->key_i2r : k->key_r2i);
	if (!ret)
		ret = pq_aead_new(&kp->recv, r->initiator ? k->key_r2i : k->key_i2r);
	if (ret) {
		kp_retire(kp);
		return ret;
	}
	memcpy(kp->rehs_send, r->initiator ? k->rehs_i2r : k->rehs_r2i, PQ_KEY_LEN);
	memcpy(kp->rehs_recv, r->initiator ? k->rehs_r2i : k->rehs_i2r, PQ_KEY_LEN);
	memcpy(kp->session_id, k->session_id, PQ_SESSION_ID_LEN);
	kp->initiator = r->initiator;
	kp->local_index = r->local_index;
	kp->remote_index = r->remote_index;
	kp->created_ms = now_ms;
	pq_replay_init(&kp->replay);
	kp->live = true;
	return 0;
}

/* kp becomes current; the old current receives for a grace period. */
static void promote(struct pq_session *s, struct pq_keypair *kp, uint64_t now_ms)
{
	retire(&s->previous);
	if (s->current) {
		s->previous = s->current;
		s->previous->retire_ms = now_ms + PQ_PREV_GRACE_MS;
	}
	s->current = kp;
	s->stats.rekeys++;
}

int pq_session_install(struct pq_session *s, const struct pq_hs_result *r, uint64_t now_ms)
{
	struct pq_keypair *kp;
	int ret;

	if (r->event == PQ_HS_EV_CONFIRMED) {
		if (s->next && s->next->local_index == r->local_index) {
			promote(s, s->next, now_ms);
			s->next = NULL;
			return 0;
		}
		/* A frame under next may have promoted it already. */
		return s->current && s->current->local_index == r->local_index ? 0 : PQ_E_STATE;
	}
	if (r->event != PQ_HS_EV_KEYS)
		return PQ_E_INVAL;
	/* New keys supersede an unconfirmed next either way. */
	retire(&s->next);
	kp = free_slot(s);
	if (!kp)
		return PQ_E_STATE;
	ret = kp_make(kp, r, now_ms);
	if (ret)
		return ret;
	if (r->confirmed) {
		promote(s, kp, now_ms);
		/* Send something under the new keys at once: it confirms them
		 * to the responder even if HS_FINISH is lost or late. */
		s->keepalive_owed = true;
		s->keepalive_due_ms = now_ms;
	} else {
		s->next = kp;
	}
	return 0;
}

/* Retire keys whose time is up: previous after its grace, any keys after
 * PQ_REJECT_AFTER_MS. */
static void expire(struct pq_session *s, uint64_t now_ms)
{
	if (s->previous && now_ms >= s->previous->retire_ms)
		retire(&s->previous);
	if (s->current && now_ms >= s->current->created_ms + PQ_REJECT_AFTER_MS)
		retire(&s->current);
	if (s->next && now_ms >= s->next->created_ms + PQ_REJECT_AFTER_MS)
		retire(&s->next);
}

bool pq_session_can_send(const struct pq_session *s, uint64_t now_ms)
{
	const struct pq_keypair *kp = s->current;

	return kp && kp->send_counter < PQ_REJECT_AFTER_MESSAGES &&
	       now_ms < kp->created_ms + PQ_REJECT_AFTER_MS;
}

long pq_session_seal(struct pq_session *s, uint8_t type, const uint8_t *pt, size_t pt_len, uint8_t *out,
		     size_t cap, uint64_t now_ms)
{
	struct pq_sealed_hdr h;
	struct pq_keypair *kp;
	int ret;

	ret = pq_sealed_pt_len_ok(type, pt_len);
	if (ret)
		return ret;
	/* Keys too old to use: PQ_E_LIMIT (they are retired now; from then
	 * on there are no keys: PQ_E_STATE). */
	if (s->current && now_ms >= s->current->created_ms + PQ_REJECT_AFTER_MS) {
		expire(s, now_ms);
		return PQ_E_LIMIT;
	}
	expire(s, now_ms);
	kp = s->current;
	if (!kp)
		return PQ_E_STATE;
	if (kp->send_counter >= PQ_REJECT_AFTER_MESSAGES)
		return PQ_E_LIMIT;
	if (cap < PQ_SEALED_OVERHEAD || pt_len > cap - PQ_SEALED_OVERHEAD)
		return PQ_E_TOOBIG;
	h.type = type;
	h.receiver_index = kp->remote_index;
	/* Spend the counter before sealing: a nonce is never used twice,
	 * even if sealing fails half way. */
	h.counter = kp->send_counter++;
	if (pq_sealed_hdr_encode(&h, out, PQ_SEALED_HDR_LEN) != PQ_SEALED_HDR_LEN)
		return PQ_E_INVAL;
	ret = pq_aead_seal(kp->send, h.counter, out, PQ_SEALED_HDR_LEN, pt, pt_len, out + PQ_SEALED_HDR_LEN);
	if (ret)
		return ret;
	s->stats.tx_frames++;
	s->stats.tx_bytes += pt_len;
	s->last_sent_ms = now_ms;
	s->keepalive_owed = false;
	return (long)(pt_len + PQ_SEALED_OVERHEAD);
}

static struct pq_keypair *by_index(struct pq_session *s, uint32_t idx)
{
	struct pq_keypair *cands[3] = { s->current, s->next, s->previous };

	for (size_t i = 0; i < 3; i++)
		if (cands[i] && cands[i]->local_index == idx)
			return cands[i];
	return NULL;
}

const struct pq_keypair *pq_session_keypair_by_id(const struct pq_session *s,
						  const uint8_t id[PQ_SESSION_ID_LEN])
{
	const struct pq_keypair *cands[3] = { s->current, s->next, s->previous };

	for (size_t i = 0; i < 3; i++)
		if (cands[i] && cands[i]->live && memcmp(cands[i]->session_id, id, PQ_SESSION_ID_LEN) == 0)
			return cands[i];
	return NULL;
}

bool pq_session_owns_index(const struct pq_session *s, uint32_t idx)
{
	return by_index((struct pq_session *)s, idx) != NULL;
}

static void note_received(struct pq_session *s, uint8_t type, size_t pt_len, uint64_t now_ms)
{
	s->stats.rx_frames++;
	s->stats.rx_bytes += pt_len;
	s->last_recv_ms = now_ms;
	/* Keepalives answer data, never keepalives (no ping-pong). */
	if (type != PQ_MSG_KEEPALIVE && !s->keepalive_owed) {
		s->keepalive_owed = true;
		s->keepalive_due_ms = now_ms + PQ_KEEPALIVE_MS;
	}
}

long pq_session_open(struct pq_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		     uint64_t now_ms, uint8_t *type)
{
	struct pq_sealed_hdr h;
	struct pq_keypair *kp;
	const uint8_t *ct;
	size_t ct_len, pt_len;

	if (pq_sealed_decode(&h, &ct, &ct_len, in, len)) {
		s->stats.drop_decode++;
		return PQ_E_DECODE;
	}
	expire(s, now_ms);
	kp = by_index(s, h.receiver_index);
	if (!kp) {
		s->stats.drop_index++;
		return PQ_E_PEER;
	}
	pt_len = ct_len - PQ_AEAD_TAG_LEN;
	if (cap < pt_len) {
		s->stats.drop_toobig++;
		return PQ_E_TOOBIG;
	}
	if (pq_aead_open(kp->recv, h.counter, in, PQ_SEALED_HDR_LEN, ct, ct_len, out)) {
		s->stats.drop_auth++;
		return PQ_E_AUTH;
	}
	/* Only an authenticated counter may move the window. */
	if (!pq_replay_accept(&kp->replay, h.counter)) {
		pq_wipe(out, pt_len);
		s->stats.drop_replay++;
		return PQ_E_REPLAY;
	}
	if (kp == s->next) {
		/* Only the initiator could seal this: implicit confirmation. */
		promote(s, kp, now_ms);
		s->next = NULL;
	}
	note_received(s, h.type, pt_len, now_ms);
	*type = h.type;
	return (long)pt_len;
}

static uint64_t rekey_at(const struct pq_session *s, const struct pq_keypair *kp)
{
	uint64_t after = s->rekey_after_ms ? s->rekey_after_ms : PQ_REKEY_AFTER_MS;

	return kp->created_ms + after + (kp->initiator ? 0 : PQ_REKEY_RESPONDER_DELAY_MS);
}

unsigned pq_session_poll(struct pq_session *s, uint64_t now_ms)
{
	unsigned want = 0;

	expire(s, now_ms);
	if (s->current && (now_ms >= rekey_at(s, s->current) || s->current->send_counter >= PQ_REKEY_AFTER_MESSAGES))
		want |= PQ_SESSION_WANT_REKEY;
	if (s->keepalive_owed && now_ms >= s->keepalive_due_ms && pq_session_can_send(s, now_ms))
		want |= PQ_SESSION_WANT_KEEPALIVE;
	return want;
}

static void earliest(uint64_t *best, uint64_t t, uint64_t now_ms)
{
	if (t > now_ms && t < *best)
		*best = t;
}

uint64_t pq_session_next_deadline(const struct pq_session *s, uint64_t now_ms)
{
	uint64_t best = UINT64_MAX;

	if (s->keepalive_owed)
		earliest(&best, s->keepalive_due_ms, now_ms);
	if (s->previous)
		earliest(&best, s->previous->retire_ms, now_ms);
	if (s->current) {
		earliest(&best, rekey_at(s, s->current), now_ms);
		earliest(&best, s->current->created_ms + PQ_REJECT_AFTER_MS, now_ms);
	}
	if (s->next)
		earliest(&best, s->next->created_ms + PQ_REJECT_AFTER_MS, now_ms);
	return best;
}
