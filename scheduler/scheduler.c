/*
 * NAME
 *	scheduler - the zmta queue manager daemon
 * SUMMARY
 *	Builds a model of the control files in $POSTOFFICE/transport, runs
 *	transport agents per scheduler.conf, applies their reports, retries,
 *	expires, sends DSNs and removes finished messages.
 * SYNOPSIS
 *	scheduler [-dinvFSVX] [-f cfg] [-L log] [-l statlog] [-P postoffice]
 *	          [-H levels] [-R forks/s]
 * DESCRIPTION
 *	See scheduler(8).  main() parses options, loads zmta.conf and
 *	scheduler.conf (-n: check and exit), takes the single-instance lock
 *	$POSTOFFICE/.pid.scheduler, changes into transport/, opens the
 *	notification datagram socket and the mailq socket, removes bodies a
 *	crash left without a control file (orphans.c), scans the queue and
 *	runs the event loop.  This file also holds what follows the reading
 *	of a new control file (the scan hooks: complete, expire, start),
 *	signals (signalfd) and the periodic tick.  The daemon's state is one
 *	struct private to this file; each module gets its own context from
 *	it (scan_ctx, complete_ctx, agent_pool, mqsrv_ctx, removal),
 *	refreshed by sched_wire() on start-up, reload and log reopening.
 * DIAGNOSTICS
 *	Exit 0; EX_USAGE for bad options; EX_CONFIG (78) for a configuration
 *	error (the message names file and line); EX_TEMPFAIL when another
 *	scheduler holds the lock; EX_OSERR for system failures at start-up.
 * SECURITY
 *	Control files are untrusted input: parsed by the strict ctl_parse;
 *	a file that does not parse, lacks its body, or whose 'i' line names
 *	another message's body (a body belongs to one message: 'i' must be
 *	the file's own id) is moved to postman/ with a reason
 *	(spool_quarantine), never unlinked.  A system error while reading
 *	(ENOMEM, EIO, EMFILE...) is no parse error: the file is read again
 *	later.  Every recipient host must pass sched_host_check (the RFC 5321
 *	host grammar, or "-"); one that does not is failed at once with a
 *	"5.1.2 invalid host" 'd' line and never reaches an agent.  Locks found
 *	in a file being read are stale whoever holds them (no agent of this
 *	scheduler can hold them): cleared, so retries and expiry apply.
 *	Paths are built only from validated numeric names; every path
 *	snprintf is checked for truncation.
 *	Ids: started as root, the scheduler drops to ZMTA_USER for good
 *	(zpriv_drop_ids) after opening its logs and before it touches the
 *	spool, unless a clause names user=/group= other than ZMTA_USER's
 *	ids (then it keeps root and logs the clause).  A non-root scheduler
 *	refuses (-n, start-up, SIGUSR1) clauses naming ids other than its
 *	own, with file:line.  -X never changes ids.
 *	The log (-L), statistics log (-l) and pid lock file open with
 *	O_NOFOLLOW, mode 0640: a symbolic link there is refused.
 * BUGS
 *	Threads busy with an agent during a SIGUSR1 reload keep the old
 *	clause until the next reload.  -H does not move files between hash
 *	levels; files are found at any level.
 * SEE ALSO
 *	scheduler(8), scheduler.conf(5), zmta-spool(5), zmta-ta(7), mailq(1)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "agents.h"
#include "complete.h"
#include "ctlfile.h"
#include "model.h"
#include "orphans.h"
#include "removal.h"
#include "scan.h"
#include "mqsrv.h"
#include "spool.h"
#include "submit.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

/* the daemon's state: the model and the modules working on it, each
 * given its own context (complete_ctx, agent_pool, mqsrv_ctx) */
static struct sched {
	model m;
	sconf *cfg;
	zev_loop *loop;
	char postoffice[4096];
	char hostname[256];
	int hashlevels;
	int statfd;                    /* -l statistics log, -1 none */
	time_t started;
	sched_stats st;
	removal rm;
	complete_ctx cc;
	agent_pool pool;
	mqsrv_ctx mq;
	scan_ctx scan;
} S;

static const char *cfgpath;
static int cfg_explicit;
static const char *logpath;
static const char *statpath;
static int sigfd = -1, notifyfd = -1;
static char notifypath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static time_t last_scan, last_sweep, last_report;
static int stop_slow;
static time_t stop_at;
static sconf **oldcfgs;
static size_t noldcfgs;

static int clause_ids_check(const sconf *cfg, const zpriv_ids *zu, const sconf_clause **keep,
			    zbuf *err);

