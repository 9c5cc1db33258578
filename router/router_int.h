/*
 * router_int.h - internals shared by the router daemon's modules
 *
 * router.c (daemon loop, work queue, signals), rjob.c (one submission
 * file: read, parse, resolve, build its control file) and rcommit.c
 * (the batch commit: temp control files, renames, one directory fsync
 * per batch, scheduler notification; recovery and set-aside).  Not an
 * API: only the router program includes it.
 */
#ifndef ZMTA_ROUTER_INT_H
#define ZMTA_ROUTER_INT_H

#include <sys/types.h>

#include "route.h"
#include "spool.h"
#include "zbuf.h"

#define RTR_REL_MAX 80   /* "router/X/<ino>", "public/<ino>" */

/* what a file became (also a worker's exit code: the worst of its batch) */
enum { W_DONE = 0, W_DEFERRED = 1, W_POSTMAN = 2, W_SKIPPED = 3, W_FAILED = 4 };

/* what a worker needs from the master */
struct rtr_ctx {
	const rt_config *rt;
	int hashlevels;
	uid_t self_uid;
};

/* a message whose control file is written (not yet fsynced) and whose
 * rename waits for the batch commit */
struct rtr_staged {
	char rel[RTR_REL_MAX];       /* router/123 or public/123 */
	unsigned long ino;
	char id[SPOOL_ID_MAX];
	char prefix[8];              /* hash prefix: "", "A/", "A/B/" */
	int srcfd;                   /* the submission, flocked */
	int tmpfd;                   /* transport/<prefix>.<ino>, flocked */
	char *logline;               /* logged once committed */
};

/* router.c helpers */
int rtr_is_digits(const char *s);
unsigned long rtr_ino_of_rel(const char *rel);

/* rjob.c: one file up to its staged control file */
int rtr_prepare(const struct rtr_ctx *cx, const char *rel, struct rtr_staged *out);

/* rcommit.c */
int rtr_stage(const char *rel, unsigned long ino, const char *id, int hashlevels,
	      const zbuf *ctl, struct rtr_staged *out);
int rtr_work_batch(const struct rtr_ctx *cx, char (*rels)[RTR_REL_MAX], size_t n);
int rtr_to_postman(const char *rel, unsigned long ino, const char *id, const char *tag,
		   const char *reason);
int rtr_to_deferred(const char *rel, unsigned long ino, const char *id, const char *reason);
void rtr_recover(int hashlevels, int (*busy)(unsigned long ino));
void rtr_notify_scheduler(const char *relname);

#endif
