/*
 * relay_client.h - a minimal pqlan relay client for the relay's tests
 * (tests/relay/test_relay.c in-process, tests/relay/tool_relay_client.c
 * against a running `pqlan relay`): pq_conn_connect with the relay's key
 * pinned, answer RELAY_CHALLENGE with RELAY_AUTH (good, bad or none),
 * answer RELAY_WELCOME with RELAY_WATCH (the keys set with rc_watch_add,
 * none if none were), record every message received. Header-only (static inline), no cmocka:
 * functions return 0 / -1 and the caller asserts.
 */
#ifndef PQ_TESTS_RELAY_CLIENT_H
#define PQ_TESTS_RELAY_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "crypto/ed25519.h"
#include "crypto/util.h"
#include "net/conn.h"
#include "net/loop.h"
#include "proto/msg_relay.h"

#define RC_MAX_MSGS 256
#define RC_MSG_KEEP 256 /* bytes of each message kept */
#define RC_MAX_WATCH 8

enum rc_auth_mode {
	RC_AUTH_GOOD = 0, /* sign challenge || exporter */
	RC_AUTH_BADSIG,   /* a signature with one bit flipped */
	RC_AUTH_NONE,     /* never answer */
	RC_AUTH_SEND_FIRST, /* answer the challenge with a RELAY_SEND */
	RC_AUTH_WATCH_FIRST, /* answer the challenge with a RELAY_WATCH */
};

struct rc_env;

struct rc_msg {
	uint8_t buf[RC_MSG_KEEP];
	size_t len;
};

struct rc_client {
	struct rc_env *env;
	struct pq_conn *conn;
	uint8_t priv[32], pub[32];
	enum rc_auth_mode mode;
	bool opened, closed, welcomed;
	uint8_t watch[RC_MAX_WATCH][32]; /* sent in RELAY_WATCH on WELCOME */
	size_t nwatch;                   /* 0: no RELAY_WATCH sent */
	int watch_err;                   /* -1 when that RELAY_WATCH was not sent */
	struct pq_conn_reason why;
	int close_reason;     /* from a CLOSE message; -1 none */
	struct rc_msg msgs[RC_MAX_MSGS];
	size_t nmsgs;         /* kept (at most RC_MAX_MSGS) */
	size_t total;         /* received */
};

typedef bool rc_pred_fn(struct rc_env *env);

struct rc_env {
	struct pq_loop *loop;
	struct pq_tls_ctx *cctx;
	struct pq_sockaddr relay_addr;
	uint8_t relay_pub[32];
	struct pq_timer deadline;
	struct pq_timer tick;  /* re-checks pred: some states change on the relay side */
	bool timed_out;
	rc_pred_fn *pred;
	void *arg;            /* for predicates */
};

static inline void rc_maybe_stop(struct rc_env *e)
{
	if (e->pred && e->pred(e))
		pq_loop_stop(e->loop);
}

static inline void rc_answer(struct rc_client *c, const uint8_t *msg, size_t len)
{
	struct pq_relay_challenge ch;
	struct pq_relay_auth a;
	struct pq_signer *s = NULL;
	uint8_t signed_bytes[PQ_RELAY_AUTH_SIGNED_LEN], buf[PQ_MAX_MSG_LEN];
	size_t out;

	if (pq_relay_challenge_decode(&ch, msg, len) || c->mode == RC_AUTH_NONE)
		return;
	if (c->mode == RC_AUTH_WATCH_FIRST) {
		if (pq_relay_watch_build(buf, sizeof(buf), &out, (const uint8_t(*)[32])c->pub, 1) == 0 &&
		    pq_conn_send(c->conn, buf, out) == 0)
			return;
		pq_conn_close(c->conn, 1000);
		return;
	}
	if (c->mode == RC_AUTH_SEND_FIRST) {
		struct pq_relay_fwd f = { { 0 }, (const uint8_t *)"x", 1 };

		if (pq_relay_send_encode(buf, sizeof(buf), &out, &f) == 0 &&
		    pq_conn_send(c->conn, buf, out) == 0)
			return;
		pq_conn_close(c->conn, 1000);
		return;
	}
	pq_relay_auth_signed_bytes(signed_bytes, ch.challenge, pq_conn_exporter(c->conn));
	memcpy(a.node_key, c->pub, 32);
	if (pq_signer_new(&s, c->priv) ||
	    pq_signer_sign(s, a.sig, signed_bytes, sizeof(signed_bytes))) {
		pq_signer_free(s);
		pq_conn_close(c->conn, 1000);
		return;
	}
	pq_signer_free(s);
	if (c->mode == RC_AUTH_BADSIG)
		a.sig[10] ^= 0x04;
	if (pq_relay_auth_encode(buf, sizeof(buf), &out, &a) || pq_conn_send(c->conn, buf, out))
		pq_conn_close(c->conn, 1000);
}

