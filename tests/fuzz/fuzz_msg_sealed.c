/*
 * fuzz_msg_sealed.c - libFuzzer target for sealed messages
 * (src/proto/msg_sealed.c, src/proto/session.c).
 * The first byte picks what the rest is fed to:
 *   0  pq_sealed_decode, then pq_session_open on a session with fixed keys
 *   1  the ENDPOINTS, PROBE and PMTU_ACK plaintext decoders
 *   2  seal the rest as each sealed type, open it on the peer session
 * Checks: no crash; accepted plaintexts re-encode to the input; open never
 * accepts a forgery (mode 0 input was not sealed by us, so any accept
 * must be a message that mode 2 could have produced - impossible without
 * the key); every seal that succeeds opens to the same plaintext and type.
 * Sessions are rebuilt per input, so runs are reproducible.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/session.h"
#include "fuzz/fuzz.h"

#define NOW 1700000000000ULL

static void fixed_result(struct pq_hs_result *r, int initiator)
{
	memset(r, 0, sizeof(*r));
	r->event = PQ_HS_EV_KEYS;
	r->initiator = initiator;
	r->confirmed = 1;
	/* Indices the fuzzer can hit: 0x00000001 and 0x00000002. */
	r->local_index = initiator ? 1 : 2;
	r->remote_index = initiator ? 2 : 1;
	memset(r->keys.key_i2r, 0x11, sizeof(r->keys.key_i2r));
	memset(r->keys.key_r2i, 0x22, sizeof(r->keys.key_r2i));
}

static void decoders(const uint8_t *data, size_t size)
{
	struct pq_endpoints e;
	uint8_t out[PQ_ENDPOINTS_MAX_LEN], id[PQ_PROBE_ID_LEN];
	unsigned size_field;

	if (pq_endpoints_decode(&e, data, size) == 0) {
		CHECK(pq_endpoints_encode(&e, out, sizeof(out)) == (long)size);
		CHECK(memcmp(out, data, size) == 0);
		CHECK(pq_sealed_pt_len_ok(PQ_MSG_ENDPOINTS, size) == 0);
	}
	if (pq_probe_decode(id, data, size) == 0)
		CHECK(size == PQ_PROBE_ID_LEN && memcmp(id, data, size) == 0);
	if (pq_pmtu_ack_decode(&size_field, data, size) == 0) {
		CHECK(size == PQ_PMTU_ACK_LEN && size_field >= PQ_PMTU_MIN && size_field <= PQ_PMTU_MAX);
		pq_pmtu_ack_encode(size_field, out);
		CHECK(memcmp(out, data, size) == 0);
	}
}

static void open_raw(struct pq_session *rx, const uint8_t *data, size_t size)
{
	static uint8_t pt[PQ_SEALED_MAX_LEN];
	struct pq_sealed_hdr h;
	const uint8_t *ct;
	size_t ct_len;
	uint8_t type;

	if (pq_sealed_decode(&h, &ct, &ct_len, data, size) == 0)
		CHECK(ct == data + PQ_SEALED_HDR_LEN && ct_len == size - PQ_SEALED_HDR_LEN);
	/* A forged message never authenticates. */
	CHECK(pq_session_open(rx, data, size, pt, sizeof(pt), NOW, &type) < 0);
}

static void seal_open(struct pq_session *tx, struct pq_session *rx, const uint8_t *data, size_t size)
{
	static uint8_t wire[PQ_SEALED_MAX_LEN], pt[PQ_SEALED_MAX_LEN];

	for (uint8_t t = PQ_MSG_DATA; t <= PQ_MSG_DATA_FRAG; t++) {
		long n = pq_session_seal(tx, t, data, size, wire, sizeof(wire), NOW);
		uint8_t type = 0;

		if (n < 0) {
			CHECK(pq_sealed_pt_len_ok(t, size) != 0);
			continue;
		}
		CHECK((size_t)n == size + PQ_SEALED_OVERHEAD);
		CHECK(pq_session_open(rx, wire, (size_t)n, pt, sizeof(pt), NOW, &type) == (long)size);
		CHECK(type == t && (size == 0 || memcmp(pt, data, size) == 0));
		CHECK(pq_session_open(rx, wire, (size_t)n, pt, sizeof(pt), NOW, &type) == PQ_E_REPLAY);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pq_session a, b;
	struct pq_hs_result r;

	if (size < 1)
		return 0;
	pq_session_init(&a);
	pq_session_init(&b);
	fixed_result(&r, 1);
	CHECK(pq_session_install(&a, &r, NOW) == 0);
	fixed_result(&r, 0);
	CHECK(pq_session_install(&b, &r, NOW) == 0);
	switch (data[0] % 3) {
	case 0:
		open_raw(&b, data + 1, size - 1);
		break;
	case 1:
		decoders(data + 1, size - 1);
		break;
	default:
		seal_open(&a, &b, data + 1, size - 1);
		break;
	}
	pq_session_wipe(&a);
	pq_session_wipe(&b);
	return 0;
}
