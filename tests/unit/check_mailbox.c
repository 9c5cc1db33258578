/*
 * NAME
 *	check_mailbox - unit tests for transport/mailbox/mbox.c
 * SUMMARY
 *	Template expansion, the "From "-quoting writer (also across write
 *	boundaries), header edits, the Delivered-To loop check, mbox appends
 *	(separator, quoting, line-end repair, lock file removed, symlinks and
 *	hard links refused, busy dot-lock), -8 decoding, Maildir deliveries
 *	and the program exit-code table.
 * SYNOPSIS
 *	tests/unit/check_mailbox
 * DESCRIPTION
 *	Files are made below a scratch directory (scratch.h); nothing needs
 *	root, every delivery runs as the test's own user.
 * DIAGNOSTICS
 *	libcheck output; non-zero exit on failure.
 * SECURITY
 *	Test code only; touches nothing outside its scratch directory.
 * BUGS
 *	No full-disk case here: tests/integration/mailbox.sh does that with
 *	the enospc shim.
 * SEE ALSO
 *	transport/mailbox/mbox.c, mailbox(8)
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>
#include "mbox.h"
#include "zutil.h"
#include "scratch.h"

/* tmpdir - a fresh directory below the scratch dir */
static void tmpdir(char *out, size_t n)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, n, "%s/mbx.XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(out));
}

/* slurp - whole file as a malloc'd string */
static char *slurp(const char *path)
{
	zbuf b = ZBUF_INIT(1 << 20), err = ZBUF_INIT(256);
	ck_assert_int_eq(zread_file(path, 1 << 20, &b, &err), Z_OK);
	zbuf_free(&err);
	if (b.data == NULL)
		return strdup("");
	return b.data;
}

/* ---------------------------------------------------------- templates */

static const struct {
	const char *tmpl, *user, *home, *want;
	int maildir;
} good_tmpl[] = {
	{ "/var/mail/%u", "alice", "/home/alice", "/var/mail/alice", 0 },
	{ "%h/Maildir/", "bob", "/home/bob", "/home/bob/Maildir", 1 },
	{ "%h/Maildir//", "bob", "/home/bob", "/home/bob/Maildir", 1 },
	{ "/srv/mail/%u/", "c", "/x", "/srv/mail/c", 1 },
	{ "/m/100%%/%u", "d", "/x", "/m/100%/d", 0 },
	{ "%h/mbox", "root", "/", "/mbox", 0 },
	{ "/spool/%u.%u", "e", NULL, "/spool/e.e", 0 },
};

static const struct {
	const char *tmpl, *user, *home;
} bad_tmpl[] = {
	{ "/var/mail/%u", "", "/h" },
	{ "/var/mail/%u", "../etc", "/h" },
	{ "/var/mail/%u", ".hidden", "/h" },
	{ "/var/mail/%u", "a/b", "/h" },
	{ "%h/Maildir/", "x", "relative" },
	{ "%h/Maildir/", "x", NULL },
	{ "mail/%u", "x", "/h" },
	{ "/var/mail/%x", "x", "/h" },
	{ "/var/mail/%", "x", "/h" },
	{ "%h/../root/x", "x", "/h" },
	{ "/var/mail/%u/..", "x", "/h" },
	{ "", "x", "/h" },
};

