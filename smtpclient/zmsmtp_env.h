/*
 * zmsmtp_env.h - the client transaction's shared steps (libzmsmtp, internal):
 * MAIL and RCPT command lines with their ESMTP parameters, what a RCPT
 * reply means, reply codes to sysexits, address and parameter checks.
 * The transaction engine (zmsmtp_xact.c), which the smtp agent and the
 * library session both run, builds its envelopes here: one engine.
 */
#ifndef ZMTA_ZMSMTP_ENV_H
#define ZMTA_ZMSMTP_ENV_H

#include <stddef.h>
#include "zbuf.h"
#include "smtp_reply.h"
#include "smtp_ehlo.h"

/* the envelope of one transaction as MAIL sees it */
typedef struct zmsmtp_mailp {
	const char *sender;      /* "" for the null path */
	int body8;               /* BODY=8BITMIME wanted (sent only when offered) */
	size_t size;             /* SIZE= estimate (sent when offered), 0 = none */
	zspan ret;               /* DSN RET= (FULL/HDRS), empty = none */
	zspan envid;             /* DSN ENVID (raw or xtext), empty = none */
} zmsmtp_mailp;

/* verdicts on a RCPT reply */
enum { ZMV_ACCEPT = 0, ZMV_RETRY, ZMV_REFUSE };

/* zmsmtp_addr_ok - 1 if an address may go into a command line: no control
 * characters, no angle brackets, at most 512 bytes */
int zmsmtp_addr_ok(const char *a);
/* zmsmtp_param_ok - a DSN value: printable ASCII without blanks (alnum_comma:
 * letters, digits and commas only), 1..500 bytes */
int zmsmtp_param_ok(zspan v, int alnum_comma);
/* zmsmtp_mail_cmd - "MAIL From:<s> [BODY=8BITMIME] [SIZE=n] [RET= ENVID=]"
 * into cmd (reset first) per the server's caps.  Z_OK, Z_EPARSE for an
 * unusable sender */
int zmsmtp_mail_cmd(zbuf *cmd, const zmsmtp_mailp *p, const smtp_caps *caps);
/* zmsmtp_rcpt_cmd - "RCPT To:<r> [NOTIFY= ORCPT=]" into cmd (reset first);
 * the DSN parameters only when the server offers DSN: notify when valid
 * (else NOTIFY=FAILURE,DELAY), orcpt "type;addr" when valid (else
 * rfc822;r).  Z_OK, Z_EPARSE for an unusable address */
int zmsmtp_rcpt_cmd(zbuf *cmd, const char *rcpt, const smtp_caps *caps, zspan notify,
		    zspan orcpt);
/* zmsmtp_rcpt_verdict - ZMV_ACCEPT for 2xx, ZMV_RETRY for "too many
 * recipients" (452 or 4.5.3: send in a follow-up transaction), else
 * ZMV_REFUSE */
int zmsmtp_rcpt_verdict(const smtp_reply *r);
/* the caller's command/reply hooks for the shared dialogues (hello, AUTH):
 * the agent and the library session each send and read through their own
 * transcript, timeouts and window */
typedef struct zmsmtp_io {
	void *arg;
	/* queue one command line (no CRLF); hide as the agent's send_cmd:
	 * 0 show it all, n > 0 show the first n bytes, < 0 show nothing */
	int (*cmd)(void *arg, int hide, const char *line);
	/* flush and read one reply in state st (smtp_state.h) into *rep;
	 * Z_OK, anything else: the connection is gone */
	int (*reply)(void *arg, int st, const smtp_reply **rep);
} zmsmtp_io;

/* zmsmtp_hello flags */
enum { ZMH_LMTP = 1u << 0, ZMH_NOESMTP = 1u << 1, ZMH_FORCE_HELO = 1u << 2,
       ZMH_ESMTP_IF_BANNER = 1u << 3, ZMH_SEVENBIT = 1u << 4 };
