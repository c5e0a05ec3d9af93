/*
 * fuzz_msg_fed.c - libFuzzer target for what relays read from NATS
 * (src/proto/msg_fed.c): the presence record, the forward envelope and
 * the KV key. Every decoder sees the input.
 * Checks: no crash; at most one of the two records accepts (distinct
 * version bytes); an accepted one re-encodes to exactly the input; its
 * borrowed pointers lie inside the input; a presence record's keys are
 * strictly ascending (checked here pairwise, not by the codec's scan) and
 * each is found by pq_fed_watch_has; a name is valid; an accepted KV key
 * prints back to the same 64 characters.
 *
 * Seeds: tests/fuzz/corpus/fuzz_msg_fed, written by gen_corpus.c (make
 * fuzz-corpus): each record kind, and records one field away from valid.
 */
#include <stdint.h>
#include <string.h>

#include "proto/msg_fed.h"
#include "fuzz/fuzz.h"

static uint8_t out[PQ_FED_FORWARD_MAX];

static int presence(const uint8_t *data, size_t size)
{
	struct pq_fed_presence m;
	long len;

	if (pq_fed_presence_decode(&m, data, size))
		return 0;
	CHECK(pq_fed_name_valid(m.relay));
	CHECK(m.count <= PQ_RELAY_WATCH_MAX);
	CHECK(!m.count || (m.watch >= data && m.watch + m.count * PQ_PUBKEY_LEN == data + size));
	for (size_t i = 0; i < m.count; i++) {
		CHECK(pq_fed_watch_has(m.watch, m.count, m.watch + i * PQ_PUBKEY_LEN));
		if (i)
			CHECK(memcmp(m.watch + (i - 1) * PQ_PUBKEY_LEN, m.watch + i * PQ_PUBKEY_LEN,
				     PQ_PUBKEY_LEN) < 0);
	}
	len = pq_fed_presence_encode(&m, out, sizeof(out));
	CHECK(len == (long)size && memcmp(out, data, size) == 0);
	return 1;
}

static int forward(const uint8_t *data, size_t size)
{
	struct pq_fed_forward m;
	long len;

	if (pq_fed_forward_decode(&m, data, size))
		return 0;
	CHECK(pq_fed_name_valid(m.relay));
	CHECK(m.payload_len >= PQ_RELAY_PAYLOAD_MIN && m.payload_len <= PQ_RELAY_PAYLOAD_MAX);
	CHECK(m.payload > data && m.payload + m.payload_len == data + size);
	CHECK(memcmp(m.src, m.dst, PQ_PUBKEY_LEN) != 0);
	len = pq_fed_forward_encode(&m, out, sizeof(out));
	CHECK(len == (long)size && memcmp(out, data, size) == 0);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[PQ_PUBKEY_LEN];
	char hex[PQ_FED_KEY_HEX_LEN + 1];

	CHECK(presence(data, size) + forward(data, size) <= 1);
	if (pq_fed_key_from_hex(key, (const char *)data, size) == 0) {
		pq_fed_key_to_hex(hex, key);
		CHECK(size == PQ_FED_KEY_HEX_LEN && memcmp(hex, data, size) == 0);
	}
	return 0;
}
