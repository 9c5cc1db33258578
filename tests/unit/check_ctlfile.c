/*
 * NAME
 *	check_ctlfile - unit tests for spool/ctlfile.c
 * SUMMARY
 *	Control-file writer, parser, lock bytes and d-line appends.
 * SYNOPSIS
 *	check_ctlfile (run by make check)
 * DESCRIPTION
 *	Writer output byte for byte (notes section 5.6 example), parse of
 *	that example with every offset checked, a table of malformed files
 *	with their expected reasons, old-format and ETRN files, lock/unlock
 *	on a real file including Z_ESTALE, 'd' append and parse back, the
 *	append failure path, ctl_commit.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Works in a mkdtemp() directory under $TMPDIR or /tmp, all of it
 *	below one scratch directory the parent removes (scratch.h).
 * BUGS
 *	None known.
 * SEE ALSO
 *	spool/ctlfile.c, zmta-spool(5), tests/fuzz/fuzz_ctlfile.c
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zbuf.h"
#include "zutil.h"
#include "ctlfile.h"
#include "scratch.h"

static const char HDRS[] =
	"Received: from client.example.org (client.example.org [192.0.2.7])\n"
	"\tby mail.example.net with ESMTP id <S81234AbkCONpH>;\n"
	"\tFri, 15 Mar 2024 13:45:07 +0000\n"
	"From: Bob <bob@client.example.org>\n"
	"To: alice@example.net, carol@example.com\n"
	"Subject: lunch\n"
	"Message-Id: <20240315134507.GA77@client.example.org>\n"
	"Date: Fri, 15 Mar 2024 13:45:05 +0000\n";

/* the literal file of notes 5.6 */
static const char EXAMPLE[] =
	"@ 0x00000007\n"
	"i 81234\n"
	"o 707\n"
	"l <20240315134507.GA77@client.example.org>\n"
	"e bob@client.example.org\n"
	"s smtp client.example.org bob@client.example.org 65534\n"
	"r           local - alice 1001\n"
	"N NOTIFY=FAILURE,DELAY ORCPT=rfc822;alice@example.net INRCPT=rfc822;alice@example.net INFROM=rfc822;bob@client.example.org\n"
	"R HDRS\n"
	"n QkVOVklEMQ\n"
	"r           smtp mx.example.com carol@example.com 65534\n"
	"N NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;carol@example.com INRCPT=rfc822;carol@example.com INFROM=rfc822;bob@client.example.org\n"
	"R HDRS\n"
	"n QkVOVklEMQ\n"
	"m\n"
	"Received: from client.example.org (client.example.org [192.0.2.7])\n"
	"\tby mail.example.net with ESMTP id <S81234AbkCONpH>;\n"
	"\tFri, 15 Mar 2024 13:45:07 +0000\n"
	"From: Bob <bob@client.example.org>\n"
	"To: alice@example.net, carol@example.com\n"
	"Subject: lunch\n"
	"Message-Id: <20240315134507.GA77@client.example.org>\n"
	"Date: Fri, 15 Mar 2024 13:45:05 +0000\n"
	"\n";

static char tmpdir[256];
static int put_file(const char *name, const char *data, size_t len, int extra);

/* mk_tmpdir - fresh scratch directory for one test */
static void mk_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/check_ctlfile.XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* rm_tmpdir - remove the test's scratch directory */
static void rm_tmpdir(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* write_example - build the 5.6 file with the writer; offsets out */
static void write_example(zbuf *o, size_t *r1, size_t *r2)
{
	ctl_quadv s = { "smtp", "client.example.org", "bob@client.example.org", 65534 };
	ctl_quadv a = { "local", "-", "alice", 1001 };
	ctl_quadv c = { "smtp", "mx.example.com", "carol@example.com", 65534 };

	ck_assert_int_eq(ctlw_features(o, CTL_FEATURES_WRITE), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'i', "81234"), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'o', "707"), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'l', "<20240315134507.GA77@client.example.org>"), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'e', "bob@client.example.org"), Z_OK);
	ck_assert_int_eq(ctlw_sender(o, &s), Z_OK);
	ck_assert_int_eq(ctlw_rcpt(o, &a, r1), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'N', "NOTIFY=FAILURE,DELAY ORCPT=rfc822;alice@example.net INRCPT=rfc822;alice@example.net INFROM=rfc822;bob@client.example.org"), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'R', "HDRS"), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'n', "QkVOVklEMQ"), Z_OK);
	ck_assert_int_eq(ctlw_rcpt(o, &c, r2), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'N', "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;carol@example.com INRCPT=rfc822;carol@example.com INFROM=rfc822;bob@client.example.org"), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'R', "HDRS"), Z_OK);
	ck_assert_int_eq(ctlw_record(o, 'n', "QkVOVklEMQ"), Z_OK);
	ck_assert_int_eq(ctlw_headers(o, HDRS, strlen(HDRS)), Z_OK);
}

START_TEST(test_writer_exact)
{
	zbuf o = ZBUF_INIT(1 << 20);
	size_t r1 = 0, r2 = 0;

	write_example(&o, &r1, &r2);
	ck_assert_uint_eq(o.len, 863);
	ck_assert_uint_eq(o.len, strlen(EXAMPLE));
	ck_assert_mem_eq(o.data, EXAMPLE, o.len);
	ck_assert_uint_eq(r1, 150);
	ck_assert_uint_eq(r2, 324);
	zbuf_free(&o);
}
END_TEST

