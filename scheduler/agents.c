/*
 * NAME
 *	agents.c - transport agents: start, reuse, feed, read reports, reap;
 *	thread start and rescheduling
 * SUMMARY
 *	Every agent runs on one end of an AF_UNIX stream socketpair that is
 *	its stdin, stdout and stderr.  The scheduler writes job lines
 *	"<relpath>[\t<host>]", "#idle" and "" (exit) and reads "#hungry",
 *	report lines and "# comments" with the shared codec (taproto.h).
 * SYNOPSIS
 *	pool_init, pool_free, pool_vertex_left, vertex_release, sched_now,
 *	thread_arm, thread_try_start, thread_reschedule,
 *	thread_drop_if_empty, thread_settled, sched_waitq_run, agents_tick,
 *	agents_reap, agents_stop, agents_end_idle, turnme
 * DESCRIPTION
 *	Everything works on an agent_pool the daemon owns and passes in
 *	(agents carry it for their socket callbacks, threads for their
 *	timers).  Reports go to the completion module (complete.h) through
 *	its complete_ctx; completion calls back only through the
 *	vertex_left hook pool_init installs (pool_vertex_left), so the two
 *	modules do not include each other.
 *	Feeding: "owe" = lines written minus "#hungry" received; an agent
 *	that said "#hungry" for everything it got has owe == -1.  A job is
 *	written while owe < overfeed; the job lines of one feed round are
 *	collected and written with one write(2).  An agent may ask for the next job
 *	before it reports the previous one, so fed recipients stay "in
 *	flight" on the agent until they are reported or the agent is gone
 *	(or silent with them for PARAMmax-ta-silence); only then are they
 *	settled: looked up in the file (never counted delivered unless the
 *	file says so) and deferred.  When the thread has nothing left, the
 *	agent switches to a
 *	waiting thread of its ring, or gets "#idle" and is parked in the
 *	ring's idle pool until idlemax.
 *	Starting: a due thread first takes an idle agent of its ring (same
 *	host first, any host unless the clause is with-host), else a new one
 *	if no limit is hit (>MaxTA, >MaxChannel, >MaxRing, >MaxThr,
 *	ForkRateLimit: the reason is kept on the thread for mailq and the
 *	thread waits in a FIFO for a free slot).  A thread whose pending
 *	jobs are all still in flight with an agent that left it (read
 *	ahead) starts nobody and looks again one interval later.
 *	Rounds: when the last agent leaves a thread, thread_reschedule(p)
 *	closes the round (one retry_next() step, expiry checks) only if
 *	something was deferred in it or no job is in flight any more;
 *	otherwise the thread is "flying" ("in flight" in mailq) and
 *	thread_settled(p), called whenever a job is answered or dropped, closes
 *	the round from a zero-delay timer once the last answer is in.  A
 *	round in which everything was delivered thus takes no retry step.
 *	Faults: EOF, a read/write error, exit, a signal, silence past
 *	PARAMmax-ta-silence with work outstanding, over-long or malformed
 *	lines beyond a budget, or a flood of comment lines: the agent is
 *	killed (SIGKILL) if needed, its unreported recipients are settled as
 *	above and its thread is rescheduled.
 * DIAGNOSTICS
 *	One log line per event with the spool id where there is one.
 * SECURITY
 *	Agent output is untrusted: lines are capped (TAPROTO_LINE_MAX),
 *	parsed by the strict codec, a report is only accepted for a recipient
 *	that was fed to that very agent.  A retryat hint is honoured but
 *	bounded by PARAMretryat-max and the messages' expiry
 *	(retry_hint_bound).  A host reaches an argv word (with-host clause,
 *	after "--" when it is the last word) or a job line only after
 *	sched_host_check; PATH= and ZCONFIG= for the child are never cut (the
 *	child exits EX_CONFIG instead).
 *	The child gets only the socket on
 *	0/1/2; every other descriptor is closed before execve.  Ids: the
 *	child drops completely (zpriv_drop: the user's groups, real,
 *	effective and saved ids, checked, root not regainable) to the
 *	clause's user=/group=, else to ZMTA_USER when the scheduler is root;
 *	on any failure it writes "# cannot start agent: <reason>" and exits
 *	EX_OSERR without running anything, and the scheduler defers the
 *	thread's pending recipients with that reason (no fork loop).
 * BUGS
 *	deferback is treated like deferred (no tail move).
 * SEE ALSO
 *	scheduler(8), zmta-ta(7), model.c, complete.c
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agents.h"
#include "complete.h"
#include "scan.h"
#include "spool.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"


/* prefix of the comment line a child writes when it cannot become the
 * agent (privilege drop or execve failed) */
#define AGENT_STARTFAIL "cannot start agent: "

#define AGENT_BAD_MAX 50          /* malformed lines before the agent is killed */
#define AGENT_BURST_MAX 2000      /* comment lines per second before kill */

