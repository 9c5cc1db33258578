/*
 * NAME
 *	zglob - the shell-style matcher of scheduler.conf clause patterns
 * SUMMARY
 *	Matches a string against '*', '?', '[set]', '[^set]', '\x' and one
 *	trailing '{a,b,c}' alternatives group.
 * SYNOPSIS
 *	int zglob_match(const char *pattern, const char *str, int flags);
 * DESCRIPTION
 *	'*' matches any run of bytes (also empty), '?' any one byte.  A set
 *	"[...]" matches one byte listed in it; "a-z" is a range; a leading
 *	'^' or '!' negates; a ']' right after the '[' (or the negation) is a
 *	member; '\x' inside a set is x.  A '[' without its ']' is literal.
 *	'\x' outside a set matches x literally; a final lone '\' matches '\'.
 *	When the pattern ends in an unescaped "{alt1,alt2,...}" group (outside
 *	any set) the pattern matches if prefix+alt matches for any alt; the
 *	group may appear only at the end, elsewhere braces are literal.
 *	ZGLOB_NOCASE compares ASCII letters without case.
 * DIAGNOSTICS
 *	Returns 1 (match) or 0 (no match, or out of memory).
 * SECURITY
 *	Input is configuration plus host names from the spool; the matcher
 *	is iterative with single-star backtracking, O(len(p) * len(s)),
 *	so hostile patterns cannot blow the stack.  It must never recurse;
 *	it allocates at most one copy of the pattern per call.
 * BUGS
 *	Only one alternatives group, and only at the end.
 * SEE ALSO
 *	scheduler.conf(5), fnmatch(3)
 */
#include <stdlib.h>
#include <string.h>
#include "zbuf.h"
#include "zutil.h"

/* zg_fold - ASCII lower case when nocase */
static unsigned char zg_fold(unsigned char c, int nocase)
{
	if (nocase && c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A' + 'a');
	return c;
}

/* zg_set_end - index just past the ']' of the set starting at p[i]=='[', or 0 */
static size_t zg_set_end(const char *p, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j < n && (p[j] == '^' || p[j] == '!'))
		j++;
	if (j < n && p[j] == ']')
		j++;
	while (j < n && p[j] != ']') {
		if (p[j] == '\\' && j + 1 < n)
			j++;
		j++;
	}
	return j < n ? j + 1 : 0;
}

/* zg_set_match - does c match the set p[i..end) (end just past ']') */
static int zg_set_match(const char *p, size_t i, size_t end, unsigned char c, int nocase)
{
	size_t j = i + 1;
	int neg = 0, hit = 0;
	int first = 1;

	if (p[j] == '^' || p[j] == '!') {
		neg = 1;
		j++;
	}
	c = zg_fold(c, nocase);
	while (j < end - 1) {
		unsigned char lo, hi;
		if (p[j] == ']' && !first)
			break;
		first = 0;
		if (p[j] == '\\' && j + 1 < end - 1)
			j++;
		lo = (unsigned char)p[j++];
		hi = lo;
		if (j + 1 < end - 1 && p[j] == '-' && p[j + 1] != ']') {
			j++;
			if (p[j] == '\\' && j + 1 < end - 1)
				j++;
			hi = (unsigned char)p[j++];
		}
		lo = zg_fold(lo, nocase);
		hi = zg_fold(hi, nocase);
		if (lo <= c && c <= hi)
			hit = 1;
		else if (nocase && hi < lo) {
			/* folding broke a mixed range; ignore rather than guess */
		}
	}
	return hit != neg;
}

/* zg_one - match one pattern element at p[*pi] against c; advances *pi.
 * Returns 1 match, 0 no match. */
static int zg_one(const char *p, size_t n, size_t *pi, unsigned char c, int nocase)
{
	size_t i = *pi;

	if (p[i] == '?') {
		*pi = i + 1;
		return 1;
	}
	if (p[i] == '[') {
		size_t end = zg_set_end(p, n, i);
		if (end != 0) {
			*pi = end;
			return zg_set_match(p, i, end, c, nocase);
		}
		*pi = i + 1;
		return c == '[';
	}
	if (p[i] == '\\' && i + 1 < n) {
		*pi = i + 2;
		return zg_fold((unsigned char)p[i + 1], nocase) == zg_fold(c, nocase);
	}
	*pi = i + 1;
	return zg_fold((unsigned char)p[i], nocase) == zg_fold(c, nocase);
}

/* zg_match - plain glob of p[0..n) against s */
static int zg_match(const char *p, size_t n, const char *s, int nocase)
{
	size_t pi = 0, si = 0;
	size_t star_p = (size_t)-1, star_s = 0;
	size_t slen = strlen(s);

	while (si < slen) {
		if (pi < n && p[pi] == '*') {
			while (pi < n && p[pi] == '*')
				pi++;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi < n) {
			size_t next = pi;
			if (zg_one(p, n, &next, (unsigned char)s[si], nocase)) {
				pi = next;
				si++;
				continue;
			}
		}
		if (star_p == (size_t)-1)
			return 0;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < n && p[pi] == '*')
		pi++;
	return pi == n;
}

/* zg_find_group - index of the '{' of a trailing group, or -1 */
static long zg_find_group(const char *p, size_t n)
{
	size_t i = 0;
	long open = -1;

	if (n < 2 || p[n - 1] != '}')
		return -1;
	while (i < n) {
		if (p[i] == '\\') {
			if (i + 1 == n - 1)
				return -1; /* the final '}' is escaped */
			i += 2;
			continue;
		}
		if (p[i] == '[') {
			size_t end = zg_set_end(p, n, i);
			if (end != 0) {
				if (end > n - 1)
					return -1;
				i = end;
				continue;
			}
		}
		if (p[i] == '{' && open < 0)
			open = (long)i;
		i++;
	}
	return open;
}

/* zglob_match - 1 if str matches pattern */
int zglob_match(const char *pattern, const char *str, int flags)
{
	int nocase = (flags & ZGLOB_NOCASE) != 0;
	size_t n = strlen(pattern);
	long g = zg_find_group(pattern, n);
	size_t start, prefix;
	char *tmp;
	int hit = 0;

	if (g < 0)
		return zg_match(pattern, n, str, nocase);
	prefix = (size_t)g;
	tmp = malloc(n + 1);
	if (tmp == NULL)
		return 0;
	memcpy(tmp, pattern, prefix);
	start = prefix + 1;
	for (size_t i = start; i <= n - 1 && !hit; i++) {
		if (pattern[i] == '\\' && i + 1 < n - 1) {
			i++;
			continue;
		}
		if (pattern[i] == ',' || i == n - 1) {
			size_t alen = i - start;
			memcpy(tmp + prefix, pattern + start, alen);
			hit = zg_match(tmp, prefix + alen, str, nocase);
			start = i + 1;
		}
	}
	free(tmp);
	return hit;
}