START_TEST(test_parse_example)
{
	zbuf err = ZBUF_INIT(1024), o = ZBUF_INIT(1 << 20);
	ctl_file cf;
	size_t r1, r2;

	write_example(&o, &r1, &r2);
	ck_assert_int_eq(ctl_parse(o.data, o.len, 0, &cf, &err), Z_OK);
	ck_assert_uint_eq(cf.len, 863);
	ck_assert_uint_eq(cf.features, 7);
	ck_assert(zspan_eq(cf.body, "81234"));
	ck_assert_ptr_eq(cf.body.p, cf.data + 15);      /* 'i' at 13 */
	ck_assert_int_eq(cf.body_off, 707);
	ck_assert(zspan_eq(cf.logid, "<20240315134507.GA77@client.example.org>"));
	ck_assert_ptr_eq(cf.logid.p, cf.data + 29);     /* 'l' at 27 */
	ck_assert(zspan_eq(cf.erraddr, "bob@client.example.org"));
	ck_assert_ptr_eq(cf.erraddr.p, cf.data + 72);   /* 'e' at 70 */
	ck_assert_uint_eq(cf.nsenders, 1);
	ck_assert_uint_eq(cf.senders[0].off, 95);
	ck_assert(zspan_eq(cf.senders[0].quad.channel, "smtp"));
	ck_assert(zspan_eq(cf.senders[0].quad.host, "client.example.org"));
	ck_assert(zspan_eq(cf.senders[0].quad.user, "bob@client.example.org"));
	ck_assert_int_eq(cf.senders[0].quad.privilege, 65534);
	ck_assert(zspan_eq(cf.senders[0].erraddr, "bob@client.example.org"));
	ck_assert_uint_eq(cf.nrcpts, 2);
	ck_assert_uint_eq(cf.rcpts[0].off, r1);
	ck_assert_uint_eq(cf.rcpts[0].off, 150);
	ck_assert_int_eq(cf.rcpts[0].tag, ' ');
	ck_assert_int_eq(cf.rcpts[0].pid, 0);
	ck_assert_int_eq(cf.rcpts[0].xor_group, -1);
	ck_assert(zspan_eq(cf.rcpts[0].quad.channel, "local"));
	ck_assert(zspan_eq(cf.rcpts[0].quad.host, "-"));
	ck_assert(zspan_eq(cf.rcpts[0].quad.user, "alice"));
	ck_assert_int_eq(cf.rcpts[0].quad.privilege, 1001);
	ck_assert_int_eq(cf.rcpts[0].dsn_off, 181);
	ck_assert(zspan_eq(cf.rcpts[0].notify, "FAILURE,DELAY"));
	ck_assert(zspan_eq(cf.rcpts[0].orcpt, "rfc822;alice@example.net"));
	ck_assert(zspan_eq(cf.rcpts[0].inrcpt, "rfc822;alice@example.net"));
	ck_assert(zspan_eq(cf.rcpts[0].infrom, "rfc822;bob@client.example.org"));
	ck_assert(zspan_eq(cf.rcpts[0].ret, "HDRS"));
	ck_assert_ptr_eq(cf.rcpts[0].ret.p, cf.data + 306);     /* 'R' at 304 */
	ck_assert(zspan_eq(cf.rcpts[0].envid, "QkVOVklEMQ"));
	ck_assert_ptr_eq(cf.rcpts[0].envid.p, cf.data + 313);   /* 'n' at 311 */
	ck_assert_int_eq(cf.rcpts[0].hdr_off, 527);
	ck_assert_uint_eq(cf.rcpts[0].hdr_len, 863 - 527);
	ck_assert_uint_eq(cf.rcpts[0].sender, 0);
	ck_assert_uint_eq(cf.rcpts[1].off, r2);
	ck_assert_uint_eq(cf.rcpts[1].off, 324);
	ck_assert(zspan_eq(cf.rcpts[1].quad.host, "mx.example.com"));
	ck_assert(zspan_eq(cf.rcpts[1].quad.user, "carol@example.com"));
	ck_assert_int_eq(cf.rcpts[1].dsn_off, 380);
	ck_assert(zspan_eq(cf.rcpts[1].notify, "SUCCESS,FAILURE"));
	ck_assert_ptr_eq(cf.rcpts[1].ret.p, cf.data + 507);     /* 'R' at 505 */
	ck_assert_ptr_eq(cf.rcpts[1].envid.p, cf.data + 514);   /* 'n' at 512 */
	ck_assert_int_eq(cf.rcpts[1].hdr_off, 527);
	ck_assert_mem_eq(cf.data + 527, HDRS, strlen(HDRS));
	ck_assert_int_eq(cf.data[525], 'm');
	ck_assert_uint_eq(cf.ndiags, 0);
	ck_assert_ptr_eq(ctl_find_rcpt(&cf, 324), &cf.rcpts[1]);
	ck_assert_ptr_eq(ctl_find_rcpt(&cf, 150), &cf.rcpts[0]);
	ck_assert_ptr_null(ctl_find_rcpt(&cf, 151));
	/* the parser owns a copy */
	ck_assert_ptr_ne(cf.data, o.data);
	ctl_free(&cf);
	zbuf_free(&o);
	zbuf_free(&err);
}
END_TEST

