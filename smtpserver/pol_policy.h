/*
 * pol_policy.h - client for Postfix's policy delegation protocol, and the
 * result type every policy building block of smtpserver returns.
 */
#ifndef ZMTA_POL_POLICY_H
#define ZMTA_POL_POLICY_H

#include <stddef.h>
#include "zbuf.h"

#define POL_TEXT_MAX 512u          /* reply text, without code */
#define POL_HEADER_MAX 1000u       /* a PREPENDed header line */
#define POL_POLICY_REQ_MAX 16384u  /* one request */
#define POL_POLICY_REPLY_MAX 4096u /* one reply, all lines */

enum { POL_ACCEPT = 0, POL_REJECT = 1, POL_DEFER = 2 };

/* pol_result flags */
#define POL_F_OK              0x001u /* explicit OK (not just DUNNO) */
#define POL_F_DEFER_IF_PERMIT 0x002u /* defer (code/text) if the rest accepts */
#define POL_F_DEFER_IF_REJECT 0x004u /* defer (code/text) if the rest rejects */
#define POL_F_PREPEND         0x008u /* add header[] to the message */
#define POL_F_WARN            0x010u /* log text[], accept */
#define POL_F_HOLD            0x020u /* accept, keep the message on hold */
#define POL_F_DISCARD         0x040u /* accept, then drop the message */
#define POL_F_UNSUPPORTED     0x080u /* an action not done as asked: orig[]
                                        holds it, the rest of r the safe
                                        default taken instead */

typedef struct pol_result {
	int verdict;                 /* POL_ACCEPT, POL_REJECT, POL_DEFER */
	unsigned flags;
	int code;                    /* 4xx/5xx when there is one, else 0 */
	char enh[16];                /* enhanced status "5.7.1", or "" */
	char text[POL_TEXT_MAX];     /* human text, or "" */
	char header[POL_HEADER_MAX]; /* "Name: value" for POL_F_PREPEND */
	char orig[POL_TEXT_MAX];     /* POL_F_UNSUPPORTED: the action as sent */
} pol_result;

/* pol_result_accept - reset r to a plain accept (DUNNO) */
void pol_result_accept(pol_result *r);
/* pol_policy_action - map an access(5)-style action into r: Z_OK, or
 * Z_EPARSE (r then holds the 451 4.3.5 server-configuration defer) */
int pol_policy_action(const char *action, size_t len, pol_result *r, zbuf *err);
/* pol_policy_parse_reply - a complete reply (name=value lines, empty
 * line) into r; Z_OK, Z_EPARSE (r = 451 4.3.5), Z_EAGAIN (incomplete) */
int pol_policy_parse_reply(const char *p, size_t n, pol_result *r, size_t *consumed, zbuf *err);

/* The request: the attributes Postfix's smtpd sends; NULL = not sent. */
typedef struct pol_policy_req {
	const char *protocol_state;   /* CONNECT EHLO HELO MAIL RCPT DATA END-OF-MESSAGE VRFY ETRN */
	const char *protocol_name;    /* SMTP ESMTP */
	const char *helo_name, *queue_id, *sender, *recipient;
	const char *client_address, *client_name, *reverse_client_name, *client_port;
	const char *server_address, *server_port, *instance;
	const char *sasl_method, *sasl_username, *sasl_sender;
	const char *encryption_protocol, *encryption_cipher, *encryption_keysize;
	const char *ccert_subject, *ccert_issuer, *ccert_fingerprint;
	const char *etrn_domain, *stress, *policy_context, *server_name;
	unsigned long recipient_count;
	unsigned long size;
} pol_policy_req;

/* pol_policy_attr - append "name=value\n"; Z_EPARSE for a name outside
 * [a-z0-9_] or a value with CR, LF or NUL; Z_ETOOBIG past the bound */
int pol_policy_attr(zbuf *req, const char *name, const char *value, zbuf *err);
/* pol_policy_request - the whole request (request=smtpd_access_policy
 * first, every non-NULL field), without the final empty line */
int pol_policy_request(const pol_policy_req *q, zbuf *req, zbuf *err);

/* A connection to one policy server ("unix:/path", "/path",
 * "inet:1.2.3.4:port", "1.2.3.4:port", "[::1]:port"). */
typedef struct pol_policy pol_policy;

pol_policy *pol_policy_new(const char *endpoint, long timeout_ms, zbuf *err);
void pol_policy_free(pol_policy *p);
/* pol_policy_query - send req (from pol_policy_request) and read the
 * reply into r; the connection is kept for the next query.  On any
 * failure (Z_EIO, Z_EAGAIN timeout, Z_EPARSE) r holds the 451 4.3.5
 * defer Postfix uses for a broken policy service. */
int pol_policy_query(pol_policy *p, const zbuf *req, pol_result *r, zbuf *err);

#endif
