/*
 * NAME
 *	state - the zmta supervisor's status file
 * SUMMARY
 *	Format and parse $POSTOFFICE/.zmta.status: which daemon runs with
 *	which pid since when, how often it was restarted, how it last died.
 * SYNOPSIS
 *	const char *sv_state_name(int state);
 *	int sv_state_format(const sv_state *st, zbuf *out);
 *	int sv_state_parse(const char *text, size_t len, sv_state *st,
 *			   zbuf *err);
 * DESCRIPTION
 *	See state.h for the line format.  Parsing is strict: every field is
 *	checked; unknown line kinds, too many daemons or over-long names
 *	are errors.
 * DIAGNOSTICS
 *	Z_OK; Z_EPARSE ("line N: reason"); Z_ETOOBIG from zbuf.
 * SECURITY
 *	The file lives in a directory the mail system's user can write, so
 *	"zmta status" (maybe root) treats it as untrusted: bounded, strictly
 *	parsed, names limited to [a-z0-9_-].  Nobody acts on its pids except
 *	for printing them.
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmta(8), zmtactl/supervise.c
 */
#include <string.h>

#include "zerr.h"
#include "state.h"

static const char *const sv_names[] = { "absent", "running", "waiting", "stopped" };

/* sv_state_name - the word for a daemon state */
const char *sv_state_name(int state)
{
	if (state < 0 || state > SV_STOPPED)
		return "?";
	return sv_names[state];
}

/* sv_state_format - render st */
int sv_state_format(const sv_state *st, zbuf *out)
{
	int rc = zbuf_printf(out, "supervisor %ld %lld\n", st->pid, st->started);

	for (size_t i = 0; rc == Z_OK && i < st->n && i < SV_MAXD; i++) {
		const sv_daemon *d = &st->d[i];
		rc = zbuf_printf(out, "daemon %s %s %ld %lld %lu ", d->name, sv_state_name(d->state),
				 d->pid, d->since, d->restarts);
		if (rc == Z_OK) {
			if (d->last_kind == 1)
				rc = zbuf_printf(out, "exit:%d\n", d->last_code);
			else if (d->last_kind == 2)
				rc = zbuf_printf(out, "signal:%d\n", d->last_code);
			else
				rc = zbuf_puts(out, "-\n");
		}
	}
	return rc;
}

/* field - next space-separated word of [*p, end) into buf */
static int field(const char **p, const char *end, char *buf, size_t bufsz)
{
	const char *s = *p;
	size_t n = 0;

	while (s < end && *s != ' ') {
		if (n + 1 >= bufsz || (unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return Z_EPARSE;
		buf[n++] = *s++;
	}
	buf[n] = '\0';
	if (n == 0)
		return Z_EPARSE;
	if (s < end)
		s++;	/* the single space */
	*p = s;
	return Z_OK;
}

/* num - decimal field within [0, max] */
static int num(const char **p, const char *end, long long max, long long *v)
{
	char buf[24];
	unsigned long u;

	if (field(p, end, buf, sizeof buf) != Z_OK || zparse_ulong(buf, (unsigned long)max, &u) != Z_OK)
		return Z_EPARSE;
	*v = (long long)u;
	return Z_OK;
}

/* name_ok - [a-z0-9_-]+ */
static int name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* parse_line - one line [p, end) into st */
static int parse_line(const char *p, const char *end, sv_state *st, int *have_sup)
{
	char kind[16], word[SV_NAME_MAX];
	long long v;

	if (field(&p, end, kind, sizeof kind) != Z_OK)
		return Z_EPARSE;
	if (strcmp(kind, "supervisor") == 0) {
		if (*have_sup || num(&p, end, 0x7fffffff, &v) != Z_OK)
			return Z_EPARSE;
		st->pid = (long)v;
		if (num(&p, end, 0x7fffffffffffLL, &st->started) != Z_OK)
			return Z_EPARSE;
		*have_sup = 1;
	} else if (strcmp(kind, "daemon") == 0) {
		sv_daemon *d;
		if (st->n >= SV_MAXD)
			return Z_EPARSE;
		d = &st->d[st->n];
		memset(d, 0, sizeof *d);
		if (field(&p, end, d->name, sizeof d->name) != Z_OK || !name_ok(d->name) ||
		    field(&p, end, word, sizeof word) != Z_OK)
			return Z_EPARSE;
		d->state = -1;
		for (int i = 0; i <= SV_STOPPED; i++)
			if (strcmp(word, sv_names[i]) == 0)
				d->state = i;
		if (d->state < 0 || num(&p, end, 0x7fffffff, &v) != Z_OK)
			return Z_EPARSE;
		d->pid = (long)v;
		if (num(&p, end, 0x7fffffffffffLL, &d->since) != Z_OK ||
		    num(&p, end, 0x7fffffff, &v) != Z_OK)
			return Z_EPARSE;
		d->restarts = (unsigned long)v;
		if (field(&p, end, word, sizeof word) != Z_OK)
			return Z_EPARSE;
		if (strcmp(word, "-") == 0) {
			d->last_kind = 0;
		} else {
			const char *colon = strchr(word, ':');
			unsigned long code;
			if (colon == NULL || zparse_ulong(colon + 1, 255, &code) != Z_OK)
				return Z_EPARSE;
			if ((size_t)(colon - word) == 4 && strncmp(word, "exit", 4) == 0)
				d->last_kind = 1;
			else if ((size_t)(colon - word) == 6 && strncmp(word, "signal", 6) == 0)
				d->last_kind = 2;
			else
				return Z_EPARSE;
			d->last_code = (int)code;
		}
		st->n++;
	} else {
		return Z_EPARSE;
	}
	return p == end ? Z_OK : Z_EPARSE;
}

/* sv_state_parse - the whole file */
int sv_state_parse(const char *text, size_t len, sv_state *st, zbuf *err)
{
	const char *p = text, *end = text + len;
	int have_sup = 0;
	unsigned line = 0;

	memset(st, 0, sizeof *st);
	if (len > SV_FILE_MAX) {
		zbuf_printf(err, "status file longer than %d bytes", SV_FILE_MAX);
		return Z_EPARSE;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		line++;
		if (nl == NULL) {
			zbuf_printf(err, "line %u: no newline at the end", line);
			return Z_EPARSE;
		}
		if (parse_line(p, nl, st, &have_sup) != Z_OK) {
			zbuf_printf(err, "line %u: malformed", line);
			return Z_EPARSE;
		}
		p = nl + 1;
	}
	if (!have_sup) {
		zbuf_printf(err, "no supervisor line");
		return Z_EPARSE;
	}
	return Z_OK;
}