/* parse_reason - parse s, expect refusal containing want */
static void expect_bad(const char *data, size_t len, unsigned flags, const char *want)
{
	zbuf err = ZBUF_INIT(1024);
	ctl_file cf;
	int rc = ctl_parse(data, len, flags, &cf, &err);

	if (rc != Z_EPARSE || strstr(zbuf_cstr(&err), want) == NULL)
		ck_abort_msg("want refusal \"%s\", got rc %d \"%s\" for [%.60s]", want, rc,
			     zbuf_cstr(&err), data);
	ck_assert_ptr_null(memchr(err.data, '\n', err.len));
	ctl_free(&cf);
	zbuf_free(&err);
}

#define PRE "@ 0x00000007\ni 81234\nl <a@b>\n"
#define SND "s smtp h.example bob@h.example 0\n"

static const struct {
	const char *data;
	const char *why;
} bad_files[] = {
	{ "@ 0x00000017\ni 1\nl <a@b>\n", "unknown '@' feature bits 0x00000010" },
	{ "@ 0x80000000\ni 1\nl <a@b>\n", "unknown '@' feature bits" },
	{ "@ 7\ni 1\nl <a@b>\n", "bad '@' feature line" },
	{ "@ 0x0000000g\ni 1\nl <a@b>\n", "bad '@' feature line" },
	{ "@ 0x00000007\nl <a@b>\n", "no 'i'" },
	{ "@ 0x00000007\ni 1\n", "no 'l'" },
	{ "T example.org 192.0.2.1\n", "no 'i'" },          /* ETRN needs the flag */
	{ PRE SND "Q hello\n", "unknown record type 'Q'" },
	{ PRE SND "r           smtp h u\n", "missing privilege" },
	{ PRE SND "r           smtp h u root\n", "privilege \"root\" is not a number" },
	{ PRE SND "r           smtp h u 1 extra\n", "more than 4 fields" },
	{ PRE SND "r           smtp h \"unterminated 1\n", "unterminated quote" },
	{ PRE SND "r           smtp\n", "missing or unbalanced host" },
	{ PRE "r           smtp h u 0\n", "before any 's' sender" },
	{ PRE "N NOTIFY=NEVER\n", "'N' line without a preceding recipient" },
	{ PRE SND "R FULL\n", "'R' line without a preceding recipient" },
	{ PRE SND "n ENVID\n", "'n' line without a preceding recipient" },
	{ PRE SND "r           smtp h u 0\nm\nSubject: x\n", "unterminated 'm' block" },
	{ PRE SND "r           smtp h u 0\nm x\n\n", "'m' line must be just" },
	{ "@ 0x00000007\ni 1\nl <a@b>", "last line lacks its newline" },
	{ PRE SND "r           smtp h u 0\nN NOTIFY=NEVER\nN NOTIFY=NEVER\n", "second 'N'" },
	{ PRE SND "r?          smtp h u 0\n", "bad tag byte 0x3f" },
	{ PRE SND "rx  123x    smtp h u 0\n", "bad tag byte" },
	{ PRE SND "r   123x    smtp h u 0\n", "bad pid slot" },
	{ PRE SND "r     12  x smtp h u 0\n", "bad delay slot" },
	{ PRE "i 2\n", "second 'i'" },
	{ "@ 0x00000007\ni ../x\nl <a@b>\n", "bad body file name" },
	{ PRE "o 12x\n", "bad body offset" },
	{ PRE "\n", "empty line outside" },
	{ PRE "d 1:2\tx\ty\n", "bad header offset in 'd' line" },
	{ PRE "d x:2:3::4\tx\ty\n", "bad recipient offset" },
	{ PRE "d 1:2:3::4\tnotary-no-text\n", "lacks the TAB before its text" },
	{ PRE "d 1:2:3:4\tx\ty\n", "lacks the \"::\" field" },
	{ PRE "d 1:2:3::x\tx\ty\n", "bad time" },
	{ PRE "i\n", "has no tag byte" },
	{ "i 1\nl <a@b>\n@ 0x00000007\n", "not the first record" },
	{ PRE SND "X           smtp h u 0\n", "bad XOR group number" },
	{ "", "empty control file" },
};

START_TEST(test_parse_bad_table)
{
	expect_bad(bad_files[_i].data, strlen(bad_files[_i].data), 0, bad_files[_i].why);
}
END_TEST

START_TEST(test_parse_bad_binary)
{
	static const char nul[] = "@ 0x00000007\ni 1\0\nl <a@b>\n";
	char *big;

	expect_bad(nul, sizeof(nul) - 1, 0, "NUL byte");
	expect_bad(nul, sizeof(nul) - 1, 0, "offset 16:");
	/* larger than CTL_MAX_SIZE: the size check comes before any read */
	big = malloc((size_t)CTL_MAX_SIZE + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', (size_t)CTL_MAX_SIZE + 1);
	expect_bad(big, (size_t)CTL_MAX_SIZE + 1, 0, "larger than");
	free(big);
	/* ctl_read checks the size before reading (sparse file) */
	{
		zbuf err = ZBUF_INIT(256);
		ctl_file cf;
		int fd;
		mk_tmpdir();
		fd = put_file("huge", "", 0, 0);
		ck_assert_int_eq(ftruncate(fd, (off_t)CTL_MAX_SIZE + 1), 0);
		ck_assert_int_eq(ctl_read(fd, 0, &cf, &err), Z_EPARSE);
		ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "larger than"));
		ctl_free(&cf);
		close(fd);
		rm_tmpdir();
		zbuf_free(&err);
	}
	/* ETRN flag does not excuse a file without T lines */
	expect_bad("@ 0x00000007\nl <a@b>\n", 21, CTL_PARSE_ETRN, "no 'i'");
}
END_TEST

