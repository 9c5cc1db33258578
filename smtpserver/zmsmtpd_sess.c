/*
 * NAME
 *	zmsmtpd_sess - libzmsmtpd: listener, accept, PROXY header, session life
 * SUMMARY
 *	Accepts connections (limits in total and per address), reads a PROXY
 *	header when the listener wants one, greets, steps the session after
 *	input, runs TLS handshakes as loop steps, times out and frees.
 * SYNOPSIS
 *	zmsmtpd_sess *zms_sess_new(zmsmtpd *d, int infd, int outfd, ...);
 *	void zms_sess_free(zmsmtpd_sess *s);  int zms_sess_step(zmsmtpd_sess *s);
 *	void zms_greet(zmsmtpd_sess *s);
 *	void zms_lis_io(zev_loop *loop, int fd, unsigned ev, void *arg);
 * DESCRIPTION
 *	zms_sess_step: process, then write, then decide what to wait for
 *	(epoll interest changed only when it differs: sess_want).  A session
 *	waiting for an asynchronous delivery reads nothing and has no
 *	timeout (its read interest stays until input arrives meanwhile, and
 *	is dropped then: no epoll_ctl for the usual client that waits); if
 *	it must be freed meanwhile it becomes a zombie (out of
 *	the loop, still allocated) until zmsmtpd_deliver_done.  An idle
 *	session keeps no buffer memory.  drop_host is asked at accept, and
 *	again with the client address of a PROXY header, and may close a
 *	connection silently.  After the own max-connections / max-per-ip
 *	counts, admit (if set) decides for limits shared with other
 *	processes; release gives the place back when the session is freed.
 * DIAGNOSTICS
 *	Replies to the client and log callback lines.
 * SECURITY
 *	Sessions in total and per client address (421 at connect); the PROXY
 *	header is bounded (closed without a reply when bad).
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmsmtpd.c, zmsmtpd_int.h, libzmsmtpd(3)
 */
#include "zmsmtpd_int.h"

/* ---------- session life ---------- */

zmsmtpd_sess *zms_sess_new(zmsmtpd *d, int infd, int outfd, const char *ip, int port,
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
	s->sock = (lflags & ZMS_L_SOCKET) || getsockopt(outfd, SOL_SOCKET, SO_TYPE, &so, &sl) == 0;
	lflags &= ~ZMS_L_SOCKET;
	zbuf_init(&s->rbuf, RBUF_MAX + 32768);
	zbuf_init(&s->wbuf, 16u * 1024u * 1024u);
	zstrlcpy(s->ip, ip ? ip : "", sizeof(s->ip));
	s->port = port;
	s->lflags = lflags;
	s->state = ST_GREET;
	d->nsess++;
	return s;
}

void zms_sess_free(zmsmtpd_sess *s)
{
	if (s->waiting && s->loopmode && !s->zombie) {
		/* a delivery is in flight and holds s: close the connection
		 * now, free s at zmsmtpd_deliver_done */
		zev_io_del(s->d->loop, s->infd);
		if (s->timer)
			zev_timer_cancel(s->d->loop, s->timer);
		if (s->htimer)
			zev_timer_cancel(s->d->loop, s->htimer);
		s->timer = s->htimer = 0;
		s->zombie = 1;
		return;
	}
	if (s->d->cb.session_end != NULL)
		s->d->cb.session_end(s->d->cb.arg, s);
	zms_txn_reset(s);
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
	zbuf_free(&s->mem);
	if (s->admit_ip[0] != '\0' && s->d->cb.release != NULL)
		s->d->cb.release(s->d->cb.arg, s->admit_ip);
	s->d->nsess--;
	free(s);
}

/* zms_greet - the first reply: validate_host decides; implicit TLS first */
void zms_greet(zmsmtpd_sess *s)
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
			zms_slog(s, "implicit TLS failed: %s", d->tlsctx ? zbuf_cstr(&err) : "no certificate");
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
	zms_verdict_init(&v);
	if (d->cb.validate_host != NULL)
		d->cb.validate_host(d->cb.arg, s, s->ip, &v);
	s->state = ST_CMD;
	if (d->o.tarpit && s->loopmode && d->o.tp.greet_ms > 0)
		s->hold_until = zmono_ms() + d->o.tp.greet_ms;
	if (v.action == ZMSMTPD_ACCEPT) {
		zms_reply(s, 220, NULL, "%s %s", d->o.hostname, d->o.greeting);
	} else if (v.action == ZMSMTPD_DEFER) {
		zms_reply(s, 421, "4.3.2", "%s %s", d->o.hostname,
		      v.text[0] ? v.text : "Service not available, try again later");
		s->state = ST_CLOSE;
	} else {
		s->refused = 1;
		zms_reply(s, 554, NULL, "%s %s", d->o.hostname,
		      v.text[0] && !strpbrk(v.text, "\r\n") ? v.text : "No SMTP service here");
	}
}

static void sess_io(zev_loop *loop, int fd, unsigned ev, void *arg);

