/*
 * NAME
 *	check_mparam - unit tests for ESMTP parameters (mail/mparam.c)
 * SUMMARY
 *	Tables of MAIL and RCPT parameter lists that must parse (with the
 *	values they yield) and that must be refused (with the status, the
 *	suggested reply and enhanced code).
 * SYNOPSIS
 *	check_mparam (run by make check)
 * DESCRIPTION
 *	Unknown and not-allowed keywords must come back as Z_ENOENT (555),
 *	distinct from syntax errors (Z_EPARSE, 501).
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/mparam.h
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "mparam.h"
#include "zbuf.h"

#define M MPARAM_MAIL
#define R MPARAM_RCPT

static const struct { const char *in; unsigned allowed; unsigned seen; } good[] = {
	{ "", M, 0 },
	{ "   ", M, 0 },
	{ "SIZE=1000", M, MPARAM_SIZE },
	{ " SIZE=0  BODY=8BITMIME ", M, MPARAM_SIZE | MPARAM_BODY },
	{ "size=12 body=binarymime ret=hdrs envid=QQ+2B1", M,
	  MPARAM_SIZE | MPARAM_BODY | MPARAM_RET | MPARAM_ENVID },
	{ "BODY=7BIT SMTPUTF8", M, MPARAM_BODY | MPARAM_SMTPUTF8 },
	{ "AUTH=<>", M, MPARAM_AUTH },
	{ "AUTH=joe+40example.org", M, MPARAM_AUTH },
	{ "NOTIFY=NEVER", R, MPARAM_NOTIFY },
	{ "NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;joe+40example.org", R,
	  MPARAM_NOTIFY | MPARAM_ORCPT },
	{ "ORCPT=utf-8;J\\x{00F6}rg@example.org", R, MPARAM_ORCPT },
	{ "NOTIFY=failure\tORCPT=RFC822;a@b", R, MPARAM_NOTIFY | MPARAM_ORCPT },
	{ "SIZE=18446744073709551615", M, MPARAM_SIZE },
};

static const struct {
	const char *in;
	unsigned allowed;
	int rc;
	int reply;
	const char *enh;
	const char *kw;
} bad[] = {
	{ "SIZE", M, Z_EPARSE, 501, "5.5.4", "SIZE" },
	{ "SIZE=", M, Z_EPARSE, 501, "5.5.4", "SIZE" },
	{ "SIZE=12a", M, Z_EPARSE, 501, "5.5.4", "SIZE" },
	{ "SIZE=-1", M, Z_EPARSE, 501, "5.5.4", "SIZE" },
	{ "SIZE=123456789012345678901", M, Z_EPARSE, 501, "5.5.4", "SIZE" },
	{ "SIZE=99999999999999999999", M, Z_ETOOBIG, 552, "5.3.4", "SIZE" },
	{ "SIZE=1 SIZE=2", M, Z_EPARSE, 501, "5.5.4", "SIZE" },
	{ "SIZE=1 size=1", M, Z_EPARSE, 501, "5.5.4", "size" },
	{ "BODY=8BIT", M, Z_EPARSE, 501, "5.5.4", "BODY" },
	{ "RET=ALL", M, Z_EPARSE, 501, "5.5.4", "RET" },
	{ "ENVID=a b", M, Z_ENOENT, 555, "5.5.4", "b" },
	{ "ENVID=a+2", M, Z_EPARSE, 501, "5.5.4", "ENVID" },
	{ "ENVID=a+2b", M, Z_EPARSE, 501, "5.5.4", "ENVID" },
	{ "ENVID=a=b", M, Z_EPARSE, 501, "5.5.4", "ENVID" },
	{ "SMTPUTF8=YES", M, Z_EPARSE, 501, "5.5.4", "SMTPUTF8" },
	{ "AUTH=a+zz", M, Z_EPARSE, 501, "5.5.4", "AUTH" },
	{ "NOTIFY=NEVER,SUCCESS", R, Z_EPARSE, 501, "5.5.4", "NOTIFY" },
	{ "NOTIFY=SUCCESS,", R, Z_EPARSE, 501, "5.5.4", "NOTIFY" },
	{ "NOTIFY=,DELAY", R, Z_EPARSE, 501, "5.5.4", "NOTIFY" },
	{ "NOTIFY=SOMETIMES", R, Z_EPARSE, 501, "5.5.4", "NOTIFY" },
	{ "ORCPT=rfc822", R, Z_EPARSE, 501, "5.5.4", "ORCPT" },
	{ "ORCPT=rfc822;", R, Z_EPARSE, 501, "5.5.4", "ORCPT" },
	{ "ORCPT=;a@b", R, Z_EPARSE, 501, "5.5.4", "ORCPT" },
	{ "ORCPT=rf(c;a@b", R, Z_EPARSE, 501, "5.5.4", "ORCPT" },
	{ "ORCPT=rfc822;a+4", R, Z_EPARSE, 501, "5.5.4", "ORCPT" },
	{ "XFOO=1", M, Z_ENOENT, 555, "5.5.4", "XFOO" },
	{ "SIZE=1 X-BAR", M, Z_ENOENT, 555, "5.5.4", "X-BAR" },
	{ "NOTIFY=NEVER", M, Z_ENOENT, 555, "5.5.4", "NOTIFY" },
	{ "SIZE=1", R, Z_ENOENT, 555, "5.5.4", "SIZE" },
	{ "SIZE=1", M & ~MPARAM_SIZE, Z_ENOENT, 555, "5.5.4", "SIZE" },
	{ "-X=1", M, Z_EPARSE, 501, "5.5.4", "-" },
	{ "=1", M, Z_EPARSE, 501, "5.5.4", "=" },
	{ "SIZE=1\r\n", M, Z_EPARSE, 501, "5.5.4", "SIZE" },
	{ "BODY=8BITMIME\xc3\xa9", M, Z_EPARSE, 501, "5.6.7", "BODY" },
	{ "\xc3\xa9", M, Z_EPARSE, 501, "5.6.7", "\xc3" },
	{ "SIZE==1", M, Z_EPARSE, 501, "5.5.4", "SIZE" },
};

START_TEST(test_good)
{
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		mparams p;
		zbuf err = ZBUF_INIT(256);

		ck_assert_msg(mparam_parse(good[i].in, strlen(good[i].in), good[i].allowed, &p, &err)
		    == Z_OK, "refused \"%s\": %s", good[i].in, zbuf_cstr(&err));
		ck_assert_uint_eq(p.seen, good[i].seen);
		zbuf_free(&err);
	}
}
END_TEST

START_TEST(test_bad)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mparams p;
		zbuf err = ZBUF_INIT(256);
		int rc = mparam_parse(bad[i].in, strlen(bad[i].in), bad[i].allowed, &p, &err);

		ck_assert_msg(rc == bad[i].rc, "case %zu \"%s\": rc %d want %d (%s)", i, bad[i].in,
		    rc, bad[i].rc, zbuf_cstr(&err));
		ck_assert_msg(err.len > 0, "no reason for \"%s\"", bad[i].in);
		ck_assert_int_eq(p.reply, bad[i].reply);
		ck_assert_str_eq(p.enh, bad[i].enh);
		ck_assert_msg(p.bad_keyword.n == strlen(bad[i].kw) &&
		    memcmp(p.bad_keyword.p, bad[i].kw, p.bad_keyword.n) == 0,
		    "case %zu: keyword \"%.*s\"", i, (int)p.bad_keyword.n, p.bad_keyword.p);
		/* the reason never echoes raw control or 8-bit bytes */
		for (size_t k = 0; k < err.len; k++)
			ck_assert((unsigned char)err.data[k] >= 32 && (unsigned char)err.data[k] < 127);
		zbuf_free(&err);
	}
}
END_TEST