START_TEST(test_parse_etrn)
{
	static const char f[] = "T example.org 192.0.2.7\n";
	zbuf err = ZBUF_INIT(256);
	ctl_file cf;

	ck_assert_int_eq(ctl_parse(f, strlen(f), CTL_PARSE_ETRN, &cf, &err), Z_OK);
	ck_assert_uint_eq(cf.nturnme, 1);
	ck_assert(zspan_eq(cf.turnme[0], "example.org 192.0.2.7"));
	ck_assert_uint_eq(cf.nrcpts, 0);
	ctl_free(&cf);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_parse_old_and_misc)
{
	/* no '@' line, no slots, quoted user, several senders and 'm' groups */
	static const char f[] =
		"i 5\n"
		"l <a@b>\n"
		"v ../public/v_abc\n"
		"x <old@b>\n"
		"b reserved\n"
		"e err1@b\n"
		"s smtp h a@b 0\n"
		"r smtp h \"john doe\"@b -2\n"
		"r+  4711    local - \"x \\\" y\" 7\n"
		"m\n"
		"Subject: one\n"
		"\n"
		"e err2@b\n"
		"s error - - 0\n"
		"X~  1234    12 smtp ((mx1)(mx2 mx3)) c@d 3\n"
		"m\n"
		"\n"
		"d 56:-1:-1::1700000000\t\tplain\n"
		"d+56:-1:58::1700000001\ta\001failed\t\n";
	zbuf err = ZBUF_INIT(256), u = ZBUF_INIT(256);
	ctl_file cf;

	if (ctl_parse(f, strlen(f), 0, &cf, &err) != Z_OK)
		ck_abort_msg("parse: %s", zbuf_cstr(&err));
	ck_assert_uint_eq(cf.features, 0);
	ck_assert(zspan_eq(cf.verbose, "../public/v_abc"));
	ck_assert_uint_eq(cf.nobsoletes, 1);
	ck_assert(zspan_eq(cf.obsoletes[0], "<old@b>"));
	ck_assert(zspan_eq(cf.erraddr, "err1@b"));
	ck_assert_int_eq(cf.body_off, -1);
	ck_assert_uint_eq(cf.nsenders, 2);
	ck_assert(zspan_eq(cf.senders[1].erraddr, "err2@b"));
	ck_assert(zspan_eq(cf.senders[1].quad.channel, "error"));
	ck_assert_uint_eq(cf.nrcpts, 3);
	ck_assert(zspan_eq(cf.rcpts[0].quad.user, "\"john doe\"@b"));
	ck_assert_int_eq(cf.rcpts[0].quad.privilege, -2);
	ck_assert_int_eq(cf.rcpts[0].pid, 0);
	ck_assert_int_eq(cf.rcpts[1].tag, '+');
	ck_assert_int_eq(cf.rcpts[1].pid, 4711);
	ck_assert_int_eq(ctl_unquote_user(cf.rcpts[1].quad.user, &u), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&u), "x \" y");
	ck_assert_int_eq(ctl_unquote_user(cf.rcpts[0].quad.user, &u), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&u), "\"john doe\"@b");      /* not wrapped: kept */
	ck_assert_int_eq(cf.rcpts[0].hdr_off, cf.rcpts[1].hdr_off);
	ck_assert_int_eq(cf.data[cf.rcpts[0].hdr_off], 'S');
	ck_assert_uint_eq(cf.rcpts[0].sender, 0);
	ck_assert_uint_eq(cf.rcpts[2].sender, 1);
	ck_assert_int_eq(cf.rcpts[2].tag, '~');
	ck_assert_int_eq(cf.rcpts[2].pid, 1234);
	ck_assert_int_eq(cf.rcpts[2].xor_group, 12);
	ck_assert(zspan_eq(cf.rcpts[2].quad.host, "((mx1)(mx2 mx3))"));
	ck_assert_uint_eq(cf.rcpts[2].hdr_len, 1);
	ck_assert_uint_eq(cf.ndiags, 2);
	ck_assert_int_eq(cf.diags[0].tag, ' ');
	ck_assert_int_eq(cf.diags[0].rcpt_off, 56);
	ck_assert_int_eq(cf.diags[0].hdr_off, -1);
	ck_assert_int_eq(cf.diags[0].when, 1700000000);
	ck_assert_uint_eq(cf.diags[0].notary.n, 0);
	ck_assert(zspan_eq(cf.diags[0].text, "plain"));
	ck_assert_int_eq(cf.diags[1].tag, '+');
	ck_assert(zspan_eq(cf.diags[1].notary, "a\001failed"));
	ck_assert_uint_eq(cf.diags[1].text.n, 0);
	ctl_free(&cf);
	zbuf_free(&err);
	zbuf_free(&u);
}
END_TEST

