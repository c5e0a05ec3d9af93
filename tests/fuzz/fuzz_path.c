/*
 * fuzz_path.c - random event sequences into the path core
 * (src/proto/path*.c): after every event the invariants of
 * tests/proto/path_check.h hold (never an active path without a completed
 * re-handshake, never two activations at once, a retry always scheduled
 * off the direct path, deadlines never in the past), a refused event
 * changes nothing, and every action names a slot the way the contract
 * says (DIAL: a new dialling slot; DROP: a slot already free).
 *
 * Input: a config byte, then 4 bytes per event: type, slot, time step
 * (0-255 ms, x16 when the top bit of the slot byte is set), and one byte
 * read four ways at once: key index, candidate count (up to two past
 * the maximum, which the core must bound), policy and transports.
 *
 * Seeds: tests/fuzz/corpus/fuzz_path, written by gen_corpus.c (make
 * fuzz-corpus), which reads this format too: keep them in step.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "proto/path.h"
#include "proto/path_check.h"

static uint32_t fuzz_random(void *ctx, uint32_t n)
{
	uint32_t *r = ctx;

	*r = *r * 1103515245u + 12345u;
	return (*r >> 8) % n;
}

static void check_actions(const struct pq_path *p, const struct pq_path_out *out)
{
	for (unsigned i = 0; i < out->n; i++) {
		const struct pq_path_action *a = &out->act[i];

		CHECK(a->type >= PQ_PATH_ACT_DIAL && a->type <= PQ_PATH_ACT_SEND_ENDPOINTS);
		if (a->type == PQ_PATH_ACT_DIAL)
			CHECK(a->conn >= 0 && a->conn < PQ_PATH_MAX_CONNS && a->cand < p->cand_count);
		if (a->type == PQ_PATH_ACT_DROP || a->type == PQ_PATH_ACT_PROBE || a->type == PQ_PATH_ACT_REHS_START)
			CHECK(a->conn >= 0 && a->conn < PQ_PATH_MAX_CONNS);
		if (a->type == PQ_PATH_ACT_ACTIVATE)
			CHECK(a->conn == p->active);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t transports[PQ_PATH_MAX_CANDS] = { 0, 1, 0, 1, 1, 0, 0, 1, 0 };
	struct pq_path p, before;
	struct pq_path_config cfg;
	struct pq_path_out out;
	uint32_t seed = 1;
	uint64_t now = 1000;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.policy = (enum pq_path_policy)(data[0] % 3);
	cfg.we_are_lower = data[0] & 4;
	cfg.retry_interval_ms = 1000u + 1000u * (data[0] >> 5);
	cfg.reauth_interval_ms = 10000;
	cfg.random = fuzz_random;
	cfg.random_ctx = &seed;
	cfg.transports = (enum pq_path_transports)((data[0] >> 3) % 3);
	cfg.keepalive_udp_ms = 3000;
	pq_path_init(&p, &cfg);
	for (size_t i = 1; i + 4 <= size; i += 4) {
		struct pq_path_event ev;
		int ret;

		memset(&ev, 0, sizeof(ev));
		ev.type = (enum pq_path_ev_type)(data[i] % (PQ_PATH_EV_COUNT + 1));
		ev.conn = (int)(data[i + 1] & 7) - 2; /* -2..5: relay, none, slots, out of range */
		now += (uint64_t)data[i + 2] * (data[i + 1] & 0x80 ? 16 : 1);
		ev.key_index = data[i + 3] & 3;
		ev.cand_count = data[i + 3] % (PQ_PATH_MAX_CANDS + 2);
		ev.cand_transport = transports;
		ev.policy = (enum pq_path_policy)(data[i + 3] % 4);
		ev.transports = (enum pq_path_transports)((data[i + 3] >> 2) % 4);
		if (ev.type == PQ_PATH_EV_ACCEPTED)
			ev.conn = data[i + 1] & 1;
		memcpy(&before, &p, sizeof(p));
		ret = pq_path_input(&p, &ev, now, &out);
		if (ret) {
			CHECK(ret == PQ_E_INVAL && out.n == 0);
			CHECK(memcmp(&before, &p, sizeof(p)) == 0);
		}
		CHECK(path_check(&p, &out, now) == NULL);
		check_actions(&p, &out);
		/* A node executes a dial's slot and accepted slot as in use. */
		for (unsigned a = 0; a < out.n; a++)
			if (out.act[a].type == PQ_PATH_ACT_DROP)
				CHECK(p.conn[out.act[a].conn].state == PQ_PCONN_FREE ||
				      p.conn[out.act[a].conn].seq > before.seq);
	}
	return 0;
}
