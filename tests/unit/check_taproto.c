/*
 * NAME
 *	check_taproto - unit tests for spool/taproto.c
 * SUMMARY
 *	Tables of good and bad agent lines and job lines, report formatting
 *	round trips, notary build/split.
 * SYNOPSIS
 *	tests/unit/check_taproto
 * DESCRIPTION
 *	Vectors from zmta-ta(7): "#hungry", "", "#resync E/K/81234",
 *	"# prog:1: text", report lines with every status word, and malformed
 *	lines that must give TAK_BAD with a reason.
 * DIAGNOSTICS
 *	libcheck output; non-zero exit on failure.
 * SECURITY
 *	Test code only.
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmta-ta(7), spool/taproto.c
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "taproto.h"

/* sp_eq - span equals C string */
static int sp_eq(zspan s, const char *lit)
{
	return s.n == strlen(lit) && (s.n == 0 || memcmp(s.p, lit, s.n) == 0);
}

static const char NOTARY[] =
	"carol@example.com\001failed\001\001smtp; 500 (connect failed)\001"
	"dns; mx.example.com (192.0.2.25|25)\001smtp[4711]";

struct agent_vec {
	const char *line;
	size_t len;             /* 0: strlen(line) */
	enum ta_kind kind;
	unsigned long inum, off;
	enum ta_word word;
	long retry;
	int rel;
	const char *arg_or_text;
};

#define L(s) s, sizeof(s) - 1
static const struct agent_vec good_agent[] = {
	{ L("#hungry"), TAK_HUNGRY, 0, 0, 0, 0, 0, "" },
	{ L("#hungry now"), TAK_HUNGRY, 0, 0, 0, 0, 0, "" },
	{ L(""), TAK_EMPTY, 0, 0, 0, 0, 0, "" },
	{ L("#resync E/K/81234"), TAK_RESYNC, 0, 0, 0, 0, 0, "E/K/81234" },
	{ L("#resync 81234"), TAK_RESYNC, 0, 0, 0, 0, 0, "81234" },
	{ L("# prog:1: text"), TAK_COMMENT, 0, 0, 0, 0, 0, "prog:1: text" },
	{ L("#HELP! diagnostic writeout failed"), TAK_COMMENT, 0, 0, 0, 0, 0,
	  "HELP! diagnostic writeout failed" },
	{ L("#"), TAK_COMMENT, 0, 0, 0, 0, 0, "" },
	{ L("#keepalive"), TAK_KEEPALIVE, 0, 0, 0, 0, 0, "" },
	{ L("#keepalive now"), TAK_COMMENT, 0, 0, 0, 0, 0, "keepalive now" },
	{ L("81234/324\t\tok3 x"), TAK_REPORT, 81234, 324, TA_OK3, 0, 0, "x" },
	{ L("81234/324\t\tok"), TAK_REPORT, 81234, 324, TA_OK, 0, 0, "" },
	{ L("81234/324\t\tok2 delivered fine"), TAK_REPORT, 81234, 324, TA_OK2, 0, 0,
	  "delivered fine" },
	{ L("1/0\t\terror no"), TAK_REPORT, 1, 0, TA_ERROR, 0, 0, "no" },
	{ L("1/2\tx\001y\terror2 550 no such user"), TAK_REPORT, 1, 2, TA_ERROR2, 0, 0,
	  "550 no such user" },
	{ L("7/8\t\tdeferred later"), TAK_REPORT, 7, 8, TA_DEFERRED, 0, 0, "later" },
	{ L("7/8\t\tdeferall dns"), TAK_REPORT, 7, 8, TA_DEFERALL, 0, 0, "dns" },
	{ L("7/8\t\tdeferback"), TAK_REPORT, 7, 8, TA_DEFERBACK, 0, 0, "" },
	{ L("7/8\t\tretryat 1700000000 abs"), TAK_REPORT, 7, 8, TA_RETRYAT, 1700000000L, 0,
	  "abs" },
	{ L("7/8\t\tretryat +60"), TAK_REPORT, 7, 8, TA_RETRYAT, 60, 1, "" },
	{ L("18446744073709551615/18446744073709551615\t\tok"), TAK_REPORT,
	  18446744073709551615UL, 18446744073709551615UL, TA_OK, 0, 0, "" },
};

