/*
 * NAME
 *	check_dsn - unit tests for DSN rendering and rules (scheduler/dsn.c)
 * SUMMARY
 *	Golden-file comparison of rendered reports (fixed inputs and clock),
 *	exact RFC 3464 field-name checks, MIME structure checks, NOTIFY
 *	filtering, report disposition, notary splitting, xtext and status
 *	code tables.
 * SYNOPSIS
 *	check_dsn (run by make check)
 *	DSN_GOLDEN_UPDATE=1 check_dsn   rewrite the golden files (review the diff!)
 * DESCRIPTION
 *	Golden files live in tests/unit/golden/dsn-*.txt: the envelope lines,
 *	a line "=== message ===", then the message.
 * DIAGNOSTICS
 *	libcheck output; non-zero exit on failure.
 * SECURITY
 *	Test program; writes a scratch body file under /tmp.
 * BUGS
 *	None known.
 * SEE ALSO
 *	RFC 3464, dsn.h
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dsn.h"
#include "zutil.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/unit/golden"
#endif

#define NOW ((time_t)1795000000)      /* Wed, 18 Nov 2026 11:06:40 UTC */
#define ARRIVAL ((time_t)1794900000)  /* Tue, 17 Nov 2026 07:20:00 UTC */

static const char orig_headers[] =
	"Received: from client.example.org by mx.zmta.test; Mon, 16 Nov 2026 10:00:00 +0000\n"
	"From: Alice <alice@example.org>\n"
	"To: bob@example.net, carol@example.com\n"
	"Subject: quarterly numbers\n"
	"Message-Id: <q1@example.org>\n"
	"\n";

static const char orig_body[] = "Hi Bob,\n\nthe numbers are attached.\n.\n-- \nAlice\n";

/* body_file - a scratch file with 7 bytes of junk, then the body */
static int body_file(void)
{
	char path[] = "/tmp/check_dsn.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, "JUNK!!\n", 7), 7);
	ck_assert_int_eq(write(fd, orig_body, sizeof orig_body - 1), (ssize_t)(sizeof orig_body - 1));
	return fd;
}

/* render - run dsn_render, return env + marker + msg as one malloc'd string */
static char *render(const dsn_report *r)
{
	zbuf env = ZBUF_INIT(DSN_ENV_MAX), msg = ZBUF_INIT(DSN_MSG_MAX), err = ZBUF_INIT(512);
	char *out;
	int rc = dsn_render(r, &env, &msg, &err);

	ck_assert_msg(rc == Z_OK, "dsn_render: %d %s", rc, zbuf_cstr(&err));
	size_t n = env.len + msg.len + 32;
	out = malloc(n);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n, "%s=== message ===\n%s", zbuf_cstr(&env), zbuf_cstr(&msg));
	zbuf_free(&env);
	zbuf_free(&msg);
	zbuf_free(&err);
	return out;
}

/* golden - compare (or rewrite with DSN_GOLDEN_UPDATE=1) */
static void golden(const char *name, const char *got)
{
	char path[512];
	zbuf want = ZBUF_INIT(4u * 1024u * 1024u), err = ZBUF_INIT(512);

	snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
	if (getenv("DSN_GOLDEN_UPDATE") != NULL) {
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(got, f);
		fclose(f);
	}
	ck_assert_msg(zread_file(path, want.max, &want, &err) == Z_OK, "%s: %s", path,
		      zbuf_cstr(&err));
	if (strcmp(zbuf_cstr(&want), got) != 0) {
		/* show the first differing line */
		const char *a = zbuf_cstr(&want), *b = got;
		int line = 1;
		while (*a && *a == *b) {
			line += *a == '\n';
			a++;
			b++;
		}
		ck_abort_msg("%s differs at line %d: want \"%.60s\" got \"%.60s\"", name, line, a, b);
	}
	zbuf_free(&want);
	zbuf_free(&err);
}

