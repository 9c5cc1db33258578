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
 *	are never mixed in one transaction.  The message goes to a scratch
 *	file (unlinked at once) with LF line ends; deliver gets it with the
 *	envelope, and its verdict is the reply to the end of data.
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
 *	asked at accept (lis_io), and again with the client address of a
 *	PROXY header, and may close a connection silently;
 *	transcript sees the bytes of io_fill and io_flush; refused gets a
 *	message finish_msg refused (too big, bare LF/CR).
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
 * BUGS
 *	deliver runs synchronously in the event loop: while a callback
 *	writes and fsyncs a message, the other sessions wait.  The TLS
 *	handshake is a step of the loop (it never blocks it) except in
 *	zmsmtpd_serve_fds, where it is bounded by timeout-command.
 * SEE ALSO
 *	libzmsmtpd(3), smtpserver(8), zmta-smtp(3), RFC 5321, 1870, 2920,
 *	3030, 3207, 3461, 4954, 6152, 6531
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "zbuf.h"
#include "zerr.h"
#include "zevent.h"
#include "zutil.h"
#include "maddr.h"
#include "mparam.h"
#include "smtp_ehlo.h"
#include "smtp_reply.h"
#include "smtp_sasl.h"
#include "smtp_session.h"
#include "smtp_tls.h"
#include "zmsmtpd.h"
#include "pol_proxy.h"
#include "pol_limit.h"

#define RBUF_MAX (64u * 1024u)
#define WBUF_SOFT (64u * 1024u)
#define MAX_LISTEN 16

typedef struct zms_opts {
	char hostname[256];
	char greeting[256];
	unsigned long max_line, max_rcpts, max_size, max_errors, max_cmds;
	unsigned long max_conns, max_per_ip;   /* loop sessions in total, per client address */
	long timeout_cmd, timeout_data;      /* seconds */
	char tls_cert[1024], tls_key[1024];
	int auth_required, auth_plaintext, vrfy, normalise, pipelining;
	char tmpdir[1024];
	int tarpit;                          /* Plan 9 -D */
	pol_tarpit_cfg tp;                   /* its delays (ms) */
} zms_opts;

struct zmsmtpd {
	zmsmtpd_callbacks cb;
	zms_opts o;
	void *tlsctx;
	zev_loop *loop;
	int own_loop;
	struct { int fd; unsigned flags; } lis[MAX_LISTEN];
	int nlis, lastport;
	unsigned long nsess;
	int stopping, drain;
	zmsmtpd_sess *head;     /* event-loop sessions (per-address counts) */
};

enum { ST_GREET = 0, ST_CMD, ST_DATA, ST_BDAT, ST_AUTH, ST_CLOSE, ST_TLS, ST_PROXY };

struct zmsmtpd_sess {
	zmsmtpd *d;
	zmsmtpd_sess *next, *prev;   /* loop sessions */
	int infd, outfd, sock, loopmode;
	unsigned lflags;
	SSL *ssl;
	char tlsinfo[160];
	zbuf rbuf, wbuf;
	int state, eof, refused, closing, blocked, skipline;
	int tls_implicit;   /* ST_TLS: greet once the handshake is done */
	uint64_t timer;
	char ip[64];
	int port;
	char helo[256];
	int esmtp;
	char auth_user[256];
	void *udata;
	unsigned long ncmds, nerrors;
	unsigned rejects;      /* tarpit: 4xx/5xx replies so far */
	long long hold_until;  /* tarpit: no reply out, no command in before (ms) */
	uint64_t htimer;
	/* transaction */
	int have_mail, smtputf8, bdat_used, body_bad, body_toobig;
	char sender[MADDR_PATH_MAX + 8];
	char envid[MPARAM_ENVID_MAX * 3 + 8];
	char ret[8], body[16];
	zmsmtpd_rcpt *rcpts;
	char **rcptmem;
	size_t nrcpts;
	FILE *msg;
	unsigned long msgsize;
	int prev_crlf;     /* DATA: the previous line ended in CRLF */
	int bol;           /* DATA: at the beginning of a line */
	int pend_cr;       /* BDAT: a CR was the last byte of a chunk */
	unsigned long bdat_left, bdat_wire;
	int bdat_last, bdat_skip;
	/* AUTH */
	unsigned amech;
	int astep, asasl;     /* asasl: the smtp/ SASL server does the exchange */
	smtp_sasl_server sasl;
	char auser[256];
};

/* ---------- helpers ---------- */

