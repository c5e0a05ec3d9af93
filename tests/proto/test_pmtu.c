/*
 * test_pmtu.c - the UDP path's MTU search (proto/pmtu.h): a simulated
 * path that carries datagrams up to `path` bytes answers the probes; the
 * search must settle on the largest probed size that fits, follow the path
 * when it shrinks or grows, and ignore answers it never asked for.
 */
#include "testutil.h"

#include "proto/pmtu.h"

/* One poll at now: the probes the path carries are answered at once. */
static size_t round_trip(struct pq_pmtu *m, uint64_t now, unsigned path, unsigned *largest_sent)
{
	uint16_t sizes[PQ_PMTU_PROBES_MAX];
	size_t n = pq_pmtu_poll(m, now, true, sizes, PQ_PMTU_PROBES_MAX);

	*largest_sent = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(sizes[i] >= PQ_PMTU_MIN && sizes[i] <= m->ceiling);
		if (i)
			assert_true(sizes[i] < sizes[i - 1]); /* largest first, no repeats */
		if (sizes[i] > *largest_sent)
			*largest_sent = sizes[i];
		if (sizes[i] <= path)
			(void)pq_pmtu_acked(m, sizes[i]);
	}
	return n;
}

/* Run from now until `until`, polling at each deadline; returns the time. */
static uint64_t run_until(struct pq_pmtu *m, uint64_t now, uint64_t until, unsigned path)
{
	unsigned sent;

	for (int i = 0; i < 1000 && now <= until; i++) {
		(void)round_trip(m, now, path, &sent);
		now = pq_pmtu_deadline(m);
	}
	return now;
}

static void test_search_settles(void **state)
{
	static const struct {
		unsigned ceiling, path, want;
	} cases[] = {
		{ 1500, 1500, 1500 }, { 1500, 9000, 1500 }, { 1500, 1492, 1492 }, { 1500, 1450, 1440 },
		{ 1500, 1400, 1400 }, { 1500, 1300, 1280 }, { 1500, 1280, 1280 }, { 9000, 9000, 9000 },
		{ 9000, 4000, 1500 }, { 1420, 1500, 1420 }, { 1450, 1449, 1440 }, { 100, 1500, 1280 },
		{ 60000, 60000, 9000 },
	};
	struct pq_pmtu m;
	unsigned sent;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pq_pmtu_init(&m, cases[i].ceiling, 5000);
		assert_int_equal(m.current, PQ_PMTU_MIN); /* nothing above the floor before an answer */
		assert_true(round_trip(&m, 5000, cases[i].path, &sent) > 0);
		assert_int_equal(m.current, cases[i].want); /* one round trip finds it */
		assert_true(m.confirmed);
		(void)run_until(&m, pq_pmtu_deadline(&m), 5000 + 10 * PQ_PMTU_RECHECK_MS, cases[i].path);
		assert_int_equal(m.current, cases[i].want);
	}
	printf("checked: %zu (ceiling, path) pairs settle in one round trip and stay\n",
	       sizeof(cases) / sizeof(cases[0]));
}

/* No answers before the deadline; the search rounds, then the re-checks,
 * at their intervals; a path at the ceiling costs one probe per re-check. */
static void test_deadlines(void **state)
{
	struct pq_pmtu m;
	uint16_t sizes[PQ_PMTU_PROBES_MAX];
	unsigned sent;

	(void)state;
	pq_pmtu_init(&m, 1500, 100);
	assert_int_equal(pq_pmtu_poll(&m, 99, true, sizes, PQ_PMTU_PROBES_MAX), 0);
	assert_int_equal(round_trip(&m, 100, 1500, &sent), 11); /* floor + ceiling + 9 rungs */
	assert_int_equal(sent, 1500);
	assert_int_equal(pq_pmtu_deadline(&m), 100 + PQ_PMTU_ROUND_MS);
	assert_int_equal(pq_pmtu_poll(&m, 100 + PQ_PMTU_ROUND_MS - 1, true, sizes, PQ_PMTU_PROBES_MAX), 0);
	/* At the ceiling: only the re-check of it, every round until the
	 * search rounds are spent, then every RECHECK. */
	assert_int_equal(round_trip(&m, 100 + PQ_PMTU_ROUND_MS, 1500, &sent), 1);
	assert_int_equal(round_trip(&m, 100 + 2 * PQ_PMTU_ROUND_MS, 1500, &sent), 1);
	assert_int_equal(pq_pmtu_deadline(&m), 100 + 3 * PQ_PMTU_ROUND_MS);
	assert_int_equal(round_trip(&m, 100 + 3 * PQ_PMTU_ROUND_MS, 1500, &sent), 1);
	assert_int_equal(pq_pmtu_deadline(&m), 100 + 3 * PQ_PMTU_ROUND_MS + PQ_PMTU_RECHECK_MS);
	/* A small cap takes the largest sizes first. */
	pq_pmtu_init(&m, 1500, 0);
	assert_int_equal(pq_pmtu_poll(&m, 0, true, sizes, 2), 2);
	assert_int_equal(sizes[0], 1500);
	assert_int_equal(sizes[1], 1492);
	printf("checked: probe counts and deadlines of search and re-check\n");
}

