/*
 * NAME
 *	complete.c - final recipients, expiry, delay warnings, DSN submission
 *	and removal of finished messages
 * SUMMARY
 *	Everything the scheduler writes into the spool: the attempt counter
 *	in the DELAY slot of 'r' lines, scheduler-side 'd' lines, the '-' tag
 *	of expired recipients, report messages (through the normal submission
 *	path into router/), and at the end the removal of the control file
 *	and then the body.
 * SYNOPSIS
 *	rcpt_final, rcpt_deferred, rcpt_settle, vertex_expire,
 *	vertex_delay_warn, vertex_age_check, file_complete, file_kill, complete_interim_reports,
 *	complete_retry_pending, complete_free, statlog, statlog_flush
 * DESCRIPTION
 *	Everything works on a complete_ctx the daemon owns (model,
 *	configuration, counters, removal batch).  Completion knows nothing
 *	of agents: when a vertex has no pending recipient left (or its file
 *	leaves the model) it calls the vertex_left hook its owner gave it,
 *	and the agent pool takes the vertex off its agent and settles the
 *	thread.  Which 'd' lines are reported and the submission of a
 *	report are report.c's; removal of finished messages is removal.c's
 *	(off the event loop, in batches).
 *	Attempts: bytes off+8..off+11 of an 'r' line (the DELAY slot, never
 *	touched by agents) hold "%4d" of attempts + 5000 when the delay
 *	warning was sent.  Read back at start-up so expiry still happens on
 *	time after a restart.
 *	Completion: unreported 'd' lines (tag ' ') are turned into one RFC
 *	3464 report (report.h, dsn.h) for the NOTIFY-allowed entries (default FAILURE);
 *	null-sender originals give a double fault to postmaster (failed
 *	entries only); our own reports are never reported on.  The report is
 *	submitted into router/; then the d tags become '+' and the message
 *	goes to the removal worker (removal.c: the control file is unlinked,
 *	its directory fsynced, then the body goes).  A failed submission
 *	(disk full) keeps the message and is retried every few seconds.
 *	A message with nothing to report (no unreported 'd' line when it was
 *	scanned, every report since "ok3", no deferral, expiry, warning or
 *	lost agent: sfile.quick) is not read again at completion: it goes
 *	straight to removal.
 * DIAGNOSTICS
 *	Log lines carry the spool id.  Statistics lines (statlog) are held
 *	and written once per event-loop round (statlog_flush).
 * SECURITY
 *	Control files are re-read with the strict parser; offsets reported
 *	by agents are only used after matching the model.  Slot writes check
 *	that the bytes being replaced are a DELAY slot.  The body opened for
 *	reports and removed at completion is always queue/<prefix><ino> (the
 *	message's own id), never what the 'i' line says.  Settling a lost
 *	agent clears only locks holding its pid; expiry tags a recipient '-'
 *	even under a foreign lock.  A read error at completion is retried,
 *	only a parse error quarantines.
 * BUGS
 *	One report per message uses the first recipient's sender ('s' line).
 * SEE ALSO
 *	scheduler(8), zmta-spool(5), report.h, dsn.h, removal.h
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "complete.h"
#include "ctlfile.h"
#include "dsn.h"
#include "report.h"
#include "spool.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

static zspan text_tail(zspan t);

/* statistics lines held per event-loop round (whole lines, one write) */
#define STATLOG_HOLD (32u * 1024u)


/* open_ctl - the control file, read-write, no symlink in any component;
 * -1 with errno set on failure */
static int open_ctl(const sfile *f)
{
	char rel[32];
	int fd;

	file_relpath(f, rel, sizeof rel);
	fd = spool_open_in_tree(AT_FDCWD, rel, O_RDWR, NULL);
	return fd < 0 ? -1 : fd;
}

/* rctx - what the report module needs from the completion context */
static const report_ctx *rctx(const complete_ctx *cc, report_ctx *buf)
{
	buf->cfg = cc->cfg;
	buf->postoffice = cc->postoffice;
	buf->hostname = cc->hostname;
	buf->st = cc->st;
	return buf;
}

