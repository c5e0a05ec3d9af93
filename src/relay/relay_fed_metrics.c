/*
 * relay_fed_metrics.c - federation's part of the relay's runtime view
 * (relay_metrics.c calls these): one status line and the Prometheus
 * counters of struct pq_relay_fed_stats. Nothing is written without NATS.
 */
#include "relay/relay_fed_int.h"
#include "util/strbuf.h"

void relay_fed_report_text(const struct pq_relay *r, struct pq_strbuf *b)
{
	struct pq_relay_fed_stats f;

	if (!r->fed)
		return;
	relay_fed_stats(r, &f);
	pq_sb_printf(b, "  nats: relay %s, %s, %llu outage(s); %llu node(s) on other relays; frames out %llu, "
		     "in %llu, in dropped %llu; bad messages %llu; drops: queue %llu, down %llu, slow %llu; "
		     "kv errors %llu; moved %llu, expired %llu\n", r->fed->name,
		     f.connected ? "connected" : "NOT CONNECTED (local only)", (unsigned long long)f.outages,
		     (unsigned long long)f.remote_nodes, (unsigned long long)f.fwd_out,
		     (unsigned long long)f.fwd_in, (unsigned long long)f.fwd_in_dropped,
		     (unsigned long long)f.bad_msgs, (unsigned long long)f.queue_dropped,
		     (unsigned long long)f.down_dropped, (unsigned long long)f.slow_dropped,
		     (unsigned long long)f.kv_errors, (unsigned long long)f.moved, (unsigned long long)f.expired);
}

static void fed_counter(struct pq_strbuf *b, const char *name, const char *help, uint64_t v)
{
	pq_sb_printf(b, "# HELP pqlan_relay_nats_%s %s\n# TYPE pqlan_relay_nats_%s counter\n"
		     "pqlan_relay_nats_%s %llu\n", name, help, name, name, (unsigned long long)v);
}

void relay_fed_metrics_text(const struct pq_relay *r, struct pq_strbuf *b)
{
	struct pq_relay_fed_stats f;

	if (!r->fed)
		return;
	relay_fed_stats(r, &f);
	pq_sb_printf(b, "# HELP pqlan_relay_nats_connected 1 while connected to NATS.\n"
		     "# TYPE pqlan_relay_nats_connected gauge\npqlan_relay_nats_connected %llu\n"
		     "# HELP pqlan_relay_nats_remote_nodes Nodes on other relays in this relay's view.\n"
		     "# TYPE pqlan_relay_nats_remote_nodes gauge\npqlan_relay_nats_remote_nodes %llu\n",
		     (unsigned long long)f.connected, (unsigned long long)f.remote_nodes);
	fed_counter(b, "outages_total", "NATS connection losses.", f.outages);
	fed_counter(b, "frames_out_total", "Frames sent to other relays.", f.fwd_out);
	fed_counter(b, "frames_in_total", "Frames from other relays delivered here.", f.fwd_in);
	fed_counter(b, "frames_in_dropped_total",
		    "Well-formed frames from NATS this relay's view disagrees with.", f.fwd_in_dropped);
	fed_counter(b, "bad_messages_total", "Malformed messages and records from NATS.", f.bad_msgs);
	fed_counter(b, "queue_drops_total", "Items dropped on a full queue to or from NATS.",
		    f.queue_dropped);
	fed_counter(b, "down_drops_total", "Records and frames not sent while NATS was down.",
		    f.down_dropped);
	fed_counter(b, "slow_drops_total", "Messages libnats dropped: read too slowly.", f.slow_dropped);
	fed_counter(b, "kv_errors_total", "Presence writes refused or timed out.", f.kv_errors);
	fed_counter(b, "records_written_total", "Presence records written.", f.puts);
	fed_counter(b, "moved_total", "Conns closed: the node connected to another relay since.", f.moved);
	fed_counter(b, "expired_total", "Remote records expired.", f.expired);
}
