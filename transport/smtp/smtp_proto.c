/*
 * NAME
 *	smtp_proto - the SMTP/LMTP client state machine of the smtp agent
 * SUMMARY
 *	Connection set-up with MX walk, greeting, EHLO/HELO/LHLO with
 *	fallbacks, STARTTLS, AUTH; per-job transactions (MAIL, RCPT, DATA or
 *	BDAT) with pipelining; one diagnostic per recipient.
 * SYNOPSIS
 *	int smtp_sess_new(smtp_sess **s, smtp_opts *o, zbuf *err)
 *	void smtp_sess_free(smtp_sess *s)
 *	int smtp_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
 *	void smtp_newhost(ta_ctx *ctx, const char *host)
 *	void smtp_idle(ta_ctx *ctx), smtp_idlecmd(ta_ctx *ctx), smtp_finish(ta_ctx *ctx)
 *	int smtp_select_mx(ta_ctx *ctx, const ctl_rcpt *r, zspan host, void *arg)
 *	int smtp_probe(smtp_sess *s, const char *host)
 *	void smtp_release(ta_ctx *ctx, ta_msg *m)
 *	int smtp_window_fd(ta_ctx *ctx), void smtp_window_drain(ta_ctx *ctx)
 *	void smtp_caps_parse(const smtp_reply *r, smtp_caps *c)
 *	void smtp_timeouts_default(smtp_timeouts *t)
 *	int smtp_timeouts_parse(const char *spec, smtp_timeouts *t, zbuf *err)
 *	int smtp_code_map(int code, const char *enh, char *status, size_t statussz)
 * DESCRIPTION
 *	Every protocol step is a state of the table below; the table gives
 *	the timeout class and the human description used in diagnostics
 *	("timeout after 300 s waiting for the reply, while waiting for the
 *	reply to RCPT").  Recipients that share sender and header block go
 *	into one transaction, at most the peer's recipient limit at a time;
 *	recipients refused with 452 are sent in a follow-up transaction on
 *	the same connection and are never bounced for it.  With PIPELINING
 *	MAIL, all RCPTs and DATA are written in one group (reading meanwhile)
 *	and the replies matched in order; a DATA refused because no RCPT was
 *	accepted sends no body.  The window: after the dot of a pipelined
 *	SMTP transaction the reply is not awaited; the message is kept in
 *	s->pend and smtp_deliver() returns.  Every later reply read
 *	(wait_reply) first reads that dot reply (pend_drain) and moves the
 *	message to s->done; its recipients are reported by settle() when
 *	the agent would next block on the peer (the session's wait hook), when the
 *	job loop waits, or before the connection goes.  A connection lost
 *	with a message in s->pend defers its recipients as "delivery status
 *	unknown"; the transaction written behind it is run again on a new
 *	connection.  smtp_release() closes a message once neither slot holds
 *	it.  With CHUNKING
 *	the body goes as pipelined 64 KiB BDAT chunks.  LMTP reads one
 *	reply per accepted recipient after the final dot (or BDAT LAST).
 *	A server that closed or spoke on an idle kept connection, a failed
 *	RSET, or a 421 makes the agent drop the connection and reconnect for
 *	the next transaction.  open_conn() parses a job host with the strict
 *	grammar (smtp_dest_parse_job: no port, no UNIX:; a failure is a
 *	permanent 5.1.2 for every recipient) and only -F with the trusted
 *	one; it tries at most SMTP_MX_ADDRESS_LIMIT addresses and stops after
 *	SMTP_MX_SESSION_LIMIT established sessions that failed.
 * DIAGNOSTICS
 *	Per recipient through ta_diagnostic(): reply codes map per
 *	smtp_code_map(); connection failures give "retryat +60"; DNS
 *	temporary failures "deferall"; a lost connection or timeout defers
 *	every recipient still open with the state's description.  A 5xx
 *	from a server that has closed the connection counts as 4xx.  With
 *	-d, commands, replies, MX choices and TLS details are logged at
 *	debug level on stderr.
 * SECURITY
 *	Control files and replies are untrusted: addresses with control
 *	characters or angle brackets are refused before any command is
 *	built; DSN values are re-validated; replies go through the bounded
 *	assembler.  In a required TLS mode nothing is sent in clear text.
 *	AUTH secrets go only where the -A line allows for the session's TLS
 *	state (by default: TLS whose certificate verified); the command
 *	lines carrying them are logged as "(hidden)" and every buffer that
 *	held them (command line, output buffer, encodings) is cleared.
 * BUGS
 *	The -e selector only knows the MX name of an open connection.
 * SEE ALSO
 *	smtp(8), RFC 5321, 2920, 3030, 1870, 3461, 2033, 3207, 4954, 7505
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "smtp.h"
#include "mime.h"
#include "xtext.h"
#include "zlog.h"
#include "zutil.h"

struct smtp_pend;

struct smtp_sess {
	smtp_opts *o;
	ta_ctx *ctx;
	smtp_dns *dns;
	smtp_dns_opts dopts;
	smtp_session io;          /* the connection (smtp/ layer) */
	smtp_reply rep;
	int connected;
	int state;
	char host[256];          /* destination the connection is for */
	char mxname[256];
	char ip[64];
	int port;
	char remote[400];        /* notary remote-MTA */
	char banner[256];
	smtp_caps caps;
	int tls_on;
	int tls_state;           /* STLS_*: verified or not (AUTH decision) */
	int need_rset;
	zbuf err;
	zbuf tr;                 /* connection-level transcript */
	/* result of a failed connection attempt, reused for the job */
	int cf_code;
	long cf_retry;
	char cf_status[16];
	zbuf cf_text;
	/* the window: pend, a message whose end-of-data reply is still
	 * unread; done, one whose reply is read but not yet reported (that
	 * is done while we would otherwise wait for the peer) */
	struct smtp_pend *pend, *done;
	int drain_lost;          /* the last wait_reply failed reading pend's reply */
	int conn_up;             /* try_addr got a connection (a session) */
};

static void pend_lost(smtp_sess *s, const char *why);
static void settle(smtp_sess *s);
static int pend_drain(smtp_sess *s);


/* DBG - a debug line on stderr (-d; -dd for level 2) */
#define DBG(s, lvl, ...) do { \
	if ((s) != NULL && (s)->o->debug >= (lvl)) \
		zlog_debug(NULL, __VA_ARGS__); \
} while (0)

/* ---- small helpers ---- */

/* agent_poll - the session's poll hook: smtp_poll() writes the keepalive */
static int agent_poll(void *arg, struct pollfd *fds, unsigned long nfds, int ms)
{
	(void)arg;
	return smtp_poll(fds, nfds, ms);
}

/* tmo_ms - timeout for a state in milliseconds */
static long tmo_ms(const smtp_sess *s, int st)
{
	return smtp_state_timeout_ms(&s->o->to, st);
}

/* smtp_code_map - reply code to sysexits code and notary status */
int smtp_code_map(int code, const char *enh, char *status, size_t statussz)
{
	const char *st;
	int ex;

	if (code >= 200 && code < 400) {
		ex = EX_OK; st = "2.0.0";
	} else {
		switch (code) {
		case 421: case 450: case 451: case 452:
			ex = EX_TEMPFAIL; st = "4.0.0"; break;
		case 455: ex = EX_USAGE; st = "5.5.4"; break;
		case 500: case 502: ex = EX_PROTOCOL; st = "5.5.1"; break;
		case 501: ex = EX_USAGE; st = "5.5.2"; break;
		case 503: ex = EX_TEMPFAIL; st = "4.5.0"; break;
		case 504: ex = EX_PROTOCOL; st = "5.5.4"; break;
		case 550: ex = EX_NOUSER; st = "5.1.1"; break;
		case 551: ex = EX_NOUSER; st = "5.1.6"; break;
		case 552: ex = EX_UNAVAILABLE; st = "5.2.3"; break;
		case 553: ex = EX_NOUSER; st = "5.1.3"; break;
		case 554: ex = EX_NOUSER; st = "5.1.1"; break;
		case 555: ex = EX_USAGE; st = "5.5.4"; break;
		case 571: ex = EX_NOUSER; st = "5.7.1"; break;
		default:
			if (code >= 400 && code < 500) {
				ex = EX_TEMPFAIL; st = "4.0.0";
			} else if (code >= 500 && code < 600) {
				ex = EX_UNAVAILABLE; st = "5.0.0";
			} else {
				ex = EX_TEMPFAIL; st = "4.5.0";   /* 1xx or nonsense */
			}
		}
	}
	if (enh != NULL && enh[0] != '\0' && enh[0] == st[0])
		st = enh;
	if (status != NULL && statussz > 0)
		(void)zstrlcpy(status, st, statussz);
	return ex;
}

/* ---- transcript, diagnostics ---- */

/* tr_add - add "<<- cmd" or "->> reply" to a transcript buffer */
static void tr_add(zbuf *tr, const char *pfx, const char *p, size_t n)
{
	if (tr == NULL)
		return;
	if (tr->len > 0)
		(void)zbuf_putc(tr, '\n');
	(void)zbuf_puts(tr, pfx);
	(void)zbuf_append(tr, p, n);
}

