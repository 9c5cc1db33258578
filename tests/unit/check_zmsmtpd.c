/*
 * check_zmsmtpd.c - unit tests of libzmsmtpd: one session served on a
 * socketpair (zmsmtpd_serve_fds in a child), scripted client input, the
 * replies compared; and the asynchronous deliver API on the event loop
 * (zmsmtpd_deliver_async / _done / zmsmtpd_watch_fd), driven in-process;
 * the refused and transcript callbacks.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zbuf.h"
#include "smtp_sasl.h"
#include "zmsmtpd.h"
#include "runsuite.h"

static int host_action, sender_reject, keep_open, use_secret, use_hooks;
static char msgpath[256], trpath[300];
static const char *opt_name[4], *opt_value[4];

static void v_host(void *arg, zmsmtpd_sess *s, const char *ip, zmsmtpd_verdict *v)
{
	(void)arg; (void)s; (void)ip;
	v->action = host_action;
	if (host_action == ZMSMTPD_REJECT)
		snprintf(v->text, sizeof(v->text), "go away");
}

static void v_sender(void *arg, zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	(void)arg; (void)s;
	if (sender_reject && strcmp(addr, "bad@x.test") == 0) {
		v->action = ZMSMTPD_REJECT;
		v->code = 553;
		snprintf(v->enh, sizeof(v->enh), "5.7.1");
		snprintf(v->text, sizeof(v->text), "sender refused");
	}
}

static void v_rcpt(void *arg, zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	(void)arg; (void)s;
	if (strncmp(addr, "temp@", 5) == 0)
		v->action = ZMSMTPD_DEFER;
	else if (strncmp(addr, "no@", 3) == 0)
		v->action = ZMSMTPD_REJECT;
}

static void deliver(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
		    zmsmtpd_verdict *v)
{
	FILE *o = fopen(msgpath, "a");
	char buf[4096];
	size_t n;

	(void)arg; (void)s;
	if (o == NULL) {
		v->action = ZMSMTPD_DEFER;
		return;
	}
	fprintf(o, "[%s %zu %s]", e->sender, e->nrcpts, e->with);
	while ((n = fread(buf, 1, sizeof(buf), msg)) > 0)
		fwrite(buf, 1, n, o);
	fclose(o);
}

/* refused - what the engine refused at the end of data, into msgpath */
static void refused(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
		    const zmsmtpd_verdict *why)
{
	FILE *o = fopen(msgpath, "a");
	char buf[4096];
	size_t n;

	(void)arg; (void)s;
	if (o == NULL)
		return;
	fprintf(o, "[refused %d %s %s %zu]", why->code, why->enh, e->sender, e->nrcpts);
	while ((n = fread(buf, 1, sizeof(buf), msg)) > 0)
		fwrite(buf, 1, n, o);
	fclose(o);
}

/* transcript - both directions into trpath, each chunk tagged */
static void transcript(void *arg, zmsmtpd_sess *s, int out, const char *p, size_t n)
{
	FILE *o = fopen(trpath, "a");

	(void)arg; (void)s;
	if (o == NULL)
		return;
	fputs(out ? "{S}" : "{C}", o);
	fwrite(p, 1, n, o);
	fclose(o);
}

static int verify(void *arg, const char *user, const char *pw)
{
	(void)arg;
	return strcmp(user, "alice") == 0 && strcmp(pw, "pw") == 0 ? 0 : -1;
}

static int secret(void *arg, const char *user, char *buf, size_t bufsz)
{
	(void)arg;
	if (strcmp(user, "alice") != 0)
		return -1;
	snprintf(buf, bufsz, "pw");
	return 0;
}

/* server_child - serve one session on fd in a child; returns its pid */
static pid_t server_child(int fd, int other)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		zmsmtpd_callbacks cb = { 0 };
		zmsmtpd *d;
		char err[256];

		close(other);
		cb.validate_host = v_host;
		cb.validate_sender = v_sender;
		cb.validate_recipient = v_rcpt;
		cb.deliver = deliver;
		if (use_hooks) {
			cb.refused = refused;
			cb.transcript = transcript;
		}
		if (use_secret)
			cb.auth_secret = secret;
		else
			cb.auth_verify = verify;
		d = zmsmtpd_new(&cb);
		zmsmtpd_configure(d, "hostname", "mx.test", err, sizeof(err));
		for (int i = 0; i < 4 && opt_name[i]; i++)
			if (zmsmtpd_configure(d, opt_name[i], opt_value[i], err, sizeof(err)) != 0)
				_exit(3);
		zmsmtpd_serve_fds(d, fd, fd, "192.0.2.1");
		zmsmtpd_free(d);
		_exit(0);
	}
	close(fd);
	return pid;
}