static void agent_io(zev_loop *loop, int fd, unsigned events, void *arg);
static void agent_gone(agent_pool *p, agent *a, const char *why);
static void agent_feed(agent_pool *p, agent *a);

/* vertex_release - off the agent's outstanding list */
void vertex_release(vertex *v)
{
	agent *a = v->agent;
	if (a == NULL)
		return;
	for (vertex **pp = &a->out; *pp; pp = &(*pp)->anext)
		if (*pp == v) {
			*pp = v->anext;
			break;
		}
	v->anext = NULL;
	v->agent = NULL;
}

/* pool_vertex_left - see agents.h */
void pool_vertex_left(void *arg, vertex *v, thread *t)
{
	vertex_release(v);
	thread_settled(arg, t);
}

/* pool_init - see agents.h */
void pool_init(agent_pool *p, complete_ctx *cc, zev_loop *loop)
{
	memset(p, 0, sizeof *p);
	p->m = cc->m;
	p->cfg = cc->cfg;
	p->cc = cc;
	p->st = cc->st;
	p->loop = loop;
	cc->hooks.vertex_left = pool_vertex_left;
	cc->hooks.arg = p;
}

/* pool_free - see agents.h */
void pool_free(agent_pool *p)
{
	free(p->waitq);
	p->waitq = NULL;
	p->nwait = p->waitcap = 0;
}

/* sched_now - wall clock */
time_t sched_now(void)
{
	return time(NULL);
}

/* thread_has_inflight - is a vertex of t still with an agent? */
static int thread_has_inflight(const thread *t)
{
	for (int l = 0; l < 2; l++)
		for (const vertex *v = l ? t->done.head : t->pending.head; v; v = v->tnext)
			if (v->agent != NULL)
				return 1;
	return 0;
}

/* thread_landed - did a round that ended in flight get all its answers? */
static int thread_landed(const thread *t)
{
	return t->flying && t->nagents == 0 && !thread_has_inflight(t);
}

/* thread_timer_fire - a thread's wakeup (or its landing) came */
static void thread_timer_fire(zev_loop *loop, void *arg)
{
	(void)loop;
	thread *t = arg;
	agent_pool *p = t->owner;
	t->timer = 0;
	t->timer_at = 0;
	if (thread_landed(t))
		thread_reschedule(p, t, 0);
	else
		thread_try_start(p, t, 0);
}

/* thread_arm - keep exactly one timer per thread at its wakeup */
void thread_arm(agent_pool *p, thread *t)
{
	time_t w = t->rs.wakeup;
	if (t->timer && t->timer_at == w)
		return;
	if (t->timer && t->timer_at == 0)
		return;   /* a landing is due (thread_settled); it re-arms */
	if (t->timer) {
		zev_timer_cancel(p->loop, t->timer);
		t->timer = 0;
	}
	if (w == RETRY_NEVER)
		return;
	time_t now = sched_now();
	long long delta = w > now ? (long long)(w - now) * 1000 : 0;
	t->owner = p;
	t->timer = zev_timer_add(p->loop, zmono_ms() + delta, thread_timer_fire, t);
	t->timer_at = w;
}

/* waitq_add - remember a blocked thread (no duplicates) */
static void waitq_add(agent_pool *p, thread *t)
{
	for (size_t i = 0; i < p->nwait; i++)
		if (p->waitq[i] == t)
			return;
	if (p->nwait == p->waitcap) {
		size_t nc = p->waitcap ? p->waitcap * 2 : 64;
		thread **nq = realloc(p->waitq, nc * sizeof *nq);
		if (nq == NULL)
			return;  /* it retries on its next timer */
		p->waitq = nq;
		p->waitcap = nc;
	}
	p->waitq[p->nwait++] = t;
}

/* waitq_del - forget t */
static void waitq_del(agent_pool *p, thread *t)
{
	for (size_t i = 0; i < p->nwait; i++)
		if (p->waitq[i] == t) {
			memmove(&p->waitq[i], &p->waitq[i + 1], (p->nwait - i - 1) * sizeof *p->waitq);
			p->nwait--;
			return;
		}
}

/* thread_drop_if_empty - delete a thread that holds nothing */
void thread_drop_if_empty(agent_pool *p, thread *t)
{
	if (t->pending.n || t->done.n || t->nagents || t->busy)
		return;
	if (t->timer) {
		zev_timer_cancel(p->loop, t->timer);
		t->timer = 0;
	}
	waitq_del(p, t);
	for (agent *a = p->agents; a; a = a->next)
		if (a->thr == t)
			a->thr = NULL;
	model_thread_delete(p->m, t);
}

/* thread_settled - see agents.h; the round is closed from a timer of its
 * own so that no caller's file or vertex goes away under its feet */
