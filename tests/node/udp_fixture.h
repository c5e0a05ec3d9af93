/*
 * udp_fixture.h - a node with a real UDP socket for tests of what its
 * socket does with datagrams (node/udp_path.c, udp_stun.c): the node
 * binds 127.0.0.1:0 with pq_udp_path_open on a loop of its own, and the
 * test sends from local sockets and turns the loop, as the network and
 * the daemon would. Peers, keys and path cores are the test's.
 */
#ifndef PQ_TESTS_NODE_UDP_FIXTURE_H
#define PQ_TESTS_NODE_UDP_FIXTURE_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node_fixture.h"

struct udp_fixture {
	struct pq_node *node;
	struct pq_timer stop; /* ends one turn of the loop */
};

/* A UDP socket on 127.0.0.1 (port picked by the kernel), non-blocking;
 * -1 on failure. */
static inline int udp_fixture_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline void udp_fixture_stop(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	(void)t, (void)arg, (void)now_ms;
	pq_loop_stop(loop);
}

/* node (fixture_node'd) gets a loop and its UDP socket on 127.0.0.1.
 * 0, or -1 when either cannot be made. */
static inline int udp_fixture_open(struct udp_fixture *f, struct pq_node *node)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&node->cfg.listen_udp.ss;
	char err[160];

	f->node = node;
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = 0;
	node->cfg.listen_udp.len = sizeof(*a);
	node->cfg.has_listen_udp = true;
	pq_timer_init(&f->stop, udp_fixture_stop, NULL);
	if (pq_loop_new(&node->loop))
		return -1;
	return pq_udp_path_open(node, err, sizeof(err)) || node->udp.fd < 0 ? -1 : 0;
}

static inline void udp_fixture_close(struct udp_fixture *f)
{
	pq_loop_timer_cancel(f->node->loop, &f->stop);
	pq_udp_path_close(f->node);
	pq_loop_free(f->node->loop);
	f->node->loop = NULL;
}

/* What was sent to the node is read and handled: loopback delivers at
 * once, and a few turns of the loop take any batch a test sends between
 * two calls (the node reads at most PQ_NODE_UDP_BATCH a turn). */
static inline void udp_fixture_pump(struct udp_fixture *f)
{
	for (int turn = 0; turn < 4; turn++) {
		assert_int_equal(pq_loop_timer_start(f->node->loop, &f->stop, 0), 0);
		assert_int_equal(pq_loop_run(f->node->loop), 0);
	}
}

/* len bytes from fd to the node's socket. */
static inline void udp_fixture_send(const struct udp_fixture *f, int fd, const uint8_t *msg, size_t len)
{
	const struct pq_sockaddr *to = &f->node->udp.local;

	assert_int_equal(sendto(fd, msg, len, 0, (const struct sockaddr *)&to->ss, to->len), (ssize_t)len);
}

/* What the node sent to fd since the last call: the last datagram's
 * length (its bytes in buf), 0 if none. */
static inline size_t udp_fixture_last_received(int fd, uint8_t *buf, size_t cap)
{
	size_t last = 0;
	ssize_t n;

	while ((n = recv(fd, buf, cap, 0)) > 0)
		last = (size_t)n;
	return last;
}

/* fd's own address. */
static inline void udp_fixture_addr(int fd, struct pq_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&out->ss, &out->len), 0);
}

#endif
