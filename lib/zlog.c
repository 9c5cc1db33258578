/*
 * NAME
 *	zlog - the severity ladder: debug, info, warn, error, fatal, panic
 * SUMMARY
 *	Formats one sanitised line per call and writes it to stderr or a log
 *	file and/or syslog(LOG_MAIL).
 * SYNOPSIS
 *	void zlog_open(const char *progname, int flags);
 *	int zlog_set_file(const char *path);
 *	void zlog_set_debug(int on);
 *	void zlog_hold(int on);
 *	void zlog_flush(void);
 *	void zlog(enum zlog_level lvl, const char *id, const char *fmt, ...);
 *	unsigned long zlog_errors(void);
 *	_Noreturn void zlog_fatal(int code, const char *id, const char *fmt, ...);
 *	_Noreturn void zlog_panic(const char *id, const char *fmt, ...);
 * DESCRIPTION
 *	stderr/file lines look like
 *	    "2026-11-22T04:46:47Z prog[123]: <id>: <level>: text"
 *	("<id>: " left out when id is NULL); syslog gets "<id>: <level>: text".
 *	Bytes outside printable ASCII become '?'; the text is cut at 4000
 *	bytes.  Each line is written with one write(2) so that concurrent
 *	processes appending to one file do not interleave.
 *	zlog_hold(1) (a busy daemon's event loop) keeps stderr/file lines of
 *	level info and debug in a 32 KB buffer instead: written with one
 *	write(2) of whole lines when the buffer is full, at zlog_flush()
 *	(the loop calls it before it waits), with the next warn or worse
 *	line, before fork(2) and at exit(3).  A forked child starts without
 *	holding.  Syslog lines are never held.
 * DIAGNOSTICS
 *	zlog_set_file returns Z_EIO when the file cannot be opened (the old
 *	destination stays).  Logging itself never fails visibly.
 * SECURITY
 *	Message text may carry outside bytes; they are neutralised before
 *	output so no terminal escapes or fake newlines get through.  It must
 *	never pass outside text as a format string.  zlog_set_file() opens
 *	with O_NOFOLLOW and mode 0640: a symbolic link is refused.
 * BUGS
 *	Not thread-safe (zmta programs are single-threaded).
 * SEE ALSO
 *	syslog(3), zerr.h
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "zbuf.h"
#include "zlog.h"
#include "zutil.h"

#define ZLOG_TEXT_MAX 4000

static char zlog_prog[64] = "zmta";
static int zlog_flags = ZLOG_TO_STDERR;
static int zlog_fd = -1;          /* log file, or -1 for stderr */
static int zlog_debug_on = 0;
static int zlog_syslog_open = 0;
static unsigned long zlog_nerrors = 0;
static long zlog_pid = 0;         /* cached getpid(); reset in a forked child */
static int zlog_holding = 0;      /* zlog_hold(1): info lines wait in zlog_held */
static char *zlog_held = NULL;    /* ZLOG_HOLD_MAX bytes once holding */
static size_t zlog_nheld = 0;
#define ZLOG_HOLD_MAX (32u * 1024u)

/* zlog_forked - pthread_atfork child hook: the cached pid is the parent's;
 * the parent's held lines were flushed before the fork */
static void zlog_forked(void)
{
	zlog_pid = 0;
	zlog_holding = 0;
	zlog_nheld = 0;
}

/* zlog_flush - write the held lines with one write(2) */
void zlog_flush(void)
{
	int saved = errno;

	if (zlog_nheld > 0) {
		/* a log line that cannot be written has nowhere to go */
		(void)zwrite_all(zlog_fd >= 0 ? zlog_fd : STDERR_FILENO, zlog_held, zlog_nheld);
		zlog_nheld = 0;
	}
	errno = saved;
}

/* zlog_hold - keep info lines until zlog_flush (1) or write each (0) */
void zlog_hold(int on)
{
	static int hooked;

	if (on && zlog_held == NULL) {
		zlog_held = malloc(ZLOG_HOLD_MAX);
		if (zlog_held == NULL)
			return;   /* no buffer: every line is written at once */
	}
	if (on && !hooked) {
		hooked = 1;
		(void)pthread_atfork(zlog_flush, NULL, NULL);
		(void)atexit(zlog_flush);
	}
	if (!on)
		zlog_flush();
	zlog_holding = on && zlog_held != NULL;
}

/* zlog_getpid - our pid without a system call per log line */
static long zlog_getpid(void)
{
	static int hooked;

	if (!hooked) {
		hooked = 1;
		(void)pthread_atfork(NULL, NULL, zlog_forked);
	}
	if (zlog_pid == 0)
		zlog_pid = (long)getpid();
	return zlog_pid;
}

static const char *const zlog_names[] = {
	"debug", "info", "warn", "error", "fatal", "panic"
};

