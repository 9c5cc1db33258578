/*
 * NAME
 *	retry - retry, expiry and delay-warning arithmetic of the scheduler
 * SUMMARY
 *	Pure functions over a per-thread retry_state and a clause's
 *	interval/retries/skew/expiry settings; the clock and the random
 *	generator are passed in.
 * SYNOPSIS
 *	void retry_rng_seed(retry_rng *r, uint64_t seed);
 *	unsigned long retry_rng_below(retry_rng *r, unsigned long n);
 *	void retry_init(retry_state *st, const sconf_clause *c, time_t now);
 *	void retry_attempted(retry_state *st);
 *	void retry_kick(retry_state *st, time_t now);
 *	int retry_due(const retry_state *st, const sconf_clause *c, time_t now);
 *	time_t retry_hint_abs(time_t now, long n, int relative);
 *	time_t retry_hint_bound(time_t now, time_t hint, long max,
 *			time_t expiry);
 *	time_t retry_next(const sconf_clause *c, retry_state *st, time_t now,
 *			retry_rng *rng, time_t hint);
 *	time_t retry_align(time_t t, long interval, int skew);
 *	time_t retry_expiry_time(const sconf_clause *c, time_t arrival);
 *	time_t retry_expiry2_time(const sconf_clause *c, time_t arrival);
 *	enum retry_expiry retry_expiry_check(const sconf_clause *c,
 *			time_t arrival, unsigned long attempts, time_t now,
 *			time_t next_wakeup);
 *	int retry_delay_warning_due(long delay_warning, time_t arrival,
 *			int warned, time_t now);
 *	int retry_format_age(long secs, char *buf, size_t bufsz);
 * DESCRIPTION
 *	The rules are written out in retry.h.  In short: the next wakeup is
 *	now + retries[retryindex] * interval, retryindex then advances; past
 *	the end of the table it re-enters at a random index in
 *	[0, nretries-2]; the result is pulled towards a multiple of interval
 *	by at most interval/skew seconds and is always later than now.  An
 *	agent's retryat hint wins when it lies in the future, however it
 *	compares with the table; retry_hint_bound() limits it to the global
 *	maximum and the messages' expiry (retry_next only applies a hard
 *	ceiling of 30 days).  ZMailer's defects (retryindex advanced twice, '=' for '+=' when
 *	catching up with the clock) are not reproduced.
 * DIAGNOSTICS
 *	None: every input is clamped to a sane range.
 * SECURITY
 *	Values come from the configuration and from agents' retryat lines
 *	(untrusted numbers): all sums are done with overflow checks and
 *	clamps, so no input can make a wakeup wrap into the past.
 * BUGS
 *	The random generator is not cryptographic (it only spreads retries).
 * SEE ALSO
 *	retry.h, sconf.h, scheduler.conf(5)
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "retry.h"

_Static_assert(sizeof(time_t) == 8, "64-bit time_t expected (RETRY_NEVER)");

/* t_add - t + d saturating at RETRY_NEVER (d >= 0) */
static time_t t_add(time_t t, long d)
{
	if (d <= 0)
		return t;
	if (t > RETRY_NEVER - d)
		return RETRY_NEVER;
	return t + d;
}

/* retry_rng_seed - set the seed */
void retry_rng_seed(retry_rng *r, uint64_t seed)
{
	r->s = seed;
}

