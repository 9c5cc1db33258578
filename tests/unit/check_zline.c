/*
 * NAME
 *	check_zline - unit tests for the bounded line reader
 * SUMMARY
 *	Lines split across feeds, over-long lines reported once, CR kept,
 *	reading from a pipe.
 * SYNOPSIS
 *	check_zline (run by make check)
 * DESCRIPTION
 *	Each table row is a list of feeds and the expected sequence of
 *	results ("=text" for a line, "!" for Z_ETOOBIG).
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	lib/zline.h
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "zbuf.h"
#include "zline.h"
#include "zutil.h"

/* run_feeds - feed each chunk, drain after each; results joined by '|' */
static void run_feeds(size_t maxline, const char *const *feeds, zbuf *res)
{
	zline l;
	zspan line;
	int rc;

	zline_init(&l, maxline);
	for (size_t i = 0; feeds[i] != NULL; i++) {
		ck_assert_int_eq(zline_feed(&l, feeds[i], strlen(feeds[i])), Z_OK);
		while ((rc = zline_next(&l, &line)) != 0) {
			if (rc == Z_ETOOBIG) {
				zbuf_puts(res, "!|");
			} else {
				ck_assert_int_eq(rc, 1);
				zbuf_putc(res, '=');
				zbuf_append(res, line.p, line.n);
				zbuf_putc(res, '|');
			}
		}
	}
	zbuf_printf(res, "pending=%zu", zline_pending(&l));
	zline_free(&l);
}

static const struct {
	size_t maxline;
	const char *feeds[8];
	const char *want;
} cases[] = {
	{ 10, { "abc\n", NULL }, "=abc|pending=0" },
	{ 10, { "ab", "c\nde", "f\n", NULL }, "=abc|=def|pending=0" },
	{ 10, { "a\nb\nc\n\n", NULL }, "=a|=b|=c|=|pending=0" },
	{ 10, { "cr\r\n", NULL }, "=cr\r|pending=0" },
	{ 10, { "partial", NULL }, "pending=7" },
	{ 10, { "0123456789\n", NULL }, "=0123456789|pending=0" },
	{ 10, { "0123456789A\nok\n", NULL }, "!|=ok|pending=0" },
	{ 10, { "0123456789AB", "CDEF", "GHIJ\nok\n", NULL }, "!|=ok|pending=0" },
	{ 10, { "012345", "6789ABCDEF", "GH", "IJKLMNOPQRSTU", "V\nnext\n", NULL },
	  "!|=next|pending=0" },
	{ 10, { "x\n0123456789ABCDEF", "\ny\n", NULL }, "=x|!|=y|pending=0" },
	{ 10, { "0123456789ABC\n0123456789ABC\nz\n", NULL }, "!|!|=z|pending=0" },
	{ 4, { "aaaaaaaaaaaaa", "\n", "bb\n", NULL }, "!|=bb|pending=0" },
	{ 4, { "aaaaaaaa", "aaaa", "aa", "\nc", "c", "\n", NULL }, "!|=cc|pending=0" },
	{ 0, { "\n\nx\n", NULL }, "=|=|!|pending=0" },
};

START_TEST(test_feeds)
{
	zbuf res = ZBUF_INIT(1024);

	run_feeds(cases[_i].maxline, cases[_i].feeds, &res);
	ck_assert_msg(strcmp(zbuf_cstr(&res), cases[_i].want) == 0,
	    "case %d: got \"%s\" want \"%s\"", _i, zbuf_cstr(&res), cases[_i].want);
	zbuf_free(&res);
}
END_TEST

START_TEST(test_no_drain_between_feeds)
{
	zline l;
	zspan line;

	zline_init(&l, 8);
	ck_assert_int_eq(zline_feed(&l, "one\n", 4), Z_OK);
	ck_assert_int_eq(zline_feed(&l, "two\nthr", 7), Z_OK);
	ck_assert_int_eq(zline_feed(&l, "ee\n", 3), Z_OK);
	ck_assert_int_eq(zline_next(&l, &line), 1);
	ck_assert(zspan_eq(line, "one"));
	ck_assert_int_eq(zline_next(&l, &line), 1);
	ck_assert(zspan_eq(line, "two"));
	ck_assert_int_eq(zline_pending(&l), 6);
	ck_assert_int_eq(zline_next(&l, &line), 1);
	ck_assert(zspan_eq(line, "three"));
	ck_assert_int_eq(zline_next(&l, &line), 0);
	ck_assert_int_eq(zline_pending(&l), 0);
	zline_free(&l);
}
END_TEST

START_TEST(test_feed_bound)
{
	static char big[ZLINE_CHUNK + 100];
	zline l;
	zspan line;

	memset(big, 'x', sizeof(big));
	zline_init(&l, 10);
	/* more than the buffer bound in one feed: refused, nothing kept */
	ck_assert_int_eq(zline_feed(&l, big, sizeof(big)), Z_ETOOBIG);
	ck_assert_uint_eq(zline_pending(&l), 0);
	/* a chunk that fits: the over-long line is reported once */
	ck_assert_int_eq(zline_feed(&l, big, ZLINE_CHUNK), Z_OK);
	ck_assert_int_eq(zline_next(&l, &line), Z_ETOOBIG);
	ck_assert_int_eq(zline_next(&l, &line), 0);
	ck_assert_int_eq(zline_feed(&l, big, ZLINE_CHUNK), Z_OK);
	ck_assert_int_eq(zline_next(&l, &line), 0);
	ck_assert_int_eq(zline_feed(&l, "xx\nok\n", 6), Z_OK);
	ck_assert_int_eq(zline_next(&l, &line), 1);
	ck_assert(zspan_eq(line, "ok"));
	ck_assert_int_eq(zline_next(&l, &line), 0);
	zline_free(&l);
}
END_TEST

START_TEST(test_pipe)
{
	int fds[2];
	zline l;
	zspan line;
	long r;
	int lines = 0, big = 0;
	char chunk[3000];

	ck_assert_int_eq(pipe(fds), 0);
	memset(chunk, 'x', sizeof(chunk));
	ck_assert_int_eq(zwrite_all(fds[1], "first\n", 6), Z_OK);
	ck_assert_int_eq(zwrite_all(fds[1], chunk, sizeof(chunk)), Z_OK);
	ck_assert_int_eq(zwrite_all(fds[1], chunk, sizeof(chunk)), Z_OK);
	ck_assert_int_eq(zwrite_all(fds[1], "\nlast\ntail", 10), Z_OK);
	close(fds[1]);
	zline_init(&l, 1000);
	while ((r = zline_fill(&l, fds[0])) > 0) {
		int rc;
		while ((rc = zline_next(&l, &line)) != 0) {
			if (rc == Z_ETOOBIG)
				big++;
			else if (lines++ == 0)
				ck_assert(zspan_eq(line, "first"));
			else
				ck_assert(zspan_eq(line, "last"));
		}
	}
	ck_assert_int_eq(r, 0);
	ck_assert(l.eof);
	ck_assert_int_eq(lines, 2);
	ck_assert_int_eq(big, 1);
	ck_assert_int_eq(zline_pending(&l), 4);
	zline_free(&l);
	close(fds[0]);
}
END_TEST

/* main - run the suite */
int main(void)
{
	Suite *s = suite_create("zline");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_feeds, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_no_drain_between_feeds);
	tcase_add_test(tc, test_feed_bound);
	tcase_add_test(tc, test_pipe);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
