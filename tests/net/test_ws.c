/*
 * test_ws.c - the WebSocket frame codec (RFC 6455 §5): every refusal rule
 * with its close code, reassembly under every input split, control frames,
 * the encoder against the RFC's §5.7 examples, and bounded memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/ws.h"
#include "proto/types.h"

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Append one raw frame, with full control over every header field so the
 * tests do not depend on our own encoder. len_form: 0 = as small as
 * possible, 16 / 64 = force that extended form. */
struct raw {
	uint8_t b0;      /* FIN | RSV | opcode */
	int masked;
	int len_form;
	uint64_t len;    /* announced length */
	const uint8_t *payload;
	size_t pay_len;  /* bytes actually appended */
};

static size_t put_raw(uint8_t *out, const struct raw *f)
{
	size_t o = 0;
	uint8_t mbit = f->masked ? 0x80 : 0;

	out[o++] = f->b0;
	if (f->len_form == 64 || (f->len_form == 0 && f->len > 0xffff)) {
		out[o++] = mbit | 127;
		for (int i = 7; i >= 0; i--)
			out[o++] = (uint8_t)(f->len >> (8 * i));
	} else if (f->len_form == 16 || (f->len_form == 0 && f->len >= 126)) {
		out[o++] = mbit | 126;
		out[o++] = (uint8_t)(f->len >> 8);
		out[o++] = (uint8_t)f->len;
	} else {
		out[o++] = (uint8_t)(mbit | f->len);
	}
	if (f->masked) {
		memcpy(out + o, KEY, 4);
		o += 4;
	}
	if (f->pay_len) {
		memcpy(out + o, f->payload, f->pay_len);
		if (f->masked)
			pq_ws_mask(out + o, f->pay_len, KEY, 0);
	}
	return o + f->pay_len;
}

struct got {
	int n;
	enum pq_ws_event_type type[16];
	uint16_t code[16];
	size_t len[16];
	uint8_t *data[16];
};

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->data[i]);
	memset(g, 0, sizeof(*g));
}

/* Feed in chunks of `chunk` bytes, collect events (copied); returns the
 * first negative code or 0. */
static int feed_chunks(struct pq_ws_rx *rx, const uint8_t *in, size_t len, size_t chunk,
		       struct got *g)
{
	size_t off = 0;

	while (off < len) {
		size_t part = len - off < chunk ? len - off : chunk, pos = 0;

		while (pos < part) {
			struct pq_ws_event ev;
			size_t used;
			int r = pq_ws_rx_feed(rx, in + off + pos, part - pos, &used, &ev);

			assert_true(used <= part - pos);
			pos += used;
			if (r < 0) {
				assert_int_equal(ev.type, PQ_WS_EV_FAIL);
				if (g->n < 16) {
					g->type[g->n] = ev.type;
					g->code[g->n++] = ev.close_code;
				}
				return r;
			}
			if (r == 1 && g->n < 16) {
				g->type[g->n] = ev.type;
				g->code[g->n] = ev.close_code;
				g->len[g->n] = ev.len;
				g->data[g->n] = malloc(ev.len + 1);
				if (ev.len)
					memcpy(g->data[g->n], ev.data, ev.len);
				g->n++;
			}
			if (r == 0)
				assert_int_equal(pos, part);
		}
		off += part;
	}
	return 0;
}

/* ---- refusals: one frame (or a short sequence) -> FAIL with a code ---- */

struct bad_case {
	const char *name;
	enum pq_ws_role role;
	struct raw frames[2];
	int n_frames;
	uint16_t code;
	int err;
};

#define SM 1 /* server role receives masked */
#define B(fin, op) (uint8_t)((fin) ? 0x80 | (op) : (op))

static const uint8_t P[200] = {1, 2, 3, 4, 5};

