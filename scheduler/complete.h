/*
 * complete.h - what happens to recipients and files in the spool when
 * they become final: control-file patching, d lines, expiry, delay
 * warnings, DSN submission, removal of finished files, statistics log.
 */
#ifndef ZMTA_SCHED_COMPLETE_H
#define ZMTA_SCHED_COMPLETE_H
#include <sys/types.h>
#include "ctlfile.h"
#include "model.h"
#include "removal.h"
#include "sconf.h"
#include "stats.h"
#include "taproto.h"

/* what completion tells its owner (the agent pool): the last pending
 * recipient of v became final (or its file left the model) and v was
 * unlinked from thread t; the owner takes v off its agent's outstanding
 * list and lets t close its round or go (NULL: nobody to tell) */
typedef struct complete_hooks {
	void (*vertex_left)(void *arg, vertex *v, thread *t);
	void *arg;
} complete_hooks;

/* complete_ctx - everything completion works on, owned by the daemon */
typedef struct complete_ctx {
	model *m;
	const sconf *cfg;              /* current configuration (reload swaps it) */
	const char *postoffice;        /* where reports are submitted */
	const char *hostname;          /* Reporting-MTA of reports */
	int statfd;                    /* -l statistics log, -1 none */
	sched_stats *st;
	removal *rm;                   /* bodies wait here for the group commit */
	complete_hooks hooks;
	/* completions that failed (disk full...) and wait for a retry */
	sfile **pend;
	size_t npend, pendcap;
	/* statistics lines of this round, written by statlog_flush */
	char *statbuf;
	size_t nstat;
} complete_ctx;

/* complete_free - release what the context allocated */
void complete_free(complete_ctx *cc);

/* rcpt_final - a final report (ok*, error*) for r of v; appends the d
 * line when the scheduler owes it, logs, counts, completes the file when
 * it was the last recipient.  May free f (returns 1 then). */
int rcpt_final(complete_ctx *cc, sfile *f, vertex *v, srcpt *r, enum ta_word w, zspan notary, zspan text);
/* rcpt_deferred - a temporary result: attempts+1 (persisted), text kept */
void rcpt_deferred(complete_ctx *cc, sfile *f, vertex *v, srcpt *r, zspan notary, zspan text, int count);
/* rcpt_settle - a fed recipient the agent never reported: look at its
 * tag in the file: '+'/'-' -> final; '~' -> reset to ' ' and defer with
 * why.  May free f (returns 1 then). */
int rcpt_settle(complete_ctx *cc, sfile *f, vertex *v, srcpt *r, pid_t pid, const char *why);

/* vertex_expire - expire every pending recipient of v (d line, tag '-');
 * may free the file (returns 1 then) */
int vertex_expire(complete_ctx *cc, vertex *v, int hard);
/* vertex_delay_warn - send a delay DSN for recipients asking NOTIFY=DELAY */
void vertex_delay_warn(complete_ctx *cc, vertex *v);
/* vertex_age_check - expire v (as retry_expiry_check decides with
 * next_wakeup) or send its delay warning when due; 1 if the file was freed */
int vertex_age_check(complete_ctx *cc, vertex *v, time_t now, time_t next_wakeup);

/* file_complete - all recipients final: DSN, then unlink control file
 * and body.  Frees f on success (returns 1); 0 when it must be retried
 * later (e.g. disk full while submitting the report). */
int file_complete(complete_ctx *cc, sfile *f);

/* file_kill - KILL MSG: drop the message without a report (quarantined
 * into postman/ as "<ino>.killed") */
int file_kill(complete_ctx *cc, sfile *f);
/* complete_interim_reports - report final results of messages that still
 * have queued recipients (PARAMglobal-report-interval) */
void complete_interim_reports(complete_ctx *cc);
/* complete_retry_pending - retry completions that failed earlier */
void complete_retry_pending(complete_ctx *cc);

/* statlog - one statistics line (held until statlog_flush; written at
 * once when there is no memory for the buffer) */
void statlog(complete_ctx *cc, const sfile *f, const vertex *v, const char *state);
/* statlog_flush - write the held statistics lines with one write (the
 * event loop calls it before it waits; also before the file is reopened
 * and at exit) */
void statlog_flush(complete_ctx *cc);

#endif
