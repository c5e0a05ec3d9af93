/*
 * ws.c - WebSocket frame receiver and encoder (RFC 6455 §5). See ws.h for
 * the rules enforced and the close code each violation maps to.
 */
#include "net/ws.h"

#include <stdlib.h>
#include <string.h>

#include "proto/types.h"
#include "util/cursor.h"

#define WS_FIN 0x80
#define WS_RSV 0x70
#define WS_OPCODE 0x0f
#define WS_MASK 0x80
#define WS_LEN7 0x7f
#define WS_LEN16 126
#define WS_LEN64 127

static bool is_control(uint8_t op)
{
	return (op & 0x08) != 0; /* §5.5: opcodes 0x8-0xf */
}

static bool opcode_known(uint8_t op)
{
	switch (op) {
	case PQ_WS_OP_CONT: case PQ_WS_OP_TEXT: case PQ_WS_OP_BINARY:
	case PQ_WS_OP_CLOSE: case PQ_WS_OP_PING: case PQ_WS_OP_PONG:
		return true;
	default:
		return false;
	}
}

bool pq_ws_close_code_valid(uint16_t code)
{
	/* §7.4.1: 1004-1006 and 1015 are reserved or must never be sent;
	 * 1012-1014 are not in RFC 6455 and we refuse them too. §7.4.2:
	 * 3000-4999 are for libraries and applications. */
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
	       (code >= 3000 && code <= 4999);
}

int pq_ws_rx_init(struct pq_ws_rx *rx, enum pq_ws_role role, size_t max_msg)
{
	if (!rx || (role != PQ_WS_SERVER && role != PQ_WS_CLIENT))
		return PQ_E_INVAL;
	memset(rx, 0, sizeof(*rx));
	rx->role = role;
	rx->max_msg = max_msg ? max_msg : PQ_MAX_MSG_LEN;
	rx->hdr_need = 2;
	return 0;
}

void pq_ws_rx_free(struct pq_ws_rx *rx)
{
	if (!rx)
		return;
	free(rx->msg);
	rx->msg = NULL;
	rx->msg_cap = 0;
	rx->msg_len = 0;
}

int pq_ws_rx_set_max(struct pq_ws_rx *rx, size_t max_msg)
{
	if (!max_msg || max_msg > PQ_MAX_MSG_LEN)
		return PQ_E_INVAL;
	if (rx->msg_open && rx->msg_len > max_msg)
		return PQ_E_TOOBIG;
	/* A bigger buffer already held stays until trimmed: the message it
	 * holds may be borrowed right now. */
	rx->max_msg = max_msg;
	return 0;
}

void pq_ws_rx_trim(struct pq_ws_rx *rx, size_t keep)
{
	if (rx->msg_open || rx->msg_cap <= keep)
		return;
	free(rx->msg);
	rx->msg = NULL;
	rx->msg_cap = 0;
	rx->msg_len = 0;
	rx->msg_delivered = false;
}

static int fail(struct pq_ws_rx *rx, struct pq_ws_event *ev, uint16_t code)
{
	rx->fail_code = code;
	ev->type = PQ_WS_EV_FAIL;
	ev->close_code = code;
	ev->data = NULL;
	ev->len = 0;
	switch (code) {
	case PQ_WS_CLOSE_TOO_BIG: return PQ_E_TOOBIG;
	case PQ_WS_CLOSE_INTERNAL: return PQ_E_NOMEM;
	default: return rx->closed ? PQ_E_STATE : PQ_E_DECODE;
	}
}

