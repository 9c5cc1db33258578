/*
 * NAME
 *	check_smtp_reply - unit tests of the smtp/ layer's parsers and reply I/O
 * SUMMARY
 *	Tables of good and bad SMTP reply lines, multi-line assembly,
 *	EHLO capability parsing, -T parsing, CRAM-MD5 and base64,
 *	smtp-tls.conf parsing, and replies read through a session from a
 *	peer that splits, garbles or floods them (no deadlock).  The agent's
 *	-A and reply-code tests are in check_smtp_auth.
 * SECURITY
 *	Test code; inputs are the tables below.
 * SEE ALSO
 *	smtp/smtp_reply.c, smtp_session.c, smtp_ehlo.c, smtp_state.c,
 *	smtp_tls.c, smtp_sasl.c
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "smtp_ehlo.h"
#include "smtp_reply.h"
#include "smtp_sasl.h"
#include "smtp_session.h"
#include "smtp_state.h"
#include "smtp_tls.h"
#include "zerr.h"
#include "zutil.h"

/* feed - feed lines separated by '\n'; returns last rc */
static int feed(smtp_reply *r, const char *text, zbuf *err)
{
	const char *p = text;
	int rc = 0;
	if (*p == '\0')
		return smtp_reply_line(r, p, 0, err);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		rc = smtp_reply_line(r, p, n, err);
		if (rc != 0)
			return rc;
		p += n + (nl != NULL);
	}
	return rc;
}

static const struct { const char *in; int rc; int code; const char *enh; } reply_tab[] = {
	{ "250 ok", 1, 250, "" },
	{ "250", 1, 250, "" },
	{ "250 2.1.5 recipient ok", 1, 250, "2.1.5" },
	{ "550 5.1.1 no such user", 1, 550, "5.1.1" },
	{ "550 4.1.1 class mismatch", 1, 550, "" },
	{ "451 4.3.0 try later", 1, 451, "4.3.0" },
	{ "250-first\n250-second\n250 last", 1, 250, "" },
	{ "250-first\n250 2.0.0 last", 1, 250, "2.0.0" },
	{ "250-first", 0, 250, "" },
	{ "25 short", Z_EPARSE, 0, "" },
	{ "abc def", Z_EPARSE, 0, "" },
	{ "2500 no separator", Z_EPARSE, 0, "" },
	{ "250x bad", Z_EPARSE, 0, "" },
	{ "650 class 6", Z_EPARSE, 0, "" },
	{ "250-first\n550 mismatch", Z_EPARSE, 0, "" },
	{ "", Z_EPARSE, 0, "" },
	{ "354 go ahead", 1, 354, "" },
	{ "250 2.0 not enhanced", 1, 250, "" },
	{ "250 2.0.0", 1, 250, "2.0.0" },
	{ "250 2.1000.0 too long", 1, 250, "" },
};

