/*
 * NAME
 *	router - the zmta router daemon: submission files to control files
 * SUMMARY
 *	Takes router/<ino> and public/<ino> files (notification datagrams and
 *	a periodic rescan) and hands them in batches to worker processes
 *	that route them (rjob.c) and commit them together (rcommit.c).
 *	This file is the master: work queue, workers, signals, tables.
 * SYNOPSIS
 *	router [-n] [-1] [-f router.conf] [-P postoffice] [-L logfile]
 *	       [-w workers] [-H hashlevels]
 * DESCRIPTION
 *	The master process keeps an event loop (notify socket, signalfd,
 *	rescan timer) and a queue of files to route.  It forks one worker
 *	per batch of up to ROUTER_BATCH (default 32) files, at most -w
 *	(ROUTER_WORKERS, default 4) at a time.  Group commit: while
 *	workers run, the queue gathers the next batch, and another worker
 *	starts only for a full batch or when every running worker has been
 *	at it for GATHER_MS (100 ms), so a slow file does not stall the
 *	rest.  With no worker running a file goes at once after a quiet
 *	second; while files keep arriving (a worker started within the last
 *	second) the oldest waits up to ROUTER_GATHER ms (default 30) for
 *	others, so batch sizes do not follow the workers' speed.  Each batch is
 *	committed with one fsync per directory (rcommit.c).  A file stays "busy" (never handed out twice) until its
 *	worker is reaped.  At start-up and every sixth scan, temp control
 *	files that no live worker holds are finished or removed
 *	(rtr_recover).  Files set aside to deferred/ are moved back every
 *	ROUTER_DEFER_RETRY seconds.  router -n checks router.conf and
 *	prints the table sizes.  Tables are reloaded on SIGHUP, on a
 *	"RELOAD" datagram (newaliases) and when a file changed; a table
 *	that does not load keeps the old one and the error is logged (an
 *	automatic retry at most once a minute).
 * DIAGNOSTICS
 *	Log lines carry the spool id.  Exit codes: sysexits.  A worker that
 *	ends with W_FAILED or a signal is logged with its batch size.
 * SECURITY
 *	Runs as ZMTA_USER (drops root at start).  Notification datagrams
 *	only name files to look at: names are checked (router/[X/]<digits>,
 *	public/<digits>) and the worker trusts the file, not the datagram.
 * BUGS
 *	One fork per batch; the deferred/ retry is a plain timer, not a
 *	backoff.
 * SEE ALSO
 *	router(8), router.conf(5), aliases(5), zmta-spool(5), rjob.c,
 *	rcommit.c, route.h
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctlfile.h"
#include "maddr.h"
#include "mheader.h"
#include "route.h"
#include "router_int.h"
#include "spool.h"
#include "submit.h"
#include "zbuf.h"
#include "zconf.h"
#include "zerr.h"
#include "zevent.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

/* how long running workers gather the next batch before another starts */
#define GATHER_MS 100


static struct {
	const char *postoffice;
	const char *confpath;
	rt_config *rt;
	int hashlevels;
	unsigned workers;
	struct rtr_ctx cx;
	long rescan_s, defer_s;
	zev_loop *loop;
	int sigfd, notifyfd;
	int stopping;
	int once;
	uid_t self_uid;
	/* work queue */
	char (*q)[RTR_REL_MAX];
	size_t qhead, qlen, qcap;
	unsigned long *busy;     /* open-addressing set of inos queued or running */
	size_t busycap, nbusy;
	unsigned batch;           /* files per worker at most */
	char (*take)[RTR_REL_MAX];   /* the batch being handed out */
	struct { pid_t pid; unsigned long *inos; size_t n; long long t0; } *run;
	long long gather_at;       /* the pending gather timer's time, 0 none */
	long gather_ms;            /* ROUTER_GATHER: idle gathering wait */
	long long q_since;         /* when the queue last went from empty */
	long long last_start;      /* when the last worker started */
	size_t nrun;
	long long next_defer_ms;
	long long next_auto_reload_ms;   /* after a failed reload: not before */
} R;

/* ---- small helpers ---------------------------------------------------- */

