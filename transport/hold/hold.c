/*
 * NAME
 *	hold - the deferred re-routing transport agent (libexecdir/zmta/ta/hold)
 *
 * SUMMARY
 *	The router parks a recipient on channel hold when a lookup failed
 *	temporarily, with the condition to wait for in the host field
 *	(NS:, TIMEOUT:, AGE:, IO:, SCRIPT:, HOME:).  hold checks each
 *	condition; when it has cleared the recipient goes back to the router
 *	in a new submission and is reported done, else it is deferred with a
 *	retry hint.
 *
 * SYNOPSIS
 *	hold [-V] [-c channel] [-r interval] [-t seconds] [host]
 *
 * DESCRIPTION
 *	Runs the libta job loop in $POSTOFFICE/transport.  Per job the
 *	locked recipients are evaluated in order (one evaluation per distinct
 *	condition text).  Cleared recipients are grouped by sender and
 *	header block; each group becomes one submission (spool/submit.h):
 *	"via suspension", "from <sender>" or "channel error", "envid",
 *	"notaryret", per recipient "todsn ..." and "to <address>", "env-end",
 *	the group's headers and the body.  After the commit each recipient is
 *	reported ok (notary action relayed, 2.0.0; NOTIFY went on with it).
 *	A condition that has not cleared is reported "retryat +N" (4.4.3):
 *	N is the time left for TIMEOUT: and AGE:, else the -r interval
 *	(default 5m).  A bad parameter or a missing class is a permanent
 *	EX_PROTOCOL failure; an unknown class is EX_SOFTWARE (deferred: a
 *	newer router may know it).  A failed submission defers the group.
 *
 * DIAGNOSTICS
 *	Report lines per recipient (zmta-ta(7)); exit codes are sysexits:
 *	EX_USAGE for bad options, EX_CONFIG for a bad zmta.conf.
 *
 * SECURITY
 *	Runs as the mail system's user (the scheduler's ZMTA_USER); the new
 *	submission is owned by that user, so the router trusts the envelope
 *	sender it carries (the original one).  SCRIPT: runs only
 *	MAILBIN/bin/<name> (no '/' in names) without a shell, in a clean
 *	environment, with stdin/stdout on /dev/null, for at most -t seconds
 *	(default 60); when hold runs as root the script runs as ZMTA_USER
 *	(default zmta), never as root.
 *
 * BUGS
 *	IO: clears at random (one chance in ten), as in ZMailer.
 *
 * SEE ALSO
 *	hold(8), zmta-ta(7), holdcond.c, holddns.c, spool/submit.h
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "holdcond.h"
#include "holddns.h"
#include "submit.h"
#include "ta.h"
#include "tasubmit.h"
#include "zconf.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"

static struct {
	long retry;              /* -r: hint for conditions without a time */
	long script_secs;        /* -t */
	const char *dns_servers;
	const char *mailbin;
	const char *zmta_user;
} G;

/* usage - synopsis and exit */
static _Noreturn void usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "hold: %s\n", why);
	fprintf(stderr, "usage: hold [-V] [-c channel] [-r interval] [-t seconds] [host]\n");
	exit(EX_USAGE);
}

