/*
 * NAME
 *	mime_ent - header fields and the MIME facts of one entity
 *
 * SUMMARY
 *	Walk the fields of a header block and pick out what the MIME
 *	converter needs: Content-Type (type, subtype, boundary),
 *	Content-Transfer-Encoding, MIME-Version, and whether the entity
 *	must never be changed (DKIM-Signature, Content-Conversion:
 *	prohibited).
 *
 * SYNOPSIS
 *	#include "mime_int.h"
 *	int mime_has8(p, n);
 *	int mime_field_next(b, len, &pos, &field);
 *	void mime_parse_ent(b, len, &ent);
 *
 * DESCRIPTION
 *	A header block is LF (or CRLF) terminated lines ending at an empty
 *	line or at len.  mime_field_next() returns one field at a time with
 *	its continuation lines; a line without a colon is a field with an
 *	empty name.  mime_parse_ent() reads the Content-Type value per RFC
 *	2045 (comments and folding skipped, type and subtype lowercased,
 *	the boundary parameter as a token or quoted string) and defaults to
 *	text/plain when there is none.  Unknown encodings map to CTE_OTHER.
 *
 * DIAGNOSTICS
 *	None: malformed fields give empty or default facts, never an error.
 *
 * SECURITY
 *	The header block is untrusted message data.  Every index is checked
 *	against len; type, subtype and boundary are copied into fixed
 *	arrays and truncated (a boundary over MIME_BMAX is ignored, so the
 *	entity is not walked as a multipart).
 *
 * BUGS
 *	RFC 2231 parameter continuations (boundary*0=) are not joined.
 *
 * SEE ALSO
 *	mime.c, mime_int.h, RFC 2045, RFC 2046.
 */
#include <stdint.h>
#include <string.h>
#include "mime_int.h"

