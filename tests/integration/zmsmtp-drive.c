/*
 * NAME
 *	zmsmtp-drive - drive every libzmsmtp option from a test script
 * SUMMARY
 *	Test tool of tests/integration/client-lib.sh and bench/client-lib.sh.
 * SYNOPSIS
 *	zmsmtp-drive [--server H [--port P]]... [--domain D] [--gateway G]
 *	    [--skip-mx H]... [--client C] [--from A] [--rcpt R]...
 *	    [--header NAME=VALUE]... [--atleastone] [--notls]
 *	    [--policy secure|insecure] [--noverify] [--cafile F]
 *	    [--user U --pass P] [--mechs LIST] [--clear] [--silent] [--ping]
 *	    [--qualify D] [--total S] [--cmd-timeout S] [--dns S] [--loopback]
 *	    [--debug] [--prepare] [--count N] [--queue] [--noadd]  < message
 * DESCRIPTION
 *	Prints "tlspolicy CODE TEXT" when the policy callback runs,
 *	"refused ADDR CODE ENH TEXT" per refused recipient and
 *	"status S exit E accepted N server X: TEXT".  --count N sends the
 *	message N times through one session (zmsmtp_open/send/close).
 * DIAGNOSTICS
 *	Exit status: the last result's sysexits code.
 * SECURITY
 *	Test tool only.
 * BUGS
 *	None known.
 * SEE ALSO
 *	libzmsmtp(3)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zbuf.h"
#include "zerr.h"
#include "zutil.h"
#include "zmsmtp.h"

#define MAXN 64

static const char *policy_answer = "insecure";

/* policy - print and answer */
static int policy(void *arg, int code, const char *text)
{
	(void)arg;
	printf("tlspolicy %d %s\n", code, text);
	fflush(stdout);
	return strcmp(policy_answer, "secure") == 0 ? ZMSMTP_TLS_SECURE : ZMSMTP_TLS_INSECURE;
}

/* num - a decimal option */
static long num(const char *s)
{
	unsigned long v = 0;
	if (zparse_ulong(s, 1000000, &v) != Z_OK) {
		fprintf(stderr, "bad number %s\n", s);
		exit(64);
	}
	return (long)v;
}

/* show - print a result */
static void show(const zmsmtp_result *r)
{
	for (size_t i = 0; i < r->nrefused; i++)
		printf("refused %s %d %s %s\n", r->refused[i].address, r->refused[i].code,
		       r->refused[i].enh[0] ? r->refused[i].enh : "-", r->refused[i].text);
	printf("status %d exit %d accepted %zu server %s: %s\n", r->status, r->exitcode,
	       r->naccepted, r->server[0] ? r->server : "-", r->text);
}

