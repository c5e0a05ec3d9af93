/*
 * gso_seg.c - TCP segmentation and checksum completion of TAP frames
 * (see gso_seg.h).
 */
#include <string.h>

#include "proto/gso_seg.h"
#include "proto/gso_int.h"
#include "proto/inet_csum.h"

enum seg_mode {
	SEG_PASS = 1, /* one frame, untouched */
	SEG_CSUM,     /* one frame, checksum at csum_start completed */
	SEG_TCP,      /* TCP segments */
};

/* The headers of a TCP frame we may cut: gso_parse_tcp, and neither SYN
 * nor RST (they take no part in a byte stream cut into segments). Fills
 * the offsets and the super-frame's fields; 0, GSO_NOT_TCP or
 * PQ_E_DECODE. */
static int seg_parse(struct pq_gso_seg *it)
{
	struct gso_tcp t;
	const uint8_t *ip, *th;
	int r = gso_parse_tcp(it->frame, it->len, &t);

	if (r)
		return r;
	ip = it->frame + t.l3;
	th = it->frame + t.l4;
	if (th[13] & (PQ_TCP_SYN | PQ_TCP_RST))
		return GSO_NOT_TCP;
	it->l3 = t.l3;
	it->l4 = t.l4;
	it->hlen = t.hlen;
	it->v6 = t.v6;
	it->ip_id = t.v6 ? 0 : (uint16_t)gso_get16(ip + 4);
	it->seq = gso_get32(th + 4);
	it->tcp_flags = th[13];
	it->urp = (uint16_t)gso_get16(th + 18);
	return 0;
}

/* TCP mode with at most mss payload bytes per segment. */
static int seg_plan(struct pq_gso_seg *it, size_t mss, size_t max_frame)
{
	size_t payload = it->len - it->hlen;

	if (max_frame < it->hlen + (payload ? 1 : 0))
		return PQ_E_TOOBIG;
	if (mss > max_frame - it->hlen)
		mss = max_frame - it->hlen;
	it->mode = SEG_TCP;
	it->mss = mss;
	it->nseg = payload ? (unsigned)((payload + mss - 1) / mss) : 1;
	return 0;
}

/* A TSO super-frame: its headers must be the ones hdr describes. */
static int seg_init_tso(struct pq_gso_seg *it, const struct pq_gso_hdr *hdr, size_t max_frame)
{
	int r;

	if (pq_gso_frame_check(hdr, it->frame, it->len))
		return PQ_E_DECODE;
	r = seg_parse(it);
	if (r)
		return PQ_E_DECODE;
	/* frame_check matched the EtherType to gso_type; the parser the
	 * version nibble to the EtherType. */
	if (hdr->csum_start != it->l4)
		return PQ_E_DECODE;
	return seg_plan(it, hdr->gso_size, max_frame);
}

/* A frame without GSO that is larger than max_frame. */
static int seg_init_large(struct pq_gso_seg *it, const struct pq_gso_hdr *hdr, size_t max_frame)
{
	int r = seg_parse(it);

	if (r == GSO_NOT_TCP)
		return PQ_E_TOOBIG;
	if (r)
		return r;
	if ((hdr->flags & PQ_GSO_F_NEEDS_CSUM) &&
	    (hdr->csum_start != it->l4 || hdr->csum_offset != PQ_GSO_TCP_CSUM_OFF))
		return PQ_E_DECODE;
	return seg_plan(it, it->len, max_frame);
}

int pq_gso_seg_init(struct pq_gso_seg *it, const struct pq_gso_hdr *hdr, const uint8_t *frame,
		    size_t len, size_t max_frame)
{
	int r;

	if (!it)
		return PQ_E_INVAL;
	memset(it, 0, sizeof(*it));
	it->frame = frame;
	it->len = len;
	if (!hdr || !frame)
		r = PQ_E_INVAL;
	else if (pq_gso_hdr_check(hdr, len))
		r = PQ_E_DECODE;
	else if (hdr->gso_type != PQ_GSO_NONE)
		r = seg_init_tso(it, hdr, max_frame);
	else if (len > max_frame)
		r = seg_init_large(it, hdr, max_frame);
	else {
		it->mode = (hdr->flags & PQ_GSO_F_NEEDS_CSUM) ? SEG_CSUM : SEG_PASS;
		it->csum_start = hdr->csum_start;
		it->csum_offset = hdr->csum_offset;
		it->nseg = 1;
		r = 0;
	}
	if (r) {
		memset(it, 0, sizeof(*it));
		it->err = r;
	}
	return r;
}

