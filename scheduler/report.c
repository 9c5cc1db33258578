/*
 * NAME
 *	report.c - delivery reports: what is reported, and the submission
 * SUMMARY
 *	Collects the 'd' lines a report is owed for, takes a stored
 *	deferral text apart for delay warnings and expiry, and renders
 *	(dsn.h) and submits a report into router/ through the normal
 *	submission path (submit.h).
 * SYNOPSIS
 *	report_collect, report_lastdiag, report_span_cstr, report_is_errormsg,
 *	report_open_body, report_submit, report_strs_add, report_strs_span,
 *	report_strs_free, report_rcpt_addr
 * DESCRIPTION
 *	A 'd' line is owed a report when its tag is ' ' and the NOTIFY of
 *	its recipient allows its action (default FAILURE); the action comes
 *	from the notary (a leading '_' is ignored) or else from the
 *	recipient's tag.  The disposition (dsn_disposition): null-sender
 *	originals give a double fault to postmaster (failed entries only),
 *	reports about reports are never sent (with
 *	PARAMstore-error-on-error the caller keeps the original in
 *	postman/).  Strings for dsn_rcpt entries are owned by a report_strs.
 *	Envelope lines (the original's, the report's) are walked with the
 *	cursor of lib/ (zcur in zbuf.h).
 * DIAGNOSTICS
 *	report_submit logs each failure (render, submission open, write,
 *	commit) and the created report with the spool id.
 * SECURITY
 *	Control files were parsed by the strict ctl parser; notary text from
 *	agents is parsed by dsn_notary_parse and copied bounded.  The body
 *	is always queue/<prefix><ino> of the message itself, opened
 *	O_NOFOLLOW, never what the 'i' line says.
 * BUGS
 *	One report per message uses the first recipient's sender ('s' line).
 * SEE ALSO
 *	scheduler(8), dsn.h, submit.h, complete.c, tests/unit/check_report.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "spool.h"
#include "submit.h"
#include "zerr.h"
#include "zlog.h"

/* report_span_cstr - see report.h */
void report_span_cstr(zspan s, char *buf, size_t bufsz)
{
	size_t n = s.n < bufsz - 1 ? s.n : bufsz - 1;
	for (size_t i = 0; i < n; i++) {
		char c = s.p[i];
		buf[i] = (c == '\t' || c == '\n') ? ' ' : c;
	}
	buf[n] = '\0';
}

/* remote_name - the notary's remote-MTA field without the "(ip|port)"
 * comment the agents add, for the Remote-MTA field of RFC 3464 */
static zspan remote_name(zspan r)
{
	for (size_t i = 0; i + 1 < r.n; i++)
		if (r.p[i] == ' ' && r.p[i + 1] == '(') {
			r.n = i;
			break;
		}
	return r;
}

/* report_lastdiag - see report.h */
void report_lastdiag(const char *ld, char *status, size_t ssz, char *diag, size_t dsz,
			   char *remote, size_t rsz, char *text, size_t tsz)
{
	status[0] = diag[0] = remote[0] = text[0] = '\0';
	if (ld == NULL)
		return;
	const char *tab = strchr(ld, '\t');
	zspan notary = { ld, tab ? (size_t)(tab - ld) : strlen(ld) };
	if (tab)
		report_span_cstr(zspan_from(tab + 1), text, tsz);
	dsn_notary dn;
	if (dsn_notary_parse(notary, &dn) == Z_OK) {
		report_span_cstr(dn.status, status, ssz);
		report_span_cstr(dn.diagnostic, diag, dsz);
		report_span_cstr(remote_name(dn.remote_mta), remote, rsz);
	}
	for (char *p = status; *p; p++)
		if (*p == ' ') { *p = '\0'; break; }
}

/* report_is_errormsg - does the original's envelope carry "errormsg"? */
int report_is_errormsg(int qfd, long body_off)
{
	char buf[8192];
	size_t lim = body_off > 0 && (size_t)body_off < sizeof buf - 1 ? (size_t)body_off : sizeof buf - 1;
	ssize_t n = pread(qfd, buf, lim, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	zcur c;
	zcur_init(&c, buf, strlen(buf));        /* a NUL byte ends the envelope */
	while (!zcur_eof(&c)) {
		zspan l;
		zcur lc;
		if (zcur_take_until(&c, '\n', &l) != Z_OK)
			zcur_take_rest(&c, &l);
		zcur_init(&lc, l.p, l.n);
		if (zcur_expect(&lc, "errormsg") == Z_OK && (zcur_eof(&lc) || zcur_peek(&lc) == ' '))
			return 1;
		zcur_init(&lc, l.p, l.n);
		if (zcur_expect(&lc, "env-end") == Z_OK)
			break;
	}
	return 0;
}

/* report_strs_add - keep s (may be NULL) and return it */
char *report_strs_add(report_strs *sv, char *s)
{
	if (s == NULL)
		return NULL;
	if (sv->n == sv->cap) {
		size_t nc = sv->cap ? sv->cap * 2 : 32;
		char **nv = realloc(sv->v, nc * sizeof *nv);
		if (nv == NULL) {
			free(s);
			return NULL;
		}
		sv->v = nv;
		sv->cap = nc;
	}
	sv->v[sv->n++] = s;
	return s;
}

/* report_strs_span - duplicate a span (NULL when empty) */
char *report_strs_span(report_strs *sv, zspan s)
{
	if (s.n == 0)
		return NULL;
	return report_strs_add(sv, zspan_dup(s));
}

/* report_strs_free - free all */
void report_strs_free(report_strs *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof *sv);
}