/* run_script - MAILBIN/bin/name [arg]: 1 when it exits 0, 0 otherwise */
static int run_script(const hold_cond *c, zbuf *why)
{
	char path[4200];
	pid_t pid;
	int st = 0, k;
	long long deadline;

	k = snprintf(path, sizeof(path), "%s/bin/%s", G.mailbin, c->name);
	if (k < 0 || (size_t)k >= sizeof(path)) {
		zbuf_puts(why, "script path too long");
		return 0;
	}
	pid = fork();
	if (pid < 0) {
		zbuf_printf(why, "fork: %s", strerror(errno));
		return 0;
	}
	if (pid == 0) {
		char *argv[3] = { (char *)c->name, c->arg[0] ? (char *)c->arg : NULL, NULL };
		char e_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
		char e_sh[] = "SHELL=/bin/sh";
		char e_zc[4200], e_mb[4200];
		char *envp[5];
		zbuf err = ZBUF_INIT(512);
		int fd = open("/dev/null", O_RDWR);

		(void)setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (geteuid() == 0 && zpriv_drop(G.zmta_user, NULL, &err) != Z_OK)
			_exit(EX_NOPERM);
		snprintf(e_zc, sizeof(e_zc), "ZCONFIG=%s", zconf_path());
		snprintf(e_mb, sizeof(e_mb), "MAILBIN=%s", G.mailbin);
		envp[0] = e_path; envp[1] = e_sh; envp[2] = e_zc; envp[3] = e_mb; envp[4] = NULL;
		execve(path, argv, envp);
		_exit(127);
	}
	(void)setpgid(pid, pid);   /* also here: kill(-pid) must find the group */
	deadline = zmono_ms() + G.script_secs * 1000;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			zbuf_printf(why, "waitpid: %s", strerror(errno));
			return 0;
		}
		if (zmono_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			zbuf_printf(why, "script %s ran longer than %lds", c->name, G.script_secs);
			return 0;
		}
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		zbuf_printf(why, "script %s could not be run", path);
	else if (WIFEXITED(st))
		zbuf_printf(why, "script %s exited %d", c->name, WEXITSTATUS(st));
	else
		zbuf_printf(why, "script %s killed by signal %d", c->name, WTERMSIG(st));
	return 0;
}

/* evaluate - 1 when c has cleared; 0 with *hint (seconds) and a reason */
static int evaluate(const ta_msg *m, const hold_cond *c, long *hint, zbuf *why)
{
	time_t now = time(NULL);

	*hint = G.retry;
	switch (c->cls) {
	case HOLD_NS: {
		int rc = hold_dns_check(G.dns_servers, c->name, c->rrtype, 5000, why);
		if (rc == HDNS_ANSWER || rc == HDNS_NEGATIVE)
			return 1;
		if (rc != HDNS_TEMPFAIL)
			zbuf_puts(why, " (resolver set-up)");
		return 0;
	}
	case HOLD_TIMEOUT:
		if ((long long)now >= c->when)
			return 1;
		*hint = (long)(c->when - (long long)now);
		zbuf_puts(why, "time not reached");
		return 0;
	case HOLD_AGE: {
		long age = m->arrival > 0 ? (long)(now - m->arrival) : 0;
		if (age >= c->secs)
			return 1;
		*hint = c->secs - age;
		zbuf_printf(why, "message is %lds old", age);
		return 0;
	}
	case HOLD_IO:
		if (random() % 10 == 0)
			return 1;
		zbuf_puts(why, "waiting for the I/O trouble to pass");
		return 0;
	case HOLD_SCRIPT:
		return run_script(c, why);
	case HOLD_HOME: {
		struct passwd *pw;
		struct stat st;
		errno = 0;
		pw = getpwnam(c->name);
		if (pw == NULL && errno == 0)
			return 1;   /* no such user: definite, the router decides */
		if (pw == NULL) {
			zbuf_printf(why, "user lookup: %s", strerror(errno));
			return 0;
		}
		if (stat(pw->pw_dir, &st) == 0)
			return 1;
		zbuf_printf(why, "home %s: %s", pw->pw_dir, strerror(errno));
		return 0;
	}
	}
	zbuf_puts(why, "unknown class");
	return 0;
}

/* resubmit - one submission for the recipients idx[0..n) (same sender and
 * header block); Z_OK with *ino set, or an error with text in err */
