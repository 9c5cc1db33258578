/*
 * NAME
 *	smtpsend - send one message on stdin straight to an SMTP server
 * SUMMARY
 *	Plan 9 upas/smtp's interface over libzmsmtp: MX lookup or a dial
 *	string, STARTTLS, AUTH from a secrets file, ping mode, sysexits.
 * SYNOPSIS
 *	smtpsend [-aAdfiops] [-b busted-mx]... [-g gateway] [-h host]
 *	         [-u user] [.domain] destaddr sender rcpt...
 * DESCRIPTION
 *	See smtpsend(1).  destaddr "tcp!host!port" (or "net!host!port",
 *	"host!port") names one server; an address literal is a server on
 *	port 25; anything else is a domain whose MX hosts are tried (-b
 *	skips broken ones, -g is the fallback).  A leading "From " line of
 *	the message is dropped; the rest is sent as libzmsmtp prepares it
 *	(Bcc removed, Date/Message-ID/From added, .domain qualification).
 * DIAGNOSTICS
 *	Exit status: 0 sent (ping: the recipients are valid), EX_TEMPFAIL
 *	(75) for a temporary failure, another sysexits(3) code (EX_NOUSER,
 *	EX_UNAVAILABLE, EX_PROTOCOL, EX_DATAERR, EX_NOINPUT) for a permanent
 *	one, EX_USAGE for a bad command line.  Refused recipients are listed
 *	on stderr, one a line: "smtpsend: refused ADDR: CODE ENH TEXT".
 * SECURITY
 *	The secrets file (-a) must be mode 600 (no group/other bits) and
 *	owned by the user; secrets are wiped after use and never printed
 *	(the -d transcript shows AUTH lines as "(hidden)").  Without -i
 *	AUTH only happens over TLS: -a makes TLS mandatory.
 * BUGS
 *	No factotum; one secrets file.  The certificate check is the CA
 *	and name check of libzmsmtp, not Plan 9's certificate hash list.
 * SEE ALSO
 *	smtpsend(1), libzmsmtp(3), smtp(8)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>
#include "zbuf.h"
#include "zerr.h"
#include "zutil.h"
#include "zlog.h"
#include "smtp_auth.h"
#include "smtp_sasl.h"
#include "zmsmtp.h"

#define MAX_SKIP 32

static const char *prog = "smtpsend";

/* policy state for the TLS callback */
struct tlsp {
	int need_tls;     /* -a without -i: no TLS, no AUTH: give up */
	int accept_cert;  /* -o */
	int cert_refused; /* a certificate was refused: permanent */
};

/* usage - the synopsis and EX_USAGE */
static _Noreturn void usage(const char *why)
{
	if (why)
		fprintf(stderr, "%s: %s\n", prog, why);
	fprintf(stderr, "usage: %s [-aAdfiops] [-b busted-mx]... [-g gateway] [-h host] [-u user] "
		"[.domain] destaddr sender rcpt...\n", prog);
	exit(EX_USAGE);
}

/* tls_policy - smtpsend's answer when TLS cannot be had */
static int tls_policy(void *arg, int code, const char *text)
{
	struct tlsp *p = arg;
	if (code == -1) {
		if (p->accept_cert)
			return ZMSMTP_TLS_INSECURE;
		p->cert_refused = 1;
		fprintf(stderr, "%s: %s\n", prog, text);
		return ZMSMTP_TLS_SECURE;
	}
	return p->need_tls ? ZMSMTP_TLS_SECURE : ZMSMTP_TLS_INSECURE;
}

/* parse_dest - destaddr into host and port (0: no port, MX lookup) */
static int parse_dest(const char *d, char *host, size_t hsz, int *port)
{
	const char *p = d, *bang;
	unsigned long v;

	*port = 0;
	if (strncmp(p, "tcp!", 4) == 0 || strncmp(p, "net!", 4) == 0)
		p += 4;
	bang = strchr(p, '!');
	if (bang == NULL) {
		if (strlen(p) >= hsz || *p == '\0')
			return -1;
		(void)zstrlcpy(host, p, hsz);
		return 0;
	}
	if ((size_t)(bang - p) >= hsz || bang == p)
		return -1;
	memcpy(host, p, (size_t)(bang - p));
	host[bang - p] = '\0';
	if (strcmp(bang + 1, "smtp") == 0)
		*port = 25;
	else if (zparse_ulong(bang + 1, 65535, &v) == Z_OK && v > 0)
		*port = (int)v;
	else
		return -1;
	return 0;
}

