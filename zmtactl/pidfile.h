/*
 * pidfile.h - single-instance pid files held by flock(2).
 *
 * The lock, not the file's existence, says whether the owner runs: a file
 * left by a process that died is not locked, so it is taken over.  The
 * file holds the owner's pid in decimal and a newline.
 */
#ifndef ZMTA_PIDFILE_H
#define ZMTA_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>
#include "zbuf.h"

/* pidfile_lock - open (create, mode 0644) path and take its exclusive lock
 * without waiting.  Z_OK: *fd holds the lock (keep it open; it is
 * close-on-exec; a fork shares it).  Z_EAGAIN: another process holds it,
 * *holder = the pid in the file (0 if unreadable).  Z_EIO/Z_ERR: the file
 * cannot be used (symbolic link, not a regular file, several links, ...),
 * reason in err.  Does not write: call pidfile_write. */
int pidfile_lock(const char *path, int *fd, pid_t *holder, zbuf *err);
/* pidfile_write - make the locked file hold pid ("<pid>\n") */
int pidfile_write(int fd, pid_t pid, zbuf *err);
/* pidfile_release - empty the file and drop the lock (close fd) */
void pidfile_release(int fd);
/* pidfile_probe - Z_OK when some process holds path's lock (*pid from the
 * file, 0 if unreadable); Z_ENOENT when the file is missing or not
 * locked; Z_EIO when it cannot be opened (reason in err) */
int pidfile_probe(const char *path, pid_t *pid, zbuf *err);
/* pidfile_parse - "<digits>\n" (newline optional, nothing else) -> pid > 0;
 * Z_OK or Z_EPARSE */
int pidfile_parse(const char *buf, size_t n, pid_t *pid);

#endif
