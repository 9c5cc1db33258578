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
} submit;

/* submit_open - create the scratch file in postoffice/public */
int submit_open(submit *s, const char *postoffice, zbuf *err);
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
/* submit_abort - unlink the scratch file */
void submit_abort(submit *s);
/* the largest notification datagram the daemons read: one or more lines */
#define SUBMIT_NOTIFY_MAX 4096
/* submit_notify - non-blocking datagram text to the AF_UNIX socket path */
int submit_notify(const char *sockpath, const char *text);

#endif
