/*
 * test_harden.c - the node's issue-11 glue (node/harden.h): peer-supplied
 * direct candidates are filtered on receipt (before: a peer made a node
 * dial 127.0.0.1:9999 and 169.254.169.254:80), and the direct listener's
 * pending cap comes out of the fd budget, so that a flood there can never
 * take the fds the relay conn and `pqlan status` need (before: 1024
 * pending slots = the whole default soft limit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "node/node_int.h"
#include "node/harden.h"
#include "proto/msg_sealed.h"
#include "testutil.h"

static void ep4(struct pq_endpoint *ep, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	const uint8_t ip[4] = { a, b, c, d };

	memset(ep, 0, sizeof(*ep));
	pq_endpoint_set_v4(ep, ip, port);
}

static void ep6(struct pq_endpoint *ep, uint8_t first, uint8_t second, uint8_t last, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = PQ_EP_FAMILY_V6;
	ep->addr[0] = first;
	ep->addr[1] = second;
	ep->addr[15] = last;
	ep->port = port;
}

static void test_endpoints_filtered(void **state)
{
	struct pq_endpoints e;

	memset(&e, 0, sizeof(e));
	ep4(&e.ep[0], 127, 0, 0, 1, 9999);
	ep4(&e.ep[1], 10, 0, 0, 5, 7443);
	ep4(&e.ep[2], 169, 254, 169, 254, 80);
	ep6(&e.ep[3], 0xfe, 0x80, 1, 7443);
	ep6(&e.ep[4], 0x20, 0x01, 1, 7443);
	ep4(&e.ep[5], 255, 255, 255, 255, 7443);
	ep4(&e.ep[6], 0, 0, 0, 0, 7443);
	ep6(&e.ep[7], 0, 0, 1, 7443); /* ::1 */
	e.count = 8;
	assert_int_equal(pq_node_endpoints_filter(&e), 6);
	assert_int_equal(e.count, 2);
	assert_int_equal(e.ep[0].addr[15], 5); /* 10.0.0.5, order kept */
	assert_int_equal(e.ep[1].addr[0], 0x20);
	pq_test_checked("candidates filtered", 4);
}

static void test_pending_cap_from_budget(void **state)
{
	static struct pq_node node;
	struct pq_conn_opts o;
	struct rlimit saved, low;

	memset(&node, 0, sizeof(node));
	node.peer_count = 3;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	/* plenty: 8 + 2 per peer, 4 per source */
	pq_node_listen_opts(&node, &o);
	assert_int_equal(o.max_pending, 8 + 2 * 3);
	assert_int_equal(o.max_pending_per_source, PQ_NODE_PENDING_PER_SOURCE);
	/* a low limit shrinks the cap, never the reserve */
	low = saved;
	low.rlim_cur = PQ_NODE_FD_RESERVE + 16 + 3 * PQ_PATH_MAX_CONNS + 6;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	pq_node_listen_opts(&node, &o);
	assert_int_equal(o.max_pending, 6);
	low.rlim_cur = PQ_NODE_FD_RESERVE;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	pq_node_listen_opts(&node, &o);
	assert_int_equal(o.max_pending, PQ_NODE_PENDING_PER_SOURCE);
	/* the budget raises the soft limit to what the node wants */
	low.rlim_cur = 100;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	pq_node_fd_budget(&node);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &low), 0);
	assert_true(low.rlim_cur >= PQ_NODE_FD_RESERVE + 16 + 3 * PQ_PATH_MAX_CONNS + 14 ||
		    low.rlim_cur == saved.rlim_max);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	pq_test_checked("pending caps", 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints_filtered),
		cmocka_unit_test(test_pending_cap_from_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
