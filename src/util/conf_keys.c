/*
 * conf_keys.c - key dispatch for the INI driver (unknown and repeated
 * keys, calling the schema's parse function) and the name lists that
 * messages use to say what was expected.
 */
#include <stdio.h>
#include <string.h>

#include "util/conf_priv.h"

void pq_conf_show(char *out, size_t cap, const char *s, size_t n)
{
	size_t i, o = 0, keep;

	if (!cap)
		return;
	keep = n < cap - 1 ? n : cap - 1;
	if (keep < n)
		keep = cap > 4 ? cap - 4 : 0; /* room for "..." */
	for (i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (keep < n && cap > 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Join n names as "a, b or c" (sep_last " or " / " and "), each printed
 * through fmt ("[%s]" or "%s"). */
static void join(char *out, size_t cap, const char *const *names, size_t n,
		 const char *fmt, const char *sep_last)
{
	size_t i, used = 0;
	int w;

	if (!cap)
		return;
	out[0] = '\0';
	for (i = 0; i < n && used < cap; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? sep_last : ", ";

		w = snprintf(out + used, cap - used, "%s", sep);
		used += w > 0 ? (size_t)w : 0;
		if (used >= cap)
			break;
		w = snprintf(out + used, cap - used, fmt, names[i]);
		used += w > 0 ? (size_t)w : 0;
	}
}

void pq_conf_section_list(char *out, size_t cap, const struct pq_conf_schema *schema)
{
	const char *names[PQ_CONF_MAX_SECTIONS];
	size_t i, n = 0;

	for (i = 0; i < schema->nsections && n < PQ_CONF_MAX_SECTIONS; i++)
		names[n++] = schema->sections[i].name;
	join(out, cap, names, n, "[%s]", " or ");
}

void pq_conf_required_list(char *out, size_t cap, const struct pq_conf_section *s)
{
	const char *names[PQ_CONF_MAX_KEYS];
	size_t i, n = 0;

	for (i = 0; i < s->nkeys && n < PQ_CONF_MAX_KEYS; i++)
		if (s->keys[i].flags & PQ_CONF_REQUIRED)
			names[n++] = s->keys[i].name;
	join(out, cap, names, n, "%s", " and ");
}

static void key_list(char *out, size_t cap, const struct pq_conf_section *s)
{
	const char *names[PQ_CONF_MAX_KEYS];
	size_t i, n = 0;

	for (i = 0; i < s->nkeys && n < PQ_CONF_MAX_KEYS; i++)
		names[n++] = s->keys[i].name;
	join(out, cap, names, n, "%s", " or ");
}

int pq_conf_find_key(struct pq_conf *p, const struct pq_conf_section *s, const char *name)
{
	char shown[PQ_CONF_SHOW_MAX], list[512];
	size_t k;

	for (k = 0; k < s->nkeys; k++)
		if (!strcmp(s->keys[k].name, name))
			return (int)k;
	if (!name[0]) {
		pq_conf_error(p, p->lineno, "'=' has no name before it, expected name = value");
		return -1;
	}
	pq_conf_show(shown, sizeof(shown), name, strlen(name));
	key_list(list, sizeof(list), s);
	pq_conf_error(p, p->lineno, "unknown key \"%s\" in [%s], expected %s%s", shown, s->name,
		      s->nkeys > 1 ? "one of " : "", list);
	return -1;
}

void pq_conf_set_key(struct pq_conf *p, const struct pq_conf_section *s, size_t k,
		     const char *value)
{
	const struct pq_conf_key *key = &s->keys[k];
	struct pq_conf_arg arg;
	char why[320], shown[PQ_CONF_SHOW_MAX];
	int rc;

	if (p->key_line[k] && !(key->flags & PQ_CONF_REPEAT)) {
		pq_conf_error(p, p->lineno, "%s is set twice in this [%s] section (first at "
			      "line %u), expected it once", key->name, s->name, p->key_line[k]);
		return;
	}
	/* Marked seen even if the value is refused: a bad value must not
	 * also be reported as a missing key. */
	if (!p->key_line[k])
		p->key_line[k] = p->lineno;
	why[0] = '\0';
	arg = (struct pq_conf_arg){ .cfg = p->cfg, .sec = p->sec, .value = value,
				    .line = p->lineno, .why = why, .why_len = sizeof(why) };
	rc = key->parse(&arg);
	if (!rc)
		return;
	if (rc == PQ_E_NOMEM) {
		p->fatal = PQ_E_NOMEM;
		pq_conf_error(p, p->lineno, "out of memory while reading %s", key->name);
		return;
	}
	pq_conf_show(shown, sizeof(shown), value, strlen(value));
	pq_conf_error(p, p->lineno, "%s = \"%s\" %s%s", key->name, shown, why,
		      strstr(value, " #") ? " (a comment after a value starts with ' ;', "
		      "not '#')" : "");
}
