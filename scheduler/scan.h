/*
 * scan.h - reading transport/ and its control files into the scheduler's
 * model (scheduler(8)): the scan of the hash directories, one control
 * file, ETRN files, and the host check every recipient passes.
 */
#ifndef ZMTA_SCHED_SCAN_H
#define ZMTA_SCHED_SCAN_H
#include <time.h>
#include "ctlfile.h"
#include "model.h"
#include "sconf.h"
#include "stats.h"
#include "zbuf.h"

/* what the scan tells its owner; any hook may be NULL */
typedef struct scan_hooks {
	/* f was built from cf (vertices linked into threads): keep what
	 * mailq shows */
	void (*note)(void *arg, sfile *f, const ctl_file *cf);
	/* f is new in the model: complete, expire, start agents; 1 when f
	 * is gone (finished) and must not be touched again */
	int (*loaded)(void *arg, sfile *f, time_t now);
	/* a "T" line (control file or ETRN file) names host */
	void (*turnme)(void *arg, const char *host);
	/* the initial scan has queued SCAN_EARLY_FILES files (once): the
	 * owner may start the first agents, whose start-up then overlaps
	 * the rest of the scan */
	void (*early)(void *arg);
	void *arg;
} scan_hooks;

#define SCAN_EARLY_FILES 1024

/* scan_ctx - owned by the daemon; the current directory is transport/ */
typedef struct scan_ctx {
	model *m;
	const sconf *cfg;              /* current configuration (reload swaps it) */
	sched_stats *st;               /* c_quarantined, c_failed */
	int scanning;                  /* the initial scan: "queued" lines only with freeze */
	int freeze;
	unsigned long files, added, bad;   /* control files seen, queued, quarantined */
	int early_done;                /* the early hook ran (initial scan) */
	scan_hooks hooks;
	const struct removal *rm;      /* messages still being removed (NULL: none) */
} scan_ctx;

/* scan_tree - transport/ and its hash directories (two levels of "A".."Z"):
 * every "<number>" is read (scan_file), every "<number>-etrn" run */
void scan_tree(scan_ctx *sc);
/* scan_file - read one control file (rel: "[X/[Y/]]<number>") into the
 * model.  1 when it was added (or is already there, or finished at once),
 * 0 when it must be read again later (read error, busy), -1 when it is
 * not a job (bad name, gone, quarantined) */
int scan_file(scan_ctx *sc, const char *rel);
/* scan_etrn - "<n>-etrn": its T lines go to the turnme hook, then it is
 * removed (a bad one is quarantined) */
void scan_etrn(scan_ctx *sc, const char *rel);
/* scan_is_etrn - "<digits>-etrn" */
int scan_is_etrn(const char *name);

/* sched_host_check - may this control-file host reach an agent (argv
 * word or job line)?  The RFC 5321 host grammar (mhost_parse: a domain
 * or an address literal, never starting with '-', no blank, control
 * byte, port or "UNIX:"), or exactly "-" (ZMailer's "no host", e.g. of
 * channel local).  On channel hold the host may also be a condition:
 * "CLASS:param", CLASS upper-case letters (so never an option), param
 * printable ASCII without blanks.  Z_OK, or Z_EPARSE with a reason. */
int sched_host_check(zspan channel, zspan host, zbuf *why);
/* rcpt_fail_at_scan - fail recipient r of a control file being read
 * (fd open read-write): 'd' line "failed 5.1.2 invalid host ...", tag
 * '-'.  Z_OK, or an error (logged; the caller retries the file later). */
int rcpt_fail_at_scan(scan_ctx *sc, int fd, const char *rel, const ctl_rcpt *r, const char *reason);

#endif
