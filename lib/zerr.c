/*
 * NAME
 *	zerr - names of the library status codes
 * SYNOPSIS
 *	const char *zerr_str(int code);
 * DESCRIPTION
 *	Maps the Z_* codes of zerr.h to short English text for log lines.
 * SECURITY
 *	Pure function; trusts nothing, touches nothing.
 */
#include "zerr.h"

/* zerr_str - short English name of a status code */
const char *zerr_str(int code)
{
	switch (code) {
	case Z_OK: return "ok";
	case Z_ERR: return "error";
	case Z_ETOOBIG: return "limit exceeded";
	case Z_ENOMEM: return "out of memory";
	case Z_EPARSE: return "malformed input";
	case Z_EIO: return "I/O error";
	case Z_ENOENT: return "not found";
	case Z_EAGAIN: return "try again later";
	case Z_ESTALE: return "unexpected state";
	default: return "unknown status";
	}
}
