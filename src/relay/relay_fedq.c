/*
 * relay_fedq.c - the bounded FIFO between the relay's loop and the NATS
 * threads (relay_fed_int.h). A mutex guards the list; the outbox wakes its
 * one consumer with a condition variable, the inbox wakes the loop with an
 * eventfd, written only when the queue goes from empty to not empty so a
 * flood costs one write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "relay/relay_fed_int.h"

int fedq_init(struct fed_queue *q, size_t max_items, size_t max_bytes, bool efd)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	q->efd = -1;
	q->max_items = max_items;
	q->max_bytes = max_bytes;
	pthread_mutex_init(&q->mu, NULL);
	/* Waits are timed on the monotonic clock, like everything else. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (efd && (q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return PQ_E_IO;
	return 0;
}

void fedq_destroy(struct fed_queue *q)
{
	struct fed_item *it, *next;

	for (it = q->head; it; it = next) {
		next = it->next;
		free(it);
	}
	q->head = q->tail = NULL;
	if (q->efd >= 0)
		close(q->efd);
	q->efd = -1;
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->mu);
}

struct fed_item *fedq_item(uint8_t type, size_t len)
{
	struct fed_item *it = calloc(1, sizeof(*it) + len);

	if (it) {
		it->type = type;
		it->len = len;
	}
	return it;
}

int fedq_push(struct fed_queue *q, struct fed_item *it)
{
	bool wake;

	pthread_mutex_lock(&q->mu);
	if (q->closed || q->items >= q->max_items || it->len > q->max_bytes - q->bytes) {
		q->dropped++;
		pthread_mutex_unlock(&q->mu);
		free(it);
		return PQ_E_LIMIT;
	}
	it->next = NULL;
	wake = !q->head;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->items++;
	q->bytes += it->len;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
	if (wake && q->efd >= 0) {
		uint64_t one = 1;

		/* Fails only when the counter would overflow: it is set then. */
		while (write(q->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	return 0;
}

struct fed_item *fedq_pop(struct fed_queue *q, uint64_t wait_ms)
{
	struct fed_item *it;
	struct timespec until;

	pthread_mutex_lock(&q->mu);
	if (!q->head && wait_ms && !q->closed) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(wait_ms / 1000);
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!q->head && !q->closed)
			if (pthread_cond_timedwait(&q->cond, &q->mu, &until) == ETIMEDOUT)
				break;
	}
	it = q->head;
	if (it) {
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		q->items--;
		q->bytes -= it->len;
	}
	pthread_mutex_unlock(&q->mu);
	return it;
}

void fedq_close(struct fed_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mu);
}

uint64_t fedq_dropped(struct fed_queue *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->mu);
	n = q->dropped;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void fedq_ack(struct fed_queue *q)
{
	uint64_t v;

	if (q->efd >= 0 && read(q->efd, &v, sizeof(v)) < 0)
		return; /* EAGAIN: nothing was signalled */
}
