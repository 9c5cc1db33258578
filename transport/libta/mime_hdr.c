/*
 * NAME
 *	mime_hdr - RFC 2047 encoding of 8-bit header fields, header block
 *	rewriting
 *
 * SUMMARY
 *	Turn header fields with 8-bit bytes into Q encoded words for a
 *	7-bit peer, and rewrite a header block for a conversion (new
 *	Content-Transfer-Encoding, text/plain wrapper for non-MIME mail).
 *
 * SYNOPSIS
 *	#include "mime.h"
 *	int mime_hdr_encode(line, n, charset, out);
 *
 *	#include "mime_int.h"
 *	int mime_hdr_rewrite(b, len, enc8, cte, unknown, charset, out);
 *
 * DESCRIPTION
 *	mime_hdr_encode() takes one field (name, colon, value with its
 *	folding) and writes it with its value unfolded and re-folded with
 *	LF SP: words without 8-bit bytes stay as they are; a run of
 *	adjacent words with 8-bit bytes (a quoted string as a whole, its
 *	contents unquoted) becomes Q encoded words of at most 75
 *	characters in charset (default UTF-8); UTF-8 characters are not
 *	split between words.  A line without a colon is copied as is.
 *	mime_hdr_rewrite() copies a block's fields (not the empty line):
 *	8-bit fields through mime_hdr_encode() when enc8; every
 *	Content-Transfer-Encoding replaced by one "cte" field when cte is
 *	set (added when there was none); when unknown, MIME-Version,
 *	Content-Type and C-T-E are dropped and a text/plain; charset=...
 *	quoted-printable set is added.  Fields get a final LF if missing.
 *
 * DIAGNOSTICS
 *	Z_OK; Z_ETOOBIG when out is full or the charset name leaves no room
 *	for a character in a 75-character word (mime_hdr_encode then leaves
 *	out as it was).
 *
 * SECURITY
 *	Header fields are untrusted message data of any length; the value
 *	is unfolded into a bounded zbuf of its own size, encoded words are
 *	built in a fixed array with their length checked first.
 *
 * BUGS
 *	Multiple white space between words collapses to one space.  8-bit
 *	bytes in a field name, or in a line without a colon, cannot be
 *	encoded and are sent as they are.  An 8-bit address (EAI) is
 *	encoded like any other word, which breaks it; SMTPUTF8 is not
 *	supported.
 *
 * SEE ALSO
 *	mime.c, mime_int.h, RFC 2047, RFC 2045.
 */
#include <stdio.h>
#include <string.h>
#include "mime_int.h"

/* q_safe - may c stand for itself inside a Q encoded word (phrase rules) */
static int q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

struct hdrw {
	zbuf *out;
	size_t col;
	int first; /* no word written yet on the value */
};

/* hw_sep - separator before a word of length wl: space or fold */
static int hw_sep(struct hdrw *w, size_t wl)
{
	int rc;
	int first = w->first;
	w->first = 0;
	if (w->col + 1 + wl > 76 && (!first || w->col > 1)) {
		rc = zbuf_append(w->out, "\n ", 2);
		w->col = 1;
		return rc;
	}
	w->col++;
	return zbuf_putc(w->out, ' ');
}

/* hw_plain - emit an unencoded word */
static int hw_plain(struct hdrw *w, const char *p, size_t n)
{
	int rc = hw_sep(w, n);
	if (rc == Z_OK)
		rc = zbuf_append(w->out, p, n);
	w->col += n;
	return rc;
}

/* hw_encoded - emit bytes as one or more Q encoded words (each <= 75) */
static int hw_encoded(struct hdrw *w, const char *p, size_t n, const char *cs)
{
	char word[80];
	size_t pre = strlen(cs) + 5; /* =?cs?Q? */
	size_t cap, i = 0;
	int rc = Z_OK;

	if (pre + 3 + 2 > 75)
		return Z_ETOOBIG; /* charset name too long */
	while (i < n && rc == Z_OK) {
		/* fill the rest of the current line when a character fits */
		size_t avail = w->col + 1 < 76 ? 76 - (w->col + 1) : 0;
		cap = (avail >= pre + 2 + 12 && avail < 75 ? avail : 75) - 2; /* before ?= */
		size_t wl = (size_t)snprintf(word, sizeof(word), "=?%s?Q?", cs);
		while (i < n) {
			/* one character: a UTF-8 lead byte and its continuations */
			size_t cl = 1;
			if ((unsigned char)p[i] >= 0xC0)
				while (i + cl < n && cl < 4 && ((unsigned char)p[i + cl] & 0xC0) == 0x80)
					cl++;
			char tmp[12];
			size_t tl = 0;
			for (size_t k = 0; k < cl; k++) {
				unsigned char c = (unsigned char)p[i + k];
				if (c == ' ')
					tmp[tl++] = '_';
				else if (q_safe(c))
					tmp[tl++] = (char)c;
				else {
					tmp[tl++] = '=';
					tmp[tl++] = mime_hexu[c >> 4];
					tmp[tl++] = mime_hexu[c & 15];
				}
			}
			if (wl + tl > cap) {
				if (wl == pre)
					return Z_ETOOBIG; /* cannot happen: tl <= 12 */
				break;
			}
			memcpy(word + wl, tmp, tl);
			wl += tl;
			i += cl;
		}
		memcpy(word + wl, "?=", 2);
		wl += 2;
		rc = hw_sep(w, wl);
		if (rc == Z_OK)
			rc = zbuf_append(w->out, word, wl);
		w->col += wl;
	}
	return rc;
}

