/*
 * check_smtp_mx.c - unit tests for smtpclient/smtp_mx.c (the agent's MX
 * policy over the DNS layer) against real DNS servers on loopback: nsd
 * serving tests/peers/mta.test.zone, and dns-faulty.py (python3-dnslib) for SERVFAIL, REFUSED and timeouts.
 * Both are started here on free 127.0.0.1 ports and stopped by their PIDs;
 * c-ares is always given DNS_SERVERS-style server lists, so the servers of
 * /etc/resolv.conf are never asked.  Skips (77) without nsd.
 *
 * SECURITY
 *	Starts only its own DNS servers on 127.0.0.1 and stops them by PID;
 *	must never let c-ares ask the servers of /etc/resolv.conf.
 * SEE ALSO
 *	smtpclient/smtp_mx.c, tests/unit/dnspeer.h, smtp(8)
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zbuf.h"
#include "dnspeer.h"
#include "smtp_conn.h"
#include "smtp_mx.h"

/* opts - options pointing at a server list */
static smtp_dns_opts opts(const char *servers)
{
	smtp_dns_opts o;

	memset(&o, 0, sizeof o);
	o.use_mx = 1;
	o.port = 25;
	o.servers = servers;
	o.myhostname = "zmta-test.invalid";
	o.timeout_ms = 1000;
	o.tries = 2;
	o.allow_loopback = 1;	/* the zone puts every MX on loopback */
	return o;
}

/* resolve - one lookup with a fresh channel */
static int resolve(const smtp_dns_opts *o, const char *domain, smtp_mxlist *l, zbuf *why)
{
	smtp_dns *d = NULL;
	zbuf err = ZBUF_INIT(512);
	int rc;

	rc = smtp_dns_init(&d, o, &err);
	ck_assert_msg(rc == Z_OK, "init: %s", zbuf_cstr(&err));
	zbuf_reset(why);
	rc = smtp_dns_resolve(d, domain, l, why);
	smtp_dns_free(d);
	zbuf_free(&err);
	return rc;
}

static smtp_mxlist L; /* big: keep off the stack */

/* count_poll - a DNS poll hook counting into the int its argument points to */
static int count_poll(void *arg, struct pollfd *fds, unsigned long nfds, int ms)
{
	(*(int *)arg)++;
	return poll(fds, (nfds_t)nfds, ms);
}

