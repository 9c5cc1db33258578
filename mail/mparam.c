/*
 * NAME
 *	mparam - ESMTP parameters of MAIL FROM: and RCPT TO:
 * SUMMARY
 *	Splits and checks the "keyword[=value]" list that follows the path
 *	of a MAIL or RCPT command, and says which reply a server should give
 *	when it is wrong.
 * SYNOPSIS
 *	int mparam_parse(const char *s, size_t n, unsigned allowed,
 *	    mparams *out, zbuf *err);
 *	const char *mparam_body_name(enum mbody b);
 *	int mparam_notify_parse(zspan v, unsigned *out);
 *	int mparam_notify_format(unsigned notify, zbuf *out);
 * DESCRIPTION
 *	esmtp-param = esmtp-keyword ["=" esmtp-value]; keyword = (ALPHA /
 *	DIGIT) *(ALPHA / DIGIT / "-"); value = 1*(33..60 / 62..126); params
 *	are separated by spaces (RFC 5321 4.1.2).  Keywords and the
 *	enumerated values are compared ignoring case.  Known keywords:
 *	SIZE=digits (at most 20), BODY=7BIT/8BITMIME/BINARYMIME,
 *	RET=FULL/HDRS, ENVID=xtext (at most 100 characters decoded),
 *	NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY (NEVER
 *	alone), ORCPT=addr-type;xtext (at most 500 characters), AUTH=xtext
 *	or <>, SMTPUTF8 (no value).  xtext is checked strictly (upper-case
 *	hex).  A keyword given twice is an error.  A keyword that is not
 *	known, or not in the caller's allowed mask, is reported as
 *	Z_ENOENT so that the server can answer 555 while it answers 501 to
 *	syntax errors; the values are kept as spans into s.
 *	mparam_notify_parse() is the NOTIFY value rule alone (also for
 *	sendmail's -N): no blanks, no empty item, any case.
 * DIAGNOSTICS
 *	Z_OK, Z_EPARSE, Z_ENOENT or Z_ETOOBIG with a one-line reason in err
 *	and out->enh (5.5.4 for syntax and unknown keywords, 5.3.4 for a
 *	SIZE that does not fit, 5.6.7 for non-ASCII bytes), out->reply and
 *	out->bad_keyword.  Parsing stops at the first error.
 * SECURITY
 *	Input is untrusted and may hold any byte.  Accepted values hold only
 *	bytes 33..126 except '='; decoded xtext may hold any byte and must be
 *	re-checked by whoever stores it.  Reads at most n bytes; no
 *	allocation except in err.
 * BUGS
 *	The AUTH= mailbox and the ORCPT address are checked as xtext only,
 *	not decoded and parsed as addresses.
 * SEE ALSO
 *	RFC 1870, RFC 3030, RFC 3461, RFC 4954, RFC 5321, RFC 6152,
 *	RFC 6531; mail/maddr.h; mail/xtext.h
 */
#include <limits.h>
#include <stdio.h>
#include "mparam.h"
#include "xtext.h"

static const struct mparam_kw {
	const char *name;
	unsigned bit;
} mparam_kws[] = {
	{ "SIZE", MPARAM_SIZE }, { "BODY", MPARAM_BODY }, { "RET", MPARAM_RET },
	{ "ENVID", MPARAM_ENVID }, { "NOTIFY", MPARAM_NOTIFY }, { "ORCPT", MPARAM_ORCPT },
	{ "AUTH", MPARAM_AUTH }, { "SMTPUTF8", MPARAM_SMTPUTF8 },
};

/* mparam_fail - set the diagnosis; returns rc */
static int mparam_fail(mparams *out, int rc, zspan kw, zbuf *err, const char *fmt, const char *arg)
{
	out->bad_keyword = kw;
	if (rc == Z_ENOENT) {
		out->enh = "5.5.4";
		out->reply = 555;
	} else if (rc == Z_ETOOBIG) {
		out->enh = "5.3.4";
		out->reply = 552;
	} else {
		out->enh = "5.5.4";
		out->reply = 501;
	}
	zbuf_printf(err, fmt, (int)(kw.n > 40 ? 40 : kw.n), kw.p ? kw.p : "", arg);
	return rc;
}

