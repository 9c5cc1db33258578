/*
 * NAME
 *	smtp_xact - one SMTP/LMTP transaction of the smtp agent
 * SUMMARY
 *	The agent's side of a transaction: the checks before anything is
 *	sent, the RSET a previous one left due, and the hooks through which
 *	libzmsmtp's transaction engine (smtpclient/zmsmtp_xact.c: MAIL, RCPT,
 *	DATA or BDAT, the body, the end-of-data replies) reports to the
 *	agent's transcripts and per-recipient diagnostics.
 * SYNOPSIS
 *	(internal: int transact(smtp_sess *s, ta_msg *m, jrc *v, size_t n))
 *	The agent's modules: smtp_agent.h.
 * DESCRIPTION
 *	Every protocol step is a state of smtp/smtp_state.c's table; it gives
 *	the timeout class and the human description used in diagnostics
 *	("timeout after 300 s waiting for the reply, while waiting for the
 *	reply to RCPT").  Recipients that share sender and header block go
 *	into one transaction, at most the peer's recipient limit at a time;
 *	recipients refused with 452 are sent in a follow-up transaction on
 *	the same connection and are never bounced for it.  The transaction
 *	is the engine's (one SMTP client in the tree, the library's): with
 *	PIPELINING MAIL, all RCPTs and DATA are written in one group and the
 *	replies matched in order; a DATA refused because no RCPT was
 *	accepted sends no body; with CHUNKING the body goes as pipelined
 *	64 KiB BDAT chunks; LMTP reads one reply per accepted recipient after
 *	the final dot (or BDAT LAST).  The agent gives the engine its body
 *	(libta's mime_send, dot-stuffed for DATA), its transcripts (x_cmd,
 *	x_reply: common, per recipient, post), its verdicts (x_verdict,
 *	x_result: result_reply) and its window: after the dot of a pipelined
 *	SMTP transaction x_later keeps the message in s->pend (smtp_window.c)
 *	and the engine returns without the reply.  Every later reply read
 *	(wait_reply) first reads that dot reply (pend_drain) and moves the
 *	message to s->done; its recipients are reported by settle() when
 *	the agent would next block on the peer (the session's wait hook), when the
 *	job loop waits, or before the connection goes.  A connection lost
 *	with a message in s->pend defers its recipients as "delivery status
 *	unknown"; the transaction written behind it is run again on a new
 *	connection.  smtp_release() closes a message once neither slot holds
 *	it.
 *	A server that closed or spoke on an idle kept connection, a failed
 *	RSET, or a 421 makes the agent drop the connection and reconnect for
 *	the next transaction.  open_conn() parses a job host with the strict
 *	grammar (smtp_dest_parse_job: no port, no UNIX:; a failure is a
 *	permanent 5.1.2 for every recipient) and only -F with the trusted
 *	one; it tries at most SMTP_MX_ADDRESS_LIMIT addresses and stops after
 *	SMTP_MX_SESSION_LIMIT established sessions that failed.
 * DIAGNOSTICS
 *	Per recipient through ta_diagnostic(): reply codes map per
 *	smtp_code_map(); connection failures give "retryat +60"; DNS
 *	temporary failures "deferall"; a lost connection or timeout defers
 *	every recipient still open with the state's description.  A 5xx
 *	from a server that has closed the connection counts as 4xx.  With
 *	-d, commands, replies, MX choices and TLS details are logged at
 *	debug level on stderr.
 * SECURITY
 *	Control files and replies are untrusted: addresses with control
 *	characters or angle brackets are refused before any command is
 *	built; DSN values are re-validated; replies go through the bounded
 *	assembler.  In a required TLS mode nothing is sent in clear text.
 *	AUTH secrets go only where the -A line allows for the session's TLS
 *	state (by default: TLS whose certificate verified); the command
 *	lines carrying them are logged as "(hidden)" and every buffer that
 *	held them (command line, output buffer, encodings) is cleared.
 * BUGS
 *	The -e selector only knows the MX name of an open connection.
 * SEE ALSO
 *	smtp(8), libzmsmtp(3), zmsmtp_xact.c, RFC 5321, 2920, 3030, 1870, 3461,
 *	2033, 3207, 4954, 7505
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
#include "zutil.h"
#include "zmsmtp_xact.h"

/* the working state of one transaction, shared by its steps */
struct xact {
	smtp_sess *s;
	ta_msg *m;
	jrc *v;
	size_t n;
	const ctl_rcpt *r0;
	const ctl_sender *snd;
	const char *hdrs;
	size_t hlen;
	off_t bodyoff;
	zbuf sender, common, post;
	zbuf lt;                 /* LMTP: post and one recipient's end-of-data reply */
	long lt_for;             /* the recipient lt is for, -1 none */
	mime_opts mo;
	mime_result mr;
	size_t next_title;
	zmsmtp_xrcpt *xr;        /* the recipients as the engine sees them */
	zmsmtp_xact e;           /* the transaction engine (libzmsmtp) */
};

