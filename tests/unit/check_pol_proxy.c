/*
 * NAME
 *	check_pol_proxy - unit tests for the PROXY protocol parser
 * SUMMARY
 *	v1 and v2 vectors from the protocol's description: TCP4, TCP6,
 *	UNKNOWN, LOCAL; length and syntax errors; every prefix of a good
 *	header is "incomplete", never an error or a success.
 * SYNOPSIS
 *	check_pol_proxy (run by make check)
 * DESCRIPTION
 *	Table rows give the bytes, the expected status, bytes consumed and
 *	the "src sport dst dport" text.
 * DIAGNOSTICS
 *	libcheck's report.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtpserver/pol_proxy.h
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "pol_proxy.h"
#include "runsuite.h"

#define V2SIG "\r\n\r\n\0\r\nQUIT\n"

static const struct {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen */
	int rc;
	size_t used;
	const char *addrs; /* "src:port>dst:port", "local" */
} cases[] = {
	{ "v1 tcp4", "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nEHLO", 0, Z_OK, 44, "192.0.2.1:56324>198.51.100.2:25" },
	{ "v1 tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 4242 587\r\n", 0, Z_OK, 45, "2001:db8::1:4242>2001:db8::2:587" },
	{ "v1 unknown", "PROXY UNKNOWN\r\n", 0, Z_OK, 15, "local" },
	{ "v1 unknown+addr", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nX", 0, Z_OK, 35, "local" },
	{ "v1 port 0/65535", "PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n", 0, Z_OK, 36, "1.2.3.4:0>5.6.7.8:65535" },
	{ "v1 port too big", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 25\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 025 25\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 v6 in tcp4", "PROXY TCP4 ::1 ::2 1 2\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 v4 in tcp6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 two spaces", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 udp", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 bare CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", 0, Z_EPARSE, 0, NULL },
	{ "v1 lowercase", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, Z_EPARSE, 0, NULL },
	{ "not proxy", "EHLO example.org\r\n", 0, Z_EPARSE, 0, NULL },
	{ "P but not proxy", "POST / HTTP/1.0\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 8-bit", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x80\r\n", 0, Z_EPARSE, 0, NULL },
	{ "v1 107 bytes ok",
	  "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
	  0, Z_OK, 107, "local" },
	{ "v1 108 bytes", "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
	  0, Z_EPARSE, 0, NULL },
	{ "v2 tcp4", V2SIG "\x21\x11\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04\x00\x19" "EHLO", 32, Z_OK, 28,
	  "192.0.2.1:56324>198.51.100.2:25" },
	{ "v2 tcp4 + tlv", V2SIG "\x21\x11\x00\x12\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04\x00\x19\x04\x00\x03" "abc", 34, Z_OK,
	  34, "192.0.2.1:56324>198.51.100.2:25" },
	{ "v2 tcp6", V2SIG "\x21\x21\x00\x24"
		     "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
		     "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02"
		     "\x10\x92\x02\x4b", 52, Z_OK, 52, "2001:db8::1:4242>2001:db8::2:587" },
	{ "v2 local", V2SIG "\x20\x00\x00\x00", 16, Z_OK, 16, "local" },
	{ "v2 local with addrs", V2SIG "\x20\x11\x00\x0c" "123456789012", 28, Z_OK, 28, "local" },
	{ "v2 unspec", V2SIG "\x21\x00\x00\x00", 16, Z_OK, 16, "local" },
	{ "v2 udp4", V2SIG "\x21\x12\x00\x0c" "123456789012", 28, Z_EPARSE, 0, NULL },
	{ "v2 version 1", V2SIG "\x11\x11\x00\x0c" "123456789012", 28, Z_EPARSE, 0, NULL },
	{ "v2 command 2", V2SIG "\x22\x11\x00\x0c" "123456789012", 28, Z_EPARSE, 0, NULL },
	{ "v2 tcp4 short", V2SIG "\x21\x11\x00\x08" "12345678", 24, Z_EPARSE, 0, NULL },
	{ "v2 tcp6 short", V2SIG "\x21\x21\x00\x0c" "123456789012", 28, Z_EPARSE, 0, NULL },
	{ "v2 over bound", V2SIG "\x21\x11\xff\xff", 16, Z_EPARSE, 0, NULL },
	{ "v2 body missing", V2SIG "\x21\x11\x00\x0c" "1234", 20, Z_EAGAIN, 0, NULL },
	{ "v2 bad sig", "\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x00", 16, Z_EPARSE, 0, NULL },
};

/* fmt - "src:port>dst:port" or "local" */
static void fmt(const pol_proxy_info *pi, char *out, size_t n)
{
	char s[64], d[64];

	if (pi->local) {
		snprintf(out, n, "local");
		return;
	}
	ck_assert_int_eq(pol_proxy_addr_str(&pi->src, s, sizeof(s)), Z_OK);
	ck_assert_int_eq(pol_proxy_addr_str(&pi->dst, d, sizeof(d)), Z_OK);
	if (pi->family == AF_INET)
		snprintf(out, n, "%s:%u>%s:%u", s, ntohs(((const struct sockaddr_in *)&pi->src)->sin_port), d,
			 ntohs(((const struct sockaddr_in *)&pi->dst)->sin_port));
	else
		snprintf(out, n, "%s:%u>%s:%u", s, ntohs(((const struct sockaddr_in6 *)&pi->src)->sin6_port), d,
			 ntohs(((const struct sockaddr_in6 *)&pi->dst)->sin6_port));
}

START_TEST(test_vectors)
{
	pol_proxy_info pi;
	zbuf err = ZBUF_INIT(256);
	size_t len = cases[_i].len ? cases[_i].len : strlen(cases[_i].in), used = 99;
	char got[200];
	int rc = pol_proxy_parse(cases[_i].in, len, &pi, &used, &err);

	ck_assert_msg(rc == cases[_i].rc, "%s: rc %d want %d (%s)", cases[_i].name, rc, cases[_i].rc, zbuf_cstr(&err));
	if (rc == Z_OK) {
		ck_assert_msg(used == cases[_i].used, "%s: used %zu want %zu", cases[_i].name, used, cases[_i].used);
		fmt(&pi, got, sizeof(got));
		ck_assert_str_eq(got, cases[_i].addrs);
		/* every shorter prefix is incomplete */
		for (size_t n = 0; n < used; n++) {
			int r2 = pol_proxy_parse(cases[_i].in, n, &pi, &used, &err);
			ck_assert_msg(r2 == Z_EAGAIN, "%s: prefix %zu gave %d", cases[_i].name, n, r2);
		}
	} else {
		ck_assert_int_eq(used, 0);
	}
	zbuf_free(&err);
}
END_TEST

START_TEST(test_v1_no_crlf_at_bound)
{
	char buf[200];
	pol_proxy_info pi;
	size_t used;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(pol_proxy_parse(buf, 106, &pi, &used, NULL), Z_EAGAIN);
	ck_assert_int_eq(pol_proxy_parse(buf, 107, &pi, &used, NULL), Z_EPARSE);
	ck_assert_int_eq(pol_proxy_parse(buf, 200, &pi, &used, NULL), Z_EPARSE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pol_proxy");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_vectors, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_v1_no_crlf_at_bound);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
