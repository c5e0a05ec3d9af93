/*
 * test_ws_handshake.c - RFC 6455 §4 opening handshake: the RFC's example
 * key, a table of requests with the HTTP status each must get, the header
 * size cap, responses the client must refuse, and a full round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/ws_handshake.h"

/* RFC 6455 §1.3 / §4.1: "the sample nonce" is the 16 bytes whose base64 is
 * the example key. */
static const uint8_t SAMPLE_NONCE[16] = "the sample nonce";
#define SAMPLE_KEY "dGhlIHNhbXBsZSBub25jZQ=="
/* RFC 6455 §1.3 prints s3pPLMBiTxaQ9kYGzzhZRbK+xOo=; `printf %s KEY GUID | openssl
 * sha1 -binary | base64` agrees. */
#define SAMPLE_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* Feed s one byte at a time; returns the reader's last result. */
static int feed_bytewise(struct pq_ws_hs_reader *r, const char *s, size_t len, size_t *total)
{
	int rc = 0;

	*total = 0;
	for (size_t i = 0; i < len; i++) {
		size_t used;

		rc = pq_ws_hs_reader_feed(r, (const uint8_t *)s + i, 1, &used);
		*total += used;
		if (rc != 0)
			break;
	}
	return rc;
}

static void test_accept_rfc_example(void **state)
{
	char out[PQ_WS_ACCEPT_B64_LEN + 1];

	assert_int_equal(pq_ws_hs_accept(out, SAMPLE_KEY, strlen(SAMPLE_KEY)), 0);
	assert_string_equal(out, SAMPLE_ACCEPT);
	printf("checked: 1 RFC 6455 accept vector\n");
}

#define REQ_HEAD "GET /chat HTTP/1.1\r\n"
#define F_HOST "Host: server.example.com\r\n"
#define F_UPG "Upgrade: websocket\r\n"
#define F_CONN "Connection: Upgrade\r\n"
#define F_KEY "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n"
#define F_VER "Sec-WebSocket-Version: 13\r\n"
#define GOOD_FIELDS F_HOST F_UPG F_CONN F_KEY F_VER

