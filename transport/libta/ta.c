/*
 * NAME
 *	ta - the transport agent library: job loop, ctlopen, diagnostic
 *
 * SUMMARY
 *	Everything a transport agent shares: read job lines from the
 *	scheduler, select and lock this agent's recipients in a control file,
 *	turn a sysexits code into exactly one report line per recipient,
 *	append 'd' diagnostic lines, patch the tag bytes, and defer whatever
 *	an agent forgot.
 *
 * SYNOPSIS
 *	#include "ta.h"
 *
 *	void ta_init(ta_ctx *ctx, const char *progname, const char *channel);
 *	int ta_jobloop(ta_ctx *ctx, const ta_agent_ops *ops);
 *	void ta_prefetch(ta_ctx *ctx);
 *	int ta_diag_failed(void);
 *	int ta_ctlopen(ta_ctx *ctx, const char *relpath, const char *host,
 *		ta_selector_fn sel, void *selarg, ta_msg *m, zbuf *err);
 *	void ta_ctlclose(ta_ctx *ctx, ta_msg *m);
 *	void ta_notary(ta_rcpt *r, const char *action, const char *status,
 *		const char *diag, const char *remote);
 *	int ta_diagnostic(ta_ctx *ctx, ta_msg *m, ta_rcpt *r, int exitcode,
 *		long retry_secs, const char *fmt, ...);
 *	void ta_say(ta_ctx *ctx, const char *fmt, ...);
 *	int ta_keepalive(ta_ctx *ctx);
 *
 * DESCRIPTION
 *	The agent runs with cwd $POSTOFFICE/transport.  ta_jobloop() writes
 *	"#hungry\n" with write(2) before every read, reads bounded lines
 *	from ctx->in_fd, and for each job opens the control file, calls
 *	ops->deliver, and closes it.  "#idle" calls ops->idlecmd; an empty
 *	line or EOF calls ops->finish and returns EX_OK; a partial last line
 *	at EOF is discarded; no input for ctx->idle_timeout_ms (> 0) calls
 *	ops->idle.  SIGTERM, SIGINT, SIGHUP and SIGQUIT set ctx->stop: the
 *	current job is finished, then the loop returns EX_OK.  It is the one
 *	job loop of every agent: an agent that keeps work outstanding after
 *	deliver returns (the smtp agent's pipelining window) gives wait_fd,
 *	drain, release and poll (ta.h); the loop then waits on the job input
 *	and that fd together, and ta_prefetch() lets the agent open the next
 *	buffered job for the same host while it waits for its peer.  SIGPIPE is
 *	ignored (a dead scheduler shows up as a write error).
 *
 *	ta_ctlopen() selects 'r' lines with tag ' ', channel equal to
 *	ctx->channel and host equal (ASCII case-insensitive) to the job host,
 *	else ctx->fixed_host, else any host when neither is set; the
 *	selector may take others.  Each is locked ' ' -> '~'+pid; losing a
 *	lock race skips the recipient.  With ctx->hold_locks (the smtp
 *	agent) the byte-range lock under which the '~' was written stays
 *	held (ctl_lock_hold) until the recipient's report, or until the file
 *	is closed or the agent dies (the kernel drops it): the report writes
 *	its tag with one pwrite and no re-check; a recipient given back (' ')
 *	lets go of it at once.  Agents whose children keep the control file
 *	open without exec (mailbox's delivery child) leave it off: a child
 *	outliving a killed agent would keep the lock from the scheduler.  A missing body file fails every
 *	selected recipient permanently and returns Z_OK with bodyfd -1 and
 *	nothing left locked (the job loop then skips deliver).
 *
 *	ta_diagnostic() implements the sysexits table of zmta-ta(7): the
 *	'd' line (when the word needs one) is appended first, then the tag
 *	is patched, then the report line is written, then a log line.  The
 *	report line written while ta_jobloop's deliver is at work (about
 *	that job or an older one of a pipelining window) waits (one line at
 *	most) and goes out in one write(2) with the line after it, normally
 *	the next "#hungry"; every other line goes out at once, after a held
 *	report.
 *
 *	ta_keepalive() writes "#keepalive": an agent waiting long for a peer
 *	calls it now and then (at most every few seconds) so that the
 *	scheduler's silence limit only catches hung agents.
 *
 * DIAGNOSTICS
 *	Library functions return Z_OK or a Z_E* code with text in err.  Agent
 *	warnings go to the scheduler as "# prog:pid: text" lines and to zlog.
 *	A failed 'd' line append writes "#HELP! diagnostic writeout failed",
 *	leaves the recipient locked (so ta_ctlclose() defers it) and makes
 *	ta_jobloop() return EX_DATAERR after the current job.
 *
 * SECURITY
 *	Job lines, control files and body file names are untrusted: job paths
 *	are checked by taproto/spool_jobpath_check(), files are opened without
 *	following symlinks below transport/ and ../queue/, the 'i' value must
 *	be digits.  Text going into report or 'd' lines is cleaned of TAB, NL,
 *	\001 and control bytes.  Nothing here ever unlinks a file.
 *
 * BUGS
 *	'X' (XOR group) recipients are never selected.  The relay field of the
 *	log line is the notary remote-mta field.  A held report line waits
 *	while the agent's deliver goes on (other recipients, its peer's
 *	next reply) until the agent writes its next line: a second report,
 *	"#hungry" or a "#keepalive" during a long wait.
 *
 * SEE ALSO
 *	zmta-ta(7), zmta-spool(5), spool/taproto.c, spool/ctlfile.c
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "ta.h"
#include "zline.h"
#include "zlog.h"
#include "zutil.h"

#define TA_ERRMAX 1024

static ta_ctx *sig_ctx;                 /* the context signals stop */
static volatile sig_atomic_t sig_seen;  /* a stop signal arrived */
static int diag_failed;                 /* a 'd' line append failed */