START_TEST(test_values)
{
	mparams p;
	zbuf b = ZBUF_INIT(64);
	const char *m = "SIZE=123 BODY=8bitmime RET=FULL ENVID=abc+2Bd AUTH=<> SMTPUTF8";
	const char *r = "NOTIFY=delay,Failure ORCPT=rfc822;joe+40example.org";

	ck_assert_int_eq(mparam_parse(m, strlen(m), M, &p, NULL), Z_OK);
	ck_assert_uint_eq(p.size, 123);
	ck_assert_int_eq(p.body, MBODY_8BITMIME);
	ck_assert_int_eq(p.ret, MRET_FULL);
	ck_assert(zspan_eq(p.envid, "abc+2Bd"));
	ck_assert_int_eq(p.auth_null, 1);
	ck_assert_str_eq(mparam_body_name(p.body), "8BITMIME");
	ck_assert_int_eq(mparam_parse(r, strlen(r), R, &p, NULL), Z_OK);
	ck_assert_uint_eq(p.notify, MNOTIFY_DELAY | MNOTIFY_FAILURE);
	ck_assert(zspan_eq(p.orcpt_type, "rfc822"));
	ck_assert(zspan_eq(p.orcpt, "joe+40example.org"));
	ck_assert_int_eq(mparam_notify_format(p.notify, &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "FAILURE,DELAY");
	zbuf_reset(&b);
	ck_assert_int_eq(mparam_notify_format(MNOTIFY_NEVER, &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "NEVER");
	zbuf_free(&b);
	ck_assert_int_eq(mparam_parse(NULL, 0, M, &p, NULL), Z_OK);
	ck_assert_uint_eq(p.seen, 0);
}
END_TEST

/* the NOTIFY value rule alone (sendmail -N uses it too) */
static const struct { const char *in; int rc; unsigned bits; } notify_cases[] = {
	{ "NEVER", Z_OK, MNOTIFY_NEVER },
	{ "never", Z_OK, MNOTIFY_NEVER },
	{ "SUCCESS", Z_OK, MNOTIFY_SUCCESS },
	{ "delay,Failure,SUCCESS", Z_OK, MNOTIFY_SUCCESS | MNOTIFY_FAILURE | MNOTIFY_DELAY },
	{ "failure,failure", Z_OK, MNOTIFY_FAILURE },
	{ "", Z_EPARSE, 0 },
	{ ",", Z_EPARSE, 0 },
	{ "success,", Z_EPARSE, 0 },
	{ ",success", Z_EPARSE, 0 },
	{ "success,,delay", Z_EPARSE, 0 },
	{ "never,success", Z_EPARSE, 0 },
	{ "success,never", Z_EPARSE, 0 },
	{ "success, delay", Z_EPARSE, 0 },
	{ "sometimes", Z_EPARSE, 0 },
	{ "SUCCESSFUL", Z_EPARSE, 0 },
};

START_TEST(test_notify_parse)
{
	unsigned bits = 0x55;
	zspan v = zspan_from(notify_cases[_i].in);
	int rc = mparam_notify_parse(v, &bits);

	ck_assert_msg(rc == notify_cases[_i].rc, "\"%s\": rc %d", notify_cases[_i].in, rc);
	if (rc == Z_OK)
		ck_assert_uint_eq(bits, notify_cases[_i].bits);
	else
		ck_assert_uint_eq(bits, 0x55);	/* untouched on error */
}
END_TEST

START_TEST(test_limits)
{
	char buf[700];
	mparams p;
	size_t n;

	/* ENVID: 100 decoded characters, more in xtext form is fine */
	n = (size_t)snprintf(buf, sizeof buf, "ENVID=%0100d", 0);
	ck_assert_int_eq(mparam_parse(buf, n, M, &p, NULL), Z_OK);
	n = (size_t)snprintf(buf, sizeof buf, "ENVID=%0101d", 0);
	ck_assert_int_eq(mparam_parse(buf, n, M, &p, NULL), Z_EPARSE);
	memcpy(buf, "ENVID=", 6);
	for (n = 6; n < 6 + 300; n += 3)
		memcpy(buf + n, "+2B", 3);
	ck_assert_int_eq(mparam_parse(buf, n, M, &p, NULL), Z_OK);
	/* ORCPT: 500 characters */
	n = (size_t)snprintf(buf, sizeof buf, "ORCPT=rfc822;%0493d", 0);
	ck_assert_uint_eq(n, 6 + 500);
	ck_assert_int_eq(mparam_parse(buf, n, R, &p, NULL), Z_OK);
	n = (size_t)snprintf(buf, sizeof buf, "ORCPT=rfc822;%0494d", 0);
	ck_assert_int_eq(mparam_parse(buf, n, R, &p, NULL), Z_EPARSE);
	/* embedded NUL */
	ck_assert_int_eq(mparam_parse("SIZE=1\0", 7, M, &p, NULL), Z_EPARSE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mparam");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_limits);
	tcase_add_loop_test(tc, test_notify_parse, 0,
			    (int)(sizeof notify_cases / sizeof notify_cases[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
