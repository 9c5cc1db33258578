/*
 * NAME
 *	taproto - codec for the scheduler <-> transport agent line protocol
 *
 * SUMMARY
 *	Parse and format the lines exchanged between the scheduler and the
 *	transport agents (zmta-ta(7)); split and build notary strings.
 *
 * SYNOPSIS
 *	#include "taproto.h"
 *
 *	const char *ta_word_name(enum ta_word w);
 *	int ta_word_final(enum ta_word w);
 *	enum ta_kind ta_parse_agent_line(const char *line, size_t len,
 *		ta_report *rep, zspan *arg, zbuf *why);
 *	enum ta_kind ta_parse_job_line(const char *line, size_t len,
 *		ta_job *job, zbuf *why);
 *	int ta_format_job(zbuf *out, const char *path, const char *host);
 *	int ta_format_report(zbuf *out, unsigned long inum, unsigned long off,
 *		const char *notary, enum ta_word w, long retry, int relative,
 *		const char *text);
 *	int ta_notary_build(zbuf *out, const char *const fields[6]);
 *	int ta_notary_split(zspan notary, zspan fields[6], int *nfields);
 *
 * DESCRIPTION
 *	Lines are given without their '\n'.  A line of TAPROTO_LINE_MAX bytes
 *	or more (it could not have been sent with its '\n') is refused.
 *
 *	Agent lines: "#hungry" (trailing text tolerated), "" (also hungry, for
 *	old agents), "#keepalive" (exactly; TAK_KEEPALIVE: the agent is busy),
 *	"#resync <jobpath>", any other "#..." (a comment; arg is
 *	the text after '#' and blanks), and report lines
 *	"inum/offset\tnotary\tword[ text]" where inum and offset are plain
 *	decimal (digits only, no sign, no overflow), the notary is everything
 *	between the two TABs, and word is one of the status words; "retryat"
 *	takes a number, "retryat [+]N[ text]".  Spans in rep/arg point into
 *	the caller's line.
 *
 *	Job lines: "" (terminate), "#idle", "jobpath[\thost]".  The path must
 *	pass spool_jobpath_check(); the host must be 1..255 printable,
 *	non-blank ASCII bytes.
 *
 *	ta_format_report() appends one complete line to out: the text has NL
 *	mapped to CR, TAB to space and any other control byte (and DEL) to
 *	'?'; it is cut so that the line with its '\n' fits TAPROTO_LINE_MAX.
 *	ta_notary_build() joins fields with \001; trailing NULL fields are
 *	left out, NULL fields before a non-NULL one are written empty.
 *
 *	Parsers walk the line with the cursor of lib/ (zcur in zbuf.h):
 *	fields up to a separator, decimal numbers with an overflow check,
 *	the rest of the line.
 *
 * DIAGNOSTICS
 *	Parsers return TAK_BAD with a one-line reason in why (when why is not
 *	NULL); formatters return Z_EPARSE for forbidden bytes, Z_ETOOBIG when
 *	the fixed part of a line cannot fit, or a zbuf error.  On error the
 *	output buffer is left as it was.
 *
 * SECURITY
 *	Every byte parsed here comes from another process and is untrusted:
 *	parsing is bounded by len, never reads past it, never allocates and
 *	never trusts a NUL terminator.  A job path that escapes the spool
 *	("..", absolute, odd characters) is refused by spool_jobpath_check().
 *
 * BUGS
 *	The scheduler-side meaning of each status word lives in the scheduler;
 *	this module only knows the syntax.
 *
 * SEE ALSO
 *	zmta-ta(7), zmta-spool(5), spool/taproto.h, transport/libta/ta.c
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "taproto.h"
#include "spool.h"

static const char *const word_names[] = {
	[TA_OK] = "ok", [TA_OK2] = "ok2", [TA_OK3] = "ok3",
	[TA_ERROR] = "error", [TA_ERROR2] = "error2",
	[TA_DEFERRED] = "deferred", [TA_DEFERALL] = "deferall",
	[TA_DEFERBACK] = "deferback", [TA_RETRYAT] = "retryat"
};
#define NWORDS (sizeof(word_names) / sizeof(word_names[0]))

/* ta_word_name - "ok", "retryat", ... */
const char *ta_word_name(enum ta_word w)
{
	if ((unsigned)w >= NWORDS)
		return "?";
	return word_names[w];
}

/* ta_word_final - 1 for ok* and error* */
int ta_word_final(enum ta_word w)
{
	switch (w) {
	case TA_OK: case TA_OK2: case TA_OK3: case TA_ERROR: case TA_ERROR2:
		return 1;
	default:
		return 0;
	}
}

