/*
 * privdrop.h - least privilege once set-up is done (DESIGN §7), for
 * `pqlan up` and `pqlan relay`; the model is OpenVPN's and tinc's
 * --user, with Linux's no_new_privs and a seccomp allow-list on top.
 *
 * Call it after everything that needs root: the TAP opened and
 * configured, every socket bound, the key read. Afterwards the process
 *   - runs as the user's uid and primary gid, with no supplementary
 *     groups (Uid/Gid in /proc/PID/status: the user's, all four);
 *   - has no capabilities: effective, permitted, inheritable and ambient
 *     sets empty, and the bounding set emptied too while we still could
 *     (CapEff/CapPrm/CapBnd 0);
 *   - has PR_SET_NO_NEW_PRIVS (NoNewPrivs 1): no exec can regain
 *     privilege, and the seccomp filter needs no privilege;
 *   - with seccomp on, runs under util/seccomp.h's allow-list (Seccomp 2):
 *     any other system call kills the process;
 *   - is not dumpable (the kernel's rule after a uid change): no core
 *     file with keys in it, no ptrace by other processes of the user.
 *     Sanitizer builds set it dumpable again, for LeakSanitizer's ptrace.
 *   - has its working directory at "/".
 * Nothing is regained later: what needs privilege after set-up must be
 * done before (or is a documented limit, docs/node.md).
 *
 * Without a user the uid stays (a warning is logged by the caller when
 * that is root), but no_new_privs and seccomp still apply when asked.
 */
#ifndef PQ_UTIL_PRIVDROP_H
#define PQ_UTIL_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct pq_privdrop {
	const char *user;   /* NULL or "": stay who we are */
	bool seccomp;       /* install the allow-list (util/seccomp.h) */
	const char *who;    /* "node" / "relay": the allow-list's profile */
};

/*
 * Drop as described above. 0, or a negative code with err saying why:
 * PQ_E_CONFIG (no such user, or the user is root), PQ_E_PERM (switching
 * needs root and we are not that user; a step the kernel refused), PQ_E_IO
 * (seccomp could not be loaded). On failure the caller must exit: the
 * process may be half dropped.
 */
PQ_MUST_CHECK int pq_privdrop(const struct pq_privdrop *d, char *err, size_t err_len);

#endif