START_TEST(test_writer_quoting_refusals)
{
	zbuf o = ZBUF_INIT(4096), err = ZBUF_INIT(256), u = ZBUF_INIT(256);
	ctl_quadv q = { "local", "-", "john \"the\" doe\\", -2 };
	ctl_quadv bad1 = { "lo cal", "-", "x", 0 };
	ctl_quadv bad2 = { "local", "-", "x\ny", 0 };
	ctl_quadv s = { "error", "-", "-", 0 };
	ctl_file cf;
	size_t off;

	ck_assert_int_eq(ctlw_record(&o, 'i', "1"), Z_OK);
	ck_assert_int_eq(ctlw_record(&o, 'l', "<x@y>"), Z_OK);
	ck_assert_int_eq(ctlw_sender(&o, &s), Z_OK);
	ck_assert_int_eq(ctlw_rcpt(&o, &q, &off), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o) + off,
			 "r           local - \"john \\\"the\\\" doe\\\\\" -2\n");
	ck_assert_int_eq(ctlw_headers(&o, "Subject: x", 10), Z_OK);
	ck_assert_int_eq(ctl_parse(o.data, o.len, 0, &cf, &err), Z_OK);
	ck_assert_int_eq(ctl_unquote_user(cf.rcpts[0].quad.user, &u), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&u), "john \"the\" doe\\");
	ck_assert_int_eq(cf.rcpts[0].hdr_len, strlen("Subject: x\n\n"));
	ctl_free(&cf);
	zbuf_reset(&o);
	ck_assert_int_eq(ctlw_rcpt(&o, &bad1, NULL), Z_EPARSE);
	ck_assert_int_eq(ctlw_rcpt(&o, &bad2, NULL), Z_EPARSE);
	ck_assert_int_eq(ctlw_record(&o, 'l', "a\nb"), Z_EPARSE);
	ck_assert_int_eq(ctlw_headers(&o, "A: b\n\nC: d\n", 11), Z_EPARSE);
	ck_assert_uint_eq(o.len, 0);
	ck_assert_int_eq(ctlw_headers(&o, "A: b\n\n", 6), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o), "m\nA: b\n\n");
	zbuf_reset(&o);
	ck_assert_int_eq(ctlw_headers(&o, NULL, 0), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&o), "m\n\n");
	zbuf_free(&o);
	zbuf_free(&err);
	zbuf_free(&u);
}
END_TEST

/* put_file - write data to tmpdir/name, return an O_RDWR fd */
static int put_file(const char *name, const char *data, size_t len, int extra)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | extra, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	return fd;
}

/* pread_eq - the bytes at off are want */
static void pread_eq(int fd, off_t off, const char *want)
{
	char b[64] = { 0 };
	size_t n = strlen(want);
	ck_assert_int_eq(pread(fd, b, n, off), (ssize_t)n);
	ck_assert_str_eq(b, want);
}

START_TEST(test_lock)
{
	zbuf err = ZBUF_INIT(256);
	int fd;

	mk_tmpdir();
	fd = put_file("81234", EXAMPLE, strlen(EXAMPLE), 0);
	ck_assert_int_eq(ctl_lock(fd, 324, ' ', '~', 4711, &err), Z_OK);
	pread_eq(fd, 324, "r~  4711    smtp mx.example.com");
	/* second locker loses */
	ck_assert_int_eq(ctl_lock(fd, 324, ' ', '~', 4712, &err), Z_ESTALE);
	ck_assert_str_eq(zbuf_cstr(&err), "expected ' ' found '~'");
	pread_eq(fd, 324, "r~  4711    smtp");
	/* defer: back to blank */
	ck_assert_int_eq(ctl_lock(fd, 324, '~', ' ', 0, &err), Z_OK);
	pread_eq(fd, 324, "r           smtp");
	ck_assert_int_eq(ctl_lock(fd, 324, ' ', '~', 123456, &err), Z_OK);
	pread_eq(fd, 324, "r~123456    smtp");
	ck_assert_int_eq(ctl_lock(fd, 324, '~', '+', 0, &err), Z_OK);
	pread_eq(fd, 324, "r+          smtp");
	zbuf_reset(&err);
	ck_assert_int_eq(ctl_lock(fd, 150, '~', '-', 0, &err), Z_ESTALE);
	ck_assert_str_eq(zbuf_cstr(&err), "expected '~' found ' '");
	ck_assert_int_eq(ctl_lock(fd, 100000, ' ', '~', 1, NULL), Z_EIO);
	/* the file still parses and shows the states */
	{
		ctl_file cf;
		ck_assert_int_eq(ctl_read(fd, 0, &cf, &err), Z_OK);
		ck_assert_int_eq(cf.rcpts[1].tag, '+');
		ck_assert_int_eq(cf.rcpts[0].tag, ' ');
		ck_assert_uint_eq(cf.len, 863);
		ctl_free(&cf);
	}
	/* ctl_set_tag */
	ck_assert_int_eq(ctl_set_tag(fd, 150, '+', '-'), Z_ESTALE);
	ck_assert_int_eq(ctl_set_tag(fd, 150, ' ', '-'), Z_OK);
	pread_eq(fd, 150, "r-          local");
	close(fd);
	/* old-format line without a slot: only the tag changes */
	fd = put_file("old", "r smtp h u 0\n", 13, 0);
	ck_assert_int_eq(ctl_lock(fd, 0, ' ', '~', 42, &err), Z_OK);
	pread_eq(fd, 0, "r~smtp h u 0\n");
	close(fd);
	rm_tmpdir();
	zbuf_free(&err);
}
END_TEST

