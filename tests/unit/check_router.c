/*
 * NAME
 *	check_router - unit tests of librouter (router/route.c)
 * SUMMARY
 *	router.conf parsing and its errors, aliases (includes, programs,
 *	files, owner-, loops, duplicates), routes, virtual maps, smarthost
 *	and sub-addressing.
 * DESCRIPTION
 *	Local users come from a fixed table (rt_set_userdb), so the tests do
 *	not depend on the machine's passwd file.
 * SEE ALSO
 *	route.h, router.conf(5), aliases(5)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "route.h"
#include "scratch.h"
#include "zbuf.h"

/* users - the test's user database */
static int users(const char *login, uid_t *uid)
{
	static const struct { const char *n; uid_t u; } tab[] = {
		{ "root", 0 }, { "alice", 1001 }, { "bob", 1002 }, { "carol", 1003 },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].n, login) == 0) {
			*uid = tab[i].u;
			return 1;
		}
	return 0;
}

/* mk - configuration from conf text plus optional aliases/virtual/routes */
static rt_config *mk(const char *conf, const char *aliases, uid_t owner, const char *virt,
		     const char *routes, zbuf *err)
{
	rt_config *c = rt_new();
	ck_assert_ptr_nonnull(c);
	rt_set_userdb(c, users);
	int rc = rt_parse_conf(c, "router.conf", NULL, conf, strlen(conf), err);
	if (rc == Z_OK && aliases)
		rc = rt_parse_aliases(c, "aliases", aliases, strlen(aliases), owner, err);
	if (rc == Z_OK && virt)
		rc = rt_parse_map(c, 'v', "virtual", virt, strlen(virt), err);
	if (rc == Z_OK && routes)
		rc = rt_parse_map(c, 'r', "routes", routes, strlen(routes), err);
	if (rc == Z_OK)
		rc = rt_finish(c, err);
	if (rc != Z_OK) {
		rt_free(c);
		return NULL;
	}
	return c;
}

/* has - result holds channel/host/user (priv -2 = any) */
static const rt_dest *has(const rt_result *r, const char *ch, const char *host, const char *user)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].channel, ch) == 0 && (host == NULL || strcmp(r->v[i].host, host) == 0) &&
		    strcmp(r->v[i].user, user) == 0)
			return &r->v[i];
	return NULL;
}

/* res - resolve addr into a fresh result */
static rt_result res(const rt_config *c, const char *addr)
{
	rt_result r = { 0 };
	zbuf err = ZBUF_INIT(512);
	ck_assert_int_eq(rt_resolve(c, addr, &r, &err), Z_OK);
	zbuf_free(&err);
	return r;
}

static const char *BASE = "myhostname mail.example.net\nlocaldomains example.net, other.test\n";

START_TEST(test_conf_good)
{
	zbuf err = ZBUF_INIT(512), rep = ZBUF_INIT(2048);
	const char *conf = "# comment\n\nmyhostname Mail.Example.NET\nmydomain example.net\n"
			   "localdomains a.test b.test\nroute example.org smtp![10.0.0.5]\n"
			   "route .lan smtp!gw.lan\nroute lists.example.org local\n"
			   "smarthost relay.example.com\nsubaddress -\nhop_limit 30\n"
			   "default_privilege 65533\nforward .qmail-fwd\n";
	rt_config *c = mk(conf, NULL, 0, NULL, NULL, &err);
	ck_assert_msg(c != NULL, "%s", zbuf_cstr(&err));
	ck_assert_str_eq(rt_myhostname(c), "mail.example.net");
	ck_assert_str_eq(rt_mydomain(c), "example.net");
	ck_assert_uint_eq(rt_hop_limit(c), 30);
	ck_assert(rt_is_local_domain(c, "B.TEST"));
	ck_assert(rt_is_local_domain(c, "localhost"));
	ck_assert(!rt_is_local_domain(c, "c.test"));
	ck_assert_int_eq(rt_report(c, &rep), Z_OK);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&rep), "routes 3\n"));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&rep), "smarthost smtp!relay.example.com\n"));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&rep), "forward .qmail-fwd\n"));
	rt_free(c);
	zbuf_free(&err);
	zbuf_free(&rep);
}
END_TEST

