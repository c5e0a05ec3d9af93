/*
 * commands.h - the subcommands of the pqlan binary. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit status: 0 done, 1 failed, 2 usage error. main() answers
 * `pqlan CMD --help` itself (usage.c), before the command runs.
 */
#ifndef PQ_CLI_COMMANDS_H
#define PQ_CLI_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_relay_status(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* cmd's usage text on out; returns 0 for stdout (--help), 2 otherwise. */
int cli_usage(FILE *out, const char *cmd);
/* -h or --help among the arguments. */
bool cli_wants_help(int argc, char **argv);

#endif
