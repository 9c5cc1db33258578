/*
 * NAME
 *	spool - the POSTOFFICE tree: layout, hash prefixes, spool ids, job
 *	paths, quarantine
 * SUMMARY
 *	Everything that knows where files live in $POSTOFFICE.
 * SYNOPSIS
 *	int spool_init(const char *postoffice, int hashlevels, zbuf *err);
 *	int spool_init_report(const char *postoffice, int hashlevels,
 *		spool_note_fn note, void *arg, zbuf *err);
 *	int spool_init_owned(const char *postoffice, int hashlevels, uid_t uid,
 *		gid_t gid, spool_note_fn note, void *arg, zbuf *err);
 *	int spool_verify(const char *postoffice, zbuf *err);
 *	int spool_hash_prefix(unsigned long ino, int levels, char *out, size_t outsz);
 *	int spool_id_format(unsigned long ino, time_t mtime, long nsec,
 *		char *out, size_t outsz);
 *	int spool_jobpath_check(const char *path, size_t len, unsigned long *ino,
 *		size_t *prefix_len, zbuf *why);
 *	int spool_open_in_tree(int dirfd, const char *relpath, int flags, zbuf *why);
 *	int spool_quarantine(const char *postoffice, const char *rel,
 *		const char *body, const char *tag, const char *reason, zbuf *err);
 * DESCRIPTION
 *	spool_init creates the directories of zmta-spool(5) with their modes
 *	(setgid on every directory, as ZMailer's post-install does) and the
 *	A-Z hash levels under queue/ and transport/.  Existing directories
 *	are kept; a refused chmod(2) on one is only noted.  Modes follow the
 *	maildrop idea: the root and every directory but public/ are written
 *	by the mail system only (2755 root, 2750 the others); public/ is
 *	3733 (anyone may create a file but not list or remove others').
 *	spool_init_owned also gives every directory (never a file) to the
 *	mail system's uid:gid and then sets the mode again, so running it on
 *	an existing tree repairs owners and modes.
 *
 *	spool_jobpath_check is the gate for every job line a scheduler or an
 *	agent receives: only [A-Z/[A-Z/]]<digits> passes.  spool_open_in_tree
 *	opens a path one component at a time with O_NOFOLLOW so that a
 *	symbolic link planted anywhere in the tree is refused.
 *
 *	spool_quarantine moves a control file and its body into postman/
 *	(rename, never unlink) and writes a .reason file beside them.
 * DIAGNOSTICS
 *	Z_OK, or a negative Z_E* code with one line of text in err/why.
 * SECURITY
 *	Every path is built with pathf(), which refuses (Z_ETOOBIG) instead
 *	of cutting a path short.
 *	Job paths and control-file contents are outside data: they are
 *	validated before any path is built from them.  Nothing here deletes
 *	a message.
 * BUGS
 *	spool_quarantine cannot move a file across file systems (EXDEV when
 *	transport/ is mounted separately from postman/); it reports that and
 *	leaves the file in place.
 * SEE ALSO
 *	zmta-spool(5), zmta(8)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "zbuf.h"
#include "zutil.h"
#include "spool.h"

struct spool_owner {
	uid_t uid;
	gid_t gid;
};

struct spool_dir {
	const char *name;
	mode_t mode;
	int hashed;
};

/* only the mail system (ZMTA_USER) writes below the root; local users
 * drop submissions into public/: write-only, sticky, setgid (the mail
 * system's group reads them) */
static const struct spool_dir spool_dirs[] = {
	{ "public", 01733, 0 },
	{ "router", 0750, 0 },
	{ "queue", 0750, 1 },
	{ "transport", 0750, 1 },
	{ "deferred", 0750, 0 },
	{ "postman", 0750, 0 },
	{ "freezer", 0750, 0 },
};
#define NSPOOL_DIRS (sizeof(spool_dirs) / sizeof(spool_dirs[0]))

