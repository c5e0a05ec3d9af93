/*
 * gen_corpus.c - writes the seed corpora of four fuzz targets,
 * tests/fuzz/corpus/<target>/, with the project's own encoders and state
 * machines, and checks that every seed does what its name says before
 * writing it (a datagram classifies as the kind it is meant to be, an
 * operation sequence moves the MAC table counter it is there for, an
 * event sequence takes the path core to the state it is named after). A
 * format change then fails here instead of leaving seeds that quietly
 * reach nothing.
 *
 *   fuzz_dgram    a UDP datagram of each kind: STUN, the three
 *                 re-handshake messages, each sealed type (really sealed),
 *                 and near misses
 *   fuzz_l2       MAC table programs: learning, unicast and flooding,
 *                 ownership, caps, eviction, ageing, malformed frames
 *   fuzz_msg_fed  presence records, forward envelopes, KV keys, and
 *                 records one field away from valid
 *   fuzz_path     event sequences: TLS and UDP migration, probe loss,
 *                 crossing dials, re-authentication, proof timeout,
 *                 policy changes, refused events
 *
 * fuzz_l2 and fuzz_path read a program, not a message: their writers
 * below decode each step exactly as the target does (see the comment at
 * the top of tests/fuzz/fuzz_l2.c and fuzz_path.c) and run it, so the
 * checks see what the fuzzer will. Keep them in step with the targets.
 * The other targets' seeds were made by hand and are not written here.
 *
 *   make fuzz-corpus        ($(BUILD)/tests/fuzz/gen_corpus tests/fuzz/corpus)
 *
 * Deterministic (fixed keys, ids, clocks): a rerun writes the same bytes.
 * GEN_CORPUS_TRACE=1 prints each path event with the actions it drew
 * (type/slot/reason), for writing a new fuzz_path seed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/l2.h"
#include "proto/dgram.h"
#include "proto/gso_hdr.h"
#include "proto/msg_fed.h"
#include "proto/msg_rehs.h"
#include "proto/msg_sealed.h"
#include "proto/path.h"
#include "proto/path_check.h"
#include "proto/session.h"
#include "proto/stun.h"

#include "fuzz/l2_prog.h"
#include "fuzz/path_prog.h"

#define NOW 1700000000000ULL

static const char *top;
static unsigned written;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("gen_corpus: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

#define EXPECT(c, ...)                    \
	do {                              \
		if (!(c))                 \
			die(__VA_ARGS__); \
	} while (0)

static void seed(const char *target, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, target);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(buf, 1, len, f) != len) || fclose(f))
		die("write %s: %s", path, strerror(errno));
	written++;
}

/* ---- fuzz_dgram ---------------------------------------------------- */

static struct pq_session dg_tx;

/* A session with fixed keys, as fuzz_msg_sealed builds one. */
static void dgram_session(void)
{
	struct pq_hs_result r;

	memset(&r, 0, sizeof(r));
	r.event = PQ_HS_EV_KEYS;
	r.initiator = 1;
	r.confirmed = 1;
	r.local_index = 0x01020304;
	r.remote_index = 0x0a0b0c0d;
	memset(r.keys.key_i2r, 0x11, sizeof(r.keys.key_i2r));
	memset(r.keys.key_r2i, 0x22, sizeof(r.keys.key_r2i));
	for (unsigned i = 0; i < PQ_SESSION_ID_LEN; i++)
		r.keys.session_id[i] = (uint8_t)(0xa0 + i);
	pq_session_init(&dg_tx);
	EXPECT(pq_session_install(&dg_tx, &r, NOW) == 0, "session install");
}

static void dgram_seed(const char *name, const uint8_t *buf, size_t len, enum pq_dgram_kind want)
{
	struct pq_dgram d;

	EXPECT(pq_dgram_classify(buf, len, &d) == want, "fuzz_dgram/%s: classified %d, not %d", name,
	       (int)d.kind, (int)want);
	seed("fuzz_dgram", name, buf, len);
}

/* Seal pt as type on the fixed session: a datagram the classifier takes
 * as sealed, of that type, for the peer's receiver index. */
static void sealed_seed(const char *name, uint8_t type, const uint8_t *pt, size_t pt_len)
{
	static uint8_t wire[PQ_SEALED_MAX_LEN];
	long n = pq_session_seal(&dg_tx, type, pt, pt_len, wire, sizeof(wire), NOW);
	struct pq_dgram d;

	EXPECT(n == (long)(pt_len + PQ_SEALED_OVERHEAD), "fuzz_dgram/%s: seal %ld", name, n);
	dgram_seed(name, wire, (size_t)n, PQ_DGRAM_SEALED);
	EXPECT(pq_dgram_classify(wire, (size_t)n, &d) == PQ_DGRAM_SEALED && d.type == type &&
	       d.receiver_index == 0x0a0b0c0d, "fuzz_dgram/%s: header", name);
}

