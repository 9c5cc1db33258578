/*
 * NAME
 *	check_pol_policy - unit tests for the policy delegation client
 * SUMMARY
 *	Action mapping table, reply parsing (bounds, duplicates, missing
 *	action), request building and checks, endpoint syntax, and queries
 *	against a small server in a child process on a UNIX socket: kept
 *	connection, reconnect after the server closed it, a server that
 *	never answers (timeout), and one that answers garbage.
 * SYNOPSIS
 *	check_pol_policy (run by make check)
 * DESCRIPTION
 *	The child server answers request N with the Nth canned reply.
 * DIAGNOSTICS
 *	libcheck's report.
 * SECURITY
 *	Test code; sockets live in the scratch directory.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtpserver/pol_policy.h, postgrey test in tests/integration/smtpd-policy.sh
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pol_policy.h"
#include "scratch.h"

static const struct {
	const char *action;
	int rc, verdict;
	unsigned flags;
	int code;
	const char *enh, *text, *header;
} acts[] = {
	{ "OK", Z_OK, POL_ACCEPT, POL_F_OK, 0, "", "", "" },
	{ "ok", Z_OK, POL_ACCEPT, POL_F_OK, 0, "", "", "" },
	{ "DUNNO", Z_OK, POL_ACCEPT, 0, 0, "", "", "" },
	{ "REJECT", Z_OK, POL_REJECT, 0, 554, "5.7.1", "Access denied", "" },
	{ "REJECT go away", Z_OK, POL_REJECT, 0, 554, "5.7.1", "go away", "" },
	{ "reject 5.7.9 you are listed", Z_OK, POL_REJECT, 0, 554, "5.7.9", "you are listed", "" },
	{ "DEFER later", Z_OK, POL_DEFER, 0, 450, "4.7.1", "later", "" },
	{ "DEFER_IF_PERMIT Greylisted, see x", Z_OK, POL_ACCEPT, POL_F_DEFER_IF_PERMIT, 450, "4.7.1",
	  "Greylisted, see x", "" },
	{ "DEFER_IF_REJECT maybe", Z_OK, POL_ACCEPT, POL_F_DEFER_IF_REJECT, 450, "4.7.1", "maybe", "" },
	{ "450 4.2.0 Greylisted", Z_OK, POL_DEFER, 0, 450, "4.2.0", "Greylisted", "" },
	{ "451 Try later", Z_OK, POL_DEFER, 0, 451, "4.7.1", "Try later", "" },
	{ "550 5.1.1 no such user", Z_OK, POL_REJECT, 0, 550, "5.1.1", "no such user", "" },
	{ "550 4.1.1 class mismatch", Z_OK, POL_REJECT, 0, 550, "5.7.1", "4.1.1 class mismatch", "" },
	/* all-numerical is OK (access(5)), even when it looks like a code */
	{ "521", Z_OK, POL_ACCEPT, POL_F_OK, 0, "", "", "" },
	{ "12345", Z_OK, POL_ACCEPT, POL_F_OK, 0, "", "", "" },
	/* 421/521 hang up in Postfix: here the plain defer / reject */
	{ "421 4.7.0 go away now", Z_OK, POL_DEFER, POL_F_UNSUPPORTED, 450, "4.7.0", "go away now", "" },
	{ "521 not here", Z_OK, POL_REJECT, POL_F_UNSUPPORTED, 554, "5.7.1", "not here", "" },
	{ "PREPEND X-Greylist: delayed 61 seconds", Z_OK, POL_ACCEPT, POL_F_PREPEND, 0, "", "",
	  "X-Greylist: delayed 61 seconds" },
	{ "WARN odd", Z_OK, POL_ACCEPT, POL_F_WARN, 0, "", "odd", "" },
	{ "HOLD check this", Z_OK, POL_ACCEPT, POL_F_HOLD, 0, "", "check this", "" },
	{ "DISCARD", Z_OK, POL_ACCEPT, POL_F_DISCARD, 0, "", "", "" },
	{ "DISCARD spam", Z_OK, POL_ACCEPT, POL_F_DISCARD, 0, "", "spam", "" },
	/* not done: FILTER and REDIRECT hold the message, BCC is DUNNO */
	{ "FILTER smtp:[127.0.0.1]:10025", Z_OK, POL_ACCEPT, POL_F_UNSUPPORTED | POL_F_HOLD, 0, "", "", "" },
	{ "redirect spam@example.org", Z_OK, POL_ACCEPT, POL_F_UNSUPPORTED | POL_F_HOLD, 0, "", "", "" },
	{ "BCC archive@example.org", Z_OK, POL_ACCEPT, POL_F_UNSUPPORTED, 0, "", "", "" },
	{ "INFO noted", Z_OK, POL_ACCEPT, POL_F_WARN, 0, "", "noted", "" },
	/* errors: Postfix's 451 4.3.5 */
	{ "", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	{ "MAYBE", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	{ "OK but", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	{ "650 nope", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	{ "260 nope", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	{ "5500 x", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	{ "PREPEND no-colon", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	{ "PREPEND Bad Name: x", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	{ "REJECT bell\a", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
	/* Postfix restriction names and classes are not actions here */
	{ "reject_unknown_client_hostname", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5",
	  "Server configuration problem", "" },
	{ "REDIRECT", Z_EPARSE, POL_DEFER, 0, 451, "4.3.5", "Server configuration problem", "" },
};

START_TEST(test_actions)
{
	pol_result r;
	zbuf err = ZBUF_INIT(256);
	int rc = pol_policy_action(acts[_i].action, strlen(acts[_i].action), &r, &err);

	ck_assert_msg(rc == acts[_i].rc, "'%s': rc %d (%s)", acts[_i].action, rc, zbuf_cstr(&err));
	ck_assert_msg(r.verdict == acts[_i].verdict, "'%s': verdict %d", acts[_i].action, r.verdict);
	ck_assert_msg(r.flags == acts[_i].flags, "'%s': flags %x", acts[_i].action, r.flags);
	ck_assert_int_eq(r.code, acts[_i].code);
	ck_assert_str_eq(r.enh, acts[_i].enh);
	ck_assert_str_eq(r.text, acts[_i].text);
	ck_assert_str_eq(r.header, acts[_i].header);
	/* an action not done as asked is named for the log */
	if (r.flags & POL_F_UNSUPPORTED)
		ck_assert_str_eq(r.orig, acts[_i].action);
	else
		ck_assert_str_eq(r.orig, "");
	zbuf_free(&err);
}
END_TEST

START_TEST(test_replies)
{
	pol_result r;
	zbuf err = ZBUF_INIT(256), big = ZBUF_INIT(20000);
	size_t used;
	const char *two = "action=DUNNO\nfoo=bar\n\naction=OK\n\n";

	ck_assert_int_eq(pol_policy_parse_reply(two, strlen(two), &r, &used, &err), Z_OK);
	ck_assert_uint_eq(used, 22);
	ck_assert_int_eq(pol_policy_parse_reply("action=OK\n", 10, &r, &used, &err), Z_EAGAIN);
	ck_assert_int_eq(pol_policy_parse_reply("", 0, &r, &used, &err), Z_EAGAIN);
	ck_assert_int_eq(pol_policy_parse_reply("ACTION=reject\r\n\r\n", 17, &r, &used, &err), Z_OK);
	ck_assert_int_eq(r.verdict, POL_REJECT);
	ck_assert_int_eq(pol_policy_parse_reply("foo=bar\n\n", 9, &r, &used, &err), Z_EPARSE);
	ck_assert_int_eq(r.code, 451);
	ck_assert_int_eq(pol_policy_parse_reply("action=OK\naction=OK\n\n", 21, &r, &used, &err), Z_EPARSE);
	ck_assert_int_eq(pol_policy_parse_reply("=x\n\n", 4, &r, &used, &err), Z_EPARSE);
	for (int i = 0; i < 500; i++)
		zbuf_puts(&big, "junk=0123456789\n");
	ck_assert_int_eq(pol_policy_parse_reply(big.data, big.len, &r, &used, &err), Z_EPARSE);
	ck_assert_msg(strstr(zbuf_cstr(&err), "too long") != NULL, "%s", zbuf_cstr(&err));
	zbuf_free(&err);
	zbuf_free(&big);
}
END_TEST

START_TEST(test_request)
{
	zbuf req = ZBUF_INIT(POL_POLICY_REQ_MAX), err = ZBUF_INIT(256);
	pol_policy_req q;

	memset(&q, 0, sizeof(q));
	q.protocol_state = "RCPT";
	q.protocol_name = "ESMTP";
	q.client_address = "192.0.2.1";
	q.sender = "";
	q.recipient = "a@example.org";
	q.recipient_count = 0;
	q.size = 1234;
	ck_assert_int_eq(pol_policy_request(&q, &req, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&req), "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
					  "sender=\nrecipient=a@example.org\nclient_address=192.0.2.1\n"
					  "recipient_count=0\nsize=1234\n");
	q.helo_name = "evil\nrecipient=x";
	ck_assert_int_eq(pol_policy_request(&q, &req, &err), Z_EPARSE);
	ck_assert_int_eq(pol_policy_attr(&req, "Bad", "x", &err), Z_EPARSE);
	ck_assert_int_eq(pol_policy_attr(&req, "a=b", "x", &err), Z_EPARSE);
	zbuf_free(&req);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_endpoints)
{
	const char *good[] = { "unix:/tmp/x", "/tmp/x", "inet:127.0.0.1:10023", "127.0.0.1:1", "[::1]:10023" };
	const char *badep[] = { "localhost:10023", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "[::1]10023", "inet:",
				"unix:relative" };
	zbuf err = ZBUF_INIT(256);

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		pol_policy *p = pol_policy_new(good[i], 1000, &err);
		ck_assert_msg(p != NULL, "%s: %s", good[i], zbuf_cstr(&err));
		pol_policy_free(p);
	}
	for (size_t i = 0; i < sizeof(badep) / sizeof(badep[0]); i++)
		ck_assert_msg(pol_policy_new(badep[i], 1000, &err) == NULL, "%s accepted", badep[i]);
	zbuf_free(&err);
}
END_TEST

/* serve - child: accept connections, answer requests with replies[] in
 * order; after `close_after` answers on one connection close it; a NULL
 * reply means "read and never answer" */
static void serve(int lfd, const char *const *replies, int close_after)
{
	int k = 0;

	for (;;) {
		int c = accept(lfd, NULL, NULL), on_conn = 0;
		char buf[8192];
		size_t have = 0;

		if (c < 0)
			_exit(0);
		for (;;) {
			ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
			char *end;
			if (n <= 0)
				break;
			have += (size_t)n;
			buf[have] = '\0';
			while ((end = strstr(buf, "\n\n")) != NULL) {
				size_t used = (size_t)(end - buf) + 2;
				if (replies[k] == NULL) {
					pause();
					_exit(0);
				}
				if (write(c, replies[k], strlen(replies[k])) < 0)
					_exit(1);
				k++;
				memmove(buf, buf + used, have - used);
				have -= used;
				buf[have] = '\0';
				if (++on_conn == close_after)
					goto next;
			}
		}
next:
		close(c);
	}
}

/* start_server - fork a server on path; returns its pid */
static pid_t start_server(const char *path, const char *const *replies, int close_after)
{
	struct sockaddr_un su;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
	unlink(path);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&su, sizeof(su)), 0);
	ck_assert_int_eq(listen(lfd, 5), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		serve(lfd, replies, close_after);
	close(lfd);
	return pid;
}

/* sockpath - a socket path in the scratch directory */
static void sockpath(char *out, size_t n, const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, n, "unix:%s/%s", t ? t : "/tmp", name);
}

START_TEST(test_query)
{
	const char *replies[] = { "action=DUNNO\n\n", "action=450 4.2.0 wait\n\n", "action=PREPEND X-Seen: yes\n\n",
				  "action=OK\n\n", NULL };
	char ep[300];
	zbuf req = ZBUF_INIT(POL_POLICY_REQ_MAX), err = ZBUF_INIT(256);
	pol_policy_req q;
	pol_result r;
	pol_policy *p;
	pid_t pid;

	sockpath(ep, sizeof(ep), "pol.sock");
	pid = start_server(ep + 5, replies, 2);
	memset(&q, 0, sizeof(q));
	q.protocol_state = "RCPT";
	q.client_address = "192.0.2.7";
	ck_assert_int_eq(pol_policy_request(&q, &req, &err), Z_OK);
	p = pol_policy_new(ep, 5000, &err);
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(pol_policy_query(p, &req, &r, &err) == Z_OK, "%s", zbuf_cstr(&err));
	ck_assert_int_eq(r.verdict, POL_ACCEPT);
	ck_assert_int_eq(pol_policy_query(p, &req, &r, &err), Z_OK);
	ck_assert_int_eq(r.verdict, POL_DEFER);
	ck_assert_str_eq(r.enh, "4.2.0");
	/* the server closed the connection after two answers: reconnect */
	ck_assert_msg(pol_policy_query(p, &req, &r, &err) == Z_OK, "%s", zbuf_cstr(&err));
	ck_assert_str_eq(r.header, "X-Seen: yes");
	ck_assert_int_eq(pol_policy_query(p, &req, &r, &err), Z_OK);
	ck_assert_uint_eq(r.flags, POL_F_OK);
	pol_policy_free(p);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* nothing listens any more */
	unlink(ep + 5);
	p = pol_policy_new(ep, 2000, &err);
	zbuf_reset(&err);
	ck_assert_int_eq(pol_policy_query(p, &req, &r, &err), Z_EIO);
	ck_assert_int_eq(r.code, 451);
	ck_assert_str_eq(r.enh, "4.3.5");
	pol_policy_free(p);
	zbuf_free(&req);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_query_silent_and_garbage)
{
	const char *silent[] = { NULL };
	const char *garbage[] = { "action=OK\nno equals sign\n\n", "x" };
	char ep[300];
	zbuf req = ZBUF_INIT(POL_POLICY_REQ_MAX), err = ZBUF_INIT(256);
	pol_result r;
	pol_policy *p;
	pid_t pid;

	zbuf_puts(&req, "request=smtpd_access_policy\n");
	sockpath(ep, sizeof(ep), "silent.sock");
	pid = start_server(ep + 5, silent, 0);
	p = pol_policy_new(ep, 300, &err);
	ck_assert_int_eq(pol_policy_query(p, &req, &r, &err), Z_EAGAIN);
	ck_assert_msg(strstr(zbuf_cstr(&err), "timed out") != NULL, "%s", zbuf_cstr(&err));
	ck_assert_int_eq(r.verdict, POL_DEFER);
	pol_policy_free(p);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	sockpath(ep, sizeof(ep), "garbage.sock");
	pid = start_server(ep + 5, garbage, 0);
	p = pol_policy_new(ep, 3000, &err);
	zbuf_reset(&err);
	ck_assert_int_eq(pol_policy_query(p, &req, &r, &err), Z_EPARSE);
	ck_assert_int_eq(r.code, 451);
	pol_policy_free(p);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	zbuf_free(&req);
	zbuf_free(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pol_policy");
	TCase *tc = tcase_create("core");

	signal(SIGPIPE, SIG_IGN);
	tcase_add_loop_test(tc, test_actions, 0, (int)(sizeof(acts) / sizeof(acts[0])));
	tcase_add_test(tc, test_replies);
	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_endpoints);
	tcase_add_test(tc, test_query);
	tcase_add_test(tc, test_query_silent_and_garbage);
	suite_add_tcase(s, tc);
	return scratch_run(s, "check_pol_policy");
}
