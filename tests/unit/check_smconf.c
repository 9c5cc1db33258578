/*
 * NAME
 *	check_smconf - unit tests for the sm.conf parser (transport/sm/smconf.c)
 * SUMMARY
 *	Good and bad sm.conf texts, flag letters, lookup, and the argv macro
 *	expansion ($u $h $g $f $$ ${NAME}).
 * SYNOPSIS
 *	check_smconf (run by make check)
 * DESCRIPTION
 *	Bad files must fail with the right line number in the message.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	transport/sm/smconf.h, sm.conf(5)
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "smconf.h"

START_TEST(test_good)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"   indented lines are ignored too\n"
		"dovecot nP /usr/lib/dovecot/dovecot-lda dovecot-lda -c ${CONF} -f $g -d $u\n"
		"multi\tmE78\t${MAILBIN}/bin/x\tx -h $h $u\r\n"
		"none - /bin/true true\n"
		"all 7EefmnOPRX prog prog";
	sm_conf c;
	zbuf err = ZBUF_INIT(256);
	const sm_mailer *m;
	char fl[32];

	/* 7 and 8 exclude each other: fix the multi line first */
	ck_assert_int_eq(smconf_parse("t", text, sizeof(text) - 1, &c, &err), Z_EPARSE);
	ck_assert_msg(strstr(zbuf_cstr(&err), "t:5:") != NULL, "%s", zbuf_cstr(&err));
	smconf_free(&c);

	static const char ok[] =
		"dovecot nP /usr/lib/dovecot/dovecot-lda dovecot-lda -c ${CONF} -f $g -d $u\n"
		"multi\tmE8\t${MAILBIN}/bin/x\tx -h $h $u\r\n"
		"none - /bin/true true\n"
		"all 7EefmnOPRX prog prog";
	zbuf_reset(&err);
	ck_assert_msg(smconf_parse("t", ok, sizeof(ok) - 1, &c, &err) == Z_OK, "%s", zbuf_cstr(&err));
	ck_assert_uint_eq(c.n, 4);
	m = smconf_find(&c, "dovecot");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->flags, SMF_n | SMF_P);
	ck_assert_str_eq(m->program, "/usr/lib/dovecot/dovecot-lda");
	ck_assert_uint_eq(m->argc, 7);
	ck_assert_str_eq(m->argv[0], "dovecot-lda");
	ck_assert_str_eq(m->argv[6], "$u");
	ck_assert_ptr_null(m->argv[7]);
	ck_assert_int_eq(m->has_u, 1);
	ck_assert_int_eq(m->lineno, 1);
	m = smconf_find(&c, "multi");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->flags, SMF_m | SMF_E | SMF_8);
	ck_assert_str_eq(m->argv[3], "$u");   /* the CR is gone */
	m = smconf_find(&c, "none");
	ck_assert_uint_eq(m->flags, 0);
	ck_assert_int_eq(m->has_u, 0);
	ck_assert_int_eq(smconf_flags_format(m->flags, fl, sizeof(fl)), Z_OK);
	ck_assert_str_eq(fl, "-");
	m = smconf_find(&c, "all");
	ck_assert_int_eq(smconf_flags_format(m->flags, fl, sizeof(fl)), Z_OK);
	ck_assert_str_eq(fl, "7EefmnOPRX");
	ck_assert_ptr_null(smconf_find(&c, "Dovecot"));
	smconf_free(&c);
	zbuf_free(&err);
}
END_TEST

