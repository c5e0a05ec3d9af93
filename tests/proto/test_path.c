/*
 * test_path.c - the path core (src/proto/path*.c, DESIGN §5): every rule
 * of proto/path.h as a microsecond test, with the invariants of
 * path_check.h checked after every event. Times are monotonic ms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/path.h"
#include "proto/path_check.h"

#define T0 1000000ULL
#define RETRY 60000u
#define REAUTH 600000u

struct fx {
	struct pq_path p;
	struct pq_path_out out;
	uint64_t now;
};

/* Jitter from the tests: always the middle of the range. */
static uint32_t mid_random(void *ctx, uint32_t n)
{
	return n / 2;
}

static void setup_fx(struct fx *f, bool we_lower, enum pq_path_policy pol)
{
	struct pq_path_config cfg = {
		.policy = pol,
		.we_are_lower = we_lower,
		.retry_interval_ms = RETRY,
		.reauth_interval_ms = REAUTH,
		.random = mid_random,
	};

	memset(f, 0, sizeof(*f));
	pq_path_init(&f->p, &cfg);
	f->now = T0;
}

static void feed_ev(struct fx *f, const struct pq_path_event *ev)
{
	const char *bad;

	assert_int_equal(pq_path_input(&f->p, ev, f->now, &f->out), 0);
	bad = path_check(&f->p, &f->out, f->now);
	if (bad)
		fail_msg("invariant broken after event %d at %llu: %s", (int)ev->type,
			 (unsigned long long)f->now, bad);
}

static void feed(struct fx *f, enum pq_path_ev_type type, int conn)
{
	struct pq_path_event ev = { .type = type, .conn = conn };

	feed_ev(f, &ev);
}

static void feed_keys(struct fx *f, uint32_t index)
{
	struct pq_path_event ev = { .type = PQ_PATH_EV_KEYS, .key_index = index };

	feed_ev(f, &ev);
}

static void feed_done(struct fx *f, int conn, uint32_t index)
{
	struct pq_path_event ev = { .type = PQ_PATH_EV_REHS_DONE, .conn = conn, .key_index = index };

	feed_ev(f, &ev);
}

static void feed_cands(struct fx *f, unsigned n)
{
	static const uint8_t tls[PQ_PATH_MAX_CANDS];
	struct pq_path_event ev = { .type = PQ_PATH_EV_CANDIDATES, .cand_count = n, .cand_transport = tls };

	feed_ev(f, &ev);
}

/* n_tls TLS candidates, then n_udp UDP ones. */
static void feed_mixed(struct fx *f, unsigned n_tls, unsigned n_udp)
{
	uint8_t t[PQ_PATH_MAX_CANDS];
	struct pq_path_event ev = { .type = PQ_PATH_EV_CANDIDATES, .cand_count = n_tls + n_udp, .cand_transport = t };

	for (unsigned i = 0; i < n_tls + n_udp; i++)
		t[i] = i < n_tls ? PQ_PATH_TLS : PQ_PATH_UDP;
	feed_ev(f, &ev);
}

/* The slot of the DIAL action for transport t in the last output, or -1. */
static int dial_of(const struct fx *f, enum pq_path_transport t)
{
	for (unsigned i = 0; i < f->out.n; i++)
		if (f->out.act[i].type == PQ_PATH_ACT_DIAL && f->p.conn[f->out.act[i].conn].transport == t)
			return f->out.act[i].conn;
	return -1;
}

/* Advance to t and fire the timer. */
static void tick_at(struct fx *f, uint64_t t)
{
	f->now = t;
	feed(f, PQ_PATH_EV_TIMER, 0);
}

/* The index of the first action of type in the last output, else -1. */
static int find(const struct fx *f, enum pq_path_act_type type)
{
	for (unsigned i = 0; i < f->out.n; i++)
		if (f->out.act[i].type == type)
			return (int)i;
	return -1;
}

static const struct pq_path_action *act(const struct fx *f, enum pq_path_act_type type)
{
	int i = find(f, type);

	if (i < 0)
		fail_msg("expected action %d, not in the last output (%u actions)", (int)type, f->out.n);
	return &f->out.act[i];
}

/* Keys, online, n candidates; the first dial is fired: its slot. */
static int up_and_dial(struct fx *f, unsigned n)
{
	feed_keys(f, 7);
	feed(f, PQ_PATH_EV_ONLINE, 0);
	assert_non_null(act(f, PQ_PATH_ACT_SEND_ENDPOINTS));
	feed_cands(f, n);
	/* The lower key dials at once, the higher 1.5 s later. */
	if (f->p.cfg.we_are_lower)
		return act(f, PQ_PATH_ACT_DIAL)->conn;
	assert_int_equal(find(f, PQ_PATH_ACT_DIAL), -1);
	assert_int_equal(f->out.deadline_ms, f->now + PQ_PATH_HIGH_KEY_DELAY_MS);
	tick_at(f, f->out.deadline_ms);
	return act(f, PQ_PATH_ACT_DIAL)->conn;
}

/* A dialled conn, proven and active: its slot. */
static int direct_up(struct fx *f)
{
	int k = up_and_dial(f, 1);

	feed(f, PQ_PATH_EV_DIAL_OPENED, k);
	assert_int_equal(act(f, PQ_PATH_ACT_REHS_START)->conn, k);
	f->now += 3;
	feed_done(f, k, 7);
	assert_int_equal(act(f, PQ_PATH_ACT_ACTIVATE)->conn, k);
	return k;
}

