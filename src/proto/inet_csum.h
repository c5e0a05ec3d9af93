/*
 * inet_csum.h - the Internet checksum (RFC 1071) and the TCP/UDP
 * pseudo-header sums (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1), for the
 * user-space offloads (gso_seg.h, gso_coalesce.h). Pure, no state.
 *
 * A sum is carried in a 64-bit accumulator of the data read as native-order
 * words: the one's complement sum does not depend on byte order (RFC 1071
 * §2(B)), so the folded result, stored back in native order, is already the
 * wire's byte layout. pq_csum_fold converts it to the big-endian value a
 * caller writes with a big-endian store. Pieces may be summed one after
 * another into one accumulator, but every piece except the last must have
 * an even length (an odd one would shift the byte lanes of the next).
 */
#ifndef PQ_PROTO_INET_CSUM_H
#define PQ_PROTO_INET_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PQ_IPPROTO_TCP 6
#define PQ_IPPROTO_UDP 17

/* acc plus the n bytes at p (an odd last byte is padded with a zero,
 * RFC 1071 §4.1). p may be unaligned. */
uint64_t pq_csum_add(uint64_t acc, const uint8_t *p, size_t n);
/* The 16-bit one's complement sum of acc (not complemented), big-endian
 * value. */
uint16_t pq_csum_fold(uint64_t acc);
/* The checksum field's value for data summed into acc: ~fold. */
uint16_t pq_csum_finish(uint64_t acc);
/* The pseudo-header of an IPv4 (ip: its header, addresses at 12..19) or
 * IPv6 (addresses at 8..39) packet for protocol proto and an upper-layer
 * length of l4_len bytes, added to acc. */
uint64_t pq_csum_pseudo(uint64_t acc, const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4_len);

#endif
