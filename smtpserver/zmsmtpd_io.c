/*
 * NAME
 *	zmsmtpd_io - libzmsmtpd: reading, reply queueing and output
 * SUMMARY
 *	Log lines, replies (queued in the session's write buffer, RFC 2920
 *	batching), verdict replies, and the reads and writes of a session
 *	(plain or TLS).
 * SYNOPSIS
 *	void zms_slog(zmsmtpd_sess *s, const char *fmt, ...);
 *	void zms_reply(zmsmtpd_sess *s, int code, const char *enh, const char *fmt, ...);
 *	void zms_verdict_reply(zmsmtpd_sess *s, const zmsmtpd_verdict *v, ...);
 *	int zms_io_fill(zmsmtpd_sess *s);  int zms_io_flush(zmsmtpd_sess *s, int block);
 * DESCRIPTION
 *	zms_reply formats one reply (multi-line when the text holds
 *	newlines) with its enhanced code into wbuf; a 4xx/5xx counts as an
 *	error of the session and, with the tarpit, sets hold_until.
 *	zms_verdict_reply turns a callback's verdict into the reply (the
 *	default code and text for its action).  zms_io_fill reads what is
 *	there into rbuf (bounded); zms_io_flush writes wbuf, blocking only
 *	in zmsmtpd_serve_fds sessions.  The transcript callback sees every
 *	byte read and written (after TLS decryption, before encryption).
 * DIAGNOSTICS
 *	Replies to the client and log callback lines.
 * SECURITY
 *	Every input byte goes into the bounded rbuf; wbuf has a hard cap.
 *	Reply texts from callbacks lose CR and LF.
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmsmtpd.c, zmsmtpd_int.h, libzmsmtpd(3)
 */
#include "zmsmtpd_int.h"

/* ---------- helpers ---------- */

/* zms_slog - a log line through the callback */
void zms_slog(zmsmtpd_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void zms_slog(zmsmtpd_sess *s, const char *fmt, ...)
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

/* zms_reply - queue one reply (text lines separated by '\n') */
void zms_reply(zmsmtpd_sess *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void zms_reply(zmsmtpd_sess *s, int code, const char *enh, const char *fmt, ...)
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

/* zms_verdict_reply - the reply of a callback verdict, with defaults */
void zms_verdict_reply(zmsmtpd_sess *s, const zmsmtpd_verdict *v, int okcode,
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
	zms_reply(s, code, enh, "%s", text);
}

void zms_verdict_init(zmsmtpd_verdict *v)
{
	memset(v, 0, sizeof(*v));
}

/* ---------- I/O ---------- */

/* zms_io_fill - read what is there into rbuf: >0 read, 0 nothing, -1 EOF/error */
int zms_io_fill(zmsmtpd_sess *s)
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
		/* a short plain read drained the socket: the next read would
		 * only say EAGAIN (the loop is level-triggered and calls
		 * again for more, or for the end of file) */
		if (!s->loopmode || (s->ssl == NULL && (size_t)n < sizeof(tmp)))
			return got;
	}
	return got;
}

/* zms_io_flush - write what is queued; block (poll) when block is set.
 * 0 all written, 1 more to write, -1 error */
int zms_io_flush(zmsmtpd_sess *s, int block)
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

