/*
 * NAME
 *	check_tagroup - unit tests for transport/libta/tagroup.c
 * SUMMARY
 *	Groups by sender, one recipient a group without a rule, a rule with
 *	an argument, unlocked recipients left out, an empty job.
 * SYNOPSIS
 *	tests/unit/check_tagroup
 * DESCRIPTION
 *	The job is made in memory: a ta_msg whose recipients point at a
 *	table of ctl_rcpt records (only the fields the rules read are set).
 *	Each group is written as the recipients' indexes, "0,2|1,4".
 * DIAGNOSTICS
 *	libcheck output; non-zero exit on failure.
 * SECURITY
 *	Test code only; no files, no outside input.
 * BUGS
 *	The out-of-memory path is not exercised.
 * SEE ALSO
 *	transport/libta/tagroup.c
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "tagroup.h"
#include "runsuite.h"

static ta_msg M;         /* big: keep off the stack */
static ta_ctx CTX;
static ctl_rcpt R[8];

/* job - n recipients with these senders; locked is a string of 0/1 */
static void job(size_t n, const size_t *senders, const char *locked)
{
	static ta_rcpt rc[8];

	memset(&M, 0, sizeof M);
	memset(rc, 0, sizeof rc);
	memset(R, 0, sizeof R);
	for (size_t i = 0; i < n; i++) {
		R[i].sender = senders[i];
		R[i].hdr_off = (long)i; /* distinct: a rule may look at it */
		rc[i].r = &R[i];
		rc[i].locked = locked[i] == '1';
	}
	M.rcpts = rc;
	M.nrcpts = n;
}

/* groups - every group as "i,j|k" */
static void groups(ta_same_fn same, void *arg, char *out, size_t outsz)
{
	ta_groups g;
	size_t n, len = 0;

	out[0] = '\0';
	ck_assert_int_eq(ta_groups_init(&g, &CTX, &M, same, arg), Z_OK);
	while ((n = ta_groups_next(&g)) > 0) {
		if (len > 0)
			len += (size_t)snprintf(out + len, outsz - len, "|");
		for (size_t k = 0; k < n; k++)
			len += (size_t)snprintf(out + len, outsz - len, "%s%td", k ? "," : "",
						g.grp[k] - M.rcpts);
	}
	ck_assert_uint_eq(ta_groups_next(&g), 0); /* stays at the end */
	ta_groups_free(&g);
}

/* same_parity - a rule with an argument: hdr_off equal modulo *arg */
static int same_parity(const ctl_rcpt *a, const ctl_rcpt *b, void *arg)
{
	long mod = *(const long *)arg;
	return a->hdr_off % mod == b->hdr_off % mod;
}

START_TEST(test_by_sender)
{
	static const size_t s[] = { 0, 1, 0, 0, 1, 2 };
	char out[128];

	job(6, s, "111111");
	groups(ta_same_sender, NULL, out, sizeof out);
	ck_assert_str_eq(out, "0,2,3|1,4|5");
	/* unlocked recipients are never handed out */
	job(6, s, "011011");
	groups(ta_same_sender, NULL, out, sizeof out);
	ck_assert_str_eq(out, "1,4|2|5");
	job(6, s, "000000");
	groups(ta_same_sender, NULL, out, sizeof out);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_alone_and_rule)
{
	static const size_t s[] = { 0, 0, 0, 0, 0 };
	long two = 2;
	char out[128];

	job(5, s, "11011");
	groups(NULL, NULL, out, sizeof out);
	ck_assert_str_eq(out, "0|1|3|4");
	job(5, s, "11111");
	groups(same_parity, &two, out, sizeof out);
	ck_assert_str_eq(out, "0,2,4|1,3");
	job(0, s, "");
	groups(ta_same_sender, NULL, out, sizeof out);
	ck_assert_str_eq(out, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tagroup");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_by_sender);
	tcase_add_test(tc, test_alone_and_rule);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
