/*
 * NAME
 *	supervise - run and supervise the daemons of one postoffice
 * SUMMARY
 *	zmta start [-f], stop, status, reload, check: a supervisor process
 *	that starts the scheduler, the router and the smtpserver (each when
 *	installed) in their foreground mode, restarts them with back-off,
 *	forwards reloads and stops them; and the commands that talk to it.
 * SYNOPSIS
 *	int cmd_start(int argc, char **argv);
 *	int cmd_stop(int argc, char **argv);
 *	int cmd_status(int argc, char **argv);
 *	int cmd_reload(int argc, char **argv);
 *	int cmd_check(int argc, char **argv);
 * DESCRIPTION
 *	See zmta(8).  The postoffice, MAILBIN (where the daemons are) and
 *	LOGDIR come from zmta.conf ($ZCONFIG).  The supervisor holds an
 *	exclusive flock on $POSTOFFICE/.pid.zmta for its whole life (so two
 *	cannot run) and keeps $POSTOFFICE/.zmta.status up to date for
 *	"zmta status".  It waits for signals with sigtimedwait: SIGCHLD
 *	(a daemon died: restart it after backoff_failed()'s delay), SIGHUP
 *	(reopen its log, send each daemon its reload signals, start daemons
 *	installed since), SIGTERM/SIGINT (SIGTERM to the daemons, wait
 *	STOP_WAIT_S, SIGKILL the rest, exit).  The daemons are its children;
 *	their agents are theirs.
 *	Daemon conventions: run with the foreground option of its dspecs[]
 *	entry (scheduler -i; the router has none, it never forks away) it
 *	stays in the foreground; "-L file" logs to file; "-n" checks the
 *	configuration and exits (0 = good, messages "file:line: reason" on
 *	stderr); SIGTERM stops it; it holds $POSTOFFICE/.pid.<name>.
 * DIAGNOSTICS
 *	sysexits(3) codes, see zmta(8).  The supervisor logs through zlog to
 *	$LOGDIR/zmta (else syslog; stderr with start -f).
 * SECURITY
 *	Not setuid.  start refuses callers other than root and ZMTA_USER.
 *	A root supervisor keeps root only to signal and start daemons, which
 *	drop privileges themselves; it runs only the fixed programs
 *	$MAILBIN/{scheduler,router,smtpserver} with fixed options, in /,
 *	umask 022, stdin from /dev/null.  Files it writes in $POSTOFFICE (a
 *	directory ZMTA_USER can write) are opened O_NOFOLLOW and checked
 *	(pidfile.c) or created O_EXCL and renamed.  status treats the status
 *	file as untrusted (state.c) and only prints what it says.  A pid read
 *	from a pid file there is signalled only when /proc/<pid>/exe is the
 *	expected program (this zmta for .pid.zmta, the daemon's program in
 *	MAILBIN for its own lock), so a planted file cannot aim root's
 *	kill(2) at another process.
 * BUGS
 *	A daemon that forks into the background by itself would look dead
 *	to the supervisor: only foreground modes are used.  Daemons outlive
 *	a supervisor killed with SIGKILL; "zmta stop" then stops them by
 *	their own pid files (only pids that run the daemon's program).  status counts
 *	queue files with readdir; on a huge queue that takes a while.
 * SEE ALSO
 *	zmta(8), scheduler(8), zmtactl/backoff.c, zmtactl/pidfile.c,
 *	zmtactl/state.c
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "zbuf.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"
#include "spool.h"
#include "backoff.h"
#include "pidfile.h"
#include "state.h"
#include "supervise.h"

#define STOP_WAIT_S 30		/* SIGTERM -> SIGKILL of the daemons */
#define CHECK_WAIT_S 60		/* bound of one "<daemon> -n" */
#define PATH_MAXLEN 4096

/* what the supervisor knows about each daemon it may run */
struct dspec {
	const char *name;
	int required;		/* start and check fail when it is not installed */
	const char *fg;		/* its foreground option */
	int sigs[2];		/* what "zmta reload" sends (0 = none) */
	const char *lock;	/* its own single-instance pid file in $POSTOFFICE */
};

/* start order (stop is the reverse): the queue runner first, then what
 * feeds it.  The router always stays in the foreground (no option); the
 * smtpserver's is -F ("-i" is an SMTP session on stdin, as in ZMailer). */
static const struct dspec dspecs[] = {
	{ "scheduler", 1, "-i", { SIGUSR1, SIGHUP }, ".pid.scheduler" },	/* conf, logs */
	{ "router", 0, NULL, { SIGHUP, 0 }, ".pid.router" },
	{ "smtpserver", 0, "-F", { SIGHUP, 0 }, ".pid.smtpserver" },
};
#define NDSPEC (sizeof dspecs / sizeof dspecs[0])

