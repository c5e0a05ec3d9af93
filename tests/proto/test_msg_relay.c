/*
 * test_msg_relay.c - the node <-> relay codec (src/proto/msg_relay.c):
 * round trips of every message, every truncation, one byte too many, all
 * 256 type bytes into every decoder, bad address families and fields,
 * encoder capacities, RELAY_WATCH's count, length and duplicate rules,
 * and the relay-auth signed bytes (DESIGN §2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/ed25519.h"
#include "proto/msg_relay.h"

/* ---- samples, one per message ---- */

static struct pq_relay_challenge s_chal;
static struct pq_relay_auth s_auth;
static struct pq_relay_welcome s_welcome;
static struct pq_peer_online s_online;
static struct pq_peer_key_msg s_key;
static struct pq_relay_fwd s_fwd;
static struct pq_close s_close;
static uint8_t s_payload[PQ_RELAY_PAYLOAD_MAX];
static uint8_t s_watch_keys[PQ_RELAY_WATCH_MAX][32]; /* distinct: key i starts with byte i */
static struct pq_relay_watch s_watch = { &s_watch_keys[0][0], PQ_RELAY_WATCH_MAX };

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

static void v4_addr(struct pq_wire_addr *a, uint8_t b0, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = PQ_ADDR_V4;
	a->addr[10] = 0xff;
	a->addr[11] = 0xff;
	a->addr[12] = b0;
	a->addr[13] = 0;
	a->addr[14] = 2;
	a->addr[15] = 1;
	a->port = port;
}

static void v6_addr(struct pq_wire_addr *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = PQ_ADDR_V6;
	a->addr[0] = 0x20;
	a->addr[1] = 0x01;
	a->addr[2] = 0x0d;
	a->addr[3] = 0xb8;
	a->addr[15] = 0x42;
	a->port = port;
}

static int setup_samples(void **state)
{
	(void)state;
	fill(s_chal.challenge, sizeof(s_chal.challenge), 1);
	fill(s_auth.node_key, sizeof(s_auth.node_key), 2);
	fill(s_auth.sig, sizeof(s_auth.sig), 3);
	v4_addr(&s_welcome.observed, 198, 51820);
	fill(s_online.key, sizeof(s_online.key), 4);
	v6_addr(&s_online.observed, 443);
	fill(s_key.key, sizeof(s_key.key), 5);
	fill(s_payload, sizeof(s_payload), 6);
	fill(s_fwd.key, sizeof(s_fwd.key), 7);
	s_fwd.payload = s_payload;
	s_fwd.payload_len = 100;
	s_close.reason = PQ_CLOSE_REPLACED;
	for (size_t i = 0; i < PQ_RELAY_WATCH_MAX; i++)
		fill(s_watch_keys[i], 32, (uint8_t)i);
	return 0;
}

