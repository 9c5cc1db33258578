/*
 * NAME
 *	check_zbuf - unit tests for zbuf, zspan, zcur and number parsing
 * SUMMARY
 *	Limits, overflow, printf, consume; cursor parsing; strict numbers;
 *	xtext encoding and decoding.
 * SYNOPSIS
 *	check_zbuf (run by make check)
 * DESCRIPTION
 *	Table-driven libcheck cases against lib/zbuf.h.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	lib/zbuf.h
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zbuf.h"

START_TEST(test_limits)
{
	zbuf b = ZBUF_INIT(8);

	ck_assert_str_eq(zbuf_cstr(&b), "");
	ck_assert_int_eq(zbuf_append(&b, "12345678", 8), Z_OK);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_uint_gt(b.cap, b.len);
	ck_assert_uint_le(b.cap, 9);
	ck_assert_int_eq(zbuf_putc(&b, 'x'), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&b), "12345678");
	zbuf_truncate(&b, 3);
	ck_assert_str_eq(zbuf_cstr(&b), "123");
	ck_assert_int_eq(zbuf_puts(&b, "abcdef"), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&b), "123");
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(zbuf_puts(&b, "abcde"), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "123abcde");
	zbuf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(zbuf_cstr(&b), "");
	ck_assert_int_eq(zbuf_set(&b, "xy", 2), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "xy");
	ck_assert_int_eq(zbuf_set(&b, "123456789", 9), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&b), "xy");
	zbuf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_overflow)
{
	zbuf b = ZBUF_INIT(SIZE_MAX);
	size_t r;

	ck_assert_int_eq(zbuf_puts(&b, "abc"), Z_OK);
	ck_assert_int_eq(zbuf_reserve(&b, SIZE_MAX), Z_ETOOBIG);
	ck_assert_int_eq(zbuf_reserve(&b, SIZE_MAX - 3), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&b), "abc");
	ck_assert_int_eq(zsize_add(SIZE_MAX, 1, &r), Z_ETOOBIG);
	ck_assert_int_eq(zsize_add(1, 2, &r), Z_OK);
	ck_assert_uint_eq(r, 3);
	ck_assert_int_eq(zsize_mul(SIZE_MAX / 2 + 1, 2, &r), Z_ETOOBIG);
	ck_assert_int_eq(zsize_mul(0, SIZE_MAX, &r), Z_OK);
	ck_assert_uint_eq(r, 0);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_growth)
{
	zbuf b = ZBUF_INIT(100000);

	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(zbuf_putc(&b, 'a' + i % 26), Z_OK);
	ck_assert_int_eq(zbuf_putc(&b, 'x'), Z_ETOOBIG);
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_uint_le(b.cap, 100001);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(b.data[26], 'a');
	zbuf_free(&b);
}
END_TEST

START_TEST(test_printf)
{
	zbuf b = ZBUF_INIT(16);

	ck_assert_int_eq(zbuf_printf(&b, "%d-%s", 42, "ab"), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "42-ab");
	ck_assert_int_eq(zbuf_printf(&b, "%s", "0123456789abc"), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&b), "42-ab");
	ck_assert_int_eq(zbuf_printf(&b, "%s", "0123456789a"), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "42-ab0123456789a");
	ck_assert_uint_eq(b.len, 16);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_consume)
{
	zbuf b = ZBUF_INIT(64);

	zbuf_consume(&b, 5); /* empty, unallocated: no crash */
	ck_assert_int_eq(zbuf_puts(&b, "hello world"), Z_OK);
	zbuf_consume(&b, 6);
	ck_assert_str_eq(zbuf_cstr(&b), "world");
	ck_assert_uint_eq(b.len, 5);
	zbuf_consume(&b, 0);
	ck_assert_str_eq(zbuf_cstr(&b), "world");
	zbuf_consume(&b, 99);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(zbuf_cstr(&b), "");
	zbuf_truncate(&b, 10);
	ck_assert_uint_eq(b.len, 0);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_span)
{
	zspan s = zspan_from("Hello");
	char small[4], big[16];
	char *d;

	ck_assert(zspan_eq(s, "Hello"));
	ck_assert(!zspan_eq(s, "hello"));
	ck_assert(zspan_caseeq(s, "hELLO"));
	ck_assert(!zspan_caseeq(s, "hELL"));
	ck_assert(zspan_startswith_case(s, "he"));
	ck_assert(!zspan_startswith_case(s, "Hello!"));
	ck_assert(zspan_caseeq_span(s, zspan_from("HELLO")));
	ck_assert_int_eq(zspan_copy(s, small, sizeof(small)), Z_ETOOBIG);
	ck_assert_int_eq(zspan_copy(s, big, sizeof(big)), Z_OK);
	ck_assert_str_eq(big, "Hello");
	d = zspan_dup(s);
	ck_assert_str_eq(d, "Hello");
	free(d);
	ck_assert_int_eq(zspan_chr(s, 'l'), 2);
	ck_assert_int_eq(zspan_chr(s, 'z'), -1);
	s = zspan_trim(zspan_from(" \t x y \r\n"));
	ck_assert_uint_eq(s.n, 3);
	ck_assert(zspan_eq(s, "x y"));
	s = zspan_trim(zspan_from(" \t\r\n"));
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_cursor)
{
	const char *line = "250-SIZE 1000 rest:of:it";
	zcur c;
	zspan t;
	unsigned long v;

	zcur_init(&c, line, strlen(line));
	ck_assert_int_eq(zcur_take_ulong(&c, 999, &v), Z_OK);
	ck_assert_uint_eq(v, 250);
	ck_assert_int_eq(zcur_peek(&c), '-');
	ck_assert_int_eq(zcur_skip_char(&c, ' '), 0);
	ck_assert_int_eq(zcur_skip_char(&c, '-'), 1);
	ck_assert_int_eq(zcur_take_token(&c, &t), Z_OK);
	ck_assert(zspan_eq(t, "SIZE"));
	ck_assert_int_eq(zcur_take_token(&c, &t), Z_EPARSE);
	ck_assert_uint_eq(zcur_skip_ws(&c), 1);
	ck_assert_int_eq(zcur_take_ulong(&c, 999, &v), Z_ETOOBIG);
	ck_assert_int_eq(zcur_peek(&c), '1'); /* unchanged on failure */
	ck_assert_int_eq(zcur_take_ulong(&c, 1000, &v), Z_OK);
	ck_assert_uint_eq(v, 1000);
	ck_assert_int_eq(zcur_expect(&c, " rest"), Z_OK);
	ck_assert_int_eq(zcur_expect(&c, "!"), Z_EPARSE);
	ck_assert_int_eq(zcur_take_until(&c, ';', &t), Z_EPARSE);
	ck_assert_int_eq(zcur_peek(&c), ':');
	ck_assert_int_eq(zcur_take_until(&c, ':', &t), Z_OK);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_int_eq(zcur_take_until(&c, ':', &t), Z_OK);
	ck_assert(zspan_eq(t, "of"));
	ck_assert_int_eq(zcur_take_n(&c, 3, &t), Z_EPARSE);
	ck_assert_int_eq(zcur_take_n(&c, 2, &t), Z_OK);
	ck_assert(zspan_eq(t, "it"));
	ck_assert(zcur_eof(&c));
	ck_assert_int_eq(zcur_peek(&c), -1);
	ck_assert_int_eq(zcur_take_ulong(&c, 10, &v), Z_EPARSE);
	zcur_take_rest(&c, &t);
	ck_assert_uint_eq(t.n, 0);

	zcur_init(&c, "abc def", 7);
	ck_assert_uint_eq(zcur_left(&c), 7);
	zcur_take_rest(&c, &t);
	ck_assert(zspan_eq(t, "abc def"));
	ck_assert_uint_eq(zcur_left(&c), 0);
}
END_TEST

