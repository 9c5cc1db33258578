/*
 * NAME
 *	check_libta - unit tests for transport/libta/ta.c
 * SUMMARY
 *	A real temporary postoffice with a control file and a body; checks
 *	recipient selection and locking, the sysexits table of ta_diagnostic(),
 *	'd' lines, ta_ctlclose() leftovers, a missing body, a lock race, an
 *	unparseable control file, and the job loop over a socketpair (a
 *	report and the "#hungry" after it in one write).
 * SYNOPSIS
 *	tests/unit/check_libta
 * DESCRIPTION
 *	Every test builds its own spool below $TMPDIR (or /tmp), chdirs into
 *	its transport/ directory, and inspects the control file bytes and the
 *	report lines written to a pipe.
 * DIAGNOSTICS
 *	libcheck output; non-zero exit on failure.
 * SECURITY
 *	Test code only; touches nothing outside its temporary directory.
 * BUGS
 *	The spool directories are left behind when a test fails.
 * SEE ALSO
 *	zmta-ta(7), transport/libta/ta.c
 */
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>
#include "ta.h"
#include "zutil.h"
#include "scratch.h"

#define BODY "From: bob\nSubject: x\n\nhello there\n"

static char po[256];            /* the temporary postoffice */
static size_t off_carol, off_dave, off_alice, off_erin, off_done;
static int rpipe[2];            /* report pipe: [0] read, [1] ctx.out_fd */

/* put_file - create path with content */
static void put_file(const char *path, const char *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(zwrite_all(fd, s, n), Z_OK);
	close(fd);
}

/* make_spool - postoffice with transport/E/K/81234 and queue/E/K/81234 */
static void make_spool(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	zbuf c = ZBUF_INIT(1 << 16), err = ZBUF_INIT(512);
	ctl_quadv s = { "smtp", "client.example.org", "bob@client.example.org", 65534 };
	ctl_quadv carol = { "smtp", "mx.example.com", "carol@example.com", 65534 };
	ctl_quadv dave = { "smtp", "MX.Example.COM", "\"dave x\"@example.com", 65534 };
	ctl_quadv alice = { "local", "-", "alice", 1001 };
	ctl_quadv erin = { "smtp", "other.example.org", "erin@example.org", 65534 };
	ctl_quadv done = { "smtp", "mx.example.com", "done@example.com", 65534 };
	static const char *dirs[] = { "transport", "transport/E", "transport/E/K", "queue",
				      "queue/E", "queue/E/K", "postman" };

	snprintf(po, sizeof(po), "%s/check_libta.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(po));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", po, dirs[i]);
		ck_assert_int_eq(mkdir(path, 0750), 0);
	}
	snprintf(path, sizeof(path), "%s/queue/E/K/81234", po);
	put_file(path, "junk-env\n" BODY, strlen("junk-env\n" BODY));

	ck_assert_int_eq(ctlw_features(&c, CTL_FEATURES_WRITE), Z_OK);
	ck_assert_int_eq(ctlw_record(&c, 'i', "81234"), Z_OK);
	ck_assert_int_eq(ctlw_record(&c, 'o', "9"), Z_OK);
	ck_assert_int_eq(ctlw_record(&c, 'l', "<id@client.example.org>"), Z_OK);
	ck_assert_int_eq(ctlw_sender(&c, &s), Z_OK);
	ck_assert_int_eq(ctlw_rcpt(&c, &carol, &off_carol), Z_OK);
	ck_assert_int_eq(ctlw_record(&c, 'N', "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;carol+2Bx@example.com"), Z_OK);
	ck_assert_int_eq(ctlw_rcpt(&c, &dave, &off_dave), Z_OK);
	ck_assert_int_eq(ctlw_rcpt(&c, &alice, &off_alice), Z_OK);
	ck_assert_int_eq(ctlw_rcpt(&c, &erin, &off_erin), Z_OK);
	ck_assert_int_eq(ctlw_rcpt(&c, &done, &off_done), Z_OK);
	c.data[off_done + 1] = '+';
	ck_assert_int_eq(ctlw_headers(&c, "From: bob\nSubject: x\n", 21), Z_OK);
	snprintf(path, sizeof(path), "%s/transport", po);
	ck_assert_msg(ctl_commit(path, "E/K/", 81234, &c, &err) == Z_OK, "%s", zbuf_cstr(&err));
	ck_assert_int_eq(chdir(path), 0);
	ck_assert_int_eq(pipe(rpipe), 0);
	ck_assert_int_eq(fcntl(rpipe[0], F_SETFL, O_NONBLOCK), 0);
	zbuf_free(&c);
	zbuf_free(&err);
}

