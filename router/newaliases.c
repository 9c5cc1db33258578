/*
 * NAME
 *	newaliases - check router.conf and its alias tables, ask the router
 *	to reload them
 * SUMMARY
 *	The alias tables are text parsed at load: there is nothing to
 *	rebuild; newaliases validates and signals.
 * SYNOPSIS
 *	newaliases [-f router.conf] [-P postoffice] [-q]
 * DESCRIPTION
 *	Loads router.conf and every table it names with librouter.  On
 *	success prints the number of aliases (unless -q) and sends a
 *	"RELOAD" datagram to the router's notify socket
 *	($POSTOFFICE/.router.notify or ROUTERNOTIFY); a router that is not
 *	running is not an error (it loads the tables when it starts).  On a
 *	parse error prints "file:line: reason" and exits EX_CONFIG; the
 *	running router keeps its tables.
 * DIAGNOSTICS
 *	Exit 0, EX_CONFIG (78) for a bad table, EX_USAGE.
 * SECURITY
 *	Needs no privilege: reads the tables and sends one datagram.
 * BUGS
 *	-bi of sendmail(8) maps to this program only when sendmail calls it.
 * SEE ALSO
 *	aliases(5), router(8), router.conf(5)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "route.h"
#include "submit.h"
#include "zbuf.h"
#include "zconf.h"
#include "zlog.h"

int main(int argc, char **argv)
{
	const char *conf = NULL, *po = NULL;
	int ch, quiet = 0;
	zbuf err = ZBUF_INIT(4096);
	char buf[4200];
	rt_config *rt;

	zlog_open("newaliases", ZLOG_TO_STDERR);
	while ((ch = getopt(argc, argv, "f:P:q")) != -1) {
		switch (ch) {
		case 'f': conf = optarg; break;
		case 'P': po = optarg; break;
		case 'q': quiet = 1; break;
		default:
			fputs("usage: newaliases [-f router.conf] [-P postoffice] [-q]\n", stderr);
			return EX_USAGE;
		}
	}
	if (zconf_load(NULL, &err) != Z_OK) {
		fprintf(stderr, "newaliases: %s\n", zbuf_cstr(&err));
		zbuf_free(&err);
		return EX_CONFIG;
	}
	if (conf == NULL) {
		conf = zconf_get("ROUTERCONF");
		if (conf == NULL || *conf == '\0') {
			snprintf(buf, sizeof(buf), "%s/router.conf",
				 zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR));
			conf = buf;
		}
	}
	if (rt_load(conf, &rt, &err) != Z_OK) {
		fprintf(stderr, "newaliases: %s\n", zbuf_cstr(&err));
		zbuf_free(&err);
		return EX_CONFIG;
	}
	if (!quiet) {
		zbuf rep = ZBUF_INIT(4096);
		rt_report(rt, &rep);
		printf("%s", zbuf_cstr(&rep));
		zbuf_free(&rep);
	}
	rt_free(rt);
	if (po == NULL)
		po = zconf_get("POSTOFFICE");
	const char *sock = zconf_get("ROUTERNOTIFY");
	char sp[4200];
	if ((sock == NULL || *sock == '\0') && po) {
		snprintf(sp, sizeof(sp), "%s/.router.notify", po);
		sock = sp;
	}
	if (sock && submit_notify(sock, "RELOAD") == Z_OK) {
		if (!quiet)
			printf("router asked to reload\n");
	} else if (!quiet) {
		printf("router not reached (it loads the tables when it starts)\n");
	}
	zbuf_free(&err);
	return 0;
}
