/*
 * NAME
 *	smtp_reply - SMTP replies: the client's assembler, the server's formatter
 * SUMMARY
 *	Reply lines read by a client are checked and joined into one
 *	smtp_reply; a server's reply is formatted into CRLF lines.
 * SYNOPSIS
 *	void smtp_reply_init(smtp_reply *r), smtp_reply_reset, smtp_reply_free
 *	int smtp_reply_copy(smtp_reply *dst, const smtp_reply *src)
 *	int smtp_reply_line(smtp_reply *r, const char *line, size_t n, zbuf *err)
 *	zspan smtp_reply_last(const smtp_reply *r)
 *	size_t smtp_enh_parse(zspan s, char *out, size_t outsz)
 *	int smtp_reply_format(zbuf *out, int code, const char *enh, zspan text)
 * DESCRIPTION
 *	A reply line is three digits (first 2..5, or 1 tolerated), then a
 *	space, a '-' (more lines follow) or the end of the line.  Every line
 *	of one reply must carry the same code.  Lines up to
 *	SMTP_REPLY_LINE_MAX bytes are accepted (RFC 5321 says 512, real
 *	servers send more); more than SMTP_REPLY_LINES_MAX lines or
 *	SMTP_REPLY_TEXT_MAX bytes are an error.  The enhanced status code
 *	(RFC 3463) of the last line is kept when its class matches the code.
 *
 *	smtp_reply_format() writes what a server sends: "NNN-" on every line
 *	but the last, the enhanced code after the number on each line when
 *	given, CRLF line ends, at most SMTP_REPLY_OUT_LINE_MAX bytes a line
 *	(RFC 5321 4.5.3.1.5).
 * DIAGNOSTICS
 *	Z_EPARSE/Z_ETOOBIG with a reason in err (assembler); Z_EPARSE or
 *	Z_ETOOBIG with out unchanged (formatter).
 * SECURITY
 *	Every byte read is untrusted: bounded buffers only, NUL bytes and
 *	malformed lines rejected, nothing interpreted beyond the codes.  The
 *	formatter refuses CR and NUL so a reply text cannot inject lines.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtp_session.h, zmta-smtp(3), RFC 5321 section 4.2, RFC 3463
 */
#include <string.h>
#include "smtp_reply.h"
#include "zerr.h"

/* smtp_reply_init - empty reply */
void smtp_reply_init(smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	zbuf_init(&r->text, SMTP_REPLY_TEXT_MAX);
}

/* smtp_reply_reset - forget the contents, keep storage */
void smtp_reply_reset(smtp_reply *r)
{
	r->code = 0;
	r->enh[0] = '\0';
	r->nlines = 0;
	r->complete = 0;
	zbuf_reset(&r->text);
}

/* smtp_reply_free - release storage */
void smtp_reply_free(smtp_reply *r)
{
	zbuf_free(&r->text);
	memset(r, 0, sizeof(*r));
}

/* smtp_enh_parse - enhanced status code "c.sss.ddd" at the start of s */
size_t smtp_enh_parse(zspan s, char *out, size_t outsz)
{
	size_t i = 0, part = 0, digits = 0;

	if (outsz)
		out[0] = '\0';
	if (s.n < 5 || (s.p[0] != '2' && s.p[0] != '4' && s.p[0] != '5') || s.p[1] != '.')
		return 0;
	for (i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c >= '0' && c <= '9') {
			digits++;
			if ((part == 0 && digits > 1) || digits > 3)
				return 0;
		} else if (c == '.') {
			if (digits == 0 || part == 2)
				return 0;
			part++;
			digits = 0;
		} else {
			break;
		}
	}
	if (part != 2 || digits == 0)
		return 0;
	if (i < s.n && s.p[i] != ' ' && s.p[i] != '\t')
		return 0;
	if (i >= outsz)
		return 0;
	memcpy(out, s.p, i);
	out[i] = '\0';
	return i;
}

