/*
 * NAME
 *	orphans.c - remove message bodies whose control file is gone
 * SUMMARY
 *	At start-up, before the initial scan, the scheduler removes every
 *	body in queue/ (and its hash directories) that no control file
 *	names any more: what a crash between "control file unlinked" and
 *	"body unlinked" (removal.c) leaves behind.
 * SYNOPSIS
 *	unsigned long orphans_sweep(void);
 * DESCRIPTION
 *	Runs in transport/ (the scheduler's working directory).  For each
 *	numeric file queue/<prefix><n> (prefix "", "K/" or "E/K/"), the body
 *	stays when any of these exists, checked in this order:
 *	router/<n>, transport/<prefix>.<n> (the router's temp control file),
 *	transport/<prefix><n>, or a file named <n> or <n>.<anything> in
 *	deferred/ or postman/.  The router writes transport/<prefix>.<n>
 *	before it renames the body into queue/ and renames it to
 *	transport/<prefix><n> after, so checking the temp name first never
 *	misses a message in flight; only the scheduler removes
 *	transport/<prefix><n>, and it does not run yet.  Everything else is
 *	unlinked and each queue/ directory that lost a file is fsynced.
 *	First transport/ and its hash directories are listed once: a body
 *	whose number had a control file then is referenced without any
 *	check (only the scheduler removes control files, and it does not
 *	run yet), so a full queue costs a directory listing, not three
 *	lstat calls per message; only the other bodies get the ordered
 *	checks above (a listing that fails leaves every body to them).
 * DIAGNOSTICS
 *	zlog_info per removed body ("removed orphan body queue/..."),
 *	zlog_warn when queue/ cannot be read or a body cannot be removed.
 *	Returns the number of bodies removed.
 * SECURITY
 *	Names come from readdir of our own spool; only all-digit names are
 *	touched, paths are built with snprintf and checked for truncation;
 *	unlinkat never follows a symbolic link.
 * BUGS
 *	Must run before anything in this process removes control files, and
 *	while no other scheduler runs (the pid file lock guarantees that).
 * SEE ALSO
 *	scheduler(8), removal.c, router/router.c, zmta-spool(5)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orphans.h"
#include "zlog.h"
#include "zutil.h"

/* all_digits - s is a non-empty string of digits */
static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* the numbers of the control files in transport/ (and its hash
 * directories) when the sweep began: a body whose number is there is
 * referenced without a system call (only the scheduler removes control
 * files, and it does not yet); others get the full ordered check */
typedef struct numset {
	unsigned long *v;      /* 0 = empty slot (no message is number 0) */
	size_t cap, n;
} numset;

/* ns_slot - first slot of x */
static size_t ns_slot(const numset *s, unsigned long x)
{
	unsigned long long h = x * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 17) & (s->cap - 1);
}

/* ns_add - remember x; -1 without memory (the set is then dropped) */
static int ns_add(numset *s, unsigned long x)
{
	if (x == 0)
		return 0;
	if (2 * (s->n + 1) > s->cap) {
		numset t = { NULL, s->cap ? 2 * s->cap : 1024, 0 };
		t.v = calloc(t.cap, sizeof *t.v);
		if (t.v == NULL)
			return -1;
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i] != 0)
				(void)ns_add(&t, s->v[i]);
		free(s->v);
		*s = t;
	}
	size_t h = ns_slot(s, x);
	while (s->v[h] != 0 && s->v[h] != x)
		h = (h + 1) & (s->cap - 1);
	if (s->v[h] == 0) {
		s->v[h] = x;
		s->n++;
	}
	return 0;
}

/* ns_has - is x in the set? */
static int ns_has(const numset *s, unsigned long x)
{
	if (s->cap == 0 || x == 0)
		return 0;
	for (size_t h = ns_slot(s, x); s->v[h] != 0; h = (h + 1) & (s->cap - 1))
		if (s->v[h] == x)
			return 1;
	return 0;
}

/* parse_number - the value of an all-digit name; 0 when it is none */
static unsigned long parse_number(const char *n)
{
	unsigned long v = 0;
	if (!all_digits(n) || strlen(n) > 19)
		return 0;
	for (; *n; n++)
		v = v * 10 + (unsigned long)(*n - '0');
	return v;
}

