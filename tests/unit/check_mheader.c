/*
 * NAME
 *	check_mheader - unit tests for RFC 5322 headers (mail/mheader.c)
 * SUMMARY
 *	Header splitting and unfolding, the structured-value tokenizer and
 *	the address-list parser, each with tables of good and bad input.
 * SYNOPSIS
 *	check_mheader (run by make check)
 * DESCRIPTION
 *	Address lists are checked through a one-line rendering of the result
 *	("addr [name] {group}" joined by " | ") so a table row shows every
 *	address, display name and group the parser must return.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/mheader.h
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "mheader.h"
#include "zbuf.h"

START_TEST(test_split)
{
	static const char h[] =
		"From: a@example.org\r\n"
		"Subject: one\r\n two\r\n\tthree\r\n"
		"X-Empty:\r\n"
		"Obs-Name  : v\n"
		"To: b@example.org\r\n"
		"\r\n"
		"Body: not a field\r\n";
	mhdr_field f[8];
	size_t nf, body;
	zbuf u = ZBUF_INIT(100);

	ck_assert_int_eq(mhdr_split(h, sizeof h - 1, 1000, f, 8, &nf, &body, NULL), Z_OK);
	ck_assert_uint_eq(nf, 5);
	ck_assert(zspan_eq(f[0].name, "From"));
	ck_assert(zspan_eq(f[0].value, " a@example.org"));
	ck_assert(zspan_eq(f[0].raw, "From: a@example.org"));
	ck_assert(zspan_eq(f[1].value, " one\r\n two\r\n\tthree"));
	ck_assert(zspan_eq(f[2].name, "X-Empty"));
	ck_assert_uint_eq(f[2].value.n, 0);
	ck_assert(zspan_eq(f[3].name, "Obs-Name"));
	ck_assert(zspan_eq(f[3].value, " v"));
	ck_assert_int_eq(mhdr_name_is(&f[4], "to"), 1);
	ck_assert_str_eq(h + body, "Body: not a field\r\n");
	ck_assert_int_eq(mhdr_unfold(f[1].value, &u), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&u), "one two\tthree");
	zbuf_free(&u);
	/* header only, last field without a line end */
	ck_assert_int_eq(mhdr_split("A: 1\nB: 2", 9, 100, f, 8, &nf, &body, NULL), Z_OK);
	ck_assert_uint_eq(nf, 2);
	ck_assert(zspan_eq(f[1].value, " 2"));
	ck_assert_uint_eq(body, 9);
	/* LF-only and an empty header */
	ck_assert_int_eq(mhdr_split("\nbody", 5, 100, f, 8, &nf, &body, NULL), Z_OK);
	ck_assert_uint_eq(nf, 0);
	ck_assert_uint_eq(body, 1);
	ck_assert_int_eq(mhdr_split("", 0, 100, f, 8, &nf, &body, NULL), Z_OK);
	ck_assert_uint_eq(nf, 0);
	/* 8-bit bytes pass through */
	ck_assert_int_eq(mhdr_split("Subject: caf\xc3\xa9 =?utf-8?q?x?=\n\n", 30, 100, f, 8, &nf,
	    NULL, NULL), Z_OK);
	ck_assert(zspan_eq(f[0].value, " caf\xc3\xa9 =?utf-8?q?x?="));
}
END_TEST

START_TEST(test_split_bad)
{
	static const struct { const char *h; size_t max_field; size_t max_fields; int rc; } t[] = {
		{ " continued: x\n", 100, 8, Z_EPARSE },
		{ "From a@b Mon Jan 1\nX: y\n", 100, 8, Z_EPARSE },
		{ "A: 1\nno colon here\n", 100, 8, Z_EPARSE },
		{ ": empty name\n", 100, 8, Z_EPARSE },
		{ "Na\x01me: x\n", 100, 8, Z_EPARSE },
		{ "A: 1\nB: 2\nC: 3\n", 100, 2, Z_ETOOBIG },
		{ "Subject: 123456789\n", 17, 8, Z_ETOOBIG },
		{ "Subject: 1\n 2\n 3\n 4\n 5\n", 20, 8, Z_ETOOBIG },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		mhdr_field f[8];
		size_t nf;
		zbuf err = ZBUF_INIT(200);

		ck_assert_msg(mhdr_split(t[i].h, strlen(t[i].h), t[i].max_field, f, t[i].max_fields,
		    &nf, NULL, &err) == t[i].rc, "case %zu", i);
		ck_assert(err.len > 0);
		zbuf_free(&err);
	}
	/* an over-long field is skipped past, the next one is readable */
	{
		zcur c;
		mhdr_field f;
		const char *h = "Long: xxxxxxxxxxxxxxxxxxxxxxxxx\n yyyy\nShort: 1\n\n";

		zcur_init(&c, h, strlen(h));
		ck_assert_int_eq(mhdr_next(&c, 20, &f, NULL), Z_ETOOBIG);
		ck_assert(zspan_eq(f.name, "Long"));
		ck_assert_int_eq(mhdr_next(&c, 20, &f, NULL), Z_OK);
		ck_assert(zspan_eq(f.name, "Short"));
		ck_assert_int_eq(mhdr_next(&c, 20, &f, NULL), Z_ENOENT);
		ck_assert_uint_eq(c.pos, strlen(h));
	}
	/* exactly max_field is fine */
	{
		mhdr_field f[1];
		size_t nf;
		ck_assert_int_eq(mhdr_split("Subject: 12345678\n", 18, 17, f, 1, &nf, NULL, NULL), Z_OK);
	}
}
END_TEST

