/*
 * smtp_reply.h - SMTP replies in both directions (the smtp/ layer).
 *
 * A client assembles the lines it reads into one smtp_reply
 * (smtp_reply_line); a server formats the reply it writes
 * (smtp_reply_format).  No I/O here: smtp_session.h moves the bytes.
 */
#ifndef ZMTA_SMTP_REPLY_H
#define ZMTA_SMTP_REPLY_H

#include <stddef.h>
#include "zbuf.h"

/* ---- limits ---- */
#define SMTP_REPLY_LINE_MAX 4096     /* one reply line incl. CRLF (RFC says 512) */
#define SMTP_REPLY_LINES_MAX 200     /* lines in one multi-line reply */
#define SMTP_REPLY_TEXT_MAX 32768    /* all lines of one reply */
#define SMTP_CMD_MAX 2048            /* one command line (client writes, server reads) */
#define SMTP_REPLY_OUT_LINE_MAX 512  /* one line a server writes, CRLF included */

typedef struct smtp_reply {
	int code;            /* 0 until the first line */
	char enh[24];        /* enhanced status "5.1.1" from the last line, or "" */
	zbuf text;           /* every line (without CRLF) joined with '\n' */
	int nlines;
	int complete;
} smtp_reply;

void smtp_reply_init(smtp_reply *r);
void smtp_reply_reset(smtp_reply *r);
void smtp_reply_free(smtp_reply *r);
/* smtp_reply_copy - dst becomes a copy of src (Z_OK or Z_ETOOBIG) */
int smtp_reply_copy(smtp_reply *dst, const smtp_reply *src);
/* smtp_reply_line - feed one line (CRLF removed).  1: reply complete,
 * 0: more lines follow, Z_EPARSE: bad syntax (reason in err),
 * Z_ETOOBIG: too many lines/bytes. */
int smtp_reply_line(smtp_reply *r, const char *line, size_t n, zbuf *err);
/* smtp_reply_last - the last line's text after "NNN " (for diagnostics) */
zspan smtp_reply_last(const smtp_reply *r);
/* smtp_enh_parse - "x.y.z" at the start of s; copies into out, returns its
 * length in s (0 if none) */
size_t smtp_enh_parse(zspan s, char *out, size_t outsz);
/* smtp_reply_format - the server direction: append the reply code (200..599),
 * optional enhanced code enh (same class, or NULL/"") and text (lines
 * separated by '\n', each written "NNN-" but the last "NNN ") with CRLF.
 * Z_EPARSE for a bad code, enh or a CR/NUL in text; Z_ETOOBIG for a line
 * longer than SMTP_REPLY_OUT_LINE_MAX or more than SMTP_REPLY_LINES_MAX
 * lines; out unchanged on error. */
int smtp_reply_format(zbuf *out, int code, const char *enh, zspan text);

#endif
