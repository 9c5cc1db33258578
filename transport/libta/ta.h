/*
 * ta.h - the transport-agent library: the one job loop, ctlopen/ctlclose,
 * diagnostic() and notary handling, shared by every agent in transport/.
 *
 * An agent runs with cwd $POSTOFFICE/transport.  ta_jobloop() writes
 * "#hungry", reads one job line (bounded, validated), calls ta_ctlopen()
 * which selects and locks the recipients of this agent's channel and host,
 * calls the agent's deliver callback, then ta_ctlclose().  Every locked
 * recipient gets exactly one report line from ta_diagnostic(); anything left
 * locked at close is reported "deferred" and unlocked.
 */
#ifndef ZMTA_TA_H
#define ZMTA_TA_H

#include <poll.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>
#include "zbuf.h"
#include "ctlfile.h"
#include "taproto.h"
#include "spool.h"

typedef struct ta_ctx {
	const char *progname;
	const char *channel;      /* -c */
	const char *fixed_host;   /* host from argv, or NULL: jobs carry it */
	int pid;
	int out_fd;               /* reports go here (stdout) */
	int in_fd;                /* jobs come from here (stdin) */
	int debug;
	volatile int stop;        /* set by signal handlers: finish job, exit */
	long idle_timeout_ms;     /* call idle callback after this long waiting */
	void *agent;              /* agent private data */
	void *loop;               /* ta_jobloop's state while it runs (ta_prefetch) */
	int hold_locks;           /* keep each taken recipient's range lock until
				     its report (ctl_lock_hold): only for an agent
				     whose children never share the control file's
				     descriptor without exec (the smtp agent) */
} ta_ctx;

typedef struct ta_rcpt {
	const ctl_rcpt *r;        /* parsed line (points into msg->ctl) */
	int locked;               /* we hold the '~' */
	ctl_hold hold;            /* the tag's range lock, kept while locked */
	int reported;             /* ta_diagnostic() done */
	char *user;               /* unquoted user (the address), malloc'd */
	char *n_action;           /* notary fields set by the agent, malloc'd */
	char *n_status;
	char *n_diag;
	char *n_remote;
	int dsn_passed_on;        /* agent handed NOTIFY on to a DSN-capable next hop:
				     success then needs no report here (ok3, no 'd' line) */
} ta_rcpt;

typedef struct ta_msg {
	char relpath[SPOOL_JOBPATH_MAX + 1];
	char prefix[8];           /* hash prefix of relpath ("E/K/") */
	unsigned long inum;
	char spoolid[SPOOL_ID_MAX];
	char host[256];           /* selected host ("" when fixed) */
	ctl_file ctl;
	int ctlfd;
	int bodyfd;               /* ../queue/<prefix><i>, -1 if missing */
	off_t bodysize;           /* bytes of the body file after 'o' */
	size_t size_estimate;     /* body + largest header block + 3% */
	time_t arrival;           /* body file mtime */
	ta_rcpt *rcpts;
	size_t nrcpts;
} ta_msg;

/* selector: return 1 to take a recipient whose host does not equal the
 * job host textually (smtp -e). */
typedef int (*ta_selector_fn)(ta_ctx *ctx, const ctl_rcpt *r, zspan host, void *arg);

/* ta_init - fill ctx from args; sets up stdio, pid, signal flags */
void ta_init(ta_ctx *ctx, const char *progname, const char *channel);

/* ta_ctlopen - Z_OK with m filled and >= 1 recipient locked; Z_ENOENT when
 * nothing is selectable (caller says #resync); other codes with err text.
 * A missing body file fails every selected recipient permanently. */
int ta_ctlopen(ta_ctx *ctx, const char *relpath, const char *host,
	       ta_selector_fn sel, void *selarg, ta_msg *m, zbuf *err);
/* ta_ctlclose - report still-locked recipients deferred, unlock, free */
void ta_ctlclose(ta_ctx *ctx, ta_msg *m);

/* ta_notary - set notary fields for r (NULL leaves a field unchanged).
 * action: delivered failed relayed delayed; status "5.1.1"; diag "smtp; 550 ..."
 * remote: "dns; mx.example.org (192.0.2.1|25)" */
void ta_notary(ta_rcpt *r, const char *action, const char *status,
	       const char *diag, const char *remote);

/* ta_diagnostic - the one report for r: map the sysexits code to a status
 * word and tag as zmta-ta(7) says, append a 'd' line when needed, patch the
 * tag, write the report line.  retry_secs > 0 gives "retryat +N". */
