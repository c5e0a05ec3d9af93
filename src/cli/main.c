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
	{ "genkey", cmd_genkey, "make a new private key [FILE]" },
	{ "pubkey", cmd_pubkey, "read a private key on stdin, print its public key" },
	{ "up", cmd_up, "run the node daemon: -c node.conf [-v]" },
	{ "status", cmd_status, "show running nodes' peers [-c node.conf | -s SOCKET] [--json]" },
	{ "reload", cmd_reload, "make a running node re-read its configuration: -c node.conf" },
	{ "relay", cmd_relay, "run the relay: -c relay.conf [-v]" },
	{ "relay-status", cmd_relay_status, "show a running relay's nodes [-s SOCKET] [--json]" },
	{ "bench", cmd_bench, "measure the crypto primitives [--json]" },
	{ "version", cmd_version, "print the version (also --version)" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: pqlan <command> [options]   (pqlan <command> --help for its options)\n\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-13s %s\n", subcommands[i].name, subcommands[i].help);
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
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name))
			continue;
		if (cli_wants_help(argc - 1, argv + 1))
			return cli_usage(stdout, subcommands[i].name);
		return subcommands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "pqlan: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
