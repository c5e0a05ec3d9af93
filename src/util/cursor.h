/*
 * cursor.h - bounds-checked readers and writers for wire formats.
 *
 * A cursor borrows its buffer. Every read or write checks the remaining
 * length first; on the first failure the cursor's error flag is set and
 * sticks, later calls do nothing (reads return zero), and the caller checks
 * once at the end with pq_rc_finish()/pq_wc_ok(). Integers are big-endian.
 */
#ifndef PQ_UTIL_CURSOR_H
#define PQ_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/err.h"

struct pq_rcursor {
	const uint8_t *buf;
	size_t len;
	size_t off;
	bool err;
};

struct pq_wcursor {
	uint8_t *buf;
	size_t cap;
	size_t off;
	bool err;
};

static inline void pq_rc_init(struct pq_rcursor *rc, const uint8_t *buf, size_t len)
{
	rc->buf = buf;
	rc->len = len;
	rc->off = 0;
	rc->err = false;
}

static inline size_t pq_rc_left(const struct pq_rcursor *rc)
{
	return rc->err ? 0 : rc->len - rc->off;
}

/* Borrow the next n bytes in place; NULL (and the error flag) if short. */
static inline const uint8_t *pq_rc_take(struct pq_rcursor *rc, size_t n)
{
	const uint8_t *p;

	if (rc->err || n > rc->len - rc->off) {
		rc->err = true;
		return NULL;
	}
	p = rc->buf + rc->off;
	rc->off += n;
	return p;
}

static inline void pq_rc_bytes(struct pq_rcursor *rc, void *out, size_t n)
{
	const uint8_t *p = pq_rc_take(rc, n);

	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

static inline uint64_t pq_rc_be(struct pq_rcursor *rc, size_t n)
{
	const uint8_t *p = pq_rc_take(rc, n);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline uint8_t pq_rc_u8(struct pq_rcursor *rc) { return (uint8_t)pq_rc_be(rc, 1); }
static inline uint16_t pq_rc_u16(struct pq_rcursor *rc) { return (uint16_t)pq_rc_be(rc, 2); }
static inline uint32_t pq_rc_u32(struct pq_rcursor *rc) { return (uint32_t)pq_rc_be(rc, 4); }
static inline uint64_t pq_rc_u64(struct pq_rcursor *rc) { return pq_rc_be(rc, 8); }

/* 0 when every byte was read without error; PQ_E_DECODE otherwise
 * (short input, or bytes left over). */
static inline int pq_rc_finish(const struct pq_rcursor *rc)
{
	return (!rc->err && rc->off == rc->len) ? 0 : PQ_E_DECODE;
}

static inline void pq_wc_init(struct pq_wcursor *wc, uint8_t *buf, size_t cap)
{
	wc->buf = buf;
	wc->cap = cap;
	wc->off = 0;
	wc->err = false;
}

/* Reserve the next n bytes for the caller to fill; NULL if they don't fit. */
static inline uint8_t *pq_wc_reserve(struct pq_wcursor *wc, size_t n)
{
	uint8_t *p;

	if (wc->err || n > wc->cap - wc->off) {
		wc->err = true;
		return NULL;
	}
	p = wc->buf + wc->off;
	wc->off += n;
	return p;
}

static inline void pq_wc_bytes(struct pq_wcursor *wc, const void *in, size_t n)
{
	uint8_t *p = pq_wc_reserve(wc, n);

	if (p && n)
		memcpy(p, in, n);
}

static inline void pq_wc_be(struct pq_wcursor *wc, uint64_t v, size_t n)
{
	uint8_t *p = pq_wc_reserve(wc, n);

	for (size_t i = 0; p && i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static inline void pq_wc_u8(struct pq_wcursor *wc, uint8_t v) { pq_wc_be(wc, v, 1); }
static inline void pq_wc_u16(struct pq_wcursor *wc, uint16_t v) { pq_wc_be(wc, v, 2); }
static inline void pq_wc_u32(struct pq_wcursor *wc, uint32_t v) { pq_wc_be(wc, v, 4); }
static inline void pq_wc_u64(struct pq_wcursor *wc, uint64_t v) { pq_wc_be(wc, v, 8); }

/* Bytes written so far, or PQ_E_TOOBIG if anything did not fit. */
static inline long pq_wc_finish(const struct pq_wcursor *wc)
{
	return wc->err ? PQ_E_TOOBIG : (long)wc->off;
}

#endif
