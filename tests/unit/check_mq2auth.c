/*
 * NAME
 *	check_mq2auth - unit tests for the MAILQ v2 HMAC-SHA-256
 *	challenge-response (scheduler/mq2auth.c)
 * SUMMARY
 *	Known answers (RFC 4231 test case 2 for the HMAC itself, and a
 *	response computed independently with Python's hmac module for the
 *	protocol's message layout), round trips, and a table of responses
 *	that must be refused: wrong password, wrong user, another challenge,
 *	truncated, over-long, non-hex, empty, the old MD5 answer.
 * SYNOPSIS
 *	check_mq2auth (run by make check)
 * DESCRIPTION
 *	The protocol: hex HMAC-SHA-256(key = password, message = challenge
 *	line "\n" user), mq2proto.h.
 * DIAGNOSTICS
 *	libcheck output; non-zero exit on failure.
 * SECURITY
 *	Test program.
 * BUGS
 *	Constant-time behaviour of the compare is not measured here (no
 *	timing assertions); CRYPTO_memcmp is used by construction.
 * SEE ALSO
 *	mq2proto.h, mailq(1), scheduler(8)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "mq2proto.h"
#include "zerr.h"

#define CH "220 MAILQ-V2-HMAC-SHA256 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
/* python3: hmac.new(b"s3cret", (CH + "\n" + "postmaster").encode(), "sha256").hexdigest() */
#define CH_ANSWER "ab1ded624574dc502a32ae41565fb86ef5720de499f8e73c5c0b3bbeed4f6d37"

/* test_rfc4231 - HMAC-SHA-256 test case 2 */
START_TEST(test_rfc4231)
{
	char out[MQ2_HEX_LEN + 1];
	const char *msg = "what do ya want for nothing?";

	ck_assert_int_eq(mq2_hmac_hex("Jefe", 4, msg, strlen(msg), out), Z_OK);
	ck_assert_str_eq(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

/* test_known_response - the wire layout: challenge "\n" user */
START_TEST(test_known_response)
{
	char out[MQ2_HEX_LEN + 1];

	ck_assert_int_eq(mq2_auth_response(CH, "postmaster", "s3cret", out), Z_OK);
	ck_assert_str_eq(out, CH_ANSWER);
	ck_assert_int_eq(mq2_auth_verify(CH, "postmaster", "s3cret", CH_ANSWER), Z_OK);
}
END_TEST

/* test_upper_case - hex digits in either case are accepted */
START_TEST(test_upper_case)
{
	char up[] = CH_ANSWER;

	for (char *p = up; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(mq2_auth_verify(CH, "postmaster", "s3cret", up), Z_OK);
}
END_TEST

/* test_round_trip - whatever the client computes, the server accepts */
START_TEST(test_round_trip)
{
	char out[MQ2_HEX_LEN + 1];
	const char *pw[] = { "x", "a much longer password with blanks and : colons",
			     "\xc3\xa4\xc3\xb6 utf-8" };

	for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++) {
		ck_assert_int_eq(mq2_auth_response(MQ2_CHALLENGE_PREFIX "abcdef", "u", pw[i], out), Z_OK);
		ck_assert_uint_eq(strlen(out), MQ2_HEX_LEN);
		ck_assert_int_eq(mq2_auth_verify(MQ2_CHALLENGE_PREFIX "abcdef", "u", pw[i], out), Z_OK);
	}
}
END_TEST

static const struct bad {
	const char *challenge, *user, *password, *hex;
} bad_tab[] = {
	{ CH, "postmaster", "s3creT", CH_ANSWER },                 /* wrong password */
	{ CH, "postmastex", "s3cret", CH_ANSWER },                 /* wrong user */
	{ CH "0", "postmaster", "s3cret", CH_ANSWER },             /* another challenge */
	{ CH, "postmaster", "s3cret", "" },                        /* empty */
	{ CH, "postmaster", "s3cret",
	  "ab1ded624574dc502a32ae41565fb86ef5720de499f8e73c5c0b3bbeed4f6d3" },   /* short */
	{ CH, "postmaster", "s3cret", CH_ANSWER "7" },             /* long */
	{ CH, "postmaster", "s3cret", CH_ANSWER CH_ANSWER },       /* doubled */
	{ CH, "postmaster", "s3cret",
	  "ab1ded624574dc502a32ae41565fb86ef5720de499f8e73c5c0b3bbeed4f6d3g" },  /* not hex */
	{ CH, "postmaster", "s3cret",
	  "ab1ded624574dc502a32ae41565fb86ef5720de499f8e73c5c0b3bbeed4f6d 7" },  /* blank */
	{ CH, "postmaster", "s3cret",
	  "bb1ded624574dc502a32ae41565fb86ef5720de499f8e73c5c0b3bbeed4f6d37" },  /* first byte */
	{ CH, "postmaster", "s3cret",
	  "ab1ded624574dc502a32ae41565fb86ef5720de499f8e73c5c0b3bbeed4f6d36" },  /* last bit */
	{ CH, "postmaster", "s3cret", "0123456789abcdef0123456789abcdef" },     /* MD5-sized */
	{ CH, "postmaster", "", CH_ANSWER },                       /* empty password */
};

/* test_bad - every row must be refused */
START_TEST(test_bad)
{
	const struct bad *b = &bad_tab[_i];

	ck_assert_int_ne(mq2_auth_verify(b->challenge, b->user, b->password, b->hex), Z_OK);
}
END_TEST

/* test_overlong_challenge - a message over the bound is an error, not a
 * truncated MAC */
START_TEST(test_overlong_challenge)
{
	char big[4000], out[MQ2_HEX_LEN + 1];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_ne(mq2_auth_response(big, "u", "p", out), Z_OK);
	ck_assert_int_ne(mq2_auth_verify(big, "u", "p", CH_ANSWER), Z_OK);
}
END_TEST

/* mq2auth_suite - all cases */
static Suite *mq2auth_suite(void)
{
	Suite *s = suite_create("mq2auth");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rfc4231);
	tcase_add_test(tc, test_known_response);
	tcase_add_test(tc, test_upper_case);
	tcase_add_test(tc, test_round_trip);
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad_tab / sizeof bad_tab[0]));
	tcase_add_test(tc, test_overlong_challenge);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite, exit 0 when all pass */
int main(void)
{
	SRunner *sr = srunner_create(mq2auth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
