/*
 * NAME
 *	mqsrv.c - the scheduler's MAILQ v2 server
 * SUMMARY
 *	Listens on the UNIX socket $POSTOFFICE/.mailq.sock (mode 0660) and,
 *	when configured, on TCP, and answers the v2 commands of mq2proto.h:
 *	SHOW QUEUE THREADS|SHORT, SHOW THREAD, SHOW COUNTERS, ETRN, KILL MSG,
 *	QUIT, each listing optionally as JSON.
 * SYNOPSIS
 *	#include "mqsrv.h"
 *	int mqsrv_open(mqsrv_ctx *ctx, const char *postoffice, const char *spec, zbuf *err);
 *	void mqsrv_close(void);
 *	void mqsrv_tick(void);
 *	(mqsrv_file_note: mqsrv_list.c)
 * DESCRIPTION
 *	The listener works on the mqsrv_ctx the daemon gives mqsrv_open
 *	(model, agent pool, completion, counters, configuration; mqsrv_q
 *	for the sibling modules).  This file owns the sockets and the
 *	clients; mqsrv_cmd.c answers a command line, mqsrv_list.c makes
 *	the listings, mqsrv_auth.c decides who may do what.  Command lines,
 *	auth file lines and attribute lists are split with the cursor of
 *	lib/ (zcur in zbuf.h).
 *	spec (PARAMmailqsock): NULL = the default socket, "UNIX:/path" or
 *	"/path" = another socket path, "TCP:port[@addr]" = also a TCP
 *	listener on addr (default 127.0.0.1, never all addresses unless
 *	asked for with @0.0.0.0 or @::), opened only when PARAMauthfile is a
 *	regular file that only its owner (root or the scheduler's uid) can
 *	read or write.
 *
 *	Rights (mqsrv_auth.c).  UNIX-socket clients are identified by
 *	SO_PEERCRED: root, the scheduler's uid and PARAMmailq-admins may
 *	use every command, anyone else who can open the socket may only
 *	list.  TCP clients get a challenge of 32 random bytes after the
 *	greeting and must AUTH; a client address that matches no auth file
 *	line gets "550 NO ACCESS FOR YOU", one in back-off after failed
 *	AUTHs is refused at once.
 *
 *	Limits.  A TCP client without AUTH after
 *	PARAMmailq-auth-timeout (default 10 s) is closed.  At most
 *	MQ2_CLIENTS clients, of which at most MQ2_TCP_CLIENTS on TCP, and
 *	MQ2_ADMIN_RESERVE slots are kept for root and admins on the UNIX
 *	socket.  One without progress (no command, no byte of its answer
 *	taken) for PARAMmailq-timeout, or connected for MQ_LIFETIME (1 hour),
 *	is closed.
 *
 *	Output.  Commands are read with a bounded line reader
 *	(MQ2_LINE_MAX); sockets are non-blocking.  While an answer or a
 *	listing is pending only writability is watched: each event loop
 *	turn makes at most one piece of a listing (mqsrv_list.c) and
 *	writes what the socket takes, so other clients and agents get
 *	their turn.  No further command of a client is read until its
 *	answer is written; pipelined commands already read are answered
 *	one after the other while each answer is taken at once.
 * DIAGNOSTICS
 *	mqsrv_open returns Z_OK or Z_EPARSE/Z_ETOOBIG/Z_EIO with a reason in
 *	err; a TCP listener that cannot be opened is only logged.  Logged:
 *	listener errors, too many clients, a back-off refusal, pre-auth
 *	timeouts, no random bytes for a challenge.  Refused commands and
 *	auth problems: see mqsrv_cmd.c and mqsrv_auth.c.
 * SECURITY
 *	Client input is untrusted: bounded lines (an over-long one gets
 *	MQ2_ERR), a line with a NUL byte is ignored, the output buffer is
 *	capped at MQ_OUT_MAX (a client past it is closed).  The TCP
 *	listener needs an auth file only its owner can use and binds
 *	127.0.0.1 unless told otherwise.  TCP itself is cleartext:
 *	listings travel unencrypted.
 * BUGS
 *	See mqsrv_list.c (listing resume) and mqsrv_auth.c (admin names).
 * SEE ALSO
 *	mqsrv_cmd.c, mqsrv_list.c, mqsrv_auth.c, mqsrv_int.h, mailq(1),
 *	scheduler(8), scheduler.conf(5), mq2proto.h, mq2auth.c
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
#include "mqsrv_int.h"
#include "spool.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

#define MQ_LIFETIME 3600                /* seconds a connection may last */

