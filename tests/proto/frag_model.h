/*
 * frag_model.h - proto/frag.h's reassembly contract written plainly, for
 * test_frag.c and fuzz_frag.c to check pq_frag_rx_add against: wholes in
 * progress (at most PQ_FRAG_SLOTS), each with the pieces it has; no slot
 * positions, no bitmaps. frag_model_reset() before each run.
 */
#ifndef PQ_TESTS_FRAG_MODEL_H
#define PQ_TESTS_FRAG_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "proto/frag.h"

struct frag_mwhole {
	bool used;
	uint32_t id;
	size_t total, ps, count;
	bool have[PQ_FRAG_MAX_PIECES];
	uint64_t started, order;
	uint8_t buf[PQ_FRAG_MAX_TOTAL];
};

static struct frag_mwhole frag_model[PQ_FRAG_SLOTS];
static uint64_t frag_model_order;

static inline void frag_model_reset(void)
{
	memset(frag_model, 0, sizeof(frag_model));
	frag_model_order = 0;
}

/* What pq_frag_rx_add should answer for a piece pq_frag_decode took. */
static inline long frag_model_add(const struct pq_frag_piece *p, uint64_t now, const uint8_t **whole)
{
	struct frag_mwhole *m = NULL, *oldest = NULL;
	size_t have = 0;

	for (size_t i = 0; i < PQ_FRAG_SLOTS; i++)
		if (frag_model[i].used && frag_model[i].id == p->id)
			m = &frag_model[i];
	if (m && now > m->started + PQ_FRAG_TTL_MS)
		m->used = false; /* stale: starts afresh below */
	if (!m || !m->used) {
		m = NULL;
		for (size_t i = 0; i < PQ_FRAG_SLOTS && !m; i++)
			if (!frag_model[i].used)
				m = &frag_model[i];
		for (size_t i = 0; i < PQ_FRAG_SLOTS && !m; i++)
			if (!oldest || frag_model[i].order < oldest->order)
				oldest = &frag_model[i];
		if (!m)
			m = oldest;
		memset(m->have, 0, sizeof(m->have));
		m->used = true;
		m->id = p->id;
		m->total = p->total;
		m->ps = p->piece_size;
		m->count = p->count;
		m->started = now;
		m->order = ++frag_model_order;
	}
	if (m->total != p->total || m->ps != p->piece_size || m->have[p->index])
		return PQ_E_DECODE;
	m->have[p->index] = true;
	memcpy(m->buf + p->index * p->piece_size, p->data, p->len);
	for (size_t i = 0; i < m->count; i++)
		have += m->have[i];
	if (have < m->count)
		return 0;
	m->used = false;
	*whole = m->buf;
	return (long)m->total;
}

#endif
