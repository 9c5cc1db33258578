/*
 * NAME
 *	zmsmtp_xact - the one SMTP/LMTP client transaction of zmta
 * SUMMARY
 *	MAIL with ESMTP parameters, the RCPTs (pipelined or in lockstep),
 *	DATA with dot-stuffing or BDAT chunks, the body from a buffer or a
 *	callback, the end-of-data reply (LMTP: one per accepted recipient),
 *	per-recipient verdicts through the caller's hooks, RSET.
 * SYNOPSIS
 *	#include "zmsmtp_xact.h"
 *	void zmsmtp_xact_init(zmsmtp_xact *x);
 *	void zmsmtp_xact_free(zmsmtp_xact *x);
 *	int zmsmtp_xact_run(zmsmtp_xact *x);
 *	int zmsmtp_xact_rset(zmsmtp_xact *x);
 *	int zmsmtp_xact_accepted(const zmsmtp_xact *x, size_t i);
 * DESCRIPTION
 *	Part of libzmsmtp (libzmsmtp(3)).  Both SMTP clients of the tree run
 *	their transactions here: the library session (zmsmtp.c, for
 *	zmsmtp_send and smtpsend(1)) and the smtp agent's transact()
 *	(transport/smtp/smtp_xact.c).  Command lines come from the shared
 *	envelope steps (zmsmtp_env.c); every command goes out and every reply
 *	comes in through the caller's hooks, which keep the caller's
 *	transcript, timeouts and window.
 *
 *	With ZMX_PIPELINE, MAIL, every RCPT and (ZMX_PIPE_DATA, not BDAT)
 *	DATA are written as one group and the replies matched in order
 *	(zmsmtp_group_replies); else each command waits for its reply.  A
 *	DATA refused because nothing was accepted sends no body.  DATA bodies
 *	are dot-stuffed (buffer bodies here through mime_wire, callback
 *	bodies by the callback, told so); BDAT bodies go as 64 KiB chunks,
 *	written without waiting, their replies read after LAST, the first
 *	failure deciding.  After a pipelined non-LMTP DATA's dot, later() may
 *	take the end-of-data reply over (the agent's window across jobs).
 * DIAGNOSTICS
 *	ZMX_* results; per recipient through the hooks.  A connection that
 *	must go (354 after a refused MAIL or with nothing accepted) is named
 *	in x->drop; the caller closes it.
 * SECURITY
 *	Addresses are checked (zmsmtp_addr_ok) before a command is built, so
 *	no CR/LF reaches the peer from a recipient or sender.  Replies are
 *	read by the caller's bounded session.  A BDAT chunk is at most 64 KiB
 *	of a 4 MiB bounded buffer.
 * BUGS
 *	SMTPUTF8 is not offered.
 * SEE ALSO
 *	libzmsmtp(3), smtp(8), RFC 5321, 2920, 3030, 2033, 1870, 3461
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zerr.h"
#include "mime.h"
#include "smtp_session.h"
#include "smtp_state.h"
#include "zmsmtp_xact.h"

#define ZMX_CHUNK 65536u             /* BDAT chunk size */
#define ZMX_FLUSH 65536u             /* DATA: flush when this much is queued */

enum { XR_UNSENT = 0, XR_SENT, XR_ACC };

/* zmsmtp_xact_init - zero x and set up its buffers */
void zmsmtp_xact_init(zmsmtp_xact *x)
{
	memset(x, 0, sizeof(*x));
	smtp_reply_init(&x->mailrep);
	zbuf_init(&x->why, 512);
	zbuf_init(&x->mem, 4u * 1024u * 1024u);
}

/* zmsmtp_xact_free - release x's buffers */
void zmsmtp_xact_free(zmsmtp_xact *x)
{
	smtp_reply_free(&x->mailrep);
	zbuf_free(&x->why);
	zbuf_free(&x->mem);
	free(x->st);
	x->st = NULL;
}