void thread_settled(agent_pool *p, thread *t)
{
	if (t == NULL || t->nagents > 0 || t->busy)
		return;
	if (t->pending.n == 0 && t->done.n == 0) {
		thread_drop_if_empty(p, t);
		return;
	}
	if (!thread_landed(t) || (t->timer && t->timer_at == 0))
		return;
	if (t->timer)
		zev_timer_cancel(p->loop, t->timer);
	t->owner = p;
	t->timer = zev_timer_add(p->loop, zmono_ms(), thread_timer_fire, t);
	t->timer_at = 0;
}

/* thread_wants_agent - does t need (another) agent right now? */
static int thread_wants_agent(const thread *t)
{
	if (t->pending.n == 0)
		return 0;
	if ((int)t->nagents >= t->clause->maxthr)
		return 0;
	if (t->nagents > 0 && t->pending.n <= t->nagents)
		return 0;
	return 1;
}

/* thread_has_unfed - is a pending vertex of t free to be fed? */
static int thread_has_unfed(const thread *t)
{
	for (const vertex *v = t->pending.head; v; v = v->tnext)
		if (v->agent == NULL)
			return 1;
	return 0;
}

/* agent_attach - bind a to t and start feeding */
static void agent_attach(agent_pool *p, agent *a, thread *t)
{
	a->thr = t;
	a->host = t->host;
	a->state = AS_STUFFING;
	a->retry_stop = 0;
	t->nagents++;
	t->why = NULL;
	waitq_del(p, t);
}

/* idle_take - an idle agent of t's ring (same host first) */
static agent *idle_take(agent_pool *p, thread *t)
{
	ring *r = t->ring;
	agent **best = NULL;
	for (agent **pp = &r->idle; *pp; pp = &(*pp)->idle_next) {
		if ((*pp)->host == t->host) { best = pp; break; }
		if (best == NULL && !(t->clause->flags & SCF_WITHHOST))
			best = pp;
	}
	if (best == NULL)
		return NULL;
	agent *a = *best;
	*best = a->idle_next;
	a->idle_next = NULL;
	p->nidle--;
	return a;
}

/* idle_remove - take a out of its ring's idle pool if it is there */
static void idle_remove(agent_pool *p, agent *a)
{
	if (a->ring == NULL)
		return;
	for (agent **pp = &a->ring->idle; *pp; pp = &(*pp)->idle_next)
		if (*pp == a) {
			*pp = a->idle_next;
			a->idle_next = NULL;
			p->nidle--;
			return;
		}
}

/* agent_end - ask an agent to exit: empty line, shut the write side */
static void agent_end(agent_pool *p, agent *a)
{
	if (a->state == AS_GONE || a->state == AS_ENDING)
		return;
	if (a->state == AS_IDLE)
		idle_remove(p, a);
	a->state = AS_ENDING;
	if (a->fd >= 0) {
		(void)!write(a->fd, "\n", 1);
		shutdown(a->fd, SHUT_WR);
	}
}

/* end_oldest_idle - free a process slot held by an idle agent */
static int end_oldest_idle(agent_pool *p)
{
	agent *old = NULL;
	for (agent *a = p->agents; a; a = a->next)
		if (a->state == AS_IDLE && (old == NULL || a->idle_since < old->idle_since))
			old = a;
	if (old == NULL)
		return 0;
	agent_end(p, old);
	return 1;
}

/* limit_reason - why a new agent cannot start for t, NULL if it can */
static const char *limit_reason(agent_pool *p, const thread *t, time_t now)
{
	const sconf_clause *c = t->clause;
	unsigned maxta = p->maxkids;
	if (c->maxta > 0 && (unsigned)c->maxta < maxta)
		maxta = (unsigned)c->maxta;
	if (p->nagents >= maxta)
		return ">MaxTA";
	if (c->maxchannel > 0 && t->channel->kids >= (unsigned)c->maxchannel)
		return ">MaxChannel";
	if (c->maxring > 0 && t->ring->nagents >= (unsigned)c->maxring)
		return ">MaxRing";
	if ((int)t->nagents >= c->maxthr)
		return ">MaxThr";
	if (p->fork_sec == now && p->forks_in_sec >= p->fork_rate)
		return "ForkRateLimit";
	return NULL;
}

/* child_fail - in the child: tell the scheduler why it cannot run, exit */
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
static agent *agent_spawn(agent_pool *p, thread *t)
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

