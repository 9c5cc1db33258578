/*
 * NAME
 *	submit - write a submission file into the spool (ZMailer's mail_open
 *	and mail_close)
 * SUMMARY
 *	Scratch file in public/, durable rename into router/, notify.
 * SYNOPSIS
 *	int submit_open(submit *s, const char *postoffice, zbuf *err);
 *	int submit_begin(submit *s, const char *postoffice, zbuf *err);
 *	int submit_source_fd(submit *s, int fd);
 *	int submit_env(submit *s, const char *keyword, const char *value);
 *	int submit_write(submit *s, const void *p, size_t n);
 *	int submit_commit(submit *s, const char *dir, int hashlevels,
 *		unsigned long *ino, zbuf *err);
 *	void submit_no_scratch_sync(submit *s);
 *	int submit_commit_flags(submit *s, const char *dir, int hashlevels,
 *		unsigned flags, unsigned long *ino, zbuf *err);
 *	void submit_announce(const submit *s);
 *	void submit_announce_on(const submit *s, int sockfd);
 *	void submit_abort(submit *s);
 *	int submit_notify(const char *sockpath, const char *text);
 * DESCRIPTION
 *	submit_open creates public/<host>:<pid>[.<n>] (n counts the files of
 *	this process, so many can be open at once) with O_CREAT|O_EXCL and
 *	mode 0640 (public/ is setgid: the file gets the mail system's group,
 *	so the router can read it); its inode number becomes the message id.  submit_env
 *	writes "keyword value" envelope lines (the caller ends the envelope
 *	with submit_env(s, "env-end", NULL)); submit_write appends the
 *	message.  submit_commit fsyncs the file, renames it to
 *	<dir>/[X/]<ino>, fsyncs both directories, closes the file and sends "NEW <dir>
 *	[X/]<ino>" to $POSTOFFICE/.router.notify (a lost datagram is
 *	harmless: the router rescans).  submit_commit_flags with
 *	SUBMIT_NODIRSYNC stops after the rename (and the file's close): a
 *	caller committing many files fsyncs <dir> once for all of them (a
 *	group commit) and then sends each one's notice with submit_announce;
 *	the file is durable only after that directory fsync.  Until the rename, the file is only
 *	scratch; after it, the router owns it.  A submitter that is not the
 *	mail system may not write router/ (mode 2750): its finished file is
 *	renamed to public/<ino> instead (digits only: finished, never
 *	scratch) and "NEW public <ino>" is sent; the router picks it up.
 *	Such a submitter cannot open public/ (mode 3733) to fsync it, so
 *	the file itself is fsynced once more after the rename, which
 *	commits the rename with it on Linux's journalling file systems.
 *	submit_begin makes a deferred handle: nothing is created; the
 *	envelope and message bytes are kept in memory, submit_source_fd
 *	adds the bytes of a descriptor (from offset 0 to its end, read
 *	with pread) after them, and submit_commit[_flags] first creates
 *	the scratch file and writes it all, then goes on as above.  So a
 *	program can leave the file's creation and writing to a worker
 *	thread (smtpserver's commit pool); the message id is known only
 *	after the commit.
 *	Last, public/ is fsynced so the scratch name's removal is on disk
 *	sooner; submit_no_scratch_sync (after submit_open) skips that
 *	fsync, which the message's durability does not need (the rename is
 *	one journal operation: the fsync of router/ commits it).
 * DIAGNOSTICS
 *	Z_OK or Z_EIO/Z_EPARSE/Z_ERR; submit_open and submit_commit put text
 *	in err.  A failed write marks the handle and makes submit_commit
 *	fail, so a partial file never reaches router/.
 * SECURITY
 *	Paths that would not fit their buffers are refused, never cut.
 *	Envelope keywords and values must not contain a newline: a value
 *	could otherwise forge envelope lines.  The directory name is checked
 *	to be one plain component.
 * BUGS
 *	Envelope lines and small writes are gathered in a 4 KB buffer of
 *	the handle (one write(2) for most envelopes and small messages): a
 *	write error may show only at submit_commit, which then fails.  The rename of an
 *	unprivileged submitter to public/<ino> is committed by the file's
 *	fsync only on journalling file systems that order it so (ext4, xfs,
 *	btrfs); elsewhere it is durable with the next sync.
 * SEE ALSO
 *	zmta-spool(5)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zbuf.h"
#include "zlog.h"
#include "zutil.h"
#include "spool.h"
#include "submit.h"

/* scratch names of this process: <pid>, then <pid>.1, <pid>.2, ... */
static unsigned long submit_seq;

