/*
 * NAME
 *	agent_spawn.c - start one transport agent: socketpair, clone,
 *	privilege drop, execve
 * SUMMARY
 *	agent_spawn() builds the clause's argv for a thread, creates the
 *	AF_UNIX stream socketpair that becomes the child's stdin, stdout and
 *	stderr, starts the child, and registers the parent's end with the
 *	event loop (agent_io.c reads it).
 * SYNOPSIS
 *	agent_spawn (internal: agents_int.h)
 * DESCRIPTION
 *	The child is started with clone(CLONE_VM | CLONE_VFORK) on a stack
 *	of its own: it shares the scheduler's memory until its execve and
 *	the loop waits for that, so nothing of the model is copied (a fork
 *	copied the page tables of the whole heap, and the loop then took a
 *	copy-on-write fault for every page it wrote, per agent started).
 *	Everything that is not a plain system call is done before, in the
 *	parent (child_setup): the user and group are resolved and the group
 *	list read, the environment built.  The child only dups the socket
 *	to 0/1/2, closes every other descriptor, resets SIGPIPE and the
 *	signal mask, sets the priority, switches ids and execs; it notes the
 *	step that failed and its errno in the shared request and exits
 *	EX_OSERR (EX_CONFIG for a PATH= or ZCONFIG= that would be cut), and
 *	the parent writes "# cannot start agent: <reason>" into the child's
 *	end of the socket for it, so that the scheduler defers the thread's
 *	pending recipients with that reason (no fork loop).
 *	Ids: a complete drop to the clause's user=/group=, else to
 *	ZMTA_USER when the scheduler is root: the user's groups, real,
 *	effective and saved ids, each checked afterwards, and root must not
 *	be regainable (the checks of zpriv_drop_ids).  The child uses raw
 *	system calls for them: libc's set*id wrappers would make every
 *	thread of the scheduler (the removal worker) change ids too.
 *	Forks are counted for ForkRateLimit.
 * DIAGNOSTICS
 *	zlog_error for a failed socketpair or clone (t->why says which);
 *	the child's own failures arrive as the comment line above.
 * SECURITY
 *	A host reaches an argv word (with-host clause, after "--" when it is
 *	the last word) only after sched_host_check; PATH= and ZCONFIG= for
 *	the child are never cut (the child exits EX_CONFIG instead).  The
 *	child writes only to the request it was given and to its own stack;
 *	it calls no allocator and no stdio (the parent's locks may be held
 *	by the removal worker).
 * BUGS
 *	Linux only (clone, raw id system calls).  The request's static
 *	stack and environment assume one start at a time (the loop thread).
 * SEE ALSO
 *	scheduler(8), scheduler.conf(5), agents.c, agent_io.c, zpriv.h
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agents_int.h"
#include "scan.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"

/* what the child of agent_spawn does, all prepared by the parent: the
 * child shares the parent's memory until its execve (CLONE_VM |
 * CLONE_VFORK), so it only makes system calls and notes where it failed */
enum spawn_stage {
	SP_OK = 0, SP_PREFAIL, SP_DUP, SP_SETGROUPS, SP_SETGID, SP_SETUID, SP_UIDCHECK,
	SP_GIDCHECK, SP_GROUPCHECK, SP_UID0, SP_GID0, SP_EXEC
};
typedef struct spawn_req {
	int sock;                       /* becomes 0, 1 and 2 */
	int has_priority, priority, nice;
	int drop;                       /* switch to uid/gid */
	int setgroups;                  /* as root: groups[0..ngroups) too */
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[ZPRIV_MAXGROUPS];
	int prefail_status;             /* SP_PREFAIL: exit with this at once */
	char **argv, **envp;
	/* out: set by the child before it exits (not when execve works) */
	volatile int stage, err;
} spawn_req;

/* child_note - in the child: where and why it failed, then exit */
static _Noreturn void __attribute__((no_sanitize("address", "undefined")))
child_note(spawn_req *q, int stage, int err, int status)
{
	q->err = err;
	q->stage = stage;
	_exit(status);
}

/* same_groups - the child's groups are exactly want (no allocation) */
static int __attribute__((no_sanitize("address", "undefined")))
same_groups(const gid_t *want, int nwant, const gid_t *have, int nhave)
{
	for (int i = 0; i < nhave; i++) {
		int found = 0;
		for (int j = 0; j < nwant && !found; j++)
			found = have[i] == want[j];
		if (!found)
			return 0;
	}
	for (int j = 0; j < nwant; j++) {
		int found = 0;
		for (int i = 0; i < nhave && !found; i++)
			found = have[i] == want[j];
		if (!found)
			return 0;
	}
	return 1;
}