/* test_conf_separators - where the line parser cuts: blanks around the
 * value, tabs, commas in localdomains, CRLF, alias names with blanks
 * before the colon, quoted targets, continuations around a comment */
START_TEST(test_conf_separators)
{
	zbuf err = ZBUF_INIT(512), rep = ZBUF_INIT(2048);
	const char *conf = "myhostname\tMail.Example.NET \t\r\n"
			   "localdomains\t,a.test,,b.test\t, c.test ,\r\n"
			   "route\tx.test \t smtp!gw.test\t\n"
			   "  subaddress -\n";
	const char *al = "staff \t: alice ,\r\n"
			 "# a comment inside the entry\n"
			 "\t\"q, r\"@remote.test , \"\\\"x\"@remote.test\n"
			 "solo:bob\n";
	rt_config *c = mk(conf, al, 0, NULL, NULL, &err);
	ck_assert_msg(c != NULL, "%s", zbuf_cstr(&err));
	ck_assert_str_eq(rt_myhostname(c), "mail.example.net");
	ck_assert(rt_is_local_domain(c, "a.test"));
	ck_assert(rt_is_local_domain(c, "b.test"));
	ck_assert(rt_is_local_domain(c, "c.test"));
	ck_assert_int_eq(rt_report(c, &rep), Z_OK);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&rep), "localdomains 5\n"));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&rep), "subaddress -\n"));
	rt_result r = res(c, "u@x.test");
	ck_assert_ptr_nonnull(has(&r, "smtp", "gw.test", "u@x.test"));
	rt_result_free(&r);
	r = res(c, "staff");
	ck_assert_uint_eq(r.n, 3);
	ck_assert_ptr_nonnull(has(&r, "local", "alice", "alice"));
	ck_assert_ptr_nonnull(has(&r, "smtp", "remote.test", "\"q, r\"@remote.test"));
	rt_result_free(&r);
	r = res(c, "solo");
	ck_assert_ptr_nonnull(has(&r, "local", "bob", "bob"));
	rt_result_free(&r);
	rt_free(c);
	zbuf_free(&err);
	zbuf_free(&rep);
}
END_TEST

static const struct { const char *conf; const char *msg; } bad_confs[] = {
	{ "frobnicate yes\n", "router.conf:1: unknown keyword \"frobnicate\"" },
	{ "\nmyhostname\n", "router.conf:2: \"myhostname\" needs a value" },
	{ "myhostname bad..name\n", "router.conf:1: myhostname" },
	{ "route example.org smtp!bad host\n", "router.conf:1: route example.org" },
	{ "route example.org sm tp\n", "router.conf:1: route" },
	{ "route example.org !host\n", "router.conf:1: route example.org: channel name missing" },
	{ "hop_limit 0\n", "router.conf:1: hop_limit" },
	{ "hop_limit many\n", "router.conf:1: hop_limit" },
	{ "subaddress ++\n", "router.conf:1: subaddress" },
	{ "default_privilege 0\n", "router.conf:1: default_privilege" },
	{ "forward ../x\n", "router.conf:1: forward" },
	{ "forward ..\n", "router.conf:1: forward" },
	{ "localdomains ok.test bad_dom!\n", "router.conf:1: \"bad_dom!\"" },
	{ "include /nonexistent/zmta-router.conf\n", "router.conf:1: cannot read" },
	{ "route a.test smtp!x\nroute A.test smtp!y\n", "router.conf:2: duplicate route" },
};

START_TEST(test_conf_bad)
{
	zbuf err = ZBUF_INIT(1024);
	rt_config *c = mk(bad_confs[_i].conf, NULL, 0, NULL, NULL, &err);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(zbuf_cstr(&err), bad_confs[_i].msg) != NULL, "case %d: got \"%s\"", _i,
		      zbuf_cstr(&err));
	zbuf_free(&err);
}
END_TEST

