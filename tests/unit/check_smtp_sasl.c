/*
 * NAME
 *	check_smtp_sasl - unit tests of SASL PLAIN, LOGIN, CRAM-MD5, both sides
 * SUMMARY
 *	The client's responses are fed to the server's state machine with a
 *	secret lookup callback: right secrets pass, wrong users, wrong
 *	secrets, cancellation and malformed answers fail; the RFC 2195
 *	example digest; strict base64.
 * SECURITY
 *	Test code; the secrets are made up.
 * SEE ALSO
 *	smtp/smtp_sasl.c, RFC 2195, RFC 4616, RFC 4954
 */
#include <check.h>
#include <string.h>
#include "smtp_sasl.h"
#include "zerr.h"

/* lookup - one user, "alice" with "s3cret" */
static int lookup(void *arg, const char *user, zbuf *secret)
{
	int *calls = arg;
	(*calls)++;
	if (strcmp(user, "alice") != 0)
		return Z_ENOENT;
	return zbuf_puts(secret, "s3cret");
}

START_TEST(test_mech_names)
{
	ck_assert_uint_eq(smtp_sasl_mech_parse(zspan_from("cram-md5")), AUTHM_CRAMMD5);
	ck_assert_uint_eq(smtp_sasl_mech_parse(zspan_from("PLAIN")), AUTHM_PLAIN);
	ck_assert_uint_eq(smtp_sasl_mech_parse(zspan_from("Login")), AUTHM_LOGIN);
	ck_assert_uint_eq(smtp_sasl_mech_parse(zspan_from("SCRAM-SHA-1")), 0);
	ck_assert_str_eq(smtp_sasl_mech_name(AUTHM_CRAMMD5), "CRAM-MD5");
}
END_TEST

/* RFC 2195's example */
START_TEST(test_cram_rfc2195)
{
	zbuf o = ZBUF_INIT(256);
	const char *ch = "<1896.697170952@postoffice.reston.mci.net>";

	ck_assert_int_eq(smtp_cram_md5("tim", "tanstaaftanstaaf", ch, strlen(ch), &o), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o), "tim b913a602c7eda7a495b4e6e7334d3890");
	zbuf_free(&o);
}
END_TEST

/* plain_try - the server's verdict on a PLAIN response for user/secret */
static int plain_try(const char *user, const char *secret, int *calls)
{
	smtp_sasl_server sv;
	zbuf resp = ZBUF_INIT(1024), out = ZBUF_INIT(1024), err = ZBUF_INIT(256);
	int rc;

	ck_assert_int_eq(smtp_sasl_plain(user, secret, &resp), Z_OK);
	ck_assert_int_eq(smtp_sasl_server_start(&sv, AUTHM_PLAIN, "mx.example", lookup, calls),
			 Z_OK);
	rc = smtp_sasl_server_step(&sv, zspan_from(zbuf_cstr(&resp)), 1, &out, &err);
	if (rc == Z_OK)
		ck_assert_str_eq(sv.user, user);
	else
		ck_assert_str_eq(zbuf_cstr(&err), "authentication failed");
	smtp_sasl_server_end(&sv);
	zbuf_free(&resp);
	zbuf_free(&out);
	zbuf_free(&err);
	return rc;
}

START_TEST(test_plain)
{
	int calls = 0;
	smtp_sasl_server sv;
	zbuf out = ZBUF_INIT(256), err = ZBUF_INIT(256);

	ck_assert_int_eq(plain_try("alice", "s3cret", &calls), Z_OK);
	ck_assert_int_eq(plain_try("alice", "s3cre", &calls), Z_ERR);
	ck_assert_int_eq(plain_try("alice", "s3cretX", &calls), Z_ERR);
	ck_assert_int_eq(plain_try("bob", "s3cret", &calls), Z_ERR);
	ck_assert_int_eq(calls, 4);
	/* no initial response: empty challenge first; then a bad answer */
	ck_assert_int_eq(smtp_sasl_server_start(&sv, AUTHM_PLAIN, "h", lookup, &calls), Z_OK);
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from(""), 0, &out, &err),
			 SMTP_SASL_CONTINUE);
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from("YWxpY2U="), 1, &out, &err),
			 Z_EPARSE);
	/* another authorization identity than the user is refused */
	ck_assert_int_eq(smtp_sasl_server_start(&sv, AUTHM_PLAIN, "h", lookup, &calls), Z_OK);
	/* base64("bob\0alice\0s3cret") */
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from("Ym9iAGFsaWNlAHMzY3JldA=="), 1,
					       &out, &err), Z_EPARSE);
	/* "*" cancels, bad base64 is malformed */
	ck_assert_int_eq(smtp_sasl_server_start(&sv, AUTHM_PLAIN, "h", lookup, &calls), Z_OK);
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from("*"), 1, &out, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from("a=b="), 1, &out, &err), Z_EPARSE);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

