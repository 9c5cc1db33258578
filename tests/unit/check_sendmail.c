/*
 * NAME
 *	check_sendmail - unit tests for sendmail/smlib.c
 * SUMMARY
 *	sendmail(8) option parsing, the input filter (CRLF, lone dot, -i),
 *	header-end detection, header rewrite (-t, Resent-*, Bcc, added
 *	fields, X-Authentication-Warning), sender parsing, From: values,
 *	gecos names, the trusted-user list and the envelope lines.
 * SYNOPSIS
 *	check_sendmail (run by make check)
 * DESCRIPTION
 *	Tables of good and bad inputs; expected outputs are compared byte
 *	for byte.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	No files, no network.
 * BUGS
 *	None known.
 * SEE ALSO
 *	sendmail/smlib.c, sendmail(8)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "zbuf.h"
#include "smlib.h"

/* parse - run sm_opts_parse on a NULL-terminated list */
static int parse(sm_opts *o, zbuf *err, const char *const *args)
{
	static char *argv[64];
	int argc = 0;

	argv[argc++] = "sendmail";
	for (; *args != NULL && argc < 63; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	zbuf_reset(err);
	return sm_opts_parse(argc, argv, o, err);
}

START_TEST(test_opts_good)
{
	zbuf err = ZBUF_INIT(512);
	sm_opts o;

	{
		const char *a[] = { "-t", "-i", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert(o.tflag && o.iflag && o.mode == SM_MODE_DELIVER);
		ck_assert_int_eq(o.nrcpts, 0);
		ck_assert_int_eq(o.errmode, 'p');
	}
	{
		const char *a[] = { "-oi", "-f", "bob@x.test", "-F", "Bob B", "a@b.test", "c", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert(o.iflag && !o.tflag);
		ck_assert_str_eq(o.from, "bob@x.test");
		ck_assert_str_eq(o.fullname, "Bob B");
		ck_assert_int_eq(o.nrcpts, 2);
		ck_assert_str_eq(o.rcpts[0], "a@b.test");
		ck_assert_str_eq(o.rcpts[1], "c");
	}
	{
		const char *a[] = { "-ti", "-rbob", "-N", "Success,DELAY", "-R", "hdrs", "-V", "id1",
				    "-v", "-E", "-B", "8bitmime", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert(o.tflag && o.iflag && o.verbose && o.external);
		ck_assert_str_eq(o.from, "bob");
		ck_assert_uint_eq(o.notify, MNOTIFY_SUCCESS | MNOTIFY_DELAY);
		ck_assert_str_eq(o.ret, "HDRS");
		ck_assert_str_eq(o.envid, "id1");
		ck_assert_str_eq(o.bodytype, "8BITMIME");
	}
	{
		const char *a[] = { "-bp", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert_int_eq(o.mode, SM_MODE_PRINTQ);
	}
	{
		const char *a[] = { "-bs", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert_int_eq(o.mode, SM_MODE_SMTP);
	}
	{
		const char *a[] = { "-bi", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert_int_eq(o.mode, SM_MODE_NEWALIASES);
	}
	{
		const char *a[] = { "-q", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert_int_eq(o.mode, SM_MODE_QUEUERUN);
		const char *b[] = { "-q1h", NULL };
		ck_assert_int_eq(parse(&o, &err, b), Z_OK);
		ck_assert_int_eq(o.mode, SM_MODE_QUEUERUN);
	}
	{
		/* error modes, -bm, and options zmta accepts and ignores */
		const char *a[] = { "-oem", "-bm", "-odb", "-oL9", "-om", "-C", "/etc/x.cf", "-d0.1",
				    "-h", "17", "-p", "ESMTP:x", "-L", "tag", "-X", "/tmp/log",
				    "-Am", "-G", "-U", "-x", "-n", "-m", "-s", "-J",
				    "-O", "DeliveryMode=b", "-B", "binarymime", "-D", "f", "u", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert_int_eq(o.errmode, 'm');
		ck_assert_int_eq(o.mode, SM_MODE_DELIVER);
		ck_assert_uint_eq(o.ignored, 20);
		ck_assert(o.bodytype == NULL);
		ck_assert_int_eq(o.nrcpts, 1);
	}
	{
		const char *a[] = { "-oeq", "-O", "IgnoreDots=true", "-oQ/var/po", "x", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert_int_eq(o.errmode, 'q');
		ck_assert(o.iflag);
		ck_assert_str_eq(o.postoffice, "/var/po");
		const char *b[] = { "-e", "w", "-O", "ErrorMode=p", "-oifalse", "x", NULL };
		ck_assert_int_eq(parse(&o, &err, b), Z_OK);
		ck_assert_int_eq(o.errmode, 'p');
		ck_assert(!o.iflag);
	}
	{
		/* operands end the options */
		const char *a[] = { "a@b.test", "-t", NULL };
		ck_assert_int_eq(parse(&o, &err, a), Z_OK);
		ck_assert(!o.tflag);
		ck_assert_int_eq(o.nrcpts, 2);
	}
	zbuf_free(&err);
}
END_TEST

START_TEST(test_opts_bad)
{
	static const char *const bad[][4] = {
		{ "-Z", NULL }, { "-f", NULL }, { "-N", NULL }, { "-N", "sometimes", NULL },
		{ "-N", "never,success", NULL }, { "-N", "", NULL }, { "-R", "body", NULL },
		{ "-bd", NULL }, { "-bt", NULL }, { "-bv", NULL }, { "-b", "", NULL },
		{ "-oex", NULL }, { "-e", "z", NULL }, { "-oQ", NULL }, { "-V", "", NULL },
		{ "-f", "a", "-r", "b" }, { "-#", NULL },
	};
	zbuf err = ZBUF_INIT(512);
	sm_opts o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *a[5] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };
		ck_assert_msg(parse(&o, &err, a) == Z_EPARSE, "case %zu accepted", i);
		ck_assert_msg(err.len > 0, "case %zu: no reason", i);
	}
	zbuf_free(&err);
}
END_TEST

START_TEST(test_notify_format)
{
	zbuf out = ZBUF_INIT(64), err = ZBUF_INIT(128);
	unsigned b;

	ck_assert_int_eq(sm_notify_parse("delay, failure ,SUCCESS", &b, &err), Z_OK);
	ck_assert_int_eq(mparam_notify_format(b, &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "SUCCESS,FAILURE,DELAY");
	zbuf_reset(&out);
	ck_assert_int_eq(sm_notify_parse("NEVER", &b, &err), Z_OK);
	ck_assert_int_eq(mparam_notify_format(b, &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "NEVER");
	/* the SMTP rule (mail/): no empty item, "never" alone, nothing else */
	{
		static const char *const bad[] = { "success,", ",failure", "success,,delay",
			"never,delay", "Never, success", "sometimes", "" };
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			zbuf_reset(&err);
			ck_assert_msg(sm_notify_parse(bad[i], &b, &err) == Z_EPARSE, "\"%s\" accepted", bad[i]);
			ck_assert(err.len > 0);
		}
	}
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

/* filter - run the input filter over in (fed in pieces of step bytes) */
static void filter(const char *in, int iflag, size_t step, zbuf *out, int *done)
{
	sm_in st;
	size_t n = strlen(in);

	sm_in_init(&st, iflag);
	zbuf_reset(out);
	for (size_t i = 0; i < n; i += step)
		ck_assert_int_eq(sm_in_feed(&st, in + i, n - i < step ? n - i : step, out), Z_OK);
	*done = st.done;
	ck_assert_int_eq(sm_in_finish(&st, out), Z_OK);
	ck_assert_uint_eq(st.bytes, out->len);
}

START_TEST(test_input_filter)
{
	static const struct {
		const char *in;
		int iflag;
		const char *out;
		int dot_end;
	} t[] = {
		{ "a\nb\n", 0, "a\nb\n", 0 },
		{ "a\r\nb\r\n", 0, "a\nb\n", 0 },
		{ "a\nb", 0, "a\nb\n", 0 },                     /* final newline added */
		{ "", 0, "", 0 },
		{ "a\n.\nb\n", 0, "a\n", 1 },                   /* lone dot ends */
		{ "a\r\n.\r\nb\r\n", 0, "a\n", 1 },
		{ "a\n.\nb\n", 1, "a\n.\nb\n", 0 },             /* -i: data */
		{ ".\n", 0, "", 1 },
		{ "a\n..\n.x\n. \n", 0, "a\n..\n.x\n. \n", 0 }, /* no unstuffing */
		{ "a\n.", 0, "a\n", 0 },                        /* "." at EOF: the end */
		{ "a\rb\n", 0, "a\rb\n", 0 },                   /* bare CR kept */
		{ "a\n.\rb\n", 0, "a\n.\rb\n", 0 },
		{ "a\r", 0, "a\r\n", 0 },
		{ "x\n.\r", 0, "x\n", 0 },
	};
	zbuf out = ZBUF_INIT(1024);
	int done;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (size_t step = 1; step <= 8; step += 7) {
			filter(t[i].in, t[i].iflag, step, &out, &done);
			ck_assert_msg(out.len == strlen(t[i].out) &&
				      memcmp(out.data ? out.data : "", t[i].out, out.len) == 0,
				      "case %zu step %zu: got '%s'", i, step, zbuf_cstr(&out));
			ck_assert_msg(done == t[i].dot_end, "case %zu step %zu: done %d", i, step, done);
		}
	}
	/* a full buffer is reported */
	{
		zbuf small = ZBUF_INIT(4);
		sm_in st;

		sm_in_init(&st, 0);
		ck_assert_int_eq(sm_in_feed(&st, "abcdefgh\n", 9, &small), Z_ETOOBIG);
		zbuf_free(&small);
	}
	zbuf_free(&out);
}
END_TEST

START_TEST(test_header_end)
{
	static const struct {
		const char *t;
		int eof, found;
		size_t skip, hdr_len, body_off;
		int need_blank;
	} c[] = {
		{ "A: 1\nB: 2\n\nbody\n", 0, 1, 0, 10, 11, 0 },
		{ "A: 1\n folded\n\nx\n", 0, 1, 0, 13, 14, 0 },
		{ "A: 1\nB: 2\n", 0, 0, 0, 0, 0, 0 },           /* more input needed */
		{ "A: 1\nB: 2\n", 1, 1, 0, 10, 10, 0 },         /* header only */
		{ "A: 1\nnot a field\nmore\n", 0, 1, 0, 5, 5, 1 },
		{ "hello world\n", 0, 1, 0, 0, 0, 1 },
		{ " cont\nA: 1\n\n", 0, 1, 0, 0, 0, 1 },         /* continuation first */
		{ "From bob Mon Dec 7\nA: 1\n\nx\n", 0, 1, 19, 24, 25, 0 },
		{ "From", 0, 0, 0, 0, 0, 0 },
		{ "Name : v\n\n", 0, 1, 0, 9, 10, 0 },          /* blank before colon */
		{ "", 1, 1, 0, 0, 0, 0 },
		{ "\nbody\n", 0, 1, 0, 0, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t skip = 99, hl = 99, bo = 99;
		int nb = 99;
		int f = sm_header_end(c[i].t, strlen(c[i].t), c[i].eof, &skip, &hl, &bo, &nb);

		ck_assert_msg(f == c[i].found, "case %zu: found %d", i, f);
		if (!f)
			continue;
		ck_assert_msg(skip == c[i].skip && hl == c[i].hdr_len && bo == c[i].body_off &&
			      nb == c[i].need_blank, "case %zu: skip %zu hdr %zu body %zu blank %d",
			      i, skip, hl, bo, nb);
	}
}
END_TEST

/* rewrite - sm_header_rewrite with tflag, the fixed added values */
static int rewrite(const char *hdr, int tflag, const char *warn, zbuf *out, sm_rcpts *r,
		   zbuf *err)
{
	sm_hctx h = { tflag, "U <u@h.test>", "Mon, 7 Dec 2026 00:00:00 +0000", "<id@h.test>",
		      warn };

	zbuf_reset(out);
	zbuf_reset(err);
	return sm_header_rewrite(&h, hdr, strlen(hdr), out, r, err);
}

/* rcpts_str - recipients joined by spaces */
static const char *rcpts_str(const sm_rcpts *r)
{
	static zbuf s = ZBUF_INIT(4096);

	zbuf_reset(&s);
	for (size_t i = 0; i < r->n; i++)
		zbuf_printf(&s, "%s%s", i ? " " : "", r->v[i]);
	return zbuf_cstr(&s);
}

START_TEST(test_header_rewrite)
{
	zbuf out = ZBUF_INIT(SM_HEADER_MAX), err = ZBUF_INIT(512);
	sm_rcpts r;

	/* -t: To, Cc, Bcc; Bcc removed; From/Date/Message-ID added */
	sm_rcpts_init(&r, 100);
	ck_assert_int_eq(rewrite("Subject: s\nTo: a@x.test, \"B b\" <b@x.test>\nCc: c@x.test,\n"
				 " a@x.test\nBcc: hidden@y.test\n", 1, NULL, &out, &r, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out),
			 "Subject: s\nTo: a@x.test, \"B b\" <b@x.test>\nCc: c@x.test,\n a@x.test\n"
			 "From: U <u@h.test>\nDate: Mon, 7 Dec 2026 00:00:00 +0000\n"
			 "Message-ID: <id@h.test>\n");
	ck_assert_str_eq(rcpts_str(&r), "a@x.test b@x.test c@x.test hidden@y.test");
	sm_rcpts_free(&r);

	/* without -t: Bcc still removed, no recipients collected; present
	 * fields are not added again (any case) */
	sm_rcpts_init(&r, 100);
	ck_assert_int_eq(rewrite("from: me@x.test\nDATE: whenever\nmessage-id: <m@x>\n"
				 "BCC: z@y.test\nTo: a@x.test\n", 0, NULL, &out, &r, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out),
			 "from: me@x.test\nDATE: whenever\nmessage-id: <m@x>\nTo: a@x.test\n");
	ck_assert_uint_eq(r.n, 0);
	sm_rcpts_free(&r);

	/* Resent-*: only the Resent- recipients count; Resent-Bcc removed */
	sm_rcpts_init(&r, 100);
	ck_assert_int_eq(rewrite("To: orig@x.test\nResent-To: new@y.test\nResent-Bcc: rb@y.test\n"
				 "Bcc: ob@x.test\n", 1, "h.test: u set sender to v@w using -f",
				 &out, &r, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out),
			 "X-Authentication-Warning: h.test: u set sender to v@w using -f\n"
			 "To: orig@x.test\nResent-To: new@y.test\n"
			 "From: U <u@h.test>\nDate: Mon, 7 Dec 2026 00:00:00 +0000\n"
			 "Message-ID: <id@h.test>\n");
	ck_assert_str_eq(rcpts_str(&r), "new@y.test rb@y.test");
	sm_rcpts_free(&r);

	/* groups, bare local parts, an empty header */
	sm_rcpts_init(&r, 100);
	ck_assert_int_eq(rewrite("To: undisclosed-recipients:;\nCc: friends: a@x.test, root;\n", 1,
				 NULL, &out, &r, &err), Z_OK);
	ck_assert_str_eq(rcpts_str(&r), "a@x.test root");
	ck_assert_int_eq(rewrite("", 1, NULL, &out, &r, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "From: U <u@h.test>\nDate: Mon, 7 Dec 2026 00:00:00 +0000\n"
			 "Message-ID: <id@h.test>\n");
	sm_rcpts_free(&r);

	/* bad addresses in a recipient field */
	sm_rcpts_init(&r, 100);
	ck_assert_int_eq(rewrite("To: a@\n", 1, NULL, &out, &r, &err), Z_EPARSE);
	ck_assert(strstr(zbuf_cstr(&err), "To") != NULL);
	ck_assert_int_eq(rewrite("To: <a@x.test\n", 1, NULL, &out, &r, &err), Z_EPARSE);
	ck_assert_int_eq(rewrite("Cc: \"a\x01\"@x.test\n", 1, NULL, &out, &r, &err), Z_EPARSE);
	/* but the same field without -t is just copied */
	ck_assert_int_eq(rewrite("To: a@\n", 0, NULL, &out, &r, &err), Z_OK);
	sm_rcpts_free(&r);

	/* bounds: recipients, field length */
	sm_rcpts_init(&r, 2);
	ck_assert_int_eq(rewrite("To: a@x.test, b@x.test, c@x.test\n", 1, NULL, &out, &r, &err),
			 Z_ETOOBIG);
	sm_rcpts_free(&r);
	{
		size_t n = SM_FIELD_MAX + 100;
		char *big = malloc(n + 1);

		ck_assert_ptr_nonnull(big);
		memcpy(big, "X-Big: ", 7);
		memset(big + 7, 'a', n - 8);
		big[n - 1] = '\n';
		big[n] = '\0';
		sm_rcpts_init(&r, 10);
		ck_assert_int_eq(rewrite(big, 1, NULL, &out, &r, &err), Z_ETOOBIG);
		ck_assert(err.len > 0);
		sm_rcpts_free(&r);
		free(big);
	}
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_rcpts_list)
{
	zbuf err = ZBUF_INIT(512);
	sm_rcpts r;

	sm_rcpts_init(&r, 100);
	ck_assert_int_eq(sm_rcpts_add_list(&r, zspan_from("a@x.test, B <b@x.test>"), &err), Z_OK);
	ck_assert_int_eq(sm_rcpts_add_list(&r, zspan_from("a@x.test"), &err), Z_OK);   /* once */
	ck_assert_int_eq(sm_rcpts_add_list(&r, zspan_from("\"q u\"@x.test"), &err), Z_OK);
	ck_assert_int_eq(sm_rcpts_add_list(&r, zspan_from("<@relay.test:r@x.test>"), &err), Z_OK);
	ck_assert_str_eq(rcpts_str(&r), "a@x.test b@x.test \"q u\"@x.test r@x.test");
	ck_assert_int_eq(sm_rcpts_add_list(&r, zspan_from("a@-bad-.test"), &err), Z_EPARSE);
	ck_assert_int_eq(sm_rcpts_add_list(&r, zspan_from("a b c"), &err), Z_EPARSE);
	sm_rcpts_free(&r);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_sender_from)
{
	zbuf out = ZBUF_INIT(512), err = ZBUF_INIT(512);

	ck_assert_int_eq(sm_sender_parse("<>", &out, &err), Z_OK);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(sm_sender_parse("", &out, &err), Z_OK);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(sm_sender_parse("<bob@x.test>", &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "bob@x.test");
	ck_assert_int_eq(sm_sender_parse(" bob@x.test ", &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "bob@x.test");
	ck_assert_int_eq(sm_sender_parse("Bob <bob@x.test>", &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "bob@x.test");
	ck_assert_int_eq(sm_sender_parse("daemon", &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "daemon");
	ck_assert_int_eq(sm_sender_parse("a@x.test, b@x.test", &out, &err), Z_EPARSE);
	ck_assert_int_eq(sm_sender_parse("<a@x.test", &out, &err), Z_EPARSE);
	ck_assert_int_eq(sm_sender_parse("a@", &out, &err), Z_EPARSE);

	zbuf_reset(&out);
	ck_assert_int_eq(sm_from_value("Joe User", "j@h.test", &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "Joe User <j@h.test>");
	zbuf_reset(&out);
	ck_assert_int_eq(sm_from_value("Joe Q. \"Jr\" User", "j@h.test", &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "\"Joe Q. \\\"Jr\\\" User\" <j@h.test>");
	zbuf_reset(&out);
	ck_assert_int_eq(sm_from_value("  ", "j@h.test", &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "j@h.test");
	zbuf_reset(&out);
	ck_assert_int_eq(sm_from_value(NULL, "j@h.test", &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "j@h.test");
	zbuf_reset(&out);
	ck_assert_int_eq(sm_from_value("Evil\nBcc: x", "j@h.test", &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "\"EvilBcc: x\" <j@h.test>");

	zbuf_reset(&out);
	ck_assert_int_eq(sm_gecos_name("& Smith,Room 1,555", "joe", &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "Joe Smith");
	zbuf_reset(&out);
	ck_assert_int_eq(sm_gecos_name(NULL, "joe", &out), Z_OK);
	ck_assert_uint_eq(out.len, 0);

	ck_assert(sm_name_in_list("www-data, backup  nagios", "backup"));
	ck_assert(sm_name_in_list("www-data,backup", "www-data"));
	ck_assert(!sm_name_in_list("www-data,backup", "back"));
	ck_assert(!sm_name_in_list(NULL, "root"));
	ck_assert(!sm_name_in_list("", "root"));
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_envelope)
{
	zbuf out = ZBUF_INIT(4096), err = ZBUF_INIT(512);
	sm_rcpts r;
	sm_env e;

	sm_rcpts_init(&r, 10);
	ck_assert_int_eq(sm_rcpts_add_list(&r, zspan_from("a@x.test, \"q u=\"@x.test, root"), &err),
			 Z_OK);
	memset(&e, 0, sizeof(e));
	e.sender = "bob@h.test";
	e.rcpts = &r;
	ck_assert_int_eq(sm_envelope(&e, &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out),
			 "from <bob@h.test>\n"
			 "todsn ORCPT=rfc822;a@x.test\nto <a@x.test>\n"
			 "todsn ORCPT=rfc822;\"q+20u+3D\"@x.test\nto <\"q u=\"@x.test>\n"
			 "todsn ORCPT=rfc822;root\nto <root>\n"
			 "env-end\n");
	zbuf_reset(&out);
	e.external = 1;
	e.bodytype = "8BITMIME";
	e.sender = "";
	e.envid = "QkVOVklEMQ";
	e.ret = "FULL";
	e.notify = MNOTIFY_FAILURE | MNOTIFY_DELAY;
	ck_assert_int_eq(sm_envelope(&e, &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out),
			 "external\nbodytype 8BITMIME\nchannel error\nenvid QkVOVklEMQ\n"
			 "notaryret FULL\n"
			 "todsn NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@x.test\nto <a@x.test>\n"
			 "todsn NOTIFY=FAILURE,DELAY ORCPT=rfc822;\"q+20u+3D\"@x.test\n"
			 "to <\"q u=\"@x.test>\n"
			 "todsn NOTIFY=FAILURE,DELAY ORCPT=rfc822;root\nto <root>\nenv-end\n");
	/* an envid that is not xtext is encoded; a too long one refused */
	zbuf_reset(&out);
	e.envid = "a b=c";
	ck_assert_int_eq(sm_envelope(&e, &out, &err), Z_OK);
	ck_assert(strstr(zbuf_cstr(&out), "\nenvid a+20b+3Dc\n") != NULL);
	{
		char longid[130];

		memset(longid, 'x', sizeof(longid) - 1);
		longid[sizeof(longid) - 1] = '\0';
		e.envid = longid;
		zbuf_reset(&out);
		zbuf_reset(&err);
		ck_assert_int_eq(sm_envelope(&e, &out, &err), Z_EPARSE);
		ck_assert(err.len > 0);
	}
	e.envid = NULL;
	e.sender = "a\nto <x@y>";
	zbuf_reset(&out);
	ck_assert_int_eq(sm_envelope(&e, &out, &err), Z_EPARSE);
	sm_rcpts_free(&r);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sendmail");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_opts_good);
	tcase_add_test(tc, test_opts_bad);
	tcase_add_test(tc, test_notify_format);
	tcase_add_test(tc, test_input_filter);
	tcase_add_test(tc, test_header_end);
	tcase_add_test(tc, test_header_rewrite);
	tcase_add_test(tc, test_rcpts_list);
	tcase_add_test(tc, test_sender_from);
	tcase_add_test(tc, test_envelope);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
