/*
 * test_tap_persist.c - the TAP for bridging (net/tap.h, node/ifaddr.h),
 * each case in a network namespace of its own (a forked child that
 * unshares CLONE_NEWNET, as test_tap.c does):
 *
 *   existing TAP  made as `ip tuntap add pqbr0 mode tap user nobody` does
 *                 (TUNSETIFF, TUNSETOWNER, TUNSETPERSIST), then opened:
 *                 existed, kept with its MAC when closed
 *   unprivileged  the same TAP, MTU, MAC, address and IFF_UP already as
 *                 asked: open, address and link up succeed as uid nobody
 *                 with no capability; asking a different MTU fails with
 *                 PQ_E_PERM (so the ioctl is skipped only when equal)
 *   persist       a TAP we create with persist and mac: still there with
 *                 that MAC after close; a non-persistent one is gone
 *
 * Needs root for the namespace; FAILS (never skips) without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/tap.h"
#include "node/ifaddr.h"

#define CHILD_SECONDS 10
#define NOBODY 65534

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

#define CHECK(cond, ...)                         \
	do {                                     \
		if (!(cond))                     \
			child_fail(__VA_ARGS__); \
		checks++;                        \
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
		fail_msg("%s: child killed by signal %d", what, WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: %s", what, msg[0] ? msg : "child failed without a message");
}

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const struct pq_config_cidr addr = { .family = AF_INET, .prefix = 24, .addr = { 10, 88, 0, 1 } };

/* What `ip tuntap add NAME mode tap user nobody` does. */
static void tuntap_add(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	CHECK(fd >= 0, "/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	CHECK(ioctl(fd, TUNSETIFF, &ifr) == 0, "TUNSETIFF: %s", strerror(errno));
	CHECK(ioctl(fd, TUNSETOWNER, (unsigned long)NOBODY) == 0, "TUNSETOWNER: %s", strerror(errno));
	CHECK(ioctl(fd, TUNSETPERSIST, 1UL) == 0, "TUNSETPERSIST: %s", strerror(errno));
	close(fd);
}

static int open_tap(struct pq_tap *tap, const char *name, unsigned mtu, const uint8_t *mac,
		    bool persist, char *err, size_t err_len)
{
	struct pq_tap_opts opts = { .name = name, .mtu = mtu, .mac = mac, .persist = persist };

	return pq_tap_open(tap, &opts, err, err_len);
}

#define OPEN_TUN "/tmp/pq-open-tun/tun"

/* A private mount namespace with a tmpfs holding a 0666 node for the tun
 * device (char 10:200), as udev makes /dev/net/tun on Debian. */
static void make_open_tun(void)
{
	CHECK(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS): %s", strerror(errno));
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private mounts: %s", strerror(errno));
	/* Over /tmp, inside this namespace only: nothing is left behind. */
	CHECK(mount("pqtun", "/tmp", "tmpfs", 0, "mode=0755") == 0, "tmpfs: %s", strerror(errno));
	CHECK(mkdir("/tmp/pq-open-tun", 0755) == 0, "mkdir: %s", strerror(errno));
	CHECK(mknod(OPEN_TUN, S_IFCHR | 0666, makedev(10, 200)) == 0 && chmod(OPEN_TUN, 0666) == 0,
	      "mknod %s: %s", OPEN_TUN, strerror(errno));
}

static int open_tap_dev(struct pq_tap *tap, const char *name, unsigned mtu, char *err, size_t err_len)
{
	struct pq_tap_opts opts = { .name = name, .mtu = mtu, .mac = mac_a, .dev_path = OPEN_TUN };

	return pq_tap_open(tap, &opts, err, err_len);
}

static void check_mac(struct pq_tap *tap, const uint8_t want[6])
{
	uint8_t mac[6];

	CHECK(pq_tap_mac(tap, mac) == 0 && !memcmp(mac, want, 6), "MAC is not the one asked");
}

static void body_existing(void)
{
	struct pq_tap tap;
	char err[256] = "";
	int rc;

	tuntap_add("pqbr0");
	rc = open_tap(&tap, "pqbr0", 1400, mac_a, false, err, sizeof(err));
	CHECK(rc == 0, "open an existing persistent TAP: %s (%s)", pq_strerror(rc), err);
	CHECK(tap.existed && tap.persistent, "existed %d persistent %d", tap.existed, tap.persistent);
	CHECK(tap.mtu == 1400, "MTU %u", tap.mtu);
	check_mac(&tap, mac_a);
	CHECK(pq_ifaddr_add(tap.name, tap.ifindex, &addr, err, sizeof(err)) == 0, "address: %s", err);
	CHECK(pq_tap_set_up(&tap, true, err, sizeof(err)) == 0, "up: %s", err);
	pq_tap_close(&tap);
	CHECK(if_nametoindex("pqbr0") != 0, "closing deleted a TAP we did not create");

	/* Everything as asked: no capability needed. A Debian host's
	 * /dev/net/tun is 0666 (udev); this machine's may be 0600, so the
	 * unprivileged opens go through a 0666 node of our own. */
	make_open_tun();
	CHECK(setresgid(NOBODY, NOBODY, NOBODY) == 0 && setresuid(NOBODY, NOBODY, NOBODY) == 0,
	      "cannot become nobody: %s", strerror(errno));
	rc = open_tap_dev(&tap, "pqbr0", 1400, err, sizeof(err));
	CHECK(rc == 0, "unprivileged open with matching settings: %s (%s)", pq_strerror(rc), err);
	rc = pq_ifaddr_add(tap.name, tap.ifindex, &addr, err, sizeof(err));
	CHECK(rc == 0, "unprivileged, address already there: %s (%s)", pq_strerror(rc), err);
	rc = pq_tap_set_up(&tap, true, err, sizeof(err));
	CHECK(rc == 0, "unprivileged, link already up: %s (%s)", pq_strerror(rc), err);
	pq_tap_close(&tap);
	/* A change does need the capability: proof the skip is conditional. */
	rc = open_tap_dev(&tap, "pqbr0", 1300, err, sizeof(err));
	CHECK(rc == PQ_E_PERM && strstr(err, "cannot set MTU 1300"), "unprivileged MTU change: %s (%s)",
	      pq_strerror(rc), err);
	CHECK(tap.fd < 0, "failed open left the fd open");
	CHECK(if_nametoindex("pqbr0") != 0, "a failed open deleted the persistent TAP");
}

static void body_persist(void)
{
	struct pq_tap tap;
	char err[256] = "";
	int rc;

	rc = open_tap(&tap, "pqbr1", 0, mac_a, true, err, sizeof(err));
	CHECK(rc == 0, "open with persist: %s (%s)", pq_strerror(rc), err);
	CHECK(!tap.existed && tap.persistent && tap.mtu == PQ_TAP_MTU_DEFAULT, "new persistent TAP state");
	check_mac(&tap, mac_a);
	pq_tap_close(&tap);
	CHECK(if_nametoindex("pqbr1") != 0, "persist: the TAP went with its fd");
	rc = open_tap(&tap, "pqbr1", 0, NULL, false, err, sizeof(err));
	CHECK(rc == 0 && tap.existed, "reopen: %s (%s)", pq_strerror(rc), err);
	check_mac(&tap, mac_a);    /* kept, not the kernel's new random one */
	pq_tap_close(&tap);

	rc = open_tap(&tap, "pqbr2", 0, NULL, false, err, sizeof(err));
	CHECK(rc == 0 && !tap.existed && !tap.persistent, "plain open: %s (%s)", pq_strerror(rc), err);
	pq_tap_close(&tap);
	CHECK(if_nametoindex("pqbr2") == 0, "a plain TAP outlived its fd");
	rc = open_tap(&tap, "pqbr3", 0, (const uint8_t[6]){ 0x02, 0, 0, 0, 0, 7 }, false, err, sizeof(err));
	CHECK(rc == 0, "plain open with a MAC: %s (%s)", pq_strerror(rc), err);
	check_mac(&tap, (const uint8_t[6]){ 0x02, 0, 0, 0, 0, 7 });
	pq_tap_close(&tap);
}

static void test_existing(void **state)
{
	run_in_netns("tap existing/unprivileged", body_existing);
}

static void test_persist(void **state)
{
	run_in_netns("tap persist", body_persist);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_existing),
		cmocka_unit_test(test_persist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
