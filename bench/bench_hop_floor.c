/*
 * bench_hop_floor.c - what the handshake's three relay hops cost on this
 * machine with nothing of pqlan in them (issue 13 item 5): the floor
 * under bench_relay_handshake's "from HS_INIT sent" figure.
 *
 * Three processes, as in that bench: A, a forwarder R and B, with one TCP
 * connection on 127.0.0.1 from A to R and one from B to R (TCP_NODELAY).
 * R copies each length-prefixed message to the other connection, blocking
 * in poll(2) in between, as the relay blocks in epoll. Per round, PACE_MS
 * after the last one:
 *
 *   ts  A sends PQ_HS_INIT_LEN bytes; R forwards them to B
 *       B works B_US, sends PQ_HS_RESP_LEN bytes back, then works SETTLE_US
 *       A works A_US, sends PQ_HS_FINISH_LEN bytes, then works SETTLE_US
 *   tB  B has read them
 *
 * The sample is tB - ts: the same three hops, message sizes and CPU work as
 * the handshake's critical path (B building HS_RESP, A building HS_FINISH,
 * each side's signature check after its answer), without TLS, WebSocket,
 * the relay's routing or any crypto. The work is a busy loop on the
 * monotonic clock, not a sleep: building an answer keeps a CPU busy, which
 * decides where the kernel wakes the next process. bench_relay_handshake.sh
 * passes the build legs it has just measured, so one run prints both.
 *
 * Usage: bench_hop_floor [N [PACE_MS [B_US [A_US [SETTLE_US]]]]]
 * (defaults 200 260 0 0 0). Prints p50/p90/p99/min/max in microseconds.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/msg_handshake.h"

#define MSG_MAX 4096
#define N_MAX 100000

struct floor_args {
	long n, pace_ms, b_us, a_us, settle_us;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void busy_us(long us)
{
	uint64_t end = now_ns() + (uint64_t)us * 1000u;

	while (now_ns() < end)
		;
}

static int read_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* One message: a 2-byte big-endian length, then the bytes; one write. */
static int msg_write(int fd, const uint8_t *body, size_t len)
{
	uint8_t buf[2 + MSG_MAX];

	if (len > MSG_MAX)
		return -1;
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, body, len);
	return write(fd, buf, len + 2) == (ssize_t)(len + 2) ? 0 : -1;
}

static int msg_read(int fd, uint8_t body[MSG_MAX], size_t *len)
{
	uint8_t hdr[2];

	if (read_all(fd, hdr, 2))
		return -1;
	*len = (size_t)hdr[0] << 8 | hdr[1];
	return *len <= MSG_MAX ? read_all(fd, body, *len) : -1;
}

/* fds[0]: A's end, fds[1]: R's end of A's conn, fds[2]: B's, fds[3]: R's. */
static int connect_pairs(int fds[4])
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t addr_len = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ret = -1;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 2) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &addr_len))
		goto out;
	for (int i = 0; i < 4; i += 2) {
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(fds[i], (struct sockaddr *)&addr, sizeof(addr)) ||
		    (fds[i + 1] = accept(lfd, NULL, NULL)) < 0)
			goto out;
	}
	for (int i = 0; i < 4; i++)
		(void)setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ret = 0;
out:
	if (lfd >= 0)
		close(lfd);
	return ret;
}

