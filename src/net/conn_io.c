/*
 * conn_io.c - a conn's bytes: the output buffer (whole frames appended,
 * written with as few SSL_write calls as the records allow), reading TLS
 * records, and the WebSocket events (RFC 6455 §5, §5.5) they produce.
 *
 * Sending only appends to the buffer and asks the loop for EPOLLOUT; the
 * write happens when the loop reports the socket writable, so messages
 * queued within one loop turn leave together in full 16 KiB TLS records.
 * A conn with opts.size_from_path also has the urgent queue of conn.h's
 * "Latency", written first at the bulk queue's next frame boundary.
 */
#include "net/conn_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/replay.h"
#include "crypto/util.h"
#include "net/sock.h"
#include "proto/types.h"

/* conn.h "Latency": a frame relayed crosses two conns that each let it be
 * overtaken by small frames and by the count of the frames queued behind
 * it; both hops together stay inside the receiver's replay window. */
_Static_assert(2 * (PQ_CONN_URGENT_OVERTAKE + PQ_CONN_URGENT_BULK_FRAMES) < PQ_REPLAY_WINDOW,
	       "two hops' overtaking fit the replay window");

size_t pq_conn_pending(const struct pq_conn *c)
{
	return c->out_len - c->out_off + c->urg_len - c->urg_off;
}

/* opts.queued_total: our part set to what we hold now. A path that moves
 * bytes without calling this is caught up by the next call. */
void pq_conn_account(struct pq_conn *c)
{
	size_t now;

	if (!c->opts.queued_total)
		return;
	now = pq_conn_pending(c);
	*c->opts.queued_total = *c->opts.queued_total - c->accounted + now;
	c->accounted = now;
}

/* One output queue: the bulk one (out) or the urgent one (urg). */
struct outq {
	uint8_t **buf;
	size_t *cap, *off, *len;
};

static struct outq outq_of(struct pq_conn *c, bool urgent)
{
	if (urgent)
		return (struct outq){ &c->urg, &c->urg_cap, &c->urg_off, &c->urg_len };
	return (struct outq){ &c->out, &c->out_cap, &c->out_off, &c->out_len };
}

/* Room for need more bytes in q, within limit bytes pending in it. */
static int outq_reserve(struct outq q, size_t need, size_t limit)
{
	size_t pending = *q.len - *q.off, cap;
	uint8_t *p;

	if (need > limit || pending > limit - need)
		return PQ_E_AGAIN;
	if (*q.cap - *q.len >= need)
		return 0;
	/* SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets pending bytes move. */
	if (*q.off) {
		memmove(*q.buf, *q.buf + *q.off, pending);
		*q.off = 0;
		*q.len = pending;
		if (*q.cap - *q.len >= need)
			return 0;
	}
	cap = *q.cap ? *q.cap : 4096;
	while (cap - pending < need)
		cap *= 2;
	if (!(p = realloc(*q.buf, cap)))
		return PQ_E_NOMEM;
	*q.buf = p;
	*q.cap = cap;
	return 0;
}