/* statlog - "<spoolid> <dt1> <dt2> <state> <channel>/<host>" */
void statlog(complete_ctx *cc, const sfile *f, const vertex *v, const char *state)
{
	if (cc->statfd < 0)
		return;
	char id[SPOOL_ID_MAX], line[600];
	file_spoolid(f, id, sizeof id);
	time_t now = time(NULL);
	int n = snprintf(line, sizeof line, "%s %ld %ld %s %s/%s\n", id,
			 (long)(f->ctime - f->arrival), (long)(now - f->ctime), state,
			 v && v->thr ? v->thr->channel->s : "-", v && v->thr ? v->thr->host->s : "-");
	if (n <= 0 || (size_t)n >= sizeof line)
		return;
	if (cc->statbuf == NULL)
		cc->statbuf = malloc(STATLOG_HOLD);
	if (cc->statbuf == NULL) {
		(void)zwrite_all(cc->statfd, line, (size_t)n);
		return;
	}
	if (cc->nstat + (size_t)n > STATLOG_HOLD)
		statlog_flush(cc);
	memcpy(cc->statbuf + cc->nstat, line, (size_t)n);
	cc->nstat += (size_t)n;
}

/* statlog_flush - see complete.h */
void statlog_flush(complete_ctx *cc)
{
	if (cc->nstat > 0 && cc->statfd >= 0)
		(void)zwrite_all(cc->statfd, cc->statbuf, cc->nstat);
	cc->nstat = 0;
}

/* persist_slot - attempts (+5000 when warned) into the DELAY slot */
static void persist_slot(int fd, const srcpt *r)
{
	char cur[12];
	if (pread(fd, cur, sizeof cur, r->off) != (ssize_t)sizeof cur || cur[0] != 'r')
		return;
	for (int i = 8; i < 12; i++)
		if (cur[i] != ' ' && (cur[i] < '0' || cur[i] > '9'))
			return;   /* old file without slots: keep memory only */
	unsigned val = r->attempts > 4999 ? 4999 : r->attempts;
	if (r->flags & RF_WARNED)
		val += 5000;
	char slot[8];
	snprintf(slot, sizeof slot, "%4u", val);
	if (pwrite(fd, slot, 4, (off_t)r->off + 8) != 4)
		zlog_warn(NULL, "cannot record attempts: %s", strerror(errno));
}

/* pend_add - remember a file whose completion must be retried */
static void pend_add(complete_ctx *cc, sfile *f)
{
	for (size_t i = 0; i < cc->npend; i++)
		if (cc->pend[i] == f)
			return;
	if (cc->npend == cc->pendcap) {
		size_t nc = cc->pendcap ? cc->pendcap * 2 : 16;
		sfile **np = realloc(cc->pend, nc * sizeof *np);
		if (np == NULL)
			return;
		cc->pend = np;
		cc->pendcap = nc;
	}
	cc->pend[cc->npend++] = f;
}

/* pend_del - forget f */
static void pend_del(complete_ctx *cc, sfile *f)
{
	for (size_t i = 0; i < cc->npend; i++)
		if (cc->pend[i] == f) {
			cc->pend[i] = cc->pend[--cc->npend];
			return;
		}
}

/* rcpt_done - bookkeeping of a recipient that became final; 1 if f freed */
static int rcpt_done(complete_ctx *cc, sfile *f, vertex *v, srcpt *r, const char *state)
{
	if (r->state == RS_DONE)
		return 0;
	r->state = RS_DONE;
	statlog(cc, f, v, state);
	if (v->npending)
		v->npending--;
	if (f->npending)
		f->npending--;
	if (cc->m->nrcpt)
		cc->m->nrcpt--;
	if (v->thr && v->thr->nrcpt)
		v->thr->nrcpt--;
	if (v->npending == 0) {
		thread *t = v->thr;
		thread_unlink_vertex(v);
		if (cc->hooks.vertex_left != NULL)
			cc->hooks.vertex_left(cc->hooks.arg, v, t);
	}
	if (f->npending == 0)
		return file_complete(cc, f);
	return 0;
}

