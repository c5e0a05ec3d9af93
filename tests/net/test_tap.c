/*
 * test_tap.c - a real TAP device (net/tap.h) and its address
 * (node/ifaddr.h), each case in a network namespace of its own:
 *
 *   test process ──fork──> child: unshare(CLONE_NEWNET)
 *                             │  pq_tap_open("pqtap0"), address 10.77.0.1/24, up
 *                             │  write: ARP who-has 10.77.0.1 from 02:00:00:00:00:99
 *                             │  read:  the kernel's ARP reply from the TAP's MAC
 *                             │  write: a 3000-byte TCP super-frame with a TSO
 *                             │         header (IFF_VNET_HDR); read: the RST
 *                             │         acking all 3000 bytes
 *                             │  close: the device is gone
 *                             └─ result: exit status + message through a pipe
 *
 * Nothing reaches the host's network: the namespace dies with the child.
 * Needs root (CAP_SYS_ADMIN for the namespace, CAP_NET_ADMIN for the TAP);
 * without it, or without /dev/net/tun, the test FAILS and says why.
 * alarm() bounds every child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/tap.h"
#include "node/ifaddr.h"

#define CHILD_SECONDS 10

/* ---- running a case in a child inside a fresh network namespace ---- */

static int report_fd = -1;
static int checks;

static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void child_fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (write(report_fd, msg, strlen(msg)) < 0)
		_exit(3);
	_exit(1);
}

#define CHECK(cond, ...)                       \
	do {                                   \
		if (!(cond))                   \
			child_fail(__VA_ARGS__); \
		checks++;                      \
	} while (0)

