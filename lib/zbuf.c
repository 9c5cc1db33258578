/*
 * NAME
 *	zbuf - bounded length-carrying buffers, spans and cursors
 * SUMMARY
 *	The one buffer type for bytes from outside, with a hard maximum size,
 *	plus span comparison helpers and a checked cursor for parsing.
 * SYNOPSIS
 *	void zbuf_init(zbuf *b, size_t max);
 *	int zbuf_append(zbuf *b, const void *p, size_t n);
 *	int zbuf_printf(zbuf *b, const char *fmt, ...);
 *	int zbuf_setf(zbuf *b, const char *fmt, ...);
 *	int zcur_take_until(zcur *c, char delim, zspan *out);
 *	size_t zcur_take_cspan(zcur *c, const char *stop, zspan *out);
 *	int zparse_ulong(const char *s, unsigned long max, unsigned long *out);
 *	(see zbuf.h for the full list)
 * DESCRIPTION
 *	Storage grows by doubling, capped at max+1 bytes (room for the NUL).
 *	Every size computation is overflow-checked.  A failing append leaves
 *	the buffer exactly as it was.  data is NUL-terminated after len
 *	whenever it is allocated.
 *	The xtext pair is the RFC 3461 "+XX" escape used for ORCPT and
 *	ENVID; the decoder takes either case of hex, the encoder writes upper.
 *	The set arguments of zcur_skip_span, zcur_take_span, zcur_take_cspan
 *	and zspan_rtrim_set are C strings of bytes, as for strspn/strcspn; a
 *	NUL byte in the input is never a member of a set.
 * DIAGNOSTICS
 *	Z_OK, Z_ETOOBIG (max would be passed, or arithmetic overflow),
 *	Z_ENOMEM, Z_EPARSE (cursor and number parsing).
 * SECURITY
 *	Trusts no byte it handles; never reads past len or writes past cap.
 * BUGS
 *	zbuf_consume moves the remaining bytes down (O(len)).
 * SEE ALSO
 *	zerr.h, zline.h
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zbuf.h"

/* zbuf_init - empty buffer that may grow to max bytes */
void zbuf_init(zbuf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* zbuf_free - release storage */
void zbuf_free(zbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* zbuf_reset - set len to 0, keep storage */
void zbuf_reset(zbuf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* zsize_add - overflow-checked addition */
int zsize_add(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return Z_ETOOBIG;
	*out = a + b;
	return Z_OK;
}

/* zsize_mul - overflow-checked multiplication */
int zsize_mul(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return Z_ETOOBIG;
	*out = a * b;
	return Z_OK;
}

/* zbuf_reserve - make room for extra more bytes (plus the NUL) */
int zbuf_reserve(zbuf *b, size_t extra)
{
	size_t need, want, hardcap;
	char *p;

	if (zsize_add(b->len, extra, &need) != Z_OK || need > b->max)
		return Z_ETOOBIG;
	if (zsize_add(b->max, 1, &hardcap) != Z_OK)
		hardcap = SIZE_MAX;
	need++; /* NUL; cannot overflow since need <= max < SIZE_MAX or hardcap */
	if (need == 0)
		return Z_ETOOBIG;
	if (b->data != NULL && need <= b->cap)
		return Z_OK;
	want = b->cap ? b->cap : 64;
	while (want < need) {
		if (want > SIZE_MAX / 2) {
			want = need;
			break;
		}
		want *= 2;
	}
	if (want > hardcap)
		want = hardcap;
	if (want < need)
		want = need;
	p = realloc(b->data, want);
	if (p == NULL)
		return Z_ENOMEM;
	if (b->data == NULL)
		p[0] = '\0';
	b->data = p;
	b->cap = want;
	return Z_OK;
}

/* zbuf_append - append n bytes */
int zbuf_append(zbuf *b, const void *p, size_t n)
{
	int rc;

	if (b == NULL)		/* a NULL buffer discards: callers may pass NULL for "no reason wanted" */
		return Z_OK;
	rc = zbuf_reserve(b, n);

	if (rc != Z_OK)
		return rc;
	if (n)
		memmove(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return Z_OK;
}

/* zbuf_puts - append a C string */
int zbuf_puts(zbuf *b, const char *s)
{
	return zbuf_append(b, s, strlen(s));
}

/* zbuf_putc - append one byte */
int zbuf_putc(zbuf *b, int c)
{
	char ch = (char)c;

	return zbuf_append(b, &ch, 1);
}

/* zbuf_set - replace contents */
int zbuf_set(zbuf *b, const void *p, size_t n)
{
	int rc;

	if (b == NULL)
		return Z_OK;

	if (n > b->max)
		return Z_ETOOBIG;
	if (b->data != NULL && p >= (const void *)b->data &&
	    (const char *)p < b->data + b->cap) {
		/* source inside our own storage: move down */
		memmove(b->data, p, n);
		b->len = n;
		b->data[n] = '\0';
		return Z_OK;
	}
	if (n > b->len && (rc = zbuf_reserve(b, n - b->len)) != Z_OK)
		return rc;
	if (b->data == NULL && (rc = zbuf_reserve(b, 0)) != Z_OK)
		return rc;
	if (n)
		memcpy(b->data, p, n);
	b->len = n;
	b->data[n] = '\0';
	return Z_OK;
}

/* zbuf_vprintf - append formatted text */
/* zbuf_setf - reset, then append formatted text */
int zbuf_setf(zbuf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (b == NULL)
		return Z_OK;
	zbuf_reset(b);
	va_start(ap, fmt);
	rc = zbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int zbuf_vprintf(zbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	int rc;

	if (b == NULL)
		return Z_OK;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return Z_ERR;
	if ((rc = zbuf_reserve(b, (size_t)n)) != Z_OK)
		return rc;
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->data[b->len] = '\0';
		return Z_ERR;
	}
	b->len += (size_t)n;
	return Z_OK;
}

/* zbuf_printf - append formatted text */
int zbuf_printf(zbuf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = zbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/* zbuf_cstr - NUL-terminated view */
const char *zbuf_cstr(const zbuf *b)
{
	return b->data != NULL ? b->data : "";
}

/* zbuf_consume - drop the first n bytes */
void zbuf_consume(zbuf *b, size_t n)
{
	if (b->data == NULL)
		return;
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	b->data[b->len] = '\0';
}

/* zbuf_truncate - shorten to n bytes */
void zbuf_truncate(zbuf *b, size_t n)
{
	if (b->data == NULL || n >= b->len)
		return;
	b->len = n;
	b->data[n] = '\0';
}

/* zlower - ASCII lower case */
static int zlower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* zspan_from - span of a C string */
zspan zspan_from(const char *s)
{
	zspan r;

	r.p = s;
	r.n = s ? strlen(s) : 0;
	return r;
}

/* zspan_eq - exact compare with a C string */
int zspan_eq(zspan s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

/* zspan_caseeq_span - compare two spans ignoring ASCII case */
int zspan_caseeq_span(zspan a, zspan b)
{
	if (a.n != b.n)
		return 0;
	for (size_t i = 0; i < a.n; i++)
		if (zlower((unsigned char)a.p[i]) != zlower((unsigned char)b.p[i]))
			return 0;
	return 1;
}

/* zspan_caseeq - compare with a C string ignoring ASCII case */
int zspan_caseeq(zspan s, const char *lit)
{
	return zspan_caseeq_span(s, zspan_from(lit));
}

/* zspan_startswith_case - prefix test ignoring ASCII case */
int zspan_startswith_case(zspan s, const char *lit)
{
	zspan l = zspan_from(lit);

	if (l.n > s.n)
		return 0;
	s.n = l.n;
	return zspan_caseeq_span(s, l);
}

/* zspan_copy - copy into dst[dstsz] with NUL */
int zspan_copy(zspan s, char *dst, size_t dstsz)
{
	if (dstsz == 0)
		return Z_ETOOBIG;
	if (s.n >= dstsz) {
		dst[0] = '\0';
		return Z_ETOOBIG;
	}
	if (s.n)
		memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return Z_OK;
}

/* zspan_dup - malloc'd NUL-terminated copy */
char *zspan_dup(zspan s)
{
	char *p;

	if (s.n == SIZE_MAX)
		return NULL;
	p = malloc(s.n + 1);
	if (p == NULL)
		return NULL;
	if (s.n)
		memcpy(p, s.p, s.n);
	p[s.n] = '\0';
	return p;
}

/* zspan_to_ulong - whole span decimal digits <= max */
int zspan_to_ulong(zspan s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (s.n == 0)
		return Z_EPARSE;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return Z_EPARSE;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d;
		d = (unsigned)(s.p[i] - '0');
		if (d > max || v > (max - d) / 10)
			return Z_ETOOBIG;
		v = v * 10 + d;
	}
	if (v > max)
		return Z_ETOOBIG;
	*out = v;
	return Z_OK;
}

/* zspan_to_long - optional '-' then digits within [min,max] */
int zspan_to_long(zspan s, long min, long max, long *out)
{
	unsigned long mag, lim;
	int neg = 0;
	int rc;

	if (min > max)
		return Z_EPARSE;
	if (s.n > 0 && s.p[0] == '-') {
		neg = 1;
		s.p++;
		s.n--;
	}
	if (neg)
		lim = (unsigned long)LONG_MAX + 1ul;
	else
		lim = (unsigned long)LONG_MAX;
	rc = zspan_to_ulong(s, lim, &mag);
	if (rc != Z_OK)
		return rc;
	if (neg) {
		long v;
		if (mag == (unsigned long)LONG_MAX + 1ul)
			v = LONG_MIN;
		else
			v = -(long)mag;
		if (v < min || v > max)
			return Z_ETOOBIG;
		*out = v;
	} else {
		if ((long)mag > max || (long)mag < min)
			return Z_ETOOBIG;
		*out = (long)mag;
	}
	return Z_OK;
}

/* zisws - space, tab, CR or LF */
static int zisws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* zspan_trim - strip ASCII whitespace at both ends */
zspan zspan_trim(zspan s)
{
	while (s.n > 0 && zisws(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && zisws(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* zspan_chr - index of c or -1 */
long zspan_chr(zspan s, char c)
{
	const char *q;

	if (s.n == 0)
		return -1;
	q = memchr(s.p, c, s.n);
	return q ? (long)(q - s.p) : -1;
}

/* zinset - byte ch is one of the bytes of the C string set (NUL never is) */
static int zinset(const char *set, char ch)
{
	return ch != '\0' && strchr(set, ch) != NULL;
}

/* zspan_rtrim_set - drop trailing bytes found in set */
zspan zspan_rtrim_set(zspan s, const char *set)
{
	while (s.n > 0 && zinset(set, s.p[s.n - 1]))
		s.n--;
	return s;
}

/* zcur_at - the current position; NULL for a cursor over (NULL, 0), as
 * even NULL + 0 is undefined in C (an empty zbuf has data NULL) */
static const char *zcur_at(const zcur *c)
{
	return c->p != NULL ? c->p + c->pos : NULL;
}

/* zcur_init - cursor over n bytes at p */
void zcur_init(zcur *c, const void *p, size_t n)
{
	c->p = p;
	c->n = n;
	c->pos = 0;
}

/* zcur_left - bytes remaining */
size_t zcur_left(const zcur *c)
{
	return c->n - c->pos;
}

/* zcur_eof - nothing remaining */
int zcur_eof(const zcur *c)
{
	return c->pos >= c->n;
}

/* zcur_peek - next byte or -1 */
int zcur_peek(const zcur *c)
{
	return c->pos < c->n ? (unsigned char)c->p[c->pos] : -1;
}

/* zcur_skip_char - consume ch if next */
int zcur_skip_char(zcur *c, char ch)
{
	if (c->pos < c->n && c->p[c->pos] == ch) {
		c->pos++;
		return 1;
	}
	return 0;
}

/* zcur_skip_ws - consume spaces and tabs */
size_t zcur_skip_ws(zcur *c)
{
	size_t k = 0;

	while (c->pos < c->n && (c->p[c->pos] == ' ' || c->p[c->pos] == '\t')) {
		c->pos++;
		k++;
	}
	return k;
}

/* zcur_take_until - bytes before delim; delim consumed */
int zcur_take_until(zcur *c, char delim, zspan *out)
{
	const char *start;
	const char *q;

	if (c->pos >= c->n)
		return Z_EPARSE;
	start = c->p + c->pos;
	q = memchr(start, delim, c->n - c->pos);
	if (q == NULL)
		return Z_EPARSE;
	out->p = start;
	out->n = (size_t)(q - start);
	c->pos += out->n + 1;
	return Z_OK;
}

/* zcur_take_token - bytes up to space/tab/end */
int zcur_take_token(zcur *c, zspan *out)
{
	size_t i = c->pos;

	while (i < c->n && c->p[i] != ' ' && c->p[i] != '\t')
		i++;
	if (i == c->pos)
		return Z_EPARSE;
	out->p = zcur_at(c);
	out->n = i - c->pos;
	c->pos = i;
	return Z_OK;
}

/* zcur_take_rest - everything left */
void zcur_take_rest(zcur *c, zspan *out)
{
	out->p = zcur_at(c);
	out->n = c->n - c->pos;
	c->pos = c->n;
}

/* zcur_take_n - exactly n bytes */
int zcur_take_n(zcur *c, size_t n, zspan *out)
{
	if (n > c->n - c->pos)
		return Z_EPARSE;
	out->p = zcur_at(c);
	out->n = n;
	c->pos += n;
	return Z_OK;
}

/* zcur_take_ulong - 1+ decimal digits with value <= max */
int zcur_take_ulong(zcur *c, unsigned long max, unsigned long *out)
{
	size_t i = c->pos;
	zspan s;
	int rc;

	while (i < c->n && c->p[i] >= '0' && c->p[i] <= '9')
		i++;
	if (i == c->pos)
		return Z_EPARSE;
	s.p = c->p + c->pos;
	s.n = i - c->pos;
	rc = zspan_to_ulong(s, max, out);
	if (rc != Z_OK)
		return rc;
	c->pos = i;
	return Z_OK;
}

/* zcur_expect - consume literal lit */
int zcur_expect(zcur *c, const char *lit)
{
	size_t n = strlen(lit);

	if (n > c->n - c->pos || (n && memcmp(c->p + c->pos, lit, n) != 0))
		return Z_EPARSE;
	c->pos += n;
	return Z_OK;
}

/* zcur_expect_case - consume lit ignoring ASCII case */
int zcur_expect_case(zcur *c, const char *lit)
{
	zspan l = zspan_from(lit), here;

	if (l.n > c->n - c->pos)
		return Z_EPARSE;
	here.p = zcur_at(c);
	here.n = l.n;
	if (!zspan_caseeq_span(here, l))
		return Z_EPARSE;
	c->pos += l.n;
	return Z_OK;
}

/* zcur_skip_span - consume bytes found in set */
size_t zcur_skip_span(zcur *c, const char *set)
{
	zspan s;

	return zcur_take_span(c, set, &s);
}

/* zcur_take_span - the run of bytes found in set */
size_t zcur_take_span(zcur *c, const char *set, zspan *out)
{
	size_t i = c->pos;

	while (i < c->n && zinset(set, c->p[i]))
		i++;
	out->p = zcur_at(c);
	out->n = i - c->pos;
	c->pos = i;
	return out->n;
}

/* zcur_take_cspan - the run of bytes up to one in stop or the end */
size_t zcur_take_cspan(zcur *c, const char *stop, zspan *out)
{
	size_t i = c->pos;

	while (i < c->n && !zinset(stop, c->p[i]))
		i++;
	out->p = zcur_at(c);
	out->n = i - c->pos;
	c->pos = i;
	return out->n;
}

/* zhexval - value of one hex digit (either case) or -1 */
int zhexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* zstrlcpy - bounded copy with NUL */
int zstrlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (dstsz == 0)
		return Z_ETOOBIG;
	if (n >= dstsz) {
		memcpy(dst, src, dstsz - 1);
		dst[dstsz - 1] = '\0';
		return Z_ETOOBIG;
	}
	memcpy(dst, src, n + 1);
	return Z_OK;
}

/* zparse_ulong - whole C string, decimal, <= max */
int zparse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	if (s == NULL)
		return Z_EPARSE;
	return zspan_to_ulong(zspan_from(s), max, out);
}

/* zparse_long - whole C string, optional '-', within [min,max] */
int zparse_long(const char *s, long min, long max, long *out)
{
	if (s == NULL)
		return Z_EPARSE;
	return zspan_to_long(zspan_from(s), min, max, out);
}
