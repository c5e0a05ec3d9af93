/*
 * pqlan status -c FILE [--json] - ask a running `pqlan up` for its peers,
 * their state, path, last handshake and counters, through the control
 * socket named in node.conf (node/control.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "node/config.h"
#include "node/control.h"

static int usage(void)
{
	fprintf(stderr, "usage: pqlan status -c node.conf [--json]\n");
	return 2;
}

int cmd_status(int argc, char **argv)
{
	static char err[PQ_CONFIG_ERR_LEN];
	struct pq_node_config cfg;
	const char *conf = NULL;
	bool json = false;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return usage();
	}
	if (!conf)
		return usage();
	memset(&cfg, 0, sizeof(cfg));
	if (pq_node_config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "pqlan status: %s\n", err);
		goto out;
	}
	if (pq_control_query(cfg.control, json, stdout, err, sizeof(err))) {
		fprintf(stderr, "pqlan status: %s\n", err);
		goto out;
	}
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	pq_node_config_free(&cfg);
	return status;
}
