/*
 * seccomp.c - the allow-list (seccomp.h). Names, not numbers: libseccomp
 * resolves them for the architecture we run on, and a name this kernel
 * or architecture does not have is skipped.
 */
#include "util/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

static const char *const allowed[] = {
	/* I/O on fds we hold: sockets, the TAP, the signalfd, files under /etc */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "close_range",
	"openat", "open", "fstat", "newfstatat", "stat", "lstat", "statx", "lseek", "fcntl",
	"ioctl", "dup", "dup3", "access", "faccessat", "faccessat2", "readlink", "readlinkat",
	"unlink", "unlinkat", "getdents64",
	/* sockets */
	"socket", "connect", "accept", "accept4", "bind", "listen", "shutdown",
	"getsockname", "getpeername", "setsockopt", "getsockopt", "sendto", "recvfrom",
	"sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "socketpair",
	/* the loop */
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"poll", "ppoll", "select", "pselect6",
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* time, randomness, identity (read only) */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
	"getrandom", "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "getgroups", "uname", "sysinfo", "getrlimit", "prlimit64",
	"sched_getaffinity", "sched_yield",
	/* signals and threads of libraries (OpenSSL locks, glibc) */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "signalfd4",
	"futex", "set_robust_list", "rseq", "restart_syscall",
	/* the end; abort() raises SIGABRT on itself */
	"exit", "exit_group", "tgkill",
};

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer's StopTheWorld at exit: a tracer task that ptraces us. */
static const char *const sanitizer_extra[] = {
	"clone", "clone3", "ptrace", "wait4", "waitid", "prctl", "kill", "mincore",
	"process_vm_readv", "pipe2", "getdents", "sched_setaffinity",
};
#endif

static int allow_list(scmp_filter_ctx ctx, const char *const *names, size_t n,
		      char *err, size_t err_len)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int rc;

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
			snprintf(err, err_len, "seccomp: cannot allow %s: %s", names[i], strerror(-rc));
			return PQ_E_IO;
		}
	}
	return 0;
}

int pq_seccomp_apply(const char *who, char *err, size_t err_len)
{
	scmp_filter_ctx ctx;
	int ret, rc;

	if (!who || (strcmp(who, "node") && strcmp(who, "relay"))) {
		snprintf(err, err_len, "seccomp: unknown profile %s", who ? who : "(none)");
		return PQ_E_INVAL;
	}
	if (!(ctx = seccomp_init(SCMP_ACT_KILL_PROCESS))) {
		snprintf(err, err_len, "seccomp: cannot make a filter");
		return PQ_E_NOMEM;
	}
	ret = allow_list(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]), err, err_len);
#if defined(__SANITIZE_ADDRESS__)
	if (!ret)
		ret = allow_list(ctx, sanitizer_extra, sizeof(sanitizer_extra) / sizeof(sanitizer_extra[0]),
				 err, err_len);
#endif
	if (!ret && (rc = seccomp_load(ctx)) < 0) {
		snprintf(err, err_len, "seccomp: the kernel refused the filter: %s", strerror(-rc));
		ret = PQ_E_IO;
	}
	seccomp_release(ctx);
	return ret;
}
