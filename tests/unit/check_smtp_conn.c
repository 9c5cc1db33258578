/*
 * check_smtp_conn.c - unit tests for smtpclient/smtp_conn.c (and the
 * address map of smtp_mx.c): destination parsing, connect with -L, -r,
 * -w, refused ports, UNIX sockets, self-address checks.  Every socket is on
 * 127.0.0.1 or in a temporary directory.
 *
 * SECURITY
 *	Opens sockets on 127.0.0.1 and in a private temporary directory only;
 *	must never connect anywhere else.  -r needs root and is skipped
 *	otherwise.
 * SEE ALSO
 *	smtpclient/smtp_conn.c, smtp(8)
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zbuf.h"
#include "smtp_conn.h"
#include "smtp_mx.h"

/* listen_lo - listening TCP socket on 127.0.0.1, ephemeral port */
static int listen_lo(int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* lo_addr - 127.0.0.1:port */
static struct sockaddr_in lo_addr(int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	return sin;
}

struct dcase {
	const char *in;
	int ok;
	enum smtp_dest_kind kind;
	const char *text; /* host, path or printable address */
	int port;         /* explicit port (out->port) */
	int saport;       /* port in sa for literals */
};

static const struct dcase dcases[] = {
	{ "UNIX:/var/run/lmtp", 1, SDEST_UNIX, "/var/run/lmtp", 0, 0 },
	{ "unix:/tmp/x.sock", 1, SDEST_UNIX, "/tmp/x.sock", 0, 0 },
	{ "[192.0.2.1]", 1, SDEST_LITERAL, "192.0.2.1", 0, 25 },
	{ "[192.0.2.1]:2525", 1, SDEST_LITERAL, "192.0.2.1", 2525, 2525 },
	{ "[IPv6:::1]:2525", 1, SDEST_LITERAL, "::1", 2525, 2525 },
	{ "[ipv6.::1]", 1, SDEST_LITERAL, "::1", 0, 25 },
	{ "[ipv6 ::1]", 1, SDEST_LITERAL, "::1", 0, 25 },
	{ "[IPv6:2001:db8::1]", 1, SDEST_LITERAL, "2001:db8::1", 0, 25 },
	{ "[2001:db8::2]:26", 1, SDEST_LITERAL, "2001:db8::2", 26, 26 },
	{ "host", 1, SDEST_HOST, "host", 0, 0 },
	{ "mx.example.org", 1, SDEST_HOST, "mx.example.org", 0, 0 },
	{ "host:2525", 1, SDEST_HOST, "host", 2525, 0 },
	{ "", 0, 0, NULL, 0, 0 },
	{ "[", 0, 0, NULL, 0, 0 },
	{ "[]", 0, 0, NULL, 0, 0 },
	{ "[1.2.3]", 0, 0, NULL, 0, 0 },
	{ "[1.2.3.4", 0, 0, NULL, 0, 0 },
	{ "[1.2.3.4]x", 0, 0, NULL, 0, 0 },
	{ "[1.2.3.4]:", 0, 0, NULL, 0, 0 },
	{ "[1.2.3.4]:0", 0, 0, NULL, 0, 0 },
	{ "[1.2.3.4]:65536", 0, 0, NULL, 0, 0 },
	{ "[IPv6:1.2.3.4]", 0, 0, NULL, 0, 0 },
	{ "[IPv6:]", 0, 0, NULL, 0, 0 },
	{ "[hostname]", 0, 0, NULL, 0, 0 },
	{ ":25", 0, 0, NULL, 0, 0 },
	{ "host:", 0, 0, NULL, 0, 0 },
	{ "host:abc", 0, 0, NULL, 0, 0 },
	{ "host:70000", 0, 0, NULL, 0, 0 },
	{ "host:25:26", 0, 0, NULL, 0, 0 },
	{ "ho st", 0, 0, NULL, 0, 0 },
	{ "a..b", 0, 0, NULL, 0, 0 },
	{ ".a", 0, 0, NULL, 0, 0 },
	{ "UNIX:", 0, 0, NULL, 0, 0 },
	{ "UNIX:relative/path", 0, 0, NULL, 0, 0 },
};

START_TEST(test_dest_parse)
{
	const struct dcase *c = &dcases[_i];
	smtp_dest d;
	zbuf err = ZBUF_INIT(512);
	int rc = smtp_dest_parse(c->in, 25, &d, &err);

	if (!c->ok) {
		ck_assert_msg(rc == Z_EPARSE, "\"%s\" should fail, rc %d", c->in, rc);
		ck_assert_msg(err.len > 0, "\"%s\": no error text", c->in);
		zbuf_free(&err);
		return;
	}
	ck_assert_msg(rc == Z_OK, "\"%s\": %s", c->in, zbuf_cstr(&err));
	ck_assert_int_eq(d.kind, c->kind);
	ck_assert_int_eq(d.port, c->port);
	if (c->kind == SDEST_UNIX) {
		ck_assert_str_eq(d.path, c->text);
	} else if (c->kind == SDEST_HOST) {
		ck_assert_str_eq(d.host, c->text);
	} else {
		char ip[64];
		int port;
		if (d.sa.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&d.sa;
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
			port = ntohs(s6->sin6_port);
			ck_assert_int_eq(d.salen, sizeof *s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&d.sa;
			ck_assert_int_eq(d.sa.ss_family, AF_INET);
			inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
			port = ntohs(s4->sin_port);
			ck_assert_int_eq(d.salen, sizeof *s4);
		}
		ck_assert_str_eq(ip, c->text);
		ck_assert_int_eq(port, c->saport);
	}
	zbuf_free(&err);
}
END_TEST

START_TEST(test_dest_long)
{
	char big[2000];
	smtp_dest d;
	zbuf err = ZBUF_INIT(512);

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(smtp_dest_parse(big, 25, &d, &err), Z_EPARSE);
	big[0] = 'U'; big[1] = 'N'; big[2] = 'I'; big[3] = 'X'; big[4] = ':'; big[5] = '/';
	ck_assert_int_eq(smtp_dest_parse(big, 25, &d, &err), Z_EPARSE);
	memset(big, 'a', 300);
	big[300] = '\0';
	ck_assert_int_eq(smtp_dest_parse(big, 25, &d, &err), Z_EPARSE);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_connect_ok)
{
	int port, lfd = listen_lo(&port), fd, afd;
	struct sockaddr_in sin = lo_addr(port);
	zbuf err = ZBUF_INIT(512);

	fd = smtp_connect((struct sockaddr *)&sin, sizeof sin, NULL, 2000, &err);
	ck_assert_msg(fd >= 0, "connect: %s", zbuf_cstr(&err));
	afd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(afd, 0);
	ck_assert_int_eq(write(afd, "220 x\r\n", 7), 7);
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(afd);
	close(fd);
	close(lfd);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_connect_refused)
{
	int port, lfd = listen_lo(&port), rc;
	struct sockaddr_in sin = lo_addr(port);
	zbuf err = ZBUF_INIT(512);
	char want[96];

	close(lfd); /* nothing listens on port any more */
	rc = smtp_connect((struct sockaddr *)&sin, sizeof sin, NULL, 2000, &err);
	ck_assert_int_eq(rc, Z_EAGAIN);
	snprintf(want, sizeof want, "connect to [127.0.0.1]:%d: Connection refused", port);
	ck_assert_str_eq(zbuf_cstr(&err), want);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_connect_bind_literal)
{
	int port, lfd = listen_lo(&port), fd;
	struct sockaddr_in sin = lo_addr(port), la;
	socklen_t sl = sizeof la;
	smtp_bind b = { "[127.0.0.1]", 0, 0, NULL, NULL };
	zbuf err = ZBUF_INIT(512);
	char ip[32];

	fd = smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err);
	ck_assert_msg(fd >= 0, "connect: %s", zbuf_cstr(&err));
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&la, &sl), 0);
	inet_ntop(AF_INET, &la.sin_addr, ip, sizeof ip);
	ck_assert_str_eq(ip, "127.0.0.1");
	close(fd);
	/* an IPv6 -L for an IPv4 destination: no address of that family */
	b.localident = "[IPv6:::1]";
	ck_assert_int_eq(smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err), Z_ENOENT);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "not an IPv4 address"));
	b.localident = "[garbage]";
	ck_assert_int_eq(smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err), Z_EPARSE);
	/* numeric and iface forms */
	b.localident = "127.0.0.1";
	fd = smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err);
	ck_assert_msg(fd >= 0, "connect numeric -L: %s", zbuf_cstr(&err));
	close(fd);
	b.localident = "iface:lo";
	fd = smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err);
	ck_assert_msg(fd >= 0, "connect iface:lo: %s", zbuf_cstr(&err));
	sl = sizeof la;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&la, &sl), 0);
	inet_ntop(AF_INET, &la.sin_addr, ip, sizeof ip);
	ck_assert_str_eq(ip, "127.0.0.1");
	close(fd);
	b.localident = "iface:no-such-if0";
	ck_assert_int_eq(smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err), Z_ENOENT);
	close(lfd);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_localident_forms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	zbuf err = ZBUF_INIT(512);

	ck_assert_int_eq(smtp_localident("[127.0.0.1]", AF_INET, &ss, &sl, &err), Z_OK);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_int_eq(sl, sizeof(struct sockaddr_in));
	ck_assert_int_eq(smtp_localident("[IPv6:::1]", AF_INET6, &ss, &sl, &err), Z_OK);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(smtp_localident("[127.0.0.1]:25", AF_INET, &ss, &sl, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_localident("", AF_INET, &ss, &sl, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_localident("iface:lo", AF_INET, &ss, &sl, &err), Z_OK);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_connect_sndbuf)
{
	int port, lfd = listen_lo(&port), fd, v = 0;
	struct sockaddr_in sin = lo_addr(port);
	socklen_t sl = sizeof v;
	smtp_bind b = { NULL, 0, 16384, NULL, NULL };
	zbuf err = ZBUF_INIT(512);

	fd = smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err);
	ck_assert_msg(fd >= 0, "connect: %s", zbuf_cstr(&err));
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &sl), 0);
	/* Linux doubles the value for bookkeeping */
	ck_assert_msg(v >= 16384 && v <= 2 * 16384, "SO_SNDBUF %d", v);
	close(fd);
	close(lfd);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_connect_reserved)
{
	int port, lfd = listen_lo(&port), fd;
	struct sockaddr_in sin = lo_addr(port), la;
	socklen_t sl = sizeof la;
	smtp_bind b = { NULL, 1, 0, NULL, NULL };
	zbuf err = ZBUF_INIT(512);

	if (geteuid() == 0) {
		fd = smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err);
		ck_assert_msg(fd >= 0, "connect -r: %s", zbuf_cstr(&err));
		ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&la, &sl), 0);
		ck_assert_int_lt(ntohs(la.sin_port), 1024);
		ck_assert_int_ge(ntohs(la.sin_port), 512);
		close(fd);
		/* drop privileges (this test runs in its own forked process) */
		ck_assert_int_eq(seteuid(65534), 0);
	}
	ck_assert_int_eq(smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err), Z_ERR);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "-r needs root"));
	if (getuid() == 0)
		ck_assert_int_eq(seteuid(0), 0);
	close(lfd);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_connect_unix)
{
	char dir[] = "/tmp/check_smtp_conn.XXXXXX", path[128];
	struct sockaddr_un un;
	int lfd, fd, afd;
	zbuf err = ZBUF_INIT(512);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/lmtp", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&un, sizeof un), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	fd = smtp_connect_unix(path, NULL, 2000, &err);
	ck_assert_msg(fd >= 0, "unix: %s", zbuf_cstr(&err));
	afd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(afd, 0);
	close(afd);
	close(fd);
	close(lfd);
	unlink(path);
	ck_assert_int_eq(smtp_connect_unix(path, NULL, 2000, &err), Z_EAGAIN);
	{
		char want[200];
		snprintf(want, sizeof want, "connect to UNIX:%s: No such file or directory", path);
		ck_assert_str_eq(zbuf_cstr(&err), want);
	}
	rmdir(dir);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_addrmap)
{
	smtp_dns_opts o;
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = sizeof *s4;
	int port = 25;
	char ip[64];

	memset(&o, 0, sizeof o);
	o.addrmap = "127.0.0.2=127.0.0.1:2601 127.0.0.3=127.0.0.1:2602,::2=[::1]:2603 bad=entry 10.0.0.1=10.0.0.2";
	memset(&ss, 0, sizeof ss);
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.3", &s4->sin_addr);
	s4->sin_port = htons(25);
	smtp_addrmap_apply(&o, &ss, &sl, &port);
	inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
	ck_assert_str_eq(ip, "127.0.0.1");
	ck_assert_int_eq(port, 2602);
	ck_assert_int_eq(ntohs(s4->sin_port), 2602);
	/* not in the map: unchanged */
	inet_pton(AF_INET, "127.0.0.9", &s4->sin_addr);
	port = 25;
	s4->sin_port = htons(25);
	smtp_addrmap_apply(&o, &ss, &sl, &port);
	ck_assert_int_eq(port, 25);
	inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
	ck_assert_str_eq(ip, "127.0.0.9");
	/* without a port only the address changes */
	inet_pton(AF_INET, "10.0.0.1", &s4->sin_addr);
	smtp_addrmap_apply(&o, &ss, &sl, &port);
	ck_assert_int_eq(port, 25);
	inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
	ck_assert_str_eq(ip, "10.0.0.2");
	ck_assert_int_eq(ntohs(s4->sin_port), 25);
	/* IPv6 */
	memset(&ss, 0, sizeof ss);
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::2", &s6->sin6_addr);
	sl = sizeof *s6;
	smtp_addrmap_apply(&o, &ss, &sl, &port);
	inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
	ck_assert_str_eq(ip, "::1");
	ck_assert_int_eq(port, 2603);
	ck_assert_int_eq(ntohs(s6->sin6_port), 2603);
	/* no map: no-op */
	o.addrmap = NULL;
	smtp_addrmap_apply(&o, &ss, &sl, &port);
	ck_assert_int_eq(port, 2603);
}
END_TEST

