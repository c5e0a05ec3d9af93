/*
 * conf_ini.h - strict INI files with line numbers, over libinih.
 *
 * libinih lexes (comments, whitespace, `name = value`); this module adds
 * what libinih 55 lacks: the line number of every pair, every section
 * header (libinih does not report empty or repeated sections), and
 * strictness. A schema names the sections and keys a file may hold; each
 * key has a parse function that validates its value into the caller's
 * struct. Errors read `FILE:LINE: <what was wrong>, expected <what>`; up to
 * PQ_CONF_MAX_ERRORS of them are collected, one per line, so a user can fix
 * a file in one go.
 *
 * How lines are tracked: libinih 55 is built without INI_HANDLER_LINENO,
 * so we feed it through ini_parse_stream() with our own reader. The reader
 * hands libinih exactly one physical line per call, so the reader's count
 * is the line libinih is working on when it calls the handler (libinih
 * handles a line completely before asking for the next). The reader also
 * strips leading whitespace (which turns off libinih's continuation
 * lines, and so the runtime ini_allow_multiline global is left alone),
 * parses section headers itself, refuses over-long lines and NUL bytes
 * instead of letting libinih split or cut them, and notices a content
 * line for which no handler call came (libinih's syntax errors), all
 * with exact lines. Errors found when a section or the file ends (a
 * missing key or section) come after those of the lines before.
 *
 * File syntax: `[section]`, `name = value`, comments starting with `#` or
 * `;`, inline comments starting with ` ;` (a `#` after a value is part of
 * the value, so it will be refused by the value's check), CRLF or LF line
 * endings, an optional UTF-8 BOM. `name: value` is refused. A line holds
 * at most ini_max_line - 3 characters (197 with Debian's libinih).
 */
#ifndef PQ_UTIL_CONF_INI_H
#define PQ_UTIL_CONF_INI_H

#include <stddef.h>

#include "util/err.h"

#define PQ_CONF_MAX_ERRORS 10       /* messages kept; more are counted */
#define PQ_CONF_MAX_FILE (1 << 20)  /* bytes in one configuration file */
#define PQ_CONF_MAX_KEYS 32         /* keys per section in a schema */
#define PQ_CONF_MAX_SECTIONS 8      /* sections per schema */

#define PQ_CONF_REQUIRED 1u         /* key or section must be present */
#define PQ_CONF_REPEAT 2u           /* key or section may appear again */

/* What a key's parse function gets. On failure it returns PQ_E_CONFIG
 * and writes "<what was wrong>, expected <what>" into why; the caller
 * prefixes `FILE:LINE: name = "value" `. */
struct pq_conf_arg {
	void *cfg;          /* the whole configuration being filled */
	void *sec;          /* the current section's object (see open) */
	const char *value;  /* as libinih stripped it; valid during the call */
	unsigned line;
	char *why;
	size_t why_len;
};

struct pq_conf_key {
	const char *name;
	int (*parse)(struct pq_conf_arg *a);
	unsigned flags;        /* PQ_CONF_REQUIRED, PQ_CONF_REPEAT */
	const char *example;   /* a value, shown when a required key is missing */
};

struct pq_conf_section {
	const char *name;
	const struct pq_conf_key *keys;
	size_t nkeys;
	unsigned flags;        /* PQ_CONF_REQUIRED, PQ_CONF_REPEAT */
	/* Called at each header of this section; points *sec at the object
	 * the keys fill (e.g. a new peer). NULL: *sec is cfg. On failure
	 * writes why (e.g. "more than 256 peers, expected ..."). */
	int (*open)(void *cfg, unsigned line, void **sec, char *why, size_t why_len);
};

struct pq_conf;

struct pq_conf_schema {
	const struct pq_conf_section *sections;
	size_t nsections;
	/* Whole-file checks and defaults after the last line; reports with
	 * pq_conf_error(). May be NULL. Not called when a read failed. */
	void (*finish)(struct pq_conf *p, void *cfg);
};

/* Parse text (len bytes, need not be NUL-terminated) named name in
 * messages. Returns 0, PQ_E_CONFIG (err holds the messages, one a line),
 * PQ_E_NOMEM, or PQ_E_INVAL for a bad schema. cfg is only written by the
 * schema's functions; the caller frees what they allocated on error. */
PQ_MUST_CHECK int pq_conf_parse(const struct pq_conf_schema *schema, void *cfg,
				const char *name, const char *text, size_t len,
				char *err, size_t err_len);

/* Read the file at path (regular file, at most PQ_CONF_MAX_FILE bytes) and
 * parse it, naming it path in messages. PQ_E_IO when it cannot be read:
 * err then names the file and the errno text. */
PQ_MUST_CHECK int pq_conf_load(const struct pq_conf_schema *schema, void *cfg,
			       const char *path, char *err, size_t err_len);

/* Report an error at line (0: no line, e.g. a file-level problem); fmt
 * should read "<what was wrong>, expected <what>". */
void pq_conf_error(struct pq_conf *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The number of lines in the file (at least 1): where a missing section
 * is reported. */
unsigned pq_conf_last_line(const struct pq_conf *p);

#endif
