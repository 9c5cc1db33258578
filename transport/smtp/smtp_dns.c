/*
 * NAME
 *	smtp_dns.c - MX resolution for the smtp transport agent (c-ares)
 *
 * SUMMARY
 *	Turn a destination domain into an ordered list of addresses to try.
 *
 * SYNOPSIS
 *	int smtp_dns_init(smtp_dns **d, const smtp_dns_opts *o, zbuf *err);
 *	void smtp_dns_free(smtp_dns *d);
 *	int smtp_dns_resolve(smtp_dns *d, const char *domain, smtp_mxlist *out, zbuf *why);
 *	int smtp_dns_host_addrs(smtp_dns *d, const char *host, smtp_mxlist *out, zbuf *why);
 *	int smtp_dns_has_mx(smtp_dns *d, const char *domain, const char *mxhost);
 *	int smtp_addrmap_apply(const smtp_dns_opts *o, struct sockaddr_storage *sa,
 *			       socklen_t *salen, int *port);
 *	size_t smtp_mxlist_cap(smtp_mxlist *l, size_t max);
 *
 * DESCRIPTION
 *	One c-ares channel lives as long as the agent.  With o->servers set
 *	(DNS_SERVERS, "ip:port,ip:port") the channel is created with a
 *	placeholder server and then given exactly that list, so the servers
 *	of /etc/resolv.conf are never queried; without it the system
 *	configuration is used.  An empty o->servers string is an error.
 *	Defaults: timeout_ms 5000, tries 2 (at most 10), port 25.  Only DNS queries are made (ares_query with
 *	absolute names: no search list, no /etc/hosts).  ARES_FLAG_NOCHECKRESP
 *	keeps SERVFAIL and REFUSED apart from "could not contact".  The
 *	channel is driven synchronously with ares_getsock/ares_timeout/poll;
 *	o->timeout_ms is the first per-try timeout (c-ares doubles it on
 *	later rounds), o->tries the number of tries.
 *
 *	smtp_dns_resolve():
 *	- MX query.  CNAMEs in the answer are followed; the end of the chain
 *	  is reported in out->canon (the domain itself when there is none).
 *	  An answer holding only a CNAME makes a fresh MX query for its target
 *	  (at most 8 hops).
 *	- NXDOMAIN: SDNS_NXDOMAIN.  SERVFAIL, REFUSED, timeout, no server
 *	  reachable, malformed answer: SDNS_TEMPFAIL.
 *	- One MX record with an empty host ("MX 0 ."): SDNS_NULLMX.  A null MX
 *	  mixed with real MX records is ignored (the real ones are used).
 *	- No MX but the name exists: implicit MX, the A/AAAA of the (canonical)
 *	  domain with preference 0 and out->implicit = 1.
 *	- MX records are sorted by preference and hosts of equal preference
 *	  shuffled (arc4random).  Each host contributes its A then AAAA addresses
 *	  (each address one entry).  With prefer_v6 the entries of each
 *	  preference group are stably reordered IPv6 first.
 *	- Self: an MX whose name (or the canonical name of its address
 *	  lookup) equals o->myhostname, case-insensitively, or one of whose
 *	  addresses smtp_is_self_addr() accepts or loops back
 *	  (smtp_addr_loops_back(): 0/8, 127/8, ::, ::1, mapped forms), cuts
 *	  the list: every entry with preference >= that MX's preference is
 *	  dropped.  Nothing left: SDNS_SELF, "MX points back to us".  The
 *	  loop-back rule is off with o->allow_loopback (SMTP_TEST_ALLOW_LOOPBACK,
 *	  -F) and for addresses the test address map rewrites.
 *	- check_wks (-W): an MX host without a WKS record whose protocol is
 *	  TCP and whose bitmap has port 25 is dropped; all dropped: SDNS_NOWKS.
 *	- An MX host that does not exist or has no address is skipped; one
 *	  whose lookup fails temporarily is skipped too.  Nothing usable
 *	  left: SDNS_TEMPFAIL if any lookup failed temporarily, else SDNS_SELF
 *	  if the self cut removed entries, else SDNS_NOWKS if -W removed
 *	  hosts, else SDNS_NOADDR.
 *	- At most SMTP_MX_MAX entries.  Every entry is given port o->port, then
 *	  smtp_addrmap_apply() (self detection sees the unmapped address).
 *
 *	smtp_dns_host_addrs(): the A and AAAA of one host (a numeric address
 *	is taken as is, without DNS), preference 0, no self cut; addresses
 *	that loop back are dropped under the same rule, and when nothing else
 *	is left the result is SDNS_SELF.
 *
 *	smtp_mxlist_cap(): SMTP_MX_ADDRESS_LIMIT, the first max entries of
 *	the ordered list.  Waits go through smtp_poll() (keepalive).
 *
 *	smtp_addrmap_apply(): o->addrmap is a space/comma separated list
 *	"FROM=TO[:PORT]" (IPv6 TO as "[addr]:port"); a matching address is
 *	replaced by TO and the port by PORT.  A test-only knob.
 *
 * DIAGNOSTICS
 *	why examples: "DNS server failure looking up MX for example.org (will
 *	retry)", "DNS timeout looking up MX for example.org (will retry)",
 *	"example.org: no such domain", "example.org publishes a null MX (RFC
 *	7505): it accepts no mail", "example.org: no address for any MX host",
 *	"example.org: MX points back to us (mx.example.org [127.0.0.1] is a
 *	loopback address): we are the best MX but this is not a local domain", "example.org: no MX host has a WKS record for SMTP".
 *
 * SECURITY
 *	DNS answers are outside input: every RR is bounds-checked against the
 *	answer length before use, names are expanded by ares_expand_name and
 *	copied into fixed buffers only when they fit, counts are capped.
 *	A hostile DNS cannot point us at ourselves (loopback, our addresses).
 *
 * BUGS
 *	The additional section of MX answers is not used; every MX host has
 *	its own A and AAAA queries.
 *
 * SEE ALSO
 *	smtp_conn.c, smtp(8), RFC 5321 section 5, RFC 7505, RFC 974
 */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "zbuf.h"
