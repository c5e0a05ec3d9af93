#include "util/err.h"

const char *pq_strerror(int err)
{
	switch (err) {
	case PQ_OK: return "success";
	case PQ_E_INVAL: return "invalid argument";
	case PQ_E_NOMEM: return "out of memory";
	case PQ_E_CRYPTO: return "crypto library failure";
	case PQ_E_AUTH: return "authentication failed";
	case PQ_E_REPLAY: return "replayed message";
	case PQ_E_DECODE: return "malformed message";
	case PQ_E_RANDOM: return "random generator failure";
	case PQ_E_KEY: return "invalid key";
	case PQ_E_IO: return "input/output error";
	case PQ_E_PERM: return "permission problem";
	case PQ_E_STATE: return "unexpected in this state";
	case PQ_E_TIME: return "timestamp out of range";
	case PQ_E_LIMIT: return "limit reached";
	case PQ_E_PEER: return "unknown or refused peer";
	case PQ_E_AGAIN: return "try again";
	case PQ_E_TIMEOUT: return "timed out";
	case PQ_E_TOOBIG: return "too big";
	case PQ_E_CONFIG: return "configuration error";
	case PQ_E_INUSE: return "address already in use";
	case PQ_E_REFUSED: return "connection refused (nothing listening there?)";
	case PQ_E_UNREACH: return "host or network unreachable";
	}
	return "unknown error";
}
