/*
 * test_reqsrv.c - the one-request server of the control socket and the
 * metrics endpoint (net/reqsrv.h), on a real loop and UNIX socket:
 * answers a request, closes a client that says nothing at its deadline,
 * refuses clients past max_clients, and - issue 8 defect 5 - does not
 * spin when the process is out of file descriptors: the listening socket
 * stays readable while accept4() fails, so a server that just returns is
 * woken at once, again and again (the old control socket did that, using
 * a whole core, with `pqlan status` unanswered). It must pause and resume
 * by itself. And over TCP (the metrics endpoint), with every slot held by
 * one host's silent connections, another host's request is answered: the
 * busiest source's oldest client gives its slot up; a source that holds
 * no more than any other is turned away as before. alarm() bounds the
 * tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "net/reqsrv.h"

#define WINDOW_MS 400
#define MAX_FILLERS 4096

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

/* Answers "ping\n" with "pong\n". */
static enum pq_reqsrv_verdict on_request(void *ctx, const char *req, size_t len, bool eof, char **out,
					 size_t *out_len)
{
	if (!memchr(req, '\n', len))
		return eof ? PQ_REQSRV_CLOSE : PQ_REQSRV_MORE;
	if (strcmp(req, "ping\n") != 0 || !(*out = strdup("pong\n")))
		return PQ_REQSRV_CLOSE;
	*out_len = 5;
	return PQ_REQSRV_ANSWER;
}

struct fx {
	struct pq_loop *loop;
	struct pq_reqsrv *srv;
	struct sockaddr_un sa;
};

static void fx_start(struct fx *f, unsigned max_clients)
{
	struct pq_reqsrv_config cfg = {
		.req_max = 64, .max_clients = max_clients, .deadline_ms = 300, .on_request = on_request,
	};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	memset(f, 0, sizeof(*f));
	f->sa.sun_family = AF_UNIX;
	snprintf(f->sa.sun_path, sizeof(f->sa.sun_path), "/tmp/pq-reqsrv-%d.sock", (int)getpid());
	unlink(f->sa.sun_path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&f->sa, sizeof(f->sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(pq_loop_new(&f->loop), 0);
	assert_int_equal(pq_reqsrv_new(&f->srv, f->loop, fd, &cfg), 0);
}

static void fx_stop(struct fx *f)
{
	pq_reqsrv_free(f->srv);
	pq_loop_free(f->loop);
	unlink(f->sa.sun_path);
}

static void fx_stop_tcp(struct fx *f)
{
	pq_reqsrv_free(f->srv);
	pq_loop_free(f->loop);
}

static int client(const struct fx *f, const char *say)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)&f->sa, sizeof(f->sa)), 0);
	if (say)
		assert_int_equal(write(fd, say, strlen(say)), (ssize_t)strlen(say));
	return fd;
}