/* reply_text - reply lines with "->> " prefix for a transcript */
static void tr_reply(zbuf *tr, const smtp_reply *r)
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
static void diagcode(const smtp_reply *r, char *out, size_t outsz)
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
static int notify_has(zspan notify, const char *word)
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
static void rdiag(smtp_sess *s, ta_msg *m, ta_rcpt *r, int code, long retry,
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
static int send_cmd(smtp_sess *s, zbuf *tr, int hide, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int send_cmd(smtp_sess *s, zbuf *tr, int hide, const char *fmt, ...)
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
static void set_state(smtp_sess *s, int st)
{
	s->state = st;
	smtp_session_state(&s->io, st);
}

/* io_fail_text - "reason, while <state>" into s->err */
static void io_fail_text(smtp_sess *s, int st, const zbuf *why)
{
	zbuf_reset(&s->err);
	zbuf_printf(&s->err, "%s, %s (%s [%s])", zbuf_cstr(why), smtp_state(st)->desc,
		    s->mxname, s->ip);
}

/* drop_conn - close the connection without QUIT */
static void drop_conn(smtp_sess *s, const char *why)
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
static int wait_reply(smtp_sess *s, int st, zbuf *tr)
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
static void quit_close(smtp_sess *s)
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
static void cf_set(smtp_sess *s, int code, long retry, const char *status, const char *text)
{
	s->cf_code = code;
	s->cf_retry = retry;
	(void)zstrlcpy(s->cf_status, status, sizeof(s->cf_status));
	zbuf_reset(&s->cf_text);
	(void)zbuf_puts(&s->cf_text, text);
}

/* hello - EHLO/LHLO/HELO; 0 ok, 1 reconnect and use HELO, -1 failed */
static int hello(smtp_sess *s, int force_helo)
{
	const char *name = s->o->heloname;
	int use_ehlo = !s->o->noesmtp && !force_helo;

	memset(&s->caps, 0, sizeof(s->caps));
	s->caps.rcptlimit = SMTP_RCPTLIMIT_DEFAULT;
	if (s->o->lmtp) {
		send_cmd(s, &s->tr, 0, "LHLO %s", name);
		if (wait_reply(s, S_LHLO, &s->tr) != Z_OK)
			return -1;
		if (s->rep.code / 100 != 2) {
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "LHLO refused by %s: %s", s->mxname,
				    zbuf_cstr(&s->rep.text));
			return -1;
		}
		smtp_caps_parse(&s->rep, &s->caps);
		goto caps_done;
	}
	if (use_ehlo && s->o->esmtp_if_banner && strcasestr(s->banner, "ESMTP") == NULL)
		use_ehlo = 0;
	if (use_ehlo) {
		send_cmd(s, &s->tr, 0, "EHLO %s", name);
		if (wait_reply(s, S_EHLO, &s->tr) != Z_OK)
			return 1;      /* dropped on EHLO: reconnect, HELO */
		smtp_log('#', "EHLO rc=%d", s->rep.code);
		if (s->rep.code / 100 == 2) {
			smtp_caps_parse(&s->rep, &s->caps);
			goto caps_done;
		}
		if (s->rep.code / 100 == 4)
			return 1;
		/* 5xx: HELO on the same connection */
	}
	send_cmd(s, &s->tr, 0, "HELO %s", name);
	if (wait_reply(s, S_HELO, &s->tr) != Z_OK)
		return -1;
	if (s->rep.code / 100 != 2) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "HELO refused by %s: %s", s->mxname, zbuf_cstr(&s->rep.text));
		return -1;
	}
caps_done:
	if (s->o->sevenbit)
		s->caps.flags &= ~(unsigned)(CAP_8BITMIME | CAP_BINARYMIME);
	return 0;
}

/* do_auth - AUTH when -A has a line for this server; 0 ok/skipped, -1 failed */
static int do_auth(smtp_sess *s)
{
	smtp_auth_entry e;
	smtp_auth_target t = { s->o->channel, s->mxname, s->host, s->ip };
	zbuf why = ZBUF_INIT(512);
	zbuf b = ZBUF_INIT(4096), d = ZBUF_INIT(4096), raw = ZBUF_INIT(1024);
	unsigned mech;
	int rc = 0, lr;

	memset(&e, 0, sizeof(e));
	if (s->o->authfile == NULL || !(s->caps.flags & CAP_AUTH))
		goto done;
	/* the buffers holding secrets never grow (no copies left by realloc) */
	if (zbuf_reserve(&b, 2048) != Z_OK || zbuf_reserve(&d, 2048) != Z_OK ||
	    zbuf_reserve(&raw, 1024) != Z_OK) {
		zbuf_reset(&s->err);
		zbuf_puts(&s->err, "AUTH: out of memory");
		rc = -1;
		goto done;
	}
	lr = smtp_auth_lookup(s->o->authfile, &t, &e, &why);
	if (lr == Z_ENOENT) {
		DBG(s, 1, "AUTH: no line of %s for %s / %s [%s]", s->o->authfile, s->mxname,
		    s->host, s->ip);
		goto done;
	}
	if (lr != Z_OK) {
		zlog_error(NULL, "AUTH secrets file %s", zbuf_cstr(&why));
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "AUTH secrets: %s", zbuf_cstr(&why));
		rc = -1;
		goto done;
	}
	mech = smtp_auth_pick(s->caps.auth, s->tls_state, e.flags);
	DBG(s, 1, "AUTH: line %d of %s matches %s [%s]; TLS %s; mechanism %s", e.lineno,
	    s->o->authfile, s->mxname, s->ip,
	    s->tls_state == STLS_VERIFIED ? "verified" : s->tls_state == STLS_UNVERIFIED ?
	    "not verified" : "off", mech ? smtp_sasl_mech_name(mech) : "none");
	if (mech == 0) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "no acceptable AUTH mechanism at %s [%s] (%s)", s->mxname,
			    s->ip, smtp_auth_refusal(s->caps.auth, s->tls_state, e.flags));
		smtp_log('#', "%s", zbuf_cstr(&s->err));
		rc = -1;
		goto done;
	}
	if (mech == AUTHM_PLAIN) {
		if (smtp_sasl_plain(e.user, e.secret, &b) != Z_OK ||
		    send_cmd(s, &s->tr, 10, "AUTH PLAIN %s", zbuf_cstr(&b)) != Z_OK) {
			zbuf_reset(&s->err);
			zbuf_puts(&s->err, "AUTH PLAIN: user and secret too long");
			rc = -1;
			goto done;
		}
		if (wait_reply(s, S_AUTH, &s->tr) != Z_OK) {
			rc = -1;
			goto done;
		}
	} else if (mech == AUTHM_LOGIN) {
		send_cmd(s, &s->tr, 0, "AUTH LOGIN");
		if (wait_reply(s, S_AUTH, &s->tr) != Z_OK) {
			rc = -1;
			goto done;
		}
		if (s->rep.code == 334) {
			smtp_b64_encode(e.user, strlen(e.user), &b);
			send_cmd(s, &s->tr, 0, "%s", zbuf_cstr(&b));
			if (wait_reply(s, S_AUTH, &s->tr) != Z_OK) {
				rc = -1;
				goto done;
			}
			if (s->rep.code == 334) {
				zbuf_reset(&b);
				smtp_b64_encode(e.secret, strlen(e.secret), &b);
				send_cmd(s, &s->tr, -1, "%s", zbuf_cstr(&b));
				if (wait_reply(s, S_AUTH, &s->tr) != Z_OK) {
					rc = -1;
					goto done;
				}
			}
		}
	} else {
		send_cmd(s, &s->tr, 0, "AUTH CRAM-MD5");
		if (wait_reply(s, S_AUTH, &s->tr) != Z_OK) {
			rc = -1;
			goto done;
		}
		if (s->rep.code == 334) {
			zspan ch = zspan_trim(smtp_reply_last(&s->rep));
			if (smtp_b64_decode(ch, &d) != Z_OK || d.len > 1024 ||
			    smtp_cram_md5(e.user, e.secret, d.data ? d.data : "", d.len, &b) != Z_OK) {
				send_cmd(s, &s->tr, 0, "*");
				(void)wait_reply(s, S_AUTH, &s->tr);
				zbuf_reset(&s->err);
				zbuf_puts(&s->err, "bad CRAM-MD5 challenge from the server");
				rc = -1;
				goto done;
			}
			zbuf_reset(&d);
			smtp_b64_encode(b.data, b.len, &d);
			send_cmd(s, &s->tr, -1, "%s", zbuf_cstr(&d));
			if (wait_reply(s, S_AUTH, &s->tr) != Z_OK) {
				rc = -1;
				goto done;
			}
		}
	}
	if (s->rep.code != 235) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "AUTH %s failed at %s: %s", smtp_sasl_mech_name(mech),
			    s->mxname, zbuf_cstr(&s->rep.text));
		rc = -1;
		goto done;
	}
	smtp_log('#', "AUTH %s ok", smtp_sasl_mech_name(mech));
done:
	explicit_bzero(&e, sizeof(e));
	smtp_session_wipe(&s->io);
	zbuf_free(&why);
	smtp_zbuf_wipe(&b);
	smtp_zbuf_wipe(&d);
	smtp_zbuf_wipe(&raw);
	return rc;
}

/* do_starttls - 0 ok or not needed, -1 failed (connection dropped),
 * -2 failed in "may" mode: retry this address without TLS */
