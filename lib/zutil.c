/*
 * NAME
 *	zutil - time intervals, sysexits names, durable file operations, clocks
 * SUMMARY
 *	Small generic helpers used by every zmta program.
 * SYNOPSIS
 *	int zinterval_parse(const char *s, long *secs);
 *	int zinterval_format(long secs, char *buf, size_t bufsz);
 *	const char *zsysexit_name(int code);
 *	int zfsync_dir(const char *dir);
 *	int zfsync_parent(const char *path);
 *	int zrename_durable(const char *from, const char *to);
 *	int zwrite_all(int fd, const void *p, size_t n);
 *	int zread_file(const char *path, size_t max, zbuf *out, zbuf *err);
 *	int zread_fd(int fd, size_t max, zbuf *out);
 *	long long zmono_ms(void);
 *	int ztime_rfc5322(time_t t, char *buf, size_t bufsz);
 * DESCRIPTION
 *	Intervals are one or more <digits><unit> groups, unit one of s m h d w
 *	(seconds, minutes, hours, days, weeks), summed; a lone number without
 *	unit means seconds.  A number without unit is only allowed as the
 *	last group ("1h30" = 1h30s).  zread_file reads only regular files and
 *	refuses a file larger than max.  ztime_rfc5322 writes UTC as "+0000".
 * DIAGNOSTICS
 *	Z_EPARSE for malformed or overflowing intervals; Z_ETOOBIG for
 *	too-small buffers or too-large files; Z_EIO (errno kept) and Z_ENOENT
 *	for system call failures.
 * SECURITY
 *	zread_file opens with O_NOFOLLOW off (symlinked configs are normal)
 *	but never reads non-regular files (FIFOs would hang, devices never
 *	end).  Every read is bounded.
 * BUGS
 *	None known.
 * SEE ALSO
 *	sysexits.h, fsync(2), rename(2)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "zbuf.h"
#include "zutil.h"

/* zinterval_unit - seconds per unit letter, 0 if unknown */
static long zinterval_unit(char c)
{
	switch (c) {
	case 's': case 'S': return 1;
	case 'm': case 'M': return 60;
	case 'h': case 'H': return 3600;
	case 'd': case 'D': return 86400;
	case 'w': case 'W': return 604800;
	default: return 0;
	}
}

/* zinterval_parse - "1h5m20s" -> seconds */
int zinterval_parse(const char *s, long *secs)
{
	long total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return Z_EPARSE;
	while (*p != '\0') {
		long v = 0, unit;
		const char *start = p;

		while (*p >= '0' && *p <= '9') {
			int d = *p - '0';
			if (v > (LONG_MAX - d) / 10)
				return Z_EPARSE;
			v = v * 10 + d;
			p++;
		}
		if (p == start)
			return Z_EPARSE;
		if (*p == '\0') {
			unit = 1;
		} else {
			unit = zinterval_unit(*p);
			if (unit == 0)
				return Z_EPARSE;
			p++;
		}
		if (v > LONG_MAX / unit)
			return Z_EPARSE;
		v *= unit;
		if (total > LONG_MAX - v)
			return Z_EPARSE;
		total += v;
	}
	*secs = total;
	return Z_OK;
}