START_TEST(test_expand_good)
{
	zbuf out = ZBUF_INIT(MBX_PATH_MAX + 16), err = ZBUF_INIT(256);
	int md = -1;
	ck_assert_int_eq(mbx_expand(good_tmpl[_i].tmpl, good_tmpl[_i].user, good_tmpl[_i].home,
				    &out, &md, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), good_tmpl[_i].want);
	ck_assert_int_eq(md, good_tmpl[_i].maildir);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_expand_bad)
{
	zbuf out = ZBUF_INIT(MBX_PATH_MAX + 16), err = ZBUF_INIT(256);
	int md;
	ck_assert_int_eq(mbx_expand(bad_tmpl[_i].tmpl, bad_tmpl[_i].user, bad_tmpl[_i].home,
				    &out, &md, &err), Z_EPARSE);
	ck_assert_uint_gt(err.len, 0);
	ck_assert_uint_eq(out.len, 0);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_expand_too_long)
{
	zbuf out = ZBUF_INIT(MBX_PATH_MAX + 16), err = ZBUF_INIT(256);
	char *home = malloc(MBX_PATH_MAX + 10);
	int md;
	memset(home, 'a', MBX_PATH_MAX + 9);
	home[0] = '/';
	home[MBX_PATH_MAX + 9] = '\0';
	ck_assert_int_eq(mbx_expand("%h/x", "u", home, &out, &md, &err), Z_EPARSE);
	free(home);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

/* ------------------------------------------------------------- writer */

/* quote_via - body through the writer in chunks of step bytes */
static char *quote_via(const char *body, size_t step, int quote)
{
	char dir[512], path[600];
	mbx_writer *w = malloc(sizeof(*w));
	size_t n = strlen(body);
	int fd;
	char *s;

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	mbx_w_init(w, fd, quote);
	for (size_t i = 0; i < n; i += step)
		ck_assert_int_eq(mbx_w_body(w, body + i, i + step > n ? n - i : step), Z_OK);
	/* what is still held back at the end is written as it is */
	ck_assert_int_eq(mbx_w_raw(w, "", 0), Z_OK);
	ck_assert_int_eq(mbx_w_flush(w), Z_OK);
	close(fd);
	free(w);
	s = slurp(path);
	return s;
}

static const struct {
	const char *in, *out;
} quote_cases[] = {
	{ "From here\n", ">From here\n" },
	{ "a\nFrom x\nb\n", "a\n>From x\nb\n" },
	{ ">From x\n", ">From x\n" },
	{ "From\n", "From\n" },
	{ "Fromage\n", "Fromage\n" },
	{ "FFrom x\n", "FFrom x\n" },
	{ " From x\n", " From x\n" },
	{ "from x\n", "from x\n" },
	{ "x From y\nFrom z", "x From y\n>From z" },
	{ "From ", ">From " },
	{ "Fro", "Fro" },
	{ "\n\nFrom \nFrom From \n", "\n\n>From \n>From From \n" },
};

START_TEST(test_quote)
{
	for (size_t step = 1; step <= 7; step++) {
		char *s = quote_via(quote_cases[_i].in, step, 1);
		ck_assert_msg(strcmp(s, quote_cases[_i].out) == 0, "step %zu: '%s' -> '%s'", step,
			      quote_cases[_i].in, s);
		free(s);
	}
	{
		char *s = quote_via(quote_cases[_i].in, 3, 0);
		ck_assert_str_eq(s, quote_cases[_i].in);
		free(s);
	}
}
END_TEST

START_TEST(test_from_line)
{
	zbuf b = ZBUF_INIT(1024);
	ck_assert_int_eq(mbx_from_line("a b@x", 0, &b), Z_OK);
	ck_assert_msg(strncmp(zbuf_cstr(&b), "From a_b@x ", 11) == 0, "%s", zbuf_cstr(&b));
	ck_assert_int_eq(b.data[b.len - 1], '\n');
	zbuf_reset(&b);
	ck_assert_int_eq(mbx_from_line("", 0, &b), Z_OK);
	ck_assert_msg(strncmp(zbuf_cstr(&b), "From MAILER-DAEMON ", 19) == 0, "%s", zbuf_cstr(&b));
	/* ctime form: "Www Mmm dd hh:mm:ss yyyy" */
	ck_assert_uint_eq(b.len, strlen("From MAILER-DAEMON ") + 24 + 1);
	zbuf_free(&b);
}
END_TEST

/* ------------------------------------------------------------ headers */

#define H1 "Return-Path: <old@x>\nFrom: a@x\nSubject: folded\n  line\nX-Envelope-To: old\n" \
	"To: b@y\n\n"

START_TEST(test_headers_edit)
{
	zbuf out = ZBUF_INIT(1 << 16), err = ZBUF_INIT(256);
	mbx_hdropts o = { "s@x", "bob@host.test", NULL };

	ck_assert_int_eq(mbx_headers(H1, strlen(H1), &o, &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out),
			 "Return-Path: <s@x>\nDelivered-To: bob@host.test\nFrom: a@x\n"
			 "Subject: folded\n  line\nX-Envelope-To: old\nTo: b@y\n\n");
	/* with X-Envelope-To, the null sender, no Delivered-To, no final empty line */
	o.return_path = "";
	o.delivered_to = NULL;
	o.envelope_to = "bob";
	ck_assert_int_eq(mbx_headers(H1, strlen(H1) - 1, &o, &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out),
			 "Return-Path: <>\nX-Envelope-To: bob\nFrom: a@x\n"
			 "Subject: folded\n  line\nTo: b@y\n\n");
	/* a last field without its line end gets one */
	o.envelope_to = NULL;
	ck_assert_int_eq(mbx_headers("A: 1", 4, &o, &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "Return-Path: <>\nA: 1\n\n");
	/* an empty header block */
	ck_assert_int_eq(mbx_headers("", 0, &o, &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "Return-Path: <>\n\n");
	/* a newline in the sender cannot inject a field */
	o.return_path = "a@x\nBcc: evil";
	ck_assert_int_eq(mbx_headers("", 0, &o, &out, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "Return-Path: <a@xBcc: evil>\n\n");
	/* not a header at all */
	o.return_path = "s";
	ck_assert_int_ne(mbx_headers("no colon here\n\n", 15, &o, &out, &err), Z_OK);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_loop_check)
{
	const char *h = "Received: x\nDelivered-To: Bob@Host.Test\nDelivered-To:\n <carol@host.test> \n"
			"Subject: Delivered-To: dave@host.test\n\n";
	size_t n = strlen(h);

	ck_assert_int_eq(mbx_delivered_to(h, n, "bob@host.test"), 1);
	ck_assert_int_eq(mbx_delivered_to(h, n, "<bob@host.test>"), 1);
	ck_assert_int_eq(mbx_delivered_to(h, n, "carol@host.test"), 1);
	ck_assert_int_eq(mbx_delivered_to(h, n, "dave@host.test"), 0);
	ck_assert_int_eq(mbx_delivered_to(h, n, "bob"), 0);
	ck_assert_int_eq(mbx_delivered_to(h, n, "bob@host.tes"), 0);
	ck_assert_int_eq(mbx_delivered_to(h, n, ""), 0);
	ck_assert_int_eq(mbx_delivered_to("", 0, "bob@host.test"), 0);
	/* the body is not looked at */
	ck_assert_int_eq(mbx_delivered_to("A: b\n\nDelivered-To: bob@host.test\n", 33,
					  "bob@host.test"), 0);
}
END_TEST

START_TEST(test_header_value)
{
	zbuf v = ZBUF_INIT(1024);
	const char *h = "From: a\nMessage-ID:\n <x@y>\n\n";
	ck_assert_int_eq(mbx_header_value(h, strlen(h), "message-id", &v), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&v), "<x@y>");
	ck_assert_int_eq(mbx_header_value(h, strlen(h), "To", &v), Z_ENOENT);
	zbuf_free(&v);
}
END_TEST

/* ----------------------------------------------------------- delivery */

/* body_file - a queue-like file: junk, then the body at offset 5 */
static int body_file(const char *dir, const char *body, off_t *off, off_t *size)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/body", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(zwrite_all(fd, "JUNK\n", 5), Z_OK);
	ck_assert_int_eq(zwrite_all(fd, body, strlen(body)), Z_OK);
	*off = 5;
	*size = (off_t)strlen(body);
	return fd;
}

/* fileopts - defaults for the tests */
static mbx_fileopts fileopts(void)
{
	mbx_fileopts fo = { 1, 1, (long)getuid(), 0, 1, 300, "host/x:y" };
	return fo;
}

#define HDRS "Return-Path: <s@x>\nSubject: t\n\n"

START_TEST(test_mbox_append)
{
	char dir[512], mb[600], lock[600];
	mbx_fileopts fo = fileopts();
	mbx_msg m = { "s@x", 0, HDRS, strlen(HDRS), -1, 0, 0, MBX_FMT_MBOX, 0 };
	mbx_result res;
	struct stat st;
	char *s, *p;

	tmpdir(dir, sizeof(dir));
	snprintf(mb, sizeof(mb), "%s/user", dir);
	snprintf(lock, sizeof(lock), "%s/user.lock", dir);
	m.bodyfd = body_file(dir, "line\nFrom me\nlast", &m.bodyoff, &m.bodysize);
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_OK);
	ck_assert_int_eq(res.ex, EX_OK);
	ck_assert_int_eq(res.oldsize, 0);
	ck_assert_int_eq(stat(mb, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(res.added, st.st_size);
	ck_assert_int_ne(access(lock, F_OK), 0);
	s = slurp(mb);
	ck_assert_msg(strncmp(s, "From s@x ", 9) == 0, "%s", s);
	p = strchr(s, '\n');
	ck_assert_str_eq(p + 1, HDRS "line\n>From me\nlast\n\n");
	free(s);
	/* a second message after a foreign one without an empty line */
	{
		int fd = open(mb, O_WRONLY | O_APPEND);
		ck_assert_int_eq(zwrite_all(fd, "junk", 4), Z_OK);
		close(fd);
	}
	ck_assert_int_eq(stat(mb, &st), 0);
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_OK);
	ck_assert_int_eq(res.oldsize, st.st_size);
	s = slurp(mb);
	ck_assert_msg(strstr(s, "junk\n\nFrom s@x ") != NULL, "%s", s);
	free(s);
	/* MMDF */
	m.format = MBX_FMT_MMDF;
	ck_assert_int_eq(unlink(mb), 0);
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_OK);
	s = slurp(mb);
	ck_assert_str_eq(s, "\1\1\1\1\n" HDRS "line\nFrom me\nlast\n\1\1\1\1\n");
	free(s);
	close(m.bodyfd);
}
END_TEST

START_TEST(test_mbox_refused)
{
	char dir[512], mb[600], other[600], lock[600];
	mbx_fileopts fo = fileopts();
	mbx_msg m = { "", 0, HDRS, strlen(HDRS), -1, 0, 0, MBX_FMT_MBOX, 0 };
	mbx_result res;
	char *s;

	tmpdir(dir, sizeof(dir));
	snprintf(mb, sizeof(mb), "%s/user", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	snprintf(lock, sizeof(lock), "%s/user.lock", dir);
	/* a symlink */
	{
		int fd = open(other, O_WRONLY | O_CREAT, 0600);
		close(fd);
	}
	ck_assert_int_eq(symlink(other, mb), 0);
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_ERR);
	ck_assert_int_eq(res.ex, EX_TEMPFAIL);
	ck_assert_msg(strstr(res.text, "symbolic link") != NULL, "%s", res.text);
	s = slurp(other);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_int_ne(access(lock, F_OK), 0);
	/* a hard link */
	ck_assert_int_eq(unlink(mb), 0);
	ck_assert_int_eq(link(other, mb), 0);
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_ERR);
	ck_assert_msg(strstr(res.text, "hard links") != NULL, "%s", res.text);
	ck_assert_int_eq(unlink(mb), 0);
	/* someone else's file */
	fo.owner = (long)getuid() + 1;
	ck_assert_int_eq(mbx_append(other, &fo, &m, &res), Z_ERR);
	ck_assert_msg(strstr(res.text, "owned by") != NULL, "%s", res.text);
	fo.owner = -1;
	/* not creating */
	fo.create = 0;
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_ERR);
	ck_assert_int_eq(res.ex, EX_TEMPFAIL);
	fo.create = 1;
	/* a fresh dot-lock held by someone else: busy, and left alone */
	{
		int fd = open(lock, O_WRONLY | O_CREAT, 0600);
		close(fd);
	}
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_ERR);
	ck_assert_int_eq(res.ex, EX_TEMPFAIL);
	ck_assert_msg(strstr(res.text, "locked") != NULL, "%s", res.text);
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* a stale one is removed */
	fo.stale_after = -1;
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_OK);
	ck_assert_int_ne(access(lock, F_OK), 0);
	s = slurp(mb);
	ck_assert_msg(strncmp(s, "From MAILER-DAEMON ", 19) == 0, "%s", s);
	free(s);
	/* /dev/null is fine */
	fo.dotlock = 0;
	fo.owner = -1;
	ck_assert_int_eq(mbx_append("/dev/null", &fo, &m, &res), Z_OK);
}
END_TEST

