/*
 * check_dns.c - unit tests for the DNS layer (dns/zdns.c, dns/zdns_msg.c).
 *
 * Two parts: stored replies (tests/fuzz/corpus/dns: real answers of the test
 * nsd and hand-made broken ones) through the in-memory parsers, and live
 * lookups against nsd serving tests/peers/mta.test.zone and
 * dns-faulty.py (SERVFAIL, REFUSED, timeouts, TC), both started on free
 * 127.0.0.1 ports by tests/unit/dnspeer.h.  The channel is always given a
 * DNS_SERVERS-style list.  The live part skips (77) without nsd.
 *
 * SECURITY
 *	Starts only its own DNS servers on 127.0.0.1 and stops them by PID;
 *	must never let c-ares ask the servers of /etc/resolv.conf.
 * SEE ALSO
 *	dns/zdns.c, dns/zdns_msg.c, tests/unit/dnspeer.h, zmta-dns(3)
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zbuf.h"
#include "zerr.h"
#include "zutil.h"
#include "dnspeer.h"
#include "zdns.h"

#ifndef DNS_PACKETDIR
#define DNS_PACKETDIR "tests/fuzz/corpus/dns"
#endif

static zdns_mxset MX;     /* big: keep off the stack */
static zdns_addrset AS;
static zdns_rr RR[ZDNS_RR_MAX];

/* packet - read one stored reply into b */
static void packet(const char *name, zbuf *b)
{
	char path[512];
	zbuf err = ZBUF_INIT(256);

	snprintf(path, sizeof path, "%s/%s", DNS_PACKETDIR, name);
	zbuf_reset(b);
	ck_assert_msg(zread_file(path, 65536, b, &err) == Z_OK, "%s: %s", path, zbuf_cstr(&err));
	zbuf_free(&err);
}

#define PB(b) ((const unsigned char *)(b).data)
#define PL(b) ((int)(b).len)

/* ip_of - printable address of entry i of AS */
static const char *ip_of(int i, char *buf, size_t n)
{
	const struct sockaddr_storage *ss = &AS.sa[i];

	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)n);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)n);
	return buf;
}

/* has_mx - is host among MX with pref */
static int has_mx(const zdns_mxset *m, const char *host, int pref)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (zdns_name_eq(m->mx[i].host, host) && m->mx[i].pref == pref)
			return 1;
	return 0;
}

