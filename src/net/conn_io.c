/*
 * conn_io.c - a conn's bytes: the output buffer (whole frames appended,
 * written with as few SSL_write calls as the records allow), reading TLS
 * records, and the WebSocket events (RFC 6455 §5, §5.5) they produce.
 *
 * Sending only appends to the buffer and asks the loop for EPOLLOUT; the
 * write happens when the loop reports the socket writable, so messages
 * queued within one loop turn leave together in full 16 KiB TLS records.
 */
#include "net/conn_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"
#include "proto/types.h"

size_t pq_conn_pending(const struct pq_conn *c)
{
	return c->out_len - c->out_off;
}

/* Room for need more bytes, within limit bytes pending in total. */
static int out_reserve(struct pq_conn *c, size_t need, size_t limit)
{
	size_t pending = pq_conn_pending(c), cap;
	uint8_t *p;

	if (need > limit || pending > limit - need)
		return PQ_E_AGAIN;
	if (c->out_cap - c->out_len >= need)
		return 0;
	/* SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets pending bytes move. */
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
		if (c->out_cap - c->out_len >= need)
			return 0;
	}
	cap = c->out_cap ? c->out_cap : 4096;
	while (cap - pending < need)
		cap *= 2;
	if (!(p = realloc(c->out, cap)))
		return PQ_E_NOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

