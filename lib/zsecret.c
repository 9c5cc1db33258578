/*
 * NAME
 *	zsecret - open, read and walk a file that holds secrets
 * SUMMARY
 *	The one careful way to load a password or AUTH secrets file: no
 *	symlink, a regular file, owned by this process's user or root, no
 *	permission for group or others, a bounded size, read into one buffer
 *	that is wiped afterwards; then its lines, comments and blank lines
 *	skipped.
 * SYNOPSIS
 *	int zsecret_check_mode(mode_t mode, uid_t owner, uid_t me, zbuf *err);
 *	int zsecret_read(const char *path, size_t max, unsigned flags,
 *	                 zbuf *out, zbuf *err);
 *	void zsecret_wipe(zbuf *b);
 *	void zsecret_lines_init(zsecret_lines *l, const char *data, size_t len);
 *	int zsecret_next(zsecret_lines *l, zspan *line);
 * DESCRIPTION
 *	zsecret_read opens path with O_NOFOLLOW and O_NONBLOCK (a FIFO
 *	cannot hang it), checks the open descriptor (fstat: a regular file,
 *	then zsecret_check_mode against geteuid() unless flags has
 *	ZSECRET_NO_MODE_CHECK), reserves the file's size in out once and
 *	reads straight into it, so no partial copy is ever freed unwiped.
 *	out is NUL-terminated; its data is non-NULL on success even for an
 *	empty file.  The caller owns out and clears it with zsecret_wipe.
 *
 *	zsecret_next returns the lines one at a time: a line is the bytes
 *	before a newline (or the end), less one CR before the newline; a
 *	line that is empty or blank after trimming, or whose first byte
 *	after leading blanks is '#', is skipped.  l->lineno counts every
 *	line, skipped ones included, for diagnostics.
 * DIAGNOSTICS
 *	zsecret_read: Z_OK; Z_EIO when the file cannot be opened (a symlink
 *	included: ELOOP) or read; Z_ERR when it is not a regular file or its
 *	owner or mode is unsafe (the reason says "group or others" and
 *	"chmod 600", or names the owner); Z_ETOOBIG when it is larger than
 *	max or grew while being read.  err gets "PATH: reason"; a reason
 *	never holds file contents.
 * SECURITY
 *	Trusts nothing in the file and nothing about the path: every check
 *	is on the open descriptor.  Must never follow a symlink, read a
 *	file others could have read or written, log a byte of the contents,
 *	or leave a copy of them in freed memory.
 * BUGS
 *	A file owned by root is accepted for any user, like the files it
 *	replaces; its directory's permissions are not looked at.
 * SEE ALSO
 *	smtpclient/smtp_auth.c (the AUTH secrets file), smtpserver/pol_passwd.c
 *	(auth_password_file), open(2) O_NOFOLLOW, explicit_bzero(3)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "zbuf.h"
#include "zerr.h"
#include "zsecret.h"

/* zsecret_check_mode - owner me or root, no group/other permission bits */
int zsecret_check_mode(mode_t mode, uid_t owner, uid_t me, zbuf *err)
{
	if (mode & (S_IRWXG | S_IRWXO)) {
		zbuf_printf(err, "mode %04o gives access to group or others, refusing to use it "
			    "(chmod 600)", (unsigned)(mode & 07777));
		return Z_ERR;
	}
	if (owner != me && owner != 0) {
		zbuf_printf(err, "owned by uid %lu, neither root nor this process (uid %lu), "
			    "refusing to use it", (unsigned long)owner, (unsigned long)me);
		return Z_ERR;
	}
	return Z_OK;
}

/* zsecret_read - safe open, checks on the descriptor, one bounded read */
int zsecret_read(const char *path, size_t max, unsigned flags, zbuf *out, zbuf *err)
{
	zbuf why = ZBUF_INIT(256);
	struct stat st;
	int fd, rc = Z_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		zbuf_printf(err, "%s: %s", path, strerror(errno));
		rc = Z_EIO;
		goto done;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		zbuf_printf(err, "%s: not a regular file", path);
		rc = Z_ERR;
		goto done;
	}
	if (!(flags & ZSECRET_NO_MODE_CHECK) &&
	    zsecret_check_mode(st.st_mode, st.st_uid, geteuid(), &why) != Z_OK) {
		zbuf_printf(err, "%s: %s", path, zbuf_cstr(&why));
		rc = Z_ERR;
		goto done;
	}
	/* room for the whole file, its NUL and one byte more: a file that
	 * grows while it is read fills that byte and is refused */
	if (st.st_size < 0 || (unsigned long long)st.st_size > max ||
	    zbuf_reserve(out, (size_t)st.st_size + 1) != Z_OK) {
		zbuf_printf(err, "%s: larger than %zu bytes", path, max);
		rc = Z_ETOOBIG;
		goto done;
	}
	for (;;) {
		ssize_t r;

		if (out->len >= out->cap - 1 || out->len > max) {
			zbuf_printf(err, "%s: file grew while being read", path);
			rc = Z_ETOOBIG;
			goto done;
		}
		r = read(fd, out->data + out->len, out->cap - 1 - out->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			zbuf_printf(err, "%s: %s", path, strerror(errno));
			rc = Z_EIO;
			goto done;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
	}
	if (out->len > max) {
		zbuf_printf(err, "%s: larger than %zu bytes", path, max);
		rc = Z_ETOOBIG;
		goto done;
	}
	out->data[out->len] = '\0';
done:
	if (fd >= 0)
		close(fd);
	if (rc != Z_OK)
		zsecret_wipe(out);
	zbuf_free(&why);
	return rc;
}

/* zsecret_wipe - clear and free a buffer that held secrets */
void zsecret_wipe(zbuf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	zbuf_free(b);
}

/* zsecret_lines_init - start at the first line */
void zsecret_lines_init(zsecret_lines *l, const char *data, size_t len)
{
	zcur_init(&l->c, data, len);
	l->lineno = 0;
}

/* zsecret_next - next line that is not blank and not a comment */
int zsecret_next(zsecret_lines *l, zspan *line)
{
	while (!zcur_eof(&l->c)) {
		zspan s, t;

		if (zcur_take_until(&l->c, '\n', &s) != Z_OK)
			zcur_take_rest(&l->c, &s);
		l->lineno++;
		if (s.n > 0 && s.p[s.n - 1] == '\r')
			s.n--;
		t = zspan_trim(s);
		if (t.n == 0 || t.p[0] == '#')
			continue;
		*line = s;
		return 1;
	}
	*line = ZSPAN_NULL;
	return 0;
}
