/*
 * NAME
 *	check_zconf - unit tests for the zmta.conf reader
 * SUMMARY
 *	Good and bad files, quotes, ${NAME} expansion, $ZCONFIG, defaults.
 * SYNOPSIS
 *	check_zconf (run by make check)
 * DESCRIPTION
 *	Table-driven libcheck cases against lib/zconf.h.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Creates files only under a private mkdtemp directory in $TMPDIR.
 * BUGS
 *	None known.
 * SEE ALSO
 *	lib/zconf.h, zmta.conf(5)
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zbuf.h"
#include "zconf.h"
#include "zutil.h"

static const struct {
	const char *text;
	const char *name, *want;   /* a value to check afterwards */
} good[] = {
	{ "", "POSTOFFICE", ZMTA_LOCALSTATEDIR "/spool/postoffice" },
	{ "# comment\n\n   \n\t# indented comment\nA=1\n", "A", "1" },
	{ "A=1\nA=2\n", "A", "2" },
	{ "A=\n", "A", "" },
	{ "A=x y z\n", "A", "x y z" },
	{ "A = spaced \n", "A", "spaced" },
	{ "A=\"quoted value\"\n", "A", "quoted value" },
	{ "A='single $x'\n", "A", "single $x" },
	{ "A=\"\"\n", "A", "" },
	{ "A=\"it's\"\n", "A", "it's" },
	{ "A=crlf\r\n", "A", "crlf" },
	{ "A=no-newline-at-end", "A", "no-newline-at-end" },
	{ "A=a=b=c\n", "A", "a=b=c" },
	{ "_x9=ok\n", "_x9", "ok" },
	{ "POSTOFFICE=/var/spool/other\n", "POSTOFFICE", "/var/spool/other" },
	{ "MAILBIN=/x\n", "MAILSHARE", ZMTA_SYSCONFDIR },
	{ "X=1\n", "LOGDIR", ZMTA_LOCALSTATEDIR "/log/zmta" },
	{ "X=1\n", "MAILBIN", ZMTA_LIBEXECDIR },
	{ "X=1\n", "MAILVAR", ZMTA_SYSCONFDIR },
	{ "DNS_SERVERS=127.0.0.1:5353\n", "DNS_SERVERS", "127.0.0.1:5353" },
};

START_TEST(test_good)
{
	zbuf err = ZBUF_INIT(256);
	int rc;

	zconf_free();
	rc = zconf_parse("t.conf", good[_i].text, strlen(good[_i].text), &err);
	ck_assert_msg(rc == Z_OK, "case %d: rc %d: %s", _i, rc, zbuf_cstr(&err));
	ck_assert_ptr_nonnull(zconf_get(good[_i].name));
	ck_assert_str_eq(zconf_get(good[_i].name), good[_i].want);
	zconf_free();
	zbuf_free(&err);
}
END_TEST

static const struct {
	const char *text;
	int rc;
	const char *msg;
} bad[] = {
	{ "A=1\nnot a setting\n", Z_EPARSE, "zmta.conf:2: expected NAME=value" },
	{ "=value\n", Z_EPARSE, "zmta.conf:1: expected NAME=value" },
	{ "1A=x\n", Z_EPARSE, "zmta.conf:1: expected NAME=value" },
	{ "A B=x\n", Z_EPARSE, "zmta.conf:1: expected NAME=value" },
	{ "A-B=x\n", Z_EPARSE, "zmta.conf:1: expected NAME=value" },
	{ "#\n#\nA=\"open\n", Z_EPARSE, "zmta.conf:3: unterminated quote" },
	{ "A='x\n", Z_EPARSE, "zmta.conf:1: unterminated quote" },
	{ "A=\"\n", Z_EPARSE, "zmta.conf:1: unterminated quote" },
	{ "A=\"a\"b\"\n", Z_EPARSE, "zmta.conf:1: text after closing quote" },
	{ "A=ok\nB=x\0y\n", Z_EPARSE, "zmta.conf:2: NUL byte" },
	{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=1\n",
	  Z_EPARSE, "zmta.conf:1: variable name longer than 64" },
};

START_TEST(test_bad)
{
	zbuf err = ZBUF_INIT(256);
	size_t len = strlen(bad[_i].text);
	int rc;

	if (strstr(bad[_i].msg, "NUL") != NULL)
		len = 13;
	zconf_free();
	rc = zconf_parse("zmta.conf", bad[_i].text, len, &err);
	ck_assert_msg(rc == bad[_i].rc, "case %d: rc %d want %d", _i, rc, bad[_i].rc);
	ck_assert_msg(strncmp(zbuf_cstr(&err), bad[_i].msg, strlen(bad[_i].msg)) == 0,
	    "case %d: error \"%s\" want \"%s\"", _i, zbuf_cstr(&err), bad[_i].msg);
	zconf_free();
	zbuf_free(&err);
}
END_TEST