/* The rules that need only the first two header bytes (§5.2, §5.5). */
static uint16_t check_first_bytes(const struct pq_ws_rx *rx)
{
	uint8_t b0 = rx->hdr[0], b1 = rx->hdr[1], op = b0 & WS_OPCODE;
	bool masked = (b1 & WS_MASK) != 0;

	if (b0 & WS_RSV)
		return PQ_WS_CLOSE_PROTOCOL;
	if (!opcode_known(op))
		return PQ_WS_CLOSE_PROTOCOL;
	/* §5.1: a server MUST close on an unmasked frame, a client on a
	 * masked one. */
	if (masked != (rx->role == PQ_WS_SERVER))
		return PQ_WS_CLOSE_PROTOCOL;
	if (is_control(op) && (!(b0 & WS_FIN) || (b1 & WS_LEN7) > PQ_WS_MAX_CONTROL))
		return PQ_WS_CLOSE_PROTOCOL;
	if (op == PQ_WS_OP_TEXT)
		return PQ_WS_CLOSE_UNSUPPORTED;
	if (op == PQ_WS_OP_CONT && !rx->msg_open)
		return PQ_WS_CLOSE_PROTOCOL;
	if (op == PQ_WS_OP_BINARY && rx->msg_open)
		return PQ_WS_CLOSE_PROTOCOL;
	return 0;
}

/* Grow the reassembly buffer to hold need bytes; need <= max_msg. */
static int msg_reserve(struct pq_ws_rx *rx, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (need <= rx->msg_cap)
		return 0;
	cap = rx->msg_cap ? rx->msg_cap : 256;
	while (cap < need)
		cap = cap > rx->max_msg / 2 ? rx->max_msg : cap * 2;
	if (cap > rx->max_msg)
		cap = rx->max_msg;
	p = realloc(rx->msg, cap);
	if (!p)
		return PQ_E_NOMEM;
	rx->msg = p;
	rx->msg_cap = cap;
	return 0;
}

/* The whole header is in: decode the length and mask, apply the length
 * rules, reserve room. Returns 0 or the close code to fail with. */
static uint16_t begin_frame(struct pq_ws_rx *rx)
{
	struct pq_rcursor rc;
	uint8_t b0, b1, len7;
	uint64_t len;

	pq_rc_init(&rc, rx->hdr, rx->hdr_have);
	b0 = pq_rc_u8(&rc);
	b1 = pq_rc_u8(&rc);
	len7 = b1 & WS_LEN7;
	len = len7;
	if (len7 == WS_LEN16) {
		len = pq_rc_u16(&rc);
		if (len < WS_LEN16)
			return PQ_WS_CLOSE_PROTOCOL; /* not minimal */
	} else if (len7 == WS_LEN64) {
		len = pq_rc_u64(&rc);
		if (len >> 63)
			return PQ_WS_CLOSE_PROTOCOL; /* §5.2: MSB MUST be 0 */
		if (len <= 0xffff)
			return PQ_WS_CLOSE_PROTOCOL; /* not minimal */
	}
	rx->masked = (b1 & WS_MASK) != 0;
	if (rx->masked)
		pq_rc_bytes(&rc, rx->mask, 4);
	if (pq_rc_finish(&rc) != 0)
		return PQ_WS_CLOSE_PROTOCOL; /* cannot happen: hdr_need was exact */

	rx->opcode = b0 & WS_OPCODE;
	rx->fin = (b0 & WS_FIN) != 0;
	rx->pay_len = len;
	rx->pay_have = 0;
	if (is_control(rx->opcode)) {
		rx->ctl_len = 0;
	} else {
		if (rx->opcode == PQ_WS_OP_BINARY) {
			rx->msg_open = true;
			rx->msg_len = 0;
		}
		/* Refuse from the header, before any payload is buffered. */
		if (len > rx->max_msg - rx->msg_len)
			return PQ_WS_CLOSE_TOO_BIG;
		if (msg_reserve(rx, rx->msg_len + (size_t)len) != 0)
			return PQ_WS_CLOSE_INTERNAL;
	}
	rx->in_payload = true;
	return 0;
}

/* Take header bytes; returns 0 or a close code. */
static uint16_t read_header(struct pq_ws_rx *rx, const uint8_t *in, size_t len, size_t *used)
{
	size_t n = rx->hdr_need - rx->hdr_have;
	uint16_t code;
	uint8_t len7;

	if (n > len)
		n = len;
	memcpy(rx->hdr + rx->hdr_have, in, n);
	rx->hdr_have += n;
	*used = n;
	if (rx->hdr_have < rx->hdr_need)
		return 0;
	if (rx->hdr_need == 2) {
		code = check_first_bytes(rx);
		if (code)
			return code;
		len7 = rx->hdr[1] & WS_LEN7;
		rx->hdr_need += len7 == WS_LEN16 ? 2 : len7 == WS_LEN64 ? 8 : 0;
		rx->hdr_need += (rx->hdr[1] & WS_MASK) ? 4 : 0;
		if (rx->hdr_have < rx->hdr_need)
			return 0;
	}
	return begin_frame(rx);
}

