/*
 * rehandshake.c - the re-handshake state machine (DESIGN §5, seed story 3c,
 * docs/PROTOCOL.md §5).
 *
 * Checks run cheapest first and every rejection kills the run: type for
 * the state, exact size (decoder), session id (constant time), timestamp
 * skew, challenge reflection and replay (cache), then the MAC (constant
 * time). The cache only learns a RESPONSE's counter-challenge after its MAC
 * verified, so a forged RESPONSE cannot fill it.
 */
#include <string.h>

#include "crypto/hash.h"
#include "crypto/util.h"
#include "proto/rehandshake.h"

/* Labels: message name and the direction of the SENDER relative to the
 * session's hybrid handshake (i2r: sent by the handshake initiator). All
 * are PQ_REHS_LABEL_LEN bytes, so the MAC input has fixed field offsets. */
static const char label_resp_i2r[] = "pqlan v1 rehs response i2r";
static const char label_resp_r2i[] = "pqlan v1 rehs response r2i";
static const char label_comp_i2r[] = "pqlan v1 rehs complete i2r";
static const char label_comp_r2i[] = "pqlan v1 rehs complete r2i";

_Static_assert(sizeof(label_resp_i2r) - 1 == PQ_REHS_LABEL_LEN, "label length");
_Static_assert(sizeof(label_comp_r2i) - 1 == PQ_REHS_LABEL_LEN, "label length");
_Static_assert(PQ_CHALLENGE_LEN == PQ_REHS_CHALLENGE_LEN, "cache holds whole challenges");

int pq_rehs_mac(uint8_t out[PQ_REHS_MAC_LEN], const uint8_t key[PQ_KEY_LEN], uint8_t msg_type,
		bool sender_hs_initiator, const uint8_t session_id[PQ_SESSION_ID_LEN],
		const uint8_t challenge[PQ_REHS_CHALLENGE_LEN],
		const uint8_t counter_challenge[PQ_REHS_CHALLENGE_LEN], uint64_t timestamp_ms,
		const uint8_t binding[PQ_REHS_BINDING_LEN])
{
	uint8_t ts_be[8];
	const char *label;
	struct pq_iov iov[6];

	if (msg_type == PQ_MSG_REHS_RESPONSE)
		label = sender_hs_initiator ? label_resp_i2r : label_resp_r2i;
	else if (msg_type == PQ_MSG_REHS_COMPLETE)
		label = sender_hs_initiator ? label_comp_i2r : label_comp_r2i;
	else
		return PQ_E_INVAL;
	for (int i = 0; i < 8; i++)
		ts_be[i] = (uint8_t)(timestamp_ms >> (56 - 8 * i));
	iov[0] = (struct pq_iov){ label, PQ_REHS_LABEL_LEN };
	iov[1] = (struct pq_iov){ session_id, PQ_SESSION_ID_LEN };
	iov[2] = (struct pq_iov){ challenge, PQ_REHS_CHALLENGE_LEN };
	iov[3] = (struct pq_iov){ counter_challenge, PQ_REHS_CHALLENGE_LEN };
	iov[4] = (struct pq_iov){ ts_be, sizeof(ts_be) };
	iov[5] = (struct pq_iov){ binding, PQ_REHS_BINDING_LEN };
	return pq_hmac_sha256(out, key, PQ_KEY_LEN, iov, 6);
}

/* ---- bookkeeping ---- */

static void count(struct pq_rehs_counters *c, enum pq_rehs_reason reason)
{
	uint32_t *n;

	if (!c)
		return;
	switch (reason) {
	case PQ_REHS_OK: n = &c->completed; break;
	case PQ_REHS_R_DECODE: n = &c->decode; break;
	case PQ_REHS_R_UNEXPECTED: n = &c->unexpected; break;
	case PQ_REHS_R_SESSION: n = &c->session_id; break;
	case PQ_REHS_R_TIME: n = &c->time; break;
	case PQ_REHS_R_REPLAY: n = &c->replay; break;
	case PQ_REHS_R_REFLECT: n = &c->reflect; break;
	case PQ_REHS_R_MAC: n = &c->mac; break;
	case PQ_REHS_R_TIMEOUT: n = &c->timeout; break;
	case PQ_REHS_R_CACHE_FULL: n = &c->cache_full; break;
	default: n = &c->local; break;
	}
	if (*n != UINT32_MAX)
		(*n)++;
}

static void wipe_secrets(struct pq_rehs *r)
{
	pq_wipe(r->send_key, sizeof(r->send_key));
	pq_wipe(r->recv_key, sizeof(r->recv_key));
}

