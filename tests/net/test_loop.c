/*
 * test_loop.c - the epoll loop: readiness callbacks, interest changes,
 * timers in deadline order with cancel, and removing fds from inside
 * callbacks (including the stale-event case where the fd number is reused
 * within one batch). alarm() bounds every test so a hang fails fast.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/loop.h"

static struct pq_loop *new_loop(void)
{
	struct pq_loop *loop = NULL;

	assert_int_equal(pq_loop_new(&loop), 0);
	assert_non_null(loop);
	return loop;
}

/* ---- a pipe becomes readable, the callback runs ---- */

struct rd {
	int calls;
	unsigned events;
	char byte;
	uint64_t now;
};

static void on_readable(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct rd *r = arg;

	r->calls++;
	r->events = events;
	r->now = now;
	assert_int_equal(now, pq_loop_now(loop));
	/* data: one byte; hang-up: end of file */
	if (events & PQ_LOOP_READ)
		assert_int_equal(read(fd, &r->byte, 1), (events & PQ_LOOP_HUP) ? 0 : 1);
	pq_loop_stop(loop);
}

static void test_pipe_readable(void **state)
{
	struct pq_loop *loop = new_loop();
	struct rd r = {0};
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(pq_loop_add(loop, p[0], PQ_LOOP_READ, on_readable, &r), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, PQ_LOOP_READ);
	assert_int_equal(r.byte, 'x');
	/* hang-up: the writer closes, the reader is told (READ|HUP) */
	close(p[1]);
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(r.calls, 2);
	assert_true(r.events & PQ_LOOP_HUP);
	assert_true(r.events & PQ_LOOP_READ);
	assert_int_equal(pq_loop_del(loop, p[0]), 0);
	close(p[0]);
	pq_loop_free(loop);
	printf("checked: 2 readiness cases (data, hang-up)\n");
}

/* Write interest: none registered -> no callback; after mod -> callback. */
static void on_writable(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct rd *r = arg;

	r->calls++;
	r->events = events;
	pq_loop_stop(loop);
}

static void on_timer_stop(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	(*(int *)arg)++;
	pq_loop_stop(loop);
}

static void test_modify_interest(void **state)
{
	struct pq_loop *loop = new_loop();
	struct pq_timer guard;
	struct rd r = {0};
	int p[2], fired = 0;

	assert_int_equal(pipe(p), 0);
	/* the write end is always writable, but we only asked for READ */
	assert_int_equal(pq_loop_add(loop, p[1], PQ_LOOP_READ, on_writable, &r), 0);
	pq_timer_init(&guard, on_timer_stop, &fired);
	assert_int_equal(pq_loop_timer_start(loop, &guard, 20), 0);
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(fired, 1);
	assert_int_equal(pq_loop_mod(loop, p[1], PQ_LOOP_WRITE), 0);
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, PQ_LOOP_WRITE);
	assert_int_equal(pq_loop_del(loop, p[1]), 0);
	close(p[0]);
	close(p[1]);
	pq_loop_free(loop);
	printf("checked: 2 interest cases\n");
}

/* ---- timers ---- */

struct order {
	int fired[64];
	uint64_t at[64];
	int n;
	int stop_after;
	struct pq_timer *cancel_me; /* cancelled by the first callback */
};

struct tmr {
	struct pq_timer t;
	struct order *o;
	int id;
};

static void on_timer(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	struct tmr *m = arg;
	struct order *o = m->o;

	assert_ptr_equal(t, &m->t);
	assert_false(pq_timer_armed(t));
	o->fired[o->n] = m->id;
	o->at[o->n++] = now;
	if (o->cancel_me) {
		pq_loop_timer_cancel(loop, o->cancel_me);
		o->cancel_me = NULL;
	}
	if (o->n == o->stop_after)
		pq_loop_stop(loop);
}

static void test_timers_in_order(void **state)
{
	static const uint64_t delays[] = {30, 10, 20}; /* started out of order */
	struct pq_loop *loop = new_loop();
	struct order o = {.stop_after = 3};
	struct tmr m[3];
	uint64_t t0 = pq_loop_now(loop);

	for (int i = 0; i < 3; i++) {
		m[i].o = &o;
		m[i].id = (int)delays[i];
		pq_timer_init(&m[i].t, on_timer, &m[i]);
		assert_false(pq_timer_armed(&m[i].t));
		assert_int_equal(pq_loop_timer_start(loop, &m[i].t, delays[i]), 0);
		assert_true(pq_timer_armed(&m[i].t));
	}
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(o.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(o.fired[i], 10 * (i + 1));
		/* never early; and the whole test is far under a second */
		assert_true(o.at[i] >= t0 + (uint64_t)o.fired[i]);
		assert_true(o.at[i] < t0 + 1000);
	}
	assert_true(o.at[0] <= o.at[1] && o.at[1] <= o.at[2]);
	printf("checked: 3 timers fired in deadline order (%llu/%llu/%llu ms)\n",
	       (unsigned long long)(o.at[0] - t0), (unsigned long long)(o.at[1] - t0),
	       (unsigned long long)(o.at[2] - t0));
	pq_loop_free(loop);
}

