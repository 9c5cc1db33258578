/*
 * mstatus.h - RFC 3463 enhanced status codes and RFC 3464 Action/Status
 * field values.  No I/O.
 */
#ifndef ZMTA_MSTATUS_H
#define ZMTA_MSTATUS_H

#include <stddef.h>
#include "zbuf.h"

#define MSTATUS_TEXT_MAX 10   /* "5.999.999" plus NUL */

typedef struct mstatus {
	unsigned cls;       /* 2, 4 or 5 */
	unsigned subject;   /* 0..999 */
	unsigned detail;    /* 0..999 */
} mstatus;

/* RFC 3464 action values; same order as scheduler/dsn.h's enum dsn_action */
enum maction {
	MACTION_FAILED = 0,
	MACTION_DELAYED,
	MACTION_DELIVERED,
	MACTION_RELAYED,
	MACTION_EXPANDED
};

/* mstatus_parse - the whole span must be class "." subject "." detail;
   Z_OK or Z_EPARSE with a reason in err */
int mstatus_parse(zspan s, mstatus *out, zbuf *err);
/* mstatus_valid - 1 when s is exactly a status code */
int mstatus_valid(zspan s);
/* mstatus_prefix - a status code at the start of reply text, followed by
   SP, HTAB or the end; returns its length (0: none, *out zeroed) */
size_t mstatus_prefix(zspan text, mstatus *out);
/* mstatus_agrees - 1 when the class equals the first digit of the basic
   reply code (250 and 2.x.x), else 0 */
int mstatus_agrees(const mstatus *st, int code);
/* mstatus_from_reply - the enhanced code a reply carries when it agrees
   with code, else class.0.0 from the basic code; Z_EPARSE when code is
   not 200..599 with class 2, 4 or 5 */
int mstatus_from_reply(int code, zspan text, mstatus *out);
/* mstatus_format - "c.s.d" into buf; Z_ETOOBIG if bufsz is too small */
int mstatus_format(const mstatus *st, char *buf, size_t bufsz);

/* maction_name - the RFC 3464 action word ("failed" for unknown values) */
const char *maction_name(enum maction a);
/* maction_parse - Action field value (blanks and a trailing comment
   allowed, case ignored) -> enum maction, or -1 */
int maction_parse(zspan value);
/* maction_agrees - 1 when the status class fits the action: failed 5,
   delayed 4, delivered/relayed/expanded 2 */
int maction_agrees(enum maction a, const mstatus *st);
/* mstatus_field_parse - a DSN Status field value: the code, optionally
   surrounded by blanks and followed by a comment; Z_OK or Z_EPARSE */
int mstatus_field_parse(zspan value, mstatus *out, zbuf *err);

#endif
