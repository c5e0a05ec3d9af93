/*
 * gso_coalesce.c - TCP segments merged back into super-frames (see
 * gso_coalesce.h).
 */
#include <string.h>

#include "proto/gso_coalesce.h"
#include "proto/gso_int.h"
#include "proto/gso_seg.h"
#include "proto/inet_csum.h"
#include "proto/msg_sealed.h"

#define CO_MAX_IP_LEN 65535

/* One added frame read as TCP. */
struct co_seg {
	const uint8_t *f;
	size_t len, payload;
	struct gso_tcp t;
	uint32_t seq;
	uint16_t id;
	uint8_t flags;
	bool csum_ok;
};

int pq_gso_coalesce_init(struct pq_gso_coalesce *co, uint8_t *arena, size_t arena_len,
			 size_t max_len, struct pq_gso_out *out, size_t out_cap)
{
	if (!co || !arena || !out || out_cap == 0)
		return PQ_E_INVAL;
	if (max_len < PQ_DATA_MIN_LEN + 2 * PQ_GSO_MIN_SIZE || max_len > PQ_MAX_GSO_FRAME_LEN ||
	    arena_len < max_len)
		return PQ_E_INVAL;
	memset(co, 0, sizeof(*co));
	co->arena = arena;
	co->max_len = max_len;
	co->arena_len = arena_len;
	co->out = out;
	co->out_cap = out_cap;
	return 0;
}

void pq_gso_coalesce_reset(struct pq_gso_coalesce *co)
{
	if (!co)
		return;
	co->n_out = 0;
	co->arena_used = 0;
	co->n_flow = 0;
	co->finished = false;
}

/* Both checksums of a TCP frame as it came (RFC 1071: the data with its
 * checksum sums to all ones). */
static bool co_csum_ok(const struct co_seg *s)
{
	const uint8_t *ip = s->f + s->t.l3;
	size_t l4_len = s->len - s->t.l4;

	if (!s->t.v6 && pq_csum_fold(pq_csum_add(0, ip, s->t.l4 - s->t.l3)) != 0xFFFF)
		return false;
	return pq_csum_fold(pq_csum_add(pq_csum_pseudo(0, ip, s->t.v6, PQ_IPPROTO_TCP, (uint32_t)l4_len),
					s->f + s->t.l4, l4_len)) == 0xFFFF;
}

static int co_read(struct co_seg *s, const uint8_t *f, size_t len)
{
	int r = gso_parse_tcp(f, len, &s->t);
	const uint8_t *th;

	if (r)
		return r;
	th = f + s->t.l4;
	s->f = f;
	s->len = len;
	s->payload = len - s->t.hlen;
	s->seq = gso_get32(th + 4);
	s->id = s->t.v6 ? 0 : (uint16_t)gso_get16(f + s->t.l3 + 4);
	s->flags = th[13];
	s->csum_ok = co_csum_ok(s);
	return 0;
}

/* The IP addresses and TCP ports of the open super-frame fl. */
static bool co_same_flow(const struct pq_gso_co_flow *fl, const struct co_seg *s)
{
	const uint8_t *a = fl->first, *b = s->f;

	if (fl->v6 != s->t.v6 || fl->l3 != s->t.l3 || memcmp(a, b, fl->l3))
		return false;
	if (fl->v6 ? memcmp(a + fl->l3 + 8, b + fl->l3 + 8, 32) : memcmp(a + fl->l3 + 12, b + fl->l3 + 12, 8))
		return false;
	return memcmp(a + fl->l4, b + s->t.l4, 4) == 0;
}

/* Every header byte but the per-segment ones equal to the first's. */
static bool co_same_headers(const struct pq_gso_co_flow *fl, const struct co_seg *s)
{
	const uint8_t *ia = fl->first + fl->l3, *ib = s->f + fl->l3;
	const uint8_t *ta = fl->first + fl->l4, *tb = s->f + fl->l4;

	if (s->t.l4 != fl->l4 || s->t.hlen != fl->hlen)
		return false;
	if (fl->v6) {
		/* all but the payload length */
		if (memcmp(ia, ib, 4) || memcmp(ia + 6, ib + 6, GSO_IPV6_HLEN - 6))
			return false;
	} else if (memcmp(ia, ib, 2) || memcmp(ia + 6, ib + 6, 4) ||
		   memcmp(ia + 12, ib + 12, fl->l4 - fl->l3 - 12)) {
		/* all but total length, ID and checksum */
		return false;
	}
	/* ports; ack and data offset; window; urgent pointer and options */
	return !memcmp(ta, tb, 4) && !memcmp(ta + 8, tb + 8, 5) && !memcmp(ta + 14, tb + 14, 2) &&
	       !memcmp(ta + 18, tb + 18, fl->hlen - fl->l4 - 18);
}

