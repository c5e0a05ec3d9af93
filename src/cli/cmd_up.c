/*
 * pqlan up -c FILE [-v] - run the node daemon in the foreground
 * (node/node.h). Logs go to stderr; SIGINT/SIGTERM stop it cleanly.
 *
 * Test-only environment (honoured only with PQLAN_TEST=1, refused
 * otherwise, so an inherited variable cannot change a production node):
 *   PQLAN_TEST_REKEY_MS=N   start a new handshake N ms after the last one
 *                           instead of after 120 s (DESIGN §4)
 *   PQLAN_TEST_HS_VERSION=N our HS_INIT claims protocol version N (1-255):
 *                           a peer of another version, for its refusal
 *                           line (tests/e2e/check_reload.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "node/node.h"
#include "util/log.h"

/* A decimal in [min, max] from env name into *out; 0 unset, -1 refused. */
static int test_env_num(const char *name, long long min, long long max, long long *out)
{
	const char *v = getenv(name), *test = getenv("PQLAN_TEST");
	char *end;

	if (!v)
		return 0;
	if (!test || strcmp(test, "1")) {
		fprintf(stderr, "pqlan up: %s is for tests only and needs PQLAN_TEST=1; unset it\n", name);
		return -1;
	}
	*out = strtoll(v, &end, 10);
	if (!*v || *end || *out < min || *out > max) {
		fprintf(stderr, "pqlan up: %s=%s, expected %lld-%lld\n", name, v, min, max);
		return -1;
	}
	return 1;
}

static int test_env_opts(struct pq_node_opts *o)
{
	long long n;
	int rc;

	if ((rc = test_env_num("PQLAN_TEST_REKEY_MS", 1000, 120000, &n)) < 0)
		return -1;
	if (rc)
		o->test_rekey_ms = (uint64_t)n;
	if ((rc = test_env_num("PQLAN_TEST_HS_VERSION", 1, 255, &n)) < 0)
		return -1;
	if (rc) {
		o->test_hs_version = (uint8_t)n;
		pq_log(PQ_LOG_WARN, "TEST MODE: HS_INIT claims protocol version %lld", n);
	}
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
