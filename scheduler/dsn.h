/*
 * dsn.h - delivery status notifications (RFC 3461 / 3464 / 6522): NOTIFY
 * filtering, who gets a report, the notary string of TA reports, and the
 * rendering of one report message ready to be submitted.
 *
 * dsn_render() fills two buffers:
 *   env  envelope lines, one per line "keyword[ value]\n", in order:
 *          channel error
 *          errormsg
 *          todsn NOTIFY=NEVER ORCPT=rfc822;<xtext(to)>
 *          to <to>
 *        WITHOUT "env-end": the caller feeds each line to submit_env()
 *        (split at the first space) and then submit_env(s, "env-end", NULL).
 *   msg  the message: header lines (CRLF-free, "\n" line ends, as in the
 *        spool), an empty line, then the multipart/report body:
 *          1. text/plain        what happened, per recipient, the remote
 *                               server's reply, what to do
 *          2. message/delivery-status   RFC 3464 fields (below)
 *          3. message/rfc822 (RET=FULL, the default, body <= body_cap) or
 *             text/rfc822-headers (RET=HDRS, or body too big / unreadable;
 *             part 1 then says so)
 *        Part 3 is left out when there is no original header block.
 *   Size: init msg with at least DSN_MSG_MAX (the body is capped).
 *
 * delivery-status fields written (exact spelling, RFC 3464 grammar order):
 *   per message:   Original-Envelope-Id: <decoded envid>   (when given)
 *                  Reporting-MTA: dns; <reporting_host>
 *                  Arrival-Date: <RFC 5322 date>           (when arrival != 0)
 *                  X-Zmta-Spool-Id: <spoolid>              (extension field)
 *   per recipient (blank line before each block):
 *                  Original-Recipient: rfc822;<decoded orcpt addr> (when given)
 *                  Final-Recipient: rfc822; <addr>
 *                  Action: failed|delayed|delivered|relayed|expanded
 *                  Status: x.y.z
 *                  Remote-MTA: dns; <host>                 (when known)
 *                  Diagnostic-Code: smtp; <reply>          (when known;
 *                        multi-line replies folded with 4 leading spaces;
 *                        a diagnostic without "type;" gets "X-Zmta; ")
 *                  Last-Attempt-Date: <date>               (when known)
 *                  Will-Retry-Until: <date>                (delayed only)
 * Part 3 carries the body only when some recipient failed (success and
 * delay reports return headers only, as RFC 3461 suggests).
 * Everything is deterministic given the inputs (Date/Message-Id/boundary
 * come from now, spoolid and reporting_host), so golden files can be used.
 * Bytes outside printable ASCII in addresses/diagnostics are replaced by
 * '?' in headers and in part 2.
 *
 * Who gets a report (dsn_disposition):
 *   sender has an error address and is not the null sender  -> DSN_TO_SENDER
 *   null sender / "channel error" (the failed mail was itself a bounce)
 *     -> DSN_TO_POSTMASTER: only failed entries, subject "Double-fault: ...",
 *        sent to "postmaster" (the router resolves it)
 *   the failed mail was one of our own reports ("errormsg" in its envelope)
 *     -> DSN_DISCARD (never a report about a report; kept in postman/ when
 *        PARAMstore-error-on-error is set)
 */
#ifndef ZMTA_DSN_H
#define ZMTA_DSN_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "zbuf.h"

#define DSN_BODY_CAP (1024u * 1024u)        /* default cap for RET=FULL bodies */
#define DSN_MSG_MAX (DSN_BODY_CAP + 512u * 1024u) /* zbuf max for msg */
#define DSN_ENV_MAX 8192u                   /* zbuf max for env */
#define DSN_MAX_RCPTS 100                   /* advisory: recipients per report;
                                             * on Z_ETOOBIG split into smaller
                                             * reports */

enum dsn_action {
	DSN_FAILED = 0, DSN_DELAYED, DSN_DELIVERED, DSN_RELAYED, DSN_EXPANDED
};

enum dsn_ret { DSN_RET_DEFAULT = 0, DSN_RET_FULL, DSN_RET_HDRS };

enum dsn_disp { DSN_TO_SENDER = 0, DSN_TO_POSTMASTER, DSN_DISCARD };

