/*
 * NAME
 *	check_zlog - unit tests for logging to a file
 * SUMMARY
 *	Line format, id prefix, level names, sanitising, truncation, error
 *	counter, debug switch, fatal exit code and panic abort, held lines
 *	(zlog_hold/zlog_flush).
 * SYNOPSIS
 *	check_zlog (run by make check)
 * DESCRIPTION
 *	Logs into a private file and reads it back.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Creates files only under a private mkdtemp directory in $TMPDIR.
 * BUGS
 *	None known.
 * SEE ALSO
 *	lib/zlog.h
 */
#include <check.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "zbuf.h"
#include "zlog.h"
#include "zutil.h"

static char dir[1024], path[1100];

/* setup - private log file */
static void setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/check_zlog.XXXXXX", t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	zlog_open("/usr/libexec/zmta/testprog", ZLOG_TO_STDERR);
	ck_assert_int_eq(zlog_set_file(path), Z_OK);
}

/* teardown - back to stderr, remove files */
static void teardown(void)
{
	zlog_set_file(NULL);
	unlink(path);
	rmdir(dir);
}

/* line_n - the n-th line (0-based) of the log file into out */
static void line_n(int n, zbuf *out)
{
	zbuf all = ZBUF_INIT(1 << 20);
	zbuf err = ZBUF_INIT(256);
	zcur c;
	zspan l;

	ck_assert_int_eq(zread_file(path, all.max, &all, &err), Z_OK);
	zcur_init(&c, all.data, all.len);
	for (int i = 0; i <= n; i++)
		ck_assert_int_eq(zcur_take_until(&c, '\n', &l), Z_OK);
	zbuf_reset(out);
	ck_assert_int_eq(zbuf_append(out, l.p, l.n), Z_OK);
	zbuf_free(&all);
	zbuf_free(&err);
}

/* assert_match - s must match the extended regex re */
static void assert_match(const char *s, const char *re)
{
	regex_t r;

	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&r, s, 0, NULL, 0) == 0, "\"%s\" !~ /%s/", s, re);
	regfree(&r);
}

START_TEST(test_format)
{
	zbuf l = ZBUF_INIT(8192);
	char pid[32];
	unsigned long e0 = zlog_errors();

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	zlog_set_debug(0);
	zlog_info("S123", "hello %d", 7);
	zlog_warn(NULL, "no id");
	zlog_error("S9", "bad\x01\x1b[31m\n\xc3\xa9");
	zlog_debug(NULL, "hidden");
	zlog_set_debug(1);
	zlog_debug(NULL, "shown");
	zlog_set_debug(0);
	ck_assert_uint_eq(zlog_errors(), e0 + 1);

	line_n(0, &l);
	assert_match(zbuf_cstr(&l), "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z testprog\\[[0-9]+\\]: S123: info: hello 7$");
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&l), pid));
	line_n(1, &l);
	assert_match(zbuf_cstr(&l), "Z testprog\\[[0-9]+\\]: warn: no id$");
	line_n(2, &l);
	assert_match(zbuf_cstr(&l), "\\]: S9: error: bad\\?\\?\\[31m\\?\\?\\?$");
	line_n(3, &l);
	assert_match(zbuf_cstr(&l), "\\]: debug: shown$");
	zbuf_free(&l);
}
END_TEST

START_TEST(test_truncate)
{
	zbuf l = ZBUF_INIT(16384);
	char big[6000];
	const char *colon;

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	zlog_info("ID", "%s", big);
	zlog_info("ID", "after");
	line_n(0, &l);
	colon = strstr(zbuf_cstr(&l), "info: ");
	ck_assert_ptr_nonnull(colon);
	ck_assert_uint_eq(strlen(colon + 6), 4000);
	line_n(1, &l);
	assert_match(zbuf_cstr(&l), "ID: info: after$");
	zbuf_free(&l);
}
END_TEST

