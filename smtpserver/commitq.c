/*
 * NAME
 *	commitq - smtpserver's commit pool: parallel fsyncs and a group
 *	commit of router/
 * SUMMARY
 *	Worker threads take written submission files, fsync and rename each
 *	into router/, fsync router/ once for every rename done since the
 *	last such fsync, and hand the results back to the event loop.
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
 *	the file, rename to router/<ino>, close (no fsync of public/).  Then the group commit: every rename gets a
 *	sequence number; a worker whose rename is not yet covered by a
 *	finished fsync of router/ (through a descriptor of router/ the pool
 *	keeps open) either starts one (covering every rename
 *	numbered so far) or waits for the one running and then looks again.
 *	So one fsync of router/ commits the renames of all the sessions
 *	that reached it meanwhile (ext4's journal merges the concurrent file
 *	fsyncs the same way).  Only after that is the result queued for the
 *	loop, and the router's notice sent (submit_announce_on, through a
 *	datagram socket each worker keeps).  The loop
 *	learns of results through a pipe (commitq_fd, one byte whenever the
 *	result list stops being empty) and takes them with commitq_pop.
 * DIAGNOSTICS
 *	Results carry Z_OK or the error text of the commit; the workers
 *	never log (zlog is the loop's): a failed fsync of router/ after the
 *	rename is flagged in the result (the file is handed over; reporting
 *	failure would make the client send it again).
 * SECURITY
 *	Workers touch only the submit handles pushed to them and this
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
	pthread_cond_t synced;     /* a directory fsync finished */
	cq_job *head, *tail;       /* to commit */
	cq_job *dhead, *dtail;     /* committed, for the loop */
	int stop;
	uint64_t renamed, synced_upto;
	int syncing;
	char routerdir[4200];
	int dirfd;                 /* router/, open for its fsyncs (-1: by name) */
	int pfd[2];
	pthread_t th[COMMITQ_MAX_THREADS];
	int nth;
};

/* group_sync - make rename number seq durable (called with q->m held;
 * returns with it held); Z_OK or Z_EIO when the fsync covering it failed */
static int group_sync(commitq *q, uint64_t seq)
{
	int rc = Z_OK;

	while (q->synced_upto < seq) {
		if (q->syncing) {
			pthread_cond_wait(&q->synced, &q->m);
			continue;
		}
		uint64_t target = q->renamed;
		q->syncing = 1;
		pthread_mutex_unlock(&q->m);
		int r = Z_OK;
		if (q->dirfd < 0)
			r = zfsync_dir(q->routerdir);
		else if (fsync(q->dirfd) != 0 && errno != EINVAL)
			r = Z_EIO;
		pthread_mutex_lock(&q->m);
		q->syncing = 0;
		q->synced_upto = target;
		pthread_cond_broadcast(&q->synced);
		if (r != Z_OK)
			rc = Z_EIO;
	}
	return rc;
}

static void *worker(void *arg)
{
	commitq *q = arg;
	/* one datagram socket per worker for the router's notices */
	int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

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
		if (j->r.rc == Z_OK) {
			uint64_t seq = ++q->renamed;
			if (group_sync(q, seq) != Z_OK)
				j->r.dirsync_failed = 1;
			/* announce before the job goes on the done list: from
			 * there the main thread may take and free it at once */
			pthread_mutex_unlock(&q->m);
			submit_announce_on(&j->sb, nfd);
			pthread_mutex_lock(&q->m);
		}
		int wake = q->dhead == NULL;
		j->next = NULL;
		if (q->dtail)
			q->dtail->next = j;
		else
			q->dhead = j;
		q->dtail = j;
		pthread_mutex_unlock(&q->m);
		/* j belongs to the main thread now: do not touch it */
		if (wake) {
			char c = 1;
			ssize_t w;
			do
				w = write(q->pfd[1], &c, 1);
			while (w < 0 && errno == EINTR);
			/* EAGAIN: the pipe is full of wake-ups already */
		}
		pthread_mutex_lock(&q->m);
	}
	pthread_mutex_unlock(&q->m);
	if (nfd >= 0)
		close(nfd);
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
	pthread_cond_init(&q->synced, NULL);
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

	while (read(q->pfd[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&q->m);
	j = q->dhead;
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
	while (q->dhead != NULL) {
		cq_job *j = q->dhead;
		q->dhead = j->next;
		free(j);
	}
	pthread_mutex_destroy(&q->m);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->synced);
	if (q->pfd[0] >= 0)
		close(q->pfd[0]);
	if (q->pfd[1] >= 0)
		close(q->pfd[1]);
	if (q->dirfd >= 0)
		close(q->dirfd);
	free(q);
}
