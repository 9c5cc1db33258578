/*
 * NAME
 *	smtp_io - bounded, deadline-driven socket I/O and reply assembly
 * SUMMARY
 *	Buffered reads and writes on a non-blocking socket, optionally
 *	through an OpenSSL connection, every wait bounded by poll(2) and a
 *	deadline; SMTP reply lines assembled into complete replies.
 * SYNOPSIS
 *	void smtp_reply_init(smtp_reply *r), smtp_reply_reset, smtp_reply_free
 *	int smtp_reply_line(smtp_reply *r, const char *line, size_t n, zbuf *err)
 *	zspan smtp_reply_last(const smtp_reply *r)
 *	size_t smtp_enh_parse(zspan s, char *out, size_t outsz)
 *	void smtp_io_init(smtp_io *io), smtp_io_attach, smtp_io_close
 *	int smtp_io_queue(smtp_io *io, const void *p, size_t n)
 *	int smtp_io_flush(smtp_io *io, long timeout_ms, zbuf *err)
 *	int smtp_io_reply(smtp_io *io, long timeout_ms, smtp_reply *r, zbuf *err)
 *	int smtp_io_readable(smtp_io *io, long ms), smtp_io_buffered(smtp_io *io)
 * DESCRIPTION
 *	A reply line is three digits (first 2..5, or 1 tolerated), then a
 *	space, a '-' (more lines follow) or the end of the line.  Every line
 *	of one reply must carry the same code.  Lines end in CRLF; a bare LF
 *	is tolerated.  Lines up to SMTP_REPLY_LINE_MAX bytes are accepted
 *	(RFC 5321 says 512, real servers send more); longer ones are a
 *	protocol error, as are more than SMTP_REPLY_LINES_MAX lines.
 *
 *	smtp_io_flush() never blocks on a full socket while the peer might
 *	be blocked on us: whenever the socket is not writable it also reads
 *	whatever the peer sent into the read buffer (bounded by
 *	SMTP_RBUF_MAX), so pipelined command groups and long bodies cannot
 *	deadlock.  The write timeout restarts whenever bytes move.
 *	smtp_io_wait_hook, when set, is called each time smtp_io_reply() is
 *	about to block in poll(2) (the agent does deferred work there); it
 *	must not touch the socket.  Every wait goes through smtp_poll()
 *	(smtp_conn.h), which writes the agent's "#keepalive" during long
 *	waits.
 * DIAGNOSTICS
 *	Z_EAGAIN on timeout, Z_EIO when the peer closed or a system call
 *	failed, Z_EPARSE/Z_ETOOBIG for bad replies; a human reason in err.
 * SECURITY
 *	Every byte read is untrusted: bounded buffers only, NUL bytes and
 *	malformed lines rejected, nothing interpreted beyond the reply code.
 * BUGS
 *	A reply is only matched by position; the caller keeps the order.
 * SEE ALSO
 *	smtp(8), RFC 5321 section 4.2, RFC 2920
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "smtp.h"
#include "zutil.h"

void (*smtp_io_line_hook)(const char *line, size_t n);
void (*smtp_io_wait_hook)(void);

/* smtp_reply_init - empty reply */
void smtp_reply_init(smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	zbuf_init(&r->text, SMTP_REPLY_TEXT_MAX);
}

/* smtp_reply_reset - forget the contents, keep storage */
void smtp_reply_reset(smtp_reply *r)
{
	r->code = 0;
	r->enh[0] = '\0';
	r->nlines = 0;
	r->complete = 0;
	zbuf_reset(&r->text);
}

/* smtp_reply_free - release storage */
void smtp_reply_free(smtp_reply *r)
{
	zbuf_free(&r->text);
	memset(r, 0, sizeof(*r));
}

/* smtp_enh_parse - enhanced status code "c.sss.ddd" at the start of s */
size_t smtp_enh_parse(zspan s, char *out, size_t outsz)
{
	size_t i = 0, part = 0, digits = 0;

	if (outsz)
		out[0] = '\0';
	if (s.n < 5 || (s.p[0] != '2' && s.p[0] != '4' && s.p[0] != '5') || s.p[1] != '.')
		return 0;
	for (i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c >= '0' && c <= '9') {
			digits++;
			if ((part == 0 && digits > 1) || digits > 3)
				return 0;
		} else if (c == '.') {
			if (digits == 0 || part == 2)
				return 0;
			part++;
			digits = 0;
		} else {
			break;
		}
	}
	if (part != 2 || digits == 0)
		return 0;
	if (i < s.n && s.p[i] != ' ' && s.p[i] != '\t')
		return 0;
	if (i >= outsz)
		return 0;
	memcpy(out, s.p, i);
	out[i] = '\0';
	return i;
}

