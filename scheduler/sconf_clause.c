/*
 * NAME
 *	sconf_clause - scheduler.conf clause bodies: overlay, built-in
 *	defaults, release
 * SUMMARY
 *	What a clause's settings become once the clause is read: the
 *	current defaults overlaid with what the clause set itself, then
 *	the built-in defaults for what is still unset.  Also the freeing
 *	of clauses and of a whole configuration.
 * SYNOPSIS
 *	#include "sconf.h"
 *	void sconf_free(sconf *cfg);
 *	#include "sconf_int.h"
 *	sconf_clause *sconf_clause_new(void);
 *	int sconf_overlay(sconf_clause *dst, const sconf_clause *src);
 *	void sconf_finalize(sconf_clause *c);
 *	void sconf_clause_free(sconf_clause *c);
 *	int sconf_set_str(char **dst, const char *src);
 *	void sconf_clear_command(sconf_clause *c);
 *	void sconf_vec_free(char **v);
 * DESCRIPTION
 *	sconf_overlay copies only the settings whose SK_* bit is in
 *	src->setmask (strings and word vectors are duplicated, the old
 *	ones in dst freed) and adds those bits to dst->setmask.
 *	sconf_finalize applies the built-in defaults: interval 3600 when
 *	unset or not positive, idlemax 3 * interval, maxthr 1, skew 5,
 *	expiry2 1 day when expiry is set; a negative expiry becomes 0
 *	(off).
 * DIAGNOSTICS
 *	Z_OK or Z_ENOMEM (dst may then hold part of src's settings; the
 *	parser frees it).
 * SECURITY
 *	Works only on parsed values; every string it keeps is its own
 *	copy, so a clause can be freed independently of the others.
 * BUGS
 *	None known.
 * SEE ALSO
 *	sconf.c, sconf_int.h, scheduler.conf(5)
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "sconf_int.h"

/* sc_strdup - strdup that tolerates NULL */
static int sc_strdup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return Z_OK;
	*dst = strdup(src);
	return *dst == NULL ? Z_ENOMEM : Z_OK;
}

/* sconf_vec_free - free a NULL-terminated string vector */
void sconf_vec_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* sc_vec_dup - copy a NULL-terminated vector of n strings */
static int sc_vec_dup(char ***dst, char *const *src, int n)
{
	*dst = NULL;
	if (src == NULL)
		return Z_OK;
	char **v = calloc((size_t)n + 1, sizeof *v);
	if (v == NULL)
		return Z_ENOMEM;
	for (int i = 0; i < n; i++) {
		v[i] = strdup(src[i]);
		if (v[i] == NULL) {
			sconf_vec_free(v);
			return Z_ENOMEM;
		}
	}
	*dst = v;
	return Z_OK;
}

/* sconf_clear_command - drop the command and its word vectors */
void sconf_clear_command(sconf_clause *c)
{
	free(c->command);
	sconf_vec_free(c->env);
	sconf_vec_free(c->argv);
	c->command = NULL;
	c->env = c->argv = NULL;
	c->envc = c->argc = 0;
	c->flags &= ~SCF_WITHHOST;
}

/* sconf_clause_free - release one clause */
void sconf_clause_free(sconf_clause *c)
{
	if (c == NULL)
		return;
	free(c->selector);
	free(c->changlob);
	free(c->hostglob);
	sconf_clear_command(c);
	free(c->user);
	free(c->group);
	free(c->deliveryform);
	free(c->expiryform);
	free(c);
}

/* sconf_set_str - replace an owned string */
int sconf_set_str(char **dst, const char *src)
{
	char *n = NULL;

	if (src != NULL && (n = strdup(src)) == NULL)
		return Z_ENOMEM;
	free(*dst);
	*dst = n;
	return Z_OK;
}

