/*
 * pqlan status [-c FILE | -s SOCKET] [--json] - ask running nodes for
 * their peers, state, path, last handshake and counters, through their
 * control sockets (node/node.h). Needs only the socket: with -c, a file
 * that does not load (being edited) still names its socket; with neither
 * option, every *.sock in /run/pqlan (or $PQLAN_RUN_DIR) is asked.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "node/node.h"

#define RUN_DIR_DEFAULT "/run/pqlan"
#define MAX_SOCKETS 64

static int ask(const char *path, bool json)
{
	char err[512];

	if (cli_ctl_request(path, json ? "json\n" : "text\n", stdout, err, sizeof(err))) {
		fprintf(stderr, "pqlan status: %s\n", err);
		return 1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.sock under the run directory, in name order. */
static int ask_all(bool json)
{
	const char *dir = getenv("PQLAN_RUN_DIR");
	char *names[MAX_SOCKETS], path[PQ_NODE_CONTROL_PATH_LEN];
	struct dirent *de;
	size_t n = 0;
	int status = 0;
	DIR *d;

	if (!dir || !*dir)
		dir = RUN_DIR_DEFAULT;
	if (!(d = opendir(dir))) {
		fprintf(stderr, "pqlan status: no running node (cannot open %s); name one with -c or -s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) && n < MAX_SOCKETS) {
		size_t len = strlen(de->d_name);

		if (len > 5 && !strcmp(de->d_name + len - 5, ".sock") && (names[n] = strdup(de->d_name)))
			n++;
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "pqlan status: no running node (no socket in %s)\n", dir);
		return 1;
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			fprintf(stderr, "pqlan status: %s/%s: path too long\n", dir, names[i]);
			status = 1;
		} else {
			if (!json)
				printf("%s== %s\n", i ? "\n" : "", path);
			fflush(stdout);
			status |= ask(path, json);
		}
		free(names[i]);
	}
	return status;
}

int cmd_status(int argc, char **argv)
{
	char path[PQ_NODE_CONTROL_PATH_LEN], err[PQ_NODE_ERR_LEN];
	const char *conf = NULL, *sock = NULL;
	bool json = false;
	int lenient, status;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return cli_usage(stderr, "status");
	}
	if (conf && sock)
		return cli_usage(stderr, "status");
	if (!conf && !sock)
		status = ask_all(json);
	else if (sock)
		status = ask(sock, json);
	else if (cli_node_socket(conf, path, sizeof(path), &lenient, err, sizeof(err))) {
		fprintf(stderr, "pqlan status: %s\n", err);
		return 1;
	} else {
		if (lenient)
			fprintf(stderr, "pqlan status: %s does not load as it is; asking %s anyway\n",
				conf, path);
		status = ask(path, json);
	}
	return fflush(stdout) == 0 ? status : 1;
}
