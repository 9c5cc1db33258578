/*
 * NAME
 *	mqsrv_list.c - the MAILQ v2 server's listings
 * SUMMARY
 *	SHOW QUEUE THREADS, SHOW QUEUE SHORT, SHOW THREAD and SHOW COUNTERS,
 *	as text or JSON, made from the in-memory model a piece at a time;
 *	and the sender and recipient addresses kept in the model for them.
 * SYNOPSIS
 *	#include "mqsrv.h"
 *	void mqsrv_file_note(sfile *f, const ctl_file *cf);
 *	#include "mqsrv_int.h"
 *	int mq_lst_start_files(mqcli *c);
 *	int mq_lst_start_thread(mqcli *c, const thread *t);
 *	int mq_lst_start_threads(mqcli *c);
 *	void mq_produce(mqcli *c);
 *	void mq_lst_end(mqcli *c);
 *	void mq_show_counters(zbuf *o, int json);
 *	void mq_clean_append(zbuf *o, const char *s, size_t n);
 * DESCRIPTION
 *	A listing takes a snapshot of the keys it will show (file inode
 *	numbers, thread keys: mq_lst_start_*) and is produced piecewise:
 *	mq_produce adds lines only while the client's output buffer is
 *	below MQ_OUT_LOW, so the buffer never holds more than MQ_OUT_MAX
 *	and a slow or stalled reader costs nothing but its snapshot.
 *	Files or threads that are gone when their turn comes are skipped;
 *	a message paused in the middle resumes at its next recipient
 *	(c->skip).  The last piece ends with MQ2_END and drops the
 *	snapshot.  Listings come from the model only: sender, size and
 *	recipient addresses are kept in it by mqsrv_file_note, called when
 *	a control file is loaded, so no control file is read to answer.
 * DIAGNOSTICS
 *	mq_lst_start_* return Z_ENOMEM when the snapshot cannot be had;
 *	nothing else fails (a line that does not fit is cut or counted as
 *	omitted).
 * SECURITY
 *	Addresses and diagnostics come from messages: they are escaped in
 *	JSON strings or cleaned of control bytes (mq_clean_append), and
 *	every line is bounded by MQ2_REPLY_LINE_MAX.  Lines starting with
 *	'.' are dot-stuffed.
 * BUGS
 *	A message's recipient lines are resumed by count when its listing
 *	is paused in the middle of it; a recipient finishing in between may
 *	shift that by one.
 * SEE ALSO
 *	mqsrv.c, mqsrv_int.h, mq2proto.h, mailq(1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqsrv_int.h"
#include "spool.h"
#include "zerr.h"
#include "zutil.h"

/* mq_lst_end - drop a listing's snapshot */
void mq_lst_end(mqcli *c)
{
	free(c->inos);
	free(c->tks);
	c->inos = NULL;
	c->tks = NULL;
	c->lst = LST_NONE;
	c->pos = c->n = 0;
	c->skip = 0;
	c->msgs = 0;
}

/* json_str - append s as a JSON string */
static void json_str(zbuf *o, const char *s, size_t n)
{
	zbuf_putc(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			zbuf_putc(o, '\\');
			zbuf_putc(o, ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			zbuf_printf(o, "\\u%04x", ch);
		} else {
			zbuf_putc(o, ch);
		}
	}
	zbuf_putc(o, '"');
}

/* mq_clean_append - text without control bytes */
void mq_clean_append(zbuf *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		zbuf_putc(o, (ch < 0x20 || ch == 0x7f) ? ' ' : ch);
	}
}

/* data_line - append one dot-stuffed data line */
static void data_line(zbuf *o, const zbuf *line)
{
	if (line->len && line->data[0] == '.')
		zbuf_putc(o, '.');
	zbuf_append(o, line->data ? line->data : "", line->len);
	zbuf_putc(o, '\n');
}

/* thread_state - S= field */
static const char *thread_state(const thread *t)
{
	for (agent *a = mqsrv_q->pool->agents; a; a = a->next)
		if (a->thr == t) {
			switch (a->state) {
			case AS_LARVA: return "LARVA";
			case AS_STUFFING: return "STUFF";
			case AS_FINISHING: return "FINISH";
			default: return "IDLE";
			}
		}
	return "IDLE";
}

/* oldest_age - age of the oldest message in the thread */
static long oldest_age(const thread *t, time_t now)
{
	time_t old = now;
	for (int l = 0; l < 2; l++)
		for (const vertex *v = l ? t->done.head : t->pending.head; v; v = v->tnext)
			if (v->file->arrival < old)
				old = v->file->arrival;
	return (long)(now - old);
}

