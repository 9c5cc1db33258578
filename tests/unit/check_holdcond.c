/*
 * NAME
 *	check_holdcond - unit tests for hold conditions (transport/hold/holdcond.c)
 * SUMMARY
 *	Good and bad "CLASS:param" texts for every class, case of the class,
 *	DNS type names, and the three result codes (ok, unknown class, bad).
 * SYNOPSIS
 *	check_holdcond (run by make check)
 * DESCRIPTION
 *	Table driven.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	transport/hold/holdcond.h, hold(8)
 */
#include <check.h>
#include <string.h>
#include "holdcond.h"

START_TEST(test_good)
{
	hold_cond c;
	zbuf err = ZBUF_INIT(256);

#define P(s) hold_cond_parse((s), strlen(s), &c, &err)
	ck_assert_int_eq(P("NS:example.org"), Z_OK);
	ck_assert_int_eq(c.cls, HOLD_NS);
	ck_assert_str_eq(c.name, "example.org");
	ck_assert_int_eq(c.rrtype, 1);
	ck_assert_int_eq(P("ns:Example.ORG./MX"), Z_OK);
	ck_assert_str_eq(c.name, "Example.ORG");
	ck_assert_int_eq(c.rrtype, 15);
	ck_assert_str_eq(c.rrname, "mx");
	ck_assert_int_eq(P("NS:1.0.0.127.in-addr.arpa/ptr"), Z_OK);
	ck_assert_int_eq(c.rrtype, 12);
	ck_assert_int_eq(P("NS:x.test/aaaa"), Z_OK);
	ck_assert_int_eq(c.rrtype, 28);
	ck_assert_int_eq(P("TIMEOUT:1700000000"), Z_OK);
	ck_assert_int_eq(c.cls, HOLD_TIMEOUT);
	ck_assert(c.when == 1700000000LL);
	ck_assert_int_eq(P("timeout:0"), Z_OK);
	ck_assert_int_eq(P("AGE:90"), Z_OK);
	ck_assert_int_eq(c.cls, HOLD_AGE);
	ck_assert_int_eq(c.secs, 90);
	ck_assert_int_eq(P("Age:1h30m"), Z_OK);
	ck_assert_int_eq(c.secs, 5400);
	ck_assert_int_eq(P("IO:whatever"), Z_OK);
	ck_assert_int_eq(c.cls, HOLD_IO);
	ck_assert_int_eq(P("IO:"), Z_OK);
	ck_assert_int_eq(P("SCRIPT:check-nfs"), Z_OK);
	ck_assert_int_eq(c.cls, HOLD_SCRIPT);
	ck_assert_str_eq(c.name, "check-nfs");
	ck_assert_str_eq(c.arg, "");
	ck_assert_int_eq(P("SCRIPT:check_nfs/server.lan"), Z_OK);
	ck_assert_str_eq(c.arg, "server.lan");
	ck_assert_int_eq(P("HOME:alice"), Z_OK);
	ck_assert_int_eq(c.cls, HOLD_HOME);
	ck_assert_str_eq(c.name, "alice");
	zbuf_free(&err);
}
END_TEST

static const struct { const char *s; int rc; } bad[] = {
	{ "example.org", Z_EPARSE },          /* no colon */
	{ "", Z_EPARSE },
	{ "FOO:bar", Z_ENOENT },              /* unknown class: deferred */
	{ ":bar", Z_ENOENT },
	{ "VERYLONGCLASSNAMEXX:x", Z_ENOENT },
	{ "NS:", Z_EPARSE },
	{ "NS:exa mple.org", Z_EPARSE },
	{ "NS:-bad.org", Z_EPARSE },
	{ "NS:[127.0.0.1]", Z_EPARSE },
	{ "NS:example.org/bogus", Z_EPARSE },
	{ "NS:example.org/", Z_EPARSE },
	{ "NS:a..b", Z_EPARSE },
	{ "TIMEOUT:", Z_EPARSE },
	{ "TIMEOUT:12x", Z_EPARSE },
	{ "TIMEOUT:-5", Z_EPARSE },
	{ "AGE:", Z_EPARSE },
	{ "AGE:5q", Z_EPARSE },
	{ "SCRIPT:", Z_EPARSE },
	{ "SCRIPT:../x", Z_EPARSE },
	{ "SCRIPT:.hidden", Z_EPARSE },
	{ "SCRIPT:x/-rf", Z_EPARSE },
	{ "SCRIPT:x/", Z_EPARSE },
	{ "SCRIPT:-x", Z_EPARSE },
	{ "HOME:", Z_EPARSE },
	{ "HOME:-u", Z_EPARSE },
	{ "HOME:a/b", Z_EPARSE },
	{ "NS:a\x01" "b", Z_EPARSE },
};

START_TEST(test_bad)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hold_cond c;
		zbuf err = ZBUF_INIT(256);
		int rc = hold_cond_parse(bad[i].s, strlen(bad[i].s), &c, &err);
		ck_assert_msg(rc == bad[i].rc, "\"%s\": %d, want %d", bad[i].s, rc, bad[i].rc);
		ck_assert_msg(err.len > 0, "\"%s\": no reason", bad[i].s);
		zbuf_free(&err);
	}
	{
		char big[300];
		hold_cond c;
		memset(big, 'a', sizeof(big));
		memcpy(big, "NS:", 3);
		ck_assert_int_eq(hold_cond_parse(big, sizeof(big), &c, NULL), Z_EPARSE);
	}
}
END_TEST

START_TEST(test_rrtype)
{
	ck_assert_int_eq(hold_rrtype("A"), 1);
	ck_assert_int_eq(hold_rrtype("cname"), 5);
	ck_assert_int_eq(hold_rrtype("txt"), 16);
	ck_assert_int_eq(hold_rrtype("wks"), 11);
	ck_assert_int_eq(hold_rrtype("any"), 255);
	ck_assert_int_eq(hold_rrtype("nope"), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("holdcond");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_rrtype);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
