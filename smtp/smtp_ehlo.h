/*
 * smtp_ehlo.h - the EHLO keyword table (smtp/ layer): a client parses a
 * server's EHLO/LHLO reply into smtp_caps; a server formats its own.
 */
#ifndef ZMTA_SMTP_EHLO_H
#define ZMTA_SMTP_EHLO_H

#include "zbuf.h"
#include "smtp_reply.h"

#define SMTP_RCPTLIMIT_DEFAULT 100

enum {
	CAP_8BITMIME = 1u << 0, CAP_DSN = 1u << 1, CAP_ENHSTATUS = 1u << 2,
	CAP_CHUNKING = 1u << 3, CAP_PIPELINING = 1u << 4, CAP_STARTTLS = 1u << 5,
	CAP_AUTH = 1u << 6, CAP_SIZE = 1u << 7, CAP_BINARYMIME = 1u << 8
};

typedef struct smtp_caps {
	unsigned flags;           /* CAP_* */
	unsigned long size_max;   /* SIZE n; 0 = no limit announced */
	unsigned auth;            /* AUTHM_* (smtp_sasl.h) offered */
	unsigned long rcptlimit;  /* X-RCPTLIMIT / LIMITS RCPTMAX, else default */
} smtp_caps;

/* smtp_ehlo_keyword - the CAP_* flag of an EHLO keyword (any case), 0 if
 * the table does not know it */
unsigned smtp_ehlo_keyword(zspan kw);
/* smtp_ehlo_name - the keyword of one CAP_* flag, NULL if none */
const char *smtp_ehlo_name(unsigned flag);
/* smtp_caps_parse - from a complete EHLO/LHLO reply (first line skipped) */
void smtp_caps_parse(const smtp_reply *r, smtp_caps *c);
/* smtp_ehlo_format - a server's EHLO reply text: first line greeting,
 * then one line per capability of c in table order ("SIZE n", "AUTH
 * mechs", "LIMITS RCPTMAX=n" when rcptlimit is set), lines joined by '\n'
 * for smtp_reply_format(out, 250, ...) */
int smtp_ehlo_format(const smtp_caps *c, const char *greeting, zbuf *out);

#endif
