/*
 * NAME
 *	smtp_state - the client's protocol state table and its timeouts
 * SUMMARY
 *	One row per protocol step: name, timeout class, diagnostic phrase,
 *	progress text; the -T timeout specification.
 * SYNOPSIS
 *	const smtp_state_info *smtp_state(int st)
 *	long smtp_state_timeout_ms(const smtp_timeouts *t, int st)
 *	void smtp_timeouts_default(smtp_timeouts *t)
 *	int smtp_timeouts_parse(const char *spec, smtp_timeouts *t, zbuf *err)
 * DESCRIPTION
 *	The table below is the one place that names a step: a client sets
 *	the state before it waits (smtp_session_state), the progress hook
 *	shows the row's title, a failed wait appends the row's phrase to
 *	the reason ("timeout after 300 s waiting for the reply, while
 *	waiting for the reply to RCPT TO"), and the wait is bounded by the
 *	row's timeout class.  Short steps (RSET, NOOP, QUIT, idle) wait 30
 *	seconds.  Timeouts default to RFC 5321 section 4.5.3.2: connect 180
 *	s (conn), blocked write 180 s (tcpw), commands 300 s (cmd), DATA 120
 *	s (data), end of data 600 s (dot).  -T takes "key=interval" pairs
 *	separated by commas, or one interval for cmd; minimums are 10 s (5 s
 *	for cmd), the maximum one day.
 * DIAGNOSTICS
 *	smtp_timeouts_parse: Z_EPARSE with the reason in err.
 * SECURITY
 *	The -T value is the operator's; it is copied into a bounded buffer.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtp(8) -T, zmta-smtp(3), Postfix's smtp client state names
 */
#include <string.h>
#include "smtp_state.h"
#include "zerr.h"
#include "zutil.h"

static const smtp_state_info states[S_NSTATES] = {
	[S_IDLE] = { "idle", TC_SHORT, "while idle", "idle" },
	[S_CONNECT] = { "connect", TC_CONN, "while connecting", "connect" },
	[S_GREET] = { "greeting", TC_CMD, "while waiting for the greeting", "greeting" },
	[S_EHLO] = { "EHLO", TC_CMD, "while waiting for the reply to EHLO", "EHLO" },
	[S_HELO] = { "HELO", TC_CMD, "while waiting for the reply to HELO", "HELO" },
	[S_LHLO] = { "LHLO", TC_CMD, "while waiting for the reply to LHLO", "LHLO" },
	[S_STARTTLS] = { "STARTTLS", TC_CMD, "while waiting for the reply to STARTTLS",
			 "STARTTLS" },
	[S_TLS] = { "TLS", TC_CMD, "during the TLS handshake", "TLS" },
	[S_AUTH] = { "AUTH", TC_CMD, "during AUTH", "AUTH" },
	[S_RSET] = { "RSET", TC_SHORT, "while waiting for the reply to RSET", "RSET wait" },
	[S_MAIL] = { "MAIL", TC_CMD, "while waiting for the reply to MAIL FROM", "MAIL" },
	[S_RCPT] = { "RCPT", TC_CMD, "while waiting for the reply to RCPT TO", "RCPT" },
	[S_DATA] = { "DATA", TC_DATA, "while waiting for the reply to DATA", "DATA" },
	[S_BODY] = { "body", TC_TCPW, "while sending the message body", "DATA" },
	[S_DOT] = { "dot", TC_DOT, "while waiting for the reply to the end of data",
		    "DATA-dot wait" },
	[S_BDAT] = { "BDAT", TC_DOT, "while waiting for the reply to BDAT", "BDAT" },
	[S_NOOP] = { "NOOP", TC_SHORT, "while waiting for the reply to NOOP", "NOOP" },
	[S_QUIT] = { "QUIT", TC_SHORT, "while waiting for the reply to QUIT", "QUIT" },
};

/* smtp_state - the row of st */
const smtp_state_info *smtp_state(int st)
{
	if (st < 0 || st >= S_NSTATES)
		st = S_IDLE;
	return &states[st];
}

/* smtp_state_timeout_ms - timeout of a state in milliseconds */
long smtp_state_timeout_ms(const smtp_timeouts *t, int st)
{
	switch (smtp_state(st)->tc) {
	case TC_CONN: return t->conn * 1000;
	case TC_CMD: return t->cmd * 1000;
	case TC_DATA: return t->data * 1000;
	case TC_DOT: return t->dot * 1000;
	case TC_TCPW: return t->tcpw * 1000;
	case TC_SHORT: default: return 30000;
	}
}

/* smtp_timeouts_default - RFC 5321 section 4.5.3.2 values */
void smtp_timeouts_default(smtp_timeouts *t)
{
	t->conn = 180;
	t->tcpw = 180;
	t->cmd = 300;
	t->data = 120;
	t->dot = 600;
}

/* smtp_timeouts_parse - -T spec */
int smtp_timeouts_parse(const char *spec, smtp_timeouts *t, zbuf *err)
{
	char buf[256];
	char *p, *next;

	if (zstrlcpy(buf, spec, sizeof(buf)) != Z_OK) {
		zbuf_printf(err, "-T %.60s...: too long", spec);
		return Z_EPARSE;
	}
	if (buf[0] == '\0') {
		zbuf_puts(err, "-T: empty value");
		return Z_EPARSE;
	}
	for (p = buf; p != NULL; p = next) {
		char *eq, *comma = strchr(p, ',');
		const char *key = "cmd", *val = p;
		long secs, *slot, min;

		next = NULL;
		if (comma != NULL) {
			*comma = '\0';
			next = comma + 1;
		}
		eq = strchr(p, '=');
		if (eq != NULL) {
			*eq = '\0';
			key = p;
			val = eq + 1;
		}
		if (strcmp(key, "conn") == 0) {
			slot = &t->conn; min = 10;
		} else if (strcmp(key, "tcpw") == 0) {
			slot = &t->tcpw; min = 10;
		} else if (strcmp(key, "cmd") == 0) {
			slot = &t->cmd; min = 5;
		} else if (strcmp(key, "data") == 0) {
			slot = &t->data; min = 10;
		} else if (strcmp(key, "dot") == 0) {
			slot = &t->dot; min = 10;
		} else {
			zbuf_printf(err, "-T: unknown timeout '%s' (conn tcpw cmd data dot)", key);
			return Z_EPARSE;
		}
		if (zinterval_parse(val, &secs) != Z_OK) {
			zbuf_printf(err, "-T %s=%s: not a time interval", key, val);
			return Z_EPARSE;
		}
		if (secs < min) {
			zbuf_printf(err, "-T %s=%s: below the minimum of %ld seconds", key, val, min);
			return Z_EPARSE;
		}
		if (secs > 86400) {
			zbuf_printf(err, "-T %s=%s: above the maximum of one day", key, val);
			return Z_EPARSE;
		}
		*slot = secs;
	}
	return Z_OK;
}

