/*
 * sock_tcpinfo.c - what the kernel knows of a TCP connection's path
 * (TCP_INFO). Apart from sock.c: tcpi_min_rtt is in the kernel's
 * <linux/tcp.h> only, which clashes with glibc's <netinet/tcp.h>.
 */
#include "net/sock.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

int pq_sock_tcp_path(int fd, struct pq_sock_path *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	memset(out, 0, sizeof(*out));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return pq_sock_errno(errno);
	out->srtt_us = ti.tcpi_rtt;
	/* the peer's segments as received; our own (advmss) only before any:
	 * a jumbo-frame host may face a 1500-byte path */
	out->mss = ti.tcpi_rcv_mss ? ti.tcpi_rcv_mss : ti.tcpi_advmss;
	/* Older kernels return a shorter struct; no sample yet is ~0U. */
	if (len >= offsetof(struct tcp_info, tcpi_min_rtt) + sizeof(ti.tcpi_min_rtt) && ti.tcpi_min_rtt != UINT32_MAX)
		out->min_rtt_us = ti.tcpi_min_rtt;
	if (len >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
		out->acked = ti.tcpi_bytes_acked;
	if (len >= offsetof(struct tcp_info, tcpi_notsent_bytes) + sizeof(ti.tcpi_notsent_bytes))
		out->notsent = ti.tcpi_notsent_bytes;
	if (len >= offsetof(struct tcp_info, tcpi_busy_time) + sizeof(ti.tcpi_busy_time))
		out->busy_us = ti.tcpi_busy_time;
	return 0;
}
