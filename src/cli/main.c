/* pqlan - post-quantum layer-2 VPN. main() only dispatches subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "genkey", cmd_genkey, "print a new private key (base64)" },
	{ "pubkey", cmd_pubkey, "read a private key on stdin, print its public key" },
	{ "bench", cmd_bench, "measure the crypto primitives [--json]" },
	{ "up", cmd_up, "run the node daemon: -c node.conf [-v]" },
	{ "status", cmd_status, "show a running node's peers: -c node.conf [--json]" },
	{ "relay", cmd_relay, "run the relay: -c relay.conf [-v]" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: pqlan <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "pqlan: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