/* word_end - end of the value word at i: up to white space outside a
 * quoted string (a backslash in one escapes the next byte) */
static size_t word_end(const char *v, size_t vn, size_t i)
{
	int inq = 0;
	while (i < vn && (inq || (v[i] != ' ' && v[i] != '\t'))) {
		if (inq && v[i] == '\\' && i + 1 < vn)
			i++;
		else if (v[i] == '"')
			inq = !inq;
		i++;
	}
	return i;
}

/* mime_hdr_encode - one header line (name: value) with 8-bit bytes to RFC
 * 2047 Q words (<= 75 chars each, folded) */
int mime_hdr_encode(const char *line, size_t n, const char *charset, zbuf *out)
{
	const char *cs = (charset && *charset) ? charset : "UTF-8";
	size_t mark = out->len, c = 0, i;
	zbuf val = ZBUF_INIT(n + 1);
	int rc = Z_OK;

	while (c < n && line[c] != ':' && line[c] != '\n')
		c++;
	if (c >= n || line[c] != ':') { /* not a field: copy as is */
		rc = zbuf_append(out, line, n);
		goto done;
	}
	/* unfold the value: CR/LF dropped, they are followed by WSP anyway */
	for (i = c + 1; i < n && rc == Z_OK; i++)
		if (line[i] != '\n' && line[i] != '\r')
			rc = zbuf_putc(&val, line[i]);
	if (rc != Z_OK)
		goto done;
	rc = zbuf_append(out, line, c + 1);
	if (rc != Z_OK)
		goto done;

	struct hdrw w = { out, c + 1, 1 };
	const char *v = val.data ? val.data : "";
	size_t vn = val.len;
	i = 0;
	while (i < vn && rc == Z_OK) {
		while (i < vn && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i >= vn)
			break;
		/* one word; a quoted string is one word */
		size_t s = i;
		i = word_end(v, vn, i);
		if (!mime_has8(v + s, i - s)) {
			rc = hw_plain(&w, v + s, i - s);
			continue;
		}
		/* run of 8-bit words: extend while the next word is also 8-bit */
		size_t e = i;
		for (;;) {
			size_t j = e;
			while (j < vn && (v[j] == ' ' || v[j] == '\t'))
				j++;
			size_t k = word_end(v, vn, j);
			if (k > j && mime_has8(v + j, k - j))
				e = k;
			else
				break;
		}
		i = e;
		/* a run that is exactly one quoted string: encode its contents */
		if (e - s >= 2 && v[s] == '"' && v[e - 1] == '"') {
			zbuf un = ZBUF_INIT(e - s);
			for (size_t k = s + 1; k + 1 < e && rc == Z_OK; k++) {
				if (v[k] == '\\' && k + 2 < e)
					k++;
				rc = zbuf_putc(&un, v[k]);
			}
			if (rc == Z_OK)
				rc = hw_encoded(&w, un.data ? un.data : "", un.len, cs);
			zbuf_free(&un);
		} else {
			rc = hw_encoded(&w, v + s, e - s, cs);
		}
	}
	if (rc == Z_OK)
		rc = zbuf_putc(out, '\n');
done:
	zbuf_free(&val);
	if (rc != Z_OK)
		zbuf_truncate(out, mark);
	return rc;
}

/* ---------- header block rewriting ---------- */

/* mime_hdr_rewrite - copy a header block's fields (not the empty line) to out,
 * RFC 2047-encoding 8-bit fields when enc8, replacing C-T-E by cte when
 * set, dropping MIME headers and adding a text/plain wrapper when unknown */
int mime_hdr_rewrite(const char *b, size_t len, int enc8, const char *cte, int unknown,
		       const char *cs, zbuf *out)
{
	size_t pos = 0;
	struct field f;
	int rc = Z_OK, cte_done = 0;

	while (rc == Z_OK && mime_field_next(b, len, &pos, &f)) {
		if (unknown && (zspan_caseeq(f.name, "MIME-Version") ||
				zspan_caseeq(f.name, "Content-Type") ||
				zspan_caseeq(f.name, "Content-Transfer-Encoding")))
			continue;
		if (cte && zspan_caseeq(f.name, "Content-Transfer-Encoding")) {
			if (!cte_done)
				rc = zbuf_printf(out, "Content-Transfer-Encoding: %s\n", cte);
			cte_done = 1;
			continue;
		}
		if (enc8 && mime_has8(f.whole.p, f.whole.n))
			rc = mime_hdr_encode(f.whole.p, f.whole.n, cs, out);
		else {
			rc = zbuf_append(out, f.whole.p, f.whole.n);
			if (rc == Z_OK && (f.whole.n == 0 || f.whole.p[f.whole.n - 1] != '\n'))
				rc = zbuf_putc(out, '\n');
		}
	}
	if (rc == Z_OK && unknown)
		rc = zbuf_printf(out, "MIME-Version: 1.0\nContent-Type: text/plain; charset=%s\n"
				 "Content-Transfer-Encoding: quoted-printable\n", cs);
	else if (rc == Z_OK && cte && !cte_done)
		rc = zbuf_printf(out, "Content-Transfer-Encoding: %s\n", cte);
	return rc;
}