/* submit_init - an empty handle for postoffice (failed until opened) */
static int submit_init(submit *s, const char *postoffice, zbuf *err)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->srcfd = -1;
	s->failed = 1;
	if (postoffice == NULL || *postoffice == '\0' ||
	    zstrlcpy(s->postoffice, postoffice, sizeof(s->postoffice)) != Z_OK ||
	    strlen(postoffice) > 4000) {
		zbuf_puts(err, "submit: bad POSTOFFICE path");
		return Z_ERR;
	}
	return Z_OK;
}

/* the host part of scratch names, found once per process (scratch_host) */
static char scratch_hostname[64];
static pthread_once_t scratch_host_once = PTHREAD_ONCE_INIT;

/* scratch_host_init - gethostname, cut and made safe for a file name */
static void scratch_host_init(void)
{
	char *host = scratch_hostname;

	if (gethostname(host, sizeof(scratch_hostname)) != 0)
		zstrlcpy(host, "localhost", sizeof(scratch_hostname));
	host[sizeof(scratch_hostname) - 1] = '\0';
	host[19] = '\0';        /* ZMailer truncates the host part to 19 bytes */
	for (char *p = host; *p; p++)
		if (*p == '/' || *p <= ' ' || *p >= 127)
			*p = '_';
	if (host[0] == '\0')
		zstrlcpy(host, "localhost", sizeof(scratch_hostname));
}