static void on_note(void *arg, sfile *f, const ctl_file *cf);
static int on_loaded(void *arg, sfile *f, time_t now);
static void on_turnme(void *arg, const char *host);

/* before_wait - the event loop is about to wait: write out the log and
 * statistics lines this round held */
static void before_wait(void *arg)
{
	(void)arg;
	statlog_flush(&S.cc);
	zlog_flush();
}

static void start_all(void);

/* early_ok - the daemon's initial scan runs (not -X): on_early may start
 * agents */
static int early_ok;

/* on_early - scan hook: the initial scan has queued its first files;
 * the threads known so far get their first agents now, so that the
 * agents' start-up (exec, libraries, TLS set-up) overlaps the rest of
 * the scan.  They get their jobs when the loop runs, after the scan.
 * Once only: start_all costs a pass over the threads. */
static void on_early(void *arg)
{
	(void)arg;
	if (!early_ok)
		return;
	S.pool.scanning = 0;
	start_all();
	S.pool.scanning = 1;
}

/* sched_wire - hand the current configuration, loop, statistics log and
 * spool paths to every module's context (start-up, reload, SIGHUP) */
static void sched_wire(void)
{
	S.cc.m = &S.m;
	S.cc.cfg = S.cfg;
	S.cc.postoffice = S.postoffice;
	S.cc.hostname = S.hostname;
	S.cc.statfd = S.statfd;
	S.cc.st = &S.st;
	S.cc.rm = &S.rm;
	S.rm.loop = S.loop;
	S.scan.rm = &S.rm;
	S.pool.m = &S.m;
	S.pool.cfg = S.cfg;
	S.pool.loop = S.loop;
	S.pool.cc = &S.cc;
	S.pool.st = &S.st;
	S.mq.m = &S.m;
	S.mq.pool = &S.pool;
	S.mq.cc = &S.cc;
	S.mq.st = &S.st;
	S.mq.cfg = S.cfg;
	S.mq.loop = S.loop;
	S.mq.started = S.started;
	S.scan.m = &S.m;
	S.scan.cfg = S.cfg;
	S.scan.st = &S.st;
	S.scan.hooks = (scan_hooks){ .note = on_note, .loaded = on_loaded, .turnme = on_turnme,
				     .early = on_early };
}

/* usage - print synopsis and exit */
static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: scheduler [-dinvFSVX] [-f scheduler.conf] [-L log] [-l statlog]\n"
		"                 [-P postoffice] [-H levels] [-R forks-per-second]\n");
	exit(EX_USAGE);
}

/* rss_kb - VmRSS from /proc/self/status */
static long rss_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof line, fp))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			char *p = line + 6;
			while (*p == ' ' || *p == '\t')
				p++;
			long x = 0;
			while (*p >= '0' && *p <= '9')
				x = x * 10 + (*p++ - '0');
			v = x;
			break;
		}
	fclose(fp);
	return v;
}

/* on_note - scan hook: addresses for mailq listings */
static void on_note(void *arg, sfile *f, const ctl_file *cf)
{
	(void)arg;
	mqsrv_file_note(f, cf);
}

/* on_loaded - scan hook: a new file in the model is completed when
 * nothing is pending, expired when due (attempts persisted), and its
 * threads get agents; 1 when the file is gone */
static int on_loaded(void *arg, sfile *f, time_t now)
{
	(void)arg;
	if (f->npending == 0) {
		file_complete(&S.cc, f);
		return 1;
	}
	/* expiry known at once after a restart (attempts persisted) */
	for (vertex *v = f->vertices, *nx; v; v = nx) {
		nx = v->fnext;
		enum retry_expiry e = retry_expiry_check(v->thr->clause, f->arrival, v->attempts, now, 0);
		if (e != RETRY_KEEP) {
			if (vertex_expire(&S.cc, v, e == RETRY_EXPIRE_HARD))
				return 1;   /* file finished */
		}
	}
	for (vertex *v = f->vertices; v; v = v->fnext) {
		if (v->thr == NULL || S.pool.scanning)
			continue;
		/* wakeuprestartonly: an arrival adds no agent to a busy thread */
		if ((v->thr->clause->flags & SCF_WAKEUPRESTARTONLY) && v->thr->nagents > 0)
			continue;
		thread_try_start(&S.pool, v->thr, 0);
	}
	return 0;
}

/* on_turnme - scan hook: a "T" line */
static void on_turnme(void *arg, const char *host)
{
	(void)arg;
	turnme(&S.pool, host);
}

/* set_scanning - the initial scan runs with no agent starts (but see
 * on_early) */
