/* test_resolve.c - net/resolve.h: a lookup's result arrives through the
 * loop (never inside pq_resolve_start); a cancelled lookup calls nothing.
 * Names from /etc/hosts only ("localhost"): no DNS traffic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include "net/loop.h"
#include "net/resolve.h"

struct outcome {
	int calls, err;
	struct pq_sockaddr addr;
	struct pq_loop *loop;
};

static void done(void *arg, int err, const struct pq_sockaddr *a, const char *why)
{
	struct outcome *o = arg;

	o->calls++;
	o->err = err;
	if (a)
		o->addr = *a;
	pq_loop_stop(o->loop);
}

static void stop_loop(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	pq_loop_stop(loop);
}

static void test_localhost(void **state)
{
	struct outcome o = { 0 };
	struct pq_resolve *r;
	struct pq_timer guard;

	assert_int_equal(pq_loop_new(&o.loop), 0);
	pq_timer_init(&guard, stop_loop, NULL);
	assert_int_equal(pq_loop_timer_start(o.loop, &guard, 5000), 0);
	assert_int_equal(pq_resolve_start(&r, o.loop, "localhost", 7443, 4000, done, &o), 0);
	assert_int_equal(o.calls, 0);         /* never inside the call */
	assert_int_equal(pq_loop_run(o.loop), 0);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, 0);
	assert_int_equal(pq_sockaddr_port(&o.addr), 7443);
	assert_true(o.addr.ss.ss_family == AF_INET || o.addr.ss.ss_family == AF_INET6);
	pq_loop_timer_cancel(o.loop, &guard);
	pq_loop_free(o.loop);
}

static void test_cancel(void **state)
{
	struct outcome o = { 0 };
	struct pq_resolve *r;
	struct pq_timer guard;

	assert_int_equal(pq_loop_new(&o.loop), 0);
	pq_timer_init(&guard, stop_loop, NULL);
	assert_int_equal(pq_resolve_start(&r, o.loop, "localhost", 1, 4000, done, &o), 0);
	pq_resolve_cancel(r);
	assert_int_equal(pq_loop_timer_start(o.loop, &guard, 300), 0);
	assert_int_equal(pq_loop_run(o.loop), 0);
	assert_int_equal(o.calls, 0);
	pq_loop_free(o.loop);
}

static void test_bad_args(void **state)
{
	struct pq_loop *loop;
	struct pq_resolve *r;
	char long_name[300];

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	assert_int_equal(pq_loop_new(&loop), 0);
	assert_int_equal(pq_resolve_start(&r, loop, long_name, 1, 1000, done, NULL), PQ_E_INVAL);
	assert_int_equal(pq_resolve_start(&r, loop, "localhost", 70000, 1000, done, NULL), PQ_E_INVAL);
	pq_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_localhost),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