/* rtr_is_digits - a name of digits, first 1-9 */
int rtr_is_digits(const char *s)
{
	if (*s < '1' || *s > '9')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* busy_slot - index for ino in R.busy */
static size_t busy_slot(unsigned long ino)
{
	size_t h = (size_t)(ino * 2654435761u) & (R.busycap - 1);
	while (R.busy[h] != 0 && R.busy[h] != ino)
		h = (h + 1) & (R.busycap - 1);
	return h;
}

/* busy_has / busy_add / busy_del - the set of inos in flight */
static int busy_has(unsigned long ino)
{
	return R.busycap && R.busy[busy_slot(ino)] == ino;
}

static void busy_add(unsigned long ino)
{
	if ((R.nbusy + 1) * 2 > R.busycap) {
		size_t oc = R.busycap;
		unsigned long *old = R.busy;
		R.busycap = oc ? oc * 2 : 1024;
		R.busy = calloc(R.busycap, sizeof(*R.busy));
		if (R.busy == NULL)
			zlog_panic(NULL, "out of memory");
		for (size_t i = 0; i < oc; i++)
			if (old[i] != 0)
				R.busy[busy_slot(old[i])] = old[i];
		free(old);
	}
	size_t h = busy_slot(ino);
	if (R.busy[h] == 0) {
		R.busy[h] = ino;
		R.nbusy++;
	}
}

static void busy_del(unsigned long ino)
{
	if (!busy_has(ino))
		return;
	size_t h = busy_slot(ino);
	R.busy[h] = 0;
	R.nbusy--;
	/* re-insert the rest of the cluster */
	for (size_t j = (h + 1) & (R.busycap - 1); R.busy[j] != 0; j = (j + 1) & (R.busycap - 1)) {
		unsigned long v = R.busy[j];
		R.busy[j] = 0;
		R.busy[busy_slot(v)] = v;
	}
}

/* enqueue - "dir/[X/]ino" unless already in flight */
static void enqueue(const char *rel, unsigned long ino)
{
	if (busy_has(ino) || strlen(rel) >= sizeof(R.q[0]))
		return;
	if (R.qlen == R.qcap) {
		size_t nc = R.qcap ? R.qcap * 2 : 256;
		char (*nq)[RTR_REL_MAX] = malloc(nc * sizeof(*nq));
		if (nq == NULL)
			zlog_panic(NULL, "out of memory");
		for (size_t i = 0; i < R.qlen; i++)
			memcpy(nq[i], R.q[(R.qhead + i) % R.qcap], sizeof(nq[0]));
		free(R.q);
		R.q = nq;
		R.qcap = nc;
		R.qhead = 0;
	}
	zstrlcpy(R.q[(R.qhead + R.qlen) % R.qcap], rel, sizeof(R.q[0]));
	if (R.qlen++ == 0)
		R.q_since = zmono_ms();
	busy_add(ino);
}

/* rtr_ino_of_rel - the number at the end of rel */
unsigned long rtr_ino_of_rel(const char *rel)
{
	const char *b = strrchr(rel, '/');
	unsigned long v = 0;
	(void)zparse_ulong(b ? b + 1 : rel, ~0UL, &v);
	return v;
}

/* scan_dir - queue every finished file of dir (and A-Z subdirs for router) */
static void scan_dir(const char *dir, int sub)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char rel[80];
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (sub && de->d_name[0] >= 'A' && de->d_name[0] <= 'Z' && de->d_name[1] == '\0') {
			char sd[16];
			snprintf(sd, sizeof(sd), "%s/%c", dir, de->d_name[0]);
			DIR *d2 = opendir(sd);
			struct dirent *e2;
			if (d2 == NULL)
				continue;
			while ((e2 = readdir(d2)) != NULL)
				if (rtr_is_digits(e2->d_name) && strlen(e2->d_name) < 24) {
					snprintf(rel, sizeof(rel), "%s/%s", sd, e2->d_name);
					enqueue(rel, rtr_ino_of_rel(rel));
				}
			closedir(d2);
			continue;
		}
		if (!rtr_is_digits(de->d_name) || strlen(de->d_name) >= 24)
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name);
		enqueue(rel, rtr_ino_of_rel(rel));
	}
	closedir(d);
}

