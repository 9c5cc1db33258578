/*
 * NAME
 *	sconf_kw - scheduler.conf keyword and PARAM values: check and store
 * SUMMARY
 *	One "keyword=value" of a clause, or one "PARAMname = value" line,
 *	turned into the typed setting it names, or refused with the line
 *	number and a reason.
 * SYNOPSIS
 *	#include "sconf_int.h"
 *	int sconf_keyword(sp *s, int line, const char *kw, const char *v);
 *	int sconf_param(sp *s, int line, const char *name, const char *v);
 * DESCRIPTION
 *	Keywords are looked up case-insensitively in one table (aliases
 *	such as maxta/maxtransport share an id); each stored keyword sets
 *	its bit in s->own->setmask so that sconf_overlay knows what the
 *	clause set.  Time values take zinterval_parse syntax ("90", "5m",
 *	"1h30m"); numbers have per-keyword ranges; flags take
 *	none/1/yes/on/true or 0/no/off/false.  List values (retries,
 *	reporttimes, command) are split into words on white space, with '"'
 *	and '\'' quotes and backslash escapes.  "command" becomes leading
 *	NAME=value environment words plus argv; a word exactly "$host"
 *	sets SCF_WITHHOST.  PARAM names are the ones scheduler.conf(5)
 *	lists (authfile, mailqsock, mailq-*, retryat-max, fork-rate, ...).
 * DIAGNOSTICS
 *	Z_EPARSE (unknown keyword or parameter, bad value, unbalanced
 *	quote, missing value) or Z_ETOOBIG (too many words), with
 *	"name:LINE: reason" in the parser's err; Z_ENOMEM.
 * SECURITY
 *	Values are bounded: SCONF_LINE_MAX per word, SCONF_MAX_RETRIES
 *	retries, SCONF_MAX_REPORTTIMES report times, SCONF_MAX_ARGS command
 *	words.  Command words are stored, never given to a shell.
 * BUGS
 *	"syspriority" and "sysnice" are recorded globally (last one wins),
 *	not per clause; the daemon applies them to itself.
 * SEE ALSO
 *	sconf.c, sconf_int.h, scheduler.conf(5), zinterval_parse (lib/)
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sconf_int.h"
#include "zconf.h"
#include "zutil.h"

/* keyword table: name -> SK_* (aliases share an id) */
static const struct {
	const char *name;
	int kw;
} sconf_kwtab[] = {
	{ "interval", SK_INTERVAL }, { "retries", SK_RETRIES },
	{ "expiry", SK_EXPIRY }, { "expiry2", SK_EXPIRY2 },
	{ "idlemax", SK_IDLEMAX },
	{ "maxta", SK_MAXTA }, { "maxtransport", SK_MAXTA }, { "maxtransports", SK_MAXTA },
	{ "maxchannel", SK_MAXCHANNEL }, { "maxchannels", SK_MAXCHANNEL },
	{ "maxring", SK_MAXRING }, { "maxrings", SK_MAXRING },
	{ "maxthr", SK_MAXTHR }, { "overfeed", SK_OVERFEED },
	{ "command", SK_COMMAND }, { "user", SK_USER }, { "group", SK_GROUP },
	{ "priority", SK_PRIORITY }, { "nice", SK_NICE }, { "skew", SK_SKEW },
	{ "queueonly", SK_QUEUEONLY }, { "wakeuprestartonly", SK_WAKEUPRESTARTONLY },
	{ "ageorder", SK_AGEORDER }, { "bychannel", SK_BYCHANNEL },
	{ "reporttimes", SK_REPORTTIMES }, { "deliveryform", SK_DELIVERYFORM },
	{ "expiryform", SK_EXPIRYFORM }, { "syspriority", SK_SYSPRIORITY },
	{ "sysnice", SK_SYSNICE },
};

/* sp_interval - parse a time value */
static int sp_interval(sp *s, int line, const char *kw, const char *v, int allow0, long *out)
{
	long secs;

	if (zinterval_parse(v, &secs) != Z_OK || secs < 0 || (!allow0 && secs == 0))
		return sconf_err(s, line, Z_EPARSE, "bad time value '%s' for %s", v, kw);
	*out = secs;
	return Z_OK;
}

/* sp_number - parse a decimal integer in [min,max] */
static int sp_number(sp *s, int line, const char *kw, const char *v, long min, long max, long *out)
{
	if (zparse_long(v, min, max, out) != Z_OK)
		return sconf_err(s, line, Z_EPARSE, "bad value '%s' for %s (want %ld..%ld)", v, kw,
				min, max);
	return Z_OK;
}

