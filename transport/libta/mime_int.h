/*
 * mime_int.h - what the MIME converter's modules share (not installed,
 * not for agents: they include mime.h).
 *
 * mime.c       the drivers: mime_analyse, mime_send, the body cache
 * mime_ent.c   header fields and the MIME facts of one header block
 * mime_qp.c    quoted-printable encoder/decoder and SMTP wire form
 * mime_hdr.c   RFC 2047 header words and header block rewriting
 * mime_body.c  the chunked body reader and the multipart walker
 */
#ifndef ZMTA_MIME_INT_H
#define ZMTA_MIME_INT_H

#include "mime.h"

#define MIME_CHUNK 65536u       /* body read size, longest line piece */
#define MIME_PHDR_MAX 65536u    /* a part's header block */
#define MIME_DEPTH 16           /* multipart nesting */
#define MIME_BMAX 200           /* boundary length (RFC 2046: 70) */
#define MIME_OBUF_MAX (4u * 1024u * 1024u)

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

/* one field of a header block */
struct field {
	zspan name;   /* before ':' (trimmed) */
	zspan value;  /* after ':' up to the final LF, folding kept */
	zspan whole;  /* the whole field including its final LF */
};

/* mime_ent.c */
/* mime_field_next - next field of a header block at *pos; 0 at the empty line/end */
int mime_field_next(const char *b, size_t len, size_t *pos, struct field *f);
/* mime_parse_ent - collect the MIME facts of one header block */
void mime_parse_ent(const char *b, size_t len, struct ent *e);

/* mime_qp.c: QP state machines, fed in pieces */
struct qpe {
	int col;
	int pend; /* pending SP/TAB or -1 */
};
struct qpd {
	char pb[16]; /* pending bytes, pb[0] == '=' */
	size_t np;
};
#define QPE_INIT { 0, -1 }
#define QPD_INIT { { 0 }, 0 }
extern const char mime_hexu[]; /* "0123456789ABCDEF" */
int mime_qpe_byte(struct qpe *s, unsigned char c, zbuf *out);
int mime_qpe_feed(struct qpe *s, const char *p, size_t n, zbuf *out);
int mime_qpe_finish(struct qpe *s, zbuf *out);
int mime_qpd_byte(struct qpd *s, unsigned char c, zbuf *out);
int mime_qpd_feed(struct qpd *s, const char *p, size_t n, zbuf *out);
int mime_qpd_flush(struct qpd *s, zbuf *out);

/* mime_hdr.c */
/* mime_hdr_rewrite - copy a header block's fields (not the empty line) to
 * out, RFC 2047-encoding 8-bit fields when enc8, replacing C-T-E by cte
 * when set, dropping MIME headers and adding a text/plain wrapper when
 * unknown */
int mime_hdr_rewrite(const char *b, size_t len, int enc8, const char *cte, int unknown,
		     const char *cs, zbuf *out);

/* mime_body.c: reader over [off, end) of a body file */
struct rdr {
	int fd;
	off_t pos;     /* file offset of the next pread */
	off_t end;     /* bodyoff + bodylen */
	char *buf;     /* MIME_CHUNK bytes */
	size_t start, len;
};
int mime_rdr_open(struct rdr *r, int fd, off_t off, off_t end);
void mime_rdr_close(struct rdr *r);
int mime_rdr_fill(struct rdr *r, size_t *got);

/* mime_body.c: the multipart walker, in analysis or in send mode */
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
	int (*emit)(void *ctx, const char *p, size_t n);
	void *ectx;
	int bodyfd;
	off_t end;
};
/* mime_leaf_classify - analysis verdict on a finished leaf */
void mime_leaf_classify(struct walk *w, const struct ent *e, int is8);
/* mime_walk_multipart - walk a multipart body whose top entity is top */
int mime_walk_multipart(struct walk *w, const struct ent *top, off_t off);

#endif