static void run_in_netns(const char *what, void (*body)(void))
{
	char msg[512] = "";
	size_t got = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		alarm(CHILD_SECONDS);
		if (unshare(CLONE_NEWNET) != 0)
			child_fail("unshare(CLONE_NEWNET): %s - this test needs root", strerror(errno));
		body();
		printf("checked: %s %d cases\n", what, checks);
		fflush(stdout);
		_exit(0);
	}
	close(p[1]);
	while (got < sizeof(msg) - 1 && (n = read(p[0], msg + got, sizeof(msg) - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("%s: child killed by signal %d%s", what, WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: %s", what, msg[0] ? msg : "child failed without a message");
}

/* ---- helpers for the child ---- */

static const uint8_t my_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
static const uint8_t tap_ip[4] = { 10, 77, 0, 1 }, my_ip[4] = { 10, 77, 0, 2 };

static void open_tap(struct pq_tap *tap, const char *name, unsigned mtu)
{
	struct pq_tap_opts opts = { .name = name, .mtu = mtu };
	char err[256] = "";
	int rc = pq_tap_open(tap, &opts, err, sizeof(err));

	CHECK(rc == 0, "pq_tap_open(%s): %s (%s)", name, pq_strerror(rc), err);
}

static void add_addr(struct pq_tap *tap, int family, const char *text, unsigned prefix)
{
	struct pq_config_cidr cidr = { .family = family, .prefix = prefix };
	char err[256] = "";
	int rc;

	CHECK(inet_pton(family, text, cidr.addr) == 1, "bad test address %s", text);
	rc = pq_ifaddr_add(tap->name, tap->ifindex, &cidr, err, sizeof(err));
	CHECK(rc == 0, "pq_ifaddr_add(%s/%u): %s (%s)", text, prefix, pq_strerror(rc), err);
}

static void set_up(struct pq_tap *tap)
{
	char err[256] = "";
	int rc = pq_tap_set_up(tap, true, err, sizeof(err));

	CHECK(rc == 0, "pq_tap_set_up: %s (%s)", pq_strerror(rc), err);
}

static struct ifreq ifreq_get(const char *name, unsigned long req)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	CHECK(s >= 0 && ioctl(s, req, &ifr) == 0, "ioctl %#lx on %s: %s", req, name, strerror(errno));
	close(s);
	return ifr;
}

/* ARP request (RFC 826) for 10.77.0.1 from 10.77.0.2 / my_mac, broadcast. */
static size_t arp_request(uint8_t f[42])
{
	static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 }; /* Ethernet, IPv4, request */

	memset(f, 0xff, 6);
	memcpy(f + 6, my_mac, 6);
	f[12] = 0x08, f[13] = 0x06;
	memcpy(f + 14, hdr, 8);
	memcpy(f + 22, my_mac, 6);
	memcpy(f + 28, my_ip, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, tap_ip, 4);
	return 42;
}

/* Read frames until one of EtherType 0x08 et (and IP protocol proto,
 * unless 0) shows up (IPv6 may send its own); its offload header in *hdr. */
static size_t read_until(struct pq_tap *tap, struct pq_gso_hdr *hdr, uint8_t *buf, size_t cap,
			 uint8_t et, uint8_t proto)
{
	struct pollfd pfd = { .fd = tap->fd, .events = POLLIN };
	size_t len = 0;

	for (int tries = 0; tries < 20; tries++) {
		int rc = pq_tap_read(tap, hdr, buf, cap, &len);

		if (rc == PQ_E_AGAIN) {
			CHECK(poll(&pfd, 1, 3000) == 1, "no frame from the kernel within 3 s");
			continue;
		}
		CHECK(rc == 0, "pq_tap_read: %s (%s)", pq_strerror(rc), tap->err);
		if (len >= 34 && buf[12] == 0x08 && buf[13] == et && (!proto || buf[23] == proto))
			return len;
	}
	child_fail("the kernel sent no frame of EtherType 08%02x", et);
}

static size_t read_arp(struct pq_tap *tap, struct pq_gso_hdr *hdr, uint8_t *buf, size_t cap)
{
	return read_until(tap, hdr, buf, cap, 0x06, 0);
}

/* ---- cases ---- */

static struct pq_tap tap_g;

/* Both directions through a real TAP, then close removes the device. */
static void body_arp(void)
{
	struct pq_tap tap;
	uint8_t req[42], buf[PQ_MAX_FRAME_LEN], tap_mac[6];
	struct pq_gso_hdr hdr;
	struct ifreq ifr;
	size_t len;
	int fl;

	open_tap(&tap, "pqtap0", 0);
	CHECK(strcmp(tap.name, "pqtap0") == 0 && tap.ifindex > 0, "name %s index %d", tap.name,
	      tap.ifindex);
	CHECK(tap.ifindex == (int)if_nametoindex("pqtap0"), "index mismatch");
	fl = fcntl(tap.fd, F_GETFL);
	CHECK(fl >= 0 && (fl & O_NONBLOCK), "fd is blocking");
	CHECK((fcntl(tap.fd, F_GETFD) & FD_CLOEXEC) != 0, "fd is not close-on-exec");
	ifr = ifreq_get("pqtap0", SIOCGIFMTU);
	CHECK(ifr.ifr_mtu == PQ_TAP_MTU_DEFAULT && tap.mtu == PQ_TAP_MTU_DEFAULT, "MTU %d",
	      ifr.ifr_mtu);
	ifr = ifreq_get("pqtap0", SIOCGIFFLAGS);
	CHECK(!(ifr.ifr_flags & IFF_UP), "link is up before pq_tap_set_up");
	add_addr(&tap, AF_INET, "10.77.0.1", 24);
	set_up(&tap);
	ifr = ifreq_get("pqtap0", SIOCGIFFLAGS);
	CHECK(ifr.ifr_flags & IFF_UP, "link is not up after pq_tap_set_up");
	CHECK(pq_tap_mac(&tap, tap_mac) == 0, "pq_tap_mac failed");
	CHECK(tap.offload, "TUNSETOFFLOAD (csum, TSO4, TSO6) refused");

	/* a frame too long for the buffer is reported, not truncated */
	CHECK(pq_tap_write(&tap, NULL, req, arp_request(req)) == 0, "write: %s", tap.err);
	struct pollfd pfd = { .fd = tap.fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 3000) == 1, "no reply within 3 s");
	CHECK(pq_tap_read(&tap, &hdr, buf, 20, &len) == PQ_E_TOOBIG && len == 0,
	      "a 42-byte frame read into 20 bytes was not refused");

	CHECK(pq_tap_write(&tap, NULL, req, arp_request(req)) == 0, "write: %s", tap.err);
	len = read_arp(&tap, &hdr, buf, sizeof(buf));
	CHECK(len >= 42, "ARP reply of %zu bytes", len);
	CHECK(pq_gso_hdr_is_zero(&hdr), "ARP reply with an offload header (flags %u, gso %u)",
	      hdr.flags, hdr.gso_type);
	CHECK(memcmp(buf, my_mac, 6) == 0, "reply not addressed to our MAC");
	CHECK(memcmp(buf + 6, tap_mac, 6) == 0, "reply not from the TAP's MAC");
	CHECK(buf[20] == 0 && buf[21] == 2, "ARP op %d, want 2 (reply)", buf[21]);
	CHECK(memcmp(buf + 22, tap_mac, 6) == 0, "sender hardware address is not the TAP's");
	CHECK(memcmp(buf + 28, tap_ip, 4) == 0, "sender IP is not 10.77.0.1");
	CHECK(memcmp(buf + 32, my_mac, 6) == 0 && memcmp(buf + 38, my_ip, 4) == 0,
	      "target is not 02:00:00:00:00:99 / 10.77.0.2");

	pq_tap_close(&tap);
	CHECK(tap.fd == -1, "fd not reset");
	pq_tap_close(&tap);       /* twice is harmless */
	errno = 0;
	CHECK(if_nametoindex("pqtap0") == 0 && errno == ENODEV,
	      "pqtap0 still exists after close (errno %d)", errno);
	CHECK(pq_tap_read(&tap, &hdr, buf, sizeof(buf), &len) == PQ_E_INVAL, "read after close");
}

