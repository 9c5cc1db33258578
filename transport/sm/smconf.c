/*
 * NAME
 *	smconf - parse sm.conf and expand the argv macros of the sm agent
 *
 * SUMMARY
 *	sm.conf maps a mailer name to flags, a program and its argv.  This
 *	module turns the file's bytes into a table and expands $u $h $g $f
 *	$$ and ${NAME} in one argv word.
 *
 * SYNOPSIS
 *	#include "smconf.h"
 *
 *	int smconf_parse(const char *name, const char *data, size_t len,
 *		sm_conf *out, zbuf *err);
 *	const sm_mailer *smconf_find(const sm_conf *c, const char *name);
 *	void smconf_free(sm_conf *c);
 *	long smconf_flag_bit(int c);
 *	int smconf_flags_format(unsigned flags, char *buf, size_t bufsz);
 *	int smconf_expand(const char *word, const sm_vars *v, zbuf *out);
 *
 * DESCRIPTION
 *	One mailer per line: "name flags program argv0 argv1 ...", words
 *	separated by blanks (no quoting).  flags is "-" or letters from
 *	7 8 E e f m n O P R X.  Lines that are empty, start with '#' or
 *	start with a blank are ignored (ZMailer's rule).  The program is kept
 *	as written; the agent resolves it against MAILBIN.  Every '$' in the
 *	program or argv must start a known macro, so a typo is found when the
 *	file is read, not when mail arrives.  A mailer name appears once.
 *
 * DIAGNOSTICS
 *	Z_EPARSE with "file:line: reason"; Z_ETOOBIG for an over-long file,
 *	line or argv; Z_ENOMEM.
 *
 * SECURITY
 *	The file is the administrator's, but it is parsed as untrusted bytes:
 *	bounded lines, words and counts; NUL and control bytes refused.
 *	Expansion never splits a word, so a substituted value is always
 *	exactly one argv element (the agent checks values for a leading '-').
 *
 * BUGS
 *	ZMailer's BSMTP flags (b B H), U, S and 9 are refused, not emulated.
 *
 * SEE ALSO
 *	sm.conf(5), sm(8), transport/sm/sm.c
 */
#include <stdlib.h>
#include <string.h>
#include "smconf.h"

/* flag letters in bit order */
static const char flag_letters[] = "78EefrmnOPRX";

/* seterr - "name:line: reason" into err */
static void seterr(zbuf *err, const char *name, int line, const char *why, const char *detail)
{
	if (err == NULL)
		return;
	zbuf_reset(err);
	zbuf_printf(err, "%s:%d: %s%s%s", name, line, why, detail ? " " : "", detail ? detail : "");
}

/* smconf_flag_bit - see smconf.h */
long smconf_flag_bit(int c)
{
	const char *p;

	if (c == '\0')
		return 0;
	p = strchr(flag_letters, c);
	if (p != NULL)
		return 1L << (p - flag_letters);
	if (c == '9' || c == 'b' || c == 'B' || c == 'H' || c == 'S' || c == 'U')
		return -1;
	return 0;
}

/* smconf_flags_format - see smconf.h */
int smconf_flags_format(unsigned flags, char *buf, size_t bufsz)
{
	size_t k = 0;

	if (bufsz < sizeof(flag_letters) + 1)
		return Z_ETOOBIG;
	for (size_t i = 0; flag_letters[i]; i++)
		if (flags & (1u << i))
			buf[k++] = flag_letters[i];
	if (k == 0)
		buf[k++] = '-';
	buf[k] = '\0';
	return Z_OK;
}

/* check_macros - every '$' starts a known macro; sets *has_u for $u */
static int check_macros(const char *w, int *has_u, const char **bad)
{
	for (const char *p = w; *p; p++) {
		if (*p != '$')
			continue;
		p++;
		switch (*p) {
		case 'u': *has_u = 1; break;
		case 'h': case 'g': case 'f': case '$': break;
		case '{': {
			const char *e = strchr(p, '}');
			if (e == NULL || e == p + 1 || e - p > 65) {
				*bad = "bad ${NAME}";
				return Z_EPARSE;
			}
			for (const char *q = p + 1; q < e; q++)
				if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
				      (*q >= '0' && *q <= '9') || *q == '_')) {
					*bad = "bad ${NAME}";
					return Z_EPARSE;
				}
			p = e;
			break;
		}
		default:
			*bad = "unknown macro (known: $u $h $g $f $$ ${NAME})";
			return Z_EPARSE;
		}
	}
	return Z_OK;
}

