/* version.c - the build's version strings (version.h). */
#include "pq_version.h"
#include "util/version.h"

const char *pq_version(void)
{
	return PQ_VERSION;
}

const char *pq_version_git(void)
{
	return PQ_VERSION_GIT;
}

const char *pq_version_text(void)
{
	return PQ_VERSION_GIT[0] ? PQ_VERSION " (git " PQ_VERSION_GIT ")" : PQ_VERSION;
}