/* set_why - put a reason into why (if any) */
static void set_why(zbuf *why, const char *reason)
{
	if (why == NULL)
		return;
	zbuf_reset(why);
	zbuf_puts(why, reason);
}

/* dec_ulong - the whole span is 1+ decimal digits whose value fits max
 * (Z_ETOOBIG as soon as the leading digits overflow, else Z_EPARSE for
 * anything that is not a digit); *out is set only on success */
static int dec_ulong(zspan s, unsigned long max, unsigned long *out)
{
	zcur c;
	unsigned long v;
	int rc;

	zcur_init(&c, s.p, s.n);
	rc = zcur_take_ulong(&c, max, &v);
	if (rc == Z_OK && !zcur_eof(&c))
		rc = Z_EPARSE;
	if (rc == Z_OK)
		*out = v;
	return rc;
}

/* take_field - bytes up to sep (consumed) or, without sep, the rest */
static void take_field(zcur *c, char sep, zspan *out)
{
	if (zcur_take_until(c, sep, out) != Z_OK)
		zcur_take_rest(c, out);
}

/* word_lookup - status word by name; -1 if unknown */
static int word_lookup(zspan w)
{
	for (size_t i = 0; i < NWORDS; i++)
		if (zspan_eq(w, word_names[i]))
			return (int)i;
	return -1;
}

/* jobpath_ok - spool_jobpath_check() with a private reason buffer */
static int jobpath_ok(const char *p, size_t n, unsigned long *ino, size_t *plen)
{
	zbuf w = ZBUF_INIT(256);
	int rc = spool_jobpath_check(p, n, ino, plen, &w);

	zbuf_free(&w);
	return rc == Z_OK;
}

/* num_field - decimal field up to sep (consumed), reason into why on error */
static int num_field(zcur *c, char sep, const char *what,
		     const char *nosep, unsigned long *out, zbuf *why)
{
	zspan f;
	int rc;

	if (zcur_take_until(c, sep, &f) != Z_OK) {
		set_why(why, nosep);
		return Z_EPARSE;
	}
	rc = dec_ulong(f, ULONG_MAX, out);
	if (rc != Z_OK) {
		if (why != NULL) {
			zbuf_reset(why);
			zbuf_printf(why, "%s %s", what,
				    rc == Z_ETOOBIG ? "too large" : "is not a decimal number");
		}
		return rc;
	}
	return Z_OK;
}

/* parse_report - "inum/offset\tnotary\tword[ text]" */
static enum ta_kind parse_report(const char *p, size_t n, ta_report *rep, zbuf *why)
{
	zcur c;
	zspan f;
	int w, rc;

	zcur_init(&c, p, n);
	if (num_field(&c, '/', "message number",
		      "misformed line: neither a report nor a command", &rep->inum, why) != Z_OK ||
	    num_field(&c, '\t', "recipient offset",
		      "report lacks the TAB after inum/offset", &rep->offset, why) != Z_OK)
		return TAK_BAD;
	/* notary up to the second TAB */
	if (zcur_take_until(&c, '\t', &f) != Z_OK) {
		set_why(why, "report lacks the TAB after the notary field");
		return TAK_BAD;
	}
	rep->notary = f;
	/* status word up to the one separating space, or the end */
	take_field(&c, ' ', &f);
	w = word_lookup(f);
	if (w < 0) {
		set_why(why, f.n == 0 ? "report lacks a status word" : "unknown status word");
		return TAK_BAD;
	}
	rep->word = (enum ta_word)w;
	if (rep->word == TA_RETRYAT) {
		unsigned long v;
		rep->retry_relative = zcur_skip_char(&c, '+');
		take_field(&c, ' ', &f);
		rc = dec_ulong(f, LONG_MAX, &v);
		if (rc != Z_OK) {
			set_why(why, rc == Z_ETOOBIG ? "retryat time too large"
				: "retryat needs a decimal time");
			return TAK_BAD;
		}
		rep->retry = (long)v;
	}
	zcur_take_rest(&c, &rep->text);
	return TAK_REPORT;
}

/* line_ok - the checks every line of both directions passes first; an
 * empty line is not ok but leaves why alone */
static int line_ok(const char *line, size_t len, zbuf *why)
{
	if (len == 0)
		return 0;
	if (line == NULL) {
		set_why(why, "no line");
		return 0;
	}
	if (len >= TAPROTO_LINE_MAX) {
		set_why(why, "line too long");
		return 0;
	}
	if (memchr(line, '\0', len) != NULL) {
		set_why(why, "NUL byte in line");
		return 0;
	}
	return 1;
}