START_TEST(test_reply_table)
{
	smtp_reply r;
	zbuf err = ZBUF_INIT(512);
	smtp_reply_init(&r);
	int rc = feed(&r, reply_tab[_i].in, &err);
	ck_assert_msg(rc == reply_tab[_i].rc, "'%s': rc %d want %d", reply_tab[_i].in, rc,
		      reply_tab[_i].rc);
	if (rc == 1) {
		ck_assert_int_eq(r.code, reply_tab[_i].code);
		ck_assert_str_eq(r.enh, reply_tab[_i].enh);
	}
	if (rc < 0)
		ck_assert(err.len > 0);
	smtp_reply_free(&r);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_reply_nul_and_limits)
{
	smtp_reply r;
	zbuf err = ZBUF_INIT(512);
	char line[8];
	smtp_reply_init(&r);
	memcpy(line, "250 a\0b", 7);
	ck_assert_int_eq(smtp_reply_line(&r, line, 7, &err), Z_EPARSE);
	smtp_reply_reset(&r);
	for (int i = 0; i < SMTP_REPLY_LINES_MAX; i++)
		ck_assert_int_eq(smtp_reply_line(&r, "250-x", 5, &err), 0);
	ck_assert_int_eq(smtp_reply_line(&r, "250-x", 5, &err), Z_ETOOBIG);
	smtp_reply_free(&r);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_reply_last)
{
	smtp_reply r;
	zbuf err = ZBUF_INIT(512);
	zspan l;
	smtp_reply_init(&r);
	ck_assert_int_eq(feed(&r, "334 Y2hhbGxlbmdl", &err), 1);
	l = smtp_reply_last(&r);
	ck_assert(zspan_eq(l, "Y2hhbGxlbmdl"));
	ck_assert_int_eq(feed(&r, "250-a\n250 b c", &err), 1);
	l = smtp_reply_last(&r);
	ck_assert(zspan_eq(l, "b c"));
	smtp_reply_free(&r);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_caps)
{
	smtp_reply r;
	smtp_caps c;
	zbuf err = ZBUF_INIT(512);
	smtp_reply_init(&r);
	ck_assert_int_eq(feed(&r, "250-mx.example greets you\n250-pipelining\n250-SIZE 1000000\n"
			      "250-8BITMIME\n250-DSN\n250-ENHANCEDSTATUSCODES\n250-CHUNKING\n"
			      "250-STARTTLS\n250-AUTH PLAIN LOGIN CRAM-MD5\n250 X-RCPTLIMIT 5", &err), 1);
	smtp_caps_parse(&r, &c);
	ck_assert(c.flags & CAP_PIPELINING);
	ck_assert(c.flags & CAP_SIZE);
	ck_assert_uint_eq(c.size_max, 1000000);
	ck_assert(c.flags & CAP_8BITMIME);
	ck_assert(c.flags & CAP_DSN);
	ck_assert(c.flags & CAP_ENHSTATUS);
	ck_assert(c.flags & CAP_CHUNKING);
	ck_assert(c.flags & CAP_STARTTLS);
	ck_assert(c.flags & CAP_AUTH);
	ck_assert_uint_eq(c.auth, AUTHM_PLAIN | AUTHM_LOGIN | AUTHM_CRAMMD5);
	ck_assert_uint_eq(c.rcptlimit, 10);   /* clamped */

	/* the greeting line's words are not keywords */
	ck_assert_int_eq(feed(&r, "250-PIPELINING is not here\n250 AUTH=LOGIN", &err), 1);
	smtp_caps_parse(&r, &c);
	ck_assert(!(c.flags & CAP_PIPELINING));
	ck_assert_uint_eq(c.auth, AUTHM_LOGIN);
	ck_assert_uint_eq(c.rcptlimit, SMTP_RCPTLIMIT_DEFAULT);

	ck_assert_int_eq(feed(&r, "250-x\n250-SIZE\n250 LIMITS RCPTMAX=50 MAILMAX=3", &err), 1);
	smtp_caps_parse(&r, &c);
	ck_assert(c.flags & CAP_SIZE);
	ck_assert_uint_eq(c.size_max, 0);
	ck_assert_uint_eq(c.rcptlimit, 50);

	ck_assert_int_eq(feed(&r, "250-x\n250 SIZE junk", &err), 1);
	smtp_caps_parse(&r, &c);
	ck_assert_uint_eq(c.size_max, 0);
	smtp_reply_free(&r);
	zbuf_free(&err);
}
END_TEST

static const struct { const char *spec; int rc; long conn, tcpw, cmd, data, dot; } t_tab[] = {
	{ "60", Z_OK, 180, 180, 60, 120, 600 },
	{ "cmd=2m", Z_OK, 180, 180, 120, 120, 600 },
	{ "conn=30s,dot=20m", Z_OK, 30, 180, 300, 120, 1200 },
	{ "data=10,tcpw=1m", Z_OK, 180, 60, 300, 10, 600 },
	{ "cmd=5", Z_OK, 180, 180, 5, 120, 600 },
	{ "cmd=4", Z_EPARSE, 0, 0, 0, 0, 0 },
	{ "conn=9", Z_EPARSE, 0, 0, 0, 0, 0 },
	{ "dot=5", Z_EPARSE, 0, 0, 0, 0, 0 },
	{ "bogus=10", Z_EPARSE, 0, 0, 0, 0, 0 },
	{ "cmd=", Z_EPARSE, 0, 0, 0, 0, 0 },
	{ "", Z_EPARSE, 0, 0, 0, 0, 0 },
	{ "cmd=abc", Z_EPARSE, 0, 0, 0, 0, 0 },
	{ "2d", Z_EPARSE, 0, 0, 0, 0, 0 },
};

START_TEST(test_timeouts)
{
	smtp_timeouts t;
	zbuf err = ZBUF_INIT(512);
	smtp_timeouts_default(&t);
	int rc = smtp_timeouts_parse(t_tab[_i].spec, &t, &err);
	ck_assert_msg(rc == t_tab[_i].rc, "'%s': %d", t_tab[_i].spec, rc);
	if (rc == Z_OK) {
		ck_assert_int_eq(t.conn, t_tab[_i].conn);
		ck_assert_int_eq(t.tcpw, t_tab[_i].tcpw);
		ck_assert_int_eq(t.cmd, t_tab[_i].cmd);
		ck_assert_int_eq(t.data, t_tab[_i].data);
		ck_assert_int_eq(t.dot, t_tab[_i].dot);
	} else {
		ck_assert(err.len > 0);
	}
	zbuf_free(&err);
}
END_TEST