/* scratch_create - create public/<host>:<pid>[.<n>]: s->fd, s->ino */
static int scratch_create(submit *s, zbuf *err)
{
	char name[48];
	const char *postoffice = s->postoffice, *host;
	struct stat st;
	int fd = -1;

	/* no uname(2) per message: the name only has to be unique */
	(void)pthread_once(&scratch_host_once, scratch_host_init);
	host = scratch_hostname;
	long pid = (long)getpid();
	for (int k = 0; k < 100; k++) {
		/* a number of this process's own: many files of one process
		 * can be open at once (smtpserver's commit pool) */
		unsigned long n = __atomic_fetch_add(&submit_seq, 1, __ATOMIC_RELAXED);
		if (n == 0)
			snprintf(name, sizeof(name), "%ld", pid);
		else
			snprintf(name, sizeof(name), "%ld.%lu", pid, n);
		int k = snprintf(s->tmppath, sizeof(s->tmppath), "%s/public/%s:%s", postoffice, host,
				 name);
		if (k < 0 || (size_t)k >= sizeof(s->tmppath)) {
			zbuf_puts(err, "submit: scratch path too long");
			s->tmppath[0] = '\0';
			return Z_ERR;
		}
		fd = open(s->tmppath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		zbuf_printf(err, "submit: %s: %s", s->tmppath, strerror(errno));
		s->tmppath[0] = '\0';
		return Z_EIO;
	}
	if (fstat(fd, &st) != 0) {
		zbuf_printf(err, "submit: fstat %s: %s", s->tmppath, strerror(errno));
		close(fd);
		unlink(s->tmppath);
		s->tmppath[0] = '\0';
		return Z_EIO;
	}
	s->fd = fd;
	s->ino = (unsigned long)st.st_ino;
	return Z_OK;
}

/* submit_open - create public/<host>:<pid>[.<n>] */
int submit_open(submit *s, const char *postoffice, zbuf *err)
{
	int rc = submit_init(s, postoffice, err);

	if (rc == Z_OK && (rc = scratch_create(s, err)) == Z_OK)
		s->failed = 0;
	return rc;
}

/* submit_begin - a deferred handle: the file comes at the commit */
int submit_begin(submit *s, const char *postoffice, zbuf *err)
{
	int rc = submit_init(s, postoffice, err);

	if (rc == Z_OK) {
		s->deferred = 1;
		s->failed = 0;
	}
	return rc;
}

/* submit_source_fd - the rest of a deferred handle's message is fd's */
int submit_source_fd(submit *s, int fd)
{
	if (!s->deferred || s->failed || s->srcfd >= 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		s->failed = 1;
		return Z_ERR;
	}
	s->srcfd = fd;
	return Z_OK;
}

/* mem_put - a deferred handle's bytes; Z_OK or Z_ENOMEM (the handle failed) */
static int mem_put(submit *s, const void *p, size_t n)
{
	if (s->srcfd >= 0) {
		s->failed = 1;   /* nothing may follow submit_source_fd */
		return Z_ERR;
	}
	if (n > s->memcap - s->memlen) {
		size_t cap = s->memcap ? s->memcap : 8192;
		while (cap - s->memlen < n) {
			if (cap > ((size_t)-1) / 2) {
				s->failed = 1;
				return Z_ENOMEM;
			}
			cap *= 2;
		}
		char *m = realloc(s->mem, cap);
		if (m == NULL) {
			s->failed = 1;
			return Z_ENOMEM;
		}
		s->mem = m;
		s->memcap = cap;
	}
	memcpy(s->mem + s->memlen, p, n);
	s->memlen += n;
	return Z_OK;
}

/* materialise - a deferred handle's file: created, memory and source
 * written; Z_OK, or Z_EIO with text in err */
static int materialise(submit *s, zbuf *err)
{
	char buf[65536];
	off_t off = 0;
	int rc = scratch_create(s, err);

	if (rc != Z_OK)
		return rc;
	s->deferred = 0;
	if (s->memlen > 0 && zwrite_all(s->fd, s->mem, s->memlen) != Z_OK) {
		zbuf_printf(err, "submit: write %s: %s", s->tmppath, strerror(errno));
		return Z_EIO;
	}
	free(s->mem);
	s->mem = NULL;
	s->memlen = s->memcap = 0;
	while (s->srcfd >= 0) {
		ssize_t r = pread(s->srcfd, buf, sizeof(buf), off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			zbuf_printf(err, "submit: reading the message: %s", strerror(errno));
			return Z_EIO;
		}
		if (r == 0)
			break;
		if (zwrite_all(s->fd, buf, (size_t)r) != Z_OK) {
			zbuf_printf(err, "submit: write %s: %s", s->tmppath, strerror(errno));
			return Z_EIO;
		}
		off += r;
	}
	if (s->srcfd >= 0)
		close(s->srcfd);
	s->srcfd = -1;
	return Z_OK;
}

/* submit_no_scratch_sync - skip the fsync of public/ after the rename */
void submit_no_scratch_sync(submit *s)
{
	s->no_scratch_sync = 1;
}

/* submit_flush - write what wb holds; Z_OK or Z_EIO (the handle failed) */
static int submit_flush(submit *s)
{
	if (s->wlen > 0 && zwrite_all(s->fd, s->wb, s->wlen) != Z_OK) {
		s->failed = 1;
		return Z_EIO;
	}
	s->wlen = 0;
	return Z_OK;
}

/* submit_put - n bytes through wb (bigger pieces straight to the file) */
static int submit_put(submit *s, const void *p, size_t n)
{
	if (s->deferred)
		return mem_put(s, p, n);
	if (s->wlen + n > sizeof(s->wb) && submit_flush(s) != Z_OK)
		return Z_EIO;
	if (n <= sizeof(s->wb) - s->wlen) {
		memcpy(s->wb + s->wlen, p, n);
		s->wlen += n;
		return Z_OK;
	}
	if (zwrite_all(s->fd, p, n) != Z_OK) {
		s->failed = 1;
		return Z_EIO;
	}
	return Z_OK;
}

/* submit_env - one envelope line "keyword[ value]\n" */
int submit_env(submit *s, const char *keyword, const char *value)
{
	zbuf line = ZBUF_INIT(64 * 1024);
	int rc;

	if ((s->fd < 0 && !s->deferred) || s->failed)
		return Z_EIO;
	if (keyword == NULL || *keyword == '\0' || strpbrk(keyword, " \t\r\n") != NULL ||
	    (value != NULL && strpbrk(value, "\r\n") != NULL))
		return Z_EPARSE;
	rc = zbuf_puts(&line, keyword);
	if (rc == Z_OK && value != NULL) {
		rc = zbuf_putc(&line, ' ');
		if (rc == Z_OK)
			rc = zbuf_puts(&line, value);
	}
	if (rc == Z_OK)
		rc = zbuf_putc(&line, '\n');
	if (rc == Z_OK)
		rc = submit_put(s, line.data, line.len);
	zbuf_free(&line);
	return rc;
}

/* submit_write - raw message bytes */
int submit_write(submit *s, const void *p, size_t n)
{
	if ((s->fd < 0 && !s->deferred) || s->failed)
		return Z_EIO;
	if (n == 0)
		return Z_OK;
	return submit_put(s, p, n);
}

/* submit_commit - fsync, close, rename to <dir>/[X/]<ino>, fsync, notify */
int submit_commit(submit *s, const char *dir, int hashlevels, unsigned long *ino, zbuf *err)
{
	return submit_commit_flags(s, dir, hashlevels, 0, ino, err);
}

/* submit_announce - "NEW <dir> [X/]<ino>" for a committed handle */
void submit_announce(const submit *s)
{
	submit_announce_on(s, -1);
}

/* submit_announce_on - the same through sockfd, an AF_UNIX datagram socket
 * the caller keeps (-1: a socket of its own for this one note) */
void submit_announce_on(const submit *s, int sockfd)
{
	struct sockaddr_un sa;
	char msg[128];
	int k, km = snprintf(msg, sizeof(msg), "NEW %s %s%lu", s->donedir, s->doneprefix, s->ino);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	k = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/.router.notify", s->postoffice);
	/* a lost (or unsendable) note only waits for the next scan */
	if (k <= 0 || (size_t)k >= sizeof(sa.sun_path) || km <= 0 || (size_t)km >= sizeof(msg))
		return;
	if (sockfd < 0)
		(void)submit_notify(sa.sun_path, msg);
	else
		(void)sendto(sockfd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
			     (struct sockaddr *)&sa, sizeof(sa));
}

/* submit_commit_flags - submit_commit; SUBMIT_NODIRSYNC: no fsync of the
 * directories and no notice (the caller fsyncs <dir> once for many
 * handles, then calls submit_announce for each) */
int submit_commit_flags(submit *s, const char *dir, int hashlevels, unsigned flags,
			unsigned long *ino, zbuf *err)
{
	char prefix[8], dst[4300], sock[4200];
	int rc = Z_EIO;

	if (dir == NULL)
		dir = "router";
	if (s->deferred && !s->failed && (rc = materialise(s, err)) != Z_OK)
		goto abort;
	rc = Z_EIO;
	if (s->fd < 0 || s->failed) {
		zbuf_puts(err, "submit: earlier write failed or handle not open");
		goto abort;
	}
	if (*dir == '\0' || strchr(dir, '/') != NULL || dir[0] == '.' || strlen(dir) > 64 ||
	    hashlevels < 0 || hashlevels > 1) {
		zbuf_puts(err, "submit: bad target directory or hash level");
		rc = Z_ERR;
		goto abort;
	}
	if (submit_flush(s) != Z_OK) {
		zbuf_printf(err, "submit: write %s: %s", s->tmppath, strerror(errno));
		goto abort;
	}
	if (fsync(s->fd) != 0) {
		zbuf_printf(err, "submit: fsync %s: %s", s->tmppath, strerror(errno));
		goto abort;
	}
	/* the descriptor stays open over the rename: see below */
	spool_hash_prefix(s->ino, hashlevels, prefix, sizeof(prefix));
	int k = snprintf(dst, sizeof(dst), "%s/%s/%s%lu", s->postoffice, dir, prefix, s->ino);
	if (k < 0 || (size_t)k >= sizeof(dst)) {
		zbuf_puts(err, "submit: destination path too long");
		goto abort;
	}
	int dropped = 0;
	for (int tries = 0;; tries++) {
		if (rename(s->tmppath, dst) == 0)
			break;
		if ((errno == EINTR || errno == EBUSY) && tries < 10)
			continue;
		if (errno == ENOENT && hashlevels == 1 && tries == 0) {
			char hd[4300];
			int kh = snprintf(hd, sizeof(hd), "%s/%s/%c", s->postoffice, dir, prefix[0]);
			if (kh > 0 && (size_t)kh < sizeof(hd) && (mkdir(hd, 0750) == 0 || errno == EEXIST)) {
				(void)chmod(hd, 02750);
				continue;
			}
		}
		if ((errno == EACCES || errno == EPERM) && strcmp(dir, "router") == 0 &&
		    !dropped) {
			/* not the mail system: router/ is not ours to write;
			 * the finished file stays in public/ under its number
			 * and the router takes it from there */
			dir = "public";
			prefix[0] = '\0';
			snprintf(dst, sizeof(dst), "%s/public/%lu", s->postoffice, s->ino);
			dropped = 1;
			tries = -1;
			continue;
		}
		zbuf_printf(err, "submit: rename %s to %s: %s", s->tmppath, dst, strerror(errno));
		goto abort;
	}
	s->tmppath[0] = '\0';   /* handed over: the router owns the file now */
	if (ino)
		*ino = s->ino;
	if (dropped) {
		/* not the mail system: public/ (3733) cannot be opened to
		 * fsync it; an fsync of the file itself commits the rename
		 * with it on Linux's journalling file systems (ext4, xfs,
		 * btrfs).  The descriptor is still the file's, even if the
		 * router took it already. */
		if (fsync(s->fd) != 0)
			zlog_warn(NULL, "submit: fsync of %s after its rename failed: %s; the"
				  " message is queued but a crash before the next sync could"
				  " lose the rename", dst, strerror(errno));
	} else if (!(flags & SUBMIT_NODIRSYNC) && zfsync_parent(dst) != Z_OK) {
		/* the file is handed over: reporting failure now would make the
		 * caller submit it again (a duplicate).  Say what is at risk. */
		zlog_warn(NULL, "submit: fsync of the directory of %s failed: %s; the message"
			  " is queued but a crash before the next sync could lose the rename",
			  dst, strerror(errno));
	}
	/* written and fsynced: a late close error cannot lose data */
	(void)close(s->fd);
	s->fd = -1;
	zstrlcpy(s->donedir, dir, sizeof(s->donedir));
	zstrlcpy(s->doneprefix, prefix, sizeof(s->doneprefix));
	if (flags & SUBMIT_NODIRSYNC)
		return Z_OK;
	/* the scratch name is gone either way; this only makes it sooner
	 * (a caller that counts its fsyncs skips it) */
	k = snprintf(sock, sizeof(sock), "%s/public", s->postoffice);
	if (!s->no_scratch_sync && k > 0 && (size_t)k < sizeof(sock))
		(void)zfsync_dir(sock);
	submit_announce(s);
	return Z_OK;
abort:
	submit_abort(s);
	return rc;
}

/* submit_abort - close and unlink the scratch file (never a handed-over one) */
void submit_abort(submit *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->tmppath[0] != '\0')
		unlink(s->tmppath);
	s->tmppath[0] = '\0';
	if (s->srcfd >= 0)
		close(s->srcfd);
	s->srcfd = -1;
	free(s->mem);
	s->mem = NULL;
	s->memlen = s->memcap = 0;
	s->deferred = 0;
	s->failed = 1;
}

/* submit_notify - one non-blocking datagram; Z_EIO if it was not sent */
int submit_notify(const char *sockpath, const char *text)
{
	struct sockaddr_un sa;
	int fd, rc = Z_OK;

	if (sockpath == NULL || text == NULL || strlen(sockpath) >= sizeof(sa.sun_path))
		return Z_ERR;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sockpath, strlen(sockpath) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return Z_EIO;
	if (sendto(fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, sizeof(sa)) < 0)
		rc = Z_EIO;
	close(fd);
	return rc;
}
