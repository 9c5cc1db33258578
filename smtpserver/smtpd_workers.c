/*
 * NAME
 *	smtpd_workers - the parent of smtpserver's worker processes
 * SUMMARY
 *	Forks N event-loop processes on the same listeners, passes SIGHUP
 *	and SIGTERM on, restarts a worker that dies, exits after the last.
 * SYNOPSIS
 *	int smtpd_workers_run(int n, pol_conn *t, unsigned *hups, stop, arg)
 *	void smtpd_workers_unblock(void)
 * DESCRIPTION
 *	Called by smtpserver after the listeners are bound, the privileges
 *	dropped and the pid lock taken, when workers > 1.  The parent stays
 *	the process that `zmta start` and the pid file know; it opens no
 *	greylist store, policy connection or commit pool (each worker
 *	does).  It waits in sigtimedwait(2) for SIGHUP (counted, sent to
 *	every worker: each reloads itself, and a worker started later
 *	reloads at once), SIGTERM/SIGINT (the parent closes its copies of
 *	the listeners, so that they really close, and passes the signal
 *	to every worker; their
 *	sessions get the usual 30 s; after 40 s the rest get SIGKILL) and
 *	SIGCHLD.  A worker that exits or dies while the parent is not
 *	stopping is logged and started again with the same index (after
 *	1 s if it lived less than 1 s), and its counts in the shared
 *	connection table are dropped (pol_conn_forget).  On Linux a worker
 *	gets SIGTERM when the parent dies (PR_SET_PDEATHSIG), so a killed
 *	parent leaves no workers behind for long.
 * DIAGNOSTICS
 *	Log lines "worker N pid P started", "worker N pid P exited with S /
 *	killed by signal S; restarting", "SIGTERM: stopping N workers".
 * SECURITY
 *	Runs with the dropped privileges: it can only signal its workers.
 * BUGS
 *	A change of workers (or of the listeners) needs a restart.  Sessions
 *	of a worker that is killed are cut without a reply (their messages
 *	were not acknowledged).
 * SEE ALSO
 *	smtpserver(8), smtpserver.conf(5) workers, pol_limit.c
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "smtpd_workers.h"
#include "zlog.h"
#include "zutil.h"

#define STOP_WAIT_MS 40000

static sigset_t omask;

void smtpd_workers_unblock(void)
{
	sigprocmask(SIG_SETMASK, &omask, NULL);
}

int smtpd_workers_run(int n, pol_conn *t, unsigned *hups, void (*stop)(void *arg), void *arg)
{
	sigset_t set;
	pid_t *pids;
	long long *started, *again;
	long long stop_at = 0;
	int w, rc = -1;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &omask);
	pids = calloc((size_t)n, sizeof(*pids));
	started = calloc((size_t)n, sizeof(*started));
	again = calloc((size_t)n, sizeof(*again));
	if (pids == NULL || started == NULL || again == NULL)
		zlog_fatal(EX_OSERR, NULL, "workers: out of memory");
	for (;;) {
		siginfo_t si;
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		pid_t pid;
		int st, sig, alive = 0;
		long long now = zmono_ms();

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (w = 0; w < n && pids[w] != pid; w++)
				;
			if (w == n)
				continue;
			pids[w] = 0;
			pol_conn_forget(t, w);
			if (stop_at != 0)
				continue;
			if (WIFSIGNALED(st))
				zlog_warn(NULL, "worker %d pid %ld killed by signal %d; restarting", w,
					  (long)pid, WTERMSIG(st));
			else
				zlog_warn(NULL, "worker %d pid %ld exited with %d; restarting", w,
					  (long)pid, WEXITSTATUS(st));
			again[w] = now - started[w] < 1000 ? now + 1000 : now;
		}
		for (w = 0; w < n; w++) {
			if (pids[w] == 0 && stop_at == 0 && now >= again[w]) {
				pid_t me = getpid();
				pid = fork();
				if (pid == 0) {
#ifdef __linux__
					/* the parent gone (even SIGKILL): stop as on SIGTERM */
					(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
					if (getppid() != me)
						raise(SIGTERM);
#endif
					rc = w;
					goto child;
				}
				if (pid < 0) {
					zlog_error(NULL, "worker %d: fork: %s", w, strerror(errno));
					again[w] = now + 1000;
					continue;
				}
				pids[w] = pid;
				started[w] = now;
				zlog_info(NULL, "worker %d pid %ld started", w, (long)pid);
			}
			alive += pids[w] != 0;
		}
		if (stop_at != 0 && alive == 0)
			break;
		if (stop_at != 0 && now > stop_at) {
			for (w = 0; w < n; w++)
				if (pids[w] != 0) {
					zlog_error(NULL, "worker %d pid %ld still running: SIGKILL", w,
						   (long)pids[w]);
					kill(pids[w], SIGKILL);
				}
			stop_at = now + 5000;
		}
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGHUP) {
			++*hups;
			zlog_info(NULL, "SIGHUP: workers reload");
			for (w = 0; w < n; w++)
				if (pids[w] != 0)
					kill(pids[w], SIGHUP);
		} else if ((sig == SIGTERM || sig == SIGINT) && stop_at == 0) {
			zlog_info(NULL, "SIGTERM: stopping %d workers", n);
			stop(arg);   /* the parent's copies of the listeners */
			stop_at = zmono_ms() + STOP_WAIT_MS;
			for (w = 0; w < n; w++)
				if (pids[w] != 0)
					kill(pids[w], SIGTERM);
		}
	}
	zlog_info(NULL, "all workers stopped");
child:
	free(pids);
	free(started);
	free(again);
	return rc;
}