static void test_migration(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = up_and_dial(&f, 1);
	assert_int_equal(act(&f, PQ_PATH_ACT_DIAL)->cand, 0);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, k);
	/* Nothing but the re-handshake before it completes. */
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, true, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_RELAY);
	feed_done(&f, k, 7);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->from, PQ_PATH_VIA_RELAY);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, true, PQ_PATH_VIA_RELAY), k);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_SIGNAL, true, PQ_PATH_VIA_RELAY), k);
	assert_int_equal(f.p.count.migrations, 1);
	assert_int_equal(f.p.count.fallbacks, 0);
	/* No more dials while a direct path works. */
	tick_at(&f, f.now + 10 * RETRY);
	assert_int_equal(find(&f, PQ_PATH_ACT_DIAL), -1);
}

static void test_accepted_conn(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	k = f.out.accepted;
	assert_true(k >= 0);
	/* The dialler initiates: we wait for its REQUEST. */
	assert_int_equal(find(&f, PQ_PATH_ACT_REHS_START), -1);
	feed_done(&f, k, 7);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, k);
	/* A rekey: the dialler re-authenticates, not us. */
	feed_keys(&f, 8);
	assert_int_equal(find(&f, PQ_PATH_ACT_REHS_START), -1);
	feed(&f, PQ_PATH_EV_REHS_REQUEST, k);
	feed_done(&f, k, 8);
	assert_int_equal(f.p.active, k);
}

static void test_accept_refused(void **state)
{
	struct fx f;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS); /* no keys yet */
	assert_int_equal(f.out.accepted, -1);
	feed_keys(&f, 7);
	for (int i = 0; i < PQ_PATH_MAX_CONNS; i++) {
		feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
		assert_int_equal(f.out.accepted, i);
	}
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS); /* slots full */
	assert_int_equal(f.out.accepted, -1);
}

/* Liveness: 1 s silent after a send, then a probe, then 1 s more. */
static void test_fallback_after_unanswered_probe(void **state)
{
	struct fx f;
	uint64_t sent;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	f.now += 100;
	sent = f.now;
	feed(&f, PQ_PATH_EV_TX, k);
	assert_int_equal(f.out.n, 0);
	assert_int_equal(f.out.deadline_ms, sent + PQ_PATH_PROBE_AFTER_MS);
	tick_at(&f, sent + PQ_PATH_PROBE_AFTER_MS - 1);
	assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	tick_at(&f, sent + PQ_PATH_PROBE_AFTER_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_PROBE)->conn, k);
	assert_int_equal(f.out.deadline_ms, f.now + PQ_PATH_PROBE_WAIT_MS);
	tick_at(&f, f.now + PQ_PATH_PROBE_WAIT_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_PROBE);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, PQ_PATH_VIA_RELAY);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->from, k);
	/* The outage is 2 s at most (DESIGN §5). */
	assert_true(f.now - sent <= PQ_PATH_PROBE_AFTER_MS + PQ_PATH_PROBE_WAIT_MS);
	assert_int_equal(f.p.count.fallbacks, 1);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, true, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_RELAY);
	/* The peer hears of it through the relay (a timer: at once). */
	assert_true(find(&f, PQ_PATH_ACT_KEEPALIVE) > find(&f, PQ_PATH_ACT_ACTIVATE));
	/* And a retry after retry_interval (jitter: the middle here). */
	assert_int_equal(f.p.next_dial_ms[PQ_PATH_TLS], f.now + RETRY - RETRY / 8 + (RETRY / 4 + 1) / 2);
	tick_at(&f, f.p.next_dial_ms[PQ_PATH_TLS]);
	assert_non_null(act(&f, PQ_PATH_ACT_DIAL));
}

static void test_rx_answers_liveness(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	feed(&f, PQ_PATH_EV_TX, k);
	f.now += 900;
	feed(&f, PQ_PATH_EV_RX, k);
	tick_at(&f, f.now + 5000);
	assert_int_equal(f.out.n, 0);
	assert_int_equal(f.p.active, k);
	/* A probe answered in time keeps the path. */
	feed(&f, PQ_PATH_EV_TX, k);
	tick_at(&f, f.now + PQ_PATH_PROBE_AFTER_MS);
	assert_non_null(act(&f, PQ_PATH_ACT_PROBE));
	f.now += 999;
	feed(&f, PQ_PATH_EV_RX, k);
	tick_at(&f, f.now + 1);
	assert_int_equal(f.p.active, k);
	assert_int_equal(f.p.count.fallbacks, 0);
}

/* The peer talks to us through the relay while our direct path has been
 * quiet: it may have fallen back; probe at once. */
static void test_relay_heard_probes_quiet_path(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	f.now += PQ_PATH_PROBE_AFTER_MS - 1;
	feed(&f, PQ_PATH_EV_RX, PQ_PATH_VIA_RELAY);
	assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	f.now += 1;
	feed(&f, PQ_PATH_EV_RX, PQ_PATH_VIA_RELAY);
	assert_int_equal(act(&f, PQ_PATH_ACT_PROBE)->conn, k);
	/* Once: the next relay message waits for the answer. */
	feed(&f, PQ_PATH_EV_RX, PQ_PATH_VIA_RELAY);
	assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	tick_at(&f, f.now + PQ_PATH_PROBE_WAIT_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_PROBE);
}

static void test_error_falls_back_at_once(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	/* From inside a send: no action that sends again. */
	feed(&f, PQ_PATH_EV_SEND_FAILED, k);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_SEND_FAILED);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, PQ_PATH_VIA_RELAY);
	assert_int_equal(find(&f, PQ_PATH_ACT_KEEPALIVE), -1);
	assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	assert_true(f.p.next_dial_ms[PQ_PATH_TLS] > f.now);
	/* The keepalive through the relay comes from the next timer. */
	assert_int_equal(f.out.deadline_ms, f.now);
	tick_at(&f, f.now);
	assert_non_null(act(&f, PQ_PATH_ACT_KEEPALIVE));
	/* A conn that closes: the same, without a DROP to execute. */
	tick_at(&f, f.p.next_dial_ms[PQ_PATH_TLS]);
	k = act(&f, PQ_PATH_ACT_DIAL)->conn;
	feed(&f, PQ_PATH_EV_DIAL_OPENED, k);
	feed_done(&f, k, 7);
	feed(&f, PQ_PATH_EV_CLOSED, k);
	assert_int_equal(find(&f, PQ_PATH_ACT_DROP), -1);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, PQ_PATH_VIA_RELAY);
	assert_int_equal(f.p.count.fallbacks, 2);
	assert_int_equal(f.p.count.migrations, 2);
}