/* ta_parse_agent_line - classify and parse one line read from an agent */
enum ta_kind ta_parse_agent_line(const char *line, size_t len, ta_report *rep,
				 zspan *arg, zbuf *why)
{
	ta_report rdummy;
	zspan adummy;
	zcur c;

	if (rep == NULL)
		rep = &rdummy;
	if (arg == NULL)
		arg = &adummy;
	memset(rep, 0, sizeof(*rep));
	rep->notary.p = rep->text.p = "";
	arg->p = "";
	arg->n = 0;
	if (!line_ok(line, len, why))
		return len == 0 ? TAK_EMPTY : TAK_BAD;
	zcur_init(&c, line, len);
	if (zcur_peek(&c) == '#') {
		if (zcur_expect(&c, "#hungry") == Z_OK)
			return TAK_HUNGRY;
		if (zcur_expect(&c, "#keepalive") == Z_OK && zcur_eof(&c))
			return TAK_KEEPALIVE;
		zcur_init(&c, line, len);
		if (zcur_expect(&c, "#resync") == Z_OK &&
		    (zcur_eof(&c) || zcur_peek(&c) == ' ' || zcur_peek(&c) == '\t')) {
			unsigned long ino;
			size_t plen;
			zspan path;
			zcur_skip_ws(&c);
			zcur_take_rest(&c, &path);
			if (path.n == 0) {
				set_why(why, "#resync without a path");
				return TAK_BAD;
			}
			if (!jobpath_ok(path.p, path.n, &ino, &plen)) {
				set_why(why, "#resync with an invalid job path");
				return TAK_BAD;
			}
			*arg = path;
			return TAK_RESYNC;
		}
		zcur_init(&c, line + 1, len - 1);
		zcur_skip_ws(&c);
		zcur_take_rest(&c, arg);
		return TAK_COMMENT;
	}
	return parse_report(line, len, rep, why);
}

/* host_ok - 1..255 bytes of printable ASCII other than space */
static int host_ok(const char *p, size_t n)
{
	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f)
			return 0;
	}
	return 1;
}

/* ta_parse_job_line - classify and parse one line read from the scheduler */
enum ta_kind ta_parse_job_line(const char *line, size_t len, ta_job *job, zbuf *why)
{
	ta_job jdummy;
	size_t plen;
	unsigned long ino;
	zcur c;
	zspan path;

	if (job == NULL)
		job = &jdummy;
	memset(job, 0, sizeof(*job));
	job->path.p = job->host.p = "";
	if (!line_ok(line, len, why))
		return len == 0 ? TAK_EMPTY : TAK_BAD;
	if (line[0] == '#') {
		if (len == 5 && memcmp(line, "#idle", 5) == 0)
			return TAK_IDLE;
		set_why(why, "unknown command");
		return TAK_BAD;
	}
	zcur_init(&c, line, len);
	int tab = zcur_take_until(&c, '\t', &path) == Z_OK;
	if (!tab)
		zcur_take_rest(&c, &path);
	if (!jobpath_ok(path.p, path.n, &ino, &plen)) {
		set_why(why, "invalid job path");
		return TAK_BAD;
	}
	if (tab) {
		zspan hs;
		zcur_take_rest(&c, &hs);
		const char *h = hs.p;
		size_t hn = hs.n;
		if (!host_ok(h, hn)) {
			set_why(why, hn == 0 ? "empty host after TAB"
				: hn > 255 ? "host name too long"
				: "host name contains blanks or control bytes");
			return TAK_BAD;
		}
		job->host.p = h;
		job->host.n = hn;
	}
	job->path = path;
	job->inum = ino;
	return TAK_JOB;
}

/* has_any - s contains one of the bytes in set */
static int has_any(const char *s, const char *set)
{
	return s[strcspn(s, set)] != '\0';
}

/* ta_format_job - append "path[\thost]\n" */
int ta_format_job(zbuf *out, const char *path, const char *host)
{
	size_t old = out->len, need;
	int rc;

	if (path == NULL || *path == '\0' || has_any(path, "\t\n\r"))
		return Z_EPARSE;
	if (host != NULL && *host != '\0' && has_any(host, "\t\n\r "))
		return Z_EPARSE;
	need = strlen(path) + 1 + (host && *host ? strlen(host) + 1 : 0);
	if (need > TAPROTO_LINE_MAX)
		return Z_ETOOBIG;
	rc = zbuf_puts(out, path);
	if (rc == Z_OK && host != NULL && *host != '\0') {
		rc = zbuf_putc(out, '\t');
		if (rc == Z_OK)
			rc = zbuf_puts(out, host);
	}
	if (rc == Z_OK)
		rc = zbuf_putc(out, '\n');
	if (rc != Z_OK)
		zbuf_truncate(out, old);
	return rc;
}