START_TEST(test_self_addr)
{
	struct sockaddr_in sin = lo_addr(25);
	struct sockaddr_in6 s6;

	/* loopback is not "self" unless listed */
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&sin, NULL), 0);
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&sin, "192.0.2.7"), 0);
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&sin, "192.0.2.7,127.0.0.1"), 1);
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&sin, "[127.0.0.1]"), 1);
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_addr = in6addr_loopback;
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&s6, "127.0.0.1"), 0);
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&s6, "127.0.0.1 ::1"), 1);
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&s6, "[IPv6:::1]"), 1);
	inet_pton(AF_INET, "192.0.2.99", &sin.sin_addr);
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&sin, NULL), 0);
}
END_TEST

/* addresses that reach this host whatever its interfaces */
START_TEST(test_loops_back)
{
	static const struct { const char *ip; int loops; } v[] = {
		{ "127.0.0.1", 1 }, { "127.255.255.254", 1 }, { "127.0.0.2", 1 },
		{ "0.0.0.0", 1 }, { "0.1.2.3", 1 }, { "::", 1 }, { "::1", 1 },
		{ "::ffff:127.0.0.1", 1 }, { "::ffff:0.0.0.0", 1 }, { "::127.0.0.1", 1 },
		{ "::ffff:127.1.2.3", 1 },
		{ "128.0.0.1", 0 }, { "126.255.255.255", 0 }, { "1.0.0.0", 0 },
		{ "192.0.2.1", 0 }, { "10.0.0.1", 0 }, { "::2", 1 }, { "::ffff:192.0.2.1", 0 },
		{ "2001:db8::1", 0 }, { "fe80::1", 0 }, { "::1:0:0:1", 0 },
		{ "64:ff9b::7f00:1", 0 },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof ss);
		if (strchr(v[i].ip, ':') != NULL) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			ck_assert_int_eq(inet_pton(AF_INET6, v[i].ip, &s6->sin6_addr), 1);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			ck_assert_int_eq(inet_pton(AF_INET, v[i].ip, &s4->sin_addr), 1);
		}
		ck_assert_msg(smtp_addr_loops_back((struct sockaddr *)&ss) == v[i].loops,
			      "%s: expected %d", v[i].ip, v[i].loops);
	}
	ck_assert_int_eq(smtp_addr_loops_back(NULL), 0);
}
END_TEST

