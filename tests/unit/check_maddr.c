/*
 * NAME
 *	check_maddr - unit tests for RFC 5321 paths (mail/maddr.c)
 * SUMMARY
 *	Tables of paths that must parse (with their local part, domain and
 *	canonical form) and paths that must be refused (with the suggested
 *	enhanced status code), plus length limits and SMTPUTF8.
 * SYNOPSIS
 *	check_maddr (run by make check)
 * DESCRIPTION
 *	Every accepted path is formatted back and parsed again: the
 *	canonical form must be a fixed point.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/maddr.h
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "maddr.h"
#include "zbuf.h"

#define R MADDR_NULL_OK
#define F MADDR_POSTMASTER_OK
#define U MADDR_UTF8
#define NA MADDR_NO_ANGLE_OK

struct good {
	const char *in;
	unsigned flags;
	const char *local;     /* decoded */
	const char *domain;
	const char *canon;     /* maddr_format_path */
	size_t used;
};

static const struct good good[] = {
	{ "<user@example.org>", 0, "user", "example.org", "<user@example.org>", 18 },
	{ "<user@example.org> SIZE=100", 0, "user", "example.org", "<user@example.org>", 18 },
	{ "<>", R, "", "", "<>", 2 },
	{ "<> BODY=8BITMIME", R, "", "", "<>", 2 },
	{ "<Postmaster>", F, "Postmaster", "", "<Postmaster>", 12 },
	{ "<postmaster>", F, "postmaster", "", "<postmaster>", 12 },
	{ "<postmaster@example.org>", F, "postmaster", "example.org", "<postmaster@example.org>", 24 },
	{ "<@relay.example,@b.example:joe@example.org>", 0, "joe", "example.org", "<joe@example.org>", 43 },
	{ "<@relay.example:joe@example.org>", 0, "joe", "example.org", "<joe@example.org>", 32 },
	{ "<first.last@example.org>", 0, "first.last", "example.org", "<first.last@example.org>", 24 },
	{ "<\"first.last\"@example.org>", 0, "first.last", "example.org", "<first.last@example.org>", 26 },
	{ "<\"a b\"@example.org>", 0, "a b", "example.org", "<\"a b\"@example.org>", 19 },
	{ "<\"a\\\"b\"@example.org>", 0, "a\"b", "example.org", "<\"a\\\"b\"@example.org>", 20 },
	{ "<\"a\\bc\"@example.org>", 0, "abc", "example.org", "<abc@example.org>", 20 },
	{ "<\"a..b\"@example.org>", 0, "a..b", "example.org", "<\"a..b\"@example.org>", 20 },
	{ "<\"a<b>@c\"@example.org>", 0, "a<b>@c", "example.org", "<\"a<b>@c\"@example.org>", 22 },
	{ "<\"\"@example.org>", 0, "", "example.org", "<\"\"@example.org>", 16 },
	{ "<\"a\\\\b\"@x.example>", 0, "a\\b", "x.example", "<\"a\\\\b\"@x.example>", 18 },
	{ "<!#$%&'*+-/=?^_`{|}~@example.org>", 0, "!#$%&'*+-/=?^_`{|}~", "example.org",
	  "<!#$%&'*+-/=?^_`{|}~@example.org>", 33 },
	{ "<u@[192.0.2.1]>", 0, "u", "[192.0.2.1]", "<u@[192.0.2.1]>", 15 },
	{ "<u@[IPv6:2001:db8::1]>", 0, "u", "[IPv6:2001:db8::1]", "<u@[IPv6:2001:db8::1]>", 22 },
	{ "<J\xc3\xb6rg@b\xc3\xbc" "cher.example>", U, "J\xc3\xb6rg", "b\xc3\xbc" "cher.example",
	  "<J\xc3\xb6rg@b\xc3\xbc" "cher.example>", 23 },
	{ "<\"\xe2\x82\xac x\"@example.org>", U, "\xe2\x82\xac x", "example.org",
	  "<\"\xe2\x82\xac x\"@example.org>", 21 },
	{ "user@example.org", NA, "user", "example.org", "<user@example.org>", 16 },
	{ "user@example.org SIZE=1", NA, "user", "example.org", "<user@example.org>", 16 },
};

