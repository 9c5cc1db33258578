/*
 * smtp.h - internal interfaces of the smtp transport agent (smtp(8)).
 *
 * smtp_io.c     bounded, poll-driven socket I/O (optionally through TLS)
 *               and the multi-line reply assembler;
 * smtp_proto.c  the SMTP/LMTP client state machine, capability parsing,
 *               xtext, -T parsing, reply-code mapping, per-job delivery;
 * smtp_tls.c    smtp-tls.conf and STARTTLS with verification modes;
 * smtp_auth.c   the -A secrets file and AUTH CRAM-MD5/PLAIN/LOGIN;
 * smtp_log.c    the -l transcript and the -s process title;
 * smtp_main.c   options, zmta.conf, the job loop (with the window).
 */
#ifndef ZMTA_SMTP_H
#define ZMTA_SMTP_H

#include <stddef.h>
#include <sys/types.h>
#include "zbuf.h"
#include "ta.h"
#include "smtp_dns.h"
#include "smtp_conn.h"

/* ---- limits ---- */
#define SMTP_REPLY_LINE_MAX 4096     /* one reply line incl. CRLF (RFC says 512) */
#define SMTP_REPLY_LINES_MAX 200     /* lines in one multi-line reply */
#define SMTP_REPLY_TEXT_MAX 32768    /* all lines of one reply */
#define SMTP_RBUF_MAX (1024u * 1024u)/* bytes read ahead while pipelining */
#define SMTP_CMD_MAX 2048            /* one command we write */
#define SMTP_RCPTLIMIT_DEFAULT 100
#define SMTP_BDAT_CHUNK 65536        /* BDAT chunk size */

/* ---- reply assembler (smtp_io.c) ---- */
typedef struct smtp_reply {
	int code;            /* 0 until the first line */
	char enh[24];        /* enhanced status "5.1.1" from the last line, or "" */
	zbuf text;           /* every line (without CRLF) joined with '\n' */
	int nlines;
	int complete;
} smtp_reply;

void smtp_reply_init(smtp_reply *r);
void smtp_reply_reset(smtp_reply *r);
void smtp_reply_free(smtp_reply *r);
/* smtp_reply_line - feed one line (CRLF removed).  1: reply complete,
 * 0: more lines follow, Z_EPARSE: bad syntax (reason in err),
 * Z_ETOOBIG: too many lines/bytes. */
int smtp_reply_line(smtp_reply *r, const char *line, size_t n, zbuf *err);
/* smtp_reply_last - the last line's text after "NNN " (for diagnostics) */
zspan smtp_reply_last(const smtp_reply *r);
/* smtp_enh_parse - "x.y.z" at the start of s; copies into out, returns its
 * length in s (0 if none) */
size_t smtp_enh_parse(zspan s, char *out, size_t outsz);

/* ---- capabilities (smtp_proto.c) ---- */
enum {
	CAP_8BITMIME = 1u << 0, CAP_DSN = 1u << 1, CAP_ENHSTATUS = 1u << 2,
	CAP_CHUNKING = 1u << 3, CAP_PIPELINING = 1u << 4, CAP_STARTTLS = 1u << 5,
	CAP_AUTH = 1u << 6, CAP_SIZE = 1u << 7, CAP_BINARYMIME = 1u << 8
};
enum { AUTHM_PLAIN = 1u << 0, AUTHM_LOGIN = 1u << 1, AUTHM_CRAMMD5 = 1u << 2 };

typedef struct smtp_caps {
	unsigned flags;
	unsigned long size_max;   /* SIZE n; 0 = no limit announced */
	unsigned auth;            /* AUTHM_* offered */
	unsigned long rcptlimit;  /* X-RCPTLIMIT / LIMITS RCPTMAX, else default */
} smtp_caps;

/* smtp_caps_parse - from a complete EHLO/LHLO reply (first line skipped) */
void smtp_caps_parse(const smtp_reply *r, smtp_caps *c);


/* ---- timeouts (smtp_proto.c) ---- */
typedef struct smtp_timeouts {
	long conn, tcpw, cmd, data, dot;   /* seconds */
} smtp_timeouts;

void smtp_timeouts_default(smtp_timeouts *t);
/* smtp_timeouts_parse - "conn=3m,cmd=5m" or a bare value (= cmd); values
 * in zinterval syntax; below-minimum values are an error. */
int smtp_timeouts_parse(const char *spec, smtp_timeouts *t, zbuf *err);

/* ---- reply code mapping (smtp_proto.c) ---- */
/* smtp_code_map - sysexits code and default status for a reply code; when
 * enh is a valid enhanced code of the same class it replaces the status. */
int smtp_code_map(int code, const char *enh, char *status, size_t statussz);

/* ---- socket I/O (smtp_io.c) ---- */
typedef struct smtp_io {
	int fd;
	void *ssl;              /* SSL * when TLS is on */
	zbuf rbuf;              /* bytes read, not yet consumed */
	zbuf wbuf;              /* bytes to write */
	int eof;                /* peer closed */
	int broken;             /* write/read error: do not use again */
	long tcpw_ms;           /* bound for a blocked write */
} smtp_io;

void smtp_io_init(smtp_io *io);
void smtp_io_attach(smtp_io *io, int fd);
void smtp_io_close(smtp_io *io);
/* smtp_io_queue - add bytes to the output buffer (no I/O) */
int smtp_io_queue(smtp_io *io, const void *p, size_t n);
/* smtp_io_flush - write everything queued; while the socket is not
 * writable, read whatever the peer sends into rbuf (no deadlock).
 * Z_OK, Z_EAGAIN (timeout), Z_EIO (error/closed) with text in err. */