/* smtp_reply_line - add one line to a reply being assembled */
int smtp_reply_line(smtp_reply *r, const char *line, size_t n, zbuf *err)
{
	int code;
	int more;
	zspan rest;

	if (r->complete)
		smtp_reply_reset(r);
	if (n < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9') {
		zbuf_reset(err);
		zbuf_puts(err, "malformed reply line (no 3-digit code)");
		return Z_EPARSE;
	}
	if (memchr(line, '\0', n) != NULL) {
		zbuf_reset(err);
		zbuf_puts(err, "malformed reply line (NUL byte)");
		return Z_EPARSE;
	}
	if (n > 3 && line[3] != ' ' && line[3] != '-') {
		zbuf_reset(err);
		zbuf_puts(err, "malformed reply line (4th character neither space nor '-')");
		return Z_EPARSE;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code) {
		zbuf_reset(err);
		zbuf_printf(err, "malformed multi-line reply (code %d after %d)", code, r->code);
		return Z_EPARSE;
	}
	if (r->nlines >= SMTP_REPLY_LINES_MAX) {
		zbuf_reset(err);
		zbuf_printf(err, "reply has more than %d lines", SMTP_REPLY_LINES_MAX);
		return Z_ETOOBIG;
	}
	if ((r->nlines > 0 && zbuf_putc(&r->text, '\n') != Z_OK) ||
	    zbuf_append(&r->text, line, n) != Z_OK) {
		zbuf_reset(err);
		zbuf_printf(err, "reply longer than %d bytes", SMTP_REPLY_TEXT_MAX);
		return Z_ETOOBIG;
	}
	r->code = code;
	r->nlines++;
	more = n > 3 && line[3] == '-';
	if (!more) {
		rest.p = line + (n > 4 ? 4 : n);
		rest.n = n > 4 ? n - 4 : 0;
		smtp_enh_parse(rest, r->enh, sizeof(r->enh));
		if (r->enh[0] != '\0' && r->enh[0] != line[0])
			r->enh[0] = '\0';   /* class must match the code */
		r->complete = 1;
		return 1;
	}
	return 0;
}

/* smtp_reply_last - text of the last line after "NNN " */
zspan smtp_reply_last(const smtp_reply *r)
{
	zspan s = { r->text.data ? r->text.data : "", r->text.len };
	long nl;

	while ((nl = zspan_chr(s, '\n')) >= 0) {
		s.p += nl + 1;
		s.n -= (size_t)nl + 1;
	}
	if (s.n >= 4) {
		s.p += 4;
		s.n -= 4;
	} else {
		s.p += s.n;
		s.n = 0;
	}
	return s;
}

/* smtp_io_init - unattached I/O state */
void smtp_io_init(smtp_io *io)
{
	memset(io, 0, sizeof(*io));
	io->fd = -1;
	zbuf_init(&io->rbuf, SMTP_RBUF_MAX);
	zbuf_init(&io->wbuf, 256u * 1024u * 1024u);
	io->tcpw_ms = 300000;
}

/* smtp_io_attach - start using a connected non-blocking fd */
void smtp_io_attach(smtp_io *io, int fd)
{
	io->fd = fd;
	io->ssl = NULL;
	io->eof = 0;
	io->broken = 0;
	zbuf_reset(&io->rbuf);
	zbuf_reset(&io->wbuf);
}

/* smtp_io_close - drop TLS and the socket, keep buffers for reuse */
void smtp_io_close(smtp_io *io)
{
	if (io->ssl != NULL) {
		SSL_set_quiet_shutdown((SSL *)io->ssl, 1);
		SSL_free((SSL *)io->ssl);
		io->ssl = NULL;
	}
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	io->eof = 0;
	io->broken = 0;
	zbuf_reset(&io->rbuf);
	zbuf_reset(&io->wbuf);
}

/* smtp_io_queue - append to the output buffer */
int smtp_io_queue(smtp_io *io, const void *p, size_t n)
{
	return zbuf_append(&io->wbuf, p, n);
}

/* io_read_some - one read into rbuf: >0 bytes, 0 EOF, Z_EAGAIN (*ev set), Z_EIO */
static long io_read_some(smtp_io *io, short *ev, zbuf *err)
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
static long io_write_some(smtp_io *io, short *ev, zbuf *err)
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
static int io_poll(smtp_io *io, short ev, long long deadline)
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
		rc = smtp_poll(&p, 1, (int)(left > 60000 ? 60000 : left));
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