static int resubmit(ta_msg *m, ta_rcpt **rs, size_t n, unsigned long *ino, zbuf *err)
{
	submit s;
	zbuf sender = ZBUF_INIT(2048), tmp = ZBUF_INIT(2100);
	zspan hdrs = ta_rcpt_headers(m, rs[0]);
	int rc;

	rc = submit_open(&s, "..", err);
	if (rc != Z_OK)
		goto out;
	rc = submit_env(&s, "via", "suspension");
	if (rc == Z_OK && ta_sender_addr(m, rs[0], &sender) == Z_OK) {
		rc = zbuf_printf(&tmp, "<%s>", zbuf_cstr(&sender));
		if (rc == Z_OK)
			rc = submit_env(&s, "from", zbuf_cstr(&tmp));
	} else if (rc == Z_OK) {
		rc = submit_env(&s, "channel", "error");
	}
	if (rc == Z_OK && rs[0]->r->envid.n > 0) {
		char v[1100];
		if (zspan_copy(rs[0]->r->envid, v, sizeof(v)) == Z_OK && strpbrk(v, " \t") == NULL)
			rc = submit_env(&s, "envid", v);
	}
	if (rc == Z_OK && (zspan_caseeq(rs[0]->r->ret, "FULL") || zspan_caseeq(rs[0]->r->ret, "HDRS")))
		rc = submit_env(&s, "notaryret", zspan_caseeq(rs[0]->r->ret, "FULL") ? "FULL" : "HDRS");
	for (size_t i = 0; rc == Z_OK && i < n; i++) {
		rc = ta_submit_todsn(&s, rs[i]);
		zbuf_reset(&tmp);
		if (rc == Z_OK)
			rc = zbuf_printf(&tmp, "<%s>", rs[i]->user ? rs[i]->user : "");
		if (rc == Z_OK)
			rc = submit_env(&s, "to", zbuf_cstr(&tmp));
	}
	if (rc == Z_OK)
		rc = submit_env(&s, "env-end", NULL);
	if (rc == Z_OK && hdrs.n > 0)
		rc = submit_write(&s, hdrs.p, hdrs.n);
	else if (rc == Z_OK)
		rc = submit_write(&s, "\n", 1);
	if (rc == Z_OK)
		rc = ta_body_each(m, ta_submit_put, &s);
	if (rc != Z_OK) {
		zbuf_reset(err);
		zbuf_printf(err, "writing the new submission failed (%s)", zerr_str(rc));
		submit_abort(&s);
		goto out;
	}
	rc = submit_commit(&s, NULL, 0, ino, err);
out:
	zbuf_free(&sender);
	zbuf_free(&tmp);
	return rc;
}

/* same_group - a and b have the same sender and header block */
static int same_group(const ta_rcpt *a, const ta_rcpt *b)
{
	return a->r->sender == b->r->sender && a->r->hdr_off == b->r->hdr_off;
}

