/*
 * log.c - stderr lines "pqlan[PID]: LEVEL: message". The whole line goes
 * out in one write so lines of concurrent processes (tests run several
 * nodes into one terminal) do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "util/log.h"

static enum pq_log_level min_level = PQ_LOG_INFO;

void pq_log_set_level(enum pq_log_level level)
{
	min_level = level;
}

void pq_log(enum pq_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char line[512];
	va_list ap;
	int n, m;

	if (level < min_level || level > PQ_LOG_ERROR)
		return;
	n = snprintf(line, sizeof(line), "pqlan[%d]: %s: ", (int)getpid(), names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += (size_t)m < sizeof(line) - (size_t)n - 1 ? m : (int)(sizeof(line) - (size_t)n - 2);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
