/*
 * NAME
 *	check_pol_limit - unit tests for the tarpit
 * SUMMARY
 *	The tarpit delay sequence, its cap and the drop point (connection
 *	limits are libzmsmtpd's and tested in smtpd-daemon.sh).
 * SYNOPSIS
 *	check_pol_limit (run by make check)
 * DESCRIPTION
 *	Plain libcheck cases.
 * DIAGNOSTICS
 *	libcheck's report.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtpserver/pol_limit.h
 */
#include <check.h>
#include <stdio.h>
#include "pol_limit.h"

START_TEST(test_tarpit)
{
	pol_tarpit_cfg c;

	pol_tarpit_defaults(&c);
	ck_assert_int_eq(c.greet_ms, 15000);
	ck_assert_int_eq(pol_tarpit_delay(&c, 0), 0);
	ck_assert_int_eq(pol_tarpit_delay(&c, 1), 4000);
	ck_assert_int_eq(pol_tarpit_delay(&c, 2), 8000);
	ck_assert_int_eq(pol_tarpit_delay(&c, 3), 16000);
	ck_assert_int_eq(pol_tarpit_delay(&c, 4), 32000);
	ck_assert_int_eq(pol_tarpit_delay(&c, 5), 60000);
	ck_assert_int_eq(pol_tarpit_delay(&c, 99), 60000);
	ck_assert_int_eq(pol_tarpit_delay(&c, 4000000000u), 60000);
	ck_assert_int_eq(pol_tarpit_drop(&c, 99), 0);
	ck_assert_int_eq(pol_tarpit_drop(&c, 100), 1);
	c.max_rejects = 0;
	ck_assert_int_eq(pol_tarpit_drop(&c, 1000000), 0);
	c.factor = 1;
	ck_assert_int_eq(pol_tarpit_delay(&c, 50), 4000);
	c.factor = 3;
	c.max_ms = 10000;
	ck_assert_int_eq(pol_tarpit_delay(&c, 2), 10000);
	c.initial_ms = 0;
	ck_assert_int_eq(pol_tarpit_delay(&c, 5), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pol_limit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_tarpit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