static int pathf(zbuf *err, char *buf, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* pathf - snprintf of a path; Z_ETOOBIG with a reason in err when it
 * would be cut (a cut path names another file) */
static int pathf(zbuf *err, char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sz) {
		if (sz > 0)
			buf[0] = '\0';
		if (err != NULL)
			zbuf_puts(err, "path too long");
		return Z_ETOOBIG;
	}
	return Z_OK;
}

/* make_dir - mkdir + chmod (+ chown when uid is not -1); *created tells
 * whether it is new.  Only directories are touched, never files. */
static int make_dir(const char *path, mode_t mode, int *created, const struct spool_owner *own,
		    zbuf *err)
{
	struct stat st;

	*created = 0;
	if (mkdir(path, mode & 0777) == 0) {
		*created = 1;
	} else if (errno != EEXIST) {
		zbuf_printf(err, "mkdir %s: %s", path, strerror(errno));
		return Z_EIO;
	}
	if (stat(path, &st) != 0) {
		zbuf_printf(err, "stat %s: %s", path, strerror(errno));
		return Z_EIO;
	}
	if (!S_ISDIR(st.st_mode)) {
		zbuf_printf(err, "%s exists and is not a directory", path);
		return Z_EIO;
	}
	if (own && own->uid != (uid_t)-1 && (st.st_uid != own->uid || st.st_gid != own->gid)) {
		if (chown(path, own->uid, own->gid) != 0) {
			zbuf_printf(err, "chown %s: %s", path, strerror(errno));
			return Z_EIO;
		}
		/* chown(2) clears the setgid bit: set the mode below */
		if (stat(path, &st) != 0) {
			zbuf_printf(err, "stat %s: %s", path, strerror(errno));
			return Z_EIO;
		}
	}
	if ((st.st_mode & 07777) != mode && chmod(path, mode) != 0) {
		/* an existing directory owned by someone else: keep it */
		if (*created || (errno != EPERM && errno != EACCES)) {
			zbuf_printf(err, "chmod %s: %s", path, strerror(errno));
			return Z_EIO;
		}
	}
	return Z_OK;
}

/* spool_init_report - spool_init that calls note() for every new dir */
int spool_init_report(const char *postoffice, int hashlevels, spool_note_fn note,
		      void *arg, zbuf *err)
{
	return spool_init_owned(postoffice, hashlevels, (uid_t)-1, (gid_t)-1, note, arg, err);
}

/* spool_init_owned - spool_init_report that also gives every directory
 * to uid:gid (uid (uid_t)-1: owners are left alone) */
int spool_init_owned(const char *postoffice, int hashlevels, uid_t uid, gid_t gid,
		     spool_note_fn note, void *arg, zbuf *err)
{
	struct spool_owner own = { uid, gid };
	char path[4096], sub[4200];
	int created, rc;

	if (postoffice == NULL || *postoffice == '\0') {
		zbuf_puts(err, "no POSTOFFICE directory given");
		return Z_ERR;
	}
	if (hashlevels < 0 || hashlevels > 2) {
		zbuf_printf(err, "hash levels must be 0, 1 or 2, not %d", hashlevels);
		return Z_ERR;
	}
	if (strlen(postoffice) > 3000) {
		zbuf_puts(err, "POSTOFFICE path too long");
		return Z_ETOOBIG;
	}
	if ((rc = make_dir(postoffice, 02755, &created, &own, err)) != Z_OK)
		return rc;
	if (created && note)
		note(arg, postoffice, 02755);
	for (size_t i = 0; i < NSPOOL_DIRS; i++) {
		mode_t m = 02000 | spool_dirs[i].mode;
		if (pathf(err, path, sizeof(path), "%s/%s", postoffice, spool_dirs[i].name) != Z_OK)
			return Z_ETOOBIG;
		if ((rc = make_dir(path, m, &created, &own, err)) != Z_OK)
			return rc;
		if (created && note)
			note(arg, path, m);
		if (!spool_dirs[i].hashed || hashlevels == 0)
			continue;
		for (int a = 0; a < 26; a++) {
			if (pathf(err, sub, sizeof(sub), "%s/%c", path, 'A' + a) != Z_OK)
				return Z_ETOOBIG;
			if ((rc = make_dir(sub, m, &created, &own, err)) != Z_OK)
				return rc;
			if (created && note)
				note(arg, sub, m);
			if (hashlevels < 2)
				continue;
			for (int b = 0; b < 26; b++) {
				if (pathf(err, sub, sizeof(sub), "%s/%c/%c", path, 'A' + a, 'A' + b) != Z_OK)
					return Z_ETOOBIG;
				if ((rc = make_dir(sub, m, &created, &own, err)) != Z_OK)
					return rc;
				if (created && note)
					note(arg, sub, m);
			}
		}
	}
	return Z_OK;
}

