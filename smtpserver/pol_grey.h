/*
 * pol_grey.h - greylisting on (client network, sender, recipient) with a
 * minimum retry delay and an allow-list afterwards; one interface, two
 * stores: LMDB (one host, many processes) and Redis (several nodes).
 */
#ifndef ZMTA_POL_GREY_H
#define ZMTA_POL_GREY_H

#include <stddef.h>
#include <time.h>
#include "zbuf.h"
#include "pol_policy.h"

typedef struct pol_grey_cfg {
	long delay;          /* seconds a new triplet must wait (default 300) */
	long retry_window;   /* seconds a new triplet waits for its retry (2 days) */
	long allow_ttl;      /* seconds an allowed triplet lives unseen (35 days) */
	unsigned v4_prefix;  /* client network bits for IPv4 (24) */
	unsigned v6_prefix;  /* client network bits for IPv6 (64) */
} pol_grey_cfg;

/* verdicts (>= 0) of pol_grey_check */
enum {
	POL_GREY_NEW = 0,     /* first sight: defer */
	POL_GREY_EARLY = 1,   /* retried before the delay: defer */
	POL_GREY_PASSED = 2,  /* retried after the delay: accept, now allowed */
	POL_GREY_ALLOWED = 3  /* on the allow-list: accept */
};

#define POL_GREY_LMDB_MAPSIZE_DEFAULT (64ul << 20)

typedef struct pol_grey pol_grey;

/* pol_grey_defaults - the defaults above */
void pol_grey_defaults(pol_grey_cfg *cfg);
/* pol_grey_open_lmdb - the LMDB environment in directory dir (made 0700
 * if missing), map size mapsize bytes (0 = default); open one handle per
 * process, after fork */
int pol_grey_open_lmdb(pol_grey **out, const char *dir, size_t mapsize, const pol_grey_cfg *cfg, zbuf *err);
/* pol_grey_open_redis - endpoint "host:port" (numeric), "[v6]:port" or
 * "unix:/path"; keys are prefix + hash; timeout_ms per command */
int pol_grey_open_redis(pol_grey **out, const char *endpoint, const char *prefix, long timeout_ms,
			const pol_grey_cfg *cfg, zbuf *err);
void pol_grey_close(pol_grey *g);

/* pol_grey_check - look up and update (client_ip, sender, rcpt) at time
 * now: a verdict >= 0 (*remaining = seconds until a retry can pass, for
 * NEW/EARLY), or a negative Z_E* (store failure: the caller decides, the
 * man page says "accept") */
int pol_grey_check(pol_grey *g, const char *client_ip, const char *sender, const char *rcpt, time_t now,
		   long *remaining, zbuf *err);
/* pol_grey_expire - delete entries expired at now (LMDB; Redis expires by
 * itself): number removed or a negative Z_E* */
long pol_grey_expire(pol_grey *g, time_t now, zbuf *err);

/* pol_grey_result - the SMTP answer for a verdict: accept, or 451 4.7.1 */
void pol_grey_result(int verdict, long remaining, pol_result *r);
/* pol_grey_key - the normalised triplet "net/len,sender,rcpt" (lower
 * case) into out; Z_EPARSE for a bad address (exposed for tests) */
int pol_grey_key(const pol_grey_cfg *cfg, const char *client_ip, const char *sender, const char *rcpt, zbuf *out);

#endif
