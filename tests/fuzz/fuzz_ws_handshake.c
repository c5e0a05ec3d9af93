/*
 * fuzz_ws_handshake.c - libFuzzer target for the opening handshake
 * (ws_handshake.h).
 *
 * Input: byte 0 = mode (bit 0: 0 request parser, 1 response verifier) and
 * chunk size (bits 1-7); in response mode the next 16 bytes are the nonce;
 * the rest is fed to a reader in chunks.
 * Checks: no crash; the reader never holds more than the cap and never
 * consumes past the end of the header; a refused request gets a status we
 * can answer; an accepted request's 101 response passes the client's own
 * verification for the nonce its key encodes; the verifier returns only
 * its documented codes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/ws_handshake.h"
#include "fuzz/fuzz.h"

static int feed(struct pq_ws_hs_reader *r, const uint8_t *in, size_t len, size_t chunk)
{
	size_t off = 0;
	int rc = 0;

	pq_ws_hs_reader_init(r);
	while (off < len) {
		size_t part = len - off < chunk ? len - off : chunk, used;

		rc = pq_ws_hs_reader_feed(r, in + off, part, &used);
		CHECK(used <= part && r->len <= PQ_WS_HS_MAX_HEADER);
		off += used;
		if (rc != 0) {
			CHECK(rc == 1 || rc == PQ_E_TOOBIG);
			if (rc == 1) /* stopped exactly at CRLF CRLF */
				CHECK(r->len >= 4 && !memcmp(r->buf + r->len - 4, "\r\n\r\n", 4));
			break;
		}
		CHECK(used == part);
	}
	return rc;
}

static int b64v(char c)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(a, c);

	return c && p ? (int)(p - a) : -1;
}

/* The key was checked canonical: 22 symbols + "==" -> 16 bytes. */
static void key_to_nonce(uint8_t nonce[16], const char *key)
{
	uint32_t acc = 0;
	int bits = 0, o = 0;

	for (int i = 0; i < 22; i++) {
		int v = b64v(key[i]);

		CHECK(v >= 0);
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			nonce[o++] = (uint8_t)(acc >> bits);
		}
	}
	CHECK(o == 16);
}

static void fuzz_request(const uint8_t *in, size_t len, size_t chunk)
{
	static struct pq_ws_hs_reader r, cr;
	static char out[1024];
	struct pq_ws_hs_request req;
	uint8_t nonce[16];
	int status = 0, rc;
	long n;
	size_t used;

	if (feed(&r, in, len, chunk) != 1)
		return;
	rc = pq_ws_hs_parse_request(&r, &req, &status);
	if (rc != 0) {
		CHECK(rc == PQ_E_DECODE);
		CHECK(pq_ws_hs_build_error(out, sizeof(out), status) > 0);
		return;
	}
	CHECK(status == 101 && req.path[0] == '/' && req.host[0]);
	CHECK(strlen(req.key) == PQ_WS_KEY_B64_LEN);
	n = pq_ws_hs_build_response(out, sizeof(out), &req);
	CHECK(n > 0);
	key_to_nonce(nonce, req.key);
	pq_ws_hs_reader_init(&cr);
	CHECK(pq_ws_hs_reader_feed(&cr, (const uint8_t *)out, (size_t)n, &used) == 1);
	CHECK(pq_ws_hs_verify_response(&cr, nonce) == 0);
}

static void fuzz_response(const uint8_t *in, size_t len, size_t chunk)
{
	static struct pq_ws_hs_reader r;
	uint8_t nonce[16];
	int rc;

	if (len < 16)
		return;
	memcpy(nonce, in, 16);
	if (feed(&r, in + 16, len - 16, chunk) != 1)
		return;
	rc = pq_ws_hs_verify_response(&r, nonce);
	CHECK(rc == 0 || rc == PQ_E_DECODE || rc == PQ_E_AUTH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] >> 1) + 1;
	if (data[0] & 1)
		fuzz_response(data + 1, size - 1, chunk);
	else
		fuzz_request(data + 1, size - 1, chunk);
	return 0;
}
