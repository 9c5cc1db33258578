/*
 * NAME
 *	smtp_mx.c - MX resolution policy of the SMTP clients (libzmsmtp: the smtp
 *	agent, smtpsend, the library call)
 *
 * SUMMARY
 *	Turn a destination domain into an ordered list of addresses to try,
 *	over the lookups of the DNS layer (dns/zdns.h).
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
 *	One DNS channel (zdns_init) lives as long as the agent; the DNS
 *	layer does the queries, the CNAME chains and the null-MX rule
 *	(zmta-dns(3)).  o->servers (DNS_SERVERS), o->timeout_ms and o->tries
 *	go to it unchanged; an empty o->servers is an error, without it the
 *	system configuration is used.  Every DNS wait goes through
 *	o->poll(o->poll_arg, ...) when set (the agent's keepalive:
 *	smtp_poll() and its smtp_alive), poll(2) otherwise.  Default port
 *	25.  What is here is the agent's policy: ordering, self detection,
 *	-W, -6, the test address map and the address cap.
 *
 *	smtp_dns_resolve():
 *	- MX query (zdns_mx).  CNAMEs in the answer are followed; the end of
 *	  the chain is reported in out->canon (the domain itself when there
 *	  is none).  An answer holding only a CNAME makes a fresh MX query
 *	  for its target (at most 8 hops).
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
 *	  TCP and whose bitmap has port 25 (zdns_wks) is dropped; all
 *	  dropped: SDNS_NOWKS.
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
 *	the ordered list.
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
 *	DNS answers are outside input; they are parsed in the DNS layer
 *	(dns/zdns_msg.c) and reach this file as bounded lists.  A hostile
 *	DNS cannot point us at ourselves (loopback, our addresses).
 *
 * BUGS
 *	The additional section of MX answers is not used; every MX host has
 *	its own A and AAAA queries.
 *
 * SEE ALSO
 *	dns/zdns.c, smtp_conn.c, smtp(8), zmta-dns(3), RFC 5321 section 5,
 *	RFC 7505, RFC 974
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zbuf.h"
#include "zerr.h"
#include "zdns.h"
#include "smtp_conn.h"
#include "smtp_mx.h"

typedef struct mxhost {
	char name[256];
	int pref;
} mxhost;

/* the channel; the scratch space of one lookup lives here too (big: off
 * the stack, and no function-static buffers shared by every channel) */
struct smtp_dns {
	zdns *z;
	smtp_dns_opts o;
	char *servers, *addrmap, *myhostname, *selfaddrs;
	mxhost mx[SMTP_MX_MAX];          /* smtp_dns_resolve: the MX hosts in order */
	zdns_addrset h;                  /* the addresses of one host */
	smtp_mxaddr tmp[SMTP_MX_MAX];    /* v6_first's reorder */
};


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

/* smtp_dns_init - the agent's DNS channel and its policy options */
int smtp_dns_init(smtp_dns **dp, const smtp_dns_opts *o, zbuf *err)
{
	zdns_opts zo;
	smtp_dns *d;
	int rc, fail = 0;

	*dp = NULL;
	d = calloc(1, sizeof *d);
	if (d == NULL) {
		zbuf_setf(err, "out of memory");
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
		zbuf_setf(err, "out of memory");
		smtp_dns_free(d);
		return Z_ENOMEM;
	}
	if (d->o.port <= 0 || d->o.port > 65535)
		d->o.port = 25;
	memset(&zo, 0, sizeof zo);
	zo.servers = d->servers;
	zo.timeout_ms = d->o.timeout_ms;
	zo.tries = d->o.tries;
	zo.poll = d->o.poll;
	zo.poll_arg = d->o.poll_arg;
	rc = zdns_init(&d->z, &zo, err);
	if (rc != Z_OK) {
		smtp_dns_free(d);
		return rc;
	}
	*dp = d;
	return Z_OK;
}