/* what a step says: go on, or how the transaction ends */
enum { XS_NEXT = 0, XS_DONE, XS_LOST, XS_MAILFAIL, XS_AGAIN };

/* x_check - sender, body file, MIME conversion and SIZE, before anything is sent */
static int x_check(smtp_sess *s, struct xact *x)
{
	ta_msg *m = x->m;
	jrc *v = x->v;
	size_t n = x->n;
	char dc[300];

	/* x->sender */
	if (x->snd == NULL || zspan_eq(x->snd->quad.channel, "error")) {
		/* null x->sender */
	} else if (ctl_unquote_user(x->snd->quad.user, &x->sender) != Z_OK ||
		   !zmsmtp_addr_ok(zbuf_cstr(&x->sender))) {
		fail_set(s, m, v, n, R_OPEN, EX_UNAVAILABLE, 0, "5.1.7",
			 "smtp; 553 5.1.7 (unusable sender address, not sent)",
			 "sender address in the control file is unusable (control characters, "
			 "angle brackets or too long)");
		return XS_DONE;
	}
	if (m->bodyfd < 0) {
		fail_set(s, m, v, n, R_OPEN, EX_UNAVAILABLE, 0, "5.3.0", NULL,
			 "message body file is missing; please resend the message");
		return XS_DONE;
	}
	/* MIME decision */
	memset(&x->mo, 0, sizeof(x->mo));
	memset(&x->mr, 0, sizeof(x->mr));
	x->mo.peer_8bit = ((s->caps.flags & CAP_8BITMIME) && !s->o->sevenbit) || s->o->eightbit;
	x->mo.decode_qp = s->o->eightbit;
	x->mo.keep_8bit_headers = s->o->no_mime2;
	x->mo.dotstuff = 1;
	x->mo.defcharset = s->o->defcharset;
	if (mime_analyse(x->hdrs, x->hlen, m->bodyfd, x->bodyoff, m->bodysize, &x->mo, &x->mr) != Z_OK) {
		fail_set(s, m, v, n, R_OPEN, EX_TEMPFAIL, 0, "4.3.0", NULL,
			 "cannot read or analyse the message body");
		return XS_DONE;
	}
	if (x->mr.cvt == MIME_REFUSE) {
		zbuf t = ZBUF_INIT(512);
		zbuf_printf(&t, "message cannot be sent to a 7-bit server without breaking it: %s",
			    x->mr.why);
		fail_set(s, m, v, n, R_OPEN, EX_UNAVAILABLE, 0, "5.6.3",
			 "smtp; 554 5.6.3 (conversion required but not allowed)", zbuf_cstr(&t));
		zbuf_free(&t);
		return XS_DONE;
	}
	/* SIZE: refuse locally */
	if ((s->caps.flags & CAP_SIZE) && s->caps.size_max > 0 &&
	    m->size_estimate > s->caps.size_max) {
		zbuf t = ZBUF_INIT(512);
		zbuf_printf(&t, "message size %zu exceeds the fixed maximum message size of %lu "
			    "bytes of %s", m->size_estimate, s->caps.size_max, s->mxname);
		snprintf(dc, sizeof(dc), "smtp; 552 5.3.4 message size exceeds fixed maximum");
		fail_set(s, m, v, n, R_OPEN, EX_UNAVAILABLE, 0, "5.3.4", dc, zbuf_cstr(&t));
		zbuf_free(&t);
		return XS_DONE;
	}
	return XS_NEXT;
}