/* RELAY_WATCH listing keys (count of them). 0 or -1. */
static inline int rc_send_watch(struct rc_client *c, const uint8_t (*keys)[32], size_t count)
{
	uint8_t buf[PQ_RELAY_WATCH_MSG_MAX];
	size_t out;

	if (!c->conn || pq_relay_watch_build(buf, sizeof(buf), &out, keys, count))
		return -1;
	return pq_conn_send(c->conn, buf, out) ? -1 : 0;
}

/* Add key to what c sends in RELAY_WATCH when welcomed (call after
 * rc_connect, before the loop runs). 0 or -1 (full). */
static inline int rc_watch_add(struct rc_client *c, const uint8_t key[32])
{
	if (c->nwatch >= RC_MAX_WATCH)
		return -1;
	memcpy(c->watch[c->nwatch++], key, 32);
	return 0;
}

static inline void rc_on_open(void *ctx, struct pq_conn *conn)
{
	struct rc_client *c = ctx;

	c->opened = true;
	rc_maybe_stop(c->env);
}

static inline void rc_on_message(void *ctx, struct pq_conn *conn, const uint8_t *msg, size_t len)
{
	struct rc_client *c = ctx;
	struct pq_close cl;

	if (c->nmsgs < RC_MAX_MSGS) {
		struct rc_msg *m = &c->msgs[c->nmsgs++];

		m->len = len;
		memcpy(m->buf, msg, len < RC_MSG_KEEP ? len : RC_MSG_KEEP);
	}
	c->total++;
	if (msg[0] == PQ_MSG_RELAY_CHALLENGE)
		rc_answer(c, msg, len);
	else if (msg[0] == PQ_MSG_RELAY_WELCOME) {
		c->welcomed = true;
		if (c->nwatch && rc_send_watch(c, (const uint8_t(*)[32])c->watch, c->nwatch))
			c->watch_err = -1;
	}
	else if (msg[0] == PQ_MSG_CLOSE && pq_close_decode(&cl, msg, len) == 0)
		c->close_reason = cl.reason;
	rc_maybe_stop(c->env);
}

static inline void rc_on_close(void *ctx, struct pq_conn *conn, const struct pq_conn_reason *why)
{
	struct rc_client *c = ctx;

	c->closed = true;
	c->why = *why;
	c->conn = NULL;
	rc_maybe_stop(c->env);
}

static const struct pq_conn_cbs rc_cbs = { rc_on_open, rc_on_message, rc_on_close };

/* A new env on its own loop, talking to the relay at addr with key pub. */
static inline int rc_env_init(struct rc_env *e, const struct pq_sockaddr *addr,
			      const uint8_t pub[32], struct pq_loop *loop)
{
	uint8_t k[32];
	int rc;

	memset(e, 0, sizeof(*e));
	e->loop = loop;
	e->relay_addr = *addr;
	memcpy(e->relay_pub, pub, 32);
	if (pq_ed25519_generate(k))
		return -1;
	rc = pq_tls_ctx_new(&e->cctx, PQ_TLS_CLIENT, k);
	pq_wipe(k, sizeof(k));
	return rc ? -1 : 0;
}