/* zmsmtp_xact_accepted - recipient i accepted at RCPT */
int zmsmtp_xact_accepted(const zmsmtp_xact *x, size_t i)
{
	return x->st != NULL && i < x->n && x->st[i] == XR_ACC;
}

/* ev - an event for the caller's logs */
static void ev(zmsmtp_xact *x, int e)
{
	if (x->event != NULL)
		x->event(x->arg, e);
}

/* flush - write what is queued (state S_BODY's timeout) */
static int flush(zmsmtp_xact *x)
{
	if (smtp_session_flush(x->ss, x->tmo(x->arg, S_BODY), &x->why) != Z_OK) {
		x->failed = 1;
		return -1;
	}
	return 0;
}

/* bdat_chunk - the collected chunk as "BDAT n" (not LAST) */
static int bdat_chunk(zmsmtp_xact *x)
{
	char line[64];

	snprintf(line, sizeof(line), "BDAT %zu", x->mem.len);
	if (x->cmd(x->arg, ZMX_ITEM_CHUNK, line) != Z_OK ||
	    smtp_session_queue(x->ss, x->mem.data ? x->mem.data : "", x->mem.len) != Z_OK) {
		x->failed = 1;
		zbuf_puts(&x->why, "out of memory queueing a BDAT chunk");
		return -1;
	}
	x->bytes += x->mem.len;
	x->nchunks++;
	zbuf_reset(&x->mem);
	if (x->ss->wbuf.len >= 4 * ZMX_CHUNK && flush(x) != 0)
		return -1;
	if (x->progress != NULL)
		x->progress(x->arg, x->bytes);
	return 0;
}

/* out - the body sink: DATA bytes are queued and flushed in blocks, BDAT
 * bytes collected into chunks */
static int out(void *arg, const char *p, size_t n)
{
	zmsmtp_xact *x = arg;

	if (x->failed)
		return -1;
	if (x->flags & ZMX_BDAT) {
		while (n > 0) {
			size_t room = ZMX_CHUNK - x->mem.len;
			size_t k = n < room ? n : room;
			if (zbuf_append(&x->mem, p, k) != Z_OK) {
				x->failed = 1;
				zbuf_puts(&x->why, "out of memory collecting a BDAT chunk");
				return -1;
			}
			p += k;
			n -= k;
			if (x->mem.len >= ZMX_CHUNK && n > 0 && bdat_chunk(x) != 0)
				return -1;
		}
		return 0;
	}
	if (smtp_session_queue(x->ss, p, n) != Z_OK) {
		x->failed = 1;
		zbuf_puts(&x->why, "out of memory queueing the body");
		return -1;
	}
	x->bytes += n;
	if (x->ss->wbuf.len >= ZMX_FLUSH && flush(x) != 0)
		return -1;
	if (x->progress != NULL)
		x->progress(x->arg, x->bytes);
	return 0;
}

/* body - the whole body through out(): the callback's, or the buffer in
 * wire form (CRLF, dot-stuffed for DATA, ending in CRLF) */
static int body(zmsmtp_xact *x)
{
	int dotstuff = !(x->flags & ZMX_BDAT);
	int bol = 1, rc = 0;
	size_t off = 0;
	zbuf w;

	if (x->body != NULL)
		return x->body(x->arg, dotstuff, out, x) < 0 || x->failed ? -1 : 0;
	zbuf_init(&w, 4 * ZMX_FLUSH);
	while (rc == 0 && off < x->len) {
		size_t k = x->len - off > ZMX_FLUSH ? ZMX_FLUSH : x->len - off;
		zbuf_reset(&w);
		if (mime_wire(x->buf + off, k, dotstuff, &bol, &w) != Z_OK) {
			zbuf_puts(&x->why, "cannot convert the body");
			rc = -1;
			break;
		}
		off += k;
		rc = out(x, w.data ? w.data : "", w.len);
	}
	if (rc == 0 && !bol)
		rc = out(x, "\r\n", 2);
	zbuf_free(&w);
	return rc;
}