/* rng_next - splitmix64 step */
static uint64_t rng_next(retry_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* retry_rng_below - value in [0, n) */
unsigned long retry_rng_below(retry_rng *r, unsigned long n)
{
	if (n <= 1 || r == NULL)
		return 0;
	return (unsigned long)(rng_next(r) % n);
}

/* retry_init - a new thread */
void retry_init(retry_state *st, const sconf_clause *c, time_t now)
{
	memset(st, 0, sizeof *st);
	st->wakeup = (c != NULL && (c->flags & SCF_QUEUEONLY)) ? RETRY_NEVER : now;
}

/* retry_attempted - count one attempt */
void retry_attempted(retry_state *st)
{
	if (st->attempts < ULONG_MAX)
		st->attempts++;
}

/* retry_kick - ETRN: due now */
void retry_kick(retry_state *st, time_t now)
{
	st->wakeup = now;
}

/* retry_due - timer start allowed now? */
int retry_due(const retry_state *st, const sconf_clause *c, time_t now)
{
	(void)c; /* queueonly threads carry RETRY_NEVER until retry_kick() */
	if (st->wakeup == RETRY_NEVER)
		return 0;
	return st->wakeup <= now;
}

/* retry_hint_abs - absolute time from "retryat [+]N" */
time_t retry_hint_abs(time_t now, long n, int relative)
{
	time_t t;

	if (n < 0)
		return 0;
	t = relative ? t_add(now, n) : (time_t)n;
	return t > now ? t : 0;
}

/* retry_hint_bound - a hint bounded by the global maximum and the expiry */
time_t retry_hint_bound(time_t now, time_t hint, long max, time_t expiry)
{
	time_t lim;

	if (hint <= now)
		return 0;
	if (max <= 0)
		max = RETRY_HINT_MAX;
	if (max > RETRY_HINT_CEIL)
		max = RETRY_HINT_CEIL;
	lim = t_add(now, max);
	if (hint > lim)
		hint = lim;
	if (expiry != 0 && expiry <= now)
		return 0;       /* already due to expire: the table decides */
	if (expiry != 0 && hint > expiry)
		hint = expiry;
	return hint;
}

/* retry_align - pull t towards a multiple of interval by <= interval/skew */
time_t retry_align(time_t t, long interval, int skew)
{
	long r, maxshift;

	if (interval <= 1 || skew < 1 || t <= 0 || t == RETRY_NEVER)
		return t;
	maxshift = interval / skew;
	r = (long)(t % interval);
	if (r == 0 || maxshift == 0)
		return t;
	if (r <= interval / 2)
		return t - (r < maxshift ? r : maxshift);
	r = interval - r;
	return t_add(t, r < maxshift ? r : maxshift);
}

/* retry_next - the next wakeup after a failed round */
time_t retry_next(const sconf_clause *c, retry_state *st, time_t now,
		  retry_rng *rng, time_t hint)
{
	long interval = (c != NULL && c->interval > 0) ? c->interval : 3600;
	int skew = (c != NULL && c->skew > 0) ? c->skew : 5;
	int n = c != NULL ? c->nretries : 0;
	long mult = 1, step;
	time_t t;

	if (n > 0) {
		if (st->retryindex < 0 || st->retryindex >= n)
			st->retryindex = n == 1 ? 0 : (int)retry_rng_below(rng, (unsigned long)(n - 1));
		mult = c->retries[st->retryindex];
		st->retryindex++;
	}
	if (mult < 1)
		mult = 1;
	step = mult > LONG_MAX / interval ? LONG_MAX : mult * interval;
	t = retry_align(t_add(now, step), interval, skew);
	if (t <= now) {
		/* move forward by whole intervals until strictly after now */
		long k = (long)((now - t) / interval) + 1;
		t = t_add(t, k > LONG_MAX / interval ? LONG_MAX : k * interval);
	}
	if (hint > now)
		t = hint < t_add(now, RETRY_HINT_CEIL) ? hint : t_add(now, RETRY_HINT_CEIL);
	if (c != NULL && (c->flags & SCF_QUEUEONLY))
		t = RETRY_NEVER;
	st->wakeup = t;
	return t;
}

/* retry_expiry_time - arrival + expiry or 0 */
time_t retry_expiry_time(const sconf_clause *c, time_t arrival)
{
	if (c == NULL || c->expiry <= 0)
		return 0;
	return t_add(arrival, c->expiry);
}

/* retry_expiry2_time - arrival + expiry + expiry2 or 0 */
time_t retry_expiry2_time(const sconf_clause *c, time_t arrival)
{
	if (c == NULL || c->expiry <= 0)
		return 0;
	return t_add(t_add(arrival, c->expiry), c->expiry2 > 0 ? c->expiry2 : 86400);
}

/* retry_expiry_check - the expiry decision */
enum retry_expiry retry_expiry_check(const sconf_clause *c, time_t arrival,
				     unsigned long attempts, time_t now,
				     time_t next_wakeup)
{
	time_t e1 = retry_expiry_time(c, arrival);
	time_t e2 = retry_expiry2_time(c, arrival);

	if (e1 == 0)
		return RETRY_KEEP;
	if (now >= e2)
		return RETRY_EXPIRE_HARD;
	if (attempts >= 1) {
		if (now >= e1)
			return RETRY_EXPIRE_SOFT;
		if (next_wakeup != 0 && next_wakeup != RETRY_NEVER && next_wakeup > e1)
			return RETRY_EXPIRE_SOFT;
	}
	return RETRY_KEEP;
}

/* retry_delay_warning_due - time for a delay DSN? */
int retry_delay_warning_due(long delay_warning, time_t arrival, int warned, time_t now)
{
	if (delay_warning <= 0 || warned)
		return 0;
	return t_add(arrival, delay_warning) <= now;
}

/* ra_unit - append "N unit[s]" */
static int ra_unit(char *buf, size_t bufsz, size_t *len, long v, const char *unit)
{
	int k;

	k = snprintf(buf + *len, bufsz - *len, "%s%ld %s%s", *len ? " " : "", v, unit,
		     v == 1 ? "" : "s");
	if (k < 0 || (size_t)k >= bufsz - *len)
		return Z_ETOOBIG;
	*len += (size_t)k;
	return Z_OK;
}

/* retry_format_age - "2 days 3 hours" (the two largest non-zero units) */
int retry_format_age(long secs, char *buf, size_t bufsz)
{
	static const struct { long sz; const char *name; } u[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" },
	};
	size_t len = 0;
	int shown = 0;

	if (bufsz == 0)
		return Z_ETOOBIG;
	buf[0] = '\0';
	if (secs < 0)
		secs = 0;
	for (size_t i = 0; i < 4 && shown < 2; i++) {
		long v = secs / u[i].sz;
		secs %= u[i].sz;
		if (v == 0) {
			if (shown)
				break; /* "2 days 5 minutes" would mislead less than help */
			continue;
		}
		if (ra_unit(buf, bufsz, &len, v, u[i].name) != Z_OK)
			return Z_ETOOBIG;
		shown++;
	}
	if (!shown)
		return ra_unit(buf, bufsz, &len, 0, "second");
	return Z_OK;
}
