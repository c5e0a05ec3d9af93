/*
 * loop.c - epoll event loop with a min-heap of one-shot timers. See loop.h.
 */
#include "net/loop.h"
#include "util/clock.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 64

struct fd_slot {
	pq_loop_fd_fn *fn; /* NULL when the fd is not watched */
	void *arg;
	unsigned mask;
	uint32_t gen;      /* bumped at every add; stale events carry an old one */
};

struct pq_loop {
	int epfd;
	bool stop;
	uint64_t now_ms;
	uint64_t next_seq;
	struct fd_slot *fds; /* indexed by fd */
	size_t n_slots, n_watched;
	struct pq_timer **heap;
	size_t n_timers, heap_cap;
	struct epoll_event events[MAX_EVENTS];
};

static int errno_to_pq(int e)
{
	switch (e) {
	case EBADF: case EPERM: case EINVAL: case EEXIST: case ENOENT: return PQ_E_INVAL;
	case ENOMEM: return PQ_E_NOMEM;
	case ENOSPC: return PQ_E_LIMIT; /* /proc/sys/fs/epoll/max_user_watches */
	default: return PQ_E_IO;
	}
}

int pq_loop_new(struct pq_loop **out)
{
	struct pq_loop *loop = calloc(1, sizeof(*loop));

	*out = NULL;
	if (!loop)
		return PQ_E_NOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return PQ_E_IO;
	}
	loop->now_ms = pq_mono_ms();
	*out = loop;
	return 0;
}

void pq_loop_free(struct pq_loop *loop)
{
	if (!loop)
		return;
	for (size_t i = 0; i < loop->n_timers; i++)
		loop->heap[i]->heap_idx = SIZE_MAX;
	close(loop->epfd);
	free(loop->heap);
	free(loop->fds);
	free(loop);
}

uint64_t pq_loop_now(const struct pq_loop *loop)
{
	return loop->now_ms;
}

void pq_loop_stop(struct pq_loop *loop)
{
	loop->stop = true;
}

/* ---- file descriptors ---- */

static uint32_t epoll_mask(unsigned mask)
{
	return (mask & PQ_LOOP_READ ? EPOLLIN : 0u) | (mask & PQ_LOOP_WRITE ? EPOLLOUT : 0u);
}

static struct fd_slot *watched(struct pq_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->n_slots || !loop->fds[fd].fn)
		return NULL;
	return &loop->fds[fd];
}

static int grow_slots(struct pq_loop *loop, int fd)
{
	size_t n = loop->n_slots ? loop->n_slots : 64;
	struct fd_slot *p;

	while (n <= (size_t)fd)
		n *= 2;
	p = realloc(loop->fds, n * sizeof(*p));
	if (!p)
		return PQ_E_NOMEM;
	for (size_t i = loop->n_slots; i < n; i++)
		p[i] = (struct fd_slot){0};
	loop->fds = p;
	loop->n_slots = n;
	return 0;
}

int pq_loop_add(struct pq_loop *loop, int fd, unsigned mask, pq_loop_fd_fn *fn, void *arg)
{
	struct epoll_event ev = {0};
	struct fd_slot *s;
	int err;

	if (fd < 0 || !fn || watched(loop, fd))
		return PQ_E_INVAL;
	if ((size_t)fd >= loop->n_slots && (err = grow_slots(loop, fd)) != 0)
		return err;
	s = &loop->fds[fd];
	ev.events = epoll_mask(mask);
	ev.data.u64 = (uint64_t)(s->gen + 1) << 32 | (uint32_t)fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return errno_to_pq(errno);
	s->gen++;
	s->fn = fn;
	s->arg = arg;
	s->mask = mask;
	loop->n_watched++;
	return 0;
}

int pq_loop_mod(struct pq_loop *loop, int fd, unsigned mask)
{
	struct fd_slot *s = watched(loop, fd);
	struct epoll_event ev = {0};

	if (!s)
		return PQ_E_INVAL;
	ev.events = epoll_mask(mask);
	ev.data.u64 = (uint64_t)s->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
		return errno_to_pq(errno);
	s->mask = mask;
	return 0;
}

int pq_loop_del(struct pq_loop *loop, int fd)
{
	struct fd_slot *s = watched(loop, fd);

	if (!s)
		return PQ_E_INVAL;
	s->fn = NULL;
	s->arg = NULL;
	loop->n_watched--;
	/* An fd closed too early is already gone from the epoll set. */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) != 0 && errno != EBADF && errno != ENOENT)
		return errno_to_pq(errno);
	return 0;
}

