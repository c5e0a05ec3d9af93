/*
 * log.c - stderr lines (log.h). The whole line goes out in one write so
 * lines of concurrent processes (tests run several nodes into one
 * terminal) do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

static const char *const names[] = { "debug", "info", "warn", "error" };
/* syslog(3) priorities: LOG_DEBUG 7, LOG_INFO 6, LOG_WARNING 4, LOG_ERR 3. */
static const int priorities[] = { 7, 6, 4, 3 };

static enum pq_log_level min_level = PQ_LOG_INFO;
static int journal = -1;   /* -1: not decided yet */

void pq_log_set_level(enum pq_log_level level)
{
	min_level = level;
}

enum pq_log_level pq_log_get_level(void)
{
	return min_level;
}

int pq_log_level_parse(const char *s, enum pq_log_level *out)
{
	for (int i = PQ_LOG_DEBUG; i <= PQ_LOG_ERROR; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum pq_log_level)i;
			return 0;
		}
	return -1;
}

const char *pq_log_level_name(enum pq_log_level level)
{
	return level <= PQ_LOG_ERROR ? names[level] : "?";
}

/* systemd.exec(5) JOURNAL_STREAM: "DEV:INODE" of the stream it connected
 * to stderr; a redirected stderr (a child's 2>file) no longer matches. */
static int stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!v || sscanf(v, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void pq_log(enum pq_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, m;

	if (level < min_level || level > PQ_LOG_ERROR)
		return;
	if (journal < 0)
		journal = stderr_is_journal();
	if (journal)
		n = snprintf(line, sizeof(line), "<%d>%s: ", priorities[level], names[level]);
	else
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