START_TEST(test_conf_include_file)
{
	char dir[400], p1[500], p2[500], p3[500];
	zbuf err = ZBUF_INIT(1024);
	snprintf(dir, sizeof(dir), "%s/incXXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/router.conf", dir);
	snprintf(p2, sizeof(p2), "%s/more.conf", dir);
	snprintf(p3, sizeof(p3), "%s/aliases", dir);
	FILE *f = fopen(p1, "w");
	fputs("myhostname h.test\ninclude more.conf\naliases aliases\n", f);
	fclose(f);
	f = fopen(p2, "w");
	fputs("route .lan smtp!gw.lan\n", f);
	fclose(f);
	f = fopen(p3, "w");
	fputs("postmaster: root\nabuse: root\n", f);
	fclose(f);
	rt_config *c;
	ck_assert_int_eq(rt_load(p1, &c, &err), Z_OK);
	ck_assert_int_eq(rt_changed(c), 0);
	zbuf rep = ZBUF_INIT(1024);
	rt_report(c, &rep);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&rep), "aliases 2\n"));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&rep), "routes 1\n"));
	/* a change is seen */
	f = fopen(p3, "a");
	fputs("webmaster: root\n", f);
	fclose(f);
	ck_assert_int_eq(rt_changed(c), 1);
	rt_free(c);
	/* an error in an included file names that file and line */
	f = fopen(p2, "w");
	fputs("route .lan smtp!gw.lan\nroute x\n", f);
	fclose(f);
	zbuf_reset(&err);
	ck_assert_int_ne(rt_load(p1, &c, &err), Z_OK);
	ck_assert_msg(strstr(zbuf_cstr(&err), "more.conf:2:") != NULL, "%s", zbuf_cstr(&err));
	zbuf_free(&err);
	zbuf_free(&rep);
}
END_TEST