#define QPHDRS "Return-Path: <s@x>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n" \
	"Content-Transfer-Encoding: quoted-printable\n\n"

START_TEST(test_decode_qp)
{
	char dir[512], mb[600];
	mbx_fileopts fo = fileopts();
	mbx_msg m = { "s@x", 0, QPHDRS, strlen(QPHDRS), -1, 0, 0, MBX_FMT_MBOX, 1 };
	mbx_result res;
	char *s;

	tmpdir(dir, sizeof(dir));
	snprintf(mb, sizeof(mb), "%s/user", dir);
	m.bodyfd = body_file(dir, "caf=C3=A9 cr=C3=A8me\nFrom x=\n y\nlast=\n", &m.bodyoff, &m.bodysize);
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_OK);
	s = slurp(mb);
	ck_assert_msg(strstr(s, "Content-Transfer-Encoding: 8bit\n") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "\n\ncaf\xc3\xa9 cr\xc3\xa8me\n>From x y\nlast\n\n") != NULL, "%s", s);
	ck_assert_msg(strchr(s, '\r') == NULL, "CR in %s", s);
	free(s);
	/* without -8 the message is stored as queued */
	m.decode_qp = 0;
	ck_assert_int_eq(unlink(mb), 0);
	ck_assert_int_eq(mbx_append(mb, &fo, &m, &res), Z_OK);
	s = slurp(mb);
	ck_assert_msg(strstr(s, "\n\ncaf=C3=A9 cr=C3=A8me\n>From x=\n y\nlast=\n\n") != NULL, "%s", s);
	free(s);
	close(m.bodyfd);
}
END_TEST

