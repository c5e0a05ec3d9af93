/*
 * l2.h - the node's layer-2 forwarding decisions and MAC learning table
 * (DESIGN §6). Pure logic: no I/O, no clock (time comes in as now_ms, any
 * monotonic millisecond count), no global state.
 *
 * Two directions, two calls, and they are not symmetric on purpose:
 *
 *   pq_l2_from_tap()   a frame the kernel wrote to our TAP. Out comes the
 *                      set of peers to seal it to: the one peer that owns
 *                      a known destination MAC, or every established peer
 *                      (flood) for broadcast, multicast and unknown unicast.
 *   pq_l2_from_peer()  an authenticated frame from one peer. It only learns
 *                      the source MAC and says deliver-to-TAP or drop; it
 *                      has no peer set to return, so the rule "a node never
 *                      forwards one peer's frames to another" cannot be
 *                      broken by a caller (DESIGN §6).
 *
 * The table (like a Linux bridge's FDB): source MAC -> peer id, learned
 * only from authenticated frames of peers, never from group (multicast or
 * broadcast, I/G bit set) or all-zero source MACs; such frames are dropped
 * in both directions, as a Linux bridge does (is_valid_ether_addr).
 * An entry expires PQ_L2_AGE_MS after the frame that last refreshed it:
 * seen at t, it is valid for now < t + age and gone at now == t + age.
 * A MAC seen on the TAP side is local, so any peer entry for it is
 * forgotten.
 *
 * Ownership (DESIGN §7 "layer-2 trust", docs/node.md): a MAC learned from
 * a peer stays that peer's until the entry ages out or the peer's session
 * ends (pq_l2_forget_peer). A frame from another peer with that source is
 * dropped (PQ_L2_DROP_MAC_OWNED, counted in move_refused), so one frame
 * with a spoofed source cannot redirect our unicast for that MAC to the
 * spoofer. A host that really moved between peers is reachable through
 * its new peer once the old entry aged out (PQ_L2_AGE_MS) - the price of
 * not trusting one peer's word about another's hosts.
 * Pinning (pq_l2_pin): a peer may be given the list of source MACs it may
 * use; its frames from any other source are dropped (PQ_L2_DROP_NOT_PINNED)
 * and no other peer may use a MAC pinned to it, learned or not.
 *
 * Bounds, and why a hostile peer cannot flush the others' entries:
 * - at most max_entries entries (default 4096);
 * - at most per_peer_max entries per peer (default 1024): a peer at its
 *   cap recycles its own least recently seen entry, never another's;
 * - when the whole table is full, expired entries are reclaimed first,
 *   then the least recently seen entry of the peer that holds the most
 *   entries is evicted. So a peer loses an entry to someone else's
 *   learning only while it holds at least as many as every other peer:
 *   each of n peers keeps at least max_entries / n entries (16 with the
 *   defaults and 256 peers) however the others behave.
 * - lookups hash the MAC with SipHash-2-4 under a caller-supplied random
 *   key, so a peer cannot choose MACs that collide into one long chain.
 *
 * Peer ids are the caller's small integers, 0 .. max_peers-1
 * (max_peers <= PQ_L2_MAX_PEERS); the caller maps them to sessions.
 * When a peer's session ends call pq_l2_forget_peer(): its MACs become
 * unknown and are flooded. A known MAC whose owner is not in the
 * established set is flooded as well.
 */
#ifndef PQ_NODE_L2_H
#define PQ_NODE_L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PQ_L2_MAX_PEERS 256          /* = PQ_CONFIG_MAX_PEERS */
#define PQ_L2_ETH_HLEN 14            /* dst 6, src 6, EtherType 2 */
#define PQ_L2_MAC_LEN 6
#define PQ_L2_AGE_MS 300000u         /* 300 s, the Linux bridge default */
#define PQ_L2_MAX_ENTRIES 4096u
#define PQ_L2_PER_PEER_MAX 1024u
#define PQ_L2_HASH_KEY_LEN 16

/* A set of peer ids: bit i of word i/64 is peer i. */
struct pq_l2_peerset {
	uint64_t bits[PQ_L2_MAX_PEERS / 64];
};

/* Why a frame was not passed on. PQ_L2_PASS (0) means it was. */
enum pq_l2_drop {
	PQ_L2_PASS = 0,
	PQ_L2_DROP_RUNT,     /* shorter than the 14-byte Ethernet header */
	PQ_L2_DROP_TOOBIG,   /* longer than PQ_MAX_GSO_FRAME_LEN */
	PQ_L2_DROP_BAD_SRC,  /* source MAC is a group address or all zero */
	PQ_L2_DROP_NO_PEER,  /* from the TAP, but no peer is established */
	PQ_L2_DROP_BAD_PEER, /* from a peer id out of range (a caller bug) */
	PQ_L2_DROP_MAC_OWNED, /* source MAC belongs to another peer (learned or pinned) */
	PQ_L2_DROP_NOT_PINNED, /* source MAC not in the peer's pinned list */
	PQ_L2_DROP_COUNT
};

/* Where a frame from the TAP goes: every peer in to (at least one). */
struct pq_l2_out {
	struct pq_l2_peerset to;
	bool flooded;                /* broadcast/multicast/unknown unicast */
};

struct pq_l2_limits {
	uint32_t max_peers;          /* 1 .. PQ_L2_MAX_PEERS */
	uint32_t max_entries;        /* 1 .. 1 << 20 */
	uint32_t per_peer_max;       /* 1 .. max_entries */
	uint64_t age_ms;             /* > 0 */
};