static int finished(const struct pq_rehs *r)
{
	return r->state == PQ_REHS_COMPLETED || r->state == PQ_REHS_FAILED;
}

/* Kill the run: one count, keys wiped, err handed back to the caller. */
static int fail(struct pq_rehs *r, struct pq_challenge_cache *cache, enum pq_rehs_reason reason, int err,
		uint64_t now_ms)
{
	if (cache && r->role == PQ_REHS_INITIATOR && r->state == PQ_REHS_WAIT_RESPONSE)
		pq_challenge_cache_release(cache, r->challenge, now_ms);
	r->state = PQ_REHS_FAILED;
	r->reason = reason;
	count(r->counters, reason);
	wipe_secrets(r);
	return err;
}

static void complete(struct pq_rehs *r)
{
	r->state = PQ_REHS_COMPLETED;
	count(r->counters, PQ_REHS_OK);
	wipe_secrets(r);
}

/* DESIGN §5: reject a timestamp more than 30 s old or in the future. */
static int skew_ok(uint64_t ts_ms, uint64_t now_ms)
{
	uint64_t diff = ts_ms > now_ms ? ts_ms - now_ms : now_ms - ts_ms;

	return diff <= PQ_REHS_SKEW_MS;
}

static int draw_challenge(struct pq_rehs *r, uint8_t out[PQ_REHS_CHALLENGE_LEN])
{
	int ret = r->random ? r->random(r->random_ctx, out, PQ_REHS_CHALLENGE_LEN)
			    : pq_random_bytes(out, PQ_REHS_CHALLENGE_LEN);

	return ret ? PQ_E_RANDOM : 0;
}

/* ---- life cycle ---- */

/* A run's end if it starts at now_ms (saturating). */
static uint64_t run_end(uint64_t now_ms)
{
	return now_ms > UINT64_MAX - PQ_REHS_TIMEOUT_MS ? UINT64_MAX : now_ms + PQ_REHS_TIMEOUT_MS;
}

int pq_rehs_init(struct pq_rehs *r, const struct pq_rehs_config *cfg, uint64_t now_ms)
{
	if (!r || !cfg || !cfg->session_id || !cfg->send_key || !cfg->recv_key || !cfg->binding ||
	    (cfg->role != PQ_REHS_INITIATOR && cfg->role != PQ_REHS_RESPONDER))
		return PQ_E_INVAL;
	memset(r, 0, sizeof(*r));
	r->role = cfg->role;
	r->state = cfg->role == PQ_REHS_INITIATOR ? PQ_REHS_IDLE : PQ_REHS_WAIT_REQUEST;
	r->hs_initiator = cfg->hs_initiator;
	memcpy(r->session_id, cfg->session_id, PQ_SESSION_ID_LEN);
	memcpy(r->send_key, cfg->send_key, PQ_KEY_LEN);
	memcpy(r->recv_key, cfg->recv_key, PQ_KEY_LEN);
	memcpy(r->binding, cfg->binding, PQ_REHS_BINDING_LEN);
	r->external_deadline = cfg->external_deadline;
	r->deadline_ms = r->external_deadline ? UINT64_MAX : run_end(now_ms);
	r->random = cfg->random;
	r->random_ctx = cfg->random_ctx;
	r->counters = cfg->counters;
	return 0;
}

void pq_rehs_clear(struct pq_rehs *r)
{
	if (r)
		pq_wipe(r, sizeof(*r));
}

void pq_rehs_abandon(struct pq_rehs *r, struct pq_challenge_cache *cache, uint64_t now_ms)
{
	if (r->role == PQ_REHS_RESPONDER && r->state == PQ_REHS_WAIT_COMPLETE) {
		pq_challenge_cache_forget(cache, r->challenge, now_ms);
		pq_challenge_cache_forget(cache, r->counter_challenge, now_ms);
	}
	pq_rehs_clear(r);
}

enum pq_rehs_state pq_rehs_state(const struct pq_rehs *r)
{
	return r->state;
}

enum pq_rehs_reason pq_rehs_fail_reason(const struct pq_rehs *r)
{
	return r->reason;
}

