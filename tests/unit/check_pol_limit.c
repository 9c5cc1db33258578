/*
 * NAME
 *	check_pol_limit - unit tests for connection limits and the tarpit
 * SUMMARY
 *	Total and per-address limits, release, IPv4-mapped addresses, a full
 *	table; the tarpit delay sequence, its cap and the drop point.
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

START_TEST(test_per_ip)
{
	zbuf err = ZBUF_INIT(128);
	pol_conn_table *t = pol_conn_new(10, 2, &err);

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(pol_conn_acquire(t, "192.0.2.1"), Z_OK);
	ck_assert_int_eq(pol_conn_acquire(t, "::ffff:192.0.2.1"), Z_OK);
	ck_assert_int_eq(pol_conn_acquire(t, "192.0.2.1"), POL_LIMIT_PER_IP);
	ck_assert_int_eq(pol_conn_acquire(t, "192.0.2.2"), Z_OK);
	ck_assert_int_eq(pol_conn_acquire(t, "2001:db8::1"), Z_OK);
	ck_assert_uint_eq(pol_conn_count(t, "192.0.2.1"), 2);
	ck_assert_uint_eq(pol_conn_total(t), 4);
	ck_assert_int_eq(pol_conn_release(t, "192.0.2.1"), Z_OK);
	ck_assert_int_eq(pol_conn_acquire(t, "192.0.2.1"), Z_OK);
	ck_assert_int_eq(pol_conn_release(t, "192.0.2.9"), Z_ENOENT);
	ck_assert_int_eq(pol_conn_acquire(t, "not-an-ip"), Z_EPARSE);
	ck_assert_int_eq(pol_conn_release(t, "192.0.2.2"), Z_OK);
	ck_assert_uint_eq(pol_conn_count(t, "192.0.2.2"), 0);
	ck_assert_uint_eq(pol_conn_count(t, "2001:db8::1"), 1);
	ck_assert_uint_eq(pol_conn_total(t), 3);
	pol_conn_free(t);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_total)
{
	pol_conn_table *t = pol_conn_new(3, 0, NULL);
	char ip[32];

	ck_assert_ptr_nonnull(t);
	for (int i = 0; i < 3; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		ck_assert_int_eq(pol_conn_acquire(t, ip), Z_OK);
	}
	ck_assert_int_eq(pol_conn_acquire(t, "198.51.100.200"), POL_LIMIT_TOTAL);
	ck_assert_int_eq(pol_conn_acquire(t, "198.51.100.1"), POL_LIMIT_TOTAL);
	ck_assert_int_eq(pol_conn_release(t, "198.51.100.2"), Z_OK);
	ck_assert_int_eq(pol_conn_acquire(t, "198.51.100.1"), Z_OK); /* no per-ip limit */
	ck_assert_uint_eq(pol_conn_count(t, "198.51.100.1"), 2);
	/* churn: the table never overflows */
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i % 250);
		ck_assert_int_eq(pol_conn_release(t, "198.51.100.3"), i == 0 ? Z_OK : Z_ENOENT);
		if (i == 0)
			ck_assert_int_eq(pol_conn_acquire(t, ip), Z_OK);
		else {
			ck_assert_int_eq(pol_conn_acquire(t, ip), POL_LIMIT_TOTAL);
		}
	}
	pol_conn_free(t);
	ck_assert_ptr_null(pol_conn_new(0, 1, NULL));
}
END_TEST

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

	tcase_add_test(tc, test_per_ip);
	tcase_add_test(tc, test_total);
	tcase_add_test(tc, test_tarpit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
