/*
 * NAME
 *	check_pol_grey - unit tests for greylisting, LMDB and Redis stores
 * SUMMARY
 *	The triplet key; the state machine with an injected clock (new,
 *	early, passed, allowed, both expiries, /24 and /64 networks) run
 *	against each store; two processes on one LMDB environment creating
 *	each triplet exactly once; a full LMDB map; Redis keys carry TTLs.
 * SYNOPSIS
 *	check_pol_grey (run by make check)
 *	ZT_REDIS=127.0.0.1:PORT check_pol_grey  (tests/integration/smtpd-policy.sh)
 * DESCRIPTION
 *	The Redis cases need a redis-server; the integration script starts
 *	one on a free port and runs this program with ZT_REDIS set.  Without
 *	it they pass with a note (make check runs them through that script).
 * DIAGNOSTICS
 *	libcheck's report.
 * SECURITY
 *	Test code; LMDB files live in the scratch directory.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtpserver/pol_grey.h
 */
#include <check.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pol_grey.h"
#include "scratch.h"

#define T0 1800000000L

/* dirpath - a directory name in the scratch dir */
static void dirpath(char *out, size_t n, const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, n, "%s/%s", t ? t : "/tmp", name);
}

/* chk - one check, asserting verdict and remaining */
static void chk(pol_grey *g, const char *ip, const char *s, const char *r, long now, int want, long wantrem)
{
	zbuf err = ZBUF_INIT(256);
	long rem = -1;
	int v = pol_grey_check(g, ip, s, r, (time_t)now, &rem, &err);

	ck_assert_msg(v == want, "%s %s %s @%ld: verdict %d want %d (%s)", ip, s, r, now - T0, v, want, zbuf_cstr(&err));
	if (wantrem >= 0)
		ck_assert_msg(rem == wantrem, "%s @%ld: remaining %ld want %ld", ip, now - T0, rem, wantrem);
	zbuf_free(&err);
}

/* scenario - the state machine, against any store; tag keeps runs apart */
static void scenario(pol_grey *g, const char *tag)
{
	char s[128], s2[128];
	zbuf err = ZBUF_INIT(256);
	long rem;

	snprintf(s, sizeof(s), "Sender-%s@Example.ORG", tag);
	snprintf(s2, sizeof(s2), "sender-%s@example.org", tag);
	chk(g, "192.0.2.10", s, "rcpt@example.net", T0, POL_GREY_NEW, 300);
	chk(g, "192.0.2.77", s2, "RCPT@example.net", T0 + 100, POL_GREY_EARLY, 200);
	chk(g, "192.0.2.10", s, "rcpt@example.net", T0 + 299, POL_GREY_EARLY, 1);
	chk(g, "192.0.2.10", s, "rcpt@example.net", T0 + 300, POL_GREY_PASSED, 0);
	chk(g, "::ffff:192.0.2.200", s, "rcpt@example.net", T0 + 301, POL_GREY_ALLOWED, 0);
	chk(g, "192.0.2.10", s, "other@example.net", T0 + 302, POL_GREY_NEW, 300);
	chk(g, "192.0.3.10", s, "rcpt@example.net", T0 + 303, POL_GREY_NEW, 300);
	/* the allow-list entry lives allow_ttl after its last use */
	chk(g, "192.0.2.10", s, "rcpt@example.net", T0 + 301 + 35 * 86400, POL_GREY_ALLOWED, 0);
	chk(g, "192.0.2.10", s, "rcpt@example.net", T0 + 301 + 70 * 86400 + 2, POL_GREY_NEW, 300);
	/* a pending triplet retried after the retry window starts over */
	chk(g, "198.51.100.1", s, "late@example.net", T0, POL_GREY_NEW, 300);
	chk(g, "198.51.100.1", s, "late@example.net", T0 + 2 * 86400 + 1, POL_GREY_NEW, 300);
	chk(g, "198.51.100.1", s, "late@example.net", T0 + 2 * 86400 + 301, POL_GREY_PASSED, 0);
	/* a clock that went back: the full delay */
	chk(g, "198.51.100.2", s, "back@example.net", T0 + 1000, POL_GREY_NEW, 300);
	chk(g, "198.51.100.2", s, "back@example.net", T0 + 10, POL_GREY_EARLY, 300);
	/* IPv6 /64 */
	chk(g, "2001:db8:1:2::1", "", "v6@example.net", T0, POL_GREY_NEW, 300);
	chk(g, "2001:db8:1:2:ffff::9", "<>", "v6@example.net", T0 + 400, POL_GREY_PASSED, 0);
	chk(g, "2001:db8:1:3::1", "", "v6@example.net", T0 + 401, POL_GREY_NEW, 300);
	ck_assert_int_eq(pol_grey_check(g, "nonsense", s, "x@y", T0, &rem, &err), Z_EPARSE);
	zbuf_free(&err);
}