/* thread_try_start - see agents.h */
int thread_try_start(agent_pool *p, thread *t, int etrn)
{
	time_t now = sched_now();
	if (etrn) {
		t->kicked = 1;
		retry_kick(&t->rs, now);
		if (t->nagents == 0)
			thread_new_round(t);
	}
	if (p->freeze || p->stopping || p->scanning)
		return 0;
	if (!etrn && !t->kicked && !retry_due(&t->rs, t->clause, now)) {
		if ((t->clause->flags & SCF_QUEUEONLY) && t->rs.wakeup == RETRY_NEVER)
			t->why = "queueonly";
		thread_arm(p, t);
		return 0;
	}
	if (!thread_wants_agent(t))
		return 0;
	if (t->nagents == 0 && !thread_has_unfed(t)) {
		/* every pending job is still in flight with an agent that has
		 * left the thread (it read ahead): a new agent would get
		 * nothing; look again one interval later */
		t->rs.wakeup = now + (t->clause->interval > 0 ? t->clause->interval : 60);
		t->why = "in flight";
		thread_arm(p, t);
		return 0;
	}
	int started = 0;
	while (thread_wants_agent(t)) {
		agent *a = idle_take(p, t);
		if (a) {
			agent_attach(p, a, t);
			agent_feed(p, a);
			started = 1;
			continue;
		}
		const char *why = limit_reason(p, t, now);
		if (why && (strcmp(why, ">MaxTA") == 0 || strcmp(why, ">MaxChannel") == 0) &&
		    end_oldest_idle(p))
			why = "waiting for an idle agent to exit";
		if (why) {
			if (t->nagents == 0) {
				t->why = why;
				waitq_add(p, t);
			}
			break;
		}
		a = agent_spawn(p, t);
		if (a == NULL) {
			/* no command or a system failure: try again one interval later */
			if (t->nagents == 0 && t->rs.wakeup <= now) {
				t->rs.wakeup = now + (t->clause->interval > 0 ? t->clause->interval : 60);
				thread_arm(p, t);
			}
			break;
		}
		agent_attach(p, a, t);
		a->state = AS_LARVA;
		started = 1;
	}
	return started;
}

/* sched_waitq_run - threads blocked by a limit try again (FIFO) */
void sched_waitq_run(agent_pool *p)
{
	size_t n = p->nwait;
	for (size_t i = 0; i < n && p->nwait > 0; i++) {
		thread *t = p->waitq[0];
		memmove(&p->waitq[0], &p->waitq[1], (p->nwait - 1) * sizeof *p->waitq);
		p->nwait--;
		thread_try_start(p, t, t->kicked);
		if (p->nwait && p->waitq[p->nwait - 1] == t) {
			/* still blocked: global limits stop the pass */
			if (t->why && (strcmp(t->why, ">MaxTA") == 0 ||
				       strcmp(t->why, "ForkRateLimit") == 0))
				break;
		}
	}
}

/* thread_reschedule - see agents.h */
void thread_reschedule(agent_pool *p, thread *t, time_t hint)
{
	if (t->nagents > 0)
		return;
	t->flying = 0;
	if (t->pending.n == 0 && t->done.n == 0) {
		thread_drop_if_empty(p, t);
		return;
	}
	time_t now = sched_now();
	if (t->done.n == 0) {
		/* only new arrivals left: they were never tried */
		thread_try_start(p, t, t->kicked);
		return;
	}
	if (hint > t->hint)
		t->hint = hint;
	if (!t->deferred && thread_has_inflight(t)) {
		/* nothing deferred yet and jobs still with an agent that asked
		 * for more before reporting: the round is not over; it closes
		 * when they are answered (thread_settled), so a round in which
		 * everything is delivered takes no retry step */
		t->flying = 1;
		t->why = "in flight";
		return;
	}
	t->deferred = 0;
	t->kicked = 0;
	hint = t->hint;
	t->hint = 0;
	if (hint) {
		/* an agent's retryat is honoured, longer or shorter than the
		 * clause's table: bounded only by PARAMretryat-max and by the
		 * earliest expiry among the thread's messages (one past its
		 * expiry that was never tried drops the hint: it is tried at
		 * the table's time and then expires) */
		time_t exp = 0;
		for (int l = 0; l < 2; l++)
			for (const vertex *v = l ? t->pending.head : t->done.head; v; v = v->tnext) {
				time_t e = retry_expiry_time(t->clause, v->file->arrival);
				if (e == 0 || (e <= now && v->attempts > 0))
					continue;   /* no expiry, or it expires right now */
				if (exp == 0 || e < exp)
					exp = e;    /* e <= now: still owes its first try */
			}
		hint = retry_hint_bound(now, hint, p->cfg->retryat_max, exp);
		if (hint)
			zlog_info(NULL, "thread %s/%s: next attempt in %lld s as the agent asked",
				  t->channel->s, t->host->s, (long long)(hint - now));
	}
	retry_next(t->clause, &t->rs, now, &p->rng, hint);
	/* expiry and delay warnings for what was tried in this round */
	vertex *v = t->done.head, *nx;
	t->busy = 1;
	for (; v; v = nx) {
		nx = v->tnext;
		(void)vertex_age_check(p->cc, v, now, t->rs.wakeup);
	}
	t->busy = 0;
	if (t->pending.n == 0 && t->done.n == 0) {
		thread_drop_if_empty(p, t);
		return;
	}
	thread_new_round(t);
	t->why = "retry wait";
	thread_arm(p, t);
}

