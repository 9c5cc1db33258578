/*
 * NAME
 *	zmsmtp - libzmsmtp's client session: servers, greeting, EHLO,
 *	STARTTLS with a policy callback, AUTH, one transaction per message
 * SUMMARY
 *	The library call of libzmsmtp(3) (Tcllib's smtp::sendmessage shape)
 *	and its session API, over the smtp/ layer (session, replies, EHLO
 *	table, state table and timeouts, TLS, SASL) and the shared envelope
 *	steps (zmsmtp_env.c) that the smtp agent uses too.
 * SYNOPSIS
 *	#include "zmsmtp.h"
 *	void zmsmtp_opts_init(zmsmtp_opts *o);
 *	int zmsmtp_sendmessage(const zmsmtp_opts *o, const char *msg, size_t len,
 *	                       zmsmtp_result *r);
 *	zmsmtp_session *zmsmtp_open(const zmsmtp_opts *o, zmsmtp_result *r);
 *	int zmsmtp_send(zmsmtp_session *s, const zmsmtp_opts *o, const char *msg,
 *	                size_t len, zmsmtp_result *r);
 *	void zmsmtp_close(zmsmtp_session *s);
 *	void zmsmtp_result_free(zmsmtp_result *r);
 * DESCRIPTION
 *	Servers are tried in order (each of its addresses in turn); the next
 *	one is tried when the connection fails, the greeting is not 220,
 *	EHLO and HELO both fail, TLS is required by the policy and cannot be
 *	had, or AUTH fails.  Without servers the domain's MX hosts (dns/,
 *	smtp_mx.c: preference order, implicit MX, null MX) are used, minus
 *	the skip_mx names, then the gateway.  With usetls, STARTTLS is used
 *	when offered; when it is not offered, refused, fails, or (verify) the
 *	certificate does not verify, tlspolicy decides: insecure goes on,
 *	secure gives this server up.  AUTH tries CRAM-MD5, then PLAIN and
 *	LOGIN only over TLS (or with auth_cleartext).  The transaction is
 *	zmsmtp_xact.c's engine, the one the smtp agent runs too: MAIL and
 *	the RCPTs go in one pipelined group when the server offers
 *	PIPELINING; DATA (or BDAT chunks with CHUNKING) follows when every
 *	recipient was accepted, or one with atleastone; else RSET.  Bcc
 *	recipients from the headers get a second transaction on the same
 *	connection: the digest zmsmtp_msg.c builds (Tcllib's rule).  queue
 *	sends nothing extra (XQUE is not a standard; the server queues
 *	anyway).  Every wait is bounded by its phase's timeout
 *	(RFC 5321 defaults) and by the overall limit.
 * DIAGNOSTICS
 *	Results in zmsmtp_result: status, sysexits code, the deciding reply,
 *	a text, and the refused recipients with code, enhanced code and text.
 * SECURITY
 *	Replies are read by the bounded smtp/ assembler.  Certificates are
 *	verified by default; secrets go in clear text only when the caller
 *	says so; command lines with secrets are not shown in the debug
 *	transcript and the buffers that held them are wiped.  Addresses with
 *	control characters or angle brackets are refused (zmsmtp_env.c).
 * BUGS
 *	No SMTPUTF8, no DSN parameters.  With silent_server the server must
 *	really not greet: a greeting would be read as the NOOP reply.  The
 *	agent still sequences its own connection set-up
 *	(transport/smtp/smtp_open.c: STARTTLS modes, -F, -L) over the same
 *	smtp/ layer and the shared steps.
 * SEE ALSO
 *	libzmsmtp(3), smtpsend(1), zmta-smtp(3), smtp(8), zmsmtp_xact.c,
 *	RFC 5321, 2920, 3030, 3207, 4954
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include "zerr.h"
#include "zutil.h"
#include "mime.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "smtp_state.h"
#include "smtp_ehlo.h"
#include "smtp_tls.h"
#include "smtp_sasl.h"
#include "smtp_conn.h"
#include "smtp_mx.h"
#include "zmsmtp_env.h"
#include "zmsmtp_xact.h"
#include "zmsmtp_int.h"

struct zmsmtp_session {
	zmsmtp_opts o;
	char client[256];
	smtp_session ss;
	smtp_reply rep;
	smtp_caps caps;
	smtp_timeouts to;
	smtp_tls_conf tc;
	int tls_loaded;
	smtp_dns *dns;
	long long deadline;          /* overall, 0 = none */
	char host[256], ip[64];
	int port, connected, tls_on;
	zbuf err, cmd;
};

static void set_server(zmsmtp_result *r, const zmsmtp_session *s);

/* zmsmtp_opts_init - the defaults */
void zmsmtp_opts_init(zmsmtp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->usetls = 1;
	o->verify = 1;
}

/* zmsmtp_result_free - release the refused list */
void zmsmtp_result_free(zmsmtp_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrefused; i++) {
		free(r->refused[i].address);
		free(r->refused[i].text);
	}
	free(r->refused);
	r->refused = NULL;
	r->nrefused = 0;
}

