/*
 * NAME
 *	smtp_conn.c - socket set-up for SMTP clients (libzmsmtp: the smtp agent,
 *	smtpsend, the library call)
 *
 * SUMMARY
 *	Parse forced destinations (-F), resolve the local identity (-L),
 *	open non-blocking TCP or UNIX stream connections with a deadline,
 *	recognise our own addresses.
 *
 * SYNOPSIS
 *	int smtp_dest_parse(const char *s, int default_port, smtp_dest *out, zbuf *err);
 *	int smtp_dest_parse_job(const char *s, int default_port, smtp_dest *out, zbuf *err);
 *	int smtp_connect(const struct sockaddr *sa, socklen_t salen, const smtp_bind *b,
 *			 int timeout_ms, zbuf *err);
 *	int smtp_connect_unix(const char *path, const smtp_bind *b, int timeout_ms,
 *			      zbuf *err);
 *	int smtp_localident(const char *ident, int family, struct sockaddr_storage *out,
 *			    socklen_t *outlen, zbuf *err);
 *	int smtp_is_self_addr(const struct sockaddr *sa, const char *selfaddrs);
 *	int smtp_addr_loops_back(const struct sockaddr *sa);
 *	void smtp_alive_tick(smtp_alive *a);
 *	int smtp_poll(void *alive, struct pollfd *fds, unsigned long nfds, int timeout_ms);
 *
 * DESCRIPTION
 *	smtp_dest_parse() accepts "UNIX:/abs/path" (prefix case-insensitive),
 *	an address literal "[192.0.2.1]", "[IPv6:2001:db8::1]" (the tag
 *	"IPv6" is case-insensitive and may be followed by ':', '.' or a
 *	space; a bare "[2001:db8::1]" is accepted too), each with an optional
 *	":port" after the ']', or a host name (letters, digits, '-', '.',
 *	'_') with an optional ":port".  Ports are 1..65535.  A literal has
 *	its sockaddr filled with the explicit port or default_port; out->port
 *	is the explicit port or 0.  This grammar is for -F only (trusted).
 *
 *	smtp_dest_parse_job() is for hosts that come from the scheduler (a
 *	job line, the host argument): mhost_parse() (mail/mhost.h) decides,
 *	so only a domain or "[a.b.c.d]" / "[IPv6:...]", no port, no UNIX:,
 *	nothing starting with '-'.  A literal gets default_port.
 *
 *	smtp_connect() opens socket(family, SOCK_STREAM|SOCK_NONBLOCK|
 *	SOCK_CLOEXEC), sets SO_SNDBUF when b->sndbuf > 0, binds per -L and
 *	-r, then connects and polls for POLLOUT until timeout_ms passes, and
 *	checks SO_ERROR.  The returned fd stays non-blocking.  The wait goes
 *	through b->poll(b->poll_arg, ...) when set (the agent's keepalive),
 *	poll(2) otherwise; smtp_connect_unix() uses only that field of b.
 *
 *	-L forms: "iface:NAME" takes the first address of interface NAME in
 *	the destination's family (getifaddrs(3)); "[literal]" as for -F; a
 *	numeric address; anything else is a host name looked up with
 *	getaddrinfo(3), i.e. the system resolver and /etc/hosts, NOT through
 *	DNS_SERVERS (it names this host, so local configuration is the right
 *	source).  When -L yields no address of the destination's family the
 *	connection fails with Z_ENOENT so the caller moves to the next
 *	address.
 *
 *	-r binds the first free source port from 1023 down to 512; it needs
 *	euid 0, otherwise the connect fails with "-r needs root" (Z_ERR).
 *
 *	smtp_is_self_addr() says 1 when sa (port ignored) is in the
 *	comma/space separated numeric list selfaddrs, or is an address of
 *	one of our interfaces.  Loopback addresses (127.0.0.0/8, ::1, and
 *	interfaces flagged IFF_LOOPBACK) only count when listed in
 *	selfaddrs here; the MX walk adds them through smtp_addr_loops_back().
 *	IPv4-mapped IPv6 addresses compare as their IPv4 address.
 *
 *	smtp_addr_loops_back() says 1 for 0.0.0.0/8, 127.0.0.0/8, ::, ::1 and
 *	the IPv4-mapped (::ffff:a.b.c.d) and -compatible (::a.b.c.d) forms of
 *	0/8 and 127/8: addresses that reach this host whatever its
 *	interfaces.  Pure, no system calls.
 *
 *	smtp_poll() is the poll hook for every wait of the agent (connect
 *	here through smtp_bind, the session's socket I/O through its poll
 *	hook, DNS in dns/ through smtp_dns_opts), with the agent's
 *	smtp_alive as its argument: the timeout is cut into slices so that
 *	alive->hook, when set, runs at most every alive->ms while the agent
 *	waits (the "#keepalive" line of zmta-ta(7)); the clock starts at the
 *	first wait.  The state lives in the caller's smtp_alive: the
 *	library has no process globals, and a program of the library that
 *	sets no hook gets plain poll(2).  No threads, no signals; a hook
 *	must not touch the socket.
 *
 * DIAGNOSTICS
 *	Errors read "connect to [127.0.0.1]:2525: Connection refused",
 *	"connect to [::1]:25: timed out after 5000 ms",
 *	"connect to UNIX:/path: No such file or directory".  Refused,
 *	timed out, unreachable, reset and local resource shortage return
 *	Z_EAGAIN (temporary: try the next address, retry later); bad -L or
 *	-r configuration returns Z_ERR or Z_ENOENT; parse errors Z_EPARSE.
 *
 * SECURITY
 *	Destination strings come from the command line or routing results
 *	and are checked for length and syntax before use.  A host from a job
 *	line never reaches smtp_dest_parse(): a port or a UNIX socket path
 *	there would let whoever writes control files reach any local
 *	service.  Nothing here
 *	writes outside the fixed-size fields of smtp_dest.
 *
 * BUGS
 *	getifaddrs() is called for every self check.
 *
 * SEE ALSO
 *	smtp_mx.c, smtp(8), libzmsmtp(3), getifaddrs(3), ip(7), unix(7)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mhost.h"
#include "zbuf.h"
#include "zerr.h"
#include "smtp_conn.h"

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* parse_port - decimal 1..65535 from a span */
static int parse_port(zspan s, int *port)
{
	unsigned long v;

	if (s.n == 0 || s.n > 5 || zspan_to_ulong(s, 65535, &v) != Z_OK || v == 0)
		return Z_EPARSE;
	*port = (int)v;
	return Z_OK;
}

