/*
 * NAME
 *	mbox - mailbox templates, header edits, "From " quoting, locked mbox
 *	appends and Maildir deliveries for mailbox(8)
 * SUMMARY
 *	The part of the mailbox agent that does not depend on ids or
 *	processes, kept in libmailbox.a so that the unit tests link it.
 * SYNOPSIS
 *	int mbx_expand(const char *tmpl, const char *user, const char *home,
 *		zbuf *out, int *maildir, zbuf *err);
 *	int mbx_headers(const char *h, size_t n, const mbx_hdropts *o,
 *		zbuf *out, zbuf *err);
 *	int mbx_delivered_to(const char *h, size_t n, const char *addr);
 *	int mbx_header_value(const char *h, size_t n, const char *name, zbuf *out);
 *	void mbx_w_init(mbx_writer *w, int fd, int quote_from);
 *	int mbx_w_raw(mbx_writer *w, const void *p, size_t n);
 *	int mbx_w_body(mbx_writer *w, const void *p, size_t n);
 *	int mbx_w_flush(mbx_writer *w);
 *	int mbx_from_line(const char *sender, time_t when, zbuf *out);
 *	int mbx_write_msg(mbx_writer *w, const mbx_msg *m);
 *	int mbx_append(const char *path, const mbx_fileopts *fo,
 *		const mbx_msg *m, mbx_result *res);
 *	int mbx_maildir(const char *dir, const mbx_fileopts *fo,
 *		const mbx_msg *m, mbx_result *res);
 *	void mbx_program_exit(int wstatus, mbx_result *res);
 * DESCRIPTION
 *	mbox appends take the dot-lock "<mailbox>.lock" (created O_EXCL, the
 *	pid written in it; a lock older than stale_after seconds is removed,
 *	at most three times per delivery), then an fcntl write lock, both
 *	retried for at most lock_wait seconds.  The file is opened with
 *	O_NOFOLLOW and checked with fstat (regular, one link, owner) before a
 *	byte is written; the message is appended (O_APPEND) and fsynced; any
 *	failure truncates the file back to the size it had under the lock.
 *	Maildir names are "<sec>.M<usec>P<pid>Q<seq>.<host>,S=<size>" with
 *	'/' and ':' in the host written as \057 and \072.  With decode_qp
 *	(-8) the message goes through mime_analyse/mime_send of libta (an
 *	8-bit peer that wants quoted-printable decoded) and the CRLF wire
 *	form is turned back into LF lines before the quoting writer.
 * DIAGNOSTICS
 *	mbx_result: EX_OK "2.0.0"; a full disk (ENOSPC) EX_TEMPFAIL "4.3.1";
 *	a quota (EDQUOT) EX_TEMPFAIL "4.2.2" (EX_UNAVAILABLE "5.2.2" with
 *	edquot_perm); a busy lock, a bad mailbox file and other system errors
 *	EX_TEMPFAIL "4.2.0"/"4.3.0"; the reason names the file and errno.
 * SECURITY
 *	Runs as the recipient, but paths come from templates and user names:
 *	the final component is never followed as a symlink (O_NOFOLLOW, O_EXCL
 *	for new files, lstat of the lock), hard-linked files are refused, so
 *	a delivery cannot be redirected into another file.  Header bytes are
 *	copied, never interpreted beyond field names.
 * BUGS
 *	mboxo quoting: only "From " is quoted, so ">From " in a body reads
 *	back the same as a quoted "From ".  No comsat/biff.
 * SEE ALSO
 *	mailbox(8), mbox.h, mail/mheader.h
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mbox.h"
#include "mheader.h"
#include "mime.h"
#include "zutil.h"

#ifndef EDQUOT
#define EDQUOT ENOSPC
#endif

/* ------------------------------------------------------------ templates */