#include "zerr.h"
#include "smtp_conn.h"
#include "smtp_dns.h"

#define T_A 1
#define T_CNAME 5
#define T_WKS 11
#define T_MX 15
#define T_AAAA 28
#define MAX_RR 256
#define MAX_CHAIN 9

struct qres {
	int done;
	int status;
	unsigned char *buf;
	int len;
};

struct smtp_dns {
	ares_channel ch;
	smtp_dns_opts o;
	char *servers, *addrmap, *myhostname, *selfaddrs;
	int pending;
	int nservers;
};

typedef struct rrinfo {
	char owner[256];
	int type;
	const unsigned char *rd;
	int rdlen;
} rrinfo;

typedef struct mxhost {
	char name[256];
	int pref;
} mxhost;

static int lib_inited;

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* seterr - replace text in why (may be NULL) */
static void seterr(zbuf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(zbuf *why, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL)
		return;
	zbuf_reset(why);
	va_start(ap, fmt);
	(void)zbuf_vprintf(why, fmt, ap);
	va_end(ap);
}

/* dupstr - strdup that passes NULL through; *fail set on ENOMEM */
static char *dupstr(const char *s, int *fail)
{
	char *r;

	if (s == NULL)
		return NULL;
	r = strdup(s);
	if (r == NULL)
		*fail = 1;
	return r;
}

/* smtp_dns_init - create the c-ares channel */
int smtp_dns_init(smtp_dns **dp, const smtp_dns_opts *o, zbuf *err)
{
	struct ares_options ao;
	struct in_addr placeholder;
	smtp_dns *d;
	int mask, rc, fail = 0;

	*dp = NULL;
	if (!lib_inited) {
		rc = ares_library_init(ARES_LIB_INIT_ALL);
		if (rc != ARES_SUCCESS) {
			seterr(err, "c-ares init: %s", ares_strerror(rc));
			return Z_ERR;
		}
		lib_inited = 1;
	}
	d = calloc(1, sizeof *d);
	if (d == NULL) {
		seterr(err, "out of memory");
		return Z_ENOMEM;
	}
	d->o = *o;
	d->servers = dupstr(o->servers, &fail);
	d->addrmap = dupstr(o->addrmap, &fail);
	d->myhostname = dupstr(o->myhostname, &fail);
	d->selfaddrs = dupstr(o->selfaddrs, &fail);
	d->o.servers = d->servers;
	d->o.addrmap = d->addrmap;
	d->o.myhostname = d->myhostname;
	d->o.selfaddrs = d->selfaddrs;
	if (fail) {
		seterr(err, "out of memory");
		smtp_dns_free(d);
		return Z_ENOMEM;
	}
	if (d->servers != NULL && d->servers[0] == '\0') {
		seterr(err, "DNS_SERVERS is empty (leave it unset to use the system resolver configuration)");
		smtp_dns_free(d);
		return Z_EPARSE;
	}
	if (d->o.timeout_ms <= 0)
		d->o.timeout_ms = 5000;
	if (d->o.tries <= 0)
		d->o.tries = 2;
	if (d->o.tries > 10)
		d->o.tries = 10;
	if (d->o.port <= 0 || d->o.port > 65535)
		d->o.port = 25;

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
		seterr(err, "c-ares channel: %s", ares_strerror(rc));
		d->ch = NULL;
		smtp_dns_free(d);
		return Z_ERR;
	}
	d->nservers = 1;
	if (d->servers != NULL) {
		const char *p;
		rc = ares_set_servers_ports_csv(d->ch, d->servers);
		if (rc != ARES_SUCCESS) {
			seterr(err, "DNS_SERVERS \"%s\": %s", d->servers, ares_strerror(rc));
			smtp_dns_free(d);
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

/* smtp_dns_free - destroy the channel */
void smtp_dns_free(smtp_dns *d)
{
	if (d == NULL)
		return;
	if (d->ch != NULL)
		ares_destroy(d->ch);
	free(d->servers);
	free(d->addrmap);
	free(d->myhostname);
	free(d->selfaddrs);
	free(d);
}

/* qcb - c-ares callback: keep a copy of the answer */
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
}

/* pcb - per-channel pending counter wrapper */
struct pq {
	struct qres *q;
	smtp_dns *d;
};

/* pending_cb - callback that also decrements the pending count */
static void pending_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pq *p = arg;

	qcb(p->q, status, timeouts, abuf, alen);
	p->d->pending--;
	free(p);
}