START_TEST(test_maildir)
{
	char dir[512], md[600], sub[700];
	mbx_fileopts fo = fileopts();
	mbx_msg m = { "s@x", 0, HDRS, strlen(HDRS), -1, 0, 0, MBX_FMT_MBOX, 0 };
	mbx_result res;
	struct dirent *de;
	DIR *d;
	int n = 0;

	tmpdir(dir, sizeof(dir));
	snprintf(md, sizeof(md), "%s/Maildir", dir);
	m.bodyfd = body_file(dir, "From x\nbody", &m.bodyoff, &m.bodysize);
	ck_assert_int_eq(mbx_maildir(md, &fo, &m, &res), Z_OK);
	ck_assert_int_eq(mbx_maildir(md, &fo, &m, &res), Z_OK);
	snprintf(sub, sizeof(sub), "%s/cur", md);
	ck_assert_int_eq(access(sub, F_OK), 0);
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	d = opendir(sub);
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(de->d_name[0] == '.', "left in tmp: %s", de->d_name);
	closedir(d);
	snprintf(sub, sizeof(sub), "%s/new", md);
	d = opendir(sub);
	while ((de = readdir(d)) != NULL) {
		char f[1200];
		char *s;
		if (de->d_name[0] == '.')
			continue;
		n++;
		ck_assert_msg(strstr(de->d_name, ".host\\057x\\072y,S=") != NULL, "%s", de->d_name);
		snprintf(f, sizeof(f), "%s/%s", sub, de->d_name);
		s = slurp(f);
		ck_assert_str_eq(s, HDRS "From x\nbody\n");
		free(s);
	}
	closedir(d);
	ck_assert_int_eq(n, 2);
	/* no create: a missing Maildir is a temporary failure */
	fo.create = 0;
	snprintf(md, sizeof(md), "%s/Other", dir);
	ck_assert_int_eq(mbx_maildir(md, &fo, &m, &res), Z_ERR);
	ck_assert_int_eq(res.ex, EX_TEMPFAIL);
	close(m.bodyfd);
}
END_TEST