/* x_rset - RSET after an incomplete transaction (reconnect when it fails) */
static int x_rset(smtp_sess *s, struct xact *x)
{
	ta_msg *m = x->m;
	jrc *v = x->v;
	size_t n = x->n;

	/* RSET after an incomplete transaction */
	if (s->need_rset) {
		if (zmsmtp_xact_rset(&x->e) != Z_OK) {
			char dest[256];
			if (s->connected)
				drop_conn(s, "RSET failed");
			/* a fresh connection instead */
			(void)zstrlcpy(dest, s->host, sizeof(dest));
			if (open_conn(s, dest) != Z_OK) {
				char dc[600];
				snprintf(dc, sizeof(dc), "smtp; 400 (%.500s)", zbuf_cstr(&s->cf_text));
				fail_set(s, m, v, n, R_OPEN, s->cf_code, s->cf_retry, s->cf_status, dc,
					 zbuf_cstr(&s->cf_text));
				return XS_DONE;
			}
		}
		s->need_rset = 0;
		zbuf_reset(&x->common);
	}
	return XS_NEXT;
}

/* x_cmd - the engine's command hook: a line into its item's transcript
 * (MAIL and RSET: common; DATA and BDAT LAST: post; a RCPT: its
 * recipient's); a BDAT chunk command is logged, not transcribed */
static int x_cmd(void *arg, long item, const char *line)
{
	struct xact *x = arg;
	smtp_sess *s = x->s;

	if (item == ZMX_ITEM_CHUNK) {
		char buf[64];
		int k = snprintf(buf, sizeof(buf), "%s\r\n", line);
		if (k < 0 || (size_t)k >= sizeof(buf))
			return Z_ETOOBIG;
		smtp_log('w', "%s", line);
		DBG(s, 1, "<<- %s (chunk)", line);
		return smtp_session_queue(&s->io, buf, (size_t)k);
	}
	return send_cmd(s, item == ZMX_ITEM_MAIL ? &x->common : item == ZMX_ITEM_POST ? &x->post :
		        &x->v[item].tr, 0, "%s", line);
}

/* x_reply - the engine's reply hook: wait_reply (the window's pending dot
 * reply first) into the item's transcript; an LMTP end-of-data reply goes
 * into lt, a copy of post */
static int x_reply(void *arg, int st, long item, const smtp_reply **rep)
{
	struct xact *x = arg;
	zbuf *tr;

	*rep = &x->s->rep;
	if (item >= 0 && st == S_DOT) {
		zbuf_reset(&x->lt);
		zbuf_append(&x->lt, x->post.data ? x->post.data : "", x->post.len);
		x->lt_for = item;
		tr = &x->lt;
	} else {
		tr = item == ZMX_ITEM_MAIL ? &x->common : item == ZMX_ITEM_POST ? &x->post :
		     &x->v[item].tr;
	}
	return wait_reply(x->s, st, tr);
}

/* x_verdict - a RCPT verdict: accepted, retry in a follow-up (452), or reported */
static void x_verdict(void *arg, size_t i, const smtp_reply *rep, int verdict)
{
	struct xact *x = arg;
	jrc *j = &x->v[i];

	if (verdict == ZMV_ACCEPT)
		j->st = R_ACCEPTED;
	else if (verdict == ZMV_RETRY)
		j->st = R_RETRY;
	else
		result_reply(x->s, x->m, j, rep, &x->common, NULL, 0);
}

