/*
 * NAME
 *	mailbox_main - command line, recipient classes and per-recipient
 *	child processes of mailbox(8), the local delivery agent
 * SUMMARY
 *	Runs the libta job loop; for each locked recipient of channel local
 *	it forks a child that drops to the recipient's ids (lib/zpriv) and
 *	appends to an mbox file, delivers into a Maildir, appends to a /file
 *	or feeds a |program; the child's result comes back over a pipe and
 *	becomes the recipient's one report (ta_diagnostic).
 * SYNOPSIS
 *	mailbox [-8EgHMV] [-c channel] [-h host] [-d template] [-F edquot]
 *	        [-l logfile] [-T timelimit]
 * DESCRIPTION
 *	Run with cwd $POSTOFFICE/transport by the scheduler (user=root).
 *	Recipients: the user field, without leading backslashes, starting
 *	with '|' is a program (run by /bin/sh -c), with '/' a file; anything
 *	else is a login name (retried in lower case when the first letter is
 *	upper case).  Programs and files run as the quad's privilege uid with
 *	that user's groups, never as uid 0 unless MAILBOX_ALLOW_ROOT=yes;
 *	mailboxes are written as the account itself.  An mbox below a
 *	root-owned, group-writable spool directory (/var/mail, root:mail
 *	2775) is written with that directory's group as the only group, so
 *	the dot-lock and a new mailbox can be created there.
 *
 *	zmta.conf: MAILBOX (template, default /var/mail/%u; a value without
 *	'%' and without a trailing '/' is a directory: "/%u" is appended),
 *	MAILBOX_TIMELIMIT (default 10m), MAILBOX_LOCKWAIT (default 60s),
 *	MAILBOX_ALLOW_ROOT, MYHOSTNAME (Delivered-To, Maildir names).
 * DIAGNOSTICS
 *	Bad options: usage, exit EX_USAGE; unreadable zmta.conf or a bad
 *	value: EX_CONFIG.  Otherwise the job loop's exit code.  Per
 *	recipient: unknown user error2 5.1.1, Delivered-To loop error2
 *	5.4.6, root privilege refused error2 5.7.1 (abnormal), full disk and
 *	quota deferred (4.3.1 / 4.2.2), time limit deferred (4.3.0).
 * SECURITY
 *	Runs as root so that it can become each recipient; never writes a
 *	user's file or runs a program as root: every delivery happens in a
 *	child that first calls setsid() and zpriv_drop_ids() and checks that
 *	root cannot be regained.  The child gets /dev/null as stdin and
 *	stdout and does not keep the control file open; programs get a clean
 *	environment, no inherited descriptors but their three pipes, and are
 *	killed with their whole process group when the time limit passes.
 *	Without root it delivers only to its own uid (others are deferred).
 * BUGS
 *	-H is accepted and does nothing (headers are never converted); -8
 *	does not apply to programs.  No biff/comsat, no -D/-P/-X hashing.
 * SEE ALSO
 *	mailbox(8), mbox.c, zmta-ta(7), lib/zpriv.h
 */
#include <ctype.h>
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
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mbox.h"
#include "ta.h"
#include "zconf.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"

#ifndef ZMTA_VERSION
#define ZMTA_VERSION "0"
#endif

#define OUTPUT_KEEP 400   /* bytes of a program's output kept for the report */

enum kind { K_MBOX, K_MAILDIR, K_FILE, K_PROGRAM };

struct opts {
	const char *channel;
	const char *host;
	const char *tmpl;
	const char *logfile;
	int mmdf;
	int decode_qp;
	int create;
	int edquot_perm;
	int envelope_to;
	int allow_root;
	int root;
	long timelimit;
	long lock_wait;
	char myhostname[256];
};

static struct opts O;

static const char usage_text[] =
	"usage: mailbox [-8EgHMV] [-c channel] [-h host] [-d template] [-F edquot]\n"
	"               [-l logfile] [-T timelimit]\n";

/* usage - complain and exit EX_USAGE */
static _Noreturn void usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "mailbox: %s\n", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