/* mime_has8 - does the span hold a byte >= 0x80 */
int mime_has8(const char *p, size_t n)
{
	size_t i = 0;

	/* eight bytes at a time: every message's headers and body pass here */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w & UINT64_C(0x8080808080808080))
			return 1;
	}
	for (; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* lower_copy - copy a span lowercased into dst[dsz] (truncating) */
static void lower_copy(const char *p, size_t n, char *dst, size_t dsz)
{
	size_t i;
	for (i = 0; i < n && i + 1 < dsz; i++) {
		char c = p[i];
		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	dst[i] = '\0';
}

/* mime_field_next - next field of a header block at *pos; 0 at the empty line/end */
int mime_field_next(const char *b, size_t len, size_t *pos, struct field *f)
{
	size_t s = *pos, e = s;

	if (s >= len || b[s] == '\n' || (b[s] == '\r' && s + 1 < len && b[s + 1] == '\n'))
		return 0;
	for (;;) {
		while (e < len && b[e] != '\n')
			e++;
		if (e < len)
			e++;
		if (e < len && (b[e] == ' ' || b[e] == '\t'))
			continue;
		break;
	}
	f->whole.p = b + s;
	f->whole.n = e - s;
	size_t c = s;
	while (c < e && b[c] != ':' && b[c] != '\n')
		c++;
	if (c < e && b[c] == ':') {
		f->name = zspan_trim((zspan){ b + s, c - s });
		size_t ve = e;
		if (ve > c + 1 && b[ve - 1] == '\n')
			ve--;
		if (ve > c + 1 && b[ve - 1] == '\r')
			ve--;
		f->value.p = b + c + 1;
		f->value.n = ve - (c + 1);
	} else {
		f->name = (zspan){ b + s, 0 };
		f->value = (zspan){ b + s, 0 };
	}
	*pos = e;
	return 1;
}

/* skip_cfws - skip spaces, folding and (nested) comments */
static size_t skip_cfws(const char *p, size_t n, size_t i)
{
	for (;;) {
		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
			i++;
		if (i < n && p[i] == '(') {
			int depth = 0;
			while (i < n) {
				if (p[i] == '\\' && i + 1 < n) {
					i += 2;
					continue;
				}
				if (p[i] == '(')
					depth++;
				else if (p[i] == ')' && --depth == 0) {
					i++;
					break;
				}
				i++;
			}
			continue;
		}
		return i;
	}
}

/* is_tokend - RFC 2045 tspecials, space, controls and 8-bit end a token */
static int is_tokend(int c)
{
	return c <= ' ' || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* take_token - RFC 2045 token at i; returns new index, token in *t */
static size_t take_token(const char *p, size_t n, size_t i, zspan *t)
{
	size_t s = i;
	while (i < n && !is_tokend((unsigned char)p[i]))
		i++;
	t->p = p + s;
	t->n = i - s;
	return i;
}

/* parse_ctype - fill type/sub/boundary from a Content-Type value */
static void parse_ctype(zspan v, struct ent *e)
{
	const char *p = v.p;
	size_t n = v.n, i;
	zspan t;

	e->has_ct = 1;
	i = skip_cfws(p, n, 0);
	i = take_token(p, n, i, &t);
	lower_copy(t.p, t.n, e->type, sizeof(e->type));
	i = skip_cfws(p, n, i);
	if (i < n && p[i] == '/') {
		i = skip_cfws(p, n, i + 1);
		i = take_token(p, n, i, &t);
		lower_copy(t.p, t.n, e->sub, sizeof(e->sub));
	}
	while (i < n) {
		i = skip_cfws(p, n, i);
		if (i >= n || p[i] != ';') {
			/* junk: skip to the next ';' */
			while (i < n && p[i] != ';')
				i++;
			if (i >= n)
				break;
		}
		i = skip_cfws(p, n, i + 1);
		zspan name;
		i = take_token(p, n, i, &name);
		i = skip_cfws(p, n, i);
		if (i >= n || p[i] != '=')
			continue;
		i = skip_cfws(p, n, i + 1);
		char val[MIME_BMAX + 1];
		size_t vl = 0;
		int toolong = 0;
		if (i < n && p[i] == '"') {
			i++;
			while (i < n && p[i] != '"') {
				if (p[i] == '\\' && i + 1 < n)
					i++;
				if (p[i] == '\n' || p[i] == '\r') { /* unfold */
					i++;
					continue;
				}
				if (vl < MIME_BMAX)
					val[vl++] = p[i];
				else
					toolong = 1;
				i++;
			}
			if (i < n)
				i++;
		} else {
			zspan tv;
			i = take_token(p, n, i, &tv);
			if (tv.n > MIME_BMAX)
				toolong = 1;
			vl = tv.n > MIME_BMAX ? MIME_BMAX : tv.n;
			memcpy(val, tv.p, vl);
		}
		val[vl] = '\0';
		if (zspan_caseeq(name, "boundary") && !toolong && vl > 0)
			memcpy(e->boundary, val, vl + 1);
	}
}

/* parse_cte - map a Content-Transfer-Encoding value */
static int parse_cte(zspan v)
{
	size_t i = skip_cfws(v.p, v.n, 0);
	zspan t;
	take_token(v.p, v.n, i, &t);
	if (zspan_caseeq(t, "7bit"))
		return CTE_7BIT;
	if (zspan_caseeq(t, "8bit"))
		return CTE_8BIT;
	if (zspan_caseeq(t, "binary"))
		return CTE_BINARY;
	if (zspan_caseeq(t, "quoted-printable"))
		return CTE_QP;
	if (zspan_caseeq(t, "base64"))
		return CTE_B64;
	return t.n ? CTE_OTHER : CTE_NONE;
}

/* mime_parse_ent - collect the MIME facts of one header block */
void mime_parse_ent(const char *b, size_t len, struct ent *e)
{
	size_t pos = 0;
	struct field f;

	memset(e, 0, sizeof(*e));
	while (mime_field_next(b, len, &pos, &f)) {
		if (mime_has8(f.whole.p, f.whole.n))
			e->hdr8 = 1;
		if (zspan_caseeq(f.name, "Content-Type"))
			parse_ctype(f.value, e);
		else if (zspan_caseeq(f.name, "Content-Transfer-Encoding"))
			e->cte = parse_cte(f.value);
		else if (zspan_caseeq(f.name, "MIME-Version"))
			e->mimever = 1;
		else if (zspan_caseeq(f.name, "DKIM-Signature"))
			e->dkim = 1;
		else if (zspan_caseeq(f.name, "Content-Conversion")) {
			zspan t;
			take_token(f.value.p, f.value.n, skip_cfws(f.value.p, f.value.n, 0), &t);
			if (zspan_caseeq(t, "prohibited"))
				e->dkim = 1;
		}
	}
	if (!e->has_ct) { /* RFC 2045 default */
		memcpy(e->type, "text", 5);
		memcpy(e->sub, "plain", 6);
	}
}
