/*
 * msg_rehs.c - re-handshake message codec, the seed story's wire format
 * exactly (DESIGN §5, docs/PROTOCOL.md §5).
 */
#include <string.h>

#include "proto/msg_rehs.h"
#include "util/cursor.h"

static int encode_done(struct pq_wcursor *wc, size_t *out_len)
{
	long n = pq_wc_finish(wc);

	if (n < 0)
		return (int)n;
	*out_len = (size_t)n;
	return 0;
}

/* The framing check comes before any other work (DESIGN §2). */
static int start_decode(struct pq_rcursor *rc, const uint8_t *buf, size_t len, uint8_t type, size_t msg_len)
{
	if (!buf || len != msg_len || buf[0] != type)
		return PQ_E_DECODE;
	pq_rc_init(rc, buf, len);
	(void)pq_rc_u8(rc);
	return 0;
}

int pq_rehs_request_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_rehs_request *m)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, PQ_MSG_REHS_REQUEST);
	pq_wc_bytes(&wc, m->session_id, sizeof(m->session_id));
	pq_wc_bytes(&wc, m->challenge, sizeof(m->challenge));
	pq_wc_u64(&wc, m->timestamp_ms);
	return encode_done(&wc, out_len);
}

int pq_rehs_response_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_rehs_response *m)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, PQ_MSG_REHS_RESPONSE);
	pq_wc_bytes(&wc, m->session_id, sizeof(m->session_id));
	pq_wc_bytes(&wc, m->mac, sizeof(m->mac));
	pq_wc_bytes(&wc, m->counter_challenge, sizeof(m->counter_challenge));
	pq_wc_u64(&wc, m->timestamp_ms);
	return encode_done(&wc, out_len);
}

int pq_rehs_complete_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_rehs_complete *m)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, buf, cap);
	pq_wc_u8(&wc, PQ_MSG_REHS_COMPLETE);
	pq_wc_bytes(&wc, m->session_id, sizeof(m->session_id));
	pq_wc_bytes(&wc, m->mac, sizeof(m->mac));
	pq_wc_u64(&wc, m->timestamp_ms);
	return encode_done(&wc, out_len);
}

int pq_rehs_request_decode(struct pq_rehs_request *m, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;

	memset(m, 0, sizeof(*m));
	if (start_decode(&rc, buf, len, PQ_MSG_REHS_REQUEST, PQ_REHS_REQUEST_MSG_LEN))
		return PQ_E_DECODE;
	pq_rc_bytes(&rc, m->session_id, sizeof(m->session_id));
	pq_rc_bytes(&rc, m->challenge, sizeof(m->challenge));
	m->timestamp_ms = pq_rc_u64(&rc);
	if (pq_rc_finish(&rc)) {
		memset(m, 0, sizeof(*m));
		return PQ_E_DECODE;
	}
	return 0;
}

int pq_rehs_response_decode(struct pq_rehs_response *m, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;

	memset(m, 0, sizeof(*m));
	if (start_decode(&rc, buf, len, PQ_MSG_REHS_RESPONSE, PQ_REHS_RESPONSE_MSG_LEN))
		return PQ_E_DECODE;
	pq_rc_bytes(&rc, m->session_id, sizeof(m->session_id));
	pq_rc_bytes(&rc, m->mac, sizeof(m->mac));
	pq_rc_bytes(&rc, m->counter_challenge, sizeof(m->counter_challenge));
	m->timestamp_ms = pq_rc_u64(&rc);
	if (pq_rc_finish(&rc)) {
		memset(m, 0, sizeof(*m));
		return PQ_E_DECODE;
	}
	return 0;
}

int pq_rehs_complete_decode(struct pq_rehs_complete *m, const uint8_t *buf, size_t len)
{
	struct pq_rcursor rc;

	memset(m, 0, sizeof(*m));
	if (start_decode(&rc, buf, len, PQ_MSG_REHS_COMPLETE, PQ_REHS_COMPLETE_MSG_LEN))
		return PQ_E_DECODE;
	pq_rc_bytes(&rc, m->session_id, sizeof(m->session_id));
	pq_rc_bytes(&rc, m->mac, sizeof(m->mac));
	m->timestamp_ms = pq_rc_u64(&rc);
	if (pq_rc_finish(&rc)) {
		memset(m, 0, sizeof(*m));
		return PQ_E_DECODE;
	}
	return 0;
}