/* text_byte - the protocol-safe form of one text byte */
static char text_byte(unsigned char c)
{
	if (c == '\n')
		return '\r';
	if (c == '\t')
		return ' ';
	if (c == '\r')
		return '\r';
	if (c < 0x20 || c == 0x7f)
		return '?';
	return (char)c;
}

/* ta_format_report - append one report line ending in '\n' */
int ta_format_report(zbuf *out, unsigned long inum, unsigned long off,
		     const char *notary, enum ta_word w, long retry, int relative,
		     const char *text)
{
	char head[128];
	size_t old = out->len, nlen, used, room, tlen;
	int n, rc;

	if ((unsigned)w >= NWORDS)
		return Z_EPARSE;
	if (notary == NULL)
		notary = "";
	if (has_any(notary, "\t\n\r"))
		return Z_EPARSE;
	if (w == TA_RETRYAT && retry < 0)
		return Z_EPARSE;
	n = snprintf(head, sizeof(head), "%lu/%lu\t", inum, off);
	if (n < 0 || (size_t)n >= sizeof(head))
		return Z_ETOOBIG;
	nlen = strlen(notary);
	/* fixed part: head notary TAB word [" " [+]N] '\n' */
	used = (size_t)n + nlen + 1 + strlen(word_names[w]) + 1;
	if (w == TA_RETRYAT)
		used += 1 + 1 + 20;
	if (used >= TAPROTO_LINE_MAX)
		return Z_ETOOBIG;
	rc = zbuf_append(out, head, (size_t)n);
	if (rc == Z_OK)
		rc = zbuf_append(out, notary, nlen);
	if (rc == Z_OK)
		rc = zbuf_putc(out, '\t');
	if (rc == Z_OK)
		rc = zbuf_puts(out, word_names[w]);
	if (rc == Z_OK && w == TA_RETRYAT)
		rc = zbuf_printf(out, relative ? " +%ld" : " %ld", retry);
	if (rc != Z_OK)
		goto out;
	if (text != NULL && *text != '\0') {
		/* room for " text" before the '\n' */
		used = out->len - old;
		room = TAPROTO_LINE_MAX - 1 - used;
		if (room > 1) {
			tlen = strlen(text);
			if (tlen > room - 1)
				tlen = room - 1;
			rc = zbuf_reserve(out, tlen + 2);
			if (rc != Z_OK)
				goto out;
			rc = zbuf_putc(out, ' ');
			for (size_t i = 0; rc == Z_OK && i < tlen; i++)
				rc = zbuf_putc(out, text_byte((unsigned char)text[i]));
			if (rc != Z_OK)
				goto out;
		}
	}
	rc = zbuf_putc(out, '\n');
out:
	if (rc != Z_OK)
		zbuf_truncate(out, old);
	return rc;
}

/* ta_notary_build - join fields with \001 */
int ta_notary_build(zbuf *out, const char *const fields[TAPROTO_NOTARY_FIELDS])
{
	size_t old = out->len;
	int last = -1, rc = Z_OK;

	for (int i = 0; i < TAPROTO_NOTARY_FIELDS; i++) {
		if (fields[i] == NULL)
			continue;
		if (has_any(fields[i], "\t\n\r\001"))
			return Z_EPARSE;
		last = i;
	}
	for (int i = 0; rc == Z_OK && i <= last; i++) {
		if (i > 0)
			rc = zbuf_putc(out, '\001');
		if (rc == Z_OK && fields[i] != NULL)
			rc = zbuf_puts(out, fields[i]);
	}
	if (rc != Z_OK)
		zbuf_truncate(out, old);
	return rc;
}

/* ta_notary_split - split at \001 into at most six fields */
int ta_notary_split(zspan notary, zspan fields[TAPROTO_NOTARY_FIELDS], int *nfields)
{
	zcur c;
	int k = 0, last = 0;

	for (int i = 0; i < TAPROTO_NOTARY_FIELDS; i++) {
		fields[i].p = "";
		fields[i].n = 0;
	}
	if (nfields != NULL)
		*nfields = 0;
	if (notary.p == NULL || notary.n == 0)
		return Z_OK;
	zcur_init(&c, notary.p, notary.n);
	while (!last) {
		zspan f;
		if (k == TAPROTO_NOTARY_FIELDS) {
			/* a seventh field: keep the six, say so */
			if (nfields != NULL)
				*nfields = k;
			return Z_EPARSE;
		}
		if (zcur_take_until(&c, '\001', &f) != Z_OK) {
			zcur_take_rest(&c, &f);
			last = 1;
		}
		fields[k++] = f;
	}
	if (nfields != NULL)
		*nfields = k;
	return Z_OK;
}