/* A dial that never opened: the next candidate soon, then the retry. */
static void test_next_candidate_then_retry(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = up_and_dial(&f, 2);
	feed(&f, PQ_PATH_EV_CLOSED, k);
	assert_int_equal(f.out.deadline_ms, f.now + PQ_PATH_NEXT_CAND_MS);
	tick_at(&f, f.out.deadline_ms);
	assert_int_equal(act(&f, PQ_PATH_ACT_DIAL)->cand, 1);
	k = act(&f, PQ_PATH_ACT_DIAL)->conn;
	feed(&f, PQ_PATH_EV_CLOSED, k);
	assert_true(f.out.deadline_ms >= f.now + RETRY - RETRY / 8);
	tick_at(&f, f.out.deadline_ms);
	assert_int_equal(act(&f, PQ_PATH_ACT_DIAL)->cand, 0);
	assert_int_equal(f.p.count.dials, 3);
}

/* Defect 1 of issue 8: a conn that opened but whose first re-handshake
 * failed, timed out or whose conn closed before completing scheduled no
 * redial; the pair stayed on the relay for the session's life. */
static void retry_after(enum pq_path_ev_type failure, bool timeout)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = up_and_dial(&f, 1);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, k);
	if (timeout) {
		/* 5 s on the monotonic clock (defect 3): not before. */
		tick_at(&f, f.now + PQ_PATH_REHS_TIMEOUT_MS - 1);
		assert_int_equal(find(&f, PQ_PATH_ACT_DROP), -1);
		tick_at(&f, f.now + 1);
		assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_REHS_TIMEOUT);
	} else {
		feed(&f, failure, k);
	}
	assert_int_equal(f.p.active, PQ_PATH_VIA_RELAY);
	assert_true(f.p.next_dial_ms[PQ_PATH_TLS] >= f.now + RETRY - RETRY / 8);
	assert_true(f.p.next_dial_ms[PQ_PATH_TLS] <= f.now + RETRY + RETRY / 8 + 1);
	tick_at(&f, f.p.next_dial_ms[PQ_PATH_TLS]);
	k = act(&f, PQ_PATH_ACT_DIAL)->conn;
	feed(&f, PQ_PATH_EV_DIAL_OPENED, k);
	feed_done(&f, k, 7);
	assert_int_equal(f.p.active, k);
}

static void test_retry_after_rehs_failed(void **state)
{
	retry_after(PQ_PATH_EV_REHS_FAILED, false);
}

static void test_retry_after_close_before_proof(void **state)
{
	retry_after(PQ_PATH_EV_CLOSED, false);
}

static void test_retry_after_rehs_timeout(void **state)
{
	retry_after(PQ_PATH_EV_TIMER, true);
}

/* The accepting side times out a conn whose REQUEST never comes. */
static void test_accepted_conn_times_out(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	k = f.out.accepted;
	assert_int_equal(f.out.deadline_ms, f.now + PQ_PATH_REHS_TIMEOUT_MS);
	tick_at(&f, f.out.deadline_ms);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, k);
	assert_int_equal(f.p.count.drops[PQ_PATH_DROP_REHS_TIMEOUT], 1);
}

static void crossing(bool we_lower)
{
	struct fx f;
	int ours, theirs;

	setup_fx(&f, we_lower, PQ_PATH_POLICY_AUTO);
	ours = up_and_dial(&f, 1);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, ours);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	theirs = f.out.accepted;
	assert_true(theirs >= 0 && theirs != ours);
	/* The conn dialled by the lower key wins (DESIGN §2). */
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, we_lower ? theirs : ours);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_CROSSING);
	feed_done(&f, we_lower ? ours : theirs, 7);
	assert_int_equal(f.p.active, we_lower ? ours : theirs);
}

static void test_crossing_lower_key_wins(void **state)
{
	crossing(true);
	crossing(false);
}

static void test_higher_key_dials_later(void **state)
{
	struct fx f;

	setup_fx(&f, false, PQ_PATH_POLICY_AUTO);
	(void)up_and_dial(&f, 1); /* asserts the 1.5 s delay */
}

/* A newer conn of the same transport replaces the active one in one step. */
static void test_newer_conn_replaces(void **state)
{
	struct fx f;
	int old, k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	old = direct_up(&f);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	k = f.out.accepted;
	assert_int_equal(find(&f, PQ_PATH_ACT_DROP), -1); /* the old one is usable: no crossing */
	feed_done(&f, k, 7);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, old);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_REPLACED);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, k);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->from, old);
	assert_int_equal(f.p.count.migrations, 1);
	assert_int_equal(f.p.count.fallbacks, 0);
}

/* UDP is preferred; TLS stands by and takes over when UDP dies. */
static void test_transport_preference(void **state)
{
	struct fx f;
	int tls, udp;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	tls = direct_up(&f);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_UDP);
	udp = f.out.accepted;
	feed_done(&f, udp, 7);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, udp);
	assert_int_equal(find(&f, PQ_PATH_ACT_DROP), -1);
	feed(&f, PQ_PATH_EV_CLOSED, udp);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, tls);
	assert_int_equal(f.p.count.fallbacks, 0);
	/* A TLS conn completing while UDP is active stands by. */
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_UDP);
	udp = f.out.accepted;
	feed_done(&f, udp, 7);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	feed_done(&f, f.out.accepted, 7);
	assert_int_equal(f.p.active, udp);
}