/* job - what one recipient's child needs */
struct job {
	enum kind kind;
	const char *target;        /* path, Maildir, or command */
	zpriv_ids ids;
	const char *home;
	mbx_fileopts fo;
	mbx_msg msg;
	/* program environment */
	const char *sender, *orcpt, *envid, *msgid, *spoolid;
};

/* write_all_fd - write n bytes, EINTR safe */
static void write_all_fd(int fd, const void *p, size_t n)
{
	(void)zwrite_all(fd, p, n);
}

/* env_add - "NAME=value" into env[*k] (malloc'd), control bytes dropped */
static void env_add(char **env, int *k, const char *name, const char *value)
{
	zbuf b = ZBUF_INIT(8192);

	if (zbuf_printf(&b, "%s=", name) != Z_OK)
		return;
	for (const char *p = value ? value : ""; *p; p++)
		if ((unsigned char)*p >= ' ' && zbuf_putc(&b, *p) != Z_OK)
			break;
	env[(*k)++] = b.data ? b.data : strdup("");
}

/* program_feed - the program's stdin data in pieces: prefix, then body */
struct feed {
	zbuf prefix;
	size_t ppos;
	char buf[65536];
	size_t blen, bpos;
	off_t boff, bleft;
	int bodyfd;
	int lastc;
	int done;
};

/* feed_next - point p and n at the next bytes to write; 0 at the end */
static int feed_next(struct feed *f, const char **p, size_t *n)
{
	if (f->ppos < f->prefix.len) {
		*p = f->prefix.data + f->ppos;
		*n = f->prefix.len - f->ppos;
		return 1;
	}
	if (f->bpos < f->blen) {
		*p = f->buf + f->bpos;
		*n = f->blen - f->bpos;
		return 1;
	}
	if (f->bleft > 0 && f->bodyfd >= 0) {
		size_t want = f->bleft > (off_t)sizeof(f->buf) ? sizeof(f->buf) : (size_t)f->bleft;
		ssize_t got = pread(f->bodyfd, f->buf, want, f->boff);
		if (got > 0) {
			f->blen = (size_t)got;
			f->bpos = 0;
			f->boff += got;
			f->bleft -= got;
			f->lastc = (unsigned char)f->buf[got - 1];
			*p = f->buf;
			*n = f->blen;
			return 1;
		}
		f->bleft = 0;
	}
	if (!f->done) {
		f->done = 1;
		if (f->lastc != '\n') {
			f->buf[0] = '\n';
			f->blen = 1;
			f->bpos = 0;
			*p = f->buf;
			*n = 1;
			return 1;
		}
	}
	return 0;
}

/* feed_advance - n bytes were written */
static void feed_advance(struct feed *f, size_t n)
{
	if (f->ppos < f->prefix.len)
		f->ppos += n;
	else
		f->bpos += n;
}