/* mparam_alnum - ASCII letter or digit */
static int mparam_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* mparam_notify_parse - NEVER or list of SUCCESS/FAILURE/DELAY */
int mparam_notify_parse(zspan v, unsigned *out)
{
	zcur c;
	unsigned bits = 0;

	zcur_init(&c, v.p, v.n);
	for (;;) {
		zspan item;

		if (zcur_take_until(&c, ',', &item) != Z_OK)
			zcur_take_rest(&c, &item);
		else if (zcur_eof(&c))
			return Z_EPARSE;              /* trailing comma */
		if (zspan_caseeq(item, "NEVER"))
			bits |= MNOTIFY_NEVER;
		else if (zspan_caseeq(item, "SUCCESS"))
			bits |= MNOTIFY_SUCCESS;
		else if (zspan_caseeq(item, "FAILURE"))
			bits |= MNOTIFY_FAILURE;
		else if (zspan_caseeq(item, "DELAY"))
			bits |= MNOTIFY_DELAY;
		else
			return Z_EPARSE;
		if (zcur_eof(&c))
			break;
	}
	if ((bits & MNOTIFY_NEVER) && bits != MNOTIFY_NEVER)
		return Z_EPARSE;
	*out = bits;
	return Z_OK;
}

/* mparam_atom - RFC 5322 atext only, at least one byte */
static int mparam_atom(zspan s)
{
	static const char more[] = "!#$%&'*+-/=?^_`{|}~";

	if (s.n == 0)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		int ok = mparam_alnum(c);

		for (size_t k = 0; !ok && more[k] != '\0'; k++)
			ok = c == (unsigned char)more[k];
		if (!ok)
			return 0;
	}
	return 1;
}

/* mparam_value - check and store the value of a known keyword */
static int mparam_value(mparams *out, unsigned bit, zspan kw, zspan v, int has_value, zbuf *err)
{
	zbuf why = ZBUF_INIT(160);
	int rc = Z_OK;

	if (bit == MPARAM_SMTPUTF8) {
		if (has_value)
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s takes no value%s", "");
		return Z_OK;
	}
	if (!has_value)
		return mparam_fail(out, Z_EPARSE, kw, err, "%.*s needs a value%s", "");
	switch (bit) {
	case MPARAM_SIZE:
		if (v.n > 20)
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s value longer than 20 digits%s", "");
		rc = zspan_to_ulong(v, ULONG_MAX, &out->size);
		if (rc == Z_ETOOBIG)
			return mparam_fail(out, Z_ETOOBIG, kw, err, "%.*s value too large%s", "");
		if (rc != Z_OK)
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s value is not a number%s", "");
		break;
	case MPARAM_BODY:
		if (zspan_caseeq(v, "7BIT"))
			out->body = MBODY_7BIT;
		else if (zspan_caseeq(v, "8BITMIME"))
			out->body = MBODY_8BITMIME;
		else if (zspan_caseeq(v, "BINARYMIME"))
			out->body = MBODY_BINARYMIME;
		else
			return mparam_fail(out, Z_EPARSE, kw, err,
			    "%.*s must be 7BIT, 8BITMIME or BINARYMIME%s", "");
		break;
	case MPARAM_RET:
		if (zspan_caseeq(v, "FULL"))
			out->ret = MRET_FULL;
		else if (zspan_caseeq(v, "HDRS"))
			out->ret = MRET_HDRS;
		else
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s must be FULL or HDRS%s", "");
		break;
	case MPARAM_ENVID:
		if (xtext_check(v, 0, &why) != Z_OK) {
			rc = mparam_fail(out, Z_EPARSE, kw, err, "%.*s: %s", zbuf_cstr(&why));
			break;
		}
		if (xtext_decoded_len(v) > MPARAM_ENVID_MAX)
			return mparam_fail(out, Z_EPARSE, kw, err,
			    "%.*s longer than 100 characters%s", "");
		out->envid = v;
		break;
	case MPARAM_NOTIFY:
		if (mparam_notify_parse(v, &out->notify) != Z_OK)
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s must be NEVER or a list of "
			    "SUCCESS, FAILURE, DELAY%s", "");
		break;
	case MPARAM_ORCPT: {
		long semi = zspan_chr(v, ';');
		zspan type, addr;

		if (v.n > MPARAM_ORCPT_MAX)
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s longer than 500 characters%s", "");
		if (semi <= 0 || (size_t)semi + 1 >= v.n)
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s must be addr-type;address%s", "");
		type = (zspan){ v.p, (size_t)semi };
		addr = (zspan){ v.p + semi + 1, v.n - (size_t)semi - 1 };
		if (!mparam_atom(type))
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s address type is not an atom%s", "");
		if (xtext_check(addr, 0, &why) != Z_OK) {
			rc = mparam_fail(out, Z_EPARSE, kw, err, "%.*s: %s", zbuf_cstr(&why));
			break;
		}
		out->orcpt_type = type;
		out->orcpt = addr;
		break;
	}
	case MPARAM_AUTH:
		if (v.n > MPARAM_AUTH_MAX)
			return mparam_fail(out, Z_EPARSE, kw, err, "%.*s longer than 500 characters%s", "");
		if (zspan_eq(v, "<>")) {
			out->auth_null = 1;
		} else if (xtext_check(v, 0, &why) != Z_OK) {
			rc = mparam_fail(out, Z_EPARSE, kw, err, "%.*s: %s", zbuf_cstr(&why));
			break;
		}
		out->auth = v;
		break;
	}
	zbuf_free(&why);
	return rc;
}

