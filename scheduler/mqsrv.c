/*
 * NAME
 *	mqsrv.c - the scheduler's MAILQ v2 server
 * SUMMARY
 *	Listens on the UNIX socket $POSTOFFICE/.mailq.sock (mode 0660) and,
 *	when configured, on TCP, and answers the v2 commands of mq2proto.h:
 *	SHOW QUEUE THREADS|SHORT, SHOW THREAD, SHOW COUNTERS, ETRN, KILL MSG,
 *	QUIT, each listing optionally as JSON.
 * SYNOPSIS
 *	int mqsrv_open(const char *postoffice, const char *spec, zbuf *err);
 *	void mqsrv_close(void);
 *	void mqsrv_tick(void);
 *	void mqsrv_file_note(sfile *f, const ctl_file *cf);
 * DESCRIPTION
 *	The listener works on the mqsrv_ctx the daemon gives mqsrv_open
 *	(model, agent pool, completion, counters, configuration).  Command
 *	lines, auth file lines and attribute lists are split with the
 *	cursor of lib/ (zcur in zbuf.h).
 *	spec (PARAMmailqsock): NULL = the default socket, "UNIX:/path" or
 *	"/path" = another socket path, "TCP:port[@addr]" = also a TCP
 *	listener on addr (default 127.0.0.1, never all addresses unless
 *	asked for with @0.0.0.0 or @::), opened only when PARAMauthfile is a
 *	regular file that only its owner (root or the scheduler's uid) can
 *	read or write.
 *
 *	Rights.  UNIX-socket clients are identified by SO_PEERCRED: root,
 *	the scheduler's own uid and the users of PARAMmailq-admins (names or
 *	uids, separated by commas or blanks) may use every command; anyone
 *	else who can open the socket may only list (SHOW ...) and gets
 *	"-ERR permission denied" for ETRN and KILL MSG.  TCP clients get a
 *	challenge of 32 random bytes after the greeting and must AUTH with
 *	HMAC-SHA-256 (mq2auth.c); the auth file line's attributes (SNMP QQ
 *	TT ETRN KILL ALL NONE) limit the commands.  A client address that
 *	matches no auth file line gets "550 NO ACCESS FOR YOU".
 *
 *	Limits.  PARAMmailq-auth-failures (default 3) failed AUTHs close the
 *	connection and put the source address into back-off (30 s, doubled
 *	for each further round, at most 1 h; a table of MQ_SRC_MAX recent
 *	sources, the oldest is forgotten first); failures of one source add
 *	up over its connections.  A TCP client without AUTH after
 *	PARAMmailq-auth-timeout (default 10 s) is closed.  At most
 *	MQ2_CLIENTS clients, of which at most MQ2_TCP_CLIENTS on TCP, and
 *	MQ2_ADMIN_RESERVE slots are kept for root and admins on the UNIX
 *	socket.  One without progress (no command, no byte of its answer
 *	taken) for PARAMmailq-timeout, or connected for MQ_LIFETIME (1 hour),
 *	is closed.
 *
 *	Output.  Commands are read with a bounded line reader
 *	(MQ2_LINE_MAX); sockets are non-blocking.  A listing takes a
 *	snapshot of the keys it will show (file inode numbers, thread keys)
 *	and is produced piecewise: more lines are made only when the
 *	client's output buffer is below MQ_OUT_LOW, one piece per event loop
 *	turn, so the buffer never holds more than MQ_OUT_MAX and a slow or
 *	stalled reader costs nothing but its snapshot.  Files or threads
 *	that are gone when their turn comes are skipped.  The listings come
 *	from the in-memory model: sender and recipient addresses are kept
 *	in it (mqsrv_file_note, called when a control file is loaded), so
 *	no control file is read to answer.  No further command of a client
 *	is read until its answer is written.
 * DIAGNOSTICS
 *	Refused commands get MQ2_UNKNOWN / MQ2_BAD / MQ2_ERR lines.  Logged:
 *	listener errors, an auth file with a bad mode or owner ("refused"),
 *	failed AUTHs with the source, back-off, pre-auth timeouts, refused
 *	ETRN/KILL with the uid, ETRN and KILL done with who did them.
 * SECURITY
 *	Client input is untrusted: bounded lines, words copied with limits,
 *	output strings escaped (JSON) or cleaned of control bytes.  The auth
 *	file is re-read (at most 256 KiB, O_NOFOLLOW, mode checked) at each
 *	TCP connection and AUTH; passwords are plain text in it (ZMailer's
 *	format) and are wiped from memory after use, never logged.  The
 *	response is compared in constant time.  TCP itself is cleartext:
 *	listings travel unencrypted.
 * BUGS
 *	A message's recipient lines are resumed by count when its listing
 *	is paused in the middle of it; a recipient finishing in between may
 *	shift that by one.  Admin names are resolved with getpwuid at each
 *	UNIX-socket connection of a non-root user (NSS, in the event loop).
 * SEE ALSO
 *	mailq(1), scheduler(8), scheduler.conf(5), mq2proto.h, mq2auth.c
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
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

#define MQ_OUT_LOW (64u * 1024u)        /* make more lines below this */
#define MQ_OUT_MAX (MQ_OUT_LOW + 2u * MQ2_REPLY_LINE_MAX + 4096u)
#define MQ_LIFETIME 3600                /* seconds a connection may last */
#define MQ_AUTHFILE_MAX (256u * 1024u)
#define MQ_SRC_MAX 128                  /* sources remembered for back-off */
#define MQ_BACKOFF_MIN 30
#define MQ_BACKOFF_MAX 3600
#define MQ_FAIL_FORGET 3600             /* failures older than this are forgotten */

