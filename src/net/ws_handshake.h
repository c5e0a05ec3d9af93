/*
 * ws_handshake.h - the HTTP/1.1 Upgrade that opens a WebSocket
 * (RFC 6455 §4), sans I/O.
 *
 * Client: pq_ws_hs_build_request() writes the GET request from a caller-
 * supplied 16-byte random nonce; the response is accumulated with a
 * pq_ws_hs_reader and checked by pq_ws_hs_verify_response() (101 status,
 * Upgrade/Connection tokens, Sec-WebSocket-Accept, no extension or
 * subprotocol we did not ask for - §4.1 client requirements 1-6).
 *
 * Server: the request is accumulated with a pq_ws_hs_reader (hard cap
 * PQ_WS_HS_MAX_HEADER bytes, 431 beyond), checked by
 * pq_ws_hs_parse_request() (§4.2.1), answered with
 * pq_ws_hs_build_response() (101, §4.2.2) or pq_ws_hs_build_error().
 *
 * The reader consumes bytes only up to the blank line that ends the
 * header, so bytes that follow belong to the WebSocket stream. Lines must
 * end in CRLF; obsolete line folding, bare CR/LF, NUL and other control
 * bytes are refused (RFC 9112 §2.2, §5.2). Parsed strings point into the
 * reader's buffer and live as long as it.
 */
#ifndef PQ_NET_WS_HANDSHAKE_H
#define PQ_NET_WS_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PQ_WS_KEY_LEN 16         /* raw Sec-WebSocket-Key nonce (§4.1) */
#define PQ_WS_KEY_B64_LEN 24     /* its base64 form */
#define PQ_WS_ACCEPT_B64_LEN 28  /* base64 of a SHA-1 digest */
#define PQ_WS_HS_MAX_HEADER 8192 /* request line + fields + blank line */

struct pq_ws_hs_reader {
	char buf[PQ_WS_HS_MAX_HEADER + 1]; /* +1: parsing NUL-terminates in place */
	size_t len;
	int complete;
};

void pq_ws_hs_reader_init(struct pq_ws_hs_reader *r);

/*
 * Take bytes until the header's final CRLF CRLF; *used says how many.
 * Returns 1 when the header is complete (later bytes are not consumed),
 * 0 when more is needed, PQ_E_TOOBIG when the header would exceed
 * PQ_WS_HS_MAX_HEADER (answer 431).
 */
PQ_MUST_CHECK int pq_ws_hs_reader_feed(struct pq_ws_hs_reader *r, const uint8_t *in, size_t len,
				       size_t *used);

struct pq_ws_hs_request {
	const char *path; /* request-target, origin-form ("/...") */
	const char *host;
	char key[PQ_WS_KEY_B64_LEN + 1]; /* Sec-WebSocket-Key as sent */
};

/*
 * Check a complete request (§4.2.1): GET, HTTP/1.1, Host, Upgrade
 * containing "websocket", Connection containing "Upgrade" (tokens
 * case-insensitive, comma lists), Sec-WebSocket-Version 13, a
 * Sec-WebSocket-Key that is canonical base64 of 16 bytes. Returns 0, or a
 * negative code with *status set to the HTTP status to answer:
 *   400 malformed, missing Host/key, bad key, repeated field, a body
 *       announced (Content-Length other than 0, Transfer-Encoding)
 *   405 method not GET
 *   426 not a WebSocket upgrade, or version not 13
 *   505 not HTTP/1.1
 * Parsing modifies the reader's buffer (fields are NUL-terminated).
 */
PQ_MUST_CHECK int pq_ws_hs_parse_request(struct pq_ws_hs_reader *r, struct pq_ws_hs_request *req,
					 int *status);

/* Sec-WebSocket-Accept for a key (§4.2.2 item 5.4): base64(SHA-1(key ‖
 * 258EAFA5-E914-47DA-95CA-C5AB0DC85B11)). out gets 28 chars and a NUL. */
PQ_MUST_CHECK int pq_ws_hs_accept(char out[PQ_WS_ACCEPT_B64_LEN + 1], const char *key,
				  size_t key_len);

/* The 101 response for a parsed request. Returns its length, PQ_E_TOOBIG
 * if cap is short, PQ_E_CRYPTO if SHA-1 fails. */
PQ_MUST_CHECK long pq_ws_hs_build_response(char *out, size_t cap,
					   const struct pq_ws_hs_request *req);

/* A complete refusal (400, 405, 426, 431 or 505) with Connection: close;
 * 426 also names the upgrade and version we accept. PQ_E_INVAL for
 * another status. */
PQ_MUST_CHECK long pq_ws_hs_build_error(char *out, size_t cap, int status);

/* The client's GET request. host and path must be printable ASCII without
 * spaces, path must start with '/'. Returns the length, PQ_E_INVAL or
 * PQ_E_TOOBIG. */
PQ_MUST_CHECK long pq_ws_hs_build_request(char *out, size_t cap, const char *host,
					  const char *path, const uint8_t nonce[PQ_WS_KEY_LEN]);

/* Check a complete response against the nonce we sent. 0, PQ_E_DECODE
 * (malformed, not 101, missing or wrong tokens, an extension or
 * subprotocol we never asked for), PQ_E_AUTH (wrong accept value), or
 * PQ_E_CRYPTO. Modifies the reader's buffer. */
PQ_MUST_CHECK int pq_ws_hs_verify_response(struct pq_ws_hs_reader *r,
					   const uint8_t nonce[PQ_WS_KEY_LEN]);

#endif