/* main - options into zmsmtp_opts, one call or one session */
int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", 1, 0, 's' }, { "port", 1, 0, 'p' }, { "domain", 1, 0, 'D' },
		{ "gateway", 1, 0, 'g' }, { "skip-mx", 1, 0, 'b' }, { "client", 1, 0, 'c' },
		{ "from", 1, 0, 'f' }, { "rcpt", 1, 0, 'r' }, { "header", 1, 0, 'H' },
		{ "atleastone", 0, 0, '1' }, { "notls", 0, 0, 'n' }, { "policy", 1, 0, 'P' },
		{ "noverify", 0, 0, 'V' }, { "cafile", 1, 0, 'C' }, { "user", 1, 0, 'u' },
		{ "pass", 1, 0, 'w' }, { "mechs", 1, 0, 'm' }, { "clear", 0, 0, 'x' },
		{ "silent", 0, 0, 'A' }, { "ping", 0, 0, 'i' }, { "qualify", 1, 0, 'q' },
		{ "total", 1, 0, 'T' }, { "cmd-timeout", 1, 0, 't' }, { "dns", 1, 0, 'N' },
		{ "loopback", 0, 0, 'L' }, { "debug", 0, 0, 'd' }, { "prepare", 0, 0, 'F' },
		{ "count", 1, 0, 'k' }, { "queue", 0, 0, 'Q' }, { "addrmap", 1, 0, 'M' },
		{ "noadd", 0, 0, 'a' }, { 0, 0, 0, 0 }
	};
	const char *servers[MAXN], *skip[MAXN], *rcpts[MAXN], *hdrs[2 * MAXN];
	int ports[MAXN];
	size_t ns = 0, np = 0, nb = 0, nr = 0, nh = 0;
	long count = 0;
	int c, prepare = 0, policy_set = 0;
	zmsmtp_opts o;
	zmsmtp_result r;
	zbuf in = ZBUF_INIT(64u << 20);

	zmsmtp_opts_init(&o);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *eq;
		if ((ns >= MAXN || np >= MAXN || nb >= MAXN || nr >= MAXN || nh >= MAXN))
			return 64;
		switch (c) {
		case 's': servers[ns++] = optarg; break;
		case 'p': ports[np++] = (int)num(optarg); break;
		case 'D': o.domain = optarg; break;
		case 'g': o.gateway = optarg; break;
		case 'b': skip[nb++] = optarg; break;
		case 'c': o.client = optarg; break;
		case 'f': o.originator = optarg; break;
		case 'r': rcpts[nr++] = optarg; break;
		case 'H':
			eq = strchr(optarg, '=');
			if (eq == NULL)
				return 64;
			*eq = '\0';
			hdrs[2 * nh] = optarg;
			hdrs[2 * nh + 1] = eq + 1;
			nh++;
			break;
		case '1': o.atleastone = 1; break;
		case 'n': o.usetls = 0; break;
		case 'P': policy_answer = optarg; policy_set = 1; break;
		case 'V': o.verify = 0; break;
		case 'C': o.cafile = optarg; break;
		case 'u': o.username = optarg; break;
		case 'w': o.password = optarg; break;
		case 'm':
			o.mechs = (strstr(optarg, "PLAIN") ? ZMSMTP_AUTH_PLAIN : 0) |
				  (strstr(optarg, "LOGIN") ? ZMSMTP_AUTH_LOGIN : 0) |
				  (strstr(optarg, "CRAM-MD5") ? ZMSMTP_AUTH_CRAMMD5 : 0);
			break;
		case 'x': o.auth_cleartext = 1; break;
		case 'A': o.silent_server = 1; break;
		case 'i': o.ping = 1; break;
		case 'q': o.qualify = optarg; break;
		case 'T': o.tmo_total = num(optarg); break;
		case 't': o.tmo_cmd = num(optarg); break;
		case 'N': o.dns_servers = optarg; break;
		case 'L': o.allow_loopback = 1; break;
		case 'd': o.debug = stderr; break;
		case 'F': prepare = 1; break;
		case 'k': count = num(optarg); break;
		case 'Q': o.queue = 1; break;
		case 'M': o.test_addrmap = optarg; break;
		case 'a': o.no_addheaders = 1; break;
		default: return 64;
		}
	}
	o.servers = ns ? servers : NULL;
	o.nservers = ns;
	o.ports = np ? ports : NULL;
	o.nports = np;
	o.skip_mx = skip;
	o.nskip_mx = nb;
	o.recipients = nr ? rcpts : NULL;
	o.nrecipients = nr;
	o.headers = hdrs;
	o.nheaders = nh;
	if (policy_set)
		o.tlspolicy = policy;
	if (zread_fd(0, in.max, &in) != Z_OK)
		return 66;
	if (prepare) {
		char *out, err[512];
		size_t len;
		if (zmsmtp_prepare(&o, in.data ? in.data : "", in.len, &out, &len, err, sizeof(err)) != 0) {
			printf("prepare failed: %s\n", err);
			return 65;
		}
		fwrite(out, 1, len, stdout);
		free(out);
		zbuf_free(&in);
		return 0;
	}
	if (count > 0) {
		zmsmtp_session *s = zmsmtp_open(&o, &r);
		if (s == NULL) {
			show(&r);
			return r.exitcode;
		}
		for (long i = 0; i < count; i++) {
			zmsmtp_send(s, NULL, in.data ? in.data : "", in.len, &r);
			if (r.status != ZMSMTP_SENT || i + 1 == count)
				show(&r);
			zmsmtp_result_free(&r);
			if (r.status != ZMSMTP_SENT)
				break;
		}
		zmsmtp_close(s);
	} else {
		zmsmtp_sendmessage(&o, in.data ? in.data : "", in.len, &r);
		show(&r);
		zmsmtp_result_free(&r);
	}
	zbuf_free(&in);
	return r.exitcode;
}
