/*
 * NAME
 *	sendmail - submit a message to zmta (sendmail-compatible command)
 * SUMMARY
 *	Reads a message on standard input and writes it, with its envelope,
 *	as a submission file into the spool through libspool; or runs
 *	mailq (-bp), newaliases (-bi) or the smtpserver (-bs).
 * SYNOPSIS
 *	sendmail [options] [address ...]      (see sendmail(8))
 * DESCRIPTION
 *	main() parses the options (smlib.c), loads zmta.conf, works out who
 *	runs it (real uid, passwd entry) and whether that user is trusted
 *	(root, ZMTA_USER, TRUSTED_USERS), reads the header block of the
 *	message (bounded), opens the submission file (spool/submit.c), adds
 *	the missing header fields, writes the envelope and the header, then
 *	streams the body through the input filter into the file, bounded by
 *	MESSAGE_SIZE_LIMIT, and commits it (fsync, rename into router/ or
 *	public/<ino>, directory fsync, notify the router; no fsync of
 *	public/ for the scratch name's removal; submit_commit
 *	fsyncs a file left in public/<ino> once more, which commits its
 *	rename on journalling file systems: the user cannot open public/).
 *	Output is buffered in 64 KiB blocks.
 * DIAGNOSTICS
 *	One "sendmail: ..." line on standard error (none with -oeq) and a
 *	sysexits(3) code: EX_USAGE bad options or no recipients, EX_NOINPUT
 *	standard input unreadable or -t found no recipient, EX_DATAERR a bad
 *	address or header, or the message too large, EX_NOUSER the running
 *	uid has no passwd entry, EX_CONFIG a bad zmta.conf, EX_UNAVAILABLE a
 *	mode whose program is not installed, EX_TEMPFAIL the spool cannot
 *	take the message (full disk, no permission, no spool): the scratch
 *	file is removed, nothing half-written is left.
 * SECURITY
 *	Runs as the invoking user; it needs no privilege, because public/ is
 *	world-writable and sticky (zmta-spool(5)).  Installed set-id by
 *	mistake, it gives up the extra ids first.  The envelope sender of an
 *	untrusted user is always his own address; an -f address he gave is
 *	only mentioned in an X-Authentication-Warning: field (the router
 *	also decides from the file owner, never from the content).  Who runs
 *	the program comes from getuid() and the passwd database, never from
 *	$USER or $LOGNAME.  Descriptors 0-2 are made valid before any file
 *	is opened, so the submission file can never be standard input or
 *	output.  The umask is set to 027 so that the mail system's group can
 *	read the file.  SIGINT, SIGTERM and SIGHUP remove the scratch file.
 * BUGS
 *	-bs runs $MAILBIN/smtpserver -i (smtpserver(8)).  -v only
 *	reports the submission; it does not follow delivery.  Error modes
 *	m, w and e report on standard error like p: an error cannot be
 *	mailed back when the spool itself is what failed.
 * SEE ALSO
 *	sendmail(8), zmta-spool(5), zmta.conf(5), mailq(1), smlib.c
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zbuf.h"
#include "zconf.h"
#include "zutil.h"
#include "maddr.h"
#include "submit.h"
#include "smlib.h"

#ifndef ZMTA_BINDIR
#define ZMTA_BINDIR "/usr/local/bin"
#endif
#ifndef ZMTA_SBINDIR
#define ZMTA_SBINDIR "/usr/local/sbin"
#endif

#define READ_BLOCK 65536
#define OUT_BLOCK 65536

static char errmode = 'p';
static volatile sig_atomic_t have_scratch;
static char scratch_path[4200];

/* say - "sendmail: ..." on stderr unless -oeq */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (errmode == 'q')
		return;
	fputs("sendmail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* on_signal - remove the scratch file and leave */
static void on_signal(int sig)
{
	(void)sig;
	if (have_scratch)
		unlink(scratch_path);
	_exit(EX_TEMPFAIL);
}

/* fix_fds - make 0, 1, 2 valid; 1 if standard input was closed */
static int fix_fds(void)
{
	int closed0 = 0;

	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (fd == 0)
			closed0 = 1;
		int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n != fd) {
			/* cannot happen: the lowest free descriptor is fd */
			_exit(EX_OSERR);
		}
	}
	return closed0;
}