/* Counters for `pqlan status`; they only grow. */
struct pq_l2_stats {
	uint64_t learned;            /* new entries */
	uint64_t moved;              /* entries that changed peer (after ageing out) */
	uint64_t move_refused;       /* frames whose source a live entry of another peer owns */
	uint64_t expired;            /* entries that aged out */
	uint64_t recycled;           /* a peer at its cap reused its own oldest */
	uint64_t evicted;            /* table full: the biggest peer's oldest */
	uint64_t drops[PQ_L2_DROP_COUNT];
};

struct pq_l2;

/* The defaults above for max_peers peers. */
void pq_l2_limits_default(struct pq_l2_limits *lim, uint32_t max_peers);

/* A new, empty table. key: 16 random bytes (pq_random_bytes) for the
 * hash. Returns 0, PQ_E_INVAL (limits out of range) or PQ_E_NOMEM. */
PQ_MUST_CHECK int pq_l2_new(struct pq_l2 **out, const struct pq_l2_limits *lim,
			    const uint8_t key[PQ_L2_HASH_KEY_LEN]);
void pq_l2_free(struct pq_l2 *t);

/* A frame read from the TAP. On PQ_L2_PASS, out says which peers to send
 * it to; established holds the peers with a session that can carry data. */
PQ_MUST_CHECK enum pq_l2_drop pq_l2_from_tap(struct pq_l2 *t, const uint8_t *frame, size_t len,
					     const struct pq_l2_peerset *established,
					     uint64_t now_ms, struct pq_l2_out *out);

/* An authenticated frame from peer. PQ_L2_PASS: write it to the TAP, and
 * nowhere else. Learns its source MAC. */
PQ_MUST_CHECK enum pq_l2_drop pq_l2_from_peer(struct pq_l2 *t, uint32_t peer, const uint8_t *frame,
					      size_t len, uint64_t now_ms);

/* Pin peer to the n source MACs in macs (unicast, copied): from then on
 * its frames with another source are dropped, and other peers' frames
 * with one of these are dropped too. n = 0 removes its pins. Returns 0,
 * PQ_E_INVAL (peer out of range, a group or zero MAC, a MAC pinned to
 * another peer, n > PQ_L2_MAX_PINS_PER_PEER) or PQ_E_NOMEM. */
#define PQ_L2_MAX_PINS_PER_PEER 32
PQ_MUST_CHECK int pq_l2_pin(struct pq_l2 *t, uint32_t peer, const uint8_t (*macs)[PQ_L2_MAC_LEN],
			    size_t n);

/* The peer that owns mac now: 0 and *peer, or PQ_E_PEER if unknown or
 * expired (for status output and tests; it does not refresh the entry). */
PQ_MUST_CHECK int pq_l2_lookup(const struct pq_l2 *t, const uint8_t mac[PQ_L2_MAC_LEN],
			       uint64_t now_ms, uint32_t *peer);

/* Drop every entry of peer (its session ended). */
void pq_l2_forget_peer(struct pq_l2 *t, uint32_t peer);

/* Remove the entries expired at now_ms; returns how many. Expired entries
 * are never used even if not yet removed; call this from a timer to give
 * their room back. */
size_t pq_l2_expire(struct pq_l2 *t, uint64_t now_ms);

/* The time the next entry expires: true and *when_ms, false if empty. */
bool pq_l2_next_expiry(const struct pq_l2 *t, uint64_t *when_ms);

/* l2_log.c, the one part that does I/O: one log line for a frame from
 * peer (named label) dropped for MAC ownership or pinning, at most one a
 * second per table (the rest counted and summed up in the next line);
 * other reasons are not logged. */
void pq_l2_log_drop(struct pq_l2 *t, const char *label, enum pq_l2_drop why,
		    const uint8_t *frame, uint64_t now_ms);
/* For l2_log.c: true at most once per period_ms (else the drop is counted
 * in *suppressed, which is read and reset when true is returned). */
bool pq_l2_log_due(struct pq_l2 *t, uint64_t now_ms, uint64_t period_ms, uint64_t *suppressed);

size_t pq_l2_count(const struct pq_l2 *t);
size_t pq_l2_peer_count(const struct pq_l2 *t, uint32_t peer);
const struct pq_l2_stats *pq_l2_stats(const struct pq_l2 *t);
const char *pq_l2_drop_name(enum pq_l2_drop reason);

/* A group address: the I/G bit, the least significant bit of the first
 * octet (IEEE 802-2014 §8.2); broadcast ff:ff:ff:ff:ff:ff is one. */
static inline bool pq_l2_mac_is_group(const uint8_t mac[PQ_L2_MAC_LEN])
{
	return (mac[0] & 1) != 0;
}

static inline void pq_l2_peerset_clear(struct pq_l2_peerset *s)
{
	for (size_t i = 0; i < PQ_L2_MAX_PEERS / 64; i++)
		s->bits[i] = 0;
}

static inline void pq_l2_peerset_add(struct pq_l2_peerset *s, uint32_t peer)
{
	if (peer < PQ_L2_MAX_PEERS)
		s->bits[peer / 64] |= (uint64_t)1 << (peer % 64);
}

static inline void pq_l2_peerset_del(struct pq_l2_peerset *s, uint32_t peer)
{
	if (peer < PQ_L2_MAX_PEERS)
		s->bits[peer / 64] &= ~((uint64_t)1 << (peer % 64));
}

static inline bool pq_l2_peerset_has(const struct pq_l2_peerset *s, uint32_t peer)
{
	return peer < PQ_L2_MAX_PEERS && (s->bits[peer / 64] >> (peer % 64) & 1) != 0;
}

static inline size_t pq_l2_peerset_count(const struct pq_l2_peerset *s)
{
	size_t n = 0;

	for (size_t i = 0; i < PQ_L2_MAX_PEERS / 64; i++)
		n += (size_t)__builtin_popcountll(s->bits[i]);
	return n;
}

#endif