struct daemon {
	const struct dspec *spec;
	char path[PATH_MAXLEN + 64];
	pid_t pid;
	int state;			/* enum sv_dstate */
	long long started_ms, due_ms;	/* monotonic */
	time_t started, due;		/* wall clock, for status */
	unsigned long restarts;
	int last_kind, last_code;
	backoff bo;
};

static struct {
	char po[PATH_MAXLEN], mailbin[PATH_MAXLEN];
	char logdir[PATH_MAXLEN];	/* "" when LOGDIR is not a directory */
	char pidpath[PATH_MAXLEN + 32], statpath[PATH_MAXLEN + 32];
	char logpath[PATH_MAXLEN + 32];
	struct daemon d[NDSPEC];
	int foreground, stopping;
	time_t started;
} C;

/* load_ctx - zmta.conf, POSTOFFICE, MAILBIN, LOGDIR and the derived paths
 * (exits EX_CONFIG when zmta.conf is broken) */
static void load_ctx(void)
{
	zbuf err = ZBUF_INIT(2048);
	const char *ld, *po, *mb;
	struct stat st;

	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	zbuf_free(&err);
	po = zconf_get("POSTOFFICE");
	mb = zconf_get("MAILBIN");
	if (po == NULL || *po == '\0' || mb == NULL || *mb == '\0')
		zlog_fatal(EX_CONFIG, NULL, "POSTOFFICE or MAILBIN is not set in %s", zconf_path());
	if (zstrlcpy(C.po, po, sizeof C.po) != Z_OK || zstrlcpy(C.mailbin, mb, sizeof C.mailbin) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "POSTOFFICE or MAILBIN too long");
	snprintf(C.pidpath, sizeof C.pidpath, "%s/.pid.zmta", C.po);
	snprintf(C.statpath, sizeof C.statpath, "%s/.zmta.status", C.po);
	ld = zconf_get("LOGDIR");
	C.logdir[0] = '\0';
	if (ld && *ld && strlen(ld) < sizeof C.logdir && stat(ld, &st) == 0 && S_ISDIR(st.st_mode))
		zstrlcpy(C.logdir, ld, sizeof C.logdir);
	if (C.logdir[0])
		snprintf(C.logpath, sizeof C.logpath, "%s/zmta", C.logdir);
	for (size_t i = 0; i < NDSPEC; i++) {
		C.d[i].spec = &dspecs[i];
		snprintf(C.d[i].path, sizeof C.d[i].path, "%s/%s", C.mailbin, dspecs[i].name);
	}
}

/* installed - the daemon's program is there and executable */
static int installed(const struct daemon *d)
{
	struct stat st;
	return stat(d->path, &st) == 0 && S_ISREG(st.st_mode) && access(d->path, X_OK) == 0;
}

/* fmt_secs - "1h2m3s" */
static const char *fmt_secs(long long s, char *buf, size_t n)
{
	if (s < 0)
		s = 0;
	if (zinterval_format((long)s, buf, n) != Z_OK)
		snprintf(buf, n, "%llds", s);
	return buf;
}

/* same_exe - pid runs the program path (so a pid taken from a pid file in
 * a directory ZMTA_USER can write is never some other process) */
static int same_exe(pid_t pid, const char *path)
{
	char link[64], exe[PATH_MAXLEN + 64], want[PATH_MAXLEN + 64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/%ld/exe", (long)pid);
	n = readlink(link, exe, sizeof exe - 1);
	if (n <= 0 || realpath(path, want) == NULL)
		return 0;
	exe[n] = '\0';
	/* a program replaced by an upgrade since it started */
	if ((size_t)n > 10 && strcmp(exe + n - 10, " (deleted)") == 0)
		exe[n - 10] = '\0';
	return strcmp(exe, want) == 0;
}

/* ---- check ------------------------------------------------------------ */

/* run_check - "<path> -n", bounded; its exit code, or -1 */
static int run_check(const struct daemon *d, int quiet)
{
	int st;
	pid_t pid, w;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (quiet) {
			int nfd = open("/dev/null", O_WRONLY);
			if (nfd >= 0)
				dup2(nfd, 1);
		}
		execl(d->path, d->spec->name, "-n", (char *)NULL);
		fprintf(stderr, "zmta: cannot run %s: %s\n", d->path, strerror(errno));
		_exit(EX_OSERR);
	}
	for (int i = 0; i < CHECK_WAIT_S * 20; i++) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	fprintf(stderr, "zmta: %s -n did not finish in %d s\n", d->path, CHECK_WAIT_S);
	return -1;
}

/* do_checks - every configuration file; quiet prints only the problems.
 * EX_OK, EX_CONFIG (a configuration error) or EX_UNAVAILABLE (the spool
 * or a required daemon is missing). */
