/*
 * NAME
 *	check_mxtext - unit tests for RFC 3461 xtext (mail/xtext.c)
 * SUMMARY
 *	Tables of values to encode and decode, strict and lenient syntax
 *	cases (the tree's one xtext: lib's and the smtp agent's copies went).
 * SYNOPSIS
 *	check_mxtext (run by make check)
 * DESCRIPTION
 *	The tables of the former lib/zbuf.c and smtp agent copies live here
 *	now, so the callers switched over without a change in behaviour.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/xtext.h
 */
#include <check.h>
#include <string.h>
#include "xtext.h"
#include "zbuf.h"

struct pair { const char *raw; size_t rawlen; const char *x; };

static const struct pair enc[] = {
	{ "", 0, "" },
	{ "user@example.org", 16, "user@example.org" },
	{ "a+b=c", 5, "a+2Bb+3Dc" },
	{ "a b", 3, "a+20b" },
	{ "\r\n", 2, "+0D+0A" },
	{ "\0x", 2, "+00x" },
	{ "\x7f\x80\xff", 3, "+7F+80+FF" },
	{ "!~", 2, "!~" },
	{ "caf\xc3\xa9", 5, "caf+C3+A9" },
};

/* strict good */
static const char *const good[] = {
	"", "abc", "+2B", "a+3Db", "+00", "<>", "!\"#$%&'()*,-./0~", "+FF+ff", NULL
};

/* strict bad (lenient decode may still take some of them) */
static const char *const bad[] = {
	"a=b", "a b", "+", "+2", "+2G", "+zz", "+2b", "\x80", "a\tb", "x+", "+ 20", NULL
};

START_TEST(test_encode)
{
	for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
		zbuf b = ZBUF_INIT(256);
		zspan in = { enc[i].raw, enc[i].rawlen };

		ck_assert_int_eq(xtext_encode(&b, in), Z_OK);
		ck_assert_str_eq(zbuf_cstr(&b), enc[i].x);
		ck_assert_int_eq(xtext_valid(zspan_from(zbuf_cstr(&b))), 1);
		zbuf_reset(&b);
		ck_assert_int_eq(xtext_decode(&b, zspan_from(enc[i].x)), Z_OK);
		ck_assert_uint_eq(b.len, enc[i].rawlen);
		ck_assert(memcmp(b.data ? b.data : "", enc[i].raw, b.len) == 0);
		ck_assert_uint_eq(xtext_decoded_len(zspan_from(enc[i].x)), enc[i].rawlen);
		zbuf_free(&b);
	}
}
END_TEST

START_TEST(test_strict)
{
	for (size_t i = 0; good[i] != NULL; i++) {
		zbuf err = ZBUF_INIT(256);
		unsigned fl = strstr(good[i], "ff") ? XTEXT_LOWER_HEX : 0;
		ck_assert_msg(xtext_check(zspan_from(good[i]), fl, &err) == Z_OK,
		    "refused %s: %s", good[i], zbuf_cstr(&err));
		zbuf_free(&err);
	}
	for (size_t i = 0; bad[i] != NULL; i++) {
		zbuf err = ZBUF_INIT(256);
		ck_assert_msg(xtext_check(zspan_from(bad[i]), 0, &err) == Z_EPARSE,
		    "accepted \"%s\"", bad[i]);
		ck_assert(err.len > 0);
		ck_assert_int_eq(xtext_valid(zspan_from(bad[i])), 0);
		zbuf_free(&err);
	}
	/* lower-case hex only with the flag */
	ck_assert_int_eq(xtext_check(zspan_from("+2b"), XTEXT_LOWER_HEX, NULL), Z_OK);
	ck_assert_int_eq(xtext_check(zspan_from("+2g"), XTEXT_LOWER_HEX, NULL), Z_EPARSE);
	/* embedded NUL is never xtext */
	ck_assert_int_eq(xtext_check((zspan){ "a\0b", 3 }, 0, NULL), Z_EPARSE);
}
END_TEST

