/*
 * log.h - the node daemon's log: one line per event on stderr, with a
 * level word (DESIGN §7). Callers never pass secrets: keys are printed
 * only in their public, base64 form.
 */
#ifndef PQ_UTIL_LOG_H
#define PQ_UTIL_LOG_H

enum pq_log_level { PQ_LOG_DEBUG = 0, PQ_LOG_INFO, PQ_LOG_WARN, PQ_LOG_ERROR };

/* Lines below this level are not printed (default PQ_LOG_INFO). */
void pq_log_set_level(enum pq_log_level level);
void pq_log(enum pq_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