/* ctlbytes - current control file content (static buffer) */
static const char *ctlbytes(void)
{
	static char buf[8192];
	int fd = open("E/K/81234", O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* slot - the 7 bytes tag+pid at off+1 */
static void slot(size_t off, char out[8])
{
	memcpy(out, ctlbytes() + off + 1, 7);
	out[7] = '\0';
}

/* reports - everything written to the report pipe so far */
static const char *reports(void)
{
	static char buf[65536];
	ssize_t n = read(rpipe[0], buf, sizeof(buf) - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return buf;
}

/* count_d - number of 'd' lines in the control file */
static int count_d(void)
{
	const char *s = ctlbytes();
	int n = 0;
	for (const char *p = s; (p = strstr(p, "\nd ")) != NULL; p++)
		n++;
	return n;
}

/* setup_ctx - an smtp agent context writing to the pipe */
static void setup_ctx(ta_ctx *ctx)
{
	ta_init(ctx, "smtp", "smtp");
	ctx->out_fd = rpipe[1];
}

START_TEST(test_ctlopen_select)
{
	ta_ctx ctx;
	ta_msg m;
	zbuf err = ZBUF_INIT(512);
	char s[8], want[8], line[512];
	const char *r;

	make_spool();
	setup_ctx(&ctx);
	ck_assert_msg(ta_ctlopen(&ctx, "E/K/81234", "mx.example.com", NULL, NULL, &m, &err) == Z_OK,
		      "%s", zbuf_cstr(&err));
	ck_assert_uint_eq(m.nrcpts, 2);
	ck_assert_uint_eq(m.rcpts[0].r->off, off_carol);
	ck_assert_uint_eq(m.rcpts[1].r->off, off_dave);
	ck_assert_str_eq(m.rcpts[1].user, "\"dave x\"@example.com");
	ck_assert_uint_eq(m.inum, 81234);
	ck_assert_str_eq(m.prefix, "E/K/");
	ck_assert_int_ge(m.bodyfd, 0);
	ck_assert_int_eq((int)m.bodysize, (int)strlen(BODY));
	ck_assert_uint_ge(m.size_estimate, strlen(BODY) + strlen("From: bob\nSubject: x\n\n"));
	ck_assert_int_eq(m.spoolid[0], 'S');
	ck_assert_int_gt(m.arrival, 0);
	snprintf(want, sizeof(want), "~%6d", ctx.pid);
	slot(off_carol, s);
	ck_assert_str_eq(s, want);
	slot(off_dave, s);
	ck_assert_str_eq(s, want);
	slot(off_alice, s);
	ck_assert_str_eq(s, "       ");
	slot(off_erin, s);
	ck_assert_str_eq(s, "       ");
	slot(off_done, s);
	ck_assert_str_eq(s, "+      ");
	/* close defers both leftovers and unlocks */
	ta_ctlclose(&ctx, &m);
	slot(off_carol, s);
	ck_assert_str_eq(s, "       ");
	slot(off_dave, s);
	ck_assert_str_eq(s, "       ");
	r = reports();
	snprintf(line, sizeof(line),
		 "81234/%zu\tcarol+x@example.com\001delayed\0014.0.0\001\001\001smtp[%d]\tdeferred address was left locked\n"
		 "81234/%zu\t\"dave x\"@example.com\001delayed\0014.0.0\001\001\001smtp[%d]\tdeferred address was left locked\n",
		 off_carol, ctx.pid, off_dave, ctx.pid);
	ck_assert_str_eq(r, line);
	ck_assert_int_eq(count_d(), 0);
	/* nothing left for another host: Z_ENOENT */
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", "nowhere.example", NULL, NULL, &m, &err),
			 Z_ENOENT);
	/* a vanished file: Z_ENOENT too */
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/99999", "mx.example.com", NULL, NULL, &m, &err),
			 Z_ENOENT);
	/* a bad path never opens anything */
	ck_assert_int_eq(ta_ctlopen(&ctx, "../queue/E/K/81234", NULL, NULL, NULL, &m, &err),
			 Z_EPARSE);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_ctlopen_fixed_and_any_host)
{
	ta_ctx ctx;
	ta_msg m;
	zbuf err = ZBUF_INIT(512);

	make_spool();
	setup_ctx(&ctx);
	ctx.fixed_host = "other.example.org";
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", NULL, NULL, NULL, &m, &err), Z_OK);
	ck_assert_uint_eq(m.nrcpts, 1);
	ck_assert_uint_eq(m.rcpts[0].r->off, off_erin);
	ta_ctlclose(&ctx, &m);
	(void)reports();
	/* the local channel with no host at all takes any host */
	ta_init(&ctx, "mailbox", "local");
	ctx.out_fd = rpipe[1];
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", NULL, NULL, NULL, &m, &err), Z_OK);
	ck_assert_uint_eq(m.nrcpts, 1);
	ck_assert_uint_eq(m.rcpts[0].r->off, off_alice);
	ck_assert_int_eq(ta_diagnostic(&ctx, &m, &m.rcpts[0], EX_OK, 0, "delivered"), Z_OK);
	ta_ctlclose(&ctx, &m);
	{
		char want[128];
		snprintf(want, sizeof(want), "81234/%zu\t\tok3 delivered\n", off_alice);
		ck_assert_str_eq(reports(), want);
	}
	zbuf_free(&err);
}
END_TEST

/* race_sel - take erin, but let "another agent" lock her first */
static int race_sel(ta_ctx *ctx, const ctl_rcpt *r, zspan host, void *arg)
{
	int *calls = arg;
	(*calls)++;
	if (r->off == off_erin) {
		int fd = open("E/K/81234", O_RDWR);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pwrite(fd, "~ 99999", 7, (off_t)r->off + 1), 7);
		close(fd);
		return 1;
	}
	return 0;
}

