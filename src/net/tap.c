/*
 * tap.c - the TAP device (see tap.h). The tun driver's contract is in
 * Documentation/networking/tuntap.rst: open /dev/net/tun, TUNSETIFF with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR names and attaches the device; each
 * read() returns one frame behind its virtio_net_hdr, each write() injects
 * one (drivers/net/tun.c: tun_get_user / tun_put_user, and
 * include/linux/virtio_net.h for how the header is applied). MTU and
 * IFF_UP go through the classic SIOCSIFMTU / SIOCSIFFLAGS ioctls on a
 * datagram socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/tap.h"

static void say(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static int errno_to_pq(int e)
{
	switch (e) {
	case EAGAIN: case EINTR: return PQ_E_AGAIN;
	case EPERM: case EACCES: return PQ_E_PERM;
	case ENOMEM: case ENOBUFS: return PQ_E_NOMEM;
	case EINVAL: return PQ_E_INVAL;
	default: return PQ_E_IO;
	}
}

/* The same rule as config.h's tap = IFNAME; the kernel's dev_valid_name
 * also refuses "." and "..". No "%d": we want the name we asked for. */
static bool name_ok(const char *name)
{
	size_t len = name ? strnlen(name, PQ_TAP_NAME_MAX + 1) : 0;

	if (len == 0 || len > PQ_TAP_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* A hint for the errno of opening the tun device or attaching to it. */
static const char *open_hint(int e)
{
	switch (e) {
	case ENOENT: case ENODEV: case ENXIO:
		return " - is the tun module loaded? (modprobe tun)";
	case EPERM: case EACCES:
		return " - pqlan up needs root or CAP_NET_ADMIN";
	case EBUSY:
		return " - another process has this TAP open";
	case EINVAL:
		return " - a network device of that name exists and is not a TAP";
	default:
		return "";
	}
}

/* SIOCSIFMTU or SIOCSIFFLAGS/SIOCGIFFLAGS on any socket: these ioctls go
 * to the device layer, whatever the socket's family. */
static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr) != 0)
		rc = -errno;
	close(s);
	return rc;
}

/* mtu 0: keep the device's (an existing TAP), reading it into tap->mtu. */
static int set_mtu(struct pq_tap *tap, unsigned mtu, char *err, size_t err_len)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, tap->name, sizeof(tap->name));
	rc = if_ioctl(SIOCGIFMTU, &ifr);
	if (rc == 0 && (mtu == 0 || (unsigned)ifr.ifr_mtu == mtu)) {
		tap->mtu = (unsigned)ifr.ifr_mtu;
		return 0;                /* as asked: no privileged ioctl */
	}
	if (mtu == 0)
		mtu = PQ_TAP_MTU_DEFAULT;
	ifr.ifr_mtu = (int)mtu;
	rc = if_ioctl(SIOCSIFMTU, &ifr);
	if (rc != 0) {
		say(err, err_len, "tap %s: cannot set MTU %u: %s", tap->name, mtu, strerror(-rc));
		return errno_to_pq(-rc);
	}
	tap->mtu = mtu;
	return 0;
}

/* The offload header: 10 bytes (the kernel's default is also 10, but say
 * so), little-endian fields whatever the host, then the offloads. Without
 * TUNSETOFFLOAD the header is still there, all zero on read. */
static int set_vnet(struct pq_tap *tap, const char *name, bool offload, char *err, size_t err_len)
{
	int sz = PQ_TAP_VNET_HDR_LEN, le = 1, e;
	unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	if (ioctl(tap->fd, TUNSETVNETHDRSZ, &sz) != 0 || ioctl(tap->fd, TUNSETVNETLE, &le) != 0) {
		e = errno;
		say(err, err_len, "tap %s: offload header: %s", name, strerror(e));
		return errno_to_pq(e) == PQ_E_PERM ? PQ_E_PERM : PQ_E_IO;
	}
	tap->offload = offload && ioctl(tap->fd, TUNSETOFFLOAD, off) == 0;
	return 0;
}