/* access attributes (authfile) */
#define MQA_SNMP 0x01u   /* SHOW COUNTERS */
#define MQA_QQ   0x02u   /* SHOW QUEUE SHORT */
#define MQA_TT   0x04u   /* SHOW QUEUE THREADS, SHOW THREAD */
#define MQA_ETRN 0x08u
#define MQA_KILL 0x10u
#define MQA_ALL  0x1fu
#define MQA_LIST (MQA_SNMP | MQA_QQ | MQA_TT)

/* listing in progress */
enum { LST_NONE = 0, LST_SHORT, LST_THREADS, LST_THREAD };

/* a thread's key, kept in a SHOW QUEUE THREADS snapshot */
typedef struct tkey {
	const sconf_clause *c;
	const sym *ch, *host;
} tkey;

typedef struct mqcli {
	int fd;
	zline in;
	zbuf out;                /* answer not yet taken by the client */
	time_t last, born;       /* last progress, accept time */
	int closing;             /* QUIT or too many failures: close once out is written */
	int tcp;                 /* came over TCP */
	int authed;              /* TCP: AUTH succeeded */
	int admin;               /* UNIX: root, our uid or PARAMmailq-admins */
	long uid;                /* UNIX: peer uid, -1 unknown */
	unsigned attrs;          /* what the client may do */
	unsigned fails;          /* failed AUTHs on this connection */
	char challenge[sizeof MQ2_CHALLENGE_PREFIX + 2 * MQ2_NONCE_LEN];
	struct sockaddr_storage peer;
	char peername[64];
	/* the listing being produced */
	int lst, json;
	size_t pos, n;           /* cursor in the snapshot */
	unsigned long *inos;     /* LST_SHORT, LST_THREAD: file inode numbers */
	tkey *tks;               /* LST_THREADS: thread keys */
	tkey thr;                /* LST_THREAD: the thread */
	uint32_t skip;           /* recipients of inos[pos] already sent */
	unsigned long msgs;      /* LST_THREADS: recipients counted so far */
} mqcli;

/* a source address's failed AUTHs */
typedef struct mqsrc {
	unsigned char addr[16];  /* IPv4 as v4-mapped IPv6 */
	int used;
	unsigned fails, rounds;
	time_t last, until;
} mqsrc;

static int lfd = -1, tfd = -1;
/* what the listener reports on and acts upon, owned by the daemon */
static mqsrv_ctx *Q;
static char sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static mqcli clients[MQ2_CLIENTS];
static mqsrc srcs[MQ_SRC_MAX];
static time_t authfile_warned;

/* lst_end - drop a listing's snapshot */
static void lst_end(mqcli *c)
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

/* cli_close - drop a client */
static void cli_close(mqcli *c)
{
	if (c->fd < 0)
		return;
	zev_io_del(Q->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	zline_free(&c->in);
	zbuf_free(&c->out);
	lst_end(c);
}

/* cli_flush - write what the socket takes now; Z_OK (maybe with output
 * left) or Z_EIO */
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
	return Z_OK;
}

/* cli_watch - wait for ZEV_WRITE while output or a listing is pending,
 * else for the next command */
static int cli_watch(mqcli *c)
{
	unsigned ev = (c->out.len || c->lst) ? ZEV_WRITE : ZEV_READ;
	return zev_io_mod(Q->loop, c->fd, ev) == Z_OK ? Z_OK : Z_EIO;
}

/* cli_send - queue an answer and write what the socket takes now; the
 * client is closed when it cannot be written or would pass MQ_OUT_MAX */
static int cli_send(mqcli *c, const char *p, size_t n)
{
	if (c->fd < 0)
		return Z_EIO;
	if (zbuf_append(&c->out, p, n) != Z_OK || cli_flush(c) != Z_OK || cli_watch(c) != Z_OK) {
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
	for (agent *a = Q->pool->agents; a; a = a->next)
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
		for (agent *a = Q->pool->agents; a; a = a->next)
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
		for (agent *a = Q->pool->agents; a; a = a->next)
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
			    Q->m->nthr, msgs, Q->pool->nagents, Q->pool->nidle, (long)(now - Q->started));
	else
		zbuf_printf(&l, "Threads: %zu Msgs: %lu Procs: %u Idle: %u Plim: %u Flim: %d Tlim: %zu",
			    Q->m->nthr, msgs, Q->pool->nagents, Q->pool->nidle, Q->pool->maxkids, Q->pool->fork_rate, Q->pool->nwait);
	data_line(o, &l);
	if (!json) {
		zbuf_reset(&l);
		zbuf_printf(&l, "Kids: %u Idle: %u Msgs: %zu Thrds: %zu Rcpnts: %lu Uptime: %lds",
			    Q->pool->nagents, Q->pool->nidle, Q->m->nfile, Q->m->nthr, Q->m->nrcpt, (long)(now - Q->started));
		data_line(o, &l);
	}
	zbuf_free(&l);
}

