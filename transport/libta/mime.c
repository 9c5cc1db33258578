/*
 * NAME
 *	mime - 7bit/8bit conversion and SMTP wire encoding for transport agents
 *
 * SUMMARY
 *	Decide per peer what has to happen to a message (nothing, 8bit ->
 *	quoted-printable, quoted-printable -> 8bit, wrap as text/plain, or
 *	refuse) and then stream it out in SMTP wire form.
 *
 * SYNOPSIS
 *	#include "mime.h"
 *	int mime_analyse(hdrs, hlen, bodyfd, bodyoff, bodylen, o, res);
 *	int mime_send(hdrs, hlen, bodyfd, bodyoff, bodylen, o, res, out, arg);
 *	int mime_qp_encode(p, n, out);
 *	int mime_qp_decode(p, n, out);
 *	int mime_hdr_encode(line, n, charset, out);
 *	int mime_wire(p, n, dotstuff, &bol, out);
 *
 * DESCRIPTION
 *	The header block is the LF-terminated 'm' block of a control file,
 *	ending with an empty line.  The body is read with pread() from bodyfd
 *	in 64 KiB chunks; it is never held in memory as a whole.  MIME part
 *	header blocks inside multipart bodies are buffered, at most 64 KiB
 *	each.
 *
 *	mime_analyse() scans headers and body and sets res->cvt:
 *	  MIME_CVT_NONE     nothing to convert (8-bit headers may still be
 *	                    RFC 2047 encoded by mime_send unless -H);
 *	  MIME_CVT_QP       top-level text/... (or no Content-Type) with 8-bit
 *	                    body, 7-bit peer: body becomes quoted-printable;
 *	  MIME_CVT_MPQP     multipart whose 8-bit leaves are all text/... with
 *	                    C-T-E absent/7bit/8bit: those leaves become QP,
 *	                    everything else (boundaries, other parts) is kept;
 *	                    8-bit bytes in part headers are RFC 2047 encoded;
 *	  MIME_CVT_8BIT     8-bit peer and -8: text/... leaves (top-level or in
 *	                    multiparts) declared quoted-printable are decoded;
 *	  MIME_CVT_UNKNOWN  no MIME-Version, 8-bit body, 7-bit peer: wrapped
 *	                    as text/plain; charset=DEFCHARSET, QP (any old
 *	                    Content-Type/C-T-E headers are dropped);
 *	  MIME_REFUSE       cannot go to this peer unbroken; res->why says
 *	                    why.
 *	Refused for a 7-bit peer: any 8-bit data in a message with
 *	DKIM-Signature: or Content-Conversion: prohibited (body, or headers
 *	unless -H); 8-bit bytes in a non-text leaf, in a message/... part (no
 *	recursion into message/rfc822), in a text leaf already declared
 *	quoted-printable/base64/binary, in a multipart preamble or
 *	epilogue; multipart nesting deeper than 16 or a part header block
 *	over 64 KiB when conversion would be needed.
 *	A DKIM-signed or conversion-prohibited message is never changed:
 *	neither body nor headers (no RFC 2047 encoding, no -8 decoding).
 *	BODY=8BITMIME is asked for (res->send_8bitmime) when the peer is
 *	8-bit and the body has 8-bit bytes or is being QP-decoded.
 *
 *	The QP encoder keeps lines at most 76 characters including the
 *	soft-break '=', encodes '=', controls other than TAB, bytes over
 *	126, SP/TAB before a line end, and '.' or 'F' at the start of any
 *	output line (dot lines, "From " lines); hex is upper case and an
 *	=XX is never split.  The decoder takes =XX in either case, "=" LF,
 *	"=" CRLF and "=" followed by padding white space as soft breaks, and
 *	copies anything else literally.  Header words with 8-bit bytes (runs
 *	of adjacent ones together; a quoted string as a whole) become Q
 *	encoded words of at most 75 characters in DEFCHARSET, folded with
 *	LF SP; UTF-8 characters are not split between words.
 *	Wire form: LF, bare CR and CRLF all become one CRLF; a leading '.'
 *	is doubled when dot-stuffing; the output always ends with CRLF.
 *
 * DIAGNOSTICS
 *	Functions return Z_OK or a negative Z_* code: Z_EIO when the body
 *	cannot be read (or is shorter than bodylen), Z_ETOOBIG when an output
 *	zbuf is full, Z_ERR when the out() callback aborts.
 *
 * SECURITY
 *	Headers and body are untrusted message data.  Every buffer is a
 *	bounded zbuf; a line is never assumed to be shorter than a limit:
 *	long lines are processed in pieces.  Nothing is executed or
 *	interpreted beyond MIME structure.
 *
 * BUGS
 *	Base64 re-encoding of non-text 8-bit parts is not done (refused
 *	instead).  The 8bit -> 7bit downgrade of a bare message/rfc822 part
 *	is refused, not recursed into.  Multiple whitespace between header
 *	words that get RFC 2047 encoded collapses to one space.  8-bit bytes
 *	in a header field name, or in a header line without a colon, cannot
 *	be RFC 2047 encoded and are sent as they are.  An 8-bit address
 *	(EAI) in a header is encoded like any other word, which breaks it;
 *	SMTPUTF8 is not supported.  QP-decoding (-8) does not check that the
 *	result has no NUL bytes or lines over 998 octets.
 *
 * SEE ALSO
 *	smtp(8), RFC 2045, RFC 2047, RFC 6152.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mime.h"

#define MIME_CHUNK 65536u
#define MIME_PHDR_MAX 65536u
#define MIME_DEPTH 16
#define MIME_BMAX 200
#define MIME_OBUF_MAX (4u * 1024u * 1024u)
#define QP_MAXCOL 75 /* chars before the soft-break '=' (76 with it) */

