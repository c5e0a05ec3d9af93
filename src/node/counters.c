/*
 * counters.c - the one table of per-peer counters that every report shows:
 * `pqlan status --json` (its keys, in this order) and the Prometheus
 * endpoint (its metric names and help), so the two never disagree; the
 * text status shows the same values in sentences.
 */
#include "node/node_int.h"

const struct pq_peer_counter_info pq_peer_counters[PQ_PC_COUNT] = {
	[PQ_PC_RX_BYTES] = { "rx_bytes", "pqlan_peer_rx_bytes_total",
			     "Ethernet frame bytes received from the peer." },
	[PQ_PC_TX_BYTES] = { "tx_bytes", "pqlan_peer_tx_bytes_total", "Ethernet frame bytes sent to the peer." },
	[PQ_PC_RX_FRAMES] = { "rx_frames", "pqlan_peer_rx_frames_total", "Ethernet frames received from the peer." },
	[PQ_PC_TX_FRAMES] = { "tx_frames", "pqlan_peer_tx_frames_total", "Ethernet frames sent to the peer." },
	[PQ_PC_DROPPED] = { "dropped_frames", "pqlan_peer_dropped_frames_total",
			    "Messages from the peer refused, plus frames to it lost to a full queue." },
	[PQ_PC_RX_GSO] = { "rx_gso_frames", "pqlan_peer_rx_gso_frames_total",
			   "Frames received from the peer with an offload header (DATA_GSO)." },
	[PQ_PC_TX_GSO] = { "tx_gso_frames", "pqlan_peer_tx_gso_frames_total",
			   "Frames sent to the peer with an offload header (DATA_GSO)." },
	[PQ_PC_MIGRATIONS] = { "migrations", "pqlan_peer_migrations_total",
			       "Moves from the relay to a direct connection." },
	[PQ_PC_FALLBACKS] = { "fallbacks", "pqlan_peer_fallbacks_total",
			      "Moves from a direct connection back to the relay." },
	[PQ_PC_REHS] = { "rehandshakes", "pqlan_peer_rehandshakes_total",
			 "Re-handshakes completed on direct connections." },
	[PQ_PC_REHS_FAIL] = { "rehandshake_failures", "pqlan_peer_rehandshake_failures_total",
			      "Re-handshakes that failed, for any reason." },
	[PQ_PC_DIALS] = { "direct_dials", "pqlan_peer_direct_dials_total",
			  "Direct paths tried: TLS dials and UDP attempts." },
	[PQ_PC_UDP_ATTEMPTS] = { "udp_attempts", "pqlan_peer_udp_attempts_total",
				 "UDP path attempts started by us (hole punching)." },
	[PQ_PC_UDP_VALIDATED] = { "udp_validated", "pqlan_peer_udp_validated_total",
				  "UDP paths whose re-handshake completed (either side's attempt)." },
	[PQ_PC_UDP_FAILED] = { "udp_failures", "pqlan_peer_udp_failures_total",
			       "UDP paths dropped before their re-handshake completed." },
	[PQ_PC_UDP_REFUSED] = { "udp_refused", "pqlan_peer_udp_refused_total",
				"Re-handshake datagrams refused on UDP (forged, replayed, late)." },
	[PQ_PC_RX_FRAG] = { "rx_frag_frames", "pqlan_peer_rx_frag_frames_total",
			    "Frames received from the peer in pieces (DATA_FRAG, too large for one datagram)." },
	[PQ_PC_TX_FRAG] = { "tx_frag_frames", "pqlan_peer_tx_frag_frames_total",
			    "Frames sent to the peer in pieces (DATA_FRAG, too large for one datagram)." },
};

uint64_t pq_peer_counter_value(const struct pq_node_peer *p, enum pq_peer_counter c)
{
	switch (c) {
	case PQ_PC_RX_BYTES:
		return p->count.rx_bytes;
	case PQ_PC_TX_BYTES:
		return p->count.tx_bytes;
	case PQ_PC_RX_FRAMES:
		return p->count.rx_frames;
	case PQ_PC_TX_FRAMES:
		return p->count.tx_frames;
	case PQ_PC_DROPPED:
		return p->count.dropped_frames;
	case PQ_PC_RX_GSO:
		return p->count.rx_gso_frames;
	case PQ_PC_TX_GSO:
		return p->count.tx_gso_frames;
	case PQ_PC_MIGRATIONS:
		return p->path.core.count.migrations;
	case PQ_PC_FALLBACKS:
		return p->path.core.count.fallbacks;
	case PQ_PC_REHS:
		return p->path.rehs_count.completed;
	case PQ_PC_REHS_FAIL:
		return pq_path_exec_rehs_failures(p);
	case PQ_PC_DIALS:
		return p->path.core.count.dials;
	case PQ_PC_UDP_ATTEMPTS:
		return p->path.core.count.udp_attempts;
	case PQ_PC_UDP_VALIDATED:
		return p->path.core.count.udp_validated;
	case PQ_PC_UDP_FAILED:
		return p->path.core.count.udp_failed;
	case PQ_PC_UDP_REFUSED:
		return p->path.udp_refused;
	case PQ_PC_RX_FRAG:
		return p->count.rx_frag_frames;
	case PQ_PC_TX_FRAG:
		return p->count.tx_frag_frames;
	case PQ_PC_COUNT:
	default:
		return 0;
	}
}