/* start_query - issue one query; completion lands in q */
static void start_query(smtp_dns *d, const char *name, int type, struct qres *q)
{
	struct pq *p;

	memset(q, 0, sizeof *q);
	p = malloc(sizeof *p);
	if (p == NULL) {
		q->status = ARES_ENOMEM;
		q->done = 1;
		return;
	}
	p->q = q;
	p->d = d;
	d->pending++;
	ares_query(d->ch, name, 1 /* C_IN */, type, pending_cb, p);
}

/* run - drive the channel until every pending query has completed */
static void run(smtp_dns *d)
{
	long long guard = now_ms() +
		(long long)d->o.timeout_ms * ((1LL << d->o.tries)) * d->nservers + 5000;

	while (d->pending > 0) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pf[ARES_GETSOCK_MAXNUM];
		struct timeval maxtv, tvbuf, *tv;
		int bits, i, n = 0, ms, rc;

		if (now_ms() > guard) {
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
		rc = smtp_poll(pf, (unsigned long)n, ms);
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

/* qfree - release an answer copy */
static void qfree(struct qres *q)
{
	free(q->buf);
	q->buf = NULL;
	q->len = 0;
}

/* get16 - big-endian 16 bits */
static int get16(const unsigned char *p)
{
	return (p[0] << 8) | p[1];
}

/* expand - expand a compressed name at p into dst; -1 on error/too long */
static int expand(const unsigned char *p, const unsigned char *abuf, int alen,
		  char *dst, size_t dstsz, long *enclen)
{
	char *s = NULL;
	long el = 0;
	int rc;

	if (ares_expand_name(p, abuf, alen, &s, &el) != ARES_SUCCESS)
		return -1;
	rc = zstrlcpy(dst, s, dstsz) == Z_OK ? 0 : -1;
	ares_free_string(s);
	if (enclen)
		*enclen = el;
	return rc;
}

/* parse_answers - walk the answer section of a DNS message into rr[] */
static int parse_answers(const unsigned char *abuf, int alen, rrinfo *rr, int max, int *nrr)
{
	const unsigned char *p, *end;
	int qd, an, i;

	*nrr = 0;
	if (abuf == NULL || alen < 12)
		return -1;
	end = abuf + alen;
	qd = get16(abuf + 4);
	an = get16(abuf + 6);
	p = abuf + 12;
	for (i = 0; i < qd; i++) {
		char tmp[256];
		long el;
		if (expand(p, abuf, alen, tmp, sizeof tmp, &el) != 0)
			return -1;
		if (el <= 0 || end - p < el + 4)
			return -1;
		p += el + 4;
	}
	for (i = 0; i < an && *nrr < max; i++) {
		rrinfo *r = &rr[*nrr];
		long el;
		int rdlen;

		if (expand(p, abuf, alen, r->owner, sizeof r->owner, &el) != 0)
			return -1;
		if (el <= 0 || end - p < el + 10)
			return -1;
		p += el;
		r->type = get16(p);
		rdlen = get16(p + 8);
		p += 10;
		if (end - p < rdlen)
			return -1;
		r->rd = p;
		r->rdlen = rdlen;
		if (get16(p - 8) == 1) /* class IN only */
			(*nrr)++;
		p += rdlen;
	}
	return 0;
}

/* name_eq - case-insensitive name comparison ignoring one trailing dot */
static int name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* chain - follow CNAMEs from qname through the answer; names in names[] */
static int chain(const unsigned char *abuf, int alen, const rrinfo *rr, int nrr,
		 const char *qname, char names[][256])
{
	int n = 1, i, moved;

	if (zstrlcpy(names[0], qname, 256) != Z_OK)
		return 0;
	do {
		moved = 0;
		for (i = 0; i < nrr && n < MAX_CHAIN; i++) {
			if (rr[i].type != T_CNAME || !name_eq(rr[i].owner, names[n - 1]))
				continue;
			if (expand(rr[i].rd, abuf, alen, names[n], 256, NULL) != 0)
				return n;
			n++;
			moved = 1;
			break;
		}
	} while (moved && n < MAX_CHAIN);
	return n;
}

/* in_chain - is name one of names[0..n) */
static int in_chain(const char *name, char names[][256], int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (name_eq(name, names[i]))
			return 1;
	return 0;
}

/* temp_text - short text for a temporary c-ares status */
static const char *temp_text(int st)
{
	switch (st) {
	case ARES_ETIMEOUT: return "DNS timeout";
	case ARES_EREFUSED: return "DNS server refused the query";
	case ARES_ECONNREFUSED: return "no DNS server reachable";
	case ARES_ESERVFAIL: return "DNS server failure";
	default: return "DNS failure";
	}
}

/* host list for one name: addresses per family */
typedef struct haddrs {
	struct sockaddr_storage sa[SMTP_MX_MAX];
	int n;
	int temp;         /* a lookup failed temporarily */
	int exists;       /* some lookup said the name exists */
	int nx;           /* every lookup said NXDOMAIN */
	char canon[256];
	int tstatus;
} haddrs;

/* collect_addrs - add A or AAAA records from an answer */
static void collect_addrs(struct qres *q, const char *name, int type, haddrs *h, rrinfo *rr)
{
	char names[MAX_CHAIN][256];
	int nrr = 0, nn, i;

	if (q->status == ARES_ENOTFOUND)
		return;
	h->nx = 0;
	if (q->status == ARES_ENODATA) {
		h->exists = 1;
		return;
	}
	if (q->status != ARES_SUCCESS) {
		h->temp = 1;
		h->tstatus = q->status;
		return;
	}
	h->exists = 1;
	if (parse_answers(q->buf, q->len, rr, MAX_RR, &nrr) != 0) {
		h->temp = 1;
		h->tstatus = ARES_EBADRESP;
		return;
	}
	nn = chain(q->buf, q->len, rr, nrr, name, names);
	if (nn > 1)
		zstrlcpy(h->canon, names[nn - 1], sizeof h->canon);
	for (i = 0; i < nrr && h->n < SMTP_MX_MAX; i++) {
		struct sockaddr_storage *ss = &h->sa[h->n];
		if (rr[i].type != type || !in_chain(rr[i].owner, names, nn))
			continue;
		memset(ss, 0, sizeof *ss);
		if (type == T_A && rr[i].rdlen == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, rr[i].rd, 4);
			h->n++;
		} else if (type == T_AAAA && rr[i].rdlen == 16) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, rr[i].rd, 16);
			h->n++;
		}
	}
}