/* sp_bool - flag value: none/1/yes/on/true or 0/no/off/false */
static int sp_bool(sp *s, int line, const char *kw, const char *v, int *out)
{
	static const char *const yes[] = { "1", "yes", "on", "true" };
	static const char *const no[] = { "0", "no", "off", "false" };

	if (v == NULL) {
		*out = 1;
		return Z_OK;
	}
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return Z_OK;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return Z_OK;
		}
	}
	return sconf_err(s, line, Z_EPARSE, "bad flag value '%s' for %s", v, kw);
}

/* sp_split_words - split v on white space into at most max words ('"' and
 * '\'' quote, backslash escapes); *words is a NULL-terminated vector */
static int sp_split_words(sp *s, int line, const char *v, size_t max, char ***words, int *nw)
{
	char **w = calloc(max + 1, sizeof *w);
	zbuf cur = ZBUF_INIT(SCONF_LINE_MAX);
	int n = 0, rc = Z_OK, ch;
	zcur in;

	if (w == NULL)
		return Z_ENOMEM;
	zcur_init(&in, v, strlen(v));
	for (;;) {
		zcur_skip_ws(&in);
		if (zcur_eof(&in))
			break;
		zbuf_reset(&cur);
		int q = 0, any = 0;
		while ((ch = zcur_peek(&in)) != -1 && (q || (ch != ' ' && ch != '\t'))) {
			char c = (char)ch;
			(void)zcur_skip_char(&in, c);
			if (q && c == q) {
				q = 0;
				continue;
			}
			if (!q && (c == '"' || c == '\'')) {
				q = c;
				any = 1;
				continue;
			}
			if (c == '\\' && q != '\'' && (ch = zcur_peek(&in)) != -1) {
				c = (char)ch;
				(void)zcur_skip_char(&in, c);
			}
			if (zbuf_putc(&cur, c) != Z_OK) {
				rc = Z_ETOOBIG;
				goto out;
			}
			any = 1;
		}
		if (q) {
			rc = sconf_err(s, line, Z_EPARSE, "unbalanced quote in '%s'", v);
			goto out;
		}
		if (!any)
			continue;
		if ((size_t)n >= max) {
			rc = sconf_err(s, line, Z_ETOOBIG, "too many words (max %zu)", max);
			goto out;
		}
		if ((w[n] = strdup(zbuf_cstr(&cur))) == NULL) {
			rc = Z_ENOMEM;
			goto out;
		}
		n++;
	}
out:
	zbuf_free(&cur);
	if (rc != Z_OK) {
		sconf_vec_free(w);
		return rc;
	}
	*words = w;
	*nw = n;
	return Z_OK;
}

/* sp_is_envword - "NAME=value" with NAME a shell identifier */
static int sp_is_envword(const char *w)
{
	const char *p = w;

	if (!(isalpha((unsigned char)*p) || *p == '_'))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	return *p == '=';
}

/* sp_command - parse the "command" value into env + argv */
static int sp_command(sp *s, int line, sconf_clause *c, const char *v)
{
	char **words = NULL;
	int nw = 0, rc, i, k;

	if ((rc = sp_split_words(s, line, v, SCONF_MAX_ARGS, &words, &nw)) != Z_OK)
		return rc;
	for (i = 0; i < nw && sp_is_envword(words[i]); i++)
		;
	if (i == nw) {
		sconf_vec_free(words);
		return sconf_err(s, line, Z_EPARSE, "command '%s' names no program", v);
	}
	sconf_clear_command(c);
	c->env = calloc((size_t)i + 1, sizeof(char *));
	c->argv = calloc((size_t)(nw - i) + 1, sizeof(char *));
	c->command = strdup(v);
	if (c->env == NULL || c->argv == NULL || c->command == NULL) {
		sconf_vec_free(words);
		return Z_ENOMEM;
	}
	for (k = 0; k < i; k++)
		c->env[k] = words[k];
	c->envc = i;
	for (k = i; k < nw; k++) {
		c->argv[k - i] = words[k];
		if (strcmp(words[k], "$host") == 0)
			c->flags |= SCF_WITHHOST;
	}
	c->argc = nw - i;
	free(words); /* the strings moved */
	return Z_OK;
}

