/*
 * smtp_state.h - the SMTP client's protocol steps as one table (smtp/ layer).
 *
 * Every step a client takes is a state: its name, the timeout class that
 * bounds waiting in it, the phrase diagnostics append ("while waiting for
 * the reply to RCPT TO") and the text a progress display shows (-s).
 * Diagnostics and progress both come from this table, nowhere else.
 */
#ifndef ZMTA_SMTP_STATE_H
#define ZMTA_SMTP_STATE_H

#include "zbuf.h"

/* RFC 5321 4.5.3.2 timeouts, seconds */
typedef struct smtp_timeouts {
	long conn, tcpw, cmd, data, dot;
} smtp_timeouts;

void smtp_timeouts_default(smtp_timeouts *t);
/* smtp_timeouts_parse - "conn=3m,cmd=5m" or a bare value (= cmd); values
 * in zinterval syntax; below-minimum values are an error. */
int smtp_timeouts_parse(const char *spec, smtp_timeouts *t, zbuf *err);

enum smtp_tclass { TC_CONN, TC_CMD, TC_DATA, TC_DOT, TC_TCPW, TC_SHORT };

enum smtp_cstate {
	S_IDLE, S_CONNECT, S_GREET, S_EHLO, S_HELO, S_LHLO, S_STARTTLS, S_TLS,
	S_AUTH, S_RSET, S_MAIL, S_RCPT, S_DATA, S_BODY, S_DOT, S_BDAT, S_NOOP, S_QUIT,
	S_NSTATES
};

typedef struct smtp_state_info {
	const char *name;        /* "RCPT" (debug lines) */
	enum smtp_tclass tc;     /* which timeout bounds it */
	const char *desc;        /* "while waiting for the reply to RCPT TO" */
	const char *title;       /* progress text: "RCPT", "DATA-dot wait" */
} smtp_state_info;

/* smtp_state - the table row of st (S_IDLE's for an unknown st) */
const smtp_state_info *smtp_state(int st);
/* smtp_state_timeout_ms - how long st may wait, in milliseconds */
long smtp_state_timeout_ms(const smtp_timeouts *t, int st);

#endif