static void test_reauth_after_rekey_and_interval(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	feed_keys(&f, 8); /* a rekey */
	assert_int_equal(act(&f, PQ_PATH_ACT_REHS_START)->conn, k);
	f.now += 2;
	feed_done(&f, k, 8);
	assert_int_equal(f.p.active, k);
	assert_int_equal(find(&f, PQ_PATH_ACT_ACTIVATE), -1);
	assert_int_equal(f.out.deadline_ms, f.now + REAUTH);
	tick_at(&f, f.now + REAUTH - 1);
	assert_int_equal(find(&f, PQ_PATH_ACT_REHS_START), -1);
	tick_at(&f, f.now + 1);
	assert_int_equal(act(&f, PQ_PATH_ACT_REHS_START)->conn, k);
	/* A failed re-authentication drops the path to the relay. */
	feed(&f, PQ_PATH_EV_REHS_FAILED, k);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, PQ_PATH_VIA_RELAY);
	assert_int_equal(f.p.count.fallbacks, 1);
}

static void test_reauth_timeout_drops(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	feed_keys(&f, 8);
	tick_at(&f, f.now + PQ_PATH_REHS_TIMEOUT_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, k);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_REHS_TIMEOUT);
}

/* A run the peer started on a usable conn that never completes: on TLS
 * (only the peer can send on it) the conn goes; on UDP (anyone can send a
 * REQUEST: no MAC, the session id in clear) only the run ends, and a new
 * REQUEST restarts its clock. */
static void test_peer_run_timeout_by_transport(void **state)
{
	for (uint8_t t = PQ_PATH_TLS; t <= PQ_PATH_UDP; t++) {
		struct fx f;
		int k;

		setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
		feed_keys(&f, 7);
		feed(&f, PQ_PATH_EV_ONLINE, 0);
		feed(&f, PQ_PATH_EV_ACCEPTED, t);
		k = f.out.accepted;
		assert_true(k >= 0);
		feed_done(&f, k, 7);
		assert_int_equal(f.p.active, k);
		feed(&f, PQ_PATH_EV_REHS_REQUEST, k);
		f.now += 1000;
		feed(&f, PQ_PATH_EV_REHS_REQUEST, k); /* a second one */
		tick_at(&f, f.now + PQ_PATH_REHS_TIMEOUT_MS - 1000);
		if (t == PQ_PATH_TLS) {
			assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_REHS_TIMEOUT);
			continue;
		}
		assert_int_equal(find(&f, PQ_PATH_ACT_DROP), -1); /* its clock restarted */
		tick_at(&f, f.now + 1000);
		assert_int_equal(find(&f, PQ_PATH_ACT_DROP), -1);
		assert_false(f.p.conn[k].rehs_running);
		assert_int_equal(f.p.active, k);
		/* The peer's next run still completes on it. */
		feed(&f, PQ_PATH_EV_REHS_REQUEST, k);
		feed_done(&f, k, 7);
		assert_int_equal(f.p.active, k);
	}
}

static void test_policy_relay(void **state)
{
	struct fx f;
	struct pq_path_event ev = { .type = PQ_PATH_EV_POLICY, .policy = PQ_PATH_POLICY_RELAY };
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_RELAY);
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	assert_int_equal(find(&f, PQ_PATH_ACT_SEND_ENDPOINTS), -1);
	feed_cands(&f, 2);
	tick_at(&f, f.now + 10 * RETRY);
	assert_int_equal(f.out.n, 0);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	assert_int_equal(f.out.accepted, -1);
	/* auto -> relay at run time drops what there is. */
	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	feed_ev(&f, &ev);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, k);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_POLICY);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, true, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_RELAY);
	tick_at(&f, f.now + 10 * RETRY);
	assert_int_equal(find(&f, PQ_PATH_ACT_DIAL), -1);
}

static void test_policy_direct(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_DIRECT);
	feed_keys(&f, 7);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, true, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_NONE);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_SIGNAL, true, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_RELAY);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_HANDSHAKE, true, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_RELAY);
	setup_fx(&f, true, PQ_PATH_POLICY_DIRECT);
	k = direct_up(&f);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, true, PQ_PATH_VIA_RELAY), k);
}

static void test_route_handshake(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_HANDSHAKE, false, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_NONE);
	k = direct_up(&f);
	/* The relay as a rule... */
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_HANDSHAKE, true, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_RELAY);
	/* ...the conn when the peer spoke there, our relay is down, or the
	 * relay does not see the peer. */
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_HANDSHAKE, true, k), k);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_HANDSHAKE, false, PQ_PATH_VIA_RELAY), k);
	feed(&f, PQ_PATH_EV_OFFLINE, 0);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_HANDSHAKE, true, PQ_PATH_VIA_RELAY), k);
	/* Messages about the direct path: the relay while it reaches the
	 * peer, else the conn. */
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_CONTROL, true, PQ_PATH_VIA_RELAY), k);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_CONTROL, true, PQ_PATH_VIA_RELAY), PQ_PATH_VIA_RELAY);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_CONTROL, false, PQ_PATH_VIA_RELAY), k);
	feed(&f, PQ_PATH_EV_OFFLINE, 0);
	/* And the active conn still carries data while offline (roaming). */
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, false, PQ_PATH_VIA_RELAY), k);
}

static void test_keys_gone(void **state)
{
	struct fx f;
	int k;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	feed(&f, PQ_PATH_EV_KEYS_GONE, 0);
	assert_int_equal(f.p.count.drops[PQ_PATH_DROP_SESSION], 2);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->from, k);
	assert_int_equal(f.out.deadline_ms, UINT64_MAX);
	/* New keys: endpoints again and a dial (the lower key: at once). */
	feed_keys(&f, 9);
	assert_non_null(act(&f, PQ_PATH_ACT_SEND_ENDPOINTS));
	assert_non_null(act(&f, PQ_PATH_ACT_DIAL));
}