START_TEST(test_cram_b64)
{
	/* RFC 2195 example */
	zbuf o = ZBUF_INIT(256), d = ZBUF_INIT(256), e = ZBUF_INIT(256);
	const char *chal = "<1896.697170952@postoffice.reston.mci.net>";
	ck_assert_int_eq(smtp_cram_md5("tim", "tanstaaftanstaaf", chal, strlen(chal), &o), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o), "tim b913a602c7eda7a495b4e6e7334d3890");
	ck_assert_int_eq(smtp_b64_decode(zspan_from("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"), &d), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&d), chal);
	ck_assert_int_eq(smtp_b64_encode("ab", 2, &e), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&e), "YWI=");
	zbuf_reset(&d);
	ck_assert_int_eq(smtp_b64_decode(zspan_from("YWI="), &d), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&d), "ab");
	ck_assert_int_eq(smtp_b64_decode(zspan_from("YW!="), &d), Z_EPARSE);
	ck_assert_int_eq(smtp_b64_decode(zspan_from("YWI"), &d), Z_EPARSE);
	ck_assert_int_eq(smtp_b64_decode(zspan_from("Y=WI"), &d), Z_EPARSE);
	zbuf_free(&o);
	zbuf_free(&d);
	zbuf_free(&e);
}
END_TEST