/* mbx_expand - %u %h %% template into an absolute path */
int mbx_expand(const char *tmpl, const char *user, const char *home, zbuf *out,
	       int *maildir, zbuf *err)
{
	size_t tl;
	int rc = Z_EPARSE;

	zbuf_reset(out);
	*maildir = 0;
	if (tmpl == NULL || *tmpl == '\0') {
		zbuf_puts(err, "empty mailbox template");
		goto out;
	}
	if (user == NULL || *user == '\0' || *user == '.' || strchr(user, '/') != NULL) {
		zbuf_printf(err, "user name \"%.64s\" cannot name a mailbox", user ? user : "");
		goto out;
	}
	tl = strlen(tmpl);
	while (tl > 1 && tmpl[tl - 1] == '/') {
		*maildir = 1;
		tl--;
	}
	for (size_t i = 0; i < tl; i++) {
		int r = Z_OK;
		if (tmpl[i] != '%') {
			r = zbuf_putc(out, tmpl[i]);
		} else if (i + 1 >= tl) {
			zbuf_puts(err, "mailbox template ends with '%'");
			goto out;
		} else {
			char c = tmpl[++i];
			if (c == 'u') {
				r = zbuf_puts(out, user);
			} else if (c == 'h') {
				if (home == NULL || home[0] != '/') {
					zbuf_printf(err, "user %.64s has no absolute home directory", user);
					goto out;
				}
				/* "/" as home would give "//x": keep one slash */
				r = zbuf_puts(out, strcmp(home, "/") == 0 ? "" : home);
			} else if (c == '%') {
				r = zbuf_putc(out, '%');
			} else {
				zbuf_printf(err, "unknown mailbox template escape %%%c", c);
				goto out;
			}
		}
		if (r != Z_OK || out->len >= MBX_PATH_MAX) {
			zbuf_puts(err, "mailbox path too long");
			goto out;
		}
	}
	if (out->len == 0 || out->data[0] != '/') {
		zbuf_printf(err, "mailbox path \"%.200s\" is not absolute", zbuf_cstr(out));
		goto out;
	}
	{
		const char *s = zbuf_cstr(out);
		size_t n = out->len;
		if (strstr(s, "/../") != NULL || (n >= 3 && strcmp(s + n - 3, "/..") == 0) ||
		    strstr(s, "/./") != NULL || (n >= 2 && strcmp(s + n - 2, "/.") == 0)) {
			zbuf_printf(err, "mailbox path \"%.200s\" has . or .. steps", s);
			goto out;
		}
	}
	rc = Z_OK;
out:
	if (rc != Z_OK)
		zbuf_reset(out);
	return rc;
}

/* -------------------------------------------------------------- headers */

/* addr_eq - a Delivered-To value equals addr (case, blanks, <> ignored) */
static int addr_eq(zspan v, const char *addr)
{
	size_t an = strlen(addr);

	v = zspan_trim(v);
	if (v.n >= 2 && v.p[0] == '<' && v.p[v.n - 1] == '>') {
		v.p++;
		v.n -= 2;
		v = zspan_trim(v);
	}
	if (an >= 2 && addr[0] == '<' && addr[an - 1] == '>')
		return v.n == an - 2 && strncasecmp(v.p, addr + 1, an - 2) == 0;
	return v.n == an && strncasecmp(v.p, addr, an) == 0;
}

/* mbx_delivered_to - the message already was delivered to addr */
int mbx_delivered_to(const char *h, size_t n, const char *addr)
{
	zbuf v = ZBUF_INIT(MHDR_FIELD_MAX);
	mhdr_field f;
	zcur c;
	int found = 0, rc;

	if (addr == NULL || *addr == '\0')
		return 0;
	zcur_init(&c, h, n);
	while ((rc = mhdr_next(&c, MHDR_FIELD_MAX, &f, NULL)) != Z_ENOENT) {
		if (rc == Z_EPARSE)
			break;      /* not a header any more: nothing to compare */
		if (rc != Z_OK || !mhdr_name_is(&f, "Delivered-To"))
			continue;
		zbuf_reset(&v);
		if (mhdr_unfold(f.value, &v) == Z_OK &&
		    addr_eq((zspan){ v.data ? v.data : "", v.len }, addr)) {
			found = 1;
			break;
		}
	}
	zbuf_free(&v);
	return found;
}

