/*
 * NAME
 *	xtext - RFC 3461 xtext encoding, decoding and syntax check
 * SUMMARY
 *	The "+XX" escape used by the DSN parameters ENVID and ORCPT and by
 *	the AUTH= parameter of MAIL FROM.
 * SYNOPSIS
 *	int xtext_encode(zbuf *out, zspan in);
 *	int xtext_decode(zbuf *out, zspan in);
 *	int xtext_check(zspan in, unsigned flags, zbuf *err);
 *	int xtext_valid(zspan in);
 *	int xtext_put(zbuf *out, zspan in);
 *	size_t xtext_decoded_len(zspan in);
 * DESCRIPTION
 *	xtext = *( xchar / hexchar ); xchar is any byte 33..126 except '+'
 *	and '='; hexchar is '+' and two upper-case hex digits.
 *	xtext_encode escapes every byte outside 33..126 and '+' and '='
 *	(never more: the result decodes back to the input).  xtext_decode
 *	is deliberately lenient (lower-case hex, stray bytes copied) so
 *	that stored values written by older code still decode; it fails
 *	only on a '+' without two hex digits.  xtext_check is strict and
 *	is what a receiver applies to a parameter from the wire.
 *	xtext_put keeps a value that already is valid xtext and encodes
 *	anything else, which is how a relay forwards ENVID and ORCPT.
 * DIAGNOSTICS
 *	Z_OK; Z_EPARSE for malformed input (xtext_check gives a reason in
 *	err); Z_ETOOBIG/Z_ENOMEM from the output buffer.  On any failure
 *	the output buffer is left as it was.
 * SECURITY
 *	Input is untrusted and may hold any byte, NUL included.  Reads at
 *	most in.n bytes; output growth is bounded by the caller's zbuf.
 *	Decoded output may hold any byte (NUL, CR, LF): callers that put
 *	it into a line protocol or a header must re-check it.
 * BUGS
 *	RFC 6533 utf-8-addr-xtext ("\x{...}") is not decoded here.
 * SEE ALSO
 *	RFC 3461 section 4; RFC 4954 section 5; mail/mparam.h; lib/zbuf.h
 */
#include "xtext.h"

/* xtext_xchar - byte allowed as itself in xtext */
static int xtext_xchar(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '+' && c != '=';
}

/* xtext_encode - append in as xtext */
int xtext_encode(zbuf *out, zspan in)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t old = out != NULL ? out->len : 0;
	int rc = Z_OK;

	for (size_t i = 0; i < in.n && rc == Z_OK; i++) {
		unsigned char c = (unsigned char)in.p[i];

		if (xtext_xchar(c)) {
			rc = zbuf_putc(out, c);
		} else {
			char e[3] = { '+', hex[c >> 4], hex[c & 15] };
			rc = zbuf_append(out, e, sizeof e);
		}
	}
	if (rc != Z_OK && out != NULL)
		zbuf_truncate(out, old);
	return rc;
}

/* xtext_decode - append the decoded xtext (lenient) */
int xtext_decode(zbuf *out, zspan in)
{
	size_t old = out != NULL ? out->len : 0;
	int rc = Z_OK;

	for (size_t i = 0; i < in.n && rc == Z_OK; i++) {
		int hi, lo;

		if (in.p[i] != '+') {
			rc = zbuf_putc(out, (unsigned char)in.p[i]);
			continue;
		}
		if (in.n - i < 3) {
			rc = Z_EPARSE;
			break;
		}
		hi = zhexval((unsigned char)in.p[i + 1]);
		lo = zhexval((unsigned char)in.p[i + 2]);
		if (hi < 0 || lo < 0) {
			rc = Z_EPARSE;
			break;
		}
		rc = zbuf_putc(out, hi * 16 + lo);
		i += 2;
	}
	if (rc != Z_OK && out != NULL)
		zbuf_truncate(out, old);
	return rc;
}

/* xtext_uhex - upper-case hex digit (lower too when lower is set) */
static int xtext_uhex(unsigned char c, int lower)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
	       (lower && c >= 'a' && c <= 'f');
}

/* xtext_check - strict xtext syntax */
int xtext_check(zspan in, unsigned flags, zbuf *err)
{
	int lower = (flags & XTEXT_LOWER_HEX) != 0;

	for (size_t i = 0; i < in.n; i++) {
		unsigned char c = (unsigned char)in.p[i];

		if (c == '+') {
			if (in.n - i < 3 || !xtext_uhex((unsigned char)in.p[i + 1], lower) ||
			    !xtext_uhex((unsigned char)in.p[i + 2], lower)) {
				zbuf_printf(err, "'+' at offset %zu not followed by two %shex digits",
				    i, lower ? "" : "upper-case ");
				return Z_EPARSE;
			}
			i += 2;
		} else if (!xtext_xchar(c)) {
			zbuf_printf(err, "byte 0x%02x at offset %zu not allowed in xtext", c, i);
			return Z_EPARSE;
		}
	}
	return Z_OK;
}

/* xtext_valid - 1 when in is strict xtext */
int xtext_valid(zspan in)
{
	return xtext_check(in, 0, NULL) == Z_OK;
}

/* xtext_put - keep valid xtext, encode anything else */
int xtext_put(zbuf *out, zspan in)
{
	if (xtext_valid(in))
		return zbuf_append(out, in.p, in.n);
	return xtext_encode(out, in);
}

/* xtext_decoded_len - decoded length, (size_t)-1 if malformed */
size_t xtext_decoded_len(zspan in)
{
	size_t n = 0;

	for (size_t i = 0; i < in.n; i++, n++) {
		if (in.p[i] != '+')
			continue;
		if (in.n - i < 3 || zhexval((unsigned char)in.p[i + 1]) < 0 ||
		    zhexval((unsigned char)in.p[i + 2]) < 0)
			return (size_t)-1;
		i += 2;
	}
	return n;
}