/* parse_literal_body - the text between '[' and ']' into sa (port 0) */
static int parse_literal_body(zspan body, struct sockaddr_storage *ss, socklen_t *len)
{
	char buf[80];
	zspan addr = body;
	int v6 = 0;

	if (zspan_startswith_case(body, "ipv6") && body.n > 4 &&
	    (body.p[4] == ':' || body.p[4] == '.' || body.p[4] == ' ')) {
		addr.p = body.p + 5;
		addr.n = body.n - 5;
		v6 = 1;
	} else if (zspan_chr(body, ':') >= 0) {
		v6 = 1;
	}
	if (addr.n == 0 || zspan_copy(addr, buf, sizeof buf) != Z_OK)
		return Z_EPARSE;
	memset(ss, 0, sizeof *ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, buf, &s6->sin6_addr) != 1)
			return Z_EPARSE;
		s6->sin6_family = AF_INET6;
		*len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, buf, &s4->sin_addr) != 1)
			return Z_EPARSE;
		s4->sin_family = AF_INET;
		*len = sizeof *s4;
	}
	return Z_OK;
}

/* set_port - store port into an AF_INET/AF_INET6 sockaddr */
static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
	else if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
}

/* valid_hostname - letters, digits, '-', '.', '_'; no empty labels at start */
static int valid_hostname(zspan h)
{
	size_t i;

	if (h.n == 0 || h.n > 255 || h.p[0] == '.' || h.p[0] == '-')
		return 0;
	for (i = 0; i < h.n; i++) {
		unsigned char c = (unsigned char)h.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return 0;
		if (c == '.' && i + 1 < h.n && h.p[i + 1] == '.')
			return 0;
	}
	return 1;
}

