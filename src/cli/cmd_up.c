/*
 * pqlan up -c FILE [-v] - run the node daemon in the foreground
 * (node/daemon.h). Logs go to stderr; SIGINT/SIGTERM stop it cleanly.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "node/daemon.h"
#include "node/log.h"

static int usage(void)
{
	fprintf(stderr, "usage: pqlan up -c node.conf [-v]\n");
	return 2;
}

int cmd_up(int argc, char **argv)
{
	const char *conf = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			pq_log_set_level(PQ_LOG_DEBUG);
		else
			return usage();
	}
	if (!conf)
		return usage();
	return pq_node_main(conf);
}
