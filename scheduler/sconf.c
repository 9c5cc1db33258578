/*
 * NAME
 *	sconf - scheduler.conf parser, clause matcher and command expansion
 * SUMMARY
 *	Turns scheduler.conf text into an ordered list of clauses with
 *	effective settings, finds the first clause for a (channel, host) pair
 *	and builds the argv of a transport agent.
 * SYNOPSIS
 *	int sconf_parse(const char *name, const char *text, size_t len,
 *			sconf **out, zbuf *err);
 *	int sconf_load(const char *path, sconf **out, zbuf *err);
 *	int sconf_load_default(sconf **out, zbuf *err);
 *	void sconf_free(sconf *cfg);
 *	const sconf_clause *sconf_match(const sconf *cfg, const char *channel,
 *			const char *host);
 *	int sconf_expand_command(const sconf_clause *c, const char *channel,
 *			const char *host, const char *mailbin, char ***argv_out,
 *			zbuf *err);
 *	void sconf_argv_free(char **argv);
 *	int sconf_dump(const sconf *cfg, zbuf *out);
 * DESCRIPTION
 *	The syntax is ZMailer's (see sconf.h and scheduler.conf(5)).  The
 *	parser is a single pass over the bytes with the cursor of lib/ (zcur
 *	in zbuf.h; values are split into words with one too).  Each clause first collects
 *	its own settings (with a bit per keyword in setmask); when the clause
 *	ends, its effective settings are the current defaults overlaid with
 *	its own, and any empty clauses waiting before it receive a copy of
 *	the same body.  A defaults clause ("*" + "/" + "*", or "*") updates the
 *	defaults for the clauses after it.  Built-in defaults (interval 3600,
 *	idlemax 3 * interval, maxthr 1, skew 5, expiry2 1 day when expiry is
 *	set) are applied last, per clause.
 * DIAGNOSTICS
 *	Every refusal is one line "name:LINE: reason" in err and a negative
 *	Z_* code; the scheduler must not start with a refused file.
 * SECURITY
 *	The file is trusted configuration but is still parsed with bounds:
 *	at most SCONF_MAX_SIZE bytes, SCONF_LINE_MAX per token/value,
 *	SCONF_MAX_RETRIES retries, SCONF_MAX_ARGS command words,
 *	SCONF_MAX_CLAUSES clauses; NUL bytes are refused.  Host names handed
 *	to sconf_match() and sconf_expand_command() come from the spool and
 *	are only copied, never interpreted by a shell (no shell is used); a
 *	trailing "$host" word gets "--" before it, so a host is an operand,
 *	never an option (the scheduler checks the host grammar first).
 * BUGS
 *	"syspriority" and "sysnice" are recorded globally (last one wins),
 *	not per clause; the daemon applies them to itself.
 * SEE ALSO
 *	scheduler.conf(5), retry.h, zglob_match (lib/zutil.h)
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "sconf.h"
#include "zconf.h"
#include "zutil.h"

#ifndef ZMTA_LIBEXECDIR
#define ZMTA_LIBEXECDIR "/usr/local/libexec/zmta"
#endif

#define SK_BIT(k) (1ul << (k))

const char sconf_default_text[] =
	"# zmta builtin scheduler configuration (used when scheduler.conf is missing)\n"
	"*/*\tinterval=1m\n"
	"\tretries=\"1 1 2 3 5 8 13 21 34\"\n"
	"\texpiry=3d expiry2=1d\n"
	"\tidlemax=5m\n"
	"\tmaxta=100 maxchannel=50 maxring=20 maxthr=1\n"
	"\toverfeed=150 skew=5\n"
	"# SMTP to the world; one thread per destination host\n"
	"smtp/*\tcommand=\"smtp -c $channel\"\n"
	"\tmaxthr=2\n"
	"# local delivery and canned errors: agents not shipped yet\n"
	"local/*\tcommand=\"mailbox -c $channel\"\n"
	"\tmaxchannel=10\n"
	"error/*\tcommand=\"errormail -c $channel\"\n"
	"\tmaxchannel=5\n";

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

/* parser state */
typedef struct sp {
	const char *name;
	zcur c;                   /* the text (lib/zbuf.h cursor) */
	int line;
	zbuf *err;
	sconf *cfg;
	sconf_clause *own;        /* settings of the clause being read */
	sconf_clause *cur;        /* its slot in cfg->clauses, NULL = defaults clause */
	int in_clause;            /* a selector was seen */
	int cur_is_defaults;
	sconf_clause *defaults;   /* raw (not finalized) defaults */
	sconf_clause **pending;   /* empty clauses waiting for a body */
	size_t npending;
	size_t cap;               /* allocated slots in cfg->clauses */
} sp;

/* sp_error - record "name:line: reason" once */
static int sp_error(sp *s, int line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int sp_error(sp *s, int line, int code, const char *fmt, ...)
{
	va_list ap;

	if (s->err != NULL && s->err->len == 0) {
		zbuf_printf(s->err, "%s:%d: ", s->name, line);
		va_start(ap, fmt);
		zbuf_vprintf(s->err, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* sc_strdup - strdup that tolerates NULL */
static int sc_strdup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return Z_OK;
	*dst = strdup(src);
	return *dst == NULL ? Z_ENOMEM : Z_OK;
}

/* sc_vec_free - free a NULL-terminated string vector */
static void sc_vec_free(char **v)
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
			sc_vec_free(v);
			return Z_ENOMEM;
		}
	}
	*dst = v;
	return Z_OK;
}

