/*
 * test_msg_handshake.c - HS_INIT / HS_RESP / HS_FINISH codecs
 * (src/proto/msg_handshake.c): round trips with every field distinct,
 * field offsets, every truncation, one byte too many, all 256 type bytes
 * into every decoder, and every too-small encoder capacity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/msg_handshake.h"

static uint8_t buf[PQ_HS_INIT_LEN + 8];

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 13 * i);
}

static void sample_init(struct pq_hs_init_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->version = 1;
	m->suite = 1;
	fill(m->initiator_pub, sizeof(m->initiator_pub), 1);
	m->sender_index = 0xa1b2c3d4;
	m->timestamp_ms = 0x0102030405060708ULL;
	fill(m->random, sizeof(m->random), 2);
	fill(m->x25519_pub, sizeof(m->x25519_pub), 3);
	fill(m->mlkem_ek, sizeof(m->mlkem_ek), 4);
	fill(m->sig, sizeof(m->sig), 5);
}

static void sample_resp(struct pq_hs_resp_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->sender_index = 0x11223344;
	m->receiver_index = 0x55667788;
	fill(m->x25519_pub, sizeof(m->x25519_pub), 6);
	fill(m->mlkem_ct, sizeof(m->mlkem_ct), 7);
	fill(m->sig, sizeof(m->sig), 8);
	fill(m->mac, sizeof(m->mac), 9);
}

static void sample_finish(struct pq_hs_finish_msg *m)
{
	m->sender_index = 0xdeadbeef;
	m->receiver_index = 0x01020304;
	fill(m->mac, sizeof(m->mac), 10);
}

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(PQ_HS_INIT_LEN, 1743);
	assert_int_equal(PQ_HS_RESP_LEN, 1705);
	assert_int_equal(PQ_HS_FINISH_LEN, 41);
	assert_int_equal(PQ_HS_INIT_SIG_OFF, 1679);
	assert_int_equal(PQ_HS_RESP_SIG_OFF, 1609);
	assert_int_equal(PQ_HS_RESP_MAC_OFF, 1673);
	assert_int_equal(PQ_HS_FINISH_MAC_OFF, 9);
}

static void test_init_round_trip(void **state)
{
	struct pq_hs_init_msg a, b;

	(void)state;
	sample_init(&a);
	assert_int_equal(pq_hs_init_encode(&a, buf, sizeof(buf)), PQ_HS_INIT_LEN);
	/* Field offsets as documented in docs/PROTOCOL.md §4. */
	assert_int_equal(buf[0], 0x10);
	assert_int_equal(buf[1], 1);
	assert_int_equal(buf[2], 1);
	assert_memory_equal(buf + 3, a.initiator_pub, 32);
	assert_int_equal(buf[35], 0xa1);
	assert_int_equal(buf[38], 0xd4);
	assert_int_equal(buf[39], 0x01);
	assert_int_equal(buf[46], 0x08);
	assert_memory_equal(buf + 47, a.random, 32);
	assert_memory_equal(buf + 79, a.x25519_pub, 32);
	assert_memory_equal(buf + 111, a.mlkem_ek, 1568);
	assert_memory_equal(buf + 1679, a.sig, 64);
	memset(&b, 0xee, sizeof(b));
	assert_int_equal(pq_hs_init_decode(&b, buf, PQ_HS_INIT_LEN), 0);
	assert_int_equal(b.version, 1);
	assert_int_equal(b.suite, 1);
	assert_memory_equal(b.initiator_pub, a.initiator_pub, 32);
	assert_int_equal(b.sender_index, a.sender_index);
	assert_int_equal(b.timestamp_ms, a.timestamp_ms);
	assert_memory_equal(b.random, a.random, 32);
	assert_memory_equal(b.x25519_pub, a.x25519_pub, 32);
	assert_memory_equal(b.mlkem_ek, a.mlkem_ek, 1568);
	assert_memory_equal(b.sig, a.sig, 64);
}

static void test_resp_finish_round_trip(void **state)
{
	struct pq_hs_resp_msg a, b;
	struct pq_hs_finish_msg fa, fb;

	(void)state;
	sample_resp(&a);
	assert_int_equal(pq_hs_resp_encode(&a, buf, sizeof(buf)), PQ_HS_RESP_LEN);
	assert_int_equal(buf[0], 0x11);
	assert_int_equal(buf[1], 0x11);
	assert_int_equal(buf[5], 0x55);
	assert_memory_equal(buf + 9, a.x25519_pub, 32);
	assert_memory_equal(buf + 41, a.mlkem_ct, 1568);
	assert_memory_equal(buf + 1609, a.sig, 64);
	assert_memory_equal(buf + 1673, a.mac, 32);
	assert_int_equal(pq_hs_resp_decode(&b, buf, PQ_HS_RESP_LEN), 0);
	assert_int_equal(b.sender_index, a.sender_index);
	assert_int_equal(b.receiver_index, a.receiver_index);
	assert_memory_equal(b.x25519_pub, a.x25519_pub, 32);
	assert_memory_equal(b.mlkem_ct, a.mlkem_ct, 1568);
	assert_memory_equal(b.sig, a.sig, 64);
	assert_memory_equal(b.mac, a.mac, 32);

	sample_finish(&fa);
	assert_int_equal(pq_hs_finish_encode(&fa, buf, sizeof(buf)), PQ_HS_FINISH_LEN);
	assert_int_equal(buf[0], 0x12);
	assert_int_equal(buf[1], 0xde);
	assert_int_equal(buf[5], 0x01);
	assert_memory_equal(buf + 9, fa.mac, 32);
	assert_int_equal(pq_hs_finish_decode(&fb, buf, PQ_HS_FINISH_LEN), 0);
	assert_int_equal(fb.sender_index, fa.sender_index);
	assert_int_equal(fb.receiver_index, fa.receiver_index);
	assert_memory_equal(fb.mac, fa.mac, 32);
}

