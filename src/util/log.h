/*
 * log.h - the daemons' log: one line per event on stderr, with a level
 * word (DESIGN §7). Callers never pass secrets: keys are printed only in
 * their public, base64 form.
 *
 * Two line formats, chosen once at the first line:
 *   "pqlan[PID]: warn: message"   a terminal, a file, a test's log
 *   "<4>warn: message"            stderr is the journal's stream
 *                                 (systemd sets JOURNAL_STREAM=DEV:INODE
 *                                 of it): sd-daemon(3) priority prefixes,
 *                                 <3> error, <4> warn, <6> info, <7> debug,
 *                                 so `journalctl -p warning` works; the
 *                                 journal adds the PID itself.
 */
#ifndef PQ_UTIL_LOG_H
#define PQ_UTIL_LOG_H

enum pq_log_level { PQ_LOG_DEBUG = 0, PQ_LOG_INFO, PQ_LOG_WARN, PQ_LOG_ERROR };

/* Lines below this level are not printed (default PQ_LOG_INFO). */
void pq_log_set_level(enum pq_log_level level);
enum pq_log_level pq_log_get_level(void);
/* "debug", "info", "warn" or "error" into *out: 0, or -1 for anything else. */
int pq_log_level_parse(const char *s, enum pq_log_level *out);
const char *pq_log_level_name(enum pq_log_level level);
void pq_log(enum pq_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