/* retry_deferred - deferred/<ino>.deferred back to router/<ino> */
static void retry_deferred(void)
{
	DIR *d = opendir("deferred");
	struct dirent *de;
	int moved = 0;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char num[32], src[96], dst[96];
		const char *dot = strchr(de->d_name, '.');
		if (dot == NULL || strcmp(dot, ".deferred") != 0 || (size_t)(dot - de->d_name) >= sizeof(num))
			continue;
		memcpy(num, de->d_name, (size_t)(dot - de->d_name));
		num[dot - de->d_name] = '\0';
		if (!rtr_is_digits(num))
			continue;
		int n1 = snprintf(src, sizeof(src), "deferred/%s", de->d_name);
		int n2 = snprintf(dst, sizeof(dst), "router/%s", num);
		if (n1 < 0 || (size_t)n1 >= sizeof(src) || n2 < 0 || (size_t)n2 >= sizeof(dst))
			continue;
		struct stat st;
		if (lstat(dst, &st) == 0)
			continue;
		if (rename(src, dst) == 0) {
			moved++;
			enqueue(dst, rtr_ino_of_rel(dst));
		}
	}
	closedir(d);
	if (moved) {
		(void)zfsync_dir("router");
		(void)zfsync_dir("deferred");
		zlog_info(NULL, "%d deferred message%s back to router/", moved, moved == 1 ? "" : "s");
	}
}

/* ---- master ------------------------------------------------------------ */

/* reload - load the tables again; keep the old ones on error */
static void reload(const char *why)
{
	rt_config *nc;
	zbuf err = ZBUF_INIT(2048);
	if (rt_load(R.confpath, &nc, &err) != Z_OK) {
		zlog_error(NULL, "%s: reload failed, old tables kept: %s", why, zbuf_cstr(&err));
		/* a file that stays broken is not retried (and logged) at
		 * every scan: once a minute, or at SIGHUP / RELOAD */
		R.next_auto_reload_ms = zmono_ms() + 60000;
	} else {
		R.next_auto_reload_ms = 0;
		rt_free(R.rt);
		R.rt = nc;
		zlog_info(NULL, "%s: tables reloaded from %s", why, R.confpath);
	}
	zbuf_free(&err);
}

static void gather_due(zev_loop *loop, void *arg);

/* arm_gather - have start_work called at due, unless a timer comes first */
static void arm_gather(long long due)
{
	if ((R.gather_at == 0 || due < R.gather_at) && zev_timer_add(R.loop, due, gather_due, NULL))
		R.gather_at = due;
}

/* start_work - fork a worker per batch while there is room.  Group
 * commit: while a worker runs, the queue gathers the next batch; another
 * worker starts at once only for a full batch, or when the running ones
 * have all been at it for GATHER_MS (a slow file does not stall the rest) */
