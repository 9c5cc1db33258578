/*
 * holddns.h - the one DNS question of the hold agent (NS: conditions):
 * does a query give a definite answer?  Through the DNS layer (dns/zdns.h).
 */
#ifndef ZMTA_HOLDDNS_H
#define ZMTA_HOLDDNS_H

#include "zbuf.h"

enum hold_dns_result {
	HDNS_ANSWER = 1,     /* records of that type exist */
	HDNS_NEGATIVE = 2,   /* NXDOMAIN or NODATA: also definite */
	HDNS_TEMPFAIL = 3    /* no server answered, SERVFAIL, REFUSED, timeout ... */
};

/* hold_dns_check - query name/type; returns an hold_dns_result or a
 * negative Z_E* when the resolver could not be set up (reason in why;
 * also for HDNS_TEMPFAIL).  servers: DNS_SERVERS ("ip:port,...") or
 * NULL for the system resolver configuration. */
int hold_dns_check(const char *servers, const char *name, int rrtype, int timeout_ms, zbuf *why);

#endif