/* sc_clear_command - drop the command and its word vectors */
static void sc_clear_command(sconf_clause *c)
{
	free(c->command);
	sc_vec_free(c->env);
	sc_vec_free(c->argv);
	c->command = NULL;
	c->env = c->argv = NULL;
	c->envc = c->argc = 0;
	c->flags &= ~SCF_WITHHOST;
}

/* sc_clause_free - release one clause */
static void sc_clause_free(sconf_clause *c)
{
	if (c == NULL)
		return;
	free(c->selector);
	free(c->changlob);
	free(c->hostglob);
	sc_clear_command(c);
	free(c->user);
	free(c->group);
	free(c->deliveryform);
	free(c->expiryform);
	free(c);
}

/* sc_set_str - replace an owned string */
static int sc_set_str(char **dst, const char *src)
{
	char *n = NULL;

	if (src != NULL && (n = strdup(src)) == NULL)
		return Z_ENOMEM;
	free(*dst);
	*dst = n;
	return Z_OK;
}

/* sc_overlay - copy every setting of src whose bit is in src->setmask into dst */
static int sc_overlay(sconf_clause *dst, const sconf_clause *src)
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
		sc_clear_command(dst);
		if ((rc = sc_strdup(&dst->command, src->command)) != Z_OK ||
		    (rc = sc_vec_dup(&dst->env, src->env, src->envc)) != Z_OK ||
		    (rc = sc_vec_dup(&dst->argv, src->argv, src->argc)) != Z_OK)
			return rc;
		dst->envc = src->envc;
		dst->argc = src->argc;
		dst->flags = (dst->flags & ~SCF_WITHHOST) | (src->flags & SCF_WITHHOST);
	}
	if (HAS(SK_USER) && (rc = sc_set_str(&dst->user, src->user)) != Z_OK)
		return rc;
	if (HAS(SK_GROUP) && (rc = sc_set_str(&dst->group, src->group)) != Z_OK)
		return rc;
	if (HAS(SK_DELIVERYFORM) && (rc = sc_set_str(&dst->deliveryform, src->deliveryform)) != Z_OK)
		return rc;
	if (HAS(SK_EXPIRYFORM) && (rc = sc_set_str(&dst->expiryform, src->expiryform)) != Z_OK)
		return rc;
#undef HAS
	dst->setmask |= m;
	return Z_OK;
}

/* sc_finalize - apply the built-in defaults to unset values */
static void sc_finalize(sconf_clause *c)
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

/* sc_new - zeroed clause */
static sconf_clause *sc_new(void)
{
	return calloc(1, sizeof(sconf_clause));
}

/* sp_push - append a clause slot to cfg->clauses */
static int sp_push(sp *s, sconf_clause *c)
{
	sconf *cfg = s->cfg;

	if (cfg->nclauses >= SCONF_MAX_CLAUSES)
		return sp_error(s, s->line, Z_ETOOBIG, "too many clauses (max %d)", SCONF_MAX_CLAUSES);
	if (cfg->nclauses == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		sconf_clause **nv = realloc(cfg->clauses, ncap * sizeof *nv);
		if (nv == NULL)
			return Z_ENOMEM;
		cfg->clauses = nv;
		s->cap = ncap;
	}
	cfg->clauses[cfg->nclauses++] = c;
	return Z_OK;
}

/* sp_fill_body - give clause c the body: defaults overlaid with own */
static int sp_fill_body(sp *s, sconf_clause *c, const sconf_clause *own)
{
	int rc;

	if ((rc = sc_overlay(c, s->defaults)) != Z_OK)
		return rc;
	if (own != NULL && (rc = sc_overlay(c, own)) != Z_OK)
		return rc;
	return Z_OK;
}

/* sp_end_clause - the clause being read is complete */
static int sp_end_clause(sp *s)
{
	int rc = Z_OK;

	if (!s->in_clause)
		return Z_OK;
	if (s->cur_is_defaults) {
		rc = sc_overlay(s->defaults, s->own);
	} else if (s->own->setmask == 0) {
		/* empty clause: wait for the next non-empty body */
		sconf_clause **nv = realloc(s->pending, (s->npending + 1) * sizeof *nv);
		if (nv == NULL)
			return Z_ENOMEM;
		s->pending = nv;
		s->pending[s->npending++] = s->cur;
	} else {
		if ((rc = sp_fill_body(s, s->cur, s->own)) != Z_OK)
			goto out;
		for (size_t i = 0; i < s->npending; i++)
			if ((rc = sp_fill_body(s, s->pending[i], s->cur)) != Z_OK)
				goto out;
		s->npending = 0;
	}
out:
	sc_clause_free(s->own);
	s->own = NULL;
	s->cur = NULL;
	s->in_clause = 0;
	return rc;
}