static int do_starttls(smtp_sess *s, int notls)
{
	smtp_tls_conf *tc = &s->o->tls;
	zbuf why = ZBUF_INIT(512), info = ZBUF_INIT(512);
	const char *name;
	int rc = 0;

	if (!s->o->tls_loaded || tc->mode == TLSM_NONE)
		goto done;
	if (notls && tc->mode == TLSM_MAY)
		goto done;
	if (!(s->caps.flags & CAP_STARTTLS)) {
		if (tc->mode >= TLSM_ENCRYPT) {
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "%s [%s] does not offer STARTTLS; TLS mode '%s' "
				    "requires it (4.7.0)", s->mxname, s->ip,
				    smtp_tls_mode_name(tc->mode));
			rc = -1;
		}
		goto done;
	}
	send_cmd(s, &s->tr, 0, "STARTTLS");
	if (wait_reply(s, S_STARTTLS, &s->tr) != Z_OK) {
		rc = tc->mode == TLSM_MAY ? -2 : -1;
		goto done;
	}
	if (s->rep.code != 220) {
		if (tc->mode >= TLSM_ENCRYPT) {
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "STARTTLS refused by %s [%s]: %s", s->mxname, s->ip,
				    zbuf_cstr(&s->rep.text));
			rc = -1;
		}
		goto done;      /* may: continue in clear on this connection */
	}
	if (s->io.rbuf.len > 0) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "%s [%s] sent data after the STARTTLS reply (injection?)",
			    s->mxname, s->ip);
		rc = -1;
		goto done;
	}
	set_state(s, S_TLS);
	name = tc->verifyname[0] ? tc->verifyname : s->mxname;
	if (smtp_tls_start(tc, &s->io, s->mxname, s->host, tmo_ms(s, S_TLS), &info,
			   &why) != Z_OK) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "TLS with %s [%s] failed: %s", s->mxname, s->ip,
			    zbuf_cstr(&why));
		tr_add(&s->tr, "--- ", zbuf_cstr(&s->err), strlen(zbuf_cstr(&s->err)));
		rc = tc->mode == TLSM_MAY ? -2 : -1;
		goto done;
	}
	s->tls_on = 1;
	s->tls_state = s->io.tls;
	DBG(s, 1, "TLS with %s [%s] (MX host %s, next hop %s, mode %s): %s", s->mxname, s->ip,
	    name, s->host, smtp_tls_mode_name(tc->mode), zbuf_cstr(&info));
	smtp_log('#', "TLS: %s", zbuf_cstr(&info));
	tr_add(&s->tr, "--- TLS: ", zbuf_cstr(&info), info.len);
	/* forget everything learnt before TLS */
	if (hello(s, 0) != 0) {
		rc = -1;
		goto done;
	}
done:
	zbuf_free(&why);
	zbuf_free(&info);
	if (rc != 0 && s->connected)
		drop_conn(s, "TLS policy");
	return rc;
}

/* try_addr - connect to one address and get to "ready for MAIL";
 * 0 ok, -1 failed (text in s->err) */
static int try_addr(smtp_sess *s, const smtp_dest *d, const smtp_mxaddr *a)
{
	smtp_bind b = { s->o->localident, s->o->reserved_port, s->o->sndbuf };
	int force_helo = 0, notls = 0;
	int attempts = 0;

again:
	if (++attempts > 3)
		return -1;
	zbuf_reset(&s->err);
	zbuf_reset(&s->tr);
	set_state(s, S_CONNECT);
	{
		int fd;
		if (d->kind == SDEST_UNIX) {
			smtp_log('#', "smtpopen: connecting to UNIX:%s", d->path);
			fd = smtp_connect_unix(d->path, (int)tmo_ms(s, S_CONNECT), &s->err);
		} else {
			smtp_log('#', "smtpopen: connecting to %s [%s]:%d", a->name, a->ip, a->port);
			fd = smtp_connect((const struct sockaddr *)&a->sa, a->salen, &b,
					  (int)tmo_ms(s, S_CONNECT), &s->err);
		}
		if (fd < 0) {
			if (s->err.len == 0)
				zbuf_puts(&s->err, "connect failed");
			smtp_log('#', "%s", zbuf_cstr(&s->err));
			DBG(s, 1, "connect to %s [%s]:%d failed: %s", a->name, a->ip, a->port,
			    zbuf_cstr(&s->err));
			return -1;
		}
		smtp_session_attach(&s->io, fd);
		s->io.tcpw_ms = tmo_ms(s, S_BODY);
		s->connected = 1;
		s->conn_up = 1;
	}
	if (wait_reply(s, S_GREET, &s->tr) != Z_OK)
		return -1;
	{
		zspan l = smtp_reply_last(&s->rep);
		size_t n = l.n < sizeof(s->banner) - 1 ? l.n : sizeof(s->banner) - 1;
		/* first line holds the ESMTP word; use the whole text */
		zspan all = { s->rep.text.data, s->rep.text.len };
		n = all.n < sizeof(s->banner) - 1 ? all.n : sizeof(s->banner) - 1;
		memcpy(s->banner, all.p, n);
		s->banner[n] = '\0';
		(void)l;
	}
	if (s->rep.code != 220) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "%s [%s] greeted with: %s", s->mxname, s->ip,
			    zbuf_cstr(&s->rep.text));
		quit_close(s);
		return -1;
	}
	switch (hello(s, force_helo)) {
	case 0:
		break;
	case 1:
		drop_conn(s, "EHLO failed, retrying with HELO");
		if (force_helo)
			return -1;
		force_helo = 1;
		goto again;
	default:
		if (s->connected)
			quit_close(s);
		return -1;
	}
	switch (do_starttls(s, notls)) {
	case 0:
		break;
	case -2:
		notls = 1;
		goto again;
	default:
		if (s->connected)
			quit_close(s);
		return -1;
	}
	if (do_auth(s) != 0) {
		if (s->connected)
			quit_close(s);
		return -1;
	}
	return 0;
}

/* open_conn - resolve and connect; Z_OK or Z_ERR with cf_* filled */
static int open_conn(smtp_sess *s, const char *dest)
{
	smtp_dest d;
	smtp_mxlist *mx = NULL;
	zbuf why = ZBUF_INIT(1024), all = ZBUF_INIT(4096);
	int rc = Z_ERR;
	long sessions = 0;

	(void)zstrlcpy(s->host, dest, sizeof(s->host));
	s->remote[0] = '\0';
	s->ip[0] = '\0';
	s->mxname[0] = '\0';
	s->port = s->o->port;
	/* -F is the operator's: the trusted grammar; a job host only the
	 * strict one (no port, no UNIX:) */
	if (s->o->forcedest != NULL && dest == s->o->forcedest) {
		if (smtp_dest_parse(dest, s->o->port, &d, &why) != Z_OK) {
			zbuf_printf(&all, "bad destination '%s': %s", dest, zbuf_cstr(&why));
			cf_set(s, EX_NOHOST, 0, "5.1.2", zbuf_cstr(&all));
			goto done;
		}
	} else if (smtp_dest_parse_job(dest, s->o->port, &d, &why) != Z_OK) {
		smtp_log('#', "%s", zbuf_cstr(&why));
		cf_set(s, EX_NOHOST, 0, "5.1.2", zbuf_cstr(&why));
		goto done;
	}
	mx = calloc(1, sizeof(*mx));
	if (mx == NULL) {
		cf_set(s, EX_TEMPFAIL, 60, "4.3.0", "out of memory");
		goto done;
	}
	if (d.kind == SDEST_UNIX) {
		mx->n = 1;
		(void)zstrlcpy(mx->a[0].name, d.path, sizeof(mx->a[0].name));
		(void)zstrlcpy(mx->a[0].ip, "UNIX", sizeof(mx->a[0].ip));
	} else if (d.kind == SDEST_LITERAL) {
		mx->n = 1;
		mx->a[0].sa = d.sa;
		mx->a[0].salen = d.salen;
		mx->a[0].port = d.port ? d.port : s->o->port;
		smtp_addrmap_apply(&s->dopts, &mx->a[0].sa, &mx->a[0].salen, &mx->a[0].port);
		(void)zstrlcpy(mx->a[0].name, dest, sizeof(mx->a[0].name));
		{
			char ipbuf[64] = "";
			const struct sockaddr *sa = (const struct sockaddr *)&d.sa;
			if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ipbuf, sizeof(ipbuf));
			else
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ipbuf, sizeof(ipbuf));
			(void)zstrlcpy(mx->a[0].ip, ipbuf, sizeof(mx->a[0].ip));
		}
	} else {
		int st;
		smtp_title(s->o->progress, "MX-lookup: %s", d.host);
		if (s->dns == NULL) {
			if (smtp_dns_init(&s->dns, &s->dopts, &why) != Z_OK) {
				zbuf_printf(&all, "DNS set-up failed: %s", zbuf_cstr(&why));
				cf_set(s, EX_DEFERALL, 0, "4.4.3", zbuf_cstr(&all));
				goto done;
			}
		}
		if (s->o->no_mx || s->o->forcedest != NULL)
			st = s->o->no_mx ? smtp_dns_host_addrs(s->dns, d.host, mx, &why) :
				smtp_dns_resolve(s->dns, d.host, mx, &why);
		else
			st = smtp_dns_resolve(s->dns, d.host, mx, &why);
		switch (st) {
		case SDNS_OK:
			break;
		case SDNS_TEMPFAIL:
			cf_set(s, EX_DEFERALL, 0, "4.4.3", zbuf_cstr(&why));
			goto done;
		case SDNS_NXDOMAIN:
			cf_set(s, EX_NOHOST, 0, "5.1.2", zbuf_cstr(&why));
			goto done;
		case SDNS_NULLMX:
			zbuf_printf(&all, "556 5.1.10 %s: %s", d.host, why.len ? zbuf_cstr(&why) :
				    "domain does not accept mail (null MX)");
			cf_set(s, EX_UNAVAILABLE, 0, "5.1.10", zbuf_cstr(&all));
			goto done;
		case SDNS_SELF:
			cf_set(s, EX_NOHOST, 0, "5.4.6", why.len ? zbuf_cstr(&why) :
			       "configuration inconsistency: we are the best MX");
			goto done;
		case SDNS_NOWKS:
			cf_set(s, EX_UNAVAILABLE, 0, "5.4.4", zbuf_cstr(&why));
			goto done;
		case SDNS_NOADDR:
		default:
			cf_set(s, EX_NOHOST, 0, "5.4.4", why.len ? zbuf_cstr(&why) : "no address");
			goto done;
		}
		if (mx->n == 0) {
			cf_set(s, EX_NOHOST, 0, "5.4.4", "no address to connect to");
			goto done;
		}
	}
	{
		size_t cut = smtp_mxlist_cap(mx, (size_t)s->o->mx_address_limit);
		if (cut > 0)
			DBG(s, 1, "destination %s: %zu address%s over SMTP_MX_ADDRESS_LIMIT %ld not tried",
			    dest, cut, cut == 1 ? "" : "es", s->o->mx_address_limit);
	}
	DBG(s, 1, "destination %s: %zu address%s to try", dest, mx->n, mx->n == 1 ? "" : "es");
	for (size_t i = 0; i < mx->n; i++)
		DBG(s, 1, "  #%zu %s [%s]:%d", i + 1, mx->a[i].name, mx->a[i].ip,
		    mx->a[i].port ? mx->a[i].port : s->o->port);
	for (size_t i = 0; i < mx->n; i++) {
		smtp_mxaddr *a = &mx->a[i];
		(void)zstrlcpy(s->mxname, a->name, sizeof(s->mxname));
		(void)zstrlcpy(s->ip, a->ip, sizeof(s->ip));
		s->port = a->port ? a->port : s->o->port;
		if (d.kind == SDEST_UNIX)
			snprintf(s->remote, sizeof(s->remote), "x-local; %s", a->name);
		else
			snprintf(s->remote, sizeof(s->remote), "dns; %.255s (%s|%d)", a->name, a->ip,
				 s->port);
		if (d.kind == SDEST_HOST && s->o->no_mx && !s->o->allow_self && s->port == 25 &&
		    smtp_is_self_addr((const struct sockaddr *)&a->sa, s->o->selfaddrs)) {
			zbuf_printf(&all, "%s[%s] is one of our own addresses (use -X)\n", a->name, a->ip);
			continue;
		}
		if (s->o->mx_session_limit > 0 && sessions >= s->o->mx_session_limit) {
			zbuf_printf(&all, "%ld session%s failed: SMTP_MX_SESSION_LIMIT reached\n",
				    sessions, sessions == 1 ? "" : "s");
			break;
		}
		DBG(s, 1, "trying %s [%s]:%d", a->name, a->ip, s->port);
		s->conn_up = 0;
		if (try_addr(s, &d, a) == 0) {
			DBG(s, 1, "connected to %s [%s]:%d%s, caps 0x%x, rcpt limit %lu", s->mxname,
			    s->ip, s->port, s->tls_on ? " with TLS" : "", s->caps.flags,
			    s->caps.rcptlimit);
			smtp_log('#', "connected to %s [%s]:%d", s->mxname, s->ip, s->port);
			rc = Z_OK;
			goto done;
		}
		if (s->conn_up)
			sessions++;
		if (all.len + s->err.len + 2 < all.max)
			zbuf_printf(&all, "%s\n", zbuf_cstr(&s->err));
	}
	while (all.len > 0 && all.data[all.len - 1] == '\n')
		zbuf_truncate(&all, all.len - 1);
	cf_set(s, EX_TEMPFAIL, 60, "4.4.1", all.len ? zbuf_cstr(&all) : "no server reachable");
