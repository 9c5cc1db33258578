/*
 * pol_limit.h - the tarpit delay: a calculator that grows after rejections
 * (Plan 9 smtpd -D, ZMailer PARAM tarpit).  Connection limits are
 * libzmsmtpd's own (max-connections, max-per-ip).
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

#endif