/* agent_send - write a batch of whole lines with one write(2) or fail
 * (the lines are already counted in a->owe) */
static int agent_send(agent *a, const char *p, size_t n)
{
	ssize_t w;
	if (n == 0)
		return Z_OK;
	do {
		w = write(a->fd, p, n);
	} while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n) {
		zlog_warn(NULL, "agent pid %ld: write failed (%s): ending it", (long)a->pid,
			  w < 0 ? strerror(errno) : "short write");
		return Z_EIO;
	}
	return Z_OK;
}

/* agent_write - write a whole short line or fail */
static int agent_write(agent *a, const char *p, size_t n)
{
	ssize_t w;
	do {
		w = write(a->fd, p, n);
	} while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n) {
		zlog_warn(NULL, "agent pid %ld: write failed (%s): ending it", (long)a->pid,
			  w < 0 ? strerror(errno) : "short write");
		return Z_EIO;
	}
	a->owe++;
	return Z_OK;
}

/* agent_kill - forcibly end an agent and settle its work */
static void agent_kill(agent_pool *p, agent *a, const char *why)
{
	zlog_warn(NULL, "agent pid %ld: %s: killing it", (long)a->pid, why);
	if (a->pid > 0 && !a->reaped)
		kill(a->pid, SIGKILL);
	agent_gone(p, a, why);
}

/* agent_settle_all - fed recipients not reported: look them up */
static void agent_settle_all(agent_pool *p, agent *a, const char *why)
{
	vertex *v;
	while ((v = a->out) != NULL) {
		a->out = v->anext;
		v->anext = NULL;
		v->agent = NULL;
		sfile *f = v->file;
		int freed = 0;
		for (uint32_t i = 0; !freed && i < v->nrcpt; i++)
			if (v->r[i].state == RS_FED)
				freed = rcpt_settle(p->cc, f, v, &v->r[i], a->pid, why);
		if (!freed)
			thread_settled(p, v->thr);
	}
}

/* agent_leave_thread - a is done with its thread */
static void agent_leave_thread(agent_pool *p, agent *a, time_t hint)
{
	thread *t = a->thr;
	if (t == NULL)
		return;
	a->thr = NULL;
	if (t->nagents)
		t->nagents--;
	thread_reschedule(p, t, hint);
}

/* find_waiting_in_ring - a blocked thread a could serve */
static thread *find_waiting_in_ring(agent_pool *p, agent *a)
{
	for (size_t i = 0; i < p->nwait; i++) {
		thread *t = p->waitq[i];
		if (t->ring == a->ring && thread_wants_agent(t))
			return t;
	}
	return NULL;
}

/* agent_feed - write jobs while allowed; switch threads or go idle */
static void agent_feed(agent_pool *p, agent *a)
{
	char line[SPOOL_JOBPATH_MAX + 600];
	/* the job lines of one feed round go out in one write */
	char batch[16384];
	size_t bn = 0;
	for (;;) {
		if (a->state == AS_GONE || a->state == AS_ENDING || a->fd < 0)
			return;
		thread *t = a->thr;
		if (t && (a->state == AS_STUFFING || a->state == AS_FINISHING) &&
		    !a->retry_stop && !p->stopping) {
			int overfeed = t->clause->overfeed;
			a->state = AS_STUFFING;
			while (a->owe < overfeed && t->pending.n > 0) {
				vertex *v = vlist_pop(&t->pending);
				vlist_push(&t->done, v, 2);
				if (v->agent != NULL)
					continue;   /* still in flight with another agent */
				char rel[32];
				file_relpath(v->file, rel, sizeof rel);
				int n;
				if (t->clause->flags & SCF_WITHHOST)
					n = snprintf(line, sizeof line, "%s\n", rel);
				else
					n = snprintf(line, sizeof line, "%s\t%s\n", rel, t->host->s);
				if (n < 0 || (size_t)n >= sizeof line ||
				    (!(t->clause->flags & SCF_WITHHOST) &&
				     sched_host_check(zspan_from(t->channel->s), zspan_from(t->host->s), NULL) != Z_OK)) {
					zlog_error(NULL, "no job line for %s: host refused or line too long", rel);
					continue;
				}
				for (uint32_t i = 0; i < v->nrcpt; i++)
					if (v->r[i].state == RS_PENDING)
						v->r[i].state = RS_FED;
				v->agent = a;
				v->anext = a->out;
				a->out = v;
				v->lastfeed = sched_now();
				a->last_feed = v->lastfeed;
				a->jobs++;
				if (bn + (size_t)n > sizeof batch) {
					if (agent_send(a, batch, bn) != Z_OK) {
						agent_kill(p, a, "write error");
						return;
					}
					bn = 0;
				}
				memcpy(batch + bn, line, (size_t)n);
				bn += (size_t)n;
				a->owe++;
			}
			if (agent_send(a, batch, bn) != Z_OK) {
				agent_kill(p, a, "write error");
				return;
			}
			bn = 0;
			if (t->pending.n > 0 || a->owe >= 0)
				return;   /* wait for more #hungry */
			a->state = AS_FINISHING;
		}
		if (a->owe >= 0)
			return;         /* wait until every job is answered */
		/* every job line was read by the agent; reports may still be on
		 * their way (an agent may ask for the next job before it reports
		 * the previous one), so fed recipients stay in flight on a->out
		 * until reported or until the agent is gone or silent */
		if (a->thr) {
			time_t hint = 0;
			agent_leave_thread(p, a, hint);
		}
		if (p->stopping) {
			agent_end(p, a);
			return;
		}
		thread *nt = find_waiting_in_ring(p, a);
		if (nt) {
			agent_attach(p, a, nt);
			continue;
		}
		if (a->state != AS_IDLING) {
			if (agent_write(a, "#idle\n", 6) != Z_OK) {
				agent_kill(p, a, "write error");
				return;
			}
			a->state = AS_IDLING;
		}
		return;
	}
}