/* thread_line - one SHOW QUEUE THREADS line; adds the thread's
 * recipients to *msgs */
static void thread_line(zbuf *o, const thread *t, int json, unsigned long *msgs)
{
	time_t now = sched_now();
	zbuf l = ZBUF_INIT(MQ2_REPLY_LINE_MAX - 2);
	unsigned long attempts = t->rs.attempts;
	long w = t->rs.wakeup == RETRY_NEVER ? -1 : (long)(t->rs.wakeup - now);
	if (w < 0 && t->rs.wakeup != RETRY_NEVER)
		w = 0;
	*msgs += t->pending.n + t->done.n;
	if (json) {
		zbuf_puts(&l, "{\"channel\":");
		json_str(&l, t->channel->s, strlen(t->channel->s));
		zbuf_puts(&l, ",\"host\":");
		json_str(&l, t->host->s, strlen(t->host->s));
		zbuf_printf(&l, ",\"rcpts\":%lu,\"attempts\":%lu,\"procs\":[", t->nrcpt, attempts);
		int first = 1;
		for (agent *a = mqsrv_q->pool->agents; a; a = a->next)
			if (a->thr == t) {
				zbuf_printf(&l, "%s%ld", first ? "" : ",", (long)a->pid);
				first = 0;
			}
		zbuf_printf(&l, "],\"state\":\"%s\",\"unfed\":%lu,\"age\":%ld,\"wakeup_in\":%ld,\"pending\":",
			    thread_state(t), t->pending.n, oldest_age(t, now), w);
		const char *why = t->why ? t->why : "";
		json_str(&l, why, strlen(why));
		zbuf_putc(&l, '}');
	} else {
		zbuf_printf(&l, "%s/%s/%d R=%lu A=%lu P={", t->channel->s, t->host->s,
			    (t->clause->flags & SCF_WITHHOST) ? 1 : 0, t->nrcpt, attempts);
		int first = 1;
		zbuf ha = ZBUF_INIT(4096), fa = ZBUF_INIT(4096);
		for (agent *a = mqsrv_q->pool->agents; a; a = a->next)
			if (a->thr == t) {
				zbuf_printf(&l, "%s%ld", first ? "" : ",", (long)a->pid);
				zbuf_printf(&ha, "%s%ld", first ? "" : ",", (long)(now - a->last_hungry));
				zbuf_printf(&fa, "%s%ld", first ? "" : ",", (long)(now - a->last_feed));
				first = 0;
			}
		zbuf_printf(&l, "} HA={%s}s FA={%s}s OF=%d S=%s UF=%lu QA=%lds W=%lds",
			    ha.data ? zbuf_cstr(&ha) : "", fa.data ? zbuf_cstr(&fa) : "", 0,
			    thread_state(t), t->pending.n, oldest_age(t, now), w);
		zbuf_free(&ha);
		zbuf_free(&fa);
		if (t->why)
			zbuf_printf(&l, " %s", t->why);
	}
	data_line(o, &l);
	zbuf_free(&l);
}

/* threads_summary - the lines after the last SHOW QUEUE THREADS line */
static void threads_summary(zbuf *o, int json, unsigned long msgs)
{
	time_t now = sched_now();
	zbuf l = ZBUF_INIT(4096);
	if (json)
		zbuf_printf(&l, "{\"summary\":{\"threads\":%zu,\"msgs\":%lu,\"procs\":%u,\"idle\":%u,\"uptime\":%ld}}",
			    mqsrv_q->m->nthr, msgs, mqsrv_q->pool->nagents, mqsrv_q->pool->nidle, (long)(now - mqsrv_q->started));
	else
		zbuf_printf(&l, "Threads: %zu Msgs: %lu Procs: %u Idle: %u Plim: %u Flim: %d Tlim: %zu",
			    mqsrv_q->m->nthr, msgs, mqsrv_q->pool->nagents, mqsrv_q->pool->nidle, mqsrv_q->pool->maxkids, mqsrv_q->pool->fork_rate, mqsrv_q->pool->nwait);
	data_line(o, &l);
	if (!json) {
		zbuf_reset(&l);
		zbuf_printf(&l, "Kids: %u Idle: %u Msgs: %zu Thrds: %zu Rcpnts: %lu Uptime: %lds",
			    mqsrv_q->pool->nagents, mqsrv_q->pool->nidle, mqsrv_q->m->nfile, mqsrv_q->m->nthr, mqsrv_q->m->nrcpt, (long)(now - mqsrv_q->started));
		data_line(o, &l);
	}
	zbuf_free(&l);
}

