/*
 * NAME
 *	smtp_session - one SMTP connection: bounded, deadline-driven I/O
 * SUMMARY
 *	Buffered reads and writes on a non-blocking socket, optionally
 *	through an OpenSSL connection, every wait bounded by poll(2) and a
 *	deadline; replies read for a client, command lines for a server;
 *	per-session callbacks instead of process globals.
 * SYNOPSIS
 *	void smtp_session_init(smtp_session *ss, const smtp_session_cb *cb)
 *	void smtp_session_free(smtp_session *ss), smtp_session_attach,
 *	     smtp_session_close, smtp_session_state, smtp_session_wipe
 *	int smtp_session_queue(smtp_session *ss, const void *p, size_t n)
 *	int smtp_session_flush(smtp_session *ss, long timeout_ms, zbuf *err)
 *	int smtp_session_reply(smtp_session *ss, long timeout_ms, smtp_reply *r,
 *	                       zbuf *err)
 *	int smtp_session_command(smtp_session *ss, long timeout_ms, zbuf *line,
 *	                         zbuf *err)
 *	int smtp_session_send_reply(smtp_session *ss, int code, const char *enh,
 *	                            const char *text)
 *	int smtp_session_readable(smtp_session *ss, long ms),
 *	    smtp_session_buffered(smtp_session *ss)
 *	int smtp_session_poll(smtp_session *ss, struct pollfd *fds,
 *	                      unsigned long nfds, int ms)
 * DESCRIPTION
 *	What the session owns and which callbacks it calls is described in
 *	smtp_session.h.  Lines end in CRLF; a bare LF is tolerated.
 *
 *	smtp_session_flush() never blocks on a full socket while the peer
 *	might be blocked on us: whenever the socket is not writable it also
 *	reads whatever the peer sent into the read buffer (bounded by
 *	SMTP_RBUF_MAX), so pipelined command groups and long bodies cannot
 *	deadlock.  The write timeout restarts whenever bytes move.  The wait
 *	callback runs each time smtp_session_reply() is about to block in
 *	poll; every wait goes through the poll callback (at most 60 s at a
 *	time, so a keepalive hook gets its turn).
 * DIAGNOSTICS
 *	Z_EAGAIN on timeout, Z_EIO when the peer closed or a system call
 *	failed, Z_EPARSE/Z_ETOOBIG for bad lines; a human reason in err.
 * SECURITY
 *	Every byte read is untrusted: bounded buffers only, NUL bytes and
 *	malformed lines rejected, nothing interpreted beyond the reply code.
 *	Data read after STARTTLS's reply is the caller's to refuse (the
 *	client checks rbuf is empty before the handshake).
 * BUGS
 *	A reply is only matched by position; the caller keeps the order.
 * SEE ALSO
 *	smtp_session.h, smtp_reply.c, smtp_tls.c, zmta-smtp(3), RFC 5321,
 *	RFC 2920
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "smtp_session.h"
#include "zerr.h"
#include "zutil.h"

/* smtp_session_init - unattached session */
void smtp_session_init(smtp_session *io, const smtp_session_cb *cb)
{
	memset(io, 0, sizeof(*io));
	io->fd = -1;
	zbuf_init(&io->rbuf, SMTP_RBUF_MAX);
	zbuf_init(&io->wbuf, SMTP_WBUF_MAX);
	io->tcpw_ms = 300000;
	if (cb != NULL)
		io->cb = *cb;
}

/* smtp_session_free - close, then release the buffers */
void smtp_session_free(smtp_session *io)
{
	smtp_session_close(io);
	zbuf_free(&io->rbuf);
	zbuf_free(&io->wbuf);
}

/* smtp_session_state - record the protocol state, tell the progress hook */
void smtp_session_state(smtp_session *io, int st)
{
	io->state = st;
	if (io->cb.progress != NULL)
		io->cb.progress(io->cb.arg, st);
}

/* smtp_session_wipe - clear the unused part of the output buffer */
void smtp_session_wipe(smtp_session *io)
{
	if (io->wbuf.data != NULL)
		explicit_bzero(io->wbuf.data + io->wbuf.len, io->wbuf.cap - io->wbuf.len);
}

/* smtp_session_poll - poll through the session's hook (poll(2) without one) */
int smtp_session_poll(smtp_session *io, struct pollfd *fds, unsigned long nfds, int ms)
{
	if (io->cb.poll != NULL)
		return io->cb.poll(io->cb.arg, fds, nfds, ms);
	return poll(fds, (nfds_t)nfds, ms);
}

