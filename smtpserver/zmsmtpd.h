/*
 * zmsmtpd.h - libzmsmtpd, the SMTP server protocol engine of zmta as a
 * library (the shape of the Tcl smtpd package): start(address, port),
 * stop, configure/cget of options, callbacks validate_host,
 * validate_sender, validate_recipient (accept / reject / defer) and
 * deliver(sender, recipients, message).  See libzmsmtpd(3).
 *
 * Self-contained: needs only libc; link with -lzmsmtpd -lssl -lcrypto
 * (pkg-config libzmsmtpd; the old name zmsmtpd still works).
 */
#ifndef ZMSMTPD_H
#define ZMSMTPD_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zmsmtpd zmsmtpd;            /* a server: options, listeners, loop */
typedef struct zmsmtpd_sess zmsmtpd_sess;  /* one client session */

/* the etrn callback's answers (RFC 1985) */
enum { ZMSMTPD_ETRN_STARTED = 0, ZMSMTPD_ETRN_FAILED = -1, ZMSMTPD_ETRN_NONE = 1,
       ZMSMTPD_ETRN_DENIED = 2 };

/* a callback's answer */
enum { ZMSMTPD_ACCEPT = 0, ZMSMTPD_REJECT = 1, ZMSMTPD_DEFER = 2 };

typedef struct zmsmtpd_verdict {
	int action;        /* ZMSMTPD_* */
	int code;          /* reply code; 0 = the engine's default for action */
	char enh[16];      /* enhanced status "5.7.1"; "" = default */
	char text[256];    /* reply text; "" = default */
} zmsmtpd_verdict;

/* one recipient of a transaction */
typedef struct zmsmtpd_rcpt {
	const char *addr;      /* local@domain as parsed (or "postmaster") */
	unsigned notify;       /* ZMSMTPD_NOTIFY_* bits, 0 = not given */
	const char *orcpt;     /* ORCPT "rfc822;xtext" as given, or NULL */
} zmsmtpd_rcpt;

#define ZMSMTPD_NOTIFY_NEVER 0x1u
#define ZMSMTPD_NOTIFY_SUCCESS 0x2u
#define ZMSMTPD_NOTIFY_FAILURE 0x4u
#define ZMSMTPD_NOTIFY_DELAY 0x8u

/* the envelope handed to deliver */
typedef struct zmsmtpd_env {
	const char *sender;          /* "" for the null path */
	const zmsmtpd_rcpt *rcpts;
	size_t nrcpts;
	const char *envid;           /* ENVID xtext as given, or NULL */
	const char *ret;             /* "FULL", "HDRS" or NULL */
	const char *body;            /* "7BIT", "8BITMIME", "BINARYMIME" or NULL */
	int smtputf8;
	unsigned long size;          /* bytes of the message (LF line ends) */
	const char *helo;            /* the client's EHLO/HELO argument */
	const char *client_ip;       /* "192.0.2.1", "::1" or "" */
	const char *with;            /* "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA" */
	const char *tls;             /* "TLSv1.3 TLS_AES_256_GCM_SHA384" or NULL */
	const char *auth_user;       /* the authenticated user or NULL */
	int port;                    /* local port of the connection (0 for fds) */
} zmsmtpd_env;