/* set_result - status, code and text of r */
static void set_result(zmsmtp_result *r, int status, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void set_result(zmsmtp_result *r, int status, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;
	char st[24];

	r->status = status;
	r->code = code;
	(void)zstrlcpy(r->enh, enh ? enh : "", sizeof(r->enh));
	va_start(ap, fmt);
	if (vsnprintf(r->text, sizeof(r->text), fmt, ap) >= (int)sizeof(r->text))
		r->text[sizeof(r->text) - 1] = '\0';
	va_end(ap);
	if (status == ZMSMTP_SENT)
		r->exitcode = EX_OK;
	else if (status == ZMSMTP_TEMPFAIL)
		r->exitcode = EX_TEMPFAIL;
	else {
		r->exitcode = code ? smtp_code_map(code, enh, st, sizeof(st)) : EX_UNAVAILABLE;
		if (r->exitcode == EX_OK || r->exitcode == EX_TEMPFAIL)
			r->exitcode = EX_UNAVAILABLE;
	}
}

/* add_refused - one refused recipient */
static int add_refused(zmsmtp_result *r, const char *addr, const smtp_reply *rep, const char *why)
{
	zmsmtp_refused *nv = realloc(r->refused, (r->nrefused + 1) * sizeof(*nv));
	if (nv == NULL)
		return Z_ENOMEM;
	r->refused = nv;
	nv = &r->refused[r->nrefused];
	memset(nv, 0, sizeof(*nv));
	nv->address = strdup(addr);
	nv->code = rep ? rep->code : 0;
	if (rep)
		(void)zstrlcpy(nv->enh, rep->enh, sizeof(nv->enh));
	nv->text = strdup(rep ? zbuf_cstr(&rep->text) : why);
	if (nv->address == NULL || nv->text == NULL) {
		free(nv->address);
		free(nv->text);
		return Z_ENOMEM;
	}
	r->nrefused++;
	return Z_OK;
}

/* tmo - phase timeout of st, cut to the overall deadline */
static long tmo(zmsmtp_session *s, int st)
{
	long ms = smtp_state_timeout_ms(&s->to, st);
	if (s->deadline > 0) {
		long long left = s->deadline - zmono_ms();
		if (left < 1)
			left = 1;
		if (left < ms)
			ms = (long)left;
	}
	return ms;
}

/* dbg - a transcript line on o->debug */
static void dbg(zmsmtp_session *s, const char *pfx, const char *p, size_t n)
{
	if (s->o.debug != NULL) {
		fprintf(s->o.debug, "%s%.*s\n", pfx, (int)n, p);
		fflush(s->o.debug);
	}
}

/* line_cb - every reply line read goes into the transcript */
static void line_cb(void *arg, const char *line, size_t n)
{
	dbg(arg, "<- ", line, n);
}

/* cmd - queue one command line (hide: secrets not shown) */
static int cmd(zmsmtp_session *s, int hide, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cmd(zmsmtp_session *s, int hide, const char *fmt, ...)
{
	va_list ap;
	int rc;

	zbuf_reset(&s->cmd);
	va_start(ap, fmt);
	rc = zbuf_vprintf(&s->cmd, fmt, ap);
	va_end(ap);
	if (rc != Z_OK || s->cmd.len + 2 > SMTP_CMD_MAX)
		return Z_ETOOBIG;
	dbg(s, "-> ", hide ? "(hidden)" : s->cmd.data, hide ? 8 : s->cmd.len);
	zbuf_puts(&s->cmd, "\r\n");
	rc = smtp_session_queue(&s->ss, s->cmd.data, s->cmd.len);
	if (hide)
		memset(s->cmd.data, 0, s->cmd.len);
	return rc;
}

/* reply - flush and read one reply in state st; on failure the
 * connection is closed and s->err says why */
static int reply(zmsmtp_session *s, int st)
{
	zbuf why = ZBUF_INIT(512);
	int rc;

	smtp_session_state(&s->ss, st);
	rc = smtp_session_flush(&s->ss, tmo(s, S_BODY), &why);
	if (rc == Z_OK)
		rc = smtp_session_reply(&s->ss, tmo(s, st), &s->rep, &why);
	if (rc != Z_OK) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "%s, %s (%s [%s]:%d)", zbuf_cstr(&why), smtp_state(st)->desc,
			    s->host, s->ip, s->port);
		smtp_session_close(&s->ss);
		s->connected = 0;
	}
	zbuf_free(&why);
	return rc;
}

/* fail_reply - s->err from the current reply */
static void fail_reply(zmsmtp_session *s, const char *what)
{
	zbuf_reset(&s->err);
	zbuf_printf(&s->err, "%s: %s (%s [%s]:%d)", what, zbuf_cstr(&s->rep.text), s->host, s->ip,
		    s->port);
}

/* quit - QUIT (reply read briefly) and close */
static void quit(zmsmtp_session *s)
{
	if (s->connected) {
		if (cmd(s, 0, "QUIT") == Z_OK)
			(void)reply(s, S_QUIT);
		smtp_session_close(&s->ss);
	}
	s->connected = 0;
	s->tls_on = 0;
}

