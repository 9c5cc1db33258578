/*
 * NAME
 *	commitq - smtpserver's commit pool: parallel fsyncs and a group
 *	commit of router/
 * SUMMARY
 *	Worker threads take submission files, create, write, fsync and
 *	rename each into router/; one syncer thread fsyncs router/ once for
 *	every rename done since its last fsync and hands the results back
 *	to the event loop.
 * SYNOPSIS
 *	commitq *commitq_new(const char *postoffice, int nthreads, zbuf *err);
 *	int commitq_fd(const commitq *q);
 *	int commitq_push(commitq *q, submit *sb, void *tag, const char *note);
 *	int commitq_pop(commitq *q, commitq_done *out);
 *	void commitq_free(commitq *q);
 * DESCRIPTION
 *	The event loop gathers a message's submission (a deferred handle of
 *	spool/submit.h: submit_begin, envelope and message in memory, a big
 *	message as a descriptor) and pushes the handle with a tag (its
 *	session).  A worker runs submit_commit_flags(SUBMIT_NODIRSYNC):
 *	creation of the scratch file in public/ and its writing, fsync of
 *	the file, rename to router/<ino>, close (no fsync of public/).  It
 *	puts the job on the renamed list and takes the next job at once: it
 *	never waits for the directory.  The group commit is the syncer's:
 *	it takes the whole renamed list, fsyncs router/ once (through a
 *	descriptor of router/ the pool keeps open), which commits every
 *	rename on that list (each was done before the fsync began), sends
 *	each one's notice to the router (submit_announce_on, through the
 *	syncer's datagram socket) and only then moves the batch to the
 *	results.  Renames done during that fsync wait for the next one.  So
 *	a worker sleeps only for its own file's I/O and for work, and the
 *	results of a whole batch reach the loop with one wake-up.  The loop
 *	learns of results through a pipe (commitq_fd, one byte whenever the
 *	result list stops being empty) and takes them with commitq_pop.
 * DIAGNOSTICS
 *	Results carry Z_OK or the error text of the commit; the threads
 *	never log (zlog is the loop's): a failed fsync of router/ after the
 *	rename is flagged in the result (the file is handed over; reporting
 *	failure would make the client send it again).
 * SECURITY
 *	The threads touch only the submit handles pushed to them and this
 *	structure's lists under its mutex; never a session.  The 250 for a
 *	message is sent by the loop only after its result came back, that
 *	is after file fsync, rename and directory fsync (issue 11).
 * BUGS
 *	The number of workers is fixed at commitq_new.  A commit in
 *	progress cannot be cancelled: commitq_free waits for every queued
 *	one.
 * SEE ALSO
 *	smtpserver(8), libzmsmtpd(3) (zmsmtpd_deliver_async), spool/submit.c
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zbuf.h"
#include "zerr.h"
#include "zutil.h"
#include "submit.h"
#include "commitq.h"

#define COMMITQ_MAX_THREADS 64

typedef struct cq_job {
	struct cq_job *next;
	submit sb;
	commitq_done r;
} cq_job;

struct commitq {
	pthread_mutex_t m;
	pthread_cond_t work;       /* a job was queued, or stop */
	pthread_cond_t renamed;    /* a job was renamed, or the workers ended */
	cq_job *head, *tail;       /* to commit */
	cq_job *rhead, *rtail;     /* renamed, waiting for the fsync of router/ */
	cq_job *dhead, *dtail;     /* committed, for the loop */
	int stop;                  /* the workers: finish the queue, then end */
	int sstop;                 /* the syncer: the workers ended */
	char routerdir[4200];
	int dirfd;                 /* router/, open for its fsyncs (-1: by name) */
	int pfd[2];
	pthread_t th[COMMITQ_MAX_THREADS];
	int nth;
	pthread_t syncer;
	int have_syncer;
};

/* done_locked - put the list first..last on the result list (q->m held);
 * 1 when the loop must be woken (the list was empty) */