/* sp_lower - ASCII lower-case in place */
static void sp_lower(char *p)
{
	for (; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* sp_start_clause - a selector token */
static int sp_start_clause(sp *s, const char *tok)
{
	int rc;
	sconf_clause *c;
	const char *slash = strchr(tok, '/');

	if ((rc = sp_end_clause(s)) != Z_OK)
		return rc;
	if ((s->own = sc_new()) == NULL)
		return Z_ENOMEM;
	s->in_clause = 1;
	if (strcmp(tok, "*") == 0 || strcmp(tok, "*/*") == 0) {
		s->cur_is_defaults = 1;
		return Z_OK;
	}
	s->cur_is_defaults = 0;
	if (slash == tok)
		return sp_error(s, s->line, Z_EPARSE, "selector '%s' has no channel", tok);
	if ((c = sc_new()) == NULL)
		return Z_ENOMEM;
	c->line = s->line;
	c->selector = strdup(tok);
	if (slash != NULL) {
		c->changlob = strndup(tok, (size_t)(slash - tok));
		c->hostglob = strdup(slash[1] ? slash + 1 : "*");
	} else {
		c->changlob = strdup(tok);
		c->hostglob = strdup("*");
	}
	if (c->selector == NULL || c->changlob == NULL || c->hostglob == NULL) {
		sc_clause_free(c);
		return Z_ENOMEM;
	}
	sp_lower(c->changlob);
	sp_lower(c->hostglob);
	if ((rc = sp_push(s, c)) != Z_OK) {
		sc_clause_free(c);
		return rc;
	}
	s->cur = c;
	return Z_OK;
}

/* sp_peek - current byte or -1 */
static int sp_peek(const sp *s)
{
	return zcur_peek(&s->c);
}

/* sp_next - consume the current byte and return it, -1 at the end */
static int sp_next(sp *s)
{
	int c = zcur_peek(&s->c);
	if (c != -1)
		(void)zcur_skip_char(&s->c, (char)c);
	return c;
}

/* sp_skip_hws - skip spaces and tabs (and CR) */
static void sp_skip_hws(sp *s)
{
	while (zcur_skip_ws(&s->c) > 0 || zcur_skip_char(&s->c, '\r'))
		;
}

/* sp_skip_comment - '#' to end of line (newline not consumed) */
static void sp_skip_comment(sp *s)
{
	while (sp_peek(s) != -1 && sp_peek(s) != '\n')
		(void)sp_next(s);
}

/* sp_is_wordend - does byte c end a bare word? */
static int sp_is_wordend(int c)
{
	return c == -1 || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '#';
}

/* sp_read_value - a "quoted" or bare value into out (out reset first) */
static int sp_read_value(sp *s, zbuf *out)
{
	int startline = s->line;

	zbuf_reset(out);
	if (zcur_skip_char(&s->c, '"')) {
		for (;;) {
			int c = sp_next(s);
			if (c == -1)
				return sp_error(s, startline, Z_EPARSE, "unterminated quoted value");
			if (c == '"')
				break;
			if (c == '\n') {
				return sp_error(s, startline, Z_EPARSE,
						"newline in quoted value (use backslash-newline)");
			}
			if (c == '\\') {
				int d = sp_next(s);
				if (d == -1)
					return sp_error(s, startline, Z_EPARSE, "unterminated quoted value");
				if (d == '\n' || (d == '\r' && zcur_skip_char(&s->c, '\n'))) {
					s->line++;
					sp_skip_hws(s);
					continue;
				}
				c = d;
			}
			if (zbuf_putc(out, c) != Z_OK)
				return sp_error(s, startline, Z_ETOOBIG, "value too long (max %d bytes)",
						SCONF_LINE_MAX);
		}
		/* a closing quote must end the word */
		if (!sp_is_wordend(sp_peek(s)))
			return sp_error(s, s->line, Z_EPARSE, "garbage after closing quote");
		return Z_OK;
	}
	while (!sp_is_wordend(sp_peek(s))) {
		if (zbuf_putc(out, (char)sp_peek(s)) != Z_OK)
			return sp_error(s, startline, Z_ETOOBIG, "value too long (max %d bytes)",
					SCONF_LINE_MAX);
		(void)sp_next(s);
	}
	return Z_OK;
}

/* sp_interval - parse a time value */
static int sp_interval(sp *s, int line, const char *kw, const char *v, int allow0, long *out)
{
	long secs;

	if (zinterval_parse(v, &secs) != Z_OK || secs < 0 || (!allow0 && secs == 0))
		return sp_error(s, line, Z_EPARSE, "bad time value '%s' for %s", v, kw);
	*out = secs;
	return Z_OK;
}

/* sp_number - parse a decimal integer in [min,max] */
static int sp_number(sp *s, int line, const char *kw, const char *v, long min, long max, long *out)
{
	if (zparse_long(v, min, max, out) != Z_OK)
		return sp_error(s, line, Z_EPARSE, "bad value '%s' for %s (want %ld..%ld)", v, kw,
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
	return sp_error(s, line, Z_EPARSE, "bad flag value '%s' for %s", v, kw);
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
			rc = sp_error(s, line, Z_EPARSE, "unbalanced quote in '%s'", v);
			goto out;
		}
		if (!any)
			continue;
		if ((size_t)n >= max) {
			rc = sp_error(s, line, Z_ETOOBIG, "too many words (max %zu)", max);
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
		sc_vec_free(w);
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
		sc_vec_free(words);
		return sp_error(s, line, Z_EPARSE, "command '%s' names no program", v);
	}
	sc_clear_command(c);
	c->env = calloc((size_t)i + 1, sizeof(char *));
	c->argv = calloc((size_t)(nw - i) + 1, sizeof(char *));
	c->command = strdup(v);
	if (c->env == NULL || c->argv == NULL || c->command == NULL) {
		sc_vec_free(words);
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

/* sp_keyword - apply one keyword (value may be NULL) to s->own */
static int sp_keyword(sp *s, int line, const char *kw, const char *v)
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
		return sp_error(s, line, Z_EPARSE, "unknown keyword '%s'", kw);
	int isflag = id == SK_QUEUEONLY || id == SK_WAKEUPRESTARTONLY || id == SK_AGEORDER ||
		     id == SK_BYCHANNEL;
	if (!isflag && (v == NULL || *v == '\0'))
		return sp_error(s, line, Z_EPARSE, "keyword '%s' needs a value", kw);

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
			rc = sp_error(s, line, Z_EPARSE, "empty retries list");
		for (int i = 0; rc == Z_OK && i < nw; i++) {
			if (zparse_long(w[i], 1, 1000000, &n) != Z_OK)
				rc = sp_error(s, line, Z_EPARSE,
					      "bad retries entry '%s' (want a number 1..1000000)", w[i]);
			else
				c->retries[i] = n;
		}
		if (rc == Z_OK)
			c->nretries = nw;
		sc_vec_free(w);
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
			rc = sp_error(s, line, Z_EPARSE, "bad %s '%s'", kw, v);
			break;
		}
		rc = sc_set_str(id == SK_USER ? &c->user : &c->group, v);
		break;
	case SK_DELIVERYFORM:
		rc = sc_set_str(&c->deliveryform, v);
		break;
	case SK_EXPIRYFORM:
		rc = sc_set_str(&c->expiryform, v);
		break;
	case SK_REPORTTIMES: {
		char **w = NULL;
		int nw = 0;
		long t = 0;
		if ((rc = sp_split_words(s, line, v, SCONF_MAX_REPORTTIMES, &w, &nw)) != Z_OK)
			break;
		if (nw == 0)
			rc = sp_error(s, line, Z_EPARSE, "empty reporttimes list");
		for (int i = 0; rc == Z_OK && i < nw; i++)
			if ((rc = sp_interval(s, line, kw, w[i], 1, &t)) == Z_OK)
				c->reporttimes[i] = t;
		if (rc == Z_OK)
			c->nreporttimes = nw;
		sc_vec_free(w);
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
		rc = sp_error(s, line, Z_EPARSE, "unknown keyword '%s'", kw);
		break;
	}
	if (rc == Z_OK)
		c->setmask |= SK_BIT(id);
	return rc;
}

/* sp_param - apply "PARAMname = value" */
static int sp_param(sp *s, int line, const char *name, const char *v)
{
	sconf *cfg = s->cfg;
	long n;
	int b;

	if (*name == '\0')
		return sp_error(s, line, Z_EPARSE, "PARAM without a name");
	if (v == NULL)
		return sp_error(s, line, Z_EPARSE, "PARAM%s needs '= value'", name);
	if (strcasecmp(name, "authfile") == 0)
		return sc_set_str(&cfg->authfile, v);
	if (strcasecmp(name, "mailqsock") == 0 || strcasecmp(name, "mailqpath") == 0)
		return sc_set_str(&cfg->mailqsock, v);
	if (strcasecmp(name, "notifysock") == 0)
		return sc_set_str(&cfg->notifysock, v);
	if (strcasecmp(name, "global-report-interval") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->global_report_interval);
	if (strcasecmp(name, "delay-warning") == 0)
		return sp_interval(s, line, name, v, 1, &cfg->delay_warning);
	if (strcasecmp(name, "max-ta-silence") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->max_ta_silence);
	if (strcasecmp(name, "expire-sweep") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->expire_sweep);
	if (strcasecmp(name, "mailq-timeout") == 0)
		return sp_interval(s, line, name, v, 0, &cfg->mailq_timeout);
	if (strcasecmp(name, "mailq-admins") == 0)
		return sc_set_str(&cfg->mailq_admins, v);
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
			return sp_error(s, line, Z_EPARSE, "PARAM%s must be 1s..30d", name);
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
	return sp_error(s, line, Z_EPARSE, "unknown parameter 'PARAM%s'", name);
}

/* sp_word - a keyword-ish token at the cursor into out (letters, digits,
 * '-', '_') */
static void sp_word(sp *s, zbuf *out)
{
	int c;

	zbuf_reset(out);
	while ((c = sp_peek(s)) != -1) {
		if (!(isalnum(c) || c == '-' || c == '_'))
			break;
		if (zbuf_putc(out, (char)c) != Z_OK)
			break;
		(void)sp_next(s);
	}
}

/* sp_assignment - after a name: optional "= value"; *has_value set */
static int sp_assignment(sp *s, zbuf *val, int *has_value)
{
	zcur save = s->c;

	*has_value = 0;
	sp_skip_hws(s);
	if (!zcur_skip_char(&s->c, '=')) {
		s->c = save;
		return Z_OK;
	}
	sp_skip_hws(s);
	if (sp_is_wordend(sp_peek(s)))
		return Z_OK; /* "kw =" with nothing: caller reports a missing value */
	*has_value = 1;
	return sp_read_value(s, val);
}

/* sp_parse - the main loop */
static int sp_parse(sp *s)
{
	zbuf word = ZBUF_INIT(SCONF_LINE_MAX);
	zbuf val = ZBUF_INIT(SCONF_LINE_MAX);
	int rc = Z_OK;

	const char *z = memchr(s->c.p, '\0', s->c.n);
	if (z != NULL) {
		int line = 1;
		for (const char *q = s->c.p; q < z; q++)
			line += *q == '\n';
		rc = sp_error(s, line, Z_EPARSE, "NUL byte in file");
		goto out;
	}
	while (!zcur_eof(&s->c)) {
		int c = sp_peek(s);
		/* start of a physical line */
		if (zcur_skip_char(&s->c, '\n')) {
			s->line++;
			continue;
		}
		if (c == '#') {
			sp_skip_comment(s);
			continue;
		}
		if (c != ' ' && c != '\t' && c != '\r') {
			/* column 0: selector or PARAM */
			int line = s->line;
			if (zcur_expect(&s->c, "PARAM") == Z_OK) {
				int hv;
				sp_word(s, &word);
				if ((rc = sp_assignment(s, &val, &hv)) != Z_OK)
					goto out;
				if (!sp_is_wordend(sp_peek(s))) {
					rc = sp_error(s, line, Z_EPARSE, "bad PARAM line");
					goto out;
				}
				char *name = strdup(zbuf_cstr(&word));
				if (name == NULL) {
					rc = Z_ENOMEM;
					goto out;
				}
				rc = sp_param(s, line, name, hv ? zbuf_cstr(&val) : NULL);
				free(name);
				if (rc != Z_OK)
					goto out;
				/* only a comment may follow on the line */
				sp_skip_hws(s);
				if (sp_peek(s) == '#')
					sp_skip_comment(s);
				if (sp_peek(s) != -1 && sp_peek(s) != '\n') {
					rc = sp_error(s, line, Z_EPARSE, "junk after PARAM%s value",
						      zbuf_cstr(&word));
					goto out;
				}
				continue;
			}
			zbuf_reset(&word);
			while (!sp_is_wordend(sp_peek(s))) {
				if (zbuf_putc(&word, (char)sp_peek(s)) != Z_OK) {
					rc = sp_error(s, line, Z_ETOOBIG, "selector too long");
					goto out;
				}
				(void)sp_next(s);
			}
			if ((rc = sp_start_clause(s, zbuf_cstr(&word))) != Z_OK)
				goto out;
		}
		/* keywords until end of line */
		for (;;) {
			sp_skip_hws(s);
			c = sp_peek(s);
			if (c == -1 || c == '\n')
				break;
			if (c == '#') {
				sp_skip_comment(s);
				break;
			}
			int line = s->line, hv;
			sp_word(s, &word);
			if (word.len == 0 || !sp_is_wordend(sp_peek(s)) ) {
				/* the word may be followed by '=' */
				zcur save = s->c;
				sp_skip_hws(s);
				if (word.len == 0 || sp_peek(s) != '=') {
					s->c = save;
					/* collect the offending token for the message */
					zbuf_reset(&val);
					while (!sp_is_wordend(sp_peek(s)) && val.len < 64)
						zbuf_putc(&val, (char)sp_next(s));
					zbuf_puts(&word, zbuf_cstr(&val));
					rc = sp_error(s, line, Z_EPARSE, "bad token '%s'", zbuf_cstr(&word));
					goto out;
				}
				s->c = save;
			}
			if (!s->in_clause) {
				rc = sp_error(s, line, Z_EPARSE, "keyword '%s' before any clause selector",
					      zbuf_cstr(&word));
				goto out;
			}
			if ((rc = sp_assignment(s, &val, &hv)) != Z_OK)
				goto out;
			char *kw = strdup(zbuf_cstr(&word));
			if (kw == NULL) {
				rc = Z_ENOMEM;
				goto out;
			}
			rc = sp_keyword(s, line, kw, hv ? zbuf_cstr(&val) : NULL);
			free(kw);
			if (rc != Z_OK)
				goto out;
		}
	}
	rc = sp_end_clause(s);
out:
	zbuf_free(&word);
	zbuf_free(&val);
	return rc;
}

/* sconf_free - release everything */
void sconf_free(sconf *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nclauses; i++)
		sc_clause_free(cfg->clauses[i]);
	free(cfg->clauses);
	sc_clause_free(cfg->defaults);
	free(cfg->name);
	free(cfg->authfile);
	free(cfg->mailqsock);
	free(cfg->mailq_admins);
	free(cfg->notifysock);
	free(cfg);
}

/* sconf_parse - parse text into a configuration */
int sconf_parse(const char *name, const char *text, size_t len, sconf **out, zbuf *err)
{
	sp s;
	int rc;

	*out = NULL;
	memset(&s, 0, sizeof s);
	s.name = name != NULL ? name : "scheduler.conf";
	zcur_init(&s.c, text != NULL ? text : "", text != NULL ? len : 0);
	s.line = 1;
	s.err = err;
	if (s.c.n > SCONF_MAX_SIZE)
		return sp_error(&s, 0, Z_ETOOBIG, "file too large (max %u bytes)", SCONF_MAX_SIZE);
	if ((s.cfg = calloc(1, sizeof *s.cfg)) == NULL || (s.defaults = sc_new()) == NULL ||
	    (s.cfg->name = strdup(s.name)) == NULL) {
		rc = Z_ENOMEM;
		goto out;
	}
	s.cfg->global_report_interval = 300;
	s.cfg->delay_warning = 4 * 3600;
	s.cfg->max_ta_silence = 600;
	s.cfg->fork_rate = 30;
	s.cfg->expire_sweep = 900;
	s.cfg->mailq_timeout = 300;
	s.cfg->mailq_auth_timeout = 10;
	s.cfg->mailq_auth_failures = 3;
	s.cfg->retryat_max = 86400;
	if ((rc = sp_parse(&s)) != Z_OK)
		goto out;
	/* empty clauses at the end: defaults only */
	for (size_t i = 0; i < s.npending; i++)
		if ((rc = sp_fill_body(&s, s.pending[i], NULL)) != Z_OK)
			goto out;
	for (size_t i = 0; i < s.cfg->nclauses; i++)
		sc_finalize(s.cfg->clauses[i]);
	sc_finalize(s.defaults);
	s.cfg->defaults = s.defaults;
	s.defaults = NULL;
	*out = s.cfg;
	s.cfg = NULL;
out:
	if (rc == Z_ENOMEM)
		sp_error(&s, s.line, rc, "out of memory");
	sc_clause_free(s.own);
	sc_clause_free(s.defaults);
	free(s.pending);
	sconf_free(s.cfg);
	return rc;
}

/* sconf_load - read and parse a file */
int sconf_load(const char *path, sconf **out, zbuf *err)
{
	zbuf data = ZBUF_INIT(SCONF_MAX_SIZE + 1);
	zbuf rerr = ZBUF_INIT(512);
	int rc;

	*out = NULL;
	rc = zread_file(path, SCONF_MAX_SIZE, &data, &rerr);
	if (rc != Z_OK) {
		if (err != NULL)
			zbuf_printf(err, "%s: %s", path,
				    rerr.len ? zbuf_cstr(&rerr) : zerr_str(rc));
		goto out;
	}
	rc = sconf_parse(path, data.data, data.len, out, err);
out:
	zbuf_free(&data);
	zbuf_free(&rerr);
	return rc;
}

/* sconf_load_default - parse the builtin text */
int sconf_load_default(sconf **out, zbuf *err)
{
	return sconf_parse("builtin", sconf_default_text, strlen(sconf_default_text), out, err);
}

/* sc_lowdup - lower-cased copy into a zbuf-backed string */
static int sc_lowdup(zbuf *b, const char *s)
{
	zbuf_reset(b);
	if (s == NULL)
		s = "";
	for (; *s; s++)
		if (zbuf_putc(b, tolower((unsigned char)*s)) != Z_OK)
			return Z_ETOOBIG;
	return zbuf_putc(b, '\0') == Z_OK ? Z_OK : Z_ETOOBIG;
}

/* sconf_match - first matching clause */
const sconf_clause *sconf_match(const sconf *cfg, const char *channel, const char *host)
{
	zbuf ch = ZBUF_INIT(4096), ho = ZBUF_INIT(4096);
	const sconf_clause *found = NULL;

	if (cfg == NULL || channel == NULL)
		return NULL;
	if (sc_lowdup(&ch, channel) != Z_OK || sc_lowdup(&ho, host) != Z_OK)
		goto out;
	for (size_t i = 0; i < cfg->nclauses; i++) {
		const sconf_clause *c = cfg->clauses[i];
		if (zglob_match(c->changlob, ch.data, 0) && zglob_match(c->hostglob, ho.data, 0)) {
			found = c;
			break;
		}
	}
out:
	zbuf_free(&ch);
	zbuf_free(&ho);
	return found;
}

/* sc_expand_word - expand ${host}, ${channel}, ${NAME} inside w into out */
static int sc_expand_word(const char *w, const char *channel, const char *host, zbuf *out)
{
	zbuf tmp = ZBUF_INIT(SCONF_LINE_MAX * 2);
	zbuf var = ZBUF_INIT(256);
	int rc = Z_OK;

	zbuf_reset(out);
	while (*w) {
		const char *close;
		if (w[0] == '$' && w[1] == '{' && (close = strchr(w + 2, '}')) != NULL) {
			size_t nl = (size_t)(close - (w + 2));
			if (nl == 4 && strncmp(w + 2, "host", 4) == 0)
				rc = zbuf_puts(out, host);
			else if (nl == 7 && strncmp(w + 2, "channel", 7) == 0)
				rc = zbuf_puts(out, channel);
			else {
				zbuf_reset(&var);
				zbuf_reset(&tmp);
				if ((rc = zbuf_append(&var, w, nl + 3)) == Z_OK &&
				    (rc = zconf_expand(zbuf_cstr(&var), &tmp)) == Z_OK)
					rc = zbuf_append(out, tmp.data ? tmp.data : "", tmp.len);
			}
			w = close + 1;
		} else {
			rc = zbuf_putc(out, *w++);
		}
		if (rc != Z_OK)
			break;
	}
	zbuf_free(&tmp);
	zbuf_free(&var);
	return rc;
}

/* sconf_argv_free - free an expanded argv */
void sconf_argv_free(char **argv)
{
	sc_vec_free(argv);
}

/* sconf_expand_command - build a TA argv */
int sconf_expand_command(const sconf_clause *c, const char *channel, const char *host,
			 const char *mailbin, char ***argv_out, zbuf *err)
{
	zbuf w = ZBUF_INIT(SCONF_LINE_MAX * 2);
	char **v = NULL;
	int rc = Z_OK;

	*argv_out = NULL;
	if (channel == NULL)
		channel = "";
	if (host == NULL)
		host = "";
	if (c == NULL || c->argc == 0 || c->argv == NULL) {
		if (err != NULL)
			zbuf_printf(err, "no command defined for %s/%s", channel, host);
		return Z_ENOENT;
	}
	if ((v = calloc((size_t)c->argc + 2, sizeof *v)) == NULL)
		return Z_ENOMEM;
	/* "--" before a trailing $host: the host is an operand, never an
	 * option (the host grammar already excludes a leading '-') */
	int dashdash = c->argc >= 2 && strcmp(c->argv[c->argc - 1], "$host") == 0 &&
		strcmp(c->argv[c->argc - 2], "--") != 0;
	for (int i = 0, o = 0; i < c->argc; i++, o++) {
		const char *a = c->argv[i];
		zbuf_reset(&w);
		if (dashdash && i == c->argc - 1) {
			if ((v[o++] = strdup("--")) == NULL) {
				rc = Z_ENOMEM;
				goto out;
			}
		}
		if (strcmp(a, "$host") == 0)
			rc = zbuf_puts(&w, host);
		else if (strcmp(a, "$channel") == 0)
			rc = zbuf_puts(&w, channel);
		else
			rc = sc_expand_word(a, channel, host, &w);
		if (rc == Z_OK && i == 0 && strchr(zbuf_cstr(&w), '/') == NULL) {
			const char *mb = mailbin;
			char *prog = strdup(zbuf_cstr(&w));
			if (prog == NULL) {
				rc = Z_ENOMEM;
				goto out;
			}
			if (mb == NULL)
				mb = zconf_get("MAILBIN");
			if (mb == NULL || *mb == '\0')
				mb = ZMTA_LIBEXECDIR;
			zbuf_reset(&w);
			rc = zbuf_printf(&w, "%s/ta/%s", mb, prog);
			free(prog);
		}
		if (rc != Z_OK) {
			if (err != NULL)
				zbuf_printf(err, "command word %d too long for %s/%s", i, channel, host);
			goto out;
		}
		if ((v[o] = strdup(zbuf_cstr(&w))) == NULL) {
			rc = Z_ENOMEM;
			goto out;
		}
	}
	*argv_out = v;
	v = NULL;
out:
	sc_vec_free(v);
	zbuf_free(&w);
	return rc;
}

/* sc_dump_time - "3600 (1h)" */
static int sc_dump_time(zbuf *out, const char *kw, long secs)
{
	char b[64];

	if (zinterval_format(secs, b, sizeof b) != Z_OK)
		b[0] = '\0';
	return zbuf_printf(out, "\t%s=%s\n", kw, b);
}

/* sc_dump_clause - one clause's effective settings */
static int sc_dump_clause(zbuf *out, const char *sel, int line, const sconf_clause *c)
{
	int rc = Z_OK;

	if (line > 0)
		zbuf_printf(out, "%s\t# line %d\n", sel, line);
	else
		zbuf_printf(out, "%s\n", sel);
	sc_dump_time(out, "interval", c->interval);
	if (c->nretries > 0) {
		zbuf_puts(out, "\tretries=\"");
		for (int i = 0; i < c->nretries; i++)
			zbuf_printf(out, "%s%ld", i ? " " : "", c->retries[i]);
		zbuf_puts(out, "\"\n");
	} else {
		zbuf_puts(out, "\t# retries: none (one interval per retry)\n");
	}
	if (c->expiry > 0) {
		sc_dump_time(out, "expiry", c->expiry);
		sc_dump_time(out, "expiry2", c->expiry2);
	} else {
		zbuf_puts(out, "\t# expiry: off\n");
	}
	sc_dump_time(out, "idlemax", c->idlemax);
	zbuf_printf(out, "\tmaxta=%d maxchannel=%d maxring=%d maxthr=%d overfeed=%d skew=%d\n",
		    c->maxta, c->maxchannel, c->maxring, c->maxthr, c->overfeed, c->skew);
	if (c->command != NULL) {
		zbuf_puts(out, "\tcommand=\"");
		for (const char *p = c->command; *p; p++) {
			if (*p == '"' || *p == '\\')
				zbuf_putc(out, '\\');
			zbuf_putc(out, *p);
		}
		zbuf_printf(out, "\"%s\n", (c->flags & SCF_WITHHOST) ? "\t# with-host" : "");
	} else {
		zbuf_puts(out, "\t# command: none (threads cannot start)\n");
	}
	if (c->user != NULL)
		zbuf_printf(out, "\tuser=%s\n", c->user);
	if (c->group != NULL)
		zbuf_printf(out, "\tgroup=%s\n", c->group);
	if (c->has_priority)
		zbuf_printf(out, "\tpriority=%d\n", c->priority);
	if (c->nice != 0)
		zbuf_printf(out, "\tnice=%d\n", c->nice);
	if (c->flags & SCF_QUEUEONLY)
		zbuf_puts(out, "\tqueueonly\n");
	if (c->flags & SCF_WAKEUPRESTARTONLY)
		zbuf_puts(out, "\twakeuprestartonly\n");
	if (c->flags & SCF_AGEORDER)
		zbuf_puts(out, "\tageorder\n");
	if (c->flags & SCF_BYCHANNEL)
		zbuf_puts(out, "\tbychannel\n");
	if (c->nreporttimes > 0) {
		zbuf_puts(out, "\treporttimes=\"");
		for (int i = 0; i < c->nreporttimes; i++) {
			char b[64];
			if (zinterval_format(c->reporttimes[i], b, sizeof b) != Z_OK)
				b[0] = '\0';
			zbuf_printf(out, "%s%s", i ? " " : "", b);
		}
		zbuf_puts(out, "\"\n");
	}
	if (c->deliveryform != NULL)
		zbuf_printf(out, "\tdeliveryform=\"%s\"\n", c->deliveryform);
	if (c->expiryform != NULL)
		rc = zbuf_printf(out, "\texpiryform=\"%s\"\n", c->expiryform);
	return rc;
}

/* sc_dump_opt - "PARAMname = value" or a comment when unset */
static void sc_dump_opt(zbuf *out, const char *name, const char *v)
{
	if (v != NULL)
		zbuf_printf(out, "PARAM%s = \"%s\"\n", name, v);
	else
		zbuf_printf(out, "# PARAM%s unset\n", name);
}

/* sconf_dump - print the effective configuration */
int sconf_dump(const sconf *cfg, zbuf *out)
{
	if (cfg == NULL)
		return Z_ERR;
	zbuf_printf(out, "# effective scheduler configuration from %s\n", cfg->name);
	sc_dump_opt(out, "authfile", cfg->authfile);
	sc_dump_opt(out, "mailqsock", cfg->mailqsock);
	sc_dump_opt(out, "notifysock", cfg->notifysock);
	zbuf_printf(out, "PARAMglobal-report-interval = %ld\n", cfg->global_report_interval);
	zbuf_printf(out, "PARAMmsgwriteasync = %d\n", cfg->msgwriteasync);
	zbuf_printf(out, "PARAMstore-error-on-error = %d\n", cfg->store_error_on_error);
	zbuf_printf(out, "PARAMdelay-warning = %ld\n", cfg->delay_warning);
	zbuf_printf(out, "PARAMmax-ta-silence = %ld\n", cfg->max_ta_silence);
	zbuf_printf(out, "PARAMfork-rate = %d\n", cfg->fork_rate);
	zbuf_printf(out, "PARAMexpire-sweep = %ld\n", cfg->expire_sweep);
	zbuf_printf(out, "PARAMmailq-timeout = %ld\n", cfg->mailq_timeout);
	sc_dump_opt(out, "mailq-admins", cfg->mailq_admins);
	zbuf_printf(out, "PARAMmailq-auth-timeout = %ld\n", cfg->mailq_auth_timeout);
	zbuf_printf(out, "PARAMmailq-auth-failures = %ld\n", cfg->mailq_auth_failures);
	zbuf_printf(out, "PARAMretryat-max = %ld\n", cfg->retryat_max);
	if (cfg->has_syspriority)
		zbuf_printf(out, "# syspriority=%d\n", cfg->syspriority);
	if (cfg->has_sysnice)
		zbuf_printf(out, "# sysnice=%d\n", cfg->sysnice);
	zbuf_puts(out, "# defaults (never matched)\n");
	sc_dump_clause(out, "*/*", 0, cfg->defaults);
	zbuf_printf(out, "# %zu clauses, first match wins\n", cfg->nclauses);
	int rc = Z_OK;
	for (size_t i = 0; i < cfg->nclauses; i++)
		rc = sc_dump_clause(out, cfg->clauses[i]->selector, cfg->clauses[i]->line,
				    cfg->clauses[i]);
	return rc;
}