START_TEST(test_key)
{
	pol_grey_cfg c;
	zbuf k = ZBUF_INIT(1024);

	pol_grey_defaults(&c);
	ck_assert_int_eq(pol_grey_key(&c, "192.0.2.99", "A@B.c", "D@E", &k), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&k), "192.0.2.0/24,a@b.c,d@e");
	ck_assert_int_eq(pol_grey_key(&c, "2001:db8:aa:bb:cc::1", NULL, "x", &k), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&k), "2001:db8:aa:bb::/64,<>,x");
	ck_assert_int_eq(pol_grey_key(&c, "::ffff:10.1.2.3", "", "x", &k), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&k), "10.1.2.0/24,<>,x");
	c.v4_prefix = 32;
	ck_assert_int_eq(pol_grey_key(&c, "10.1.2.3", "", "x", &k), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&k), "10.1.2.3/32,<>,x");
	c.v4_prefix = 20;
	ck_assert_int_eq(pol_grey_key(&c, "10.1.255.3", "", "x", &k), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&k), "10.1.240.0/20,<>,x");
	ck_assert_int_eq(pol_grey_key(&c, "10.1.2", "", "x", &k), Z_EPARSE);
	zbuf_free(&k);
}
END_TEST

START_TEST(test_result)
{
	pol_result r;

	pol_grey_result(POL_GREY_NEW, 300, &r);
	ck_assert_int_eq(r.verdict, POL_DEFER);
	ck_assert_int_eq(r.code, 451);
	ck_assert_str_eq(r.enh, "4.7.1");
	ck_assert_str_eq(r.text, "Greylisted, please try again in 300 seconds");
	pol_grey_result(POL_GREY_PASSED, 0, &r);
	ck_assert_int_eq(r.verdict, POL_ACCEPT);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_lmdb)
{
	char dir[400];
	zbuf err = ZBUF_INIT(512);
	pol_grey *g = NULL;
	long n;

	dirpath(dir, sizeof(dir), "grey-lmdb");
	ck_assert_msg(pol_grey_open_lmdb(&g, dir, 0, NULL, &err) == Z_OK, "%s", zbuf_cstr(&err));
	scenario(g, "lmdb");
	/* everything is stale a year later */
	n = pol_grey_expire(g, (time_t)(T0 + 365L * 86400), &err);
	ck_assert_msg(n >= 7, "expired %ld (%s)", n, zbuf_cstr(&err));
	ck_assert_int_eq(pol_grey_expire(g, (time_t)(T0 + 365L * 86400), &err), 0);
	pol_grey_close(g);
	/* state survives reopening */
	ck_assert_int_eq(pol_grey_open_lmdb(&g, dir, 0, NULL, &err), Z_OK);
	chk(g, "203.0.113.5", "a@b", "c@d", T0, POL_GREY_NEW, 300);
	pol_grey_close(g);
	ck_assert_int_eq(pol_grey_open_lmdb(&g, dir, 0, NULL, &err), Z_OK);
	chk(g, "203.0.113.5", "a@b", "c@d", T0 + 300, POL_GREY_PASSED, 0);
	pol_grey_close(g);
	ck_assert_int_eq(pol_grey_open_lmdb(&g, "/nonexistent/dir/x", 0, NULL, &err), Z_EIO);
	zbuf_free(&err);
}
END_TEST

#define NTRIP 60

/* racer - open the env and check every triplet once at the same time;
 * returns how many came back NEW, or -1 */
static int racer(const char *dir, const char *redis)
{
	zbuf err = ZBUF_INIT(512);
	pol_grey *g = NULL;
	int news = 0;
	char rcpt[64];

	if ((redis ? pol_grey_open_redis(&g, redis, "race:", 2000, NULL, &err)
		   : pol_grey_open_lmdb(&g, dir, 0, NULL, &err)) != Z_OK)
		return -1;
	for (int i = 0; i < NTRIP; i++) {
		long rem;
		int v;
		snprintf(rcpt, sizeof(rcpt), "r%d@example.net", i);
		v = pol_grey_check(g, "192.0.2.1", "race@example.org", rcpt, (time_t)T0, &rem, &err);
		if (v < 0) {
			news = -1;
			break;
		}
		news += v == POL_GREY_NEW;
	}
	pol_grey_close(g);
	zbuf_free(&err);
	return news;
}