const char *pq_rehs_reason_name(enum pq_rehs_reason reason)
{
	switch (reason) {
	case PQ_REHS_OK: return "ok";
	case PQ_REHS_R_DECODE: return "malformed message";
	case PQ_REHS_R_UNEXPECTED: return "unexpected message";
	case PQ_REHS_R_SESSION: return "wrong session id";
	case PQ_REHS_R_TIME: return "timestamp out of range";
	case PQ_REHS_R_REPLAY: return "challenge replayed";
	case PQ_REHS_R_REFLECT: return "challenge reflected";
	case PQ_REHS_R_MAC: return "bad MAC";
	case PQ_REHS_R_TIMEOUT: return "timed out";
	case PQ_REHS_R_CACHE_FULL: return "challenge cache full";
	case PQ_REHS_R_LOCAL: return "local failure";
	}
	return "unknown";
}

uint64_t pq_rehs_next_deadline(const struct pq_rehs *r)
{
	return finished(r) ? UINT64_MAX : r->deadline_ms;
}

int pq_rehs_timer(struct pq_rehs *r, uint64_t now_ms)
{
	if (finished(r) || now_ms < r->deadline_ms)
		return 0;
	return fail(r, NULL, PQ_REHS_R_TIMEOUT, PQ_E_TIMEOUT, now_ms);
}

/* ---- initiator: REQUEST ---- */

/* How long our REQUEST's slot for the counter-challenge is held: the
 * run's end; with an external deadline the wall clock may also have
 * stepped up to the skew window meanwhile. */
static uint64_t reserve_until(const struct pq_rehs *r, uint64_t now_ms)
{
	uint64_t end = run_end(now_ms);

	if (!r->external_deadline)
		return end;
	return end > UINT64_MAX - PQ_REHS_SKEW_MS ? UINT64_MAX : end + PQ_REHS_SKEW_MS;
}

int pq_rehs_start(struct pq_rehs *r, struct pq_challenge_cache *cache, uint64_t now_ms, uint8_t *out,
		  size_t cap, size_t *out_len)
{
	struct pq_rehs_request req;
	int ret;

	*out_len = 0;
	if (r->role != PQ_REHS_INITIATOR || r->state != PQ_REHS_IDLE)
		return PQ_E_STATE;
	if (!out || cap < PQ_REHS_REQUEST_MSG_LEN)
		return PQ_E_TOOBIG;
	/* The initiator's 5 s run from its REQUEST (seed: RehandshakeTimeout). */
	if (!r->external_deadline)
		r->deadline_ms = run_end(now_ms);
	/* Two slots: our challenge now, the peer's counter-challenge later. */
	if (pq_challenge_cache_room(cache, now_ms) < 2)
		return fail(r, NULL, PQ_REHS_R_CACHE_FULL, PQ_E_LIMIT, now_ms);
	/* A repeat of a live challenge means our RNG is broken: refuse. */
	if (draw_challenge(r, r->challenge) ||
	    pq_challenge_cache_add(cache, r->challenge, pq_challenge_expiry(now_ms, now_ms), now_ms) ||
	    pq_challenge_cache_reserve(cache, r->challenge, reserve_until(r, now_ms), now_ms))
		return fail(r, NULL, PQ_REHS_R_LOCAL, PQ_E_RANDOM, now_ms);

	memcpy(req.session_id, r->session_id, PQ_SESSION_ID_LEN);
	memcpy(req.challenge, r->challenge, PQ_REHS_CHALLENGE_LEN);
	req.timestamp_ms = now_ms;
	ret = pq_rehs_request_encode(out, cap, out_len, &req);
	if (ret)
		return fail(r, cache, PQ_REHS_R_LOCAL, ret, now_ms);
	r->state = PQ_REHS_WAIT_RESPONSE;
	return 0;
}

/* ---- responder: REQUEST in, RESPONSE out ---- */

