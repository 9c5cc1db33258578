/*
 * NAME
 *	zdns.c - the c-ares channel of the DNS layer and its lookups
 *
 * SUMMARY
 *	Synchronous MX, A/AAAA, WKS and raw lookups over one c-ares channel,
 *	with the CNAME and null-MX rules of mail routing.
 *
 * SYNOPSIS
 *	int zdns_init(zdns **d, const zdns_opts *o, zbuf *err);
 *	void zdns_free(zdns *d);
 *	int zdns_query(zdns *d, const char *name, int type, zdns_answer *a);
 *	void zdns_answer_free(zdns_answer *a);
 *	int zdns_mx(zdns *d, const char *domain, zdns_mxset *out);
 *	int zdns_addrs(zdns *d, const char *host, zdns_addrset *out);
 *	int zdns_wks(zdns *d, const char *host, int proto, int port);
 *	int zdns_temp(int status);
 *	const char *zdns_status_text(int status);
 *
 * DESCRIPTION
 *	zdns_init(): with o->servers set (DNS_SERVERS, "ip:port,ip:port")
 *	the channel is created with a placeholder server and no search
 *	domains and then given exactly that list, so the servers of
 *	/etc/resolv.conf are never queried; without it the system
 *	configuration is used.  An empty o->servers is an error.  Defaults:
 *	timeout_ms 5000, tries 2 (at most 10).  ARES_FLAG_NOCHECKRESP keeps
 *	SERVFAIL and REFUSED apart from "could not contact".
 *
 *	Only DNS queries are made (ares_query: no search list, no
 *	/etc/hosts).  A lookup starts its queries, then drives the channel
 *	with ares_getsock/ares_timeout and o->poll until every query has
 *	completed; a guard of timeout * 2^tries * servers (+5 s) cancels a
 *	channel that would otherwise never finish.
 *
 *	zdns_mx(): MX query; the answer is parsed by zdns_parse_mx (the MX
 *	records owned by the name or a name on its CNAME chain; others are
 *	ignored).  An answer holding only a
 *	CNAME makes a fresh MX query for its target (ZDNS_CNAME_HOPS at
 *	most; then ZDNS_NODATA).  MX records whose host is empty or "." are
 *	null MX: when nothing else is there, out->nullmx is set; mixed with
 *	real MX records they are ignored.
 *
 *	zdns_addrs(): A and AAAA in flight together, parsed by
 *	ares_parse_a_reply/ares_parse_aaaa_reply through zdns_parse_addrs;
 *	IPv4 addresses first.  Each query's own status is in
 *	out->status4/status6.
 *
 *	zdns_wks(): WKS (RFC 1035 3.4.2) of the host or of the end of its
 *	CNAME chain; a record counts when its protocol is proto and its
 *	bitmap has port.
 *
 *	zdns_query(): the generic entry point for any type (TLSA, TXT):
 *	the whole reply, its rcode and AD bit.
 *
 * DIAGNOSTICS
 *	zdns_init puts "c-ares init: ...", "c-ares channel: ...",
 *	"DNS_SERVERS is empty (...)" or "DNS_SERVERS \"x\": ..." in err.
 *	Lookups return enum zdns_status; zdns_status_text gives "DNS
 *	timeout", "DNS server failure", "DNS server refused the query", "no
 *	DNS server reachable", "DNS failure", ...
 *
 * SECURITY
 *	Replies are outside input: they are parsed by c-ares' parsers and
 *	by the bounds-checked walker in zdns_msg.c, names land in fixed
 *	buffers only when they fit, counts are capped.  With o->servers set
 *	the system resolver is never asked (tests rely on it).  The AD bit
 *	is only as good as the path to a validating resolver.
 *
 * BUGS
 *	The additional section is not used; every MX host has its own A and
 *	AAAA queries.  Lookups block the caller (its poll hook still runs).
 *
 * SEE ALSO
 *	zdns_msg.c, zmta-dns(3), ares_query(3), RFC 1035, RFC 5321 section 5,
 *	RFC 7505
 */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zbuf.h"
#include "zerr.h"
#include "zutil.h"
#include "zdns.h"

struct zdns {
	ares_channel ch;
	zdns_opts o;
	char *servers;
	int pending;
	int nservers;
};

/* one query in flight; completion lands here */
struct qres {
	zdns *d;
	int done;
	int status;          /* ARES_* */
	unsigned char *buf;
	int len;
};

