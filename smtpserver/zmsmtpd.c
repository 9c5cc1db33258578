/*
 * NAME
 *	zmsmtpd - the SMTP server protocol engine (libzmsmtpd)
 * SUMMARY
 *	Sessions on an event loop (lib/zevent), or one session on a pair of
 *	file descriptors; ESMTP commands, DATA and BDAT readers, STARTTLS,
 *	AUTH; every decision about hosts, senders, recipients and the
 *	message is a callback.
 * SYNOPSIS
 *	zmsmtpd *zmsmtpd_new(const zmsmtpd_callbacks *cb);
 *	int zmsmtpd_configure(zmsmtpd *d, const char *name, const char *value, ...);
 *	int zmsmtpd_start(zmsmtpd *d, const char *address, int port, unsigned flags, ...);
 *	int zmsmtpd_run(zmsmtpd *d);  void zmsmtpd_stop(zmsmtpd *d, int drain);
 *	int zmsmtpd_serve_fds(zmsmtpd *d, int infd, int outfd, const char *ip);
 *	(the rest in zmsmtpd.h)
 * DESCRIPTION
 *	A session reads what the client sends into a bounded input buffer
 *	(never discarded after a failed command, so pipelined commands all
 *	get their replies, in order) and queues replies; the replies are
 *	written when the input buffer holds no complete command any more
 *	(RFC 2920 batching).  Commands: EHLO HELO MAIL RCPT DATA BDAT RSET
 *	NOOP QUIT HELP VRFY STARTTLS AUTH ETRN; EXPN TURN SEND SOML SAML
 *	get 502; anything else 500.  MAIL and RCPT parameters go through
 *	mail/mparam (unknown 555).  A refused client (validate_host reject)
 *	gets 554 and 503 to all but QUIT.  <Postmaster> is always accepted.
 *	DATA: lines end in CRLF.  A bare LF or bare CR ends a line too, but
 *	such a line and the line after it can never be the end of data; the
 *	message is refused (550 5.6.11) unless the option bare-lf is
 *	"normalise".  BDAT chunks are read exactly by count; DATA and BDAT
 *	are never mixed in one transaction.  The message, with LF line
 *	ends, is kept in memory up to MSG_MEM_MAX (then deliver gets it as
 *	an fmemopen stream) and beyond that goes to a scratch file in
 *	tmpdir (unlinked at once; no file is created for most mail); deliver
 *	gets it with the envelope, and its verdict is the reply to the end
 *	of data.
 *	STARTTLS discards anything the client pipelined behind it and
 *	resets the whole session state.  AUTH: with auth_secret (clear-text
 *	secrets) every mechanism goes through the smtp/ SASL server; with
 *	auth_verify (hashed passwords) PLAIN and LOGIN are decoded here and
 *	the password handed to the callback.
 *	A ZMSMTPD_L_PROXY listener reads a PROXY v1/v2 header (pol_proxy)
 *	before the greeting (ST_PROXY) and takes its source address as the
 *	client's.  With the option tarpit, the greeting and the reply to a
 *	rejected command (4xx/5xx but 421) are held until a timer of the
 *	loop fires (pol_limit's delays; hold_until), and input waits too;
 *	after tarpit-max-rejects the next command gets 421.  drop_host is
 *	asked at accept, and again with the client address of a PROXY
 *	header, and may close a connection silently (zmsmtpd_sess.c);
 *	transcript sees the bytes of zms_io_fill and zms_io_flush
 *	(zmsmtpd_io.c); refused gets a message finish_msg refused (too big,
 *	bare LF/CR; zmsmtpd_data.c).
 * DIAGNOSTICS
 *	Replies to the client; log callback lines; functions return 0/-1
 *	with text in err.
 * SECURITY
 *	Every byte from the client is bounded: command line (max-line),
 *	input buffer (64 KiB + a chunk), recipients, message size, commands
 *	and errors per session (then 421), sessions in total and per client
 *	address (421 at connect), the PROXY header (1024 bytes, then
 *	closed).  AUTH PLAIN/LOGIN are offered
 *	only under TLS unless auth-plaintext is set.  Secrets are wiped.
 *	Asynchronous delivery: a deliver callback may call
 *	zmsmtpd_deliver_async; the session then waits (waiting: no reads,
 *	no command, no timeout; a client that leaves makes it a zombie,
 *	freed only at zmsmtpd_deliver_done) until the program posts the
 *	verdict with zmsmtpd_deliver_done from the loop's thread, usually
 *	from a zmsmtpd_watch_fd callback on its workers' wake-up pipe.
 *	The engine is split in modules (zmsmtpd_int.h lists them); this one
 *	is the public API.
 * BUGS
 *	A synchronous deliver callback holds up the other sessions while it
 *	runs.  zmsmtpd_watch_fd takes at most MAX_WATCH descriptors.  The TLS
 *	handshake is a step of the loop (it never blocks it) except in
 *	zmsmtpd_serve_fds, where it is bounded by timeout-command.
 * SEE ALSO
 *	libzmsmtpd(3), smtpserver(8), zmta-smtp(3), RFC 5321, 1870, 2920,
 *	3030, 3207, 3461, 4954, 6152, 6531
 */