/* envelope - MAIL and the RCPTs (pipelined: DATA too); replies read now
 * unless pipelined.  ZMX_OK to go on, or the transaction's end */
static int envelope(zmsmtp_xact *x, int *data_sent)
{
	zbuf line = ZBUF_INIT(SMTP_CMD_MAX);
	const smtp_reply *rep = NULL;
	int pipelined = (x->flags & ZMX_PIPELINE) != 0, rc = ZMX_OK;

	if (zmsmtp_mail_cmd(&line, &x->mail, x->caps) != Z_OK) {
		rc = ZMX_BADMAIL;
		goto done;
	}
	if (x->cmd(x->arg, ZMX_ITEM_MAIL, zbuf_cstr(&line)) != Z_OK) {
		rc = ZMX_BADMAIL;
		goto done;
	}
	if (!pipelined) {
		if (x->reply(x->arg, S_MAIL, ZMX_ITEM_MAIL, &rep) != Z_OK) {
			rc = ZMX_LOST_MAIL;
			goto done;
		}
		if (rep->code / 100 != 2) {
			if (smtp_reply_copy(&x->mailrep, rep) != Z_OK) {
				x->mailrep.code = rep->code;
				memcpy(x->mailrep.enh, rep->enh, sizeof(x->mailrep.enh));
			}
			rc = ZMX_MAILFAIL;
			goto done;
		}
	}
	for (size_t i = 0; i < x->n; i++) {
		const zmsmtp_xrcpt *r = &x->rcpt[i];
		if (r->addr == NULL || !zmsmtp_addr_ok(r->addr)) {
			x->nnot++;
			x->unsent(x->arg, i, Z_EPARSE);
			continue;
		}
		if (zmsmtp_rcpt_cmd(&line, r->addr, x->caps, r->notify, r->orcpt) != Z_OK ||
		    x->cmd(x->arg, (long)i, zbuf_cstr(&line)) != Z_OK) {
			x->nnot++;
			x->unsent(x->arg, i, Z_ETOOBIG);
			continue;
		}
		x->st[i] = XR_SENT;
		x->nsent++;
		if (pipelined)
			continue;
		if (x->reply(x->arg, S_RCPT, (long)i, &rep) != Z_OK) {
			rc = ZMX_LOST;
			goto done;
		}
		{
			int v = zmsmtp_rcpt_verdict(rep);
			if (v == ZMV_ACCEPT) {
				x->st[i] = XR_ACC;
				x->nacc++;
			} else {
				x->nnot++;
			}
			x->rcpt_verdict(x->arg, i, rep, v);
		}
	}
	/* RFC 2920: DATA may end the group; the server refuses it (503/554)
	 * when no RCPT was accepted */
	if (pipelined && (x->flags & ZMX_PIPE_DATA) && !(x->flags & (ZMX_BDAT | ZMX_ALL_OR_NOTHING |
								    ZMX_NO_DATA)) &&
	    x->nsent > 0 && x->cmd(x->arg, ZMX_ITEM_POST, "DATA") == Z_OK)
		*data_sent = 1;
done:
	zbuf_free(&line);
	return rc;
}

/* the group's hooks: the caller's, counting verdicts here */
static void grp_rcpt(void *arg, size_t i, const smtp_reply *rep, int verdict)
{
	zmsmtp_xact *x = arg;

	if (verdict == ZMV_ACCEPT) {
		x->st[i] = XR_ACC;
		x->nacc++;
	} else {
		x->nnot++;
	}
	x->rcpt_verdict(x->arg, i, rep, verdict);
}

/* grp_reply - one reply of the group, through the caller */
static int grp_reply(void *arg, int st, long item, const smtp_reply **rep)
{
	zmsmtp_xact *x = arg;
	return x->reply(x->arg, st, item, rep);
}

