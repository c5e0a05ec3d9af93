/*
 * test_relay_table.c - the relay's key -> conn map (src/relay/relay_table.c)
 * checked against a naive array: inserts across several growths, lookups
 * of present and absent keys, removals (including of unlinked entries).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/util.h"
#include "relay/relay_table.h"

#define N 5000

static void test_against_array(void **state)
{
	struct relay_table_entry *e = calloc(N, sizeof(*e));
	struct relay_table t;
	uint8_t absent[PQ_PUBKEY_LEN];
	size_t checked = 0;

	assert_non_null(e);
	assert_int_equal(relay_table_init(&t), 0);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(pq_random_bytes(e[i].key, PQ_PUBKEY_LEN), 0);
		assert_int_equal(relay_table_insert(&t, &e[i]), 0);
	}
	assert_int_equal(t.count, N);
	assert_true(t.nbuckets >= N);
	for (size_t i = 0; i < N; i++, checked++)
		assert_ptr_equal(relay_table_find(&t, e[i].key), &e[i]);
	for (size_t i = 0; i < N; i += 2)
		relay_table_remove(&t, &e[i]);
	relay_table_remove(&t, &e[0]); /* not linked any more: no effect */
	assert_int_equal(t.count, N / 2);
	for (size_t i = 0; i < N; i++, checked++)
		assert_ptr_equal(relay_table_find(&t, e[i].key), i % 2 ? &e[i] : NULL);
	/* Keys differing from a present one in a single bit are absent. */
	for (size_t i = 1; i < N; i += 2, checked++) {
		memcpy(absent, e[i].key, sizeof(absent));
		absent[i % PQ_PUBKEY_LEN] ^= 1;
		assert_null(relay_table_find(&t, absent));
	}
	relay_table_free(&t);
	free(e);
	printf("checked: %zu table lookups against the naive array\n", checked);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
