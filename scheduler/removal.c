/*
 * NAME
 *	removal.c - removal of finished messages, in batches, off the event
 *	loop
 * SUMMARY
 *	The completion module hands each finished message here
 *	(removal_add); a worker thread removes them in batches: the control
 *	files, one fsync per transport/ directory that lost some, then the
 *	bodies (no fsync after them).  The event loop only fills
 *	the next batch and hands it over (removal_flush, from a zero-delay
 *	timer after the events that finished them).
 * SYNOPSIS
 *	removal_init, removal_start, removal_add, removal_busy,
 *	removal_flush, removal_wait, removal_free
 * DESCRIPTION
 *	Order, for every message: control file unlinked, its directory
 *	fsynced, then the body unlinked.  A crash before the control file's
 *	removal is durable leaves the message queued (its recipients are all
 *	final and its report flags are on disk: the next start completes it
 *	again, nothing is lost or reported twice); a crash after it leaves at
 *	most a body without a control file in queue/, which orphans_sweep()
 *	removes at the next start; never a control file without its body.
 *	The fsync of transport/ is that ordering barrier; queue/ is not
 *	synced after the bodies: a removed body that reappears after a
 *	crash has no control file (its removal was durable first) and is
 *	such an orphan.  The worker starts at most one batch per
 *	REMOVAL_PACE_MS (20 ms, rm->pace_ms), so under load a batch, and
 *	its fsyncs, covers the messages of 20 ms or more; its bodies are
 *	unlinked before the pause, so no number stays busy for it.
 *	A message is "busy" from removal_add until its body is gone: the
 *	scan skips a busy number (its control file may still be there: it
 *	must not be read as new), and once the body is gone the number is
 *	free at once, so that a new message reusing it (the router names a
 *	message after its body's inode) is scanned when it is announced,
 *	not at the next rescan.  The worker marks each entry with atomic
 *	stores; the loop reads them without waiting.
 *	Two batches: the loop fills one while the worker removes the other;
 *	a finished worker writes its eventfd, the loop logs what failed and
 *	hands over the next batch.  A full batch goes to an idle worker at
 *	once; while the worker is busy it grows instead (twice the room):
 *	the loop does not wait for a batch of unlinks on a slow disk (it
 *	did, and every agent stalled with it).  Only when it cannot grow
 *	(no memory) does the loop wait.  The worker's pause ends early when
 *	removal_wait runs (exit) or it is told to quit.
 *	Without removal_start (tests, -X) or when the thread cannot start,
 *	removal_flush does the same work itself; without memory for a batch
 *	each removal is done at once, in the same order.  Paths are relative
 *	to the current directory (the scheduler runs in transport/).
 * DIAGNOSTICS
 *	zlog_error for a control file or body that cannot be removed
 *	(ENOENT is not an error; a control file that stays is read again by
 *	the next scan and completed again) or a path too long for the batch
 *	(that message stays); zlog_warn for a failed directory fsync.  The
 *	worker never logs: the loop does, when it takes the batch back.
 * SECURITY
 *	Paths come from the completion module, built from the model's
 *	numeric names; nothing here reads outside input.  The worker calls
 *	only unlink, open, fsync, close and write (no allocation, no stdio),
 *	so a fork in the loop thread never inherits a lock it holds; all
 *	signals are blocked in it.
 * BUGS
 *	The current directory must not change while the worker runs.  One
 *	flush timer per loop iteration at most; entries added during a flush
 *	go into the next batch.
 * SEE ALSO
 *	scheduler(8), complete.c, orphans.c, scan.c, doc/reliability.md,
 *	tests/unit/check_removal.c
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "removal.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

/* removal_init - see removal.h */
void removal_init(removal *rm, zev_loop *loop, size_t max)
{
	memset(rm, 0, sizeof *rm);
	rm->loop = loop;
	rm->max = max ? max : REMOVAL_MAX;
	rm->pace_ms = REMOVAL_PACE_MS;
	rm->efd = -1;
}

/* slot - first index slot of ino in an index of icap slots */
static size_t slot(size_t icap, unsigned long ino)
{
	uint64_t x = ino;
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return (size_t)x & (icap - 1);
}

/* batch_find - the entry for ino in b, or NULL */
static const removal_ent *batch_find(const removal_batch *b, unsigned long ino)
{
	if (b->idx == NULL || b->n == 0)
		return NULL;
	for (size_t h = slot(b->icap, ino);; h = (h + 1) & (b->icap - 1)) {
		if (b->idx[h] == 0)
			return NULL;
		if (b->e[b->idx[h] - 1].ino == ino)
			return &b->e[b->idx[h] - 1];
	}
}

