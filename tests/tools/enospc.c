/*
 * NAME
 *	enospc.so - LD_PRELOAD shim that makes chosen files behave as if the
 *	disk were full (test tool)
 * SUMMARY
 *	Wraps write, pwrite, pwrite64, writev, pwritev, fsync and fdatasync.
 *	A call on a descriptor whose path contains $ENOSPC_MATCH fails with
 *	ENOSPC when the rules below say so; every other call goes through.
 * SYNOPSIS
 *	cc -shared -fPIC -o enospc.so enospc.c -ldl
 *	ENOSPC_MATCH=/transport/ LD_PRELOAD=./enospc.so program ...
 * DESCRIPTION
 *	Only regular files (and, for fsync, directories) are candidates; the
 *	path is read back with readlink(/proc/self/fd/N), so sockets, pipes,
 *	terminals and stderr are never touched.  Variables:
 *	  ENOSPC_MATCH   substring of the path (required; unset = shim idle)
 *	  ENOSPC_GROW    1 (default): only writes that would make the file
 *	                 longer fail, as on a real full disk where rewriting
 *	                 allocated bytes in place still works (tag patches);
 *	                 0: every matching write fails
 *	  ENOSPC_AFTER   let this many bytes of matching writes through first
 *	                 (per process, counted over all matching files); the
 *	                 write that crosses the limit is cut short, the next
 *	                 one fails
 *	  ENOSPC_NTH     only the N-th candidate write call fails (1-based)
 *	  ENOSPC_FSYNC   1: fsync/fdatasync of matching files and
 *	                 directories fail too (default 0)
 *	  ENOSPC_LOG     file to which one line per injected fault is appended
 *	                 ("enospc pid op path"), so a test can tell the fault
 *	                 really fired
 * DIAGNOSTICS
 *	None of its own: the wrapped call returns -1 with errno ENOSPC, or a
 *	short count.
 * SECURITY
 *	A test tool; never install it.  Trusts its environment.
 * BUGS
 *	stdio and other glibc-internal writes do not go through the PLT and are
 *	not affected.  A binary built with AddressSanitizer intercepts write
 *	itself; the test script skips in that case.  Not thread safe (the
 *	programs under test are single-threaded).
 * SEE ALSO
 *	tests/integration/faults-disk.sh, zmta-spool(5)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*fsync_fn)(int);

static unsigned long long passed_bytes;
static unsigned long candidate_calls;

/* env_num - numeric environment variable, or dflt */
static long long env_num(const char *name, long long dflt)
{
	const char *v = getenv(name);
	char *end;
	long long n;

	if (v == NULL || *v == '\0')
		return dflt;
	n = strtoll(v, &end, 10);
	return *end == '\0' ? n : dflt;
}

/* real_sym - the next definition of a symbol (libc's) */
static void *real_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		static const char msg[] = "enospc.so: dlsym failed\n";
		syscall(SYS_write, 2, msg, sizeof(msg) - 1);
		abort();
	}
	return p;
}

/* fd_matches - fd is a regular file (or directory if dirs) under MATCH */
static int fd_matches(int fd, int dirs, char *path, size_t pathsz)
{
	const char *m = getenv("ENOSPC_MATCH");
	char link[64];
	struct stat st;
	ssize_t n;

	if (m == NULL || *m == '\0' || fd < 0)
		return 0;
	if (fstat(fd, &st) != 0)
		return 0;
	if (!S_ISREG(st.st_mode) && !(dirs && S_ISDIR(st.st_mode)))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, pathsz - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, m) != NULL;
}