/* R: forward whole messages between its two ends until either closes. */
static int run_forwarder(int a_fd, int b_fd)
{
	uint8_t buf[MSG_MAX];
	size_t len;

	for (;;) {
		struct pollfd p[2] = { { .fd = a_fd, .events = POLLIN }, { .fd = b_fd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			if (msg_read(p[i].fd, buf, &len))
				return 0; /* the end of the run */
			if (msg_write(p[1 - i].fd, buf, len))
				return 1;
		}
	}
}

static int run_b(int fd, const struct floor_args *a, uint64_t *tb)
{
	static const uint8_t resp[PQ_HS_RESP_LEN];
	uint8_t buf[MSG_MAX];
	size_t len;

	for (long i = 0; i < a->n; i++) {
		if (msg_read(fd, buf, &len))
			return 1;
		busy_us(a->b_us);
		if (msg_write(fd, resp, sizeof(resp)))
			return 1;
		busy_us(a->settle_us);
		if (msg_read(fd, buf, &len))
			return 1;
		tb[i] = now_ns();
	}
	return 0;
}

static int run_a(int fd, const struct floor_args *a, uint64_t *ts)
{
	static const uint8_t init[PQ_HS_INIT_LEN], finish[PQ_HS_FINISH_LEN];
	uint8_t buf[MSG_MAX];
	size_t len;

	for (long i = 0; i < a->n; i++) {
		struct timespec pace = { a->pace_ms / 1000, a->pace_ms % 1000 * 1000000L };

		while (nanosleep(&pace, &pace) && errno == EINTR)
			;
		ts[i] = now_ns();
		if (msg_write(fd, init, sizeof(init)) || msg_read(fd, buf, &len))
			return 1;
		busy_us(a->a_us);
		if (msg_write(fd, finish, sizeof(finish)))
			return 1;
		busy_us(a->settle_us);
	}
	return 0;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;

	return p < q ? -1 : p > q;
}

static void print_figures(const struct floor_args *a, const uint64_t *ts, const uint64_t *tb)
{
	uint64_t *d = calloc((size_t)a->n, sizeof(*d));
	long n = a->n;

	if (!d)
		return;
	for (long i = 0; i < n; i++)
		d[i] = (tb[i] - ts[i]) / 1000u;
	qsort(d, (size_t)n, sizeof(*d), cmp_u64);
	printf("floor: three hops over raw TCP + a forwarder (%ld rounds, B works %ld us, A %ld us, each %ld us after "
	       "its answer)\n  ts -> tB                     p50 %8llu  p90 %8llu  p99 %8llu  min %8llu  max %8llu\n",
	       n, a->b_us, a->a_us, a->settle_us, (unsigned long long)d[n / 2], (unsigned long long)d[n * 9 / 10],
	       (unsigned long long)d[n * 99 / 100], (unsigned long long)d[0], (unsigned long long)d[n - 1]);
	free(d);
}

static int parse_args(int argc, char **argv, struct floor_args *a)
{
	long *field[] = { &a->n, &a->pace_ms, &a->b_us, &a->a_us, &a->settle_us };

	*a = (struct floor_args){ .n = 200, .pace_ms = 260 };
	if (argc > 6)
		return -1;
	for (int i = 1; i < argc; i++) {
		char *end;

		errno = 0;
		*field[i - 1] = strtol(argv[i], &end, 10);
		if (errno || *end || end == argv[i] || *field[i - 1] < 0 || *field[i - 1] > 1000000)
			return -1;
	}
	return a->n >= 1 && a->n <= N_MAX && a->pace_ms >= 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct floor_args a;
	int fds[4] = { -1, -1, -1, -1 }, status, ret = 1;
	uint64_t *ts = NULL, *tb = MAP_FAILED;
	pid_t r_pid = -1, b_pid = -1;

	if (parse_args(argc, argv, &a)) {
		fprintf(stderr, "usage: bench_hop_floor [N (1-%d) [PACE_MS [B_US [A_US [SETTLE_US]]]]]\n", N_MAX);
		return 2;
	}
	/* B's times reach A through shared memory (CLOCK_MONOTONIC is system-wide). */
	tb = mmap(NULL, (size_t)a.n * sizeof(*tb), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ts = calloc((size_t)a.n, sizeof(*ts));
	if (tb == MAP_FAILED || !ts || connect_pairs(fds)) {
		perror("bench_hop_floor: set-up");
		goto out;
	}
	if ((r_pid = fork()) == 0) {
		close(fds[0]);
		close(fds[2]);
		_exit(run_forwarder(fds[1], fds[3]));
	}
	close(fds[1]);
	close(fds[3]);
	fds[1] = fds[3] = -1;
	if (r_pid > 0 && (b_pid = fork()) == 0) {
		close(fds[0]);
		_exit(run_b(fds[2], &a, tb));
	}
	close(fds[2]);
	fds[2] = -1;
	if (r_pid < 0 || b_pid < 0) {
		perror("bench_hop_floor: fork");
		goto out;
	}
	ret = run_a(fds[0], &a, ts);
	close(fds[0]); /* ends R (and B, if it is still waiting) */
	fds[0] = -1;
	if (waitpid(b_pid, &status, 0) != b_pid || !WIFEXITED(status) || WEXITSTATUS(status))
		ret = 1;
	b_pid = -1;
	if (ret == 0)
		print_figures(&a, ts, tb);
	else
		fprintf(stderr, "bench_hop_floor: a round failed\n");
out:
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (b_pid > 0)
		(void)waitpid(b_pid, NULL, 0);
	if (r_pid > 0)
		(void)waitpid(r_pid, NULL, 0);
	free(ts);
	if (tb != MAP_FAILED)
		munmap(tb, (size_t)a.n * sizeof(*tb));
	return ret;
}
