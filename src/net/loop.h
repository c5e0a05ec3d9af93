/*
 * loop.h - a single-threaded epoll event loop with one-shot timers, in
 * the spirit of redis ae and libuv. No global state: a process may run
 * several loops (one per thread).
 *
 * File descriptors: the caller owns them; the loop only watches. Remove
 * an fd (pq_loop_del) before closing it. Removing or re-registering any
 * fd from inside any callback is safe: an event already fetched for a
 * registration that has since been removed is never delivered, even if
 * the same fd number was registered again meanwhile.
 *
 * Timers: the caller owns struct pq_timer (embed it in the object it
 * serves); the loop keeps pointers to armed timers in a binary min-heap
 * ordered by (deadline, start order). We chose a heap over a sorted list
 * because the relay will hold a timer or two per connection, thousands of
 * them: start and cancel are O(log n), finding the next deadline O(1), and
 * no allocation happens per timer. Cancel an armed timer before freeing it.
 *
 * Time: CLOCK_MONOTONIC in milliseconds, read once per wake-up and given
 * to every callback as now_ms (also pq_loop_now()).
 */
#ifndef PQ_NET_LOOP_H
#define PQ_NET_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct pq_loop;
struct pq_timer;

/* Interest and readiness bits. PQ_LOOP_HUP is only reported (error or
 * hang-up; PQ_LOOP_READ is set with it so a reader sees the EOF). */
#define PQ_LOOP_READ 1u
#define PQ_LOOP_WRITE 2u
#define PQ_LOOP_HUP 4u

typedef void pq_loop_fd_fn(struct pq_loop *loop, int fd, unsigned events, void *arg,
			   uint64_t now_ms);
typedef void pq_loop_timer_fn(struct pq_loop *loop, struct pq_timer *timer, void *arg,
			      uint64_t now_ms);

struct pq_timer {
	pq_loop_timer_fn *fn;
	void *arg;
	uint64_t due_ms;  /* private */
	uint64_t seq;     /* private: start order, breaks deadline ties */
	size_t heap_idx;  /* private: SIZE_MAX when not armed */
};

/* Returns 0, PQ_E_NOMEM or PQ_E_IO (epoll_create1 failed). */
PQ_MUST_CHECK int pq_loop_new(struct pq_loop **out);
/* Closes the epoll fd (not the watched fds) and disarms every timer. */
void pq_loop_free(struct pq_loop *loop);

/* Watch fd for mask (PQ_LOOP_READ | PQ_LOOP_WRITE). PQ_E_INVAL for a bad
 * fd, an fd already watched or one epoll cannot watch (a regular file);
 * PQ_E_NOMEM; PQ_E_LIMIT when the kernel's watch limit is hit. */
PQ_MUST_CHECK int pq_loop_add(struct pq_loop *loop, int fd, unsigned mask, pq_loop_fd_fn *fn,
			      void *arg);
/* Change the interest of a watched fd. PQ_E_INVAL if not watched. */
PQ_MUST_CHECK int pq_loop_mod(struct pq_loop *loop, int fd, unsigned mask);
/* Stop watching fd. PQ_E_INVAL if not watched. */
PQ_MUST_CHECK int pq_loop_del(struct pq_loop *loop, int fd);

/* Prepare a timer; it is not armed. */
void pq_timer_init(struct pq_timer *t, pq_loop_timer_fn *fn, void *arg);
/* Arm t to fire once, delay_ms from now; re-arms it if already armed.
 * Timers due at the same millisecond fire in the order they were started.
 * A timer started from a timer callback with delay 0 fires on the next
 * turn of the loop, not in the same one. Returns 0 or PQ_E_NOMEM. */
PQ_MUST_CHECK int pq_loop_timer_start(struct pq_loop *loop, struct pq_timer *t,
				      uint64_t delay_ms);
/* Disarm t; nothing happens if it is not armed. Safe inside callbacks. */
void pq_loop_timer_cancel(struct pq_loop *loop, struct pq_timer *t);
bool pq_timer_armed(const struct pq_timer *t);

/* Dispatch events and timers until pq_loop_stop() is called, or until
 * nothing is watched and no timer is armed (nothing could ever happen).
 * Returns 0, or PQ_E_IO if epoll_wait fails (EINTR is retried). */
PQ_MUST_CHECK int pq_loop_run(struct pq_loop *loop);
/* Make pq_loop_run() return after the current callback. */
void pq_loop_stop(struct pq_loop *loop);
/* The loop's current monotonic time in ms (read at the last wake-up). */
uint64_t pq_loop_now(const struct pq_loop *loop);

#endif