/* smtp_session_attach - start using a connected non-blocking fd */
void smtp_session_attach(smtp_session *io, int fd)
{
	io->fd = fd;
	io->ssl = NULL;
	io->tls = STLS_OFF;
	io->eof = 0;
	io->broken = 0;
	zbuf_reset(&io->rbuf);
	zbuf_reset(&io->wbuf);
}

/* smtp_session_close - drop TLS and the socket, keep buffers for reuse */
void smtp_session_close(smtp_session *io)
{
	if (io->ssl != NULL) {
		SSL_set_quiet_shutdown((SSL *)io->ssl, 1);
		SSL_free((SSL *)io->ssl);
		io->ssl = NULL;
	}
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	io->tls = STLS_OFF;
	io->eof = 0;
	io->broken = 0;
	zbuf_reset(&io->rbuf);
	zbuf_reset(&io->wbuf);
}

/* smtp_session_queue - append to the output buffer */
int smtp_session_queue(smtp_session *io, const void *p, size_t n)
{
	return zbuf_append(&io->wbuf, p, n);
}

/* io_read_some - one read into rbuf: >0 bytes, 0 EOF, Z_EAGAIN (*ev set), Z_EIO */
static long io_read_some(smtp_session *io, short *ev, zbuf *err)
{
	char tmp[16384];
	size_t room = io->rbuf.max - io->rbuf.len;
	long n;

	if (room == 0) {
		zbuf_reset(err);
		zbuf_puts(err, "peer sent more than we can buffer without reading it");
		return Z_ETOOBIG;
	}
	if (room > sizeof(tmp))
		room = sizeof(tmp);
	if (io->ssl != NULL) {
		int rc;
		ERR_clear_error();
		rc = SSL_read((SSL *)io->ssl, tmp, (int)room);
		if (rc > 0) {
			n = rc;
		} else {
			int e = SSL_get_error((SSL *)io->ssl, rc);
			if (e == SSL_ERROR_WANT_READ) {
				*ev = POLLIN;
				return Z_EAGAIN;
			}
			if (e == SSL_ERROR_WANT_WRITE) {
				*ev = POLLOUT;
				return Z_EAGAIN;
			}
			if (e == SSL_ERROR_ZERO_RETURN) {
				io->eof = 1;
				return 0;
			}
			if (e == SSL_ERROR_SYSCALL && rc == 0 && ERR_peek_error() == 0) {
				io->eof = 1;
				return 0;
			}
			zbuf_reset(err);
			zbuf_printf(err, "TLS read error: %s",
				    ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) :
				    strerror(errno));
			io->broken = 1;
			return Z_EIO;
		}
	} else {
		n = read(io->fd, tmp, room);
		if (n == 0) {
			io->eof = 1;
			return 0;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				*ev = POLLIN;
				return Z_EAGAIN;
			}
			zbuf_reset(err);
			zbuf_printf(err, "read error: %s", strerror(errno));
			io->broken = 1;
			return Z_EIO;
		}
	}
	if (zbuf_append(&io->rbuf, tmp, (size_t)n) != Z_OK) {
		zbuf_reset(err);
		zbuf_puts(err, "out of memory buffering the reply");
		return Z_EIO;
	}
	return n;
}

/* io_write_some - one write from wbuf: >=0 written, Z_EAGAIN (*ev set), Z_EIO */
static long io_write_some(smtp_session *io, short *ev, zbuf *err)
{
	size_t len = io->wbuf.len;
	long n;

	if (len > 65536)
		len = 65536;
	if (io->ssl != NULL) {
		int rc;
		ERR_clear_error();
		rc = SSL_write((SSL *)io->ssl, io->wbuf.data, (int)len);
		if (rc > 0) {
			n = rc;
		} else {
			int e = SSL_get_error((SSL *)io->ssl, rc);
			if (e == SSL_ERROR_WANT_WRITE) {
				*ev = POLLOUT;
				return Z_EAGAIN;
			}
			if (e == SSL_ERROR_WANT_READ) {
				*ev = POLLIN;
				return Z_EAGAIN;
			}
			zbuf_reset(err);
			zbuf_printf(err, "TLS write error: %s",
				    ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) :
				    "connection closed");
			io->broken = 1;
			return Z_EIO;
		}
	} else {
		n = send(io->fd, io->wbuf.data, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				*ev = POLLOUT;
				return Z_EAGAIN;
			}
			zbuf_reset(err);
			zbuf_printf(err, "write error: %s", strerror(errno));
			io->broken = 1;
			return Z_EIO;
		}
	}
	zbuf_consume(&io->wbuf, (size_t)n);
	return n;
}