static void test_endpoints(void **state)
{
	struct fx f;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	assert_int_equal(find(&f, PQ_PATH_ACT_SEND_ENDPOINTS), -1); /* no keys */
	feed_keys(&f, 7);
	assert_non_null(act(&f, PQ_PATH_ACT_SEND_ENDPOINTS));
	feed_keys(&f, 8); /* a rekey (or a restarted peer's new session): again */
	assert_non_null(act(&f, PQ_PATH_ACT_SEND_ENDPOINTS));
	feed_keys(&f, 8); /* the same keys: not again */
	assert_int_equal(find(&f, PQ_PATH_ACT_SEND_ENDPOINTS), -1);
	feed(&f, PQ_PATH_EV_ENDPOINTS_UNSENT, 0);
	assert_int_equal(f.out.deadline_ms, f.now + 1000);
	tick_at(&f, f.now + 1000);
	assert_non_null(act(&f, PQ_PATH_ACT_SEND_ENDPOINTS));
	feed(&f, PQ_PATH_EV_OFFLINE, 0);
	feed(&f, PQ_PATH_EV_ONLINE, 0); /* back, maybe from new addresses */
	assert_non_null(act(&f, PQ_PATH_ACT_SEND_ENDPOINTS));
}

/* Dials wait for the peer to be online; it coming back dials at once. */
static void test_dial_needs_online(void **state)
{
	struct fx f;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed_keys(&f, 7);
	feed_cands(&f, 1);
	assert_int_equal(f.out.deadline_ms, UINT64_MAX);
	tick_at(&f, f.now + 2 * RETRY);
	assert_int_equal(find(&f, PQ_PATH_ACT_DIAL), -1);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	assert_int_equal(act(&f, PQ_PATH_ACT_DIAL)->cand, 0);
}

static void test_jitter_range(void **state)
{
	struct fx f;
	uint64_t lo = UINT64_MAX, hi = 0;

	for (uint32_t r = 0; r < 20; r++) {
		setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
		f.p.cfg.random = NULL;
		feed(&f, PQ_PATH_EV_CLOSED, up_and_dial(&f, 1)); /* a failed dial: a retry */
		lo = f.p.next_dial_ms[PQ_PATH_TLS] < lo ? f.p.next_dial_ms[PQ_PATH_TLS] : lo;
		hi = f.p.next_dial_ms[PQ_PATH_TLS] > hi ? f.p.next_dial_ms[PQ_PATH_TLS] : hi;
	}
	assert_true(lo >= T0 + RETRY - RETRY / 8);
	assert_true(hi <= T0 + RETRY + RETRY / 8 + 1);
}

/* Both transports at once; UDP wins, TLS stands by, and takes over
 * without a relay hop when UDP dies; UDP is retried while TLS carries. */
static void test_udp_and_tls_dials(void **state)
{
	struct fx f;
	int udp, tls;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	feed_mixed(&f, 1, 2);
	udp = dial_of(&f, PQ_PATH_UDP);
	tls = dial_of(&f, PQ_PATH_TLS);
	assert_true(udp >= 0 && tls >= 0 && udp != tls);
	assert_int_equal(f.p.conn[udp].cand, 1); /* the first UDP candidate */
	assert_int_equal(f.p.count.udp_attempts, 1);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, tls);
	feed_done(&f, tls, 7);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, tls);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, udp);
	assert_int_equal(act(&f, PQ_PATH_ACT_REHS_START)->conn, udp);
	feed_done(&f, udp, 7);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, udp);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->from, tls);
	assert_int_equal(f.p.count.udp_validated, 1);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, true, PQ_PATH_VIA_RELAY), udp);
	/* No dial of anything while UDP is active. */
	assert_int_equal(f.p.next_dial_ms[PQ_PATH_TLS], 0);
	assert_int_equal(f.p.next_dial_ms[PQ_PATH_UDP], 0);
	/* UDP dies: TLS at once, no fallback to the relay, UDP retried. */
	feed(&f, PQ_PATH_EV_SEND_FAILED, udp);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, tls);
	assert_int_equal(f.p.count.fallbacks, 0);
	assert_true(f.p.next_dial_ms[PQ_PATH_UDP] >= f.now + RETRY - RETRY / 8);
	tick_at(&f, f.p.next_dial_ms[PQ_PATH_UDP]);
	assert_true(dial_of(&f, PQ_PATH_UDP) >= 0);
	assert_int_equal(f.p.active, tls);
}

/* UDP active, TLS standing by: its slots. */
static void udp_over_tls(struct fx *f, int *udp, int *tls)
{
	setup_fx(f, true, PQ_PATH_POLICY_AUTO);
	feed_keys(f, 7);
	feed(f, PQ_PATH_EV_ONLINE, 0);
	feed_mixed(f, 1, 1);
	*udp = dial_of(f, PQ_PATH_UDP);
	*tls = dial_of(f, PQ_PATH_TLS);
	feed(f, PQ_PATH_EV_DIAL_OPENED, *tls);
	feed_done(f, *tls, 7);
	feed(f, PQ_PATH_EV_DIAL_OPENED, *udp);
	feed_done(f, *udp, 7);
	assert_int_equal(f->p.active, *udp);
}

/* One side's UDP conn dies (its probe unanswered: dead in its direction
 * only, say); the TLS conn takes over. The other side, with nothing to
 * send, would go on sending into the dead conn when it next has
 * something: so the first sends a KEEPALIVE on the TLS conn a second
 * later (its side of the dead conn quiet by then), and a node that hears
 * on a stand-by conn while its active one is quiet probes the active one
 * (and drops it unanswered), as it does for the relay. */
