/*
 * NAME
 *	pol_policy - Postfix policy delegation protocol client
 * SUMMARY
 *	Asks an external policy server (postgrey, policyd-spf, ...) about a
 *	session stage and maps its action into a pol_result.
 * SYNOPSIS
 *	void pol_result_accept(pol_result *r)
 *	int pol_policy_action(const char *action, size_t len, pol_result *r,
 *	                      zbuf *err)
 *	int pol_policy_parse_reply(const char *p, size_t n, pol_result *r,
 *	                           size_t *consumed, zbuf *err)
 *	int pol_policy_attr(zbuf *req, const char *name, const char *value,
 *	                    zbuf *err)
 *	int pol_policy_request(const pol_policy_req *q, zbuf *req, zbuf *err)
 *	pol_policy *pol_policy_new(const char *endpoint, long timeout_ms,
 *	                           zbuf *err)
 *	void pol_policy_free(pol_policy *p)
 *	int pol_policy_query(pol_policy *p, const zbuf *req, pol_result *r,
 *	                     zbuf *err)
 * DESCRIPTION
 *	Protocol (Postfix SMTPD_POLICY_README): the client writes
 *	name=value lines and an empty line; the server answers with
 *	name=value lines and an empty line, one of them action=...; the
 *	connection stays open for further requests.  Unknown reply
 *	attributes are ignored; a reply without action, with two actions,
 *	with a line that is not name=value, with control bytes, or longer
 *	than POL_POLICY_REPLY_MAX is a protocol error.
 *	Actions (Postfix access(5); case-insensitive keyword, then optional
 *	text):
 *	    OK, all-numerical     accept, POL_F_OK
 *	    DUNNO                 accept (no opinion)
 *	    REJECT [text]         554 5.7.1
 *	    DEFER [text]          450 4.7.1
 *	    DEFER_IF_PERMIT text  accept + POL_F_DEFER_IF_PERMIT, 450 4.7.1
 *	    DEFER_IF_REJECT text  accept + POL_F_DEFER_IF_REJECT, 450 4.7.1
 *	    4NN|5NN [x.y.z] text  defer / reject with that code
 *	    421, 521 [text]       450 / 554 + POL_F_UNSUPPORTED (no hang-up)
 *	    PREPEND name: value   accept + POL_F_PREPEND (header[])
 *	    WARN|INFO text        accept + POL_F_WARN
 *	    HOLD [text]           accept + POL_F_HOLD
 *	    DISCARD [text]        accept + POL_F_DISCARD
 *	    FILTER, REDIRECT x    accept + POL_F_HOLD + POL_F_UNSUPPORTED
 *	    BCC x                 accept + POL_F_UNSUPPORTED (like DUNNO)
 *	POL_F_UNSUPPORTED puts the action as sent in orig[] for the log.
 *	Anything else (Postfix restriction names and classes among them), and
 *	every failure to talk to the server, gives Postfix's answer for a
 *	broken policy service: 451 4.3.5 "Server configuration problem".
 *	Endpoints are numeric (no DNS lookups): "unix:/path", "/path",
 *	"inet:1.2.3.4:port", "1.2.3.4:port", "[::1]:port".  timeout_ms
 *	bounds connect, write and read of one query together.
 * DIAGNOSTICS
 *	Z_OK, Z_EPARSE, Z_EIO, Z_EAGAIN (timeout), Z_ETOOBIG, Z_ENOMEM with a
 *	reason in err.
 * SECURITY
 *	The policy server is trusted to decide, not to be well formed: its
 *	reply is bounded and checked; reply text is limited to printable
 *	ASCII so that it cannot inject lines into the SMTP reply; a PREPEND
 *	header must have a valid field name.  Request values come from the
 *	client (HELO, addresses) and may not carry CR, LF or NUL.
 * BUGS
 *	One server per handle, no load sharing.  The request/reply are
 *	synchronous: the engine runs them from a session's own process.
 * SEE ALSO
 *	postgrey(8), access(5) of Postfix, smtpserver.conf(5) policy_service
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "pol_policy.h"
#include "zutil.h"

struct pol_policy {
	struct sockaddr_storage sa;
	socklen_t salen;
	long timeout_ms;
	int fd;
	char name[256];
};

/* pol_result_accept - a plain DUNNO */
void pol_result_accept(pol_result *r)
{
	memset(r, 0, sizeof(*r));
	r->verdict = POL_ACCEPT;
}

