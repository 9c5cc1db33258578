/*
 * mqsrv_int.h - what the MAILQ v2 server's modules share (the daemon
 * includes mqsrv.h only).
 *
 * mqsrv.c       listeners, client connections and their I/O, timeouts
 * mqsrv_cmd.c   one command line: rights check and dispatch
 * mqsrv_list.c  listings (SHOW ...), produced piecewise, and the
 *               addresses kept in the model for them
 * mqsrv_auth.c  the auth file, TCP AUTH, back-off, admin users
 */
#ifndef ZMTA_SCHED_MQSRV_INT_H
#define ZMTA_SCHED_MQSRV_INT_H
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "mq2proto.h"
#include "mqsrv.h"
#include "zbuf.h"
#include "zline.h"

#define MQ_OUT_LOW (64u * 1024u)        /* make more lines below this */
#define MQ_OUT_MAX (MQ_OUT_LOW + 2u * MQ2_REPLY_LINE_MAX + 4096u)
#define MQ_AUTHFILE_MAX (256u * 1024u)

/* access attributes (authfile) */
#define MQA_SNMP 0x01u   /* SHOW COUNTERS */
#define MQA_QQ   0x02u   /* SHOW QUEUE SHORT */
#define MQA_TT   0x04u   /* SHOW QUEUE THREADS, SHOW THREAD */
#define MQA_ETRN 0x08u
#define MQA_KILL 0x10u
#define MQA_ALL  0x1fu
#define MQA_LIST (MQA_SNMP | MQA_QQ | MQA_TT)

/* listing in progress */
enum { LST_NONE = 0, LST_SHORT, LST_THREADS, LST_THREAD };

/* a thread's key, kept in a SHOW QUEUE THREADS snapshot */
typedef struct tkey {
	const sconf_clause *c;
	const sym *ch, *host;
} tkey;

typedef struct mqcli {
	int fd;
	zline in;
	zbuf out;                /* answer not yet taken by the client */
	time_t last, born;       /* last progress, accept time */
	int closing;             /* QUIT or too many failures: close once out is written */
	int tcp;                 /* came over TCP */
	int authed;              /* TCP: AUTH succeeded */
	int admin;               /* UNIX: root, our uid or PARAMmailq-admins */
	long uid;                /* UNIX: peer uid, -1 unknown */
	unsigned attrs;          /* what the client may do */
	unsigned fails;          /* failed AUTHs on this connection */
	char challenge[sizeof MQ2_CHALLENGE_PREFIX + 2 * MQ2_NONCE_LEN];
	struct sockaddr_storage peer;
	char peername[64];
	/* the listing being produced */
	int lst, json;
	size_t pos, n;           /* cursor in the snapshot */
	unsigned long *inos;     /* LST_SHORT, LST_THREAD: file inode numbers */
	tkey *tks;               /* LST_THREADS: thread keys */
	tkey thr;                /* LST_THREAD: the thread */
	uint32_t skip;           /* recipients of inos[pos] already sent */
	unsigned long msgs;      /* LST_THREADS: recipients counted so far */
} mqcli;

/* what the listener reports on and acts upon (mqsrv_open's ctx) */
extern mqsrv_ctx *mqsrv_q;

/* mqsrv.c */
/* mq_cli_close - drop a client */
void mq_cli_close(mqcli *c);
/* mq_cli_send - queue an answer and write what the socket takes now; the
 * client is closed when it cannot be written or would pass MQ_OUT_MAX */
int mq_cli_send(mqcli *c, const char *p, size_t n);

/* mqsrv_cmd.c */
/* mq_cli_command - one command line; the answer goes to c->out */
void mq_cli_command(mqcli *c, char *line);

/* mqsrv_list.c */
/* mq_lst_end - drop a listing's snapshot */
void mq_lst_end(mqcli *c);
/* mq_lst_start_files - snapshot of every queued file's inode number */
int mq_lst_start_files(mqcli *c);
/* mq_lst_start_thread - snapshot of the files of one thread */
int mq_lst_start_thread(mqcli *c, const thread *t);
/* mq_lst_start_threads - snapshot of every thread's key */
int mq_lst_start_threads(mqcli *c);
/* mq_produce - the next piece of the client's listing, up to MQ_OUT_LOW
 * bytes in its output buffer; ends the listing with "." when done */
void mq_produce(mqcli *c);
/* mq_show_counters - SHOW COUNTERS */
void mq_show_counters(zbuf *o, int json);
/* mq_clean_append - text without control bytes */
void mq_clean_append(zbuf *o, const char *s, size_t n);

/* mqsrv_auth.c */
/* mq_authfile_read - the auth file into data when only its owner (root
 * or our uid) may use it; Z_OK, or an error that was logged */
int mq_authfile_read(zbuf *data, int loud);
/* mq_auth_lookup - first authfile line for user (any when NULL) whose
 * networks hold peer: 1 found (pw, attrs set), 0 none, -1 file unusable */
int mq_auth_lookup(const struct sockaddr_storage *peer, const char *user, char *pw,
		   size_t pwsz, unsigned *attrs);
/* mq_src_blocked - seconds the peer still has to wait, 0 if none */
long mq_src_blocked(const struct sockaddr_storage *peer);
/* mq_cli_auth - "AUTH user hex" */
void mq_cli_auth(mqcli *c, const char *user, const char *hex);
/* mq_uid_is_admin - root, our own uid, or named in PARAMmailq-admins */
int mq_uid_is_admin(uid_t uid);

#endif