START_TEST(test_local_users)
{
	zbuf err = ZBUF_INIT(512);
	rt_config *c = mk(BASE, NULL, 0, NULL, NULL, &err);
	ck_assert_ptr_nonnull(c);
	rt_result r = res(c, "Alice@Example.NET");
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.v[0].channel, "local");
	ck_assert_str_eq(r.v[0].host, "alice");
	ck_assert_str_eq(r.v[0].user, "alice");
	ck_assert_int_eq(r.v[0].priv, 1001);
	rt_result_free(&r);
	/* sub-addressing */
	r = res(c, "<bob+lists@other.test>");
	ck_assert_ptr_nonnull(has(&r, "local", "bob", "bob"));
	rt_result_free(&r);
	/* unqualified, myhostname */
	r = res(c, "carol");
	ck_assert_ptr_nonnull(has(&r, "local", "carol", "carol"));
	rt_result_free(&r);
	r = res(c, "carol@mail.example.net");
	ck_assert_ptr_nonnull(has(&r, "local", "carol", "carol"));
	rt_result_free(&r);
	/* unknown: error quad, 5.1.1 */
	r = res(c, "nobody-here@example.net");
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.v[0].channel, "error");
	ck_assert_str_eq(r.v[0].status, "5.1.1");
	ck_assert_str_eq(r.v[0].user, "nobody-here@example.net");
	rt_result_free(&r);
	/* postmaster falls back to root */
	r = res(c, "Postmaster");
	ck_assert_ptr_nonnull(has(&r, "local", "root", "root"));
	rt_result_free(&r);
	/* programs are not envelope addresses */
	r = res(c, "|/bin/sh");
	ck_assert_str_eq(r.v[0].channel, "error");
	rt_result_free(&r);
	rt_free(c);
	/* sub-addressing off */
	c = mk("myhostname h.test\nsubaddress none\n", NULL, 0, NULL, NULL, &err);
	r = res(c, "bob+x@h.test");
	ck_assert_str_eq(r.v[0].channel, "error");
	rt_result_free(&r);
	rt_free(c);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_aliases)
{
	zbuf err = ZBUF_INIT(512);
	const char *al =
		"# staff\n"
		"staff: alice, bob,\n"
		"   carol@remote.test\n# a comment inside the entry\n"
		"list: alice, \"|/usr/bin/procmail -a x\", /var/log/list.log, \\bob\n"
		"owner-list: carol\n"
		"bob: bob, alice\n"
		"a1: a2\na2: a3\na3: a1\n"
		"dup: alice, alice, staff\n"
		"deep1: deep2\ndeep2: deep3\ndeep3: deep4\ndeep4: alice\n";
	rt_config *c = mk(BASE, al, 0, NULL, NULL, &err);
	ck_assert_msg(c != NULL, "%s", zbuf_cstr(&err));
	rt_result r = res(c, "staff@example.net");
	ck_assert_uint_eq(r.n, 3);
	ck_assert_ptr_nonnull(has(&r, "local", "alice", "alice"));
	ck_assert_ptr_nonnull(has(&r, "smtp", "remote.test", "carol@remote.test"));
	/* bob is an alias of itself plus alice: the user bob */
	ck_assert_ptr_nonnull(has(&r, "local", "bob", "bob"));
	ck_assert_str_eq(r.v[0].sender, "");
	rt_result_free(&r);
	/* list: owner- becomes the sender; programs and files run as nobody */
	r = res(c, "list");
	ck_assert_uint_eq(r.n, 4);
	const rt_dest *d = has(&r, "local", "nobody", "|/usr/bin/procmail -a x");
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->priv, 65534);
	ck_assert_str_eq(d->sender, "owner-list@mail.example.net");
	ck_assert_ptr_nonnull(has(&r, "local", "nobody", "/var/log/list.log"));
	ck_assert_ptr_nonnull(has(&r, "local", "bob", "bob"));   /* \bob: no alias */
	rt_result_free(&r);
	/* a cycle is a 5.4.6 error */
	r = res(c, "a1");
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.v[0].channel, "error");
	ck_assert_str_eq(r.v[0].status, "5.4.6");
	rt_result_free(&r);
	/* duplicates suppressed */
	r = res(c, "dup");
	ck_assert_uint_eq(r.n, 3);
	rt_result_free(&r);
	r = res(c, "deep1+tag");
	ck_assert_uint_eq(r.n, 1);
	ck_assert_ptr_nonnull(has(&r, "local", "alice", "alice"));
	rt_result_free(&r);
	rt_free(c);
	/* a non-root owner gives that uid */
	c = mk(BASE, "prog: \"|/bin/true\"\n", 1002, NULL, NULL, &err);
	r = res(c, "prog");
	ck_assert_int_eq(r.v[0].priv, 1002);
	rt_result_free(&r);
	rt_free(c);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_alias_include)
{
	char path[500], al[700];
	zbuf err = ZBUF_INIT(512);
	snprintf(path, sizeof(path), "%s/members", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# members\nalice\nbob, x@remote.test\n\nincl\n", f);
	fclose(f);
	snprintf(al, sizeof(al), "incl: :include:%s\nmissing: :include:/nonexistent/zz\n", path);
	rt_config *c = mk(BASE, al, 0, NULL, NULL, &err);
	ck_assert_msg(c != NULL, "%s", zbuf_cstr(&err));
	rt_result r = res(c, "incl");
	/* includes itself: a loop reported once, the others delivered */
	ck_assert_ptr_nonnull(has(&r, "local", "alice", "alice"));
	ck_assert_ptr_nonnull(has(&r, "local", "bob", "bob"));
	ck_assert_ptr_nonnull(has(&r, "smtp", "remote.test", "x@remote.test"));
	rt_result_free(&r);
	r = res(c, "missing");
	ck_assert_str_eq(r.v[0].channel, "hold");
	rt_result_free(&r);
	rt_free(c);
	zbuf_free(&err);
}
END_TEST

static const struct { const char *al; const char *msg; } bad_aliases[] = {
	{ "novalue\n", "aliases:1: missing ':'" },
	{ "a: b\nempty:\n", "aliases:2: alias \"empty\" has no targets" },
	{ "  lead: x\n", "aliases:1: continuation line" },
	{ "a: b\nA: c\n", "aliases:2: duplicate alias \"a\"" },
	{ "x: :include:relative\n", "aliases:1: :include: needs an absolute path" },
	{ "x: \"|\"\n", "aliases:1: empty program" },
	{ "x: a@@b\n", "aliases:1: bad address" },
	{ "bad name: x\n", "aliases:1: bad character in alias name" },
	{ "x: y,\n\n z\n", "aliases:3: continuation line" },
};

START_TEST(test_aliases_bad)
{
	zbuf err = ZBUF_INIT(512);
	rt_config *c = mk(BASE, bad_aliases[_i].al, 0, NULL, NULL, &err);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(zbuf_cstr(&err), bad_aliases[_i].msg) != NULL, "case %d: got \"%s\"", _i,
		      zbuf_cstr(&err));
	zbuf_free(&err);
}
END_TEST

