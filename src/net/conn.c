/*
 * conn.c - connection life cycle on the loop: TCP connect / accept, TLS
 * handshake, the state machine, the one timer (open deadline, close
 * linger, reap), teardown and the deferred free. See conn.h; the
 * listener is in conn_listen.c.
 *
 * Free is always deferred: a conn that ends becomes CONN_DEAD (fd
 * closed, no more events) and a zero-delay timer calls on_close and frees
 * it from a later loop turn, so closing from inside any callback is safe.
 */
#include "net/conn_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/util.h"
#include "proto/types.h"

static void on_fd(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms);

/* Stop watching fd before it is closed; it may not be watched (a conn
 * that failed inside conn_new), which needs nothing done. */
static void unwatch(struct pq_loop *loop, int fd)
{
	if (pq_loop_del(loop, fd)) {
		/* not watched */
	}
}

/* ---- server conns not yet open belong to their listener ---- */

/* Count the outcome once: opened, or failed before open. */
static void listener_count(struct pq_conn *c, bool failed)
{
	if (!c->listener || c->counted)
		return;
	c->counted = true;
	if (failed)
		c->listener->stats.failed++;
	else
		c->listener->stats.opened++;
}

/* Leave the listener's list: at open (the caller knows the conn from
 * then on) or when freed. A conn that failed stays listed until its reap,
 * so freeing the listener also frees the dead ones not yet reaped. */
static void listener_unlink(struct pq_conn *c)
{
	struct pq_listener *l = c->listener;

	if (!l)
		return;
	pq_listener_release(c);
	l->pending_n--;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->pending = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->pending_tail = c->prev;
	c->prev = c->next = NULL;
	c->listener = NULL;
}

/* ---- teardown ---- */

void pq_conn_free(struct pq_conn *c)
{
	pq_loop_timer_cancel(c->loop, &c->timer);
	if (c->fd >= 0) {
		unwatch(c->loop, c->fd);
		close(c->fd);
	}
	pq_tls_free(c->tls);
	if (c->opts.queued_total) /* what we held leaves with us */
		*c->opts.queued_total -= c->accounted;
	listener_count(c, true);
	listener_unlink(c);
	if (c->rx_ready)
		pq_ws_rx_free(&c->rx);
	free(c->hs);
	free(c->host);
	free(c->path);
	if (c->out)
		pq_wipe(c->out, c->out_cap);
	free(c->out);
	if (c->urg)
		pq_wipe(c->urg, c->urg_cap);
	free(c->urg);
	pq_wipe(c, sizeof(*c));
	free(c);
}

static void set_reason(struct pq_conn *c, enum pq_conn_end end, int err, uint16_t ws_code)
{
	if (c->reason_set)
		return;
	c->reason_set = true;
	c->reason.end = end;
	c->reason.err = err;
	c->reason.ws_code = ws_code;
}

