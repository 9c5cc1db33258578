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
 *	"/path" = another socket path, "TCP:port[@addr]" = also a TCP
 *	listener on addr (default 127.0.0.1, never all addresses unless
 *	asked for with @0.0.0.0 or @::), opened only when PARAMauthfile is
 *	readable.  TCP clients get a challenge after the greeting and must
 *	AUTH (MD5 of challenge line + password, mq2proto.h); a client address
 *	that matches no auth file line gets "550 NO ACCESS FOR YOU".  The
 *	auth file line's attributes (SNMP QQ TT ETRN KILL ALL NONE) limit the
 *	commands; the UNIX socket allows everything (file permission is the
 *	access control).  Commands are read with a bounded line reader
 *	(MQ2_LINE_MAX).  Sockets are non-blocking: an answer the client
 *	does not take at once waits in its output buffer (at most one answer,
 *	MQ_OUT_MAX) and no further command of that client is read until it is
 *	written, so a client that never reads cannot stop the scheduler.  At
 *	most MQ_CLIENTS clients at a time; one without progress (no command,
 *	no byte of its answer taken) for PARAMmailq-timeout, or connected for
 *	MQ_LIFETIME (1 hour), is closed.
 * DIAGNOSTICS
 *	Refused commands get MQ2_UNKNOWN / MQ2_BAD / MQ2_ERR lines; listener
 *	errors and failed AUTH are logged.
 * SECURITY
 *	Client input is untrusted: bounded lines, words copied with limits,
 *	output strings escaped (JSON) or cleaned of control bytes.  The auth
 *	file is read at each TCP connection (at most 256 KiB).  Passwords
 *	are plain text in the auth file (ZMailer's format).
 * BUGS
 *	SHOW QUEUE SHORT re-reads every control file, which is slow for very
 *	large queues.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/time.h>
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
#define MQ_OUT_MAX (256u * 1024u * 1024u + 65536u) /* one answer and a little */
#define MQ_LIFETIME 3600                /* seconds a connection may last */

/* access attributes (authfile) */
#define MQA_SNMP 0x01u   /* SHOW COUNTERS */
#define MQA_QQ   0x02u   /* SHOW QUEUE SHORT */
#define MQA_TT   0x04u   /* SHOW QUEUE THREADS, SHOW THREAD */
#define MQA_ETRN 0x08u
#define MQA_KILL 0x10u
#define MQA_ALL  0x1fu

typedef struct mqcli {
	int fd;
	zline in;
	zbuf out;                /* answer not yet taken by the client */
	time_t last, born;       /* last progress, accept time */
	int closing;             /* QUIT: close once out is written */
	int tcp;                 /* needs AUTH */
	unsigned attrs;          /* granted after AUTH (UNIX socket: all) */
	char challenge[96];
	struct sockaddr_storage peer;
} mqcli;

static int lfd = -1, tfd = -1;
static unsigned long challenge_counter;
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
	zbuf_free(&c->out);
}

/* cli_flush - write what the socket takes now; Z_OK (maybe with output
 * left, then the client is watched for ZEV_WRITE only) or Z_EIO */
