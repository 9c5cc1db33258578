/*
 * agents.h - the scheduler daemon's global state, transport agents
 * (start, reuse, feed, reports, death) and thread scheduling.
 */
#ifndef ZMTA_SCHED_AGENTS_H
#define ZMTA_SCHED_AGENTS_H
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "model.h"
#include "retry.h"
#include "sconf.h"
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
	time_t burst_sec;
	int reaped, status;
	int retry_stop;                /* retryat/deferall seen in this thread */
	char startfail[256];           /* "# cannot start agent: ..." before #hungry */
} agent;

typedef struct wait_ent {
	struct wait_ent *next;
	thread *t;
} wait_ent;

typedef struct sched {
	model m;
	sconf *cfg;
	zev_loop *loop;
	char postoffice[4096];
	const char *mailbin;
	char hostname[256];
	int hashlevels;
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
	time_t started;
	int statfd;                    /* -l statistics log, -1 none */
	/* threads waiting for an agent (limits), FIFO, no duplicates */
	thread **waitq; size_t nwait, waitcap;
	/* counters (SHOW COUNTERS) */
	unsigned long c_forks, c_delivered, c_failed, c_deferred, c_expired,
		c_reports, c_dsn, c_quarantined;
	/* scheduler started as root: agents without user= run as this user
	 * (ZMTA_USER); NULL when the scheduler is not root */
	const char *agent_user;
} sched;

extern sched S;

/* sched_now - wall clock seconds */
time_t sched_now(void);

/* thread_arm - (re)arm the thread's wakeup timer from t->rs.wakeup */
void thread_arm(thread *t);
/* thread_try_start - give t an agent if it is due (etrn: even queueonly
 * and even in retry wait); 1 if something was started or fed */
int thread_try_start(thread *t, int etrn);
/* thread_reschedule - the last agent left t: next retry, expiry checks */
void thread_reschedule(thread *t, time_t hint);
/* thread_drop_if_empty - delete t when it holds nothing */
void thread_drop_if_empty(thread *t);
/* thread_settled - a job of t was answered or removed: delete t when it
 * holds nothing, close a round that ended in flight once nothing is */
void thread_settled(thread *t);
/* sched_waitq_run - try threads waiting for an agent */
void sched_waitq_run(void);
/* agents_tick - once a second: silence timeouts, idle lifetime, fork rate */
void agents_tick(time_t now);
/* agents_reap - waitpid loop after SIGCHLD */
void agents_reap(void);
/* agents_stop - TERM (fast=1: shut input) / QUIT (slow: "\n\n" and wait) */
void agents_stop(int fast);
/* agents_end_idle - end every idle agent (config reload) */
void agents_end_idle(void);
/* turnme - ETRN: start every thread whose host is host; 1 if any */
int turnme(const char *host);

#endif
