/*
 * ratelimit.h - a token bucket driven by the caller's clock (DESIGN §3:
 * "rate-limits initiations per peer").
 *
 * The bucket holds credit in milliseconds: it refills at one millisecond per
 * millisecond of caller time, up to burst * interval_ms, and each accepted
 * event spends interval_ms. So at most `burst` events pass at once and one
 * per interval_ms after that. No clock is read; time only moves forward
 * (a clock that steps back refills nothing).
 */
#ifndef PQ_PROTO_RATELIMIT_H
#define PQ_PROTO_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct pq_ratelimit {
	uint64_t credit_ms;
	uint64_t last_ms;
	uint32_t interval_ms;
	uint32_t burst;
};

/* A full bucket as of now_ms. */
void pq_ratelimit_init(struct pq_ratelimit *rl, uint32_t interval_ms, uint32_t burst, uint64_t now_ms);
/* true (and one token spent) when an event may pass at now_ms. */
bool pq_ratelimit_allow(struct pq_ratelimit *rl, uint64_t now_ms);

#endif
