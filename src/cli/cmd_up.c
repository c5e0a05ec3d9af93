/*
 * pqlan up -c FILE [-v] - run the node daemon in the foreground
 * (node/node.h). Logs go to stderr; SIGINT/SIGTERM stop it cleanly.
 *
 * Test-only environment (honoured only with PQLAN_TEST=1, refused
 * otherwise, so an inherited variable cannot change a production node):
 *   PQLAN_TEST_REKEY_MS=N   start a new handshake N ms after the last one
 *                           instead of after 120 s (DESIGN §4)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "node/node.h"
#include "util/log.h"

static int test_env_opts(struct pq_node_opts *o)
{
	const char *v = getenv("PQLAN_TEST_REKEY_MS"), *test = getenv("PQLAN_TEST");
	char *end;
	long long ms;

	if (!v)
		return 0;
	if (!test || strcmp(test, "1")) {
		fprintf(stderr, "pqlan up: PQLAN_TEST_REKEY_MS is for tests only and needs "
			"PQLAN_TEST=1; unset it\n");
		return -1;
	}
	ms = strtoll(v, &end, 10);
	if (!*v || *end || ms < 1000 || ms > 120000) {
		fprintf(stderr, "pqlan up: PQLAN_TEST_REKEY_MS=%s, expected 1000-120000 "
			"(milliseconds)\n", v);
		return -1;
	}
	o->test_rekey_ms = (uint64_t)ms;
	return 0;
}

int cmd_up(int argc, char **argv)
{
	struct pq_node_opts opts = {0};
	const char *conf = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			opts.verbose = true;
		else
			return cli_usage(stderr, "up");
	}
	if (!conf)
		return cli_usage(stderr, "up");
	if (test_env_opts(&opts))
		return 1;
	if (opts.verbose)
		pq_log_set_level(PQ_LOG_DEBUG);
	if (opts.test_rekey_ms)
		pq_log(PQ_LOG_WARN, "TEST MODE: rekey every %llu ms", (unsigned long long)opts.test_rekey_ms);
	return pq_node_main(conf, &opts);
}