struct bad { const char *in; size_t len; unsigned flags; const char *enh; };

static const struct bad bad[] = {
	{ "", 0, 0, "5.1.3" },
	{ "<>", 2, 0, "5.1.3" },
	{ "<>", 2, F, "5.1.3" },
	{ "<postmaster>", 12, R, "5.1.7" },
	{ "<postmaster>", 12, 0, "5.1.3" },
	{ "user@example.org", 16, 0, "5.1.3" },
	{ "<user@example.org", 17, 0, "5.1.3" },
	{ "<user>", 6, 0, "5.1.3" },
	{ "<@example.org>", 14, 0, "5.1.3" },
	{ "<user@>", 7, 0, "5.1.3" },
	{ "<.user@example.org>", 19, 0, "5.1.3" },
	{ "<user.@example.org>", 19, 0, "5.1.3" },
	{ "<us..er@example.org>", 20, 0, "5.1.3" },
	{ "<us er@example.org>", 19, 0, "5.1.3" },
	{ "<user@exa mple.org>", 19, 0, "5.1.3" },
	{ "<user@example.org.>", 19, 0, "5.1.3" },
	{ "<user@-example.org>", 19, 0, "5.1.3" },
	{ "<user@example.org>x", 19, 0, "5.1.3" },
	{ "<user@example.org>>", 19, 0, "5.1.3" },
	{ "<a@b@example.org>", 17, 0, "5.1.3" },
	{ "<\"abc@example.org>", 18, 0, "5.1.3" },
	{ "<\"a\tb\"@example.org>", 19, 0, "5.1.3" },
	{ "<\"a\\\x01\"@example.org>", 19, 0, "5.1.3" },
	{ "<u\r\n@example.org>", 17, 0, "5.1.3" },
	{ "<u@example.org\r\n>", 17, 0, "5.1.3" },
	{ "<u\0@example.org>", 16, 0, "5.1.3" },
	{ "<u@[192.0.2.1>", 14, 0, "5.1.3" },
	{ "<u@[300.1.1.1]>", 15, 0, "5.1.3" },
	{ "<u@[192.0.2.1]x>", 16, 0, "5.1.3" },
	{ "<@a.example:>", 13, 0, "5.1.3" },
	{ "<@a.example,b.example:u@example.org>", 36, 0, "5.1.3" },
	{ "<@:u@example.org>", 17, 0, "5.1.3" },
	{ "<@a.example u@example.org>", 26, 0, "5.1.3" },
	{ "<<u@example.org>>", 17, 0, "5.1.3" },
	{ "<J\xc3\xb6rg@example.org>", 19, 0, "5.6.7" },
	{ "<j@b\xc3\xbc" "cher.example>", 20, R, "5.6.7" },
	{ "<J\xc3rg@example.org>", 18, U, "5.6.7" },
	{ "<J\xc0\xafrg@example.org>", 19, U, "5.6.7" },
	{ "<j@b\xed\xa0\x80.example>", 17, U, "5.6.7" },
	{ "<j@[\xc3\xbc]>", 9, U, "5.1.3" },
	{ "user@example.org x", 18, 0, "5.1.3" },
	{ "us er@example.org", 17, NA, "5.1.3" },
};

START_TEST(test_good)
{
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		maddr a, b;
		zbuf err = ZBUF_INIT(256), out = ZBUF_INIT(600);
		size_t used = 99;
		const struct good *g = &good[i];

		ck_assert_msg(maddr_parse_path(g->in, strlen(g->in), g->flags, &a, &used, &err) == Z_OK,
		    "refused %s: %s", g->in, zbuf_cstr(&err));
		ck_assert_str_eq(a.local, g->local);
		ck_assert_uint_eq(a.local_len, strlen(g->local));
		ck_assert_str_eq(a.domain, g->domain);
		ck_assert_uint_eq(used, g->used);
		ck_assert_int_eq(maddr_format_path(&a, &out), Z_OK);
		ck_assert_str_eq(zbuf_cstr(&out), g->canon);
		/* the canonical form parses to the same address */
		ck_assert_int_eq(maddr_parse_path(out.data, out.len, g->flags & ~MADDR_NO_ANGLE_OK,
		    &b, NULL, NULL), Z_OK);
		ck_assert_int_eq(b.kind, a.kind);
		ck_assert_str_eq(b.local, a.local);
		ck_assert_str_eq(b.domain, a.domain);
		zbuf_free(&err);
		zbuf_free(&out);
	}
}
END_TEST