static void read_payload(struct pq_ws_rx *rx, const uint8_t *in, size_t len, size_t *used)
{
	uint64_t left = rx->pay_len - rx->pay_have;
	size_t n = left < len ? (size_t)left : len;
	uint8_t *dst;

	if (is_control(rx->opcode))
		dst = rx->ctl + rx->ctl_len;
	else
		dst = rx->msg + rx->msg_len;
	memcpy(dst, in, n);
	if (rx->masked)
		pq_ws_mask(dst, n, rx->mask, rx->pay_have);
	rx->pay_have += n;
	if (is_control(rx->opcode))
		rx->ctl_len += n;
	else
		rx->msg_len += n;
	*used = n;
}

/* §5.5.1: an optional 2-byte status code, then a reason. */
static uint16_t parse_close(struct pq_ws_rx *rx, struct pq_ws_event *ev)
{
	ev->type = PQ_WS_EV_CLOSE;
	ev->close_code = PQ_WS_CLOSE_NO_STATUS;
	ev->data = NULL;
	ev->len = 0;
	if (rx->ctl_len == 0)
		return 0;
	if (rx->ctl_len == 1)
		return PQ_WS_CLOSE_PROTOCOL;
	ev->close_code = (uint16_t)(rx->ctl[0] << 8 | rx->ctl[1]);
	if (!pq_ws_close_code_valid(ev->close_code))
		return PQ_WS_CLOSE_PROTOCOL;
	ev->data = rx->ctl + 2;
	ev->len = rx->ctl_len - 2;
	return 0;
}

/* A frame's payload is complete. Returns 1 with an event, 0 without, or
 * a negative close code. */
static int finish_frame(struct pq_ws_rx *rx, struct pq_ws_event *ev)
{
	uint16_t code;

	rx->in_payload = false;
	rx->hdr_have = 0;
	rx->hdr_need = 2;
	switch (rx->opcode) {
	case PQ_WS_OP_PING:
	case PQ_WS_OP_PONG:
		ev->type = rx->opcode == PQ_WS_OP_PING ? PQ_WS_EV_PING : PQ_WS_EV_PONG;
		ev->data = rx->ctl;
		ev->len = rx->ctl_len;
		return 1;
	case PQ_WS_OP_CLOSE:
		code = parse_close(rx, ev);
		if (code)
			return -(int)code;
		rx->closed = true;
		return 1;
	default:
		if (!rx->fin)
			return 0;
		rx->msg_open = false;
		rx->msg_delivered = true;
		ev->type = PQ_WS_EV_MESSAGE;
		ev->data = rx->msg;
		ev->len = rx->msg_len;
		return 1;
	}
}

int pq_ws_rx_feed(struct pq_ws_rx *rx, const uint8_t *in, size_t len, size_t *used,
		  struct pq_ws_event *ev)
{
	size_t off = 0, n;
	uint16_t code;
	int r;

	*used = 0;
	memset(ev, 0, sizeof(*ev));
	if (rx->fail_code)
		return fail(rx, ev, rx->fail_code);
	if (rx->closed && len > 0)
		return fail(rx, ev, PQ_WS_CLOSE_PROTOCOL); /* §5.5.1: nothing after close */
	if (rx->msg_delivered) {
		rx->msg_len = 0;
		rx->msg_delivered = false;
	}
	while (off < len) {
		if (!rx->in_payload) {
			code = read_header(rx, in + off, len - off, &n);
			off += n;
			if (code) {
				*used = off;
				return fail(rx, ev, code);
			}
		} else {
			read_payload(rx, in + off, len - off, &n);
			off += n;
		}
		if (rx->in_payload && rx->pay_have == rx->pay_len) {
			r = finish_frame(rx, ev);
			if (r < 0) {
				*used = off;
				return fail(rx, ev, (uint16_t)-r);
			}
			if (r > 0)
				break;
		}
	}
	*used = off;
	return ev->type ? 1 : 0;
}

