/*
 * smtp.h - internal interfaces of the smtp transport agent (smtp(8)).
 *
 * The protocol itself (sessions, replies, EHLO keywords, the client's
 * state table and -T, TLS, SASL) is the smtp/ layer (libzsmtp.a,
 * zmta-smtp(3)); this agent holds the delivery policy:
 * smtp_sess.c, smtp_open.c, smtp_xact.c, smtp_result.c, smtp_window.c,
 * smtp_deliver.c  the SMTP/LMTP client: session and reports, connection
 *               set-up, one transaction on libzmsmtp's engine, per-recipient
 *               results, the pipelining window, the job callbacks
 *               (smtp_agent.h is their shared state);
 * (the -A secrets file and which mechanism it allows: smtpclient/smtp_auth.c)
 * smtp_log.c    the -l transcript and the -s process title;
 * smtp_main.c   options, zmta.conf; the job loop is libta's (ta_jobloop)
 *               with the window callbacks.
 */
#ifndef ZMTA_SMTP_H
#define ZMTA_SMTP_H

#include <stddef.h>
#include <sys/types.h>
#include "zbuf.h"
#include "ta.h"
#include "smtp_mx.h"
#include "smtp_conn.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "smtp_state.h"
#include "smtp_ehlo.h"
#include "smtp_tls.h"
#include "smtp_sasl.h"
#include "zmsmtp_env.h"
#include "smtp_auth.h"

/* ---- shared client steps (libzmsmtp, smtpclient/zmsmtp_env.h): MAIL and
 * RCPT lines, RCPT verdicts, smtp_code_map() ---- */

/* ---- AUTH secrets file: libzmsmtp, smtpclient/smtp_auth.h ---- */

/* ---- transcript log and title (smtp_log.c) ---- */
int smtp_log_open(const char *path, zbuf *err);
void smtp_log(char kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void smtp_log_data(char kind, const char *p, size_t n);
int smtp_log_enabled(void);
void smtp_title(int enabled, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- options (smtp_main.c fills them) ---- */
typedef struct smtp_opts {
	const char *channel;
	const char *heloname;    /* -h or our hostname */
	const char *logfile;
	const char *forcedest;   /* -F */
	const char *localident;  /* -L */
	const char *authfile;    /* -A */
	const char *tlsfile;     /* -S */
	int port;                /* -p */
	int sndbuf;              /* -w */
	int prefer_v6, sevenbit, noesmtp, eightbit, esmtp_if_banner;
	int no_mime2, lmtp, no_pipelining, progress, no_mx, allow_self;
	int expensive_mx, reserved_port, check_wks, one_per_conn, debug, test_only;
	smtp_timeouts to;
	const char *dns_servers, *addrmap, *selfaddrs, *defcharset;
	int allow_loopback;      /* SMTP_TEST_ALLOW_LOOPBACK=yes (tests only) */
	long mx_address_limit;   /* SMTP_MX_ADDRESS_LIMIT: addresses per attempt, 0 = all */
	long mx_session_limit;   /* SMTP_MX_SESSION_LIMIT: sessions per attempt, 0 = all */
	smtp_tls_conf tls;
	int tls_loaded;
	smtp_alive alive;        /* SMTP_KEEPALIVE: smtp_poll()'s state for every wait */
} smtp_opts;

/* ---- per-agent session (smtp_sess.c and the modules above) ---- */
typedef struct smtp_sess smtp_sess;

int smtp_sess_new(smtp_sess **s, smtp_opts *o, zbuf *err);
void smtp_sess_free(smtp_sess *s);
/* job loop callbacks */
int smtp_deliver(ta_ctx *ctx, ta_msg *m, const char *host);
void smtp_newhost(ta_ctx *ctx, const char *host);
void smtp_idle(ta_ctx *ctx);
void smtp_idlecmd(ta_ctx *ctx);
void smtp_finish(ta_ctx *ctx);
int smtp_select_mx(ta_ctx *ctx, const ctl_rcpt *r, zspan host, void *arg);
/* the window (ta_jobloop's wait_fd/drain/release, see smtp(8) PIPELINING):
 * smtp_deliver() may return with the dot reply of m unread;
 * smtp_release() hands m (malloc'd, ta_ctlopen'ed) back: closed and freed
 * now or once its reply is read.  smtp_window_fd() flushes and gives the
 * socket to wait on while a reply is outstanding (else -1);
 * smtp_window_drain() reads it and reports its recipients. */
void smtp_release(ta_ctx *ctx, ta_msg *m);
int smtp_window_fd(ta_ctx *ctx);
void smtp_window_drain(ta_ctx *ctx);
/* smtp_probe - -D: connect to host, greet, EHLO, QUIT; exit code */
int smtp_probe(smtp_sess *s, const char *host);

#endif