/* take_sel - take every other-host recipient */
static int take_sel(ta_ctx *ctx, const ctl_rcpt *r, zspan host, void *arg)
{
	return 1;
}

START_TEST(test_selector_and_race)
{
	ta_ctx ctx;
	ta_msg m;
	zbuf err = ZBUF_INIT(512);
	int calls = 0;
	char s[8];

	make_spool();
	setup_ctx(&ctx);
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", "mx.example.com", take_sel, NULL, &m, &err),
			 Z_OK);
	ck_assert_uint_eq(m.nrcpts, 3);
	ck_assert_uint_eq(m.rcpts[2].r->off, off_erin);
	ta_ctlclose(&ctx, &m);
	(void)reports();
	/* lock race: erin is taken between parse and lock -> skipped */
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", "mx.example.com", race_sel, &calls, &m, &err),
			 Z_OK);
	ck_assert_int_eq(calls, 1);
	ck_assert_uint_eq(m.nrcpts, 2);
	ta_ctlclose(&ctx, &m);
	slot(off_erin, s);
	ck_assert_str_eq(s, "~ 99999");
	zbuf_free(&err);
}
END_TEST

struct diag_vec {
	int code;
	long retry;
	const char *word;        /* word and retry as printed */
	char tag;
	int dline;
	const char *action, *status;
	const char *text;        /* expected report text */
};

static const struct diag_vec diag_vecs[] = {
	{ EX_OK, 0, "ok3", '+', 0, NULL, NULL, "250 fine" },
	{ EX_TEMPFAIL, 60, "retryat +60", ' ', 0, "delayed", "4.0.0", "250 fine" },
	{ EX_TEMPFAIL, 0, "deferred", ' ', 0, "delayed", "4.0.0", "250 fine" },
	{ EX_IOERR, 0, "deferred", ' ', 0, "delayed", "4.0.0", "250 fine" },
	{ EX_OSERR, 0, "deferred", ' ', 0, "delayed", "4.0.0", "250 fine" },
	{ EX_CANTCREAT, 0, "deferred", ' ', 0, "delayed", "4.0.0", "250 fine" },
	{ EX_SOFTWARE, 30, "retryat +30", ' ', 0, "delayed", "4.0.0", "250 fine" },
	{ EX_DEFERALL, 0, "deferall", ' ', 0, "delayed", "4.0.0", "250 fine" },
	{ EX_DEFERBACK, 0, "deferback", ' ', 0, "delayed", "4.0.0", "250 fine" },
	{ EX_NOUSER, 0, "error2", '-', 1, "failed", "5.0.0", "250 fine" },
	{ EX_NOHOST, 0, "error2", '-', 1, "failed", "5.0.0", "250 fine" },
	{ EX_UNAVAILABLE, 0, "error2", '-', 1, "failed", "5.0.0", "250 fine" },
	{ EX_NOPERM, 0, "error2", '-', 1, "failed", "5.0.0",
	  "250 fine (this is abnormal, investigate!)" },
	{ EX_PROTOCOL, 0, "error2", '-', 1, "failed", "5.0.0",
	  "250 fine (this is abnormal, investigate!)" },
	{ EX_USAGE, 0, "error2", '-', 1, "failed", "5.0.0",
	  "250 fine (this is abnormal, investigate!)" },
	{ 42, 0, "error", '-', 0, "failed", "5.0.0", "Unknown sysexits error code 42!" },
};

