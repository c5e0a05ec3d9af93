/*
 * pqlan reload -c FILE | -s SOCKET - make a running node re-read its
 * configuration file (the one it was started with), as SIGHUP does, and
 * print its answer: what changed, or why nothing did. The answer's first
 * word is "ok" or "refused"; the exit status follows it (0 or 1).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "node/node.h"

int cmd_reload(int argc, char **argv)
{
	char path[PQ_NODE_CONTROL_PATH_LEN], err[PQ_NODE_ERR_LEN], reply[4096];
	const char *conf = NULL, *sock = NULL;
	FILE *mem;
	int lenient, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			sock = argv[++i];
		else
			return cli_usage(stderr, "reload");
	}
	if (!conf == !sock)
		return cli_usage(stderr, "reload");
	if (conf) {
		/* A file that does not load is refused by the daemon too, with
		 * its messages: ask it anyway, it says so and keeps running. */
		if (cli_node_socket(conf, path, sizeof(path), &lenient, err, sizeof(err))) {
			fprintf(stderr, "pqlan reload: %s\n", err);
			return 1;
		}
		sock = path;
	}
	memset(reply, 0, sizeof(reply));
	if (!(mem = fmemopen(reply, sizeof(reply) - 1, "w"))) {
		fprintf(stderr, "pqlan reload: out of memory\n");
		return 1;
	}
	rc = cli_ctl_request(sock, "reload\n", mem, err, sizeof(err));
	fclose(mem);
	if (rc) {
		fprintf(stderr, "pqlan reload: %s\n", err);
		return 1;
	}
	fputs(reply, strncmp(reply, "ok", 2) ? stderr : stdout);
	return strncmp(reply, "ok", 2) ? 1 : 0;
}