/* on_stop_signal - ask the job loop to finish the current job and exit */
static void on_stop_signal(int sig)
{
	(void)sig;
	sig_seen = 1;
	if (sig_ctx != NULL)
		sig_ctx->stop = 1;
}

static int queue_dirfd = -1;   /* ../queue, opened once (ta_ctlopen) */

/* ta_init - fill ctx with defaults and install the stop signal handlers */
void ta_init(ta_ctx *ctx, const char *progname, const char *channel)
{
	struct sigaction sa;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

	memset(ctx, 0, sizeof(*ctx));
	ctx->progname = progname ? progname : "ta";
	ctx->channel = channel ? channel : ctx->progname;
	ctx->fixed_host = NULL;
	ctx->pid = (int)getpid();
	ctx->out_fd = STDOUT_FILENO;
	ctx->in_fd = STDIN_FILENO;
	ctx->idle_timeout_ms = -1;
	/* our stderr is the scheduler's socket too: log lines go out as
	 * protocol comments ("# prog:pid: ...") so they are logged, not
	 * mistaken for malformed reports */
	zlog_open(ctx->progname, ZLOG_TO_STDERR | ZLOG_AS_COMMENT);
	/* reports go out with write(2); keep stdio from buffering anything */
	setvbuf(stdout, NULL, _IONBF, 0);

	sig_ctx = ctx;
	sig_seen = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: interrupt a waiting poll() */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* clean_text - copy s into out with NL->CR, TAB->space, controls->'?' */
static void clean_text(const char *s, char *out, size_t outsz)
{
	size_t i = 0;

	if (outsz == 0)
		return;
	for (; s != NULL && *s != '\0' && i + 1 < outsz; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			c = '\r';
		else if (c == '\t')
			c = ' ';
		else if ((c < 0x20 && c != '\r') || c == 0x7f)
			c = '?';
		out[i++] = (char)c;
	}
	out[i] = '\0';
}

/* clean_field - dup s with bytes not allowed in a notary field replaced */
static char *clean_field(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		d[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	d[n] = '\0';
	return d;
}

struct ta_loop {
	const ta_agent_ops *ops;
	int running;                  /* prefetch allowed */
	zline zl;
	char look[TAPROTO_LINE_MAX];  /* a line taken from zl, not yet used */
	size_t looklen;
	int have_look, toolong;
	char lasthost[256];
	int have_last;
	ta_msg *ahead;                /* a job opened ahead ("#hungry" written) */
	char ahead_host[256];         /* its job host, "" if none */
	const ta_msg *cur;            /* the job in deliver_job: "#hungry" follows it */
	size_t nheld;                 /* bytes of held[] not written yet */
	char held[TAPROTO_LINE_MAX + 16]; /* a report line waiting for "#hungry" */
};

/* put_line - write all of p[0..n) to the scheduler, after a held report
 * line (in the same write when both fit in the hold buffer) */
static int put_line(ta_ctx *ctx, const char *p, size_t n)
{
	struct ta_loop *jl = ctx->loop;

	if (jl != NULL && jl->nheld > 0) {
		size_t h = jl->nheld;
		jl->nheld = 0;
		if (n <= sizeof(jl->held) - h) {
			memcpy(jl->held + h, p, n);
			return zwrite_all(ctx->out_fd, jl->held, h + n);
		}
		int rc = zwrite_all(ctx->out_fd, jl->held, h);
		if (rc != Z_OK)
			return rc;
	}
	return zwrite_all(ctx->out_fd, p, n);
}

/* put_report - a report line written while the loop's deliver_job is at
 * work (about that job, or an older one of the agent's window) is held and
 * goes out with the next line the agent writes (normally the "#hungry"
 * right after the job, or a "#keepalive" while it waits), so that one
 * write carries both; outside deliver_job it is written at once */
static int put_report(ta_ctx *ctx, const char *p, size_t n)
{
	struct ta_loop *jl = ctx->loop;

	if (jl == NULL || jl->cur == NULL || n > sizeof(jl->held) - sizeof("#hungry\n"))
		return put_line(ctx, p, n);
	if (jl->nheld > 0) {
		int rc = put_line(ctx, "", 0);	/* one report held at most */
		if (rc != Z_OK)
			return rc;
	}
	memcpy(jl->held, p, n);
	jl->nheld = n;
	return Z_OK;
}

/* ta_keepalive - tell the scheduler we are alive during a long wait */
int ta_keepalive(ta_ctx *ctx)
{
	static const char line[] = "#keepalive\n";

	return put_line(ctx, line, sizeof(line) - 1) == Z_OK ? Z_OK : Z_EIO;
}

/* ta_say - "# prog:pid: text" to the scheduler */
void ta_say(ta_ctx *ctx, const char *fmt, ...)
{
	char raw[TAPROTO_LINE_MAX / 2], txt[TAPROTO_LINE_MAX / 2];
	char line[TAPROTO_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	clean_text(raw, txt, sizeof(txt));
	for (char *p = txt; *p; p++)
		if (*p == '\r')
			*p = ' ';
	n = snprintf(line, sizeof(line), "# %s:%d: %s\n", ctx->progname, ctx->pid, txt);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)put_line(ctx, line, (size_t)n);
}

/* span_in_list - the comma list s holds word (ASCII case-insensitive) */
static int span_in_list(zspan s, const char *word)
{
	size_t wl = strlen(word);
	const char *p = s.p;
	size_t n = s.n;

	if (p == NULL)
		return 0;
	/* tolerate a "NOTIFY=" prefix */
	if (n >= 7 && strncasecmp(p, "NOTIFY=", 7) == 0) {
		p += 7;
		n -= 7;
	}
	while (n > 0) {
		const char *c = memchr(p, ',', n);
		size_t l = c ? (size_t)(c - p) : n;
		if (l == wl && strncasecmp(p, word, wl) == 0)
			return 1;
		if (c == NULL)
			break;
		p += l + 1;
		n -= l + 1;
	}
	return 0;
}

/* final_recipient - ORCPT "rfc822;xtext" decoded, else the user; malloc'd */
static char *final_recipient(const ta_rcpt *r)
{
	zspan o = r->r ? r->r->orcpt : ZSPAN_NULL;
	char *d;
	size_t k = 0;

	if (o.p != NULL && o.n > 7 && strncasecmp(o.p, "rfc822;", 7) == 0) {
		d = malloc(o.n + 1);
		if (d == NULL)
			return NULL;
		for (size_t i = 7; i < o.n; i++) {
			unsigned char c = (unsigned char)o.p[i];
			if (c == '+' && i + 2 < o.n && zhexval(o.p[i + 1]) >= 0 &&
			    zhexval(o.p[i + 2]) >= 0) {
				c = (unsigned char)(zhexval(o.p[i + 1]) * 16 + zhexval(o.p[i + 2]));
				i += 2;
			}
			if (c < 0x20 || c == 0x7f)
				c = '?';
			d[k++] = (char)c;
		}
		d[k] = '\0';
		return d;
	}
	return clean_field(r->user ? r->user : "");
}

/* set_field - replace *slot with a cleaned copy of v (NULL: unchanged) */
static void set_field(char **slot, const char *v)
{
	char *d;

	if (v == NULL)
		return;
	d = clean_field(v);
	if (d == NULL)
		return;
	free(*slot);
	*slot = d;
}

/* ta_notary - set notary fields for r (NULL leaves a field unchanged) */
void ta_notary(ta_rcpt *r, const char *action, const char *status,
	       const char *diag, const char *remote)
{
	set_field(&r->n_action, action);
	set_field(&r->n_status, status);
	set_field(&r->n_diag, diag);
	set_field(&r->n_remote, remote);
}

enum dclass { DC_OK, DC_TEMP, DC_DEFERALL, DC_DEFERBACK, DC_PERM, DC_ABNORMAL, DC_UNKNOWN };

/* classify - sysexits code to its class in the zmta-ta(7) table */
static enum dclass classify(int code)
{
	switch (code) {
	case EX_OK:
		return DC_OK;
	case EX_TEMPFAIL: case EX_IOERR: case EX_OSERR: case EX_CANTCREAT:
	case EX_SOFTWARE:
		return DC_TEMP;
	case EX_DEFERALL:
		return DC_DEFERALL;
	case EX_DEFERBACK:
		return DC_DEFERBACK;
	case EX_NOUSER: case EX_NOHOST: case EX_UNAVAILABLE:
		return DC_PERM;
	case EX_NOPERM: case EX_PROTOCOL: case EX_USAGE:
		return DC_ABNORMAL;
	default:
		return DC_UNKNOWN;
	}
}

/* ta_diagnostic - the one report for r */
int ta_diagnostic(ta_ctx *ctx, ta_msg *m, ta_rcpt *r, int exitcode,
		  long retry_secs, const char *fmt, ...)
{
	char raw[TAPROTO_LINE_MAX], text[TAPROTO_LINE_MAX];
	char taid[64], dly[32];
	const char *action, *status, *fields[TAPROTO_NOTARY_FIELDS];
	char *frcpt = NULL;
	zbuf notary = ZBUF_INIT(TAPROTO_LINE_MAX);
	zbuf line = ZBUF_INIT(TAPROTO_LINE_MAX);
	zbuf err = ZBUF_INIT(TA_ERRMAX);
	enum dclass dc = classify(exitcode);
	enum ta_word word;
	char newtag;
	int want_d = 0, rc = Z_OK, success;
	size_t tl;
	va_list ap;

	if (r == NULL || r->r == NULL || !r->locked || r->reported) {
		ta_say(ctx, "diagnostic for a recipient that is not locked by us (%s)",
		       r && r->r ? "already reported" : "no recipient");
		return Z_ESTALE;
	}
	raw[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
	}
	/* NOTIFY=SUCCESS asks us for a success report, unless the next hop
	 * took over that duty (it speaks DSN and got NOTIFY from us) */
	success = span_in_list(r->r->notify, "SUCCESS") && !r->dsn_passed_on;
	switch (dc) {
	case DC_OK:
		word = success ? TA_OK2 : TA_OK3;
		want_d = success;
		newtag = CTL_TAG_OK;
		action = "delivered";
		status = "2.0.0";
		break;
	case DC_TEMP:
		word = retry_secs > 0 ? TA_RETRYAT : TA_DEFERRED;
		newtag = CTL_TAG_NORMAL;
		action = "delayed";
		status = "4.0.0";
		break;
	case DC_DEFERALL:
		word = TA_DEFERALL;
		newtag = CTL_TAG_NORMAL;
		action = "delayed";
		status = "4.0.0";
		break;
	case DC_DEFERBACK:
		word = TA_DEFERBACK;
		newtag = CTL_TAG_NORMAL;
		action = "delayed";
		status = "4.0.0";
		break;
	case DC_PERM:
		word = TA_ERROR2;
		want_d = 1;
		newtag = CTL_TAG_NOTOK;
		action = "failed";
		status = "5.0.0";
		break;
	case DC_ABNORMAL:
		word = TA_ERROR2;
		want_d = 1;
		newtag = CTL_TAG_NOTOK;
		action = "failed";
		status = "5.0.0";
		tl = strlen(raw);
		snprintf(raw + tl, sizeof(raw) - tl, " (this is abnormal, investigate!)");
		break;
	default:
		word = TA_ERROR;
		newtag = CTL_TAG_NOTOK;
		action = "failed";
		status = "5.0.0";
		zlog_warn(m->spoolid, "unknown sysexits code %d for %s: %s",
			  exitcode, r->user ? r->user : "?", raw);
		snprintf(raw, sizeof(raw), "Unknown sysexits error code %d!", exitcode);
		break;
	}
	clean_text(raw, text, sizeof(text));

	/* notary: final-recipient action status diagnostic remote prog[pid] */
	frcpt = final_recipient(r);
	snprintf(taid, sizeof(taid), "%s[%d]", ctx->progname, ctx->pid);
	for (char *p = taid; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\001')
			*p = '?';
	fields[0] = frcpt ? frcpt : "";
	fields[1] = r->n_action ? r->n_action : action;
	fields[2] = r->n_status ? r->n_status : status;
	fields[3] = r->n_diag ? r->n_diag : "";
	fields[4] = r->n_remote ? r->n_remote : "";
	fields[5] = taid;
	if (ta_notary_build(&notary, fields) != Z_OK)
		zbuf_reset(&notary);

	if (want_d) {
		ctl_diagv d;
		memset(&d, 0, sizeof(d));
		d.rcpt_off = (long)r->r->off;
		d.hdr_off = r->r->hdr_off;
		d.dsn_off = r->r->dsn_off;
		d.when = (long long)time(NULL);
		d.notary = zbuf_cstr(&notary);
		d.text = text;
		rc = ctl_append_diag(m->ctlfd, &d, &err);
		if (rc != Z_OK) {
			static const char help[] = "#HELP! diagnostic writeout failed\n";
			diag_failed = 1;
			zlog_error(m->spoolid, "%s: diagnostic writeout failed for offset %zu: %s",
				   m->relpath, r->r->off, zbuf_cstr(&err));
			(void)put_line(ctx, help, sizeof(help) - 1);
			rc = Z_EIO;
			goto done;
		}
	}

	zbuf_reset(&err);
	/* the range lock taken with the '~' is still ours: one pwrite */
	if (ctl_hold_set(m->ctlfd, r->r->off, &r->hold, newtag, &err) != Z_OK) {
		zlog_error(m->spoolid, "%s: cannot set tag '%c' at offset %zu: %s",
			   m->relpath, newtag, r->r->off, zbuf_cstr(&err));
		ta_say(ctx, "%s: cannot set tag at offset %zu: %s", m->relpath,
		       r->r->off, zbuf_cstr(&err));
	}
	/* a recipient given back (' ') may be taken again at once: let go of
	 * its bytes now; a final tag nobody takes keeps it until the close */
	if (newtag == CTL_TAG_NORMAL)
		ctl_hold_drop(m->ctlfd, r->r->off, &r->hold);
	r->locked = 0;
	r->reported = 1;

	rc = ta_format_report(&line, m->inum, (unsigned long)r->r->off,
			      (word == TA_OK2 || word == TA_OK3) ? "" : zbuf_cstr(&notary),
			      word, retry_secs > 0 ? retry_secs : 0, 1, text);
	if (rc == Z_OK)
		rc = put_report(ctx, line.data, line.len);
	if (rc != Z_OK)
		zlog_error(m->spoolid, "%s: cannot write report for offset %zu: %s",
			   m->relpath, r->r->off, zerr_str(rc));

	{
		long secs = m->arrival > 0 ? (long)(time(NULL) - m->arrival) : 0;
		const char *ltext = text;
		int tlen_log = 0;
		if (secs < 0)
			secs = 0;
		if (zinterval_format(secs, dly, sizeof(dly)) != Z_OK)
			snprintf(dly, sizeof(dly), "%lds", secs);
		/* the log line carries the last line of the text (the remote's
		 * final answer); the whole transcript is in the report */
		{
			size_t e = strlen(text);
			while (e > 0 && (text[e - 1] == '\n' || text[e - 1] == '\r'))
				e--;
			size_t b = e;
			while (b > 0 && text[b - 1] != '\n' && text[b - 1] != '\r')
				b--;
			ltext = text + b;
			tlen_log = (int)(e - b);
		}
		if (word == TA_RETRYAT)
			zlog_info(m->spoolid, "to=<%s>, delay=%s, mailer=%s, relay=%s, stat=%s +%ld %.*s",
				  r->user ? r->user : "", dly, ctx->channel,
				  r->n_remote ? r->n_remote : "-", ta_word_name(word),
				  retry_secs, tlen_log, ltext);
		else
			zlog_info(m->spoolid, "to=<%s>, delay=%s, mailer=%s, relay=%s, stat=%s %.*s",
				  r->user ? r->user : "", dly, ctx->channel,
				  r->n_remote ? r->n_remote : "-", ta_word_name(word), tlen_log, ltext);
	}
done:
	free(frcpt);
	zbuf_free(&notary);
	zbuf_free(&line);
	zbuf_free(&err);
	return rc;
}

/* host_match - r's host equals h, ignoring ASCII case */
static int host_match(const ctl_rcpt *r, const char *h)
{
	return zspan_caseeq(r->quad.host, h);
}

/* all_digits - s is 1..20 decimal digits */
static int all_digits(zspan s)
{
	if (s.p == NULL || s.n == 0 || s.n > 20)
		return 0;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	return 1;
}

/* release_all - free what ta_ctlopen allocated (locks are not touched) */
static void release_all(ta_msg *m)
{
	if (m->rcpts != NULL) {
		for (size_t i = 0; i < m->nrcpts; i++) {
			ta_rcpt *rp = &m->rcpts[i];
			free(rp->user);
			free(rp->n_action);
			free(rp->n_status);
			free(rp->n_diag);
			free(rp->n_remote);
		}
		free(m->rcpts);
	}
	m->rcpts = NULL;
	m->nrcpts = 0;
	ctl_free(&m->ctl);
	if (m->ctlfd >= 0)
		close(m->ctlfd);
	if (m->bodyfd >= 0)
		close(m->bodyfd);
	m->ctlfd = m->bodyfd = -1;
}

/* unlock_all - give every lock we hold back to ' ' (no report) */
static void unlock_all(ta_ctx *ctx, ta_msg *m)
{
	zbuf e = ZBUF_INIT(TA_ERRMAX);

	for (size_t i = 0; i < m->nrcpts; i++) {
		if (!m->rcpts[i].locked)
			continue;
		zbuf_reset(&e);
		if (ctl_hold_set(m->ctlfd, m->rcpts[i].r->off, &m->rcpts[i].hold,
				 CTL_TAG_NORMAL, &e) != Z_OK)
			zlog_error(m->spoolid, "%s: unlock at %zu failed: %s", m->relpath,
				   m->rcpts[i].r->off, zbuf_cstr(&e));
		ctl_hold_drop(m->ctlfd, m->rcpts[i].r->off, &m->rcpts[i].hold);
		m->rcpts[i].locked = 0;
	}
	zbuf_free(&e);
}

/* ta_ctlopen - open relpath, select and lock this agent's recipients */
int ta_ctlopen(ta_ctx *ctx, const char *relpath, const char *host,
	       ta_selector_fn sel, void *selarg, ta_msg *m, zbuf *err)
{
	unsigned long ino;
	size_t plen, maxhdr = 0, est;
	const char *want;
	zbuf u = ZBUF_INIT(TAPROTO_LINE_MAX);
	zbuf why = ZBUF_INIT(TA_ERRMAX);
	struct stat st;
	int rc, qfd = -1;
	char bodyrel[SPOOL_JOBPATH_MAX + 32];

	memset(m, 0, sizeof(*m));
	m->ctlfd = m->bodyfd = -1;
	if (relpath == NULL) {
		rc = Z_EPARSE;
		goto fail;
	}
	rc = spool_jobpath_check(relpath, strlen(relpath), &ino, &plen, err);
	if (rc != Z_OK) {
		rc = Z_EPARSE;
		goto fail;
	}
	if (zstrlcpy(m->relpath, relpath, sizeof(m->relpath)) != Z_OK ||
	    plen >= sizeof(m->prefix)) {
		if (err) { zbuf_reset(err); zbuf_puts(err, "job path too long"); }
		rc = Z_EPARSE;
		goto fail;
	}
	memcpy(m->prefix, relpath, plen);
	m->prefix[plen] = '\0';
	m->inum = ino;
	if (host != NULL && *host != '\0') {
		if (zstrlcpy(m->host, host, sizeof(m->host)) != Z_OK) {
			if (err) { zbuf_reset(err); zbuf_puts(err, "host name too long"); }
			rc = Z_EPARSE;
			goto fail;
		}
		want = m->host;
	} else {
		want = ctx->fixed_host;
	}

	rc = spool_open_in_tree(AT_FDCWD, relpath, O_RDWR, err);
	if (rc < 0)
		goto fail;	/* Z_ENOENT: vanished, caller says #resync */
	m->ctlfd = rc;
	/* until the body is open (its inode and mtime make the real spool
	 * id) log lines carry the message number alone */
	snprintf(m->spoolid, sizeof(m->spoolid), "S%lu", m->inum);
	rc = ctl_read(m->ctlfd, 0, &m->ctl, &why);
	if (rc != Z_OK) {
		/* never deleted here: the scheduler decides (quarantine) */
		zlog_error(m->spoolid, "%s: control file does not parse: %s",
			   relpath, zbuf_cstr(&why));
		ta_say(ctx, "%s: control file does not parse: %s", relpath, zbuf_cstr(&why));
		if (err) { zbuf_reset(err); zbuf_printf(err, "control file does not parse: %s", zbuf_cstr(&why)); }
		rc = Z_EPARSE;
		goto fail;
	}
	m->rcpts = calloc(m->ctl.nrcpts ? m->ctl.nrcpts : 1, sizeof(*m->rcpts));
	if (m->rcpts == NULL) {
		rc = Z_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < m->ctl.nrcpts; i++) {
		const ctl_rcpt *r = &m->ctl.rcpts[i];
		ta_rcpt *rp;

		if (r->tag != CTL_TAG_NORMAL || r->xor_group >= 0)
			continue;
		if (!zspan_eq(r->quad.channel, ctx->channel))
			continue;
		if (want != NULL && !host_match(r, want) &&
		    !(sel != NULL && sel(ctx, r, zspan_from(want), selarg)))
			continue;
		zbuf_reset(&why);
		rp = &m->rcpts[m->nrcpts];
		/* with ctx->hold_locks the range lock stays held until the
		 * report (or the close): the report is then one pwrite without
		 * a re-check; else the report checks and writes under a new
		 * range lock (the owner is ctx->pid either way) */
		memset(&rp->hold, 0, sizeof(rp->hold));
		rp->hold.pid = ctx->pid;
		rc = ctx->hold_locks ?
			ctl_lock_hold(m->ctlfd, r->off, CTL_TAG_NORMAL, CTL_TAG_LOCK, ctx->pid,
				      &rp->hold, &why) :
			ctl_lock(m->ctlfd, r->off, CTL_TAG_NORMAL, CTL_TAG_LOCK, ctx->pid, &why);
		if (rc == Z_ESTALE) {
			zlog_debug(m->spoolid, "%s: offset %zu taken by someone else",
				   relpath, r->off);
			continue;
		}
		if (rc != Z_OK) {
			ta_say(ctx, "%s: cannot lock offset %zu: %s", relpath, r->off,
			       zbuf_cstr(&why));
			continue;
		}
		m->nrcpts++;
		rp->r = r;
		rp->locked = 1;
		zbuf_reset(&u);
		if (ctl_unquote_user(r->quad.user, &u) == Z_OK)
			rp->user = zspan_dup((zspan){ u.data ? u.data : "", u.len });
		else
			rp->user = zspan_dup(r->quad.user);
		if (r->hdr_len > maxhdr)
			maxhdr = r->hdr_len;
	}
	if (m->nrcpts == 0) {
		if (err) { zbuf_reset(err); zbuf_puts(err, "no recipient selected"); }
		rc = Z_ENOENT;
		goto fail;
	}

	/* the body: ../queue/<prefix><i> */
	if (!all_digits(m->ctl.body)) {
		zlog_error(m->spoolid, "%s: bad body file name in 'i' line", relpath);
		ta_say(ctx, "%s: bad body file name in 'i' line", relpath);
		if (err) { zbuf_reset(err); zbuf_puts(err, "bad body file name in 'i' line"); }
		unlock_all(ctx, m);
		rc = Z_EPARSE;
		goto fail;
	}
	snprintf(bodyrel, sizeof(bodyrel), "%s%.*s", m->prefix, (int)m->ctl.body.n,
		 m->ctl.body.p);
	/* ../queue is opened once per agent and kept (two system calls per
	 * message less); a failed open is retried at the next message */
	if (queue_dirfd < 0)
		queue_dirfd = open("../queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	qfd = queue_dirfd;
	rc = qfd < 0 ? Z_ENOENT : spool_open_in_tree(qfd, bodyrel, O_RDONLY, &why);
	if (rc < 0) {
		zlog_error(m->spoolid, "%s: message file ../queue/%s is missing: %s",
			   relpath, bodyrel, zbuf_cstr(&why));
		for (size_t i = 0; i < m->nrcpts; i++) {
			ta_notary(&m->rcpts[i], "failed", "5.3.0", NULL, NULL);
			ta_diagnostic(ctx, m, &m->rcpts[i], EX_UNAVAILABLE, 0,
				      "message file is missing, please resend");
		}
		rc = Z_OK;
		goto done;
	}
	m->bodyfd = rc;
	if (fstat(m->bodyfd, &st) != 0) {
		if (err) { zbuf_reset(err); zbuf_printf(err, "fstat body: %s", strerror(errno)); }
		unlock_all(ctx, m);
		rc = Z_EIO;
		goto fail;
	}
	if (m->ctl.body_off >= 0 && (off_t)m->ctl.body_off <= st.st_size)
		m->bodysize = st.st_size - (off_t)m->ctl.body_off;
	else
		m->bodysize = m->ctl.body_off >= 0 ? 0 : st.st_size;
	m->arrival = st.st_mtim.tv_sec;
	spool_id_format((unsigned long)st.st_ino, st.st_mtim.tv_sec, 0,
			m->spoolid, sizeof(m->spoolid));
	est = (size_t)m->bodysize;
	if (zsize_add(est, maxhdr, &est) != Z_OK)
		est = SIZE_MAX;
	if (est <= SIZE_MAX - est / 100 * 3 - 3)
		est += (est / 100) * 3 + ((est % 100) * 3 + 99) / 100;
	m->size_estimate = est;
	rc = Z_OK;
	goto done;
fail:
	release_all(m);
	memset(m, 0, sizeof(*m));
	m->ctlfd = m->bodyfd = -1;
done:
	zbuf_free(&u);
	zbuf_free(&why);
	return rc;
}

/* ta_ctlclose - report still-locked recipients deferred, unlock, free */
void ta_ctlclose(ta_ctx *ctx, ta_msg *m)
{
	for (size_t i = 0; i < m->nrcpts; i++) {
		ta_rcpt *rp = &m->rcpts[i];
		if (!rp->locked || rp->reported)
			continue;
		if (ta_diagnostic(ctx, m, rp, EX_TEMPFAIL, 0, "address was left locked") != Z_OK) {
			ta_say(ctx, "undiagnosed: %s %zu", m->relpath, rp->r->off);
			unlock_all(ctx, m);
		}
	}
	unlock_all(ctx, m);
	release_all(m);
	memset(m, 0, sizeof(*m));
	m->ctlfd = m->bodyfd = -1;
}

/* any_locked - m holds at least one lock */
static int any_locked(const ta_msg *m)
{
	for (size_t i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].locked)
			return 1;
	return 0;
}

/* the job loop's state (ctx->loop while ta_jobloop runs) */
static const char hungry[] = "#hungry\n";

/* stopping - a stop was asked for (flag or signal) */
static int stopping(const ta_ctx *ctx)
{
	return ctx->stop || sig_seen;
}

/* open_job - ta_ctlopen into a malloc'd message; NULL after "#resync" */
static ta_msg *open_job(ta_ctx *ctx, const ta_agent_ops *ops, const char *path,
			const char *host)
{
	zbuf err = ZBUF_INIT(TA_ERRMAX);
	ta_msg *m = malloc(sizeof(*m));
	int rc;

	if (m == NULL) {
		ta_say(ctx, "%s: out of memory", path);
		return NULL;	/* nothing locked: the scheduler retries later */
	}
	rc = ta_ctlopen(ctx, path, host, ops->select, ops->selarg, m, &err);
	if (rc != Z_OK) {
		char line[SPOOL_JOBPATH_MAX + 16];
		int n;
		if (rc != Z_ENOENT)
			zlog_warn(NULL, "%s: %s", path, zbuf_cstr(&err));
		n = snprintf(line, sizeof(line), "#resync %s\n", path);
		if (n > 0 && (size_t)n < sizeof(line))
			(void)put_line(ctx, line, (size_t)n);
		free(m);
		m = NULL;
	}
	zbuf_free(&err);
	return m;
}

/* release - hand m back: the agent's release, else close and free now */
static void release(ta_ctx *ctx, const ta_agent_ops *ops, ta_msg *m)
{
	if (ops->release != NULL) {
		ops->release(ctx, m);
		return;
	}
	ta_ctlclose(ctx, m);
	free(m);
}

/* deliver_job - deliver an opened job and release it; EX_DATAERR after a
 * failed 'd' line append */
static int deliver_job(ta_ctx *ctx, const ta_agent_ops *ops, ta_msg *m, const char *host)
{
	struct ta_loop *jl = ctx->loop;

	if (jl != NULL)
		jl->cur = m;
	if (any_locked(m) && ops->deliver != NULL &&
	    ops->deliver(ctx, m, host ? host : ctx->fixed_host ? ctx->fixed_host : "") ==
	    EX_DATAERR)
		diag_failed = 1;
	if (jl != NULL)
		jl->cur = NULL;
	release(ctx, ops, m);
	return diag_failed ? EX_DATAERR : EX_OK;
}

/* ta_prefetch - the agent waits for its peer: when the next job line is
 * already read and is for the same host, write "#hungry", take it and
 * open its control file now; the loop delivers it next */
void ta_prefetch(ta_ctx *ctx)
{
	struct ta_loop *jl = ctx->loop;
	zbuf why = ZBUF_INIT(256);
	char path[SPOOL_JOBPATH_MAX + 1], host[256];
	const char *h;

	if (jl == NULL || !jl->running || jl->ahead != NULL || jl->toolong || stopping(ctx) ||
	    diag_failed)
		goto done;
	if (!jl->have_look) {
		zspan line = ZSPAN_NULL;
		int r = zline_next(&jl->zl, &line);
		if (r == Z_ETOOBIG || (r == 1 && line.n > sizeof(jl->look)))
			jl->toolong = 1;	/* the loop reports it in its turn */
		if (r != 1 || jl->toolong)
			goto done;
		memcpy(jl->look, line.p, line.n);
		jl->looklen = line.n;
		jl->have_look = 1;
	}
	if (ta_job_decode(jl->look, jl->looklen, path, sizeof(path), host, sizeof(host),
			  &why) != TAK_JOB)
		goto done;	/* the loop deals with it */
	h = host[0] ? host : ctx->fixed_host;
	if (h != NULL && (!jl->have_last || strcasecmp(h, jl->lasthost) != 0))
		goto done;	/* another host: the loop calls newhost first */
	if (put_line(ctx, hungry, sizeof(hungry) - 1) != Z_OK)
		goto done;
	jl->have_look = 0;
	(void)zstrlcpy(jl->ahead_host, host, sizeof(jl->ahead_host));
	jl->ahead = open_job(ctx, jl->ops, path, host[0] ? host : NULL);
done:
	zbuf_free(&why);
}

/* drain - the agent's outstanding work, now; EX_DATAERR if a report failed */
static int drain(ta_ctx *ctx, const ta_agent_ops *ops)
{
	if (ops->drain != NULL)
		ops->drain(ctx);
	return diag_failed ? EX_DATAERR : EX_OK;
}

/* read_job_line - wait for the next job line (with the agent's fd, when it
 * has one outstanding); 1 line, 0 end (ret set), -1 skip (bad line said) */
static int read_job_line(ta_ctx *ctx, struct ta_loop *jl, zspan *line, int *ret)
{
	const ta_agent_ops *ops = jl->ops;

	for (;;) {
		struct pollfd pfd[2];
		long nr;
		int r, sfd, np = 1, ms;

		if (jl->have_look) {
			line->p = jl->look;
			line->n = jl->looklen;
			jl->have_look = 0;
			return 1;
		}
		r = jl->toolong ? Z_ETOOBIG : zline_next(&jl->zl, line);
		jl->toolong = 0;
		if (r == 1)
			return 1;
		if (r == Z_ETOOBIG) {
			ta_say(ctx, "bad job line: line too long");
			return -1;
		}
		if (stopping(ctx))
			return 0;
		sfd = ops->wait_fd != NULL ? ops->wait_fd(ctx) : -1;
		if (diag_failed) {
			/* a report of the last job failed its 'd' line: take
			 * no other job (zmta-ta(7)) */
			*ret = EX_DATAERR;
			return 0;
		}
		pfd[0].fd = ctx->in_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		if (sfd >= 0) {
			pfd[1].fd = sfd;
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			np = 2;
		}
		ms = ctx->idle_timeout_ms > 0 ? (ctx->idle_timeout_ms > INT_MAX ? INT_MAX :
						 (int)ctx->idle_timeout_ms) : -1;
		/* work outstanding: the scheduler waits for its report, the
		 * agent's poll keeps it informed; idle: stay quiet */
		r = np == 2 && ops->poll != NULL ? ops->poll(pfd, (unsigned long)np, ms) :
			poll(pfd, (nfds_t)np, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*ret = EX_IOERR;
			return 0;
		}
		if (r == 0) {
			if (ops->idle != NULL)
				ops->idle(ctx);
			continue;
		}
		if (np == 2 && pfd[1].revents != 0 && pfd[0].revents == 0) {
			if (drain(ctx, ops) != EX_OK) {
				*ret = EX_DATAERR;
				return 0;
			}
			continue;
		}
		nr = zline_fill(&jl->zl, ctx->in_fd);
		if (nr == 0)
			return 0;	/* EOF; a partial last line is dropped */
		if (nr == Z_EAGAIN)
			continue;
		if (nr < 0) {
			*ret = EX_IOERR;
			return 0;
		}
	}
}

/* ta_job_decode - parse a scheduler line and copy a job's path and host */
enum ta_kind ta_job_decode(const char *line, size_t n, char *path, size_t pathsz,
			   char *host, size_t hostsz, zbuf *why)
{
	ta_job job;
	enum ta_kind k;

	zbuf_reset(why);
	k = ta_parse_job_line(line, n, &job, why);
	if (k != TAK_JOB)
		return k == TAK_EMPTY || k == TAK_IDLE ? k : TAK_BAD;
	if (zspan_copy(job.path, path, pathsz) != Z_OK ||
	    zspan_copy(job.host, host, hostsz) != Z_OK) {
		zbuf_reset(why);
		zbuf_puts(why, "too long");
		return TAK_BAD;
	}
	return TAK_JOB;
}

/* ta_jobloop - "#hungry", read a job line, open, deliver, release; see
 * ta.h for the optional callbacks of agents that keep work outstanding */
int ta_jobloop(ta_ctx *ctx, const ta_agent_ops *ops)
{
	struct ta_loop *jl = calloc(1, sizeof(*jl));
	zbuf why = ZBUF_INIT(TA_ERRMAX);
	char path[SPOOL_JOBPATH_MAX + 1], host[256];
	int ret = EX_OK;

	if (jl == NULL)
		return EX_OSERR;
	jl->ops = ops;
	zline_init(&jl->zl, TAPROTO_LINE_MAX);
	jl->running = 1;
	ctx->loop = jl;
	for (;;) {
		zspan line = ZSPAN_NULL;
		enum ta_kind k;
		int got;

		if (jl->ahead != NULL) {
			/* opened ahead: its "#hungry" is written, finish it even
			 * when asked to stop */
			ta_msg *m = jl->ahead;
			jl->ahead = NULL;
			(void)zstrlcpy(host, jl->ahead_host, sizeof(host));
			ret = deliver_job(ctx, ops, m, host[0] ? host : NULL);
			if (ret != EX_OK)
				break;
			continue;
		}
		if (stopping(ctx))
			break;
		if (put_line(ctx, hungry, sizeof(hungry) - 1) != Z_OK) {
			ret = EX_IOERR;
			break;
		}
		jl->running = 0;	/* this "#hungry" is for the loop's own read */
		got = read_job_line(ctx, jl, &line, &ret);
		jl->running = 1;
		if (got == 0)
			break;
		if (got < 0)
			continue;
		k = ta_job_decode(line.p, line.n, path, sizeof(path), host, sizeof(host), &why);
		switch (k) {
		case TAK_EMPTY:
			goto out;
		case TAK_IDLE:
			if (drain(ctx, ops) != EX_OK) {
				ret = EX_DATAERR;
				goto out;
			}
			if (ops->idlecmd != NULL)
				ops->idlecmd(ctx);
			continue;
		case TAK_JOB:
			break;
		default:
			ta_say(ctx, "bad job line: %s", zbuf_cstr(&why));
			continue;
		}
		{
			const char *h = host[0] ? host : ctx->fixed_host;
			if (h != NULL && (!jl->have_last || strcasecmp(h, jl->lasthost) != 0)) {
				jl->running = 0;	/* no read-ahead for the old host */
				if (ops->newhost != NULL)
					ops->newhost(ctx, h);
				jl->running = 1;
				(void)zstrlcpy(jl->lasthost, h, sizeof(jl->lasthost));
				jl->have_last = 1;
			}
		}
		{
			ta_msg *m = open_job(ctx, ops, path, host[0] ? host : NULL);
			ret = m != NULL ? deliver_job(ctx, ops, m, host[0] ? host : NULL) :
				diag_failed ? EX_DATAERR : EX_OK;
		}
		if (ret != EX_OK)
			break;
	}
out:
	jl->running = 0;
	(void)drain(ctx, ops);
	if (jl->ahead != NULL) {
		/* only after a failed 'd' line append: defer it unsent */
		release(ctx, ops, jl->ahead);
		jl->ahead = NULL;
	}
	if (ops->finish != NULL)
		ops->finish(ctx);
	(void)put_line(ctx, "", 0);	/* a report still held goes out now */
	/* the last reports may have been written only now */
	if (diag_failed && (ret == EX_OK || ret == EX_DATAERR))
		ret = EX_DATAERR;
	ctx->loop = NULL;
	zline_free(&jl->zl);
	free(jl);
	zbuf_free(&why);
	return ret;
}