/* An Ethernet frame: dst, src, EtherType, then body. */
static size_t eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type,
		  const uint8_t *body, size_t body_len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	if (body_len)
		memcpy(f + 14, body, body_len);
	return 14 + body_len;
}

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void gen_dgram(void)
{
	static uint8_t buf[2048], frame[256], pt[2048];
	static const uint8_t txid[PQ_STUN_TXID_LEN] = { 'p', 'q', 'l', 'a', 'n', '-',
							's', 'e', 'e', 'd', '0', '1' };
	static const uint8_t v4_src[4] = { 198, 51, 100, 7 };
	static const uint8_t v4_ep[4] = { 192, 0, 2, 1 };
	static const uint8_t v6_ep[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
	uint8_t req[128];
	struct pq_endpoint src;
	struct pq_endpoints eps;
	struct pq_rehs_request rq;
	struct pq_rehs_response rs;
	struct pq_rehs_complete rc;
	struct pq_gso_hdr gh;
	size_t len, flen;
	long n, req_len;

	dgram_session();

	/* STUN: our Binding request, the server's answers (v4, v6). */
	req_len = pq_stun_binding_request(txid, "pqlan", true, req, sizeof(req));
	EXPECT(req_len > 0, "stun request");
	dgram_seed("stun_request", req, (size_t)req_len, PQ_DGRAM_STUN);
	memset(&src, 0, sizeof(src));
	pq_endpoint_set_v4(&src, v4_src, 40001);
	n = pq_stun_respond(req, (size_t)req_len, &src, buf, sizeof(buf));
	EXPECT(n > 0, "stun respond v4");
	dgram_seed("stun_success_v4", buf, (size_t)n, PQ_DGRAM_STUN);
	memset(&src, 0, sizeof(src));
	src.family = PQ_EP_FAMILY_V6;
	memcpy(src.addr, v6_ep, 16);
	src.port = 51820;
	n = pq_stun_respond(req, (size_t)req_len, &src, buf, sizeof(buf));
	EXPECT(n > 0, "stun respond v6");
	dgram_seed("stun_success_v6", buf, (size_t)n, PQ_DGRAM_STUN);
	/* Near miss: the magic cookie wrong, so neither STUN nor anything else. */
	memcpy(buf, req, (size_t)req_len);
	buf[4] ^= 0x01;
	dgram_seed("stun_bad_cookie", buf, (size_t)req_len, PQ_DGRAM_BAD);

	/* The re-handshake, on the session's id. */
	memcpy(rq.session_id, dg_tx.current->session_id, PQ_SESSION_ID_LEN);
	for (unsigned i = 0; i < PQ_REHS_CHALLENGE_LEN; i++)
		rq.challenge[i] = (uint8_t)(0x40 + i);
	rq.timestamp_ms = NOW;
	EXPECT(pq_rehs_request_encode(buf, sizeof(buf), &len, &rq) == 0, "rehs request");
	dgram_seed("rehs_request", buf, len, PQ_DGRAM_REHS);
	buf[len] = 0;
	dgram_seed("rehs_request_long", buf, len + 1, PQ_DGRAM_BAD);
	memcpy(rs.session_id, rq.session_id, PQ_SESSION_ID_LEN);
	memset(rs.mac, 0x5a, sizeof(rs.mac));
	for (unsigned i = 0; i < PQ_REHS_CHALLENGE_LEN; i++)
		rs.counter_challenge[i] = (uint8_t)(0x80 + i);
	rs.timestamp_ms = NOW + 3;
	EXPECT(pq_rehs_response_encode(buf, sizeof(buf), &len, &rs) == 0, "rehs response");
	dgram_seed("rehs_response", buf, len, PQ_DGRAM_REHS);
	memcpy(rc.session_id, rq.session_id, PQ_SESSION_ID_LEN);
	memset(rc.mac, 0xa5, sizeof(rc.mac));
	rc.timestamp_ms = NOW + 5;
	EXPECT(pq_rehs_complete_encode(buf, sizeof(buf), &len, &rc) == 0, "rehs complete");
	dgram_seed("rehs_complete", buf, len, PQ_DGRAM_REHS);

	/* Sealed, one of each type. DATA: an ARP request, and the bare header. */
	{
		static const uint8_t arp[28] = {
			0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
			0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 10, 9, 0, 1,
			0, 0, 0, 0, 0, 0, 10, 9, 0, 2,
		};

		flen = eth(frame, mac_bcast, mac_a, 0x0806, arp, sizeof(arp));
		sealed_seed("data_arp", PQ_MSG_DATA, frame, flen);
		flen = eth(frame, mac_b, mac_a, 0x88b5, NULL, 0);
		sealed_seed("data_min", PQ_MSG_DATA, frame, flen);
	}
	sealed_seed("keepalive", PQ_MSG_KEEPALIVE, NULL, 0);
	memset(&eps, 0, sizeof(eps));
	eps.count = 2;
	pq_endpoint_set_v4(&eps.ep[0], v4_ep, 51820);
	eps.ep[0].transport = PQ_EP_UDP;
	eps.ep[1].family = PQ_EP_FAMILY_V6;
	eps.ep[1].transport = PQ_EP_TLS;
	memcpy(eps.ep[1].addr, v6_ep, 16);
	eps.ep[1].port = 443;
	n = pq_endpoints_encode(&eps, pt, sizeof(pt));
	EXPECT(n > 0, "endpoints");
	sealed_seed("endpoints", PQ_MSG_ENDPOINTS, pt, (size_t)n);
	{
		uint8_t id[PQ_PUNCH_ID_LEN];

		for (unsigned i = 0; i < sizeof(id); i++)
			id[i] = (uint8_t)(0x31 * (i + 1));
		EXPECT(pq_probe_encode(id, pt, sizeof(pt)) == PQ_PROBE_ID_LEN, "probe");
		sealed_seed("probe", PQ_MSG_PROBE, pt, PQ_PROBE_ID_LEN);
		sealed_seed("probe_ack", PQ_MSG_PROBE_ACK, pt, PQ_PROBE_ID_LEN);
		sealed_seed("punch", PQ_MSG_PUNCH, id, PQ_PUNCH_ID_LEN);
	}
	/* DATA_GSO: a checksum-offload header over an IPv4/TCP frame. */
	{
		uint8_t ip_tcp[40 + 6] = {
			0x45, 0, 0, 46, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2,
			0xc3, 0x50, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff,
			0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o', '\n',
		};

		flen = eth(frame, mac_b, mac_a, PQ_ETH_P_IPV4, ip_tcp, sizeof(ip_tcp));
		memset(&gh, 0, sizeof(gh));
		gh.flags = PQ_GSO_F_NEEDS_CSUM;
		gh.csum_start = 14 + 20;
		gh.csum_offset = PQ_GSO_TCP_CSUM_OFF;
		EXPECT(pq_gso_hdr_encode(&gh, flen, pt, sizeof(pt)) == PQ_GSO_HDR_LEN, "gso hdr");
		memcpy(pt + PQ_GSO_HDR_LEN, frame, flen);
		sealed_seed("data_gso_csum", PQ_MSG_DATA_GSO, pt, PQ_GSO_HDR_LEN + flen);
	}
	/* PMTU: a probe whose IPv4 packet is the minimum 1280 bytes, its ack. */
	memset(pt, 0, sizeof(pt));
	sealed_seed("pmtu_probe_1280", PQ_MSG_PMTU_PROBE, pt, PQ_PMTU_MIN - 28 - PQ_SEALED_OVERHEAD);
	pq_pmtu_ack_encode(PQ_PMTU_MIN, pt);
	sealed_seed("pmtu_ack", PQ_MSG_PMTU_ACK, pt, PQ_PMTU_ACK_LEN);

	/* Near misses: a sealed PROBE one byte short, a type past the last
	 * sealed one, a handshake message (never on UDP). */
	EXPECT(pq_probe_encode((const uint8_t *)"shortone", pt, sizeof(pt)) == PQ_PROBE_ID_LEN, "probe");
	n = pq_session_seal(&dg_tx, PQ_MSG_PROBE, pt, PQ_PROBE_ID_LEN, buf, sizeof(buf), NOW);
	EXPECT(n > 0, "seal");
	dgram_seed("probe_truncated", buf, (size_t)n - 1, PQ_DGRAM_BAD);
	buf[0] = PQ_MSG_DATA_FRAG + 1;
	dgram_seed("sealed_unknown_type", buf, (size_t)n, PQ_DGRAM_BAD);
	memset(buf, 0, 64);
	buf[0] = PQ_MSG_HS_INIT;
	dgram_seed("hs_init_prefix", buf, 64, PQ_DGRAM_BAD);

	pq_session_wipe(&dg_tx);
}

/* ---- fuzz_msg_fed -------------------------------------------------- */

static void key_fill(uint8_t key[PQ_PUBKEY_LEN], uint8_t hi, uint8_t lo)
{
	key[0] = hi;
	key[1] = lo;
	for (unsigned i = 2; i < PQ_PUBKEY_LEN; i++)
		key[i] = (uint8_t)(hi * 31 + lo * 7 + i);
}

static void fed_seed(const char *name, const uint8_t *buf, size_t len, int want)
{
	struct pq_fed_presence p;
	struct pq_fed_forward f;
	uint8_t key[PQ_PUBKEY_LEN];
	int got = pq_fed_presence_decode(&p, buf, len) == 0 ? 1
		: pq_fed_forward_decode(&f, buf, len) == 0 ? 2
		: pq_fed_key_from_hex(key, (const char *)buf, len) == 0 ? 3 : 0;

	EXPECT(got == want, "fuzz_msg_fed/%s: accepted as %d, not %d", name, got, want);
	seed("fuzz_msg_fed", name, buf, len);
}

static void gen_fed(void)
{
	static uint8_t keys[PQ_RELAY_WATCH_MAX][PQ_PUBKEY_LEN];
	static uint8_t buf[PQ_FED_FORWARD_MAX];
	static const uint8_t v4[4] = { 203, 0, 113, 9 };
	struct pq_fed_presence p;
	struct pq_fed_forward f;
	struct pq_endpoint ep = { 0 };
	char hex[PQ_FED_KEY_HEX_LEN + 1];
	uint8_t sealed[128];
	long n;

	for (unsigned i = 0; i < PQ_RELAY_WATCH_MAX; i++)
		key_fill(keys[i], 0x10, (uint8_t)i);

	/* Presence: no watch list yet (v4), three keys (v6), the largest. */
	memset(&p, 0, sizeof(p));
	strcpy(p.relay, "relay-a");
	pq_endpoint_set_v4(&ep, v4, 40000);
	p.observed.family = PQ_ADDR_V4;
	memcpy(p.observed.addr, ep.addr, 16);
	p.observed.port = 40000;
	n = pq_fed_presence_encode(&p, buf, sizeof(buf));
	EXPECT(n > 0, "presence 0");
	fed_seed("presence_v4_none", buf, (size_t)n, 1);

	strcpy(p.relay, "eu_west-2");
	memset(&p.observed, 0, sizeof(p.observed));
	p.observed.family = PQ_ADDR_V6;
	p.observed.addr[0] = 0x20;
	p.observed.addr[1] = 0x01;
	p.observed.addr[2] = 0x0d;
	p.observed.addr[3] = 0xb8;
	p.observed.addr[15] = 0x07;
	p.observed.port = 443;
	p.watch = keys[0];
	p.count = 3;
	n = pq_fed_presence_encode(&p, buf, sizeof(buf));
	EXPECT(n > 0, "presence 3");
	fed_seed("presence_v6_three", buf, (size_t)n, 1);
	/* The same with two keys out of order: refused. */
	{
		uint8_t tmp[PQ_PUBKEY_LEN];
		uint8_t *k0 = buf + (size_t)n - 3 * PQ_PUBKEY_LEN;

		memcpy(tmp, k0, PQ_PUBKEY_LEN);
		memcpy(k0, k0 + PQ_PUBKEY_LEN, PQ_PUBKEY_LEN);
		memcpy(k0 + PQ_PUBKEY_LEN, tmp, PQ_PUBKEY_LEN);
		fed_seed("presence_unsorted", buf, (size_t)n, 0);
	}

	memset(p.relay, 'z', PQ_FED_NAME_MAX);
	p.relay[PQ_FED_NAME_MAX] = 0;
	p.relay[0] = 'R';
	p.relay[PQ_FED_NAME_MAX - 1] = '9';
	p.count = PQ_RELAY_WATCH_MAX;
	n = pq_fed_presence_encode(&p, buf, sizeof(buf));
	EXPECT(n == (long)PQ_FED_PRESENCE_MAX, "presence max");
	fed_seed("presence_max", buf, (size_t)n, 1);

	/* Forward: the smallest, a sealed DATA message as its payload, the
	 * longest name; then one with src == dst (refused). */
	memset(&f, 0, sizeof(f));
	strcpy(f.relay, "r");
	key_fill(f.src, 0x01, 0x01);
	key_fill(f.dst, 0x02, 0x02);
	sealed[0] = PQ_MSG_KEEPALIVE;
	f.payload = sealed;
	f.payload_len = PQ_RELAY_PAYLOAD_MIN;
	n = pq_fed_forward_encode(&f, buf, sizeof(buf));
	EXPECT(n == (long)PQ_FED_FORWARD_MIN, "forward min");
	fed_seed("forward_min", buf, (size_t)n, 2);

	dgram_session();
	{
		uint8_t frame[64];
		size_t flen = eth(frame, mac_b, mac_a, 0x88b5, (const uint8_t *)"pqlan", 5);
		long sl = pq_session_seal(&dg_tx, PQ_MSG_DATA, frame, flen, sealed, sizeof(sealed), NOW);

		EXPECT(sl > 0, "seal");
		f.payload_len = (size_t)sl;
	}
	pq_session_wipe(&dg_tx);
	strcpy(f.relay, "relay-b");
	n = pq_fed_forward_encode(&f, buf, sizeof(buf));
	EXPECT(n > 0, "forward sealed");
	fed_seed("forward_sealed_data", buf, (size_t)n, 2);

	memcpy(f.relay, p.relay, sizeof(f.relay));
	n = pq_fed_forward_encode(&f, buf, sizeof(buf));
	EXPECT(n > 0, "forward long name");
	fed_seed("forward_name_max", buf, (size_t)n, 2);
	memcpy(buf + 2 + PQ_FED_NAME_MAX + PQ_PUBKEY_LEN, f.src, PQ_PUBKEY_LEN);
	fed_seed("forward_src_is_dst", buf, (size_t)n, 0);

	/* A relay name with a character a NATS subject token cannot hold. */
	strcpy(f.relay, "relay-b");
	n = pq_fed_forward_encode(&f, buf, sizeof(buf));
	EXPECT(n > 0, "forward");
	buf[2 + 5] = '.';
	fed_seed("forward_bad_name", buf, (size_t)n, 0);

	/* KV keys: lowercase hex of a node key, and the same in capitals. */
	pq_fed_key_to_hex(hex, keys[1]);
	fed_seed("kv_key", (const uint8_t *)hex, PQ_FED_KEY_HEX_LEN, 3);
	for (unsigned i = 0; i < PQ_FED_KEY_HEX_LEN; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	fed_seed("kv_key_upper", (const uint8_t *)hex, PQ_FED_KEY_HEX_LEN, 0);
}

/* ---- fuzz_l2 --------------------------------------------------------
 * Input: tests/fuzz/l2_prog.h, which decodes and runs it for both
 * programs. */

/* One tick more than the age (59 x 17 = 1003 ms > 1000). */
#define L2_AGE_TICKS (L2_PROG_AGE_MS / L2_PROG_TICK_MS + 1)

/* MAC bytes as l2_prog_mac reads them. */
#define U(n) ((uint8_t)((n) << 2))          /* unicast */
#define G(n) ((uint8_t)((n) << 2 | 1))      /* group */
#define BCAST 0xff

struct l2w {
	uint8_t buf[512];
	size_t n;
};

static void l2_begin(struct l2w *w, unsigned peers, unsigned entries, unsigned cap)
{
	w->buf[0] = (uint8_t)(peers - 1);
	w->buf[1] = (uint8_t)(entries - 1);
	w->buf[2] = (uint8_t)(cap - 1);
	w->n = 3;
}

static void l2_op(struct l2w *w, unsigned kind, unsigned ticks, unsigned peer, uint8_t src,
		  uint8_t dst)
{
	EXPECT(w->n + 4 <= sizeof(w->buf) && ticks < 64, "l2 op");
	w->buf[w->n++] = (uint8_t)(kind | ticks << 2);
	w->buf[w->n++] = (uint8_t)peer;
	w->buf[w->n++] = src;
	w->buf[w->n++] = dst;
}

/* Run w as fuzz_l2 does: the table's counters and final entry count, how
 * many peer frames went to the TAP, how many TAP frames went to one peer
 * (unicast) or were flooded. */
struct l2_result {
	struct pq_l2_stats st;
	size_t count;
	unsigned delivered, unicast, flooded;
};

static void l2_run(const struct l2w *w, struct l2_result *res)
{
	static const uint8_t key[PQ_L2_HASH_KEY_LEN] = { 1, 2, 3 };
	struct pq_l2_limits lim;
	struct pq_l2 *t = NULL;
	uint64_t now = 0;

	memset(res, 0, sizeof(*res));
	l2_prog_limits(w->buf, &lim);
	EXPECT(pq_l2_new(&t, &lim, key) == 0, "l2 new");
	for (size_t off = 3; off + 4 <= w->n; off += 4) {
		struct l2_prog_op o;
		struct pq_l2_out out;
		bool passed;

		l2_prog_op(w->buf + off, &lim, &now, &o);
		passed = l2_prog_run(t, &o, now, &out) == PQ_L2_PASS;
		if (passed && o.kind == L2_PROG_PEER)
			res->delivered++;
		if (passed && o.kind == L2_PROG_TAP)
			*(out.flooded ? &res->flooded : &res->unicast) += 1;
	}
	res->st = *pq_l2_stats(t);
	res->count = pq_l2_count(t);
	pq_l2_free(t);
}

static void l2_seed(const char *name, const struct l2w *w)
{
	seed("fuzz_l2", name, w->buf, w->n);
}

static void gen_l2(void)
{
	struct l2w w;
	struct l2_result r;

	/* Two peers learn a MAC each; the TAP's frames to them go to one
	 * peer, to an unknown MAC and to broadcast and multicast flood. */
	l2_begin(&w, 2, 32, 32);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(1), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 1, U(2), U(1));
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(3), U(1));
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(3), U(2));
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(3), U(9));
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(3), BCAST);
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(3), G(5));
	l2_op(&w, L2_PROG_PEER, 1, 1 + 3 * 1, U(2), U(3));   /* peer 1, 39-byte frame */
	l2_run(&w, &r);
	EXPECT(r.st.learned == 2 && r.unicast == 2 && r.flooded == 3 && r.count == 2, "l2 learn");
	l2_seed("learn_unicast_flood", &w);

	/* A second peer claims the first's MAC: refused until it ages out,
	 * then it moves. */
	l2_begin(&w, 2, 32, 32);
	l2_op(&w, L2_PROG_PEER, 0, 0, U(1), BCAST);
	l2_op(&w, L2_PROG_PEER, 5, 1, U(1), BCAST);
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(7), U(1));
	l2_op(&w, L2_PROG_PEER, L2_AGE_TICKS, 1, U(1), BCAST);
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(7), U(1));
	l2_run(&w, &r);
	EXPECT(r.st.move_refused == 1 && r.st.moved == 1 && r.unicast == 2, "l2 move");
	l2_seed("owned_then_moved", &w);

	/* A peer at its cap of 2 recycles its own oldest entry. */
	l2_begin(&w, 2, 8, 2);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(1), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(2), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(3), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 1, U(4), BCAST);
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(8), U(1));
	l2_run(&w, &r);
	EXPECT(r.st.recycled == 1 && r.count == 3 && r.flooded == 1, "l2 recycle");
	l2_seed("per_peer_cap_recycle", &w);

	/* A table of 4 full: the peer with the most entries loses its oldest. */
	l2_begin(&w, 3, 4, 4);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(1), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(2), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(3), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 1, U(4), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 2, U(5), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 1, U(6), BCAST);
	l2_run(&w, &r);
	EXPECT(r.st.evicted == 2 && r.count == 4, "l2 evict");
	l2_seed("table_full_evict", &w);

	/* A session ends (forget), the rest ages out (expire). */
	l2_begin(&w, 2, 32, 32);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(1), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 0, U(2) | 2, BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 1, U(3), BCAST);
	l2_op(&w, L2_PROG_FORGET, 1, 0, 0, 0);
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(7), U(1));
	l2_op(&w, L2_PROG_EXPIRE, 10, 0, 0, 0);
	l2_op(&w, L2_PROG_EXPIRE, L2_AGE_TICKS, 0, 0, 0);
	l2_op(&w, L2_PROG_TAP, 1, 0x03, U(7), U(3));
	l2_run(&w, &r);
	EXPECT(r.st.expired == 1 && r.count == 0 && r.flooded == 2, "l2 expire");
	l2_seed("forget_and_expire", &w);

	/* Frames dropped: zero and group sources from a peer, a peer id out
	 * of range, a runt and a group source from the TAP, no peer up. */
	l2_begin(&w, 2, 32, 32);
	l2_op(&w, L2_PROG_PEER, 1, 0, 0, BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 1, G(3), BCAST);
	l2_op(&w, L2_PROG_PEER, 1, 2, U(3), BCAST);
	l2_op(&w, L2_PROG_TAP, 1, 0x83, U(3), BCAST);
	l2_op(&w, L2_PROG_TAP, 1, 0x03, BCAST, U(3));
	l2_op(&w, L2_PROG_TAP, 1, 0x00, U(3), BCAST);
	l2_op(&w, L2_PROG_TAP, 1, 0x7c, U(3), BCAST);        /* only ids past max_peers */
	l2_run(&w, &r);
	EXPECT(r.st.drops[PQ_L2_DROP_BAD_SRC] == 3 && r.st.drops[PQ_L2_DROP_BAD_PEER] == 1 &&
	       r.st.drops[PQ_L2_DROP_RUNT] == 1 && r.st.drops[PQ_L2_DROP_NO_PEER] == 2 && r.count == 0,
	       "l2 drops: bad src %llu, bad peer %llu, runt %llu, no peer %llu",
	       (unsigned long long)r.st.drops[PQ_L2_DROP_BAD_SRC],
	       (unsigned long long)r.st.drops[PQ_L2_DROP_BAD_PEER],
	       (unsigned long long)r.st.drops[PQ_L2_DROP_RUNT],
	       (unsigned long long)r.st.drops[PQ_L2_DROP_NO_PEER]);
	l2_seed("drops", &w);

	/* A MAC a peer taught us shows up on the TAP: it is local now. */
	l2_begin(&w, 4, 32, 8);
	l2_op(&w, L2_PROG_PEER, 1, 2, U(1), BCAST);
	l2_op(&w, L2_PROG_TAP, 1, 0x0f, U(9), U(1));
	l2_op(&w, L2_PROG_TAP, 1, 0x0b, U(9), U(1));         /* owner not established */
	l2_op(&w, L2_PROG_TAP, 1, 0x0f, U(1), U(9));
	l2_op(&w, L2_PROG_TAP, 1, 0x0f, U(9), U(1));
	l2_run(&w, &r);
	EXPECT(r.count == 0 && r.unicast == 1 && r.flooded == 3, "l2 local: %zu %u %u", r.count,
	       r.unicast, r.flooded);
	l2_seed("tap_source_goes_local", &w);

	/* Eight peers, a table of 20 with 3 a peer: learning, recycling and
	 * eviction interleaved with TAP frames to the MAC just learned (peer
	 * 7 not established: flooded), a forget, an expiry. */
	l2_begin(&w, 8, 20, 3);
	{
		uint8_t last = U(1);

		for (unsigned i = 0; i < 48; i++) {
			if (i % 5 == 4) {
				l2_op(&w, L2_PROG_TAP, 1, 0x7f, U(50), last);
			} else {
				last = (uint8_t)(U(1 + (i * 7) % 40) | (i & 2));
				l2_op(&w, L2_PROG_PEER, 0, i % 8, last, U(1 + (i * 11) % 40));
			}
			if (i == 20)
				l2_op(&w, L2_PROG_FORGET, 0, 3, 0, 0);
			if (i == 36)
				l2_op(&w, L2_PROG_EXPIRE, L2_AGE_TICKS, 0, 0, 0);
		}
	}
	l2_run(&w, &r);
	EXPECT(r.st.learned > 20 && r.st.recycled > 0 && r.st.evicted > 0 && r.st.expired > 0 &&
	       r.unicast > 0 && r.flooded > 0,
	       "l2 mixed: learned %llu recycled %llu evicted %llu expired %llu uni %u flood %u",
	       (unsigned long long)r.st.learned, (unsigned long long)r.st.recycled,
	       (unsigned long long)r.st.evicted, (unsigned long long)r.st.expired, r.unicast, r.flooded);
	l2_seed("eight_peers_mixed", &w);
}