/* name_ok - mailer names: [A-Za-z0-9._-]+ */
static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > SMCONF_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* parse_line - one non-comment line into m (words are malloc'd) */
static int parse_line(const char *name, int lineno, const char *p, size_t n, sm_mailer *m, zbuf *err)
{
	zspan w[SMCONF_ARGV_MAX + 3];
	size_t nw = 0, i = 0;
	const char *bad = NULL;

	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i >= n)
			break;
		if (nw >= sizeof(w) / sizeof(w[0])) {
			seterr(err, name, lineno, "too many words (argv is limited to", "64)");
			return Z_ETOOBIG;
		}
		w[nw].p = p + i;
		while (i < n && p[i] != ' ' && p[i] != '\t')
			i++;
		w[nw].n = (size_t)(p + i - w[nw].p);
		nw++;
	}
	if (nw < 4) {
		seterr(err, name, lineno, "want: mailer flags program argv0 [args...]", NULL);
		return Z_EPARSE;
	}
	if (!name_ok(w[0].p, w[0].n)) {
		seterr(err, name, lineno, "bad mailer name (letters, digits, . _ -, at most 63)", NULL);
		return Z_EPARSE;
	}
	memcpy(m->name, w[0].p, w[0].n);
	m->name[w[0].n] = '\0';
	m->lineno = lineno;
	if (!(w[1].n == 1 && w[1].p[0] == '-')) {
		for (size_t k = 0; k < w[1].n; k++) {
			long b = smconf_flag_bit((unsigned char)w[1].p[k]);
			char f[2] = { w[1].p[k], '\0' };
			if (b < 0) {
				seterr(err, name, lineno, "flag not supported by this sm:", f);
				return Z_EPARSE;
			}
			if (b == 0) {
				seterr(err, name, lineno, "unknown flag:", f);
				return Z_EPARSE;
			}
			m->flags |= (unsigned)b;
		}
	}
	if ((m->flags & SMF_f) && (m->flags & SMF_r)) {
		seterr(err, name, lineno, "flags f and r exclude each other", NULL);
		return Z_EPARSE;
	}
	if ((m->flags & SMF_7) && (m->flags & SMF_8)) {
		seterr(err, name, lineno, "flags 7 and 8 exclude each other", NULL);
		return Z_EPARSE;
	}
	m->program = zspan_dup(w[2]);
	if (m->program == NULL)
		return Z_ENOMEM;
	if (check_macros(m->program, &(int){ 0 }, &bad) != Z_OK) {
		seterr(err, name, lineno, "program:", bad);
		return Z_EPARSE;
	}
	if (strstr(m->program, "$u") || strstr(m->program, "$h") || strstr(m->program, "$g") ||
	    strstr(m->program, "$f")) {
		seterr(err, name, lineno, "the program path may hold ${NAME} only", NULL);
		return Z_EPARSE;
	}
	for (size_t k = 3; k < nw; k++) {
		m->argv[m->argc] = zspan_dup(w[k]);
		if (m->argv[m->argc] == NULL)
			return Z_ENOMEM;
		m->argc++;
		if (check_macros(m->argv[m->argc - 1], &m->has_u, &bad) != Z_OK) {
			seterr(err, name, lineno, bad, NULL);
			return Z_EPARSE;
		}
	}
	m->argv[m->argc] = NULL;
	return Z_OK;
}

/* free_mailer - release one entry's strings */
static void free_mailer(sm_mailer *m)
{
	free(m->program);
	m->program = NULL;
	for (size_t k = 0; k < m->argc; k++)
		free(m->argv[k]);
	m->argc = 0;
}

/* smconf_parse - see smconf.h */
int smconf_parse(const char *name, const char *data, size_t len, sm_conf *out, zbuf *err)
{
	size_t pos = 0;
	int lineno = 0, rc = Z_OK;

	memset(out, 0, sizeof(*out));
	if (name == NULL)
		name = "sm.conf";
	if (len > SMCONF_MAX_SIZE) {
		seterr(err, name, 0, "file too big", NULL);
		return Z_ETOOBIG;
	}
	while (pos < len) {
		const char *p = data + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		sm_mailer m;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > SMCONF_LINE_MAX) {
			seterr(err, name, lineno, "line too long", NULL);
			rc = Z_ETOOBIG;
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if ((c < ' ' && c != '\t') || c == 0x7f) {
				seterr(err, name, lineno, "control byte in line", NULL);
				rc = Z_EPARSE;
				goto done;
			}
		}
		if (n == 0 || p[0] == '#' || p[0] == ' ' || p[0] == '\t')
			continue;
		memset(&m, 0, sizeof(m));
		rc = parse_line(name, lineno, p, n, &m, err);
		if (rc == Z_OK && smconf_find(out, m.name) != NULL) {
			seterr(err, name, lineno, "mailer defined twice:", m.name);
			rc = Z_EPARSE;
		}
		if (rc == Z_OK && out->n >= SMCONF_MAILERS_MAX) {
			seterr(err, name, lineno, "too many mailers", NULL);
			rc = Z_ETOOBIG;
		}
		if (rc != Z_OK) {
			free_mailer(&m);
			goto done;
		}
		{
			sm_mailer *nm = realloc(out->m, (out->n + 1) * sizeof(*nm));
			if (nm == NULL) {
				free_mailer(&m);
				rc = Z_ENOMEM;
				goto done;
			}
			out->m = nm;
			out->m[out->n++] = m;
		}
	}
done:
	return rc;
}

/* smconf_find - see smconf.h */
const sm_mailer *smconf_find(const sm_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->m[i].name, name) == 0)
			return &c->m[i];
	return NULL;
}

/* smconf_free - see smconf.h */
void smconf_free(sm_conf *c)
{
	for (size_t i = 0; i < c->n; i++)
		free_mailer(&c->m[i]);
	free(c->m);
	c->m = NULL;
	c->n = 0;
}

/* smconf_expand - see smconf.h */
int smconf_expand(const char *word, const sm_vars *v, zbuf *out)
{
	int rc = Z_OK;

	for (const char *p = word; *p && rc == Z_OK; p++) {
		const char *val;
		if (*p != '$') {
			rc = zbuf_putc(out, *p);
			continue;
		}
		p++;
		switch (*p) {
		case 'u': val = v->u; break;
		case 'h': val = v->h; break;
		case 'g': case 'f': val = v->g; break;
		case '$': val = "$"; break;
		case '{': {
			const char *e = strchr(p, '}');
			char nm[65];
			if (e == NULL || e == p + 1 || (size_t)(e - p - 1) >= sizeof(nm))
				return Z_EPARSE;
			memcpy(nm, p + 1, (size_t)(e - p - 1));
			nm[e - p - 1] = '\0';
			val = v->zenv ? v->zenv(nm) : NULL;
			p = e;
			break;
		}
		default:
			return Z_EPARSE;
		}
		rc = zbuf_puts(out, val ? val : "");
	}
	return rc;
}
