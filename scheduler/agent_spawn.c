/*
 * NAME
 *	agent_spawn.c - start one transport agent: socketpair, fork,
 *	privilege drop, execve
 * SUMMARY
 *	agent_spawn() builds the clause's argv for a thread, creates the
 *	AF_UNIX stream socketpair that becomes the child's stdin, stdout and
 *	stderr, forks, and registers the parent's end with the event loop
 *	(agent_io.c reads it).
 * SYNOPSIS
 *	agent_spawn (internal: agents_int.h)
 * DESCRIPTION
 *	The child gets only the socket on 0/1/2; every other descriptor is
 *	closed before execve.  Ids: the child drops completely (zpriv_drop:
 *	the user's groups, real, effective and saved ids, checked, root not
 *	regainable) to the clause's user=/group=, else to ZMTA_USER when the
 *	scheduler is root; on any failure it writes "# cannot start agent:
 *	<reason>" and exits EX_OSERR without running anything, and the
 *	scheduler defers the thread's pending recipients with that reason
 *	(no fork loop).  Forks are counted for ForkRateLimit.
 * DIAGNOSTICS
 *	zlog_error for a failed socketpair or fork (t->why says which);
 *	the child's own failures arrive as the comment line above.
 * SECURITY
 *	A host reaches an argv word (with-host clause, after "--" when it is
 *	the last word) only after sched_host_check; PATH= and ZCONFIG= for
 *	the child are never cut (the child exits EX_CONFIG instead).
 * BUGS
 *	None known.
 * SEE ALSO
 *	scheduler(8), scheduler.conf(5), agents.c, agent_io.c, zpriv.h
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agents_int.h"
#include "scan.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"

static _Noreturn void __attribute__((format(printf, 1, 2))) child_fail(const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(line, sizeof line, "# %s", AGENT_STARTFAIL);
	if (n > 0 && (size_t)n < sizeof line) {
		size_t room = sizeof line - (size_t)n - 1;   /* one byte kept for the newline */
		int k = vsnprintf(line + n, room, fmt, ap);
		if (k > 0)
			n += (size_t)k < room ? k : (int)room - 1;
	}
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof line) {
		for (int i = 0; i < n; i++)
			if (line[i] == '\n' || line[i] == '\r')
				line[i] = ' ';
		line[n++] = '\n';
		(void)!write(2, line, (size_t)n);
	}
	_exit(EX_OSERR);
}

/* child_exec - in the child: set up fds, priority, ids, exec */
static _Noreturn void child_exec(agent_pool *p, int sock, const sconf_clause *c, char **argv)
{
	for (int i = 0; i < 3; i++)
		if (dup2(sock, i) < 0)
			_exit(EX_OSERR);
	if (close_range(3, ~0u, 0) != 0) {
		long maxfd = sysconf(_SC_OPEN_MAX);
		if (maxfd < 0 || maxfd > 65536)
			maxfd = 65536;
		for (int fd = 3; fd < maxfd; fd++)
			close(fd);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (c->has_priority)
		(void)setpriority(PRIO_PROCESS, 0, c->priority);
	if (c->nice)
		(void)!nice(c->nice);
	/* ids: a complete drop (groups, real/effective/saved) or nothing
	 * runs; the reason goes to the scheduler as a comment line */
	const char *user = c->user;
	if (user == NULL && geteuid() == 0)
		user = p->agent_user;
	if (user == NULL && c->group)
		user = "root";
	if (user) {
		zbuf err = ZBUF_INIT(400);
		if (zpriv_drop(user, c->group, &err) != Z_OK)
			child_fail("cannot switch to user=%s%s%s: %s", user, c->group ? " group=" : "",
				   c->group ? c->group : "", zbuf_cstr(&err));
		zbuf_free(&err);
	}
	char *env[SCONF_MAX_ARGS + 8];
	int n = 0;
	for (int i = 0; i < c->envc && n < SCONF_MAX_ARGS; i++)
		env[n++] = c->env[i];
	static char pathv[4200], tzv[256], zcv[4200];
	const char *ev = getenv("PATH");
	/* a cut PATH or ZCONFIG would run other programs or read another
	 * configuration: refuse to start instead (the scheduler logs the
	 * exit status) */
	int k = snprintf(pathv, sizeof pathv, "PATH=%s", ev ? ev : "/usr/bin:/bin");
	if (k < 0 || (size_t)k >= sizeof pathv)
		_exit(EX_CONFIG);
	env[n++] = pathv;
	if ((ev = getenv("TZ")) != NULL) {
		k = snprintf(tzv, sizeof tzv, "TZ=%s", ev);
		if (k > 0 && (size_t)k < sizeof tzv)
			env[n++] = tzv;   /* an over-long TZ is dropped: UTC */
	}
	if ((ev = zconf_path()) != NULL || (ev = getenv("ZCONFIG")) != NULL) {
		k = snprintf(zcv, sizeof zcv, "ZCONFIG=%s", ev);
		if (k < 0 || (size_t)k >= sizeof zcv)
			_exit(EX_CONFIG);
		env[n++] = zcv;
	}
	env[n] = NULL;
	execve(argv[0], argv, env);
	child_fail("execve %s: %s", argv[0], strerror(errno));
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
	pid_t pid = fork();
	if (pid < 0) {
		zlog_error(NULL, "fork: %s", strerror(errno));
		t->why = "fork failed";
		close(sv[0]); close(sv[1]);
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		int s = fcntl(sv[1], F_DUPFD, 3);
		child_exec(p, s >= 0 ? s : sv[1], t->clause, argv);
	}
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