static const struct { const char *text; int line; const char *why; } bad[] = {
	{ "x - /a\n", 1, "want:" },
	{ "x\n", 1, "want:" },
	{ "ok - /a a\nx 9 /a a\n", 2, "not supported" },
	{ "x b /a a\n", 1, "not supported" },
	{ "x q /a a\n", 1, "unknown flag" },
	{ "x fr /a a\n", 1, "exclude" },
	{ "x 78 /a a\n", 1, "exclude" },
	{ "x - /a a $q\n", 1, "unknown macro" },
	{ "x - /a a $\n", 1, "unknown macro" },
	{ "x - /a a ${\n", 1, "${NAME}" },
	{ "x - /a a ${}\n", 1, "${NAME}" },
	{ "x - /a a ${A-B}\n", 1, "${NAME}" },
	{ "x - /bin/$u a\n", 1, "program" },
	{ "x - /a a\nx - /b b\n", 2, "twice" },
	{ "x/y - /a a\n", 1, "mailer name" },
	{ "x - /a a\x01\n", 1, "control" },
	{ "\n\n# c\nx - /a a\x7f\n", 4, "control" },
};

START_TEST(test_bad)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sm_conf c;
		zbuf err = ZBUF_INIT(256);
		char want[32];
		int rc = smconf_parse("f", bad[i].text, strlen(bad[i].text), &c, &err);

		ck_assert_msg(rc != Z_OK, "accepted case %zu", i);
		snprintf(want, sizeof(want), "f:%d:", bad[i].line);
		ck_assert_msg(strstr(zbuf_cstr(&err), want) != NULL, "case %zu: %s", i, zbuf_cstr(&err));
		ck_assert_msg(strstr(zbuf_cstr(&err), bad[i].why) != NULL, "case %zu: %s", i, zbuf_cstr(&err));
		smconf_free(&c);
		zbuf_free(&err);
	}
}
END_TEST

START_TEST(test_limits)
{
	zbuf text = ZBUF_INIT(1u << 22);
	sm_conf c;
	zbuf err = ZBUF_INIT(256);

	ck_assert_int_eq(zbuf_puts(&text, "x - /a a"), Z_OK);
	for (int i = 0; i < SMCONF_ARGV_MAX; i++)
		ck_assert_int_eq(zbuf_puts(&text, " w"), Z_OK);
	ck_assert_int_eq(smconf_parse("f", text.data, text.len, &c, &err), Z_ETOOBIG);
	smconf_free(&c);
	zbuf_reset(&text);
	ck_assert_int_eq(zbuf_puts(&text, "x - /a a "), Z_OK);
	for (int i = 0; i < SMCONF_LINE_MAX; i++)
		ck_assert_int_eq(zbuf_putc(&text, 'w'), Z_OK);
	ck_assert_int_eq(smconf_parse("f", text.data, text.len, &c, &err), Z_ETOOBIG);
	smconf_free(&c);
	zbuf_free(&text);
	zbuf_free(&err);
}
END_TEST

/* zenv - ${NAME} for the test */
static const char *zenv(const char *name)
{
	return strcmp(name, "CONF") == 0 ? "/etc/x.conf" : NULL;
}

START_TEST(test_expand)
{
	sm_vars v = { "alice", "example.org", "bob@example.net", zenv };
	static const struct { const char *in, *out; } t[] = {
		{ "$u", "alice" }, { "-d$u", "-dalice" }, { "$g", "bob@example.net" },
		{ "$f", "bob@example.net" }, { "$h:$u", "example.org:alice" }, { "$$u", "$u" },
		{ "${CONF}", "/etc/x.conf" }, { "a${NONE}b", "ab" }, { "plain", "plain" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		zbuf out = ZBUF_INIT(1024);
		ck_assert_int_eq(smconf_expand(t[i].in, &v, &out), Z_OK);
		ck_assert_str_eq(zbuf_cstr(&out), t[i].out);
		zbuf_free(&out);
	}
	{
		zbuf out = ZBUF_INIT(1024);
		ck_assert_int_eq(smconf_expand("$x", &v, &out), Z_EPARSE);
		ck_assert_int_eq(smconf_expand("${x", &v, &out), Z_EPARSE);
		zbuf_free(&out);
	}
	ck_assert_int_eq(smconf_flag_bit('m'), SMF_m);
	ck_assert_int_eq(smconf_flag_bit('S'), -1);
	ck_assert_int_eq(smconf_flag_bit('z'), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smconf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_expand);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
