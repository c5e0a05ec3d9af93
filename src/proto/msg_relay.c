/*
 * msg_relay.c - node <-> relay message codec (DESIGN §2, docs/PROTOCOL.md §3).
 *
 * Each decoder first checks the type byte and the message size against the
 * type's exact size or bounded range; only then does it read fields through
 * the cursor, and it finishes by requiring that every byte was consumed.
 */
#include <stdbool.h>
#include <string.h>

#include "crypto/ed25519.h"
#include "proto/msg_relay.h"
#include "util/cursor.h"

/* ::ffff:0:0/96, RFC 4291 §2.5.5.2 */
static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int pq_wire_addr_valid(const struct pq_wire_addr *a)
{
	static const uint8_t zero[16];
	int mapped = memcmp(a->addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;

	if (a->port == 0)
		return 0;
	if (a->family == PQ_ADDR_V4)
		return mapped && memcmp(a->addr + 12, zero, 4) != 0;
	if (a->family == PQ_ADDR_V6)
		return !mapped && memcmp(a->addr, zero, 16) != 0;
	return 0;
}

const char *pq_close_reason_name(uint16_t reason)
{
	switch (reason) {
	case PQ_CLOSE_NORMAL: return "normal";
	case PQ_CLOSE_PROTOCOL: return "protocol error";
	case PQ_CLOSE_AUTH_FAILED: return "authentication failed";
	case PQ_CLOSE_REPLACED: return "replaced by a newer connection";
	case PQ_CLOSE_GOING_AWAY: return "going away";
	case PQ_CLOSE_TOO_BIG: return "message too big";
	}
	return "unknown";
}

void pq_relay_auth_signed_bytes(uint8_t out[PQ_RELAY_AUTH_SIGNED_LEN],
				const uint8_t challenge[PQ_RELAY_CHALLENGE_LEN],
				const uint8_t exporter[PQ_TLS_EXPORTER_LEN])
{
	memcpy(out, PQ_RELAY_AUTH_LABEL, PQ_RELAY_AUTH_LABEL_LEN);
	memcpy(out + PQ_RELAY_AUTH_LABEL_LEN, challenge, PQ_RELAY_CHALLENGE_LEN);
	memcpy(out + PQ_RELAY_AUTH_LABEL_LEN + PQ_RELAY_CHALLENGE_LEN, exporter, PQ_TLS_EXPORTER_LEN);
}

/* ---- shared helpers ---- */

/* The framing check every decoder does before anything else (DESIGN §2). */
static int frame_ok(const uint8_t *buf, size_t len, uint8_t type, size_t min_len, size_t max_len)
{
	if (!buf || len < min_len || len > max_len || buf[0] != type)
		return 0;
	return 1;
}

static int encode_done(struct pq_wcursor *wc, size_t *out_len)
{
	long n = pq_wc_finish(wc);

	if (n < 0)
		return (int)n;
	*out_len = (size_t)n;
	return 0;
}

static void write_addr(struct pq_wcursor *wc, const struct pq_wire_addr *a)
{
	pq_wc_u8(wc, a->family);
	pq_wc_bytes(wc, a->addr, sizeof(a->addr));
	pq_wc_u16(wc, a->port);
}

static void read_addr(struct pq_rcursor *rc, struct pq_wire_addr *a)
{
	a->family = pq_rc_u8(rc);
	pq_rc_bytes(rc, a->addr, sizeof(a->addr));
	a->port = pq_rc_u16(rc);
}

/* A message that is a type byte and one fixed-size blob. */
static int encode_blob(uint8_t *buf, size_t cap, size_t *out_len, uint8_t type, const uint8_t *blob,
		       size_t blob_len)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, type);
	pq_wc_bytes(&wc, blob, blob_len);
	return encode_done(&wc, out_len);
}

static int decode_blob(uint8_t *blob, size_t blob_len, uint8_t type, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;
	int ret;

	if (!frame_ok(buf, len, type, 1 + blob_len, 1 + blob_len)) {
		memset(blob, 0, blob_len);
		return PQ_E_DECODE;
	}
	pq_rc_init(&rc, buf, len);
	(void)pq_rc_u8(&rc);
	pq_rc_bytes(&rc, blob, blob_len);
	ret = pq_rc_finish(&rc);
	if (ret)
		memset(blob, 0, blob_len);
	return ret;
}