static int addr_equal(const struct pq_wire_addr *a, const struct pq_wire_addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

/* ---- one row per message: encode the sample; decode and compare ---- */

typedef int (*enc_fn)(uint8_t *buf, size_t cap, size_t *len);
typedef int (*dec_fn)(const uint8_t *buf, size_t len, int *same);

static int enc_chal(uint8_t *b, size_t c, size_t *n) { return pq_relay_challenge_encode(b, c, n, &s_chal); }
static int enc_auth(uint8_t *b, size_t c, size_t *n) { return pq_relay_auth_encode(b, c, n, &s_auth); }
static int enc_welcome(uint8_t *b, size_t c, size_t *n) { return pq_relay_welcome_encode(b, c, n, &s_welcome); }
static int enc_online(uint8_t *b, size_t c, size_t *n) { return pq_peer_online_encode(b, c, n, &s_online); }
static int enc_offline(uint8_t *b, size_t c, size_t *n) { return pq_peer_offline_encode(b, c, n, &s_key); }
static int enc_send(uint8_t *b, size_t c, size_t *n) { return pq_relay_send_encode(b, c, n, &s_fwd); }
static int enc_recv(uint8_t *b, size_t c, size_t *n) { return pq_relay_recv_encode(b, c, n, &s_fwd); }
static int enc_unreach(uint8_t *b, size_t c, size_t *n) { return pq_unreachable_encode(b, c, n, &s_key); }
static int enc_close(uint8_t *b, size_t c, size_t *n) { return pq_close_encode(b, c, n, &s_close); }
static int enc_watch(uint8_t *b, size_t c, size_t *n) { return pq_relay_watch_encode(b, c, n, &s_watch); }

static int dec_chal(const uint8_t *b, size_t l, int *same)
{
	struct pq_relay_challenge m;
	int rc = pq_relay_challenge_decode(&m, b, l);

	*same = !rc && memcmp(m.challenge, s_chal.challenge, sizeof(m.challenge)) == 0;
	return rc;
}

static int dec_auth(const uint8_t *b, size_t l, int *same)
{
	struct pq_relay_auth m;
	int rc = pq_relay_auth_decode(&m, b, l);

	*same = !rc && memcmp(m.node_key, s_auth.node_key, 32) == 0 && memcmp(m.sig, s_auth.sig, 64) == 0;
	return rc;
}

static int dec_welcome(const uint8_t *b, size_t l, int *same)
{
	struct pq_relay_welcome m;
	int rc = pq_relay_welcome_decode(&m, b, l);

	*same = !rc && addr_equal(&m.observed, &s_welcome.observed);
	return rc;
}

static int dec_online(const uint8_t *b, size_t l, int *same)
{
	struct pq_peer_online m;
	int rc = pq_peer_online_decode(&m, b, l);

	*same = !rc && memcmp(m.key, s_online.key, 32) == 0 && addr_equal(&m.observed, &s_online.observed);
	return rc;
}

static int dec_offline(const uint8_t *b, size_t l, int *same)
{
	struct pq_peer_key_msg m;
	int rc = pq_peer_offline_decode(&m, b, l);

	*same = !rc && memcmp(m.key, s_key.key, 32) == 0;
	return rc;
}

static int dec_unreach(const uint8_t *b, size_t l, int *same)
{
	struct pq_peer_key_msg m;
	int rc = pq_unreachable_decode(&m, b, l);

	*same = !rc && memcmp(m.key, s_key.key, 32) == 0;
	return rc;
}

static int fwd_same(const struct pq_relay_fwd *m, const uint8_t *b)
{
	/* The payload is borrowed: it must point into the input buffer. */
	return memcmp(m->key, s_fwd.key, 32) == 0 && m->payload_len == s_fwd.payload_len &&
	       m->payload == b + 33 && memcmp(m->payload, s_fwd.payload, m->payload_len) == 0;
}

static int dec_send(const uint8_t *b, size_t l, int *same)
{
	struct pq_relay_fwd m;
	int rc = pq_relay_send_decode(&m, b, l);

	*same = !rc && fwd_same(&m, b);
	return rc;
}

static int dec_recv(const uint8_t *b, size_t l, int *same)
{
	struct pq_relay_fwd m;
	int rc = pq_relay_recv_decode(&m, b, l);

	*same = !rc && fwd_same(&m, b);
	return rc;
}

static int dec_close(const uint8_t *b, size_t l, int *same)
{
	struct pq_close m;
	int rc = pq_close_decode(&m, b, l);

	*same = !rc && m.reason == s_close.reason;
	return rc;
}

static int dec_watch(const uint8_t *b, size_t l, int *same)
{
	struct pq_relay_watch m;
	int rc = pq_relay_watch_decode(&m, b, l);

	/* The keys are borrowed: they must point into the input buffer. */
	*same = !rc && m.count == s_watch.count && m.keys == b + 3 &&
		memcmp(m.keys, s_watch.keys, m.count * 32) == 0;
	return rc;
}

struct codec {
	const char *name;
	uint8_t type;
	size_t min_len, max_len; /* whole message; equal for fixed sizes */
	enc_fn enc;
	dec_fn dec;
};

static const struct codec codecs[] = {
	{ "RELAY_CHALLENGE", PQ_MSG_RELAY_CHALLENGE, 33, 33, enc_chal, dec_chal },
	{ "RELAY_AUTH", PQ_MSG_RELAY_AUTH, 97, 97, enc_auth, dec_auth },
	{ "RELAY_WELCOME", PQ_MSG_RELAY_WELCOME, 20, 20, enc_welcome, dec_welcome },
	{ "PEER_ONLINE", PQ_MSG_PEER_ONLINE, 52, 52, enc_online, dec_online },
	{ "PEER_OFFLINE", PQ_MSG_PEER_OFFLINE, 33, 33, enc_offline, dec_offline },
	{ "RELAY_SEND", PQ_MSG_RELAY_SEND, 34, PQ_MAX_MSG_LEN, enc_send, dec_send },
	{ "RELAY_RECV", PQ_MSG_RELAY_RECV, 34, PQ_MAX_MSG_LEN, enc_recv, dec_recv },
	{ "UNREACHABLE", PQ_MSG_UNREACHABLE, 33, 33, enc_unreach, dec_unreach },
	{ "CLOSE", PQ_MSG_CLOSE, 3, 3, enc_close, dec_close },
	/* The sample lists the most keys, so it is also the longest. */
	{ "RELAY_WATCH", PQ_MSG_RELAY_WATCH, 35, 8195, enc_watch, dec_watch },
};
#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

static uint8_t buf[PQ_MAX_MSG_LEN + 2];

/* Round trip, plus decode(encode(x)) re-encodes to the same bytes. */
static void test_round_trip(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (size_t i = 0; i < N_CODECS; i++) {
		const struct codec *c = &codecs[i];
		size_t len = 0;
		int same = 0;

		assert_int_equal(c->enc(buf, sizeof(buf), &len), 0);
		assert_int_equal(buf[0], c->type);
		assert_true(len >= c->min_len && len <= c->max_len);
		assert_int_equal(c->dec(buf, len, &same), 0);
		assert_true(same);
		checked++;
	}
	assert_int_equal(checked, 10);
	printf("checked: %u relay round trips\n", checked);
}

/* Every length below the minimum is rejected, and so is one byte more
 * than the maximum (the bytes are otherwise a valid message). */
static void test_truncated_and_oversized(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (size_t i = 0; i < N_CODECS; i++) {
		const struct codec *c = &codecs[i];
		size_t len = 0;
		int same;

		if (c->max_len > c->min_len)
			s_fwd.payload_len = PQ_RELAY_PAYLOAD_MAX;
		assert_int_equal(c->enc(buf, sizeof(buf), &len), 0);
		assert_int_equal(len, c->max_len);
		for (size_t l = 0; l < c->min_len; l++, checked++)
			assert_int_equal(c->dec(buf, l, &same), PQ_E_DECODE);
		buf[len] = 0xAA;
		assert_int_equal(c->dec(buf, len + 1, &same), PQ_E_DECODE);
		assert_int_equal(c->dec(NULL, 0, &same), PQ_E_DECODE);
		checked += 2;
		/* The largest is accepted. */
		assert_int_equal(c->dec(buf, len, &same), 0);
		assert_true(same);
		s_fwd.payload_len = 100;
	}
	printf("checked: %u truncated/oversized relay messages\n", checked);
}

/* All 256 type bytes into every decoder: only its own type passes. */
static void test_all_type_bytes(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (size_t i = 0; i < N_CODECS; i++) {
		const struct codec *c = &codecs[i];
		size_t len = 0;
		int same;

		assert_int_equal(c->enc(buf, sizeof(buf), &len), 0);
		for (unsigned t = 0; t < 256; t++, checked++) {
			buf[0] = (uint8_t)t;
			assert_int_equal(c->dec(buf, len, &same), t == c->type ? 0 : PQ_E_DECODE);
		}
	}
	assert_int_equal(checked, 10 * 256);
	printf("checked: %u type bytes x decoders\n", checked);
}

/* Every capacity below the message size gives PQ_E_TOOBIG. */
static void test_encoder_capacity(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (size_t i = 0; i < N_CODECS; i++) {
		const struct codec *c = &codecs[i];
		size_t len = 0, full = 0;

		assert_int_equal(c->enc(buf, sizeof(buf), &full), 0);
		for (size_t cap = 0; cap < full; cap++, checked++)
			assert_int_equal(c->enc(buf, cap, &len), PQ_E_TOOBIG);
		assert_int_equal(c->enc(buf, full, &len), 0);
		assert_int_equal(len, full);
	}
	printf("checked: %u short encoder capacities\n", checked);
}

/* Address rules: family 4 needs ::ffff:a.b.c.d, family 6 must not be
 * v4-mapped, no unspecified address, no port 0, no other family. Checked
 * on both decoders that carry an address, byte-patched on the wire. */
static void check_addr_rejects(const struct codec *c, size_t addr_off, unsigned *checked)
{
	uint8_t good[64];
	size_t len = 0;
	int same;

	assert_int_equal(c->enc(good, sizeof(good), &len), 0);
	for (unsigned fam = 0; fam < 256; fam++, (*checked)++) {
		memcpy(buf, good, len);
		buf[addr_off] = (uint8_t)fam;
		if (fam == PQ_ADDR_V4 || fam == PQ_ADDR_V6)
			continue; /* covered below: validity depends on the address */
		assert_int_equal(c->dec(buf, len, &same), PQ_E_DECODE);
	}
	/* Port 0. */
	memcpy(buf, good, len);
	buf[len - 2] = buf[len - 1] = 0;
	assert_int_equal(c->dec(buf, len, &same), PQ_E_DECODE);
	/* Family/address mismatch: flip the family only. */
	memcpy(buf, good, len);
	buf[addr_off] = buf[addr_off] == PQ_ADDR_V4 ? PQ_ADDR_V6 : PQ_ADDR_V4;
	assert_int_equal(c->dec(buf, len, &same), PQ_E_DECODE);
	/* Unspecified addresses under either family. */
	memcpy(buf, good, len);
	buf[addr_off] = PQ_ADDR_V6;
	memset(buf + addr_off + 1, 0, 16);
	assert_int_equal(c->dec(buf, len, &same), PQ_E_DECODE);
	buf[addr_off] = PQ_ADDR_V4;
	buf[addr_off + 11] = buf[addr_off + 12] = 0xff;
	assert_int_equal(c->dec(buf, len, &same), PQ_E_DECODE);
	/* The same address made valid again decodes (the test can fail). */
	buf[addr_off + 13] = 10;
	assert_int_equal(c->dec(buf, len, &same), 0);
	*checked += 5;
}

static void test_address_family(void **state)
{
	struct pq_relay_welcome w;
	struct pq_peer_online o;
	size_t len;
	unsigned checked = 0;

	(void)state;
	check_addr_rejects(&codecs[2], 1, &checked);       /* WELCOME: type | addr */
	check_addr_rejects(&codecs[3], 1 + 32, &checked);  /* PEER_ONLINE: type | key | addr */
	/* Encoders refuse what decoders would refuse. */
	w = s_welcome;
	w.observed.family = 5;
	assert_int_equal(pq_relay_welcome_encode(buf, sizeof(buf), &len, &w), PQ_E_INVAL);
	w = s_welcome;
	w.observed.port = 0;
	assert_int_equal(pq_relay_welcome_encode(buf, sizeof(buf), &len, &w), PQ_E_INVAL);
	o = s_online;
	o.observed.family = PQ_ADDR_V4; /* a non-mapped IPv6 address */
	assert_int_equal(pq_peer_online_encode(buf, sizeof(buf), &len, &o), PQ_E_INVAL);
	checked += 3;
	/* Wire layout of an IPv4 observed address: 4 | ::ffff:198.0.2.1 | port. */
	assert_int_equal(pq_relay_welcome_encode(buf, sizeof(buf), &len, &s_welcome), 0);
	{
		static const uint8_t want[20] = { 0x03, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
						  198, 0, 2, 1, 0xca, 0x6c };
		assert_int_equal(len, 20);
		assert_memory_equal(buf, want, 20);
	}
	printf("checked: %u address family/field cases\n", checked);
}

static void test_close_reasons(void **state)
{
	uint8_t m[3] = { PQ_MSG_CLOSE, 0, 0 };
	struct pq_close c;
	size_t len;
	unsigned checked = 0;

	(void)state;
	for (unsigned r = 0; r < 0x10000; r++, checked++) {
		int valid = r >= PQ_CLOSE_NORMAL && r <= PQ_CLOSE_TOO_BIG;

		m[1] = (uint8_t)(r >> 8);
		m[2] = (uint8_t)r;
		assert_int_equal(pq_close_decode(&c, m, 3), valid ? 0 : PQ_E_DECODE);
		if (valid)
			assert_int_equal(c.reason, r);
		c.reason = (uint16_t)r;
		assert_int_equal(pq_close_encode(buf, sizeof(buf), &len, &c), valid ? 0 : PQ_E_INVAL);
	}
	assert_string_equal(pq_close_reason_name(PQ_CLOSE_REPLACED), "replaced by a newer connection");
	assert_string_equal(pq_close_reason_name(0), "unknown");
	printf("checked: %u CLOSE reason codes\n", checked);
}

/* RELAY_WATCH: 3 + 32 * count bytes exactly, count 1..256, no key twice;
 * the builder drops repeated keys, the encoder refuses them. */
static void test_watch_rules(void **state)
{
	static uint8_t keys[PQ_RELAY_WATCH_MAX + 1][32];
	static uint8_t big[PQ_RELAY_WATCH_MSG_LEN(PQ_RELAY_WATCH_MAX + 1)];
	struct pq_relay_watch m = { &s_watch_keys[0][0], 1 }, d;
	size_t len;
	unsigned checked = 0;

	(void)state;
	/* Exact sizes: one key, two keys, the most. */
	for (size_t n = 1; n <= PQ_RELAY_WATCH_MAX; n = n == 1 ? 2 : n == 2 ? PQ_RELAY_WATCH_MAX : n + 1) {
		m.count = n;
		assert_int_equal(pq_relay_watch_encode(buf, sizeof(buf), &len, &m), 0);
		assert_int_equal(len, 3 + 32 * n);
		assert_int_equal(buf[1], n >> 8);
		assert_int_equal(buf[2], n & 0xff);
		assert_int_equal(pq_relay_watch_decode(&d, buf, len), 0);
		assert_int_equal(d.count, n);
		/* One byte short (the last key cut) and one trailing byte. */
		assert_int_equal(pq_relay_watch_decode(&d, buf, len - 1), PQ_E_DECODE);
		assert_null(d.keys);
		buf[len] = 0;
		assert_int_equal(pq_relay_watch_decode(&d, buf, len + 1), PQ_E_DECODE);
		checked += 4;
	}
	assert_int_equal(PQ_RELAY_WATCH_MSG_LEN(1), 35);
	assert_int_equal(PQ_RELAY_WATCH_MSG_MAX, 8195);

	/* Count 0: alone (3 bytes) and followed by a key (35 bytes). */
	m.count = 1;
	assert_int_equal(pq_relay_watch_encode(buf, sizeof(buf), &len, &m), 0);
	buf[2] = 0;
	assert_int_equal(pq_relay_watch_decode(&d, buf, 3), PQ_E_DECODE);
	assert_int_equal(pq_relay_watch_decode(&d, buf, len), PQ_E_DECODE);
	/* The count says 2 keys, one is there (truncated); says 1, two are
	 * there (trailing key). */
	buf[2] = 2;
	assert_int_equal(pq_relay_watch_decode(&d, buf, len), PQ_E_DECODE);
	m.count = 2;
	assert_int_equal(pq_relay_watch_encode(buf, sizeof(buf), &len, &m), 0);
	buf[2] = 1;
	assert_int_equal(pq_relay_watch_decode(&d, buf, len), PQ_E_DECODE);
	buf[2] = 2;
	assert_int_equal(pq_relay_watch_decode(&d, buf, len), 0);
	checked += 5;

	/* Count 257 with 257 distinct keys: too long for any RELAY_WATCH. */
	for (size_t i = 0; i <= PQ_RELAY_WATCH_MAX; i++) {
		fill(keys[i], 32, (uint8_t)i);
		keys[i][31] = (uint8_t)(i >> 8);
	}
	big[0] = PQ_MSG_RELAY_WATCH;
	big[1] = (PQ_RELAY_WATCH_MAX + 1) >> 8;
	big[2] = (PQ_RELAY_WATCH_MAX + 1) & 0xff;
	memcpy(big + 3, keys, sizeof(keys));
	assert_int_equal(pq_relay_watch_decode(&d, big, sizeof(big)), PQ_E_DECODE);
	/* ... nor with 256 keys behind it (count and length disagree). */
	assert_int_equal(pq_relay_watch_decode(&d, big, PQ_RELAY_WATCH_MSG_MAX), PQ_E_DECODE);
	big[1] = PQ_RELAY_WATCH_MAX >> 8;
	big[2] = PQ_RELAY_WATCH_MAX & 0xff;
	assert_int_equal(pq_relay_watch_decode(&d, big, PQ_RELAY_WATCH_MSG_MAX), 0);
	checked += 3;

	/* A key twice, adjacent or first and last: malformed. */
	m.count = 2;
	assert_int_equal(pq_relay_watch_encode(buf, sizeof(buf), &len, &m), 0);
	memcpy(buf + 35, buf + 3, 32);
	assert_int_equal(pq_relay_watch_decode(&d, buf, len), PQ_E_DECODE);
	memcpy(big + 3 + 32 * (PQ_RELAY_WATCH_MAX - 1), big + 3, 32);
	assert_int_equal(pq_relay_watch_decode(&d, big, PQ_RELAY_WATCH_MSG_MAX), PQ_E_DECODE);
	checked += 2;

	/* Encoder: count 0, 257, no keys, a key twice are refused. */
	m.count = 0;
	assert_int_equal(pq_relay_watch_encode(buf, sizeof(buf), &len, &m), PQ_E_INVAL);
	m.keys = &keys[0][0];
	m.count = PQ_RELAY_WATCH_MAX + 1;
	assert_int_equal(pq_relay_watch_encode(big, sizeof(big), &len, &m), PQ_E_INVAL);
	m.keys = NULL;
	m.count = 1;
	assert_int_equal(pq_relay_watch_encode(buf, sizeof(buf), &len, &m), PQ_E_INVAL);
	memcpy(keys[1], keys[0], 32);
	m.keys = &keys[0][0];
	m.count = 2;
	assert_int_equal(pq_relay_watch_encode(buf, sizeof(buf), &len, &m), PQ_E_INVAL);
	checked += 4;

	/* Builder: repeated keys are sent once; 257 keys of which 256
	 * distinct fit; none, or 257 distinct, do not. */
	assert_int_equal(pq_relay_watch_build(buf, sizeof(buf), &len, (const uint8_t(*)[32])keys,
					      PQ_RELAY_WATCH_MAX + 1), 0);
	assert_int_equal(len, PQ_RELAY_WATCH_MSG_MAX);
	assert_int_equal(pq_relay_watch_decode(&d, buf, len), 0);
	assert_int_equal(d.count, PQ_RELAY_WATCH_MAX);
	assert_memory_equal(d.keys, keys[0], 32);
	assert_memory_equal(d.keys + 32, keys[2], 32);
	assert_int_equal(pq_relay_watch_build(buf, sizeof(buf), &len, (const uint8_t(*)[32])keys, 2), 0);
	assert_int_equal(len, 35);
	assert_int_equal(pq_relay_watch_build(buf, sizeof(buf), &len, (const uint8_t(*)[32])keys, 0),
			 PQ_E_INVAL);
	assert_int_equal(pq_relay_watch_build(buf, 34, &len, (const uint8_t(*)[32])keys, 1), PQ_E_TOOBIG);
	fill(keys[1], 32, 1);
	keys[1][31] = 0;
	assert_int_equal(pq_relay_watch_build(big, sizeof(big), &len, (const uint8_t(*)[32])keys,
					      PQ_RELAY_WATCH_MAX + 1), PQ_E_INVAL);
	checked += 5;
	printf("checked: %u RELAY_WATCH count/length/duplicate rules\n", checked);
}

/* Payload bounds of RELAY_SEND/RECV: 1..PQ_MAX_MSG_LEN-33. */
static void test_forward_bounds(void **state)
{
	struct pq_relay_fwd m = s_fwd, d;
	size_t len;

	(void)state;
	m.payload_len = 0;
	assert_int_equal(pq_relay_send_encode(buf, sizeof(buf), &len, &m), PQ_E_INVAL);
	m.payload_len = PQ_RELAY_PAYLOAD_MAX + 1;
	assert_int_equal(pq_relay_recv_encode(buf, sizeof(buf), &len, &m), PQ_E_INVAL);
	m.payload_len = 1;
	assert_int_equal(pq_relay_send_encode(buf, sizeof(buf), &len, &m), 0);
	assert_int_equal(len, 34);
	assert_int_equal(pq_relay_send_decode(&d, buf, len), 0);
	assert_int_equal(d.payload_len, 1);
	assert_ptr_equal(d.payload, buf + 33);
	assert_int_equal(PQ_RELAY_PAYLOAD_MAX, PQ_MAX_MSG_LEN - 33);
	m.payload_len = PQ_RELAY_PAYLOAD_MAX;
	assert_int_equal(pq_relay_recv_encode(buf, sizeof(buf), &len, &m), 0);
	assert_int_equal(len, PQ_MAX_MSG_LEN);
	/* A SEND is not a RECV and vice versa. */
	assert_int_equal(pq_relay_send_decode(&d, buf, len), PQ_E_DECODE);
	assert_int_equal(pq_relay_recv_decode(&d, buf, len), 0);
	printf("checked: 7 forward payload bounds\n");
}

/* The signed bytes: label || challenge || exporter, and a signature over
 * them verifies only with the same challenge and exporter. */
static void test_auth_signed_bytes(void **state)
{
	uint8_t challenge[32], exporter[32], other[32], msg[PQ_RELAY_AUTH_SIGNED_LEN];
	uint8_t msg2[PQ_RELAY_AUTH_SIGNED_LEN], priv[32];
	struct pq_signer *signer = NULL;
	struct pq_relay_auth auth, got;
	size_t len;

	(void)state;
	fill(challenge, 32, 0x10);
	fill(exporter, 32, 0x20);
	memcpy(other, exporter, 32);
	other[31] ^= 1;
	assert_int_equal(PQ_RELAY_AUTH_SIGNED_LEN, 19 + 32 + 32);
	pq_relay_auth_signed_bytes(msg, challenge, exporter);
	assert_memory_equal(msg, "pqlan v1 relay auth", 19);
	assert_memory_equal(msg + 19, challenge, 32);
	assert_memory_equal(msg + 51, exporter, 32);

	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_signer_new(&signer, priv), 0);
	memcpy(auth.node_key, pq_signer_public(signer), 32);
	assert_int_equal(pq_signer_sign(signer, auth.sig, msg, sizeof(msg)), 0);
	assert_int_equal(pq_relay_auth_encode(buf, sizeof(buf), &len, &auth), 0);
	assert_int_equal(pq_relay_auth_decode(&got, buf, len), 0);
	assert_int_equal(pq_ed25519_verify(got.sig, msg, sizeof(msg), got.node_key), 0);
	/* Replayed on another TLS connection (other exporter): refused. */
	pq_relay_auth_signed_bytes(msg2, challenge, other);
	assert_int_equal(pq_ed25519_verify(got.sig, msg2, sizeof(msg2), got.node_key), PQ_E_AUTH);
	pq_signer_free(signer);
	printf("checked: 3 relay auth signed-bytes cases\n");
}