/* smtp_dest_parse - parse a -F destination or a job host */
int smtp_dest_parse(const char *s, int default_port, smtp_dest *out, zbuf *err)
{
	zspan in;
	long colon;

	memset(out, 0, sizeof *out);
	if (s == NULL || *s == '\0') {
		zbuf_setf(err, "empty destination");
		return Z_EPARSE;
	}
	in = zspan_from(s);
	if (in.n > 1024) {
		zbuf_setf(err, "destination too long");
		return Z_EPARSE;
	}
	if (zspan_startswith_case(in, "unix:")) {
		const char *path = s + 5;
		if (path[0] != '/') {
			zbuf_setf(err, "destination %s: UNIX socket path must be absolute", s);
			return Z_EPARSE;
		}
		if (zstrlcpy(out->path, path, sizeof out->path) != Z_OK) {
			zbuf_setf(err, "destination %s: UNIX socket path too long", s);
			return Z_EPARSE;
		}
		out->kind = SDEST_UNIX;
		return Z_OK;
	}
	if (in.p[0] == '[') {
		zcur c;
		zspan body, rest;

		zcur_init(&c, in.p + 1, in.n - 1);
		if (zcur_take_until(&c, ']', &body) != Z_OK ||
		    parse_literal_body(body, &out->sa, &out->salen) != Z_OK) {
			zbuf_setf(err, "destination %s: bad address literal", s);
			return Z_EPARSE;
		}
		zcur_take_rest(&c, &rest);
		if (rest.n > 0) {
			zspan pnum = { rest.p + 1, rest.n - 1 };
			if (rest.p[0] != ':' || parse_port(pnum, &out->port) != Z_OK) {
				zbuf_setf(err, "destination %s: bad port after address literal", s);
				return Z_EPARSE;
			}
		}
		set_port(&out->sa, out->port ? out->port : default_port);
		out->kind = SDEST_LITERAL;
		return Z_OK;
	}
	colon = zspan_chr(in, ':');
	{
		zspan host = in;
		if (colon >= 0) {
			zspan pnum = { in.p + colon + 1, in.n - (size_t)colon - 1 };
			host.n = (size_t)colon;
			if (parse_port(pnum, &out->port) != Z_OK) {
				zbuf_setf(err, "destination %s: bad port", s);
				return Z_EPARSE;
			}
		}
		if (!valid_hostname(host) || zspan_copy(host, out->host, sizeof out->host) != Z_OK) {
			zbuf_setf(err, "destination %s: bad host name", s);
			return Z_EPARSE;
		}
	}
	out->kind = SDEST_HOST;
	return Z_OK;
}

/* smtp_dest_parse_job - a host from a job line: the strict grammar only */
int smtp_dest_parse_job(const char *s, int default_port, smtp_dest *out, zbuf *err)
{
	zbuf why = ZBUF_INIT(256);
	mhost h;
	int rc = Z_EPARSE;

	memset(out, 0, sizeof *out);
	if (s == NULL || mhost_parse(s, strlen(s), &h, &why) != Z_OK) {
		/* the host is untrusted: show it cut and with odd bytes as '?' */
		char shown[80];
		size_t i;
		for (i = 0; s != NULL && s[i] != '\0' && i < sizeof shown - 1; i++)
			shown[i] = (unsigned char)s[i] < ' ' || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
		shown[i] = '\0';
		zbuf_setf(err, "invalid destination host '%s%s': %s", shown,
		       s != NULL && s[i] != '\0' ? "..." : "",
		       why.len ? zbuf_cstr(&why) : "not a host name or address literal");
		goto done;
	}
	switch (h.kind) {
	case MHOST_DOMAIN:
		if (zstrlcpy(out->host, s, sizeof out->host) != Z_OK) {
			zbuf_setf(err, "invalid destination host: too long");
			goto done;
		}
		out->kind = SDEST_HOST;
		break;
	case MHOST_IPV4: {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->sa;
		s4->sin_family = AF_INET;
		s4->sin_addr = h.v4;
		out->salen = sizeof *s4;
		out->kind = SDEST_LITERAL;
		break;
	}
	case MHOST_IPV6: {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = h.v6;
		out->salen = sizeof *s6;
		out->kind = SDEST_LITERAL;
		break;
	}
	default:
		zbuf_setf(err, "invalid destination host: unknown kind");
		goto done;
	}
	if (out->kind == SDEST_LITERAL)
		set_port(&out->sa, default_port);
	rc = Z_OK;
done:
	zbuf_free(&why);
	return rc;
}