typedef struct zmsmtpd_callbacks {
	void *arg;
	/* validate_host - client_ip ("" for fd sessions), at connect */
	void (*validate_host)(void *arg, zmsmtpd_sess *s, const char *client_ip,
			      zmsmtpd_verdict *v);
	/* validate_sender - the MAIL FROM address ("" = <>) */
	void (*validate_sender)(void *arg, zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v);
	/* validate_recipient - one RCPT TO address */
	void (*validate_recipient)(void *arg, zmsmtpd_sess *s, const char *addr,
				   zmsmtpd_verdict *v);
	/* deliver - the message (LF line ends, dot-unstuffed, at offset 0 of
	 * msg); the verdict decides the reply to the final dot / BDAT LAST */
	void (*deliver)(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *env, FILE *msg,
			zmsmtpd_verdict *v);
	/* auth_verify - PLAIN/LOGIN: 0 when password is user's, -1 if not */
	int (*auth_verify)(void *arg, const char *user, const char *password);
	/* auth_secret - CRAM-MD5: copy user's clear-text secret into buf
	 * (NUL-terminated); 0 found, -1 unknown.  NULL: no CRAM-MD5 */
	int (*auth_secret)(void *arg, const char *user, char *buf, size_t bufsz);
	/* etrn - ETRN node ("domain", "@domain" or "#queue", as given, checked
	 * for syntax): ZMSMTPD_ETRN_STARTED (250), ZMSMTPD_ETRN_NONE (251),
	 * ZMSMTPD_ETRN_DENIED (459), ZMSMTPD_ETRN_FAILED (458).  NULL: no ETRN */
	int (*etrn)(void *arg, const char *domain);
	/* log - one line about a session (may be NULL) */
	void (*log)(void *arg, zmsmtpd_sess *s, const char *line);
	/* session_end - the session is about to be freed (release what
	 * zmsmtpd_set_data holds; may be NULL) */
	void (*session_end)(void *arg, zmsmtpd_sess *s);
	/* drop_host - client_ip at accept (before any reply or log line),
	 * and the client of a PROXY header: nonzero closes the connection
	 * at once, silently.  May be NULL */
	int (*drop_host)(void *arg, const char *client_ip);
	/* transcript - bytes read from (out 0) or written to (out 1) the
	 * client, after TLS decryption / before encryption.  May be NULL */
	void (*transcript)(void *arg, zmsmtpd_sess *s, int out, const char *p, size_t n);
	/* refused - a message the engine itself refused at its end (too big:
	 * the part that fit; bare LF or CR), at offset 0 of msg, with the
	 * reply sent in why.  May be NULL */
	void (*refused)(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *env, FILE *msg,
			const zmsmtpd_verdict *why);
	/* admit - a connection from client_ip that passed this server's own
	 * max-connections / max-per-ip counts, for limits shared with other
	 * processes: ZMSMTPD_ADMIT_OK, ZMSMTPD_ADMIT_TOTAL (421 too many
	 * connections) or ZMSMTPD_ADMIT_IP (421 ... from your address).
	 * An admitted session calls release(client_ip as accepted) when it
	 * is freed.  NULL (both): this server's own counts only */
	int (*admit)(void *arg, const char *client_ip, unsigned long max_conns,
		     unsigned long max_per_ip);
	void (*release)(void *arg, const char *client_ip);
} zmsmtpd_callbacks;

#define ZMSMTPD_ADMIT_OK 0
#define ZMSMTPD_ADMIT_TOTAL 1
#define ZMSMTPD_ADMIT_IP 2

/* zmsmtpd_new - a server with default options; NULL on ENOMEM */
zmsmtpd *zmsmtpd_new(const zmsmtpd_callbacks *cb);
/* zmsmtpd_free - stop, close every session and listener, free */
void zmsmtpd_free(zmsmtpd *d);
/* zmsmtpd_configure - set option name to value (see libzmsmtpd(3));
 * 0, or -1 with the reason in err */
int zmsmtpd_configure(zmsmtpd *d, const char *name, const char *value, char *err,
		      size_t errsz);
/* zmsmtpd_cget - the option's value as text into buf; 0 or -1 unknown */
int zmsmtpd_cget(zmsmtpd *d, const char *name, char *buf, size_t bufsz);
/* zmsmtpd_start - listen on address ("127.0.0.1", "::", NULL = any) and
 * port (0: pick one; zmsmtpd_port tells).  flags: ZMSMTPD_L_*.  0 or -1 */
int zmsmtpd_start(zmsmtpd *d, const char *address, int port, unsigned flags, char *err,
		  size_t errsz);
