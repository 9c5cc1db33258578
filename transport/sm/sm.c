/*
 * NAME
 *	sm - the program (pipe) mailer transport agent (libexecdir/zmta/ta/sm)
 *
 * SUMMARY
 *	Hands messages to a local program named by a mailer entry of sm.conf
 *	(procmail, dovecot-lda, a UUCP or news gateway ...): the message on
 *	the program's standard input, the recipients in its argv, the
 *	program's exit code mapped to a report per recipient.
 *
 * SYNOPSIS
 *	sm [-V] [-f sm.conf] [-c channel] [-h host] [-t seconds] mailer
 *
 * DESCRIPTION
 *	Runs the libta job loop in $POSTOFFICE/transport for channel -c
 *	(default: the mailer's name) and host -h (default: the job's).  The mailer entry
 *	(sm.conf(5)) gives flags, the program (relative to MAILBIN unless
 *	absolute) and its argv with $u (recipient), $h (host), $g/$f
 *	(sender, "<>" for the null sender), $$ and ${NAME} (zmta.conf).
 *	Without flag m the program runs once per recipient; with m once per
 *	group of recipients sharing sender, header block and privilege, the
 *	argv word holding $u repeated for each.  The data written is an
 *	optional "From " line (not with n), the recipient's header block
 *	(with Return-Path: for P, Envelope-Id:/X-Envelope-To:/
 *	Original-Recipient: for e, Original-Recipient: for O), an empty
 *	line and the body, transformed per flags E (">From "), X (dot
 *	stuffing), 7 (8th bit cleared) and R (CRLF).
 *
 *	Exit 0 is success (ok); EX_DATAERR, EX_NOUSER, EX_NOHOST,
 *	EX_UNAVAILABLE and EX_NOPERM are permanent failures (error2, the
 *	first line of the program's output in the text); any other code, a
 *	signal or the time limit (-t, default 600 s; SM_TIMEOUT in
 *	zmta.conf) defers.
 *
 * DIAGNOSTICS
 *	Report lines per recipient (zmta-ta(7)); exit EX_USAGE for bad
 *	options, EX_CONFIG for an unreadable or bad sm.conf or an unknown
 *	mailer.
 *
 * SECURITY
 *	Runs as root (the scheduler clause user=root) so that it can become
 *	the recipient: every program runs in a child that has dropped to the
 *	recipient's privilege uid (with that user's group and supplementary
 *	groups, zpriv_drop_ids) before exec; privilege 0 means
 *	DEFAULT_PRIVILEGE (default nobody), never root.  Not running as root,
 *	sm runs programs only for recipients whose privilege is its own uid.
 *	No shell: execve() of the configured path, each substituted value one
 *	argv element; a recipient, sender or host that starts with '-' or
 *	holds control bytes is refused (it could become an option).  The
 *	child gets a clean environment (HOME USER LOGNAME SHELL PATH SENDER
 *	RECIPIENT MSGSPOOLID TZ), no inherited descriptors but its three,
 *	its own process group (killed as a whole at the time limit) and cwd
 *	the user's home (or /).
 *
 * BUGS
 *	ZMailer's BSMTP flags are not implemented.  Output of the program
 *	beyond 1 KiB is read and dropped.
 *
 * SEE ALSO
 *	sm(8), sm.conf(5), smconf.c, zmta-ta(7), zpriv.h, transport/libta/tagroup.c
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "smconf.h"
#include "ta.h"
#include "tagroup.h"
#include "tasubmit.h"
#include "zconf.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"

#define OUT_CAP 1024          /* program output kept for the report */
#define CHUNK 65536

static struct {
	sm_conf conf;
	const sm_mailer *mailer;
	long timeout;
	const char *mailbin;
	const char *defpriv;
	int root;
} G;

/* usage - synopsis and exit */
static _Noreturn void usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "sm: %s\n", why);
	fprintf(stderr, "usage: sm [-V] [-f sm.conf] [-c channel] [-h host] [-t seconds] mailer\n");
	exit(EX_USAGE);
}

/* the running child and its pipes */
typedef struct run {
	pid_t pid;
	int in;                   /* to the child's stdin, -1 when closed */
	int out;                  /* from its stdout+stderr, -1 at EOF */
	long long deadline;
	int timed_out;
	int epipe;                /* the child stopped reading */
	char outbuf[OUT_CAP + 1];
	size_t outlen;
} run;