static void start_work(void)
{
	while (R.qlen > 0 && R.nrun < R.workers && !R.stopping) {
		/* idle gathering: no worker runs, but files kept arriving
		 * (a worker started within the last second): the oldest
		 * waiting file waits at most ROUTER_GATHER ms for others, so
		 * batches (one fsync per directory each) stay large when the
		 * workers are quick; a lone file after a quiet second goes at
		 * once */
		if (R.nrun == 0 && R.qlen < R.batch && !R.once && R.gather_ms > 0 &&
		    R.last_start != 0 && R.q_since < R.last_start + 1000) {
			long long due = R.q_since + R.gather_ms;
			if (zmono_ms() < due) {
				arm_gather(due);
				return;
			}
		}
		if (R.nrun > 0 && R.qlen < R.batch && !R.once) {
			long long young = R.run[0].t0;   /* the youngest worker's start */
			for (size_t i = 1; i < R.nrun; i++)
				if (R.run[i].t0 > young)
					young = R.run[i].t0;
			if (zmono_ms() < young + GATHER_MS) {
				arm_gather(young + GATHER_MS);
				return;
			}
		}
		size_t k = R.qlen < R.batch ? R.qlen : R.batch;
		unsigned long *inos = R.run[R.nrun].inos;
		for (size_t i = 0; i < k; i++) {
			memcpy(R.take[i], R.q[R.qhead], sizeof(R.take[0]));
			R.qhead = (R.qhead + 1) % R.qcap;
			R.qlen--;
			inos[i] = rtr_ino_of_rel(R.take[i]);
		}
		R.cx.rt = R.rt;
		pid_t pid = fork();
		if (pid < 0) {
			zlog_warn(NULL, "fork: %s (retried at the next scan)", strerror(errno));
			for (size_t i = 0; i < k; i++)
				busy_del(inos[i]);
			return;
		}
		if (pid == 0) {
			sigset_t ss;
			sigemptyset(&ss);
			sigprocmask(SIG_SETMASK, &ss, NULL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_IGN);
			int wrc = rtr_work_batch(&R.cx, R.take, k);
#if defined(__SANITIZE_ADDRESS__)
			/* _exit skips the sanitizer's leak check at exit:
			 * run it here, or a batch's leaks go unseen */
			__lsan_do_leak_check();
#endif
			_exit(wrc);
		}
		R.run[R.nrun].pid = pid;
		R.run[R.nrun].n = k;
		R.run[R.nrun].t0 = zmono_ms();
		R.last_start = R.run[R.nrun].t0;
		R.nrun++;
	}
}

/* gather_due - the gathering time is over: start what waits */
static void gather_due(zev_loop *loop, void *arg)
{
	(void)loop; (void)arg;
	R.gather_at = 0;   /* (a later timer may still fire: harmless) */
	start_work();
}

/* reap - collect finished workers */
static void reap(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < R.nrun; i++) {
			if (R.run[i].pid != pid)
				continue;
			for (size_t k = 0; k < R.run[i].n; k++)
				busy_del(R.run[i].inos[k]);
			if (!WIFEXITED(st) || WEXITSTATUS(st) == W_FAILED)
				zlog_warn(NULL, "worker %ld for %zu file%s (first %lu) ended with %s %d", (long)pid,
					  R.run[i].n, R.run[i].n == 1 ? "" : "s", R.run[i].inos[0],
					  WIFEXITED(st) ? "status" : "signal",
					  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			/* swap the slots (their ino arrays go with them) */
			unsigned long *mine = R.run[i].inos;
			R.run[i] = R.run[--R.nrun];
			R.run[R.nrun].inos = mine;
			R.run[R.nrun].n = 0;
			break;
		}
	}
}

/* rescan - every input directory; tables changed? deferred due? */
static void rescan(void)
{
	static unsigned n;
	if (++n % 6 == 0)
		rtr_recover(R.hashlevels, busy_has);   /* temp files of workers that died since */
	scan_dir("router", 1);
	scan_dir("public", 0);
	if (R.rt && zmono_ms() >= R.next_auto_reload_ms && rt_changed(R.rt))
		reload("a table file changed");
	if (zmono_ms() >= R.next_defer_ms) {
		retry_deferred();
		R.next_defer_ms = zmono_ms() + R.defer_s * 1000;
	}
}

static void tick(zev_loop *loop, void *arg);

/* tick - periodic rescan */
static void tick(zev_loop *loop, void *arg)
{
	(void)arg;
	if (!R.stopping) {
		rescan();
		start_work();
		zev_timer_add(loop, zmono_ms() + R.rescan_s * 1000, tick, NULL);
	}
}

/* signal_io - HUP reload, TERM/INT stop, CHLD reap */
static void signal_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events; (void)arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload("SIGHUP");
			break;
		case SIGTERM:
		case SIGINT:
			if (!R.stopping)
				zlog_info(NULL, "stopping: waiting for %zu worker%s", R.nrun, R.nrun == 1 ? "" : "s");
			R.stopping = 1;
			break;
		case SIGCHLD:
			break;
		}
	}
	reap();
	start_work();
	if (R.stopping && R.nrun == 0)
		zev_stop(loop);
}

