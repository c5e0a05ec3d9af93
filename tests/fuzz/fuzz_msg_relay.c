/*
 * fuzz_msg_relay.c - libFuzzer target for the node <-> relay codec
 * (src/proto/msg_relay.c). Every decoder sees the input.
 * Checks: no crash; at most one decoder accepts (types are distinct); an
 * accepted message re-encodes to exactly the input bytes; a borrowed
 * payload lies inside the input. RELAY_WATCH: an accepted list has
 * 1..256 keys, pairwise distinct (checked here by sorting a copy, not by
 * the codec's own scan), and pq_relay_watch_build over the input read as
 * keys gives a message the decoder accepts, each distinct key once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/msg_relay.h"
#include "fuzz/fuzz.h"

static uint8_t out[PQ_MAX_MSG_LEN];
static uint8_t sorted[PQ_RELAY_WATCH_MAX][PQ_PUBKEY_LEN];

static void same_bytes(int rc, size_t len, const uint8_t *data, size_t size)
{
	CHECK(rc == 0);
	CHECK(len == size);
	CHECK(memcmp(out, data, size) == 0);
}

static int fwd(const uint8_t *data, size_t size, int send)
{
	struct pq_relay_fwd m;
	size_t len = 0;
	int rc = send ? pq_relay_send_decode(&m, data, size) : pq_relay_recv_decode(&m, data, size);

	if (rc) {
		CHECK(rc == PQ_E_DECODE);
		return 0;
	}
	CHECK(m.payload == data + 1 + PQ_PUBKEY_LEN);
	CHECK(m.payload_len >= PQ_RELAY_PAYLOAD_MIN && m.payload_len <= PQ_RELAY_PAYLOAD_MAX);
	rc = send ? pq_relay_send_encode(out, sizeof(out), &len, &m) : pq_relay_recv_encode(out, sizeof(out), &len, &m);
	same_bytes(rc, len, data, size);
	return 1;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PQ_PUBKEY_LEN);
}

/* Number of distinct keys among count (<= 256) keys at keys. */
static size_t distinct(const uint8_t *keys, size_t count)
{
	size_t n = count ? 1 : 0;

	memcpy(sorted, keys, count * PQ_PUBKEY_LEN);
	qsort(sorted, count, PQ_PUBKEY_LEN, key_cmp);
	for (size_t i = 1; i < count; i++)
		n += memcmp(sorted[i - 1], sorted[i], PQ_PUBKEY_LEN) != 0;
	return n;
}

static int watch(const uint8_t *data, size_t size)
{
	struct pq_relay_watch m;
	size_t len = 0;
	int rc = pq_relay_watch_decode(&m, data, size);

	if (rc) {
		CHECK(rc == PQ_E_DECODE);
		CHECK(m.keys == NULL && m.count == 0);
		return 0;
	}
	CHECK(m.keys == data + 3);
	CHECK(m.count >= 1 && m.count <= PQ_RELAY_WATCH_MAX);
	CHECK(size == PQ_RELAY_WATCH_MSG_LEN(m.count));
	CHECK(distinct(m.keys, m.count) == m.count);
	same_bytes(pq_relay_watch_encode(out, sizeof(out), &len, &m), len, data, size);
	same_bytes(pq_relay_watch_build(out, sizeof(out), &len, (const uint8_t(*)[PQ_PUBKEY_LEN])m.keys, m.count),
		   len, data, size);
	return 1;
}

/* The input as a list of keys: the builder sends each distinct one once. */
static void watch_build(const uint8_t *data, size_t size)
{
	struct pq_relay_watch m;
	size_t count = size / PQ_PUBKEY_LEN, len = 0;
	int rc;

	if (count > PQ_RELAY_WATCH_MAX)
		count = PQ_RELAY_WATCH_MAX;
	rc = pq_relay_watch_build(out, sizeof(out), &len, (const uint8_t(*)[PQ_PUBKEY_LEN])data, count);
	if (count == 0) {
		CHECK(rc == PQ_E_INVAL);
		return;
	}
	CHECK(rc == 0);
	CHECK(pq_relay_watch_decode(&m, out, len) == 0);
	CHECK(m.count == distinct(data, count));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pq_relay_challenge ch;
	struct pq_relay_auth au;
	struct pq_relay_welcome we;
	struct pq_peer_online on;
	struct pq_peer_key_msg km;
	struct pq_close cl;
	size_t len = 0;
	int accepted = 0;

	if (size > PQ_MAX_MSG_LEN + 1)
		return 0;
	if (!pq_relay_challenge_decode(&ch, data, size) && ++accepted)
		same_bytes(pq_relay_challenge_encode(out, sizeof(out), &len, &ch), len, data, size);
	if (!pq_relay_auth_decode(&au, data, size) && ++accepted)
		same_bytes(pq_relay_auth_encode(out, sizeof(out), &len, &au), len, data, size);
	if (!pq_relay_welcome_decode(&we, data, size) && ++accepted) {
		CHECK(pq_wire_addr_valid(&we.observed));
		same_bytes(pq_relay_welcome_encode(out, sizeof(out), &len, &we), len, data, size);
	}
	if (!pq_peer_online_decode(&on, data, size) && ++accepted) {
		CHECK(pq_wire_addr_valid(&on.observed));
		same_bytes(pq_peer_online_encode(out, sizeof(out), &len, &on), len, data, size);
	}
	if (!pq_peer_offline_decode(&km, data, size) && ++accepted)
		same_bytes(pq_peer_offline_encode(out, sizeof(out), &len, &km), len, data, size);
	if (!pq_unreachable_decode(&km, data, size) && ++accepted)
		same_bytes(pq_unreachable_encode(out, sizeof(out), &len, &km), len, data, size);
	if (!pq_close_decode(&cl, data, size) && ++accepted)
		same_bytes(pq_close_encode(out, sizeof(out), &len, &cl), len, data, size);
	accepted += fwd(data, size, 1);
	accepted += fwd(data, size, 0);
	accepted += watch(data, size);
	CHECK(accepted <= 1);
	watch_build(data, size);
	return 0;
}