static void set_scanning(int on)
{
	S.pool.scanning = on;
	S.scan.scanning = on;
}

/* start_all - give every due thread a chance */
static void start_all(void)
{
	thread *t = S.m.threads, *nx;
	for (; t; t = nx) {
		nx = t->all_next;
		thread_try_start(&S.pool, t, 0);
	}
}

/* sweep - hard expiry and delay warnings for vertices in retry wait */
static void sweep(time_t now)
{
	thread *t = S.m.threads, *tn;
	for (; t; t = tn) {
		tn = t->all_next;
		if (t->nagents)
			continue;
		t->busy = 1;
		for (int l = 0; l < 2; l++) {
			vertex *v = l ? t->done.head : t->pending.head, *nx;
			for (; v; v = nx) {
				nx = v->tnext;
				(void)vertex_age_check(&S.cc, v, now, 0);
			}
		}
		t->busy = 0;
		thread_settled(&S.pool, t);
	}
}

/* reload_config - SIGUSR1 */
static void reload_config(void)
{
	sconf *nc = NULL;
	zbuf err = ZBUF_INIT(1024);
	int rc = cfgpath ? sconf_load(cfgpath, &nc, &err) : Z_ENOENT;
	if (rc == Z_ENOENT && !cfg_explicit) {
		zbuf_reset(&err);
		rc = sconf_load_default(&nc, &err);
	}
	if (rc == Z_OK) {
		/* ids: as root the new file may only add users when root was kept */
		zpriv_ids zu;
		const sconf_clause *keep = NULL;
		int root = geteuid() == 0;
		if (root) {
			zbuf why = ZBUF_INIT(300);
			if (zpriv_resolve(S.pool.agent_user ? S.pool.agent_user : "root", NULL, &zu, &why) != Z_OK)
				memset(&zu, 0, sizeof zu);
			zbuf_free(&why);
		}
		rc = clause_ids_check(nc, root ? &zu : NULL, &keep, &err);
		if (rc != Z_OK) {
			sconf_free(nc);
			nc = NULL;
		}
	}
	if (rc != Z_OK) {
		zlog_error(NULL, "config reload refused, keeping the old one: %s", zbuf_cstr(&err));
		zbuf_free(&err);
		return;
	}
	zbuf_free(&err);
	sconf **no = realloc(oldcfgs, (noldcfgs + 1) * sizeof *no);
	if (no == NULL) {
		sconf_free(nc);
		return;
	}
	oldcfgs = no;
	oldcfgs[noldcfgs++] = S.cfg;
	S.cfg = nc;
	sched_wire();
	agents_end_idle(&S.pool);
	/* re-match idle threads */
	time_t now = sched_now();
	thread *t = S.m.threads, *tn;
	unsigned moved = 0;
	for (; t; t = tn) {
		tn = t->all_next;
		if (t->nagents)
			continue;
		const sconf_clause *c = sconf_match(nc, t->channel->s, t->host->s);
		if (c == NULL)
			c = nc->defaults;
		vertex *v;
		thread *nt = NULL;
		retry_state rs = t->rs;
		while ((v = vlist_pop(&t->pending)) != NULL || (v = vlist_pop(&t->done)) != NULL) {
			uint32_t np = v->npending;
			t->nrcpt = t->nrcpt >= np ? t->nrcpt - np : 0;
			v->thr = NULL;
			if (nt == NULL) {
				nt = model_thread_get(&S.m, c, t->channel, t->host, now);
				nt->rs = rs;
			}
			thread_add_vertex(nt, v);
		}
		thread_drop_if_empty(&S.pool, t);
		if (nt) {
			moved++;
			thread_arm(&S.pool, nt);
		}
	}
	zlog_info(NULL, "configuration reloaded from %s (%u threads re-matched)",
		  S.cfg->name ? S.cfg->name : "builtin", moved);
	start_all();
}

/* tick - once a second */
static void tick(zev_loop *loop, void *arg)
{
	(void)arg;
	time_t now = sched_now();
	agents_tick(&S.pool, now);
	mqsrv_tick();
	complete_retry_pending(&S.cc);
	if (!S.pool.stopping && now - last_scan >= 10) {
		last_scan = now;
		scan_tree(&S.scan);
	}
	long sw = S.cfg->expire_sweep > 0 ? S.cfg->expire_sweep : 900;
	if (!S.pool.stopping && now - last_sweep >= sw) {
		last_sweep = now;
		sweep(now);
	}
	long ri = S.cfg->global_report_interval > 0 ? S.cfg->global_report_interval : 300;
	if (!S.pool.stopping && now - last_report >= ri) {
		last_report = now;
		complete_interim_reports(&S.cc);
	}
	if (stop_slow && (S.pool.nagents == 0 || now >= stop_at)) {
		zev_stop(loop);
		return;
	}
	zev_timer_add(loop, zmono_ms() + 1000, tick, NULL);
}

