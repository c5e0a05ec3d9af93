/*
 * relay_table.c - key -> conn map of the relay (relay_table.h).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"
#include "relay/relay_table.h"

#define TABLE_MIN_BUCKETS 64

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A seeded multiply-xorshift mix of the four words of a key (the
 * finaliser is MurmurHash3's fmix64). Not a MAC: the seed only keeps an
 * outsider from choosing keys that fall into one bucket cheaply. */
static size_t bucket_of(const struct relay_table *t, const uint8_t key[PQ_PUBKEY_LEN],
			size_t nbuckets)
{
	uint64_t h = t->seed[0];

	for (size_t i = 0; i < PQ_PUBKEY_LEN; i += 8) {
		h ^= load64(key + i);
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h ^= t->seed[1];
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (size_t)h & (nbuckets - 1);
}

int relay_table_init(struct relay_table *t)
{
	memset(t, 0, sizeof(*t));
	if (pq_random_bytes(t->seed, sizeof(t->seed)))
		return PQ_E_RANDOM;
	t->buckets = calloc(TABLE_MIN_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return PQ_E_NOMEM;
	t->nbuckets = TABLE_MIN_BUCKETS;
	return 0;
}

void relay_table_free(struct relay_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = t->count = 0;
}

struct relay_table_entry *relay_table_find(const struct relay_table *t,
					   const uint8_t key[PQ_PUBKEY_LEN])
{
	struct relay_table_entry *e = t->buckets[bucket_of(t, key, t->nbuckets)];

	while (e && memcmp(e->key, key, PQ_PUBKEY_LEN))
		e = e->next;
	return e;
}

/* Double the bucket array and relink every entry into it. */
static int grow(struct relay_table *t)
{
	size_t n = t->nbuckets * 2;
	struct relay_table_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return PQ_E_NOMEM;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct relay_table_entry *e = t->buckets[i], *next;

		for (; e; e = next) {
			size_t j = bucket_of(t, e->key, n);

			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
	return 0;
}

int relay_table_insert(struct relay_table *t, struct relay_table_entry *e)
{
	size_t i;

	if (t->count >= t->nbuckets && grow(t))
		return PQ_E_NOMEM;
	i = bucket_of(t, e->key, t->nbuckets);
	e->next = t->buckets[i];
	t->buckets[i] = e;
	t->count++;
	return 0;
}

void relay_table_remove(struct relay_table *t, struct relay_table_entry *e)
{
	struct relay_table_entry **p = &t->buckets[bucket_of(t, e->key, t->nbuckets)];

	for (; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			e->next = NULL;
			t->count--;
			return;
		}
	}
}