static const struct bad_case bad_cases[] = {
	{"server gets unmasked", PQ_WS_SERVER, {{B(1, 2), 0, 0, 3, P, 3}}, 1, 1002, PQ_E_DECODE},
	{"client gets masked", PQ_WS_CLIENT, {{B(1, 2), 1, 0, 3, P, 3}}, 1, 1002, PQ_E_DECODE},
	{"server gets unmasked ping", PQ_WS_SERVER, {{B(1, 9), 0, 0, 0, P, 0}}, 1, 1002, PQ_E_DECODE},
	{"RSV1", PQ_WS_SERVER, {{B(1, 2) | 0x40, SM, 0, 3, P, 3}}, 1, 1002, PQ_E_DECODE},
	{"RSV2", PQ_WS_SERVER, {{B(1, 2) | 0x20, SM, 0, 3, P, 3}}, 1, 1002, PQ_E_DECODE},
	{"RSV3", PQ_WS_CLIENT, {{B(1, 2) | 0x10, 0, 0, 3, P, 3}}, 1, 1002, PQ_E_DECODE},
	{"opcode 3", PQ_WS_SERVER, {{B(1, 3), SM, 0, 1, P, 1}}, 1, 1002, PQ_E_DECODE},
	{"opcode 7", PQ_WS_SERVER, {{B(1, 7), SM, 0, 1, P, 1}}, 1, 1002, PQ_E_DECODE},
	{"opcode 0xb", PQ_WS_CLIENT, {{B(1, 0xb), 0, 0, 1, P, 1}}, 1, 1002, PQ_E_DECODE},
	{"opcode 0xf", PQ_WS_CLIENT, {{B(1, 0xf), 0, 0, 1, P, 1}}, 1, 1002, PQ_E_DECODE},
	{"ping 126 bytes", PQ_WS_SERVER, {{B(1, 9), SM, 0, 126, P, 126}}, 1, 1002, PQ_E_DECODE},
	{"pong 16-bit length", PQ_WS_CLIENT, {{B(1, 0xa), 0, 16, 200, P, 200}}, 1, 1002, PQ_E_DECODE},
	{"ping not final", PQ_WS_SERVER, {{B(0, 9), SM, 0, 2, P, 2}}, 1, 1002, PQ_E_DECODE},
	{"close not final", PQ_WS_CLIENT, {{B(0, 8), 0, 0, 2, P, 2}}, 1, 1002, PQ_E_DECODE},
	{"continuation without message", PQ_WS_SERVER, {{B(1, 0), SM, 0, 2, P, 2}}, 1, 1002,
	 PQ_E_DECODE},
	{"binary inside open message", PQ_WS_SERVER,
	 {{B(0, 2), SM, 0, 2, P, 2}, {B(1, 2), SM, 0, 2, P, 2}}, 2, 1002, PQ_E_DECODE},
	{"64-bit length top bit", PQ_WS_SERVER, {{B(1, 2), SM, 64, 1ull << 63, P, 0}}, 1, 1002,
	 PQ_E_DECODE},
	{"64-bit length all ones", PQ_WS_CLIENT, {{B(1, 2), 0, 64, ~0ull, P, 0}}, 1, 1002,
	 PQ_E_DECODE},
	{"16-bit form for 125", PQ_WS_SERVER, {{B(1, 2), SM, 16, 125, P, 125}}, 1, 1002,
	 PQ_E_DECODE},
	{"16-bit form for 0", PQ_WS_CLIENT, {{B(1, 2), 0, 16, 0, P, 0}}, 1, 1002, PQ_E_DECODE},
	{"64-bit form for 65535", PQ_WS_SERVER, {{B(1, 2), SM, 64, 65535, P, 0}}, 1, 1002,
	 PQ_E_DECODE},
	{"64-bit form for 126", PQ_WS_CLIENT, {{B(1, 2), 0, 64, 126, P, 0}}, 1, 1002, PQ_E_DECODE},
	{"text message", PQ_WS_SERVER, {{B(1, 1), SM, 0, 2, P, 2}}, 1, 1003, PQ_E_DECODE},
	{"text first fragment", PQ_WS_CLIENT, {{B(0, 1), 0, 0, 2, P, 2}}, 1, 1003, PQ_E_DECODE},
	/* header only: refused before any payload arrives */
	{"one over max, header only", PQ_WS_SERVER,
	 {{B(1, 2), SM, 0, PQ_MAX_MSG_LEN + 1, P, 0}}, 1, 1009, PQ_E_TOOBIG},
	{"2^62 bytes, header only", PQ_WS_CLIENT, {{B(1, 2), 0, 0, 1ull << 62, P, 0}}, 1, 1009,
	 PQ_E_TOOBIG},
	{"fragments over max", PQ_WS_SERVER,
	 {{B(0, 2), SM, 0, 100, P, 100}, {B(1, 0), SM, 0, PQ_MAX_MSG_LEN - 99, P, 0}}, 2, 1009,
	 PQ_E_TOOBIG},
	{"close 1-byte body", PQ_WS_CLIENT, {{B(1, 8), 0, 0, 1, P, 1}}, 1, 1002, PQ_E_DECODE},
};

