/*
 * NAME
 *	rderr.so - LD_PRELOAD shim that makes reads of chosen files fail
 *	with a system error (test tool)
 * SUMMARY
 *	Wraps pread and pread64.  The first $RDERR_COUNT calls (default 1)
 *	on a regular file whose path contains $RDERR_MATCH fail with errno
 *	$RDERR_ERRNO (default EIO); every other call goes through.
 * SYNOPSIS
 *	cc -shared -fPIC -o rderr.so rderr.c -ldl
 *	RDERR_MATCH=/transport/123 LD_PRELOAD=./rderr.so program ...
 * DESCRIPTION
 *	The path is read back with readlink(/proc/self/fd/N), so sockets,
 *	pipes and terminals are never touched.  RDERR_ERRNO is a number or
 *	one of EIO, EMFILE, ENOMEM.  RDERR_LOG names a file that gets one
 *	line "rderr pid path" per injected fault, so a test can tell that the
 *	fault really fired.
 * DIAGNOSTICS
 *	None of its own: the wrapped call returns -1 with the chosen errno.
 * SECURITY
 *	A test tool; never install it.  Trusts its environment.
 * BUGS
 *	read(2) is not wrapped (the control-file reader uses pread).  Not
 *	thread safe (the programs under test are single-threaded).
 * SEE ALSO
 *	tests/integration/sched-readerr.sh, tests/tools/enospc.c
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
#include <unistd.h>

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pread64_fn)(int, void *, size_t, off64_t);

static long fired;

/* real_sym - the next definition of a symbol (libc's) */
static void *real_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		static const char msg[] = "rderr.so: dlsym failed\n";
		syscall(SYS_write, 2, msg, sizeof(msg) - 1);
		abort();
	}
	return p;
}

/* chosen_errno - RDERR_ERRNO as a number */
static int chosen_errno(void)
{
	const char *v = getenv("RDERR_ERRNO");

	if (v == NULL || *v == '\0' || strcmp(v, "EIO") == 0)
		return EIO;
	if (strcmp(v, "EMFILE") == 0)
		return EMFILE;
	if (strcmp(v, "ENOMEM") == 0)
		return ENOMEM;
	return (int)strtol(v, NULL, 10);
}

/* should_fail - a matching regular file, and faults left to inject */
static int should_fail(int fd)
{
	const char *m = getenv("RDERR_MATCH");
	const char *c = getenv("RDERR_COUNT");
	const char *log = getenv("RDERR_LOG");
	long count = c && *c ? strtol(c, NULL, 10) : 1;
	char link[64], path[4096], line[4200];
	struct stat st;
	ssize_t n;

	if (m == NULL || *m == '\0' || fd < 0 || fired >= count)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	if (strstr(path, m) == NULL)
		return 0;
	fired++;
	if (log != NULL && *log != '\0') {
		int k = snprintf(line, sizeof(line), "rderr %ld %s\n", (long)getpid(), path);
		int lfd = (int)syscall(SYS_open, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (lfd >= 0) {
			if (k > 0 && (size_t)k < sizeof(line))
				syscall(SYS_write, lfd, line, (size_t)k);
			syscall(SYS_close, lfd);
		}
	}
	return 1;
}

/* pread - fail chosen calls */
ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	static pread_fn real;

	if (real == NULL)
		real = (pread_fn)real_sym("pread");
	if (should_fail(fd)) {
		errno = chosen_errno();
		return -1;
	}
	return real(fd, buf, n, off);
}

/* pread64 - the same for the 64-bit name */
ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	static pread64_fn real;

	if (real == NULL)
		real = (pread64_fn)real_sym("pread64");
	if (should_fail(fd)) {
		errno = chosen_errno();
		return -1;
	}
	return real(fd, buf, n, off);
}