/* io_cmd - the shared dialogues' command hook (secrets never shown) */
static int io_cmd(void *arg, int hide, const char *line)
{
	return cmd(arg, hide != 0, "%s", line);
}

/* io_reply - the shared dialogues' reply hook */
static int io_reply(void *arg, int st, const smtp_reply **rep)
{
	zmsmtp_session *s = arg;
	*rep = &s->rep;
	return reply(s, st);
}

/* hello - zmsmtp_hello (EHLO, HELO after a 5xx); Z_OK with s->caps.
 * EHLO dropped or answered 4xx: this server is given up. */
static int hello(zmsmtp_session *s)
{
	zmsmtp_io io = { s, io_cmd, io_reply };
	char peer[400];
	int rc;

	snprintf(peer, sizeof(peer), "%.200s [%.63s]:%d", s->host, s->ip, s->port);
	rc = zmsmtp_hello(&io, s->client, 0, NULL, peer, &s->caps, &s->err);
	if (rc == 1 && s->connected) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "EHLO refused by %s: %s", peer, zbuf_cstr(&s->rep.text));
	}
	return rc == 0 ? Z_OK : Z_ERR;
}

/* policy - ask the caller whether to go on without (verified) TLS; 1 goes on */
static int policy(zmsmtp_session *s, int code, const char *text)
{
	dbg(s, "-- TLS: ", text, strlen(text));
	if (s->o.tlspolicy == NULL)
		return 1;
	return s->o.tlspolicy(s->o.tlspolicy_arg, code, text) == ZMSMTP_TLS_INSECURE;
}

enum { TLS_OK = 0, TLS_GIVEUP, TLS_RETRY_CLEAR };

/* starttls - STARTTLS when offered and wanted, the policy otherwise */
static int starttls(zmsmtp_session *s)
{
	zbuf info = ZBUF_INIT(1024), why = ZBUF_INIT(1024);
	int rc = TLS_GIVEUP;

	if (!(s->caps.flags & CAP_STARTTLS)) {
		if (policy(s, 0, "STARTTLS not offered by the server"))
			rc = TLS_OK;
		else
			zbuf_printf(&s->err, "STARTTLS not offered by %s and the policy wants TLS", s->host);
		goto done;
	}
	if (!s->tls_loaded) {
		/* mode "may": the handshake says verified or not, the policy decides */
		if (smtp_tls_load(NULL, &s->tc, &why) != Z_OK) {
			zbuf_printf(&s->err, "TLS set-up: %s", zbuf_cstr(&why));
			goto done;
		}
		s->tls_loaded = 1;
		if (s->o.cafile != NULL &&
		    SSL_CTX_load_verify_locations((SSL_CTX *)s->tc.ctx, s->o.cafile, NULL) != 1) {
			zbuf_printf(&s->err, "TLS set-up: cannot load CA file %s", s->o.cafile);
			goto done;
		}
	}
	{
		zmsmtp_io io = { s, io_cmd, io_reply };
		char peer[400];
		zbuf t = ZBUF_INIT(1024);
		int st;

		snprintf(peer, sizeof(peer), "%.200s [%.63s]:%d", s->host, s->ip, s->port);
		st = zmsmtp_starttls(&io, &s->ss, &s->tc, s->host, s->host, tmo(s, S_TLS), peer, &info,
				     &why);
		if (st == ZMT_LOST) {
			zbuf_free(&t);
			goto done;
		}
		if (st == ZMT_REFUSED) {
			zbuf_printf(&t, "STARTTLS refused: %s", zbuf_cstr(&s->rep.text));
			if (policy(s, s->rep.code, zbuf_cstr(&t)))
				rc = TLS_OK;
			else
				fail_reply(s, "STARTTLS refused and the policy wants TLS");
			zbuf_free(&t);
			goto done;
		}
		if (st == ZMT_INJECTED) {
			zbuf_reset(&s->err);
			zbuf_append(&s->err, why.data, why.len);
			smtp_session_close(&s->ss);
			s->connected = 0;
			zbuf_free(&t);
			goto done;
		}
		if (st == ZMT_HANDSHAKE) {
			zbuf_printf(&t, "TLS handshake failed: %s", zbuf_cstr(&why));
			smtp_session_close(&s->ss);
			s->connected = 0;
			rc = policy(s, 0, zbuf_cstr(&t)) ? TLS_RETRY_CLEAR : TLS_GIVEUP;
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "%s (%s)", zbuf_cstr(&t), s->host);
			zbuf_free(&t);
			goto done;
		}
		zbuf_free(&t);
	}
	s->tls_on = 1;
	dbg(s, "-- TLS on: ", zbuf_cstr(&info), info.len);
	if (s->o.verify && s->ss.tls != STLS_VERIFIED) {
		zbuf t = ZBUF_INIT(1024);
		zbuf_printf(&t, "certificate of %s not verified: %s", s->host, zbuf_cstr(&info));
		if (!policy(s, -1, zbuf_cstr(&t))) {
			zbuf_reset(&s->err);
			zbuf_append(&s->err, t.data, t.len);
			zbuf_free(&t);
			goto done;
		}
		zbuf_free(&t);
	}
	rc = hello(s) == Z_OK ? TLS_OK : TLS_GIVEUP;
