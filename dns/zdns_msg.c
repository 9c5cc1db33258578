/*
 * NAME
 *	zdns_msg.c - DNS replies in memory: header, answer walk, CNAME chain,
 *	WKS bitmap, and the MX/A/AAAA parsers of c-ares wrapped for zmta
 *
 * SUMMARY
 *	Everything of the DNS layer that reads reply bytes, without I/O.
 *
 * SYNOPSIS
 *	int zdns_msg_header(const unsigned char *buf, int len, zdns_hdr *h);
 *	int zdns_msg_answers(const unsigned char *buf, int len, zdns_rr *rr,
 *			     int max, int *nrr);
 *	int zdns_msg_chain(const unsigned char *buf, int len, const zdns_rr *rr,
 *			   int nrr, const char *qname, char names[][ZDNS_NAME_MAX]);
 *	int zdns_wks_rdata_has(const unsigned char *rd, int rdlen, int proto, int port);
 *	int zdns_parse_mx(const unsigned char *buf, int len, const char *qname,
 *			  zdns_mxset *out, int *cname_only);
 *	int zdns_parse_addrs(const unsigned char *buf, int len, int type,
 *			     const char *qname, zdns_addrset *out);
 *	int zdns_name_eq(const char *a, const char *b);
 *
 * DESCRIPTION
 *	A and AAAA records are decoded by c-ares (ares_parse_a_reply,
 *	ares_parse_aaaa_reply).  c-ares 1.18 has no parser for what else zmta
 *	reads, and its MX parser (ares_parse_mx_reply) keeps MX records of
 *	any owner, so this file keeps a small walker:
 *
 *	zdns_msg_header() decodes the fixed header (flags, rcode, AD bit,
 *	counts).  zdns_msg_answers() skips the question section and lists
 *	the class-IN records of the answer section (owner expanded by
 *	ares_expand_name, type, TTL, RDATA pointer and length into buf), at
 *	most max; records past max are not looked at.  zdns_msg_chain()
 *	follows CNAME records from qname in any order, at most
 *	ZDNS_CHAIN_MAX names (loops end there).  zdns_wks_rdata_has() reads
 *	WKS RDATA: address (4), protocol (1), port bitmap (bit 0 of the
 *	first byte is port 0).
 *
 *	zdns_parse_mx() sets out->canon to the end of qname's CNAME chain,
 *	appends the real MX records (at most ZDNS_MX_MAX) whose owner is
 *	qname or a name on its CNAME chain (an MX of any other owner is
 *	ignored: a server, or whatever sits on the path, may not add mail
 *	routes for names that were not asked about), sets out->nullmx when
 *	only MX records with an empty host were found, and *cname_only when
 *	the answer held a CNAME to another name and no MX.
 *	zdns_parse_addrs() appends the A or AAAA addresses (at most
 *	ZDNS_ADDR_MAX in out) and sets out->canon when qname is a CNAME;
 *	ZDNS_NODATA when none was found.
 *
 * DIAGNOSTICS
 *	zdns_msg_* return Z_OK or Z_EPARSE (truncated or malformed reply);
 *	zdns_parse_* return ZDNS_OK, ZDNS_NODATA, ZDNS_BADRESP or ZDNS_NOMEM.
 *
 * SECURITY
 *	Input is a reply from the network.  Every offset is checked against
 *	len before it is read, names are expanded by c-ares (compression
 *	loops refused there) and copied only when they fit
 *	ZDNS_NAME_MAX, counts are capped.  tests/fuzz/fuzz_dns.c replays
 *	stored replies and mangled ones through every function here.
 *
 * BUGS
 *	Answer records past ZDNS_RR_MAX are not looked at.
 *
 * SEE ALSO
 *	zdns.c, zmta-dns(3), RFC 1035 sections 3.4.2 and 4.1, RFC 7505
 */
#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "zbuf.h"
#include "zerr.h"
#include "zdns.h"

/* get16 - big-endian 16 bits */
static int get16(const unsigned char *p)
{
	return (p[0] << 8) | p[1];
}

/* expand - expand a compressed name at p into dst; -1 on error/too long */
static int expand(const unsigned char *p, const unsigned char *buf, int len,
		  char *dst, size_t dstsz, long *enclen)
{
	char *s = NULL;
	long el = 0;
	int rc;

	if (p < buf || p >= buf + len)
		return -1;
	if (ares_expand_name(p, buf, len, &s, &el) != ARES_SUCCESS)
		return -1;
	rc = zstrlcpy(dst, s, dstsz) == Z_OK ? 0 : -1;
	ares_free_string(s);
	if (enclen)
		*enclen = el;
	return rc;
}