#define ZMSMTPD_L_TLS 0x1u      /* implicit TLS (port 465) */
#define ZMSMTPD_L_AUTH 0x2u     /* AUTH required before MAIL (port 587) */
#define ZMSMTPD_L_PROXY 0x4u    /* connections open with a PROXY v1/v2 header */
/* zmsmtpd_listen_fd - use an already bound listening socket */
int zmsmtpd_listen_fd(zmsmtpd *d, int fd, unsigned flags);
/* zmsmtpd_port - the port of the last listener started */
int zmsmtpd_port(const zmsmtpd *d);
/* zmsmtpd_run - serve until zmsmtpd_stop; 0 */
int zmsmtpd_run(zmsmtpd *d);
/* zmsmtpd_run_once - one round of the event loop, waiting at most ms */
int zmsmtpd_run_once(zmsmtpd *d, int ms);
/* zmsmtpd_stop - close the listeners; zmsmtpd_run returns once the
 * sessions in flight ended (or at once when drain is 0) */
void zmsmtpd_stop(zmsmtpd *d, int drain);
/* zmsmtpd_deliver_async - call it inside deliver to answer later: the
 * verdict is then ignored and the session waits (its pipelined commands
 * stay unread; the other sessions go on) until zmsmtpd_deliver_done.
 * env and msg are valid only during the callback: copy what the delivery
 * needs.  0, or -1 (a zmsmtpd_serve_fds session: answer in the verdict) */
int zmsmtpd_deliver_async(zmsmtpd_sess *s);
/* zmsmtpd_deliver_done - the verdict of an asynchronous delivery, in the
 * loop's thread (a zmsmtpd_watch_fd callback); replies and resumes the
 * session, or frees it when its client went away meanwhile */
void zmsmtpd_deliver_done(zmsmtpd_sess *s, const zmsmtpd_verdict *v);
/* zmsmtpd_after_fork - in a child process forked after zmsmtpd_start and
 * before any session: a loop of its own (the epoll instance is shared
 * across fork) watching the same listeners; 0 or -1 */
int zmsmtpd_after_fork(zmsmtpd *d);
/* zmsmtpd_watch_fd - call fn(arg) in the loop whenever fd is readable
 * (a pipe that worker threads write to); NULL fn stops.  0 or -1 */
int zmsmtpd_watch_fd(zmsmtpd *d, int fd, void (*fn)(void *arg), void *arg);
/* zmsmtpd_sessions - sessions open now */
unsigned long zmsmtpd_sessions(const zmsmtpd *d);
/* zmsmtpd_serve_fds - run one session on infd/outfd to its end (smtpserver
 * -i, sendmail -bs); client_ip may be NULL.  0 */
int zmsmtpd_serve_fds(zmsmtpd *d, int infd, int outfd, const char *client_ip);

/* per session */
const char *zmsmtpd_client_ip(const zmsmtpd_sess *s);
const char *zmsmtpd_auth_user(const zmsmtpd_sess *s);
int zmsmtpd_local_port(const zmsmtpd_sess *s);
/* zmsmtpd_sender - MAIL FROM of the transaction ("" = <> or none yet);
 * zmsmtpd_helo - the EHLO/HELO argument ("" before it) */
const char *zmsmtpd_sender(const zmsmtpd_sess *s);
const char *zmsmtpd_helo(const zmsmtpd_sess *s);
void zmsmtpd_set_data(zmsmtpd_sess *s, void *p);
void *zmsmtpd_get_data(const zmsmtpd_sess *s);
/* zmsmtpd_received - a Received: field (CRLF-free, LF folded) for env and
 * queue id into buf; 0 or -1 too small */
int zmsmtpd_received(zmsmtpd *d, const zmsmtpd_env *env, const char *id, char *buf,
		     size_t bufsz);

#ifdef __cplusplus
}
#endif
#endif
