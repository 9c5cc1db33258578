/*
 * NAME
 *	check_pol_limit - unit tests for the tarpit and the workers'
 *	connection table
 * SUMMARY
 *	The tarpit delay sequence, its cap and the drop point; the shared
 *	connection table: limits in total and per address, counts kept
 *	right through many addresses and deletions, shared across fork,
 *	a dead worker forgotten, a full table (one process's limits are
 *	libzmsmtpd's and tested in smtpd-daemon.sh and smtpd-limits.sh).
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
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pol_limit.h"
#include "runsuite.h"

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

START_TEST(test_conn_limits)
{
	zbuf err = ZBUF_INIT(256);
	pol_conn *t = pol_conn_new(&err);
	char ip[48];

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(pol_conn_admit(t, 0, "10.0.0.1", 5, 2), 0);
	ck_assert_int_eq(pol_conn_admit(t, 1, "10.0.0.1", 5, 2), 0);
	ck_assert_int_eq(pol_conn_admit(t, 1, "10.0.0.1", 5, 2), 2);   /* per address, both workers */
	ck_assert_int_eq(pol_conn_admit(t, 0, "10.0.0.2", 5, 2), 0);
	ck_assert_int_eq(pol_conn_admit(t, 1, "10.0.0.3", 5, 0), 0);
	ck_assert_int_eq(pol_conn_admit(t, 1, "10.0.0.4", 5, 0), 0);
	ck_assert_int_eq(pol_conn_admit(t, 0, "10.0.0.5", 5, 0), 1);   /* 5 in total */
	ck_assert_uint_eq(pol_conn_count(t, NULL), 5);
	ck_assert_uint_eq(pol_conn_count(t, "10.0.0.1"), 2);
	pol_conn_release(t, 1, "10.0.0.1");
	ck_assert_uint_eq(pol_conn_count(t, "10.0.0.1"), 1);
	ck_assert_int_eq(pol_conn_admit(t, 0, "10.0.0.5", 5, 0), 0);
	pol_conn_release(t, 0, "10.0.0.9");                          /* unknown: no effect */
	pol_conn_release(t, 1, "10.0.0.2");                          /* not worker 1's */
	ck_assert_uint_eq(pol_conn_count(t, NULL), 5);
	ck_assert_int_eq(pol_conn_admit(t, 99, "10.0.0.6", 50, 0), 2);
	/* many addresses: probe runs, deletions in the middle of them */
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "192.168.%d.%d", i / 250, i % 250);
		ck_assert_int_eq(pol_conn_admit(t, i % 3, ip, 100000, 1), 0);
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(ip, sizeof(ip), "192.168.%d.%d", i / 250, i % 250);
		pol_conn_release(t, i % 3, ip);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "192.168.%d.%d", i / 250, i % 250);
		ck_assert_uint_eq(pol_conn_count(t, ip), (unsigned long)(i % 2));
		/* an odd one is there: a second from it is refused (max 1) */
		ck_assert_int_eq(pol_conn_admit(t, 0, ip, 100000, 1), i % 2 ? 2 : 0);
	}
	ck_assert_uint_eq(pol_conn_count(t, NULL), 5 + 5000);
	/* worker 1 dies: its counts go, the others stay findable */
	pol_conn_forget(t, 1);
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "192.168.%d.%d", i / 250, i % 250);
		ck_assert_uint_eq(pol_conn_count(t, ip), i % 2 && i % 3 == 1 ? 0u : 1u);
	}
	ck_assert_uint_eq(pol_conn_count(t, "10.0.0.1"), 1);
	ck_assert_uint_eq(pol_conn_count(t, "10.0.0.3"), 0);
	pol_conn_free(t);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_conn_fork)
{
	zbuf err = ZBUF_INIT(256);
	pol_conn *t = pol_conn_new(&err);
	pid_t pid;
	int st;

	ck_assert_ptr_nonnull(t);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(pol_conn_admit(t, 1, "10.1.1.1", 10, 1) == 0 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the child's session counts here */
	ck_assert_int_eq(pol_conn_admit(t, 0, "10.1.1.1", 10, 1), 2);
	pol_conn_forget(t, 1);
	ck_assert_int_eq(pol_conn_admit(t, 0, "10.1.1.1", 10, 1), 0);
	pol_conn_free(t);
	zbuf_free(&err);
}
END_TEST

/* full_ip - the i-th address of a full table */
static void full_ip(char *ip, size_t n, int i)
{
	snprintf(ip, n, "10.%d.%d.%d", 100 + i / 65536, (i / 256) % 256, i % 256);
}

/* every slot taken: forget still finds what a deletion moved (no copy of
 * the table to rebuild from), and a release ends (the backward shift
 * once went round a full table for ever) */
START_TEST(test_conn_full)
{
	zbuf err = ZBUF_INIT(256);
	pol_conn *t = pol_conn_new(&err);
	char ip[48];

	ck_assert_ptr_nonnull(t);
	for (int i = 0; i < POL_CONN_SLOTS; i++) {
		full_ip(ip, sizeof ip, i);
		ck_assert_int_eq(pol_conn_admit(t, i % 3 == 0, ip, 100000, 0), 0);
	}
	ck_assert_int_eq(pol_conn_admit(t, 0, "10.99.0.1", 100000, 0), 2);
	pol_conn_forget(t, 1);
	for (int i = 0; i < POL_CONN_SLOTS; i++) {
		full_ip(ip, sizeof ip, i);
		ck_assert_uint_eq(pol_conn_count(t, ip), i % 3 == 0 ? 0u : 1u);
	}
	ck_assert_uint_eq(pol_conn_count(t, NULL), POL_CONN_SLOTS - (POL_CONN_SLOTS + 2) / 3);
	/* fill it again, then release from the full table */
	for (int i = 0; i < POL_CONN_SLOTS; i += 3) {
		full_ip(ip, sizeof ip, i);
		ck_assert_int_eq(pol_conn_admit(t, 2, ip, 100000, 0), 0);
	}
	ck_assert_int_eq(pol_conn_admit(t, 0, "10.99.0.1", 100000, 0), 2);
	for (int i = 0; i < POL_CONN_SLOTS; i += 2) {
		full_ip(ip, sizeof ip, i);
		pol_conn_release(t, i % 3 == 0 ? 2 : 0, ip);
	}
	for (int i = 0; i < POL_CONN_SLOTS; i++) {
		full_ip(ip, sizeof ip, i);
		ck_assert_uint_eq(pol_conn_count(t, ip), (unsigned long)(i % 2));
	}
	ck_assert_uint_eq(pol_conn_count(t, NULL), POL_CONN_SLOTS / 2);
	pol_conn_free(t);
	zbuf_free(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pol_limit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_tarpit);
	tcase_add_test(tc, test_conn_limits);
	tcase_add_test(tc, test_conn_fork);
	tcase_add_test(tc, test_conn_full);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
