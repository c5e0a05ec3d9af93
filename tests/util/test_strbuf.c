/*
 * test_strbuf.c - printf into a fixed buffer (util/strbuf.h): text that
 * fits is appended and terminated; the first write that does not fit marks
 * the buffer overflowed, and nothing is written after that.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/strbuf.h"

static void test_appends(void **state)
{
	char buf[16];
	struct pq_strbuf b = { .p = buf, .cap = sizeof(buf) };

	pq_sb_printf(&b, "%s", "abc");
	pq_sb_printf(&b, "-%d", 42);
	assert_false(b.overflow);
	assert_int_equal(b.len, 6);
	assert_string_equal(buf, "abc-42");
}

static void test_exact_fit_needs_room_for_nul(void **state)
{
	char buf[4];
	struct pq_strbuf b = { .p = buf, .cap = sizeof(buf) };

	pq_sb_printf(&b, "abc");
	assert_false(b.overflow);
	assert_int_equal(b.len, 3);
	pq_sb_printf(&b, "d");
	assert_true(b.overflow);
	assert_int_equal(b.len, 3);
	assert_string_equal(buf, "abc");
}

static void test_overflow_is_sticky(void **state)
{
	char buf[8];
	struct pq_strbuf b = { .p = buf, .cap = sizeof(buf) };

	pq_sb_printf(&b, "12345");
	pq_sb_printf(&b, "6789");
	assert_true(b.overflow);
	/* A short write after the overflow must not sneak in. */
	pq_sb_printf(&b, "x");
	assert_true(b.overflow);
	assert_int_equal(b.len, 5);
	assert_memory_equal(buf, "12345", 6);
}

static void test_zero_capacity(void **state)
{
	char buf[1] = { 'q' };
	struct pq_strbuf b = { .p = buf, .cap = 0 };

	pq_sb_printf(&b, "a");
	assert_true(b.overflow);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf[0], 'q');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_exact_fit_needs_room_for_nul),
		cmocka_unit_test(test_overflow_is_sticky),
		cmocka_unit_test(test_zero_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