/* show_counters - SHOW COUNTERS */
static void show_counters(zbuf *o, int json)
{
	zbuf l = ZBUF_INIT(8192);
	struct { const char *n; unsigned long v; } c[] = {
		{ "uptime", (unsigned long)(sched_now() - Q->started) },
		{ "kids", Q->pool->nagents }, { "idle", Q->pool->nidle }, { "msgs", Q->m->nfile },
		{ "threads", Q->m->nthr }, { "rcpts", Q->m->nrcpt }, { "forks", Q->st->c_forks },
		{ "delivered", Q->st->c_delivered }, { "failed", Q->st->c_failed },
		{ "deferred", Q->st->c_deferred }, { "expired", Q->st->c_expired },
		{ "reports", Q->st->c_reports }, { "dsns", Q->st->c_dsn },
		{ "quarantined", Q->st->c_quarantined },
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
			clean_append(&l, snd, strlen(snd));
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
					clean_append(&l, addr, alen);
					zbuf_printf(&l, "\t%u\t%ld\t%ld\t%ld\t%u\t%s\t", r->off, (long)exp,
						    t ? (long)t->rs.wakeup : 0L, (long)v->lastfeed,
						    r->attempts, t && t->why ? t->why : "retry");
					clean_append(&l, diag, strlen(diag));
				} else {
					zbuf_printf(&l, "\t%s/%s ", t ? t->channel->s : "-", t ? t->host->s : "-");
					clean_append(&l, addr, alen);
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

/* produce - the next piece of the client's listing, up to MQ_OUT_LOW
 * bytes in its output buffer; ends the listing with "." when done */
static void produce(mqcli *c)
{
	int over = 0;
	if (c->lst == LST_SHORT) {
		while (c->pos < c->n && c->out.len < MQ_OUT_LOW) {
			sfile *f = model_file_find(Q->m, c->inos[c->pos]);
			if (f == NULL || f->npending == 0 ||
			    file_lines(&c->out, f, NULL, c->json, 0, &c->skip)) {
				c->pos++;
				c->skip = 0;
			}
		}
		over = c->pos >= c->n;
	} else if (c->lst == LST_THREAD) {
		thread *t = model_thread_lookup(Q->m, c->thr.c, c->thr.ch, c->thr.host);
		while (t && c->pos < c->n && c->out.len < MQ_OUT_LOW) {
			sfile *f = model_file_find(Q->m, c->inos[c->pos]);
			if (f == NULL || file_lines(&c->out, f, t, c->json, 1, &c->skip)) {
				c->pos++;
				c->skip = 0;
			}
		}
		over = t == NULL || c->pos >= c->n;
	} else if (c->lst == LST_THREADS) {
		while (c->pos < c->n && c->out.len < MQ_OUT_LOW) {
			const tkey *k = &c->tks[c->pos++];
			const thread *t = model_thread_lookup(Q->m, k->c, k->ch, k->host);
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
		lst_end(c);
	}
}

/* lst_start_files - snapshot of every queued file's inode number */
static int lst_start_files(mqcli *c)
{
	size_t n = 0;
	if (Q->m->nfile > 0 && (c->inos = calloc(Q->m->nfile, sizeof *c->inos)) == NULL)
		return Z_ENOMEM;
	for (size_t i = 0; i < Q->m->fcap && n < Q->m->nfile; i++)
		for (const sfile *f = Q->m->ftab[i]; f && n < Q->m->nfile; f = f->hnext)
			if (f->npending)
				c->inos[n++] = f->ino;
	c->n = n;
	c->lst = LST_SHORT;
	return Z_OK;
}

/* lst_start_thread - snapshot of the files of one thread */
static int lst_start_thread(mqcli *c, const thread *t)
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

/* lst_start_threads - snapshot of every thread's key */
static int lst_start_threads(mqcli *c)
{
	size_t n = 0;
	if (Q->m->nthr > 0 && (c->tks = calloc(Q->m->nthr, sizeof *c->tks)) == NULL)
		return Z_ENOMEM;
	for (const thread *t = Q->m->threads; t && n < Q->m->nthr; t = t->all_next) {
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

/* find_file_by_id - spool id or inode number */
static sfile *find_file_by_id(const char *w)
{
	unsigned long ino;
	if (zparse_ulong(w, ~0ul, &ino) == Z_OK)
		return model_file_find(Q->m, ino);
	char id[SPOOL_ID_MAX];
	for (size_t i = 0; i < Q->m->fcap; i++)
		for (sfile *f = Q->m->ftab[i]; f; f = f->hnext) {
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
	zcur c;
	zspan w;

	zcur_init(&c, s, strlen(s));
	for (;;) {
		zcur_skip_ws(&c);
		if (zcur_take_token(&c, &w) != Z_OK)
			break;
		if (zspan_caseeq(w, "SNMP")) bits |= MQA_SNMP;
		else if (zspan_caseeq(w, "QQ")) bits |= MQA_QQ;
		else if (zspan_caseeq(w, "TT")) bits |= MQA_TT;
		else if (zspan_caseeq(w, "ETRN")) bits |= MQA_ETRN;
		else if (zspan_caseeq(w, "KILL")) bits |= MQA_KILL;
		else if (zspan_caseeq(w, "ALL")) bits |= MQA_ALL;
		else if (zspan_caseeq(w, "NONE")) bits = 0;
	}
	return bits;
}

/* authfile_read - the auth file into data when it is a regular file that
 * only its owner (root or our uid) may read or write; Z_OK, or an error
 * that was logged (at most once a minute unless loud) */
static int authfile_read(zbuf *data, int loud)
{
	const char *path = Q->cfg->authfile;
	struct stat st;
	int fd = -1, rc = Z_ERR;
	char why[160] = "";
	time_t now = sched_now();

	if (path == NULL)
		return Z_ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, sizeof why, "cannot open it: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, sizeof why, "not a regular file");
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, sizeof why, "mode %04o gives group or others access; "
			 "refused (chmod 600 it)", (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, sizeof why, "owned by uid %ld, not root or the scheduler; refused",
			 (long)st.st_uid);
		goto out;
	}
	if (st.st_size > (off_t)MQ_AUTHFILE_MAX) {
		snprintf(why, sizeof why, "larger than %u bytes", MQ_AUTHFILE_MAX);
		goto out;
	}
	for (;;) {
		char buf[8192];
		ssize_t k = read(fd, buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(why, sizeof why, "read: %s", strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		if (zbuf_append(data, buf, (size_t)k) != Z_OK) {
			snprintf(why, sizeof why, "larger than %u bytes", MQ_AUTHFILE_MAX);
			goto out;
		}
	}
	rc = Z_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != Z_OK && (loud || now - authfile_warned >= 60)) {
		authfile_warned = now;
		zlog_error(NULL, "mailq: PARAMauthfile %s: %s", path, why);
	}
	return rc;
}

/* auth_lookup - first authfile line for (user or any user when NULL) whose
 * networks contain the peer; copies the password and attributes.
 * 1 found, 0 none, -1 file unusable (logged) */
static int auth_lookup(const struct sockaddr_storage *peer, const char *user, char *pw,
		       size_t pwsz, unsigned *attrs)
{
	zbuf data = ZBUF_INIT(MQ_AUTHFILE_MAX);
	int found = -1;
	char line[2048];
	if (authfile_read(&data, 0) != Z_OK)
		goto out;
	found = 0;
	zcur file;
	zcur_init(&file, data.data ? data.data : "", data.len);
	while (!zcur_eof(&file) && !found) {
		zspan l, f[4], net;
		zcur lc, nc;
		if (zcur_take_until(&file, '\n', &l) != Z_OK)
			zcur_take_rest(&file, &l);
		if (l.n >= sizeof line || l.n == 0 || l.p[0] == '#')
			continue;
		/* "user:password:attributes:networks" as a C string (what
		 * follows a NUL byte does not count) */
		memcpy(line, l.p, l.n);
		line[l.n] = '\0';
		zcur_init(&lc, line, strlen(line));
		int nf = 0;
		while (nf < 3 && zcur_take_until(&lc, ':', &f[nf]) == Z_OK)
			nf++;
		if (nf < 3)
			continue;
		zcur_take_rest(&lc, &f[3]);
		for (int i = 0; i < 3; i++)
			line[(size_t)(f[i].p - line) + f[i].n] = '\0';   /* the ':' */
		if (user != NULL && strcmp(f[0].p, user) != 0)
			continue;
		zcur_init(&nc, f[3].p, f[3].n);
		while (!found) {
			zcur_skip_ws(&nc);
			if (zcur_take_token(&nc, &net) != Z_OK)
				break;
			char tok[sizeof line];
			memcpy(tok, net.p, net.n);
			tok[net.n] = '\0';
			if (net_match(peer, tok)) {
				/* a cut password would accept its prefix */
				if (zstrlcpy(pw, f[1].p, pwsz) != Z_OK) {
					zlog_warn(NULL, "mailq authfile: password of %s too long;"
						  " line ignored", f[0].p);
					pw[0] = '\0';
					break;
				}
				found = 1;
				*attrs = attr_bits(f[2].p);
			}
			OPENSSL_cleanse(tok, net.n);
		}
	}
out:
	OPENSSL_cleanse(line, sizeof line);
	if (data.data)
		OPENSSL_cleanse(data.data, data.len);
	zbuf_free(&data);
	return found;
}

/* src_key - the peer's address as 16 bytes (IPv4 v4-mapped) */
static void src_key(const struct sockaddr_storage *peer, unsigned char out[16])
{
	memset(out, 0, 16);
	if (peer->ss_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	}
}

/* src_find - the back-off record of a peer; with create, a new one
 * replaces an unused or the least recently failed record */
static mqsrc *src_find(const struct sockaddr_storage *peer, int create)
{
	unsigned char k[16];
	mqsrc *old = NULL;
	src_key(peer, k);
	for (int i = 0; i < MQ_SRC_MAX; i++) {
		mqsrc *s = &srcs[i];
		if (s->used && memcmp(s->addr, k, 16) == 0)
			return s;
		if (old == NULL || !s->used || (old->used && s->last < old->last))
			old = s;
	}
	if (!create)
		return NULL;
	memset(old, 0, sizeof *old);
	memcpy(old->addr, k, 16);
	old->used = 1;
	return old;
}

/* src_blocked - seconds the peer still has to wait, 0 if none */
static long src_blocked(const struct sockaddr_storage *peer)
{
	const mqsrc *s = src_find(peer, 0);
	time_t now = sched_now();
	return s && s->until > now ? (long)(s->until - now) : 0;
}

/* src_fail - count a failed AUTH of the peer; after lim failures the
 * source goes into back-off (doubling per round) */
static void src_fail(const mqcli *c, long lim)
{
	mqsrc *s = src_find(&c->peer, 1);
	time_t now = sched_now();
	if (now - s->last > MQ_FAIL_FORGET)
		s->fails = 0;
	s->last = now;
	if (++s->fails < (unsigned long)lim)
		return;
	s->fails = 0;
	long b = MQ_BACKOFF_MIN;
	for (unsigned r = 0; r < s->rounds && b < MQ_BACKOFF_MAX; r++)
		b *= 2;
	if (b > MQ_BACKOFF_MAX)
		b = MQ_BACKOFF_MAX;
	if (s->rounds < 64)
		s->rounds++;
	s->until = now + b;
	zlog_warn(NULL, "mailq: %s: %ld failed AUTHs, refusing it for %ld s", c->peername, lim, b);
}

/* cli_auth - "AUTH user hex" */
static void cli_auth(mqcli *c, const char *user, const char *hex)
{
	char pw[512];
	unsigned attrs = 0;
	long lim = Q->cfg->mailq_auth_failures > 0 ? Q->cfg->mailq_auth_failures : 3;
	const char *bad = MQ2_BAD " USER OR PASSWORD\n";
	int ok = auth_lookup(&c->peer, user, pw, sizeof pw, &attrs) == 1 &&
		 mq2_auth_verify(c->challenge, user, pw, hex) == Z_OK;
	OPENSSL_cleanse(pw, sizeof pw);
	if (!ok) {
		c->fails++;
		zlog_warn(NULL, "mailq: AUTH failed for user '%.64s' from %s (%u of %ld)", user,
			  c->peername, c->fails, lim);
		src_fail(c, lim);
		if (cli_send(c, bad, strlen(bad)) == Z_OK && c->fails >= (unsigned long)lim) {
			zlog_warn(NULL, "mailq: %s: too many failed AUTHs, closing", c->peername);
			c->closing = 1;
			if (c->out.len == 0)
				cli_close(c);
		}
		return;
	}
	mqsrc *s = src_find(&c->peer, 0);
	if (s != NULL)
		s->fails = 0;
	c->authed = 1;
	c->attrs = attrs;
	zlog_info(NULL, "mailq: %s authenticated as '%.64s'", c->peername, user);
	cli_send(c, MQ2_OK "\n", strlen(MQ2_OK) + 1);
}

/* uid_is_admin - root, our own uid, or named in PARAMmailq-admins */
static int uid_is_admin(uid_t uid)
{
	const char *l = Q->cfg ? Q->cfg->mailq_admins : NULL;
	char name[256] = "", w[256];
	if (uid == 0 || uid == geteuid())
		return 1;
	if (l == NULL)
		return 0;
	struct passwd pwd, *res = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pwd, buf, sizeof buf, &res) == 0 && res != NULL &&
	    zstrlcpy(name, res->pw_name, sizeof name) != Z_OK)
		name[0] = '\0';        /* a cut name must never match an admin entry */
	while (*l) {
		size_t n = strcspn(l, ", \t");
		if (n > 0 && n < sizeof w) {
			unsigned long u;
			memcpy(w, l, n);
			w[n] = '\0';
			if ((zparse_ulong(w, ~0ul, &u) == Z_OK && u == (unsigned long)uid) ||
			    (name[0] && strcmp(w, name) == 0))
				return 1;
		}
		l += n;
		l += strspn(l, ", \t");
	}
	return 0;
}

/* refuse - "-ERR permission denied" for a command the client may not use */
static void refuse(mqcli *c, zbuf *o, const char *verb)
{
	if (c->tcp) {
		zbuf_puts(o, MQ2_ERR " permission denied: refused by access control (auth file attributes)\n");
		zlog_warn(NULL, "mailq: %s refused for %s (auth file attributes)", verb, c->peername);
	} else {
		zbuf_puts(o, MQ2_ERR " permission denied: only root and PARAMmailq-admins users may do that\n");
		zlog_warn(NULL, "mailq: %s refused for uid %ld (not an admin)", verb, c->uid);
	}
}

/* cli_command - one command line; the answer goes to c->out (a listing
 * is started and produced piecewise) */
static void cli_command(mqcli *c, char *line)
{
	char *w[8];
	zspan tok[8];
	int n = 0;
	zcur cur;
	/* at most eight words; the eighth keeps the rest of the line */
	zcur_init(&cur, line, strlen(line));
	while (n < 8) {
		zcur_skip_ws(&cur);
		if (zcur_eof(&cur))
			break;
		if (n == 7)
			zcur_take_rest(&cur, &tok[n]);
		else
			(void)zcur_take_token(&cur, &tok[n]);
		n++;
	}
	for (int i = 0; i < n; i++) {
		w[i] = line + (tok[i].p - line);
		w[i][tok[i].n] = '\0';
	}
	zbuf *o = &c->out;
	int json = n > 0 && strcasecmp(w[n - 1], "JSON") == 0;
	if (json)
		n--;
	if (n == 0)
		return;
	if (n == 3 && !strcasecmp(w[0], "AUTH") && c->tcp && !c->authed) {
		cli_auth(c, w[1], w[2]);
		return;
	}
	int quit = n == 1 && (!strcasecmp(w[0], "QUIT") || !strcasecmp(w[0], "EXIT"));
	if (c->tcp && !c->authed && !quit) {
		zbuf_puts(o, MQ2_BAD "; USER MUST AUTHENTICATE\n");
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
	if (need && !(c->attrs & need)) {
		if (need & (MQA_ETRN | MQA_KILL)) {
			refuse(c, o, need == MQA_ETRN ? "ETRN" : "KILL");
		} else {
			zbuf_puts(o, MQ2_UNKNOWN " Unknown command, or refused by access control; VERB='");
			clean_append(o, w[0], strlen(w[0]) > 64 ? 64 : strlen(w[0]));
			zbuf_puts(o, "' REST=''\n");
		}
	} else if (n == 3 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "QUEUE") &&
	    (!strcasecmp(w[2], "THREADS") || !strcasecmp(w[2], "THREADS2"))) {
		if (lst_start_threads(c) != Z_OK) {
			zbuf_puts(o, MQ2_ERR " out of memory, try again\n");
			return;
		}
		c->json = json;
		zbuf_puts(o, MQ2_OK " until LF.LF\n");
		produce(c);
	} else if (n == 3 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "QUEUE") &&
		   !strcasecmp(w[2], "SHORT")) {
		if (lst_start_files(c) != Z_OK) {
			zbuf_puts(o, MQ2_ERR " out of memory, try again\n");
			return;
		}
		c->json = json;
		zbuf_puts(o, MQ2_OK " until LF.LF\n");
		produce(c);
	} else if (n == 2 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "COUNTERS")) {
		zbuf_puts(o, MQ2_OK " until LF.LF\n");
		show_counters(o, json);
		zbuf_puts(o, MQ2_END "\n");
	} else if (n == 4 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "THREAD")) {
		thread *t = model_thread_find(Q->m, w[2], w[3]);
		if (t == NULL) {
			zbuf_puts(o, MQ2_ERR " no such thread\n");
		} else if (lst_start_thread(c, t) != Z_OK) {
			zbuf_puts(o, MQ2_ERR " out of memory, try again\n");
		} else {
			c->json = json;
			zbuf_puts(o, MQ2_OK " until LF.LF\n");
			produce(c);
		}
	} else if (n == 2 && !strcasecmp(w[0], "ETRN")) {
		int any = turnme(Q->pool, w[1]);
		if (c->tcp)
			zlog_info(NULL, "mailq: ETRN %.256s by %s: %s", w[1], c->peername,
				  any ? "started" : "nothing to start");
		else
			zlog_info(NULL, "mailq: ETRN %.256s by uid %ld: %s", w[1], c->uid,
				  any ? "started" : "nothing to start");
		zbuf_printf(o, "%s; an ETRN %s\n", MQ2_OK, any ? "started something." : "didn't start anything.");
	} else if (n == 3 && !strcasecmp(w[0], "KILL") && !strcasecmp(w[1], "MSG")) {
		sfile *f = find_file_by_id(w[2]);
		char id[SPOOL_ID_MAX];
		if (f == NULL) {
			zbuf_puts(o, MQ2_ERR " no such message\n");
		} else {
			file_spoolid(f, id, sizeof id);
			if (c->tcp)
				zlog_info(id, "mailq: KILL by %s", c->peername);
			else
				zlog_info(id, "mailq: KILL by uid %ld", c->uid);
			int rc = file_kill(Q->cc, f);
			if (rc == Z_OK)
				zbuf_printf(o, "%s killed %s\n", MQ2_OK, id);
			else if (rc == Z_EAGAIN)
				zbuf_puts(o, MQ2_ERR " message is being delivered right now, try again\n");
			else
				zbuf_puts(o, MQ2_ERR " cannot remove the message (see the log)\n");
		}
	} else if (quit) {
		zbuf_puts(o, MQ2_BYE "\n");
		c->closing = 1;
	} else {
		zbuf_puts(o, MQ2_UNKNOWN " Unknown command, or refused by access control; VERB='");
		clean_append(o, w[0], strlen(w[0]) > 64 ? 64 : strlen(w[0]));
		zbuf_puts(o, "' REST='");
		for (int i = 1; i < n; i++) {
			if (i > 1)
				zbuf_putc(o, ' ');
			clean_append(o, w[i], strlen(w[i]) > 64 ? 64 : strlen(w[i]));
		}
		zbuf_puts(o, "'\n");
	}
}

/* cli_io - client readable or writable.  While an answer or a listing is
 * pending only ZEV_WRITE is watched: each turn makes at most one piece
 * (MQ_OUT_LOW bytes) and writes what the socket takes, so the buffer
 * stays bounded and other clients and agents get their turn; no
 * further command is read until the answer is written */
static void cli_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop; (void)fd;
	mqcli *c = arg;
	if (events & ZEV_ERROR) {
		cli_close(c);
		return;
	}
	if (c->out.len > 0 || c->lst) {
		if (c->lst && c->out.len < MQ_OUT_LOW)
			produce(c);
		if (cli_flush(c) != Z_OK) {
			cli_close(c);
			return;
		}
		if (c->out.len > 0 || c->lst) {
			if (cli_watch(c) != Z_OK)
				cli_close(c);
			return;
		}
		if (c->closing) {
			cli_close(c);
			return;
		}
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
	/* commands already buffered (pipelined) are answered one after the
	 * other as long as each answer is taken at once */
	for (;;) {
		zspan l;
		int k, progressed = 0;
		while (c->fd >= 0 && !c->closing && c->out.len == 0 && !c->lst &&
		       (k = zline_next(&c->in, &l)) != 0) {
			progressed = 1;
			if (k != 1) {
				zbuf_puts(&c->out, MQ2_ERR " line too long\n");
				break;
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
		if (c->fd < 0)
			return;
		if (cli_flush(c) != Z_OK || (c->closing && c->out.len == 0 && !c->lst)) {
			cli_close(c);
			return;
		}
		if (!progressed || c->out.len > 0 || c->lst || c->closing)
			break;
	}
	if (cli_watch(c) != Z_OK)
		cli_close(c);
}

/* peer_name - printable address of a TCP peer */
static void peer_name(const struct sockaddr_storage *ss, char *out, size_t sz)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof a);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof a);
	snprintf(out, sz, "[%s]", a);
}