/* report_rcpt_addr - unquoted user of a recipient */
char *report_rcpt_addr(report_strs *sv, const ctl_rcpt *cr)
{
	zbuf b = ZBUF_INIT(2048);
	char *s = NULL;
	if (ctl_unquote_user(cr->quad.user, &b) == Z_OK)
		s = strdup(zbuf_cstr(&b));
	else
		s = zspan_dup(cr->quad.user);
	zbuf_free(&b);
	return report_strs_add(sv, s);
}

/* report_submit - render and submit one report; Z_OK, Z_ENOENT when
 * nothing is to be sent, else an error */
int report_submit(const report_ctx *rx, const sfile *f, const ctl_file *cf, int qfd, dsn_rcpt *dr, size_t n,
			 const ctl_rcpt *first, const char *id)
{
	report_strs sv = { 0 };
	int rc = Z_ENOENT;
	zbuf env = ZBUF_INIT(DSN_ENV_MAX), msg = ZBUF_INIT(DSN_MSG_MAX), err = ZBUF_INIT(1024);
	const ctl_sender *snd = first && first->sender < cf->nsenders ? &cf->senders[first->sender] : NULL;
	int errchan = snd == NULL || zspan_caseeq(snd->quad.channel, "error");
	char *erraddr = NULL;
	if (snd && !errchan) {
		zbuf b = ZBUF_INIT(2048);
		if (ctl_unquote_user(snd->quad.user, &b) == Z_OK)
			erraddr = report_strs_add(&sv, strdup(zbuf_cstr(&b)));
		zbuf_free(&b);
	}
	int errmsg = qfd >= 0 ? report_is_errormsg(qfd, cf->body_off) : 0;
	enum dsn_disp disp = dsn_disposition(erraddr ? erraddr : "", errchan, errmsg);
	if (disp == DSN_DISCARD) {
		zlog_info(id, "no report: the message was itself a report");
		if (rx->cfg->store_error_on_error)
			rc = Z_EAGAIN;  /* caller keeps it in postman/ */
		goto out;
	}
	size_t keep = n;
	if (disp == DSN_TO_POSTMASTER) {
		keep = 0;
		for (size_t i = 0; i < n; i++)
			if (dr[i].action == DSN_FAILED)
				dr[keep++] = dr[i];
	}
	if (keep == 0)
		goto out;
	dsn_report rep;
	memset(&rep, 0, sizeof rep);
	rep.reporting_host = rx->hostname;
	rep.to = disp == DSN_TO_POSTMASTER ? "postmaster" : erraddr;
	rep.envid = first ? report_strs_span(&sv, first->envid) : NULL;
	rep.spoolid = id;
	rep.arrival = f->arrival;
	rep.now = time(NULL);
	rep.ret = DSN_RET_DEFAULT;
	if (first && zspan_caseeq(first->ret, "HDRS"))
		rep.ret = DSN_RET_HDRS;
	else if (first && zspan_caseeq(first->ret, "FULL"))
		rep.ret = DSN_RET_FULL;
	rep.double_fault = disp == DSN_TO_POSTMASTER;
	if (first && first->hdr_off >= 0 && (size_t)first->hdr_off + first->hdr_len <= cf->len)
		rep.headers = (zspan){ cf->data + first->hdr_off, first->hdr_len };
	rep.body_fd = -1;
	if (qfd >= 0 && cf->body_off >= 0) {
		struct stat st;
		if (fstat(qfd, &st) == 0 && st.st_size >= cf->body_off) {
			rep.body_fd = qfd;
			rep.body_off = cf->body_off;
			rep.body_len = (size_t)(st.st_size - cf->body_off);
		}
	}
	rep.rcpts = dr;
	rep.nrcpts = keep;
	rc = dsn_render(&rep, &env, &msg, &err);
	if (rc != Z_OK) {
		zlog_error(id, "cannot render report: %s", zbuf_cstr(&err));
		goto out;
	}
	submit s;
	if ((rc = submit_open(&s, rx->postoffice, &err)) != Z_OK) {
		zlog_error(id, "cannot submit report: %s", zbuf_cstr(&err));
		goto out;
	}
	zcur ec;
	zcur_init(&ec, env.data ? env.data : "", env.data ? env.len : 0);
	while (!zcur_eof(&ec)) {
		zspan l;
		char line[DSN_ENV_MAX];
		if (zcur_take_until(&ec, '\n', &l) != Z_OK)
			zcur_take_rest(&ec, &l);
		if (l.n >= sizeof line)
			l.n = sizeof line - 1;
		memcpy(line, l.p, l.n);
		line[l.n] = '\0';
		char *sp = strchr(line, ' ');
		if (sp)
			*sp++ = '\0';
		if (line[0] && submit_env(&s, line, sp) != Z_OK)
			rc = Z_EIO;
	}
	if (rc == Z_OK && submit_env(&s, "env-end", NULL) != Z_OK)
		rc = Z_EIO;
	if (rc == Z_OK && submit_write(&s, msg.data, msg.len) != Z_OK)
		rc = Z_EIO;
	if (rc != Z_OK) {
		int e = errno;	/* what the failed write said (ENOSPC, EIO...) */
		submit_abort(&s);
		zlog_error(id, "cannot write report submission: %s", e ? strerror(e) : "write failed");
		goto out;
	}
	unsigned long ino = 0;
	if ((rc = submit_commit(&s, "router", 0, &ino, &err)) != Z_OK) {
		zlog_error(id, "cannot commit report: %s", zbuf_cstr(&err));
		goto out;
	}
	rx->st->c_dsn++;
	zlog_info(id, "created %sreport with %zu entr%s as router/%lu to %s",
		  rep.double_fault ? "double-fault " : "", keep, keep == 1 ? "y" : "ies", ino, rep.to);
out:
	zbuf_free(&env);
	zbuf_free(&msg);
	zbuf_free(&err);
	report_strs_free(&sv);
	return rc;
}