static int done_locked(commitq *q, cq_job *first, cq_job *last)
{
	int wake = q->dhead == NULL;

	last->next = NULL;
	if (q->dtail)
		q->dtail->next = first;
	else
		q->dhead = first;
	q->dtail = last;
	return wake;
}

/* wake_loop - one byte into the pipe the loop watches */
static void wake_loop(commitq *q)
{
	char c = 1;
	ssize_t w;

	do
		w = write(q->pfd[1], &c, 1);
	while (w < 0 && errno == EINTR);
	/* EAGAIN: the pipe is full of wake-ups already */
}

/* syncer - the group commit: one fsync of router/ per batch of renames */
static void *syncer(void *arg)
{
	commitq *q = arg;
	/* one datagram socket for the router's notices */
	int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	pthread_mutex_lock(&q->m);
	for (;;) {
		cq_job *batch, *last = NULL;
		int r = Z_OK;

		while (q->rhead == NULL && !q->sstop)
			pthread_cond_wait(&q->renamed, &q->m);
		if (q->rhead == NULL)
			break;   /* the workers ended, and nothing is left */
		batch = q->rhead;
		q->rhead = q->rtail = NULL;
		pthread_mutex_unlock(&q->m);
		/* every rename of the batch was done before this fsync began */
		if (q->dirfd < 0)
			r = zfsync_dir(q->routerdir);
		else if (fsync(q->dirfd) != 0 && errno != EINVAL)
			r = Z_EIO;
		for (cq_job *j = batch; j != NULL; j = j->next) {
			if (r != Z_OK)
				j->r.dirsync_failed = 1;
			/* announce before the job goes on the done list: from
			 * there the main thread may take and free it at once */
			submit_announce_on(&j->sb, nfd);
			last = j;
		}
		pthread_mutex_lock(&q->m);
		if (done_locked(q, batch, last)) {
			pthread_mutex_unlock(&q->m);
			wake_loop(q);
			pthread_mutex_lock(&q->m);
		}
		/* the batch belongs to the main thread now: do not touch it */
	}
	pthread_mutex_unlock(&q->m);
	if (nfd >= 0)
		close(nfd);
	return NULL;
}

static void *worker(void *arg)
{
	commitq *q = arg;

	pthread_mutex_lock(&q->m);
	for (;;) {
		cq_job *j;
		while (q->head == NULL && !q->stop)
			pthread_cond_wait(&q->work, &q->m);
		if (q->head == NULL)
			break;   /* stop, and nothing left */
		j = q->head;
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
		pthread_mutex_unlock(&q->m);

		zbuf err = ZBUF_INIT(sizeof(j->r.err));
		j->r.rc = submit_commit_flags(&j->sb, NULL, 0, SUBMIT_NODIRSYNC, &j->r.ino, &err);
		if (j->r.rc != Z_OK)
			zstrlcpy(j->r.err, err.len ? zbuf_cstr(&err) : "commit failed", sizeof(j->r.err));
		zbuf_free(&err);

		pthread_mutex_lock(&q->m);
		j->next = NULL;
		if (j->r.rc == Z_OK) {
			/* the syncer's now; this thread goes on with the next job */
			if (q->rtail)
				q->rtail->next = j;
			else
				q->rhead = j;
			q->rtail = j;
			pthread_cond_signal(&q->renamed);
		} else if (done_locked(q, j, j)) {
			/* j belongs to the main thread now: do not touch it */
			pthread_mutex_unlock(&q->m);
			wake_loop(q);
			pthread_mutex_lock(&q->m);
		}
	}
	pthread_mutex_unlock(&q->m);
	return NULL;
}

