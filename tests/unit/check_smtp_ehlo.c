/*
 * NAME
 *	check_smtp_ehlo - unit tests of the EHLO keyword table (smtp/smtp_ehlo.c)
 * SUMMARY
 *	Keyword lookup both ways, parsing a server's reply, and a server's
 *	formatted reply parsed back to the same capabilities.
 * SECURITY
 *	Test code; inputs are the tables below.
 * SEE ALSO
 *	smtp/smtp_ehlo.c
 */
#include <check.h>
#include <string.h>
#include "smtp_ehlo.h"
#include "smtp_sasl.h"
#include "zerr.h"

static const struct { const char *kw; unsigned flag; } kws[] = {
	{ "pipelining", CAP_PIPELINING }, { "SIZE", CAP_SIZE }, { "8bitMIME", CAP_8BITMIME },
	{ "DSN", CAP_DSN }, { "ENHANCEDSTATUSCODES", CAP_ENHSTATUS },
	{ "CHUNKING", CAP_CHUNKING }, { "BINARYMIME", CAP_BINARYMIME },
	{ "STARTTLS", CAP_STARTTLS }, { "AUTH", CAP_AUTH }, { "XEXPS", 0 }, { "", 0 },
};

START_TEST(test_keywords)
{
	ck_assert_uint_eq(smtp_ehlo_keyword(zspan_from(kws[_i].kw)), kws[_i].flag);
	if (kws[_i].flag != 0)
		ck_assert(strcasecmp(smtp_ehlo_name(kws[_i].flag), kws[_i].kw) == 0);
}
END_TEST

/* feed - a reply from lines separated by '\n' */
static void feed(smtp_reply *r, const char *text)
{
	zbuf err = ZBUF_INIT(256);
	const char *p = text;

	smtp_reply_reset(r);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		ck_assert_int_ge(smtp_reply_line(r, p, n, &err), 0);
		p += n + (nl != NULL);
	}
	zbuf_free(&err);
}

START_TEST(test_parse)
{
	smtp_reply r;
	smtp_caps c;

	smtp_reply_init(&r);
	feed(&r, "250-mx.example hello\n250-AUTH=LOGIN\n250-AUTH cram-md5 PLAIN\n"
	     "250-SIZE 12345\n250-X-RCPTLIMIT 3\n250 CHUNKING");
	smtp_caps_parse(&r, &c);
	ck_assert_uint_eq(c.flags, CAP_AUTH | CAP_SIZE | CAP_CHUNKING);
	ck_assert_uint_eq(c.auth, AUTHM_LOGIN | AUTHM_CRAMMD5 | AUTHM_PLAIN);
	ck_assert_uint_eq(c.size_max, 12345);
	ck_assert_uint_eq(c.rcptlimit, 10);     /* clamped */
	/* the greeting line never counts as a keyword */
	feed(&r, "250-PIPELINING\n250 DSN");
	smtp_caps_parse(&r, &c);
	ck_assert_uint_eq(c.flags, CAP_DSN);
	ck_assert_uint_eq(c.rcptlimit, SMTP_RCPTLIMIT_DEFAULT);
	smtp_reply_free(&r);
}
END_TEST

/* a server's reply parses back to what it was made from */
START_TEST(test_format_roundtrip)
{
	smtp_caps in, out;
	zbuf text = ZBUF_INIT(4096), wire = ZBUF_INIT(4096), err = ZBUF_INIT(256);
	smtp_reply r;
	const char *p;

	memset(&in, 0, sizeof(in));
	in.flags = CAP_PIPELINING | CAP_SIZE | CAP_8BITMIME | CAP_DSN | CAP_STARTTLS | CAP_AUTH;
	in.size_max = 52428800;
	in.auth = AUTHM_PLAIN | AUTHM_CRAMMD5;
	in.rcptlimit = 500;
	ck_assert_int_eq(smtp_ehlo_format(&in, "mx.example", &text), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&text), "mx.example\nPIPELINING\nSIZE 52428800\n8BITMIME\n"
			 "DSN\nSTARTTLS\nAUTH PLAIN CRAM-MD5\nLIMITS RCPTMAX=500");
	ck_assert_int_eq(smtp_reply_format(&wire, 250, NULL, zspan_from(zbuf_cstr(&text))), Z_OK);
	smtp_reply_init(&r);
	p = zbuf_cstr(&wire);
	while (*p) {
		const char *crlf = strstr(p, "\r\n");
		ck_assert_ptr_nonnull(crlf);
		ck_assert_int_ge(smtp_reply_line(&r, p, (size_t)(crlf - p), &err), 0);
		p = crlf + 2;
	}
	ck_assert(r.complete);
	smtp_caps_parse(&r, &out);
	ck_assert_uint_eq(out.flags, in.flags);
	ck_assert_uint_eq(out.size_max, in.size_max);
	ck_assert_uint_eq(out.auth, in.auth);
	ck_assert_uint_eq(out.rcptlimit, in.rcptlimit);
	smtp_reply_free(&r);
	zbuf_free(&text);
	zbuf_free(&wire);
	zbuf_free(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smtp_ehlo");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_keywords, 0, sizeof(kws) / sizeof(kws[0]));
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_format_roundtrip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
