/*
 * model.h - the scheduler's in-memory model of transport/ (scheduler(8)).
 *
 *   sfile    one per control file: inode, hash prefix, arrival, vertices
 *   vertex   the recipients of one file sharing (channel, host); holds
 *            small per-recipient records (offset, state, attempts, NOTIFY)
 *   thread   vertices with the same (clause, channel, host); retry state,
 *            one zevent timer for its wakeup, a pending and a done list
 *   ring     threads with the same (clause, channel[, host if with-host]);
 *            idle agents are parked per ring
 *   sym      interned channel/host strings (one copy each), with a count
 *            of running agents per string (maxchannel)
 *
 * Nothing here does I/O except model_add_file (reads one control file).
 */
#ifndef ZMTA_SCHED_MODEL_H
#define ZMTA_SCHED_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "retry.h"
#include "sconf.h"
#include "zbuf.h"

struct agent;

typedef struct sym {
	struct sym *next;        /* hash chain */
	unsigned kids;           /* running agents on this channel */
	char s[];
} sym;

/* recipient state */
enum { RS_PENDING = 0, RS_FED, RS_DONE };
/* recipient flags: NOTIFY bits */
#define RF_SUCCESS 0x01u
#define RF_FAILURE 0x02u
#define RF_DELAY   0x04u
#define RF_NEVER   0x08u
#define RF_NOTIFY_SET 0x10u
#define RF_WARNED  0x20u         /* delay warning sent */

typedef struct srcpt {
	uint32_t off;            /* offset of the 'r' line */
	uint16_t attempts;       /* persisted in the DELAY slot */
	uint8_t state;           /* RS_* */
	uint8_t flags;           /* RF_* */
} srcpt;

struct sfile;
struct thread;

typedef struct vertex {
	struct sfile *file;
	struct thread *thr;
	struct vertex *tnext, *tprev;  /* in thr->pending or thr->done */
	struct vertex *fnext;          /* next vertex of the same file */
	struct agent *agent;           /* fed to this agent, or NULL */
	struct vertex *anext;          /* next in agent's outstanding list */
	char *lastdiag;                /* last deferral text (malloc) or NULL */
	time_t lastfeed;
	uint16_t attempts;             /* reports received for this vertex */
	uint8_t onlist;                /* 0 none, 1 pending, 2 done */
	uint8_t warned;
	uint32_t nrcpt, npending;
	srcpt r[];
} vertex;

typedef struct sfile {
	struct sfile *hnext;           /* ino hash chain */
	unsigned long ino;
	time_t arrival;                /* queue file mtime */
	time_t ctime;                  /* control file ctime (stat log) */
	vertex *vertices;
	uint32_t npending;             /* recipients not final */
	uint32_t nrcpt;
	char prefix[6];                /* "", "K/" or "E/K/" */
	char *strs;                    /* for mailq: sender NUL, then each
					* recipient's address NUL, in the order of
					* vertices and their r[]; NULL = not known */
	size_t strslen;
	size_t size;                   /* control file size (mailq) */
	uint8_t dead;                  /* killed / completed: ignore reports */
	uint8_t haderror;
	uint8_t quick;                 /* nothing to report so far: no unreported
					* 'd' line at the scan, every report since
					* "ok3"; completion need not read the file */
	uint32_t nfail0;               /* recipients already failed at the scan */
} sfile;

typedef struct vlist {
	vertex *head, *tail;
	unsigned long n;
} vlist;

typedef struct ring {
	struct ring *next;             /* hash chain */
	struct ring *all_next;         /* list of all rings */
	const sconf_clause *clause;
	sym *channel;
	sym *host;                     /* only for with-host rings */
	struct agent *idle;            /* parked idle agents */
	unsigned nagents;
	unsigned nthreads;
} ring;

typedef struct thread {
	struct thread *next;           /* hash chain */
	struct thread *all_next, *all_prev;
	const sconf_clause *clause;
	sym *channel, *host;
	ring *ring;
	vlist pending, done;
	retry_state rs;
	uint64_t timer;                /* zevent timer id, 0 none */
	void *owner;                   /* who armed the timer (the agent pool) */
	time_t timer_at;
	unsigned nagents;
	unsigned long nrcpt;           /* recipients not final in the thread */
	const char *why;               /* reason it is not running, static text */
	int kicked;                    /* ETRN: start even if queueonly */
	time_t hint;                   /* latest retryat hint of this round */
	int deferred;                  /* a recipient was deferred in this round */
	int flying;                    /* round ended with jobs in flight: it
					* closes when they are answered */
	int busy;                      /* being walked: do not delete */
} thread;

typedef struct model {
	sym **symtab; size_t nsym, symcap;
	sfile **ftab; size_t nfile, fcap;
	thread **ttab; size_t nthr, tcap;
	thread *threads;               /* all threads */
	ring **rtab; size_t nring, rcap;
	ring *rings;
	unsigned long nrcpt;           /* non-final recipients */
	unsigned long nvertex;
} model;

void model_init(model *m);
void model_free(model *m);

/* model_sym - intern s (length n) */
sym *model_sym(model *m, const char *s, size_t n);
/* model_sym_find - NULL if s was never interned */
sym *model_sym_find(model *m, const char *s);

/* model_file_find / model_file_add / model_file_remove - ino table */
sfile *model_file_find(model *m, unsigned long ino);
sfile *model_file_new(model *m, unsigned long ino, const char *prefix);
void model_file_remove(model *m, sfile *f);

/* model_thread_get - find or create the thread for (clause, channel, host) */
thread *model_thread_get(model *m, const sconf_clause *c, sym *channel, sym *host, time_t now);
/* model_thread_lookup - the thread of exactly (clause, channel, host), or
 * NULL; never creates one */
thread *model_thread_lookup(model *m, const sconf_clause *c, const sym *channel, const sym *host);
/* model_thread_find - lookup by channel/host strings (any clause) */
thread *model_thread_find(model *m, const char *channel, const char *host);
/* model_thread_delete - unlink a thread that has no vertices and no agents */
void model_thread_delete(model *m, thread *t);
/* model_ring_get - ring for a thread's clause/channel(/host) */
ring *model_ring_get(model *m, const sconf_clause *c, sym *channel, sym *host);

/* vertex list operations */
void vlist_push(vlist *l, vertex *v, int which);
/* vlist_push_front - prepend */
void vlist_push_front(vlist *l, vertex *v, int which);
void vlist_remove(vlist *l, vertex *v);
vertex *vlist_pop(vlist *l);
/* thread_add_vertex - link v into t's pending list */
void thread_add_vertex(thread *t, vertex *v);
/* thread_unlink_vertex - remove v from whichever list of its thread */
void thread_unlink_vertex(vertex *v);
/* thread_new_round - move the done list back to pending (next attempt) */
void thread_new_round(thread *t);

/* vertex_new - nrcpt records, zeroed */
vertex *vertex_new(uint32_t nrcpt);
/* vertex_find_rcpt - recipient record with offset off in file f */
srcpt *vertex_find_rcpt(sfile *f, uint32_t off, vertex **vout);

/* notify_bits - RF_* from an N-line NOTIFY value */
unsigned notify_bits(zspan notify);

/* file_relpath - "<prefix><ino>" relative to transport/ ("" when it
 * would not fit) */
void file_relpath(const sfile *f, char *buf, size_t bufsz);
/* file_spoolid - spool id for logs */
void file_spoolid(const sfile *f, char *buf, size_t bufsz);

#endif
