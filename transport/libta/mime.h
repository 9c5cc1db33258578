/*
 * mime.h - 7bit/8bit conversion and SMTP body encoding for transport agents.
 *
 * mime_analyse() decides, before MAIL FROM, what will be done to a message
 * for a given peer; mime_send() then streams the header block and body
 * through the conversion and out in wire form (CRLF line ends, optional
 * dot-stuffing).  Rules (RFC 2045, 2047, 6152, smtp(8)):
 *  - never convert a message carrying DKIM-Signature: or
 *    Content-Conversion: prohibited: if it has 8-bit data and the peer is
 *    7-bit it is refused (MIME_REFUSE, the caller bounces with 5.6.3);
 *  - 8-bit text/... leaves (recursing into multipart/...) become
 *    quoted-printable for a 7-bit peer (-7, or no 8BITMIME);
 *  - 8-bit data without MIME headers gets MIME-Version/Content-Type
 *    (DEFCHARSET)/C-T-E quoted-printable;
 *  - with -8 and an 8-bit peer, quoted-printable text leaves are decoded;
 *  - unless -H, header lines with 8-bit bytes become RFC 2047 words;
 *  - other 8-bit parts (non-text) for a 7-bit peer: MIME_REFUSE.
 */
#ifndef ZMTA_MIME_H
#define ZMTA_MIME_H

#include <stddef.h>
#include <sys/types.h>
#include "zbuf.h"

enum mime_cvt {
	MIME_CVT_NONE = 0,   /* sent as is */
	MIME_CVT_QP,         /* 8bit -> quoted-printable */
	MIME_CVT_MPQP,       /* multipart with converted leaves */
	MIME_CVT_8BIT,       /* quoted-printable -> 8bit (-8) */
	MIME_CVT_UNKNOWN,    /* no MIME headers: wrapped as text/plain QP */
	MIME_REFUSE          /* cannot be sent to this peer without breaking it */
};

typedef struct mime_opts {
	int peer_8bit;            /* peer offers 8BITMIME and no -7 */
	int decode_qp;            /* -8 */
	int keep_8bit_headers;    /* -H */
	int dotstuff;             /* 1 for DATA, 0 for BDAT */
	const char *defcharset;   /* DEFCHARSET, default "UTF-8" */
} mime_opts;

typedef struct mime_result {
	enum mime_cvt cvt;
	int body_8bit;            /* original body has bytes >= 0x80 */
	int hdrs_8bit;            /* original headers have bytes >= 0x80 */
	int send_8bitmime;        /* say BODY=8BITMIME on MAIL */
	char why[256];            /* for MIME_REFUSE: reason text */
	size_t bytes_out;         /* after mime_send */
	unsigned long body_gen;   /* internal: which cached read of the body
				     mime_send may reuse (0: none) */
} mime_result;

/* output sink: return 0 to continue, <0 to abort mime_send */
typedef int (*mime_out_fn)(void *arg, const char *p, size_t n);

/* mime_analyse - hdrs is the LF-terminated header block (ending in an empty
 * line); the body is bodylen bytes of bodyfd from bodyoff. */
int mime_analyse(const char *hdrs, size_t hlen, int bodyfd, off_t bodyoff, off_t bodylen,
		 const mime_opts *o, mime_result *res);
/* mime_send - write headers, empty line, body in wire form per res->cvt;
 * does not write the final "." line. */
int mime_send(const char *hdrs, size_t hlen, int bodyfd, off_t bodyoff, off_t bodylen,
	      const mime_opts *o, mime_result *res, mime_out_fn out, void *arg);

/* building blocks, exposed for tests and other agents */
/* mime_qp_encode - RFC 2045 QP of one text (LF line ends), appended to out */
int mime_qp_encode(const char *p, size_t n, zbuf *out);
/* mime_qp_decode - decode QP (soft breaks, =XX) into out */
int mime_qp_decode(const char *p, size_t n, zbuf *out);
/* mime_hdr_encode - one header line (name: value) with 8-bit bytes to RFC
 * 2047 Q words (<= 75 chars each, folded) */
int mime_hdr_encode(const char *line, size_t n, const char *charset, zbuf *out);
/* mime_wire - LF -> CRLF, bare CR -> CRLF, '.' doubled at line start when
 * dotstuff; state carries across calls (*bol = 1 initially) */
int mime_wire(const char *p, size_t n, int dotstuff, int *bol, zbuf *out);
/* mime_has8 - does the span hold a byte >= 0x80 */
int mime_has8(const char *p, size_t n);

#endif
