/*
 * NAME
 *	maddr - RFC 5321 reverse and forward paths, mailboxes
 * SUMMARY
 *	Parses the path of MAIL FROM: and RCPT TO: into local part and
 *	domain, and formats an address back into its canonical wire form.
 * SYNOPSIS
 *	int maddr_parse_path(const char *s, size_t n, unsigned flags,
 *	    maddr *out, size_t *used, zbuf *err);
 *	int maddr_parse_addr(const char *s, size_t n, unsigned flags,
 *	    maddr *out, zbuf *err);
 *	int maddr_local_needs_quote(const char *local, size_t n);
 *	int maddr_put_local(zbuf *out, const char *local, size_t n);
 *	int maddr_format(const maddr *a, zbuf *out);
 *	int maddr_format_path(const maddr *a, zbuf *out);
 *	int mutf8_valid(const char *s, size_t n);
 * DESCRIPTION
 *	Path = "<" [ A-d-l ":" ] Mailbox ">"; Mailbox = Local-part "@"
 *	( Domain / address-literal ); Local-part = Dot-string /
 *	Quoted-string (RFC 5321 4.1.2).  A source route ("@a,@b:") is
 *	checked and dropped (RFC 5321 4.1.1.3, appendix C).  "<>" is taken
 *	only with MADDR_NULL_OK and "<Postmaster>" (any case, no domain)
 *	only with MADDR_POSTMASTER_OK.  The domain is checked with
 *	mhost_parse; a trailing dot is refused in a path.  With MADDR_UTF8
 *	(the SMTPUTF8 parameter, RFC 6531) bytes >= 0x80 may appear in
 *	atoms, quoted strings and domain labels and must form valid UTF-8;
 *	without it they are refused with code 5.6.7.  The local part may be
 *	64 octets as written and the path 256 octets including the angle
 *	brackets.  The canonical form unquotes a local part whose quoting
 *	was unnecessary ("a.b"@x -> a.b@x) and quotes one that needs it,
 *	escaping only '"' and '\'; the domain keeps its spelling.
 * DIAGNOSTICS
 *	Z_OK, or Z_EPARSE with a one-line reason in err and out->enh set
 *	to 5.1.7 (reverse path: MADDR_NULL_OK given), 5.1.3 (forward path),
 *	or 5.6.7 (non-ASCII without SMTPUTF8).  Format functions return
 *	Z_ETOOBIG/Z_ENOMEM from the output buffer.
 * SECURITY
 *	Input is untrusted and may hold any byte.  A parsed address never
 *	holds a control byte, NUL or DEL; its domain never holds a blank,
 *	'<', '>' or '"'.  A local part that was quoted may hold blanks,
 *	quotes, '<', '>', '@' and '\' (RFC 5321 qtextSMTP), which
 *	maddr_put_local quotes and escapes again, so always format an
 *	address with these functions before it goes back on the wire or
 *	into a file, and never use the decoded local part as a file name
 *	or argument unchecked.
 *	Reads at most n bytes; no allocation except in err and outputs.
 * BUGS
 *	The label-length check of an internationalised domain counts each
 *	non-ASCII character as one octet (the A-label may be longer).
 *	Domain case is kept as written.
 * SEE ALSO
 *	RFC 5321 4.1.2, 4.5.3.1; RFC 6531 3.3; mail/mhost.h; mail/mparam.h
 */
#include <string.h>
#include <strings.h>
#include "maddr.h"

/* per-parse state */
typedef struct mp {
	const char *s;
	size_t n;
	size_t i;
	unsigned flags;
	zbuf *err;
	maddr *out;
	int rc;
} mp;

/* mp_fail - record the first error with a reason and a code suggestion */
static int mp_fail(mp *p, const char *enh, const char *why)
{
	if (p->rc == Z_OK) {
		zbuf_puts(p->err, why);
		p->out->enh = enh;
		p->rc = Z_EPARSE;
	}
	return Z_EPARSE;
}

/* mp_syntax_enh - 5.1.7 for a sender, 5.1.3 for a recipient */
static const char *mp_syntax_enh(const mp *p)
{
	return (p->flags & MADDR_NULL_OK) ? "5.1.7" : "5.1.3";
}