/* drain - read what the child printed (keep the first OUT_CAP bytes) */
static void drain(run *r)
{
	char buf[4096];
	ssize_t k = read(r->out, buf, sizeof(buf));

	if (k > 0) {
		size_t take = (size_t)k;
		if (take > OUT_CAP - r->outlen)
			take = OUT_CAP - r->outlen;
		memcpy(r->outbuf + r->outlen, buf, take);
		r->outlen += take;
	} else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(r->out);
		r->out = -1;
	}
}

/* pump - write p[0..n) to the child while reading its output; 0, or -1
 * at the time limit or when the child stopped reading */
static int pump(run *r, const char *p, size_t n)
{
	while (n > 0 || (p == NULL && r->out >= 0)) {
		struct pollfd pfd[2];
		int np = 0, ms, wi = -1, ri = -1;
		long long left = r->deadline - zmono_ms();

		if (left <= 0) {
			r->timed_out = 1;
			return -1;
		}
		if (n > 0 && r->in >= 0) {
			pfd[np].fd = r->in; pfd[np].events = POLLOUT; pfd[np].revents = 0; wi = np++;
		}
		if (r->out >= 0) {
			pfd[np].fd = r->out; pfd[np].events = POLLIN; pfd[np].revents = 0; ri = np++;
		}
		if (np == 0)
			return n > 0 ? -1 : 0;
		ms = left > 1000 ? 1000 : (int)left;
		if (poll(pfd, (nfds_t)np, ms) < 0 && errno != EINTR)
			return -1;
		if (ri >= 0 && (pfd[ri].revents & (POLLIN | POLLHUP | POLLERR)))
			drain(r);
		if (wi >= 0 && (pfd[wi].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t k = write(r->in, p, n);
			if (k > 0) {
				p += k;
				n -= (size_t)k;
			} else if (k < 0 && errno != EINTR && errno != EAGAIN) {
				r->epipe = 1;
				return -1;
			}
		}
	}
	return 0;
}

/* writer state: flag transforms over a byte stream */
typedef struct smw {
	run *r;
	unsigned flags;
	int body;                 /* E and 7 apply to the body only */
	int bol;
	char pend[5];             /* a possible "From " at line start */
	size_t npend;
	zbuf chunk;
	int failed;
} smw;

/* w_flush - hand the chunk to the child */
static void w_flush(smw *w)
{
	if (!w->failed && w->chunk.len > 0 && pump(w->r, w->chunk.data, w->chunk.len) != 0)
		w->failed = 1;
	zbuf_reset(&w->chunk);
}

/* w_raw - append one output byte (R: "\n" -> "\r\n") */
static void w_raw(smw *w, char c)
{
	if (w->failed)
		return;
	if (c == '\n' && (w->flags & SMF_R))
		(void)zbuf_putc(&w->chunk, '\r');
	if (zbuf_putc(&w->chunk, c) != Z_OK)
		w->failed = 1;
	if (w->chunk.len >= CHUNK)
		w_flush(w);
}

/* w_char - one input byte through the line-start transforms */
static void w_char(smw *w, char c)
{
	static const char from[] = "From ";

	if (w->body && (w->flags & SMF_7))
		c = (char)(c & 0x7f);
	if (w->npend > 0 || (w->bol && w->body && (w->flags & SMF_E) && c == 'F')) {
		if (c == from[w->npend]) {
			w->pend[w->npend++] = c;
			if (w->npend == 5) {
				w_raw(w, '>');
				for (size_t i = 0; i < 5; i++)
					w_raw(w, w->pend[i]);
				w->npend = 0;
				w->bol = 0;
			}
			return;
		}
		for (size_t i = 0; i < w->npend; i++)
			w_raw(w, w->pend[i]);
		w->npend = 0;
		w->bol = 0;
	}
	if (w->bol && c == '.' && (w->flags & SMF_X))
		w_raw(w, '.');
	w_raw(w, c);
	w->bol = c == '\n';
}

/* w_bytes - bytes through w_char */
static void w_bytes(smw *w, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !w->failed; i++)
		w_char(w, p[i]);
}