/* ---- fuzz_path ------------------------------------------------------
 * Input: tests/fuzz/path_prog.h, which decodes it for both programs. */

struct pw {
	uint8_t buf[1024];
	size_t n;
	struct pq_path p;
	struct pq_path_out out;
	uint64_t now;
	uint32_t seed;
	int ret;
	unsigned refused;
};

/* The config byte fuzz_path.c reads as this policy, key order, transports
 * and retry interval (1-8 s): the fields overlap (policy is the byte
 * mod 3), so the first byte that fits. */
static uint8_t pcfg(enum pq_path_policy policy, bool lower, enum pq_path_transports transports,
		    unsigned retry_s)
{
	for (unsigned b = 0; b < 256; b++) {
		struct pq_path_config c;
		uint32_t seed;

		path_prog_config((uint8_t)b, &seed, &c);
		if (c.policy == policy && c.we_are_lower == lower && c.transports == transports &&
		    c.retry_interval_ms == 1000u * retry_s)
			return (uint8_t)b;
	}
	die("path: no config byte for %d %d %d %u", (int)policy, lower, (int)transports, retry_s);
	return 0;
}

static void pw_begin(struct pw *w, uint8_t cfg_byte)
{
	struct pq_path_config cfg;

	memset(w, 0, sizeof(*w));
	w->buf[w->n++] = cfg_byte;
	w->seed = 1;
	w->now = 1000;
	path_prog_config(cfg_byte, &w->seed, &cfg);
	pq_path_init(&w->p, &cfg);
}

