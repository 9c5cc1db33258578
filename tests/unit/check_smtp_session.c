/*
 * NAME
 *	check_smtp_session - unit tests of the smtp/ layer's session I/O and
 *	reply formatting
 * SUMMARY
 *	A socketpair plays the peer: replies and command lines are read
 *	through smtp_session with its per-session callbacks, a server's
 *	replies are formatted and read back by a client session.
 * SECURITY
 *	Test code; the peer is the other end of a socketpair.
 * SEE ALSO
 *	smtp/smtp_session.c, smtp/smtp_reply.c
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "smtp_session.h"
#include "smtp_state.h"
#include "zerr.h"

struct seen {
	int lines, waits, polls, last_state;
	char last[256];
};

static void cb_line(void *arg, const char *line, size_t n)
{
	struct seen *s = arg;
	s->lines++;
	if (n >= sizeof(s->last))
		n = sizeof(s->last) - 1;
	memcpy(s->last, line, n);
	s->last[n] = '\0';
}

static void cb_wait(void *arg)
{
	((struct seen *)arg)->waits++;
}

static void cb_progress(void *arg, int st)
{
	((struct seen *)arg)->last_state = st;
}

static int cb_poll(void *arg, struct pollfd *fds, unsigned long n, int ms)
{
	((struct seen *)arg)->polls++;
	return poll(fds, (nfds_t)n, ms);
}

/* pair - a session on one end of a socketpair, the peer fd in *peer */
static void pair(smtp_session *ss, struct seen *seen, int *peer)
{
	int sv[2];
	smtp_session_cb cb = { seen, cb_line, cb_wait, cb_progress, cb_poll };

	memset(seen, 0, sizeof(*seen));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	smtp_session_init(ss, &cb);
	smtp_session_attach(ss, sv[0]);
	*peer = sv[1];
}