static const struct {
	const char *s;
	unsigned long max;
	int rc;
	unsigned long v;
} ulong_cases[] = {
	{ "0", 10, Z_OK, 0 },
	{ "10", 10, Z_OK, 10 },
	{ "11", 10, Z_ETOOBIG, 0 },
	{ "007", 10, Z_OK, 7 },
	{ "", 10, Z_EPARSE, 0 },
	{ "+1", 10, Z_EPARSE, 0 },
	{ "-1", 10, Z_EPARSE, 0 },
	{ " 1", 10, Z_EPARSE, 0 },
	{ "1 ", 10, Z_EPARSE, 0 },
	{ "1x", 10, Z_EPARSE, 0 },
	{ "0x10", 100, Z_EPARSE, 0 },
	{ "18446744073709551615", ULONG_MAX, Z_OK, ULONG_MAX },
	{ "18446744073709551616", ULONG_MAX, Z_ETOOBIG, 0 },
	{ "99999999999999999999999", ULONG_MAX, Z_ETOOBIG, 0 },
	{ "7", 5, Z_ETOOBIG, 0 },
};

/* the span helpers: input, set, what take_span / take_cspan return, and
 * what zspan_rtrim_set leaves of the whole input */
static const struct {
	const char *in;
	size_t n;
	const char *set;
	size_t span, cspan, rtrim;
} span_cases[] = {
	{ "  x y ", 6, " ", 2, 0, 5 },
	{ "MAIL FROM:", 10, " ", 0, 4, 10 },
	{ "", 0, " \t", 0, 0, 0 },
	{ "\t \tk", 4, " \t", 3, 0, 4 },
	{ "abc", 3, " \t,", 0, 3, 3 },
	{ "a,b", 3, ",", 0, 1, 3 },
	{ "12345LAST", 9, "0123456789", 5, 0, 9 },
	{ "a\0b ", 4, " ", 0, 3, 3 },       /* NUL is data, not a set member */
	{ "\0\0", 2, "", 0, 2, 2 },         /* empty set: nothing matches */
	{ "x\t \t", 4, " \t", 0, 1, 1 },
};