/* ofd_hold - another open file description takes (1) or drops (0) the
 * range lock of the tag and pid slot of the line at off */
static void ofd_hold(int fd2, off_t off, int take)
{
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = take ? F_WRLCK : F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = off + 1;
	fl.l_len = 7;
	ck_assert_int_eq(fcntl(fd2, F_OFD_SETLK, &fl), 0);
}

/* only the owner releases a lock; check and write are one atomic step */
START_TEST(test_lock_owner_atomic)
{
	zbuf err = ZBUF_INIT(256);
	char p[512];
	int fd, fd2;

	mk_tmpdir();
	fd = put_file("81234", EXAMPLE, strlen(EXAMPLE), 0);
	ck_assert_int_eq(ctl_lock(fd, 324, ' ', '~', 4711, &err), Z_OK);
	/* another agent's pid cannot release it ... */
	zbuf_reset(&err);
	ck_assert_int_eq(ctl_lock(fd, 324, '~', ' ', 4712, &err), Z_ESTALE);
	ck_assert_str_eq(zbuf_cstr(&err), "lock at 324 is held by pid 4711, not 4712");
	ck_assert_int_eq(ctl_lock(fd, 324, '~', '+', 4712, NULL), Z_ESTALE);
	pread_eq(fd, 324, "r~  4711    smtp");
	/* ... its owner can (a pid above the slot's width compares modulo) */
	ck_assert_int_eq(ctl_lock(fd, 324, '~', ' ', 4711, &err), Z_OK);
	pread_eq(fd, 324, "r           smtp");
	ck_assert_int_eq(ctl_lock(fd, 324, ' ', '~', 1004711, &err), Z_OK);
	ck_assert_int_eq(ctl_lock(fd, 324, '~', ' ', 1004711, &err), Z_OK);
	/* pid 0: a stale lock of whoever */
	ck_assert_int_eq(ctl_lock(fd, 324, ' ', '~', 1, &err), Z_OK);
	ck_assert_int_eq(ctl_lock(fd, 324, '~', ' ', 0, &err), Z_OK);
	pread_eq(fd, 324, "r           smtp");

	/* someone inside the critical section (range lock held on another
	 * open of the file): nobody else checks-and-writes meanwhile */
	snprintf(p, sizeof p, "%s/81234", tmpdir);
	fd2 = open(p, O_RDWR);
	ck_assert_int_ge(fd2, 0);
	ofd_hold(fd2, 324, 1);
	zbuf_reset(&err);
	ck_assert_int_eq(ctl_lock(fd, 324, ' ', '~', 99, &err), Z_EAGAIN);
	ck_assert_int_eq(ctl_set_tag(fd, 324, ' ', '-'), Z_EAGAIN);
	pread_eq(fd, 324, "r           smtp");
	/* a different line is not affected */
	ck_assert_int_eq(ctl_lock(fd, 150, ' ', '~', 99, &err), Z_OK);
	ofd_hold(fd2, 324, 0);
	ck_assert_int_eq(ctl_lock(fd, 324, ' ', '~', 99, &err), Z_OK);
	pread_eq(fd, 324, "r~    99    smtp");
	close(fd2);
	close(fd);
	rm_tmpdir();
	zbuf_free(&err);
}
END_TEST

/* ctl_lock_hold keeps the range lock until the report, a drop or the
 * close: nobody else checks-and-writes the bytes meanwhile; the report is
 * written without a re-check */
START_TEST(test_lock_hold)
{
	zbuf err = ZBUF_INIT(256);
	ctl_hold h, h2;
	char p[512];
	int fd, fd2;

	mk_tmpdir();
	fd = put_file("81235", EXAMPLE, strlen(EXAMPLE), 0);
	snprintf(p, sizeof p, "%s/81235", tmpdir);
	fd2 = open(p, O_RDWR);
	ck_assert_int_ge(fd2, 0);
	ck_assert_int_eq(ctl_lock_hold(fd, 324, ' ', '~', 4711, &h, &err), Z_OK);
	ck_assert_int_eq(h.held, 1);
	ck_assert_int_eq(h.wlen, 7);
	pread_eq(fd, 324, "r~  4711    smtp");
	/* held: the scheduler (another open) cannot settle it meanwhile */
	ck_assert_int_eq(ctl_lock(fd2, 324, '~', ' ', 0, &err), Z_EAGAIN);
	ck_assert_int_eq(ctl_set_tag(fd2, 324, '~', '-'), Z_EAGAIN);
	/* a failed take holds nothing */
	ck_assert_int_eq(ctl_lock_hold(fd2, 150, '~', '~', 1, &h2, NULL), Z_ESTALE);
	ck_assert_int_eq(h2.held, 0);
	/* the report: tag and blank slot, still held */
	ck_assert_int_eq(ctl_hold_set(fd, 324, &h, '+', &err), Z_OK);
	pread_eq(fd, 324, "r+          smtp");
	ck_assert_int_eq(ctl_lock(fd2, 324, '+', '-', 0, &err), Z_EAGAIN);
	ctl_hold_drop(fd, 324, &h);
	ck_assert_int_eq(h.held, 0);
	ck_assert_int_eq(ctl_lock(fd2, 324, '+', ' ', 0, &err), Z_OK);
	/* closing the file (or dying) lets go of it, the '~' stays for the
	 * scheduler to clear */
	ck_assert_int_eq(ctl_lock_hold(fd, 324, ' ', '~', 4711, &h, &err), Z_OK);
	close(fd);
	ck_assert_int_eq(ctl_lock(fd2, 324, '~', ' ', 4711, &err), Z_OK);
	pread_eq(fd2, 324, "r           smtp");
	/* no held lock (as on a file system without them): checked write */
	memset(&h, 0, sizeof h);
	h.pid = 4711;
	ck_assert_int_eq(ctl_hold_set(fd2, 324, &h, '+', &err), Z_ESTALE);
	pread_eq(fd2, 324, "r           smtp");
	close(fd2);
	rm_tmpdir();
	zbuf_free(&err);
}
END_TEST

