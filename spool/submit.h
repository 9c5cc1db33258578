/*
 * submit.h - writing a submission file into the spool.
 *
 * public/<host>:<pid><suffix> is created O_EXCL 0600, written, fsynced,
 * closed, renamed to router/[X/]<ino>, the directory fsynced, and the router
 * is told by a datagram (loss is harmless).  The inode number becomes the
 * message id.  Format: envelope lines, "env-end", then the message.
 */
#ifndef ZMTA_SUBMIT_H
#define ZMTA_SUBMIT_H

#include <stddef.h>
#include "zbuf.h"

typedef struct submit {
	int fd;
	char postoffice[4096];
	char tmppath[4200];
	unsigned long ino;
	int failed;
	int no_scratch_sync;   /* submit_no_scratch_sync was called */
	char donedir[72], doneprefix[8];   /* where submit_commit put it */
	size_t wlen;                       /* bytes held in wb */
	char wb[4096];                     /* written at the latest by submit_commit */
	int deferred;                      /* submit_begin: no file before submit_commit */
	char *mem;                         /* deferred: the bytes so far (heap) */
	size_t memlen, memcap;
	int srcfd;                         /* deferred: the rest from here (owned), -1 none */
} submit;

/* submit_open - create the scratch file in postoffice/public */
int submit_open(submit *s, const char *postoffice, zbuf *err);
/* submit_begin - a deferred handle: nothing is created yet; the envelope
 * and the message are kept in memory (and submit_source_fd), and the file
 * is created and written by submit_commit[_flags] (a worker thread's job) */
int submit_begin(submit *s, const char *postoffice, zbuf *err);
/* submit_source_fd - deferred handle: the message goes on with the bytes
 * of fd from offset 0 to its end (read with pread at the commit); fd is
 * the handle's now (closed by commit or abort); nothing may be written
 * after it.  Z_OK, or Z_ERR (fd closed) */
int submit_source_fd(submit *s, int fd);
/* submit_env - "keyword value\n"; refuses NL in either, value may be NULL */
int submit_env(submit *s, const char *keyword, const char *value);
/* submit_write - raw bytes (after env-end) */
int submit_write(submit *s, const void *p, size_t n);
/* submit_commit - fsync, rename into dir (NULL: "router") with hash levels
 * (0/1), fsync dir, notify; *ino gets the id.  The handle is closed. */
int submit_commit(submit *s, const char *dir, int hashlevels, unsigned long *ino, zbuf *err);
/* submit_no_scratch_sync - submit_commit skips the last fsync of public/
 * (the scratch name's removal; not needed for the message's durability) */
void submit_no_scratch_sync(submit *s);
/* submit_commit_flags - submit_commit; with SUBMIT_NODIRSYNC only fsync,
 * rename, close: the caller fsyncs <dir> (one fsync for many files), and
 * only then is the file durable; then submit_announce tells the router */
#define SUBMIT_NODIRSYNC 0x1u
int submit_commit_flags(submit *s, const char *dir, int hashlevels, unsigned flags,
			unsigned long *ino, zbuf *err);
/* submit_announce - the router's notice for a committed handle */
void submit_announce(const submit *s);
/* submit_announce_on - the same through the caller's AF_UNIX datagram
 * socket sockfd (-1: one made for this note) */
void submit_announce_on(const submit *s, int sockfd);
/* submit_abort - unlink the scratch file */
void submit_abort(submit *s);
/* the largest notification datagram the daemons read: one or more lines */
#define SUBMIT_NOTIFY_MAX 4096
/* submit_notify - non-blocking datagram text to the AF_UNIX socket path */
int submit_notify(const char *sockpath, const char *text);

#endif