static inline void rc_env_free(struct rc_env *e)
{
	pq_tls_ctx_free(e->cctx);
	e->cctx = NULL;
}

/* Start client c with identity priv (NULL: a fresh key). */
static inline int rc_connect(struct rc_env *e, struct rc_client *c, const uint8_t *priv,
			     enum rc_auth_mode mode)
{
	struct pq_conn_target tg = { e->relay_addr, e->relay_pub, NULL, NULL };

	memset(c, 0, sizeof(*c));
	c->env = e;
	c->mode = mode;
	c->close_reason = -1;
	if (priv)
		memcpy(c->priv, priv, 32);
	else if (pq_ed25519_generate(c->priv))
		return -1;
	if (pq_ed25519_public(c->pub, c->priv))
		return -1;
	if (pq_conn_connect(&c->conn, e->loop, e->cctx, &tg, NULL, &rc_cbs, c))
		return -1;
	pq_conn_set_data(c->conn, c);
	return 0;
}

static inline void rc_deadline_fn(struct pq_loop *loop, struct pq_timer *t, void *arg,
				  uint64_t now)
{
	struct rc_env *e = arg;

	e->timed_out = true;
	pq_loop_stop(loop);
}

static inline void rc_tick_fn(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	struct rc_env *e = arg;

	rc_maybe_stop(e);
	if (pq_loop_timer_start(loop, t, 10))
		pq_loop_stop(loop);
}

/* Run the loop until pred holds (0) or timeout_ms passed (-1). */
static inline int rc_run(struct rc_env *e, rc_pred_fn *pred, void *arg, uint64_t timeout_ms)
{
	e->pred = pred;
	e->arg = arg;
	e->timed_out = false;
	if (pred(e)) {
		e->pred = NULL; /* else a later callback on this env would stop the loop */
		return 0;
	}
	pq_timer_init(&e->deadline, rc_deadline_fn, e);
	pq_timer_init(&e->tick, rc_tick_fn, e);
	if (pq_loop_timer_start(e->loop, &e->deadline, timeout_ms) ||
	    pq_loop_timer_start(e->loop, &e->tick, 10) || pq_loop_run(e->loop)) {
		pq_loop_timer_cancel(e->loop, &e->deadline);
		pq_loop_timer_cancel(e->loop, &e->tick);
		return -1;
	}
	pq_loop_timer_cancel(e->loop, &e->deadline);
	pq_loop_timer_cancel(e->loop, &e->tick);
	e->pred = NULL;
	return pred(e) ? 0 : -1;
}

/* How many messages of this type c received (among those kept). */
static inline size_t rc_count(const struct rc_client *c, uint8_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nmsgs; i++)
		n += c->msgs[i].buf[0] == type;
	return n;
}

/* The last message of this type, or NULL. */
static inline const struct rc_msg *rc_last(const struct rc_client *c, uint8_t type)
{
	for (size_t i = c->nmsgs; i > 0; i--)
		if (c->msgs[i - 1].buf[0] == type)
			return &c->msgs[i - 1];
	return NULL;
}

/* RELAY_SEND(dst, payload). 0 or -1. */
static inline int rc_send(struct rc_client *c, const uint8_t dst[32], const uint8_t *payload,
			  size_t len)
{
	static uint8_t buf[PQ_MAX_MSG_LEN];
	struct pq_relay_fwd f;
	size_t out;

	memcpy(f.key, dst, 32);
	f.payload = payload;
	f.payload_len = len;
	if (!c->conn || pq_relay_send_encode(buf, sizeof(buf), &out, &f))
		return -1;
	return pq_conn_send(c->conn, buf, out) ? -1 : 0;
}

/* Send raw bytes as one message. */
static inline int rc_send_raw(struct rc_client *c, const uint8_t *msg, size_t len)
{
	return c->conn && pq_conn_send(c->conn, msg, len) == 0 ? 0 : -1;
}

#endif