static void test_refusals(void **state)
{
	uint8_t buf[512];
	int checked = 0;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t chunks[] = {1, 3, 512};

		for (size_t k = 0; k < 3; k++) {
			struct pq_ws_rx rx;
			struct got g = {0};
			size_t len = 0;
			int r;

			for (int f = 0; f < c->n_frames; f++)
				len += put_raw(buf + len, &c->frames[f]);
			assert_int_equal(pq_ws_rx_init(&rx, c->role, 0), 0);
			r = feed_chunks(&rx, buf, len, chunks[k], &g);
			if (r != c->err || g.n != 1 || g.code[0] != c->code)
				fail_msg("%s (chunk %zu): r=%d events=%d code=%u, want %d/%u", c->name,
					 chunks[k], r, g.n, g.n ? g.code[0] : 0, c->err, c->code);
			/* oversize refused before anything of it was buffered */
			if (c->code == 1009)
				assert_true(rx.msg_cap <= 256);
			got_free(&g);
			pq_ws_rx_free(&rx);
			checked++;
		}
	}
	printf("checked: %d refusal cases (each at 3 input splits)\n", checked);
}

/* A failure is sticky and nothing is accepted after a close. */
static void test_sticky_and_after_close(void **state)
{
	uint8_t buf[64], ok[16];
	struct pq_ws_rx rx;
	struct pq_ws_event ev;
	size_t used, len;
	struct raw bad = {B(1, 2), 0, 0, 1, P, 1};
	struct raw close = {B(1, 8), 0, 0, 2, (const uint8_t *)"\x03\xe8", 2};
	struct raw bin = {B(1, 2), 0, 0, 1, P, 1};

	assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_SERVER, 0), 0);
	len = put_raw(buf, &bad);
	assert_int_equal(pq_ws_rx_feed(&rx, buf, len, &used, &ev), PQ_E_DECODE);
	len = put_raw(ok, &(struct raw){B(1, 2), 1, 0, 1, P, 1});
	assert_int_equal(pq_ws_rx_feed(&rx, ok, len, &used, &ev), PQ_E_DECODE);
	assert_int_equal(ev.type, PQ_WS_EV_FAIL);
	assert_int_equal(ev.close_code, 1002);
	assert_int_equal(used, 0);
	pq_ws_rx_free(&rx);

	assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_CLIENT, 0), 0);
	len = put_raw(buf, &close);
	len += put_raw(buf + len, &bin);
	assert_int_equal(pq_ws_rx_feed(&rx, buf, len, &used, &ev), 1);
	assert_int_equal(ev.type, PQ_WS_EV_CLOSE);
	assert_int_equal(ev.close_code, 1000);
	assert_int_equal(ev.len, 0);
	assert_int_equal(pq_ws_rx_feed(&rx, buf + used, len - used, &used, &ev), PQ_E_STATE);
	assert_int_equal(ev.close_code, 1002);
	pq_ws_rx_free(&rx);

	/* a 1-byte close body is refused even when the control buffer still
	 * holds a valid code's second byte from an earlier ping */
	assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_CLIENT, 0), 0);
	len = put_raw(buf, &(struct raw){B(1, 9), 0, 0, 2, (const uint8_t *)"\x03\xe8", 2});
	len += put_raw(buf + len, &(struct raw){B(1, 8), 0, 0, 1, (const uint8_t *)"\x03", 1});
	assert_int_equal(pq_ws_rx_feed(&rx, buf, len, &used, &ev), 1);
	assert_int_equal(ev.type, PQ_WS_EV_PING);
	assert_int_equal(pq_ws_rx_feed(&rx, buf + used, len - used, &used, &ev), PQ_E_DECODE);
	assert_int_equal(ev.close_code, 1002);
	pq_ws_rx_free(&rx);
	printf("checked: 3 sticky-state cases\n");
}

