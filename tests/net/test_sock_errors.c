/* test_sock_errors.c - socket outcomes get codes that say what happened
 * (issue 12): a port in use is PQ_E_INUSE ("address already in use", not
 * "permission problem"), a port nobody listens on is PQ_E_REFUSED (not
 * "input/output error"). Loopback only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <poll.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/sock.h"
#include "util/err.h"

static void test_in_use(void **state)
{
	struct pq_sockaddr a, bound;
	int fd1 = -1, fd2 = -1;

	assert_int_equal(pq_sockaddr_from_ip(&a, "127.0.0.1", 0), 0);
	assert_int_equal(pq_sock_listen(&fd1, &a, 4), 0);
	assert_int_equal(pq_sock_local(fd1, &bound), 0);
	assert_int_equal(pq_sock_listen(&fd2, &bound, 4), PQ_E_INUSE);
	assert_string_equal(pq_strerror(PQ_E_INUSE), "address already in use");
	close(fd1);
}

static void test_refused(void **state)
{
	struct pq_sockaddr a, bound;
	struct pollfd pfd;
	int lfd = -1, fd = -1, rc;

	/* A port that was ours a moment ago and is closed now. */
	assert_int_equal(pq_sockaddr_from_ip(&a, "127.0.0.1", 0), 0);
	assert_int_equal(pq_sock_listen(&lfd, &a, 4), 0);
	assert_int_equal(pq_sock_local(lfd, &bound), 0);
	close(lfd);
	rc = pq_sock_connect(&fd, &bound);
	if (rc == 0) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		rc = pq_sock_connect_result(fd);
		close(fd);
	}
	assert_int_equal(rc, PQ_E_REFUSED);
	assert_non_null(strstr(pq_strerror(rc), "connection refused"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_use),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
