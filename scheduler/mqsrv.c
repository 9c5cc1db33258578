/*
 * NAME
 *	mqsrv.c - the scheduler's MAILQ v2 server
 * SUMMARY
 *	Listens on the UNIX socket $POSTOFFICE/.mailq.sock (mode 0660; access
 *	by file permission, no AUTH) and answers the v2 commands of
 *	mq2proto.h: SHOW QUEUE THREADS|SHORT, SHOW THREAD, SHOW COUNTERS,
 *	ETRN, KILL MSG, QUIT, each listing optionally as JSON.
 * SYNOPSIS
 *	int mqsrv_open(const char *postoffice, const char *spec, zbuf *err);
 *	void mqsrv_close(void);
 *	void mqsrv_tick(void);
 * DESCRIPTION
 *	spec (PARAMmailqsock): NULL = the default socket, "UNIX:/path" or
 *	"/path" = another socket path.  "TCP:..." is refused with a warning
 *	(TCP needs the AUTH exchange, not built in this version) and the
 *	UNIX socket is used: the scheduler never listens on a network
 *	address by default.  Commands are read with a bounded line reader
 *	(MQ2_LINE_MAX); answers are written with a send timeout so a stuck
 *	client cannot stop the scheduler for long.  At most MQ_CLIENTS
 *	clients at a time; idle ones are closed after PARAMmailq-timeout.
 * DIAGNOSTICS
 *	Refused commands get MQ2_UNKNOWN / MQ2_ERR lines; listener errors
 *	are logged.
 * SECURITY
 *	Client input is untrusted: bounded lines, words copied with limits,
 *	output strings escaped (JSON) or cleaned of control bytes.
 * BUGS
 *	No TCP listener (see above).  SHOW QUEUE SHORT re-reads every control
 *	file, which is slow for very large queues.
 * SEE ALSO
 *	mailq(1), scheduler(8), mq2proto.h
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agents.h"
#include "complete.h"
#include "ctlfile.h"
#include "mq2proto.h"
#include "mqsrv.h"
#include "spool.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

#define MQ_CLIENTS 32

typedef struct mqcli {
	int fd;
	zline in;
	time_t last;
} mqcli;

static int lfd = -1;
static char sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static mqcli clients[MQ_CLIENTS];

/* cli_close - drop a client */
static void cli_close(mqcli *c)
{
	if (c->fd < 0)
		return;
	zev_io_del(S.loop, c->fd);
	close(c->fd);
	c->fd = -1;
	zline_free(&c->in);
}

