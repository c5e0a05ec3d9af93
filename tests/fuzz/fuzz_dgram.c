/*
 * fuzz_dgram.c - hostile datagrams into the UDP path's classifier
 * (src/proto/dgram.c): it never reads out of bounds, and what it accepts
 * is exactly what the decoders behind it accept (a re-handshake message
 * of its exact size, a sealed message within its type's bounds, a STUN
 * header); a pqlan message is never taken for STUN.
 *
 * Seeds: tests/fuzz/corpus/fuzz_dgram, written by gen_corpus.c (make
 * fuzz-corpus): STUN, the re-handshake messages, each sealed type, and
 * near misses.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "proto/dgram.h"
#include "proto/msg_rehs.h"
#include "proto/msg_sealed.h"
#include "proto/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pq_dgram d;
	struct pq_sealed_hdr h;
	const uint8_t *ct;
	size_t ct_len;
	enum pq_dgram_kind k = pq_dgram_classify(data, size, &d);

	CHECK(k == d.kind);
	switch (k) {
	case PQ_DGRAM_STUN:
		CHECK(size >= PQ_STUN_HDR_LEN && data[0] < 0x10);
		break;
	case PQ_DGRAM_REHS:
		CHECK(data[0] >= PQ_MSG_REHS_REQUEST && data[0] <= PQ_MSG_REHS_COMPLETE);
		CHECK(size == PQ_REHS_REQUEST_MSG_LEN || size == PQ_REHS_RESPONSE_MSG_LEN);
		CHECK(d.session_id == data + 1);
		break;
	case PQ_DGRAM_SEALED:
		CHECK(pq_sealed_decode(&h, &ct, &ct_len, data, size) == 0);
		CHECK(h.receiver_index == d.receiver_index && pq_sealed_type_ok(d.type));
		break;
	case PQ_DGRAM_BAD:
	default:
		CHECK(d.session_id == NULL);
		CHECK(!(size > 0 && pq_sealed_type_ok(data[0]) && pq_sealed_decode(&h, &ct, &ct_len, data, size) == 0));
		break;
	}
	return 0;
}
