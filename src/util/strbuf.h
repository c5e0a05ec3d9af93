/*
 * strbuf.h - printf into a caller's fixed buffer, for reports (status,
 * metrics). Once a write does not fit, the buffer is marked overflowed and
 * every later write is ignored: the caller checks `overflow` once at the
 * end instead of after each line. The text (cap > 0) stays NUL-terminated
 * and ends where the last write that fitted ended.
 *
 * Ownership: the caller owns p (cap bytes); nothing is allocated.
 */
#ifndef PQ_UTIL_STRBUF_H
#define PQ_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct pq_strbuf {
	char *p;
	size_t cap, len;
	bool overflow;
};

void pq_sb_printf(struct pq_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
