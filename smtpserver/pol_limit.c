/*
 * NAME
 *	pol_limit - the tarpit delay
 * SUMMARY
 *	Computes the delay before a reply from the number of rejections so
 *	far (Plan 9 smtpd -D); libzmsmtpd applies it.
 * SYNOPSIS
 *	void pol_tarpit_defaults(pol_tarpit_cfg *cfg)
 *	long pol_tarpit_delay(const pol_tarpit_cfg *cfg, unsigned rejects)
 *	int pol_tarpit_drop(const pol_tarpit_cfg *cfg, unsigned rejects)
 * DESCRIPTION
 *	The tarpit delay after n >= 1 rejections is
 *	min(max_ms, initial_ms * factor^(n-1)); before any rejection 0.
 *	The greeting delay is cfg->greet_ms, applied by the caller.
 * DIAGNOSTICS
 *	None: pure computation, overflow-safe.
 * SECURITY
 *	The delay is capped by max_ms whatever the number of rejections.
 * BUGS
 *	Connection limits (in total and per client address) are not here:
 *	libzmsmtpd counts its own sessions (max-connections, max-per-ip).
 * SEE ALSO
 *	smtpserver.conf(5) tarpit, libzmsmtpd(3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pol_limit.h"

/* pol_tarpit_defaults - Plan 9 -D values */
void pol_tarpit_defaults(pol_tarpit_cfg *cfg)
{
	cfg->greet_ms = 15000;
	cfg->initial_ms = 4000;
	cfg->factor = 2;
	cfg->max_ms = 60000;
	cfg->max_rejects = 100;
}

/* pol_tarpit_delay - min(max, initial * factor^(n-1)), overflow-safe */
long pol_tarpit_delay(const pol_tarpit_cfg *cfg, unsigned rejects)
{
	long d;

	if (rejects == 0 || cfg->initial_ms <= 0)
		return 0;
	d = cfg->initial_ms;
	if (cfg->max_ms >= 0 && d > cfg->max_ms)
		return cfg->max_ms;
	for (unsigned i = 1; i < rejects; i++) {
		if (cfg->factor <= 1)
			break;
		if (d > (cfg->max_ms >= 0 ? cfg->max_ms : 86400000L) / (long)cfg->factor)
			return cfg->max_ms >= 0 ? cfg->max_ms : 86400000L;
		d *= (long)cfg->factor;
	}
	if (cfg->max_ms >= 0 && d > cfg->max_ms)
		d = cfg->max_ms;
	return d;
}

/* pol_tarpit_drop - the session had too many rejections */
int pol_tarpit_drop(const pol_tarpit_cfg *cfg, unsigned rejects)
{
	return cfg->max_rejects != 0 && rejects >= cfg->max_rejects;
}
