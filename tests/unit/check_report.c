/*
 * NAME
 *	check_report - unit tests for the scheduler's delivery reports
 * SUMMARY
 *	Which 'd' lines are owed a report (NOTIFY, tag, action from the
 *	notary or the recipient's tag), how a stored deferral text is taken
 *	apart, the "errormsg" envelope check, and the submission of a report
 *	into router/ of a scratch postoffice (to the sender, as a double
 *	fault to postmaster, none about a report).
 * SYNOPSIS
 *	tests/unit/check_report (run by make check)
 * DESCRIPTION
 *	Control files are built in memory (offsets of their 'r' lines are
 *	found, then 'd' lines added) and parsed with ctl_parse; submissions go
 *	to a postoffice made by spool_init under $TMPDIR.
 * DIAGNOSTICS
 *	libcheck output; exit 1 when a check fails.
 * SECURITY
 *	Touches only its own scratch directory.
 * BUGS
 *	The report's text is dsn.c's and covered by check_dsn's golden files.
 * SEE ALSO
 *	scheduler/report.c
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctlfile.h"
#include "report.h"
#include "spool.h"
#include "zerr.h"
#include "runsuite.h"

/* rcpt_off - offset of the 'r' line of user in text */
static long rcpt_off(const char *text, const char *user)
{
	const char *u = strstr(text, user);
	ck_assert_ptr_nonnull(u);
	while (u > text && u[-1] != '\n')
		u--;
	ck_assert_int_eq(u[0], 'r');
	return (long)(u - text);
}


/* build - the control file: recipients, then d lines (%ld = offsets) */
static void build(char *out, size_t sz, const char *sender)
{
	char rc[2048];
	int k = snprintf(rc, sizeof rc,
		"@ 0x00000007\n"
		"i 77\n"
		"l <m1@client.example.org>\n"
		"e bob@client.example.org\n"
		"%s\n"
		"r-          smtp mx.example.com ann@example.com 65534\n"
		"r+          smtp mx.example.com ben@example.com 65534\n"
		"N NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;ben@example.com\n"
		"r+          smtp mx.example.com cat@example.com 65534\n"
		"r-          smtp mx.example.com dan@example.com 65534\n"
		"N NOTIFY=NEVER\n"
		"r-          smtp mx.example.com eve@example.com 65534\n"
		"r+          smtp mx.example.com fay@example.com 65534\n"
		"N NOTIFY=SUCCESS\n"
		"m\n"
		"Subject: x\n"
		"\n", sender);
	ck_assert(k > 0 && (size_t)k < sizeof rc);
	k = snprintf(out, sz,
		"%s"
		"d %ld:-1:-1::1700000000\t\001failed\0015.1.1 (no such user)\001smtp; 550 5.1.1 unknown\001mx.example.com (192.0.2.1|25)\ttext ann\n"
		"d %ld:-1:-1::1700000001\t\001delivered\0012.0.0\001\001\tok ben\n"
		"d %ld:-1:-1::1700000002\t\001delivered\0012.0.0\001\001\tok cat\n"
		"d %ld:-1:-1::1700000003\t\001failed\0015.0.0\001\001\tno dan\n"
		"d+%ld:-1:-1::1700000004\t\001failed\0015.0.0\001\001\talready reported eve\n"
		"d %ld:-1:-1::1700000005\t\001_delivered\0012.0.0\001\001\tunderscore fay\n"
		"d %ld:-1:-1::1700000006\t\001\001\001\001\tno action (tag -) ann\n",
		rc, rcpt_off(rc, "ann@"), rcpt_off(rc, "ben@"), rcpt_off(rc, "cat@"),
		rcpt_off(rc, "dan@"), rcpt_off(rc, "eve@"), rcpt_off(rc, "fay@"),
		rcpt_off(rc, "ann@"));
	ck_assert(k > 0 && (size_t)k < sz);
}

