/*
 * NAME
 *	check_zutil - unit tests for intervals, zglob, sysexits, files, proctitle
 * SUMMARY
 *	Interval and glob tables, durable rename, bounded file reading,
 *	RFC 5322 dates, and the process title seen through /proc.
 * SYNOPSIS
 *	check_zutil (run by make check)
 * DESCRIPTION
 *	Table-driven libcheck cases against lib/zutil.h.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Creates files only under a private mkdtemp directory in $TMPDIR.
 * BUGS
 *	The proctitle case needs /proc (Linux).
 * SEE ALSO
 *	lib/zutil.h
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "zbuf.h"
#include "zutil.h"

static const struct {
	const char *s;
	int rc;
	long secs;
} ival[] = {
	{ "0", Z_OK, 0 },
	{ "90", Z_OK, 90 },
	{ "30s", Z_OK, 30 },
	{ "5m", Z_OK, 300 },
	{ "2h", Z_OK, 7200 },
	{ "2d", Z_OK, 172800 },
	{ "1w", Z_OK, 604800 },
	{ "1h5m20s", Z_OK, 3920 },
	{ "1d1d", Z_OK, 172800 },
	{ "1h30", Z_OK, 3630 },
	{ "", Z_EPARSE, 0 },
	{ "-5", Z_EPARSE, 0 },
	{ "+5", Z_EPARSE, 0 },
	{ "5x", Z_EPARSE, 0 },
	{ "m", Z_EPARSE, 0 },
	{ "1h 5m", Z_EPARSE, 0 },
	{ " 5", Z_EPARSE, 0 },
	{ "5 ", Z_EPARSE, 0 },
	{ "1hh", Z_EPARSE, 0 },
	{ "9223372036854775807", Z_OK, LONG_MAX },
	{ "9223372036854775808", Z_EPARSE, 0 },
	{ "9223372036854775807w", Z_EPARSE, 0 },
	{ "15250284452472w", Z_EPARSE, 0 },
	{ "9223372036854775807s1s", Z_EPARSE, 0 },
};

START_TEST(test_interval_parse)
{
	long v = -1;
	int rc = zinterval_parse(ival[_i].s, &v);

	ck_assert_msg(rc == ival[_i].rc, "\"%s\": rc %d want %d", ival[_i].s, rc, ival[_i].rc);
	if (rc == Z_OK)
		ck_assert_msg(v == ival[_i].secs, "\"%s\": %ld want %ld", ival[_i].s, v, ival[_i].secs);
}
END_TEST

START_TEST(test_interval_format)
{
	static const struct { long s; const char *f; } t[] = {
		{ 0, "0s" }, { 59, "59s" }, { 60, "1m" }, { 3920, "1h5m20s" },
		{ 93784, "1d2h3m4s" }, { 86400 * 10, "10d" }, { 3601, "1h1s" },
	};
	char buf[64], tiny[3];
	long back;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(zinterval_format(t[i].s, buf, sizeof(buf)), Z_OK);
		ck_assert_str_eq(buf, t[i].f);
		ck_assert_int_eq(zinterval_parse(buf, &back), Z_OK);
		ck_assert_int_eq(back, t[i].s);
	}
	ck_assert_int_eq(zinterval_format(3920, tiny, sizeof(tiny)), Z_ETOOBIG);
	ck_assert_int_eq(zinterval_format(-1, buf, sizeof(buf)), Z_EPARSE);
}
END_TEST

static const struct {
	const char *pat, *str;
	int flags, want;
} globs[] = {
	{ "*", "", 0, 1 },
	{ "*", "anything", 0, 1 },
	{ "", "", 0, 1 },
	{ "", "a", 0, 0 },
	{ "abc", "abc", 0, 1 },
	{ "abc", "abd", 0, 0 },
	{ "a?c", "abc", 0, 1 },
	{ "a?c", "ac", 0, 0 },
	{ "*.se", "foo.se", 0, 1 },
	{ "*.se", "foo.sex", 0, 0 },
	{ "*.{se,dk}", "foo.se", 0, 1 },
	{ "*.{se,dk}", "foo.dk", 0, 1 },
	{ "*.{se,dk}", "foo.sex", 0, 0 },
	{ "*.{se,dk}", "foo.no", 0, 0 },
	{ "*.{se,dk,no}", "a.b.no", 0, 1 },
	{ "*.{se,dk,no}", "se", 0, 0 },
	{ "x{a,}", "x", 0, 1 },
	{ "{a,b}x", "{a,b}x", 0, 1 },
	{ "{a,b}x", "ax", 0, 0 },
	{ "[^a-c]*", "dog", 0, 1 },
	{ "[^a-c]*", "cat", 0, 0 },
	{ "[!a-c]*", "cat", 0, 0 },
	{ "[a-c]at", "bat", 0, 1 },
	{ "[a-c]at", "rat", 0, 0 },
	{ "[]x]", "]", 0, 1 },
	{ "[^]x]", "]", 0, 0 },
	{ "[xyz]", "y", 0, 1 },
	{ "[ab", "[ab", 0, 1 },
	{ "\\*", "*", 0, 1 },
	{ "\\*", "x", 0, 0 },
	{ "a\\?", "a?", 0, 1 },
	{ "a\\?", "ab", 0, 0 },
	{ "a\\", "a\\", 0, 1 },
	{ "[\\]]", "]", 0, 1 },
	{ "*a*b*c*", "xxaxxbxxcxx", 0, 1 },
	{ "*a*b*c*", "xxaxxcxxbxx", 0, 0 },
	{ "a*", "a", 0, 1 },
	{ "**", "", 0, 1 },
	{ "*x", "xxxxxxxxxxxxxxxxxxxxxxy", 0, 0 },
	{ "FOO.*", "foo.se", 0, 0 },
	{ "FOO.*", "foo.se", ZGLOB_NOCASE, 1 },
	{ "*.{SE,DK}", "x.dk", ZGLOB_NOCASE, 1 },
	{ "[A-C]x", "bx", ZGLOB_NOCASE, 1 },
	{ "smtp/*.{se,dk}", "smtp/mail.kth.se", 0, 1 },
	{ "local/*", "local/user", 0, 1 },
	{ "local/*", "smtp/user", 0, 0 },
	{ "*.\\{a,b}", "x.{a,b}", 0, 1 },
};

START_TEST(test_glob)
{
	int got = zglob_match(globs[_i].pat, globs[_i].str, globs[_i].flags);

	ck_assert_msg(got == globs[_i].want, "zglob_match(\"%s\", \"%s\", %d) = %d want %d",
	    globs[_i].pat, globs[_i].str, globs[_i].flags, got, globs[_i].want);
}
END_TEST

START_TEST(test_sysexit)
{
	ck_assert_str_eq(zsysexit_name(EX_OK), "EX_OK");
	ck_assert_str_eq(zsysexit_name(EX_TEMPFAIL), "EX_TEMPFAIL");
	ck_assert_str_eq(zsysexit_name(EX_NOHOST), "EX_NOHOST");
	ck_assert_str_eq(zsysexit_name(EX_DEFERALL), "EX_DEFERALL");
	ck_assert_str_eq(zsysexit_name(42), "EX_42");
}
END_TEST

static char tmpdir[1024];
static int main_argc;
static char **main_argv;

/* mk_tmpdir - private directory for file tests */
static void mk_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_zutil.XXXXXX", t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* write_file - create path holding text */
static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(zwrite_all(fd, text, strlen(text)), Z_OK);
	close(fd);
}

