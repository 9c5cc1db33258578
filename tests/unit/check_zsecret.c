/*
 * NAME
 *	check_zsecret - unit tests for the secrets-file helper
 * SUMMARY
 *	Owner and mode rules, symlinks, non-regular files, the size bound,
 *	an empty file, and the line walker (comments, blanks, CR, numbering).
 * SYNOPSIS
 *	check_zsecret (run by make check)
 * DESCRIPTION
 *	Files are made in a private mkdtemp directory under $TMPDIR (or
 *	/tmp) and removed at the end.  The mode table runs through
 *	zsecret_check_mode without touching the disk; the file cases
 *	through zsecret_read.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; writes only below its own temporary directory.
 * BUGS
 *	The "owned by someone else" case needs root to chown; it runs only
 *	as root.
 * SEE ALSO
 *	lib/zsecret.c
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "zbuf.h"
#include "zerr.h"
#include "zsecret.h"
#include "runsuite.h"

static char dir[512];

/* mkfile - write text to dir/name with mode; returns the path */
static const char *mkfile(const char *name, const char *text, mode_t mode)
{
	static char path[700];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

static void setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/zsecretXXXXXX", t != NULL && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)!system(cmd);
}

static const struct {
	mode_t mode;
	uid_t owner, me;
	int rc;
} modes[] = {
	{ 0600, 1000, 1000, Z_OK },
	{ 0400, 1000, 1000, Z_OK },
	{ 0600, 0, 1000, Z_OK },     /* root's file */
	{ 0000, 1000, 1000, Z_OK },
	{ 0640, 1000, 1000, Z_ERR }, /* group may read */
	{ 0620, 1000, 1000, Z_ERR }, /* group may write */
	{ 0610, 1000, 1000, Z_ERR },
	{ 0604, 1000, 1000, Z_ERR }, /* others may read */
	{ 0602, 1000, 1000, Z_ERR },
	{ 0601, 1000, 1000, Z_ERR },
	{ 0600, 1001, 1000, Z_ERR }, /* somebody else's */
	{ 0600, 1001, 0, Z_ERR },    /* root may not use a user's file */
};

START_TEST(test_check_mode)
{
	zbuf err = ZBUF_INIT(256);

	zbuf_reset(&err);
	ck_assert_int_eq(zsecret_check_mode(S_IFREG | modes[_i].mode, modes[_i].owner,
					    modes[_i].me, &err), modes[_i].rc);
	if (modes[_i].rc != Z_OK)
		ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "refusing"));
	zbuf_free(&err);
}
END_TEST

START_TEST(test_read)
{
	zbuf out = ZBUF_INIT(4096), err = ZBUF_INIT(512);
	const char *p;
	char link[800];

	p = mkfile("good", "a:b\n", 0600);
	ck_assert_msg(zsecret_read(p, 4000, 0, &out, &err) == Z_OK, "%s", zbuf_cstr(&err));
	ck_assert_uint_eq(out.len, 4);
	ck_assert_str_eq(out.data, "a:b\n");
	zsecret_wipe(&out);
	ck_assert_ptr_null(out.data);

	/* empty: Z_OK with a NUL-terminated buffer */
	p = mkfile("empty", "", 0600);
	ck_assert_int_eq(zsecret_read(p, 4000, 0, &out, &err), Z_OK);
	ck_assert_ptr_nonnull(out.data);
	ck_assert_uint_eq(out.len, 0);
	zsecret_wipe(&out);

	/* group-readable: refused with the remedy, unless the check is off */
	p = mkfile("grp", "a:b\n", 0640);
	zbuf_reset(&err);
	ck_assert_int_eq(zsecret_read(p, 4000, 0, &out, &err), Z_ERR);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "group or others"));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "chmod 600"));
	ck_assert_ptr_null(out.data);
	ck_assert_int_eq(zsecret_read(p, 4000, ZSECRET_NO_MODE_CHECK, &out, &err), Z_OK);
	zsecret_wipe(&out);

	/* a symlink to a good file is not followed */
	p = mkfile("target", "a:b\n", 0600);
	snprintf(link, sizeof link, "%s/link", dir);
	ck_assert_int_eq(symlink(p, link), 0);
	zbuf_reset(&err);
	ck_assert_int_eq(zsecret_read(link, 4000, 0, &out, &err), Z_EIO);
	ck_assert_ptr_null(out.data);

	/* missing file, directory */
	ck_assert_int_eq(zsecret_read("/nonexistent/zsecret", 4000, 0, &out, &err), Z_EIO);
	zbuf_reset(&err);
	ck_assert_int_eq(zsecret_read(dir, 4000, ZSECRET_NO_MODE_CHECK, &out, &err), Z_ERR);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "not a regular file"));

	/* the bound: 10 bytes pass with max 10, 11 do not */
	p = mkfile("ten", "0123456789", 0600);
	ck_assert_int_eq(zsecret_read(p, 10, 0, &out, &err), Z_OK);
	zsecret_wipe(&out);
	p = mkfile("eleven", "0123456789a", 0600);
	zbuf_reset(&err);
	ck_assert_int_eq(zsecret_read(p, 10, 0, &out, &err), Z_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "larger than 10 bytes"));
	ck_assert_ptr_null(out.data);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_lines)
{
	static const char text[] = "# head\n\nfirst:1\r\n   \n  # indented comment\n"
				   "\tsecond:2 \n#\nlast:3";
	zsecret_lines l;
	zspan s;

	zsecret_lines_init(&l, text, sizeof text - 1);
	ck_assert_int_eq(zsecret_next(&l, &s), 1);
	ck_assert(zspan_eq(s, "first:1"));
	ck_assert_uint_eq(l.lineno, 3);
	ck_assert_int_eq(zsecret_next(&l, &s), 1);
	ck_assert(zspan_eq(s, "\tsecond:2 ")); /* blanks are the caller's to trim */
	ck_assert_uint_eq(l.lineno, 6);
	ck_assert_int_eq(zsecret_next(&l, &s), 1);
	ck_assert(zspan_eq(s, "last:3"));
	ck_assert_uint_eq(l.lineno, 8);
	ck_assert_int_eq(zsecret_next(&l, &s), 0);
	ck_assert_int_eq(zsecret_next(&l, &s), 0);

	zsecret_lines_init(&l, "", 0);
	ck_assert_int_eq(zsecret_next(&l, &s), 0);
	ck_assert_uint_eq(l.lineno, 0);
	zsecret_lines_init(&l, "#only\n\n", 7);
	ck_assert_int_eq(zsecret_next(&l, &s), 0);
	ck_assert_uint_eq(l.lineno, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zsecret");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_check_mode, 0, (int)(sizeof modes / sizeof modes[0]));
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_lines);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