static int out_reserve(struct pq_conn *c, size_t need, size_t limit)
{
	return outq_reserve(outq_of(c, false), need, limit);
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

static int queue_frame_in(struct pq_conn *c, struct outq q, enum pq_ws_opcode op,
			  const uint8_t *payload, size_t len, size_t limit)
{
	enum pq_ws_role role = c->server ? PQ_WS_SERVER : PQ_WS_CLIENT;
	uint8_t key[4], *dst;
	long hlen;
	int err;

	if (!c->server && next_mask(c, key))
		return PQ_E_RANDOM;
	if ((err = outq_reserve(q, PQ_WS_MAX_HEADER + len, limit)))
		return err;
	dst = *q.buf + *q.len;
	hlen = pq_ws_frame_header(dst, PQ_WS_MAX_HEADER, role, op, true, len,
				  c->server ? NULL : key);
	if (hlen < 0)
		return (int)hlen;
	if (len)
		memcpy(dst + hlen, payload, len);
	if (!c->server)
		pq_ws_mask(dst + hlen, len, key, 0);
	*q.len += (size_t)hlen + len;
	if (q.buf == &c->out && c->opts.size_from_path)
		c->bulk_frames++;
	return 0;
}

int pq_conn_queue_frame(struct pq_conn *c, enum pq_ws_opcode op, const uint8_t *payload,
			size_t len, size_t limit)
{
	return queue_frame_in(c, outq_of(c, false), op, payload, len, limit);
}

/*
 * conn.h "Latency": whether a small message may go first. Not while small
 * messages that joined the bulk queue wait (their order), nor once
 * PQ_CONN_URGENT_OVERTAKE small ones were queued since the start of the
 * previous epoch: an epoch ends when every bulk byte queued before it
 * began is written, so each large message waiting was queued after the
 * previous epoch's start, and at most that many small ones can pass it.
 * Nor while more than PQ_CONN_URGENT_BULK_FRAMES bulk frames wait: the
 * large frames behind the one passed count against the replay window too.
 */
static bool takes_urgent(struct pq_conn *c, size_t len)
{
	uint64_t tail = c->bulk_done + (c->out_len - c->out_off);

	if (!c->opts.size_from_path || len > PQ_CONN_URGENT_MSG || c->bulk_done < c->spill_mark ||
	    c->bulk_frames > PQ_CONN_URGENT_BULK_FRAMES)
		return false;
	if (c->bulk_done >= c->ep_tail) {
		c->ep_prev_urg = c->ep_urg;
		c->ep_urg = c->urgent_msgs;
		c->ep_tail = tail;
	}
	return c->urgent_msgs - c->ep_prev_urg < PQ_CONN_URGENT_OVERTAKE;
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

/* may_pass: a small message may go first ("Latency"); else it joins the
 * bulk queue and the small ones after it follow it. */
static int send_msg(struct pq_conn *c, const uint8_t *msg, size_t len, bool may_pass)
{
	int err;

	if (c->state != CONN_OPEN)
		return PQ_E_STATE;
	if (len == 0 || !msg)
		return PQ_E_INVAL;
	if (len > PQ_MAX_MSG_LEN)
		return PQ_E_TOOBIG;
	err = PQ_E_AGAIN;
	if (may_pass && takes_urgent(c, len) &&
	    (err = queue_frame_in(c, outq_of(c, true), PQ_WS_OP_BINARY, msg, len,
				  PQ_CONN_URGENT_QUEUE)) == 0)
		c->urgent_msgs++;
	if (err == PQ_E_AGAIN) {
		err = pq_conn_queue_frame(c, PQ_WS_OP_BINARY, msg, len, c->opts.max_queue);
		/* a small one in the bulk queue, or one that keeps its order:
		 * the next small ones follow it */
		if (!err && c->opts.size_from_path && (len <= PQ_CONN_URGENT_MSG || !may_pass))
			c->spill_mark = c->bulk_done + (c->out_len - c->out_off);
	}
	if (err == PQ_E_AGAIN)
		c->stats.drops++;
	if (err)
		return err;
	c->stats.msgs_out++;
	c->stats.bytes_out += len;
	pq_conn_account(c);
	pq_conn_update_interest(c);
	return 0;
}

int pq_conn_send(struct pq_conn *c, const uint8_t *msg, size_t len)
{
	return send_msg(c, msg, len, true);
}

int pq_conn_send_in_order(struct pq_conn *c, const uint8_t *msg, size_t len)
{
	return send_msg(c, msg, len, false);
}

void pq_conn_apply_lowat(struct pq_conn *c)
{
	size_t want = pq_qsize_lowat(&c->qs);

	c->qs_seen = c->qs.samples;
	if (!c->opts.size_from_path)
		return;
	if (want <= c->lowat + c->lowat / 8 && want >= c->lowat - c->lowat / 8)
		return; /* also: still none */
	/* Best effort: without it the kernel's buffer is the old, deep one.
	 * 0 gives the socket back the system's default (none). */
	if (pq_sock_set_notsent_lowat(c->fd, want) == 0)
		c->lowat = want;
}

/* The length of the frame we queued at p (RFC 6455 §5.2), header and
 * masking key included; avail bounds the read. 0 if it does not fit. */
static size_t own_frame_len(const uint8_t *p, size_t avail)
{
	size_t hlen = 2, len;

	if (avail < 2)
		return 0;
	len = p[1] & 0x7f;
	if (len == 126) {
		if (avail < 4)
			return 0;
		len = (size_t)p[2] << 8 | p[3];
		hlen = 4;
	} else if (len == 127) {
		if (avail < 10)
			return 0;
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | p[i];
		hlen = 10;
	}
	if (p[1] & 0x80)
		hlen += 4;
	return hlen > avail || len > avail - hlen ? 0 : hlen + len;
}

/* n bytes of the bulk queue were written: move past them, keeping track
 * of where the frame being written ends. */
static void bulk_written(struct pq_conn *c, size_t n)
{
	c->bulk_done += n;
	if (!c->opts.size_from_path) { /* one queue: no boundary needed */
		c->out_off += n;
		return;
	}
	while (n) {
		size_t *left = c->out_raw ? &c->out_raw : &c->frame_left, take;

		if (!*left && !(*left = own_frame_len(c->out + c->out_off, c->out_len - c->out_off))) {
			c->out_off += n; /* unreachable: we queued whole frames */
			return;
		}
		take = n < *left ? n : *left;
		*left -= take;
		c->out_off += take;
		n -= take;
		if (left == &c->frame_left && !*left && c->bulk_frames)
			c->bulk_frames--;
	}
}

/* What to hand TLS next: a write to repeat (SSL_write(3) wants the same
 * bytes again; exactly as many, since more could run past a frame
 * boundary where small messages must go), else the urgent queue once the
 * bulk one is at a frame boundary, else the bulk queue - only up to its
 * frame's end while urgent bytes wait, so they go right after it. */
static size_t next_write(struct pq_conn *c, bool *urgent)
{
	size_t urg = c->urg_len - c->urg_off, bulk = c->out_len - c->out_off;
	size_t len = c->opts.size_from_path ? pq_qsize_record(&c->qs) : bulk;
	size_t to_boundary = c->out_raw + c->frame_left;

	if (c->wretry) {
		*urgent = c->wretry_urg;
		return c->wretry;
	}
	*urgent = urg && !to_boundary;
	if (!*urgent && urg && to_boundary < len)
		len = to_boundary;
	if (*urgent)
		return len < urg ? len : urg;
	return len < bulk ? len : bulk;
}

/*
 * Write until the socket refuses or both queues are empty. What the
 * socket took, and what is left, is the drain proto/qsize.h measures.
 */
static int write_queued(struct pq_conn *c)
{
	size_t taken = 0;

	while (pq_conn_pending(c)) {
		bool urgent;
		size_t len = next_write(c, &urgent);
		long n = pq_tls_write(c->tls, urgent ? c->urg + c->urg_off : c->out + c->out_off, len);

		if (n == PQ_E_AGAIN) {
			c->wretry = len;
			c->wretry_urg = urgent;
			break;
		}
		if (n <= 0) {
			pq_conn_fail(c, PQ_CONN_END_IO, n < 0 ? (int)n : PQ_E_IO, PQ_WS_CLOSE_ABNORMAL);
			return PQ_E_IO;
		}
		c->wretry = 0;
		if (urgent)
			c->urg_off += (size_t)n;
		else
			bulk_written(c, (size_t)n);
		taken += (size_t)n;
	}
	if (c->opts.size_from_path && c->state == CONN_OPEN) {
		uint64_t now_us = pq_loop_now(c->loop) * 1000u;
		struct pq_sock_path sp;

		pq_qsize_written(&c->qs, taken, pq_conn_pending(c), now_us);
		if (pq_qsize_kernel_due(&c->qs, now_us) && pq_sock_tcp_path(c->fd, &sp) == 0)
			pq_qsize_kernel(&c->qs,
					&(struct pq_qsize_view){ .acked = sp.acked, .busy_us = sp.busy_us,
								 .notsent = sp.notsent },
					now_us);
		if (c->qs.samples != c->qs_seen)
			pq_conn_apply_lowat(c);
	}
	if (c->urg_off == c->urg_len)
		c->urg_off = c->urg_len = 0;
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		c->out_raw = c->frame_left = 0;
		c->bulk_frames = 0;
	}
	pq_conn_account(c);
	return 0;
}

int pq_conn_flush(struct pq_conn *c)
{
	int ret = write_queued(c);

	if (ret == 0)
		pq_conn_trim(c, false);
	return ret;
}

void pq_conn_flush_now(struct pq_conn *c)
{
	if (c->state != CONN_OPEN)
		return;
	/* No trim: it may free the receive buffer, and the caller may be
	 * inside on_message with a message borrowed from it. On failure
	 * the conn is torn down here, reaped (on_close) by the loop. */
	(void)write_queued(c);
	pq_conn_update_interest(c);
}

void pq_conn_trim(struct pq_conn *c, bool idle)
{
	if (c->out_off == c->out_len && c->out_cap > CONN_KEEP_BUF) {
		pq_wipe(c->out, c->out_cap);
		free(c->out);
		c->out = NULL;
		c->out_cap = c->out_off = c->out_len = 0;
	}
	/* On the idle tick a drained urgent buffer goes whatever its size:
	 * a relay holds thousands of idle conns; a busy one keeps it. */
	if (c->urg_off == c->urg_len && c->urg && (idle || c->urg_cap > CONN_KEEP_BUF)) {
		pq_wipe(c->urg, c->urg_cap);
		free(c->urg);
		c->urg = NULL;
		c->urg_cap = c->urg_off = c->urg_len = 0;
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

/* Receive side of "Latency": while the path queues, the window the peer
 * may fill is clamped (proto/rwin.h). Best effort: a failed call leaves
 * the kernel's window. */
static void follow_path(struct pq_conn *c, size_t n)
{
	uint64_t now_us = pq_loop_now(c->loop) * 1000u;
	struct pq_sock_path sp;
	struct pq_rwin_path p = { 0 };
	uint32_t was = pq_rwin_clamp(&c->rw);
	enum pq_rwin_action act = PQ_RWIN_KEEP;

	if (pq_rwin_read(&c->rw, n, now_us)) {
		if (pq_sock_tcp_path(c->fd, &sp) == 0) /* else: a window without a view */
			p = (struct pq_rwin_path){ .srtt_us = sp.srtt_us, .min_rtt_us = sp.min_rtt_us,
						   .mss = sp.mss, .acked = sp.acked };
		act = pq_rwin_next(&c->rw, &p, now_us);
	} else if (was && !pq_rwin_clamp(&c->rw)) {
		act = PQ_RWIN_RELEASE; /* let go after a long gap (rwin.h) */
	}
	if (act == PQ_RWIN_RELEASE) {
		/* The buffer's free space bounds the window again; the kernel
		 * lowers this to follow its buffer when it next grows it. Not
		 * the clamp from before ours: autotuning may have grown the
		 * buffer meanwhile, and would not raise the clamp again. */
		(void)pq_sock_set_window_clamp(c->fd, PQ_SOCK_NO_CLAMP);
	} else if (pq_rwin_clamp(&c->rw)) {
		/* After every read while set (a syscall per read, only on a
		 * path under 400 Mbit/s): the kernel's autotuning raises it. */
		(void)pq_sock_set_window_clamp(c->fd, pq_rwin_clamp(&c->rw));
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
		if (c->state == CONN_UPGRADE) {
			pq_conn_upgrade_feed(c, c->rbuf, (size_t)n);
		} else {
			if (c->opts.size_from_path)
				follow_path(c, (size_t)n);
			pq_conn_feed_ws(c, c->rbuf, (size_t)n);
		}
	}
}
