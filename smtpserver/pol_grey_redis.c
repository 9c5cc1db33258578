/*
 * NAME
 *	pol_grey_redis - the greylist store in Redis (several zmta nodes)
 * SUMMARY
 *	Keys prefix+hash with the record text as value and a TTL, so Redis
 *	expires old entries by itself.
 * SYNOPSIS
 *	int grey_open_redis(pol_grey *g, const char *endpoint,
 *	                    const char *prefix, long timeout_ms, zbuf *err)
 * DESCRIPTION
 *	Endpoint "A.B.C.D:port", "[v6]:port" or "unix:/path" (numeric: no
 *	resolver).  Each check is WATCH key, GET key, decide, MULTI, SET key
 *	value EX ttl, EXEC; when another node changed the key in between,
 *	EXEC fails and the check starts over (at most 3 times).  A broken
 *	connection is dropped and made again at the next check (once per
 *	check).  timeout_ms bounds connect and every command.
 * DIAGNOSTICS
 *	Z_EIO with "greylist redis ENDPOINT: reason" in err.
 * SECURITY
 *	No AUTH/TLS to Redis: run it on a trusted network or a UNIX socket.
 *	Keys are hashes; values are our own text, decoded strictly.
 * BUGS
 *	No Redis AUTH or database selection yet (use a prefix).
 * SEE ALSO
 *	hiredis, redis-server(1), pol_grey.c
 */
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "pol_grey_int.h"
#include "zutil.h"

struct redis_be {
	redisContext *c;
	char host[256];  /* address, or socket path when unix */
	int port;        /* 0 for a UNIX socket */
	char prefix[128];
	long timeout_ms;
};

/* rdrop - forget the connection */
static void rdrop(struct redis_be *b)
{
	if (b->c != NULL)
		redisFree(b->c);
	b->c = NULL;
}

/* rconnect - connect if needed */
static int rconnect(struct redis_be *b, zbuf *err)
{
	struct timeval tv = { b->timeout_ms / 1000, (b->timeout_ms % 1000) * 1000 };

	if (b->c != NULL)
		return Z_OK;
	b->c = b->port ? redisConnectWithTimeout(b->host, b->port, tv) : redisConnectUnixWithTimeout(b->host, tv);
	if (b->c == NULL || b->c->err) {
		zbuf_printf(err, "greylist redis %s:%d: connect: %s", b->host, b->port,
			    b->c ? b->c->errstr : "out of memory");
		rdrop(b);
		return Z_EIO;
	}
	if (redisSetTimeout(b->c, tv) != REDIS_OK) {
		zbuf_printf(err, "greylist redis %s:%d: cannot set timeout", b->host, b->port);
		rdrop(b);
		return Z_EIO;
	}
	return Z_OK;
}

