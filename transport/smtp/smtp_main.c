/*
 * NAME
 *	smtp_main - command line, site configuration and job loop of smtp(8)
 * SUMMARY
 *	Parses the ZMailer-compatible options, reads zmta.conf, sets up the
 *	transcript log and TLS, then runs libta's job loop with the window
 *	callbacks, so that pipelining can span jobs.
 * SYNOPSIS
 *	smtp [-678deEHMrPsVxXW1D] [-c channel] [-h heloname] [-l logfile]
 *	     [-p port] [-T timeouts] [-S smtp-tls.conf] [-F forcedest]
 *	     [-L localidentity] [-A authfile] [-w sndbuf] [-O opt] [-Z x] [--] [host]
 * DESCRIPTION
 *	Run with cwd $POSTOFFICE/transport.  -77 (the -7 flag given twice)
 *	turns off ESMTP altogether.  -M (LMTP) refuses port 25 unless -F
 *	names a UNIX socket.  zmta.conf values used: DNS_SERVERS,
 *	SMTP_TEST_ADDRMAP, SELFADDRESSES, DEFCHARSET, SMTP_TEST_ALLOW_LOOPBACK
 *	(yes/no), SMTP_MX_ADDRESS_LIMIT (5), SMTP_MX_SESSION_LIMIT (2),
 *	SMTP_KEEPALIVE (interval, 60s; 0 off).  Options are parsed the POSIX
 *	way ('+' optstring): they end at the first operand or "--"; the host
 *	operand must pass mhost_valid() (except with -D, the operator's
 *	probe).  "#keepalive" is written through smtp_poll()'s hook while
 *	the agent waits for a peer, and from the job loop while a dot reply
 *	is outstanding; never while idle.  -d turns on debug
 *	log lines (zlog_set_debug), -dd adds protocol state changes.
 *
 *	The job loop is ta_jobloop() (zmta-ta(7)) with the window of
 *	smtp(8): a message may still have its dot reply outstanding when
 *	smtp_deliver() returns; smtp_release() then keeps it open until the
 *	reply is read.  While no job line is buffered the loop polls stdin
 *	and that socket (smtp_window_fd) together, through smtp_poll (the
 *	keepalive).  While the session waits for the peer it calls
 *	ta_prefetch(), which takes the next buffered job line when it is for
 *	the same host, writes its "#hungry" and opens it ahead; the loop
 *	delivers that job next, even after a stop signal.
 * DIAGNOSTICS
 *	Bad options or an invalid host operand: usage on stderr, exit
 *	EX_USAGE; bad zmta.conf values EX_CONFIG; an unsafe -l file
 *	EX_CANTCREAT.  Otherwise the exit
 *	code of the job loop (EX_OK, EX_DATAERR, EX_IOERR).
 * SECURITY
 *	Runs unprivileged; the -A file must not be readable by others.
 *	The host operand usually is the scheduler's $host: it can never
 *	become an option and must be a host.  -l is opened without
 *	following a symbolic link, mode 0640.
 * BUGS
 *	-O and -Z are accepted and ignored.
 * SEE ALSO
 *	smtp(8), zmta-ta(7)
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "mhost.h"
#include "smtp.h"
#include "zconf.h"
#include "zlog.h"
#include "zutil.h"

#ifndef ZMTA_VERSION
#define ZMTA_VERSION "0"
#endif

static const char usage_text[] =
	"usage: smtp [-678deEHMrPsVxXW1D] [-c channel] [-h heloname] [-l logfile]\n"
	"            [-p port] [-T timeouts] [-S smtp-tls.conf] [-F forcedest]\n"
	"            [-L localidentity] [-A authfile] [-w sndbuf] [host]\n";

/* usage - complain and exit EX_USAGE */
static _Noreturn void usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "smtp: %s\n", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

/* num_opt - decimal option value in range or usage */
static long num_opt(const char *s, long min, long max, const char *what)
{
	long v;
	if (zparse_long(s, min, max, &v) != Z_OK) {
		char m[128];
		snprintf(m, sizeof(m), "bad %s '%.60s'", what, s);
		usage(m);
	}
	return v;
}

/* conf_yes - a zmta.conf yes/no variable (unset: no) */
static int conf_yes(const char *name)
{
	const char *v = zconf_get(name);

	if (v == NULL || *v == '\0' || strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0 ||
	    strcasecmp(v, "false") == 0)
		return 0;
	if (strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0)
		return 1;
	zlog_fatal(EX_CONFIG, NULL, "zmta.conf: %s \"%.60s\": not yes or no", name, v);
}

/* conf_num - a zmta.conf count 0..max (0 = no limit), def when unset */
static long conf_num(const char *name, long def, long max)
{
	const char *v = zconf_get(name);
	long n;

	if (v == NULL)
		return def;
	if (zparse_long(v, 0, max, &n) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "zmta.conf: %s \"%.60s\": not a number 0..%ld",
			   name, v, max);
	return n;
}

