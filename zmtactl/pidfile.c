/*
 * NAME
 *	pidfile - single-instance pid files held by flock(2)
 * SUMMARY
 *	Take, write, probe and release the lock file of the zmta supervisor
 *	(and probe those of the daemons, e.g. $POSTOFFICE/.pid.scheduler).
 * SYNOPSIS
 *	int pidfile_lock(const char *path, int *fd, pid_t *holder, zbuf *err);
 *	int pidfile_write(int fd, pid_t pid, zbuf *err);
 *	void pidfile_release(int fd);
 *	int pidfile_probe(const char *path, pid_t *pid, zbuf *err);
 *	int pidfile_parse(const char *buf, size_t n, pid_t *pid);
 * DESCRIPTION
 *	A process runs while it holds an exclusive flock on its pid file;
 *	the lock goes away with the process, so a stale file is harmless and
 *	is taken over by the next start.  Files are never unlinked (that
 *	would let two starters lock two different files); release empties
 *	the file instead.  pidfile_probe tries a shared lock on a read-only
 *	descriptor: if that would block, the owner is alive.
 * DIAGNOSTICS
 *	Z_OK, Z_EAGAIN (held by another), Z_ENOENT (no owner), Z_EIO/Z_ERR
 *	with a reason naming the path.
 * SECURITY
 *	The file may live in $POSTOFFICE, a directory the mail system's
 *	user can write, while root opens it: it is opened with O_NOFOLLOW
 *	and O_NONBLOCK and refused unless it is a regular file with exactly
 *	one link, so root never truncates a file planted by another user.
 *	The pid read back is parsed strictly and bounded.
 * BUGS
 *	flock(2) locks do not work across NFS on old kernels.
 * SEE ALSO
 *	flock(2), zmta(8)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zerr.h"
#include "zutil.h"
#include "pidfile.h"

/* pidfile_parse - strict "<pid>\n" */
int pidfile_parse(const char *buf, size_t n, pid_t *pid)
{
	char tmp[24];
	unsigned long v;

	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n == 0 || n >= sizeof tmp || memchr(buf, '\0', n) != NULL)
		return Z_EPARSE;
	memcpy(tmp, buf, n);
	tmp[n] = '\0';
	if (tmp[0] < '1' || tmp[0] > '9' || zparse_ulong(tmp, 0x7fffffffUL, &v) != Z_OK)
		return Z_EPARSE;
	*pid = (pid_t)v;
	return Z_OK;
}

/* read_pid - the pid in an open pid file, 0 if unreadable */
static pid_t read_pid(int fd)
{
	char buf[32];
	pid_t pid = 0;
	ssize_t n = pread(fd, buf, sizeof buf, 0);

	if (n <= 0 || pidfile_parse(buf, (size_t)n, &pid) != Z_OK)
		return 0;
	return pid;
}

/* check_file - a regular file with one link */
static int check_file(int fd, const char *path, zbuf *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		zbuf_printf(err, "%s: %s", path, strerror(errno));
		return Z_EIO;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		zbuf_printf(err, "%s: not a plain file with one link: refused", path);
		return Z_ERR;
	}
	return Z_OK;
}

/* pidfile_lock - create/open and lock without waiting */
int pidfile_lock(const char *path, int *fd, pid_t *holder, zbuf *err)
{
	int f, rc;

	*fd = -1;
	*holder = 0;
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (f < 0) {
		zbuf_printf(err, "%s: %s", path, strerror(errno));
		return Z_EIO;
	}
	if ((rc = check_file(f, path, err)) != Z_OK)
		goto fail;
	/* a prober's short shared lock must not look like a running owner */
	for (int i = 0; i < 10 && flock(f, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK; i++)
		usleep(20000);
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			*holder = read_pid(f);
			rc = Z_EAGAIN;
		} else {
			zbuf_printf(err, "%s: flock: %s", path, strerror(errno));
			rc = Z_EIO;
		}
		goto fail;
	}
	*fd = f;
	return Z_OK;
fail:
	close(f);
	return rc;
}

/* pidfile_write - replace the content with "<pid>\n" */
int pidfile_write(int fd, pid_t pid, zbuf *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)pid);

	if (n < 0 || (size_t)n >= sizeof buf || ftruncate(fd, 0) != 0 ||
	    pwrite(fd, buf, (size_t)n, 0) != n) {
		zbuf_printf(err, "cannot write the pid file: %s", strerror(errno));
		return Z_EIO;
	}
	return Z_OK;
}

/* pidfile_release - empty and unlock */
void pidfile_release(int fd)
{
	if (fd < 0)
		return;
	(void)!ftruncate(fd, 0);
	close(fd);
}

/* pidfile_probe - is the file locked by a live process? */
int pidfile_probe(const char *path, pid_t *pid, zbuf *err)
{
	int f, rc;

	*pid = 0;
	f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (f < 0) {
		if (errno == ENOENT)
			return Z_ENOENT;
		zbuf_printf(err, "%s: %s", path, strerror(errno));
		return Z_EIO;
	}
	if ((rc = check_file(f, path, err)) != Z_OK)
		goto out;
	if (flock(f, LOCK_SH | LOCK_NB) == 0) {
		rc = Z_ENOENT;	/* nobody holds it; our lock goes with close */
	} else if (errno == EWOULDBLOCK) {
		*pid = read_pid(f);
		rc = Z_OK;
	} else {
		zbuf_printf(err, "%s: flock: %s", path, strerror(errno));
		rc = Z_EIO;
	}
out:
	close(f);
	return rc;
}
