/*
 * NAME
 *	smtp_log - the -l transcript file and the -s process title
 * SUMMARY
 *	One transcript file shared by every smtp process; each line is
 *	tagged so that interleaved sessions can be separated with sort(1).
 * SYNOPSIS
 *	int smtp_log_open(const char *path, zbuf *err)
 *	void smtp_log(char kind, const char *fmt, ...)
 *	void smtp_log_data(char kind, const char *p, size_t n)
 *	int smtp_log_enabled(void)
 *	void smtp_title(int enabled, const char *fmt, ...)
 * DESCRIPTION
 *	Line format: "%05d%04X-%04d-%04d<kind>\t<text>\n" = pid, low 16
 *	bits of the process start time, per-process line counter (wraps at
 *	9999), seconds since start modulo 10000, then the kind: 'w' command
 *	written, 'r' reply line read, '#' comment.  The file is opened
 *	O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC mode 0640 and must be a
 *	regular file; each line is one write(2), so lines of concurrent
 *	processes never mix.  Non-printable bytes are shown as
 *	'?'; a line is cut at 1000 bytes.
 * DIAGNOSTICS
 *	smtp_log_open() fails with Z_EIO and the reason; logging itself
 *	never fails visibly.
 * SECURITY
 *	AUTH exchanges are logged by the caller only as "AUTH ... (hidden)".
 *	The -l path is the operator's, but the agent may run as root: a
 *	symbolic link (the last component) is refused, as is anything but a
 *	regular file, and a new file is not readable by others.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtp(8)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "smtp.h"
#include "zutil.h"

static int log_fd = -1;
static unsigned log_counter;
static time_t log_start;

/* smtp_log_open - open (append) the transcript file */
int smtp_log_open(const char *path, zbuf *err)
{
	/* never through a symbolic link (another user's trap in a shared
	 * directory), never a FIFO or device, never readable by others */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		      O_NOCTTY | O_NONBLOCK, 0640);
	struct stat st;

	if (fd < 0) {
		zbuf_printf(err, "%s: %s%s", path, strerror(errno),
			    errno == ELOOP ? " (a symbolic link is refused)" : "");
		return Z_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		zbuf_printf(err, "%s: not a regular file", path);
		close(fd);
		return Z_EIO;
	}
	{
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
			zbuf_printf(err, "%s: fcntl: %s", path, strerror(errno));
			close(fd);
			return Z_EIO;
		}
	}
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	log_start = time(NULL);
	return Z_OK;
}

/* smtp_log_enabled - 1 when -l is active */
int smtp_log_enabled(void)
{
	return log_fd >= 0;
}

/* log_line - write one tagged line with sanitised text */
static void log_line(char kind, const char *p, size_t n)
{
	char line[1100];
	int h;
	size_t i, o;

	if (log_fd < 0)
		return;
	log_counter = (log_counter + 1) % 10000;
	h = snprintf(line, sizeof(line), "%05d%04X-%04u-%04ld%c\t", (int)getpid(),
		     (unsigned)(log_start & 0xffff), log_counter,
		     (long)((time(NULL) - log_start) % 10000), kind);
	if (h < 0 || (size_t)h >= sizeof(line))
		return;
	o = (size_t)h;
	for (i = 0; i < n && o < sizeof(line) - 2 && i < 1000; i++) {
		unsigned char c = (unsigned char)p[i];
		line[o++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	line[o++] = '\n';
	(void)zwrite_all(log_fd, line, o);
}

/* smtp_log - formatted transcript line */
void smtp_log(char kind, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (log_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	log_line(kind, buf, (size_t)n);
}

/* smtp_log_data - transcript line from bytes, split at newlines */
void smtp_log_data(char kind, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		size_t l2 = len;
		if (l2 > 0 && p[l2 - 1] == '\r')
			l2--;
		log_line(kind, p, l2);
		if (nl == NULL)
			break;
		p += len + 1;
		n -= len + 1;
	}
}

/* smtp_title - process title for -s */
void smtp_title(int enabled, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (!enabled)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	zproctitle_set("%s", buf);
}