/* cmd_ok - run a command expecting a status/any non-error reply */
static redisReply *cmd(struct redis_be *b, zbuf *err, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = redisvCommand(b->c, fmt, ap);
	va_end(ap);
	if (r == NULL) {
		zbuf_printf(err, "greylist redis %s:%d: %s", b->host, b->port, b->c->errstr);
		rdrop(b);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		zbuf_printf(err, "greylist redis %s:%d: %.*s", b->host, b->port, (int)r->len, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* attempt - one optimistic transaction: verdict, Z_EAGAIN (conflict), Z_EIO */
static int attempt(pol_grey *g, const char *key, time_t now, long *remaining, zbuf *err)
{
	struct redis_be *b = g->be;
	redisReply *r;
	grey_rec old, nr;
	char enc[GREY_REC_MAX];
	long ttl;
	int have = 0, verdict;

	if ((r = cmd(b, err, "WATCH %s%s", b->prefix, key)) == NULL)
		return Z_EIO;
	freeReplyObject(r);
	if ((r = cmd(b, err, "GET %s%s", b->prefix, key)) == NULL)
		return Z_EIO;
	if (r->type == REDIS_REPLY_STRING)
		have = grey_rec_decode(r->str, r->len, &old) == Z_OK;
	freeReplyObject(r);
	verdict = grey_decide(&g->cfg, have ? &old : NULL, now, &nr, &ttl, remaining);
	if (grey_rec_encode(&nr, enc, sizeof(enc)) != Z_OK)
		return Z_ERR;
	if (ttl < 1)
		ttl = 1;
	if ((r = cmd(b, err, "MULTI")) == NULL)
		return Z_EIO;
	freeReplyObject(r);
	if ((r = cmd(b, err, "SET %s%s %s EX %ld", b->prefix, key, enc, ttl)) == NULL)
		return Z_EIO;
	freeReplyObject(r);
	if ((r = cmd(b, err, "EXEC")) == NULL)
		return Z_EIO;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return Z_EAGAIN;
	}
	freeReplyObject(r);
	return verdict;
}

/* redis_check - up to 3 optimistic attempts, one reconnect */
static int redis_check(pol_grey *g, const char *key, time_t now, long *remaining, zbuf *err)
{
	struct redis_be *b = g->be;
	int rc = Z_EIO, reconnects = 0;

	for (int i = 0; i < 3; i++) {
		int fresh = b->c == NULL;
		if (rconnect(b, err) != Z_OK)
			return Z_EIO;
		rc = attempt(g, key, now, remaining, err);
		if (rc >= 0)
			return rc;
		if (rc == Z_EIO) {
			rdrop(b);
			if (fresh || reconnects++ > 0)
				return rc;
			zbuf_reset(err);
		}
	}
	if (rc == Z_EAGAIN)
		zbuf_printf(err, "greylist redis %s:%d: key kept changing", b->host, b->port);
	return rc == Z_EAGAIN ? Z_EIO : rc;
}

/* redis_expire - Redis expires keys by their TTL */
static long redis_expire(pol_grey *g, time_t now, zbuf *err)
{
	return 0;
}

/* redis_close - drop the connection */
static void redis_close(pol_grey *g)
{
	struct redis_be *b = g->be;

	if (b == NULL)
		return;
	rdrop(b);
	free(b);
	g->be = NULL;
}

static const struct grey_ops redis_ops = { redis_check, redis_expire, redis_close };

/* grey_open_redis - parse the endpoint and connect */
int grey_open_redis(pol_grey *g, const char *endpoint, const char *prefix, long timeout_ms, zbuf *err)
{
	struct redis_be *b = calloc(1, sizeof(*b));
	unsigned char tmp[16];
	int rc;

	if (b == NULL) {
		zbuf_puts(err, "out of memory");
		return Z_ENOMEM;
	}
	g->be = b;
	g->ops = &redis_ops;
	b->timeout_ms = timeout_ms;
	if (zstrlcpy(b->prefix, prefix, sizeof(b->prefix)) != Z_OK || strpbrk(prefix, " \t\r\n") != NULL)
		goto bad;
	if (strncmp(endpoint, "unix:", 5) == 0) {
		if (endpoint[5] != '/' || zstrlcpy(b->host, endpoint + 5, sizeof(b->host)) != Z_OK)
			goto bad;
	} else {
		const char *hs = endpoint, *colon;
		size_t hl;
		unsigned long port;
		if (endpoint[0] == '[') {
			const char *rb = strchr(endpoint, ']');
			if (rb == NULL || rb[1] != ':')
				goto bad;
			hs = endpoint + 1;
			hl = (size_t)(rb - hs);
			colon = rb + 1;
		} else {
			colon = strrchr(endpoint, ':');
			if (colon == NULL)
				goto bad;
			hl = (size_t)(colon - endpoint);
		}
		if (hl == 0 || hl >= sizeof(b->host) || zparse_ulong(colon + 1, 65535, &port) != Z_OK || port == 0)
			goto bad;
		memcpy(b->host, hs, hl);
		b->host[hl] = '\0';
		if (inet_pton(AF_INET, b->host, tmp) != 1 && inet_pton(AF_INET6, b->host, tmp) != 1)
			goto bad;
		b->port = (int)port;
	}
	rc = rconnect(b, err);
	if (rc != Z_OK) {
		redis_close(g);
		return rc;
	}
	return Z_OK;
bad:
	zbuf_printf(err, "greylist redis '%s': want ADDRESS:PORT (numeric) or unix:/path, and a prefix without blanks",
		    endpoint);
	redis_close(g);
	return Z_EPARSE;
}