done:
	free(mx);
	zbuf_free(&why);
	zbuf_free(&all);
	return rc;
}

/* ---- transactions ---- */

/* per-recipient working state inside one job */
enum { R_OPEN = 0, R_DONE, R_ACCEPTED, R_RETRY };

typedef struct jrc {
	ta_rcpt *r;
	int st;
	zbuf tr;                 /* this recipient's part of the transcript */
} jrc;

/* a message whose body and dot are written, its reply not yet read */
struct smtp_pend {
	ta_msg *m;
	int released;            /* the job loop is done with m: close it here */
	jrc *v;                  /* its accepted recipients (transcripts owned) */
	size_t n;
	zbuf common, post;
	smtp_reply rep;          /* the dot reply, once read */
	long long since;         /* zmono_ms() when the dot was queued */
};

/* addr_ok - no control characters, no angle brackets, bounded */
static int addr_ok(const char *a)
{
	size_t n = strlen(a);
	if (n > 512)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x20 || c == 0x7f || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

/* param_ok - DSN parameter values: printable ASCII without space */
static int param_ok(zspan v, int alnum_comma)
{
	if (v.n == 0 || v.n > 500)
		return 0;
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (alnum_comma ? !(isalnum(c) || c == ',') : (c < 33 || c > 126))
			return 0;
	}
	return 1;
}

/* fail_set - the same result for every recipient in set with status st */
static void fail_set(smtp_sess *s, ta_msg *m, jrc *v, size_t n, int only_st, int code,
		     long retry, const char *status, const char *dcode, const char *text)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].st != only_st && !(only_st == R_OPEN && v[i].st == R_ACCEPTED))
			continue;
		rdiag(s, m, v[i].r, code, retry, NULL, status, dcode, text);
		v[i].st = R_DONE;
	}
}

/* fail_conn - connection lost: defer every open/accepted recipient */
static void fail_conn(smtp_sess *s, ta_msg *m, jrc *v, size_t n, zbuf *common)
{
	char dc[600];
	snprintf(dc, sizeof(dc), "smtp; 400 %s", zbuf_cstr(&s->err));
	for (size_t i = 0; i < n; i++) {
		if (v[i].st != R_OPEN && v[i].st != R_ACCEPTED && v[i].st != R_RETRY)
			continue;
		zbuf t = ZBUF_INIT(16384);
		zbuf_append(&t, common->data ? common->data : "", common->len);
		if (v[i].tr.len) {
			zbuf_putc(&t, '\n');
			zbuf_append(&t, v[i].tr.data, v[i].tr.len);
		}
		if (t.len)
			zbuf_putc(&t, '\n');
		zbuf_puts(&t, zbuf_cstr(&s->err));
		rdiag(s, m, v[i].r, EX_TEMPFAIL, 60, NULL, "4.4.2", dc, zbuf_cstr(&t));
		zbuf_free(&t);
		v[i].st = R_DONE;
	}
}

/* result_reply - diagnose one recipient from a reply */
static void result_reply(smtp_sess *s, ta_msg *m, jrc *j, const smtp_reply *rep,
			 const zbuf *common, const zbuf *post, int at_dot)
{
	char status[24], dc[300];
	int code = smtp_code_map(rep->code, rep->enh, status, sizeof(status));
	zbuf t = ZBUF_INIT(16384);
	const char *action = NULL;

	/* only a 2xx where a final answer is due is a success; 1xx/3xx
	 * there (or a 2xx to DATA) is a protocol violation: retry later */
	if (code == EX_OK && (rep->code / 100 != 2 || at_dot < 0)) {
		code = EX_TEMPFAIL;
		(void)zstrlcpy(status, "4.5.0", sizeof(status));
	}
	/* a 5xx from a server that then closed the connection is not
	 * trusted as final: it may be failing as a whole; retry later */
	if (rep->code / 100 == 5 && (!s->connected || s->io.eof)) {
		code = EX_TEMPFAIL;
		status[0] = '4';
	}

	diagcode(rep, dc, sizeof(dc));
	if (common != NULL && common->len) {
		zbuf_append(&t, common->data, common->len);
	}
	if (j->tr.len) {
		if (t.len)
			zbuf_putc(&t, '\n');
		zbuf_append(&t, j->tr.data, j->tr.len);
	}
	if (post != NULL && post->len) {
		if (t.len)
			zbuf_putc(&t, '\n');
		zbuf_append(&t, post->data, post->len);
	}
	if (code == EX_OK) {
		int relayed = !s->o->lmtp && !(s->caps.flags & CAP_DSN) &&
			notify_has(j->r->r->notify, "SUCCESS");
		action = relayed ? "relayed" : "delivered";
		/* an SMTP next hop that speaks DSN got our NOTIFY: it reports */
		j->r->dsn_passed_on = !s->o->lmtp && (s->caps.flags & CAP_DSN) != 0;
	} else if (at_dot > 0 && code == EX_TEMPFAIL && rep->code / 100 == 4) {
		code = EX_DEFERBACK;
	}
	rdiag(s, m, j->r, code, 0, action, status, dc, zbuf_cstr(&t));
	zbuf_free(&t);
	j->st = R_DONE;
}

struct bodyout {
	smtp_sess *s;
	size_t sent, total, next_title;
	int failed;
	zbuf why;
	zbuf *mem;               /* BDAT: the chunk being collected */
	size_t nchunks;          /* BDAT chunks sent before the LAST one */
};

/* body_progress - "-s": DATA n/m (p%) in the process title every 2000 bytes */
static void body_progress(struct bodyout *b)
{
	if (b->s->o->progress && b->sent >= b->next_title) {
		size_t tot = b->total > b->sent ? b->total : b->sent;
		smtp_title(1, ">%s|%d %s DATA %zu/%zu (%zu%%)", b->s->ip, b->s->port, b->s->host,
			   b->sent, tot, tot ? b->sent * 100 / tot : 100);
		b->next_title = b->sent + 2000;
	}
}

