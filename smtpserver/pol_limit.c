/*
 * NAME
 *	pol_limit - the tarpit delay; the connection table of the workers
 * SUMMARY
 *	Computes the delay before a reply from the number of rejections so
 *	far (Plan 9 smtpd -D); libzmsmtpd applies it.  Counts the sessions
 *	of all smtpserver worker processes, in total and per client address.
 * SYNOPSIS
 *	void pol_tarpit_defaults(pol_tarpit_cfg *cfg)
 *	long pol_tarpit_delay(const pol_tarpit_cfg *cfg, unsigned rejects)
 *	int pol_tarpit_drop(const pol_tarpit_cfg *cfg, unsigned rejects)
 *	pol_conn *pol_conn_new(zbuf *err); void pol_conn_free(pol_conn *t)
 *	int pol_conn_admit(pol_conn *t, int w, const char *ip, max_conns, max_per_ip)
 *	void pol_conn_release(pol_conn *t, int w, const char *ip)
 *	void pol_conn_forget(pol_conn *t, int w)
 *	unsigned long pol_conn_count(pol_conn *t, const char *ip)
 * DESCRIPTION
 *	The tarpit delay after n >= 1 rejections is
 *	min(max_ms, initial_ms * factor^(n-1)); before any rejection 0.
 *	The greeting delay is cfg->greet_ms, applied by the caller.
 *	The connection table lives in MAP_SHARED|MAP_ANONYMOUS memory made
 *	before fork: an open-addressing hash of client addresses (linear
 *	probing, backward-shift deletion) with one count per worker, and a
 *	total per worker, under a robust process-shared mutex.  Counting
 *	per worker lets the parent drop a dead worker's sessions
 *	(pol_conn_forget deletes the entries that empties in place, no
 *	allocation under the mutex); a worker that
 *	died holding the mutex leaves it to the next locker
 *	(EOWNERDEAD, pthread_mutex_consistent).
 * DIAGNOSTICS
 *	The tarpit: none, pure computation, overflow-safe.  pol_conn_new
 *	says why mmap or the mutex failed.
 * SECURITY
 *	The delay is capped by max_ms whatever the number of rejections.
 *	The table is fixed size (POL_CONN_SLOTS addresses): when full, a new
 *	address is refused (421) rather than let past the limits.
 * BUGS
 *	A PROXY-protocol session is counted under the proxy's address.
 * SEE ALSO
 *	smtpserver.conf(5) tarpit, workers; libzmsmtpd(3) admit; smtpd_workers.c
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* ---- the connection table shared by worker processes ---- */

typedef struct conn_ent {
	unsigned total;                   /* 0: slot free */
	unsigned n[POL_CONN_WORKERS];
	char ip[48];
} conn_ent;

struct pol_conn {
	pthread_mutex_t mu;
	unsigned long wtotal[POL_CONN_WORKERS];
	unsigned long total;
	conn_ent e[POL_CONN_SLOTS];
};

pol_conn *pol_conn_new(zbuf *err)
{
	pthread_mutexattr_t a;
	pol_conn *t;
	int rc;

	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED) {
		zbuf_printf(err, "connection table: mmap: %s", strerror(errno));
		return NULL;
	}
	if ((rc = pthread_mutexattr_init(&a)) != 0 ||
	    (rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) != 0 ||
	    (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (rc = pthread_mutex_init(&t->mu, &a)) != 0) {
		zbuf_printf(err, "connection table: mutex: %s", strerror(rc));
		munmap(t, sizeof(*t));
		return NULL;
	}
	pthread_mutexattr_destroy(&a);
	return t;
}

void pol_conn_free(pol_conn *t)
{
	if (t != NULL)
		munmap(t, sizeof(*t));
}

