/*
 * test_msg_rehs.c - the re-handshake codec (src/proto/msg_rehs.c) against
 * the seed's exact wire format: 0x30 REQUEST 56 B payload, 0x31 RESPONSE
 * 88 B, 0x32 COMPLETE 56 B (DESIGN §5). Byte layouts, round trips, every
 * truncation, one byte too many, all 256 type bytes, encoder capacities.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/msg_rehs.h"

static struct pq_rehs_request s_req;
static struct pq_rehs_response s_resp;
static struct pq_rehs_complete s_comp;

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 3 * i);
}

static int setup(void **state)
{
	(void)state;
	fill(s_req.session_id, 16, 0x01);
	fill(s_req.challenge, 32, 0x40);
	s_req.timestamp_ms = 0x0102030405060708ull;
	fill(s_resp.session_id, 16, 0x11);
	fill(s_resp.mac, 32, 0x50);
	fill(s_resp.counter_challenge, 32, 0x90);
	s_resp.timestamp_ms = 1762300000123ull;
	fill(s_comp.session_id, 16, 0x21);
	fill(s_comp.mac, 32, 0x60);
	s_comp.timestamp_ms = UINT64_MAX;
	return 0;
}

typedef int (*enc_fn)(uint8_t *buf, size_t cap, size_t *len);
typedef int (*dec_fn)(const uint8_t *buf, size_t len, int *same);

static int enc_req(uint8_t *b, size_t c, size_t *n) { return pq_rehs_request_encode(b, c, n, &s_req); }
static int enc_resp(uint8_t *b, size_t c, size_t *n) { return pq_rehs_response_encode(b, c, n, &s_resp); }
static int enc_comp(uint8_t *b, size_t c, size_t *n) { return pq_rehs_complete_encode(b, c, n, &s_comp); }

static int dec_req(const uint8_t *b, size_t l, int *same)
{
	struct pq_rehs_request m;
	int rc = pq_rehs_request_decode(&m, b, l);

	*same = !rc && memcmp(m.session_id, s_req.session_id, 16) == 0 &&
		memcmp(m.challenge, s_req.challenge, 32) == 0 && m.timestamp_ms == s_req.timestamp_ms;
	return rc;
}

static int dec_resp(const uint8_t *b, size_t l, int *same)
{
	struct pq_rehs_response m;
	int rc = pq_rehs_response_decode(&m, b, l);

	*same = !rc && memcmp(m.session_id, s_resp.session_id, 16) == 0 && memcmp(m.mac, s_resp.mac, 32) == 0 &&
		memcmp(m.counter_challenge, s_resp.counter_challenge, 32) == 0 &&
		m.timestamp_ms == s_resp.timestamp_ms;
	return rc;
}

static int dec_comp(const uint8_t *b, size_t l, int *same)
{
	struct pq_rehs_complete m;
	int rc = pq_rehs_complete_decode(&m, b, l);

	*same = !rc && memcmp(m.session_id, s_comp.session_id, 16) == 0 && memcmp(m.mac, s_comp.mac, 32) == 0 &&
		m.timestamp_ms == s_comp.timestamp_ms;
	return rc;
}

struct codec {
	const char *name;
	uint8_t type;
	size_t len;
	enc_fn enc;
	dec_fn dec;
};

static const struct codec codecs[] = {
	{ "REQUEST", 0x30, 57, enc_req, dec_req },
	{ "RESPONSE", 0x31, 89, enc_resp, dec_resp },
	{ "COMPLETE", 0x32, 57, enc_comp, dec_comp },
};

/* Offsets straight from the seed: session id, then the 32-byte fields in
 * order, then the big-endian u64 timestamp. */
static void test_layout(void **state)
{
	uint8_t b[128], want[128];
	size_t len;

	(void)state;
	assert_int_equal(PQ_REHS_REQUEST_MSG_LEN, 1 + 56);
	assert_int_equal(PQ_REHS_RESPONSE_MSG_LEN, 1 + 88);
	assert_int_equal(PQ_REHS_COMPLETE_MSG_LEN, 1 + 56);

	assert_int_equal(pq_rehs_request_encode(b, sizeof(b), &len, &s_req), 0);
	want[0] = 0x30;
	memcpy(want + 1, s_req.session_id, 16);
	memcpy(want + 17, s_req.challenge, 32);
	memcpy(want + 49, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(len, 57);
	assert_memory_equal(b, want, 57);

	assert_int_equal(pq_rehs_response_encode(b, sizeof(b), &len, &s_resp), 0);
	want[0] = 0x31;
	memcpy(want + 1, s_resp.session_id, 16);
	memcpy(want + 17, s_resp.mac, 32);
	memcpy(want + 49, s_resp.counter_challenge, 32);
	for (int i = 0; i < 8; i++)
		want[81 + i] = (uint8_t)(s_resp.timestamp_ms >> (56 - 8 * i));
	assert_int_equal(len, 89);
	assert_memory_equal(b, want, 89);

	assert_int_equal(pq_rehs_complete_encode(b, sizeof(b), &len, &s_comp), 0);
	want[0] = 0x32;
	memcpy(want + 1, s_comp.session_id, 16);
	memcpy(want + 17, s_comp.mac, 32);
	memset(want + 49, 0xff, 8);
	assert_int_equal(len, 57);
	assert_memory_equal(b, want, 57);
	printf("checked: 3 re-handshake byte layouts\n");
}

static void test_round_trip(void **state)
{
	uint8_t b[128];
	size_t len;
	int same;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(codecs[i].enc(b, sizeof(b), &len), 0);
		assert_int_equal(len, codecs[i].len);
		assert_int_equal(codecs[i].dec(b, len, &same), 0);
		assert_true(same);
	}
	printf("checked: 3 re-handshake round trips\n");
}

static void test_truncated_oversized_types(void **state)
{
	uint8_t b[128];
	size_t len;
	int same;
	unsigned truncated = 0, types = 0;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		const struct codec *c = &codecs[i];

		assert_int_equal(c->enc(b, sizeof(b), &len), 0);
		b[len] = 0;
		for (size_t l = 0; l < len; l++, truncated++)
			assert_int_equal(c->dec(b, l, &same), PQ_E_DECODE);
		assert_int_equal(c->dec(b, len + 1, &same), PQ_E_DECODE);
		assert_int_equal(c->dec(NULL, len, &same), PQ_E_DECODE);
		truncated += 2;
		for (unsigned t = 0; t < 256; t++, types++) {
			b[0] = (uint8_t)t;
			assert_int_equal(c->dec(b, len, &same), t == c->type ? 0 : PQ_E_DECODE);
		}
	}
	assert_int_equal(types, 3 * 256);
	printf("checked: %u truncated/oversized, %u type bytes x decoders\n", truncated, types);
}

static void test_encoder_capacity(void **state)
{
	uint8_t b[128];
	size_t len;
	unsigned checked = 0;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		for (size_t cap = 0; cap < codecs[i].len; cap++, checked++)
			assert_int_equal(codecs[i].enc(b, cap, &len), PQ_E_TOOBIG);
		assert_int_equal(codecs[i].enc(b, codecs[i].len, &len), 0);
	}
	printf("checked: %u short encoder capacities\n", checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_oversized_types),
		cmocka_unit_test(test_encoder_capacity),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
