/*
 * conf_priv.h - the INI driver's state, shared by conf_ini.c (lines and
 * sections), conf_keys.c (key dispatch, name lists) and conf_err.c (the
 * error log and file loading). Not for use outside src/util/conf_*.c.
 */
#ifndef PQ_UTIL_CONF_PRIV_H
#define PQ_UTIL_CONF_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "util/conf_ini.h"

#define PQ_CONF_SHOW_MAX 72  /* a value quoted in a message, with "..." */

enum pq_conf_line_kind { LINE_BLANK, LINE_HEADER, LINE_CONTENT };

struct pq_conf {
	const struct pq_conf_schema *schema;
	void *cfg;
	const char *name;          /* the file's name in messages */
	/* input */
	const char *text;
	size_t len, pos;
	unsigned lineno;           /* the line libinih is working on */
	const char *raw;           /* that line, no leading blanks */
	size_t raw_len;            /* ... nor trailing whitespace */
	enum pq_conf_line_kind kind;
	bool handled;              /* libinih called on_pair for it */
	/* the section being read */
	int cur;                   /* index in schema->sections, or < 0 */
	void *sec;
	unsigned sec_line;
	bool sec_damaged;          /* a line in it was refused unread */
	unsigned key_line[PQ_CONF_MAX_KEYS];          /* 0: not seen yet */
	unsigned first_line[PQ_CONF_MAX_SECTIONS];    /* 0: not seen yet */
	/* errors */
	char *err;
	size_t err_len, err_used;
	unsigned nerr;
	int fatal;                 /* PQ_E_NOMEM wins over PQ_E_CONFIG */
};

/* Copy s/n into out as printable ASCII ('?' for anything else), cut to
 * fit with "...". */
void pq_conf_show(char *out, size_t cap, const char *s, size_t n);
/* "[node], [relay] or [peer]" */
void pq_conf_section_list(char *out, size_t cap, const struct pq_conf_schema *schema);
/* "url and key": the section's required keys */
void pq_conf_required_list(char *out, size_t cap, const struct pq_conf_section *s);
/* The key's index in s, or -1 after reporting it unknown. */
int pq_conf_find_key(struct pq_conf *p, const struct pq_conf_section *s, const char *name);
/* Check for a repeat, then call the key's parse function. */
void pq_conf_set_key(struct pq_conf *p, const struct pq_conf_section *s, size_t k,
		     const char *value);
/* End the log: count what did not fit, drop the last newline. */
void pq_conf_flush(struct pq_conf *p);

#endif