static uint16_t csum_fold32(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/* Ethernet + IPv4 + TCP (PSH, seq 1000) from my_ip:40000 to
 * tap_ip:9 (nobody listens) with payload bytes; the IP checksum done, the
 * TCP checksum field holding the pseudo-header sum as CHECKSUM_PARTIAL
 * wants it (the kernel completes it). The frame's length. */
static size_t tcp_superframe(uint8_t *f, const uint8_t tap_mac[6], size_t payload)
{
	size_t ip_len = 20 + 20 + payload;
	uint32_t ps;
	uint16_t c;

	memcpy(f, tap_mac, 6);
	memcpy(f + 6, my_mac, 6);
	f[12] = 0x08, f[13] = 0x00;
	memset(f + 14, 0, 40);
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_len >> 8), f[17] = (uint8_t)ip_len;
	f[20] = 0x40;                                  /* DF */
	f[22] = 64, f[23] = 6;                         /* TTL, TCP */
	memcpy(f + 26, my_ip, 4);
	memcpy(f + 30, tap_ip, 4);
	c = (uint16_t)~csum_fold32(csum_add(0, f + 14, 20));
	f[24] = (uint8_t)(c >> 8), f[25] = (uint8_t)c;
	f[34] = 40000 >> 8, f[35] = 40000 & 0xff, f[37] = 9;
	f[40] = 1000 >> 8, f[41] = 1000 & 0xff;        /* seq 1000 */
	/* No ACK flag: the RST then acks seq + every payload byte taken
	 * (RFC 9293 §3.10.7.1), which is what we check. */
	f[46] = 5 << 4, f[47] = 0x08;                  /* offset 5, PSH */
	f[48] = 0xff, f[49] = 0xff;                                     /* window */
	memset(f + 54, 'x', payload);
	ps = csum_add(0, f + 26, 8) + 6 + (uint32_t)(20 + payload);
	c = csum_fold32(ps);                          /* not inverted: partial */
	f[50] = (uint8_t)(c >> 8), f[51] = (uint8_t)c;
	return 54 + payload;
}

/* The offload header on a real device: a TSO super-frame written with its
 * header is taken whole by the kernel (its RST acks all of it), and a
 * frame the kernel checksums for us comes back with NEEDS_CSUM or none. */
