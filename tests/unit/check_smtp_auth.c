/*
 * NAME
 *	check_smtp_auth - unit tests of the smtp agent's AUTH secrets file
 *	and TLS name matching
 * SUMMARY
 *	Tables for the secrets-file line parser (base64 fields, flags), the
 *	remotehost matcher (names, wildcards, address literals, ports), the
 *	first-match lookup over a file's text and over a real file (mode and
 *	owner checks), the mechanism choice per TLS state, the reference
 *	identities of the TLS levels and certificate name matching with
 *	in-memory certificates (RFC 6125 wildcards); reply-code mapping
 *	(smtp_code_map).
 * SECURITY
 *	Test code; inputs are the tables below.  Files are made in the
 *	run's scratch directory.
 * SEE ALSO
 *	smtpclient/smtp_auth.c, smtp_sess.c, smtp/smtp_tls.c, smtp(8)
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "smtp.h"
#include "scratch.h"

/* ---- line parser ---- */
static const struct { const char *line; int rc; const char *user, *secret; unsigned flags; } line_tab[] = {
	{ "smtp mx.example.net YWxpY2U= czNjcmV0", Z_OK, "alice", "s3cret", 0 },
	{ "* [192.0.2.1] YWxpY2U= cGFzcyB3b3Jk", Z_OK, "alice", "pass word", 0 },
	{ "*  *.example.net\tYWxpY2U=   czNjcmV0  tls=any", Z_OK, "alice", "s3cret", AUTHF_TLS_ANY },
	{ "* * YWxpY2U= czNjcmV0 clear", Z_OK, "alice", "s3cret", AUTHF_CLEAR },
	{ "* * YWxpY2U= czNjcmV0 tls=any,clear", Z_OK, "alice", "s3cret", AUTHF_TLS_ANY | AUTHF_CLEAR },
	{ "* * YWxpY2U= czNjcmV0 tls=verified", Z_OK, "alice", "s3cret", 0 },
	{ "* * YWxpY2U= czNjcmV0 plain-clear", Z_OK, "alice", "s3cret",
	  AUTHF_PLAIN_CLEAR | AUTHF_CLEAR | AUTHF_TLS_ANY },
	{ "* mx.example.net:587 YWxpY2U= czNjcmV0", Z_OK, "alice", "s3cret", 0 },
	/* bad lines */
	{ "smtp mx.example.net alice s3cret", Z_EPARSE, NULL, NULL, 0 },     /* literal, not base64 */
	{ "smtp mx.example.net YWxpY2U=", Z_EPARSE, NULL, NULL, 0 },
	{ "smtp mx.example.net", Z_EPARSE, NULL, NULL, 0 },
	{ "* * YWxpY2U= czNjcmV0 bogus", Z_EPARSE, NULL, NULL, 0 },
	{ "* * YWxpY2U= czNjcmV0 clear extra", Z_EPARSE, NULL, NULL, 0 },
	{ "* * YWxpY2U= czNjcmV0 tls=any,,", Z_EPARSE, NULL, NULL, 0 },
	{ "* * YmFkCnVzZXI= czNjcmV0", Z_EPARSE, NULL, NULL, 0 },           /* LF in user */
	{ "* * YWxpY2U= YQBi", Z_EPARSE, NULL, NULL, 0 },                   /* NUL in secret */
	{ "* * YWxpY2U= czNjcmV", Z_EPARSE, NULL, NULL, 0 },                /* bad length */
	{ "* [192.0.2.x] YWxpY2U= czNjcmV0", Z_EPARSE, NULL, NULL, 0 },
};

START_TEST(test_parse_line)
{
	smtp_auth_entry e;
	zbuf err = ZBUF_INIT(256);
	int rc = smtp_auth_parse_line(zspan_from(line_tab[_i].line), &e, &err);

	ck_assert_msg(rc == line_tab[_i].rc, "'%s': rc %d (%s)", line_tab[_i].line, rc,
		      zbuf_cstr(&err));
	if (rc == Z_OK) {
		ck_assert_str_eq(e.user, line_tab[_i].user);
		ck_assert_str_eq(e.secret, line_tab[_i].secret);
		ck_assert_uint_eq(e.flags, line_tab[_i].flags);
	} else {
		/* a refused line leaves nothing behind and names no secret */
		ck_assert_str_eq(e.secret, "");
		ck_assert_ptr_null(strstr(zbuf_cstr(&err), "czNjcmV0"));
		ck_assert(err.len > 0);
	}
	zbuf_free(&err);
}
END_TEST

