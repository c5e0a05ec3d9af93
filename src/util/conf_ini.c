/*
 * conf_ini.c - the schema-driven INI driver: line reader, section headers,
 * key dispatch and the checks that need the whole section or file. See
 * conf_ini.h for why the reader, not libinih, keeps the line count.
 */
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/conf_ini.h"
#include "util/conf_priv.h"

enum { CUR_NONE = -1, CUR_BROKEN = -2 };  /* no section yet / keys ignored */

/* isspace() in the C locale, which is what libinih strips. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Close the current section: every required key must have been seen.
 * Missing keys are reported at the section's header line. */
static void close_section(struct pq_conf *p)
{
	const struct pq_conf_section *s;
	size_t k;

	/* A refused line (too long, NUL) may have held the key: saying it
	 * is missing too would only mislead. */
	if (p->cur >= 0 && !p->sec_damaged) {
		s = &p->schema->sections[p->cur];
		for (k = 0; k < s->nkeys; k++) {
			if ((s->keys[k].flags & PQ_CONF_REQUIRED) && !p->key_line[k])
				pq_conf_error(p, p->sec_line, "[%s] has no %s, expected %s = %s",
					      s->name, s->keys[k].name, s->keys[k].name,
					      s->keys[k].example);
		}
	}
	p->cur = CUR_NONE;
}

static int find_section(const struct pq_conf_schema *schema, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < schema->nsections; i++)
		if (strlen(schema->sections[i].name) == n && !memcmp(schema->sections[i].name, name, n))
			return (int)i;
	return -1;
}

/* Enter section i at line: refuse a second copy of a one-off section,
 * then let the schema make the object its keys fill. */
static void open_section(struct pq_conf *p, int i, unsigned line)
{
	const struct pq_conf_section *s = &p->schema->sections[i];
	char why[256];
	int rc;

	if (p->first_line[i] && !(s->flags & PQ_CONF_REPEAT)) {
		pq_conf_error(p, line, "second [%s] section (the first is at line %u), "
			      "expected one [%s] section", s->name, p->first_line[i], s->name);
		return;
	}
	if (!p->first_line[i])
		p->first_line[i] = line;
	p->sec = p->cfg;
	if (s->open) {
		why[0] = '\0';
		rc = s->open(p->cfg, line, &p->sec, why, sizeof(why));
		if (rc == PQ_E_NOMEM)
			p->fatal = PQ_E_NOMEM;
		if (rc) {
			pq_conf_error(p, line, "%s", rc == PQ_E_NOMEM ? "out of memory" : why);
			return;
		}
	}
	p->cur = i;
	p->sec_line = line;
	p->sec_damaged = false;
	memset(p->key_line, 0, sizeof(p->key_line));
}

/* A line starting with '[': we parse it ourselves because libinih does
 * not tell the handler where sections start (or that an empty one
 * exists), and it ignores text after ']'. s/n is the line without
 * leading blanks or trailing whitespace. */
static void on_header(struct pq_conf *p, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n), *name = s + 1, *rest;
	char shown[PQ_CONF_SHOW_MAX], list[256];
	size_t name_len;
	int i;

	close_section(p);
	p->cur = CUR_BROKEN; /* until the header proves good */
	if (!close) {
		pq_conf_show(shown, sizeof(shown), s, n);
		pq_conf_error(p, p->lineno, "\"%s\" has no closing ']', expected a section "
			      "header such as [%s]", shown, p->schema->sections[0].name);
		return;
	}
	for (rest = close + 1; rest < s + n && (*rest == ' ' || *rest == '\t'); rest++)
		;
	if (rest < s + n && *rest != ';' && *rest != '#') {
		pq_conf_show(shown, sizeof(shown), s, n);
		pq_conf_error(p, p->lineno, "\"%s\" has text after ']', expected only a "
			      "comment after a section header", shown);
		return;
	}
	while (name < close && (*name == ' ' || *name == '\t'))
		name++;
	name_len = (size_t)(close - name);
	while (name_len && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
		name_len--;
	i = find_section(p->schema, name, name_len);
	if (i < 0) {
		pq_conf_show(shown, sizeof(shown), name, name_len);
		pq_conf_section_list(list, sizeof(list), p->schema);
		pq_conf_error(p, p->lineno, "unknown section [%s], expected %s", shown, list);
		return;
	}
	open_section(p, i, p->lineno);
}

/* Called before each new line and at the end: a content line that
 * libinih did not hand to on_pair was one it could not parse. */
static void finish_line(struct pq_conf *p)
{
	char shown[PQ_CONF_SHOW_MAX];

	if (p->kind == LINE_CONTENT && !p->handled) {
		pq_conf_show(shown, sizeof(shown), p->raw, p->raw_len);
		pq_conf_error(p, p->lineno, "cannot read \"%s\", expected name = value, "
			      "a [section] header or a comment", shown);
	}
	p->kind = LINE_BLANK;
}

/* Cut the next physical line off the input; strip the BOM on line 1. */
static void take_line(struct pq_conf *p, const char **line, size_t *len)
{
	const char *start = p->text + p->pos;
	const char *nl = memchr(start, '\n', p->len - p->pos);
	size_t n = nl ? (size_t)(nl - start) : p->len - p->pos;

	p->pos += n + (nl ? 1 : 0);
	p->lineno++;
	if (p->lineno == 1 && n >= 3 && !memcmp(start, "\xEF\xBB\xBF", 3)) {
		start += 3;
		n -= 3;
	}
	*line = start;
	*len = n;
}

/* Classify the line for finish_line() and handle headers. s/n has no
 * leading blanks; trailing whitespace (CR included) is trimmed here. */