/* spool_init - create or verify every spool directory */
int spool_init(const char *postoffice, int hashlevels, zbuf *err)
{
	return spool_init_report(postoffice, hashlevels, NULL, NULL, err);
}

/* spool_verify - every directory exists and is a directory */
int spool_verify(const char *postoffice, zbuf *err)
{
	char path[4096];
	struct stat st;

	if (postoffice == NULL || strlen(postoffice) > 3000) {
		zbuf_puts(err, "bad POSTOFFICE path");
		return Z_ERR;
	}
	if (stat(postoffice, &st) != 0 || !S_ISDIR(st.st_mode)) {
		zbuf_printf(err, "%s: not a directory", postoffice);
		return Z_EIO;
	}
	for (size_t i = 0; i < NSPOOL_DIRS; i++) {
		if (pathf(err, path, sizeof(path), "%s/%s", postoffice, spool_dirs[i].name) != Z_OK)
			return Z_ETOOBIG;
		if (stat(path, &st) != 0) {
			zbuf_printf(err, "%s: %s", path, strerror(errno));
			return Z_EIO;
		}
		if (!S_ISDIR(st.st_mode)) {
			zbuf_printf(err, "%s: not a directory", path);
			return Z_EIO;
		}
	}
	return Z_OK;
}

/* spool_hash_prefix - "" / "X/" / "Y/X/" for ino */
int spool_hash_prefix(unsigned long ino, int levels, char *out, size_t outsz)
{
	if (out == NULL || outsz < 5 || levels < 0 || levels > 2)
		return Z_ERR;
	switch (levels) {
	case 0:
		out[0] = '\0';
		break;
	case 1:
		out[0] = (char)('A' + ino % 26);
		out[1] = '/';
		out[2] = '\0';
		break;
	default:
		out[0] = (char)('A' + (ino / 26) % 26);
		out[1] = '/';
		out[2] = (char)('A' + ino % 26);
		out[3] = '/';
		out[4] = '\0';
		break;
	}
	return Z_OK;
}

static const char spool_id_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123abcdefghijklmnopqrstuvwxyz4567890-";

/* spool_id_format - "S" + inode + 8 (or 13) time characters */
int spool_id_format(unsigned long ino, time_t mtime, long nsec, char *out, size_t outsz)
{
	struct tm tm;
	char t[14];
	size_t k = 0;
	long year;
	int n;

	if (out == NULL || outsz == 0)
		return Z_ERR;
	if (gmtime_r(&mtime, &tm) == NULL)
		return Z_ERR;
	year = (long)tm.tm_year + 1900;
	t[k++] = spool_id_alpha[(year >> 12) & 63];
	t[k++] = spool_id_alpha[(year >> 6) & 63];
	t[k++] = spool_id_alpha[year & 63];
	t[k++] = spool_id_alpha[tm.tm_mon & 63];
	t[k++] = spool_id_alpha[(tm.tm_mday - 1) & 63];
	t[k++] = spool_id_alpha[tm.tm_hour & 63];
	t[k++] = spool_id_alpha[tm.tm_min & 63];
	t[k++] = spool_id_alpha[tm.tm_sec & 63];
	if (nsec != 0) {
		t[k++] = spool_id_alpha[(nsec >> 24) & 63];
		t[k++] = spool_id_alpha[(nsec >> 18) & 63];
		t[k++] = spool_id_alpha[(nsec >> 12) & 63];
		t[k++] = spool_id_alpha[(nsec >> 6) & 63];
		t[k++] = spool_id_alpha[nsec & 63];
	}
	t[k] = '\0';
	n = snprintf(out, outsz, "S%lu%s", ino, t);
	if (n < 0 || (size_t)n >= outsz)
		return Z_ETOOBIG;
	return Z_OK;
}

