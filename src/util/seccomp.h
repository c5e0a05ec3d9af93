/*
 * seccomp.h - the system-call allow-list of `pqlan up` and `pqlan relay`
 * after set-up (DESIGN §7, util/privdrop.h), built with libseccomp.
 *
 * What the running daemons do is small: epoll, read and write on sockets
 * and the TAP, accept and connect TCP, UNIX and netlink sockets (the
 * control socket; getifaddrs), the resolver (socket, connect, poll, files
 * under /etc) for a relay given by name, memory, clocks, randomness,
 * signals through a signalfd, and exit. Everything else - exec, ptrace,
 * mount, module loading, setuid and its friends, bpf, keyctl, ... - kills
 * the process (SECCOMP_RET_KILL_PROCESS, SIGSYS): a parsing bug that gets
 * code execution cannot start a shell or change identity.
 *
 * Sanitizer builds add what LeakSanitizer needs at exit (clone, ptrace,
 * wait4, ...): test builds only.
 *
 * One list serves both profiles today; `who` ("node", "relay") selects
 * it, so the two can diverge without changing callers.
 */
#ifndef PQ_UTIL_SECCOMP_H
#define PQ_UTIL_SECCOMP_H

#include <stddef.h>

#include "util/err.h"

/* Load the filter for this process (no_new_privs must be set, or the
 * process must hold CAP_SYS_ADMIN). 0, or PQ_E_INVAL (unknown profile),
 * PQ_E_NOMEM, PQ_E_IO (the kernel refused it) with err saying why. */
PQ_MUST_CHECK int pq_seccomp_apply(const char *who, char *err, size_t err_len);

#endif