/* mbx_header_value - unfolded value of the first field named name */
int mbx_header_value(const char *h, size_t n, const char *name, zbuf *out)
{
	mhdr_field f;
	zcur c;
	int rc;

	zbuf_reset(out);
	zcur_init(&c, h, n);
	while ((rc = mhdr_next(&c, MHDR_FIELD_MAX, &f, NULL)) != Z_ENOENT) {
		if (rc == Z_EPARSE)
			break;
		if (rc == Z_OK && mhdr_name_is(&f, name))
			return mhdr_unfold(f.value, out);
	}
	return Z_ENOENT;
}

/* put_addr_field - "Name: <addr>\n" with line ends in addr dropped */
static int put_addr_field(zbuf *out, const char *name, const char *addr, int angle)
{
	int rc = zbuf_printf(out, "%s: %s", name, angle ? "<" : "");
	for (const char *p = addr; rc == Z_OK && *p; p++)
		if (*p != '\n' && *p != '\r')
			rc = zbuf_putc(out, *p);
	if (rc == Z_OK)
		rc = zbuf_puts(out, angle ? ">\n" : "\n");
	return rc;
}

/* mbx_headers - put the delivery fields first, drop the old ones */
int mbx_headers(const char *h, size_t n, const mbx_hdropts *o, zbuf *out, zbuf *err)
{
	mhdr_field f;
	zcur c;
	int rc = Z_OK;

	zbuf_reset(out);
	if (o->return_path != NULL)
		rc = put_addr_field(out, "Return-Path", o->return_path, 1);
	if (rc == Z_OK && o->delivered_to != NULL)
		rc = put_addr_field(out, "Delivered-To", o->delivered_to, 0);
	if (rc == Z_OK && o->envelope_to != NULL)
		rc = put_addr_field(out, "X-Envelope-To", o->envelope_to, 0);
	if (rc != Z_OK)
		goto out;
	zcur_init(&c, h, n);
	for (;;) {
		size_t start = c.pos;
		rc = mhdr_next(&c, MHDR_FIELD_MAX, &f, err);
		if (rc == Z_ENOENT) {
			rc = Z_OK;
			break;
		}
		if (rc == Z_ETOOBIG) {
			/* an over-long field is copied as it is */
			rc = zbuf_append(out, h + start, c.pos - start);
			if (rc != Z_OK)
				goto out;
			continue;
		}
		if (rc != Z_OK)
			goto out;
		if ((o->return_path != NULL && mhdr_name_is(&f, "Return-Path")) ||
		    (o->envelope_to != NULL && mhdr_name_is(&f, "X-Envelope-To")))
			continue;
		rc = zbuf_append(out, h + start, c.pos - start);
		if (rc == Z_OK && (out->len == 0 || out->data[out->len - 1] != '\n'))
			rc = zbuf_putc(out, '\n');
		if (rc != Z_OK)
			goto out;
	}
	rc = zbuf_putc(out, '\n');
out:
	if (rc == Z_OK && out->len > MBX_HDR_MAX)
		rc = Z_ETOOBIG;
	if (rc == Z_ETOOBIG || rc == Z_ENOMEM)
		zbuf_puts(err, "header block too big");
	return rc;
}

/* --------------------------------------------------------------- writer */

/* mbx_w_init - writer to fd */
void mbx_w_init(mbx_writer *w, int fd, int quote_from)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->quote_from = quote_from;
	w->bol = 1;
	w->lastc = w->prevc = -1;
}

/* mbx_w_flush - buffered bytes to the descriptor */
int mbx_w_flush(mbx_writer *w)
{
	if (w->n == 0)
		return Z_OK;
	if (zwrite_all(w->fd, w->buf, w->n) != Z_OK)
		return Z_EIO;
	w->total += w->n;
	w->n = 0;
	return Z_OK;
}

/* put - one byte into the buffer */
static int put(mbx_writer *w, char c)
{
	if (w->n == sizeof(w->buf) && mbx_w_flush(w) != Z_OK)
		return Z_EIO;
	w->buf[w->n++] = c;
	w->prevc = w->lastc;
	w->lastc = (unsigned char)c;
	return Z_OK;
}

/* release_held - the "From" prefix that turned out not to be "From " */
static int release_held(mbx_writer *w)
{
	for (size_t i = 0; i < w->held; i++)
		if (put(w, "From "[i]) != Z_OK)
			return Z_EIO;
	w->held = 0;
	return Z_OK;
}