START_TEST(test_cursor_sets)
{
	zcur c;
	zspan t, r;

	zcur_init(&c, span_cases[_i].in, span_cases[_i].n);
	ck_assert_uint_eq(zcur_take_span(&c, span_cases[_i].set, &t), span_cases[_i].span);
	ck_assert_uint_eq(t.n, span_cases[_i].span);
	ck_assert_ptr_eq(t.p, span_cases[_i].in);
	ck_assert_uint_eq(c.pos, span_cases[_i].span);

	zcur_init(&c, span_cases[_i].in, span_cases[_i].n);
	ck_assert_uint_eq(zcur_skip_span(&c, span_cases[_i].set), span_cases[_i].span);

	zcur_init(&c, span_cases[_i].in, span_cases[_i].n);
	ck_assert_uint_eq(zcur_take_cspan(&c, span_cases[_i].set, &t), span_cases[_i].cspan);
	ck_assert_uint_eq(t.n, span_cases[_i].cspan);
	ck_assert_uint_eq(zcur_left(&c), span_cases[_i].n - span_cases[_i].cspan);

	r = zspan_rtrim_set((zspan){ span_cases[_i].in, span_cases[_i].n }, span_cases[_i].set);
	ck_assert_ptr_eq(r.p, span_cases[_i].in);
	ck_assert_uint_eq(r.n, span_cases[_i].rtrim);
}
END_TEST