/* One event, after step ms (0-255, or a multiple of 16 up to 4080). */
static void pw_ev(struct pw *w, enum pq_path_ev_type type, int conn, unsigned step, uint8_t arg)
{
	const uint8_t *d = w->buf + w->n;
	struct pq_path_event ev;
	uint8_t slot = (uint8_t)((conn + 2) & 7);

	EXPECT(w->n + 4 <= sizeof(w->buf), "path: too long");
	EXPECT(conn >= -2 && conn <= 5, "path: conn %d", conn);
	if (step > 255) {
		EXPECT(step % 16 == 0 && step / 16 <= 255, "path: step %u", step);
		slot |= 0x80;
		step /= 16;
	}
	w->buf[w->n++] = (uint8_t)type;
	w->buf[w->n++] = slot;
	w->buf[w->n++] = (uint8_t)step;
	w->buf[w->n++] = arg;

	path_prog_event(d, &w->now, &ev); /* as fuzz_path.c reads it */
	w->ret = pq_path_input(&w->p, &ev, w->now, &w->out);
	w->refused += w->ret != 0;
	if (getenv("GEN_CORPUS_TRACE")) {
		fprintf(stderr, "t=%llu ev %d conn %d -> %d:", (unsigned long long)w->now, (int)ev.type,
			ev.conn, w->ret);
		for (unsigned i = 0; i < w->out.n; i++)
			fprintf(stderr, " %d/%d/%d", (int)w->out.act[i].type, w->out.act[i].conn,
				(int)w->out.act[i].reason);
		fprintf(stderr, " active %d next %llu\n", w->p.active, (unsigned long long)w->out.deadline_ms);
	}
	{
		const char *bad = path_check(&w->p, &w->out, w->now);

		EXPECT(!bad, "path: invariant after event %d: %s", (int)type, bad);
	}
}