done:
	zbuf_free(&info);
	zbuf_free(&why);
	return rc;
}

/* auth - AUTH with the strongest allowed mechanism */
static int auth(zmsmtp_session *s)
{
	unsigned allow = s->o.mechs ? s->o.mechs : (ZMSMTP_AUTH_PLAIN | ZMSMTP_AUTH_LOGIN | ZMSMTP_AUTH_CRAMMD5);
	unsigned offered = (s->caps.flags & CAP_AUTH) ? s->caps.auth : 0, use = 0;
	int rc = Z_ERR, clear_ok = s->tls_on || s->o.auth_cleartext;

	if ((allow & ZMSMTP_AUTH_CRAMMD5) && (offered & AUTHM_CRAMMD5))
		use = AUTHM_CRAMMD5;
	else if (clear_ok && (allow & ZMSMTP_AUTH_PLAIN) && (offered & AUTHM_PLAIN))
		use = AUTHM_PLAIN;
	else if (clear_ok && (allow & ZMSMTP_AUTH_LOGIN) && (offered & AUTHM_LOGIN))
		use = AUTHM_LOGIN;
	if (use == 0) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "no usable AUTH mechanism at %s (%s%s)", s->host,
			    offered ? "offered ones need TLS or are not allowed" : "AUTH not offered",
			    s->tls_on ? "" : ", no TLS");
		goto done;
	}
	{
		zmsmtp_io io = { s, io_cmd, io_reply };
		zbuf why = ZBUF_INIT(512);
		int xr = zmsmtp_auth_exchange(use, s->o.username, s->o.password, &io, &why);
		if (xr != Z_OK && xr != Z_EIO) {
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "%s (%s)", zbuf_cstr(&why), s->host);
		}
		zbuf_free(&why);
		if (xr != Z_OK)
			goto done;
	}
	if (s->rep.code != 235) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "AUTH %s failed at %s: %s", smtp_sasl_mech_name(use), s->host,
			    zbuf_cstr(&s->rep.text));
		goto done;
	}
	dbg(s, "-- AUTH ok: ", smtp_sasl_mech_name(use), strlen(smtp_sasl_mech_name(use)));
	rc = Z_OK;
done:
	smtp_session_wipe(&s->ss);
	return rc;
}

/* try_one - connect to one address and get the session ready; Z_OK */
static int try_one(zmsmtp_session *s, const struct sockaddr *sa, socklen_t salen, int clear)
{
	smtp_bind b;
	smtp_session_cb cb;
	zbuf why = ZBUF_INIT(512);
	int fd, t;

	memset(&b, 0, sizeof(b));
	memset(&cb, 0, sizeof(cb));
	cb.arg = s;
	cb.line = line_cb;
	dbg(s, "-- connecting to ", s->ip, strlen(s->ip));
	fd = smtp_connect(sa, salen, &b, (int)tmo(s, S_CONNECT), &why);
	if (fd < 0) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "%s (%s)", zbuf_cstr(&why), s->host);
		zbuf_free(&why);
		return Z_EIO;
	}
	zbuf_free(&why);
	smtp_session_free(&s->ss);
	smtp_session_init(&s->ss, &cb);
	smtp_session_attach(&s->ss, fd);
	s->ss.tcpw_ms = tmo(s, S_BODY);
	s->connected = 1;
	s->tls_on = 0;
	if (s->o.silent_server)
		cmd(s, 0, "NOOP");
	if (reply(s, s->o.silent_server ? S_NOOP : S_GREET) != Z_OK)
		return Z_EIO;
	if ((s->o.silent_server ? s->rep.code / 100 != 2 : s->rep.code != 220)) {
		fail_reply(s, "bad greeting");
		quit(s);
		return Z_ERR;
	}
	if (hello(s) != Z_OK) {
		quit(s);
		return Z_ERR;
	}
	if (s->o.usetls && !clear) {
		t = starttls(s);
		if (t == TLS_RETRY_CLEAR)
			return 1;
		if (t != TLS_OK) {
			quit(s);
			return Z_ERR;
		}
	}
	if (s->o.username != NULL && s->o.password != NULL && auth(s) != Z_OK) {
		quit(s);
		return Z_ERR;
	}
	return Z_OK;
}

/* try_addr - try_one, and once more in clear text when the policy said so */
static int try_addr(zmsmtp_session *s, const struct sockaddr *sa, socklen_t salen)
{
	int rc = try_one(s, sa, salen, 0);
	if (rc == 1)
		rc = try_one(s, sa, salen, 1);
	return rc;
}