/* fmt_addr - "[1.2.3.4]:25" or "[::1]:25" for messages */
static void fmt_addr(const struct sockaddr *sa, char *buf, size_t bufsz)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		port = ntohs(s6->sin6_port);
	}
	if (snprintf(buf, bufsz, "[%s]:%d", ip, port) >= (int)bufsz && bufsz > 0)
		buf[bufsz - 1] = '\0';
}

/* smtp_localident - resolve -L for one address family */
int smtp_localident(const char *ident, int family, struct sockaddr_storage *out,
		    socklen_t *outlen, zbuf *err)
{
	const char *fam = family == AF_INET6 ? "IPv6" : "IPv4";
	char buf[256];

	memset(out, 0, sizeof *out);
	if (ident == NULL || *ident == '\0') {
		zbuf_setf(err, "-L: empty local identity");
		return Z_EPARSE;
	}
	if (strncasecmp(ident, "iface:", 6) == 0) {
		struct ifaddrs *ifa0, *ifa;
		int found = 0;

		if (getifaddrs(&ifa0) != 0) {
			zbuf_setf(err, "-L %s: getifaddrs: %s", ident, strerror(errno));
			return Z_EIO;
		}
		for (ifa = ifa0; ifa != NULL; ifa = ifa->ifa_next) {
			if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != family ||
			    strcmp(ifa->ifa_name, ident + 6) != 0)
				continue;
			*outlen = family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
			memcpy(out, ifa->ifa_addr, *outlen);
			found = 1;
			break;
		}
		freeifaddrs(ifa0);
		if (!found) {
			zbuf_setf(err, "-L %s: interface has no %s address", ident, fam);
			return Z_ENOENT;
		}
		set_port(out, 0);
		return Z_OK;
	}
	if (ident[0] == '[') {
		smtp_dest d;
		if (smtp_dest_parse(ident, 0, &d, NULL) != Z_OK || d.kind != SDEST_LITERAL || d.port != 0) {
			zbuf_setf(err, "-L %s: bad address literal", ident);
			return Z_EPARSE;
		}
		if (d.sa.ss_family != family) {
			zbuf_setf(err, "-L %s: not an %s address", ident, fam);
			return Z_ENOENT;
		}
		*out = d.sa;
		*outlen = d.salen;
		return Z_OK;
	}
	if (zstrlcpy(buf, ident, sizeof buf) != Z_OK) {
		zbuf_setf(err, "-L: local identity too long");
		return Z_EPARSE;
	}
	{
		struct addrinfo hints, *res = NULL, *ai;
		int rc;

		memset(&hints, 0, sizeof hints);
		hints.ai_family = family;
		hints.ai_socktype = SOCK_STREAM;
		rc = getaddrinfo(buf, NULL, &hints, &res);
		if (rc != 0) {
			zbuf_setf(err, "-L %s: no %s address: %s", ident, fam, gai_strerror(rc));
			return rc == EAI_AGAIN ? Z_EAGAIN : Z_ENOENT;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if (ai->ai_family == family && ai->ai_addrlen <= sizeof *out) {
				memcpy(out, ai->ai_addr, ai->ai_addrlen);
				*outlen = (socklen_t)ai->ai_addrlen;
				break;
			}
		}
		freeaddrinfo(res);
		if (ai == NULL) {
			zbuf_setf(err, "-L %s: no %s address", ident, fam);
			return Z_ENOENT;
		}
		set_port(out, 0);
	}
	return Z_OK;
}

