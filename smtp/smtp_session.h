/*
 * smtp_session.h - one SMTP connection, client or server side (smtp/ layer).
 *
 * The session object
 *   owns   the socket (connected, non-blocking; closed by
 *          smtp_session_close), the TLS connection once STARTTLS is done
 *          (ssl, an SSL *) and its verification state (tls: STLS_*), the
 *          bounded input buffer (rbuf: bytes read ahead, at most
 *          SMTP_RBUF_MAX, so pipelined replies or commands cannot grow it
 *          without end) and the output buffer (wbuf: bytes queued, written
 *          by smtp_session_flush), the eof/broken flags and the bound of a
 *          blocked write (tcpw_ms);
 *   calls  the callbacks its user gives it (smtp_session_cb), all with
 *          the one opaque arg, none of them process globals:
 *            line(arg, p, n)       every line read (a reply line for a
 *                                  client, a command line for a server),
 *                                  without CRLF: transcripts, debugging;
 *            wait(arg)             the session is about to block in poll
 *                                  waiting for a reply: deferred work that
 *                                  must not touch this socket (the agent
 *                                  reports finished messages, opens the
 *                                  next job ahead);
 *            progress(arg, st)     the user moved to protocol state st
 *                                  (smtp_session_state; the client's states
 *                                  are in smtp_state.h): -s titles;
 *            poll(arg, fds, n, ms) every wait goes through it (the agent's
 *                                  "#keepalive"); NULL means poll(2);
 *   does not own  the protocol: what is sent when, the transaction, the
 *          policy (TLS mode, AUTH secrets) stay with the client or server
 *          that uses it.  The reply being read is the caller's.
 */
#ifndef ZMTA_SMTP_SESSION_H
#define ZMTA_SMTP_SESSION_H

#include <poll.h>
#include <stddef.h>
#include "zbuf.h"
#include "smtp_reply.h"

#define SMTP_RBUF_MAX (1024u * 1024u)   /* bytes read ahead while pipelining */
#define SMTP_WBUF_MAX (256u * 1024u * 1024u)

/* TLS state of a session (the AUTH decision uses it) */
enum { STLS_OFF = 0, STLS_UNVERIFIED, STLS_VERIFIED };

typedef struct smtp_session_cb {
	void *arg;
	void (*line)(void *arg, const char *line, size_t n);
	void (*wait)(void *arg);
	void (*progress)(void *arg, int state);
	int (*poll)(void *arg, struct pollfd *fds, unsigned long nfds, int timeout_ms);
} smtp_session_cb;

typedef struct smtp_session {
	int fd;
	void *ssl;              /* SSL * when TLS is on */
	int tls;                /* STLS_* */
	zbuf rbuf;              /* bytes read, not yet consumed */
	zbuf wbuf;              /* bytes to write */
	int eof;                /* peer closed */
	int broken;             /* write/read error: do not use again */
	int state;              /* last smtp_session_state() */
	long tcpw_ms;           /* bound for a blocked write */
	smtp_session_cb cb;
} smtp_session;

/* smtp_session_init - unattached session with callbacks cb (NULL: none) */
void smtp_session_init(smtp_session *ss, const smtp_session_cb *cb);
/* smtp_session_free - close and release the buffers */
void smtp_session_free(smtp_session *ss);
void smtp_session_attach(smtp_session *ss, int fd);
/* smtp_session_close - drop TLS and the socket, keep buffers for reuse */
void smtp_session_close(smtp_session *ss);
/* smtp_session_state - record protocol state st and tell the progress hook */
void smtp_session_state(smtp_session *ss, int st);
/* smtp_session_queue - add bytes to the output buffer (no I/O) */
int smtp_session_queue(smtp_session *ss, const void *p, size_t n);
/* smtp_session_wipe - clear the output buffer's whole allocation beyond
 * what is queued (secrets went through it) */
void smtp_session_wipe(smtp_session *ss);
/* smtp_session_flush - write everything queued; while the socket is not
 * writable, read whatever the peer sends into rbuf (no deadlock).
 * Z_OK, Z_EAGAIN (timeout), Z_EIO (error/closed) with text in err. */
int smtp_session_flush(smtp_session *ss, long timeout_ms, zbuf *err);
/* smtp_session_reply - client: read one complete reply within timeout_ms.
 * Z_OK, Z_EAGAIN timeout, Z_EIO closed/error, Z_EPARSE bad reply,
 * Z_ETOOBIG over-long. */
int smtp_session_reply(smtp_session *ss, long timeout_ms, smtp_reply *r, zbuf *err);
/* smtp_session_command - server: read one command line (CRLF or LF
 * removed, at most SMTP_CMD_MAX bytes with CRLF) into line.  Z_OK,
 * Z_EAGAIN, Z_EIO, Z_ETOOBIG (line too long: the session is marked
 * broken, answer 500 and close), Z_EPARSE (NUL byte) */
int smtp_session_command(smtp_session *ss, long timeout_ms, zbuf *line, zbuf *err);
/* smtp_session_send_reply - server: queue a reply (smtp_reply_format) */
int smtp_session_send_reply(smtp_session *ss, int code, const char *enh, const char *text);
/* smtp_session_readable - poll for input (or EOF) within ms; 1 yes, 0 no */
int smtp_session_readable(smtp_session *ss, long ms);
/* smtp_session_buffered - input already buffered (or EOF), no system call */
int smtp_session_buffered(smtp_session *ss);
/* smtp_session_poll - one wait through the session's poll hook */
int smtp_session_poll(smtp_session *ss, struct pollfd *fds, unsigned long nfds, int ms);

#endif