enum { CTE_NONE, CTE_7BIT, CTE_8BIT, CTE_BINARY, CTE_QP, CTE_B64, CTE_OTHER };

/* parsed interesting headers of one entity */
struct ent {
	char type[64];
	char sub[64];
	char boundary[MIME_BMAX + 1];
	int has_ct;
	int cte;
	int mimever;
	int dkim;     /* DKIM-Signature or Content-Conversion: prohibited */
	int hdr8;
};

/* ---------- small helpers ---------- */

static const char hexu[] = "0123456789ABCDEF";

/* has8 - does the span hold a byte >= 0x80 */
static int has8(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
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

/* set_why - store a refusal reason */
static void set_why(mime_result *res, const char *s)
{
	if (res->why[0] == '\0')
		(void)zstrlcpy(res->why, s, sizeof(res->why));
}

/* ---------- header field iteration ---------- */

struct field {
	zspan name;   /* before ':' (trimmed) */
	zspan value;  /* after ':' up to the final LF, folding kept */
	zspan whole;  /* the whole field including its final LF */
};

/* hdr_next - next field of a header block at *pos; 0 at the empty line/end */
static int hdr_next(const char *b, size_t len, size_t *pos, struct field *f)
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

/* parse_ent - collect the MIME facts of one header block */
static void parse_ent(const char *b, size_t len, struct ent *e)
{
	size_t pos = 0;
	struct field f;

	memset(e, 0, sizeof(*e));
	while (hdr_next(b, len, &pos, &f)) {
		if (has8(f.whole.p, f.whole.n))
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

/* ---------- body reader ---------- */

struct rdr {
	int fd;
	off_t pos;     /* file offset of the next pread */
	off_t end;     /* bodyoff + bodylen */
	char *buf;
	size_t start, len;
};

/* rdr_open - reader over [off, end) of fd */
static int rdr_open(struct rdr *r, int fd, off_t off, off_t end)
{
	r->fd = fd;
	r->pos = off;
	r->end = end;
	r->start = r->len = 0;
	r->buf = malloc(MIME_CHUNK);
	return r->buf ? Z_OK : Z_ENOMEM;
}

/* rdr_close - release the reader */
static void rdr_close(struct rdr *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* rdr_fill - read more into the free tail; returns bytes read, 0 at end, <0 err */
static int rdr_fill(struct rdr *r, size_t *got)
{
	*got = 0;
	if (r->pos >= r->end)
		return Z_OK;
	size_t room = MIME_CHUNK - r->len;
	if ((off_t)room > r->end - r->pos)
		room = (size_t)(r->end - r->pos);
	ssize_t k;
	do
		k = pread(r->fd, r->buf + r->len, room, r->pos);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return Z_EIO;
	if (k == 0) {
		errno = EIO;
		return Z_EIO; /* body shorter than bodylen */
	}
	r->pos += k;
	r->len += (size_t)k;
	*got = (size_t)k;
	return Z_OK;
}

/* rdr_offset - file offset of the first unconsumed byte */
static off_t rdr_offset(const struct rdr *r)
{
	return r->pos - (off_t)(r->len - r->start);
}

/* rdr_line - next line (or piece of an over-long line); 1 got, 0 end, <0 err */
static int rdr_line(struct rdr *r, const char **p, size_t *n, int *eol)
{
	for (;;) {
		char *s = r->buf + r->start;
		size_t have = r->len - r->start;
		char *nl = have ? memchr(s, '\n', have) : NULL;
		if (nl != NULL) {
			*p = s;
			*n = (size_t)(nl - s);
			*eol = 1;
			r->start += *n + 1;
			return 1;
		}
		if (have == MIME_CHUNK || (have > 0 && r->pos >= r->end)) {
			*p = s;
			*n = have;
			*eol = 0;
			r->start = r->len;
			return 1;
		}
		if (have == 0 && r->pos >= r->end)
			return 0;
		if (r->start > 0) {
			memmove(r->buf, s, have);
			r->start = 0;
			r->len = have;
		}
		size_t got;
		int rc = rdr_fill(r, &got);
		if (rc < 0)
			return rc;
	}
}

/* ---------- QP encoder / decoder state machines ---------- */

struct qpe {
	int col;
	int pend; /* pending SP/TAB or -1 */
};

/* qpe_soft - soft line break */
static int qpe_soft(struct qpe *s, zbuf *out)
{
	s->col = 0;
	return zbuf_append(out, "=\n", 2);
}

/* qpe_put - one byte, encoded when needed or forced */
static int qpe_put(struct qpe *s, unsigned char c, int force, zbuf *out)
{
	int rc = Z_OK;
	int enc = force || c == '=' || (c < 32 && c != '\t' && c != ' ') || c > 126;

	if (!enc && s->col + 1 > QP_MAXCOL)
		rc = qpe_soft(s, out);
	if (rc == Z_OK && !enc && s->col == 0 && (c == '.' || c == 'F'))
		enc = 1;
	if (rc == Z_OK && enc && s->col + 3 > QP_MAXCOL)
		rc = qpe_soft(s, out);
	if (rc != Z_OK)
		return rc;
	if (enc) {
		char t[3] = { '=', hexu[c >> 4], hexu[c & 15] };
		s->col += 3;
		return zbuf_append(out, t, 3);
	}
	s->col++;
	return zbuf_putc(out, c);
}

/* qpe_byte - feed one input byte */
static int qpe_byte(struct qpe *s, unsigned char c, zbuf *out)
{
	int rc;
	if (s->pend >= 0) {
		unsigned char w = (unsigned char)s->pend;
		s->pend = -1;
		rc = qpe_put(s, w, c == '\n', out);
		if (rc != Z_OK)
			return rc;
	}
	if (c == '\n') {
		s->col = 0;
		return zbuf_putc(out, '\n');
	}
	if (c == ' ' || c == '\t') {
		s->pend = c;
		return Z_OK;
	}
	return qpe_put(s, c, 0, out);
}

/* qpe_feed - feed n bytes */
static int qpe_feed(struct qpe *s, const char *p, size_t n, zbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		int rc = qpe_byte(s, (unsigned char)p[i], out);
		if (rc != Z_OK)
			return rc;
	}
	return Z_OK;
}

/* qpe_finish - flush pending trailing white space (encoded) */
static int qpe_finish(struct qpe *s, zbuf *out)
{
	if (s->pend >= 0) {
		unsigned char w = (unsigned char)s->pend;
		s->pend = -1;
		return qpe_put(s, w, 1, out);
	}
	return Z_OK;
}

struct qpd {
	char pb[16]; /* pending bytes, pb[0] == '=' */
	size_t np;
};

/* qpd_flush - emit pending bytes literally */
static int qpd_flush(struct qpd *s, zbuf *out)
{
	int rc = s->np ? zbuf_append(out, s->pb, s->np) : Z_OK;
	s->np = 0;
	return rc;
}

/* qpd_byte - feed one byte to the decoder */
static int qpd_byte(struct qpd *s, unsigned char c, zbuf *out)
{
	int rc;
	for (;;) {
		if (s->np == 0) {
			if (c == '=') {
				s->pb[0] = '=';
				s->np = 1;
				return Z_OK;
			}
			return zbuf_putc(out, c);
		}
		if (s->np == 1 && zhexval(c) >= 0) {
			s->pb[1] = (char)c;
			s->np = 2;
			return Z_OK;
		}
		if (s->np == 2 && zhexval((unsigned char)s->pb[1]) >= 0) {
			if (zhexval(c) >= 0) {
				s->np = 0;
				return zbuf_putc(out, zhexval((unsigned char)s->pb[1]) * 16 + zhexval(c));
			}
		} else if (c == '\n') {
			s->np = 0; /* soft line break, padding dropped */
			return Z_OK;
		} else if ((c == ' ' || c == '\t' || c == '\r') && s->np < sizeof(s->pb)) {
			s->pb[s->np++] = (char)c;
			return Z_OK;
		}
		/* not an escape: copy literally, then look at c again */
		rc = qpd_flush(s, out);
		if (rc != Z_OK)
			return rc;
	}
}

/* qpd_feed - feed n bytes */
static int qpd_feed(struct qpd *s, const char *p, size_t n, zbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		int rc = qpd_byte(s, (unsigned char)p[i], out);
		if (rc != Z_OK)
			return rc;
	}
	return Z_OK;
}

/* mime_qp_encode - RFC 2045 QP of one text (LF line ends), appended to out */
int mime_qp_encode(const char *p, size_t n, zbuf *out)
{
	struct qpe s = { 0, -1 };
	size_t mark = out->len;
	int rc = qpe_feed(&s, p, n, out);
	if (rc == Z_OK)
		rc = qpe_finish(&s, out);
	if (rc != Z_OK)
		zbuf_truncate(out, mark);
	return rc;
}

/* mime_qp_decode - decode QP (soft breaks, =XX) into out */
int mime_qp_decode(const char *p, size_t n, zbuf *out)
{
	struct qpd s = { { 0 }, 0 };
	size_t mark = out->len;
	int rc = qpd_feed(&s, p, n, out);
	if (rc == Z_OK)
		rc = qpd_flush(&s, out);
	if (rc != Z_OK)
		zbuf_truncate(out, mark);
	return rc;
}

/* ---------- wire form ---------- */

/* mime_wire - LF/CR/CRLF -> CRLF, dot-stuffing; *bol: 0 mid-line, 1 at
 * line start, 2 at line start right after a CR (a following LF is eaten) */
int mime_wire(const char *p, size_t n, int dotstuff, int *bol, zbuf *out)
{
	size_t mark = out->len, i = 0, run;
	int rc = Z_OK;

	while (i < n && rc == Z_OK) {
		char c = p[i];
		if (c == '\n') {
			if (*bol != 2)
				rc = zbuf_append(out, "\r\n", 2);
			*bol = 1;
			i++;
		} else if (c == '\r') {
			rc = zbuf_append(out, "\r\n", 2);
			*bol = 2;
			i++;
		} else {
			if (*bol && dotstuff && c == '.')
				rc = zbuf_putc(out, '.');
			*bol = 0;
			for (run = i; run < n && p[run] != '\n' && p[run] != '\r'; run++)
				;
			if (rc == Z_OK)
				rc = zbuf_append(out, p + i, run - i);
			i = run;
		}
	}
	if (rc != Z_OK)
		zbuf_truncate(out, mark);
	return rc;
}

/* ---------- RFC 2047 header encoding ---------- */

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
					tmp[tl++] = hexu[c >> 4];
					tmp[tl++] = hexu[c & 15];
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
		int inq = 0;
		while (i < vn && (inq || (v[i] != ' ' && v[i] != '\t'))) {
			if (inq && v[i] == '\\' && i + 1 < vn)
				i++;
			else if (v[i] == '"')
				inq = !inq;
			i++;
		}
		if (!has8(v + s, i - s)) {
			rc = hw_plain(&w, v + s, i - s);
			continue;
		}
		/* run of 8-bit words: extend while the next word is also 8-bit */
		size_t e = i;
		for (;;) {
			size_t j = e;
			while (j < vn && (v[j] == ' ' || v[j] == '\t'))
				j++;
			size_t k = j;
			int q = 0;
			while (k < vn && (q || (v[k] != ' ' && v[k] != '\t'))) {
				if (q && v[k] == '\\' && k + 1 < vn)
					k++;
				else if (v[k] == '"')
					q = !q;
				k++;
			}
			if (k > j && has8(v + j, k - j))
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
	if (rc == Z_OK && w.first) /* empty value */
		rc = Z_OK;
	if (rc == Z_OK)
		rc = zbuf_putc(out, '\n');
done:
	zbuf_free(&val);
	if (rc != Z_OK)
		zbuf_truncate(out, mark);
	return rc;
}

/* ---------- header block rewriting ---------- */

/* hdr_rewrite - copy a header block's fields (not the empty line) to out,
 * RFC 2047-encoding 8-bit fields when enc8, replacing C-T-E by cte when
 * set, dropping MIME headers and adding a text/plain wrapper when unknown */
static int hdr_rewrite(const char *b, size_t len, int enc8, const char *cte, int unknown,
		       const char *cs, zbuf *out)
{
	size_t pos = 0;
	struct field f;
	int rc = Z_OK, cte_done = 0;

	while (rc == Z_OK && hdr_next(b, len, &pos, &f)) {
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
		if (enc8 && has8(f.whole.p, f.whole.n))
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

/* ---------- multipart walker ---------- */

enum { ACT_PASS, ACT_QPENC, ACT_QPDEC };
enum { W_ANALYSE, W_SEND };

struct walk {
	int mode;
	const mime_opts *o;
	enum mime_cvt cvt;     /* send: the decided conversion */
	/* analysis findings */
	int n_conv;            /* 8-bit text leaves that QP can fix */
	int n_qp;              /* QP text leaves (for -8) */
	int n_bad;             /* 8-bit data that cannot be converted */
	int hdr8;              /* 8-bit bytes in part headers */
	int body8;
	int overflow;          /* structure beyond limits */
	char bad[160];
	/* send */
	zbuf *ob;
	int (*emit)(void *ctx, const char *p, size_t n);
	void *ectx;
	int bodyfd;
	off_t end;
};

/* bmatch - is the line a delimiter of stack level 0..depth-1; sets *close */
static int bmatch(const char *p, size_t n, char (*stack)[MIME_BMAX + 1], int depth, int *close)
{
	if (n < 3 || p[0] != '-' || p[1] != '-')
		return -1;
	while (n > 2 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	for (int k = depth - 1; k >= 0; k--) {
		size_t bl = strlen(stack[k]);
		if (n < 2 + bl || memcmp(p + 2, stack[k], bl) != 0)
			continue;
		if (n == 2 + bl) {
			*close = 0;
			return k;
		}
		if (n == 4 + bl && p[2 + bl] == '-' && p[3 + bl] == '-') {
			*close = 1;
			return k;
		}
	}
	return -1;
}

/* leaf_8bit - look ahead from off: does the leaf up to the next delimiter
 * of the stack hold 8-bit bytes; 1 yes, 0 no, <0 error */
static int leaf_8bit(struct walk *w, off_t off, char (*stack)[MIME_BMAX + 1], int depth)
{
	struct rdr r;
	const char *p;
	size_t n;
	int eol, bol = 1, rc, cl, found = 0;

	rc = rdr_open(&r, w->bodyfd, off, w->end);
	if (rc != Z_OK)
		return rc;
	while ((rc = rdr_line(&r, &p, &n, &eol)) == 1) {
		if (bol && eol && bmatch(p, n, stack, depth, &cl) >= 0)
			break;
		if (has8(p, n)) {
			found = 1;
			break;
		}
		bol = eol;
	}
	rdr_close(&r);
	return rc < 0 ? rc : found;
}

/* w_out - send-mode output of plain bytes */
static int w_out(struct walk *w, const char *p, size_t n)
{
	return w->emit(w->ectx, p, n);
}

/* leaf_classify - analysis verdict on a finished leaf */
static void leaf_classify(struct walk *w, const struct ent *e, int is8)
{
	int text = strcmp(e->type, "text") == 0;
	if (text && e->cte == CTE_QP)
		w->n_qp++;
	if (!is8)
		return;
	if (text && (e->cte == CTE_NONE || e->cte == CTE_7BIT || e->cte == CTE_8BIT)) {
		w->n_conv++;
		return;
	}
	w->n_bad++;
	if (!w->bad[0])
		snprintf(w->bad, sizeof(w->bad), "8-bit data in a %s/%s part", e->type, e->sub);
}

/* walk_multipart - walk a multipart body whose top entity is top */
static int walk_multipart(struct walk *w, const struct ent *top, off_t off)
{
	char (*stack)[MIME_BMAX + 1] = NULL;
	int depth = 0, rc, eol, bol = 1, cl, leaf8 = 0;
	enum { R_PRE, R_LEAF, R_PHDR } reg = R_PRE;
	int act = ACT_PASS, opaque = 0;
	struct ent le;
	struct qpe qe = { 0, -1 };
	struct qpd qd = { { 0 }, 0 };
	zbuf ph = ZBUF_INIT(MIME_PHDR_MAX);
	zbuf tb = ZBUF_INIT(MIME_OBUF_MAX);
	struct rdr r;
	const char *p;
	size_t n;
	char lastc = '\n';

	memset(&le, 0, sizeof(le));
	stack = calloc(MIME_DEPTH, sizeof(*stack));
	if (stack == NULL)
		return Z_ENOMEM;
	rc = rdr_open(&r, w->bodyfd, off, w->end);
	if (rc != Z_OK) {
		free(stack);
		return rc;
	}
	memcpy(stack[0], top->boundary, sizeof(stack[0]));
	depth = 1;

	while ((rc = rdr_line(&r, &p, &n, &eol)) == 1) {
		int k = -1, linebol = bol;
		bol = eol;
		rc = Z_OK;
		if (!opaque && linebol && eol && reg != R_PHDR)
			k = bmatch(p, n, stack, depth, &cl);
		if (k >= 0) {
			/* end of the current region */
			if (reg == R_LEAF) {
				if (w->mode == W_ANALYSE)
					leaf_classify(w, &le, leaf8);
				else if (act == ACT_QPENC) {
					tb.len = 0;
					rc = qpe_finish(&qe, &tb);
					if (rc == Z_OK && tb.len)
						rc = w_out(w, tb.data, tb.len);
					if (rc == Z_OK && tb.len)
						lastc = tb.data[tb.len - 1];
				} else if (act == ACT_QPDEC) {
					tb.len = 0;
					rc = qpd_flush(&qd, &tb);
					if (rc == Z_OK && tb.len)
						rc = w_out(w, tb.data, tb.len);
					if (rc == Z_OK && tb.len)
						lastc = tb.data[tb.len - 1];
				}
				if (rc == Z_OK && w->mode == W_SEND && lastc != '\n')
					rc = w_out(w, "\n", 1); /* keep the delimiter on its own line */
				if (rc != Z_OK)
					break;
			}
			depth = k + 1;
			if (w->mode == W_SEND && (rc = w_out(w, p, n)) == Z_OK)
				rc = w_out(w, "\n", 1);
			if (rc != Z_OK)
				break;
			lastc = '\n';
			if (cl) {
				depth = k; /* epilogue of the parent (or of everything) */
				reg = R_PRE;
				if (depth == 0)
					opaque = 1;
			} else {
				reg = R_PHDR;
				zbuf_reset(&ph);
			}
			act = ACT_PASS;
			leaf8 = 0;
			continue;
		}
		if (reg == R_PHDR) {
			if (has8(p, n))
				w->body8 = 1;
			int empty = eol && linebol && (n == 0 || (n == 1 && p[0] == '\r'));
			if (!empty) {
				rc = zbuf_append(&ph, p, n);
				if (rc == Z_OK && eol)
					rc = zbuf_putc(&ph, '\n');
				if (rc == Z_ETOOBIG) {
					/* give up on structure: pass the rest as is */
					w->overflow = 1;
					opaque = 1;
					reg = R_PRE;
					rc = Z_OK;
					if (w->mode == W_SEND)
						rc = w_out(w, ph.data, ph.len);
					if (rc == Z_OK && w->mode == W_SEND) {
						rc = w_out(w, p, n);
						if (rc == Z_OK && eol)
							rc = w_out(w, "\n", 1);
					}
				}
				if (rc != Z_OK)
					break;
				continue;
			}
			/* end of part header block */
			parse_ent(ph.data ? ph.data : "", ph.len, &le);
			if (le.hdr8)
				w->hdr8 = 1;
			int ismp = strcmp(le.type, "multipart") == 0 && le.boundary[0];
			act = ACT_PASS;
			leaf8 = 0;
			const char *newcte = NULL;
			if (!ismp && w->mode == W_SEND && strcmp(le.type, "text") == 0) {
				if (w->cvt == MIME_CVT_MPQP &&
				    (le.cte == CTE_NONE || le.cte == CTE_7BIT || le.cte == CTE_8BIT)) {
					rc = leaf_8bit(w, rdr_offset(&r), stack, depth);
					if (rc < 0)
						break;
					if (rc == 1) {
						act = ACT_QPENC;
						newcte = "quoted-printable";
					}
					rc = Z_OK;
				} else if (w->cvt == MIME_CVT_8BIT && le.cte == CTE_QP) {
					act = ACT_QPDEC;
					newcte = "8bit";
				}
			}
			if (w->mode == W_SEND) {
				int enc8 = w->cvt == MIME_CVT_MPQP && !w->o->keep_8bit_headers && le.hdr8;
				tb.len = 0;
				if (enc8 || newcte)
					rc = hdr_rewrite(ph.data ? ph.data : "", ph.len, enc8, newcte, 0,
							 w->o->defcharset ? w->o->defcharset : "UTF-8", &tb);
				else
					rc = zbuf_append(&tb, ph.data ? ph.data : "", ph.len);
				if (rc == Z_OK)
					rc = zbuf_append(&tb, p, n);
				if (rc == Z_OK)
					rc = zbuf_putc(&tb, '\n');
				if (rc == Z_OK)
					rc = w_out(w, tb.data, tb.len);
				if (rc != Z_OK)
					break;
			}
			qe.col = 0;
			qe.pend = -1;
			qd.np = 0;
			lastc = '\n';
			if (ismp) {
				if (depth >= MIME_DEPTH) {
					w->overflow = 1;
					opaque = 1;
					reg = R_PRE;
					continue;
				}
				memcpy(stack[depth], le.boundary, sizeof(stack[0]));
				depth++;
				reg = R_PRE;
			} else {
				reg = R_LEAF;
			}
			continue;
		}
		/* body bytes of a leaf, preamble or epilogue */
		int is8 = has8(p, n);
		if (is8)
			w->body8 = 1;
		if (reg == R_LEAF)
			leaf8 |= is8;
		else if (is8 && w->mode == W_ANALYSE) {
			w->n_bad++;
			if (!w->bad[0])
				zstrlcpy(w->bad, opaque ? "8-bit data in a MIME structure beyond limits"
							: "8-bit data in a multipart preamble or epilogue",
					 sizeof(w->bad));
		}
		if (w->mode == W_SEND) {
			tb.len = 0;
			if (act == ACT_QPENC) {
				rc = qpe_feed(&qe, p, n, &tb);
				if (rc == Z_OK && eol)
					rc = qpe_byte(&qe, '\n', &tb);
			} else if (act == ACT_QPDEC) {
				rc = qpd_feed(&qd, p, n, &tb);
				if (rc == Z_OK && eol)
					rc = qpd_byte(&qd, '\n', &tb);
			} else {
				rc = zbuf_append(&tb, p, n);
				if (rc == Z_OK && eol)
					rc = zbuf_putc(&tb, '\n');
			}
			if (rc == Z_OK && tb.len) {
				lastc = tb.data[tb.len - 1];
				rc = w_out(w, tb.data, tb.len);
			}
			if (rc != Z_OK)
				break;
		}
	}
	if (rc == 0) { /* end of body */
		rc = Z_OK;
		if (reg == R_LEAF && w->mode == W_ANALYSE)
			leaf_classify(w, &le, leaf8);
		else if (reg == R_PHDR && w->mode == W_SEND && ph.len)
			rc = w_out(w, ph.data, ph.len);
		else if (reg == R_LEAF && w->mode == W_SEND) {
			tb.len = 0;
			if (act == ACT_QPENC)
				rc = qpe_finish(&qe, &tb);
			else if (act == ACT_QPDEC)
				rc = qpd_flush(&qd, &tb);
			if (rc == Z_OK && tb.len)
				rc = w_out(w, tb.data, tb.len);
		}
		if (reg == R_PHDR && has8(ph.data ? ph.data : "", ph.len))
			w->hdr8 = 1;
	}
	rdr_close(&r);
	free(stack);
	zbuf_free(&ph);
	zbuf_free(&tb);
	return rc;
}

/* ---------- analyse ---------- */

/*
 * The body of a small message is read once: scan_8bit keeps what it read
 * in this cache and mime_send reuses it when the mime_result it is given
 * carries the same generation (so a cache of another message, or of the
 * same fd number reused, is never sent).  One pread per message less.
 */
static struct {
	char *buf;
	size_t len;
	int fd;
	off_t off;
	unsigned long gen;
} body_cache;
static unsigned long body_cache_gen;

/* cache_keep - remember [off, off+n) of fd; returns its generation or 0 */
static unsigned long cache_keep(int fd, off_t off, const char *p, size_t n)
{
	if (body_cache.buf == NULL) {
		body_cache.buf = malloc(MIME_CHUNK);
		if (body_cache.buf == NULL)
			return 0;
	}
	if (n > MIME_CHUNK)
		return 0;
	memcpy(body_cache.buf, p, n);
	body_cache.len = n;
	body_cache.fd = fd;
	body_cache.off = off;
	body_cache.gen = ++body_cache_gen;
	if (body_cache.gen == 0)
		body_cache.gen = ++body_cache_gen;
	return body_cache.gen;
}

/* cache_get - the cached body if it is the one res was analysed with */
static const char *cache_get(const mime_result *res, int fd, off_t off, off_t len)
{
	if (res->body_gen == 0 || res->body_gen != body_cache.gen || body_cache.fd != fd ||
	    body_cache.off != off || (off_t)body_cache.len != len)
		return NULL;
	return body_cache.buf;
}

/* scan_8bit - does [off, off+len) of fd hold a byte >= 0x80; a body that
 * fits one chunk is read whole and cached (*gen) for mime_send */
static int scan_8bit(int fd, off_t off, off_t len, int *is8, unsigned long *gen)
{
	struct rdr r;
	size_t got;
	int rc = rdr_open(&r, fd, off, off + len);

	*is8 = 0;
	*gen = 0;
	if (rc == Z_OK && len <= (off_t)MIME_CHUNK) {
		r.len = 0;
		while (rc == Z_OK && r.pos < r.end)
			rc = rdr_fill(&r, &got);
		if (rc == Z_OK) {
			*is8 = has8(r.buf, r.len);
			*gen = cache_keep(fd, off, r.buf, r.len);
		}
		rdr_close(&r);
		return rc;
	}
	while (rc == Z_OK && r.pos < r.end) {
		r.len = 0;
		rc = rdr_fill(&r, &got);
		if (rc == Z_OK && has8(r.buf, got)) {
			*is8 = 1;
			break;
		}
	}
	rdr_close(&r);
	return rc;
}

/* mime_analyse - decide the conversion for this message and peer */
int mime_analyse(const char *hdrs, size_t hlen, int bodyfd, off_t bodyoff, off_t bodylen,
		 const mime_opts *o, mime_result *res)
{
	struct ent top;
	int rc, ismp;
	struct walk w;

	memset(res, 0, sizeof(*res));
	if (bodylen < 0)
		return Z_EPARSE;
	parse_ent(hdrs, hlen, &top);
	res->hdrs_8bit = has8(hdrs, hlen);
	ismp = top.mimever && strcmp(top.type, "multipart") == 0 && top.boundary[0];

	memset(&w, 0, sizeof(w));
	w.mode = W_ANALYSE;
	w.o = o;
	w.bodyfd = bodyfd;
	w.end = bodyoff + bodylen;
	/* the structure matters only when something may be converted */
	if (ismp && !top.dkim && (!o->peer_8bit || o->decode_qp)) {
		rc = walk_multipart(&w, &top, bodyoff);
		if (rc != Z_OK)
			return rc;
		res->body_8bit = w.body8;
	} else {
		rc = scan_8bit(bodyfd, bodyoff, bodylen, &res->body_8bit, &res->body_gen);
		if (rc != Z_OK)
			return rc;
		if (top.mimever) {
			struct ent t = top;
			leaf_classify(&w, &t, res->body_8bit);
		}
	}

	res->cvt = MIME_CVT_NONE;
	if (o->peer_8bit) {
		if (o->decode_qp && !top.dkim && top.mimever && w.n_qp > 0)
			res->cvt = MIME_CVT_8BIT;
	} else if (res->body_8bit) {
		if (top.dkim) {
			res->cvt = MIME_REFUSE;
			set_why(res, "message carries DKIM-Signature; converting 8bit to 7bit would break it");
		} else if (!top.mimever) {
			res->cvt = MIME_CVT_UNKNOWN;
		} else if (w.n_bad > 0 || w.overflow) {
			res->cvt = MIME_REFUSE;
			if (w.bad[0])
				snprintf(res->why, sizeof(res->why),
					 "%s cannot be sent to a 7-bit peer", w.bad);
			else
				set_why(res, "MIME structure too deep or part header too long to convert 8bit to 7bit");
		} else {
			res->cvt = ismp ? MIME_CVT_MPQP : MIME_CVT_QP;
		}
	}
	if (res->cvt != MIME_REFUSE && !o->peer_8bit && res->hdrs_8bit && top.dkim &&
	    !o->keep_8bit_headers) {
		res->cvt = MIME_REFUSE;
		set_why(res, "message carries DKIM-Signature and 8-bit headers; encoding them for a 7-bit peer would break it");
	}
	res->send_8bitmime = o->peer_8bit && (res->body_8bit || res->cvt == MIME_CVT_8BIT);
	return Z_OK;
}

/* ---------- send ---------- */

struct sendctx {
	const mime_opts *o;
	mime_out_fn out;
	void *arg;
	zbuf wb;
	int bol;
	size_t bytes;
};

/* sc_flush - hand buffered wire bytes to the sink */
static int sc_flush(struct sendctx *s)
{
	if (s->wb.len == 0)
		return Z_OK;
	if (s->out(s->arg, s->wb.data, s->wb.len) < 0)
		return Z_ERR;
	s->bytes += s->wb.len;
	zbuf_reset(&s->wb);
	return Z_OK;
}

/* sc_emit - bytes to wire form, flushing in chunks */
static int sc_emit(void *ctx, const char *p, size_t n)
{
	struct sendctx *s = ctx;
	while (n > 0) {
		size_t k = n > MIME_CHUNK ? MIME_CHUNK : n;
		int rc = mime_wire(p, k, s->o->dotstuff, &s->bol, &s->wb);
		if (rc != Z_OK)
			return rc;
		if (s->wb.len >= MIME_CHUNK && (rc = sc_flush(s)) != Z_OK)
			return rc;
		p += k;
		n -= k;
	}
	return Z_OK;
}

/* mime_send - write headers, empty line, body in wire form per res->cvt */
int mime_send(const char *hdrs, size_t hlen, int bodyfd, off_t bodyoff, off_t bodylen,
	      const mime_opts *o, mime_result *res, mime_out_fn out, void *arg)
{
	struct sendctx s = { o, out, arg, ZBUF_INIT(MIME_OBUF_MAX), 1, 0 };
	zbuf hb = ZBUF_INIT(MIME_OBUF_MAX + (size_t)hlen * 4);
	zbuf tb = ZBUF_INIT(MIME_OBUF_MAX);
	const char *cs = o->defcharset && *o->defcharset ? o->defcharset : "UTF-8";
	struct ent top;
	struct rdr r = { 0 };
	int rc;

	res->bytes_out = 0;
	if (res->cvt == MIME_REFUSE || bodylen < 0)
		return Z_ERR;
	parse_ent(hdrs, hlen, &top);
	enum mime_cvt cvt = res->cvt;
	if (top.dkim)
		cvt = MIME_CVT_NONE; /* never touch a signed message */
	int enc8 = !o->keep_8bit_headers && !top.dkim && has8(hdrs, hlen);
	const char *cte = cvt == MIME_CVT_QP ? "quoted-printable" : cvt == MIME_CVT_8BIT &&
			  !(strcmp(top.type, "multipart") == 0) ? "8bit" : NULL;
	int ismp = top.mimever && strcmp(top.type, "multipart") == 0 && top.boundary[0];
	if (ismp)
		cte = NULL;

	/* header block */
	if (enc8 || cte || cvt == MIME_CVT_UNKNOWN)
		rc = hdr_rewrite(hdrs, hlen, enc8, cte, cvt == MIME_CVT_UNKNOWN, cs, &hb);
	else {
		size_t pos = 0;
		struct field f;
		rc = Z_OK;
		while (rc == Z_OK && hdr_next(hdrs, hlen, &pos, &f)) {
			rc = zbuf_append(&hb, f.whole.p, f.whole.n);
			if (rc == Z_OK && f.whole.p[f.whole.n - 1] != '\n')
				rc = zbuf_putc(&hb, '\n');
		}
	}
	if (rc == Z_OK)
		rc = zbuf_putc(&hb, '\n');
	if (rc == Z_OK)
		rc = sc_emit(&s, hb.data, hb.len);
	if (rc != Z_OK)
		goto done;

	if (ismp && (cvt == MIME_CVT_MPQP || cvt == MIME_CVT_8BIT)) {
		struct walk w;
		memset(&w, 0, sizeof(w));
		w.mode = W_SEND;
		w.o = o;
		w.cvt = cvt;
		w.emit = sc_emit;
		w.ectx = &s;
		w.bodyfd = bodyfd;
		w.end = bodyoff + bodylen;
		rc = walk_multipart(&w, &top, bodyoff);
		if (rc != Z_OK)
			goto done;
	} else {
		struct qpe qe = { 0, -1 };
		struct qpd qd = { { 0 }, 0 };
		int act = ACT_PASS;
		size_t got;
		if (cvt == MIME_CVT_QP || cvt == MIME_CVT_UNKNOWN || cvt == MIME_CVT_MPQP)
			act = ismp ? ACT_PASS : ACT_QPENC;
		else if (cvt == MIME_CVT_8BIT)
			act = ACT_QPDEC;
		const char *cached = cache_get(res, bodyfd, bodyoff, bodylen);
		rc = cached ? Z_OK : rdr_open(&r, bodyfd, bodyoff, bodyoff + bodylen);
		while (rc == Z_OK && (cached != NULL || r.pos < r.end)) {
			const char *chunk;
			if (cached != NULL) {
				chunk = cached;
				got = (size_t)bodylen;
			} else {
				r.len = 0;
				rc = rdr_fill(&r, &got);
				if (rc != Z_OK)
					break;
				chunk = r.buf;
			}
			if (act == ACT_PASS) {
				rc = sc_emit(&s, chunk, got);
			} else {
				zbuf_reset(&tb);
				rc = act == ACT_QPENC ? qpe_feed(&qe, chunk, got, &tb)
						      : qpd_feed(&qd, chunk, got, &tb);
				if (rc == Z_OK)
					rc = sc_emit(&s, tb.data, tb.len);
			}
			if (cached != NULL)
				break;	/* the whole body was one chunk */
		}
		if (rc == Z_OK && act != ACT_PASS) {
			zbuf_reset(&tb);
			rc = act == ACT_QPENC ? qpe_finish(&qe, &tb) : qpd_flush(&qd, &tb);
			if (rc == Z_OK && tb.len)
				rc = sc_emit(&s, tb.data, tb.len);
		}
		if (rc != Z_OK)
			goto done;
	}
	if (!s.bol)
		rc = zbuf_append(&s.wb, "\r\n", 2);
	if (rc == Z_OK)
		rc = sc_flush(&s);
done:
	res->bytes_out = s.bytes;
	rdr_close(&r);
	zbuf_free(&s.wb);
	zbuf_free(&hb);
	zbuf_free(&tb);
	return rc;
}