/* zlog_open - set program name and destinations */
void zlog_open(const char *progname, int flags)
{
	const char *base;

	if (progname != NULL) {
		base = strrchr(progname, '/');
		base = base ? base + 1 : progname;
		zstrlcpy(zlog_prog, base, sizeof(zlog_prog));
	}
	zlog_flags = flags;
	if (flags & ZLOG_TO_SYSLOG) {
		if (zlog_syslog_open)
			closelog();
		openlog(zlog_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
		zlog_syslog_open = 1;
	} else if (zlog_syslog_open) {
		closelog();
		zlog_syslog_open = 0;
	}
}

/* zlog_set_file - append log lines to path instead of stderr */
int zlog_set_file(const char *path)
{
	int fd;

	zlog_flush();	/* held lines belong to the old destination */
	if (path == NULL) {
		if (zlog_fd >= 0)
			close(zlog_fd);
		zlog_fd = -1;
		return Z_OK;
	}
	/* never through a symbolic link: the writer may be root */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
	if (fd < 0)
		return Z_EIO;
	if (zlog_fd >= 0)
		close(zlog_fd);
	zlog_fd = fd;
	return Z_OK;
}

/* zlog_set_debug - 0 hides debug lines */
void zlog_set_debug(int on)
{
	zlog_debug_on = on;
}

/* zlog_errors - number of error lines written */
unsigned long zlog_errors(void)
{
	return zlog_nerrors;
}

/* zlog_sanitize - replace non-printable bytes in place */
static void zlog_sanitize(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			s[i] = '?';
	}
}

/* zlog_emit - format and write one line */
static void zlog_emit(enum zlog_level lvl, const char *id, const char *fmt, va_list ap)
{
	char text[ZLOG_TEXT_MAX + 1];
	char idbuf[128];
	char line[ZLOG_TEXT_MAX + 300];
	char stamp[32];
	struct tm tm;
	time_t now;
	int n, saved = errno;
	size_t tlen;
	const char *lname;

	if (lvl < ZLOG_DEBUG || lvl > ZLOG_PANIC)
		lvl = ZLOG_ERROR;
	if (lvl == ZLOG_DEBUG && !zlog_debug_on)
		goto done;
	if (lvl == ZLOG_ERROR)
		zlog_nerrors++;
	lname = zlog_names[lvl];

	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		text[0] = '\0';
	tlen = strlen(text);
	zlog_sanitize(text, tlen);
	idbuf[0] = '\0';
	if (id != NULL) {
		zstrlcpy(idbuf, id, sizeof(idbuf));
		zlog_sanitize(idbuf, strlen(idbuf));
	}

	if (zlog_flags & ZLOG_TO_STDERR || zlog_fd >= 0) {
		static time_t stamp_at = (time_t)-1;
		static char stamp_of[32];
		now = time(NULL);
		if (now != stamp_at) {
			/* one formatting per second, not per line */
			if (gmtime_r(&now, &tm) == NULL ||
			    strftime(stamp_of, sizeof(stamp_of), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
				zstrlcpy(stamp_of, "0000-00-00T00:00:00Z", sizeof(stamp_of));
			else
				stamp_at = now;
		}
		memcpy(stamp, stamp_of, sizeof(stamp));
		if (zlog_flags & ZLOG_AS_COMMENT)	/* transport agent: "# prog:pid: ..." */
			n = snprintf(line, sizeof(line), "# %s:%ld: %s%s%s: %s\n",
			    zlog_prog, zlog_getpid(), idbuf,
			    id != NULL ? ": " : "", lname, text);
		else
			n = snprintf(line, sizeof(line), "%s %s[%ld]: %s%s%s: %s\n",
			    stamp, zlog_prog, zlog_getpid(), idbuf,
			    id != NULL ? ": " : "", lname, text);
		if (n > 0) {
			size_t len = (size_t)n;
			if (len >= sizeof(line)) {
				len = sizeof(line) - 1;
				line[len - 1] = '\n';
			}
			if (zlog_holding && lvl <= ZLOG_INFO) {
				if (zlog_nheld + len > ZLOG_HOLD_MAX)
					zlog_flush();
				memcpy(zlog_held + zlog_nheld, line, len);
				zlog_nheld += len;
			} else {
				/* held lines first: the file keeps their order */
				zlog_flush();
				/* a log line that cannot be written has nowhere to go */
				(void)zwrite_all(zlog_fd >= 0 ? zlog_fd : STDERR_FILENO, line, len);
			}
		}
	}
	if (zlog_flags & ZLOG_TO_SYSLOG) {
		static const int prio[] = {
			LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_ALERT
		};
		if (!zlog_syslog_open) {
			openlog(zlog_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
			zlog_syslog_open = 1;
		}
		syslog(LOG_MAIL | prio[lvl], "%s%s%s: %s", idbuf,
		    id != NULL ? ": " : "", lname, text);
	}
done:
	errno = saved;
}

/* zlog - one line at level lvl */
void zlog(enum zlog_level lvl, const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zlog_emit(lvl, id, fmt, ap);
	va_end(ap);
}

/* zlog_fatal - log and exit(code) */
_Noreturn void zlog_fatal(int code, const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zlog_emit(ZLOG_FATAL, id, fmt, ap);
	va_end(ap);
	exit(code);
}

/* zlog_panic - log and abort() */
_Noreturn void zlog_panic(const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zlog_emit(ZLOG_PANIC, id, fmt, ap);
	va_end(ap);
	abort();
}