static void body_tso(void)
{
	static uint8_t f[PQ_MAX_GSO_FRAME_LEN], buf[PQ_MAX_GSO_FRAME_LEN];
	struct pq_gso_hdr tso = { .flags = PQ_GSO_F_NEEDS_CSUM, .gso_type = PQ_GSO_TCPV4,
				  .hdr_len = 54, .gso_size = 1000, .csum_start = 34, .csum_offset = 16 };
	struct pq_gso_hdr hdr;
	uint8_t req[42], tap_mac[6];
	uint32_t ack;
	size_t len, n;
	int rc;

	open_tap(&tap_g, "pqtap0", 0);
	CHECK(tap_g.offload, "TUNSETOFFLOAD refused");
	add_addr(&tap_g, AF_INET, "10.77.0.1", 24);
	set_up(&tap_g);
	CHECK(pq_tap_mac(&tap_g, tap_mac) == 0, "pq_tap_mac failed");
	/* The kernel learns 10.77.0.2 = my_mac from our request. */
	CHECK(pq_tap_write(&tap_g, NULL, req, arp_request(req)) == 0, "write: %s", tap_g.err);
	(void)read_arp(&tap_g, &hdr, buf, sizeof(buf));
	n = tcp_superframe(f, tap_mac, 3000);
	rc = pq_tap_write(&tap_g, &tso, f, n);
	CHECK(rc == 0, "TSO super-frame of %zu bytes: %s (%s)", n, pq_strerror(rc), tap_g.err);
	len = read_until(&tap_g, &hdr, buf, sizeof(buf), 0x00, 6);
	CHECK(len >= 54 && buf[47] & 0x04, "no RST from the kernel (%zu bytes, flags %#x)", len,
	      len >= 48 ? buf[47] : 0);
	ack = (uint32_t)buf[42] << 24 | (uint32_t)buf[43] << 16 | (uint32_t)buf[44] << 8 | buf[45];
	CHECK(ack == 1000 + 3000, "RST acks %u, want 4000: the super-frame was not taken whole", ack);
	CHECK(pq_gso_hdr_is_zero(&hdr) ||
	      (hdr.flags == PQ_GSO_F_NEEDS_CSUM && hdr.gso_type == PQ_GSO_NONE && hdr.csum_start == 34 &&
	       hdr.csum_offset == 16),
	      "RST header: flags %u gso %u csum %u+%u", hdr.flags, hdr.gso_type, hdr.csum_start,
	      hdr.csum_offset);
	pq_tap_close(&tap_g);
}

static bool has_addr(const char *name, int family, const char *text, unsigned prefix,
		     const char *brd)
{
	struct ifaddrs *all, *a;
	bool found = false;

	CHECK(getifaddrs(&all) == 0, "getifaddrs: %s", strerror(errno));
	for (a = all; a && !found; a = a->ifa_next) {
		char got[INET6_ADDRSTRLEN] = "", gotbrd[INET6_ADDRSTRLEN] = "";
		const void *ap, *mp;
		unsigned bits = 0;
		size_t alen;

		if (!a->ifa_addr || a->ifa_addr->sa_family != family || strcmp(a->ifa_name, name))
			continue;
		if (family == AF_INET) {
			ap = &((struct sockaddr_in *)a->ifa_addr)->sin_addr;
			mp = &((struct sockaddr_in *)a->ifa_netmask)->sin_addr;
			alen = 4;
			if (a->ifa_broadaddr)
				inet_ntop(AF_INET, &((struct sockaddr_in *)a->ifa_broadaddr)->sin_addr,
					  gotbrd, sizeof(gotbrd));
		} else {
			ap = &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
			mp = &((struct sockaddr_in6 *)a->ifa_netmask)->sin6_addr;
			alen = 16;
		}
		inet_ntop(family, ap, got, sizeof(got));
		for (size_t i = 0; i < alen; i++)
			bits += (unsigned)__builtin_popcount(((const uint8_t *)mp)[i]);
		found = !strcmp(got, text) && bits == prefix && (!brd || !strcmp(gotbrd, brd));
	}
	freeifaddrs(all);
	return found;
}