/* SIOCSIFHWADDR only when the MAC differs (TAPs allow a live change:
 * drivers/net/tun.c sets IFF_LIVE_ADDR_CHANGE). */
static int set_mac(struct pq_tap *tap, const uint8_t mac[6], char *err, size_t err_len)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, tap->name, sizeof(tap->name));
	if (if_ioctl(SIOCGIFHWADDR, &ifr) == 0 && !memcmp(ifr.ifr_hwaddr.sa_data, mac, 6))
		return 0;
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	rc = if_ioctl(SIOCSIFHWADDR, &ifr);
	if (rc != 0) {
		say(err, err_len, "tap %s: cannot set MAC %02x:%02x:%02x:%02x:%02x:%02x: %s", tap->name,
		    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], strerror(-rc));
		return errno_to_pq(-rc) == PQ_E_PERM ? PQ_E_PERM : PQ_E_IO;
	}
	return 0;
}

/* A new device made persistent and owned by us, so that a later start as
 * this (unprivileged) user can attach to it. */
static int set_persist(struct pq_tap *tap, char *err, size_t err_len)
{
	int e;

	if (ioctl(tap->fd, TUNSETOWNER, (unsigned long)geteuid()) != 0 ||
	    ioctl(tap->fd, TUNSETPERSIST, 1UL) != 0) {
		e = errno;
		say(err, err_len, "tap %s: cannot make it persistent: %s", tap->name, strerror(e));
		return errno_to_pq(e) == PQ_E_PERM ? PQ_E_PERM : PQ_E_IO;
	}
	tap->persistent = true;
	return 0;
}

/* A failed open: a device we made persistent a moment ago goes again. */
static void tap_abandon(struct pq_tap *tap)
{
	if (tap->fd >= 0 && tap->persistent && !tap->existed && ioctl(tap->fd, TUNSETPERSIST, 0UL) == 0)
		tap->persistent = false;
	pq_tap_close(tap);
}

int pq_tap_open(struct pq_tap *tap, const struct pq_tap_opts *opts, char *err, size_t err_len)
{
	const char *dev = (opts && opts->dev_path) ? opts->dev_path : PQ_TAP_DEV_PATH;
	unsigned mtu = (opts && opts->mtu) ? opts->mtu : PQ_TAP_MTU_DEFAULT;
	struct ifreq ifr;
	int rc, e;

	if (tap == NULL)
		return PQ_E_INVAL;
	memset(tap, 0, sizeof(*tap));
	tap->fd = -1;
	if (opts == NULL)
		return PQ_E_INVAL;
	if (!name_ok(opts->name)) {
		say(err, err_len, "tap name \"%.20s\" is not 1-%d of [A-Za-z0-9_.-]",
		    opts->name ? opts->name : "", PQ_TAP_NAME_MAX);
		return PQ_E_INVAL;
	}
	if (mtu < PQ_TAP_MTU_MIN || mtu > PQ_TAP_MTU_MAX) {
		say(err, err_len, "tap %s: MTU %u is outside %d-%d", opts->name, mtu,
		    PQ_TAP_MTU_MIN, PQ_TAP_MTU_MAX);
		return PQ_E_INVAL;
	}
	/* A device of that name before TUNSETIFF: a persistent TAP we attach
	 * to (TUNSETIFF refuses anything else with EINVAL) and leave. */
	tap->existed = if_nametoindex(opts->name) != 0;
	tap->persistent = tap->existed;
	if (tap->existed && !opts->mtu)
		mtu = 0;                 /* keep its MTU */
	tap->fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap->fd < 0) {
		e = errno;
		say(err, err_len, "%s: %s%s", dev, strerror(e), open_hint(e));
		return errno_to_pq(e);
	}
	/* IFF_TAP: Ethernet frames; IFF_NO_PI: no 4-byte prefix;
	 * IFF_VNET_HDR: an offload header ahead of each frame. Not
	 * IFF_TUN_EXCL: it would also refuse a leftover persistent TAP of
	 * this name, which TUNSETIFF can attach to. */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, opts->name, strlen(opts->name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(tap->fd, TUNSETIFF, &ifr) != 0) {
		e = errno;
		say(err, err_len, "tap %s: TUNSETIFF: %s%s", opts->name, strerror(e), open_hint(e));
		rc = errno_to_pq(e);
		goto out;
	}
	rc = set_vnet(tap, opts->name, !opts->no_offload, err, err_len);
	if (rc != 0)
		goto out;
	memcpy(tap->name, ifr.ifr_name, PQ_TAP_NAME_MAX);  /* the kernel's spelling */
	tap->ifindex = (int)if_nametoindex(tap->name);
	if (tap->ifindex == 0) {
		say(err, err_len, "tap %s: no interface index: %s", tap->name, strerror(errno));
		rc = PQ_E_IO;
		goto out;
	}
	if (!tap->existed && opts->persist && (rc = set_persist(tap, err, err_len)) != 0)
		goto out;
	if (opts->mac && (rc = set_mac(tap, opts->mac, err, err_len)) != 0)
		goto out;
	rc = set_mtu(tap, mtu, err, err_len);