/* the failure report: one SMTP rejection, one expiry */
static dsn_rcpt fail_rcpts[2];
/* fail_report - the failure report inputs (body in fd) */
static dsn_report fail_report(int fd)
{
	dsn_report r;

	memset(fail_rcpts, 0, sizeof fail_rcpts);
	fail_rcpts[0].addr = "bob@example.net";
	fail_rcpts[0].orcpt = "rfc822;Bob+2BLists@example.net";
	fail_rcpts[0].action = DSN_FAILED;
	fail_rcpts[0].status = "5.1.1";
	fail_rcpts[0].remote_mta = "dns; mx.example.net (192.0.2.25|25)";
	fail_rcpts[0].diagnostic = "smtp; 550-5.1.1 The email account that you tried to reach\r"
				   "550 5.1.1 does not exist.";
	fail_rcpts[0].last_attempt = NOW - 60;
	fail_rcpts[1].addr = "<carol@example.com>";
	fail_rcpts[1].action = DSN_FAILED;
	fail_rcpts[1].status = "4.4.7";
	fail_rcpts[1].diagnostic = "smtp; 500 (Expired after 3 days)";
	fail_rcpts[1].text = "expired after 3 days\r, problem was:\rconnect to mx.example.com: "
			     "Connection refused";
	fail_rcpts[1].last_attempt = NOW - 600;
	memset(&r, 0, sizeof r);
	r.reporting_host = "mx.zmta.test";
	r.to = "<alice@example.org>";
	r.envid = "Q1+2B2026";
	r.spoolid = "S5FQk2A";
	r.arrival = ARRIVAL;
	r.now = NOW;
	r.ret = DSN_RET_DEFAULT;
	r.headers = (zspan){ orig_headers, sizeof orig_headers - 1 };
	r.body_fd = fd;
	r.body_off = 7;
	r.body_len = sizeof orig_body - 1;
	r.rcpts = fail_rcpts;
	r.nrcpts = 2;
	return r;
}

START_TEST(test_golden_failure)
{
	int fd = body_file();
	dsn_report r = fail_report(fd);
	char *got = render(&r);

	golden("dsn-failure.txt", got);
	/* the body was returned */
	ck_assert_ptr_nonnull(strstr(got, "Content-Type: message/rfc822\n"));
	ck_assert_ptr_nonnull(strstr(got, "the numbers are attached."));
	free(got);
	close(fd);
}
END_TEST

START_TEST(test_golden_delay)
{
	dsn_rcpt rc[1];
	dsn_report r;
	char *got;

	memset(rc, 0, sizeof rc);
	rc[0].addr = "dave@example.com";
	rc[0].orcpt = "rfc822;dave@example.com";
	rc[0].action = DSN_DELAYED;
	rc[0].status = "4.4.1";
	rc[0].remote_mta = "mx.example.com";
	rc[0].diagnostic = "smtp; 421 4.4.1 Service not available, try later";
	rc[0].last_attempt = NOW - 30;
	rc[0].will_retry_until = ARRIVAL + 3 * 86400;
	memset(&r, 0, sizeof r);
	r.reporting_host = "mx.zmta.test";
	r.to = "alice@example.org";
	r.spoolid = "S5FQk2B";
	r.arrival = ARRIVAL;
	r.now = NOW;
	r.ret = DSN_RET_FULL;
	r.headers = (zspan){ orig_headers, sizeof orig_headers - 1 };
	r.body_fd = -1;
	r.rcpts = rc;
	r.nrcpts = 1;
	got = render(&r);
	golden("dsn-delay.txt", got);
	ck_assert_ptr_nonnull(strstr(got, "Subject: Delivery Status Notification (Delay)\n"));
	ck_assert_ptr_nonnull(strstr(got, "\nWill-Retry-Until: "));
	ck_assert_ptr_nonnull(strstr(got, "Content-Type: text/rfc822-headers\n"));
	free(got);
}
END_TEST

