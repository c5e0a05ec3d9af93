/*
 * fuzz_path.c - random event sequences into the path core
 * (src/proto/path*.c): after every event the invariants of
 * tests/proto/path_check.h hold (never an active path without a completed
 * re-handshake, never two activations at once, a retry always scheduled
 * off the direct path, deadlines never in the past), a refused event
 * changes nothing, and every action names a slot the way the contract
 * says (DIAL: a new dialling slot; DROP: a slot already free).
 *
 * Input: tests/fuzz/path_prog.h (a config byte, then 4 bytes per event).
 *
 * Seeds: tests/fuzz/corpus/fuzz_path, written by gen_corpus.c (make
 * fuzz-corpus), which reads the format through path_prog.h too.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "proto/path.h"
#include "proto/path_check.h"
#include "fuzz/path_prog.h"

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
	struct pq_path p, before;
	struct pq_path_config cfg;
	struct pq_path_out out;
	uint32_t seed = 1;
	uint64_t now = 1000;

	if (size < 1)
		return 0;
	path_prog_config(data[0], &seed, &cfg);
	pq_path_init(&p, &cfg);
	for (size_t i = 1; i + 4 <= size; i += 4) {
		struct pq_path_event ev;
		int ret;

		path_prog_event(data + i, &now, &ev);
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