/* ---- close codes (§7.4) ---- */

static void test_close_codes(void **state)
{
	static const struct {
		uint16_t code;
		int ok;
	} cases[] = {
		{0, 0}, {999, 0}, {1000, 1}, {1001, 1}, {1002, 1}, {1003, 1}, {1004, 0},
		{1005, 0}, {1006, 0}, {1007, 1}, {1008, 1}, {1009, 1}, {1010, 1}, {1011, 1},
		{1012, 0}, {1014, 0}, {1015, 0}, {1016, 0}, {2999, 0}, {3000, 1}, {4000, 1},
		{4999, 1}, {5000, 0}, {65535, 0},
	};
	uint8_t body[125], buf[160];
	int checked = 0;

	memset(body + 2, 'r', sizeof(body) - 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t reason = 0; reason <= PQ_WS_MAX_CLOSE_REASON; reason += 123) {
			struct pq_ws_rx rx;
			struct pq_ws_event ev;
			size_t used, len;
			int r;

			body[0] = (uint8_t)(cases[i].code >> 8);
			body[1] = (uint8_t)cases[i].code;
			len = put_raw(buf, &(struct raw){B(1, 8), 1, 0, 2 + reason, body, 2 + reason});
			assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_SERVER, 0), 0);
			r = pq_ws_rx_feed(&rx, buf, len, &used, &ev);
			assert_int_equal(pq_ws_close_code_valid(cases[i].code), cases[i].ok);
			if (cases[i].ok) {
				assert_int_equal(r, 1);
				assert_int_equal(ev.type, PQ_WS_EV_CLOSE);
				assert_int_equal(ev.close_code, cases[i].code);
				assert_int_equal(ev.len, reason);
				assert_true(reason == 0 || memcmp(ev.data, body + 2, reason) == 0);
			} else {
				assert_int_equal(r, PQ_E_DECODE);
				assert_int_equal(ev.close_code, 1002);
			}
			pq_ws_rx_free(&rx);
			checked++;
		}
	}
	/* an empty close body reports 1005 "no status" */
	{
		struct pq_ws_rx rx;
		struct pq_ws_event ev;
		size_t used, len = put_raw(buf, &(struct raw){B(1, 8), 0, 0, 0, P, 0});

		assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_CLIENT, 0), 0);
		assert_int_equal(pq_ws_rx_feed(&rx, buf, len, &used, &ev), 1);
		assert_int_equal(ev.type, PQ_WS_EV_CLOSE);
		assert_int_equal(ev.close_code, PQ_WS_CLOSE_NO_STATUS);
		checked++;
	}
	printf("checked: %d close-code cases\n", checked);
}

/* ---- accepted traffic ---- */

/* A stream for one role: ping, a 3-fragment message with a pong between
 * fragments, a single-frame message of 300 bytes, an empty message. */
static size_t build_stream(uint8_t *buf, enum pq_ws_role role, uint8_t *msg1, uint8_t *msg2)
{
	int m = role == PQ_WS_SERVER;
	size_t len = 0;

	for (int i = 0; i < 250; i++)
		msg1[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < 300; i++)
		msg2[i] = (uint8_t)(i ^ 0x5a);
	len += put_raw(buf + len, &(struct raw){B(1, 9), m, 0, 4, (const uint8_t *)"ping", 4});
	len += put_raw(buf + len, &(struct raw){B(0, 2), m, 0, 100, msg1, 100});
	len += put_raw(buf + len, &(struct raw){B(1, 0xa), m, 0, 2, (const uint8_t *)"po", 2});
	len += put_raw(buf + len, &(struct raw){B(0, 0), m, 0, 0, msg1, 0});
	len += put_raw(buf + len, &(struct raw){B(1, 0), m, 0, 150, msg1 + 100, 150});
	len += put_raw(buf + len, &(struct raw){B(1, 2), m, 0, 300, msg2, 300});
	len += put_raw(buf + len, &(struct raw){B(1, 2), m, 0, 0, msg2, 0});
	return len;
}

