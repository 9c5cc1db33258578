/*
 * NAME
 *	removal.c - group commit of the removal of finished messages
 * SUMMARY
 *	A finished message's control file is unlinked by the completion
 *	module at once; its body waits in a batch here.  removal_flush()
 *	(run from the event loop right after the events that finished them,
 *	and before exit) fsyncs each transport/ directory that lost control
 *	files once, then unlinks the bodies and fsyncs each queue/ directory
 *	once.
 * SYNOPSIS
 *	removal_init, removal_add, removal_flush, removal_free
 * DESCRIPTION
 *	The order "control file gone (durably), then body" holds for every
 *	message, with two fsyncs per batch instead of three per message.  A
 *	crash between the two steps leaves a body without a control file in
 *	queue/, never the reverse.  The batch is allocated on first use; a
 *	full batch is flushed before the next entry; without memory for a
 *	batch each removal is done at once, in the same order.  Paths are
 *	relative to the current directory (the scheduler runs in transport/).
 * DIAGNOSTICS
 *	zlog_warn for a failed directory fsync, zlog_error for a body that
 *	cannot be removed (ENOENT is not an error) or a path too long for
 *	the batch (that body stays).
 * SECURITY
 *	Paths come from the completion module, built from the model's
 *	numeric names; nothing here reads outside input.
 * BUGS
 *	One flush timer per loop iteration at most; entries added during a
 *	flush go into the next batch.
 * SEE ALSO
 *	scheduler(8), complete.c, tests/unit/check_removal.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "removal.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

/* removal_init - see removal.h */
void removal_init(removal *rm, zev_loop *loop, size_t max)
{
	memset(rm, 0, sizeof *rm);
	rm->loop = loop;
	rm->max = max ? max : REMOVAL_MAX;
}

/* removal_timer - the zero-delay flush after the events of one round */
static void removal_timer(zev_loop *loop, void *arg)
{
	removal *rm = arg;
	(void)loop;
	rm->armed = 0;
	removal_flush(rm);
}

/* removal_add - see removal.h */
void removal_add(removal *rm, const char *prefix, const char *qpath, const char *id)
{
	if (rm->body == NULL) {
		rm->body = calloc(rm->max, sizeof *rm->body);
		rm->dir = calloc(rm->max, sizeof *rm->dir);
		if (rm->body == NULL || rm->dir == NULL) {
			free(rm->body);
			free(rm->dir);
			rm->body = NULL;
			rm->dir = NULL;
		}
	}
	if (rm->body == NULL || rm->n == rm->max)
		removal_flush(rm);
	if (rm->body == NULL) {
		/* no memory for a batch: do it the slow way, in order */
		char dir[16];
		int k = snprintf(dir, sizeof dir, "./%s", prefix);
		if (k < 0 || (size_t)k >= sizeof dir || zfsync_dir(dir) != Z_OK)
			zlog_warn(id, "fsync of directory %s: %s", dir, strerror(errno));
		if (qpath != NULL && unlink(qpath) != 0 && errno != ENOENT)
			zlog_error(id, "cannot remove body %s: %s", qpath, strerror(errno));
		if (qpath != NULL && zfsync_parent(qpath) != Z_OK)
			zlog_warn(id, "fsync of the directory of %s: %s", qpath, strerror(errno));
		return;
	}
	if (zstrlcpy(rm->body[rm->n], qpath ? qpath : "", sizeof rm->body[0]) != Z_OK ||
	    zstrlcpy(rm->dir[rm->n], prefix, sizeof rm->dir[0]) != Z_OK) {
		zlog_error(id, "body path too long for the removal batch: %s", qpath ? qpath : "");
		return;
	}
	rm->n++;
	if (!rm->armed && rm->loop != NULL &&
	    zev_timer_add(rm->loop, zmono_ms(), removal_timer, rm) != 0)
		rm->armed = 1;
}

/* seen_before - is s among the first n entries of v (tiny sets: linear) */
static int seen_before(char (*v)[8], size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* removal_flush - see removal.h */
void removal_flush(removal *rm)
{
	size_t n = rm->n;

	if (n == 0)
		return;
	/* 1. the control files' removals become durable */
	for (size_t i = 0; i < n; i++) {
		if (seen_before(rm->dir, i, rm->dir[i]))
			continue;
		char dir[16];
		int k = snprintf(dir, sizeof dir, "./%s", rm->dir[i]);
		if (k < 0 || (size_t)k >= sizeof dir || zfsync_dir(dir) != Z_OK)
			zlog_warn(NULL, "fsync of directory %s: %s", dir, strerror(errno));
	}
	/* 2. then the bodies go, and their directories are synced once */
	for (size_t i = 0; i < n; i++) {
		if (rm->body[i][0] == '\0')
			continue;
		if (unlink(rm->body[i]) != 0 && errno != ENOENT)
			zlog_error(NULL, "cannot remove body %s: %s", rm->body[i], strerror(errno));
	}
	for (size_t i = 0; i < n; i++) {
		if (rm->body[i][0] == '\0' ||
		    seen_before(rm->dir, i, rm->dir[i]))
			continue;
		if (zfsync_parent(rm->body[i]) != Z_OK)
			zlog_warn(NULL, "fsync of the directory of %s: %s", rm->body[i],
				  strerror(errno));
	}
	rm->n = 0;
}

/* removal_free - see removal.h */
void removal_free(removal *rm)
{
	removal_flush(rm);
	free(rm->body);
	free(rm->dir);
	rm->body = NULL;
	rm->dir = NULL;
}
