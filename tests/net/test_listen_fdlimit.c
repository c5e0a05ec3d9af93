/*
 * test_listen_fdlimit.c - a listener whose process is out of file
 * descriptors (EMFILE) must not spin: the listening socket stays readable
 * while accept4() fails, so with level-triggered epoll a listener that
 * just returns is woken again at once, burning a whole core until some fd
 * is freed - which a peer holding connections open (slowloris) decides.
 * The listener must pause accepting, and resume by itself once fds are
 * free again. alarm() bounds the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/ed25519.h"
#include "net/conn.h"

#define WINDOW_MS 400
#define MAX_FILLERS 4096

static void noop_open(void *ctx, struct pq_conn *c) { (void)ctx; (void)c; }

static const struct pq_conn_cbs cbs = { noop_open, NULL, NULL };

static uint64_t cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void stop_fn(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	pq_loop_stop(loop);
}

/* Run the loop for ms; the CPU time it used. */
static uint64_t run_for(struct pq_loop *loop, uint64_t ms)
{
	struct pq_timer stop;
	uint64_t before = cpu_ms();

	pq_timer_init(&stop, stop_fn, NULL);
	assert_int_equal(pq_loop_timer_start(loop, &stop, ms), 0);
	assert_int_equal(pq_loop_run(loop), 0);
	pq_loop_timer_cancel(loop, &stop);
	return cpu_ms() - before;
}

/* Take every free fd below the soft limit, after lowering it to just above
 * the fds in use: from then on accept4() fails with EMFILE. */
static size_t exhaust_fds(int *fillers, int src, struct rlimit *saved)
{
	struct rlimit low;
	size_t n = 0;
	int probe = dup(src);

	assert_true(probe >= 0);
	close(probe);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, saved), 0);
	low = *saved;
	low.rlim_cur = (rlim_t)probe + 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < MAX_FILLERS && (fillers[n] = dup(src)) >= 0)
		n++;
	assert_true(n > 0 && n < MAX_FILLERS);
	return n;
}

static void test_accept_out_of_fds(void **state)
{
	static int fillers[MAX_FILLERS];
	struct pq_listener_stats st;
	struct pq_tls_ctx *tls;
	struct pq_listener *l;
	struct pq_loop *loop;
	struct pq_sockaddr any;
	struct rlimit saved;
	uint8_t priv[32];
	uint64_t cpu;
	size_t n;
	int cfd, null_fd;

	alarm(30);
	assert_int_equal(pq_loop_new(&loop), 0);
	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_tls_ctx_new(&tls, PQ_TLS_SERVER, priv), 0);
	assert_int_equal(pq_sockaddr_from_ip(&any, "127.0.0.1", 0), 0);
	assert_int_equal(pq_listener_new(&l, loop, tls, &any, NULL, &cbs, NULL), 0);
	/* A client whose TCP connect completes in the kernel's backlog. */
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cfd >= 0);
	assert_int_equal(connect(cfd, (const struct sockaddr *)&pq_listener_addr(l)->ss,
				 pq_listener_addr(l)->len), 0);

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(null_fd >= 0);
	n = exhaust_fds(fillers, null_fd, &saved);
	cpu = run_for(loop, WINDOW_MS);
	pq_listener_stats(l, &st);
	assert_int_equal(st.accepted, 0);
	assert_true(st.paused >= 1);
	printf("checked: out of fds, the listener used %llu ms of CPU in %d ms\n",
	       (unsigned long long)cpu, WINDOW_MS);
	/* A spinning listener uses about the whole window (less under load,
	 * but far more than this); a paused one close to nothing. */
	assert_true(cpu < WINDOW_MS / 8);

	/* fds free again: the waiting connection is accepted without help. */
	while (n)
		close(fillers[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	run_for(loop, 2000);
	pq_listener_stats(l, &st);
	assert_int_equal(st.accepted, 1);
	printf("checked: accepting resumed once fds were free (1 connection)\n");

	close(cfd);
	close(null_fd);
	pq_listener_free(l);
	run_for(loop, 10);
	pq_tls_ctx_free(tls);
	pq_loop_free(loop);
	alarm(0);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_out_of_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