/* sconf_keyword - apply one keyword (value may be NULL) to s->own */
int sconf_keyword(sp *s, int line, const char *kw, const char *v)
{
	sconf_clause *c = s->own;
	int id = -1, rc = Z_OK, b;
	long n;

	for (size_t i = 0; i < sizeof sconf_kwtab / sizeof sconf_kwtab[0]; i++)
		if (strcasecmp(kw, sconf_kwtab[i].name) == 0) {
			id = sconf_kwtab[i].kw;
			break;
		}
	if (id < 0)
		return sconf_err(s, line, Z_EPARSE, "unknown keyword '%s'", kw);
	int isflag = id == SK_QUEUEONLY || id == SK_WAKEUPRESTARTONLY || id == SK_AGEORDER ||
		     id == SK_BYCHANNEL;
	if (!isflag && (v == NULL || *v == '\0'))
		return sconf_err(s, line, Z_EPARSE, "keyword '%s' needs a value", kw);

	switch (id) {
	case SK_INTERVAL:
		rc = sp_interval(s, line, kw, v, 0, &c->interval);
		break;
	case SK_EXPIRY:
		rc = sp_interval(s, line, kw, v, 1, &c->expiry);
		break;
	case SK_EXPIRY2:
		rc = sp_interval(s, line, kw, v, 1, &c->expiry2);
		break;
	case SK_IDLEMAX:
		rc = sp_interval(s, line, kw, v, 1, &c->idlemax);
		break;
	case SK_RETRIES: {
		char **w = NULL;
		int nw = 0;
		if ((rc = sp_split_words(s, line, v, SCONF_MAX_RETRIES, &w, &nw)) != Z_OK)
			break;
		if (nw == 0)
			rc = sconf_err(s, line, Z_EPARSE, "empty retries list");
		for (int i = 0; rc == Z_OK && i < nw; i++) {
			if (zparse_long(w[i], 1, 1000000, &n) != Z_OK)
				rc = sconf_err(s, line, Z_EPARSE,
					      "bad retries entry '%s' (want a number 1..1000000)", w[i]);
			else
				c->retries[i] = n;
		}
		if (rc == Z_OK)
			c->nretries = nw;
		sconf_vec_free(w);
		break;
	}
	case SK_MAXTA:
	case SK_MAXCHANNEL:
	case SK_MAXRING:
		if ((rc = sp_number(s, line, kw, v, -1000000, 1000000, &n)) != Z_OK)
			break;
		if (n < 0)
			n = 0;
		if (id == SK_MAXTA)
			c->maxta = (int)n;
		else if (id == SK_MAXCHANNEL)
			c->maxchannel = (int)n;
		else
			c->maxring = (int)n;
		break;
	case SK_MAXTHR:
		if ((rc = sp_number(s, line, kw, v, 1, 100000, &n)) == Z_OK)
			c->maxthr = (int)n;
		break;
	case SK_OVERFEED:
		if ((rc = sp_number(s, line, kw, v, 0, 1000000, &n)) == Z_OK)
			c->overfeed = (int)n;
		break;
	case SK_SKEW:
		if ((rc = sp_number(s, line, kw, v, 1, 1000000, &n)) == Z_OK)
			c->skew = (int)n;
		break;
	case SK_PRIORITY:
		if ((rc = sp_number(s, line, kw, v, -20, 19, &n)) == Z_OK) {
			c->priority = (int)n;
			c->has_priority = 1;
		}
		break;
	case SK_NICE:
		if ((rc = sp_number(s, line, kw, v, -40, 39, &n)) == Z_OK)
			c->nice = (int)n;
		break;
	case SK_SYSPRIORITY:
		if ((rc = sp_number(s, line, kw, v, -20, 19, &n)) == Z_OK) {
			s->cfg->syspriority = (int)n;
			s->cfg->has_syspriority = 1;
		}
		return rc; /* global: not part of the clause body */
	case SK_SYSNICE:
		if ((rc = sp_number(s, line, kw, v, -40, 39, &n)) == Z_OK) {
			s->cfg->sysnice = (int)n;
			s->cfg->has_sysnice = 1;
		}
		return rc;
	case SK_COMMAND:
		rc = sp_command(s, line, c, v);
		break;
	case SK_USER:
	case SK_GROUP:
		if (strpbrk(v, " \t") != NULL) {
			rc = sconf_err(s, line, Z_EPARSE, "bad %s '%s'", kw, v);
			break;
		}
		rc = sconf_set_str(id == SK_USER ? &c->user : &c->group, v);
		break;
	case SK_DELIVERYFORM:
		rc = sconf_set_str(&c->deliveryform, v);
		break;
	case SK_EXPIRYFORM:
		rc = sconf_set_str(&c->expiryform, v);
		break;
	case SK_REPORTTIMES: {
		char **w = NULL;
		int nw = 0;
		long t = 0;
		if ((rc = sp_split_words(s, line, v, SCONF_MAX_REPORTTIMES, &w, &nw)) != Z_OK)
			break;
		if (nw == 0)
			rc = sconf_err(s, line, Z_EPARSE, "empty reporttimes list");
		for (int i = 0; rc == Z_OK && i < nw; i++)
			if ((rc = sp_interval(s, line, kw, w[i], 1, &t)) == Z_OK)
				c->reporttimes[i] = t;
		if (rc == Z_OK)
			c->nreporttimes = nw;
		sconf_vec_free(w);
		break;
	}
	case SK_QUEUEONLY:
	case SK_WAKEUPRESTARTONLY:
	case SK_AGEORDER:
	case SK_BYCHANNEL: {
		unsigned fl = id == SK_QUEUEONLY ? SCF_QUEUEONLY
			    : id == SK_WAKEUPRESTARTONLY ? SCF_WAKEUPRESTARTONLY
			    : id == SK_AGEORDER ? SCF_AGEORDER : SCF_BYCHANNEL;
		if ((rc = sp_bool(s, line, kw, v, &b)) == Z_OK)
			c->flags = b ? (c->flags | fl) : (c->flags & ~fl);
		break;
	}
	default:
		rc = sconf_err(s, line, Z_EPARSE, "unknown keyword '%s'", kw);
		break;
	}
	if (rc == Z_OK)
		c->setmask |= SK_BIT(id);
	return rc;
}