/* note - append "enospc pid op path" to $ENOSPC_LOG */
static void note(const char *op, const char *path)
{
	const char *log = getenv("ENOSPC_LOG");
	char line[4400];
	int fd, n;

	if (log == NULL || *log == '\0')
		return;
	n = snprintf(line, sizeof(line), "enospc %ld %s %s\n", (long)getpid(), op, path);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	fd = (int)syscall(SYS_open, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	syscall(SYS_write, fd, line, (size_t)n);
	syscall(SYS_close, fd);
}

/* allowed - bytes of an n-byte write at off (-1: current position or
 * O_APPEND) that may go through; 0 with errno = ENOSPC means fail */
static size_t allowed(int fd, size_t n, off_t off, const char *op)
{
	char path[4096];
	long long after = env_num("ENOSPC_AFTER", -1);
	long long nth = env_num("ENOSPC_NTH", 0);
	struct stat st;
	off_t pos;
	int fl;

	if (n == 0 || !fd_matches(fd, 0, path, sizeof(path)))
		return n;
	if (env_num("ENOSPC_GROW", 1) != 0 && fstat(fd, &st) == 0) {
		/* O_APPEND always grows the file (pwrite too, on Linux) */
		fl = fcntl(fd, F_GETFL);
		pos = off >= 0 ? off : lseek(fd, 0, SEEK_CUR);
		if (fl >= 0 && !(fl & O_APPEND) && pos >= 0 &&
		    pos + (off_t)n <= st.st_size)
			return n;       /* overwrites allocated bytes: works */
	}
	candidate_calls++;
	if (nth > 0 && candidate_calls != (unsigned long)nth)
		return n;
	if (after >= 0 && passed_bytes < (unsigned long long)after) {
		unsigned long long room = (unsigned long long)after - passed_bytes;
		size_t give = room < n ? (size_t)room : n;
		passed_bytes += give;
		if (give < n)
			note("short", path);
		return give;
	}
	note(op, path);
	errno = ENOSPC;
	return 0;
}

/* write - write(2), failing per the rules */
ssize_t write(int fd, const void *buf, size_t n)
{
	static write_fn real;
	size_t k;

	if (real == NULL)
		real = (write_fn)real_sym("write");
	k = allowed(fd, n, -1, "write");
	if (k == 0 && n > 0)
		return -1;
	return real(fd, buf, k);
}

/* pwrite - pwrite(2), failing per the rules */
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static pwrite_fn real;
	size_t k;

	if (real == NULL)
		real = (pwrite_fn)real_sym("pwrite");
	k = allowed(fd, n, off, "pwrite");
	if (k == 0 && n > 0)
		return -1;
	return real(fd, buf, k, off);
}

/* pwrite64 - the large-file name of pwrite */
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	static pwrite64_fn real;
	size_t k;

	if (real == NULL)
		real = (pwrite64_fn)real_sym("pwrite64");
	k = allowed(fd, n, (off_t)off, "pwrite");
	if (k == 0 && n > 0)
		return -1;
	return real(fd, buf, k, off);
}

/* iov_total - bytes in an iovec array */
static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;

	for (int i = 0; i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

/* first_bytes - write only the first k bytes of an iovec array */
static ssize_t first_bytes(int fd, const struct iovec *iov, int cnt, size_t k, off_t off)
{
	static write_fn rw;
	static pwrite_fn rpw;
	size_t done = 0;

	if (rw == NULL)
		rw = (write_fn)real_sym("write");
	if (rpw == NULL)
		rpw = (pwrite_fn)real_sym("pwrite");
	for (int i = 0; i < cnt && done < k; i++) {
		size_t len = iov[i].iov_len < k - done ? iov[i].iov_len : k - done;
		ssize_t w = off >= 0 ? rpw(fd, iov[i].iov_base, len, off + (off_t)done)
				     : rw(fd, iov[i].iov_base, len);
		if (w < 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)w;
		if ((size_t)w < len)
			break;
	}
	return (ssize_t)done;
}

/* writev - writev(2), failing or cut short per the rules */
ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	static writev_fn real;
	size_t n = iov_total(iov, cnt), k;

	if (real == NULL)
		real = (writev_fn)real_sym("writev");
	k = allowed(fd, n, -1, "writev");
	if (k == n)
		return real(fd, iov, cnt);
	if (k == 0)
		return -1;
	return first_bytes(fd, iov, cnt, k, -1);
}

/* pwritev - pwritev(2), failing or cut short per the rules */
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	static pwritev_fn real;
	size_t n = iov_total(iov, cnt), k;

	if (real == NULL)
		real = (pwritev_fn)real_sym("pwritev");
	k = allowed(fd, n, off, "pwritev");
	if (k == n)
		return real(fd, iov, cnt, off);
	if (k == 0)
		return -1;
	return first_bytes(fd, iov, cnt, k, off);
}

/* sync_fails - fsync/fdatasync of fd should fail */
static int sync_fails(int fd, const char *op)
{
	char path[4096];

	if (env_num("ENOSPC_FSYNC", 0) == 0 || !fd_matches(fd, 1, path, sizeof(path)))
		return 0;
	note(op, path);
	errno = ENOSPC;
	return 1;
}

/* fsync - fsync(2), failing when ENOSPC_FSYNC is set */
int fsync(int fd)
{
	static fsync_fn real;

	if (real == NULL)
		real = (fsync_fn)real_sym("fsync");
	return sync_fails(fd, "fsync") ? -1 : real(fd);
}

/* fdatasync - fdatasync(2), failing when ENOSPC_FSYNC is set */
int fdatasync(int fd)
{
	static fsync_fn real;

	if (real == NULL)
		real = (fsync_fn)real_sym("fdatasync");
	return sync_fails(fd, "fdatasync") ? -1 : real(fd);
}