/* Many timers with random delays: the heap yields them sorted, ties in
 * start order; cancelling every third keeps the rest in order. */
static void test_timer_heap_order(void **state)
{
	enum { N = 60 };
	struct pq_loop *loop = new_loop();
	struct order o = {0};
	struct tmr m[N];
	uint64_t due[N];
	int n_live = 0;

	srand(7);
	for (int i = 0; i < N; i++) {
		m[i].o = &o;
		m[i].id = i;
		pq_timer_init(&m[i].t, on_timer, &m[i]);
		assert_int_equal(pq_loop_timer_start(loop, &m[i].t, (uint64_t)(rand() % 40)), 0);
		due[i] = m[i].t.due_ms;
	}
	for (int i = 0; i < N; i += 3)
		pq_loop_timer_cancel(loop, &m[i].t);
	for (int i = 0; i < N; i++)
		n_live += pq_timer_armed(&m[i].t);
	assert_int_equal(n_live, N - (N + 2) / 3);
	o.stop_after = n_live;
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(o.n, n_live);
	for (int k = 0; k < o.n; k++) {
		assert_true(o.fired[k] % 3 != 0);
		if (k > 0) {
			int a = o.fired[k - 1], b = o.fired[k];

			assert_true(due[a] < due[b] || (due[a] == due[b] && a < b));
		}
	}
	pq_loop_free(loop);
	printf("checked: %d timers in (deadline, start) order, %d cancelled\n", o.n, N - o.n);
}

static void test_timer_cancel(void **state)
{
	struct pq_loop *loop = new_loop();
	struct order o = {.stop_after = 99};
	struct tmr m[3];

	for (int i = 0; i < 3; i++) {
		m[i].o = &o;
		m[i].id = i;
		pq_timer_init(&m[i].t, on_timer, &m[i]);
		assert_int_equal(pq_loop_timer_start(loop, &m[i].t, 10 * (uint64_t)(i + 1)), 0);
	}
	/* cancel the middle one before running; the first one cancels the
	 * last from its callback; run returns when nothing is left */
	pq_loop_timer_cancel(loop, &m[1].t);
	pq_loop_timer_cancel(loop, &m[1].t); /* twice is harmless */
	assert_false(pq_timer_armed(&m[1].t));
	o.cancel_me = &m[2].t;
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.fired[0], 0);
	assert_false(pq_timer_armed(&m[2].t));
	/* re-arming moves the deadline instead of adding a second entry */
	o.n = 0;
	o.stop_after = 99;
	assert_int_equal(pq_loop_timer_start(loop, &m[0].t, 1000), 0);
	assert_int_equal(pq_loop_timer_start(loop, &m[0].t, 5), 0);
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(o.n, 1);
	pq_loop_free(loop);
	printf("checked: 4 cancel cases\n");
}

/* A timer that re-arms itself with delay 0 does not starve fds. */
struct spin {
	int count, wfd;
};

/* Re-arms itself with delay 0; on its 3rd run makes the pipe readable. */
static void on_spin(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	struct spin *sp = arg;

	if (++sp->count == 3)
		assert_int_equal(write(sp->wfd, "y", 1), 1);
	assert_int_equal(pq_loop_timer_start(loop, t, 0), 0);
}

static void test_zero_delay_no_starvation(void **state)
{
	struct pq_loop *loop = new_loop();
	struct pq_timer spin;
	struct rd r = {0};
	struct spin sp = {0};
	int p[2];

	assert_int_equal(pipe(p), 0);
	sp.wfd = p[1];
	pq_timer_init(&spin, on_spin, &sp);
	assert_int_equal(pq_loop_timer_start(loop, &spin, 0), 0);
	assert_int_equal(pq_loop_add(loop, p[0], PQ_LOOP_READ, on_readable, &r), 0);
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(r.calls, 1);
	/* one spin per turn of the loop: the fd ran (and stopped the loop)
	 * on the turn after the write, not after endless timer callbacks */
	assert_int_equal(sp.count, 3);
	pq_loop_timer_cancel(loop, &spin);
	assert_int_equal(pq_loop_del(loop, p[0]), 0);
	close(p[0]);
	close(p[1]);
	pq_loop_free(loop);
	printf("checked: 1 starvation case\n");
}

/* ---- removing fds inside callbacks ---- */

struct pair {
	struct pq_loop *loop;
	int a[2], b[2];
	int calls_a, calls_b, calls_new;
	int new_fd[2];
	int reused;
};

static void on_new(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	((struct pair *)arg)->calls_new++;
}

/* Whichever of a/b runs first removes itself and the other, closes the
 * other and opens a new pipe, which takes the other's fd number; the
 * other's event already fetched in this batch must not reach on_new. */