/* x_unsent - a recipient whose RCPT line could not be built */
static void x_unsent(void *arg, size_t i, int why)
{
	struct xact *x = arg;

	x->v[i].st = R_DONE;
	if (why == Z_EPARSE)
		rdiag(x->s, x->m, x->v[i].r, EX_NOUSER, 0, NULL, "5.1.3",
		      "smtp; 553 5.1.3 (unusable address, not sent)",
		      "recipient address in the control file is unusable (control "
		      "characters, angle brackets or too long)");
	else
		rdiag(x->s, x->m, x->v[i].r, EX_NOUSER, 0, NULL, "5.1.3",
		      "smtp; 553 5.1.3 (address too long, not sent)",
		      "RCPT command would be too long");
}

/* x_result - the outcome for an accepted recipient (LMTP: its own reply) */
static void x_result(void *arg, size_t i, const smtp_reply *rep, int at)
{
	struct xact *x = arg;
	const zbuf *post = x->lt_for == (long)i ? &x->lt : &x->post;

	result_reply(x->s, x->m, &x->v[i], rep, &x->common, post, at);
}

/* x_later - the window: leave the dot reply for later, the next job's
 * commands go out right behind the dot */
static int x_later(void *arg)
{
	struct xact *x = arg;
	smtp_sess *s = x->s;

	return !s->o->one_per_conn && pend_save(s, x->m, x->v, x->n, &x->common, &x->post) == Z_OK;
}

/* x_tmo - the engine's flush timeout */
static long x_tmo(void *arg, int st)
{
	struct xact *x = arg;
	return tmo_ms(x->s, st);
}

/* x_progress - "-s": DATA n/m (p%) in the process title every 2000 bytes */
static void x_progress(void *arg, size_t sent)
{
	struct xact *x = arg;
	smtp_sess *s = x->s;

	if (s->o->progress && sent >= x->next_title) {
		size_t tot = x->m->size_estimate > sent ? x->m->size_estimate : sent;
		smtp_title(1, ">%s|%d %s DATA %zu/%zu (%zu%%)", s->ip, s->port, s->host,
			   sent, tot, tot ? sent * 100 / tot : 100);
		x->next_title = sent + 2000;
	}
}

/* x_event - the body's steps into the transcript, -l log and -s title */
static void x_event(void *arg, int ev)
{
	struct xact *x = arg;
	smtp_sess *s = x->s;

	switch (ev) {
	case ZMX_EV_BODY:
		tr_add(&x->post, "<<- ", "(message body)", 14);
		DBG(s, 1, "<<- (message body, %zu bytes)", x->e.bytes);
		break;
	case ZMX_EV_DOT:
		DBG(s, 1, "<<- .");
		smtp_log('w', ".");
		tr_add(&x->post, "<<- ", ".", 1);
		smtp_log('#', "%zu bytes, %zu in header, %zu recipients", x->e.bytes, x->hlen,
			 x->e.nacc);
		smtp_title(s->o->progress, ">%s|%d %s DATA-dot wait", s->ip, s->port, s->host);
		break;
	case ZMX_EV_CHUNKS:
		zbuf_printf(&x->post, "%s<<- (%zu BDAT chunks, %zu bytes)", x->post.len ? "\n" : "",
			    x->e.nchunks, x->e.bytes);
		break;
	case ZMX_EV_LAST:
		smtp_log('#', "%zu bytes in %zu BDAT chunks", x->e.bytes, x->e.nchunks + 1);
		break;
	default:
		break;
	}
}

/* x_body - the engine's body callback: headers and body through libta's
 * MIME conversion (dot-stuffed when the engine says so) */
static int x_body(void *arg, int dotstuff, zmsmtp_out_fn out, void *outarg)
{
	struct xact *x = arg;
	ta_msg *m = x->m;

	x->mo.dotstuff = dotstuff;
	return mime_send(x->hdrs, x->hlen, m->bodyfd, x->bodyoff, m->bodysize, &x->mo, &x->mr,
			 out, outarg) == Z_OK ? 0 : -1;
}

