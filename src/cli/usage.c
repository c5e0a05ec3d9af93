/*
 * usage.c - each subcommand's usage text, in one table: `pqlan CMD --help`
 * prints it on stdout with status 0, a usage error prints it on stderr
 * with status 2 (commands.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const struct {
	const char *name, *text;
} usages[] = {
	{ "genkey", "usage: pqlan genkey [FILE]\n"
		    "  Make a new private key. With FILE: write it to a new file of mode 0600\n"
		    "  (never overwrites); without: print it on stdout.\n" },
	{ "pubkey", "usage: pqlan pubkey < private.key\n"
		    "  Print the public key of the private key read on stdin.\n" },
	{ "bench", "usage: pqlan bench [--json]\n"
		   "  Time the crypto primitives and one handshake.\n" },
	{ "up", "usage: pqlan up -c node.conf [-v]\n"
		"  Run the node daemon in the foreground.\n"
		"  -c FILE   the node's configuration (man 5 pqlan.conf)\n"
		"  -v        log at debug level\n" },
	{ "status", "usage: pqlan status [-c node.conf | -s SOCKET] [--json]\n"
		    "  Show running nodes' peers. Without -c or -s: every node with a socket\n"
		    "  in /run/pqlan (or $PQLAN_RUN_DIR).\n"
		    "  -c FILE   the node of this configuration (only its control socket is read)\n"
		    "  -s PATH   the node serving this control socket\n"
		    "  --json    one JSON object per node\n" },
	{ "reload", "usage: pqlan reload -c node.conf | -s SOCKET\n"
		    "  Make a running node re-read its configuration (as SIGHUP does) and print\n"
		    "  what changed, or why nothing did.\n"
		    "  -c FILE   the node of this configuration\n"
		    "  -s PATH   the node serving this control socket\n" },
	{ "relay", "usage: pqlan relay -c relay.conf [-v]\n"
		   "  Run the relay in the foreground.\n"
		   "  -c FILE   the relay's configuration (man 5 pqlan.conf)\n"
		   "  -v        log at debug level\n" },
	{ "relay-status", "usage: pqlan relay-status [-c relay.conf | -s SOCKET] [--json]\n"
			  "  Show a running relay's connected nodes and counters.\n"
			  "  -c FILE   the relay of this configuration (its control socket)\n"
			  "  -s PATH   the relay serving this socket (default /run/pqlan/relay.sock)\n"
			  "  --json    JSON instead of text\n" },
	{ "version", "usage: pqlan version (or pqlan --version)\n"
		     "  Print the release, the commit it was built from and the protocol version.\n" },
};

int cli_usage(FILE *out, const char *cmd)
{
	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (!strcmp(usages[i].name, cmd)) {
			fputs(usages[i].text, out);
			return out == stdout ? 0 : 2;
		}
	fprintf(out, "usage: pqlan %s\n", cmd);
	return out == stdout ? 0 : 2;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}