/* append_diag - scheduler-side d line */
static int append_diag(int fd, const srcpt *r, const char *notary, const char *text, zbuf *err)
{
	char clean[TAPROTO_LINE_MAX];
	size_t n = strlen(notary);
	if (n >= sizeof clean)
		n = sizeof clean - 1;
	for (size_t i = 0; i < n; i++)
		clean[i] = (notary[i] == '\r' || notary[i] == '\n' || notary[i] == '\t') ? ' ' : notary[i];
	clean[n] = '\0';
	ctl_diagv d = { .rcpt_off = (long)r->off, .hdr_off = -1, .dsn_off = -1,
			.when = (long long)time(NULL), .notary = clean, .text = text };
	return ctl_append_diag(fd, &d, err);
}

/* rcpt_final - see complete.h */
int rcpt_final(complete_ctx *cc, sfile *f, vertex *v, srcpt *r, enum ta_word w, zspan notary, zspan text)
{
	char id[SPOOL_ID_MAX];
	file_spoolid(f, id, sizeof id);
	int owe_d = (w == TA_ERROR) || (w == TA_OK && (r->flags & RF_SUCCESS));
	if (w != TA_OK3)
		f->quick = 0;	/* a 'd' line may wait: completion reads the file */
	if (w == TA_ERROR || w == TA_ERROR2 || w == TA_OK2 || owe_d)
		f->haderror = 1;
	if (owe_d) {
		char nbuf[TAPROTO_LINE_MAX], tbuf[TAPROTO_LINE_MAX];
		report_span_cstr(text, tbuf, sizeof tbuf);
		if (notary.n)
			report_span_cstr(notary, nbuf, sizeof nbuf);
		else {
			int k = snprintf(nbuf, sizeof nbuf, "\003\001%s\001%s\001X-Zmta; %.4000s",
					 w == TA_ERROR ? "failed" : "delivered",
					 w == TA_ERROR ? "5.0.0" : "2.0.0", tbuf);
			if (k < 0)
				nbuf[0] = '\0';
		}
		zbuf err = ZBUF_INIT(512);
		int fd = open_ctl(f);
		if (fd < 0 || append_diag(fd, r, nbuf, tbuf, &err) != Z_OK)
			zlog_error(id, "cannot append diagnostic for offset %u: %s", r->off,
				   fd < 0 ? strerror(errno) : zbuf_cstr(&err));
		if (fd >= 0)
			close(fd);
		zbuf_free(&err);
	}
	if (w == TA_OK || w == TA_OK2 || w == TA_OK3)
		cc->st->c_delivered++;
	else
		cc->st->c_failed++;
	{
		zspan last = text_tail(text);
		zlog_info(id, "%s/%s offset %u: %s %.*s", v->thr ? v->thr->channel->s : "-",
			  v->thr ? v->thr->host->s : "-", r->off, ta_word_name(w),
			  (int)(last.n > 300 ? 300 : last.n), last.p ? last.p : "");
	}
	return rcpt_done(cc, f, v, r, ta_word_name(w));
}

/* text_tail - the last line of a diagnostic text (CR separates lines):
 * for the log, the remote's final answer says more than the transcript */
static zspan text_tail(zspan t)
{
	size_t end = t.n, i;

	while (end > 0 && (t.p[end - 1] == '\r' || t.p[end - 1] == '\n'))
		end--;
	i = end;
	while (i > 0 && t.p[i - 1] != '\r' && t.p[i - 1] != '\n')
		i--;
	return (zspan){ t.p ? t.p + i : NULL, end - i };
}