#include "zmsmtpd_int.h"

/* ---------- public ---------- */

zmsmtpd *zmsmtpd_new(const zmsmtpd_callbacks *cb)
{
	zmsmtpd *d = calloc(1, sizeof(*d));
	char host[256] = "localhost";

	if (d == NULL)
		return NULL;
	if (cb != NULL)
		d->cb = *cb;
	(void)gethostname(host, sizeof(host) - 1);
	zstrlcpy(d->o.hostname, host, sizeof(d->o.hostname));
	zstrlcpy(d->o.greeting, "ESMTP zmta", sizeof(d->o.greeting));
	d->o.max_line = 1000;
	d->o.max_rcpts = 1000;
	d->o.max_size = 10240000;
	d->o.max_errors = 20;
	d->o.max_cmds = 100000;
	d->o.max_conns = 2000;
	d->o.max_per_ip = 100;
	pol_tarpit_defaults(&d->o.tp);
	d->o.timeout_cmd = 300;
	d->o.timeout_data = 600;
	d->o.pipelining = 1;
	zstrlcpy(d->o.tmpdir, "/tmp", sizeof(d->o.tmpdir));
	return d;
}

void zmsmtpd_free(zmsmtpd *d)
{
	if (d == NULL)
		return;
	while (d->head != NULL) {
		zmsmtpd_sess *s = d->head;
		/* stopped with sessions open: say so before the close */
		if (d->stopping && (s->state == ST_CMD || s->state == ST_DATA ||
				    s->state == ST_BDAT || s->state == ST_AUTH)) {
			zms_reply(s, 421, "4.3.2", "%s Service shutting down, closing connection",
				  d->o.hostname);
			(void)zms_io_flush(s, 0);
		}
		s->waiting = 0;   /* a delivery in flight must not complete now */
		zms_sess_free(s);
	}
	for (int i = 0; i < d->nlis; i++) {
		if (d->loop)
			zev_io_del(d->loop, d->lis[i].fd);
		close(d->lis[i].fd);
	}
	for (int i = 0; i < d->nwatch; i++) {
		if (d->loop)
			zev_io_del(d->loop, d->watch[i].fd);
		free(d->watch[i].w);
	}
	if (d->loop)
		zev_free(d->loop);
	if (d->tlsctx)
		smtp_tls_ctx_free(d->tlsctx);
	free(d);
}

static const struct {
	const char *name;
	int kind;   /* 0 string, 1 ulong, 2 bool, 3 seconds */
	size_t off, sz;
} opttab[] = {
#define OS(n, f) { n, 0, offsetof(zms_opts, f), sizeof(((zms_opts *)0)->f) }
#define OU(n, f) { n, 1, offsetof(zms_opts, f), 0 }
#define OB(n, f) { n, 2, offsetof(zms_opts, f), 0 }
#define OT(n, f) { n, 3, offsetof(zms_opts, f), 0 }
	OS("hostname", hostname), OS("greeting", greeting), OU("max-line", max_line),
	OU("max-rcpts", max_rcpts), OU("max-size", max_size), OU("max-errors", max_errors),
	OU("max-commands", max_cmds), OU("max-connections", max_conns),
	OU("max-per-ip", max_per_ip), OT("timeout-command", timeout_cmd),
	OT("timeout-data", timeout_data), OS("tls-cert", tls_cert), OS("tls-key", tls_key),
	OB("auth-required", auth_required), OB("auth-plaintext", auth_plaintext),
	OB("vrfy", vrfy), OB("pipelining", pipelining), OS("tmpdir", tmpdir),
	OB("tarpit", tarpit),
	{ "bare-lf", 4, 0, 0 },
};

