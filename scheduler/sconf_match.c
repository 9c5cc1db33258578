/*
 * NAME
 *	sconf_match - the clause for a (channel, host) and its agent argv
 * SUMMARY
 *	Finds the first scheduler.conf clause whose selector globs match a
 *	channel and host, and expands that clause's command into the argv
 *	of a transport agent.
 * SYNOPSIS
 *	#include "sconf.h"
 *	const sconf_clause *sconf_match(const sconf *cfg, const char *channel,
 *			const char *host);
 *	int sconf_expand_command(const sconf_clause *c, const char *channel,
 *			const char *host, const char *mailbin, char ***argv_out,
 *			zbuf *err);
 *	void sconf_argv_free(char **argv);
 * DESCRIPTION
 *	Channel and host are lower-cased and matched with zglob_match
 *	against each clause's channel and host globs in file order; the
 *	first match wins.  In a command, words exactly "$host" and
 *	"$channel" become the values; inside other words "${host}",
 *	"${channel}" and "${NAME}" (zconf_expand) are expanded; a program
 *	without '/' becomes "<mailbin>/ta/<prog>" (mailbin NULL: zconf
 *	MAILBIN, else the built-in libexec directory).  A trailing "$host"
 *	word gets a "--" word before it unless there is one.
 * DIAGNOSTICS
 *	sconf_match returns NULL when nothing matches (also for a name of
 *	4096 bytes or more).  sconf_expand_command: Z_ENOENT (no command),
 *	Z_ETOOBIG (a word too long), Z_ENOMEM; a reason in err.
 * SECURITY
 *	Host names come from the spool: they are only copied into argv
 *	words, never interpreted by a shell (no shell is used), and the
 *	"--" keeps a host an operand, never an option (the scheduler also
 *	checks the host grammar first).  Expanded words are bounded by
 *	2 * SCONF_LINE_MAX.
 * BUGS
 *	An unknown ${NAME} silently expands to the empty string.
 * SEE ALSO
 *	sconf.c, sconf.h, zglob_match and zconf_expand (lib/)
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "sconf_int.h"
#include "zconf.h"
#include "zutil.h"

#ifndef ZMTA_LIBEXECDIR
#define ZMTA_LIBEXECDIR "/usr/local/libexec/zmta"
#endif

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
	sconf_vec_free(argv);
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
	sconf_vec_free(v);
	zbuf_free(&w);
	return rc;
}