/* mparam_parse - see the contract above */
int mparam_parse(const char *s, size_t n, unsigned allowed, mparams *out, zbuf *err)
{
	size_t i = 0;

	*out = (mparams){ 0 };
	out->envid = out->orcpt = out->orcpt_type = out->auth = out->bad_keyword = (zspan){ "", 0 };
	if (s == NULL)
		return Z_OK;
	for (;;) {
		size_t ks, ke, vs = 0, ve = 0;
		int has_value = 0;
		zspan kw, v;
		unsigned bit = 0;
		int rc;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n)
			break;
		ks = i;
		if (!mparam_alnum((unsigned char)s[i])) {
			char hex[8];

			snprintf(hex, sizeof hex, "0x%02x", (unsigned char)s[i]);
			mparam_fail(out, Z_EPARSE, (zspan){ "", 0 }, err,
			    "parameter keyword starts with byte %.*s%s", hex);
			out->bad_keyword = (zspan){ s + i, 1 };
			if ((unsigned char)s[i] >= 0x80)
				out->enh = "5.6.7";
			return Z_EPARSE;
		}
		while (i < n && (mparam_alnum((unsigned char)s[i]) || s[i] == '-'))
			i++;
		ke = i;
		kw = (zspan){ s + ks, ke - ks };
		if (i < n && s[i] == '=') {
			has_value = 1;
			vs = ++i;
			while (i < n && (unsigned char)s[i] >= 33 && (unsigned char)s[i] <= 126 && s[i] != '=')
				i++;
			ve = i;
			if (ve == vs)
				return mparam_fail(out, Z_EPARSE, kw, err, "%.*s= without a value%s", "");
		}
		if (i < n && s[i] != ' ' && s[i] != '\t') {
			char hex[16];

			snprintf(hex, sizeof hex, ": byte 0x%02x", (unsigned char)s[i]);
			mparam_fail(out, Z_EPARSE, kw, err, "bad %.*s parameter%s", hex);
			if ((unsigned char)s[i] >= 0x80)
				out->enh = "5.6.7";
			return Z_EPARSE;
		}
		v = has_value ? (zspan){ s + vs, ve - vs } : (zspan){ "", 0 };
		for (size_t k = 0; k < sizeof mparam_kws / sizeof mparam_kws[0]; k++)
			if (zspan_caseeq(kw, mparam_kws[k].name))
				bit = mparam_kws[k].bit;
		if (bit == 0 || !(allowed & bit))
			return mparam_fail(out, Z_ENOENT, kw, err, bit == 0 ?
			    "unknown parameter %.*s%s" : "parameter %.*s not allowed here%s", "");
		if (out->seen & bit)
			return mparam_fail(out, Z_EPARSE, kw, err, "duplicate parameter %.*s%s", "");
		out->seen |= bit;
		rc = mparam_value(out, bit, kw, v, has_value, err);
		if (rc != Z_OK)
			return rc;
	}
	return Z_OK;
}

/* mparam_body_name - BODY value name */
const char *mparam_body_name(enum mbody b)
{
	switch (b) {
	case MBODY_7BIT:
		return "7BIT";
	case MBODY_8BITMIME:
		return "8BITMIME";
	case MBODY_BINARYMIME:
		return "BINARYMIME";
	case MBODY_NONE:
		break;
	}
	return "";
}

/* mparam_notify_format - NOTIFY value text */
int mparam_notify_format(unsigned notify, zbuf *out)
{
	static const struct { unsigned bit; const char *name; } w[] = {
		{ MNOTIFY_SUCCESS, "SUCCESS" }, { MNOTIFY_FAILURE, "FAILURE" }, { MNOTIFY_DELAY, "DELAY" },
	};
	size_t old = out != NULL ? out->len : 0;
	int rc = Z_OK, first = 1;

	if (notify & MNOTIFY_NEVER || (notify & (MNOTIFY_SUCCESS | MNOTIFY_FAILURE | MNOTIFY_DELAY)) == 0)
		return zbuf_puts(out, "NEVER");
	for (size_t k = 0; k < sizeof w / sizeof w[0] && rc == Z_OK; k++) {
		if (!(notify & w[k].bit))
			continue;
		if (!first)
			rc = zbuf_putc(out, ',');
		if (rc == Z_OK)
			rc = zbuf_puts(out, w[k].name);
		first = 0;
	}
	if (rc != Z_OK && out != NULL)
		zbuf_truncate(out, old);
	return rc;
}