out:
	if (rc != 0)
		tap_abandon(tap);
	return rc;
}

int pq_tap_set_up(struct pq_tap *tap, bool up, char *err, size_t err_len)
{
	struct ifreq ifr;
	int rc;

	if (tap == NULL || tap->fd < 0)
		return PQ_E_INVAL;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, tap->name, sizeof(tap->name));
	rc = if_ioctl(SIOCGIFFLAGS, &ifr);
	if (rc == 0 && !!(ifr.ifr_flags & IFF_UP) == up)
		return 0;                /* as asked: no privileged ioctl */
	if (rc == 0) {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		rc = if_ioctl(SIOCSIFFLAGS, &ifr);
	}
	if (rc != 0) {
		say(err, err_len, "tap %s: cannot bring the link %s: %s", tap->name,
		    up ? "up" : "down", strerror(-rc));
		return errno_to_pq(-rc) == PQ_E_PERM ? PQ_E_PERM : PQ_E_IO;
	}
	return 0;
}

int pq_tap_mac(const struct pq_tap *tap, uint8_t mac[6])
{
	struct ifreq ifr;

	if (tap == NULL || tap->fd < 0)
		return PQ_E_INVAL;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, tap->name, sizeof(tap->name));
	if (if_ioctl(SIOCGIFHWADDR, &ifr) != 0)
		return PQ_E_IO;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* The errno of a frame read or write: a code, and a message kept in tap. */
