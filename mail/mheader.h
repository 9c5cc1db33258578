/*
 * mheader.h - RFC 5322 header fields: splitting a header block into
 * fields, unfolding, a structured-value tokenizer and an address-list
 * parser (To, Cc, Bcc, From, Reply-To, ...).  No I/O.
 */
#ifndef ZMTA_MHEADER_H
#define ZMTA_MHEADER_H

#include <stddef.h>
#include "zbuf.h"

#define MHDR_FIELD_MAX 65536u    /* a sensible max_field for callers */
#define MTOK_COMMENT_DEPTH 32    /* nested comments deeper than this are refused */

typedef struct mhdr_field {
	zspan name;     /* field name (no ':' and no blanks before it) */
	zspan value;    /* after ':' to the end of the field; folding kept,
			   the final line end not included */
	zspan raw;      /* the whole field without its final line end */
} mhdr_field;

/* mhdr_next - the next field of the header block at c.  Z_OK and *f;
   Z_ENOENT at the end of the header (the empty line is consumed, or the
   input ended); Z_EPARSE for a line that is not a field (c unchanged);
   Z_ETOOBIG for a field longer than max_field bytes (f->name set, c
   moved past the field so the caller may skip it) */
int mhdr_next(zcur *c, size_t max_field, mhdr_field *f, zbuf *err);
/* mhdr_split - every field of s[0..n) into fields[0..max_fields);
   *nfields gets the count and *body_off (may be NULL) the offset where
   the body starts.  Z_ETOOBIG when a field is too long or there are more
   than max_fields; Z_EPARSE as mhdr_next */
int mhdr_split(const char *s, size_t n, size_t max_field, mhdr_field *fields, size_t max_fields,
    size_t *nfields, size_t *body_off, zbuf *err);
/* mhdr_unfold - append value with every line end that is followed by a
   blank removed, and blanks trimmed at both ends */
int mhdr_unfold(zspan value, zbuf *out);
/* mhdr_name_is - field name equals name, ignoring ASCII case */
int mhdr_name_is(const mhdr_field *f, const char *name);

enum mtok_kind {
	MTOK_END = 0,      /* no more tokens */
	MTOK_ATOM,         /* 1*atext (8-bit bytes count as atext) */
	MTOK_QSTRING,      /* "..." */
	MTOK_COMMENT,      /* (...) nested */
	MTOK_DLITERAL,     /* [...] */
	MTOK_SPECIAL       /* one byte: ( ) < > [ ] : ; @ \ , . or a control byte */
};

typedef struct mtok {
	enum mtok_kind kind;
	zspan raw;         /* as written, delimiters included */
	zspan text;        /* without the outer delimiters; quoted-pairs and folding kept */
	int special;       /* MTOK_SPECIAL: the byte */
} mtok;

/* mtok_next - skip blanks and line ends, take one token.  Z_OK (kind
   MTOK_END at the end); Z_EPARSE for an unterminated quoted string,
   comment or domain literal, or comments nested too deep */
int mtok_next(zcur *c, mtok *t, zbuf *err);
/* mtok_unquote - append t->text with quoted-pairs undone and line ends
   removed */
int mtok_unquote(const mtok *t, zbuf *out);

typedef struct mhdr_addr {
	size_t addr_off, addr_len;    /* addr-spec in text: local@domain, canonical
					 local part, comments and blanks dropped */
	size_t name_off, name_len;    /* display name (0 length if none) */
	size_t group_off, group_len;  /* group name when in_group */
	int has_domain;               /* 0 for a bare local part ("root") */
	int in_group;
} mhdr_addr;

/* mhdr_addrlist - parse an address-list value (raw or unfolded) into
   addrs[0..max); strings are stored NUL-terminated in text and located
   by the offsets.  Z_OK; Z_EPARSE with a reason (addrs before the error
   are kept in *naddrs); Z_ETOOBIG when there are more than max
   addresses or text is full */
int mhdr_addrlist(zspan value, zbuf *text, mhdr_addr *addrs, size_t max, size_t *naddrs,
    zbuf *err);

#endif
