/*
 * NAME
 *	check_pol_knobs - unit tests for smtpserver's Plan 9 knobs
 * SUMMARY
 *	Network lists (good and bad), the smtpserver.conf keys of the
 *	knobs and the flags that name them, the -f header (no header injection) and the -d transcript's
 *	line prefixes and AUTH masking across chunk boundaries.
 * SYNOPSIS
 *	check_pol_knobs (run by make check)
 * DESCRIPTION
 *	Plain libcheck cases; the transcript goes to a scratch directory
 *	under /tmp.  -r, -m and -s are tested through the daemon
 *	(tests/integration/smtpd-knobs.sh).
 * DIAGNOSTICS
 *	libcheck's report.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtpserver/pol_knobs.h
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pol_knobs.h"
#include "zutil.h"
#include "runsuite.h"

static const struct { const char *net, *ip; int match; } nets[] = {
	{ "10.0.0.0/8", "10.1.2.3", 1 },
	{ "10.0.0.0/8", "11.0.0.1", 0 },
	{ "192.0.2.0/25", "192.0.2.127", 1 },
	{ "192.0.2.0/25", "192.0.2.128", 0 },
	{ "127.0.0.2", "127.0.0.2", 1 },
	{ "127.0.0.2", "127.0.0.3", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "::1", 0 },
	{ "::1", "::1", 1 },
	{ "2001:db8::/32", "2001:db8:1::5", 1 },
	{ "2001:db8::/32", "2001:db9::5", 0 },
	{ "10.0.0.0/8", "", 0 },
	{ "10.0.0.0/8", "junk", 0 },
};

START_TEST(test_net)
{
	pol_net n;

	ck_assert_int_eq(pol_net_parse(nets[_i].net, &n), 0);
	ck_assert_int_eq(pol_net_match(&n, 1, nets[_i].ip), nets[_i].match);
}
END_TEST

static const char *const badnets[] = { "10.0.0.0/33", "::1/129", "999.1.1.1", "host.test", "1.2.3.4/",
				       "1.2.3.4/x", "" };

START_TEST(test_badnet)
{
	pol_net n;

	ck_assert_int_eq(pol_net_parse(badnets[_i], &n), -1);
}
END_TEST

START_TEST(test_conf)
{
	pol_knobs k;
	zbuf err = ZBUF_INIT(512);

	pol_knobs_defaults(&k);
	ck_assert_int_eq(pol_knobs_conf(&k, "drop-networks", "127.0.0.2, 10.0.0.0/8", &err), 1);
	ck_assert_int_eq(pol_knobs_conf(&k, "drop-networks", "::1", &err), 1);
	ck_assert_int_eq(k.ndrop, 3);
	ck_assert_int_eq(pol_knobs_drop(&k, "10.9.9.9"), 1);
	ck_assert_int_eq(pol_knobs_drop(&k, "::1"), 1);
	ck_assert_int_eq(pol_knobs_drop(&k, "127.0.0.1"), 0);
	ck_assert_int_eq(pol_knobs_conf(&k, "drop-networks", "10.0.0.0/99", &err), -1);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "10.0.0.0/99"));
	ck_assert_int_eq(pol_knobs_conf(&k, "tag-outside-local", "yes", &err), 1);
	ck_assert_int_eq(k.tag_outside_local, 1);
	ck_assert_int_eq(pol_knobs_conf(&k, "sender-must-resolve", "maybe", &err), -1);
	ck_assert_int_eq(pol_knobs_conf(&k, "sender-must-resolve", "on", &err), 1);
	ck_assert_int_eq(k.sender_resolve, 1);
	ck_assert_int_eq(pol_knobs_conf(&k, "quarantine-dir", "relative/dir", &err), -1);
	ck_assert_int_eq(pol_knobs_conf(&k, "quarantine-dir", "/var/q", &err), 1);
	ck_assert_str_eq(k.quarantine, "/var/q");
	ck_assert_int_eq(pol_knobs_conf(&k, "quarantine-dir", "none", &err), 1);
	ck_assert_str_eq(k.quarantine, "");
	ck_assert_int_eq(pol_knobs_conf(&k, "deliver-program-timeout", "0", &err), -1);
	ck_assert_int_eq(pol_knobs_conf(&k, "deliver-program-timeout", "2m", &err), 1);
	ck_assert_int_eq(k.program_timeout_ms, 120000);
	ck_assert_int_eq(pol_knobs_conf(&k, "hostname", "x", &err), 0);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_flags)
{
	const char *v = NULL;

	ck_assert_str_eq(pol_knobs_flag('k', "192.0.2.1", &v), "drop-networks");
	ck_assert_str_eq(v, "192.0.2.1");
	ck_assert_str_eq(pol_knobs_flag('r', NULL, &v), "sender-must-resolve");
	ck_assert_str_eq(v, "yes");
	ck_assert_str_eq(pol_knobs_flag('c', "/c.pem", &v), "tls-cert");
	ck_assert_str_eq(pol_knobs_flag('D', NULL, &v), "tarpit");
	ck_assert_str_eq(pol_knobs_flag('f', NULL, &v), "tag-outside-local");
	ck_assert_ptr_null(pol_knobs_flag('C', "x", &v));
	ck_assert_ptr_null(pol_knobs_flag('x', NULL, &v));
}
END_TEST

START_TEST(test_tag)
{
	pol_knobs k;
	zbuf h = ZBUF_INIT(4096);

	pol_knobs_defaults(&k);
	ck_assert_int_eq(pol_knobs_tag(&k, "a@local.test", "192.0.2.1", &h), 0);
	ck_assert_uint_eq(h.len, 0);
	k.tag_outside_local = 1;
	pol_knobs_tag(&k, "a\r\nBcc: x@y@local.test", "192.0.2.1", &h);
	ck_assert_str_eq(zbuf_cstr(&h), "X-Zmta-Warning: sender <a??Bcc: x@y@local.test> claims a local"
			 " domain but came from outside [192.0.2.1]\n");
	zbuf_free(&h);
}
END_TEST

/* read_one - the content of the only file in dir */
static void read_one(const char *dir, zbuf *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1200];
	zbuf err = ZBUF_INIT(256);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		ck_assert_int_eq(zread_file(p, 1 << 20, out, &err), 0);
		unlink(p);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, 1);
	zbuf_free(&err);
}

