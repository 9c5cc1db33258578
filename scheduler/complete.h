/*
 * complete.h - what happens to recipients and files in the spool when
 * they become final: control-file patching, d lines, expiry, delay
 * warnings, DSN submission, removal of finished files, statistics log.
 */
#ifndef ZMTA_SCHED_COMPLETE_H
#define ZMTA_SCHED_COMPLETE_H
#include "agents.h"
#include "model.h"
#include "taproto.h"
#include "ctlfile.h"

/* file_relpath - "<prefix><ino>" relative to transport/ */
void file_relpath(const sfile *f, char *buf, size_t bufsz);
/* file_spoolid - spool id for logs */
void file_spoolid(const sfile *f, char *buf, size_t bufsz);

/* rcpt_final - a final report (ok*, error*) for r of v; appends the d
 * line when the scheduler owes it, logs, counts, completes the file when
 * it was the last recipient.  May free f (returns 1 then). */
int rcpt_final(sfile *f, vertex *v, srcpt *r, enum ta_word w, zspan notary, zspan text);
/* rcpt_deferred - a temporary result: attempts+1 (persisted), text kept */
void rcpt_deferred(sfile *f, vertex *v, srcpt *r, zspan notary, zspan text, int count);
/* rcpt_settle - a fed recipient the agent never reported: look at its
 * tag in the file: '+'/'-' -> final; '~' -> reset to ' ' and defer with
 * why.  May free f (returns 1 then). */
int rcpt_settle(sfile *f, vertex *v, srcpt *r, pid_t pid, const char *why);
/* vertex_release - v has no recipient in flight: leave the agent */
void vertex_release(vertex *v);

/* vertex_expire - expire every pending recipient of v (d line, tag '-');
 * may free the file (returns 1 then) */
int vertex_expire(vertex *v, int hard);
/* vertex_delay_warn - send a delay DSN for recipients asking NOTIFY=DELAY */
void vertex_delay_warn(vertex *v);
/* vertex_age_check - expire v (as retry_expiry_check decides with
 * next_wakeup) or send its delay warning when due; 1 if the file was freed */
int vertex_age_check(vertex *v, time_t now, time_t next_wakeup);

/* file_complete - all recipients final: DSN, then unlink control file
 * and body.  Frees f on success (returns 1); 0 when it must be retried
 * later (e.g. disk full while submitting the report). */
int file_complete(sfile *f);

/* removal_flush - finish the removals of completed messages: sync the
 * transport/ directories once, then remove the bodies and sync queue/
 * (group commit; called by the event loop and before exit) */
void removal_flush(void);
/* file_kill - KILL MSG: drop the message without a report (quarantined
 * into postman/ as "<ino>.killed") */
int file_kill(sfile *f);
/* complete_interim_reports - report final results of messages that still
 * have queued recipients (PARAMglobal-report-interval) */
void complete_interim_reports(void);
/* complete_retry_pending - retry completions that failed earlier */
void complete_retry_pending(void);

/* sched_host_check - may this control-file host reach an agent (argv
 * word or job line)?  The RFC 5321 host grammar (mhost_parse: a domain
 * or an address literal, never starting with '-', no blank, control
 * byte, port or "UNIX:"), or exactly "-" (ZMailer's "no host", e.g. of
 * channel local).  Z_OK, or Z_EPARSE with a reason in why. */
int sched_host_check(zspan host, zbuf *why);
/* rcpt_fail_at_scan - fail recipient r of a control file being read
 * (fd open read-write): 'd' line "failed 5.1.2 invalid host ...", tag
 * '-'.  Z_OK, or an error (logged; the caller retries the file later). */
int rcpt_fail_at_scan(int fd, const char *rel, const ctl_rcpt *r, const char *reason);

/* statlog - one statistics line */
void statlog(const sfile *f, const vertex *v, const char *state);

#endif