/* signal_io - signalfd readable */
static void signal_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events; (void)arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			agents_reap(&S.pool);
			break;
		case SIGHUP:
			if (logpath && zlog_set_file(logpath) != Z_OK)
				zlog_error(NULL, "cannot reopen log %s", logpath);
			if (statpath && S.statfd >= 0) {
				statlog_flush(&S.cc);
				int nfd = open(statpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
					       O_NOFOLLOW | O_NOCTTY, 0640);
				if (nfd >= 0) {
					close(S.statfd);
					S.statfd = nfd;
					sched_wire();
				}
			}
			zlog_info(NULL, "logs reopened");
			break;
		case SIGUSR1:
			reload_config();
			break;
		case SIGTERM:
		case SIGINT:
			zlog_info(NULL, "fast stop (signal %u)", si.ssi_signo);
			S.pool.stopping = 1;
			agents_stop(&S.pool, 1);
			zev_stop(loop);
			break;
		case SIGQUIT:
			zlog_info(NULL, "slow stop: waiting for agents to finish");
			S.pool.stopping = 1;
			stop_slow = 1;
			stop_at = sched_now() + 60;
			agents_stop(&S.pool, 0);
			break;
		default:
			break;
		}
	}
}

/* notify_line - one line of a notification datagram */
static void notify_line(char *line)
{
	size_t n = strlen(line);
	while (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n == 0)
		return;
	if (strncmp(line, "NEW ", 4) == 0) {
		const char *rel = line + 4;
		const char *base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		if (scan_is_etrn(base) && strchr(rel, '/') == NULL)
			scan_etrn(&S.scan, rel);
		else
			(void)scan_file(&S.scan, rel);
	} else if (strncmp(line, "ETRN ", 5) == 0) {
		turnme(&S.pool, line + 5);
	} else {
		zlog_warn(NULL, "notify socket: unknown message ignored");
	}
}

/* notify_io - datagrams of one or more lines "NEW <relpath>" / "ETRN <host>"
 * (at most SUBMIT_NOTIFY_MAX bytes; the router sends a batch in one) */
static void notify_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop; (void)events; (void)arg;
	static char buf[SUBMIT_NOTIFY_MAX + 1];
	for (int i = 0; i < 256; i++) {
		/* MSG_TRUNC: n is the datagram's real length */
		ssize_t n = recv(fd, buf, SUBMIT_NOTIFY_MAX, MSG_DONTWAIT | MSG_TRUNC);
		if (n <= 0)
			return;
		if (S.pool.stopping)
			continue;
		size_t len = (size_t)n;
		if (len > SUBMIT_NOTIFY_MAX) {
			/* the complete lines are used; the rest waits for the scan */
			zlog_warn(NULL, "notify socket: datagram of %zu bytes truncated to %d",
				  len, SUBMIT_NOTIFY_MAX);
			len = SUBMIT_NOTIFY_MAX;
			char *last = memrchr(buf, '\n', len);
			len = last ? (size_t)(last - buf) : 0;
		}
		buf[len] = '\0';
		char *p = buf;
		while (p < buf + len) {
			char *nl = memchr(p, '\n', (size_t)(buf + len - p));
			if (nl != NULL)
				*nl = '\0';
			notify_line(p);
			if (nl == NULL)
				break;
			p = nl + 1;
		}
	}
}

/* open_notify - the datagram socket */
static void open_notify(void)
{
	const char *p = S.cfg->notifysock ? S.cfg->notifysock : zconf_get("SCHEDULERNOTIFY");
	if (p && *p) {
		if (zstrlcpy(notifypath, p, sizeof notifypath) != Z_OK) {
			zlog_warn(NULL, "notify socket path %s too long (rescans only)", p);
			notifypath[0] = '\0';
			return;
		}
	} else {
		int n = snprintf(notifypath, sizeof notifypath, "%s/.scheduler.notify", S.postoffice);
		if (n < 0 || (size_t)n >= sizeof notifypath) {
			zlog_warn(NULL, "notify socket path too long (rescans only)");
			return;
		}
	}
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	zstrlcpy(sa.sun_path, notifypath, sizeof sa.sun_path);
	notifyfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (notifyfd < 0)
		return;
	(void)unlink(notifypath);
	mode_t old = umask(0117);
	int rc = bind(notifyfd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0) {
		zlog_warn(NULL, "notify socket %s: %s (rescans only)", notifypath, strerror(errno));
		close(notifyfd);
		notifyfd = -1;
		return;
	}
	zev_io_add(S.loop, notifyfd, ZEV_READ, notify_io, NULL);
}

