/*
 * commands.h - the subcommands of the pqlan binary. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit status.
 */
#ifndef PQ_CLI_COMMANDS_H
#define PQ_CLI_COMMANDS_H

int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_relay(int argc, char **argv);

#endif