static void put(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* a multi-line reply arrives in pieces; every line goes to the line hook,
 * the wait hook runs before blocking, waits go through the poll hook */
START_TEST(test_reply_with_hooks)
{
	smtp_session ss;
	struct seen seen;
	smtp_reply r;
	zbuf err = ZBUF_INIT(256);
	int peer;

	pair(&ss, &seen, &peer);
	smtp_reply_init(&r);
	put(peer, "250-first\r\n250-PIPE");
	put(peer, "LINING\r\n250 2.0.0 last\r\n");
	ck_assert_int_eq(smtp_session_reply(&ss, 5000, &r, &err), Z_OK);
	ck_assert_int_eq(r.code, 250);
	ck_assert_int_eq(r.nlines, 3);
	ck_assert_str_eq(r.enh, "2.0.0");
	ck_assert_int_eq(seen.lines, 3);
	ck_assert_str_eq(seen.last, "250 2.0.0 last");
	ck_assert_int_ge(seen.polls, 1);
	ck_assert_int_ge(seen.waits, 1);
	smtp_session_state(&ss, S_RCPT);
	ck_assert_int_eq(seen.last_state, S_RCPT);
	ck_assert_int_eq(ss.state, S_RCPT);
	/* the peer closes in the middle of a reply */
	put(peer, "451-half\r\n");
	close(peer);
	ck_assert_int_eq(smtp_session_reply(&ss, 5000, &r, &err), Z_EIO);
	ck_assert_str_eq(zbuf_cstr(&err), "connection closed in the middle of a reply");
	smtp_reply_free(&r);
	smtp_session_free(&ss);
	zbuf_free(&err);
}
END_TEST

/* a timeout names what was awaited; bad lines break the session */
START_TEST(test_reply_errors)
{
	smtp_session ss;
	struct seen seen;
	smtp_reply r;
	zbuf err = ZBUF_INIT(256);
	int peer;

	pair(&ss, &seen, &peer);
	smtp_reply_init(&r);
	ck_assert_int_eq(smtp_session_reply(&ss, 100, &r, &err), Z_EAGAIN);
	ck_assert_str_eq(zbuf_cstr(&err), "timeout after 0 s waiting for the reply");
	put(peer, "hello\r\n");
	ck_assert_int_eq(smtp_session_reply(&ss, 5000, &r, &err), Z_EPARSE);
	ck_assert(ss.broken);
	close(peer);
	smtp_reply_free(&r);
	smtp_session_free(&ss);
	zbuf_free(&err);
}
END_TEST

/* server direction: command lines in, formatted replies out, read back by
 * a client session on the other end */
START_TEST(test_server_side)
{
	smtp_session srv, cli;
	struct seen s1;
	smtp_reply r;
	zbuf err = ZBUF_INIT(256), line = ZBUF_INIT(4096);
	int peer1;
	char big[SMTP_CMD_MAX + 100];

	pair(&srv, &s1, &peer1);
	smtp_session_init(&cli, NULL);
	ck_assert_int_eq(fcntl(peer1, F_SETFL, O_NONBLOCK), 0);
	smtp_session_attach(&cli, peer1);
	smtp_reply_init(&r);
	{
		const char *cmds = "EHLO client.example\r\nMAIL FROM:<>\n";
		ck_assert_int_eq(smtp_session_queue(&cli, cmds, strlen(cmds)), Z_OK);
	}
	ck_assert_int_eq(smtp_session_flush(&cli, 5000, &err), Z_OK);
	ck_assert_int_eq(smtp_session_command(&srv, 5000, &line, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&line), "EHLO client.example");
	ck_assert_int_eq(smtp_session_command(&srv, 5000, &line, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&line), "MAIL FROM:<>");
	ck_assert_int_eq(s1.lines, 2);
	ck_assert_int_eq(smtp_session_send_reply(&srv, 250, NULL, "mx.example\nPIPELINING\n8BITMIME"),
			 Z_OK);
	ck_assert_int_eq(smtp_session_send_reply(&srv, 550, "5.1.1", "no such user"), Z_OK);
	ck_assert_int_eq(smtp_session_flush(&srv, 5000, &err), Z_OK);
	ck_assert_int_eq(smtp_session_reply(&cli, 5000, &r, &err), Z_OK);
	ck_assert_int_eq(r.code, 250);
	ck_assert_int_eq(r.nlines, 3);
	ck_assert_str_eq(zbuf_cstr(&r.text), "250-mx.example\n250-PIPELINING\n250 8BITMIME");
	ck_assert_int_eq(smtp_session_reply(&cli, 5000, &r, &err), Z_OK);
	ck_assert_int_eq(r.code, 550);
	ck_assert_str_eq(r.enh, "5.1.1");
	/* an over-long command line is refused */
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(smtp_session_queue(&cli, big, sizeof(big)), Z_OK);
	ck_assert_int_eq(smtp_session_flush(&cli, 5000, &err), Z_OK);
	ck_assert_int_eq(smtp_session_command(&srv, 5000, &line, &err), Z_ETOOBIG);
	smtp_reply_free(&r);
	smtp_session_free(&srv);
	smtp_session_free(&cli);
	zbuf_free(&err);
	zbuf_free(&line);
}
END_TEST

/* the formatter: codes, enhanced codes, injection, bounds */
START_TEST(test_format)
{
	zbuf o = ZBUF_INIT(8192);
	char longline[600];

	ck_assert_int_eq(smtp_reply_format(&o, 221, "2.0.0", zspan_from("bye")), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o), "221 2.0.0 bye\r\n");
	zbuf_reset(&o);
	ck_assert_int_eq(smtp_reply_format(&o, 250, "", zspan_from("a\nb")), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o), "250-a\r\n250 b\r\n");
	zbuf_reset(&o);
	ck_assert_int_eq(smtp_reply_format(&o, 354, NULL, zspan_from("")), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o), "354 \r\n");
	zbuf_reset(&o);
	ck_assert_int_eq(smtp_reply_format(&o, 199, NULL, zspan_from("x")), Z_EPARSE);
	ck_assert_int_eq(smtp_reply_format(&o, 550, "4.1.1", zspan_from("x")), Z_EPARSE);
	ck_assert_int_eq(smtp_reply_format(&o, 550, "5.1", zspan_from("x")), Z_EPARSE);
	ck_assert_int_eq(smtp_reply_format(&o, 550, NULL, zspan_from("a\r\n250 ok")), Z_EPARSE);
	memset(longline, 'y', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	ck_assert_int_eq(smtp_reply_format(&o, 550, NULL, zspan_from(longline)), Z_ETOOBIG);
	ck_assert_uint_eq(o.len, 0);
	zbuf_free(&o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smtp_session");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_reply_with_hooks);
	tcase_add_test(tc, test_reply_errors);
	tcase_add_test(tc, test_server_side);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