/* mbx_w_raw - bytes as they are */
int mbx_w_raw(mbx_writer *w, const void *p, size_t n)
{
	const char *s = p;

	if (w->held > 0 && release_held(w) != Z_OK)
		return Z_EIO;
	for (size_t i = 0; i < n; i++)
		if (put(w, s[i]) != Z_OK)
			return Z_EIO;
	if (n > 0)
		w->bol = s[n - 1] == '\n';
	return Z_OK;
}

/* mbx_w_body - body bytes with ">From " quoting */
int mbx_w_body(mbx_writer *w, const void *p, size_t n)
{
	const char *s = p;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (w->quote_from && (w->bol || w->held > 0)) {
			if (c == "From "[w->held]) {
				w->bol = 0;
				if (++w->held == 5) {
					w->held = 0;
					if (put(w, '>') != Z_OK || mbx_w_raw(w, "From ", 5) != Z_OK)
						return Z_EIO;
					w->bol = 0;
				}
				continue;
			}
			if (w->held > 0 && release_held(w) != Z_OK)
				return Z_EIO;
		}
		if (put(w, c) != Z_OK)
			return Z_EIO;
		w->bol = c == '\n';
	}
	return Z_OK;
}

/* mbx_from_line - the mbox separator line */
int mbx_from_line(const char *sender, time_t when, zbuf *out)
{
	char tb[64];
	struct tm tm;
	int rc = zbuf_puts(out, "From ");

	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	for (const char *p = sender; rc == Z_OK && *p; p++) {
		unsigned char c = (unsigned char)*p;
		rc = zbuf_putc(out, (c <= ' ' || c == 0x7f) ? '_' : (char)c);
	}
	/* ctime(3) format, in the local time zone, without a locale */
	if (localtime_r(&when, &tm) == NULL ||
	    strftime(tb, sizeof(tb), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		zstrlcpy(tb, "Thu Jan  1 00:00:00 1970", sizeof(tb));
	if (rc == Z_OK)
		rc = zbuf_printf(out, " %s\n", tb);
	return rc;
}

/* copy_body - the body from the queue file through w */
static int copy_body(mbx_writer *w, const mbx_msg *m)
{
	char buf[65536];
	off_t off = m->bodyoff, left = m->bodysize;

	while (left > 0) {
		size_t want = left > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)left;
		ssize_t got = pread(m->bodyfd, buf, want, off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EIO;   /* the queue file shrank */
			return Z_EIO;
		}
		if (mbx_w_body(w, buf, (size_t)got) != Z_OK)
			return Z_EIO;
		off += got;
		left -= got;
	}
	return Z_OK;
}

/* lf_sink - mime_send output (CRLF wire form) back to LF lines */
struct lf_sink {
	mbx_writer *w;
	int cr;           /* a CR ended the previous piece */
	int saved_errno;
};

/* lf_out - mime_out_fn: CRLF -> LF, into the body writer */
static int lf_out(void *arg, const char *p, size_t n)
{
	struct lf_sink *s = arg;
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (s->cr) {
			s->cr = 0;
			if (p[i] != '\n' && mbx_w_body(s->w, "\r", 1) != Z_OK)
				goto fail;
		}
		if (p[i] == '\r') {
			if (i > start && mbx_w_body(s->w, p + start, i - start) != Z_OK)
				goto fail;
			s->cr = 1;
			start = i + 1;
		}
	}
	if (n > start && mbx_w_body(s->w, p + start, n - start) != Z_OK)
		goto fail;
	return 0;
fail:
	s->saved_errno = errno;
	return -1;
}

/* write_decoded - header and body through mime_send when -8 applies;
 * 1 = written, 0 = nothing to decode (write as is), -1 = error */