/* mq_show_counters - SHOW COUNTERS */
void mq_show_counters(zbuf *o, int json)
{
	zbuf l = ZBUF_INIT(8192);
	struct { const char *n; unsigned long v; } c[] = {
		{ "uptime", (unsigned long)(sched_now() - mqsrv_q->started) },
		{ "kids", mqsrv_q->pool->nagents }, { "idle", mqsrv_q->pool->nidle }, { "msgs", mqsrv_q->m->nfile },
		{ "threads", mqsrv_q->m->nthr }, { "rcpts", mqsrv_q->m->nrcpt }, { "forks", mqsrv_q->st->c_forks },
		{ "delivered", mqsrv_q->st->c_delivered }, { "failed", mqsrv_q->st->c_failed },
		{ "deferred", mqsrv_q->st->c_deferred }, { "expired", mqsrv_q->st->c_expired },
		{ "reports", mqsrv_q->st->c_reports }, { "dsns", mqsrv_q->st->c_dsn },
		{ "quarantined", mqsrv_q->st->c_quarantined },
	};
	size_t n = sizeof c / sizeof c[0];
	if (json) {
		zbuf_putc(&l, '{');
		for (size_t i = 0; i < n; i++)
			zbuf_printf(&l, "%s\"%s\":%lu", i ? "," : "", c[i].n, c[i].v);
		zbuf_putc(&l, '}');
		data_line(o, &l);
	} else {
		for (size_t i = 0; i < n; i++) {
			zbuf_reset(&l);
			zbuf_printf(&l, "%s %lu", c[i].n, c[i].v);
			data_line(o, &l);
		}
	}
	zbuf_free(&l);
}

/* str_next - the string at *p in f->strs ("?" past the end) and advance
 * *p to the next one */
static const char *str_next(const sfile *f, size_t *p)
{
	if (f->strs == NULL || *p >= f->strslen)
		return "?";
	const char *s = f->strs + *p;
	*p += strlen(s) + 1;
	return s;
}

/* file_lines - per message lines for SHOW QUEUE SHORT / SHOW THREAD from
 * the model.  The first *skip recipients were sent before; lines are made
 * until o holds MQ_OUT_LOW bytes (not inside a SHOW QUEUE SHORT JSON
 * object, which is one line).  1 = the file is done (*skip = 0), 0 =
 * paused (*skip = recipients sent so far) */
