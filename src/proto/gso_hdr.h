/*
 * gso_hdr.h - the offload header of a DATA_GSO message (docs/PROTOCOL.md
 * §4.1): the kernel's struct virtio_net_hdr (virtio spec 1.2 §5.1.6,
 * include/uapi/linux/virtio_net.h) as the TAP hands it over with
 * IFF_VNET_HDR (net/tap.h), re-encoded big-endian like every pqlan field:
 *
 *   flags 1 | gso_type 1 | hdr_len 2 | gso_size 2 | csum_start 2 | csum_offset 2
 *
 * followed in the plaintext by the Ethernet frame it describes (csum_start
 * counts from the frame's first byte). A hostile but authenticated peer
 * chooses these bytes, and the receiver hands them to its kernel; so the
 * decoder accepts only what our own TAP produces with the offloads we turn
 * on (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6):
 *   - flags is 0 or NEEDS_CSUM (DATA_VALID is never sent: the sender clears
 *     it, the receiving kernel checks the checksum itself);
 *   - gso_type is NONE, TCPV4 or TCPV6 (no ECN bit: TUN_F_TSO_ECN is off,
 *     no UDP);
 *   - TCPV4/TCPV6 need NEEDS_CSUM, 48 <= gso_size <= PQ_MAX_FRAME_LEN,
 *     csum_offset 16 (TCP's checksum) and csum_start >= 14 + 20 (IPv4) or
 *     14 + 40 (IPv6); NONE needs gso_size 0 and a frame no longer than
 *     PQ_MAX_FRAME_LEN (the bound of DATA);
 *   - hdr_len <= frame length;
 *   - NEEDS_CSUM: 14 <= csum_start and csum_start + csum_offset + 2 <= frame
 *     length (the 16-bit checksum lies inside the frame, past the Ethernet
 *     header); without it both are 0;
 *   - frame length 14..PQ_MAX_GSO_FRAME_LEN.
 * A header that is all zero is valid (DATA would carry the frame then).
 * Pure functions, no I/O.
 */
#ifndef PQ_PROTO_GSO_HDR_H
#define PQ_PROTO_GSO_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/types.h"
#include "util/err.h"

#define PQ_GSO_HDR_LEN 10
/* The values of include/uapi/linux/virtio_net.h, which the TAP uses. */
#define PQ_GSO_F_NEEDS_CSUM 1
#define PQ_GSO_F_DATA_VALID 2
#define PQ_GSO_NONE 0
#define PQ_GSO_TCPV4 1
#define PQ_GSO_TCPV6 4
#define PQ_GSO_ECN 0x80
/* TCP super-frames: the smallest MSS Linux sends (TCP_MIN_SND_MSS) and
 * where TCP keeps its checksum. */
#define PQ_GSO_MIN_SIZE 48
#define PQ_GSO_TCP_CSUM_OFF 16
#define PQ_ETH_P_IPV4 0x0800
#define PQ_ETH_P_IPV6 0x86DD
#define PQ_ETH_P_8021Q 0x8100
/* The plaintext bounds of DATA_GSO. */
#define PQ_DATA_GSO_MIN_LEN (PQ_GSO_HDR_LEN + 14)
#define PQ_DATA_GSO_MAX_LEN (PQ_GSO_HDR_LEN + PQ_MAX_GSO_FRAME_LEN)

/* Host byte order. */
struct pq_gso_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* true when every field is 0: no offload, the frame is complete. */
bool pq_gso_hdr_is_zero(const struct pq_gso_hdr *h);
/* 0 when h is acceptable for a frame of frame_len bytes (the rules above),
 * else PQ_E_DECODE. */
PQ_MUST_CHECK int pq_gso_hdr_check(const struct pq_gso_hdr *h, size_t frame_len);
/* The frame itself agrees with a TCP offload header: its EtherType (past
 * at most one 802.1Q tag) is IPv4 for TCPV4 and IPv6 for TCPV6, and the
 * TCP header (csum_start) starts past a minimal IP header. NONE passes.
 * Applied to what a peer sends, after pq_gso_decode: 0 or PQ_E_DECODE. */
PQ_MUST_CHECK int pq_gso_frame_check(const struct pq_gso_hdr *h, const uint8_t *frame, size_t frame_len);
/* Write the 10 bytes (h must pass pq_gso_hdr_check for frame_len):
 * PQ_GSO_HDR_LEN, or PQ_E_INVAL / PQ_E_TOOBIG. */
PQ_MUST_CHECK long pq_gso_hdr_encode(const struct pq_gso_hdr *h, size_t frame_len, uint8_t *out,
				     size_t cap);
/* Split a DATA_GSO plaintext into its header and frame (borrowed from pt)
 * and check them: 0, or PQ_E_DECODE with *h zeroed and *frame NULL. */
PQ_MUST_CHECK int pq_gso_decode(struct pq_gso_hdr *h, const uint8_t **frame, size_t *frame_len,
				const uint8_t *pt, size_t len);

#endif