START_TEST(test_transcript)
{
	char dir[] = "/tmp/check_pol_knobs.XXXXXX";
	pol_knobs k;
	pol_trans *t;
	zbuf got = ZBUF_INIT(1 << 20);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	pol_knobs_defaults(&k);
	ck_assert_ptr_null(pol_trans_open(&k, "192.0.2.1", 25));
	zstrlcpy(k.transcripts, dir, sizeof(k.transcripts));
	t = pol_trans_open(&k, "192.0.2.1", 25);
	ck_assert_ptr_nonnull(t);
	pol_trans_write(t, 1, "220 hi\r\n", 8);
	pol_trans_write(t, 0, "EHLO a\r\nAUTH PLAIN c2VjcmV0\r\n", 29);
	pol_trans_write(t, 1, "235 ok\r\n", 8);
	pol_trans_write(t, 0, "AUTH LOGIN\r\n", 12);
	pol_trans_write(t, 1, "334 VXNlcm5hbWU6\r\n", 18);
	/* the answer in two chunks: all of it masked */
	pol_trans_write(t, 0, "YWxp", 4);
	pol_trans_write(t, 0, "Y2U=\r\nMAIL", 10);
	pol_trans_write(t, 0, " FROM:<a@b>\r\n", 13);
	pol_trans_close(t);
	read_one(dir, &got);
	ck_assert_str_eq(zbuf_cstr(&got),
			 "# connection from [192.0.2.1] to port 25\n"
			 "S: 220 hi\r\n"
			 "C: EHLO a\r\n"
			 "C: AUTH PLAIN [masked]\n"
			 "S: 235 ok\r\n"
			 "C: AUTH LOGIN\n"
			 "S: 334 VXNlcm5hbWU6\r\n"
			 "C: [AUTH data masked]\n"
			 "C: MAIL FROM:<a@b>\r\n");
	rmdir(dir);
	zbuf_free(&got);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pol_knobs");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_net, 0, sizeof(nets) / sizeof(nets[0]));
	tcase_add_loop_test(tc, test_badnet, 0, sizeof(badnets) / sizeof(badnets[0]));
	tcase_add_test(tc, test_conf);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_tag);
	tcase_add_test(tc, test_transcript);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