START_TEST(test_golden_success)
{
	dsn_rcpt rc[2];
	dsn_report r;
	int fd = body_file();
	char *got;

	memset(rc, 0, sizeof rc);
	rc[0].addr = "erin@example.com";
	rc[0].action = DSN_DELIVERED;
	rc[0].status = "2.0.0";
	rc[0].remote_mta = "dns; mx.example.com";
	rc[0].diagnostic = "smtp; 250 2.0.0 Ok: queued as 4711";
	rc[0].last_attempt = NOW - 5;
	rc[1].addr = "frank@legacy.example";
	rc[1].action = DSN_RELAYED;
	rc[1].status = NULL;        /* default 2.0.0 */
	rc[1].remote_mta = "dns; old.legacy.example";
	rc[1].diagnostic = "smtp; 250 ok";
	rc[1].last_attempt = NOW - 5;
	rc[1].will_retry_until = NOW + 100; /* not delayed: must not be printed */
	memset(&r, 0, sizeof r);
	r.reporting_host = "mx.zmta.test";
	r.to = "alice@example.org";
	r.envid = "abc";
	r.spoolid = "S5FQk2C";
	r.arrival = ARRIVAL;
	r.now = NOW;
	r.headers = (zspan){ orig_headers, sizeof orig_headers - 1 };
	r.body_fd = fd;
	r.body_off = 7;
	r.body_len = sizeof orig_body - 1;
	r.rcpts = rc;
	r.nrcpts = 2;
	got = render(&r);
	golden("dsn-success.txt", got);
	ck_assert_ptr_nonnull(strstr(got, "Subject: Delivery Status Notification (Relay)\n"));
	/* success reports return headers only */
	ck_assert_ptr_null(strstr(got, "the numbers are attached."));
	ck_assert_ptr_null(strstr(got, "Will-Retry-Until"));
	free(got);
	close(fd);
}
END_TEST

/* double fault to the postmaster, body over the cap, hostile bytes */
START_TEST(test_golden_doublefault)
{
	dsn_rcpt rc[1];
	dsn_report r;
	int fd = body_file();
	char *got;

	memset(rc, 0, sizeof rc);
	rc[0].addr = "ghost@example.net\nBcc: victim@example.org";
	rc[0].action = DSN_FAILED;
	rc[0].status = "bogus";     /* -> 5.0.0 */
	rc[0].diagnostic = "no such user\001\033[1m";
	memset(&r, 0, sizeof r);
	r.reporting_host = "mx.zmta.test";
	r.to = "postmaster";
	r.spoolid = "S5FQk2D";
	r.arrival = ARRIVAL;
	r.now = NOW;
	r.double_fault = 1;
	r.headers = (zspan){ orig_headers, sizeof orig_headers - 1 };
	r.body_fd = fd;
	r.body_off = 7;
	r.body_len = sizeof orig_body - 1;
	r.body_cap = 10;
	r.rcpts = rc;
	r.nrcpts = 1;
	got = render(&r);
	golden("dsn-doublefault.txt", got);
	ck_assert_ptr_nonnull(strstr(got, "Subject: Double-fault: Delivery Status Notification (Failure)\n"));
	ck_assert_ptr_nonnull(strstr(got, "larger than 10 bytes"));
	ck_assert_ptr_null(strstr(got, "\nBcc:"));
	ck_assert_ptr_null(strchr(got, '\033'));
	ck_assert_ptr_null(strchr(got, '\001'));
	ck_assert_ptr_nonnull(strstr(got, "\nStatus: 5.0.0\n"));
	ck_assert_ptr_nonnull(strstr(got, "\nDiagnostic-Code: X-Zmta; no such user??[1m\n"));
	free(got);
	close(fd);
}
END_TEST

/* RET=HDRS: headers only even for failures; unreadable body: headers + note */
START_TEST(test_ret_hdrs_and_unreadable)
{
	int fd = body_file();
	dsn_report r = fail_report(fd);
	char *got;

	r.ret = DSN_RET_HDRS;
	got = render(&r);
	ck_assert_ptr_nonnull(strstr(got, "Content-Type: text/rfc822-headers\n"));
	ck_assert_ptr_null(strstr(got, "the numbers are attached."));
	ck_assert_ptr_nonnull(strstr(got, "as you asked"));
	free(got);
	r.ret = DSN_RET_FULL;
	r.body_len = 100000; /* more than the file holds */
	got = render(&r);
	ck_assert_ptr_nonnull(strstr(got, "Content-Type: text/rfc822-headers\n"));
	ck_assert_ptr_nonnull(strstr(got, "could not be read"));
	free(got);
	close(fd);
}
END_TEST

/* every RFC 3464 field name spelled exactly, in part 2 */
static const char *const fields_fail[] = {
	"Original-Envelope-Id: Q1+2026\n", "Reporting-MTA: dns; mx.zmta.test\n",
	"Arrival-Date: ", "X-Zmta-Spool-Id: S5FQk2A\n",
	"Original-Recipient: rfc822;Bob+Lists@example.net\n",
	"Final-Recipient: rfc822; bob@example.net\n", "Action: failed\n", "Status: 5.1.1\n",
	"Remote-MTA: dns; mx.example.net (192.0.2.25|25)\n",
	"Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach\n"
	"    550 5.1.1 does not exist.\n",
	"Last-Attempt-Date: ", "Final-Recipient: rfc822; carol@example.com\n",
	"Status: 4.4.7\n",
};