/* tarpit_opt - the tarpit-* options (milliseconds or counts); NULL if
 * name is not one */
static long *tarpit_ms(zmsmtpd *d, const char *name)
{
	if (strcmp(name, "tarpit-greeting-delay") == 0) return &d->o.tp.greet_ms;
	if (strcmp(name, "tarpit-initial") == 0) return &d->o.tp.initial_ms;
	if (strcmp(name, "tarpit-max") == 0) return &d->o.tp.max_ms;
	return NULL;
}

int zmsmtpd_configure(zmsmtpd *d, const char *name, const char *value, char *err, size_t errsz)
{
	char *base = (char *)&d->o;
	long *ms = tarpit_ms(d, name);

	if (ms != NULL || strcmp(name, "tarpit-factor") == 0 || strcmp(name, "tarpit-max-rejects") == 0) {
		long sec;
		unsigned long u;
		if (ms != NULL) {
			if (zinterval_parse(value, &sec) != Z_OK || sec < 0 || sec > 3600) {
				snprintf(err, errsz, "%s: bad interval \"%s\" (0..1h)", name, value);
				return -1;
			}
			*ms = sec * 1000;
		} else if (zparse_ulong(value, name[7] == 'f' ? 100 : 100000, &u) != Z_OK) {
			snprintf(err, errsz, "%s: bad or out-of-range number \"%s\"", name, value);
			return -1;
		} else if (name[7] == 'f')
			d->o.tp.factor = (unsigned)u;
		else
			d->o.tp.max_rejects = (unsigned)u;
		return 0;
	}

	for (size_t i = 0; i < sizeof(opttab) / sizeof(opttab[0]); i++) {
		if (strcmp(opttab[i].name, name) != 0)
			continue;
		switch (opttab[i].kind) {
		case 0:
			if (zstrlcpy(base + opttab[i].off, value, opttab[i].sz) != Z_OK ||
			    strpbrk(value, "\r\n") != NULL) {
				snprintf(err, errsz, "%s: value too long or has a line break", name);
				return -1;
			}
			break;
		case 1: {
			unsigned long v;
			if (zparse_ulong(value, 0xffffffffUL, &v) != Z_OK ||
			    (strcmp(name, "max-line") == 0 && (v < 512 || v > SMTP_CMD_MAX - 2)) ||
			    (strcmp(name, "max-rcpts") == 0 && (v < 1 || v > 100000)) ||
			    (strcmp(name, "max-errors") == 0 && v < 1) ||
			    (strcmp(name, "max-commands") == 0 && v < 10)) {
				snprintf(err, errsz, "%s: bad or out-of-range number \"%s\"", name, value);
				return -1;
			}
			*(unsigned long *)(base + opttab[i].off) = v;
			break;
		}
		case 2:
			if (strcmp(value, "yes") == 0 || strcmp(value, "1") == 0 || strcmp(value, "true") == 0)
				*(int *)(base + opttab[i].off) = 1;
			else if (strcmp(value, "no") == 0 || strcmp(value, "0") == 0 ||
				 strcmp(value, "false") == 0)
				*(int *)(base + opttab[i].off) = 0;
			else {
				snprintf(err, errsz, "%s: expected yes or no, not \"%s\"", name, value);
				return -1;
			}
			break;
		case 3: {
			long sec;
			if (zinterval_parse(value, &sec) != Z_OK || sec < 1 || sec > 86400) {
				snprintf(err, errsz, "%s: bad interval \"%s\" (1s..1d)", name, value);
				return -1;
			}
			*(long *)(base + opttab[i].off) = sec;
			break;
		}
		default:
			if (strcmp(value, "reject") == 0)
				d->o.normalise = 0;
			else if (strcmp(value, "normalise") == 0 || strcmp(value, "normalize") == 0)
				d->o.normalise = 1;
			else {
				snprintf(err, errsz, "bare-lf: expected reject or normalise");
				return -1;
			}
		}
		if ((strcmp(name, "tls-cert") == 0 || strcmp(name, "tls-key") == 0) &&
		    d->o.tls_cert[0] != '\0') {
			zbuf e = ZBUF_INIT(1024);
			void *ctx = NULL;
			const char *key = d->o.tls_key[0] ? d->o.tls_key : d->o.tls_cert;
			if (smtp_tls_server_ctx(d->o.tls_cert, key, &ctx, &e) != Z_OK) {
				if (strcmp(name, "tls-key") == 0 || d->o.tls_key[0] != '\0' ||
				    strcmp(name, "tls-cert") != 0) {
					snprintf(err, errsz, "%s", zbuf_cstr(&e));
					zbuf_free(&e);
					return -1;
				}
			} else {
				if (d->tlsctx)
					smtp_tls_ctx_free(d->tlsctx);
				d->tlsctx = ctx;
			}
			zbuf_free(&e);
		}
		return 0;
	}
	snprintf(err, errsz, "unknown option \"%s\"", name);
	return -1;
}

