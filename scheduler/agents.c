/*
 * NAME
 *	agents.c - the agent pool: thread starts, limits, the waiting queue,
 *	rescheduling, the idle pools, reaping
 * SUMMARY
 *	Every agent runs on one end of an AF_UNIX stream socketpair that is
 *	its stdin, stdout and stderr (agent_spawn.c starts it; agent_io.c
 *	feeds it job lines and reads its reports).  This module decides when
 *	a thread gets an agent, which one, and what happens to the thread
 *	when its agents leave it.
 * SYNOPSIS
 *	pool_init, pool_free, pool_vertex_left, vertex_release, sched_now,
 *	thread_arm, thread_try_start, thread_reschedule,
 *	thread_drop_if_empty, thread_settled, sched_waitq_run, agents_tick,
 *	agents_reap, agents_stop, agents_end_idle, turnme
 * DESCRIPTION
 *	Everything works on an agent_pool the daemon owns and passes in
 *	(agents carry it for their socket callbacks, threads for their
 *	timers).  Completion (complete.h) calls back only through the
 *	vertex_left hook pool_init installs (pool_vertex_left), so the two
 *	modules do not include each other.
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
 *	Once a second agents_tick kills agents silent past
 *	PARAMmax-ta-silence with work outstanding and ends idle agents past
 *	idlemax; agents_reap collects exited children.
 * DIAGNOSTICS
 *	One log line per event with the spool id where there is one.
 * SECURITY
 *	A retryat hint is honoured but bounded by PARAMretryat-max and the
 *	messages' expiry (retry_hint_bound).  A host from ETRN (turnme) is
 *	only matched against known threads.
 * BUGS
 *	The waiting queue is a plain FIFO: a thread blocked by its own
 *	clause's limit keeps its place.
 * SEE ALSO
 *	scheduler(8), zmta-ta(7), agent_spawn.c, agent_io.c, model.c, complete.c
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agents_int.h"
#include "complete.h"
#include "scan.h"
#include "spool.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"


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
int thread_wants_agent(const thread *t)
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
void agent_attach(agent_pool *p, agent *a, thread *t)
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
void idle_remove(agent_pool *p, agent *a)
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
void agent_end(agent_pool *p, agent *a)
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

