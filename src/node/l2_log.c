/*
 * l2_log.c - log lines for frames a peer sent from a MAC it may not use
 * (l2.h, DESIGN §7 "layer-2 trust"). Kept apart from l2.c, which does no
 * I/O. A peer can send such frames as fast as it likes, so at most one
 * line a second; the counters (l2 stats, the peer's dropped frames) see
 * every one.
 */
#include <stdio.h>

#include "node/l2.h"
#include "util/log.h"

#define L2_LOG_PERIOD_MS 1000

void pq_l2_log_drop(struct pq_l2 *t, const char *label, enum pq_l2_drop why,
		    const uint8_t *frame, uint64_t now_ms)
{
	const uint8_t *m = frame + 6;
	uint64_t more = 0;

	if (why != PQ_L2_DROP_MAC_OWNED && why != PQ_L2_DROP_NOT_PINNED)
		return;
	if (!pq_l2_log_due(t, now_ms, L2_LOG_PERIOD_MS, &more))
		return;
	pq_log(PQ_LOG_WARN, "peer %s: frame from %02x:%02x:%02x:%02x:%02x:%02x dropped: %s "
	       "(%llu more such drops since the last line)", label, m[0], m[1], m[2], m[3], m[4], m[5],
	       why == PQ_L2_DROP_MAC_OWNED ? "that MAC belongs to another peer"
					   : "not in its allowed_mac list",
	       (unsigned long long)more);
}
