/*
 * msg_handshake.c - HS_INIT / HS_RESP / HS_FINISH codecs (DESIGN §3).
 * Layouts in msg_handshake.h and docs/PROTOCOL.md §4.
 */
#include "proto/msg_handshake.h"
#include "util/cursor.h"

long pq_hs_init_encode(const struct pq_hs_init_msg *m, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, PQ_MSG_HS_INIT);
	pq_wc_u8(&wc, m->version);
	pq_wc_u8(&wc, m->suite);
	pq_wc_bytes(&wc, m->initiator_pub, sizeof(m->initiator_pub));
	pq_wc_u32(&wc, m->sender_index);
	pq_wc_u64(&wc, m->timestamp_ms);
	pq_wc_bytes(&wc, m->random, sizeof(m->random));
	pq_wc_bytes(&wc, m->x25519_pub, sizeof(m->x25519_pub));
	pq_wc_bytes(&wc, m->mlkem_ek, sizeof(m->mlkem_ek));
	pq_wc_bytes(&wc, m->sig, sizeof(m->sig));
	return pq_wc_finish(&wc);
}

long pq_hs_resp_encode(const struct pq_hs_resp_msg *m, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, PQ_MSG_HS_RESP);
	pq_wc_u32(&wc, m->sender_index);
	pq_wc_u32(&wc, m->receiver_index);
	pq_wc_bytes(&wc, m->x25519_pub, sizeof(m->x25519_pub));
	pq_wc_bytes(&wc, m->mlkem_ct, sizeof(m->mlkem_ct));
	pq_wc_bytes(&wc, m->sig, sizeof(m->sig));
	pq_wc_bytes(&wc, m->mac, sizeof(m->mac));
	return pq_wc_finish(&wc);
}

long pq_hs_finish_encode(const struct pq_hs_finish_msg *m, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, PQ_MSG_HS_FINISH);
	pq_wc_u32(&wc, m->sender_index);
	pq_wc_u32(&wc, m->receiver_index);
	pq_wc_bytes(&wc, m->mac, sizeof(m->mac));
	return pq_wc_finish(&wc);
}

/* Type byte and exact size first, before any field is read (DESIGN §2). */
static int check_frame(const uint8_t *in, size_t len, uint8_t type, size_t want)
{
	if (!in || len != want || in[0] != type)
		return PQ_E_DECODE;
	return 0;
}

int pq_hs_init_decode(struct pq_hs_init_msg *m, const uint8_t *in, size_t len)
{
	struct pq_rcursor rc;
	int ret = check_frame(in, len, PQ_MSG_HS_INIT, PQ_HS_INIT_LEN);

	if (ret)
		return ret;
	pq_rc_init(&rc, in + 1, len - 1);
	m->version = pq_rc_u8(&rc);
	m->suite = pq_rc_u8(&rc);
	pq_rc_bytes(&rc, m->initiator_pub, sizeof(m->initiator_pub));
	m->sender_index = pq_rc_u32(&rc);
	m->timestamp_ms = pq_rc_u64(&rc);
	pq_rc_bytes(&rc, m->random, sizeof(m->random));
	pq_rc_bytes(&rc, m->x25519_pub, sizeof(m->x25519_pub));
	pq_rc_bytes(&rc, m->mlkem_ek, sizeof(m->mlkem_ek));
	pq_rc_bytes(&rc, m->sig, sizeof(m->sig));
	return pq_rc_finish(&rc);
}

int pq_hs_resp_decode(struct pq_hs_resp_msg *m, const uint8_t *in, size_t len)
{
	struct pq_rcursor rc;
	int ret = check_frame(in, len, PQ_MSG_HS_RESP, PQ_HS_RESP_LEN);

	if (ret)
		return ret;
	pq_rc_init(&rc, in + 1, len - 1);
	m->sender_index = pq_rc_u32(&rc);
	m->receiver_index = pq_rc_u32(&rc);
	pq_rc_bytes(&rc, m->x25519_pub, sizeof(m->x25519_pub));
	pq_rc_bytes(&rc, m->mlkem_ct, sizeof(m->mlkem_ct));
	pq_rc_bytes(&rc, m->sig, sizeof(m->sig));
	pq_rc_bytes(&rc, m->mac, sizeof(m->mac));
	return pq_rc_finish(&rc);
}

int pq_hs_finish_decode(struct pq_hs_finish_msg *m, const uint8_t *in, size_t len)
{
	struct pq_rcursor rc;
	int ret = check_frame(in, len, PQ_MSG_HS_FINISH, PQ_HS_FINISH_LEN);

	if (ret)
		return ret;
	pq_rc_init(&rc, in + 1, len - 1);
	m->sender_index = pq_rc_u32(&rc);
	m->receiver_index = pq_rc_u32(&rc);
	pq_rc_bytes(&rc, m->mac, sizeof(m->mac));
	return pq_rc_finish(&rc);
}