static void pw_do(struct pw *w, enum pq_path_ev_type type, int conn)
{
	pw_ev(w, type, conn, 10, 0);
	EXPECT(w->ret == 0, "path: event %d on %d refused", (int)type, conn);
}

/* The first action of type in the last output (and on conn, when conn
 * is not -3), or NULL. */
static const struct pq_path_action *pw_act(const struct pw *w, enum pq_path_act_type type, int conn)
{
	for (unsigned i = 0; i < w->out.n; i++)
		if (w->out.act[i].type == type && (conn == -3 || w->out.act[i].conn == conn))
			return &w->out.act[i];
	return NULL;
}

/* Timer events of up to step ms until an action of type shows (its
 * slot), failing after limit ms. */
static int pw_until(struct pw *w, enum pq_path_act_type type, unsigned step, unsigned limit)
{
	const struct pq_path_action *a;

	for (unsigned waited = 0; waited <= limit; waited += step) {
		pw_ev(w, PQ_PATH_EV_TIMER, 0, step, 0);
		a = pw_act(w, type, -3);
		if (a)
			return a->conn;
	}
	die("path: no action %d within %u ms", (int)type, limit);
	return -1;
}

/* The slot of a DIAL of transport t in the last output, else -1. */
static int pw_dial(const struct pw *w, enum pq_path_transport t)
{
	for (unsigned i = 0; i < w->out.n; i++)
		if (w->out.act[i].type == PQ_PATH_ACT_DIAL && w->p.conn[w->out.act[i].conn].transport == t)
			return w->out.act[i].conn;
	return -1;
}

