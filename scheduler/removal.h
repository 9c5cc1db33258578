/*
 * removal.h - group commit of the removal of finished messages
 * (scheduler(8)): control files first (durably), then their bodies.
 */
#ifndef ZMTA_SCHED_REMOVAL_H
#define ZMTA_SCHED_REMOVAL_H
#include <stddef.h>
#include "zevent.h"

#define REMOVAL_MAX 4096          /* bodies per batch */

typedef struct removal {
	char (*body)[96];      /* queue/ paths relative to transport/ ("" = none) */
	char (*dir)[8];        /* hash prefix of the control file */
	size_t n, max;
	int armed;             /* a flush timer is pending on loop */
	zev_loop *loop;        /* NULL: flush only when asked (tests, exit) */
} removal;

/* removal_init - an empty batch of at most max (0: REMOVAL_MAX) entries;
 * with a loop, the first entry arms a zero-delay flush timer */
void removal_init(removal *rm, zev_loop *loop, size_t max);
/* removal_add - the control file <prefix><ino> (relative to the current
 * directory, transport/) was unlinked: remember its body qpath (NULL =
 * none) for after the directory holding it is synced; flushes first when
 * the batch is full, works unbatched when there is no memory */
void removal_add(removal *rm, const char *prefix, const char *qpath, const char *id);
/* removal_flush - sync each directory that lost control files once, then
 * unlink the bodies and sync each of their directories once */
void removal_flush(removal *rm);
/* removal_free - flush and release the batch */
void removal_free(removal *rm);

#endif