/* replies - the pipelined group's replies */
static int replies(zmsmtp_xact *x, int data_sent)
{
	zmsmtp_group g;
	int d354 = 0, gr;

	memset(&g, 0, sizeof(g));
	g.n = x->n;
	g.sent = x->st;          /* XR_SENT: a RCPT line went out */
	g.data_sent = data_sent;
	g.reply = grp_reply;
	g.rcpt = grp_rcpt;
	g.arg = x;
	gr = zmsmtp_group_replies(&g, &x->mailrep, &d354);
	if (d354)
		x->drop = "server answered DATA with 354 after refusing MAIL";
	if (gr == ZMG_LOST_MAIL)
		return ZMX_LOST_MAIL;
	if (gr == ZMG_LOST)
		return ZMX_LOST;
	if (gr == ZMG_MAILFAIL)
		return ZMX_MAILFAIL;
	return ZMX_OK;
}

/* refuse_all - result() for every accepted recipient */
static void refuse_all(zmsmtp_xact *x, const smtp_reply *rep, int at)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->st[i] == XR_ACC)
			x->result(x->arg, i, rep, at);
}

/* bdat - the body as BDAT chunks and LAST; the replies after LAST.
 * *last gets LAST's reply */
static int bdat(zmsmtp_xact *x, const smtp_reply **last)
{
	const smtp_reply *rep = NULL;
	smtp_reply bad;
	int have_bad = 0, rc = ZMX_OK;
	char line[64];

	smtp_session_state(x->ss, S_BODY);
	if (body(x) != 0 || x->failed)
		return ZMX_BODYFAIL;
	if (x->nchunks > 0)
		ev(x, ZMX_EV_CHUNKS);
	snprintf(line, sizeof(line), "BDAT %zu LAST", x->mem.len);
	if (x->cmd(x->arg, ZMX_ITEM_POST, line) != Z_OK ||
	    smtp_session_queue(x->ss, x->mem.data ? x->mem.data : "", x->mem.len) != Z_OK) {
		zbuf_puts(&x->why, "out of memory queueing the last BDAT chunk");
		return ZMX_BODYFAIL;
	}
	x->bytes += x->mem.len;
	ev(x, ZMX_EV_LAST);
	smtp_reply_init(&bad);
	for (size_t k = 0; k < x->nchunks; k++) {
		if (x->reply(x->arg, S_BDAT, ZMX_ITEM_POST, &rep) != Z_OK) {
			rc = ZMX_LOST;
			goto done;
		}
		if (rep->code / 100 != 2 && !have_bad) {
			have_bad = 1;
			if (smtp_reply_copy(&bad, rep) != Z_OK) {
				bad.code = rep->code;
				memcpy(bad.enh, rep->enh, sizeof(bad.enh));
			}
		}
	}
	if (x->reply(x->arg, S_BDAT, ZMX_ITEM_POST, &rep) != Z_OK) {
		rc = ZMX_LOST;
		goto done;
	}
	if (have_bad) {
		x->need_rset = 1;
		refuse_all(x, &bad, 1);
		rc = ZMX_NOBODY;
	}
	*last = rep;
done:
	smtp_reply_free(&bad);
	return rc;
}

/* data - DATA (unless pipelined), the body and the dot; *last gets the
 * end-of-data reply unless LMTP or later() took it */
