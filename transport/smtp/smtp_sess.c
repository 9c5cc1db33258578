/*
 * NAME
 *	smtp_sess - the smtp agent's session: hooks, commands, replies, reports
 * SUMMARY
 *	Owns the agent's smtp_session and gives it its callbacks: the line
 *	hook writes the -l transcript and -d lines, the wait hook reports
 *	finished messages and lets libta open the next job ahead
 *	(ta_prefetch), the progress hook sets the -s title from the state
 *	table, the poll hook is smtp_poll (the keepalive).  Commands are
 *	queued with their transcript; replies are awaited with the state's
 *	timeout and a failure text ends in the state's phrase.
 * SYNOPSIS
 *	int smtp_sess_new(smtp_sess **s, smtp_opts *o, zbuf *err)
 *	void smtp_sess_free(smtp_sess *s)
 *	(smtp_code_map moved to libzmsmtp: smtpclient/zmsmtp_env.c)
 *	(internal: send_cmd, wait_reply, set_state, drop_conn, quit_close, rdiag, ...)
 * DESCRIPTION
 *	Internal to the smtp agent; the state it shares is smtp_agent.h.
 *	See smtp_xact.c for the whole protocol picture.
 * DIAGNOSTICS
 *	smtp_code_map: the sysexits code for a reply code.  Failures of a
 *	wait drop the connection; the reason is in s->err.
 * SECURITY
 *	Command lines carrying secrets are logged as "(hidden)" and their
 *	buffers cleared.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtp(8), smtp_agent.h, smtp/smtp_session.h, smtp/smtp_state.h
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "smtp_agent.h"
#include "mime.h"
#include "xtext.h"
#include "zutil.h"

/* ---- small helpers ---- */

/* agent_poll - the session's poll hook: smtp_poll() writes the keepalive */
static int agent_poll(void *arg, struct pollfd *fds, unsigned long nfds, int ms)
{
	smtp_sess *s = arg;

	return smtp_poll(&s->o->alive, fds, nfds, ms);
}

/* tmo_ms - timeout for a state in milliseconds */
long tmo_ms(const smtp_sess *s, int st)
{
	return smtp_state_timeout_ms(&s->o->to, st);
}

/* ---- transcript, diagnostics ---- */

/* tr_add - add "<<- cmd" or "->> reply" to a transcript buffer */
void tr_add(zbuf *tr, const char *pfx, const char *p, size_t n)
{
	if (tr == NULL)
		return;
	if (tr->len > 0)
		(void)zbuf_putc(tr, '\n');
	(void)zbuf_puts(tr, pfx);
	(void)zbuf_append(tr, p, n);
}

/* reply_text - reply lines with "->> " prefix for a transcript */
void tr_reply(zbuf *tr, const smtp_reply *r)
{
	zspan all = { r->text.data ? r->text.data : "", r->text.len };
	while (all.n > 0) {
		long nl = zspan_chr(all, '\n');
		size_t l = nl >= 0 ? (size_t)nl : all.n;
		tr_add(tr, "->> ", all.p, l > 300 ? 300 : l);
		all.p += l + (nl >= 0);
		all.n -= l + (nl >= 0);
	}
}

/* diagcode - "smtp; 550 5.1.1 text" for the notary (single line, bounded) */
void diagcode(const smtp_reply *r, char *out, size_t outsz)
{
	zspan last = smtp_reply_last(r);
	size_t n = last.n > 200 ? 200 : last.n;
	char tmp[256];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)last.p[i];
		tmp[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	tmp[i] = '\0';
	if (snprintf(out, outsz, "smtp; %03d %s", r->code, tmp) >= (int)outsz)
		out[outsz - 1] = '\0';
}

/* is_notify_success - NOTIFY list contains SUCCESS */
int notify_has(zspan notify, const char *word)
{
	size_t wl = strlen(word);
	for (size_t i = 0; i + wl <= notify.n; i++) {
		if (strncasecmp(notify.p + i, word, wl) == 0 &&
		    (i == 0 || notify.p[i - 1] == ',') &&
		    (i + wl == notify.n || notify.p[i + wl] == ','))
			return 1;
	}
	return 0;
}