int ta_diagnostic(ta_ctx *ctx, ta_msg *m, ta_rcpt *r, int exitcode,
		  long retry_secs, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* ta_say - "# prog:pid: text" log line to the scheduler */
void ta_say(ta_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ta_keepalive - "#keepalive" to the scheduler: the agent is busy, not
 * hung (zmta-ta(7)); Z_OK or Z_EIO when the scheduler is gone */
int ta_keepalive(ta_ctx *ctx);

/* callbacks for ta_jobloop */
typedef struct ta_agent_ops {
	/* deliver every locked recipient of m; host is the job's host */
	int (*deliver)(ta_ctx *ctx, ta_msg *m, const char *host);
	/* before opening a job for a different host than the last one */
	void (*newhost)(ta_ctx *ctx, const char *host);
	/* nothing to do for idle_timeout_ms (e.g. send NOOP) */
	void (*idle)(ta_ctx *ctx);
	/* "#idle" received */
	void (*idlecmd)(ta_ctx *ctx);
	/* end of input: close connections */
	void (*finish)(ta_ctx *ctx);
	/* select recipients for other hosts (may be NULL) */
	ta_selector_fn select;
	void *selarg;
	/* optional, for an agent that keeps work outstanding past deliver
	 * (the smtp agent's pipelining window, smtp(8)):
	 * wait_fd - before every wait for a job line: an fd whose input
	 *     finishes outstanding work (-1: none); the loop waits on the job
	 *     input and on it together;
	 * drain - that fd is readable, "#idle" came, or the loop ends: finish
	 *     the outstanding work (write its reports) now;
	 * release - the loop is done with m (malloc'd, ta_ctlopen'ed): close
	 *     and free it now or once its work is done (NULL: ta_ctlclose and
	 *     free at once);
	 * poll - used instead of poll(2) while wait_fd is waited on (the
	 *     agent's "#keepalive": the scheduler waits for those reports) */
	int (*wait_fd)(ta_ctx *ctx);
	void (*drain)(ta_ctx *ctx);
	void (*release)(ta_ctx *ctx, ta_msg *m);
	int (*poll)(struct pollfd *fds, unsigned long nfds, int timeout_ms);
} ta_agent_ops;

/* ta_job_decode - one line from the scheduler: TAK_EMPTY, TAK_IDLE, or
 * TAK_JOB with path and host copied (host "" when the job names none);
 * anything else is TAK_BAD with the reason in why.  Every job loop (the
 * library's and an agent's own) decodes lines through this. */
enum ta_kind ta_job_decode(const char *line, size_t n, char *path, size_t pathsz,
			   char *host, size_t hostsz, zbuf *why);

/* ta_jobloop - run until EOF, empty line or ctx->stop; returns an exit
 * code.  The one job loop of every agent. */
int ta_jobloop(ta_ctx *ctx, const ta_agent_ops *ops);

/* ta_prefetch - called by an agent (inside deliver) while it waits for its
 * peer: when the next job line is already read and names the same host,
 * "#hungry" is written, the line taken and its control file opened ahead;
 * ta_jobloop delivers that job next, even after a stop signal (its line
 * was taken).  Does nothing outside ta_jobloop. */
void ta_prefetch(ta_ctx *ctx);

/* ta_diag_failed - a 'd' line append failed ("#HELP!" was written): an
 * agent running its own job loop must stop after the current job and exit
 * EX_DATAERR, as ta_jobloop() does */
int ta_diag_failed(void);

/*
 * Notes on the implementation (transport/libta/ta.c, zmta-ta(7)):
 * - ta_init() installs SIGTERM/SIGINT/SIGHUP/SIGQUIT handlers that set
 *   ctx->stop (no SA_RESTART), ignores SIGPIPE, and sets
 *   idle_timeout_ms = -1 (<= 0: never call ops->idle).
 * - ta_ctlopen(): with host NULL or "" the recipients' host must equal
 *   ctx->fixed_host; when that is NULL too, every host is taken.  When the
 *   body file is missing every selected recipient is reported error2
 *   ("message file is missing, please resend") and Z_OK is returned with
 *   bodyfd == -1 and no recipient locked: check r->locked before
 *   delivering.  A control file that does not parse gives Z_EPARSE (the
 *   file is left alone); Z_ENOENT when nothing is selectable or the file
 *   is gone.
 * - ta_diagnostic() returns Z_OK; Z_ESTALE when r is not locked by us or
 *   already reported; Z_EIO when the 'd' line could not be appended (then
 *   "#HELP! diagnostic writeout failed" was written, r stays locked and
 *   ta_jobloop() returns EX_DATAERR after the job), or when the report
 *   line could not be written (scheduler gone).  Non-final words
 *   (deferred, retryat, ...) also count as the recipient's one report for
 *   this job: r->reported is set and the lock is released.
 * - ops->deliver's return value is ignored except EX_DATAERR, which ends
 *   the loop with EX_DATAERR after ta_ctlclose().  deliver is not called
 *   when no recipient is left locked.  Its host argument is the job host,
 *   else ctx->fixed_host, else "".
 * - ops->newhost is called before the first job and whenever the job host
 *   (or fixed host) differs, ignoring case, from the previous one.
 * - The message given to ops->deliver is malloc'd and handed to
 *   ops->release (or closed and freed) after deliver returns.  A failed
 *   'd' line append seen while waiting (after ops->wait_fd or a drain)
 *   ends the loop with EX_DATAERR before the next job is taken.
 */

#endif