/* lookup_host - A then AAAA of one name (both queries in flight together) */
static void lookup_host(smtp_dns *d, const char *name, haddrs *h, rrinfo *rr)
{
	struct qres qa, q6;

	memset(h, 0, sizeof *h);
	h->nx = 1;
	start_query(d, name, T_A, &qa);
	start_query(d, name, T_AAAA, &q6);
	run(d);
	collect_addrs(&qa, name, T_A, h, rr);
	collect_addrs(&q6, name, T_AAAA, h, rr);
	qfree(&qa);
	qfree(&q6);
}

/* wks_has_smtp - 1 if name has a WKS record for TCP port 25, 0 if not, -1 temp */
static int wks_has_smtp(smtp_dns *d, const char *name, rrinfo *rr)
{
	struct qres q;
	char names[MAX_CHAIN][256];
	int nrr = 0, nn, i, found = 0;

	start_query(d, name, T_WKS, &q);
	run(d);
	if (q.status == ARES_ENOTFOUND || q.status == ARES_ENODATA) {
		qfree(&q);
		return 0;
	}
	if (q.status != ARES_SUCCESS || parse_answers(q.buf, q.len, rr, MAX_RR, &nrr) != 0) {
		qfree(&q);
		return -1;
	}
	nn = chain(q.buf, q.len, rr, nrr, name, names);
	for (i = 0; i < nrr; i++) {
		/* RDATA: address(4) protocol(1) bitmap(rdlen-5); port 25 = byte 3, mask 0x40 */
		if (rr[i].type != T_WKS || !in_chain(rr[i].owner, names, nn) || rr[i].rdlen < 5)
			continue;
		if (rr[i].rd[4] != 6 /* TCP */)
			continue;
		if (rr[i].rdlen - 5 > 3 && (rr[i].rd[5 + 3] & 0x40)) {
			found = 1;
			break;
		}
	}
	qfree(&q);
	return found;
}