static void test_drop_told_on_the_new_conn(void **state)
{
	struct fx f;
	uint64_t quiet, dropped;
	int udp, tls;

	(void)state;
	udp_over_tls(&f, &udp, &tls);
	feed(&f, PQ_PATH_EV_TX, udp);
	tick_at(&f, f.now + PQ_PATH_PROBE_AFTER_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_PROBE)->conn, udp);
	tick_at(&f, f.now + PQ_PATH_PROBE_WAIT_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, udp);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, tls);
	assert_int_equal(find(&f, PQ_PATH_ACT_KEEPALIVE), -1);
	assert_int_equal(f.p.count.fallbacks, 0);
	dropped = f.now;
	assert_true(pq_path_next_deadline(&f.p, f.now) <= dropped + PQ_PATH_PROBE_AFTER_MS);
	/* The TLS conn, idle for a while, was probed as it took over; the
	 * peer answers. */
	f.now += 10;
	feed(&f, PQ_PATH_EV_RX, tls);
	tick_at(&f, dropped + PQ_PATH_PROBE_AFTER_MS - 1);
	assert_int_equal(find(&f, PQ_PATH_ACT_KEEPALIVE), -1);
	tick_at(&f, dropped + PQ_PATH_PROBE_AFTER_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_KEEPALIVE)->conn, tls);
	/* Once. */
	tick_at(&f, f.now + 1);
	assert_int_equal(find(&f, PQ_PATH_ACT_KEEPALIVE), -1);
	/* A planned switch (a proven UDP conn over TLS) tells nothing, and
	 * neither does a newer UDP conn replacing it. */
	for (int round = 0; round < 2; round++) {
		feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_UDP);
		udp = f.out.accepted;
		assert_true(udp >= 0);
		feed_done(&f, udp, 7);
		assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, udp);
		for (int t = 0; t < 3; t++) {
			tick_at(&f, f.now + PQ_PATH_PROBE_AFTER_MS / 2);
			assert_int_equal(find(&f, PQ_PATH_ACT_KEEPALIVE), -1);
		}
	}

	/* The other side: UDP active and quiet, then the KEEPALIVE on TLS. */
	udp_over_tls(&f, &udp, &tls);
	quiet = f.now;
	f.now = quiet + PQ_PATH_PROBE_AFTER_MS - 1;
	assert_false(pq_path_rx_wants_event(&f.p, tls, f.now));
	feed(&f, PQ_PATH_EV_RX, tls);
	assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	f.now = quiet + PQ_PATH_PROBE_AFTER_MS;
	assert_true(pq_path_rx_wants_event(&f.p, tls, f.now));
	assert_true(pq_path_rx_wants_event(&f.p, PQ_PATH_VIA_RELAY, f.now));
	/* The active conn itself, or no conn at all, never. */
	assert_false(pq_path_rx_wants_event(&f.p, udp, f.now));
	assert_false(pq_path_rx_wants_event(&f.p, -3, f.now));
	assert_false(pq_path_rx_wants_event(&f.p, PQ_PATH_MAX_CONNS, f.now));
	feed(&f, PQ_PATH_EV_RX, tls);
	assert_int_equal(act(&f, PQ_PATH_ACT_PROBE)->conn, udp);
	/* Once: the next message waits for the answer. */
	assert_false(pq_path_rx_wants_event(&f.p, tls, f.now));
	feed(&f, PQ_PATH_EV_RX, tls);
	assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	tick_at(&f, f.now + PQ_PATH_PROBE_WAIT_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, udp);
	assert_int_equal(f.p.active, tls);
}

static void test_udp_attempt_failure_retried(void **state)
{
	struct fx f;
	int udp;

	setup_fx(&f, false, PQ_PATH_POLICY_AUTO);
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	feed_mixed(&f, 0, 1);
	tick_at(&f, f.now + PQ_PATH_HIGH_KEY_DELAY_MS);
	udp = dial_of(&f, PQ_PATH_UDP);
	assert_true(udp >= 0);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, udp);
	tick_at(&f, f.now + PQ_PATH_REHS_TIMEOUT_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_REHS_TIMEOUT);
	assert_int_equal(f.p.count.udp_failed, 1);
	assert_true(f.p.next_dial_ms[PQ_PATH_UDP] >= f.now + RETRY - RETRY / 8);
	/* New candidates: at once (the higher key 1.5 s later). */
	feed_mixed(&f, 0, 2);
	assert_int_equal(f.p.next_dial_ms[PQ_PATH_UDP], f.now + PQ_PATH_HIGH_KEY_DELAY_MS);
}

/* A UDP attempt is announced through the session: not while the peer is
 * offline at the relay and no conn carries anything. */
static void test_udp_needs_a_way_to_announce(void **state)
{
	struct fx f;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed_keys(&f, 7);
	feed_mixed(&f, 0, 1);
	tick_at(&f, f.now + 3 * RETRY);
	assert_int_equal(dial_of(&f, PQ_PATH_UDP), -1);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	assert_true(dial_of(&f, PQ_PATH_UDP) >= 0);
}

/* An idle UDP path is probed every keepalive_udp: the answer keeps both
 * NAT mappings open. */
static void test_udp_keepalive(void **state)
{
	struct fx f;
	int udp;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	f.p.cfg.keepalive_udp_ms = 25000;
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	feed_mixed(&f, 0, 1);
	udp = dial_of(&f, PQ_PATH_UDP);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, udp);
	feed_done(&f, udp, 7);
	assert_int_equal(f.out.deadline_ms, f.now + 25000);
	tick_at(&f, f.now + 24999);
	assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	tick_at(&f, f.now + 1);
	assert_int_equal(act(&f, PQ_PATH_ACT_PROBE)->conn, udp);
	f.now += 30;
	feed(&f, PQ_PATH_EV_RX, udp);
	feed(&f, PQ_PATH_EV_TX, udp); /* the probe went at the tick: counted as sent */
	/* Traffic keeps it open without probes. */
	for (int i = 0; i < 10; i++) {
		f.now += 10000;
		assert_false(pq_path_tx(&f.p, udp, f.now) && false);
		pq_path_rx(&f.p, udp, f.now);
		tick_at(&f, f.now);
		assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	}
}

