/*
 * zlog.h - logging with a fixed severity ladder.
 *
 * info, warn, error (counted), fatal (orderly exit with a sysexits code, for
 * a program's main only), panic (broken invariant: abort for a core).
 * Lines go to stderr (or a log file) and/or syslog.  The message text of
 * every line starts with the spool id when one is given:
 *     "<time> <prog>[<pid>]: <id>: <level>: <text>"     (stderr/file)
 *     "<id>: <level>: <text>"                            (syslog)
 * Non-printable bytes are replaced by '?' and a line is cut at 4000 bytes.
 */
#ifndef ZMTA_ZLOG_H
#define ZMTA_ZLOG_H

enum zlog_level { ZLOG_DEBUG = 0, ZLOG_INFO, ZLOG_WARN, ZLOG_ERROR, ZLOG_FATAL, ZLOG_PANIC };

#define ZLOG_TO_STDERR 1
#define ZLOG_TO_SYSLOG 2
#define ZLOG_AS_COMMENT 4  /* stderr lines as TA protocol comments: "# prog:pid: <id>: <level>: text" */

/* zlog_open - set program name and destinations; safe to call again */
void zlog_open(const char *progname, int flags);
/* zlog_set_file - append log lines to path instead of stderr (NULL: stderr);
 * reopened by calling again (SIGHUP). Returns Z_OK or Z_EIO. */
int zlog_set_file(const char *path);
/* zlog_set_debug - 0 hides ZLOG_DEBUG lines */
void zlog_set_debug(int on);
/* zlog_hold - 1: keep info/debug lines for stderr or the file in a buffer
 * until zlog_flush (or a full buffer, a warn-or-worse line, fork, exit);
 * 0: flush and write every line at once (the default) */
void zlog_hold(int on);
/* zlog_flush - write the held lines now (one write) */
void zlog_flush(void);
/* zlog - one line at level lvl; id may be NULL */
void zlog(enum zlog_level lvl, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* zlog_errors - how many ZLOG_ERROR lines were written */
unsigned long zlog_errors(void);
/* zlog_fatal - log and exit(code); only a program's main may call it */
_Noreturn void zlog_fatal(int code, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* zlog_panic - log and abort() */
_Noreturn void zlog_panic(const char *id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define zlog_debug(id, ...) zlog(ZLOG_DEBUG, id, __VA_ARGS__)
#define zlog_info(id, ...) zlog(ZLOG_INFO, id, __VA_ARGS__)
#define zlog_warn(id, ...) zlog(ZLOG_WARN, id, __VA_ARGS__)
#define zlog_error(id, ...) zlog(ZLOG_ERROR, id, __VA_ARGS__)

#endif