/* rdiag - the one report for recipient r */
void rdiag(smtp_sess *s, ta_msg *m, ta_rcpt *r, int code, long retry,
		  const char *action, const char *status, const char *dcode, const char *text)
{
	if (r->reported || !r->locked)
		return;
	ta_notary(r, action, status, dcode, s->remote[0] ? s->remote : NULL);
	if (smtp_log_enabled())
		smtp_log('#', "DIAG: H='%.*s' U='%s' ID=%s/%zu -- code=%s status='%s' MSG='%.300s'",
			 (int)r->r->quad.host.n, r->r->quad.host.p, r->user ? r->user : "",
			 m->spoolid, r->r->off, zsysexit_name(code), status ? status : "",
			 text ? text : "");
	(void)ta_diagnostic(s->ctx, m, r, code, retry, "%s", text ? text : "");
}

/* ---- connection level ---- */

/* send_cmd - queue a command line (with CRLF), log and transcript it;
 * hide > 0 shows only that many leading bytes, hide < 0 nothing (secrets) */
int send_cmd(smtp_sess *s, zbuf *tr, int hide, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int send_cmd(smtp_sess *s, zbuf *tr, int hide, const char *fmt, ...)
{
	char line[SMTP_CMD_MAX];
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2) {
		if (hide)
			explicit_bzero(line, sizeof(line));
		return Z_ETOOBIG;
	}
	if (hide) {
		int shown = hide < 0 ? 0 : hide > n ? n : hide;
		DBG(s, 1, "<<- %.*s%s(hidden)", shown, line, shown ? " " : "");
		smtp_log('w', "%.*s%s(hidden)", shown, line, shown ? " " : "");
		tr_add(tr, "<<- ", line, (size_t)shown);
		tr_add(tr, "", shown ? " (hidden)" : "(hidden)", shown ? 9 : 8);
	} else {
		DBG(s, 1, "<<- %s", line);
		smtp_log('w', "%s", line);
		tr_add(tr, "<<- ", line, (size_t)n);
	}
	line[n] = '\r';
	line[n + 1] = '\n';
	rc = smtp_session_queue(&s->io, line, (size_t)n + 2);
	if (hide)
		explicit_bzero(line, sizeof(line));
	return rc;
}

/* progress - the session's progress hook: debug line and -s title from
 * the state table */
static void progress(void *arg, int st)
{
	smtp_sess *s = arg;
	const char *t = smtp_state(st)->title;

	DBG(s, 2, "state %s", smtp_state(st)->name);
	if (s->o->progress) {
		if (s->connected)
			smtp_title(1, ">%s|%d %s %s", s->ip, s->port, s->host, t);
		else
			smtp_title(1, ">[%s|%d] %s %s", s->ip, s->port, s->host, t);
	}
}

/* set_state - state change (the session tells progress()) */
void set_state(smtp_sess *s, int st)
{
	s->state = st;
	smtp_session_state(&s->io, st);
}

/* io_fail_text - "reason, while <state>" into s->err */
void io_fail_text(smtp_sess *s, int st, const zbuf *why)
{
	zbuf_reset(&s->err);
	zbuf_printf(&s->err, "%s, %s (%s [%s])", zbuf_cstr(why), smtp_state(st)->desc,
		    s->mxname, s->ip);
}

/* drop_conn - close the connection without QUIT */
void drop_conn(smtp_sess *s, const char *why)
{
	settle(s);
	pend_lost(s, why);
	if (s->connected) {
		smtp_log('#', "(closed SMTP channel - %s)", why);
		smtp_session_close(&s->io);
	}
	s->connected = 0;
	s->tls_on = 0;
	s->tls_state = STLS_OFF;
	s->need_rset = 0;
}

/* wait_reply - flush pending commands, read one reply for state st.
 * Z_OK with s->rep filled; on failure the connection is dropped and
 * s->err says why. */