/* IPv4 and IPv6 addresses land with their prefix; a chosen MTU sticks. */
static void body_addresses(void)
{
	struct pq_tap tap;
	struct ifreq ifr;

	open_tap(&tap, "pq.tap-1", 9000);
	ifr = ifreq_get("pq.tap-1", SIOCGIFMTU);
	CHECK(ifr.ifr_mtu == 9000, "MTU %d, want 9000", ifr.ifr_mtu);
	add_addr(&tap, AF_INET, "10.77.0.1", 24);
	add_addr(&tap, AF_INET6, "fd00:77::1", 64);
	set_up(&tap);
	CHECK(has_addr("pq.tap-1", AF_INET, "10.77.0.1", 24, "10.77.0.255"),
	      "10.77.0.1/24 brd 10.77.0.255 not on the device");
	CHECK(has_addr("pq.tap-1", AF_INET6, "fd00:77::1", 64, NULL), "fd00:77::1/64 not on the device");
	add_addr(&tap, AF_INET, "10.77.0.1", 24);   /* again: replaced, not an error */
	pq_tap_close(&tap);

	open_tap(&tap, "pqtap2", PQ_TAP_MTU_MAX);
	CHECK(ifreq_get("pqtap2", SIOCGIFMTU).ifr_mtu == PQ_TAP_MTU_MAX, "largest MTU not set");
	pq_tap_close(&tap);
}

static void expect_open_error(const char *name, unsigned mtu, const char *dev, int want,
			      const char *want_text)
{
	struct pq_tap tap;
	struct pq_tap_opts opts = { .name = name, .mtu = mtu, .dev_path = dev };
	char err[256] = "";
	int rc = pq_tap_open(&tap, &opts, err, sizeof(err));

	CHECK(rc == want, "open(%s, mtu %u): %s, want %s (%s)", name ? name : "NULL", mtu,
	      pq_strerror(rc), pq_strerror(want), err);
	CHECK(tap.fd == -1, "fd left open after a failed open");
	CHECK(strstr(err, want_text) != NULL, "message \"%s\" lacks \"%s\"", err, want_text);
}

/* Our namespace's sysctl: /proc/sys/net follows the opener's netns. */
static void sysctl_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);

	CHECK(fd >= 0 && write(fd, value, strlen(value)) == (ssize_t)strlen(value), "%s: %s", path,
	      strerror(errno));
	close(fd);
}

