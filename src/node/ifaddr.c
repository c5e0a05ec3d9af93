/*
 * ifaddr.c - RTM_NEWADDR over rtnetlink (rtnetlink(7), netlink(7)): a
 * struct ifaddrmsg followed by IFA_LOCAL, IFA_ADDRESS and, for IPv4,
 * IFA_BROADCAST attributes; NLM_F_ACK asks for an NLMSG_ERROR reply whose
 * error field is 0 or a negative errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/ifaddr.h"

struct addr_req {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	uint8_t attrs[3 * RTA_SPACE(16)];
};

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Append one attribute; the caller sized attrs for every one it adds. */
static void add_attr(struct addr_req *req, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((uint8_t *)req + NLMSG_ALIGN(req->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void build_request(struct addr_req *req, int ifindex, const struct pq_config_cidr *cidr)
{
	size_t alen = cidr->family == AF_INET ? 4 : 16;

	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(sizeof(req->ifa));
	req->nh.nlmsg_type = RTM_NEWADDR;
	req->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	req->nh.nlmsg_seq = 1;
	req->ifa.ifa_family = (uint8_t)cidr->family;
	req->ifa.ifa_prefixlen = (uint8_t)cidr->prefix;
	req->ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req->ifa.ifa_index = (unsigned)ifindex;
	add_attr(req, IFA_LOCAL, cidr->addr, alen);
	add_attr(req, IFA_ADDRESS, cidr->addr, alen);
	if (cidr->family == AF_INET && cidr->prefix < 31) {
		uint8_t brd[4];
		uint32_t host = cidr->prefix == 0 ? 0xffffffffu : (1u << (32 - cidr->prefix)) - 1;
		for (int i = 0; i < 4; i++)
			brd[i] = (uint8_t)(cidr->addr[i] | host >> (24 - 8 * i));
		add_attr(req, IFA_BROADCAST, brd, sizeof(brd));
	}
}

/* Wait for the acknowledgement of seq: 0 or a negative errno. */
static int read_ack(int fd, uint32_t seq)
{
	uint8_t buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		ssize_t got_len;
		int n, got = poll(&pfd, 1, PQ_IFADDR_TIMEOUT_MS);

		if (got == 0)
			return -ETIMEDOUT;
		if (got < 0)
			return -errno;
		got_len = recv(fd, buf, sizeof(buf), 0);
		if (got_len < 0)
			return -errno;
		n = (int)got_len;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			if (nh->nlmsg_seq != seq || nh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error;
		}
	}
}

static int code_of(int e)
{
	switch (e) {
	case EPERM: case EACCES: return PQ_E_PERM;
	case ETIMEDOUT: return PQ_E_TIMEOUT;
	case EINVAL: case ENODEV: return PQ_E_INVAL;
	default: return PQ_E_IO;
	}
}

static const char *hint(int e, int family)
{
	if (family == AF_INET6 && e == EACCES)
		return " - IPv6 is disabled on it (net.ipv6.conf.*.disable_ipv6)";
	if (family == AF_INET6 && e == EINVAL)
		return " - an IPv6 link needs an MTU of at least 1280";
	if (e == ENODEV)
		return " - no such device";
	return "";
}

/* The prefix length of a netmask (contiguous ones, as the kernel keeps them). */
static unsigned mask_prefix(const uint8_t *m, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		for (int b = 7; b >= 0 && (m[i] >> b & 1); b--)
			n++;
	return n;
}

/* Has ifname cidr already, with that prefix? (getifaddrs(3) reads it
 * through an unprivileged RTM_GETADDR dump.) A persistent TAP keeps its
 * address across restarts: then there is nothing to add, and no
 * CAP_NET_ADMIN to need. */
static bool has_address(const char *ifname, const struct pq_config_cidr *cidr)
{
	size_t alen = cidr->family == AF_INET ? 4 : 16;
	struct ifaddrs *all, *a;
	bool found = false;

	if (getifaddrs(&all) != 0)
		return false;
	for (a = all; a && !found; a = a->ifa_next) {
		const uint8_t *ip, *mask;

		if (!a->ifa_addr || !a->ifa_netmask || a->ifa_addr->sa_family != cidr->family ||
		    strcmp(a->ifa_name, ifname))
			continue;
		if (cidr->family == AF_INET) {
			ip = (const uint8_t *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr;
			mask = (const uint8_t *)&((struct sockaddr_in *)a->ifa_netmask)->sin_addr;
		} else {
			ip = (const uint8_t *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
			mask = (const uint8_t *)&((struct sockaddr_in6 *)a->ifa_netmask)->sin6_addr;
		}
		found = !memcmp(ip, cidr->addr, alen) && mask_prefix(mask, alen) == cidr->prefix;
	}
	freeifaddrs(all);
	return found;
}

int pq_ifaddr_add(const char *ifname, int ifindex, const struct pq_config_cidr *cidr, char *err,
		  size_t err_len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char text[INET6_ADDRSTRLEN] = "?";
	struct addr_req req;
	int fd, rc;

	if (ifname == NULL || cidr == NULL || ifindex <= 0)
		return PQ_E_INVAL;
	if ((cidr->family != AF_INET || cidr->prefix < 1 || cidr->prefix > 32) &&
	    (cidr->family != AF_INET6 || cidr->prefix < 1 || cidr->prefix > 128))
		return fail(err, err_len, PQ_E_INVAL, "tap %s: bad address family or prefix",
			    ifname);
	inet_ntop(cidr->family, cidr->addr, text, sizeof(text));
	if (has_address(ifname, cidr))
		return 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return fail(err, err_len, code_of(errno),
			    "tap %s: rtnetlink socket: %s", ifname, strerror(errno));
	build_request(&req, ifindex, cidr);
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		rc = -errno;
	else
		rc = read_ack(fd, req.nh.nlmsg_seq);
	close(fd);
	if (rc == 0)
		return 0;
	return fail(err, err_len, code_of(-rc), "tap %s: cannot add address %s/%u: %s%s",
		    ifname, text, cidr->prefix, strerror(-rc), hint(-rc, cidr->family));
}