int wait_reply(smtp_sess *s, int st, zbuf *tr)
{
	zbuf why = ZBUF_INIT(512);
	int rc;

	set_state(s, st);
	rc = smtp_session_flush(&s->io, tmo_ms(s, S_BODY), &why);
	if (rc == Z_OK && s->pend != NULL) {
		/* replies come in order: the previous message's dot reply first */
		if (pend_drain(s) != Z_OK) {
			s->drain_lost = 1;
			tr_add(tr, "--- ", zbuf_cstr(&s->err), strlen(zbuf_cstr(&s->err)));
			zbuf_free(&why);
			return Z_EIO;
		}
		set_state(s, st);
	}
	if (rc == Z_OK)
		rc = smtp_session_reply(&s->io, tmo_ms(s, st), &s->rep, &why);
	if (rc != Z_OK) {
		io_fail_text(s, st, &why);
		tr_add(tr, "--- ", zbuf_cstr(&s->err), strlen(zbuf_cstr(&s->err)));
		drop_conn(s, zbuf_cstr(&s->err));
	} else {
		tr_reply(tr, &s->rep);
	}
	zbuf_free(&why);
	return rc;
}

/* line_hook - the session's line hook: reply lines into the -l transcript */
static void line_hook(void *arg, const char *line, size_t n)
{
	smtp_sess *s = arg;

	DBG(s, 1, "->> %.*s", (int)(n > 1000 ? 1000 : n), line);
	smtp_log_data('r', line, n);
}

/* quit_close - polite QUIT and close */
void quit_close(smtp_sess *s)
{
	if (s->pend != NULL)
		(void)pend_drain(s);
	settle(s);
	if (!s->connected)
		return;
	if (!s->io.broken) {
		zbuf why = ZBUF_INIT(256);
		if (send_cmd(s, NULL, 0, "QUIT") == Z_OK &&
		    smtp_session_flush(&s->io, 30000, &why) == Z_OK)
			(void)smtp_session_reply(&s->io, 30000, &s->rep, &why);
		zbuf_free(&why);
	}
	drop_conn(s, "QUIT");
}

/* cf_set - remember a connection-level failure for this job */
void cf_set(smtp_sess *s, int code, long retry, const char *status, const char *text)
{
	s->cf_code = code;
	s->cf_retry = retry;
	(void)zstrlcpy(s->cf_status, status, sizeof(s->cf_status));
	zbuf_reset(&s->cf_text);
	(void)zbuf_puts(&s->cf_text, text);
}

/* wait_hook - the session is about to block for a reply: report meanwhile */
static void wait_hook(void *arg)
{
	smtp_sess *s = arg;

	settle(s);
	if (s->ctx != NULL)
		ta_prefetch(s->ctx);
}

/* smtp_sess_new - session for the life of the agent */
int smtp_sess_new(smtp_sess **sp, smtp_opts *o, zbuf *err)
{
	smtp_sess *s = calloc(1, sizeof(*s));
	smtp_session_cb cb;

	(void)err;
	if (s == NULL)
		return Z_ENOMEM;
	s->o = o;
	memset(&cb, 0, sizeof(cb));
	cb.arg = s;
	cb.line = line_hook;
	cb.wait = wait_hook;
	cb.progress = progress;
	cb.poll = agent_poll;
	smtp_session_init(&s->io, &cb);
	smtp_reply_init(&s->rep);
	zbuf_init(&s->err, 4096);
	zbuf_init(&s->tr, 16384);
	zbuf_init(&s->cf_text, 8192);
	s->dopts.use_mx = !o->no_mx;
	s->dopts.prefer_v6 = o->prefer_v6;
	s->dopts.check_wks = o->check_wks;
	s->dopts.port = o->port;
	s->dopts.servers = o->dns_servers;
	s->dopts.addrmap = o->addrmap;
	s->dopts.myhostname = o->heloname;
	s->dopts.selfaddrs = o->selfaddrs;
	/* -F names the operator's own target: it may be on loopback */
	s->dopts.allow_loopback = o->allow_loopback || o->forcedest != NULL;
	s->dopts.timeout_ms = 5000;
	s->dopts.tries = 3;
	s->dopts.poll = smtp_poll;
	s->dopts.poll_arg = &o->alive;
	*sp = s;
	return Z_OK;
}

/* smtp_sess_free - close and release */
void smtp_sess_free(smtp_sess *s)
{
	if (s == NULL)
		return;
	quit_close(s);
	if (s->dns != NULL)
		smtp_dns_free(s->dns);
	smtp_session_free(&s->io);
	smtp_reply_free(&s->rep);
	zbuf_free(&s->err);
	zbuf_free(&s->tr);
	zbuf_free(&s->cf_text);
	free(s);
}