/* take_pidlock - single instance; returns fd or exits */
static int take_pidlock(void)
{
	char path[4200];
	int k = snprintf(path, sizeof path, "%s/.pid.scheduler", S.postoffice);
	if (k < 0 || (size_t)k >= sizeof path)
		zlog_fatal(EX_USAGE, NULL, "POSTOFFICE path too long");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
	if (fd < 0)
		zlog_fatal(EX_OSERR, NULL, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		char buf[32] = "";
		ssize_t n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		zlog_fatal(EX_TEMPFAIL, NULL, "another scheduler is running (pid %s, lock %s)",
			   buf[0] ? buf : "?", path);
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		zlog_warn(NULL, "cannot write %s", path);
	return fd;
}

/* clause_ids_check - every user=/group= of cfg names known ids that this
 * scheduler can give its agents: as root (zu = ZMTA_USER's ids) anything;
 * otherwise only its own ids.  *keep (may be NULL) gets the first clause
 * that needs root (ids other than ZMTA_USER's).  Z_OK or Z_ERR with
 * "file:line: reason" in err. */
static int clause_ids_check(const sconf *cfg, const zpriv_ids *zu, const sconf_clause **keep,
			    zbuf *err)
{
	const char *name = cfg->name ? cfg->name : "builtin";
	char self[64];
	struct passwd *pw = getpwuid(geteuid());
	if (pw == NULL || zstrlcpy(self, pw->pw_name, sizeof self) != Z_OK)
		snprintf(self, sizeof self, "%ld", (long)geteuid());
	if (keep)
		*keep = NULL;
	for (size_t i = 0; i <= cfg->nclauses; i++) {
		const sconf_clause *c = i < cfg->nclauses ? cfg->clauses[i] : cfg->defaults;
		if (c == NULL || (c->user == NULL && c->group == NULL))
			continue;
		const char *u = c->user ? c->user : zu ? zu->name : self;
		zpriv_ids ids;
		zbuf why = ZBUF_INIT(300);
		if (zpriv_resolve(u, c->group, &ids, &why) != Z_OK) {
			zbuf_printf(err, "%s:%d: %s%s%s%s: %s", name, c->line, c->user ? "user=" : "",
				    c->user ? c->user : "", c->group ? (c->user ? " group=" : "group=") : "",
				    c->group ? c->group : "", zbuf_cstr(&why));
			zbuf_free(&why);
			return Z_ERR;
		}
		zbuf_free(&why);
		if (zu == NULL && !zpriv_is_self(&ids)) {
			zbuf_printf(err, "%s:%d: %s%s%s%s: the scheduler runs as %s (uid %ld), not root, "
				    "and cannot start agents as another user or group",
				    name, c->line, c->user ? "user=" : "", c->user ? c->user : "",
				    c->group ? (c->user ? " group=" : "group=") : "",
				    c->group ? c->group : "", self, (long)geteuid());
			return Z_ERR;
		}
		if (zu && keep && *keep == NULL && (ids.uid != zu->uid || ids.gid != zu->gid))
			*keep = c;
	}
	return Z_OK;
}

/* drop_root - started as root: become ZMTA_USER for good unless a clause
 * starts agents as someone else (then keep root and say why) */
static void drop_root(const zpriv_ids *zu, const sconf_clause *keep)
{
	zbuf err = ZBUF_INIT(512);
	S.pool.agent_user = zu->name;
	if (zu->uid == 0) {
		zlog_warn(NULL, "ZMTA_USER is %s (uid 0): the scheduler and its agents keep root",
			  zu->name);
	} else if (keep) {
		zlog_info(NULL, "keeping root: %s:%d starts agents as %s%s%s%s (agents without "
			  "user= run as %s)", S.cfg->name ? S.cfg->name : "builtin", keep->line,
			  keep->user ? "user=" : "", keep->user ? keep->user : "",
			  keep->group ? (keep->user ? " group=" : "group=") : "",
			  keep->group ? keep->group : "", zu->name);
	} else {
		/* a lock file left by a scheduler that ran as root */
		char path[4200];
		int n = snprintf(path, sizeof path, "%s/.pid.scheduler", S.postoffice);
		int fd = n > 0 && (size_t)n < sizeof path ?
			 open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) : -1;
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_uid != zu->uid || st.st_gid != zu->gid) && fchown(fd, zu->uid, zu->gid) != 0)
			zlog_warn(NULL, "cannot give %s to %s: %s", path, zu->name, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (zpriv_drop_ids(zu, &err) != Z_OK)
			zlog_fatal(EX_OSERR, NULL, "cannot drop root to ZMTA_USER %s: %s", zu->name,
				   zbuf_cstr(&err));
		S.pool.agent_user = NULL;
		zlog_info(NULL, "running as %s (uid %ld gid %ld); root dropped for good", zu->name,
			  (long)zu->uid, (long)zu->gid);
	}
	zbuf_free(&err);
}

