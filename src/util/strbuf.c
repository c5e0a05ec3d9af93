/*
 * strbuf.c - printf into a fixed buffer (strbuf.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "util/strbuf.h"

void pq_sb_printf(struct pq_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow || b->len >= b->cap) {
		b->overflow = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		/* Drop the truncated tail: the text ends where the last
		 * whole write ended. */
		b->p[b->len] = 0;
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}