START_TEST(test_append_diag)
{
	zbuf err = ZBUF_INIT(256);
	ctl_diagv d = { 324, 527, 380, 1710510600,
			"carol@example.com\001relayed\0012.0.0\001smtp; 250 ok",
			"line one\nline\ttwo" };
	ctl_diagv d2 = { 150, 527, 183, 1710510601, "", "x" };
	ctl_file cf;
	struct stat st;
	int fd;
	char *line;
	const char want[] = "d 324:527:380::1710510600\tcarol@example.com\001relayed"
			    "\0012.0.0\001smtp; 250 ok\tline one\rline two\n";

	mk_tmpdir();
	fd = put_file("81234", EXAMPLE, strlen(EXAMPLE), 0);
	ck_assert_int_eq(ctl_append_diag(fd, &d, &err), Z_OK);
	line = calloc(1, sizeof(want));
	ck_assert_int_eq(pread(fd, line, sizeof(want) - 1, 863), (ssize_t)sizeof(want) - 1);
	ck_assert_str_eq(line, want);
	free(line);
	ck_assert_int_eq(ctl_append_diag(fd, &d2, &err), Z_OK);
	ck_assert_int_eq(ctl_read(fd, 0, &cf, &err), Z_OK);
	ck_assert_uint_eq(cf.ndiags, 2);
	ck_assert_uint_eq(cf.diags[0].off, 863);
	ck_assert_int_eq(cf.diags[0].tag, ' ');
	ck_assert_int_eq(cf.diags[0].rcpt_off, 324);
	ck_assert_int_eq(cf.diags[0].hdr_off, 527);
	ck_assert_int_eq(cf.diags[0].dsn_off, 380);
	ck_assert_int_eq(cf.diags[0].when, 1710510600LL);
	ck_assert(zspan_eq(cf.diags[0].text, "line one\rline two"));
	ck_assert(zspan_eq(cf.diags[0].notary, d.notary));
	/* both dsn offset variants name the same N line */
	ck_assert_int_eq(ctl_diag_dsn_line(&cf, &cf.diags[0]), 380);
	ck_assert_int_eq(ctl_diag_dsn_line(&cf, &cf.diags[1]), 181);
	/* scheduler flips the tag after reporting */
	ck_assert_int_eq(ctl_set_tag(fd, cf.diags[0].off, ' ', '+'), Z_OK);
	ctl_free(&cf);
	ck_assert_int_eq(ctl_read(fd, 0, &cf, &err), Z_OK);
	ck_assert_int_eq(cf.diags[0].tag, '+');
	ctl_free(&cf);
	/* refusals */
	d2.notary = "a\tb";
	ck_assert_int_eq(ctl_append_diag(fd, &d2, &err), Z_EPARSE);
	d2.notary = "a\nb";
	ck_assert_int_eq(ctl_append_diag(fd, &d2, &err), Z_EPARSE);
	close(fd);
	/* O_APPEND descriptors work as well */
	fd = put_file("app", EXAMPLE, strlen(EXAMPLE), O_APPEND);
	ck_assert_int_eq(ctl_append_diag(fd, &d, &err), Z_OK);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 863 + (off_t)sizeof(want) - 1);
	close(fd);
	rm_tmpdir();
	zbuf_free(&err);
}
END_TEST

START_TEST(test_append_diag_failure)
{
	zbuf err = ZBUF_INIT(256);
	ctl_diagv d = { 324, 527, 380, 1710510600, "", "text" };
	struct stat st;
	char p[512];
	int fd;

	mk_tmpdir();
	fd = put_file("81234", EXAMPLE, strlen(EXAMPLE), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/81234", tmpdir);
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ctl_append_diag(fd, &d, &err), Z_EIO);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "diagnostic writeout failed"));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 863);
	close(fd);
	rm_tmpdir();
	zbuf_free(&err);
}
END_TEST

/* padded_file - a valid control file of exactly size bytes (a header
 * padded to fit) into o */