/* every DNS wait goes through the options' poll hook with its argument */
START_TEST(test_poll_hook)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int polls = 0, rc;

	o.poll = count_poll;
	o.poll_arg = &polls;
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "rc %d: %s", rc, zbuf_cstr(&why));
	ck_assert_int_gt(polls, 0);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_multi_order)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int run, first1 = 0, first2 = 0;

	for (run = 0; run < 30; run++) {
		int rc = resolve(&o, "multi.mta.test", &L, &why);
		size_t i;
		ck_assert_msg(rc == SDNS_OK, "rc %d: %s", rc, zbuf_cstr(&why));
		/* dead(10) A; live1(20) A; live2(20) A + AAAA; nohost skipped */
		ck_assert_int_eq(L.n, 4);
		ck_assert_int_eq(L.implicit, 0);
		ck_assert_str_eq(L.canon, "multi.mta.test");
		ck_assert_str_eq(L.a[0].name, "dead.mta.test");
		ck_assert_int_eq(L.a[0].pref, 10);
		ck_assert_str_eq(L.a[0].ip, "127.0.0.2");
		ck_assert_int_eq(L.a[0].port, 25);
		ck_assert_int_eq(ntohs(((struct sockaddr_in *)&L.a[0].sa)->sin_port), 25);
		ck_assert_int_eq(L.a[0].salen, sizeof(struct sockaddr_in));
		for (i = 1; i < 4; i++)
			ck_assert_int_eq(L.a[i].pref, 20);
		if (strcmp(L.a[1].name, "live1.mta.test") == 0) {
			first1++;
			ck_assert_str_eq(L.a[2].name, "live2.mta.test");
			ck_assert_str_eq(L.a[2].ip, "127.0.0.1");
			ck_assert_str_eq(L.a[3].ip, "::1");
		} else {
			first2++;
			ck_assert_str_eq(L.a[1].name, "live2.mta.test");
			/* without prefer_v6: a host's IPv4 before its IPv6 */
			ck_assert_str_eq(L.a[1].ip, "127.0.0.1");
			ck_assert_str_eq(L.a[2].ip, "::1");
			ck_assert_int_eq(L.a[2].salen, sizeof(struct sockaddr_in6));
			ck_assert_str_eq(L.a[3].name, "live1.mta.test");
		}
	}
	/* equal preferences are shuffled: both orders show up (p = 2^-29 to fail) */
	ck_assert_msg(first1 > 0 && first2 > 0, "live1 first %d, live2 first %d", first1, first2);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_prefer_v6)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc;

	o.prefer_v6 = 1;
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 4);
	ck_assert_str_eq(L.a[0].ip, "127.0.0.2");
	/* the IPv6 entry leads its preference group */
	ck_assert_str_eq(L.a[1].ip, "::1");
	ck_assert_str_eq(L.a[1].name, "live2.mta.test");
	ck_assert_int_eq(L.a[1].sa.ss_family, AF_INET6);
	ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&L.a[1].sa)->sin6_port), 25);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_one_and_port)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc;

	o.port = 2525;
	rc = resolve(&o, "one.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 1);
	ck_assert_str_eq(L.a[0].name, "live1.mta.test");
	ck_assert_int_eq(L.a[0].pref, 10);
	ck_assert_int_eq(L.a[0].port, 2525);
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&L.a[0].sa)->sin_port), 2525);
	/* trailing dot and case do not matter */
	rc = resolve(&o, "ONE.Mta.Test.", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 1);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_implicit)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc = resolve(&o, "implicit.mta.test", &L, &why);

	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.implicit, 1);
	ck_assert_int_eq(L.n, 1);
	ck_assert_str_eq(L.a[0].name, "implicit.mta.test");
	ck_assert_int_eq(L.a[0].pref, 0);
	ck_assert_str_eq(L.a[0].ip, "127.0.0.1");
	/* exists, no MX, no address */
	rc = resolve(&o, "txtonly.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_NOADDR);
	ck_assert_int_eq(L.n, 0);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_nullmx)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc = resolve(&o, "nullmx.mta.test", &L, &why);

	ck_assert_int_eq(rc, SDNS_NULLMX);
	ck_assert_str_eq(zbuf_cstr(&why),
			 "nullmx.mta.test publishes a null MX (RFC 7505): it accepts no mail");
	ck_assert_int_eq(L.n, 0);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_nxdomain)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc = resolve(&o, "nonexistent.mta.test", &L, &why);

	ck_assert_int_eq(rc, SDNS_NXDOMAIN);
	ck_assert_str_eq(zbuf_cstr(&why), "nonexistent.mta.test: no such domain");
	/* every MX host nonexistent */
	rc = resolve(&o, "nxmx.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_NOADDR);
	ck_assert_int_eq(L.n, 0);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_cname)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc;

	/* the domain is a CNAME to a name with MX */
	rc = resolve(&o, "mxalias.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_str_eq(L.canon, "one.mta.test");
	ck_assert_int_eq(L.n, 1);
	ck_assert_str_eq(L.a[0].name, "live1.mta.test");
	/* MX target is a CNAME: its address is found through it */
	rc = resolve(&o, "cnamemx.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_str_eq(L.canon, "cnamemx.mta.test");
	ck_assert_int_eq(L.n, 1);
	ck_assert_str_eq(L.a[0].name, "alias.mta.test");
	ck_assert_str_eq(L.a[0].ip, "127.0.0.1");
	/* a CNAME to a name without MX: implicit MX of the target */
	rc = resolve(&o, "impalias.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.implicit, 1);
	ck_assert_str_eq(L.canon, "implicit.mta.test");
	ck_assert_int_eq(L.n, 1);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_self)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc;

	/* our name is live1: drop pref >= 20, only dead remains */
	o.myhostname = "LIVE1.mta.test";
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 1);
	ck_assert_str_eq(L.a[0].name, "dead.mta.test");
	/* we are the only MX */
	rc = resolve(&o, "one.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_SELF);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&why), "best MX"));
	/* by address: 127.0.0.2 (dead, pref 10) is ours -> nothing left */
	o.myhostname = "zmta-test.invalid";
	o.selfaddrs = "192.0.2.1,127.0.0.2";
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_SELF);
	/* 127.0.0.1 is ours: live1/live2 (20) dropped, dead kept */
	o.selfaddrs = "127.0.0.1";
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 1);
	ck_assert_str_eq(L.a[0].name, "dead.mta.test");
	/* loopback alone is not self */
	o.selfaddrs = NULL;
	rc = resolve(&o, "one.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_OK);
	/* a name reached through a CNAME counts by its canonical name */
	o.myhostname = "live1.mta.test";
	rc = resolve(&o, "cnamemx.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_SELF);
	zbuf_free(&why);
}
END_TEST

/* loopback MX addresses without SMTP_TEST_ALLOW_LOOPBACK: always us */
START_TEST(test_loopback_self)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc;

	o.allow_loopback = 0;
	/* the only MX is 127.0.0.1: points back to us */
	rc = resolve(&o, "one.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_SELF);
	ck_assert_msg(strstr(zbuf_cstr(&why), "MX points back to us") != NULL, "%s",
		      zbuf_cstr(&why));
	ck_assert_msg(strstr(zbuf_cstr(&why), "loopback") != NULL, "%s", zbuf_cstr(&why));
	/* an IPv6-only MX on ::1 too */
	rc = resolve(&o, "v6.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_SELF);
	/* the best MX (dead, 127.0.0.2) already loops: nothing is left */
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_SELF);
	/* an address rewritten by the test map is the operator's: allowed */
	o.addrmap = "127.0.0.1=127.0.0.1:2601 ::1=127.0.0.1:2602";
	rc = resolve(&o, "one.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.a[0].port, 2601);
	/* -x: a host with only loopback addresses */
	o.addrmap = NULL;
	o.use_mx = 0;
	rc = resolve(&o, "live1.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_SELF);
	/* the test setting allows it */
	o.allow_loopback = 1;
	rc = resolve(&o, "live1.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_OK);
	o.use_mx = 1;
	rc = resolve(&o, "one.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_OK);
	zbuf_free(&why);
}
END_TEST

/* the address cap keeps the best entries in order */
START_TEST(test_mxlist_cap)
{
	static smtp_mxlist l;
	size_t i;

	memset(&l, 0, sizeof l);
	for (i = 0; i < 7; i++) {
		l.a[i].pref = (int)(10 * i);
		snprintf(l.a[i].name, sizeof l.a[i].name, "mx%zu", i);
	}
	l.n = 7;
	ck_assert_uint_eq(smtp_mxlist_cap(&l, 0), 0);	/* 0: no limit */
	ck_assert_uint_eq(l.n, 7);
	ck_assert_uint_eq(smtp_mxlist_cap(&l, 9), 0);
	ck_assert_uint_eq(l.n, 7);
	ck_assert_uint_eq(smtp_mxlist_cap(&l, 5), 2);
	ck_assert_uint_eq(l.n, 5);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(l.a[i].pref, (int)(10 * i));
	ck_assert_uint_eq(smtp_mxlist_cap(&l, 1), 4);
	ck_assert_str_eq(l.a[0].name, "mx0");
	ck_assert_uint_eq(smtp_mxlist_cap(NULL, 1), 0);
}
END_TEST

START_TEST(test_addrmap_dns)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc;

	o.addrmap = "127.0.0.2=127.0.0.1:2601 127.0.0.3=127.0.0.1:2602";
	rc = resolve(&o, "alldead.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 2);
	ck_assert_str_eq(L.a[0].name, "dead.mta.test");
	ck_assert_str_eq(L.a[0].ip, "127.0.0.1");
	ck_assert_int_eq(L.a[0].port, 2601);
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&L.a[0].sa)->sin_port), 2601);
	ck_assert_str_eq(L.a[1].name, "dead2.mta.test");
	ck_assert_int_eq(L.a[1].port, 2602);
	/* self detection sees the unmapped address */
	o.selfaddrs = "127.0.0.3";
	rc = resolve(&o, "alldead.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_OK);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.a[0].port, 2601);
	zbuf_free(&why);
}
END_TEST

START_TEST(test_wks)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc;

	o.check_wks = 1;
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 1);
	ck_assert_str_eq(L.a[0].name, "live1.mta.test");
	rc = resolve(&o, "alldead.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_NOWKS);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&why), "WKS"));
	zbuf_free(&why);
}
END_TEST

START_TEST(test_big_tcp)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc = resolve(&o, "big.mta.test", &L, &why);
	size_t i;

	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 40);
	for (i = 1; i < L.n; i++)
		ck_assert_int_gt(L.a[i].pref, L.a[i - 1].pref);
	ck_assert_str_eq(L.a[0].name, "mx00.live-long-name-for-padding.mta.test");
	zbuf_free(&why);
}
END_TEST