/* zdns_name_eq - case-insensitive name comparison ignoring one trailing dot */
int zdns_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* zdns_msg_header - decode the fixed 12-byte header */
int zdns_msg_header(const unsigned char *buf, int len, zdns_hdr *h)
{
	memset(h, 0, sizeof *h);
	if (buf == NULL || len < 12)
		return Z_EPARSE;
	h->id = get16(buf);
	h->qr = buf[2] >> 7;
	h->opcode = (buf[2] >> 3) & 0x0f;
	h->aa = (buf[2] >> 2) & 1;
	h->tc = (buf[2] >> 1) & 1;
	h->rd = buf[2] & 1;
	h->ra = buf[3] >> 7;
	h->ad = (buf[3] >> 5) & 1;
	h->cd = (buf[3] >> 4) & 1;
	h->rcode = buf[3] & 0x0f;
	h->qdcount = get16(buf + 4);
	h->ancount = get16(buf + 6);
	h->nscount = get16(buf + 8);
	h->arcount = get16(buf + 10);
	return Z_OK;
}

/* zdns_msg_answers - walk the answer section into rr[] */
int zdns_msg_answers(const unsigned char *buf, int len, zdns_rr *rr, int max, int *nrr)
{
	const unsigned char *p, *end;
	zdns_hdr h;
	int i;

	*nrr = 0;
	if (zdns_msg_header(buf, len, &h) != Z_OK)
		return Z_EPARSE;
	end = buf + len;
	p = buf + 12;
	for (i = 0; i < h.qdcount; i++) {
		char tmp[ZDNS_NAME_MAX];
		long el;
		if (expand(p, buf, len, tmp, sizeof tmp, &el) != 0)
			return Z_EPARSE;
		if (el <= 0 || end - p < el + 4)
			return Z_EPARSE;
		p += el + 4;
	}
	for (i = 0; i < h.ancount && *nrr < max; i++) {
		zdns_rr *r = &rr[*nrr];
		long el;
		int rdlen;

		if (expand(p, buf, len, r->owner, sizeof r->owner, &el) != 0)
			return Z_EPARSE;
		if (el <= 0 || end - p < el + 10)
			return Z_EPARSE;
		p += el;
		r->type = get16(p);
		r->ttl = ((unsigned long)get16(p + 4) << 16) | (unsigned long)get16(p + 6);
		rdlen = get16(p + 8);
		p += 10;
		if (end - p < rdlen)
			return Z_EPARSE;
		r->rd = p;
		r->rdlen = rdlen;
		if (get16(p - 8) == 1) /* class IN only */
			(*nrr)++;
		p += rdlen;
	}
	return Z_OK;
}

/* zdns_msg_chain - follow CNAMEs from qname through the answer */
int zdns_msg_chain(const unsigned char *buf, int len, const zdns_rr *rr, int nrr,
		   const char *qname, char names[][ZDNS_NAME_MAX])
{
	int n = 1, i, moved;

	if (zstrlcpy(names[0], qname, ZDNS_NAME_MAX) != Z_OK)
		return 0;
	do {
		moved = 0;
		for (i = 0; i < nrr && n < ZDNS_CHAIN_MAX; i++) {
			if (rr[i].type != ZDNS_T_CNAME || !zdns_name_eq(rr[i].owner, names[n - 1]))
				continue;
			if (expand(rr[i].rd, buf, len, names[n], ZDNS_NAME_MAX, NULL) != 0)
				return n;
			n++;
			moved = 1;
			break;
		}
	} while (moved && n < ZDNS_CHAIN_MAX);
	return n;
}

/* zdns_wks_rdata_has - does WKS RDATA list proto and port */
int zdns_wks_rdata_has(const unsigned char *rd, int rdlen, int proto, int port)
{
	int byte;

	if (rd == NULL || rdlen < 5 || port < 0 || port > 65535 || rd[4] != proto)
		return 0;
	byte = port / 8;
	if (rdlen - 5 <= byte)
		return 0;
	return (rd[5 + byte] & (0x80 >> (port % 8))) != 0;
}

/* a reply's answer records and qname's CNAME chain through them */
typedef struct walk {
	zdns_rr *rr;
	char (*names)[ZDNS_NAME_MAX];
	int nrr, nn;
} walk;

/* walk_open - list the answers and follow the chain: 0, -1 on a malformed
 * reply, -2 out of memory; walk_close in every case */
static int walk_open(const unsigned char *buf, int len, const char *qname, walk *w)
{
	w->nrr = w->nn = 0;
	w->rr = calloc(ZDNS_RR_MAX, sizeof *w->rr);
	w->names = calloc(ZDNS_CHAIN_MAX, sizeof *w->names);
	if (w->rr == NULL || w->names == NULL)
		return -2;
	if (zdns_msg_answers(buf, len, w->rr, ZDNS_RR_MAX, &w->nrr) != Z_OK)
		return -1;
	w->nn = zdns_msg_chain(buf, len, w->rr, w->nrr, qname, w->names);
	return w->nn == 0 ? -1 : 0;
}