/* handle_report - one report line */
static void handle_report(agent_pool *p, agent *a, const ta_report *rep)
{
	sfile *f = model_file_find(p->m, rep->inum);
	vertex *v = NULL;
	srcpt *r = f ? vertex_find_rcpt(f, (uint32_t)rep->offset, &v) : NULL;
	if (r == NULL || v->agent != a || r->state != RS_FED) {
		zlog_warn(NULL, "agent pid %ld: report for unknown or not fed recipient %lu/%lu ignored",
			  (long)a->pid, rep->inum, rep->offset);
		a->bad++;
		return;
	}
	a->reports++;
	p->st->c_reports++;
	thread *t = v->thr;
	if (t)
		retry_attempted(&t->rs);
	if (ta_word_final(rep->word)) {
		if (rcpt_final(p->cc, f, v, r, rep->word, rep->notary, rep->text))
			return;
	} else {
		rcpt_deferred(p->cc, f, v, r, rep->notary, rep->text, 1);
		if (rep->word == TA_RETRYAT || rep->word == TA_DEFERALL) {
			a->retry_stop = 1;
			if (rep->word == TA_RETRYAT) {
				time_t h = retry_hint_abs(sched_now(), rep->retry, rep->retry_relative);
				if (t && h > t->hint)
					t->hint = h;
			}
			if (t) {
				/* nothing more of this thread for anyone in this round */
				/* not tried in this round: first in the next one */
				vertex *vp;
				while ((vp = t->pending.tail) != NULL) {
					vlist_remove(&t->pending, vp);
					vlist_push_front(&t->done, vp, 2);
				}
			}
		}
	}
	/* vertex fully answered: off the agent's list */
	int infl = 0;
	for (uint32_t i = 0; i < v->nrcpt; i++)
		if (v->r[i].state == RS_FED)
			infl = 1;
	if (!infl) {
		vertex_release(v);
		thread_settled(p, v->thr);
	}
}

/* handle_resync - the agent found nothing for it in path */
static void handle_resync(agent_pool *p, agent *a, zspan path)
{
	unsigned long ino;
	size_t pl;
	zbuf why = ZBUF_INIT(256);
	if (spool_jobpath_check(path.p, path.n, &ino, &pl, &why) != Z_OK) {
		zlog_warn(NULL, "agent pid %ld: bad #resync path: %s", (long)a->pid, zbuf_cstr(&why));
		a->bad++;
		zbuf_free(&why);
		return;
	}
	zbuf_free(&why);
	sfile *f = model_file_find(p->m, ino);
	if (f == NULL)
		return;
	for (vertex *v = f->vertices; v; v = v->fnext) {
		if (v->agent != a)
			continue;
		for (uint32_t i = 0; i < v->nrcpt; i++)
			if (v->r[i].state == RS_FED) {
				if (rcpt_settle(p->cc, f, v, &v->r[i], a->pid, "agent asked for a resync"))
					return;
			}
		if (v->agent == a) {
			vertex_release(v);
			thread_settled(p, v->thr);
		}
	}
}