/* alive - the keepalive hook of smtp_poll(): "#keepalive" to the scheduler */
static void alive(void *ctx)
{
	(void)ta_keepalive(ctx);
}

/* the job loop's poll hook takes no argument: the agent's keepalive state */
static smtp_alive *window_alive;

/* window_poll - the job loop's poll while a dot reply is outstanding */
static int window_poll(struct pollfd *fds, unsigned long nfds, int ms)
{
	return smtp_poll(window_alive, fds, nfds, ms);
}

/* main - options, configuration, then the job loop */
int main(int argc, char **argv)
{
	static smtp_opts o;
	static ta_ctx ctx;
	smtp_sess *sess = NULL;
	zbuf err = ZBUF_INIT(2048);
	char hostname[256];
	int c, sevens = 0, rc, lmtp_port_ok = 0;
	ta_agent_ops ops;

	zproctitle_init(argc, argv);
	zlog_open("smtp", ZLOG_TO_STDERR);
	memset(&o, 0, sizeof(o));
	o.channel = "smtp";
	o.port = 25;
	smtp_timeouts_default(&o.to);
	opterr = 0;
	/* '+': POSIX parsing, options end at the first operand (or "--"),
	 * so a host can never be taken for an option */
	while ((c = getopt(argc, argv, "+:A:c:deh:l:p:rsvw:xXDEF:L:HMO:PS:T:VWZ:1678")) != -1) {
		switch (c) {
		case 'A': o.authfile = optarg; break;
		case 'c': o.channel = optarg; break;
		case 'd': case 'v': o.debug++; break;
		case 'e': o.expensive_mx = 1; break;
		case 'h': o.heloname = optarg; break;
		case 'l': o.logfile = optarg; break;
		case 'p': o.port = (int)num_opt(optarg, 1, 65535, "port"); break;
		case 'r': o.reserved_port = 1; break;
		case 's': o.progress = 1; break;
		case 'w': o.sndbuf = (int)num_opt(optarg, 1, 64L * 1024 * 1024, "-w size"); break;
		case 'x': o.no_mx = 1; break;
		case 'X': o.allow_self = 1; break;
		case 'D': o.test_only = 1; break;
		case 'E': o.esmtp_if_banner = 1; break;
		case 'F': o.forcedest = optarg; break;
		case 'L': o.localident = optarg; break;
		case 'H': o.no_mime2 = 1; break;
		case 'M': o.lmtp = 1; break;
		case 'O': break;
		case 'P': o.no_pipelining = 1; break;
		case 'S': o.tlsfile = optarg; break;
		case 'T':
			zbuf_reset(&err);
			if (smtp_timeouts_parse(optarg, &o.to, &err) != Z_OK)
				usage(zbuf_cstr(&err));
			break;
		case 'V':
			printf("smtp (zmta) %s\n", ZMTA_VERSION);
			return EX_OK;
		case 'W': o.check_wks = 1; break;
		case 'Z': break;
		case '1': o.one_per_conn = 1; break;
		case '6': o.prefer_v6 = !o.prefer_v6; break;
		case '7': sevens++; break;
		case '8': o.eightbit = 1; break;
		case ':': {
			char m[64];
			snprintf(m, sizeof(m), "option -%c needs a value", optopt);
			usage(m);
		}
		default: {
			char m[64];
			snprintf(m, sizeof(m), "unknown option -%c", optopt);
			usage(m);
		}
		}
	}
	if (sevens >= 1)
		o.sevenbit = 1;
	if (sevens >= 2)
		o.noesmtp = 1;
	if (argc - optind > 1)
		usage("at most one host argument");
	if (o.test_only && optind < argc && o.forcedest == NULL) {
		/* -D is the operator's probe: its host is a -F destination */
		o.forcedest = argv[optind];
	} else if (optind < argc && !mhost_valid(argv[optind])) {
		/* the host argument usually comes from the scheduler ($host):
		 * only the RFC 5321 host grammar, never a port, path or option */
		char m[200], shown[64];
		size_t i;
		for (i = 0; argv[optind][i] != '\0' && i < sizeof(shown) - 1; i++)
			shown[i] = (unsigned char)argv[optind][i] < ' ' ? '?' : argv[optind][i];
		shown[i] = '\0';
		snprintf(m, sizeof(m), "invalid host argument '%s': not a host name or "
			 "address literal", shown);
		usage(m);
	}
	if (o.forcedest != NULL) {
		smtp_dest fd;
		zbuf_reset(&err);
		if (smtp_dest_parse(o.forcedest, o.port, &fd, &err) != Z_OK) {
			char m[300];
			snprintf(m, sizeof(m), "-F %.100s: %.150s", o.forcedest, zbuf_cstr(&err));
			usage(m);
		}
		if (o.lmtp && fd.kind != SDEST_UNIX && fd.port != 0 && fd.port != 25)
			lmtp_port_ok = 1;
		if (o.lmtp && fd.kind == SDEST_UNIX)
			lmtp_port_ok = 1;
	}
	if (o.lmtp && o.port == 25 && !lmtp_port_ok)
		usage("LMTP (-M) refuses port 25: give -p port, -F [addr]:port or -F UNIX:/path");
	if (o.test_only && optind >= argc && o.forcedest == NULL)
		usage("-D needs a host");

	zbuf_reset(&err);
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "zmta.conf: %s", zbuf_cstr(&err));
	o.dns_servers = zconf_get("DNS_SERVERS");
	o.addrmap = zconf_get("SMTP_TEST_ADDRMAP");
	o.selfaddrs = zconf_get("SELFADDRESSES");
	o.defcharset = zconf_get_default("DEFCHARSET", "UTF-8");
	o.allow_loopback = conf_yes("SMTP_TEST_ALLOW_LOOPBACK");
	o.mx_address_limit = conf_num("SMTP_MX_ADDRESS_LIMIT", 5, SMTP_MX_MAX);
	o.mx_session_limit = conf_num("SMTP_MX_SESSION_LIMIT", 2, SMTP_MX_MAX);
	{
		const char *ka = zconf_get("SMTP_KEEPALIVE");
		long secs = 60;
		if (ka != NULL && (zinterval_parse(ka, &secs) != Z_OK || secs < 0 || secs > 86400))
			zlog_fatal(EX_CONFIG, NULL, "zmta.conf: SMTP_KEEPALIVE \"%.60s\": "
				   "not an interval of 0s..1d", ka);
		o.alive.ms = secs * 1000;
	}
	if (o.localident == NULL)
		o.localident = zconf_get("BINDADDR");
	if (o.heloname == NULL) {
		if (gethostname(hostname, sizeof(hostname) - 1) != 0)
			(void)zstrlcpy(hostname, "localhost", sizeof(hostname));
		hostname[sizeof(hostname) - 1] = '\0';
		o.heloname = hostname;
	}
	for (const char *p = o.heloname; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			usage("-h name contains spaces or control characters");
	if (o.logfile != NULL) {
		zbuf_reset(&err);
		if (smtp_log_open(o.logfile, &err) != Z_OK)
			zlog_fatal(EX_CANTCREAT, NULL, "-l %s", zbuf_cstr(&err));
		{
			char when[64] = "";
			(void)ztime_rfc5322(time(NULL), when, sizeof(when));
			smtp_log('#', "Start time: %s", when);
		}
	}
	/* without -S: built-in defaults, opportunistic TLS (smtp(8) TLS) */
	zbuf_reset(&err);
	/* no OpenSSL until the first STARTTLS: most agents never meet one
	 * before they exit, and its set-up costs more than their work */
	if (smtp_tls_setup(o.tlsfile, &o.tls, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "-S %s", zbuf_cstr(&err));
	o.tls_loaded = 1;
	if (o.debug > 0)
		zlog_set_debug(1);
	ta_init(&ctx, "smtp", o.channel);
	ctx.fixed_host = optind < argc ? argv[optind] : NULL;
	ctx.hold_locks = 1;	/* no child of this agent shares a control file */
	ctx.debug = o.debug;
	ctx.idle_timeout_ms = 180000;
	zbuf_reset(&err);
	if (smtp_sess_new(&sess, &o, &err) != Z_OK)
		zlog_fatal(EX_OSERR, NULL, "out of memory");
	ctx.agent = sess;
	if (!o.test_only) {
		o.alive.hook = alive;
		o.alive.arg = &ctx;
	}
	window_alive = &o.alive;

	if (o.test_only) {
		rc = smtp_probe(sess, o.forcedest ? o.forcedest : argv[optind]);
		smtp_sess_free(sess);
		return rc;
	}
	memset(&ops, 0, sizeof(ops));
	ops.deliver = smtp_deliver;
	ops.newhost = smtp_newhost;
	ops.idle = smtp_idle;
	ops.idlecmd = smtp_idlecmd;
	ops.finish = smtp_finish;
	ops.wait_fd = smtp_window_fd;
	ops.drain = smtp_window_drain;
	ops.release = smtp_release;
	ops.poll = window_poll;
	if (o.expensive_mx)
		ops.select = smtp_select_mx;
	smtp_title(o.progress, "#hungry");
	rc = ta_jobloop(&ctx, &ops);
	smtp_sess_free(sess);
	if (o.tls_loaded)
		smtp_tls_free(&o.tls);
	zbuf_free(&err);
	return rc;
}