/* The path shrinks (a route change, a PPPoE hop): the re-checks of the
 * size in use go unanswered, and after PQ_PMTU_MISSES of them, a round
 * apart, the search starts again from the floor and finds the new size. */
static void test_path_shrinks(void **state)
{
	struct pq_pmtu m;
	uint64_t now = 0;
	unsigned sent;

	(void)state;
	pq_pmtu_init(&m, 1500, now);
	now = run_until(&m, now, 5 * PQ_PMTU_ROUND_MS, 1500);
	assert_int_equal(m.current, 1500);
	now = pq_pmtu_deadline(&m); /* the next re-check */
	for (int miss = 0; miss < PQ_PMTU_MISSES; miss++) {
		assert_int_equal(m.current, 1500);
		(void)round_trip(&m, now, 1400, &sent);
		now = pq_pmtu_deadline(&m);
	}
	assert_int_equal(m.current, 1500); /* the third miss is seen at the next poll */
	(void)round_trip(&m, now, 1400, &sent);
	assert_int_equal(m.current, 1400);
	assert_true(m.confirmed);
	/* Without any answer the floor is all that is left, unconfirmed. */
	now = run_until(&m, pq_pmtu_deadline(&m), now + 10 * PQ_PMTU_RECHECK_MS, 0);
	assert_int_equal(m.current, PQ_PMTU_MIN);
	assert_false(m.confirmed);
	printf("checked: a shrinking path is followed down after %d missed re-checks\n", PQ_PMTU_MISSES);
}

/* The path grows: the periodic search above the current size finds it. */
static void test_path_grows(void **state)
{
	struct pq_pmtu m;
	uint64_t now = 0;

	(void)state;
	pq_pmtu_init(&m, 1500, now);
	now = run_until(&m, now, 5 * PQ_PMTU_ROUND_MS, 1420);
	assert_int_equal(m.current, 1420);
	(void)run_until(&m, now, now + PQ_PMTU_RECHECK_MS, 1500);
	assert_int_equal(m.current, 1500);
	printf("checked: a grown path is found by the periodic search\n");
}

/* An idle path is not probed once settled: the re-check waits for
 * frames; the search after the path comes up runs regardless. */
static void test_idle_skips_recheck(void **state)
{
	struct pq_pmtu m;
	uint16_t sizes[PQ_PMTU_PROBES_MAX];
	uint64_t now = 0;
	unsigned sent;

	(void)state;
	pq_pmtu_init(&m, 1500, now);
	for (int r = 0; r < PQ_PMTU_ROUNDS; r++) {
		assert_true(pq_pmtu_poll(&m, now, false, sizes, PQ_PMTU_PROBES_MAX) > 0);
		assert_true(pq_pmtu_acked(&m, 1500) || m.current == 1500);
		now = pq_pmtu_deadline(&m);
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(pq_pmtu_poll(&m, now, false, sizes, PQ_PMTU_PROBES_MAX), 0);
		assert_int_equal(pq_pmtu_deadline(&m), now + PQ_PMTU_RECHECK_MS);
		now = pq_pmtu_deadline(&m);
	}
	assert_int_equal(round_trip(&m, now, 1500, &sent), 1);
	assert_int_equal(sent, 1500);
	/* A re-check out and unanswered is followed up even when idle. */
	now = pq_pmtu_deadline(&m);
	assert_int_equal(pq_pmtu_poll(&m, now, true, sizes, PQ_PMTU_PROBES_MAX), 1);
	now = pq_pmtu_deadline(&m);
	assert_int_equal(pq_pmtu_poll(&m, now, false, sizes, PQ_PMTU_PROBES_MAX), 1);
	assert_int_equal(m.misses, 1);
	printf("checked: an idle settled path sends no MTU probes\n");
}

/* Answers we never asked for change nothing; late smaller ones neither. */
static void test_hostile_acks(void **state)
{
	static const unsigned bogus[] = { 0, 1, 576, 1279, 1501, 9000, 65535 };
	struct pq_pmtu m;

	(void)state;
	pq_pmtu_init(&m, 1500, 0);
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		assert_false(pq_pmtu_acked(&m, bogus[i]));
		assert_int_equal(m.current, PQ_PMTU_MIN);
		assert_false(m.confirmed);
	}
	assert_true(pq_pmtu_acked(&m, 1500));
	assert_false(pq_pmtu_acked(&m, 1400)); /* late, from an earlier round */
	assert_false(pq_pmtu_acked(&m, 1500)); /* again: nothing new */
	assert_int_equal(m.current, 1500);
	assert_true(pq_pmtu_acked(&m, 1500) == false && m.confirmed);
	printf("checked: %zu unasked-for sizes and late answers ignored\n", sizeof(bogus) / sizeof(bogus[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_settles), cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_path_shrinks),   cmocka_unit_test(test_path_grows),
		cmocka_unit_test(test_hostile_acks),      cmocka_unit_test(test_idle_skips_recheck),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