/* sconf_param - apply "PARAMname = value" */
int sconf_param(sp *s, int line, const char *name, const char *v)
{
	sconf *cfg = s->cfg;
	long n;
	int b;

	if (*name == '\0')
		return sconf_err(s, line, Z_EPARSE, "PARAM without a name");
	if (v == NULL)
		return sconf_err(s, line, Z_EPARSE, "PARAM%s needs '= value'", name);
	if (strcasecmp(name, "authfile") == 0)
		return sconf_set_str(&cfg->authfile, v);
	if (strcasecmp(name, "mailqsock") == 0 || strcasecmp(name, "mailqpath") == 0)
		return sconf_set_str(&cfg->mailqsock, v);
	if (strcasecmp(name, "notifysock") == 0)
		return sconf_set_str(&cfg->notifysock, v);
	if (strcasecmp(name, "global-report-interval") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->global_report_interval);
	if (strcasecmp(name, "delay-warning") == 0)
		return sp_interval(s, line, name, v, 1, &cfg->delay_warning);
	if (strcasecmp(name, "max-ta-silence") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->max_ta_silence);
	if (strcasecmp(name, "max-ta-comments") == 0)
		return sp_number(s, line, name, v, 1, 1000000, &cfg->max_ta_comments);
	if (strcasecmp(name, "expire-sweep") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->expire_sweep);
	if (strcasecmp(name, "mailq-timeout") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->mailq_timeout);
	if (strcasecmp(name, "mailq-admins") == 0)
		return sconf_set_str(&cfg->mailq_admins, v);
	if (strcasecmp(name, "mailq-auth-timeout") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->mailq_auth_timeout);
	if (strcasecmp(name, "mailq-auth-failures") == 0)
		return sp_number(s, line, name, v, 1, 100, &cfg->mailq_auth_failures);
	if (strcasecmp(name, "retryat-max") == 0) {
		long t = 0;
		int rc = sp_interval(s, line, name, v, 0, &t);
		if (rc != Z_OK)
			return rc;
		if (t < 1 || t > 30L * 86400L)
			return sconf_err(s, line, Z_EPARSE, "PARAM%s must be 1s..30d", name);
		cfg->retryat_max = t;
		return Z_OK;
	}
	if (strcasecmp(name, "fork-rate") == 0) {
		int rc = sp_number(s, line, name, v, 1, 100000, &n);
		if (rc == Z_OK)
			cfg->fork_rate = (int)n;
		return rc;
	}
	if (strcasecmp(name, "msgwriteasync") == 0 || strcasecmp(name, "store-error-on-error") == 0) {
		int rc = sp_bool(s, line, name, v, &b);
		if (rc == Z_OK) {
			if (strcasecmp(name, "msgwriteasync") == 0)
				cfg->msgwriteasync = b;
			else
				cfg->store_error_on_error = b;
		}
		return rc;
	}
	return sconf_err(s, line, Z_EPARSE, "unknown parameter 'PARAM%s'", name);
}