static int cli_flush(mqcli *c)
{
	size_t done = 0;
	while (done < c->out.len) {
		ssize_t w = write(c->fd, c->out.data + done, c->out.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return Z_EIO;
		done += (size_t)w;
	}
	if (done > 0) {
		zbuf_consume(&c->out, done);
		c->last = sched_now();
	}
	return zev_io_mod(S.loop, c->fd, c->out.len ? ZEV_WRITE : ZEV_READ) == Z_OK ? Z_OK : Z_EIO;
}

/* cli_send - queue an answer and write what the socket takes now; the
 * client is closed when it cannot be written or would pass MQ_OUT_MAX */
static int cli_send(mqcli *c, const char *p, size_t n)
{
	if (c->fd < 0)
		return Z_EIO;
	if (zbuf_append(&c->out, p, n) != Z_OK || cli_flush(c) != Z_OK) {
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
	int fd = spool_open_in_tree(AT_FDCWD, rel, O_RDONLY, NULL);
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

/* net_match - does peer fall in "[a.b.c.d]/len" or "[ipv6.x:y::z]/len"? */
static int net_match(const struct sockaddr_storage *peer, const char *tok)
{
	char addr[64];
	const char *rb = strchr(tok, ']');
	if (tok[0] != '[' || rb == NULL || (size_t)(rb - tok - 1) >= sizeof addr)
		return 0;
	memcpy(addr, tok + 1, (size_t)(rb - tok - 1));
	addr[rb - tok - 1] = '\0';
	unsigned long len = 128;
	if (rb[1] == '/' && zparse_ulong(rb + 2, 128, &len) != Z_OK)
		return 0;
	unsigned char want[16], have[16];
	size_t alen;
	if (strncasecmp(addr, "ipv6.", 5) == 0) {
		if (inet_pton(AF_INET6, addr + 5, want) != 1)
			return 0;
		alen = 16;
	} else {
		if (inet_pton(AF_INET, addr, want) != 1)
			return 0;
		alen = 4;
		if (rb[1] != '/')
			len = 32;
	}
	if (len > alen * 8)
		return 0;
	if (peer->ss_family == AF_INET && alen == 4) {
		memcpy(have, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer->ss_family == AF_INET6 && alen == 16) {
		memcpy(have, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	} else if (peer->ss_family == AF_INET6 && alen == 4) {
		const unsigned char *p = (const unsigned char *)&((const struct sockaddr_in6 *)peer)->sin6_addr;
		static const unsigned char v4m[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
		if (memcmp(p, v4m, 12) != 0)
			return 0;
		memcpy(have, p + 12, 4);
	} else {
		return 0;
	}
	for (unsigned long b = 0; b < len; b++) {
		unsigned mask = 0x80u >> (b % 8);
		if ((want[b / 8] & mask) != (have[b / 8] & mask))
			return 0;
	}
	return 1;
}

/* attr_bits - "SNMP QQ TT ETRN KILL ALL NONE" */
static unsigned attr_bits(const char *s)
{
	unsigned bits = 0;
	char w[16];
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		size_t n = 0;
		while (s[n] && s[n] != ' ' && s[n] != '\t')
			n++;
		if (n == 0)
			break;
		if (n < sizeof w) {
			memcpy(w, s, n);
			w[n] = '\0';
			if (!strcasecmp(w, "SNMP")) bits |= MQA_SNMP;
			else if (!strcasecmp(w, "QQ")) bits |= MQA_QQ;
			else if (!strcasecmp(w, "TT")) bits |= MQA_TT;
			else if (!strcasecmp(w, "ETRN")) bits |= MQA_ETRN;
			else if (!strcasecmp(w, "KILL")) bits |= MQA_KILL;
			else if (!strcasecmp(w, "ALL")) bits |= MQA_ALL;
			else if (!strcasecmp(w, "NONE")) bits = 0;
		}
		s += n;
	}
	return bits;
}

/* auth_lookup - first authfile line for (user or any user when NULL) whose
 * networks contain the peer; copies the password and attributes.
 * 1 found, 0 none, -1 file unreadable */
static int auth_lookup(const struct sockaddr_storage *peer, const char *user, char *pw,
		       size_t pwsz, unsigned *attrs)
{
	zbuf data = ZBUF_INIT(256u * 1024u), err = ZBUF_INIT(256);
	int found = -1;
	if (S.cfg->authfile == NULL || zread_file(S.cfg->authfile, 256u * 1024u, &data, &err) != Z_OK)
		goto out;
	found = 0;
	const char *p = data.data ? data.data : "", *end = p + data.len;
	while (p < end && !found) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[2048];
		if (ln < sizeof line && ln > 0 && p[0] != '#') {
			memcpy(line, p, ln);
			line[ln] = '\0';
			char *f[4];
			int nf = 0;
			char *q = line;
			f[nf++] = q;
			while (nf < 4 && (q = strchr(q, ':')) != NULL) {
				*q++ = '\0';
				f[nf++] = q;
			}
			if (nf == 4 && (user == NULL || strcmp(f[0], user) == 0)) {
				char *t = f[3];
				while (*t && !found) {
					while (*t == ' ' || *t == '\t')
						t++;
					char *e = t;
					while (*e && *e != ' ' && *e != '\t')
						e++;
					char save = *e;
					*e = '\0';
					if (*t && net_match(peer, t)) {
						found = 1;
						zstrlcpy(pw, f[1], pwsz);
						*attrs = attr_bits(f[2]);
					}
					*e = save;
					t = e;
				}
			}
		}
		p = nl ? nl + 1 : end;
	}
out:
	zbuf_free(&data);
	zbuf_free(&err);
	return found;
}

/* cli_auth - "AUTH user hex" */
static void cli_auth(mqcli *c, const char *user, const char *hex)
{
	char pw[512], want[33];
	unsigned attrs = 0;
	const char *bad = MQ2_BAD " USER OR PASSWORD\n";
	if (auth_lookup(&c->peer, user, pw, sizeof pw, &attrs) != 1 ||
	    mq2_authenticator(c->challenge, pw, want) != Z_OK || strcasecmp(want, hex) != 0) {
		zlog_warn(NULL, "mailq: AUTH failed for user '%.64s'", user);
		cli_send(c, bad, strlen(bad));
		return;
	}
	c->tcp = 0;
	c->attrs = attrs;
	cli_send(c, MQ2_OK "\n", strlen(MQ2_OK) + 1);
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
	if (n == 3 && !strcasecmp(w[0], "AUTH") && c->tcp) {
		cli_auth(c, w[1], w[2]);
		zbuf_free(&o);
		return;
	}
	if (c->tcp && !(n == 1 && (!strcasecmp(w[0], "QUIT") || !strcasecmp(w[0], "EXIT")))) {
		zbuf_puts(&o, MQ2_BAD "; USER MUST AUTHENTICATE\n");
		cli_send(c, o.data, o.len);
		zbuf_free(&o);
		return;
	}
	unsigned need = 0;
	if (n >= 2 && !strcasecmp(w[0], "SHOW"))
		need = !strcasecmp(w[1], "COUNTERS") ? MQA_SNMP :
		       (n == 3 && !strcasecmp(w[2], "SHORT")) ? MQA_QQ : MQA_TT;
	else if (!strcasecmp(w[0], "ETRN"))
		need = MQA_ETRN;
	else if (!strcasecmp(w[0], "KILL"))
		need = MQA_KILL;
	int refused = need && !(c->attrs & need);
	if (refused) {
		zbuf_puts(&o, MQ2_UNKNOWN " Unknown command, or refused by access control; VERB='");
		clean_append(&o, w[0], strlen(w[0]) > 64 ? 64 : strlen(w[0]));
		zbuf_puts(&o, "' REST=''\n");
	} else if (n == 3 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "QUEUE") &&
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
		if (cli_send(c, o.data, o.len) == Z_OK) {
			c->closing = 1;
			if (c->out.len == 0)
				cli_close(c);
		}
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

/* cli_io - client readable or writable: one answer at a time, so the
 * output buffer holds at most one answer; a client that does not read
 * its answer gets no further command read */
static void cli_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop; (void)fd;
	mqcli *c = arg;
	if (events & ZEV_ERROR) {
		cli_close(c);
		return;
	}
	if (c->out.len > 0) {
		if (cli_flush(c) != Z_OK || (c->closing && c->out.len == 0))
			cli_close(c);
		if (c->fd < 0 || c->out.len > 0)
			return;
	} else if (events & ZEV_READ) {
		long r = zline_fill(&c->in, c->fd);
		if (r == Z_EAGAIN)
			return;
		if (r <= 0) {
			cli_close(c);
			return;
		}
		c->last = sched_now();
	}
	zspan l;
	int k;
	while (c->fd >= 0 && c->out.len == 0 && (k = zline_next(&c->in, &l)) != 0) {
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

/* accept_io - new client (arg: NULL = UNIX socket, non-NULL = TCP) */
static void accept_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof peer;
	memset(&peer, 0, sizeof peer);
	int cfd = accept4(fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	int tcp = arg != NULL;
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
	if (tcp) {
		char pw[512];
		unsigned attrs;
		if (auth_lookup(&peer, NULL, pw, sizeof pw, &attrs) != 1) {
			const char *m = "550 NO ACCESS FOR YOU\n";
			(void)!write(cfd, m, strlen(m));
			close(cfd);
			return;
		}
	}
	c->fd = cfd;
	c->tcp = tcp;
	c->closing = 0;
	c->attrs = tcp ? 0 : MQA_ALL;
	c->peer = peer;
	zline_init(&c->in, MQ2_LINE_MAX);
	zbuf_init(&c->out, MQ_OUT_MAX);
	c->last = c->born = sched_now();
	if (zev_io_add(loop, cfd, ZEV_READ, cli_io, c) != Z_OK) {
		close(cfd);
		c->fd = -1;
		zline_free(&c->in);
		return;
	}
	if (cli_send(c, MQ2_GREETING "\n", strlen(MQ2_GREETING) + 1) != Z_OK)
		return;
	if (tcp) {
		struct timeval now;
		gettimeofday(&now, NULL);
		snprintf(c->challenge, sizeof c->challenge, "%s%ld.%06ld.%lu", MQ2_CHALLENGE_PREFIX,
			 (long)now.tv_sec, (long)now.tv_usec, ++challenge_counter);
		zbuf ch = ZBUF_INIT(256);
		zbuf_printf(&ch, "%s\n", c->challenge);
		cli_send(c, ch.data, ch.len);
		zbuf_free(&ch);
	}
}

/* tcp_open - "TCP:port[@addr]" (addr default 127.0.0.1) */
static int tcp_open(const char *spec, zbuf *err)
{
	char port[32], addr[64] = "127.0.0.1";
	const char *at = strchr(spec, '@');
	size_t pl = at ? (size_t)(at - spec) : strlen(spec);
	if (pl == 0 || pl >= sizeof port || (at && strlen(at + 1) >= sizeof addr)) {
		zbuf_printf(err, "bad PARAMmailqsock TCP:%s", spec);
		return Z_EPARSE;
	}
	memcpy(port, spec, pl);
	port[pl] = '\0';
	if (at)
		zstrlcpy(addr, at + 1, sizeof addr);
	if (addr[0] == '[') {
		size_t l = strlen(addr);
		if (l > 2 && addr[l - 1] == ']') {
			memmove(addr, addr + 1, l - 2);
			addr[l - 2] = '\0';
		}
	}
	unsigned long pn;
	if (zparse_ulong(port, 65535, &pn) != Z_OK || pn == 0) {
		zbuf_printf(err, "bad mailq TCP port '%s'", port);
		return Z_EPARSE;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)pn);
		sl = sizeof *s4;
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)pn);
		sl = sizeof *s6;
	} else {
		zbuf_printf(err, "mailq TCP address must be numeric: '%s'", addr);
		return Z_EPARSE;
	}
	tfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (tfd < 0 || setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(tfd, (struct sockaddr *)&ss, sl) != 0 || listen(tfd, 16) != 0 ||
	    zev_io_add(S.loop, tfd, ZEV_READ, accept_io, &tfd) != Z_OK) {
		zbuf_printf(err, "mailq TCP %s port %s: %s", addr, port, strerror(errno));
		if (tfd >= 0)
			close(tfd);
		tfd = -1;
		return Z_EIO;
	}
	zlog_info(NULL, "mailq: listening on TCP %s port %s (AUTH required)", addr, port);
	return Z_OK;
}

/* mqsrv_open - see mqsrv.h */
int mqsrv_open(const char *postoffice, const char *spec, zbuf *err)
{
	for (int i = 0; i < MQ_CLIENTS; i++)
		clients[i].fd = -1;
	const char *path = NULL;
	char def[4200];
	if (spec && strncasecmp(spec, "UNIX:", 5) == 0) {
		path = spec + 5;
	} else if (spec && spec[0] == '/') {
		path = spec;
	} else if (spec && *spec) {
		const char *t = strncasecmp(spec, "TCP:", 4) == 0 ? spec + 4 : spec;
		if (S.cfg->authfile == NULL || access(S.cfg->authfile, R_OK) != 0)
			zlog_warn(NULL, "PARAMmailqsock %s: TCP needs a readable PARAMauthfile; "
				  "TCP listener not opened", spec);
		else if (tcp_open(t, err) != Z_OK)
			zlog_warn(NULL, "%s", zbuf_cstr(err));
		zbuf_reset(err);
	}
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
	if (tfd >= 0) {
		zev_io_del(S.loop, tfd);
		close(tfd);
		tfd = -1;
	}
}

/* mqsrv_tick - close idle clients and those past MQ_LIFETIME */
void mqsrv_tick(void)
{
	long lim = S.cfg && S.cfg->mailq_timeout > 0 ? S.cfg->mailq_timeout : 300;
	time_t now = sched_now();
	for (int i = 0; i < MQ_CLIENTS; i++)
		if (clients[i].fd >= 0 &&
		    (now - clients[i].last > lim || now - clients[i].born > MQ_LIFETIME))
			cli_close(&clients[i]);
}