static void check_stream_events(const struct got *g, const uint8_t *msg1, const uint8_t *msg2)
{
	assert_int_equal(g->n, 5);
	assert_int_equal(g->type[0], PQ_WS_EV_PING);
	assert_int_equal(g->len[0], 4);
	assert_memory_equal(g->data[0], "ping", 4);
	assert_int_equal(g->type[1], PQ_WS_EV_PONG);
	assert_int_equal(g->len[1], 2);
	assert_memory_equal(g->data[1], "po", 2);
	assert_int_equal(g->type[2], PQ_WS_EV_MESSAGE);
	assert_int_equal(g->len[2], 250);
	assert_memory_equal(g->data[2], msg1, 250);
	assert_int_equal(g->type[3], PQ_WS_EV_MESSAGE);
	assert_int_equal(g->len[3], 300);
	assert_memory_equal(g->data[3], msg2, 300);
	assert_int_equal(g->type[4], PQ_WS_EV_MESSAGE);
	assert_int_equal(g->len[4], 0);
}

/* Byte at a time, and every split of the stream into two parts. */
static void test_reassembly_any_split(void **state)
{
	uint8_t buf[1024], msg1[250], msg2[300];
	int checked = 0;

	for (int role = PQ_WS_SERVER; role <= PQ_WS_CLIENT; role++) {
		size_t len = build_stream(buf, (enum pq_ws_role)role, msg1, msg2);

		for (size_t split = 0; split <= len; split++) {
			struct pq_ws_rx rx;
			struct got g = {0};

			assert_int_equal(pq_ws_rx_init(&rx, (enum pq_ws_role)role, 0), 0);
			assert_int_equal(feed_chunks(&rx, buf, split, 1024, &g), 0);
			assert_int_equal(feed_chunks(&rx, buf + split, len - split, 1024, &g), 0);
			check_stream_events(&g, msg1, msg2);
			got_free(&g);
			pq_ws_rx_free(&rx);
			checked++;
		}
		for (size_t chunk = 1; chunk <= 17; chunk++) {
			struct pq_ws_rx rx;
			struct got g = {0};

			assert_int_equal(pq_ws_rx_init(&rx, (enum pq_ws_role)role, 0), 0);
			assert_int_equal(feed_chunks(&rx, buf, len, chunk, &g), 0);
			check_stream_events(&g, msg1, msg2);
			assert_true(rx.msg_cap <= PQ_MAX_MSG_LEN);
			got_free(&g);
			pq_ws_rx_free(&rx);
			checked++;
		}
	}
	printf("checked: %d input splits (incl. byte-at-a-time, both roles)\n", checked);
}

/* Exactly max_msg is accepted, and the buffer never grows past it; the
 * 16-bit and 64-bit length forms at their boundaries. */
