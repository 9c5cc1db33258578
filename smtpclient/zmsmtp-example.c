/*
 * NAME
 *	zmsmtp-example - the example program of libzmsmtp(3)
 * SUMMARY
 *	Builds a message with an attachment and sends it with one call;
 *	prints the refused recipients.  make check compiles it against
 *	libzmsmtp.la and runs it (tests/integration/client-lib.sh).
 * SYNOPSIS
 *	zmsmtp-example server port from rcpt...
 * DESCRIPTION
 *	Only the installed header zmsmtp.h is used.  TLS is off (the test
 *	peer has none); a real program keeps the defaults.
 * DIAGNOSTICS
 *	Exit status: the result's sysexits code.
 * SECURITY
 *	None: an example.
 * BUGS
 *	None known.
 * SEE ALSO
 *	libzmsmtp(3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <zmsmtp.h>

/* main - build, send, print the refused recipients */
int main(int argc, char **argv)
{
	zmsmtp_opts o;
	zmsmtp_result r;
	zmsmtp_mime *m;
	char *msg;
	size_t len;
	int port;

	if (argc < 5) {
		fprintf(stderr, "usage: zmsmtp-example server port from rcpt...\n");
		return 64;
	}
	port = (int)strtol(argv[2], NULL, 10);
	m = zmsmtp_mime_new("Hello from libzmsmtp.\n", "utf-8");
	if (m == NULL || zmsmtp_mime_header(m, "Subject", "libzmsmtp example") != 0 ||
	    zmsmtp_mime_attach(m, "data.bin", "application/octet-stream", "\x00\x01\x02", 3) != 0 ||
	    zmsmtp_mime_render(m, &msg, &len) != 0)
		return 70;
	zmsmtp_mime_free(m);

	zmsmtp_opts_init(&o);
	o.servers = (const char *const *)&argv[1];
	o.nservers = 1;
	o.ports = &port;
	o.nports = 1;
	o.originator = argv[3];
	o.recipients = (const char *const *)&argv[4];
	o.nrecipients = (size_t)(argc - 4);
	o.atleastone = 1;
	o.usetls = 0;

	zmsmtp_sendmessage(&o, msg, len, &r);
	for (size_t i = 0; i < r.nrefused; i++)
		printf("refused %s %d %s %s\n", r.refused[i].address, r.refused[i].code,
		       r.refused[i].enh, r.refused[i].text);
	printf("status %d accepted %zu: %s\n", r.status, r.naccepted, r.text);
	free(msg);
	zmsmtp_result_free(&r);
	return r.exitcode;
}