/* rcpt_deferred - see complete.h */
void rcpt_deferred(complete_ctx *cc, sfile *f, vertex *v, srcpt *r, zspan notary, zspan text, int count)
{
	r->state = RS_PENDING;
	f->quick = 0;
	if (v->thr)
		v->thr->deferred = 1;
	if (count) {
		if (r->attempts < 60000)
			r->attempts++;
		if (v->attempts < 60000)
			v->attempts++;
		int fd = open_ctl(f);
		if (fd >= 0) {
			persist_slot(fd, r);
			close(fd);
		}
	}
	cc->st->c_deferred++;
	if (notary.n > 600)
		notary.n = 600;
	if (text.n > 400)
		text.n = 400;
	size_t n = notary.n + 1 + text.n + 1;
	char *d = malloc(n);
	if (d) {
		memcpy(d, notary.p ? notary.p : "", notary.n);
		d[notary.n] = '\t';
		memcpy(d + notary.n + 1, text.p ? text.p : "", text.n);
		d[n - 1] = '\0';
		free(v->lastdiag);
		v->lastdiag = d;
	}
	char id[SPOOL_ID_MAX];
	file_spoolid(f, id, sizeof id);
	zspan last = text_tail(text);
	zlog_info(id, "%s/%s offset %u: deferred (attempt %u) %.*s",
		  v->thr ? v->thr->channel->s : "-", v->thr ? v->thr->host->s : "-", r->off,
		  r->attempts, (int)(last.n > 300 ? 300 : last.n), last.p ? last.p : "");
}

/* rcpt_settle - see complete.h */
int rcpt_settle(complete_ctx *cc, sfile *f, vertex *v, srcpt *r, pid_t pid, const char *why)
{
	char cur[8];
	int fd = open_ctl(f);
	char tag = ' ';
	if (fd >= 0 && pread(fd, cur, sizeof cur, r->off) == (ssize_t)sizeof cur && cur[0] == 'r')
		tag = cur[1];
	zspan t = zspan_from(why);
	f->quick = 0;	/* the lost agent may have written a 'd' line */
	if (tag == '+' || tag == '-') {
		if (fd >= 0)
			close(fd);
		return rcpt_final(cc, f, v, r, tag == '+' ? TA_OK3 : TA_ERROR, ZSPAN_NULL,
				  zspan_from(tag == '+' ? "delivered (found in the control file after the agent was lost)"
					     : "failed (found in the control file after the agent was lost)"));
	}
	if (tag == '~' && fd >= 0) {
		/* only this agent's own lock is cleared (pid checked under the
		 * range lock); a lock of any other process stays, and expiry
		 * still applies to the recipient (vertex_expire) */
		zbuf err = ZBUF_INIT(256);
		int lrc = ctl_lock(fd, r->off, '~', ' ', pid > 0 ? (int)pid : 0, &err);
		if (lrc != Z_OK)
			zlog_warn(NULL, "lock at %u not cleared: %s", r->off, zbuf_cstr(&err));
		zbuf_free(&err);
	}
	if (fd >= 0)
		close(fd);
	rcpt_deferred(cc, f, v, r, ZSPAN_NULL, t, 1);
	return 0;
}