/* smtp_reply_line - add one line to a reply being assembled */
int smtp_reply_line(smtp_reply *r, const char *line, size_t n, zbuf *err)
{
	int code;
	int more;
	zspan rest;

	if (r->complete)
		smtp_reply_reset(r);
	if (n < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9') {
		zbuf_reset(err);
		zbuf_puts(err, "malformed reply line (no 3-digit code)");
		return Z_EPARSE;
	}
	if (memchr(line, '\0', n) != NULL) {
		zbuf_reset(err);
		zbuf_puts(err, "malformed reply line (NUL byte)");
		return Z_EPARSE;
	}
	if (n > 3 && line[3] != ' ' && line[3] != '-') {
		zbuf_reset(err);
		zbuf_puts(err, "malformed reply line (4th character neither space nor '-')");
		return Z_EPARSE;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code) {
		zbuf_reset(err);
		zbuf_printf(err, "malformed multi-line reply (code %d after %d)", code, r->code);
		return Z_EPARSE;
	}
	if (r->nlines >= SMTP_REPLY_LINES_MAX) {
		zbuf_reset(err);
		zbuf_printf(err, "reply has more than %d lines", SMTP_REPLY_LINES_MAX);
		return Z_ETOOBIG;
	}
	if ((r->nlines > 0 && zbuf_putc(&r->text, '\n') != Z_OK) ||
	    zbuf_append(&r->text, line, n) != Z_OK) {
		zbuf_reset(err);
		zbuf_printf(err, "reply longer than %d bytes", SMTP_REPLY_TEXT_MAX);
		return Z_ETOOBIG;
	}
	r->code = code;
	r->nlines++;
	more = n > 3 && line[3] == '-';
	if (!more) {
		rest.p = line + (n > 4 ? 4 : n);
		rest.n = n > 4 ? n - 4 : 0;
		smtp_enh_parse(rest, r->enh, sizeof(r->enh));
		if (r->enh[0] != '\0' && r->enh[0] != line[0])
			r->enh[0] = '\0';   /* class must match the code */
		r->complete = 1;
		return 1;
	}
	return 0;
}

/* smtp_reply_last - text of the last line after "NNN " */
zspan smtp_reply_last(const smtp_reply *r)
{
	zspan s = { r->text.data ? r->text.data : "", r->text.len };
	long nl;

	while ((nl = zspan_chr(s, '\n')) >= 0) {
		s.p += nl + 1;
		s.n -= (size_t)nl + 1;
	}
	if (s.n >= 4) {
		s.p += 4;
		s.n -= 4;
	} else {
		s.p += s.n;
		s.n = 0;
	}
	return s;
}

/* smtp_reply_copy - dst becomes a copy of src */
int smtp_reply_copy(smtp_reply *dst, const smtp_reply *src)
{
	int rc = zbuf_set(&dst->text, src->text.data ? src->text.data : "", src->text.len);

	if (rc != Z_OK)
		return rc;
	dst->code = src->code;
	dst->nlines = src->nlines;
	dst->complete = src->complete;
	memcpy(dst->enh, src->enh, sizeof(dst->enh));
	return Z_OK;
}

/* smtp_reply_format - "NNN-x.y.z text\r\n" ... "NNN x.y.z text\r\n" */
int smtp_reply_format(zbuf *out, int code, const char *enh, zspan text)
{
	size_t old = out->len, nlines = 0;
	char enhbuf[24];
	int rc = Z_OK;

	if (code < 200 || code > 599)
		return Z_EPARSE;
	if (enh != NULL && enh[0] != '\0') {
		if (smtp_enh_parse(zspan_from(enh), enhbuf, sizeof(enhbuf)) != strlen(enh) ||
		    enh[0] - '0' != code / 100)
			return Z_EPARSE;
	} else {
		enh = NULL;
	}
	if (memchr(text.p ? text.p : "", '\r', text.n) != NULL ||
	    memchr(text.p ? text.p : "", '\0', text.n) != NULL)
		return Z_EPARSE;
	for (;;) {
		long nl = zspan_chr(text, '\n');
		size_t l = nl >= 0 ? (size_t)nl : text.n;
		size_t len = 4 + (enh ? strlen(enh) + 1 : 0) + l + 2;

		if (++nlines > SMTP_REPLY_LINES_MAX || len > SMTP_REPLY_OUT_LINE_MAX) {
			rc = Z_ETOOBIG;
			break;
		}
		rc = zbuf_printf(out, "%03d%c%s%s", code, nl >= 0 ? '-' : ' ', enh ? enh : "",
				 enh && l > 0 ? " " : "");
		if (rc == Z_OK)
			rc = zbuf_append(out, text.p ? text.p : "", l);
		if (rc == Z_OK)
			rc = zbuf_append(out, "\r\n", 2);
		if (rc != Z_OK || nl < 0)
			break;
		text.p += l + 1;
		text.n -= l + 1;
	}
	if (rc != Z_OK)
		zbuf_truncate(out, old);
	return rc;
}
