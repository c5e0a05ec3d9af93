/*
 * frag.c - DATA_FRAG pieces: cutting, reading and putting together
 * (proto/frag.h).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/frag.h"
#include "util/cursor.h"

int pq_frag_plan(size_t total, size_t max_pt, size_t *piece_size, size_t *count)
{
	size_t room, n, size;

	if (total < PQ_DATA_GSO_MIN_LEN)
		return PQ_E_INVAL;
	if (total > PQ_FRAG_MAX_TOTAL || max_pt <= PQ_FRAG_HDR_LEN)
		return PQ_E_TOOBIG;
	room = max_pt - PQ_FRAG_HDR_LEN;
	if (total <= room)
		return PQ_E_INVAL;
	n = (total + room - 1) / room;
	if (n > PQ_FRAG_MAX_PIECES)
		return PQ_E_TOOBIG;
	/* As equal as possible; rounding up may need one piece fewer. */
	size = (total + n - 1) / n;
	*piece_size = size;
	*count = (total + size - 1) / size;
	return 0;
}

/* The length piece index of a whole cut this way holds. */
static size_t piece_len(size_t total, size_t piece_size, size_t count, size_t index)
{
	return index + 1 < count ? piece_size : total - (count - 1) * piece_size;
}

long pq_frag_encode(uint32_t id, const uint8_t *whole, size_t total, size_t piece_size, size_t index,
		    uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;
	size_t count, len;

	if (!whole || total < PQ_DATA_GSO_MIN_LEN || total > PQ_FRAG_MAX_TOTAL || piece_size == 0 ||
	    piece_size >= total)
		return PQ_E_INVAL;
	count = (total + piece_size - 1) / piece_size;
	if (count > PQ_FRAG_MAX_PIECES || index >= count)
		return PQ_E_INVAL;
	len = piece_len(total, piece_size, count, index);
	pq_wc_init(&wc, out, cap);
	pq_wc_u32(&wc, id);
	pq_wc_u16(&wc, (uint16_t)total);
	pq_wc_u16(&wc, (uint16_t)piece_size);
	pq_wc_u8(&wc, (uint8_t)index);
	pq_wc_bytes(&wc, whole + index * piece_size, len);
	return pq_wc_finish(&wc);
}

int pq_frag_decode(struct pq_frag_piece *out, const uint8_t *pt, size_t len)
{
	struct pq_rcursor rc;
	struct pq_frag_piece p;

	if (!pt || len <= PQ_FRAG_HDR_LEN)
		return PQ_E_DECODE;
	pq_rc_init(&rc, pt, PQ_FRAG_HDR_LEN);
	p.id = pq_rc_u32(&rc);
	p.total = pq_rc_u16(&rc);
	p.piece_size = pq_rc_u16(&rc);
	p.index = pq_rc_u8(&rc);
	if (pq_rc_finish(&rc))
		return PQ_E_DECODE;
	if (p.total < PQ_DATA_GSO_MIN_LEN || p.total > PQ_FRAG_MAX_TOTAL || p.piece_size == 0 ||
	    p.piece_size >= p.total)
		return PQ_E_DECODE;
	p.count = (p.total + p.piece_size - 1) / p.piece_size;
	if (p.count > PQ_FRAG_MAX_PIECES || p.index >= p.count)
		return PQ_E_DECODE;
	p.data = pt + PQ_FRAG_HDR_LEN;
	p.len = len - PQ_FRAG_HDR_LEN;
	/* Pieces tile the whole exactly: no byte unwritten or written twice. */
	if (p.len != piece_len(p.total, p.piece_size, p.count, p.index))
		return PQ_E_DECODE;
	*out = p;
	return 0;
}

void pq_frag_rx_free(struct pq_frag_rx *rx)
{
	for (size_t i = 0; i < PQ_FRAG_SLOTS; i++) {
		free(rx->slot[i].buf);
		rx->slot[i].buf = NULL;
		rx->slot[i].used = false;
	}
}

static struct pq_frag_slot *slot_of(struct pq_frag_rx *rx, uint32_t id)
{
	for (size_t i = 0; i < PQ_FRAG_SLOTS; i++)
		if (rx->slot[i].used && rx->slot[i].id == id)
			return &rx->slot[i];
	return NULL;
}

/* A free slot, else the partial whole started longest ago: its pieces so
 * far are given up (a lost piece costs its frame anyway). */
static struct pq_frag_slot *slot_for_new(struct pq_frag_rx *rx)
{
	struct pq_frag_slot *oldest = NULL;

	for (size_t i = 0; i < PQ_FRAG_SLOTS; i++) {
		struct pq_frag_slot *s = &rx->slot[i];

		if (!s->used)
			return s;
		if (!oldest || s->seq < oldest->seq)
			oldest = s;
	}
	return oldest;
}

long pq_frag_rx_add(struct pq_frag_rx *rx, const uint8_t *pt, size_t len, uint64_t now_ms, const uint8_t **whole)
{
	struct pq_frag_piece p;
	struct pq_frag_slot *s;
	uint32_t all;

	if (pq_frag_decode(&p, pt, len))
		return PQ_E_DECODE;
	if ((s = slot_of(rx, p.id)) && now_ms >= s->started_ms && now_ms - s->started_ms > PQ_FRAG_TTL_MS)
		s->used = false; /* a stale whole under a reused id: start afresh */
	if (!s || !s->used) {
		s = s ? s : slot_for_new(rx);
		if (!s->buf && !(s->buf = malloc(PQ_FRAG_MAX_TOTAL)))
			return PQ_E_NOMEM;
		s->used = true;
		s->id = p.id;
		s->total = p.total;
		s->piece_size = p.piece_size;
		s->count = p.count;
		s->have = 0;
		s->started_ms = now_ms;
		s->seq = ++rx->seq;
	} else if (s->total != p.total || s->piece_size != p.piece_size) {
		return PQ_E_DECODE;
	}
	if (s->have & (1u << p.index))
		return PQ_E_DECODE;
	memcpy(s->buf + p.index * p.piece_size, p.data, p.len);
	s->have |= 1u << p.index;
	all = (uint32_t)((1ull << s->count) - 1);
	if (s->have != all)
		return 0;
	s->used = false;
	*whole = s->buf;
	return (long)s->total;
}
