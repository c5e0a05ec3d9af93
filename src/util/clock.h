/*
 * clock.h - the two clocks, read in one place.
 *
 * Monotonic time measures durations and drives every deadline and rate
 * limit: it never steps. Wall time is only for what crosses the wire as a
 * timestamp (handshake and re-handshake stamps, their skew checks).
 * Protocol code (src/proto/) never calls these: its callers pass the time.
 */
#ifndef PQ_UTIL_CLOCK_H
#define PQ_UTIL_CLOCK_H

#include <stdint.h>

/* Unix time in ms (CLOCK_REALTIME). */
uint64_t pq_wall_ms(void);
/* Monotonic time in ms and in µs (CLOCK_MONOTONIC). */
uint64_t pq_mono_ms(void);
uint64_t pq_mono_us(void);

#endif
