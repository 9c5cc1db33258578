/*
 * NAME
 *	mheader - RFC 5322 header fields, structured-value tokens, address lists
 * SUMMARY
 *	Splits a header block into fields, unfolds values, tokenizes
 *	structured values and parses address lists into addr-specs for the
 *	router (To, Cc, Bcc, From, Sender, Reply-To, Resent-*).
 * SYNOPSIS
 *	int mhdr_next(zcur *c, size_t max_field, mhdr_field *f, zbuf *err);
 *	int mhdr_split(const char *s, size_t n, size_t max_field,
 *	    mhdr_field *fields, size_t max_fields, size_t *nfields,
 *	    size_t *body_off, zbuf *err);
 *	int mhdr_unfold(zspan value, zbuf *out);
 *	int mhdr_name_is(const mhdr_field *f, const char *name);
 *	int mtok_next(zcur *c, mtok *t, zbuf *err);
 *	int mtok_unquote(const mtok *t, zbuf *out);
 *	int mhdr_addrlist(zspan value, zbuf *text, mhdr_addr *addrs,
 *	    size_t max, size_t *naddrs, zbuf *err);
 * DESCRIPTION
 *	Fields.  A field is a name of bytes 33..126 except ':' (blanks
 *	before the colon are tolerated, RFC 5322 4.5.8), ':', and a value
 *	that continues over every following line starting with a blank.
 *	Lines end in CRLF or a bare LF.  The header ends at an empty line
 *	or at the end of the input.  A field longer than max_field is an
 *	error (never a growing buffer); so is a header with more fields
 *	than the caller's array.  Values are spans into the input.
 *
 *	Tokens.  Blanks and line ends separate tokens; atoms are runs of
 *	atext, where bytes >= 0x80 count as atext (8-bit text and RFC 2047
 *	encoded words pass through as they are); quoted strings, comments
 *	(nested, up to MTOK_COMMENT_DEPTH) and domain literals honour
 *	quoted-pairs; everything else is a one-byte special.  Control bytes
 *	come back as specials so that a parser above can refuse them.
 *
 *	Address lists.  address-list = (mailbox / group) *("," ...);
 *	mailbox = name-addr / addr-spec; group = phrase ":" [mailbox-list]
 *	";".  Comments are dropped; display names are the phrase's words
 *	joined by single spaces with quoted strings undone.  Tolerated
 *	obsolete or sloppy forms (RFC 5322 4.4): empty list elements,
 *	blanks and comments around the dots of a local part or domain,
 *	dots in display names, a source route inside "<...>" (dropped), a
 *	group without its closing ';' at the end, "<>" (skipped), and a
 *	local part without "@domain" (has_domain = 0; the router
 *	qualifies it).  The local part of each addr-spec is written in the
 *	canonical form of maddr_put_local.
 * DIAGNOSTICS
 *	Z_OK; Z_EPARSE, Z_ETOOBIG with a one-line reason in err.
 * SECURITY
 *	Input is untrusted and may hold any byte.  Every loop is bounded by
 *	the input length, comment nesting by MTOK_COMMENT_DEPTH, output by
 *	the caller's zbuf and arrays.  An addr-spec returned here has been
 *	checked for shape only: run it through maddr_parse_addr before it
 *	becomes an envelope address.  Reasons never echo input bytes.
 * BUGS
 *	Encoded words (RFC 2047) in display names are not decoded.  A
 *	domain literal is copied without the blanks and folding inside it.
 * SEE ALSO
 *	RFC 5322 2.2, 3.2, 3.4, 4; mail/maddr.h
 */
#include <string.h>
#include "maddr.h"
#include "mheader.h"