START_TEST(test_host_addrs_and_has_mx)
{
	smtp_dns_opts o = opts(nsd_servers);
	smtp_dns *d = NULL;
	zbuf why = ZBUF_INIT(1024), err = ZBUF_INIT(512);
	int rc;

	ck_assert_int_eq(smtp_dns_init(&d, &o, &err), Z_OK);
	rc = smtp_dns_host_addrs(d, "live2.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 2);
	ck_assert_str_eq(L.a[0].ip, "127.0.0.1");
	ck_assert_str_eq(L.a[1].ip, "::1");
	ck_assert_int_eq(smtp_dns_host_addrs(d, "nohost.mta.test", &L, &why), SDNS_NXDOMAIN);
	ck_assert_int_eq(smtp_dns_host_addrs(d, "multi.mta.test", &L, &why), SDNS_NOADDR);
	ck_assert_int_eq(smtp_dns_host_addrs(d, "192.0.2.5", &L, &why), SDNS_OK);
	ck_assert_str_eq(L.a[0].ip, "192.0.2.5");
	ck_assert_int_eq(smtp_dns_has_mx(d, "multi.mta.test", "LIVE2.mta.test."), 1);
	ck_assert_int_eq(smtp_dns_has_mx(d, "multi.mta.test", "live6.mta.test"), 0);
	ck_assert_int_eq(smtp_dns_has_mx(d, "nonexistent.mta.test", "live1.mta.test"), 0);
	ck_assert_int_eq(smtp_dns_has_mx(d, "mxalias.mta.test", "live1.mta.test"), 1);
	smtp_dns_free(d);
	/* -x through resolve(): use_mx = 0 */
	o.use_mx = 0;
	rc = resolve(&o, "live1.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_OK);
	ck_assert_int_eq(L.n, 1);
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_NOADDR);
	zbuf_free(&why);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_v6only)
{
	smtp_dns_opts o = opts(nsd_servers);
	zbuf why = ZBUF_INIT(1024);
	int rc = resolve(&o, "v6.mta.test", &L, &why);

	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 1);
	ck_assert_str_eq(L.a[0].ip, "::1");
	zbuf_free(&why);
}
END_TEST

