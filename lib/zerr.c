/*
 * NAME
 *	zerr - names of the library status codes
 * SUMMARY
 *	Turn a Z_* status code into a short English phrase.
 * SYNOPSIS
 *	#include "zerr.h"
 *	const char *zerr_str(int code);
 * DESCRIPTION
 *	Maps the Z_* codes of zerr.h to short English text for log lines.
 *	The result is a static string; callers never free it.
 * DIAGNOSTICS
 *	None: a code zerr.h does not define yields "unknown status".
 * SECURITY
 *	Pure function; trusts nothing, touches nothing.  It must never
 *	return NULL or format the code into a shared buffer.
 * BUGS
 *	The text is English only.
 * SEE ALSO
 *	zerr.h, zlog.c, HACKING.md (error conventions).
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
