/*
 * NAME
 *	smtp_window - the dot reply left outstanding across jobs
 * SUMMARY
 *	After the dot of a pipelined SMTP transaction the reply is not
 *	awaited: the message waits in s->pend; the next reply read reads it
 *	first (pend_drain) and moves it to s->done; settle() reports it when
 *	the agent would wait.  libta's job loop waits on smtp_window_fd()
 *	and calls smtp_window_drain() and smtp_release().
 * SYNOPSIS
 *	int smtp_window_fd(ta_ctx *ctx)
 *	void smtp_window_drain(ta_ctx *ctx)
 *	void smtp_release(ta_ctx *ctx, ta_msg *m)
 *	(internal: pend_save, pend_drain, settle, pend_lost)
 * DESCRIPTION
 *	Internal to the smtp agent; the state it shares is smtp_agent.h.
 *	See smtp_xact.c for the whole protocol picture.
 * DIAGNOSTICS
 *	A connection lost with a message pending defers its recipients as
 *	"delivery status unknown".
 * SECURITY
 *	The reply is read through the bounded session like any other.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtp(8) PIPELINING, ta.h (wait_fd, drain, release), smtp_agent.h
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

/* pend_save - keep m's accepted recipients of v[0..n) waiting for the
 * dot reply; takes over common and post.  Z_OK, or Z_ENOMEM (then the
 * caller reads the reply now) */
int pend_save(smtp_sess *s, ta_msg *m, jrc *v, size_t n, zbuf *common, zbuf *post)
{
	struct smtp_pend *p;
	size_t k = 0;

	if (s->pend != NULL && pend_drain(s) != Z_OK)
		return Z_EIO;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return Z_ENOMEM;
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	if (p->v == NULL) {
		free(p);
		return Z_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].st != R_ACCEPTED)
			continue;
		p->v[k] = v[i];
		zbuf_init(&v[i].tr, v[i].tr.max);   /* the copy owns the text */
		v[i].st = R_DONE;
		k++;
	}
	p->n = k;
	p->m = m;
	p->since = zmono_ms();
	smtp_reply_init(&p->rep);
	p->common = *common;
	zbuf_init(common, common->max);
	p->post = *post;
	zbuf_init(post, post->max);
	s->pend = p;
	return Z_OK;
}

/* pend_report - report p's recipients from its reply, or (rep NULL) as
 * deferred because the connection was lost after the dot; close the
 * message if the job loop released it; free p */
static void pend_report(smtp_sess *s, struct smtp_pend *p, const smtp_reply *rep,
			const char *why)
{
	char dc[600];

	snprintf(dc, sizeof(dc), "smtp; 400 (%.500s)", why ? why : "connection lost");
	for (size_t i = 0; i < p->n; i++) {
		if (rep != NULL) {
			result_reply(s, p->m, &p->v[i], rep, &p->common, &p->post, 1);
		} else {
			zbuf t = ZBUF_INIT(16384);
			zbuf_append(&t, p->common.data ? p->common.data : "", p->common.len);
			if (p->v[i].tr.len) {
				if (t.len)
					zbuf_putc(&t, '\n');
				zbuf_append(&t, p->v[i].tr.data, p->v[i].tr.len);
			}
			if (p->post.len) {
				if (t.len)
					zbuf_putc(&t, '\n');
				zbuf_append(&t, p->post.data, p->post.len);
			}
			if (t.len)
				zbuf_putc(&t, '\n');
			zbuf_printf(&t, "the connection ended after the end of data was sent "
				    "and before its reply (%s): delivery status unknown, "
				    "will retry", why ? why : "no reason");
			rdiag(s, p->m, p->v[i].r, EX_TEMPFAIL, 60, NULL, "4.4.2", dc, zbuf_cstr(&t));
			zbuf_free(&t);
		}
		zbuf_free(&p->v[i].tr);
	}
	if (p->released) {
		ta_ctlclose(s->ctx, p->m);
		free(p->m);
	}
	smtp_reply_free(&p->rep);
	zbuf_free(&p->common);
	zbuf_free(&p->post);
	free(p->v);
	free(p);
}

