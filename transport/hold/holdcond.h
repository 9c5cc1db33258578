/*
 * holdcond.h - the conditions of the hold transport agent: the quad's host
 * field "CLASS:param" (hold(8)).  Parsing only; hold.c evaluates them.
 */
#ifndef ZMTA_HOLDCOND_H
#define ZMTA_HOLDCOND_H

#include <stddef.h>
#include "zbuf.h"

enum hold_class {
	HOLD_NS = 1,      /* NS:name[/type]  a definite DNS answer */
	HOLD_TIMEOUT,     /* TIMEOUT:epoch   that time has passed */
	HOLD_AGE,         /* AGE:interval    the message is that old */
	HOLD_IO,          /* IO:anything     a 10 % chance (I/O trouble) */
	HOLD_SCRIPT,      /* SCRIPT:name[/arg]  MAILBIN/bin/name [arg] exits 0 */
	HOLD_HOME         /* HOME:user       the user's home can be stat()ed */
};

typedef struct hold_cond {
	enum hold_class cls;
	char name[256];       /* NS name, SCRIPT name, HOME user */
	char arg[256];        /* SCRIPT argument ("" for none) */
	int rrtype;           /* NS: RR type number (default A = 1) */
	char rrname[8];       /* NS: the type as given, lower case */
	long long when;       /* TIMEOUT: epoch seconds */
	long secs;            /* AGE: seconds */
} hold_cond;

/* hold_cond_parse - s[0..n) into c.  Z_OK; Z_ENOENT for an unknown class
 * (hold defers: a newer router may know it); Z_EPARSE for no colon or a
 * bad parameter (permanent).  Reason in err. */
int hold_cond_parse(const char *s, size_t n, hold_cond *c, zbuf *err);
/* hold_rrtype - RR type number of a name ("mx" -> 15), 0 if unknown */
int hold_rrtype(const char *name);

#endif
