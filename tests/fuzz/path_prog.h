/*
 * path_prog.h - the input format of fuzz_path.c, decoded in one place so
 * that the seeds gen_corpus.c writes are read the way the fuzzer reads
 * them. Header-only: both programs include it.
 *
 * A config byte, then 4 bytes per event: type, slot (conn + 2 in bits
 * 0-2; bit 7: the time step x 16), time step (0-255 ms), and one byte
 * read four ways at once: key index, candidate count (up to two past the
 * maximum, which the core must bound), policy and transports.
 */
#ifndef PQ_TESTS_FUZZ_PATH_PROG_H
#define PQ_TESTS_FUZZ_PATH_PROG_H

#include <stdint.h>
#include <string.h>

#include "proto/path.h"

/* A deterministic stand-in for the core's randomness: seed *ctx with 1. */
static inline uint32_t path_prog_random(void *ctx, uint32_t n)
{
	uint32_t *r = ctx;

	*r = *r * 1103515245u + 12345u;
	return (*r >> 8) % n;
}

/* The config the first byte b names; *seed is the random state. */
static inline void path_prog_config(uint8_t b, uint32_t *seed, struct pq_path_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->policy = (enum pq_path_policy)(b % 3);
	cfg->we_are_lower = b & 4;
	cfg->retry_interval_ms = 1000u + 1000u * (b >> 5);
	cfg->reauth_interval_ms = 10000;
	cfg->random = path_prog_random;
	cfg->random_ctx = seed;
	cfg->transports = (enum pq_path_transports)((b >> 3) % 3);
	cfg->keepalive_udp_ms = 3000;
}

/* The event in d[0..3]; *now_ms moves on by its time step. Candidates
 * alternate TLS and UDP: 0 TLS, 1 UDP, 2 TLS, 3 UDP, 4 UDP, ... */
static inline void path_prog_event(const uint8_t d[4], uint64_t *now_ms, struct pq_path_event *ev)
{
	static const uint8_t transports[PQ_PATH_MAX_CANDS] = { 0, 1, 0, 1, 1, 0, 0, 1, 0 };

	memset(ev, 0, sizeof(*ev));
	ev->type = (enum pq_path_ev_type)(d[0] % (PQ_PATH_EV_COUNT + 1));
	ev->conn = (int)(d[1] & 7) - 2; /* -2..5: relay, none, slots, out of range */
	*now_ms += (uint64_t)d[2] * (d[1] & 0x80 ? 16 : 1);
	ev->key_index = d[3] & 3;
	ev->cand_count = d[3] % (PQ_PATH_MAX_CANDS + 2);
	ev->cand_transport = transports;
	ev->policy = (enum pq_path_policy)(d[3] % 4);
	ev->transports = (enum pq_path_transports)((d[3] >> 2) % 4);
	if (ev->type == PQ_PATH_EV_ACCEPTED)
		ev->conn = d[1] & 1;
}

#endif
