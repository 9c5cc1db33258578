/*
 * mparam.h - ESMTP parameters of MAIL FROM: and RCPT TO: (the
 * "keyword[=value]" list after the path).  No I/O.
 */
#ifndef ZMTA_MPARAM_H
#define ZMTA_MPARAM_H

#include <stddef.h>
#include "zbuf.h"

/* known keywords, as bits of mparams.seen and of the allowed mask */
#define MPARAM_SIZE 0x01u       /* RFC 1870 */
#define MPARAM_BODY 0x02u       /* RFC 6152, RFC 3030 */
#define MPARAM_RET 0x04u        /* RFC 3461 */
#define MPARAM_ENVID 0x08u      /* RFC 3461 */
#define MPARAM_NOTIFY 0x10u     /* RFC 3461 */
#define MPARAM_ORCPT 0x20u      /* RFC 3461 */
#define MPARAM_AUTH 0x40u       /* RFC 4954 */
#define MPARAM_SMTPUTF8 0x80u   /* RFC 6531 */
#define MPARAM_MAIL (MPARAM_SIZE | MPARAM_BODY | MPARAM_RET | MPARAM_ENVID | \
		     MPARAM_AUTH | MPARAM_SMTPUTF8)
#define MPARAM_RCPT (MPARAM_NOTIFY | MPARAM_ORCPT)

#define MPARAM_ENVID_MAX 100    /* decoded characters (RFC 3461 4.4) */
#define MPARAM_ORCPT_MAX 500    /* characters as written (RFC 3461 4.2) */
#define MPARAM_AUTH_MAX 500     /* characters as written */

enum mbody { MBODY_NONE = 0, MBODY_7BIT, MBODY_8BITMIME, MBODY_BINARYMIME };
enum mret { MRET_NONE = 0, MRET_FULL, MRET_HDRS };

#define MNOTIFY_NEVER 0x1u
#define MNOTIFY_SUCCESS 0x2u
#define MNOTIFY_FAILURE 0x4u
#define MNOTIFY_DELAY 0x8u

typedef struct mparams {
	unsigned seen;          /* MPARAM_* bits present */
	unsigned long size;     /* SIZE */
	enum mbody body;        /* BODY */
	enum mret ret;          /* RET */
	zspan envid;            /* ENVID, xtext as written */
	unsigned notify;        /* NOTIFY, MNOTIFY_* bits */
	zspan orcpt_type;       /* ORCPT addr-type ("rfc822") */
	zspan orcpt;            /* ORCPT xtext after ';', as written */
	zspan auth;             /* AUTH, xtext as written ("<>" when auth_null) */
	int auth_null;          /* AUTH=<> */
	/* on error */
	zspan bad_keyword;      /* the keyword at fault */
	const char *enh;        /* suggested RFC 3463 code, e.g. "5.5.4" */
	int reply;              /* suggested reply code: 501, 552 or 555 */
} mparams;

/* mparam_parse - parse s[0..n) (the text after the path; leading and
   trailing blanks allowed).  allowed: MPARAM_* bits the caller accepts
   in this command (MPARAM_MAIL, MPARAM_RCPT, less what it did not
   advertise).  Returns Z_OK; Z_EPARSE for bad syntax, a bad value or a
   duplicate keyword (501); Z_ENOENT for an unknown keyword or one not in
   allowed (555); Z_ETOOBIG for a SIZE beyond unsigned long (552).  On
   error err gets the reason and out->enh/reply/bad_keyword are set. */
int mparam_parse(const char *s, size_t n, unsigned allowed, mparams *out, zbuf *err);
/* mparam_body_name - "7BIT", "8BITMIME", "BINARYMIME" or "" */
const char *mparam_body_name(enum mbody b);
/* mparam_notify_parse - a NOTIFY value: NEVER alone or a comma list of
   SUCCESS, FAILURE, DELAY (any case) into MNOTIFY_* bits; Z_EPARSE */
int mparam_notify_parse(zspan v, unsigned *out);
/* mparam_notify_format - append "NEVER" or e.g. "SUCCESS,FAILURE" */
int mparam_notify_format(unsigned notify, zbuf *out);

#endif