/* render - token kinds as letters: a atom, q quoted, c comment, d literal,
   the byte itself for a special */
static int render_tokens(const char *s, size_t n, char *out, size_t outsz)
{
	zcur c;
	mtok t;
	size_t k = 0;
	int rc;

	zcur_init(&c, s, n);
	while ((rc = mtok_next(&c, &t, NULL)) == Z_OK && t.kind != MTOK_END && k + 1 < outsz) {
		static const char letters[] = "?aqcd";
		out[k++] = t.kind == MTOK_SPECIAL ? (char)t.special : letters[t.kind];
	}
	out[k] = '\0';
	return rc;
}

START_TEST(test_tokens)
{
	static const struct { const char *in; const char *kinds; } good[] = {
		{ "", "" },
		{ "  \r\n\t ", "" },
		{ "John Doe <jdoe@example.org>", "aa<a@a.a>" },
		{ "\"a \\\" b\" (c (nested) \\) x) [1.2.3.4]", "qcd" },
		{ "a,b;c:d", "a,a;a:a" },
		{ "=?utf-8?q?caf=C3=A9?= x", "aa" },
		{ "caf\xc3\xa9", "a" },
		{ "a\x01" "b", "a\x01" "a" },
		{ "a)b]", "a)a]" },
		{ "\"fol\r\n ded\"", "q" },
	};
	static const char *const bad[] = {
		"\"open", "(open", "((x)", "[1.2.3.4", "\"a\\", "(a\\",
		"((((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))))",
		NULL
	};
	char out[64];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		ck_assert_int_eq(render_tokens(good[i].in, strlen(good[i].in), out, sizeof out), Z_OK);
		ck_assert_msg(strcmp(out, good[i].kinds) == 0, "\"%s\": %s", good[i].in, out);
	}
	for (size_t i = 0; bad[i] != NULL; i++)
		ck_assert_msg(render_tokens(bad[i], strlen(bad[i]), out, sizeof out) == Z_EPARSE,
		    "accepted \"%s\"", bad[i]);
	/* unquote */
	{
		zcur c;
		mtok t;
		zbuf b = ZBUF_INIT(64);
		const char *s = "\"a\\\"b\\\\c\r\n d\"";

		zcur_init(&c, s, strlen(s));
		ck_assert_int_eq(mtok_next(&c, &t, NULL), Z_OK);
		ck_assert_int_eq(t.kind, MTOK_QSTRING);
		ck_assert_int_eq(mtok_unquote(&t, &b), Z_OK);
		ck_assert_str_eq(zbuf_cstr(&b), "a\"b\\c d");
		zbuf_free(&b);
	}
}
END_TEST

/* render_addrs - the parse result as one line */
static int render_addrs(const char *v, char *out, size_t outsz, zbuf *err)
{
	zbuf text = ZBUF_INIT(4096);
	mhdr_addr a[16];
	size_t n = 0, k = 0;
	int rc = mhdr_addrlist(zspan_from(v), &text, a, 16, &n, err);

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + k, outsz - k, "%s%s%s%s%s%s%s%s", i ? " | " : "",
		    text.data + a[i].addr_off, a[i].has_domain ? "" : "(nodomain)",
		    a[i].name_len ? " [" : "", a[i].name_len ? text.data + a[i].name_off : "",
		    a[i].name_len ? "]" : "", a[i].in_group ? " {" : "",
		    a[i].in_group ? text.data + a[i].group_off : "");
		if (w < 0 || (size_t)w >= outsz - k)
			break;
		k += (size_t)w;
		if (a[i].in_group && k + 1 < outsz) {
			out[k++] = '}';
			out[k] = '\0';
		}
		ck_assert_uint_eq(strlen(text.data + a[i].addr_off), a[i].addr_len);
	}
	zbuf_free(&text);
	return rc;
}