int pq_conn_queue_raw(struct pq_conn *c, const void *buf, size_t len)
{
	int err = out_reserve(c, len, c->opts.max_queue + CONN_CTL_RESERVE);

	if (err)
		return err;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

/* RFC 6455 §5.3: a fresh, unpredictable key per client frame. */
static int next_mask(struct pq_conn *c, uint8_t key[4])
{
	if (!c->masks_left) {
		if (pq_random_bytes(c->masks, sizeof(c->masks)))
			return PQ_E_RANDOM;
		c->masks_left = CONN_MASK_POOL;
	}
	memcpy(key, c->masks[--c->masks_left], 4);
	return 0;
}

int pq_conn_queue_frame(struct pq_conn *c, enum pq_ws_opcode op, const uint8_t *payload,
			size_t len, size_t limit)
{
	enum pq_ws_role role = c->server ? PQ_WS_SERVER : PQ_WS_CLIENT;
	uint8_t key[4], *dst;
	long hlen;
	int err;

	if (!c->server && next_mask(c, key))
		return PQ_E_RANDOM;
	if ((err = out_reserve(c, PQ_WS_MAX_HEADER + len, limit)))
		return err;
	dst = c->out + c->out_len;
	hlen = pq_ws_frame_header(dst, PQ_WS_MAX_HEADER, role, op, true, len,
				  c->server ? NULL : key);
	if (hlen < 0)
		return (int)hlen;
	if (len)
		memcpy(dst + hlen, payload, len);
	if (!c->server)
		pq_ws_mask(dst + hlen, len, key, 0);
	c->out_len += (size_t)hlen + len;
	return 0;
}

int pq_conn_queue_close(struct pq_conn *c, uint16_t code)
{
	uint8_t body[2] = {(uint8_t)(code >> 8), (uint8_t)code};

	if (c->close_sent)
		return 0;
	c->close_sent = true;
	/* §5.5.1: two-byte status code, no reason. */
	return pq_conn_queue_frame(c, PQ_WS_OP_CLOSE, body, sizeof(body),
				   c->opts.max_queue + CONN_CTL_RESERVE);
}

int pq_conn_send(struct pq_conn *c, const uint8_t *msg, size_t len)
{
	int err;

	if (c->state != CONN_OPEN)
		return PQ_E_STATE;
	if (len == 0 || !msg)
		return PQ_E_INVAL;
	if (len > PQ_MAX_MSG_LEN)
		return PQ_E_TOOBIG;
	err = pq_conn_queue_frame(c, PQ_WS_OP_BINARY, msg, len, c->opts.max_queue);
	if (err == PQ_E_AGAIN)
		c->stats.drops++;
	if (err)
		return err;
	c->stats.msgs_out++;
	c->stats.bytes_out += len;
	pq_conn_update_interest(c);
	return 0;
}

int pq_conn_flush(struct pq_conn *c)
{
	while (pq_conn_pending(c)) {
		long n = pq_tls_write(c->tls, c->out + c->out_off, pq_conn_pending(c));

		if (n == PQ_E_AGAIN)
			return 0;
		if (n <= 0) {
			pq_conn_fail(c, PQ_CONN_END_IO, n < 0 ? (int)n : PQ_E_IO, PQ_WS_CLOSE_ABNORMAL);
			return PQ_E_IO;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	pq_conn_trim(c);
	return 0;
}

void pq_conn_trim(struct pq_conn *c)
{
	if (!pq_conn_pending(c) && c->out_cap > CONN_KEEP_BUF) {
		pq_wipe(c->out, c->out_cap);
		free(c->out);
		c->out = NULL;
		c->out_cap = c->out_off = c->out_len = 0;
	}
	if (c->rx_ready)
		pq_ws_rx_trim(&c->rx, CONN_KEEP_BUF);
}

/* ---- WebSocket events ---- */

static void on_peer_close(struct pq_conn *c, uint16_t code)
{
	/* §5.5.1: answer with a close (echoing the code) unless we sent one. */
	uint16_t reply = pq_ws_close_code_valid(code) ? code : PQ_WS_CLOSE_NORMAL;

	if (pq_conn_queue_close(c, reply)) {
		pq_conn_fail(c, PQ_CONN_END_PEER, 0, code);
		return;
	}
	pq_conn_begin_close(c, PQ_CONN_END_PEER, 0, code);
}

static void on_ws_event(struct pq_conn *c, const struct pq_ws_event *ev)
{
	switch (ev->type) {
	case PQ_WS_EV_MESSAGE:
		c->stats.msgs_in++;
		c->stats.bytes_in += ev->len;
		if (c->cbs.on_message)
			c->cbs.on_message(c->cb_ctx, c, ev->data, ev->len);
		/* the message is no longer borrowed */
		pq_ws_rx_trim(&c->rx, CONN_KEEP_BUF);
		break;
	case PQ_WS_EV_PING:
		c->stats.pings_in++;
		/* §5.5.2; under output pressure the pong is dropped, not queued */
		if (pq_conn_queue_frame(c, PQ_WS_OP_PONG, ev->data, ev->len,
					c->opts.max_queue + CONN_CTL_RESERVE)) {
			/* dropped; the peer may ping again */
		}
		break;
	case PQ_WS_EV_PONG:
		c->stats.pongs_in++;
		break;
	case PQ_WS_EV_CLOSE:
		on_peer_close(c, ev->close_code);
		break;
	case PQ_WS_EV_FAIL:
		if (pq_conn_queue_close(c, ev->close_code))
			pq_conn_fail(c, PQ_CONN_END_PROTOCOL, PQ_E_DECODE, ev->close_code);
		else
			pq_conn_begin_close(c, PQ_CONN_END_PROTOCOL, PQ_E_DECODE, ev->close_code);
		break;
	}
}

void pq_conn_feed_ws(struct pq_conn *c, const uint8_t *in, size_t len)
{
	while (c->state == CONN_OPEN) {
		struct pq_ws_event ev;
		size_t used = 0;
		int r = pq_ws_rx_feed(&c->rx, in, len, &used, &ev);

		in += used;
		len -= used;
		if (r == 0)
			return;
		on_ws_event(c, &ev);
		if (r < 0)
			return;
	}
}

void pq_conn_read(struct pq_conn *c)
{
	int budget;

	for (budget = CONN_READ_BUDGET; budget > 0; budget--) {
		long n;

		if (c->state != CONN_OPEN && c->state != CONN_UPGRADE)
			return;
		n = pq_tls_read(c->tls, c->rbuf, sizeof(c->rbuf));
		if (n == PQ_E_AGAIN)
			return;
		c->last_rx_ms = pq_loop_now(c->loop);
		if (n <= 0) {
			/* EOF or TLS close_notify without a WebSocket close */
			pq_conn_fail(c, n == PQ_E_AUTH ? PQ_CONN_END_TLS : PQ_CONN_END_IO,
				     n < 0 ? (int)n : PQ_E_IO, PQ_WS_CLOSE_ABNORMAL);
			return;
		}
		if (c->state == CONN_UPGRADE)
			pq_conn_upgrade_feed(c, c->rbuf, (size_t)n);
		else
			pq_conn_feed_ws(c, c->rbuf, (size_t)n);
	}
}