/* job hosts: the strict grammar, never a port, a socket path or an option */
START_TEST(test_dest_parse_job)
{
	static const char *bad[] = {
		"-l/tmp/x", "-lfoo", "UNIX:/tmp/sock", "unix:/run/x", "[127.0.0.1]:2525",
		"host.example:2525", "example.org:25", "[IPv6:::1]:25", "a b", "",
		"[2001:db8::1]", "[ipv6 ::1]", "exa/mple", "-", "host..example",
	};
	smtp_dest d;
	zbuf err = ZBUF_INIT(512);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		zbuf_reset(&err);
		ck_assert_msg(smtp_dest_parse_job(bad[i], 25, &d, &err) == Z_EPARSE,
			      "accepted '%s'", bad[i]);
		ck_assert_msg(strstr(zbuf_cstr(&err), "invalid destination host") != NULL,
			      "%s", zbuf_cstr(&err));
	}
	ck_assert_int_eq(smtp_dest_parse_job(NULL, 25, &d, &err), Z_EPARSE);
	ck_assert_int_eq(smtp_dest_parse_job("mx.example.org", 25, &d, &err), Z_OK);
	ck_assert_int_eq(d.kind, SDEST_HOST);
	ck_assert_str_eq(d.host, "mx.example.org");
	ck_assert_int_eq(smtp_dest_parse_job("[192.0.2.1]", 2525, &d, &err), Z_OK);
	ck_assert_int_eq(d.kind, SDEST_LITERAL);
	ck_assert_int_eq(d.port, 0);
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&d.sa)->sin_port), 2525);
	ck_assert_int_eq(smtp_dest_parse_job("[IPv6:2001:db8::1]", 25, &d, &err), Z_OK);
	ck_assert_int_eq(d.sa.ss_family, AF_INET6);
	ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&d.sa)->sin6_port), 25);
	/* the trusted -F grammar still takes ports and sockets */
	ck_assert_int_eq(smtp_dest_parse("[127.0.0.1]:2525", 25, &d, &err), Z_OK);
	ck_assert_int_eq(smtp_dest_parse("UNIX:/tmp/sock", 25, &d, &err), Z_OK);
	zbuf_free(&err);
}
END_TEST