/* zmsmtp_hello - LHLO (ZMH_LMTP), else EHLO (unless ZMH_NOESMTP,
 * ZMH_FORCE_HELO, or ZMH_ESMTP_IF_BANNER and no "ESMTP" in banner), else
 * HELO on the same connection after a 5xx to EHLO; caps from the reply
 * (8BITMIME and BINARYMIME cleared with ZMH_SEVENBIT).  0 ok; 1 EHLO got
 * 4xx or the connection dropped on it: reconnect and use HELO; -1 failed
 * (reason with peer's name in err) */
int zmsmtp_hello(const zmsmtp_io *io, const char *name, unsigned flags, const char *banner,
		 const char *peer, smtp_caps *caps, zbuf *err);

/* zmsmtp_auth_exchange - the AUTH dialogue for mech (AUTHM_*): PLAIN with
 * an initial response, LOGIN's two 334 steps, CRAM-MD5's challenge (a bad
 * one is cancelled with "*").  Z_OK when the dialogue ended (the last
 * reply, 235 or not, is the caller's to judge); Z_EIO when a reply could
 * not be read; Z_EPARSE/Z_ETOOBIG with a reason in err.  Every buffer that
 * held the secret is wiped. */
int zmsmtp_auth_exchange(unsigned mech, const char *user, const char *secret,
			 const zmsmtp_io *io, zbuf *err);
/* a pipelined MAIL/RCPT[/DATA] group whose replies are read in order */
enum { ZMG_OK = 0, ZMG_LOST_MAIL, ZMG_LOST, ZMG_MAILFAIL };
enum { ZMG_ITEM_MAIL = -1, ZMG_ITEM_DATA = -2 };
typedef struct zmsmtp_group {
	size_t n;                     /* recipients of the transaction */
	const unsigned char *sent;    /* sent[i]: a RCPT line was written for i */
	int data_sent;                /* DATA ended the group */
	/* read one reply in state st for item (ZMG_ITEM_MAIL, ZMG_ITEM_DATA
	 * or a recipient index); Z_OK, else the connection is gone */
	int (*reply)(void *arg, int st, long item, const smtp_reply **rep);
	/* the reply to recipient i's RCPT and its verdict (ZMV_*) */
	void (*rcpt)(void *arg, size_t i, const smtp_reply *rep, int verdict);
	void *arg;
} zmsmtp_group;
/* zmsmtp_group_replies - MAIL's reply, then each sent RCPT's (g->rcpt
 * gets them).  ZMG_OK (DATA's reply, when sent, is still to read);
 * ZMG_LOST_MAIL: no reply even to MAIL; ZMG_LOST: lost after it;
 * ZMG_MAILFAIL: MAIL refused (its reply copied into mailrep), the RCPT
 * replies and DATA's were read and voided, *data354 = 1 when the server
 * answered that DATA with 354 all the same (the caller must drop the
 * connection: it waits for a body). */
int zmsmtp_group_replies(const zmsmtp_group *g, smtp_reply *mailrep, int *data354);

/* zmsmtp_starttls results */
enum { ZMT_OK = 0, ZMT_LOST = -1, ZMT_REFUSED = 1, ZMT_INJECTED = 2, ZMT_HANDSHAKE = 3 };
/* zmsmtp_starttls - "STARTTLS", its reply, the check that nothing came
 * after the 220 (command injection), the handshake and certificate check
 * of smtp_tls_start() for tc's mode.  ZMT_OK (ss->tls says verified or
 * not; the caller sends EHLO again), ZMT_LOST (no reply: connection gone),
 * ZMT_REFUSED (the reply is the hook's last one), ZMT_INJECTED (reason
 * with peer in err), ZMT_HANDSHAKE (OpenSSL's or the check's reason in
 * err; the connection is unusable).  info gets the TLS summary. */
struct smtp_session;
struct smtp_tls_conf;
int zmsmtp_starttls(const zmsmtp_io *io, struct smtp_session *ss, struct smtp_tls_conf *tc,
		    const char *mxhost, const char *nexthop, long tls_ms, const char *peer,
		    zbuf *info, zbuf *err);
/* smtp_code_map - sysexits code and default status for a reply code; when
 * enh is a valid enhanced code of the same class it replaces the status. */
int smtp_code_map(int code, const char *enh, char *status, size_t statussz);

#endif
