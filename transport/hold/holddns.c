/*
 * NAME
 *	holddns - the hold agent's one DNS question (NS: conditions), asked
 *	through the shared DNS layer (dns/zdns.h)
 *
 * SUMMARY
 *	Asks the configured DNS servers for name/type and says whether the
 *	answer was definite (records, NXDOMAIN, NODATA) or a temporary
 *	failure.  hold re-routes only after a definite answer.
 *
 * SYNOPSIS
 *	#include "holddns.h"
 *
 *	int hold_dns_check(const char *servers, const char *name, int rrtype,
 *		int timeout_ms, zbuf *why);
 *
 * DESCRIPTION
 *	One zdns handle per call (hold asks rarely): zdns_init with servers
 *	(DNS_SERVERS of zmta.conf, which tests point at their own server;
 *	then resolv.conf servers and search domains are never used), two
 *	tries, then zdns_query for name/type (the name as is, no search
 *	list).  ZDNS_OK is an answer; ZDNS_NXDOMAIN and ZDNS_NODATA are
 *	definite negatives; every other status (zdns_temp) is a temporary
 *	failure with zdns_status_text as the reason.
 *
 * DIAGNOSTICS
 *	HDNS_* values; Z_EPARSE for a bad or empty DNS_SERVERS value, Z_ERR
 *	or Z_ENOMEM when the resolver cannot be set up; a reason in why
 *	(also for HDNS_NEGATIVE and HDNS_TEMPFAIL).
 *
 * SECURITY
 *	The answer's records are not parsed here: only the status zdns
 *	derives from c-ares' verdict is used.  The name was checked against
 *	the host grammar by holdcond.
 *
 * BUGS
 *	A handle (c-ares channel) per question.
 *
 * SEE ALSO
 *	hold(8), zmta-dns(3)
 */
#include <string.h>

#include "holddns.h"
#include "zdns.h"
#include "zerr.h"

/* hold_dns_check - see holddns.h */
int hold_dns_check(const char *servers, const char *name, int rrtype, int timeout_ms, zbuf *why)
{
	zdns_opts o;
	zdns *d = NULL;
	zdns_answer a;
	int rc;

	memset(&o, 0, sizeof(o));
	o.servers = servers;
	o.timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	o.tries = 2;
	rc = zdns_init(&d, &o, why);
	if (rc != Z_OK)
		return rc < 0 ? rc : Z_ERR;
	zdns_query(d, name, rrtype, &a);
	switch (a.status) {
	case ZDNS_OK:
		rc = HDNS_ANSWER;
		break;
	case ZDNS_NXDOMAIN:
	case ZDNS_NODATA:
		zbuf_puts(why, zdns_status_text(a.status));
		rc = HDNS_NEGATIVE;
		break;
	default:
		zbuf_puts(why, zdns_status_text(a.status));
		rc = HDNS_TEMPFAIL;
		break;
	}
	zdns_answer_free(&a);
	zdns_free(d);
	return rc;
}