/* bdat_chunk - send the collected chunk as "BDAT n" (not LAST) */
static int bdat_chunk(struct bodyout *b)
{
	char cmd[64];
	int n = snprintf(cmd, sizeof(cmd), "BDAT %zu\r\n", b->mem->len);

	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	smtp_log('w', "BDAT %zu", b->mem->len);
	DBG(b->s, 1, "<<- BDAT %zu (chunk)", b->mem->len);
	if (smtp_session_queue(&b->s->io, cmd, (size_t)n) != Z_OK ||
	    smtp_session_queue(&b->s->io, b->mem->data ? b->mem->data : "", b->mem->len) != Z_OK) {
		b->failed = 1;
		zbuf_puts(&b->why, "out of memory queueing a BDAT chunk");
		return -1;
	}
	b->sent += b->mem->len;
	b->nchunks++;
	zbuf_reset(b->mem);
	if (b->s->io.wbuf.len >= 4 * SMTP_BDAT_CHUNK &&
	    smtp_session_flush(&b->s->io, tmo_ms(b->s, S_BODY), &b->why) != Z_OK) {
		b->failed = 1;
		return -1;
	}
	body_progress(b);
	return 0;
}

/* body_out - mime_send sink: queue, flush in blocks, progress title */
static int body_out(void *arg, const char *p, size_t n)
{
	struct bodyout *b = arg;

	if (b->mem != NULL) {
		while (n > 0) {
			size_t room = SMTP_BDAT_CHUNK - b->mem->len;
			size_t k = n < room ? n : room;
			if (zbuf_append(b->mem, p, k) != Z_OK) {
				b->failed = 1;
				zbuf_puts(&b->why, "out of memory collecting a BDAT chunk");
				return -1;
			}
			p += k;
			n -= k;
			if (b->mem->len >= SMTP_BDAT_CHUNK && n > 0 && bdat_chunk(b) != 0)
				return -1;
		}
		return 0;
	}
	if (smtp_session_queue(&b->s->io, p, n) != Z_OK) {
		b->failed = 1;
		zbuf_puts(&b->why, "out of memory queueing the body");
		return -1;
	}
	b->sent += n;
	if (b->s->io.wbuf.len >= 65536) {
		if (smtp_session_flush(&b->s->io, tmo_ms(b->s, S_BODY), &b->why) != Z_OK) {
			b->failed = 1;
			return -1;
		}
	}
	body_progress(b);
	return 0;
}

/* pend_save - keep m's accepted recipients of v[0..n) waiting for the
 * dot reply; takes over common and post.  Z_OK, or Z_ENOMEM (then the
 * caller reads the reply now) */
static int pend_save(smtp_sess *s, ta_msg *m, jrc *v, size_t n, zbuf *common, zbuf *post)
{
	struct smtp_pend *p;
	size_t k = 0;

	if (s->pend != NULL && pend_drain(s) != Z_OK)
		return Z_EIO;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return Z_ENOMEM;
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	if (p->v == NULL) {
		free(p);
		return Z_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].st != R_ACCEPTED)
			continue;
		p->v[k] = v[i];
		zbuf_init(&v[i].tr, v[i].tr.max);   /* the copy owns the text */
		v[i].st = R_DONE;
		k++;
	}
	p->n = k;
	p->m = m;
	p->since = zmono_ms();
	smtp_reply_init(&p->rep);
	p->common = *common;
	zbuf_init(common, common->max);
	p->post = *post;
	zbuf_init(post, post->max);
	s->pend = p;
	return Z_OK;
}

/* pend_report - report p's recipients from its reply, or (rep NULL) as
 * deferred because the connection was lost after the dot; close the
 * message if the job loop released it; free p */
static void pend_report(smtp_sess *s, struct smtp_pend *p, const smtp_reply *rep,
			const char *why)
{
	char dc[600];

	snprintf(dc, sizeof(dc), "smtp; 400 (%.500s)", why ? why : "connection lost");
	for (size_t i = 0; i < p->n; i++) {
		if (rep != NULL) {
			result_reply(s, p->m, &p->v[i], rep, &p->common, &p->post, 1);
		} else {
			zbuf t = ZBUF_INIT(16384);
			zbuf_append(&t, p->common.data ? p->common.data : "", p->common.len);
			if (p->v[i].tr.len) {
				if (t.len)
					zbuf_putc(&t, '\n');
				zbuf_append(&t, p->v[i].tr.data, p->v[i].tr.len);
			}
			if (p->post.len) {
				if (t.len)
					zbuf_putc(&t, '\n');
				zbuf_append(&t, p->post.data, p->post.len);
			}
			if (t.len)
				zbuf_putc(&t, '\n');
			zbuf_printf(&t, "the connection ended after the end of data was sent "
				    "and before its reply (%s): delivery status unknown, "
				    "will retry", why ? why : "no reason");
			rdiag(s, p->m, p->v[i].r, EX_TEMPFAIL, 60, NULL, "4.4.2", dc, zbuf_cstr(&t));
			zbuf_free(&t);
		}
		zbuf_free(&p->v[i].tr);
	}
	if (p->released) {
		ta_ctlclose(s->ctx, p->m);
		free(p->m);
	}
	smtp_reply_free(&p->rep);
	zbuf_free(&p->common);
	zbuf_free(&p->post);
	free(p->v);
	free(p);
}

/* settle - report the message whose dot reply was read */
static void settle(smtp_sess *s)
{
	struct smtp_pend *p = s->done;

	if (p == NULL)
		return;
	s->done = NULL;
	pend_report(s, p, &p->rep, NULL);
}

/* pend_lost - the connection is gone: defer the unanswered message */
static void pend_lost(smtp_sess *s, const char *why)
{
	struct smtp_pend *p = s->pend;

	if (p == NULL)
		return;
	s->pend = NULL;
	pend_report(s, p, NULL, why);
}

/* wait_hook - the session is about to block for a reply: report meanwhile */
static void wait_hook(void *arg)
{
	smtp_sess *s = arg;

	settle(s);
	if (s->ctx != NULL)
		ta_prefetch(s->ctx);
}

/* pend_drain - read the pending dot reply; the message moves to s->done
 * (reported by settle()).  Z_OK, or an error with the connection dropped,
 * the message deferred and s->err set */
static int pend_drain(smtp_sess *s)
{
	zbuf why = ZBUF_INIT(512);
	struct smtp_pend *p = s->pend;
	int rc;

	if (p == NULL)
		return Z_OK;
	set_state(s, S_DOT);
	rc = smtp_session_flush(&s->io, tmo_ms(s, S_BODY), &why);
	if (rc == Z_OK) {
		/* the dot timeout counts from the dot, not from now */
		long long left = tmo_ms(s, S_DOT) - (zmono_ms() - p->since);
		rc = smtp_session_reply(&s->io, left < 1000 ? 1000 : (long)left, &s->rep, &why);
		if (rc == Z_EAGAIN) {
			zbuf_reset(&why);
			zbuf_printf(&why, "timeout after %ld s waiting for the reply",
				    tmo_ms(s, S_DOT) / 1000);
		}
	}
	if (rc != Z_OK) {
		io_fail_text(s, S_DOT, &why);
		drop_conn(s, zbuf_cstr(&s->err));     /* defers the pending one */
		zbuf_free(&why);
		return rc;
	}
	zbuf_free(&why);
	s->pend = NULL;
	settle(s);                              /* the one before, if any */
	tr_reply(&p->post, &s->rep);
	if (zbuf_set(&p->rep.text, s->rep.text.data ? s->rep.text.data : "",
		     s->rep.text.len) != Z_OK) {
		pend_report(s, p, &s->rep, NULL);     /* report it now */
	} else {
		p->rep.code = s->rep.code;
		p->rep.nlines = s->rep.nlines;
		p->rep.complete = s->rep.complete;
		memcpy(p->rep.enh, s->rep.enh, sizeof(p->rep.enh));
		s->done = p;
	}
	if (s->rep.code == 421) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "server said 421 (closing) after the end of data (%s [%s])",
			    s->mxname, s->ip);
		drop_conn(s, zbuf_cstr(&s->err));
		return Z_EIO;
	}
	return Z_OK;
}

/* smtp_window_fd - flush what is queued; the socket to wait on while a
 * dot reply is outstanding, else -1 (a reply already buffered is read
 * at once) */
int smtp_window_fd(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	zbuf why = ZBUF_INIT(512);

	if (s == NULL)
		return -1;
	if (s->pend == NULL) {
		settle(s);
		return -1;
	}
	if (smtp_session_flush(&s->io, tmo_ms(s, S_BODY), &why) != Z_OK) {
		io_fail_text(s, S_BODY, &why);
		drop_conn(s, zbuf_cstr(&s->err));
		zbuf_free(&why);
		return -1;
	}
	zbuf_free(&why);
	settle(s);
	if (smtp_session_buffered(&s->io)) {
		(void)pend_drain(s);
		settle(s);
		return -1;
	}
	set_state(s, S_DOT);     /* -s: "DATA-dot wait" while we wait */
	return s->io.fd;
}

/* smtp_window_drain - read the outstanding dot reply now */
void smtp_window_drain(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	if (s == NULL)
		return;
	if (s->pend != NULL)
		(void)pend_drain(s);
	settle(s);
}

/* smtp_release - the job loop is done with m (malloc'd): close it now,
 * or when its dot reply has been read */