static int lfd = -1, tfd = -1;
/* what the listener reports on and acts upon, owned by the daemon */
mqsrv_ctx *mqsrv_q;
static char sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static mqcli clients[MQ2_CLIENTS];

/* mq_cli_close - drop a client */
void mq_cli_close(mqcli *c)
{
	if (c->fd < 0)
		return;
	zev_io_del(mqsrv_q->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	zline_free(&c->in);
	zbuf_free(&c->out);
	mq_lst_end(c);
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
	return zev_io_mod(mqsrv_q->loop, c->fd, ev) == Z_OK ? Z_OK : Z_EIO;
}

/* mq_cli_send - queue an answer and write what the socket takes now; the
 * client is closed when it cannot be written or would pass MQ_OUT_MAX */
int mq_cli_send(mqcli *c, const char *p, size_t n)
{
	if (c->fd < 0)
		return Z_EIO;
	if (zbuf_append(&c->out, p, n) != Z_OK || cli_flush(c) != Z_OK || cli_watch(c) != Z_OK) {
		mq_cli_close(c);
		return Z_EIO;
	}
	return Z_OK;
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
		mq_cli_close(c);
		return;
	}
	if (c->out.len > 0 || c->lst) {
		if (c->lst && c->out.len < MQ_OUT_LOW)
			mq_produce(c);
		if (cli_flush(c) != Z_OK) {
			mq_cli_close(c);
			return;
		}
		if (c->out.len > 0 || c->lst) {
			if (cli_watch(c) != Z_OK)
				mq_cli_close(c);
			return;
		}
		if (c->closing) {
			mq_cli_close(c);
			return;
		}
	} else if (events & ZEV_READ) {
		long r = zline_fill(&c->in, c->fd);
		if (r == Z_EAGAIN)
			return;
		if (r <= 0) {
			mq_cli_close(c);
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
			mq_cli_command(c, line);
		}
		if (c->fd < 0)
			return;
		if (cli_flush(c) != Z_OK || (c->closing && c->out.len == 0 && !c->lst)) {
			mq_cli_close(c);
			return;
		}
		if (!progressed || c->out.len > 0 || c->lst || c->closing)
			break;
	}
	if (cli_watch(c) != Z_OK)
		mq_cli_close(c);
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
			admin = mq_uid_is_admin(uc.uid);
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
		long wait = mq_src_blocked(&peer);
		if (wait > 0) {
			zlog_warn(NULL, "mailq: %s refused: %ld s of back-off after failed AUTHs left",
				  pname, wait);
			refuse_conn(cfd, MQ2_BAD " too many failed attempts, try later\n");
			return;
		}
		int r = mq_auth_lookup(&peer, NULL, pw, sizeof pw, &attrs);
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
		mq_cli_close(c);
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
	    zev_io_add(mqsrv_q->loop, tfd, ZEV_READ, accept_io, &tfd) != Z_OK) {
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
	mqsrv_q = ctx;
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
		int afok = mqsrv_q->cfg->authfile != NULL && mq_authfile_read(&af, 1) == Z_OK;
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
	if (zev_io_add(mqsrv_q->loop, lfd, ZEV_READ, accept_io, NULL) != Z_OK) {
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
		mq_cli_close(&clients[i]);
	if (lfd >= 0) {
		zev_io_del(mqsrv_q->loop, lfd);
		close(lfd);
		lfd = -1;
		(void)unlink(sockpath);
	}
	if (tfd >= 0) {
		zev_io_del(mqsrv_q->loop, tfd);
		close(tfd);
		tfd = -1;
	}
}

/* mqsrv_tick - close idle clients, TCP clients without AUTH past
 * PARAMmailq-auth-timeout and those past MQ_LIFETIME */
void mqsrv_tick(void)
{
	long lim = mqsrv_q->cfg && mqsrv_q->cfg->mailq_timeout > 0 ? mqsrv_q->cfg->mailq_timeout : 300;
	long alim = mqsrv_q->cfg && mqsrv_q->cfg->mailq_auth_timeout > 0 ? mqsrv_q->cfg->mailq_auth_timeout : 10;
	time_t now = sched_now();
	for (int i = 0; i < MQ2_CLIENTS; i++) {
		mqcli *c = &clients[i];
		if (c->fd < 0)
			continue;
		if (c->tcp && !c->authed && now - c->born >= alim) {
			zlog_info(NULL, "mailq: %s did not authenticate within %ld s: closed",
				  c->peername, alim);
			mq_cli_close(c);
		} else if (now - c->last > lim || now - c->born > MQ_LIFETIME) {
			mq_cli_close(c);
		}
	}
}