/* fill_entry - finish one list entry: port, printable form, address map */
static void fill_entry(smtp_dns *d, smtp_mxaddr *e, const char *name, int pref,
		       const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];

	memset(e, 0, sizeof *e);
	zstrlcpy(e->name, name, sizeof e->name);
	e->pref = pref;
	e->sa = *ss;
	e->port = d->o.port;
	e->dns_family = ss->ss_family;
	if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&e->sa;
		s6->sin6_port = htons((unsigned short)e->port);
		e->salen = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&e->sa;
		s4->sin_port = htons((unsigned short)e->port);
		e->salen = sizeof *s4;
	}
	smtp_addrmap_apply(&d->o, &e->sa, &e->salen, &e->port);
	if (e->sa.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&e->sa)->sin6_addr, ip, sizeof ip);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&e->sa)->sin_addr, ip, sizeof ip);
	zstrlcpy(e->ip, ip, sizeof e->ip);
}

/* add_host - append a host's addresses (A first, then AAAA) */
static void add_host(smtp_dns *d, smtp_mxlist *out, const char *name, int pref, const haddrs *h)
{
	int fam, i;

	for (fam = 0; fam < 2; fam++) {
		int want = fam == 0 ? AF_INET : AF_INET6;
		for (i = 0; i < h->n && out->n < SMTP_MX_MAX; i++) {
			if (h->sa[i].ss_family != want)
				continue;
			fill_entry(d, &out->a[out->n], name, pref, &h->sa[i]);
			out->n++;
		}
	}
}

/* v6_first - stable reorder of each preference group, IPv6 entries first
 * (by the family DNS gave, so the test address map does not hide it) */
static void v6_first(smtp_mxlist *out)
{
	size_t i = 0;
	static smtp_mxaddr tmp[SMTP_MX_MAX];

	while (i < out->n) {
		size_t j = i, k = 0, m;
		while (j < out->n && out->a[j].pref == out->a[i].pref)
			j++;
		for (m = i; m < j; m++)
			if (out->a[m].dns_family == AF_INET6)
				tmp[k++] = out->a[m];
		for (m = i; m < j; m++)
			if (out->a[m].dns_family != AF_INET6)
				tmp[k++] = out->a[m];
		memcpy(&out->a[i], tmp, k * sizeof tmp[0]);
		i = j;
	}
}

/* mx_cmp - order by preference */
static int mx_cmp(const void *a, const void *b)
{
	const mxhost *x = a, *y = b;
	return (x->pref > y->pref) - (x->pref < y->pref);
}

/* shuffle_groups - Fisher-Yates within each run of equal preference */
static void shuffle_groups(mxhost *mx, int n)
{
	int i = 0;

	while (i < n) {
		int j = i, k;
		while (j < n && mx[j].pref == mx[i].pref)
			j++;
		for (k = j - 1; k > i; k--) {
			int r = i + (int)arc4random_uniform((uint32_t)(k - i + 1));
			mxhost t = mx[k];
			mx[k] = mx[r];
			mx[r] = t;
		}
		i = j;
	}
}

/* is_me - does name equal our host name */
static int is_me(smtp_dns *d, const char *name)
{
	return d->o.myhostname != NULL && d->o.myhostname[0] != '\0' &&
	       name != NULL && name[0] != '\0' && name_eq(name, d->o.myhostname);
}

/* loops_back - an address that reaches this host and is not allowed:
 * not under allow_loopback and not rewritten by the test address map */
static int loops_back(smtp_dns *d, const struct sockaddr_storage *ss)
{
	struct sockaddr_storage t = *ss;
	socklen_t tl = sizeof t;
	int port = 0;

	if (d->o.allow_loopback || !smtp_addr_loops_back((const struct sockaddr *)ss))
		return 0;
	return !smtp_addrmap_apply(&d->o, &t, &tl, &port);
}

/* any_self - is any of a host's addresses ours; why says which */
static int any_self(smtp_dns *d, const haddrs *h, char *why, size_t whysz)
{
	char ip[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < h->n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&h->sa[i];
		int lb = loops_back(d, &h->sa[i]);
		if (!lb && !smtp_is_self_addr(sa, d->o.selfaddrs))
			continue;
		if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
		else
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
		snprintf(why, whysz, "[%s] is %s", ip, lb ? "a loopback address" :
			 "one of our addresses");
		return 1;
	}
	return 0;
}