static int on_request(struct pq_rehs *r, struct pq_challenge_cache *cache, const uint8_t *msg, size_t len,
		      uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len)
{
	struct pq_rehs_request req;
	struct pq_rehs_response resp;
	int ret;

	if (pq_rehs_request_decode(&req, msg, len))
		return fail(r, cache, PQ_REHS_R_DECODE, PQ_E_DECODE, now_ms);
	if (!pq_ct_equal(req.session_id, r->session_id, PQ_SESSION_ID_LEN))
		return fail(r, cache, PQ_REHS_R_SESSION, PQ_E_AUTH, now_ms);
	if (!skew_ok(req.timestamp_ms, now_ms))
		return fail(r, cache, PQ_REHS_R_TIME, PQ_E_TIME, now_ms);
	if (pq_challenge_cache_seen(cache, req.challenge, now_ms))
		return fail(r, cache, PQ_REHS_R_REPLAY, PQ_E_REPLAY, now_ms);
	if (pq_challenge_cache_room(cache, now_ms) < 2)
		return fail(r, cache, PQ_REHS_R_CACHE_FULL, PQ_E_LIMIT, now_ms);
	memcpy(r->challenge, req.challenge, PQ_REHS_CHALLENGE_LEN);
	if (pq_challenge_cache_add(cache, r->challenge, pq_challenge_expiry(now_ms, req.timestamp_ms), now_ms))
		return fail(r, cache, PQ_REHS_R_LOCAL, PQ_E_LIMIT, now_ms);
	/* A counter-challenge equal to a live one means our RNG is broken. */
	if (draw_challenge(r, r->counter_challenge) ||
	    pq_challenge_cache_add(cache, r->counter_challenge, pq_challenge_expiry(now_ms, now_ms), now_ms))
		return fail(r, cache, PQ_REHS_R_LOCAL, PQ_E_RANDOM, now_ms);

	memcpy(resp.session_id, r->session_id, PQ_SESSION_ID_LEN);
	memcpy(resp.counter_challenge, r->counter_challenge, PQ_REHS_CHALLENGE_LEN);
	resp.timestamp_ms = now_ms;
	ret = pq_rehs_mac(resp.mac, r->send_key, PQ_MSG_REHS_RESPONSE, r->hs_initiator, r->session_id,
			  r->challenge, r->counter_challenge, resp.timestamp_ms, r->binding);
	if (!ret)
		ret = pq_rehs_response_encode(out, cap, out_len, &resp);
	if (ret) {
		*out_len = 0;
		return fail(r, cache, PQ_REHS_R_LOCAL, ret, now_ms);
	}
	r->state = PQ_REHS_WAIT_COMPLETE;
	return 0;
}

/* ---- initiator: RESPONSE in, COMPLETE out ---- */

static int verify_peer_mac(const struct pq_rehs *r, uint8_t msg_type, const uint8_t mac[PQ_REHS_MAC_LEN],
			   uint64_t ts_ms)
{
	uint8_t expect[PQ_REHS_MAC_LEN];
	int ret;

	ret = pq_rehs_mac(expect, r->recv_key, msg_type, !r->hs_initiator, r->session_id, r->challenge,
			  r->counter_challenge, ts_ms, r->binding);
	if (!ret && !pq_ct_equal(expect, mac, PQ_REHS_MAC_LEN))
		ret = PQ_E_AUTH;
	pq_wipe(expect, sizeof(expect));
	return ret;
}

static int send_complete(struct pq_rehs *r, uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len)
{
	struct pq_rehs_complete comp;
	int ret;

	memcpy(comp.session_id, r->session_id, PQ_SESSION_ID_LEN);
	comp.timestamp_ms = now_ms;
	ret = pq_rehs_mac(comp.mac, r->send_key, PQ_MSG_REHS_COMPLETE, r->hs_initiator, r->session_id,
			  r->challenge, r->counter_challenge, comp.timestamp_ms, r->binding);
	if (!ret)
		ret = pq_rehs_complete_encode(out, cap, out_len, &comp);
	if (ret)
		*out_len = 0;
	return ret;
}

static int on_response(struct pq_rehs *r, struct pq_challenge_cache *cache, const uint8_t *msg, size_t len,
		       uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len)
{
	struct pq_rehs_response resp;
	int ret;

	if (pq_rehs_response_decode(&resp, msg, len))
		return fail(r, cache, PQ_REHS_R_DECODE, PQ_E_DECODE, now_ms);
	if (!pq_ct_equal(resp.session_id, r->session_id, PQ_SESSION_ID_LEN))
		return fail(r, cache, PQ_REHS_R_SESSION, PQ_E_AUTH, now_ms);
	if (!skew_ok(resp.timestamp_ms, now_ms))
		return fail(r, cache, PQ_REHS_R_TIME, PQ_E_TIME, now_ms);
	/* Our own challenge coming back as the counter-challenge is a
	 * reflection, whatever the MAC says. */
	if (memcmp(resp.counter_challenge, r->challenge, PQ_REHS_CHALLENGE_LEN) == 0)
		return fail(r, cache, PQ_REHS_R_REFLECT, PQ_E_REPLAY, now_ms);
	if (pq_challenge_cache_seen(cache, resp.counter_challenge, now_ms))
		return fail(r, cache, PQ_REHS_R_REPLAY, PQ_E_REPLAY, now_ms);
	memcpy(r->counter_challenge, resp.counter_challenge, PQ_REHS_CHALLENGE_LEN);
	ret = verify_peer_mac(r, PQ_MSG_REHS_RESPONSE, resp.mac, resp.timestamp_ms);
	if (ret)
		return fail(r, cache, ret == PQ_E_AUTH ? PQ_REHS_R_MAC : PQ_REHS_R_LOCAL, ret, now_ms);
	/* Authentic: now the counter-challenge takes the slot we reserved. */
	ret = pq_challenge_cache_fill(cache, r->challenge, r->counter_challenge,
				      pq_challenge_expiry(now_ms, resp.timestamp_ms), now_ms);
	if (ret)
		return fail(r, cache, PQ_REHS_R_CACHE_FULL, PQ_E_LIMIT, now_ms);
	ret = send_complete(r, now_ms, out, cap, out_len);
	if (ret)
		return fail(r, NULL, PQ_REHS_R_LOCAL, ret, now_ms);
	complete(r);
	return 0;
}

