/*
 * zutil.h - small generic helpers: time intervals, the scheduler.conf glob
 * matcher, sysexits names, process title, durable file operations.
 */
#ifndef ZMTA_ZUTIL_H
#define ZMTA_ZUTIL_H

#include <stddef.h>
#include <sysexits.h>
#include <time.h>
#include "zbuf.h"

/* ZMailer's private exit codes for transport agents */
#ifndef EX_DEFERALL
#define EX_DEFERALL 100
#endif
#ifndef EX_DEFERBACK
#define EX_DEFERBACK 90
#endif

/* zinterval_parse - "1h5m20s", "90", "2d" (s m h d w) -> seconds.
 * Empty, negative, unknown unit or overflow -> Z_EPARSE. */
int zinterval_parse(const char *s, long *secs);
/* zinterval_format - seconds -> "1d2h3m4s" ("0s" for 0) */
int zinterval_format(long secs, char *buf, size_t bufsz);

#define ZGLOB_NOCASE 1
/* zglob_match - 1 if str matches pattern: '*', '?', '[set]', '[^set]',
 * '\x', and a trailing '{a,b,c}' alternatives group. 0 otherwise. */
int zglob_match(const char *pattern, const char *str, int flags);

/* zsysexit_name - "EX_TEMPFAIL" etc., "EX_<n>" for unknown */
const char *zsysexit_name(int code);

/* zproctitle_init - call first thing in main with the real argc/argv;
 * moves environ so that the argv+environ area can be overwritten. */
void zproctitle_init(int argc, char **argv);
/* zproctitle_set - what ps shows (prefixed "progname: ") */
void zproctitle_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* zfsync_dir - open dir, fsync, close */
int zfsync_dir(const char *dir);
/* zfsync_parent - fsync the directory containing path */
int zfsync_parent(const char *path);
/* zrename_durable - rename(from,to) then fsync both parent directories */
int zrename_durable(const char *from, const char *to);
/* zwrite_all - write all n bytes (EINTR safe); Z_OK or Z_EIO */
int zwrite_all(int fd, const void *p, size_t n);
/* zread_file - read a whole regular file up to max bytes into out */
int zread_file(const char *path, size_t max, zbuf *out, zbuf *err);
/* zread_fd - read the rest of fd up to max bytes */
int zread_fd(int fd, size_t max, zbuf *out);

/* zmono_ms - monotonic milliseconds */
long long zmono_ms(void);
/* ztime_rfc5322 - "Sun, 22 Nov 2026 04:46:47 +0000" */
int ztime_rfc5322(time_t t, char *buf, size_t bufsz);

#endif