static int do_checks(int quiet)
{
	zbuf err = ZBUF_INIT(2048);
	int rc = EX_OK, cfgbad = 0;

	/* zmta.conf was loaded by load_ctx (which exits on its errors) */
	if (!quiet)
		printf("zmta.conf: %s: OK\n", zconf_path());
	zbuf_reset(&err);
	if (spool_verify(C.po, &err) != Z_OK) {
		fprintf(stderr, "zmta: postoffice %s: %s (create or repair it with \"zmta "
			"postoffice-init\")\n", C.po, zbuf_cstr(&err));
		rc = EX_UNAVAILABLE;
	} else if (!quiet) {
		printf("postoffice %s: OK\n", C.po);
	}
	for (size_t i = 0; i < NDSPEC; i++) {
		const struct daemon *d = &C.d[i];
		int x;
		if (!installed(d)) {
			if (d->spec->required) {
				fprintf(stderr, "zmta: %s: not installed (%s)\n", d->spec->name, d->path);
				rc = EX_UNAVAILABLE;
			} else if (!quiet) {
				printf("%s: not installed (%s), not checked\n", d->spec->name, d->path);
			}
			continue;
		}
		x = run_check(d, quiet);
		if (x == 0) {
			if (!quiet)
				printf("%s: configuration OK\n", d->spec->name);
		} else {
			fprintf(stderr, "zmta: %s: configuration check failed (%s -n: %s)\n",
				d->spec->name, d->path, x < 0 ? "did not finish" : zsysexit_name(x));
			cfgbad = 1;
		}
	}
	zbuf_free(&err);
	fflush(stdout);
	return cfgbad ? EX_CONFIG : rc;
}

/* cmd_check - zmta check */
int cmd_check(int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1)
		zmta_usage();
	load_ctx();
	rc = do_checks(0);
	printf("%s\n", rc == EX_OK ? "zmta: configuration OK" : "zmta: check FAILED");
	return rc;
}

/* ---- the supervisor --------------------------------------------------- */