/* try_list - every address of l */
static int try_list(zmsmtp_session *s, const smtp_mxlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		int skip = 0;
		for (size_t k = 0; k < s->o.nskip_mx; k++)
			if (strcasecmp(s->o.skip_mx[k], l->a[i].name) == 0)
				skip = 1;
		if (skip) {
			dbg(s, "-- skipping MX ", l->a[i].name, strlen(l->a[i].name));
			continue;
		}
		(void)zstrlcpy(s->host, l->a[i].name, sizeof(s->host));
		(void)zstrlcpy(s->ip, l->a[i].ip, sizeof(s->ip));
		s->port = l->a[i].port;
		if (try_addr(s, (const struct sockaddr *)&l->a[i].sa, l->a[i].salen) == Z_OK)
			return Z_OK;
		if (s->deadline > 0 && zmono_ms() >= s->deadline)
			break;
	}
	return Z_ERR;
}

/* dns - the DNS channel, made on first use */
static int dns(zmsmtp_session *s, int port)
{
	smtp_dns_opts d;
	zbuf why = ZBUF_INIT(512);
	int rc = Z_OK;

	if (s->dns != NULL)
		smtp_dns_free(s->dns);
	s->dns = NULL;
	memset(&d, 0, sizeof(d));
	d.use_mx = 1;
	d.port = port;
	d.servers = s->o.dns_servers;
	d.myhostname = s->client;
	d.allow_loopback = s->o.allow_loopback;
	d.addrmap = s->o.test_addrmap;
	d.timeout_ms = 3000;
	d.tries = 2;
	if (smtp_dns_init(&s->dns, &d, &why) != Z_OK) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "DNS: %s", zbuf_cstr(&why));
		rc = Z_ERR;
	}
	zbuf_free(&why);
	return rc;
}

/* host_list - the addresses of one server name or literal */
static int host_list(zmsmtp_session *s, const char *name, int port, smtp_mxlist *l, int *perm)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&l->a[0].sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&l->a[0].sa;
	char lit[256];
	size_t n = strlen(name);
	zbuf why = ZBUF_INIT(512);
	int st;

	memset(l, 0, sizeof(*l));
	if (n >= 2 && name[0] == '[' && name[n - 1] == ']' && n - 2 < sizeof(lit)) {
		memcpy(lit, name + 1, n - 2);
		lit[n - 2] = '\0';
		name = strncasecmp(lit, "IPv6:", 5) == 0 ? lit + 5 : lit;
	}
	(void)zstrlcpy(l->a[0].name, name, sizeof(l->a[0].name));
	(void)zstrlcpy(l->a[0].ip, name, sizeof(l->a[0].ip));
	l->a[0].port = port;
	if (inet_pton(AF_INET, name, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		l->a[0].salen = sizeof(*v4);
		l->n = 1;
		return Z_OK;
	}
	if (inet_pton(AF_INET6, name, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		l->a[0].salen = sizeof(*v6);
		l->n = 1;
		return Z_OK;
	}
	if (dns(s, port) != Z_OK)
		return Z_ERR;
	st = smtp_dns_host_addrs(s->dns, name, l, &why);
	if (st != SDNS_OK) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "%s", zbuf_cstr(&why));
		*perm = st != SDNS_TEMPFAIL;
	}
	zbuf_free(&why);
	return st == SDNS_OK ? Z_OK : Z_ERR;
}

/* open_any - the first server that takes us; Z_OK, Z_ERR (temp) or Z_EPARSE (perm) */
static int open_any(zmsmtp_session *s)
{
	smtp_mxlist *l = calloc(1, sizeof(*l));
	int rc = Z_ERR, perm = 0, port = s->o.nports ? s->o.ports[0] : 25;

	if (l == NULL)
		return Z_ENOMEM;
	for (size_t i = 0; i < s->o.nservers && rc != Z_OK; i++) {
		int p = s->o.nports == 0 ? 25 : s->o.ports[i < s->o.nports ? i : s->o.nports - 1];
		perm = 0;
		if (host_list(s, s->o.servers[i], p, l, &perm) == Z_OK)
			rc = try_list(s, l);
	}
	if (rc != Z_OK && s->o.nservers == 0 && s->o.domain != NULL) {
		zbuf why = ZBUF_INIT(512);
		int st = Z_ERR;
		if (dns(s, port) == Z_OK) {
			st = smtp_dns_resolve(s->dns, s->o.domain, l, &why);
			if (st == SDNS_OK) {
				rc = try_list(s, l);
			} else {
				zbuf_reset(&s->err);
				zbuf_append(&s->err, why.data, why.len);
				perm = st != SDNS_TEMPFAIL;
			}
		}
		zbuf_free(&why);
	}
	if (rc != Z_OK && s->o.nservers == 0 && s->o.gateway != NULL) {
		perm = 0;
		dbg(s, "-- trying gateway ", s->o.gateway, strlen(s->o.gateway));
		if (host_list(s, s->o.gateway, s->o.gateway_port > 0 ? s->o.gateway_port : port, l,
			      &perm) == Z_OK)
			rc = try_list(s, l);
	}
	if (rc != Z_OK && s->o.nservers == 0 && s->o.domain == NULL && s->o.gateway == NULL) {
		zbuf_reset(&s->err);
		zbuf_puts(&s->err, "no servers, domain or gateway given");
		perm = 1;
	}
	free(l);
	if (rc != Z_OK && perm)
		return Z_EPARSE;
	return rc;
}