/* smtp_io_flush - write out wbuf, reading meanwhile */
int smtp_io_flush(smtp_io *io, long timeout_ms, zbuf *err)
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

/* io_take_line - next complete line from rbuf: 1 line, 0 none yet, Z_ETOOBIG */
static int io_take_line(smtp_io *io, zbuf *line, zbuf *err)
{
	const char *nl;
	size_t n;

	if (io->rbuf.len == 0)
		return 0;
	nl = memchr(io->rbuf.data, '\n', io->rbuf.len);
	if (nl == NULL) {
		if (io->rbuf.len >= SMTP_REPLY_LINE_MAX) {
			zbuf_reset(err);
			zbuf_printf(err, "reply line longer than %d bytes", SMTP_REPLY_LINE_MAX);
			return Z_ETOOBIG;
		}
		return 0;
	}
	n = (size_t)(nl - io->rbuf.data);
	if (n + 1 > SMTP_REPLY_LINE_MAX) {
		zbuf_reset(err);
		zbuf_printf(err, "reply line longer than %d bytes", SMTP_REPLY_LINE_MAX);
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

/* smtp_io_reply - read one complete reply */
int smtp_io_reply(smtp_io *io, long timeout_ms, smtp_reply *r, zbuf *err)
{
	long long deadline = zmono_ms() + timeout_ms;
	zbuf line = ZBUF_INIT(SMTP_REPLY_LINE_MAX + 1);
	int rc = Z_OK;

	smtp_reply_reset(r);
	if (io->fd < 0) {
		zbuf_reset(err);
		zbuf_puts(err, "connection is not open");
		rc = Z_EIO;
		goto done;
	}
	for (;;) {
		int t = io_take_line(io, &line, err);
		if (t < 0) {
			io->broken = 1;
			rc = t;
			goto done;
		}
		if (t == 1) {
			int f;
			if (smtp_io_line_hook != NULL)
				smtp_io_line_hook(line.data ? line.data : "", line.len);
			f = smtp_reply_line(r, line.data ? line.data : "", line.len, err);
			if (f < 0) {
				io->broken = 1;
				rc = f;
				goto done;
			}
			if (f == 1)
				goto done;
			continue;
		}
		if (io->eof) {
			zbuf_reset(err);
			zbuf_puts(err, r->nlines > 0 ? "connection closed in the middle of a reply" :
				  "connection closed by the peer");
			io->broken = 1;
			rc = Z_EIO;
			goto done;
		}
		{
			short ev = POLLIN;
			long n;
			if (io->ssl == NULL || SSL_pending((SSL *)io->ssl) == 0) {
				int pr;
				if (smtp_io_wait_hook != NULL)
					smtp_io_wait_hook();
				pr = io_poll(io, ev, deadline);
				if (pr == 0) {
					zbuf_reset(err);
					zbuf_printf(err, "timeout after %ld s waiting for the reply",
						    timeout_ms / 1000);
					rc = Z_EAGAIN;
					goto done;
				}
				if (pr < 0) {
					zbuf_reset(err);
					zbuf_printf(err, "poll: %s", strerror(errno));
					rc = Z_EIO;
					goto done;
				}
			}
			n = io_read_some(io, &ev, err);
			if (n == Z_EAGAIN && ev == POLLOUT) {
				/* TLS renegotiation wants to write */
				if (io_poll(io, POLLOUT, deadline) <= 0) {
					zbuf_reset(err);
					zbuf_puts(err, "timeout in TLS while waiting for the reply");
					rc = Z_EAGAIN;
					goto done;
				}
			} else if (n == Z_EIO || n == Z_ETOOBIG) {
				rc = Z_EIO;
				goto done;
			}
		}
	}
done:
	zbuf_free(&line);
	return rc;
}

/* smtp_io_buffered - input already read (rbuf, TLS buffer) or EOF seen;
 * no system call */
int smtp_io_buffered(smtp_io *io)
{
	if (io->fd < 0)
		return 0;
	if (io->rbuf.len > 0 || io->eof)
		return 1;
	return io->ssl != NULL && SSL_pending((SSL *)io->ssl) > 0;
}

/* smtp_io_readable - input (or EOF) available within ms */
int smtp_io_readable(smtp_io *io, long ms)
{
	if (io->fd < 0)
		return 0;
	if (io->rbuf.len > 0 || io->eof)
		return 1;
	if (io->ssl != NULL && SSL_pending((SSL *)io->ssl) > 0)
		return 1;
	return io_poll(io, POLLIN, zmono_ms() + ms) != 0;
}
