/*
 * NAME
 *	mqsrv_auth.c - who may use the MAILQ v2 server: auth file, TCP
 *	AUTH, back-off, admin users
 * SUMMARY
 *	Reads PARAMauthfile, checks a TCP client's HMAC-SHA-256 AUTH
 *	answer against it, keeps the back-off of sources that fail, and
 *	tells whether a UNIX-socket peer uid is an admin.
 * SYNOPSIS
 *	#include "mqsrv_int.h"
 *	int mq_authfile_read(zbuf *data, int loud);
 *	int mq_auth_lookup(peer, user, pw, pwsz, &attrs);
 *	long mq_src_blocked(peer);
 *	void mq_cli_auth(mqcli *c, const char *user, const char *hex);
 *	int mq_uid_is_admin(uid_t uid);
 * DESCRIPTION
 *	Rights.  UNIX-socket clients are identified by SO_PEERCRED: root,
 *	the scheduler's own uid and the users of PARAMmailq-admins (names or
 *	uids, separated by commas or blanks) are admins (mq_uid_is_admin).
 *	TCP clients answer the greeting's challenge with AUTH
 *	(mq2auth.c computes and compares the HMAC); the auth file line
 *	"user:password:attributes:networks" that matches user and peer
 *	gives the attributes (SNMP QQ TT ETRN KILL ALL NONE) that limit
 *	the commands.  Networks are "[a.b.c.d]/len" or "[ipv6.x::y]/len"
 *	tokens; an IPv4 network also matches a v4-mapped IPv6 peer.
 *	mq_auth_lookup with user NULL says whether any line admits the
 *	peer at all (the listener refuses the connection otherwise).
 *
 *	The auth file is used only when it is a regular file (O_NOFOLLOW)
 *	of at most MQ_AUTHFILE_MAX bytes, owned by root or the scheduler's
 *	uid, without group or other access.
 *
 *	Back-off.  PARAMmailq-auth-failures (default 3) failed AUTHs close
 *	the connection and put the source address into back-off (30 s,
 *	doubled for each further round, at most 1 h; a table of MQ_SRC_MAX
 *	recent sources, the oldest is forgotten first); failures of one
 *	source add up over its connections and are forgotten after an
 *	hour without one.
 * DIAGNOSTICS
 *	Logged: an unusable auth file (at most once a minute unless loud),
 *	a password too long for the buffer (line ignored), failed AUTHs with
 *	the source, back-off, successful AUTH.
 * SECURITY
 *	The auth file holds plain text passwords (ZMailer's format): copies
 *	are wiped with OPENSSL_cleanse after use and never logged.  A
 *	password that does not fit is refused, never cut (a cut password
 *	would accept its prefix).  A user name is logged at most 64 bytes.
 *	An admin name that getpwuid_r cannot give whole matches nothing.
 * BUGS
 *	Admin names are resolved with getpwuid at each UNIX-socket
 *	connection of a non-root user (NSS, in the event loop).
 * SEE ALSO
 *	mqsrv.c, mqsrv_int.h, mq2auth.c, mailq(1), scheduler.conf(5)
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include "mqsrv_int.h"
#include "zerr.h"
#include "zlog.h"
#include "zsecret.h"
#include "zutil.h"

#define MQ_SRC_MAX 128                  /* sources remembered for back-off */
#define MQ_BACKOFF_MIN 30
#define MQ_BACKOFF_MAX 3600
#define MQ_FAIL_FORGET 3600             /* failures older than this are forgotten */

/* a source address's failed AUTHs */
typedef struct mqsrc {
	unsigned char addr[16];  /* IPv4 as v4-mapped IPv6 */
	int used;
	unsigned fails, rounds;
	time_t last, until;
} mqsrc;

static mqsrc srcs[MQ_SRC_MAX];
static time_t authfile_warned;

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

/* mq_authfile_read - the auth file into data when it is a regular file that
 * only its owner (root or our uid) may read or write; Z_OK, or an error
 * that was logged (at most once a minute unless loud) */
int mq_authfile_read(zbuf *data, int loud)
{
	const char *path = mqsrv_q->cfg->authfile;
	zbuf why = ZBUF_INIT(512);
	time_t now = sched_now();
	int rc;

	if (path == NULL)
		return Z_ENOENT;
	/* lib/zsecret: O_NOFOLLOW, a regular file, root's or ours, no group
	 * or other bits, at most MQ_AUTHFILE_MAX bytes */
	rc = zsecret_read(path, MQ_AUTHFILE_MAX, 0, data, &why);
	if (rc != Z_OK && (loud || now - authfile_warned >= 60)) {
		authfile_warned = now;
		zlog_error(NULL, "mailq: PARAMauthfile refused: %s", zbuf_cstr(&why));
	}
	zbuf_free(&why);
	return rc == Z_OK ? Z_OK : Z_ERR;
}

/* mq_auth_lookup - first authfile line for (user or any user when NULL) whose
 * networks contain the peer; copies the password and attributes.
 * 1 found, 0 none, -1 file unusable (logged) */
int mq_auth_lookup(const struct sockaddr_storage *peer, const char *user, char *pw,
		       size_t pwsz, unsigned *attrs)
{
	zbuf data = ZBUF_INIT(MQ_AUTHFILE_MAX);
	int found = -1;
	char line[2048];
	if (mq_authfile_read(&data, 0) != Z_OK)
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

/* mq_src_blocked - seconds the peer still has to wait, 0 if none */
long mq_src_blocked(const struct sockaddr_storage *peer)
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

/* mq_cli_auth - "AUTH user hex" */
void mq_cli_auth(mqcli *c, const char *user, const char *hex)
{
	char pw[512];
	unsigned attrs = 0;
	long lim = mqsrv_q->cfg->mailq_auth_failures > 0 ? mqsrv_q->cfg->mailq_auth_failures : 3;
	const char *bad = MQ2_BAD " USER OR PASSWORD\n";
	int ok = mq_auth_lookup(&c->peer, user, pw, sizeof pw, &attrs) == 1 &&
		 mq2_auth_verify(c->challenge, user, pw, hex) == Z_OK;
	OPENSSL_cleanse(pw, sizeof pw);
	if (!ok) {
		c->fails++;
		zlog_warn(NULL, "mailq: AUTH failed for user '%.64s' from %s (%u of %ld)", user,
			  c->peername, c->fails, lim);
		src_fail(c, lim);
		if (mq_cli_send(c, bad, strlen(bad)) == Z_OK && c->fails >= (unsigned long)lim) {
			zlog_warn(NULL, "mailq: %s: too many failed AUTHs, closing", c->peername);
			c->closing = 1;
			if (c->out.len == 0)
				mq_cli_close(c);
		}
		return;
	}
	mqsrc *s = src_find(&c->peer, 0);
	if (s != NULL)
		s->fails = 0;
	c->authed = 1;
	c->attrs = attrs;
	zlog_info(NULL, "mailq: %s authenticated as '%.64s'", c->peername, user);
	mq_cli_send(c, MQ2_OK "\n", strlen(MQ2_OK) + 1);
}

/* mq_uid_is_admin - root, our own uid, or named in PARAMmailq-admins */
int mq_uid_is_admin(uid_t uid)
{
	const char *l = mqsrv_q->cfg ? mqsrv_q->cfg->mailq_admins : NULL;
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