commitq *commitq_new(const char *postoffice, int nthreads, zbuf *err)
{
	commitq *q = calloc(1, sizeof(*q));
	int k;

	if (q == NULL) {
		zbuf_puts(err, "commitq: out of memory");
		return NULL;
	}
	q->pfd[0] = q->pfd[1] = -1;
	q->dirfd = -1;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > COMMITQ_MAX_THREADS)
		nthreads = COMMITQ_MAX_THREADS;
	k = snprintf(q->routerdir, sizeof(q->routerdir), "%s/router", postoffice);
	if (k < 0 || (size_t)k >= sizeof(q->routerdir)) {
		zbuf_puts(err, "commitq: POSTOFFICE path too long");
		free(q);
		return NULL;
	}
	/* kept open: an fsync of router/ needs no open and close each time */
	q->dirfd = open(q->routerdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pipe2(q->pfd, O_NONBLOCK | O_CLOEXEC) != 0) {
		zbuf_printf(err, "commitq: pipe: %s", strerror(errno));
		if (q->dirfd >= 0)
			close(q->dirfd);
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->m, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->renamed, NULL);
	if (pthread_create(&q->syncer, NULL, syncer, q) != 0) {
		zbuf_puts(err, "commitq: cannot start the syncer");
		commitq_free(q);
		return NULL;
	}
	q->have_syncer = 1;
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&q->th[i], NULL, worker, q) != 0) {
			zbuf_printf(err, "commitq: cannot start worker %d", i + 1);
			break;
		}
		q->nth++;
	}
	if (q->nth == 0) {
		commitq_free(q);
		return NULL;
	}
	return q;
}

int commitq_fd(const commitq *q)
{
	return q->pfd[0];
}

int commitq_push(commitq *q, submit *sb, void *tag, const char *note)
{
	cq_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return Z_ENOMEM;
	j->sb = *sb;
	j->r.tag = tag;
	zstrlcpy(j->r.note, note ? note : "", sizeof(j->r.note));
	sb->fd = -1;             /* the handle is the worker's now */
	sb->tmppath[0] = '\0';
	sb->srcfd = -1;
	sb->mem = NULL;
	sb->memlen = sb->memcap = 0;
	sb->deferred = 0;
	sb->failed = 1;
	pthread_mutex_lock(&q->m);
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->m);
	return Z_OK;
}

int commitq_pop(commitq *q, commitq_done *out)
{
	cq_job *j;
	char buf[64];

	pthread_mutex_lock(&q->m);
	j = q->dhead;
	if (j == NULL) {
		/* empty: take the wake-up bytes, then look once more (a result
		 * queued meanwhile may have written the byte just read); so a
		 * batch of results costs one read(2), not one per result */
		pthread_mutex_unlock(&q->m);
		(void)!read(q->pfd[0], buf, sizeof(buf));
		pthread_mutex_lock(&q->m);
		j = q->dhead;
	}
	if (j != NULL) {
		q->dhead = j->next;
		if (q->dhead == NULL)
			q->dtail = NULL;
	}
	pthread_mutex_unlock(&q->m);
	if (j == NULL)
		return 0;
	*out = j->r;
	free(j);
	return 1;
}

void commitq_free(commitq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->m);
	q->stop = 1;
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->m);
	for (int i = 0; i < q->nth; i++)
		pthread_join(q->th[i], NULL);
	/* the workers are gone: the syncer commits what they renamed, then ends */
	pthread_mutex_lock(&q->m);
	q->sstop = 1;
	pthread_cond_signal(&q->renamed);
	pthread_mutex_unlock(&q->m);
	if (q->have_syncer)
		pthread_join(q->syncer, NULL);
	while (q->dhead != NULL) {
		cq_job *j = q->dhead;
		q->dhead = j->next;
		free(j);
	}
	pthread_mutex_destroy(&q->m);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->renamed);
	if (q->pfd[0] >= 0)
		close(q->pfd[0]);
	if (q->pfd[1] >= 0)
		close(q->pfd[1]);
	if (q->dirfd >= 0)
		close(q->dirfd);
	free(q);
}