int zmsmtpd_cget(zmsmtpd *d, const char *name, char *buf, size_t bufsz)
{
	const char *base = (const char *)&d->o;
	long *ms = tarpit_ms(d, name);

	if (ms != NULL) {
		snprintf(buf, bufsz, "%lds", *ms / 1000);
		return 0;
	}
	if (strcmp(name, "tarpit-factor") == 0 || strcmp(name, "tarpit-max-rejects") == 0) {
		snprintf(buf, bufsz, "%u", name[7] == 'f' ? d->o.tp.factor : d->o.tp.max_rejects);
		return 0;
	}

	for (size_t i = 0; i < sizeof(opttab) / sizeof(opttab[0]); i++) {
		if (strcmp(opttab[i].name, name) != 0)
			continue;
		switch (opttab[i].kind) {
		case 0: snprintf(buf, bufsz, "%s", base + opttab[i].off); break;
		case 1: snprintf(buf, bufsz, "%lu", *(const unsigned long *)(base + opttab[i].off)); break;
		case 2: snprintf(buf, bufsz, "%s", *(const int *)(base + opttab[i].off) ? "yes" : "no"); break;
		case 3: snprintf(buf, bufsz, "%ld", *(const long *)(base + opttab[i].off)); break;
		default: snprintf(buf, bufsz, "%s", d->o.normalise ? "normalise" : "reject");
		}
		return 0;
	}
	return -1;
}

static int ensure_loop(zmsmtpd *d)
{
	if (d->loop == NULL)
		d->loop = zev_new();
	return d->loop ? 0 : -1;
}

int zmsmtpd_listen_fd(zmsmtpd *d, int fd, unsigned flags)
{
	if (d->nlis >= MAX_LISTEN || ensure_loop(d) != 0)
		return -1;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (zev_io_add(d->loop, fd, ZEV_READ | ZEV_EXCLUSIVE, zms_lis_io, d) != Z_OK)
		return -1;
	d->lis[d->nlis].fd = fd;
	d->lis[d->nlis].flags = flags;
	d->lis[d->nlis].port = -1;
	{
		struct sockaddr_storage la;
		socklen_t ll = sizeof(la);
		if (getsockname(fd, (struct sockaddr *)&la, &ll) == 0 &&
		    (la.ss_family == AF_INET || la.ss_family == AF_INET6))
			d->lis[d->nlis].port = d->lastport = ntohs(la.ss_family == AF_INET ?
					    ((struct sockaddr_in *)&la)->sin_port :
					    ((struct sockaddr_in6 *)&la)->sin6_port);
	}
	d->nlis++;
	return 0;
}