static void test_lengths_and_memory(void **state)
{
	static const struct {
		size_t max, len;
	} cases[] = {
		{0, PQ_MAX_MSG_LEN}, {0, 126}, {0, 65535 < PQ_MAX_MSG_LEN ? 65535 : 126},
		{65536, 65535}, {65536, 65536}, {70000, 70000}, {1000, 1000}, {1, 1}, {1, 0},
	};
	size_t cap = 70000 + 32;
	uint8_t *buf = malloc(cap), *pay = malloc(70000);
	int checked = 0;

	assert_non_null(buf);
	assert_non_null(pay);
	for (size_t i = 0; i < 70000; i++)
		pay[i] = (uint8_t)(i * 31);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* as two fragments and as one frame */
		for (int frag = 0; frag < 2; frag++) {
			struct pq_ws_rx rx;
			struct got g = {0};
			size_t len = 0, half = frag ? cases[i].len / 2 : cases[i].len;
			size_t max = cases[i].max ? cases[i].max : PQ_MAX_MSG_LEN;

			len += put_raw(buf, &(struct raw){B(!frag, 2), 0, 0, half, pay, half});
			if (frag)
				len += put_raw(buf + len, &(struct raw){B(1, 0), 0, 0, cases[i].len - half,
									pay + half, cases[i].len - half});
			assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_CLIENT, cases[i].max), 0);
			assert_int_equal(feed_chunks(&rx, buf, len, 4096, &g), 0);
			assert_int_equal(g.n, 1);
			assert_int_equal(g.len[0], cases[i].len);
			assert_true(cases[i].len == 0 || memcmp(g.data[0], pay, cases[i].len) == 0);
			assert_true(rx.msg_cap <= max);
			got_free(&g);
			/* one byte more is refused */
			pq_ws_rx_free(&rx);
			assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_CLIENT, max), 0);
			len = put_raw(buf, &(struct raw){B(1, 2), 0, 0, max + 1, pay, 0});
			assert_int_equal(feed_chunks(&rx, buf, len, 4096, &g), PQ_E_TOOBIG);
			assert_int_equal(g.code[0], 1009);
			assert_int_equal(rx.msg_cap, 0);
			pq_ws_rx_free(&rx);
			checked += 2;
		}
	}
	free(buf);
	free(pay);
	printf("checked: %d length/limit cases\n", checked);
}

/* ---- encoder ---- */

/* RFC 6455 §5.7 examples, plus the binary length forms. */
static void test_encoder_rfc_examples(void **state)
{
	static const uint8_t hello_unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
	static const uint8_t hello_masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					       0x7f, 0x9f, 0x4d, 0x51, 0x58};
	static const uint8_t ping_hello[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
	static const uint8_t pong_masked[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					      0x7f, 0x9f, 0x4d, 0x51, 0x58};
	static const uint8_t h256[] = {0x82, 0x7e, 0x01, 0x00};
	static const uint8_t h64k[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0};
	uint8_t out[32];

	assert_int_equal(pq_ws_encode(out, sizeof(out), PQ_WS_SERVER, PQ_WS_OP_TEXT,
				      (const uint8_t *)"Hello", 5, NULL), 7);
	assert_memory_equal(out, hello_unmasked, 7);
	assert_int_equal(pq_ws_encode(out, sizeof(out), PQ_WS_CLIENT, PQ_WS_OP_TEXT,
				      (const uint8_t *)"Hello", 5, KEY), 11);
	assert_memory_equal(out, hello_masked, 11);
	assert_int_equal(pq_ws_encode(out, sizeof(out), PQ_WS_SERVER, PQ_WS_OP_PING,
				      (const uint8_t *)"Hello", 5, NULL), 7);
	assert_memory_equal(out, ping_hello, 7);
	assert_int_equal(pq_ws_encode(out, sizeof(out), PQ_WS_CLIENT, PQ_WS_OP_PONG,
				      (const uint8_t *)"Hello", 5, KEY), 11);
	assert_memory_equal(out, pong_masked, 11);
	assert_int_equal(pq_ws_frame_header(out, sizeof(out), PQ_WS_SERVER, PQ_WS_OP_BINARY, true,
					    256, NULL), 4);
	assert_memory_equal(out, h256, 4);
	assert_int_equal(pq_ws_frame_header(out, sizeof(out), PQ_WS_SERVER, PQ_WS_OP_BINARY, true,
					    65536, NULL), 10);
	assert_memory_equal(out, h64k, 10);
	/* boundaries of the minimal forms; client adds the 4-byte key */
	assert_int_equal(pq_ws_frame_header(out, 32, PQ_WS_SERVER, PQ_WS_OP_BINARY, 1, 125, NULL), 2);
	assert_int_equal(pq_ws_frame_header(out, 32, PQ_WS_SERVER, PQ_WS_OP_BINARY, 1, 126, NULL), 4);
	assert_int_equal(pq_ws_frame_header(out, 32, PQ_WS_SERVER, PQ_WS_OP_BINARY, 1, 65535, NULL),
			 4);
	assert_int_equal(pq_ws_frame_header(out, 32, PQ_WS_CLIENT, PQ_WS_OP_BINARY, 0, 65536, KEY),
			 14);
	assert_int_equal(out[0], 0x02); /* FIN clear */
	assert_int_equal(out[1], 0x80 | 127);
	printf("checked: 10 encoder vectors (RFC 6455 §5.7 and length forms)\n");
}