/* maddr_atext - RFC 5321 atext (ASCII part) */
static int maddr_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* maddr_qtext - RFC 5321 qtextSMTP (ASCII part): 32-33, 35-91, 93-126 */
static int maddr_qtext(unsigned char c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/* mutf8_valid - well-formed UTF-8 */
int mutf8_valid(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len;
		unsigned long cp;
		unsigned long min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			unsigned char d = (unsigned char)s[i + k];
			if ((d & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (d & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* mp_eightbit - a byte >= 0x80 at p->i: allowed only with MADDR_UTF8 */
static int mp_eightbit(mp *p)
{
	if (!(p->flags & MADDR_UTF8))
		return mp_fail(p, "5.6.7", "non-ASCII byte in address without SMTPUTF8");
	return Z_OK;
}

/* mp_local - Local-part at p->i into out->local; stops at the '@' or at
   the first byte that cannot continue it */
static int mp_local(mp *p)
{
	maddr *a = p->out;
	size_t start = p->i;

	a->local_len = 0;
	if (p->i < p->n && p->s[p->i] == '"') {
		a->quoted = 1;
		p->i++;
		for (;;) {
			unsigned char c;

			if (p->i >= p->n)
				return mp_fail(p, mp_syntax_enh(p), "unterminated quoted local part");
			c = (unsigned char)p->s[p->i];
			if (c == '"') {
				p->i++;
				break;
			}
			if (c == '\\') {
				if (p->i + 1 >= p->n)
					return mp_fail(p, mp_syntax_enh(p), "'\\' at the end of a quoted local part");
				c = (unsigned char)p->s[p->i + 1];
				if (c < 32 || c > 126)
					return mp_fail(p, mp_syntax_enh(p), "bad quoted-pair in local part");
				p->i++;
			} else if (c >= 0x80) {
				if (mp_eightbit(p) != Z_OK)
					return Z_EPARSE;
			} else if (!maddr_qtext(c)) {
				return mp_fail(p, mp_syntax_enh(p), "control byte in quoted local part");
			}
			/* bytes so far, this one and the closing quote */
			if (p->i - start + 2 > MADDR_LOCAL_MAX)
				return mp_fail(p, "5.1.3", "local part longer than 64 octets");
			a->local[a->local_len++] = (char)c;
			p->i++;
		}
	} else {
		int atom = 0;    /* bytes in the current atom */

		while (p->i < p->n) {
			unsigned char c = (unsigned char)p->s[p->i];

			if (c == '.') {
				if (atom == 0)
					return mp_fail(p, mp_syntax_enh(p), "empty atom in local part ('.' misplaced)");
				atom = 0;
			} else if (c >= 0x80) {
				if (mp_eightbit(p) != Z_OK)
					return Z_EPARSE;
				atom++;
			} else if (maddr_atext(c)) {
				atom++;
			} else {
				break;
			}
			if (p->i - start >= MADDR_LOCAL_MAX)
				return mp_fail(p, "5.1.3", "local part longer than 64 octets");
			a->local[a->local_len++] = (char)c;
			p->i++;
		}
		if (p->i == start)
			return mp_fail(p, mp_syntax_enh(p), "empty local part");
		if (atom == 0)
			return mp_fail(p, mp_syntax_enh(p), "local part ends with '.'");
	}
	a->local[a->local_len] = '\0';
	a->raw_local = (zspan){ p->s + start, p->i - start };
	if ((p->flags & MADDR_UTF8) && !mutf8_valid(a->raw_local.p, a->raw_local.n))
		return mp_fail(p, "5.6.7", "local part is not valid UTF-8");
	for (size_t k = 0; k < a->raw_local.n; k++)
		if ((unsigned char)a->raw_local.p[k] >= 0x80)
			a->utf8 = 1;
	return Z_OK;
}

/* mp_domain_check - Domain or address literal s[0..n) (no trailing dot) */
static int mp_domain_check(mp *p, const char *s, size_t n, mhost *h, int *utf8)
{
	char ascii[MADDR_PATH_MAX];
	size_t k = 0;
	int eight = 0;
	zbuf why = ZBUF_INIT(200);
	int rc;

	if (n == 0)
		return mp_fail(p, mp_syntax_enh(p), "empty domain");
	if (n >= sizeof ascii)
		return mp_fail(p, mp_syntax_enh(p), "domain too long");
	if (s[0] != '[' && s[n - 1] == '.')
		return mp_fail(p, mp_syntax_enh(p), "domain ends with '.'");
	/* an internationalised domain: check UTF-8, then the structure with
	   each non-ASCII character standing in as one letter */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			ascii[k++] = (char)c;
			continue;
		}
		eight = 1;
		if (mp_eightbit(p) != Z_OK)
			return Z_EPARSE;
		if ((c & 0xc0) != 0x80)
			ascii[k++] = 'x';
	}
	if (eight) {
		if (!mutf8_valid(s, n))
			return mp_fail(p, "5.6.7", "domain is not valid UTF-8");
		if (s[0] == '[')
			return mp_fail(p, mp_syntax_enh(p), "non-ASCII byte in an address literal");
	}
	rc = mhost_parse(ascii, k, h, &why);
	if (rc != Z_OK) {
		if (p->rc == Z_OK) {
			zbuf_printf(p->err, "bad domain: %s", zbuf_cstr(&why));
			p->out->enh = mp_syntax_enh(p);
			p->rc = Z_EPARSE;
		}
		zbuf_free(&why);
		return Z_EPARSE;
	}
	zbuf_free(&why);
	if (utf8 != NULL && eight)
		*utf8 = 1;
	return Z_OK;
}

/* mp_domain_end - index where a domain starting at p->i ends */
static size_t mp_domain_end(const mp *p, const char *stops)
{
	size_t j = p->i;

	if (j < p->n && p->s[j] == '[') {
		while (j < p->n && p->s[j] != ']')
			j++;
		return j < p->n ? j + 1 : j;
	}
	while (j < p->n && strchr(stops, p->s[j]) == NULL)
		j++;
	return j;
}

/* mp_mailbox - Local-part "@" domain; the domain ends at a byte of stops
   (NUL-terminated list; the end of input always ends it) */
static int mp_mailbox(mp *p, const char *stops)
{
	maddr *a = p->out;
	size_t end;
	int u = 0;

	if (mp_local(p) != Z_OK)
		return Z_EPARSE;
	if (p->i >= p->n || p->s[p->i] != '@') {
		if (p->i < p->n && (unsigned char)p->s[p->i] < 32)
			return mp_fail(p, mp_syntax_enh(p), "control byte in address");
		return mp_fail(p, mp_syntax_enh(p), p->i >= p->n || strchr(stops, p->s[p->i])
		    ? "address without '@domain'" : "byte not allowed in local part");
	}
	p->i++;
	end = mp_domain_end(p, stops);
	if (mp_domain_check(p, p->s + p->i, end - p->i, &a->host, &u) != Z_OK)
		return Z_EPARSE;
	memcpy(a->domain, p->s + p->i, end - p->i);
	a->domain_len = end - p->i;
	a->domain[a->domain_len] = '\0';
	a->raw_domain = (zspan){ p->s + p->i, end - p->i };
	if (u)
		a->utf8 = 1;
	p->i = end;
	a->kind = MADDR_MAILBOX;
	return Z_OK;
}

/* mp_route - optional A-d-l ":" (checked, dropped) */
static int mp_route(mp *p)
{
	if (p->i >= p->n || p->s[p->i] != '@')
		return Z_OK;
	for (;;) {
		mhost h;
		size_t end;

		if (p->i >= p->n || p->s[p->i] != '@')
			return mp_fail(p, mp_syntax_enh(p), "malformed source route");
		p->i++;
		end = mp_domain_end(p, ",:>");
		if (mp_domain_check(p, p->s + p->i, end - p->i, &h, NULL) != Z_OK)
			return Z_EPARSE;
		p->i = end;
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == ':') {
			p->i++;
			p->out->routed = 1;
			return Z_OK;
		}
		return mp_fail(p, mp_syntax_enh(p), "source route without ':'");
	}
}

/* mp_reset - empty result */
static void mp_reset(maddr *a)
{
	memset(a, 0, sizeof *a);
	a->raw_local = (zspan){ "", 0 };
	a->raw_domain = (zspan){ "", 0 };
}

/* maddr_parse_path - see the contract above */
int maddr_parse_path(const char *s, size_t n, unsigned flags, maddr *out, size_t *used,
    zbuf *err)
{
	mp p = { s, n, 0, flags, err, out, Z_OK };
	size_t close;

	mp_reset(out);
	if (used != NULL)
		*used = 0;
	if (s == NULL || n == 0)
		return mp_fail(&p, mp_syntax_enh(&p), "empty path");
	if (s[0] != '<') {
		size_t end = 0;

		if (!(flags & MADDR_NO_ANGLE_OK))
			return mp_fail(&p, mp_syntax_enh(&p), "path must be enclosed in '<' '>'");
		while (end < n && s[end] != ' ')
			end++;
		if (end > MADDR_PATH_MAX - 2)
			return mp_fail(&p, mp_syntax_enh(&p), "path longer than 256 octets");
		p.n = end;
		if (mp_mailbox(&p, "") != Z_OK)
			goto done;
		if (p.i != end) {
			mp_fail(&p, mp_syntax_enh(&p), "unexpected bytes after address");
			goto done;
		}
		close = end;
		goto ok;
	}
	p.i = 1;
	if (n >= 2 && s[1] == '>') {
		if (!(flags & MADDR_NULL_OK)) {
			mp_fail(&p, mp_syntax_enh(&p), "null path <> not allowed here");
			goto done;
		}
		out->kind = MADDR_NULLPATH;
		close = 2;
		goto tail;
	}
	if (mp_route(&p) != Z_OK)
		goto done;
	if ((flags & MADDR_POSTMASTER_OK) && !out->routed && n - p.i >= 11 &&
	    strncasecmp(s + p.i, "postmaster>", 11) == 0) {
		memcpy(out->local, s + p.i, 10);
		out->local[10] = '\0';
		out->local_len = 10;
		out->raw_local = (zspan){ s + p.i, 10 };
		out->kind = MADDR_POSTMASTER;
		close = p.i + 11;
		goto tail;
	}
	if (mp_mailbox(&p, ">") != Z_OK)
		goto done;
	if (p.i >= n || s[p.i] != '>') {
		if (p.i < n && (unsigned char)s[p.i] < 32)
			mp_fail(&p, mp_syntax_enh(&p), "control byte in path");
		else
			mp_fail(&p, mp_syntax_enh(&p), p.i >= n ? "path without closing '>'" :
			    "unexpected byte in domain");
		goto done;
	}
	close = p.i + 1;
tail:
	if (close > MADDR_PATH_MAX) {
		mp_fail(&p, mp_syntax_enh(&p), "path longer than 256 octets");
		goto done;
	}
	if (close < n && s[close] != ' ') {
		mp_fail(&p, mp_syntax_enh(&p), "unexpected bytes after '>'");
		goto done;
	}
ok:
	if (used != NULL)
		*used = close;
done:
	if (p.rc != Z_OK) {
		const char *enh = out->enh;
		mp_reset(out);
		out->enh = enh;
	}
	return p.rc;
}

/* maddr_parse_addr - the whole span is one Mailbox */
int maddr_parse_addr(const char *s, size_t n, unsigned flags, maddr *out, zbuf *err)
{
	mp p = { s, n, 0, flags & MADDR_UTF8, err, out, Z_OK };

	mp_reset(out);
	if (s == NULL || n == 0)
		return mp_fail(&p, "5.1.3", "empty address");
	if (n > MADDR_PATH_MAX - 2)
		return mp_fail(&p, "5.1.3", "address longer than 254 octets");
	if (mp_mailbox(&p, "") == Z_OK && p.i != n)
		mp_fail(&p, "5.1.3", "unexpected bytes after address");
	if (p.rc != Z_OK) {
		const char *enh = out->enh;
		mp_reset(out);
		out->enh = enh;
	}
	return p.rc;
}

/* maddr_local_needs_quote - not a Dot-string */
int maddr_local_needs_quote(const char *local, size_t n)
{
	int atom = 0;

	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)local[i];

		if (c == '.') {
			if (atom == 0)
				return 1;
			atom = 0;
		} else if (c >= 0x80 || maddr_atext(c)) {
			atom++;
		} else {
			return 1;
		}
	}
	return atom == 0;
}