static int lib_inited;


/* from_ares - c-ares status to enum zdns_status */
static int from_ares(int st)
{
	switch (st) {
	case ARES_SUCCESS: return ZDNS_OK;
	case ARES_ENOTFOUND: return ZDNS_NXDOMAIN;
	case ARES_EBADNAME: return ZDNS_NXDOMAIN;
	case ARES_ENODATA: return ZDNS_NODATA;
	case ARES_ESERVFAIL: return ZDNS_SERVFAIL;
	case ARES_EREFUSED: return ZDNS_REFUSED;
	case ARES_ETIMEOUT: return ZDNS_TIMEOUT;
	case ARES_ECONNREFUSED: return ZDNS_NOSERVER;
	case ARES_EBADRESP: return ZDNS_BADRESP;
	case ARES_ENOMEM: return ZDNS_NOMEM;
	default: return ZDNS_FAIL;
	}
}

/* zdns_temp - is the status worth a later retry */
int zdns_temp(int status)
{
	return status != ZDNS_OK && status != ZDNS_NXDOMAIN && status != ZDNS_NODATA;
}

/* zdns_status_text - short text for a status */
const char *zdns_status_text(int status)
{
	switch (status) {
	case ZDNS_OK: return "no error";
	case ZDNS_NXDOMAIN: return "no such domain";
	case ZDNS_NODATA: return "no record of that type";
	case ZDNS_TIMEOUT: return "DNS timeout";
	case ZDNS_REFUSED: return "DNS server refused the query";
	case ZDNS_NOSERVER: return "no DNS server reachable";
	case ZDNS_SERVFAIL: return "DNS server failure";
	default: return "DNS failure";
	}
}

/* zdns_init - create the c-ares channel */
int zdns_init(zdns **dp, const zdns_opts *o, zbuf *err)
{
	struct ares_options ao;
	struct in_addr placeholder;
	zdns *d;
	int mask, rc;

	*dp = NULL;
	if (!lib_inited) {
		rc = ares_library_init(ARES_LIB_INIT_ALL);
		if (rc != ARES_SUCCESS) {
			zbuf_setf(err, "c-ares init: %s", ares_strerror(rc));
			return Z_ERR;
		}
		lib_inited = 1;
	}
	if (o->servers != NULL && o->servers[0] == '\0') {
		zbuf_setf(err, "DNS_SERVERS is empty (leave it unset to use the system resolver configuration)");
		return Z_EPARSE;
	}
	d = calloc(1, sizeof *d);
	if (d == NULL) {
		zbuf_setf(err, "out of memory");
		return Z_ENOMEM;
	}
	d->o = *o;
	if (o->servers != NULL) {
		d->servers = strdup(o->servers);
		if (d->servers == NULL) {
			zbuf_setf(err, "out of memory");
			zdns_free(d);
			return Z_ENOMEM;
		}
	}
	d->o.servers = d->servers;
	if (d->o.timeout_ms <= 0)
		d->o.timeout_ms = 5000;
	if (d->o.tries <= 0)
		d->o.tries = 2;
	if (d->o.tries > 10)
		d->o.tries = 10;

	memset(&ao, 0, sizeof ao);
	ao.flags = ARES_FLAG_NOCHECKRESP;
	ao.timeout = d->o.timeout_ms;
	ao.tries = d->o.tries;
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	if (d->servers != NULL) {
		/* never read the resolv.conf servers: start from a placeholder */
		placeholder.s_addr = htonl(INADDR_LOOPBACK);
		ao.servers = &placeholder;
		ao.nservers = 1;
		ao.ndomains = 0;
		ao.domains = NULL;
		mask |= ARES_OPT_SERVERS | ARES_OPT_DOMAINS;
	}
	rc = ares_init_options(&d->ch, &ao, mask);
	if (rc != ARES_SUCCESS) {
		zbuf_setf(err, "c-ares channel: %s", ares_strerror(rc));
		d->ch = NULL;
		zdns_free(d);
		return Z_ERR;
	}
	d->nservers = 1;
	if (d->servers != NULL) {
		const char *p;
		rc = ares_set_servers_ports_csv(d->ch, d->servers);
		if (rc != ARES_SUCCESS) {
			zbuf_setf(err, "DNS_SERVERS \"%s\": %s", d->servers, ares_strerror(rc));
			zdns_free(d);
			return Z_EPARSE;
		}
		for (p = d->servers; *p; p++)
			if (*p == ',')
				d->nservers++;
	} else {
		d->nservers = 3;
	}
	*dp = d;
	return Z_OK;
}