void smtp_release(ta_ctx *ctx, ta_msg *m)
{
	smtp_sess *s = ctx->agent;
	if (s != NULL && s->pend != NULL && s->pend->m == m) {
		s->pend->released = 1;
		return;
	}
	if (s != NULL && s->done != NULL && s->done->m == m) {
		s->done->released = 1;
		return;
	}
	ta_ctlclose(ctx, m);
	free(m);
}

/* transact - one transaction for v[0..n) (all same sender + headers).
 * Leaves R_RETRY recipients (452) for a follow-up.  Returns 1 when the
 * connection was lost reading the previous message's dot reply before any
 * reply of this transaction: nothing was decided, the caller reconnects
 * and runs it again; else 0. */
static int transact(smtp_sess *s, ta_msg *m, jrc *v, size_t n)
{
	const ctl_rcpt *r0 = v[0].r->r;
	const ctl_sender *snd = r0->sender < m->ctl.nsenders ? &m->ctl.senders[r0->sender] : NULL;
	const char *hdrs = r0->hdr_off >= 0 ? m->ctl.data + r0->hdr_off : "";
	size_t hlen = r0->hdr_off >= 0 ? r0->hdr_len : 0;
	off_t bodyoff = m->ctl.body_off > 0 ? m->ctl.body_off : 0;
	zbuf sender = ZBUF_INIT(1024), cmd = ZBUF_INIT(SMTP_CMD_MAX), common = ZBUF_INIT(8192);
	zbuf post = ZBUF_INIT(8192);
	mime_opts mo;
	mime_result mr;
	int pipelined, use_bdat, nacc = 0, data_sent = 0, again = 0;
	size_t nq = 0;
	char st[24], dc[300];
	struct bodyout bo;
	zbuf mem = ZBUF_INIT(4u * 1024u * 1024u);

	memset(&bo, 0, sizeof(bo));
	zbuf_init(&bo.why, 512);
	s->drain_lost = 0;
	for (size_t i = 0; i < n; i++) {
		v[i].st = R_OPEN;
		zbuf_reset(&v[i].tr);
	}
	/* sender */
	if (snd == NULL || zspan_eq(snd->quad.channel, "error")) {
		/* null sender */
	} else if (ctl_unquote_user(snd->quad.user, &sender) != Z_OK ||
		   !addr_ok(zbuf_cstr(&sender))) {
		fail_set(s, m, v, n, R_OPEN, EX_UNAVAILABLE, 0, "5.1.7",
			 "smtp; 553 5.1.7 (unusable sender address, not sent)",
			 "sender address in the control file is unusable (control characters, "
			 "angle brackets or too long)");
		goto done;
	}
	if (m->bodyfd < 0) {
		fail_set(s, m, v, n, R_OPEN, EX_UNAVAILABLE, 0, "5.3.0", NULL,
			 "message body file is missing; please resend the message");
		goto done;
	}
	/* MIME decision */
	memset(&mo, 0, sizeof(mo));
	memset(&mr, 0, sizeof(mr));
	mo.peer_8bit = ((s->caps.flags & CAP_8BITMIME) && !s->o->sevenbit) || s->o->eightbit;
	mo.decode_qp = s->o->eightbit;
	mo.keep_8bit_headers = s->o->no_mime2;
	mo.dotstuff = 1;
	mo.defcharset = s->o->defcharset;
	if (mime_analyse(hdrs, hlen, m->bodyfd, bodyoff, m->bodysize, &mo, &mr) != Z_OK) {
		fail_set(s, m, v, n, R_OPEN, EX_TEMPFAIL, 0, "4.3.0", NULL,
			 "cannot read or analyse the message body");
		goto done;
	}
	if (mr.cvt == MIME_REFUSE) {
		zbuf t = ZBUF_INIT(512);
		zbuf_printf(&t, "message cannot be sent to a 7-bit server without breaking it: %s",
			    mr.why);
		fail_set(s, m, v, n, R_OPEN, EX_UNAVAILABLE, 0, "5.6.3",
			 "smtp; 554 5.6.3 (conversion required but not allowed)", zbuf_cstr(&t));
		zbuf_free(&t);
		goto done;
	}
	/* SIZE: refuse locally */
	if ((s->caps.flags & CAP_SIZE) && s->caps.size_max > 0 &&
	    m->size_estimate > s->caps.size_max) {
		zbuf t = ZBUF_INIT(512);
		zbuf_printf(&t, "message size %zu exceeds the fixed maximum message size of %lu "
			    "bytes of %s", m->size_estimate, s->caps.size_max, s->mxname);
		snprintf(dc, sizeof(dc), "smtp; 552 5.3.4 message size exceeds fixed maximum");
		fail_set(s, m, v, n, R_OPEN, EX_UNAVAILABLE, 0, "5.3.4", dc, zbuf_cstr(&t));
		zbuf_free(&t);
		goto done;
	}
	/* RSET after an incomplete transaction */
	if (s->need_rset) {
		send_cmd(s, &common, 0, "RSET");
		if (wait_reply(s, S_RSET, &common) != Z_OK || s->rep.code / 100 != 2) {
			char dest[256];
			if (s->connected)
				drop_conn(s, "RSET failed");
			/* a fresh connection instead */
			(void)zstrlcpy(dest, s->host, sizeof(dest));
			if (open_conn(s, dest) != Z_OK) {
				char dc[600];
				snprintf(dc, sizeof(dc), "smtp; 400 (%.500s)", zbuf_cstr(&s->cf_text));
				fail_set(s, m, v, n, R_OPEN, s->cf_code, s->cf_retry, s->cf_status, dc,
					 zbuf_cstr(&s->cf_text));
				goto done;
			}
		}
		s->need_rset = 0;
		zbuf_reset(&common);
	}
	pipelined = (s->caps.flags & CAP_PIPELINING) && !s->o->no_pipelining;
	use_bdat = (s->caps.flags & CAP_CHUNKING) != 0;
	s->drain_lost = 0;      /* only a loss at this transaction's first reply counts */

	/* MAIL */
	zbuf_printf(&cmd, "MAIL From:<%s>", zbuf_cstr(&sender));
	if (mr.send_8bitmime && (s->caps.flags & CAP_8BITMIME) && !s->o->sevenbit)
		zbuf_puts(&cmd, " BODY=8BITMIME");
	if (s->caps.flags & CAP_SIZE)
		zbuf_printf(&cmd, " SIZE=%zu", m->size_estimate);
	if (s->caps.flags & CAP_DSN) {
		if (zspan_caseeq(r0->ret, "FULL") || zspan_caseeq(r0->ret, "HDRS"))
			zbuf_printf(&cmd, " RET=%.*s", (int)r0->ret.n, r0->ret.p);
		if (r0->envid.n > 0) {
			zbuf e = ZBUF_INIT(1024);
			if (xtext_valid(r0->envid))
				zbuf_append(&e, r0->envid.p, r0->envid.n);
			else
				xtext_encode(&e, r0->envid);
			if (e.len > 0 && e.len <= 100)     /* RFC 3461: at most 100 */
				zbuf_printf(&cmd, " ENVID=%s", zbuf_cstr(&e));
			zbuf_free(&e);
		}
	}
	if (send_cmd(s, &common, 0, "%s", zbuf_cstr(&cmd)) != Z_OK) {
		fail_set(s, m, v, n, R_OPEN, EX_TEMPFAIL, 0, "4.3.0", NULL, "MAIL command too long");
		goto done;
	}
	if (!pipelined) {
		if (wait_reply(s, S_MAIL, &common) != Z_OK)
			goto lost;
		if (s->rep.code / 100 != 2)
			goto mail_failed;
	}
	/* RCPT */
	for (size_t i = 0; i < n; i++) {
		const ctl_rcpt *cr = v[i].r->r;
		const char *user = v[i].r->user ? v[i].r->user : "";
		zbuf_reset(&cmd);
		if (!addr_ok(user)) {
			v[i].st = R_DONE;
			rdiag(s, m, v[i].r, EX_NOUSER, 0, NULL, "5.1.3",
			      "smtp; 553 5.1.3 (unusable address, not sent)",
			      "recipient address in the control file is unusable (control "
			      "characters, angle brackets or too long)");
			continue;
		}
		zbuf_printf(&cmd, "RCPT To:<%s>", user);
		if (s->caps.flags & CAP_DSN) {
			if (param_ok(cr->notify, 1))
				zbuf_printf(&cmd, " NOTIFY=%.*s", (int)cr->notify.n, cr->notify.p);
			else
				zbuf_puts(&cmd, " NOTIFY=FAILURE,DELAY");
			if (cr->orcpt.n > 0 && param_ok(cr->orcpt, 0) && zspan_chr(cr->orcpt, ';') > 0) {
				/* addr-type ";" xtext; re-encode a raw address */
				long semi = zspan_chr(cr->orcpt, ';');
				zspan rest = { cr->orcpt.p + semi + 1, cr->orcpt.n - (size_t)semi - 1 };
				zbuf_printf(&cmd, " ORCPT=%.*s", (int)semi + 1, cr->orcpt.p);
				if (xtext_valid(rest))
					zbuf_append(&cmd, rest.p, rest.n);
				else
					xtext_encode(&cmd, rest);
			} else {
				zbuf_puts(&cmd, " ORCPT=rfc822;");
				xtext_encode(&cmd, zspan_from(user));
			}
		}
		if (send_cmd(s, &v[i].tr, 0, "%s", zbuf_cstr(&cmd)) != Z_OK) {
			v[i].st = R_DONE;
			rdiag(s, m, v[i].r, EX_NOUSER, 0, NULL, "5.1.3",
			      "smtp; 553 5.1.3 (address too long, not sent)",
			      "RCPT command would be too long");
			continue;
		}
		nq++;
		if (pipelined)
			continue;
		if (wait_reply(s, S_RCPT, &v[i].tr) != Z_OK)
			goto lost;
		if (s->rep.code / 100 == 2) {
			v[i].st = R_ACCEPTED;
			nacc++;
		} else if (s->rep.code == 452 || strcmp(s->rep.enh, "4.5.3") == 0) {
			v[i].st = R_RETRY;
		} else {
			result_reply(s, m, &v[i], &s->rep, &common, NULL, 0);
		}
	}
	/* RFC 2920: DATA may end the group; the server refuses it (503/554)
	 * when no RCPT was accepted */
	if (pipelined && !use_bdat && nq > 0) {
		if (send_cmd(s, &post, 0, "DATA") == Z_OK)
			data_sent = 1;
	}
	if (pipelined) {
		if (wait_reply(s, S_MAIL, &common) != Z_OK) {
			if (s->drain_lost && !s->connected) {
				again = 1;      /* nothing of ours was answered */
				goto done;
			}
			goto lost;
		}
		if (s->rep.code / 100 != 2) {
			/* read (and void) the RCPT replies */
			smtp_reply keep;
			smtp_reply_init(&keep);
			zbuf_set(&keep.text, s->rep.text.data, s->rep.text.len);
			keep.code = s->rep.code;
			memcpy(keep.enh, s->rep.enh, sizeof(keep.enh));
			for (size_t i = 0; i < n; i++) {
				if (v[i].st != R_OPEN)
					continue;
				if (wait_reply(s, S_RCPT, &v[i].tr) != Z_OK)
					break;
			}
			if (data_sent && s->connected && wait_reply(s, S_DATA, &post) == Z_OK &&
			    s->rep.code == 354)
				drop_conn(s, "server answered DATA with 354 after refusing MAIL");
			zbuf_set(&s->rep.text, keep.text.data, keep.text.len);
			s->rep.code = keep.code;
			memcpy(s->rep.enh, keep.enh, sizeof(keep.enh));
			smtp_reply_free(&keep);
			goto mail_failed;
		}
		for (size_t i = 0; i < n; i++) {
			if (v[i].st != R_OPEN)
				continue;
			if (wait_reply(s, S_RCPT, &v[i].tr) != Z_OK)
				goto lost;
			if (s->rep.code / 100 == 2) {
				v[i].st = R_ACCEPTED;
				nacc++;
			} else if (s->rep.code == 452 || strcmp(s->rep.enh, "4.5.3") == 0) {
				v[i].st = R_RETRY;
			} else {
				result_reply(s, m, &v[i], &s->rep, &common, NULL, 0);
			}
		}
	}
	if (data_sent) {
		if (wait_reply(s, S_DATA, &post) != Z_OK)
			goto lost;
		if (nacc == 0) {
			/* expected: 503/554 "no valid recipients" */
			if (s->rep.code == 354)
				drop_conn(s, "server answered DATA with 354 although no "
					  "recipient was accepted");
			else
				s->need_rset = 1;
			goto done;
		}
		if (s->rep.code != 354) {
			s->need_rset = 1;
			for (size_t i = 0; i < n; i++)
				if (v[i].st == R_ACCEPTED)
					result_reply(s, m, &v[i], &s->rep, &common, &post, -1);
			goto done;
		}
	} else if (nacc == 0) {
		s->need_rset = 1;
		goto done;
	}

	/* body */
	bo.s = s;
	bo.total = m->size_estimate;
	bo.next_title = 0;
	if (use_bdat) {
		/* BDAT chunks are pipelined (RFC 3030); replies are read after
		 * the LAST one, the first failure decides */
		smtp_reply bad;
		int have_bad = 0;

		mo.dotstuff = 0;
		bo.mem = &mem;
		set_state(s, S_BODY);
		if (mime_send(hdrs, hlen, m->bodyfd, bodyoff, m->bodysize, &mo, &mr, body_out, &bo) != Z_OK ||
		    bo.failed) {
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "%s, %s (%s [%s])", bo.why.len ? zbuf_cstr(&bo.why) :
				    "error reading or converting the message body",
				    smtp_state(S_BODY)->desc, s->mxname, s->ip);
			drop_conn(s, zbuf_cstr(&s->err));
			goto lost;
		}
		if (bo.nchunks > 0) {
			zbuf_printf(&post, "%s<<- (%zu BDAT chunks, %zu bytes)", post.len ? "\n" : "",
				    bo.nchunks, bo.sent);
		}
		send_cmd(s, &post, 0, "BDAT %zu LAST", mem.len);
		smtp_session_queue(&s->io, mem.data ? mem.data : "", mem.len);
		smtp_log('#', "%zu bytes in %zu BDAT chunks", bo.sent + mem.len, bo.nchunks + 1);
		smtp_reply_init(&bad);
		for (size_t k = 0; k < bo.nchunks; k++) {
			if (wait_reply(s, S_BDAT, &post) != Z_OK) {
				smtp_reply_free(&bad);
				goto lost;
			}
			if (s->rep.code / 100 != 2 && !have_bad) {
				have_bad = 1;
				zbuf_set(&bad.text, s->rep.text.data, s->rep.text.len);
				bad.code = s->rep.code;
				memcpy(bad.enh, s->rep.enh, sizeof(bad.enh));
			}
		}
		if (wait_reply(s, S_BDAT, &post) != Z_OK) {
			smtp_reply_free(&bad);
			goto lost;
		}
		if (have_bad) {
			s->need_rset = 1;
			for (size_t i = 0; i < n; i++)
				if (v[i].st == R_ACCEPTED)
					result_reply(s, m, &v[i], &bad, &common, &post, 1);
			smtp_reply_free(&bad);
			goto done;
		}
		smtp_reply_free(&bad);
	} else {
		if (!data_sent) {
			send_cmd(s, &post, 0, "DATA");
			if (wait_reply(s, S_DATA, &post) != Z_OK)
				goto lost;
			if (s->rep.code != 354) {
				s->need_rset = 1;
				for (size_t i = 0; i < n; i++)
					if (v[i].st == R_ACCEPTED)
						result_reply(s, m, &v[i], &s->rep, &common, &post, -1);
				goto done;
			}
		}
		set_state(s, S_BODY);
		if (mime_send(hdrs, hlen, m->bodyfd, bodyoff, m->bodysize, &mo, &mr, body_out, &bo) != Z_OK ||
		    bo.failed) {
			zbuf_reset(&s->err);
			if (bo.why.len)
				zbuf_printf(&s->err, "%s, %s (%s [%s])", zbuf_cstr(&bo.why),
					    smtp_state(S_BODY)->desc, s->mxname, s->ip);
			else
				zbuf_printf(&s->err, "error reading or converting the message body");
			drop_conn(s, zbuf_cstr(&s->err));
			goto lost;
		}
		tr_add(&post, "<<- ", "(message body)", 14);
		smtp_session_queue(&s->io, ".\r\n", 3);
		DBG(s, 1, "<<- (message body, %zu bytes)", bo.sent);
		DBG(s, 1, "<<- .");
		smtp_log('w', ".");
		tr_add(&post, "<<- ", ".", 1);
		smtp_log('#', "%zu bytes, %zu in header, %d recipients", bo.sent, hlen, nacc);
		smtp_title(s->o->progress, ">%s|%d %s DATA-dot wait", s->ip, s->port, s->host);
		/* the window: leave the dot reply for later, the next job's
		 * commands go out right behind the dot */
		if (!s->o->lmtp && pipelined && !s->o->one_per_conn &&
		    pend_save(s, m, v, n, &common, &post) == Z_OK) {
			s->need_rset = 0;
			goto done;
		}
		if (!s->o->lmtp && wait_reply(s, S_DOT, &post) != Z_OK)
			goto lost;
	}
	if (s->o->lmtp) {
		/* one reply per accepted recipient, in RCPT order; with BDAT the
		 * first reply is already in s->rep */
		int first = use_bdat;
		for (size_t i = 0; i < n; i++) {
			if (v[i].st != R_ACCEPTED)
				continue;
			zbuf lt = ZBUF_INIT(16384);
			zbuf_append(&lt, post.data ? post.data : "", post.len);
			if (!first && wait_reply(s, S_DOT, &lt) != Z_OK) {
				zbuf_free(&lt);
				goto lost;
			}
			first = 0;
			result_reply(s, m, &v[i], &s->rep, &common, &lt, 1);
			zbuf_free(&lt);
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (v[i].st == R_ACCEPTED)
				result_reply(s, m, &v[i], &s->rep, &common, &post, 1);
	}
	s->need_rset = 0;
	goto done;

mail_failed:
	s->need_rset = 1;
	{
		int code = smtp_code_map(s->rep.code, s->rep.enh, st, sizeof(st));
		if (code == EX_OK) {          /* 1xx/3xx to MAIL */
			code = EX_TEMPFAIL;
			(void)zstrlcpy(st, "4.5.0", sizeof(st));
		}
		if (s->rep.code / 100 == 5 && (!s->connected || s->io.eof)) {
			code = EX_TEMPFAIL;   /* 5xx, then the server closed: retry */
			st[0] = '4';
		}
		diagcode(&s->rep, dc, sizeof(dc));
		for (size_t i = 0; i < n; i++) {
			if (v[i].st == R_DONE)
				continue;
			zbuf t = ZBUF_INIT(16384);
			zbuf_append(&t, common.data ? common.data : "", common.len);
			if (v[i].tr.len) {
				zbuf_putc(&t, '\n');
				zbuf_append(&t, v[i].tr.data, v[i].tr.len);
			}
			rdiag(s, m, v[i].r, code, 0, NULL, st, dc, zbuf_cstr(&t));
			zbuf_free(&t);
			v[i].st = R_DONE;
		}
	}
	goto done;
lost:
	if (post.len) {
		if (common.len)
			zbuf_putc(&common, '\n');
		zbuf_append(&common, post.data, post.len);
	}
	fail_conn(s, m, v, n, &common);
done:
	if (s->connected && s->rep.code == 421)
		drop_conn(s, "server said 421 (closing)");
	zbuf_free(&post);
	zbuf_free(&sender);
	zbuf_free(&cmd);
	zbuf_free(&common);
	zbuf_free(&bo.why);
	zbuf_free(&mem);
	s->drain_lost = 0;
	return again;
}