/* Close the socket now; on_close and free follow from the timer. */
static void conn_teardown(struct pq_conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	if (c->fd >= 0) {
		unwatch(c->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	c->state = CONN_DEAD;
	listener_count(c, true); /* a server conn that never opened */
	pq_listener_release(c);
	/* The timer is armed (or just fired) in every state before DEAD, so
	 * re-arming it takes no memory and cannot fail. */
	if (pq_loop_timer_start(c->loop, &c->timer, 0)) {
		/* unreachable, see above */
	}
}

void pq_conn_fail(struct pq_conn *c, enum pq_conn_end end, int err, uint16_t ws_code)
{
	set_reason(c, end, err, ws_code);
	conn_teardown(c);
}

void pq_conn_begin_close(struct pq_conn *c, enum pq_conn_end end, int err, uint16_t ws_code)
{
	uint64_t linger = c->opts.close_linger_ms;

	if (c->state >= CONN_CLOSING)
		return;
	set_reason(c, end, err, ws_code);
	c->state = CONN_CLOSING;
	c->linger_read = end != PQ_CONN_END_PEER; /* we spoke first: await the peer */
	if (pq_loop_timer_start(c->loop, &c->timer, linger)) {
		conn_teardown(c);
		return;
	}
	pq_conn_update_interest(c);
}

static void reap(struct pq_conn *c)
{
	if (c->owe_close && c->cbs.on_close) {
		if (!c->reason_set)
			set_reason(c, PQ_CONN_END_IO, PQ_E_IO, PQ_WS_CLOSE_ABNORMAL);
		c->cbs.on_close(c->cb_ctx, c, &c->reason);
	}
	pq_conn_free(c);
}

/* While open the timer stays armed (so that re-arming it never needs
 * memory). With ping_interval_ms set it is the liveness check: a conn
 * that heard nothing for that long gets a WebSocket ping, and with
 * ping_timeout_ms set, one that then hears nothing at all (no pong, no
 * message) within the timeout is dead - a black-holed path never sends
 * the FIN or reset that would tell us (DESIGN §7). Input of any kind
 * counts, so a busy conn never pings. */
static void idle_tick(struct pq_conn *c, uint64_t now_ms)
{
	uint64_t every = c->opts.ping_interval_ms, next = CONN_IDLE_MS;

	pq_conn_trim(c, true);
	if (every) {
		if (c->ping_sent_ms && c->last_rx_ms < c->ping_sent_ms && c->opts.ping_timeout_ms &&
		    now_ms - c->ping_sent_ms >= c->opts.ping_timeout_ms) {
			pq_conn_fail(c, PQ_CONN_END_TIMEOUT, PQ_E_TIMEOUT, PQ_WS_CLOSE_ABNORMAL);
			return;
		}
		if (c->ping_sent_ms && c->last_rx_ms >= c->ping_sent_ms)
			c->ping_sent_ms = 0; /* answered */
		if (c->ping_sent_ms) {
			next = c->ping_sent_ms + c->opts.ping_timeout_ms - now_ms;
		} else if (now_ms - c->last_rx_ms >= every) {
			if (pq_conn_queue_frame(c, PQ_WS_OP_PING, NULL, 0,
						c->opts.max_queue + CONN_CTL_RESERVE) == 0) {
				c->stats.pings_out++;
				pq_conn_update_interest(c);
			}
			/* queued or not (a full queue), the deadline runs */
			c->ping_sent_ms = c->opts.ping_timeout_ms ? (now_ms ? now_ms : 1) : 0;
			next = c->opts.ping_timeout_ms ? c->opts.ping_timeout_ms : every;
		} else {
			next = c->last_rx_ms + every - now_ms;
		}
	}
	if (pq_loop_timer_start(c->loop, &c->timer, next)) {
		/* unreachable: the timer just fired, its heap slot is free */
	}
}

void pq_conn_heard(struct pq_conn *c)
{
	uint64_t now = pq_loop_now(c->loop), due = c->accepted_ms + c->opts.open_timeout_ms;

	if (c->heard)
		return;
	c->heard = true;
	if (pq_loop_timer_start(c->loop, &c->timer, due > now ? due - now : 0)) {
		/* unreachable: re-arming an armed timer takes no memory */
	}
}

static void on_timer(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_conn *c = arg;

	switch (c->state) {
	case CONN_DEAD:
		reap(c);
		return;
	case CONN_CLOSING: /* the peer does not read: give up on the flush */
		conn_teardown(c);
		return;
	case CONN_OPEN:
		idle_tick(c, now_ms);
		return;
	default: /* TCP, TLS or Upgrade took too long (slowloris) */
		if (c->server && !c->heard && c->listener)
			c->listener->stats.first_bytes_timeouts++;
		pq_conn_fail(c, PQ_CONN_END_TIMEOUT, PQ_E_TIMEOUT, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
}

/* ---- interest ---- */

void pq_conn_update_interest(struct pq_conn *c)
{
	unsigned want = 0;

	switch (c->state) {
	case CONN_TCP:
		want = PQ_LOOP_WRITE;
		break;
	case CONN_TLS:
		want = pq_tls_want(c->tls) ? pq_tls_want(c->tls) : PQ_LOOP_READ;
		break;
	case CONN_UPGRADE:
	case CONN_OPEN:
		/* a read may need to write (a TLS 1.3 KeyUpdate answer) */
		want = PQ_LOOP_READ;
		if (pq_conn_pending(c) || pq_tls_want(c->tls) == PQ_LOOP_WRITE)
			want |= PQ_LOOP_WRITE;
		break;
	case CONN_CLOSING:
		/* no reading while our last bytes are pending: level-triggered
		 * input we leave unread would wake us in a busy loop */
		want = pq_conn_pending(c) ? PQ_LOOP_WRITE : PQ_LOOP_READ;
		break;
	case CONN_DEAD:
		return;
	}
	if (want == c->interest)
		return;
	if (pq_loop_mod(c->loop, c->fd, want)) {
		pq_conn_fail(c, PQ_CONN_END_IO, PQ_E_IO, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	c->interest = want;
}

/* ---- states ---- */

static void tls_done(struct pq_conn *c)
{
	int err;

	if ((err = pq_tls_exporter(c->tls, c->exporter))) {
		pq_conn_fail(c, PQ_CONN_END_TLS, err, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	c->have_peer_key = pq_tls_peer_key(c->tls, c->peer_key) == 0;
	c->state = CONN_UPGRADE;
	if ((err = pq_conn_upgrade_start(c)))
		pq_conn_fail(c, PQ_CONN_END_IO, err, PQ_WS_CLOSE_ABNORMAL);
}

static void step_tls(struct pq_conn *c)
{
	int err = pq_tls_handshake(c->tls);

	if (err == PQ_E_AGAIN)
		return;
	if (err) {
		pq_conn_fail(c, PQ_CONN_END_TLS, err, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	tls_done(c);
}

static void step_tcp(struct pq_conn *c)
{
	int err = pq_sock_connect_result(c->fd);

	if (err == PQ_E_AGAIN)
		return;
	if (err) {
		pq_conn_fail(c, PQ_CONN_END_IO, err, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	c->state = CONN_TLS;
	step_tls(c);
}

void pq_conn_opened(struct pq_conn *c)
{
	free(c->hs);
	c->hs = NULL;
	c->state = CONN_OPEN;
	c->opened = true;
	c->out_raw = c->out_len - c->out_off; /* the server's 101, not yet written */
	c->owe_close = true;
	c->last_rx_ms = pq_loop_now(c->loop);
	if (pq_loop_timer_start(c->loop, &c->timer,
				c->opts.ping_interval_ms ? c->opts.ping_interval_ms : CONN_IDLE_MS)) {
		/* unreachable: re-arming an armed timer takes no memory */
	}
	listener_count(c, false);
	listener_unlink(c);
	if (c->cbs.on_open)
		c->cbs.on_open(c->cb_ctx, c);
}

/*
 * After our last bytes (close frame, HTTP refusal): close_notify and FIN.
 * If we spoke first, read and discard until the peer's EOF (bounded by
 * the linger timer): closing with unread input makes the kernel send a
 * reset, which can destroy what we just sent before the peer reads it -
 * the lingering close of HTTP servers, and RFC 6455 §7.1.1's order.
 */
static void closing_step(struct pq_conn *c)
{
	int i;

	if (pq_conn_flush(c) || pq_conn_pending(c))
		return;
	if (!c->fin_sent) {
		pq_tls_shutdown(c->tls);
		(void)shutdown(c->fd, SHUT_WR);
		c->fin_sent = true;
		if (!c->linger_read) {
			conn_teardown(c);
			return;
		}
	}
	for (i = 0; i < CONN_READ_BUDGET; i++) {
		long n = pq_tls_read(c->tls, c->rbuf, sizeof(c->rbuf));

		if (n == PQ_E_AGAIN)
			return;
		if (n <= 0) {
			conn_teardown(c);
			return;
		}
	}
}

static void on_fd(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_conn *c = arg;

	switch (c->state) {
	case CONN_TCP:
		step_tcp(c);
		break;
	case CONN_TLS:
		if (c->server && (events & PQ_LOOP_READ))
			pq_conn_heard(c);
		step_tls(c);
		break;
	case CONN_UPGRADE:
	case CONN_OPEN:
		if (pq_conn_flush(c) == 0)
			pq_conn_read(c);
		break;
	case CONN_CLOSING:
		closing_step(c);
		break;
	case CONN_DEAD:
		return;
	}
	pq_conn_update_interest(c);
}

/* ---- construction ---- */

/* OpenSSL writes with write(2): a peer that reset the connection would
 * raise SIGPIPE and kill the process. We want EPIPE instead, so a socket
 * user ignores SIGPIPE unless the process installed its own handler. */
void pq_conn_ignore_sigpipe(void)
{
	struct sigaction old, ign;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		(void)sigaction(SIGPIPE, &ign, NULL);
}

void pq_conn_opts_fill(struct pq_conn_opts *dst, const struct pq_conn_opts *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src)
		*dst = *src;
	if (!dst->open_timeout_ms)
		dst->open_timeout_ms = PQ_CONN_OPEN_TIMEOUT_MS;
	if (!dst->max_queue)
		dst->max_queue = PQ_CONN_MAX_QUEUE;
	if (!dst->max_msg || dst->max_msg > PQ_MAX_MSG_LEN)
		dst->max_msg = PQ_MAX_MSG_LEN;
	if (!dst->close_linger_ms)
		dst->close_linger_ms = PQ_CONN_CLOSE_LINGER_MS;
	if (!dst->max_pending)
		dst->max_pending = PQ_CONN_MAX_PENDING;
	if (!dst->max_pending_per_source)
		dst->max_pending_per_source = PQ_CONN_MAX_PENDING_PER_SOURCE;
	if (!dst->first_bytes_ms)
		dst->first_bytes_ms = PQ_CONN_FIRST_BYTES_MS;
}

int pq_conn_new_fd(struct pq_conn **out, struct pq_loop *loop, int fd, bool server,
		    const struct pq_conn_opts *opts, const struct pq_conn_cbs *cbs, void *cb_ctx)
{
	struct pq_conn *c = calloc(1, sizeof(*c));
	int err;

	if (!c) {
		close(fd);
		return PQ_E_NOMEM;
	}
	c->loop = loop;
	c->fd = fd;
	c->server = server;
	c->src_slot = -1;
	pq_conn_opts_fill(&c->opts, opts);
	c->cbs = *cbs;
	c->cb_ctx = cb_ctx;
	pq_timer_init(&c->timer, on_timer, c);
	c->state = server ? CONN_TLS : CONN_TCP;
	c->interest = server ? PQ_LOOP_READ : PQ_LOOP_WRITE;
	c->accepted_ms = pq_loop_now(loop);
	/* Best effort: a kernel without it only loses the faster detection. */
	if (c->opts.user_timeout_ms && pq_sock_set_user_timeout(fd, c->opts.user_timeout_ms)) {
		/* kept without it */
	}
	pq_qsize_init(&c->qs);
	pq_rwin_init(&c->rw);
	pq_conn_apply_lowat(c);
	if ((err = pq_loop_add(loop, fd, c->interest, on_fd, c)) ||
	    (err = pq_loop_timer_start(loop, &c->timer,
				       server && c->opts.first_bytes_ms < c->opts.open_timeout_ms
				       ? c->opts.first_bytes_ms : c->opts.open_timeout_ms))) {
		pq_conn_free(c);
		return err;
	}
	*out = c;
	return 0;
}

static char *dup_or_null(const char *s, int *err)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*err = PQ_E_NOMEM;
	return d;
}

/* RFC 6066 §3: a server name is a hostname, never an address literal. */
static bool is_ip_literal(const char *host)
{
	struct pq_sockaddr a;

	return pq_sockaddr_from_ip(&a, host, 0) == 0;
}

int pq_conn_connect(struct pq_conn **out, struct pq_loop *loop, struct pq_tls_ctx *tls,
		    const struct pq_conn_target *target, const struct pq_conn_opts *opts,
		    const struct pq_conn_cbs *cbs, void *cb_ctx)
{
	struct pq_conn *c = NULL;
	int fd = -1, err = 0;

	*out = NULL;
	if (!loop || !tls || !target || !target->pin || !cbs ||
	    pq_tls_ctx_role(tls) != PQ_TLS_CLIENT)
		return PQ_E_INVAL;
	if (target->host && (!*target->host || strlen(target->host) > 253))
		return PQ_E_INVAL; /* RFC 1035 §2.3.4 */
	pq_conn_ignore_sigpipe();
	if ((err = pq_sock_connect(&fd, &target->addr)))
		return err;
	if ((err = pq_conn_new_fd(&c, loop, fd, false, opts, cbs, cb_ctx)))
		return err;
	c->peer = target->addr;
	c->host = dup_or_null(target->host, &err);
	c->path = dup_or_null(target->path ? target->path : "/", &err);
	if (!err)
		err = pq_tls_new(&c->tls, tls, fd, target->pin,
				 target->host && !is_ip_literal(target->host) ? target->host : NULL);
	if (err) {
		pq_conn_free(c);
		return err;
	}
	c->owe_close = true;
	*out = c;
	return 0;
}

/* ---- public accessors and actions ---- */

void pq_conn_close(struct pq_conn *c, uint16_t ws_code)
{
	if (!pq_ws_close_code_valid(ws_code))
		ws_code = PQ_WS_CLOSE_NORMAL;
	if (c->state >= CONN_CLOSING)
		return;
	if (c->state != CONN_OPEN) {
		pq_conn_fail(c, PQ_CONN_END_LOCAL, 0, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	if (pq_conn_queue_close(c, ws_code)) {
		pq_conn_fail(c, PQ_CONN_END_LOCAL, 0, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	pq_conn_begin_close(c, PQ_CONN_END_LOCAL, 0, ws_code);
}

void pq_conn_abort(struct pq_conn *c)
{
	if (c)
		pq_conn_free(c);
}

int pq_conn_set_max_msg(struct pq_conn *c, size_t max_msg)
{
	if (!max_msg || max_msg > PQ_MAX_MSG_LEN)
		return PQ_E_INVAL;
	if (c->state != CONN_OPEN || !c->rx_ready)
		return PQ_E_STATE;
	c->opts.max_msg = max_msg;
	return pq_ws_rx_set_max(&c->rx, max_msg);
}

int pq_conn_set_max_queue(struct pq_conn *c, size_t max_queue)
{
	if (!max_queue)
		return PQ_E_INVAL;
	if (c->state != CONN_OPEN)
		return PQ_E_STATE;
	c->opts.max_queue = max_queue;
	return 0;
}

int pq_conn_set_sndbuf(struct pq_conn *c, size_t bytes)
{
	if (!bytes)
		return PQ_E_INVAL;
	if (c->state != CONN_OPEN || c->fd < 0)
		return PQ_E_STATE;
	return pq_sock_set_sndbuf(c->fd, bytes);
}

bool pq_conn_is_open(const struct pq_conn *c)
{
	return c->state == CONN_OPEN;
}

bool pq_conn_is_server(const struct pq_conn *c)
{
	return c->server;
}

const uint8_t *pq_conn_exporter(const struct pq_conn *c)
{
	return c->opened ? c->exporter : NULL;
}

const uint8_t *pq_conn_peer_key(const struct pq_conn *c)
{
	return c->have_peer_key ? c->peer_key : NULL;
}

const struct pq_sockaddr *pq_conn_peer_addr(const struct pq_conn *c)
{
	return &c->peer;
}

void pq_conn_set_data(struct pq_conn *c, void *data)
{
	c->data = data;
}

void *pq_conn_data(const struct pq_conn *c)
{
	return c->data;
}

void pq_conn_sizing(const struct pq_conn *c, struct pq_conn_sizing *out)
{
	out->rate = c->qs.rate;
	out->samples = c->qs.samples;
	out->lowat = c->lowat;
	out->record = pq_qsize_record(&c->qs);
	out->urgent_msgs = c->urgent_msgs;
	out->window_clamp = pq_rwin_clamp(&c->rw);
}

size_t pq_conn_queued(const struct pq_conn *c)
{
	return pq_conn_pending(c);
}

uint64_t pq_conn_drops(const struct pq_conn *c)
{
	return c->stats.drops;
}

void pq_conn_stats(const struct pq_conn *c, struct pq_conn_stats *out)
{
	*out = c->stats;
}