/* race - two processes on one store: each triplet is NEW exactly once */
static void race(const char *dir, const char *redis)
{
	int fds[2], st, mine, theirs = -1;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int n = racer(dir, redis);
		if (write(fds[1], &n, sizeof(n)) != (ssize_t)sizeof(n))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	mine = racer(dir, redis);
	ck_assert_int_eq(read(fds[0], &theirs, sizeof(theirs)), (ssize_t)sizeof(theirs));
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_ge(mine, 0);
	ck_assert_int_ge(theirs, 0);
	ck_assert_msg(mine + theirs == NTRIP, "NEW %d + %d, want %d", mine, theirs, NTRIP);
}

START_TEST(test_lmdb_two_processes)
{
	char dir[400];

	dirpath(dir, sizeof(dir), "grey-race");
	race(dir, NULL);
}
END_TEST

START_TEST(test_lmdb_map_full)
{
	char dir[400], rcpt[64];
	zbuf err = ZBUF_INIT(512);
	pol_grey *g = NULL;
	long rem;
	int v = 0, i;

	dirpath(dir, sizeof(dir), "grey-full");
	ck_assert_int_eq(pol_grey_open_lmdb(&g, dir, 64 * 1024, NULL, &err), Z_OK);
	for (i = 0; i < 5000; i++) {
		snprintf(rcpt, sizeof(rcpt), "r%d@example.net", i);
		v = pol_grey_check(g, "192.0.2.1", "s@example.org", rcpt, (time_t)T0, &rem, &err);
		if (v < 0)
			break;
	}
	ck_assert_msg(v == Z_EIO, "map never filled (%d entries)", i);
	ck_assert_msg(strstr(zbuf_cstr(&err), "MDB_MAP_FULL") != NULL, "%s", zbuf_cstr(&err));
	/* far later everything has expired: the sweep makes room */
	zbuf_reset(&err);
	v = pol_grey_check(g, "192.0.2.1", "s@example.org", "new@example.net", (time_t)(T0 + 400L * 86400), &rem, &err);
	ck_assert_msg(v == POL_GREY_NEW, "%d %s", v, zbuf_cstr(&err));
	pol_grey_close(g);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_redis)
{
	const char *ep = getenv("ZT_REDIS");
	zbuf err = ZBUF_INIT(512);
	pol_grey *g = NULL;
	redisContext *c;
	redisReply *keys;
	char host[64];
	const char *colon;
	unsigned long port;

	if (ep == NULL || *ep == '\0') {
		fprintf(stderr, "check_pol_grey: ZT_REDIS not set, Redis cases not run here "
				"(tests/integration/smtpd-policy.sh runs them)\n");
		return;
	}
	ck_assert_msg(pol_grey_open_redis(&g, ep, "t1:", 2000, NULL, &err) == Z_OK, "%s", zbuf_cstr(&err));
	scenario(g, "redis");
	ck_assert_int_eq(pol_grey_expire(g, (time_t)T0, &err), 0);
	pol_grey_close(g);
	race(NULL, ep);
	/* every key has a TTL */
	colon = strrchr(ep, ':');
	ck_assert_ptr_nonnull(colon);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - ep), ep);
	ck_assert_int_eq(zparse_ulong(colon + 1, 65535, &port), Z_OK);
	c = redisConnect(host, (int)port);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->err, 0);
	keys = redisCommand(c, "KEYS t1:*");
	ck_assert_ptr_nonnull(keys);
	ck_assert_int_eq(keys->type, REDIS_REPLY_ARRAY);
	ck_assert_int_ge(keys->elements, 7);
	for (size_t i = 0; i < keys->elements; i++) {
		redisReply *t = redisCommand(c, "TTL %s", keys->element[i]->str);
		ck_assert_ptr_nonnull(t);
		ck_assert_msg(t->type == REDIS_REPLY_INTEGER && t->integer > 0, "%s has no TTL", keys->element[i]->str);
		freeReplyObject(t);
	}
	freeReplyObject(keys);
	redisFree(c);
	/* a dead server is an error, not a hang or a crash */
	ck_assert_int_eq(pol_grey_open_redis(&g, "127.0.0.1:1", "x:", 500, NULL, &err), Z_EIO);
	ck_assert_int_eq(pol_grey_open_redis(&g, "localhost:6379", "x:", 500, NULL, &err), Z_EPARSE);
	zbuf_free(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pol_grey");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_key);
	tcase_add_test(tc, test_result);
	tcase_add_test(tc, test_lmdb);
	tcase_add_test(tc, test_lmdb_two_processes);
	tcase_add_test(tc, test_lmdb_map_full);
	tcase_add_test(tc, test_redis);
	suite_add_tcase(s, tc);
	return scratch_run(s, "check_pol_grey");
}