/* t_collect - which d lines are owed a report, and their fields */
START_TEST(t_collect)
{
	char text[8192];
	ctl_file cf;
	zbuf err = ZBUF_INIT(512);
	report_strs sv = { 0 };
	dsn_rcpt dr[16];
	const ctl_rcpt *first = NULL;

	build(text, sizeof text, "s smtp client.example.org bob@client.example.org 65534");
	if (ctl_parse(text, strlen(text), 0, &cf, &err) != Z_OK)
		ck_abort_msg("parse: %s", zbuf_cstr(&err));
	ck_assert_uint_eq(cf.ndiags, 7);
	size_t n = report_collect(&cf, &sv, dr, &first);
	ck_assert_uint_eq(n, 4);        /* ann, ben, fay (_delivered), ann again */
	ck_assert_ptr_nonnull(first);
	ck_assert(zspan_eq(first->quad.user, "ann@example.com"));
	ck_assert_str_eq(dr[0].addr, "ann@example.com");
	ck_assert_int_eq(dr[0].action, DSN_FAILED);
	ck_assert_str_eq(dr[0].status, "5.1.1");
	ck_assert_str_eq(dr[0].remote_mta, "mx.example.com");
	ck_assert_str_eq(dr[0].diagnostic, "smtp; 550 5.1.1 unknown");
	ck_assert_str_eq(dr[0].text, "text ann");
	ck_assert_int_eq((long)dr[0].last_attempt, 1700000000L);
	ck_assert_str_eq(dr[1].addr, "ben@example.com");
	ck_assert_int_eq(dr[1].action, DSN_DELIVERED);
	ck_assert_str_eq(dr[1].orcpt, "rfc822;ben@example.com");
	ck_assert_ptr_null(dr[1].remote_mta);
	ck_assert_str_eq(dr[2].addr, "fay@example.com");
	ck_assert_int_eq(dr[2].action, DSN_DELIVERED);
	ck_assert_str_eq(dr[3].addr, "ann@example.com");
	ck_assert_int_eq(dr[3].action, DSN_FAILED);    /* from the '-' tag */
	ck_assert_ptr_null(dr[3].status);
	report_strs_free(&sv);
	ctl_free(&cf);
	zbuf_free(&err);
}
END_TEST

/* t_lastdiag - parts of a stored "notary\ttext" string */
START_TEST(t_lastdiag)
{
	char st[16], dg[64], rm[64], tx[64];
	report_lastdiag("\001deferred\0014.4.1 (timeout)\001smtp; 421 busy\001mx.example.net (192.0.2.9|25)\ttry\tlater",
			st, sizeof st, dg, sizeof dg, rm, sizeof rm, tx, sizeof tx);
	ck_assert_str_eq(st, "4.4.1");
	ck_assert_str_eq(dg, "smtp; 421 busy");
	ck_assert_str_eq(rm, "mx.example.net");
	ck_assert_str_eq(tx, "try later");           /* TAB becomes a space */
	report_lastdiag(NULL, st, sizeof st, dg, sizeof dg, rm, sizeof rm, tx, sizeof tx);
	ck_assert(st[0] == '\0' && dg[0] == '\0' && rm[0] == '\0' && tx[0] == '\0');
	report_lastdiag("no tab here", st, sizeof st, dg, sizeof dg, rm, sizeof rm, tx, sizeof tx);
	ck_assert_str_eq(tx, "");
	/* bounded copies */
	char small[4];
	report_span_cstr(zspan_from("abc\tdef"), small, sizeof small);
	ck_assert_str_eq(small, "abc");
	report_span_cstr(zspan_from("a\tb\nc"), tx, sizeof tx);
	ck_assert_str_eq(tx, "a b c");
}
END_TEST

static char top[PATH_MAX], oldcwd[PATH_MAX];

/* put - write a file */
static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* count_router - files in router/ (and the first one's text) */
static int count_router(char *first, size_t sz)
{
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof dir, "%s/router", top);
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		if (n++ == 0 && first != NULL) {
			char p[PATH_MAX + 300];
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			int fd = open(p, O_RDONLY);
			ck_assert_int_ge(fd, 0);
			ssize_t k = read(fd, first, sz - 1);
			close(fd);
			first[k > 0 ? k : 0] = '\0';
		}
	}
	closedir(d);
	return n;
}

/* sub_setup - scratch postoffice, cwd its transport/ */
static void sub_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	zbuf err = ZBUF_INIT(512);
	ck_assert_ptr_nonnull(getcwd(oldcwd, sizeof oldcwd));
	snprintf(top, sizeof top, "%s/check_report.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(top));
	if (spool_init(top, 0, &err) != Z_OK)
		ck_abort_msg("spool_init: %s", zbuf_cstr(&err));
	zbuf_free(&err);
	char t[PATH_MAX + 16];
	snprintf(t, sizeof t, "%s/transport", top);
	ck_assert_int_eq(chdir(t), 0);
}

