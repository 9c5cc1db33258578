/*
 * NAME
 *	mstatus - enhanced status codes and DSN Action/Status values
 * SUMMARY
 *	Syntax of RFC 3463 status codes as they appear in SMTP replies and
 *	DSN Status fields, and the RFC 3464 action words.
 * SYNOPSIS
 *	int mstatus_parse(zspan s, mstatus *out, zbuf *err);
 *	int mstatus_valid(zspan s);
 *	size_t mstatus_prefix(zspan text, mstatus *out);
 *	int mstatus_agrees(const mstatus *st, int code);
 *	int mstatus_from_reply(int code, zspan text, mstatus *out);
 *	int mstatus_format(const mstatus *st, char *buf, size_t bufsz);
 *	const char *maction_name(enum maction a);
 *	int maction_parse(zspan value);
 *	int maction_agrees(enum maction a, const mstatus *st);
 *	int mstatus_field_parse(zspan value, mstatus *out, zbuf *err);
 * DESCRIPTION
 *	status-code = class "." subject "." detail; class is one of 2, 4, 5;
 *	subject and detail are 1 to 3 digits (RFC 3463 section 2).  In an
 *	SMTP reply the code opens the text after "NNN " or "NNN-" and is
 *	followed by a blank (RFC 2034); a code whose class differs from the
 *	reply code's first digit is not used (mstatus_agrees) and
 *	mstatus_from_reply then falls back to class.0.0.  Action and Status
 *	field values may carry blanks and a trailing RFC 5322 comment,
 *	which are ignored.
 * DIAGNOSTICS
 *	Z_OK, or Z_EPARSE with a one-line reason in err (when given).
 * SECURITY
 *	Input is untrusted; reads at most the span's bytes; no allocation
 *	except in err.
 * BUGS
 *	A comment in a field value must come last; comments between the
 *	parts of a code are not accepted.
 * SEE ALSO
 *	RFC 2034, RFC 3463, RFC 3464 section 2.3; mail/mheader.h
 */
#include <stdio.h>
#include "mstatus.h"

static const char *const maction_names[] = {
	"failed", "delayed", "delivered", "relayed", "expanded"
};

/* mstatus_scan - code at the start of s: its length, or 0 */
static size_t mstatus_scan(zspan s, mstatus *out)
{
	unsigned v[3] = { 0, 0, 0 };
	size_t i = 0;

	if (s.p == NULL || s.n < 5)
		return 0;
	if (s.p[0] != '2' && s.p[0] != '4' && s.p[0] != '5')
		return 0;
	v[0] = (unsigned)(s.p[0] - '0');
	i = 1;
	for (int part = 1; part < 3; part++) {
		size_t digits = 0;

		if (i >= s.n || s.p[i] != '.')
			return 0;
		i++;
		while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9') {
			if (++digits > 3)
				return 0;
			v[part] = v[part] * 10 + (unsigned)(s.p[i] - '0');
			i++;
		}
		if (digits == 0)
			return 0;
	}
	if (out != NULL) {
		out->cls = v[0];
		out->subject = v[1];
		out->detail = v[2];
	}
	return i;
}

/* mstatus_parse - whole span is one status code */
int mstatus_parse(zspan s, mstatus *out, zbuf *err)
{
	mstatus tmp;
	size_t n = mstatus_scan(s, &tmp);

	if (n == 0 || n != s.n) {
		zbuf_printf(err, "malformed enhanced status code \"%.*s\" (want class.subject.detail, "
		    "class 2, 4 or 5)", (int)(s.n > 20 ? 20 : s.n), s.p ? s.p : "");
		return Z_EPARSE;
	}
	if (out != NULL)
		*out = tmp;
	return Z_OK;
}

/* mstatus_valid - boolean form of mstatus_parse */
int mstatus_valid(zspan s)
{
	return mstatus_parse(s, NULL, NULL) == Z_OK;
}

/* mstatus_prefix - code at the start of reply text */
size_t mstatus_prefix(zspan text, mstatus *out)
{
	mstatus tmp = { 0, 0, 0 };
	size_t n = mstatus_scan(text, &tmp);

	if (n != 0 && n < text.n && text.p[n] != ' ' && text.p[n] != '\t')
		n = 0;
	if (n == 0)
		tmp = (mstatus){ 0, 0, 0 };
	if (out != NULL)
		*out = tmp;
	return n;
}

/* mstatus_agrees - class matches the basic code's first digit */
int mstatus_agrees(const mstatus *st, int code)
{
	return st != NULL && code >= 200 && code <= 599 && (int)st->cls == code / 100;
}

/* mstatus_from_reply - enhanced code of a reply, or class.0.0 */
int mstatus_from_reply(int code, zspan text, mstatus *out)
{
	mstatus st;

	if (code < 200 || code > 599 || code / 100 == 3) {
		*out = (mstatus){ 0, 0, 0 };
		return Z_EPARSE;
	}
	if (mstatus_prefix(text, &st) > 0 && mstatus_agrees(&st, code))
		*out = st;
	else
		*out = (mstatus){ (unsigned)(code / 100), 0, 0 };
	return Z_OK;
}

/* mstatus_format - "c.s.d" */
int mstatus_format(const mstatus *st, char *buf, size_t bufsz)
{
	int n;

	if (bufsz == 0)
		return Z_ETOOBIG;
	n = snprintf(buf, bufsz, "%u.%u.%u", st->cls, st->subject % 1000, st->detail % 1000);
	if (n < 0 || (size_t)n >= bufsz) {
		buf[0] = '\0';
		return Z_ETOOBIG;
	}
	return Z_OK;
}

/* mstatus_field_value - strip blanks and one trailing comment */
static zspan mstatus_field_value(zspan v)
{
	v = zspan_trim(v);
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] == '(') {
			v.n = i;
			break;
		}
	}
	return zspan_trim(v);
}

/* maction_name - action word */
const char *maction_name(enum maction a)
{
	if ((unsigned)a < sizeof maction_names / sizeof maction_names[0])
		return maction_names[a];
	return "failed";
}

/* maction_parse - Action value -> enum, -1 if unknown */
int maction_parse(zspan value)
{
	zspan v = mstatus_field_value(value);

	for (size_t i = 0; i < sizeof maction_names / sizeof maction_names[0]; i++)
		if (zspan_caseeq(v, maction_names[i]))
			return (int)i;
	return -1;
}

/* maction_agrees - status class fits the action */
int maction_agrees(enum maction a, const mstatus *st)
{
	if (st == NULL)
		return 0;
	switch (a) {
	case MACTION_FAILED:
		return st->cls == 5;
	case MACTION_DELAYED:
		return st->cls == 4;
	case MACTION_DELIVERED:
	case MACTION_RELAYED:
	case MACTION_EXPANDED:
		return st->cls == 2;
	}
	return 0;
}

/* mstatus_field_parse - Status field value */
int mstatus_field_parse(zspan value, mstatus *out, zbuf *err)
{
	return mstatus_parse(mstatus_field_value(value), out, err);
}