/* temp_errno - 1 if a connect errno is a temporary condition */
static int temp_errno(int e)
{
	switch (e) {
	case ECONNREFUSED: case ETIMEDOUT: case ENETUNREACH: case EHOSTUNREACH:
	case ECONNRESET: case ECONNABORTED: case ENETDOWN: case EHOSTDOWN:
	case EAGAIN: case EADDRNOTAVAIL: case EADDRINUSE: case EMFILE: case ENFILE:
	case ENOBUFS: case ENOMEM: case ENOENT: case EINTR:
		return 1;
	default:
		return 0;
	}
}

/* wait_connect - poll for completion of a non-blocking connect through
 * b's poll hook; errno-style result */
static int wait_connect(int fd, const smtp_bind *b, int timeout_ms)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct pollfd p;
	int soerr = 0;
	socklen_t sl = sizeof soerr;

	for (;;) {
		long long left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return ETIMEDOUT;
		p.fd = fd;
		p.events = POLLOUT;
		p.revents = 0;
		left = left > 1000000 ? 1000000 : left;
		if (b != NULL && b->poll != NULL)
			rc = b->poll(b->poll_arg, &p, 1, (int)left);
		else
			rc = poll(&p, 1, (int)left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (rc == 0)
			return ETIMEDOUT;
		break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		return errno;
	return soerr;
}

/* bind_reserved - bind the first free port 1023..512 */
static int bind_reserved(int fd, struct sockaddr_storage *la, socklen_t lalen, zbuf *err)
{
	int port;

	if (geteuid() != 0) {
		zbuf_setf(err, "-r needs root (a source port below 1024)");
		return Z_ERR;
	}
	for (port = 1023; port >= 512; port--) {
		set_port(la, port);
		if (bind(fd, (struct sockaddr *)la, lalen) == 0)
			return Z_OK;
		if (errno != EADDRINUSE && errno != EACCES) {
			zbuf_setf(err, "-r: bind: %s", strerror(errno));
			return Z_EIO;
		}
	}
	zbuf_setf(err, "-r: no free reserved port");
	return Z_EAGAIN;
}

/* smtp_connect - non-blocking TCP connect with deadline, -L, -r, -w */
int smtp_connect(const struct sockaddr *sa, socklen_t salen, const smtp_bind *b,
		 int timeout_ms, zbuf *err)
{
	char where[96];
	int fd = -1, rc, e;

	fmt_addr(sa, where, sizeof where);
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		zbuf_setf(err, "connect to %s: unsupported address family", where);
		return Z_ERR;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		zbuf_setf(err, "connect to %s: socket: %s", where, strerror(e));
		return temp_errno(e) ? Z_EAGAIN : Z_EIO;
	}
	if (b != NULL && b->sndbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &b->sndbuf, sizeof b->sndbuf) != 0) {
		e = errno;
		zbuf_setf(err, "connect to %s: SO_SNDBUF %d: %s", where, b->sndbuf, strerror(e));
		rc = Z_EIO;
		goto fail;
	}
	if (b != NULL && (b->localident != NULL || b->reserved_port)) {
		struct sockaddr_storage la;
		socklen_t lalen;
		zbuf why = ZBUF_INIT(512);

		if (b->localident != NULL) {
			rc = smtp_localident(b->localident, sa->sa_family, &la, &lalen, &why);
			if (rc != Z_OK) {
				zbuf_setf(err, "connect to %s: %s", where, zbuf_cstr(&why));
				zbuf_free(&why);
				goto fail;
			}
		} else {
			memset(&la, 0, sizeof la);
			la.ss_family = sa->sa_family;
			lalen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							  : sizeof(struct sockaddr_in);
		}
		if (b->reserved_port) {
			rc = bind_reserved(fd, &la, lalen, &why);
			if (rc != Z_OK) {
				zbuf_setf(err, "connect to %s: %s", where, zbuf_cstr(&why));
				zbuf_free(&why);
				goto fail;
			}
		} else if (bind(fd, (struct sockaddr *)&la, lalen) != 0) {
			e = errno;
			zbuf_setf(err, "connect to %s: bind to -L %s: %s", where, b->localident, strerror(e));
			zbuf_free(&why);
			rc = temp_errno(e) ? Z_EAGAIN : Z_EIO;
			goto fail;
		}
		zbuf_free(&why);
	}
	if (connect(fd, sa, salen) == 0)
		return fd;
	e = errno;
	if (e == EINPROGRESS || e == EINTR) {
		e = wait_connect(fd, b, timeout_ms);
		if (e == 0)
			return fd;
		if (e == ETIMEDOUT) {
			zbuf_setf(err, "connect to %s: timed out after %d ms", where, timeout_ms);
			rc = Z_EAGAIN;
			goto fail;
		}
	}
	zbuf_setf(err, "connect to %s: %s", where, strerror(e));
	rc = temp_errno(e) ? Z_EAGAIN : Z_EIO;