/* x_setup - the engine's hooks and the recipients (before any step) */
static int x_setup(smtp_sess *s, struct xact *x)
{
	zmsmtp_xact *e = &x->e;

	x->xr = calloc(x->n ? x->n : 1, sizeof(*x->xr));
	if (x->xr == NULL)
		return Z_ENOMEM;
	for (size_t i = 0; i < x->n; i++) {
		x->xr[i].addr = x->v[i].r->user ? x->v[i].r->user : "";
		x->xr[i].notify = x->v[i].r->r->notify;
		x->xr[i].orcpt = x->v[i].r->r->orcpt;
	}
	e->ss = &s->io;
	e->rcpt = x->xr;
	e->n = x->n;
	e->body = x_body;
	e->arg = x;
	e->cmd = x_cmd;
	e->reply = x_reply;
	e->rcpt_verdict = x_verdict;
	e->unsent = x_unsent;
	e->result = x_result;
	e->later = x_later;
	e->tmo = x_tmo;
	e->progress = x_progress;
	e->event = x_event;
	return Z_OK;
}

/* x_run - the transaction proper: libzmsmtp's engine (MAIL, RCPTs, DATA or
 * BDAT, the body, the end-of-data replies); its result as a step's */
static int x_run(smtp_sess *s, struct xact *x)
{
	ta_msg *m = x->m;
	zmsmtp_xact *e = &x->e;
	int rc;

	e->caps = &s->caps;
	e->flags = 0;
	if ((s->caps.flags & CAP_PIPELINING) && !s->o->no_pipelining)
		e->flags |= ZMX_PIPELINE | ZMX_PIPE_DATA;
	if (s->caps.flags & CAP_CHUNKING)
		e->flags |= ZMX_BDAT;
	if (s->o->lmtp)
		e->flags |= ZMX_LMTP;
	memset(&e->mail, 0, sizeof(e->mail));
	e->mail.sender = zbuf_cstr(&x->sender);
	e->mail.body8 = x->mr.send_8bitmime && !s->o->sevenbit;
	e->mail.size = m->size_estimate;
	e->mail.ret = x->r0->ret;
	e->mail.envid = x->r0->envid;
	s->drain_lost = 0;      /* only a loss at this transaction's first reply counts */
	rc = zmsmtp_xact_run(e);
	if (e->drop != NULL && s->connected)
		drop_conn(s, e->drop);
	switch (rc) {
	case ZMX_OK:
		return XS_NEXT;
	case ZMX_PENDING:
		s->need_rset = 0;
		return XS_DONE;
	case ZMX_NOBODY:
		if (e->need_rset)
			s->need_rset = 1;
		return XS_DONE;
	case ZMX_BADMAIL:
		fail_set(s, m, x->v, x->n, R_OPEN, EX_TEMPFAIL, 0, "4.3.0", NULL, "MAIL command too long");
		return XS_DONE;
	case ZMX_MAILFAIL:
		if (smtp_reply_copy(&s->rep, &e->mailrep) != Z_OK) {
			s->rep.code = e->mailrep.code;
			memcpy(s->rep.enh, e->mailrep.enh, sizeof(s->rep.enh));
		}
		return XS_MAILFAIL;
	case ZMX_LOST_MAIL:
		/* AGAIN: nothing of ours was answered, the previous dot reply was lost */
		return s->drain_lost && !s->connected ? XS_AGAIN : XS_LOST;
	case ZMX_BODYFAIL:
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "%s, %s (%s [%s])", e->why.len ? zbuf_cstr(&e->why) :
			    "error reading or converting the message body",
			    smtp_state(S_BODY)->desc, s->mxname, s->ip);
		drop_conn(s, zbuf_cstr(&s->err));
		return XS_LOST;
	default:
		return XS_LOST;
	}
}