/* w_str - C string through w_char */
static void w_str(smw *w, const char *s)
{
	w_bytes(w, s, strlen(s));
}

/* w_put - ta_body_each callback */
static int w_put(void *arg, const void *p, size_t n)
{
	smw *w = arg;
	w_bytes(w, p, n);
	return w->failed ? Z_EIO : Z_OK;
}

/* hdr_is - the header line at p is "name:" (case-insensitive) */
static int hdr_is(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);
	return n > k && strncasecmp(p, name, k) == 0 && p[k] == ':';
}

/* value_ok - usable as an argv value: no leading '-', no control bytes */
static int value_ok(const char *s)
{
	if (s == NULL || *s == '-')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/* word_uses - the argv word w holds the macro m ("$h"), not "$$h" */
static int word_uses(const char *w, const char *m)
{
	for (const char *p = strstr(w, m); p != NULL; p = strstr(p + 1, m)) {
		size_t d = 0;
		while (p - d > w && p[-1 - (long)d] == '$')
			d++;
		if (d % 2 == 0)
			return 1;
	}
	return 0;
}

/* argv_uses - some argv word of the mailer holds the macro m */
static int argv_uses(const char *m)
{
	for (size_t i = 0; i < G.mailer->argc; i++)
		if (word_uses(G.mailer->argv[i], m))
			return 1;
	return 0;
}

/* zenv_get - ${NAME} from zmta.conf */
static const char *zenv_get(const char *name)
{
	return zconf_get(name);
}

/* result of one program run */
typedef struct outcome {
	int code;                 /* sysexits for ta_diagnostic */
	const char *status;       /* enhanced status */
	char text[1400];
} outcome;

/* first_line - the first non-empty line of the program's output, cleaned */
static void first_line(const run *r, char *out, size_t outsz)
{
	size_t i = 0, k = 0;

	while (i < r->outlen && (r->outbuf[i] == '\n' || r->outbuf[i] == '\r' || r->outbuf[i] == ' '))
		i++;
	for (; i < r->outlen && r->outbuf[i] != '\n' && k + 1 < outsz; i++)
		out[k++] = ((unsigned char)r->outbuf[i] < ' ' || r->outbuf[i] == 0x7f) ? ' ' : r->outbuf[i];
	out[k] = '\0';
}

/* map_exit - program wait status into an outcome */
static void map_exit(const run *r, int st, outcome *o)
{
	char line[600];

	first_line(r, line, sizeof(line));
	if (r->timed_out) {
		o->code = EX_TEMPFAIL;
		o->status = "4.3.0";
		snprintf(o->text, sizeof(o->text), "mailer %s ran longer than %lds (killed)%s%s",
			 G.mailer->name, G.timeout, line[0] ? ": " : "", line);
		return;
	}
	if (WIFSIGNALED(st)) {
		o->code = EX_TEMPFAIL;
		o->status = "4.3.0";
		snprintf(o->text, sizeof(o->text), "mailer %s killed by signal %d%s%s",
			 G.mailer->name, WTERMSIG(st), line[0] ? ": " : "", line);
		return;
	}
	int x = WIFEXITED(st) ? WEXITSTATUS(st) : EX_SOFTWARE;
	const char *xn = zsysexit_name(x);
	switch (x) {
	case EX_OK:
		o->code = EX_OK;
		o->status = "2.0.0";
		break;
	case EX_NOUSER: o->code = EX_NOUSER; o->status = "5.1.1"; break;
	case EX_NOHOST: o->code = EX_NOHOST; o->status = "5.1.2"; break;
	case EX_DATAERR: o->code = EX_UNAVAILABLE; o->status = "5.6.0"; break;
	case EX_NOPERM: o->code = EX_UNAVAILABLE; o->status = "5.7.1"; break;
	case EX_UNAVAILABLE: o->code = EX_UNAVAILABLE; o->status = "5.0.0"; break;
	default: o->code = EX_TEMPFAIL; o->status = "4.0.0"; break;
	}
	if (x == EX_OK && r->epipe)
		snprintf(o->text, sizeof(o->text), "delivered by mailer %s (it did not read all the data)%s%s",
			 G.mailer->name, line[0] ? ": " : "", line);
	else if (x == EX_OK)
		snprintf(o->text, sizeof(o->text), "delivered by mailer %s%s%s", G.mailer->name,
			 line[0] ? ": " : "", line);
	else
		snprintf(o->text, sizeof(o->text), "mailer %s exited %s (%d)%s%s", G.mailer->name,
			 xn ? xn : "?", x, line[0] ? ": " : "", line);
}

/* build_argv - the program path and argv for recipients rs[0..n) */
static int build_argv(ta_msg *m, ta_rcpt **rs, size_t n, const char *sender, const char *host,
		      zbuf *path, char ***argvp, outcome *o)
{
	const sm_mailer *ml = G.mailer;
	size_t max = ml->argc + 2 + (ml->has_u ? n * ml->argc : 0) + 1;
	char **argv = calloc(max, sizeof(char *));
	size_t k = 0;
	sm_vars v = { NULL, host, sender, zenv_get };
	zbuf w = ZBUF_INIT(8192);
	int rc = Z_OK;

	(void)m;
	*argvp = NULL;
	if (argv == NULL)
		goto nomem;
	if (smconf_expand(ml->program, &v, &w) != Z_OK || w.len == 0)
		goto bad;
	if (zbuf_cstr(&w)[0] != '/') {
		rc = zbuf_printf(path, "%s/", G.mailbin);
	}
	if (rc != Z_OK || zbuf_append(path, w.data, w.len) != Z_OK)
		goto bad;
	for (size_t a = 0; a < ml->argc; a++) {
		int per_rcpt = word_uses(ml->argv[a], "$u");
		size_t reps = per_rcpt ? ((ml->flags & SMF_m) ? n : 1) : 1;
		for (size_t i = 0; i < reps; i++) {
			zbuf_reset(&w);
			v.u = rs[i]->user ? rs[i]->user : "";
			if (smconf_expand(ml->argv[a], &v, &w) != Z_OK)
				goto bad;
			argv[k] = strdup(zbuf_cstr(&w));
			if (argv[k] == NULL)
				goto nomem;
			k++;
		}
		if (a == 0 && (ml->flags & (SMF_f | SMF_r))) {
			argv[k] = strdup((ml->flags & SMF_f) ? "-f" : "-r");
			if (argv[k] == NULL || (argv[k + 1] = strdup(sender)) == NULL)
				goto nomem;
			k += 2;
		}
	}
	argv[k] = NULL;
	*argvp = argv;
	zbuf_free(&w);
	return Z_OK;
nomem:
	o->code = EX_TEMPFAIL;
	o->status = "4.3.0";
	snprintf(o->text, sizeof(o->text), "out of memory");
	goto fail;
bad:
	o->code = EX_TEMPFAIL;
	o->status = "4.3.5";
	snprintf(o->text, sizeof(o->text), "mailer %s: bad program or argv after expansion", ml->name);
fail:
	if (argv != NULL) {
		for (size_t i = 0; i < max; i++)
			free(argv[i]);
		free(argv);
	}
	zbuf_free(&w);
	return Z_ERR;
}

/* free_argv - release build_argv's result */
static void free_argv(char **argv)
{
	if (argv == NULL)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* write_message - From line, edited headers, body through the transforms */
static void write_message(smw *w, ta_msg *m, ta_rcpt **rs, size_t n, const char *sender)
{
	unsigned fl = G.mailer->flags;
	zspan hdr = ta_rcpt_headers(m, rs[0]);
	zbuf line = ZBUF_INIT(16384);
	size_t pos = 0;

	w->body = 0;
	w->bol = 1;
	if (!(fl & SMF_n)) {
		char when[64];
		time_t now = time(NULL);
		struct tm tm;
		if (localtime_r(&now, &tm) == NULL || strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm) == 0)
			zstrlcpy(when, "Thu Jan  1 00:00:00 1970", sizeof(when));
		(void)zbuf_printf(&line, "From %s %s\n", strcmp(sender, "<>") ? sender : "MAILER-DAEMON", when);
		w_str(w, zbuf_cstr(&line));
	}
	if (fl & SMF_P) {
		zbuf_reset(&line);
		(void)zbuf_printf(&line, "Return-Path: <%s>\n", strcmp(sender, "<>") ? sender : "");
		w_str(w, zbuf_cstr(&line));
	}
	if (fl & SMF_e) {
		zbuf_reset(&line);
		if (rs[0]->r->envid.n > 0) {
			(void)zbuf_puts(&line, "Envelope-Id: ");
			(void)zbuf_append(&line, rs[0]->r->envid.p, rs[0]->r->envid.n);
			(void)zbuf_puts(&line, "\n");
		}
		(void)zbuf_puts(&line, "X-Envelope-To: ");
		for (size_t i = 0; i < n; i++)
			(void)zbuf_printf(&line, "%s<%s>", i ? ", " : "", rs[i]->user ? rs[i]->user : "");
		(void)zbuf_puts(&line, "\n");
		w_str(w, zbuf_cstr(&line));
	}
	if (fl & (SMF_e | SMF_O)) {
		for (size_t i = 0; i < n; i++) {
			if (rs[i]->r->orcpt.n == 0)
				continue;
			zbuf_reset(&line);
			(void)zbuf_puts(&line, "Original-Recipient: ");
			(void)zbuf_append(&line, rs[i]->r->orcpt.p, rs[i]->r->orcpt.n);
			(void)zbuf_puts(&line, "\n");
			w_str(w, zbuf_cstr(&line));
		}
	}
	/* the header block, minus the fields we replaced */
	while (pos < hdr.n && !w->failed) {
		const char *p = hdr.p + pos;
		size_t len = 0, end;
		/* one field: the line and its continuation lines */
		for (end = pos; end < hdr.n; ) {
			const char *nl = memchr(hdr.p + end, '\n', hdr.n - end);
			end = nl ? (size_t)(nl - hdr.p) + 1 : hdr.n;
			if (end >= hdr.n || (hdr.p[end] != ' ' && hdr.p[end] != '\t'))
				break;
		}
		len = end - pos;
		pos = end;
		if (len == 1 && p[0] == '\n')
			break;   /* the empty line ending the block */
		if (((fl & SMF_P) && hdr_is(p, len, "Return-Path")) ||
		    ((fl & SMF_e) && (hdr_is(p, len, "Envelope-Id") || hdr_is(p, len, "X-Envelope-To"))) ||
		    ((fl & (SMF_e | SMF_O)) && hdr_is(p, len, "Original-Recipient")))
			continue;
		w_bytes(w, p, len);
	}
	w_char(w, '\n');
	w->body = 1;
	w->bol = 1;
	(void)ta_body_each(m, w_put, w);
	if (w->npend > 0) {
		for (size_t i = 0; i < w->npend; i++)
			w_raw(w, w->pend[i]);
		w->npend = 0;
	}
	if ((fl & SMF_X) && !w->failed) {
		/* an SMTP-style end: make sure the last line ends, then "." */
		if (!w->bol)
			w_raw(w, '\n');
		w_raw(w, '.');
		w_raw(w, '\n');
	}
	w_flush(w);
	zbuf_free(&line);
}

/* child - become the user and exec; never returns */
static _Noreturn void child(const zpriv_ids *ids, const struct passwd *pw, int in, int out,
			    const char *path, char **argv, const char *sender, const char *rcpt,
			    const char *spoolid)
{
	static char e_home[4200], e_user[300], e_logname[300], e_sender[2100], e_rcpt[2100],
		e_id[100], e_tz[300];
	char e_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	char e_shell[] = "SHELL=/bin/sh";
	char *envp[12];
	int ne = 0;
	zbuf err = ZBUF_INIT(512);
	const char *tz = getenv("TZ");
	long maxfd;

	(void)setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(EX_OSERR);
	maxfd = sysconf(_SC_OPEN_MAX);
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	for (long fd = 3; fd < maxfd; fd++)
		(void)close((int)fd);
	if (G.root && zpriv_drop_ids(ids, &err) != Z_OK) {
		fprintf(stderr, "sm: cannot become uid %ld: %s\n", (long)ids->uid, zbuf_cstr(&err));
		_exit(EX_TEMPFAIL);
	}
	if (pw == NULL || chdir(pw->pw_dir) != 0)
		(void)chdir("/");
	snprintf(e_home, sizeof(e_home), "HOME=%s", pw ? pw->pw_dir : "/");
	snprintf(e_user, sizeof(e_user), "USER=%s", ids->name);
	snprintf(e_logname, sizeof(e_logname), "LOGNAME=%s", ids->name);
	snprintf(e_sender, sizeof(e_sender), "SENDER=%s", sender);
	snprintf(e_rcpt, sizeof(e_rcpt), "RECIPIENT=%s", rcpt);
	snprintf(e_id, sizeof(e_id), "MSGSPOOLID=%s", spoolid);
	envp[ne++] = e_home; envp[ne++] = e_user; envp[ne++] = e_logname;
	envp[ne++] = e_shell; envp[ne++] = e_path; envp[ne++] = e_sender;
	envp[ne++] = e_rcpt; envp[ne++] = e_id;
	if (tz != NULL && strlen(tz) < 200) {
		snprintf(e_tz, sizeof(e_tz), "TZ=%s", tz);
		envp[ne++] = e_tz;
	}
	envp[ne] = NULL;
	execve(path, argv, envp);
	fprintf(stderr, "sm: cannot execute %s: %s\n", path, strerror(errno));
	_exit(errno == ENOENT ? EX_UNAVAILABLE : EX_TEMPFAIL);
}

/* resolve_priv - the ids a program for r runs with; Z_OK or an outcome */
static int resolve_priv(const ta_rcpt *r, zpriv_ids *ids, outcome *o)
{
	char who[64];
	zbuf err = ZBUF_INIT(512);
	int rc;

	if (r->r->quad.privilege > 0)
		snprintf(who, sizeof(who), "%ld", r->r->quad.privilege);
	else
		zstrlcpy(who, G.defpriv, sizeof(who));
	rc = zpriv_resolve(who, NULL, ids, &err);
	if (rc == Z_OK && ids->uid == 0) {
		rc = Z_ERR;
		zbuf_reset(&err);
		zbuf_puts(&err, "never as root");
	}
	if (rc == Z_OK && !G.root && !zpriv_is_self(ids)) {
		rc = Z_ERR;
		zbuf_reset(&err);
		zbuf_printf(&err, "sm runs as uid %ld, not root: it cannot act as uid %ld",
			    (long)geteuid(), (long)ids->uid);
	}
	if (rc != Z_OK) {
		o->code = rc == Z_ERR && !G.root ? EX_TEMPFAIL : EX_NOPERM;
		o->status = o->code == EX_TEMPFAIL ? "4.3.0" : "5.3.0";
		snprintf(o->text, sizeof(o->text), "privilege %s: %s", who, zbuf_cstr(&err));
	}
	zbuf_free(&err);
	return rc;
}

/* run_mailer - one program run for rs[0..n); fills o */
static void run_mailer(ta_ctx *ctx, ta_msg *m, ta_rcpt **rs, size_t n, const char *host, outcome *o)
{
	zbuf sender = ZBUF_INIT(2048), path = ZBUF_INIT(8192);
	char **argv = NULL;
	zpriv_ids ids;
	struct passwd pwcopy, *pw;
	char pwdir[4096];
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, st = 0;
	run r;
	smw w;

	(void)ctx;
	memset(o, 0, sizeof(*o));
	if (ta_sender_addr(m, rs[0], &sender) != Z_OK || sender.len == 0) {
		zbuf_reset(&sender);
		(void)zbuf_puts(&sender, "<>");
	}
	/* only values that go into argv must look like non-options */
	if (((G.mailer->flags & (SMF_f | SMF_r)) || argv_uses("$g") || argv_uses("$f")) &&
	    strcmp(zbuf_cstr(&sender), "<>") != 0 && !value_ok(zbuf_cstr(&sender))) {
		o->code = EX_UNAVAILABLE;
		o->status = "5.1.7";
		snprintf(o->text, sizeof(o->text), "sender unsafe as a program argument");
		goto out;
	}
	if (argv_uses("$h") && !value_ok(host)) {
		o->code = EX_UNAVAILABLE;
		o->status = "5.1.2";
		snprintf(o->text, sizeof(o->text), "host unsafe as a program argument");
		goto out;
	}
	for (size_t i = 0; i < n && G.mailer->has_u; i++)
		if (!value_ok(rs[i]->user)) {
			o->code = EX_UNAVAILABLE;
			o->status = "5.1.3";
			snprintf(o->text, sizeof(o->text), "recipient unsafe as a program argument");
			goto out;
		}
	if (resolve_priv(rs[0], &ids, o) != Z_OK)
		goto out;
	pw = getpwuid(ids.uid);
	if (pw != NULL) {
		zstrlcpy(pwdir, pw->pw_dir ? pw->pw_dir : "/", sizeof(pwdir));
		pwcopy = *pw;
		pwcopy.pw_dir = pwdir;
		pw = &pwcopy;
	}
	if (build_argv(m, rs, n, zbuf_cstr(&sender), host, &path, &argv, o) != Z_OK)
		goto out;
	if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0) {
		o->code = EX_TEMPFAIL;
		o->status = "4.3.0";
		snprintf(o->text, sizeof(o->text), "pipe: %s", strerror(errno));
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.pid = fork();
	if (r.pid < 0) {
		o->code = EX_TEMPFAIL;
		o->status = "4.3.0";
		snprintf(o->text, sizeof(o->text), "fork: %s", strerror(errno));
		goto out;
	}
	if (r.pid == 0)
		child(&ids, pw, pin[0], pout[1], zbuf_cstr(&path), argv, zbuf_cstr(&sender),
		      rs[0]->user ? rs[0]->user : "", m->spoolid);
	(void)setpgid(r.pid, r.pid);   /* also here: no race with kill(-pid) */
	close(pin[0]);
	close(pout[1]);
	pin[0] = pout[1] = -1;
	r.in = pin[1];
	r.out = pout[0];
	pin[1] = pout[0] = -1;
	(void)fcntl(r.in, F_SETFL, O_NONBLOCK);
	(void)fcntl(r.out, F_SETFL, O_NONBLOCK);
	r.deadline = zmono_ms() + G.timeout * 1000;

	memset(&w, 0, sizeof(w));
	w.r = &r;
	w.flags = G.mailer->flags;
	zbuf_init(&w.chunk, CHUNK + 16);
	write_message(&w, m, rs, n, zbuf_cstr(&sender));
	zbuf_free(&w.chunk);
	if (r.in >= 0) {
		close(r.in);
		r.in = -1;
	}
	/* read the rest of the output until EOF or the time limit */
	if (!r.timed_out)
		(void)pump(&r, NULL, 0);
	if (r.timed_out) {
		kill(-r.pid, SIGKILL);
		kill(r.pid, SIGKILL);
	}
	for (;;) {
		pid_t x = waitpid(r.pid, &st, r.timed_out ? 0 : WNOHANG);
		if (x == r.pid)
			break;
		if (x < 0 && errno != EINTR)
			break;
		if (r.timed_out) {
			continue;
		}
		if (zmono_ms() >= r.deadline) {
			r.timed_out = 1;
			kill(-r.pid, SIGKILL);
			kill(r.pid, SIGKILL);
			continue;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (r.timed_out) {
		/* the process group may hold the pipe open: kill it all */
		kill(-r.pid, SIGKILL);
	}
	if (r.out >= 0)
		close(r.out);
	map_exit(&r, st, o);
	if (w.failed && !r.epipe && !r.timed_out && o->code == EX_OK) {
		o->code = EX_TEMPFAIL;
		o->status = "4.3.0";
		snprintf(o->text, sizeof(o->text), "writing to mailer %s failed", G.mailer->name);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
	}
	free_argv(argv);
	zbuf_free(&sender);
	zbuf_free(&path);
}

/* report - the one report line per recipient of a run */
static void report(ta_ctx *ctx, ta_msg *m, ta_rcpt **rs, size_t n, const outcome *o)
{
	char diag[1500];

	snprintf(diag, sizeof(diag), "x-unix; %s", o->text);
	for (size_t i = 0; i < n; i++) {
		ta_notary(rs[i], NULL, o->status, diag, NULL);
		ta_diagnostic(ctx, m, rs[i], o->code, 0, "%s", o->text);
	}
}

/* sm_same - flag m: one run serves recipients with the same sender,
 * header block, privilege and host */
static int sm_same(const ctl_rcpt *a, const ctl_rcpt *b, void *arg)
{
	(void)arg;
	return a->sender == b->sender && a->hdr_off == b->hdr_off &&
	       a->quad.privilege == b->quad.privilege &&
	       zspan_caseeq_span(a->quad.host, b->quad.host);
}

/* sm_deliver - one run per recipient, or per group with flag m */
static int sm_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	ta_groups g;
	size_t n;

	if (ta_groups_init(&g, ctx, m, (G.mailer->flags & SMF_m) ? sm_same : NULL, NULL) != Z_OK)
		return EX_OK;
	while ((n = ta_groups_next(&g)) > 0) {
		outcome o;
		char hbuf[256];
		const char *h = host;

		if (h == NULL || *h == '\0') {
			if (zspan_copy(g.grp[0]->r->quad.host, hbuf, sizeof(hbuf)) != Z_OK)
				hbuf[0] = '\0';
			h = hbuf;
		}
		run_mailer(ctx, m, g.grp, n, h, &o);
		report(ctx, m, g.grp, n, &o);
	}
	ta_groups_free(&g);
	return EX_OK;
}

int main(int argc, char **argv)
{
	ta_ctx ctx;
	ta_agent_ops ops;
	const char *channel = NULL, *cfg = NULL, *host = NULL;
	zbuf err = ZBUF_INIT(1024), data = ZBUF_INIT(SMCONF_MAX_SIZE);
	char cfgpath[4200];
	int c, tset = 0;

	zproctitle_init(argc, argv);
	zlog_open("sm", ZLOG_TO_STDERR);
	G.timeout = 600;
	while ((c = getopt(argc, argv, "Vf:c:h:t:")) != -1) {
		switch (c) {
		case 'V':
			printf("sm (zmta) %s\n", ZMTA_VERSION);
			return EX_OK;
		case 'f': cfg = optarg; break;
		case 'c': channel = optarg; break;
		case 'h': host = optarg; break;
		case 't': {
			unsigned long v;
			if (zparse_ulong(optarg, 86400, &v) != Z_OK || v == 0)
				usage("-t wants seconds (1..86400)");
			G.timeout = (long)v;
			tset = 1;
			break;
		}
		default: usage(NULL);
		}
	}
	if (argc - optind != 1)
		usage("one mailer name is needed");
	if (channel == NULL)
		channel = argv[optind];   /* ZMailer: the channel is usually the mailer's name */
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "zmta.conf: %s", zbuf_cstr(&err));
	G.mailbin = zconf_get_default("MAILBIN", ZMTA_LIBEXECDIR);
	G.defpriv = zconf_get_default("DEFAULT_PRIVILEGE", "nobody");
	G.root = geteuid() == 0;
	if (!tset && zconf_get("SM_TIMEOUT") != NULL) {
		if (zinterval_parse(zconf_get("SM_TIMEOUT"), &G.timeout) != Z_OK || G.timeout < 1 ||
		    G.timeout > 86400)
			zlog_fatal(EX_CONFIG, NULL, "zmta.conf: SM_TIMEOUT is not an interval of 1s..1d");
	}
	if (cfg == NULL) {
		int k = snprintf(cfgpath, sizeof(cfgpath), "%s/sm.conf",
				 zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR));
		if (k < 0 || (size_t)k >= sizeof(cfgpath))
			zlog_fatal(EX_CONFIG, NULL, "MAILSHARE path too long");
		cfg = cfgpath;
	}
	zbuf_reset(&err);
	if (zread_file(cfg, SMCONF_MAX_SIZE, &data, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s: %s", cfg, zbuf_cstr(&err));
	zbuf_reset(&err);
	if (smconf_parse(cfg, data.data ? data.data : "", data.len, &G.conf, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	G.mailer = smconf_find(&G.conf, argv[optind]);
	if (G.mailer == NULL)
		zlog_fatal(EX_CONFIG, NULL, "%s: no mailer \"%s\"", cfg, argv[optind]);
	zbuf_free(&data);

	ta_init(&ctx, "sm", channel);
	ctx.fixed_host = host;
	memset(&ops, 0, sizeof(ops));
	ops.deliver = sm_deliver;
	c = ta_jobloop(&ctx, &ops);
	smconf_free(&G.conf);
	zbuf_free(&err);
	return c;
}