fail:
	close(fd);
	return rc;
}

/* smtp_connect_unix - connect an AF_UNIX stream socket */
int smtp_connect_unix(const char *path, const smtp_bind *b, int timeout_ms, zbuf *err)
{
	struct sockaddr_un un;
	int fd, e, rc;

	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	if (path == NULL || zstrlcpy(un.sun_path, path, sizeof un.sun_path) != Z_OK) {
		zbuf_setf(err, "connect to UNIX:%s: path too long", path ? path : "");
		return Z_EPARSE;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		zbuf_setf(err, "connect to UNIX:%s: socket: %s", path, strerror(e));
		return Z_EAGAIN;
	}
	if (connect(fd, (struct sockaddr *)&un, sizeof un) == 0)
		return fd;
	e = errno;
	if (e == EINPROGRESS || e == EINTR) {
		e = wait_connect(fd, b, timeout_ms);
		if (e == 0)
			return fd;
	}
	if (e == ETIMEDOUT)
		zbuf_setf(err, "connect to UNIX:%s: timed out after %d ms", path, timeout_ms);
	else
		zbuf_setf(err, "connect to UNIX:%s: %s", path, strerror(e));
	rc = temp_errno(e) ? Z_EAGAIN : Z_EIO;
	close(fd);
	return rc;
}

static const struct sockaddr *unmap_v4(const struct sockaddr *sa, struct sockaddr_in *tmp);

/* same_addr - compare the address part (not port) of two sockaddrs */
static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	struct sockaddr_in ta, tb;

	memset(&ta, 0, sizeof ta);
	memset(&tb, 0, sizeof tb);

	a = unmap_v4(a, &ta);
	b = unmap_v4(b, &tb);
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

/* is_loopback - 127.0.0.0/8 or ::1 */
static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

/* unmap_v4 - an IPv4-mapped IPv6 address as the IPv4 address in *tmp;
 * any other address unchanged */
static const struct sockaddr *unmap_v4(const struct sockaddr *sa, struct sockaddr_in *tmp)
{
	const struct in6_addr *a6;

	if (sa->sa_family != AF_INET6)
		return sa;
	a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!IN6_IS_ADDR_V4MAPPED(a6))
		return sa;
	memset(tmp, 0, sizeof *tmp);
	tmp->sin_family = AF_INET;
	memcpy(&tmp->sin_addr, &a6->s6_addr[12], 4);
	return (const struct sockaddr *)tmp;
}