/* vertex_expire - see complete.h */
int vertex_expire(complete_ctx *cc, vertex *v, int hard)
{
	sfile *f = v->file;
	char id[SPOOL_ID_MAX], age[64], status[64], diag[1024], remote[512], last[2048];
	char notary[2048], text[4096];
	file_spoolid(f, id, sizeof id);
	time_t now = time(NULL);
	if (retry_format_age((long)(now - f->arrival), age, sizeof age) != Z_OK)
		snprintf(age, sizeof age, "%ld seconds", (long)(now - f->arrival));
	report_lastdiag(v->lastdiag, status, sizeof status, diag, sizeof diag, remote,
		       sizeof remote, last, sizeof last);
	for (char *p = diag; *p; p++)
		if (*p == '\001') *p = ' ';
	if (diag[0] == '\0')
		snprintf(diag, sizeof diag, "X-Zmta; expired after %s", age);
	snprintf(notary, sizeof notary, "\003\001failed\0014.4.7\001%s\001%s", diag, remote);
	snprintf(text, sizeof text, "expired after %s%s%s", age,
		 last[0] ? "; problem was: " : (v->attempts ? "" : " without a delivery attempt"),
		 last);
	zlog_info(id, "%s/%s: %s expiry: %s", v->thr ? v->thr->channel->s : "-",
		  v->thr ? v->thr->host->s : "-", hard ? "hard" : "soft", text);
	int fd = open_ctl(f);
	if (fd < 0) {
		zlog_error(id, "expiry: cannot open control file: %s", strerror(errno));
		return 0;
	}
	f->haderror = 1;
	f->quick = 0;
	int freed = 0;
	for (uint32_t i = 0; !freed && i < v->nrcpt; i++) {
		srcpt *r = &v->r[i];
		if (r->state != RS_PENDING)
			continue;
		zbuf err = ZBUF_INIT(512);
		if (append_diag(fd, r, notary, text, &err) != Z_OK) {
			zlog_error(id, "expiry: cannot append diagnostic (%s); will retry",
				   zbuf_cstr(&err));
			zbuf_free(&err);
			break;
		}
		zbuf_reset(&err);
		int lrc = ctl_lock(fd, r->off, ' ', '-', 0, &err);
		if (lrc == Z_ESTALE) {
			/* a lock left by a process that is not our agent: expiry
			 * applies all the same */
			zbuf_reset(&err);
			lrc = ctl_lock(fd, r->off, '~', '-', 0, &err);
		}
		if (lrc != Z_OK)
			zlog_warn(id, "expiry: tag at %u: %s", r->off, zbuf_cstr(&err));
		zbuf_free(&err);
		cc->st->c_expired++;
		cc->st->c_failed++;
		freed = rcpt_done(cc, f, v, r, "expire");
	}
	if (fd >= 0)
		close(fd);
	return freed;
}

/* vertex_age_check - see complete.h */
int vertex_age_check(complete_ctx *cc, vertex *v, time_t now, time_t next_wakeup)
{
	enum retry_expiry e = retry_expiry_check(v->thr->clause, v->file->arrival, v->attempts,
						 now, next_wakeup);
	if (e != RETRY_KEEP)
		return vertex_expire(cc, v, e == RETRY_EXPIRE_HARD);
	if (!v->warned && cc->cfg->delay_warning > 0 &&
	    retry_delay_warning_due(cc->cfg->delay_warning, v->file->arrival, 0, now))
		vertex_delay_warn(cc, v);
	return 0;
}