/* tempfail - Postfix's answer for a policy service that misbehaves */
static void tempfail(pol_result *r)
{
	pol_result_accept(r);
	r->verdict = POL_DEFER;
	r->code = 451;
	zstrlcpy(r->enh, "4.3.5", sizeof(r->enh));
	zstrlcpy(r->text, "Server configuration problem", sizeof(r->text));
}

/* set_text - copy printable text into dst; Z_EPARSE for other bytes */
static int set_text(char *dst, size_t dstsz, zspan t)
{
	for (size_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return Z_EPARSE;
	}
	if (t.n >= dstsz)
		t.n = dstsz - 1; /* long text is cut, not refused */
	memcpy(dst, t.p, t.n);
	dst[t.n] = '\0';
	return Z_OK;
}

/* take_enh - "c.sss.ddd" with class c at the start of t; length or 0 */
static size_t take_enh(zspan t, char cls)
{
	size_t i = 0, parts = 0;

	if (t.n < 5 || t.p[0] != cls || t.p[1] != '.')
		return 0;
	i = 2;
	for (parts = 0; parts < 2; parts++) {
		size_t d = 0;
		while (i < t.n && t.p[i] >= '0' && t.p[i] <= '9' && d < 4)
			i++, d++;
		if (d == 0 || d > 3)
			return 0;
		if (parts == 0) {
			if (i >= t.n || t.p[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < t.n && t.p[i] != ' ')
		return 0;
	return i;
}

/* all_digits - a non-empty span of decimal digits */
static int all_digits(zspan t)
{
	for (size_t i = 0; i < t.n; i++)
		if (t.p[i] < '0' || t.p[i] > '9')
			return 0;
	return t.n > 0;
}

/* with_code - verdict, code, enhanced code and text for a 4xx/5xx answer */
static int with_code(pol_result *r, int code, const char *defenh, zspan text, const char *deftext)
{
	size_t e;

	r->verdict = code / 100 == 5 ? POL_REJECT : POL_DEFER;
	r->code = code;
	text = zspan_trim(text);
	e = take_enh(text, (char)('0' + code / 100));
	if (e > 0) {
		zspan_copy((zspan){ text.p, e }, r->enh, sizeof(r->enh));
		text.p += e;
		text.n -= e;
		text = zspan_trim(text);
	} else {
		zstrlcpy(r->enh, defenh, sizeof(r->enh));
	}
	if (text.n == 0)
		text = zspan_from(deftext);
	return set_text(r->text, sizeof(r->text), text);
}

/* pol_policy_action - one action value into r */
int pol_policy_action(const char *action, size_t len, pol_result *r, zbuf *err)
{
	zspan a = zspan_trim((zspan){ action, len }), kw, rest;
	size_t i = 0;
	int rc = Z_OK;

	pol_result_accept(r);
	while (i < a.n && a.p[i] != ' ' && a.p[i] != '\t')
		i++;
	kw = (zspan){ a.p, i };
	rest = zspan_trim((zspan){ a.p + i, a.n - i });
	if (zspan_caseeq(kw, "OK") && rest.n == 0) {
		r->flags |= POL_F_OK;
	} else if (all_digits(kw) && rest.n == 0) {
		r->flags |= POL_F_OK;   /* access(5): all-numerical is OK */
	} else if (zspan_caseeq(kw, "DUNNO") && rest.n == 0) {
		/* nothing */
	} else if (zspan_caseeq(kw, "REJECT")) {
		rc = with_code(r, 554, "5.7.1", rest, "Access denied");
	} else if (zspan_caseeq(kw, "DEFER")) {
		rc = with_code(r, 450, "4.7.1", rest, "Try again later");
	} else if (zspan_caseeq(kw, "DEFER_IF_PERMIT") || zspan_caseeq(kw, "DEFER_IF_REJECT")) {
		rc = with_code(r, 450, "4.7.1", rest, "Try again later");
		r->verdict = POL_ACCEPT;
		r->flags |= zspan_caseeq(kw, "DEFER_IF_PERMIT") ? POL_F_DEFER_IF_PERMIT : POL_F_DEFER_IF_REJECT;
	} else if (kw.n == 3 && (kw.p[0] == '4' || kw.p[0] == '5') && kw.p[1] >= '0' && kw.p[1] <= '5' &&
		   kw.p[2] >= '0' && kw.p[2] <= '9') {
		int code = (kw.p[0] - '0') * 100 + (kw.p[1] - '0') * 10 + (kw.p[2] - '0');
		rc = with_code(r, code, kw.p[0] == '4' ? "4.7.1" : "5.7.1", rest,
			       kw.p[0] == '4' ? "Try again later" : "Access denied");
		if (rc == Z_OK && (code == 421 || code == 521)) {
			/* Postfix hangs up after these; the engine has no
			 * hang-up verdict: the plain defer / reject instead */
			r->code = code == 421 ? 450 : 554;
			r->flags |= POL_F_UNSUPPORTED;
			rc = set_text(r->orig, sizeof(r->orig), a);
		}
	} else if (zspan_caseeq(kw, "PREPEND")) {
		long colon = zspan_chr(rest, ':');
		if (colon <= 0)
			rc = Z_EPARSE;
		for (long j = 0; rc == Z_OK && j < colon; j++) {
			unsigned char c = (unsigned char)rest.p[j];
			if (c <= 0x20 || c >= 0x7f)
				rc = Z_EPARSE;
		}
		if (rc == Z_OK && rest.n >= sizeof(r->header))
			rc = Z_ETOOBIG;
		if (rc == Z_OK)
			rc = set_text(r->header, sizeof(r->header), rest);
		r->flags |= POL_F_PREPEND;
	} else if (zspan_caseeq(kw, "WARN") || zspan_caseeq(kw, "INFO")) {
		r->flags |= POL_F_WARN;
		rc = set_text(r->text, sizeof(r->text), rest);
	} else if (zspan_caseeq(kw, "HOLD") || zspan_caseeq(kw, "DISCARD")) {
		r->flags |= zspan_caseeq(kw, "HOLD") ? POL_F_HOLD : POL_F_DISCARD;
		rc = set_text(r->text, sizeof(r->text), rest);
	} else if ((zspan_caseeq(kw, "FILTER") || zspan_caseeq(kw, "REDIRECT")) && rest.n > 0) {
		/* the message must not reach its recipients unfiltered /
		 * unredirected, nor be lost: held for the postmaster */
		r->flags |= POL_F_UNSUPPORTED | POL_F_HOLD;
		rc = set_text(r->orig, sizeof(r->orig), a);
	} else if (zspan_caseeq(kw, "BCC") && rest.n > 0) {
		/* only the extra copy is missing: delivered as for DUNNO */
		r->flags |= POL_F_UNSUPPORTED;
		rc = set_text(r->orig, sizeof(r->orig), a);
	} else {
		rc = Z_EPARSE;
	}
	if (rc != Z_OK) {
		zbuf_reset(err);
		zbuf_puts(err, "policy server: unknown or malformed action: ");
		for (size_t j = 0; j < a.n && j < 80; j++)
			zbuf_putc(err, (a.p[j] >= 0x20 && a.p[j] < 0x7f) ? a.p[j] : '?');
		tempfail(r);
		return rc == Z_ETOOBIG ? Z_ETOOBIG : Z_EPARSE;
	}
	return Z_OK;
}

/* pol_policy_parse_reply - name=value lines up to an empty line */
int pol_policy_parse_reply(const char *p, size_t n, pol_result *r, size_t *consumed, zbuf *err)
{
	size_t off = 0;
	zspan action = ZSPAN_NULL;
	int have = 0;

	*consumed = 0;
	pol_result_accept(r);
	for (;;) {
		const char *nl = memchr(p + off, '\n', n - off);
		zspan line, name;
		long eq;

		if (nl == NULL) {
			if (n - off > POL_POLICY_REPLY_MAX || n > POL_POLICY_REPLY_MAX) {
				zbuf_reset(err);
				zbuf_puts(err, "policy server: reply too long");
				tempfail(r);
				return Z_EPARSE;
			}
			return Z_EAGAIN;
		}
		line = (zspan){ p + off, (size_t)(nl - (p + off)) };
		off += line.n + 1;
		if (off > POL_POLICY_REPLY_MAX) {
			zbuf_reset(err);
			zbuf_puts(err, "policy server: reply too long");
			tempfail(r);
			return Z_EPARSE;
		}
		if (line.n > 0 && line.p[line.n - 1] == '\r')
			line.n--;
		if (line.n == 0)
			break;
		eq = zspan_chr(line, '=');
		name = (zspan){ line.p, eq > 0 ? (size_t)eq : 0 };
		if (eq <= 0) {
			zbuf_reset(err);
			zbuf_puts(err, "policy server: reply line is not name=value");
			tempfail(r);
			return Z_EPARSE;
		}
		if (zspan_caseeq(name, "action")) {
			if (have) {
				zbuf_reset(err);
				zbuf_puts(err, "policy server: two actions in one reply");
				tempfail(r);
				return Z_EPARSE;
			}
			have = 1;
			action = (zspan){ line.p + eq + 1, line.n - (size_t)eq - 1 };
		}
	}
	*consumed = off;
	if (!have) {
		zbuf_reset(err);
		zbuf_puts(err, "policy server: reply without action");
		tempfail(r);
		return Z_EPARSE;
	}
	return pol_policy_action(action.p, action.n, r, err);
}

/* pol_policy_attr - append one checked name=value line */
int pol_policy_attr(zbuf *req, const char *name, const char *value, zbuf *err)
{
	size_t nl = strlen(name), vl = strlen(value);

	if (nl == 0 || nl > 64) {
		zbuf_puts(err, "policy request: bad attribute name");
		return Z_EPARSE;
	}
	for (size_t i = 0; i < nl; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
			zbuf_puts(err, "policy request: bad attribute name");
			return Z_EPARSE;
		}
	}
	if (strpbrk(value, "\r\n") != NULL) {
		zbuf_printf(err, "policy request: line break in %s", name);
		return Z_EPARSE;
	}
	if (req->len + nl + vl + 3 > POL_POLICY_REQ_MAX || zbuf_printf(req, "%s=%s\n", name, value) != Z_OK) {
		zbuf_puts(err, "policy request too large");
		return Z_ETOOBIG;
	}
	return Z_OK;
}

/* pol_policy_request - the whole smtpd_access_policy request */
int pol_policy_request(const pol_policy_req *q, zbuf *req, zbuf *err)
{
	const struct {
		const char *name;
		const char *value;
	} a[] = {
		{ "protocol_state", q->protocol_state },
		{ "protocol_name", q->protocol_name },
		{ "helo_name", q->helo_name },
		{ "queue_id", q->queue_id },
		{ "sender", q->sender },
		{ "recipient", q->recipient },
		{ "client_address", q->client_address },
		{ "client_name", q->client_name },
		{ "reverse_client_name", q->reverse_client_name },
		{ "client_port", q->client_port },
		{ "server_address", q->server_address },
		{ "server_port", q->server_port },
		{ "instance", q->instance },
		{ "sasl_method", q->sasl_method },
		{ "sasl_username", q->sasl_username },
		{ "sasl_sender", q->sasl_sender },
		{ "encryption_protocol", q->encryption_protocol },
		{ "encryption_cipher", q->encryption_cipher },
		{ "encryption_keysize", q->encryption_keysize },
		{ "ccert_subject", q->ccert_subject },
		{ "ccert_issuer", q->ccert_issuer },
		{ "ccert_fingerprint", q->ccert_fingerprint },
		{ "etrn_domain", q->etrn_domain },
		{ "stress", q->stress },
		{ "policy_context", q->policy_context },
		{ "server_name", q->server_name },
	};
	char num[32];
	int rc;

	zbuf_reset(req);
	rc = pol_policy_attr(req, "request", "smtpd_access_policy", err);
	for (size_t i = 0; rc == Z_OK && i < sizeof(a) / sizeof(a[0]); i++)
		if (a[i].value != NULL)
			rc = pol_policy_attr(req, a[i].name, a[i].value, err);
	if (rc == Z_OK) {
		snprintf(num, sizeof(num), "%lu", q->recipient_count);
		rc = pol_policy_attr(req, "recipient_count", num, err);
	}
	if (rc == Z_OK) {
		snprintf(num, sizeof(num), "%lu", q->size);
		rc = pol_policy_attr(req, "size", num, err);
	}
	return rc;
}

/* pol_policy_new - parse the endpoint; connect later */
pol_policy *pol_policy_new(const char *endpoint, long timeout_ms, zbuf *err)
{
	pol_policy *p = calloc(1, sizeof(*p));
	const char *e = endpoint;

	if (p == NULL) {
		zbuf_puts(err, "out of memory");
		return NULL;
	}
	p->fd = -1;
	p->timeout_ms = timeout_ms > 0 ? timeout_ms : 100000;
	if (zstrlcpy(p->name, endpoint, sizeof(p->name)) != Z_OK)
		goto bad;
	if (strncmp(e, "unix:", 5) == 0)
		e += 5;
	if (e[0] == '/') {
		struct sockaddr_un *su = (struct sockaddr_un *)&p->sa;
		su->sun_family = AF_UNIX;
		if (zstrlcpy(su->sun_path, e, sizeof(su->sun_path)) != Z_OK)
			goto bad;
		p->salen = sizeof(*su);
		return p;
	}
	if (strncmp(e, "inet:", 5) == 0)
		e += 5;
	{
		char host[INET6_ADDRSTRLEN + 2];
		const char *colon, *hs = e;
		size_t hl;
		unsigned long port;

		if (e[0] == '[') {
			const char *rb = strchr(e, ']');
			if (rb == NULL || rb[1] != ':')
				goto bad;
			hs = e + 1;
			hl = (size_t)(rb - hs);
			colon = rb + 1;
		} else {
			colon = strrchr(e, ':');
			if (colon == NULL)
				goto bad;
			hl = (size_t)(colon - e);
		}
		if (hl == 0 || hl >= sizeof(host) || zparse_ulong(colon + 1, 65535, &port) != Z_OK || port == 0)
			goto bad;
		memcpy(host, hs, hl);
		host[hl] = '\0';
		memset(&p->sa, 0, sizeof(p->sa));
		if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&p->sa)->sin_addr) == 1) {
			((struct sockaddr_in *)&p->sa)->sin_family = AF_INET;
			((struct sockaddr_in *)&p->sa)->sin_port = htons((uint16_t)port);
			p->salen = sizeof(struct sockaddr_in);
		} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&p->sa)->sin6_addr) == 1) {
			((struct sockaddr_in6 *)&p->sa)->sin6_family = AF_INET6;
			((struct sockaddr_in6 *)&p->sa)->sin6_port = htons((uint16_t)port);
			p->salen = sizeof(struct sockaddr_in6);
		} else {
			goto bad;
		}
	}
	return p;
