/*
 * NAME
 *	smtp_deliver - the smtp agent's job callbacks
 * SUMMARY
 *	Recipients sharing sender and header block go into one transaction,
 *	at most the peer's recipient limit at a time; 452s are retried in a
 *	follow-up transaction; a connection lost before any reply of a
 *	transaction is reopened (at most twice a job).  Idle connections get
 *	NOOP; a new host closes the old connection.
 * SYNOPSIS
 *	int smtp_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
 *	void smtp_newhost(ta_ctx *ctx, const char *host)
 *	void smtp_idle(ta_ctx *ctx), smtp_idlecmd(ta_ctx *ctx), smtp_finish(ta_ctx *ctx)
 *	int smtp_select_mx(ta_ctx *ctx, const ctl_rcpt *r, zspan host, void *arg)
 * DESCRIPTION
 *	Internal to the smtp agent; the state it shares is smtp_agent.h.
 *	See smtp_xact.c for the whole protocol picture.
 * DIAGNOSTICS
 *	A connection failure reports the remembered cf_* result to every
 *	recipient still open.
 * SECURITY
 *	See smtp_result.c and smtp_xact.c.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtp(8), ta.h, smtp_agent.h
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

/* smtp_deliver - job callback */
int smtp_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	smtp_sess *s = ctx->agent;
	const char *dest;
	jrc *v = NULL;
	size_t nv = 0;
	int conn_tried = 0, conn_failed = 0;

	s->ctx = ctx;
	dest = s->o->forcedest ? s->o->forcedest : (host && *host ? host : ctx->fixed_host);
	smtp_log('#', "jobspec: %s%s%s", m->relpath, host && *host ? "\t" : "", host ? host : "");
	smtp_log('#', "%s: %.*s", m->spoolid, (int)m->ctl.logid.n, m->ctl.logid.p);
	if (dest == NULL || *dest == '\0') {
		cf_set(s, EX_TEMPFAIL, 0, "4.3.5", "smtp needs a defined host (argument or job line)");
		ta_say(ctx, "smtp needs defined host!");
		fail_all_cf(s, m);
		return Z_OK;
	}
	if (s->connected && strcasecmp(s->host, dest) != 0)
		quit_close(s);
	if (s->connected && s->pend == NULL && smtp_session_readable(&s->io, 0)) {
		/* EOF or an unsolicited reply (421) on the idle connection */
		drop_conn(s, "peer closed or spoke on the idle connection");
	}
	v = calloc(m->nrcpts ? m->nrcpts : 1, sizeof(*v));
	if (v == NULL) {
		cf_set(s, EX_TEMPFAIL, 60, "4.3.0", "out of memory");
		fail_all_cf(s, m);
		return Z_OK;
	}
	for (size_t i = 0; i < m->nrcpts; i++) {
		if (!m->rcpts[i].locked || m->rcpts[i].reported)
			continue;
		v[nv].r = &m->rcpts[i];
		v[nv].st = R_OPEN;
		zbuf_init(&v[nv].tr, 8192);
		nv++;
	}
	/* groups: same sender and header block */
	for (;;) {
		size_t first = nv, gn = 0;
		jrc *g;
		for (size_t i = 0; i < nv; i++)
			if (v[i].st == R_OPEN || v[i].st == R_RETRY) {
				first = i;
				break;
			}
		if (first == nv)
			break;
		g = calloc(nv, sizeof(*g));
		if (g == NULL)
			break;
		for (size_t i = first; i < nv; i++) {
			if ((v[i].st == R_OPEN || v[i].st == R_RETRY) &&
			    v[i].r->r->sender == v[first].r->r->sender &&
			    v[i].r->r->hdr_off == v[first].r->r->hdr_off) {
				g[gn] = v[i];
				g[gn].st = R_OPEN;
				v[i].st = R_DONE;     /* handled through g */
				gn++;
			}
		}
		/* send the group in chunks of the recipient limit; 452s retried */
		for (int round = 0; gn > 0; round++) {
			size_t lim, cn = 0, progress = 0;
			jrc *c;
			if (!s->connected) {
				if (conn_failed)
					break;
				conn_tried++;
				if (conn_tried > 2 || open_conn(s, dest) != Z_OK) {
					if (conn_tried > 2)
						cf_set(s, EX_TEMPFAIL, 60, "4.4.2",
						       "connection lost repeatedly during this job");
					conn_failed = 1;
					break;
				}
			}
			lim = s->caps.rcptlimit ? s->caps.rcptlimit : SMTP_RCPTLIMIT_DEFAULT;
			c = g;
			cn = gn < lim ? gn : lim;
			if (transact(s, m, c, cn) == 1) {
				/* lost before any reply of ours: reconnect, again */
				zbuf none = ZBUF_INIT(16);
				if (round < 3)
					continue;
				fail_conn(s, m, c, cn, &none);
			}
			for (size_t i = 0; i < cn; i++)
				if (c[i].st == R_DONE)
					progress++;
			/* compact: keep R_RETRY of this chunk and everything after it */
			{
				size_t k = 0;
				for (size_t i = 0; i < gn; i++) {
					if (i < cn && c[i].st != R_RETRY) {
						zbuf_free(&g[i].tr);
						continue;
					}
					g[k++] = g[i];
				}
				gn = k;
			}
			if (gn > 0 && progress == 0) {
				/* nothing moved: every remaining one got 452 */
				for (size_t i = 0; i < gn && i < cn; i++) {
					zbuf t = ZBUF_INIT(8192);
					char dc[300];
					zbuf_append(&t, g[i].tr.data ? g[i].tr.data : "", g[i].tr.len);
					diagcode(&s->rep, dc, sizeof(dc));
					rdiag(s, m, g[i].r, EX_TEMPFAIL, 0, NULL, "4.5.3", dc,
					      zbuf_cstr(&t));
					zbuf_free(&t);
					g[i].st = R_DONE;
				}
				{
					size_t k = 0;
					for (size_t i = 0; i < gn; i++) {
						if (g[i].st == R_DONE) {
							zbuf_free(&g[i].tr);
							continue;
						}
						g[k++] = g[i];
					}
					gn = k;
				}
			}
			if (round > 100000)
				break;
		}
		for (size_t i = 0; i < gn; i++)
			zbuf_free(&g[i].tr);
		free(g);
		if (conn_failed)
			break;
	}
	if (conn_failed)
		fail_all_cf(s, m);
	for (size_t i = 0; i < nv; i++)
		if (v[i].tr.data != NULL && v[i].st != R_DONE)
			zbuf_free(&v[i].tr);
	free(v);
	if (s->o->one_per_conn)
		quit_close(s);
	if (s->pend == NULL)
		smtp_title(s->o->progress, "#hungry");
	return Z_OK;
}

