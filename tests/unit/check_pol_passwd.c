/*
 * NAME
 *	check_pol_passwd - unit tests for the SMTP AUTH password file
 * SUMMARY
 *	yescrypt, sha512crypt and sha256crypt entries verify; wrong
 *	passwords, unknown users and locked entries do not; legacy hashes
 *	and {plain} secrets only when allowed; malformed files name the
 *	line; the file mode check.
 * SYNOPSIS
 *	check_pol_passwd (run by make check)
 * DESCRIPTION
 *	Hashes are made at run time with crypt_gensalt_rn/crypt_rn.
 * DIAGNOSTICS
 *	libcheck's report.
 * SECURITY
 *	Test code; files live in the scratch directory.
 * BUGS
 *	The "unknown user costs a hash" property is not timed (no timing
 *	assertions); it is reviewed in the code.
 * SEE ALSO
 *	smtpserver/pol_passwd.h
 */
#include <check.h>
#include <crypt.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pol_passwd.h"
#include "scratch.h"

/* mkhash - crypt(pass) with a fresh salt of method prefix */
static void mkhash(const char *prefix, const char *pass, zbuf *out)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	char *h;

	memset(&cd, 0, sizeof(cd));
	if (prefix[0] == '$')
		ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)));
	else
		snprintf(salt, sizeof(salt), "%s", prefix); /* DES: two salt chars */
	h = crypt_rn(pass, salt, &cd, sizeof(cd));
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(h[0] != '*', "crypt failed for %s", prefix);
	zbuf_puts(out, h);
}

/* build - a file with alice($y$), bob($6$), carol($5$), dan(locked) */
static void build(zbuf *f)
{
	zbuf_puts(f, "# test users\n\nalice:");
	mkhash("$y$", "wonderland", f);
	zbuf_puts(f, ":uid=1000\nbob:");
	mkhash("$6$", "builder", f);
	zbuf_puts(f, "\r\ncarol:");
	mkhash("$5$", "singer", f);
	zbuf_puts(f, "\ndan:!locked\n");
}

START_TEST(test_verify)
{
	zbuf f = ZBUF_INIT(8192), err = ZBUF_INIT(512);
	pol_passwd *pw = NULL;

	build(&f);
	ck_assert_msg(pol_passwd_parse(f.data, f.len, 0, &pw, &err) == Z_OK, "%s", zbuf_cstr(&err));
	ck_assert_uint_eq(pol_passwd_count(pw), 4);
	ck_assert_int_eq(pol_passwd_verify(pw, "alice", "wonderland", 10), 1);
	ck_assert_int_eq(pol_passwd_verify(pw, "alice", "wonderlanD", 10), 0);
	ck_assert_int_eq(pol_passwd_verify(pw, "alice", "wonderland", 9), 0);
	ck_assert_int_eq(pol_passwd_verify(pw, "alice", "wonderland\0x", 12), 0);
	ck_assert_int_eq(pol_passwd_verify(pw, "bob", "builder", 7), 1);
	ck_assert_int_eq(pol_passwd_verify(pw, "carol", "singer", 6), 1);
	ck_assert_int_eq(pol_passwd_verify(pw, "Carol", "singer", 6), 0);
	ck_assert_int_eq(pol_passwd_verify(pw, "nobody", "singer", 6), 0);
	ck_assert_int_eq(pol_passwd_verify(pw, "dan", "locked", 6), 0);
	ck_assert_int_eq(pol_passwd_verify(pw, "dan", "!locked", 7), 0);
	ck_assert_str_eq(pol_passwd_extra(pw, "alice"), "uid=1000");
	ck_assert_ptr_null(pol_passwd_extra(pw, "bob"));
	ck_assert_int_eq(pol_passwd_plain(pw, "alice", &err), Z_ERR);   /* hashed */
	ck_assert_int_eq(pol_passwd_plain(pw, "nobody-here", &err), Z_ENOENT);
	pol_passwd_free(pw);
	zbuf_free(&f);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_legacy_and_plain)
{
	zbuf f = ZBUF_INIT(8192), err = ZBUF_INIT(512), sec = ZBUF_INIT(256);
	pol_passwd *pw = NULL;

	zbuf_puts(&f, "old:");
	mkhash("$1$", "md5pass", &f);
	zbuf_puts(&f, "\n");
	ck_assert_int_eq(pol_passwd_parse(f.data, f.len, 0, &pw, &err), Z_EPARSE);
	ck_assert_msg(strstr(zbuf_cstr(&err), "line 1: legacy") != NULL, "%s", zbuf_cstr(&err));
	zbuf_reset(&err);
	ck_assert_int_eq(pol_passwd_parse(f.data, f.len, POL_PW_ALLOW_LEGACY, &pw, &err), Z_OK);
	ck_assert_int_eq(pol_passwd_verify(pw, "old", "md5pass", 7), 1);
	pol_passwd_free(pw);

	zbuf_reset(&f);
	zbuf_puts(&f, "des:");
	mkhash("ab", "despass", &f);
	zbuf_puts(&f, "\n");
	ck_assert_int_eq(pol_passwd_parse(f.data, f.len, 0, &pw, &err), Z_EPARSE);
	ck_assert_int_eq(pol_passwd_parse(f.data, f.len, POL_PW_ALLOW_LEGACY, &pw, &err), Z_OK);
	ck_assert_int_eq(pol_passwd_verify(pw, "des", "despass", 7), 1);
	pol_passwd_free(pw);

	zbuf_reset(&f);
	zbuf_puts(&f, "cram:{plain}tanstaaftanstaaf\n");
	zbuf_reset(&err);
	ck_assert_int_eq(pol_passwd_parse(f.data, f.len, 0, &pw, &err), Z_EPARSE);
	ck_assert_msg(strstr(zbuf_cstr(&err), "{plain}") != NULL, "%s", zbuf_cstr(&err));
	ck_assert_int_eq(pol_passwd_parse(f.data, f.len, POL_PW_ALLOW_PLAIN, &pw, &err), Z_OK);
	ck_assert_int_eq(pol_passwd_plain(pw, "cram", &sec), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&sec), "tanstaaftanstaaf");
	ck_assert_int_eq(pol_passwd_verify(pw, "cram", "tanstaaftanstaaf", 16), 1);
	ck_assert_int_eq(pol_passwd_verify(pw, "cram", "tanstaaftanstaa", 15), 0);
	ck_assert_int_eq(pol_passwd_verify(pw, "other", "x", 1), 0); /* no dummy hash: still 0 */
	pol_passwd_free(pw);
	zbuf_free(&f);
	zbuf_free(&err);
	zbuf_free(&sec);
}
END_TEST