static int write_decoded(mbx_writer *w, const mbx_msg *m)
{
	mime_opts o;
	mime_result r;
	struct lf_sink s = { w, 0, 0 };

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	o.peer_8bit = 1;
	o.decode_qp = 1;
	o.keep_8bit_headers = 1;
	o.dotstuff = 0;
	o.defcharset = "UTF-8";
	if (mime_analyse(m->hdrs, m->hlen, m->bodyfd, m->bodyoff, m->bodysize, &o, &r) != Z_OK ||
	    r.cvt != MIME_CVT_8BIT)
		return 0;
	w->bol = 1;
	if (mime_send(m->hdrs, m->hlen, m->bodyfd, m->bodyoff, m->bodysize, &o, &r, lf_out,
		      &s) != Z_OK) {
		errno = s.saved_errno ? s.saved_errno : EIO;
		return -1;
	}
	if (s.cr && mbx_w_body(w, "\r", 1) != Z_OK)
		return -1;
	return 1;
}

/* mbx_write_msg - separator, header, body, trailer */
int mbx_write_msg(mbx_writer *w, const mbx_msg *m)
{
	zbuf fl = ZBUF_INIT(2048);
	int rc = Z_EIO, dec = 0;

	if (m->format == MBX_FMT_MBOX || m->format == MBX_FMT_PIPE) {
		if (mbx_from_line(m->sender, m->when, &fl) != Z_OK) {
			errno = ENOMEM;
			goto out;
		}
		if (mbx_w_raw(w, fl.data, fl.len) != Z_OK)
			goto out;
	} else if (m->format == MBX_FMT_MMDF) {
		if (mbx_w_raw(w, "\1\1\1\1\n", 5) != Z_OK)
			goto out;
	}
	if (m->decode_qp && m->bodyfd >= 0 && (dec = write_decoded(w, m)) < 0)
		goto out;
	if (dec == 0) {
		if (mbx_w_raw(w, m->hdrs, m->hlen) != Z_OK)
			goto out;
		w->bol = 1;
		if (m->bodyfd >= 0 && m->bodysize > 0 && copy_body(w, m) != Z_OK)
			goto out;
	}
	if (w->held > 0 && release_held(w) != Z_OK)
		goto out;
	if (w->lastc != '\n' && put(w, '\n') != Z_OK)
		goto out;
	if (m->format == MBX_FMT_MBOX && mbx_w_raw(w, "\n", 1) != Z_OK)
		goto out;
	if (m->format == MBX_FMT_MMDF && mbx_w_raw(w, "\1\1\1\1\n", 5) != Z_OK)
		goto out;
	if (mbx_w_flush(w) != Z_OK)
		goto out;
	rc = Z_OK;
out:
	zbuf_free(&fl);
	return rc;
}

/* ------------------------------------------------------------- results */

/* mbx_result_set - fill res */
void mbx_result_set(mbx_result *res, int ex, const char *status, const char *fmt, ...)
{
	va_list ap;

	res->ex = ex;
	zstrlcpy(res->status, status, sizeof(res->status));
	va_start(ap, fmt);
	vsnprintf(res->text, sizeof(res->text), fmt, ap);
	va_end(ap);
	for (char *p = res->text; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

/* mbx_result_errno - a failed system call as a delivery result */
void mbx_result_errno(mbx_result *res, int e, int edquot_perm, const char *what, const char *path)
{
	if (e == EDQUOT && e != ENOSPC) {
		if (edquot_perm)
			mbx_result_set(res, EX_UNAVAILABLE, "5.2.2", "%s %s: %s (mailbox full)",
				       what, path, strerror(e));
		else
			mbx_result_set(res, EX_TEMPFAIL, "4.2.2", "%s %s: %s (mailbox full)",
				       what, path, strerror(e));
	} else if (e == ENOSPC) {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.1", "%s %s: %s", what, path, strerror(e));
	} else {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "%s %s: %s", what, path, strerror(e));
	}
}

/* -------------------------------------------------------------- locking */

/* sleep_ms - nanosleep, EINTR ends it early */
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* dotlock - create "<path>.lock" O_EXCL; Z_OK, Z_EAGAIN (busy), Z_EIO */
static int dotlock(const char *lock, const mbx_fileopts *fo, mbx_result *res)
{
	long long deadline = zmono_ms() + fo->lock_wait * 1000;
	int stale_removed = 0;
	char pid[32];

	for (;;) {
		int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		struct stat st;
		if (fd >= 0) {
			int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
			(void)zwrite_all(fd, pid, (size_t)n);
			close(fd);
			return Z_OK;
		}
		if (errno != EEXIST) {
			mbx_result_errno(res, errno, fo->edquot_perm, "cannot create lock file", lock);
			return Z_EIO;
		}
		if (lstat(lock, &st) == 0 && stale_removed < 3 &&
		    (long long)time(NULL) - (long long)st.st_mtime > fo->stale_after) {
			/* a lock nobody refreshed for so long is left over */
			if (unlink(lock) == 0 || errno == ENOENT) {
				stale_removed++;
				continue;
			}
		}
		if (zmono_ms() >= deadline) {
			mbx_result_set(res, EX_TEMPFAIL, "4.2.0",
				       "mailbox %s is locked (%s held for more than %lds)",
				       lock, lock, fo->lock_wait);
			return Z_EAGAIN;
		}
		sleep_ms(200);
	}
}

/* fcntl_lock - write lock on the whole file, retried until lock_wait */
static int fcntl_lock(int fd, const char *path, const mbx_fileopts *fo, mbx_result *res)
{
	long long deadline = zmono_ms() + fo->lock_wait * 1000;
	struct flock fl;

	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return Z_OK;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			mbx_result_errno(res, errno, fo->edquot_perm, "cannot lock", path);
			return Z_EIO;
		}
		if (zmono_ms() >= deadline) {
			mbx_result_set(res, EX_TEMPFAIL, "4.2.0",
				       "mailbox %s is locked by another process (fcntl)", path);
			return Z_EAGAIN;
		}
		sleep_ms(200);
	}
}