START_TEST(test_cursor_expect_case)
{
	zcur c;
	zspan t;

	zcur_init(&c, "mAiL fRoM:<a@b>", 15);
	ck_assert_int_eq(zcur_expect_case(&c, "MAIL FROM:<"), Z_OK);
	ck_assert_uint_eq(c.pos, 11);
	ck_assert_int_eq(zcur_expect_case(&c, "A@C"), Z_EPARSE);
	ck_assert_uint_eq(c.pos, 11);   /* unchanged on failure */
	ck_assert_int_eq(zcur_expect_case(&c, "A@B>x"), Z_EPARSE);   /* past the end */
	ck_assert_uint_eq(c.pos, 11);
	ck_assert_int_eq(zcur_expect_case(&c, ""), Z_OK);
	ck_assert_int_eq(zcur_expect_case(&c, "A@B>"), Z_OK);
	ck_assert(zcur_eof(&c));
	ck_assert_int_eq(zcur_expect_case(&c, ""), Z_OK);
	ck_assert_int_eq(zcur_expect_case(&c, "x"), Z_EPARSE);
	zcur_take_rest(&c, &t);
	ck_assert_uint_eq(t.n, 0);

	/* only ASCII letters fold; other bytes compare exactly */
	zcur_init(&c, "\xc4@[", 3);
	ck_assert_int_eq(zcur_expect_case(&c, "\xe4"), Z_EPARSE);
	ck_assert_int_eq(zcur_expect_case(&c, "\xc4`{"), Z_EPARSE);
	ck_assert_int_eq(zcur_expect_case(&c, "\xc4@["), Z_OK);
}
END_TEST

/* an empty zbuf has data NULL: a cursor over it must work (and do no
 * arithmetic on the null pointer: clang's UBSan reports even NULL + 0) */
START_TEST(test_cursor_null)
{
	zcur c;
	zspan t;
	unsigned long v;

	zcur_init(&c, NULL, 0);
	ck_assert(zcur_eof(&c));
	ck_assert_int_eq(zcur_peek(&c), -1);
	ck_assert_int_eq(zcur_take_until(&c, '\n', &t), Z_EPARSE);
	ck_assert_int_eq(zcur_take_token(&c, &t), Z_EPARSE);
	ck_assert_int_eq(zcur_take_ulong(&c, 10, &v), Z_EPARSE);
	ck_assert_int_eq(zcur_expect(&c, "x"), Z_EPARSE);
	ck_assert_int_eq(zcur_expect_case(&c, ""), Z_OK);
	ck_assert_uint_eq(zcur_take_span(&c, " ", &t), 0);
	ck_assert_ptr_null(t.p);
	ck_assert_uint_eq(zcur_take_cspan(&c, " ", &t), 0);
	ck_assert_uint_eq(zcur_skip_span(&c, " "), 0);
	ck_assert_int_eq(zcur_take_n(&c, 0, &t), Z_OK);
	ck_assert_int_eq(zcur_take_n(&c, 1, &t), Z_EPARSE);
	zcur_take_rest(&c, &t);
	ck_assert_ptr_null(t.p);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_eq(zspan_rtrim_set(t, " ").n, 0);
}
END_TEST

START_TEST(test_parse_ulong)
{
	unsigned long v = 12345;
	int rc = zparse_ulong(ulong_cases[_i].s, ulong_cases[_i].max, &v);

	ck_assert_msg(rc == ulong_cases[_i].rc, "case \"%s\": rc %d want %d",
	    ulong_cases[_i].s, rc, ulong_cases[_i].rc);
	if (rc == Z_OK)
		ck_assert_uint_eq(v, ulong_cases[_i].v);
	else
		ck_assert_uint_eq(v, 12345); /* untouched */
}
END_TEST