/* a log file that is a symbolic link is refused, its target untouched */
START_TEST(test_nofollow)
{
	char target[1200], link_[1200];
	struct stat st;

	snprintf(target, sizeof(target), "%s.target", path);
	snprintf(link_, sizeof(link_), "%s.link", path);
	unlink(target);
	unlink(link_);
	ck_assert_int_eq(symlink(target, link_), 0);
	ck_assert_int_eq(zlog_set_file(link_), Z_EIO);
	ck_assert_int_ne(lstat(target, &st), 0);	/* not created through the link */
	unlink(link_);
	/* a new file is not readable by others */
	ck_assert_int_eq(zlog_set_file(target), Z_OK);
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_mode & 07, 0);
	zlog_set_file(path);
	unlink(target);
}
END_TEST

START_TEST(test_reopen)
{
	char moved[1200];
	zbuf l = ZBUF_INIT(8192);

	zlog_info(NULL, "one");
	snprintf(moved, sizeof(moved), "%s.old", path);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(zlog_set_file(path), Z_OK);
	zlog_info(NULL, "two");
	line_n(0, &l);
	assert_match(zbuf_cstr(&l), "info: two$");
	unlink(moved);
	ck_assert_int_eq(zlog_set_file("/nonexistent-dir/x/log"), Z_EIO);
	zlog_info(NULL, "three"); /* still to the old file */
	line_n(1, &l);
	assert_match(zbuf_cstr(&l), "info: three$");
	zbuf_free(&l);
}
END_TEST

/* file_size - bytes in the log file now */
static long file_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (long)st.st_size;
}

/* zlog_hold: info lines wait for zlog_flush, a warn line writes them
 * first (order kept), a forked child does not hold, hold(0) flushes */
START_TEST(test_hold)
{
	zbuf l = ZBUF_INIT(8192);

	zlog_hold(1);
	zlog_info("ID1", "held one");
	zlog_info(NULL, "held two");
	ck_assert_int_eq(file_size(), 0);
	zlog_flush();
	line_n(0, &l);
	assert_match(zbuf_cstr(&l), ": ID1: info: held one$");
	line_n(1, &l);
	assert_match(zbuf_cstr(&l), ": info: held two$");
	long sz = file_size();
	zlog_info(NULL, "before the warning");
	ck_assert_int_eq(file_size(), sz);
	zlog_warn(NULL, "a warning");
	line_n(2, &l);
	assert_match(zbuf_cstr(&l), ": info: before the warning$");
	line_n(3, &l);
	assert_match(zbuf_cstr(&l), ": warn: a warning$");
	/* fork flushes the parent's lines; the child writes at once */
	zlog_info(NULL, "parent before fork");
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		zlog_info(NULL, "child line");
		_exit(0);
	}
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	line_n(4, &l);
	assert_match(zbuf_cstr(&l), ": info: parent before fork$");
	line_n(5, &l);
	assert_match(zbuf_cstr(&l), ": info: child line$");
	/* many lines: a full buffer is written, nothing is lost */
	for (int i = 0; i < 2000; i++)
		zlog_info(NULL, "bulk %d", i);
	zlog_hold(0);
	line_n(6 + 1999, &l);
	assert_match(zbuf_cstr(&l), ": info: bulk 1999$");
	zlog_info(NULL, "not held");
	line_n(6 + 2000, &l);
	assert_match(zbuf_cstr(&l), ": info: not held$");
	zbuf_free(&l);
}
END_TEST

START_TEST(test_fatal_panic)
{
	zbuf l = ZBUF_INIT(8192);
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		zlog_fatal(EX_TEMPFAIL, "Q1", "cannot go on: %s", "why");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), EX_TEMPFAIL);
	line_n(0, &l);
	assert_match(zbuf_cstr(&l), "\\]: Q1: fatal: cannot go on: why$");

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		zlog_panic(NULL, "broken %d", 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
	line_n(1, &l);
	assert_match(zbuf_cstr(&l), "\\]: panic: broken 1$");
	zbuf_free(&l);
}
END_TEST

/* main - run the suite */
int main(void)
{
	Suite *s = suite_create("zlog");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_nofollow);
	tcase_add_test(tc, test_fatal_panic);
	tcase_add_test(tc, test_hold);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