static bool co_joins(const struct pq_gso_coalesce *co, const struct pq_gso_co_flow *fl,
		     const struct co_seg *s)
{
	if (!s->csum_ok || !co_same_headers(fl, s) || s->seq != fl->next_seq)
		return false;
	if (!fl->v6 && s->id != fl->next_id)
		return false;
	/* CWR only on the first; PSH or FIN may end it; the rest equal. */
	if ((s->flags & (uint8_t)~(PQ_TCP_PSH | PQ_TCP_FIN)) != (fl->flags & (uint8_t)~PQ_TCP_CWR))
		return false;
	if (s->payload == 0 || s->payload > fl->gso_size)
		return false;
	return fl->len + s->payload <= co->max_len && fl->len - fl->l3 + s->payload <= CO_MAX_IP_LEN;
}

/* A segment that may begin a super-frame: a full-sized data segment
 * that neither ends the burst nor needs its own packet. */
static bool co_can_start(const struct co_seg *s)
{
	uint8_t alone = PQ_TCP_SYN | PQ_TCP_RST | PQ_TCP_URG | PQ_TCP_PSH | PQ_TCP_FIN;

	return s->csum_ok && !(s->flags & alone) && s->payload >= PQ_GSO_MIN_SIZE &&
	       s->payload <= PQ_MAX_FRAME_LEN;
}

/* The whole's IP length and header checksum, flags, and the TCP partial
 * sum (the kernel's CHECKSUM_PARTIAL: the folded pseudo-header sum). */
static void co_finalize(struct pq_gso_coalesce *co, const struct pq_gso_co_flow *fl)
{
	uint8_t *ip = fl->buf + fl->l3, *th = fl->buf + fl->l4;
	struct pq_gso_out *o = &co->out[fl->out];

	if (fl->v6) {
		gso_put16(ip + 4, (unsigned)(fl->len - fl->l3 - GSO_IPV6_HLEN));
	} else {
		gso_put16(ip + 2, (unsigned)(fl->len - fl->l3));
		gso_put16(ip + 10, 0);
		gso_put16(ip + 10, pq_csum_finish(pq_csum_add(0, ip, fl->l4 - fl->l3)));
	}
	th[13] = fl->flags;
	gso_put16(th + 16, pq_csum_fold(pq_csum_pseudo(0, ip, fl->v6, PQ_IPPROTO_TCP,
						       (uint32_t)(fl->len - fl->l4))));
	o->hdr = (struct pq_gso_hdr){
		.flags = PQ_GSO_F_NEEDS_CSUM,
		.gso_type = fl->v6 ? PQ_GSO_TCPV6 : PQ_GSO_TCPV4,
		.hdr_len = (uint16_t)fl->hlen,
		.gso_size = (uint16_t)fl->gso_size,
		.csum_start = (uint16_t)fl->l4,
		.csum_offset = PQ_GSO_TCP_CSUM_OFF,
	};
	o->frame = fl->buf;
	o->len = fl->len;
}

/* No more segments join fl; a single segment stays as it came. A
 * super-frame reserved max_len bytes of the arena; what it did not use
 * goes back if nothing was reserved after it (always, with one flow). */
static void co_close(struct pq_gso_coalesce *co, struct pq_gso_co_flow *fl)
{
	if (fl->buf) {
		co_finalize(co, fl);
		if (fl->buf + fl->cap == co->arena + co->arena_used)
			co->arena_used -= fl->cap - fl->len;
	}
	*fl = co->flow[--co->n_flow];
}

/* A frame that is not TCP we read: it must not be overtaken by a segment
 * of its own flow, so it closes every super-frame between its IP
 * addresses (an IPv4 fragment, an IPv6 extension header, a padded
 * segment); one whose addresses cannot be read closes all. Frames that
 * are not IP close nothing. */
static void co_close_related(struct pq_gso_coalesce *co, const uint8_t *f, size_t len)
{
	size_t l3 = GSO_ETH_HLEN, i = 0;
	unsigned type;

	if (len >= GSO_ETH_HLEN + GSO_VLAN_HLEN && gso_get16(f + 12) == PQ_ETH_P_8021Q)
		l3 += GSO_VLAN_HLEN;
	type = len >= l3 ? gso_get16(f + l3 - 2) : 0;
	if (type != PQ_ETH_P_IPV4 && type != PQ_ETH_P_IPV6)
		return;
	while (i < co->n_flow) {
		const struct pq_gso_co_flow *fl = &co->flow[i];
		bool v6 = type == PQ_ETH_P_IPV6, related = true;

		if (fl->v6 == v6 && fl->l3 == l3 && len >= l3 + (v6 ? GSO_IPV6_HLEN : GSO_IPV4_MIN_HLEN))
			related = v6 ? !memcmp(fl->first + l3 + 8, f + l3 + 8, 32)
				     : !memcmp(fl->first + l3 + 12, f + l3 + 12, 8);
		else if (len >= l3 + (v6 ? GSO_IPV6_HLEN : GSO_IPV4_MIN_HLEN))
			related = false; /* readable, and another family or tag */
		if (related)
			co_close(co, &co->flow[i]);
		else
			i++;
	}
}

