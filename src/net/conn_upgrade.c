/*
 * conn_upgrade.c - the HTTP/1.1 Upgrade of a conn (RFC 6455 §4), run
 * over TLS once the handshake is done, with the sans-I/O ws_handshake
 * module. Client: send the GET, check the 101. Server: read the GET
 * (at most PQ_WS_HS_MAX_HEADER bytes), answer 101 or a refusal (400, 405,
 * 426, 431, 505) then close. Bytes after the header are WebSocket bytes.
 */
#include "net/conn_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"

static int open_ws(struct pq_conn *c)
{
	int err = pq_ws_rx_init(&c->rx, c->server ? PQ_WS_SERVER : PQ_WS_CLIENT, c->opts.max_msg);

	if (err)
		return err;
	c->rx_ready = true;
	return 0;
}

static int client_request(struct pq_conn *c)
{
	char host[300], req[1024];
	long n;

	if (pq_random_bytes(c->nonce, sizeof(c->nonce)))
		return PQ_E_RANDOM;
	if (!c->host) {
		pq_sockaddr_format(&c->peer, host, sizeof(host));
	} else {
		/* RFC 9110 §7.2: uri-host [":" port]; an IPv6 literal in brackets */
		bool v6 = strchr(c->host, ':') != NULL;
		unsigned port = pq_sockaddr_port(&c->peer);
		int w = port == 443 ? snprintf(host, sizeof(host), v6 ? "[%s]" : "%s", c->host)
				    : snprintf(host, sizeof(host), v6 ? "[%s]:%u" : "%s:%u", c->host, port);

		if (w < 0 || (size_t)w >= sizeof(host))
			return PQ_E_INVAL;
	}
	n = pq_ws_hs_build_request(req, sizeof(req), host, c->path, c->nonce);
	if (n < 0)
		return (int)n;
	return pq_conn_queue_raw(c, req, (size_t)n);
}

int pq_conn_upgrade_start(struct pq_conn *c)
{
	int err;

	if (!(c->hs = malloc(sizeof(*c->hs))))
		return PQ_E_NOMEM;
	pq_ws_hs_reader_init(c->hs);
	if (!c->server && (err = client_request(c)))
		return err;
	pq_conn_update_interest(c);
	return 0;
}

/* Refuse a request: the 4xx/5xx over TLS, then close (no on_close: the
 * caller never saw this conn). */
static void server_refuse(struct pq_conn *c, int status)
{
	char resp[512];
	long n = pq_ws_hs_build_error(resp, sizeof(resp), status);

	if (c->listener)
		c->listener->stats.http_refused++;
	if (n < 0 || pq_conn_queue_raw(c, resp, (size_t)n)) {
		pq_conn_fail(c, PQ_CONN_END_UPGRADE, PQ_E_DECODE, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	pq_conn_begin_close(c, PQ_CONN_END_UPGRADE, PQ_E_DECODE, PQ_WS_CLOSE_ABNORMAL);
}

static void server_header_done(struct pq_conn *c)
{
	struct pq_ws_hs_request req;
	char resp[512];
	int status = 400;
	long n;

	if (pq_ws_hs_parse_request(c->hs, &req, &status)) {
		server_refuse(c, status);
		return;
	}
	n = pq_ws_hs_build_response(resp, sizeof(resp), &req);
	if (n < 0 || pq_conn_queue_raw(c, resp, (size_t)n) || open_ws(c)) {
		pq_conn_fail(c, PQ_CONN_END_UPGRADE, n < 0 ? (int)n : PQ_E_NOMEM, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	pq_conn_opened(c);
}

static void client_header_done(struct pq_conn *c)
{
	int err = pq_ws_hs_verify_response(c->hs, c->nonce);

	if (!err)
		err = open_ws(c);
	if (err) {
		pq_conn_fail(c, PQ_CONN_END_UPGRADE, err, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	pq_conn_opened(c);
}

void pq_conn_upgrade_feed(struct pq_conn *c, const uint8_t *in, size_t len)
{
	size_t used = 0;
	int r = pq_ws_hs_reader_feed(c->hs, in, len, &used);

	if (r == 0)
		return;
	if (r < 0) { /* header too long */
		if (c->server)
			server_refuse(c, 431);
		else
			pq_conn_fail(c, PQ_CONN_END_UPGRADE, r, PQ_WS_CLOSE_ABNORMAL);
		return;
	}
	if (c->server)
		server_header_done(c);
	else
		client_header_done(c);
	/* A server may send its first message in the same record as the 101. */
	if (c->state == CONN_OPEN && used < len)
		pq_conn_feed_ws(c, in + used, len - used);
}
