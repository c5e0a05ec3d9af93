/* test_log.c - util/log.h: the plain line format, level filtering, and
 * journald priority prefixes when stderr is the stream JOURNAL_STREAM
 * names (and only then). Each case runs in a child whose stderr is a
 * file, so the process's own stderr and log state are untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"

/* Run body in a child with stderr on a temp file; its text in out. */
static void capture(void (*body)(void), const char *journal, char *out, size_t cap)
{
	char path[] = "/tmp/pqlogXXXXXX";
	int fd = mkstemp(path), status;
	struct stat st;
	ssize_t n;
	pid_t pid;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(fstat(fd, &st), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char v[64];

		dup2(fd, STDERR_FILENO);
		if (journal && !strcmp(journal, "match"))
			snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino);
		else
			snprintf(v, sizeof(v), "%s", journal ? journal : "");
		if (journal)
			setenv("JOURNAL_STREAM", v, 1);
		else
			unsetenv("JOURNAL_STREAM");
		body();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	n = pread(fd, out, cap - 1, 0);
	assert_true(n >= 0);
	out[n] = 0;
	close(fd);
}

static void lines(void)
{
	pq_log(PQ_LOG_DEBUG, "hidden %d", 1);
	pq_log(PQ_LOG_INFO, "info %d", 2);
	pq_log(PQ_LOG_WARN, "warn %d", 3);
	pq_log(PQ_LOG_ERROR, "error %d", 4);
	pq_log_set_level(PQ_LOG_DEBUG);
	pq_log(PQ_LOG_DEBUG, "debug %d", 5);
}

static void test_plain(void **state)
{
	char out[1024], want[256];

	capture(lines, NULL, out, sizeof(out));
	assert_null(strstr(out, "hidden"));
	assert_null(strchr(out, '<'));
	snprintf(want, sizeof(want), "]: info: info 2\n");
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "]: warn: warn 3\n"));
	assert_non_null(strstr(out, "]: error: error 4\n"));
	assert_non_null(strstr(out, "]: debug: debug 5\n"));
	assert_int_equal(strncmp(out, "pqlan[", 6), 0);
}

static void test_journal(void **state)
{
	char out[1024];

	capture(lines, "match", out, sizeof(out));
	assert_string_equal(out, "<6>info: info 2\n<4>warn: warn 3\n<3>error: error 4\n<7>debug: debug 5\n");
}

static void test_journal_other_stream(void **state)
{
	char out[1024];

	/* systemd set it for another stream (stderr redirected since): plain. */
	capture(lines, "1:2", out, sizeof(out));
	assert_null(strchr(out, '<'));
	capture(lines, "garbage", out, sizeof(out));
	assert_null(strchr(out, '<'));
}

static void test_level_names(void **state)
{
	enum pq_log_level l;

	assert_int_equal(pq_log_level_parse("warn", &l), 0);
	assert_int_equal(l, PQ_LOG_WARN);
	assert_int_equal(pq_log_level_parse("warning", &l), -1);
	assert_string_equal(pq_log_level_name(PQ_LOG_ERROR), "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_journal_other_stream),
		cmocka_unit_test(test_level_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