/* zdns_free - destroy the channel */
void zdns_free(zdns *d)
{
	if (d == NULL)
		return;
	if (d->ch != NULL)
		ares_destroy(d->ch);
	free(d->servers);
	free(d);
}

/* qcb - c-ares callback: keep a copy of the reply */
static void qcb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct qres *q = arg;
	(void)timeouts;

	q->status = status;
	q->buf = NULL;
	q->len = 0;
	if (abuf != NULL && alen > 0) {
		q->buf = malloc((size_t)alen);
		if (q->buf != NULL) {
			memcpy(q->buf, abuf, (size_t)alen);
			q->len = alen;
		} else if (status == ARES_SUCCESS) {
			q->status = ARES_ENOMEM;
		}
	}
	q->done = 1;
	q->d->pending--;
}

/* start_query - issue one query; completion lands in q */
static void start_query(zdns *d, const char *name, int type, struct qres *q)
{
	memset(q, 0, sizeof *q);
	q->d = d;
	d->pending++;
	ares_query(d->ch, name, 1 /* C_IN */, type, qcb, q);
}

/* qfree - release a reply copy */
static void qfree(struct qres *q)
{
	free(q->buf);
	q->buf = NULL;
	q->len = 0;
}

/* wait_fds - the poll hook or poll(2) */
static int wait_fds(zdns *d, struct pollfd *pf, unsigned long n, int ms)
{
	if (d->o.poll != NULL)
		return d->o.poll(d->o.poll_arg, pf, n, ms);
	return poll(pf, (nfds_t)n, ms);
}

