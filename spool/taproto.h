/*
 * taproto.h - the scheduler <-> transport agent line protocol (zmta-ta(7)).
 *
 * Scheduler to agent: "relpath[\thost]", "#idle", "" (exit).
 * Agent to scheduler: "#hungry", "#keepalive", "#resync relpath", "# text",
 *   "inum/offset\tnotary\tword[ text]" with word one of ok ok2 ok3 error
 *   error2 deferred deferall deferback, or "retryat [+]N[ text]".
 * Lines are at most TAPROTO_LINE_MAX bytes including '\n'.  Notary fields
 * are separated by \001; TAB, NL and \001 never appear inside a field; NL in
 * text is written as CR.  Both sides link this one codec.
 */
#ifndef ZMTA_TAPROTO_H
#define ZMTA_TAPROTO_H

#include <stddef.h>
#include "zbuf.h"

#define TAPROTO_LINE_MAX 8192
#define TAPROTO_NOTARY_FIELDS 6

enum ta_word {
	TA_OK, TA_OK2, TA_OK3, TA_ERROR, TA_ERROR2,
	TA_DEFERRED, TA_DEFERALL, TA_DEFERBACK, TA_RETRYAT
};

enum ta_kind {
	TAK_BAD = 0,   /* unparseable: log it, never crash */
	TAK_HUNGRY,    /* "#hungry" */
	TAK_EMPTY,     /* "" */
	TAK_RESYNC,    /* "#resync path": arg = path */
	TAK_COMMENT,   /* "# text" / other "#...": arg = text */
	TAK_REPORT,    /* report line */
	TAK_IDLE,      /* "#idle" (scheduler -> agent) */
	TAK_JOB,       /* job line (scheduler -> agent) */
	TAK_KEEPALIVE  /* "#keepalive": busy, not hung (activity only) */
};

typedef struct ta_report {
	unsigned long inum;
	unsigned long offset;
	zspan notary;        /* raw, may be empty */
	enum ta_word word;
	long retry;          /* retryat value */
	int retry_relative;  /* 1 if "+N" */
	zspan text;          /* may be empty */
} ta_report;

typedef struct ta_job {
	zspan path;          /* validated by spool_jobpath_check() */
	zspan host;          /* empty when the agent's host is fixed */
	unsigned long inum;
} ta_job;

/* ta_word_name - "ok", "retryat", ... */
const char *ta_word_name(enum ta_word w);
/* ta_word_final - 1 for ok* and error* */
int ta_word_final(enum ta_word w);

/* ta_parse_agent_line - a line read from an agent (no trailing '\n').
 * Returns the kind; on TAK_BAD a reason is put in why. */
enum ta_kind ta_parse_agent_line(const char *line, size_t len, ta_report *rep,
				 zspan *arg, zbuf *why);
/* ta_parse_job_line - a line read from the scheduler (no '\n'). */
enum ta_kind ta_parse_job_line(const char *line, size_t len, ta_job *job, zbuf *why);

/* ta_format_job - "path[\thost]\n" */
int ta_format_job(zbuf *out, const char *path, const char *host);
/* ta_format_report - one report line ending in '\n'; text NL -> CR, TAB ->
 * space, other control bytes -> '?'; cut to fit TAPROTO_LINE_MAX. */
int ta_format_report(zbuf *out, unsigned long inum, unsigned long off,
		     const char *notary, enum ta_word w, long retry, int relative,
		     const char *text);
/* ta_notary_build - join up to 6 fields with \001 (NULL field -> empty);
 * Z_EPARSE if a field contains TAB, NL, CR or \001 */
int ta_notary_build(zbuf *out, const char *const fields[TAPROTO_NOTARY_FIELDS]);
/* ta_notary_split - fields[0..5] (missing ones empty); *nfields found */
int ta_notary_split(zspan notary, zspan fields[TAPROTO_NOTARY_FIELDS], int *nfields);

/*
 * Notes (spool/taproto.c, zmta-ta(7)): parsers never read past len and
 * refuse len >= TAPROTO_LINE_MAX and NUL bytes; spans point into the line.
 * rep/job/arg/why may be NULL.  ta_notary_build() leaves out trailing NULL
 * fields (all NULL gives "").  ta_notary_split() fills empty spans ("", 0)
 * for missing fields and returns Z_EPARSE (first six kept) when there are
 * more than six.  ta_format_report() refuses a notary with TAB, CR or NL
 * (Z_EPARSE) and a fixed part that cannot fit (Z_ETOOBIG); the text is cut.
 */

#endif