/* child_run - in the child (shared memory, its own descriptors and
 * credentials): descriptors, priority, a complete id drop, execve.
 * Raw system calls for the ids: libc's set*id wrappers would ask every
 * thread of the parent to change ids too. */
static int __attribute__((no_sanitize("address", "undefined"))) child_run(void *arg)
{
	spawn_req *q = arg;
	if (q->stage == SP_PREFAIL)
		child_note(q, SP_PREFAIL, 0, q->prefail_status);
	for (int i = 0; i < 3; i++)
		if (dup2(q->sock, i) < 0)
			child_note(q, SP_DUP, errno, EX_OSERR);
	if (close_range(3, ~0u, 0) != 0) {
		for (int fd = 3; fd < 65536; fd++)
			(void)close(fd);
	}
	sigset_t none;
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (q->has_priority)
		(void)setpriority(PRIO_PROCESS, 0, q->priority);
	if (q->nice)
		(void)!nice(q->nice);
	if (q->drop) {
		uid_t ru, eu, su;
		gid_t rg, eg, sg, have[ZPRIV_MAXGROUPS];
		if (q->setgroups && syscall(SYS_setgroups, (size_t)q->ngroups, q->groups) != 0)
			child_note(q, SP_SETGROUPS, errno, EX_OSERR);
		if (syscall(SYS_setresgid, q->gid, q->gid, q->gid) != 0)
			child_note(q, SP_SETGID, errno, EX_OSERR);
		if (syscall(SYS_setresuid, q->uid, q->uid, q->uid) != 0)
			child_note(q, SP_SETUID, errno, EX_OSERR);
		if (syscall(SYS_getresuid, &ru, &eu, &su) != 0 || ru != q->uid || eu != q->uid ||
		    su != q->uid)
			child_note(q, SP_UIDCHECK, 0, EX_OSERR);
		if (syscall(SYS_getresgid, &rg, &eg, &sg) != 0 || rg != q->gid || eg != q->gid ||
		    sg != q->gid)
			child_note(q, SP_GIDCHECK, 0, EX_OSERR);
		if (q->setgroups) {
			long nh = syscall(SYS_getgroups, ZPRIV_MAXGROUPS, have);
			if (nh < 0 || !same_groups(q->groups, q->ngroups, have, (int)nh))
				child_note(q, SP_GROUPCHECK, 0, EX_OSERR);
		}
		if (q->uid != 0) {
			if (syscall(SYS_setresuid, -1, 0, -1) == 0)
				child_note(q, SP_UID0, 0, EX_OSERR);
			if (q->gid != 0 && syscall(SYS_setresgid, -1, 0, -1) == 0)
				child_note(q, SP_GID0, 0, EX_OSERR);
		}
	}
	execve(q->argv[0], q->argv, q->envp);
	child_note(q, SP_EXEC, errno, EX_OSERR);
}

/* child_reason - the reason line for a child that failed at q->stage
 * (the parent writes it into the agent's socket for the child) */
static void child_reason(const spawn_req *q, const char *user, const char *group, zbuf *out)
{
	char who[600];
	int k = snprintf(who, sizeof who, "cannot switch to user=%s%s%s: ", user ? user : "",
			 group ? " group=" : "", group ? group : "");
	if (k < 0 || (size_t)k >= sizeof who)
		who[0] = '\0';
	switch (q->stage) {
	case SP_SETGROUPS:
		zbuf_printf(out, "%ssetgroups for user %s: %s", who, user, strerror(q->err));
		break;
	case SP_SETGID:
		zbuf_printf(out, "%ssetresgid(%ld): %s", who, (long)q->gid, strerror(q->err));
		break;
	case SP_SETUID:
		zbuf_printf(out, "%ssetresuid(%ld): %s", who, (long)q->uid, strerror(q->err));
		break;
	case SP_UIDCHECK:
		zbuf_printf(out, "%suid check failed after switching to %s", who, user);
		break;
	case SP_GIDCHECK:
		zbuf_printf(out, "%sgid check failed after switching to %s", who, user);
		break;
	case SP_GROUPCHECK:
		zbuf_printf(out, "%ssupplementary groups check failed after switching to %s", who, user);
		break;
	case SP_UID0:
		zbuf_printf(out, "%suid 0 could be taken back after switching to %s", who, user);
		break;
	case SP_GID0:
		zbuf_printf(out, "%sgid 0 could be taken back after switching to %s", who, user);
		break;
	case SP_EXEC:
		zbuf_printf(out, "execve %s: %s", q->argv[0], strerror(q->err));
		break;
	default:
		break;
	}
}