static size_t co_emit(struct pq_gso_coalesce *co, const uint8_t *f, size_t len)
{
	struct pq_gso_out *o = &co->out[co->n_out];

	memset(&o->hdr, 0, sizeof(o->hdr));
	o->frame = f;
	o->len = len;
	return co->n_out++;
}

static struct pq_gso_co_flow *co_find(struct pq_gso_coalesce *co, const struct co_seg *s)
{
	for (size_t i = 0; i < co->n_flow; i++)
		if (co_same_flow(&co->flow[i], s))
			return &co->flow[i];
	return NULL;
}

static void co_open(struct pq_gso_coalesce *co, const struct co_seg *s, size_t out_idx)
{
	struct pq_gso_co_flow *fl;

	if (co->n_flow == PQ_GSO_CO_FLOWS) { /* close the least recently grown */
		size_t lru = 0;

		for (size_t i = 1; i < co->n_flow; i++)
			if (co->flow[i].used < co->flow[lru].used)
				lru = i;
		co_close(co, &co->flow[lru]);
	}
	fl = &co->flow[co->n_flow++];
	*fl = (struct pq_gso_co_flow){
		.first = s->f,
		.len = s->len,
		.l3 = s->t.l3,
		.l4 = s->t.l4,
		.hlen = s->t.hlen,
		.gso_size = s->payload,
		.out = out_idx,
		.next_seq = s->seq + (uint32_t)s->payload,
		.next_id = (uint16_t)(s->id + 1),
		.flags = s->flags,
		.v6 = s->t.v6,
		.used = ++co->tick,
	};
}

/* s joins fl: the first segment moves into the arena when the second
 * comes. PQ_E_LIMIT when the arena has no room left (nothing changed). */
static int co_append(struct pq_gso_coalesce *co, struct pq_gso_co_flow *fl, const struct co_seg *s)
{
	if (!fl->buf) {
		size_t room = co->arena_len - co->arena_used;

		if (room < fl->len + s->payload)
			return PQ_E_LIMIT;
		fl->buf = co->arena + co->arena_used;
		fl->cap = room < co->max_len ? room : co->max_len;
		co->arena_used += fl->cap;
		memcpy(fl->buf, fl->first, fl->len);
	} else if (fl->len + s->payload > fl->cap) {
		return PQ_E_LIMIT;
	}
	memcpy(fl->buf + fl->len, s->f + s->t.hlen, s->payload);
	fl->len += s->payload;
	fl->next_seq += (uint32_t)s->payload;
	fl->next_id++;
	fl->flags |= s->flags & (PQ_TCP_PSH | PQ_TCP_FIN);
	fl->used = ++co->tick;
	/* After PSH or FIN the flags rule refuses every segment anyway;
	 * closing frees the entry now. */
	if ((s->flags & (PQ_TCP_PSH | PQ_TCP_FIN)) || s->payload < fl->gso_size)
		co_close(co, fl);
	return 0;
}

int pq_gso_coalesce_add(struct pq_gso_coalesce *co, const uint8_t *frame, size_t len)
{
	struct pq_gso_co_flow *fl;
	struct co_seg s;
	size_t idx;

	if (!co || !frame)
		return PQ_E_INVAL;
	if (co->finished)
		return PQ_E_STATE;
	if (co->n_out == co->out_cap)
		return PQ_E_LIMIT;
	if (co_read(&s, frame, len)) {
		co_close_related(co, frame, len);
		co_emit(co, frame, len);
		return 0;
	}
	fl = co_find(co, &s);
	if (fl && co_joins(co, fl, &s) && co_append(co, fl, &s) == 0)
		return 0;
	/* Not joined: nothing of its flow may overtake it. */
	if (fl)
		co_close(co, fl);
	idx = co_emit(co, frame, len);
	if (co_can_start(&s))
		co_open(co, &s, idx);
	return 0;
}

size_t pq_gso_coalesce_finish(struct pq_gso_coalesce *co, const struct pq_gso_out **out)
{
	if (!co) {
		if (out)
			*out = NULL;
		return 0;
	}
	while (co->n_flow)
		co_close(co, &co->flow[0]);
	co->finished = true;
	if (out)
		*out = co->out;
	return co->n_out;
}