/* An answer to the peer's PROBE starts no liveness clock: else each
 * answer draws a PROBE a second later and two idle peers probe each other
 * every second, whatever keepalive_udp says. */
static void test_probe_answer_starts_no_clock(void **state)
{
	struct fx f;
	int udp;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	f.p.cfg.keepalive_udp_ms = 25000;
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	feed_mixed(&f, 0, 1);
	udp = dial_of(&f, PQ_PATH_UDP);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, udp);
	feed_done(&f, udp, 7);
	/* The peer's PROBE arrives, we answer. */
	f.now += 5000;
	pq_path_rx(&f.p, udp, f.now);
	pq_path_tx_answer(&f.p, udp, f.now);
	assert_int_equal(pq_path_next_deadline(&f.p, f.now), f.now + 25000);
	for (int i = 1; i < 25; i++) {
		tick_at(&f, f.now + 1000);
		assert_int_equal(find(&f, PQ_PATH_ACT_PROBE), -1);
	}
	/* The answer counts as traffic: our own keepalive is due 25 s after it. */
	tick_at(&f, f.now + 1000);
	assert_int_equal(act(&f, PQ_PATH_ACT_PROBE)->conn, udp);
	/* Out of range or on a free slot: nothing. */
	pq_path_tx_answer(&f.p, -1, f.now);
	pq_path_tx_answer(&f.p, PQ_PATH_MAX_CONNS, f.now);
}

/* A path dead in our direction only: the peer's datagrams still arrive,
 * its keepalive PROBE and PMTU re-check among them, while ours are lost.
 * Those come on its schedule and must not stop our clock (the node feeds
 * pq_path_rx only what pq_path_rx_is_answer says): dropped 2 s after our
 * unanswered send, as on a path dead both ways. */
static void rx_msg(struct fx *f, int k, uint8_t type)
{
	if (pq_path_rx_is_answer(type))
		pq_path_rx(&f->p, k, f->now);
}

static void test_peer_probe_is_no_answer(void **state)
{
	const uint8_t answers[] = { PQ_MSG_DATA, PQ_MSG_DATA_GSO, PQ_MSG_KEEPALIVE, PQ_MSG_PROBE_ACK,
				    PQ_MSG_PMTU_ACK, PQ_MSG_ENDPOINTS };
	struct fx f;
	uint64_t sent;
	int k;

	(void)state;
	for (size_t i = 0; i < sizeof(answers); i++)
		assert_true(pq_path_rx_is_answer(answers[i]));
	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	f.now += 100;
	sent = f.now;
	feed(&f, PQ_PATH_EV_TX, k);
	f.now += 500;
	rx_msg(&f, k, PQ_MSG_PROBE);
	tick_at(&f, sent + PQ_PATH_PROBE_AFTER_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_PROBE)->conn, k);
	f.now += 500;
	rx_msg(&f, k, PQ_MSG_PMTU_PROBE);
	rx_msg(&f, k, PQ_MSG_PROBE);
	tick_at(&f, sent + PQ_PATH_PROBE_AFTER_MS + PQ_PATH_PROBE_WAIT_MS);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_PROBE);
	assert_int_equal(f.p.count.fallbacks, 1);
	/* Its answer, by contrast, keeps the path. */
	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	k = direct_up(&f);
	sent = f.now;
	feed(&f, PQ_PATH_EV_TX, k);
	tick_at(&f, sent + PQ_PATH_PROBE_AFTER_MS);
	assert_non_null(act(&f, PQ_PATH_ACT_PROBE));
	f.now += 500;
	rx_msg(&f, k, PQ_MSG_PROBE_ACK);
	tick_at(&f, sent + PQ_PATH_PROBE_AFTER_MS + PQ_PATH_PROBE_WAIT_MS);
	assert_int_equal(find(&f, PQ_PATH_ACT_DROP), -1);
	assert_int_equal(f.p.active, k);
}

static void test_transport_policy(void **state)
{
	struct fx f;
	struct pq_path_event ev = { .type = PQ_PATH_EV_POLICY, .policy = PQ_PATH_POLICY_AUTO,
				    .transports = PQ_PATH_TLS_ONLY };
	int udp;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	f.p.cfg.transports = PQ_PATH_UDP_ONLY;
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	feed_mixed(&f, 2, 1);
	assert_int_equal(dial_of(&f, PQ_PATH_TLS), -1);
	udp = dial_of(&f, PQ_PATH_UDP);
	assert_true(udp >= 0);
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	assert_int_equal(f.out.accepted, -1);
	/* Changed to TLS only: the UDP attempt goes, TLS is dialled. */
	feed_ev(&f, &ev);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, udp);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_POLICY);
	assert_true(dial_of(&f, PQ_PATH_TLS) >= 0);
	assert_int_equal(f.p.next_dial_ms[PQ_PATH_UDP], 0);
}

/* A planned move (reload: transport udp|auto -> tls): the UDP conn goes,
 * the TLS conn standing by takes over in one step, no relay hop, and
 * stays when UDP is allowed again (only UDP is dialled). Closing the TLS
 * conn too would cut what the peer has in flight on it (issue 9). */
