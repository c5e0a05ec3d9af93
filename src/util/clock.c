/*
 * clock.c - CLOCK_REALTIME and CLOCK_MONOTONIC (util/clock.h).
 */
#include <time.h>

#include "util/clock.h"

uint64_t pq_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t pq_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t pq_mono_ms(void)
{
	return pq_mono_us() / 1000u;
}
