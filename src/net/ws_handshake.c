/*
 * ws_handshake.c - RFC 6455 §4 opening handshake: build and check the
 * HTTP/1.1 Upgrade request and its 101 response. See ws_handshake.h.
 *
 * SHA-1 for Sec-WebSocket-Accept comes from OpenSSL's EVP here (the lead
 * allowed src/net this one OpenSSL use rather than widening crypto/hash.h);
 * SHA-1 is not used for any security property, only as RFC 6455's proof
 * that the server understood the WebSocket request.
 */
#include "net/ws_handshake.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "crypto/util.h"

/* RFC 6455 §1.3 */
static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define SHA1_LEN 20

/* ---- base64 (RFC 4648 §4) ---- */

/* out must hold 4 * ceil(len / 3) + 1 bytes. */
static void b64_encode(char *out, const uint8_t *in, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = B64[(v >> 18) & 63];
		out[o++] = B64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? B64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? B64[v & 63] : '=';
	}
	out[o] = '\0';
}

static int b64_value(char c)
{
	const char *p = c ? strchr(B64, c) : NULL;

	return p ? (int)(p - B64) : -1;
}

/* True when s is the canonical base64 of exactly 16 bytes: 22 symbols,
 * the last carrying only 2 data bits, then "==". */
static bool key_is_canonical(const char *s)
{
	int v;

	if (strlen(s) != PQ_WS_KEY_B64_LEN || strcmp(s + 22, "==") != 0)
		return false;
	for (int i = 0; i < 22; i++)
		if (b64_value(s[i]) < 0)
			return false;
	v = b64_value(s[21]);
	return (v & 0x0f) == 0;
}

int pq_ws_hs_accept(char out[PQ_WS_ACCEPT_B64_LEN + 1], const char *key, size_t key_len)
{
	uint8_t buf[64 + sizeof(WS_GUID)], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!out || !key || key_len > 64)
		return PQ_E_INVAL;
	memcpy(buf, key, key_len);
	memcpy(buf + key_len, WS_GUID, sizeof(WS_GUID) - 1);
	if (EVP_Digest(buf, key_len + sizeof(WS_GUID) - 1, md, &md_len, EVP_sha1(), NULL) != 1 ||
	    md_len != SHA1_LEN)
		return PQ_E_CRYPTO;
	b64_encode(out, md, SHA1_LEN);
	return 0;
}

/* ---- reader ---- */

void pq_ws_hs_reader_init(struct pq_ws_hs_reader *r)
{
	memset(r, 0, sizeof(*r));
}

int pq_ws_hs_reader_feed(struct pq_ws_hs_reader *r, const uint8_t *in, size_t len, size_t *used)
{
	size_t i = 0;

	*used = 0;
	while (!r->complete && i < len) {
		if (r->len == PQ_WS_HS_MAX_HEADER)
			return PQ_E_TOOBIG; /* RFC 6585 §5: 431 */
		r->buf[r->len++] = (char)in[i++];
		if (r->len >= 4 && memcmp(r->buf + r->len - 4, "\r\n\r\n", 4) == 0)
			r->complete = 1;
	}
	*used = i;
	r->buf[r->len] = '\0';
	return r->complete;
}

/* ---- header parsing (RFC 9112 §2-§5, RFC 9110 §5) ---- */

struct fields {
	const char *host, *key, *version, *accept;
	int n_host, n_key, n_version, n_accept;
	bool upgrade_ws, conn_upgrade, has_ext, has_proto, has_body;
};

/* Every CR is followed by LF, every LF follows a CR, and no other control
 * byte (save HTAB) appears. Then CRLFs are turned into NULs, so each line
 * is a string. */
static bool split_lines(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r') {
			if (i + 1 >= len || buf[i + 1] != '\n')
				return false;
			buf[i] = buf[i + 1] = '\0';
			i++;
		} else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f) {
			return false;
		}
	}
	return true;
}