START_TEST(test_long_line)
{
	zbuf text = ZBUF_INIT(3 * ZCONF_LINE_MAX);
	zbuf err = ZBUF_INIT(256);

	ck_assert_int_eq(zbuf_puts(&text, "# one\nA="), Z_OK);
	for (int i = 0; i < ZCONF_LINE_MAX - 2; i++)
		ck_assert_int_eq(zbuf_putc(&text, 'v'), Z_OK);
	ck_assert_int_eq(zbuf_puts(&text, "\n"), Z_OK);
	/* exactly ZCONF_LINE_MAX bytes: fine */
	ck_assert_int_eq(zconf_parse("f", text.data, text.len, &err), Z_OK);
	ck_assert_uint_eq(strlen(zconf_get("A")), ZCONF_LINE_MAX - 2);
	zbuf_truncate(&text, text.len - 1);
	ck_assert_int_eq(zbuf_puts(&text, "v\n"), Z_OK);
	ck_assert_int_eq(zconf_parse("f", text.data, text.len, &err), Z_ETOOBIG);
	ck_assert_str_eq(zbuf_cstr(&err), "f:2: line longer than 4096 bytes");
	zconf_free();
	zbuf_free(&text);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_expand)
{
	static const struct { const char *in; int rc; const char *out; } t[] = {
		{ "plain", Z_OK, "plain" },
		{ "${A}/x", Z_OK, "alpha/x" },
		{ "${A}${B}", Z_OK, "alphabeta" },
		{ "$A", Z_OK, "$A" },
		{ "a$", Z_OK, "a$" },
		{ "${UNKNOWN_ZCONF_TEST}x", Z_OK, "x" },
		{ "${ZCONF_TEST_ENV}", Z_OK, "fromenv" },
		{ "${POSTOFFICE}", Z_OK, ZMTA_LOCALSTATEDIR "/spool/postoffice" },
		{ "${C}", Z_OK, "${A}" },
		{ "${A", Z_EPARSE, NULL },
		{ "${}", Z_EPARSE, NULL },
		{ "${a b}", Z_EPARSE, NULL },
	};
	const char *conf = "A=alpha\nB='beta'\nC=${A}\n";
	zbuf out = ZBUF_INIT(4096), small = ZBUF_INIT(4);	/* out: room for any install prefix */

	setenv("ZCONFIG_TEST_UNUSED", "1", 1);
	setenv("ZCONF_TEST_ENV", "fromenv", 1);
	zconf_free();
	ck_assert_int_eq(zconf_parse("e", conf, strlen(conf), NULL), Z_OK);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = zconf_expand(t[i].in, &out);
		ck_assert_msg(rc == t[i].rc, "\"%s\": rc %d", t[i].in, rc);
		if (rc == Z_OK)
			ck_assert_str_eq(zbuf_cstr(&out), t[i].out);
	}
	ck_assert_int_eq(zconf_expand("${A}", &small), Z_ETOOBIG);
	ck_assert_int_eq(zconf_set("A", "new"), Z_OK);
	ck_assert_int_eq(zconf_expand("${A}", &small), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&small), "new");
	ck_assert_int_eq(zconf_set("bad name", "x"), Z_EPARSE);
	ck_assert_str_eq(zconf_get_default("NOPE", "dflt"), "dflt");
	ck_assert_str_eq(zconf_get_default("B", "dflt"), "beta");
	zconf_export();
	ck_assert_str_eq(getenv("B"), "beta");
	zconf_free();
	ck_assert_ptr_null(zconf_get("B"));
	zbuf_free(&out);
	zbuf_free(&small);
}
END_TEST

START_TEST(test_load)
{
	char dir[1024], path[1100], missing[1100];
	const char *t = getenv("TMPDIR");
	zbuf err = ZBUF_INIT(512);
	int fd;
	const char *text = "# test\nPOSTOFFICE=/tmp/po\nBAD LINE\n";
	const char *good = "POSTOFFICE=\"/tmp/po\"\n";

	snprintf(dir, sizeof(dir), "%s/check_zconf.XXXXXX", t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/zmta.conf", dir);
	snprintf(missing, sizeof(missing), "%s/missing.conf", dir);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(zwrite_all(fd, text, strlen(text)), Z_OK);
	close(fd);
	ck_assert_int_eq(zconf_load(path, &err), Z_EPARSE);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "zmta.conf:3: expected NAME=value"));
	ck_assert_str_eq(zconf_path(), path);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(zwrite_all(fd, good, strlen(good)), Z_OK);
	close(fd);
	/* via $ZCONFIG */
	setenv("ZCONFIG", path, 1);
	ck_assert_int_eq(zconf_load(NULL, &err), Z_OK);
	ck_assert_str_eq(zconf_get("POSTOFFICE"), "/tmp/po");
	ck_assert_str_eq(zconf_path(), path);
	/* a named file that is missing is an error */
	setenv("ZCONFIG", missing, 1);
	ck_assert_int_eq(zconf_load(NULL, &err), Z_ENOENT);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "missing.conf"));
	ck_assert_int_eq(zconf_load(missing, &err), Z_ENOENT);
	unsetenv("ZCONFIG");
	/* the default path: may be missing (the build's sysconfdir) */
	if (access(ZMTA_SYSCONFDIR "/zmta.conf", F_OK) != 0) {
		ck_assert_int_eq(zconf_load(NULL, &err), Z_OK);
		ck_assert_str_eq(zconf_get("POSTOFFICE"), ZMTA_LOCALSTATEDIR "/spool/postoffice");
	}
	ck_assert_str_eq(zconf_path(), ZMTA_SYSCONFDIR "/zmta.conf");
	zconf_free();
	unlink(path);
	rmdir(dir);
	zbuf_free(&err);
}
END_TEST

/* main - run the suite */
int main(void)
{
	Suite *s = suite_create("zconf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_expand);
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
