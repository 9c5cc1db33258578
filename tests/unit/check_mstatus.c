/*
 * NAME
 *	check_mstatus - unit tests for enhanced status codes (mail/mstatus.c)
 * SUMMARY
 *	Tables of good and bad status codes, reply-text prefixes, class
 *	agreement and the DSN Action/Status field helpers.
 * SYNOPSIS
 *	check_mstatus (run by make check)
 * DESCRIPTION
 *	Each table row is checked through every entry point that should
 *	agree on it (parse, valid, prefix).
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/mstatus.h
 */
#include <check.h>
#include <string.h>
#include "mstatus.h"
#include "zbuf.h"

struct good { const char *s; unsigned c, sub, det; };

static const struct good good[] = {
	{ "2.0.0", 2, 0, 0 }, { "5.1.1", 5, 1, 1 }, { "4.7.0", 4, 7, 0 },
	{ "5.999.999", 5, 999, 999 }, { "4.04.001", 4, 4, 1 }, { "2.10.3", 2, 10, 3 },
};

static const char *const bad[] = {
	"", "5", "5.1", "5.1.", "5..1", ".1.1", "3.1.1", "1.0.0", "6.0.0", "55.1.1",
	"5.1234.1", "5.1.1234", "5.1.1.1", "5,1,1", "5.1.a", "a.1.1", " 5.1.1",
	"5.1.1 ", "5.-1.1", "5.1.1x", NULL
};

START_TEST(test_parse)
{
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		mstatus st;
		char buf[MSTATUS_TEXT_MAX];
		zbuf err = ZBUF_INIT(256);

		ck_assert_msg(mstatus_parse(zspan_from(good[i].s), &st, &err) == Z_OK,
		    "refused %s: %s", good[i].s, zbuf_cstr(&err));
		ck_assert_uint_eq(st.cls, good[i].c);
		ck_assert_uint_eq(st.subject, good[i].sub);
		ck_assert_uint_eq(st.detail, good[i].det);
		ck_assert_int_eq(mstatus_valid(zspan_from(good[i].s)), 1);
		ck_assert_int_eq(mstatus_format(&st, buf, sizeof buf), Z_OK);
		ck_assert_int_eq(mstatus_valid(zspan_from(buf)), 1);
		zbuf_free(&err);
	}
	for (size_t i = 0; bad[i] != NULL; i++) {
		zbuf err = ZBUF_INIT(256);

		ck_assert_msg(mstatus_parse(zspan_from(bad[i]), NULL, &err) == Z_EPARSE,
		    "accepted \"%s\"", bad[i]);
		ck_assert(err.len > 0);
		ck_assert_int_eq(mstatus_valid(zspan_from(bad[i])), 0);
		zbuf_free(&err);
	}
	ck_assert_int_eq(mstatus_valid((zspan){ "5.1.1\0", 6 }), 0);
}
END_TEST

START_TEST(test_prefix)
{
	static const struct { const char *text; size_t len; } t[] = {
		{ "5.1.1 User unknown", 5 }, { "2.0.0\tOk", 5 }, { "4.7.1", 5 },
		{ "5.1.1User", 0 }, { "5.1.1.2 x", 0 }, { "Ok 2.0.0", 0 }, { "", 0 },
		{ "2.1.0 <a@b>... Sender ok", 5 }, { "5.7.10 policy", 6 }, { "5.1 x", 0 },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		mstatus st;
		ck_assert_msg(mstatus_prefix(zspan_from(t[i].text), &st) == t[i].len,
		    "prefix of \"%s\"", t[i].text);
		if (t[i].len == 0)
			ck_assert_uint_eq(st.cls, 0);
	}
}
END_TEST

START_TEST(test_agree_and_reply)
{
	mstatus st;
	char buf[MSTATUS_TEXT_MAX];

	ck_assert_int_eq(mstatus_parse(zspan_from("5.1.1"), &st, NULL), Z_OK);
	ck_assert_int_eq(mstatus_agrees(&st, 550), 1);
	ck_assert_int_eq(mstatus_agrees(&st, 450), 0);
	ck_assert_int_eq(mstatus_agrees(&st, 50), 0);
	ck_assert_int_eq(mstatus_from_reply(550, zspan_from("5.1.1 no such user"), &st), Z_OK);
	mstatus_format(&st, buf, sizeof buf);
	ck_assert_str_eq(buf, "5.1.1");
	/* class disagrees with the reply code: use the basic code's class */
	ck_assert_int_eq(mstatus_from_reply(451, zspan_from("5.7.1 try later"), &st), Z_OK);
	mstatus_format(&st, buf, sizeof buf);
	ck_assert_str_eq(buf, "4.0.0");
	ck_assert_int_eq(mstatus_from_reply(250, zspan_from("Ok"), &st), Z_OK);
	mstatus_format(&st, buf, sizeof buf);
	ck_assert_str_eq(buf, "2.0.0");
	ck_assert_int_eq(mstatus_from_reply(354, zspan_from("go"), &st), Z_EPARSE);
	ck_assert_int_eq(mstatus_from_reply(999, zspan_from("x"), &st), Z_EPARSE);
	ck_assert_int_eq(mstatus_format(&st, buf, 3), Z_ETOOBIG);
}
END_TEST

START_TEST(test_action)
{
	mstatus st5 = { 5, 1, 1 }, st4 = { 4, 0, 0 }, st2 = { 2, 0, 0 };

	ck_assert_int_eq(maction_parse(zspan_from("failed")), MACTION_FAILED);
	ck_assert_int_eq(maction_parse(zspan_from(" Delayed ")), MACTION_DELAYED);
	ck_assert_int_eq(maction_parse(zspan_from("delivered (to mailbox)")), MACTION_DELIVERED);
	ck_assert_int_eq(maction_parse(zspan_from("RELAYED")), MACTION_RELAYED);
	ck_assert_int_eq(maction_parse(zspan_from("expanded")), MACTION_EXPANDED);
	ck_assert_int_eq(maction_parse(zspan_from("bounced")), -1);
	ck_assert_int_eq(maction_parse(zspan_from("")), -1);
	ck_assert_int_eq(maction_parse(zspan_from("failed!")), -1);
	ck_assert_str_eq(maction_name(MACTION_EXPANDED), "expanded");
	ck_assert_str_eq(maction_name((enum maction)42), "failed");
	ck_assert_int_eq(maction_agrees(MACTION_FAILED, &st5), 1);
	ck_assert_int_eq(maction_agrees(MACTION_FAILED, &st4), 0);
	ck_assert_int_eq(maction_agrees(MACTION_DELAYED, &st4), 1);
	ck_assert_int_eq(maction_agrees(MACTION_RELAYED, &st2), 1);
	ck_assert_int_eq(maction_agrees(MACTION_DELIVERED, &st5), 0);
}
END_TEST

START_TEST(test_status_field)
{
	mstatus st;

	ck_assert_int_eq(mstatus_field_parse(zspan_from(" 5.1.1 (unknown user)"), &st, NULL), Z_OK);
	ck_assert_uint_eq(st.detail, 1);
	ck_assert_int_eq(mstatus_field_parse(zspan_from("4.4.7\r\n"), &st, NULL), Z_OK);
	ck_assert_int_eq(mstatus_field_parse(zspan_from("4.4"), &st, NULL), Z_EPARSE);
	ck_assert_int_eq(mstatus_field_parse(zspan_from("smtp; 550"), &st, NULL), Z_EPARSE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mstatus");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_prefix);
	tcase_add_test(tc, test_agree_and_reply);
	tcase_add_test(tc, test_action);
	tcase_add_test(tc, test_status_field);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