START_TEST(test_field_names)
{
	int fd = body_file();
	dsn_report r = fail_report(fd);
	char *got = render(&r);
	const char *ds = strstr(got, "Content-Type: message/delivery-status\n");
	const char *end;
	char *part;

	ck_assert_ptr_nonnull(ds);
	end = strstr(ds, "\n--S5FQk2A.");
	ck_assert_ptr_nonnull(end);
	part = strndup(ds, (size_t)(end - ds));
	for (size_t i = 0; i < sizeof fields_fail / sizeof fields_fail[0]; i++) {
		const char *p = strstr(part, fields_fail[i]);
		ck_assert_msg(p != NULL, "missing field '%s'", fields_fail[i]);
		ck_assert_msg(p[-1] == '\n', "field '%s' not at line start", fields_fail[i]);
	}
	/* the ZMailer defects must not be there */
	ck_assert_ptr_null(strstr(part, "Final Recipient"));
	ck_assert_ptr_null(strstr(part, "Original Recipient"));
	ck_assert_ptr_null(strstr(part, "Will-Retry-Until"));
	/* date format: RFC 5322 */
	ck_assert_ptr_nonnull(strstr(part, "Arrival-Date: Tue, 17 Nov 2026 07:20:00 +0000\n"));
	/* per-recipient blocks are separated by exactly one blank line */
	ck_assert_ptr_nonnull(strstr(part, "S5FQk2A\n\nOriginal-Recipient:"));
	ck_assert_ptr_nonnull(strstr(part, "\n\nFinal-Recipient: rfc822; carol@example.com\n"));
	free(part);
	/* headers */
	static const char *const hdrs[] = {
		"From: Mail Delivery System <MAILER-DAEMON@mx.zmta.test>\n",
		"\nTo: <alice@example.org>\n",
		"\nSubject: Delivery Status Notification (Failure)\n",
		"\nDate: ", "\nMessage-Id: <", "\nAuto-Submitted: auto-replied\n",
		"\nMIME-Version: 1.0\n",
		"\nContent-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"",
	};
	for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++)
		ck_assert_msg(strstr(got, hdrs[i]) != NULL, "missing header '%s'", hdrs[i]);
	/* envelope */
	static const char envl[] = "channel error\nerrormsg\n"
				   "todsn NOTIFY=NEVER ORCPT=rfc822;alice@example.org\n"
				   "to <alice@example.org>\n=== message ===\n";
	ck_assert_int_eq(strncmp(got, envl, sizeof envl - 1), 0);
	free(got);
	close(fd);
}
END_TEST

/* MIME structure: three parts in order, closing delimiter last */
START_TEST(test_mime_structure)
{
	int fd = body_file();
	dsn_report r = fail_report(fd);
	char *got = render(&r), *b, delim[256];
	const char *p, *q;
	int parts = 0;

	b = strstr(got, "boundary=\"");
	ck_assert_ptr_nonnull(b);
	b += 10;
	q = strchr(b, '"');
	snprintf(delim, sizeof delim, "\n--%.*s", (int)(q - b), b);
	static const char *const types[] = { "text/plain", "message/delivery-status",
					     "message/rfc822" };
	for (p = strstr(got, delim); p != NULL; p = strstr(p + 1, delim)) {
		const char *after = p + strlen(delim);
		if (strncmp(after, "--\n", 3) == 0) {
			ck_assert_str_eq(after, "--\n");
			break;
		}
		ck_assert_int_lt(parts, 3);
		ck_assert_int_eq(strncmp(after, "\nContent-Type: ", 15), 0);
		ck_assert_int_eq(strncmp(after + 15, types[parts], strlen(types[parts])), 0);
		parts++;
	}
	ck_assert_int_eq(parts, 3);
	free(got);
	close(fd);
}
END_TEST