/* mhdr_ftext - byte allowed in a field name */
static int mhdr_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* mhdr_next - next field; see mheader.h */
int mhdr_next(zcur *c, size_t max_field, mhdr_field *f, zbuf *err)
{
	const char *s = c->p;
	size_t n = c->n, i = c->pos, j, name_end, vstart, k, end, next;

	f->name = f->value = f->raw = (zspan){ "", 0 };
	if (i >= n)
		return Z_ENOENT;
	if (s[i] == '\n') {
		c->pos = i + 1;
		return Z_ENOENT;
	}
	if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
		c->pos = i + 2;
		return Z_ENOENT;
	}
	if (s[i] == ' ' || s[i] == '\t') {
		zbuf_puts(err, "header continuation line without a field");
		return Z_EPARSE;
	}
	for (j = i; j < n && mhdr_ftext((unsigned char)s[j]); j++)
		;
	name_end = j;
	while (j < n && (s[j] == ' ' || s[j] == '\t'))
		j++;
	if (name_end == i || j >= n || s[j] != ':') {
		zbuf_puts(err, "header line is not a field (no name followed by ':')");
		return Z_EPARSE;
	}
	vstart = j + 1;
	k = vstart;
	for (;;) {
		const char *nl = k < n ? memchr(s + k, '\n', n - k) : NULL;

		if (nl == NULL) {
			end = next = n;
			break;
		}
		k = (size_t)(nl - s);
		if (k + 1 < n && (s[k + 1] == ' ' || s[k + 1] == '\t')) {
			k++;
			continue;
		}
		end = k;
		next = k + 1;
		break;
	}
	if (end > vstart && s[end - 1] == '\r')
		end--;
	f->name = (zspan){ s + i, name_end - i };
	if (end - i > max_field) {
		zbuf_printf(err, "header field longer than %zu bytes", max_field);
		c->pos = next;
		return Z_ETOOBIG;
	}
	f->value = (zspan){ s + vstart, end - vstart };
	f->raw = (zspan){ s + i, end - i };
	c->pos = next;
	return Z_OK;
}

/* mhdr_split - all fields of a header block */
int mhdr_split(const char *s, size_t n, size_t max_field, mhdr_field *fields, size_t max_fields,
    size_t *nfields, size_t *body_off, zbuf *err)
{
	zcur c;
	int rc;

	*nfields = 0;
	zcur_init(&c, s, n);
	for (;;) {
		mhdr_field f;

		rc = mhdr_next(&c, max_field, &f, err);
		if (rc == Z_ENOENT) {
			rc = Z_OK;
			break;
		}
		if (rc != Z_OK)
			break;
		if (*nfields >= max_fields) {
			zbuf_printf(err, "more than %zu header fields", max_fields);
			rc = Z_ETOOBIG;
			break;
		}
		fields[(*nfields)++] = f;
	}
	if (body_off != NULL)
		*body_off = c.pos;
	return rc;
}

/* mhdr_unfold - value without folding, trimmed */
int mhdr_unfold(zspan value, zbuf *out)
{
	size_t old = out != NULL ? out->len : 0, a = 0, b = value.n;
	int rc = Z_OK;

	for (size_t i = 0; i < value.n && rc == Z_OK; i++) {
		char ch = value.p[i];

		if (ch == '\n')
			continue;               /* a line end inside a value is folding */
		if (ch == '\r' && i + 1 < value.n && value.p[i + 1] == '\n')
			continue;
		rc = zbuf_putc(out, (unsigned char)ch);
	}
	if (rc != Z_OK || out == NULL) {
		if (out != NULL)
			zbuf_truncate(out, old);
		return rc;
	}
	/* trim blanks at both ends of what was appended */
	b = out->len;
	a = old;
	while (a < b && (out->data[a] == ' ' || out->data[a] == '\t'))
		a++;
	while (b > a && (out->data[b - 1] == ' ' || out->data[b - 1] == '\t'))
		b--;
	memmove(out->data + old, out->data + a, b - a);
	zbuf_truncate(out, old + (b - a));
	return Z_OK;
}

/* mhdr_name_is - case-insensitive name compare */
int mhdr_name_is(const mhdr_field *f, const char *name)
{
	return zspan_caseeq(f->name, name);
}

/* mtok_ws - blank or line end */
static int mtok_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* mtok_special - byte that is a token by itself */
static int mtok_special(unsigned char c)
{
	return c < 0x20 || c == 0x7f || (c != '\0' && strchr("()<>[]:;@\\,.\"", c) != NULL);
}

