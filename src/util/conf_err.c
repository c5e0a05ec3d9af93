/*
 * conf_err.c - the INI driver's error log (messages `FILE:LINE: ...`, one
 * a line, at most PQ_CONF_MAX_ERRORS) and reading a file into memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/conf_priv.h"

/* Append to the caller's buffer; a message that does not fit is cut, and
 * the buffer stays NUL-terminated. */
static void append(struct pq_conf *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void append(struct pq_conf *p, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (p->err_used + 1 >= p->err_len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(p->err + p->err_used, p->err_len - p->err_used, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	p->err_used += (size_t)w;
	if (p->err_used >= p->err_len)
		p->err_used = p->err_len - 1;
}

void pq_conf_error(struct pq_conf *p, unsigned line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (++p->nerr > PQ_CONF_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		append(p, "%s:%u: %s\n", p->name, line, msg);
	else
		append(p, "%s: %s\n", p->name, msg);
}

void pq_conf_flush(struct pq_conf *p)
{
	if (p->nerr > PQ_CONF_MAX_ERRORS)
		append(p, "%s: %u more errors not shown\n", p->name,
		       p->nerr - PQ_CONF_MAX_ERRORS);
	if (p->err_used && p->err[p->err_used - 1] == '\n')
		p->err[--p->err_used] = '\0';
}

/* Read all of fd, refusing more than PQ_CONF_MAX_FILE bytes. Returns the
 * length, or -errno, or -EFBIG. */
static long read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return (long)got;
		got += (size_t)n;
		if (got == cap)
			return -EFBIG;
	}
}

int pq_conf_load(const struct pq_conf_schema *schema, void *cfg, const char *path,
		 char *err, size_t err_len)
{
	struct stat st;
	char *buf = NULL;
	long n = 0;
	int fd, ret;

	if (err_len)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, err_len, "%s: cannot open the configuration file: %s", path,
			 strerror(errno));
		return PQ_E_IO;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, err_len, "%s: is a directory, expected a configuration file", path);
		ret = PQ_E_IO;
		goto out;
	}
	/* One byte more than allowed, so "too big" is told from "just fits". */
	buf = malloc(PQ_CONF_MAX_FILE + 1);
	if (!buf) {
		ret = PQ_E_NOMEM;
		goto out;
	}
	n = read_all(fd, buf, PQ_CONF_MAX_FILE + 1);
	if (n == -EFBIG) {
		snprintf(err, err_len, "%s: file is larger than %d bytes, expected a "
			 "configuration file", path, PQ_CONF_MAX_FILE);
		ret = PQ_E_CONFIG;
		goto out;
	}
	if (n < 0) {
		snprintf(err, err_len, "%s: cannot read the configuration file: %s", path,
			 strerror((int)-n));
		ret = PQ_E_IO;
		goto out;
	}
	ret = pq_conf_parse(schema, cfg, path, buf, (size_t)n, err, err_len);
out:
	free(buf);
	close(fd);
	return ret;
}
