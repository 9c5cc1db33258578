/*
 * NAME
 *	smtp_ehlo - the EHLO keyword table: parse a server's, format one's own
 * SUMMARY
 *	One table of the ESMTP keywords zmta knows; the client turns an
 *	EHLO/LHLO reply into smtp_caps, a server writes its reply from one.
 * SYNOPSIS
 *	unsigned smtp_ehlo_keyword(zspan kw)
 *	const char *smtp_ehlo_name(unsigned flag)
 *	void smtp_caps_parse(const smtp_reply *r, smtp_caps *c)
 *	int smtp_ehlo_format(const smtp_caps *c, const char *greeting, zbuf *out)
 * DESCRIPTION
 *	Keywords (any case): 8BITMIME, DSN, ENHANCEDSTATUSCODES, CHUNKING,
 *	BINARYMIME, PIPELINING, STARTTLS, SIZE [n], AUTH mechs (also the old
 *	"AUTH=mechs" form), and the recipient limits X-RCPTLIMIT n (clamped
 *	to 10..100000) and LIMITS RCPTMAX=n (RFC 9422, clamped to
 *	1..100000).  A SIZE without a usable number means no limit.  Unknown
 *	keywords are ignored; the first line (the greeting) is skipped.
 *	AUTH mechanisms known: PLAIN, LOGIN, CRAM-MD5 (smtp_sasl.h).
 * DIAGNOSTICS
 *	smtp_ehlo_format: Z_OK or Z_ETOOBIG.  Parsing never fails: what is
 *	not understood is not used.
 * SECURITY
 *	The reply is untrusted; numbers are range-checked, nothing else of
 *	it is kept.
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmta-smtp(3), RFC 5321 4.1.1.1, RFC 1870, 2920, 3030, 3207, 3461,
 *	4954, 6152, 9422
 */
#include <string.h>
#include "smtp_ehlo.h"
#include "smtp_sasl.h"
#include "zerr.h"

/* the keyword table: the order is the order of a formatted reply */
static const struct {
	const char *name;
	unsigned flag;
} kwtab[] = {
	{ "PIPELINING", CAP_PIPELINING },
	{ "SIZE", CAP_SIZE },
	{ "8BITMIME", CAP_8BITMIME },
	{ "BINARYMIME", CAP_BINARYMIME },
	{ "CHUNKING", CAP_CHUNKING },
	{ "DSN", CAP_DSN },
	{ "ENHANCEDSTATUSCODES", CAP_ENHSTATUS },
	{ "STARTTLS", CAP_STARTTLS },
	{ "AUTH", CAP_AUTH },
};

/* smtp_ehlo_keyword - flag of a keyword */
unsigned smtp_ehlo_keyword(zspan kw)
{
	for (size_t i = 0; i < sizeof(kwtab) / sizeof(kwtab[0]); i++)
		if (zspan_caseeq(kw, kwtab[i].name))
			return kwtab[i].flag;
	return 0;
}

/* smtp_ehlo_name - keyword of a flag */
const char *smtp_ehlo_name(unsigned flag)
{
	for (size_t i = 0; i < sizeof(kwtab) / sizeof(kwtab[0]); i++)
		if (kwtab[i].flag == flag)
			return kwtab[i].name;
	return NULL;
}

/* caps_auth_words - add mechanisms named in rest */
static void caps_auth_words(zspan rest, smtp_caps *c)
{
	zcur cur;
	zcur_init(&cur, rest.p, rest.n);
	for (;;) {
		zspan w;
		zcur_skip_ws(&cur);
		if (zcur_take_token(&cur, &w) != Z_OK)
			break;
		c->auth |= smtp_sasl_mech_parse(w);
	}
}

/* caps_limits - "LIMITS RCPTMAX=n ..." */
static void caps_limits(zspan rest, smtp_caps *c)
{
	zcur lc;
	zspan w;

	zcur_init(&lc, rest.p, rest.n);
	for (;;) {
		zcur_skip_ws(&lc);
		if (zcur_take_token(&lc, &w) != Z_OK)
			break;
		if (w.n > 8 && zspan_startswith_case(w, "RCPTMAX=")) {
			unsigned long v;
			zspan num = { w.p + 8, w.n - 8 };
			if (zspan_to_ulong(num, 100000000UL, &v) == Z_OK && v >= 1)
				c->rcptlimit = v > 100000 ? 100000 : v;
		}
	}
}