/* zmta_user_ids - ZMTA_USER (default "zmta") resolved; exits when unknown */
static void zmta_user_ids(zpriv_ids *zu, int checkonly)
{
	zbuf why = ZBUF_INIT(300);
	const char *u = zconf_get_default("ZMTA_USER", "zmta");
	if (zpriv_resolve(u, NULL, zu, &why) != Z_OK) {
		const char *msg = "ZMTA_USER %s: %s (create the user: \"zmta postoffice-init\" as "
				  "root does it, or set ZMTA_USER in zmta.conf)";
		if (checkonly) {
			fprintf(stderr, msg, u, zbuf_cstr(&why));
			fputc('\n', stderr);
			exit(EX_CONFIG);
		}
		zlog_fatal(EX_CONFIG, NULL, msg, u, zbuf_cstr(&why));
	}
	zbuf_free(&why);
}

/* main - options, configuration, lock, scan, event loop */
int main(int argc, char **argv)
{
	int daemonize = 1, checkonly = 0, scanonly = 0, verbose = 0, c;
	const char *po = NULL;
	zbuf err = ZBUF_INIT(2048);

	zproctitle_init(argc, argv);
	zlog_open("scheduler", ZLOG_TO_STDERR);
	memset(&S, 0, sizeof S);
	S.statfd = -1;
	removal_init(&S.rm, NULL, 0);
	S.cc.m = &S.m;
	S.cc.st = &S.st;
	pool_init(&S.pool, &S.cc, NULL);
	S.pool.fork_rate = 0;
	while ((c = getopt(argc, argv, "dinvf:L:l:P:H:SFVXR:")) != -1) {
		switch (c) {
		case 'd': daemonize = 1; break;
		case 'i': daemonize = 0; break;
		case 'v': daemonize = 0; verbose = 1; break;
		case 'n': checkonly = 1; break;
		case 'f': cfgpath = optarg; cfg_explicit = 1; break;
		case 'L': logpath = optarg; break;
		case 'l': statpath = optarg; break;
		case 'P': po = optarg; break;
		case 'H': {
			unsigned long h;
			if (zparse_ulong(optarg, 2, &h) != Z_OK)
				usage();
			S.hashlevels = (int)h;
			break;
		}
		case 'S': break;  /* the first scan always completes before any start */
		case 'F': S.pool.freeze = S.scan.freeze = 1; break;
		case 'X': scanonly = 1; daemonize = 0; break;
		case 'R': {
			unsigned long r;
			if (zparse_ulong(optarg, 100000, &r) != Z_OK || r == 0)
				usage();
			S.pool.fork_rate = (int)r;
			break;
		}
		case 'V':
			printf("scheduler (zmta) %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	zlog_set_debug(verbose);

	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	zbuf_reset(&err);

	/* scheduler.conf */
	static char defcfg[4200];
	if (cfgpath == NULL) {
		const char *ms = zconf_get("MAILSHARE");
		if (ms) {
			int k = snprintf(defcfg, sizeof defcfg, "%s/scheduler.conf", ms);
			if (k < 0 || (size_t)k >= sizeof defcfg)
				zlog_fatal(EX_CONFIG, NULL, "MAILSHARE path too long");
			cfgpath = defcfg;
		}
	}
	int rc = cfgpath ? sconf_load(cfgpath, &S.cfg, &err) : Z_ENOENT;
	if (rc == Z_ENOENT && !cfg_explicit) {
		zbuf_reset(&err);
		rc = sconf_load_default(&S.cfg, &err);
	}
	if (rc != Z_OK) {
		if (checkonly) {
			fprintf(stderr, "%s\n", zbuf_cstr(&err));
			zbuf_free(&err);
			return EX_CONFIG;
		}
		zlog_fatal(EX_CONFIG, NULL, "configuration error: %s", zbuf_cstr(&err));
	}
	static zpriv_ids zu;
	int root = geteuid() == 0;
	const sconf_clause *keep = NULL;
	if (root && !scanonly)
		zmta_user_ids(&zu, checkonly);
	if (!scanonly && clause_ids_check(S.cfg, root ? &zu : NULL, &keep, &err) != Z_OK) {
		if (checkonly) {
			fprintf(stderr, "%s\n", zbuf_cstr(&err));
			zbuf_free(&err);
			return EX_CONFIG;
		}
		zlog_fatal(EX_CONFIG, NULL, "configuration error: %s", zbuf_cstr(&err));
	}
	if (checkonly) {
		if (verbose) {
			zbuf d = ZBUF_INIT(4u * 1024u * 1024u);
			if (sconf_dump(S.cfg, &d) == Z_OK && d.data)
				fputs(zbuf_cstr(&d), stdout);
			zbuf_free(&d);
		}
		printf("%s: OK (%zu clauses)\n", S.cfg->name ? S.cfg->name : "builtin", S.cfg->nclauses);
		sconf_free(S.cfg);
		return 0;
	}
	if (S.pool.fork_rate == 0)
		S.pool.fork_rate = S.cfg->fork_rate > 0 ? S.cfg->fork_rate : 30;

	if (po == NULL)
		po = zconf_get("POSTOFFICE");
	if (po == NULL || *po == '\0')
		zlog_fatal(EX_CONFIG, NULL, "POSTOFFICE is not set");
	if (zstrlcpy(S.postoffice, po, sizeof S.postoffice) != Z_OK || strlen(po) > 3000)
		zlog_fatal(EX_USAGE, NULL, "POSTOFFICE path too long");
	S.pool.mailbin = zconf_get("MAILBIN");
	if (gethostname(S.hostname, sizeof S.hostname - 1) != 0)
		zstrlcpy(S.hostname, "localhost", sizeof S.hostname);
	const char *hn = zconf_get("MYHOSTNAME");
	if (hn && *hn && zstrlcpy(S.hostname, hn, sizeof S.hostname) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "MYHOSTNAME too long");

	if (spool_verify(S.postoffice, &err) != Z_OK)
		zlog_fatal(EX_OSERR, NULL, "%s", zbuf_cstr(&err));
	char tdir[4200];
	int tk = snprintf(tdir, sizeof tdir, "%s/transport", S.postoffice);
	if (tk < 0 || (size_t)tk >= sizeof tdir)
		zlog_fatal(EX_USAGE, NULL, "POSTOFFICE path too long");
	if (chdir(tdir) != 0)
		zlog_fatal(EX_OSERR, NULL, "chdir %s: %s", tdir, strerror(errno));

	static char deflog[4200];
	if (logpath == NULL && daemonize) {
		const char *ld = zconf_get("LOGDIR");
		struct stat lst;
		if (ld && *ld && stat(ld, &lst) == 0 && S_ISDIR(lst.st_mode)) {
			int n = snprintf(deflog, sizeof deflog, "%s/scheduler", ld);
			if (n > 0 && (size_t)n < sizeof deflog)
				logpath = deflog;
		}
	}
	if (logpath && zlog_set_file(logpath) != Z_OK)
		zlog_fatal(EX_CANTCREAT, NULL, "cannot open log %s", logpath);
	if (statpath) {
		S.statfd = open(statpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				O_NOFOLLOW | O_NOCTTY, 0640);
		if (S.statfd < 0)
			zlog_fatal(EX_CANTCREAT, NULL, "cannot open statistics log %s: %s", statpath,
				   strerror(errno));
	}
	if (root && !scanonly)
		drop_root(&zu, keep);
	if (daemonize) {
		pid_t p = fork();
		if (p < 0)
			zlog_fatal(EX_OSERR, NULL, "fork: %s", strerror(errno));
		if (p > 0)
			_exit(0);
		setsid();
		int nfd = open("/dev/null", O_RDWR);
		if (nfd >= 0) {
			dup2(nfd, 0);
			if (logpath) {
				dup2(nfd, 1);
				dup2(nfd, 2);
			}
			if (nfd > 2)
				close(nfd);
		}
	}
	int lockfd = scanonly ? -1 : take_pidlock();
	(void)lockfd;

	/* descriptors: agents need one each */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		long k = (long)rl.rlim_cur - 64;
		S.pool.maxkids = k < 4 ? 4 : (k > 4000 ? 4000 : (unsigned)k);
	} else {
		S.pool.maxkids = 100;
	}
	if (S.cfg->has_syspriority)
		(void)setpriority(PRIO_PROCESS, 0, S.cfg->syspriority);
	if (S.cfg->has_sysnice)
		(void)!nice(S.cfg->sysnice);

	retry_rng_seed(&S.pool.rng, ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid());
	S.started = sched_now();
	model_init(&S.m);
	S.loop = zev_new();
	if (S.loop == NULL)
		zlog_fatal(EX_OSERR, NULL, "cannot create the event loop");
	sched_wire();

	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGQUIT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0)
		zlog_fatal(EX_OSERR, NULL, "signalfd: %s", strerror(errno));
	zev_io_add(S.loop, sigfd, ZEV_READ, signal_io, NULL);

	if (scanonly) {
		long rss0 = rss_kb();
		long long t0 = zmono_ms();
		set_scanning(1);
		scan_tree(&S.scan);
		long long t1 = zmono_ms();
		long rss1 = rss_kb();
		double secs = (double)(t1 - t0) / 1000.0;
		/* scheduling work per event: re-arm every thread and walk
		 * one feed/reschedule cycle in memory */
		long long t2 = zmono_ms();
		unsigned long ev = 0;
		for (thread *t = S.m.threads; t; t = t->all_next) {
			vertex *v;
			while ((v = vlist_pop(&t->pending)) != NULL) {
				vlist_push(&t->done, v, 2);
				ev++;
			}
			retry_next(t->clause, &t->rs, S.started, &S.pool.rng, 0);
			thread_new_round(t);
			thread_arm(&S.pool, t);
			ev++;
		}
		long long t3 = zmono_ms();
		printf("files %lu new %lu bad %lu rcpts %lu threads %zu vertices %lu\n", S.scan.files,
		       S.scan.added, S.scan.bad, S.m.nrcpt, S.m.nthr, S.m.nvertex);
		printf("scan_seconds %.3f files_per_second %.0f\n", secs,
		       secs > 0 ? (double)S.scan.files / secs : 0.0);
		printf("rss_kb_before %ld rss_kb_after %ld bytes_per_rcpt %.0f\n", rss0, rss1,
		       S.m.nrcpt ? (double)(rss1 - rss0) * 1024.0 / (double)S.m.nrcpt : 0.0);
		printf("sched_events %lu usec_per_event %.3f\n", ev,
		       ev ? (double)(t3 - t2) * 1000.0 / (double)ev : 0.0);
		statlog_flush(&S.cc);	/* lines of recipients failed at the scan */
		return 0;
	}

	if (mqsrv_open(&S.mq, S.postoffice, S.cfg->mailqsock, &err) != Z_OK)
		zlog_warn(NULL, "mailq listener not available: %s", zbuf_cstr(&err));
	zbuf_reset(&err);
	open_notify();

	zlog_info(NULL, "starting: postoffice %s, config %s, max agents %u%s", S.postoffice,
		  S.cfg->name ? S.cfg->name : "builtin", S.pool.maxkids, S.pool.freeze ? ", frozen" : "");
	/* bodies a crash left between "control file gone" and "body gone" */
	orphans_sweep();
	/* finished messages are removed by a worker thread from now on */
	(void)removal_start(&S.rm, S.loop);
	zproctitle_set("scanning");
	set_scanning(1);
	early_ok = 1;
	long long t0 = zmono_ms();
	scan_tree(&S.scan);
	early_ok = 0;
	set_scanning(0);
	last_scan = last_sweep = last_report = sched_now();
	zlog_info(NULL, "initial scan: %lu files (%lu queued, %lu quarantined) in %lld ms, %lu recipients, %zu threads",
		  S.scan.files, S.scan.added, S.scan.bad, zmono_ms() - t0, S.m.nrcpt, S.m.nthr);
	zproctitle_set("running");
	/* info lines and statistics lines are written once per loop round */
	zev_set_prewait(S.loop, before_wait, NULL);
	zlog_hold(1);
	start_all();
	sweep(sched_now());
	zev_timer_add(S.loop, zmono_ms() + 1000, tick, NULL);
	zev_run(S.loop);

	removal_free(&S.rm);	/* messages finished in the last rounds, worker stopped */
	statlog_flush(&S.cc);
	zlog_hold(0);
	mqsrv_close();
	if (notifyfd >= 0) {
		close(notifyfd);
		(void)unlink(notifypath);
	}
	zlog_info(NULL, "stopped (%u agents still running finish their job alone)", S.pool.nagents);
	zbuf_free(&err);
	return 0;
}
