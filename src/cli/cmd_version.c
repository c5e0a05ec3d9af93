/*
 * pqlan version / --version: the release, the commit it was built from and
 * the wire protocol version (docs/PROTOCOL.md §1 "Versions": builds
 * interoperate when their protocol versions are equal).
 */
#include <stdio.h>

#include "cli/commands.h"
#include "proto/msg_handshake.h"
#include "util/version.h"

int cmd_version(int argc, char **argv)
{
	if (argc != 1)
		return cli_usage(stderr, "version");
	printf("pqlan %s, protocol %d\n", pq_version_text(), PQ_HS_VERSION);
	return fflush(stdout) == 0 ? 0 : 1;
}
