/*
 * gso_hdr.c - the DATA_GSO offload header (see gso_hdr.h).
 */
#include <string.h>

#include "proto/gso_hdr.h"
#include "proto/msg_sealed.h"
#include "util/cursor.h"

bool pq_gso_hdr_is_zero(const struct pq_gso_hdr *h)
{
	return !h->flags && !h->gso_type && !h->hdr_len && !h->gso_size && !h->csum_start &&
	       !h->csum_offset;
}

static bool csum_ok(const struct pq_gso_hdr *h, size_t frame_len)
{
	if (!(h->flags & PQ_GSO_F_NEEDS_CSUM))
		return h->csum_start == 0 && h->csum_offset == 0;
	/* The checksum field (2 bytes at csum_start + csum_offset) lies in
	 * the frame; the summed data starts past the Ethernet header. */
	return h->csum_start >= PQ_DATA_MIN_LEN &&
	       (size_t)h->csum_start + h->csum_offset + 2 <= frame_len;
}

static bool type_ok(const struct pq_gso_hdr *h, size_t frame_len)
{
	switch (h->gso_type) {
	case PQ_GSO_NONE:
		/* Not a super-frame: one MTU-sized frame, as in DATA. */
		return h->gso_size == 0 && frame_len <= PQ_MAX_FRAME_LEN;
	case PQ_GSO_TCPV4:
	case PQ_GSO_TCPV6:
		/* The kernel segments it and fills in each TCP checksum: the
		 * checksum is TCP's (offset 16 in its header), the TCP header
		 * starts past an Ethernet and a minimal IP header, and the
		 * segment size is a real MSS. Kernels before 2024 trusted
		 * these fields (a gso_size of 0xFFFF, GSO_BY_FRAGS, or a
		 * wrong csum_offset reached skb_segment); a gso_size of 1
		 * would make a 64 KiB frame into 65 000 segments. */
		return (h->flags & PQ_GSO_F_NEEDS_CSUM) && h->gso_size >= PQ_GSO_MIN_SIZE &&
		       h->gso_size <= PQ_MAX_FRAME_LEN && h->csum_offset == PQ_GSO_TCP_CSUM_OFF &&
		       h->csum_start >= PQ_DATA_MIN_LEN + (h->gso_type == PQ_GSO_TCPV4 ? 20 : 40);
	default:
		return false;
	}
}

int pq_gso_hdr_check(const struct pq_gso_hdr *h, size_t frame_len)
{
	if (!h || frame_len < PQ_DATA_MIN_LEN || frame_len > PQ_MAX_GSO_FRAME_LEN)
		return PQ_E_DECODE;
	if (h->flags & ~PQ_GSO_F_NEEDS_CSUM)
		return PQ_E_DECODE;
	if (!type_ok(h, frame_len) || !csum_ok(h, frame_len) || h->hdr_len > frame_len)
		return PQ_E_DECODE;
	return 0;
}

int pq_gso_frame_check(const struct pq_gso_hdr *h, const uint8_t *frame, size_t frame_len)
{
	size_t l3 = 14;
	unsigned type, want;

	if (!h || !frame || frame_len < PQ_DATA_MIN_LEN)
		return PQ_E_DECODE;
	if (h->gso_type == PQ_GSO_NONE)
		return 0;
	if (frame_len < 18)
		return PQ_E_DECODE;
	type = (unsigned)frame[12] << 8 | frame[13];
	if (type == PQ_ETH_P_8021Q) { /* one 802.1Q tag */
		type = (unsigned)frame[16] << 8 | frame[17];
		l3 = 18;
	}
	want = h->gso_type == PQ_GSO_TCPV4 ? PQ_ETH_P_IPV4 : PQ_ETH_P_IPV6;
	if (type != want || h->csum_start < l3 + (want == PQ_ETH_P_IPV4 ? 20 : 40))
		return PQ_E_DECODE;
	return 0;
}

long pq_gso_hdr_encode(const struct pq_gso_hdr *h, size_t frame_len, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	if (pq_gso_hdr_check(h, frame_len))
		return PQ_E_INVAL;
	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, h->flags);
	pq_wc_u8(&wc, h->gso_type);
	pq_wc_u16(&wc, h->hdr_len);
	pq_wc_u16(&wc, h->gso_size);
	pq_wc_u16(&wc, h->csum_start);
	pq_wc_u16(&wc, h->csum_offset);
	return pq_wc_finish(&wc);
}

int pq_gso_decode(struct pq_gso_hdr *h, const uint8_t **frame, size_t *frame_len,
		  const uint8_t *pt, size_t len)
{
	struct pq_rcursor rc;
	const uint8_t *f;
	size_t flen;

	memset(h, 0, sizeof(*h));
	*frame = NULL;
	*frame_len = 0;
	if (!pt || len < PQ_DATA_GSO_MIN_LEN || len > PQ_DATA_GSO_MAX_LEN)
		return PQ_E_DECODE;
	flen = len - PQ_GSO_HDR_LEN;
	pq_rc_init(&rc, pt, len);
	h->flags = pq_rc_u8(&rc);
	h->gso_type = pq_rc_u8(&rc);
	h->hdr_len = pq_rc_u16(&rc);
	h->gso_size = pq_rc_u16(&rc);
	h->csum_start = pq_rc_u16(&rc);
	h->csum_offset = pq_rc_u16(&rc);
	f = pq_rc_take(&rc, flen);
	if (pq_rc_finish(&rc) == 0 && pq_gso_hdr_check(h, flen) == 0) {
		*frame = f;
		*frame_len = flen;
		return 0;
	}
	memset(h, 0, sizeof(*h));
	return PQ_E_DECODE;
}