/* ---- host normalisation and matching ---- */
static const struct { const char *in, *out; } norm_tab[] = {
	{ "MX.Example.NET", "mx.example.net" },
	{ "mx.example.net.", "mx.example.net" },
	{ "mx.example.net:587", "mx.example.net" },
	{ "[127.0.0.1]", "[127.0.0.1]" },
	{ "[127.0.0.1]:2525", "[127.0.0.1]" },
	{ "127.0.0.1", "[127.0.0.1]" },
	{ "[IPv6:2001:DB8::1]", "[2001:db8::1]" },
	{ "2001:db8:0::1", "[2001:db8::1]" },
	{ "[ipv6:2001:db8::1]:25", "[2001:db8::1]" },
};

START_TEST(test_norm)
{
	char out[300];
	ck_assert_int_eq(smtp_host_norm(norm_tab[_i].in, out, sizeof(out)), Z_OK);
	ck_assert_str_eq(out, norm_tab[_i].out);
}
END_TEST

static const struct { const char *pat, *host; int m; } match_tab[] = {
	{ "*", "anything.example", 1 },
	{ "*", "[192.0.2.1]", 1 },
	{ "mx.example.net", "MX.EXAMPLE.NET", 1 },
	{ "mx.example.net", "mx.example.net.", 1 },
	{ "mx.example.net", "mx.example.net:587", 1 },
	{ "mx.example.net", "mx2.example.net", 0 },
	{ "mx.example.net", "example.net", 0 },
	{ "*.example.net", "mx.example.net", 1 },
	{ "*.example.net", "a.b.example.net", 1 },
	{ "*.example.net", "example.net", 0 },
	{ "*.example.net", "badexample.net", 0 },
	{ "*.example.net", "[192.0.2.1]", 0 },
	{ "[127.0.0.1]", "[127.0.0.1]:2525", 1 },     /* -F [ip]:port */
	{ "[127.0.0.1]", "127.0.0.1", 1 },            /* address without brackets */
	{ "127.0.0.1", "[127.0.0.1]", 1 },
	{ "[127.0.0.1]", "[127.0.0.2]", 0 },
	{ "[IPv6:2001:db8::1]", "2001:db8:0:0::1", 1 },
	{ "relay.example.net", "relay.example.net:2525", 1 },  /* -F host:port */
	{ "[127.0.0.1]", "", 0 },
};

START_TEST(test_host_match)
{
	ck_assert_msg(smtp_auth_host_match(match_tab[_i].pat, match_tab[_i].host) == match_tab[_i].m,
		      "%s vs %s", match_tab[_i].pat, match_tab[_i].host);
}
END_TEST

/* ---- lookup over a file's text ---- */
static const char file_text[] =
	"# secrets\n"
	"\n"
	"relay [127.0.0.1] cmVsYXk= czNjcmV0\n"
	"smtp mx.example.net bXg= czNjcmV0\n"
	"smtp example.org ZG9t czNjcmV0 tls=any\n"
	"* *.example.com d2lsZA== czNjcmV0\n"
	"smtp 192.0.2.9 aXA= czNjcmV0 clear\n";

static const struct { const char *ch, *mx, *dest, *ip; int rc; const char *user; int line; } find_tab[] = {
	{ "smtp", "mx.example.net", "example.net", "192.0.2.1", Z_OK, "mx", 4 },
	{ "smtp", "mx.provider.net", "example.org", "192.0.2.2", Z_OK, "dom", 5 },
	{ "smtp", "a.example.com", "example.com", "192.0.2.3", Z_OK, "wild", 6 },
	{ "smtp", "mx.other.net", "other.net", "192.0.2.9", Z_OK, "ip", 7 },
	{ "relay", "[127.0.0.1]:2525", "[127.0.0.1]:2525", "127.0.0.1", Z_OK, "relay", 3 },
	{ "smtp", "[127.0.0.1]:2525", "[127.0.0.1]:2525", "127.0.0.1", Z_ENOENT, NULL, 0 },
	{ "smtp", "mx.other.net", "other.net", "192.0.2.10", Z_ENOENT, NULL, 0 },
};