/* run_program - as the user: sh -c command, message on stdin, output kept */
static void run_program(const struct job *j, mbx_result *res)
{
	char *env[16] = { 0 };
	int k = 0, in[2] = { -1, -1 }, out[2] = { -1, -1 }, ws = 0, writing = 1;
	char obuf[OUTPUT_KEEP + 1];
	size_t olen = 0;
	struct feed *f = calloc(1, sizeof(*f));
	pid_t pid;

	if (f == NULL) {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "out of memory");
		return;
	}
	zbuf_init(&f->prefix, MBX_HDR_MAX + 4096);
	f->bodyfd = j->msg.bodyfd;
	f->boff = j->msg.bodyoff;
	f->bleft = j->msg.bodysize;
	f->lastc = '\n';
	if (mbx_from_line(j->sender, j->msg.when, &f->prefix) != Z_OK ||
	    zbuf_append(&f->prefix, j->msg.hdrs, j->msg.hlen) != Z_OK) {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "out of memory");
		goto out;
	}
	if (j->home == NULL || chdir(j->home) != 0)
		(void)chdir("/");
	env_add(env, &k, "HOME", j->home ? j->home : "/");
	env_add(env, &k, "USER", j->ids.name);
	env_add(env, &k, "LOGNAME", j->ids.name);
	env_add(env, &k, "SENDER", *j->sender ? j->sender : "<>");
	env_add(env, &k, "ORCPT", j->orcpt);
	env_add(env, &k, "ENVID", j->envid);
	env_add(env, &k, "MESSAGEID", j->msgid);
	env_add(env, &k, "MSGSPOOLID", j->spoolid);
	env_add(env, &k, "PATH", "/usr/bin:/bin");
	env_add(env, &k, "SHELL", "/bin/sh");
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		mbx_result_errno(res, errno, 0, "cannot make pipes for", j->target);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		mbx_result_errno(res, errno, 0, "cannot fork for", j->target);
		goto out;
	}
	if (pid == 0) {
		sigset_t none;
		char *argv[] = { "sh", "-c", (char *)(j->target + 1), NULL };
		int sigs[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM };
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(EX_OSERR);
		for (int fd = 3; fd < 1024; fd++)
			(void)close(fd);
		execve("/bin/sh", argv, env);
		_exit(EX_OSERR);
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	while (out[0] >= 0) {
		struct pollfd pf[2];
		int np = 0, wi = -1;
		pf[np].fd = out[0];
		pf[np].events = POLLIN;
		np++;
		if (writing) {
			wi = np;
			pf[np].fd = in[1];
			pf[np].events = POLLOUT;
			np++;
		}
		if (poll(pf, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (wi >= 0 && (pf[wi].revents & (POLLOUT | POLLERR | POLLHUP))) {
			const char *p;
			size_t n;
			if (!feed_next(f, &p, &n)) {
				writing = 0;
			} else {
				ssize_t w = write(in[1], p, n);
				if (w > 0)
					feed_advance(f, (size_t)w);
				else if (w < 0 && errno != EAGAIN && errno != EINTR)
					writing = 0;   /* EPIPE: the program stopped reading */
			}
			if (!writing) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char tmp[4096];
			ssize_t r = read(out[0], tmp, sizeof(tmp));
			if (r > 0) {
				size_t take = (size_t)r;
				if (take > OUTPUT_KEEP - olen)
					take = OUTPUT_KEEP - olen;
				memcpy(obuf + olen, tmp, take);
				olen += take;
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(out[0]);
				out[0] = -1;
			}
		}
	}
	if (in[1] >= 0) {
		close(in[1]);
		in[1] = -1;
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	mbx_program_exit(ws, res);
	if (olen > 0) {
		size_t tl = strlen(res->text);
		obuf[olen] = '\0';
		for (size_t i = 0; i < olen; i++)
			if ((unsigned char)obuf[i] < ' ' || obuf[i] == 0x7f)
				obuf[i] = ' ';
		while (olen > 0 && obuf[olen - 1] == ' ')
			obuf[--olen] = '\0';
		if (olen > 0)
			snprintf(res->text + tl, sizeof(res->text) - tl, ": %s", obuf);
		for (char *p = res->text; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	for (int i = 0; i < k; i++)
		free(env[i]);
	zbuf_free(&f->prefix);
	free(f);
}

/* child_main - in the forked child: become the user, deliver, report */
static _Noreturn void child_main(const struct job *j, int resfd, int ctlfd)
{
	mbx_result res;
	zbuf err = ZBUF_INIT(1024);
	int nul;

	memset(&res, 0, sizeof(res));
	res.oldsize = -1;
	(void)setsid();
	if (ctlfd >= 0)
		close(ctlfd);
	if ((nul = open("/dev/null", O_RDWR)) >= 0) {
		(void)dup2(nul, 0);
		(void)dup2(nul, 1);
		if (nul > 2)
			close(nul);
	}
	if (!zpriv_is_self(&j->ids) && zpriv_drop_ids(&j->ids, &err) != Z_OK) {
		mbx_result_set(&res, EX_TEMPFAIL, "4.3.0", "cannot become %s: %s", j->ids.name,
			       zbuf_cstr(&err));
		goto done;
	}
	if (j->ids.uid != 0 && (geteuid() == 0 || getuid() == 0)) {
		mbx_result_set(&res, EX_TEMPFAIL, "4.3.0", "still root after dropping to %s",
			       j->ids.name);
		goto done;
	}
	umask(077);
	switch (j->kind) {
	case K_MBOX:
	case K_FILE:
		(void)mbx_append(j->target, &j->fo, &j->msg, &res);
		break;
	case K_MAILDIR:
		(void)mbx_maildir(j->target, &j->fo, &j->msg, &res);
		break;
	case K_PROGRAM:
		run_program(j, &res);
		break;
	}
done:
	write_all_fd(resfd, &res, sizeof(res));
	_exit(0);
}

/* run_child - fork the delivery child, wait for its result (time limit) */
static void run_child(ta_msg *m, const struct job *j, mbx_result *res)
{
	int p[2], ws;
	size_t got = 0;
	long long deadline;
	pid_t pid;
	int timed_out = 0;

	if (pipe2(p, O_CLOEXEC) != 0) {
		mbx_result_errno(res, errno, 0, "cannot make a pipe for", j->target);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		mbx_result_errno(res, errno, 0, "cannot fork for", j->target);
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		child_main(j, p[1], m->ctlfd);
	}
	close(p[1]);
	deadline = zmono_ms() + O.timelimit * 1000;
	while (got < sizeof(*res)) {
		long long left = deadline - zmono_ms();
		struct pollfd pf = { p[0], POLLIN, 0 };
		ssize_t r;
		int pr;
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		pr = poll(&pf, 1, left > 60000 ? 60000 : (int)left);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		r = read(p[0], (char *)res + got, sizeof(*res) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(p[0]);
	if (timed_out) {
		/* the child leads its own process group (setsid): the program
		 * and whatever it started go with it */
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0",
			       "time limit of %lds exceeded delivering to %s: killed", O.timelimit,
			       j->target);
		res->added = 0;
	} else if (got != sizeof(*res)) {
		if (WIFSIGNALED(ws))
			mbx_result_set(res, EX_TEMPFAIL, "4.3.0",
				       "delivery process for %s killed by signal %d", j->target,
				       WTERMSIG(ws));
		else
			mbx_result_set(res, EX_TEMPFAIL, "4.3.0",
				       "delivery process for %s gave no result", j->target);
	} else {
		res->text[sizeof(res->text) - 1] = '\0';
		res->status[sizeof(res->status) - 1] = '\0';
	}
}

/* log_delivery - the -l line: "<msgid>: <old> + <added> : <file> (pid N user U)" */
static void log_delivery(const char *msgid, const struct job *j, const mbx_result *res)
{
	char line[MBX_PATH_MAX + 600];
	int fd, n;

	if (O.logfile == NULL || res->ex != EX_OK || j->kind == K_PROGRAM)
		return;
	n = snprintf(line, sizeof(line), "%s: %lld + %lld : %s (pid %ld user %s)\n",
		     msgid && *msgid ? msgid : "?", res->oldsize < 0 ? 0 : res->oldsize,
		     res->added, j->target, (long)getpid(), j->ids.name);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	fd = open(O.logfile, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		zlog_warn(NULL, "log file %s: %s", O.logfile, strerror(errno));
		return;
	}
	(void)zwrite_all(fd, line, (size_t)n);
	close(fd);
}

/* spool_group - an mbox below a root-owned group-writable spool directory
 * (root:mail 2775) is written with that group */
static void spool_group(const char *path, zpriv_ids *ids)
{
	char dir[MBX_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (dir[0] == '\0')
		return;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
	    (st.st_mode & S_IWGRP) && !(st.st_mode & S_IWOTH) && st.st_gid != 0 &&
	    st.st_gid != ids->gid) {
		ids->gid = st.st_gid;
		ids->named = 0;   /* that group only */
	}
}

/* fill_ids - ids from a passwd entry */
static void fill_ids(const struct passwd *pw, zpriv_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	ids->uid = pw->pw_uid;
	ids->gid = pw->pw_gid;
	ids->named = 1;
	zstrlcpy(ids->name, pw->pw_name, sizeof(ids->name));
}

/* deliver_one - one recipient, one report */
static void deliver_one(ta_ctx *ctx, ta_msg *m, ta_rcpt *rp)
{
	const ctl_rcpt *r = rp->r;
	const ctl_sender *s = r->sender < m->ctl.nsenders ? &m->ctl.senders[r->sender] : NULL;
	const char *h = r->hdr_off >= 0 ? m->ctl.data + r->hdr_off : "";
	size_t hl = r->hdr_off >= 0 ? r->hdr_len : 0;
	zbuf sender = ZBUF_INIT(2048), path = ZBUF_INIT(MBX_PATH_MAX + 16);
	zbuf hdrs = ZBUF_INIT(MBX_HDR_MAX + 1024), err = ZBUF_INIT(1024);
	zbuf msgid = ZBUF_INIT(2048), dto = ZBUF_INIT(1024);
	char *orcpt = NULL, *envid = NULL, lower[256], diag[600];
	const char *u = rp->user ? rp->user : "";
	struct passwd *pw = NULL;
	mbx_hdropts ho;
	mbx_result res;
	struct job j;
	int maildir = 0;

	memset(&res, 0, sizeof(res));
	memset(&j, 0, sizeof(j));
	memset(&ho, 0, sizeof(ho));
	res.oldsize = -1;
	while (*u == '\\')
		u++;
	if (s != NULL && !zspan_eq(s->quad.channel, "error"))
		(void)ctl_unquote_user(s->quad.user, &sender);
	(void)mbx_header_value(h, hl, "Message-Id", &msgid);
	orcpt = zspan_dup(r->orcpt);
	envid = zspan_dup(r->envid);

	j.sender = zbuf_cstr(&sender);
	j.orcpt = orcpt ? orcpt : "";
	j.envid = envid ? envid : "";
	j.msgid = zbuf_cstr(&msgid);
	j.spoolid = m->spoolid;
	j.fo.create = O.create;
	j.fo.edquot_perm = O.edquot_perm;
	j.fo.lock_wait = O.lock_wait;
	j.fo.stale_after = 300;
	j.fo.hostname = O.myhostname;
	j.msg.sender = j.sender;
	j.msg.when = time(NULL);
	j.msg.bodyfd = m->bodyfd;
	j.msg.bodyoff = m->ctl.body_off > 0 ? (off_t)m->ctl.body_off : 0;
	j.msg.bodysize = m->bodysize;
	j.msg.decode_qp = O.decode_qp;
	ho.return_path = j.sender;
	if (O.envelope_to)
		ho.envelope_to = u;

	if (*u == '|' || *u == '/') {
		long priv = r->quad.privilege;
		j.kind = *u == '|' ? K_PROGRAM : K_FILE;
		j.target = u;
		if (j.kind == K_PROGRAM && u[1] == '\0') {
			mbx_result_set(&res, EX_UNAVAILABLE, "5.3.0", "empty program recipient");
			goto report;
		}
		if (priv < 0 || (priv == 0 && !O.allow_root)) {
			mbx_result_set(&res, EX_NOPERM, "5.7.1",
				       "%s %s refused: privilege %ld (programs and files never run as root)",
				       j.kind == K_PROGRAM ? "program" : "file", u, priv);
			goto report;
		}
		errno = 0;
		if ((pw = getpwuid((uid_t)priv)) == NULL) {
			if (errno != 0 && errno != ENOENT && errno != ESRCH)
				mbx_result_set(&res, EX_TEMPFAIL, "4.3.0", "passwd lookup of uid %ld: %s",
					       priv, strerror(errno));
			else
				mbx_result_set(&res, EX_NOPERM, "5.7.1",
					       "%s: privilege uid %ld has no passwd entry", u, priv);
			goto report;
		}
		fill_ids(pw, &j.ids);
		j.home = pw->pw_dir;
		j.fo.owner = -1;
		j.msg.format = j.kind == K_PROGRAM ? MBX_FMT_PIPE : O.mmdf ? MBX_FMT_MMDF : MBX_FMT_MBOX;
	} else {
		errno = 0;
		pw = getpwnam(u);
		if (pw == NULL && isupper((unsigned char)*u) && strlen(u) < sizeof(lower)) {
			size_t i;
			for (i = 0; u[i]; i++)
				lower[i] = (char)tolower((unsigned char)u[i]);
			lower[i] = '\0';
			pw = getpwnam(lower);
		}
		if (pw == NULL) {
			if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF &&
			    errno != EPERM)
				mbx_result_set(&res, EX_TEMPFAIL, "4.3.0", "passwd lookup of %s: %s", u,
					       strerror(errno));
			else
				mbx_result_set(&res, EX_NOUSER, "5.1.1", "user unknown: %s", u);
			goto report;
		}
		fill_ids(pw, &j.ids);
		j.home = pw->pw_dir;
		if (zbuf_printf(&dto, "%s@%s", pw->pw_name, O.myhostname) != Z_OK) {
			mbx_result_set(&res, EX_TEMPFAIL, "4.3.0", "out of memory");
			goto report;
		}
		if (mbx_delivered_to(h, hl, zbuf_cstr(&dto)) || mbx_delivered_to(h, hl, pw->pw_name)) {
			mbx_result_set(&res, EX_UNAVAILABLE, "5.4.6",
				       "mail forwarding loop for %s (Delivered-To: %s already present)",
				       pw->pw_name, zbuf_cstr(&dto));
			goto report;
		}
		ho.delivered_to = zbuf_cstr(&dto);
		if (mbx_expand(O.tmpl, pw->pw_name, pw->pw_dir, &path, &maildir, &err) != Z_OK) {
			mbx_result_set(&res, EX_TEMPFAIL, "4.3.5", "mailbox template %s: %s", O.tmpl,
				       zbuf_cstr(&err));
			goto report;
		}
		j.kind = maildir ? K_MAILDIR : K_MBOX;
		j.target = zbuf_cstr(&path);
		j.fo.dotlock = 1;
		j.fo.owner = (long)pw->pw_uid;
		j.msg.format = O.mmdf ? MBX_FMT_MMDF : MBX_FMT_MBOX;
		if (!maildir)
			spool_group(j.target, &j.ids);
	}
	if (mbx_headers(h, hl, &ho, &hdrs, &err) != Z_OK) {
		mbx_result_set(&res, EX_UNAVAILABLE, "5.6.0", "cannot edit the header: %s",
			       zbuf_cstr(&err));
		goto report;
	}
	j.msg.hdrs = hdrs.data ? hdrs.data : "";
	j.msg.hlen = hdrs.len;
	if (!O.root && !zpriv_is_self(&j.ids)) {
		mbx_result_set(&res, EX_TEMPFAIL, "4.3.0",
			       "mailbox runs as uid %ld, not root: cannot deliver as %s (uid %ld)",
			       (long)geteuid(), j.ids.name, (long)j.ids.uid);
		goto report;
	}
	run_child(m, &j, &res);
	log_delivery(zbuf_cstr(&msgid), &j, &res);
report:
	snprintf(diag, sizeof(diag), "x-unix; %s", res.text);
	ta_notary(rp, NULL, res.status[0] ? res.status : NULL, diag, NULL);
	ta_diagnostic(ctx, m, rp, res.ex, 0, "%s", res.text);
	free(orcpt);
	free(envid);
	zbuf_free(&sender);
	zbuf_free(&path);
	zbuf_free(&hdrs);
	zbuf_free(&err);
	zbuf_free(&msgid);
	zbuf_free(&dto);
}

/* mb_deliver - ops->deliver: every locked recipient in turn */
static int mb_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	(void)host;
	for (size_t i = 0; i < m->nrcpts; i++) {
		ta_rcpt *rp = &m->rcpts[i];
		if (!rp->locked || rp->reported)
			continue;
		if (ctx->stop) {
			/* asked to finish: the rest is deferred by ta_ctlclose */
			break;
		}
		deliver_one(ctx, m, rp);
	}
	return 0;
}

/* yes - a zmta.conf boolean */
static int yes(const char *v)
{
	return v != NULL && (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
			     strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0);
}

/* interval - zmta.conf or option interval in seconds, or exit EX_CONFIG */
static long interval(const char *v, const char *what, long def)
{
	long secs;

	if (v == NULL)
		return def;
	if (zinterval_parse(v, &secs) != Z_OK || secs <= 0 || secs > 7L * 86400)
		zlog_fatal(EX_CONFIG, NULL, "bad %s '%.60s'", what, v);
	return secs;
}

int main(int argc, char **argv)
{
	static zbuf tmplbuf = ZBUF_INIT(MBX_PATH_MAX);
	zbuf err = ZBUF_INIT(1024);
	const char *dopt = NULL, *topt = NULL;
	ta_agent_ops ops;
	ta_ctx ctx;
	int c;

	zlog_open("mailbox", ZLOG_TO_STDERR);
	O.channel = "local";
	O.create = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, ":c:d:EF:gh:Hl:MT:V8")) != -1) {
		switch (c) {
		case 'c': O.channel = optarg; break;
		case 'd': dopt = optarg; break;
		case 'E': O.envelope_to = 1; break;
		case 'F':
			if (strcasecmp(optarg, "edquot") != 0)
				usage("-F takes edquot");
			O.edquot_perm = 1;
			break;
		case 'g': O.create = !O.create; break;
		case 'h': O.host = optarg; break;
		case 'H': break;   /* headers are never converted anyway */
		case 'l': O.logfile = optarg; break;
		case 'M': O.mmdf = 1; break;
		case 'T': topt = optarg; break;
		case 'V':
			printf("mailbox (zmta) %s\n", ZMTA_VERSION);
			return 0;
		case '8': O.decode_qp = 1; break;
		case ':': usage("option needs a value");
		default: usage("unknown option");
		}
	}
	if (optind != argc)
		usage("no arguments expected");
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "zmta.conf: %s", zbuf_cstr(&err));
	{
		const char *t = dopt ? dopt : zconf_get_default("MAILBOX", "/var/mail/%u");
		size_t tl = strlen(t);
		if (tl == 0)
			zlog_fatal(EX_CONFIG, NULL, "empty mailbox template");
		if (strchr(t, '%') == NULL && t[tl - 1] != '/') {
			/* a directory, as ZMailer's -d */
			if (zbuf_printf(&tmplbuf, "%s/%%u", t) != Z_OK)
				zlog_fatal(EX_CONFIG, NULL, "mailbox template too long");
			t = zbuf_cstr(&tmplbuf);
		}
		O.tmpl = t;
	}
	O.timelimit = interval(topt ? topt : zconf_get("MAILBOX_TIMELIMIT"), "time limit", 600);
	O.lock_wait = interval(zconf_get("MAILBOX_LOCKWAIT"), "MAILBOX_LOCKWAIT", 60);
	O.allow_root = yes(zconf_get("MAILBOX_ALLOW_ROOT"));
	{
		const char *hn = zconf_get("MYHOSTNAME");
		if (hn != NULL && *hn)
			zstrlcpy(O.myhostname, hn, sizeof(O.myhostname));
		else if (gethostname(O.myhostname, sizeof(O.myhostname) - 1) != 0)
			zstrlcpy(O.myhostname, "localhost", sizeof(O.myhostname));
		for (char *p = O.myhostname; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>')
				*p = '_';
	}
	O.root = geteuid() == 0;
	if (!O.root)
		zlog_warn(NULL, "not running as root: delivering only to uid %ld", (long)geteuid());
	/* children are waited for explicitly */
	signal(SIGCHLD, SIG_DFL);

	ta_init(&ctx, "mailbox", O.channel);
	ctx.fixed_host = O.host;
	memset(&ops, 0, sizeof(ops));
	ops.deliver = mb_deliver;
	zbuf_free(&err);
	return ta_jobloop(&ctx, &ops);
}