START_TEST(test_addrlist)
{
	static const struct { const char *in; const char *out; } good[] = {
		{ "a@example.org", "a@example.org" },
		{ " a@example.org , b@example.org ", "a@example.org | b@example.org" },
		{ "John Doe <jdoe@example.org>", "jdoe@example.org [John Doe]" },
		{ "\"Doe, John\" <jdoe@example.org>", "jdoe@example.org [Doe, John]" },
		{ "jdoe@example.org (John Doe)", "jdoe@example.org" },
		{ "<jdoe@example.org>", "jdoe@example.org" },
		{ "John Q. Public <jqp@example.org>", "jqp@example.org [John Q. Public]" },
		{ "\"first.last\"@example.org", "first.last@example.org" },
		{ "\"a b\"@example.org", "\"a b\"@example.org" },
		{ "a . b @ example . org", "a.b@example.org" },
		{ "a(c1).b(c2)@(c3)example.org", "a.b@example.org" },
		{ "u@[192.0.2.1]", "u@[192.0.2.1]" },
		{ "u@[ 192.0.2 .1\r\n ]", "u@[192.0.2.1]" },
		{ "Team: a@example.org, B <b@example.org>;",
		  "a@example.org {Team} | b@example.org [B] {Team}" },
		{ "undisclosed-recipients:;", "" },
		{ "Team: a@example.org;, c@example.org", "a@example.org {Team} | c@example.org" },
		{ "Team: a@example.org", "a@example.org {Team}" },
		{ ", , a@example.org,,", "a@example.org" },
		{ "<@relay.example,@r2.example:joe@example.org>", "joe@example.org" },
		{ "Joe <>, a@example.org", "a@example.org" },
		{ "root", "root(nodomain)" },
		{ "root, <admin>", "root(nodomain) | admin(nodomain)" },
		{ "=?utf-8?q?J=C3=B6rg?= <j@example.org>", "j@example.org [=?utf-8?q?J=C3=B6rg?=]" },
		{ "J\xc3\xb6rg <j\xc3\xb6@b\xc3\xbc" "cher.example>",
		  "j\xc3\xb6@b\xc3\xbc" "cher.example [J\xc3\xb6rg]" },
		{ "a@example.org,\r\n b@example.org", "a@example.org | b@example.org" },
		{ "", "" },
		{ "(only a comment)", "" },
	};
	static const char *const bad[] = {
		"a@", "@example.org", "a@example.org b@example.org", "John Smith",
		"a@example..org", "<a@example.org", "a@example.org>", "G: x@y.z, H: a@b.c;;",
		"a;b", "a..b@example.org", "a.@example.org", "\"unterminated@example.org",
		"a@example.org (open", "a@b\x01" "c", "<@relay a@b>", "G1: G2: a@b;;", ": a@b;",
		NULL
	};
	char out[512];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		zbuf err = ZBUF_INIT(200);

		ck_assert_msg(render_addrs(good[i].in, out, sizeof out, &err) == Z_OK,
		    "refused \"%s\": %s", good[i].in, zbuf_cstr(&err));
		ck_assert_msg(strcmp(out, good[i].out) == 0, "\"%s\" gave \"%s\"", good[i].in, out);
		zbuf_free(&err);
	}
	for (size_t i = 0; bad[i] != NULL; i++) {
		zbuf err = ZBUF_INIT(200);

		ck_assert_msg(render_addrs(bad[i], out, sizeof out, &err) == Z_EPARSE,
		    "accepted \"%s\" as \"%s\"", bad[i], out);
		ck_assert(err.len > 0);
		zbuf_free(&err);
	}
}
END_TEST

START_TEST(test_addrlist_bounds)
{
	zbuf text = ZBUF_INIT(4096), err = ZBUF_INIT(200);
	mhdr_addr a[2];
	size_t n;

	ck_assert_int_eq(mhdr_addrlist(zspan_from("a@b.c, d@e.f, g@h.i"), &text, a, 2, &n, &err),
	    Z_ETOOBIG);
	ck_assert_uint_eq(n, 2);
	ck_assert(err.len > 0);
	zbuf_free(&text);
	zbuf_init(&text, 8);
	zbuf_reset(&err);
	ck_assert_int_eq(mhdr_addrlist(zspan_from("abcdef@example.org"), &text, a, 2, &n, &err),
	    Z_ETOOBIG);
	ck_assert(err.len > 0);
	zbuf_free(&text);
	zbuf_free(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mheader");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_split_bad);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_addrlist);
	tcase_add_test(tc, test_addrlist_bounds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