/* mtok_next - one token; see mheader.h */
int mtok_next(zcur *c, mtok *t, zbuf *err)
{
	const char *s = c->p;
	size_t n = c->n, i = c->pos, j;
	unsigned char ch;

	while (i < n && mtok_ws((unsigned char)s[i]))
		i++;
	t->special = 0;
	t->raw = t->text = (zspan){ s + i, 0 };
	if (i >= n) {
		c->pos = n;
		t->kind = MTOK_END;
		return Z_OK;
	}
	ch = (unsigned char)s[i];
	if (ch == '"' || ch == '[') {
		char close = ch == '"' ? '"' : ']';

		for (j = i + 1; j < n && s[j] != close; j++) {
			if (s[j] == '\\') {
				if (j + 1 >= n) {
					j = n;          /* trailing backslash: unterminated */
					break;
				}
				j++;
			}
		}
		if (j >= n) {
			zbuf_puts(err, ch == '"' ? "unterminated quoted string" :
			    "unterminated domain literal");
			return Z_EPARSE;
		}
		t->kind = ch == '"' ? MTOK_QSTRING : MTOK_DLITERAL;
		t->raw = (zspan){ s + i, j + 1 - i };
		t->text = (zspan){ s + i + 1, j - i - 1 };
		c->pos = j + 1;
		return Z_OK;
	}
	if (ch == '(') {
		unsigned depth = 1;

		for (j = i + 1; j < n; j++) {
			if (s[j] == '\\') {
				if (j + 1 >= n) {
					j = n;
					break;
				}
				j++;
			} else if (s[j] == '(') {
				if (++depth > MTOK_COMMENT_DEPTH) {
					zbuf_printf(err, "comments nested deeper than %d", MTOK_COMMENT_DEPTH);
					return Z_EPARSE;
				}
			} else if (s[j] == ')') {
				if (--depth == 0)
					break;
			}
		}
		if (j >= n) {
			zbuf_puts(err, "unterminated comment");
			return Z_EPARSE;
		}
		t->kind = MTOK_COMMENT;
		t->raw = (zspan){ s + i, j + 1 - i };
		t->text = (zspan){ s + i + 1, j - i - 1 };
		c->pos = j + 1;
		return Z_OK;
	}
	if (mtok_special(ch)) {
		t->kind = MTOK_SPECIAL;
		t->special = ch;
		t->raw = t->text = (zspan){ s + i, 1 };
		c->pos = i + 1;
		return Z_OK;
	}
	for (j = i; j < n && !mtok_ws((unsigned char)s[j]) && !mtok_special((unsigned char)s[j]); j++)
		;
	t->kind = MTOK_ATOM;
	t->raw = t->text = (zspan){ s + i, j - i };
	c->pos = j;
	return Z_OK;
}

/* mtok_unquote - text with quoted-pairs undone, line ends removed */
int mtok_unquote(const mtok *t, zbuf *out)
{
	size_t old = out != NULL ? out->len : 0;
	int rc = Z_OK;

	for (size_t i = 0; i < t->text.n && rc == Z_OK; i++) {
		char ch = t->text.p[i];

		if (ch == '\\' && i + 1 < t->text.n && t->kind != MTOK_ATOM)
			ch = t->text.p[++i];
		if (ch == '\r' || ch == '\n')
			continue;
		rc = zbuf_putc(out, (unsigned char)ch);
	}
	if (rc != Z_OK && out != NULL)
		zbuf_truncate(out, old);
	return rc;
}

/* address-list parser state */
typedef struct ap {
	zcur c;
	mtok tok;          /* current token (never a comment) */
	zbuf *err;
	zbuf *text;
	mhdr_addr *addrs;
	size_t max;
	size_t *n;
} ap;

/* ap_advance - next non-comment token */
static int ap_advance(ap *p)
{
	int rc;

	do {
		rc = mtok_next(&p->c, &p->tok, p->err);
	} while (rc == Z_OK && p->tok.kind == MTOK_COMMENT);
	return rc;
}

/* ap_is - current token is the special ch */
static int ap_is(const ap *p, int ch)
{
	return p->tok.kind == MTOK_SPECIAL && p->tok.special == ch;
}

/* ap_word - current token is an atom or a quoted string */
static int ap_word(const ap *p)
{
	return p->tok.kind == MTOK_ATOM || p->tok.kind == MTOK_QSTRING;
}

/* ap_fail - record a reason */
static int ap_fail(ap *p, const char *why)
{
	zbuf_puts(p->err, why);
	return Z_EPARSE;
}

/* ap_phrase - skip words and dots; count them */
static int ap_phrase(ap *p, size_t *count)
{
	int rc = Z_OK;

	*count = 0;
	while (rc == Z_OK && (ap_word(p) || ap_is(p, '.'))) {
		(*count)++;
		rc = ap_advance(p);
	}
	return rc;
}