/* agent_line - dispatch one line from an agent */
static void agent_line(agent_pool *p, agent *a, const char *line, size_t n)
{
	ta_report rep;
	zspan arg = ZSPAN_NULL;
	zbuf why = ZBUF_INIT(512);
	enum ta_kind k = ta_parse_agent_line(line, n, &rep, &arg, &why);
	time_t now = sched_now();
	a->last_io = now;
	switch (k) {
	case TAK_HUNGRY:
	case TAK_EMPTY:
		a->owe--;
		a->last_hungry = now;
		if (a->owe < -1) {
			a->owe = -1;
			a->bad++;
		}
		if (a->state == AS_LARVA)
			a->state = a->thr ? AS_STUFFING : AS_FINISHING;
		if (a->state == AS_IDLING) {
			if (a->owe == -1) {
				a->state = AS_IDLE;
				a->idle_since = now;
				a->idle_next = a->ring->idle;
				a->ring->idle = a;
				p->nidle++;
				/* a waiting thread of this ring may take it right away */
				thread *nt = find_waiting_in_ring(p, a);
				if (nt) {
					idle_remove(p, a);
					agent_attach(p, a, nt);
					agent_feed(p, a);
				}
			}
			break;
		}
		if (a->state == AS_IDLE || a->state == AS_ENDING)
			break;
		agent_feed(p, a);
		break;
	case TAK_REPORT:
		handle_report(p, a, &rep);
		break;
	case TAK_RESYNC:
		handle_resync(p, a, arg);
		break;
	case TAK_KEEPALIVE:
		break;	/* activity only: last_io is set above (zmta-ta(7)) */
	case TAK_COMMENT:
	default:
		/* "# text" and lines that are not protocol (an agent's own log
		 * lines on stderr) are logged; only a flood gets it killed */
		if (a->burst_sec != now) {
			a->burst_sec = now;
			a->burst = 0;
		}
		if (++a->burst > AGENT_BURST_MAX) {
			agent_kill(p, a, "floods its output");
			goto out;
		}
		if (k == TAK_COMMENT && a->state == AS_LARVA && a->startfail[0] == '\0' &&
		    arg.n > strlen(AGENT_STARTFAIL) &&
		    memcmp(arg.p, AGENT_STARTFAIL, strlen(AGENT_STARTFAIL)) == 0) {
			size_t m = arg.n < sizeof a->startfail - 1 ? arg.n : sizeof a->startfail - 1;
			memcpy(a->startfail, arg.p, m);
			a->startfail[m] = '\0';
			zlog_error(NULL, "agent pid %ld for %s/%s: %s", (long)a->pid,
				   a->channel ? a->channel->s : "-", a->host ? a->host->s : "-",
				   a->startfail);
		}
		if (a->burst <= 50) {
			if (k == TAK_COMMENT)
				zlog_info(NULL, "agent pid %ld: %.*s", (long)a->pid, (int)arg.n, arg.p);
			else
				zlog_info(NULL, "agent pid %ld: non-protocol line: %.*s", (long)a->pid,
					  (int)(n > 300 ? 300 : n), line);
		}
		break;
	}
	if (a->bad > AGENT_BAD_MAX && a->state != AS_GONE)
		agent_kill(p, a, "too many malformed lines");
out:
	zbuf_free(&why);
}

/* agent_io - readable agent socket */
static void agent_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop; (void)fd; (void)events;
	agent *a = arg;
	agent_pool *p = a->pool;
	for (int rounds = 0; rounds < 16; rounds++) {
		long r = zline_fill(&a->in, a->fd);
		if (r == Z_EAGAIN)
			break;
		if (r <= 0) {
			/* drain what is buffered, then the agent is gone */
			zspan l;
			int k;
			while (a->state != AS_GONE && (k = zline_next(&a->in, &l)) != 0) {
				if (k == 1)
					agent_line(p, a, l.p, l.n);
				else
					a->bad++;
			}
			if (a->state != AS_GONE)
				agent_gone(p, a, r == 0 ? "end of output" : "read error");
			return;
		}
		zspan l;
		int k;
		while (a->state != AS_GONE && (k = zline_next(&a->in, &l)) != 0) {
			if (k == 1) {
				agent_line(p, a, l.p, l.n);
			} else {
				a->bad++;
				zlog_warn(NULL, "agent pid %ld: over-long line", (long)a->pid);
				if (a->bad > AGENT_BAD_MAX) {
					agent_kill(p, a, "too many over-long lines");
					return;
				}
			}
		}
		if (a->state == AS_GONE)
			return;
	}
}

/* agent_free - both EOF and exit seen */
static void agent_free(agent_pool *p, agent *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		p->agents = a->next;
	if (a->next)
		a->next->prev = a->prev;
	zline_free(&a->in);
	free(a);
}

/* defer_unstarted - the agent for t could not start (ids, execve): defer
 * what t has pending with the reason, so the round closes with a retry
 * step instead of forking again at once */
static void defer_unstarted(agent_pool *p, thread *t, const char *why)
{
	vertex *v;
	zspan text = zspan_from(why);
	t->busy = 1;
	while ((v = vlist_pop(&t->pending)) != NULL) {
		vlist_push(&t->done, v, 2);
		if (v->agent != NULL)
			continue;   /* in flight with another agent */
		for (uint32_t i = 0; i < v->nrcpt; i++)
			if (v->r[i].state == RS_PENDING)
				rcpt_deferred(p->cc, v->file, v, &v->r[i], ZSPAN_NULL, text, 1);
	}
	t->busy = 0;
}