/* query_mx - MX query following CNAME-only answers; fills mx[], canon */
static int query_mx(smtp_dns *d, const char *domain, mxhost *mx, int *nmx, int *nullmx,
		    char *canon, rrinfo *rr, int *astatus)
{
	char cur[256];
	int hop;

	*nmx = 0;
	*nullmx = 0;
	zstrlcpy(canon, domain, 256);
	if (zstrlcpy(cur, domain, sizeof cur) != Z_OK) {
		*astatus = ARES_EBADNAME;
		return -1;
	}
	for (hop = 0; hop < 8; hop++) {
		struct qres q;
		char names[MAX_CHAIN][256];
		int nrr = 0, nn, i, real = 0, nulls = 0;

		start_query(d, cur, T_MX, &q);
		run(d);
		*astatus = q.status;
		if (q.status != ARES_SUCCESS) {
			qfree(&q);
			return -1;
		}
		if (parse_answers(q.buf, q.len, rr, MAX_RR, &nrr) != 0) {
			qfree(&q);
			*astatus = ARES_EBADRESP;
			return -1;
		}
		nn = chain(q.buf, q.len, rr, nrr, cur, names);
		zstrlcpy(canon, names[nn - 1], 256);
		for (i = 0; i < nrr; i++) {
			mxhost *m;
			if (rr[i].type != T_MX || rr[i].rdlen < 3 || !in_chain(rr[i].owner, names, nn))
				continue;
			if (*nmx >= SMTP_MX_MAX)
				break;
			m = &mx[*nmx];
			m->pref = get16(rr[i].rd);
			if (expand(rr[i].rd + 2, q.buf, q.len, m->name, sizeof m->name, NULL) != 0)
				continue;
			if (m->name[0] == '\0' || strcmp(m->name, ".") == 0) {
				nulls++;
				continue;
			}
			real++;
			(*nmx)++;
		}
		qfree(&q);
		if (real == 0 && nulls > 0) {
			*nullmx = 1;
			return 0;
		}
		if (real > 0)
			return 0;
		if (nn > 1 && !name_eq(names[nn - 1], cur)) {
			/* only a CNAME: ask again for the target's MX */
			zstrlcpy(cur, names[nn - 1], sizeof cur);
			continue;
		}
		*astatus = ARES_ENODATA;
		return -1;
	}
	*astatus = ARES_ENODATA;
	return -1;
}