/* ---- 0x01 RELAY_CHALLENGE ---- */

int pq_relay_challenge_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_relay_challenge *m)
{
	return encode_blob(buf, cap, out_len, PQ_MSG_RELAY_CHALLENGE, m->challenge, sizeof(m->challenge));
}

int pq_relay_challenge_decode(struct pq_relay_challenge *m, const uint8_t *buf, size_t len)
{
	return decode_blob(m->challenge, sizeof(m->challenge), PQ_MSG_RELAY_CHALLENGE, buf, len);
}

/* ---- 0x02 RELAY_AUTH ---- */

int pq_relay_auth_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_relay_auth *m)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, PQ_MSG_RELAY_AUTH);
	pq_wc_bytes(&wc, m->node_key, sizeof(m->node_key));
	pq_wc_bytes(&wc, m->sig, sizeof(m->sig));
	return encode_done(&wc, out_len);
}

int pq_relay_auth_decode(struct pq_relay_auth *m, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;
	int ret;

	memset(m, 0, sizeof(*m));
	if (!frame_ok(buf, len, PQ_MSG_RELAY_AUTH, PQ_RELAY_AUTH_MSG_LEN, PQ_RELAY_AUTH_MSG_LEN))
		return PQ_E_DECODE;
	pq_rc_init(&rc, buf, len);
	(void)pq_rc_u8(&rc);
	pq_rc_bytes(&rc, m->node_key, sizeof(m->node_key));
	pq_rc_bytes(&rc, m->sig, sizeof(m->sig));
	ret = pq_rc_finish(&rc);
	if (ret)
		memset(m, 0, sizeof(*m));
	return ret;
}

/* ---- 0x03 RELAY_WELCOME ---- */

int pq_relay_welcome_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_relay_welcome *m)
{
	struct pq_wcursor wc;

	if (!pq_wire_addr_valid(&m->observed))
		return PQ_E_INVAL;
	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, PQ_MSG_RELAY_WELCOME);
	write_addr(&wc, &m->observed);
	return encode_done(&wc, out_len);
}

int pq_relay_welcome_decode(struct pq_relay_welcome *m, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;

	memset(m, 0, sizeof(*m));
	if (!frame_ok(buf, len, PQ_MSG_RELAY_WELCOME, PQ_RELAY_WELCOME_MSG_LEN, PQ_RELAY_WELCOME_MSG_LEN))
		return PQ_E_DECODE;
	pq_rc_init(&rc, buf, len);
	(void)pq_rc_u8(&rc);
	read_addr(&rc, &m->observed);
	if (pq_rc_finish(&rc) || !pq_wire_addr_valid(&m->observed)) {
		memset(m, 0, sizeof(*m));
		return PQ_E_DECODE;
	}
	return 0;
}

/* ---- 0x04 PEER_ONLINE ---- */

int pq_peer_online_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_peer_online *m)
{
	struct pq_wcursor wc;

	if (!pq_wire_addr_valid(&m->observed))
		return PQ_E_INVAL;
	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, PQ_MSG_PEER_ONLINE);
	pq_wc_bytes(&wc, m->key, sizeof(m->key));
	write_addr(&wc, &m->observed);
	return encode_done(&wc, out_len);
}

int pq_peer_online_decode(struct pq_peer_online *m, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;

	memset(m, 0, sizeof(*m));
	if (!frame_ok(buf, len, PQ_MSG_PEER_ONLINE, PQ_PEER_ONLINE_MSG_LEN, PQ_PEER_ONLINE_MSG_LEN))
		return PQ_E_DECODE;
	pq_rc_init(&rc, buf, len);
	(void)pq_rc_u8(&rc);
	pq_rc_bytes(&rc, m->key, sizeof(m->key));
	read_addr(&rc, &m->observed);
	if (pq_rc_finish(&rc) || !pq_wire_addr_valid(&m->observed)) {
		memset(m, 0, sizeof(*m));
		return PQ_E_DECODE;
	}
	return 0;
}

/* ---- 0x05 PEER_OFFLINE, 0x08 UNREACHABLE ---- */

int pq_peer_offline_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_peer_key_msg *m)
{
	return encode_blob(buf, cap, out_len, PQ_MSG_PEER_OFFLINE, m->key, sizeof(m->key));
}

