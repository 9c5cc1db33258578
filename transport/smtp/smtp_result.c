/*
 * NAME
 *	smtp_result - per-recipient results of the smtp agent
 * SUMMARY
 *	Turns replies and failures into the one report per recipient:
 *	success (delivered, or relayed when NOTIFY=SUCCESS goes to a peer
 *	without DSN), reply codes through smtp_code_map, a 5xx from a server
 *	that then closed counts as 4xx, a lost connection defers with the
 *	transcript.
 * SYNOPSIS
 *	(internal: fail_set, fail_conn, result_reply,
 *	fail_all_cf)
 * DESCRIPTION
 *	Internal to the smtp agent; the state it shares is smtp_agent.h.
 *	See smtp_xact.c for the whole protocol picture.
 * DIAGNOSTICS
 *	Reports go out through ta_diagnostic (rdiag).
 * SECURITY
 *	Addresses and DSN values from control files are checked here before
 *	any command is built from them.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtp(8), zmta-ta(7), smtp_agent.h
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "smtp_agent.h"
#include "mime.h"
#include "xtext.h"
#include "zutil.h"

/* fail_set - the same result for every recipient in set with status st */
void fail_set(smtp_sess *s, ta_msg *m, jrc *v, size_t n, int only_st, int code,
		     long retry, const char *status, const char *dcode, const char *text)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].st != only_st && !(only_st == R_OPEN && v[i].st == R_ACCEPTED))
			continue;
		rdiag(s, m, v[i].r, code, retry, NULL, status, dcode, text);
		v[i].st = R_DONE;
	}
}

/* fail_conn - connection lost: defer every open/accepted recipient */
void fail_conn(smtp_sess *s, ta_msg *m, jrc *v, size_t n, zbuf *common)
{
	char dc[600];
	snprintf(dc, sizeof(dc), "smtp; 400 %s", zbuf_cstr(&s->err));
	for (size_t i = 0; i < n; i++) {
		if (v[i].st != R_OPEN && v[i].st != R_ACCEPTED && v[i].st != R_RETRY)
			continue;
		zbuf t = ZBUF_INIT(16384);
		zbuf_append(&t, common->data ? common->data : "", common->len);
		if (v[i].tr.len) {
			zbuf_putc(&t, '\n');
			zbuf_append(&t, v[i].tr.data, v[i].tr.len);
		}
		if (t.len)
			zbuf_putc(&t, '\n');
		zbuf_puts(&t, zbuf_cstr(&s->err));
		rdiag(s, m, v[i].r, EX_TEMPFAIL, 60, NULL, "4.4.2", dc, zbuf_cstr(&t));
		zbuf_free(&t);
		v[i].st = R_DONE;
	}
}

/* result_reply - diagnose one recipient from a reply */
void result_reply(smtp_sess *s, ta_msg *m, jrc *j, const smtp_reply *rep,
			 const zbuf *common, const zbuf *post, int at_dot)
{
	char status[24], dc[300];
	int code = smtp_code_map(rep->code, rep->enh, status, sizeof(status));
	zbuf t = ZBUF_INIT(16384);
	const char *action = NULL;

	/* only a 2xx where a final answer is due is a success; 1xx/3xx
	 * there (or a 2xx to DATA) is a protocol violation: retry later */
	if (code == EX_OK && (rep->code / 100 != 2 || at_dot < 0)) {
		code = EX_TEMPFAIL;
		(void)zstrlcpy(status, "4.5.0", sizeof(status));
	}
	/* a 5xx from a server that then closed the connection is not
	 * trusted as final: it may be failing as a whole; retry later */
	if (rep->code / 100 == 5 && (!s->connected || s->io.eof)) {
		code = EX_TEMPFAIL;
		status[0] = '4';
	}

	diagcode(rep, dc, sizeof(dc));
	if (common != NULL && common->len) {
		zbuf_append(&t, common->data, common->len);
	}
	if (j->tr.len) {
		if (t.len)
			zbuf_putc(&t, '\n');
		zbuf_append(&t, j->tr.data, j->tr.len);
	}
	if (post != NULL && post->len) {
		if (t.len)
			zbuf_putc(&t, '\n');
		zbuf_append(&t, post->data, post->len);
	}
	if (code == EX_OK) {
		int relayed = !s->o->lmtp && !(s->caps.flags & CAP_DSN) &&
			notify_has(j->r->r->notify, "SUCCESS");
		action = relayed ? "relayed" : "delivered";
		/* an SMTP next hop that speaks DSN got our NOTIFY: it reports */
		j->r->dsn_passed_on = !s->o->lmtp && (s->caps.flags & CAP_DSN) != 0;
	} else if (at_dot > 0 && code == EX_TEMPFAIL && rep->code / 100 == 4) {
		code = EX_DEFERBACK;
	}
	rdiag(s, m, j->r, code, 0, action, status, dc, zbuf_cstr(&t));
	zbuf_free(&t);
	j->st = R_DONE;
}

/* fail_all_cf - report the remembered connection failure to every open rcpt */
void fail_all_cf(smtp_sess *s, ta_msg *m)
{
	char dc[600];
	const char *text = zbuf_cstr(&s->cf_text);

	if (strncmp(text, "556 ", 4) == 0)
		snprintf(dc, sizeof(dc), "smtp; %.500s", text);
	else
		snprintf(dc, sizeof(dc), "smtp; %s (%.500s)", s->cf_code == EX_TEMPFAIL ||
			 s->cf_code == EX_DEFERALL ? "400" : "500", text);
	for (size_t i = 0; i < m->nrcpts; i++) {
		ta_rcpt *r = &m->rcpts[i];
		if (!r->locked || r->reported)
			continue;
		rdiag(s, m, r, s->cf_code, s->cf_retry, NULL, s->cf_status, dc, text);
	}
}
