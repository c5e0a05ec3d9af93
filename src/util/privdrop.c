/*
 * privdrop.c - switch user, drop every capability, no_new_privs, then the
 * seccomp allow-list (privdrop.h). The order matters: the bounding set can
 * only be emptied while we hold CAP_SETPCAP (as root), the uid switch
 * clears the effective and permitted sets, no_new_privs comes before the
 * filter (which needs it when unprivileged), and the filter comes last
 * because it forbids setuid and friends.
 */
#include "util/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/seccomp.h"

static int fail(char *err, size_t err_len, int code, const char *what, int e)
{
	snprintf(err, err_len, "%s: %s", what, strerror(e));
	return code;
}

/* Empty the bounding set: caps a later exec could gain (with NNP none can,
 * but /proc then shows 0, which is easy to audit). Needs CAP_SETPCAP. */
static int drop_bounding(char *err, size_t err_len)
{
	for (unsigned long cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return fail(err, err_len, PQ_E_PERM, "cannot drop the capability bounding set", errno);
	return 0;
}

/* Effective, permitted and inheritable to zero, ambient cleared; then
 * checked: a kernel that kept any is an error, not a warning. */
static int clear_caps(char *err, size_t err_len)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return fail(err, err_len, PQ_E_PERM, "cannot clear the ambient capabilities", errno);
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0)
		return fail(err, err_len, PQ_E_PERM, "cannot clear the capabilities", errno);
	if (syscall(SYS_capget, &h, d) < 0)
		return fail(err, err_len, PQ_E_PERM, "cannot read the capabilities", errno);
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable) {
			snprintf(err, err_len, "capabilities remain after dropping them");
			return PQ_E_PERM;
		}
	return 0;
}

static int switch_user(const char *user, char *err, size_t err_len)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	if (!(pw = getpwnam(user))) {
		snprintf(err, err_len, "user %s: %s", user, errno ? strerror(errno) : "no such user");
		return PQ_E_CONFIG;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0) {
		snprintf(err, err_len, "user %s is root: expected an unprivileged user", user);
		return PQ_E_CONFIG;
	}
	if (geteuid() == uid && getuid() == uid)
		return 0; /* started as that user: nothing to switch */
	if (geteuid() != 0) {
		snprintf(err, err_len, "cannot switch to user %s: running as uid %u, not root", user,
			 (unsigned)geteuid());
		return PQ_E_PERM;
	}
	if (drop_bounding(err, err_len))
		return PQ_E_PERM;
	/* groups first: after setresuid we could no longer change them */
	if (setgroups(1, &gid) < 0)
		return fail(err, err_len, PQ_E_PERM, "setgroups", errno);
	if (setresgid(gid, gid, gid) < 0)
		return fail(err, err_len, PQ_E_PERM, "setresgid", errno);
	if (setresuid(uid, uid, uid) < 0)
		return fail(err, err_len, PQ_E_PERM, "setresuid", errno);
	/* the way back must be closed */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, err_len, "could switch back to root after dropping to %s", user);
		return PQ_E_PERM;
	}
	return 0;
}

int pq_privdrop(const struct pq_privdrop *d, char *err, size_t err_len)
{
	int ret;

	if (d->user && d->user[0]) {
		if ((ret = switch_user(d->user, err, err_len)))
			return ret;
		if ((ret = clear_caps(err, err_len)))
			return ret;
	}
	if (chdir("/") < 0)
		return fail(err, err_len, PQ_E_IO, "chdir /", errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, err_len, PQ_E_PERM, "PR_SET_NO_NEW_PRIVS", errno);
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer ptraces the process at exit; a non-dumpable one it
	 * cannot. Test builds only: production stays non-dumpable. */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	if (d->seccomp)
		return pq_seccomp_apply(d->who, err, err_len);
	return 0;
}