/* run - drive the channel until every pending query has completed */
static void run(zdns *d)
{
	long long guard = zmono_ms() +
		(long long)d->o.timeout_ms * ((1LL << d->o.tries)) * d->nservers + 5000;

	while (d->pending > 0) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pf[ARES_GETSOCK_MAXNUM];
		struct timeval maxtv, tvbuf, *tv;
		int bits, i, n = 0, ms, rc;

		if (zmono_ms() > guard) {
			ares_cancel(d->ch);
			continue;
		}
		bits = ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
		for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			/* the ARES_GETSOCK_* macros shift a signed int into bit 31 */
			if (((unsigned)bits >> i) & 1u)
				ev |= POLLIN;
			if (((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pf[n].fd = socks[i];
			pf[n].events = ev;
			pf[n].revents = 0;
			n++;
		}
		maxtv.tv_sec = 1;
		maxtv.tv_usec = 0;
		tv = ares_timeout(d->ch, &maxtv, &tvbuf);
		ms = (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000);
		rc = wait_fds(d, pf, (unsigned long)n, ms);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			ares_cancel(d->ch);
			continue;
		}
		if (rc == 0) {
			ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < n; i++) {
			if (pf[i].revents == 0)
				continue;
			ares_process_fd(d->ch,
				(pf[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pf[i].fd : ARES_SOCKET_BAD,
				(pf[i].revents & POLLOUT) ? pf[i].fd : ARES_SOCKET_BAD);
		}
	}
}

/* bad_name - refuse names that cannot be a domain before asking */
static int bad_name(const char *name)
{
	return name == NULL || name[0] == '\0' || strlen(name) > 253;
}

/* zdns_query - one query of any type, the reply handed over */
int zdns_query(zdns *d, const char *name, int type, zdns_answer *a)
{
	struct qres q;
	zdns_hdr h;

	memset(a, 0, sizeof *a);
	a->rcode = -1;
	if (bad_name(name)) {
		a->status = ZDNS_NXDOMAIN;
		return a->status;
	}
	start_query(d, name, type, &q);
	run(d);
	a->status = from_ares(q.status);
	a->buf = q.buf;
	a->len = q.len;
	if (a->buf != NULL && zdns_msg_header(a->buf, a->len, &h) == Z_OK) {
		a->rcode = h.rcode;
		a->ad = h.ad;
	}
	return a->status;
}

/* zdns_answer_free - release an answer */
void zdns_answer_free(zdns_answer *a)
{
	if (a == NULL)
		return;
	free(a->buf);
	a->buf = NULL;
	a->len = 0;
}

/* zdns_mx - MX records with the CNAME and null-MX rules */
int zdns_mx(zdns *d, const char *domain, zdns_mxset *out)
{
	char cur[ZDNS_NAME_MAX];
	int hop;

	memset(out, 0, sizeof *out);
	if (bad_name(domain))
		return ZDNS_NXDOMAIN;
	(void)zstrlcpy(out->canon, domain, sizeof out->canon);
	(void)zstrlcpy(cur, domain, sizeof cur);
	for (hop = 0; hop < ZDNS_CNAME_HOPS; hop++) {
		zdns_answer a;
		int st, cname_only = 0;

		st = zdns_query(d, cur, ZDNS_T_MX, &a);
		if (st != ZDNS_OK) {
			zdns_answer_free(&a);
			return st;
		}
		st = zdns_parse_mx(a.buf, a.len, cur, out, &cname_only);
		zdns_answer_free(&a);
		if (st != ZDNS_OK)
			return st;
		if (out->n > 0 || out->nullmx)
			return ZDNS_OK;
		if (!cname_only)
			return ZDNS_NODATA;
		/* only a CNAME: ask again for the target's MX */
		(void)zstrlcpy(cur, out->canon, sizeof cur);
	}
	return ZDNS_NODATA;
}

/* addr_result - fold one query's outcome into out; returns its status */
static int addr_result(struct qres *q, const char *host, int type, zdns_addrset *out)
{
	int st = from_ares(q->status);

	if (st != ZDNS_OK)
		return st;
	return zdns_parse_addrs(q->buf, q->len, type, host, out);
}

/* zdns_addrs - A and AAAA of one host */
int zdns_addrs(zdns *d, const char *host, zdns_addrset *out)
{
	struct qres qa, q6;

	memset(out, 0, sizeof *out);
	if (bad_name(host)) {
		out->status4 = out->status6 = ZDNS_NXDOMAIN;
		return ZDNS_NXDOMAIN;
	}
	start_query(d, host, ZDNS_T_A, &qa);
	start_query(d, host, ZDNS_T_AAAA, &q6);
	run(d);
	out->status4 = addr_result(&qa, host, ZDNS_T_A, out);
	out->status6 = addr_result(&q6, host, ZDNS_T_AAAA, out);
	qfree(&qa);
	qfree(&q6);
	if (out->n > 0)
		return ZDNS_OK;
	if (out->status4 == ZDNS_NXDOMAIN && out->status6 == ZDNS_NXDOMAIN)
		return ZDNS_NXDOMAIN;
	if (zdns_temp(out->status6))
		return out->status6;
	if (zdns_temp(out->status4))
		return out->status4;
	return ZDNS_NODATA;
}

/* zdns_wks - does host have a WKS record for proto/port */
int zdns_wks(zdns *d, const char *host, int proto, int port)
{
	zdns_answer a;
	zdns_rr *rr = NULL;
	char names[ZDNS_CHAIN_MAX][ZDNS_NAME_MAX];
	int st, nrr = 0, nn, i, j, rc = 0;

	st = zdns_query(d, host, ZDNS_T_WKS, &a);
	if (st == ZDNS_NXDOMAIN || st == ZDNS_NODATA)
		goto done;
	if (st != ZDNS_OK) {
		rc = -st;
		goto done;
	}
	rr = calloc(ZDNS_RR_MAX, sizeof *rr);
	if (rr == NULL) {
		rc = -ZDNS_NOMEM;
		goto done;
	}
	if (zdns_msg_answers(a.buf, a.len, rr, ZDNS_RR_MAX, &nrr) != Z_OK) {
		rc = -ZDNS_BADRESP;
		goto done;
	}
	nn = zdns_msg_chain(a.buf, a.len, rr, nrr, host, names);
	for (i = 0; i < nrr && rc == 0; i++) {
		if (rr[i].type != ZDNS_T_WKS)
			continue;
		for (j = 0; j < nn; j++)
			if (zdns_name_eq(rr[i].owner, names[j]))
				break;
		if (j < nn && zdns_wks_rdata_has(rr[i].rd, rr[i].rdlen, proto, port))
			rc = 1;
	}
done:
	free(rr);
	zdns_answer_free(&a);
	return rc;
}
