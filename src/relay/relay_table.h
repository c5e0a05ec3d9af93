/*
 * relay_table.h - the relay's map from an authenticated node key to its
 * connection (DESIGN §2: one conn per key, a newer one replaces it).
 *
 * An intrusive chained hash table: the caller embeds struct
 * relay_table_entry in its own object and owns it; the table only links
 * entries and grows its bucket array (load factor <= 1). The hash is keyed
 * with a random seed drawn at init, so which keys share a bucket is not
 * predictable from outside; node keys are public, so lookups compare them
 * with memcmp.
 */
#ifndef PQ_RELAY_TABLE_H
#define PQ_RELAY_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/types.h"
#include "util/err.h"

struct relay_table_entry {
	uint8_t key[PQ_PUBKEY_LEN];
	struct relay_table_entry *next; /* private: bucket chain */
};

struct relay_table {
	struct relay_table_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	uint64_t seed[2];
};

/* 0, PQ_E_NOMEM, PQ_E_RANDOM. */
PQ_MUST_CHECK int relay_table_init(struct relay_table *t);
/* Frees the buckets, not the entries. */
void relay_table_free(struct relay_table *t);
struct relay_table_entry *relay_table_find(const struct relay_table *t,
					   const uint8_t key[PQ_PUBKEY_LEN]);
/* Link e (its key set, not already present). 0 or PQ_E_NOMEM (not linked). */
PQ_MUST_CHECK int relay_table_insert(struct relay_table *t, struct relay_table_entry *e);
/* Unlink e if it is linked; nothing otherwise. */
void relay_table_remove(struct relay_table *t, struct relay_table_entry *e);

#endif
