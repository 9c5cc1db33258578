/*
 * NAME
 *	smtp_xact - one SMTP/LMTP transaction of the smtp agent
 * SUMMARY
 *	Connection set-up with MX walk, greeting, EHLO/HELO/LHLO with
 *	fallbacks, STARTTLS, AUTH; per-job transactions (MAIL, RCPT, DATA or
 *	BDAT) with pipelining; one diagnostic per recipient.
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
 *	the same connection and are never bounced for it.  With PIPELINING
 *	MAIL, all RCPTs and DATA are written in one group (reading meanwhile)
 *	and the replies matched in order (libzmsmtp's zmsmtp_group_replies;
 *	the MAIL and RCPT lines and the verdicts are libzmsmtp's too,
 *	smtpclient/zmsmtp_env.c); a DATA refused because no RCPT was
 *	accepted sends no body.  The window: after the dot of a pipelined
 *	SMTP transaction the reply is not awaited; the message is kept in
 *	s->pend and smtp_deliver() returns.  Every later reply read
 *	(wait_reply) first reads that dot reply (pend_drain) and moves the
 *	message to s->done; its recipients are reported by settle() when
 *	the agent would next block on the peer (the session's wait hook), when the
 *	job loop waits, or before the connection goes.  A connection lost
 *	with a message in s->pend defers its recipients as "delivery status
 *	unknown"; the transaction written behind it is run again on a new
 *	connection.  smtp_release() closes a message once neither slot holds
 *	it.  With CHUNKING
 *	the body goes as pipelined 64 KiB BDAT chunks.  LMTP reads one
 *	reply per accepted recipient after the final dot (or BDAT LAST).
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
 *	smtp(8), RFC 5321, 2920, 3030, 1870, 3461, 2033, 3207, 4954, 7505
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

struct bodyout {
	smtp_sess *s;
	size_t sent, total, next_title;
	int failed;
	zbuf why;
	zbuf *mem;               /* BDAT: the chunk being collected */
	size_t nchunks;          /* BDAT chunks sent before the LAST one */
};

/* body_progress - "-s": DATA n/m (p%) in the process title every 2000 bytes */
static void body_progress(struct bodyout *b)
{
	if (b->s->o->progress && b->sent >= b->next_title) {
		size_t tot = b->total > b->sent ? b->total : b->sent;
		smtp_title(1, ">%s|%d %s DATA %zu/%zu (%zu%%)", b->s->ip, b->s->port, b->s->host,
			   b->sent, tot, tot ? b->sent * 100 / tot : 100);
		b->next_title = b->sent + 2000;
	}
}

/* bdat_chunk - send the collected chunk as "BDAT n" (not LAST) */
static int bdat_chunk(struct bodyout *b)
{
	char cmd[64];
	int n = snprintf(cmd, sizeof(cmd), "BDAT %zu\r\n", b->mem->len);

	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	smtp_log('w', "BDAT %zu", b->mem->len);
	DBG(b->s, 1, "<<- BDAT %zu (chunk)", b->mem->len);
	if (smtp_session_queue(&b->s->io, cmd, (size_t)n) != Z_OK ||
	    smtp_session_queue(&b->s->io, b->mem->data ? b->mem->data : "", b->mem->len) != Z_OK) {
		b->failed = 1;
		zbuf_puts(&b->why, "out of memory queueing a BDAT chunk");
		return -1;
	}
	b->sent += b->mem->len;
	b->nchunks++;
	zbuf_reset(b->mem);
	if (b->s->io.wbuf.len >= 4 * SMTP_BDAT_CHUNK &&
	    smtp_session_flush(&b->s->io, tmo_ms(b->s, S_BODY), &b->why) != Z_OK) {
		b->failed = 1;
		return -1;
	}
	body_progress(b);
	return 0;
}