static bool is_tchar(char c)
{
	/* RFC 9110 §5.6.2 */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char *trim_ows(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Does the comma-separated list contain token (case-insensitive)? */
static bool list_has(const char *list, const char *token)
{
	size_t tlen = strlen(token);

	while (*list) {
		const char *end;
		size_t n;

		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		end = list;
		while (*end && *end != ',')
			end++;
		n = (size_t)(end - list);
		while (n && (list[n - 1] == ' ' || list[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(list, token, tlen) == 0)
			return true;
		list = end;
	}
	return false;
}

static void note_field(struct fields *f, const char *name, const char *value)
{
	if (!strcasecmp(name, "host")) {
		f->host = value;
		f->n_host++;
	} else if (!strcasecmp(name, "sec-websocket-key")) {
		f->key = value;
		f->n_key++;
	} else if (!strcasecmp(name, "sec-websocket-version")) {
		f->version = value;
		f->n_version++;
	} else if (!strcasecmp(name, "sec-websocket-accept")) {
		f->accept = value;
		f->n_accept++;
	} else if (!strcasecmp(name, "upgrade")) {
		f->upgrade_ws |= list_has(value, "websocket");
	} else if (!strcasecmp(name, "connection")) {
		f->conn_upgrade |= list_has(value, "upgrade");
	} else if (!strcasecmp(name, "sec-websocket-extensions")) {
		f->has_ext = true;
	} else if (!strcasecmp(name, "sec-websocket-protocol")) {
		f->has_proto = true;
	} else if (!strcasecmp(name, "transfer-encoding") ||
		   (!strcasecmp(name, "content-length") && strcmp(value, "0") != 0)) {
		f->has_body = true;
	}
}

/* Walk the field lines after the start line (p) up to the empty line.
 * false on a malformed line. */
static bool parse_fields(char *p, const char *end, struct fields *f)
{
	memset(f, 0, sizeof(*f));
	while (p < end && *p) {
		char *line = p, *colon = strchr(line, ':');

		p += strlen(line) + 2;
		/* §5.1: no whitespace between name and colon; §5.2: no folding */
		if (!colon || colon == line)
			return false;
		for (char *c = line; c < colon; c++)
			if (!is_tchar(*c))
				return false;
		*colon = '\0';
		note_field(f, line, trim_ows(colon + 1));
	}
	return p < end; /* stopped on the empty line, not past the buffer */
}

/* ---- server side ---- */

/* request-line = method SP request-target SP HTTP-version (RFC 9112 §3).
 * Returns the HTTP status to answer, or 0 when it is a GET for HTTP/1.1. */
static int parse_request_line(char *line, const char **target)
{
	char *sp1 = strchr(line, ' '), *sp2;
	const char *version;

	if (!sp1 || sp1 == line)
		return 400;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || sp2 == sp1 + 1 || strchr(sp2 + 1, ' '))
		return 400;
	*sp1 = *sp2 = '\0';
	version = sp2 + 1;
	for (const char *c = line; *c; c++)
		if (!is_tchar(*c))
			return 400;
	for (const char *c = sp1 + 1; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f)
			return 400;
	if (strncmp(version, "HTTP/", 5) != 0 || strlen(version) != 8 || version[6] != '.' ||
	    version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
		return 400;
	if (strcmp(line, "GET") != 0)
		return 405; /* §4.2.1 item 1 */
	if (strcmp(version, "HTTP/1.1") != 0)
		return 505;
	if (sp1[1] != '/')
		return 400; /* origin-form only; we are not a proxy */
	*target = sp1 + 1;
	return 0;
}

static int check_request_fields(const struct fields *f)
{
	if (f->n_host != 1 || !*f->host)
		return 400; /* RFC 9112 §3.2: exactly one Host */
	if (f->has_body)
		return 400; /* its body would be read as WebSocket frames */
	if (!f->upgrade_ws || !f->conn_upgrade)
		return 426; /* a plain HTTP request: tell it to upgrade */
	if (f->n_version != 1 || strcmp(f->version, "13") != 0)
		return 426; /* §4.2.2: answer with the version we speak */
	if (f->n_key != 1 || !key_is_canonical(f->key))
		return 400; /* §4.2.1 item 5 */
	return 0;
}

int pq_ws_hs_parse_request(struct pq_ws_hs_reader *r, struct pq_ws_hs_request *req, int *status)
{
	struct fields f;
	const char *target = NULL;
	char *end, *fields;
	int st;

	*status = 400;
	memset(req, 0, sizeof(*req));
	if (!r->complete || !split_lines(r->buf, r->len))
		return PQ_E_DECODE;
	end = r->buf + r->len;
	fields = r->buf + strlen(r->buf) + 2; /* before the request line is cut up */
	st = parse_request_line(r->buf, &target);
	if (st) {
		*status = st;
		return PQ_E_DECODE;
	}
	if (!parse_fields(fields, end, &f))
		return PQ_E_DECODE;
	st = check_request_fields(&f);
	if (st) {
		*status = st;
		return PQ_E_DECODE;
	}
	req->path = target;
	req->host = f.host;
	memcpy(req->key, f.key, PQ_WS_KEY_B64_LEN + 1);
	*status = 101;
	return 0;
}

long pq_ws_hs_build_response(char *out, size_t cap, const struct pq_ws_hs_request *req)
{
	char accept[PQ_WS_ACCEPT_B64_LEN + 1];
	int n, err;

	err = pq_ws_hs_accept(accept, req->key, strlen(req->key));
	if (err)
		return err;
	/* §4.2.2 item 5; no extension or subprotocol is selected */
	n = snprintf(out, cap,
		     "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n"
		     "\r\n",
		     accept);
	return n < 0 || (size_t)n >= cap ? PQ_E_TOOBIG : n;
}

long pq_ws_hs_build_error(char *out, size_t cap, int status)
{
	const char *reason, *extra = "", *body;
	int n;

	switch (status) {
	case 400: reason = "Bad Request"; body = "malformed WebSocket handshake\n"; break;
	case 405:
		reason = "Method Not Allowed";
		extra = "Allow: GET\r\n";
		body = "only GET opens a WebSocket\n";
		break;
	case 426:
		reason = "Upgrade Required";
		extra = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
		body = "this endpoint speaks WebSocket (RFC 6455, version 13) only\n";
		break;
	case 431: reason = "Request Header Fields Too Large"; body = "header over 8192 bytes\n"; break;
	case 505: reason = "HTTP Version Not Supported"; body = "HTTP/1.1 required\n"; break;
	default: return PQ_E_INVAL;
	}
	n = snprintf(out, cap,
		     "HTTP/1.1 %d %s\r\n%sConnection: close\r\n"
		     "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
		     status, reason, extra, strlen(body), body);
	return n < 0 || (size_t)n >= cap ? PQ_E_TOOBIG : n;
}

/* ---- client side ---- */

static bool printable_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

long pq_ws_hs_build_request(char *out, size_t cap, const char *host, const char *path,
			    const uint8_t nonce[PQ_WS_KEY_LEN])
{
	char key[PQ_WS_KEY_B64_LEN + 1];
	int n;

	if (!out || !nonce || !printable_token(host) || !printable_token(path) || path[0] != '/')
		return PQ_E_INVAL;
	b64_encode(key, nonce, PQ_WS_KEY_LEN);
	/* §4.1 client requirements 1-9 (no Origin: we are not a browser) */
	n = snprintf(out, cap,
		     "GET %s HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n"
		     "\r\n",
		     path, host, key);
	return n < 0 || (size_t)n >= cap ? PQ_E_TOOBIG : n;
}

/* status-line = HTTP-version SP status-code SP [reason-phrase]; we accept
 * a missing final SP as many servers send "HTTP/1.1 101". */
static bool status_is_101(const char *line)
{
	return strncmp(line, "HTTP/1.1 101", 12) == 0 && (line[12] == '\0' || line[12] == ' ');
}

int pq_ws_hs_verify_response(struct pq_ws_hs_reader *r, const uint8_t nonce[PQ_WS_KEY_LEN])
{
	char key[PQ_WS_KEY_B64_LEN + 1], want[PQ_WS_ACCEPT_B64_LEN + 1];
	struct fields f;
	int err;

	if (!r->complete || !split_lines(r->buf, r->len) || !status_is_101(r->buf))
		return PQ_E_DECODE;
	if (!parse_fields(r->buf + strlen(r->buf) + 2, r->buf + r->len, &f))
		return PQ_E_DECODE;
	/* §4.1 client requirements for the response, items 2-6 */
	if (!f.upgrade_ws || !f.conn_upgrade || f.n_accept != 1 || f.has_ext || f.has_proto)
		return PQ_E_DECODE;
	b64_encode(key, nonce, PQ_WS_KEY_LEN);
	err = pq_ws_hs_accept(want, key, PQ_WS_KEY_B64_LEN);
	if (err)
		return err;
	if (strlen(f.accept) != PQ_WS_ACCEPT_B64_LEN ||
	    !pq_ct_equal(f.accept, want, PQ_WS_ACCEPT_B64_LEN))
		return PQ_E_AUTH;
	return 0;
}