START_TEST(test_routes)
{
	zbuf err = ZBUF_INIT(512);
	const char *routes = "example.org smtp![10.0.0.5]\n.lan smtp!gw.lan\nlists.example.org local\n"
			     "blocked.test error!nosuchdomain\nuucp.test uucp!\nlmtp.test lmtp!127.0.0.1\n";
	rt_config *c = mk(BASE, "staff: alice\n", 0, NULL, routes, &err);
	ck_assert_msg(c != NULL, "%s", zbuf_cstr(&err));
	rt_result r = res(c, "x@example.org");
	ck_assert_ptr_nonnull(has(&r, "smtp", "[10.0.0.5]", "x@example.org"));
	rt_result_free(&r);
	r = res(c, "x@sub.example.org");     /* no .example.org route: default smtp */
	ck_assert_ptr_nonnull(has(&r, "smtp", "sub.example.org", "x@sub.example.org"));
	rt_result_free(&r);
	r = res(c, "y@a.b.LAN");
	ck_assert_ptr_nonnull(has(&r, "smtp", "gw.lan", "y@a.b.lan"));
	rt_result_free(&r);
	r = res(c, "staff@lists.example.org");
	ck_assert_ptr_nonnull(has(&r, "local", "alice", "alice"));
	rt_result_free(&r);
	r = res(c, "u@blocked.test");
	ck_assert_str_eq(r.v[0].channel, "error");
	ck_assert_str_eq(r.v[0].host, "nosuchdomain");
	rt_result_free(&r);
	r = res(c, "u@uucp.test");
	ck_assert_ptr_nonnull(has(&r, "uucp", "uucp.test", "u@uucp.test"));
	rt_result_free(&r);
	rt_free(c);
	/* default route and smarthost */
	c = mk("myhostname h.test\nsmarthost [192.0.2.1]\nroute near.test smtp!\n", NULL, 0, NULL, NULL, &err);
	ck_assert_msg(c != NULL, "%s", zbuf_cstr(&err));
	r = res(c, "far@far.test");
	ck_assert_ptr_nonnull(has(&r, "smtp", "[192.0.2.1]", "far@far.test"));
	rt_result_free(&r);
	r = res(c, "n@near.test");
	ck_assert_ptr_nonnull(has(&r, "smtp", "near.test", "n@near.test"));
	rt_result_free(&r);
	rt_free(c);
	c = mk("myhostname h.test\n", NULL, 0, NULL, ". smtp!hub.test\n", &err);
	r = res(c, "a@b.test");
	ck_assert_ptr_nonnull(has(&r, "smtp", "hub.test", "a@b.test"));
	rt_result_free(&r);
	rt_free(c);
	/* bad route table lines */
	ck_assert_ptr_null(mk("myhostname h.test\n", NULL, 0, NULL, "a.test\n", &err));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "routes:1:"));
	zbuf_reset(&err);
	ck_assert_ptr_null(mk("myhostname h.test\n", NULL, 0, NULL, "ok.test smtp\nbad!dom smtp\n", &err));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "routes:2:"));
	zbuf_free(&err);
}
END_TEST