START_TEST(test_files)
{
	char a[PATH_MAX], b[PATH_MAX], sub[PATH_MAX], c[PATH_MAX];
	zbuf out = ZBUF_INIT(100), err = ZBUF_INIT(256);
	struct stat st;
	int fds[2];

	mk_tmpdir();
	snprintf(a, sizeof(a), "%s/a", tmpdir);
	snprintf(b, sizeof(b), "%s/b", tmpdir);
	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	snprintf(c, sizeof(c), "%s/sub/c", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	write_file(a, "hello\n");

	ck_assert_int_eq(zrename_durable(a, b), Z_OK);
	ck_assert_int_ne(stat(a, &st), 0);
	ck_assert_int_eq(stat(b, &st), 0);
	ck_assert_int_eq(zrename_durable(b, c), Z_OK);
	ck_assert_int_eq(stat(c, &st), 0);
	ck_assert_int_eq(zrename_durable(a, b), Z_ENOENT);
	ck_assert_int_eq(zfsync_dir(tmpdir), Z_OK);
	ck_assert_int_eq(zfsync_parent(c), Z_OK);
	ck_assert_int_eq(zfsync_dir(a), Z_ENOENT);

	ck_assert_int_eq(zread_file(c, 100, &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "hello\n");
	ck_assert_int_eq(zread_file(c, 5, &out, &err), Z_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "larger than 5 bytes"));
	ck_assert_int_eq(zread_file(a, 100, &out, &err), Z_ENOENT);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), a));
	ck_assert_int_eq(zread_file(tmpdir, 100, &out, &err), Z_EIO);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "not a regular file"));

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(zwrite_all(fds[1], "0123456789", 10), Z_OK);
	close(fds[1]);
	zbuf_reset(&out);
	ck_assert_int_eq(zread_fd(fds[0], 9, &out), Z_ETOOBIG);
	close(fds[0]);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(zwrite_all(fds[1], "0123456789", 10), Z_OK);
	close(fds[1]);
	zbuf_reset(&out);
	ck_assert_int_eq(zread_fd(fds[0], 10, &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "0123456789");
	close(fds[0]);

	unlink(c);
	rmdir(sub);
	rmdir(tmpdir);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_time)
{
	char buf[64], tiny[10];
	long long t0, t1;

	ck_assert_int_eq(ztime_rfc5322((time_t)1795322807, buf, sizeof(buf)), Z_OK);
	ck_assert_str_eq(buf, "Sun, 22 Nov 2026 04:46:47 +0000");
	ck_assert_int_eq(ztime_rfc5322(0, buf, sizeof(buf)), Z_OK);
	ck_assert_str_eq(buf, "Thu, 1 Jan 1970 00:00:00 +0000");
	ck_assert_int_eq(ztime_rfc5322(0, tiny, sizeof(tiny)), Z_ETOOBIG);
	t0 = zmono_ms();
	t1 = zmono_ms();
	ck_assert(t1 >= t0);
}
END_TEST