START_TEST(test_parse_mx)
{
	zbuf b = ZBUF_INIT(65536);
	int co;

	packet("mx-multi", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "multi.mta.test", &MX, &co), ZDNS_OK);
	ck_assert_int_eq(MX.n, 4);
	ck_assert_int_eq(MX.nullmx, 0);
	ck_assert_int_eq(co, 0);
	ck_assert_str_eq(MX.canon, "multi.mta.test");
	ck_assert(has_mx(&MX, "dead.mta.test", 10));
	ck_assert(has_mx(&MX, "live1.mta.test", 20));
	ck_assert(has_mx(&MX, "live2.mta.test", 20));
	ck_assert(has_mx(&MX, "nohost.mta.test", 30));

	packet("mx-nullmx", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "nullmx.mta.test", &MX, &co), ZDNS_OK);
	ck_assert_int_eq(MX.n, 0);
	ck_assert_int_eq(MX.nullmx, 1);

	/* a null MX beside a real one is ignored */
	packet("hand-mx-null-and-real", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "loop.mta.test", &MX, &co), ZDNS_OK);
	ck_assert_int_eq(MX.n, 1);
	ck_assert_int_eq(MX.nullmx, 0);
	ck_assert_str_eq(MX.mx[0].host, "live1.mta.test");

	/* CNAME then the target's MX */
	packet("mx-cname", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "mxalias.mta.test", &MX, &co), ZDNS_OK);
	ck_assert_str_eq(MX.canon, "one.mta.test");
	ck_assert_int_eq(MX.n, 1);
	ck_assert_int_eq(co, 0);

	/* only a CNAME: the caller asks again for the target */
	packet("mx-cname-only", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "impalias.mta.test", &MX, &co), ZDNS_OK);
	ck_assert_int_eq(co, 1);
	ck_assert_int_eq(MX.n, 0);
	ck_assert_str_eq(MX.canon, "implicit.mta.test");

	/* only MX records of the name or its CNAME chain count: MX of the
	 * parent zone, of another domain and of a look-alike name are ignored */
	packet("hand-mx-foreign-owner", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "mxalias.mta.test", &MX, &co), ZDNS_OK);
	ck_assert_str_eq(MX.canon, "one.mta.test");
	ck_assert_int_eq(MX.n, 1);
	ck_assert_int_eq(co, 0);
	ck_assert(has_mx(&MX, "live1.mta.test", 10));
	ck_assert(!has_mx(&MX, "attacker.example", 1));
	/* MX records of other owners only (one a null MX): nothing, no null MX */
	packet("hand-mx-foreign-only", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "multi.mta.test", &MX, &co), ZDNS_OK);
	ck_assert_int_eq(MX.n, 0);
	ck_assert_int_eq(MX.nullmx, 0);
	ck_assert_int_eq(co, 0);
	ck_assert_str_eq(MX.canon, "multi.mta.test");

	/* 40 MX over TCP (> 512 bytes) */
	packet("mx-big-tcp", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "big.mta.test", &MX, &co), ZDNS_OK);
	ck_assert_int_eq(MX.n, 40);

	/* broken replies are errors, never partial lists */
	packet("hand-truncated", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "multi.mta.test", &MX, &co), ZDNS_BADRESP);
	packet("hand-ptr-loop", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "loop.mta.test", &MX, &co), ZDNS_BADRESP);
	packet("hand-mx-rdlen1", &b);
	ck_assert_int_eq(zdns_parse_mx(PB(b), PL(b), "loop.mta.test", &MX, &co), ZDNS_BADRESP);
	ck_assert_int_eq(zdns_parse_mx(NULL, 0, "x", &MX, &co), ZDNS_BADRESP);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_parse_addrs)
{
	zbuf b = ZBUF_INIT(65536);
	char ip[64];

	memset(&AS, 0, sizeof AS);
	packet("a-live2", &b);
	ck_assert_int_eq(zdns_parse_addrs(PB(b), PL(b), ZDNS_T_A, "live2.mta.test", &AS), ZDNS_OK);
	packet("aaaa-live2", &b);
	ck_assert_int_eq(zdns_parse_addrs(PB(b), PL(b), ZDNS_T_AAAA, "live2.mta.test", &AS), ZDNS_OK);
	ck_assert_int_eq(AS.n, 2);
	ck_assert_str_eq(ip_of(0, ip, sizeof ip), "127.0.0.1");
	ck_assert_str_eq(ip_of(1, ip, sizeof ip), "::1");
	ck_assert_str_eq(AS.canon, "");

	/* through a CNAME: the canonical name is kept */
	memset(&AS, 0, sizeof AS);
	packet("a-alias", &b);
	ck_assert_int_eq(zdns_parse_addrs(PB(b), PL(b), ZDNS_T_A, "alias.mta.test", &AS), ZDNS_OK);
	ck_assert_int_eq(AS.n, 1);
	ck_assert_str_eq(AS.canon, "live1.mta.test");

	/* an A reply has no AAAA */
	memset(&AS, 0, sizeof AS);
	packet("a-live2", &b);
	ck_assert_int_eq(zdns_parse_addrs(PB(b), PL(b), ZDNS_T_AAAA, "live2.mta.test", &AS), ZDNS_NODATA);
	ck_assert_int_eq(AS.n, 0);
	packet("hand-rdlen-long", &b);
	ck_assert_int_eq(zdns_parse_addrs(PB(b), PL(b), ZDNS_T_A, "live1.mta.test", &AS), ZDNS_BADRESP);
	ck_assert_int_eq(zdns_parse_addrs(PB(b), PL(b), ZDNS_T_MX, "live1.mta.test", &AS), ZDNS_FAIL);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_msg_walk)
{
	zbuf b = ZBUF_INIT(65536);
	char names[ZDNS_CHAIN_MAX][ZDNS_NAME_MAX];
	zdns_hdr h;
	int nrr, i, wks = 0;

	/* WKS bitmap: port 25 over TCP */
	packet("wks-live1", &b);
	ck_assert_int_eq(zdns_msg_header(PB(b), PL(b), &h), Z_OK);
	ck_assert_int_eq(h.qr, 1);
	ck_assert_int_eq(h.aa, 1);
	ck_assert_int_eq(h.ad, 0);
	ck_assert_int_eq(h.rcode, 0);
	ck_assert_int_eq(zdns_msg_answers(PB(b), PL(b), RR, ZDNS_RR_MAX, &nrr), Z_OK);
	ck_assert_int_eq(nrr, 1);
	ck_assert_int_eq(RR[0].type, ZDNS_T_WKS);
	ck_assert_str_eq(RR[0].owner, "live1.mta.test");
	ck_assert_uint_eq(RR[0].ttl, 60);
	ck_assert(zdns_wks_rdata_has(RR[0].rd, RR[0].rdlen, 6, 25));
	ck_assert(!zdns_wks_rdata_has(RR[0].rd, RR[0].rdlen, 6, 587));
	ck_assert(!zdns_wks_rdata_has(RR[0].rd, RR[0].rdlen, 17, 25));
	ck_assert(!zdns_wks_rdata_has(RR[0].rd, RR[0].rdlen, 6, 24));
	/* a bitmap too short for port 25, and a UDP one */
	packet("hand-wks-short", &b);
	ck_assert_int_eq(zdns_msg_answers(PB(b), PL(b), RR, ZDNS_RR_MAX, &nrr), Z_OK);
	ck_assert_int_eq(nrr, 2);
	for (i = 0; i < nrr; i++)
		wks += zdns_wks_rdata_has(RR[i].rd, RR[i].rdlen, 6, 25);
	ck_assert_int_eq(wks, 0);
	ck_assert(zdns_wks_rdata_has(RR[1].rd, RR[1].rdlen, 17, 25));

	/* the AD bit (set by a validating resolver) is read */
	packet("hand-ad-bit", &b);
	ck_assert_int_eq(zdns_msg_header(PB(b), PL(b), &h), Z_OK);
	ck_assert_int_eq(h.ad, 1);
	ck_assert_int_eq(h.ancount, 1);
	ck_assert_int_eq(zdns_msg_header(PB(b), 11, &h), Z_EPARSE);

	/* a CNAME loop ends at the chain limit */
	packet("hand-cname-loop", &b);
	ck_assert_int_eq(zdns_msg_answers(PB(b), PL(b), RR, ZDNS_RR_MAX, &nrr), Z_OK);
	ck_assert_int_eq(nrr, 2);
	ck_assert_int_eq(zdns_msg_chain(PB(b), PL(b), RR, nrr, "loop.mta.test", names), ZDNS_CHAIN_MAX);
	/* max caps what is kept */
	packet("mx-big-tcp", &b);
	ck_assert_int_eq(zdns_msg_answers(PB(b), PL(b), RR, 5, &nrr), Z_OK);
	ck_assert_int_eq(nrr, 5);
	/* broken */
	packet("hand-rdlen-long", &b);
	ck_assert_int_eq(zdns_msg_answers(PB(b), PL(b), RR, ZDNS_RR_MAX, &nrr), Z_EPARSE);
	packet("hand-ptr-loop", &b);
	ck_assert_int_eq(zdns_msg_answers(PB(b), PL(b), RR, ZDNS_RR_MAX, &nrr), Z_EPARSE);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_status)
{
	ck_assert_int_eq(zdns_temp(ZDNS_OK), 0);
	ck_assert_int_eq(zdns_temp(ZDNS_NXDOMAIN), 0);
	ck_assert_int_eq(zdns_temp(ZDNS_NODATA), 0);
	ck_assert_int_eq(zdns_temp(ZDNS_SERVFAIL), 1);
	ck_assert_int_eq(zdns_temp(ZDNS_TIMEOUT), 1);
	ck_assert_int_eq(zdns_temp(ZDNS_BADRESP), 1);
	ck_assert_str_eq(zdns_status_text(ZDNS_TIMEOUT), "DNS timeout");
	ck_assert_str_eq(zdns_status_text(ZDNS_SERVFAIL), "DNS server failure");
	ck_assert_str_eq(zdns_status_text(ZDNS_NOSERVER), "no DNS server reachable");
	ck_assert_str_eq(zdns_status_text(ZDNS_BADRESP), "DNS failure");
	ck_assert(zdns_name_eq("Live1.MTA.test.", "live1.mta.test"));
	ck_assert(!zdns_name_eq("live1.mta.test", "live1.mta.tes"));
}
END_TEST

