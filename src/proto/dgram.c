/*
 * dgram.c - the datagram classifier of the UDP path (proto/dgram.h).
 */
#include <string.h>

#include "proto/dgram.h"
#include "proto/msg_rehs.h"
#include "proto/msg_sealed.h"
#include "proto/stun.h"

static size_t rehs_len(uint8_t type)
{
	switch (type) {
	case PQ_MSG_REHS_REQUEST:
		return PQ_REHS_REQUEST_MSG_LEN;
	case PQ_MSG_REHS_RESPONSE:
		return PQ_REHS_RESPONSE_MSG_LEN;
	case PQ_MSG_REHS_COMPLETE:
		return PQ_REHS_COMPLETE_MSG_LEN;
	default:
		return 0;
	}
}

enum pq_dgram_kind pq_dgram_classify(const uint8_t *in, size_t len, struct pq_dgram *out)
{
	struct pq_sealed_hdr h;
	const uint8_t *ct;
	size_t ct_len;

	memset(out, 0, sizeof(*out));
	if (!in || len == 0)
		return out->kind = PQ_DGRAM_BAD;
	if (pq_stun_detect(in, len))
		return out->kind = PQ_DGRAM_STUN;
	out->type = in[0];
	if (rehs_len(in[0])) {
		if (len != rehs_len(in[0]))
			return out->kind = PQ_DGRAM_BAD;
		out->session_id = in + 1;
		return out->kind = PQ_DGRAM_REHS;
	}
	if (pq_sealed_decode(&h, &ct, &ct_len, in, len) == 0) {
		out->receiver_index = h.receiver_index;
		return out->kind = PQ_DGRAM_SEALED;
	}
	out->type = 0;
	return out->kind = PQ_DGRAM_BAD;
}
