/*
 * NAME
 *	check_zmsmtp_xact - unit tests of libzmsmtp's transaction engine
 * SUMMARY
 *	The engine (smtpclient/zmsmtp_xact.c) driven through scripted hooks:
 *	the commands it writes, the bytes it queues on an unattached session
 *	(dot-stuffing for DATA, none for BDAT, chunk sizes), and what it
 *	decides for each reply script: pipelined group with a refusal,
 *	all-or-nothing, LMTP per-recipient replies, MAIL refused (with a 354
 *	to the pipelined DATA), the window's later(), unusable addresses, a
 *	lost connection, the callback body's dotstuff flag.
 * SECURITY
 *	Test code; inputs are the scripts below.  No network: the session's
 *	output buffer is inspected, never written.
 * SEE ALSO
 *	smtpclient/zmsmtp_xact.c, transport/smtp/smtp_xact.c, libzmsmtp(3)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "zerr.h"
#include "smtp_session.h"
#include "smtp_state.h"
#include "zmsmtp_xact.h"
#include "runsuite.h"

/* the scripted peer: replies in order ("250 2.0.0 ok"; "LOST": connection gone) */
struct fake {
	const char *const *script;
	size_t next;
	smtp_reply rep;
	zbuf cmds;                  /* every command, '|' separated */
	zbuf log;                   /* verdicts and results */
	int later, dotstuff_seen;
};

static int f_cmd(void *arg, long item, const char *line)
{
	struct fake *f = arg;
	(void)item;
	if (f->cmds.len)
		zbuf_putc(&f->cmds, '|');
	zbuf_puts(&f->cmds, line);
	return Z_OK;
}

static int f_reply(void *arg, int st, long item, const smtp_reply **rep)
{
	struct fake *f = arg;
	const char *s = f->script[f->next];
	(void)st;
	(void)item;
	*rep = &f->rep;
	if (s == NULL || strcmp(s, "LOST") == 0)
		return Z_EIO;
	f->next++;
	smtp_reply_reset(&f->rep);
	f->rep.code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	zbuf_puts(&f->rep.text, s);
	f->rep.complete = 1;
	return Z_OK;
}

static void f_verdict(void *arg, size_t i, const smtp_reply *rep, int v)
{
	struct fake *f = arg;
	zbuf_printf(&f->log, "v%zu=%d:%d ", i, v, rep->code);
}

static void f_unsent(void *arg, size_t i, int why)
{
	struct fake *f = arg;
	zbuf_printf(&f->log, "u%zu=%s ", i, why == Z_EPARSE ? "parse" : "long");
}

static void f_result(void *arg, size_t i, const smtp_reply *rep, int at)
{
	struct fake *f = arg;
	zbuf_printf(&f->log, "r%zu=%d@%d ", i, rep->code, at);
}

static int f_later(void *arg)
{
	struct fake *f = arg;
	return f->later;
}

static long f_tmo(void *arg, int st)
{
	(void)arg;
	(void)st;
	return 1000;
}

static int f_body(void *arg, int dotstuff, zmsmtp_out_fn out, void *outarg)
{
	struct fake *f = arg;
	f->dotstuff_seen = dotstuff;
	return out(outarg, "Subject: t\r\n\r\nhello\r\n", 21);
}

/* one run: x gets the hooks, ss, the recipients; returns the result */
struct run {
	struct fake f;
	smtp_session ss;
	smtp_caps caps;
	zmsmtp_xact x;
	zmsmtp_xrcpt r[4];
};

static void run_init(struct run *R, const char *const *script, unsigned flags, const char *const *rcpts,
		     const char *body)
{
	memset(R, 0, sizeof(*R));
	R->f.script = script;
	smtp_reply_init(&R->f.rep);
	zbuf_init(&R->f.cmds, 1u << 20);
	zbuf_init(&R->f.log, 1u << 16);
	smtp_session_init(&R->ss, NULL);
	zmsmtp_xact_init(&R->x);
	R->x.ss = &R->ss;
	R->x.caps = &R->caps;
	R->x.flags = flags;
	R->x.mail.sender = "a@x.test";
	for (size_t i = 0; rcpts[i] != NULL && i < 4; i++) {
		R->r[i].addr = rcpts[i];
		R->x.n++;
	}
	R->x.rcpt = R->r;
	if (body != NULL) {
		R->x.buf = body;
		R->x.len = strlen(body);
	} else {
		R->x.body = f_body;
	}
	R->x.arg = &R->f;
	R->x.cmd = f_cmd;
	R->x.reply = f_reply;
	R->x.rcpt_verdict = f_verdict;
	R->x.unsent = f_unsent;
	R->x.result = f_result;
	R->x.later = f_later;
	R->x.tmo = f_tmo;
}

static void run_free(struct run *R)
{
	zmsmtp_xact_free(&R->x);
	smtp_session_free(&R->ss);
	smtp_reply_free(&R->f.rep);
	zbuf_free(&R->f.cmds);
	zbuf_free(&R->f.log);
}

static const char *wire(struct run *R)
{
	return zbuf_cstr(&R->ss.wbuf);
}

