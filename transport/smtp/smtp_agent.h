/*
 * smtp_agent.h - the smtp agent's internal state, shared by its modules
 * (not a library interface: smtp.h is the agent's, smtp/ the protocol's).
 *
 * smtp_sess.c    the agent's session: the smtp_session callbacks (line,
 *                wait, progress, poll), commands, replies with the state
 *                table's timeouts and phrases, transcripts, one report per
 *                recipient;
 * smtp_open.c    resolve, connect, greeting, EHLO/HELO/LHLO, STARTTLS,
 *                AUTH, the MX walk and its limits; -D;
 * smtp_xact.c    one transaction on libzmsmtp's engine (smtpclient/zmsmtp_xact.c):
 *                the checks, RSET, the engine's hooks;
 * smtp_result.c  reply to recipient results, failures for whole sets;
 * smtp_window.c  the dot reply left outstanding across jobs (PIPELINING);
 * smtp_deliver.c the job callbacks: recipient groups, limits, reconnects.
 */
#ifndef ZMTA_SMTP_AGENT_H
#define ZMTA_SMTP_AGENT_H

#include "smtp.h"
#include "zlog.h"

struct smtp_pend;

struct smtp_sess {
	smtp_opts *o;
	ta_ctx *ctx;
	smtp_dns *dns;
	smtp_dns_opts dopts;
	smtp_session io;          /* the connection (smtp/ layer) */
	smtp_reply rep;
	int connected;
	int state;
	char host[256];          /* destination the connection is for */
	char mxname[256];
	char ip[64];
	int port;
	char remote[400];        /* notary remote-MTA */
	char banner[256];
	smtp_caps caps;
	int tls_on;
	int tls_state;           /* STLS_*: verified or not (AUTH decision) */
	int need_rset;
	zbuf err;
	zbuf tr;                 /* connection-level transcript */
	/* result of a failed connection attempt, reused for the job */
	int cf_code;
	long cf_retry;
	char cf_status[16];
	zbuf cf_text;
	/* the window: pend, a message whose end-of-data reply is still
	 * unread; done, one whose reply is read but not yet reported (that
	 * is done while we would otherwise wait for the peer) */
	struct smtp_pend *pend, *done;
	int drain_lost;          /* the last wait_reply failed reading pend's reply */
	int conn_up;             /* try_addr got a connection (a session) */
};


/* per-recipient working state inside one job */
enum { R_OPEN = 0, R_DONE, R_ACCEPTED, R_RETRY };

typedef struct jrc {
	ta_rcpt *r;
	int st;
	zbuf tr;                 /* this recipient's part of the transcript */
} jrc;

/* a message whose body and dot are written, its reply not yet read */
struct smtp_pend {
	ta_msg *m;
	int released;            /* the job loop is done with m: close it here */
	jrc *v;                  /* its accepted recipients (transcripts owned) */
	size_t n;
	zbuf common, post;
	smtp_reply rep;          /* the dot reply, once read */
	long long since;         /* zmono_ms() when the dot was queued */
};

/* DBG - a debug line on stderr (-d; -dd for level 2) */
#define DBG(s, lvl, ...) do { \
	if ((s) != NULL && (s)->o->debug >= (lvl)) \
		zlog_debug(NULL, __VA_ARGS__); \
} while (0)

/* smtp_sess.c */
long tmo_ms(const smtp_sess *s, int st);
void tr_add(zbuf *tr, const char *pfx, const char *p, size_t n);
void tr_reply(zbuf *tr, const smtp_reply *r);
void diagcode(const smtp_reply *r, char *out, size_t outsz);
int notify_has(zspan notify, const char *word);
void rdiag(smtp_sess *s, ta_msg *m, ta_rcpt *r, int code, long retry,
	   const char *action, const char *status, const char *dcode, const char *text);
int send_cmd(smtp_sess *s, zbuf *tr, int hide, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void set_state(smtp_sess *s, int st);
void io_fail_text(smtp_sess *s, int st, const zbuf *why);
void drop_conn(smtp_sess *s, const char *why);
int wait_reply(smtp_sess *s, int st, zbuf *tr);
void quit_close(smtp_sess *s);
void cf_set(smtp_sess *s, int code, long retry, const char *status, const char *text);
/* smtp_open.c */
int open_conn(smtp_sess *s, const char *dest);
/* smtp_result.c */
void fail_set(smtp_sess *s, ta_msg *m, jrc *v, size_t n, int only_st, int code,
	      long retry, const char *status, const char *dcode, const char *text);
void fail_conn(smtp_sess *s, ta_msg *m, jrc *v, size_t n, zbuf *common);
void result_reply(smtp_sess *s, ta_msg *m, jrc *j, const smtp_reply *rep,
		  const zbuf *common, const zbuf *post, int at_dot);
void fail_all_cf(smtp_sess *s, ta_msg *m);
/* smtp_window.c */
int pend_save(smtp_sess *s, ta_msg *m, jrc *v, size_t n, zbuf *common, zbuf *post);
void settle(smtp_sess *s);
void pend_lost(smtp_sess *s, const char *why);
int pend_drain(smtp_sess *s);
/* smtp_xact.c */
int transact(smtp_sess *s, ta_msg *m, jrc *v, size_t n);

#endif
