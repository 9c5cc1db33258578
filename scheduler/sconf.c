/*
 * NAME
 *	sconf - scheduler.conf parser: tokens and clause structure
 * SUMMARY
 *	Turns scheduler.conf text into an ordered list of clauses with
 *	effective settings.  Selector matching and command expansion are in
 *	sconf_match.c, keyword values in sconf_kw.c, clause bodies and
 *	defaults in sconf_clause.c, the -C dump in sconf_dump.c
 *	(sconf_int.h holds what they share).
 * SYNOPSIS
 *	#include "sconf_int.h"
 *	int sconf_parse(const char *name, const char *text, size_t len,
 *			sconf **out, zbuf *err);
 *	int sconf_load(const char *path, sconf **out, zbuf *err);
 *	int sconf_load_default(sconf **out, zbuf *err);
 *	extern const char sconf_default_text[];
 *	#include "sconf_int.h"
 *	int sconf_err(sp *s, int line, int code, const char *fmt, ...);
 * DESCRIPTION
 *	The syntax is ZMailer's (see sconf.h and scheduler.conf(5)).  The
 *	parser is a single pass over the bytes with the cursor of lib/ (zcur
 *	in zbuf.h; values are split into words with one too).  Each clause
 *	first collects its own settings (sconf_keyword, with a bit per
 *	keyword in setmask); when the clause ends, its effective settings
 *	are the current defaults overlaid with its own (sconf_overlay), and
 *	any empty clauses waiting before it receive a copy of the same
 *	body.  A defaults clause ("*" + "/" + "*", or "*") updates the
 *	defaults for the clauses after it.  Built-in defaults
 *	(sconf_finalize) are applied last, per clause.  PARAM lines go to
 *	sconf_param.  sconf_load_default parses sconf_default_text, the
 *	configuration used when scheduler.conf is missing.
 * DIAGNOSTICS
 *	Every refusal is one line "name:LINE: reason" in err and a negative
 *	Z_* code; the scheduler must not start with a refused file.
 * SECURITY
 *	The file is trusted configuration but is still parsed with bounds:
 *	at most SCONF_MAX_SIZE bytes, SCONF_LINE_MAX per token/value,
 *	SCONF_MAX_CLAUSES clauses; NUL bytes are refused.  (Value limits:
 *	sconf_kw.c; host names from the spool: sconf_match.c.)
 * BUGS
 *	See sconf_kw.c (syspriority, sysnice).
 * SEE ALSO
 *	sconf_kw.c, sconf_clause.c, sconf_match.c, sconf_dump.c,
 *	sconf_int.h, scheduler.conf(5)
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "sconf_int.h"
#include "zconf.h"
#include "zutil.h"

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

/* sconf_err - record "name:line: reason" once */
int sconf_err(sp *s, int line, int code, const char *fmt, ...)
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