/* sess_want - watch infd for ev (no system call when that is unchanged) */
static void sess_want(zmsmtpd_sess *s, unsigned ev)
{
	if (s->evmask == ev)
		return;
	if (zev_io_mod(s->d->loop, s->infd, ev) == Z_OK)
		s->evmask = ev;
}

/* timeout - idle too long */
static void sess_timeout(zev_loop *loop, void *arg)
{
	zmsmtpd_sess *s = arg;

	(void)loop;
	s->timer = 0;
	if (s->state != ST_TLS) {
		zms_reply(s, 421, "4.4.2", "%s Timeout, closing connection", s->d->o.hostname);
		(void)zms_io_flush(s, 0);
	}
	zms_slog(s, "timeout");
	zms_sess_free(s);
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

/* zms_sess_step - after input: zms_process, write, decide what to wait for; 0 or
 * -1 when the session ended (and is freed) */
static int tls_continue(zmsmtpd_sess *s);

int zms_sess_step(zmsmtpd_sess *s);

static void sess_unhold(zev_loop *loop, void *arg)
{
	zmsmtpd_sess *s = arg;

	(void)loop;
	s->htimer = 0;
	(void)zms_sess_step(s);
}

int zms_sess_step(zmsmtpd_sess *s)
{
	int fr;

	zms_process(s);
	if (s->hold_until != 0 && s->hold_until > zmono_ms()) {
		/* tarpit: replies and input wait until hold_until */
		if (s->htimer == 0)
			s->htimer = zev_timer_add(s->d->loop, (uint64_t)s->hold_until, sess_unhold, s);
		if (s->eof) {
			zms_sess_free(s);
			return -1;
		}
		sess_want(s, 0);
		sess_rearm(s);
		return 0;
	}
	s->hold_until = 0;
	fr = zms_io_flush(s, 0);
	if (s->waiting) {
		/* until zmsmtpd_deliver_done: write what is queued, read
		 * nothing (pipelined commands stay in rbuf), no timeout (the
		 * delivery is bounded by its callback) */
		if (fr < 0) {
			zms_sess_free(s);
			return -1;
		}
		/* read interest is dropped lazily (sess_io), at the first
		 * input while waiting: mostly none comes, and the two
		 * epoll_ctl calls per message are saved */
		sess_want(s, (fr == 1 ? ZEV_WRITE : 0) | (s->evmask & ZEV_READ));
		if (s->timer)
			zev_timer_cancel(s->d->loop, s->timer);
		s->timer = 0;
		return 0;
	}
	if (s->state == ST_TLS && fr == 0)
		return tls_continue(s);
	if (fr < 0 || (s->state == ST_CLOSE && fr == 0) || (s->eof && s->rbuf.len == 0) ||
	    (s->eof && fr == 0 && !s->blocked)) {
		if (s->state != ST_CLOSE && s->eof && s->state != ST_CMD)
			zms_slog(s, "connection lost in the middle of %s",
			     s->state == ST_DATA || s->state == ST_BDAT ? "a message" : "AUTH");
		zms_sess_free(s);
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
	sess_want(s, (fr == 1 ? ZEV_WRITE : 0) |
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
			zms_slog(s, "TLS: cannot set up a session");
			zms_sess_free(s);
			return -1;
		}
		SSL_set_accept_state(s->ssl);
	}
	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1) {
		snprintf(s->tlsinfo, sizeof(s->tlsinfo), "%s %s", SSL_get_version(s->ssl),
			 SSL_get_cipher_name(s->ssl));
		zms_slog(s, "TLS: %s", s->tlsinfo);
		zms_tls_reset(s);
		s->state = ST_CMD;
		if (s->tls_implicit) {
			s->tls_implicit = 0;
			zms_greet(s);
		}
		/* the client may have sent its first command with the Finished */
		(void)zms_io_fill(s);
		return zms_sess_step(s);
	}
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		sess_want(s, e == SSL_ERROR_WANT_READ ? ZEV_READ : ZEV_WRITE);
		sess_rearm(s);
		return 0;
	}
	zms_slog(s, "TLS handshake failed: %s",
	     ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) : "connection closed");
	zms_sess_free(s);
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

	(void)zms_io_fill(s);
	rc = pol_proxy_parse(s->rbuf.data, s->rbuf.len, &pi, &used, &err);
	if (rc == Z_EAGAIN && !s->eof && s->rbuf.len < POL_PROXY_V2_MAX) {
		zbuf_free(&err);
		sess_rearm(s);
		return;
	}
	if (rc != Z_OK) {
		zms_slog(s, "PROXY protocol: %s; closing", rc == Z_EAGAIN ? "no complete header" : zbuf_cstr(&err));
		zbuf_free(&err);
		zms_sess_free(s);
		return;
	}
	zbuf_free(&err);
	zbuf_consume(&s->rbuf, used);
	if (!pi.local) {
		char ip[64];
		if (pol_proxy_addr_str(&pi.src, ip, sizeof(ip)) == Z_OK) {
			if (s->d->cb.drop_host != NULL && s->d->cb.drop_host(s->d->cb.arg, ip)) {
				zms_sess_free(s);   /* the real client is one to drop: silently */
				return;
			}
			zms_slog(s, "PROXY protocol v%d: client [%s] via [%s]", pi.version, ip, s->ip);
			zstrlcpy(s->ip, ip, sizeof(s->ip));
		}
	}
	if (s->lflags & ZMSMTPD_L_TLS) {
		if (s->d->tlsctx == NULL || s->rbuf.len > 0) {
			zms_slog(s, "implicit TLS: %s", s->d->tlsctx ? "data after the PROXY header" : "no certificate");
			zms_sess_free(s);
			return;
		}
		s->state = ST_TLS;
		s->tls_implicit = 1;
		(void)tls_continue(s);
		return;
	}
	zms_greet(s);
	(void)zms_sess_step(s);
}