/* slog - a log line through the callback */
static void slog(zmsmtpd_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slog(zmsmtpd_sess *s, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (s->d->cb.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->d->cb.log(s->d->cb.arg, s, line);
}

/* reply - queue one reply (text lines separated by '\n') */
static void reply(zmsmtpd_sess *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reply(zmsmtpd_sess *s, int code, const char *enh, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (smtp_reply_format(&s->wbuf, code, enh, zspan_from(text)) != Z_OK)
		(void)smtp_reply_format(&s->wbuf, code, NULL, zspan_from("reply too long"));
	if (code >= 500 && code != 554)
		s->nerrors++;
	if (code >= 400 && code != 421 && s->d->o.tarpit) {
		long ms;
		s->rejects++;
		ms = pol_tarpit_delay(&s->d->o.tp, s->rejects);
		if (ms > 0 && s->loopmode)
			s->hold_until = zmono_ms() + ms;
	}
}

/* verdict_reply - the reply of a callback verdict, with defaults */
static void verdict_reply(zmsmtpd_sess *s, const zmsmtpd_verdict *v, int okcode,
			  const char *okenh, const char *oktext)
{
	int code;
	const char *enh, *text;

	if (v->action == ZMSMTPD_ACCEPT) {
		code = okcode; enh = okenh; text = oktext;
	} else if (v->action == ZMSMTPD_DEFER) {
		code = 451; enh = "4.3.0"; text = "Temporary failure, try again later";
	} else {
		code = 550; enh = "5.7.1"; text = "Refused";
	}
	if (v->code >= 200 && v->code <= 599)
		code = v->code;
	if (v->enh[0] != '\0' && v->enh[0] == (char)('0' + code / 100))
		enh = v->enh;
	else if (v->code != 0 && enh != NULL && enh[0] != (char)('0' + code / 100))
		enh = NULL;
	if (v->text[0] != '\0' && strpbrk(v->text, "\r\n") == NULL)
		text = v->text;
	reply(s, code, enh, "%s", text);
}

static void verdict_init(zmsmtpd_verdict *v)
{
	memset(v, 0, sizeof(*v));
}

/* txn_reset - forget the transaction */
static void txn_reset(zmsmtpd_sess *s)
{
	for (size_t i = 0; i < s->nrcpts; i++)
		free(s->rcptmem[i]);
	free(s->rcptmem);
	free(s->rcpts);
	s->rcptmem = NULL;
	s->rcpts = NULL;
	s->nrcpts = 0;
	if (s->msg != NULL)
		fclose(s->msg);
	s->msg = NULL;
	s->have_mail = s->smtputf8 = s->bdat_used = s->body_bad = s->body_toobig = 0;
	s->sender[0] = s->envid[0] = s->ret[0] = s->body[0] = '\0';
	s->msgsize = 0;
	s->bdat_left = s->bdat_wire = 0;
	s->bdat_last = s->bdat_skip = s->pend_cr = 0;
}

/* msg_open - the scratch file, unlinked */
static int msg_open(zmsmtpd_sess *s)
{
	char path[1100];
	int fd;

	if (snprintf(path, sizeof(path), "%s/.zmsmtpd.XXXXXX", s->d->o.tmpdir) >= (int)sizeof(path))
		return -1;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	(void)unlink(path);
	s->msg = fdopen(fd, "w+");
	if (s->msg == NULL) {
		close(fd);
		return -1;
	}
	return 0;
}

/* msg_put - message bytes (size counted, limit checked) */
static void msg_put(zmsmtpd_sess *s, const char *p, size_t n)
{
	if (s->body_toobig || s->msg == NULL)
		return;
	if (s->d->o.max_size > 0 && s->msgsize + n > s->d->o.max_size) {
		s->body_toobig = 1;
		return;
	}
	s->msgsize += n;
	if (fwrite(p, 1, n, s->msg) != n)
		s->body_bad = 2;
}

/* ---------- I/O ---------- */

/* io_fill - read what is there into rbuf: >0 read, 0 nothing, -1 EOF/error */
static int io_fill(zmsmtpd_sess *s)
{
	char tmp[16384];
	int got = 0;

	while (s->rbuf.len < RBUF_MAX + sizeof(tmp)) {
		ssize_t n;

		if (s->ssl != NULL) {
			int r;
			ERR_clear_error();
			r = SSL_read(s->ssl, tmp, (int)sizeof(tmp));
			if (r <= 0) {
				int e = SSL_get_error(s->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return got;
				s->eof = 1;
				return got ? got : -1;
			}
			n = r;
		} else {
			n = read(s->infd, tmp, sizeof(tmp));
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return got;
			if (n <= 0) {
				s->eof = 1;
				return got ? got : -1;
			}
		}
		if (zbuf_append(&s->rbuf, tmp, (size_t)n) != Z_OK) {
			s->eof = 1;
			return -1;
		}
		if (s->d->cb.transcript != NULL)
			s->d->cb.transcript(s->d->cb.arg, s, 0, tmp, (size_t)n);
		got = 1;
		if (!s->loopmode)
			return got;
	}
	return got;
}

/* io_flush - write what is queued; block (poll) when block is set.
 * 0 all written, 1 more to write, -1 error */
static int io_flush(zmsmtpd_sess *s, int block)
{
	while (s->wbuf.len > 0) {
		ssize_t n;
		short ev = POLLOUT;

		if (s->ssl != NULL) {
			int r;
			ERR_clear_error();
			r = SSL_write(s->ssl, s->wbuf.data, (int)(s->wbuf.len > 65536 ? 65536 : s->wbuf.len));
			if (r <= 0) {
				int e = SSL_get_error(s->ssl, r);
				if (e == SSL_ERROR_WANT_READ)
					ev = POLLIN;
				else if (e != SSL_ERROR_WANT_WRITE)
					return -1;
				n = -1;
				errno = EAGAIN;
			} else {
				n = r;
			}
		} else if (s->sock) {
			n = send(s->outfd, s->wbuf.data, s->wbuf.len, MSG_NOSIGNAL);
		} else {
			n = write(s->outfd, s->wbuf.data, s->wbuf.len);
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return -1;
			if (!block)
				return 1;
			{
				struct pollfd p = { ev == POLLIN ? s->infd : s->outfd, ev, 0 };
				if (poll(&p, 1, (int)(s->d->o.timeout_cmd * 1000)) <= 0)
					return -1;
			}
			continue;
		}
		if (s->d->cb.transcript != NULL)
			s->d->cb.transcript(s->d->cb.arg, s, 1, s->wbuf.data, (size_t)n);
		zbuf_consume(&s->wbuf, (size_t)n);
	}
	return 0;
}

/* ---------- commands ---------- */

static const char *const unimpl[] = { "EXPN", "TURN", "SEND", "SOML", "SAML", "ATRN", NULL };

/* word_is - the command verb of line is w (any case), followed by end or SP */
static int word_is(const char *line, size_t n, const char *w)
{
	size_t k = strlen(w);

	return n >= k && strncasecmp(line, w, k) == 0 && (n == k || line[k] == ' ');
}

/* arg_after - what follows "VERB " */
static zspan arg_after(const char *line, size_t n, size_t verblen)
{
	zspan a = { line + verblen, n - verblen };

	while (a.n > 0 && a.p[0] == ' ') {
		a.p++;
		a.n--;
	}
	while (a.n > 0 && a.p[a.n - 1] == ' ')
		a.n--;
	return a;
}

/* prefix_is - line starts with "MAIL FROM:" etc. (any case) */
static int prefix_is(const char *line, size_t n, const char *p)
{
	size_t k = strlen(p);
	return n >= k && strncasecmp(line, p, k) == 0;
}

static void do_ehlo(zmsmtpd_sess *s, zspan arg, int esmtp)
{
	zmsmtpd *d = s->d;

	if (arg.n == 0 || arg.n >= sizeof(s->helo)) {
		reply(s, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return;
	}
	txn_reset(s);
	memcpy(s->helo, arg.p, arg.n);
	s->helo[arg.n] = '\0';
	s->esmtp = esmtp;
	if (!esmtp) {
		reply(s, 250, NULL, "%s", d->o.hostname);
		return;
	}
	{
		smtp_caps c;
		zbuf t = ZBUF_INIT(8192);
		char greet[600];

		memset(&c, 0, sizeof(c));
		c.flags = CAP_8BITMIME | CAP_DSN | CAP_ENHSTATUS | CAP_CHUNKING | CAP_SIZE;
		if (d->o.pipelining)
			c.flags |= CAP_PIPELINING;
		c.size_max = d->o.max_size;
		if (d->tlsctx != NULL && s->ssl == NULL)
			c.flags |= CAP_STARTTLS;
		if (d->cb.auth_verify != NULL || d->cb.auth_secret != NULL) {
			if (s->ssl != NULL || d->o.auth_plaintext)
				c.auth |= AUTHM_PLAIN | AUTHM_LOGIN;
			if (d->cb.auth_secret != NULL)
				c.auth |= AUTHM_CRAMMD5;
			if (c.auth != 0)
				c.flags |= CAP_AUTH;
		}
		snprintf(greet, sizeof(greet), "%s Hello %.256s [%s]", d->o.hostname, s->helo,
			 s->ip[0] ? s->ip : "local");
		if (smtp_ehlo_format(&c, greet, &t) != Z_OK ||
		    zbuf_puts(&t, "\nSMTPUTF8") != Z_OK ||
		    (d->cb.etrn != NULL && zbuf_puts(&t, "\nETRN") != Z_OK) ||
		    zbuf_puts(&t, "\nHELP") != Z_OK ||
		    smtp_reply_format(&s->wbuf, 250, NULL, (zspan){ t.data, t.len }) != Z_OK)
			reply(s, 451, "4.3.0", "Internal error formatting EHLO");
		zbuf_free(&t);
	}
}

static void do_mail(zmsmtpd_sess *s, const char *line, size_t n)
{
	zmsmtpd *d = s->d;
	maddr a;
	mparams mp;
	size_t used = 0;
	zbuf err = ZBUF_INIT(512);
	zmsmtpd_verdict v;
	zspan rest = { line + 10, n - 10 };

	if (s->helo[0] == '\0') {
		reply(s, 503, "5.5.1", "Send EHLO/HELO first");
		goto out;
	}
	if (s->have_mail || s->bdat_used) {
		reply(s, 503, "5.5.1", "Nested MAIL command");
		goto out;
	}
	if ((d->o.auth_required || (s->lflags & ZMSMTPD_L_AUTH)) && s->auth_user[0] == '\0') {
		reply(s, 530, "5.7.0", "Authentication required");
		goto out;
	}
	while (rest.n > 0 && rest.p[0] == ' ') {
		rest.p++;
		rest.n--;
	}
	memset(&mp, 0, sizeof(mp));
	{
		/* parameters first: SMTPUTF8 decides how the path is read */
		const char *gt = memchr(rest.p, '>', rest.n);
		size_t off = gt ? (size_t)(gt - rest.p) + 1 : rest.n;
		unsigned allowed = MPARAM_MAIL;
		if (mparam_parse(rest.p + off, rest.n - off, allowed, &mp, &err) != Z_OK) {
			reply(s, mp.reply ? mp.reply : 501, mp.enh ? mp.enh : "5.5.4", "%s",
			      zbuf_cstr(&err));
			goto out;
		}
	}
	if (maddr_parse_path(rest.p, rest.n, MADDR_NULL_OK |
			     ((mp.seen & MPARAM_SMTPUTF8) ? MADDR_UTF8 : 0), &a, &used, &err) != Z_OK) {
		reply(s, 501, a.enh ? a.enh : "5.1.7", "Bad sender address: %s", zbuf_cstr(&err));
		goto out;
	}
	if ((mp.seen & MPARAM_SIZE) && d->o.max_size > 0 && mp.size > d->o.max_size) {
		reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size (%lu)",
		      d->o.max_size);
		goto out;
	}
	if (mp.body == MBODY_BINARYMIME) {
		reply(s, 555, "5.5.4", "BODY=BINARYMIME is not supported");
		goto out;
	}
	{
		zbuf f = ZBUF_INIT(sizeof(s->sender) - 1);
		if (maddr_format(&a, &f) != Z_OK) {
			zbuf_free(&f);
			reply(s, 501, "5.1.7", "Sender address too long");
			goto out;
		}
		zstrlcpy(s->sender, zbuf_cstr(&f), sizeof(s->sender));
		zbuf_free(&f);
	}
	if (mp.seen & MPARAM_ENVID) {
		if (mp.envid.n >= sizeof(s->envid)) {
			reply(s, 501, "5.5.4", "ENVID too long");
			goto out;
		}
		memcpy(s->envid, mp.envid.p, mp.envid.n);
		s->envid[mp.envid.n] = '\0';
	}
	if (mp.ret == MRET_FULL)
		zstrlcpy(s->ret, "FULL", sizeof(s->ret));
	else if (mp.ret == MRET_HDRS)
		zstrlcpy(s->ret, "HDRS", sizeof(s->ret));
	if (mp.body != MBODY_NONE)
		zstrlcpy(s->body, mparam_body_name(mp.body), sizeof(s->body));
	s->smtputf8 = (mp.seen & MPARAM_SMTPUTF8) != 0;
	verdict_init(&v);
	if (d->cb.validate_sender != NULL)
		d->cb.validate_sender(d->cb.arg, s, s->sender, &v);
	if (v.action == ZMSMTPD_ACCEPT)
		s->have_mail = 1;
	verdict_reply(s, &v, 250, "2.1.0", "Sender OK");
out:
	zbuf_free(&err);
}

static void do_rcpt(zmsmtpd_sess *s, const char *line, size_t n)
{
	zmsmtpd *d = s->d;
	maddr a;
	mparams mp;
	size_t used = 0;
	zbuf err = ZBUF_INIT(512), f = ZBUF_INIT(MADDR_PATH_MAX + 8);
	zmsmtpd_verdict v;
	zspan rest = { line + 8, n - 8 };

	if (!s->have_mail || s->bdat_used) {
		reply(s, 503, "5.5.1", "Need MAIL before RCPT");
		goto out;
	}
	while (rest.n > 0 && rest.p[0] == ' ') {
		rest.p++;
		rest.n--;
	}
	if (maddr_parse_path(rest.p, rest.n, MADDR_POSTMASTER_OK |
			     (s->smtputf8 ? MADDR_UTF8 : 0), &a, &used, &err) != Z_OK) {
		reply(s, 501, a.enh ? a.enh : "5.1.3", "Bad recipient address: %s", zbuf_cstr(&err));
		goto out;
	}
	memset(&mp, 0, sizeof(mp));
	zbuf_reset(&err);
	if (mparam_parse(rest.p + used, rest.n - used, MPARAM_RCPT, &mp, &err) != Z_OK) {
		reply(s, mp.reply ? mp.reply : 501, mp.enh ? mp.enh : "5.5.4", "%s", zbuf_cstr(&err));
		goto out;
	}
	if (s->nrcpts >= d->o.max_rcpts) {
		reply(s, 452, "4.5.3", "Too many recipients");
		goto out;
	}
	if (maddr_format(&a, &f) != Z_OK) {
		reply(s, 501, "5.1.3", "Recipient address too long");
		goto out;
	}
	verdict_init(&v);
	if (a.kind != MADDR_POSTMASTER && d->cb.validate_recipient != NULL)
		d->cb.validate_recipient(d->cb.arg, s, zbuf_cstr(&f), &v);
	if (a.kind == MADDR_POSTMASTER)
		v.action = ZMSMTPD_ACCEPT;   /* RFC 5321 4.5.1 */
	if (v.action == ZMSMTPD_ACCEPT) {
		zmsmtpd_rcpt *nr = realloc(s->rcpts, (s->nrcpts + 1) * sizeof(*nr));
		char **nm = nr ? realloc(s->rcptmem, (s->nrcpts + 1) * sizeof(*nm)) : NULL;
		char *mem;
		size_t al = f.len, ol = (mp.seen & MPARAM_ORCPT) ? mp.orcpt_type.n + 1 + mp.orcpt.n : 0;

		if (nr != NULL)
			s->rcpts = nr;
		if (nm != NULL)
			s->rcptmem = nm;
		mem = (nr && nm) ? malloc(al + 1 + ol + 1) : NULL;
		if (mem == NULL) {
			reply(s, 452, "4.3.0", "Out of memory");
			goto out;
		}
		memcpy(mem, f.data, al);
		mem[al] = '\0';
		s->rcpts[s->nrcpts].addr = mem;
		s->rcpts[s->nrcpts].notify = mp.notify;
		s->rcpts[s->nrcpts].orcpt = NULL;
		if (ol > 0) {
			char *o = mem + al + 1;
			memcpy(o, mp.orcpt_type.p, mp.orcpt_type.n);
			o[mp.orcpt_type.n] = ';';
			memcpy(o + mp.orcpt_type.n + 1, mp.orcpt.p, mp.orcpt.n);
			o[ol] = '\0';
			s->rcpts[s->nrcpts].orcpt = o;
		}
		s->rcptmem[s->nrcpts] = mem;
		s->nrcpts++;
	}
	verdict_reply(s, &v, 250, "2.1.5", "Recipient OK");
out:
	zbuf_free(&err);
	zbuf_free(&f);
}

/* finish_msg - end of data: deliver and reply */
/* env_fill - the envelope of the transaction for deliver and refused */
static void env_fill(zmsmtpd_sess *s, zmsmtpd_env *e)
{
	memset(e, 0, sizeof(*e));
	e->sender = s->sender;
	e->rcpts = s->rcpts;
	e->nrcpts = s->nrcpts;
	e->envid = s->envid[0] ? s->envid : NULL;
	e->ret = s->ret[0] ? s->ret : NULL;
	e->body = s->body[0] ? s->body : NULL;
	e->smtputf8 = s->smtputf8;
	e->size = s->msgsize;
	e->helo = s->helo;
	e->client_ip = s->ip;
	if (!s->esmtp)
		e->with = "SMTP";
	else if (s->ssl && s->auth_user[0])
		e->with = "ESMTPSA";
	else if (s->ssl)
		e->with = "ESMTPS";
	else if (s->auth_user[0])
		e->with = "ESMTPA";
	else
		e->with = "ESMTP";
	e->tls = s->ssl ? s->tlsinfo : NULL;
	e->auth_user = s->auth_user[0] ? s->auth_user : NULL;
	e->port = s->port;
}

/* msg_refused - a message refused here at its end (too big: the part
 * that fit; bare LF or CR) to the refused callback with the reply */
static void msg_refused(zmsmtpd_sess *s, int code, const char *enh, const char *text)
{
	zmsmtpd_env e;
	zmsmtpd_verdict v;

	if (s->d->cb.refused == NULL || s->msg == NULL || fflush(s->msg) != 0)
		return;
	verdict_init(&v);
	v.action = ZMSMTPD_REJECT;
	v.code = code;
	snprintf(v.enh, sizeof(v.enh), "%s", enh);
	snprintf(v.text, sizeof(v.text), "%s", text);
	env_fill(s, &e);
	rewind(s->msg);
	s->d->cb.refused(s->d->cb.arg, s, &e, s->msg, &v);
}

static void finish_msg(zmsmtpd_sess *s)
{
	zmsmtpd *d = s->d;
	zmsmtpd_verdict v;

	verdict_init(&v);
	if (s->body_toobig) {
		reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size (%lu)",
		      d->o.max_size);
		msg_refused(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
	} else if (s->body_bad == 1) {
		reply(s, 550, "5.6.11", "Bare LF or bare CR in the message: refused");
		msg_refused(s, 550, "5.6.11", "Bare LF or bare CR in the message: refused");
	} else if (s->body_bad == 2 || s->msg == NULL || fflush(s->msg) != 0) {
		reply(s, 452, "4.3.1", "Insufficient system storage");
	} else {
		zmsmtpd_env e;

		env_fill(s, &e);
		rewind(s->msg);
		if (d->cb.deliver != NULL)
			d->cb.deliver(d->cb.arg, s, &e, s->msg, &v);
		verdict_reply(s, &v, 250, "2.0.0", "Message accepted for delivery");
	}
	txn_reset(s);
	s->state = ST_CMD;
}

/* data_line - one DATA line p[0..n) (without its end) ending with term:
 * 0 CRLF, 1 bare LF, 2 bare CR, 3 none (partial, over-long) */
static void data_line(zmsmtpd_sess *s, const char *p, size_t n, int term)
{
	int crlf = term == 0;

	if (s->bol && n == 1 && p[0] == '.' && crlf && s->prev_crlf) {
		finish_msg(s);
		return;
	}
	if (s->bol && n > 0 && p[0] == '.') {
		p++;
		n--;
	}
	if (term == 1 || term == 2) {
		if (!s->d->o.normalise && s->body_bad == 0)
			s->body_bad = 1;
	}
	msg_put(s, p, n);
	if (term != 3) {
		msg_put(s, "\n", 1);
		s->prev_crlf = crlf;
		s->bol = 1;
	} else {
		s->bol = 0;
	}
}

/* data_input - consume DATA bytes from rbuf; 1 progress, 0 need more */
static int data_input(zmsmtpd_sess *s)
{
	const char *b = s->rbuf.data;
	size_t len = s->rbuf.len, i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (b[i] == '\n') {
			data_line(s, b, i, 1);
			zbuf_consume(&s->rbuf, i + 1);
			return 1;
		}
		if (b[i] == '\r') {
			if (i + 1 >= len) {
				if (s->eof) {
					data_line(s, b, i, 2);
					zbuf_consume(&s->rbuf, i + 1);
					return 1;
				}
				break;
			}
			if (b[i + 1] == '\n') {
				data_line(s, b, i, 0);
				zbuf_consume(&s->rbuf, i + 2);
			} else {
				data_line(s, b, i, 2);
				zbuf_consume(&s->rbuf, i + 1);
			}
			return 1;
		}
	}
	/* no line end yet: an over-long line goes out in pieces */
	if (len >= 8192) {
		size_t k = len - 1;
		data_line(s, b, k, 3);
		zbuf_consume(&s->rbuf, k);
		return 1;
	}
	return 0;
}

/* bdat_input - consume BDAT chunk bytes; 1 progress, 0 need more */
static int bdat_input(zmsmtpd_sess *s)
{
	size_t n = s->rbuf.len;

	if (s->bdat_left > 0 && n == 0)
		return 0;
	if (n > s->bdat_left)
		n = s->bdat_left;
	if (!s->bdat_skip) {
		const char *p = s->rbuf.data;
		size_t st = 0;
		for (size_t i = 0; i < n; i++) {
			if (s->pend_cr) {
				s->pend_cr = 0;
				if (p[i] != '\n')
					msg_put(s, "\r", 1);
			}
			if (p[i] == '\r') {
				msg_put(s, p + st, i - st);
				st = i + 1;
				s->pend_cr = 1;
			}
		}
		msg_put(s, p + st, n - st);
	}
	zbuf_consume(&s->rbuf, n);
	s->bdat_left -= n;
	s->bdat_wire += n;
	if (s->bdat_left > 0)
		return n > 0;
	s->state = ST_CMD;
	if (s->bdat_skip) {
		s->bdat_skip = 0;
		if (!s->have_mail)
			reply(s, 503, "5.5.1", "Need MAIL before BDAT");
		else
			reply(s, 554, "5.5.1", "No valid recipients");
		return 1;
	}
	if (s->bdat_last) {
		if (s->pend_cr) {
			s->pend_cr = 0;
			msg_put(s, "\r", 1);
		}
		finish_msg(s);
	} else {
		reply(s, 250, "2.0.0", "%lu octets received", s->bdat_wire);
	}
	return 1;
}

static void do_bdat(zmsmtpd_sess *s, zspan arg)
{
	char num[32];
	size_t k = 0;
	unsigned long n;
	int last = 0;

	while (k < arg.n && arg.p[k] >= '0' && arg.p[k] <= '9')
		k++;
	if (k == 0 || k >= sizeof(num)) {
		reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		s->closing = 1;   /* the stream is out of step */
		return;
	}
	memcpy(num, arg.p, k);
	num[k] = '\0';
	if (zparse_ulong(num, 0xffffffffffUL, &n) != Z_OK) {
		reply(s, 501, "5.5.4", "BDAT size out of range");
		s->closing = 1;
		return;
	}
	{
		zspan rest = { arg.p + k, arg.n - k };
		while (rest.n > 0 && rest.p[0] == ' ') {
			rest.p++;
			rest.n--;
		}
		if (rest.n == 4 && strncasecmp(rest.p, "LAST", 4) == 0)
			last = 1;
		else if (rest.n != 0) {
			reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
			s->closing = 1;
			return;
		}
	}
	s->bdat_left = n;
	s->bdat_last = last;
	s->state = ST_BDAT;
	if (!s->have_mail || s->nrcpts == 0) {
		s->bdat_skip = 1;   /* read the chunk, then 503 / 554 */
		return;
	}
	if (!s->bdat_used) {
		s->bdat_used = 1;
		if (msg_open(s) != 0)
			s->body_bad = 2;
	}
}

static void do_starttls(zmsmtpd_sess *s)
{
	zmsmtpd *d = s->d;
	smtp_session ss;
	zbuf info = ZBUF_INIT(512), err = ZBUF_INIT(512);

	if (d->tlsctx == NULL || s->ssl != NULL) {
		reply(s, 502, "5.5.1", "STARTTLS not available");
		return;
	}
	if (s->rbuf.len > 0) {
		slog(s, "discarding %zu bytes pipelined after STARTTLS", s->rbuf.len);
		zbuf_reset(&s->rbuf);
	}
	reply(s, 220, "2.0.0", "Ready to start TLS");
	if (s->loopmode) {
		/* the handshake runs in the event loop once the 220 is out */
		s->state = ST_TLS;
		s->tls_implicit = 0;
		return;
	}
	if (io_flush(s, 1) != 0) {
		s->state = ST_CLOSE;
		return;
	}
	smtp_session_init(&ss, NULL);
	smtp_session_attach(&ss, s->infd);
	if (smtp_tls_accept(d->tlsctx, &ss, d->o.timeout_cmd * 1000, &info, &err) != Z_OK) {
		slog(s, "TLS handshake failed: %s", zbuf_cstr(&err));
		s->state = ST_CLOSE;
	} else {
		s->ssl = ss.ssl;
		zstrlcpy(s->tlsinfo, zbuf_cstr(&info), sizeof(s->tlsinfo));
		slog(s, "TLS: %s", s->tlsinfo);
		/* RFC 3207 4.2: forget everything learnt before */
		txn_reset(s);
		s->helo[0] = '\0';
		s->esmtp = 0;
		s->auth_user[0] = '\0';
	}
	ss.ssl = NULL;
	ss.fd = -1;
	smtp_session_free(&ss);
	zbuf_free(&info);
	zbuf_free(&err);
}

/* tls_reset - RFC 3207 4.2: after the handshake, forget everything */
static void tls_reset(zmsmtpd_sess *s)
{
	txn_reset(s);
	s->helo[0] = '\0';
	s->esmtp = 0;
	s->auth_user[0] = '\0';
}

/* auth_done - the AUTH exchange ended with rc (0 ok, -1 bad creds, -2 cancelled/malformed) */
static void auth_done(zmsmtpd_sess *s, int rc)
{
	s->state = ST_CMD;
	smtp_sasl_server_end(&s->sasl);
	if (rc == 0) {
		zstrlcpy(s->auth_user, s->auser, sizeof(s->auth_user));
		slog(s, "authenticated as %s (%s)", s->auth_user, smtp_sasl_mech_name(s->amech));
		reply(s, 235, "2.7.0", "Authentication successful");
	} else if (rc == -2) {
		reply(s, 501, "5.5.2", "Authentication cancelled or malformed");
	} else {
		slog(s, "authentication failed for %s", s->auser);
		reply(s, 535, "5.7.8", "Authentication credentials invalid");
	}
}

/* secret_cb - CRAM-MD5 secrets through the library user's callback */
static int secret_cb(void *arg, const char *user, zbuf *secret)
{
	zmsmtpd_sess *s = arg;
	char buf[512];
	int rc;

	if (s->d->cb.auth_secret == NULL || s->d->cb.auth_secret(s->d->cb.arg, user, buf, sizeof(buf)) != 0)
		return Z_ENOENT;
	rc = zbuf_puts(secret, buf);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* auth_step - one client answer in (have: given) for the current mechanism */
static void auth_step(zmsmtpd_sess *s, zspan in, int have)
{
	zmsmtpd *d = s->d;
	zbuf dec = ZBUF_INIT(2048), out = ZBUF_INIT(2048), err = ZBUF_INIT(256);

	if (have && in.n == 1 && in.p[0] == '*') {
		auth_done(s, -2);
		goto out;
	}
	if (s->asasl) {
		int rc = smtp_sasl_server_step(&s->sasl, in, have, &out, &err);
		if (rc == SMTP_SASL_CONTINUE) {
			s->state = ST_AUTH;
			reply(s, 334, NULL, "%s", zbuf_cstr(&out));
		} else {
			zstrlcpy(s->auser, s->sasl.user, sizeof(s->auser));
			auth_done(s, rc == Z_OK ? 0 : rc == Z_EPARSE ? -2 : -1);
		}
		goto out;
	}
	if (!have) {
		s->state = ST_AUTH;
		if (s->amech == AUTHM_PLAIN)
			reply(s, 334, NULL, " ");
		else
			reply(s, 334, NULL, "%s", s->astep == 0 ? "VXNlcm5hbWU6" : "UGFzc3dvcmQ6");
		goto out;
	}
	if (!(in.n == 1 && in.p[0] == '=') && smtp_b64_decode(in, &dec) != Z_OK) {
		auth_done(s, -2);
		goto out;
	}
	if (s->amech == AUTHM_PLAIN) {
		const char *p = dec.data ? dec.data : "";
		const char *z1 = memchr(p, '\0', dec.len), *z2;
		char pw[512];
		if (z1 == NULL || (z2 = memchr(z1 + 1, '\0', dec.len - (size_t)(z1 + 1 - p))) == NULL ||
		    (size_t)(z2 - z1 - 1) >= sizeof(s->auser) ||
		    dec.len - (size_t)(z2 + 1 - p) >= sizeof(pw)) {
			auth_done(s, -2);
			goto out;
		}
		memcpy(s->auser, z1 + 1, (size_t)(z2 - z1 - 1));
		s->auser[z2 - z1 - 1] = '\0';
		memcpy(pw, z2 + 1, dec.len - (size_t)(z2 + 1 - p));
		pw[dec.len - (size_t)(z2 + 1 - p)] = '\0';
		if ((z1 != p && ((size_t)(z1 - p) != strlen(s->auser) ||
				 memcmp(p, s->auser, (size_t)(z1 - p)) != 0)) ||
		    memchr(pw, '\0', dec.len - (size_t)(z2 + 1 - p)) != NULL)
			auth_done(s, -1);
		else
			auth_done(s, d->cb.auth_verify(d->cb.arg, s->auser, pw) == 0 ? 0 : -1);
		explicit_bzero(pw, sizeof(pw));
	} else {
		if (s->astep == 0) {
			if (dec.len >= sizeof(s->auser) || memchr(dec.data ? dec.data : "", '\0', dec.len)) {
				auth_done(s, -2);
				goto out;
			}
			memcpy(s->auser, dec.data ? dec.data : "", dec.len);
			s->auser[dec.len] = '\0';
			s->astep = 1;
			s->state = ST_AUTH;
			reply(s, 334, NULL, "UGFzc3dvcmQ6");
		} else {
			char pw[512];
			if (dec.len >= sizeof(pw) || memchr(dec.data ? dec.data : "", '\0', dec.len)) {
				auth_done(s, -2);
				goto out;
			}
			memcpy(pw, dec.data ? dec.data : "", dec.len);
			pw[dec.len] = '\0';
			auth_done(s, d->cb.auth_verify(d->cb.arg, s->auser, pw) == 0 ? 0 : -1);
			explicit_bzero(pw, sizeof(pw));
		}
	}
out:
	smtp_zbuf_wipe(&dec);
	zbuf_free(&out);
	zbuf_free(&err);
}

static void do_auth(zmsmtpd_sess *s, zspan arg)
{
	zmsmtpd *d = s->d;
	zspan mech = arg, init = ZSPAN_NULL;
	const char *sp = memchr(arg.p, ' ', arg.n);
	unsigned m;

	if (sp != NULL) {
		mech.n = (size_t)(sp - arg.p);
		init.p = sp + 1;
		init.n = arg.n - mech.n - 1;
	}
	if (!s->esmtp) {
		reply(s, 503, "5.5.1", "Send EHLO first");
		return;
	}
	if (s->auth_user[0]) {
		reply(s, 503, "5.5.1", "Already authenticated");
		return;
	}
	if (s->have_mail) {
		reply(s, 503, "5.5.1", "AUTH not allowed during a mail transaction");
		return;
	}
	m = smtp_sasl_mech_parse(mech);
	if (m == 0 || (m == AUTHM_CRAMMD5 && d->cb.auth_secret == NULL) ||
	    (m != AUTHM_CRAMMD5 && d->cb.auth_verify == NULL && d->cb.auth_secret == NULL)) {
		reply(s, 504, "5.5.4", "Unrecognized authentication type");
		return;
	}
	if (m != AUTHM_CRAMMD5 && s->ssl == NULL && !d->o.auth_plaintext) {
		reply(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		return;
	}
	s->amech = m;
	s->astep = 0;
	s->auser[0] = '\0';
	/* clear-text secrets (auth_secret): every mechanism through the smtp/
	 * SASL server; a verify callback (hashes) decodes PLAIN/LOGIN here */
	s->asasl = m == AUTHM_CRAMMD5 || d->cb.auth_verify == NULL;
	if (s->asasl) {
		if (m == AUTHM_CRAMMD5 && init.n > 0) {
			reply(s, 501, "5.5.2", "CRAM-MD5 takes no initial response");
			return;
		}
		if (smtp_sasl_server_start(&s->sasl, m, d->o.hostname, secret_cb, s) != Z_OK) {
			reply(s, 454, "4.7.0", "Temporary authentication failure");
			return;
		}
	}
	auth_step(s, init, init.n > 0);
}

/* command - one command line */
static void command(zmsmtpd_sess *s, const char *line, size_t n)
{
	zmsmtpd *d = s->d;

	s->ncmds++;
	if (word_is(line, n, "QUIT")) {
		reply(s, 221, "2.0.0", "%s closing connection", d->o.hostname);
		s->state = ST_CLOSE;
		return;
	}
	if (s->refused) {
		reply(s, 503, "5.5.1", "Refused: only QUIT is accepted");
		return;
	}
	if (word_is(line, n, "EHLO"))
		do_ehlo(s, arg_after(line, n, 4), 1);
	else if (word_is(line, n, "HELO"))
		do_ehlo(s, arg_after(line, n, 4), 0);
	else if (prefix_is(line, n, "MAIL FROM:"))
		do_mail(s, line, n);
	else if (prefix_is(line, n, "RCPT TO:"))
		do_rcpt(s, line, n);
	else if (word_is(line, n, "DATA")) {
		if (n != 4)
			reply(s, 501, "5.5.4", "DATA takes no argument");
		else if (s->bdat_used)
			reply(s, 503, "5.5.1", "DATA not allowed after BDAT");
		else if (!s->have_mail)
			reply(s, 503, "5.5.1", "Need MAIL command");
		else if (s->nrcpts == 0)   /* RFC 2920 3.1: 554 when pipelined */
			reply(s, s->rbuf.len > 0 ? 554 : 503, "5.5.1", "No valid recipients");
		else {
			if (msg_open(s) != 0)
				s->body_bad = 2;
			s->state = ST_DATA;
			s->prev_crlf = 1;
			s->bol = 1;
			reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
		}
	} else if (word_is(line, n, "BDAT"))
		do_bdat(s, arg_after(line, n, 4));
	else if (word_is(line, n, "RSET")) {
		if (n != 4)
			reply(s, 501, "5.5.4", "RSET takes no argument");
		else {
			txn_reset(s);
			reply(s, 250, "2.0.0", "Reset state");
		}
	} else if (word_is(line, n, "NOOP"))
		reply(s, 250, "2.0.0", "OK");
	else if (word_is(line, n, "HELP"))
		reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT"
		      " HELP VRFY%s%s%s", d->tlsctx ? " STARTTLS" : "",
		      (d->cb.auth_verify || d->cb.auth_secret) ? " AUTH" : "",
		      d->cb.etrn ? " ETRN" : "");
	else if (word_is(line, n, "VRFY")) {
		zspan a = arg_after(line, n, 4);
		if (a.n == 0)
			reply(s, 501, "5.5.4", "Syntax: VRFY address");
		else if (!d->o.vrfy)
			reply(s, 252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
		else {
			zmsmtpd_verdict v;
			char addr[MADDR_PATH_MAX];
			size_t k = a.n < sizeof(addr) - 1 ? a.n : sizeof(addr) - 1;
			memcpy(addr, a.p, k);
			addr[k] = '\0';
			verdict_init(&v);
			if (d->cb.validate_recipient)
				d->cb.validate_recipient(d->cb.arg, s, addr, &v);
			verdict_reply(s, &v, 250, "2.1.5", addr);
		}
	} else if (word_is(line, n, "STARTTLS")) {
		if (n != 8)
			reply(s, 501, "5.5.4", "STARTTLS takes no argument");
		else if (s->have_mail)
			reply(s, 503, "5.5.1", "STARTTLS not allowed during a mail transaction");
		else
			do_starttls(s);
	} else if (word_is(line, n, "AUTH") && (d->cb.auth_verify || d->cb.auth_secret))
		do_auth(s, arg_after(line, n, 4));
	else if (word_is(line, n, "ETRN") && d->cb.etrn != NULL) {
		zspan a = arg_after(line, n, 4);
		char dom[256];
		if (a.n == 0 || a.n >= sizeof(dom))
			reply(s, 501, "5.5.4", "Syntax: ETRN domain");
		else {
			memcpy(dom, a.p, a.n);
			dom[a.n] = '\0';
			if (d->cb.etrn(d->cb.arg, dom) == 0)
				reply(s, 250, "2.0.0", "Queuing for node %s started", dom);
			else
				reply(s, 458, "4.5.0", "Unable to queue messages for node %s", dom);
		}
	} else {
		for (int i = 0; unimpl[i] != NULL; i++)
			if (word_is(line, n, unimpl[i]) || word_is(line, n, "ETRN") ||
			    word_is(line, n, "AUTH")) {
				reply(s, 502, "5.5.1", "Command not implemented");
				return;
			}
		reply(s, 500, "5.5.2", "Command unrecognized");
	}
}

/* process - handle every complete command / data in rbuf */
static void process(zmsmtpd_sess *s)
{
	zmsmtpd *d = s->d;

	while (s->state != ST_CLOSE && s->state != ST_TLS && !s->closing) {
		if (s->hold_until != 0) {
			if (s->hold_until > zmono_ms())
				return;   /* tarpit: the next command waits */
			s->hold_until = 0;
		}
		if (d->o.tarpit && s->state == ST_CMD && pol_tarpit_drop(&d->o.tp, s->rejects)) {
			reply(s, 421, "4.7.0", "%s Too many rejected commands, closing connection",
			      d->o.hostname);
			slog(s, "tarpit: %u rejections, dropped", s->rejects);
			s->state = ST_CLOSE;
			return;
		}
		if (s->wbuf.len > WBUF_SOFT) {
			s->blocked = 1;   /* let the client read first */
			return;
		}
		s->blocked = 0;
		if (s->state == ST_DATA) {
			if (!data_input(s))
				break;
			continue;
		}
		if (s->state == ST_BDAT) {
			if (!bdat_input(s))
				break;
			continue;
		}
		{
			const char *nl = s->rbuf.len ? memchr(s->rbuf.data, '\n', s->rbuf.len) : NULL;
			size_t n, k;
			char line[SMTP_CMD_MAX + 1];

			if (nl == NULL) {
				if (s->rbuf.len > d->o.max_line + 2) {
					/* drop the over-long line up to its end */
					zbuf_reset(&s->rbuf);
					s->skipline = 1;
				}
				break;
			}
			k = (size_t)(nl - s->rbuf.data);
			n = k > 0 && nl[-1] == '\r' ? k - 1 : k;
			if (s->skipline || k + 1 > d->o.max_line + 2 || n > SMTP_CMD_MAX) {
				s->skipline = 0;
				zbuf_consume(&s->rbuf, k + 1);
				reply(s, 500, "5.5.2", "Line too long");
			} else if (memchr(s->rbuf.data, '\0', n) != NULL) {
				zbuf_consume(&s->rbuf, k + 1);
				reply(s, 500, "5.5.2", "NUL byte in command");
			} else {
				memcpy(line, s->rbuf.data, n);
				line[n] = '\0';
				zbuf_consume(&s->rbuf, k + 1);
				if (s->state == ST_AUTH)
					auth_step(s, (zspan){ line, n }, 1);
				else
					command(s, line, n);
				explicit_bzero(line, n);
			}
		}
		if (s->nerrors >= d->o.max_errors || s->ncmds > d->o.max_cmds) {
			reply(s, 421, "4.7.0", "%s Too many %s, closing connection", d->o.hostname,
			      s->nerrors >= d->o.max_errors ? "errors" : "commands");
			s->state = ST_CLOSE;
		}
	}
	if (s->closing) {
		reply(s, 421, "4.7.0", "%s closing connection", d->o.hostname);
		s->state = ST_CLOSE;
	}
	if (s->eof && s->state == ST_DATA && s->rbuf.len > 0)
		data_input(s);
}

/* ---------- session life ---------- */

static zmsmtpd_sess *sess_new(zmsmtpd *d, int infd, int outfd, const char *ip, int port,
			      unsigned lflags)
{
	zmsmtpd_sess *s = calloc(1, sizeof(*s));
	int so = 0;
	socklen_t sl = sizeof(so);

	if (s == NULL)
		return NULL;
	s->d = d;
	s->infd = infd;
	s->outfd = outfd;
	s->sock = getsockopt(outfd, SOL_SOCKET, SO_TYPE, &so, &sl) == 0;
	zbuf_init(&s->rbuf, RBUF_MAX + 32768);
	zbuf_init(&s->wbuf, 16u * 1024u * 1024u);
	zstrlcpy(s->ip, ip ? ip : "", sizeof(s->ip));
	s->port = port;
	s->lflags = lflags;
	s->state = ST_GREET;
	d->nsess++;
	return s;
}

static void sess_free(zmsmtpd_sess *s)
{
	if (s->d->cb.session_end != NULL)
		s->d->cb.session_end(s->d->cb.arg, s);
	txn_reset(s);
	if (s->ssl != NULL) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->loopmode) {
		if (s->prev)
			s->prev->next = s->next;
		else if (s->d->head == s)
			s->d->head = s->next;
		if (s->next)
			s->next->prev = s->prev;
		zev_io_del(s->d->loop, s->infd);
		if (s->timer)
			zev_timer_cancel(s->d->loop, s->timer);
		if (s->htimer)
			zev_timer_cancel(s->d->loop, s->htimer);
		close(s->infd);
	}
	zbuf_free(&s->rbuf);
	smtp_zbuf_wipe(&s->wbuf);
	s->d->nsess--;
	free(s);
}

/* greet - the first reply: validate_host decides; implicit TLS first */
static void greet(zmsmtpd_sess *s)
{
	zmsmtpd *d = s->d;
	zmsmtpd_verdict v;

	if ((s->lflags & ZMSMTPD_L_TLS) && s->ssl == NULL) {
		smtp_session ss;
		zbuf info = ZBUF_INIT(512), err = ZBUF_INIT(512);
		smtp_session_init(&ss, NULL);
		smtp_session_attach(&ss, s->infd);
		if (d->tlsctx == NULL ||
		    smtp_tls_accept(d->tlsctx, &ss, d->o.timeout_cmd * 1000, &info, &err) != Z_OK) {
			slog(s, "implicit TLS failed: %s", d->tlsctx ? zbuf_cstr(&err) : "no certificate");
			s->state = ST_CLOSE;
		} else {
			s->ssl = ss.ssl;
			zstrlcpy(s->tlsinfo, zbuf_cstr(&info), sizeof(s->tlsinfo));
		}
		ss.ssl = NULL;
		ss.fd = -1;
		smtp_session_free(&ss);
		zbuf_free(&info);
		zbuf_free(&err);
		if (s->state == ST_CLOSE)
			return;
	}
	verdict_init(&v);
	if (d->cb.validate_host != NULL)
		d->cb.validate_host(d->cb.arg, s, s->ip, &v);
	s->state = ST_CMD;
	if (d->o.tarpit && s->loopmode && d->o.tp.greet_ms > 0)
		s->hold_until = zmono_ms() + d->o.tp.greet_ms;
	if (v.action == ZMSMTPD_ACCEPT) {
		reply(s, 220, NULL, "%s %s", d->o.hostname, d->o.greeting);
	} else if (v.action == ZMSMTPD_DEFER) {
		reply(s, 421, "4.3.2", "%s %s", d->o.hostname,
		      v.text[0] ? v.text : "Service not available, try again later");
		s->state = ST_CLOSE;
	} else {
		s->refused = 1;
		reply(s, 554, NULL, "%s %s", d->o.hostname,
		      v.text[0] && !strpbrk(v.text, "\r\n") ? v.text : "No SMTP service here");
	}
}

static void sess_io(zev_loop *loop, int fd, unsigned ev, void *arg);

/* timeout - idle too long */
static void sess_timeout(zev_loop *loop, void *arg)
{
	zmsmtpd_sess *s = arg;

	(void)loop;
	s->timer = 0;
	if (s->state != ST_TLS) {
		reply(s, 421, "4.4.2", "%s Timeout, closing connection", s->d->o.hostname);
		(void)io_flush(s, 0);
	}
	slog(s, "timeout");
	sess_free(s);
}

/* sess_rearm - the timer for the current stage */
static void sess_rearm(zmsmtpd_sess *s)
{
	long sec = (s->state == ST_DATA || s->state == ST_BDAT) ? s->d->o.timeout_data
								 : s->d->o.timeout_cmd;
	if (s->timer)
		zev_timer_cancel(s->d->loop, s->timer);
	s->timer = zev_timer_add(s->d->loop, zmono_ms() + sec * 1000LL, sess_timeout, s);
}

/* sess_step - after input: process, write, decide what to wait for; 0 or
 * -1 when the session ended (and is freed) */
static int tls_continue(zmsmtpd_sess *s);

static int sess_step(zmsmtpd_sess *s);

static void sess_unhold(zev_loop *loop, void *arg)
{
	zmsmtpd_sess *s = arg;

	(void)loop;
	s->htimer = 0;
	(void)sess_step(s);
}

static int sess_step(zmsmtpd_sess *s)
{
	int fr;

	process(s);
	if (s->hold_until != 0 && s->hold_until > zmono_ms()) {
		/* tarpit: replies and input wait until hold_until */
		if (s->htimer == 0)
			s->htimer = zev_timer_add(s->d->loop, (uint64_t)s->hold_until, sess_unhold, s);
		if (s->eof) {
			sess_free(s);
			return -1;
		}
		zev_io_mod(s->d->loop, s->infd, 0);
		sess_rearm(s);
		return 0;
	}
	s->hold_until = 0;
	fr = io_flush(s, 0);
	if (s->state == ST_TLS && fr == 0)
		return tls_continue(s);
	if (fr < 0 || (s->state == ST_CLOSE && fr == 0) || (s->eof && s->rbuf.len == 0) ||
	    (s->eof && fr == 0 && !s->blocked)) {
		if (s->state != ST_CLOSE && s->eof && s->state != ST_CMD)
			slog(s, "connection lost in the middle of %s",
			     s->state == ST_DATA || s->state == ST_BDAT ? "a message" : "AUTH");
		sess_free(s);
		return -1;
	}
	/* an idle session keeps no buffer memory */
	if (s->rbuf.len == 0 && s->rbuf.data != NULL) {
		zbuf_free(&s->rbuf);
		zbuf_init(&s->rbuf, RBUF_MAX + 32768);
	}
	if (s->wbuf.len == 0 && s->wbuf.data != NULL) {
		smtp_zbuf_wipe(&s->wbuf);
		zbuf_init(&s->wbuf, 16u * 1024u * 1024u);
	}
	zev_io_mod(s->d->loop, s->infd, (fr == 1 ? ZEV_WRITE : 0) |
		   (s->blocked || s->state == ST_CLOSE || s->state == ST_TLS ? 0 : ZEV_READ));
	sess_rearm(s);
	return 0;
}

/* tls_continue - one step of the server handshake without blocking the
 * loop (STARTTLS after its 220 went out, or implicit TLS at connect);
 * 0, or -1 when the session ended (and is freed) */
static int tls_continue(zmsmtpd_sess *s)
{
	int r, e;

	if (s->ssl == NULL) {
		s->ssl = SSL_new((SSL_CTX *)s->d->tlsctx);
		if (s->ssl == NULL || SSL_set_fd(s->ssl, s->infd) != 1) {
			slog(s, "TLS: cannot set up a session");
			sess_free(s);
			return -1;
		}
		SSL_set_accept_state(s->ssl);
	}
	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1) {
		snprintf(s->tlsinfo, sizeof(s->tlsinfo), "%s %s", SSL_get_version(s->ssl),
			 SSL_get_cipher_name(s->ssl));
		slog(s, "TLS: %s", s->tlsinfo);
		tls_reset(s);
		s->state = ST_CMD;
		if (s->tls_implicit) {
			s->tls_implicit = 0;
			greet(s);
		}
		/* the client may have sent its first command with the Finished */
		(void)io_fill(s);
		return sess_step(s);
	}
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		zev_io_mod(s->d->loop, s->infd, e == SSL_ERROR_WANT_READ ? ZEV_READ : ZEV_WRITE);
		sess_rearm(s);
		return 0;
	}
	slog(s, "TLS handshake failed: %s",
	     ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) : "connection closed");
	sess_free(s);
	return -1;
}

/* proxy_input - ST_PROXY: read the PROXY protocol header (v1 or v2) that
 * must open a connection on a ZMSMTPD_L_PROXY listener; its source
 * address becomes the client address, then the session starts as usual */
static void proxy_input(zmsmtpd_sess *s)
{
	pol_proxy_info pi;
	size_t used = 0;
	zbuf err = ZBUF_INIT(256);
	int rc;

	(void)io_fill(s);
	rc = pol_proxy_parse(s->rbuf.data, s->rbuf.len, &pi, &used, &err);
	if (rc == Z_EAGAIN && !s->eof && s->rbuf.len < POL_PROXY_V2_MAX) {
		zbuf_free(&err);
		sess_rearm(s);
		return;
	}
	if (rc != Z_OK) {
		slog(s, "PROXY protocol: %s; closing", rc == Z_EAGAIN ? "no complete header" : zbuf_cstr(&err));
		zbuf_free(&err);
		sess_free(s);
		return;
	}
	zbuf_free(&err);
	zbuf_consume(&s->rbuf, used);
	if (!pi.local) {
		char ip[64];
		if (pol_proxy_addr_str(&pi.src, ip, sizeof(ip)) == Z_OK) {
			if (s->d->cb.drop_host != NULL && s->d->cb.drop_host(s->d->cb.arg, ip)) {
				sess_free(s);   /* the real client is one to drop: silently */
				return;
			}
			slog(s, "PROXY protocol v%d: client [%s] via [%s]", pi.version, ip, s->ip);
			zstrlcpy(s->ip, ip, sizeof(s->ip));
		}
	}
	if (s->lflags & ZMSMTPD_L_TLS) {
		if (s->d->tlsctx == NULL || s->rbuf.len > 0) {
			slog(s, "implicit TLS: %s", s->d->tlsctx ? "data after the PROXY header" : "no certificate");
			sess_free(s);
			return;
		}
		s->state = ST_TLS;
		s->tls_implicit = 1;
		(void)tls_continue(s);
		return;
	}
	greet(s);
	(void)sess_step(s);
}

static void sess_io(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	zmsmtpd_sess *s = arg;

	(void)loop;
	(void)fd;
	if (s->state == ST_PROXY) {
		proxy_input(s);
		return;
	}
	if (s->state == ST_TLS) {
		/* never read the handshake as plain text: flush the 220, then TLS */
		if (s->wbuf.len == 0)
			(void)tls_continue(s);
		else
			(void)sess_step(s);
		return;
	}
	if (ev & (ZEV_READ | ZEV_ERROR))
		(void)io_fill(s);
	else if (s->ssl != NULL && SSL_pending(s->ssl) > 0)
		(void)io_fill(s);
	(void)sess_step(s);
}

/* per_ip - loop sessions open from address ip */
static unsigned long per_ip(const zmsmtpd *d, const char *ip)
{
	unsigned long n = 0;

	for (const zmsmtpd_sess *s = d->head; s != NULL; s = s->next)
		if (strcmp(s->ip, ip) == 0)
			n++;
	return n;
}

static void lis_io(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	zmsmtpd *d = arg;
	unsigned flags = 0;
	int i;

	(void)loop;
	(void)ev;
	for (i = 0; i < d->nlis; i++)
		if (d->lis[i].fd == fd)
			flags = d->lis[i].flags;
	for (int k = 0; k < 16; k++) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		char ip[64] = "";
		int port = 0;
		int c = accept4(fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		zmsmtpd_sess *s;

		if (c < 0)
			return;
		if (sa.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&sa;
			inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		} else if (sa.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;
			if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
				inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof(ip));
			else
				inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		}
		{
			struct sockaddr_storage la;
			socklen_t ll = sizeof(la);
			if (getsockname(c, (struct sockaddr *)&la, &ll) == 0)
				port = ntohs(la.ss_family == AF_INET ?
					     ((struct sockaddr_in *)&la)->sin_port :
					     ((struct sockaddr_in6 *)&la)->sin6_port);
		}
		if (d->cb.drop_host != NULL && d->cb.drop_host(d->cb.arg, ip)) {
			close(c);   /* -k: no reply, no log line */
			continue;
		}
		s = sess_new(d, c, c, ip, port, flags);
		if (s == NULL) {
			close(c);
			continue;
		}
		if (d->nsess > d->o.max_conns || (d->o.max_per_ip > 0 && per_ip(d, ip) >= d->o.max_per_ip)) {
			char msg[160];
			int k2 = snprintf(msg, sizeof(msg), "421 4.7.0 %s Too many connections%s, try again later\r\n",
					  d->o.hostname, d->nsess > d->o.max_conns ? "" : " from your address");
			if (k2 > 0 && (size_t)k2 < sizeof(msg))
				(void)!send(c, msg, (size_t)k2, MSG_NOSIGNAL | MSG_DONTWAIT);
			slog(s, "refused [%s]: too many connections", ip);
			close(c);
			d->nsess--;
			zbuf_free(&s->rbuf);
			zbuf_free(&s->wbuf);
			free(s);
			continue;
		}
		s->loopmode = 1;
		if (zev_io_add(d->loop, c, ZEV_READ, sess_io, s) != Z_OK) {
			close(c);
			d->nsess--;
			zbuf_free(&s->rbuf);
			zbuf_free(&s->wbuf);
			free(s);
			continue;
		}
		s->next = d->head;
		if (d->head)
			d->head->prev = s;
		d->head = s;
		slog(s, "connect from [%s] port %d", ip, port);
		if (flags & ZMSMTPD_L_PROXY) {
			s->state = ST_PROXY;   /* the header first (proxy_input) */
			sess_rearm(s);
			continue;
		}
		if (flags & ZMSMTPD_L_TLS) {
			if (d->tlsctx == NULL) {
				slog(s, "implicit TLS: no certificate");
				sess_free(s);
				continue;
			}
			s->state = ST_TLS;
			s->tls_implicit = 1;
			(void)tls_continue(s);
			continue;
		}
		greet(s);
		(void)sess_step(s);
	}
}

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
	while (d->head != NULL)
		sess_free(d->head);
	for (int i = 0; i < d->nlis; i++) {
		if (d->loop)
			zev_io_del(d->loop, d->lis[i].fd);
		close(d->lis[i].fd);
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
	if (zev_io_add(d->loop, fd, ZEV_READ, lis_io, d) != Z_OK)
		return -1;
	d->lis[d->nlis].fd = fd;
	d->lis[d->nlis].flags = flags;
	d->nlis++;
	{
		struct sockaddr_storage la;
		socklen_t ll = sizeof(la);
		if (getsockname(fd, (struct sockaddr *)&la, &ll) == 0)
			d->lastport = ntohs(la.ss_family == AF_INET ?
					    ((struct sockaddr_in *)&la)->sin_port :
					    ((struct sockaddr_in6 *)&la)->sin6_port);
	}
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

unsigned long zmsmtpd_sessions(const zmsmtpd *d)
{
	return d->nsess;
}

int zmsmtpd_serve_fds(zmsmtpd *d, int infd, int outfd, const char *client_ip)
{
	zmsmtpd_sess *s = sess_new(d, infd, outfd, client_ip, 0, 0);

	if (s == NULL)
		return -1;
	greet(s);
	for (;;) {
		process(s);
		if (io_flush(s, 1) != 0 || s->state == ST_CLOSE)
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
				reply(s, 421, "4.4.2", "%s Timeout, closing connection", d->o.hostname);
				(void)io_flush(s, 1);
				break;
			}
			if (r < 0 && errno != EINTR)
				break;
		}
		(void)io_fill(s);
	}
	sess_free(s);
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
