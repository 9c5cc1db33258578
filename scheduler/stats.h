/*
 * stats.h - the scheduler's event counters (mailq SHOW COUNTERS), one
 * struct owned by the daemon and handed to each module that counts.
 */
#ifndef ZMTA_SCHED_STATS_H
#define ZMTA_SCHED_STATS_H

typedef struct sched_stats {
	unsigned long c_forks, c_delivered, c_failed, c_deferred, c_expired,
		c_reports, c_dsn, c_quarantined;
} sched_stats;

#endif