static int polls;

/* count_poll - a poll hook that counts its calls */
static int count_poll(void *arg, struct pollfd *fds, unsigned long nfds, int ms)
{
	ck_assert_ptr_eq(arg, &polls);
	polls++;
	return poll(fds, (nfds_t)nfds, ms);
}

/* chan - a channel on servers */
static zdns *chan(const char *servers, int timeout_ms, int tries)
{
	zdns_opts o;
	zdns *d = NULL;
	zbuf err = ZBUF_INIT(512);

	memset(&o, 0, sizeof o);
	o.servers = servers;
	o.timeout_ms = timeout_ms;
	o.tries = tries;
	o.poll = count_poll;
	o.poll_arg = &polls;
	ck_assert_msg(zdns_init(&d, &o, &err) == Z_OK, "init: %s", zbuf_cstr(&err));
	zbuf_free(&err);
	return d;
}

START_TEST(test_live_mx)
{
	zdns *d = chan(nsd_servers, 1000, 2);

	polls = 0;
	ck_assert_int_eq(zdns_mx(d, "multi.mta.test", &MX), ZDNS_OK);
	ck_assert_int_gt(polls, 0);
	ck_assert_int_eq(MX.n, 4);
	ck_assert(has_mx(&MX, "live2.mta.test", 20));
	ck_assert_str_eq(MX.canon, "multi.mta.test");
	ck_assert_int_eq(zdns_mx(d, "ONE.Mta.Test.", &MX), ZDNS_OK);
	ck_assert_int_eq(MX.n, 1);
	ck_assert_int_eq(zdns_mx(d, "nullmx.mta.test", &MX), ZDNS_OK);
	ck_assert_int_eq(MX.nullmx, 1);
	ck_assert_int_eq(MX.n, 0);
	ck_assert_int_eq(zdns_mx(d, "mxalias.mta.test", &MX), ZDNS_OK);
	ck_assert_str_eq(MX.canon, "one.mta.test");
	ck_assert_str_eq(MX.mx[0].host, "live1.mta.test");
	/* CNAME to a name without MX: a second query, then NODATA at the target */
	ck_assert_int_eq(zdns_mx(d, "impalias.mta.test", &MX), ZDNS_NODATA);
	ck_assert_str_eq(MX.canon, "implicit.mta.test");
	ck_assert_int_eq(zdns_mx(d, "txtonly.mta.test", &MX), ZDNS_NODATA);
	ck_assert_str_eq(MX.canon, "txtonly.mta.test");
	ck_assert_int_eq(zdns_mx(d, "nonexistent.mta.test", &MX), ZDNS_NXDOMAIN);
	ck_assert_int_eq(zdns_mx(d, "", &MX), ZDNS_NXDOMAIN);
	/* TC over UDP: c-ares asks again over TCP */
	ck_assert_int_eq(zdns_mx(d, "big.mta.test", &MX), ZDNS_OK);
	ck_assert_int_eq(MX.n, 40);
	zdns_free(d);
}
END_TEST

