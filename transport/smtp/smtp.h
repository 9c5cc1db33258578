/*
 * smtp.h - internal interfaces of the smtp transport agent (smtp(8)).
 *
 * The protocol itself (sessions, replies, EHLO keywords, the client's
 * state table and -T, TLS, SASL) is the smtp/ layer (libzsmtp.a,
 * zmta-smtp(3)); this agent holds the delivery policy:
 * smtp_sess.c, smtp_open.c, smtp_xact.c, smtp_result.c, smtp_window.c,
 * smtp_deliver.c  the SMTP/LMTP client: session and reports, connection
 *               set-up, one transaction as a list of steps, per-recipient
 *               results, the pipelining window, the job callbacks
 *               (smtp_agent.h is their shared state);
 * smtp_auth.c   the -A secrets file and which mechanism it allows;
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

/* ---- limits ---- */
#define SMTP_BDAT_CHUNK 65536        /* BDAT chunk size */

/* ---- reply code mapping (smtp_sess.c) ---- */
/* smtp_code_map - sysexits code and default status for a reply code; when
 * enh is a valid enhanced code of the same class it replaces the status. */
int smtp_code_map(int code, const char *enh, char *status, size_t statussz);

/* ---- AUTH (smtp_auth.c) ---- */
/* per-line flags of the secrets file (smtp(8) AUTH FILE) */
enum { AUTHF_TLS_ANY = 1u << 0, AUTHF_CLEAR = 1u << 1, AUTHF_PLAIN_CLEAR = 1u << 2 };

typedef struct smtp_auth_entry {
	char channel[64], host[256];
	char user[256], secret[256];    /* decoded; wipe after use */
	unsigned flags;                 /* AUTHF_* */
	int lineno;
} smtp_auth_entry;

/* the server a line must match: any of mxname, dest, ip (ports ignored) */
typedef struct smtp_auth_target {
	const char *channel;
	const char *mxname;             /* MX host name (or the literal) */
	const char *dest;               /* next-hop domain or -F target */
	const char *ip;                 /* numeric address connected to */
} smtp_auth_target;

/* smtp_auth_lookup - find the entry for t in the file; Z_OK, Z_ENOENT
 * (none), Z_EPARSE (bad line), Z_ERR (unsafe mode/owner), Z_EIO; the
 * reason (never a secret) in err */
int smtp_auth_lookup(const char *path, const smtp_auth_target *t,
		     smtp_auth_entry *out, zbuf *err);
/* smtp_auth_find - the same over the file's text */
int smtp_auth_find(const char *name, const char *data, size_t len,
		   const smtp_auth_target *t, smtp_auth_entry *out, zbuf *err);
int smtp_auth_parse_line(zspan line, smtp_auth_entry *out, zbuf *err);
/* smtp_auth_check_mode - Z_OK if the file is safe to use */
int smtp_auth_check_mode(mode_t mode, uid_t owner, uid_t me, zbuf *err);
int smtp_auth_entry_match(const smtp_auth_entry *e, const smtp_auth_target *t);
/* smtp_auth_host_match - remotehost field ("*", "*.dom", name, address) vs host */
int smtp_auth_host_match(const char *pattern, const char *host);
/* smtp_auth_pick - mechanism to use (AUTHM_*), 0 if none allowed */
unsigned smtp_auth_pick(unsigned offered, int tls, unsigned flags);
/* smtp_auth_refusal - the reason when smtp_auth_pick() returned 0 */
const char *smtp_auth_refusal(unsigned offered, int tls, unsigned flags);

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