START_TEST(test_find)
{
	smtp_auth_target t = { find_tab[_i].ch, find_tab[_i].mx, find_tab[_i].dest, find_tab[_i].ip };
	smtp_auth_entry e;
	zbuf err = ZBUF_INIT(256);
	int rc = smtp_auth_find("f", file_text, sizeof(file_text) - 1, &t, &e, &err);

	ck_assert_msg(rc == find_tab[_i].rc, "row %d: rc %d (%s)", _i, rc, zbuf_cstr(&err));
	if (rc == Z_OK) {
		ck_assert_str_eq(e.user, find_tab[_i].user);
		ck_assert_str_eq(e.secret, "s3cret");
		ck_assert_int_eq(e.lineno, find_tab[_i].line);
	} else {
		ck_assert_str_eq(e.secret, "");
	}
	zbuf_free(&err);
}
END_TEST

START_TEST(test_find_badline)
{
	static const char bad[] = "* x.example YWxpY2U= czNjcmV0\n* y.example alice s3cret\n";
	smtp_auth_target t = { "smtp", "y.example", "y.example", "192.0.2.1" };
	smtp_auth_entry e;
	zbuf err = ZBUF_INIT(256);

	ck_assert_int_eq(smtp_auth_find("sec", bad, sizeof(bad) - 1, &t, &e, &err), Z_EPARSE);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "sec:2:"));
	ck_assert_ptr_null(strstr(zbuf_cstr(&err), "s3cret"));
	zbuf_free(&err);
}
END_TEST

/* ---- the file itself: mode and owner ---- */
START_TEST(test_check_mode)
{
	zbuf err = ZBUF_INIT(256);
	ck_assert_int_eq(smtp_auth_check_mode(S_IFREG | 0600, 1000, 1000, &err), Z_OK);
	ck_assert_int_eq(smtp_auth_check_mode(S_IFREG | 0400, 0, 1000, &err), Z_OK);
	ck_assert_int_eq(smtp_auth_check_mode(S_IFREG | 0640, 1000, 1000, &err), Z_ERR);
	ck_assert_int_eq(smtp_auth_check_mode(S_IFREG | 0604, 1000, 1000, &err), Z_ERR);
	ck_assert_int_eq(smtp_auth_check_mode(S_IFREG | 0620, 1000, 1000, &err), Z_ERR);
	ck_assert_int_eq(smtp_auth_check_mode(S_IFREG | 0600, 1001, 1000, &err), Z_ERR);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_lookup_file)
{
	char dir[512], path[600];
	const char *tmp = getenv("TMPDIR");
	smtp_auth_target t = { "smtp", "mx.example.net", "example.net", "192.0.2.1" };
	smtp_auth_entry e;
	zbuf err = ZBUF_INIT(512);
	int fd;

	snprintf(dir, sizeof(dir), "%s/authXXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secrets", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, file_text, sizeof(file_text) - 1), (ssize_t)(sizeof(file_text) - 1));
	close(fd);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(smtp_auth_lookup(path, &t, &e, &err), Z_OK);
	ck_assert_str_eq(e.user, "mx");
	/* readable by the group or others: refused with a reason */
	ck_assert_int_eq(chmod(path, 0640), 0);
	zbuf_reset(&err);
	ck_assert_int_eq(smtp_auth_lookup(path, &t, &e, &err), Z_ERR);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "group or others"));
	ck_assert_str_eq(e.secret, "");
	ck_assert_int_eq(chmod(path, 0604), 0);
	zbuf_reset(&err);
	ck_assert_int_eq(smtp_auth_lookup(path, &t, &e, &err), Z_ERR);
	/* a symlink is not followed */
	{
		char link[700];
		snprintf(link, sizeof(link), "%s/link", dir);
		ck_assert_int_eq(chmod(path, 0600), 0);
		ck_assert_int_eq(symlink(path, link), 0);
		zbuf_reset(&err);
		ck_assert_int_eq(smtp_auth_lookup(link, &t, &e, &err), Z_EIO);
	}
	zbuf_free(&err);
}
END_TEST