/* ap_put_name - append count phrase tokens from q as a display name */
static int ap_put_name(ap *q, size_t count, zbuf *text)
{
	const char *prev_end = NULL;
	int rc = Z_OK;

	for (size_t k = 0; k < count && rc == Z_OK; k++) {
		/* one space where the input had blanks or comments between words */
		if (k > 0 && q->tok.raw.p != prev_end)
			rc = zbuf_putc(text, ' ');
		prev_end = q->tok.raw.p + q->tok.raw.n;
		if (rc == Z_OK)
			rc = mtok_unquote(&q->tok, text);
		if (rc == Z_OK)
			rc = ap_advance(q);
	}
	return rc;
}

/* ap_put_local - append count tokens from q (word *("." word)) as a
   canonical local part */
static int ap_put_local(ap *q, size_t count, zbuf *text)
{
	zbuf local = ZBUF_INIT(MHDR_FIELD_MAX);
	int rc = Z_OK;

	for (size_t k = 0; k < count && rc == Z_OK; k++) {
		if ((k % 2 == 0) != (ap_word(q) != 0)) {
			rc = ap_fail(q, "malformed local part");
			break;
		}
		rc = mtok_unquote(&q->tok, &local);
		if (rc == Z_OK)
			rc = ap_advance(q);
	}
	if (rc == Z_OK && count % 2 == 0)
		rc = ap_fail(q, "local part ends with '.'");
	if (rc == Z_OK)
		rc = maddr_put_local(text, local.data ? local.data : "", local.len);
	zbuf_free(&local);
	return rc;
}

/* ap_domain - "@" already taken: dot-atom domain or domain literal */
static int ap_domain(ap *p, zbuf *text)
{
	int rc = Z_OK, want_atom = 1;

	if (p->tok.kind == MTOK_DLITERAL) {
		/* folding and blanks inside the brackets carry no meaning */
		for (size_t i = 0; i < p->tok.raw.n && rc == Z_OK; i++)
			if (!mtok_ws((unsigned char)p->tok.raw.p[i]))
				rc = zbuf_putc(text, (unsigned char)p->tok.raw.p[i]);
		return rc == Z_OK ? ap_advance(p) : rc;
	}
	while (rc == Z_OK) {
		if (want_atom && p->tok.kind == MTOK_ATOM)
			rc = zbuf_append(text, p->tok.raw.p, p->tok.raw.n);
		else if (!want_atom && ap_is(p, '.'))
			rc = zbuf_putc(text, '.');
		else
			break;
		want_atom = !want_atom;
		if (rc == Z_OK)
			rc = ap_advance(p);
	}
	if (rc == Z_OK && want_atom)
		rc = ap_fail(p, "missing or malformed domain after '@'");
	return rc;
}

/* ap_slot - start a new address slot; Z_ETOOBIG when full */
static int ap_slot(ap *p, mhdr_addr **a)
{
	if (*p->n >= p->max) {
		zbuf_printf(p->err, "more than %zu addresses", p->max);
		return Z_ETOOBIG;
	}
	*a = &p->addrs[*p->n];
	memset(*a, 0, sizeof **a);
	return Z_OK;
}

/* ap_addr_spec - local part (count tokens saved at q) and optional
   "@domain" at p; fills a's addr fields */
static int ap_addr_spec(ap *p, ap *q, size_t count, mhdr_addr *a)
{
	int rc;

	a->addr_off = p->text->len;
	rc = ap_put_local(q, count, p->text);
	if (rc == Z_OK && ap_is(p, '@')) {
		rc = zbuf_putc(p->text, '@');
		if (rc == Z_OK)
			rc = ap_advance(p);
		if (rc == Z_OK)
			rc = ap_domain(p, p->text);
		a->has_domain = 1;
	}
	a->addr_len = p->text->len - a->addr_off;
	if (rc == Z_OK)
		rc = zbuf_putc(p->text, '\0');
	return rc;
}

/* ap_angle - "<" already current: [obs-route] addr-spec ">"; *skip set
   for "<>" */
static int ap_angle(ap *p, mhdr_addr *a, int *skip)
{
	ap q;
	size_t count;
	int rc = ap_advance(p);

	*skip = 0;
	if (rc == Z_OK && ap_is(p, '>')) {
		*skip = 1;
		return ap_advance(p);
	}
	if (rc == Z_OK && ap_is(p, '@')) {       /* obs-route: skip to ':' */
		while (rc == Z_OK && !ap_is(p, ':')) {
			if (p->tok.kind == MTOK_END || ap_is(p, '>'))
				return ap_fail(p, "source route without ':'");
			rc = ap_advance(p);
		}
		if (rc == Z_OK)
			rc = ap_advance(p);
	}
	if (rc != Z_OK)
		return rc;
	q = *p;
	rc = ap_phrase(p, &count);
	if (rc == Z_OK && count == 0)
		return ap_fail(p, "empty address in '<' '>'");
	if (rc == Z_OK)
		rc = ap_addr_spec(p, &q, count, a);
	if (rc == Z_OK && !ap_is(p, '>'))
		return ap_fail(p, "missing '>' after address");
	return rc == Z_OK ? ap_advance(p) : rc;
}

