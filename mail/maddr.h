/*
 * maddr.h - RFC 5321 paths and mailboxes as they appear in MAIL FROM: and
 * RCPT TO:, with their canonical text form.  No I/O.
 */
#ifndef ZMTA_MADDR_H
#define ZMTA_MADDR_H

#include <stddef.h>
#include "mhost.h"
#include "zbuf.h"

#define MADDR_LOCAL_MAX 64    /* RFC 5321 4.5.3.1.1: local part, octets as written */
#define MADDR_PATH_MAX 256    /* RFC 5321 4.5.3.1.3: path incl. "<" and ">" */

/* flags */
#define MADDR_NULL_OK 0x1u        /* "<>" accepted (the reverse-path of MAIL) */
#define MADDR_POSTMASTER_OK 0x2u  /* "<Postmaster>" without domain (RCPT) */
#define MADDR_UTF8 0x4u           /* SMTPUTF8 (RFC 6531): valid UTF-8 allowed */
#define MADDR_NO_ANGLE_OK 0x8u    /* tolerate a path without "<" ">" */

enum maddr_kind {
	MADDR_MAILBOX = 1,      /* local@domain */
	MADDR_NULLPATH = 2,     /* <> */
	MADDR_POSTMASTER = 3    /* <Postmaster>, no domain */
};

typedef struct maddr {
	enum maddr_kind kind;
	char local[MADDR_LOCAL_MAX + 1];  /* local part, quoting undone, NUL-terminated */
	size_t local_len;
	char domain[MADDR_PATH_MAX];      /* domain or "[literal]" as written ("" if none) */
	size_t domain_len;
	mhost host;                       /* kind and address of the domain */
	zspan raw_local;                  /* local part as written, in the input */
	zspan raw_domain;                 /* domain as written, in the input */
	unsigned char quoted;             /* local part was written as a Quoted-string */
	unsigned char utf8;               /* holds non-ASCII bytes (needs SMTPUTF8) */
	unsigned char routed;             /* a source route was present and dropped */
	const char *enh;                  /* on error: suggested RFC 3463 code */
} maddr;

/* maddr_parse_path - a Reverse-path or Forward-path at s[0..n): "<" ... ">"
   followed by SP or the end of s.  *used (may be NULL) gets the bytes up
   to and including ">".  Z_OK, or Z_EPARSE with a reason in err and a
   code suggestion in out->enh */
int maddr_parse_path(const char *s, size_t n, unsigned flags, maddr *out, size_t *used,
    zbuf *err);
/* maddr_parse_addr - the whole span is one Mailbox (local@domain, no
   brackets); flags MADDR_UTF8 only */
int maddr_parse_addr(const char *s, size_t n, unsigned flags, maddr *out, zbuf *err);
/* maddr_local_needs_quote - 1 when a decoded local part is not a Dot-string */
int maddr_local_needs_quote(const char *local, size_t n);
/* maddr_put_local - append a decoded local part in canonical form: bare
   when it is a Dot-string, else a Quoted-string with '"' and '\' escaped */
int maddr_put_local(zbuf *out, const char *local, size_t n);
/* maddr_format - append local@domain in canonical form ("" for the null
   path, the local part alone for <Postmaster>) */
int maddr_format(const maddr *a, zbuf *out);
/* maddr_format_path - append the path for the wire: "<" maddr_format ">" */
int maddr_format_path(const maddr *a, zbuf *out);
/* mutf8_valid - 1 when s[0..n) is well-formed UTF-8 (no overlong forms,
   no surrogates, nothing above U+10FFFF), else 0 */
int mutf8_valid(const char *s, size_t n);

#endif
