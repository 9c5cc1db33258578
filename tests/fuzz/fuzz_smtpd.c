/*
 * NAME
 *	fuzz_smtpd - libFuzzer targets for libzmsmtpd: the command and
 *	parameter parser (fuzz_smtpdcmd) and the DATA/BDAT reader
 *	(fuzz_smtpddata, built with -DFUZZ_SMTPD_DATA)
 * SUMMARY
 *	Arbitrary client bytes through one whole session
 *	(zmsmtpd_serve_fds on a pipe), replies thrown away.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	fuzz_smtpdcmd feeds the input as it is: commands, parameters,
 *	AUTH exchanges (auth-plaintext on, a verify callback), BDAT.
 *	fuzz_smtpddata puts EHLO, MAIL, RCPT and, by the first input byte,
 *	DATA or a BDAT of the remaining length in front, so the fuzzer works
 *	on message bodies.  Promises: no crash, no leak, no sanitizer
 *	report, the session always ends.
 * DIAGNOSTICS
 *	Sanitizer reports.
 * SECURITY
 *	Input beyond 60000 bytes is cut (the pipe must hold it all).
 * BUGS
 *	STARTTLS is not offered (no certificate).
 * SEE ALSO
 *	libzmsmtpd(3), tests/fuzz/replay_main.c
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zmsmtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verify(void *arg, const char *user, const char *pw)
{
	(void)arg;
	return strcmp(user, "u") == 0 && strcmp(pw, "p") == 0 ? 0 : -1;
}

static void rcpt(void *arg, zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	(void)arg; (void)s;
	if (addr[0] == 'n')
		v->action = ZMSMTPD_REJECT;
}

static void deliver(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
		    zmsmtpd_verdict *v)
{
	char buf[4096];
	(void)arg; (void)s; (void)e;
	while (fread(buf, 1, sizeof(buf), msg) > 0)
		;
	v->action = ZMSMTPD_ACCEPT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zmsmtpd_callbacks cb = { 0 };
	zmsmtpd *d;
	int p[2], out;
	char err[128], pre[128];
	size_t np = 0;

	if (size > 60000)
		size = 60000;
#ifdef FUZZ_SMTPD_DATA
	if (size > 0) {
		int bdat = data[0] & 1;
		data++;
		size--;
		if (bdat)
			np = (size_t)snprintf(pre, sizeof(pre), "EHLO f\r\nMAIL FROM:<a@b.c>\r\n"
					      "RCPT TO:<r@b.c>\r\nBDAT %zu LAST\r\n", size);
		else
			np = (size_t)snprintf(pre, sizeof(pre), "EHLO f\r\nMAIL FROM:<a@b.c>\r\n"
					      "RCPT TO:<r@b.c>\r\nDATA\r\n");
	}
#else
	(void)pre;
#endif
	signal(SIGPIPE, SIG_IGN);
	if (pipe(p) != 0)
		return 0;
	(void)fcntl(p[1], F_SETPIPE_SZ, 1 << 17);
	if ((np > 0 && write(p[1], pre, np) != (ssize_t)np) ||
	    (size > 0 && write(p[1], data, size) != (ssize_t)size)) {
		close(p[0]);
		close(p[1]);
		return 0;
	}
	close(p[1]);
	out = open("/dev/null", O_WRONLY);
	cb.validate_recipient = rcpt;
	cb.deliver = deliver;
	cb.auth_verify = verify;
	d = zmsmtpd_new(&cb);
	if (d != NULL && out >= 0) {
		zmsmtpd_configure(d, "auth-plaintext", "yes", err, sizeof(err));
		zmsmtpd_configure(d, "max-size", "100000", err, sizeof(err));
		zmsmtpd_serve_fds(d, p[0], out, "192.0.2.1");
	}
	zmsmtpd_free(d);
	if (out >= 0)
		close(out);
	close(p[0]);
	return 0;
}