/* write_state - publish who runs in $POSTOFFICE/.zmta.status */
static void write_state(void)
{
	sv_state st;
	zbuf out = ZBUF_INIT(SV_FILE_MAX);
	char tmp[sizeof C.statpath + 8];
	int fd;

	memset(&st, 0, sizeof st);
	st.pid = (long)getpid();
	st.started = C.started;
	for (size_t i = 0; i < NDSPEC && i < SV_MAXD; i++) {
		const struct daemon *d = &C.d[i];
		sv_daemon *s = &st.d[st.n++];
		zstrlcpy(s->name, d->spec->name, sizeof s->name);
		s->state = d->state;
		s->pid = d->state == SV_RUNNING ? (long)d->pid : 0;
		s->since = d->state == SV_WAITING ? d->due : d->started;
		s->restarts = d->restarts;
		s->last_kind = d->last_kind;
		s->last_code = d->last_code;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", C.statpath);
	(void)unlink(tmp);
	if (sv_state_format(&st, &out) != Z_OK ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		zlog_warn(NULL, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* write, fsync, rename, fsync the directory: after a crash the file
	 * is the old state or the new one, never empty */
	int ok = zwrite_all(fd, out.data, out.len) == Z_OK && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok || zrename_durable(tmp, C.statpath) != Z_OK) {
		zlog_warn(NULL, "cannot write %s: %s", C.statpath, strerror(errno));
		(void)unlink(tmp);
	}
out:
	zbuf_free(&out);
}

/* log_fds - point stdout/stderr (what daemons inherit) at our log file, or /dev/null */
static void log_fds(void)
{
	int fd = -1;

	if (C.foreground)
		return;
	if (C.logpath[0])
		fd = open(C.logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* start_daemon - fork and exec one daemon in its foreground mode */
static void start_daemon(struct daemon *d)
{
	char logopt[PATH_MAXLEN + 64];
	const char *argv[6];
	int n = 0;
	pid_t pid;
	sigset_t none;

	argv[n++] = d->spec->name;
	if (d->spec->fg)
		argv[n++] = d->spec->fg;
	if (C.logdir[0]) {
		snprintf(logopt, sizeof logopt, "%s/%s", C.logdir, d->spec->name);
		argv[n++] = "-L";
		argv[n++] = logopt;
	}
	argv[n] = NULL;
	pid = fork();
	if (pid < 0) {
		zlog_error(NULL, "%s: fork: %s", d->spec->name, strerror(errno));
		d->state = SV_WAITING;
		d->due_ms = zmono_ms() + d->bo.min_ms;
		d->due = time(NULL) + (time_t)(d->bo.min_ms / 1000);
		return;
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execv(d->path, (char *const *)argv);
		fprintf(stderr, "zmta: cannot run %s: %s\n", d->path, strerror(errno));
		_exit(EX_OSERR);
	}
	d->pid = pid;
	d->state = SV_RUNNING;
	d->started_ms = zmono_ms();
	d->started = time(NULL);
	zlog_info(NULL, "%s: started, pid %ld (%s%s%s)", d->spec->name, (long)pid, d->path,
		  d->spec->fg ? " " : "", d->spec->fg ? d->spec->fg : "");
}

/* find - the daemon with pid */
static struct daemon *find(pid_t pid)
{
	for (size_t i = 0; i < NDSPEC; i++)
		if (C.d[i].state == SV_RUNNING && C.d[i].pid == pid)
			return &C.d[i];
	return NULL;
}

/* reap - collect dead daemons; schedule their restarts unless stopping.
 * 1 if anything changed. */
static int reap(void)
{
	int st, changed = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct daemon *d = find(pid);
		char up[32], wait[32];
		long long upms;
		if (d == NULL)
			continue;
		changed = 1;
		upms = zmono_ms() - d->started_ms;
		if (WIFSIGNALED(st)) {
			d->last_kind = 2;
			d->last_code = WTERMSIG(st);
		} else {
			d->last_kind = 1;
			d->last_code = WEXITSTATUS(st);
		}
		d->pid = 0;
		if (C.stopping) {
			d->state = SV_STOPPED;
			zlog_info(NULL, "%s: pid %ld stopped (%s %d)", d->spec->name, (long)pid,
				  d->last_kind == 2 ? "signal" : "exit", d->last_code);
			continue;
		}
		long long delay = backoff_failed(&d->bo, upms);
		d->state = SV_WAITING;
		d->due_ms = zmono_ms() + delay;
		d->due = time(NULL) + (time_t)((delay + 999) / 1000);
		fmt_secs(upms / 1000, up, sizeof up);
		fmt_secs((delay + 999) / 1000, wait, sizeof wait);
		if (d->last_kind == 2)
			zlog_warn(NULL, "%s: pid %ld killed by signal %d after %s; restart in %s",
				  d->spec->name, (long)pid, d->last_code, up, wait);
		else
			zlog_warn(NULL, "%s: pid %ld exited with %d (%s) after %s; restart in %s",
				  d->spec->name, (long)pid, d->last_code, zsysexit_name(d->last_code),
				  up, wait);
	}
	return changed;
}

/* restart_due - start the daemons whose back-off is over; 1 if any */
static int restart_due(void)
{
	int changed = 0;
	long long now = zmono_ms();

	for (size_t i = 0; i < NDSPEC; i++) {
		struct daemon *d = &C.d[i];
		if (d->state != SV_WAITING || d->due_ms > now)
			continue;
		d->restarts++;
		start_daemon(d);
		changed = 1;
	}
	return changed;
}

/* next_timeout - ms until the next restart is due (3600 s when none) */
static long long next_timeout(void)
{
	long long t = 3600000, now = zmono_ms();

	for (size_t i = 0; i < NDSPEC; i++)
		if (C.d[i].state == SV_WAITING && C.d[i].due_ms - now < t)
			t = C.d[i].due_ms - now;
	return t < 0 ? 0 : t;
}

/* signame - "SIGHUP" for the signals zmta sends */
static const char *signame(int sig)
{
	switch (sig) {
	case SIGHUP: return "SIGHUP";
	case SIGUSR1: return "SIGUSR1";
	case SIGUSR2: return "SIGUSR2";
	case SIGTERM: return "SIGTERM";
	default: return "signal";
	}
}

/* reload - SIGHUP: reopen our log, pass the reload signals on, start
 * daemons installed since */
static void reload(void)
{
	if (C.logpath[0] && !C.foreground) {
		if (zlog_set_file(C.logpath) != Z_OK)
			zlog_error(NULL, "cannot reopen log %s", C.logpath);
		log_fds();
	}
	for (size_t i = 0; i < NDSPEC; i++) {
		struct daemon *d = &C.d[i];
		if (d->state == SV_RUNNING) {
			for (size_t k = 0; k < 2 && d->spec->sigs[k]; k++)
				if (kill(d->pid, d->spec->sigs[k]) != 0)
					zlog_warn(NULL, "%s: pid %ld: kill %s: %s", d->spec->name,
						  (long)d->pid, signame(d->spec->sigs[k]), strerror(errno));
			zlog_info(NULL, "%s: pid %ld: reload signalled (%s%s%s)", d->spec->name,
				  (long)d->pid, signame(d->spec->sigs[0]), d->spec->sigs[1] ? ", " : "",
				  d->spec->sigs[1] ? signame(d->spec->sigs[1]) : "");
		} else if (d->state == SV_ABSENT && installed(d)) {
			zlog_info(NULL, "%s: installed now (%s)", d->spec->name, d->path);
			start_daemon(d);
		}
	}
}

/* running - how many daemons are alive */
static int running(void)
{
	int n = 0;
	for (size_t i = 0; i < NDSPEC; i++)
		n += C.d[i].state == SV_RUNNING;
	return n;
}

/* stop_all - SIGTERM to every daemon (reverse start order), wait, SIGKILL */
static void stop_all(const sigset_t *set)
{
	long long deadline = zmono_ms() + STOP_WAIT_S * 1000LL;

	C.stopping = 1;
	for (size_t i = NDSPEC; i-- > 0;) {
		struct daemon *d = &C.d[i];
		if (d->state == SV_RUNNING) {
			zlog_info(NULL, "%s: stopping pid %ld", d->spec->name, (long)d->pid);
			kill(d->pid, SIGTERM);
		} else if (d->state == SV_WAITING) {
			d->state = SV_STOPPED;
		}
	}
	write_state();
	while (running() > 0 && zmono_ms() < deadline) {
		long long left = deadline - zmono_ms();
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
		siginfo_t si;
		(void)sigtimedwait(set, &si, &ts);
		if (reap())
			write_state();
	}
	for (size_t i = 0; i < NDSPEC; i++) {
		struct daemon *d = &C.d[i];
		int st;
		if (d->state != SV_RUNNING)
			continue;
		zlog_warn(NULL, "%s: pid %ld still running after %d s: SIGKILL", d->spec->name,
			  (long)d->pid, STOP_WAIT_S);
		kill(d->pid, SIGKILL);
		while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
			;
		d->state = SV_STOPPED;
		d->pid = 0;
	}
}

/* supervise - the supervisor's life after start-up; report (may be -1)
 * receives the start report and is closed.  Returns the exit code. */
static int supervise(int lockfd, int report)
{
	sigset_t set;
	zbuf msg = ZBUF_INIT(8192);

	zproctitle_set("supervisor of %s", C.po);
	for (size_t i = 0; i < NDSPEC; i++) {
		struct daemon *d = &C.d[i];
		backoff_init(&d->bo, BACKOFF_MIN_MS, BACKOFF_MAX_MS, BACKOFF_RESET_MS);
		if (installed(d)) {
			start_daemon(d);
			if (d->state == SV_RUNNING)
				zbuf_printf(&msg, "%s: started, pid %ld\n", d->spec->name, (long)d->pid);
			else
				zbuf_printf(&msg, "%s: could not be started (see the log)\n",
					    d->spec->name);
		} else {
			d->state = SV_ABSENT;
			zlog_info(NULL, "%s: not installed (%s), not started", d->spec->name, d->path);
			zbuf_printf(&msg, "%s: not installed (%s), not started\n", d->spec->name, d->path);
		}
	}
	write_state();
	zlog_info(NULL, "supervisor running for postoffice %s", C.po);
	zbuf_printf(&msg, "zmta: supervisor pid %ld running for postoffice %s%s%s\n.\n",
		    (long)getpid(), C.po, C.logpath[0] ? ", log " : "", C.logpath);
	if (report >= 0) {
		(void)zwrite_all(report, msg.data, msg.len);
		close(report);
	}
	zbuf_free(&msg);

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		long long t = next_timeout();
		struct timespec ts = { (time_t)(t / 1000), (long)(t % 1000) * 1000000L };
		siginfo_t si;
		int sig = sigtimedwait(&set, &si, &ts);
		int changed = 0;
		if (sig == SIGTERM || sig == SIGINT) {
			zlog_info(NULL, "signal %d: stopping the daemons", sig);
			break;
		}
		if (sig == SIGHUP) {
			reload();
			changed = 1;
		}
		changed |= reap();
		changed |= restart_due();
		if (changed)
			write_state();
	}
	stop_all(&set);
	(void)unlink(C.statpath);
	zlog_info(NULL, "supervisor stopped");
	pidfile_release(lockfd);
	return EX_OK;
}

/* may_start - root or ZMTA_USER */
static int may_start(void)
{
	const char *user = zconf_get_default("ZMTA_USER", "zmta");
	zbuf why = ZBUF_INIT(300);
	zpriv_ids ids;
	int ok = 0;

	if (geteuid() == 0)
		return 1;
	if (zpriv_resolve(user, NULL, &ids, &why) == Z_OK && ids.uid == geteuid())
		ok = 1;
	else
		fprintf(stderr, "zmta: start must run as root or as ZMTA_USER (%s)%s%s\n", user,
			why.len ? ": " : "", zbuf_cstr(&why));
	zbuf_free(&why);
	return ok;
}

/* outside - daemons that run without a supervisor (their own lock is
 * held): print them (print), or SIGTERM them when they run our program
 * (stop).  How many there are. */
static int outside(int print, int stop)
{
	int any = 0;

	for (size_t i = 0; i < NDSPEC; i++) {
		char path[PATH_MAXLEN + 64];
		zbuf err = ZBUF_INIT(512);
		pid_t pid;
		if (dspecs[i].lock == NULL)
			continue;
		snprintf(path, sizeof path, "%s/%s", C.po, dspecs[i].lock);
		if (pidfile_probe(path, &pid, &err) == Z_OK) {
			any++;
			if (print)
				printf("%s: running outside the supervisor, pid %ld (lock %s)\n",
				       dspecs[i].name, (long)pid, path);
			if (stop && pid > 0 && same_exe(pid, C.d[i].path)) {
				if (kill(pid, SIGTERM) == 0)
					printf("%s: sent SIGTERM to pid %ld\n", dspecs[i].name, (long)pid);
				else
					fprintf(stderr, "zmta: %s: kill %ld: %s\n", dspecs[i].name,
						(long)pid, strerror(errno));
			} else if (stop) {
				fprintf(stderr, "zmta: %s: pid %ld does not run %s: not signalled\n",
					dspecs[i].name, (long)pid, C.d[i].path);
			}
		}
		zbuf_free(&err);
	}
	return any;
}

/* close_others - close inherited descriptors >= 3 except keep1, keep2 */
static void close_others(int keep1, int keep2)
{
	DIR *dp = opendir("/proc/self/fd");
	struct dirent *de;
	int fds[256], n = 0;

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL && n < 256) {
		unsigned long v;
		if (zparse_ulong(de->d_name, 1u << 20, &v) != Z_OK)
			continue;
		if ((int)v > 2 && (int)v != keep1 && (int)v != keep2 && (int)v != dirfd(dp))
			fds[n++] = (int)v;
	}
	closedir(dp);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* cmd_start - zmta start [-f] */
int cmd_start(int argc, char **argv)
{
	zbuf err = ZBUF_INIT(2048);
	int c, lockfd, rc, pfd[2];
	pid_t holder, pid;
	sigset_t set;

	optind = 1;
	while ((c = getopt(argc, argv, "f")) != -1) {
		if (c == 'f')
			C.foreground = 1;
		else
			zmta_usage();
	}
	if (optind != argc)
		zmta_usage();
	load_ctx();
	if (!may_start())
		return EX_NOPERM;
	if ((rc = do_checks(1)) != EX_OK) {
		fprintf(stderr, "zmta: not started\n");
		return rc;
	}
	rc = pidfile_lock(C.pidpath, &lockfd, &holder, &err);
	if (rc == Z_EAGAIN) {
		fprintf(stderr, "zmta: already running (supervisor pid %ld, lock %s)\n", (long)holder,
			C.pidpath);
		return EX_TEMPFAIL;
	}
	if (rc != Z_OK) {
		fprintf(stderr, "zmta: %s\n", zbuf_cstr(&err));
		return EX_CANTCREAT;
	}
	if (outside(0, 0)) {
		outside(1, 0);
		fprintf(stderr, "zmta: stop the daemons above first; not started\n");
		pidfile_release(lockfd);
		return EX_TEMPFAIL;
	}

	/* signals are taken with sigtimedwait; the daemons get a clean mask */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	C.started = time(NULL);
	if (chdir("/") != 0)
		zlog_fatal(EX_OSERR, NULL, "chdir /: %s", strerror(errno));
	umask(022);

	if (C.foreground) {
		if (pidfile_write(lockfd, getpid(), &err) != Z_OK)
			zlog_fatal(EX_CANTCREAT, NULL, "%s: %s", C.pidpath, zbuf_cstr(&err));
		zbuf_free(&err);
		return supervise(lockfd, -1);
	}

	if (pipe2(pfd, O_CLOEXEC) != 0)
		zlog_fatal(EX_OSERR, NULL, "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		zlog_fatal(EX_OSERR, NULL, "fork: %s", strerror(errno));
	if (pid == 0) {
		int nfd;
		close(pfd[0]);
		close_others(lockfd, pfd[1]);
		setsid();
		if (pidfile_write(lockfd, getpid(), &err) != Z_OK)
			zlog_fatal(EX_CANTCREAT, NULL, "%s: %s", C.pidpath, zbuf_cstr(&err));
		nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nfd >= 0) {
			dup2(nfd, 0);
			if (nfd > 0)
				close(nfd);
		}
		if (C.logpath[0] == '\0' || zlog_set_file(C.logpath) != Z_OK)
			zlog_open("zmta", ZLOG_TO_SYSLOG);
		log_fds();
		zbuf_free(&err);
		exit(supervise(lockfd, pfd[1]));
	}
	/* the caller: print the supervisor's start report */
	close(pfd[1]);
	close(lockfd);
	{
		zbuf rep = ZBUF_INIT(16384);
		(void)zread_fd(pfd[0], 16384, &rep);
		close(pfd[0]);
		rc = rep.len >= 2 && memcmp(rep.data + rep.len - 2, ".\n", 2) == 0 ? EX_OK : EX_OSERR;
		if (rc == EX_OK)
			rep.len -= 2;
		fwrite(rep.data ? rep.data : "", 1, rep.len, stdout);
		if (rc != EX_OK)
			fprintf(stderr, "zmta: the supervisor did not start (pid %ld); see %s\n",
				(long)pid, C.logpath[0] ? C.logpath : "syslog");
		zbuf_free(&rep);
	}
	zbuf_free(&err);
	return rc;
}

/* ---- the commands that talk to a running supervisor ------------------ */

/* supervisor - pid of the running supervisor, 0 when none (reason printed
 * for errors) */
static pid_t supervisor(void)
{
	zbuf err = ZBUF_INIT(1024);
	pid_t pid = 0;
	int rc = pidfile_probe(C.pidpath, &pid, &err);

	if (rc == Z_EIO || rc == Z_ERR)
		fprintf(stderr, "zmta: %s\n", zbuf_cstr(&err));
	zbuf_free(&err);
	if (rc == Z_OK && pid <= 0) {
		fprintf(stderr, "zmta: %s is locked but holds no pid\n", C.pidpath);
		return -1;
	}
	/* the file is in a directory ZMTA_USER can write: signal only a zmta */
	if (rc == Z_OK && !same_exe(pid, "/proc/self/exe")) {
		fprintf(stderr, "zmta: %s names pid %ld, which does not run this zmta program\n",
			C.pidpath, (long)pid);
		return -1;
	}
	return rc == Z_OK ? pid : 0;
}

/* cmd_stop - zmta stop */
int cmd_stop(int argc, char **argv)
{
	pid_t pid;

	(void)argv;
	if (argc != 1)
		zmta_usage();
	load_ctx();
	pid = supervisor();
	if (pid < 0)
		return EX_SOFTWARE;
	if (pid == 0) {
		printf("zmta: not running (postoffice %s)\n", C.po);
		if (outside(1, 1) == 0)
			return EX_OK;
		/* daemons left by a supervisor that was killed, or started by hand */
		for (int i = 0; i < (STOP_WAIT_S + 15) * 10; i++) {
			usleep(100000);
			if (outside(0, 0) == 0) {
				printf("zmta: stopped the daemons that ran outside the supervisor\n");
				return EX_OK;
			}
		}
		fprintf(stderr, "zmta: daemons still running after %d s\n", STOP_WAIT_S + 15);
		outside(1, 0);
		return EX_TEMPFAIL;
	}
	if (kill(pid, SIGTERM) != 0) {
		fprintf(stderr, "zmta: cannot signal supervisor pid %ld: %s\n", (long)pid,
			strerror(errno));
		return errno == EPERM ? EX_NOPERM : EX_OSERR;
	}
	for (int i = 0; i < (STOP_WAIT_S + 15) * 10; i++) {
		pid_t now;
		usleep(100000);
		now = supervisor();
		if (now == 0) {
			printf("zmta: stopped (supervisor pid %ld)\n", (long)pid);
			return EX_OK;
		}
	}
	fprintf(stderr, "zmta: supervisor pid %ld is still running after %d s\n", (long)pid,
		STOP_WAIT_S + 15);
	return EX_TEMPFAIL;
}

/* cmd_reload - zmta reload: check, then SIGHUP to the supervisor */
int cmd_reload(int argc, char **argv)
{
	pid_t pid;
	int rc;

	(void)argv;
	if (argc != 1)
		zmta_usage();
	load_ctx();
	pid = supervisor();
	if (pid < 0)
		return EX_SOFTWARE;
	if (pid == 0) {
		fprintf(stderr, "zmta: not running (postoffice %s): nothing to reload\n", C.po);
		return EX_UNAVAILABLE;
	}
	if ((rc = do_checks(1)) != EX_OK) {
		fprintf(stderr, "zmta: nothing reloaded\n");
		return rc;
	}
	if (kill(pid, SIGHUP) != 0) {
		fprintf(stderr, "zmta: cannot signal supervisor pid %ld: %s\n", (long)pid,
			strerror(errno));
		return errno == EPERM ? EX_NOPERM : EX_OSERR;
	}
	printf("zmta: reload signalled (supervisor pid %ld)\n", (long)pid);
	return EX_OK;
}

/* count_dir - entries of dir (recursing into A..Z hash dirs up to depth);
 * digits: only all-digit names; suffix: only names ending so; -1 if unreadable */
static long count_dir(const char *dir, int depth, int digits, const char *suffix)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	long n = 0;

	if (dp == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		const char *s = de->d_name;
		size_t len = strlen(s);
		if (s[0] == '.')
			continue;
		if (depth > 0 && len == 1 && s[0] >= 'A' && s[0] <= 'Z') {
			char sub[PATH_MAXLEN + 64];
			long k;
			snprintf(sub, sizeof sub, "%s/%s", dir, s);
			k = count_dir(sub, depth - 1, digits, suffix);
			if (k > 0)
				n += k;
			continue;
		}
		if (digits && strspn(s, "0123456789") != len)
			continue;
		if (suffix && (len < strlen(suffix) || strcmp(s + len - strlen(suffix), suffix) != 0))
			continue;
		n++;
	}
	closedir(dp);
	return n;
}

/* show_queue - "queue: ..." */
static void show_queue(void)
{
	static const struct {
		const char *dir;
		int depth, digits;
		const char *suffix;
		const char *what;
	} q[] = {
		{ "transport", 2, 1, NULL, "in transport/" },
		{ "router", 0, 0, NULL, "in router/" },
		{ "deferred", 0, 0, NULL, "in deferred/" },
		{ "postman", 0, 0, ".reason", "in postman/" },
	};
	printf("queue:");
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		char path[PATH_MAXLEN + 64];
		long n;
		snprintf(path, sizeof path, "%s/%s", C.po, q[i].dir);
		n = count_dir(path, q[i].depth, q[i].digits, q[i].suffix);
		if (n < 0)
			printf("%s %s/ unreadable (%s)", i ? "," : "", q[i].dir, strerror(errno));
		else
			printf("%s %ld %s", i ? "," : "", n, q[i].what);
	}
	putchar('\n');
}