/* spool_jobpath_check - accept only [A-Z/[A-Z/]]<digits> */
int spool_jobpath_check(const char *path, size_t len, unsigned long *ino,
			size_t *prefix_len, zbuf *why)
{
	size_t i = 0, plen;
	unsigned long v = 0;

	if (path == NULL || len == 0) {
		zbuf_puts(why, "empty job path");
		return Z_EPARSE;
	}
	if (len > SPOOL_JOBPATH_MAX) {
		zbuf_printf(why, "job path longer than %d bytes", SPOOL_JOBPATH_MAX);
		return Z_EPARSE;
	}
	if (memchr(path, '\0', len) != NULL) {
		zbuf_puts(why, "NUL byte in job path");
		return Z_EPARSE;
	}
	if (path[0] == '/') {
		zbuf_puts(why, "absolute job path refused");
		return Z_EPARSE;
	}
	if (len >= 2 && memmem(path, len, "..", 2) != NULL) {
		zbuf_puts(why, "\"..\" in job path refused");
		return Z_EPARSE;
	}
	/* up to two hash levels */
	for (int lvl = 0; lvl < 2; lvl++) {
		if (i + 1 < len && path[i] >= 'A' && path[i] <= 'Z' && path[i + 1] == '/')
			i += 2;
		else
			break;
	}
	plen = i;
	if (i >= len) {
		zbuf_puts(why, "job path has no message number");
		return Z_EPARSE;
	}
	if (path[i] < '1' || path[i] > '9') {
		if (path[i] >= 'A' && path[i] <= 'Z' && i + 1 < len && path[i + 1] == '/')
			zbuf_puts(why, "more than two hash levels in job path");
		else
			zbuf_printf(why, "job path must be [A-Z/[A-Z/]]<digits> with first digit 1-9 (bad byte at %zu)", i);
		return Z_EPARSE;
	}
	for (; i < len; i++) {
		unsigned d;
		if (path[i] < '0' || path[i] > '9') {
			zbuf_printf(why, "trailing junk after message number at byte %zu", i);
			return Z_EPARSE;
		}
		d = (unsigned)(path[i] - '0');
		if (v > (~0ul - d) / 10) {
			zbuf_puts(why, "message number too large");
			return Z_EPARSE;
		}
		v = v * 10 + d;
	}
	if (ino)
		*ino = v;
	if (prefix_len)
		*prefix_len = plen;
	return Z_OK;
}

/* refuse_reason - explain a failed openat of component name */
static int refuse_reason(int dfd, const char *name, const char *relpath, int e, zbuf *why)
{
	struct stat st;

	if ((e == ELOOP || e == ENOTDIR || e == EMLINK) &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		zbuf_printf(why, "%s: symlink out of the spool refused", relpath);
		return Z_EIO;
	}
	zbuf_printf(why, "%s: %s", relpath, strerror(e));
	errno = e;
	return e == ENOENT ? Z_ENOENT : Z_EIO;
}