/* io_poll - wait for ev on fd until deadline: 1 ready, 0 timeout, <0 error */
static int io_poll(smtp_session *io, short ev, long long deadline)
{
	for (;;) {
		long long now = zmono_ms();
		long long left = deadline - now;
		struct pollfd p;
		int rc;

		if (left < 0)
			left = 0;
		p.fd = io->fd;
		p.events = ev;
		p.revents = 0;
		rc = smtp_session_poll(io, &p, 1, (int)(left > 60000 ? 60000 : left));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 1;
		if (left == 0 || zmono_ms() >= deadline)
			return 0;
	}
}

/* smtp_session_flush - write out wbuf, reading meanwhile */
int smtp_session_flush(smtp_session *io, long timeout_ms, zbuf *err)
{
	long long deadline = zmono_ms() + timeout_ms;

	if (io->fd < 0 || io->broken) {
		zbuf_reset(err);
		zbuf_puts(err, "connection is not open");
		return Z_EIO;
	}
	while (io->wbuf.len > 0) {
		short ev = POLLOUT;
		long n = io_write_some(io, &ev, err);
		int pr;

		if (n > 0) {
			deadline = zmono_ms() + timeout_ms;
			continue;
		}
		if (n == Z_EIO)
			return Z_EIO;
		/* blocked: also drain the peer so it never blocks on us */
		if (!io->eof)
			ev |= POLLIN;
		pr = io_poll(io, ev, deadline);
		if (pr == 0) {
			zbuf_reset(err);
			zbuf_printf(err, "timeout after %ld s writing to the peer", timeout_ms / 1000);
			return Z_EAGAIN;
		}
		if (pr < 0) {
			zbuf_reset(err);
			zbuf_printf(err, "poll: %s", strerror(errno));
			return Z_EIO;
		}
		if (!io->eof) {
			/* drain the peer; with TLS any WANT_* here is fine */
			short rev = POLLIN;
			long r = io_read_some(io, &rev, err);
			if (r == Z_EIO || r == Z_ETOOBIG)
				return Z_EIO;
		}
	}
	return Z_OK;
}

/* io_take_line - next complete line from rbuf (at most max bytes with
 * its LF): 1 line, 0 none yet, Z_ETOOBIG, Z_ENOMEM */
static int io_take_line(smtp_session *io, size_t max, zbuf *line, zbuf *err)
{
	const char *nl;
	size_t n;

	if (io->rbuf.len == 0)
		return 0;
	nl = memchr(io->rbuf.data, '\n', io->rbuf.len);
	if (nl == NULL) {
		if (io->rbuf.len >= max) {
			zbuf_reset(err);
			zbuf_printf(err, "line longer than %zu bytes", max);
			return Z_ETOOBIG;
		}
		return 0;
	}
	n = (size_t)(nl - io->rbuf.data);
	if (n + 1 > max) {
		zbuf_reset(err);
		zbuf_printf(err, "line longer than %zu bytes", max);
		return Z_ETOOBIG;
	}
	zbuf_reset(line);
	if (zbuf_append(line, io->rbuf.data, n > 0 && nl[-1] == '\r' ? n - 1 : n) != Z_OK) {
		zbuf_reset(err);
		zbuf_puts(err, "out of memory");
		return Z_ETOOBIG;
	}
	zbuf_consume(&io->rbuf, n + 1);
	return 1;
}

/* read_line - one line (at most max bytes) within the deadline; what is
 * "the peer's text" in messages is what; Z_OK or an error with err set */