static void test_encoder_refusals(void **state)
{
	uint8_t out[256], big[130] = {0};
	int checked = 0;

#define REFUSE(expr, want)                      \
	do {                                    \
		assert_int_equal((expr), (want)); \
		checked++;                      \
	} while (0)
	REFUSE(pq_ws_encode(out, 6, PQ_WS_SERVER, PQ_WS_OP_BINARY, big, 5, NULL), PQ_E_TOOBIG);
	REFUSE(pq_ws_encode(out, 1, PQ_WS_SERVER, PQ_WS_OP_BINARY, big, 0, NULL), PQ_E_TOOBIG);
	REFUSE(pq_ws_encode(out, 10, PQ_WS_CLIENT, PQ_WS_OP_BINARY, big, 5, KEY), PQ_E_TOOBIG);
	REFUSE(pq_ws_frame_header(out, 3, PQ_WS_SERVER, PQ_WS_OP_BINARY, 1, 126, NULL),
	       PQ_E_TOOBIG);
	REFUSE(pq_ws_frame_header(out, 13, PQ_WS_CLIENT, PQ_WS_OP_BINARY, 1, 65536, KEY),
	       PQ_E_TOOBIG);
	REFUSE(pq_ws_encode(out, 256, PQ_WS_SERVER, PQ_WS_OP_PING, big, 126, NULL), PQ_E_INVAL);
	REFUSE(pq_ws_frame_header(out, 256, PQ_WS_SERVER, PQ_WS_OP_CLOSE, 0, 2, NULL), PQ_E_INVAL);
	REFUSE(pq_ws_encode(out, 256, PQ_WS_SERVER, PQ_WS_OP_BINARY, big, 5, KEY), PQ_E_INVAL);
	REFUSE(pq_ws_encode(out, 256, PQ_WS_CLIENT, PQ_WS_OP_BINARY, big, 5, NULL), PQ_E_INVAL);
	REFUSE(pq_ws_encode(out, 256, PQ_WS_SERVER, (enum pq_ws_opcode)3, big, 5, NULL),
	       PQ_E_INVAL);
	REFUSE(pq_ws_frame_header(out, 256, PQ_WS_SERVER, PQ_WS_OP_BINARY, 1, 1ull << 63, NULL),
	       PQ_E_INVAL);
	REFUSE(pq_ws_encode_close(out, 256, PQ_WS_SERVER, 1005, NULL, 0, NULL), PQ_E_INVAL);
	REFUSE(pq_ws_encode_close(out, 256, PQ_WS_SERVER, 1000, (const char *)big, 124, NULL),
	       PQ_E_INVAL);
	printf("checked: %d encoder refusals\n", checked);
}