static void dispatch_fd(struct pq_loop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct fd_slot *s = watched(loop, fd);
	unsigned what = 0;

	/* Removed (or removed and re-added) by an earlier callback. */
	if (!s || s->gen != gen)
		return;
	if (ev->events & EPOLLIN)
		what |= PQ_LOOP_READ;
	if (ev->events & EPOLLOUT)
		what |= PQ_LOOP_WRITE;
	if (ev->events & (EPOLLERR | EPOLLHUP))
		what |= PQ_LOOP_HUP | PQ_LOOP_READ;
	s->fn(loop, fd, what, s->arg, loop->now_ms);
}

/* ---- timers: binary min-heap on (due_ms, seq) ---- */

static bool earlier(const struct pq_timer *a, const struct pq_timer *b)
{
	return a->due_ms != b->due_ms ? a->due_ms < b->due_ms : a->seq < b->seq;
}

static void heap_set(struct pq_loop *loop, size_t i, struct pq_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct pq_loop *loop, size_t i)
{
	struct pq_timer *t = loop->heap[i];

	while (i > 0 && earlier(t, loop->heap[(i - 1) / 2])) {
		heap_set(loop, i, loop->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(loop, i, t);
}

static void sift_down(struct pq_loop *loop, size_t i)
{
	struct pq_timer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= loop->n_timers)
			break;
		if (c + 1 < loop->n_timers && earlier(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!earlier(loop->heap[c], t))
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void pq_timer_init(struct pq_timer *t, pq_loop_timer_fn *fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->due_ms = 0;
	t->seq = 0;
	t->heap_idx = SIZE_MAX;
}

bool pq_timer_armed(const struct pq_timer *t)
{
	return t->heap_idx != SIZE_MAX;
}

void pq_loop_timer_cancel(struct pq_loop *loop, struct pq_timer *t)
{
	size_t i = t->heap_idx;
	struct pq_timer *last;

	if (i == SIZE_MAX || i >= loop->n_timers || loop->heap[i] != t)
		return;
	t->heap_idx = SIZE_MAX;
	last = loop->heap[--loop->n_timers];
	if (i == loop->n_timers)
		return;
	heap_set(loop, i, last);
	sift_down(loop, i);
	sift_up(loop, last->heap_idx);
}

int pq_loop_timer_start(struct pq_loop *loop, struct pq_timer *t, uint64_t delay_ms)
{
	uint64_t now = pq_mono_ms();

	pq_loop_timer_cancel(loop, t);
	if (loop->n_timers == loop->heap_cap) {
		size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
		struct pq_timer **p = realloc(loop->heap, cap * sizeof(*p));

		if (!p)
			return PQ_E_NOMEM;
		loop->heap = p;
		loop->heap_cap = cap;
	}
	t->due_ms = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;
	t->seq = loop->next_seq++;
	loop->heap[loop->n_timers] = t;
	sift_up(loop, loop->n_timers++);
	return 0;
}

/* Fire every timer due by now that was started before this pass began, so
 * a callback re-arming itself with delay 0 cannot starve the fds. */
static void run_timers(struct pq_loop *loop)
{
	uint64_t limit = loop->next_seq;

	while (loop->n_timers && !loop->stop) {
		struct pq_timer *t = loop->heap[0];

		if (t->due_ms > loop->now_ms || t->seq >= limit)
			break;
		pq_loop_timer_cancel(loop, t);
		t->fn(loop, t, t->arg, loop->now_ms);
	}
}

static int next_timeout(const struct pq_loop *loop)
{
	uint64_t due;

	if (!loop->n_timers)
		return -1;
	due = loop->heap[0]->due_ms;
	if (due <= loop->now_ms)
		return 0;
	return due - loop->now_ms > INT_MAX ? INT_MAX : (int)(due - loop->now_ms);
}

int pq_loop_run(struct pq_loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		int n;

		if (!loop->n_watched && !loop->n_timers)
			return 0;
		loop->now_ms = pq_mono_ms();
		n = epoll_wait(loop->epfd, loop->events, MAX_EVENTS, next_timeout(loop));
		if (n < 0 && errno != EINTR)
			return PQ_E_IO;
		loop->now_ms = pq_mono_ms();
		for (int i = 0; i < n && !loop->stop; i++)
			dispatch_fd(loop, &loop->events[i]);
		run_timers(loop);
	}
	return 0;
}
