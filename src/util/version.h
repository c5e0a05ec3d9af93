/*
 * version.h - what this build is: the release number (the VERSION file)
 * and, for a build from a git work tree, the commit it was built from
 * (scripts/gen-version.sh writes both into BUILD/gen/pq_version.h; only
 * version.c includes it, so a new commit recompiles one file).
 *
 * The wire protocol's version is another number (PQ_HS_VERSION in
 * proto/msg_handshake.h, docs/PROTOCOL.md §1 "Versions"): builds of one
 * protocol version interoperate, whatever their release numbers.
 */
#ifndef PQ_UTIL_VERSION_H
#define PQ_UTIL_VERSION_H

/* "0.1.0": the release number. Static storage. */
const char *pq_version(void);
/* "66a809f1d1ef" or "66a809f1d1ef-dirty"; "" when not built from git. */
const char *pq_version_git(void);
/* "0.1.0 (git 66a809f1d1ef)" or "0.1.0": for logs and --version. */
const char *pq_version_text(void);

#endif