/* collect - the control file numbers of transport/<prefix> and below;
 * -1 when a directory cannot be read or memory runs out */
static int collect(numset *s, const char *prefix, int depth)
{
	char dir[32];
	int k = snprintf(dir, sizeof dir, "./%s", prefix), rc = 0;
	if (k < 0 || (size_t)k >= sizeof dir)
		return -1;
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (depth > 0 && n[0] >= 'A' && n[0] <= 'Z' && n[1] == '\0') {
			char sub[16];
			k = snprintf(sub, sizeof sub, "%s%s/", prefix, n);
			if (k > 0 && (size_t)k < sizeof sub)
				rc = collect(s, sub, depth - 1);
			continue;
		}
		unsigned long x = parse_number(n);
		if (x != 0)
			rc = ns_add(s, x);
	}
	closedir(d);
	return rc;
}

/* exists - does the path (relative to transport/) exist? */
static int exists(const char *path)
{
	struct stat st;
	return fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

/* named_in - does dir hold a file "<n>" or "<n>.<anything>"? */
static int named_in(const char *dir, const char *n)
{
	size_t len = strlen(n);
	int found = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno != ENOENT;	/* cannot tell: keep the body */
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, n, len) == 0 &&
		    (de->d_name[len] == '\0' || de->d_name[len] == '.')) {
			found = 1;
			break;
		}
	}
	closedir(d);
	return found;
}

/* referenced - is the body queue/<prefix><n> still someone's? */
static int referenced(const numset *ctl, const char *prefix, const char *n)
{
	char p[512];
	int k;
	if (ns_has(ctl, parse_number(n)))
		return 1;	/* its control file was there, and still is */
	k = snprintf(p, sizeof p, "../router/%s", n);
	if (k < 0 || (size_t)k >= sizeof p || exists(p))
		return 1;
	k = snprintf(p, sizeof p, "%s.%s", prefix, n);
	if (k < 0 || (size_t)k >= sizeof p || exists(p))
		return 1;
	k = snprintf(p, sizeof p, "%s%s", prefix, n);
	if (k < 0 || (size_t)k >= sizeof p || exists(p))
		return 1;
	return named_in("../deferred", n) || named_in("../postman", n);
}

/* sweep_dir - one queue/ directory (prefix "", "K/", "E/K/"); depth left */
static unsigned long sweep_dir(const numset *ctl, const char *prefix, int depth)
{
	char qdir[512];
	unsigned long removed = 0;
	int k = snprintf(qdir, sizeof qdir, "../queue/%s", prefix);
	if (k < 0 || (size_t)k >= sizeof qdir)
		return 0;
	DIR *d = opendir(qdir);
	if (d == NULL) {
		if (errno != ENOENT)
			zlog_warn(NULL, "orphan sweep: cannot read %s: %s", qdir, strerror(errno));
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (depth > 0 && n[0] >= 'A' && n[0] <= 'Z' && n[1] == '\0') {
			char sub[16];
			k = snprintf(sub, sizeof sub, "%s%s/", prefix, n);
			if (k > 0 && (size_t)k < sizeof sub)
				removed += sweep_dir(ctl, sub, depth - 1);
			continue;
		}
		if (!all_digits(n) || referenced(ctl, prefix, n))
			continue;
		if (unlinkat(dirfd(d), n, 0) != 0) {
			if (errno != ENOENT)
				zlog_warn(NULL, "orphan sweep: cannot remove %s%s: %s", qdir, n,
					  strerror(errno));
			continue;
		}
		zlog_info(NULL, "removed orphan body queue/%s%s (no control file)", prefix, n);
		removed++;
	}
	if (removed && fsync(dirfd(d)) != 0)
		zlog_warn(NULL, "orphan sweep: fsync %s: %s", qdir, strerror(errno));
	closedir(d);
	return removed;
}

/* orphans_sweep - see orphans.h */
unsigned long orphans_sweep(void)
{
	numset ctl = { NULL, 0, 0 };
	if (collect(&ctl, "", 2) != 0) {
		/* cannot tell from the listing: every body is checked in full */
		free(ctl.v);
		ctl = (numset){ NULL, 0, 0 };
	}
	unsigned long removed = sweep_dir(&ctl, "", 2);
	free(ctl.v);
	return removed;
}