/* removal_busy - see removal.h */
int removal_busy(const removal *rm, unsigned long ino)
{
	if (batch_find(&rm->fill, ino) != NULL)
		return 1;
	const removal_ent *e = batch_find(&rm->work, ino);
	return e != NULL && __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != REM_BODY_GONE;
}

/* dir_sync - fsync transport/<prefix> (relative to transport/) */
static int dir_sync(const char *prefix)
{
	char dir[16];
	int k = snprintf(dir, sizeof dir, "./%s", prefix);
	if (k < 0 || (size_t)k >= sizeof dir)
		return ENAMETOOLONG;
	return zfsync_dir(dir) == Z_OK ? 0 : (errno ? errno : EIO);
}

/* run_batch - remove every message of b in the safe order; called by
 * the worker (or the loop without one): system calls only */
static void run_batch(removal_batch *b)
{
	char seen[64][8];
	size_t nseen = 0;

	/* 1. the control files */
	for (size_t i = 0; i < b->n; i++) {
		removal_ent *e = &b->e[i];
		if (e->ctl[0] == '\0') {
			e->ctl_err = ENAMETOOLONG;	/* never unlink "" as done */
			continue;
		}
		if (unlink(e->ctl) != 0 && errno != ENOENT) {
			e->ctl_err = errno;
			continue;
		}
		__atomic_store_n(&e->state, REM_CTL_GONE, __ATOMIC_RELEASE);
	}
	/* 2. their removal becomes durable: each directory once */
	for (size_t i = 0; i < b->n; i++) {
		removal_ent *e = &b->e[i];
		size_t j;
		if (e->ctl_err)
			continue;
		for (j = 0; j < nseen && strcmp(seen[j], e->dir) != 0; j++)
			;
		if (j < nseen)
			continue;
		if (nseen < sizeof seen / sizeof seen[0])
			memcpy(seen[nseen++], e->dir, sizeof seen[0]);
		/* (past 64 directories some are synced twice) */
		int r = dir_sync(e->dir);
		if (r != 0)
			e->body_err = -r;	/* negative: the directory sync failed */
	}
	/* 3. then the bodies; a number is free once its body is gone */
	for (size_t i = 0; i < b->n; i++) {
		removal_ent *e = &b->e[i];
		if (e->ctl_err)
			continue;
		if (e->body[0] != '\0' && unlink(e->body) != 0 && errno != ENOENT &&
		    e->body_err == 0)
			e->body_err = errno;
		__atomic_store_n(&e->state, REM_BODY_GONE, __ATOMIC_RELEASE);
	}
	/* no fsync of queue/ after the bodies: their removal needs no
	 * durability (a body that comes back after a crash has no control
	 * file, durably, and orphans_sweep removes it at the next start) */
}

/* reap - log what failed in b and empty it (the worker is not on it) */
static void reap(removal_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const removal_ent *e = &b->e[i];
		if (e->ctl_err)
			zlog_error(NULL, "cannot remove control file %s: %s (completed again at a later scan)",
				   e->ctl, strerror(e->ctl_err));
		else if (e->body_err > 0)
			zlog_error(NULL, "cannot remove body %s: %s", e->body, strerror(e->body_err));
		else if (e->body_err < 0)
			zlog_warn(NULL, "fsync of a directory after removing %s: %s", e->ctl,
				  strerror(-e->body_err));
	}
	if (b->n > 0 && b->idx != NULL)
		memset(b->idx, 0, b->icap * sizeof *b->idx);
	b->n = 0;
}

/* worker - the removal thread: one batch per "go" */
static void *worker(void *arg)
{
	removal *rm = arg;

	pthread_mutex_lock(&rm->mu);
	for (;;) {
		while (!rm->go && !rm->quit)
			pthread_cond_wait(&rm->cv, &rm->mu);
		if (!rm->go)
			break;
		pthread_mutex_unlock(&rm->mu);
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		run_batch(&rm->work);
		/* pacing: at most one batch (one fsync per transport/
		 * directory) per pace_ms; meanwhile the loop fills the next
		 * batch.  Bodies are gone already: no number waits.  The
		 * pause ends early when the worker is told to quit or when
		 * removal_wait wants everything done (exit) */
		long long end = (t0.tv_sec * 1000000000LL + t0.tv_nsec) + rm->pace_ms * 1000000LL;
		struct timespec until = { (time_t)(end / 1000000000LL), (long)(end % 1000000000LL) };
		pthread_mutex_lock(&rm->mu);
		while (!rm->quit && !rm->hurry &&
		       pthread_cond_timedwait(&rm->cv, &rm->mu, &until) != ETIMEDOUT)
			;
		rm->go = 0;
		rm->done = 1;
		pthread_cond_broadcast(&rm->cv);
		uint64_t one = 1;
		(void)!write(rm->efd, &one, sizeof one);
	}
	pthread_mutex_unlock(&rm->mu);
	return NULL;
}

