/*
 * smtpd_workers.h - smtpserver's worker processes (smtpserver.conf
 * workers N, -w N): a small parent forks N workers that share the
 * listeners and the connection table, forwards SIGHUP and SIGTERM, and
 * restarts a worker that dies.  See smtpd_workers.c.
 */
#ifndef ZMTA_SMTPD_WORKERS_H
#define ZMTA_SMTPD_WORKERS_H

#include "pol_limit.h"

/* smtpd_workers_run - block SIGHUP, SIGTERM, SIGINT and SIGCHLD, fork n
 * workers and supervise them.  Returns in a worker its index 0..n-1,
 * with those signals still blocked (smtpd_workers_unblock once its
 * handlers are in place); *hups is then the number of SIGHUPs the parent
 * had seen (nonzero: reload first).  Returns -1 in the parent once every
 * worker has exited after SIGTERM or SIGINT.  t: the connection table
 * (a dead worker's counts are dropped); stop(arg) is called in the parent
 * on SIGTERM/SIGINT before the workers are told (close the listeners) */
int smtpd_workers_run(int n, pol_conn *t, unsigned *hups, void (*stop)(void *arg), void *arg);
/* smtpd_workers_unblock - the signal mask from before smtpd_workers_run */
void smtpd_workers_unblock(void);

#endif
