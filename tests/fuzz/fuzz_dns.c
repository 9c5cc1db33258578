/*
 * NAME
 *	fuzz_dns - libFuzzer target for the DNS layer's reply parsing
 * SUMMARY
 *	Feeds arbitrary bytes as a DNS reply to every in-memory function of
 *	dns/zdns_msg.c and checks the promises they make to their callers.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	The input is one reply (the corpus holds real answers of the test
 *	nsd, taken over UDP and TCP, and hand-made broken ones).  The query
 *	name is read from the question section when it can be; otherwise
 *	"multi.mta.test" is used.  Promises checked (abort() when broken):
 *	zdns_msg_answers keeps at most max records, each RDATA inside the
 *	input; zdns_msg_chain gives 1..ZDNS_CHAIN_MAX terminated names;
 *	zdns_parse_mx and zdns_parse_addrs keep their counts within the
 *	limits, hosts non-empty and terminated, null MX never together with
 *	real ones, addresses of the asked family.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; nothing is kept between runs.  No I/O.
 * BUGS
 *	The MX/A/AAAA decoding itself is c-ares' (fuzzed upstream); here it
 *	is exercised only through the wrappers.
 * SEE ALSO
 *	dns/zdns_msg.c, tests/fuzz/replay_main.c, zmta-dns(3)
 */
#include <ares.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zbuf.h"
#include "zerr.h"
#include "zdns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* qname_of - the question name, or a fixed one */
static void qname_of(const unsigned char *buf, int len, char *dst, size_t dstsz)
{
	char *s = NULL;
	long el = 0;

	(void)zstrlcpy(dst, "multi.mta.test", dstsz);
	if (len <= 12)
		return;
	if (ares_expand_name(buf + 12, buf, len, &s, &el) == ARES_SUCCESS) {
		if (s[0] != '\0')
			(void)zstrlcpy(dst, s, dstsz);
		ares_free_string(s);
	}
}

/* terminated - is s NUL-terminated within n bytes */
static int terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* LLVMFuzzerTestOneInput - one reply through every parser */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static zdns_rr rr[ZDNS_RR_MAX];
	static char names[ZDNS_CHAIN_MAX][ZDNS_NAME_MAX];
	static zdns_mxset mx;
	static zdns_addrset as;
	const unsigned char *buf = data;
	char qname[ZDNS_NAME_MAX];
	zdns_hdr h;
	int len, nrr = 0, nn, i, cname_only = 0, rc;

	if (size > 65535)
		return 0;
	len = (int)size;
	(void)zdns_msg_header(buf, len, &h);
	qname_of(buf, len, qname, sizeof qname);

	if (zdns_msg_answers(buf, len, rr, 7, &nrr) == Z_OK && nrr > 7)
		abort();
	nrr = 0;
	if (zdns_msg_answers(buf, len, rr, ZDNS_RR_MAX, &nrr) == Z_OK) {
		if (nrr < 0 || nrr > ZDNS_RR_MAX)
			abort();
		for (i = 0; i < nrr; i++) {
			if (rr[i].rd < buf || rr[i].rdlen < 0 || rr[i].rd + rr[i].rdlen > buf + len)
				abort();
			if (!terminated(rr[i].owner, sizeof rr[i].owner))
				abort();
			if (rr[i].type == ZDNS_T_WKS)
				(void)zdns_wks_rdata_has(rr[i].rd, rr[i].rdlen, 6, 25);
		}
		nn = zdns_msg_chain(buf, len, rr, nrr, qname, names);
		if (nn < 1 || nn > ZDNS_CHAIN_MAX)
			abort();
		for (i = 0; i < nn; i++)
			if (!terminated(names[i], ZDNS_NAME_MAX))
				abort();
	}

	memset(&mx, 0, sizeof mx);
	rc = zdns_parse_mx(buf, len, qname, &mx, &cname_only);
	if (rc == ZDNS_OK) {
		if (mx.n < 0 || mx.n > ZDNS_MX_MAX || (mx.nullmx && mx.n > 0))
			abort();
		if (cname_only && (mx.n > 0 || mx.nullmx))
			abort();
		for (i = 0; i < mx.n; i++)
			if (!terminated(mx.mx[i].host, ZDNS_NAME_MAX) || mx.mx[i].host[0] == '\0')
				abort();
	}
	if (!terminated(mx.canon, sizeof mx.canon))
		abort();

	memset(&as, 0, sizeof as);
	(void)zdns_parse_addrs(buf, len, ZDNS_T_A, qname, &as);
	for (i = 0; i < as.n; i++)
		if (as.sa[i].ss_family != AF_INET)
			abort();
	rc = as.n;
	(void)zdns_parse_addrs(buf, len, ZDNS_T_AAAA, qname, &as);
	if (as.n > ZDNS_ADDR_MAX)
		abort();
	for (i = rc; i < as.n; i++)
		if (as.sa[i].ss_family != AF_INET6)
			abort();
	if (!terminated(as.canon, sizeof as.canon))
		abort();
	return 0;
}