/* ---------------------------------------------------------------- mbox */

/* open_mailbox - open (or create) path without following a symlink */
static int open_mailbox(const char *path, const mbx_fileopts *fo, struct stat *st,
			mbx_result *res)
{
	int fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && fo->create)
		fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
			  O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == ELOOP)
			mbx_result_set(res, EX_TEMPFAIL, "4.2.0",
				       "mailbox %s is a symbolic link: refused", path);
		else if (errno == ENOENT)
			mbx_result_set(res, EX_TEMPFAIL, "4.2.0", "mailbox %s does not exist "
				       "(and creating it is off)", path);
		else
			mbx_result_errno(res, errno, fo->edquot_perm, "cannot open mailbox", path);
		return -1;
	}
	if (fstat(fd, st) != 0) {
		mbx_result_errno(res, errno, fo->edquot_perm, "cannot fstat", path);
		close(fd);
		return -1;
	}
	if (S_ISCHR(st->st_mode) && strcmp(path, "/dev/null") == 0)
		return fd;
	if (!S_ISREG(st->st_mode)) {
		mbx_result_set(res, EX_TEMPFAIL, "4.2.0", "mailbox %s is not a regular file", path);
	} else if (st->st_nlink != 1) {
		mbx_result_set(res, EX_TEMPFAIL, "4.2.0", "mailbox %s has %lu hard links: refused",
			       path, (unsigned long)st->st_nlink);
	} else if (fo->owner >= 0 && (long)st->st_uid != fo->owner) {
		mbx_result_set(res, EX_TEMPFAIL, "4.2.0", "mailbox %s is owned by uid %ld, not %ld",
			       path, (long)st->st_uid, fo->owner);
	} else {
		/* blocking writes from here on */
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		return fd;
	}
	close(fd);
	return -1;
}

