/*
 * agents.h - the agent pool: transport agents (start, reuse, feed,
 * reports, death) and thread scheduling.
 */
#ifndef ZMTA_SCHED_AGENTS_H
#define ZMTA_SCHED_AGENTS_H
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "complete.h"
#include "model.h"
#include "retry.h"
#include "sconf.h"
#include "stats.h"
#include "taproto.h"
#include "zevent.h"
#include "zline.h"

enum agent_state {
	AS_LARVA = 0,    /* started, waiting for its first #hungry */
	AS_STUFFING,     /* being fed from its thread */
	AS_FINISHING,    /* no more jobs for it in this thread */
	AS_IDLING,       /* "#idle" sent, waiting for its #hungry */
	AS_IDLE,         /* parked in its ring's idle pool */
	AS_ENDING,       /* told to exit */
	AS_GONE          /* fd closed, waiting to be reaped */
};

typedef struct agent {
	struct agent *next, *prev;     /* all agents */
	struct agent_pool *pool;       /* the pool it belongs to */
	struct agent *idle_next;       /* ring idle pool */
	pid_t pid;
	int fd;
	zline in;
	thread *thr;                   /* current thread or NULL */
	ring *ring;
	const sconf_clause *clause;
	sym *channel, *host;           /* host it last served */
	enum agent_state state;
	int owe;                       /* lines written - #hungry received */
	vertex *out;                   /* fed vertices with unreported recipients */
	time_t started, last_io, idle_since, last_feed, last_hungry;
	unsigned long jobs, reports;
	unsigned bad;                  /* garbage lines */
	unsigned burst;                /* comment lines in this second */
	unsigned burst_reports;        /* reports in this second */
	time_t burst_sec;
	int reaped, status;
	int retry_stop;                /* retryat/deferall seen in this thread */
	char startfail[256];           /* "# cannot start agent: ..." before #hungry */
} agent;

/* agent_pool - the agents and the threads waiting for one; owned by
 * the daemon, given to every call */
typedef struct agent_pool {
	model *m;
	const sconf *cfg;              /* current configuration (reload swaps it) */
	zev_loop *loop;
	complete_ctx *cc;              /* where reports and settled jobs go */
	sched_stats *st;
	const char *mailbin;
	int freeze;
	int scanning;                  /* -S: no starts during the first scan */
	int stopping;
	agent *agents;
	unsigned nagents, nidle;
	unsigned maxkids;              /* fd-derived global cap */
	int fork_rate;
	time_t fork_sec;
	int forks_in_sec;
	retry_rng rng;
	/* threads waiting for an agent (limits), FIFO, no duplicates */
	thread **waitq; size_t nwait, waitcap;
	/* scheduler started as root: agents without user= run as this user
	 * (ZMTA_USER); NULL when the scheduler is not root */
	const char *agent_user;
} agent_pool;

/* pool_init - an empty pool working on cc's model and counters */
void pool_init(agent_pool *p, complete_ctx *cc, zev_loop *loop);
/* pool_free - release the wait queue (agents must be gone) */
void pool_free(agent_pool *p);

/* sched_now - wall clock seconds */
time_t sched_now(void);

/* thread_arm - (re)arm the thread's wakeup timer from t->rs.wakeup */
void thread_arm(agent_pool *p, thread *t);
/* thread_try_start - give t an agent if it is due (etrn: even queueonly
 * and even in retry wait); 1 if something was started or fed */
int thread_try_start(agent_pool *p, thread *t, int etrn);
/* thread_reschedule - the last agent left t: next retry, expiry checks */
void thread_reschedule(agent_pool *p, thread *t, time_t hint);
/* thread_drop_if_empty - delete t when it holds nothing */
void thread_drop_if_empty(agent_pool *p, thread *t);
/* thread_settled - a job of t was answered or removed: delete t when it
 * holds nothing, close a round that ended in flight once nothing is */
void thread_settled(agent_pool *p, thread *t);
/* sched_waitq_run - try threads waiting for an agent */
void sched_waitq_run(agent_pool *p);
/* agents_tick - once a second: silence timeouts, idle lifetime, fork rate */
void agents_tick(agent_pool *p, time_t now);
/* agents_reap - waitpid loop after SIGCHLD */
void agents_reap(agent_pool *p);
/* agents_stop - TERM (fast=1: shut input) / QUIT (slow: "\n\n" and wait) */
void agents_stop(agent_pool *p, int fast);
/* pool_vertex_left - complete_hooks.vertex_left: v left thread t (arg is
 * the pool) */
void pool_vertex_left(void *arg, vertex *v, thread *t);
/* vertex_release - v has no recipient in flight: leave the agent */
void vertex_release(vertex *v);
/* agents_end_idle - end every idle agent (config reload) */
void agents_end_idle(agent_pool *p);
/* turnme - ETRN: start every thread whose host is host; 1 if any */
int turnme(agent_pool *p, const char *host);

#endif
