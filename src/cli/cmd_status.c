/*
 * pqlan status -c FILE [--json] - ask a running `pqlan up` for its peers,
 * their state, path, last handshake and counters, through the control
 * socket named in node.conf (node/node.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "node/node.h"

static int usage(void)
{
	fprintf(stderr, "usage: pqlan status -c node.conf [--json]\n");
	return 2;
}

int cmd_status(int argc, char **argv)
{
	static char err[PQ_NODE_ERR_LEN];
	char path[PQ_NODE_CONTROL_PATH_LEN];
	const char *conf = NULL;
	bool json = false;

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
	if (pq_node_control_path(conf, path, sizeof(path), err, sizeof(err)) ||
	    pq_control_query(path, json, stdout, err, sizeof(err))) {
		fprintf(stderr, "pqlan status: %s\n", err);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