/* fail_all_cf - report the remembered connection failure to every open rcpt */
static void fail_all_cf(smtp_sess *s, ta_msg *m)
{
	char dc[600];
	const char *text = zbuf_cstr(&s->cf_text);

	if (strncmp(text, "556 ", 4) == 0)
		snprintf(dc, sizeof(dc), "smtp; %.500s", text);
	else
		snprintf(dc, sizeof(dc), "smtp; %s (%.500s)", s->cf_code == EX_TEMPFAIL ||
			 s->cf_code == EX_DEFERALL ? "400" : "500", text);
	for (size_t i = 0; i < m->nrcpts; i++) {
		ta_rcpt *r = &m->rcpts[i];
		if (!r->locked || r->reported)
			continue;
		rdiag(s, m, r, s->cf_code, s->cf_retry, NULL, s->cf_status, dc, text);
	}
}

/* smtp_deliver - job callback */
int smtp_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	smtp_sess *s = ctx->agent;
	const char *dest;
	jrc *v = NULL;
	size_t nv = 0;
	int conn_tried = 0, conn_failed = 0;

	s->ctx = ctx;
	dest = s->o->forcedest ? s->o->forcedest : (host && *host ? host : ctx->fixed_host);
	smtp_log('#', "jobspec: %s%s%s", m->relpath, host && *host ? "\t" : "", host ? host : "");
	smtp_log('#', "%s: %.*s", m->spoolid, (int)m->ctl.logid.n, m->ctl.logid.p);
	if (dest == NULL || *dest == '\0') {
		cf_set(s, EX_TEMPFAIL, 0, "4.3.5", "smtp needs a defined host (argument or job line)");
		ta_say(ctx, "smtp needs defined host!");
		fail_all_cf(s, m);
		return Z_OK;
	}
	if (s->connected && strcasecmp(s->host, dest) != 0)
		quit_close(s);
	if (s->connected && s->pend == NULL && smtp_session_readable(&s->io, 0)) {
		/* EOF or an unsolicited reply (421) on the idle connection */
		drop_conn(s, "peer closed or spoke on the idle connection");
	}
	v = calloc(m->nrcpts ? m->nrcpts : 1, sizeof(*v));
	if (v == NULL) {
		cf_set(s, EX_TEMPFAIL, 60, "4.3.0", "out of memory");
		fail_all_cf(s, m);
		return Z_OK;
	}
	for (size_t i = 0; i < m->nrcpts; i++) {
		if (!m->rcpts[i].locked || m->rcpts[i].reported)
			continue;
		v[nv].r = &m->rcpts[i];
		v[nv].st = R_OPEN;
		zbuf_init(&v[nv].tr, 8192);
		nv++;
	}
	/* groups: same sender and header block */
	for (;;) {
		size_t first = nv, gn = 0;
		jrc *g;
		for (size_t i = 0; i < nv; i++)
			if (v[i].st == R_OPEN || v[i].st == R_RETRY) {
				first = i;
				break;
			}
		if (first == nv)
			break;
		g = calloc(nv, sizeof(*g));
		if (g == NULL)
			break;
		for (size_t i = first; i < nv; i++) {
			if ((v[i].st == R_OPEN || v[i].st == R_RETRY) &&
			    v[i].r->r->sender == v[first].r->r->sender &&
			    v[i].r->r->hdr_off == v[first].r->r->hdr_off) {
				g[gn] = v[i];
				g[gn].st = R_OPEN;
				v[i].st = R_DONE;     /* handled through g */
				gn++;
			}
		}
		/* send the group in chunks of the recipient limit; 452s retried */
		for (int round = 0; gn > 0; round++) {
			size_t lim, cn = 0, progress = 0;
			jrc *c;
			if (!s->connected) {
				if (conn_failed)
					break;
				conn_tried++;
				if (conn_tried > 2 || open_conn(s, dest) != Z_OK) {
					if (conn_tried > 2)
						cf_set(s, EX_TEMPFAIL, 60, "4.4.2",
						       "connection lost repeatedly during this job");
					conn_failed = 1;
					break;
				}
			}
			lim = s->caps.rcptlimit ? s->caps.rcptlimit : SMTP_RCPTLIMIT_DEFAULT;
			c = g;
			cn = gn < lim ? gn : lim;
			if (transact(s, m, c, cn) == 1) {
				/* lost before any reply of ours: reconnect, again */
				zbuf none = ZBUF_INIT(16);
				if (round < 3)
					continue;
				fail_conn(s, m, c, cn, &none);
			}
			for (size_t i = 0; i < cn; i++)
				if (c[i].st == R_DONE)
					progress++;
			/* compact: keep R_RETRY of this chunk and everything after it */
			{
				size_t k = 0;
				for (size_t i = 0; i < gn; i++) {
					if (i < cn && c[i].st != R_RETRY) {
						zbuf_free(&g[i].tr);
						continue;
					}
					g[k++] = g[i];
				}
				gn = k;
			}
			if (gn > 0 && progress == 0) {
				/* nothing moved: every remaining one got 452 */
				for (size_t i = 0; i < gn && i < cn; i++) {
					zbuf t = ZBUF_INIT(8192);
					char dc[300];
					zbuf_append(&t, g[i].tr.data ? g[i].tr.data : "", g[i].tr.len);
					diagcode(&s->rep, dc, sizeof(dc));
					rdiag(s, m, g[i].r, EX_TEMPFAIL, 0, NULL, "4.5.3", dc,
					      zbuf_cstr(&t));
					zbuf_free(&t);
					g[i].st = R_DONE;
				}
				{
					size_t k = 0;
					for (size_t i = 0; i < gn; i++) {
						if (g[i].st == R_DONE) {
							zbuf_free(&g[i].tr);
							continue;
						}
						g[k++] = g[i];
					}
					gn = k;
				}
			}
			if (round > 100000)
				break;
		}
		for (size_t i = 0; i < gn; i++)
			zbuf_free(&g[i].tr);
		free(g);
		if (conn_failed)
			break;
	}
	if (conn_failed)
		fail_all_cf(s, m);
	for (size_t i = 0; i < nv; i++)
		if (v[i].tr.data != NULL && v[i].st != R_DONE)
			zbuf_free(&v[i].tr);
	free(v);
	if (s->o->one_per_conn)
		quit_close(s);
	if (s->pend == NULL)
		smtp_title(s->o->progress, "#hungry");
	return Z_OK;
}