/* cli_send - write everything (blocking with a timeout) */
static int cli_send(mqcli *c, const char *p, size_t n)
{
	if (zwrite_all(c->fd, p, n) != Z_OK) {
		cli_close(c);
		return Z_EIO;
	}
	return Z_OK;
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

/* clean_append - text without control bytes */
static void clean_append(zbuf *o, const char *s, size_t n)
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
	for (agent *a = S.agents; a; a = a->next)
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

/* show_threads - SHOW QUEUE THREADS */
static void show_threads(zbuf *o, int json)
{
	time_t now = sched_now();
	zbuf l = ZBUF_INIT(MQ2_REPLY_LINE_MAX - 2);
	unsigned long msgs = 0;
	for (thread *t = S.m.threads; t; t = t->all_next) {
		zbuf_reset(&l);
		unsigned long attempts = t->rs.attempts;
		long w = t->rs.wakeup == RETRY_NEVER ? -1 : (long)(t->rs.wakeup - now);
		if (w < 0 && t->rs.wakeup != RETRY_NEVER)
			w = 0;
		unsigned long r = t->pending.n + t->done.n;
		msgs += r;
		if (json) {
			zbuf_puts(&l, "{\"channel\":");
			json_str(&l, t->channel->s, strlen(t->channel->s));
			zbuf_puts(&l, ",\"host\":");
			json_str(&l, t->host->s, strlen(t->host->s));
			zbuf_printf(&l, ",\"rcpts\":%lu,\"attempts\":%lu,\"procs\":[", t->nrcpt, attempts);
			int first = 1;
			for (agent *a = S.agents; a; a = a->next)
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
			for (agent *a = S.agents; a; a = a->next)
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
	}
	zbuf_reset(&l);
	if (json)
		zbuf_printf(&l, "{\"summary\":{\"threads\":%zu,\"msgs\":%lu,\"procs\":%u,\"idle\":%u,\"uptime\":%ld}}",
			    S.m.nthr, msgs, S.nagents, S.nidle, (long)(now - S.started));
	else
		zbuf_printf(&l, "Threads: %zu Msgs: %lu Procs: %u Idle: %u Plim: %u Flim: %d Tlim: %zu",
			    S.m.nthr, msgs, S.nagents, S.nidle, S.maxkids, S.fork_rate, S.nwait);
	data_line(o, &l);
	if (!json) {
		zbuf_reset(&l);
		zbuf_printf(&l, "Kids: %u Idle: %u Msgs: %zu Thrds: %zu Rcpnts: %lu Uptime: %lds",
			    S.nagents, S.nidle, S.m.nfile, S.m.nthr, S.m.nrcpt, (long)(now - S.started));
		data_line(o, &l);
	}
	zbuf_free(&l);
}

/* show_counters - SHOW COUNTERS */
static void show_counters(zbuf *o, int json)
{
	zbuf l = ZBUF_INIT(8192);
	struct { const char *n; unsigned long v; } c[] = {
		{ "uptime", (unsigned long)(sched_now() - S.started) },
		{ "kids", S.nagents }, { "idle", S.nidle }, { "msgs", S.m.nfile },
		{ "threads", S.m.nthr }, { "rcpts", S.m.nrcpt }, { "forks", S.c_forks },
		{ "delivered", S.c_delivered }, { "failed", S.c_failed },
		{ "deferred", S.c_deferred }, { "expired", S.c_expired },
		{ "reports", S.c_reports }, { "dsns", S.c_dsn },
		{ "quarantined", S.c_quarantined },
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

/* file_lines - per message lines for SHOW QUEUE SHORT / SHOW THREAD */
static void file_lines(zbuf *o, sfile *f, const thread *only, int json, int threadfmt)
{
	char rel[32], id[SPOOL_ID_MAX];
	file_relpath(f, rel, sizeof rel);
	file_spoolid(f, id, sizeof id);
	time_t now = sched_now();
	int fd = open(rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ctl_file cf;
	memset(&cf, 0, sizeof cf);
	zbuf err = ZBUF_INIT(256), l = ZBUF_INIT(MQ2_REPLY_LINE_MAX - 2), addr = ZBUF_INIT(2048);
	int ok = fd >= 0 && ctl_read(fd, 0, &cf, &err) == Z_OK;
	if (fd >= 0)
		close(fd);
	if (!threadfmt) {
		char date[64] = "";
		ztime_rfc5322(f->arrival, date, sizeof date);
		zspan snd = ok && cf.nsenders ? cf.senders[0].quad.user : zspan_from("?");
		if (json) {
			zbuf_puts(&l, "{\"spoolid\":");
			json_str(&l, id, strlen(id));
			zbuf_printf(&l, ",\"msgid\":\"%lu\",\"arrival\":%ld,\"size\":%zu,\"sender\":",
				    f->ino, (long)f->arrival, ok ? cf.len : 0);
			json_str(&l, snd.p, snd.n);
			zbuf_puts(&l, ",\"rcpts\":[");
		} else {
			zbuf_printf(&l, "%s %lu %zu %s ", id, f->ino, ok ? cf.len : 0, date);
			clean_append(&l, snd.p, snd.n);
			data_line(o, &l);
		}
	}
	int first = 1;
	for (vertex *v = f->vertices; v; v = v->fnext) {
		if (only && v->thr != only)
			continue;
		for (uint32_t i = 0; i < v->nrcpt; i++) {
			srcpt *r = &v->r[i];
			if (r->state == RS_DONE)
				continue;
			const ctl_rcpt *cr = ok ? ctl_find_rcpt(&cf, r->off) : NULL;
			zbuf_reset(&addr);
			if (cr)
				zbuf_append(&addr, cr->quad.user.p, cr->quad.user.n);
			else
				zbuf_puts(&addr, "?");
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
					json_str(&l, addr.data, addr.len);
					zbuf_printf(&l, ",\"offset\":%u,\"expiry\":%ld,\"wakeup\":%ld,\"lastfeed\":%ld,\"attempts\":%u,\"diag\":",
						    r->off, (long)exp, t ? (long)t->rs.wakeup : 0L,
						    (long)v->lastfeed, r->attempts);
					json_str(&l, diag, strlen(diag));
					zbuf_putc(&l, '}');
					data_line(o, &l);
				} else {
					zbuf_puts(&l, first ? "{" : ",{");
					zbuf_puts(&l, "\"addr\":");
					json_str(&l, addr.data, addr.len);
					zbuf_puts(&l, ",\"channel\":");
					json_str(&l, t ? t->channel->s : "", t ? strlen(t->channel->s) : 0);
					zbuf_puts(&l, ",\"host\":");
					json_str(&l, t ? t->host->s : "", t ? strlen(t->host->s) : 0);
					zbuf_printf(&l, ",\"attempts\":%u,\"wakeup\":%ld,\"diag\":", r->attempts,
						    t ? (long)t->rs.wakeup : 0L);
					json_str(&l, diag, strlen(diag));
					zbuf_putc(&l, '}');
				}
			} else {
				zbuf_reset(&l);
				if (threadfmt) {
					zbuf_printf(&l, "%s\t%d\t", rel, 0);
					clean_append(&l, addr.data, addr.len);
					zbuf_printf(&l, "\t%u\t%ld\t%ld\t%ld\t%u\t%s\t", r->off, (long)exp,
						    t ? (long)t->rs.wakeup : 0L, (long)v->lastfeed,
						    r->attempts, t && t->why ? t->why : "retry");
					clean_append(&l, diag, strlen(diag));
				} else {
					zbuf_printf(&l, "\t%s/%s ", t ? t->channel->s : "-", t ? t->host->s : "-");
					clean_append(&l, addr.data, addr.len);
					zbuf_printf(&l, " A=%u W=%ld", r->attempts, w);
					if (*diag) {
						zbuf_putc(&l, ' ');
						clean_append(&l, diag, strlen(diag));
					}
				}
				data_line(o, &l);
			}
			first = 0;
		}
	}
	if (json && !threadfmt) {
		zbuf_puts(&l, "]}");
		data_line(o, &l);
	}
	if (ok || fd >= 0)
		ctl_free(&cf);
	zbuf_free(&err);
	zbuf_free(&l);
	zbuf_free(&addr);
}

/* show_short - SHOW QUEUE SHORT */
static void show_short(zbuf *o, int json)
{
	for (size_t i = 0; i < S.m.fcap; i++)
		for (sfile *f = S.m.ftab[i]; f; f = f->hnext)
			if (f->npending)
				file_lines(o, f, NULL, json, 0);
}

/* find_file_by_id - spool id or inode number */
static sfile *find_file_by_id(const char *w)
{
	unsigned long ino;
	if (zparse_ulong(w, ~0ul, &ino) == Z_OK)
		return model_file_find(&S.m, ino);
	char id[SPOOL_ID_MAX];
	for (size_t i = 0; i < S.m.fcap; i++)
		for (sfile *f = S.m.ftab[i]; f; f = f->hnext) {
			file_spoolid(f, id, sizeof id);
			if (strcmp(id, w) == 0)
				return f;
		}
	return NULL;
}

/* cli_command - one command line */
static void cli_command(mqcli *c, char *line)
{
	char *w[8];
	int n = 0;
	char *p = line;
	while (*p && n < 8) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	zbuf o = ZBUF_INIT(256u * 1024u * 1024u);
	int json = n > 0 && strcasecmp(w[n - 1], "JSON") == 0;
	if (json)
		n--;
	if (n == 0) {
		zbuf_free(&o);
		return;
	}
	if (n == 3 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "QUEUE") &&
	    (!strcasecmp(w[2], "THREADS") || !strcasecmp(w[2], "THREADS2"))) {
		zbuf_puts(&o, MQ2_OK " until LF.LF\n");
		show_threads(&o, json);
		zbuf_puts(&o, MQ2_END "\n");
	} else if (n == 3 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "QUEUE") &&
		   !strcasecmp(w[2], "SHORT")) {
		zbuf_puts(&o, MQ2_OK " until LF.LF\n");
		show_short(&o, json);
		zbuf_puts(&o, MQ2_END "\n");
	} else if (n == 2 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "COUNTERS")) {
		zbuf_puts(&o, MQ2_OK " until LF.LF\n");
		show_counters(&o, json);
		zbuf_puts(&o, MQ2_END "\n");
	} else if (n == 4 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "THREAD")) {
		thread *t = model_thread_find(&S.m, w[2], w[3]);
		if (t == NULL) {
			zbuf_puts(&o, MQ2_ERR " no such thread\n");
		} else {
			zbuf_puts(&o, MQ2_OK " until LF.LF\n");
			for (int l = 0; l < 2; l++)
				for (vertex *v = l ? t->done.head : t->pending.head; v; v = v->tnext)
					file_lines(&o, v->file, t, json, 1);
			zbuf_puts(&o, MQ2_END "\n");
		}
	} else if (n == 2 && !strcasecmp(w[0], "ETRN")) {
		int any = turnme(w[1]);
		zlog_info(NULL, "mailq: ETRN %s: %s", w[1], any ? "started" : "nothing to start");
		zbuf_printf(&o, "%s; an ETRN %s\n", MQ2_OK, any ? "started something." : "didn't start anything.");
	} else if (n == 3 && !strcasecmp(w[0], "KILL") && !strcasecmp(w[1], "MSG")) {
		sfile *f = find_file_by_id(w[2]);
		char id[SPOOL_ID_MAX];
		if (f == NULL) {
			zbuf_puts(&o, MQ2_ERR " no such message\n");
		} else {
			file_spoolid(f, id, sizeof id);
			int rc = file_kill(f);
			if (rc == Z_OK)
				zbuf_printf(&o, "%s killed %s\n", MQ2_OK, id);
			else if (rc == Z_EAGAIN)
				zbuf_puts(&o, MQ2_ERR " message is being delivered right now, try again\n");
			else
				zbuf_puts(&o, MQ2_ERR " cannot remove the message (see the log)\n");
		}
	} else if (n == 1 && (!strcasecmp(w[0], "QUIT") || !strcasecmp(w[0], "EXIT"))) {
		zbuf_puts(&o, MQ2_BYE "\n");
		cli_send(c, o.data, o.len);
		cli_close(c);
		zbuf_free(&o);
		return;
	} else {
		zbuf_puts(&o, MQ2_UNKNOWN " Unknown command, or refused by access control; VERB='");
		clean_append(&o, w[0], strlen(w[0]) > 64 ? 64 : strlen(w[0]));
		zbuf_puts(&o, "' REST='");
		for (int i = 1; i < n; i++) {
			if (i > 1)
				zbuf_putc(&o, ' ');
			clean_append(&o, w[i], strlen(w[i]) > 64 ? 64 : strlen(w[i]));
		}
		zbuf_puts(&o, "'\n");
	}
	if (o.data)
		cli_send(c, o.data, o.len);
	zbuf_free(&o);
}

