/*
 * fuzz_msg_rehs.c - libFuzzer target for the re-handshake codec
 * (src/proto/msg_rehs.c). The three decoders see the input.
 * Checks: no crash; only exact sizes and the matching type are accepted;
 * an accepted message re-encodes to exactly the input bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/msg_rehs.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pq_rehs_request req;
	struct pq_rehs_response resp;
	struct pq_rehs_complete comp;
	uint8_t out[PQ_REHS_MAX_MSG_LEN];
	size_t len = 0;
	int accepted = 0;

	if (pq_rehs_request_decode(&req, data, size) == 0) {
		accepted++;
		CHECK(size == PQ_REHS_REQUEST_MSG_LEN && data[0] == PQ_MSG_REHS_REQUEST);
		CHECK(pq_rehs_request_encode(out, sizeof(out), &len, &req) == 0);
		CHECK(len == size && memcmp(out, data, size) == 0);
	}
	if (pq_rehs_response_decode(&resp, data, size) == 0) {
		accepted++;
		CHECK(size == PQ_REHS_RESPONSE_MSG_LEN && data[0] == PQ_MSG_REHS_RESPONSE);
		CHECK(pq_rehs_response_encode(out, sizeof(out), &len, &resp) == 0);
		CHECK(len == size && memcmp(out, data, size) == 0);
	}
	if (pq_rehs_complete_decode(&comp, data, size) == 0) {
		accepted++;
		CHECK(size == PQ_REHS_COMPLETE_MSG_LEN && data[0] == PQ_MSG_REHS_COMPLETE);
		CHECK(pq_rehs_complete_encode(out, sizeof(out), &len, &comp) == 0);
		CHECK(len == size && memcmp(out, data, size) == 0);
	}
	CHECK(accepted <= 1);
	return 0;
}