int pq_peer_offline_decode(struct pq_peer_key_msg *m, const uint8_t *buf, size_t len)
{
	return decode_blob(m->key, sizeof(m->key), PQ_MSG_PEER_OFFLINE, buf, len);
}

int pq_unreachable_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_peer_key_msg *m)
{
	return encode_blob(buf, cap, out_len, PQ_MSG_UNREACHABLE, m->key, sizeof(m->key));
}

int pq_unreachable_decode(struct pq_peer_key_msg *m, const uint8_t *buf, size_t len)
{
	return decode_blob(m->key, sizeof(m->key), PQ_MSG_UNREACHABLE, buf, len);
}

/* ---- 0x06 RELAY_SEND, 0x07 RELAY_RECV ---- */

static int encode_fwd(uint8_t *buf, size_t cap, size_t *out_len, uint8_t type, const struct pq_relay_fwd *m)
{
	struct pq_wcursor wc;

	if (m->payload_len < PQ_RELAY_PAYLOAD_MIN || m->payload_len > PQ_RELAY_PAYLOAD_MAX || !m->payload)
		return PQ_E_INVAL;
	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, type);
	pq_wc_bytes(&wc, m->key, sizeof(m->key));
	pq_wc_bytes(&wc, m->payload, m->payload_len);
	return encode_done(&wc, out_len);
}

static int decode_fwd(struct pq_relay_fwd *m, uint8_t type, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;

	memset(m, 0, sizeof(*m));
	if (!frame_ok(buf, len, type, PQ_RELAY_FWD_MSG_MIN, PQ_RELAY_FWD_MSG_MAX))
		return PQ_E_DECODE;
	pq_rc_init(&rc, buf, len);
	(void)pq_rc_u8(&rc);
	pq_rc_bytes(&rc, m->key, sizeof(m->key));
	m->payload_len = pq_rc_left(&rc);
	m->payload = pq_rc_take(&rc, m->payload_len);
	if (pq_rc_finish(&rc) || !m->payload) {
		memset(m, 0, sizeof(*m));
		return PQ_E_DECODE;
	}
	return 0;
}

int pq_relay_send_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_relay_fwd *m)
{
	return encode_fwd(buf, cap, out_len, PQ_MSG_RELAY_SEND, m);
}

int pq_relay_send_decode(struct pq_relay_fwd *m, const uint8_t *buf, size_t len)
{
	return decode_fwd(m, PQ_MSG_RELAY_SEND, buf, len);
}

int pq_relay_recv_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_relay_fwd *m)
{
	return encode_fwd(buf, cap, out_len, PQ_MSG_RELAY_RECV, m);
}

int pq_relay_recv_decode(struct pq_relay_fwd *m, const uint8_t *buf, size_t len)
{
	return decode_fwd(m, PQ_MSG_RELAY_RECV, buf, len);
}

/* ---- 0x09 CLOSE ---- */

int pq_close_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_close *m)
{
	struct pq_wcursor wc;

	if (m->reason < PQ_CLOSE_NORMAL || m->reason > PQ_CLOSE_REASON_MAX)
		return PQ_E_INVAL;
	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, PQ_MSG_CLOSE);
	pq_wc_u16(&wc, m->reason);
	return encode_done(&wc, out_len);
}

int pq_close_decode(struct pq_close *m, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;

	memset(m, 0, sizeof(*m));
	if (!frame_ok(buf, len, PQ_MSG_CLOSE, PQ_CLOSE_MSG_LEN, PQ_CLOSE_MSG_LEN))
		return PQ_E_DECODE;
	pq_rc_init(&rc, buf, len);
	(void)pq_rc_u8(&rc);
	m->reason = pq_rc_u16(&rc);
	if (pq_rc_finish(&rc) || m->reason < PQ_CLOSE_NORMAL || m->reason > PQ_CLOSE_REASON_MAX) {
		memset(m, 0, sizeof(*m));
		return PQ_E_DECODE;
	}
	return 0;
}

/* ---- 0x0A RELAY_WATCH ---- */

/* Is key one of the n keys at list? At most 256 keys, once per
 * connection: the quadratic scan (32640 compares) beats sorting a copy. */
static bool key_in(const uint8_t *list, size_t n, const uint8_t *key)
{
	for (size_t j = 0; j < n; j++)
		if (!memcmp(list + j * PQ_PUBKEY_LEN, key, PQ_PUBKEY_LEN))
			return true;
	return false;
}

