/*
 * tap.h - the node's TAP device: one Ethernet frame per read or write on a
 * non-blocking file descriptor (Linux tun/tap, Documentation/networking/
 * tuntap.rst), opened IFF_TAP | IFF_NO_PI | IFF_VNET_HDR: no packet-
 * information prefix; an offload header (below), then exactly the Ethernet
 * frame (dst, src, EtherType, payload; no FCS).
 *
 * Ownership: the caller owns struct pq_tap (embed it); pq_tap_open() fills
 * it and owns the fd until pq_tap_close(). A device we create is not
 * persistent unless asked (opts.persist): the kernel removes it when its
 * last fd closes, so a crashed daemon leaves nothing behind. A device
 * that existed before (a persistent TAP made by `ip tuntap add NAME mode
 * tap`, or by an earlier run with persist) is attached to and left in
 * place: its MAC, addresses and bridge membership outlive the daemon,
 * which is what bridging a LAN through the tunnel needs (docs/bridging.md).
 * The fd is O_CLOEXEC so that a child process does not keep the device
 * alive. Frames are borrowed from the caller's buffers.
 *
 * Privilege: the MTU, MAC and IFF_UP are read first and set only when they
 * differ from what is asked, so attaching to a persistent TAP owned by the
 * daemon's user (ip tuntap add ... user pqlan) with the right settings
 * needs no capability at all. Creating a device, TUNSETPERSIST and any
 * change need CAP_NET_ADMIN.
 *
 * MTU: PQ_TAP_MTU_DEFAULT is 1500, the standard Ethernet payload, not the
 * 1420 of WireGuard. WireGuard lowers the MTU because each packet becomes
 * one UDP datagram that must fit the underlay path (80 bytes of outer IPv6,
 * UDP and WireGuard header). Our frames travel in a TCP byte stream
 * (TLS 1.3 records carrying WebSocket messages, DESIGN §2): TCP segments
 * them, so the underlay MTU never limits a frame; the per-frame overhead
 * (DATA header and GCM tag, about 30 bytes; the relay's routing header;
 * 2-14 bytes of WebSocket header; TLS record framing) costs bandwidth
 * only. The bound that does matter is PQ_MAX_FRAME_LEN, the largest frame
 * a DATA message carries: the MTU plus a 14-byte Ethernet header and one
 * 4-byte 802.1Q tag must fit, hence PQ_TAP_MTU_MAX. 1500 lets the TAP be
 * bridged with an ordinary LAN and every host on the virtual segment use
 * the usual MTU; a smaller one would break silently, since an Ethernet
 * segment has no path-MTU discovery (an oversized frame is just dropped).
 *
 * Offloads: the device is opened with IFF_VNET_HDR, so every read and
 * write carries a 10-byte struct virtio_net_hdr ahead of the frame
 * (TUNSETVNETHDRSZ 10; TUNSETVNETLE makes its 16-bit fields
 * little-endian on any host; we convert them explicitly). TUNSETOFFLOAD
 * with TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 lets the kernel skip the TCP
 * checksum and hand us TSO super-frames of up to 64 KiB (one read instead
 * of ~45): the header says how to checksum and segment them. Written
 * back on the far side with the same header, the far kernel finishes the
 * job (or delivers the super-frame as one packet). If TUNSETOFFLOAD is
 * refused, reads carry a zero header and frames stay MTU-sized. Frames
 * then go as DATA_GSO (proto/gso_hdr.h) whenever the header is not zero;
 * a frame read is checked with the same rules a received header is
 * (pq_gso_hdr_check), so we never send what we would refuse. DATA_VALID
 * ("the checksum was verified") is cleared on read: the far kernel checks
 * for itself instead of trusting us.
 *
 * Errors: errno becomes a PQ_E_* code here. pq_tap_open and pq_tap_set_up
 * also write a message for the user into err ("/dev/net/tun: No such
 * file or directory - is the tun module loaded? (modprobe tun)"); read and
 * write, called per frame, return codes only and leave their message in
 * tap->err, formatted only when an error happens.
 */
#ifndef PQ_NET_TAP_H
#define PQ_NET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/gso_hdr.h"
#include "proto/types.h"
#include "util/err.h"

