/*
 * zmsmtpd_int.h - libzmsmtpd's internals shared by its modules: the
 * server and session structures and the functions one module calls in
 * another (all named zms_*, so the installed archive adds no short
 * names to an embedder's program).  Not installed.
 *
 *	zmsmtpd.c       the public API: options, listeners, loop, async delivery
 *	zmsmtpd_sess.c  listener, accept, PROXY header, session life, TLS handshake
 *	zmsmtpd_cmd.c   command parser and dispatch (EHLO MAIL RCPT ... ETRN)
 *	zmsmtpd_data.c  the message: DATA and BDAT readers, end of data
 *	zmsmtpd_auth.c  STARTTLS and AUTH
 *	zmsmtpd_io.c    reading, reply queueing and output (pipelining)
 */
#ifndef ZMSMTPD_INT_H
#define ZMSMTPD_INT_H

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
#define MAX_WATCH 8
#define MSG_MEM_MAX (64u * 1024u)   /* a message up to this stays in memory */

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
	struct { int fd; unsigned flags; int port; } lis[MAX_LISTEN];
	int nlis, lastport;
	unsigned long nsess;
	int stopping, drain;
	zmsmtpd_sess *head;     /* event-loop sessions (per-address counts) */
	struct { int fd; struct zms_watch *w; } watch[MAX_WATCH];   /* zmsmtpd_watch_fd */
	int nwatch;
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
	unsigned evmask;    /* what the loop watches infd for (sess_want) */
	int in_deliver;     /* inside the deliver callback */
	zmsmtpd_verdict *dv;  /* its verdict (zmsmtpd_deliver_done inside it) */
	int waiting;        /* deliver completes later (zmsmtpd_deliver_async) */
	int zombie;         /* gone while waiting: freed at zmsmtpd_deliver_done */
	int tls_implicit;   /* ST_TLS: greet once the handshake is done */
	uint64_t timer;
	char ip[64];
	char admit_ip[64];  /* cb.admit took it (released at free); "" none */
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
	zbuf mem;          /* the message while it is small (MSG_MEM_MAX) */
	int inmem;         /* it is in mem, not (yet) in the scratch file */
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


/* ---- between the modules ---- */
void zms_slog(zmsmtpd_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void zms_reply(zmsmtpd_sess *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void zms_verdict_reply(zmsmtpd_sess *s, const zmsmtpd_verdict *v, int okcode,
			  const char *okenh, const char *oktext);
void zms_verdict_init(zmsmtpd_verdict *v);
int zms_io_fill(zmsmtpd_sess *s);
int zms_io_flush(zmsmtpd_sess *s, int block);
void zms_txn_reset(zmsmtpd_sess *s);
int zms_msg_open(zmsmtpd_sess *s);
int zms_data_input(zmsmtpd_sess *s);
int zms_bdat_input(zmsmtpd_sess *s);
void zms_do_bdat(zmsmtpd_sess *s, zspan arg);
void zms_command(zmsmtpd_sess *s, const char *line, size_t n);
void zms_process(zmsmtpd_sess *s);
void zms_do_starttls(zmsmtpd_sess *s);
void zms_tls_reset(zmsmtpd_sess *s);
void zms_auth_step(zmsmtpd_sess *s, zspan in, int have);
void zms_do_auth(zmsmtpd_sess *s, zspan arg);
/* ZMS_L_SOCKET - in zms_sess_new's lflags (never a listener's): infd is a
 * socket (accepted), so no system call is needed to find out */
#define ZMS_L_SOCKET 0x80000000u
zmsmtpd_sess *zms_sess_new(zmsmtpd *d, int infd, int outfd, const char *ip, int port,
			      unsigned lflags);
void zms_sess_free(zmsmtpd_sess *s);
void zms_greet(zmsmtpd_sess *s);
int zms_sess_step(zmsmtpd_sess *s);
void zms_lis_io(zev_loop *loop, int fd, unsigned ev, void *arg);

#endif
