/*
 * test_privdrop.c - least privilege (util/privdrop.h, util/seccomp.h).
 * Each case runs in a forked child, since dropping cannot be undone:
 *   - as root, dropping to nobody leaves Uid/Gid nobody's, CapEff, CapPrm,
 *     CapInh, CapBnd and CapAmb 0, NoNewPrivs 1, and no way back to uid 0
 *     (read from /proc/self/status, as an operator would);
 *   - with seccomp, Seccomp is 2, what the daemons do still works (a loop,
 *     TCP listen/connect/accept, getifaddrs over netlink, randomness,
 *     reading a file), and execve kills the process with SIGSYS;
 *   - root as the user, or an unknown user, is refused with a message.
 * The suite runs as root (make check); not being root fails the first
 * case, it does not skip it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ifaddrs.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/util.h"
#include "net/loop.h"
#include "net/sock.h"
#include "util/privdrop.h"

/* The value of a /proc/self/status field ("CapEff"), or "" if absent. */
static void status_field(const char *name, char *out, size_t cap)
{
	char line[256];
	size_t n = strlen(name);
	FILE *f = fopen("/proc/self/status", "r");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':') {
			char *v = line + n + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, cap, "%s", v);
			break;
		}
	fclose(f);
}

static bool field_is(const char *name, const char *want)
{
	char v[128];

	status_field(name, v, sizeof(v));
	if (strcmp(v, want)) {
		fprintf(stderr, "%s: %s, expected %s\n", name, v, want);
		return false;
	}
	return true;
}

/* Run fn in a child; its wait status. */
static int in_child(int (*fn)(void))
{
	int st = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int drop_to_nobody(void)
{
	struct pq_privdrop d = { .user = "nobody", .who = "node" };
	char err[256];

	if (pq_privdrop(&d, err, sizeof(err))) {
		fprintf(stderr, "privdrop: %s\n", err);
		return 10;
	}
	if (!field_is("Uid", "65534\t65534\t65534\t65534") || !field_is("CapEff", "0000000000000000") ||
	    !field_is("CapPrm", "0000000000000000") || !field_is("CapInh", "0000000000000000") ||
	    !field_is("CapBnd", "0000000000000000") || !field_is("CapAmb", "0000000000000000") ||
	    !field_is("NoNewPrivs", "1") || !field_is("Seccomp", "0"))
		return 11;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 12;
	return 0;
}

static void test_drop_to_nobody(void **state)
{
	int st;

	assert_int_equal(geteuid(), 0); /* the suite runs as root */
	st = in_child(drop_to_nobody);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* What a daemon does after set-up, under the filter. */
static int daemon_work(void)
{
	struct pq_privdrop d = { .user = "nobody", .seccomp = true, .who = "relay" };
	struct pq_sockaddr any, at;
	struct pq_loop *loop = NULL;
	struct ifaddrs *ifa = NULL;
	uint8_t rnd[16];
	char err[256];
	int lfd, cfd, afd;
	FILE *f;

	if (pq_privdrop(&d, err, sizeof(err))) {
		fprintf(stderr, "privdrop: %s\n", err);
		return 20;
	}
	if (!field_is("Seccomp", "2") || !field_is("NoNewPrivs", "1"))
		return 21;
	if (pq_loop_new(&loop) || pq_sockaddr_from_ip(&any, "127.0.0.1", 0) ||
	    pq_sock_listen(&lfd, &any, 8) || pq_sock_local(lfd, &at) ||
	    pq_sock_connect(&cfd, &at))
		return 22;
	usleep(20000);
	if (pq_sock_accept(lfd, &afd, NULL) || write(cfd, "x", 1) != 1)
		return 23;
	if (getifaddrs(&ifa) != 0)
		return 24;
	freeifaddrs(ifa);
	if (pq_random_bytes(rnd, sizeof(rnd)))
		return 25;
	if (!(f = fopen("/etc/hosts", "r")))
		return 26;
	fclose(f);
	close(afd);
	close(cfd);
	close(lfd);
	pq_loop_free(loop);
	return 0;
}

static void test_seccomp_allows_daemon_work(void **state)
{
	int st = in_child(daemon_work);

	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int exec_under_filter(void)
{
	struct pq_privdrop d = { .seccomp = true, .who = "node" };
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	char err[256];

	if (pq_privdrop(&d, err, sizeof(err)))
		return 30;
	execve("/bin/true", argv, envp);
	return 31; /* execve failed without killing us */
}

static void test_seccomp_kills_exec(void **state)
{
	int st = in_child(exec_under_filter);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static int setuid_under_filter(void)
{
	struct pq_privdrop d = { .seccomp = true, .who = "node" };
	char err[256];

	if (pq_privdrop(&d, err, sizeof(err)))
		return 40;
	if (setuid(65534) < 0) /* allowed for root, but not by the filter */
		return 41;
	return 42;
}

static void test_seccomp_kills_setuid(void **state)
{
	int st = in_child(setuid_under_filter);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_bad_users_refused(void **state)
{
	struct pq_privdrop root = { .user = "root", .who = "node" };
	struct pq_privdrop none = { .user = "pqlan-no-such-user", .who = "node" };
	char err[256];

	assert_int_equal(pq_privdrop(&root, err, sizeof(err)), PQ_E_CONFIG);
	assert_non_null(strstr(err, "is root"));
	assert_int_equal(pq_privdrop(&none, err, sizeof(err)), PQ_E_CONFIG);
	assert_non_null(strstr(err, "pqlan-no-such-user"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_to_nobody),
		cmocka_unit_test(test_seccomp_allows_daemon_work),
		cmocka_unit_test(test_seccomp_kills_exec),
		cmocka_unit_test(test_seccomp_kills_setuid),
		cmocka_unit_test(test_bad_users_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
