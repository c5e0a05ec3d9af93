/*
 * pqlan relay-status [-c FILE | -s SOCKET] [--json] - ask a running relay
 * for its connected nodes and counters through its control socket
 * ([relay] control, default PQ_RELAY_CONTROL_DEFAULT).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "relay/config.h"

int cmd_relay_status(int argc, char **argv)
{
	struct pq_relay_config cfg;
	char err[PQ_CONFIG_ERR_LEN];
	const char *conf = NULL, *sock = NULL;
	bool json = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return cli_usage(stderr, "relay-status");
	}
	if (conf && sock)
		return cli_usage(stderr, "relay-status");
	memset(&cfg, 0, sizeof(cfg));
	if (conf) {
		if (pq_relay_config_load(&cfg, conf, err, sizeof(err))) {
			fprintf(stderr, "pqlan relay-status: %s\n", err);
			return 1;
		}
		sock = cfg.control;
	}
	if (!sock)
		sock = PQ_RELAY_CONTROL_DEFAULT;
	rc = cli_ctl_request(sock, json ? "json\n" : "text\n", stdout, err, sizeof(err));
	if (rc)
		fprintf(stderr, "pqlan relay-status: %s\n", err);
	pq_relay_config_free(&cfg);
	return rc || fflush(stdout) ? 1 : 0;
}
