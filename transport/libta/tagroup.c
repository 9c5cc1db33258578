/*
 * NAME
 *	tagroup - hand out a job's locked recipients in delivery groups
 * SUMMARY
 *	The one grouping loop of the agents that serve several recipients
 *	with one delivery: errormail (one bounce per sender) and sm (one
 *	mailer run per group with the m flag, else one per recipient).
 * SYNOPSIS
 *	#include "tagroup.h"
 *
 *	int ta_groups_init(ta_groups *g, ta_ctx *ctx, ta_msg *m,
 *	                   ta_same_fn same, void *arg);
 *	size_t ta_groups_next(ta_groups *g);
 *	void ta_groups_free(ta_groups *g);
 *	int ta_same_sender(const ctl_rcpt *a, const ctl_rcpt *b, void *arg);
 * DESCRIPTION
 *	A group starts at the first locked recipient not yet taken (in
 *	control-file order) and takes every later locked, untaken recipient
 *	b for which same(first, b, arg) holds; with same NULL a group is one
 *	recipient.  Each locked recipient is in exactly one group; unlocked
 *	ones are never handed out.  g->grp holds the current group until the
 *	next call.
 * DIAGNOSTICS
 *	ta_groups_init returns Z_ENOMEM when it cannot allocate; it has then
 *	already given every locked recipient its EX_TEMPFAIL report, so the
 *	agent just returns.
 * SECURITY
 *	Reads only the parsed control file; O(n^2) in the recipients of one
 *	job, which the control-file parser bounds.
 * BUGS
 *	None known.
 * SEE ALSO
 *	transport/errormail/errormail.c, transport/sm/sm.c, ta.h
 */
#include <stdlib.h>
#include <sysexits.h>
#include "zerr.h"
#include "tagroup.h"

/* ta_groups_init - arrays for m's recipients */
int ta_groups_init(ta_groups *g, ta_ctx *ctx, ta_msg *m, ta_same_fn same, void *arg)
{
	size_t n = m->nrcpts ? m->nrcpts : 1;

	g->m = m;
	g->next = 0;
	g->same = same;
	g->arg = arg;
	g->grp = calloc(n, sizeof(*g->grp));
	g->taken = calloc(n, 1);
	if (g->grp == NULL || g->taken == NULL) {
		ta_groups_free(g);
		for (size_t i = 0; i < m->nrcpts; i++)
			if (m->rcpts[i].locked)
				ta_diagnostic(ctx, m, &m->rcpts[i], EX_TEMPFAIL, 0, "out of memory");
		return Z_ENOMEM;
	}
	return Z_OK;
}

/* ta_groups_next - the next group, 0 at the end */
size_t ta_groups_next(ta_groups *g)
{
	ta_msg *m = g->m;
	size_t i = g->next, n = 0;

	while (i < m->nrcpts && (!m->rcpts[i].locked || g->taken[i]))
		i++;
	if (i >= m->nrcpts) {
		g->next = m->nrcpts;
		return 0;
	}
	g->grp[n++] = &m->rcpts[i];
	g->taken[i] = 1;
	g->next = i + 1;
	if (g->same == NULL)
		return n;
	for (size_t j = i + 1; j < m->nrcpts; j++) {
		if (!m->rcpts[j].locked || g->taken[j] ||
		    !g->same(m->rcpts[i].r, m->rcpts[j].r, g->arg))
			continue;
		g->grp[n++] = &m->rcpts[j];
		g->taken[j] = 1;
	}
	return n;
}

/* ta_groups_free - release the arrays */
void ta_groups_free(ta_groups *g)
{
	free(g->grp);
	free(g->taken);
	g->grp = NULL;
	g->taken = NULL;
}

/* ta_same_sender - the same 's' line */
int ta_same_sender(const ctl_rcpt *a, const ctl_rcpt *b, void *arg)
{
	(void)arg;
	return a->sender == b->sender;
}