START_TEST(test_tls_conf)
{
	smtp_tls_conf tc;
	zbuf err = ZBUF_INIT(512);
	const char *ok = "# comment\n; comment\ntls-CAfile /etc/ca.pem\ntls-verify secure\n"
		"tls-verify-name mx.example\ntls-loglevel 2\n";
	ck_assert_int_eq(smtp_tls_parse("t", ok, strlen(ok), &tc, &err), Z_OK);
	ck_assert_int_eq(tc.mode, TLSM_SECURE);
	ck_assert_str_eq(tc.cafile, "/etc/ca.pem");
	ck_assert_str_eq(tc.verifyname, "mx.example");
	ck_assert_int_eq(tc.loglevel, 2);
	ck_assert_int_eq(smtp_tls_parse("t", "", 0, &tc, &err), Z_OK);
	ck_assert_int_eq(tc.mode, TLSM_MAY);
	ck_assert_int_eq(smtp_tls_parse("t", "demand-tls-mode\n", 16, &tc, &err), Z_OK);
	ck_assert_int_eq(tc.mode, TLSM_ENCRYPT);
	ck_assert_int_eq(smtp_tls_parse("t", "tls-verify maybe\n", 17, &tc, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_tls_parse("t", "tls-bogus 1\n", 12, &tc, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_tls_parse("t", "tls-loglevel 9\n", 15, &tc, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_tls_parse("t", "tls-cert-file /x\n", 17, &tc, &err), Z_EPARSE);
	zbuf_free(&err);
}
END_TEST


/* io_pair - socketpair: *mine non-blocking, attached to io */
static void io_pair(smtp_session *io, int *peer)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	smtp_session_init(io, NULL);
	smtp_session_attach(io, sv[0]);
	*peer = sv[1];
}

static void io_done(smtp_session *io)
{
	smtp_session_free(io);
}

/* writer - child: write the pieces with pauses, then exit */
static pid_t writer(int fd, const char *const *pieces, int pause_us)
{
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		for (int i = 0; pieces[i] != NULL; i++) {
			if (write(fd, pieces[i], strlen(pieces[i])) < 0)
				_exit(1);
			usleep(pause_us);
		}
		_exit(0);
	}
	return pid;
}

START_TEST(test_io_split_reply)
{
	static const char *const pieces[] = { "25", "0-mx.exa", "mple\r\n250-PIPE", "LINING\r", "\n250 SIZE 1000\r\n", NULL };
	smtp_session io;
	smtp_reply r;
	smtp_caps c;
	zbuf err = ZBUF_INIT(512);
	int peer;
	pid_t pid;

	io_pair(&io, &peer);
	smtp_reply_init(&r);
	pid = writer(peer, pieces, 20000);
	ck_assert_int_eq(smtp_session_reply(&io, 5000, &r, &err), Z_OK);
	ck_assert_int_eq(r.code, 250);
	ck_assert_int_eq(r.nlines, 3);
	smtp_caps_parse(&r, &c);
	ck_assert(c.flags & CAP_PIPELINING);
	ck_assert_uint_eq(c.size_max, 1000);
	waitpid(pid, NULL, 0);
	close(peer);
	smtp_reply_free(&r);
	io_done(&io);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_io_bad_replies)
{
	smtp_session io;
	smtp_reply r;
	zbuf err = ZBUF_INIT(512);
	int peer;
	char big[6000];

	/* over-long line */
	io_pair(&io, &peer);
	smtp_reply_init(&r);
	memset(big, 'x', sizeof(big));
	memcpy(big, "250 ", 4);
	ck_assert_int_eq(write(peer, big, sizeof(big)), (ssize_t)sizeof(big));
	ck_assert_int_eq(smtp_session_reply(&io, 2000, &r, &err), Z_ETOOBIG);
	close(peer);
	io_done(&io);

	/* malformed */
	io_pair(&io, &peer);
	ck_assert_int_eq(write(peer, "hello\r\n", 7), 7);
	ck_assert_int_eq(smtp_session_reply(&io, 2000, &r, &err), Z_EPARSE);
	close(peer);
	io_done(&io);

	/* closed in the middle of a multi-line reply */
	io_pair(&io, &peer);
	ck_assert_int_eq(write(peer, "250-one\r\n", 9), 9);
	close(peer);
	ck_assert_int_eq(smtp_session_reply(&io, 2000, &r, &err), Z_EIO);
	ck_assert(strstr(zbuf_cstr(&err), "middle") != NULL);
	io_done(&io);

	/* stall: the timeout fires */
	io_pair(&io, &peer);
	ck_assert_int_eq(write(peer, "250-one\r\n", 9), 9);
	ck_assert_int_eq(smtp_session_reply(&io, 300, &r, &err), Z_EAGAIN);
	ck_assert(strstr(zbuf_cstr(&err), "timeout") != NULL);
	close(peer);
	io_done(&io);

	/* two replies in one read come out one by one */
	io_pair(&io, &peer);
	ck_assert_int_eq(write(peer, "250 a\r\n550 5.1.1 b\r\n", 20), 20);
	ck_assert_int_eq(smtp_session_reply(&io, 2000, &r, &err), Z_OK);
	ck_assert_int_eq(r.code, 250);
	ck_assert_int_eq(smtp_session_reply(&io, 2000, &r, &err), Z_OK);
	ck_assert_int_eq(r.code, 550);
	ck_assert_str_eq(r.enh, "5.1.1");
	close(peer);
	io_done(&io);
	smtp_reply_free(&r);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_io_no_deadlock)
{
	/* the peer writes 200 KB of replies before it reads anything; our
	 * 2 MB write must still finish because flush reads meanwhile */
	smtp_session io;
	zbuf err = ZBUF_INIT(512);
	int peer, small = 4096;
	pid_t pid;
	char *blob = malloc(2u * 1024u * 1024u);
	int st;

	ck_assert_ptr_nonnull(blob);
	memset(blob, 'a', 2u * 1024u * 1024u);
	io_pair(&io, &peer);
	setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(io.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		char buf[65536];
		size_t got = 0;
		for (int i = 0; i < 15000; i++)
			if (write(peer, "250 2.1.5 ok\r\n", 14) < 0)
				_exit(1);
		while (got < 2u * 1024u * 1024u) {
			ssize_t n = read(peer, buf, sizeof(buf));
			if (n <= 0)
				_exit(2);
			got += (size_t)n;
		}
		_exit(0);
	}
	ck_assert_int_eq(smtp_session_queue(&io, blob, 2u * 1024u * 1024u), Z_OK);
	ck_assert_int_eq(smtp_session_flush(&io, 10000, &err), Z_OK);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert(io.rbuf.len > 0);
	close(peer);
	io_done(&io);
	free(blob);
	zbuf_free(&err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("smtp_reply");
	TCase *t = tcase_create("parsers");
	tcase_add_loop_test(t, test_reply_table, 0, sizeof(reply_tab) / sizeof(reply_tab[0]));
	tcase_add_test(t, test_reply_nul_and_limits);
	tcase_add_test(t, test_reply_last);
	tcase_add_test(t, test_caps);
	tcase_add_loop_test(t, test_timeouts, 0, sizeof(t_tab) / sizeof(t_tab[0]));
	tcase_add_test(t, test_cram_b64);
	tcase_add_test(t, test_tls_conf);
	suite_add_tcase(s, t);
	t = tcase_create("io");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_io_split_reply);
	tcase_add_test(t, test_io_bad_replies);
	tcase_add_test(t, test_io_no_deadlock);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