START_TEST(test_program_exit)
{
	static const struct { int code, ex; const char *st; } t[] = {
		{ 0, EX_OK, "2.0.0" }, { EX_NOUSER, EX_NOUSER, "5.1.1" },
		{ EX_NOHOST, EX_NOHOST, "5.1.2" }, { EX_NOPERM, EX_UNAVAILABLE, "5.3.0" },
		{ EX_UNAVAILABLE, EX_UNAVAILABLE, "5.3.0" }, { EX_DATAERR, EX_UNAVAILABLE, "5.3.0" },
		{ EX_TEMPFAIL, EX_TEMPFAIL, "4.3.0" }, { 1, EX_TEMPFAIL, "4.3.0" },
		{ EX_SOFTWARE, EX_TEMPFAIL, "4.3.0" }, { 127, EX_TEMPFAIL, "4.3.0" },
	};
	mbx_result res;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mbx_program_exit(t[i].code << 8, &res);
		ck_assert_int_eq(res.ex, t[i].ex);
		ck_assert_str_eq(res.status, t[i].st);
	}
	mbx_program_exit(SIGKILL, &res);   /* killed by a signal */
	ck_assert_int_eq(res.ex, EX_TEMPFAIL);
}
END_TEST

START_TEST(test_result_errno)
{
	mbx_result res;
	mbx_result_errno(&res, ENOSPC, 1, "cannot write", "/x");
	ck_assert_int_eq(res.ex, EX_TEMPFAIL);
	ck_assert_str_eq(res.status, "4.3.1");
	mbx_result_errno(&res, EDQUOT, 0, "cannot write", "/x");
	ck_assert_int_eq(res.ex, EX_TEMPFAIL);
	ck_assert_str_eq(res.status, "4.2.2");
	mbx_result_errno(&res, EDQUOT, 1, "cannot write", "/x");
	ck_assert_int_eq(res.ex, EX_UNAVAILABLE);
	ck_assert_str_eq(res.status, "5.2.2");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mailbox");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	if (scratch_begin("check_mailbox") != 0)
		return 1;
	tcase_add_loop_test(tc, test_expand_good, 0, (int)(sizeof(good_tmpl) / sizeof(good_tmpl[0])));
	tcase_add_loop_test(tc, test_expand_bad, 0, (int)(sizeof(bad_tmpl) / sizeof(bad_tmpl[0])));
	tcase_add_test(tc, test_expand_too_long);
	tcase_add_loop_test(tc, test_quote, 0, (int)(sizeof(quote_cases) / sizeof(quote_cases[0])));
	tcase_add_test(tc, test_from_line);
	tcase_add_test(tc, test_headers_edit);
	tcase_add_test(tc, test_loop_check);
	tcase_add_test(tc, test_header_value);
	tcase_add_test(tc, test_mbox_append);
	tcase_add_test(tc, test_mbox_refused);
	tcase_add_test(tc, test_decode_qp);
	tcase_add_test(tc, test_maildir);
	tcase_add_test(tc, test_program_exit);
	tcase_add_test(tc, test_result_errno);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (scratch_end() != 0)
		return 1;
	return nf == 0 ? 0 : 1;
}