/* new_session - a session object for o */
static zmsmtp_session *new_session(const zmsmtp_opts *o)
{
	zmsmtp_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->o = *o;
	if (o->client != NULL)
		(void)zstrlcpy(s->client, o->client, sizeof(s->client));
	else if (gethostname(s->client, sizeof(s->client) - 1) != 0 || s->client[0] == '\0')
		(void)zstrlcpy(s->client, "localhost", sizeof(s->client));
	smtp_reply_init(&s->rep);
	smtp_session_init(&s->ss, NULL);
	smtp_timeouts_default(&s->to);
	if (o->tmo_conn > 0)
		s->to.conn = o->tmo_conn;
	if (o->tmo_cmd > 0)
		s->to.cmd = o->tmo_cmd;
	if (o->tmo_data > 0)
		s->to.data = o->tmo_data;
	if (o->tmo_dot > 0)
		s->to.dot = o->tmo_dot;
	if (o->tmo_total > 0)
		s->deadline = zmono_ms() + o->tmo_total * 1000;
	zbuf_init(&s->err, 4096);
	zbuf_init(&s->cmd, SMTP_CMD_MAX + 16);
	signal(SIGPIPE, SIG_IGN);   /* OpenSSL writes with write(2) */
	return s;
}

/* zmsmtp_close - QUIT and free */
void zmsmtp_close(zmsmtp_session *s)
{
	if (s == NULL)
		return;
	quit(s);
	smtp_session_free(&s->ss);
	smtp_reply_free(&s->rep);
	if (s->tls_loaded)
		smtp_tls_free(&s->tc);
	if (s->dns != NULL)
		smtp_dns_free(s->dns);
	zbuf_free(&s->err);
	smtp_zbuf_wipe(&s->cmd);
	free(s);
}

/* zmsmtp_open - a ready session with the first server that takes us */
zmsmtp_session *zmsmtp_open(const zmsmtp_opts *o, zmsmtp_result *r)
{
	zmsmtp_session *s = new_session(o);
	int rc;

	memset(r, 0, sizeof(*r));
	if (s == NULL) {
		set_result(r, ZMSMTP_TEMPFAIL, 0, "4.3.0", "out of memory");
		return NULL;
	}
	rc = open_any(s);
	if (rc != Z_OK) {
		set_result(r, rc == Z_EPARSE ? ZMSMTP_PERMFAIL : ZMSMTP_TEMPFAIL, 0,
			   rc == Z_EPARSE ? "5.4.4" : "4.4.1", "%s",
			   s->err.len ? zbuf_cstr(&s->err) : "no server answered");
		zmsmtp_close(s);
		return NULL;
	}
	set_server(r, s);
	return s;
}

/* set_server - "host [ip]:port" of the session into r (truncated if long) */
static void set_server(zmsmtp_result *r, const zmsmtp_session *s)
{
	if (snprintf(r->server, sizeof(r->server), "%.200s [%.63s]:%d", s->host, s->ip, s->port) < 0)
		r->server[0] = '\0';
}

/* lost - the connection went during a transaction */
static int lost(zmsmtp_session *s, zmsmtp_result *r)
{
	set_result(r, ZMSMTP_TEMPFAIL, 0, "4.4.2", "%s", zbuf_cstr(&s->err));
	return r->status;
}

/* the transaction engine's hooks (zmsmtp_xact.c) */
struct xh {
	zmsmtp_session *s;
	zmsmtp_result *r;
	char **rcpt;
	smtp_reply fin;              /* the deciding reply after RCPT (first one) */
	int fin_at;                  /* 0 none, -1 DATA refused, 1 end of data */
};

/* xh_cmd - a command line (items matter only to the agent's transcript) */
static int xh_cmd(void *arg, long item, const char *line)
{
	struct xh *h = arg;
	(void)item;
	return cmd(h->s, 0, "%s", line);
}

/* xh_reply - one reply */
static int xh_reply(void *arg, int st, long item, const smtp_reply **rep)
{
	struct xh *h = arg;
	(void)item;
	*rep = &h->s->rep;
	return reply(h->s, st);
}

/* xh_verdict - a RCPT verdict: accepted, or into the refused list */
static void xh_verdict(void *arg, size_t i, const smtp_reply *rep, int verdict)
{
	struct xh *h = arg;

	if (verdict != ZMV_ACCEPT)
		(void)add_refused(h->r, h->rcpt[i], rep, NULL);
}

/* xh_unsent - an address that cannot go into a command line */
static void xh_unsent(void *arg, size_t i, int why)
{
	struct xh *h = arg;
	(void)why;
	(void)add_refused(h->r, h->rcpt[i], NULL, "unusable address (not sent)");
}

