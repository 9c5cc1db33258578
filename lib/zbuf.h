/*
 * zbuf.h - the one bounded, length-carrying buffer type, plus cursor parsing.
 *
 * Every byte that comes from outside (SMTP replies, control files, job and
 * report lines, config files, headers) is held in a zbuf and parsed with a
 * zcur.  A zbuf has a hard maximum size fixed at init: an append that would
 * pass it fails with Z_ETOOBIG and leaves the buffer unchanged.  Size
 * arithmetic is overflow-checked.  Writers accept b == NULL and discard
 * (callers pass NULL when they want no error text).  The data is always NUL-terminated after
 * len (when allocated), so zbuf_cstr() is cheap, but length is authoritative.
 */
#ifndef ZMTA_ZBUF_H
#define ZMTA_ZBUF_H

#include <stdarg.h>
#include <stddef.h>
#include "zerr.h"

typedef struct zbuf {
	char *data;   /* NULL until first append */
	size_t len;   /* bytes in use */
	size_t cap;   /* bytes allocated (always > len when data != NULL) */
	size_t max;   /* hard limit for len */
} zbuf;

#define ZBUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }

/* zbuf_init - empty buffer that may grow to max bytes */
void zbuf_init(zbuf *b, size_t max);
/* zbuf_free - release storage; the buffer may be reused after zbuf_init */
void zbuf_free(zbuf *b);
/* zbuf_reset - set len to 0, keep storage */
void zbuf_reset(zbuf *b);
/* zbuf_reserve - make room for extra more bytes: Z_OK, Z_ETOOBIG, Z_ENOMEM */
int zbuf_reserve(zbuf *b, size_t extra);
/* zbuf_append - append n bytes */
int zbuf_append(zbuf *b, const void *p, size_t n);
/* zbuf_puts - append a C string */
int zbuf_puts(zbuf *b, const char *s);
/* zbuf_putc - append one byte */
int zbuf_putc(zbuf *b, int c);
/* zbuf_set - replace contents */
int zbuf_set(zbuf *b, const void *p, size_t n);
/* zbuf_printf - append formatted text (vsnprintf underneath) */
int zbuf_printf(zbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int zbuf_vprintf(zbuf *b, const char *fmt, va_list ap);
/* zbuf_setf - replace the contents with formatted text (b may be NULL):
   the usual way to put a reason into a caller's err */
int zbuf_setf(zbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* zbuf_cstr - NUL-terminated view ("" when empty) */
const char *zbuf_cstr(const zbuf *b);
/* zbuf_consume - drop the first n bytes (n > len drops all) */
void zbuf_consume(zbuf *b, size_t n);
/* zbuf_truncate - shorten to n bytes (no-op when n >= len) */
void zbuf_truncate(zbuf *b, size_t n);

/* A span: pointer + length into someone else's storage, not NUL-terminated. */
typedef struct zspan {
	const char *p;
	size_t n;
} zspan;

#define ZSPAN_NULL ((zspan){ NULL, 0 })

/* zspan_from - span of a C string */
zspan zspan_from(const char *s);
/* zspan_eq / zspan_caseeq - compare with a C string */
int zspan_eq(zspan s, const char *lit);
int zspan_caseeq(zspan s, const char *lit);
/* zspan_caseeq_span - compare two spans ignoring ASCII case */
int zspan_caseeq_span(zspan a, zspan b);
/* zspan_startswith_case - prefix test ignoring ASCII case */
int zspan_startswith_case(zspan s, const char *lit);
/* zspan_copy - copy into dst[dstsz] with NUL; Z_ETOOBIG if it does not fit */
int zspan_copy(zspan s, char *dst, size_t dstsz);
/* zspan_dup - malloc'd NUL-terminated copy, NULL on ENOMEM */
char *zspan_dup(zspan s);
/* zspan_to_ulong - whole span must be decimal digits <= max */
int zspan_to_ulong(zspan s, unsigned long max, unsigned long *out);
/* zspan_to_long - optional '-' then digits, within [min,max] */
int zspan_to_long(zspan s, long min, long max, long *out);
/* zspan_trim - strip ASCII spaces/tabs/CR/LF at both ends */
zspan zspan_trim(zspan s);
/* zspan_chr - index of c or -1 */
long zspan_chr(zspan s, char c);
/* zspan_rtrim_set - drop trailing bytes found in set */
zspan zspan_rtrim_set(zspan s, const char *set);

/* A cursor over bytes; every take checks the remaining length. */
typedef struct zcur {
	const char *p;
	size_t n;
	size_t pos;
} zcur;

void zcur_init(zcur *c, const void *p, size_t n);
size_t zcur_left(const zcur *c);
int zcur_eof(const zcur *c);
/* zcur_peek - next byte as unsigned char, or -1 at end */
int zcur_peek(const zcur *c);
/* zcur_skip_char - consume ch if next; returns 1 if consumed, 0 if not */
int zcur_skip_char(zcur *c, char ch);
/* zcur_skip_ws - consume spaces and tabs, return how many */
size_t zcur_skip_ws(zcur *c);
/* zcur_take_until - bytes before delim; delim consumed; Z_EPARSE (cursor
 * unchanged) if delim is not present */
int zcur_take_until(zcur *c, char delim, zspan *out);
/* zcur_take_token - bytes up to space/tab/end (not consumed); Z_EPARSE if empty */
int zcur_take_token(zcur *c, zspan *out);
/* zcur_take_rest - everything left */
void zcur_take_rest(zcur *c, zspan *out);
/* zcur_take_n - exactly n bytes, Z_EPARSE if fewer remain */
int zcur_take_n(zcur *c, size_t n, zspan *out);
/* zcur_take_ulong - 1+ decimal digits, value <= max, else Z_EPARSE/Z_ETOOBIG */
int zcur_take_ulong(zcur *c, unsigned long max, unsigned long *out);
/* zcur_expect - consume literal lit or Z_EPARSE (cursor unchanged) */
int zcur_expect(zcur *c, const char *lit);
/* zcur_expect_case - consume lit ignoring ASCII case, or Z_EPARSE (cursor unchanged) */
int zcur_expect_case(zcur *c, const char *lit);
/* zcur_skip_span - consume bytes found in set (a NUL byte never is), return how many */
size_t zcur_skip_span(zcur *c, const char *set);
/* zcur_take_span - the run of bytes found in set (may be empty); returns its length */
size_t zcur_take_span(zcur *c, const char *set, zspan *out);
/* zcur_take_cspan - the run of bytes up to one in stop or the end (may be
 * empty; the stop byte is not consumed); returns its length */
size_t zcur_take_cspan(zcur *c, const char *stop, zspan *out);

/* zhexval - value of one hex digit (either case) or -1 */
int zhexval(int c);

/* Overflow-checked size arithmetic: Z_OK or Z_ETOOBIG. */
int zsize_add(size_t a, size_t b, size_t *out);
int zsize_mul(size_t a, size_t b, size_t *out);

/* zstrlcpy - bounded copy with NUL; Z_ETOOBIG on truncation (dst still valid) */
int zstrlcpy(char *dst, const char *src, size_t dstsz);
/* zparse_ulong / zparse_long - whole C string, decimal, range checked */
int zparse_ulong(const char *s, unsigned long max, unsigned long *out);
int zparse_long(const char *s, long min, long max, long *out);

#endif
