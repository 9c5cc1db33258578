/*
 * NAME
 *	agent_io.c - talking to running agents: feeding job lines, reading
 *	reports, faults
 * SUMMARY
 *	The scheduler writes job lines "<relpath>[\t<host>]", "#idle" and ""
 *	(exit) and reads "#hungry", report lines and "# comments" with the
 *	shared codec (taproto.h).
 * SYNOPSIS
 *	agent_io, agent_send, agent_kill, agent_feed, agent_gone, agent_free
 *	(internal: agents_int.h)
 * DESCRIPTION
 *	Reports go to the completion module (complete.h) through the pool's
 *	complete_ctx.
 *	Feeding: "owe" = lines written minus "#hungry" received; an agent
 *	that said "#hungry" for everything it got has owe == -1.  A job is
 *	written while owe < overfeed; the job lines of one feed round are
 *	collected and written with one write(2).  An agent may ask for the
 *	next job before it reports the previous one, so fed recipients stay
 *	"in flight" on the agent until they are reported or the agent is
 *	gone (or silent with them for PARAMmax-ta-silence); only then are
 *	they settled: looked up in the file (never counted delivered unless
 *	the file says so) and deferred.  When the thread has nothing left,
 *	the agent switches to a waiting thread of its ring, or gets "#idle"
 *	and is parked in the ring's idle pool until idlemax.
 *	Faults: EOF, a read/write error, exit, a signal, over-long or
 *	malformed lines beyond a budget, or a flood of comment lines: the
 *	agent is killed (SIGKILL) if needed, its unreported recipients are
 *	settled as above and its thread is rescheduled.
 * DIAGNOSTICS
 *	One log line per event with the spool id where there is one.
 * SECURITY
 *	Agent output is untrusted: lines are capped (TAPROTO_LINE_MAX),
 *	parsed by the strict codec, a report is only accepted for a recipient
 *	that was fed to that very agent.  A host reaches a job line only
 *	after sched_host_check.
 * BUGS
 *	deferback is treated like deferred (no tail move).
 * SEE ALSO
 *	scheduler(8), zmta-ta(7), taproto.h, agents.c, complete.c
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

/* agent_send - write a batch of whole lines with one write(2) or fail
 * (the lines are already counted in a->owe) */
int agent_send(agent *a, const char *p, size_t n)
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
	int rc = agent_send(a, p, n);
	if (rc == Z_OK)
		a->owe++;
	return rc;
}

/* agent_kill - forcibly end an agent and settle its work */
void agent_kill(agent_pool *p, agent *a, const char *why)
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
void agent_feed(agent_pool *p, agent *a)
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
			/* the thread's channel and host are the same for every job
			 * line of this round: check them once, not per message */
			int host_ok = (t->clause->flags & SCF_WITHHOST) ||
				      (t->pending.n > 0 && a->owe < overfeed &&
				       sched_host_check(zspan_from(t->channel->s), zspan_from(t->host->s), NULL) == Z_OK);
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
				if (n < 0 || (size_t)n >= sizeof line || !host_ok) {
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

/* burst_tick - start a new second of the flood count when now moved on */
static void burst_tick(agent *a, time_t now)
{
	if (a->burst_sec != now) {
		a->burst_sec = now;
		a->burst = 0;
		a->burst_reports = 0;
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
		burst_tick(a, now);
		a->burst_reports++;
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
		 * lines on stderr) are logged; only a flood gets it killed: a
		 * second's lines beyond AGENT_COMMENTS_PER_REPORT per report of
		 * that second are the flood (a fast agent's log line per
		 * recipient is not: killing it would deliver its messages in
		 * flight twice) */
		burst_tick(a, now);
		a->burst++;
		unsigned long earned = (unsigned long)a->burst_reports * AGENT_COMMENTS_PER_REPORT;
		unsigned long unearned = a->burst > earned ? a->burst - earned : 0;
		long cap = p->cfg->max_ta_comments > 0 ? p->cfg->max_ta_comments : 2000;
		if (unearned > (unsigned long)cap) {
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
		if (unearned <= 50) {
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
void agent_io(zev_loop *loop, int fd, unsigned events, void *arg)
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
void agent_free(agent_pool *p, agent *a)
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
void agent_gone(agent_pool *p, agent *a, const char *why)
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