/* mbx_append - locked, fsynced, all-or-nothing append */
int mbx_append(const char *path, const mbx_fileopts *fo, const mbx_msg *m, mbx_result *res)
{
	char lock[MBX_PATH_MAX + 8];
	struct stat st;
	mbx_writer *w = NULL;
	off_t oldsize = 0;
	int fd = -1, locked = 0, rc = Z_ERR, e;
	int devnull = 0;

	res->oldsize = -1;
	res->added = 0;
	if (fo->dotlock) {
		if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)) {
			mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "mailbox path too long");
			goto out;
		}
		if (dotlock(lock, fo, res) != Z_OK)
			goto out;
		locked = 1;
	}
	if ((fd = open_mailbox(path, fo, &st, res)) < 0)
		goto out;
	devnull = S_ISCHR(st.st_mode);
	if (!devnull) {
		if (fcntl_lock(fd, path, fo, res) != Z_OK)
			goto out;
		if (fstat(fd, &st) != 0) {
			mbx_result_errno(res, errno, fo->edquot_perm, "cannot fstat", path);
			goto out;
		}
		if (st.st_nlink != 1) {
			mbx_result_set(res, EX_TEMPFAIL, "4.2.0", "mailbox %s lost its link", path);
			goto out;
		}
		oldsize = st.st_size;
	}
	res->oldsize = (long long)oldsize;
	if ((w = malloc(sizeof(*w))) == NULL) {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "out of memory");
		goto out;
	}
	mbx_w_init(w, fd, m->format == MBX_FMT_MBOX);
	if (!devnull && oldsize > 0 && m->format == MBX_FMT_MBOX) {
		/* the previous message must end with an empty line */
		char tail[2] = { 0, 0 };
		size_t k = oldsize >= 2 ? 2 : 1;
		if (pread(fd, tail, k, oldsize - (off_t)k) != (ssize_t)k) {
			mbx_result_errno(res, errno ? errno : EIO, fo->edquot_perm, "cannot read", path);
			goto out;
		}
		if (tail[k - 1] != '\n')
			rc = mbx_w_raw(w, "\n\n", 2);
		else if (k == 2 && tail[0] != '\n')
			rc = mbx_w_raw(w, "\n", 1);
		else
			rc = Z_OK;
		if (rc != Z_OK)
			goto werr;
		rc = Z_ERR;
	}
	if (mbx_write_msg(w, m) != Z_OK)
		goto werr;
	if (!devnull && fsync(fd) != 0)
		goto werr;
	res->added = (long long)w->total;
	mbx_result_set(res, EX_OK, "2.0.0", "delivered to mailbox %s", path);
	rc = Z_OK;
	goto out;
werr:
	e = errno;
	mbx_result_errno(res, e, fo->edquot_perm, "cannot write mailbox", path);
	if (!devnull) {
		/* never leave a half-written message behind */
		if (ftruncate(fd, oldsize) != 0 || fsync(fd) != 0) {
			size_t tl = strlen(res->text);
			snprintf(res->text + tl, sizeof(res->text) - tl,
				 "; truncating back to %lld bytes failed: %s",
				 (long long)oldsize, strerror(errno));
		}
	}
	rc = Z_ERR;
out:
	free(w);
	if (fd >= 0)
		close(fd);          /* releases the fcntl lock */
	if (locked)
		(void)unlink(lock);
	return rc;
}

/* ------------------------------------------------------------- Maildir */

/* mkdir_ok - mkdir mode 0700, an existing directory is fine */
static int mkdir_ok(const char *path, int create, mbx_result *res)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return Z_OK;
		mbx_result_set(res, EX_TEMPFAIL, "4.2.0", "%s is not a directory", path);
		return Z_ERR;
	}
	if (!create || errno != ENOENT) {
		mbx_result_errno(res, errno, 0, "cannot use Maildir", path);
		return Z_ERR;
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		mbx_result_errno(res, errno, 0, "cannot create", path);
		return Z_ERR;
	}
	return Z_OK;
}

/* host_part - the host name with '/' and ':' escaped, for file names */
static void host_part(const char *h, char *out, size_t outsz)
{
	size_t k = 0;

	if (h == NULL || *h == '\0')
		h = "localhost";
	for (; *h && k + 5 < outsz; h++) {
		if (*h == '/' || *h == ':') {
			snprintf(out + k, outsz - k, "\\%03o", (unsigned)(unsigned char)*h);
			k += 4;
		} else if ((unsigned char)*h > ' ' && (unsigned char)*h < 0x7f) {
			out[k++] = *h;
		}
	}
	out[k] = '\0';
}

