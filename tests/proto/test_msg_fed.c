/* test_msg_fed.c - the relay-to-relay records (src/proto/msg_fed.c):
 * round trips with their exact layout, and a table of hostile inputs each
 * refused with PQ_E_DECODE and a zeroed struct: truncated, extended,
 * wrong version, bad names, invalid address, unsorted or repeated keys, a
 * count that disagrees with the length, empty and oversized payloads,
 * source equal to destination; encoders refuse what decoders refuse; the
 * KV key's hex form accepts only lowercase 64-digit text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/msg_fed.h"

static uint8_t buf[PQ_FED_FORWARD_MAX + 64];

static struct pq_wire_addr v4(void)
{
	struct pq_wire_addr a = { .family = PQ_ADDR_V4, .port = 7443 };

	a.addr[10] = a.addr[11] = 0xff;
	a.addr[12] = 192;
	a.addr[15] = 7;
	return a;
}

static void keys(uint8_t *out, size_t count)
{
	for (size_t i = 0; i < count; i++)
		memset(out + i * PQ_PUBKEY_LEN, (int)(i + 1), PQ_PUBKEY_LEN);
}

static void test_presence_round_trip(void **state)
{
	uint8_t watch[3 * PQ_PUBKEY_LEN];
	struct pq_fed_presence m = { .relay = "relay-eu1", .observed = v4(), .watch = watch, .count = 3 }, d;
	long len;

	keys(watch, 3);
	len = pq_fed_presence_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, PQ_FED_PRESENCE_LEN(9, 3));
	assert_int_equal(buf[0], PQ_FED_PRESENCE_V1);
	assert_int_equal(buf[1], 9);
	assert_memory_equal(buf + 2, "relay-eu1", 9);
	assert_int_equal(buf[2 + 9 + PQ_WIRE_ADDR_LEN], 0);
	assert_int_equal(buf[3 + 9 + PQ_WIRE_ADDR_LEN], 3);
	assert_int_equal(pq_fed_presence_decode(&d, buf, (size_t)len), 0);
	assert_string_equal(d.relay, "relay-eu1");
	assert_memory_equal(&d.observed, &m.observed, sizeof(d.observed));
	assert_int_equal(d.count, 3);
	assert_memory_equal(d.watch, watch, sizeof(watch));
	assert_true(pq_fed_watch_has(d.watch, d.count, watch + PQ_PUBKEY_LEN));
	/* No watch set yet: count 0. */
	m.count = 0;
	m.watch = NULL;
	len = pq_fed_presence_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, PQ_FED_PRESENCE_LEN(9, 0));
	assert_int_equal(pq_fed_presence_decode(&d, buf, (size_t)len), 0);
	assert_int_equal(d.count, 0);
	/* Too small a buffer. */
	assert_int_equal(pq_fed_presence_encode(&m, buf, 10), PQ_E_TOOBIG);
}

static void expect_bad_presence(const uint8_t *in, size_t len, const char *what)
{
	struct pq_fed_presence d;
	static const struct pq_fed_presence zero;

	if (pq_fed_presence_decode(&d, in, len) != PQ_E_DECODE)
		fail_msg("accepted: %s", what);
	assert_memory_equal(&d, &zero, sizeof(d));
}

static void test_presence_hostile(void **state)
{
	uint8_t watch[2 * PQ_PUBKEY_LEN], good[256], bad[256];
	struct pq_fed_presence m = { .relay = "r1", .observed = v4(), .watch = watch, .count = 2 };
	size_t len, name_at = 1, addr_at = 4, count_at = 4 + PQ_WIRE_ADDR_LEN;

	keys(watch, 2);
	len = (size_t)pq_fed_presence_encode(&m, good, sizeof(good));
	expect_bad_presence(good, 0, "empty");
	expect_bad_presence(good, len - 1, "truncated");
	memcpy(bad, good, len);
	bad[len] = 0;
	expect_bad_presence(bad, len + 1, "one byte more");
	memcpy(bad, good, len);
	bad[0] = 0x02;
	expect_bad_presence(bad, len, "forward's version byte");
	memcpy(bad, good, len);
	bad[name_at] = 0;
	expect_bad_presence(bad, len, "name length 0");
	memcpy(bad, good, len);
	bad[name_at + 2] = '.';
	expect_bad_presence(bad, len, "a dot in the name (a subject separator)");
	memcpy(bad, good, len);
	bad[name_at] = 40;
	expect_bad_presence(bad, len, "name length beyond the record");
	memcpy(bad, good, len);
	bad[addr_at] = 9;
	expect_bad_presence(bad, len, "address family 9");
	memcpy(bad, good, len);
	bad[count_at + 1] = 3;
	expect_bad_presence(bad, len, "count 3 for 2 keys");
	memcpy(bad, good, len);
	memcpy(bad + count_at + 2, watch + PQ_PUBKEY_LEN, PQ_PUBKEY_LEN);
	memcpy(bad + count_at + 2 + PQ_PUBKEY_LEN, watch, PQ_PUBKEY_LEN);
	expect_bad_presence(bad, len, "keys out of order");
	memcpy(bad + count_at + 2, watch, PQ_PUBKEY_LEN);
	memcpy(bad + count_at + 2 + PQ_PUBKEY_LEN, watch, PQ_PUBKEY_LEN);
	expect_bad_presence(bad, len, "a key twice");
	/* Encoders refuse the same. */
	memcpy(watch, watch + PQ_PUBKEY_LEN, PQ_PUBKEY_LEN);
	assert_int_equal(pq_fed_presence_encode(&m, buf, sizeof(buf)), PQ_E_INVAL);
	keys(watch, 2);
	snprintf(m.relay, sizeof(m.relay), "a b");
	assert_int_equal(pq_fed_presence_encode(&m, buf, sizeof(buf)), PQ_E_INVAL);
	snprintf(m.relay, sizeof(m.relay), "r1");
	m.observed.port = 0;
	assert_int_equal(pq_fed_presence_encode(&m, buf, sizeof(buf)), PQ_E_INVAL);
}