/* sub_teardown - remove the scratch tree */
static void sub_teardown(void)
{
	char cmd[PATH_MAX + 16];
	ck_assert_int_eq(chdir(oldcwd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}

/* submit_one - collect and submit the report of build(sender) with the
 * queue file text body; returns report_submit's code */
static int submit_one(const char *sender, const char *body, int store, sched_stats *st)
{
	char text[8192], qpath[256];
	ctl_file cf;
	zbuf err = ZBUF_INIT(512);
	report_strs sv = { 0 };
	dsn_rcpt dr[16];
	const ctl_rcpt *first = NULL;
	sconf cfg;
	sfile f;

	memset(&cfg, 0, sizeof cfg);
	cfg.store_error_on_error = store;
	memset(&f, 0, sizeof f);
	f.ino = 77;
	f.arrival = 1700000000;
	put("../queue/77", body);
	build(text, sizeof text, sender);
	if (ctl_parse(text, strlen(text), 0, &cf, &err) != Z_OK)
		ck_abort_msg("parse: %s", zbuf_cstr(&err));
	size_t n = report_collect(&cf, &sv, dr, &first);
	int qfd = report_open_body(&f, qpath, sizeof qpath);
	ck_assert_int_ge(qfd, 0);
	ck_assert_str_eq(qpath, "../queue/77");
	report_ctx rx = { .cfg = &cfg, .postoffice = top, .hostname = "mail.example.net", .st = st };
	int rc = report_submit(&rx, &f, &cf, qfd, dr, n, first, "S77");
	close(qfd);
	report_strs_free(&sv);
	ctl_free(&cf);
	zbuf_free(&err);
	return rc;
}

/* t_submit - to the sender, double fault, none about a report */
START_TEST(t_submit)
{
	sched_stats st;
	static char got[65536];
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(submit_one("s smtp client.example.org bob@client.example.org 65534",
				    "rcvdfrom client.example.org\nenv-end\nSubject: x\n\nhello\n", 0, &st), Z_OK);
	ck_assert_uint_eq(st.c_dsn, 1);
	ck_assert_int_eq(count_router(got, sizeof got), 1);
	ck_assert_ptr_nonnull(strstr(got, "bob@client.example.org"));
	ck_assert_ptr_nonnull(strstr(got, "mail.example.net"));
	ck_assert_ptr_nonnull(strstr(got, "ann@example.com"));
	ck_assert_ptr_nonnull(strstr(got, "ben@example.com"));
}
END_TEST

START_TEST(t_submit_null_sender)
{
	sched_stats st;
	static char got[65536];
	memset(&st, 0, sizeof st);
	/* null sender: double fault to postmaster, failed entries only */
	ck_assert_int_eq(submit_one("s smtp client.example.org <> 65534",
				    "env-end\nSubject: x\n\nhello\n", 0, &st), Z_OK);
	ck_assert_uint_eq(st.c_dsn, 1);
	ck_assert_int_eq(count_router(got, sizeof got), 1);
	ck_assert_ptr_nonnull(strstr(got, "postmaster"));
	ck_assert_ptr_nonnull(strstr(got, "ann@example.com"));
	ck_assert_ptr_null(strstr(got, "ben@example.com"));
}
END_TEST

START_TEST(t_submit_errormsg)
{
	sched_stats st;
	memset(&st, 0, sizeof st);
	/* a report about a report: never sent; kept on request */
	static const char body[] = "errormsg\nenv-end\nSubject: x\n\nhello\n";
	ck_assert_int_eq(submit_one("s smtp client.example.org <> 65534", body, 0, &st), Z_ENOENT);
	ck_assert_int_eq(submit_one("s smtp client.example.org <> 65534", body, 1, &st), Z_EAGAIN);
	ck_assert_uint_eq(st.c_dsn, 0);
	ck_assert_int_eq(count_router(NULL, 0), 0);
	int fd = open("../queue/77", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(report_is_errormsg(fd, -1), 1);
	close(fd);
	put("../queue/78", "rcvdfrom x\nenv-end\nerrormsg\n");
	fd = open("../queue/78", O_RDONLY);
	ck_assert_int_eq(report_is_errormsg(fd, -1), 0);   /* after env-end: not envelope */
	close(fd);
}
END_TEST

/* main - run the suite */
int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("parts");
	tcase_add_test(tc, t_collect);
	tcase_add_test(tc, t_lastdiag);
	suite_add_tcase(s, tc);
	TCase *ts = tcase_create("submit");
	tcase_add_checked_fixture(ts, sub_setup, sub_teardown);
	tcase_add_test(ts, t_submit);
	tcase_add_test(ts, t_submit_null_sender);
	tcase_add_test(ts, t_submit_errormsg);
	suite_add_tcase(s, ts);
	return run_suite(s);
}