/* drop_setid - installed set-uid or set-gid by mistake: be the caller */
static void drop_setid(void)
{
	gid_t g = getgid();
	uid_t u = getuid();

	if (getegid() != g && setresgid(g, g, g) != 0)
		_exit(EX_OSERR);
	if (geteuid() != u && setresuid(u, u, u) != 0)
		_exit(EX_OSERR);
}

/* run_helper - exec path with argv; only returns on failure */
static int run_helper(const char *path, char *const argv[], const char *what)
{
	if (access(path, X_OK) != 0) {
		say("%s: %s is not installed (%s)", what, path, strerror(errno));
		return EX_UNAVAILABLE;
	}
	fflush(NULL);
	execv(path, argv);
	say("%s: cannot run %s: %s", what, path, strerror(errno));
	return EX_UNAVAILABLE;
}

/* other_modes - -bp, -bs, -bi, -q; returns the exit code */
static int other_modes(const sm_opts *o)
{
	char path[4200];

	switch (o->mode) {
	case SM_MODE_PRINTQ: {
		char *argv[] = { "mailq", NULL };
		const char *mq = zconf_get_default("MAILQ", ZMTA_BINDIR "/mailq");
		return run_helper(mq, argv, "-bp");
	}
	case SM_MODE_SMTP: {
		char *argv[] = { "smtpserver", "-i", NULL };
		const char *bin = zconf_get_default("MAILBIN", ZMTA_LIBEXECDIR);

		if (snprintf(path, sizeof(path), "%s/smtpserver", bin) >= (int)sizeof(path)) {
			say("-bs: MAILBIN is too long");
			return EX_CONFIG;
		}
		if (access(path, X_OK) != 0) {
			say("-bs: SMTP on standard input is not available yet: zmta has no "
			    "smtpserver (%s) in this version", path);
			return EX_UNAVAILABLE;
		}
		return run_helper(path, argv, "-bs");
	}
	case SM_MODE_NEWALIASES: {
		char *argv[] = { "newaliases", NULL };
		const char *na = zconf_get("NEWALIASES");
		static const char *const cand[] = { ZMTA_SBINDIR "/newaliases",
						    ZMTA_BINDIR "/newaliases" };

		if (na == NULL) {
			na = cand[0];
			for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
				if (access(cand[i], X_OK) == 0) {
					na = cand[i];
					break;
				}
		}
		return run_helper(na, argv, "-bi");
	}
	case SM_MODE_QUEUERUN:
		if (o->verbose)
			say("-q: the zmta scheduler runs the queue by itself; nothing to do");
		return EX_OK;
	case SM_MODE_DELIVER:
		break;
	}
	return EX_SOFTWARE;
}

/* read_block - read up to n bytes of stdin; bytes, 0 at EOF, -1 on error */
static ssize_t read_block(char *buf, size_t n)
{
	for (;;) {
		ssize_t k = read(0, buf, n);

		if (k >= 0 || errno != EINTR)
			return k;
	}
}

/* flush_out - write what is buffered into the submission */
static int flush_out(submit *s, zbuf *out)
{
	int rc = submit_write(s, out->data, out->len);

	zbuf_reset(out);
	return rc;
}

