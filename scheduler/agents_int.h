/*
 * agents_int.h - what the agent pool's three modules share and nobody
 * else may use: agents.c (pool, thread starts, rescheduling, reaping),
 * agent_spawn.c (socketpair, fork, privilege drop, execve) and
 * agent_io.c (feeding job lines, reading reports, faults).
 */
#ifndef ZMTA_SCHED_AGENTS_INT_H
#define ZMTA_SCHED_AGENTS_INT_H
#include "agents.h"

/* prefix of the comment line a child writes when it cannot become the
 * agent (privilege drop or execve failed) */
#define AGENT_STARTFAIL "cannot start agent: "

#define AGENT_BAD_MAX 50          /* malformed lines before the agent is killed */
/* comment lines ("# ...", an agent's own log lines) an agent may write per
 * report without counting against PARAMmax-ta-comments (the smtp agent logs
 * one line per recipient; a fast one writes thousands a second) */
#define AGENT_COMMENTS_PER_REPORT 4

/* agents.c */
/* thread_wants_agent - does t need (another) agent right now? */
int thread_wants_agent(const thread *t);
/* agent_attach - bind a to t and start feeding */
void agent_attach(agent_pool *p, agent *a, thread *t);
/* idle_remove - take a out of its ring's idle pool */
void idle_remove(agent_pool *p, agent *a);
/* agent_end - tell a to exit (empty line) */
void agent_end(agent_pool *p, agent *a);

/* agent_spawn.c */
/* agent_spawn - a new agent for t (NULL with t->why set when it fails) */
agent *agent_spawn(agent_pool *p, thread *t);

/* agent_io.c */
/* agent_io - the agent's socket is readable (or closed) */
void agent_io(zev_loop *loop, int fd, unsigned events, void *arg);
/* agent_send - write whole lines with one write(2), or fail */
int agent_send(agent *a, const char *p, size_t n);
/* agent_kill - SIGKILL a and log why */
void agent_kill(agent_pool *p, agent *a, const char *why);
/* agent_feed - write the next job lines (or #idle / a thread switch) */
void agent_feed(agent_pool *p, agent *a);
/* agent_gone - the agent's socket failed or it broke the protocol:
 * settle its jobs, reschedule its thread */
void agent_gone(agent_pool *p, agent *a, const char *why);
/* agent_free - release a reaped agent whose socket is closed */
void agent_free(agent_pool *p, agent *a);

#endif