/* xh_result - the DATA or end-of-data reply (the same for every recipient) */
static void xh_result(void *arg, size_t i, const smtp_reply *rep, int at)
{
	struct xh *h = arg;
	(void)i;
	if (h->fin_at != 0)
		return;
	h->fin_at = at;
	if (smtp_reply_copy(&h->fin, rep) != Z_OK) {
		h->fin.code = rep->code;
		memcpy(h->fin.enh, rep->enh, sizeof(h->fin.enh));
	}
}

/* xh_tmo - a flush's timeout */
static long xh_tmo(void *arg, int st)
{
	struct xh *h = arg;
	return tmo(h->s, st);
}

/* rset - RSET after a transaction that sent no message; QUIT when refused */
static void rset(zmsmtp_session *s, zmsmtp_xact *x)
{
	if (s->connected && zmsmtp_xact_rset(x) != Z_OK)
		quit(s);
}

/* one - one transaction on s: sender, rcpt[0..nrcpt), msg; refused
 * recipients appended to r, r's status set */
static void one(zmsmtp_session *s, const zmsmtp_opts *o, const char *sender, char **rcpt,
		size_t nrcpt, const zbuf *msg, zmsmtp_result *r)
{
	zmsmtp_xact x;
	zmsmtp_xrcpt *xr = NULL;
	struct xh h;
	int worst = ZMSMTP_TEMPFAIL, rc;
	size_t nacc, nref0 = r->nrefused;

	memset(&h, 0, sizeof(h));
	smtp_reply_init(&h.fin);
	zmsmtp_xact_init(&x);
	xr = calloc(nrcpt ? nrcpt : 1, sizeof(*xr));
	if (xr == NULL) {
		set_result(r, ZMSMTP_TEMPFAIL, 0, "4.3.0", "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nrcpt; i++)
		xr[i].addr = rcpt[i];
	h.s = s;
	h.r = r;
	h.rcpt = rcpt;
	x.ss = &s->ss;
	x.caps = &s->caps;
	if (s->caps.flags & CAP_PIPELINING)
		x.flags |= ZMX_PIPELINE;
	if (s->caps.flags & CAP_CHUNKING)
		x.flags |= ZMX_BDAT;
	if (!o->atleastone)
		x.flags |= ZMX_ALL_OR_NOTHING;
	if (o->ping)
		x.flags |= ZMX_NO_DATA;
	x.mail.sender = sender;
	x.mail.size = msg->len;
	x.mail.body8 = msg->data != NULL && mime_has8(msg->data, msg->len);
	x.rcpt = xr;
	x.n = nrcpt;
	x.buf = msg->data ? msg->data : "";
	x.len = msg->len;
	x.arg = &h;
	x.cmd = xh_cmd;
	x.reply = xh_reply;
	x.rcpt_verdict = xh_verdict;
	x.unsent = xh_unsent;
	x.result = xh_result;
	x.tmo = xh_tmo;
	rc = zmsmtp_xact_run(&x);
	if (x.drop != NULL && s->connected) {
		/* e.g. DATA answered 354 after MAIL was refused: it waits for a body */
		smtp_session_close(&s->ss);
		s->connected = 0;
	}
	nacc = x.nacc;
	r->naccepted += nacc;
	switch (rc) {
	case ZMX_BADMAIL:
		set_result(r, ZMSMTP_PERMFAIL, 0, "5.1.7", "unusable originator '%s'", sender);
		goto done;
	case ZMX_MAILFAIL:
		(void)smtp_reply_copy(&s->rep, &x.mailrep);
		set_result(r, s->rep.code / 100 == 5 ? ZMSMTP_PERMFAIL : ZMSMTP_TEMPFAIL, s->rep.code,
			   s->rep.enh, "MAIL refused: %s", zbuf_cstr(&s->rep.text));
		rset(s, &x);
		goto done;
	case ZMX_LOST_MAIL:
	case ZMX_LOST:
		lost(s, r);
		goto done;
	case ZMX_BODYFAIL:
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "%s, %s (%s [%s]:%d)",
			    x.why.len ? zbuf_cstr(&x.why) : "cannot queue the body",
			    smtp_state(S_BODY)->desc, s->host, s->ip, s->port);
		smtp_session_close(&s->ss);
		s->connected = 0;
		lost(s, r);
		goto done;
	default:
		break;
	}
	if (rc == ZMX_NOBODY && h.fin_at != 0) {
		/* DATA (or a BDAT chunk) refused */
		set_result(r, h.fin.code / 100 == 5 ? ZMSMTP_PERMFAIL : ZMSMTP_TEMPFAIL, h.fin.code,
			   h.fin.enh, "%s refused: %s", h.fin_at < 0 ? "DATA" : "message",
			   zbuf_cstr(&h.fin.text));
		rset(s, &x);
		goto done;
	}
	if (rc == ZMX_NOBODY) {
		size_t nref = r->nrefused - nref0;
		const zmsmtp_refused *rf = r->refused + nref0;
		int temp = 0;
		for (size_t i = 0; i < nref; i++) {
			if (rf[i].code / 100 == 5 || rf[i].code == 0)
				worst = ZMSMTP_PERMFAIL;
			temp |= rf[i].code / 100 == 4;
		}
		rset(s, &x);
		if (o->ping && nacc > 0 && !temp)
			set_result(r, ZMSMTP_SENT, 250, "2.1.5", "%zu of %zu recipients accepted (ping)",
				   nacc, nrcpt);
		else
			set_result(r, worst, nref ? rf[0].code : 0, nref ? rf[0].enh : "",
				   "%zu of %zu recipients refused%s", nref, nrcpt,
				   nacc && !o->ping ? ", message not sent" : "");
		goto done;
	}
	if (h.fin.code / 100 != 2) {
		set_result(r, h.fin.code / 100 == 5 ? ZMSMTP_PERMFAIL : ZMSMTP_TEMPFAIL, h.fin.code,
			   h.fin.enh, "message refused: %s", zbuf_cstr(&h.fin.text));
		goto done;
	}
	set_result(r, ZMSMTP_SENT, h.fin.code, h.fin.enh, "%s", zbuf_cstr(&h.fin.text));
done:
	if (s->connected && s->rep.code == 421)
		quit(s);
	free(xr);
	zmsmtp_xact_free(&x);
	smtp_reply_free(&h.fin);
}

/* zmsmtp_send - one message on s: the copy to its recipients, then (Tcllib's
 * Bcc rule) the Bcc recipients' digest in a second transaction */
int zmsmtp_send(zmsmtp_session *s, const zmsmtp_opts *o, const char *msg, size_t len,
		zmsmtp_result *r)
{
	zmsmtp_env e;
	zbuf err = ZBUF_INIT(1024);

	memset(r, 0, sizeof(*r));
	if (o == NULL)
		o = &s->o;
	zmsmtp_env_init(&e);
	if (zmsmtp_env_build(o, msg, len, &e, &err) != Z_OK) {
		set_result(r, ZMSMTP_PERMFAIL, 0, "5.6.0", "%s", zbuf_cstr(&err));
		r->exitcode = EX_DATAERR;
		goto done;
	}
	set_server(r, s);
	if (!s->connected) {
		set_result(r, ZMSMTP_TEMPFAIL, 0, "4.4.2", "not connected: %s", zbuf_cstr(&s->err));
		goto done;
	}
	if (e.nrcpt > 0)
		one(s, o, zbuf_cstr(&e.sender), e.rcpt, e.nrcpt, &e.msg, r);
	if (e.nbcc > 0) {
		zmsmtp_result rb;
		memset(&rb, 0, sizeof(rb));
		if (s->connected)
			one(s, o, zbuf_cstr(&e.sender), e.bcc, e.nbcc, &e.digest, &rb);
		else
			set_result(&rb, ZMSMTP_TEMPFAIL, 0, "4.4.2", "not connected: %s",
				   zbuf_cstr(&s->err));
		/* one result: the refused lists joined, the first failure decides */
		if (e.nrcpt == 0 || r->status == ZMSMTP_SENT) {
			r->status = rb.status;
			r->exitcode = rb.exitcode;
			r->code = rb.code;
			memcpy(r->enh, rb.enh, sizeof(r->enh));
			if (e.nrcpt == 0 || rb.status != ZMSMTP_SENT)
				(void)zstrlcpy(r->text, rb.text, sizeof(r->text));
		}
		r->naccepted += rb.naccepted;
		for (size_t i = 0; i < rb.nrefused; i++) {
			zmsmtp_refused *nv = realloc(r->refused, (r->nrefused + 1) * sizeof(*nv));
			if (nv == NULL)
				break;
			r->refused = nv;
			r->refused[r->nrefused++] = rb.refused[i];
			rb.refused[i].address = rb.refused[i].text = NULL;
		}
		zmsmtp_result_free(&rb);
	}
done:
	zbuf_free(&err);
	zmsmtp_env_free(&e);
	return r->status;
}

/* zmsmtp_sendmessage - open, send, close */
int zmsmtp_sendmessage(const zmsmtp_opts *o, const char *msg, size_t len, zmsmtp_result *r)
{
	zmsmtp_session *s;
	zmsmtp_env e;
	zbuf err = ZBUF_INIT(1024);
	int bad;

	/* a message that cannot be sent anywhere fails before any connection */
	zmsmtp_env_init(&e);
	bad = zmsmtp_env_build(o, msg, len, &e, &err) != Z_OK;
	zmsmtp_env_free(&e);
	if (bad) {
		memset(r, 0, sizeof(*r));
		set_result(r, ZMSMTP_PERMFAIL, 0, "5.6.0", "%s", zbuf_cstr(&err));
		r->exitcode = EX_DATAERR;
		zbuf_free(&err);
		return r->status;
	}
	zbuf_free(&err);
	s = zmsmtp_open(o, r);
	if (s == NULL)
		return r->status;
	(void)zmsmtp_send(s, o, msg, len, r);
	zmsmtp_close(s);
	return r->status;
}