static const struct {
	const char *name, *req;
	int status;
} req_cases[] = {
	{"RFC example", REQ_HEAD GOOD_FIELDS "\r\n", 101},
	{"field order and case", "GET /chat HTTP/1.1\r\nsec-websocket-version:13\r\n"
	 "CONNECTION: keep-alive, Upgrade\r\nupgrade: WebSocket\r\nHOST:server.example.com\r\n"
	 F_KEY "\r\n", 101},
	{"connection list, no spaces", REQ_HEAD F_HOST F_UPG "Connection: keep-alive,upgrade\r\n"
	 F_KEY F_VER "\r\n", 101},
	{"upgrade list", REQ_HEAD F_HOST "Upgrade: h2c, websocket\r\n" F_CONN F_KEY F_VER "\r\n",
	 101},
	{"connection in two fields", REQ_HEAD F_HOST F_UPG "Connection: keep-alive\r\n"
	 "Connection: Upgrade\r\n" F_KEY F_VER "\r\n", 101},
	{"extra fields and OWS", REQ_HEAD F_HOST F_UPG F_CONN "Sec-WebSocket-Key: \t" SAMPLE_KEY
	 " \r\n" F_VER "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat\r\n"
	 "X-Other: \x80\xff\r\n\r\n", 101},
	{"POST", "POST /chat HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 405},
	{"lower-case get", "get /chat HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 405},
	{"HTTP/1.0", "GET /chat HTTP/1.0\r\n" GOOD_FIELDS "\r\n", 505},
	{"HTTP/2.0", "GET /chat HTTP/2.0\r\n" GOOD_FIELDS "\r\n", 505},
	{"no version", "GET /chat\r\n" GOOD_FIELDS "\r\n", 400},
	{"bad version", "GET /chat HTTP/1.1x\r\n" GOOD_FIELDS "\r\n", 400},
	{"double space", "GET  /chat HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 400},
	{"trailing space", "GET /chat HTTP/1.1 \r\n" GOOD_FIELDS "\r\n", 400},
	{"relative target", "GET chat HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 400},
	{"absolute target", "GET http://x/chat HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 400},
	{"empty request line", "\r\n" GOOD_FIELDS "\r\n", 400},
	{"no Host", REQ_HEAD F_UPG F_CONN F_KEY F_VER "\r\n", 400},
	{"two Hosts", REQ_HEAD F_HOST F_HOST F_UPG F_CONN F_KEY F_VER "\r\n", 400},
	{"empty Host", REQ_HEAD "Host: \r\n" F_UPG F_CONN F_KEY F_VER "\r\n", 400},
	{"plain HTTP GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 426},
	{"no Upgrade", REQ_HEAD F_HOST F_CONN F_KEY F_VER "\r\n", 426},
	{"Upgrade h2c", REQ_HEAD F_HOST "Upgrade: h2c\r\n" F_CONN F_KEY F_VER "\r\n", 426},
	{"Upgrade websockets", REQ_HEAD F_HOST "Upgrade: websockets\r\n" F_CONN F_KEY F_VER "\r\n",
	 426},
	{"no Connection", REQ_HEAD F_HOST F_UPG F_KEY F_VER "\r\n", 426},
	{"Connection keep-alive", REQ_HEAD F_HOST F_UPG "Connection: keep-alive\r\n" F_KEY F_VER
	 "\r\n", 426},
	{"Connection upgraded", REQ_HEAD F_HOST F_UPG "Connection: upgraded\r\n" F_KEY F_VER "\r\n",
	 426},
	{"version 8", REQ_HEAD F_HOST F_UPG F_CONN F_KEY "Sec-WebSocket-Version: 8\r\n\r\n", 426},
	{"no version field", REQ_HEAD F_HOST F_UPG F_CONN F_KEY "\r\n", 426},
	{"version list", REQ_HEAD F_HOST F_UPG F_CONN F_KEY "Sec-WebSocket-Version: 13, 8\r\n\r\n",
	 426},
	{"two version fields", REQ_HEAD F_HOST F_UPG F_CONN F_KEY F_VER F_VER "\r\n", 426},
	{"no key", REQ_HEAD F_HOST F_UPG F_CONN F_VER "\r\n", 400},
	{"two keys", REQ_HEAD F_HOST F_UPG F_CONN F_KEY F_KEY F_VER "\r\n", 400},
	{"key of 15 bytes", REQ_HEAD F_HOST F_UPG F_CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n"
	 F_VER "\r\n", 400},
	{"key of 17 bytes", REQ_HEAD F_HOST F_UPG F_CONN
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQA=\r\n" F_VER "\r\n", 400},
	{"key not canonical", REQ_HEAD F_HOST F_UPG F_CONN
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n" F_VER "\r\n", 400},
	{"key bad symbol", REQ_HEAD F_HOST F_UPG F_CONN
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!==\r\n" F_VER "\r\n", 400},
	{"key url-safe alphabet", REQ_HEAD F_HOST F_UPG F_CONN
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j_Q==\r\n" F_VER "\r\n", 400},
	{"bare LF", REQ_HEAD "Host: server.example.com\n" F_UPG F_CONN F_KEY F_VER "\r\n", 400},
	{"bare CR", REQ_HEAD "Host: server\r.example.com\r\n" F_UPG F_CONN F_KEY F_VER "\r\n", 400},
	{"control byte", REQ_HEAD "Host: server\x01.example.com\r\n" F_UPG F_CONN F_KEY F_VER "\r\n",
	 400},
	{"DEL byte", REQ_HEAD "Host: server\x7f\r\n" F_UPG F_CONN F_KEY F_VER "\r\n", 400},
	{"obs-fold", REQ_HEAD F_HOST F_UPG "Connection: keep-alive,\r\n Upgrade\r\n" F_KEY F_VER
	 "\r\n", 400},
	{"space before colon", REQ_HEAD "Host : server.example.com\r\n" F_UPG F_CONN F_KEY F_VER
	 "\r\n", 400},
	{"no colon", REQ_HEAD F_HOST "Upgrade websocket\r\n" F_CONN F_KEY F_VER "\r\n", 400},
	{"empty name", REQ_HEAD F_HOST ": x\r\n" F_UPG F_CONN F_KEY F_VER "\r\n", 400},
	{"Content-Length 0", REQ_HEAD GOOD_FIELDS "Content-Length: 0\r\n\r\n", 101},
	{"a body", REQ_HEAD GOOD_FIELDS "Content-Length: 5\r\n\r\n", 400},
	{"chunked body", REQ_HEAD GOOD_FIELDS "Transfer-Encoding: chunked\r\n\r\n", 400},
};

static void test_request_table(void **state)
{
	int checked = 0;

	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		struct pq_ws_hs_reader r;
		struct pq_ws_hs_request req;
		size_t len = strlen(req_cases[i].req), used;
		int status = 0, rc;

		pq_ws_hs_reader_init(&r);
		assert_int_equal(feed_bytewise(&r, req_cases[i].req, len, &used), 1);
		assert_int_equal(used, len);
		rc = pq_ws_hs_parse_request(&r, &req, &status);
		if (status != req_cases[i].status || (rc == 0) != (status == 101))
			fail_msg("%s: rc=%d status=%d, want %d", req_cases[i].name, rc, status,
				 req_cases[i].status);
		if (status == 101) {
			assert_string_equal(req.path, "/chat");
			assert_string_equal(req.host, "server.example.com");
			assert_string_equal(req.key, SAMPLE_KEY);
		}
		checked++;
	}
	printf("checked: %d request cases\n", checked);
}

/* A NUL inside the header is refused (strings cannot show it). */
static void test_request_nul(void **state)
{
	static const char req[] = REQ_HEAD "Host: a\0b\r\n" F_UPG F_CONN F_KEY F_VER "\r\n";
	struct pq_ws_hs_reader r;
	struct pq_ws_hs_request out;
	size_t used;
	int status;

	pq_ws_hs_reader_init(&r);
	assert_int_equal(pq_ws_hs_reader_feed(&r, (const uint8_t *)req, sizeof(req) - 1, &used), 1);
	assert_int_equal(pq_ws_hs_parse_request(&r, &out, &status), PQ_E_DECODE);
	assert_int_equal(status, 400);
	printf("checked: 1 NUL case\n");
}

/* The reader stops at the blank line; what follows is WebSocket data. */
static void test_reader_stops_at_end(void **state)
{
	static const char req[] = REQ_HEAD GOOD_FIELDS "\r\n" "\x82\x80WSDATA";
	size_t hdr_len = strlen(REQ_HEAD GOOD_FIELDS "\r\n"), used;
	struct pq_ws_hs_reader r;
	struct pq_ws_hs_request out;
	int status;

	/* all at once */
	pq_ws_hs_reader_init(&r);
	assert_int_equal(pq_ws_hs_reader_feed(&r, (const uint8_t *)req, sizeof(req) - 1, &used), 1);
	assert_int_equal(used, hdr_len);
	/* once complete, nothing more is taken */
	assert_int_equal(pq_ws_hs_reader_feed(&r, (const uint8_t *)req, 4, &used), 1);
	assert_int_equal(used, 0);
	assert_int_equal(pq_ws_hs_parse_request(&r, &out, &status), 0);
	/* in two pieces split inside the final CRLF CRLF */
	pq_ws_hs_reader_init(&r);
	assert_int_equal(pq_ws_hs_reader_feed(&r, (const uint8_t *)req, hdr_len - 2, &used), 0);
	assert_int_equal(used, hdr_len - 2);
	assert_int_equal(pq_ws_hs_reader_feed(&r, (const uint8_t *)req + hdr_len - 2,
					      sizeof(req) - 1 - (hdr_len - 2), &used), 1);
	assert_int_equal(used, 2);
	assert_int_equal(pq_ws_hs_parse_request(&r, &out, &status), 0);
	/* parsing an incomplete header is refused */
	pq_ws_hs_reader_init(&r);
	assert_int_equal(pq_ws_hs_reader_feed(&r, (const uint8_t *)req, 10, &used), 0);
	assert_int_equal(pq_ws_hs_parse_request(&r, &out, &status), PQ_E_DECODE);
	assert_int_equal(status, 400);
	printf("checked: 3 reader boundary cases\n");
}

/* Exactly 8192 bytes is accepted; 8193 is refused (431), whatever the split. */
static void test_header_cap(void **state)
{
	static char big[PQ_WS_HS_MAX_HEADER + 64];
	const char *head = REQ_HEAD GOOD_FIELDS "X-Pad: ";
	size_t hl = strlen(head);
	int checked = 0;

	for (size_t total = PQ_WS_HS_MAX_HEADER; total <= PQ_WS_HS_MAX_HEADER + 1; total++) {
		size_t pad = total - hl - 4, used;
		struct pq_ws_hs_reader r;
		struct pq_ws_hs_request req;
		int status, rc;

		memcpy(big, head, hl);
		memset(big + hl, 'a', pad);
		memcpy(big + hl + pad, "\r\n\r\n", 4);
		assert_int_equal(strlen(head) + pad + 4, total);
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			pq_ws_hs_reader_init(&r);
			if (bytewise)
				rc = feed_bytewise(&r, big, total, &used);
			else
				rc = pq_ws_hs_reader_feed(&r, (const uint8_t *)big, total, &used);
			if (total == PQ_WS_HS_MAX_HEADER) {
				assert_int_equal(rc, 1);
				assert_int_equal(pq_ws_hs_parse_request(&r, &req, &status), 0);
			} else {
				assert_int_equal(rc, PQ_E_TOOBIG);
				assert_true(r.len <= PQ_WS_HS_MAX_HEADER);
				/* sticky */
				assert_int_equal(pq_ws_hs_reader_feed(&r, (const uint8_t *)"\r\n", 2,
								      &used), PQ_E_TOOBIG);
			}
			checked++;
		}
	}
	printf("checked: %d header-cap cases\n", checked);
}

static void test_build_request(void **state)
{
	static const char want[] = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"
				   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				   "Sec-WebSocket-Key: " SAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n";
	char out[512];
	int checked = 0;

	assert_int_equal(pq_ws_hs_build_request(out, sizeof(out), "server.example.com", "/chat",
						SAMPLE_NONCE), (long)strlen(want));
	assert_string_equal(out, want);
	checked++;
	assert_int_equal(pq_ws_hs_build_request(out, strlen(want), "server.example.com", "/chat",
						SAMPLE_NONCE), PQ_E_TOOBIG);
	checked++;
	{
		static const struct {
			const char *host, *path;
		} bad[] = {
			{"", "/"}, {"a b", "/"}, {"a\r\nX: y", "/"}, {"h", "chat"}, {"h", ""},
			{"h", "/a b"}, {"h", "/\n"}, {NULL, "/"}, {"h", NULL}, {"h\x80", "/"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++, checked++)
			assert_int_equal(pq_ws_hs_build_request(out, sizeof(out), bad[i].host,
								bad[i].path, SAMPLE_NONCE),
					 PQ_E_INVAL);
	}
	printf("checked: %d request-builder cases\n", checked);
}

#define RESP_OK "HTTP/1.1 101 Switching Protocols\r\n"
#define R_UPG "Upgrade: websocket\r\n"
#define R_CONN "Connection: Upgrade\r\n"
#define R_ACC "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "\r\n"

static const struct {
	const char *name, *resp;
	int rc;
} resp_cases[] = {
	{"RFC example", RESP_OK R_UPG R_CONN R_ACC "\r\n", 0},
	{"no reason phrase", "HTTP/1.1 101\r\n" R_UPG R_CONN R_ACC "\r\n", 0},
	{"case and OWS", RESP_OK "upgrade:WebSocket\r\nconnection:  upgrade \r\n"
	 "sec-websocket-accept: " SAMPLE_ACCEPT "\t\r\nServer: x\r\n\r\n", 0},
	{"200", "HTTP/1.1 200 OK\r\n" R_UPG R_CONN R_ACC "\r\n", PQ_E_DECODE},
	{"1010", "HTTP/1.1 1010 x\r\n" R_UPG R_CONN R_ACC "\r\n", PQ_E_DECODE},
	{"HTTP/1.0", "HTTP/1.0 101 Switching Protocols\r\n" R_UPG R_CONN R_ACC "\r\n", PQ_E_DECODE},
	{"426", "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n", PQ_E_DECODE},
	{"no Upgrade", RESP_OK R_CONN R_ACC "\r\n", PQ_E_DECODE},
	{"no Connection", RESP_OK R_UPG R_ACC "\r\n", PQ_E_DECODE},
	{"no accept", RESP_OK R_UPG R_CONN "\r\n", PQ_E_DECODE},
	{"two accepts", RESP_OK R_UPG R_CONN R_ACC R_ACC "\r\n", PQ_E_DECODE},
	{"extension we never asked for", RESP_OK R_UPG R_CONN R_ACC
	 "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", PQ_E_DECODE},
	{"subprotocol we never asked for", RESP_OK R_UPG R_CONN R_ACC
	 "Sec-WebSocket-Protocol: chat\r\n\r\n", PQ_E_DECODE},
	{"bare LF", RESP_OK "Upgrade: websocket\n" R_CONN R_ACC "\r\n", PQ_E_DECODE},
	{"wrong accept", RESP_OK R_UPG R_CONN "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOp=\r\n"
	 "\r\n", PQ_E_AUTH},
	{"accept with junk", RESP_OK R_UPG R_CONN "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "x\r\n\r\n",
	 PQ_E_AUTH},
	{"accept truncated", RESP_OK R_UPG R_CONN "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGz\r\n\r\n",
	 PQ_E_AUTH},
	{"accept of the key itself", RESP_OK R_UPG R_CONN "Sec-WebSocket-Accept: " SAMPLE_KEY
	 "\r\n\r\n", PQ_E_AUTH},
};

static void test_response_table(void **state)
{
	int checked = 0;

	for (size_t i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		struct pq_ws_hs_reader r;
		size_t len = strlen(resp_cases[i].resp), used;
		int rc;

		pq_ws_hs_reader_init(&r);
		assert_int_equal(feed_bytewise(&r, resp_cases[i].resp, len, &used), 1);
		rc = pq_ws_hs_verify_response(&r, SAMPLE_NONCE);
		if (rc != resp_cases[i].rc)
			fail_msg("%s: rc=%d, want %d", resp_cases[i].name, rc, resp_cases[i].rc);
		checked++;
	}
	printf("checked: %d response cases\n", checked);
}

static void test_build_error(void **state)
{
	static const int statuses[] = {400, 405, 426, 431, 505};
	char out[512];
	int checked = 0;

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++, checked++) {
		char head[16], *body;
		long n = pq_ws_hs_build_error(out, sizeof(out), statuses[i]);
		unsigned long clen;

		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(out));
		snprintf(head, sizeof(head), "HTTP/1.1 %d ", statuses[i]);
		assert_memory_equal(out, head, strlen(head));
		assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
		assert_non_null(strstr(out, "Content-Length: "));
		body = strstr(out, "\r\n\r\n");
		assert_non_null(body);
		assert_int_equal(sscanf(strstr(out, "Content-Length: "), "Content-Length: %lu", &clen),
				 1);
		assert_int_equal(clen, strlen(body + 4));
		if (statuses[i] == 426) {
			assert_non_null(strstr(out, "\r\nSec-WebSocket-Version: 13\r\n"));
			assert_non_null(strstr(out, "\r\nUpgrade: websocket\r\n"));
		}
		assert_int_equal(pq_ws_hs_build_error(out, (size_t)n, statuses[i]), PQ_E_TOOBIG);
	}
	assert_int_equal(pq_ws_hs_build_error(out, sizeof(out), 200), PQ_E_INVAL);
	assert_int_equal(pq_ws_hs_build_error(out, sizeof(out), 101), PQ_E_INVAL);
	checked += 2;
	printf("checked: %d error responses\n", checked);
}

/* Client request -> server (byte at a time) -> 101 -> client verifies;
 * a response made for another nonce is refused. */
static void test_round_trip(void **state)
{
	static const char want_resp[] = RESP_OK R_UPG R_CONN R_ACC "\r\n";
	uint8_t nonce[16], other[16];
	char req_buf[512], resp_buf[512];
	struct pq_ws_hs_reader sr, cr;
	struct pq_ws_hs_request req;
	int status, checked = 0;
	long n;
	size_t used;

	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 16; i++) {
			nonce[i] = (uint8_t)(round * 37 + i * 11);
			other[i] = (uint8_t)(nonce[i] ^ (i == round % 16));
		}
		if (round == 0)
			memcpy(nonce, SAMPLE_NONCE, 16);
		n = pq_ws_hs_build_request(req_buf, sizeof(req_buf), "relay.example:443", "/pqlan",
					   nonce);
		assert_true(n > 0);
		pq_ws_hs_reader_init(&sr);
		assert_int_equal(feed_bytewise(&sr, req_buf, (size_t)n, &used), 1);
		assert_int_equal(pq_ws_hs_parse_request(&sr, &req, &status), 0);
		assert_int_equal(status, 101);
		assert_string_equal(req.path, "/pqlan");
		assert_string_equal(req.host, "relay.example:443");
		n = pq_ws_hs_build_response(resp_buf, sizeof(resp_buf), &req);
		assert_true(n > 0);
		if (round == 0)
			assert_string_equal(resp_buf, want_resp);
		assert_int_equal(pq_ws_hs_build_response(resp_buf, (size_t)n, &req), PQ_E_TOOBIG);
		n = pq_ws_hs_build_response(resp_buf, sizeof(resp_buf), &req);
		pq_ws_hs_reader_init(&cr);
		assert_int_equal(pq_ws_hs_reader_feed(&cr, (const uint8_t *)resp_buf, (size_t)n, &used),
				 1);
		assert_int_equal(pq_ws_hs_verify_response(&cr, nonce), 0);
		pq_ws_hs_reader_init(&cr);
		assert_int_equal(pq_ws_hs_reader_feed(&cr, (const uint8_t *)resp_buf, (size_t)n, &used),
				 1);
		assert_int_equal(pq_ws_hs_verify_response(&cr, other), PQ_E_AUTH);
		checked += 2;
	}
	printf("checked: %d round trips (accepted and wrong-nonce)\n", checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_rfc_example),
		cmocka_unit_test(test_request_table),
		cmocka_unit_test(test_request_nul),
		cmocka_unit_test(test_reader_stops_at_end),
		cmocka_unit_test(test_header_cap),
		cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_response_table),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