/* Every refusal, with its code and a message that says what to do. */
static void body_errors(void)
{
	struct pq_tap tap;
	struct pq_config_cidr cidr = { .family = AF_INET6, .prefix = 64, .addr = { 0xfd } };
	static uint8_t frame[PQ_MAX_GSO_FRAME_LEN + 1];
	struct pq_gso_hdr tso = { .flags = PQ_GSO_F_NEEDS_CSUM, .gso_type = PQ_GSO_TCPV4,
				  .hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	struct pq_gso_hdr bad = tso, hdr;
	uint8_t buf[2048];
	char err[256] = "";
	size_t len;
	int rc;

	expect_open_error("pqtap0", 0, "/nonexistent/tun", PQ_E_IO,
			  "/nonexistent/tun: No such file or directory - is the tun module loaded?");
	expect_open_error("", 0, NULL, PQ_E_INVAL, "is not 1-15 of");
	expect_open_error(NULL, 0, NULL, PQ_E_INVAL, "is not 1-15 of");
	expect_open_error("abcdefghijklmnop", 0, NULL, PQ_E_INVAL, "is not 1-15 of");
	expect_open_error("pq%d", 0, NULL, PQ_E_INVAL, "is not 1-15 of");
	expect_open_error("a b", 0, NULL, PQ_E_INVAL, "is not 1-15 of");
	expect_open_error("..", 0, NULL, PQ_E_INVAL, "is not 1-15 of");
	expect_open_error("pqtap0", PQ_TAP_MTU_MIN - 1, NULL, PQ_E_INVAL, "outside 68-");
	expect_open_error("pqtap0", PQ_TAP_MTU_MAX + 1, NULL, PQ_E_INVAL, "outside 68-");
	expect_open_error("lo", 0, NULL, PQ_E_INVAL, "exists and is not a TAP");

	open_tap(&tap, "pqtap0", 1000);
	expect_open_error("pqtap0", 0, NULL, PQ_E_IO, "another process has this TAP open");
	/* link down: nothing to read, and the kernel refuses writes */
	CHECK(pq_tap_read(&tap, &hdr, buf, sizeof(buf), &len) == PQ_E_AGAIN, "read on an idle TAP");
	memset(frame, 0xff, 6);
	memcpy(frame + 6, my_mac, 6);
	rc = pq_tap_write(&tap, NULL, frame, 60);
	CHECK(rc == PQ_E_IO && strstr(tap.err, "is the link down?"), "write while down: %s (%s)",
	      pq_strerror(rc), tap.err);
	CHECK(pq_tap_write(&tap, NULL, frame, 13) == PQ_E_INVAL, "13-byte frame accepted");
	CHECK(pq_tap_write(&tap, NULL, frame, PQ_MAX_FRAME_LEN + 1) == PQ_E_TOOBIG,
	      "oversized frame accepted without an offload header");
	CHECK(pq_tap_write(&tap, &tso, frame, PQ_MAX_GSO_FRAME_LEN + 1) == PQ_E_TOOBIG,
	      "oversized super-frame accepted");
	bad.flags = PQ_GSO_F_DATA_VALID;
	CHECK(pq_tap_write(&tap, &bad, frame, 3000) == PQ_E_INVAL, "DATA_VALID written");
	bad = tso;
	bad.csum_start = 2990;
	CHECK(pq_tap_write(&tap, &bad, frame, 3000) == PQ_E_INVAL, "checksum past the frame written");
	/* IPv6 needs an MTU of 1280 or more */
	rc = pq_ifaddr_add(tap.name, tap.ifindex, &cidr, err, sizeof(err));
	CHECK(rc == PQ_E_INVAL && strstr(err, "at least 1280"), "IPv6 on MTU 1000: %s (%s)",
	      pq_strerror(rc), err);
	cidr.prefix = 129;
	CHECK(pq_ifaddr_add(tap.name, tap.ifindex, &cidr, err, sizeof(err)) == PQ_E_INVAL,
	      "prefix 129 accepted");
	cidr = (struct pq_config_cidr){ .family = AF_INET, .prefix = 24, .addr = { 10, 0, 0, 1 } };
	rc = pq_ifaddr_add("ghost", 9999, &cidr, err, sizeof(err));
	CHECK(rc == PQ_E_INVAL && strstr(err, "ghost"), "missing device: %s (%s)",
	      pq_strerror(rc), err);
	pq_tap_close(&tap);

	/* IPv6 switched off for the device */
	open_tap(&tap, "pqtap0", 0);
	sysctl_write("/proc/sys/net/ipv6/conf/pqtap0/disable_ipv6", "1");
	cidr = (struct pq_config_cidr){ .family = AF_INET6, .prefix = 64, .addr = { 0xfd, [15] = 1 } };
	rc = pq_ifaddr_add(tap.name, tap.ifindex, &cidr, err, sizeof(err));
	CHECK(rc == PQ_E_PERM && strstr(err, "IPv6 is disabled"), "IPv6 disabled: %s (%s)",
	      pq_strerror(rc), err);
	pq_tap_close(&tap);
}

static void test_arp_roundtrip(void **state)
{
	run_in_netns("tap ARP round trip", body_arp);
}

static void test_addresses(void **state)
{
	run_in_netns("tap addresses", body_addresses);
}

static void test_tso(void **state)
{
	run_in_netns("tap TSO write", body_tso);
}

static void test_errors(void **state)
{
	run_in_netns("tap errors", body_errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_roundtrip),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_tso),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