/* body_out - mime_send sink: queue, flush in blocks, progress title */
static int body_out(void *arg, const char *p, size_t n)
{
	struct bodyout *b = arg;

	if (b->mem != NULL) {
		while (n > 0) {
			size_t room = SMTP_BDAT_CHUNK - b->mem->len;
			size_t k = n < room ? n : room;
			if (zbuf_append(b->mem, p, k) != Z_OK) {
				b->failed = 1;
				zbuf_puts(&b->why, "out of memory collecting a BDAT chunk");
				return -1;
			}
			p += k;
			n -= k;
			if (b->mem->len >= SMTP_BDAT_CHUNK && n > 0 && bdat_chunk(b) != 0)
				return -1;
		}
		return 0;
	}
	if (smtp_session_queue(&b->s->io, p, n) != Z_OK) {
		b->failed = 1;
		zbuf_puts(&b->why, "out of memory queueing the body");
		return -1;
	}
	b->sent += n;
	if (b->s->io.wbuf.len >= 65536) {
		if (smtp_session_flush(&b->s->io, tmo_ms(b->s, S_BODY), &b->why) != Z_OK) {
			b->failed = 1;
			return -1;
		}
	}
	body_progress(b);
	return 0;
}

/* the working state of one transaction, shared by its steps */
struct xact {
	ta_msg *m;
	jrc *v;
	size_t n;
	const ctl_rcpt *r0;
	const ctl_sender *snd;
	const char *hdrs;
	size_t hlen;
	off_t bodyoff;
	zbuf sender, cmd, common, post;
	mime_opts mo;
	mime_result mr;
	int pipelined, use_bdat, nacc, data_sent;
	size_t nq;
	struct bodyout bo;
	zbuf mem;
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
		send_cmd(s, &x->common, 0, "RSET");
		if (wait_reply(s, S_RSET, &x->common) != Z_OK || s->rep.code / 100 != 2) {
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

/* x_envelope - MAIL and the RCPTs; pipelined: DATA too, replies read later */
static int x_envelope(smtp_sess *s, struct xact *x)
{
	ta_msg *m = x->m;
	jrc *v = x->v;
	size_t n = x->n;

	x->pipelined = (s->caps.flags & CAP_PIPELINING) && !s->o->no_pipelining;
	x->use_bdat = (s->caps.flags & CAP_CHUNKING) != 0;
	s->drain_lost = 0;      /* only a loss at this transaction's first reply counts */

	/* MAIL (the command line is libzmsmtp's, zmsmtp_env.c) */
	{
		zmsmtp_mailp mp;
		memset(&mp, 0, sizeof(mp));
		mp.sender = zbuf_cstr(&x->sender);
		mp.body8 = x->mr.send_8bitmime && !s->o->sevenbit;
		mp.size = m->size_estimate;
		mp.ret = x->r0->ret;
		mp.envid = x->r0->envid;
		if (zmsmtp_mail_cmd(&x->cmd, &mp, &s->caps) != Z_OK) {
			fail_set(s, m, v, n, R_OPEN, EX_TEMPFAIL, 0, "4.3.0", NULL, "MAIL command too long");
			return XS_DONE;
		}
	}
	if (send_cmd(s, &x->common, 0, "%s", zbuf_cstr(&x->cmd)) != Z_OK) {
		fail_set(s, m, v, n, R_OPEN, EX_TEMPFAIL, 0, "4.3.0", NULL, "MAIL command too long");
		return XS_DONE;
	}
	if (!x->pipelined) {
		if (wait_reply(s, S_MAIL, &x->common) != Z_OK)
			return XS_LOST;
		if (s->rep.code / 100 != 2)
			return XS_MAILFAIL;
	}
	/* RCPT */
	for (size_t i = 0; i < n; i++) {
		const ctl_rcpt *cr = v[i].r->r;
		const char *user = v[i].r->user ? v[i].r->user : "";
		if (!zmsmtp_addr_ok(user)) {
			v[i].st = R_DONE;
			rdiag(s, m, v[i].r, EX_NOUSER, 0, NULL, "5.1.3",
			      "smtp; 553 5.1.3 (unusable address, not sent)",
			      "recipient address in the control file is unusable (control "
			      "characters, angle brackets or too long)");
			continue;
		}
		if (zmsmtp_rcpt_cmd(&x->cmd, user, &s->caps, cr->notify, cr->orcpt) != Z_OK ||
		    send_cmd(s, &v[i].tr, 0, "%s", zbuf_cstr(&x->cmd)) != Z_OK) {
			v[i].st = R_DONE;
			rdiag(s, m, v[i].r, EX_NOUSER, 0, NULL, "5.1.3",
			      "smtp; 553 5.1.3 (address too long, not sent)",
			      "RCPT command would be too long");
			continue;
		}
		x->nq++;
		if (x->pipelined)
			continue;
		if (wait_reply(s, S_RCPT, &v[i].tr) != Z_OK)
			return XS_LOST;
		if (zmsmtp_rcpt_verdict(&s->rep) == ZMV_ACCEPT) {
			v[i].st = R_ACCEPTED;
			x->nacc++;
		} else if (zmsmtp_rcpt_verdict(&s->rep) == ZMV_RETRY) {
			v[i].st = R_RETRY;
		} else {
			result_reply(s, m, &v[i], &s->rep, &x->common, NULL, 0);
		}
	}
	/* RFC 2920: DATA may end the group; the server refuses it (503/554)
	 * when no RCPT was accepted */
	if (x->pipelined && !x->use_bdat && x->nq > 0) {
		if (send_cmd(s, &x->post, 0, "DATA") == Z_OK)
			x->data_sent = 1;
	}
	return XS_NEXT;
}

/* the pipelined group's hooks (zmsmtp_group_replies) */
struct grp {
	smtp_sess *s;
	struct xact *x;
};

/* grp_reply - one reply into the item's transcript: MAIL's and DATA's in
 * the common and post parts, a RCPT's in its recipient's */
static int grp_reply(void *arg, int st, long item, const smtp_reply **rep)
{
	struct grp *g = arg;
	zbuf *tr = item == ZMG_ITEM_MAIL ? &g->x->common :
		   item == ZMG_ITEM_DATA ? &g->x->post : &g->x->v[item].tr;
	*rep = &g->s->rep;
	return wait_reply(g->s, st, tr);
}

/* grp_rcpt - a RCPT verdict: accepted, retry in a follow-up (452), or reported */
static void grp_rcpt(void *arg, size_t i, const smtp_reply *rep, int verdict)
{
	struct grp *g = arg;
	jrc *j = &g->x->v[i];

	if (verdict == ZMV_ACCEPT) {
		j->st = R_ACCEPTED;
		g->x->nacc++;
	} else if (verdict == ZMV_RETRY) {
		j->st = R_RETRY;
	} else {
		result_reply(g->s, g->x->m, j, rep, &g->x->common, NULL, 0);
	}
}

/* x_replies - the pipelined group's replies, then DATA's */
static int x_replies(smtp_sess *s, struct xact *x)
{
	ta_msg *m = x->m;
	jrc *v = x->v;
	size_t n = x->n;

	if (x->pipelined) {
		/* the group's replies in order: libzmsmtp's zmsmtp_group_replies */
		struct grp ga = { s, x };
		unsigned char *sent = calloc(n ? n : 1, 1);
		smtp_reply mrep;
		int d354 = 0, gr;
		zmsmtp_group g;

		if (sent == NULL) {
			drop_conn(s, "out of memory");
			return XS_LOST;
		}
		for (size_t i = 0; i < n; i++)
			sent[i] = v[i].st == R_OPEN;
		memset(&g, 0, sizeof(g));
		g.n = n;
		g.sent = sent;
		g.data_sent = x->data_sent;
		g.reply = grp_reply;
		g.rcpt = grp_rcpt;
		g.arg = &ga;
		smtp_reply_init(&mrep);
		gr = zmsmtp_group_replies(&g, &mrep, &d354);
		free(sent);
		if (gr == ZMG_MAILFAIL) {
			if (d354)
				drop_conn(s, "server answered DATA with 354 after refusing MAIL");
			zbuf_set(&s->rep.text, mrep.text.data, mrep.text.len);
			s->rep.code = mrep.code;
			memcpy(s->rep.enh, mrep.enh, sizeof(mrep.enh));
		}
		smtp_reply_free(&mrep);
		if (gr == ZMG_LOST_MAIL)
			return s->drain_lost && !s->connected ? XS_AGAIN : XS_LOST; /* AGAIN: nothing of ours was answered */
		if (gr == ZMG_LOST)
			return XS_LOST;
		if (gr == ZMG_MAILFAIL)
			return XS_MAILFAIL;
	}
	if (x->data_sent) {
		if (wait_reply(s, S_DATA, &x->post) != Z_OK)
			return XS_LOST;
		if (x->nacc == 0) {
			/* expected: 503/554 "no valid recipients" */
			if (s->rep.code == 354)
				drop_conn(s, "server answered DATA with 354 although no "
					  "recipient was accepted");
			else
				s->need_rset = 1;
			return XS_DONE;
		}
		if (s->rep.code != 354) {
			s->need_rset = 1;
			for (size_t i = 0; i < n; i++)
				if (v[i].st == R_ACCEPTED)
					result_reply(s, m, &v[i], &s->rep, &x->common, &x->post, -1);
			return XS_DONE;
		}
	} else if (x->nacc == 0) {
		s->need_rset = 1;
		return XS_DONE;
	}
	return XS_NEXT;
}

/* x_body - the body: BDAT chunks or DATA and the dot (possibly left in the window) */
static int x_body(smtp_sess *s, struct xact *x)
{
	ta_msg *m = x->m;
	jrc *v = x->v;
	size_t n = x->n;

	/* body */
	x->bo.s = s;
	x->bo.total = m->size_estimate;
	x->bo.next_title = 0;
	if (x->use_bdat) {
		/* BDAT chunks are x->pipelined (RFC 3030); replies are read after
		 * the LAST one, the first failure decides */
		smtp_reply bad;
		int have_bad = 0;

		x->mo.dotstuff = 0;
		x->bo.mem = &x->mem;
		set_state(s, S_BODY);
		if (mime_send(x->hdrs, x->hlen, m->bodyfd, x->bodyoff, m->bodysize, &x->mo, &x->mr, body_out, &x->bo) != Z_OK ||
		    x->bo.failed) {
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "%s, %s (%s [%s])", x->bo.why.len ? zbuf_cstr(&x->bo.why) :
				    "error reading or converting the message body",
				    smtp_state(S_BODY)->desc, s->mxname, s->ip);
			drop_conn(s, zbuf_cstr(&s->err));
			return XS_LOST;
		}
		if (x->bo.nchunks > 0) {
			zbuf_printf(&x->post, "%s<<- (%zu BDAT chunks, %zu bytes)", x->post.len ? "\n" : "",
				    x->bo.nchunks, x->bo.sent);
		}
		send_cmd(s, &x->post, 0, "BDAT %zu LAST", x->mem.len);
		smtp_session_queue(&s->io, x->mem.data ? x->mem.data : "", x->mem.len);
		smtp_log('#', "%zu bytes in %zu BDAT chunks", x->bo.sent + x->mem.len, x->bo.nchunks + 1);
		smtp_reply_init(&bad);
		for (size_t k = 0; k < x->bo.nchunks; k++) {
			if (wait_reply(s, S_BDAT, &x->post) != Z_OK) {
				smtp_reply_free(&bad);
				return XS_LOST;
			}
			if (s->rep.code / 100 != 2 && !have_bad) {
				have_bad = 1;
				zbuf_set(&bad.text, s->rep.text.data, s->rep.text.len);
				bad.code = s->rep.code;
				memcpy(bad.enh, s->rep.enh, sizeof(bad.enh));
			}
		}
		if (wait_reply(s, S_BDAT, &x->post) != Z_OK) {
			smtp_reply_free(&bad);
			return XS_LOST;
		}
		if (have_bad) {
			s->need_rset = 1;
			for (size_t i = 0; i < n; i++)
				if (v[i].st == R_ACCEPTED)
					result_reply(s, m, &v[i], &bad, &x->common, &x->post, 1);
			smtp_reply_free(&bad);
			return XS_DONE;
		}
		smtp_reply_free(&bad);
	} else {
		if (!x->data_sent) {
			send_cmd(s, &x->post, 0, "DATA");
			if (wait_reply(s, S_DATA, &x->post) != Z_OK)
				return XS_LOST;
			if (s->rep.code != 354) {
				s->need_rset = 1;
				for (size_t i = 0; i < n; i++)
					if (v[i].st == R_ACCEPTED)
						result_reply(s, m, &v[i], &s->rep, &x->common, &x->post, -1);
				return XS_DONE;
			}
		}
		set_state(s, S_BODY);
		if (mime_send(x->hdrs, x->hlen, m->bodyfd, x->bodyoff, m->bodysize, &x->mo, &x->mr, body_out, &x->bo) != Z_OK ||
		    x->bo.failed) {
			zbuf_reset(&s->err);
			if (x->bo.why.len)
				zbuf_printf(&s->err, "%s, %s (%s [%s])", zbuf_cstr(&x->bo.why),
					    smtp_state(S_BODY)->desc, s->mxname, s->ip);
			else
				zbuf_printf(&s->err, "error reading or converting the message body");
			drop_conn(s, zbuf_cstr(&s->err));
			return XS_LOST;
		}
		tr_add(&x->post, "<<- ", "(message body)", 14);
		smtp_session_queue(&s->io, ".\r\n", 3);
		DBG(s, 1, "<<- (message body, %zu bytes)", x->bo.sent);
		DBG(s, 1, "<<- .");
		smtp_log('w', ".");
		tr_add(&x->post, "<<- ", ".", 1);
		smtp_log('#', "%zu bytes, %zu in header, %d recipients", x->bo.sent, x->hlen, x->nacc);
		smtp_title(s->o->progress, ">%s|%d %s DATA-dot wait", s->ip, s->port, s->host);
		/* the window: leave the dot reply for later, the next job's
		 * commands go out right behind the dot */
		if (!s->o->lmtp && x->pipelined && !s->o->one_per_conn &&
		    pend_save(s, m, v, n, &x->common, &x->post) == Z_OK) {
			s->need_rset = 0;
			return XS_DONE;
		}
		if (!s->o->lmtp && wait_reply(s, S_DOT, &x->post) != Z_OK)
			return XS_LOST;
	}
	return XS_NEXT;
}

/* x_results - the end-of-data reply (LMTP: one per recipient) to every accepted one */
static int x_results(smtp_sess *s, struct xact *x)
{
	ta_msg *m = x->m;
	jrc *v = x->v;
	size_t n = x->n;

	if (s->o->lmtp) {
		/* one reply per accepted recipient, in RCPT order; with BDAT the
		 * first reply is already in s->rep */
		int first = x->use_bdat;
		for (size_t i = 0; i < n; i++) {
			if (v[i].st != R_ACCEPTED)
				continue;
			zbuf lt = ZBUF_INIT(16384);
			zbuf_append(&lt, x->post.data ? x->post.data : "", x->post.len);
			if (!first && wait_reply(s, S_DOT, &lt) != Z_OK) {
				zbuf_free(&lt);
				return XS_LOST;
			}
			first = 0;
			result_reply(s, m, &v[i], &s->rep, &x->common, &lt, 1);
			zbuf_free(&lt);
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (v[i].st == R_ACCEPTED)
				result_reply(s, m, &v[i], &s->rep, &x->common, &x->post, 1);
	}
	return XS_NEXT;
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
	x_check, x_rset, x_envelope, x_replies, x_body, x_results
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
	zbuf_init(&x.sender, 1024);
	zbuf_init(&x.cmd, SMTP_CMD_MAX);
	zbuf_init(&x.common, 8192);
	zbuf_init(&x.post, 8192);
	zbuf_init(&x.mem, 4u * 1024u * 1024u);
	zbuf_init(&x.bo.why, 512);
	s->drain_lost = 0;
	for (size_t i = 0; i < n; i++) {
		v[i].st = R_OPEN;
		zbuf_reset(&v[i].tr);
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
	zbuf_free(&x.cmd);
	zbuf_free(&x.common);
	zbuf_free(&x.bo.why);
	zbuf_free(&x.mem);
	s->drain_lost = 0;
	return r == XS_AGAIN;
}
