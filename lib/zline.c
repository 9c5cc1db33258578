/*
 * NAME
 *	zline - bounded line reader for pipes, sockets and TLS streams
 * SUMMARY
 *	Buffers input and hands out complete '\n'-terminated lines, never
 *	keeping more than maxline bytes of one line.
 * SYNOPSIS
 *	void zline_init(zline *l, size_t maxline);
 *	void zline_free(zline *l);
 *	long zline_fill(zline *l, int fd);
 *	int zline_feed(zline *l, const void *p, size_t n);
 *	int zline_next(zline *l, zspan *line);
 *	size_t zline_pending(const zline *l);
 * DESCRIPTION
 *	A line is the bytes before '\n' (the '\n' is not included; a CR
 *	before it is kept, callers strip it).  A line of more than maxline
 *	bytes is reported by zline_next() once as Z_ETOOBIG, as soon as it is
 *	known to be too long; the rest of it, up to and including its
 *	newline, is then dropped silently, possibly across many reads, and
 *	normal lines follow.  The buffer holds at most maxline + ZLINE_CHUNK
 *	bytes.  A returned span stays valid until the next call on l.
 * DIAGNOSTICS
 *	zline_fill: bytes read, 0 at EOF (l->eof set), Z_EAGAIN, Z_EIO,
 *	Z_ENOMEM.  zline_feed: Z_OK, Z_ETOOBIG (more than the buffer bound
 *	without draining), Z_ENOMEM.
 * SECURITY
 *	Input is hostile (SMTP peers, agents).  Memory is bounded; no byte is
 *	interpreted here.  It must never grow the buffer past its maximum to
 *	finish an over-long line: that line is discarded instead.
 * BUGS
 *	Returned lines are moved to the front with memmove (O(buffer)).
 * SEE ALSO
 *	zbuf.h
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "zbuf.h"
#include "zline.h"

/* zline_init - empty reader for lines up to maxline bytes */
void zline_init(zline *l, size_t maxline)
{
	size_t max;

	if (zsize_add(maxline, 1 + ZLINE_CHUNK, &max) != Z_OK)
		max = (size_t)-1 / 2;
	zbuf_init(&l->buf, max);
	l->maxline = maxline;
	l->scan = 0;
	l->discarding = 0;
	l->eof = 0;
	l->drop = 0;
}

/* zline_free - release storage */
void zline_free(zline *l)
{
	zbuf_free(&l->buf);
	l->scan = 0;
	l->discarding = 0;
	l->drop = 0;
}

/* zline_compact - drop the line returned last */
static void zline_compact(zline *l)
{
	if (l->drop == 0)
		return;
	zbuf_consume(&l->buf, l->drop);
	l->scan = l->scan > l->drop ? l->scan - l->drop : 0;
	l->drop = 0;
}

/* zline_fill - one read(2) from fd */
long zline_fill(zline *l, int fd)
{
	size_t room;
	ssize_t r;
	int rc;

	zline_compact(l);
	room = l->buf.max - l->buf.len;
	if (room > ZLINE_CHUNK)
		room = ZLINE_CHUNK;
	if (room == 0)
		return Z_EAGAIN; /* caller must drain with zline_next first */
	if ((rc = zbuf_reserve(&l->buf, room)) != Z_OK)
		return rc;
	for (;;) {
		r = read(fd, l->buf.data + l->buf.len, room);
		if (r >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return Z_EAGAIN;
		return Z_EIO;
	}
	if (r == 0) {
		l->eof = 1;
		return 0;
	}
	l->buf.len += (size_t)r;
	l->buf.data[l->buf.len] = '\0';
	return (long)r;
}

/* zline_feed - add bytes obtained elsewhere */
int zline_feed(zline *l, const void *p, size_t n)
{
	const char *q = p;

	zline_compact(l);
	if (l->discarding && l->buf.len == 0) {
		/* skip the rest of an over-long line without buffering it */
		const char *nl = n ? memchr(q, '\n', n) : NULL;
		if (nl == NULL)
			return Z_OK;
		n -= (size_t)(nl - q) + 1;
		q = nl + 1;
		l->discarding = 0;
	}
	if (n == 0)
		return Z_OK;
	return zbuf_append(&l->buf, q, n);
}

/* zline_next - next complete line, 0 if none yet, Z_ETOOBIG once per long line */
int zline_next(zline *l, zspan *line)
{
	const char *nl;

	zline_compact(l);
	if (l->discarding) {
		nl = l->buf.len ? memchr(l->buf.data, '\n', l->buf.len) : NULL;
		if (nl == NULL) {
			zbuf_reset(&l->buf);
			l->scan = 0;
			return 0;
		}
		zbuf_consume(&l->buf, (size_t)(nl - l->buf.data) + 1);
		l->discarding = 0;
		l->scan = 0;
	}
	if (l->scan < l->buf.len)
		nl = memchr(l->buf.data + l->scan, '\n', l->buf.len - l->scan);
	else
		nl = NULL;
	if (nl != NULL) {
		size_t i = (size_t)(nl - l->buf.data);
		l->scan = 0;
		if (i > l->maxline) {
			zbuf_consume(&l->buf, i + 1);
			return Z_ETOOBIG;
		}
		line->p = l->buf.data;
		line->n = i;
		l->drop = i + 1;
		return 1;
	}
	l->scan = l->buf.len;
	if (l->buf.len > l->maxline) {
		zbuf_reset(&l->buf);
		l->scan = 0;
		l->discarding = 1;
		return Z_ETOOBIG;
	}
	return 0;
}

/* zline_pending - bytes buffered but not yet returned */
size_t zline_pending(const zline *l)
{
	return l->buf.len - l->drop;
}