/* cli_io - readable client */
static void cli_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop; (void)fd; (void)events;
	mqcli *c = arg;
	long r = zline_fill(&c->in, c->fd);
	if (r == Z_EAGAIN)
		return;
	if (r <= 0) {
		cli_close(c);
		return;
	}
	c->last = sched_now();
	zspan l;
	int k;
	while (c->fd >= 0 && (k = zline_next(&c->in, &l)) != 0) {
		if (k != 1) {
			const char *m = MQ2_ERR " line too long\n";
			cli_send(c, m, strlen(m));
			continue;
		}
		char line[MQ2_LINE_MAX + 1];
		size_t n = l.n < MQ2_LINE_MAX ? l.n : MQ2_LINE_MAX;
		memcpy(line, l.p, n);
		if (n && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL)
			continue;
		cli_command(c, line);
	}
}

/* accept_io - new client */
static void accept_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events; (void)arg;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	mqcli *c = NULL;
	for (int i = 0; i < MQ_CLIENTS; i++)
		if (clients[i].fd < 0) {
			c = &clients[i];
			break;
		}
	if (c == NULL) {
		const char *m = MQ2_ERR " too many clients\n";
		(void)!write(cfd, m, strlen(m));
		close(cfd);
		return;
	}
	struct timeval tv = { 5, 0 };
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	c->fd = cfd;
	zline_init(&c->in, MQ2_LINE_MAX);
	c->last = sched_now();
	if (zev_io_add(loop, cfd, ZEV_READ, cli_io, c) != Z_OK) {
		close(cfd);
		c->fd = -1;
		zline_free(&c->in);
		return;
	}
	cli_send(c, MQ2_GREETING "\n", strlen(MQ2_GREETING) + 1);
}

