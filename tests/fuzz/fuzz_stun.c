/*
 * fuzz_stun.c - libFuzzer target for the STUN codec, responder and client
 * transaction (src/proto/stun.c, stun_txn.c). The whole input is one
 * datagram, fed to each of them. Checks:
 *   - decode: accepted input passed pq_stun_detect, fits PQ_STUN_MAX_LEN,
 *     and re-encodes (what the encoder can write) to a message no longer
 *     than the input that decodes to the same fields;
 *   - respond: an answer decodes, carries the request's transaction id,
 *     is a Binding success with the source as XOR-MAPPED-ADDRESS or a 420
 *     listing unknown attributes, and is at most 2 x request + 4 bytes;
 *   - the client transaction: a datagram it takes gives a valid endpoint
 *     and ends the transaction; anything else leaves it untouched.
 * Seeds: tests/fuzz/corpus/fuzz_stun (RFC 5769's three messages, ours).
 */
#include <stdint.h>
#include <string.h>

#include "proto/stun.h"
#include "fuzz/fuzz.h"

static bool ep_same(const struct pq_endpoint *a, const struct pq_endpoint *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static bool same(const struct pq_stun_msg *a, const struct pq_stun_msg *b)
{
	return a->cls == b->cls && a->method == b->method && !memcmp(a->txid, b->txid, 12) &&
	       a->has_xor_mapped == b->has_xor_mapped && (!a->has_xor_mapped || ep_same(&a->xor_mapped, &b->xor_mapped)) &&
	       a->has_mapped == b->has_mapped && (!a->has_mapped || ep_same(&a->mapped, &b->mapped)) &&
	       a->error_code == b->error_code && a->unknown_attrs_count == b->unknown_attrs_count &&
	       !memcmp(a->unknown_attrs, b->unknown_attrs, sizeof(a->unknown_attrs)) &&
	       a->software_len == b->software_len && (!a->software) == (!b->software) &&
	       (!a->software_len || !memcmp(a->software, b->software, a->software_len)) &&
	       a->fingerprint == b->fingerprint;
}

static void decode_reencode(const uint8_t *data, size_t size)
{
	static uint8_t out[PQ_STUN_MAX_LEN];
	struct pq_stun_msg m, again;
	long n;

	if (pq_stun_decode(&m, data, size))
		return;
	CHECK(pq_stun_detect(data, size) && size <= PQ_STUN_MAX_LEN);
	m.integrity = false; /* the encoder cannot write it */
	n = pq_stun_encode(&m, out, sizeof(out));
	/* Never larger: each attribute we write was in the input at least as
	 * large (we drop the rest). */
	CHECK(n >= PQ_STUN_HDR_LEN && (size_t)n <= size);
	CHECK(pq_stun_decode(&again, out, (size_t)n) == 0);
	CHECK(same(&m, &again));
}

static void respond(const uint8_t *data, size_t size)
{
	static uint8_t out[PQ_STUN_MAX_LEN];
	static const uint8_t v4[4] = { 203, 0, 113, 9 };
	struct pq_endpoint src;
	struct pq_stun_msg req, resp;
	long n;

	memset(&src, 0, sizeof(src));
	pq_endpoint_set_v4(&src, v4, 40000);
	n = pq_stun_respond(data, size, &src, out, sizeof(out));
	if (n < 0)
		return;
	CHECK((size_t)n <= 2 * size + 4);
	CHECK(pq_stun_decode(&req, data, size) == 0);
	CHECK(req.cls == PQ_STUN_REQUEST && req.method == PQ_STUN_METHOD_BINDING);
	CHECK(pq_stun_decode(&resp, out, (size_t)n) == 0);
	CHECK(!memcmp(resp.txid, req.txid, 12) && resp.method == PQ_STUN_METHOD_BINDING);
	CHECK(resp.fingerprint == req.fingerprint);
	if (req.required_unknown_count)
		CHECK(resp.cls == PQ_STUN_ERROR && resp.error_code == 420 &&
		      resp.unknown_attrs_count == req.required_unknown_count);
	else
		CHECK(resp.cls == PQ_STUN_SUCCESS && resp.has_xor_mapped && ep_same(&resp.xor_mapped, &src));
}

static void client(const uint8_t *data, size_t size)
{
	/* RFC 5769's transaction id, so its responses are answers. */
	static const uint8_t txid[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };
	struct pq_stun_txn t, before;
	struct pq_endpoint got, keep;
	uint64_t next;
	int rc;

	pq_stun_txn_start(&t, txid, 0, 0, 0);
	CHECK(pq_stun_txn_poll(&t, 0, &next) == PQ_STUN_TXN_SEND);
	before = t;
	memset(&got, 0xa5, sizeof(got));
	keep = got;
	rc = pq_stun_txn_input(&t, data, size, &got);
	if (rc == 0) {
		struct pq_stun_msg m = { .has_xor_mapped = true, .xor_mapped = got };
		uint8_t out[PQ_STUN_MAX_LEN];

		CHECK(t.done);
		CHECK(pq_stun_encode(&m, out, sizeof(out)) > 0); /* a valid endpoint */
	} else {
		CHECK(!memcmp(&got, &keep, sizeof(got)));
		CHECK(rc == PQ_E_PEER ? t.done : !memcmp(&t, &before, sizeof(t)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_reencode(data, size);
	respond(data, size);
	client(data, size);
	return 0;
}