/* sconf_overlay - copy every setting of src whose bit is in src->setmask into dst */
int sconf_overlay(sconf_clause *dst, const sconf_clause *src)
{
	unsigned long m = src->setmask;
	int rc = Z_OK;

#define HAS(k) (m & SK_BIT(k))
	if (HAS(SK_INTERVAL))
		dst->interval = src->interval;
	if (HAS(SK_RETRIES)) {
		dst->nretries = src->nretries;
		memcpy(dst->retries, src->retries, sizeof dst->retries);
	}
	if (HAS(SK_EXPIRY))
		dst->expiry = src->expiry;
	if (HAS(SK_EXPIRY2))
		dst->expiry2 = src->expiry2;
	if (HAS(SK_IDLEMAX))
		dst->idlemax = src->idlemax;
	if (HAS(SK_MAXTA))
		dst->maxta = src->maxta;
	if (HAS(SK_MAXCHANNEL))
		dst->maxchannel = src->maxchannel;
	if (HAS(SK_MAXRING))
		dst->maxring = src->maxring;
	if (HAS(SK_MAXTHR))
		dst->maxthr = src->maxthr;
	if (HAS(SK_OVERFEED))
		dst->overfeed = src->overfeed;
	if (HAS(SK_SKEW))
		dst->skew = src->skew;
	if (HAS(SK_PRIORITY)) {
		dst->has_priority = src->has_priority;
		dst->priority = src->priority;
	}
	if (HAS(SK_NICE))
		dst->nice = src->nice;
	if (HAS(SK_REPORTTIMES)) {
		dst->nreporttimes = src->nreporttimes;
		memcpy(dst->reporttimes, src->reporttimes, sizeof dst->reporttimes);
	}
	static const struct { int kw; unsigned fl; } flagmap[] = {
		{ SK_QUEUEONLY, SCF_QUEUEONLY }, { SK_WAKEUPRESTARTONLY, SCF_WAKEUPRESTARTONLY },
		{ SK_AGEORDER, SCF_AGEORDER }, { SK_BYCHANNEL, SCF_BYCHANNEL },
	};
	for (size_t i = 0; i < sizeof flagmap / sizeof flagmap[0]; i++)
		if (HAS(flagmap[i].kw))
			dst->flags = (dst->flags & ~flagmap[i].fl) | (src->flags & flagmap[i].fl);
	if (HAS(SK_COMMAND)) {
		sconf_clear_command(dst);
		if ((rc = sc_strdup(&dst->command, src->command)) != Z_OK ||
		    (rc = sc_vec_dup(&dst->env, src->env, src->envc)) != Z_OK ||
		    (rc = sc_vec_dup(&dst->argv, src->argv, src->argc)) != Z_OK)
			return rc;
		dst->envc = src->envc;
		dst->argc = src->argc;
		dst->flags = (dst->flags & ~SCF_WITHHOST) | (src->flags & SCF_WITHHOST);
	}
	if (HAS(SK_USER) && (rc = sconf_set_str(&dst->user, src->user)) != Z_OK)
		return rc;
	if (HAS(SK_GROUP) && (rc = sconf_set_str(&dst->group, src->group)) != Z_OK)
		return rc;
	if (HAS(SK_DELIVERYFORM) && (rc = sconf_set_str(&dst->deliveryform, src->deliveryform)) != Z_OK)
		return rc;
	if (HAS(SK_EXPIRYFORM) && (rc = sconf_set_str(&dst->expiryform, src->expiryform)) != Z_OK)
		return rc;
#undef HAS
	dst->setmask |= m;
	return Z_OK;
}

/* sconf_finalize - apply the built-in defaults to unset values */
void sconf_finalize(sconf_clause *c)
{
	if (!(c->setmask & SK_BIT(SK_INTERVAL)) || c->interval <= 0)
		c->interval = 3600;
	if (!(c->setmask & SK_BIT(SK_IDLEMAX)))
		c->idlemax = c->interval > LONG_MAX / 3 ? LONG_MAX : 3 * c->interval;
	if (!(c->setmask & SK_BIT(SK_MAXTHR)) || c->maxthr < 1)
		c->maxthr = 1;
	if (!(c->setmask & SK_BIT(SK_SKEW)) || c->skew < 1)
		c->skew = 5;
	if (c->expiry > 0 && c->expiry2 <= 0)
		c->expiry2 = 86400;
	if (c->expiry <= 0)
		c->expiry = 0;
}

/* sconf_clause_new - zeroed clause */
sconf_clause *sconf_clause_new(void)
{
	return calloc(1, sizeof(sconf_clause));
}

/* sconf_free - release everything */
void sconf_free(sconf *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nclauses; i++)
		sconf_clause_free(cfg->clauses[i]);
	free(cfg->clauses);
	sconf_clause_free(cfg->defaults);
	free(cfg->name);
	free(cfg->authfile);
	free(cfg->mailqsock);
	free(cfg->mailq_admins);
	free(cfg->notifysock);
	free(cfg);
}