/* child_setup - fill q for clause c: ids resolved (getpwnam and the
 * group database are read here, never in the child), environment;
 * Z_OK, or a reason in why (the child then only exits, see SP_PREFAIL) */
static int child_setup(agent_pool *p, const sconf_clause *c, spawn_req *q, const char **userp,
		       zbuf *why)
{
	static char pathv[4200], tzv[256], zcv[4200];
	static char *env[SCONF_MAX_ARGS + 8];
	q->has_priority = c->has_priority;
	q->priority = c->priority;
	q->nice = c->nice;
	/* ids: a complete drop (groups, real/effective/saved) or nothing
	 * runs; the reason goes to the scheduler as a comment line */
	const char *user = c->user;
	int root = geteuid() == 0;
	if (user == NULL && root)
		user = p->agent_user;
	if (user == NULL && c->group)
		user = "root";
	*userp = user;
	if (user) {
		zpriv_ids ids;
		zbuf err = ZBUF_INIT(400);
		int rc = zpriv_resolve(user, c->group, &ids, &err);
		if (rc == Z_OK && !root && !zpriv_is_self(&ids)) {
			zbuf_printf(&err, "running as uid %ld, not root: cannot switch to user %s (uid %ld gid %ld)",
				    (long)geteuid(), ids.name, (long)ids.uid, (long)ids.gid);
			rc = Z_ERR;
		}
		if (rc == Z_OK && root && (q->ngroups = zpriv_group_list(&ids, q->groups, &err)) < 0)
			rc = Z_ERR;
		if (rc != Z_OK) {
			zbuf_printf(why, "cannot switch to user=%s%s%s: %s", user, c->group ? " group=" : "",
				    c->group ? c->group : "", zbuf_cstr(&err));
			zbuf_free(&err);
			q->prefail_status = EX_OSERR;
			return Z_ERR;
		}
		zbuf_free(&err);
		q->drop = 1;
		q->setgroups = root;
		q->uid = ids.uid;
		q->gid = ids.gid;
	}
	int n = 0;
	for (int i = 0; i < c->envc && n < SCONF_MAX_ARGS; i++)
		env[n++] = c->env[i];
	const char *ev = getenv("PATH");
	/* a cut PATH or ZCONFIG would run other programs or read another
	 * configuration: refuse to start instead (the scheduler logs the
	 * exit status) */
	int k = snprintf(pathv, sizeof pathv, "PATH=%s", ev ? ev : "/usr/bin:/bin");
	if (k < 0 || (size_t)k >= sizeof pathv) {
		q->prefail_status = EX_CONFIG;
		return Z_ERR;
	}
	env[n++] = pathv;
	if ((ev = getenv("TZ")) != NULL) {
		k = snprintf(tzv, sizeof tzv, "TZ=%s", ev);
		if (k > 0 && (size_t)k < sizeof tzv)
			env[n++] = tzv;   /* an over-long TZ is dropped: UTC */
	}
	if ((ev = zconf_path()) != NULL || (ev = getenv("ZCONFIG")) != NULL) {
		k = snprintf(zcv, sizeof zcv, "ZCONFIG=%s", ev);
		if (k < 0 || (size_t)k >= sizeof zcv) {
			q->prefail_status = EX_CONFIG;
			return Z_ERR;
		}
		env[n++] = zcv;
	}
	env[n] = NULL;
	q->envp = env;
	return Z_OK;
}

/* spawn_child - start the child of q on a stack of its own, sharing our
 * memory until it execs (no copy of the scheduler's pages: a fork copied
 * the page tables of the whole model and every page the loop wrote
 * afterwards was copied again); the pid or -1 */
static pid_t spawn_child(spawn_req *q)
{
	/* one spawn at a time (the loop thread; CLONE_VFORK waits) */
	static char stack[128 * 1024] __attribute__((aligned(64)));
	return clone(child_run, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, q);
}

