/*
 * backoff.h - restart delays of the zmta supervisor.
 *
 * A daemon that dies is restarted after a delay that starts at min, doubles
 * with every further death up to max, and falls back to min once the
 * daemon had stayed up for at least reset milliseconds.
 */
#ifndef ZMTA_BACKOFF_H
#define ZMTA_BACKOFF_H

#define BACKOFF_MIN_MS 1000LL
#define BACKOFF_MAX_MS 60000LL
#define BACKOFF_RESET_MS 60000LL

typedef struct backoff {
	long long min_ms, max_ms, reset_ms;
	long long next_ms;	/* delay the next short-lived death gets */
} backoff;

/* backoff_init - min..max doubling, reset after reset_ms of uptime;
 * values <= 0 take the BACKOFF_* defaults, max below min becomes min */
void backoff_init(backoff *b, long long min_ms, long long max_ms, long long reset_ms);
/* backoff_failed - the daemon ran uptime_ms and died: the delay before
 * starting it again (ms); advances the sequence */
long long backoff_failed(backoff *b, long long uptime_ms);

#endif