/* ---- mechanism choice ---- */
START_TEST(test_pick)
{
	unsigned all = AUTHM_PLAIN | AUTHM_LOGIN | AUTHM_CRAMMD5;
	ck_assert_uint_eq(smtp_auth_pick(all, STLS_OFF, 0), 0);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_CRAMMD5, STLS_OFF, 0), 0);      /* CRAM-MD5 not in clear */
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_CRAMMD5, STLS_OFF, AUTHF_CLEAR), AUTHM_CRAMMD5);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_PLAIN, STLS_UNVERIFIED, 0), 0);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_PLAIN, STLS_UNVERIFIED, AUTHF_CLEAR), 0);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_PLAIN, STLS_UNVERIFIED, AUTHF_TLS_ANY), AUTHM_PLAIN);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_PLAIN, STLS_VERIFIED, 0), AUTHM_PLAIN);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_LOGIN, STLS_OFF, AUTHF_TLS_ANY), 0);
	ck_assert_ptr_nonnull(strstr(smtp_auth_refusal(AUTHM_PLAIN, STLS_UNVERIFIED, 0), "tls=any"));
	ck_assert_ptr_nonnull(strstr(smtp_auth_refusal(AUTHM_PLAIN, STLS_OFF, AUTHF_CLEAR), "plain-clear"));
}
END_TEST

/* ---- TLS: reference identities of the levels ---- */
static const struct {
	const char *conf; enum tls_mode mode; const char *mx, *nexthop; int rc; const char *refs;
} refs_tab[] = {
	{ "", TLSM_VERIFY, "mx.provider.net.", "example.org", Z_OK, "mx.provider.net" },
	{ "", TLSM_SECURE, "mx.provider.net", "example.org", Z_OK, "example.org .example.org" },
	{ "", TLSM_SECURE, "mx.provider.net", "[192.0.2.1]:2525", Z_OK, "[192.0.2.1]" },
	{ "", TLSM_VERIFY, "[127.0.0.1]:2525", "[127.0.0.1]:2525", Z_OK, "[127.0.0.1]" },
	{ "tls-secure-match nexthop, mx.provider.net\n", TLSM_SECURE, "mx.provider.net",
	  "example.org", Z_OK, "example.org mx.provider.net" },
	{ "tls-secure-match .provider.net\n", TLSM_SECURE, "a", "example.org", Z_OK, ".provider.net" },
	{ "tls-verify-match hostname nexthop\n", TLSM_VERIFY, "mx.provider.net", "example.org", Z_OK,
	  "mx.provider.net example.org" },
	{ "tls-verify-name peer.test\n", TLSM_SECURE, "mx.provider.net", "example.org", Z_OK,
	  "peer.test" },
	{ "", TLSM_SECURE, "mx.provider.net", "", Z_ERR, "" },
};