/* smtp_newhost - a job for another host: close the old connection */
void smtp_newhost(ta_ctx *ctx, const char *host)
{
	smtp_sess *s = ctx->agent;
	if (s->o->forcedest != NULL)
		return;
	if (s->connected && host != NULL && strcasecmp(host, s->host) != 0) {
		smtp_title(s->o->progress, "NewDomain: %s", host);
		quit_close(s);
	}
}

/* smtp_idle - keep the connection alive with NOOP */
void smtp_idle(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	if (!s->connected)
		return;
	smtp_title(s->o->progress, "#idle NOOP");
	send_cmd(s, NULL, 0, "NOOP");
	if (wait_reply(s, S_NOOP, NULL) != Z_OK || s->rep.code / 100 != 2)
		quit_close(s);
}

/* smtp_idlecmd - "#idle" from the scheduler */
void smtp_idlecmd(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	smtp_title(s->o->progress, "#idle");
}

/* smtp_finish - end of input */
void smtp_finish(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	quit_close(s);
}

/* smtp_select_mx - -e: take recipients whose domain has our MX */
int smtp_select_mx(ta_ctx *ctx, const ctl_rcpt *r, zspan host, void *arg)
{
	smtp_sess *s = ctx->agent;
	char dom[256];
	(void)host;
	(void)arg;
	if (s == NULL || !s->connected || s->dns == NULL || s->mxname[0] == '\0')
		return 0;
	if (zspan_copy(r->quad.host, dom, sizeof(dom)) != Z_OK)
		return 0;
	return smtp_dns_has_mx(s->dns, dom, s->mxname) == 1;
}

/* smtp_probe - -D */
int smtp_probe(smtp_sess *s, const char *host)
{
	if (open_conn(s, host) != Z_OK) {
		printf("%s: %s\n", host, zbuf_cstr(&s->cf_text));
		return s->cf_code == EX_DEFERALL ? EX_TEMPFAIL : s->cf_code;
	}
	printf("%s: connected to %s [%s]:%d%s\n", host, s->mxname, s->ip, s->port,
	       s->tls_on ? " (TLS)" : "");
	quit_close(s);
	return EX_OK;
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