/* agent_gone - the agent cannot be talked to any more */
static void agent_gone(agent_pool *p, agent *a, const char *why)
{
	if (a->state == AS_GONE)
		return;
	int was_idle = a->state == AS_IDLE;
	int clean = a->state == AS_IDLE || a->state == AS_ENDING || a->state == AS_IDLING;
	if (was_idle)
		idle_remove(p, a);
	a->state = AS_GONE;
	if (a->fd >= 0) {
		zev_io_del(p->loop, a->fd);
		close(a->fd);
		a->fd = -1;
	}
	if (!clean || a->out)
		zlog_info(NULL, "agent pid %ld gone (%s) with %s", (long)a->pid, why,
			  a->out ? "unreported recipients: deferred" : "no work outstanding");
	agent_settle_all(p, a, why);
	if (a->startfail[0] && a->thr)
		defer_unstarted(p, a->thr, a->startfail);
	if (p->nagents)
		p->nagents--;
	if (a->ring && a->ring->nagents)
		a->ring->nagents--;
	if (a->channel && a->channel->kids)
		a->channel->kids--;
	if (a->thr)
		agent_leave_thread(p, a, 0);
	if (a->reaped == 1)
		agent_free(p, a);
	sched_waitq_run(p);
}

/* agents_reap - collect exited children */
void agents_reap(agent_pool *p)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		agent *a;
		for (a = p->agents; a; a = a->next)
			if (a->pid == pid)
				break;
		if (WIFSIGNALED(st))
			zlog_warn(NULL, "agent pid %ld killed by signal %d", (long)pid, WTERMSIG(st));
		else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
			zlog((WEXITSTATUS(st) == EX_SOFTWARE) ? ZLOG_ERROR : ZLOG_WARN, NULL,
			     "agent pid %ld exited with %s", (long)pid, zsysexit_name(WEXITSTATUS(st)));
		if (a == NULL)
			continue;
		a->status = st;
		if (a->state == AS_GONE) {
			agent_free(p, a);
			continue;
		}
		/* read whatever it wrote last, then it is gone (EOF may never
		 * come when a grandchild holds the socket); reaped == 2 keeps
		 * agent_gone from freeing it and agent_kill from signalling */
		a->reaped = 2;
		agent_io(p->loop, a->fd, ZEV_READ, a);
		if (a->state != AS_GONE)
			agent_gone(p, a, "exited");
		agent_free(p, a);
	}
}

/* agents_tick - periodic health checks */
void agents_tick(agent_pool *p, time_t now)
{
	long silence = p->cfg->max_ta_silence > 0 ? p->cfg->max_ta_silence : 600;
	agent *a = p->agents, *nx;
	for (; a; a = nx) {
		nx = a->next;
		if (a->state == AS_GONE)
			continue;
		if ((a->owe >= 0 || a->out || a->state == AS_LARVA) && now - a->last_io > silence) {
			agent_kill(p, a, "silent too long");
			continue;
		}
		if (a->state == AS_IDLE) {
			long idlemax = a->clause->idlemax > 0 ? a->clause->idlemax : 3 * a->clause->interval;
			if (now - a->idle_since >= idlemax || p->stopping)
				agent_end(p, a);
			continue;
		}
		if (a->state == AS_ENDING && now - a->last_io > silence)
			agent_kill(p, a, "does not exit");
	}
	if (p->nwait)
		sched_waitq_run(p);
}

/* agents_stop - shutdown */
void agents_stop(agent_pool *p, int fast)
{
	for (agent *a = p->agents; a; a = a->next) {
		if (a->state == AS_GONE)
			continue;
		if (fast) {
			if (a->fd >= 0)
				shutdown(a->fd, SHUT_WR);
		} else {
			if (a->fd >= 0) {
				(void)!write(a->fd, "\n\n", 2);
				shutdown(a->fd, SHUT_WR);
			}
			if (a->state == AS_IDLE)
				idle_remove(p, a);
			a->state = AS_ENDING;
		}
	}
}

/* agents_end_idle - end every parked agent */
void agents_end_idle(agent_pool *p)
{
	for (agent *a = p->agents; a; a = a->next)
		if (a->state == AS_IDLE)
			agent_end(p, a);
}

/* turnme - ETRN for host */
int turnme(agent_pool *p, const char *host)
{
	char h[256];
	size_t i;
	for (i = 0; host[i] && host[i] != ' ' && host[i] != '\t' && i + 1 < sizeof h; i++)
		h[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] + 32) : host[i];
	h[i] = '\0';
	sym *hs = model_sym_find(p->m, h);
	if (hs == NULL)
		return 0;
	int any = 0;
	thread *t = p->m->threads, *nx;
	for (; t; t = nx) {
		nx = t->all_next;
		if (t->host == hs) {
			zlog_info(NULL, "ETRN: starting thread %s/%s", t->channel->s, t->host->s);
			if (thread_try_start(p, t, 1) || t->nagents)
				any = 1;
		}
	}
	return any;
}
