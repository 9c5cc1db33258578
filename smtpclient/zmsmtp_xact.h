/*
 * zmsmtp_xact.h - the one SMTP/LMTP client transaction of zmta (libzmsmtp,
 * internal): MAIL with its ESMTP parameters, the RCPTs, the pipelined
 * group, DATA with dot-stuffing or BDAT chunks, the body from a buffer or
 * a callback, the end-of-data reply (LMTP: one per accepted recipient),
 * RSET.  The library session (zmsmtp.c) and the smtp agent
 * (transport/smtp/smtp_xact.c) both run their transactions here; each
 * keeps its own policy (refused lists or per-recipient reports, the
 * agent's pending-reply window) in the hooks.
 */
#ifndef ZMTA_ZMSMTP_XACT_H
#define ZMTA_ZMSMTP_XACT_H

#include <stddef.h>
#include "zbuf.h"
#include "smtp_reply.h"
#include "zmsmtp_env.h"

struct smtp_session;

/* one recipient as RCPT sees it */
typedef struct zmsmtp_xrcpt {
	const char *addr;
	zspan notify, orcpt;     /* DSN values, empty = none */
} zmsmtp_xrcpt;

/* items a command or reply belongs to (a recipient's is its index) */
enum { ZMX_ITEM_MAIL = ZMG_ITEM_MAIL,   /* MAIL, RSET: the common part */
       ZMX_ITEM_POST = ZMG_ITEM_DATA,   /* DATA, BDAT LAST, the end of data */
       ZMX_ITEM_CHUNK = -3 };           /* a BDAT chunk command (not LAST) */

/* flags */
enum {
	ZMX_PIPELINE = 1u << 0,       /* MAIL and RCPTs in one group (RFC 2920) */
	ZMX_PIPE_DATA = 1u << 1,      /* with ZMX_PIPELINE and DATA: DATA ends the group */
	ZMX_BDAT = 1u << 2,           /* the body as BDAT chunks (RFC 3030) */
	ZMX_LMTP = 1u << 3,           /* one end-of-data reply per accepted recipient */
	ZMX_ALL_OR_NOTHING = 1u << 4, /* any recipient not accepted: no body (no ZMX_PIPE_DATA) */
	ZMX_NO_DATA = 1u << 5         /* envelope only (ping) */
};

/* events for the caller's transcript and logs */
enum { ZMX_EV_BODY = 1,       /* the DATA body is queued, the dot follows */
       ZMX_EV_DOT,            /* the dot is queued */
       ZMX_EV_CHUNKS,         /* BDAT chunks before LAST were queued (x->nchunks) */
       ZMX_EV_LAST };         /* BDAT LAST is queued */

/* what zmsmtp_xact_run says */
enum {
	ZMX_OK = 0,     /* body sent, end-of-data reply(ies) given to result() */
	ZMX_PENDING,    /* the dot is queued, later() took its reply over */
	ZMX_NOBODY,     /* no body accepted: nothing accepted, the options said
			 * no, or DATA/BDAT refused (result() was called) */
	ZMX_BADMAIL,    /* the MAIL line could not be built (nothing sent) */
	ZMX_MAILFAIL,   /* MAIL refused: its reply in x->mailrep */
	ZMX_LOST_MAIL,  /* the connection went before MAIL's reply */
	ZMX_LOST,       /* the connection went later */
	ZMX_BODYFAIL    /* the body could not be produced or queued (why in x->why) */
};

typedef int (*zmsmtp_out_fn)(void *arg, const char *p, size_t n);

typedef struct zmsmtp_xact {
	/* what to send */
	struct smtp_session *ss;      /* the connection (body bytes are queued on it) */
	const smtp_caps *caps;        /* the server's EHLO: which parameters go out */
	unsigned flags;               /* ZMX_* */
	zmsmtp_mailp mail;
	const zmsmtp_xrcpt *rcpt;
	size_t n;
	/* the body: buf/len (LF or CRLF line ends; converted and, for DATA,
	 * dot-stuffed here), or body() which writes the wire form through
	 * out(outarg, ...) (dot-stuffed when dotstuff, ending in CRLF); 0 or
	 * < 0 on failure */
	const char *buf;
	size_t len;
	int (*body)(void *arg, int dotstuff, zmsmtp_out_fn out, void *outarg);
	/* the caller's hooks */
	void *arg;
	/* queue one command line (no CRLF) that belongs to item; Z_OK or not */
	int (*cmd)(void *arg, long item, const char *line);
	/* flush and read one reply in state st for item (LMTP end-of-data
	 * replies: the recipient's index in state S_DOT); Z_OK, else the
	 * connection is gone */
	int (*reply)(void *arg, int st, long item, const smtp_reply **rep);
	/* RCPT verdict (ZMV_*) for recipient i */
	void (*rcpt_verdict)(void *arg, size_t i, const smtp_reply *rep, int verdict);
	/* recipient i was not sent: Z_EPARSE unusable address, Z_ETOOBIG too long */
	void (*unsent)(void *arg, size_t i, int why);
	/* the outcome for accepted recipient i: at -1 DATA refused, 1 end of
	 * data (or a refused BDAT chunk) */
	void (*result)(void *arg, size_t i, const smtp_reply *rep, int at);
	/* optional: after a pipelined non-LMTP DATA's dot, 1 when the caller
	 * reads the end-of-data reply later itself */
	int (*later)(void *arg);
	long (*tmo)(void *arg, int st);           /* ms for a flush in state st */
	void (*progress)(void *arg, size_t sent); /* optional: body bytes so far */
	void (*event)(void *arg, int ev);         /* optional: ZMX_EV_* */
	/* results */
	size_t nacc;                  /* recipients accepted at RCPT */
	size_t nnot;                  /* recipients not accepted or not sent */
	size_t nsent;                 /* RCPT lines written */
	int need_rset;                /* the server holds a transaction: RSET before the next */
	const char *drop;             /* non-NULL: drop the connection (why) */
	smtp_reply mailrep;           /* ZMX_MAILFAIL: MAIL's reply */
	size_t bytes, nchunks;        /* body bytes queued, BDAT chunks before LAST */
	zbuf why;                     /* ZMX_BODYFAIL: reason (may be empty) */
	/* internal */
	unsigned char *st;            /* per recipient: 0 not sent, 1 sent, 2 accepted */
	zbuf mem;                     /* BDAT: the chunk being collected */
	int failed;
} zmsmtp_xact;

/* zmsmtp_xact_init - zero x and set up its buffers */
void zmsmtp_xact_init(zmsmtp_xact *x);
void zmsmtp_xact_free(zmsmtp_xact *x);
/* zmsmtp_xact_run - one transaction per x (ZMX_* result) */
int zmsmtp_xact_run(zmsmtp_xact *x);
/* zmsmtp_xact_rset - RSET through x's hooks (item MAIL); Z_OK when 2xx,
 * Z_EIO when lost, Z_ERR when refused */
int zmsmtp_xact_rset(zmsmtp_xact *x);
/* zmsmtp_xact_accepted - 1 if recipient i was accepted at RCPT */
int zmsmtp_xact_accepted(const zmsmtp_xact *x, size_t i);

#endif