typedef struct dsn_rcpt {
	const char *addr;        /* final recipient, bare (no "rfc822;"), required */
	const char *orcpt;       /* ORCPT "rfc822;xtext" as in the envelope, or NULL */
	enum dsn_action action;
	const char *status;      /* "5.1.1"; NULL or malformed -> 5.0.0/4.0.0/2.0.0 */
	const char *remote_mta;  /* "mx.example.com" or "dns; mx..." or NULL */
	const char *diagnostic;  /* "smtp; 550 5.1.1 no such user" (or plain text,
	                          * then "smtp; " is not added: type "X-Zmta; ");
	                          * CR separates lines; NULL = none */
	const char *text;        /* extra human text for part 1 (CR = newline), or NULL */
	time_t last_attempt;     /* 0 = omit */
	time_t will_retry_until; /* delayed only; 0 = omit */
} dsn_rcpt;

typedef struct dsn_report {
	const char *reporting_host; /* our host name (Reporting-MTA, From:) */
	const char *to;          /* report recipient: error address or "postmaster" */
	const char *envid;       /* ENVID xtext from the envelope, or NULL */
	const char *spoolid;     /* spool id of the original */
	time_t arrival;          /* arrival of the original */
	time_t now;              /* Date:, Message-Id */
	enum dsn_ret ret;        /* DEFAULT = FULL */
	int double_fault;        /* 1: subject gets "Double-fault: " */
	zspan headers;           /* original header block (may end with "\n\n") */
	int body_fd;             /* original body, -1 = none */
	off_t body_off;          /* where the body starts in body_fd */
	size_t body_len;         /* body bytes */
	size_t body_cap;         /* 0 = DSN_BODY_CAP */
	const dsn_rcpt *rcpts;
	size_t nrcpts;           /* >= 1 */
} dsn_report;

/* the notary string of a TA report: \001-separated fields */
typedef struct dsn_notary {
	zspan final_recipient, action, status, diagnostic, remote_mta, taname;
} dsn_notary;

/* dsn_render - build env and msg (see above); Z_OK, Z_EPARSE (bad input,
 * reason in err), Z_ETOOBIG (msg/env limit hit: nothing usable was
 * produced; reset the buffers and split the recipients).  A body that
 * cannot be read is not an error: headers only, and part 1 says so.
 * err may be NULL. */
int dsn_render(const dsn_report *r, zbuf *env, zbuf *msg, zbuf *err);

/* dsn_notify_allows - does NOTIFY (the N-line value, "SUCCESS,DELAY" or
 * "NOTIFY=..."; empty = FAILURE) ask for a report of this action?
 * NEVER -> 0; failed <- FAILURE; delayed <- DELAY;
 * delivered/relayed/expanded <- SUCCESS */
int dsn_notify_allows(zspan notify, enum dsn_action action);
/* dsn_should_report - 1 if a normal report may go to erraddr: erraddr is
 * non-empty and not "<>", and the sender is not the error channel */
int dsn_should_report(const char *erraddr, int sender_is_error_channel);
/* dsn_disposition - see the table above; is_errormsg = the original had
 * "errormsg" in its envelope (it is one of our reports) */
enum dsn_disp dsn_disposition(const char *erraddr, int sender_is_error_channel,
			      int is_errormsg);

/* dsn_action_parse - "failed" etc. (case-insensitive) -> action, -1 if unknown */
int dsn_action_parse(zspan s);
/* dsn_action_name - "failed", "delayed", ... */
const char *dsn_action_name(enum dsn_action a);
/* dsn_notary_parse - split a notary string; missing fields are empty */
int dsn_notary_parse(zspan notary, dsn_notary *out);
/* dsn_status_valid - 1 if s is "2|4|5.d{1,3}.d{1,3}" */
int dsn_status_valid(zspan s);

/* dsn_xtext_encode - RFC 3461 xtext of s appended to out */
int dsn_xtext_encode(zbuf *out, const char *s);
/* dsn_xtext_decode - decode xtext; Z_EPARSE on a bad "+XX" (out unchanged) */
int dsn_xtext_decode(zspan in, zbuf *out);

#endif