static int frame_error(struct pq_tap *tap, const char *what, int e)
{
	const char *hint = "";

	if (e == EAGAIN || e == EINTR)
		return PQ_E_AGAIN;
	if (e == EIO)
		hint = " (is the link down?)";
	else if (e == EBADFD)
		hint = " (the device was deleted)";
	snprintf(tap->err, sizeof(tap->err), "tap %s: %s: %s%s", tap->name, what, strerror(e), hint);
	return PQ_E_IO;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* struct virtio_net_hdr: flags, gso_type, then four __le16 (TUNSETVNETLE). */
static void vnet_unpack(struct pq_gso_hdr *h, const uint8_t v[PQ_TAP_VNET_HDR_LEN])
{
	h->flags = v[0];
	h->gso_type = v[1];
	h->hdr_len = le16(v + 2);
	h->gso_size = le16(v + 4);
	h->csum_start = le16(v + 6);
	h->csum_offset = le16(v + 8);
}

static void vnet_pack(uint8_t v[PQ_TAP_VNET_HDR_LEN], const struct pq_gso_hdr *h)
{
	v[0] = h->flags;
	v[1] = h->gso_type;
	put_le16(v + 2, h->hdr_len);
	put_le16(v + 4, h->gso_size);
	put_le16(v + 6, h->csum_start);
	put_le16(v + 8, h->csum_offset);
}

int pq_tap_read(struct pq_tap *tap, struct pq_gso_hdr *hdr, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t vnet[PQ_TAP_VNET_HDR_LEN], spill;
	struct iovec iov[3] = { { vnet, sizeof(vnet) }, { buf, cap }, { &spill, 1 } };
	ssize_t n;
	size_t flen;

	if (tap == NULL || tap->fd < 0 || hdr == NULL || buf == NULL || len == NULL || cap == 0)
		return PQ_E_INVAL;
	*len = 0;
	memset(hdr, 0, sizeof(*hdr));
	/* tun truncates a frame longer than the buffer without saying so; one
	 * spare byte behind buf tells a frame that fitted from one that did
	 * not (the MTU may have been raised behind our back). */
	n = readv(tap->fd, iov, 3);
	if (n < 0 && errno == EINVAL) {
		/* tun_put_user could not express the frame's offload in the
		 * header (it logs "unexpected GSO type"); that frame is gone,
		 * the device is fine. */
		snprintf(tap->err, sizeof(tap->err),
			 "tap %s: the kernel dropped a frame it could not describe (EINVAL)", tap->name);
		return PQ_E_DECODE;
	}
	if (n < 0)
		return frame_error(tap, "read", errno);
	if (n <= (ssize_t)sizeof(vnet))
		return frame_error(tap, "read", EIO);
	flen = (size_t)n - sizeof(vnet);
	if (flen > cap) {
		snprintf(tap->err, sizeof(tap->err), "tap %s: a frame longer than %zu bytes was dropped",
			 tap->name, cap);
		return PQ_E_TOOBIG;
	}
	vnet_unpack(hdr, vnet);
	/* "Checksum verified" is not forwarded: the far kernel verifies. */
	hdr->flags &= (uint8_t)~PQ_GSO_F_DATA_VALID;
	if (pq_gso_hdr_check(hdr, flen)) {
		snprintf(tap->err, sizeof(tap->err),
			 "tap %s: frame of %zu bytes with unexpected offload header (flags %u, gso type %u) dropped",
			 tap->name, flen, vnet[0], vnet[1]);
		memset(hdr, 0, sizeof(*hdr));
		return PQ_E_DECODE;
	}
	*len = flen;
	return 0;
}

int pq_tap_write(struct pq_tap *tap, const struct pq_gso_hdr *hdr, const uint8_t *frame, size_t len)
{
	static const struct pq_gso_hdr zero;
	uint8_t vnet[PQ_TAP_VNET_HDR_LEN];
	struct iovec iov[2] = { { vnet, sizeof(vnet) }, { (void *)frame, len } };
	ssize_t n;

	if (hdr == NULL)
		hdr = &zero;
	if (tap == NULL || tap->fd < 0 || frame == NULL || len < PQ_TAP_ETH_HLEN)
		return PQ_E_INVAL;
	if (len > (pq_gso_hdr_is_zero(hdr) ? PQ_MAX_FRAME_LEN : PQ_MAX_GSO_FRAME_LEN))
		return PQ_E_TOOBIG;
	if (pq_gso_hdr_check(hdr, len))
		return PQ_E_INVAL;
	vnet_pack(vnet, hdr);
	n = writev(tap->fd, iov, 2);
	if (n < 0)
		return frame_error(tap, "write", errno);
	if ((size_t)n != sizeof(vnet) + len) {
		snprintf(tap->err, sizeof(tap->err), "tap %s: short write (%zd of %zu bytes)",
			 tap->name, n, sizeof(vnet) + len);
		return PQ_E_IO;
	}
	return 0;
}

void pq_tap_close(struct pq_tap *tap)
{
	if (tap == NULL || tap->fd < 0)
		return;
	close(tap->fd);
	tap->fd = -1;
}