static void classify(struct pq_conf *p, const char *s, size_t n)
{
	while (n && is_space(s[n - 1]))
		n--;
	p->raw = s;
	p->raw_len = n;
	p->handled = false;
	if (n == 0 || s[0] == ';' || s[0] == '#')
		p->kind = LINE_BLANK;
	else if (s[0] == '[') {
		p->kind = LINE_HEADER;
		on_header(p, s, n);
	} else
		p->kind = LINE_CONTENT;
}

/* libinih's fgets-style reader: exactly one physical line per call. A
 * line libinih must not see (too long, NUL byte) is reported here and
 * replaced by an empty one. */
static char *read_line(char *str, int num, void *stream)
{
	struct pq_conf *p = stream;
	const char *s;
	size_t n, shown;

	finish_line(p);
	if (p->pos >= p->len || num < 3)
		return NULL;
	take_line(p, &s, &n);
	while (n && is_space(*s))
		n--, s++; /* no leading space: libinih's continuation lines are off */
	str[0] = '\n';
	str[1] = '\0';
	if (memchr(s, '\0', n)) {
		pq_conf_error(p, p->lineno, "line contains a NUL byte, expected text");
		p->sec_damaged = true;
		return str;
	}
	/* libinih needs room for '\n' and NUL; the limit on what the user
	 * sees (CR excluded) is the same for LF and CRLF files. */
	shown = n - (n && s[n - 1] == '\r');
	if (shown + 3 > (size_t)num) {
		pq_conf_error(p, p->lineno, "line is %zu characters long, expected at most %d",
			      shown, num - 3);
		p->sec_damaged = true;
		return str;
	}
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	classify(p, s, n);
	return str;
}

/* The first '=' or ':' of the line (what libinih split at), or 0. The
 * line is not NUL-terminated: it points into the caller's text. */
static char first_separator(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '=' || s[i] == ':')
			return s[i];
	return 0;
}

/* libinih's handler. The section argument is ignored: on_header already
 * tracked sections, with their lines. Always returns 1 (errors are ours
 * to collect, so libinih keeps going). */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct pq_conf *p = user;
	const struct pq_conf_section *s;
	char sep, shown[PQ_CONF_SHOW_MAX];
	int k;

	p->handled = true;
	pq_conf_show(shown, sizeof(shown), name, strlen(name));
	sep = first_separator(p->raw, p->raw_len);
	if (!sep) { /* a continuation line; cannot happen with leading space stripped */
		p->handled = false;
		return 1;
	}
	if (sep == ':') {
		pq_conf_error(p, p->lineno, "\"%s\" is followed by ':', expected %s = value",
			      shown, shown);
		return 1;
	}
	if (p->cur == CUR_BROKEN)
		return 1; /* the header was reported; its keys would only add noise */
	if (p->cur == CUR_NONE) {
		pq_conf_error(p, p->lineno, "%s = ... comes before any section, expected a "
			      "[%s] header above it", shown, p->schema->sections[0].name);
		p->cur = CUR_BROKEN;
		return 1;
	}
	s = &p->schema->sections[p->cur];
	k = pq_conf_find_key(p, s, name);
	if (k >= 0)
		pq_conf_set_key(p, s, (size_t)k, value);
	return 1;
}

static int check_schema(const struct pq_conf_schema *schema)
{
	size_t i;

	if (!schema || !schema->nsections || schema->nsections > PQ_CONF_MAX_SECTIONS)
		return PQ_E_INVAL;
	for (i = 0; i < schema->nsections; i++)
		if (schema->sections[i].nkeys > PQ_CONF_MAX_KEYS)
			return PQ_E_INVAL;
	return 0;
}

/* Required sections that never appeared, reported at the last line. */
static void check_sections(struct pq_conf *p)
{
	const struct pq_conf_section *s;
	char keys[256];
	size_t i;

	for (i = 0; i < p->schema->nsections; i++) {
		s = &p->schema->sections[i];
		if (!(s->flags & PQ_CONF_REQUIRED) || p->first_line[i])
			continue;
		pq_conf_required_list(keys, sizeof(keys), s);
		pq_conf_error(p, pq_conf_last_line(p), "no [%s] section in the file, "
			      "expected a [%s] section with %s", s->name, s->name, keys);
	}
}

int pq_conf_parse(const struct pq_conf_schema *schema, void *cfg, const char *name,
		  const char *text, size_t len, char *err, size_t err_len)
{
	struct pq_conf p;
	int rc;

	if (err_len)
		err[0] = '\0';
	if (check_schema(schema) || !name || (!text && len))
		return PQ_E_INVAL;
	memset(&p, 0, sizeof(p));
	p.schema = schema;
	p.cfg = cfg;
	p.name = name;
	p.text = text;
	p.len = len;
	p.cur = CUR_NONE;
	p.err = err;
	p.err_len = err_len;
	rc = ini_parse_stream(read_line, &p, on_pair, &p);
	finish_line(&p);
	close_section(&p);
	if (rc > 0 && !p.nerr) /* a libinih complaint we did not foresee */
		pq_conf_error(&p, (unsigned)rc, "cannot read this line, expected name = value, "
			      "a [section] header or a comment");
	check_sections(&p);
	if (schema->finish)
		schema->finish(&p, cfg);
	pq_conf_flush(&p);
	if (p.fatal)
		return p.fatal;
	return p.nerr ? PQ_E_CONFIG : 0;
}

unsigned pq_conf_last_line(const struct pq_conf *p)
{
	return p->lineno ? p->lineno : 1;
}