/* Keys (index key), the peer online, ncand candidates. */
static void pw_up(struct pw *w, unsigned key, unsigned ncand)
{
	pw_ev(w, PQ_PATH_EV_KEYS, 0, 5, (uint8_t)key);
	pw_do(w, PQ_PATH_EV_ONLINE, 0);
	pw_ev(w, PQ_PATH_EV_CANDIDATES, 0, 5, (uint8_t)ncand);
	EXPECT(w->ret == 0, "path: candidates");
}

/* Open our dial k and prove it under key. */
static void pw_open_prove(struct pw *w, int k, unsigned key)
{
	pw_do(w, PQ_PATH_EV_DIAL_OPENED, k);
	EXPECT(pw_act(w, PQ_PATH_ACT_REHS_START, k), "path: no proof started on %d", k);
	pw_ev(w, PQ_PATH_EV_REHS_DONE, k, 20, (uint8_t)key);
	EXPECT(w->ret == 0 && w->p.conn[k].state == PQ_PCONN_USABLE, "path: %d not proven", k);
}

/* The slot of a dial of transport t in the last output or, failing
 * that, of the next one the timer fires. */
static int pw_next_dial(struct pw *w, enum pq_path_transport t)
{
	int k = pw_dial(w, t);

	for (unsigned waited = 0; k < 0; waited += 160) {
		EXPECT(waited < 20000, "path: no dial of transport %d", (int)t);
		pw_ev(w, PQ_PATH_EV_TIMER, 0, 160, 0);
		k = pw_dial(w, t);
	}
	return k;
}

/* Dial a conn of transport t, open it, prove it under key: its slot. */
static int pw_prove(struct pw *w, enum pq_path_transport t, unsigned key)
{
	int k = pw_next_dial(w, t);

	pw_open_prove(w, k, key);
	return k;
}

static void path_seed(const char *name, const struct pw *w)
{
	seed("fuzz_path", name, w->buf, w->n);
}