/* maddr_put_local - canonical local part */
int maddr_put_local(zbuf *out, const char *local, size_t n)
{
	size_t old = out != NULL ? out->len : 0;
	int rc;

	if (!maddr_local_needs_quote(local, n))
		return zbuf_append(out, local, n);
	rc = zbuf_putc(out, '"');
	for (size_t i = 0; i < n && rc == Z_OK; i++) {
		if (local[i] == '"' || local[i] == '\\')
			rc = zbuf_putc(out, '\\');
		if (rc == Z_OK)
			rc = zbuf_putc(out, (unsigned char)local[i]);
	}
	if (rc == Z_OK)
		rc = zbuf_putc(out, '"');
	if (rc != Z_OK && out != NULL)
		zbuf_truncate(out, old);
	return rc;
}

/* maddr_format - canonical local@domain */
int maddr_format(const maddr *a, zbuf *out)
{
	size_t old = out != NULL ? out->len : 0;
	int rc = Z_OK;

	switch (a->kind) {
	case MADDR_NULLPATH:
		return Z_OK;
	case MADDR_POSTMASTER:
		return zbuf_append(out, a->local, a->local_len);
	case MADDR_MAILBOX:
		break;
	}
	rc = maddr_put_local(out, a->local, a->local_len);
	if (rc == Z_OK)
		rc = zbuf_putc(out, '@');
	if (rc == Z_OK)
		rc = zbuf_append(out, a->domain, a->domain_len);
	if (rc != Z_OK && out != NULL)
		zbuf_truncate(out, old);
	return rc;
}

/* maddr_format_path - "<" address ">" */
int maddr_format_path(const maddr *a, zbuf *out)
{
	size_t old = out != NULL ? out->len : 0;
	int rc = zbuf_putc(out, '<');

	if (rc == Z_OK)
		rc = maddr_format(a, out);
	if (rc == Z_OK)
		rc = zbuf_putc(out, '>');
	if (rc != Z_OK && out != NULL)
		zbuf_truncate(out, old);
	return rc;
}
