/*
 * zline.h - bounded line reader for pipes and sockets.
 *
 * Reads into a zbuf and hands out complete '\n'-terminated lines (without the
 * '\n').  A line longer than maxline is not kept: zline_next() reports
 * Z_ETOOBIG once and the rest of that line is discarded up to its newline.
 */
#ifndef ZMTA_ZLINE_H
#define ZMTA_ZLINE_H

#include "zbuf.h"

typedef struct zline {
	zbuf buf;
	size_t maxline;
	size_t scan;       /* bytes already searched for '\n' */
	int discarding;    /* inside an over-long line */
	int eof;
	size_t drop;       /* bytes of the line last returned, dropped next call */
} zline;

/* At most ZLINE_CHUNK bytes may be fed between draining calls of zline_next
 * (zline_feed returns Z_ETOOBIG beyond that); zline_fill never exceeds it. */
#define ZLINE_CHUNK 65536

void zline_init(zline *l, size_t maxline);
void zline_free(zline *l);
/* zline_fill - one read(2) from fd: >0 bytes, 0 EOF, Z_EAGAIN, Z_EIO */
long zline_fill(zline *l, int fd);
/* zline_feed - add bytes obtained elsewhere (e.g. TLS); Z_OK or Z_ETOOBIG */
int zline_feed(zline *l, const void *p, size_t n);
/* zline_next - 1 and *line set (valid until the next call), 0 if no whole
 * line yet, Z_ETOOBIG for an over-long line (reported once per line) */
int zline_next(zline *l, zspan *line);
/* zline_pending - bytes buffered but not yet returned */
size_t zline_pending(const zline *l);

#endif