/* walk_close - free what walk_open took */
static void walk_close(walk *w)
{
	free(w->rr);
	free(w->names);
}

/* walk_alias - 1 when the chain leads from qname to another name */
static int walk_alias(const walk *w, const char *qname)
{
	return w->nn > 1 && !zdns_name_eq(w->names[w->nn - 1], qname);
}

/* chain_end - the CNAME chain of qname in a reply: canonical name into
 * canon (when non-NULL), 1 if qname is an alias; -1 on a malformed reply */
static int chain_end(const unsigned char *buf, int len, const char *qname,
		     char *canon, size_t canonsz)
{
	walk w;
	int rc = -1;

	if (walk_open(buf, len, qname, &w) == 0) {
		rc = walk_alias(&w, qname);
		if (canon != NULL)
			(void)zstrlcpy(canon, w.names[w.nn - 1], canonsz);
	}
	walk_close(&w);
	return rc;
}

/* zdns_parse_mx - MX records of qname and its CNAME chain, with null MX */
int zdns_parse_mx(const unsigned char *buf, int len, const char *qname, zdns_mxset *out,
		  int *cname_only)
{
	walk w;
	const zdns_rr *rr;
	int i, j, alias, rc = ZDNS_BADRESP, real = 0, nulls = 0;

	*cname_only = 0;
	out->n = 0;
	out->nullmx = 0;
	out->canon[0] = '\0';
	i = walk_open(buf, len, qname, &w);
	if (i != 0) {
		rc = i == -2 ? ZDNS_NOMEM : ZDNS_BADRESP;
		goto out;
	}
	rr = w.rr;
	alias = walk_alias(&w, qname);
	(void)zstrlcpy(out->canon, w.names[w.nn - 1], sizeof out->canon);
	for (i = 0; i < w.nrr; i++) {
		char host[ZDNS_NAME_MAX];
		long el = 0;

		if (rr[i].type != ZDNS_T_MX)
			continue;
		/* preference (2) and a name that ends inside the RDATA */
		if (rr[i].rdlen < 3 ||
		    expand(rr[i].rd + 2, buf, len, host, sizeof host, &el) != 0 ||
		    el <= 0 || el > rr[i].rdlen - 2)
			goto out;
		for (j = 0; j < w.nn && !zdns_name_eq(rr[i].owner, w.names[j]); j++)
			;
		if (j == w.nn)
			continue; /* not qname's, nor a name's on its chain */
		if (host[0] == '\0' || strcmp(host, ".") == 0) {
			nulls++;
			continue;
		}
		if (out->n >= ZDNS_MX_MAX)
			continue;
		if (zstrlcpy(out->mx[out->n].host, host, sizeof out->mx[out->n].host) != Z_OK)
			continue;
		out->mx[out->n].pref = get16(rr[i].rd);
		out->n++;
		real++;
	}
	if (real == 0 && nulls > 0)
		out->nullmx = 1;
	if (real == 0 && nulls == 0 && alias)
		*cname_only = 1;
	rc = ZDNS_OK;
out:
	if (rc != ZDNS_OK)
		out->n = 0;
	walk_close(&w);
	return rc;
}

/* zdns_parse_addrs - append the A or AAAA addresses of a reply */
int zdns_parse_addrs(const unsigned char *buf, int len, int type, const char *qname,
		     zdns_addrset *out)
{
	struct ares_addrttl a4[ZDNS_ADDR_MAX];
	struct ares_addr6ttl a6[ZDNS_ADDR_MAX];
	char canon[ZDNS_NAME_MAX];
	int n = ZDNS_ADDR_MAX, rc, i, added = 0, alias;

	if (type != ZDNS_T_A && type != ZDNS_T_AAAA)
		return ZDNS_FAIL;
	alias = chain_end(buf, len, qname, canon, sizeof canon);
	if (alias < 0)
		return ZDNS_BADRESP;
	if (alias)
		(void)zstrlcpy(out->canon, canon, sizeof out->canon);
	if (type == ZDNS_T_A)
		rc = ares_parse_a_reply(buf, len, NULL, a4, &n);
	else
		rc = ares_parse_aaaa_reply(buf, len, NULL, a6, &n);
	if (rc == ARES_ENODATA)
		return ZDNS_NODATA;
	if (rc == ARES_ENOMEM)
		return ZDNS_NOMEM;
	if (rc != ARES_SUCCESS)
		return ZDNS_BADRESP;
	for (i = 0; i < n && out->n < ZDNS_ADDR_MAX; i++) {
		struct sockaddr_storage *ss = &out->sa[out->n];
		memset(ss, 0, sizeof *ss);
		if (type == ZDNS_T_A) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, &a4[i].ipaddr, 4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, &a6[i].ip6addr, 16);
		}
		out->n++;
		added++;
	}
	return added > 0 ? ZDNS_OK : ZDNS_NODATA;
}