static void on_pair(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct pair *p = arg;
	int *other = fd == p->a[0] ? p->b : p->a;
	int old = other[0];

	if (fd == p->a[0])
		p->calls_a++;
	else
		p->calls_b++;
	assert_int_equal(pq_loop_del(loop, fd), 0);
	assert_int_equal(pq_loop_del(loop, other[0]), 0);
	close(other[0]);
	close(other[1]);
	assert_int_equal(pipe(p->new_fd), 0);
	p->reused = p->new_fd[0] == old;
	assert_int_equal(pq_loop_add(loop, p->new_fd[0], PQ_LOOP_READ, on_new, p), 0);
	other[0] = other[1] = -1;
}

static void test_remove_inside_callback(void **state)
{
	struct pq_loop *loop = new_loop();
	struct pq_timer guard;
	struct pair p = {0};
	int fired = 0;

	assert_int_equal(pipe(p.a), 0);
	assert_int_equal(pipe(p.b), 0);
	assert_int_equal(pq_loop_add(loop, p.a[0], PQ_LOOP_READ, on_pair, &p), 0);
	assert_int_equal(pq_loop_add(loop, p.b[0], PQ_LOOP_READ, on_pair, &p), 0);
	assert_int_equal(write(p.a[1], "a", 1), 1);
	assert_int_equal(write(p.b[1], "b", 1), 1);
	/* both readable before the loop waits: one batch holds both events */
	pq_timer_init(&guard, on_timer_stop, &fired);
	assert_int_equal(pq_loop_timer_start(loop, &guard, 30), 0);
	assert_int_equal(pq_loop_run(loop), 0);
	assert_int_equal(fired, 1);
	/* the self-removed fd stayed readable but was not called again */
	assert_int_equal(p.calls_a + p.calls_b, 1);
	assert_int_equal(p.calls_new, 0);
	assert_int_equal(p.reused, 1); /* the fd number really was reused */
	assert_int_equal(pq_loop_del(loop, p.new_fd[0]), 0);
	for (int i = 0; i < 2; i++) {
		if (p.a[i] >= 0)
			close(p.a[i]);
		if (p.b[i] >= 0)
			close(p.b[i]);
		close(p.new_fd[i]);
	}
	pq_loop_free(loop);
	printf("checked: 3 removal cases (self, other, reused fd number)\n");
}

/* ---- argument errors ---- */

static void test_errors(void **state)
{
	struct pq_loop *loop = new_loop();
	struct rd r = {0};
	int p[2], checked = 0;
	char path[] = "/tmp/pq_loop_XXXXXX";
	int file = mkstemp(path);

	assert_true(file >= 0);
	unlink(path);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pq_loop_run(loop), 0); /* nothing to wait for */
	checked++;
	assert_int_equal(pq_loop_add(loop, -1, PQ_LOOP_READ, on_readable, &r), PQ_E_INVAL);
	assert_int_equal(pq_loop_add(loop, p[0], PQ_LOOP_READ, NULL, &r), PQ_E_INVAL);
	assert_int_equal(pq_loop_add(loop, file, PQ_LOOP_READ, on_readable, &r), PQ_E_INVAL);
	assert_int_equal(pq_loop_add(loop, p[0], PQ_LOOP_READ, on_readable, &r), 0);
	assert_int_equal(pq_loop_add(loop, p[0], PQ_LOOP_READ, on_readable, &r), PQ_E_INVAL);
	assert_int_equal(pq_loop_mod(loop, p[1], PQ_LOOP_READ), PQ_E_INVAL);
	assert_int_equal(pq_loop_del(loop, p[1]), PQ_E_INVAL);
	assert_int_equal(pq_loop_del(loop, 100000), PQ_E_INVAL);
	assert_int_equal(pq_loop_del(loop, p[0]), 0);
	assert_int_equal(pq_loop_del(loop, p[0]), PQ_E_INVAL);
	/* a high fd number grows the table */
	{
		int hi = fcntl(p[0], F_DUPFD, 700);

		assert_true(hi >= 700);
		assert_int_equal(pq_loop_add(loop, hi, PQ_LOOP_READ, on_readable, &r), 0);
		assert_int_equal(pq_loop_del(loop, hi), 0);
		close(hi);
	}
	checked += 11;
	close(p[0]);
	close(p[1]);
	close(file);
	pq_loop_free(loop);
	printf("checked: %d argument cases\n", checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_readable),
		cmocka_unit_test(test_modify_interest),
		cmocka_unit_test(test_timers_in_order),
		cmocka_unit_test(test_timer_heap_order),
		cmocka_unit_test(test_timer_cancel),
		cmocka_unit_test(test_zero_delay_no_starvation),
		cmocka_unit_test(test_remove_inside_callback),
		cmocka_unit_test(test_errors),
	};

	alarm(10); /* a hung loop fails the test instead of stalling the suite */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