/* main - parse, read, submit; the exit status is a sysexits code */
int main(int argc, char **argv)
{
	zbuf err = ZBUF_INIT(4096), head = ZBUF_INIT(SM_HEADER_MAX + READ_BLOCK + 16);
	zbuf out = ZBUF_INIT(SM_HEADER_MAX * 2 + 4 * READ_BLOCK), sender = ZBUF_INIT(1024);
	zbuf tmp = ZBUF_INIT(4096), from_hdr = ZBUF_INIT(2048), warn = ZBUF_INIT(2048);
	zbuf fullname = ZBUF_INIT(1024), env = ZBUF_INIT(16u * 1024u * 1024u);
	zbuf po_path = ZBUF_INIT(4200);
	char login[256], myhost[256], date[64], msgid[512], *buf = NULL;
	unsigned long limit = SM_SIZE_DEFAULT;
	struct passwd *pw;
	int stdin_closed, trusted, ex = EX_SOFTWARE, open_ok = 0, eof = 0;
	size_t skip = 0, hdr_len = 0, body_off = 0;
	int need_blank = 0, found = 0;
	sm_opts o;
	sm_rcpts r;
	sm_in in;
	submit s;

	stdin_closed = fix_fds();
	drop_setid();
	umask(027);
	sm_rcpts_init(&r, SM_RCPT_MAX);
	memset(&s, 0, sizeof(s));
	s.fd = -1;

	if (sm_opts_parse(argc, argv, &o, &err) != Z_OK) {
		errmode = o.errmode;    /* as far as it was parsed: -oeq is honoured */
		say("%s", zbuf_cstr(&err));
		if (errmode != 'q')
			fputs("usage: sendmail [-t] [-i] [-f sender] [-F fullname] [-N dsn] [-R ret]"
			      " [-V envid] [-v] [-bm|-bs|-bp|-bi] [address ...]\n", stderr);
		ex = EX_USAGE;
		goto done;
	}
	errmode = o.errmode;
	if (zconf_load(NULL, &err) != Z_OK) {
		say("configuration: %s", zbuf_cstr(&err));
		ex = EX_CONFIG;
		goto done;
	}
	if (o.mode != SM_MODE_DELIVER) {
		ex = other_modes(&o);
		goto done;
	}
	if (o.nrcpts == 0 && !o.tflag) {
		say("no recipients: give addresses on the command line or use -t");
		ex = EX_USAGE;
		goto done;
	}

	/* who we are */
	pw = getpwuid(getuid());
	if (pw == NULL || pw->pw_name == NULL ||
	    zstrlcpy(login, pw->pw_name, sizeof(login)) != Z_OK) {
		say("who are you? uid %lu has no passwd entry", (unsigned long)getuid());
		ex = EX_NOUSER;
		goto done;
	}
	{
		const char *mh = zconf_get("MYHOSTNAME");

		if (mh != NULL && *mh != '\0') {
			if (zstrlcpy(myhost, mh, sizeof(myhost)) != Z_OK) {
				say("MYHOSTNAME is too long");
				ex = EX_CONFIG;
				goto done;
			}
		} else if (gethostname(myhost, sizeof(myhost)) != 0 || myhost[0] == '\0') {
			zstrlcpy(myhost, "localhost", sizeof(myhost));
		}
		myhost[sizeof(myhost) - 1] = '\0';
		for (char *p = myhost; *p; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127 || *p == '>' ||
			    *p == '<' || *p == '@')
				*p = '_';
	}
	{
		const char *zu = zconf_get_default("ZMTA_USER", "zmta");
		struct passwd *zp;

		trusted = getuid() == 0 || strcmp(login, zu) == 0 ||
			  sm_name_in_list(zconf_get("TRUSTED_USERS"), login);
		if (!trusted && (zp = getpwnam(zu)) != NULL && zp->pw_uid == getuid())
			trusted = 1;
		pw = getpwuid(getuid());        /* getpwnam may have reused the buffer */
		if (pw == NULL) {
			say("who are you? uid %lu has no passwd entry", (unsigned long)getuid());
			ex = EX_NOUSER;
			goto done;
		}
	}
	{
		const char *lim = zconf_get("MESSAGE_SIZE_LIMIT");

		if (lim != NULL && *lim != '\0' &&
		    zparse_ulong(lim, (unsigned long)-1 / 2, &limit) != Z_OK) {
			say("MESSAGE_SIZE_LIMIT=%s is not a number", lim);
			ex = EX_CONFIG;
			goto done;
		}
	}

	/* envelope sender and the added From: */
	if (o.fullname != NULL)
		zbuf_puts(&fullname, o.fullname);
	else if (sm_gecos_name(pw->pw_gecos, login, &fullname) != Z_OK)
		zbuf_reset(&fullname);
	/* the user's own address: the login as a canonical local part */
	if (maddr_put_local(&tmp, login, strlen(login)) != Z_OK ||
	    zbuf_printf(&tmp, "@%s", myhost) != Z_OK) {
		say("cannot make an address of login %.100s", login);
		ex = EX_NOUSER;
		goto done;
	}
	if (o.from != NULL) {
		if (sm_sender_parse(o.from, &sender, &err) != Z_OK) {
			say("bad sender address given with -f: %s", zbuf_cstr(&err));
			ex = EX_USAGE;
			goto done;
		}
		if (sender.len > 0 && (memchr(sender.data, '@', sender.len) == NULL ||
				       sender.data[sender.len - 1] == '"')) {
			/* a bare local part is one of ours: qualify it */
			if (zbuf_printf(&sender, "@%s", myhost) != Z_OK) {
				say("the sender address given with -f is too long");
				ex = EX_USAGE;
				goto done;
			}
		}
		if (!trusted) {
			/* believed only for trusted users: the envelope names the
			 * real user, the header says what was attempted */
			if (strcmp(zbuf_cstr(&sender), zbuf_cstr(&tmp)) != 0)
				zbuf_printf(&warn, "%s: %s set sender to %s using -f", myhost, login,
					    sender.len ? zbuf_cstr(&sender) : "<>");
			zbuf_set(&sender, tmp.data, tmp.len);
		}
	} else {
		zbuf_set(&sender, tmp.data, tmp.len);
	}
	sm_from_value(zbuf_cstr(&fullname),
		      sender.len > 0 ? zbuf_cstr(&sender) : zbuf_cstr(&tmp), &from_hdr);

	/* command-line recipients */
	for (int i = 0; i < o.nrcpts; i++) {
		zbuf_reset(&err);
		int rc = sm_rcpts_add_list(&r, zspan_from(o.rcpts[i]), &err);
		if (rc != Z_OK) {
			say("bad recipient address \"%.200s\": %s", o.rcpts[i], zbuf_cstr(&err));
			ex = rc == Z_ENOMEM ? EX_OSERR : EX_DATAERR;
			goto done;
		}
	}
	if (stdin_closed) {
		say("standard input is closed: no message to read");
		ex = EX_NOINPUT;
		goto done;
	}

	/* the header block */
	buf = malloc(READ_BLOCK);
	if (buf == NULL) {
		say("out of memory");
		ex = EX_OSERR;
		goto done;
	}
	sm_in_init(&in, o.iflag);
	for (;;) {
		ssize_t k = read_block(buf, READ_BLOCK);

		if (k < 0) {
			say("cannot read the message from standard input: %s", strerror(errno));
			ex = EX_NOINPUT;
			goto done;
		}
		if (k == 0) {
			sm_in_finish(&in, &head);
			eof = 1;
		} else if (sm_in_feed(&in, buf, (size_t)k, &head) != Z_OK) {
			break;  /* the header is too large */
		}
		if (in.done)
			eof = 1;
		if (sm_header_end(head.data ? head.data : "", head.len, eof, &skip, &hdr_len,
				  &body_off, &need_blank)) {
			found = 1;
			break;
		}
		if (head.len > SM_HEADER_MAX)
			break;
	}
	if (!found || hdr_len > SM_HEADER_MAX) {
		say("the message header is larger than %u bytes", SM_HEADER_MAX);
		ex = EX_DATAERR;
		goto done;
	}

	/* the submission file */
	{
		const char *po = o.postoffice ? o.postoffice : zconf_get("POSTOFFICE");

		zbuf_puts(&po_path, po ? po : "");

		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		signal(SIGPIPE, SIG_IGN);
		zbuf_reset(&err);
		if (submit_open(&s, po, &err) != Z_OK) {
			say("cannot queue the message: %s", zbuf_cstr(&err));
			ex = EX_TEMPFAIL;
			goto done;
		}
		open_ok = 1;
		submit_no_scratch_sync(&s);   /* two fsyncs per message, not three */
		zstrlcpy(scratch_path, s.tmppath, sizeof(scratch_path));
		have_scratch = 1;
	}
	{
		time_t now = time(NULL);
		struct tm tmv;

		if (ztime_rfc5322(now, date, sizeof(date)) != Z_OK)
			zstrlcpy(date, "Thu, 01 Jan 1970 00:00:00 +0000", sizeof(date));
		gmtime_r(&now, &tmv);
		snprintf(msgid, sizeof(msgid), "<%04d%02d%02d%02d%02d%02d.%lu.%ld@%s>",
			 tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour, tmv.tm_min,
			 tmv.tm_sec, s.ino, (long)getpid(), myhost);
	}
	{
		sm_hctx h = { o.tflag, zbuf_cstr(&from_hdr), date, msgid,
			      warn.len ? zbuf_cstr(&warn) : NULL };
		int rc;

		zbuf_reset(&err);
		rc = sm_header_rewrite(&h, head.data ? head.data + skip : "", hdr_len - skip, &out,
				       &r, &err);
		if (rc != Z_OK) {
			say("%s", zbuf_cstr(&err));
			ex = rc == Z_ENOMEM ? EX_OSERR : EX_DATAERR;
			goto fail;
		}
	}
	if (r.n == 0) {
		say("no recipient addresses found in the message header");
		ex = EX_NOINPUT;
		goto fail;
	}
	{
		sm_env e = { o.external, o.bodytype, zbuf_cstr(&sender), o.envid, o.ret, o.notify,
			     &r };

		zbuf_reset(&err);
		if (sm_envelope(&e, &env, &err) != Z_OK) {
			say("%s", zbuf_cstr(&err));
			ex = EX_DATAERR;
			goto fail;
		}
	}
	zbuf_reset(&err);
	if (zbuf_putc(&out, '\n') != Z_OK ||
	    zbuf_append(&out, head.data + body_off, head.len - body_off) != Z_OK) {
		say("the message header is too large");
		ex = EX_DATAERR;
		goto fail;
	}
	if (submit_write(&s, env.data, env.len) != Z_OK || flush_out(&s, &out) != Z_OK)
		goto ioerr;
	{
		unsigned long long total = env.len + in.bytes;

		if (total > limit)
			goto toobig;
		while (!eof) {
			ssize_t k = read_block(buf, READ_BLOCK);

			if (k < 0) {
				say("cannot read the message from standard input: %s",
				    strerror(errno));
				ex = EX_NOINPUT;
				goto fail;
			}
			if (k == 0) {
				sm_in_finish(&in, &out);
				eof = 1;
			} else {
				sm_in_feed(&in, buf, (size_t)k, &out);
				if (in.done)
					eof = 1;
			}
			if (env.len + in.bytes > limit)
				goto toobig;
			if ((out.len >= OUT_BLOCK || eof) && flush_out(&s, &out) != Z_OK)
				goto ioerr;
		}
	}
	{
		sigset_t all, old;
		unsigned long ino = 0;

		sigemptyset(&all);
		sigaddset(&all, SIGINT);
		sigaddset(&all, SIGTERM);
		sigaddset(&all, SIGHUP);
		sigprocmask(SIG_BLOCK, &all, &old);
		zbuf_reset(&err);
		if (submit_commit(&s, NULL, 0, &ino, &err) != Z_OK) {
			have_scratch = 0;
			sigprocmask(SIG_SETMASK, &old, NULL);
			say("cannot queue the message: %s", zbuf_cstr(&err));
			ex = EX_TEMPFAIL;
			goto done;
		}
		have_scratch = 0;
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (o.verbose) {
			fprintf(stderr, "sendmail: message %lu submitted from <%s> to %zu recipient%s:\n",
				ino, zbuf_cstr(&sender), r.n, r.n == 1 ? "" : "s");
			for (size_t i = 0; i < r.n; i++)
				fprintf(stderr, "sendmail:   <%s>\n", r.v[i]);
		}
	}
	ex = EX_OK;
	goto done;

toobig:
	say("the message is larger than MESSAGE_SIZE_LIMIT (%lu bytes)", limit);
	ex = EX_DATAERR;
	goto fail;
ioerr:
	say("cannot queue the message: writing %s: %s", scratch_path, strerror(errno));
	ex = EX_TEMPFAIL;
fail:
	if (open_ok) {
		submit_abort(&s);
		have_scratch = 0;
	}
done:
	free(buf);
	sm_rcpts_free(&r);
	zbuf_free(&err);
	zbuf_free(&head);
	zbuf_free(&out);
	zbuf_free(&sender);
	zbuf_free(&tmp);
	zbuf_free(&from_hdr);
	zbuf_free(&warn);
	zbuf_free(&fullname);
	zbuf_free(&env);
	zbuf_free(&po_path);
	zconf_free();
	return ex;
}
