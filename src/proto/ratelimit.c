/*
 * ratelimit.c - token bucket in milliseconds of credit (see ratelimit.h).
 */
#include "proto/ratelimit.h"

static uint64_t bucket_cap(const struct pq_ratelimit *rl)
{
	return (uint64_t)rl->interval_ms * rl->burst;
}

void pq_ratelimit_init(struct pq_ratelimit *rl, uint32_t interval_ms, uint32_t burst, uint64_t now_ms)
{
	rl->interval_ms = interval_ms;
	rl->burst = burst;
	rl->last_ms = now_ms;
	rl->credit_ms = bucket_cap(rl);
}

bool pq_ratelimit_allow(struct pq_ratelimit *rl, uint64_t now_ms)
{
	uint64_t cap = bucket_cap(rl);

	if (now_ms > rl->last_ms) {
		uint64_t gained = now_ms - rl->last_ms;

		rl->credit_ms = gained >= cap - rl->credit_ms ? cap : rl->credit_ms + gained;
		rl->last_ms = now_ms;
	}
	if (rl->credit_ms < rl->interval_ms)
		return false;
	rl->credit_ms -= rl->interval_ms;
	return true;
}
