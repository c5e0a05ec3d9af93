/*
 * fuzz_msg_handshake.c - libFuzzer target for the handshake codecs
 * (src/proto/msg_handshake.c). The three decoders see the input.
 * Checks: no crash; only the exact size with the matching type byte is
 * accepted; an accepted message re-encodes to exactly the input bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/msg_handshake.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pq_hs_init_msg init;
	static struct pq_hs_resp_msg resp;
	static struct pq_hs_finish_msg fin;
	static uint8_t out[PQ_HS_INIT_LEN];
	int accepted = 0;

	if (pq_hs_init_decode(&init, data, size) == 0) {
		accepted++;
		CHECK(size == PQ_HS_INIT_LEN && data[0] == PQ_MSG_HS_INIT);
		CHECK(pq_hs_init_encode(&init, out, sizeof(out)) == (long)size);
		CHECK(memcmp(out, data, size) == 0);
	}
	if (pq_hs_resp_decode(&resp, data, size) == 0) {
		accepted++;
		CHECK(size == PQ_HS_RESP_LEN && data[0] == PQ_MSG_HS_RESP);
		CHECK(pq_hs_resp_encode(&resp, out, sizeof(out)) == (long)size);
		CHECK(memcmp(out, data, size) == 0);
	}
	if (pq_hs_finish_decode(&fin, data, size) == 0) {
		accepted++;
		CHECK(size == PQ_HS_FINISH_LEN && data[0] == PQ_MSG_HS_FINISH);
		CHECK(pq_hs_finish_encode(&fin, out, sizeof(out)) == (long)size);
		CHECK(memcmp(out, data, size) == 0);
	}
	CHECK(accepted <= 1);
	return 0;
}
