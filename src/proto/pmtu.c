/* pmtu.c - the UDP path's MTU search (pmtu.h). */
#include "proto/pmtu.h"

/* Link MTUs met on the way, largest first: Ethernet, PPPoE (RFC 2516),
 * the common tunnels (GRE, IPsec, WireGuard's 1420 and what runs inside
 * it), down to the floor. */
static const uint16_t ladder[] = { 1500, 1492, 1480, 1460, 1440, 1420, 1400, 1380, 1360, 1320 };
#define LADDER_LEN (sizeof(ladder) / sizeof(ladder[0]))

void pq_pmtu_init(struct pq_pmtu *m, unsigned ceiling, uint64_t now_ms)
{
	if (ceiling < PQ_PMTU_MIN)
		ceiling = PQ_PMTU_MIN;
	if (ceiling > PQ_PMTU_MAX)
		ceiling = PQ_PMTU_MAX;
	*m = (struct pq_pmtu){ .ceiling = (uint16_t)ceiling, .current = PQ_PMTU_MIN, .next_ms = now_ms };
}

static void set_current(struct pq_pmtu *m, unsigned size, bool confirmed)
{
	m->current = (uint16_t)size;
	m->confirmed = confirmed;
	m->check_out = false;
	m->misses = 0;
}

/* The sizes above current worth a probe: the ceiling, then the ladder. */
static size_t search_sizes(const struct pq_pmtu *m, uint16_t *sizes, size_t n, size_t cap)
{
	if (m->ceiling > m->current && n < cap)
		sizes[n++] = m->ceiling;
	for (size_t i = 0; i < LADDER_LEN && n < cap; i++)
		if (ladder[i] < m->ceiling && ladder[i] > m->current)
			sizes[n++] = ladder[i];
	return n;
}

size_t pq_pmtu_poll(struct pq_pmtu *m, uint64_t now_ms, bool busy, uint16_t *sizes, size_t cap)
{
	bool searching;
	size_t n = 0;

	if (now_ms < m->next_ms)
		return 0;
	/* Idle and settled: nothing at stake, nothing sent; look again in a
	 * re-check's time. */
	if (!busy && m->rounds >= PQ_PMTU_ROUNDS && !m->check_out && !m->misses) {
		m->next_ms = now_ms + PQ_PMTU_RECHECK_MS;
		return 0;
	}
	if (m->check_out) {
		m->check_out = false;
		/* Answers to the small probes keep the path alive, so only
		 * these tell that large datagrams stopped arriving. */
		if (++m->misses >= PQ_PMTU_MISSES) {
			set_current(m, PQ_PMTU_MIN, false);
			m->rounds = 0;
		}
	}
	searching = m->rounds < PQ_PMTU_ROUNDS;
	n = search_sizes(m, sizes, n, cap);
	/* An unconfirmed size is probed with the search; a confirmed one
	 * above the floor is re-checked (the floor is the fallback anyway). */
	if ((!m->confirmed || m->current > PQ_PMTU_MIN) && n < cap) {
		sizes[n++] = m->current;
		m->check_out = m->confirmed;
	}
	if (searching)
		m->rounds++;
	m->next_ms = now_ms + (searching || m->misses ? PQ_PMTU_ROUND_MS : PQ_PMTU_RECHECK_MS);
	return n;
}

bool pq_pmtu_acked(struct pq_pmtu *m, unsigned size)
{
	if (size < PQ_PMTU_MIN || size > m->ceiling || size < m->current)
		return false;
	if (size == m->current) {
		bool changed = !m->confirmed;

		set_current(m, size, true);
		return changed;
	}
	set_current(m, size, true);
	return true;
}

uint64_t pq_pmtu_deadline(const struct pq_pmtu *m)
{
	return m->next_ms;
}
