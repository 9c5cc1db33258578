/*
 * NAME
 *	holdcond - parse the hold agent's "CLASS:param" conditions
 *
 * SUMMARY
 *	The router parks a recipient on channel hold with the condition that
 *	must clear before it is routed again in the quad's host field.  This
 *	module checks that text and splits it into a hold_cond.
 *
 * SYNOPSIS
 *	#include "holdcond.h"
 *
 *	int hold_cond_parse(const char *s, size_t n, hold_cond *c, zbuf *err);
 *	int hold_rrtype(const char *name);
 *
 * DESCRIPTION
 *	Classes (case-insensitive): NS:name[/type] (type one of a aaaa any
 *	cname mx ns ptr soa srv txt wks, default a; name in the RFC 5321
 *	domain grammar, a trailing dot allowed), TIMEOUT:epoch (decimal
 *	seconds), AGE:interval (zinterval_parse: "90", "1h30m", "2d"),
 *	IO:anything, SCRIPT:name[/arg] (name of letters, digits, . _ - not
 *	starting with '.'; arg printable, no blanks, not starting with '-'),
 *	HOME:user (letters, digits, . _ -, not starting with '-').
 *
 * DIAGNOSTICS
 *	Z_ENOENT for an unknown class, Z_EPARSE for a missing colon or a bad
 *	parameter, with the reason in err.
 *
 * SECURITY
 *	The host field comes from a control file: bounded (255 bytes),
 *	NUL-free.  SCRIPT names can never hold '/' or start with '.', so they
 *	stay inside MAILBIN/bin; arguments can never be options.
 *
 * BUGS
 *	None known.
 *
 * SEE ALSO
 *	hold(8), transport/hold/hold.c
 */
#include <string.h>
#include <strings.h>
#include "holdcond.h"
#include "mhost.h"
#include "zutil.h"

static const struct { const char *name; int type; } rrtypes[] = {
	{ "a", 1 }, { "ns", 2 }, { "cname", 5 }, { "soa", 6 }, { "wks", 11 },
	{ "ptr", 12 }, { "mx", 15 }, { "txt", 16 }, { "aaaa", 28 }, { "srv", 33 },
	{ "any", 255 }
};

/* hold_rrtype - see holdcond.h */
int hold_rrtype(const char *name)
{
	for (size_t i = 0; i < sizeof(rrtypes) / sizeof(rrtypes[0]); i++)
		if (strcasecmp(rrtypes[i].name, name) == 0)
			return rrtypes[i].type;
	return 0;
}

/* seterr - reason into err */
static int seterr(zbuf *err, int rc, const char *why, const char *s, size_t n)
{
	if (err != NULL) {
		zbuf_reset(err);
		zbuf_printf(err, "%s: \"%.*s\"", why, (int)(n > 80 ? 80 : n), s);
	}
	return rc;
}

/* word_ok - [A-Za-z0-9._-]+, not starting with '-' or '.' (dot_ok: may) */
static int word_ok(const char *s, int dot_ok)
{
	if (*s == '\0' || *s == '-' || (!dot_ok && *s == '.'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* hold_cond_parse - see holdcond.h */
int hold_cond_parse(const char *s, size_t n, hold_cond *c, zbuf *err)
{
	const char *colon;
	char cls[16], param[256];
	size_t cn, pn;

	memset(c, 0, sizeof(*c));
	if (n > 255)
		return seterr(err, Z_EPARSE, "hold condition too long", s, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return seterr(err, Z_EPARSE, "blank or control byte in hold condition", s, n);
	colon = memchr(s, ':', n);
	if (colon == NULL)
		return seterr(err, Z_EPARSE, "hold condition without CLASS:", s, n);
	cn = (size_t)(colon - s);
	pn = n - cn - 1;
	if (cn == 0 || cn >= sizeof(cls))
		return seterr(err, Z_ENOENT, "unknown hold class", s, n);
	memcpy(cls, s, cn);
	cls[cn] = '\0';
	memcpy(param, colon + 1, pn);
	param[pn] = '\0';

	if (strcasecmp(cls, "NS") == 0) {
		char *slash = strchr(param, '/');
		size_t nl;
		c->cls = HOLD_NS;
		c->rrtype = 1;
		zstrlcpy(c->rrname, "a", sizeof(c->rrname));
		if (slash != NULL) {
			*slash = '\0';
			c->rrtype = hold_rrtype(slash + 1);
			if (c->rrtype == 0 || strlen(slash + 1) >= sizeof(c->rrname))
				return seterr(err, Z_EPARSE, "unknown DNS type in hold condition", s, n);
			for (size_t i = 0; slash[1 + i]; i++)
				c->rrname[i] = (char)((slash[1 + i] >= 'A' && slash[1 + i] <= 'Z')
						      ? slash[1 + i] + 32 : slash[1 + i]);
			c->rrname[strlen(slash + 1)] = '\0';
		}
		nl = strlen(param);
		if (nl > 1 && param[nl - 1] == '.')
			param[--nl] = '\0';
		if (nl == 0 || mhost_parse(param, nl, NULL, NULL) != Z_OK || param[0] == '[')
			return seterr(err, Z_EPARSE, "bad domain name in hold condition", s, n);
		zstrlcpy(c->name, param, sizeof(c->name));
	} else if (strcasecmp(cls, "TIMEOUT") == 0) {
		unsigned long v;
		c->cls = HOLD_TIMEOUT;
		if (zparse_ulong(param, 0xffffffffffUL, &v) != Z_OK)
			return seterr(err, Z_EPARSE, "TIMEOUT wants epoch seconds", s, n);
		c->when = (long long)v;
	} else if (strcasecmp(cls, "AGE") == 0) {
		c->cls = HOLD_AGE;
		if (zinterval_parse(param, &c->secs) != Z_OK || c->secs < 0)
			return seterr(err, Z_EPARSE, "AGE wants an interval (90, 30m, 2h, 1d)", s, n);
	} else if (strcasecmp(cls, "IO") == 0) {
		c->cls = HOLD_IO;
		zstrlcpy(c->name, param, sizeof(c->name));
	} else if (strcasecmp(cls, "SCRIPT") == 0) {
		char *slash = strchr(param, '/');
		c->cls = HOLD_SCRIPT;
		if (slash != NULL) {
			*slash = '\0';
			if (slash[1] == '\0' || slash[1] == '-')
				return seterr(err, Z_EPARSE, "bad SCRIPT argument", s, n);
			zstrlcpy(c->arg, slash + 1, sizeof(c->arg));
		}
		if (!word_ok(param, 0))
			return seterr(err, Z_EPARSE, "bad SCRIPT name", s, n);
		zstrlcpy(c->name, param, sizeof(c->name));
	} else if (strcasecmp(cls, "HOME") == 0) {
		c->cls = HOLD_HOME;
		if (!word_ok(param, 1))
			return seterr(err, Z_EPARSE, "bad HOME user name", s, n);
		zstrlcpy(c->name, param, sizeof(c->name));
	} else {
		return seterr(err, Z_ENOENT, "unknown hold class", s, n);
	}
	return Z_OK;
}
