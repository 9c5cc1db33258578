/*
 * removal.h - removal of finished messages off the event loop
 * (scheduler(8)): control files first (durably), then their bodies, in
 * batches, by a worker thread once removal_start has run.
 */
#ifndef ZMTA_SCHED_REMOVAL_H
#define ZMTA_SCHED_REMOVAL_H
#include <pthread.h>
#include <stddef.h>
#include "zevent.h"

#define REMOVAL_MAX 4096          /* messages per batch (it grows while the worker is busy) */
#define REMOVAL_PACE_MS 20        /* at most one worker batch per this many ms */

/* one finished message; state and the errnos are written by whoever
 * removes it (the worker, or the caller without a worker) */
typedef struct removal_ent {
	unsigned long ino;     /* the message's number */
	char ctl[32];          /* "<prefix><ino>" relative to transport/ */
	char body[96];         /* queue/ path relative to transport/ ("" = none) */
	char dir[8];           /* hash prefix of the control file */
	int ctl_err, body_err; /* errno of a failed unlink, 0 = fine */
	int state;             /* REM_* (atomic while the worker has it) */
} removal_ent;

enum { REM_QUEUED = 0, REM_CTL_GONE, REM_BODY_GONE };

/* a batch: entries and an open-addressing index of their numbers */
typedef struct removal_batch {
	removal_ent *e;
	size_t n, cap;         /* entries used, allocated */
	unsigned *idx;         /* entry index + 1, 0 = empty slot */
	size_t icap;           /* index slots (a power of two >= 2 * cap) */
} removal_batch;

typedef struct removal {
	removal_batch fill;    /* the loop adds here */
	removal_batch work;    /* the worker removes these */
	size_t max;            /* entries per batch: the first size, and the
				  flush point without a worker */
	long pace_ms;          /* REMOVAL_PACE_MS (tests change it) */
	int armed;             /* a flush timer is pending on loop */
	zev_loop *loop;        /* NULL: flush only when asked (tests, exit) */
	/* the worker (running == 1 once removal_start succeeded) */
	int running, efd;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go, done, quit;    /* under mu */
	int hurry;             /* under mu: removal_wait runs, no pause */
	unsigned long batches; /* handed to the worker (tests, bench) */
} removal;

/* removal_init - an empty batch of at most max (0: REMOVAL_MAX) entries;
 * with a loop, the first entry arms a zero-delay flush timer.  Until
 * removal_start runs, removals are done by the caller of removal_flush */
void removal_init(removal *rm, zev_loop *loop, size_t max);
/* removal_start - start the worker thread and watch its eventfd on loop;
 * Z_OK, or an error (logged) and removals stay in the caller */
int removal_start(removal *rm, zev_loop *loop);
/* removal_add - the message <prefix><ino> is finished: its control file
 * ctl (relative to transport/) and then its body qpath (NULL = none) are
 * to be removed; a full batch is handed to an idle worker, grows while
 * the worker is busy (the loop never waits for it unless memory runs
 * out) and is flushed here without a worker; works unbatched when there
 * is no memory at all */
void removal_add(removal *rm, unsigned long ino, const char *prefix, const char *ctl,
		 const char *qpath, const char *id);
/* removal_busy - is message ino still being removed (its control file may
 * still be there; its number is not free for a new message yet)? */
int removal_busy(const removal *rm, unsigned long ino);
/* removal_flush - hand the batch to the worker (or, without one, remove
 * the control files, sync their directories once, remove the bodies and
 * sync their directories once) */
void removal_flush(removal *rm);
/* removal_wait - the worker's batch and the current one are done */
void removal_wait(removal *rm);
/* removal_free - finish every removal, stop the worker, release */
void removal_free(removal *rm);

#endif