static void conn_lock(pol_conn *t)
{
	if (pthread_mutex_lock(&t->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&t->mu);   /* the parent forgets the dead worker */
}

/* conn_hash - FNV-1a of the address */
static size_t conn_hash(const char *ip)
{
	uint32_t h = 2166136261u;

	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h & (POL_CONN_SLOTS - 1);
}

/* conn_find - ip's slot, or the free slot where it goes; -1: table full */
static long conn_find(pol_conn *t, const char *ip)
{
	size_t i = conn_hash(ip);

	for (size_t k = 0; k < POL_CONN_SLOTS; k++, i = (i + 1) & (POL_CONN_SLOTS - 1))
		if (t->e[i].total == 0 || strcmp(t->e[i].ip, ip) == 0)
			return (long)i;
	return -1;
}

/* conn_del - free slot i, moving later entries of its run back */
static void conn_del(pol_conn *t, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t k;
		j = (j + 1) & (POL_CONN_SLOTS - 1);
		if (t->e[j].total == 0)
			break;
		k = conn_hash(t->e[j].ip);
		/* j stays when its home k lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->e[i] = t->e[j];
		/* j is the hole now: free at once, so that in a full table
		 * the scan stops when it comes round to it */
		t->e[j].total = 0;
		i = j;
	}
	memset(&t->e[i], 0, sizeof(t->e[i]));
}

int pol_conn_admit(pol_conn *t, int w, const char *ip, unsigned long max_conns,
		   unsigned long max_per_ip)
{
	long i;
	int rc = 0;

	if (w < 0 || w >= POL_CONN_WORKERS || strlen(ip) >= sizeof(t->e[0].ip))
		return 2;
	conn_lock(t);
	i = conn_find(t, ip);
	if (t->total >= max_conns)
		rc = 1;
	else if (i < 0 || (max_per_ip > 0 && t->e[i].total >= max_per_ip))
		rc = 2;
	else {
		if (t->e[i].total == 0)
			memcpy(t->e[i].ip, ip, strlen(ip) + 1);
		t->e[i].total++;
		t->e[i].n[w]++;
		t->wtotal[w]++;
		t->total++;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void pol_conn_release(pol_conn *t, int w, const char *ip)
{
	long i;

	if (w < 0 || w >= POL_CONN_WORKERS)
		return;
	conn_lock(t);
	i = conn_find(t, ip);
	if (i >= 0 && t->e[i].total > 0 && t->e[i].n[w] > 0) {
		t->e[i].n[w]--;
		t->wtotal[w]--;
		t->total--;
		if (--t->e[i].total == 0)
			conn_del(t, (size_t)i);
	}
	pthread_mutex_unlock(&t->mu);
}

/* conn_sweep - drop worker w's counts from every slot, going once round
 * the table from slot s; 1 if an entry was deleted */
static int conn_sweep(pol_conn *t, int w, size_t s)
{
	int deleted = 0;

	for (size_t k = 0; k < POL_CONN_SLOTS; k++) {
		size_t i = (s + k) & (POL_CONN_SLOTS - 1);
		while (t->e[i].total != 0 && t->e[i].n[w] != 0) {
			t->e[i].total -= t->e[i].n[w];
			t->e[i].n[w] = 0;
			if (t->e[i].total != 0)
				break;
			/* the run's later entries move back, one maybe into
			 * slot i: look at it again */
			conn_del(t, i);
			deleted = 1;
		}
	}
	return deleted;
}

void pol_conn_forget(pol_conn *t, int w)
{
	size_t s = 0;

	if (w < 0 || w >= POL_CONN_WORKERS)
		return;
	conn_lock(t);
	t->total -= t->wtotal[w];
	t->wtotal[w] = 0;
	/* Emptied entries are deleted where they are (backward shift), no
	 * copy of the table.  Deletion moves entries only back within their
	 * probe run, never past the free slot before it: a sweep that starts
	 * at a free slot meets every entry after any move.  A full table has
	 * none; a sweep from 0 frees one if it deletes, then one more from
	 * that free slot catches what a move carried behind the first. */
	while (s < POL_CONN_SLOTS && t->e[s].total != 0)
		s++;
	if (s == POL_CONN_SLOTS && conn_sweep(t, w, 0)) {
		for (s = 0; t->e[s].total != 0; s++)
			;
	}
	if (s < POL_CONN_SLOTS)
		(void)conn_sweep(t, w, s);
	pthread_mutex_unlock(&t->mu);
}

unsigned long pol_conn_count(pol_conn *t, const char *ip)
{
	unsigned long n;
	long i;

	conn_lock(t);
	if (ip == NULL)
		n = t->total;
	else
		n = (i = conn_find(t, ip)) >= 0 ? t->e[i].total : 0;
	pthread_mutex_unlock(&t->mu);
	return n;
}