/* agent_spawn - fork a new agent for t; NULL on failure */
agent *agent_spawn(agent_pool *p, thread *t)
{
	char **argv = NULL;
	zbuf err = ZBUF_INIT(512);
	agent *a = NULL;
	int sv[2] = { -1, -1 };
	if ((t->clause->flags & SCF_WITHHOST) &&
	    sched_host_check(zspan_from(t->channel->s), zspan_from(t->host->s), &err) != Z_OK) {
		/* never an argv word (load_file fails such recipients first) */
		t->why = "invalid host";
		zlog_error(NULL, "thread %s/%s: host refused for an agent's command line: %s",
			   t->channel->s, t->host->s, zbuf_cstr(&err));
		goto out;
	}
	if (sconf_expand_command(t->clause, t->channel->s, t->host->s, p->mailbin, &argv, &err) != Z_OK) {
		t->why = "ConfBUG:NoCmdDefined";
		zlog_warn(NULL, "thread %s/%s: cannot build agent command: %s", t->channel->s,
			  t->host->s, zbuf_cstr(&err));
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		zlog_error(NULL, "socketpair: %s", strerror(errno));
		t->why = "socketpair failed";
		goto out;
	}
	spawn_req *q = calloc(1, sizeof *q);
	if (q == NULL) {
		zlog_error(NULL, "agent start: out of memory");
		t->why = "agent setup failed";
		close(sv[0]); close(sv[1]);
		goto out;
	}
	const char *user = NULL;
	zbuf reason = ZBUF_INIT(1024);
	if (child_setup(p, t->clause, q, &user, &reason) != Z_OK)
		q->stage = SP_PREFAIL;
	q->argv = argv;
	q->sock = fcntl(sv[1], F_DUPFD_CLOEXEC, 3);
	if (q->sock < 0)
		q->sock = sv[1];
	pid_t pid = spawn_child(q);
	if (pid < 0) {
		zlog_error(NULL, "fork: %s", strerror(errno));
		t->why = "fork failed";
		if (q->sock != sv[1])
			close(q->sock);
		close(sv[0]); close(sv[1]);
		free(q);
		zbuf_free(&reason);
		goto out;
	}
	/* the child has exec'd or exited: a failure's reason goes into its
	 * end of the socket as if it wrote it ("# cannot start agent: ...") */
	if (q->stage != SP_OK) {
		if (q->stage != SP_PREFAIL)
			child_reason(q, user, t->clause->group, &reason);
		if (reason.len > 0) {
			zbuf line = ZBUF_INIT(1200);
			zbuf_printf(&line, "# %s%s", AGENT_STARTFAIL, zbuf_cstr(&reason));
			char *l = (char *)zbuf_cstr(&line);
			size_t ln = strlen(l);
			for (size_t i = 0; i < ln; i++)
				if (l[i] == '\n' || l[i] == '\r')
					l[i] = ' ';
			(void)!write(sv[1], l, ln);
			(void)!write(sv[1], "\n", 1);
			zbuf_free(&line);
		}
	}
	if (q->sock != sv[1])
		close(q->sock);
	free(q);
	zbuf_free(&reason);
	close(sv[1]);
	int fl = fcntl(sv[0], F_GETFL);
	if (fl < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) != 0 ||
	    (a = calloc(1, sizeof *a)) == NULL) {
		/* the child sees EOF; agents_reap collects it */
		zlog_error(NULL, "cannot set up agent pid %ld: %s", (long)pid, strerror(errno));
		t->why = "agent setup failed";
		close(sv[0]);
		kill(pid, SIGKILL);
		goto out;
	}
	a->pool = p;
	a->pid = pid;
	a->fd = sv[0];
	zline_init(&a->in, TAPROTO_LINE_MAX);
	a->clause = t->clause;
	a->ring = t->ring;
	a->channel = t->channel;
	a->host = t->host;
	a->state = AS_LARVA;
	a->owe = 0;
	a->started = a->last_io = sched_now();
	if (zev_io_add(p->loop, a->fd, ZEV_READ, agent_io, a) != Z_OK) {
		zlog_error(NULL, "cannot watch agent pid %ld: killing it", (long)pid);
		t->why = "agent setup failed";
		close(a->fd);
		kill(pid, SIGKILL);
		zline_free(&a->in);
		free(a);
		a = NULL;
		goto out;
	}
	a->next = p->agents;
	if (p->agents)
		p->agents->prev = a;
	p->agents = a;
	p->nagents++;
	t->ring->nagents++;
	t->channel->kids++;
	p->st->c_forks++;
	time_t now = a->started;
	if (p->fork_sec != now) {
		p->fork_sec = now;
		p->forks_in_sec = 0;
	}
	p->forks_in_sec++;
	zlog_info(NULL, "started agent pid %ld for %s/%s: %s", (long)pid, t->channel->s,
		  t->host->s, argv[0]);
out:
	sconf_argv_free(argv);
	zbuf_free(&err);
	return a;
}