START_TEST(test_bad)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		maddr a;
		zbuf err = ZBUF_INIT(256);
		size_t used = 99;

		ck_assert_msg(maddr_parse_path(bad[i].in, bad[i].len, bad[i].flags, &a, &used, &err)
		    == Z_EPARSE, "accepted %zu: \"%s\"", i, bad[i].in);
		ck_assert_msg(err.len > 0, "no reason for %zu", i);
		ck_assert_uint_eq(used, 0);
		ck_assert_msg(a.enh != NULL && strcmp(a.enh, bad[i].enh) == 0,
		    "case %zu \"%s\": enh %s, want %s (%s)", i, bad[i].in, a.enh ? a.enh : "(null)",
		    bad[i].enh, zbuf_cstr(&err));
		ck_assert_uint_eq(a.local_len, 0);
		zbuf_free(&err);
	}
}
END_TEST

START_TEST(test_kinds_and_flags)
{
	maddr a;
	zbuf out = ZBUF_INIT(100);

	ck_assert_int_eq(maddr_parse_path("<>", 2, R, &a, NULL, NULL), Z_OK);
	ck_assert_int_eq(a.kind, MADDR_NULLPATH);
	ck_assert_int_eq(maddr_format(&a, &out), Z_OK);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(maddr_parse_path("<Postmaster>", 12, F, &a, NULL, NULL), Z_OK);
	ck_assert_int_eq(a.kind, MADDR_POSTMASTER);
	ck_assert_int_eq(maddr_parse_path("<@x.example:u@[IPv6:::1]>", 25, 0, &a, NULL, NULL), Z_OK);
	ck_assert_int_eq(a.kind, MADDR_MAILBOX);
	ck_assert_int_eq(a.routed, 1);
	ck_assert_int_eq(a.host.kind, MHOST_IPV6);
	ck_assert_int_eq(maddr_parse_path("<\"x\"@example.org>", 17, 0, &a, NULL, NULL), Z_OK);
	ck_assert_int_eq(a.quoted, 1);
	ck_assert_int_eq(a.utf8, 0);
	ck_assert_int_eq(maddr_parse_path("<\xc3\xa9@example.org>", 16, U, &a, NULL, NULL), Z_OK);
	ck_assert_int_eq(a.utf8, 1);
	ck_assert(a.raw_local.n == 2 && a.raw_domain.n == 11);
	zbuf_free(&out);
}
END_TEST