/* zinterval_format - seconds -> "1d2h3m4s" */
int zinterval_format(long secs, char *buf, size_t bufsz)
{
	static const struct { long n; char c; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	zbuf b = ZBUF_INIT(64);
	int rc = Z_OK;

	if (bufsz == 0)
		return Z_ETOOBIG;
	buf[0] = '\0';
	if (secs < 0) {
		rc = Z_EPARSE;
		goto done;
	}
	if (secs == 0) {
		rc = zbuf_puts(&b, "0s");
		goto copy;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		long q = secs / units[i].n;
		if (q > 0) {
			rc = zbuf_printf(&b, "%ld%c", q, units[i].c);
			if (rc != Z_OK)
				goto done;
			secs -= q * units[i].n;
		}
	}
copy:
	if (rc == Z_OK)
		rc = zstrlcpy(buf, zbuf_cstr(&b), bufsz);
done:
	zbuf_free(&b);
	return rc;
}

/* zsysexit_name - symbolic name of a sysexits code */
const char *zsysexit_name(int code)
{
	static char other[32];

	switch (code) {
	case EX_OK: return "EX_OK";
	case EX_USAGE: return "EX_USAGE";
	case EX_DATAERR: return "EX_DATAERR";
	case EX_NOINPUT: return "EX_NOINPUT";
	case EX_NOUSER: return "EX_NOUSER";
	case EX_NOHOST: return "EX_NOHOST";
	case EX_UNAVAILABLE: return "EX_UNAVAILABLE";
	case EX_SOFTWARE: return "EX_SOFTWARE";
	case EX_OSERR: return "EX_OSERR";
	case EX_OSFILE: return "EX_OSFILE";
	case EX_CANTCREAT: return "EX_CANTCREAT";
	case EX_IOERR: return "EX_IOERR";
	case EX_TEMPFAIL: return "EX_TEMPFAIL";
	case EX_PROTOCOL: return "EX_PROTOCOL";
	case EX_NOPERM: return "EX_NOPERM";
	case EX_CONFIG: return "EX_CONFIG";
	case EX_DEFERALL: return "EX_DEFERALL";
	case EX_DEFERBACK: return "EX_DEFERBACK";
	default:
		snprintf(other, sizeof(other), "EX_%d", code);
		return other;
	}
}

/* zfsync_dir - open dir, fsync, close */
int zfsync_dir(const char *dir)
{
	int fd, rc = Z_OK;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? Z_ENOENT : Z_EIO;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = Z_EIO;
	if (close(fd) != 0 && rc == Z_OK)
		rc = Z_EIO;
	return rc;
}

/* zparent - directory part of path into buf ("." when none) */
static int zparent(const char *path, char *buf, size_t bufsz)
{
	const char *slash = strrchr(path, '/');
	zspan s;

	if (slash == NULL)
		return zstrlcpy(buf, ".", bufsz);
	if (slash == path)
		return zstrlcpy(buf, "/", bufsz);
	s.p = path;
	s.n = (size_t)(slash - path);
	return zspan_copy(s, buf, bufsz);
}

/* zfsync_parent - fsync the directory containing path */
int zfsync_parent(const char *path)
{
	char dir[PATH_MAX];

	if (zparent(path, dir, sizeof(dir)) != Z_OK)
		return Z_ETOOBIG;
	return zfsync_dir(dir);
}

/* zrename_durable - rename then fsync both parent directories */
int zrename_durable(const char *from, const char *to)
{
	char d1[PATH_MAX], d2[PATH_MAX];
	int rc;

	if (zparent(from, d1, sizeof(d1)) != Z_OK || zparent(to, d2, sizeof(d2)) != Z_OK)
		return Z_ETOOBIG;
	if (rename(from, to) != 0)
		return errno == ENOENT ? Z_ENOENT : Z_EIO;
	rc = zfsync_dir(d2);
	if (rc == Z_OK && strcmp(d1, d2) != 0)
		rc = zfsync_dir(d1);
	return rc;
}

/* zwrite_all - write all n bytes */
int zwrite_all(int fd, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return Z_EIO;
		}
		if (w == 0)
			return Z_EIO;
		q += w;
		n -= (size_t)w;
	}
	return Z_OK;
}

/* zread_fd - read the rest of fd up to max bytes (appended to out) */
int zread_fd(int fd, size_t max, zbuf *out)
{
	char tmp[8192];
	size_t got = 0;

	for (;;) {
		ssize_t r = read(fd, tmp, sizeof(tmp));
		int rc;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? Z_EAGAIN : Z_EIO;
		}
		if (r == 0)
			return Z_OK;
		if ((size_t)r > max - got)
			return Z_ETOOBIG;
		got += (size_t)r;
		if ((rc = zbuf_append(out, tmp, (size_t)r)) != Z_OK)
			return rc;
	}
}

/* zread_file - read a whole regular file up to max bytes */
int zread_file(const char *path, size_t max, zbuf *out, zbuf *err)
{
	struct stat st;
	int fd = -1;
	int rc;

	zbuf_reset(out);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		rc = e == ENOENT ? Z_ENOENT : Z_EIO;
		if (err != NULL) {
			zbuf_reset(err);
			zbuf_printf(err, "%s: %s", path, strerror(e));
		}
		goto done;
	}
	if (fstat(fd, &st) != 0) {
		rc = Z_EIO;
		if (err != NULL) {
			zbuf_reset(err);
			zbuf_printf(err, "%s: %s", path, strerror(errno));
		}
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = Z_EIO;
		if (err != NULL) {
			zbuf_reset(err);
			zbuf_printf(err, "%s: not a regular file", path);
		}
		goto done;
	}
	if ((unsigned long long)st.st_size > (unsigned long long)max) {
		rc = Z_ETOOBIG;
		if (err != NULL) {
			zbuf_reset(err);
			zbuf_printf(err, "%s: file larger than %zu bytes", path, max);
		}
		goto done;
	}
	rc = zread_fd(fd, max, out);
	if (rc != Z_OK && err != NULL) {
		zbuf_reset(err);
		if (rc == Z_ETOOBIG)
			zbuf_printf(err, "%s: file larger than %zu bytes", path, max);
		else
			zbuf_printf(err, "%s: read failed: %s", path, zerr_str(rc));
	}
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* zmono_ms - monotonic milliseconds */
long long zmono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ztime_rfc5322 - RFC 5322 date in UTC */
int ztime_rfc5322(time_t t, char *buf, size_t bufsz)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int n;

	if (bufsz == 0)
		return Z_ETOOBIG;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11) {
		buf[0] = '\0';
		return Z_ERR;
	}
	n = snprintf(buf, bufsz, "%s, %d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= bufsz)
		return Z_ETOOBIG;
	return Z_OK;
}