/* What our client encodes, our server receives, and back. */
static void test_encoder_roundtrip(void **state)
{
	uint8_t out[PQ_MAX_MSG_LEN + 14], pay[PQ_MAX_MSG_LEN];
	static const size_t lens[] = {0, 1, 125, 126, 1000, 65535 < PQ_MAX_MSG_LEN ? 65535 : 1,
				      PQ_MAX_MSG_LEN};
	int checked = 0;

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int role = PQ_WS_SERVER; role <= PQ_WS_CLIENT; role++) {
			enum pq_ws_role tx = (enum pq_ws_role)role;
			enum pq_ws_role rxr = tx == PQ_WS_CLIENT ? PQ_WS_SERVER : PQ_WS_CLIENT;
			struct pq_ws_rx rx;
			struct got g = {0};
			long n = pq_ws_encode(out, sizeof(out), tx, PQ_WS_OP_BINARY, pay, lens[i],
					      tx == PQ_WS_CLIENT ? KEY : NULL);

			assert_true(n > 0);
			assert_int_equal(pq_ws_rx_init(&rx, rxr, 0), 0);
			assert_int_equal(feed_chunks(&rx, out, (size_t)n, 777, &g), 0);
			assert_int_equal(g.n, 1);
			assert_int_equal(g.type[0], PQ_WS_EV_MESSAGE);
			assert_int_equal(g.len[0], lens[i]);
			assert_true(lens[i] == 0 || memcmp(g.data[0], pay, lens[i]) == 0);
			got_free(&g);
			pq_ws_rx_free(&rx);
			checked++;
		}
	}
	/* close frame with reason, client -> server */
	{
		struct pq_ws_rx rx;
		struct got g = {0};
		long n = pq_ws_encode_close(out, sizeof(out), PQ_WS_CLIENT, 4001, "bye", 3, KEY);

		assert_int_equal(n, 2 + 4 + 5);
		assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_SERVER, 0), 0);
		assert_int_equal(feed_chunks(&rx, out, (size_t)n, 1, &g), 0);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.type[0], PQ_WS_EV_CLOSE);
		assert_int_equal(g.code[0], 4001);
		assert_int_equal(g.len[0], 3);
		assert_memory_equal(g.data[0], "bye", 3);
		got_free(&g);
		pq_ws_rx_free(&rx);
		checked++;
	}
	/* masking in place at an offset equals masking the whole */
	{
		uint8_t a[10], b[10];

		memcpy(a, pay, 10);
		memcpy(b, pay, 10);
		pq_ws_mask(a, 10, KEY, 0);
		pq_ws_mask(b, 3, KEY, 0);
		pq_ws_mask(b + 3, 7, KEY, 3);
		assert_memory_equal(a, b, 10);
		pq_ws_mask(a, 10, KEY, 0);
		assert_memory_equal(a, pay, 10);
		checked++;
	}
	printf("checked: %d encode->receive round trips\n", checked);
}

/* pq_ws_mask works 8 bytes at a time: it must equal RFC 6455 §5.3's
 * byte-by-byte rule for every start offset in the key, every length
 * around the 8-byte steps, and buffers at any alignment. */
static void test_mask_matches_rfc_rule(void **state)
{
	static uint8_t got[70000 + 16], want[70000 + 16];
	const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	const size_t lens[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 1448, 65536, 70000};
	int checked = 0;

	for (size_t i = 0; i < sizeof(got); i++)
		got[i] = (uint8_t)(i * 131 + 7);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
		for (uint64_t off = 0; off < 12; off++)
			for (size_t at = 0; at < 8; at++) {
				size_t len = lens[l];

				memcpy(want, got, sizeof(got));
				for (size_t i = 0; i < len; i++)
					want[at + i] ^= key[(off + i) % 4];
				pq_ws_mask(got + at, len, key, off + 4 * 1000000007ull);
				/* bytes around the range are untouched, the range is as the rule says */
				assert_memory_equal(got, want, sizeof(got));
				checked++;
			}
	printf("checked: %d mask cases against the byte-by-byte rule\n", checked);
}

static void test_init_args(void **state)
{
	struct pq_ws_rx rx;

	assert_int_equal(pq_ws_rx_init(&rx, (enum pq_ws_role)7, 0), PQ_E_INVAL);
	assert_int_equal(pq_ws_rx_init(NULL, PQ_WS_SERVER, 0), PQ_E_INVAL);
	assert_int_equal(pq_ws_rx_init(&rx, PQ_WS_SERVER, 0), 0);
	assert_int_equal(rx.max_msg, PQ_MAX_MSG_LEN);
	printf("checked: 3 init cases\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_args),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_sticky_and_after_close),
		cmocka_unit_test(test_close_codes),
		cmocka_unit_test(test_reassembly_any_split),
		cmocka_unit_test(test_lengths_and_memory),
		cmocka_unit_test(test_encoder_rfc_examples),
		cmocka_unit_test(test_encoder_refusals),
		cmocka_unit_test(test_encoder_roundtrip),
		cmocka_unit_test(test_mask_matches_rfc_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