/* smtp_newhost - a job for another host: close the old connection */
void smtp_newhost(ta_ctx *ctx, const char *host)
{
	smtp_sess *s = ctx->agent;
	if (s->o->forcedest != NULL)
		return;
	if (s->connected && host != NULL && strcasecmp(host, s->host) != 0) {
		smtp_title(s->o->progress, "NewDomain: %s", host);
		quit_close(s);
	}
}

/* smtp_idle - keep the connection alive with NOOP */
void smtp_idle(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	if (!s->connected)
		return;
	smtp_title(s->o->progress, "#idle NOOP");
	send_cmd(s, NULL, 0, "NOOP");
	if (wait_reply(s, S_NOOP, NULL) != Z_OK || s->rep.code / 100 != 2)
		quit_close(s);
}

/* smtp_idlecmd - "#idle" from the scheduler */
void smtp_idlecmd(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	smtp_title(s->o->progress, "#idle");
}

/* smtp_finish - end of input */
void smtp_finish(ta_ctx *ctx)
{
	smtp_sess *s = ctx->agent;
	quit_close(s);
}

/* smtp_select_mx - -e: take recipients whose domain has our MX */
int smtp_select_mx(ta_ctx *ctx, const ctl_rcpt *r, zspan host, void *arg)
{
	smtp_sess *s = ctx->agent;
	char dom[256];
	(void)host;
	(void)arg;
	if (s == NULL || !s->connected || s->dns == NULL || s->mxname[0] == '\0')
		return 0;
	if (zspan_copy(r->quad.host, dom, sizeof(dom)) != Z_OK)
		return 0;
	return smtp_dns_has_mx(s->dns, dom, s->mxname) == 1;
}
