/*
 * NAME
 *	mhost - RFC 5321 host grammar (domains and address literals)
 * SUMMARY
 *	Decides whether a byte string is a host zmta may route to, connect
 *	to or pass to a transport agent as an argument.
 * SYNOPSIS
 *	int mhost_parse(const char *s, size_t n, mhost *out, zbuf *err);
 *	int mhost_valid(const char *s);
 * DESCRIPTION
 *	A host is either a domain or an address literal (RFC 5321 4.1.2,
 *	4.1.3).  A domain is one or more labels separated by single dots,
 *	one optional trailing dot; a label is 1..63 bytes of letters,
 *	digits, hyphen and underscore (underscore is not in RFC 5321 but
 *	occurs in real host names), neither starting nor ending with a
 *	hyphen.  The whole name is at most 255 bytes.  An address literal
 *	is "[" dotted-quad "]" or "[IPv6:" address "]" (tag case-insensitive),
 *	checked with inet_pton; other tagged literals are refused.
 * DIAGNOSTICS
 *	Z_EPARSE with a one-line English reason in err.
 * SECURITY
 *	Input is untrusted and may contain any byte, including NUL.  A valid
 *	host never starts with '-' (so it can never become an option), never
 *	contains blanks, control bytes, '/', ':' outside an IPv6 literal, or
 *	a port.  Reads at most n bytes; no allocation except in err.
 * BUGS
 *	Internationalised (U-label) domains are refused; they must arrive
 *	as A-labels (xn--...).
 * SEE ALSO
 *	RFC 5321 4.1.2, 4.1.3; RFC 1035 2.3.4
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include "mhost.h"
#include "zbuf.h"

/* mhost_ldh - letter, digit, hyphen or underscore */
static int mhost_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* mhost_domain - check a domain name; Z_OK or Z_EPARSE with reason */
static int mhost_domain(const char *s, size_t n, zbuf *err)
{
	size_t label = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;                                  /* one trailing dot: FQDN */
	if (n == 0) {
		zbuf_puts(err, "empty host name");
		return Z_EPARSE;
	}
	if (n > MHOST_MAX) {
		zbuf_printf(err, "host name longer than %d bytes", MHOST_MAX);
		return Z_EPARSE;
	}
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)s[i] : '.';

		if (c == '.') {
			if (label == 0) {
				zbuf_puts(err, "empty label in host name");
				return Z_EPARSE;
			}
			if (s[i - 1] == '-') {
				zbuf_puts(err, "host name label ends with '-'");
				return Z_EPARSE;
			}
			label = 0;
			continue;
		}
		if (!mhost_ldh(c)) {
			zbuf_printf(err, "byte 0x%02x not allowed in a host name", c);
			return Z_EPARSE;
		}
		if (label == 0 && c == '-') {
			zbuf_puts(err, "host name label starts with '-'");
			return Z_EPARSE;
		}
		if (++label > MHOST_LABEL_MAX) {
			zbuf_printf(err, "host name label longer than %d bytes", MHOST_LABEL_MAX);
			return Z_EPARSE;
		}
	}
	return Z_OK;
}

/* mhost_literal - check "[...]" (brackets included); fill out */
static int mhost_literal(const char *s, size_t n, mhost *out, zbuf *err)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *in = s + 1;
	size_t len = n - 2;
	int v6 = 0;

	if (n < 3 || s[n - 1] != ']') {
		zbuf_puts(err, "address literal without closing ']'");
		return Z_EPARSE;
	}
	if (len >= 5 && strncasecmp(in, "IPv6:", 5) == 0) {
		in += 5;
		len -= 5;
		v6 = 1;
	}
	if (len == 0 || len >= sizeof tmp || memchr(in, '\0', len) != NULL) {
		zbuf_puts(err, "malformed address literal");
		return Z_EPARSE;
	}
	memcpy(tmp, in, len);
	tmp[len] = '\0';
	if (v6) {
		if (inet_pton(AF_INET6, tmp, &out->v6) != 1) {
			zbuf_puts(err, "malformed IPv6 address literal");
			return Z_EPARSE;
		}
		out->kind = MHOST_IPV6;
		return Z_OK;
	}
	if (inet_pton(AF_INET, tmp, &out->v4) != 1) {
		zbuf_puts(err, "malformed IPv4 address literal (IPv6 needs the IPv6: tag)");
		return Z_EPARSE;
	}
	out->kind = MHOST_IPV4;
	return Z_OK;
}

/* mhost_parse - domain or address literal; see the contract above */
int mhost_parse(const char *s, size_t n, mhost *out, zbuf *err)
{
	mhost tmp;
	int rc;

	if (out == NULL)
		out = &tmp;
	memset(out, 0, sizeof *out);
	if (s == NULL || n == 0) {
		zbuf_puts(err, "empty host");
		return Z_EPARSE;
	}
	if (s[0] == '[')
		return mhost_literal(s, n, out, err);
	rc = mhost_domain(s, n, err);
	if (rc == Z_OK)
		out->kind = MHOST_DOMAIN;
	return rc;
}

/* mhost_valid - 1 when the NUL-terminated s is a valid host */
int mhost_valid(const char *s)
{
	return s != NULL && mhost_parse(s, strlen(s), NULL, NULL) == Z_OK;
}
