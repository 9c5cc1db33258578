/*
 * NAME
 *	mime_qp - quoted-printable encoding and decoding, SMTP wire form
 *
 * SUMMARY
 *	The byte-level codings of the MIME converter: RFC 2045
 *	quoted-printable both ways, as state machines that take a body in
 *	pieces, and the LF -> CRLF / dot-stuffing step every byte sent
 *	passes through.
 *
 * SYNOPSIS
 *	#include "mime.h"
 *	int mime_qp_encode(p, n, out);
 *	int mime_qp_decode(p, n, out);
 *	int mime_wire(p, n, dotstuff, &bol, out);
 *
 *	#include "mime_int.h"
 *	struct qpe e = QPE_INIT;  struct qpd d = QPD_INIT;
 *	int mime_qpe_byte(&e, c, out);  int mime_qpe_feed(&e, p, n, out);
 *	int mime_qpe_finish(&e, out);
 *	int mime_qpd_byte(&d, c, out);  int mime_qpd_feed(&d, p, n, out);
 *	int mime_qpd_flush(&d, out);
 *
 * DESCRIPTION
 *	The encoder keeps lines at most 76 characters including the
 *	soft-break '=', encodes '=', controls other than TAB, bytes over
 *	126, SP/TAB before a line end, and '.' or 'F' at the start of any
 *	output line (dot lines, "From " lines); hex is upper case and an
 *	=XX is never split.  mime_qpe_finish() encodes white space still
 *	pending at the end.  The decoder takes =XX in either case, "=" LF,
 *	"=" CRLF and "=" followed by padding white space as soft breaks,
 *	and copies anything else literally; mime_qpd_flush() writes what
 *	is still pending.  mime_qp_encode() and mime_qp_decode() run one
 *	whole text through a fresh state.
 *	Wire form: LF, bare CR and CRLF all become one CRLF; a leading '.'
 *	is doubled when dot-stuffing.  *bol carries the line state across
 *	calls: 1 at a line start (initially), 0 mid-line, 2 right after a
 *	CR.
 *
 * DIAGNOSTICS
 *	Z_OK, or Z_ETOOBIG when out is full; mime_qp_encode,
 *	mime_qp_decode and mime_wire then leave out as it was.
 *
 * SECURITY
 *	Input is untrusted message data of any length and content; the
 *	state machines hold at most a few pending bytes and write only
 *	through the bounded zbuf out.
 *
 * BUGS
 *	Decoding does not check that the result has no NUL bytes or lines
 *	over 998 octets.
 *
 * SEE ALSO
 *	mime.c, mime_int.h, RFC 2045 section 6.7, RFC 5321 section 4.5.2.
 */
#include <stdint.h>
#include <string.h>
#include "mime_int.h"

#define QP_MAXCOL 75 /* chars before the soft-break '=' (76 with it) */

const char mime_hexu[] = "0123456789ABCDEF";

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
		char t[3] = { '=', mime_hexu[c >> 4], mime_hexu[c & 15] };
		s->col += 3;
		return zbuf_append(out, t, 3);
	}
	s->col++;
	return zbuf_putc(out, c);
}

/* mime_qpe_byte - feed one input byte */
int mime_qpe_byte(struct qpe *s, unsigned char c, zbuf *out)
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

/* mime_qpe_feed - feed n bytes */
int mime_qpe_feed(struct qpe *s, const char *p, size_t n, zbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		int rc = mime_qpe_byte(s, (unsigned char)p[i], out);
		if (rc != Z_OK)
			return rc;
	}
	return Z_OK;
}

/* mime_qpe_finish - flush pending trailing white space (encoded) */
int mime_qpe_finish(struct qpe *s, zbuf *out)
{
	if (s->pend >= 0) {
		unsigned char w = (unsigned char)s->pend;
		s->pend = -1;
		return qpe_put(s, w, 1, out);
	}
	return Z_OK;
}

/* mime_qpd_flush - emit pending bytes literally */
int mime_qpd_flush(struct qpd *s, zbuf *out)
{
	int rc = s->np ? zbuf_append(out, s->pb, s->np) : Z_OK;
	s->np = 0;
	return rc;
}

/* mime_qpd_byte - feed one byte to the decoder */
int mime_qpd_byte(struct qpd *s, unsigned char c, zbuf *out)
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
		rc = mime_qpd_flush(s, out);
		if (rc != Z_OK)
			return rc;
	}
}

/* mime_qpd_feed - feed n bytes */
int mime_qpd_feed(struct qpd *s, const char *p, size_t n, zbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		int rc = mime_qpd_byte(s, (unsigned char)p[i], out);
		if (rc != Z_OK)
			return rc;
	}
	return Z_OK;
}

/* mime_qp_encode - RFC 2045 QP of one text (LF line ends), appended to out */
int mime_qp_encode(const char *p, size_t n, zbuf *out)
{
	struct qpe s = QPE_INIT;
	size_t mark = out->len;
	int rc = mime_qpe_feed(&s, p, n, out);
	if (rc == Z_OK)
		rc = mime_qpe_finish(&s, out);
	if (rc != Z_OK)
		zbuf_truncate(out, mark);
	return rc;
}

/* mime_qp_decode - decode QP (soft breaks, =XX) into out */
int mime_qp_decode(const char *p, size_t n, zbuf *out)
{
	struct qpd s = QPD_INIT;
	size_t mark = out->len;
	int rc = mime_qpd_feed(&s, p, n, out);
	if (rc == Z_OK)
		rc = mime_qpd_flush(&s, out);
	if (rc != Z_OK)
		zbuf_truncate(out, mark);
	return rc;
}

/* ---------- wire form ---------- */

/* line_end - the index of the first CR or LF in p[i..n), else n; eight
 * bytes at a time (a byte is zero in w ^ CR or w ^ LF) */
static size_t line_end(const char *p, size_t i, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);

	for (; i + 8 <= n; i += 8) {
		uint64_t w, a, b;
		memcpy(&w, p + i, 8);
		a = w ^ (ones * '\n');
		b = w ^ (ones * '\r');
		if (((a - ones) & ~a & highs) | ((b - ones) & ~b & highs))
			break;
	}
	while (i < n && p[i] != '\n' && p[i] != '\r')
		i++;
	return i;
}

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
			run = line_end(p, i, n);
			if (rc == Z_OK)
				rc = zbuf_append(out, p + i, run - i);
			i = run;
		}
	}
	if (rc != Z_OK)
		zbuf_truncate(out, mark);
	return rc;
}