static int read_line(smtp_session *io, long long deadline, long timeout_ms, size_t max,
		     int inside, const char *what, zbuf *line, zbuf *err)
{
	if (io->fd < 0) {
		zbuf_reset(err);
		zbuf_puts(err, "connection is not open");
		return Z_EIO;
	}
	for (;;) {
		short ev = POLLIN;
		long n;
		int t = io_take_line(io, max, line, err);

		if (t < 0) {
			io->broken = 1;
			return t;
		}
		if (t == 1) {
			if (io->cb.line != NULL)
				io->cb.line(io->cb.arg, line->data ? line->data : "", line->len);
			return Z_OK;
		}
		if (io->eof) {
			zbuf_reset(err);
			if (inside)
				zbuf_printf(err, "connection closed in the middle of a %s", what);
			else
				zbuf_puts(err, "connection closed by the peer");
			io->broken = 1;
			return Z_EIO;
		}
		if (io->ssl == NULL || SSL_pending((SSL *)io->ssl) == 0) {
			int pr;
			if (io->cb.wait != NULL)
				io->cb.wait(io->cb.arg);
			pr = io_poll(io, ev, deadline);
			if (pr == 0) {
				zbuf_reset(err);
				zbuf_printf(err, "timeout after %ld s waiting for the %s",
					    timeout_ms / 1000, what);
				return Z_EAGAIN;
			}
			if (pr < 0) {
				zbuf_reset(err);
				zbuf_printf(err, "poll: %s", strerror(errno));
				return Z_EIO;
			}
		}
		n = io_read_some(io, &ev, err);
		if (n == Z_EAGAIN && ev == POLLOUT) {
			/* TLS renegotiation wants to write */
			if (io_poll(io, POLLOUT, deadline) <= 0) {
				zbuf_reset(err);
				zbuf_printf(err, "timeout in TLS while waiting for the %s", what);
				return Z_EAGAIN;
			}
		} else if (n == Z_EIO || n == Z_ETOOBIG) {
			return Z_EIO;
		}
	}
}

/* smtp_session_reply - read one complete reply */
int smtp_session_reply(smtp_session *io, long timeout_ms, smtp_reply *r, zbuf *err)
{
	long long deadline = zmono_ms() + timeout_ms;
	zbuf line = ZBUF_INIT(SMTP_REPLY_LINE_MAX + 1);
	int rc;

	smtp_reply_reset(r);
	for (;;) {
		int f;
		rc = read_line(io, deadline, timeout_ms, SMTP_REPLY_LINE_MAX, r->nlines > 0,
			       "reply", &line, err);
		if (rc == Z_ETOOBIG) {
			zbuf_reset(err);
			zbuf_printf(err, "reply line longer than %d bytes", SMTP_REPLY_LINE_MAX);
		}
		if (rc != Z_OK)
			break;
		f = smtp_reply_line(r, line.data ? line.data : "", line.len, err);
		if (f < 0) {
			io->broken = 1;
			rc = f;
			break;
		}
		if (f == 1)
			break;
	}
	zbuf_free(&line);
	return rc;
}

/* smtp_session_command - server: read one command line */
int smtp_session_command(smtp_session *io, long timeout_ms, zbuf *line, zbuf *err)
{
	int rc = read_line(io, zmono_ms() + timeout_ms, timeout_ms, SMTP_CMD_MAX, 0,
			   "command", line, err);

	if (rc == Z_ETOOBIG) {
		zbuf_reset(err);
		zbuf_printf(err, "command line longer than %d bytes", SMTP_CMD_MAX);
	} else if (rc == Z_OK && memchr(line->data ? line->data : "", '\0', line->len) != NULL) {
		zbuf_reset(err);
		zbuf_puts(err, "NUL byte in a command line");
		rc = Z_EPARSE;
	}
	return rc;
}

/* smtp_session_send_reply - server: queue one formatted reply */
int smtp_session_send_reply(smtp_session *io, int code, const char *enh, const char *text)
{
	return smtp_reply_format(&io->wbuf, code, enh, zspan_from(text ? text : ""));
}

/* smtp_session_buffered - input already read (rbuf, TLS buffer) or EOF seen;
 * no system call */
int smtp_session_buffered(smtp_session *io)
{
	if (io->fd < 0)
		return 0;
	if (io->rbuf.len > 0 || io->eof)
		return 1;
	return io->ssl != NULL && SSL_pending((SSL *)io->ssl) > 0;
}

/* smtp_session_readable - input (or EOF) available within ms */
int smtp_session_readable(smtp_session *io, long ms)
{
	if (io->fd < 0)
		return 0;
	if (io->rbuf.len > 0 || io->eof)
		return 1;
	if (io->ssl != NULL && SSL_pending((SSL *)io->ssl) > 0)
		return 1;
	return io_poll(io, POLLIN, zmono_ms() + ms) != 0;
}