/* smtp_dns_free - destroy the channel */
void smtp_dns_free(smtp_dns *d)
{
	if (d == NULL)
		return;
	zdns_free(d->z);
	free(d->servers);
	free(d->addrmap);
	free(d->myhostname);
	free(d->selfaddrs);
	free(d);
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
static void add_host(smtp_dns *d, smtp_mxlist *out, const char *name, int pref, const zdns_addrset *h)
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
static void v6_first(smtp_dns *d, smtp_mxlist *out)
{
	size_t i = 0;
	smtp_mxaddr *tmp = d->tmp;

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
	       name != NULL && name[0] != '\0' && zdns_name_eq(name, d->o.myhostname);
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
static int any_self(smtp_dns *d, const zdns_addrset *h, char *why, size_t whysz)
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

/* load_mx - the MX hosts of a zdns_mx answer, sorted, equal ones shuffled */
static int load_mx(const zdns_mxset *set, mxhost *mx)
{
	int i, n = 0;

	for (i = 0; i < set->n && n < SMTP_MX_MAX; i++) {
		if (zstrlcpy(mx[n].name, set->mx[i].host, sizeof mx[n].name) != Z_OK)
			continue;
		mx[n].pref = set->mx[i].pref;
		n++;
	}
	qsort(mx, (size_t)n, sizeof mx[0], mx_cmp);
	shuffle_groups(mx, n);
	return n;
}

/* smtp_dns_resolve - destination domain to an ordered address list */
int smtp_dns_resolve(smtp_dns *d, const char *domain, smtp_mxlist *out, zbuf *why)
{
	mxhost *mx = d->mx;
	zdns_addrset *h = &d->h;
	zdns_mxset *set = NULL;
	int nmx = 0, i, rc, st;
	int cutoff = -1, anytemp = 0, tstatus = 0, wksdropped = 0, selfcut = 0;
	char selfname[256] = "", selfwhy[128] = "is our host name";

	memset(out, 0, sizeof *out);
	if (domain == NULL || domain[0] == '\0' || strlen(domain) > 253) {
		zbuf_setf(why, "bad domain name \"%s\"", domain ? domain : "");
		return SDNS_NXDOMAIN;
	}
	if (!d->o.use_mx)
		return smtp_dns_host_addrs(d, domain, out, why);
	set = calloc(1, sizeof *set);
	if (set == NULL) {
		zbuf_setf(why, "out of memory looking up MX for %s (will retry)", domain);
		return SDNS_TEMPFAIL;
	}
	st = zdns_mx(d->z, domain, set);
	zstrlcpy(out->canon, set->canon[0] ? set->canon : domain, sizeof out->canon);
	if (st == ZDNS_NXDOMAIN) {
		zbuf_setf(why, "%s: no such domain", domain);
		rc = SDNS_NXDOMAIN;
		goto done;
	}
	if (st != ZDNS_OK && st != ZDNS_NODATA) {
		zbuf_setf(why, "%s looking up MX for %s (will retry)", zdns_status_text(st), domain);
		rc = SDNS_TEMPFAIL;
		goto done;
	}
	if (set->nullmx) {
		zbuf_setf(why, "%s publishes a null MX (RFC 7505): it accepts no mail", domain);
		rc = SDNS_NULLMX;
		goto done;
	}
	if (st == ZDNS_NODATA) {
		/* implicit MX: the name exists but has no MX */
		out->implicit = 1;
		mx[0].pref = 0;
		zstrlcpy(mx[0].name, out->canon, sizeof mx[0].name);
		nmx = 1;
	} else {
		nmx = load_mx(set, mx);
	}

	for (i = 0; i < nmx && out->n < SMTP_MX_MAX; i++) {
		if (cutoff >= 0 && mx[i].pref >= cutoff)
			break;
		if (is_me(d, mx[i].name)) {
			cutoff = mx[i].pref;
			zstrlcpy(selfname, mx[i].name, sizeof selfname);
			break;
		}
		if (d->o.check_wks) {
			int w = zdns_wks(d->z, mx[i].name, 6 /* TCP */, 25);
			if (w < 0) {
				anytemp = 1;
				tstatus = ZDNS_SERVFAIL;
				continue;
			}
			if (w == 0) {
				wksdropped++;
				continue;
			}
		}
		st = zdns_addrs(d->z, mx[i].name, h);
		if (any_self(d, h, selfwhy, sizeof selfwhy) || (h->canon[0] && is_me(d, h->canon))) {
			cutoff = mx[i].pref;
			zstrlcpy(selfname, mx[i].name, sizeof selfname);
			break;
		}
		if (h->n == 0) {
			if (zdns_temp(st)) {
				anytemp = 1;
				tstatus = st;
			}
			continue;
		}
		add_host(d, out, mx[i].name, mx[i].pref, h);
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
		v6_first(d, out);
	if (out->n > 0) {
		rc = SDNS_OK;
		goto done;
	}
	if (anytemp) {
		zbuf_setf(why, "%s looking up the addresses of the MX hosts of %s (will retry)",
		       zdns_status_text(tstatus), domain);
		rc = SDNS_TEMPFAIL;
	} else if (selfcut) {
		zbuf_setf(why, "%s: MX points back to us (%s %s): we are the best MX "
		       "but this is not a local domain", domain, selfname, selfwhy);
		rc = SDNS_SELF;
	} else if (wksdropped) {
		zbuf_setf(why, "%s: no MX host has a WKS record for SMTP", domain);
		rc = SDNS_NOWKS;
	} else if (out->implicit) {
		zbuf_setf(why, "%s: no MX and no address", domain);
		rc = SDNS_NOADDR;
	} else {
		zbuf_setf(why, "%s: no address for any MX host", domain);
		rc = SDNS_NOADDR;
	}
done:
	free(set);
	return rc;
}

/* smtp_dns_host_addrs - A/AAAA of one host (no MX) */
int smtp_dns_host_addrs(smtp_dns *d, const char *host, smtp_mxlist *out, zbuf *why)
{
	zdns_addrset *h = &d->h;
	struct sockaddr_storage ss;
	int st;

	memset(out, 0, sizeof *out);
	if (host == NULL || host[0] == '\0' || strlen(host) > 253) {
		zbuf_setf(why, "bad host name \"%s\"", host ? host : "");
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
			zbuf_setf(why, "%s: address points back to us (loopback)", host);
			return SDNS_SELF;
		}
		fill_entry(d, &out->a[0], host, 0, &ss);
		out->n = 1;
		return SDNS_OK;
	}
	st = zdns_addrs(d->z, host, h);
	if (h->canon[0])
		zstrlcpy(out->canon, h->canon, sizeof out->canon);
	{
		/* addresses that loop back are never a destination (-x) */
		int k = 0, i, looped = 0;
		for (i = 0; i < h->n; i++) {
			if (loops_back(d, &h->sa[i])) {
				looped++;
				continue;
			}
			h->sa[k++] = h->sa[i];
		}
		h->n = k;
		if (k == 0 && looped > 0) {
			zbuf_setf(why, "%s: host points back to us (only loopback addresses)", host);
			return SDNS_SELF;
		}
	}
	add_host(d, out, host, 0, h);
	if (d->o.prefer_v6)
		v6_first(d, out);
	if (out->n > 0)
		return SDNS_OK;
	if (zdns_temp(st)) {
		zbuf_setf(why, "%s looking up the address of %s (will retry)", zdns_status_text(st), host);
		return SDNS_TEMPFAIL;
	}
	if (st == ZDNS_NXDOMAIN) {
		zbuf_setf(why, "%s: no such host", host);
		return SDNS_NXDOMAIN;
	}
	zbuf_setf(why, "%s: host has no address", host);
	return SDNS_NOADDR;
}

/* smtp_dns_has_mx - does domain list mxhost among its MX records */
int smtp_dns_has_mx(smtp_dns *d, const char *domain, const char *mxhost_name)
{
	zdns_mxset *set;
	int i, st, rc = 0;

	if (domain == NULL || mxhost_name == NULL || strlen(domain) > 253)
		return 0;
	set = calloc(1, sizeof *set);
	if (set == NULL)
		return Z_ENOMEM;
	st = zdns_mx(d->z, domain, set);
	if (st != ZDNS_OK) {
		rc = zdns_temp(st) ? Z_EAGAIN : 0;
		goto done;
	}
	for (i = 0; i < set->n; i++)
		if (zdns_name_eq(set->mx[i].host, mxhost_name)) {
			rc = 1;
			break;
		}
done:
	free(set);
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
