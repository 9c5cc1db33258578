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

/* dec_ulong - the whole span is 1+ decimal digits whose value fits max */
static int dec_ulong(const char *p, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0)
		return Z_EPARSE;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (p[i] < '0' || p[i] > '9')
			return Z_EPARSE;
		d = (unsigned)(p[i] - '0');
		if (v > (max - d) / 10)
			return Z_ETOOBIG;
		v = v * 10 + d;
	}
	*out = v;
	return Z_OK;
}

/* find_byte - index of c in p[0..n) or n */
static size_t find_byte(const char *p, size_t n, char c)
{
	const char *q = memchr(p, c, n);
	return q ? (size_t)(q - p) : n;
}

/* word_lookup - status word by name; -1 if unknown */
static int word_lookup(const char *p, size_t n)
{
	for (size_t i = 0; i < NWORDS; i++) {
		size_t wl = strlen(word_names[i]);
		if (wl == n && memcmp(word_names[i], p, n) == 0)
			return (int)i;
	}
	return -1;
}

/* starts - the line p[0..n) begins with lit */
static int starts(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && memcmp(p, lit, l) == 0;
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
static int num_field(const char **p, size_t *n, char sep, const char *what,
		     const char *nosep, unsigned long *out, zbuf *why)
{
	size_t i = find_byte(*p, *n, sep);
	int rc;

	if (i == *n) {
		set_why(why, nosep);
		return Z_EPARSE;
	}
	rc = dec_ulong(*p, i, ULONG_MAX, out);
	if (rc != Z_OK) {
		if (why != NULL) {
			zbuf_reset(why);
			zbuf_printf(why, "%s %s", what,
				    rc == Z_ETOOBIG ? "too large" : "is not a decimal number");
		}
		return rc;
	}
	*p += i + 1;
	*n -= i + 1;
	return Z_OK;
}

/* parse_report - "inum/offset\tnotary\tword[ text]" */
static enum ta_kind parse_report(const char *p, size_t n, ta_report *rep, zbuf *why)
{
	size_t i, j;
	int w, rc;

	if (num_field(&p, &n, '/', "message number",
		      "misformed line: neither a report nor a command", &rep->inum, why) != Z_OK ||
	    num_field(&p, &n, '\t', "recipient offset",
		      "report lacks the TAB after inum/offset", &rep->offset, why) != Z_OK)
		return TAK_BAD;
	/* notary up to the second TAB */
	i = find_byte(p, n, '\t');
	if (i == n) {
		set_why(why, "report lacks the TAB after the notary field");
		return TAK_BAD;
	}
	rep->notary.p = p;
	rep->notary.n = i;
	p += i + 1;
	n -= i + 1;
	/* status word up to space or end */
	j = find_byte(p, n, ' ');
	w = word_lookup(p, j);
	if (w < 0) {
		set_why(why, j == 0 ? "report lacks a status word" : "unknown status word");
		return TAK_BAD;
	}
	rep->word = (enum ta_word)w;
	p += j;
	n -= j;
	if (n > 0) {		/* skip the one separating space */
		p++;
		n--;
	}
	if (rep->word == TA_RETRYAT) {
		unsigned long v;
		rep->retry_relative = 0;
		if (n > 0 && p[0] == '+') {
			rep->retry_relative = 1;
			p++;
			n--;
		}
		j = find_byte(p, n, ' ');
		rc = dec_ulong(p, j, LONG_MAX, &v);
		if (rc != Z_OK) {
			set_why(why, rc == Z_ETOOBIG ? "retryat time too large"
				: "retryat needs a decimal time");
			return TAK_BAD;
		}
		rep->retry = (long)v;
		p += j;
		n -= j;
		if (n > 0) {
			p++;
			n--;
		}
	}
	rep->text.p = p;
	rep->text.n = n;
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
	if (line[0] == '#') {
		if (starts(line, len, "#hungry"))
			return TAK_HUNGRY;
		if (len == 10 && memcmp(line, "#keepalive", 10) == 0)
			return TAK_KEEPALIVE;
		if (starts(line, len, "#resync") &&
		    (len == 7 || line[7] == ' ' || line[7] == '\t')) {
			const char *p = line + 7;
			size_t n = len - 7;
			unsigned long ino;
			size_t plen;
			while (n > 0 && (*p == ' ' || *p == '\t')) {
				p++;
				n--;
			}
			if (n == 0) {
				set_why(why, "#resync without a path");
				return TAK_BAD;
			}
			if (!jobpath_ok(p, n, &ino, &plen)) {
				set_why(why, "#resync with an invalid job path");
				return TAK_BAD;
			}
			arg->p = p;
			arg->n = n;
			return TAK_RESYNC;
		}
		{
			const char *p = line + 1;
			size_t n = len - 1;
			while (n > 0 && (*p == ' ' || *p == '\t')) {
				p++;
				n--;
			}
			arg->p = p;
			arg->n = n;
		}
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
	size_t i, plen;
	unsigned long ino;

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
	i = find_byte(line, len, '\t');
	if (!jobpath_ok(line, i, &ino, &plen)) {
		set_why(why, "invalid job path");
		return TAK_BAD;
	}
	if (i < len) {
		const char *h = line + i + 1;
		size_t hn = len - i - 1;
		if (!host_ok(h, hn)) {
			set_why(why, hn == 0 ? "empty host after TAB"
				: hn > 255 ? "host name too long"
				: "host name contains blanks or control bytes");
			return TAK_BAD;
		}
		job->host.p = h;
		job->host.n = hn;
	}
	job->path.p = line;
	job->path.n = i;
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
	const char *p = notary.p;
	size_t n = notary.n;
	int k = 0;

	for (int i = 0; i < TAPROTO_NOTARY_FIELDS; i++) {
		fields[i].p = "";
		fields[i].n = 0;
	}
	if (nfields != NULL)
		*nfields = 0;
	if (p == NULL || n == 0)
		return Z_OK;
	for (;;) {
		size_t i = find_byte(p, n, '\001');
		if (k == TAPROTO_NOTARY_FIELDS) {
			/* a seventh field: keep the six, say so */
			if (nfields != NULL)
				*nfields = k;
			return Z_EPARSE;
		}
		fields[k].p = p;
		fields[k].n = i;
		k++;
		if (i == n)
			break;
		p += i + 1;
		n -= i + 1;
	}
	if (nfields != NULL)
		*nfields = k;
	return Z_OK;
}