#define NDIAG (sizeof(diag_vecs) / sizeof(diag_vecs[0]))

/* every vector twice: checked report (mailbox, sm, ...) and, from NDIAG
 * on, the smtp agent's held range lock (ctx.hold_locks) */
START_TEST(test_diagnostic_table)
{
	const struct diag_vec *v = &diag_vecs[(size_t)_i % NDIAG];
	ta_ctx ctx;
	ta_msg m;
	zbuf err = ZBUF_INIT(512);
	char s[8], want[1024];
	ta_rcpt *dave;

	make_spool();
	setup_ctx(&ctx);
	ctx.hold_locks = (size_t)_i >= NDIAG;
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", "mx.example.com", NULL, NULL, &m, &err), Z_OK);
	dave = &m.rcpts[1];
	ck_assert_int_eq(dave->hold.held, ctx.hold_locks);
	ck_assert_int_eq(dave->hold.pid, ctx.pid);
	ck_assert_int_eq(ta_diagnostic(&ctx, &m, dave, v->code, v->retry, "%s", "250 fine"), Z_OK);
	/* a recipient given back lets go of its range lock at once */
	if (v->tag == ' ')
		ck_assert_int_eq(dave->hold.held, 0);
	ck_assert_int_eq(dave->locked, 0);
	ck_assert_int_eq(dave->reported, 1);
	/* a second report for the same recipient is refused */
	ck_assert_int_eq(ta_diagnostic(&ctx, &m, dave, EX_OK, 0, "again"), Z_ESTALE);
	if (v->action == NULL)
		snprintf(want, sizeof(want), "81234/%zu\t\t%s %s\n", off_dave, v->word, v->text);
	else
		snprintf(want, sizeof(want),
			 "81234/%zu\t\"dave x\"@example.com\001%s\001%s\001\001\001smtp[%d]\t%s %s\n",
			 off_dave, v->action, v->status, ctx.pid, v->word, v->text);
	{
		char got[65536];
		snprintf(got, sizeof(got), "%s", reports());
		/* the second (refused) call only wrote a "# ..." line */
		char *hash = strstr(got, "# smtp:");
		ck_assert_ptr_nonnull(hash);
		*hash = '\0';
		ck_assert_str_eq(got, want);
	}
	slot(off_dave, s);
	ck_assert_int_eq(s[0], v->tag);
	ck_assert_str_eq(s + 1, "      ");
	ck_assert_int_eq(count_d(), v->dline);
	if (v->dline) {
		char dl[256];
		snprintf(dl, sizeof(dl), "\nd %zu:%ld:-1::", off_dave, m.rcpts[1].r->hdr_off);
		ck_assert_ptr_nonnull(strstr(ctlbytes(), dl));
		ck_assert_ptr_nonnull(strstr(ctlbytes(), v->text));
	}
	ta_ctlclose(&ctx, &m);
	/* carol was left locked: deferred by close */
	ck_assert_ptr_nonnull(strstr(reports(), "\tdeferred address was left locked\n"));
	zbuf_free(&err);
}
END_TEST