/* settle - report the message whose dot reply was read */
void settle(smtp_sess *s)
{
	struct smtp_pend *p = s->done;

	if (p == NULL)
		return;
	s->done = NULL;
	pend_report(s, p, &p->rep, NULL);
}

/* pend_lost - the connection is gone: defer the unanswered message */
void pend_lost(smtp_sess *s, const char *why)
{
	struct smtp_pend *p = s->pend;

	if (p == NULL)
		return;
	s->pend = NULL;
	pend_report(s, p, NULL, why);
}

/* pend_drain - read the pending dot reply; the message moves to s->done
 * (reported by settle()).  Z_OK, or an error with the connection dropped,
 * the message deferred and s->err set */
int pend_drain(smtp_sess *s)
{
	zbuf why = ZBUF_INIT(512);
	struct smtp_pend *p = s->pend;
	int rc;

	if (p == NULL)
		return Z_OK;
	set_state(s, S_DOT);
	rc = smtp_session_flush(&s->io, tmo_ms(s, S_BODY), &why);
	if (rc == Z_OK) {
		/* the dot timeout counts from the dot, not from now */
		long long left = tmo_ms(s, S_DOT) - (zmono_ms() - p->since);
		rc = smtp_session_reply(&s->io, left < 1000 ? 1000 : (long)left, &s->rep, &why);
		if (rc == Z_EAGAIN) {
			zbuf_reset(&why);
			zbuf_printf(&why, "timeout after %ld s waiting for the reply",
				    tmo_ms(s, S_DOT) / 1000);
		}
	}
	if (rc != Z_OK) {
		io_fail_text(s, S_DOT, &why);
		drop_conn(s, zbuf_cstr(&s->err));     /* defers the pending one */
		zbuf_free(&why);
		return rc;
	}
	zbuf_free(&why);
	s->pend = NULL;
	settle(s);                              /* the one before, if any */
	tr_reply(&p->post, &s->rep);
	if (zbuf_set(&p->rep.text, s->rep.text.data ? s->rep.text.data : "",
		     s->rep.text.len) != Z_OK) {
		pend_report(s, p, &s->rep, NULL);     /* report it now */
	} else {
		p->rep.code = s->rep.code;
		p->rep.nlines = s->rep.nlines;
		p->rep.complete = s->rep.complete;
		memcpy(p->rep.enh, s->rep.enh, sizeof(p->rep.enh));
		s->done = p;
	}
	if (s->rep.code == 421) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "server said 421 (closing) after the end of data (%s [%s])",
			    s->mxname, s->ip);
		drop_conn(s, zbuf_cstr(&s->err));
		return Z_EIO;
	}
	return Z_OK;
}

/* smtp_window_fd - flush what is queued; the socket to wait on while a
 * dot reply is outstanding, else -1 (a reply already buffered is read
 * at once) */
int smtp_window_fd(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	zbuf why = ZBUF_INIT(512);

	if (s == NULL)
		return -1;
	if (s->pend == NULL) {
		settle(s);
		return -1;
	}
	if (smtp_session_flush(&s->io, tmo_ms(s, S_BODY), &why) != Z_OK) {
		io_fail_text(s, S_BODY, &why);
		drop_conn(s, zbuf_cstr(&s->err));
		zbuf_free(&why);
		return -1;
	}
	zbuf_free(&why);
	settle(s);
	if (smtp_session_buffered(&s->io)) {
		(void)pend_drain(s);
		settle(s);
		return -1;
	}
	set_state(s, S_DOT);     /* -s: "DATA-dot wait" while we wait */
	return s->io.fd;
}

/* smtp_window_drain - read the outstanding dot reply now */
void smtp_window_drain(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	if (s == NULL)
		return;
	if (s->pend != NULL)
		(void)pend_drain(s);
	settle(s);
}

/* smtp_release - the job loop is done with m (malloc'd): close it now,
 * or when its dot reply has been read */
void smtp_release(ta_ctx *ctx, ta_msg *m)
{
	smtp_sess *s = ctx->agent;
	if (s != NULL && s->pend != NULL && s->pend->m == m) {
		s->pend->released = 1;
		return;
	}
	if (s != NULL && s->done != NULL && s->done->m == m) {
		s->done->released = 1;
		return;
	}
	ta_ctlclose(ctx, m);
	free(m);
}