/* The node's answer: a RELAY_AUTH carrying the signer's key and a
 * signature over exactly the auth bytes; anything but a challenge refused. */
static void test_auth_answer(void **state)
{
	uint8_t priv[32], chal_msg[PQ_RELAY_CHALLENGE_MSG_LEN], exporter[PQ_TLS_EXPORTER_LEN];
	uint8_t out[PQ_RELAY_AUTH_MSG_LEN], signed_bytes[PQ_RELAY_AUTH_SIGNED_LEN];
	struct pq_relay_challenge ch;
	struct pq_relay_auth auth;
	struct pq_signer *s = NULL;
	size_t n;

	(void)state;
	memset(ch.challenge, 0x5a, sizeof(ch.challenge));
	memset(exporter, 0xc3, sizeof(exporter));
	assert_int_equal(pq_relay_challenge_encode(chal_msg, sizeof(chal_msg), &n, &ch), 0);
	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_signer_new(&s, priv), 0);
	assert_int_equal(pq_relay_auth_answer(out, s, chal_msg, n, exporter), 0);
	assert_int_equal(pq_relay_auth_decode(&auth, out, sizeof(out)), 0);
	assert_memory_equal(auth.node_key, pq_signer_public(s), 32);
	pq_relay_auth_signed_bytes(signed_bytes, ch.challenge, exporter);
	assert_int_equal(pq_ed25519_verify(auth.sig, signed_bytes, sizeof(signed_bytes), auth.node_key), 0);
	exporter[0] ^= 1;  /* another connection: the signature does not carry over */
	pq_relay_auth_signed_bytes(signed_bytes, ch.challenge, exporter);
	assert_int_equal(pq_ed25519_verify(auth.sig, signed_bytes, sizeof(signed_bytes), auth.node_key), PQ_E_AUTH);
	assert_int_equal(pq_relay_auth_answer(out, s, out, sizeof(out), exporter), PQ_E_DECODE);
	assert_int_equal(pq_relay_auth_answer(out, s, chal_msg, n - 1, exporter), PQ_E_DECODE);
	pq_signer_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_and_oversized),
		cmocka_unit_test(test_all_type_bytes),
		cmocka_unit_test(test_encoder_capacity),
		cmocka_unit_test(test_address_family),
		cmocka_unit_test(test_close_reasons),
		cmocka_unit_test(test_forward_bounds),
		cmocka_unit_test(test_watch_rules),
		cmocka_unit_test(test_auth_signed_bytes),
		cmocka_unit_test(test_auth_answer),
	};

	return cmocka_run_group_tests(tests, setup_samples, NULL);
}