START_TEST(test_live_addrs)
{
	zdns *d = chan(nsd_servers, 1000, 2);
	char ip[64];

	ck_assert_int_eq(zdns_addrs(d, "live2.mta.test", &AS), ZDNS_OK);
	ck_assert_int_eq(AS.n, 2);
	ck_assert_str_eq(ip_of(0, ip, sizeof ip), "127.0.0.1");
	ck_assert_str_eq(ip_of(1, ip, sizeof ip), "::1");
	ck_assert_int_eq(AS.status4, ZDNS_OK);
	ck_assert_int_eq(AS.status6, ZDNS_OK);
	ck_assert_int_eq(zdns_addrs(d, "live6.mta.test", &AS), ZDNS_OK);
	ck_assert_int_eq(AS.n, 1);
	ck_assert_int_eq(AS.status4, ZDNS_NODATA);
	ck_assert_int_eq(zdns_addrs(d, "alias.mta.test", &AS), ZDNS_OK);
	ck_assert_str_eq(AS.canon, "live1.mta.test");
	ck_assert_int_eq(zdns_addrs(d, "nohost.mta.test", &AS), ZDNS_NXDOMAIN);
	ck_assert_int_eq(zdns_addrs(d, "multi.mta.test", &AS), ZDNS_NODATA);
	ck_assert_int_eq(AS.n, 0);
	ck_assert_int_eq(zdns_wks(d, "live1.mta.test", 6, 25), 1);
	ck_assert_int_eq(zdns_wks(d, "live1.mta.test", 6, 110), 0);
	ck_assert_int_eq(zdns_wks(d, "live2.mta.test", 6, 25), 0);
	ck_assert_int_eq(zdns_wks(d, "nohost.mta.test", 6, 25), 0);
	zdns_free(d);
}
END_TEST

