/*
 * NAME
 *	backoff - restart delays of the zmta supervisor
 * SUMMARY
 *	1 s, 2 s, 4 s, ... up to 60 s between restarts of a daemon that keeps
 *	dying; back to 1 s after it stayed up a while.
 * SYNOPSIS
 *	void backoff_init(backoff *b, long long min_ms, long long max_ms,
 *			  long long reset_ms);
 *	long long backoff_failed(backoff *b, long long uptime_ms);
 * DESCRIPTION
 *	backoff_failed is called once per death with how long the daemon had
 *	run.  When that was at least reset_ms the sequence starts over at
 *	min_ms; otherwise the delay is the current step, and the step after
 *	it is twice as long, never more than max_ms.  Pure arithmetic, no
 *	clock: the caller measures uptime (monotonic clock).
 * DIAGNOSTICS
 *	None; out-of-range arguments are clamped.
 * SECURITY
 *	No input from outside.
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmta(8), zmtactl/supervise.c
 */
#include "backoff.h"

/* backoff_init - set the bounds and start the sequence at min */
void backoff_init(backoff *b, long long min_ms, long long max_ms, long long reset_ms)
{
	b->min_ms = min_ms > 0 ? min_ms : BACKOFF_MIN_MS;
	b->max_ms = max_ms > 0 ? max_ms : BACKOFF_MAX_MS;
	if (b->max_ms < b->min_ms)
		b->max_ms = b->min_ms;
	b->reset_ms = reset_ms > 0 ? reset_ms : BACKOFF_RESET_MS;
	b->next_ms = b->min_ms;
}

/* backoff_failed - delay before the next start of a daemon that ran uptime_ms */
long long backoff_failed(backoff *b, long long uptime_ms)
{
	long long d;

	if (uptime_ms >= b->reset_ms)
		b->next_ms = b->min_ms;
	if (b->next_ms < b->min_ms || b->next_ms > b->max_ms)
		b->next_ms = b->min_ms;
	d = b->next_ms;
	b->next_ms = d > b->max_ms / 2 ? b->max_ms : d * 2;
	return d;
}