/* vertex_delay_warn - see complete.h */
void vertex_delay_warn(complete_ctx *cc, vertex *v)
{
	report_ctx rcx;
	sfile *f = v->file;
	char id[SPOOL_ID_MAX];
	file_spoolid(f, id, sizeof id);
	v->warned = 1;
	int want = 0;
	for (uint32_t i = 0; i < v->nrcpt; i++)
		if (v->r[i].state != RS_DONE && (v->r[i].flags & RF_DELAY) && !(v->r[i].flags & RF_WARNED))
			want = 1;
	if (!want)
		return;
	f->quick = 0;
	int fd = open_ctl(f);
	if (fd < 0)
		return;
	ctl_file cf;
	zbuf err = ZBUF_INIT(512);
	report_strs sv = { 0 };
	dsn_rcpt *dr = calloc(v->nrcpt, sizeof *dr);
	size_t n = 0;
	const ctl_rcpt *first = NULL;
	char qpath[256];
	int qfd = -1;
	if (dr == NULL || ctl_read(fd, 0, &cf, &err) != Z_OK) {
		zlog_warn(id, "delay warning: cannot read control file: %s", zbuf_cstr(&err));
		if (dr)
			ctl_free(&cf);
		goto out;
	}
	char status[64], diag[1024], remote[512], last[2048];
	report_lastdiag(v->lastdiag, status, sizeof status, diag, sizeof diag, remote,
		       sizeof remote, last, sizeof last);
	time_t until = retry_expiry_time(v->thr ? v->thr->clause : cc->cfg->defaults, f->arrival);
	for (uint32_t i = 0; i < v->nrcpt; i++) {
		srcpt *r = &v->r[i];
		if (r->state == RS_DONE || !(r->flags & RF_DELAY) || (r->flags & RF_WARNED))
			continue;
		const ctl_rcpt *cr = ctl_find_rcpt(&cf, r->off);
		if (cr == NULL)
			continue;
		if (first == NULL)
			first = cr;
		dsn_rcpt *d = &dr[n++];
		d->addr = report_rcpt_addr(&sv, cr);
		d->orcpt = report_strs_span(&sv, cr->orcpt);
		d->action = DSN_DELAYED;
		d->status = status[0] == '4' ? report_strs_add(&sv, strdup(status)) : "4.0.0";
		d->remote_mta = remote[0] ? report_strs_add(&sv, strdup(remote)) : NULL;
		d->diagnostic = diag[0] ? report_strs_add(&sv, strdup(diag)) : NULL;
		d->text = last[0] ? report_strs_add(&sv, strdup(last)) : NULL;
		d->last_attempt = v->lastfeed;
		d->will_retry_until = until;
		r->flags |= RF_WARNED;
		persist_slot(fd, r);
	}
	if (n) {
		qfd = report_open_body(f, qpath, sizeof qpath);
		(void)report_submit(rctx(cc, &rcx), f, &cf, qfd, dr, n, first, id);
	}
	ctl_free(&cf);
out:
	if (qfd >= 0)
		close(qfd);
	close(fd);
	free(dr);
	report_strs_free(&sv);
	zbuf_free(&err);
}

/* drop_model - remove f from the model (vertices must be idle) */
static void drop_model(complete_ctx *cc, sfile *f)
{
	for (vertex *v = f->vertices; v; v = v->fnext) {
		thread *t = v->thr;
		if (t && t->nrcpt >= v->npending)
			t->nrcpt -= v->npending;
		if (cc->m->nrcpt >= v->npending)
			cc->m->nrcpt -= v->npending;
		v->npending = 0;
		thread_unlink_vertex(v);
		if (cc->hooks.vertex_left != NULL)
			cc->hooks.vertex_left(cc->hooks.arg, v, t);
	}
	pend_del(cc, f);
	model_file_remove(cc->m, f);
}

/* file_interim_report - report what is final while other recipients of
 * the message are still queued (PARAMglobal-report-interval) */
static void file_interim_report(complete_ctx *cc, sfile *f)
{
	report_ctx rcx;
	char id[SPOOL_ID_MAX], qpath[256];
	file_spoolid(f, id, sizeof id);
	int fd = open_ctl(f), qfd = -1;
	if (fd < 0)
		return;
	ctl_file cf;
	zbuf err = ZBUF_INIT(512);
	report_strs sv = { 0 };
	dsn_rcpt *dr = NULL;
	if (ctl_read(fd, 0, &cf, &err) != Z_OK) {
		zlog_warn(id, "interim report: %s", zbuf_cstr(&err));
		ctl_free(&cf);
		goto out;
	}
	dr = calloc(cf.ndiags ? cf.ndiags : 1, sizeof *dr);
	if (dr != NULL) {
		const ctl_rcpt *first = NULL;
		size_t n = report_collect(&cf, &sv, dr, &first);
		int s = Z_ENOENT;
		if (n) {
			qfd = report_open_body(f, qpath, sizeof qpath);
			s = report_submit(rctx(cc, &rcx), f, &cf, qfd, dr, n, first, id);
		}
		if (s == Z_OK || s == Z_ENOENT || s == Z_EAGAIN) {
			for (size_t i = 0; i < cf.ndiags; i++)
				if (cf.diags[i].tag == ' ')
					(void)ctl_set_tag(fd, cf.diags[i].off, ' ', '+');
			f->haderror = 0;
			if (n)
				zlog_info(id, "interim report sent; %u recipient%s still queued",
					  f->npending, f->npending == 1 ? "" : "s");
		}
	}
	ctl_free(&cf);
out:
	if (qfd >= 0)
		close(qfd);
	close(fd);
	free(dr);
	report_strs_free(&sv);
	zbuf_free(&err);
}