/* mqsrv_open - see mqsrv.h */
int mqsrv_open(const char *postoffice, const char *spec, zbuf *err)
{
	for (int i = 0; i < MQ_CLIENTS; i++)
		clients[i].fd = -1;
	const char *path = NULL;
	char def[4200];
	if (spec && strncasecmp(spec, "UNIX:", 5) == 0)
		path = spec + 5;
	else if (spec && spec[0] == '/')
		path = spec;
	else if (spec && *spec)
		zlog_warn(NULL, "PARAMmailqsock %s: TCP mailq is not supported by this scheduler; "
			  "using the UNIX socket", spec);
	if (path == NULL) {
		int n = snprintf(def, sizeof def, "%s/%s", postoffice, MQ2_SOCK_NAME);
		if (n < 0 || (size_t)n >= sizeof def) {
			zbuf_puts(err, "mailq socket path too long");
			return Z_ETOOBIG;
		}
		path = def;
	}
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		zbuf_printf(err, "mailq socket path too long: %s", path);
		return Z_ETOOBIG;
	}
	zstrlcpy(sa.sun_path, path, sizeof sa.sun_path);
	zstrlcpy(sockpath, path, sizeof sockpath);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0) {
		zbuf_printf(err, "socket: %s", strerror(errno));
		return Z_EIO;
	}
	(void)unlink(path);  /* single instance is guaranteed by the pid file lock */
	mode_t old = umask(0117);
	int rc = bind(lfd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || chmod(path, 0660) != 0 || listen(lfd, 16) != 0) {
		zbuf_printf(err, "mailq socket %s: %s", path, strerror(errno));
		close(lfd);
		lfd = -1;
		return Z_EIO;
	}
	if (zev_io_add(S.loop, lfd, ZEV_READ, accept_io, NULL) != Z_OK) {
		zbuf_puts(err, "cannot watch the mailq socket");
		close(lfd);
		lfd = -1;
		return Z_EIO;
	}
	return Z_OK;
}

/* mqsrv_close - see mqsrv.h */
void mqsrv_close(void)
{
	for (int i = 0; i < MQ_CLIENTS; i++)
		cli_close(&clients[i]);
	if (lfd >= 0) {
		zev_io_del(S.loop, lfd);
		close(lfd);
		lfd = -1;
		(void)unlink(sockpath);
	}
}

/* mqsrv_tick - idle clients */
void mqsrv_tick(void)
{
	long lim = S.cfg && S.cfg->mailq_timeout > 0 ? S.cfg->mailq_timeout : 300;
	time_t now = sched_now();
	for (int i = 0; i < MQ_CLIENTS; i++)
		if (clients[i].fd >= 0 && now - clients[i].last > lim)
			cli_close(&clients[i]);
}