START_TEST(test_dead_server)
{
	char servers[160], dead[64];
	smtp_dns_opts o;
	zbuf why = ZBUF_INIT(1024);
	int rc;

	/* nothing listens there: connection refused -> temporary */
	snprintf(dead, sizeof dead, "127.0.0.1:%d", free_port());
	o = opts(dead);
	o.timeout_ms = 300;
	o.tries = 1;
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_TEMPFAIL);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&why), "(will retry)"));
	/* a dead first server, nsd second: falls over */
	snprintf(servers, sizeof servers, "%s,%s", dead, nsd_servers);
	o = opts(servers);
	o.timeout_ms = 300;
	rc = resolve(&o, "one.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	zbuf_free(&why);
}
END_TEST

START_TEST(test_bad_servers)
{
	smtp_dns_opts o = opts("not a server list");
	smtp_dns *d = NULL;
	zbuf err = ZBUF_INIT(512);

	ck_assert_int_ne(smtp_dns_init(&d, &o, &err), Z_OK);
	ck_assert_ptr_null(d);
	ck_assert_int_gt(err.len, 0);
	/* empty is an error, never a silent fall-back to /etc/resolv.conf */
	o = opts("");
	ck_assert_int_eq(smtp_dns_init(&d, &o, &err), Z_EPARSE);
	ck_assert_ptr_null(d);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_faulty)
{
	smtp_dns_opts o;
	zbuf why = ZBUF_INIT(1024);
	int rc;

	if (faulty_servers[0] == '\0') {
		fprintf(stderr, "check_smtp_mx: dns-faulty.py not running (python3-dnslib?): fault tests skipped\n");
		return;
	}
	o = opts(faulty_servers);
	o.timeout_ms = 300;
	o.tries = 1;
	rc = resolve(&o, "servfail.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_TEMPFAIL);
	ck_assert_str_eq(zbuf_cstr(&why),
			 "DNS server failure looking up MX for servfail.mta.test (will retry)");
	rc = resolve(&o, "refused.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_TEMPFAIL);
	rc = resolve(&o, "drop.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_TEMPFAIL);
	ck_assert_str_eq(zbuf_cstr(&why), "DNS timeout looking up MX for drop.mta.test (will retry)");
	rc = resolve(&o, "slow.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_TEMPFAIL);
	/* the MX host's address lookup fails: nothing usable -> temporary */
	rc = resolve(&o, "mxfail.mta.test", &L, &why);
	ck_assert_int_eq(rc, SDNS_TEMPFAIL);
	/* TC over UDP, answer over TCP */
	rc = resolve(&o, "tc.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 1);
	/* the same zone through dnslib still resolves */
	rc = resolve(&o, "multi.mta.test", &L, &why);
	ck_assert_msg(rc == SDNS_OK, "%s", zbuf_cstr(&why));
	ck_assert_int_eq(L.n, 4);
	zbuf_free(&why);
}
END_TEST

static Suite *dns_suite(void)
{
	Suite *s = suite_create("smtp_mx");
	TCase *t = tcase_create("nsd");

	tcase_add_unchecked_fixture(t, setup_servers, teardown_servers);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_multi_order);
	tcase_add_test(t, test_poll_hook);
	tcase_add_test(t, test_prefer_v6);
	tcase_add_test(t, test_one_and_port);
	tcase_add_test(t, test_implicit);
	tcase_add_test(t, test_nullmx);
	tcase_add_test(t, test_nxdomain);
	tcase_add_test(t, test_cname);
	tcase_add_test(t, test_self);
	tcase_add_test(t, test_loopback_self);
	tcase_add_test(t, test_mxlist_cap);
	tcase_add_test(t, test_addrmap_dns);
	tcase_add_test(t, test_wks);
	tcase_add_test(t, test_big_tcp);
	tcase_add_test(t, test_host_addrs_and_has_mx);
	tcase_add_test(t, test_v6only);
	tcase_add_test(t, test_dead_server);
	tcase_add_test(t, test_bad_servers);
	tcase_add_test(t, test_faulty);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (access(NSD, X_OK) != 0) {
		fprintf(stderr, "check_smtp_mx: %s not installed, skipped\n", NSD);
		return 77;
	}
	dnspeer_name = "check_smtp_mx";
	/* bound the whole run, servers included */
	alarm(300);
	sr = srunner_create(dns_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	teardown_servers();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