START_TEST(test_diagnostic_success_notify)
{
	ta_ctx ctx;
	ta_msg m;
	zbuf err = ZBUF_INIT(512);
	char want[512], s[8];
	const char *c;

	make_spool();
	setup_ctx(&ctx);
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", "mx.example.com", NULL, NULL, &m, &err), Z_OK);
	ta_notary(&m.rcpts[0], "relayed", "2.0.0", "smtp; 250 2.0.0 queued\tas X",
		  "dns; mx.example.com (192.0.2.25|25)");
	ck_assert_int_eq(ta_diagnostic(&ctx, &m, &m.rcpts[0], EX_OK, 0, "250 queued\nas X"), Z_OK);
	snprintf(want, sizeof(want), "81234/%zu\t\tok2 250 queued\ras X\n", off_carol);
	ck_assert_str_eq(reports(), want);
	slot(off_carol, s);
	ck_assert_str_eq(s, "+      ");
	c = ctlbytes();
	snprintf(want, sizeof(want), "\nd %zu:%ld:%ld::", off_carol, m.rcpts[0].r->hdr_off,
		 m.rcpts[0].r->dsn_off);
	ck_assert_ptr_nonnull(strstr(c, want));
	snprintf(want, sizeof(want),
		 "\tcarol+x@example.com\001relayed\0012.0.0\001smtp; 250 2.0.0 queued as X\001"
		 "dns; mx.example.com (192.0.2.25|25)\001smtp[%d]\t250 queued\ras X\n", ctx.pid);
	ck_assert_ptr_nonnull(strstr(c, want));
	ck_assert_int_eq(ta_diagnostic(&ctx, &m, &m.rcpts[1], EX_OK, 0, "ok"), Z_OK);
	ck_assert_int_eq(count_d(), 1);
	ta_ctlclose(&ctx, &m);
	snprintf(want, sizeof(want), "81234/%zu\t\tok3 ok\n", off_dave);
	ck_assert_str_eq(reports(), want);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_missing_body)
{
	ta_ctx ctx;
	ta_msg m;
	zbuf err = ZBUF_INIT(512);
	char s[8], path[512];
	const char *r;

	make_spool();
	snprintf(path, sizeof(path), "%s/queue/E/K/81234", po);
	ck_assert_int_eq(unlink(path), 0);
	setup_ctx(&ctx);
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", "mx.example.com", NULL, NULL, &m, &err), Z_OK);
	ck_assert_int_eq(m.bodyfd, -1);
	ck_assert_int_eq(m.rcpts[0].locked, 0);
	ck_assert_int_eq(m.rcpts[1].locked, 0);
	ta_ctlclose(&ctx, &m);
	r = reports();
	ck_assert_ptr_nonnull(strstr(r, "\terror2 message file is missing, please resend\n"));
	ck_assert_ptr_ne(strstr(r, "\terror2 "), strstr(strstr(r, "\terror2 ") + 1, "\terror2 "));
	ck_assert_ptr_null(strstr(r, "deferred"));
	slot(off_carol, s);
	ck_assert_int_eq(s[0], '-');
	slot(off_dave, s);
	ck_assert_int_eq(s[0], '-');
	ck_assert_int_eq(count_d(), 2);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_bad_control_file)
{
	ta_ctx ctx;
	ta_msg m;
	zbuf err = ZBUF_INIT(512);
	struct stat st;

	make_spool();
	put_file("E/K/81235", "garbage\n", 8);
	setup_ctx(&ctx);
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81235", "mx.example.com", NULL, NULL, &m, &err),
			 Z_EPARSE);
	ck_assert(err.len > 0);
	ck_assert_int_eq(stat("E/K/81235", &st), 0);    /* never deleted */
	ck_assert_ptr_nonnull(strstr(reports(), "control file does not parse"));
	/* bad 'i' value: locks given back, Z_EPARSE */
	put_file("E/K/81236", "@ 0x00000007\ni x81234\nl <x>\ns smtp a b 1\nr           smtp h u 1\n",
		 strlen("@ 0x00000007\ni x81234\nl <x>\ns smtp a b 1\nr           smtp h u 1\n"));
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81236", "h", NULL, NULL, &m, &err), Z_EPARSE);
	{
		char buf[256];
		int fd = open("E/K/81236", O_RDONLY);
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		ck_assert_ptr_nonnull(strstr(buf, "\nr           smtp h u 1\n"));
	}
	zbuf_free(&err);
}
END_TEST

START_TEST(test_diag_writeout_failure)
{
	ta_ctx ctx;
	ta_msg m;
	zbuf err = ZBUF_INIT(512);
	int rw;

	make_spool();
	setup_ctx(&ctx);
	ck_assert_int_eq(ta_ctlopen(&ctx, "E/K/81234", "mx.example.com", NULL, NULL, &m, &err), Z_OK);
	rw = m.ctlfd;
	m.ctlfd = open("E/K/81234", O_RDONLY);
	ck_assert_int_ge(m.ctlfd, 0);
	ck_assert_int_eq(ta_diagnostic(&ctx, &m, &m.rcpts[0], EX_NOUSER, 0, "550 no"), Z_EIO);
	ck_assert_int_eq(m.rcpts[0].locked, 1);
	ck_assert_int_eq(m.rcpts[0].reported, 0);
	ck_assert_str_eq(reports(), "#HELP! diagnostic writeout failed\n");
	close(m.ctlfd);
	m.ctlfd = rw;
	ta_ctlclose(&ctx, &m);
	ck_assert_int_eq(count_d(), 0);
	ck_assert_ptr_nonnull(strstr(reports(), "\tdeferred address was left locked\n"));
	zbuf_free(&err);
}
END_TEST

