/*
 * pol_limit.h - the tarpit delay: a calculator that grows after rejections
 * (Plan 9 smtpd -D, ZMailer PARAM tarpit); and the connection table that
 * worker processes share (smtpserver workers N), so that max-connections
 * and max-per-ip count every worker's sessions.  With one process the
 * limits are libzmsmtpd's own.
 */
#ifndef ZMTA_POL_LIMIT_H
#define ZMTA_POL_LIMIT_H

#include <stddef.h>
#include "zbuf.h"

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

/* The shared connection table: made before fork (MAP_SHARED anonymous
 * memory, a robust process-shared mutex), counts per worker 0..
 * POL_CONN_WORKERS-1 and per client address. */
#define POL_CONN_WORKERS 32
#define POL_CONN_SLOTS 8192     /* distinct client addresses at once */
typedef struct pol_conn pol_conn;

/* pol_conn_new - the table, or NULL with the reason in err */
pol_conn *pol_conn_new(zbuf *err);
/* pol_conn_free - unmap (in the process that is done with it) */
void pol_conn_free(pol_conn *t);
/* pol_conn_admit - count a session of worker w from ip unless the total
 * would pass max_conns or ip's count max_per_ip (0: no per-address
 * limit): 0 admitted, 1 too many in total, 2 too many from ip (also
 * when the table is full) */
int pol_conn_admit(pol_conn *t, int w, const char *ip, unsigned long max_conns,
		   unsigned long max_per_ip);
/* pol_conn_release - the admitted session of worker w from ip ended */
void pol_conn_release(pol_conn *t, int w, const char *ip);
/* pol_conn_forget - worker w is gone: drop all its counts */
void pol_conn_forget(pol_conn *t, int w);
/* pol_conn_count - sessions in total (ip NULL) or from ip */
unsigned long pol_conn_count(pol_conn *t, const char *ip);

#endif