bad:
	zbuf_printf(err, "policy service '%s': want unix:/path or inet:ADDRESS:PORT (numeric)", endpoint);
	free(p);
	return NULL;
}

/* drop - close the connection */
static void drop(pol_policy *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* pol_policy_free - close and release */
void pol_policy_free(pol_policy *p)
{
	if (p == NULL)
		return;
	drop(p);
	free(p);
}

/* wait_fd - poll for ev until the deadline: Z_OK, Z_EAGAIN (timeout), Z_EIO */
static int wait_fd(int fd, short ev, long long deadline)
{
	for (;;) {
		struct pollfd pf = { fd, ev, 0 };
		long long left = deadline - zmono_ms();
		int n;

		if (left <= 0)
			return Z_EAGAIN;
		n = poll(&pf, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return Z_OK;
		if (n == 0)
			return Z_EAGAIN;
		if (errno != EINTR)
			return Z_EIO;
	}
}

/* do_connect - non-blocking connect within the deadline */
static int do_connect(pol_policy *p, long long deadline, zbuf *err)
{
	int fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int soerr = 0, rc;
	socklen_t sl = sizeof(soerr);

	if (fd < 0) {
		zbuf_printf(err, "policy service %s: socket: %s", p->name, strerror(errno));
		return Z_EIO;
	}
	if (connect(fd, (struct sockaddr *)&p->sa, p->salen) != 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			zbuf_printf(err, "policy service %s: connect: %s", p->name, strerror(errno));
			close(fd);
			return Z_EIO;
		}
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc == Z_OK && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0)) {
			zbuf_printf(err, "policy service %s: connect: %s", p->name, strerror(soerr ? soerr : errno));
			rc = Z_EIO;
		} else if (rc == Z_EAGAIN) {
			zbuf_printf(err, "policy service %s: connect timed out", p->name);
		}
		if (rc != Z_OK) {
			close(fd);
			return rc;
		}
	}
	p->fd = fd;
	return Z_OK;
}