START_TEST(test_tls_refs)
{
	smtp_tls_conf tc;
	zbuf out = ZBUF_INIT(1024), err = ZBUF_INIT(256);
	const char *c = refs_tab[_i].conf;

	ck_assert_int_eq(smtp_tls_parse("t", c, strlen(c), &tc, &err), Z_OK);
	ck_assert_int_eq(smtp_tls_refs(&tc, refs_tab[_i].mode, refs_tab[_i].mx, refs_tab[_i].nexthop,
				       &out, &err), refs_tab[_i].rc);
	ck_assert_str_eq(zbuf_cstr(&out), refs_tab[_i].refs);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_tls_match_conf)
{
	smtp_tls_conf tc;
	zbuf err = ZBUF_INIT(256);
	static const char *bad[] = {
		"tls-secure-match hostname\n",          /* MX names are not authenticated */
		"tls-secure-match\n",
		"tls-verify-match mx.example/x\n",
		"tls-verify-match [192.0.2.x]\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(smtp_tls_parse("t", bad[i], strlen(bad[i]), &tc, &err) == Z_EPARSE, "%s", bad[i]);
	{
		const char *good = "tls-secure-match nexthop,dot-nexthop,[192.0.2.1]\n";
		ck_assert_int_eq(smtp_tls_parse("t", good, strlen(good), &tc, &err), Z_OK);
	}
	ck_assert_str_eq(tc.securematch, "nexthop,dot-nexthop,[192.0.2.1]");
	zbuf_free(&err);
}
END_TEST

/* ---- TLS: certificate names (RFC 6125 through X509_check_host) ---- */
static X509 *cert_with(const char *san, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;

	ck_assert_ptr_nonnull(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_NAME_free(n);
	if (san != NULL) {
		X509_EXTENSION *ext;
		X509V3_set_ctx_nodb(&ctx);
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		ck_assert_ptr_nonnull(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	return x;
}

static const struct { const char *san, *cn, *refs; int m; } cert_tab[] = {
	{ "DNS:mx.example.net", "x", "mx.example.net", 1 },
	{ "DNS:mx.example.net", "x", "example.net", 0 },
	{ "DNS:mx.example.net", "x", "example.net .example.net", 1 },  /* dot-nexthop */
	{ "DNS:MX.Example.Net", "x", "mx.example.net", 1 },
	{ "DNS:*.example.net", "x", "mx.example.net", 1 },
	{ "DNS:*.example.net", "x", "example.net", 0 },
	{ "DNS:*.example.net", "x", "a.mx.example.net", 0 },          /* one label only */
	{ "DNS:m*.example.net", "x", "mx.example.net", 0 },           /* no partial wildcard */
	{ "DNS:*x.example.net", "x", "mx.example.net", 0 },
	{ "DNS:mx.*.net", "x", "mx.example.net", 0 },                 /* leftmost label only */
	{ "DNS:*.*.net", "x", "mx.example.net", 0 },
	{ "DNS:*.net", "x", "example.net", 0 },
	{ "DNS:other.test", "mx.example.net", "mx.example.net", 0 },  /* CN ignored with a DNS SAN */
	{ NULL, "mx.example.net", "mx.example.net", 1 },              /* CN without SAN */
	{ "IP:192.0.2.1", "x", "[192.0.2.1]", 1 },
	{ "IP:192.0.2.1", "x", "[192.0.2.2]", 0 },
	{ "DNS:192.0.2.1", "x", "[192.0.2.1]", 0 },
	{ "DNS:a.test,DNS:b.test", "x", "c.test b.test", 1 },
	{ "DNS:*.example.net", "x", "example.net .example.net", 1 },   /* dot-nexthop, wildcard */
	{ "DNS:a.b.example.net", "x", ".example.net", 1 },            /* any depth below */
	{ "DNS:example.net", "x", ".example.net", 0 },
	{ "DNS:badexample.net", "x", ".example.net", 0 },
};

START_TEST(test_cert_match)
{
	X509 *x = cert_with(cert_tab[_i].san, cert_tab[_i].cn);
	ck_assert_msg(smtp_tls_cert_match(x, cert_tab[_i].refs) == cert_tab[_i].m, "%s vs %s",
		      cert_tab[_i].san ? cert_tab[_i].san : cert_tab[_i].cn, cert_tab[_i].refs);
	X509_free(x);
}
END_TEST

static const struct { int code; const char *enh; int ex; const char *st; } map_tab[] = {
	{ 250, "", EX_OK, "2.0.0" },
	{ 251, "2.1.5", EX_OK, "2.1.5" },
	{ 421, "", EX_TEMPFAIL, "4.0.0" },
	{ 450, "4.2.1", EX_TEMPFAIL, "4.2.1" },
	{ 451, "", EX_TEMPFAIL, "4.0.0" },
	{ 452, "4.5.3", EX_TEMPFAIL, "4.5.3" },
	{ 455, "", EX_USAGE, "5.5.4" },
	{ 471, "", EX_TEMPFAIL, "4.0.0" },
	{ 500, "", EX_PROTOCOL, "5.5.1" },
	{ 501, "", EX_USAGE, "5.5.2" },
	{ 502, "", EX_PROTOCOL, "5.5.1" },
	{ 503, "5.5.1", EX_TEMPFAIL, "4.5.0" },
	{ 504, "", EX_PROTOCOL, "5.5.4" },
	{ 550, "", EX_NOUSER, "5.1.1" },
	{ 550, "5.7.1", EX_NOUSER, "5.7.1" },
	{ 550, "4.7.1", EX_NOUSER, "5.1.1" },
	{ 551, "", EX_NOUSER, "5.1.6" },
	{ 552, "", EX_UNAVAILABLE, "5.2.3" },
	{ 553, "", EX_NOUSER, "5.1.3" },
	{ 554, "", EX_NOUSER, "5.1.1" },
	{ 555, "", EX_USAGE, "5.5.4" },
	{ 571, "", EX_NOUSER, "5.7.1" },
	{ 521, "", EX_UNAVAILABLE, "5.0.0" },
	{ 199, "", EX_TEMPFAIL, "4.5.0" },
};

START_TEST(test_codemap)
{
	char st[24];
	int ex = smtp_code_map(map_tab[_i].code, map_tab[_i].enh, st, sizeof(st));
	ck_assert_msg(ex == map_tab[_i].ex, "%d: ex %d", map_tab[_i].code, ex);
	ck_assert_str_eq(st, map_tab[_i].st);
}
END_TEST

START_TEST(test_auth_line)
{
	/* ZMailer's format: base64 user and secret; flags in a fifth field */
	smtp_auth_entry e;
	zbuf err = ZBUF_INIT(256);
	ck_assert_int_eq(smtp_auth_parse_line(zspan_from("smtp mx.example dXNlcg== czNjcmV0"), &e, &err), Z_OK);
	ck_assert_str_eq(e.channel, "smtp");
	ck_assert_str_eq(e.host, "mx.example");
	ck_assert_str_eq(e.user, "user");
	ck_assert_str_eq(e.secret, "s3cret");
	ck_assert_uint_eq(e.flags, 0);
	ck_assert_int_eq(smtp_auth_parse_line(zspan_from("* mx dQ== cA== plain-clear"), &e, &err), Z_OK);
	ck_assert(e.flags & AUTHF_PLAIN_CLEAR);
	ck_assert_int_eq(smtp_auth_parse_line(zspan_from("* mx dQ=="), &e, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_auth_parse_line(zspan_from("* mx dQ== cA== bogus"), &e, &err), Z_EPARSE);
	/* the old literal format is no longer read */
	ck_assert_int_eq(smtp_auth_parse_line(zspan_from("smtp mx.example user s3cret"), &e, &err), Z_EPARSE);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_auth_pick)
{
	unsigned all = AUTHM_PLAIN | AUTHM_LOGIN | AUTHM_CRAMMD5;
	/* default: nothing without a verified TLS session */
	ck_assert_uint_eq(smtp_auth_pick(all, STLS_OFF, 0), 0);
	ck_assert_uint_eq(smtp_auth_pick(all, STLS_UNVERIFIED, 0), 0);
	ck_assert_uint_eq(smtp_auth_pick(all, STLS_VERIFIED, 0), AUTHM_CRAMMD5);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_PLAIN | AUTHM_LOGIN, STLS_VERIFIED, 0), AUTHM_PLAIN);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_PLAIN | AUTHM_LOGIN, STLS_UNVERIFIED, AUTHF_TLS_ANY), AUTHM_PLAIN);
	ck_assert_uint_eq(smtp_auth_pick(all, STLS_OFF, AUTHF_CLEAR), AUTHM_CRAMMD5);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_PLAIN | AUTHM_LOGIN, STLS_OFF, AUTHF_CLEAR), 0);
	ck_assert_uint_eq(smtp_auth_pick(AUTHM_LOGIN, STLS_OFF, AUTHF_PLAIN_CLEAR), AUTHM_LOGIN);
	ck_assert_uint_eq(smtp_auth_pick(0, STLS_VERIFIED, AUTHF_PLAIN_CLEAR), 0);
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("smtp_auth");
	TCase *t = tcase_create("core");

	tcase_add_loop_test(t, test_parse_line, 0, (int)(sizeof(line_tab) / sizeof(line_tab[0])));
	tcase_add_loop_test(t, test_norm, 0, (int)(sizeof(norm_tab) / sizeof(norm_tab[0])));
	tcase_add_loop_test(t, test_host_match, 0, (int)(sizeof(match_tab) / sizeof(match_tab[0])));
	tcase_add_loop_test(t, test_find, 0, (int)(sizeof(find_tab) / sizeof(find_tab[0])));
	tcase_add_test(t, test_find_badline);
	tcase_add_test(t, test_check_mode);
	tcase_add_test(t, test_lookup_file);
	tcase_add_test(t, test_pick);
	tcase_add_loop_test(t, test_codemap, 0, sizeof(map_tab) / sizeof(map_tab[0]));
	tcase_add_test(t, test_auth_line);
	tcase_add_test(t, test_auth_pick);
	tcase_add_loop_test(t, test_tls_refs, 0, (int)(sizeof(refs_tab) / sizeof(refs_tab[0])));
	tcase_add_test(t, test_tls_match_conf);
	tcase_add_loop_test(t, test_cert_match, 0, (int)(sizeof(cert_tab) / sizeof(cert_tab[0])));
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return scratch_run(auth_suite(), "check_smtp_auth");
}