static int file_lines(zbuf *o, sfile *f, const thread *only, int json, int threadfmt, uint32_t *skip)
{
	char rel[32], id[SPOOL_ID_MAX];
	file_relpath(f, rel, sizeof rel);
	file_spoolid(f, id, sizeof id);
	time_t now = sched_now();
	zbuf l = ZBUF_INIT(MQ2_REPLY_LINE_MAX - 2);
	int pausable = threadfmt || !json, done = 1;
	uint32_t k = 0;
	unsigned long omitted = 0;
	if (!threadfmt && (json || *skip == 0)) {
		char date[64] = "";
		ztime_rfc5322(f->arrival, date, sizeof date);
		size_t sp = 0;
		const char *snd = str_next(f, &sp);
		if (json) {
			zbuf_puts(&l, "{\"spoolid\":");
			json_str(&l, id, strlen(id));
			zbuf_printf(&l, ",\"msgid\":\"%lu\",\"arrival\":%ld,\"size\":%zu,\"sender\":",
				    f->ino, (long)f->arrival, f->size);
			json_str(&l, snd, strlen(snd));
			zbuf_puts(&l, ",\"rcpts\":[");
		} else {
			zbuf_printf(&l, "%s %lu %zu %s ", id, f->ino, f->size, date);
			mq_clean_append(&l, snd, strlen(snd));
			data_line(o, &l);
		}
	}
	int first = 1;
	size_t ap = 0;
	(void)str_next(f, &ap);         /* the sender */
	for (vertex *v = f->vertices; v && done; v = v->fnext) {
		for (uint32_t i = 0; i < v->nrcpt; i++) {
			srcpt *r = &v->r[i];
			const char *addr = str_next(f, &ap);
			if ((only && v->thr != only) || r->state == RS_DONE)
				continue;
			if (pausable && k < *skip) {
				k++;
				continue;
			}
			if (pausable && k > *skip && o->len >= MQ_OUT_LOW) {
				done = 0;
				break;
			}
			k++;
			size_t alen = strlen(addr);
			const thread *t = v->thr;
			long w = t && t->rs.wakeup != RETRY_NEVER ? (long)(t->rs.wakeup - now) : -1;
			const char *diag = v->lastdiag ? strchr(v->lastdiag, '\t') : NULL;
			diag = diag ? diag + 1 : "";
			time_t exp = t ? retry_expiry_time(t->clause, f->arrival) : 0;
			if (json) {
				if (threadfmt) {
					zbuf_reset(&l);
					zbuf_puts(&l, "{\"path\":");
					json_str(&l, rel, strlen(rel));
					zbuf_puts(&l, ",\"addr\":");
					json_str(&l, addr, alen);
					zbuf_printf(&l, ",\"offset\":%u,\"expiry\":%ld,\"wakeup\":%ld,\"lastfeed\":%ld,\"attempts\":%u,\"diag\":",
						    r->off, (long)exp, t ? (long)t->rs.wakeup : 0L,
						    (long)v->lastfeed, r->attempts);
					json_str(&l, diag, strlen(diag));
					zbuf_putc(&l, '}');
					data_line(o, &l);
				} else {
					/* one object per recipient; those that would make the
					 * line too long are only counted ("omitted") */
					zbuf ro = ZBUF_INIT(MQ2_REPLY_LINE_MAX);
					zbuf_puts(&ro, first ? "{" : ",{");
					zbuf_puts(&ro, "\"addr\":");
					json_str(&ro, addr, alen);
					zbuf_puts(&ro, ",\"channel\":");
					json_str(&ro, t ? t->channel->s : "", t ? strlen(t->channel->s) : 0);
					zbuf_puts(&ro, ",\"host\":");
					json_str(&ro, t ? t->host->s : "", t ? strlen(t->host->s) : 0);
					zbuf_printf(&ro, ",\"attempts\":%u,\"wakeup\":%ld,\"diag\":", r->attempts,
						    t ? (long)t->rs.wakeup : 0L);
					json_str(&ro, diag, strlen(diag));
					zbuf_putc(&ro, '}');
					if (omitted == 0 && l.len + ro.len + 64 <= l.max)
						zbuf_append(&l, ro.data, ro.len);
					else
						omitted++;
					zbuf_free(&ro);
				}
			} else {
				zbuf_reset(&l);
				if (threadfmt) {
					zbuf_printf(&l, "%s\t%d\t", rel, 0);
					mq_clean_append(&l, addr, alen);
					zbuf_printf(&l, "\t%u\t%ld\t%ld\t%ld\t%u\t%s\t", r->off, (long)exp,
						    t ? (long)t->rs.wakeup : 0L, (long)v->lastfeed,
						    r->attempts, t && t->why ? t->why : "retry");
					mq_clean_append(&l, diag, strlen(diag));
				} else {
					zbuf_printf(&l, "\t%s/%s ", t ? t->channel->s : "-", t ? t->host->s : "-");
					mq_clean_append(&l, addr, alen);
					zbuf_printf(&l, " A=%u W=%ld", r->attempts, w);
					if (*diag) {
						zbuf_putc(&l, ' ');
						mq_clean_append(&l, diag, strlen(diag));
					}
				}
				data_line(o, &l);
			}
			first = 0;
		}
	}
	if (json && !threadfmt) {
		if (omitted)
			zbuf_printf(&l, "],\"omitted\":%lu}", omitted);
		else
			zbuf_puts(&l, "]}");
		data_line(o, &l);
	}
	zbuf_free(&l);
	*skip = done ? 0 : k;
	return done;
}

/* note_str - append n bytes (a NUL inside becomes a blank) and a NUL */
static void note_str(zbuf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		zbuf_putc(b, p[i] ? p[i] : ' ');
	zbuf_putc(b, '\0');
}

/* mqsrv_file_note - see mqsrv.h: sender, size and recipient addresses
 * into the model */
void mqsrv_file_note(sfile *f, const ctl_file *cf)
{
	zbuf b = ZBUF_INIT(UINT32_MAX);
	zspan snd = cf->nsenders ? cf->senders[0].quad.user : zspan_from("");
	f->size = cf->len;
	note_str(&b, snd.p, snd.n);
	for (vertex *v = f->vertices; v; v = v->fnext)
		for (uint32_t i = 0; i < v->nrcpt; i++) {
			const ctl_rcpt *cr = ctl_find_rcpt(cf, v->r[i].off);
			if (cr != NULL)
				note_str(&b, cr->quad.user.p, cr->quad.user.n);
			else
				note_str(&b, "?", 1);
		}
	free(f->strs);
	f->strs = NULL;
	f->strslen = 0;
	if (b.len > 0 && (f->strs = malloc(b.len)) != NULL) {
		memcpy(f->strs, b.data, b.len);
		f->strs[b.len - 1] = '\0';   /* every string ends inside the buffer */
		f->strslen = b.len;
	}
	zbuf_free(&b);
}