/* exchange - one request/reply on the open connection */
static int exchange(pol_policy *p, const zbuf *req, pol_result *r, long long deadline, int *fresh_fail, zbuf *err)
{
	char buf[POL_POLICY_REPLY_MAX + 1];
	size_t have = 0, off = 0, used;
	const char *blank = "\n";
	int rc;

	*fresh_fail = 0;
	for (int part = 0; part < 2; part++) {
		const char *d = part == 0 ? zbuf_cstr(req) : blank;
		size_t n = part == 0 ? req->len : 1;
		off = 0;
		while (off < n) {
			ssize_t w = send(p->fd, d + off, n - off, MSG_NOSIGNAL);
			if (w > 0) {
				off += (size_t)w;
				continue;
			}
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				if ((rc = wait_fd(p->fd, POLLOUT, deadline)) != Z_OK)
					goto fail;
				continue;
			}
			*fresh_fail = 1; /* server closed an idle connection */
			zbuf_printf(err, "policy service %s: write: %s", p->name, strerror(errno));
			return Z_EIO;
		}
	}
	for (;;) {
		ssize_t n;

		rc = pol_policy_parse_reply(buf, have, r, &used, err);
		if (rc != Z_EAGAIN) {
			if (rc == Z_OK && used != have) {
				/* more than one reply: out of step, start afresh next time */
				drop(p);
			}
			return rc;
		}
		if (have >= POL_POLICY_REPLY_MAX) {
			zbuf_printf(err, "policy service %s: reply too long", p->name);
			tempfail(r);
			return Z_ETOOBIG;
		}
		n = recv(p->fd, buf + have, POL_POLICY_REPLY_MAX - have, 0);
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		if (n == 0) {
			*fresh_fail = have == 0;
			zbuf_printf(err, "policy service %s: connection closed before the reply ended", p->name);
			return Z_EIO;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if ((rc = wait_fd(p->fd, POLLIN, deadline)) != Z_OK)
				goto fail;
			continue;
		}
		*fresh_fail = have == 0 && errno == ECONNRESET;
		zbuf_printf(err, "policy service %s: read: %s", p->name, strerror(errno));
		return Z_EIO;
	}
fail:
	zbuf_printf(err, "policy service %s: %s", p->name, rc == Z_EAGAIN ? "timed out" : "poll failed");
	return rc;
}

/* pol_policy_query - one request; reconnect once if a kept connection died */
int pol_policy_query(pol_policy *p, const zbuf *req, pol_result *r, zbuf *err)
{
	long long deadline = zmono_ms() + p->timeout_ms;
	int rc = Z_EIO, reused, again;

	for (int attempt = 0; attempt < 2; attempt++) {
		reused = p->fd >= 0;
		if (!reused && (rc = do_connect(p, deadline, err)) != Z_OK)
			break;
		rc = exchange(p, req, r, deadline, &again, err);
		if (rc == Z_OK)
			return Z_OK;
		drop(p);
		if (!(reused && again && rc == Z_EIO))
			break;
		zbuf_reset(err);
	}
	tempfail(r);
	return rc;
}