/* spool_open_in_tree - open relpath under dirfd, no symlinks anywhere */
int spool_open_in_tree(int dirfd, const char *relpath, int flags, zbuf *why)
{
	char comp[256];
	const char *p, *slash;
	int cur = dirfd, fd = -1, rc;

	if (relpath == NULL || *relpath == '\0') {
		zbuf_puts(why, "empty path");
		return Z_EIO;
	}
	if (relpath[0] == '/') {
		zbuf_printf(why, "%s: absolute path refused", relpath);
		return Z_EIO;
	}
	p = relpath;
	for (;;) {
		size_t n;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= sizeof(comp)) {
			zbuf_printf(why, "%s: empty or over-long path component", relpath);
			rc = Z_EIO;
			goto done;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (strcmp(comp, "..") == 0 || strcmp(comp, ".") == 0) {
			zbuf_printf(why, "%s: \".\" or \"..\" component refused", relpath);
			rc = Z_EIO;
			goto done;
		}
		if (slash == NULL) {
			fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0) {
				rc = refuse_reason(cur, comp, relpath, errno, why);
				goto done;
			}
			rc = fd;
			goto done;
		}
		fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = refuse_reason(cur, comp, relpath, errno, why);
			goto done;
		}
		if (cur != dirfd)
			close(cur);
		cur = fd;
		fd = -1;
		p = slash + 1;
	}
done:
	if (cur != dirfd)
		close(cur);
	return rc;
}

/* name_ok - a single safe file-name component */
static int name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 127 || c == '/')
			return 0;
	}
	return 1;
}