START_TEST(test_bad_inputs)
{
	zbuf env = ZBUF_INIT(DSN_ENV_MAX), msg = ZBUF_INIT(DSN_MSG_MAX), err = ZBUF_INIT(512);
	int fd = body_file();
	dsn_report r = fail_report(fd);

	r.nrcpts = 0;
	ck_assert_int_eq(dsn_render(&r, &env, &msg, &err), Z_EPARSE);
	ck_assert_str_eq(zbuf_cstr(&err), "dsn: no recipients to report on");
	r = fail_report(fd);
	r.to = "<>";
	zbuf_reset(&err);
	ck_assert_int_eq(dsn_render(&r, &env, &msg, &err), Z_EPARSE);
	r = fail_report(fd);
	r.reporting_host = "";
	ck_assert_int_eq(dsn_render(&r, &env, &msg, NULL), Z_EPARSE);
	/* a too-small message buffer is an error, not a truncated report */
	r = fail_report(fd);
	zbuf_free(&msg);
	zbuf_init(&msg, 700);
	zbuf_reset(&err);
	ck_assert_int_eq(dsn_render(&r, &env, &msg, &err), Z_ETOOBIG);
	zbuf_free(&env);
	zbuf_free(&msg);
	zbuf_free(&err);
	close(fd);
}
END_TEST

/* NOTIFY filtering */
static const struct {
	const char *notify;
	enum dsn_action action;
	int want;
} notify_tab[] = {
	{ "", DSN_FAILED, 1 },              { "", DSN_DELAYED, 0 },
	{ "", DSN_DELIVERED, 0 },           { "NEVER", DSN_FAILED, 0 },
	{ "never", DSN_DELAYED, 0 },        { "FAILURE", DSN_FAILED, 1 },
	{ "FAILURE", DSN_DELAYED, 0 },      { "FAILURE,DELAY", DSN_DELAYED, 1 },
	{ "failure, delay", DSN_DELAYED, 1 }, { "SUCCESS", DSN_DELIVERED, 1 },
	{ "SUCCESS", DSN_RELAYED, 1 },      { "SUCCESS", DSN_EXPANDED, 1 },
	{ "SUCCESS", DSN_FAILED, 0 },       { "DELAY", DSN_FAILED, 0 },
	{ "DELAY", DSN_DELAYED, 1 },        { "NOTIFY=SUCCESS,FAILURE", DSN_FAILED, 1 },
	{ "NOTIFY=SUCCESS,FAILURE", DSN_DELIVERED, 1 }, { "notify=NEVER", DSN_FAILED, 0 },
	{ "SUCCESS,FAILURE,DELAY", DSN_DELAYED, 1 }, { "  FAILURE  ", DSN_FAILED, 1 },
	{ "BOGUS", DSN_FAILED, 1 },         { "BOGUS", DSN_DELIVERED, 0 },
};

START_TEST(test_notify_table)
{
	ck_assert_int_eq(dsn_notify_allows(zspan_from(notify_tab[_i].notify), notify_tab[_i].action),
			 notify_tab[_i].want);
}
END_TEST

START_TEST(test_disposition)
{
	ck_assert_int_eq(dsn_should_report("alice@example.org", 0), 1);
	ck_assert_int_eq(dsn_should_report("<alice@example.org>", 0), 1);
	ck_assert_int_eq(dsn_should_report("alice@example.org", 1), 0);
	ck_assert_int_eq(dsn_should_report("<>", 0), 0);
	ck_assert_int_eq(dsn_should_report(" ", 0), 0);
	ck_assert_int_eq(dsn_should_report(NULL, 0), 0);
	ck_assert_int_eq(dsn_disposition("alice@example.org", 0, 0), DSN_TO_SENDER);
	ck_assert_int_eq(dsn_disposition("<>", 0, 0), DSN_TO_POSTMASTER);
	ck_assert_int_eq(dsn_disposition("x@y", 1, 0), DSN_TO_POSTMASTER);
	ck_assert_int_eq(dsn_disposition("postmaster", 1, 1), DSN_DISCARD);
	ck_assert_int_eq(dsn_disposition("alice@example.org", 0, 1), DSN_DISCARD);
}
END_TEST

