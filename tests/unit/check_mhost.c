/*
 * NAME
 *	check_mhost - unit tests for the RFC 5321 host grammar
 * SUMMARY
 *	Tables of hosts that must be accepted and refused, with the kind and
 *	address an accepted literal yields.
 * SYNOPSIS
 *	check_mhost (run by make check)
 * DESCRIPTION
 *	The refused table holds every shape that must never reach an argv or
 *	a connect: options, ports, UNIX: paths, blanks, control bytes.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/mhost.h
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>
#include "mhost.h"
#include "zbuf.h"

static const char *const good[] = {
	"example.org", "example.org.", "a", "mx-1.example.org", "_dmarc.example.org",
	"xn--bcher-kva.example", "1.2.3.4.example", "localhost",
	"[192.0.2.1]", "[IPv6:2001:db8::1]", "[ipv6:::1]", "[IPv6:::ffff:127.0.0.1]",
	NULL
};

static const char *const bad[] = {
	"", "-l/any/path", "-F", "-", "a b", "a\tb", "exa\nmple", "ex\rample",
	"UNIX:/tmp/sock", "[127.0.0.1]:25", "example.org:25", "host/..", "..",
	".example.org", "a..b", "example.org..", "-a.example", "a-.example",
	"a.-b", "[]", "[192.0.2.1", "[2001:db8::1]", "[IPv6:zz::1]", "[1.2.3]",
	"[foo:bar]", "b\xc3\xbc" "cher.example", "a\x7f", "a@b", "%eth0",
	NULL
};

START_TEST(test_good)
{
	for (size_t i = 0; good[i] != NULL; i++) {
		zbuf err = ZBUF_INIT(256);
		ck_assert_msg(mhost_parse(good[i], strlen(good[i]), NULL, &err) == Z_OK,
		    "refused %s: %s", good[i], zbuf_cstr(&err));
		ck_assert_int_eq(mhost_valid(good[i]), 1);
		zbuf_free(&err);
	}
}
END_TEST

START_TEST(test_bad)
{
	for (size_t i = 0; bad[i] != NULL; i++) {
		zbuf err = ZBUF_INIT(256);
		ck_assert_msg(mhost_parse(bad[i], strlen(bad[i]), NULL, &err) == Z_EPARSE,
		    "accepted \"%s\"", bad[i]);
		ck_assert_msg(err.len > 0, "no reason for \"%s\"", bad[i]);
		ck_assert_int_eq(mhost_valid(bad[i]), 0);
		zbuf_free(&err);
	}
}
END_TEST

START_TEST(test_embedded_nul_and_lengths)
{
	char name[300];
	char label[70];

	ck_assert_int_eq(mhost_parse("ab\0cd", 5, NULL, NULL), Z_EPARSE);
	ck_assert_int_eq(mhost_parse("[1.2.3.4\0]", 10, NULL, NULL), Z_EPARSE);
	ck_assert_int_eq(mhost_parse(NULL, 0, NULL, NULL), Z_EPARSE);
	memset(label, 'a', 63);
	ck_assert_int_eq(mhost_parse(label, 63, NULL, NULL), Z_OK);
	memset(label, 'a', 64);
	ck_assert_int_eq(mhost_parse(label, 64, NULL, NULL), Z_EPARSE);
	for (size_t i = 0; i < sizeof name; i++)
		name[i] = (i % 10 == 9) ? '.' : 'b';
	ck_assert_int_eq(mhost_parse(name, 255, NULL, NULL), Z_OK);
	ck_assert_int_eq(mhost_parse(name, 256, NULL, NULL), Z_EPARSE);
}
END_TEST

START_TEST(test_literal_values)
{
	mhost h;
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(mhost_parse("[192.0.2.7]", 11, &h, NULL), Z_OK);
	ck_assert_int_eq(h.kind, MHOST_IPV4);
	inet_ntop(AF_INET, &h.v4, buf, sizeof buf);
	ck_assert_str_eq(buf, "192.0.2.7");
	ck_assert_int_eq(mhost_parse("[IPv6:2001:db8::7]", 18, &h, NULL), Z_OK);
	ck_assert_int_eq(h.kind, MHOST_IPV6);
	inet_ntop(AF_INET6, &h.v6, buf, sizeof buf);
	ck_assert_str_eq(buf, "2001:db8::7");
	ck_assert_int_eq(mhost_parse("mx.example", 10, &h, NULL), Z_OK);
	ck_assert_int_eq(h.kind, MHOST_DOMAIN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mhost");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_embedded_nul_and_lengths);
	tcase_add_test(tc, test_literal_values);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
