/*
 * tagroup.h - the locked recipients of a job in groups that one delivery
 * serves (errormail: one bounce per sender; sm: one mailer run per sender,
 * header block, privilege and host with flag m).
 */
#ifndef ZMTA_TAGROUP_H
#define ZMTA_TAGROUP_H

#include <stddef.h>
#include "ta.h"

/* ta_same_fn - 1 when recipient b may share a delivery with recipient a */
typedef int (*ta_same_fn)(const ctl_rcpt *a, const ctl_rcpt *b, void *arg);

typedef struct ta_groups {
	ta_msg *m;
	ta_rcpt **grp;     /* the group ta_groups_next returned, grp[0..n) */
	char *taken;       /* per recipient: already in a group */
	size_t next;       /* where the next group's first recipient is looked for */
	ta_same_fn same;   /* NULL: every recipient alone */
	void *arg;
} ta_groups;

/* ta_groups_init - Z_OK, or Z_ENOMEM after deferring every locked
 * recipient of m ("out of memory") */
int ta_groups_init(ta_groups *g, ta_ctx *ctx, ta_msg *m, ta_same_fn same, void *arg);
/* ta_groups_next - the next group: the first locked recipient not yet
 * taken, then every later one same() puts with it, in job order; returns
 * its size (0 when every locked recipient was handed out) */
size_t ta_groups_next(ta_groups *g);
/* ta_groups_free - release g (the recipients stay as they are) */
void ta_groups_free(ta_groups *g);
/* ta_same_sender - ta_same_fn: the same sender ('s' line) */
int ta_same_sender(const ctl_rcpt *a, const ctl_rcpt *b, void *arg);

#endif