void pq_ws_mask(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset)
{
	uint8_t pattern[8];
	uint64_t k, w;
	size_t i = 0;

	/* RFC 6455 §5.3: byte j of the payload XOR key[j mod 4]. The key
	 * repeats every 4 bytes, so 8 bytes at a time use one 8-byte
	 * pattern that starts where buf starts in the key; byte by byte
	 * (0.6 GB/s here) this was the TLS path's largest cost. */
	for (int j = 0; j < 8; j++)
		pattern[j] = key[(offset + (uint64_t)j) & 3];
	memcpy(&k, pattern, sizeof(k));
	for (; len - i >= 8; i += 8) {
		memcpy(&w, buf + i, sizeof(w));
		w ^= k;
		memcpy(buf + i, &w, sizeof(w));
	}
	for (; i < len; i++)
		buf[i] ^= key[(offset + i) & 3];
}

long pq_ws_frame_header(uint8_t *out, size_t cap, enum pq_ws_role role, enum pq_ws_opcode op,
			bool fin, uint64_t payload_len, const uint8_t *mask_key)
{
	struct pq_wcursor wc;
	uint8_t mask_bit = role == PQ_WS_CLIENT ? WS_MASK : 0;

	if (!out || !opcode_known((uint8_t)op) || payload_len >> 63)
		return PQ_E_INVAL;
	if (is_control((uint8_t)op) && (payload_len > PQ_WS_MAX_CONTROL || !fin))
		return PQ_E_INVAL;
	if ((role == PQ_WS_CLIENT) != (mask_key != NULL) ||
	    (role != PQ_WS_CLIENT && role != PQ_WS_SERVER))
		return PQ_E_INVAL;
	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, (uint8_t)((fin ? WS_FIN : 0) | op));
	/* §5.2: the minimal length encoding, as we demand of the peer. */
	if (payload_len < WS_LEN16) {
		pq_wc_u8(&wc, (uint8_t)(mask_bit | payload_len));
	} else if (payload_len <= 0xffff) {
		pq_wc_u8(&wc, mask_bit | WS_LEN16);
		pq_wc_u16(&wc, (uint16_t)payload_len);
	} else {
		pq_wc_u8(&wc, mask_bit | WS_LEN64);
		pq_wc_u64(&wc, payload_len);
	}
	if (mask_key)
		pq_wc_bytes(&wc, mask_key, 4);
	return pq_wc_finish(&wc);
}

long pq_ws_encode(uint8_t *out, size_t cap, enum pq_ws_role role, enum pq_ws_opcode op,
		  const uint8_t *payload, size_t len, const uint8_t *mask_key)
{
	long hlen;

	if (len && !payload)
		return PQ_E_INVAL;
	hlen = pq_ws_frame_header(out, cap, role, op, true, len, mask_key);
	if (hlen < 0)
		return hlen;
	if (len > cap - (size_t)hlen)
		return PQ_E_TOOBIG;
	if (len)
		memcpy(out + hlen, payload, len);
	if (mask_key)
		pq_ws_mask(out + hlen, len, mask_key, 0);
	return hlen + (long)len;
}

long pq_ws_encode_close(uint8_t *out, size_t cap, enum pq_ws_role role, uint16_t code,
			const char *reason, size_t reason_len, const uint8_t *mask_key)
{
	uint8_t body[PQ_WS_MAX_CONTROL];

	if (!pq_ws_close_code_valid(code) || reason_len > PQ_WS_MAX_CLOSE_REASON ||
	    (reason_len && !reason))
		return PQ_E_INVAL;
	body[0] = (uint8_t)(code >> 8);
	body[1] = (uint8_t)code;
	if (reason_len)
		memcpy(body + 2, reason, reason_len);
	return pq_ws_encode(out, cap, role, PQ_WS_OP_CLOSE, body, 2 + reason_len, mask_key);
}