static void test_transport_policy_hands_over(void **state)
{
	struct fx f;
	struct pq_path_event ev = { .type = PQ_PATH_EV_POLICY, .policy = PQ_PATH_POLICY_AUTO,
				    .transports = PQ_PATH_TLS_ONLY };
	int tls, udp;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	feed_mixed(&f, 1, 1);
	udp = dial_of(&f, PQ_PATH_UDP);
	assert_true(udp >= 0);
	feed(&f, PQ_PATH_EV_DIAL_OPENED, udp);
	feed_done(&f, udp, 7);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, udp);
	/* The peer's TLS dial (its transport already tls) stands by. */
	feed(&f, PQ_PATH_EV_ACCEPTED, PQ_PATH_TLS);
	tls = f.out.accepted;
	assert_true(tls >= 0);
	for (int k = 0; k < PQ_PATH_MAX_CONNS; k++)
		if (k != udp && k != tls && f.p.conn[k].state != PQ_PCONN_FREE)
			feed(&f, PQ_PATH_EV_CLOSED, k); /* our own TLS dial, if any */
	f.now += 3;
	feed_done(&f, tls, 7);
	assert_int_equal(f.p.active, udp);
	f.now += 1000;
	feed_ev(&f, &ev);
	for (unsigned i = 0; i < f.out.n; i++) /* the one DROP, the one switch */
		assert_true(f.out.act[i].type == PQ_PATH_ACT_DROP ? f.out.act[i].conn == udp
			    : f.out.act[i].type != PQ_PATH_ACT_ACTIVATE || f.out.act[i].conn == tls);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->conn, udp);
	assert_int_equal(act(&f, PQ_PATH_ACT_DROP)->reason, PQ_PATH_DROP_POLICY);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->conn, tls);
	assert_int_equal(act(&f, PQ_PATH_ACT_ACTIVATE)->from, udp);
	assert_int_equal(f.p.count.fallbacks, 0);
	assert_int_equal(pq_path_route(&f.p, PQ_PATH_MSG_DATA, true, PQ_PATH_VIA_RELAY), tls);
	/* Back to auto: TLS carries on, UDP is dialled again. */
	ev.transports = PQ_PATH_ANY;
	feed_ev(&f, &ev);
	assert_int_equal(find(&f, PQ_PATH_ACT_DROP), -1);
	assert_true(dial_of(&f, PQ_PATH_UDP) >= 0);
	assert_int_equal(f.p.active, tls);
}

static void test_ours_changed(void **state)
{
	struct fx f;

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	feed_keys(&f, 7);
	feed(&f, PQ_PATH_EV_ONLINE, 0);
	assert_non_null(act(&f, PQ_PATH_ACT_SEND_ENDPOINTS));
	feed(&f, PQ_PATH_EV_OURS_CHANGED, 0); /* e.g. STUN told us our mapping */
	assert_non_null(act(&f, PQ_PATH_ACT_SEND_ENDPOINTS));
}

static void test_invalid_events(void **state)
{
	struct fx f;
	struct pq_path_event ev = { .type = PQ_PATH_EV_DIAL_OPENED, .conn = 0 };

	setup_fx(&f, true, PQ_PATH_POLICY_AUTO);
	assert_int_equal(pq_path_input(&f.p, &ev, f.now, &f.out), PQ_E_INVAL);
	ev.conn = PQ_PATH_MAX_CONNS;
	ev.type = PQ_PATH_EV_CLOSED;
	assert_int_equal(pq_path_input(&f.p, &ev, f.now, &f.out), PQ_E_INVAL);
	ev.conn = -1;
	assert_int_equal(pq_path_input(&f.p, &ev, f.now, &f.out), PQ_E_INVAL);
	ev.type = PQ_PATH_EV_COUNT;
	assert_int_equal(pq_path_input(&f.p, &ev, f.now, &f.out), PQ_E_INVAL);
	ev.type = PQ_PATH_EV_CANDIDATES;
	ev.cand_count = 2;
	ev.cand_transport = NULL;
	assert_int_equal(pq_path_input(&f.p, &ev, f.now, &f.out), PQ_E_INVAL);
	assert_int_equal(f.out.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migration),
		cmocka_unit_test(test_accepted_conn),
		cmocka_unit_test(test_accept_refused),
		cmocka_unit_test(test_fallback_after_unanswered_probe),
		cmocka_unit_test(test_rx_answers_liveness),
		cmocka_unit_test(test_relay_heard_probes_quiet_path),
		cmocka_unit_test(test_error_falls_back_at_once),
		cmocka_unit_test(test_next_candidate_then_retry),
		cmocka_unit_test(test_retry_after_rehs_failed),
		cmocka_unit_test(test_retry_after_close_before_proof),
		cmocka_unit_test(test_retry_after_rehs_timeout),
		cmocka_unit_test(test_accepted_conn_times_out),
		cmocka_unit_test(test_crossing_lower_key_wins),
		cmocka_unit_test(test_higher_key_dials_later),
		cmocka_unit_test(test_newer_conn_replaces),
		cmocka_unit_test(test_transport_preference),
		cmocka_unit_test(test_reauth_after_rekey_and_interval),
		cmocka_unit_test(test_reauth_timeout_drops),
		cmocka_unit_test(test_peer_run_timeout_by_transport),
		cmocka_unit_test(test_policy_relay),
		cmocka_unit_test(test_policy_direct),
		cmocka_unit_test(test_route_handshake),
		cmocka_unit_test(test_keys_gone),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_dial_needs_online),
		cmocka_unit_test(test_jitter_range),
		cmocka_unit_test(test_udp_and_tls_dials),
		cmocka_unit_test(test_udp_attempt_failure_retried),
		cmocka_unit_test(test_udp_needs_a_way_to_announce),
		cmocka_unit_test(test_udp_keepalive),
		cmocka_unit_test(test_probe_answer_starts_no_clock),
		cmocka_unit_test(test_peer_probe_is_no_answer),
		cmocka_unit_test(test_drop_told_on_the_new_conn),
		cmocka_unit_test(test_transport_policy),
		cmocka_unit_test(test_transport_policy_hands_over),
		cmocka_unit_test(test_ours_changed),
		cmocka_unit_test(test_invalid_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