/* hold_deliver - evaluate every locked recipient, resubmit the cleared ones */
static int hold_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	ta_rcpt **ready = calloc(m->nrcpts ? m->nrcpts : 1, sizeof(*ready));
	size_t nready = 0;
	zbuf why = ZBUF_INIT(1024), err = ZBUF_INIT(1024);
	char last[256] = "", lastwhy[1024] = "";
	int last_ok = -1;
	long last_hint = 0;

	(void)host;
	if (ready == NULL) {
		for (size_t i = 0; i < m->nrcpts; i++)
			if (m->rcpts[i].locked)
				ta_diagnostic(ctx, m, &m->rcpts[i], EX_TEMPFAIL, 0, "out of memory");
		return EX_OK;
	}
	for (size_t i = 0; i < m->nrcpts; i++) {
		ta_rcpt *r = &m->rcpts[i];
		const ctl_quad *q = &r->r->quad;
		char cond[256];
		hold_cond c;
		long hint = 0;
		int ok, rc;

		if (!r->locked)
			continue;
		if (zspan_copy(q->host, cond, sizeof(cond)) != Z_OK)
			cond[0] = '\0';
		zbuf_reset(&why);
		rc = hold_cond_parse(q->host.p, q->host.n, &c, &why);
		if (rc == Z_ENOENT) {
			ta_notary(r, "delayed", "4.3.5", "x-local; unknown hold class", NULL);
			ta_diagnostic(ctx, m, r, EX_SOFTWARE, G.retry, "hold: %s", zbuf_cstr(&why));
			continue;
		}
		if (rc != Z_OK) {
			ta_notary(r, "failed", "5.3.5", "x-local; bad hold condition", NULL);
			ta_diagnostic(ctx, m, r, EX_PROTOCOL, 0, "hold: %s", zbuf_cstr(&why));
			continue;
		}
		if (last_ok >= 0 && strcmp(cond, last) == 0 && c.cls != HOLD_IO) {
			ok = last_ok;
			hint = last_hint;
			zbuf_reset(&why);
			zbuf_puts(&why, lastwhy);
		} else {
			zbuf_reset(&why);
			ok = evaluate(m, &c, &hint, &why);
			zstrlcpy(last, cond, sizeof(last));
			zstrlcpy(lastwhy, zbuf_cstr(&why), sizeof(lastwhy));
			last_ok = ok;
			last_hint = hint;
		}
		if (ok) {
			ready[nready++] = r;
			continue;
		}
		if (hint < 1)
			hint = 1;
		if (hint > 30L * 86400)
			hint = 30L * 86400;
		ta_notary(r, "delayed", "4.4.3", "x-local; waiting for a hold condition", NULL);
		ta_diagnostic(ctx, m, r, EX_TEMPFAIL, hint, "hold: %s not yet: %s", cond, zbuf_cstr(&why));
	}
	/* one submission per (sender, header block) group */
	for (size_t i = 0; i < nready; i++) {
		ta_rcpt *grp[256];
		size_t ng = 0;
		unsigned long ino = 0;
		int rc;

		if (ready[i] == NULL)
			continue;
		for (size_t j = i; j < nready && ng < sizeof(grp) / sizeof(grp[0]); j++)
			if (ready[j] != NULL && same_group(ready[i], ready[j])) {
				grp[ng++] = ready[j];
				if (j != i)
					ready[j] = NULL;
			}
		ready[i] = NULL;
		zbuf_reset(&err);
		rc = resubmit(m, grp, ng, &ino, &err);
		if (rc == Z_OK)
			zlog_info(m->spoolid, "%s: %zu recipient(s) resubmitted as %lu", m->relpath, ng, ino);
		else
			zlog_warn(m->spoolid, "%s: resubmission failed: %s", m->relpath, zbuf_cstr(&err));
		for (size_t k = 0; k < ng; k++) {
			char cond[256];
			if (zspan_copy(grp[k]->r->quad.host, cond, sizeof(cond)) != Z_OK)
				cond[0] = '\0';
			if (rc == Z_OK) {
				ta_notary(grp[k], "relayed", "2.0.0", "x-local; relayed via deferral channel", NULL);
				grp[k]->dsn_passed_on = 1;
				ta_diagnostic(ctx, m, grp[k], EX_OK, 0,
					      "relayed via deferral channel: %s cleared, resubmitted as %lu",
					      cond, ino);
			} else {
				ta_diagnostic(ctx, m, grp[k], EX_TEMPFAIL, 0,
					      "hold: %s cleared but resubmission failed: %s", cond,
					      zbuf_cstr(&err));
			}
		}
	}
	free(ready);
	zbuf_free(&why);
	zbuf_free(&err);
	return EX_OK;
}

int main(int argc, char **argv)
{
	ta_ctx ctx;
	ta_agent_ops ops;
	const char *channel = "hold";
	zbuf err = ZBUF_INIT(1024);
	int c;

	zproctitle_init(argc, argv);
	zlog_open("hold", ZLOG_TO_STDERR);
	G.retry = 300;
	G.script_secs = 60;
	while ((c = getopt(argc, argv, "Vc:r:t:")) != -1) {
		switch (c) {
		case 'V':
			printf("hold (zmta) %s\n", ZMTA_VERSION);
			return EX_OK;
		case 'c': channel = optarg; break;
		case 'r':
			if (zinterval_parse(optarg, &G.retry) != Z_OK || G.retry < 1 || G.retry > 30L * 86400)
				usage("-r wants an interval of 1s..30d");
			break;
		case 't': {
			unsigned long v;
			if (zparse_ulong(optarg, 86400, &v) != Z_OK || v == 0)
				usage("-t wants seconds (1..86400)");
			G.script_secs = (long)v;
			break;
		}
		default: usage(NULL);
		}
	}
	if (argc - optind > 1)
		usage("at most one host argument");
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "zmta.conf: %s", zbuf_cstr(&err));
	G.dns_servers = zconf_get("DNS_SERVERS");
	G.mailbin = zconf_get_default("MAILBIN", ZMTA_LIBEXECDIR);
	G.zmta_user = zconf_get_default("ZMTA_USER", "zmta");
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	ta_init(&ctx, "hold", channel);
	ctx.fixed_host = optind < argc ? argv[optind] : NULL;
	memset(&ops, 0, sizeof(ops));
	ops.deliver = hold_deliver;
	c = ta_jobloop(&ctx, &ops);
	zbuf_free(&err);
	return c;
}