START_TEST(pipelined_group_with_refusal)
{
	static const char *const sc[] = { "250 mail", "250 ok", "550 no", "354 go", "250 queued", NULL };
	static const char *const rc[] = { "b@x.test", "c@x.test", NULL };
	struct run R;
	run_init(&R, sc, ZMX_PIPELINE | ZMX_PIPE_DATA, rc, "Subject: t\n\n.dot\nend");
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_OK);
	ck_assert_str_eq(zbuf_cstr(&R.f.cmds), "MAIL From:<a@x.test>|RCPT To:<b@x.test>|RCPT To:<c@x.test>|DATA");
	ck_assert_str_eq(zbuf_cstr(&R.f.log), "v0=0:250 v1=2:550 r0=250@1 ");
	ck_assert_str_eq(wire(&R), "Subject: t\r\n\r\n..dot\r\nend\r\n.\r\n");
	ck_assert_uint_eq(R.x.nacc, 1);
	ck_assert_int_eq(R.x.need_rset, 0);
	ck_assert_int_eq(zmsmtp_xact_accepted(&R.x, 0), 1);
	ck_assert_int_eq(zmsmtp_xact_accepted(&R.x, 1), 0);
	run_free(&R);
}
END_TEST

START_TEST(all_or_nothing)
{
	static const char *const sc[] = { "250 mail", "250 ok", "451 later", NULL };
	static const char *const rc[] = { "b@x.test", "c@x.test", NULL };
	struct run R;
	run_init(&R, sc, ZMX_PIPELINE | ZMX_PIPE_DATA | ZMX_ALL_OR_NOTHING, rc, "x\n");
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_NOBODY);
	ck_assert_str_eq(zbuf_cstr(&R.f.cmds), "MAIL From:<a@x.test>|RCPT To:<b@x.test>|RCPT To:<c@x.test>");
	ck_assert_int_eq(R.x.need_rset, 1);
	ck_assert_uint_eq(R.ss.wbuf.len, 0);
	ck_assert_int_eq(zmsmtp_xact_rset(&R.x), Z_EIO);      /* script ended: lost */
	run_free(&R);
}
END_TEST

START_TEST(lmtp_one_reply_each)
{
	static const char *const sc[] = { "250 mail", "250 ok", "250 ok", "354 go", "250 b done",
					  "452 c full", NULL };
	static const char *const rc[] = { "b@x.test", "c@x.test", NULL };
	struct run R;
	run_init(&R, sc, ZMX_LMTP, rc, "x\n");
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_OK);
	ck_assert_str_eq(zbuf_cstr(&R.f.log), "v0=0:250 v1=0:250 r0=250@1 r1=452@1 ");
	ck_assert_str_eq(zbuf_cstr(&R.f.cmds), "MAIL From:<a@x.test>|RCPT To:<b@x.test>|RCPT To:<c@x.test>|DATA");
	run_free(&R);
}
END_TEST

START_TEST(bdat_chunks)
{
	static const char *const sc[] = { "250 mail", "250 ok", "250 chunk", "250 last", NULL };
	static const char *const rc[] = { "b@x.test", NULL };
	struct run R;
	size_t n = 100000;
	char *body = malloc(n + 1);
	const char *w;

	for (size_t i = 0; i < n; i++)
		body[i] = i % 50 == 49 ? '\n' : '.';
	body[n] = '\0';
	run_init(&R, sc, ZMX_BDAT, rc, body);
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_OK);
	ck_assert_uint_eq(R.x.nchunks, 1);
	/* 2000 lines: LF -> CRLF, no dot-stuffing, no final dot */
	ck_assert_uint_eq(R.x.bytes, n + 2000);
	ck_assert_str_eq(zbuf_cstr(&R.f.cmds), "MAIL From:<a@x.test>|RCPT To:<b@x.test>|BDAT 65536|BDAT 36464 LAST");
	w = wire(&R);
	ck_assert_uint_eq(R.ss.wbuf.len, n + 2000);
	{
		size_t dots = 0;
		for (size_t i = 0; i < R.ss.wbuf.len; i++)
			dots += w[i] == '.';
		ck_assert_uint_eq(dots, 49 * 2000);             /* not one added */
	}
	ck_assert_str_eq(zbuf_cstr(&R.f.log), "v0=0:250 r0=250@1 ");
	free(body);
	run_free(&R);
}
END_TEST

START_TEST(bdat_chunk_refused)
{
	static const char *const sc[] = { "250 mail", "250 ok", "552 too big", "250 last", NULL };
	static const char *const rc[] = { "b@x.test", NULL };
	struct run R;
	size_t n = 70000;
	char *body = malloc(n + 1);

	memset(body, 'a', n);
	body[n] = '\0';
	run_init(&R, sc, ZMX_BDAT | ZMX_PIPELINE, rc, body);
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_NOBODY);
	ck_assert_int_eq(R.x.need_rset, 1);
	ck_assert_str_eq(zbuf_cstr(&R.f.log), "v0=0:250 r0=552@1 ");
	free(body);
	run_free(&R);
}
END_TEST