#define PQ_TAP_DEV_PATH "/dev/net/tun"
#define PQ_TAP_NAME_MAX 15                        /* IFNAMSIZ - 1 */
#define PQ_TAP_ETH_HLEN 14
#define PQ_TAP_MTU_DEFAULT 1500
#define PQ_TAP_MTU_MIN 68                         /* RFC 791: every IPv4 link */
#define PQ_TAP_MTU_MAX (PQ_MAX_FRAME_LEN - PQ_TAP_ETH_HLEN - 4)
#define PQ_TAP_ERR_LEN 256
/* sizeof(struct virtio_net_hdr), ahead of every frame on the fd. */
#define PQ_TAP_VNET_HDR_LEN 10

struct pq_tap {
	int fd;                          /* -1 when closed */
	int ifindex;
	unsigned mtu;
	char name[PQ_TAP_NAME_MAX + 1];
	bool offload;                    /* TUNSETOFFLOAD accepted: super-frames */
	bool existed;                    /* attached to a device that was there */
	bool persistent;                 /* stays when closed (existed or persist) */
	char err[PQ_TAP_ERR_LEN];        /* the last read/write error */
};

struct pq_tap_opts {
	const char *name;                /* 1-15 of [A-Za-z0-9_.-], not "." or ".." */
	unsigned mtu;                    /* 0: PQ_TAP_MTU_DEFAULT */
	const char *dev_path;            /* NULL: PQ_TAP_DEV_PATH (tests change it) */
	bool no_offload;                 /* leave TUNSETOFFLOAD off: one frame per read */
	bool persist;                    /* make a device we create persistent
					  * (TUNSETPERSIST, owned by our euid) */
	const uint8_t *mac;              /* NULL: keep the device's MAC */
};

/* Create the TAP device or attach to the persistent one of that name,
 * non-blocking, with its MTU (opts->mtu, or 1500 for a new device; an
 * existing device keeps its MTU when opts->mtu is 0) and MAC set; a new
 * link is left down (bring it up with pq_tap_set_up once addresses are in
 * place).
 * On failure tap->fd is -1, nothing is left behind, and err says why.
 * Returns 0 or:
 *   PQ_E_INVAL  bad name or MTU; a device of that name that is not a TAP
 *   PQ_E_PERM   not root / no CAP_NET_ADMIN
 *   PQ_E_IO     no tun driver, the name is in use by another process, ...
 *   PQ_E_NOMEM  the kernel ran out of memory */
PQ_MUST_CHECK int pq_tap_open(struct pq_tap *tap, const struct pq_tap_opts *opts, char *err,
			      size_t err_len);

/* Bring the link up (or down): IFF_UP, only when it is not so already.
 * Returns 0, PQ_E_PERM or PQ_E_IO. */
PQ_MUST_CHECK int pq_tap_set_up(struct pq_tap *tap, bool up, char *err, size_t err_len);

/* The device's MAC address (the kernel picks a random local one). */
PQ_MUST_CHECK int pq_tap_mac(const struct pq_tap *tap, uint8_t mac[6]);

/* Read one frame into buf (capacity cap; give it PQ_MAX_GSO_FRAME_LEN)
 * and its offload header into *hdr (host order, DATA_VALID cleared).
 * Returns 0 and *len, or:
 *   PQ_E_AGAIN   no frame waiting (or interrupted): wait for readability
 *   PQ_E_TOOBIG  the frame did not fit buf; it is lost
 *   PQ_E_DECODE  the header fails pq_gso_hdr_check for the frame, or the
 *                kernel could not build one (EINVAL): that frame is dropped
 *   PQ_E_IO      the device failed or was deleted under us
 *   PQ_E_INVAL   closed tap, NULL or empty buffer */
PQ_MUST_CHECK int pq_tap_read(struct pq_tap *tap, struct pq_gso_hdr *hdr, uint8_t *buf, size_t cap,
			      size_t *len);

/* Write one whole frame to the kernel behind hdr (NULL: a zero header, a
 * complete frame). Returns 0 or:
 *   PQ_E_INVAL   shorter than an Ethernet header (14 bytes), or hdr fails
 *                pq_gso_hdr_check
 *   PQ_E_TOOBIG  longer than PQ_MAX_FRAME_LEN (zero header) or
 *                PQ_MAX_GSO_FRAME_LEN
 *   PQ_E_AGAIN   the kernel would block: drop it or retry later
 *   PQ_E_IO      the link is down, the device is gone, or the kernel
 *                refused the frame */
PQ_MUST_CHECK int pq_tap_write(struct pq_tap *tap, const struct pq_gso_hdr *hdr,
			       const uint8_t *frame, size_t len);

/* Close the fd; the kernel deletes the device unless it is persistent.
 * Safe to call twice. */
void pq_tap_close(struct pq_tap *tap);

#endif