/* ap_element - one mailbox or (outside a group) a group; an empty
   element produces nothing */
static int ap_element(ap *p, int in_group, size_t goff, size_t glen)
{
	ap q = *p;
	size_t count;
	mhdr_addr *a = NULL;
	int rc, skip = 0;

	rc = ap_phrase(p, &count);
	if (rc != Z_OK)
		return rc;
	if (ap_is(p, ':')) {
		size_t gname_off, gname_len;

		if (in_group)
			return ap_fail(p, "group inside a group");
		if (count == 0)
			return ap_fail(p, "group without a name");
		gname_off = p->text->len;
		rc = ap_put_name(&q, count, p->text);
		gname_len = p->text->len - gname_off;
		if (rc == Z_OK)
			rc = zbuf_putc(p->text, '\0');
		if (rc == Z_OK)
			rc = ap_advance(p);
		while (rc == Z_OK) {
			while (rc == Z_OK && ap_is(p, ','))
				rc = ap_advance(p);
			if (rc != Z_OK)
				break;
			if (ap_is(p, ';')) {
				rc = ap_advance(p);
				break;
			}
			if (p->tok.kind == MTOK_END)
				break;                     /* obs: group not closed */
			rc = ap_element(p, 1, gname_off, gname_len);
			if (rc == Z_OK && !ap_is(p, ',') && !ap_is(p, ';') && p->tok.kind != MTOK_END)
				rc = ap_fail(p, "expected ',' or ';' after an address in a group");
		}
		return rc;
	}
	if (ap_is(p, '<')) {
		if ((rc = ap_slot(p, &a)) != Z_OK)
			return rc;
		if (count > 0) {
			a->name_off = p->text->len;
			rc = ap_put_name(&q, count, p->text);
			a->name_len = p->text->len - a->name_off;
			if (rc == Z_OK)
				rc = zbuf_putc(p->text, '\0');
		}
		if (rc == Z_OK)
			rc = ap_angle(p, a, &skip);
	} else if (count == 0) {
		if (p->tok.kind == MTOK_END || ap_is(p, ',') || (in_group && ap_is(p, ';')))
			return Z_OK;
		if (p->tok.kind == MTOK_SPECIAL && p->tok.special < 0x20)
			return ap_fail(p, "control byte in address list");
		return ap_fail(p, "unexpected character in address list");
	} else {
		if ((rc = ap_slot(p, &a)) != Z_OK)
			return rc;
		rc = ap_addr_spec(p, &q, count, a);
	}
	if (rc != Z_OK || skip || a == NULL)
		return rc;
	a->in_group = in_group;
	a->group_off = goff;
	a->group_len = glen;
	(*p->n)++;
	return Z_OK;
}

/* mhdr_addrlist - see mheader.h */
int mhdr_addrlist(zspan value, zbuf *text, mhdr_addr *addrs, size_t max, size_t *naddrs,
    zbuf *err)
{
	ap p;
	size_t errlen;
	int rc;

	*naddrs = 0;
	memset(&p, 0, sizeof p);
	zcur_init(&p.c, value.p ? value.p : "", value.p ? value.n : 0);
	p.err = err;
	p.text = text;
	p.addrs = addrs;
	p.max = max;
	p.n = naddrs;
	errlen = err != NULL ? err->len : 0;
	rc = ap_advance(&p);
	while (rc == Z_OK) {
		while (rc == Z_OK && ap_is(&p, ','))
			rc = ap_advance(&p);
		if (rc != Z_OK || p.tok.kind == MTOK_END)
			break;
		rc = ap_element(&p, 0, 0, 0);
		if (rc == Z_OK && !ap_is(&p, ',') && p.tok.kind != MTOK_END)
			rc = ap_fail(&p, ap_is(&p, ';') ? "';' outside a group" :
			    "expected ',' between addresses");
	}
	if (rc != Z_OK && err != NULL && err->len == errlen)
		zbuf_puts(err, "address list text does not fit the buffer");
	return rc;
}