/* loop_deliver - ok for every locked recipient */
static int loop_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	for (size_t i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].locked)
			ta_diagnostic(ctx, m, &m->rcpts[i], EX_OK, 0, "done for %s", host);
	return EX_OK;
}

/* loop_newhost - say which host */
static void loop_newhost(ta_ctx *ctx, const char *host)
{
	ta_say(ctx, "newhost %s", host);
}

/* loop_idlecmd - say it */
static void loop_idlecmd(ta_ctx *ctx)
{
	ta_say(ctx, "idlecmd");
}

/* loop_finish - say it */
static void loop_finish(ta_ctx *ctx)
{
	ta_say(ctx, "finish");
}

/* run_child - fork a job loop on a socketpair (idle_ms: its idle timeout, -1
 * none); returns its pid, *fd our end */
static pid_t run_child(const ta_agent_ops *ops, long idle_ms, int *fd)
{
	int sv[2];
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ta_ctx ctx;
		close(sv[0]);
		ta_init(&ctx, "smtp", "smtp");
		ctx.in_fd = ctx.out_fd = sv[1];
		ctx.idle_timeout_ms = idle_ms;
		_exit(ta_jobloop(&ctx, ops));
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

/* talk - write feed, close our write side, read everything; exit status */
static int talk(pid_t pid, int fd, const char *feed, size_t n, char *out, size_t outsz)
{
	size_t got = 0;
	ssize_t r;
	int status;

	ck_assert_int_eq(zwrite_all(fd, feed, n), Z_OK);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	while (got + 1 < outsz && (r = read(fd, out + got, outsz - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* test_onewrite - the report about the job in hand and the "#hungry" after
 * it leave in one write (a SOCK_SEQPACKET socketpair keeps write
 * boundaries); an earlier report of the same job is sent by the next */
START_TEST(test_onewrite)
{
	static const char feed[] = "E/K/81234\tmx.example.com\n";
	ta_agent_ops ops;
	char rec[10][1024], want[1024];
	int sv[2], status, n = 0;
	pid_t pid;
	ssize_t r;

	make_spool();
	memset(&ops, 0, sizeof(ops));
	ops.deliver = loop_deliver;
	ops.finish = loop_finish;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ta_ctx ctx;
		close(sv[0]);
		ta_init(&ctx, "smtp", "smtp");
		ctx.in_fd = ctx.out_fd = sv[1];
		_exit(ta_jobloop(&ctx, &ops));
	}
	close(sv[1]);
	ck_assert_int_eq(zwrite_all(sv[0], feed, sizeof(feed) - 1), Z_OK);
	ck_assert_int_eq(shutdown(sv[0], SHUT_WR), 0);
	while (n < 10 && (r = read(sv[0], rec[n], sizeof(rec[0]) - 1)) > 0)
		rec[n++][r] = '\0';
	close(sv[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == EX_OK);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(rec[0], "#hungry\n");
	snprintf(want, sizeof(want), "81234/%zu\t\tok2 done for mx.example.com\n", off_carol);
	ck_assert_str_eq(rec[1], want);
	snprintf(want, sizeof(want), "81234/%zu\t\tok3 done for mx.example.com\n#hungry\n",
		 off_dave);
	ck_assert_str_eq(rec[2], want);
	snprintf(want, sizeof(want), "# smtp:%d: finish\n", (int)pid);
	ck_assert_str_eq(rec[3], want);
}
END_TEST

START_TEST(test_jobloop)
{
	static const char feed[] =
		"#idle\n"
		"E/K/81234\tmx.example.com\n"
		"../x\n"
		"E/K/99999\tMX.example.com\n"
		"E/K/81234\tother.example.org";	/* no '\n': discarded at EOF */
	ta_agent_ops ops;
	pid_t pid;
	char out[8192], want[8192];
	int fd;

	make_spool();
	memset(&ops, 0, sizeof(ops));
	ops.deliver = loop_deliver;
	ops.newhost = loop_newhost;
	ops.idlecmd = loop_idlecmd;
	ops.finish = loop_finish;
	pid = run_child(&ops, -1, &fd);
	ck_assert_int_eq(talk(pid, fd, feed, sizeof(feed) - 1, out, sizeof(out)), EX_OK);
	snprintf(want, sizeof(want),
		 "#hungry\n"
		 "# smtp:%d: idlecmd\n"
		 "#hungry\n"
		 "# smtp:%d: newhost mx.example.com\n"
		 "81234/%zu\t\tok2 done for mx.example.com\n"
		 "81234/%zu\t\tok3 done for mx.example.com\n"
		 "#hungry\n"
		 "# smtp:%d: bad job line: invalid job path\n"
		 "#hungry\n"
		 "#resync E/K/99999\n"
		 "#hungry\n"
		 "# smtp:%d: finish\n",
		 (int)pid, (int)pid, off_carol, off_dave, (int)pid, (int)pid);
	ck_assert_str_eq(out, want);
}
END_TEST

/* an agent with work outstanding after deliver (the smtp window): it
 * keeps the message, reports it when its fd is readable */
static ta_msg *win_held;
static int win_pipe[2];

/* win_report - report and close the held message */
static void win_report(ta_ctx *ctx)
{
	char b;
	if (win_held == NULL)
		return;
	ck_assert_int_eq(read(win_pipe[0], &b, 1), 1);
	(void)loop_deliver(ctx, win_held, "drained");
	ta_ctlclose(ctx, win_held);
	free(win_held);
	win_held = NULL;
}

/* win_deliver - open the next job ahead, leave the reports for later */
static int win_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	(void)m;
	(void)host;
	ta_prefetch(ctx);
	ck_assert_int_eq(write(win_pipe[1], "x", 1), 1);
	return EX_OK;
}

static void win_release(ta_ctx *ctx, ta_msg *m)
{
	win_report(ctx);
	win_held = m;
}

static int win_fd(ta_ctx *ctx)
{
	(void)ctx;
	return win_held != NULL ? win_pipe[0] : -1;
}

START_TEST(test_jobloop_window)
{
	static const char feed[] = "E/K/81234\tmx.example.com\nE/K/81234\tmx.example.com\n";
	ta_agent_ops ops;
	pid_t pid;
	char out[8192], want[8192];
	int fd;

	make_spool();
	ck_assert_int_eq(pipe(win_pipe), 0);
	memset(&ops, 0, sizeof(ops));
	ops.deliver = win_deliver;
	ops.release = win_release;
	ops.wait_fd = win_fd;
	ops.drain = win_report;
	ops.finish = loop_finish;
	pid = run_child(&ops, -1, &fd);
	ck_assert_int_eq(talk(pid, fd, feed, sizeof(feed) - 1, out, sizeof(out)), EX_OK);
	/* the second line is taken ahead (its "#hungry" written) while the
	 * first job's reports are outstanding; they come when the loop waits */
	snprintf(want, sizeof(want),
		 "#hungry\n"
		 "#hungry\n"
		 "#resync E/K/81234\n"
		 "#hungry\n"
		 "81234/%zu\t\tok2 done for drained\n"
		 "81234/%zu\t\tok3 done for drained\n"
		 "# smtp:%d: finish\n",
		 off_carol, off_dave, (int)pid);
	ck_assert_str_eq(out, want);
	close(win_pipe[0]);
	close(win_pipe[1]);
}
END_TEST

START_TEST(test_jobloop_empty_line_and_stop)
{
	ta_agent_ops ops;
	int fd, status;
	pid_t pid;
	char out[4096];
	size_t got = 0;
	ssize_t n;

	make_spool();
	memset(&ops, 0, sizeof(ops));
	ops.deliver = loop_deliver;
	pid = run_child(&ops, -1, &fd);
	/* an empty line ends the loop although the connection stays open */
	ck_assert_int_eq(zwrite_all(fd, "\nE/K/81234\tmx.example.com\n", 26), Z_OK);
	while ((n = read(fd, out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), EX_OK);
	ck_assert_str_eq(out, "#hungry\n");
	close(fd);

	/* SIGTERM while waiting for a job: exits EX_OK */
	memset(&ops, 0, sizeof(ops));
	pid = run_child(&ops, -1, &fd);
	n = read(fd, out, sizeof(out) - 1);	/* the first #hungry: it waits now */
	ck_assert_int_eq(n, 8);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), EX_OK);
	close(fd);
}
END_TEST

/* term_deliver - a stop signal arrives during the job; still deliver */
static int term_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	kill(getpid(), SIGTERM);
	return loop_deliver(ctx, m, host);
}

/* dataerr_deliver - pretend a 'd' line could not be written */
static int dataerr_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	return EX_DATAERR;
}

START_TEST(test_jobloop_stop_dataerr_long)
{
	ta_agent_ops ops;
	char out[8192], want[8192];
	size_t n;
	char *feed;
	int fd;
	pid_t pid;

	make_spool();
	/* SIGTERM during a job: the job is finished, nothing more is read */
	memset(&ops, 0, sizeof(ops));
	ops.deliver = term_deliver;
	pid = run_child(&ops, -1, &fd);
	{
		static const char f[] = "E/K/81234\tmx.example.com\nE/K/81234\tother.example.org\n";
		ck_assert_int_eq(talk(pid, fd, f, sizeof(f) - 1, out, sizeof(out)), EX_OK);
	}
	snprintf(want, sizeof(want),
		 "#hungry\n81234/%zu\t\tok2 done for mx.example.com\n"
		 "81234/%zu\t\tok3 done for mx.example.com\n", off_carol, off_dave);
	ck_assert_str_eq(out, want);

	/* deliver says EX_DATAERR: leftovers deferred, exit 65 */
	ops.deliver = dataerr_deliver;
	pid = run_child(&ops, -1, &fd);
	{
		static const char f[] = "E/K/81234\tother.example.org\n#idle\n";
		ck_assert_int_eq(talk(pid, fd, f, sizeof(f) - 1, out, sizeof(out)), EX_DATAERR);
	}
	snprintf(want, sizeof(want),
		 "#hungry\n81234/%zu\terin@example.org\001delayed\0014.0.0\001\001\001smtp[%d]"
		 "\tdeferred address was left locked\n", off_erin, (int)pid);
	ck_assert_str_eq(out, want);

	/* an over-long job line is refused once, the next line still works */
	n = 9000;
	feed = malloc(n + 64);
	ck_assert_ptr_nonnull(feed);
	memset(feed, '1', n);
	feed[n] = '\n';
	memcpy(feed + n + 1, "#idle\n", 6);
	ops.deliver = loop_deliver;
	ops.idlecmd = loop_idlecmd;
	pid = run_child(&ops, -1, &fd);
	ck_assert_int_eq(talk(pid, fd, feed, n + 7, out, sizeof(out)), EX_OK);
	snprintf(want, sizeof(want),
		 "#hungry\n# smtp:%d: bad job line: line too long\n#hungry\n"
		 "# smtp:%d: idlecmd\n#hungry\n", (int)pid, (int)pid);
	ck_assert_str_eq(out, want);
	free(feed);
}
END_TEST

/* idle_say - the idle callback: say so */
static void idle_say(ta_ctx *ctx)
{
	ta_say(ctx, "idle");
}

START_TEST(test_jobloop_idle_timeout)
{
	ta_agent_ops ops;
	int fd, status;
	pid_t pid;
	char out[4096], want[128];
	size_t got = 0;
	ssize_t n;

	make_spool();
	memset(&ops, 0, sizeof(ops));
	ops.idle = idle_say;
	pid = run_child(&ops, 20, &fd);
	snprintf(want, sizeof(want), "#hungry\n# smtp:%d: idle\n", (int)pid);
	/* wait (blocking) until the first idle call has been reported */
	while (got < strlen(want) && (n = read(fd, out + got, strlen(want) - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	while (read(fd, out, sizeof(out)) > 0)
		;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), EX_OK);
	close(fd);
}
END_TEST

/* rm_one - nftw callback removing one entry */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

/* cleanup_spool - remove the test's postoffice */
static void cleanup_spool(void)
{
	if (po[0] != '\0' && chdir("/") == 0)
		nftw(po, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	po[0] = '\0';
}

/* libta_suite - all cases */
static Suite *libta_suite(void)
{
	Suite *s = suite_create("libta");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, cleanup_spool);
	tcase_add_test(tc, test_ctlopen_select);
	tcase_add_test(tc, test_ctlopen_fixed_and_any_host);
	tcase_add_test(tc, test_selector_and_race);
	tcase_add_loop_test(tc, test_diagnostic_table, 0, (int)(2 * NDIAG));
	tcase_add_test(tc, test_diagnostic_success_notify);
	tcase_add_test(tc, test_missing_body);
	tcase_add_test(tc, test_bad_control_file);
	tcase_add_test(tc, test_diag_writeout_failure);
	tcase_add_test(tc, test_jobloop);
	tcase_add_test(tc, test_onewrite);
	tcase_add_test(tc, test_jobloop_window);
	tcase_add_test(tc, test_jobloop_empty_line_and_stop);
	tcase_add_test(tc, test_jobloop_idle_timeout);
	tcase_add_test(tc, test_jobloop_stop_dataerr_long);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite inside one scratch directory (scratch.h) */
int main(void)
{
	return scratch_run(libta_suite(), "check_libta");
}