START_TEST(test_notary_parse)
{
	static const char n[] = "carol@example.com\001failed\0015.1.1\001smtp; 550 (no)\001"
				"dns; mx.example.com (192.0.2.25|25)\001smtp[4711]";
	dsn_notary f;

	ck_assert_int_eq(dsn_notary_parse((zspan){ n, sizeof n - 1 }, &f), Z_OK);
	ck_assert(zspan_eq(f.final_recipient, "carol@example.com"));
	ck_assert(zspan_eq(f.action, "failed"));
	ck_assert(zspan_eq(f.status, "5.1.1"));
	ck_assert(zspan_eq(f.diagnostic, "smtp; 550 (no)"));
	ck_assert(zspan_eq(f.remote_mta, "dns; mx.example.com (192.0.2.25|25)"));
	ck_assert(zspan_eq(f.taname, "smtp[4711]"));
	ck_assert_int_eq(dsn_action_parse(f.action), DSN_FAILED);
	/* short and empty notary strings */
	ck_assert_int_eq(dsn_notary_parse(zspan_from("a\001delayed"), &f), Z_OK);
	ck_assert(zspan_eq(f.action, "delayed"));
	ck_assert_uint_eq(f.status.n, 0);
	ck_assert_uint_eq(f.taname.n, 0);
	ck_assert_int_eq(dsn_notary_parse(ZSPAN_NULL, &f), Z_OK);
	ck_assert_uint_eq(f.final_recipient.n, 0);
	ck_assert_int_eq(dsn_action_parse(zspan_from("Relayed")), DSN_RELAYED);
	ck_assert_int_eq(dsn_action_parse(zspan_from("expanded")), DSN_EXPANDED);
	ck_assert_int_eq(dsn_action_parse(zspan_from("delivered")), DSN_DELIVERED);
	ck_assert_int_eq(dsn_action_parse(zspan_from("bounced")), -1);
	ck_assert_str_eq(dsn_action_name(DSN_DELAYED), "delayed");
}
END_TEST

static const struct {
	const char *s;
	int ok;
} status_tab[] = {
	{ "5.1.1", 1 }, { "4.4.7", 1 }, { "2.0.0", 1 }, { "5.123.456", 1 }, { "3.1.1", 0 },
	{ "5.1", 0 },   { "5.1.", 0 },  { "5..1", 0 },  { "5.1.1 ", 0 },    { "5.1234.1", 0 },
	{ "", 0 },      { "x.1.1", 0 }, { "5-1-1", 0 },
};

START_TEST(test_status_table)
{
	ck_assert_int_eq(dsn_status_valid(zspan_from(status_tab[_i].s)), status_tab[_i].ok);
}
END_TEST

START_TEST(test_xtext)
{
	zbuf b = ZBUF_INIT(256);

	ck_assert_int_eq(dsn_xtext_encode(&b, "a+b=c d\x7f\xc3"), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "a+2Bb+3Dc+20d+7F+C3");
	zbuf_reset(&b);
	ck_assert_int_eq(dsn_xtext_decode(zspan_from("a+2Bb+3dc+20d"), &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "a+b=c d");
	zbuf_reset(&b);
	ck_assert_int_eq(dsn_xtext_decode(zspan_from("abc+2"), &b), Z_EPARSE);
	ck_assert_uint_eq(b.len, 0);   /* nothing of a bad xtext is kept */
	zbuf_reset(&b);
	ck_assert_int_eq(dsn_xtext_decode(zspan_from("abc+"), &b), Z_EPARSE);
	zbuf_reset(&b);
	ck_assert_int_eq(dsn_xtext_decode(zspan_from("+zz"), &b), Z_EPARSE);
	zbuf_free(&b);
}
END_TEST

/* dsn_suite - all test cases */
static Suite *dsn_suite(void)
{
	Suite *s = suite_create("dsn");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_golden_failure);
	tcase_add_test(tc, test_golden_delay);
	tcase_add_test(tc, test_golden_success);
	tcase_add_test(tc, test_golden_doublefault);
	tcase_add_test(tc, test_ret_hdrs_and_unreadable);
	tcase_add_test(tc, test_field_names);
	tcase_add_test(tc, test_mime_structure);
	tcase_add_test(tc, test_bad_inputs);
	tcase_add_loop_test(tc, test_notify_table, 0, (int)(sizeof notify_tab / sizeof notify_tab[0]));
	tcase_add_test(tc, test_disposition);
	tcase_add_test(tc, test_notary_parse);
	tcase_add_loop_test(tc, test_status_table, 0, (int)(sizeof status_tab / sizeof status_tab[0]));
	tcase_add_test(tc, test_xtext);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite, exit 0 when all pass */
int main(void)
{
	SRunner *sr = srunner_create(dsn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