static const struct {
	const char *s;
	long min, max;
	int rc;
	long v;
} long_cases[] = {
	{ "0", -5, 5, Z_OK, 0 },
	{ "-5", -5, 5, Z_OK, -5 },
	{ "-6", -5, 5, Z_ETOOBIG, 0 },
	{ "6", -5, 5, Z_ETOOBIG, 0 },
	{ "-", -5, 5, Z_EPARSE, 0 },
	{ "+3", -5, 5, Z_EPARSE, 0 },
	{ "--3", -5, 5, Z_EPARSE, 0 },
	{ " 3", -5, 5, Z_EPARSE, 0 },
	{ "3\n", -5, 5, Z_EPARSE, 0 },
	{ "-9223372036854775808", LONG_MIN, LONG_MAX, Z_OK, LONG_MIN },
	{ "9223372036854775807", LONG_MIN, LONG_MAX, Z_OK, LONG_MAX },
	{ "9223372036854775808", LONG_MIN, LONG_MAX, Z_ETOOBIG, 0 },
	{ "-9223372036854775809", LONG_MIN, LONG_MAX, Z_ETOOBIG, 0 },
};

START_TEST(test_parse_long)
{
	long v = 777;
	int rc = zparse_long(long_cases[_i].s, long_cases[_i].min, long_cases[_i].max, &v);

	ck_assert_msg(rc == long_cases[_i].rc, "case \"%s\": rc %d want %d",
	    long_cases[_i].s, rc, long_cases[_i].rc);
	if (rc == Z_OK)
		ck_assert_int_eq(v, long_cases[_i].v);
}
END_TEST

START_TEST(test_strlcpy)
{
	char d[4];

	ck_assert_int_eq(zstrlcpy(d, "abc", sizeof(d)), Z_OK);
	ck_assert_str_eq(d, "abc");
	ck_assert_int_eq(zstrlcpy(d, "abcd", sizeof(d)), Z_ETOOBIG);
	ck_assert_str_eq(d, "abc");
	ck_assert_int_eq(zstrlcpy(d, "", sizeof(d)), Z_OK);
	ck_assert_str_eq(d, "");
}
END_TEST

START_TEST(test_set_alias)
{
	zbuf b = ZBUF_INIT(32);

	ck_assert_int_eq(zbuf_puts(&b, "prefix:value"), Z_OK);
	/* replace contents with a part of themselves */
	ck_assert_int_eq(zbuf_set(&b, b.data + 7, 5), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "value");
	ck_assert_uint_eq(b.len, 5);
	/* append a copy of itself */
	ck_assert_int_eq(zbuf_append(&b, b.data, b.len), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "valuevalue");
	zbuf_free(&b);
	/* set on a never-allocated buffer, and set to empty */
	ck_assert_int_eq(zbuf_set(&b, "", 0), Z_OK);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(zbuf_cstr(&b), "");
	zbuf_free(&b);
}
END_TEST

/* xtext round trips and malformed escapes */
/* main - run the suite */
/* zbuf_setf replaces the contents and accepts NULL */
START_TEST(test_setf)
{
	zbuf b = ZBUF_INIT(16);

	ck_assert_int_eq(zbuf_puts(&b, "old text"), Z_OK);
	ck_assert_int_eq(zbuf_setf(&b, "n=%d", 42), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "n=42");
	ck_assert_int_eq(zbuf_setf(&b, "%s", "much longer than sixteen bytes"), Z_ETOOBIG);
	ck_assert_int_eq(zbuf_setf(NULL, "x"), Z_OK);
	zbuf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zbuf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_printf);
	tcase_add_test(tc, test_consume);
	tcase_add_test(tc, test_span);
	tcase_add_test(tc, test_cursor);
	tcase_add_loop_test(tc, test_cursor_sets, 0, sizeof(span_cases) / sizeof(span_cases[0]));
	tcase_add_test(tc, test_cursor_expect_case);
	tcase_add_test(tc, test_cursor_null);
	tcase_add_loop_test(tc, test_parse_ulong, 0, sizeof(ulong_cases) / sizeof(ulong_cases[0]));
	tcase_add_loop_test(tc, test_parse_long, 0, sizeof(long_cases) / sizeof(long_cases[0]));
	tcase_add_test(tc, test_strlcpy);
	tcase_add_test(tc, test_set_alias);
	tcase_add_test(tc, test_setf);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