/* smtp_dns_resolve - destination domain to an ordered address list */
int smtp_dns_resolve(smtp_dns *d, const char *domain, smtp_mxlist *out, zbuf *why)
{
	static mxhost mx[SMTP_MX_MAX];
	static haddrs h;
	rrinfo *rr = NULL;
	int nmx = 0, nullmx = 0, ast = 0, i, rc;
	int cutoff = -1, anytemp = 0, tstatus = 0, wksdropped = 0, selfcut = 0;
	char selfname[256] = "", selfwhy[128] = "is our host name";

	memset(out, 0, sizeof *out);
	if (domain == NULL || domain[0] == '\0' || strlen(domain) > 253) {
		seterr(why, "bad domain name \"%s\"", domain ? domain : "");
		return SDNS_NXDOMAIN;
	}
	if (!d->o.use_mx)
		return smtp_dns_host_addrs(d, domain, out, why);
	rr = calloc(MAX_RR, sizeof *rr);
	if (rr == NULL) {
		seterr(why, "out of memory looking up MX for %s (will retry)", domain);
		return SDNS_TEMPFAIL;
	}
	if (query_mx(d, domain, mx, &nmx, &nullmx, out->canon, rr, &ast) != 0) {
		if (ast == ARES_ENOTFOUND || ast == ARES_EBADNAME) {
			seterr(why, "%s: no such domain", domain);
			rc = SDNS_NXDOMAIN;
			goto done;
		}
		if (ast != ARES_ENODATA) {
			seterr(why, "%s looking up MX for %s (will retry)", temp_text(ast), domain);
			rc = SDNS_TEMPFAIL;
			goto done;
		}
		/* implicit MX: the name exists but has no MX */
		out->implicit = 1;
		mx[0].pref = 0;
		zstrlcpy(mx[0].name, out->canon, sizeof mx[0].name);
		nmx = 1;
	}
	if (nullmx) {
		seterr(why, "%s publishes a null MX (RFC 7505): it accepts no mail", domain);
		rc = SDNS_NULLMX;
		goto done;
	}
	qsort(mx, (size_t)nmx, sizeof mx[0], mx_cmp);
	shuffle_groups(mx, nmx);

	for (i = 0; i < nmx && out->n < SMTP_MX_MAX; i++) {
		if (cutoff >= 0 && mx[i].pref >= cutoff)
			break;
		if (is_me(d, mx[i].name)) {
			cutoff = mx[i].pref;
			zstrlcpy(selfname, mx[i].name, sizeof selfname);
			break;
		}
		if (d->o.check_wks) {
			int w = wks_has_smtp(d, mx[i].name, rr);
			if (w < 0) {
				anytemp = 1;
				tstatus = ARES_ESERVFAIL;
				continue;
			}
			if (w == 0) {
				wksdropped++;
				continue;
			}
		}
		lookup_host(d, mx[i].name, &h, rr);
		if (any_self(d, &h, selfwhy, sizeof selfwhy) || (h.canon[0] && is_me(d, h.canon))) {
			cutoff = mx[i].pref;
			zstrlcpy(selfname, mx[i].name, sizeof selfname);
			break;
		}
		if (h.n == 0) {
			if (h.temp) {
				anytemp = 1;
				tstatus = h.tstatus;
			}
			continue;
		}
		add_host(d, out, mx[i].name, mx[i].pref, &h);
	}
	if (cutoff >= 0) {
		size_t k = 0, j;
		for (j = 0; j < out->n; j++)
			if (out->a[j].pref < cutoff)
				out->a[k++] = out->a[j];
		selfcut = 1;
		out->n = k;
	}
	if (d->o.prefer_v6)
		v6_first(out);
	if (out->n > 0) {
		rc = SDNS_OK;
		goto done;
	}
	if (anytemp) {
		seterr(why, "%s looking up the addresses of the MX hosts of %s (will retry)",
		       temp_text(tstatus), domain);
		rc = SDNS_TEMPFAIL;
	} else if (selfcut) {
		seterr(why, "%s: MX points back to us (%s %s): we are the best MX "
		       "but this is not a local domain", domain, selfname, selfwhy);
		rc = SDNS_SELF;
	} else if (wksdropped) {
		seterr(why, "%s: no MX host has a WKS record for SMTP", domain);
		rc = SDNS_NOWKS;
	} else if (out->implicit) {
		seterr(why, "%s: no MX and no address", domain);
		rc = SDNS_NOADDR;
	} else {
		seterr(why, "%s: no address for any MX host", domain);
		rc = SDNS_NOADDR;
	}
done:
	free(rr);
	return rc;
}

/* smtp_dns_host_addrs - A/AAAA of one host (no MX) */
int smtp_dns_host_addrs(smtp_dns *d, const char *host, smtp_mxlist *out, zbuf *why)
{
	static haddrs h;
	rrinfo *rr;
	struct sockaddr_storage ss;

	memset(out, 0, sizeof *out);
	if (host == NULL || host[0] == '\0' || strlen(host) > 253) {
		seterr(why, "bad host name \"%s\"", host ? host : "");
		return SDNS_NXDOMAIN;
	}
	zstrlcpy(out->canon, host, sizeof out->canon);
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
	}
	if (ss.ss_family != 0) {
		if (loops_back(d, &ss)) {
			seterr(why, "%s: address points back to us (loopback)", host);
			return SDNS_SELF;
		}
		fill_entry(d, &out->a[0], host, 0, &ss);
		out->n = 1;
		return SDNS_OK;
	}
	rr = calloc(MAX_RR, sizeof *rr);
	if (rr == NULL) {
		seterr(why, "out of memory looking up %s (will retry)", host);
		return SDNS_TEMPFAIL;
	}
	lookup_host(d, host, &h, rr);
	free(rr);
	if (h.canon[0])
		zstrlcpy(out->canon, h.canon, sizeof out->canon);
	{
		/* addresses that loop back are never a destination (-x) */
		int k = 0, i, looped = 0;
		for (i = 0; i < h.n; i++) {
			if (loops_back(d, &h.sa[i])) {
				looped++;
				continue;
			}
			h.sa[k++] = h.sa[i];
		}
		h.n = k;
		if (k == 0 && looped > 0) {
			seterr(why, "%s: host points back to us (only loopback addresses)", host);
			return SDNS_SELF;
		}
	}
	add_host(d, out, host, 0, &h);
	if (d->o.prefer_v6)
		v6_first(out);
	if (out->n > 0)
		return SDNS_OK;
	if (h.temp) {
		seterr(why, "%s looking up the address of %s (will retry)", temp_text(h.tstatus), host);
		return SDNS_TEMPFAIL;
	}
	if (h.nx) {
		seterr(why, "%s: no such host", host);
		return SDNS_NXDOMAIN;
	}
	seterr(why, "%s: host has no address", host);
	return SDNS_NOADDR;
}

