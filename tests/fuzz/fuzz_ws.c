/*
 * fuzz_ws.c - libFuzzer target for the WebSocket frame receiver (ws.h).
 *
 * Input: byte 0 = flags (bit 0 role, bits 1-3 pick max_msg, bit 7 encoder
 * round trip instead), byte 1 = chunk size, the rest = the byte stream.
 * Checks: no crash; the reassembly buffer never exceeds max_msg; event
 * sizes within their bounds; the same events and final result whether the
 * stream is fed in chunks or all at once; failures are sticky; what the
 * encoder writes, the receiver of the other role reads back unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/ws.h"
#include "proto/types.h"
#include "fuzz/fuzz.h"

static const size_t MAX_CHOICES[8] = {0, 1, 2, 125, 126, 200, 65536, 70000};

struct trace {
	uint64_t hash;
	int events;
	int rc;
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 0x100000001b3ull; /* FNV-1a */
}

static void check_event(const struct pq_ws_rx *rx, const struct pq_ws_event *ev)
{
	CHECK(rx->msg_cap <= rx->max_msg);
	switch (ev->type) {
	case PQ_WS_EV_MESSAGE:
		CHECK(ev->len <= rx->max_msg);
		break;
	case PQ_WS_EV_PING:
	case PQ_WS_EV_PONG:
		CHECK(ev->len <= PQ_WS_MAX_CONTROL);
		break;
	case PQ_WS_EV_CLOSE:
		CHECK(ev->len <= PQ_WS_MAX_CLOSE_REASON);
		CHECK(ev->close_code == PQ_WS_CLOSE_NO_STATUS || pq_ws_close_code_valid(ev->close_code));
		break;
	default:
		CHECK(0);
	}
}

static struct trace run(enum pq_ws_role role, size_t max, const uint8_t *in, size_t len,
			size_t chunk)
{
	struct trace t = {.hash = 0xcbf29ce484222325ull};
	struct pq_ws_rx rx;
	size_t off = 0;

	CHECK(pq_ws_rx_init(&rx, role, max) == 0);
	while (off < len) {
		size_t part = len - off < chunk ? len - off : chunk, used;
		struct pq_ws_event ev;
		int rc = pq_ws_rx_feed(&rx, in + off, part, &used, &ev);

		CHECK(used <= part);
		CHECK(rx.msg_cap <= rx.max_msg);
		off += used;
		if (rc < 0) {
			size_t used2;
			struct pq_ws_event ev2;

			CHECK(ev.type == PQ_WS_EV_FAIL);
			t.rc = rc;
			mix(&t, &ev.close_code, sizeof(ev.close_code));
			/* sticky */
			CHECK(pq_ws_rx_feed(&rx, in, len, &used2, &ev2) == rc && used2 == 0);
			break;
		}
		if (rc == 1) {
			check_event(&rx, &ev);
			t.events++;
			mix(&t, &ev.type, sizeof(ev.type));
			mix(&t, &ev.close_code, sizeof(ev.close_code));
			mix(&t, &ev.len, sizeof(ev.len));
			if (ev.len)
				mix(&t, ev.data, ev.len);
		} else {
			CHECK(rc == 0 && used == part);
		}
	}
	pq_ws_rx_free(&rx);
	return t;
}

static void encode_round_trip(enum pq_ws_role tx, const uint8_t *in, size_t len)
{
	static uint8_t out[PQ_MAX_MSG_LEN + PQ_WS_MAX_HEADER];
	static const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
	enum pq_ws_role rxr = tx == PQ_WS_CLIENT ? PQ_WS_SERVER : PQ_WS_CLIENT;
	struct pq_ws_rx rx;
	struct pq_ws_event ev;
	size_t used;
	long n;

	if (len > PQ_MAX_MSG_LEN)
		len = PQ_MAX_MSG_LEN;
	n = pq_ws_encode(out, sizeof(out), tx, PQ_WS_OP_BINARY, in, len,
			 tx == PQ_WS_CLIENT ? key : NULL);
	CHECK(n > 0);
	CHECK(pq_ws_rx_init(&rx, rxr, 0) == 0);
	CHECK(pq_ws_rx_feed(&rx, out, (size_t)n, &used, &ev) == 1);
	CHECK(used == (size_t)n && ev.type == PQ_WS_EV_MESSAGE && ev.len == len);
	CHECK(len == 0 || memcmp(ev.data, in, len) == 0);
	pq_ws_rx_free(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum pq_ws_role role;
	size_t max, chunk;
	struct trace a, b;

	if (size < 2)
		return 0;
	role = (data[0] & 1) ? PQ_WS_CLIENT : PQ_WS_SERVER;
	max = MAX_CHOICES[(data[0] >> 1) & 7];
	chunk = (size_t)(data[1] % 32) + 1;
	if (data[0] & 0x80) {
		encode_round_trip(role, data + 2, size - 2);
		return 0;
	}
	a = run(role, max, data + 2, size - 2, chunk);
	b = run(role, max, data + 2, size - 2, size);
	CHECK(a.hash == b.hash && a.events == b.events && a.rc == b.rc);
	return 0;
}