int zmsmtpd_start(zmsmtpd *d, const char *address, int port, unsigned flags, char *err,
		  size_t errsz)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	struct sockaddr *sa;
	socklen_t sl;
	int fd, one = 1;

	memset(&a6, 0, sizeof(a6));
	memset(&a4, 0, sizeof(a4));
	if (address == NULL || *address == '\0' || strcmp(address, "*") == 0)
		address = "::";
	if (inet_pton(AF_INET, address, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons((unsigned short)port);
		sa = (struct sockaddr *)&a4;
		sl = sizeof(a4);
	} else if (inet_pton(AF_INET6, address, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((unsigned short)port);
		sa = (struct sockaddr *)&a6;
		sl = sizeof(a6);
	} else {
		snprintf(err, errsz, "bad listen address \"%s\" (numeric address expected)", address);
		return -1;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, sl) != 0 || listen(fd, 128) != 0) {
		snprintf(err, errsz, "cannot listen on [%s]:%d: %s", address, port, strerror(errno));
		close(fd);
		return -1;
	}
	if (zmsmtpd_listen_fd(d, fd, flags) != 0) {
		snprintf(err, errsz, "too many listeners");
		close(fd);
		return -1;
	}
	return 0;
}

/* zmsmtpd_watch_fd - fn(arg) in the loop whenever fd is readable (NULL
 * fn: stop watching) */
typedef struct zms_watch { void (*fn)(void *); void *arg; } zms_watch;

static void watch_io(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	zms_watch *w = arg;

	(void)loop;
	(void)fd;
	(void)ev;
	w->fn(w->arg);
}

int zmsmtpd_watch_fd(zmsmtpd *d, int fd, void (*fn)(void *arg), void *arg)
{
	zms_watch *w;

	if (ensure_loop(d) != 0)
		return -1;
	for (int i = 0; i < d->nwatch; i++) {
		if (d->watch[i].fd != fd)
			continue;
		zev_io_del(d->loop, fd);
		free(d->watch[i].w);
		d->watch[i] = d->watch[--d->nwatch];
		break;
	}
	if (fn == NULL)
		return 0;
	if (d->nwatch >= MAX_WATCH || (w = malloc(sizeof(*w))) == NULL)
		return -1;
	w->fn = fn;
	w->arg = arg;
	if (zev_io_add(d->loop, fd, ZEV_READ, watch_io, w) != 0) {
		free(w);
		return -1;
	}
	d->watch[d->nwatch].fd = fd;
	d->watch[d->nwatch++].w = w;
	return 0;
}

/* zmsmtpd_deliver_async - called in deliver: the reply to the end of data
 * comes with zmsmtpd_deliver_done; 0, or -1 (not in deliver, or a
 * zmsmtpd_serve_fds session: answer in the verdict) */
int zmsmtpd_deliver_async(zmsmtpd_sess *s)
{
	if (s == NULL || !s->in_deliver || !s->loopmode)
		return -1;
	s->waiting = 1;
	return 0;
}

/* zmsmtpd_deliver_done - the verdict of an asynchronous delivery (in the
 * loop's thread); the session goes on, or is freed if its client left */
void zmsmtpd_deliver_done(zmsmtpd_sess *s, const zmsmtpd_verdict *v)
{
	if (s == NULL || !s->waiting)
		return;
	s->waiting = 0;
	if (s->in_deliver) {
		/* done before deliver returned: its verdict after all */
		if (v != NULL && s->dv != NULL)
			*s->dv = *v;
		return;
	}
	if (s->zombie) {
		zms_slog(s, "client gone before the reply to its message (%d)", v ? v->code : 0);
		zms_sess_free(s);
		return;
	}
	if (v != NULL)
		zms_verdict_reply(s, v, 250, "2.0.0", "Message accepted for delivery");
	else
		zms_reply(s, 451, "4.3.0", "Local error in processing");
	(void)zms_sess_step(s);
}

int zmsmtpd_port(const zmsmtpd *d)
{
	return d->lastport;
}

int zmsmtpd_run_once(zmsmtpd *d, int ms)
{
	if (ensure_loop(d) != 0)
		return -1;
	return zev_run_once(d->loop, ms);
}