/* x_mail_failed - MAIL refused: the same result for every open recipient */
static void x_mail_failed(smtp_sess *s, struct xact *x)
{
	ta_msg *m = x->m;
	jrc *v = x->v;
	size_t n = x->n;
	char st[24], dc[300];

	s->need_rset = 1;
	{
		int code = smtp_code_map(s->rep.code, s->rep.enh, st, sizeof(st));
		if (code == EX_OK) {          /* 1xx/3xx to MAIL */
			code = EX_TEMPFAIL;
			(void)zstrlcpy(st, "4.5.0", sizeof(st));
		}
		if (s->rep.code / 100 == 5 && (!s->connected || s->io.eof)) {
			code = EX_TEMPFAIL;   /* 5xx, then the server closed: retry */
			st[0] = '4';
		}
		diagcode(&s->rep, dc, sizeof(dc));
		for (size_t i = 0; i < n; i++) {
			if (v[i].st == R_DONE)
				continue;
			zbuf t = ZBUF_INIT(16384);
			zbuf_append(&t, x->common.data ? x->common.data : "", x->common.len);
			if (v[i].tr.len) {
				zbuf_putc(&t, '\n');
				zbuf_append(&t, v[i].tr.data, v[i].tr.len);
			}
			rdiag(s, m, v[i].r, code, 0, NULL, st, dc, zbuf_cstr(&t));
			zbuf_free(&t);
			v[i].st = R_DONE;
		}
	}
}

/* x_lost - the connection went: defer every open recipient */
static void x_lost(smtp_sess *s, struct xact *x)
{
	if (x->post.len) {
		if (x->common.len)
			zbuf_putc(&x->common, '\n');
		zbuf_append(&x->common, x->post.data, x->post.len);
	}
	fail_conn(s, x->m, x->v, x->n, &x->common);
}

/* the steps of a transaction, in order; each waits in the states of
 * smtp/smtp_state.h, which give its timeouts, -s titles and diagnostics */
static int (*const steps[])(smtp_sess *s, struct xact *x) = {
	x_check, x_rset, x_run
};

/* transact - one transaction for v[0..n) (all same sender + headers).
 * Leaves R_RETRY recipients (452) for a follow-up.  Returns 1 when the
 * connection was lost reading the previous message's dot reply before any
 * reply of this transaction: nothing was decided, the caller reconnects
 * and runs it again; else 0. */
int transact(smtp_sess *s, ta_msg *m, jrc *v, size_t n)
{
	struct xact x;
	int r = XS_NEXT;

	memset(&x, 0, sizeof(x));
	x.m = m;
	x.v = v;
	x.n = n;
	x.r0 = v[0].r->r;
	x.snd = x.r0->sender < m->ctl.nsenders ? &m->ctl.senders[x.r0->sender] : NULL;
	x.hdrs = x.r0->hdr_off >= 0 ? m->ctl.data + x.r0->hdr_off : "";
	x.hlen = x.r0->hdr_off >= 0 ? x.r0->hdr_len : 0;
	x.bodyoff = m->ctl.body_off > 0 ? m->ctl.body_off : 0;
	x.s = s;
	x.lt_for = -1;
	zbuf_init(&x.sender, 1024);
	zbuf_init(&x.common, 8192);
	zbuf_init(&x.post, 8192);
	zbuf_init(&x.lt, 16384);
	zmsmtp_xact_init(&x.e);
	s->drain_lost = 0;
	for (size_t i = 0; i < n; i++) {
		v[i].st = R_OPEN;
		zbuf_reset(&v[i].tr);
	}
	if (x_setup(s, &x) != Z_OK) {
		fail_set(s, m, v, n, R_OPEN, EX_TEMPFAIL, 0, "4.3.0", NULL, "out of memory");
		r = XS_DONE;
	}
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]) && r == XS_NEXT; k++)
		r = steps[k](s, &x);
	if (r == XS_NEXT)
		s->need_rset = 0;
	else if (r == XS_MAILFAIL)
		x_mail_failed(s, &x);
	else if (r == XS_LOST)
		x_lost(s, &x);
	if (s->connected && s->rep.code == 421)
		drop_conn(s, "server said 421 (closing)");
	zbuf_free(&x.post);
	zbuf_free(&x.sender);
	zbuf_free(&x.common);
	zbuf_free(&x.lt);
	zmsmtp_xact_free(&x.e);
	free(x.xr);
	s->drain_lost = 0;
	return r == XS_AGAIN;
}