/* sp_push - append a clause slot to cfg->clauses */
static int sp_push(sp *s, sconf_clause *c)
{
	sconf *cfg = s->cfg;

	if (cfg->nclauses >= SCONF_MAX_CLAUSES)
		return sconf_err(s, s->line, Z_ETOOBIG, "too many clauses (max %d)", SCONF_MAX_CLAUSES);
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

	if ((rc = sconf_overlay(c, s->defaults)) != Z_OK)
		return rc;
	if (own != NULL && (rc = sconf_overlay(c, own)) != Z_OK)
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
		rc = sconf_overlay(s->defaults, s->own);
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
	sconf_clause_free(s->own);
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
	if ((s->own = sconf_clause_new()) == NULL)
		return Z_ENOMEM;
	s->in_clause = 1;
	if (strcmp(tok, "*") == 0 || strcmp(tok, "*/*") == 0) {
		s->cur_is_defaults = 1;
		return Z_OK;
	}
	s->cur_is_defaults = 0;
	if (slash == tok)
		return sconf_err(s, s->line, Z_EPARSE, "selector '%s' has no channel", tok);
	if ((c = sconf_clause_new()) == NULL)
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
		sconf_clause_free(c);
		return Z_ENOMEM;
	}
	sp_lower(c->changlob);
	sp_lower(c->hostglob);
	if ((rc = sp_push(s, c)) != Z_OK) {
		sconf_clause_free(c);
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
				return sconf_err(s, startline, Z_EPARSE, "unterminated quoted value");
			if (c == '"')
				break;
			if (c == '\n') {
				return sconf_err(s, startline, Z_EPARSE,
						"newline in quoted value (use backslash-newline)");
			}
			if (c == '\\') {
				int d = sp_next(s);
				if (d == -1)
					return sconf_err(s, startline, Z_EPARSE, "unterminated quoted value");
				if (d == '\n' || (d == '\r' && zcur_skip_char(&s->c, '\n'))) {
					s->line++;
					sp_skip_hws(s);
					continue;
				}
				c = d;
			}
			if (zbuf_putc(out, c) != Z_OK)
				return sconf_err(s, startline, Z_ETOOBIG, "value too long (max %d bytes)",
						SCONF_LINE_MAX);
		}
		/* a closing quote must end the word */
		if (!sp_is_wordend(sp_peek(s)))
			return sconf_err(s, s->line, Z_EPARSE, "garbage after closing quote");
		return Z_OK;
	}
	while (!sp_is_wordend(sp_peek(s))) {
		if (zbuf_putc(out, (char)sp_peek(s)) != Z_OK)
			return sconf_err(s, startline, Z_ETOOBIG, "value too long (max %d bytes)",
					SCONF_LINE_MAX);
		(void)sp_next(s);
	}
	return Z_OK;
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
		rc = sconf_err(s, line, Z_EPARSE, "NUL byte in file");
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
					rc = sconf_err(s, line, Z_EPARSE, "bad PARAM line");
					goto out;
				}
				char *name = strdup(zbuf_cstr(&word));
				if (name == NULL) {
					rc = Z_ENOMEM;
					goto out;
				}
				rc = sconf_param(s, line, name, hv ? zbuf_cstr(&val) : NULL);
				free(name);
				if (rc != Z_OK)
					goto out;
				/* only a comment may follow on the line */
				sp_skip_hws(s);
				if (sp_peek(s) == '#')
					sp_skip_comment(s);
				if (sp_peek(s) != -1 && sp_peek(s) != '\n') {
					rc = sconf_err(s, line, Z_EPARSE, "junk after PARAM%s value",
						      zbuf_cstr(&word));
					goto out;
				}
				continue;
			}
			zbuf_reset(&word);
			while (!sp_is_wordend(sp_peek(s))) {
				if (zbuf_putc(&word, (char)sp_peek(s)) != Z_OK) {
					rc = sconf_err(s, line, Z_ETOOBIG, "selector too long");
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
					rc = sconf_err(s, line, Z_EPARSE, "bad token '%s'", zbuf_cstr(&word));
					goto out;
				}
				s->c = save;
			}
			if (!s->in_clause) {
				rc = sconf_err(s, line, Z_EPARSE, "keyword '%s' before any clause selector",
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
			rc = sconf_keyword(s, line, kw, hv ? zbuf_cstr(&val) : NULL);
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
		return sconf_err(&s, 0, Z_ETOOBIG, "file too large (max %u bytes)", SCONF_MAX_SIZE);
	if ((s.cfg = calloc(1, sizeof *s.cfg)) == NULL || (s.defaults = sconf_clause_new()) == NULL ||
	    (s.cfg->name = strdup(s.name)) == NULL) {
		rc = Z_ENOMEM;
		goto out;
	}
	s.cfg->global_report_interval = 300;
	s.cfg->delay_warning = 4 * 3600;
	s.cfg->max_ta_silence = 600;
	s.cfg->max_ta_comments = 2000;
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
		sconf_finalize(s.cfg->clauses[i]);
	sconf_finalize(s.defaults);
	s.cfg->defaults = s.defaults;
	s.defaults = NULL;
	*out = s.cfg;
	s.cfg = NULL;
out:
	if (rc == Z_ENOMEM)
		sconf_err(&s, s.line, rc, "out of memory");
	sconf_clause_free(s.own);
	sconf_clause_free(s.defaults);
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

