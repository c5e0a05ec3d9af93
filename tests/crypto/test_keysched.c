/* test_keysched.c - the hybrid key schedule (DESIGN §3): a known answer,
 * every input bit reaching every output, all outputs distinct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/keysched.h"

struct field {
	const char *name;
	size_t offset, len;
};

#define FIELD(f) { #f, offsetof(struct pq_session_keys, f), sizeof(((struct pq_session_keys *)0)->f) }

static const struct field fields[] = {
	FIELD(key_i2r), FIELD(key_r2i), FIELD(confirm_i2r), FIELD(confirm_r2i),
	FIELD(rehs_i2r), FIELD(rehs_r2i), FIELD(session_id),
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static const uint8_t *field_of(const struct pq_session_keys *k, size_t i)
{
	return (const uint8_t *)k + fields[i].offset;
}

static void fill_inputs(uint8_t ss_mlkem[32], uint8_t ss_x25519[32], uint8_t th[32])
{
	for (int i = 0; i < 32; i++) {
		ss_mlkem[i] = (uint8_t)i;
		ss_x25519[i] = (uint8_t)(32 + i);
		th[i] = (uint8_t)(64 + i);
	}
}

/*
 * Expected bytes computed independently with Python's hmac/hashlib,
 * a from-scratch RFC 5869 HKDF:
 *   prk = hmac.new(th, ss_mlkem + ss_x25519, sha256).digest()
 *   t = b''; okm = b''
 *   for i in 1..: t = hmac.new(prk, t + label + bytes([i]), sha256).digest(); okm += t
 * with ss_mlkem = bytes(range(32)), ss_x25519 = bytes(range(32, 64)),
 * th = bytes(range(64, 96)), label = b"pqlan v1 " + purpose.
 */
static void test_known_answer(void **state)
{
	static const struct pq_session_keys want = {
		.key_i2r = { 0x7a, 0x06, 0xb0, 0xc9, 0xa4, 0xcb, 0xc2, 0x9a, 0x6d, 0x63, 0x75, 0x98,
			     0xfe, 0x8e, 0x17, 0x06, 0x3c, 0xac, 0xfe, 0x8e, 0x8a, 0x9c, 0xf2, 0xe1,
			     0x58, 0xd8, 0x48, 0x17, 0x7c, 0x49, 0x18, 0xab },
		.key_r2i = { 0x66, 0xe8, 0x6a, 0x1b, 0x0f, 0x32, 0x29, 0xca, 0x75, 0x6c, 0x2f, 0xed,
			     0x63, 0xd3, 0x1e, 0x37, 0xd8, 0x0d, 0x01, 0x7a, 0x45, 0x2d, 0x13, 0x81,
			     0xdf, 0x27, 0xcb, 0x91, 0x09, 0xf6, 0x1b, 0xbc },
		.confirm_i2r = { 0x11, 0xc8, 0xd6, 0x69, 0xdc, 0x60, 0x7e, 0xc4, 0xab, 0xb5, 0x06, 0xda,
				 0x1d, 0x93, 0xb2, 0x5a, 0x1b, 0x3d, 0x69, 0x29, 0x0b, 0x95, 0x46, 0x23,
				 0x86, 0xb3, 0x5a, 0x35, 0xe6, 0x79, 0x1f, 0x5f },
		.confirm_r2i = { 0xaa, 0x8a, 0x0a, 0x41, 0xa5, 0xf4, 0x2d, 0x10, 0xe2, 0x5f, 0x1d, 0xdf,
				 0xcc, 0x0c, 0x4e, 0xa1, 0x2e, 0x19, 0x23, 0x07, 0xba, 0x99, 0x4d, 0x97,
				 0x0d, 0x5e, 0xf6, 0x0a, 0x77, 0x37, 0xd6, 0x01 },
		.rehs_i2r = { 0x80, 0x89, 0x2e, 0x1c, 0xc9, 0x07, 0x97, 0xc8, 0xaf, 0xbe, 0x56, 0x8e,
			      0xd8, 0x8d, 0x0e, 0x45, 0xcc, 0x0e, 0x6c, 0x98, 0x1a, 0x06, 0xbc, 0xb6,
			      0x54, 0x81, 0x96, 0x82, 0x79, 0xb3, 0x5c, 0x82 },
		.rehs_r2i = { 0xf5, 0x06, 0x38, 0xd3, 0xef, 0x4f, 0xda, 0xee, 0x3e, 0xe3, 0x38, 0x83,
			      0x46, 0x5e, 0xed, 0x71, 0xc8, 0x1b, 0x44, 0xa7, 0xc4, 0x73, 0x7c, 0x71,
			      0xbc, 0xc8, 0x5f, 0x81, 0x52, 0xe4, 0x75, 0x15 },
		.session_id = { 0xb1, 0x34, 0x60, 0x9b, 0x87, 0xfa, 0x46, 0x9c, 0xa6, 0x2f, 0x51, 0xcc,
				0x08, 0xf3, 0x0e, 0xdb },
	};
	uint8_t m[32], x[32], th[32];
	struct pq_session_keys got;

	fill_inputs(m, x, th);
	assert_int_equal(pq_key_schedule(&got, m, x, th), 0);
	for (size_t i = 0; i < N_FIELDS; i++)
		assert_memory_equal(field_of(&got, i), field_of(&want, i), fields[i].len);
	pq_session_keys_wipe(&got);
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(((uint8_t *)&got)[i], 0);
	printf("checked: keysched known answer %zu outputs\n", N_FIELDS);
}

static void assert_pairwise_distinct(const struct pq_session_keys *k)
{
	/* Compare the first 16 bytes (every output has at least 16). */
	for (size_t i = 0; i < N_FIELDS; i++)
		for (size_t j = i + 1; j < N_FIELDS; j++)
			assert_memory_not_equal(field_of(k, i), field_of(k, j), 16);
}

/* Flip each bit of each input in turn: every output must change. */
static void test_every_input_bit_changes_every_output(void **state)
{
	uint8_t in[3][32];
	struct pq_session_keys base, k;
	int flips = 0;

	fill_inputs(in[0], in[1], in[2]);
	assert_int_equal(pq_key_schedule(&base, in[0], in[1], in[2]), 0);
	assert_pairwise_distinct(&base);
	for (int which = 0; which < 3; which++) {
		for (int bit = 0; bit < 256; bit++, flips++) {
			in[which][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(pq_key_schedule(&k, in[0], in[1], in[2]), 0);
			for (size_t f = 0; f < N_FIELDS; f++)
				assert_memory_not_equal(field_of(&k, f), field_of(&base, f), fields[f].len);
			assert_pairwise_distinct(&k);
			in[which][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	/* Swapping the two shared secrets is a different input too. */
	assert_int_equal(pq_key_schedule(&k, in[1], in[0], in[2]), 0);
	assert_memory_not_equal(k.key_i2r, base.key_i2r, PQ_KEY_LEN);
	printf("checked: keysched %d single-bit input flips x %zu outputs\n", flips, N_FIELDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_every_input_bit_changes_every_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