/* ---- responder: COMPLETE in ---- */

static int on_complete(struct pq_rehs *r, struct pq_challenge_cache *cache, const uint8_t *msg, size_t len,
		       uint64_t now_ms)
{
	struct pq_rehs_complete comp;
	int ret;

	if (pq_rehs_complete_decode(&comp, msg, len))
		return fail(r, cache, PQ_REHS_R_DECODE, PQ_E_DECODE, now_ms);
	if (!pq_ct_equal(comp.session_id, r->session_id, PQ_SESSION_ID_LEN))
		return fail(r, cache, PQ_REHS_R_SESSION, PQ_E_AUTH, now_ms);
	if (!skew_ok(comp.timestamp_ms, now_ms))
		return fail(r, cache, PQ_REHS_R_TIME, PQ_E_TIME, now_ms);
	ret = verify_peer_mac(r, PQ_MSG_REHS_COMPLETE, comp.mac, comp.timestamp_ms);
	if (ret)
		return fail(r, cache, ret == PQ_E_AUTH ? PQ_REHS_R_MAC : PQ_REHS_R_LOCAL, ret, now_ms);
	complete(r);
	return 0;
}

/* ---- dispatch ---- */

static uint8_t expected_type(enum pq_rehs_state state)
{
	switch (state) {
	case PQ_REHS_WAIT_REQUEST: return PQ_MSG_REHS_REQUEST;
	case PQ_REHS_WAIT_RESPONSE: return PQ_MSG_REHS_RESPONSE;
	case PQ_REHS_WAIT_COMPLETE: return PQ_MSG_REHS_COMPLETE;
	default: return 0; /* IDLE: nothing may arrive before start */
	}
}

int pq_rehs_receive(struct pq_rehs *r, struct pq_challenge_cache *cache, const uint8_t *msg, size_t len,
		    uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t want;

	*out_len = 0;
	if (!out || cap < PQ_REHS_MAX_MSG_LEN)
		return PQ_E_TOOBIG;
	if (finished(r)) {
		count(r->counters, PQ_REHS_R_UNEXPECTED);
		return PQ_E_STATE;
	}
	if (now_ms >= r->deadline_ms)
		return fail(r, cache, PQ_REHS_R_TIMEOUT, PQ_E_TIMEOUT, now_ms);
	want = expected_type(r->state);
	if (!msg || len == 0)
		return fail(r, cache, PQ_REHS_R_DECODE, PQ_E_DECODE, now_ms);
	if (want == 0 || msg[0] != want)
		return fail(r, cache, PQ_REHS_R_UNEXPECTED, PQ_E_STATE, now_ms);
	switch (want) {
	case PQ_MSG_REHS_REQUEST: return on_request(r, cache, msg, len, now_ms, out, cap, out_len);
	case PQ_MSG_REHS_RESPONSE: return on_response(r, cache, msg, len, now_ms, out, cap, out_len);
	default: return on_complete(r, cache, msg, len, now_ms);
	}
}

int pq_rehs_udp_binding(uint8_t out[PQ_REHS_BINDING_LEN], const uint8_t id[PQ_REHS_UDP_ID_LEN])
{
	static const char label[] = "pqlan v1 udp path binding";
	const struct pq_iov iov[2] = { { (const uint8_t *)label, sizeof(label) - 1 }, { id, PQ_REHS_UDP_ID_LEN } };

	_Static_assert(PQ_SHA256_LEN == PQ_REHS_BINDING_LEN, "a binding is one SHA-256");
	return pq_sha256(out, iov, 2);
}
