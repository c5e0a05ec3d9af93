/*
 * fuzz_gso_hdr.c - libFuzzer target for the DATA_GSO offload header
 * (src/proto/gso_hdr.c): the input is a DATA_GSO plaintext as a peer
 * could send it. Checks: no crash; an accepted header re-encodes to the
 * input's first 10 bytes, its frame is the rest of the input, and it obeys
 * every rule the kernel relies on (checked here independently of the
 * decoder); a refused one leaves nothing behind; the frame check agrees
 * with the EtherType of an accepted TCP header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/gso_hdr.h"
#include "fuzz/fuzz.h"

/* The rules of gso_hdr.h, written out again. */
static int model_ok(const struct pq_gso_hdr *h, size_t flen)
{
	int tso = h->gso_type == PQ_GSO_TCPV4 || h->gso_type == PQ_GSO_TCPV6;

	if (flen < 14 || flen > PQ_MAX_GSO_FRAME_LEN || (h->flags != 0 && h->flags != 1))
		return 0;
	if (!tso && (h->gso_type != 0 || h->gso_size != 0 || flen > PQ_MAX_FRAME_LEN))
		return 0;
	if (tso && (h->flags != 1 || h->gso_size < 48 || h->gso_size > PQ_MAX_FRAME_LEN ||
		    h->csum_offset != 16 || h->csum_start < (h->gso_type == PQ_GSO_TCPV4 ? 34 : 54)))
		return 0;
	if (h->hdr_len > flen)
		return 0;
	if (h->flags == 1)
		return h->csum_start >= 14 && (size_t)h->csum_start + h->csum_offset + 2 <= flen;
	return h->csum_start == 0 && h->csum_offset == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pq_gso_hdr h, raw = { 0 };
	const uint8_t *frame = (const uint8_t *)1;
	uint8_t out[PQ_GSO_HDR_LEN];
	size_t flen = 1;
	int ok = pq_gso_decode(&h, &frame, &flen, data, size) == 0;

	if (size >= PQ_GSO_HDR_LEN) {
		raw.flags = data[0];
		raw.gso_type = data[1];
		raw.hdr_len = (uint16_t)(data[2] << 8 | data[3]);
		raw.gso_size = (uint16_t)(data[4] << 8 | data[5]);
		raw.csum_start = (uint16_t)(data[6] << 8 | data[7]);
		raw.csum_offset = (uint16_t)(data[8] << 8 | data[9]);
		CHECK(ok == model_ok(&raw, size - PQ_GSO_HDR_LEN));
		CHECK((pq_gso_hdr_check(&raw, size - PQ_GSO_HDR_LEN) == 0) == ok);
	} else {
		CHECK(!ok);
	}
	if (!ok) {
		CHECK(frame == NULL && flen == 0 && pq_gso_hdr_is_zero(&h));
		return 0;
	}
	CHECK(memcmp(&h, &raw, sizeof(h)) == 0);
	CHECK(frame == data + PQ_GSO_HDR_LEN && flen == size - PQ_GSO_HDR_LEN);
	CHECK(pq_gso_hdr_encode(&h, flen, out, sizeof(out)) == PQ_GSO_HDR_LEN);
	CHECK(memcmp(out, data, PQ_GSO_HDR_LEN) == 0);
	/* The frame check: no crash; a TCP header needs its EtherType. */
	if (pq_gso_frame_check(&h, frame, flen) == 0 && h.gso_type != PQ_GSO_NONE) {
		size_t t = 12;

		if (frame[12] == 0x81 && frame[13] == 0x00)
			t = 16;
		CHECK(frame[t] == (h.gso_type == PQ_GSO_TCPV4 ? 0x08 : 0x86));
		CHECK(frame[t + 1] == (h.gso_type == PQ_GSO_TCPV4 ? 0x00 : 0xdd));
	}
	return 0;
}