START_TEST(test_virtual)
{
	zbuf err = ZBUF_INIT(512);
	const char *virt = "info@hosted.test alice, carol@remote.test\n"
			   "sales@hosted.test info@hosted.test\n"
			   "loop@hosted.test loop2@hosted.test\nloop2@hosted.test loop@hosted.test\n"
			   "@catchall.test bob\n"
			   "me@catchall.test   alice,\n  carol\n";
	rt_config *c = mk(BASE, NULL, 0, virt, NULL, &err);
	ck_assert_msg(c != NULL, "%s", zbuf_cstr(&err));
	rt_result r = res(c, "Info@Hosted.test");
	ck_assert_uint_eq(r.n, 2);
	ck_assert_ptr_nonnull(has(&r, "local", "alice", "alice"));
	ck_assert_ptr_nonnull(has(&r, "smtp", "remote.test", "carol@remote.test"));
	rt_result_free(&r);
	r = res(c, "sales+2026@hosted.test");
	ck_assert_uint_eq(r.n, 2);
	rt_result_free(&r);
	r = res(c, "nobody@hosted.test");
	ck_assert_str_eq(r.v[0].status, "5.1.1");
	rt_result_free(&r);
	r = res(c, "loop@hosted.test");
	ck_assert_str_eq(r.v[0].status, "5.4.6");
	rt_result_free(&r);
	r = res(c, "anything@catchall.test");
	ck_assert_ptr_nonnull(has(&r, "local", "bob", "bob"));
	rt_result_free(&r);
	r = res(c, "me@catchall.test");
	ck_assert_uint_eq(r.n, 2);
	ck_assert_ptr_nonnull(has(&r, "local", "carol", "carol"));
	rt_result_free(&r);
	rt_free(c);
	/* no programs from virtual maps */
	ck_assert_ptr_null(mk(BASE, NULL, 0, "x@v.test \"|/bin/sh\"\n", NULL, &err));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "virtual:1:"));
	zbuf_reset(&err);
	ck_assert_ptr_null(mk(BASE, NULL, 0, "novirt alice\n", NULL, &err));
	zbuf_free(&err);
}
END_TEST

START_TEST(test_limits)
{
	zbuf err = ZBUF_INIT(512), al = ZBUF_INIT(1u << 22);
	/* a list with more members than RT_MAX_RESULTS */
	zbuf_puts(&al, "big: ");
	for (int i = 0; i < RT_MAX_RESULTS + 5; i++)
		zbuf_printf(&al, "%su%d@remote.test", i ? ", " : "", i);
	zbuf_puts(&al, "\n");
	rt_config *c = mk(BASE, zbuf_cstr(&al), 0, NULL, NULL, &err);
	ck_assert_ptr_nonnull(c);
	rt_result r = { 0 };
	zbuf_reset(&err);
	ck_assert_int_eq(rt_resolve(c, "big", &r, &err), Z_ETOOBIG);
	rt_result_free(&r);
	/* over-long and line-breaking addresses */
	char longaddr[600];
	memset(longaddr, 'a', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	ck_assert_int_eq(rt_resolve(c, longaddr, &r, &err), Z_EPARSE);
	ck_assert_int_eq(rt_resolve(c, "a@b.test\nto x", &r, &err), Z_EPARSE);
	rt_result_free(&r);
	rt_free(c);
	zbuf_free(&err);
	zbuf_free(&al);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_conf_good);
	tcase_add_test(tc, test_conf_separators);
	tcase_add_loop_test(tc, test_conf_bad, 0, (int)(sizeof(bad_confs) / sizeof(bad_confs[0])));
	tcase_add_test(tc, test_conf_include_file);
	tcase_add_test(tc, test_local_users);
	tcase_add_test(tc, test_aliases);
	tcase_add_test(tc, test_alias_include);
	tcase_add_loop_test(tc, test_aliases_bad, 0, (int)(sizeof(bad_aliases) / sizeof(bad_aliases[0])));
	tcase_add_test(tc, test_routes);
	tcase_add_test(tc, test_virtual);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return scratch_run(s, "check_router");
}