/* is_literal - an IPv4/IPv6 address or [literal] */
static int is_literal(const char *h)
{
	if (h[0] == '[')
		return 1;
	for (const char *p = h; *p; p++)
		if (!(*p == '.' || *p == ':' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
			return 0;
	return strchr(h, ':') != NULL || strspn(h, "0123456789.") == strlen(h);
}

/* secret - the AUTH entry for host from the secrets file */
static int secret(const char *host, const char *user, smtp_auth_entry *e)
{
	const char *path = getenv("SMTPSEND_SECRETS");
	char def[1024];
	smtp_auth_target t;
	zbuf err = ZBUF_INIT(1024);
	int rc;

	if (path == NULL || *path == '\0') {
		const char *home = getenv("HOME");
		if (home == NULL ||
		    snprintf(def, sizeof(def), "%s/.smtpsend-secrets", home) >= (int)sizeof(def)) {
			fprintf(stderr, "%s: -a: no SMTPSEND_SECRETS and no HOME\n", prog);
			return EX_CONFIG;
		}
		path = def;
	}
	memset(&t, 0, sizeof(t));
	t.channel = "smtpsend";
	t.mxname = host;
	t.dest = host;
	rc = smtp_auth_lookup(path, &t, e, &err);
	if (rc != Z_OK) {
		fprintf(stderr, "%s: -a: %s\n", prog,
			rc == Z_ENOENT ? "no secret for this server" : zbuf_cstr(&err));
		zbuf_free(&err);
		return rc == Z_ENOENT ? EX_NOPERM : EX_CONFIG;
	}
	zbuf_free(&err);
	if (user != NULL && strcmp(user, e->user) != 0) {
		fprintf(stderr, "%s: -a: the secret for this server is not for user %s\n", prog, user);
		explicit_bzero(e, sizeof(*e));
		return EX_NOPERM;
	}
	return 0;
}

/* main - options, the message, one call */
int main(int argc, char **argv)
{
	zmsmtp_opts o;
	zmsmtp_result r;
	struct tlsp tp = { 0, 0, 0 };
	const char *skip[MAX_SKIP];
	size_t nskip = 0;
	int aflag = 0, fflag = 0, iflag = 0, oflag = 0, sflag = 0, c, port, ex;
	const char *user = NULL, *srv[1], *gw = NULL;
	char host[256], ghost[256];
	int ports[1];
	smtp_auth_entry ae;
	zbuf in = ZBUF_INIT(64u << 20);
	const char *msg;
	size_t mlen;

	memset(&ae, 0, sizeof(ae));
	zmsmtp_opts_init(&o);
	o.usetls = 0;
	while ((c = getopt(argc, argv, "+aAdfiopsb:g:h:u:")) != -1) {
		switch (c) {
		case 'a': aflag = 1; break;
		case 'A': o.silent_server = 1; break;
		case 'd': o.debug = stderr; break;
		case 'f': fflag = 1; break;
		case 'i': iflag = 1; break;
		case 'o': oflag = 1; break;
		case 'p': o.ping = 1; break;
		case 's': sflag = 1; break;
		case 'b':
			if (nskip >= MAX_SKIP)
				usage("too many -b");
			skip[nskip++] = optarg;
			break;
		case 'g': gw = optarg; break;
		case 'h': o.client = optarg; break;
		case 'u': user = optarg; break;
		default: usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && argv[0][0] == '.') {
		o.qualify = argv[0] + 1;
		if (*o.qualify == '\0')
			usage("empty .domain");
		argc--;
		argv++;
	}
	if (argc < 3)
		usage("need destaddr, sender and at least one recipient");
	if (parse_dest(argv[0], host, sizeof(host), &port) != 0)
		usage("bad destaddr");
	if (gw != NULL) {
		if (parse_dest(gw, ghost, sizeof(ghost), &o.gateway_port) != 0)
			usage("bad gateway");
		o.gateway = ghost;
	}
	o.originator = argv[1];
	o.recipients = (const char *const *)(argv + 2);
	o.nrecipients = (size_t)argc - 2;
	o.skip_mx = skip;
	o.nskip_mx = nskip;
	o.dns_servers = getenv("DNS_SERVERS");
	if (o.dns_servers != NULL && *o.dns_servers == '\0')
		o.dns_servers = NULL;
	o.allow_loopback = getenv("SMTP_TEST_ALLOW_LOOPBACK") != NULL &&
			   strcmp(getenv("SMTP_TEST_ALLOW_LOOPBACK"), "yes") == 0;
	o.cafile = getenv("SMTPSEND_CAFILE");
	o.test_addrmap = getenv("SMTP_TEST_ADDRMAP");
	if (port != 0 || is_literal(host)) {
		srv[0] = host;
		ports[0] = port ? port : 25;
		o.servers = srv;
		o.nservers = 1;
		o.ports = ports;
		o.nports = 1;
	} else {
		o.domain = host;
	}
	/* -a implies -s; AUTH without TLS only with -i */
	if (aflag)
		sflag = 1;
	o.usetls = sflag;
	tp.accept_cert = oflag;
	tp.need_tls = aflag && !iflag;
	o.tlspolicy = tls_policy;
	o.tlspolicy_arg = &tp;
	o.auth_cleartext = iflag;
	if (o.ping) {
		o.tmo_conn = 30;
		o.tmo_cmd = 30;
	}
	/* the message */
	if (zread_fd(0, in.max, &in) != Z_OK) {
		fprintf(stderr, "%s: cannot read the message: %s\n", prog, strerror(errno));
		return EX_NOINPUT;
	}
	msg = in.data ? in.data : "";
	mlen = in.len;
	if (mlen >= 5 && memcmp(msg, "From ", 5) == 0) {
		const char *nl = memchr(msg, '\n', mlen);
		size_t k = nl ? (size_t)(nl - msg) + 1 : mlen;
		msg += k;
		mlen -= k;
	}
	if (fflag) {
		char *out = NULL, err[512];
		size_t olen = 0;
		if (zmsmtp_prepare(&o, msg, mlen, &out, &olen, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			zbuf_free(&in);
			return EX_DATAERR;
		}
		fwrite(out, 1, olen, stdout);
		free(out);
		zbuf_free(&in);
		return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
	}
	if (aflag) {
		ex = secret(host, user, &ae);
		if (ex != 0) {
			zbuf_free(&in);
			return ex;
		}
		o.username = ae.user;
		o.password = ae.secret;
	}
	zmsmtp_sendmessage(&o, msg, mlen, &r);
	explicit_bzero(&ae, sizeof(ae));
	for (size_t i = 0; i < r.nrefused; i++) {
		const zmsmtp_refused *f = &r.refused[i];
		char *t = f->text;
		for (char *q = t; *q; q++)
			if (*q == '\n')
				*q = ' ';
		fprintf(stderr, "%s: refused %s: %d%s%s %s\n", prog, f->address, f->code,
			f->enh[0] ? " " : "", f->enh, t);
	}
	ex = r.exitcode;
	if (r.status != ZMSMTP_SENT) {
		fprintf(stderr, "%s: %s: %s\n", prog,
			r.status == ZMSMTP_TEMPFAIL ? "temporary failure" : "permanent failure", r.text);
		if (tp.cert_refused && r.status == ZMSMTP_TEMPFAIL)
			ex = EX_UNAVAILABLE;
	} else if (o.debug != NULL) {
		fprintf(stderr, "%s: sent via %s: %s\n", prog, r.server, r.text);
	}
	zmsmtp_result_free(&r);
	zbuf_free(&in);
	return ex;
}