/* take_back - when the worker is idle, reap its finished batch; 1 idle */
static int take_back(removal *rm)
{
	pthread_mutex_lock(&rm->mu);
	int idle = !rm->go, done = rm->done;
	if (idle)
		rm->done = 0;
	pthread_mutex_unlock(&rm->mu);
	if (idle && done)
		reap(&rm->work);
	return idle;
}

/* hand_over - give the fill batch to the idle worker */
static void hand_over(removal *rm)
{
	removal_batch t = rm->work;
	rm->work = rm->fill;
	rm->fill = t;
	pthread_mutex_lock(&rm->mu);
	rm->go = 1;
	rm->batches++;
	pthread_cond_broadcast(&rm->cv);
	pthread_mutex_unlock(&rm->mu);
}

/* efd_io - the worker finished a batch */
static void efd_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	removal *rm = arg;
	uint64_t v;
	(void)loop; (void)events;
	(void)!read(fd, &v, sizeof v);
	if (take_back(rm) && rm->fill.n > 0)
		hand_over(rm);
}

/* removal_start - see removal.h */
int removal_start(removal *rm, zev_loop *loop)
{
	sigset_t all, old;
	int rc;

	if (rm->running)
		return Z_OK;
	rm->loop = loop;
	rm->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rm->efd < 0) {
		zlog_warn(NULL, "removal worker: eventfd: %s (removing in the event loop)",
			  strerror(errno));
		return Z_EIO;
	}
	pthread_condattr_t ca;
	pthread_mutex_init(&rm->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* the worker's pause */
	pthread_cond_init(&rm->cv, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&rm->tid, NULL, worker, rm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0 || zev_io_add(loop, rm->efd, ZEV_READ, efd_io, rm) != 0) {
		if (rc == 0) {
			pthread_mutex_lock(&rm->mu);
			rm->quit = 1;
			pthread_cond_broadcast(&rm->cv);
			pthread_mutex_unlock(&rm->mu);
			pthread_join(rm->tid, NULL);
		}
		zlog_warn(NULL, "removal worker: cannot start (%s): removing in the event loop",
			  rc ? strerror(rc) : "event loop");
		pthread_cond_destroy(&rm->cv);
		pthread_mutex_destroy(&rm->mu);
		close(rm->efd);
		rm->efd = -1;
		return Z_EIO;
	}
	rm->running = 1;
	return Z_OK;
}

/* removal_timer - the zero-delay flush after the events of one round */
static void removal_timer(zev_loop *loop, void *arg)
{
	removal *rm = arg;
	(void)loop;
	rm->armed = 0;
	removal_flush(rm);
}

/* index_cap - index slots for cap entries: a power of two >= 2 * cap */
static size_t index_cap(size_t cap)
{
	size_t icap = 16;
	while (icap < 2 * cap)
		icap *= 2;
	return icap;
}

/* batch_alloc - entries and index for one batch of rm->max; 0 or -1 */
static int batch_alloc(removal *rm, removal_batch *b)
{
	b->cap = rm->max;
	b->icap = index_cap(b->cap);
	b->e = calloc(b->cap, sizeof *b->e);
	b->idx = calloc(b->icap, sizeof *b->idx);
	if (b->e == NULL || b->idx == NULL) {
		free(b->e);
		free(b->idx);
		b->e = NULL;
		b->idx = NULL;
		return -1;
	}
	return 0;
}

/* batch_grow - twice the room for the fill batch b (the worker never
 * sees it while it grows); 0, or -1 with b unchanged */
static int batch_grow(removal_batch *b)
{
	size_t ncap = b->cap * 2, nicap = index_cap(ncap);
	unsigned *nidx = calloc(nicap, sizeof *nidx);
	if (nidx == NULL || ncap > (size_t)UINT32_MAX)
		goto fail;
	removal_ent *ne = realloc(b->e, ncap * sizeof *ne);
	if (ne == NULL)
		goto fail;
	b->e = ne;
	for (size_t i = 0; i < b->n; i++) {
		size_t h = slot(nicap, ne[i].ino);
		while (nidx[h] != 0)
			h = (h + 1) & (nicap - 1);
		nidx[h] = (unsigned)i + 1;
	}
	free(b->idx);
	b->idx = nidx;
	b->cap = ncap;
	b->icap = nicap;
	return 0;
fail:
	free(nidx);
	return -1;
}