/* notify_io - "NEW <dir> <name>" and "RELOAD" datagrams */
static void notify_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop; (void)events; (void)arg;
	char buf[256];
	for (int i = 0; i < 512; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0)
			break;
		buf[n] = '\0';
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (strcmp(buf, "RELOAD") == 0) {
			reload("RELOAD request");
			continue;
		}
		char dir[16], name[64], rel[96];
		if (sscanf(buf, "NEW %15s %63s", dir, name) != 2)
			continue;
		const char *base = name;
		if (strcmp(dir, "router") == 0 && base[0] >= 'A' && base[0] <= 'Z' && base[1] == '/')
			base += 2;
		if ((strcmp(dir, "router") != 0 && strcmp(dir, "public") != 0) || !rtr_is_digits(base) ||
		    (strcmp(dir, "public") == 0 && base != name))
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", dir, name);
		enqueue(rel, rtr_ino_of_rel(rel));
	}
	start_work();
}

/* open_notify - bind the router's datagram socket (0666: any submitter) */
static int open_notify(void)
{
	const char *p = zconf_get("ROUTERNOTIFY");
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (zstrlcpy(sa.sun_path, p && *p ? p : ".router.notify", sizeof(sa.sun_path)) != Z_OK)
		return -1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	(void)unlink(sa.sun_path);
	mode_t old = umask(0111);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0) {
		zlog_warn(NULL, "notify socket %s: %s (rescans only)", sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* usage - synopsis */
static _Noreturn void usage(void)
{
	fputs("usage: router [-n] [-1] [-f router.conf] [-P postoffice] [-L logfile] [-w workers]"
	      " [-H hashlevels]\n", stderr);
	exit(EX_USAGE);
}

/* long_conf - a number from zmta.conf with a default */
static long long_conf(const char *name, long def, long min, long max)
{
	const char *v = zconf_get(name);
	long x;
	if (v == NULL || zparse_long(v, min, max, &x) != Z_OK)
		return def;
	return x;
}

int main(int argc, char **argv)
{
	int ch, checkonly = 0, hash_given = 0;
	const char *po = NULL, *logpath = NULL, *conf = NULL;
	zbuf err = ZBUF_INIT(4096);
	char confbuf[4200];
	unsigned long w = 0;

	zproctitle_init(argc, argv);
	zlog_open("router", ZLOG_TO_STDERR);
	while ((ch = getopt(argc, argv, "n1f:P:L:w:H:")) != -1) {
		switch (ch) {
		case 'n': checkonly = 1; break;
		case '1': R.once = 1; break;
		case 'f': conf = optarg; break;
		case 'P': po = optarg; break;
		case 'L': logpath = optarg; break;
		case 'w':
			if (zparse_ulong(optarg, 64, &w) != Z_OK || w == 0)
				usage();
			break;
		case 'H': {
			unsigned long h;
			if (zparse_ulong(optarg, 2, &h) != Z_OK)
				usage();
			R.hashlevels = (int)h;
			hash_given = 1;
			break;
		}
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	if (conf == NULL) {
		conf = zconf_get("ROUTERCONF");
		if (conf == NULL || *conf == '\0') {
			const char *ms = zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR);
			snprintf(confbuf, sizeof(confbuf), "%s/router.conf", ms);
			conf = confbuf;
		}
	}
	static char absconf[PATH_MAX];
	if (realpath(conf, absconf) != NULL)
		conf = absconf;   /* reloads happen after chdir(POSTOFFICE) */
	R.confpath = conf;
	if (rt_load(conf, &R.rt, &err) != Z_OK) {
		if (checkonly) {
			fprintf(stderr, "router: %s\n", zbuf_cstr(&err));
			zbuf_free(&err);
			return EX_CONFIG;
		}
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	}
	if (checkonly) {
		zbuf rep = ZBUF_INIT(8192);
		rt_report(R.rt, &rep);
		printf("%s: ok\n%s", conf, zbuf_cstr(&rep));
		zbuf_free(&rep);
		rt_free(R.rt);
		zbuf_free(&err);
		return 0;
	}
	if (logpath && zlog_set_file(logpath) != Z_OK)
		zlog_fatal(EX_CANTCREAT, NULL, "cannot open log file %s", logpath);
	/* drop root for good */
	if (geteuid() == 0) {
		zpriv_ids zu;
		const char *u = zconf_get_default("ZMTA_USER", "zmta");
		if (zpriv_resolve(u, NULL, &zu, &err) != Z_OK)
			zlog_fatal(EX_NOUSER, NULL, "ZMTA_USER %s: %s", u, zbuf_cstr(&err));
		if (zu.uid == 0)
			zlog_warn(NULL, "ZMTA_USER %s is uid 0: the router keeps root", u);
		else if (zpriv_drop_ids(&zu, &err) != Z_OK)
			zlog_fatal(EX_OSERR, NULL, "cannot drop root to %s: %s", u, zbuf_cstr(&err));
	}
	R.self_uid = geteuid();
	if (po == NULL)
		po = zconf_get("POSTOFFICE");
	if (po == NULL || chdir(po) != 0)
		zlog_fatal(EX_OSFILE, NULL, "POSTOFFICE %s: %s", po ? po : "(unset)", strerror(errno));
	R.postoffice = po;
	if (!hash_given)
		R.hashlevels = (int)long_conf("SCHEDULERDIRHASH", 0, 0, 2);
	R.workers = w ? (unsigned)w : (unsigned)long_conf("ROUTER_WORKERS", 4, 1, 64);
	R.rescan_s = long_conf("ROUTER_RESCAN", 10, 1, 3600);
	R.defer_s = long_conf("ROUTER_DEFER_RETRY", 300, 1, 86400);
	R.next_defer_ms = zmono_ms() + R.defer_s * 1000;
	R.batch = (unsigned)long_conf("ROUTER_BATCH", 32, 1, 1024);
	R.gather_ms = long_conf("ROUTER_GATHER", 30, 0, 1000);
	R.run = calloc(R.workers, sizeof(*R.run));
	R.take = calloc(R.batch, sizeof(*R.take));
	if (R.run == NULL || R.take == NULL)
		zlog_fatal(EX_OSERR, NULL, "out of memory");
	for (unsigned i = 0; i < R.workers; i++)
		if ((R.run[i].inos = calloc(R.batch, sizeof(*R.run[i].inos))) == NULL)
			zlog_fatal(EX_OSERR, NULL, "out of memory");
	R.cx.hashlevels = R.hashlevels;
	R.cx.self_uid = R.self_uid;
	int pidfd = open(".pid.router", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pidfd < 0 || flock(pidfd, LOCK_EX | LOCK_NB) != 0)
		zlog_fatal(EX_TEMPFAIL, NULL, "another router runs on %s (or .pid.router: %s)", po,
			   strerror(errno));
	{
		char pb[32];
		int n = snprintf(pb, sizeof(pb), "%ld\n", (long)getpid());
		if (ftruncate(pidfd, 0) != 0 || zwrite_all(pidfd, pb, (size_t)n) != Z_OK)
			zlog_warn(NULL, "cannot write .pid.router");
	}
	rtr_recover(R.hashlevels, busy_has);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	R.loop = zev_new();
	R.sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (R.loop == NULL || R.sigfd < 0)
		zlog_fatal(EX_OSERR, NULL, "event loop: %s", strerror(errno));
	zev_io_add(R.loop, R.sigfd, ZEV_READ, signal_io, NULL);
	if (!R.once) {
		R.notifyfd = open_notify();
		if (R.notifyfd >= 0)
			zev_io_add(R.loop, R.notifyfd, ZEV_READ, notify_io, NULL);
	}
	zlog_info(NULL, "started on %s with %u workers of up to %u files, tables from %s", po, R.workers,
		  R.batch, conf);
	if (R.once) {
		/* process what is there now, then stop */
		rescan();
		R.stopping = 0;
		start_work();
		while (R.nrun > 0 || R.qlen > 0) {
			zev_run_once(R.loop, 1000);
			reap();
			start_work();
		}
	} else {
		tick(R.loop, NULL);
		zev_run(R.loop);
	}
	zlog_info(NULL, "stopped");
	rt_free(R.rt);
	zbuf_free(&err);
	return 0;
}
