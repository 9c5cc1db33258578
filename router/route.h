/*
 * route.h - librouter: resolve a recipient address to (channel, host,
 * user, privilege) quads from the tables declared in router.conf(5).
 *
 * The router daemon uses it for every envelope recipient; the coming
 * smtpserver links it to validate recipients at RCPT time.  Tables are
 * text, parsed at load: aliases(5), virtual maps, routes.  A loaded
 * rt_config is read-only and may be shared; rt_changed tells when a
 * file behind it changed so the caller may load a new one.
 */
#ifndef ZMTA_ROUTE_H
#define ZMTA_ROUTE_H

#include <stddef.h>
#include <sys/types.h>
#include "zbuf.h"

#define RT_MAX_DEPTH 16        /* alias / virtual nesting */
#define RT_MAX_RESULTS 1000    /* quads from one address */
#define RT_LINE_MAX 4096       /* one logical line of a table */
#define RT_FILE_MAX (16u * 1024u * 1024u)   /* one table file */
#define RT_INCLUDE_DEPTH 8     /* nested include / :include: */

typedef struct rt_dest {
	char channel[32];
	char host[300];
	char user[1024];
	long priv;
	char sender[300];      /* "" keeps the envelope sender; owner-<list>@host */
	char status[16];       /* channel error/hold: RFC 3463 code, e.g. 5.1.1 */
	char reason[256];      /* channel error/hold: why */
} rt_dest;

typedef struct rt_result {
	rt_dest *v;
	size_t n, cap;
} rt_result;

typedef struct rt_config rt_config;

/* rt_new - an empty configuration (hostname from gethostname) */
rt_config *rt_new(void);
/* rt_free - release c (NULL is fine) */
void rt_free(rt_config *c);
/* rt_load - read router.conf at path and every table it names.  Z_OK, or
 * Z_EPARSE/Z_EIO with "file:line: reason" in err and *out NULL */
int rt_load(const char *path, rt_config **out, zbuf *err);
/* rt_parse_conf - router.conf text (name is used in messages; relative
 * paths are taken from dir, may be NULL) */
int rt_parse_conf(rt_config *c, const char *name, const char *dir, const char *data,
		  size_t len, zbuf *err);
/* rt_parse_aliases - aliases(5) text; owner is the file owner's uid
 * (privilege of |program and /file targets; 0 means DEFAULT_PRIVILEGE) */
int rt_parse_aliases(rt_config *c, const char *name, const char *data, size_t len,
		     uid_t owner, zbuf *err);
/* rt_parse_map - "key value" table text into the virtual or routes map
 * (which: 'v' or 'r') */
int rt_parse_map(rt_config *c, int which, const char *name, const char *data, size_t len,
		 zbuf *err);
/* rt_finish - check cross references after parsing (call once) */
int rt_finish(rt_config *c, zbuf *err);

/* rt_changed - 1 when a file read by rt_load has changed or vanished */
int rt_changed(const rt_config *c);
/* rt_report - "table entries" lines for router -n */
int rt_report(const rt_config *c, zbuf *out);

/* rt_resolve - addr (local, local@domain or <...>) to quads appended to
 * res (duplicates suppressed).  Unknown users and loops give channel
 * "error" quads with status and reason; Z_OK then.  Z_ETOOBIG past
 * RT_MAX_RESULTS, Z_EPARSE for an unusable address (reason in err). */
int rt_resolve(const rt_config *c, const char *addr, rt_result *res, zbuf *err);
void rt_result_free(rt_result *r);

/* accessors */
const char *rt_myhostname(const rt_config *c);
const char *rt_mydomain(const rt_config *c);
unsigned long rt_hop_limit(const rt_config *c);
/* rt_is_local_domain - 1 when dom (any case) is one of ours */
int rt_is_local_domain(const rt_config *c, const char *dom);
/* rt_set_userdb - tests: look local users up with fn instead of getpwnam
 * (fn returns 1 and fills uid when the login exists) */
typedef int (*rt_userdb_fn)(const char *login, uid_t *uid);
void rt_set_userdb(rt_config *c, rt_userdb_fn fn);
/* rt_set_noload - fuzzing: include/aliases/virtual/routes lines are
 * checked, but no file is read */
void rt_set_noload(rt_config *c, int on);

#endif