/* refuse_conn - a line to a client we do not take, then close */
static void refuse_conn(int cfd, const char *m)
{
	(void)!write(cfd, m, strlen(m));
	close(cfd);
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
	int tcp = arg != NULL, admin = 0;
	long uid = -1;
	char pname[64] = "local";
	if (tcp) {
		peer_name(&peer, pname, sizeof pname);
	} else {
		struct ucred uc;
		socklen_t ul = sizeof uc;
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == 0 && ul == sizeof uc) {
			uid = (long)uc.uid;
			admin = uid_is_admin(uc.uid);
		}
		snprintf(pname, sizeof pname, "uid %ld", uid);
	}
	mqcli *c = NULL;
	unsigned total = 0, ntcp = 0;
	for (int i = 0; i < MQ2_CLIENTS; i++) {
		if (clients[i].fd < 0) {
			if (c == NULL)
				c = &clients[i];
			continue;
		}
		total++;
		ntcp += clients[i].tcp != 0;
	}
	if (c == NULL || (tcp && ntcp >= MQ2_TCP_CLIENTS) ||
	    (!admin && total >= MQ2_CLIENTS - MQ2_ADMIN_RESERVE)) {
		zlog_warn(NULL, "mailq: too many clients (%u, %u on TCP): %s refused", total, ntcp, pname);
		refuse_conn(cfd, MQ2_ERR " too many clients\n");
		return;
	}
	if (tcp) {
		char pw[512];
		unsigned attrs;
		long wait = src_blocked(&peer);
		if (wait > 0) {
			zlog_warn(NULL, "mailq: %s refused: %ld s of back-off after failed AUTHs left",
				  pname, wait);
			refuse_conn(cfd, MQ2_BAD " too many failed attempts, try later\n");
			return;
		}
		int r = auth_lookup(&peer, NULL, pw, sizeof pw, &attrs);
		OPENSSL_cleanse(pw, sizeof pw);
		if (r != 1) {
			refuse_conn(cfd, "550 NO ACCESS FOR YOU\n");
			return;
		}
	}
	memset(c, 0, sizeof *c);
	c->fd = cfd;
	c->tcp = tcp;
	c->admin = admin;
	c->uid = uid;
	c->attrs = tcp ? 0 : admin ? MQA_ALL : MQA_LIST;
	c->peer = peer;
	zstrlcpy(c->peername, pname, sizeof c->peername);
	zline_init(&c->in, MQ2_LINE_MAX);
	zbuf_init(&c->out, MQ_OUT_MAX);
	c->last = c->born = sched_now();
	if (tcp) {
		unsigned char nonce[MQ2_NONCE_LEN];
		static const char hex[] = "0123456789abcdef";
		size_t pl = strlen(MQ2_CHALLENGE_PREFIX);
		if (RAND_bytes(nonce, sizeof nonce) != 1) {
			zlog_error(NULL, "mailq: no random bytes for a challenge: %s refused", pname);
			refuse_conn(cfd, MQ2_ERR " try later\n");
			c->fd = -1;
			zline_free(&c->in);
			return;
		}
		memcpy(c->challenge, MQ2_CHALLENGE_PREFIX, pl);
		for (size_t i = 0; i < sizeof nonce; i++) {
			c->challenge[pl + 2 * i] = hex[nonce[i] >> 4];
			c->challenge[pl + 2 * i + 1] = hex[nonce[i] & 15];
		}
		c->challenge[pl + 2 * sizeof nonce] = '\0';
	}
	if (zev_io_add(loop, cfd, ZEV_READ, cli_io, c) != Z_OK) {
		close(cfd);
		c->fd = -1;
		zline_free(&c->in);
		return;
	}
	zbuf_puts(&c->out, MQ2_GREETING "\n");
	if (tcp)
		zbuf_printf(&c->out, "%s\n", c->challenge);
	if (cli_flush(c) != Z_OK || cli_watch(c) != Z_OK)
		cli_close(c);
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
	    zev_io_add(Q->loop, tfd, ZEV_READ, accept_io, &tfd) != Z_OK) {
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
int mqsrv_open(mqsrv_ctx *ctx, const char *postoffice, const char *spec, zbuf *err)
{
	Q = ctx;
	for (int i = 0; i < MQ2_CLIENTS; i++)
		clients[i].fd = -1;
	const char *path = NULL;
	char def[4200];
	if (spec && strncasecmp(spec, "UNIX:", 5) == 0) {
		path = spec + 5;
	} else if (spec && spec[0] == '/') {
		path = spec;
	} else if (spec && *spec) {
		const char *t = strncasecmp(spec, "TCP:", 4) == 0 ? spec + 4 : spec;
		zbuf af = ZBUF_INIT(MQ_AUTHFILE_MAX);
		int afok = Q->cfg->authfile != NULL && authfile_read(&af, 1) == Z_OK;
		if (af.data)
			OPENSSL_cleanse(af.data, af.len);
		zbuf_free(&af);
		if (!afok)
			zlog_warn(NULL, "PARAMmailqsock %s: TCP needs a PARAMauthfile that only its "
				  "owner can read; TCP listener not opened", spec);
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
	if (zev_io_add(Q->loop, lfd, ZEV_READ, accept_io, NULL) != Z_OK) {
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
	for (int i = 0; i < MQ2_CLIENTS; i++)
		cli_close(&clients[i]);
	if (lfd >= 0) {
		zev_io_del(Q->loop, lfd);
		close(lfd);
		lfd = -1;
		(void)unlink(sockpath);
	}
	if (tfd >= 0) {
		zev_io_del(Q->loop, tfd);
		close(tfd);
		tfd = -1;
	}
}

/* mqsrv_tick - close idle clients, TCP clients without AUTH past
 * PARAMmailq-auth-timeout and those past MQ_LIFETIME */
void mqsrv_tick(void)
{
	long lim = Q->cfg && Q->cfg->mailq_timeout > 0 ? Q->cfg->mailq_timeout : 300;
	long alim = Q->cfg && Q->cfg->mailq_auth_timeout > 0 ? Q->cfg->mailq_auth_timeout : 10;
	time_t now = sched_now();
	for (int i = 0; i < MQ2_CLIENTS; i++) {
		mqcli *c = &clients[i];
		if (c->fd < 0)
			continue;
		if (c->tcp && !c->authed && now - c->born >= alim) {
			zlog_info(NULL, "mailq: %s did not authenticate within %ld s: closed",
				  c->peername, alim);
			cli_close(c);
		} else if (now - c->last > lim || now - c->born > MQ_LIFETIME) {
			cli_close(c);
		}
	}
}