static int data(zmsmtp_xact *x, int data_sent, const smtp_reply **last)
{
	const smtp_reply *rep = NULL;

	if (!data_sent) {
		if (x->cmd(x->arg, ZMX_ITEM_POST, "DATA") != Z_OK ||
		    x->reply(x->arg, S_DATA, ZMX_ITEM_POST, &rep) != Z_OK)
			return ZMX_LOST;
		if (rep->code != 354) {
			x->need_rset = 1;
			refuse_all(x, rep, -1);
			return ZMX_NOBODY;
		}
	}
	smtp_session_state(x->ss, S_BODY);
	if (body(x) != 0 || x->failed)
		return ZMX_BODYFAIL;
	ev(x, ZMX_EV_BODY);
	if (smtp_session_queue(x->ss, ".\r\n", 3) != Z_OK) {
		zbuf_puts(&x->why, "out of memory queueing the end of data");
		return ZMX_BODYFAIL;
	}
	ev(x, ZMX_EV_DOT);
	if (x->flags & ZMX_LMTP)
		return ZMX_OK;
	if ((x->flags & ZMX_PIPELINE) && x->later != NULL && x->later(x->arg))
		return ZMX_PENDING;
	if (x->reply(x->arg, S_DOT, ZMX_ITEM_POST, &rep) != Z_OK)
		return ZMX_LOST;
	*last = rep;
	return ZMX_OK;
}

/* zmsmtp_xact_run - one transaction */
int zmsmtp_xact_run(zmsmtp_xact *x)
{
	const smtp_reply *rep = NULL, *last = NULL;
	int data_sent = 0, rc;

	x->nacc = x->nnot = x->nsent = 0;
	x->need_rset = 0;
	x->drop = NULL;
	x->bytes = x->nchunks = 0;
	x->failed = 0;
	zbuf_reset(&x->why);
	zbuf_reset(&x->mem);
	free(x->st);
	x->st = calloc(x->n ? x->n : 1, 1);
	if (x->st == NULL) {
		zbuf_puts(&x->why, "out of memory");
		return ZMX_BODYFAIL;
	}
	rc = envelope(x, &data_sent);
	if (rc == ZMX_OK && (x->flags & ZMX_PIPELINE))
		rc = replies(x, data_sent);
	if (rc == ZMX_MAILFAIL)
		x->need_rset = 1;
	if (rc != ZMX_OK)
		return rc;
	if (data_sent) {
		if (x->reply(x->arg, S_DATA, ZMX_ITEM_POST, &rep) != Z_OK)
			return ZMX_LOST;
		if (x->nacc == 0) {
			/* expected: 503/554 "no valid recipients" */
			if (rep->code == 354)
				x->drop = "server answered DATA with 354 although no recipient was accepted";
			else
				x->need_rset = 1;
			return ZMX_NOBODY;
		}
		if (rep->code != 354) {
			x->need_rset = 1;
			refuse_all(x, rep, -1);
			return ZMX_NOBODY;
		}
	} else if (x->nacc == 0 || (x->flags & ZMX_NO_DATA) ||
		   ((x->flags & ZMX_ALL_OR_NOTHING) && x->nnot > 0)) {
		x->need_rset = 1;
		return ZMX_NOBODY;
	}
	if (x->flags & ZMX_BDAT)
		rc = bdat(x, &last);
	else
		rc = data(x, data_sent, &last);
	if (rc != ZMX_OK)
		return rc;
	if (x->flags & ZMX_LMTP) {
		/* one reply per accepted recipient, in RCPT order; with BDAT
		 * the first is LAST's */
		int first = (x->flags & ZMX_BDAT) != 0;
		for (size_t i = 0; i < x->n; i++) {
			if (x->st[i] != XR_ACC)
				continue;
			if (!first && x->reply(x->arg, S_DOT, (long)i, &last) != Z_OK)
				return ZMX_LOST;
			first = 0;
			x->result(x->arg, i, last, 1);
		}
		return ZMX_OK;
	}
	refuse_all(x, last, 1);
	return ZMX_OK;
}

/* zmsmtp_xact_rset - RSET and its reply */
int zmsmtp_xact_rset(zmsmtp_xact *x)
{
	const smtp_reply *rep = NULL;

	if (x->cmd(x->arg, ZMX_ITEM_MAIL, "RSET") != Z_OK ||
	    x->reply(x->arg, S_RSET, ZMX_ITEM_MAIL, &rep) != Z_OK)
		return Z_EIO;
	return rep->code / 100 == 2 ? Z_OK : Z_ERR;
}