static const struct {
	const char *in;
	int rc;
	const char *msg;
} bad[] = {
	{ "alice\n", Z_EPARSE, "line 1: no ':'" },
	{ "#c\n:x\n", Z_EPARSE, "line 2: user name empty" },
	{ "a b:$6$x$y\n", Z_EPARSE, "blank or control" },
	{ "a:\n", Z_EPARSE, "empty hash" },
	{ "a:notahash\n", Z_EPARSE, "not a crypt(3) hash" },
	{ "a:{plain}\n", Z_EPARSE, "{plain} entry refused" },
	{ "a:!x\na:!y\n", Z_EPARSE, "line 2: duplicate user" },
	{ "a:!x\tz\n", Z_EPARSE, "control byte" },
};

START_TEST(test_bad)
{
	zbuf err = ZBUF_INIT(512);
	pol_passwd *pw = NULL;
	int rc = pol_passwd_parse(bad[_i].in, strlen(bad[_i].in), 0, &pw, &err);

	ck_assert_msg(rc == bad[_i].rc, "row %d: rc %d", _i, rc);
	ck_assert_ptr_null(pw);
	ck_assert_msg(strstr(zbuf_cstr(&err), bad[_i].msg) != NULL, "row %d: %s", _i, zbuf_cstr(&err));
	zbuf_free(&err);
}
END_TEST

START_TEST(test_long_line)
{
	zbuf f = ZBUF_INIT(8192), err = ZBUF_INIT(512);
	pol_passwd *pw = NULL;

	zbuf_puts(&f, "a:!");
	for (int i = 0; i < 1100; i++)
		zbuf_putc(&f, 'x');
	zbuf_putc(&f, '\n');
	ck_assert_int_eq(pol_passwd_parse(f.data, f.len, 0, &pw, &err), Z_ETOOBIG);
	zbuf_free(&f);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_load_mode)
{
	zbuf f = ZBUF_INIT(8192), err = ZBUF_INIT(512);
	pol_passwd *pw = NULL;
	char path[512], link[520];
	const char *t = getenv("TMPDIR");
	int fd;

	build(&f);
	snprintf(path, sizeof(path), "%s/passwd", t ? t : "/tmp");
	snprintf(link, sizeof(link), "%s.lnk", path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, f.data, f.len), (ssize_t)f.len);
	close(fd);
	chmod(path, 0640);
	ck_assert_int_eq(pol_passwd_load(path, 0, &pw, &err), Z_ERR);
	ck_assert_msg(strstr(zbuf_cstr(&err), "chmod 600") != NULL, "%s", zbuf_cstr(&err));
	chmod(path, 0604);
	ck_assert_int_eq(pol_passwd_load(path, 0, &pw, &err), Z_ERR);
	chmod(path, 0600);
	zbuf_reset(&err);
	ck_assert_msg(pol_passwd_load(path, 0, &pw, &err) == Z_OK, "%s", zbuf_cstr(&err));
	ck_assert_int_eq(pol_passwd_verify(pw, "bob", "builder", 7), 1);
	pol_passwd_free(pw);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(pol_passwd_load(link, 0, &pw, &err), Z_EIO);
	ck_assert_int_eq(pol_passwd_load("/nonexistent/x", 0, &pw, &err), Z_EIO);
	zbuf_free(&f);
	zbuf_free(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pol_passwd");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_verify);
	tcase_add_test(tc, test_legacy_and_plain);
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_load_mode);
	suite_add_tcase(s, tc);
	return scratch_run(s, "check_pol_passwd");
}