/* mq_produce - the next piece of the client's listing, up to MQ_OUT_LOW
 * bytes in its output buffer; ends the listing with "." when done */
void mq_produce(mqcli *c)
{
	int over = 0;
	if (c->lst == LST_SHORT) {
		while (c->pos < c->n && c->out.len < MQ_OUT_LOW) {
			sfile *f = model_file_find(mqsrv_q->m, c->inos[c->pos]);
			if (f == NULL || f->npending == 0 ||
			    file_lines(&c->out, f, NULL, c->json, 0, &c->skip)) {
				c->pos++;
				c->skip = 0;
			}
		}
		over = c->pos >= c->n;
	} else if (c->lst == LST_THREAD) {
		thread *t = model_thread_lookup(mqsrv_q->m, c->thr.c, c->thr.ch, c->thr.host);
		while (t && c->pos < c->n && c->out.len < MQ_OUT_LOW) {
			sfile *f = model_file_find(mqsrv_q->m, c->inos[c->pos]);
			if (f == NULL || file_lines(&c->out, f, t, c->json, 1, &c->skip)) {
				c->pos++;
				c->skip = 0;
			}
		}
		over = t == NULL || c->pos >= c->n;
	} else if (c->lst == LST_THREADS) {
		while (c->pos < c->n && c->out.len < MQ_OUT_LOW) {
			const tkey *k = &c->tks[c->pos++];
			const thread *t = model_thread_lookup(mqsrv_q->m, k->c, k->ch, k->host);
			if (t != NULL)
				thread_line(&c->out, t, c->json, &c->msgs);
		}
		if (c->pos >= c->n) {
			threads_summary(&c->out, c->json, c->msgs);
			over = 1;
		}
	}
	if (over) {
		zbuf_puts(&c->out, MQ2_END "\n");
		mq_lst_end(c);
	}
}

/* mq_lst_start_files - snapshot of every queued file's inode number */
int mq_lst_start_files(mqcli *c)
{
	size_t n = 0;
	if (mqsrv_q->m->nfile > 0 && (c->inos = calloc(mqsrv_q->m->nfile, sizeof *c->inos)) == NULL)
		return Z_ENOMEM;
	for (size_t i = 0; i < mqsrv_q->m->fcap && n < mqsrv_q->m->nfile; i++)
		for (const sfile *f = mqsrv_q->m->ftab[i]; f && n < mqsrv_q->m->nfile; f = f->hnext)
			if (f->npending)
				c->inos[n++] = f->ino;
	c->n = n;
	c->lst = LST_SHORT;
	return Z_OK;
}

/* mq_lst_start_thread - snapshot of the files of one thread */
int mq_lst_start_thread(mqcli *c, const thread *t)
{
	size_t n = 0, max = t->pending.n + t->done.n;
	if (max > 0 && (c->inos = calloc(max, sizeof *c->inos)) == NULL)
		return Z_ENOMEM;
	for (int l = 0; l < 2; l++)
		for (const vertex *v = l ? t->done.head : t->pending.head; v && n < max; v = v->tnext)
			c->inos[n++] = v->file->ino;
	c->n = n;
	c->thr.c = t->clause;
	c->thr.ch = t->channel;
	c->thr.host = t->host;
	c->lst = LST_THREAD;
	return Z_OK;
}

/* mq_lst_start_threads - snapshot of every thread's key */
int mq_lst_start_threads(mqcli *c)
{
	size_t n = 0;
	if (mqsrv_q->m->nthr > 0 && (c->tks = calloc(mqsrv_q->m->nthr, sizeof *c->tks)) == NULL)
		return Z_ENOMEM;
	for (const thread *t = mqsrv_q->m->threads; t && n < mqsrv_q->m->nthr; t = t->all_next) {
		c->tks[n].c = t->clause;
		c->tks[n].ch = t->channel;
		c->tks[n].host = t->host;
		n++;
	}
	c->n = n;
	c->msgs = 0;
	c->lst = LST_THREADS;
	return Z_OK;
}