/* smtp_addr_loops_back - 0/8, 127/8, ::, ::1 and mapped/compatible forms */
int smtp_addr_loops_back(const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		unsigned long a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return (a >> 24) == 127 || (a >> 24) == 0;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const unsigned char zero[10];
		/* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, which also
		 * covers :: and ::1) carry an IPv4 address in the last four bytes */
		if (memcmp(b, zero, 10) == 0 &&
		    ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0)))
			return b[12] == 127 || b[12] == 0;
		return 0;
	}
	return 0;
}

/* smtp_is_self_addr - is sa one of our addresses (interfaces or selfaddrs) */
int smtp_is_self_addr(const struct sockaddr *sa, const char *selfaddrs)
{
	struct ifaddrs *ifa0, *ifa;
	struct sockaddr_in v4;

	memset(&v4, 0, sizeof v4);
	int self = 0;

	if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return 0;
	sa = unmap_v4(sa, &v4);
	if (selfaddrs != NULL) {
		const char *p = selfaddrs;
		while (*p != '\0') {
			char tok[80];
			size_t n = strcspn(p, ", \t");
			if (n > 0 && n < sizeof tok) {
				smtp_dest d;
				memcpy(tok, p, n);
				tok[n] = '\0';
				/* accept "1.2.3.4", "::1", "[1.2.3.4]", "[IPv6:::1]" */
				if (tok[0] != '[') {
					struct sockaddr_storage ss;
					memset(&ss, 0, sizeof ss);
					if (inet_pton(AF_INET, tok, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
						ss.ss_family = AF_INET;
						if (same_addr(sa, (struct sockaddr *)&ss))
							return 1;
					} else if (inet_pton(AF_INET6, tok, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
						ss.ss_family = AF_INET6;
						if (same_addr(sa, (struct sockaddr *)&ss))
							return 1;
					}
				} else if (smtp_dest_parse(tok, 0, &d, NULL) == Z_OK &&
					   d.kind == SDEST_LITERAL &&
					   same_addr(sa, (struct sockaddr *)&d.sa)) {
					return 1;
				}
			}
			p += n;
			while (*p == ',' || *p == ' ' || *p == '\t')
				p++;
		}
	}
	if (is_loopback(sa))
		return 0;
	if (getifaddrs(&ifa0) != 0)
		return 0;
	for (ifa = ifa0; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || (ifa->ifa_flags & IFF_LOOPBACK))
			continue;
		if (same_addr(sa, ifa->ifa_addr)) {
			self = 1;
			break;
		}
	}
	freeifaddrs(ifa0);
	return self;
}

/* smtp_alive_tick - call the keepalive hook when its interval has passed */
void smtp_alive_tick(smtp_alive *a)
{
	long long now;

	if (a == NULL || a->hook == NULL || a->ms <= 0)
		return;
	now = now_ms();
	if (a->last == 0) {
		a->last = now;	/* the clock starts with the first wait */
		return;
	}
	if (now - a->last >= a->ms) {
		a->last = now;
		a->hook(a->arg);
	}
}

/* smtp_poll - poll(2) cut into slices no longer than the keepalive
 * interval of alive (an smtp_alive or NULL); the hook runs between slices */
int smtp_poll(void *alive, struct pollfd *fds, unsigned long nfds, int timeout_ms)
{
	smtp_alive *a = alive;
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	if (a == NULL || a->hook == NULL || a->ms <= 0)
		return poll(fds, (nfds_t)nfds, timeout_ms);
	for (;;) {
		long long now, left, slice;
		int rc;

		smtp_alive_tick(a);
		now = now_ms();
		left = deadline < 0 ? INT_MAX : deadline - now;
		if (left < 0)
			left = 0;
		slice = left > INT_MAX ? INT_MAX : left;
		if (a->last != 0) {
			long long next = a->last + a->ms - now;
			if (next < 1)
				next = 1;
			if (next < slice)
				slice = next;
		}
		rc = poll(fds, (nfds_t)nfds, (int)slice);
		if (rc != 0)
			return rc;
		if (deadline >= 0 && now_ms() >= deadline)
			return 0;
	}
}