static void gen_path(void)
{
	struct pw w;
	int k, u, t;

	/* TLS: dial, prove, migrate; a send unanswered draws a PROBE, the
	 * PROBE unanswered drops the conn: back to the relay, a retry. */
	pw_begin(&w, pcfg(PQ_PATH_POLICY_AUTO, 1, PQ_PATH_TLS_ONLY, 1));
	pw_up(&w, 1, 1);
	k = pw_prove(&w, PQ_PATH_TLS, 1);
	EXPECT(w.p.active == k && w.p.count.migrations == 1, "path: tls migrate");
	pw_do(&w, PQ_PATH_EV_TX, k);
	pw_do(&w, PQ_PATH_EV_RX, k);
	pw_do(&w, PQ_PATH_EV_TX, k);
	EXPECT(pw_until(&w, PQ_PATH_ACT_PROBE, 250, 2000) == k, "path: probe");
	pw_until(&w, PQ_PATH_ACT_DROP, 250, 2000);
	EXPECT(w.p.active == PQ_PATH_VIA_RELAY && w.p.count.fallbacks == 1 &&
	       w.p.count.drops[PQ_PATH_DROP_PROBE] == 1 &&
	       pw_act(&w, PQ_PATH_ACT_KEEPALIVE, PQ_PATH_VIA_RELAY),
	       "path: probe fallback");
	pw_until(&w, PQ_PATH_ACT_DIAL, 480, 4000);
	path_seed("tls_migrate_probe_fallback", &w);

	/* Both transports, both dialled at once: UDP proves first and takes
	 * the path; quiet, it is probed (keepalive); TLS proves and stands
	 * by; UDP closes and TLS takes over in one step, with a KEEPALIVE on
	 * it a second later. */
	pw_begin(&w, pcfg(PQ_PATH_POLICY_AUTO, 1, PQ_PATH_ANY, 1));
	pw_up(&w, 2, 2);
	u = pw_dial(&w, PQ_PATH_UDP);
	t = pw_dial(&w, PQ_PATH_TLS);
	EXPECT(u >= 0 && t >= 0, "path: both dialled");
	pw_open_prove(&w, u, 2);
	EXPECT(w.p.active == u && w.p.count.udp_validated == 1, "path: udp active");
	pw_do(&w, PQ_PATH_EV_RX, u);
	EXPECT(pw_until(&w, PQ_PATH_ACT_PROBE, 496, 4000) == u, "path: udp keepalive probe");
	pw_do(&w, PQ_PATH_EV_RX, u);
	pw_open_prove(&w, t, 2);
	EXPECT(w.p.active == u, "path: tls stands by");
	pw_do(&w, PQ_PATH_EV_CLOSED, u);
	EXPECT(w.p.active == t, "path: tls takes over");
	EXPECT(pw_until(&w, PQ_PATH_ACT_KEEPALIVE, 250, 2000) == t, "path: nudge on tls");
	path_seed("udp_active_tls_takes_over", &w);

	/* Crossing dials: the higher key's own dial loses to the conn the
	 * lower key dialled. */
	pw_begin(&w, pcfg(PQ_PATH_POLICY_AUTO, 0, PQ_PATH_TLS_ONLY, 1));
	pw_up(&w, 1, 1);
	k = pw_until(&w, PQ_PATH_ACT_DIAL, 250, 4000);
	pw_do(&w, PQ_PATH_EV_DIAL_OPENED, k);
	pw_ev(&w, PQ_PATH_EV_ACCEPTED, 0, 10, 0);
	t = w.out.accepted;
	EXPECT(w.ret == 0 && t >= 0 && t != k, "path: crossing accept");
	EXPECT(w.p.count.drops[PQ_PATH_DROP_CROSSING] == 1 && w.p.conn[k].state == PQ_PCONN_FREE,
	       "path: crossing");
	pw_ev(&w, PQ_PATH_EV_REHS_DONE, t, 30, 1);
	EXPECT(w.p.active == t, "path: accepted conn active");
	path_seed("crossing_lower_wins", &w);

	/* Re-authentication: a rekey starts a run on the active conn, it
	 * completes; the periodic one fails: the conn drops. */
	pw_begin(&w, pcfg(PQ_PATH_POLICY_AUTO, 1, PQ_PATH_TLS_ONLY, 1));
	pw_up(&w, 1, 1);
	k = pw_prove(&w, PQ_PATH_TLS, 1);
	pw_ev(&w, PQ_PATH_EV_KEYS, 0, 100, 2);
	EXPECT(pw_act(&w, PQ_PATH_ACT_REHS_START, k), "path: rekey reauth");
	pw_ev(&w, PQ_PATH_EV_REHS_DONE, k, 40, 2);
	for (int i = 0; i < 4; i++) {
		pw_do(&w, PQ_PATH_EV_TX, k);
		pw_ev(&w, PQ_PATH_EV_RX, k, 200, 0);
	}
	EXPECT(pw_until(&w, PQ_PATH_ACT_REHS_START, 960, 12000) == k, "path: periodic reauth");
	pw_do(&w, PQ_PATH_EV_REHS_FAILED, k);
	EXPECT(w.p.count.drops[PQ_PATH_DROP_REHS_FAILED] == 1 && w.p.active == PQ_PATH_VIA_RELAY,
	       "path: reauth failed");
	path_seed("reauth_rekey_then_fail", &w);

	/* A proof that never completes times out; so does the next one. */
	pw_begin(&w, pcfg(PQ_PATH_POLICY_DIRECT, 1, PQ_PATH_TLS_ONLY, 1));
	pw_up(&w, 3, 3);
	k = pw_next_dial(&w, PQ_PATH_TLS);
	pw_do(&w, PQ_PATH_EV_DIAL_OPENED, k);
	pw_until(&w, PQ_PATH_ACT_DROP, 1008, 8000);
	EXPECT(w.p.count.drops[PQ_PATH_DROP_REHS_TIMEOUT] == 1, "path: proof timeout");
	k = pw_next_dial(&w, PQ_PATH_TLS);
	pw_ev(&w, PQ_PATH_EV_CLOSED, k, 200, 0);
	pw_next_dial(&w, PQ_PATH_TLS);
	path_seed("proof_timeout_direct", &w);

	/* UDP only: the conn the peer dialled proves and takes the path; a
	 * run the peer starts on it and never finishes only ends (anyone can
	 * send a REQUEST); endpoints again; policy changes drop what they
	 * forbid; keys gone drops the rest. */
	pw_begin(&w, pcfg(PQ_PATH_POLICY_AUTO, 1, PQ_PATH_UDP_ONLY, 1));
	pw_ev(&w, PQ_PATH_EV_KEYS, 0, 5, 1);
	pw_do(&w, PQ_PATH_EV_ONLINE, 0);
	pw_ev(&w, PQ_PATH_EV_ACCEPTED, PQ_PATH_UDP, 10, 0);
	u = w.out.accepted;
	EXPECT(w.ret == 0 && u >= 0, "path: udp accepted");
	pw_ev(&w, PQ_PATH_EV_REHS_DONE, u, 30, 1);
	EXPECT(w.p.active == u, "path: accepted udp active");
	pw_ev(&w, PQ_PATH_EV_REHS_REQUEST, u, 200, 0);
	EXPECT(w.ret == 0, "path: peer's request");
	for (int i = 0; i < 6; i++)
		pw_ev(&w, PQ_PATH_EV_RX, u, 1008, 0);
	pw_ev(&w, PQ_PATH_EV_TIMER, 0, 10, 0);
	EXPECT(w.p.active == u && !w.p.conn[u].rehs_running, "path: peer's run ended, conn kept");
	pw_ev(&w, PQ_PATH_EV_CANDIDATES, 0, 5, 4);
	pw_do(&w, PQ_PATH_EV_ENDPOINTS_UNSENT, 0);
	pw_do(&w, PQ_PATH_EV_OURS_CHANGED, 0);
	pw_ev(&w, PQ_PATH_EV_POLICY, 0, 10, PQ_PATH_POLICY_AUTO | PQ_PATH_TLS_ONLY << 2);
	EXPECT(w.p.count.drops[PQ_PATH_DROP_POLICY] == 1 && w.p.active == PQ_PATH_VIA_RELAY,
	       "path: policy tls drops udp");
	t = pw_dial(&w, PQ_PATH_TLS);
	pw_ev(&w, PQ_PATH_EV_POLICY, 0, 10, PQ_PATH_POLICY_AUTO | PQ_PATH_ANY << 2);
	u = pw_dial(&w, PQ_PATH_UDP);
	EXPECT(t >= 0 && u >= 0, "path: dials after policy any");
	pw_do(&w, PQ_PATH_EV_OFFLINE, 0);
	pw_do(&w, PQ_PATH_EV_ONLINE, 0);
	pw_open_prove(&w, t, 1);
	EXPECT(w.p.active == t, "path: tls active");
	pw_open_prove(&w, u, 1);
	EXPECT(w.p.active == u && w.p.conn[t].state == PQ_PCONN_USABLE, "path: udp over tls");
	pw_ev(&w, PQ_PATH_EV_POLICY, 0, 10, PQ_PATH_POLICY_RELAY);
	EXPECT(w.p.count.drops[PQ_PATH_DROP_POLICY] == 3 && w.p.active == PQ_PATH_VIA_RELAY,
	       "path: policy relay");
	pw_ev(&w, PQ_PATH_EV_POLICY, 0, 10, PQ_PATH_POLICY_AUTO);
	u = pw_prove(&w, PQ_PATH_UDP, 1);
	pw_do(&w, PQ_PATH_EV_KEYS_GONE, 0);
	EXPECT(w.p.count.drops[PQ_PATH_DROP_SESSION] >= 1 && w.p.conn[u].state == PQ_PCONN_FREE,
	       "path: keys gone");
	path_seed("udp_policy_keys_gone", &w);

	/* Send failure and the peer's message through the relay while the
	 * active conn is quiet (probe at once). */
	pw_begin(&w, pcfg(PQ_PATH_POLICY_AUTO, 1, PQ_PATH_TLS_ONLY, 1));
	pw_up(&w, 1, 2);
	k = pw_prove(&w, PQ_PATH_TLS, 1);
	pw_ev(&w, PQ_PATH_EV_RX, PQ_PATH_VIA_RELAY, 1200 / 16 * 16, 0);
	EXPECT(pw_act(&w, PQ_PATH_ACT_PROBE, k), "path: relay rx probes");
	pw_do(&w, PQ_PATH_EV_RX, k);
	pw_do(&w, PQ_PATH_EV_SEND_FAILED, k);
	EXPECT(w.p.count.drops[PQ_PATH_DROP_SEND_FAILED] == 1, "path: send failed");
	path_seed("relay_rx_probe_send_failed", &w);

	/* Refused events under policy relay: slots free or out of range, an
	 * event type past the last, too many candidates (clamped), an accept refused. */
	pw_begin(&w, pcfg(PQ_PATH_POLICY_RELAY, 0, PQ_PATH_ANY, 2));
	pw_up(&w, 0, 2);
	pw_ev(&w, PQ_PATH_EV_DIAL_OPENED, 0, 10, 0);
	pw_ev(&w, PQ_PATH_EV_REHS_DONE, 5, 10, 0);
	pw_ev(&w, PQ_PATH_EV_CLOSED, PQ_PATH_VIA_NONE, 10, 0);
	pw_ev(&w, PQ_PATH_EV_COUNT, 0, 10, 0);
	pw_ev(&w, PQ_PATH_EV_CANDIDATES, 0, 10, PQ_PATH_MAX_CANDS + 1);
	pw_ev(&w, PQ_PATH_EV_ACCEPTED, 0, 10, 0);
	EXPECT(w.ret == 0 && w.out.accepted == -1, "path: accept under relay policy");
	pw_ev(&w, PQ_PATH_EV_TIMER, 0, 4080, 0);
	EXPECT(w.refused >= 4 && w.p.count.dials == 0, "path: refusals (%u)", w.refused);
	path_seed("refused_events_relay_policy", &w);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
		return 2;
	}
	top = argv[1];
	gen_dgram();
	gen_fed();
	gen_l2();
	gen_path();
	printf("gen_corpus: %u seeds written under %s\n", written, top);
	return 0;
}
