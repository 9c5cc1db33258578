/*
 * NAME
 *	mime_body - chunked body reader and multipart walker
 *
 * SUMMARY
 *	Read a message body from its file in bounded pieces, and walk a
 *	multipart body part by part: in analysis mode to find which leaves
 *	hold 8-bit data and whether they can be converted, in send mode to
 *	stream the body out with the chosen conversion applied to each
 *	text leaf.
 *
 * SYNOPSIS
 *	#include "mime_int.h"
 *	int mime_rdr_open(&r, fd, off, end);
 *	int mime_rdr_fill(&r, &got);
 *	void mime_rdr_close(&r);
 *	int mime_walk_multipart(&walk, &top, off);
 *	void mime_leaf_classify(&walk, &ent, is8);
 *
 * DESCRIPTION
 *	The reader preads [off, end) of fd into one 64 KiB buffer; lines
 *	longer than that come out in pieces (eol == 0).  The body is never
 *	held in memory as a whole.
 *	mime_walk_multipart() keeps a stack of open boundaries (at most
 *	MIME_DEPTH deep) and goes through preamble, part headers (buffered,
 *	at most 64 KiB each) and leaves.  A part's headers are parsed with
 *	mime_parse_ent(); a nested multipart pushes its boundary; a
 *	message/... part is not recursed into.  In W_ANALYSE mode each
 *	leaf is judged by mime_leaf_classify() (convertible 8-bit text,
 *	quoted-printable text for -8, or 8-bit data that cannot be
 *	converted), and 8-bit bytes in a preamble, epilogue or part header
 *	are counted; going past the depth or header limit sets overflow.
 *	In W_SEND mode everything is handed to w->emit as it was read,
 *	except text leaves to convert (QP encoded for MIME_CVT_MPQP,
 *	decoded for MIME_CVT_8BIT, with the part's C-T-E rewritten through
 *	mime_hdr_rewrite()) and 8-bit part headers (RFC 2047 encoded
 *	unless -H).
 *
 * DIAGNOSTICS
 *	Z_OK; Z_ENOMEM; Z_EIO when the body cannot be read or is shorter
 *	than end; Z_ETOOBIG or the emit callback's code when output fails.
 *
 * SECURITY
 *	The body is untrusted message data.  Every line is taken from the
 *	bounded reader buffer; boundaries are compared only against the
 *	stack's fixed-size entries; depth and part header size are capped
 *	and what exceeds them is passed through unchanged (send) or makes
 *	conversion refused (analysis).
 *
 * BUGS
 *	A bare message/rfc822 part is not walked: its 8-bit data is
 *	refused for a 7-bit peer rather than downgraded.
 *
 * SEE ALSO
 *	mime.c, mime_int.h, RFC 2046 section 5.1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mime_int.h"

/* mime_rdr_open - reader over [off, end) of fd */
int mime_rdr_open(struct rdr *r, int fd, off_t off, off_t end)
{
	r->fd = fd;
	r->pos = off;
	r->end = end;
	r->start = r->len = 0;
	r->buf = malloc(MIME_CHUNK);
	return r->buf ? Z_OK : Z_ENOMEM;
}

/* mime_rdr_close - release the reader */
void mime_rdr_close(struct rdr *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* mime_rdr_fill - read more into the free tail; returns bytes read, 0 at end, <0 err */
int mime_rdr_fill(struct rdr *r, size_t *got)
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
		int rc = mime_rdr_fill(r, &got);
		if (rc < 0)
			return rc;
	}
}

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

	rc = mime_rdr_open(&r, w->bodyfd, off, w->end);
	if (rc != Z_OK)
		return rc;
	while ((rc = rdr_line(&r, &p, &n, &eol)) == 1) {
		if (bol && eol && bmatch(p, n, stack, depth, &cl) >= 0)
			break;
		if (mime_has8(p, n)) {
			found = 1;
			break;
		}
		bol = eol;
	}
	mime_rdr_close(&r);
	return rc < 0 ? rc : found;
}

/* w_out - send-mode output of plain bytes */
static int w_out(struct walk *w, const char *p, size_t n)
{
	return w->emit(w->ectx, p, n);
}

/* mime_leaf_classify - analysis verdict on a finished leaf */
void mime_leaf_classify(struct walk *w, const struct ent *e, int is8)
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

/* leaf_flush - what the leaf's coder still holds, into tb (emptied first) */
static int leaf_flush(int act, struct qpe *qe, struct qpd *qd, zbuf *tb)
{
	tb->len = 0;
	if (act == ACT_QPENC)
		return mime_qpe_finish(qe, tb);
	if (act == ACT_QPDEC)
		return mime_qpd_flush(qd, tb);
	return Z_OK;
}

/* mime_walk_multipart - walk a multipart body whose top entity is top */
int mime_walk_multipart(struct walk *w, const struct ent *top, off_t off)
{
	char (*stack)[MIME_BMAX + 1] = NULL;
	int depth = 0, rc, eol, bol = 1, cl, leaf8 = 0;
	enum { R_PRE, R_LEAF, R_PHDR } reg = R_PRE;
	int act = ACT_PASS, opaque = 0;
	struct ent le;
	struct qpe qe = QPE_INIT;
	struct qpd qd = QPD_INIT;
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
	rc = mime_rdr_open(&r, w->bodyfd, off, w->end);
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
					mime_leaf_classify(w, &le, leaf8);
				else if (act != ACT_PASS) {
					rc = leaf_flush(act, &qe, &qd, &tb);
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
			if (mime_has8(p, n))
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
			mime_parse_ent(ph.data ? ph.data : "", ph.len, &le);
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
					rc = mime_hdr_rewrite(ph.data ? ph.data : "", ph.len, enc8, newcte, 0,
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
		int is8 = mime_has8(p, n);
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
				rc = mime_qpe_feed(&qe, p, n, &tb);
				if (rc == Z_OK && eol)
					rc = mime_qpe_byte(&qe, '\n', &tb);
			} else if (act == ACT_QPDEC) {
				rc = mime_qpd_feed(&qd, p, n, &tb);
				if (rc == Z_OK && eol)
					rc = mime_qpd_byte(&qd, '\n', &tb);
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
			mime_leaf_classify(w, &le, leaf8);
		else if (reg == R_PHDR && w->mode == W_SEND && ph.len)
			rc = w_out(w, ph.data, ph.len);
		else if (reg == R_LEAF && w->mode == W_SEND) {
			rc = leaf_flush(act, &qe, &qd, &tb);
			if (rc == Z_OK && tb.len)
				rc = w_out(w, tb.data, tb.len);
		}
		if (reg == R_PHDR && mime_has8(ph.data ? ph.data : "", ph.len))
			w->hdr8 = 1;
	}
	mime_rdr_close(&r);
	free(stack);
	zbuf_free(&ph);
	zbuf_free(&tb);
	return rc;
}