static void sess_io(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	zmsmtpd_sess *s = arg;

	(void)loop;
	(void)fd;
	if (s->waiting && (ev & ZEV_READ)) {
		/* input during a delivery stays unread until it is done */
		sess_want(s, s->evmask & ~ZEV_READ);
		if (!(ev & ZEV_WRITE))
			return;
		ev &= ~(unsigned)(ZEV_READ | ZEV_ERROR);
	}
	if (s->state == ST_PROXY) {
		proxy_input(s);
		return;
	}
	if (s->state == ST_TLS) {
		/* never read the handshake as plain text: flush the 220, then TLS */
		if (s->wbuf.len == 0)
			(void)tls_continue(s);
		else
			(void)zms_sess_step(s);
		return;
	}
	if (ev & (ZEV_READ | ZEV_ERROR))
		(void)zms_io_fill(s);
	else if (s->ssl != NULL && SSL_pending(s->ssl) > 0)
		(void)zms_io_fill(s);
	(void)zms_sess_step(s);
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

void zms_lis_io(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	zmsmtpd *d = arg;
	unsigned flags = 0;
	int i, lport = -1;

	(void)loop;
	(void)ev;
	for (i = 0; i < d->nlis; i++)
		if (d->lis[i].fd == fd) {
			flags = d->lis[i].flags;
			lport = d->lis[i].port;
		}
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
		if (lport > 0) {
			port = lport;   /* an accepted socket has its listener's port */
		} else {
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
		s = zms_sess_new(d, c, c, ip, port, flags | ZMS_L_SOCKET);
		if (s == NULL) {
			close(c);
			continue;
		}
		int full = d->nsess > d->o.max_conns ? ZMSMTPD_ADMIT_TOTAL :
			   d->o.max_per_ip > 0 && per_ip(d, ip) >= d->o.max_per_ip ? ZMSMTPD_ADMIT_IP :
			   d->cb.admit != NULL ? d->cb.admit(d->cb.arg, ip, d->o.max_conns, d->o.max_per_ip) :
			   ZMSMTPD_ADMIT_OK;
		if (full == ZMSMTPD_ADMIT_OK && d->cb.admit != NULL)
			zstrlcpy(s->admit_ip, ip, sizeof(s->admit_ip));
		if (full != ZMSMTPD_ADMIT_OK) {
			char msg[160];
			int k2 = snprintf(msg, sizeof(msg), "421 4.7.0 %s Too many connections%s, try again later\r\n",
					  d->o.hostname, full == ZMSMTPD_ADMIT_TOTAL ? "" : " from your address");
			if (k2 > 0 && (size_t)k2 < sizeof(msg))
				(void)!send(c, msg, (size_t)k2, MSG_NOSIGNAL | MSG_DONTWAIT);
			zms_slog(s, "refused [%s]: too many connections", ip);
			close(c);
			d->nsess--;
			zbuf_free(&s->rbuf);
			zbuf_free(&s->wbuf);
			free(s);
			continue;
		}
		s->loopmode = 1;
		s->evmask = ZEV_READ;
		if (zev_io_add(d->loop, c, ZEV_READ, sess_io, s) != Z_OK) {
			close(c);
			if (s->admit_ip[0] != '\0' && d->cb.release != NULL)
				d->cb.release(d->cb.arg, s->admit_ip);
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
		zms_slog(s, "connect from [%s] port %d", ip, port);
		if (flags & ZMSMTPD_L_PROXY) {
			s->state = ST_PROXY;   /* the header first (proxy_input) */
			sess_rearm(s);
			continue;
		}
		if (flags & ZMSMTPD_L_TLS) {
			if (d->tlsctx == NULL) {
				zms_slog(s, "implicit TLS: no certificate");
				zms_sess_free(s);
				continue;
			}
			s->state = ST_TLS;
			s->tls_implicit = 1;
			(void)tls_continue(s);
			continue;
		}
		zms_greet(s);
		(void)zms_sess_step(s);
	}
}