/* rename_noreplace - rename that never overwrites; ENOSYS/EINVAL fall back */
static int rename_noreplace(const char *from, const char *to)
{
	struct stat st;

#ifdef RENAME_NOREPLACE
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/* spool_quarantine - move control file and body into postman/ with a reason */
int spool_quarantine(const char *postoffice, const char *rel, const char *body,
		     const char *tag, const char *reason, zbuf *err)
{
	char tdir[4096], qdir[4096], pdir[4096];
	char cpath[4400], bpath[4400], base[4400], dst[4500], tmp[4500] = "";
	char date[64];
	struct stat st, xs;
	const char *slash;
	size_t plen = 0;
	zbuf r = ZBUF_INIT(64 * 1024);
	int fd = -1, rc = Z_EIO, have_body = 0;
	time_t now = time(NULL);

	if (rel == NULL || *rel == '\0' || rel[0] == '/' || strlen(rel) > 256 ||
	    strstr(rel, "..") != NULL) {
		zbuf_printf(err, "quarantine: bad control file path \"%s\"", rel ? rel : "");
		return Z_ERR;
	}
	if (tag == NULL || !name_ok(tag, 64)) {
		zbuf_puts(err, "quarantine: bad tag (empty, '/', leading '.' or control bytes)");
		return Z_ERR;
	}
	if (body != NULL && !name_ok(body, 64)) {
		zbuf_puts(err, "quarantine: bad body file name");
		return Z_ERR;
	}
	if (postoffice == NULL) {
		snprintf(tdir, sizeof(tdir), ".");
		snprintf(qdir, sizeof(qdir), "../queue");
		snprintf(pdir, sizeof(pdir), "../postman");
	} else {
		if (strlen(postoffice) > 3000) {
			zbuf_puts(err, "quarantine: POSTOFFICE path too long");
			return Z_ERR;
		}
		if (pathf(err, tdir, sizeof(tdir), "%s/transport", postoffice) != Z_OK ||
		    pathf(err, qdir, sizeof(qdir), "%s/queue", postoffice) != Z_OK ||
		    pathf(err, pdir, sizeof(pdir), "%s/postman", postoffice) != Z_OK)
			return Z_ETOOBIG;
	}
	slash = strrchr(rel, '/');
	if (slash)
		plen = (size_t)(slash - rel) + 1;
	if (pathf(err, cpath, sizeof(cpath), "%s/%s", tdir, rel) != Z_OK)
		return Z_ETOOBIG;
	if (lstat(cpath, &st) != 0) {
		zbuf_printf(err, "quarantine: %s: %s", cpath, strerror(errno));
		return errno == ENOENT ? Z_ENOENT : Z_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		zbuf_printf(err, "quarantine: %s is not a regular file", cpath);
		return Z_ERR;
	}
	if (body != NULL) {
		struct stat bst;
		if (pathf(err, bpath, sizeof(bpath), "%s/%.*s%s", qdir, (int)plen, rel, body) != Z_OK)
			return Z_ETOOBIG;
		if (lstat(bpath, &bst) == 0 && S_ISREG(bst.st_mode))
			have_body = 1;
	}

	/* claim a base name: <ino>.<tag>, else <ino>.<tag>.<n> */
	for (int n = 0; n < 100; n++) {
		int k = n == 0 ?
			pathf(err, base, sizeof(base), "%s/%lu.%s", pdir, (unsigned long)st.st_ino, tag) :
			pathf(err, base, sizeof(base), "%s/%lu.%s.%d", pdir, (unsigned long)st.st_ino, tag, n);
		if (k != Z_OK || pathf(err, dst, sizeof(dst), "%s.body", base) != Z_OK)
			return Z_ETOOBIG;
		if (lstat(dst, &xs) == 0)
			continue;
		if (pathf(err, dst, sizeof(dst), "%s.reason", base) != Z_OK)
			return Z_ETOOBIG;
		if (lstat(dst, &xs) == 0)
			continue;
		if (rename_noreplace(cpath, base) == 0)
			goto moved;
		if (errno != EEXIST) {
			zbuf_printf(err, "quarantine: rename %s to %s: %s", cpath, base,
				    strerror(errno));
			return Z_EIO;
		}
	}
	zbuf_printf(err, "quarantine: no free name for %s in %s", rel, pdir);
	return Z_EIO;
moved:
	/* from here on the control file is in postman/: every exit fsyncs */
	if (have_body) {
		/* base + ".body" was checked to fit above */
		(void)pathf(NULL, dst, sizeof(dst), "%s.body", base);
		if (rename_noreplace(bpath, dst) != 0) {
			zbuf_printf(err, "quarantine: rename %s to %s: %s", bpath, dst,
				    strerror(errno));
			have_body = 0;  /* still in queue/: leave its directory be */
			goto done;
		}
	}
	ztime_rfc5322(now, date, sizeof(date));
	zbuf_printf(&r, "reason: ");
	for (const char *p = reason ? reason : "(none)"; *p && r.len < 60000; p++)
		zbuf_putc(&r, *p == '\n' ? ' ' : *p);
	zbuf_printf(&r, "\ntime: %lld (%s)\ncontrol: transport/%s\nbody: %s\n",
		    (long long)now, date, rel,
		    have_body ? bpath : "(none)");
	if (pathf(err, dst, sizeof(dst), "%s.reason", base) != Z_OK ||
	    pathf(err, tmp, sizeof(tmp), "%s.reason.tmp", base) != Z_OK)
		goto done;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		zbuf_printf(err, "quarantine: %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (zwrite_all(fd, r.data, r.len) != Z_OK || fsync(fd) != 0) {
		zbuf_printf(err, "quarantine: write %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) != 0) {
		fd = -1;
		zbuf_printf(err, "quarantine: close %s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, dst) != 0) {
		zbuf_printf(err, "quarantine: rename %s: %s", tmp, strerror(errno));
		goto done;
	}
	tmp[0] = '\0';         /* renamed: nothing to clean up */
	rc = Z_OK;
done:
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	if (zfsync_dir(pdir) != Z_OK || zfsync_parent(cpath) != Z_OK ||
	    (have_body && zfsync_parent(bpath) != Z_OK)) {
		if (rc == Z_OK)
			zbuf_printf(err, "quarantine: fsync of %s or the source directories failed",
				    pdir);
		rc = Z_EIO;
	}
	zbuf_free(&r);
	return rc;
}
