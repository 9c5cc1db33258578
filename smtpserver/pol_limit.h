/*
 * pol_limit.h - connection counting per client address and the tarpit delay.
 *
 * A small in-memory table (bounded at creation) that the listener consults
 * before it starts a session, and a delay calculator that grows after
 * rejections (Plan 9 smtpd -D, ZMailer PARAM tarpit).
 */
#ifndef ZMTA_POL_LIMIT_H
#define ZMTA_POL_LIMIT_H

#include <stddef.h>
#include "zbuf.h"

/* results of pol_conn_acquire besides Z_OK */
#define POL_LIMIT_TOTAL 1   /* max_total connections reached */
#define POL_LIMIT_PER_IP 2  /* max_per_ip connections from this address */

typedef struct pol_conn_table pol_conn_table;

/* pol_conn_new - table for at most max_total connections (1..1000000),
 * at most max_per_ip (0 = no per-address limit) from one address; NULL on
 * ENOMEM or bad bounds (reason in err) */
pol_conn_table *pol_conn_new(unsigned max_total, unsigned max_per_ip, zbuf *err);
void pol_conn_free(pol_conn_table *t);
/* pol_conn_acquire - count one more connection from ip (text, IPv4 or
 * IPv6): Z_OK, POL_LIMIT_TOTAL, POL_LIMIT_PER_IP, or Z_EPARSE (bad ip) */
int pol_conn_acquire(pol_conn_table *t, const char *ip);
/* pol_conn_release - that connection ended; Z_ENOENT if it was not counted */
int pol_conn_release(pol_conn_table *t, const char *ip);
/* pol_conn_count - live connections from ip; pol_conn_total - all */
unsigned pol_conn_count(const pol_conn_table *t, const char *ip);
unsigned pol_conn_total(const pol_conn_table *t);

/* The tarpit: all times in milliseconds. */
typedef struct pol_tarpit_cfg {
	long greet_ms;       /* before the greeting / HELO reply (Plan 9: 15 s) */
	long initial_ms;     /* after the first rejection (Plan 9: 4 s) */
	unsigned factor;     /* growth per further rejection (Plan 9: 2) */
	long max_ms;         /* cap of one delay */
	unsigned max_rejects;/* then drop the client (Plan 9: 100; 0 = never) */
} pol_tarpit_cfg;

/* pol_tarpit_defaults - the Plan 9 -D values, cap 60 s */
void pol_tarpit_defaults(pol_tarpit_cfg *cfg);
/* pol_tarpit_delay - delay before the next reply after `rejects`
 * rejections in this session (0 when rejects == 0) */
long pol_tarpit_delay(const pol_tarpit_cfg *cfg, unsigned rejects);
/* pol_tarpit_drop - 1 when the session should be dropped now */
int pol_tarpit_drop(const pol_tarpit_cfg *cfg, unsigned rejects);

#endif