static const struct agent_vec bad_agent[] = {
	{ L("81234/\t\tok"), TAK_BAD, 0, 0, 0, 0, 0,
	  "recipient offset is not a decimal number" },
	{ L("x/1\t\tok"), TAK_BAD, 0, 0, 0, 0, 0, "message number is not a decimal number" },
	{ L("1/1\tok"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tbogus"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/99999999999999999999999\t\tok"), TAK_BAD, 0, 0, 0, 0, 0,
	  "recipient offset too large" },
	{ L("99999999999999999999999/1\t\tok"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("18446744073709551616/1\t\tok"), TAK_BAD, 0, 0, 0, 0, 0,
	  "message number too large" },
	{ L("#resync ../../etc/passwd"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("#resync /etc/passwd"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("#resync"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("#resync "), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tok\0x"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("#hun\0gry"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("-1/1\t\tok"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("+1/1\t\tok"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/-1\t\tok"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L(" 1/1\t\tok"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1 \t\tok"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("/1\t\tok"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\t"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tOK"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tok\tx"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tretryat"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tretryat +"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tretryat -5 x"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tretryat 99999999999999999999"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("1/1\t\tretryat 5x"), TAK_BAD, 0, 0, 0, 0, 0, NULL },
	{ L("hello world"), TAK_BAD, 0, 0, 0, 0, 0,
	  "misformed line: neither a report nor a command" },
	{ L("1/1"), TAK_BAD, 0, 0, 0, 0, 0, "report lacks the TAB after inum/offset" },
};

START_TEST(test_agent_good)
{
	const struct agent_vec *v = &good_agent[_i];
	ta_report rep;
	zspan arg;
	zbuf why = ZBUF_INIT(256);
	enum ta_kind k = ta_parse_agent_line(v->line, v->len, &rep, &arg, &why);

	ck_assert_msg(k == v->kind, "vector %d: kind %d want %d (%s)", _i, k, v->kind,
		      zbuf_cstr(&why));
	if (k == TAK_REPORT) {
		ck_assert_uint_eq(rep.inum, v->inum);
		ck_assert_uint_eq(rep.offset, v->off);
		ck_assert_int_eq(rep.word, v->word);
		if (v->word == TA_RETRYAT) {
			ck_assert_int_eq(rep.retry, v->retry);
			ck_assert_int_eq(rep.retry_relative, v->rel);
		}
		ck_assert_msg(sp_eq(rep.text, v->arg_or_text), "vector %d text", _i);
	} else if (k == TAK_RESYNC || k == TAK_COMMENT) {
		ck_assert_msg(sp_eq(arg, v->arg_or_text), "vector %d arg '%.*s'", _i,
			      (int)arg.n, arg.p);
	}
	zbuf_free(&why);
}
END_TEST

START_TEST(test_agent_bad)
{
	const struct agent_vec *v = &bad_agent[_i];
	ta_report rep;
	zspan arg;
	zbuf why = ZBUF_INIT(256);
	enum ta_kind k = ta_parse_agent_line(v->line, v->len, &rep, &arg, &why);

	ck_assert_msg(k == TAK_BAD, "vector %d ('%s') kind %d", _i, v->line, k);
	ck_assert_msg(why.len > 0, "vector %d: no reason", _i);
	/* where the table names the reason, it must be exactly that */
	ck_assert_msg(v->arg_or_text == NULL || strcmp(zbuf_cstr(&why), v->arg_or_text) == 0,
		      "vector %d: reason '%s', want '%s'", _i, zbuf_cstr(&why), v->arg_or_text);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_agent_notary_vector)
{
	char line[512];
	ta_report rep;
	zspan f[TAPROTO_NOTARY_FIELDS];
	int nf;
	int n = snprintf(line, sizeof(line), "81234/324\t%s\tretryat +60 x", NOTARY);

	ck_assert_int_eq(ta_parse_agent_line(line, (size_t)n, &rep, NULL, NULL), TAK_REPORT);
	ck_assert_int_eq(rep.word, TA_RETRYAT);
	ck_assert_int_eq(rep.retry, 60);
	ck_assert_int_eq(rep.retry_relative, 1);
	ck_assert(sp_eq(rep.text, "x"));
	ck_assert(sp_eq(rep.notary, NOTARY));
	ck_assert_int_eq(ta_notary_split(rep.notary, f, &nf), Z_OK);
	ck_assert_int_eq(nf, 6);
	ck_assert(sp_eq(f[0], "carol@example.com"));
	ck_assert(sp_eq(f[1], "failed"));
	ck_assert(sp_eq(f[2], ""));
	ck_assert(sp_eq(f[3], "smtp; 500 (connect failed)"));
	ck_assert(sp_eq(f[4], "dns; mx.example.com (192.0.2.25|25)"));
	ck_assert(sp_eq(f[5], "smtp[4711]"));
}
END_TEST

START_TEST(test_agent_long_lines)
{
	size_t n = 9000;
	char *big = malloc(n);
	zbuf why = ZBUF_INIT(256);

	ck_assert_ptr_nonnull(big);
	memset(big, 'a', n);
	memcpy(big, "1/1\t\tok ", 8);
	ck_assert_int_eq(ta_parse_agent_line(big, n, NULL, NULL, &why), TAK_BAD);
	ck_assert(why.len > 0);
	/* exactly at the cap (8192 with its '\n' would be 8193): refused */
	ck_assert_int_eq(ta_parse_agent_line(big, TAPROTO_LINE_MAX, NULL, NULL, NULL), TAK_BAD);
	/* one less (line + '\n' == 8192): accepted */
	ck_assert_int_eq(ta_parse_agent_line(big, TAPROTO_LINE_MAX - 1, NULL, NULL, NULL),
			 TAK_REPORT);
	ck_assert_int_eq(ta_parse_job_line(big, n, NULL, &why), TAK_BAD);
	free(big);
	zbuf_free(&why);
}
END_TEST

struct job_vec {
	const char *line;
	size_t len;
	enum ta_kind kind;
	const char *path, *host;
	unsigned long inum;
};

static const struct job_vec job_vecs[] = {
	{ L("E/K/81234\tmx.example.com"), TAK_JOB, "E/K/81234", "mx.example.com", 81234 },
	{ L("E/K/81234"), TAK_JOB, "E/K/81234", "", 81234 },
	{ L("K/81234"), TAK_JOB, "K/81234", "", 81234 },
	{ L("81234\t[192.0.2.1]"), TAK_JOB, "81234", "[192.0.2.1]", 81234 },
	{ L("#idle"), TAK_IDLE, NULL, NULL, 0 },
	{ L(""), TAK_EMPTY, NULL, NULL, 0 },
	{ L("../x"), TAK_BAD, NULL, NULL, 0 },
	{ L("/etc/passwd"), TAK_BAD, NULL, NULL, 0 },
	{ L("E/K/../81234"), TAK_BAD, NULL, NULL, 0 },
	{ L("E/K/81234\t"), TAK_BAD, NULL, NULL, 0 },
	{ L("E/K/81234\tmx example.com"), TAK_BAD, NULL, NULL, 0 },
	{ L("E/K/81234\tmx\001x"), TAK_BAD, NULL, NULL, 0 },
	{ L("E/K/81234\tmx\tx"), TAK_BAD, NULL, NULL, 0 },
	{ L("E/K/81234\tmx\177"), TAK_BAD, NULL, NULL, 0 },
	{ L("E/K/812\0034"), TAK_BAD, NULL, NULL, 0 },
	{ L("E/K/81234\0\tmx"), TAK_BAD, NULL, NULL, 0 },
	{ L("#idle now"), TAK_BAD, NULL, NULL, 0 },
	{ L("#hungry"), TAK_BAD, NULL, NULL, 0 },
	{ L("\tmx"), TAK_BAD, NULL, NULL, 0 },
	{ L("0123"), TAK_BAD, NULL, NULL, 0 },
	{ L("abc"), TAK_BAD, NULL, NULL, 0 },
};

START_TEST(test_job_lines)
{
	const struct job_vec *v = &job_vecs[_i];
	ta_job job;
	zbuf why = ZBUF_INIT(256);
	enum ta_kind k = ta_parse_job_line(v->line, v->len, &job, &why);

	ck_assert_msg(k == v->kind, "job vector %d: kind %d want %d (%s)", _i, k, v->kind,
		      zbuf_cstr(&why));
	if (k == TAK_JOB) {
		ck_assert(sp_eq(job.path, v->path));
		ck_assert(sp_eq(job.host, v->host));
		ck_assert_uint_eq(job.inum, v->inum);
	}
	if (k == TAK_BAD)
		ck_assert(why.len > 0);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_job_host_length)
{
	char line[300];
	size_t n;

	memcpy(line, "81234\t", 6);
	memset(line + 6, 'h', 255);
	n = 6 + 255;
	ck_assert_int_eq(ta_parse_job_line(line, n, NULL, NULL), TAK_JOB);
	line[n++] = 'h';
	ck_assert_int_eq(ta_parse_job_line(line, n, NULL, NULL), TAK_BAD);
}
END_TEST

START_TEST(test_format_job)
{
	zbuf b = ZBUF_INIT(1024);

	ck_assert_int_eq(ta_format_job(&b, "E/K/81234", "mx.example.com"), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "E/K/81234\tmx.example.com\n");
	zbuf_reset(&b);
	ck_assert_int_eq(ta_format_job(&b, "81234", NULL), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "81234\n");
	zbuf_reset(&b);
	ck_assert_int_eq(ta_format_job(&b, "81234", "a\tb"), Z_EPARSE);
	ck_assert_int_eq(ta_format_job(&b, "81\n234", NULL), Z_EPARSE);
	ck_assert_uint_eq(b.len, 0);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_format_report)
{
	zbuf b = ZBUF_INIT(2 * TAPROTO_LINE_MAX);
	ta_report rep;

	ck_assert_int_eq(ta_format_report(&b, 81234, 324, NULL, TA_OK3, 0, 0, "x"), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "81234/324\t\tok3 x\n");
	zbuf_reset(&b);
	ck_assert_int_eq(ta_format_report(&b, 81234, 324, "a\001b", TA_RETRYAT, 60, 1,
					  "line1\nline2\tTAB\001ctl"), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "81234/324\ta\001b\tretryat +60 line1\rline2 TAB?ctl\n");
	ck_assert_int_eq(ta_parse_agent_line(b.data, b.len - 1, &rep, NULL, NULL), TAK_REPORT);
	ck_assert(sp_eq(rep.text, "line1\rline2 TAB?ctl"));
	ck_assert_int_eq(rep.retry, 60);
	zbuf_reset(&b);
	ck_assert_int_eq(ta_format_report(&b, 1, 2, "", TA_RETRYAT, 1700000000L, 0, NULL), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "1/2\t\tretryat 1700000000\n");
	zbuf_reset(&b);
	ck_assert_int_eq(ta_format_report(&b, 1, 2, "", TA_DEFERRED, 0, 0, ""), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "1/2\t\tdeferred\n");
	zbuf_reset(&b);
	/* forbidden notary bytes */
	ck_assert_int_eq(ta_format_report(&b, 1, 2, "a\tb", TA_OK, 0, 0, "x"), Z_EPARSE);
	ck_assert_int_eq(ta_format_report(&b, 1, 2, "a\nb", TA_OK, 0, 0, "x"), Z_EPARSE);
	ck_assert_int_eq(ta_format_report(&b, 1, 2, "", TA_RETRYAT, -1, 1, "x"), Z_EPARSE);
	ck_assert_uint_eq(b.len, 0);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_format_report_cut)
{
	zbuf b = ZBUF_INIT(2 * TAPROTO_LINE_MAX);
	size_t n = 3 * TAPROTO_LINE_MAX;
	char *text = malloc(n + 1);
	ta_report rep;

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', n);
	text[n] = '\0';
	ck_assert_int_eq(ta_format_report(&b, 81234, 324, "n", TA_ERROR2, 0, 0, text), Z_OK);
	ck_assert_uint_eq(b.len, TAPROTO_LINE_MAX);
	ck_assert_int_eq(b.data[b.len - 1], '\n');
	ck_assert_int_eq(ta_parse_agent_line(b.data, b.len - 1, &rep, NULL, NULL), TAK_REPORT);
	ck_assert_int_eq(rep.word, TA_ERROR2);
	/* a notary that cannot fit is refused */
	zbuf_reset(&b);
	ck_assert_int_eq(ta_format_report(&b, 1, 1, text, TA_ERROR2, 0, 0, "x"), Z_ETOOBIG);
	ck_assert_uint_eq(b.len, 0);
	free(text);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_notary_build_split)
{
	zbuf b = ZBUF_INIT(1024);
	const char *f6[6] = { "a@b", "failed", "5.1.1", "smtp; 550 no", "dns; mx", "smtp[1]" };
	const char *fnull[6] = { "a@b", NULL, "5.1.1", NULL, NULL, NULL };
	const char *fbad[6] = { "a\001b", NULL, NULL, NULL, NULL, NULL };
	const char *ftab[6] = { "a", "b\tc", NULL, NULL, NULL, NULL };
	const char *fnl[6] = { "a", NULL, NULL, NULL, NULL, "x\ny" };
	const char *fall[6] = { NULL, NULL, NULL, NULL, NULL, NULL };
	zspan f[6];
	int nf;

	ck_assert_int_eq(ta_notary_build(&b, f6), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b),
			 "a@b\001failed\0015.1.1\001smtp; 550 no\001dns; mx\001smtp[1]");
	ck_assert_int_eq(ta_notary_split((zspan){ b.data, b.len }, f, &nf), Z_OK);
	ck_assert_int_eq(nf, 6);
	for (int i = 0; i < 6; i++)
		ck_assert(sp_eq(f[i], f6[i]));
	zbuf_reset(&b);
	ck_assert_int_eq(ta_notary_build(&b, fnull), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "a@b\001\0015.1.1");
	ck_assert_int_eq(ta_notary_split((zspan){ b.data, b.len }, f, &nf), Z_OK);
	ck_assert_int_eq(nf, 3);
	ck_assert(sp_eq(f[2], "5.1.1"));
	ck_assert(sp_eq(f[5], ""));
	zbuf_reset(&b);
	ck_assert_int_eq(ta_notary_build(&b, fbad), Z_EPARSE);
	ck_assert_int_eq(ta_notary_build(&b, ftab), Z_EPARSE);
	ck_assert_int_eq(ta_notary_build(&b, fnl), Z_EPARSE);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(ta_notary_build(&b, fall), Z_OK);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(ta_notary_split((zspan){ "", 0 }, f, &nf), Z_OK);
	ck_assert_int_eq(nf, 0);
	ck_assert_int_eq(ta_notary_split(zspan_from("1\0012\0013\0014\0015\0016\0017"), f, &nf),
			 Z_EPARSE);
	ck_assert_int_eq(nf, 6);
	ck_assert(sp_eq(f[5], "6"));
	zbuf_free(&b);
}
END_TEST

START_TEST(test_words)
{
	ck_assert_str_eq(ta_word_name(TA_OK), "ok");
	ck_assert_str_eq(ta_word_name(TA_OK2), "ok2");
	ck_assert_str_eq(ta_word_name(TA_OK3), "ok3");
	ck_assert_str_eq(ta_word_name(TA_ERROR), "error");
	ck_assert_str_eq(ta_word_name(TA_ERROR2), "error2");
	ck_assert_str_eq(ta_word_name(TA_DEFERRED), "deferred");
	ck_assert_str_eq(ta_word_name(TA_DEFERALL), "deferall");
	ck_assert_str_eq(ta_word_name(TA_DEFERBACK), "deferback");
	ck_assert_str_eq(ta_word_name(TA_RETRYAT), "retryat");
	ck_assert(ta_word_final(TA_OK) && ta_word_final(TA_OK2) && ta_word_final(TA_OK3));
	ck_assert(ta_word_final(TA_ERROR) && ta_word_final(TA_ERROR2));
	ck_assert(!ta_word_final(TA_DEFERRED) && !ta_word_final(TA_DEFERALL));
	ck_assert(!ta_word_final(TA_DEFERBACK) && !ta_word_final(TA_RETRYAT));
}
END_TEST

/* taproto_suite - all cases */
static Suite *taproto_suite(void)
{
	Suite *s = suite_create("taproto");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_agent_good, 0, (int)(sizeof(good_agent) / sizeof(good_agent[0])));
	tcase_add_loop_test(tc, test_agent_bad, 0, (int)(sizeof(bad_agent) / sizeof(bad_agent[0])));
	tcase_add_test(tc, test_agent_notary_vector);
	tcase_add_test(tc, test_agent_long_lines);
	tcase_add_loop_test(tc, test_job_lines, 0, (int)(sizeof(job_vecs) / sizeof(job_vecs[0])));
	tcase_add_test(tc, test_job_host_length);
	tcase_add_test(tc, test_format_job);
	tcase_add_test(tc, test_format_report);
	tcase_add_test(tc, test_format_report_cut);
	tcase_add_test(tc, test_notary_build_split);
	tcase_add_test(tc, test_words);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite */
int main(void)
{
	SRunner *sr = srunner_create(taproto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