START_TEST(test_proctitle_noinit)
{
	zbuf before = ZBUF_INIT(1 << 16), after = ZBUF_INIT(1 << 16);

	/* without init: must not crash or scribble on argv */
	ck_assert_int_eq(zread_file("/proc/self/cmdline", 1 << 16, &before, NULL), Z_OK);
	zproctitle_set("idle %d", 1);
	ck_assert_int_eq(zread_file("/proc/self/cmdline", 1 << 16, &after, NULL), Z_OK);
	ck_assert_uint_eq(after.len, before.len);
	ck_assert_mem_eq(after.data, before.data, before.len);
	zbuf_free(&before);
	zbuf_free(&after);
}
END_TEST

START_TEST(test_proctitle)
{
	int p[2], q[2];
	pid_t pid;
	char path[64], buf[4096];
	ssize_t n;
	int fd, status;
	char c;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		close(q[1]);
		zproctitle_init(main_argc, main_argv);
		zproctitle_set("testing %s", "title");
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		if (read(q[0], &c, 1) < 0)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	close(q[0]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	close(q[1]);
	waitpid(pid, &status, 0);
	close(p[0]);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_msg(strcmp(buf, "check_zutil: testing title") == 0 ||
	    strcmp(buf, "lt-check_zutil: testing title") == 0,
	    "cmdline is \"%s\"", buf);
}
END_TEST

/* main - run the suite (argv kept for the proctitle test) */
int main(int argc, char **argv)
{
	Suite *s = suite_create("zutil");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	main_argc = argc;
	main_argv = argv;
	tcase_add_loop_test(tc, test_interval_parse, 0, sizeof(ival) / sizeof(ival[0]));
	tcase_add_test(tc, test_interval_format);
	tcase_add_loop_test(tc, test_glob, 0, sizeof(globs) / sizeof(globs[0]));
	tcase_add_test(tc, test_sysexit);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_proctitle_noinit);
	tcase_add_test(tc, test_proctitle);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