/* login_try - LOGIN exchange */
static int login_try(const char *user, const char *secret)
{
	smtp_sasl_server sv;
	zbuf out = ZBUF_INIT(256), err = ZBUF_INIT(256), a = ZBUF_INIT(256), d = ZBUF_INIT(256);
	int calls = 0, rc;

	ck_assert_int_eq(smtp_sasl_server_start(&sv, AUTHM_LOGIN, "h", lookup, &calls), Z_OK);
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from(""), 0, &out, &err),
			 SMTP_SASL_CONTINUE);
	ck_assert_int_eq(smtp_b64_decode(zspan_from(zbuf_cstr(&out)), &d), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&d), "Username:");
	ck_assert_int_eq(smtp_b64_encode(user, strlen(user), &a), Z_OK);
	zbuf_reset(&out);
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from(zbuf_cstr(&a)), 1, &out, &err),
			 SMTP_SASL_CONTINUE);
	zbuf_reset(&a);
	ck_assert_int_eq(smtp_b64_encode(secret, strlen(secret), &a), Z_OK);
	rc = smtp_sasl_server_step(&sv, zspan_from(zbuf_cstr(&a)), 1, &out, &err);
	smtp_sasl_server_end(&sv);
	zbuf_free(&out);
	zbuf_free(&err);
	zbuf_free(&a);
	zbuf_free(&d);
	return rc;
}

START_TEST(test_login)
{
	ck_assert_int_eq(login_try("alice", "s3cret"), Z_OK);
	ck_assert_int_eq(login_try("alice", "wrong"), Z_ERR);
	ck_assert_int_eq(login_try("mallory", "s3cret"), Z_ERR);
}
END_TEST

/* cram_try - CRAM-MD5: the client answers the server's challenge */
static int cram_try(const char *user, const char *secret)
{
	smtp_sasl_server sv;
	zbuf out = ZBUF_INIT(1024), err = ZBUF_INIT(256), ch = ZBUF_INIT(1024);
	zbuf resp = ZBUF_INIT(1024), b = ZBUF_INIT(1024);
	int calls = 0, rc;

	ck_assert_int_eq(smtp_sasl_server_start(&sv, AUTHM_CRAMMD5, "mx.example", lookup, &calls),
			 Z_OK);
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from(""), 0, &out, &err),
			 SMTP_SASL_CONTINUE);
	ck_assert_int_eq(smtp_b64_decode(zspan_from(zbuf_cstr(&out)), &ch), Z_OK);
	ck_assert(zbuf_cstr(&ch)[0] == '<');
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&ch), "@mx.example>"));
	ck_assert_int_eq(smtp_cram_md5(user, secret, ch.data, ch.len, &resp), Z_OK);
	ck_assert_int_eq(smtp_b64_encode(resp.data, resp.len, &b), Z_OK);
	rc = smtp_sasl_server_step(&sv, zspan_from(zbuf_cstr(&b)), 1, &out, &err);
	smtp_sasl_server_end(&sv);
	zbuf_free(&out);
	zbuf_free(&err);
	zbuf_free(&ch);
	zbuf_free(&resp);
	zbuf_free(&b);
	return rc;
}

START_TEST(test_cram)
{
	smtp_sasl_server sv;
	zbuf out = ZBUF_INIT(256), err = ZBUF_INIT(256);
	int calls = 0;

	ck_assert_int_eq(cram_try("alice", "s3cret"), Z_OK);
	ck_assert_int_eq(cram_try("alice", "s3creT"), Z_ERR);
	ck_assert_int_eq(cram_try("eve", "s3cret"), Z_ERR);
	/* no initial response allowed */
	ck_assert_int_eq(smtp_sasl_server_start(&sv, AUTHM_CRAMMD5, "h", lookup, &calls), Z_OK);
	ck_assert_int_eq(smtp_sasl_server_step(&sv, zspan_from("YQ=="), 1, &out, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_sasl_server_start(&sv, 0, "h", lookup, &calls), Z_EPARSE);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_b64_strict)
{
	zbuf o = ZBUF_INIT(256);
	ck_assert_int_eq(smtp_b64_decode(zspan_from("YWJj"), &o), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o), "abc");
	ck_assert_int_eq(smtp_b64_decode(zspan_from("YWJ"), &o), Z_EPARSE);
	ck_assert_int_eq(smtp_b64_decode(zspan_from("Y=Jj"), &o), Z_EPARSE);
	ck_assert_int_eq(smtp_b64_decode(zspan_from("YW J"), &o), Z_EPARSE);
	zbuf_free(&o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smtp_sasl");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_mech_names);
	tcase_add_test(tc, test_cram_rfc2195);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_cram);
	tcase_add_test(tc, test_b64_strict);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