unsigned pq_gso_seg_count(const struct pq_gso_seg *it)
{
	return it && !it->err ? it->nseg : 0;
}

/* virtio 1.2 §5.1.6.2: the sum from csum_start to the end, the partial
 * value at csum_start + csum_offset included; 0 goes out as 0xFFFF, as
 * the kernel's skb_checksum_help does (0 means "no checksum" to UDP). */
static void seg_complete_csum(const struct pq_gso_seg *it, uint8_t *f)
{
	uint8_t *field = f + it->csum_start + it->csum_offset;
	uint16_t c = pq_csum_finish(pq_csum_add(0, f + it->csum_start, it->len - it->csum_start));

	gso_put16(field, c ? c : 0xFFFF);
}

/* Segment number it->done: headers from the super-frame, then per-segment
 * fields, then the checksums over the result. */
static long seg_write_tcp(struct pq_gso_seg *it, uint8_t *out, size_t cap)
{
	size_t off = (size_t)it->done * it->mss, n = it->len - it->hlen - off, seg_len;
	bool first = it->done == 0, last = it->done + 1 == it->nseg;
	uint8_t *ip = out + it->l3, *th = out + it->l4, flags = it->tcp_flags;
	uint16_t urp = it->urp;

	if (n > it->mss)
		n = it->mss;
	seg_len = it->hlen + n;
	if (cap < seg_len)
		return PQ_E_TOOBIG;
	memcpy(out, it->frame, it->hlen);
	memcpy(out + it->hlen, it->frame + it->hlen + off, n);
	if (it->v6) {
		gso_put16(ip + 4, (unsigned)(seg_len - it->l3 - GSO_IPV6_HLEN));
	} else {
		size_t ihl = it->l4 - it->l3;

		gso_put16(ip + 2, (unsigned)(seg_len - it->l3));
		gso_put16(ip + 4, (it->ip_id + it->done) & 0xFFFF);
		gso_put16(ip + 10, 0);
		gso_put16(ip + 10, pq_csum_finish(pq_csum_add(0, ip, ihl)));
	}
	if (!last)
		flags &= (uint8_t)~(PQ_TCP_FIN | PQ_TCP_PSH);
	if (!first)
		flags &= (uint8_t)~PQ_TCP_CWR;
	/* The urgent pointer counts from the segment's sequence number
	 * (RFC 9293 §3.8.5); without URG the field is copied. */
	if (flags & PQ_TCP_URG) {
		if (it->urp > off) {
			urp = (uint16_t)(it->urp - off);
		} else {
			flags &= (uint8_t)~PQ_TCP_URG;
			urp = 0;
		}
	}
	gso_put32(th + 4, it->seq + (uint32_t)off);
	th[13] = flags;
	gso_put16(th + 16, 0);
	gso_put16(th + 18, urp);
	gso_put16(th + 16, pq_csum_finish(pq_csum_add(pq_csum_pseudo(0, ip, it->v6, PQ_IPPROTO_TCP,
								   (uint32_t)(seg_len - it->l4)),
						  th, seg_len - it->l4)));
	it->done++;
	return (long)seg_len;
}

long pq_gso_seg_next(struct pq_gso_seg *it, uint8_t *out, size_t cap)
{
	if (!it)
		return PQ_E_INVAL;
	if (it->err)
		return it->err;
	if (it->done >= it->nseg)
		return 0;
	if (!out)
		return PQ_E_INVAL;
	if (it->mode == SEG_TCP)
		return seg_write_tcp(it, out, cap);
	if (cap < it->len)
		return PQ_E_TOOBIG;
	memcpy(out, it->frame, it->len);
	if (it->mode == SEG_CSUM)
		seg_complete_csum(it, out);
	it->done++;
	return (long)it->len;
}