static void test_forward(void **state)
{
	static uint8_t payload[PQ_RELAY_PAYLOAD_MAX + 1];
	struct pq_fed_forward m = { .relay = "r2", .payload = payload, .payload_len = 100 }, d;
	static const struct pq_fed_forward zero;
	long len;

	memset(m.src, 1, sizeof(m.src));
	memset(m.dst, 2, sizeof(m.dst));
	len = pq_fed_forward_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, PQ_FED_FORWARD_HDR(2) + 100);
	assert_int_equal(pq_fed_forward_decode(&d, buf, (size_t)len), 0);
	assert_string_equal(d.relay, "r2");
	assert_memory_equal(d.src, m.src, PQ_PUBKEY_LEN);
	assert_memory_equal(d.dst, m.dst, PQ_PUBKEY_LEN);
	assert_ptr_equal(d.payload, buf + PQ_FED_FORWARD_HDR(2));
	assert_int_equal(d.payload_len, 100);
	/* The largest payload a RELAY_SEND carries, and one byte more. */
	m.payload_len = PQ_RELAY_PAYLOAD_MAX;
	len = pq_fed_forward_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(pq_fed_forward_decode(&d, buf, (size_t)len), 0);
	buf[len] = 0;
	assert_int_equal(pq_fed_forward_decode(&d, buf, (size_t)len + 1), PQ_E_DECODE);
	assert_memory_equal(&d, &zero, sizeof(d));
	m.payload_len = PQ_RELAY_PAYLOAD_MAX + 1;
	assert_int_equal(pq_fed_forward_encode(&m, buf, sizeof(buf)), PQ_E_INVAL);
	m.payload_len = 0;
	assert_int_equal(pq_fed_forward_encode(&m, buf, sizeof(buf)), PQ_E_INVAL);
	/* No payload, source = destination, wrong version. */
	m.payload_len = 10;
	len = pq_fed_forward_encode(&m, buf, sizeof(buf));
	assert_int_equal(pq_fed_forward_decode(&d, buf, PQ_FED_FORWARD_HDR(2)), PQ_E_DECODE);
	memcpy(buf + PQ_FED_FORWARD_HDR(2) - PQ_PUBKEY_LEN, m.src, PQ_PUBKEY_LEN); /* dst := src */
	assert_int_equal(pq_fed_forward_decode(&d, buf, (size_t)len), PQ_E_DECODE);
	len = pq_fed_forward_encode(&m, buf, sizeof(buf));
	buf[0] = PQ_FED_PRESENCE_V1;
	assert_int_equal(pq_fed_forward_decode(&d, buf, (size_t)len), PQ_E_DECODE);
}

static void test_key_hex(void **state)
{
	uint8_t key[PQ_PUBKEY_LEN], back[PQ_PUBKEY_LEN];
	char hex[PQ_FED_KEY_HEX_LEN + 1], bad[PQ_FED_KEY_HEX_LEN + 1];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 5);
	pq_fed_key_to_hex(hex, key);
	assert_int_equal(strlen(hex), 64);
	assert_memory_equal(hex, "052a4f", 6);
	assert_int_equal(pq_fed_key_from_hex(back, hex, 64), 0);
	assert_memory_equal(back, key, sizeof(key));
	assert_int_equal(pq_fed_key_from_hex(back, hex, 63), PQ_E_DECODE);
	memcpy(bad, hex, sizeof(bad));
	bad[1] = 'A';
	assert_int_equal(pq_fed_key_from_hex(back, bad, 64), PQ_E_DECODE);
	bad[1] = '.';
	assert_int_equal(pq_fed_key_from_hex(back, bad, 64), PQ_E_DECODE);
	assert_int_equal(pq_fed_key_from_hex(back, "not-a-node-key", 14), PQ_E_DECODE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presence_round_trip),
		cmocka_unit_test(test_presence_hostile),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_key_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