START_TEST(test_lengths)
{
	char buf[400], local[80];
	maddr a;
	size_t n;

	/* local part: 64 octets as written, quotes included */
	memset(local, 'a', 64);
	n = (size_t)snprintf(buf, sizeof buf, "<%.64s@example.org>", local);
	ck_assert_int_eq(maddr_parse_path(buf, n, 0, &a, NULL, NULL), Z_OK);
	ck_assert_uint_eq(a.local_len, 64);
	memset(local, 'a', sizeof local - 1);
	local[sizeof local - 1] = '\0';
	n = (size_t)snprintf(buf, sizeof buf, "<%.65s@example.org>", local);
	ck_assert_int_eq(maddr_parse_path(buf, n, 0, &a, NULL, NULL), Z_EPARSE);
	n = (size_t)snprintf(buf, sizeof buf, "<\"%.62s\"@example.org>", local);
	ck_assert_int_eq(maddr_parse_path(buf, n, 0, &a, NULL, NULL), Z_OK);
	n = (size_t)snprintf(buf, sizeof buf, "<\"%.63s\"@example.org>", local);
	ck_assert_int_eq(maddr_parse_path(buf, n, 0, &a, NULL, NULL), Z_EPARSE);
	/* path: 256 octets with the brackets */
	{
		char dom[300];
		size_t k = 0;
		/* "<u@" + domain + ">" = 256 -> domain 252 */
		for (k = 0; k < 252; k++)
			dom[k] = (k % 50 == 49) ? '.' : 'd';
		dom[k] = '\0';
		n = (size_t)snprintf(buf, sizeof buf, "<u@%s>", dom);
		ck_assert_uint_eq(n, 256);
		ck_assert_int_eq(maddr_parse_path(buf, n, 0, &a, NULL, NULL), Z_OK);
		n = (size_t)snprintf(buf, sizeof buf, "<uu@%s>", dom);
		ck_assert_int_eq(maddr_parse_path(buf, n, 0, &a, NULL, NULL), Z_EPARSE);
		n = (size_t)snprintf(buf, sizeof buf, "<@r.example:u@%s>", dom);
		ck_assert_int_eq(maddr_parse_path(buf, n, 0, &a, NULL, NULL), Z_EPARSE);
	}
}
END_TEST

START_TEST(test_parse_addr_and_quote)
{
	maddr a;
	zbuf out = ZBUF_INIT(100);

	ck_assert_int_eq(maddr_parse_addr("a.b@example.org", 15, 0, &a, NULL), Z_OK);
	ck_assert_str_eq(a.local, "a.b");
	ck_assert_int_eq(maddr_parse_addr("<a@example.org>", 15, 0, &a, NULL), Z_EPARSE);
	ck_assert_int_eq(maddr_parse_addr("a@example.org ", 14, 0, &a, NULL), Z_EPARSE);
	ck_assert_int_eq(maddr_parse_addr("a", 1, 0, &a, NULL), Z_EPARSE);
	ck_assert_int_eq(maddr_local_needs_quote("a.b", 3), 0);
	ck_assert_int_eq(maddr_local_needs_quote("a..b", 4), 1);
	ck_assert_int_eq(maddr_local_needs_quote(".a", 2), 1);
	ck_assert_int_eq(maddr_local_needs_quote("", 0), 1);
	ck_assert_int_eq(maddr_local_needs_quote("a(b)", 4), 1);
	ck_assert_int_eq(maddr_put_local(&out, "x\"y\\z w", 7), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "\"x\\\"y\\\\z w\"");
	zbuf_free(&out);
	/* a full output buffer is left as it was */
	{
		zbuf small = ZBUF_INIT(6);
		ck_assert_int_eq(maddr_parse_addr("abc@example.org", 15, 0, &a, NULL), Z_OK);
		zbuf_puts(&small, "x");
		ck_assert_int_eq(maddr_format_path(&a, &small), Z_ETOOBIG);
		ck_assert_str_eq(zbuf_cstr(&small), "x");
		zbuf_free(&small);
	}
}
END_TEST

START_TEST(test_utf8)
{
	ck_assert_int_eq(mutf8_valid("abc", 3), 1);
	ck_assert_int_eq(mutf8_valid("\xc3\xa9", 2), 1);
	ck_assert_int_eq(mutf8_valid("\xf0\x9f\x98\x80", 4), 1);
	ck_assert_int_eq(mutf8_valid("\xc3", 1), 0);
	ck_assert_int_eq(mutf8_valid("\xc0\x80", 2), 0);
	ck_assert_int_eq(mutf8_valid("\xe0\x80\xaf", 3), 0);
	ck_assert_int_eq(mutf8_valid("\xed\xa0\x80", 3), 0);
	ck_assert_int_eq(mutf8_valid("\xf4\x90\x80\x80", 4), 0);
	ck_assert_int_eq(mutf8_valid("\xff", 1), 0);
	ck_assert_int_eq(mutf8_valid("\x80", 1), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("maddr");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_kinds_and_flags);
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_parse_addr_and_quote);
	tcase_add_test(tc, test_utf8);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
