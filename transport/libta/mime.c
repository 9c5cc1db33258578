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
 *	(mime_qp_encode, mime_qp_decode, mime_wire: mime_qp.c;
 *	mime_hdr_encode: mime_hdr.c)
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
 *	The converter's modules (shared internals in mime_int.h):
 *	mime_ent.c reads header blocks, mime_qp.c holds the QP coder and
 *	wire form, mime_hdr.c the RFC 2047 header words, mime_body.c the
 *	body reader and multipart walker; this file decides and drives.
 *	mime_send() writes in wire form (CRLF line ends, a leading '.'
 *	doubled when o->dotstuff) and always ends with CRLF.  A body that
 *	fits one 64 KiB chunk is read once: mime_analyse() keeps it and
 *	mime_send() reuses it for the same res (res->body_gen).
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
 *	is refused, not recursed into.  See also the BUGS of mime_hdr.c
 *	(header words) and mime_qp.c (QP decoding).
 *
 * SEE ALSO
 *	mime_ent.c, mime_qp.c, mime_hdr.c, mime_body.c, smtp(8), RFC 2045,
 *	RFC 2047, RFC 6152.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mime_int.h"

/* set_why - store a refusal reason */
static void set_why(mime_result *res, const char *s)
{
	if (res->why[0] == '\0')
		(void)zstrlcpy(res->why, s, sizeof(res->why));
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
	int rc = mime_rdr_open(&r, fd, off, off + len);

	*is8 = 0;
	*gen = 0;
	if (rc == Z_OK && len <= (off_t)MIME_CHUNK) {
		r.len = 0;
		while (rc == Z_OK && r.pos < r.end)
			rc = mime_rdr_fill(&r, &got);
		if (rc == Z_OK) {
			*is8 = mime_has8(r.buf, r.len);
			*gen = cache_keep(fd, off, r.buf, r.len);
		}
		mime_rdr_close(&r);
		return rc;
	}
	while (rc == Z_OK && r.pos < r.end) {
		r.len = 0;
		rc = mime_rdr_fill(&r, &got);
		if (rc == Z_OK && mime_has8(r.buf, got)) {
			*is8 = 1;
			break;
		}
	}
	mime_rdr_close(&r);
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
	mime_parse_ent(hdrs, hlen, &top);
	res->hdrs_8bit = mime_has8(hdrs, hlen);
	ismp = top.mimever && strcmp(top.type, "multipart") == 0 && top.boundary[0];

	memset(&w, 0, sizeof(w));
	w.mode = W_ANALYSE;
	w.o = o;
	w.bodyfd = bodyfd;
	w.end = bodyoff + bodylen;
	/* the structure matters only when something may be converted */
	if (ismp && !top.dkim && (!o->peer_8bit || o->decode_qp)) {
		rc = mime_walk_multipart(&w, &top, bodyoff);
		if (rc != Z_OK)
			return rc;
		res->body_8bit = w.body8;
	} else {
		rc = scan_8bit(bodyfd, bodyoff, bodylen, &res->body_8bit, &res->body_gen);
		if (rc != Z_OK)
			return rc;
		if (top.mimever) {
			struct ent t = top;
			mime_leaf_classify(&w, &t, res->body_8bit);
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
	mime_parse_ent(hdrs, hlen, &top);
	enum mime_cvt cvt = res->cvt;
	if (top.dkim)
		cvt = MIME_CVT_NONE; /* never touch a signed message */
	int enc8 = !o->keep_8bit_headers && !top.dkim && mime_has8(hdrs, hlen);
	const char *cte = cvt == MIME_CVT_QP ? "quoted-printable" : cvt == MIME_CVT_8BIT &&
			  !(strcmp(top.type, "multipart") == 0) ? "8bit" : NULL;
	int ismp = top.mimever && strcmp(top.type, "multipart") == 0 && top.boundary[0];
	if (ismp)
		cte = NULL;

	/* header block */
	if (enc8 || cte || cvt == MIME_CVT_UNKNOWN)
		rc = mime_hdr_rewrite(hdrs, hlen, enc8, cte, cvt == MIME_CVT_UNKNOWN, cs, &hb);
	else {
		size_t pos = 0;
		struct field f;
		rc = Z_OK;
		while (rc == Z_OK && mime_field_next(hdrs, hlen, &pos, &f)) {
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
		rc = mime_walk_multipart(&w, &top, bodyoff);
		if (rc != Z_OK)
			goto done;
	} else {
		struct qpe qe = QPE_INIT;
		struct qpd qd = QPD_INIT;
		int act = ACT_PASS;
		size_t got;
		if (cvt == MIME_CVT_QP || cvt == MIME_CVT_UNKNOWN || cvt == MIME_CVT_MPQP)
			act = ismp ? ACT_PASS : ACT_QPENC;
		else if (cvt == MIME_CVT_8BIT)
			act = ACT_QPDEC;
		const char *cached = cache_get(res, bodyfd, bodyoff, bodylen);
		rc = cached ? Z_OK : mime_rdr_open(&r, bodyfd, bodyoff, bodyoff + bodylen);
		while (rc == Z_OK && (cached != NULL || r.pos < r.end)) {
			const char *chunk;
			if (cached != NULL) {
				chunk = cached;
				got = (size_t)bodylen;
			} else {
				r.len = 0;
				rc = mime_rdr_fill(&r, &got);
				if (rc != Z_OK)
					break;
				chunk = r.buf;
			}
			if (act == ACT_PASS) {
				rc = sc_emit(&s, chunk, got);
			} else {
				zbuf_reset(&tb);
				rc = act == ACT_QPENC ? mime_qpe_feed(&qe, chunk, got, &tb)
						      : mime_qpd_feed(&qd, chunk, got, &tb);
				if (rc == Z_OK)
					rc = sc_emit(&s, tb.data, tb.len);
			}
			if (cached != NULL)
				break;	/* the whole body was one chunk */
		}
		if (rc == Z_OK && act != ACT_PASS) {
			zbuf_reset(&tb);
			rc = act == ACT_QPENC ? mime_qpe_finish(&qe, &tb) : mime_qpd_flush(&qd, &tb);
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
	mime_rdr_close(&r);
	zbuf_free(&s.wb);
	zbuf_free(&hb);
	zbuf_free(&tb);
	return rc;
}