/* caps_line - one keyword line */
static void caps_line(zspan kw, zspan rest, smtp_caps *c)
{
	unsigned f;

	if (kw.n > 5 && zspan_startswith_case(kw, "AUTH=")) {
		zspan m = { kw.p + 5, kw.n - 5 };
		c->flags |= CAP_AUTH;
		caps_auth_words(m, c);
		caps_auth_words(rest, c);
	} else if (zspan_caseeq(kw, "X-RCPTLIMIT")) {
		unsigned long v;
		if (zspan_to_ulong(zspan_trim(rest), 100000000UL, &v) == Z_OK) {
			if (v < 10)
				v = 10;
			if (v > 100000)
				v = 100000;
			c->rcptlimit = v;
		}
	} else if (zspan_caseeq(kw, "LIMITS")) {
		caps_limits(rest, c);
	} else if ((f = smtp_ehlo_keyword(kw)) != 0) {
		c->flags |= f;
		if (f == CAP_AUTH) {
			caps_auth_words(rest, c);
		} else if (f == CAP_SIZE) {
			unsigned long v;
			zspan t = zspan_trim(rest);
			c->size_max = 0;
			if (t.n > 0 && zspan_to_ulong(t, 0xffffffffffUL, &v) == Z_OK)
				c->size_max = v;
		}
	}
}

/* smtp_caps_parse - EHLO keywords */
void smtp_caps_parse(const smtp_reply *r, smtp_caps *c)
{
	zspan all = { r->text.data ? r->text.data : "", r->text.len };
	int first = 1;

	memset(c, 0, sizeof(*c));
	c->rcptlimit = SMTP_RCPTLIMIT_DEFAULT;
	while (all.n > 0) {
		long nl = zspan_chr(all, '\n');
		zspan line = { all.p, nl >= 0 ? (size_t)nl : all.n };
		zspan kw, rest;
		zcur cur;

		all.p += line.n + (nl >= 0);
		all.n -= line.n + (nl >= 0);
		if (first) {
			first = 0;
			continue;
		}
		if (line.n < 4)
			continue;
		zcur_init(&cur, line.p + 4, line.n - 4);
		zcur_skip_ws(&cur);
		if (zcur_take_token(&cur, &kw) != Z_OK)
			continue;
		zcur_take_rest(&cur, &rest);
		caps_line(kw, rest, c);
	}
}

/* smtp_ehlo_format - greeting line, then the capability lines */
int smtp_ehlo_format(const smtp_caps *c, const char *greeting, zbuf *out)
{
	size_t old = out->len;
	int rc = zbuf_puts(out, greeting ? greeting : "");

	for (size_t i = 0; rc == Z_OK && i < sizeof(kwtab) / sizeof(kwtab[0]); i++) {
		unsigned f = kwtab[i].flag;
		if (!(c->flags & f))
			continue;
		if (f == CAP_AUTH && c->auth == 0)
			continue;
		rc = zbuf_printf(out, "\n%s", kwtab[i].name);
		if (rc == Z_OK && f == CAP_SIZE && c->size_max > 0)
			rc = zbuf_printf(out, " %lu", c->size_max);
		for (unsigned m = 1; rc == Z_OK && f == CAP_AUTH && m <= AUTHM_CRAMMD5; m <<= 1)
			if (c->auth & m)
				rc = zbuf_printf(out, " %s", smtp_sasl_mech_name(m));
	}
	if (rc == Z_OK && c->rcptlimit > 0 && c->rcptlimit != SMTP_RCPTLIMIT_DEFAULT)
		rc = zbuf_printf(out, "\nLIMITS RCPTMAX=%lu", c->rcptlimit);
	if (rc != Z_OK)
		zbuf_truncate(out, old);
	return rc;
}