/* report_open_body - queue/<prefix><ino> read-only: a message's body has the
 * control file's own id (load_file refuses a file whose 'i' line says
 * otherwise, and a later rewrite of that line changes nothing here);
 * -1 with errno set on failure */
int report_open_body(const sfile *f, char *path, size_t psz)
{
	int k = snprintf(path, psz, "../queue/%s%lu", f->prefix, f->ino);
	if (k < 0 || (size_t)k >= psz) {
		if (psz)
			path[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* report_collect - unreported d lines allowed by NOTIFY into dr (room for
 * cf->ndiags entries); returns how many */
size_t report_collect(const ctl_file *cf, report_strs *sv, dsn_rcpt *dr, const ctl_rcpt **firstp)
{
	size_t n = 0;
	*firstp = NULL;
	for (size_t i = 0; i < cf->ndiags; i++) {
		const ctl_diag *d = &cf->diags[i];
		if (d->tag != ' ')
			continue;
		const ctl_rcpt *cr = d->rcpt_off >= 0 ? ctl_find_rcpt(cf, (size_t)d->rcpt_off) : NULL;
		if (cr == NULL)
			continue;
		dsn_notary dn;
		memset(&dn, 0, sizeof dn);
		(void)dsn_notary_parse(d->notary, &dn);
		zspan act = dn.action;
		if (act.n && act.p[0] == '_') {
			act.p++;
			act.n--;
		}
		int a = dsn_action_parse(act);
		if (a < 0)
			a = cr->tag == '+' ? DSN_DELIVERED : DSN_FAILED;
		if (!dsn_notify_allows(cr->notify, (enum dsn_action)a))
			continue;
		if (*firstp == NULL)
			*firstp = cr;
		dsn_rcpt *x = &dr[n++];
		x->addr = report_rcpt_addr(sv, cr);
		x->orcpt = report_strs_span(sv, cr->orcpt);
		x->action = (enum dsn_action)a;
		char st[64];
		report_span_cstr(dn.status, st, sizeof st);
		for (char *p = st; *p; p++)
			if (*p == ' ') { *p = '\0'; break; }
		x->status = st[0] ? report_strs_add(sv, strdup(st)) : NULL;
		x->remote_mta = report_strs_span(sv, remote_name(dn.remote_mta));
		x->diagnostic = report_strs_span(sv, dn.diagnostic);
		x->text = report_strs_span(sv, d->text);
		x->last_attempt = (time_t)d->when;
	}
	return n;
}
