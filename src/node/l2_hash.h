/*
 * l2_hash.h - SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), the keyed hash of the MAC table's buckets: a
 * peer choosing source MACs cannot aim them at one bucket without the key.
 */
#ifndef PQ_NODE_L2_HASH_H
#define PQ_NODE_L2_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of msg (len bytes) under a 16-byte key; the 64-bit result
 * as the paper defines it (its bytes little-endian on the wire). */
uint64_t pq_siphash24(const uint8_t key[16], const uint8_t *msg, size_t len);

#endif
