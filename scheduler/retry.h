/*
 * retry.h - retry and expiry arithmetic of the scheduler (pure functions,
 * the clock is passed in as "now"; randomness comes from a seeded
 * retry_rng so that tests are repeatable).
 *
 * Model (notes 6.7, the documented intent, none of the [BUG]s):
 *   - A thread (channel, host) carries a retry_state.  A new thread is due
 *     at once (retry_init); a queueonly thread is never due by timer
 *     (wakeup = RETRY_NEVER) until retry_kick() (ETRN / turnme).
 *   - After a round of attempts that left work behind (TA reported
 *     deferred/deferall/retryat, or left the thread, or died), the daemon
 *     calls retry_next() ONCE for the thread.  It waits
 *     retries[retryindex] * interval counted from now, then retryindex++.
 *     Past the end of the list retryindex re-enters at a random position
 *     in [0, nretries-2] (0 when nretries == 1).  With no retries list
 *     one interval is used.
 *   - Alignment ("skew"): the computed time t is moved towards the nearest
 *     multiple of interval by at most interval/skew seconds (down when
 *     t mod interval <= interval/2, else up).  Many threads thus wake
 *     together, which lets TAs be reused, without distorting the table.
 *   - Never in the past: if the result is <= now it is moved forward by
 *     whole intervals until it is > now.
 *   - retryat hint: an agent's "retryat N" / "retryat +N" (converted by
 *     retry_hint_abs()) replaces the computed time when it is later than
 *     now, also when it is longer than any step of the clause's table.
 *     The daemon bounds it first with retry_hint_bound(): at most the
 *     global maximum (PARAMretryat-max, default RETRY_HINT_MAX = 1 day)
 *     ahead and never after the earliest expiry of the messages waiting
 *     in the thread; retry_next() itself only clamps to RETRY_HINT_CEIL.
 *     retryindex still advances (the attempt happened).
 *   - attempts: retry_next() does NOT count attempts; the daemon calls
 *     retry_attempted() once per report line it receives for the thread
 *     (and counts per vertex itself for expiry decisions).  So a round with
 *     three reports adds three attempts and one retry step - never two.
 *
 * Expiry (per recipient group / vertex; arrival = queue file mtime):
 *   soft expiry  now >= arrival+expiry and attempts >= 1
 *                or: the next wakeup would be after arrival+expiry and
 *                attempts >= 1 (no point waiting: the retry would come too
 *                late, so the bounce is sent now);
 *   hard expiry  now >= arrival+expiry+expiry2, attempts irrelevant
 *                (expiry2 is already effective, 1 day when 0 in the file).
 *   expiry 0 = off: nothing expires, neither soft nor hard.
 *
 * Delay warning: due when delay_warning > 0, not yet warned, and
 *   arrival + delay_warning <= now.  The daemon marks the group warned
 *   (persisting that is the daemon's business) and issues a "delayed" DSN
 *   for recipients whose NOTIFY has DELAY (dsn_notify_allows()).
 */
#ifndef ZMTA_RETRY_H
#define ZMTA_RETRY_H

#include <stdint.h>
#include <time.h>
#include "sconf.h"

#define RETRY_NEVER ((time_t)INT64_MAX)  /* "no timer wakeup" */
#define RETRY_HINT_MAX 86400L            /* default PARAMretryat-max: 1 day */
#define RETRY_HINT_CEIL (30L * 86400L)   /* hard ceiling of any retryat hint */

typedef struct retry_state {
	time_t wakeup;        /* next due time; <= now means due; RETRY_NEVER = no timer */
	int retryindex;       /* next index into clause->retries */
	unsigned long attempts; /* reports received for this thread */
} retry_state;

/* small deterministic PRNG (splitmix64); seed it from time/pid in the
 * daemon, with a constant in tests */
typedef struct retry_rng {
	uint64_t s;
} retry_rng;

/* retry_rng_seed - set the seed */
void retry_rng_seed(retry_rng *r, uint64_t seed);
/* retry_rng_below - uniform-enough value in [0, n) (0 when n <= 1) */
unsigned long retry_rng_below(retry_rng *r, unsigned long n);

enum retry_expiry {
	RETRY_KEEP = 0,        /* keep trying */
	RETRY_EXPIRE_SOFT,     /* expiry reached (or next retry too late), >= 1 attempt */
	RETRY_EXPIRE_HARD      /* expiry + expiry2 reached */
};

/* retry_init - new thread: due now, or RETRY_NEVER for queueonly */
void retry_init(retry_state *st, const sconf_clause *c, time_t now);
/* retry_attempted - count one attempt (one report line) */
void retry_attempted(retry_state *st);
/* retry_kick - ETRN/turnme: due now, even for queueonly */
void retry_kick(retry_state *st, time_t now);
/* retry_due - 1 if the thread should start by timer at now */
int retry_due(const retry_state *st, const sconf_clause *c, time_t now);

/* retry_hint_abs - absolute time from a retryat value: relative ? now+n : n;
 * 0 when the result is not later than now (or n is negative) */
time_t retry_hint_abs(time_t now, long n, int relative);
/* retry_hint_bound - hint (absolute, from retry_hint_abs) bounded by
 * now + max (max <= 0: RETRY_HINT_MAX; at most RETRY_HINT_CEIL) and by
 * expiry (0 = no expiry); 0 (no hint: the table decides) when hint is not
 * later than now or expiry is not later than now */
time_t retry_hint_bound(time_t now, time_t hint, long max, time_t expiry);
/* retry_next - schedule the next wakeup after a failed round (see above);
 * hint: absolute time from retry_hint_abs() or 0.  Stores and returns
 * st->wakeup.  queueonly clauses get RETRY_NEVER (retryindex still
 * advances, so an ETRN-driven thread walks the table too). */
time_t retry_next(const sconf_clause *c, retry_state *st, time_t now,
		  retry_rng *rng, time_t hint);
/* retry_align - the skew rule alone: t moved towards a multiple of
 * interval by at most interval/skew (exposed for tests and mailq) */
time_t retry_align(time_t t, long interval, int skew);

/* retry_expiry_time - arrival + expiry, or 0 when expiry is off */
time_t retry_expiry_time(const sconf_clause *c, time_t arrival);
/* retry_expiry2_time - arrival + expiry + expiry2, or 0 when expiry is off */
time_t retry_expiry2_time(const sconf_clause *c, time_t arrival);
/* retry_expiry_check - expiry decision for a vertex with the given number
 * of attempts; next_wakeup = the thread's next wakeup (0 or RETRY_NEVER:
 * skip the "next retry too late" rule) */
enum retry_expiry retry_expiry_check(const sconf_clause *c, time_t arrival,
				     unsigned long attempts, time_t now,
				     time_t next_wakeup);
/* retry_delay_warning_due - 1 when a delay DSN should be sent now */
int retry_delay_warning_due(long delay_warning, time_t arrival, int warned, time_t now);

/* retry_format_age - "2 days 3 hours", "5 hours 10 minutes", "42 seconds"
 * (for "expired after ..." texts); Z_OK or Z_ETOOBIG */
int retry_format_age(long secs, char *buf, size_t bufsz);

#endif