static bool watch_keys_ok(const uint8_t *keys, size_t count)
{
	if (!keys || count < 1 || count > PQ_RELAY_WATCH_MAX)
		return false;
	for (size_t i = 1; i < count; i++)
		if (key_in(keys, i, keys + i * PQ_PUBKEY_LEN))
			return false;
	return true;
}

int pq_relay_watch_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_relay_watch *m)
{
	struct pq_wcursor wc;

	if (!m->keys || m->count < 1 || m->count > PQ_RELAY_WATCH_MAX)
		return PQ_E_INVAL;
	/* Capacity before the quadratic duplicate scan: cheapest check first. */
	if (cap < PQ_RELAY_WATCH_MSG_LEN(m->count))
		return PQ_E_TOOBIG;
	if (!watch_keys_ok(m->keys, m->count))
		return PQ_E_INVAL;
	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, PQ_MSG_RELAY_WATCH);
	pq_wc_u16(&wc, (uint16_t)m->count);
	pq_wc_bytes(&wc, m->keys, m->count * PQ_PUBKEY_LEN);
	return encode_done(&wc, out_len);
}

int pq_relay_watch_decode(struct pq_relay_watch *m, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;
	size_t count;

	memset(m, 0, sizeof(*m));
	if (!frame_ok(buf, len, PQ_MSG_RELAY_WATCH, PQ_RELAY_WATCH_MSG_MIN, PQ_RELAY_WATCH_MSG_MAX))
		return PQ_E_DECODE;
	pq_rc_init(&rc, buf, len);
	(void)pq_rc_u8(&rc);
	count = pq_rc_u16(&rc);
	/* The count must describe the message exactly: no short list, no
	 * trailing bytes (PROTOCOL §3.1). */
	if (count < 1 || count > PQ_RELAY_WATCH_MAX || len != PQ_RELAY_WATCH_MSG_LEN(count))
		return PQ_E_DECODE;
	m->keys = pq_rc_take(&rc, count * PQ_PUBKEY_LEN);
	m->count = count;
	if (pq_rc_finish(&rc) || !watch_keys_ok(m->keys, m->count)) {
		memset(m, 0, sizeof(*m));
		return PQ_E_DECODE;
	}
	return 0;
}

int pq_relay_watch_build(uint8_t *out, size_t cap, size_t *out_len, const uint8_t (*keys)[PQ_PUBKEY_LEN],
			 size_t count)
{
	size_t n = 0;

	if (!keys)
		return PQ_E_INVAL;
	/* Distinct keys, written in place: the list in out is also the set
	 * of keys seen so far. */
	for (size_t i = 0; i < count; i++) {
		if (key_in(out + 3, n, keys[i]))
			continue;
		if (n == PQ_RELAY_WATCH_MAX)
			return PQ_E_INVAL;
		if (PQ_RELAY_WATCH_MSG_LEN(n + 1) > cap)
			return PQ_E_TOOBIG;
		memcpy(out + PQ_RELAY_WATCH_MSG_LEN(n), keys[i], PQ_PUBKEY_LEN);
		n++;
	}
	if (n == 0)
		return PQ_E_INVAL;
	out[0] = PQ_MSG_RELAY_WATCH;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)n;
	*out_len = PQ_RELAY_WATCH_MSG_LEN(n);
	return 0;
}

int pq_relay_auth_answer(uint8_t out[PQ_RELAY_AUTH_MSG_LEN], const struct pq_signer *signer,
			 const uint8_t *msg, size_t len, const uint8_t exporter[PQ_TLS_EXPORTER_LEN])
{
	struct pq_relay_challenge ch;
	struct pq_relay_auth auth;
	uint8_t signed_bytes[PQ_RELAY_AUTH_SIGNED_LEN];
	size_t out_len;
	int ret;

	if ((ret = pq_relay_challenge_decode(&ch, msg, len)))
		return ret;
	pq_relay_auth_signed_bytes(signed_bytes, ch.challenge, exporter);
	memcpy(auth.node_key, pq_signer_public(signer), PQ_PUBKEY_LEN);
	if ((ret = pq_signer_sign(signer, auth.sig, signed_bytes, sizeof(signed_bytes))))
		return ret;
	return pq_relay_auth_encode(out, PQ_RELAY_AUTH_MSG_LEN, &out_len, &auth);
}