START_TEST(mail_refused)
{
	static const char *const sc[] = { "550 go away", NULL };
	static const char *const rc[] = { "b@x.test", NULL };
	struct run R;
	run_init(&R, sc, 0, rc, "x\n");
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_MAILFAIL);
	ck_assert_int_eq(R.x.mailrep.code, 550);
	ck_assert_int_eq(R.x.need_rset, 1);
	ck_assert_str_eq(zbuf_cstr(&R.f.cmds), "MAIL From:<a@x.test>");
	run_free(&R);
}
END_TEST

START_TEST(mail_refused_data_354)
{
	static const char *const sc[] = { "550 go away", "503 no mail", "354 go", NULL };
	static const char *const rc[] = { "b@x.test", NULL };
	struct run R;
	run_init(&R, sc, ZMX_PIPELINE | ZMX_PIPE_DATA, rc, "x\n");
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_MAILFAIL);
	ck_assert_ptr_nonnull(R.x.drop);
	run_free(&R);
}
END_TEST

START_TEST(nothing_accepted_data_refused)
{
	static const char *const sc[] = { "250 mail", "550 no", "554 no valid recipients", NULL };
	static const char *const rc[] = { "b@x.test", NULL };
	struct run R;
	run_init(&R, sc, ZMX_PIPELINE | ZMX_PIPE_DATA, rc, "x\n");
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_NOBODY);
	ck_assert_ptr_null(R.x.drop);
	ck_assert_int_eq(R.x.need_rset, 1);
	ck_assert_uint_eq(R.ss.wbuf.len, 0);
	run_free(&R);
}
END_TEST

START_TEST(window_later)
{
	static const char *const sc[] = { "250 mail", "250 ok", "354 go", NULL };
	static const char *const rc[] = { "b@x.test", NULL };
	struct run R;
	run_init(&R, sc, ZMX_PIPELINE | ZMX_PIPE_DATA, rc, NULL);
	R.f.later = 1;
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_PENDING);
	ck_assert_int_eq(R.f.dotstuff_seen, 1);
	ck_assert_str_eq(wire(&R), "Subject: t\r\n\r\nhello\r\n.\r\n");
	ck_assert_str_eq(zbuf_cstr(&R.f.log), "v0=0:250 ");     /* no result yet */
	run_free(&R);
}
END_TEST

START_TEST(callback_bdat_not_stuffed)
{
	static const char *const sc[] = { "250 mail", "250 ok", "250 last", NULL };
	static const char *const rc[] = { "b@x.test", NULL };
	struct run R;
	run_init(&R, sc, ZMX_BDAT, rc, NULL);
	R.f.dotstuff_seen = -1;
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_OK);
	ck_assert_int_eq(R.f.dotstuff_seen, 0);
	ck_assert_str_eq(zbuf_cstr(&R.f.cmds), "MAIL From:<a@x.test>|RCPT To:<b@x.test>|BDAT 21 LAST");
	run_free(&R);
}
END_TEST

START_TEST(unusable_and_lost)
{
	static const char *const sc[] = { "250 mail", "LOST", NULL };
	static const char *const rc[] = { "b<evil>@x.test", "c\r\nDATA@x.test", "d@x.test", NULL };
	static const char *const sc2[] = { "LOST", NULL };
	struct run R;
	run_init(&R, sc, 0, rc, "x\n");
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_LOST);
	ck_assert_str_eq(zbuf_cstr(&R.f.cmds), "MAIL From:<a@x.test>|RCPT To:<d@x.test>");
	ck_assert_str_eq(zbuf_cstr(&R.f.log), "u0=parse u1=parse ");
	run_free(&R);
	run_init(&R, sc2, ZMX_PIPELINE, rc + 2, "x\n");
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_LOST_MAIL);
	run_free(&R);
}
END_TEST

START_TEST(bad_sender)
{
	static const char *const sc[] = { NULL };
	static const char *const rc[] = { "b@x.test", NULL };
	struct run R;
	run_init(&R, sc, 0, rc, "x\n");
	R.x.mail.sender = "a\r\nRSET";
	ck_assert_int_eq(zmsmtp_xact_run(&R.x), ZMX_BADMAIL);
	ck_assert_uint_eq(R.f.cmds.len, 0);
	run_free(&R);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("zmsmtp_xact");
	TCase *t = tcase_create("engine");
	tcase_add_test(t, pipelined_group_with_refusal);
	tcase_add_test(t, all_or_nothing);
	tcase_add_test(t, lmtp_one_reply_each);
	tcase_add_test(t, bdat_chunks);
	tcase_add_test(t, bdat_chunk_refused);
	tcase_add_test(t, mail_refused);
	tcase_add_test(t, mail_refused_data_354);
	tcase_add_test(t, nothing_accepted_data_refused);
	tcase_add_test(t, window_later);
	tcase_add_test(t, callback_bdat_not_stuffed);
	tcase_add_test(t, unusable_and_lost);
	tcase_add_test(t, bad_sender);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(suite());
}
