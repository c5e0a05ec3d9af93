/*
 * ifaddr.h - give the TAP its address from node.conf (`address =
 * IP/PREFIX`, DESIGN §7), through rtnetlink (RTM_NEWADDR, rtnetlink(7)),
 * as `ip address replace` would, without running ip(8).
 *
 * One request, one acknowledgement, on a NETLINK_ROUTE socket opened and
 * closed by the call; the wait for the kernel's answer is bounded
 * (PQ_IFADDR_TIMEOUT_MS). An IPv4 address gets the subnet's broadcast
 * address, as `ip address add ... brd +` does. The address disappears
 * with the device, so there is no matching delete.
 */
#ifndef PQ_NODE_IFADDR_H
#define PQ_NODE_IFADDR_H

#include <stddef.h>

#include "node/config.h"
#include "util/err.h"

#define PQ_IFADDR_TIMEOUT_MS 2000

/* Add (or replace) cidr on the interface ifindex, named ifname in
 * messages; an address the device has already (a persistent TAP) is left
 * alone, without a privileged request. Returns 0 or, with a message in err:
 *   PQ_E_INVAL   bad family or prefix; the kernel refused the request
 *   PQ_E_PERM    no CAP_NET_ADMIN, or IPv6 is disabled on the device
 *   PQ_E_TIMEOUT the kernel did not answer in time
 *   PQ_E_IO      any other failure */
PQ_MUST_CHECK int pq_ifaddr_add(const char *ifname, int ifindex,
				const struct pq_config_cidr *cidr, char *err, size_t err_len);

#endif