int zmsmtpd_run(zmsmtpd *d)
{
	if (ensure_loop(d) != 0)
		return -1;
	while (!d->stopping || (d->drain && d->nsess > 0))
		zev_run_once(d->loop, 1000);
	return 0;
}

void zmsmtpd_stop(zmsmtpd *d, int drain)
{
	for (int i = 0; i < d->nlis; i++) {
		zev_io_del(d->loop, d->lis[i].fd);
		close(d->lis[i].fd);
	}
	d->nlis = 0;
	d->stopping = 1;
	d->drain = drain;
}

int zmsmtpd_after_fork(zmsmtpd *d)
{
	zev_loop *nl;

	if (d->loop == NULL)
		return 0;
	if (d->head != NULL || (nl = zev_new()) == NULL)
		return -1;
	for (int i = 0; i < d->nlis; i++)
		if (zev_io_add(nl, d->lis[i].fd, ZEV_READ | ZEV_EXCLUSIVE, zms_lis_io, d) != Z_OK) {
			zev_free(nl);
			return -1;
		}
	/* closes only this process's reference to the shared epoll instance */
	zev_free(d->loop);
	d->loop = nl;
	return 0;
}

unsigned long zmsmtpd_sessions(const zmsmtpd *d)
{
	return d->nsess;
}

int zmsmtpd_serve_fds(zmsmtpd *d, int infd, int outfd, const char *client_ip)
{
	zmsmtpd_sess *s = zms_sess_new(d, infd, outfd, client_ip, 0, 0);

	if (s == NULL)
		return -1;
	zms_greet(s);
	for (;;) {
		zms_process(s);
		if (zms_io_flush(s, 1) != 0 || s->state == ST_CLOSE)
			break;
		if (s->eof) {
			if (s->rbuf.len == 0 || s->blocked == 0)
				break;
			continue;
		}
		if (s->ssl == NULL || SSL_pending(s->ssl) == 0) {
			struct pollfd p = { infd, POLLIN, 0 };
			long sec = s->state == ST_DATA || s->state == ST_BDAT ? d->o.timeout_data
									     : d->o.timeout_cmd;
			int r = poll(&p, 1, (int)(sec * 1000));
			if (r == 0) {
				zms_reply(s, 421, "4.4.2", "%s Timeout, closing connection", d->o.hostname);
				(void)zms_io_flush(s, 1);
				break;
			}
			if (r < 0 && errno != EINTR)
				break;
		}
		(void)zms_io_fill(s);
	}
	zms_sess_free(s);
	return 0;
}

const char *zmsmtpd_client_ip(const zmsmtpd_sess *s) { return s->ip; }
const char *zmsmtpd_auth_user(const zmsmtpd_sess *s) { return s->auth_user[0] ? s->auth_user : NULL; }
int zmsmtpd_local_port(const zmsmtpd_sess *s) { return s->port; }
const char *zmsmtpd_sender(const zmsmtpd_sess *s) { return s->sender; }
const char *zmsmtpd_helo(const zmsmtpd_sess *s) { return s->helo; }
void zmsmtpd_set_data(zmsmtpd_sess *s, void *p) { s->udata = p; }
void *zmsmtpd_get_data(const zmsmtpd_sess *s) { return s->udata; }

int zmsmtpd_received(zmsmtpd *d, const zmsmtpd_env *e, const char *id, char *buf, size_t bufsz)
{
	char date[64];
	int k;

	if (ztime_rfc5322(time(NULL), date, sizeof(date)) != Z_OK)
		zstrlcpy(date, "Thu, 01 Jan 1970 00:00:00 +0000", sizeof(date));
	k = snprintf(buf, bufsz, "Received: from %s ([%s])\n\tby %s (zmta) with %s%s%s%s id %s;\n\t%s",
		     e->helo ? e->helo : "unknown", e->client_ip && *e->client_ip ? e->client_ip : "local",
		     d->o.hostname, e->with ? e->with : "SMTP", e->tls ? " (" : "",
		     e->tls ? e->tls : "", e->tls ? ")" : "", id ? id : "?", date);
	return (k < 0 || (size_t)k >= bufsz) ? -1 : 0;
}