/* remove_now - no batch: the same order, for one message, right here */
static void remove_now(const char *prefix, const char *ctl, const char *qpath, const char *id)
{
	if (unlink(ctl) != 0 && errno != ENOENT) {
		zlog_error(id, "cannot remove control file %s: %s", ctl, strerror(errno));
		return;
	}
	int r = dir_sync(prefix);
	if (r != 0)
		zlog_warn(id, "fsync of directory ./%s: %s", prefix, strerror(r));
	if (qpath != NULL && unlink(qpath) != 0 && errno != ENOENT)
		zlog_error(id, "cannot remove body %s: %s", qpath, strerror(errno));
}

/* removal_add - see removal.h */
void removal_add(removal *rm, unsigned long ino, const char *prefix, const char *ctl,
		 const char *qpath, const char *id)
{
	if (rm->fill.e == NULL &&
	    (batch_alloc(rm, &rm->fill) != 0 || batch_alloc(rm, &rm->work) != 0)) {
		free(rm->fill.e);
		free(rm->fill.idx);
		rm->fill.e = NULL;
		rm->fill.idx = NULL;
	}
	if (rm->fill.e == NULL) {
		remove_now(prefix, ctl, qpath, id);
		return;
	}
	if (rm->fill.n == rm->fill.cap) {
		/* full: an idle worker takes it; a busy one is not waited
		 * for, the batch grows (the loop must not stall on a slow
		 * disk); only without memory does the loop wait */
		if (rm->running && !take_back(rm) && batch_grow(&rm->fill) != 0) {
			pthread_mutex_lock(&rm->mu);
			while (rm->go)
				pthread_cond_wait(&rm->cv, &rm->mu);
			pthread_mutex_unlock(&rm->mu);
			(void)take_back(rm);
		}
		if (rm->fill.n == rm->fill.cap) {
			if (rm->running)
				hand_over(rm);
			else
				removal_flush(rm);
		}
	}
	removal_ent *e = &rm->fill.e[rm->fill.n];
	memset(e, 0, sizeof *e);
	e->ino = ino;
	if (zstrlcpy(e->ctl, ctl, sizeof e->ctl) != Z_OK ||
	    zstrlcpy(e->body, qpath ? qpath : "", sizeof e->body) != Z_OK ||
	    zstrlcpy(e->dir, prefix, sizeof e->dir) != Z_OK) {
		zlog_error(id, "path too long for the removal batch: %s, %s (message stays)", ctl,
			   qpath ? qpath : "");
		return;
	}
	size_t h = slot(rm->fill.icap, ino);
	while (rm->fill.idx[h] != 0)
		h = (h + 1) & (rm->fill.icap - 1);
	rm->fill.idx[h] = (unsigned)rm->fill.n + 1;
	rm->fill.n++;
	if (!rm->armed && rm->loop != NULL &&
	    zev_timer_add(rm->loop, zmono_ms(), removal_timer, rm) != 0)
		rm->armed = 1;
}

/* removal_flush - see removal.h */
void removal_flush(removal *rm)
{
	if (rm->fill.n == 0)
		return;
	if (!rm->running) {
		run_batch(&rm->fill);
		reap(&rm->fill);
		return;
	}
	/* a busy worker writes its eventfd when done: efd_io hands over */
	if (take_back(rm))
		hand_over(rm);
}

/* removal_wait - see removal.h */
void removal_wait(removal *rm)
{
	if (!rm->running) {
		removal_flush(rm);
		return;
	}
	pthread_mutex_lock(&rm->mu);
	rm->hurry = 1;             /* no pause between the batches now */
	pthread_cond_broadcast(&rm->cv);
	pthread_mutex_unlock(&rm->mu);
	for (;;) {
		pthread_mutex_lock(&rm->mu);
		while (rm->go)
			pthread_cond_wait(&rm->cv, &rm->mu);
		pthread_mutex_unlock(&rm->mu);
		(void)take_back(rm);
		if (rm->fill.n == 0)
			break;
		hand_over(rm);
	}
	pthread_mutex_lock(&rm->mu);
	rm->hurry = 0;
	pthread_mutex_unlock(&rm->mu);
}

/* removal_free - see removal.h */
void removal_free(removal *rm)
{
	removal_wait(rm);
	if (rm->running) {
		pthread_mutex_lock(&rm->mu);
		rm->quit = 1;
		pthread_cond_broadcast(&rm->cv);
		pthread_mutex_unlock(&rm->mu);
		pthread_join(rm->tid, NULL);
		if (rm->loop != NULL)
			(void)zev_io_del(rm->loop, rm->efd);
		close(rm->efd);
		rm->efd = -1;
		pthread_cond_destroy(&rm->cv);
		pthread_mutex_destroy(&rm->mu);
		rm->running = 0;
	}
	free(rm->fill.e);
	free(rm->fill.idx);
	free(rm->work.e);
	free(rm->work.idx);
	memset(&rm->fill, 0, sizeof rm->fill);
	memset(&rm->work, 0, sizeof rm->work);
}
