/*
 * report.h - delivery reports of the scheduler (scheduler(8)): which
 * 'd' lines are reported, the parts of a stored deferral text, and the
 * submission of a report (rendered by dsn.h) into router/.
 */
#ifndef ZMTA_SCHED_REPORT_H
#define ZMTA_SCHED_REPORT_H
#include <stddef.h>
#include "ctlfile.h"
#include "dsn.h"
#include "model.h"
#include "sconf.h"
#include "stats.h"
#include "zbuf.h"

/* report_ctx - where and as whom reports are submitted */
typedef struct report_ctx {
	const sconf *cfg;              /* PARAMstore-error-on-error */
	const char *postoffice;        /* submission into its router/ */
	const char *hostname;          /* Reporting-MTA */
	sched_stats *st;               /* c_dsn */
} report_ctx;

/* report_strs - small owner of duplicated strings (the dsn_rcpt fields) */
typedef struct report_strs {
	char **v;
	size_t n, cap;
} report_strs;

/* report_strs_add - keep s (may be NULL; freed and NULL returned when
 * it cannot be kept) and return it */
char *report_strs_add(report_strs *sv, char *s);
/* report_strs_span - a kept copy of a span (NULL when empty) */
char *report_strs_span(report_strs *sv, zspan s);
/* report_strs_free - free all */
void report_strs_free(report_strs *sv);
/* report_rcpt_addr - the unquoted user of a recipient, kept in sv */
char *report_rcpt_addr(report_strs *sv, const ctl_rcpt *cr);

/* report_span_cstr - a span as a bounded C string (TAB and LF become
 * spaces); bufsz > 0 */
void report_span_cstr(zspan s, char *buf, size_t bufsz);
/* report_lastdiag - status (up to its first blank), diagnostic,
 * remote MTA (without the agents' "(ip|port)") and text of a stored
 * "notary\ttext" deferral string; all "" when ld is NULL or unparsable */
void report_lastdiag(const char *ld, char *status, size_t ssz, char *diag, size_t dsz,
		     char *remote, size_t rsz, char *text, size_t tsz);
/* report_collect - the unreported 'd' lines (tag ' ') whose recipient's
 * NOTIFY allows their action, into dr (room for cf->ndiags); *firstp =
 * the first such recipient; returns how many */
size_t report_collect(const ctl_file *cf, report_strs *sv, dsn_rcpt *dr,
		      const ctl_rcpt **firstp);
/* report_is_errormsg - does the queue file's envelope (before body_off
 * or its first 8 KB) carry an "errormsg" line? */
int report_is_errormsg(int qfd, long body_off);
/* report_open_body - queue/<prefix><ino> read-only (path relative to
 * transport/ into path); -1 with errno set on failure */
int report_open_body(const sfile *f, char *path, size_t psz);
/* report_submit - render and submit one report for the n entries of dr
 * (first = the recipient whose 's', ENVID and RET apply; qfd the body or
 * -1); Z_OK, Z_ENOENT when nothing is to be sent (no one to send it to),
 * Z_EAGAIN when it was about a report and PARAMstore-error-on-error asks
 * to keep the original, else an error (logged with id) */
int report_submit(const report_ctx *rx, const sfile *f, const ctl_file *cf, int qfd,
		  dsn_rcpt *dr, size_t n, const ctl_rcpt *first, const char *id);

#endif