/* mbx_maildir - tmp/ -> new/ delivery */
int mbx_maildir(const char *dir, const mbx_fileopts *fo, const mbx_msg *mi, mbx_result *res)
{
	static unsigned seq;
	char sub[MBX_PATH_MAX + 8], tmp[MBX_PATH_MAX + 512], dst[MBX_PATH_MAX + 600];
	char host[256], name[400];
	const char *subs[] = { "tmp", "new", "cur" };
	mbx_msg m = *mi;
	mbx_writer *w = NULL;
	struct timeval tv;
	int fd = -1, rc = Z_ERR, have_tmp = 0;

	res->oldsize = -1;
	res->added = 0;
	m.format = MBX_FMT_PLAIN;
	if (strlen(dir) >= MBX_PATH_MAX) {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "Maildir path too long");
		goto out;
	}
	if (mkdir_ok(dir, fo->create, res) != Z_OK)
		goto out;
	for (size_t i = 0; i < 3; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		if (mkdir_ok(sub, fo->create, res) != Z_OK)
			goto out;
	}
	host_part(fo->hostname, host, sizeof(host));
	for (int tries = 0; fd < 0; tries++) {
		gettimeofday(&tv, NULL);
		snprintf(name, sizeof(name), "%lld.M%ldP%ldQ%u.%s", (long long)tv.tv_sec,
			 (long)tv.tv_usec, (long)getpid(), ++seq, host);
		snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
		if (fd < 0 && (errno != EEXIST || tries >= 5)) {
			mbx_result_errno(res, errno, fo->edquot_perm, "cannot create", tmp);
			goto out;
		}
	}
	have_tmp = 1;
	if ((w = malloc(sizeof(*w))) == NULL) {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "out of memory");
		goto out;
	}
	mbx_w_init(w, fd, 0);
	if (mbx_write_msg(w, &m) != Z_OK || fsync(fd) != 0) {
		mbx_result_errno(res, errno, fo->edquot_perm, "cannot write", tmp);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		mbx_result_errno(res, errno, fo->edquot_perm, "cannot close", tmp);
		goto out;
	}
	fd = -1;
	snprintf(dst, sizeof(dst), "%s/new/%s,S=%llu", dir, name, w->total);
	if (link(tmp, dst) != 0) {
		mbx_result_errno(res, errno, fo->edquot_perm, "cannot link into", dst);
		goto out;
	}
	(void)unlink(tmp);
	have_tmp = 0;
	snprintf(sub, sizeof(sub), "%s/new", dir);
	if (zfsync_dir(sub) != Z_OK) {
		/* the file is there but maybe not durable: deliver it again */
		int e = errno;
		(void)unlink(dst);
		mbx_result_errno(res, e, fo->edquot_perm, "cannot fsync", sub);
		goto out;
	}
	res->added = (long long)w->total;
	mbx_result_set(res, EX_OK, "2.0.0", "delivered to Maildir %s", dir);
	rc = Z_OK;
out:
	if (fd >= 0)
		close(fd);
	if (have_tmp)
		(void)unlink(tmp);
	free(w);
	return rc;
}

/* ------------------------------------------------------------- programs */

/* mbx_program_exit - exit status of a program recipient */
void mbx_program_exit(int ws, mbx_result *res)
{
	if (WIFEXITED(ws)) {
		int c = WEXITSTATUS(ws);
		switch (c) {
		case 0:
			mbx_result_set(res, EX_OK, "2.0.0", "delivered to program");
			break;
		case EX_NOUSER:
			mbx_result_set(res, EX_NOUSER, "5.1.1", "program exited EX_NOUSER (67)");
			break;
		case EX_NOHOST:
			mbx_result_set(res, EX_NOHOST, "5.1.2", "program exited EX_NOHOST (68)");
			break;
		case EX_NOPERM: case EX_UNAVAILABLE: case EX_DATAERR:
			mbx_result_set(res, EX_UNAVAILABLE, "5.3.0", "program exited %s (%d)",
				       zsysexit_name(c), c);
			break;
		default:
			mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "program exited %s (%d)",
				       zsysexit_name(c), c);
			break;
		}
	} else if (WIFSIGNALED(ws)) {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "program killed by signal %d%s",
			       WTERMSIG(ws), WCOREDUMP(ws) ? " (core dumped)" : "");
	} else {
		mbx_result_set(res, EX_TEMPFAIL, "4.3.0", "program ended abnormally");
	}
}