/* v4-mapped forms of a listed address are self too */
START_TEST(test_self_mapped)
{
	struct sockaddr_in6 s6;

	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&s6, "192.0.2.7"), 1);
	ck_assert_int_eq(smtp_is_self_addr((struct sockaddr *)&s6, "192.0.2.8"), 0);
}
END_TEST

/* count_alive - a keepalive hook counting into the int its argument points to */
static void count_alive(void *arg) { (*(int *)arg)++; }

/* smtp_poll calls the keepalive hook of the state it is given during a
 * long wait, and only then; two states do not share a clock or a hook */
START_TEST(test_poll_keepalive)
{
	int p[2], calls = 0, other_calls = 0;
	struct pollfd pf;
	smtp_alive a, other;

	ck_assert_int_eq(pipe(p), 0);
	pf.fd = p[0];
	pf.events = POLLIN;
	pf.revents = 0;
	memset(&a, 0, sizeof a);
	a.hook = count_alive;
	a.arg = &calls;
	a.ms = 20;
	other = a;
	other.arg = &other_calls;
	ck_assert_int_eq(smtp_poll(&a, &pf, 1, 300), 0);	/* times out */
	ck_assert_int_ge(calls, 1);
	ck_assert_int_eq(other_calls, 0);
	ck_assert(a.last != 0);
	ck_assert(other.last == 0);
	/* data ready: returns at once */
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(smtp_poll(&a, &pf, 1, 5000), 1);
	/* no state, or a state without a hook: a plain poll */
	calls = 0;
	pf.fd = p[1];
	pf.events = 0;
	ck_assert_int_eq(smtp_poll(NULL, &pf, 1, 30), 0);
	a.hook = NULL;
	ck_assert_int_eq(smtp_poll(&a, &pf, 1, 30), 0);
	ck_assert_int_eq(calls, 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

static void *seen_poll_arg;

/* say_timeout - a connect poll hook that records its argument and reports
 * a timeout without waiting */
static int say_timeout(void *arg, struct pollfd *fds, unsigned long nfds, int ms)
{
	(void)fds; (void)nfds; (void)ms;
	seen_poll_arg = arg;
	return 0;
}

/* the connect waits through the smtp_bind's poll hook with its argument */
START_TEST(test_connect_poll_hook)
{
	int port, lfd = listen_lo(&port), rc, token;
	struct sockaddr_in sin = lo_addr(port);
	smtp_bind b = { NULL, 0, 0, say_timeout, &token };
	zbuf err = ZBUF_INIT(512);

	seen_poll_arg = NULL;
	rc = smtp_connect((struct sockaddr *)&sin, sizeof sin, &b, 2000, &err);
	ck_assert_int_eq(rc, Z_EAGAIN);
	ck_assert_ptr_eq(seen_poll_arg, &token);
	ck_assert_msg(strstr(zbuf_cstr(&err), "timed out") != NULL, "%s", zbuf_cstr(&err));
	close(lfd);
	zbuf_free(&err);
}
END_TEST

static Suite *conn_suite(void)
{
	Suite *s = suite_create("smtp_conn");
	TCase *t = tcase_create("core");

	tcase_set_timeout(t, 20);
	tcase_add_loop_test(t, test_dest_parse, 0, (int)(sizeof dcases / sizeof dcases[0]));
	tcase_add_test(t, test_dest_long);
	tcase_add_test(t, test_connect_ok);
	tcase_add_test(t, test_connect_refused);
	tcase_add_test(t, test_connect_bind_literal);
	tcase_add_test(t, test_localident_forms);
	tcase_add_test(t, test_connect_sndbuf);
	tcase_add_test(t, test_connect_reserved);
	tcase_add_test(t, test_connect_unix);
	tcase_add_test(t, test_addrmap);
	tcase_add_test(t, test_self_addr);
	tcase_add_test(t, test_loops_back);
	tcase_add_test(t, test_dest_parse_job);
	tcase_add_test(t, test_self_mapped);
	tcase_add_test(t, test_poll_keepalive);
	tcase_add_test(t, test_connect_poll_hook);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
