/*
 * NAME
 *	zmsmtpd-example - the example program of libzmsmtpd(3)
 * SUMMARY
 *	An SMTP server in 40 lines: accepts mail for one domain, appends
 *	every message to a file, refuses everything else.
 * SYNOPSIS
 *	zmsmtpd-example port mbox-file [-1]
 * DESCRIPTION
 *	Listens on 127.0.0.1:port (0: any free port, printed on stdout),
 *	accepts recipients @example.org, appends each message with a
 *	Received line to mbox-file.  -1: stop after the first message.
 * DIAGNOSTICS
 *	Exit 0, or 1 with a message on stderr.
 * SECURITY
 *	An example: no TLS, no AUTH, 127.0.0.1 only.
 * BUGS
 *	None known.
 * SEE ALSO
 *	libzmsmtpd(3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmsmtpd.h>

static zmsmtpd *srv;
static int once;

/* rcpt - only example.org */
static void rcpt(void *arg, zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	const char *at = strrchr(addr, '@');
	(void)arg; (void)s;
	if (at == NULL || strcmp(at, "@example.org") != 0) {
		v->action = ZMSMTPD_REJECT;
		v->code = 550;
		snprintf(v->text, sizeof v->text, "no such user here");
	}
}

/* deliver - append to the file named by arg */
static void deliver(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
		    zmsmtpd_verdict *v)
{
	FILE *out = fopen(arg, "a");
	char rcvd[1024], buf[4096];
	size_t n;
	(void)s;
	if (out == NULL || zmsmtpd_received(srv, e, "example", rcvd, sizeof rcvd) != 0) {
		v->action = ZMSMTPD_DEFER;
		if (out)
			fclose(out);
		return;
	}
	fprintf(out, "From %s\n%s\n", e->sender[0] ? e->sender : "MAILER-DAEMON", rcvd);
	while ((n = fread(buf, 1, sizeof buf, msg)) > 0)
		fwrite(buf, 1, n, out);
	v->action = fclose(out) == 0 ? ZMSMTPD_ACCEPT : ZMSMTPD_DEFER;
	if (once)
		zmsmtpd_stop(srv, 1);
}

int main(int argc, char **argv)
{
	zmsmtpd_callbacks cb = { 0 };
	char err[256];

	if (argc < 3)
		return 1;
	once = argc > 3 && strcmp(argv[3], "-1") == 0;
	cb.arg = argv[2];
	cb.validate_recipient = rcpt;
	cb.deliver = deliver;
	srv = zmsmtpd_new(&cb);
	if (srv == NULL || zmsmtpd_configure(srv, "hostname", "mx.example.org", err, sizeof err) ||
	    zmsmtpd_start(srv, "127.0.0.1", (int)strtol(argv[1], NULL, 10), 0, err, sizeof err)) {
		fprintf(stderr, "example: %s\n", srv ? err : "out of memory");
		return 1;
	}
	printf("%d\n", zmsmtpd_port(srv));
	fflush(stdout);
	zmsmtpd_run(srv);
	zmsmtpd_free(srv);
	return 0;
}