/* the generic entry point: raw reply, rcode, AD bit (TLSA/TXT later) */
START_TEST(test_live_query)
{
	zdns *d = chan(nsd_servers, 1000, 2);
	zdns_answer a;
	int nrr = 0;

	ck_assert_int_eq(zdns_query(d, "txtonly.mta.test", ZDNS_T_TXT, &a), ZDNS_OK);
	ck_assert_ptr_nonnull(a.buf);
	ck_assert_int_eq(a.rcode, 0);
	ck_assert_int_eq(a.ad, 0);
	ck_assert_int_eq(zdns_msg_answers(a.buf, a.len, RR, ZDNS_RR_MAX, &nrr), Z_OK);
	ck_assert_int_eq(nrr, 1);
	ck_assert_int_eq(RR[0].type, ZDNS_T_TXT);
	ck_assert_int_eq(RR[0].rdlen, 13);
	ck_assert_int_eq(memcmp(RR[0].rd, "\014nothing here", 13), 0);
	zdns_answer_free(&a);
	ck_assert_int_eq(zdns_query(d, "live1.mta.test", ZDNS_T_TLSA, &a), ZDNS_NODATA);
	ck_assert_int_eq(a.rcode, 0);
	zdns_answer_free(&a);
	ck_assert_int_eq(zdns_query(d, "nonexistent.mta.test", ZDNS_T_TLSA, &a), ZDNS_NXDOMAIN);
	ck_assert_int_eq(a.rcode, 3);
	zdns_answer_free(&a);
	zdns_free(d);
}
END_TEST

START_TEST(test_servers)
{
	zdns_opts o;
	zdns *d = NULL;
	zbuf err = ZBUF_INIT(512);
	char dead[64], two[160];

	memset(&o, 0, sizeof o);
	o.servers = "not a server list";
	ck_assert_int_eq(zdns_init(&d, &o, &err), Z_EPARSE);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "DNS_SERVERS"));
	/* empty is an error, never a silent fall-back to /etc/resolv.conf */
	o.servers = "";
	ck_assert_int_eq(zdns_init(&d, &o, &err), Z_EPARSE);
	ck_assert_ptr_null(d);
	/* nothing listens: temporary */
	snprintf(dead, sizeof dead, "127.0.0.1:%d", free_port());
	d = chan(dead, 300, 1);
	ck_assert(zdns_temp(zdns_mx(d, "multi.mta.test", &MX)));
	zdns_free(d);
	/* a dead first server, nsd second: falls over */
	snprintf(two, sizeof two, "%s,%s", dead, nsd_servers);
	d = chan(two, 300, 2);
	ck_assert_int_eq(zdns_mx(d, "one.mta.test", &MX), ZDNS_OK);
	zdns_free(d);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_faulty)
{
	zdns *d;

	if (faulty_servers[0] == '\0') {
		fprintf(stderr, "check_dns: dns-faulty.py not running (python3-dnslib?): fault tests skipped\n");
		return;
	}
	d = chan(faulty_servers, 300, 1);
	ck_assert_int_eq(zdns_mx(d, "servfail.mta.test", &MX), ZDNS_SERVFAIL);
	ck_assert_int_eq(zdns_mx(d, "refused.mta.test", &MX), ZDNS_REFUSED);
	ck_assert_int_eq(zdns_mx(d, "drop.mta.test", &MX), ZDNS_TIMEOUT);
	ck_assert_int_eq(zdns_addrs(d, "servfail.mta.test", &AS), ZDNS_SERVFAIL);
	ck_assert_int_eq(AS.status4, ZDNS_SERVFAIL);
	ck_assert_int_eq(zdns_wks(d, "servfail.mta.test", 6, 25), -ZDNS_SERVFAIL);
	ck_assert_int_eq(zdns_mx(d, "tc.mta.test", &MX), ZDNS_OK);
	ck_assert_int_eq(MX.n, 1);
	zdns_free(d);
}
END_TEST

static Suite *dns_suite(int live)
{
	Suite *s = suite_create("dns");
	TCase *t = tcase_create("packets"), *l;

	tcase_add_test(t, test_parse_mx);
	tcase_add_test(t, test_parse_addrs);
	tcase_add_test(t, test_msg_walk);
	tcase_add_test(t, test_status);
	suite_add_tcase(s, t);
	if (!live)
		return s;
	l = tcase_create("nsd");
	tcase_add_unchecked_fixture(l, setup_servers, teardown_servers);
	tcase_set_timeout(l, 60);
	tcase_add_test(l, test_live_mx);
	tcase_add_test(l, test_live_addrs);
	tcase_add_test(l, test_live_query);
	tcase_add_test(l, test_servers);
	tcase_add_test(l, test_faulty);
	suite_add_tcase(s, l);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed, live = access(NSD, X_OK) == 0;

	if (!live)
		fprintf(stderr, "check_dns: %s not installed, live lookups skipped\n", NSD);
	dnspeer_name = "check_dns";
	/* bound the whole run, servers included */
	alarm(300);
	sr = srunner_create(dns_suite(live));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	teardown_servers();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