START_TEST(test_decode_errors_leave_output)
{
	zbuf b = ZBUF_INIT(64);

	zbuf_puts(&b, "keep");
	ck_assert_int_eq(xtext_decode(&b, zspan_from("abc+4")), Z_EPARSE);
	ck_assert_str_eq(zbuf_cstr(&b), "keep");
	ck_assert_int_eq(xtext_decode(&b, zspan_from("+4G")), Z_EPARSE);
	ck_assert_str_eq(zbuf_cstr(&b), "keep");
	ck_assert_uint_eq(xtext_decoded_len(zspan_from("+4G")), (size_t)-1);
	/* lenient: lower-case hex and stray '=' or blanks pass */
	zbuf_reset(&b);
	ck_assert_int_eq(xtext_decode(&b, zspan_from("+2b= x")), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "+= x");
	ck_assert_int_eq(xtext_decode(NULL, zspan_from("+41")), Z_OK);
	ck_assert_int_eq(xtext_decode(NULL, zspan_from("+4")), Z_EPARSE);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_bounds)
{
	zbuf b = ZBUF_INIT(5);

	zbuf_puts(&b, "ab");
	ck_assert_int_eq(xtext_encode(&b, zspan_from("c d")), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&b), "ab");
	ck_assert_int_eq(xtext_encode(&b, zspan_from("cde")), Z_OK);
	ck_assert_int_eq(xtext_encode(&b, zspan_from("f")), Z_ETOOBIG);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_put)
{
	zbuf b = ZBUF_INIT(64);

	ck_assert_int_eq(xtext_put(&b, zspan_from("a+2Bb")), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "a+2Bb");
	zbuf_reset(&b);
	ck_assert_int_eq(xtext_put(&b, zspan_from("a+b c")), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "a+2Bb+20c");
	zbuf_free(&b);
}
END_TEST

static const struct {
	const char *raw;   /* decoded form (NULL: enc is malformed) */
	const char *enc;
} xtext_cases[] = {
	{ "", "" },
	{ "user@example.org", "user@example.org" },
	{ "a+b=c", "a+2Bb+3Dc" },
	{ "sp ace\t", "sp+20ace+09" },
	{ "\x7f\xff\x01", "+7F+FF+01" },
	{ NULL, "abc+" },
	{ NULL, "abc+4" },
	{ NULL, "+G0" },
	{ NULL, "x+0g" },
};

START_TEST(test_xtext)
{
	zbuf b = ZBUF_INIT(64);
	const char *raw = xtext_cases[_i].raw, *enc = xtext_cases[_i].enc;

	ck_assert_int_eq(zbuf_puts(&b, "K"), Z_OK);
	if (raw == NULL) {
		ck_assert_int_eq(xtext_decode(&b, zspan_from(enc)), Z_EPARSE);
		ck_assert_int_eq(xtext_decode(NULL, zspan_from(enc)), Z_EPARSE);
		ck_assert_str_eq(zbuf_cstr(&b), "K");     /* unchanged on error */
	} else {
		ck_assert_int_eq(xtext_encode(&b, zspan_from(raw)), Z_OK);
		ck_assert_uint_eq(b.len, 1 + strlen(enc));
		ck_assert_mem_eq(b.data + 1, enc, strlen(enc));
		zbuf_truncate(&b, 1);
		ck_assert_int_eq(xtext_decode(&b, zspan_from(enc)), Z_OK);
		ck_assert_uint_eq(b.len, 1 + strlen(raw));
		ck_assert_mem_eq(b.data + 1, raw, strlen(raw));
	}
	zbuf_free(&b);
}
END_TEST

/* lower-case hex decodes, a full buffer leaves out unchanged (from check_zbuf) */
START_TEST(test_xtext_edges)
{
	zbuf b = ZBUF_INIT(4);

	ck_assert_int_eq(zhexval('a'), 10);
	ck_assert_int_eq(zhexval('F'), 15);
	ck_assert_int_eq(zhexval('g'), -1);
	ck_assert_int_eq(xtext_decode(&b, zspan_from("+2b")), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "+");
	ck_assert_int_eq(xtext_encode(&b, zspan_from("==")), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&b), "+");
	ck_assert_int_eq(xtext_decode(&b, zspan_from("abcd")), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&b), "+");
	zbuf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mxtext");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_strict);
	tcase_add_test(tc, test_decode_errors_leave_output);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_put);
	tcase_add_loop_test(tc, test_xtext, 0, sizeof(xtext_cases) / sizeof(xtext_cases[0]));
	tcase_add_test(tc, test_xtext_edges);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
