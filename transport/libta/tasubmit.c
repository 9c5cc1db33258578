/*
 * NAME
 *	tasubmit - what agents need to give a queued message back to the router
 *
 * SUMMARY
 *	errormail attaches the original message to a bounce, hold resubmits
 *	it: both read the body from ../queue, copy a recipient's header block
 *	from the control file, and write DSN envelope lines.
 *
 * SYNOPSIS
 *	#include "tasubmit.h"
 *
 *	int ta_body_each(const ta_msg *m, int (*put)(void *, const void *,
 *		size_t), void *arg);
 *	zspan ta_rcpt_headers(const ta_msg *m, const ta_rcpt *r);
 *	int ta_sender_addr(const ta_msg *m, const ta_rcpt *r, zbuf *out);
 *	int ta_submit_todsn(submit *s, const ta_rcpt *r);
 *	int ta_submit_put(void *arg, const void *p, size_t n);
 *
 * DESCRIPTION
 *	ta_body_each() reads with pread(2) in 64 KiB chunks from the 'o'
 *	offset, so the file position of m->bodyfd is never used.  The header
 *	block span points into m->ctl.data and lives as long as m.
 *	ta_submit_todsn() copies the N-line values as they are (they are
 *	already xtext where RFC 3461 wants it).
 *
 * DIAGNOSTICS
 *	Z_OK, Z_EIO (read or write failed), Z_ENOENT (null sender, no body),
 *	Z_ETOOBIG, Z_ENOMEM.
 *
 * SECURITY
 *	Values from the control file go into envelope lines: submit_env()
 *	refuses newlines; fields with blanks or control bytes are dropped.
 *
 * BUGS
 *	None known.
 *
 * SEE ALSO
 *	errormail(8), hold(8), spool/submit.h, ta.h
 */
#include <errno.h>
#include <unistd.h>
#include "tasubmit.h"

/* ta_body_each - see tasubmit.h */
int ta_body_each(const ta_msg *m, int (*put)(void *arg, const void *p, size_t n), void *arg)
{
	char buf[65536];
	off_t off = m->ctl.body_off > 0 ? (off_t)m->ctl.body_off : 0;

	if (m->bodyfd < 0)
		return Z_ENOENT;
	for (;;) {
		ssize_t k = pread(m->bodyfd, buf, sizeof(buf), off);
		int rc;
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return Z_EIO;
		if (k == 0)
			return Z_OK;
		rc = put(arg, buf, (size_t)k);
		if (rc != Z_OK)
			return rc;
		off += k;
	}
}

/* ta_rcpt_headers - see tasubmit.h */
zspan ta_rcpt_headers(const ta_msg *m, const ta_rcpt *r)
{
	zspan s = ZSPAN_NULL;

	if (r->r->hdr_off >= 0 && (size_t)r->r->hdr_off + r->r->hdr_len <= m->ctl.len) {
		s.p = m->ctl.data + r->r->hdr_off;
		s.n = r->r->hdr_len;
	}
	return s;
}

/* ta_sender_addr - see tasubmit.h */
int ta_sender_addr(const ta_msg *m, const ta_rcpt *r, zbuf *out)
{
	const ctl_sender *s;

	if (r->r->sender >= m->ctl.nsenders)
		return Z_ENOENT;
	s = &m->ctl.senders[r->r->sender];
	if (zspan_eq(s->quad.channel, "error") || s->quad.user.n == 0 ||
	    zspan_eq(s->quad.user, "-") || zspan_eq(s->quad.user, "<>"))
		return Z_ENOENT;
	return ctl_unquote_user(s->quad.user, out);
}

/* clean - a DSN field usable in an envelope line */
static int clean(zspan v)
{
	if (v.n == 0 || v.n > 1000)
		return 0;
	for (size_t i = 0; i < v.n; i++)
		if ((unsigned char)v.p[i] <= ' ' || (unsigned char)v.p[i] >= 0x7f)
			return 0;
	return 1;
}

/* ta_submit_todsn - see tasubmit.h */
int ta_submit_todsn(submit *s, const ta_rcpt *r)
{
	static const char *names[] = { "NOTIFY=", "ORCPT=", "INRCPT=", "INFROM=", "BY=" };
	zspan v[5];
	zbuf line = ZBUF_INIT(6000);
	int rc = Z_OK;

	v[0] = r->r->notify; v[1] = r->r->orcpt; v[2] = r->r->inrcpt;
	v[3] = r->r->infrom; v[4] = r->r->by;
	for (int i = 0; i < 5; i++) {
		if (!clean(v[i]))
			continue;
		if (line.len)
			rc |= zbuf_putc(&line, ' ');
		rc |= zbuf_puts(&line, names[i]);
		rc |= zbuf_append(&line, v[i].p, v[i].n);
	}
	if (rc == Z_OK && line.len > 0)
		rc = submit_env(s, "todsn", zbuf_cstr(&line));
	zbuf_free(&line);
	return rc == Z_OK ? Z_OK : Z_EIO;
}

/* ta_submit_put - see tasubmit.h */
int ta_submit_put(void *arg, const void *p, size_t n)
{
	return submit_write(arg, p, n) == Z_OK ? Z_OK : Z_EIO;
}
