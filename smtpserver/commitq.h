/*
 * commitq.h - smtpserver's commit pool: worker threads that create,
 * write, fsync and rename submission files into router/ and group-commit the
 * directory fsync, so the fsyncs of many sessions overlap.  See commitq.c.
 */
#ifndef ZMTA_COMMITQ_H
#define ZMTA_COMMITQ_H

#include "zbuf.h"
#include "submit.h"

typedef struct commitq commitq;

/* one finished commit, as commitq_pop hands it back */
typedef struct commitq_done {
	void *tag;            /* what commitq_push was given */
	int rc;               /* Z_OK: durable in router/ (file, rename, directory) */
	unsigned long ino;    /* the message id when rc is Z_OK */
	int dirsync_failed;   /* rc Z_OK, but the directory fsync failed (logged by the caller) */
	char err[512];        /* why, when rc is not Z_OK */
	char note[512];       /* the caller's text from commitq_push */
} commitq_done;

/* commitq_new - nthreads workers for postoffice; NULL with text in err */
commitq *commitq_new(const char *postoffice, int nthreads, zbuf *err);
/* commitq_fd - readable when commitq_pop has something */
int commitq_fd(const commitq *q);
/* commitq_push - take over the handle sb (written, or deferred:
 * submit_begin; the caller must not use it again) with tag and note;
 * Z_OK, or Z_ENOMEM (sb untouched) */
int commitq_push(commitq *q, submit *sb, void *tag, const char *note);
/* commitq_pop - one finished commit into *out: 1, or 0 when none is ready */
int commitq_pop(commitq *q, commitq_done *out);
/* commitq_free - finish every queued commit, stop the workers, free
 * (finished results not popped are dropped) */
void commitq_free(commitq *q);

#endif