static void padded_file(zbuf *o, size_t size)
{
	ctl_quadv s = { "smtp", "src.example", "bob@src.example", 65534 };
	ctl_quadv r = { "smtp", "dst.example", "carol@dst.example", 65534 };
	zbuf h = ZBUF_INIT(1 << 17);
	size_t off;

	for (int pass = 0; pass < 2; pass++) {
		size_t pad = pass == 0 ? 0 : size - o->len;
		zbuf_reset(o);
		zbuf_reset(&h);
		ck_assert_int_eq(ctlw_features(o, CTL_FEATURES_WRITE), Z_OK);
		ck_assert_int_eq(ctlw_record(o, 'i', "81234"), Z_OK);
		ck_assert_int_eq(ctlw_record(o, 'l', "<pad@src.example>"), Z_OK);
		ck_assert_int_eq(ctlw_record(o, 'e', "bob@src.example"), Z_OK);
		ck_assert_int_eq(ctlw_sender(o, &s), Z_OK);
		ck_assert_int_eq(ctlw_rcpt(o, &r, &off), Z_OK);
		/* pad in lines of 80 bytes, the rest on the Subject line */
		zbuf_puts(&h, "Subject: padded");
		for (size_t i = 0; i < pad % 80; i++)
			zbuf_putc(&h, 'p');
		zbuf_puts(&h, "\n");
		for (size_t i = 0; i < pad / 80; i++)
			zbuf_puts(&h, "X-Pad: pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\n");
		ck_assert_int_eq(ctlw_headers(o, h.data, h.len), Z_OK);
	}
	ck_assert_uint_eq(o->len, size);
	zbuf_free(&h);
}

/* ctl_read: a file below 4 KB is read with one pread, a larger one after
 * fstat; both give the whole file, at every size around the boundary;
 * something that is not a regular file is refused */
START_TEST(test_read_sizes)
{
	static const size_t sizes[] = { 600, 4095, 4096, 4097, 8193, 70000 };
	zbuf o = ZBUF_INIT(1 << 20), err = ZBUF_INIT(512);
	ctl_file cf;

	mk_tmpdir();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		padded_file(&o, sizes[i]);
		int fd = put_file("sized", o.data, o.len, 0);
		zbuf_reset(&err);
		ck_assert_msg(ctl_read(fd, 0, &cf, &err) == Z_OK, "size %zu: %s", sizes[i],
			      zbuf_cstr(&err));
		ck_assert_uint_eq(cf.len, sizes[i]);
		ck_assert_mem_eq(cf.data, o.data, o.len);
		ck_assert_uint_eq(cf.nrcpts, 1);
		ctl_free(&cf);
		close(fd);
	}
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], o.data, 100), 100);
	zbuf_reset(&err);
	ck_assert_int_eq(ctl_read(p[0], 0, &cf, &err), Z_EPARSE);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "not a regular file"));
	ctl_free(&cf);
	close(p[0]);
	close(p[1]);
	rm_tmpdir();
	zbuf_free(&o);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_commit)
{
	zbuf err = ZBUF_INIT(512), o = ZBUF_INIT(1 << 20), got = ZBUF_INIT(1 << 20);
	char p[600];
	size_t r1, r2;
	struct stat st;

	mk_tmpdir();
	snprintf(p, sizeof(p), "%s/E", tmpdir);
	ck_assert_int_eq(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/E/K", tmpdir);
	ck_assert_int_eq(mkdir(p, 0750), 0);
	write_example(&o, &r1, &r2);
	/* a stale temp file from a crashed writer does not block the commit */
	snprintf(p, sizeof(p), "%s/E/K/.81234", tmpdir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(ctl_commit(tmpdir, "E/K/", 81234, &o, &err), Z_OK);
	ck_assert_int_ne(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/E/K/81234", tmpdir);
	ck_assert_int_eq(zread_file(p, 1 << 20, &got, &err), Z_OK);
	ck_assert_uint_eq(got.len, o.len);
	ck_assert_mem_eq(got.data, o.data, o.len);
	ck_assert_int_eq(ctl_commit(tmpdir, "../", 1, &o, &err), Z_ERR);
	snprintf(p, sizeof(p), "%s/nodir", tmpdir);
	ck_assert_int_eq(ctl_commit(p, "", 5, &o, &err), Z_EIO);
	rm_tmpdir();
	zbuf_free(&o);
	zbuf_free(&got);
	zbuf_free(&err);
}
END_TEST

/* ctlfile_suite - all cases */
static Suite *ctlfile_suite(void)
{
	Suite *s = suite_create("ctlfile");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_writer_exact);
	tcase_add_test(tc, test_parse_example);
	tcase_add_loop_test(tc, test_parse_bad_table, 0,
			    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_parse_bad_binary);
	tcase_add_test(tc, test_parse_etrn);
	tcase_add_test(tc, test_parse_old_and_misc);
	tcase_add_test(tc, test_writer_quoting_refusals);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_lock_owner_atomic);
	tcase_add_test(tc, test_lock_hold);
	tcase_add_test(tc, test_append_diag);
	tcase_add_test(tc, test_append_diag_failure);
	tcase_add_test(tc, test_commit);
	tcase_add_test(tc, test_read_sizes);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite inside one scratch directory (scratch.h) */
int main(void)
{
	return scratch_run(ctlfile_suite(), "check_ctlfile");
}