/* complete_interim_reports - every PARAMglobal-report-interval */
void complete_interim_reports(complete_ctx *cc)
{
	for (size_t i = 0; i < cc->m->fcap; i++)
		for (sfile *f = cc->m->ftab[i]; f; f = f->hnext)
			if (f->haderror && f->npending > 0)
				file_interim_report(cc, f);
}

/* file_to_removal - a completed message goes to the removal worker
 * (control file, directory fsync, then the body, whose name is known
 * from the model: no open just to find it) and leaves the model */
static void file_to_removal(complete_ctx *cc, sfile *f, const char *id, const char *rel,
			    unsigned total, unsigned failed)
{
	char qpath[256];
	int k = snprintf(qpath, sizeof qpath, "../queue/%s%lu", f->prefix, f->ino);
	removal_add(cc->rm, f->ino, f->prefix, rel,
		    (k > 0 && (size_t)k < sizeof qpath) ? qpath : NULL, id);
	zlog_info(id, "complete (total %u recipient%s, %u failed)", total, total == 1 ? "" : "s", failed);
	drop_model(cc, f);
}

/* file_quarantine - f's control file and body to postman/ (tag, reason),
 * f out of the model; on failure the reason is logged ("what" first) and
 * the model kept: Z_OK or spool_quarantine's code */
static int file_quarantine(complete_ctx *cc, sfile *f, const char *id, const char *rel,
			   const char *what, const char *tag, const char *reason)
{
	char body[32];
	zbuf err = ZBUF_INIT(512);

	snprintf(body, sizeof body, "%lu", f->ino);
	int rc = spool_quarantine(NULL, rel, body, tag, reason, &err);
	if (rc == Z_OK)
		drop_model(cc, f);
	else
		zlog_error(id, "%s%s", what, zbuf_cstr(&err));
	zbuf_free(&err);
	return rc;
}