/* show_daemon - one status line */
static void show_daemon(const sv_daemon *s, time_t now)
{
	char t[32];
	const struct daemon *d = NULL;

	for (size_t i = 0; i < NDSPEC; i++)
		if (strcmp(C.d[i].spec->name, s->name) == 0)
			d = &C.d[i];
	printf("%s: ", s->name);
	switch (s->state) {
	case SV_RUNNING:
		printf("running, pid %ld, up %s", s->pid, fmt_secs(now - s->since, t, sizeof t));
		if (kill((pid_t)s->pid, 0) != 0 && errno == ESRCH)
			printf(" (gone: the supervisor has not noticed yet)");
		break;
	case SV_WAITING:
		printf("not running, restart in %s", fmt_secs(s->since - now, t, sizeof t));
		break;
	case SV_ABSENT:
		printf("not installed (%s)", d ? d->path : "?");
		break;
	default:
		printf("stopped");
		break;
	}
	if (s->restarts)
		printf(", restarts %lu", s->restarts);
	if (s->last_kind == 2)
		printf(", last exit: signal %d", s->last_code);
	else if (s->last_kind == 1)
		printf(", last exit: %d (%s)", s->last_code, zsysexit_name(s->last_code));
	putchar('\n');
}

/* cmd_status - zmta status */
int cmd_status(int argc, char **argv)
{
	zbuf text = ZBUF_INIT(SV_FILE_MAX + 1), err = ZBUF_INIT(1024);
	sv_state st;
	time_t now = time(NULL);
	pid_t pid;
	char t[32];
	int rc = EX_OK;

	(void)argv;
	if (argc != 1)
		zmta_usage();
	load_ctx();
	pid = supervisor();
	if (pid <= 0) {
		printf("zmta: not running (postoffice %s)\n", C.po);
		outside(1, 0);
		show_queue();
		rc = pid < 0 ? EX_SOFTWARE : EX_UNAVAILABLE;
		goto out;
	}
	if (zread_file(C.statpath, SV_FILE_MAX, &text, &err) != Z_OK ||
	    sv_state_parse(text.data ? text.data : "", text.len, &st, &err) != Z_OK) {
		printf("zmta: running, supervisor pid %ld, postoffice %s (status file %s: %s)\n",
		       (long)pid, C.po, C.statpath, zbuf_cstr(&err));
		show_queue();
		goto out;
	}
	if (st.pid != (long)pid) {
		/* a status file left by an earlier supervisor: its daemon lines
		 * are not this one's (it is starting and rewrites the file soon) */
		printf("zmta: running, supervisor pid %ld, postoffice %s (starting: the status file"
		       " is still that of pid %ld)\n", (long)pid, C.po, st.pid);
		show_queue();
		goto out;
	}
	printf("zmta: running, supervisor pid %ld, up %s, postoffice %s\n", (long)pid,
	       fmt_secs(now - st.started, t, sizeof t), C.po);
	for (size_t i = 0; i < st.n; i++)
		show_daemon(&st.d[i], now);
	show_queue();
out:
	zbuf_free(&text);
	zbuf_free(&err);
	return rc;
}