/* session - serve one session on a socketpair; input in, replies into out */
static void session(const char *in, size_t inlen, char *out, size_t outsz)
{
	int sv[2];
	pid_t pid;
	size_t got = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = server_child(sv[1], sv[0]);
	{
		/* the server may close first (421): a refused write is fine */
		ssize_t w = write(sv[0], in, inlen);
		ck_assert(w == (ssize_t)inlen || w < 0);
	}
	if (!keep_open)
		shutdown(sv[0], SHUT_WR);
	for (;;) {
		ssize_t n = read(sv[0], out + got, outsz - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(sv[0]);
	{
		int st;
		waitpid(pid, &st, 0);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

/* codes - the reply codes of out, blank separated (last lines only) */
static void codes(const char *out, char *c, size_t csz)
{
	size_t k = 0;
	const char *p = out;

	c[0] = '\0';
	while (*p) {
		const char *nl = strchr(p, '\n');
		if (strlen(p) >= 4 && p[3] == ' ' && k + 5 < csz) {
			memcpy(c + k, p, 3);
			k += 3;
			c[k++] = ' ';
			c[k] = '\0';
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (k > 0)
		c[k - 1] = '\0';
}

static void setup(void)
{
	host_action = ZMSMTPD_ACCEPT;
	sender_reject = 0;
	keep_open = 0;
	use_secret = 0;
	use_hooks = 0;
	memset(opt_name, 0, sizeof(opt_name));
	snprintf(msgpath, sizeof(msgpath), "/tmp/check_zmsmtpd.%ld", (long)getpid());
	snprintf(trpath, sizeof(trpath), "%s.tr", msgpath);
	unlink(msgpath);
	unlink(trpath);
}

static void teardown(void)
{
	unlink(msgpath);
	unlink(trpath);
}

static char *slurp(void)
{
	static char buf[8192];
	FILE *f = fopen(msgpath, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

#define S(x) x, sizeof(x) - 1

START_TEST(refused_client)
{
	char out[4096], c[256];

	host_action = ZMSMTPD_REJECT;
	session(S("EHLO a\r\nMAIL FROM:<a@b.test>\r\nNOOP\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "554 503 503 503 221");
	ck_assert_ptr_nonnull(strstr(out, "554 mx.test go away"));
}
END_TEST

START_TEST(deferred_client)
{
	char out[4096], c[256];

	host_action = ZMSMTPD_DEFER;
	session(S("EHLO a\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "421");
}
END_TEST

START_TEST(transaction_and_unstuffing)
{
	char out[4096], c[256];

	session(S("EHLO a\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<r@y.test>\r\nRCPT TO:<no@y.test>\r\n"
		  "RCPT TO:<temp@y.test>\r\nDATA\r\nA: b\r\n\r\n..dot\r\n.\r\nQUIT\r\n"),
		out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 250 250 550 451 354 250 221");
	ck_assert_str_eq(slurp(), "[s@x.test 1 ESMTP]A: b\n\n.dot\n");
}
END_TEST

START_TEST(sender_verdict)
{
	char out[4096], c[256];

	sender_reject = 1;
	session(S("HELO a\r\nMAIL FROM:<bad@x.test>\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\n"
		  "DATA\r\nx\r\n.\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 553 250 250 354 250 221");
	ck_assert_ptr_nonnull(strstr(out, "553 5.7.1 sender refused"));
	ck_assert_str_eq(slurp(), "[ 1 SMTP]x\n");
}
END_TEST

START_TEST(bare_lf_normalise)
{
	char out[4096], c[256];

	opt_name[0] = "bare-lf";
	opt_value[0] = "normalise";
	session(S("EHLO a\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<r@y.test>\r\nDATA\r\n"
		  "one\n.\ntwo\r.\r\n.\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 250 250 354 250 221");
	/* the fake ends are body lines; a lone "." stays a body line */
	ck_assert_str_eq(slurp(), "[s@x.test 1 ESMTP]one\n\ntwo\n\n");
}
END_TEST

START_TEST(bare_lf_reject)
{
	char out[4096], c[256];

	session(S("EHLO a\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<r@y.test>\r\nDATA\r\n"
		  "one\n.\nMAIL FROM:<e@x.test>\r\n.\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 250 250 354 550 221");
	ck_assert_str_eq(slurp(), "");
}
END_TEST

START_TEST(max_rcpts)
{
	char out[4096], c[256];

	opt_name[0] = "max-rcpts";
	opt_value[0] = "2";
	session(S("EHLO a\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<a@y.test>\r\nRCPT TO:<b@y.test>\r\n"
		  "RCPT TO:<c@y.test>\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 250 250 250 452 221");
}
END_TEST

START_TEST(auth_plain)
{
	char out[4096], c[256];

	/* without TLS: refused (538); with auth-plaintext: PLAIN and LOGIN */
	session(S("EHLO a\r\nAUTH PLAIN AGFsaWNlAHB3\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 538 221");
	ck_assert_ptr_null(strstr(out, "AUTH PLAIN"));
	opt_name[0] = "auth-plaintext";
	opt_value[0] = "yes";
	session(S("EHLO a\r\nAUTH PLAIN AGFsaWNlAHB4\r\nAUTH PLAIN AGFsaWNlAHB3\r\nAUTH PLAIN\r\n"
		  "QUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 535 235 503 221");
	session(S("EHLO a\r\nAUTH LOGIN\r\nYWxpY2U=\r\ncHc=\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 334 334 235 221");
	session(S("EHLO a\r\nAUTH LOGIN\r\n*\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 334 501 221");
}
END_TEST

/* command_cases - where the command parser draws its lines: the verb ends
 * at the first space only, MAIL/RCPT need exactly " FROM:"/" TO:", BDAT
 * digits then spaces and LAST, AUTH mechanism SP initial response */
static const struct {
	const char *in, *codes;
} command_cases[] = {
	{ "QUIT\t\r\nquit now\r\n", "220 500 221" },
	{ "EHLO a\r\nMAIL  FROM:<a@x.test>\r\nMAILFROM:<a@x.test>\r\nMAIL TO:<a@x.test>\r\n"
	  "mail from:  <a@x.test>\r\nQUIT\r\n", "220 250 500 500 500 250 221" },
	{ "EHLO a\r\nMAIL FROM:<a@x.test>\r\nRCPT  TO:<b@x.test>\r\nrcpt to: <b@x.test>  \r\n"
	  "DATA \r\nRSET x\r\nSTARTTLS x\r\nNOOP x\r\nRSET\r\nQUIT\r\n",
	  "220 250 250 500 250 501 501 501 250 250 221" },
	{ "EHLO a\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nBDAT 3LAST\r\nabcQUIT\r\n",
	  "220 250 250 250 250 221" },
	{ "EHLO a\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nbdat 2 \r\nabBDAT 1  last\r\n"
	  "cQUIT\r\n", "220 250 250 250 250 250 221" },
	{ "EHLO a\r\nBDAT 00000000000000000000000000000001\r\n", "220 250 501 421" },
	{ "EHLO a\r\nBDAT 9999999999999999999999999999999\r\n", "220 250 501 421" },
	{ "EHLO a\r\nBDAT 1 LAST x\r\n", "220 250 501 421" },
	{ "EXPN x\r\nETRN x.test\r\nAUTH PLAIN\r\nFOO\r\n", "220 502 502 503 500" },
	{ "EHLO a\r\nAUTH PLAIN Ym9iAGFsaWNlAHB3\r\nAUTH PLAIN AGFsaWNlAHB3AHg=\r\n"
	  "AUTH PLAIN AGFsaWNl\r\nAUTH PLAIN  AGFsaWNlAHB3\r\nAUTH PLAIN YWxpY2UAYWxpY2UAcHc=\r\n"
	  "QUIT\r\n", "220 250 535 535 501 501 235 221" },
};

START_TEST(command_syntax)
{
	char out[4096], c[256];

	opt_name[0] = "auth-plaintext";
	opt_value[0] = "yes";
	session(command_cases[_i].in, strlen(command_cases[_i].in), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, command_cases[_i].codes);
}
END_TEST

/* read_reply - one whole reply from fd into buf (last line starts at *last) */
static void read_reply(int fd, char *buf, size_t bufsz, const char **last)
{
	size_t got = 0;

	for (;;) {
		ssize_t n;
		char *p = buf, *nl;
		buf[got] = '\0';
		while ((nl = strchr(p, '\n')) != NULL) {
			if (nl - p >= 4 && p[3] == ' ') {
				*last = p;
				return;
			}
			p = nl + 1;
		}
		n = read(fd, buf + got, bufsz - 1 - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
}

START_TEST(auth_cram_md5)
{
	int sv[2];
	pid_t pid;
	char buf[4096];
	const char *last;
	zbuf chal = ZBUF_INIT(1024), resp = ZBUF_INIT(1024), b64 = ZBUF_INIT(1024);
	int st;

	use_secret = 1;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = server_child(sv[1], sv[0]);
	read_reply(sv[0], buf, sizeof(buf), &last);
	ck_assert(write(sv[0], "EHLO a\r\n", 8) == 8);
	read_reply(sv[0], buf, sizeof(buf), &last);
	/* clear-text secrets: CRAM-MD5 offered even without TLS, PLAIN not */
	ck_assert_ptr_nonnull(strstr(buf, "250-AUTH CRAM-MD5"));
	ck_assert(write(sv[0], "AUTH CRAM-MD5\r\n", 15) == 15);
	read_reply(sv[0], buf, sizeof(buf), &last);
	ck_assert(strncmp(last, "334 ", 4) == 0);
	{
		size_t n = strcspn(last + 4, "\r\n");
		ck_assert_int_eq(smtp_b64_decode((zspan){ last + 4, n }, &chal), 0);
	}
	ck_assert_int_eq(smtp_cram_md5("alice", "pw", chal.data, chal.len, &resp), 0);
	ck_assert_int_eq(smtp_b64_encode(resp.data, resp.len, &b64), 0);
	ck_assert_int_eq(zbuf_puts(&b64, "\r\n"), 0);
	ck_assert(write(sv[0], b64.data, b64.len) == (ssize_t)b64.len);
	read_reply(sv[0], buf, sizeof(buf), &last);
	ck_assert(strncmp(last, "235 2.7.0", 9) == 0);
	/* a second AUTH: 503 */
	ck_assert(write(sv[0], "AUTH CRAM-MD5\r\nQUIT\r\n", 21) == 21);
	read_reply(sv[0], buf, sizeof(buf), &last);
	ck_assert(strncmp(last, "503", 3) == 0);
	close(sv[0]);
	waitpid(pid, &st, 0);
	zbuf_free(&chal);
	zbuf_free(&resp);
	zbuf_free(&b64);
}
END_TEST

START_TEST(auth_secret_plain)
{
	char out[4096], c[256];

	/* PLAIN through the smtp/ SASL server with a clear-text secret */
	use_secret = 1;
	opt_name[0] = "auth-plaintext";
	opt_value[0] = "yes";
	session(S("EHLO a\r\nAUTH PLAIN AGFsaWNlAHB4\r\nAUTH PLAIN\r\nAGFsaWNlAHB3\r\nQUIT\r\n"),
		out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 535 334 235 221");
}
END_TEST

START_TEST(auth_required)
{
	char out[4096], c[256];

	opt_name[0] = "auth-required";
	opt_value[0] = "yes";
	session(S("EHLO a\r\nMAIL FROM:<s@x.test>\r\nQUIT\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 530 221");
}
END_TEST

START_TEST(long_line_and_nul)
{
	char in[3000], out[4096], c[256];

	memset(in, 'A', sizeof(in));
	memcpy(in + 2990, "\r\nNOOP\r\n", 8);
	session(in, 2998, out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 500 250");
	session(S("NO\0OP\r\nNOOP\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 500 250");
}
END_TEST

START_TEST(no_valid_rcpt_and_timeout)
{
	char out[4096], c[256];

	session(S("EHLO a\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<no@y.test>\r\nDATA\r\nQUIT\r\n"),
		out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 250 550 554 221");
	/* the client goes silent: 421 4.4.2 and the session ends */
	keep_open = 1;
	opt_name[0] = "timeout-command";
	opt_value[0] = "1s";
	session(S("EHLO a\r\n"), out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 421");
	ck_assert_ptr_nonnull(strstr(out, "421 4.4.2"));
}
END_TEST

START_TEST(configure_cget)
{
	zmsmtpd *d = zmsmtpd_new(NULL);
	char buf[64], err[256];

	ck_assert_int_eq(zmsmtpd_configure(d, "max-size", "1000", err, sizeof(err)), 0);
	ck_assert_int_eq(zmsmtpd_cget(d, "max-size", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1000");
	ck_assert_int_eq(zmsmtpd_configure(d, "timeout-command", "2m", err, sizeof(err)), 0);
	ck_assert_int_eq(zmsmtpd_cget(d, "timeout-command", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "120");
	ck_assert_int_eq(zmsmtpd_configure(d, "max-line", "10", err, sizeof(err)), -1);
	ck_assert_int_eq(zmsmtpd_configure(d, "vrfy", "maybe", err, sizeof(err)), -1);
	ck_assert_int_eq(zmsmtpd_configure(d, "nosuch", "1", err, sizeof(err)), -1);
	ck_assert_int_eq(zmsmtpd_configure(d, "hostname", "a\nb", err, sizeof(err)), -1);
	ck_assert_int_eq(zmsmtpd_configure(d, "tls-cert", "/nonexistent", err, sizeof(err)), 0);
	ck_assert_int_eq(zmsmtpd_configure(d, "tls-key", "/nonexistent", err, sizeof(err)), -1);
	ck_assert_int_eq(zmsmtpd_cget(d, "nosuch", buf, sizeof(buf)), -1);
	ck_assert_int_eq(zmsmtpd_start(d, "127.0.0.1", 0, 0, err, sizeof(err)), 0);
	ck_assert_int_gt(zmsmtpd_port(d), 0);
	ck_assert_int_eq(zmsmtpd_start(d, "not-an-address", 0, 0, err, sizeof(err)), -1);
	zmsmtpd_free(d);
}
END_TEST

START_TEST(big_and_empty_messages)
{
	/* 1,000 lines of 99 bytes: over the 64 KiB kept in memory, so the
	 * message moves to the scratch file mid-way; then an empty one */
	static char in[120000];
	char out[4096], c[256], line[128];
	size_t k = 0;
	struct stat st;

	k += (size_t)snprintf(in + k, sizeof(in) - k,
			      "EHLO a\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<r@y.test>\r\nDATA\r\n");
	memset(line, 'x', 99);
	for (int i = 0; i < 1000; i++) {
		memcpy(in + k, line, 99);
		k += 99;
		memcpy(in + k, "\r\n", 2);
		k += 2;
	}
	k += (size_t)snprintf(in + k, sizeof(in) - k,
			      ".\r\nMAIL FROM:<e@x.test>\r\nRCPT TO:<r@y.test>\r\nDATA\r\n.\r\nQUIT\r\n");
	session(in, k, out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 250 250 354 250 250 250 354 250 221");
	ck_assert_int_eq(stat(msgpath, &st), 0);
	/* "[s@x.test 1 ESMTP]" + 1000 * 100 bytes + "[e@x.test 1 ESMTP]" */
	ck_assert_int_eq((long)st.st_size, 18 + 100000 + 18);
}
END_TEST

START_TEST(refused_and_transcript)
{
	/* max-size 100: the messages stay in memory (no stream until the
	 * end), and what the engine refuses still reaches refused: the part
	 * of a too-big one that fit, a bare-LF one; an accepted one does not */
	char out[4096], c[256];
	static char in[2048];
	size_t k = 0;
	const char *got;
	FILE *f;
	static char tr[8192];
	size_t n;

	use_hooks = 1;
	opt_name[0] = "max-size";
	opt_value[0] = "100";
	k += (size_t)snprintf(in + k, sizeof(in) - k,
			      "EHLO a\r\nMAIL FROM:<big@x.test>\r\nRCPT TO:<r@y.test>\r\nDATA\r\n");
	for (int i = 0; i < 3; i++)
		k += (size_t)snprintf(in + k, sizeof(in) - k, "%049d\r\n", i);
	k += (size_t)snprintf(in + k, sizeof(in) - k,
			      ".\r\nMAIL FROM:<lf@x.test>\r\nRCPT TO:<r@y.test>\r\nDATA\r\n"
			      "one\ntwo\r\n.\r\n"
			      "MAIL FROM:<ok@x.test>\r\nRCPT TO:<r@y.test>\r\nDATA\r\nfine\r\n.\r\n"
			      "QUIT\r\n");
	session(in, k, out, sizeof(out));
	codes(out, c, sizeof(c));
	ck_assert_str_eq(c, "220 250 250 250 354 552 250 250 354 550 250 250 354 250 221");
	got = slurp();
	/* 100 bytes fit: the first line (50 bytes with its LF) and the
	 * second; the third would pass the limit */
	ck_assert_str_eq(got,
			 "[refused 552 5.3.4 big@x.test 1]"
			 "0000000000000000000000000000000000000000000000000\n"
			 "0000000000000000000000000000000000000000000000001\n"
			 "[refused 550 5.6.11 lf@x.test 1]one\ntwo\n"
			 "[ok@x.test 1 ESMTP]fine\n");
	f = fopen(trpath, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(tr, 1, sizeof(tr) - 1, f);
	tr[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(tr, "{S}220 "));
	ck_assert_ptr_nonnull(strstr(tr, "MAIL FROM:<lf@x.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(tr, "552 5.3.4"));
	ck_assert_ptr_nonnull(strstr(tr, "QUIT\r\n"));
	ck_assert_ptr_nonnull(strstr(tr, "221 "));
}
END_TEST

/* ---- asynchronous delivery on the event loop ---- */

static zmsmtpd_sess *a_pending[4];
static int a_npending, a_async_rc, a_wfd[2];

static void a_deliver(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
		      zmsmtpd_verdict *v)
{
	(void)arg;
	(void)e;
	(void)msg;
	(void)v;
	a_async_rc = zmsmtpd_deliver_async(s);
	if (a_async_rc == 0 && a_npending < 4)
		a_pending[a_npending++] = s;
}

/* a_wake - the "worker" finished: post the verdicts from the loop */
static void a_wake(void *arg)
{
	char c;
	zmsmtpd_verdict v;

	(void)arg;
	while (read(a_wfd[0], &c, 1) == 1)
		;
	memset(&v, 0, sizeof(v));
	snprintf(v.text, sizeof(v.text), "queued later");
	for (int i = 0; i < a_npending; i++)
		zmsmtpd_deliver_done(a_pending[i], &v);
	a_npending = 0;
}

/* a_client - a connected client socket to the server's port */
static int a_client(zmsmtpd *d)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)zmsmtpd_port(d));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/* a_pump - run the loop a while and append what fd received to buf */
static void a_pump(zmsmtpd *d, int fd, char *buf, size_t bufsz)
{
	for (int i = 0; i < 20; i++) {
		size_t len = strlen(buf);
		ssize_t r;
		zmsmtpd_run_once(d, 20);
		while (len + 1 < bufsz && (r = read(fd, buf + len, bufsz - 1 - len)) > 0) {
			len += (size_t)r;
			buf[len] = '\0';
		}
	}
}

static const char a_txn[] = "EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"
			    "Subject: t\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n";

START_TEST(async_deliver)
{
	zmsmtpd_callbacks cb;
	zmsmtpd *d;
	char err[256], out[8192] = "";
	int fd;

	memset(&cb, 0, sizeof(cb));
	cb.deliver = a_deliver;
	d = zmsmtpd_new(&cb);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(pipe(a_wfd), 0);
	ck_assert_int_eq(fcntl(a_wfd[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(zmsmtpd_start(d, "127.0.0.1", 0, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(zmsmtpd_watch_fd(d, a_wfd[0], a_wake, NULL), 0);
	a_npending = 0;
	fd = a_client(d);
	ck_assert_int_eq(write(fd, a_txn, sizeof(a_txn) - 1), (ssize_t)(sizeof(a_txn) - 1));
	a_pump(d, fd, out, sizeof(out));
	/* delivered asynchronously: the 354 is out, the dot's reply and
	 * the pipelined NOOP and QUIT wait */
	ck_assert_int_eq(a_async_rc, 0);
	ck_assert_int_eq(a_npending, 1);
	ck_assert_ptr_nonnull(strstr(out, "354 "));
	ck_assert_ptr_null(strstr(out, "queued later"));
	ck_assert_ptr_null(strstr(out, "221"));
	ck_assert_int_eq(write(a_wfd[1], "x", 1), 1);
	a_pump(d, fd, out, sizeof(out));
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 queued later\r\n250 2.0.0"));
	ck_assert_ptr_nonnull(strstr(out, "221 "));
	close(fd);
	a_pump(d, -1, out, sizeof(out));
	ck_assert_uint_eq(zmsmtpd_sessions(d), 0);

	/* the client leaves while its message is in flight: the session
	 * lives on until deliver_done, then it is freed */
	fd = a_client(d);
	ck_assert_int_eq(write(fd, a_txn, sizeof(a_txn) - 13), (ssize_t)(sizeof(a_txn) - 13));
	out[0] = '\0';
	a_pump(d, fd, out, sizeof(out));
	ck_assert_int_eq(a_npending, 1);
	close(fd);
	a_pump(d, -1, out, sizeof(out));
	ck_assert_uint_eq(zmsmtpd_sessions(d), 1);
	ck_assert_int_eq(write(a_wfd[1], "x", 1), 1);
	a_pump(d, -1, out, sizeof(out));
	ck_assert_int_eq(a_npending, 0);
	ck_assert_uint_eq(zmsmtpd_sessions(d), 0);

	/* a message in flight at zmsmtpd_free is freed with it */
	fd = a_client(d);
	ck_assert_int_eq(write(fd, a_txn, sizeof(a_txn) - 1), (ssize_t)(sizeof(a_txn) - 1));
	a_pump(d, fd, out, sizeof(out));
	ck_assert_int_eq(a_npending, 1);
	ck_assert_int_eq(zmsmtpd_watch_fd(d, a_wfd[0], NULL, NULL), 0);
	zmsmtpd_free(d);
	a_npending = 0;
	close(fd);
	close(a_wfd[0]);
	close(a_wfd[1]);
}
END_TEST

/* in a zmsmtpd_serve_fds session deliver_async refuses: the verdict counts */
START_TEST(async_refused_in_serve_fds)
{
	static const char in[] = "HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"
				 "x\r\n.\r\nQUIT\r\n";
	zmsmtpd_callbacks cb;
	zmsmtpd *d;
	int sv[2];
	char out[4096] = "";
	ssize_t r;
	size_t len = 0;

	memset(&cb, 0, sizeof(cb));
	cb.deliver = a_deliver;
	d = zmsmtpd_new(&cb);
	a_npending = 0;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], in, sizeof(in) - 1), (ssize_t)(sizeof(in) - 1));
	shutdown(sv[1], SHUT_WR);
	zmsmtpd_serve_fds(d, sv[0], sv[0], NULL);
	close(sv[0]);
	while (len + 1 < sizeof(out) && (r = read(sv[1], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	ck_assert_int_eq(a_async_rc, -1);
	ck_assert_int_eq(a_npending, 0);
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 Message accepted"));
	close(sv[1]);
	zmsmtpd_free(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("zmsmtpd");
	TCase *t = tcase_create("session");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, refused_client);
	tcase_add_test(t, deferred_client);
	tcase_add_test(t, transaction_and_unstuffing);
	tcase_add_test(t, sender_verdict);
	tcase_add_test(t, bare_lf_normalise);
	tcase_add_test(t, bare_lf_reject);
	tcase_add_test(t, max_rcpts);
	tcase_add_test(t, auth_plain);
	tcase_add_loop_test(t, command_syntax, 0, sizeof(command_cases) / sizeof(command_cases[0]));
	tcase_add_test(t, auth_required);
	tcase_add_test(t, auth_cram_md5);
	tcase_add_test(t, auth_secret_plain);
	tcase_add_test(t, long_line_and_nul);
	tcase_add_test(t, no_valid_rcpt_and_timeout);
	tcase_add_test(t, configure_cget);
	tcase_add_test(t, big_and_empty_messages);
	tcase_add_test(t, refused_and_transcript);
	tcase_add_test(t, async_deliver);
	tcase_add_test(t, async_refused_in_serve_fds);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return run_suite(suite());
}