/* file_complete - see complete.h */
int file_complete(complete_ctx *cc, sfile *f)
{
	report_ctx rcx;
	char id[SPOOL_ID_MAX], rel[32], qpath[256];
	file_spoolid(f, id, sizeof id);
	file_relpath(f, rel, sizeof rel);
	if (f->quick && rel[0] != '\0') {
		/* nothing to report (no 'd' line waits, every report was
		 * "ok3"): no need to read the file again, it just goes */
		file_to_removal(cc, f, id, rel, f->nrcpt, f->nfail0);
		return 1;
	}
	int fd = open_ctl(f), qfd = -1, rc = 0;
	ctl_file cf;
	zbuf err = ZBUF_INIT(512);
	report_strs sv = { 0 };
	dsn_rcpt *dr = NULL;
	int parsed = 0;
	memset(&cf, 0, sizeof cf);
	if (fd < 0) {
		zlog_warn(id, "control file %s vanished: %s", rel, strerror(errno));
		drop_model(cc, f);
		return 1;
	}
	int rrc = ctl_read(fd, 0, &cf, &err);
	if (rrc != Z_OK && rrc != Z_EPARSE) {
		/* out of memory, I/O error: not the file's fault, try again */
		ctl_free(&cf);
		zlog_warn(id, "completion: cannot read %s now (%s); will retry", rel, zbuf_cstr(&err));
		pend_add(cc, f);
		goto out;
	}
	if (rrc != Z_OK) {
		ctl_free(&cf);
		zlog_error(id, "completion: cannot parse %s: %s", rel, zbuf_cstr(&err));
		close(fd);
		fd = -1;
		if (file_quarantine(cc, f, id, rel, "", "unreadable", "control file became unparseable") == Z_OK) {
			cc->st->c_quarantined++;
			rc = 1;
		} else {
			pend_add(cc, f);
		}
		goto out;
	}
	parsed = 1;
	unsigned total = (unsigned)cf.nrcpts, failed = 0;
	for (size_t i = 0; i < cf.nrcpts; i++)
		if (cf.rcpts[i].tag == '-')
			failed++;
	dr = calloc(cf.ndiags ? cf.ndiags : 1, sizeof *dr);
	if (dr == NULL) {
		pend_add(cc, f);
		goto out;
	}
	const ctl_rcpt *first = NULL;
	size_t n = report_collect(&cf, &sv, dr, &first);
	if (n) {
		qfd = report_open_body(f, qpath, sizeof qpath);
		int s = report_submit(rctx(cc, &rcx), f, &cf, qfd, dr, n, first, id);
		if (s == Z_EAGAIN) {
			/* a report about a report, kept on request */
			close(fd); fd = -1;
			if (file_quarantine(cc, f, id, rel, "", "error-on-error",
					    "delivery report about a delivery report") == Z_OK)
				rc = 1;
			else
				pend_add(cc, f);
			goto out;
		}
		if (s != Z_OK && s != Z_ENOENT) {
			zlog_error(id, "report not submitted; message kept, will retry");
			pend_add(cc, f);
			goto out;
		}
	}
	{
		int flipped = 0;
		for (size_t i = 0; i < cf.ndiags; i++)
			if (cf.diags[i].tag == ' ' &&
			    ctl_set_tag(fd, cf.diags[i].off, ' ', '+') == Z_OK)
				flipped = 1;
		/* the '+' marks must be on disk before the file may reappear
		 * after a crash, or its report would be sent twice */
		if (flipped && fsync(fd) != 0)
			zlog_warn(id, "fsync %s: %s", rel, strerror(errno));
	}
	/* the removal worker unlinks the control file, syncs its directory,
	 * then unlinks the body (removal.c); the body's name is known from
	 * the model: no open just to find it */
	file_to_removal(cc, f, id, rel, total, failed);
	rc = 1;
out:
	if (qfd >= 0)
		close(qfd);
	if (fd >= 0)
		close(fd);
	if (parsed)
		ctl_free(&cf);
	free(dr);
	report_strs_free(&sv);
	zbuf_free(&err);
	return rc;
}

/* file_kill - see complete.h */
int file_kill(complete_ctx *cc, sfile *f)
{
	char id[SPOOL_ID_MAX], rel[32];
	for (vertex *v = f->vertices; v; v = v->fnext)
		if (v->agent)
			return Z_EAGAIN;
	file_spoolid(f, id, sizeof id);
	file_relpath(f, rel, sizeof rel);
	/* postman/ names it after the control file's own inode */
	struct stat cst;
	unsigned long qino = lstat(rel, &cst) == 0 ? (unsigned long)cst.st_ino : f->ino;
	int rc = file_quarantine(cc, f, id, rel, "kill: ", "killed", "removed by mailq KILL MSG");
	if (rc != Z_OK)
		return rc;
	zlog_info(id, "killed by mailq (moved to postman/%lu.killed)", qino);
	return Z_OK;
}

/* complete_retry_pending - see complete.h */
void complete_retry_pending(complete_ctx *cc)
{
	size_t n = cc->npend;
	for (size_t i = 0; i < n && cc->npend > 0; i++) {
		sfile *f = cc->pend[0];
		cc->pend[0] = cc->pend[--cc->npend];
		(void)file_complete(cc, f);
	}
}

/* complete_free - see complete.h */
void complete_free(complete_ctx *cc)
{
	statlog_flush(cc);
	free(cc->statbuf);
	cc->statbuf = NULL;
	free(cc->pend);
	cc->pend = NULL;
	cc->npend = cc->pendcap = 0;
}