/* What the server left for fd: its answer, then "EOF" once closed. */
static void drained(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < cap && (n = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	/* A close with our request unread resets a UNIX stream: closed too. */
	if ((n == 0 || (n < 0 && errno == ECONNRESET)) && got + 4 < cap)
		strcat(buf, "EOF");
}

static void test_answers_and_deadline(void **state)
{
	struct pq_reqsrv_stats st;
	struct fx f;
	char buf[64];
	int a, silent;

	alarm(30);
	fx_start(&f, 4);
	a = client(&f, "ping\n");
	silent = client(&f, NULL);
	run_for(f.loop, 100);
	drained(a, buf, sizeof(buf));
	assert_string_equal(buf, "pong\nEOF");
	drained(silent, buf, sizeof(buf));
	assert_string_equal(buf, ""); /* still open: its deadline is 300 ms */
	run_for(f.loop, 400);
	drained(silent, buf, sizeof(buf));
	assert_string_equal(buf, "EOF");
	pq_reqsrv_stats(f.srv, &st);
	assert_int_equal(st.served, 1);
	close(a);
	close(silent);
	fx_stop(&f);
}

static void test_busy_slots(void **state)
{
	struct pq_reqsrv_stats st;
	struct fx f;
	char buf[64];
	int hold[2], late;

	alarm(30);
	fx_start(&f, 2);
	hold[0] = client(&f, NULL);
	hold[1] = client(&f, NULL);
	run_for(f.loop, 50);
	late = client(&f, "ping\n");
	run_for(f.loop, 50);
	drained(late, buf, sizeof(buf));
	assert_string_equal(buf, "EOF"); /* closed unanswered */
	pq_reqsrv_stats(f.srv, &st);
	assert_int_equal(st.refused_busy, 1);
	close(hold[0]);
	close(hold[1]);
	close(late);
	fx_stop(&f);
}

static void test_out_of_fds_does_not_spin(void **state)
{
	static int fillers[MAX_FILLERS];
	struct pq_reqsrv_stats st;
	struct rlimit saved, low;
	struct fx f;
	char buf[64];
	uint64_t cpu;
	size_t n = 0;
	int c, probe, null_fd;

	alarm(30);
	fx_start(&f, 4);
	c = client(&f, "ping\n");
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(null_fd >= 0);
	probe = dup(null_fd);
	close(probe);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)probe + 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < MAX_FILLERS && (fillers[n] = dup(null_fd)) >= 0)
		n++;
	assert_true(n > 0 && n < MAX_FILLERS);
	cpu = run_for(f.loop, WINDOW_MS);
	pq_reqsrv_stats(f.srv, &st);
	printf("checked: out of fds, the server used %llu ms of CPU in %d ms (%llu accept attempts hit the limit)\n",
	       (unsigned long long)cpu, WINDOW_MS, (unsigned long long)st.fd_limit_hits);
	/* Paused: about one attempt per PQ_REQSRV_FD_PAUSE_MS, not thousands. */
	assert_true(st.fd_limit_hits >= 1);
	assert_true(st.fd_limit_hits <= WINDOW_MS / PQ_REQSRV_FD_PAUSE_MS + 2);
	assert_true(cpu < WINDOW_MS / 8);
	/* fds free again: the waiting client is answered without help. */
	while (n)
		close(fillers[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	run_for(f.loop, 2 * PQ_REQSRV_FD_PAUSE_MS + 50);
	drained(c, buf, sizeof(buf));
	assert_string_equal(buf, "pong\nEOF");
	close(c);
	close(null_fd);
	fx_stop(&f);
}

/* A TCP server on 127.0.0.1 (port picked) in f, max_clients slots;
 * *addr its address. */
static void fx_start_tcp(struct fx *f, unsigned max_clients, struct sockaddr_in *addr)
{
	struct pq_reqsrv_config cfg = {
		.req_max = 64, .max_clients = max_clients, .deadline_ms = 2000, .on_request = on_request,
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	socklen_t len = sizeof(*addr);

	memset(f, 0, sizeof(*f));
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(pq_loop_new(&f->loop), 0);
	assert_int_equal(pq_reqsrv_new(&f->srv, f->loop, fd, &cfg), 0);
}

/* A TCP client from source address from (127.0.0.x: every 127/8 address
 * is the loopback's), connected and accepted; it says say (NULL: nothing). */
static int tcp_client(struct fx *f, const struct sockaddr_in *to, const char *from, const char *say)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, from, &src.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)to, sizeof(*to)), 0);
	if (say)
		assert_int_equal(write(fd, say, strlen(say)), (ssize_t)strlen(say));
	run_for(f->loop, 30);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/* Two slots, both held by host .2's silent connections: host .3 asks and
 * is answered, the older of .2's connections closed for it. .2 then
 * holds one slot, as .3 does: a third connection of .2 is turned away,
 * and the newer of its first two is still open (reads nothing yet). */
static void test_busy_source_gives_way(void **state)
{
	struct pq_reqsrv_stats st;
	struct sockaddr_in addr;
	struct fx f;
	char buf[64];
	int hog[3], asker;

	alarm(30);
	fx_start_tcp(&f, 2, &addr);
	hog[0] = tcp_client(&f, &addr, "127.0.0.2", NULL);
	hog[1] = tcp_client(&f, &addr, "127.0.0.2", NULL);
	asker = tcp_client(&f, &addr, "127.0.0.3", NULL);
	pq_reqsrv_stats(f.srv, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.refused_busy, 0);
	drained(hog[0], buf, sizeof(buf));
	assert_string_equal(buf, "EOF"); /* the oldest gave way */

	hog[2] = tcp_client(&f, &addr, "127.0.0.2", NULL);
	pq_reqsrv_stats(f.srv, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.refused_busy, 1);
	drained(hog[2], buf, sizeof(buf));
	assert_string_equal(buf, "EOF");
	assert_int_equal(read(hog[1], buf, sizeof(buf)), -1); /* still open, nothing said */
	assert_int_equal(errno, EAGAIN);

	assert_int_equal(write(asker, "ping\n", 5), 5);
	run_for(f.loop, 50);
	drained(asker, buf, sizeof(buf));
	assert_string_equal(buf, "pong\nEOF");
	for (int i = 0; i < 3; i++)
		close(hog[i]);
	close(asker);
	fx_stop_tcp(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_and_deadline),
		cmocka_unit_test(test_busy_slots),
		cmocka_unit_test(test_out_of_fds_does_not_spin),
		cmocka_unit_test(test_busy_source_gives_way),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