int smtp_io_flush(smtp_io *io, long timeout_ms, zbuf *err);
/* smtp_io_reply - read one complete reply within timeout_ms.
 * Z_OK, Z_EAGAIN timeout, Z_EIO closed/error, Z_EPARSE bad reply,
 * Z_ETOOBIG over-long. */
int smtp_io_reply(smtp_io *io, long timeout_ms, smtp_reply *r, zbuf *err);
/* smtp_io_readable - poll for input (or EOF) within ms; 1 yes, 0 no */
int smtp_io_readable(smtp_io *io, long ms);
/* smtp_io_buffered - input already buffered (or EOF), no system call */
int smtp_io_buffered(smtp_io *io);
/* line hook: every reply line read is passed here (transcript) */
extern void (*smtp_io_line_hook)(const char *line, size_t n);
/* wait hook: called when smtp_io_reply() is about to block in poll (the
 * agent reports finished messages meanwhile); must not do socket I/O */
extern void (*smtp_io_wait_hook)(void);

/* ---- TLS (smtp_tls.c) ---- */
enum tls_mode { TLSM_NONE = 0, TLSM_MAY, TLSM_ENCRYPT, TLSM_VERIFY, TLSM_SECURE };

typedef struct smtp_tls_conf {
	char certfile[1024], keyfile[1024], cafile[1024], capath[1024];
	char ciphers[512];
	char verifyname[256];
	char verifymatch[512];  /* tls-verify-match, "" = "hostname" */
	char securematch[512];  /* tls-secure-match, "" = "nexthop, dot-nexthop" */
	int loglevel;
	enum tls_mode mode;
	void *ctx;              /* SSL_CTX * */
} smtp_tls_conf;

/* smtp_tls_load - parse smtp-tls.conf (path NULL: built-in defaults, mode
 * may) and build the SSL_CTX */
int smtp_tls_load(const char *path, smtp_tls_conf *tc, zbuf *err);
int smtp_tls_parse(const char *name, const char *data, size_t len, smtp_tls_conf *tc, zbuf *err);
void smtp_tls_free(smtp_tls_conf *tc);
/* smtp_tls_refs - the reference identities a certificate must match for
 * mode, blank-separated into out: names, ".domain" (any name below),
 * "[address]".  mxhost is the MX host name, nexthop the destination */
int smtp_tls_refs(const smtp_tls_conf *tc, enum tls_mode mode, const char *mxhost,
		  const char *nexthop, zbuf *out, zbuf *err);
/* smtp_tls_cert_match - 1 if the X509 * matches one of refs (RFC 6125:
 * DNS-IDs, "*" only as the whole leftmost label), 0 if not */
int smtp_tls_cert_match(const void *x509, const char *refs);
/* smtp_tls_start - handshake on io (after 220 to STARTTLS) and check the
 * certificate: chain and the names smtp_tls_refs() gives for the mode.
 * verify/secure: Z_ERR unless both pass; may/encrypt: *state says
 * STLS_VERIFIED or STLS_UNVERIFIED.  Z_OK or Z_ERR with reason */
int smtp_tls_start(smtp_tls_conf *tc, smtp_io *io, const char *mxhost, const char *nexthop,
		   long timeout_ms, int *state, zbuf *info, zbuf *err);
const char *smtp_tls_mode_name(enum tls_mode m);

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
/* smtp_host_norm - lower-case name without trailing dot and ":port", or
 * "[canonical address]" for any address form */
int smtp_host_norm(const char *in, char *out, size_t outsz);
/* TLS state of a session, for the AUTH decision */
enum { STLS_OFF = 0, STLS_UNVERIFIED, STLS_VERIFIED };
/* smtp_auth_pick - mechanism to use (AUTHM_*), 0 if none allowed */
unsigned smtp_auth_pick(unsigned offered, int tls, unsigned flags);
/* smtp_auth_refusal - the reason when smtp_auth_pick() returned 0 */
const char *smtp_auth_refusal(unsigned offered, int tls, unsigned flags);
const char *smtp_auth_mech_name(unsigned m);
/* smtp_cram_md5 - "user hexdigest" response for a decoded challenge */
int smtp_cram_md5(const char *user, const char *secret, const char *chal,
		  size_t chlen, zbuf *out);
int smtp_b64_encode(const void *p, size_t n, zbuf *out);
int smtp_b64_decode(zspan in, zbuf *out);
/* smtp_zbuf_wipe - clear a buffer's whole allocation, then free it */
void smtp_zbuf_wipe(zbuf *b);

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

/* ---- per-agent session (smtp_proto.c) ---- */
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
/* the window (smtp_main.c runs the job loop, see smtp(8) PIPELINING):
 * smtp_deliver() may return with the dot reply of m unread;
 * smtp_release() hands m (malloc'd, ta_ctlopen'ed) back: closed and freed
 * now or once its reply is read.  smtp_window_fd() flushes and gives the
 * socket to wait on while a reply is outstanding (else -1);
 * smtp_window_drain() reads it and reports its recipients. */
void smtp_release(ta_ctx *ctx, ta_msg *m);
int smtp_window_fd(ta_ctx *ctx);
void smtp_window_drain(ta_ctx *ctx);
/* called (with the job loop's ctx) while the agent waits for the peer:
 * the job loop opens the next buffered job for the same host ahead */
extern void (*smtp_prefetch_hook)(ta_ctx *ctx);
/* smtp_probe - -D: connect to host, greet, EHLO, QUIT; exit code */
int smtp_probe(smtp_sess *s, const char *host);

#endif