/* smtp_dns_has_mx - does domain list mxhost among its MX records */
int smtp_dns_has_mx(smtp_dns *d, const char *domain, const char *mxhost_name)
{
	static mxhost mx[SMTP_MX_MAX];
	char canon[256];
	rrinfo *rr;
	int nmx = 0, nullmx = 0, ast = 0, i, rc = 0;

	if (domain == NULL || mxhost_name == NULL || strlen(domain) > 253)
		return 0;
	rr = calloc(MAX_RR, sizeof *rr);
	if (rr == NULL)
		return Z_ENOMEM;
	if (query_mx(d, domain, mx, &nmx, &nullmx, canon, rr, &ast) != 0) {
		rc = (ast == ARES_ENOTFOUND || ast == ARES_ENODATA || ast == ARES_EBADNAME) ? 0 : Z_EAGAIN;
		goto done;
	}
	for (i = 0; i < nmx; i++)
		if (name_eq(mx[i].name, mxhost_name)) {
			rc = 1;
			break;
		}
done:
	free(rr);
	return rc;
}

/* parse_map_addr - numeric address (IPv6 may be in brackets) into ss */
static int parse_map_addr(const char *s, size_t n, struct sockaddr_storage *ss)
{
	char buf[80];

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, buf, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* smtp_addrmap_apply - test-only address rewrite "FROM=TO[:PORT] ..." */
int smtp_addrmap_apply(const smtp_dns_opts *o, struct sockaddr_storage *sa, socklen_t *salen, int *port)
{
	const char *p;

	if (o == NULL || o->addrmap == NULL)
		return 0;
	p = o->addrmap;
	while (*p != '\0') {
		size_t n = strcspn(p, " \t,");
		const char *eq = memchr(p, '=', n);

		if (eq != NULL) {
			struct sockaddr_storage from, to;
			const char *t = eq + 1;
			size_t tn = n - (size_t)(t - p), an = tn;
			unsigned long newport = 0;
			const char *colon = NULL;

			/* TO is "a.b.c.d[:port]" or "[v6][:port]" or bare v6 without port */
			if (tn > 0 && t[0] == '[') {
				const char *rb = memchr(t, ']', tn);
				if (rb != NULL) {
					an = (size_t)(rb - t) + 1;
					if (an < tn && t[an] == ':')
						colon = t + an;
				}
			} else {
				const char *c1 = memchr(t, ':', tn);
				if (c1 != NULL && memchr(c1 + 1, ':', tn - (size_t)(c1 + 1 - t)) == NULL) {
					colon = c1;
					an = (size_t)(c1 - t);
				}
			}
			if (colon != NULL) {
				char pb[8];
				size_t pn = tn - (size_t)(colon + 1 - t);
				if (pn == 0 || pn >= sizeof pb)
					goto next;
				memcpy(pb, colon + 1, pn);
				pb[pn] = '\0';
				if (zparse_ulong(pb, 65535, &newport) != Z_OK || newport == 0)
					goto next;
			}
			if (parse_map_addr(p, (size_t)(eq - p), &from) != 0 ||
			    parse_map_addr(t, an, &to) != 0 || from.ss_family != sa->ss_family)
				goto next;
			if (sa->ss_family == AF_INET &&
			    ((struct sockaddr_in *)sa)->sin_addr.s_addr !=
			    ((struct sockaddr_in *)&from)->sin_addr.s_addr)
				goto next;
			if (sa->ss_family == AF_INET6 &&
			    memcmp(&((struct sockaddr_in6 *)sa)->sin6_addr,
				   &((struct sockaddr_in6 *)&from)->sin6_addr, 16) != 0)
				goto next;
			if (newport != 0)
				*port = (int)newport;
			*sa = to;
			if (to.ss_family == AF_INET) {
				((struct sockaddr_in *)sa)->sin_port = htons((unsigned short)*port);
				*salen = sizeof(struct sockaddr_in);
			} else {
				((struct sockaddr_in6 *)sa)->sin6_port = htons((unsigned short)*port);
				*salen = sizeof(struct sockaddr_in6);
			}
			return 1;
		}
next:
		p += n;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
	}
	return 0;
}

/* smtp_mxlist_cap - keep the first max entries of an ordered list */
size_t smtp_mxlist_cap(smtp_mxlist *l, size_t max)
{
	size_t dropped;

	if (l == NULL || max == 0 || l->n <= max)
		return 0;
	dropped = l->n - max;
	l->n = max;
	return dropped;
}