/* One decoder behind a common signature, for the table-driven tests. */
static int dec_init(const uint8_t *in, size_t len)
{
	static struct pq_hs_init_msg m;
	return pq_hs_init_decode(&m, in, len);
}
static int dec_resp(const uint8_t *in, size_t len)
{
	static struct pq_hs_resp_msg m;
	return pq_hs_resp_decode(&m, in, len);
}
static int dec_finish(const uint8_t *in, size_t len)
{
	static struct pq_hs_finish_msg m;
	return pq_hs_finish_decode(&m, in, len);
}

struct codec {
	const char *name;
	uint8_t type;
	size_t len;
	int (*decode)(const uint8_t *in, size_t len);
};

static const struct codec codecs[] = {
	{ "HS_INIT", 0x10, PQ_HS_INIT_LEN, dec_init },
	{ "HS_RESP", 0x11, PQ_HS_RESP_LEN, dec_resp },
	{ "HS_FINISH", 0x12, PQ_HS_FINISH_LEN, dec_finish },
};

static void encode_sample(uint8_t type)
{
	struct pq_hs_init_msg i;
	struct pq_hs_resp_msg r;
	struct pq_hs_finish_msg f;

	sample_init(&i);
	sample_resp(&r);
	sample_finish(&f);
	memset(buf, 0xab, sizeof(buf));
	if (type == 0x10)
		assert_true(pq_hs_init_encode(&i, buf, sizeof(buf)) > 0);
	else if (type == 0x11)
		assert_true(pq_hs_resp_encode(&r, buf, sizeof(buf)) > 0);
	else
		assert_true(pq_hs_finish_encode(&f, buf, sizeof(buf)) > 0);
}

static void test_truncations_and_oversize(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		encode_sample(codecs[c].type);
		assert_int_equal(codecs[c].decode(buf, codecs[c].len), 0);
		for (size_t n = 0; n < codecs[c].len; n++, checked++)
			assert_int_equal(codecs[c].decode(buf, n), PQ_E_DECODE);
		for (size_t n = codecs[c].len + 1; n <= codecs[c].len + 8; n++, checked++)
			assert_int_equal(codecs[c].decode(buf, n), PQ_E_DECODE);
		assert_int_equal(codecs[c].decode(NULL, codecs[c].len), PQ_E_DECODE);
		checked++;
	}
	printf("checked: %u truncated/oversize handshake messages refused\n", checked);
}

static void test_all_type_bytes(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		encode_sample(codecs[c].type);
		for (int t = 0; t < 256; t++, checked++) {
			buf[0] = (uint8_t)t;
			assert_int_equal(codecs[c].decode(buf, codecs[c].len),
					 t == codecs[c].type ? 0 : PQ_E_DECODE);
		}
	}
	printf("checked: %u type bytes into handshake decoders\n", checked);
}

static void test_encoder_capacity(void **state)
{
	struct pq_hs_init_msg i;
	struct pq_hs_resp_msg r;
	struct pq_hs_finish_msg f;
	unsigned checked = 0;

	(void)state;
	sample_init(&i);
	sample_resp(&r);
	sample_finish(&f);
	for (size_t cap = 0; cap < PQ_HS_INIT_LEN; cap++, checked++)
		assert_int_equal(pq_hs_init_encode(&i, buf, cap), PQ_E_TOOBIG);
	for (size_t cap = 0; cap < PQ_HS_RESP_LEN; cap++, checked++)
		assert_int_equal(pq_hs_resp_encode(&r, buf, cap), PQ_E_TOOBIG);
	for (size_t cap = 0; cap < PQ_HS_FINISH_LEN; cap++, checked++)
		assert_int_equal(pq_hs_finish_encode(&f, buf, cap), PQ_E_TOOBIG);
	printf("checked: %u short encoder capacities refused\n", checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_init_round_trip),
		cmocka_unit_test(test_resp_finish_round_trip),
		cmocka_unit_test(test_truncations_and_oversize),
		cmocka_unit_test(test_all_type_bytes),
		cmocka_unit_test(test_encoder_capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
